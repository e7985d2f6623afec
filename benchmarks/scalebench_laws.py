"""ScaleBench's 65 parametric laws (PlanarG/active-sl, MIT; arXiv 2604.22753) written as lawfind formulas
from their definitions (docs/scalebench.md section 3), with their parameter bounds.

Each law is a :class:`ScaleLaw`: one formula per target column in lawfind's formula language (Python/sympy
syntax over the task's raw column names; every other name is a parameter), the bounds of every parameter
in the law's theta order, and a note wherever the formula departs from the definition. :func:`make_law`
turns one formula into a :class:`lawfind.laws.Law` whose initial range is the bounds (log scale where the
lower bound is > 0), with the parameters in theta order.

Notation of the definitions kept in the formulas: clamp(x, eps) is ``Max(x, eps)``, clip(x, +-c) is
``Min(Max(x, -c), c)``, sp(x) = ln(1 + e^clip(x, +-20)) is written out. The long lr_bsz feature vector
phi (15 features) is generated term by term by the helpers below.

Run ``python benchmarks/scalebench_laws.py`` (with the project importable) to check every law: it parses,
evaluates finitely with a finite analytic Jacobian at a random point inside its bounds, the Jacobian agrees
with central finite differences, and a few cheap laws fitted on the train split score R2 on the test split.
"""

from __future__ import annotations

import io
import time
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lawfind.data import load_runs
from lawfind.fit import fit_law
from lawfind.laws import FUNCTIONS, Law, Param, parse_law

SLDBENCH = Path(__file__).resolve().parents[2] / "shared" / "data" / "sldbench"

__all__ = ["ScaleLaw", "LAWS", "VARIABLES", "TARGETS", "make_law"]


@dataclass(frozen=True)
class ScaleLaw:
    task: str            # moe, sparsity, farseer, data_constrained, lr_bsz, parallel, vocab, domain_mixture
    name: str            # sl_1 ... sl_10
    formulas: tuple[str, ...]   # one formula per target column (domain_mixture: 5, one per loss_domain_i, each with its own block of parameter names; every other task: 1)
    bounds: dict         # parameter name -> (lo, hi), every parameter of every formula, the law's bounds
    shared: tuple[str, ...] = ()  # domain sl_4, sl_5: the alpha parameters shared by the 5 outputs (names that appear in several formulas)
    note: str = ""       # where the formula departs from the definition, say so here

    def __post_init__(self) -> None:
        if not self.formulas:
            raise ValueError(f"{self.task}/{self.name}: give at least one formula")
        bad = [n for n, (lo, hi) in self.bounds.items() if not lo < hi]
        if bad:
            raise ValueError(f"{self.task}/{self.name}: bounds of {bad} must have lo < hi")
        if set(self.shared) - set(self.bounds):
            raise ValueError(f"{self.task}/{self.name}: shared names {sorted(set(self.shared) - set(self.bounds))} have no bounds")


#: task -> the raw column names the formulas use as variables, in the order of docs/scalebench.md
VARIABLES: dict[str, tuple[str, ...]] = {
    "moe": ("num_experts", "dense_parameter_count"),
    "sparsity": ("P", "N_active"),
    "farseer": ("N", "D"),
    "data_constrained": ("unique_tokens", "params", "tokens"),
    "lr_bsz": ("lr", "bsz", "data_size", "non_embedding_param_size"),
    "parallel": ("num_params", "parallel_size"),
    "vocab": ("non_vocab_parameters", "vocab_size", "num_characters"),
    "domain_mixture": tuple(f"proportion_domain_{k}" for k in range(1, 6)),
}

#: task -> the target column(s), one per formula of a law
TARGETS: dict[str, tuple[str, ...]] = {
    "moe": ("loss_validation",),
    "sparsity": ("loss",),
    "farseer": ("loss",),
    "data_constrained": ("loss",),
    "lr_bsz": ("lm_loss",),
    "parallel": ("loss",),
    "vocab": ("unigram_normalized_loss",),
    "domain_mixture": tuple(f"loss_domain_{k}" for k in range(1, 6)),
}


# --- text helpers ----------------------------------------------------------------------------------

def _clamp(x: str, eps: float | str) -> str:
    """clamp(x, eps) = max(x, eps)."""
    return f"Max({x}, {eps})"


def _clip(x: str, c: float | int) -> str:
    """clip(x, -c, c)."""
    return f"Min(Max({x}, -{c}), {c})"


def _softplus(x: str) -> str:
    """sp(x) = ln(1 + e^clip(x, +-20))."""
    return f"log(1 + exp({_clip(x, 20)}))"


def _lse(a: str, b: str) -> str:
    """ln(e^a + e^b), computed stably as m + ln(e^(a-m) + e^(b-m)) with m = max(a, b)."""
    m = f"Max({a}, {b})"
    return f"({m} + log(exp({a} - {m}) + exp({b} - {m})))"


def _b(*items: tuple) -> dict:
    """Bounds in theta order from (name, lo, hi) triples, or (names, lo, hi) with several names."""
    out: dict = {}
    for names, lo, hi in items:
        for n in (names if isinstance(names, (list, tuple)) else names.split()):
            out[n] = (float(lo), float(hi))
    return out


def _law(task: str, name: str, formulas, bounds: dict, shared=(), note: str = "") -> ScaleLaw:
    formulas = (formulas,) if isinstance(formulas, str) else tuple(formulas)
    return ScaleLaw(task, name, formulas, bounds, tuple(shared), note)


# --- moe -------------------------------------------------------------------------------------------
# E = num_experts, N = dense_parameter_count; inputs clamped at 1e-12, except E >= 1 in sl_4, sl_5, sl_6.

