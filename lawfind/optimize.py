"""Optima of a fitted law: stationary points, compute-optimal allocation, efficiency leverage.

Everything is derived with sympy from the law's expression with its parameters as symbols, so a
closed form reads in the law's own constants (``G* = exp(-g1/(2 g2))``) and its dependence on the
other variables is visible; numbers are substituted afterwards. Where sympy finds no closed form in
time, a bounded numeric search takes over and the result says so. Bootstrap replicates of the
parameters give intervals for every optimum.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from scipy.optimize import brentq, minimize, minimize_scalar

from .errors import FormulaError, OptionError
from .laws import Law
from .symbols import symbol

__all__ = ["Optimum", "Allocation", "stationary_point", "compute_optimal", "cheapest_config",
           "efficiency_leverage", "solve_with_timeout", "reparametrise"]

SOLVE_TIMEOUT = 20.0


def _solve_worker(eq_srepr: str, x_srepr: str, q) -> None:
    try:
        eq, x = sp.sympify(eq_srepr), sp.sympify(x_srepr)
        q.put([sp.srepr(r) for r in sp.solve(eq, x)])
    except Exception as exc:  # sympy raises NotImplementedError and others for unsolvable equations
        q.put(f"{type(exc).__name__}: {exc}")


def solve_with_timeout(eq: sp.Expr, x: sp.Symbol, timeout: float = SOLVE_TIMEOUT) -> list[sp.Expr] | None:
    """``sympy.solve(eq, x)`` in a child process; ``None`` if it fails or takes longer than ``timeout``."""
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_solve_worker, args=(sp.srepr(eq), sp.srepr(x), q), daemon=True)
    p.start()
    try:
        out = q.get(timeout=timeout)
    except Exception:  # queue.Empty: sympy is still working
        out = None
    p.kill()
    p.join()
    if not isinstance(out, list):
        return None
    return [sp.sympify(r) for r in out]


def reparametrise(expr: sp.Expr, spec: str | None) -> tuple[sp.Expr, dict[str, sp.Expr]]:
    """Apply ``"Na=r*N"`` (a variable replaced by an expression in new symbols)."""
    if not spec:
        return expr, {}
    name, sep, rhs = spec.partition("=")
    if not sep or not name.strip():
        raise OptionError(f"cannot read the reparametrisation '{spec}': write VARIABLE=EXPRESSION, e.g. 'Na=r*N'")
    idents = {t: symbol(t) for t in re.findall(r"[A-Za-z_]\w*", rhs)}
    try:
        new = sp.sympify(rhs, locals=idents)
    except (sp.SympifyError, SyntaxError, TypeError) as exc:
        raise OptionError(f"cannot parse '{rhs}' in the reparametrisation: {str(exc).strip().splitlines()[-1]}") from None
    old = next((s for s in expr.free_symbols if s.name == name.strip()), None)
    if old is None:
        raise OptionError(f"the law has no variable '{name.strip()}' to reparametrise")
    return expr.xreplace({old: new}), {name.strip(): new}


@dataclass(frozen=True)
class Optimum:
    """A stationary point of the law in one variable.

    Attributes
    ----------
    variable:
        The variable optimised (``G``, ``S``, ``r``, ...).
    closed_form:
        The optimum as an expression in the law's parameters and other variables, or ``None``
        where it was found numerically.
    value:
        Its value at the fitted constants and the given point.
    method:
        ``"closed form"`` or ``"numeric"``.
    kind:
        ``"minimum"``, ``"maximum"`` or ``"none"`` (no interior stationary point: the law is
        monotonic in the variable over the searched range).
    depends_on:
        The other variables the optimum depends on.
    data_range:
        The variable's range in the data, if known; ``in_range`` says whether the optimum is inside.
    interval:
        2.5 and 97.5 % bootstrap percentiles of the optimum, if replicates were given.
    """

    variable: str
    closed_form: sp.Expr | None
    value: float
    method: str
    kind: str
    depends_on: tuple[str, ...]
    independent_of: tuple[str, ...]
    data_range: tuple[float, float] | None = None
    in_range: bool | None = None
    interval: tuple[float, float] | None = None
    numeric_form: sp.Expr | None = None
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line: the optimum, how it was found, and what it depends on."""
        x = f"{self.variable}*"
        if self.kind == "none":
            head = f"{x}: no interior optimum in {self.variable} ({'; '.join(self.notes) or 'monotonic'})"
        else:
            form = f" = {sp.sstr(self.closed_form)}" if self.closed_form is not None else ""
            ci = f" [95% CI {self.interval[0]:.4g}, {self.interval[1]:.4g}]" if self.interval else ""
            head = f"{x}{form} = {self.value:.4g}{ci} ({self.method}, {self.kind}"
            if self.in_range is not None:
                lo, hi = self.data_range
                head += f", {'inside' if self.in_range else 'OUTSIDE'} the data's range [{lo:.4g}, {hi:.4g}]"
            head += ")"
        dep = (f"depends on {', '.join(self.depends_on)}" if self.depends_on else "")
        ind = (f"independent of {', '.join(self.independent_of)}" if self.independent_of else "")
        return head + (": " + "; ".join(t for t in (dep, ind) if t) if (dep or ind) else "")

    def latex(self, precision: int = 3) -> str | None:
        """LaTeX of the optimum (``None`` where there is no interior optimum)."""
        from .export import latex
        if self.kind == "none":
            return None
        lhs = rf"{{{latex(symbol(self.variable), precision, lhs=None)}}}^{{*}}"
        if self.closed_form is None:
            return rf"{lhs} \approx {latex(sp.Float(self.value), precision, lhs=None)}"
        return rf"{lhs} = {latex(self.closed_form, precision, lhs=None)}"

    def as_dict(self) -> dict:
        return {"variable": self.variable, "closed_form": None if self.closed_form is None else sp.sstr(self.closed_form),
                "value": self.value, "method": self.method, "kind": self.kind, "depends_on": list(self.depends_on),
                "independent_of": list(self.independent_of), "data_range": self.data_range, "in_range": self.in_range,
                "interval95": self.interval, "latex": self.latex(), "description": self.describe()}


