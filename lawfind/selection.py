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

import numpy as np
import pandas as pd

from .data import RunTable
from .errors import FitError, OptionError, check_choice
from .fit import fit_law
from .laws import Law
from .symbols import scale

__all__ = ["Origin", "Extrapolation", "rolling_origins", "slice_origin", "extrapolation_error", "select_model",
           "MODEL_SELECTION", "pareto_front"]

MODEL_SELECTION = ("1se", "best", "accuracy", "score")
_MIN_FIT_LEVELS = 3  # distinct sizes an origin is fitted on: E0 + A N^-a has three constants in N
_LADDER = 20  # fewer distinct values than this: a ladder of sizes, one rung per slice
_RUNG = 1.25  # neighbouring sizes closer than this factor are one rung


@dataclass(frozen=True)
class Origin:
    """Fit on the runs of ``fit``, score on the runs of ``score`` (boolean masks over a table)."""

    fit: np.ndarray
    score: np.ndarray
    description: str


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
    if n_origins < 1:
        raise OptionError(f"the number of rolling origins must be at least 1, got {n_origins}")
    if not 0 < slice_fraction < 1 / (n_origins + 1):
        raise OptionError(f"the slice fraction must lie in (0, 1/(origins + 1)), got {slice_fraction}")
    x = table.frame[column].to_numpy(float)
    levels = np.unique(x)
    if len(levels) < _LADDER:
        rungs = _rungs(levels, column)
        k = min(n_origins, len(rungs) - _MIN_FIT_LEVELS)
        if k < 1:
            raise OptionError(f"'{column}' takes {len(rungs)} distinct size(s) outside the test split: extrapolation "
                              f"needs at least {_MIN_FIT_LEVELS + 1} ({_MIN_FIT_LEVELS} to fit a power law with an "
                              "irreducible loss on, one to score); add runs or choose another --holdout")
        out = []
        for i in range(len(rungs) - k, len(rungs)):
            below, (lo, hi) = rungs[i - 1][1], rungs[i]
            fit, score = x <= below, (x >= lo) & (x <= hi)
            what = f"{lo:.4g}" if lo == hi else f"{lo:.4g} to {hi:.4g}"
            out.append(Origin(fit, score, f"fit {column} <= {below:.4g}, score {column} = {what}"))
        return out
    qs = [np.quantile(x, 1 - slice_fraction * j) for j in range(n_origins, -1, -1)]
    out = []
    for i in range(n_origins):
        lo, hi = qs[i], qs[i + 1]
        fit = x < lo
        score = (x >= lo) & ((x < hi) if i < n_origins - 1 else np.ones_like(fit))
        if fit.sum() < 10 or not score.any():
            continue
        out.append(Origin(fit, score, f"fit {column} < {lo:.4g}, score {lo:.4g} <= {column}"
                                      f"{f' < {hi:.4g}' if i < n_origins - 1 else ''}"))
    if not out:
        raise OptionError(f"too few runs to extrapolate over '{column}': add runs or choose another --holdout")
    return out


def slice_origin(table: RunTable, column: str, fraction: float) -> Origin:
    """lawfind 0.1's single validation slice: fit on the runs below the top ``fraction`` of ``column``,
    score on that top slice."""
    x = table.frame[column].to_numpy(float)
    threshold = np.quantile(x, 1 - fraction)
    score = x >= threshold
    if score.all() or not score.any() or (~score).sum() < 10:
        raise OptionError("the validation slice is empty or leaves fewer than 10 runs to fit: use a larger table "
                          "or another --holdout")
    return Origin(~score, score, f"fit {column} < {threshold:.4g}, score the rest")


def _rungs(levels: np.ndarray, column: str) -> list[tuple[float, float]]:
    """The rungs of a ladder of sizes: neighbouring values within 25 % of each other (on a log scale)
    form one rung, so that every step from one rung to the next is an extrapolation (Gemstones'
    models of 96M to 117M parameters are one rung, its 475M to 543M models the next)."""
    rungs: list[list[float]] = [[float(levels[0])]]
    for v in levels[1:]:
        same = scale(column) == "log" and v <= _RUNG * rungs[-1][-1]
        rungs[-1].append(float(v)) if same else rungs.append([float(v)])
    return [(r[0], r[-1]) for r in rungs]


def extrapolation_error(law: Law, table: RunTable, origins: Sequence[Origin], start: Mapping[str, float] | None,
                        *, n_starts: int = 2, seed: int = 0) -> Extrapolation:
    """Fit ``law`` on each origin's runs (from ``start`` and ``n_starts`` more points) and score it on
    the next slice."""
    mse, var_terms, per = [], [], []
    initial = [dict(start)] if start else []
    for o in origins:
        fit_t, score_t = table.subset(o.fit), table.subset(o.score)
        if law.n_params >= len(fit_t):
            return Extrapolation.failed(len(origins))
        try:
            fit = fit_law(law, fit_t, n_starts=n_starts, seed=seed, initial=initial)
        except FitError:
            return Extrapolation.failed(len(origins))
        with np.errstate(all="ignore"):
            r2 = (np.log(fit.predict(score_t)) - np.log(score_t.y)) ** 2
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

    ``1se`` (the one-standard-error rule, Breiman et al. 1984): the equation with the fewest fitted
    constants (then the fewest nodes) whose loss is within one standard error (``loss_se``) of the
    lowest. The others have PySR's meanings: ``accuracy``, the lowest loss; ``score``, the highest
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
