"""The scaling-law grammar engine: a deterministic search over the forms published laws are built from.

A form is ``L = E0 + A * prod(x^-alpha_x) * modifiers + B * D^-beta * modifiers + additive hooks``:

- an irreducible constant ``E0 >= 0``;
- a power-law **model term** over a subset of the size variables (``N``, ``Na``: Chinchilla, Kaplan's
  product, the coupled ``N^-a Na^-b`` of fine-grained MoE laws) and a **data term** ``B D^-beta``;
- **modifiers** of the model term by a shape variable ``x`` (``G``, ``S``, ``E``, width, ...), each
  the block of a published law: a monotone factor ``x^-p`` (``exp(-p x)`` for a bounded ratio such as
  S); a hook ``exp(u1 l + u2 l^2)`` (lawfind's five-factor law) or ``1 + h (l - c)^2`` with ``l = ln x``
  (``x`` for S); Clark et al.'s saturating count ``Ehat(x)^-p``; an exponent that depends on ``ln x``
  (``alpha + q ln x``, Ludziejewski et al. 2025); a hook in a ratio of two variables
  (``1 + h (ln(Na/N) - c)^2``);
- an effective size ``N (1 + k ln x)`` for a count ``x`` (parallel or ensemble width, ParScale);
- a modifier of the data term: an exponent ``beta + z ln x`` (Ludziejewski et al. 2025; with ``x`` the
  model size, Farseer's data exponent that moves with N); **repeated data**: ``D`` replaced by
  Muennighoff et al. 2023's effective tokens ``U (1 + R* (1 - exp(-(D/U - 1)/R*)))`` where a unique-token
  column ``U`` bounds ``D``;
- **additive hooks** ``k (l - c)^2``, and hooks whose optimum moves with model size and data,
  ``k (l - c - m ln(N/N0) - n ln(D/D0))^2`` (the learning-rate and batch-size laws: lr* ~ N^m D^n);
- **mixtures** (columns whose names say proportion or fraction, read on a linear scale, zeros
  included): ``exp(sum_j t_j x_j)`` over the proportions (Ye et al. 2024's data-mixing law; one left out
  where they sum to one), a term of its own where the table has no size or data, else a modifier; and
  a domain's own proportion with a floor, ``-w ln(x + x0)``.

Constants carry their physical signs as bounds: ``E0, A, B >= 0``, exponents ``alpha, beta > 0``,
hook curvatures ``h, k >= 0``. The search is a beam search: start from the plain power-law forms, add
one block at a time, fit every child with the robust fitter (started from its parent's optimum, so
that a child never fits worse), keep the ``beam`` best admissible children by BIC, and stop when no
child lowers its parent's BIC or at ``max_depth``. Deterministic for a seed; ``time_budget`` caps
the seconds.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
import sympy as sp

from ..admissible import EXTRAPOLATION_FACTOR, Roles, check_admissible
from ..data import RunTable
from ..errors import FitError, OptionError
from ..fit import FitResult, fit_law
from ..laws import Law, Param
from ..metrics import log_fit_stats
from ..parallel import parallel_map
from ..symbols import is_proportion, is_unique, scale, symbol
from .base import Candidate, Progress

__all__ = ["GrammarEngine", "Form", "Block", "base_forms", "expand"]

#: Modifier kinds of the model term (at most one per variable); the others act on the data term
#: ("dexponent", "repeat"), add a term ("additive", "mhook", "plog"), or modify the model term in two
#: variables ("ratio").
MODEL_KINDS = ("power", "hook", "qhook", "shook", "sat", "exponent", "mix", "neff")


@dataclass(frozen=True, order=True)
class Block:
    """One building block: ``kind`` applied with variable ``var`` (``other / var`` for a ratio; the size
    variable the centre moves with for a shifting hook)."""

    kind: str
    var: str
    other: str = ""

    def tag(self) -> str:
        if self.kind in ("shook", "mhook"):
            return f"{self.kind}({self.var} moving with {' and '.join(v for v in self.other.split(',') if v)})"
        if self.kind == "repeat":
            return f"repeat({self.var} of unique {self.other})"
        if self.kind == "mix":
            return "mix(proportions)"
        return f"{self.kind}({self.other + '/' if self.other else ''}{self.var})"


@dataclass(frozen=True)
class Form:
    """A structured law: the size variables of the model term, the data variable, the blocks."""

    model: tuple[str, ...]
    data: str | None
    blocks: tuple[Block, ...] = ()

    def key(self) -> str:
        return f"{'*'.join(self.model)}|{self.data}|{','.join(b.tag() for b in sorted(self.blocks))}"

    def describe(self) -> str:
        parts = [f"power law in {'*'.join(self.model)}" if self.model else "", f"data term in {self.data}"
                 if self.data else ""]
        parts += [b.tag() for b in self.blocks]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class _Context:
    """What the forms are built for: the table's variables, their roles and ranges."""

    features: tuple[str, ...]
    roles: Roles
    ranges: dict[str, tuple[float, float]]
    y_min: float
    y_med: float
    #: the target's spread where it is read on a linear scale (a target of any sign), else None
    linear_spread: float | None = None
    #: proportions of a mixture that vary (``proportion_domain_1``, ...), all but one where they sum to 1
    mixture: tuple[str, ...] = ()
    #: the unique-data column of each data column it bounds (``{"D": "U"}``: D >= U in every run)
    unique: tuple[tuple[str, str], ...] = ()

    @property
    def amplitude(self) -> float:
        """The size of the loss's terms above its limit: the median loss (log scale), or the median's
        height above the smallest target plus half the spread (linear scale: the limit may be < 0)."""
        if self.linear_spread is None:
            return self.y_med
        return self.y_med - self.y_min + 0.5 * self.linear_spread

    def l_range(self, var: str) -> tuple[float, float]:
        lo, hi = self.ranges[var]
        return (lo, hi) if scale(var) == "linear" else (math.log(lo), math.log(hi))

    def is_count(self, var: str) -> bool:
        return scale(var) == "log" and self.ranges[var][0] >= 1

    def varies(self, var: str) -> bool:
        lo, hi = self.ranges[var]
        return hi > lo


