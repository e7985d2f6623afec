"""Stationary points of a fitted law in one variable: closed forms where sympy finds them.

The law's expression keeps its parameters as symbols, so a closed form reads in the law's own
constants (``G* = exp(-g1/(2 g2))``) and its dependence on the other variables is visible; numbers
are substituted afterwards. Where sympy finds no closed form in time, a bounded numeric search takes
over and the result says so. Bootstrap replicates of the parameters give intervals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import sympy as sp
from scipy.optimize import minimize_scalar

from ..errors import FormulaError, OptionError
from ..laws import Law, identifiers, parse_law
from ..symbols import in_domain, interpolate, scale, symbol
from .results import Optimum
from .solve import SOLVE_TIMEOUT, real, solve_with_timeout, substitute

__all__ = ["reparametrise", "stationary_point"]


def reparametrise(expr: sp.Expr, spec: str | None) -> tuple[sp.Expr, dict[str, sp.Expr]]:
    """Apply ``"Na=r*N"``: a variable replaced by an expression, whose new names are new variables."""
    if not spec:
        return expr, {}
    name, sep, rhs = spec.partition("=")
    name = name.strip()
    if not sep or not name:
        raise OptionError(f"cannot read the reparametrisation '{spec}': write VARIABLE=EXPRESSION, e.g. 'Na=r*N'")
    old = next((s for s in expr.free_symbols if s.name == name), None)
    if old is None:
        raise OptionError(f"the law has no variable '{name}' to reparametrise")
    try:
        new = parse_law(rhs, sorted(identifiers(rhs)), strict=True, allow_constant=True).expr
    except FormulaError as exc:
        raise OptionError(f"cannot read the reparametrisation '{spec}': {exc}") from None
    return expr.xreplace({old: new}), {name: new}


def _domain_ok(name: str, v: float) -> bool:
    return bool(in_domain(name, v))


def stationary_point(
    law: Law,
    values: Mapping[str, float],
    variable: str,
    *,
    at: Mapping[str, float] | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    reparam: str | None = None,
    bootstrap: Sequence[Mapping[str, float]] = (),
    timeout: float = SOLVE_TIMEOUT,
) -> Optimum:
    """Solve dL/dx = 0 for ``variable``; closed form where sympy finds one, numeric otherwise.

    Parameters
    ----------
    law, values:
        The law and its fitted constants.
    variable:
        The variable to optimise (after ``reparam``, e.g. ``r`` for ``"Na=r*N"``).
    at:
        Values of the other variables (needed where the optimum depends on them; default: the
        geometric middle of ``ranges``).
    ranges:
        The data's range of each variable, to flag an optimum outside it and to bound numeric search.
    bootstrap:
        Parameter replicates (one mapping each) for a percentile interval.
    """
    expr, replaced = reparametrise(law.expr, reparam)
    x = next((s for s in expr.free_symbols if s.name == variable), None)
    if x is None:
        names = sorted(s.name for s in expr.free_symbols if s.name not in law.param_names)
        raise OptionError(f"the law does not depend on '{variable}'; its variables: {', '.join(names)}")
    ranges = dict(ranges or {})
    if reparam and variable not in ranges:
        ranges.update(_derived_range(replaced, variable, ranges))
    others = sorted(s.name for s in expr.free_symbols if s.name not in law.param_names and s.name != variable)
    point = {v: interpolate(v, *ranges[v], 0.5) for v in others if v in ranges}
    point.update(at or {})
    missing = [v for v in others if v not in point]
    numbers = {**values, **point}
    grad = sp.diff(expr, x)
    roots = solve_with_timeout(grad, x, timeout)
    notes = []
    chosen = None
    if roots:
        cands = []
        for root in roots:
            if x in root.free_symbols:
                continue
            v = real(substitute(root, numbers)) if not missing or not (root.free_symbols & {symbol(m) for m in missing}) else None
            if v is not None and _domain_ok(variable, v):
                cands.append((root, v))
        if cands:
            chosen = min(cands, key=lambda rv: (not _in(ranges.get(variable), rv[1]), -_curv(expr, x, rv[1], numbers)))
    if roots is None:
        notes.append("sympy found no closed form in time")
    if chosen is not None:
        root, value = chosen
        curv = _curv(expr, x, value, numbers)
        kind = "minimum" if curv > 0 else "maximum" if curv < 0 else "flat"
        deps = sorted(s.name for s in root.free_symbols if s.name not in law.param_names)
        method, closed = "closed form", sp.simplify(root)
    else:
        value, kind = _numeric_opt(expr, x, variable, numbers, ranges, others, missing)
        closed, method = None, "numeric"
        deps = _numeric_dependence(expr, x, variable, numbers, ranges, others) if kind != "none" else []
        if kind == "none":
            notes.insert(0, f"L is monotonic in {variable} over the searched range")
    rng = ranges.get(variable)
    ivl = None
    if bootstrap and kind == "none":
        interior = 0
        for theta in bootstrap:
            _, k = _numeric_opt(expr, x, variable, {**theta, **point}, ranges, others, missing)
            interior += k != "none"
        notes.append(f"{len(bootstrap) - interior} of {len(bootstrap)} bootstrap replicates also have no interior optimum")
    if bootstrap and kind != "none":
        reps = []
        for theta in bootstrap:
            nb = {**theta, **point}
            if closed is not None:
                v = real(substitute(closed, nb))
            else:
                v, k = _numeric_opt(expr, x, variable, nb, ranges, others, missing)
                v = v if k == kind else None
            if v is not None:
                reps.append(v)
        if len(reps) >= 10:
            ivl = (float(np.percentile(reps, 2.5)), float(np.percentile(reps, 97.5)))
        if len(reps) < len(bootstrap):
            notes.append(f"{len(bootstrap) - len(reps)} of {len(bootstrap)} replicates had no such optimum")
    independent = sorted(v for v in others if v not in deps) if kind != "none" else []
    return Optimum(variable, closed, float(value), method, kind, tuple(deps), tuple(independent), rng,
                   None if rng is None or kind == "none" else bool(_in(rng, value)), ivl,
                   None if closed is None else substitute(closed, values), tuple(notes))


def _in(rng, v) -> bool:
    return rng is None or (rng[0] <= v <= rng[1])


def _derived_range(replaced: Mapping[str, sp.Expr], variable: str, ranges) -> dict[str, tuple[float, float]]:
    """The range of a new variable, e.g. ``r`` in ``Na=r*N`` from the ranges of Na and N."""
    for name, new in replaced.items():
        if name in ranges and "N" in ranges and new == symbol(variable) * symbol("N"):
            lo = ranges[name][0] / ranges["N"][1]
            hi = min(1.0, ranges[name][1] / ranges["N"][0])
            return {variable: (lo, hi)}
    return {}


def _curv(expr, x, value, numbers) -> float:
    second = substitute(sp.diff(expr, x, 2), numbers).xreplace({x: sp.Float(value)})
    v = real(second)
    return 0.0 if v is None else v


def _numeric_opt(expr, x, name, numbers, ranges, others, missing) -> tuple[float, str]:
    if missing:
        raise OptionError(f"give the values of {', '.join(missing)} with --at (the optimum may depend on them)")
    f = sp.lambdify(x, substitute(expr, numbers), "numpy")
    linear = scale(name) == "linear"
    lo, hi = ranges.get(name, (0.0, 0.999) if linear else (1e-3, 1e3))
    if linear:
        a, b = 0.0, 0.999
        g = lambda t: float(f(t))  # noqa: E731
    else:
        a, b = math.log(lo) - math.log(10), math.log(hi) + math.log(10)  # a decade beyond the data
        if name in ("r",):
            b = min(b, 0.0)  # an activation ratio Na/N is at most 1
        g = lambda t: float(f(math.exp(t)))  # noqa: E731
    grid = np.linspace(a, b, 201)
    with np.errstate(all="ignore"):
        vals = np.array([g(t) for t in grid])
    if not np.isfinite(vals).any():
        return float("nan"), "none"
    i = int(np.nanargmin(vals))
    if i in (0, len(grid) - 1):
        return float(grid[i] if linear else math.exp(grid[i])), "none"
    res = minimize_scalar(g, bounds=(grid[i - 1], grid[i + 1]), method="bounded", options={"xatol": 1e-10})
    return float(res.x if linear else math.exp(res.x)), "minimum"


def _numeric_dependence(expr, x, name, numbers, ranges, others) -> list[str]:
    base, _ = _numeric_opt(expr, x, name, numbers, ranges, others, [])
    deps = []
    for v in others:
        moved = dict(numbers)
        moved[v] = numbers[v] * 2 if scale(v) == "log" else min(0.9, numbers[v] + 0.2)
        new, kind = _numeric_opt(expr, x, name, moved, ranges, others, [])
        if kind != "none" and abs(new - base) > 1e-6 * max(abs(base), 1e-12):
            deps.append(v)
    return deps


