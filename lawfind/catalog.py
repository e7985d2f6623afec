"""The catalogue of published scaling laws (and lawfind's own five-factor MoE law).

Each entry cites its source and says how sure we are of its form and constants, with the tags of
``shared/LAWS.md``: **seen** (read in the paper or its released code), **notes** (seen only in
secondary notes), **memory** (unverified), **ours** (designed here). Published constants are kept as
``reference`` values for comparison; they are never used in place of a fit. Initial ranges bracket
the published values where known.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from .errors import OptionError, did_you_mean
from .laws import Law, Param
from .symbols import D, E, G, N, S, Na

__all__ = ["get", "names", "CATALOG"]


def _p(name: str, lo: float, hi: float, blo: float | None = None, bhi: float | None = None,
       log: bool = False) -> Param:
    return Param(name, (lo, hi), (blo, bhi), log)


def _syms(names: str) -> tuple[sp.Symbol, ...]:
    return sp.symbols(names, real=True)


def _log10(x):
    return sp.log(x, 10)


def kaplan2020() -> Law:
    """Kaplan et al. 2020, Eq. 1.5 [seen]: ``L = ((Nc/N)^(aN/aD) + Dc/D)^aD``.

    Reference constants (their Table/Eq., tokens and non-embedding parameters): aN = 0.076,
    aD = 0.095, Nc = 8.8e13, Dc = 5.4e13 [seen].
    """
    aN, aD, Nc, Dc = _syms("alpha_N alpha_D N_c D_c")
    expr = ((Nc / N) ** (aN / aD) + Dc / D) ** aD
    return Law("kaplan2020", expr, ("N", "D"),
               (_p("N_c", 1e10, 1e16, 1.0, None, True), _p("D_c", 1e10, 1e16, 1.0, None, True),
                _p("alpha_N", 0.02, 0.3, 1e-4, 3.0), _p("alpha_D", 0.02, 0.3, 1e-4, 3.0)),
               "Kaplan et al. 2020, Scaling Laws for Neural Language Models, Eq. 1.5", "seen",
               {"alpha_N": 0.076, "alpha_D": 0.095, "N_c": 8.8e13, "D_c": 5.4e13})


def chinchilla2022() -> Law:
    """Hoffmann et al. 2022 (Chinchilla), approach 3 [seen]: ``L = E0 + A/N^alpha + B/D^beta``.

    Reference constants [seen]: E0 = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28. The
    replication of Besiroglu et al. 2024 refits E0 = 1.82, A = 482.0, B = 2085.4, alpha = 0.348,
    beta = 0.366 [memory]. (The paper calls E0 "E"; lawfind renames it to keep E for experts.)
    """
    E0, A, B, alpha, beta = _syms("E0 A B alpha beta")
    return Law("chinchilla2022", E0 + A / N ** alpha + B / D ** beta, ("N", "D"),
               (_p("E0", 0.5, 3.0, 0.0, None), _p("A", 10, 3000, 1e-6, None, True),
                _p("B", 10, 3000, 1e-6, None, True), _p("alpha", 0.1, 0.8, 0.0, 3.0),
                _p("beta", 0.1, 0.8, 0.0, 3.0)),
               "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models, approach 3", "seen",
               {"E0": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28})


def _ehat(e_start: sp.Symbol, e_max: sp.Symbol) -> sp.Expr:
    """Clark et al.'s saturating expert count: 1/Ehat = 1/(E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max."""
    return 1 / (1 / (E - 1 + 1 / (1 / e_start - 1 / e_max)) + 1 / e_max)