def _moe() -> list[ScaleLaw]:
    t = "moe"
    E = _clamp("num_experts", "1e-12")
    E1 = _clamp("num_experts", 1)
    N = _clamp("dense_parameter_count", "1e-12")
    return [
        _law(t, "sl_1", f"L_inf + B/Max({N}**alpha*{E}**beta, 1e-12)",
             _b(("L_inf", 0, 3), ("B", 0.1, 500), ("alpha", 0, 1.5), ("beta", -0.5, 1.5))),
        _law(t, "sl_2", f"L + K*Max({N}**alpha*{E}**beta, 1e-12)**(-gamma)",
             _b(("L", 0, 3), ("K", 0, 500), ("alpha", 0, 2), ("beta", 0, 2), ("gamma", 0, 2))),
        _law(t, "sl_3", f"A*{N}**alpha/(1 + B*{E}**beta) + C*{N}**(0.6*alpha) + D",
             _b(("A", 0, 5e3), ("alpha", -1.5, 0), ("B", 0, 20), ("beta", 0, 2), ("C", -1e4, 1e4), ("D", -5, 5))),
        _law(t, "sl_4",
             f"a/({N}**alpha*Max(Max(1 + b*{E1}, 1e-12)**gamma, 1e-12)) + c + d*(log({N}) - 0.4*log(1 + {E1}))",
             _b(("a", 0.1, 500), ("alpha", 0, 1.5), ("b", 0, 20), ("gamma", 0, 1.5), ("c", -5, 5), ("d", -1, 1))),
        _law(t, "sl_5",
             f"p0 + exp({_clip(f'p1 + p2*log({E1}) + p3*log({N}) + p4*log({E1})*log({N})', 50)}) + p5*log({E1})",
             _b(("p0", 0, 3), ("p1", -5, 10), ("p2", -1, 1), ("p3", -1, 1), ("p4", -0.1, 0.1), ("p5", -1, 1))),
        _law(t, "sl_6", f"a*{N}**(-b)*(1 + c*{E1}**(-d)) + e + f/({E1}*{N}**0.05)",
             _b(("a", 0, 200), ("b", 0, 1.5), ("c", -5, 20), ("d", -0.5, 2), ("e", -5, 5), ("f", -20, 20))),
        _law(t, "sl_7", f"p0*{E}**p1*{N}**p2 + p3*{N}**p4 + p5",
             _b(("p0", -500, 500), ("p1", -1, 0.5), ("p2", -1.5, 0.5), ("p3", -500, 500), ("p4", -1.5, 0.5),
                ("p5", -5, 5))),
        _law(t, "sl_8", f"a*{N}**b*{E}**c + d",
             _b(("a", 0, 500), ("b", -1.5, 0.5), ("c", -1.5, 0.5), ("d", 0, 3))),
        _law(t, "sl_9", f"c0 + A*Max({N}*{E}**g, 1e-12)**(-a)",
             _b(("c0", 0, 3), ("A", 0, 500), ("g", -1, 2), ("a", 0, 2))),
        _law(t, "sl_10", f"bias + A*({N}/1e9)**(-alpha)*Max((1 + B*{E}**gamma)/(1 + B), 1e-12)**(-beta)",
             _b(("bias", 0, 3), ("A", 0, 15), ("alpha", 0, 2), ("B", 0, 100), ("gamma", 0, 6), ("beta", 0, 2))),
    ]


# --- sparsity --------------------------------------------------------------------------------------
# P = P (N_total / N_active), N_a = N_active (ln N_a < 0); epsilon 1e-12 applied to the inputs.

def _sparsity() -> list[ScaleLaw]:
    t = "sparsity"
    P = _clamp("P", "1e-12")
    Na = _clamp("N_active", "1e-12")
    note = ("the doc gives eps = 1e-12 for this task without a clamp in any formula; it is applied to the "
            "inputs P and N_active here (no effect on the data, all > 0)")
    d, ab, c = (-5, 5), (0.01, 3), (-1, 1)
    cross = f"exp(c*log({P})*log({Na}))"
    return [
        _law(t, "sl_1", f"exp(d1)*{P}**(-a)*{Na}**(-b)*{cross} + exp(d3)",
             _b(("d1", *d), ("a", *ab), ("b", *ab), ("c", *c), ("d3", *d)), note=note),
        _law(t, "sl_2", f"exp(d1)*{P}**(-a)*{Na}**(-b) + exp(d3)",
             _b(("d1", *d), ("a", *ab), ("b", *ab), ("d3", *d)), note=note),
        _law(t, "sl_3", f"exp(d1)*{P}**(-a) + exp(d2)*{Na}**(-b)*{cross} + exp(d3)",
             _b(("d1", *d), ("a", *ab), ("d2", *d), ("b", *ab), ("c", *c), ("d3", *d)), note=note),
        _law(t, "sl_4", f"exp(d1)*{P}**(-a) + exp(d2)*{Na}**(-b) + exp(d3)",
             _b(("d1", *d), ("a", *ab), ("d2", *d), ("b", *ab), ("d3", *d)), note=note),
    ]


# --- farseer ---------------------------------------------------------------------------------------
# N = N, D = D, raw; every clip to [-50, 50].

def _farseer() -> list[ScaleLaw]:
    inner = f"exp({_clip('A*N**a + E', 50)})"
    text = f"exp({_clip('s*N**q + S', 50)}) + exp({_clip(f'B*N**b + Q - {inner}*log(D)', 50)})"
    return [_law("farseer", "sl_1", text,
                 _b(("E", 1, 6), ("s", -1, 0.3), ("q", 0.01, 0.5), ("S", -1, 1), ("B", 10, 1000),
                    ("b", -0.6, -0.01), ("Q", -5, 1), ("A", -5, 1), ("a", 0.001, 0.25)))]


# --- data_constrained ------------------------------------------------------------------------------
# U = unique_tokens, N = params, D = tokens (raw; eps = 1e-12 in the clamps of the formulas).