def _l(var: str) -> sp.Expr:
    """The variable on its own scale: ``ln x`` for positive variables, ``x`` for bounded ratios."""
    x = symbol(var)
    return x if scale(var) == "linear" else sp.log(x)


def _sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def build(form: Form, ctx: _Context) -> tuple[Law, dict[str, float], list[dict[str, float]]]:
    """The law of a form, its neutral start values, and extra start points for its new blocks.

    Returns ``(law, neutral, alternatives)``: ``neutral`` sets every modifier to its identity (so a
    child started there equals its parent), ``alternatives`` are a few other values of hook centres.
    """
    params: list[Param] = []
    neutral: dict[str, float] = {}
    alts: list[dict[str, float]] = []

    def par(name: str, init: tuple[float, float], bounds=(None, None), log: bool = False, start: float | None = None):
        params.append(Param(name, init, bounds, log))
        neutral[name] = start if start is not None else (math.sqrt(init[0] * init[1]) if log else sum(init) / 2)
        return _sym(name)

    def centre(name: str, var_l: tuple[float, float]) -> sp.Symbol:
        lo, hi = var_l
        pad = 0.5 * (hi - lo)
        sym = par(name, (lo, hi), (lo - pad, hi + pad), start=(lo + hi) / 2)
        for q in (0.2, 0.8):
            alts.append({name: lo + q * (hi - lo)})
        return sym

    if ctx.linear_spread is None:
        E0 = par("E0", (0.1 * ctx.y_min, 0.9 * ctx.y_min), (0.0, None), start=0.5 * ctx.y_min)
    else:  # a limit of any sign, below the smallest target
        s = ctx.linear_spread
        E0 = par("E0", (ctx.y_min - 2 * s, ctx.y_min), (None, None), start=ctx.y_min - 0.5 * s)
    expr = E0
    principal = form.model[0] if form.model else None

    # the model term
    if form.model:
        # A such that the term is 40 % of the median loss at the data's geometric middle, for exponents
        # that add up to 0.3
        share = 0.3 / len(form.model)
        mid = sum(0.5 * math.log(ctx.ranges[v][0] * ctx.ranges[v][1]) for v in form.model)
        A_mid = 0.4 * ctx.amplitude * math.exp(share * mid)
        A = par("A", (A_mid / 30, A_mid * 30), (1e-30, None), log=True, start=A_mid)
        term = A
        for i, v in enumerate(form.model):
            name = "alpha" if i == 0 else f"alpha_{v}"
            alpha = par(name, (0.05, 0.8), (1e-4, 3.0), start=share)
            size = symbol(v)
            if i == 0:
                for b in form.blocks:
                    if b.kind == "exponent":
                        alpha = alpha + par(f"q_{b.var}", (-0.05, 0.05), (-1.0, 1.0), start=0.0) * _l(b.var)
                    elif b.kind == "neff":
                        # an effective size that grows with the log of a count: parallel or ensemble
                        # width (ParScale: N_eff = N (1 + k ln P))
                        size = size * (1 + par(f"k_{b.var}", (0.0, 0.5), (0.0, 100.0), start=0.0) * _l(b.var))
            term = term * size ** (-alpha)
        expr = expr + term * _modifiers(form, ctx, par, centre)
    # the data term
    if form.data:
        lo, hi = ctx.ranges[form.data]
        B_mid = 0.4 * ctx.amplitude * math.sqrt(lo * hi) ** 0.3
        B = par("B", (B_mid / 30, B_mid * 30), (1e-30, None), log=True, start=B_mid)
        beta = par("beta", (0.05, 0.8), (1e-4, 3.0), start=0.3)
        for b in form.blocks:
            if b.kind == "dexponent":
                beta = beta + par(f"z_{b.var}", (-0.05, 0.05), (-1.0, 1.0), start=0.0) * _l(b.var)
        d = symbol(form.data)
        for b in form.blocks:
            if b.kind == "repeat":
                # Muennighoff et al. 2023: repeated epochs of U unique tokens are worth
                # U (1 + R* (1 - exp(-(D/U - 1) / R*))) fresh tokens, saturating at U (1 + R*)
                u = symbol(b.other)
                rstar = par(f"R_{b.other}", (2.0, 50.0), (0.05, 1e4), log=True, start=15.0)
                d = u * (1 + rstar * (1 - sp.exp(-(d / u - 1) / rstar)))
        dterm = B * d ** (-beta)
        if principal is None:
            dterm = dterm * _modifiers(form, ctx, par, centre)
        expr = expr + dterm
    # additive hooks
    for b in form.blocks:
        if b.kind == "additive":
            k = par(f"k_{b.var}", (0.0, 0.3), (0.0, None), start=0.0)
            c = centre(f"c_{b.var}", ctx.l_range(b.var))
            expr = expr + k * (_l(b.var) - c) ** 2
        elif b.kind == "mhook":
            # a hook whose optimum moves with model size and data: ln x* = c + m ln(s/s0) + n ln(d/d0)
            # (the learning-rate and batch-size laws: lr* ~ N^m D^n, bsz* ~ D^n)
            k = par(f"k_{b.var}", (0.0, 0.3), (0.0, None), start=0.0)
            c = centre(f"c_{b.var}", ctx.l_range(b.var))
            moving = c
            for role, v in zip(("m", "n"), b.other.split(",")):
                if v:
                    moving = moving + par(f"{role}_{b.var}", (-0.5, 0.5), (-3.0, 3.0), start=0.0) * \
                        sp.log(symbol(v) / _round_ref(ctx.ranges[v]))
            expr = expr + k * (_l(b.var) - moving) ** 2
        elif b.kind == "plog":
            # a domain's own proportion with a floor (data-mixing laws): -w ln(x + x0)
            w = par(f"w_{b.var}", (-0.1, 0.1), (-10.0, 10.0), start=0.0)
            x0 = par(f"{b.var}_floor", (0.01, 0.3), (1e-4, 10.0), log=True, start=0.05)
            expr = expr - w * sp.log(symbol(b.var) + x0)
        elif b.kind == "mix" and not form.model and not form.data:
            # exp-linear in the proportions (Ye et al. 2024's data-mixing law) as a term of its own
            A = par("A_mix", (0.05 * ctx.amplitude, ctx.amplitude), (0.0, None), log=False, start=0.3 * ctx.amplitude)
            expr = expr + A * _mixture(ctx, par)
    variables = tuple(v for v in ctx.features if symbol(v) in expr.free_symbols)
    law = Law("grammar", expr, variables, tuple(params), "lawfind grammar engine: " + form.describe(), "ours")
    return law, neutral, alts