def clark2022() -> Law:
    """Clark et al. 2022, unified routed law with a saturating expert count [seen].

    ``log10 L = a log10 N + b log10 Ehat + c log10 N log10 Ehat + d`` with
    ``1/Ehat = 1/(E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max``; N is the dense model's parameter
    count. Reference: the project's refit on the public data for S-Base [seen, our refit; least
    squares on log10 L at step 249000, k = 1, routing frequency 0.5, with the dense runs, on the full
    file that includes the 1.3B runs]: a = -0.0838, b = -0.124, c = 0.0105, d = 1.122,
    E_start = 2.41, E_max = 213.
    """
    a, b, c, d, es, em = _syms("a b c d E_start E_max")
    eh = _ehat(es, em)
    expr = 10 ** (a * _log10(N) + b * _log10(eh) + c * _log10(N) * _log10(eh) + d)
    return Law("clark2022", expr, ("N", "E"),
               (_p("a", -0.15, -0.02), _p("b", -0.3, 0.0), _p("c", -0.02, 0.03), _p("d", 0.8, 1.5),
                _p("E_start", 1.5, 10, 1.0001, 100.0, True), _p("E_max", 50, 2000, 5.0, 1e6, True)),
               "Clark et al. 2022, Unified Scaling Laws for Routed Language Models (saturating form)", "seen",
               {"a": -0.0838, "b": -0.124, "c": 0.0105, "d": 1.122, "E_start": 2.41, "E_max": 213.0})


def clark2022_bilinear() -> Law:
    """Clark et al. 2022, the bilinear law before saturation [seen, form]:
    ``log10 L = a log10 N + b log10 E + c log10 N log10 E + d``. Constants: fit them."""
    a, b, c, d = _syms("a b c d")
    expr = 10 ** (a * _log10(N) + b * _log10(E) + c * _log10(N) * _log10(E) + d)
    return Law("clark2022_bilinear", expr, ("N", "E"),
               (_p("a", -0.15, -0.02), _p("b", -0.3, 0.0), _p("c", -0.02, 0.03), _p("d", 0.8, 1.5)),
               "Clark et al. 2022, Unified Scaling Laws for Routed Language Models (bilinear form)", "seen")


def clark2022_separable() -> Law:
    """Clark et al. 2022, separable power law in N and E [seen, form]:
    ``log10 L = a log10 N + b log10 E + d``. Constants: fit them."""
    a, b, d = _syms("a b d")
    expr = 10 ** (a * _log10(N) + b * _log10(E) + d)
    return Law("clark2022_separable", expr, ("N", "E"),
               (_p("a", -0.15, -0.02), _p("b", -0.1, 0.0), _p("d", 0.8, 1.5)),
               "Clark et al. 2022, Unified Scaling Laws for Routed Language Models (separable form)", "seen")


def sldbench_moe() -> Law:
    """SLDBench's 4-parameter MoE baseline [seen]: ``L = L0 + K N^-a E^-b``; test R2 0.833 on the
    Clark data split at N = 1.3B in the project's refit."""
    L0, K, a, b = _syms("L0 K a b")
    return Law("sldbench_moe", L0 + K * N ** (-a) * E ** (-b), ("N", "E"),
               (_p("L0", 0.5, 3.0, 0.0, None), _p("K", 1, 1e3, 1e-8, None, True), _p("a", 0.05, 0.6, 0.0, 3.0),
                _p("b", 0.0, 0.2, -1.0, 2.0)),
               "Can Language Models Discover Scaling Laws? (SLDBench) 2025, MoE task baseline", "seen")


def krajewski2024() -> Law:
    """Krajewski / Ludziejewski et al. 2024, fine-grained MoE [notes]:
    ``L = c + (g / G^gamma + a) / N^alpha + b / D^beta``.

    Their G is the granularity d_ff / d_expert; at fixed activated size it grows with the number of
    activated experts, so lawfind reads it from the G column. Reference: alpha = 0.115,
    beta = 0.147, gamma = 0.58 [notes]; a = 18.1, b = 30.8, g = 2.1, c = 0.47 [memory].
    """
    a, b, c, g, alpha, beta, gamma = _syms("a b c g alpha beta gamma")
    expr = c + (g / G ** gamma + a) / N ** alpha + b / D ** beta
    return Law("krajewski2024", expr, ("N", "D", "G"),
               (_p("a", 1, 100, 0.0, None, True), _p("b", 1, 300, 0.0, None, True), _p("c", 0.1, 2.5, 0.0, None),
                _p("g", 0.1, 30, 0.0, None, True), _p("alpha", 0.05, 0.6, 0.0, 3.0), _p("beta", 0.05, 0.6, 0.0, 3.0),
                _p("gamma", 0.1, 1.0, 0.0, 3.0)),
               "Krajewski et al. 2024, Scaling Laws for Fine-Grained Mixture of Experts", "notes",
               {"alpha": 0.115, "beta": 0.147, "gamma": 0.58, "a": 18.1, "b": 30.8, "g": 2.1, "c": 0.47})


