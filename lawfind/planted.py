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

__all__ = ["PlantedLaw", "PLANTED", "sample", "planted_law", "design", "ladder_design", "N_LADDER"]

#: The variables of planted tables (E, the routed experts, only where the law reads it).
VARIABLES = ("D", "N", "Na", "G", "S", "E")
#: The model-size ladder of :func:`ladder_design`: 5e7 doubling to 3.2e9.
N_LADDER = tuple(5e7 * 2.0 ** k for k in range(7))


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
        return parse_law(self.formula, VARIABLES, name=self.name)

    @property
    def uses_e(self) -> bool:
        return "E" in self.law().variables


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
    PlantedLaw("g_n_cross", "E0 + A*Na**(-alpha)*(1 + h*(log(G) - m*log(N/1e9) - g0)**2) + B*D**(-beta)",
               dict(E0=1.7, A=50.0, alpha=0.24, h=0.04, m=0.3, g0=1.5, B=350.0, beta=0.27),
               "G* grows with N (ln G x ln N cross term in a hook)", ("D", "N", "Na", "G"), "G"),
    PlantedLaw("dense", "E0 + A*N**(-alpha) + B*D**(-beta)",
               dict(E0=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28),
               "Chinchilla (approach 3 constants) in N and D", ("D", "N")),
    PlantedLaw("saturating_e", "E0 + A*Na**(-alpha)*(1/(1/(E - 1 + 1/(1/Es - 1/Em)) + 1/Em))**(-b) + B*D**(-beta)",
               dict(E0=1.7, A=45.0, alpha=0.23, b=0.12, Es=2.5, Em=150.0, B=330.0, beta=0.27),
               "Clark et al.'s saturating expert count Ehat(E) (E_start 2.5, E_max 150)", ("D", "Na", "E")),
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


def ladder_design(n: int, seed: int = 0) -> pd.DataFrame:
    """A design on discrete ladders, as real sweeps are: N on :data:`N_LADDER` (5e7 to 3.2e9, doubling),
    activation ratio in {4, 8, 15, 25, 40, 60} %, G in {1, 2, 4, 6, 8, 12, 16, 24}, S in {0, 0.1, ...,
    0.7}, D in {1, 2, 4, 8, 16} x 1e10, drawn at random (reproducible from ``seed``)."""
    rng = np.random.default_rng(seed)
    N = rng.choice(N_LADDER, n)
    ratio = rng.choice([0.04, 0.08, 0.15, 0.25, 0.4, 0.6], n)
    G = rng.choice([1, 2, 4, 6, 8, 12, 16, 24], n).astype(float)
    S = rng.choice([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], n)
    D = rng.choice([1e10, 2e10, 4e10, 8e10, 1.6e11], n)
    return pd.DataFrame({"D": D, "N": N, "Na": N * ratio, "G": G, "S": S})


def sample(planted: PlantedLaw, n: int = 450, noise: float = 0.0075, seed: int = 0,
           ladder: bool = False) -> pd.DataFrame:
    """A run table from a planted law: the design (random, or on discrete ladders), the loss, and
    multiplicative log-normal noise. Where the law reads ``E`` (routed experts), the table has
    ``E = round(G N / Na)``, the count that gives the activation ratio with experts of equal size."""
    frame = ladder_design(n, seed) if ladder else design(n, seed)
    if planted.uses_e:
        frame["E"] = np.maximum(np.round(frame["G"] * frame["N"] / frame["Na"]), frame["G"])
    law = planted.law()
    theta = [planted.values[p] for p in law.param_names]
    loss = law.compiled(theta, [frame[v].to_numpy() for v in law.variables])
    rng = np.random.default_rng(seed + 10_000)
    frame["loss"] = loss * np.exp(rng.normal(0.0, noise, n))
    frame["seed"] = seed
    return frame
