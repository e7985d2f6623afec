"""One law form for every group, with the constants that differ per group chosen by the data.

A table with a group column (``--group dataset``) gets one form for all its levels. Which constants
are fitted per level is decided per candidate form by BIC on the pooled runs, over a short ladder of
nested choices (:func:`ladder`): none; the limit (an additive constant such as ``E0``); the limit and
the coefficients (every constant that is not in an exponent); every constant. The exponents stay
shared unless the data pay for them. A declared set (``--per-group E0,A``) replaces the ladder.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import sympy as sp

from .admissible import Roles, Verdict, check_admissible
from .data import RunTable
from .errors import LawfindError
from .fit import FitResult, fit_law
from .laws import Law
from .metrics import log_fit_stats

__all__ = ["exponents", "limits", "ladder", "largest_level", "level_tables", "choose_per_group", "grouped_verdict",
           "shared_form"]


def exponents(law: Law) -> tuple[str, ...]:
    """The parameters that appear in an exponent (of a power, or inside ``exp``)."""
    names = set(law.param_names)
    found: set[str] = set()
    for node in sp.preorder_traversal(law.expr):
        if isinstance(node, sp.Pow):
            found |= {s.name for s in node.exp.free_symbols} & names
        elif isinstance(node, sp.exp):
            found |= {s.name for s in node.args[0].free_symbols} & names
    return tuple(p for p in law.param_names if p in found)


def limits(law: Law) -> tuple[str, ...]:
    """The parameters that are an additive term of the law on their own (``E0`` in ``E0 + A/N**a``)."""
    out = []
    for term in sp.Add.make_args(law.expr):
        coeff, rest = term.as_coeff_Mul()
        if isinstance(rest, sp.Symbol) and rest.name in law.param_names:
            out.append(rest.name)
    return tuple(p for p in law.param_names if p in out)


def ladder(law: Law) -> list[tuple[str, ...]]:
    """The per-group sets tried for ``law``, smallest first and distinct: none; the limit; the limit and
    the coefficients (every constant outside an exponent); every constant."""
    expo = set(exponents(law))
    steps = [(), limits(law), tuple(p for p in law.param_names if p not in expo), tuple(law.param_names)]
    return list(dict.fromkeys(steps))


def largest_level(table: RunTable) -> RunTable:
    """The runs of the group level with the most runs (the first such level in sorted order)."""
    if table.group is None:
        return table
    levels, counts = np.unique(table.groups.astype(str), return_counts=True)
    return table.subset(table.groups.astype(str) == levels[int(np.argmax(counts))])


def level_tables(table: RunTable) -> dict[str, RunTable]:
    """Each group level's runs, by level (sorted as the fitter sorts them)."""
    labels = table.groups.astype(str)
    return {str(lev): table.subset(labels == str(lev)) for lev in sorted(set(table.groups))}


def choose_per_group(law: Law, table: RunTable, start: dict[str, float], *, declared: Sequence[str] | None = None,
                     seed: int = 0, n_starts: int = 2) -> FitResult | None:
    """Fit ``law`` on the pooled runs of ``table`` with each per-group set of :func:`ladder` (or only the
    ``declared`` one, as far as the law has those parameters) and return the fit with the lowest BIC;
    ``None`` where no set could be fitted. ``start`` gives starting values by parameter name."""
    sets = [tuple(p for p in law.param_names if p in declared)] if declared is not None else ladder(law)
    best, best_bic = None, math.inf
    for per_group in sets:
        n_levels = len(set(table.groups)) if per_group else 1
        if law.n_params + len(per_group) * (n_levels - 1) >= len(table):
            continue
        try:
            fit = fit_law(law, table, per_group=per_group, n_starts=n_starts, seed=seed, initial=[start])
            pred = fit.predict(table)
        except LawfindError:
            continue
        if not np.all(np.isfinite(pred)) or (table.scale == "log" and np.any(pred <= 0)):
            continue
        bic = log_fit_stats(table.y, pred, fit.n_params, table.scale)[2]
        if math.isfinite(bic) and bic < best_bic:
            best, best_bic = fit, bic
    return best


def grouped_verdict(law: Law, fit: FitResult, table: RunTable, roles: Roles | None, **options) -> Verdict:
    """:func:`lawfind.admissible.check_admissible` of each group level's constants on its own runs: the
    first level that fails, else the verdict of the first level."""
    if not fit.per_group:
        return check_admissible(law, fit.values, table, roles, **options)
    first = None
    for level, runs in level_tables(table).items():
        v = check_admissible(law, fit.group_values(level), runs, roles, **options)
        if not v.ok:
            return v
        first = first or v
    return first


def shared_form(fit: FitResult) -> sp.Expr:
    """The law with its shared constants as numbers and its per-group constants as symbols."""
    law = fit.law
    return law.expr.xreplace({law.symbol(p): sp.Float(fit.values[p]) for p in law.param_names
                              if p not in fit.per_group})