def _data_constrained() -> list[ScaleLaw]:
    t = "data_constrained"
    U, N, D = "unique_tokens", "params", "tokens"
    # sl_3 (Muennighoff-style, one alpha for both terms)
    RD = f"({D}/{U} - 1)"
    UN = f"Max(Min(rho*{U}, {N}), 1e-12)"
    RN = f"Max({N}/{UN} - 1, 0)"
    Neff = f"Max({UN} + tau_N*{UN}*(1 - exp(-{RN}/tau_N)), 1e-12)"
    Deff = f"Max({U} + tau_D*{U}*(1 - exp(-{RD}/tau_D)), 1e-12)"
    sl3 = f"A*{Neff}**(-alpha) + B*{Deff}**(-alpha) + C"
    # sl_4
    scale = f"Max(s*{U}*{N}**d, 1e-12)"
    Teff = f"Max({D}/(1 + {D}/{scale}), 1e-12)"
    sl4 = f"L0 + A*{N}**(-a) + B*{Teff}**(-b)"
    # sl_6: max(R, 0)^c written as [min(1e12 max(R, 0), 1)] * max(R, 1e-12)^c (see the note)
    rep = f"Min(Max({RD}, 0)*1e12, 1)*Max({RD}, 1e-12)**c"
    factor = f"Max(1 + C*{rep}*{N}**d, 1e-12)"
    sl6 = f"E + A*{N}**(-alpha) + B*Max({D}/{factor}, 1e-12)**(-beta)"
    sl6_note = ("max(D/U - 1, 0)^c is written as min(1e12*max(D/U - 1, 0), 1) * max(D/U - 1, 1e-12)^c: the same "
                "value wherever D/U - 1 is 0 or >= 1e-12 (all rows; 27 train rows have D = U) for c > 0, but "
                "finite in its derivative in c on the D = U rows (the literal 0^c gives 0 * log 0 = NaN there, "
                "which makes lawfind refuse every start). It differs only at c = 0 exactly on D = U rows, "
                "where the definition's 0^0 = 1 switches the repeat penalty C*N^d on (doc 3.9 item 5) and "
                "this form gives 0 (the limit c -> 0+)")
    # sl_10: q clamped >= eps
    qc = "Max(q, 1e-12)"
    sl10 = f"L0 + A*{N}**(-a) + B*Max({D}**(-b*{qc}) + Max(k*{U}, 1e-12)**(-b*{qc}), 1e-12)**(1/{qc})"
    return [
        _law(t, "sl_1", f"A*{N}**(-alpha) + B*{D}**(-beta) + E*{U}**gamma*{N}**delta",
             _b(("A", 1e-3, 1e9), ("alpha", 0.05, 2), ("B", 1e-3, 1e8), ("beta", 0.05, 2), ("E", -100, 200),
                ("gamma", -0.5, 0.5), ("delta", -0.5, 0.5))),
        _law(t, "sl_2", f"a + b*{U}**p + c*{N}**q + d*{D}**r",
             _b(("a", -3, 10), ("b", -1e6, 1e6), ("c", -1e6, 1e6), ("d", -1e7, 1e7), ("p q r", -1.5, 0.5))),
        _law(t, "sl_3", sl3,
             _b(("A", 1e-3, 1e7), ("tau_N", 1e-3, 500), ("B", 1e-3, 1e7), ("tau_D", 1e-3, 500), ("alpha", 0.05, 2),
                ("C", -3, 10), ("rho", 1e-3, 100))),
        _law(t, "sl_4", sl4,
             _b(("L0", -3, 8), ("A", 1e-3, 1e11), ("a", 0.05, 2.5), ("B", 1e-3, 1e9), ("b", 0.05, 2.5),
                ("s", 1e-5, 1e7), ("d", -2, 1.5))),
        _law(t, "sl_5", f"A*{N}**(-alpha) + B*Max({U}**gamma*{D}**(1 - gamma), 1e-12)**(-beta) + E",
             _b(("A", 1e-3, 1e10), ("alpha", 0.05, 2), ("B", 1e-3, 1e10), ("beta", 0.05, 2), ("E", -3, 10),
                ("gamma", 0, 1))),
        _law(t, "sl_6", sl6,
             _b(("E", -3, 10), ("A", 1e-3, 1e11), ("alpha", 0.05, 2), ("B", 1e-3, 1e12), ("beta", 0.05, 2),
                ("C", 0, 1e4), ("c", 0, 2), ("d", -1, 1)), note=sl6_note),
        _law(t, "sl_7", f"L0 + A*({N}*{U})**alpha_pu + B*{D}**alpha_t + C*{N}**alpha_p",
             _b(("L0", -3, 10), ("A", 1e-3, 1e9), ("alpha_pu", -2, 0.5), ("B", 1e-3, 1e9), ("alpha_t", -2, 0.5),
                ("C", -1e13, 1e13), ("alpha_p", -2.5, 0.5))),
        _law(t, "sl_8", f"a + b*{D}**(-alpha) + c*{N}**(-beta) + d*Max(Abs(log({U}/{D} + 1)), 1e-12)**gamma",
             _b(("a", -3, 10), ("b c", -1e8, 1e8), ("d", -200, 200), ("alpha beta", 0.05, 2), ("gamma", 0.05, 5))),
        _law(t, "sl_9", f"A*{N}**(-alpha) + B*{D}**(-beta)*(1 + C*{U}**(-gamma)) + L_inf",
             _b(("A", 1e-3, 1e7), ("alpha", 0.05, 2), ("B", 1e-3, 1e7), ("beta", 0.05, 2), ("C", 0, 1e11),
                ("gamma", 0.05, 2), ("L_inf", -3, 10))),
        _law(t, "sl_10", sl10,
             _b(("L0", -3, 8), ("A", 1e-3, 1e9), ("B", 1e-3, 1e9), ("a", 0.05, 2), ("b", 0.05, 2),
                ("k", 1e-3, 1e4), ("q", 0.1, 50))),
    ]


# --- lr_bsz ----------------------------------------------------------------------------------------
# u = ln lr, v = ln bsz, s = ln D, p = ln N, inputs clamped >= 1e-30;
# phi = [1, u, v, s, p, u^2, v^2, s^2, p^2, uv, us, up, vs, vp, sp].

_LR_COLS = {"u": "lr", "v": "bsz", "s": "data_size", "p": "non_embedding_param_size"}
_PHI_KEYS = ("0", "u", "v", "s", "p", "uu", "vv", "ss", "pp", "uv", "us", "up", "vs", "vp", "sp")


def _lr_logs(log: str = "log") -> dict[str, str]:
    return {k: f"{log}(Max({c}, 1e-30))" for k, c in _LR_COLS.items()}


def _phi_terms(logs: dict[str, str]) -> list[str]:
    """The 15 features of phi as text, in order."""
    out = ["1"]
    for key in _PHI_KEYS[1:]:
        out.append("*".join(logs[ch] for ch in key))
    return out


def _phi_names(prefix: str) -> list[str]:
    return [f"{prefix}_{k}" for k in _PHI_KEYS]


