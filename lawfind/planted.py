"""Planted laws: synthetic MoE run tables generated from known laws, for tests and benchmarks.

Each :class:`PlantedLaw` is a formula in ``D, N, Na, G, S`` with chosen constants; :func:`sample`
draws a controlled design like the five-factor MoE studies (N from 1e8 to 1e10, activation ratio
Na/N from 3 % to 60 %, G from 1 to 24, S from 0 to 0.7, D from 1e10 to 1e11) and multiplies the loss
by log-normal noise. The same seed gives the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .laws import Law, parse_law

__all__ = ["PlantedLaw", "PLANTED", "sample", "planted_law"]


@dataclass(frozen=True)
class PlantedLaw:
    """A law with known constants and the structure a search should find.

    Attributes
    ----------
    name:
        Identifier.
    formula:
        The law, with parameter names, in ``D, N, Na, G, S``.
    values:
        The planted constants.
    structure:
        What the law's shape is (for reports), e.g. "hook in ln G".
    must_use:
        Variables a recovered law must depend on (and no others).
    hook:
        The variable in which the law has an interior minimum, if any.
    """

    name: str
    formula: str
    values: dict[str, float]
    structure: str
    must_use: tuple[str, ...]
    hook: str | None = None

    def law(self) -> Law:
        return parse_law(self.formula, ("D", "N", "Na", "G", "S"), name=self.name)


PLANTED: tuple[PlantedLaw, ...] = (
    PlantedLaw("moe5", "E0 + A*Na**(-alpha)*(N/Na)**(-rho)*exp(g1*log(G) + g2*log(G)**2 + s1*S + s2*S**2)"
               " + B*D**(-beta)",
               dict(E0=1.6, A=60.0, alpha=0.25, rho=0.08, g1=-0.24, g2=0.06, s1=-0.7, s2=1.1, B=400.0,
                    beta=0.28),
               "hooks in ln G (G* = e^2) and S (S* = 0.32), Na-N coupling", ("D", "N", "Na", "G", "S"), "G"),
    PlantedLaw("chinchilla_ghook", "E0 + A*Na**(-alpha)*(1 + h*(log(G) - g0)**2) + B*D**(-beta)",
               dict(E0=1.7, A=50.0, alpha=0.24, h=0.04, g0=1.8, B=350.0, beta=0.27),
               "hook in ln G at G* = e^1.8", ("D", "Na", "G"), "G"),
    PlantedLaw("ratio_hook", "E0 + A*Na**(-alpha)*(1 + h*(log(Na/N) - r0)**2) + B*D**(-beta)",
               dict(E0=1.65, A=45.0, alpha=0.23, h=0.03, r0=-1.6, B=300.0, beta=0.26),
               "hook in ln(Na/N) at Na/N = 0.20", ("D", "N", "Na"), "Na"),
    PlantedLaw("coupled_n_na", "E0 + A/(N**a*Na**b) + B*D**(-beta)",
               dict(E0=1.7, A=120.0, a=0.09, b=0.2, B=380.0, beta=0.28),
               "product of powers of N and Na", ("D", "N", "Na")),
    PlantedLaw("exponent_log_g", "E0 + A*Na**(-(alpha + gamma*log(G))) + B*D**(-beta)",
               dict(E0=1.7, A=40.0, alpha=0.22, gamma=0.012, B=320.0, beta=0.27),
               "exponent of Na depends on ln G", ("D", "Na", "G")),
    PlantedLaw("shared_hook", "E0 + A*Na**(-alpha) + B*D**(-beta) + c*(S - s0)**2",
               dict(E0=1.7, A=45.0, alpha=0.23, B=330.0, beta=0.27, c=0.12, s0=0.3),
               "additive hook in S at S* = 0.3", ("D", "Na", "S"), "S"),
    PlantedLaw("g_n_cross", "E0 + A*Na**(-alpha)*exp(k*(log(G) - m*log(N/1e9) - g0)**2) + B*D**(-beta)",
               dict(E0=1.7, A=50.0, alpha=0.24, k=0.05, m=0.3, g0=1.5, B=350.0, beta=0.27),
               "G* grows with N (ln G x ln N cross term)", ("D", "N", "Na", "G"), "G"),
)


def planted_law(name: str) -> PlantedLaw:
    from .errors import OptionError, did_you_mean
    for p in PLANTED:
        if p.name == name:
            return p
    raise OptionError(f"no planted law '{name}'{did_you_mean(name, [p.name for p in PLANTED])}")


def design(n: int, seed: int = 0) -> pd.DataFrame:
    """A random five-factor design of ``n`` runs (reproducible from ``seed``)."""
    rng = np.random.default_rng(seed)
    N = 10 ** rng.uniform(8, 10, n)
    ratio = 10 ** rng.uniform(np.log10(0.03), np.log10(0.6), n)
    G = rng.choice([1, 2, 3, 4, 6, 8, 12, 16, 24], n).astype(float)
    S = rng.choice([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], n)
    D = 10 ** rng.uniform(10, 11, n)
    return pd.DataFrame({"D": D, "N": N, "Na": N * ratio, "G": G, "S": S})


def sample(planted: PlantedLaw, n: int = 450, noise: float = 0.0075, seed: int = 0) -> pd.DataFrame:
    """A run table from a planted law: the design, the loss, and multiplicative log-normal noise."""
    frame = design(n, seed)
    law = planted.law()
    theta = [planted.values[p] for p in law.param_names]
    loss = law.compiled(theta, [frame[v].to_numpy() for v in law.variables])
    rng = np.random.default_rng(seed + 10_000)
    frame["loss"] = loss * np.exp(rng.normal(0.0, noise, n))
    frame["seed"] = seed
    return frame
