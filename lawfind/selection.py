"""Choosing a law on how it extrapolates: rolling origins, one error with a standard error, the 1se rule.

A law is fitted below several cutoffs of a size column and scored each time on the next larger slice
of runs (a *rolling origin*, as in time-series forecasting: Tashman 2000). On a ladder of model sizes
each slice is one rung; on continuous sizes each slice is a quantile band. The per-origin mean squared
errors of log loss are averaged (every origin weighs the same) into one extrapolation RMSE, with a
standard error from the spread of the squared errors within each slice (delta method). The chosen law
is the simplest (fewest constants, then fewest nodes) whose extrapolation error is within one standard
error of the lowest (Breiman et al. 1984); see docs/discover.md for the evidence behind the rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .data import RunTable
from .errors import FitError, OptionError, check_choice
from .fit import fit_law
from .laws import Law
from .metrics import residuals
from .splits import LADDER as _LADDER, MIN_FIT_SIZES as _MIN_FIT_LEVELS, ladder_rungs, too_few_sizes
from .symbols import role

if TYPE_CHECKING:
    from .admissible import Roles

__all__ = ["Origin", "Extrapolation", "Axes", "Evidence", "rolling_origins", "plan_origins", "slice_origin",
           "evidence", "too_few_sizes", "extrapolation_error", "select_model", "MODEL_SELECTION", "pareto_front",
           "TRUST"]

MODEL_SELECTION = ("1se", "best", "accuracy", "score")
_SIZE_STEPS = 2  # size steps that are enough on their own: fewer, and data and compute steps join them


@dataclass(frozen=True)
class Origin:
    """Fit on the runs of ``fit``, score on the runs of ``score`` (boolean masks over a table); ``axis``
    says what the step extrapolates along: ``size``, ``data``, ``compute``, ``slice`` (one slice) or
    ``random`` (a cross-validation fold, no extrapolation)."""

    fit: np.ndarray
    score: np.ndarray
    description: str
    axis: str = "size"


@dataclass(frozen=True)
class Extrapolation:
    """A law's extrapolation error over the origins.

    Attributes
    ----------
    rmse:
        Root of the mean (over origins) of the mean squared error of log loss on each scored slice.
    se:
        Its standard error.
    per_origin:
        The RMSE of log loss on each origin's slice.
    """

    rmse: float
    se: float
    per_origin: tuple[float, ...]

    @classmethod
    def failed(cls, k: int) -> Extrapolation:
        return cls(math.inf, math.inf, (math.inf,) * k)


def rolling_origins(table: RunTable, column: str, n_origins: int = 3, slice_fraction: float = 0.12) -> list[Origin]:
    """Origins over ``table`` by ``column``: fit below a cutoff, score on the next slice, ``n_origins``
    times, the last slice being the largest runs.

    On a ladder (fewer than 20 distinct values; neighbours within 25 % are one rung) each slice is one
    rung, and every origin is fitted on at least three rungs (``E0 + A N^-a`` has three constants in
    ``N``: fitted on two sizes it is a ridge, and where on the ridge a fit lands, not the law, decides
    its extrapolation), so there may be fewer origins than asked for. On continuous values each slice holds a ``slice_fraction`` of the runs.
    """
    _check_origins(n_origins, slice_fraction)
    out = _steps(table.frame[column].to_numpy(float), column, n_origins, slice_fraction, "size")
    if not out:
        levels = np.unique(table.frame[column].to_numpy(float))
        if len(levels) < _LADDER:
            k = len(ladder_rungs(levels, column))
            raise OptionError(f"'{column}' takes {k} distinct size(s) outside the test split: extrapolation "
                              f"needs at least {_MIN_FIT_LEVELS + 1} ({_MIN_FIT_LEVELS} to fit a power law with an "
                              "irreducible loss on, one to score); add runs or choose another --holdout")
        raise OptionError(f"too few runs to extrapolate over '{column}': add runs or choose another --holdout")
    return out


def _check_origins(n_origins: int, slice_fraction: float) -> None:
    if n_origins < 1:
        raise OptionError(f"the number of rolling origins must be at least 1, got {n_origins}")
    if not 0 < slice_fraction < 1 / (n_origins + 1):
        raise OptionError(f"the slice fraction must lie in (0, 1/(origins + 1)), got {slice_fraction}")


def _steps(x: np.ndarray, name: str, n_origins: int, slice_fraction: float, axis: str) -> list[Origin]:
    """Up to ``n_origins`` rolling origins along the values ``x`` (named ``name`` in descriptions),
    the last scoring the largest; empty where ``x`` cannot give one."""
    levels = np.unique(x)
    if len(levels) < _LADDER:
        rungs = ladder_rungs(levels, name)
        k = min(n_origins, len(rungs) - _MIN_FIT_LEVELS)
        out = []
        for i in range(len(rungs) - k, len(rungs)):
            below, (lo, hi) = rungs[i - 1][1], rungs[i]
            fit, score = x <= below, (x >= lo) & (x <= hi)
            what = f"{lo:.4g}" if lo == hi else f"{lo:.4g} to {hi:.4g}"
            out.append(Origin(fit, score, f"fit {name} <= {below:.4g}, score {name} = {what}", axis))
        return out
    qs = [np.quantile(x, 1 - slice_fraction * j) for j in range(n_origins, -1, -1)]
    out = []
    for i in range(n_origins):
        lo, hi = qs[i], qs[i + 1]
        fit = x < lo
        score = (x >= lo) & ((x < hi) if i < n_origins - 1 else np.ones_like(fit))
        if fit.sum() < 10 or not score.any():
            continue
        out.append(Origin(fit, score, f"fit {name} < {lo:.4g}, score {lo:.4g} <= {name}"
                                      f"{f' < {hi:.4g}' if i < n_origins - 1 else ''}", axis))
    return out


@dataclass(frozen=True)
class Axes:
    """The columns a table can be extrapolated along: its model size and its data (from
    :class:`lawfind.admissible.Roles`), and a compute column where it has one.

    ``size`` is ``N`` where the table has it, else its first size variable; ``data`` its first data
    variable that is not compute (``D``); ``compute`` a compute column (``C``), else the product of
    size and data is used. Shape variables (expert counts, ``G``, ``S``, learning rates, batch sizes,
    context lengths, vocabulary sizes) are never an axis.
    """

    size: str | None
    data: str | None
    compute: str | None = None

    @classmethod
    def of(cls, roles: Roles, prefer: str | None = None) -> Axes:
        """The axes of a table with ``roles``; ``prefer`` (the column of a given holdout) is the size
        or data axis where it has that role."""
        size = prefer if prefer in roles.size else "N" if "N" in roles.size else next(iter(roles.size), None)
        data_cols = [c for c in roles.data if role(c) != "compute"]
        data = prefer if prefer in data_cols else next(iter(data_cols), None)
        compute = next((c for c in roles.data if role(c) == "compute"), None)
        return cls(size, data, compute)

    @property
    def main(self) -> str | None:
        """The axis whose extrapolation matters most: size, else data, else compute."""
        return "size" if self.size else "data" if self.data else "compute" if self.compute else None

    def compute_values(self, table: RunTable) -> np.ndarray | None:
        """Training compute of each run, up to a constant (``C``, or size times data), or ``None``."""
        if self.compute:
            return table.frame[self.compute].to_numpy(float)
        if self.size and self.data:
            return table.frame[self.size].to_numpy(float) * table.frame[self.data].to_numpy(float)
        return None

    @property
    def compute_name(self) -> str:
        return self.compute or f"{self.size}*{self.data}"


def plan_origins(table: RunTable, axes: Axes, n_origins: int = 3, slice_fraction: float = 0.12, *,
                 seed: int = 0, k_folds: int = 5) -> list[Origin]:
    """The extrapolation steps of the selection runs ``table``, along every axis that needs them.

    Where the size axis gives two steps or more (a ladder of at least five sizes, or continuous sizes),
    these are the origins, exactly as :func:`rolling_origins`. Where sizes are fewer (three or four),
    the missing steps come from the data axis (fit on the smaller ``D``, score on the
    next larger slice) and from compute (``N x D``), half each, the largest slices first; every such
    step keeps at least three sizes in its fit, so no fit is a ridge in size. A table with no size
    axis steps along data; one with neither size nor data (proportions only) falls back to
    ``k_folds``-fold cross-validation, which tests interpolation only. The origins come back ordered
    data, compute, size (or random folds): the last is the most telling, and the engines search below it.

    Raises
    ------
    OptionError
        Where the size axis takes fewer than three distinct sizes (see :func:`too_few_sizes`).
    """
    _check_origins(n_origins, slice_fraction)
    size_steps: list[Origin] = []
    if axes.size:
        x = table.frame[axes.size].to_numpy(float)
        levels = np.unique(x)
        n_rungs = len(ladder_rungs(levels, axes.size)) if len(levels) < _LADDER else len(levels)
        if n_rungs < _MIN_FIT_LEVELS:
            raise too_few_sizes(axes.size, n_rungs, " outside the test split")
        size_steps = _steps(x, axes.size, n_origins, slice_fraction, "size")
        if len(size_steps) >= min(n_origins, _SIZE_STEPS):
            return size_steps
    need = n_origins - len(size_steps)
    c = axes.compute_values(table)
    compute = _keep_sizes(table, axes, _steps(c, axes.compute_name, need, slice_fraction, "compute")) \
        if c is not None else []
    data = _keep_sizes(table, axes, _steps(table.frame[axes.data].to_numpy(float), axes.data, need, slice_fraction,
                                           "data")) if axes.data else []
    n_compute = min(len(compute), max(need - len(data), (need + 1) // 2))
    n_data = min(len(data), need - n_compute)
    out = data[len(data) - n_data:] + compute[len(compute) - n_compute:] + size_steps
    if out:
        return out
    from .splits import kfold_splits  # no axis to extrapolate along: cross-validation

    folds = kfold_splits(table, min(k_folds, len(table)), seed)
    return [Origin(f.train, f.test, f"{f.description} (random)", "random") for f in folds]


def _keep_sizes(table: RunTable, axes: Axes, origins: list[Origin]) -> list[Origin]:
    """The origins whose fit keeps at least three sizes (all there are, if fewer): a step along data
    or compute must not turn into a fit on two sizes."""
    if not axes.size:
        return origins
    x = table.frame[axes.size].to_numpy(float)

    def n_sizes(mask: np.ndarray) -> int:
        levels = np.unique(x[mask])
        return len(ladder_rungs(levels, axes.size)) if 0 < len(levels) < _LADDER else len(levels)

    need = min(_MIN_FIT_LEVELS, n_sizes(np.ones(len(x), bool)))
    return [o for o in origins if n_sizes(o.fit) >= need and o.fit.sum() >= 10]


#: How much an extrapolation error is worth, by the steps that measured it (see :func:`evidence`).
TRUST = ("usual", "fair", "weak", "none")


@dataclass(frozen=True)
class Evidence:
    """How many extrapolation steps decided a choice, along which axes, and how much to trust it.

    Attributes
    ----------
    steps:
        ``(axis, count)`` pairs: ``size``, ``data``, ``compute`` or ``random`` (cross-validation folds).
    trust:
        ``usual`` (at least three steps along the table's main axis, size where it has one),
        ``fair`` (two along the main axis, or three in all with one along it), ``weak`` (fewer, or none
        along size), ``none`` (cross-validation only: no extrapolation was tested).
    main:
        The main axis (``size``, ``data``, ``compute``), ``None`` where the table has none.
    """

    steps: tuple[tuple[str, int], ...]
    trust: str
    main: str | None

    @property
    def total(self) -> int:
        return sum(n for _, n in self.steps)

    def describe(self) -> str:
        """``"3 extrapolation steps along size: usual evidence"``, ``"3 extrapolation steps (size 1,
        compute 1, data 1): fair evidence"``, or ``"5 cross-validation folds, no extrapolation: ..."``."""
        if self.trust == "none":
            return (f"{self.total} cross-validation folds, no axis to extrapolate along: evidence on "
                    "interpolation only")
        plural = "s" if self.total != 1 else ""
        along = (f" along {self.steps[0][0]}" if len(self.steps) == 1
                 else " (" + ", ".join(f"{a} {n}" for a, n in self.steps) + ")")
        why = " (none along size)" if self.trust == "weak" and self.main == "size" and \
            not dict(self.steps).get("size") else ""
        return f"{self.total} extrapolation step{plural}{along}: {self.trust} evidence{why}"