def _modifiers(form: Form, ctx: _Context, par, centre) -> sp.Expr:
    """The product of the model-term modifiers of ``form``."""
    out = sp.Integer(1)
    for b in sorted(form.blocks):
        x, l = symbol(b.var), _l(b.var)
        if b.kind == "power":
            p = par(f"p_{b.var}", (-0.2, 0.2), (-3.0, 3.0), start=0.0)
            out *= x ** (-p) if scale(b.var) == "log" else sp.exp(-p * x)
        elif b.kind == "hook":
            u1 = par(f"u1_{b.var}", (-0.3, 0.3), (-10.0, 10.0), start=0.0)
            u2 = par(f"u2_{b.var}", (-0.05, 0.1), (-10.0, 10.0), start=0.0)
            out *= sp.exp(u1 * l + u2 * l ** 2)
        elif b.kind == "qhook":
            h = par(f"h_{b.var}", (0.0, 0.2), (0.0, 50.0), start=1e-3)
            c = centre(f"c_{b.var}", ctx.l_range(b.var))
            out *= 1 + h * (l - c) ** 2
        elif b.kind == "shook":
            # a hook whose centre moves with a size variable s (``other``): x* = exp(c + m ln(s / s_ref)),
            # the question whether an optimum (G*, S*) depends on N
            ref = _round_ref(ctx.ranges[b.other])
            h = par(f"h_{b.var}", (0.0, 0.2), (0.0, 50.0), start=1e-3)
            c = centre(f"c_{b.var}", ctx.l_range(b.var))
            m = par(f"m_{b.var}", (-0.3, 0.3), (-3.0, 3.0), start=0.0)
            out *= 1 + h * (l - c - m * sp.log(symbol(b.other) / ref)) ** 2
        elif b.kind == "sat":
            # Clark et al. 2022: 1/Ehat = 1/(x - 1 + (1/x_start - 1/x_max)^-1) + 1/x_max
            p = par(f"p_{b.var}", (0.02, 0.3), (0.0, 3.0), start=0.0)
            lo, hi = ctx.ranges[b.var]
            xs = par(f"{b.var}_start", (1.5, 10.0), (1.0001, 1e4), log=True, start=2.0)
            xm = par(f"{b.var}_max", (2 * hi, 100 * hi), (1.01 * lo + 1, 1e9), log=True, start=10 * hi)
            ehat = 1 / (1 / (x - 1 + 1 / (1 / xs - 1 / xm)) + 1 / xm)
            out *= ehat ** (-p)
        elif b.kind == "mix":
            out *= _mixture(ctx, par)
        elif b.kind == "ratio":
            y = symbol(b.other)
            lo = math.log(ctx.ranges[b.other][0] / ctx.ranges[b.var][1])
            hi = math.log(ctx.ranges[b.other][1] / ctx.ranges[b.var][0])
            h = par(f"h_{b.other}_{b.var}", (0.0, 0.2), (0.0, 50.0), start=1e-3)
            c = centre(f"c_{b.other}_{b.var}", (lo, hi))
            out *= 1 + h * (sp.log(y / x) - c) ** 2
    return out


