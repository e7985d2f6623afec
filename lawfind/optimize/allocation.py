"""Compute-optimal allocation under a budget, the cheapest configuration for a loss, and the
efficiency leverage of a MoE law over a dense one.

The allocation is a Lagrangian by elimination: the budget ``cost = C`` gives one variable in terms of
the other, and sympy solves dL/dx = 0 for the rest, in closed form where it can (Chinchilla's
``N_opt = G (C/6)^(b/(a+b))``), numerically at a budget otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import sympy as sp
from scipy.optimize import brentq, minimize, minimize_scalar

from ..errors import FormulaError, OptionError
from ..laws import Law, parse_law
from ..symbols import CANONICAL, canonical, symbol
from .results import Allocation
from .solve import SOLVE_TIMEOUT, real, solve_with_timeout, substitute

__all__ = ["compute_optimal", "cheapest_config", "efficiency_leverage", "parse_cost"]


def parse_cost(cost: str, variables: Sequence[str] = ()) -> sp.Expr:
    """The cost as an expression in the canonical variables and ``variables`` (no constants to fit);
    a plain number is a constant cost (every run counts the same)."""
    try:
        return sp.Float(float(cost))
    except (TypeError, ValueError):
        pass
    try:
        return parse_law(cost, (*CANONICAL, *(v for v in variables if v not in CANONICAL)), strict=True,
                         allow_constant=True).expr
    except FormulaError as exc:
        raise FormulaError(f"cannot read the cost '{cost}' (write e.g. '6*Na*D'): {exc}") from None


def evaluate_cost(expr: sp.Expr, columns: Mapping[str, np.ndarray | float]) -> np.ndarray:
    """A cost (:func:`parse_cost`) at the points given by ``columns`` (one array or number per variable
    the cost uses; numpy's floating-point warnings silenced)."""
    names = sorted(s.name for s in expr.free_symbols)
    f = sp.lambdify([symbol(n) for n in names], expr, "numpy")
    with np.errstate(all="ignore"):
        return np.asarray(f(*(columns[n] for n in names)), dtype=float)


def run_costs(cost: str, frame, what: str = "the runs") -> np.ndarray:
    """The cost formula ``cost`` at every row of ``frame`` (a DataFrame with a column per variable the
    cost uses), one positive finite number per row; ``what`` names the rows in errors."""
    expr = parse_cost(cost)
    names = sorted(s.name for s in expr.free_symbols)
    missing = [v for v in names if v not in frame.columns]
    if missing:
        raise OptionError(f"the cost '{cost}' uses {missing}, which {what} lack (they have "
                          f"{', '.join(map(str, frame.columns))})")
    c = np.broadcast_to(evaluate_cost(expr, {v: frame[v].to_numpy(float) for v in names}), (len(frame),))
    if not np.all(np.isfinite(c) & (c > 0)):
        raise OptionError(f"the cost '{cost}' is not positive and finite at every one of {what}")
    return c.copy()


def compute_optimal(
    law: Law,
    values: Mapping[str, float] | None = None,
    *,
    cost: str = "6*N*D",
    allocate: Sequence[str] = ("N", "D"),
    at: Mapping[str, float] | None = None,
    budget: float | None = None,
    bootstrap: Sequence[Mapping[str, float]] = (),
    timeout: float = SOLVE_TIMEOUT,
) -> Allocation:
    """Minimise L subject to ``cost = C`` over two variables (Lagrangian by elimination).

    The last variable of ``allocate`` is eliminated through the budget; sympy then solves
    dL/dx = 0 for the first, in closed form where it can (Chinchilla's ``N_opt = G (C/6)^(b/(a+b))``),
    numerically at ``budget`` otherwise. With a closed form, parameter replicates (``bootstrap``, one
    mapping each) give 95 % percentile intervals of each exponent in C and of each value at ``budget``.
    """
    if len(allocate) != 2:
        raise OptionError("allocate exactly two variables, e.g. N,D")
    cost_expr = parse_cost(cost, law.variables)
    Csym = symbol("C")
    x, y = symbol(allocate[0]), symbol(allocate[1])
    if y not in cost_expr.free_symbols or x not in cost_expr.free_symbols:
        raise OptionError(f"the cost '{cost}' must involve both {allocate[0]} and {allocate[1]}")
    expr = canonical(law.expr, law.variables)
    y_of = solve_with_timeout(cost_expr - Csym, y, timeout)
    if not y_of:
        raise FormulaError(f"cannot solve the cost '{cost}' for {allocate[1]}")
    y_of = y_of[0]
    reduced = expr.xreplace({y: y_of})
    roots = solve_with_timeout(sp.diff(reduced, x), x, timeout)
    roots = [r for r in (roots or []) if x not in r.free_symbols]
    numbers = dict(values or {})
    numbers.update(at or {})
    forms, exps, vals, intervals = {}, {}, {}, {}
    method = "closed form"
    if roots:
        xo = sp.simplify(roots[0])
        yo = sp.simplify(y_of.xreplace({x: xo}))
        forms = {allocate[0]: xo, allocate[1]: yo}
        for v, e in forms.items():
            k = sp.simplify(Csym * sp.diff(e, Csym) / e)
            kv = real(substitute(k, numbers)) if values is not None else None
            if kv is not None:
                exps[v] = kv
        if budget and values is not None:
            for v, e in forms.items():
                r = real(substitute(e, numbers).xreplace({Csym: sp.Float(budget)}))
                if r is not None:
                    vals[v] = r
        if bootstrap and values is not None:
            intervals = _intervals(forms, numbers, budget, bootstrap, law.param_names)
    elif budget and values is not None:
        method = "numeric"
        at_budget = substitute(reduced, numbers).xreplace({Csym: sp.Float(budget)})
        missing = sorted(s.name for s in at_budget.free_symbols - {x})
        if missing:
            raise OptionError(f"the allocation at a budget needs the values of {', '.join(missing)}: give them "
                              f"with --at, e.g. --at {missing[0]}=...")
        f = sp.lambdify(x, at_budget, "numpy")
        lo, hi = math.log(1e3), math.log(budget)
        res = minimize_scalar(lambda t: float(f(math.exp(t))), bounds=(lo, hi), method="bounded")
        xv = math.exp(res.x)
        if min(res.x - lo, hi - res.x) < 1e-3:  # L keeps falling towards an end of the budget line
            method = f"numeric, at the search's bound {allocate[0]} = {xv:.4g}: no interior optimum"
        vals = {allocate[0]: xv, allocate[1]: float(real(substitute(y_of, numbers).xreplace({x: xv, Csym: budget})))}
    else:
        raise OptionError("no closed form found: give --budget C for a numeric allocation")
    loss = None
    if vals and values is not None:
        loss = real(substitute(expr, {**numbers, **vals}))
    return Allocation(tuple(allocate), cost_expr, forms, exps, vals, budget, loss, method, intervals)


def _intervals(forms: Mapping[str, sp.Expr], numbers: Mapping[str, float], budget: float | None,
               bootstrap: Sequence[Mapping[str, float]], params: Sequence[str]) -> dict[str, tuple[float, float]]:
    """95 % percentile intervals over the replicates of each closed form's exponent in C (key ``v``)
    and of its value at ``budget`` (key ``v@C``); the other variables at ``numbers``."""
    Csym = symbol("C")
    rest = {k: v for k, v in numbers.items() if k not in params}
    syms = [sp.Symbol(p) for p in params]
    theta = np.array([[rep[p] for p in params] for rep in bootstrap], dtype=float).T  # (P, R)
    out = {}
    for v, e in forms.items():
        k = Csym * sp.diff(e, Csym) / e  # the exponent (at the budget: C cancels only after simplifying)
        parts = {v: k.xreplace({Csym: sp.Float(budget)}) if budget else sp.simplify(k)}
        if budget:
            parts[f"{v}@C"] = e.xreplace({Csym: sp.Float(budget)})
        for key, expr in parts.items():
            expr = substitute(expr, rest)
            expr = expr.xreplace({s: sp.Symbol(s.name) for s in expr.free_symbols if s.name in params})
            if (expr.free_symbols - set(syms)) or not len(bootstrap):
                continue  # it depends on a variable not given: no number per replicate
            with np.errstate(all="ignore"):
                reps = np.broadcast_to(np.asarray(sp.lambdify(syms, expr, "numpy")(*theta), dtype=complex),
                                       (len(bootstrap),))
            ok = reps[np.isfinite(reps) & (np.abs(reps.imag) <= 1e-9 * np.maximum(1.0, np.abs(reps.real)))].real
            if len(ok) >= 10:
                out[key] = (float(np.percentile(ok, 2.5)), float(np.percentile(ok, 97.5)))
    return out


def cheapest_config(law: Law, values: Mapping[str, float], target_loss: float, *, cost: str = "6*Na*D",
                    over: Sequence[str] = ("Na", "D"), at: Mapping[str, float] | None = None,
                    bounds: Mapping[str, tuple[float, float]] | None = None) -> dict[str, float]:
    """The configuration of least cost that reaches ``target_loss`` (the efficiency-aware optimum),
    by SLSQP over the logs of ``over`` with the loss as an equality constraint."""
    cost_expr = parse_cost(cost, law.variables)
    expr = substitute(canonical(law.expr, law.variables), {**values, **(at or {})})
    syms = [symbol(v) for v in over]
    rest = (expr.free_symbols | cost_expr.free_symbols) - set(syms)
    if rest - {symbol(k) for k in (at or {})}:
        raise OptionError(f"give the values of {sorted(s.name for s in rest)} with --at")
    fl = sp.lambdify(syms, expr, "numpy")
    fc = sp.lambdify(syms, substitute(cost_expr, at or {}), "numpy")
    b = [(math.log(bounds[v][0]), math.log(bounds[v][1])) if bounds and v in bounds else (math.log(1e3), math.log(1e15))
         for v in over]
    x0 = np.array([(lo + hi) / 2 for lo, hi in b])
    res = minimize(lambda t: math.log(float(fc(*np.exp(t)))), x0, method="SLSQP", bounds=b,
                   constraints=[{"type": "eq", "fun": lambda t: float(fl(*np.exp(t))) - target_loss}],
                   options={"maxiter": 500, "ftol": 1e-12})
    if not res.success or abs(float(fl(*np.exp(res.x))) - target_loss) > 1e-6 * target_loss:
        raise OptionError(f"no configuration within bounds reaches loss {target_loss:g}: {res.message}")
    out = dict(zip(over, np.exp(res.x).tolist()))
    out["cost"] = float(fc(*np.exp(res.x)))
    return out


def efficiency_leverage(moe: Law, moe_values: Mapping[str, float], dense: Law, dense_values: Mapping[str, float],
                        config: Mapping[str, float], *, moe_cost: str = "6*Na*D", dense_cost: str = "6*N*D") -> float:
    """Tian et al. 2025: EL = C_dense / C_moe at equal loss.

    ``C_moe`` is the configuration's cost; ``C_dense`` is the least compute at which the dense law
    reaches the configuration's loss (its compute-optimal frontier, inverted by root finding).
    """
    lm = real(substitute(moe.expr, {**moe_values, **config}))
    cm = real(substitute(parse_cost(moe_cost, moe.variables), config))
    if lm is None or cm is None:
        raise OptionError(f"the configuration must give every variable of the MoE law and its cost: {sorted(config)}")

    alloc = compute_optimal(dense, dense_values, cost=dense_cost)
    C = symbol("C")
    dense_expr = canonical(dense.expr, dense.variables)
    at_c = substitute(dense_expr, dense_values).xreplace({symbol(v): e for v, e in alloc.closed_forms.items()})
    loss_of_c = sp.lambdify(C, substitute(at_c, dense_values), "numpy")

    def frontier(logc: float) -> float:
        return float(loss_of_c(math.exp(logc))) - lm

    lo, hi = math.log(cm) - 20, math.log(cm) + 20
    if frontier(hi) > 0:
        return math.inf  # the dense law never reaches this loss within e^20 times the compute
    if frontier(lo) < 0:
        return 0.0
    return math.exp(brentq(frontier, lo, hi, xtol=1e-12)) / cm