def _phi_dot(prefix: str, logs: dict[str, str]) -> str:
    """w . phi with the weights named prefix_0, prefix_u, ..., prefix_sp."""
    terms = []
    for name, feat in zip(_phi_names(prefix), _phi_terms(logs)):
        terms.append(name if feat == "1" else f"{name}*{feat}")
    return "(" + " + ".join(terms) + ")"


def _phi_bounds(prefix: str, const: tuple, lin: tuple, quad: tuple) -> dict:
    names = _phi_names(prefix)
    out = {names[0]: tuple(map(float, const))}
    out.update({n: tuple(map(float, lin)) for n in names[1:5]})
    out.update({n: tuple(map(float, quad)) for n in names[5:]})
    return out


def _lr_bsz() -> list[ScaleLaw]:
    t = "lr_bsz"
    g = _lr_logs()
    u, v, s, p = g["u"], g["v"], g["s"], g["p"]
    lr, bsz, D, N = (f"Max({c}, 1e-30)" for c in _LR_COLS.values())
    sp = _softplus
    lin1 = ((-15, 15), (-0.35, 0.35), (-0.025, 0.025))

    # sl_2
    base = (f"L_inf + {sp('Cp')}*exp(-{sp('ap')}*{p}) + {sp('Cd')}*exp(-{sp('ad')}*{s})"
            f" + {sp('Cdp')}*exp(-{sp('adp')}*({s} - k*{p})) + {sp('Cbb')}*exp(-{sp('abb')}*{v})")
    du = f"({u} - (u0 + up*{p} + us*{s} + uv*{v}))"
    dv = f"({v} - (v0 + vp*{p} + vs*{s}))"
    cL = sp(f"cL0 + cLp*{p} + cLs*{s} + cLv*{v}")
    cB = sp(f"cB0 + cBp*{p} + cBs*{s} + cBv*{v}")
    sl2 = f"{base} + {cL}*{du}**2 + {cB}*{dv}**2 + 2*tanh(rho)*sqrt({cL}*{cB})*{du}*{dv}"
    b2 = _b(("L_inf", 0, 3), ("Cp", -5, 15), ("ap", -5, 5), ("Cd", -5, 15), ("ad", -5, 5), ("Cdp", -5, 15),
            ("adp", -5, 5), ("k", -5, 3), ("u0", -20, 2), ("up us uv", -3, 3), ("v0", 0, 20), ("vp vs", -3, 3),
            ("cL0 cLp cLs cB0 cBp cBs", -12, 12), ("rho", -8, 8), ("cLv cBv", -12, 12), ("Cbb", -5, 15),
            ("abb", -5, 5))

    # sl_3
    sl3 = (f"E + A*{N}**(-alpha) + B*{D}**(-beta) + F/Max({N}**wN*{D}**wD, 1e-30)"
           f" + C0*exp(CN*{p} + CD*{s} + CB*{v})*({u} - mu0 - muN*{p} - muD*{s} - muB*{v} - muND*{p}*{s})**2"
           f" + G0*exp(GN*{p} + GD*{s})*({v} - nu0 - nuN*{p} - nuD*{s} - nuND*{p}*{s})**2")
    b3 = _b(("E", 0.5, 3), ("A", 0, 5e5), ("alpha", 0.05, 2), ("B", 0, 5e5), ("beta", 0.05, 2), ("F", 0, 2e7),
            ("wN wD", 0.05, 2), ("C0", 0, 3), ("CN CD CB", -3, 3), ("mu0", -20, 5), ("muN muD muB muND", -10, 3),
            ("G0", 0, 3), ("GN GD", -3, 3), ("nu0", 0, 15), ("nuN nuD nuND", -3, 3))

    # sl_4
    extra = f" + w_sp_diff*({s} - {p}) + w_ib/{bsz} + w_ib2/{bsz}**2 + w_iD/{D} + w_iN/{N}"
    sl4 = f"exp({_phi_dot('w', g)[:-1]}{extra}))"
    b4 = {**_phi_bounds("w", *lin1),
          **_b(("w_sp_diff", -0.3, 0.3), ("w_ib", -10, 10), ("w_ib2", -200, 200), ("w_iD", -1.5e9, 1.5e9),
               ("w_iN", -5e7, 5e7))}

    # sl_5
    sl5 = (f"L0 + AN*exp(-aN*{p}) + AD*exp(-aD*{s}) + AB*exp(-aB*{v}) + AR*exp(-aR*({s} - {p})**2)"
           f" + AX*exp(-aX*({s} - {v})) + clr0*exp(-wb*{v} - wn*{p} - ws*{s})*({u} - u0 - kb*{v} - kn*{p} - kd*{s})**2")
    b5 = _b(("L0", 0, 3), ("AN", 0, 2e4), ("aN", 0.01, 2), ("AD", 0, 2e4), ("aD", 0.01, 2), ("AB", 0, 20),
            ("aB", 0.01, 2), ("clr0", 0, 200), ("u0", -12, 3), ("kb kn kd wb wn ws", -2, 2), ("AR", 0, 5),
            ("aR", 0, 2), ("AX", 0, 2000), ("aX", 0, 2))

    # sl_6
    arg6 = (f"w0 + w_d*{s} + w_p*{p} + w_dp*{s}*{p} + w_lr*{u} + w_lr2*{u}**2 + w_bsz*{v} + w_bsz2*{v}**2"
            f" + w_lrbsz*{u}*{v} + w_lrD*{u}*{s} + w_lrP*{u}*{p} + w_bszD*{v}*{s} + w_bszP*{v}*{p}")
    sl6 = f"L_inf + exp({_clip(arg6, 50)})"
    b6 = _b(("L_inf", 0, 3), ("w0", -8, 8), ("w_d w_p", -0.5, 0.5), ("w_dp", -0.025, 0.025),
            ("w_lr w_lr2", -0.6, 0.6), ("w_bsz w_bsz2", -0.5, 0.5), ("w_lrbsz", -0.04, 0.04),
            ("w_lrD", -0.02, 0.02), ("w_lrP", -0.04, 0.04), ("w_bszD", -0.05, 0.05), ("w_bszP", -0.02, 0.02))

    # sl_7
    sl7 = f"E + exp({_clip(_phi_dot('w1', g), 50)}) + exp({_clip(_phi_dot('w2', g), 50)})"
    lin7 = ((-15, 15), (-0.35, 0.35), (-0.03, 0.03))
    b7 = {"E": (0.0, 2.5), **_phi_bounds("w1", *lin7), **_phi_bounds("w2", *lin7)}

    # sl_8
    e_lr = f"({u} - (phi0 + phib*{v} + phip*{p} + phid*{s}))"
    e_ns = f"(({u} - {v}/2) - (psi0 + psip*{p} + psid*{s}))"
    sl8 = (f"L0 + {sp('cP')}*exp(-{sp('aP')}*{p}) + {sp('cD')}*exp(-{sp('aD')}*{s})"
           f" + {sp('cR')}*exp(-{sp('aR')}*({s} - {p}))"
           f" + {sp('k_lr')}*{e_lr}**2*(1 + tanh(a_lr)*tanh({e_lr}))"
           f" + {sp('k_ns')}*{e_ns}**2*(1 + tanh(a_ns)*tanh({e_ns}))"
           f" + {sp('k_dp')}*(({s} - {p}) - delta0)**2")
    b8 = _b(("L0", -1, 3), ("cP", -3, 12), ("aP", -5, 5), ("cD", -3, 12), ("aD", -5, 5), ("cR", -3, 12),
            ("aR", -5, 5), ("phi0", -20, 3), ("phib phip phid", -5, 5), ("k_lr", -5, 10), ("a_lr", -5, 5),
            ("psi0", -15, 5), ("psip psid", -5, 5), ("k_ns", -5, 10), ("a_ns", -5, 5), ("delta0", -5, 10),
            ("k_dp", -5, 10))
    note8 = ("tanh is sympy's tanh, not (e^clip(2x, +-40) - 1)/(e^clip(2x, +-40) + 1): the same values in float64 "
             "(tanh(20) rounds to 1); the derivative differs only where |x| > 20 (sech^2 < 1e-16 instead of 0)")

    # sl_9: phi built from log10, linear
    sl9 = _phi_dot("c", _lr_logs("log10"))
    b9 = _phi_bounds("c", (-5, 30), (-4, 4), (-0.3, 0.3))

    # sl_10
    sl10 = f"{_phi_dot('c', g)} + w_D*{D}**(-0.5) + w_P*{N}**(-0.5) + w_bsz/{bsz}"
    b10 = {**_phi_bounds("c", (-5, 35), (-2, 2), (-0.1, 0.1)),
           **_b(("w_D", -5e4, 5e4), ("w_P", -2e4, 2e4), ("w_bsz", -15, 15))}

    return [
        _law(t, "sl_1", f"exp({_phi_dot('w', g)})", _phi_bounds("w", *lin1)),
        _law(t, "sl_2", sl2, b2),
        _law(t, "sl_3", sl3, b3),
        _law(t, "sl_4", sl4, b4),
        _law(t, "sl_5", sl5, b5),
        _law(t, "sl_6", sl6, b6),
        _law(t, "sl_7", sl7, b7),
        _law(t, "sl_8", sl8, b8, note=note8),
        _law(t, "sl_9", sl9, b9),
        _law(t, "sl_10", sl10, b10),
    ]