def _mixture(ctx: _Context, par) -> sp.Expr:
    """``exp(sum_j t_j x_j)`` over the mixture's proportions (one left out where they sum to one)."""
    return sp.exp(sp.Add(*(par(f"t_{v}", (-1.0, 1.0), (-20.0, 20.0), start=0.0) * symbol(v) for v in ctx.mixture)))


def _round_ref(rng: tuple[float, float]) -> sp.Rational:
    """The geometric middle of a range, to two significant digits, as an exact number (a readable
    reference size: ``log(N/320000000)``)."""
    return sp.Rational(f"{math.sqrt(rng[0] * rng[1]):.1e}")


def base_forms(ctx: _Context) -> list[Form]:
    """Plain power laws: one size variable with the data term (or without, where there is none)."""
    data = next((d for d in ctx.roles.data if ctx.varies(d)), None)
    sizes = [v for v in ctx.roles.size if ctx.varies(v)]
    if not sizes and data is None:
        sizes = [v for v in ctx.features if scale(v) == "log" and ctx.varies(v)][:1]
    forms = [Form((v,), data) for v in sizes]
    return forms or [Form((), data)]


def expand(form: Form, ctx: _Context) -> list[Form]:
    """Every form with one more block (or one more size variable in the model term)."""
    out: list[Form] = []
    used = {(b.kind, b.var) for b in form.blocks}
    on_model = {b.var for b in form.blocks if b.kind in MODEL_KINDS}
    shapes = [v for v in ctx.roles.shape if ctx.varies(v)]
    sizes = [v for v in ctx.roles.size if ctx.varies(v)]

    def add(block: Block) -> None:
        out.append(replace(form, blocks=tuple(sorted((*form.blocks, block)))))

    for v in sizes:  # coupling: another size variable in the product, or a count that enlarges the model
        if form.model and v not in form.model and v not in on_model:
            out.append(replace(form, model=(*form.model, v)))
            if ctx.is_count(v):
                add(Block("neff", v))
    for v in shapes:
        if (form.model or form.data) and v not in on_model:
            for kind in ("power", "hook", "qhook"):
                add(Block(kind, v))
            for size in sizes if form.model else ():
                add(Block("shook", v, size))
            if ctx.is_count(v):
                add(Block("sat", v))
                if form.model:
                    add(Block("neff", v))
        if form.model and ("exponent", v) not in used and scale(v) == "log":
            add(Block("exponent", v))
        if form.data and form.model and ("dexponent", v) not in used and scale(v) == "log":
            add(Block("dexponent", v))
        if ("additive", v) not in used and ("mhook", v) not in used:
            add(Block("additive", v))
    moving = ",".join([form.model[0] if form.model else "", form.data or ""])
    for v in shapes:  # a hook whose optimum moves with size and data
        if moving != "," and ("mhook", v) not in used and ("additive", v) not in used and scale(v) == "log":
            add(Block("mhook", v, moving))
        if moving != "," and ("additive", v) in used and scale(v) == "log":
            # a fixed hook whose centre starts to move (from the parent's optimum: a fixed hook often wins
            # the first depth, while other variables' effects still hide the centre's drift)
            kept = tuple(b for b in form.blocks if (b.kind, b.var) != ("additive", v))
            out.append(replace(form, blocks=tuple(sorted((*kept, Block("mhook", v, moving))))))
        if is_proportion(v) and ("plog", v) not in used:
            add(Block("plog", v))
    if len(ctx.mixture) >= 1 and ("mix", "") not in used:
        add(Block("mix", ""))
    if form.data and form.model:  # a data exponent that moves with model size (Farseer)
        for v in form.model:
            if ("dexponent", v) not in used:
                add(Block("dexponent", v))
    for d, u in ctx.unique:
        if form.data == d and ("repeat", d) not in used:
            add(Block("repeat", d, u))
    if form.model:
        logs = [v for v in (*sizes, *shapes) if scale(v) == "log"]
        for i, a in enumerate(logs):
            for b in logs[i + 1:]:
                same_role = (a in sizes) == (b in sizes)
                if same_role and ("ratio", a) not in used and ("ratio", b) not in used:
                    add(Block("ratio", a, b))
    return out


