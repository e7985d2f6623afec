"""Published laws on varied sweep designs: the planted benchmark that judges discovery on designs it
was not tuned on (``benchmarks/bench_designs.py``).

A :class:`Design` is a model ladder (how many sizes below the split, where it starts, the step between
sizes), a range of tokens per parameter and a noise level; its test rows are at 2x and 4x the largest
selection size, each with the same tokens-per-parameter draws. A :class:`LiteratureLaw` is a published
law with constants from the papers (how sure each is follows ``shared/LAWS.md``: [seen], [notes],
[memory]) and the levels of its shape variables. :func:`design_table` draws a run table from both,
reproducibly from a seed.

The designs used while developing are :data:`DEV_DESIGNS`; :data:`HELD_OUT` are kept apart: each is run
once, after the selection rule is frozen, as evidence on a design the rule never saw, and is spent
after that (the first was run at commit bacb246, the second after the moving-hook changes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .laws import Law, parse_law

__all__ = ["Design", "LiteratureLaw", "LITERATURE", "DEV_DESIGNS", "HELD_OUT", "HELD_OUT_SEEDS", "design_table",
           "design"]

#: Clark et al.'s saturating expert count, 1/Ehat = 1/(E - 1 + (1/Es - 1/Em)^-1) + 1/Em.
_EHAT = "(1/(1/(E - 1 + 1/(1/Es - 1/Em)) + 1/Em))"


@dataclass(frozen=True)
class Design:
    """A sweep design: ``sizes`` model sizes below the split, from ``n0`` in steps of ``step``; tokens
    per parameter on four geometric levels over ``tpp``; multiplicative log-normal ``noise``;
    ``runs`` runs per size. The test rows are at 2x and 4x the largest selection size."""

    name: str
    sizes: int
    n0: float
    step: float
    tpp: tuple[float, float]
    noise: float
    runs: int = 50

    @property
    def selection_sizes(self) -> np.ndarray:
        return self.n0 * self.step ** np.arange(self.sizes)

    @property
    def test_sizes(self) -> np.ndarray:
        return self.selection_sizes[-1] * np.array([2.0, 4.0])

    @property
    def holdout(self) -> str:
        """The test split: the sizes beyond the ladder (``N>=...``)."""
        return f"N>={1.5 * self.selection_sizes[-1]:.6g}"


@dataclass(frozen=True)
class LiteratureLaw:
    """A published law with its constants and the levels of the variables a sweep sets.

    ``levels`` are drawn at random per run; ``derive`` adds columns computed from the drawn ones
    (``{"Na": "N * ratio"}``), and the helper columns in ``drop`` leave the table. ``hooks`` are the
    variables in which the law has an optimum (checked by the benchmark)."""

    name: str
    formula: str
    values: dict[str, float]
    source: str
    levels: dict[str, tuple[float, ...]] = field(default_factory=dict)
    derive: dict[str, str] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    data: bool = True
    hooks: tuple[str, ...] = ()

    def law(self) -> Law:
        return parse_law(self.formula, self.features, name=self.name)

    @property
    def features(self) -> tuple[str, ...]:
        cols = ["N", *(["D"] if self.data else []), *self.levels, *self.derive]
        return tuple(c for c in dict.fromkeys(cols) if c not in self.drop)


_CHIN = dict(E0=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28)

LITERATURE: tuple[LiteratureLaw, ...] = (
    LiteratureLaw("chinchilla", "E0 + A/N**alpha + B/D**beta", dict(_CHIN),
                  "Hoffmann et al. 2022, approach 3 [seen]"),
    LiteratureLaw("kaplan", "((Nc/N)**(aN/aD) + Dc/D)**aD", dict(aN=0.076, aD=0.095, Nc=8.8e13, Dc=5.4e13),
                  "Kaplan et al. 2020 [seen]"),
    LiteratureLaw("fine_grained", "c + (g/granularity**gamma + a)/N**alpha + b/D**beta",
                  dict(c=0.47, g=2.1, gamma=0.58, a=18.1, alpha=0.115, b=30.8, beta=0.147),
                  "Krajewski et al. 2024, granularity (exponents [notes], coefficients [memory])",
                  levels={"granularity": (1.0, 2.0, 4.0, 8.0, 16.0)}),
    LiteratureLaw("clark_unified", f"10**(d + a*log(N)/log(10) + b*log({_EHAT})/log(10) "
                  f"+ c*log(N)*log({_EHAT})/log(10)**2)",
                  dict(a=-0.0838, b=-0.124, c=0.0105, d=1.122, Es=2.41, Em=213.0),
                  "Clark et al. 2022, unified routed law with saturating E (our refit, [seen])",
                  levels={"E": (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0)}, data=False),
    LiteratureLaw("joint_moe", "c + a*E**delta*N**(-(alpha + gamma*log(E))) + b*E**omega*D**(-(beta + zeta*log(E)))",
                  dict(a=35.91, delta=0.2285, alpha=0.1889, gamma=0.0098, b=35.98, omega=-0.5529, beta=0.1775,
                       zeta=0.0259, c=1.3637),
                  "Ludziejewski et al. 2025, joint MoE law with exponents in ln E (form [seen], constants "
                  "[notes]; Ehat taken as E)", levels={"E": (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)}),
    LiteratureLaw("five_factor", "E0 + A*Na**(-alpha)*(N/Na)**(-rho)*exp(g1*log(G) + g2*log(G)**2 + s1*S + "
                  "s2*S**2) + B*D**(-beta)",
                  dict(E0=1.6, A=60.0, alpha=0.25, rho=0.08, g1=-0.24, g2=0.06, s1=-0.7, s2=1.1, B=400.0, beta=0.28),
                  "the project's five-factor MoE law (hooks in ln G and S; G* = e^2, S* = 0.32)",
                  levels={"ratio": (0.04, 0.08, 0.15, 0.25, 0.4, 0.6), "G": (1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0),
                          "S": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)},
                  derive={"Na": "N * ratio"}, drop=("ratio",), hooks=("G", "S")),
    LiteratureLaw("data_constrained", "E0 + A/N**alpha + B/(unique_tokens*(1 + Rs*(1 - exp(-(D/unique_tokens - 1)/Rs))))**beta",
                  dict(_CHIN, Rs=15.4),
                  "Muennighoff et al. 2023, effective data of repeated tokens (R_D* = 15.4 [memory], "
                  "Chinchilla's other constants)",
                  levels={"epochs": (1.0, 2.0, 4.0, 8.0, 16.0, 40.0)},
                  derive={"unique_tokens": "D / epochs"}, drop=("epochs",)),
    LiteratureLaw("lr_bsz", "E0 + A/N**alpha + B/D**beta + h1*(log(lr) - log(c1*N**(-m1)*D**n1))**2 "
                  "+ h2*(log(bsz) - log(c2*D**n2))**2",
                  dict(_CHIN, h1=0.02, c1=1.79, m1=0.713, n1=0.307, h2=0.01, c2=0.58, n2=0.571),
                  "Chinchilla with additive hooks at the Step law's lr* = 1.79 N^-0.713 D^0.307 and "
                  "bsz* = 0.58 D^0.571 (Li et al. 2025 [memory]; hook widths ours)",
                  levels={"lr": tuple(2.5e-4 * 2.0 ** np.arange(8)), "bsz": tuple(3.2e4 * 2.0 ** np.arange(8))},
                  hooks=("lr", "bsz")),
)

#: The designs discovery is developed and judged on.
DEV_DESIGNS: tuple[Design, ...] = (
    Design("ladder7", 7, 2e7, 2.0, (5.0, 50.0), 0.005),
    Design("few4", 4, 5e7, 2.5, (1.0, 10.0), 0.010),
    Design("fine5", 5, 1e8, 1.8, (10.0, 50.0), 0.003),
)
#: The designs kept apart, in the order they are spent: each run once, with its own seed, after the
#: selection rule is frozen.
HELD_OUT: tuple[Design, ...] = (
    Design("heldout6", 6, 3e7, 1.6, (2.0, 30.0), 0.015),
    Design("heldout5", 5, 4e7, 2.2, (3.0, 40.0), 0.008),
)
HELD_OUT_SEEDS = (7, 11)


def design(name: str) -> Design:
    from .errors import OptionError, did_you_mean
    for d in (*DEV_DESIGNS, *HELD_OUT):
        if d.name == name:
            return d
    raise OptionError(f"no design '{name}'{did_you_mean(name, [d.name for d in (*DEV_DESIGNS, *HELD_OUT)])}")


def design_table(law: LiteratureLaw, design: Design, seed: int = 0, noise: bool = True) -> pd.DataFrame:
    """Runs of ``law`` on ``design``: per size (the ladder and the two test sizes) ``design.runs`` runs,
    tokens per parameter and the shape variables drawn at random from their levels, the loss with
    multiplicative log-normal noise (``noise=False``: the law's own value). Reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    tpp = np.geomspace(*design.tpp, 4)
    sizes = np.concatenate([design.selection_sizes, design.test_sizes])
    n = design.runs * len(sizes)
    frame = pd.DataFrame({"N": np.repeat(sizes, design.runs)})
    if law.data:
        frame["D"] = frame["N"] * rng.choice(tpp, n)
    for var, levels in law.levels.items():
        frame[var] = rng.choice(np.asarray(levels, dtype=float), n)
    for var, expr in law.derive.items():
        frame[var] = frame.eval(expr)
    frame = frame.drop(columns=list(law.drop))
    truth = law.law()
    loss = truth.compiled([law.values[p] for p in truth.param_names], [frame[v].to_numpy() for v in truth.variables])
    frame["loss"] = loss * (np.exp(rng.normal(0.0, design.noise, n)) if noise else 1.0)
    return frame
