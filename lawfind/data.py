"""Run tables: load parquet or CSV, choose target/features/group, and validate.

The default schema is ``D, N, Na, G, S`` -> ``loss`` (see ``docs/schema.md``). Any other columns may
be chosen by name, and a feature may be given a canonical name: ``"N=dense_parameter_count"`` lets the
catalogue's laws in ``N`` read that column.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import gzip
import hashlib
import math
import re
import reprlib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .errors import DataError, LawfindError, OptionError, check_choice, did_you_mean, printable, show_path
from .files import SUFFIXES, Unreadable, read_table
from .symbols import DEFAULT_FEATURES, DEFAULT_TARGET, MEANINGS, domain_text, in_domain, infer_role, scale

__all__ = ["RunTable", "load_runs", "read_table", "parse_features", "REPEATS", "SUFFIXES", "SCALES", "target_scale"]
#: What to do with repeated configurations that no seed column tells apart.
REPEATS = ("error", "keep", "mean")
#: The scales a target is fitted and scored on: ``log`` (a positive loss: residuals of log loss, about
#: relative errors) or ``linear`` (a target of any sign: residuals in the target's units, divided by
#: its spread in the fit).
SCALES = ("log", "linear")


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
    notes:
        What the loader read otherwise than the file wrote it, one sentence each (a header cell
        ``'N '`` read as ``N``); the command line prints them.
    scale:
        The target's scale (:data:`SCALES`): ``"log"`` for a positive target, ``"linear"`` where a
        target value is ``<= 0`` (a normalised loss, a log-ratio), decided once at load.
    spread:
        The target's standard deviation at load (1 where it is constant), fixed for every subset: a
        linear-scale fit divides its residuals by it, so that the Huber threshold means the same share
        of the target's spread on every split.
    """

    frame: pd.DataFrame
    features: tuple[str, ...]
    target: str
    group: str | None = None
    columns: Mapping[str, str] | None = None
    source: str = "<DataFrame>"
    repeated: int = 0
    notes: tuple[str, ...] = ()
    scale: str = "log"
    spread: float = 1.0

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise OptionError(f"unknown target scale '{self.scale}'{did_you_mean(self.scale, SCALES)}; "
                              f"choose one of: {', '.join(SCALES)}")
        if not (math.isfinite(self.spread) and self.spread > 0):
            raise OptionError(f"the target's spread must be a finite number > 0, got {self.spread}")

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
                        int(frame.duplicated(keys, keep=False).sum()), self.notes, self.scale, self.spread)

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


#: Names the loader reads without being told: the default features, the default target and the seed.
CANONICAL = (*DEFAULT_FEATURES, DEFAULT_TARGET, "seed")

#: Greek and Cyrillic letters drawn like Latin ones: in a header they hide the column a reader sees.
_HOMOGLYPHS = str.maketrans({
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧοαρνικυχ", "ABEZHIKMNOPTYXoapvikux")),  # Greek
    **dict(zip("АВСЕНІЈКМОРЅТХҮԌасеіјорѕхуԁӏһԛԝ", "ABCEHIJKMOPSTXYGaceijopsxydlhqw")),  # Cyrillic
})


def _clean(name: str) -> str:
    """A header cell without invisible (format) characters and surrounding whitespace."""
    return "".join(c for c in name if unicodedata.category(c) != "Cf").strip()


def _latin(name: str) -> str:
    """``name`` with lookalike letters (Greek, Cyrillic, fullwidth, mathematical) as the Latin ones they mimic."""
    return "".join(unicodedata.normalize("NFKC", c.translate(_HOMOGLYPHS)) for c in name)


def _char(c: str) -> str:
    """A character's Unicode name (``GREEK CAPITAL LETTER NU``), or its code point."""
    return unicodedata.name(c, f"U+{ord(c):04X}")


def _skeleton(name: str) -> str:
    return re.sub(r"[\W_]+", "", _latin(_clean(name))).casefold()


def _match(column: str, name: str) -> str | None:
    """How header cell ``column`` resembles the missing name ``name``: ``"spacing"`` (whitespace or
    invisible characters), ``"case"`` (a canonical name in another case), ``"lookalike"`` (letters of
    another script), ``"near"`` (a canonical name with other punctuation), or ``None``."""
    clean, canonical = _clean(column), name in CANONICAL
    same = (lambda a, b: a.casefold() == b.casefold()) if canonical else str.__eq__
    if clean == name:
        return "spacing"
    if canonical and same(clean, name):
        return "case"
    if same(_latin(clean), name):
        return "lookalike"
    if canonical and _skeleton(column) == _skeleton(name):
        return "near"
    return None


