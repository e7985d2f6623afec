"""Train and test splits of a run table: a holdout read from text (``N>=1e9``, ``top:N:0.2``), k folds.

Discovery and comparison split the same way: by a threshold on a column, or the top fraction of a
column (by default the model size ``N``, or the table's first size column where it has no ``N``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .data import RunTable
from .errors import OptionError, did_you_mean

__all__ = ["Split", "Holdout", "parse_holdout", "holdout_split", "kfold_splits", "default_holdout"]

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

    def __repr__(self) -> str:
        return (f"Split({self.description!r}: train {int(np.sum(self.train))} runs, "
                f"test {int(np.sum(self.test))} runs)")


class Holdout(NamedTuple):
    """A holdout read from text: ``column op value`` (``N >= 1e9``), or ``op == "top"`` and the fraction."""

    column: str
    op: str
    value: float


def default_holdout(features: Sequence[str], size: Sequence[str] = (), fraction: float = 0.15) -> str:
    """The holdout used where none is given: the top ``fraction`` of ``N`` where the table has it,
    else of its first size variable (``size``, e.g. ``Roles.size``: ``Na``, a column declared
    decreasing), else of its first feature. Discovery and comparison both split this way."""
    column = "N" if "N" in features else next(iter(size), features[0])
    return f"top:{column}:{fraction:g}"


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
