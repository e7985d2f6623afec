"""Run tables: load parquet or CSV, choose target/features/group, and validate.

The default schema is ``D, N, Na, G, S`` -> ``loss`` (see ``docs/schema.md``). Any other columns may
be chosen by name, and a feature may be given a canonical name: ``"N=dense_parameter_count"`` lets the
catalogue's laws in ``N`` read that column.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError, LawfindError, OptionError, check_choice, did_you_mean, printable, show_path
from .files import SUFFIXES, Unreadable, read_table
from .symbols import DEFAULT_FEATURES, DEFAULT_TARGET, MEANINGS, scale

__all__ = ["RunTable", "load_runs", "read_table", "parse_features", "REPEATS", "SUFFIXES"]
#: What to do with repeated configurations that no seed column tells apart.
REPEATS = ("error", "keep", "mean")


@dataclass(frozen=True)
class RunTable:
    """A validated run table.

    Attributes
    ----------
    frame:
        One row per run; columns are the feature names, the target, and the group if any.
    features:
        Variable names, in order (canonical names such as ``N`` where a column was mapped).
    target:
        The target column's name.
    group:
        The group column's name, or ``None``.
    columns:
        For each feature, the source column it was read from.
    source:
        Where the table came from (a path, or ``"<DataFrame>"``).
    repeated:
        How many runs share their configuration (features and group) with another run: seeds, or
        tables merged over a column left out (kept as they are unless ``repeats="mean"``).
    """

    frame: pd.DataFrame
    features: tuple[str, ...]
    target: str
    group: str | None = None
    columns: Mapping[str, str] | None = None
    source: str = "<DataFrame>"
    repeated: int = 0

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def y(self) -> np.ndarray:
        return self.frame[self.target].to_numpy(dtype=float)

    def X(self, variables: Sequence[str] | None = None) -> list[np.ndarray]:
        """Feature columns as float arrays, in the order of ``variables`` (default: all features)."""
        variables = self.features if variables is None else variables
        missing = [v for v in variables if v not in self.frame.columns]
        if missing:
            raise DataError(f"the table has no variable {missing}{did_you_mean(missing[0], self.features)}; "
                            f"its features are {', '.join(self.features)} (map a column with NAME=column)")
        return [self.frame[v].to_numpy(dtype=float) for v in variables]

    @property
    def groups(self) -> np.ndarray | None:
        return None if self.group is None else self.frame[self.group].to_numpy()

    def subset(self, mask: np.ndarray) -> RunTable:
        """The runs where ``mask`` is true (a boolean or an index array)."""
        mask = np.asarray(mask)
        rows = np.flatnonzero(mask) if mask.dtype == bool else mask
        frame = self.frame.iloc[rows].reset_index(drop=True)
        keys = [*self.features] + ([self.group] if self.group else [])
        return RunTable(frame, self.features, self.target, self.group, self.columns, self.source,
                        int(frame.duplicated(keys, keep=False).sum()))

    def ranges(self) -> dict[str, tuple[float, float]]:
        """Each feature's (min, max) in the runs."""
        return {f: (float(self.frame[f].min()), float(self.frame[f].max())) for f in self.features}

    def constant_features(self) -> list[str]:
        """Features that take one value only (terms in them cannot be identified)."""
        return [f for f in self.features if self.frame[f].nunique() <= 1]

    def data_hash(self) -> str:
        """SHA-256 of the features, target and group, for provenance in exported results."""
        cols = [*self.features, self.target] + ([self.group] if self.group else [])
        h = hashlib.sha256(pd.util.hash_pandas_object(self.frame[cols], index=False).to_numpy().tobytes())
        return h.hexdigest()[:16]


def parse_features(spec: str | Sequence[str] | None) -> list[tuple[str, str]]:
    """Read ``"N=dense_parameter_count,num_experts"`` into ``[("N", "dense_parameter_count"), ...]``."""
    if spec is None:
        return []
    if not (isinstance(spec, str) or (isinstance(spec, Sequence) and all(isinstance(s, str) for s in spec))):
        raise OptionError(f"features must be a comma-separated string or a list of column names, "
                          f"not {type(spec).__name__}")
    items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec)]
    out = []
    for item in filter(None, items):
        name, sep, column = item.partition("=")
        name, column = name.strip(), (column.strip() if sep else name.strip())
        if not name.isidentifier() or not column:
            raise OptionError(f"cannot read the feature '{item}': write COLUMN or NAME=COLUMN, "
                              "where NAME is a Python identifier (e.g. N=dense_parameter_count)")
        out.append((name, column))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise OptionError(f"feature names repeat in '{spec}': give each feature once")
    return out