# --- parallel --------------------------------------------------------------------------------------
# N = num_params, S = parallel_size; inputs clamped at 1e-12, except S >= 1 in sl_5, sl_7, sl_8.

def _parallel() -> list[ScaleLaw]:
    t = "parallel"
    N = _clamp("num_params", "1e-12")
    S = _clamp("parallel_size", "1e-12")
    S1 = _clamp("parallel_size", 1)
    return [
        _law(t, "sl_1", f"c0 + cN*{N}**(-alpha) + cS*{S}**(-beta) + cNS*{N}**(-alpha)*{S}**(-beta)",
             _b(("c0", -5, 5), ("cN", 0, 500), ("alpha", 0, 2), ("cS", -50, 50), ("beta", 0, 2), ("cNS", -100, 100))),
        _law(t, "sl_2", f"c0 + cN*{N}**(-alpha) + cS*{S}**(-beta)",
             _b(("c0", -5, 5), ("cN", 0, 500), ("alpha", 0, 2), ("cS", -50, 50), ("beta", 0, 2))),
        _law(t, "sl_3", f"a*{N}**b + c/(1 + {S}) + d",
             _b(("a", 0, 500), ("b", -2, 0), ("c", -5, 5), ("d", -5, 5))),
        _law(t, "sl_4", f"a*{N}**b + c*{S}**(-0.5) + d",
             _b(("a", 0, 500), ("b", -2, 0), ("c", -5, 5), ("d", -5, 5))),
        _law(t, "sl_5", f"Max(A/Max({N}*(k*log({S1}) + 1), 1e-12), 1e-12)**alpha + E",
             _b(("A", 0, 1e9), ("k", -100, 100), ("alpha", 0, 3), ("E", -5, 5))),
        _law(t, "sl_6", f"c0 + c1*({N}**(-alpha) + {S}**(-beta))",
             _b(("c0", -200, 200), ("c1", -200, 200), ("alpha", 0, 2), ("beta", 0, 2))),
        _law(t, "sl_7", f"L0 + A*{N}**(-alpha)/Max(1 + k*log({S1}), 1e-12)",
             _b(("L0", -5, 5), ("A", 0, 500), ("alpha", 0, 2), ("k", -50, 50))),
        _law(t, "sl_8", f"(a*{N}**b + c)/Max(1 + d*log({S1}), 1e-12)",
             _b(("a", 0, 500), ("b", -2, 0), ("c", -5, 5), ("d", -10, 10))),
        _law(t, "sl_9", f"A*{N}**(-alpha)*{S}**(-beta)",
             _b(("A", 0, 5000), ("alpha", 0, 2), ("beta", 0, 2))),
        _law(t, "sl_10", f"(A*{N}**(-alpha) + E)*{S}**(-beta)",
             _b(("A", 0, 500), ("alpha", 0, 2), ("E", -5, 5), ("beta", 0, 2))),
    ]