def _mixture_of(table: RunTable, roles: Roles) -> tuple[str, ...]:
    """The proportions of a mixture that vary (at least two), less the last where every run's sum to one
    (its weight is then the others' complement, and a coefficient for it would not be identified)."""
    props = [v for v in table.features if is_proportion(v) and v not in roles.free and table.frame[v].nunique() > 1]
    if len(props) < 2:
        return ()
    total = table.frame[props].sum(axis=1).to_numpy()
    return tuple(props[:-1]) if np.allclose(total, 1.0, atol=1e-6) else tuple(props)


def _unique_pairs(table: RunTable, roles: Roles) -> tuple[tuple[str, str], ...]:
    """``(D, U)`` for a data column ``D`` and a unique-data column ``U`` with ``D >= U`` in every run
    and epochs above one somewhere: the repeated-data block applies."""
    cols = dict(roles.columns)
    unique = [v for v in roles.data if is_unique(v) or is_unique(cols.get(v, v))]
    out = []
    for d in (v for v in roles.data if v not in unique):
        for u in unique:
            epochs = table.frame[d].to_numpy(float) / table.frame[u].to_numpy(float)
            if np.all(epochs >= 1 - 1e-9) and epochs.max() > 1.5:
                out.append((d, u))
    return tuple(out)


@dataclass(frozen=True)
class _Node:
    form: Form
    law: Law
    fit: FitResult
    bic: float