def evidence(origins: Sequence[Origin], axes: Axes) -> Evidence:
    """The :class:`Evidence` of ``origins`` on a table with ``axes``."""
    counts: dict[str, int] = {}
    for o in origins:
        counts[o.axis] = counts.get(o.axis, 0) + 1
    order = ("size", "compute", "data", "random", "slice")
    steps = tuple((a, counts[a]) for a in sorted(counts, key=lambda a: order.index(a) if a in order else 9))
    main = axes.main
    on_main, total = counts.get(main or "", 0), sum(counts.values())
    if set(counts) == {"random"}:
        trust = "none"
    elif on_main >= 3:
        trust = "usual"
    elif on_main >= 2 or (on_main >= 1 and total >= 3):
        trust = "fair"
    else:
        trust = "weak"
    return Evidence(steps, trust, main)


def slice_origin(table: RunTable, column: str, fraction: float) -> Origin:
    """lawfind 0.1's single validation slice: fit on the runs below the top ``fraction`` of ``column``,
    score on that top slice."""
    x = table.frame[column].to_numpy(float)
    threshold = np.quantile(x, 1 - fraction)
    score = x >= threshold
    if score.all() or not score.any() or (~score).sum() < 10:
        raise OptionError("the validation slice is empty or leaves fewer than 10 runs to fit: use a larger table "
                          "or another --holdout")
    return Origin(~score, score, f"fit {column} < {threshold:.4g}, score the rest", "slice")