# --- vocab -----------------------------------------------------------------------------------------
# P = non_vocab_parameters, V = vocab_size, D = num_characters, clamped >= 1e-6; clamp(.) = max(., 1e-6).

def _vocab() -> list[ScaleLaw]:
    t = "vocab"
    P, V, D = (_clamp(c, "1e-6") for c in VARIABLES["vocab"])
    lP, lV, lD = (f"log({x})" for x in (P, V, D))

    def cl(x: str) -> str:
        return _clamp(x, "1e-6")

    # sl_2: M_r = ((P^-ar + D^-br)/2)^(1/r) through log-sum-exp, ln M_r clipped, r clamped
    rc = cl("r")
    lnM = f"(({_lse(f'-alpha*{rc}*{lP}', f'-beta*{rc}*{lD}')} - log(2))/{rc})"
    sl2 = f"L + A*exp({_clip(lnM, 50)})*(1 + C*({lV} - v0)**2)"
    # sl_3: (t1^q + t2^q)^(1/q) through log-sum-exp, its log clipped, q clamped
    qc = cl("q")
    lt1 = f"(log({cl('a')}) - alpha*{lP})"
    lt2 = f"(log({cl('b')}) - beta*({lD} + phi*{lV}))"
    lse3 = _lse(f"{qc}*{lt1}", f"{qc}*{lt2}")
    sl3 = f"L0 + exp({_clip(f'{lse3}/{qc}', 50)})"
    # sl_4
    ln4 = f"log({cl('A')}) - d*Max(a*{lP}, log({cl('lam')}) + b*{lD}) - g*{lV}"
    sl4 = f"L_inf + exp({_clip(ln4, 50)})"

    # sl_5: sign(coef)*exp(clip(ln clamp(|coef|) + ...)); sign(x) written x/max(|x|, 1e-6)
    def signed(coef: str, rest: str) -> str:
        mag = cl(f"Abs({coef})")
        return f"{coef}/{mag}*exp({_clip(f'log({mag}) + {rest}', 50)})"

    sl5 = f"{signed('p0', f'p1*{lP} + p2*{lV} + p3*{lD}')} + {signed('p4', f'p5*{lP}')} + p6"
    note5 = ("sign(coef) is written coef/max(|coef|, 1e-6) (lawfind's formulas have no sign function): equal for "
             "|coef| >= 1e-6; for |coef| < 1e-6 the term is coef*exp(clip(...)) instead of sign(coef)*1e-6*exp(clip("
             "...)) (continuous through 0). The analytic Jacobian is the law's true one (d/dp0 = P^p1 V^p2 D^p3 "
             "where unclipped), not the repository's coded sign(p0)*... of doc 3.9 item 1")
    note_floor = "clamp(coef) = max(coef, 1e-6) kept: the law is flat in the coefficient below 1e-6 (doc 3.9 item 2)"
    note_plain = ("plain powers, no +-50 clip: the doc's table gives none for this law (it says only that 'many "
                  "terms' are computed as exp(clip(log-term, +-50)))")

    return [
        _law(t, "sl_1", f"c0 + A*{V}**b*{P}**e*{D}**g",
             _b(("c0", -100, 100), ("A", -1e4, 1e4), ("b e g", -5, 5)), note=note_plain),
        _law(t, "sl_2", sl2,
             _b(("L", -100, 100), ("A", -1e4, 1e4), ("alpha beta", -5, 5), ("C", -100, 100), ("v0", -10, 30),
                ("r", 0.1, 10)),
             note="log-sum-exp written as m + ln(e^(a-m) + e^(b-m)), m = max(a, b)"),
        _law(t, "sl_3", sl3,
             _b(("L0", -100, 100), ("a", -1e4, 1e4), ("alpha", -5, 5), ("b", -1e4, 1e4), ("beta", -5, 5),
                ("phi", -5, 5), ("q", 0.1, 10)),
             note="log-sum-exp as in sl_2; the clip +-50 is applied to ln of (t1^q + t2^q)^(1/q). " + note_floor),
        _law(t, "sl_4", sl4,
             _b(("L_inf", -100, 100), ("A", -1e4, 1e4), ("a b d", -5, 5), ("lam", 1e-6, 1e4), ("g", -5, 5)),
             note="max(P^a, clamp(lam) D^b) taken on the log scale (ln of the max = max of the lns). " + note_floor),
        _law(t, "sl_5", sl5,
             _b(("p0", -1e4, 1e4), ("p1 p2 p3", -5, 5), ("p4", -1e4, 1e4), ("p5", -5, 5), ("p6", -100, 100)),
             note=note5),
        _law(t, "sl_6", f"{cl('A')}*({P}*{V}**k1)**(-alpha) + {cl('B')}*({D}*{V}**k2)**(-beta) + c0",
             _b(("A", -1e4, 1e4), ("alpha k1", -5, 5), ("B", -1e4, 1e4), ("beta k2", -5, 5), ("c0", -100, 100)),
             note=f"{note_floor}. {note_plain}"),
        _law(t, "sl_7", f"{cl('A')}*{P}**(-alpha)*{D}**(-beta) + {cl('B')}*{V}**gamma*{D}**(-delta) + c0",
             _b(("A", -1e4, 1e4), ("alpha beta", -5, 5), ("B", -1e4, 1e4), ("gamma delta", -5, 5),
                ("c0", -100, 100)),
             note=f"{note_floor}. {note_plain}"),
        _law(t, "sl_8", f"c0 + c1*{lV} + {V}**beta*(c2*{P}**(-alpha) + c3*{D}**(-gamma))",
             _b(("c0 c1", -100, 100), ("c2", -1e4, 1e4), ("alpha", -5, 5), ("c3", -1e4, 1e4), ("gamma beta", -5, 5)),
             note=note_plain),
        _law(t, "sl_9", f"{cl('A')}*{P}**(-alpha)*{D}**(-beta)*(1 + gamma*{lV}) + delta*{V}**eps + L_inf",
             _b(("A", -1e4, 1e4), ("alpha beta", -5, 5), ("gamma", -100, 100), ("delta", -1e4, 1e4), ("eps", -5, 5),
                ("L_inf", -100, 100)),
             note=f"{note_floor}. {note_plain}"),
        _law(t, "sl_10",
             f"L_min + exp({_clip(f'a + bP*{lP} + bV1*{lV} + bV2*{lV}**2 + bD*{lD} + bVD*{lV}*{lD}', 50)})",
             _b(("L_min", -100, 100), ("a", -20, 20), ("bP bV1", -2, 2), ("bV2", -0.1, 0.1), ("bD", -2, 2),
                ("bVD", -0.1, 0.1))),
    ]


