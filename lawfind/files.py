"""Reading run-table files: parquet, CSV, TSV and gzipped CSV.

Every failure to read a file becomes a :class:`~lawfind.errors.DataError` that names the file and
says what to do: a path that does not exist, is a folder, is too long or holds odd bytes; a format
the name does not promise; a truncated or garbled file; repeated column names. A parquet column that
pandas cannot convert does not sink the whole file: it is kept as :class:`Unreadable` cells, which
the loader refuses only if the column is used.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from .errors import DataError, printable, show_path

__all__ = ["SUFFIXES", "Unreadable", "read_table", "file_sha256"]

SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz", ".tsv")


class Unreadable:
    """A parquet cell whose column pandas could not convert (its arrow type is kept for messages)."""

    def __init__(self, arrow_type: str) -> None:
        self.arrow_type = arrow_type

    def __repr__(self) -> str:
        return f"<unreadable {self.arrow_type}>"


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes (hex), for provenance: which file a result came from."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a parquet, CSV or TSV file (``.csv.gz`` too), with a clear error if it cannot be read.

    Raises
    ------
    DataError
        For a missing, unreadable or malformed file; never another exception type.
    """
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)):
        raise DataError(f"cannot read a {type(path).__name__!r} object as a run table: give a file's path or a DataFrame")
    path = Path(path)
    shown = show_path(path)
    try:
        exists, folder = path.exists(), path.is_dir()
    except (OSError, ValueError) as exc:  # a name too long for the file system, a NUL byte in the path
        raise DataError(f"cannot read '{shown}': {_why(exc)}") from None
    if not exists:
        raise DataError(f"no such file: '{shown}'. Check the path (run tables live under runs/)")
    if folder:
        raise DataError(f"'{shown}' is a folder: give a .parquet or .csv file")
    name = path.name.lower()
    if not name.endswith(SUFFIXES):
        raise DataError(f"cannot read '{shown}': unknown format '{path.suffix}'. Use one of {', '.join(SUFFIXES)}")
    parquet = name.endswith((".parquet", ".pq"))
    try:
        return _read_parquet(path) if parquet else _read_csv(path, "\t" if name.endswith(".tsv") else ",")
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"'{shown}' is empty: a run table needs a header and at least one run") from None
    except OSError as exc:
        if exc.errno is not None:  # permission, I/O: not about the file's contents
            raise DataError(f"cannot read '{shown}': {_why(exc)}") from None
        raise _malformed(shown, parquet, exc) from None  # gzip and pyarrow report bad contents as OSError
    except Exception as exc:  # pyarrow, csv, gzip and decoding errors have no common base class
        raise _malformed(shown, parquet, exc) from None


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception:  # noqa: BLE001 - a column pandas cannot convert: convert the others, mark that one
        table = pq.read_table(path)  # a file pyarrow cannot read at all raises here, for read_table to report
    columns = []
    for field, column in zip(table.schema, table.columns):
        try:
            columns.append(column.to_pandas())
        except Exception:  # noqa: BLE001
            columns.append(pd.Series([Unreadable(str(field.type))] * len(column), dtype=object))
    frame = pd.concat(columns, axis=1) if columns else pd.DataFrame()
    frame.columns = table.column_names
    return frame


def _read_csv(path: Path, sep: str) -> pd.DataFrame:
    header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False)
    names = [str(v) for v in header.iloc[0]] if len(header) else []
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"'{show_path(path)}' repeats the column name(s) {', '.join(printable(repr(n), 40) for n in repeated)} in its "
                        "header: give each column a unique name")
    return pd.read_csv(path, sep=sep)


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        return "the name is too long for the file system (at most 255 bytes a part); shorten or move the file"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}. Check the path and its permissions"
    return f"{_first_line(exc)}. Check the path"


def _malformed(shown: str, parquet: bool, exc: BaseException) -> DataError:
    return DataError(f"cannot read '{shown}' as {'parquet' if parquet else 'CSV'}: {type(exc).__name__}: "
                     f"{_first_line(exc)}. Is the file complete and in the format its name says?")


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(exc).__name__