def _column(frame: pd.DataFrame, name: str, role: str) -> pd.Series:
    if name not in frame.columns:
        cols = [str(c) for c in frame.columns]
        listed = ", ".join(printable(c, 40) for c in cols[:20])
        has = f"the table has: {listed}{' ...' if len(cols) > 20 else ''}" if cols else "the table has no columns"
        raise DataError(f"missing {role} column '{printable(name, 40)}'{did_you_mean(name, cols)}; {has}")
    return frame[name]


def _rows(idx: Sequence[int], limit: int = 5, verb: str = "") -> str:
    """``"rows 1, 4 hold"`` / ``"row 1 holds"``: which rows, with the verb agreeing."""
    idx = list(idx)
    shown = ", ".join(str(i) for i in idx[:limit])
    more = f" (and {len(idx) - limit} more)" if len(idx) > limit else ""
    verb = f" {verb}{'s' if len(idx) == 1 else ''}" if verb else ""
    return f"row{'s' if len(idx) > 1 else ''} {shown}{more}{verb}"


_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlist, _short.maxdict, _short.maxtuple = 30, 30, 4, 3, 4


def _cell(value: object) -> str:
    """A cell for a one-line message."""
    text = " ".join(_short.repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."


#: Cells that are not numbers, by kind; ``None`` marks a cell that is (or may be read as) a number.
_NESTED = (list, tuple, dict, set, frozenset, np.ndarray, pd.Series)
_KINDS: tuple[tuple[type | tuple[type, ...], str | None], ...] = (
    ((bool, np.bool_), "booleans"),
    (_NESTED, "lists, maps or structs (nested cells)"),
    ((bytes, bytearray, memoryview), "bytes"),
    ((complex, np.complexfloating), "complex numbers"),
    ((datetime.date, datetime.time, np.datetime64), "dates or times"),
    ((datetime.timedelta, np.timedelta64), "durations"),
    (Unreadable, "values of a parquet type pandas cannot convert"),
    ((int, float, decimal.Decimal, str, np.integer, np.floating, type(None), type(pd.NA), type(pd.NaT)), None),
)


#: Kinds of scalar that may label runs (a seed, a group), though they are not numbers.
_SCALARS = ("booleans", "bytes", "complex numbers", "dates or times", "durations")


def _kind(cell_type: type) -> str | None:
    for types, kind in _KINDS:
        if issubclass(cell_type, types):
            return kind
    return f"objects of type {cell_type.__name__!r}"


def _refuse_cells(series: pd.Series, column: str, allowed: tuple[str, ...] = ()) -> None:
    """Raise a :class:`DataError` naming the first rows whose cells are not plain scalars of ``allowed`` kinds."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        kind = "booleans"
    elif isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        kind = "dates or times"
    elif pd.api.types.is_timedelta64_dtype(dtype):
        kind = "durations"
    elif pd.api.types.is_complex_dtype(dtype):
        kind = "complex numbers"
    elif isinstance(dtype, (pd.PeriodDtype, pd.IntervalDtype)):
        kind = f"{dtype.name} values"
    elif pd.api.types.is_numeric_dtype(dtype):
        return
    else:
        types = series.map(type, na_action=None) if not isinstance(dtype, pd.CategoricalDtype) else \
            series.astype(object).map(type)
        bad = {t: _kind(t) for t in set(types)}
        bad = {t: k for t, k in bad.items() if k is not None and k not in allowed}
        if not bad:
            return
        rows = np.flatnonzero(types.isin(list(bad)).to_numpy())
        kind = bad[types.iloc[rows[0]]]
        fix = ("store one value a cell (flatten the column)" if kind == _KINDS[1][1] else
               "convert them" + (" to numbers" if not allowed else ""))
        raise DataError(f"column '{column}' holds {kind}, not {'plain values' if allowed else 'numbers'}: "
                        f"{_rows(rows, verb='hold')} {_cell(series.iloc[rows[0]])}; {fix}, or drop those runs")
    if kind not in allowed:
        raise DataError(f"column '{column}' holds {kind} ({dtype}), not numbers: convert it to numbers "
                        "or choose another column")


def _numeric(series: pd.Series, name: str) -> pd.Series:
    _refuse_cells(series, name)
    values = pd.to_numeric(series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series,
                           errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & series.notna().to_numpy())
    if len(bad):
        raise DataError(f"column '{name}' is not numeric: {_rows(bad, verb='hold')} {_cell(series.iloc[bad[0]])}; "
                        "fix or drop those rows")
    return values.astype(float)


def load_runs(
    source: str | Path | pd.DataFrame,
    *,
    target: str = DEFAULT_TARGET,
    features: str | Sequence[str] | None = None,
    group: str | None = None,
    where: str | None = None,
    repeats: str = "keep",
) -> RunTable:
    """Load and validate a run table.

    Parameters
    ----------
    source:
        A ``.parquet``/``.csv``/``.csv.gz``/``.tsv`` path or a DataFrame.
    target:
        The column to predict (default ``loss``).
    features:
        Columns to use, as a list or a comma-separated string; ``NAME=column`` renames a column to a
        canonical variable. Default: the columns of ``D, N, Na, G, S`` that the table has.
    group:
        A column whose values split the runs into groups (e.g. ``router_type``).
    where:
        A pandas query selecting the runs to keep, e.g. ``"step == 249000 and k == 1"``.
    repeats:
        What to do with runs whose configuration repeats (seeds; tables merged over a column left
        out): ``"keep"`` (default; :attr:`RunTable.repeated` counts them), ``"mean"`` (one run per
        configuration, the mean loss) or ``"error"`` (refuse repeats with different losses that no
        ``seed`` column tells apart).

    Raises
    ------
    DataError
        For an unreadable file or path, a missing column, cells that are not plain numbers (nested
        lists, maps or structs; booleans; dates; bytes), NaN or inf, non-positive values in a feature
        whose log is taken, ``Na > N``, ``G < 1``, ``S`` outside ``[0, 1)``, conflicting duplicates,
        or an empty table.
    OptionError
        For an unknown ``repeats``, a malformed ``features``, or a target, feature or group named twice.
        No other exception type leaves the loader.
    """
    label = "<DataFrame>" if isinstance(source, pd.DataFrame) else show_source(source)
    try:
        return _load(source, label, target, features, group, where, repeats)
    except LawfindError:
        raise
    except Exception as exc:  # the last guard: a table the checks above did not foresee
        raise DataError(f"cannot interpret '{label}': {type(exc).__name__}: {' '.join(str(exc).split())[:200]}. "
                        "Check the columns the load uses (and please report this message)") from None


def show_source(source: object) -> str:
    """The source of a table for a message: a path shown on one line, or the kind of object."""
    return show_path(source) if isinstance(source, (str, bytes, Path)) else f"<{type(source).__name__}>"


def _load(source, label: str, target: str, features, group: str | None, where: str | None,
          repeats: str) -> RunTable:
    check_choice("repeats option", repeats, REPEATS)
    frame = source.copy() if isinstance(source, pd.DataFrame) else read_table(source)
    frame.columns = [str(c) for c in frame.columns]
    if len(frame.columns) != len(set(frame.columns)):
        raise DataError("the table has repeated column names: give each column a unique name")
    if where:
        try:
            frame = frame.query(where).reset_index(drop=True)
        except Exception as exc:  # pandas raises many types for a bad query
            raise DataError(f"cannot apply the filter '{printable(where)}': {type(exc).__name__}: "
                            f"{printable(' '.join(str(exc).split()), 200)}. "
                            "Write a pandas query such as \"step == 249000 and k == 1\"") from None
    if len(frame) == 0:
        raise DataError(f"the table is empty{' after the filter ' + repr(where) if where else ''}: "
                        "a fit needs runs")

    pairs = parse_features(features)
    if not pairs:
        pairs = [(c, c) for c in DEFAULT_FEATURES if c in frame.columns]
        if not pairs:
            _column(frame, DEFAULT_FEATURES[0], "feature")  # raises with a did-you-mean
    names = [n for n, _ in pairs]
    for role, name in (("target", target), ("group", group)):
        if name is not None and name in names:
            raise OptionError(f"'{name}' is both a feature and the {role}: choose other features or another {role}")
    if group is not None and group == target:
        raise OptionError(f"'{group}' is both the target and the group: choose another group column")
    y = _numeric(_column(frame, target, "target"), target)
    out = pd.DataFrame({name: _numeric(_column(frame, col, "feature"), col) for name, col in pairs})
    out[target] = y
    if group is not None:
        out[group] = _labels(_column(frame, group, "group"), group)
    seed = None
    if "seed" in frame.columns:
        _refuse_cells(frame["seed"], "seed", allowed=_SCALARS)
        seed = frame["seed"].to_numpy()

    _check_values(out, names, target, dict(pairs))
    keys = names + ([group] if group else [])
    out = _check_repeats(out, keys, target, seed, repeats)
    return RunTable(out.reset_index(drop=True), tuple(names), target, group, dict(pairs), label,
                    int(out.duplicated(keys, keep=False).sum()))


def _labels(series: pd.Series, column: str) -> np.ndarray:
    """Group labels as strings; nested or missing labels are refused."""
    _refuse_cells(series, column, allowed=_SCALARS)
    missing = np.flatnonzero(series.isna().to_numpy())
    if len(missing):
        raise DataError(f"group column '{column}' has missing labels at {_rows(missing)}: fill them or drop those runs")
    return series.astype(str).to_numpy()


def _check_values(frame: pd.DataFrame, features: list[str], target: str, columns: Mapping[str, str]) -> None:
    for name in [*features, target]:
        col = columns.get(name, name)
        values = frame[name].to_numpy()
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            kind = "NaN" if np.isnan(values[bad[0]]) else "inf"
            raise DataError(f"column '{col}' has {kind} at {_rows(bad)}: drop those runs or fill in the values")
        if scale(name) == "linear":  # a bounded ratio
            bad = np.flatnonzero((values < 0) | (values >= 1))
            if len(bad):
                raise DataError(f"column '{col}' ({name}, {MEANINGS.get(name, 'a ratio')}) must lie in [0, 1): "
                                f"{_rows(bad, verb='hold')} {values[bad[0]]:g}; S is shared / (shared + activated routed)")
            continue
        bad = np.flatnonzero(values <= 0)
        if len(bad):
            raise DataError(f"column '{col}' must be positive (its log is taken): {_rows(bad, verb='hold')} "
                            f"{values[bad[0]]:g}; drop those runs or use another column")
    if "G" in features:
        bad = np.flatnonzero(frame["G"].to_numpy() < 1)
        if len(bad):
            raise DataError(f"column '{columns['G']}' (G, {MEANINGS['G']}) must be at least 1: "
                            f"{_rows(bad, verb='hold')} {frame['G'].iloc[bad[0]]:g}")
    if "Na" in features and "N" in features:
        with np.errstate(over="ignore"):  # N near the largest float: N (1 + 1e-9) is inf, and Na <= it
            bad = np.flatnonzero(frame["Na"].to_numpy() > frame["N"].to_numpy() * (1 + 1e-9))
        if len(bad):
            raise DataError(f"activated parameters exceed total parameters (Na > N) at {_rows(bad)}: "
                            f"check that '{columns['Na']}' and '{columns['N']}' are not swapped")


def _check_repeats(frame: pd.DataFrame, keys: list[str], target: str, seed: np.ndarray | None,
                   repeats: str) -> pd.DataFrame:
    """Average repeated configurations (``mean``), or refuse repeats with different losses that no
    seed tells apart (``error``); ``keep`` keeps them."""
    if repeats == "mean":
        if frame.duplicated(keys).any():
            return frame.groupby(keys, as_index=False, sort=False)[target].mean()
        return frame
    if repeats == "keep":
        return frame
    key_frame = frame[keys].copy()
    if seed is not None:
        key_frame["__seed"] = seed
    dup = key_frame.duplicated(keep=False).to_numpy()
    if not dup.any():
        return frame
    groups = key_frame[dup].groupby(list(key_frame.columns), dropna=False, sort=False).groups
    conflicts = [list(idx) for idx in groups.values() if frame.loc[list(idx), target].nunique() > 1]
    if conflicts:
        first = conflicts[0]
        raise DataError(f"{len(conflicts)} configuration(s) repeat with different {target}: {_rows(first)} "
                        f"(values {', '.join(f'{v:g}' for v in frame.loc[first, target])}). Add a 'seed' column "
                        "that tells repeats apart, or pass repeats='keep' / 'mean' (--repeats keep|mean)")
    return frame