# --- domain_mixture --------------------------------------------------------------------------------
# p_k = proportion_domain_k; clamp(p) = max(p, 1e-12); 5 outputs, block i's parameters end in _i.

def _domain_mixture() -> list[ScaleLaw]:
    t = "domain_mixture"
    K = range(1, 6)
    p = {k: f"proportion_domain_{k}" for k in K}
    cp = {k: f"Max(proportion_domain_{k}, 1e-12)" for k in K}

    def others(i: int) -> list[int]:
        return [j for j in K if j != i]

    def build(block, layout, prefix=None):
        """formulas from block(i) -> text, bounds from layout(i) -> [(name, lo, hi)], prefix first."""
        formulas = tuple(block(i) for i in K)
        bounds = dict(prefix or {})
        for i in K:
            bounds.update(_b(*layout(i)))
        return formulas, bounds

    laws = []

    def add(name, block, layout, shared_alpha=False, note=""):
        prefix = _b(*[(f"alpha_{k}", -1, 3) for k in K]) if shared_alpha else None
        formulas, bounds = build(block, layout, prefix)
        laws.append(_law(t, name, formulas, bounds, shared=tuple(prefix or ()), note=note))

    add("sl_1", lambda i: f"a_{i} + b_{i}*log({cp[i]}) + " + " + ".join(f"c_{i}_{j}*{p[j]}" for j in others(i)),
        lambda i: [(f"a_{i}", -3, 6), (f"b_{i}", -10, 5)] + [(f"c_{i}_{j}", -10, 10) for j in others(i)])
    add("sl_2",
        lambda i: f"A_{i}*Max({p[i]} + eps_{i}, 1e-12)**(-alpha_{i})*exp("
                  + _clip(" + ".join(f"w_{i}_{j}*{p[j]}" for j in others(i)), 20) + ")",
        lambda i: [(f"A_{i}", 0, 10), (f"eps_{i}", -0.03, 0.2), (f"alpha_{i}", 0, 2)]
        + [(f"w_{i}_{j}", -5, 5) for j in others(i)])
    add("sl_3",
        lambda i: f"base_{i} + coeff_{i}*{cp[i]}**expo_{i} + " + " + ".join(f"W_{i}_{j}*{p[j]}" for j in others(i)),
        lambda i: [(f"base_{i}", -3, 6), (f"coeff_{i}", -20, 20), (f"expo_{i}", -2, 4)]
        + [(f"W_{i}_{j}", -10, 10) for j in others(i)])
    add("sl_4",
        lambda i: "exp(" + _clip(f"bias_{i} + " + " + ".join(f"C_{i}_{k}*{cp[k]}**alpha_{k}" for k in K), 50) + ")",
        lambda i: [(f"bias_{i}", -3, 3)] + [(f"C_{i}_{k}", -10, 10) for k in K], shared_alpha=True)
    add("sl_5", lambda i: f"b_{i} + " + " + ".join(f"W_{i}_{k}*{cp[k]}**alpha_{k}" for k in K),
        lambda i: [(f"b_{i}", -3, 6)] + [(f"W_{i}_{k}", -25, 25) for k in K], shared_alpha=True)
    add("sl_6",
        lambda i: f"C_{i} + A_{i}*Max({p[i]} + " + " + ".join(f"T_{i}_{j}*{p[j]}" for j in others(i))
                  + f", 1e-12)**(-alpha_{i})",
        lambda i: [(f"C_{i}", -3, 6), (f"A_{i}", 0, 10), (f"alpha_{i}", 0, 3)]
        + [(f"T_{i}_{j}", -5, 5) for j in others(i)])
    add("sl_7",
        lambda i: f"a_{i} + b_{i}*{p[i]} + c_{i}*log({cp[i]}) + "
                  + " + ".join(f"(d_{i}_{j}*{p[j]} + e_{i}*log({cp[j]}))" for j in others(i)),
        lambda i: [(f"a_{i}", -5, 8), (f"b_{i}", -10, 15), (f"c_{i}", -5, 5)]
        + [(f"d_{i}_{j}", -10, 10) for j in others(i)] + [(f"e_{i}", -5, 5)])
    add("sl_8", lambda i: f"c_{i} - a_{i}*{cp[i]}**b_{i}",
        lambda i: [(f"c_{i}", 0, 6), (f"a_{i}", 0, 5), (f"b_{i}", 0, 3)])
    add("sl_9", lambda i: f"a_{i} + b_{i}*log({cp[i]}) + c_{i}*log({cp[i]})**2",
        lambda i: [(f"a_{i}", -3, 6), (f"b_{i}", -2, 1), (f"c_{i}", -1, 1)])
    add("sl_10", lambda i: f"a_{i} + b_{i}/Max({p[i]} + eps_{i}, 1e-12)",
        lambda i: [(f"a_{i}", -3, 6), (f"b_{i}", -1, 1), (f"eps_{i}", -0.03, 0.3)])
    return laws


#: task -> its laws in order sl_1..sl_10
LAWS: dict[str, list[ScaleLaw]] = {
    "moe": _moe(),
    "sparsity": _sparsity(),
    "farseer": _farseer(),
    "data_constrained": _data_constrained(),
    "lr_bsz": _lr_bsz(),
    "parallel": _parallel(),
    "vocab": _vocab(),
    "domain_mixture": _domain_mixture(),
}


def _names(text: str) -> set[str]:
    """The identifiers of a formula (Python tokens, so the 'e' of 1e-12 is not one)."""
    return {tok.string for tok in tokenize.generate_tokens(io.StringIO(text).readline) if tok.type == tokenize.NAME}