def _num(expr: sp.Expr, values: Mapping[str, float]) -> sp.Expr:
    return expr.xreplace({s: sp.Float(values[s.name]) for s in expr.free_symbols if s.name in values})


def _real(v: sp.Expr) -> float | None:
    try:
        c = complex(sp.N(v))
    except (TypeError, ValueError):
        return None
    if abs(c.imag) > 1e-9 * max(1.0, abs(c.real)) or not math.isfinite(c.real):
        return None
    return c.real


def _domain_ok(name: str, v: float) -> bool:
    return (0 <= v < 1) if name == "S" else v > 0


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
    expr, _ = reparametrise(law.expr, reparam)
    x = next((s for s in expr.free_symbols if s.name == variable), None)
    if x is None:
        names = sorted(s.name for s in expr.free_symbols if s.name not in law.param_names)
        raise OptionError(f"the law does not depend on '{variable}'; its variables: {', '.join(names)}")
    ranges = dict(ranges or {})
    if reparam and variable not in ranges:
        ranges.update(_derived_range(reparam, variable, ranges))
    others = sorted(s.name for s in expr.free_symbols if s.name not in law.param_names and s.name != variable)
    point = {v: _middle(v, ranges) for v in others if v in ranges}
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
            v = _real(_num(root, numbers)) if not missing or not (root.free_symbols & {symbol(m) for m in missing}) else None
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
                v = _real(_num(closed, nb))
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
                   None if closed is None else _num(closed, values), tuple(notes))


def _in(rng, v) -> bool:
    return rng is None or (rng[0] <= v <= rng[1])


def _middle(v: str, ranges) -> float:
    lo, hi = ranges[v]
    return (lo + hi) / 2 if v == "S" or lo <= 0 else math.sqrt(lo * hi)


def _derived_range(reparam: str, variable: str, ranges) -> dict[str, tuple[float, float]]:
    """The range of a new variable, e.g. ``r`` in ``Na=r*N`` from the ranges of Na and N."""
    name, _, rhs = reparam.partition("=")
    name = name.strip()
    if name in ranges and rhs.replace(" ", "") in (f"{variable}*N", f"N*{variable}") and "N" in ranges:
        lo = ranges[name][0] / ranges["N"][1]
        hi = min(1.0, ranges[name][1] / ranges["N"][0])
        return {variable: (lo, hi)}
    return {}


def _curv(expr, x, value, numbers) -> float:
    second = _num(sp.diff(expr, x, 2), numbers).xreplace({x: sp.Float(value)})
    v = _real(second)
    return 0.0 if v is None else v


