"""From an engine's raw expression to a readable, refitted law.

The steps, each a small pure function over sympy expressions:

1. :func:`tidy`: rewrite ``exp(a*log(x))`` as ``x**a`` and ``exp(u + v)`` as ``exp(u)*exp(v)``;
   sympy's own canonical form does the rest.
2. :func:`parametrise`: every numeric constant becomes a parameter, started at its value.
3. :func:`refine`: snap constants to simple values (0, +-1, integers, halves) and drop additive
   terms wherever that does not raise the BIC of the robust fit: snapping to 0 prunes a term or a
   factor ``x**0``, snapping to 1 removes a redundant scale.
4. :func:`structure_key`: the same law written with other constants gets the same key, so
   duplicates are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from .data import RunTable
from .errors import FitError
from .fit import FitResult, fit_law
from .laws import Law, Param
from .metrics import log_fit_stats

__all__ = ["tidy", "parametrise", "refine", "structure_key", "complexity", "Refined"]


def tidy(expr: sp.Expr) -> sp.Expr:
    """Rewrite exponentials of logs as powers, and split exponentials of sums."""

    def split_exp(arg: sp.Expr) -> sp.Expr:
        terms = sp.Add.make_args(sp.expand(arg, power_base=False, power_exp=False, log=False, multinomial=False))
        out = sp.Integer(1)
        for t in terms:
            coeff, rest = t.as_coeff_Mul()
            if isinstance(rest, sp.log):
                out *= rest.args[0] ** coeff
            else:
                out *= sp.exp(t)
        return out

    expr = expr.replace(lambda e: isinstance(e, sp.exp), lambda e: split_exp(e.args[0]))
    return sp.powsimp(expr, combine="exp", deep=True)


def complexity(expr: sp.Expr) -> int:
    """Node count of the expression tree (PySR's default complexity)."""
    return sum(1 for _ in sp.preorder_traversal(expr))


def _is_const(x: sp.Basic) -> bool:
    return isinstance(x, sp.Float) and math.isfinite(float(x))


def parametrise(expr: sp.Expr, variables: Sequence[str], name: str = "candidate") -> tuple[Law, dict[str, float]]:
    """Turn every Float of ``expr`` into a parameter ``c0, c1, ...``; return the law and start values."""
    floats = sorted({f for f in expr.atoms(sp.Float) if _is_const(f)}, key=lambda f: sp.default_sort_key(f))
    subs, values, params = {}, {}, []
    for i, f in enumerate(floats):
        v = float(f)
        sym = sp.Symbol(f"c{i}", real=True)
        subs[f] = sym
        values[sym.name] = v
        params.append(_param_for(sym.name, v))
    new = expr.xreplace(subs)
    used = tuple(v for v in variables if v in {s.name for s in new.free_symbols})
    pnames = {s.name for s in new.free_symbols} - set(used)
    params = [p for p in params if p.name in pnames]
    return Law(name, new, used, tuple(params)), {k: values[k] for k in pnames}


def _param_for(name: str, v: float) -> Param:
    """A parameter started near ``v``: log-scaled if positive (so it spans decades), linear if not."""
    if v > 0:
        return Param(name, (v / 2, v * 2), (None, None), log_scale=True)
    if v < 0:
        return Param(name, (2 * v, v / 2))
    return Param(name, (-1.0, 1.0))


def structure_key(law: Law) -> str:
    """A key equal for laws that differ only in the names and values of their parameters."""
    params = sorted((law.symbol(p) for p in law.param_names), key=lambda s: s.name)
    dummies = {p: sp.Symbol("c", real=True) for p in params}
    return sp.srepr(law.expr.xreplace(dummies))


@dataclass(frozen=True)
class Refined:
    """A candidate after refinement: its law, fit on the training runs, and the training BIC."""

    law: Law
    fit: FitResult
    bic: float


def _fit(law: Law, table: RunTable, start: dict[str, float], n_starts: int, seed: int) -> FitResult:
    return fit_law(law, table, n_starts=n_starts, seed=seed, initial=[{k: start[k] for k in law.param_names}])


def _rss_bic(fit: FitResult, table: RunTable) -> float:
    return log_fit_stats(table.y, fit.predict(table), fit.n_params, table.scale)[2]


_SIMPLE = (1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0)


def _snaps(v: float) -> list[float]:
    """Simple values near ``v`` (within 15 %): 0 always, so that every term may be pruned, then
    small integers and halves. Large coefficients are never rounded: that would hide a fitted
    constant without simplifying the law."""
    return [0.0] + [s for s in _SIMPLE if abs(v - s) <= 0.15 * abs(s)]


def refine(law: Law, start: dict[str, float], table: RunTable, *, n_starts: int = 4, seed: int = 0,
           max_rounds: int = 2) -> Refined:
    """Snap constants and prune terms while the training BIC does not rise; return the best law."""
    fit = _fit(law, table, start, n_starts, seed)
    best = Refined(law, fit, _rss_bic(fit, table))
    for _ in range(max_rounds):
        improved = False
        for p in sorted(best.law.param_names, key=lambda n: abs(best.fit.values[n])):
            if p not in best.law.param_names:
                continue
            v = best.fit.values[p]
            for s in _snaps(v):
                trial = _substitute(best.law, {p: s})
                if trial is None:
                    continue
                cand = _try(trial, best.fit.values, table, n_starts, seed)
                if cand is not None and cand.bic <= best.bic + 1e-9:
                    best, improved = cand, True
                    break
        for term in sp.Add.make_args(best.law.expr):
            rest = best.law.expr - term
            if rest == 0 or not rest.free_symbols:
                continue
            trial = _rebuild(best.law, rest)
            if trial is None:
                continue
            cand = _try(trial, best.fit.values, table, n_starts, seed)
            if cand is not None and cand.bic <= best.bic + 1e-9:
                best, improved = cand, True
        if not improved:
            break
    return best


def _substitute(law: Law, values: dict[str, float]) -> Law | None:
    s = {law.symbol(k): (sp.Integer(int(v)) if float(v).is_integer() else sp.Rational(str(v)))
         for k, v in values.items()}
    return _rebuild(law, law.expr.xreplace(s))


def _rebuild(law: Law, expr: sp.Expr) -> Law | None:
    expr = sp.powsimp(expr)
    if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan) or not expr.is_finite and expr.is_finite is not None:
        return None  # e.g. a denominator's constant snapped to 0
    names = {s.name for s in expr.free_symbols}
    variables = tuple(v for v in law.variables if v in names)
    params = tuple(p for p in law.params if p.name in names)
    if not variables or not params:
        return None
    return Law(law.name, expr, variables, params, law.citation, law.certainty, law.reference, law.notes)


def _try(law: Law, values: dict[str, float], table: RunTable, n_starts: int, seed: int) -> Refined | None:
    try:
        fit = _fit(law, table, values, n_starts, seed)
    except FitError:
        return None
    return Refined(law, fit, _rss_bic(fit, table))