def make_law(law: ScaleLaw, output: int = 0) -> Law:
    """The lawfind :class:`~lawfind.laws.Law` of ``law.formulas[output]``: named ``task/sl_k``, over the raw
    columns of :data:`VARIABLES`, its parameters in theta order with the law's bounds as both the initial
    range and the hard bounds, on a log scale where the lower bound is > 0."""
    text = law.formulas[output]
    variables = VARIABLES[law.task]
    names = _names(text) - set(FUNCTIONS) - set(variables)
    missing = sorted(names - set(law.bounds))
    if missing:
        raise ValueError(f"{law.task}/{law.name} output {output}: no bounds for {missing}")
    order = [n for n in law.bounds if n in names]
    bounds = {n: law.bounds[n] for n in order}
    parsed = parse_law(text, variables=variables, name=f"{law.task}/{law.name}", init=bounds, bounds=bounds,
                       params=order)
    if set(parsed.param_names) != set(order):
        raise ValueError(f"{law.task}/{law.name} output {output}: parsed parameters {sorted(parsed.param_names)} "
                         f"differ from the formula's names {sorted(order)}")
    params = tuple(Param(n, init=bounds[n], bounds=bounds[n], log_scale=bounds[n][0] > 0) for n in order)
    return Law(parsed.name, parsed.expr, parsed.variables, params, citation="PlanarG/active-sl (arXiv 2604.22753)",
               certainty="notes", notes=law.note)


# --- check -----------------------------------------------------------------------------------------

def _check(data: Path = SLDBENCH) -> None:
    """One line per law: the share of train rows where every output's value and Jacobian are finite at a
    random point inside the bounds, and the worst disagreement of the Jacobian with central differences."""
    rng = np.random.default_rng(0)
    problems = []
    print("law                        P  outputs  finite-rows  jac-finite-rows  max-rel-diff(FD)  secs")
    for task, laws in LAWS.items():
        frame = pd.read_csv(data / task / "train.csv.gz")
        X = [frame[c].to_numpy(dtype=float) for c in VARIABLES[task]]
        for law in laws:
            t0 = time.perf_counter()
            fin_v, fin_j, rel = 1.0, 1.0, 0.0
            theta_all = {n: rng.uniform(lo, hi) for n, (lo, hi) in law.bounds.items()}
            for k in range(len(law.formulas)):
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    L = make_law(law, k)
                Xl = [X[VARIABLES[task].index(v)] for v in L.variables]
                theta = np.array([theta_all[n] for n in L.param_names])
                value = L.compiled(theta, Xl)
                v2, jac = L.compiled.value_and_jacobian(theta, Xl)
                ok_v = np.isfinite(value) & np.isfinite(v2)
                ok_j = np.isfinite(jac).all(axis=0)
                fin_v, fin_j = min(fin_v, ok_v.mean()), min(fin_j, ok_j.mean())
                rows = np.flatnonzero(ok_v & ok_j)
                if len(rows) == 0:
                    rel = np.nan
                    continue
                r = rows[rng.integers(len(rows))]
                pick = np.arange(len(theta)) if len(theta) <= 8 else np.sort(rng.choice(len(theta), 8, replace=False))
                rel = max(rel, _fd_disagreement(L, theta, [x[r:r + 1] for x in Xl], jac[:, r], pick))
            secs = time.perf_counter() - t0
            n_par = len(law.bounds)
            flag = "" if fin_v > 0.5 and fin_j > 0.5 and rel < 1e-3 else "  <-- check"
            if flag:
                problems.append(f"{task}/{law.name}")
            print(f"{task + '/' + law.name:24s} {n_par:4d}  {len(law.formulas):7d}  {fin_v:11.3f}  {fin_j:15.3f}  "
                  f"{rel:16.2e}  {secs:4.1f}{flag}")
    counts = {t: len(v) for t, v in LAWS.items()}
    print("laws per task:", counts, "total", sum(counts.values()))
    print("flagged:", problems or "none")


def _fd_disagreement(L: Law, theta: np.ndarray, Xr: list[np.ndarray], grad: np.ndarray, pick) -> float:
    """The worst relative disagreement of the analytic gradient ``grad`` at one row ``Xr`` with central
    differences, over the parameters ``pick``: for each, the best over relative steps 1e-3 .. 1e-8. A
    derivative whose effect on the value (per unit relative change of the parameter) is below 1e-7 of the
    value is compared on that floor, which finite differences cannot resolve below."""
    value = L.compiled(theta, Xr)[0]
    worst = 0.0
    for j in pick:
        lo, hi = L.params[j].bounds
        size = max(abs(theta[j]), 1e-3 * (hi - lo))
        floor = max(1e-7 * abs(value) / size, 1e-300)
        best = np.inf
        for step in (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8):
            h = step * size
            tp, tm = theta.copy(), theta.copy()
            tp[j] += h
            tm[j] -= h
            fd = (L.compiled(tp, Xr)[0] - L.compiled(tm, Xr)[0]) / (2 * h)
            best = min(best, abs(fd - grad[j]) / max(abs(fd), abs(grad[j]), floor))
        worst = max(worst, best)
    return worst


def _fits(data: Path = SLDBENCH) -> None:
    """A few cheap laws fitted on the whole train split (each group apart), R2 pooled over the test split
    (docs/scalebench.md 4.1 has the paper recipe's numbers)."""
    chosen = [("moe", "sl_1"), ("parallel", "sl_2"), ("farseer", "sl_1"), ("data_constrained", "sl_5")]
    for task, name in chosen:
        t0 = time.perf_counter()
        law = next(x for x in LAWS[task] if x.name == name)
        L = make_law(law)
        train = pd.read_csv(data / task / "train.csv.gz")
        test = pd.read_csv(data / task / "test.csv.gz")
        target = TARGETS[task][0]
        ys, preds = [], []
        for g in sorted(set(train["group"])):
            tr, te = train[train["group"] == g], test[test["group"] == g]
            table = load_runs(tr.drop(columns="group"), target=target, features=list(VARIABLES[task]))
            held = load_runs(te.drop(columns="group"), target=target, features=list(VARIABLES[task]))
            fit = fit_law(L, table, n_starts=32, seed=0)
            preds.append(fit.predict(held))
            ys.append(held.y)
        y, pred = np.concatenate(ys), np.concatenate(preds)
        r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
        print(f"fit {task}/{name}: test R2 {r2:.6f} (pooled over {len(ys)} group(s)), {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    _check()
    _fits()
