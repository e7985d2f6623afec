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
from .symbols import scale

__all__ = ["Split", "Holdout", "parse_holdout", "holdout_split", "kfold_splits", "default_split",
           "ladder_rungs", "FEW_SIZES", "LADDER"]

#: Fewer distinct values than this: a ladder of sizes, one rung per slice.
LADDER = 20
#: Neighbouring sizes closer than this factor are one rung.
RUNG = 1.25
#: A ladder of at most this many sizes is *few*: the default test split is then taken along data, so
#: that it does not eat the sizes that selection needs.
FEW_SIZES = 5
#: Distinct sizes a law in size is fitted on at least: E0 + A N^-a has three constants in N.
MIN_FIT_SIZES = 3

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


def ladder_rungs(levels: np.ndarray, column: str) -> list[tuple[float, float]]:
    """The rungs of a ladder of sizes (``levels`` sorted and distinct): neighbouring values within 25 %
    of each other (on a log scale) form one rung, so that every step from one rung to the next is an
    extrapolation (Gemstones' models of 96M to 117M parameters are one rung, its 475M to 543M models
    the next)."""
    rungs: list[list[float]] = [[float(levels[0])]]
    for v in levels[1:]:
        same = scale(column) == "log" and v <= RUNG * rungs[-1][-1]
        rungs[-1].append(float(v)) if same else rungs.append([float(v)])
    return [(r[0], r[-1]) for r in rungs]


def _size_rungs(x: np.ndarray, column: str) -> list[tuple[float, float]] | None:
    """The rungs of ``x`` where it is a ladder (fewer than :data:`LADDER` distinct values), else ``None``."""
    levels = np.unique(x)
    return ladder_rungs(levels, column) if len(levels) < LADDER else None


def default_split(table: RunTable, size: str | None, data: str | None, fraction: float = 0.15,
                  seed: int = 0) -> Split:
    """Discovery's test split where none is given, one that leaves selection the sizes it needs.

    - Continuous sizes, or a ladder of more than :data:`FEW_SIZES` sizes: the top ``fraction`` of the
      size column ``size``.
    - A ladder of three to five sizes: the top ``fraction`` of the data column ``data`` within each
      size that has at least three data values (the largest ``D`` at each size), so every size stays
      in selection; without such a data axis, no test split at all (every size is needed to choose the
      law: three to fit on and two to score, two extrapolation steps; the description says so).
    - No size column: the top ``fraction`` of ``data``; neither size nor data: a random ``fraction``.

    Raises
    ------
    OptionError
        Where ``size`` takes fewer than three distinct sizes.
    """
    if size is None:
        if data is not None:
            return holdout_split(table, f"top:{data}:{fraction:g}")
        rng = np.random.default_rng(seed)
        test = np.zeros(len(table), bool)
        test[rng.permutation(len(table))[: max(1, round(fraction * len(table)))]] = True
        return Split(~test, test, f"a random {fraction:.0%} of the runs (no size or data column to hold out "
                                  "the largest along)")
    x = table.frame[size].to_numpy(float)
    rungs = _size_rungs(x, size)
    if rungs is None or len(rungs) > FEW_SIZES:
        return holdout_split(table, f"top:{size}:{fraction:g}")
    if len(rungs) < 3:
        raise too_few_sizes(size, len(rungs))
    if data is not None:
        d = table.frame[data].to_numpy(float)
        test = np.zeros(len(table), bool)
        for lo, hi in rungs:
            rung = (x >= lo) & (x <= hi)
            if len(np.unique(d[rung])) >= 3:
                test |= rung & (d >= np.quantile(d[rung], 1 - fraction))
        if test.any():
            return Split(~test, test, f"the largest {data} at each size (top {fraction:.0%} of {data} per size: "
                                      f"{size} takes only {len(rungs)} sizes, all kept for selection)", data)
    none = np.zeros(len(table), bool)
    return Split(~none, none, f"none ({size} takes only {len(rungs)} sizes, all needed to choose the law, and no "
                              "data column has three values per size to test along)")


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


def too_few_sizes(column: str, k: int, where: str = "") -> OptionError:
    """The one-line refusal of a table with fewer than three sizes."""
    return OptionError(
        f"'{column}' takes {k} distinct size(s){where}, and a law in it needs at least {MIN_FIT_SIZES}: a power "
        f"law in size with an irreducible loss (E0 + A*{column}^-a) has three constants in size, which {k} size(s) "
        f"cannot tell apart; add runs at a third size{', or choose a --holdout that keeps three' if where else ''}, "
        f"or leave '{column}' out of --features to fit along the other columns")
