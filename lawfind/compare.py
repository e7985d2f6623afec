"""Comparing laws on held-out runs: splits, metrics and a ranked table.

Metrics follow SLDBench (Can language models discover scaling laws? 2025): on the test split,
``NMSE = MSE / Var(y)``, ``NMAE = MAE / mean|y - mean(y)|`` and ``R2 = 1 - NMSE``. R2 alone misleads
when the test losses span little (a 3.6 % error can read R2 = -3), so beside it: the RMSE of log loss
(about the relative error), the error relative to the spread of the test losses (RMSE / (max - min)),
and AIC and BIC of the training fit from the Gaussian likelihood of log residuals.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .data import RunTable
from .errors import FitError, OptionError, did_you_mean
from .fit import FitResult, fit_law
from .laws import Law

__all__ = ["Split", "Metrics", "Comparison", "Holdout", "parse_holdout", "holdout_split", "kfold_splits", "metrics", "compare_laws"]

_OPS: dict[str, Callable] = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
                             "==": operator.eq, "!=": operator.ne}
_HOLDOUT = re.compile(r"^\s*([A-Za-z_][A-Za-z_0-9]*)\s*(>=|<=|==|!=|>|<)\s*([-+0-9.eE]+)\s*$")
_TOP = re.compile(r"^\s*top\s*:\s*([A-Za-z_][A-Za-z_0-9]*)\s*:\s*([0-9.]+)\s*$")


@dataclass(frozen=True)
class Split:
    """Train and test rows of a table, as boolean masks, and the column that split them."""

    train: np.ndarray
    test: np.ndarray
    description: str
    column: str | None = None


@dataclass(frozen=True)
class Metrics:
    """How well a fitted law predicts the test runs (and fits the training runs)."""

    r2: float
    nmse: float
    nmae: float
    rmse_log: float
    train_rmse_log: float
    spread_ratio: float
    aic: float
    bic: float
    n_params: int
    n_train: int
    n_test: int

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


class Holdout(NamedTuple):
    """A holdout read from text: ``column op value`` (``N >= 1e9``), or ``op == "top"`` and the fraction."""

    column: str
    op: str
    value: float


def parse_holdout(expr: str) -> Holdout:
    """Read ``"N>=1e9"`` or ``"top:N:0.2"`` (the fraction in (0, 1)), before any table is seen."""
    top, threshold = _TOP.match(expr or ""), _HOLDOUT.match(expr or "")
    if not (top or threshold):
        raise OptionError(f"cannot read the holdout '{expr}': write COLUMN OP VALUE such as 'N>=1e9', "
                          "or top:COLUMN:FRACTION such as 'top:N:0.2'")
    column, op, number = (top.group(1), "top", top.group(2)) if top else threshold.groups()
    try:
        value = float(number)
    except ValueError:
        raise OptionError(f"cannot read the number '{number}' in the holdout '{expr}'") from None
    if op == "top" and not 0 < value < 1:
        raise OptionError(f"the holdout fraction in '{expr}' must lie in (0, 1)")
    return Holdout(column, op, value)


def holdout_split(table: RunTable, expr: str) -> Split:
    """Split by a threshold: ``"N>=1e9"`` tests on runs with N >= 1e9 and trains on the others.

    ``"top:N:0.2"`` tests on the 20 % of runs with the largest N (ties kept together).
    """
    col, op, val = parse_holdout(expr)
    values = _values(table, col)
    if op == "top":
        threshold = np.quantile(values, 1 - val)
        test = values >= threshold
        desc = f"{col} >= {threshold:.4g} (top {val:.0%})"
    else:
        test = _OPS[op](values, val)
        desc = f"{col} {op} {val:g}"
    if test.all() or not test.any():
        raise OptionError(f"the holdout '{expr}' leaves {'no' if not test.any() else 'every'} run for testing: "
                          f"choose a threshold inside the data's range")
    return Split(~test, test, desc, col)


def _values(table: RunTable, col: str) -> np.ndarray:
    cols = [*table.features, table.target]
    if col not in cols:
        raise OptionError(f"the holdout names '{col}', which is not a feature or the target"
                          f"{did_you_mean(col, cols)}; choose one of {', '.join(cols)}")
    return table.frame[col].to_numpy(dtype=float)


def kfold_splits(table: RunTable, k: int = 5, seed: int = 0) -> list[Split]:
    """Random k-fold splits (reproducible from ``seed``)."""
    if not 2 <= k <= len(table):
        raise OptionError(f"k-fold needs 2 <= k <= the number of runs ({len(table)}), got {k}")
    folds = np.array_split(np.random.default_rng(seed).permutation(len(table)), k)
    out = []
    for i, f in enumerate(folds):
        test = np.zeros(len(table), dtype=bool)
        test[f] = True
        out.append(Split(~test, test, f"fold {i + 1}/{k}"))
    return out


def log_fit_stats(y: np.ndarray, pred: np.ndarray, n_params: int) -> tuple[float, float, float]:
    """RMSE of log residuals, and AIC and BIC from their Gaussian likelihood, for ``n_params`` constants."""
    with np.errstate(all="ignore"):
        r = np.log(np.asarray(pred, float)) - np.log(np.asarray(y, float))
    n = len(r)
    rss = float(np.sum(r * r))
    ll_term = n * np.log(max(rss, 1e-300) / n)
    return float(np.sqrt(rss / n)), float(ll_term + 2 * n_params), float(ll_term + n_params * np.log(n))


def metrics(y: np.ndarray, pred: np.ndarray, *, train_y: np.ndarray, train_pred: np.ndarray,
            n_params: int) -> Metrics:
    """SLDBench metrics on the test runs plus information criteria of the training fit."""
    y, pred = np.asarray(y, float), np.asarray(pred, float)
    with np.errstate(all="ignore"):
        err = pred - y
        nmse = float(np.mean(err ** 2) / np.var(y)) if np.var(y) > 0 else float("nan")
        nmae = float(np.mean(np.abs(err)) / np.mean(np.abs(y - y.mean()))) if np.var(y) > 0 else float("nan")
    rmse_log = log_fit_stats(y, pred, 0)[0]
    train_rmse, aic, bic = log_fit_stats(train_y, train_pred, n_params)
    spread = float(np.ptp(y)) if len(y) else 0.0
    with np.errstate(all="ignore"):
        ratio = float(np.sqrt(np.mean(err ** 2)) / spread) if spread > 0 else float("nan")
    return Metrics(r2=1 - nmse, nmse=nmse, nmae=nmae, rmse_log=rmse_log, train_rmse_log=train_rmse,
                   spread_ratio=ratio, aic=aic, bic=bic, n_params=n_params, n_train=len(train_y), n_test=len(y))


@dataclass(frozen=True)
class Row:
    """One compared law: its fit on the training runs and its metrics."""

    law: Law
    fit: FitResult
    metrics: Metrics


@dataclass(frozen=True)
class Comparison:
    """Laws ranked by a test metric; ``skipped`` lists laws that could not be fitted, with why."""

    rows: tuple[Row, ...]
    split: Split
    rank_by: str
    skipped: tuple[tuple[str, str], ...] = field(default=())

    def table(self) -> list[dict[str, object]]:
        """The ranked table as plain records."""
        return [{"rank": i + 1, "law": r.law.name, "certainty": r.law.certainty, **r.metrics.as_dict()}
                for i, r in enumerate(self.rows)]


#: Metrics laws may be ranked by, with their sort keys (best first).
RANK_BY = {"r2": (lambda m: -m.r2), "nmse": (lambda m: m.nmse), "nmae": (lambda m: m.nmae),
              "rmse_log": (lambda m: m.rmse_log), "aic": (lambda m: m.aic), "bic": (lambda m: m.bic)}


def evaluate(fit: FitResult, table: RunTable, split: Split) -> Metrics:
    """Metrics of a law fitted on ``split.train``, evaluated on ``split.test``."""
    train, test = table.subset(split.train), table.subset(split.test)
    return metrics(test.y, fit.predict(test), train_y=train.y, train_pred=fit.predict(train),
                   n_params=fit.n_params)


def compare_laws(
    laws: Sequence[Law],
    table: RunTable,
    split: Split,
    *,
    rank_by: str = "r2",
    progress: Callable[[str], None] | None = None,
    **fit_options,
) -> Comparison:
    """Fit each law on the training runs and rank the laws on the test runs.

    Laws whose variables the table lacks, or whose fit fails, are listed in ``skipped`` with the
    reason, never dropped silently.
    """
    if rank_by not in RANK_BY:
        raise OptionError(f"unknown metric '{rank_by}'{did_you_mean(rank_by, RANK_BY)}; "
                          f"choose one of {', '.join(RANK_BY)}")
    train = table.subset(split.train)
    rows, skipped = [], []
    for law in laws:
        missing = [v for v in law.variables if v not in table.features]
        if missing:
            skipped.append((law.name, f"needs {', '.join(missing)}, which the table lacks"))
            continue
        if progress:
            progress(law.name)
        try:
            fit = fit_law(law, train, **fit_options)
        except FitError as exc:
            skipped.append((law.name, str(exc)))
            continue
        rows.append(Row(law, fit, evaluate(fit, table, split)))
    key = RANK_BY[rank_by]
    rows.sort(key=lambda r: (np.nan_to_num(key(r.metrics), nan=np.inf)))
    return Comparison(tuple(rows), split, rank_by, tuple(skipped))