def extrapolation_error(law: Law, table: RunTable, origins: Sequence[Origin], start: Mapping[str, float] | None,
                        *, n_starts: int = 2, seed: int = 0, per_group: Sequence[str] = ()) -> Extrapolation:
    """Fit ``law`` on each origin's runs (from ``start`` and ``n_starts`` more points; ``per_group``
    constants once per group level) and score it on the next slice."""
    mse, var_terms, per = [], [], []
    initial = [dict(start)] if start else []
    for o in origins:
        fit_t, score_t = table.subset(o.fit), table.subset(o.score)
        if law.n_params >= len(fit_t):
            return Extrapolation.failed(len(origins))
        try:
            fit = fit_law(law, fit_t, n_starts=n_starts, seed=seed, initial=initial, per_group=per_group)
            with np.errstate(all="ignore"):
                r2 = residuals(score_t.y, fit.predict(score_t), score_t.scale) ** 2
        except (FitError, OptionError):  # OptionError: a group level with no runs below the origin
            return Extrapolation.failed(len(origins))
        if not np.all(np.isfinite(r2)):
            return Extrapolation.failed(len(origins))
        mse.append(float(r2.mean()))
        var_terms.append(float(r2.var(ddof=1) / len(r2)) if len(r2) > 1 else float(r2.mean() ** 2))
        per.append(math.sqrt(mse[-1]))
    m = float(np.mean(mse))
    rmse = math.sqrt(m)
    se_m = math.sqrt(sum(var_terms)) / len(mse)
    return Extrapolation(rmse, se_m / (2 * rmse) if rmse > 0 else 0.0, tuple(per))


