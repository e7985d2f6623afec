"""Effects of each variable in a fitted law: monotonic or hook-shaped, and which pairs interact.

A variable's effect is read from the sign of the partial derivative along its data range, the other
variables at their medians: one sign is monotonic, a change of sign is a hook (with where it turns).
A pair interacts where the mixed partial ``d2 L / (d ln x d ln y)`` is not zero: exactly zero in sympy
means separable; otherwise its size over the data's runs is reported, beside the size of the main
effects, in nats per e-fold of each variable.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sympy as sp

from .data import RunTable
from .errors import OptionError
from .laws import Law
from .symbols import canonical, interpolate, scale, symbol

__all__ = ["Effect", "Interaction", "effects", "interactions", "numeric_expr", "design_table", "partial_dependence",
           "loss_surface"]


@dataclass(frozen=True)
class Effect:
    variable: str
    shape: str  # "decreasing", "increasing", "hook (minimum)", "hook (maximum)", "none"
    turning_point: float | None
    range: tuple[float, float]
    size: float  # median |dL/d ln x| (or |dL/dx| for S) over the runs

    def describe(self) -> str:
        turn = f" turning at {self.variable} = {self.turning_point:.4g}" if self.turning_point is not None else ""
        return f"{self.variable}: {self.shape}{turn} over [{self.range[0]:.4g}, {self.range[1]:.4g}]"


@dataclass(frozen=True)
class Interaction:
    pair: tuple[str, str]
    exactly_zero: bool
    median_abs: float  # median |d2L/(d ln x d ln y)| over the runs
    max_abs: float
    relative: float  # median_abs / the smaller of the two main-effect sizes


def _scaled(var: str) -> bool:
    return scale(var) == "log"  # effects per e-fold of every log-scale variable


def numeric_expr(law: Law, values: Mapping[str, float]) -> sp.Expr:
    """The law with its values substituted, its variables as the project's symbols."""
    return canonical(law.substitute(values), law.variables)


def design_table(law: Law, ranges: Mapping[str, tuple[float, float]], n: int = 256, seed: int = 0) -> RunTable:
    """``n`` random points over the data's ranges of the law's variables, each on its own scale (a
    design to read effects from, not runs: the loss column is a placeholder)."""
    missing = [v for v in law.variables if v not in ranges]
    if missing:
        raise OptionError(f"effects and plots need the data's ranges of {missing}: give --ranges NAME=LOW:HIGH")
    rng = np.random.default_rng(seed)
    cols = {v: interpolate(v, *ranges[v], rng.uniform(0, 1, n)) for v in law.variables}
    if "Na" in cols and "N" in cols:
        cols["Na"] = np.minimum(cols["Na"], cols["N"])  # a grid over the ranges, not runs: keep Na <= N
    cols["loss"] = np.ones(n)
    return RunTable(pd.DataFrame(cols), tuple(law.variables), "loss")


def partial_dependence(law: Law, values: Mapping[str, float], table: RunTable,
                       n: int = 200) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The loss along each variable's range in ``table``, the others at their medians: ``{name: (x, loss)}``."""
    f = sp.lambdify([symbol(v) for v in law.variables], numeric_expr(law, values), "numpy")
    med = {v: float(np.median(table.frame[v])) for v in law.variables}
    curves = {}
    for v in law.variables:
        grid = interpolate(v, float(table.frame[v].min()), float(table.frame[v].max()), np.linspace(0, 1, n))
        cols = [grid if u == v else np.full(n, med[u]) for u in law.variables]
        with np.errstate(all="ignore"):
            curves[v] = (grid, np.broadcast_to(np.asarray(f(*cols), float), (n,)))
    return curves


def loss_surface(law: Law, values: Mapping[str, float], table: RunTable, pair: tuple[str, str],
                 n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The loss on an ``n`` by ``n`` grid of two variables over their ranges, the others at their medians."""
    f = sp.lambdify([symbol(v) for v in law.variables], numeric_expr(law, values), "numpy")
    a, b = pair
    ga, gb = (interpolate(v, float(table.frame[v].min()), float(table.frame[v].max()), np.linspace(0, 1, n))
              for v in pair)
    A, B = np.meshgrid(ga, gb)
    cols = [A if u == a else B if u == b else np.full_like(A, float(np.median(table.frame[u])))
            for u in law.variables]
    with np.errstate(all="ignore"):
        return A, B, np.broadcast_to(np.asarray(f(*cols), float), A.shape)


def effects(law: Law, values: Mapping[str, float], table: RunTable, n: int = 400) -> list[Effect]:
    """The shape of each variable's effect over its data range, others at their medians."""
    expr = numeric_expr(law, values)
    med = {v: float(np.median(table.frame[v])) for v in law.variables}
    out = []
    for v in law.variables:
        x = symbol(v)
        lo, hi = float(table.frame[v].min()), float(table.frame[v].max())
        grad = sp.diff(expr, x) * (x if _scaled(v) else 1)
        f = sp.lambdify([symbol(u) for u in law.variables], grad, "numpy")
        grid = interpolate(v, lo, hi, np.linspace(0, 1, n))
        cols = [grid if u == v else np.full(n, med[u]) for u in law.variables]
        with np.errstate(all="ignore"):
            g = np.broadcast_to(np.asarray(f(*cols), float), (n,))
            rows = np.broadcast_to(np.asarray(f(*table.X(law.variables)), float), (len(table),))
        size = float(np.nanmedian(np.abs(rows)))
        sign = np.sign(g[np.abs(g) > 1e-12 * max(1.0, np.nanmax(np.abs(g)))])
        if lo == hi or sign.size == 0:
            out.append(Effect(v, "none", None, (lo, hi), size))
            continue
        changes = np.flatnonzero(np.diff(np.sign(g)) != 0)
        if changes.size == 0:
            out.append(Effect(v, "decreasing" if sign[0] < 0 else "increasing", None, (lo, hi), size))
        else:
            i = int(changes[0])
            turn = float(grid[i] - g[i] * (grid[i + 1] - grid[i]) / (g[i + 1] - g[i]))
            kind = "hook (minimum)" if g[i] < 0 < g[i + 1] else "hook (maximum)"
            out.append(Effect(v, kind, turn, (lo, hi), size))
    return out


def interactions(law: Law, values: Mapping[str, float], table: RunTable) -> list[Interaction]:
    """Mixed partials of every pair of the law's variables, over the data's runs."""
    expr = numeric_expr(law, values)
    size = {e.variable: e.size for e in effects(law, values, table)}
    X = table.X(law.variables)
    out = []
    for a, b in itertools.combinations(law.variables, 2):
        xa, xb = symbol(a), symbol(b)
        mixed = sp.diff(expr, xa, xb) * (xa if _scaled(a) else 1) * (xb if _scaled(b) else 1)
        if sp.simplify(mixed) == 0:
            out.append(Interaction((a, b), True, 0.0, 0.0, 0.0))
            continue
        f = sp.lambdify([symbol(u) for u in law.variables], mixed, "numpy")
        with np.errstate(all="ignore"):
            vals = np.abs(np.broadcast_to(np.asarray(f(*X), float), (len(table),)))
        med = float(np.nanmedian(vals))
        ref = min(size[a], size[b]) or np.inf
        out.append(Interaction((a, b), False, med, float(np.nanmax(vals)), med / ref))
    return out