def ludziejewski2025() -> Law:
    """Ludziejewski et al. 2025, joint MoE law [seen, form]:
    ``L = a E^delta Na^-(alpha + gamma ln E) + b E^omega D^-(beta + zeta ln E) + c``.

    The paper uses a transformed expert count Ehat; lawfind uses E itself here. Reference constants
    from notes, signs uncertain [notes]: a = 35.91, delta = 0.2285, alpha = 0.1889, gamma = 0.0098,
    b = 35.98, omega = -0.5529, beta = 0.1775, zeta = 0.0259, c = 1.3637.
    """
    a, b, c, delta, omega, alpha, beta, gamma, zeta = _syms("a b c delta omega alpha beta gamma zeta")
    expr = (a * E ** delta * Na ** (-(alpha + gamma * sp.log(E)))
            + b * E ** omega * D ** (-(beta + zeta * sp.log(E))) + c)
    return Law("ludziejewski2025", expr, ("Na", "D", "E"),
               (_p("a", 1, 300, 0.0, None, True), _p("b", 1, 300, 0.0, None, True), _p("c", 0.5, 3.0, 0.0, None),
                _p("delta", -0.5, 0.5), _p("omega", -1.0, 0.5), _p("alpha", 0.05, 0.5, 0.0, 3.0),
                _p("beta", 0.05, 0.5, 0.0, 3.0), _p("gamma", -0.02, 0.02), _p("zeta", -0.03, 0.03)),
               "Ludziejewski et al. 2025, Joint MoE Scaling Laws: Mixture of Experts Can Be Memory Efficient",
               "notes", {"a": 35.91, "delta": 0.2285, "alpha": 0.1889, "gamma": 0.0098, "b": 35.98,
                         "omega": -0.5529, "beta": 0.1775, "zeta": 0.0259, "c": 1.3637})


def abnar2025() -> Law:
    """Abnar et al. 2025, parameters vs FLOPs [notes]: with sparsity Sp = (E - G)/E, so 1 - Sp = G/E,
    ``L = a/N^alpha + b/D^beta + c/(1-Sp)^lambda + d/((1-Sp)^delta N^gamma) + e``. Constants not
    found: fit them."""
    a, b, c, d, e, alpha, beta, lam, delta, gamma = _syms("a b c d e alpha beta lambda_ delta gamma")
    dens = G / E
    expr = a / N ** alpha + b / D ** beta + c / dens ** lam + d / (dens ** delta * N ** gamma) + e
    return Law("abnar2025", expr, ("N", "D", "G", "E"),
               (_p("a", 1, 1000, 0.0, None, True), _p("b", 1, 1000, 0.0, None, True), _p("c", 1e-3, 1, 0.0, None),
                _p("d", 1e-3, 10, 0.0, None, True), _p("e", 0.5, 3, 0.0, None), _p("alpha", 0.1, 0.6, 0.0, 3.0),
                _p("beta", 0.1, 0.6, 0.0, 3.0), _p("lambda_", -0.2, 0.2), _p("delta", -0.2, 0.2),
                _p("gamma", 0.0, 0.3)),
               "Abnar et al. 2025, Parameters vs FLOPs: Scaling Laws for Optimal Sparsity for MoE LMs", "notes")


