"""Designer: from target (N, Na, G, S) and a base width and depth, the closest integer MoE shape.

With ``d`` the width, ``L`` layers, ``h`` the expert width, ``E`` routed and ``s`` shared experts
(``count_params``): ``Na = L (4 d^2 + 2d + E d + 2 d h (G + s)) + d`` and
``N = Na + L 2 d h (E - G)``. S fixes ``s = round(S G / (1 - S))``; then ``h`` and ``E`` are solved
for and rounded, and the search around them keeps the shape with the smallest relative error in
(N, Na). The achieved values are reported beside the targets. Expert widths are multiples of 4 (aligned rows
for grouped_mm).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import MoEConfig, count_params

__all__ = ["Design", "design", "vary"]


@dataclass(frozen=True)
class Design:
    config: MoEConfig
    target: Mapping[str, float]
    achieved: Mapping[str, float]

    @property
    def error(self) -> float:
        """Largest relative error of N and Na."""
        return max(abs(self.achieved[k] / self.target[k] - 1) for k in ("N", "Na"))


def design(N: float, Na: float, G: int, S: float, *, d_model: int = 128, n_layers: int = 2, n_heads: int = 4,
           max_experts: int = 256, **config) -> Design:
    """The integer shape closest to the targets."""
    if not 0 <= S < 1 or G < 1 or Na > N:
        raise ValueError(f"need 0 <= S < 1, G >= 1 and Na <= N (got S={S}, G={G}, Na={Na:g}, N={N:g})")
    s = round(S * G / (1 - S))
    d, L = d_model, n_layers
    base = L * (4 * d * d + 2 * d) + d
    best = None
    for E in range(max(G, 1), max_experts + 1):
        per = (Na - base) / L - E * d  # FFN parameters per layer left for (G + s) experts
        if per <= 0:
            continue
        h0 = per / (2 * d * (G + s))
        # expert widths in multiples of 4 keep rows 16-byte aligned for grouped_mm
        for h in {max(4, 4 * math.floor(h0 / 4)), max(4, 4 * math.ceil(h0 / 4))}:
            cfg = MoEConfig(d_model=d, n_layers=L, n_heads=n_heads, n_experts=E, top_k=G, d_expert=h, n_shared=s,
                            **config)
            c = count_params(cfg)
            err = max(abs(c["N"] / N - 1), abs(c["Na"] / Na - 1))
            if best is None or err < best[0]:
                best = (err, cfg, c)
    if best is None:
        raise ValueError(f"Na = {Na:g} is below the attention parameters of this width and depth ({base:g}): "
                         "use a smaller d_model or n_layers")
    _, cfg, c = best
    return Design(cfg, {"N": N, "Na": Na, "G": G, "S": S},
                  {"N": c["N"], "Na": c["Na"], "G": cfg.top_k, "S": cfg.shared_ratio, "E": cfg.n_experts})


def vary(base: Mapping[str, float], factor: str, values: Iterable[float]) -> list[dict[str, float]]:
    """Targets that vary one factor (N, ratio = Na/N, G, S or D) while the others stay fixed."""
    if factor not in base and factor != "ratio":
        raise ValueError(f"unknown factor '{factor}': choose one of {', '.join(base)} or ratio")
    out = []
    for v in values:
        t = dict(base)
        if factor == "ratio":
            t["Na"] = t["N"] * v
        elif factor == "N":
            t["Na"] = t["Na"] / t["N"] * v  # keep the activation ratio
            t["N"] = v
        else:
            t[factor] = v
        out.append(t)
    return out