def _numeric_opt(expr, x, name, numbers, ranges, others, missing) -> tuple[float, str]:
    if missing:
        raise OptionError(f"give the values of {', '.join(missing)} with --at (the optimum may depend on them)")
    f = sp.lambdify(x, _num(expr, numbers), "numpy")
    lo, hi = ranges.get(name, (0.0, 0.999) if name == "S" else (1e-3, 1e3))
    if name == "S":
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
        return float(grid[i] if name == "S" else math.exp(grid[i])), "none"
    res = minimize_scalar(g, bounds=(grid[i - 1], grid[i + 1]), method="bounded", options={"xatol": 1e-10})
    return float(res.x if name == "S" else math.exp(res.x)), "minimum"


def _numeric_dependence(expr, x, name, numbers, ranges, others) -> list[str]:
    base, _ = _numeric_opt(expr, x, name, numbers, ranges, others, [])
    deps = []
    for v in others:
        moved = dict(numbers)
        moved[v] = numbers[v] * 2 if v != "S" else min(0.9, numbers[v] + 0.2)
        new, kind = _numeric_opt(expr, x, name, moved, ranges, others, [])
        if kind != "none" and abs(new - base) > 1e-6 * max(abs(base), 1e-12):
            deps.append(v)
    return deps


@dataclass(frozen=True)
class Allocation:
    """Compute-optimal allocation under a budget ``cost = C``."""

    variables: tuple[str, ...]
    cost: sp.Expr
    closed_forms: Mapping[str, sp.Expr] = field(default_factory=dict)
    exponents: Mapping[str, float] = field(default_factory=dict)
    values: Mapping[str, float] = field(default_factory=dict)
    budget: float | None = None
    loss: float | None = None
    method: str = "closed form"

    def describe(self) -> str:
        parts = []
        for v in self.variables:
            form = f" = {sp.sstr(self.closed_forms[v])}" if v in self.closed_forms else ""
            exp_ = f", proportional to C^{self.exponents[v]:.4g}" if v in self.exponents else ""
            val = f" = {self.values[v]:.4g} at C = {self.budget:.4g}" if v in self.values and self.budget else ""
            parts.append(f"{v}_opt{form}{val}{exp_}")
        return f"under {sp.sstr(self.cost)} = C ({self.method}): " + "; ".join(parts)

    def latex(self, precision: int = 3) -> list[str]:
        from .export import latex
        return [rf"{{{latex(symbol(v), precision, lhs=None)}}}_{{\mathrm{{opt}}}} = {latex(e, precision, lhs=None)}"
                for v, e in self.closed_forms.items()]


def _parse_cost(cost: str) -> sp.Expr:
    idents = {t: symbol(t) for t in re.findall(r"[A-Za-z_]\w*", cost)}
    try:
        return sp.sympify(cost, locals=idents)
    except (sp.SympifyError, SyntaxError, TypeError) as exc:
        raise FormulaError(f"cannot parse the cost '{cost}': {str(exc).strip().splitlines()[-1]}; write e.g. '6*Na*D'") from None