@dataclass(frozen=True)
class GrammarEngine:
    """Beam search over structured scaling-law forms (see the module's docstring).

    Parameters
    ----------
    beam:
        Forms kept at each depth.
    max_depth:
        Blocks added at most.
    time_budget:
        Seconds at most (the search stops expanding once spent); ``None``: depth and beam only.
    seed:
        Seed of the fits' starts.
    decreasing:
        Columns that grow with the model size (the loss must not rise with them), beside ``N, Na``.
    roles:
        Declared roles, ``((column, "size"|"data"|"hook"|"free"), ...)`` (:meth:`lawfind.admissible.Roles.infer`).
    factor:
        How far beyond the data a form's shape is checked (:func:`lawfind.admissible.check_admissible`).
    n_keep:
        Candidates returned (the best by BIC, and the best of every number of constants).
    n_jobs:
        Processes fitting the children of a depth (default: the cores).
    """

    beam: int = 4
    max_depth: int = 4
    time_budget: float | None = None
    seed: int = 0
    decreasing: tuple[str, ...] = ()
    roles: tuple[tuple[str, str], ...] = ()
    factor: float = EXTRAPOLATION_FACTOR
    n_keep: int = 30
    n_jobs: int | None = None
    name: str = field(default="grammar", init=False)
    OPTIONS: ClassVar[frozenset[str]] = frozenset({"beam", "max_depth", "time_budget", "seed", "decreasing", "roles",
                                                   "factor", "n_keep", "n_jobs"})

    def __post_init__(self) -> None:
        if self.beam < 1 or self.max_depth < 0 or self.n_keep < 1:
            raise OptionError("the grammar engine needs beam >= 1, max_depth >= 0 and n_keep >= 1")

    def search(self, table: RunTable, *, progress: Progress | None = None) -> list[Candidate]:
        t0 = time.monotonic()
        roles = Roles.of(table, self.decreasing, dict(self.roles))
        ctx = _Context(tuple(table.features), roles, table.ranges(), float(table.y.min()), float(np.median(table.y)),
                       table.spread if table.scale == "linear" else None, _mixture_of(table, roles),
                       _unique_pairs(table, roles))
        seen: dict[str, _Node] = {}

        def out_of_time() -> bool:
            return self.time_budget is not None and time.monotonic() - t0 > self.time_budget

        beam = [n for n in (self._fit(f, ctx, table, None) for f in base_forms(ctx)) if n is not None]
        for n in beam:
            seen[n.form.key()] = n
        beam = sorted(beam, key=lambda n: n.bic)[: self.beam]
        for depth in range(1, self.max_depth + 1):
            children: dict[str, tuple[Form, _Node]] = {}
            for parent in beam:
                for f in expand(parent.form, ctx):
                    if f.key() not in seen and f.key() not in children:
                        children[f.key()] = (f, parent)
            pairs = list(children.values())
            if out_of_time():
                break
            tick = None if progress is None else (lambda d, t, k=depth: progress(d, t, f"depth {k}"))
            deadline = None if self.time_budget is None else t0 + self.time_budget
            nodes = parallel_map(lambda fp: self._fit(fp[0], ctx, table, fp[1]), pairs, self.n_jobs, tick, deadline)
            fitted = [(n, p) for n, (_, p) in zip(nodes, pairs) if n is not None]
            for n, _ in fitted:
                seen[n.form.key()] = n
            better = [n for n, p in fitted if n.bic < p.bic - 2.0]  # a real improvement, not noise
            if not better or out_of_time():
                break
            beam = sorted(better, key=lambda n: n.bic)[: self.beam]
        if progress:
            progress(1, 1, f"{len(seen)} forms fitted")
        nodes = sorted(seen.values(), key=lambda n: n.bic)
        keep = nodes[: self.n_keep]
        for k in sorted({n.fit.n_params for n in nodes}):  # the best of each size, for the front
            best_k = next(n for n in nodes if n.fit.n_params == k)
            if best_k not in keep:
                keep.append(best_k)
        return [Candidate(n.law.expr, "grammar", n.form.describe(), 0, law=n.law,
                          start={p: n.fit.values[p] for p in n.law.param_names}, engine=self.name) for n in keep]

    def _fit(self, form: Form, ctx: _Context, table: RunTable, parent: _Node | None) -> _Node | None:
        try:
            law, neutral, alts = build(form, ctx)
        except (ValueError, ZeroDivisionError):
            return None
        if law.n_params >= len(table) - 2:
            return None
        starts = [neutral]
        if parent is not None:
            inherited = {**neutral, **{k: v for k, v in parent.fit.values.items() if k in neutral}}
            starts = [inherited] + [{**inherited, **a} for a in alts]
        try:
            # a child's fit ranks it in the beam (its candidates are refitted when scored): the two best of
            # its short runs are run to convergence
            fit = fit_law(law, table, n_starts=24 if parent is None else 2, seed=self.seed, initial=starts,
                          polish=12 if parent is None else 2)
        except FitError:
            return None
        verdict = check_admissible(law, fit.values, table, ctx.roles, factor=self.factor, symbolic=False)
        if not verdict.ok:
            return None
        bic = log_fit_stats(table.y, fit.predict(table), fit.n_params, table.scale)[2]
        return _Node(form, law, fit, bic) if math.isfinite(bic) else None