def select_model(equations: pd.DataFrame, model_selection: str = "1se") -> int:
    """Index (row position) of the chosen equation.

    ``1se`` (the one-standard-error rule, Breiman et al. 1984): of the equations whose loss is within
    one standard error (``loss_se``) of the lowest, the one with the fewest constants the data do not
    identify (a column ``n_unpinned``, where the frame has it: constants whose interval spans orders of
    magnitude), then the fewest fitted constants, then the fewest nodes. Of two laws that extrapolate
    equally well, the one whose constants mean something. The others have PySR's meanings: ``accuracy``, the lowest loss; ``score``, the highest
    score (the drop of log loss per unit of complexity against the next simpler equation); ``best``,
    the highest score among equations whose loss is within ``sqrt(1.5)`` of the lowest (PySR's 1.5x on
    a squared loss; ours is an RMSE).
    """
    check_choice("model_selection", model_selection, MODEL_SELECTION)
    loss, score = equations["loss"].to_numpy(), equations["score"].to_numpy()
    if model_selection == "1se":
        i = int(np.nanargmin(loss))
        ok = np.flatnonzero(loss <= loss[i] + equations["loss_se"].to_numpy()[i])
        key = equations["n_params"].to_numpy()[ok] * 10_000 + equations["complexity"].to_numpy()[ok]
        if "n_unpinned" in equations:
            key = key + 100_000_000 * equations["n_unpinned"].to_numpy(dtype=float)[ok]
        return int(ok[np.argmin(key)])
    if model_selection == "accuracy":
        return int(np.nanargmin(loss))
    if model_selection == "score":
        return int(np.nanargmax(score))
    ok = loss <= math.sqrt(1.5) * np.nanmin(loss)
    return int(np.flatnonzero(ok)[np.nanargmax(score[ok])])


def pareto_front(rows: Sequence) -> list:
    """One row per number of constants, kept where its loss beats every row with fewer constants.

    Within each number of constants the one-standard-error rule applies too: of the rows whose loss
    is within one standard error of that group's lowest, a structured one (built from the blocks of
    published laws; rows may say so with ``structured``) with the fewest nodes stands for the group:
    of two forms the data cannot tell apart, the one a reader can interpret. Rows need ``n_params``,
    ``complexity``, ``loss`` and ``loss_se``.
    """
    groups: dict[int, list] = {}
    for r in rows:
        if math.isfinite(r.loss):
            groups.setdefault(r.n_params, []).append(r)
    front, best = [], math.inf
    for k in sorted(groups):
        low = min(groups[k], key=lambda r: r.loss)
        near = [r for r in groups[k] if r.loss <= low.loss + low.loss_se]
        pick = min(near, key=lambda r: (not getattr(r, "structured", False), r.complexity, r.loss))
        if pick.loss < best:
            front.append(pick)
            best = pick.loss
    return front