def compute_optimal(
    law: Law,
    values: Mapping[str, float] | None = None,
    *,
    cost: str = "6*N*D",
    allocate: Sequence[str] = ("N", "D"),
    at: Mapping[str, float] | None = None,
    budget: float | None = None,
    timeout: float = SOLVE_TIMEOUT,
) -> Allocation:
    """Minimise L subject to ``cost = C`` over two variables (Lagrangian by elimination).

    The last variable of ``allocate`` is eliminated through the budget; sympy then solves
    dL/dx = 0 for the first, in closed form where it can (Chinchilla's ``N_opt = G (C/6)^(b/(a+b))``),
    numerically at ``budget`` otherwise.
    """
    if len(allocate) != 2:
        raise OptionError("allocate exactly two variables, e.g. N,D")
    cost_expr = _parse_cost(cost)
    Csym = sp.Symbol("C", positive=True)
    x, y = (law.symbol(v) if v in law.variables else symbol(v) for v in allocate)
    if y not in cost_expr.free_symbols or x not in cost_expr.free_symbols:
        raise OptionError(f"the cost '{cost}' must involve both {allocate[0]} and {allocate[1]}")
    expr = law.expr.xreplace({s: symbol(s.name) for s in law.expr.free_symbols if s.name in law.variables})
    x, y = symbol(allocate[0]), symbol(allocate[1])
    y_of = solve_with_timeout(cost_expr - Csym, y, timeout)
    if not y_of:
        raise FormulaError(f"cannot solve the cost '{cost}' for {allocate[1]}")
    y_of = y_of[0]
    reduced = expr.xreplace({y: y_of})
    roots = solve_with_timeout(sp.diff(reduced, x), x, timeout)
    roots = [r for r in (roots or []) if x not in r.free_symbols]
    numbers = dict(values or {})
    numbers.update(at or {})
    forms, exps, vals = {}, {}, {}
    method = "closed form"
    if roots:
        xo = sp.simplify(roots[0])
        yo = sp.simplify(y_of.xreplace({x: xo}))
        forms = {allocate[0]: xo, allocate[1]: yo}
        for v, e in forms.items():
            k = sp.simplify(Csym * sp.diff(e, Csym) / e)
            kv = _real(_num(k, numbers)) if values else None
            if kv is not None:
                exps[v] = kv
        if budget and values:
            for v, e in forms.items():
                r = _real(_num(e, numbers).xreplace({Csym: sp.Float(budget)}))
                if r is not None:
                    vals[v] = r
    elif budget and values:
        method = "numeric"
        f = sp.lambdify(x, _num(reduced, numbers).xreplace({Csym: sp.Float(budget)}), "numpy")
        res = minimize_scalar(lambda t: float(f(math.exp(t))), bounds=(math.log(1e3), math.log(budget)),
                              method="bounded")
        xv = math.exp(res.x)
        vals = {allocate[0]: xv, allocate[1]: float(_real(_num(y_of, numbers).xreplace({x: xv, Csym: budget})))}
    else:
        raise OptionError("no closed form found: give --budget C for a numeric allocation")
    loss = None
    if vals and values:
        loss = _real(_num(expr, {**numbers, **vals}))
    return Allocation(tuple(allocate), cost_expr, forms, exps, vals, budget, loss, method)


def cheapest_config(law: Law, values: Mapping[str, float], target_loss: float, *, cost: str = "6*Na*D",
                    over: Sequence[str] = ("Na", "D"), at: Mapping[str, float] | None = None,
                    bounds: Mapping[str, tuple[float, float]] | None = None) -> dict[str, float]:
    """The configuration of least cost that reaches ``target_loss`` (the efficiency-aware optimum),
    by SLSQP over the logs of ``over`` with the loss as an equality constraint."""
    cost_expr = _parse_cost(cost)
    expr = _num(law.expr.xreplace({s: symbol(s.name) for s in law.expr.free_symbols}), {**values, **(at or {})})
    syms = [symbol(v) for v in over]
    rest = (expr.free_symbols | cost_expr.free_symbols) - set(syms)
    if rest - {symbol(k) for k in (at or {})}:
        raise OptionError(f"give the values of {sorted(s.name for s in rest)} with --at")
    fl = sp.lambdify(syms, expr, "numpy")
    fc = sp.lambdify(syms, _num(cost_expr, at or {}), "numpy")
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
    lm = _real(_num(moe.expr.xreplace({s: symbol(s.name) for s in moe.expr.free_symbols}), {**moe_values, **config}))
    cm = _real(_num(_parse_cost(moe_cost), config))
    if lm is None or cm is None:
        raise OptionError(f"the configuration must give every variable of the MoE law and its cost: {sorted(config)}")

    alloc = compute_optimal(dense, dense_values, cost=dense_cost)
    C = sp.Symbol("C", positive=True)
    dense_expr = dense.expr.xreplace({s: symbol(s.name) for s in dense.expr.free_symbols})
    at_c = _num(dense_expr, dense_values).xreplace({symbol(v): e for v, e in alloc.closed_forms.items()})
    loss_of_c = sp.lambdify(C, _num(at_c, dense_values), "numpy")

    def frontier(logc: float) -> float:
        return float(loss_of_c(math.exp(logc))) - lm

    lo, hi = math.log(cm) - 20, math.log(cm) + 20
    if frontier(hi) > 0:
        return math.inf  # the dense law never reaches this loss within e^20 times the compute
    if frontier(lo) < 0:
        return 0.0
    return math.exp(brentq(frontier, lo, hi, xtol=1e-12)) / cm
