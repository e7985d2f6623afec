"""What optimisation finds, and how it reads: typed results with one-line, LaTeX and JSON views.

The searches live beside this module (:mod:`.optima`, :mod:`.allocation`, :mod:`.analysis`); this one
only holds their results and presents them, so that the command line, the JSON written by
``lawfind optimize --out`` and ``lawfind export`` read the same words and numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from ..effects import Effect, Interaction
from ..export import latex
from ..laws import Law
from ..symbols import symbol

__all__ = ["Optimum", "Allocation", "Analysis"]


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
        if self.kind == "none":
            return None
        lhs = rf"{{{latex(symbol(self.variable), precision, lhs=None)}}}^{{*}}"
        if self.closed_form is None:
            return rf"{lhs} \approx {latex(sp.Float(self.value), precision, lhs=None)}"
        return rf"{lhs} = {latex(self.closed_form, precision, lhs=None)}"

    def as_dict(self) -> dict:
        """A JSON-ready record (the closed form as a sympy string, with its LaTeX and description)."""
        return {"variable": self.variable, "closed_form": None if self.closed_form is None else sp.sstr(self.closed_form),
                "value": self.value, "method": self.method, "kind": self.kind, "depends_on": list(self.depends_on),
                "independent_of": list(self.independent_of), "data_range": self.data_range, "in_range": self.in_range,
                "interval95": self.interval, "latex": self.latex(), "description": self.describe()}


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
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    """95 % bootstrap intervals: of each variable's exponent in C (key ``v``) and of its value at the
    budget (key ``v@C``), where replicates were given and a closed form found."""

    def describe(self) -> str:
        """One line: each variable's optimum, its value at the budget and its exponent in C."""
        parts = []
        for v in self.variables:
            form = f" = {sp.sstr(self.closed_forms[v])}" if v in self.closed_forms else ""
            exp_ = f", proportional to C^{self.exponents[v]:.4g}{self._ci(v)}" if v in self.exponents else ""
            val = (f" = {self.values[v]:.4g}{self._ci(v + '@C')} at C = {self.budget:.4g}"
                   if v in self.values and self.budget else "")
            parts.append(f"{v}_opt{form}{val}{exp_}")
        return f"under {sp.sstr(self.cost)} = C ({self.method}): " + "; ".join(parts)

    def _ci(self, key: str) -> str:
        ivl = self.intervals.get(key)
        return f" [95% CI {ivl[0]:.4g}, {ivl[1]:.4g}]" if ivl else ""

    def latex(self, precision: int = 3) -> list[str]:
        """LaTeX of each closed form, ``X_opt = ...``."""
        return [rf"{{{latex(symbol(v), precision, lhs=None)}}}_{{\mathrm{{opt}}}} = {latex(e, precision, lhs=None)}"
                for v, e in self.closed_forms.items()]

    def as_dict(self) -> dict:
        """A JSON-ready record."""
        return {"description": self.describe(), "latex": self.latex(), "values": dict(self.values),
                "exponents": dict(self.exponents), "closed_forms": {k: sp.sstr(v) for k, v in self.closed_forms.items()},
                "loss": self.loss, "budget": self.budget, "method": self.method,
                "intervals95": {k: list(v) for k, v in self.intervals.items()}}


@dataclass(frozen=True)
class Analysis:
    """Everything ``lawfind optimize`` derives from one law (see :func:`lawfind.optimize.analyse`); the
    HTML page of a discovery is :mod:`lawfind.report`."""

    law: Law
    values: Mapping[str, float]
    optima: tuple[Optimum, ...] = ()
    allocation: Allocation | None = None
    target_loss: float | None = None
    cheapest: Mapping[str, float] | None = None
    leverage_at: Mapping[str, float] | None = None
    leverage: float | None = None
    effects: tuple[Effect, ...] = ()
    interactions: tuple[Interaction, ...] = ()
    n_replicates: int = 0

    def lines(self) -> list[str]:
        """The analysis as lines of text, as the command prints them."""
        out = [f"law: L = {sp.sstr(sp.N(self.law.substitute(self.values), 4))}"]
        if self.optima and not self.n_replicates:
            out.append("note: no bootstrap replicates in the input, so the optima have no intervals "
                       "(fit with --bootstrap, or run discover, to get them)")
        for opt in self.optima:
            out.append(opt.describe())
            if opt.latex():
                out.append("  " + opt.latex())
            out += [f"  note: {n}" for n in (() if opt.kind == "none" else opt.notes)]  # else in the description
        if self.allocation is not None:
            out.append(self.allocation.describe())
            out += ["  " + line for line in self.allocation.latex()]
        if self.cheapest is not None:
            out.append(f"cheapest configuration reaching L = {self.target_loss:g}: "
                       + ", ".join(f"{k} = {v:.4g}" for k, v in self.cheapest.items()))
        if self.leverage is not None:
            at = ",".join(f"{k}={v:g}" for k, v in self.leverage_at.items())
            out.append(f"efficiency leverage at {at}: EL = C_dense / C_moe = {self.leverage:.4g}")
        out += ["effect " + e.describe() for e in self.effects]
        for it in self.interactions:
            tag = ("none (separable)" if it.exactly_zero else
                   f"median |d2L/dlog dlog| = {it.median_abs:.3g} ({it.relative:.2g} of the smaller main effect)")
            out.append(f"interaction {it.pair[0]} x {it.pair[1]}: {tag}")
        return out

    def as_dict(self) -> dict:
        """The results as a JSON-ready record (the keys present are those that were asked for)."""
        out: dict = {"optima": [o.as_dict() for o in self.optima]}
        if self.allocation is not None:
            out["allocation"] = self.allocation.as_dict()
        if self.cheapest is not None:
            out["cheapest"] = dict(self.cheapest)
        if self.leverage is not None:
            out["efficiency_leverage"] = {"config": dict(self.leverage_at), "EL": self.leverage}
        if self.effects:
            out["effects"] = [e.__dict__ for e in self.effects]
            out["interactions"] = [it.__dict__ for it in self.interactions]
        return out