def tian2025() -> Law:
    """Tian et al. 2025, efficiency leverage as a loss law [seen, form]:
    ``L = K (EL * C)^-beta_C`` with ``C = 6 Na D``, ``EL = Ahat^(a + d log C + gamma (log G)^2 + beta log G)``,
    activation ratio ``A = Na/N`` and ``1/Ahat = 1/(A + (1/A_start - 1/A_max)^-1) + 1/A_max``.

    That is, a MoE at compute C reaches the loss of a dense model at EL * C. Their G is granularity
    (2 d_model / d_expert); lawfind reads the G column. The log base is a fitted choice: natural log
    here. Reference [seen]: a = 1.23, d = -7.61e-2, gamma = 1.67e-2, beta = -1.17e-1,
    A_start = 1.63e-2, A_max = 5.28e16 (log base unclear, so not comparable one to one).
    """
    K, bC, a, d, gam, bet, As, Am = _syms("K beta_C a d gamma beta A_start A_max")
    C = 6 * Na * D
    A = Na / N
    ahat = 1 / (1 / (A + 1 / (1 / As - 1 / Am)) + 1 / Am)
    el = ahat ** (a + d * sp.log(C) + gam * sp.log(G) ** 2 + bet * sp.log(G))
    expr = K * (el * C) ** (-bC)
    return Law("tian2025", expr, ("N", "Na", "D", "G"),
               (_p("K", 1, 1000, 1e-8, None, True), _p("beta_C", 0.01, 0.2, 0.0, 1.0), _p("a", -2, 2),
                _p("d", -0.1, 0.1), _p("gamma", -0.05, 0.05), _p("beta", -0.3, 0.3),
                _p("A_start", 1e-3, 0.1, 1e-6, 0.99, True), _p("A_max", 10, 1e6, 1.0, 1e20, True)),
               "Tian et al. 2025, Towards Greater Leverage: Scaling Laws for Efficient MoE LMs", "seen",
               {"a": 1.23, "d": -7.61e-2, "gamma": 1.67e-2, "beta": -1.17e-1, "A_start": 1.63e-2, "A_max": 5.28e16})


def lawfind_moe5() -> Law:
    """lawfind's five-factor MoE law [ours]:

    ``L = E0 + A Na^-alpha (N/Na)^-rho exp(g1 ln G + g2 (ln G)^2 + s1 S + s2 S^2) + B D^-beta``.

    Quadratic hooks in ln G and in S (an optimum ``G* = exp(-g1 / (2 g2))`` and ``S* = -s1 / (2 s2)``
    when g2, s2 > 0), a coupling of Na and N through rho (more total parameters at equal Na help),
    and the Chinchilla data term. The hook factor multiplies the model term only, so G* and S* are
    independent of N and D by construction; Zhao et al. 2025 report that independence, and
    discovered laws test it.
    """
    E0, A, B, alpha, beta, rho, g1, g2, s1, s2 = _syms("E0 A B alpha beta rho g1 g2 s1 s2")
    hook = sp.exp(g1 * sp.log(G) + g2 * sp.log(G) ** 2 + s1 * S + s2 * S ** 2)
    expr = E0 + A * Na ** (-alpha) * (N / Na) ** (-rho) * hook + B * D ** (-beta)
    return Law("lawfind_moe5", expr, ("D", "N", "Na", "G", "S"),
               (_p("E0", 0.1, 3.0, 0.0, None), _p("A", 1, 3000, 1e-8, None, True), _p("B", 1, 3000, 1e-8, None, True),
                _p("alpha", 0.05, 0.6, 0.0, 3.0), _p("beta", 0.05, 0.6, 0.0, 3.0), _p("rho", 0.0, 0.3, -1.0, 2.0),
                _p("g1", -0.2, 0.0, -3.0, 3.0), _p("g2", 0.0, 0.1, -3.0, 3.0), _p("s1", -0.5, 0.0, -10.0, 10.0),
                _p("s2", 0.0, 1.0, -10.0, 10.0)),
               "lawfind (this project): five-factor MoE law with hooks in G and S", "ours")


CATALOG: dict[str, Callable[[], Law]] = {
    f.__name__: f for f in (kaplan2020, chinchilla2022, clark2022, clark2022_bilinear, clark2022_separable,
                            sldbench_moe, krajewski2024, ludziejewski2025, abnar2025, tian2025, lawfind_moe5)
}


def names() -> list[str]:
    """Names of the catalogue's laws."""
    return list(CATALOG)


def get(name: str) -> Law:
    """A catalogue law by name (case-insensitive), with a did-you-mean on a typo."""
    key = {k.lower(): k for k in CATALOG}.get(name.lower())
    if key is None:
        raise OptionError(f"no law '{name}' in the catalogue{did_you_mean(name, CATALOG)}; "
                          f"known laws: {', '.join(CATALOG)}")
    return CATALOG[key]()