def _resolve(columns: Sequence[str], wanted: Sequence[str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """The header cell each missing ``wanted`` name evidently means, with a note for each.

    A cell that differs from the name only by surrounding whitespace or invisible characters (or, for
    a canonical name, by case) stands for it; a cell that is the name written with letters of another
    script, or a canonical name with other punctuation (``N_a``), is refused: it may mean the name or
    something else, and dropping it quietly would change the law found.
    """
    found, notes = {}, []
    for name in dict.fromkeys(wanted):
        if name in columns:
            continue
        matches = [(c, how) for c in columns if c not in wanted and (how := _match(c, name))]
        if not matches:
            continue
        if len(matches) > 1:
            listed = " and ".join(f"'{printable(c, 40)}'" for c, _ in matches[:3])
            raise DataError(f"columns {listed} {'both' if len(matches) == 2 else 'all'} look like '{name}': "
                            f"rename the one you mean to '{name}' "
                            "and the others to other names")
        column, how = matches[0]
        if how == "lookalike":
            odd = next(c for c in _clean(column) if _latin(c) != c)
            raise DataError(f"column '{printable(column, 40)}' uses {_char(odd)}; "
                            f"did you mean '{name}'? rename it")
        if how == "near":
            raise DataError(f"column '{printable(column, 40)}' is not the column '{name}' (did you mean '{name}'?): "
                            f"rename it to '{name}', or map it with the feature {name}={printable(column, 40)}")
        found[name] = column
        visible = "".join(c for c in column if unicodedata.category(c) != "Cf")
        invisible = sorted({_char(c) for c in column if unicodedata.category(c) == "Cf"})
        why = [*(["surrounding whitespace"] if visible != visible.strip() else []),
               *(f"the invisible character {n}" for n in invisible), *(["case"] if visible.strip() != name else [])]
        notes.append(f"column '{printable(column, 40)}' read as '{name}' (it differs by {' and '.join(why)})")
    return found, tuple(notes)


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


_HINTS = {"decimal comma": "a decimal comma? write 2.5 for 2,5",
          "date": "dates are not numbers: choose another column, or convert them to numbers",
          "boolean": "booleans are not numbers: choose another column, or convert them to numbers"}


def _looks(cell: object) -> str | None:
    """What a text cell that is not a number looks like: a number with a decimal comma, a date, a boolean."""
    text = str(cell).strip() if isinstance(cell, str) else ""
    if re.fullmatch(r"[+-]?\d+,\d+([eE][+-]?\d+)?", text):
        return "decimal comma"
    if re.fullmatch(r"\d{4}-\d\d-\d\d([ T][\d:.]+)?|\d{1,2}/\d{1,2}/\d{2,4}|\d\d?:\d\d(:\d\d)?", text):
        return "date"
    return "boolean" if text.lower() in ("true", "false") else None


def _numeric(series: pd.Series, name: str) -> pd.Series:
    _refuse_cells(series, name)
    values = pd.to_numeric(series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series,
                           errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & series.notna().to_numpy())
    if len(bad):
        cell = series.iloc[bad[0]]
        raise DataError(f"column '{name}' is not numeric: {_rows(bad, verb='hold')} {_cell(cell)}; "
                        f"{_HINTS.get(_looks(cell), 'fix or drop those rows')}")
    return values.astype(float)


def load_runs(
    source: str | Path | pd.DataFrame,
    *,
    target: str = DEFAULT_TARGET,
    features: str | Sequence[str] | None = None,
    group: str | None = None,
    where: str | None = None,
    repeats: str = "keep",
    scale: str | None = None,
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
    scale:
        The target's scale, ``"log"`` or ``"linear"`` (:attr:`RunTable.scale`); default: ``log`` where
        every target value is positive, else ``linear``.

    Raises
    ------
    DataError
        For an unreadable file or path, a missing column, cells that are not plain numbers (nested
        lists, maps or structs; booleans; dates; bytes), NaN or inf, non-positive values in a feature
        whose log is taken (or a target on the log scale), ``Na > N``, ``G < 1``, ``S`` outside ``[0, 1)``, conflicting duplicates,
        or an empty table.
    OptionError
        For an unknown ``repeats``, a malformed ``features``, or a target, feature or group named twice.
        No other exception type leaves the loader.
    """
    label = "<DataFrame>" if isinstance(source, pd.DataFrame) else show_source(source)
    try:
        return _load(source, label, target, features, group, where, repeats, scale)
    except LawfindError:
        raise
    except Exception as exc:  # the last guard: a table the checks above did not foresee
        raise DataError(f"cannot interpret '{label}': {type(exc).__name__}: {' '.join(str(exc).split())[:200]}. "
                        "Check the columns the load uses (and please report this message)") from None


def show_source(source: object) -> str:
    """The source of a table for a message: a path shown on one line, or the kind of object."""
    return show_path(source) if isinstance(source, (str, bytes, Path)) else f"<{type(source).__name__}>"


def _load(source, label: str, target: str, features, group: str | None, where: str | None,
          repeats: str, scale: str | None = None) -> RunTable:
    check_choice("repeats option", repeats, REPEATS)
    if scale is not None:
        check_choice("target scale", scale, SCALES)
    if isinstance(source, pd.DataFrame):
        frame, flagged = source.copy(), {}
    else:
        try:
            frame = read_table(source)
        except DataError:
            _explain(source, label)  # a row of another width than the header, named with its line and likely cause
            raise
        flagged = _check_file(source, label, len(frame))
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
    wanted = [c for _, c in pairs] or list(DEFAULT_FEATURES)
    found, notes = _resolve(list(frame.columns), [*wanted, target, *([group] if group else []), "seed"])
    col = lambda name: found.get(name, name)  # noqa: E731 - the header cell read for a name
    if pairs:
        pairs = [(name, col(column)) for name, column in pairs]
    else:
        pairs = [(c, col(c)) for c in DEFAULT_FEATURES if col(c) in frame.columns]
        if not pairs:
            pairs = _named_features(frame, {col(target), col(group) if group else None, col("seed")})
            if not pairs:
                _column(frame, DEFAULT_FEATURES[0], "feature")  # raises with a did-you-mean
            notes += (f"features from the column names: {', '.join(c for c, _ in pairs)} (a size, data or "
                         "compute by its name; --features to choose others)",)
    names = [n for n, _ in pairs]
    for role, name in (("target", target), ("group", group)):
        if name is not None and name in names:
            raise OptionError(f"'{name}' is both a feature and the {role}: choose other features or another {role}")
    if group is not None and group == target:
        raise OptionError(f"'{group}' is both the target and the group: choose another group column")
    for column in [c for _, c in pairs] + [col(target)]:
        if column in flagged:
            raise DataError(f"column '{printable(column, 40)}' holds {flagged[column]}, not numbers: convert it to "
                            "numbers or choose another column")
    y = _numeric(_column(frame, col(target), "target"), col(target))
    out = pd.DataFrame({name: _numeric(_column(frame, column, "feature"), column) for name, column in pairs})
    out[target] = y
    if group is not None:
        out[group] = _labels(_column(frame, col(group), "group"), col(group))
    seed = None
    if col("seed") in frame.columns:
        _refuse_cells(frame[col("seed")], col("seed"), allowed=_SCALARS)
        seed = frame[col("seed")].to_numpy()

    _check_values(out, names, target, {**dict(pairs), target: col(target)}, scale)
    keys = names + ([group] if group else [])
    out = _check_repeats(out, keys, target, seed, repeats)
    y = out[target].to_numpy(float)
    chosen = scale or target_scale(y)
    spread = float(np.std(y)) if len(y) > 1 and np.std(y) > 0 else 1.0
    return RunTable(out.reset_index(drop=True), tuple(names), target, group, dict(pairs), label,
                    int(out.duplicated(keys, keep=False).sum()), notes, chosen, spread)


def _named_features(frame: pd.DataFrame, taken: set) -> list[tuple[str, str]]:
    """The default features of a table with none of D, N, Na, G, S: its numeric columns whose names say
    they are a model size, data or compute (``params``, ``tokens``, ``num_params``, ``flops``:
    :func:`lawfind.symbols.infer_role`), each under its own name."""
    return [(c, c) for c in frame.columns
            if c not in taken and pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
            and infer_role(c) in ("size", "data", "compute")]


def target_scale(y: np.ndarray) -> str:
    """``"log"`` where every target value is positive, else ``"linear"`` (:attr:`RunTable.scale`)."""
    return "log" if bool(np.all(np.asarray(y, float) > 0)) else "linear"


def _check_file(source: str | Path, label: str, runs: int) -> dict[str, str]:
    """Check what pandas may misread in a file: in a text table, a row wider or narrower than the header
    (an unquoted decimal comma shifts every value); in parquet, columns of booleans stored as
    integers. Returns those columns, with what they hold (refused if a load uses them)."""
    name = str(source).lower()
    if name.endswith((".parquet", ".pq")):
        schema = pq.read_schema(source)
        return {f.name: f"booleans ({f.type})" for f in schema
                if getattr(f.type, "extension_name", None) == "arrow.bool8"}
    try:
        width, count = _widths(source, label)
    except csv.Error as exc:
        raise DataError(f"cannot read '{label}' as CSV: {printable(exc, 200)}. Check the quoting of its cells") from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read '{label}' as CSV: {type(exc).__name__}: {printable(exc, 200)}. "
                        "Is the file complete and in the format its name says?") from None
    if count != runs:
        raise DataError(f"'{label}' has {count} rows of {width} fields after its header, but {runs} were read: "
                        "check the quoting of its cells")
    return {}


def _explain(source: object, label: str) -> None:
    """Raise the width error of a text table pandas could not read, if it has one (else return)."""
    try:
        if str(source).lower().endswith((".parquet", ".pq")) or not Path(source).is_file():
            return
        _widths(source, label)
    except (OSError, EOFError, ValueError, TypeError, csv.Error) as exc:
        if isinstance(exc, DataError):
            raise
        return


def _widths(source: str | Path, label: str) -> tuple[int, int]:
    """The header's width and the number of runs of a text table; a row of another width is refused
    with its line number. Blank lines are skipped, as pandas skips them."""
    name = str(source).lower()
    sep = "\t" if name.endswith(".tsv") else ","
    with (gzip.open if name.endswith(".gz") else open)(source, "rt", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=sep, strict=True)
        width, count, line, semicolons = None, 0, 0, False
        for record in reader:
            start, line = line + 1, reader.line_num
            if not record or (len(record) == 1 and not record[0].strip(" \t")):
                continue
            if width is None:
                width, semicolons = len(record), len(record) == 1 and ";" in record[0]
                continue
            count += 1
            if len(record) != width:
                more = len(record) > width
                fix = ("its header is one cell with ';' in it: write the table with ',' between cells and '.' in "
                       "numbers" if semicolons and sep == "," else
                       "a decimal comma (2,5) or a comma inside a cell? write 2.5, or quote the cell" if more and
                       sep == "," else "extra cells? delete them" if more else "a cut or incomplete row? complete it")
                raise DataError(f"'{label}' line {start} has {len(record)} field{'s' if len(record) != 1 else ''} but "
                                f"the header has {width}: "
                                f"{fix}, or delete the line")
    return width or 0, count


def _labels(series: pd.Series, column: str) -> np.ndarray:
    """Group labels as strings; nested or missing labels are refused."""
    _refuse_cells(series, column, allowed=_SCALARS)
    missing = np.flatnonzero(series.isna().to_numpy())
    if len(missing):
        raise DataError(f"group column '{column}' has missing labels at {_rows(missing)}: fill them or drop those runs")
    return series.astype(str).to_numpy()


def _check_values(frame: pd.DataFrame, features: list[str], target: str, columns: Mapping[str, str],
                  scale_: str | None = None) -> None:
    for name in [*features, target]:
        col = columns.get(name, name)
        values = frame[name].to_numpy()
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            kind = "NaN" if np.isnan(values[bad[0]]) else "inf"
            raise DataError(f"column '{col}' has {kind} at {_rows(bad)}: drop those runs or fill in the values")
        if scale(name) == "linear":  # a bounded ratio or a proportion
            bad = np.flatnonzero(~in_domain(name, values))
            if len(bad):
                what = "S is shared / (shared + activated routed)" if name == "S" else \
                    "a column whose name says proportion or fraction is read as one"
                raise DataError(f"column '{col}' ({name}, {MEANINGS.get(name, 'a proportion')}) must lie "
                                f"{domain_text(name)}: {_rows(bad, verb='hold')} {values[bad[0]]:g}; {what}")
            continue
        if name == target and scale_ != "log":
            continue  # a target of any sign is read on a linear scale
        bad = np.flatnonzero(values <= 0)
        if len(bad) and name == target:
            raise DataError(f"target '{col}' must be positive on the log scale: {_rows(bad, verb='hold')} "
                            f"{values[bad[0]]:g}; leave the scale to the loader (scale='linear', --scale linear, "
                            "fits a target of any sign) or drop those runs")
        if len(bad) and values.min() >= 0 and values.max() <= 1:
            raise DataError(f"column '{col}' holds proportions in [0, 1] with zeros ({_rows(bad, verb='hold')} 0): "
                            "lawfind reads it on a log scale (its name does not say proportion or fraction), and the "
                            "log of 0 is not a number; map it to a name that does (--features code_fraction=code), "
                            "leave it out of --features, or drop the runs with zeros")
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
