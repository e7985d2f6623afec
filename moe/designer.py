"""Designer: from target (N, Na, G, S) and a base width and depth, the closest integer MoE shape.

With ``d`` the width, ``L`` layers, ``h`` the routed experts' width, ``E`` routed experts and ``d_s``
the shared FFN's width (``count_params``): ``Na = L (4 d^2 + 2d + E d + 2 d (G h + d_s)) + d`` and
``N = Na + L 2 d h (E - G)``, with ``S = d_s / (d_s + G h)``. The shared FFN has a width of its own, so
any S in [0, 1) is realised at any G (G = 1 included). For each E the activated FFN budget is split
as S asks, ``h`` is rounded to a multiple of ``align`` (16-byte rows for grouped_mm: 4 in fp32, 8 in
bf16) and ``d_s`` to the integers nearest to the exact S and to the exact Na; the shape with the
smallest largest relative error in N, Na and S is kept. The achieved values are reported
beside the targets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import MoEConfig, count_params

__all__ = ["Design", "design", "vary"]


@dataclass(frozen=True)
class Design:
    """A designed shape: its config, the targets and the achieved N, Na, G, S and E."""

    config: MoEConfig
    target: Mapping[str, float]
    achieved: Mapping[str, float]

    @property
    def error(self) -> float:
        """Largest relative error of N and Na."""
        return max(abs(self.achieved[k] / self.target[k] - 1) for k in ("N", "Na"))


def _near(x: float, step: int = 1, low: int = 0) -> set[int]:
    """The multiples of ``step`` either side of ``x``, at least ``low``."""
    return {max(low, step * math.floor(x / step)), max(low, step * math.ceil(x / step))}


def design(N: float, Na: float, G: int, S: float, *, d_model: int = 128, n_layers: int = 2, n_heads: int = 4,
           max_experts: int = 256, align: int = 4, **config) -> Design:
    """The integer shape closest to the targets.

    Parameters
    ----------
    N, Na:
        Total and activated non-embedding parameters.
    G:
        Activated routed experts per token (top-k).
    S:
        Shared share of the activated FFN parameters, in [0, 1).
    d_model, n_layers, n_heads:
        The fixed width and depth.
    max_experts:
        The largest E searched.
    align:
        Routed expert widths are multiples of it (4: 16-byte rows in fp32; 8 for bf16 on CUDA).
    **config:
        Other ``MoEConfig`` fields (seq_len, noisy_gating, ...).
    """
    if not (math.isfinite(N) and math.isfinite(Na) and N > 0 and Na > 0):
        raise ValueError(f"N and Na must be finite numbers > 0 (got N={N!r}, Na={Na!r})")
    if not 0 <= S < 1 or G < 1 or Na > N:
        raise ValueError(f"need 0 <= S < 1, G >= 1 and Na <= N (got S={S}, G={G}, Na={Na:g}, N={N:g})")
    d, L = d_model, n_layers
    base = L * (4 * d * d + 2 * d) + d
    router = d * (2 if config.get("noisy_gating") else 1)
    best = None
    for E in range(max(G, 1), max_experts + 1):
        per = (Na - base) / L - E * router  # activated FFN parameters per layer: 2 d (G h + d_s)
        if per <= 0:
            continue
        for h in _near((1 - S) * per / (2 * d * G), align, align):
            shared = {0} if S == 0 else _near(S * G * h / (1 - S)) | _near(per / (2 * d) - G * h)
            for ds in shared:
                cfg = MoEConfig(d_model=d, n_layers=L, n_heads=n_heads, n_experts=E, top_k=G, d_expert=h,
                                d_shared=ds, **config)
                c = count_params(cfg)
                err = max(abs(c["N"] / N - 1), abs(c["Na"] / Na - 1), abs(cfg.shared_ratio / S - 1) if S else 0.0)
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
