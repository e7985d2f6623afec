"""Fuzz the run-table loader: 10,000 malformed tables, each accepted, refused with lawfind's error, or crashed.

Usage: python benchmarks/fuzz_loader.py [--n 10000] [--seed 0]

Each table comes from one class of defect (missing and unknown columns, strings, NaN, inf, zeros,
Na > N, S out of range, G < 1, repeats, truncated and garbage files, exotic parquet types, nested
cells, long and odd paths, empty files, repeated column names, objects in columns, extreme values,
header lookalikes, invisible characters in headers, decimal commas, ragged rows, booleans, dates),
sometimes with a second value defect on top, written as CSV, TSV, gzipped CSV, parquet or passed as
a DataFrame. Each table ends in one outcome: crashed, hung, wrongly accepted (the reader refuses it,
or its values differ from the file's), a meant column dropped (with or without a note), a good
table refused, a clean refusal, or correctly accepted. The target is 0 of the first four.

A header cell the generator wrote for a canonical name (``'N '``, ``'G\u200d'``, ``'Loss'``, ``'Ν'``,
``'N_a'``) is read by the judge as that name: what the user evidently meant. The loader may read it
(with a note) or refuse it, but must not load the table without it; two cells meaning one name make
the table unreadable. A text row with another number of fields than the header (an unquoted decimal
comma, a cut row, a trailer) makes the file unreadable; lines of spaces and tabs only are blank.

How an outcome is judged, independently of lawfind: the script reads each file back itself (the
``csv`` and ``gzip`` modules for text, pyarrow for parquet; the DataFrame as it is) and decides what
a careful reader would do: accept only if every cell the load uses is a plain finite number (a
number written in the usual decimal or exponent form; booleans, bytes, dates, nested cells and
missing values are not), the log-scale columns are > 0, 0 <= S < 1, G >= 1, Na <= N, the path and
column names are sound, and (unless repeats are kept or averaged) no configuration repeats with
another loss. An accepted table must be one the reader accepts, with the loaded values equal, number
for number, to the file's; a refused table should be one the reader refuses (a good table refused is
counted too). Refusals by the loader's last-resort guard ("cannot interpret") are counted apart: each
is a class of input the loader's own checks did not foresee.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import decimal
import gzip
import io
import math
import os
import re
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lawfind.data import load_runs  # noqa: E402
from lawfind.errors import LawfindError  # noqa: E402

COLUMNS = ("D", "N", "Na", "G", "S")
LOG_SCALE = {"D", "N", "Na", "G", "loss"}
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity|nan)$", re.IGNORECASE)
#: Strings pandas reads as missing in a text file (its default na_values).
NA_TEXT = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
           "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
STRINGS = ["abc", "", " ", "1e3", "0x10", "NaN", "inf", "-", "1,5", "nan", "None", "3.0", "NA", "--1", "1e400",
           "+5", ".5", "five", "1.2.3", "2e-3", "∞", "1 000"]
FORMATS = ("csv", "tsv", "csv.gz", "parquet", "frame")


@dataclass
class Case:
    """One generated input: where it is, how to load it, and what the judge expects."""

    kind: str
    source: object = None  # a path (str) or a DataFrame
    kwargs: dict = field(default_factory=dict)
    fmt: str = "frame"
    unwritable: bool = False  # a path that cannot exist (too long, NUL byte): the reader refuses
    meant: dict = field(default_factory=dict)  # header cell -> the canonical name the user evidently meant
    refusal_ok: bool = False  # a refusal is as good as an acceptance (a header lawfind may decline to guess)


# ---- generating tables ---------------------------------------------------------------------------------

def base_frame(rng: np.random.Generator) -> pd.DataFrame:
    n = int(rng.integers(1, 13))
    N = 10 ** rng.uniform(6, 10, n)
    cols = {"D": 10 ** rng.uniform(8, 11, n), "N": N, "Na": N * rng.uniform(0.05, 1.0, n),
            "G": rng.integers(1, 17, n).astype(float), "S": rng.uniform(0, 0.9, n), "loss": rng.uniform(1.5, 4, n)}
    keep = [c for c in COLUMNS if rng.random() < 0.8] or ["N"]
    frame = pd.DataFrame({c: cols[c] for c in [*keep, "loss"]})
    if rng.random() < 0.3:
        frame["seed"] = rng.integers(0, 3, n)
    if rng.random() < 0.2:
        frame["router"] = rng.choice(["a", "b"], n)
    return frame


def _cells(frame: pd.DataFrame, rng: np.random.Generator, column: str | None = None) -> tuple[str, np.ndarray]:
    column = column or str(rng.choice([c for c in frame.columns if c not in ("router",)]))
    rows = rng.choice(len(frame), size=int(rng.integers(1, len(frame) + 1)), replace=False)
    return column, rows


def _set(frame: pd.DataFrame, column: str, rows, values) -> None:
    frame[column] = frame[column].astype(object)
    for r, v in zip(rows, values if isinstance(values, list) else [values] * len(rows)):
        frame.iat[int(r), frame.columns.get_loc(column)] = v


def mutate_values(kind: str, frame: pd.DataFrame, rng: np.random.Generator, kwargs: dict) -> pd.DataFrame:
    """The frame with a value-level defect."""
    frame = frame.copy()
    numeric = [c for c in frame.columns if c in (*COLUMNS, "loss")]
    if kind == "strings":
        col, rows = _cells(frame, rng)
        _set(frame, col, rows, [str(rng.choice(STRINGS)) for _ in rows])
    elif kind == "nan":
        col, rows = _cells(frame, rng)
        _set(frame, col, rows, float("nan"))
    elif kind == "inf":
        col, rows = _cells(frame, rng)
        _set(frame, col, rows, float(rng.choice([np.inf, -np.inf])))
    elif kind == "zeros":
        col, rows = _cells(frame, rng, str(rng.choice(numeric)))
        _set(frame, col, rows, float(rng.choice([0.0, -0.0, -1.0, -1e-300])))
    elif kind == "na_gt_n" and {"N", "Na"} <= set(frame.columns):
        rows = rng.choice(len(frame), size=1)
        n_value = pd.to_numeric(pd.Series([frame["N"].iloc[int(rows[0])]]), errors="coerce").iloc[0]
        n_value = 1e9 if pd.isna(n_value) else float(n_value)
        _set(frame, "Na", rows, n_value * float(rng.choice([1 + 1e-12, 1 + 1e-6, 2, 10])))
    elif kind == "s_range" and "S" in frame.columns:
        col, rows = _cells(frame, rng, "S")
        _set(frame, col, rows, float(rng.choice([-0.1, 1.0, 1.5, 0.999999, -1e-12, 0.0])))
    elif kind == "g_below_one" and "G" in frame.columns:
        col, rows = _cells(frame, rng, "G")
        _set(frame, col, rows, float(rng.choice([0.5, 0.999, 1.0, 2.5])))
    elif kind == "extremes":
        col, rows = _cells(frame, rng, str(rng.choice(numeric)))
        _set(frame, col, rows, float(rng.choice([1e308, 5e-324, 1e-300, 2.2250738585072014e-308, 1.7976931348623157e308])))
    elif kind == "repeats":
        extra = frame.iloc[rng.choice(len(frame), size=int(rng.integers(1, 4)))].copy()
        if rng.random() < 0.7:
            extra["loss"] = extra["loss"].to_numpy() * rng.uniform(0.9, 1.1, len(extra))
        kwargs["repeats"] = str(rng.choice(["error", "keep", "mean"]))
        frame = pd.concat([frame, extra], ignore_index=True)
    elif kind == "objects":
        col, rows = _cells(frame, rng)
        pool = [True, False, b"1", complex(1, 2), datetime.date(2020, 1, 1), datetime.timedelta(seconds=3),
                decimal.Decimal("2.5"), None, np.int64(7), np.float32(1.5), "7", object()]
        _set(frame, col, rows, [pool[int(rng.integers(len(pool)))] for _ in rows])
    return frame


VALUE_KINDS = ("strings", "nan", "inf", "zeros", "na_gt_n", "s_range", "g_below_one", "extremes", "repeats", "objects")


def generate(kind: str, rng: np.random.Generator, folder: Path, i: int) -> Case:
    frame = base_frame(rng)
    case = Case(kind)
    fmt = str(rng.choice(FORMATS))
    if kind in VALUE_KINDS:
        frame = mutate_values(kind, frame, rng, case.kwargs)
    if kind in (*VALUE_KINDS, "missing_column", "unknown_column") and rng.random() < 0.25:  # a second defect
        frame = mutate_values(str(rng.choice(VALUE_KINDS[:-2])), frame, rng, case.kwargs)
    if kind == "missing_column":
        choice = rng.integers(3)
        if choice == 0:
            frame = frame.drop(columns=[str(rng.choice(list(frame.columns)))])
        elif choice == 1:
            case.kwargs["features"] = "D,N,Q" if rng.random() < 0.5 else ["N", "Nq"]
        else:
            case.kwargs["target"] = str(rng.choice(["los", "Loss", "val_loss"]))
    elif kind == "unknown_column":
        for j in range(int(rng.integers(1, 4))):
            frame[f"extra_{j}"] = rng.choice(["x", "y"], len(frame)) if rng.random() < 0.5 else rng.normal(size=len(frame))
        if rng.random() < 0.3:
            case.kwargs["features"] = str(rng.choice(["N=Na", "D,extra_0", "N,D", "Na"]))
    elif kind == "exotic":
        return _exotic(case, frame, rng, folder, i)
    elif kind == "nested":
        return _nested(case, frame, rng, folder, i)
    elif kind in ("truncated", "garbage", "empty", "dup_columns"):
        return _broken_file(case, frame, rng, folder, i)
    elif kind in ("long_path", "odd_path"):
        return _path(case, frame, rng, folder, i)
    elif kind in ("lookalike", "invisible"):
        _header(case, frame, rng)
    elif kind in ("decimal_comma", "ragged"):
        return _text_defect(case, frame, rng, folder, i)
    elif kind in ("booleans", "dates"):
        return _not_numbers(case, frame, rng, folder, i)
    if rng.random() < 0.15 and "router" in frame.columns:
        case.kwargs["group"] = "router"
    return _write(case, frame, fmt, folder / f"t{i}", rng)


def _write(case: Case, frame: pd.DataFrame, fmt: str, stem: Path, rng: np.random.Generator) -> Case:
    case.fmt = fmt
    if fmt == "frame":
        case.source = frame
        return case
    path = Path(f"{stem}.{fmt}")
    if fmt == "parquet":
        try:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # mixed objects: as a DataFrame
            case.fmt, case.source = "frame", frame
            return case
    else:
        text = frame.to_csv(index=False, sep="\t" if fmt == "tsv" else ",")
        data = text.encode("utf-8", "surrogatepass")
        path.write_bytes(gzip.compress(data) if fmt == "csv.gz" else data)
    case.source = str(path)
    return case


EXOTIC = {
    "decimal": lambda v: pa.array([decimal.Decimal(repr(float(x))).quantize(decimal.Decimal("1e-10")) for x in v],
                                  pa.decimal128(38, 10)),
    "date": lambda v: pa.array([datetime.date(2020, 1, 1 + int(k) % 28) for k in range(len(v))], pa.date32()),
    "timestamp": lambda v: pa.array(range(len(v)), pa.timestamp("ms", tz="UTC")),
    "duration": lambda v: pa.array(range(len(v)), pa.duration("s")),
    "time": lambda v: pa.array(range(len(v)), pa.time64("us")),
    "binary": lambda v: pa.array([repr(float(x)).encode() for x in v], pa.binary()),
    "dictionary": lambda v: pa.array([float(x) for x in v]).dictionary_encode(),
    "large_string": lambda v: pa.array([repr(float(x)) for x in v], pa.large_string()),
    "float16": lambda v: pa.array(np.asarray(v, dtype=np.float16)),
    "uint64": lambda v: pa.array(np.maximum(np.asarray(v, dtype=float), 0).astype(np.uint64)),
    "null": lambda v: pa.array([None] * len(v), pa.null()),
    "bool": lambda v: pa.array([bool(k % 2) for k in range(len(v))]),
    "int8": lambda v: pa.array(np.clip(np.asarray(v, dtype=float), -128, 127).astype(np.int8)),
}


def _exotic(case: Case, frame: pd.DataFrame, rng: np.random.Generator, folder: Path, i: int) -> Case:
    col = str(rng.choice([c for c in frame.columns if c != "router"] + ["unused"]))
    if col == "unused":
        frame["unused"] = frame[frame.columns[0]]
    name = str(rng.choice(list(EXOTIC)))
    arrays = {c: pa.array(frame[c].to_numpy()) for c in frame.columns}
    with np.errstate(over="ignore", invalid="ignore"):
        arrays[col] = EXOTIC[name](frame[col].to_numpy())
    path = folder / f"t{i}.parquet"
    pq.write_table(pa.table(arrays), path)
    case.kind, case.fmt, case.source = "exotic", "parquet", str(path)
    return case


def _nested(case: Case, frame: pd.DataFrame, rng: np.random.Generator, folder: Path, i: int) -> Case:
    col = str(rng.choice([*frame.columns, "seed", "router", "unused"]))
    if col == "router":
        case.kwargs["group"] = "router"
    n = len(frame)
    shape = str(rng.choice(["list", "map", "struct", "ndarray", "large_list", "empty_list"]))
    arrays = {c: pa.array(frame[c].to_numpy()) for c in frame.columns if c != col}
    if shape == "list":
        arrays[col] = pa.array([[float(k), 1.0] for k in range(n)])
    elif shape == "large_list":
        arrays[col] = pa.array([[k] for k in range(n)], pa.large_list(pa.int64()))
    elif shape == "empty_list":
        arrays[col] = pa.array([[] for _ in range(n)], pa.list_(pa.float64()))
    elif shape == "map":
        arrays[col] = pa.array([[("k", k)] for k in range(n)], pa.map_(pa.string(), pa.int64()))
    elif shape == "struct":
        arrays[col] = pa.array([{"a": k, "b": "x"} for k in range(n)])
    if shape == "ndarray" or rng.random() < 0.3:  # a DataFrame with numpy arrays (or dicts) in cells
        out = frame.copy()
        out[col] = [np.array([float(k)]) if shape == "ndarray" else {"a": k} for k in range(n)]
        case.fmt, case.source = "frame", out
        return case
    path = folder / f"t{i}.parquet"
    pq.write_table(pa.table(arrays), path)
    case.fmt, case.source = "parquet", str(path)
    return case


def _broken_file(case: Case, frame: pd.DataFrame, rng: np.random.Generator, folder: Path, i: int) -> Case:
    fmt = str(rng.choice(["csv", "tsv", "csv.gz", "parquet"]))
    case = _write(case, frame, fmt, folder / f"t{i}", rng)
    path = Path(case.source) if case.fmt != "frame" else folder / f"t{i}.csv"
    case.fmt, case.source = fmt if case.fmt != "frame" else "csv", str(path)
    if case.kind == "truncated":
        data = path.read_bytes() if path.exists() else b""
        path.write_bytes(data[: int(rng.integers(0, max(len(data), 1)))])
    elif case.kind == "garbage":
        data = rng.bytes(int(rng.integers(1, 400)))
        if rng.random() < 0.5:  # text-like garbage
            data = bytes(rng.choice(list(b"0123456789,.\n\tabcdefDNGS e-+\"'"), int(rng.integers(1, 400))))
        path.write_bytes(data)
    elif case.kind == "empty":
        choice = int(rng.integers(3))
        if fmt == "parquet":
            pq.write_table(pa.table({c: pa.array([], pa.float64()) for c in frame.columns} if choice else {}), path)
        else:
            text = ("" if choice == 0 else ",".join(frame.columns) + "\n" if choice == 1 else "\n\n")
            data = text.encode().replace(b",", b"\t") if fmt == "tsv" else text.encode()
            path.write_bytes(gzip.compress(data) if fmt == "csv.gz" else data)
    elif case.kind == "dup_columns":
        cols = list(frame.columns)
        cols[-1] = cols[0]
        if fmt == "parquet":
            pq.write_table(pa.table([pa.array(frame[c].to_numpy()) for c in frame.columns], names=cols), path)
        else:
            sep = "\t" if fmt == "tsv" else ","
            data = frame.set_axis(cols, axis=1).to_csv(index=False, sep=sep).encode()
            path.write_bytes(gzip.compress(data) if fmt == "csv.gz" else data)
    return case


def _path(case: Case, frame: pd.DataFrame, rng: np.random.Generator, folder: Path, i: int) -> Case:
    if case.kind == "long_path":
        choice = int(rng.integers(3))
        if choice == 0:
            case.source = str(folder / ("x" * int(rng.integers(256, 2000)) + ".csv"))
        elif choice == 1:
            case.source = str(folder / "/".join(["y" * 200] * int(rng.integers(21, 40))) / "t.parquet")
        else:
            case.source = "a" * int(rng.integers(4097, 9000)) + ".csv"
        case.unwritable = True
        return case
    names = ["é ü 😀.csv", "with space.tsv", "-leading-dash.csv", "a\nnewline.csv", "tab\there.csv.gz",
             "\udcff-not-utf8.csv", "quote'\"s.parquet", "CAPS.CSV", "dots...csv", "x.PARQUET"]
    choice = int(rng.integers(len(names) + 4))
    if choice < len(names):
        name = names[choice]
        lowered = name.lower()
        fmt = "parquet" if lowered.endswith(".parquet") else "csv.gz" if lowered.endswith(".gz") else \
            "tsv" if lowered.endswith(".tsv") else "csv"
        sub = folder / f"odd{i}"
        sub.mkdir()
        path = sub / name
        tmp = _write(Case(case.kind), frame, fmt, sub / "tmp", rng)
        if tmp.fmt == "frame":
            _write(tmp, frame, "csv", sub / "tmp", rng)
        os.rename(tmp.source, path)
        case.source, case.fmt = str(path), fmt
    elif choice == len(names):
        case.source, case.unwritable = str(folder / "nul\0byte.csv"), True
    elif choice == len(names) + 1:
        path = folder / f"folder{i}.csv"
        path.mkdir()
        case.source, case.unwritable = str(path), True
    elif choice == len(names) + 2:
        path = folder / f"loop{i}.csv"
        path.symlink_to(path)
        case.source, case.unwritable = str(path), True
    else:
        path = folder / f"t{i}.xlsx"
        path.write_text("D,N,loss\n1,2,3\n")
        case.source, case.unwritable = str(path), True
    return case


# ---- header lookalikes, invisible characters, decimal commas, ragged rows, booleans, dates -----------

CASES = {"D": ["d"], "N": ["n"], "Na": ["na", "NA", "nA"], "G": ["g"], "S": ["s"], "loss": ["Loss", "LOSS", "lOSS"]}
#: Greek, Cyrillic, fullwidth and mathematical letters drawn like the Latin ones
HOMOGLYPHS = {"D": ["Ｄ", "𝐃"], "N": ["Ν", "Ｎ"], "Na": ["Νa", "Nа", "Nα"], "G": ["Ԍ", "Ｇ"], "S": ["Ѕ", "Ｓ"],
              "loss": ["lоss", "lοss", "loѕs", "ӏoss"]}
NEAR = {"D": ["D_", "_D", "D."], "N": ["N_", "N."], "Na": ["N_a", "N-a", "n_a", "N a", "N.a"], "G": ["G_"],
        "S": ["S_"], "loss": ["loss_", "lo_ss", "LOSS_"]}
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
SPACES = [" ", "  ", "\u00a0"]


def _spaced(name: str, rng: np.random.Generator) -> str:
    """``name`` with surrounding whitespace and/or invisible characters."""
    out = name
    while out == name:
        if rng.random() < 0.6:
            k = int(rng.integers(len(out) + 1))
            out = out[:k] + str(rng.choice(INVISIBLE)) + out[k:]
        if rng.random() < 0.6:
            space = str(rng.choice(SPACES))
            out = space + out if rng.random() < 0.5 else out + space
    return out


def _header(case: Case, frame: pd.DataFrame, rng: np.random.Generator) -> None:
    """Rewrite one canonical header cell as the user might have typed it (in place)."""
    canon = [c for c in frame.columns if c in CASES]
    name = str(rng.choice(canon))
    if case.kind == "invisible":
        cell = _spaced(name, rng)
        if rng.random() < 0.2:
            cell = cell.replace(name, str(rng.choice(CASES[name])))
    else:
        pool = str(rng.choice(["case", "homoglyph", "near"]))
        cell = str(rng.choice({"case": CASES, "homoglyph": HOMOGLYPHS, "near": NEAR}[pool][name]))
    case.meant = {cell: name}
    if rng.random() < 0.15:  # a second cell that looks like the same name: which one is meant?
        other = _spaced(name, rng) if cell != name.lower() else name.lower() + " "
        if other not in (cell, *frame.columns):
            frame[other] = frame[name].to_numpy() * float(rng.choice([1.0, 2.0]))
            case.meant[other] = name
    frame.columns = [cell if c == name else c for c in frame.columns]
    case.refusal_ok = True
    if rng.random() < 0.2:  # the canonical names chosen explicitly
        case.kwargs["features"] = ",".join(c for c in COLUMNS if c in case.meant.values() or c in frame.columns) or "N"


def _cells_text(frame: pd.DataFrame) -> list[list[str]]:
    return [list(map(str, frame.columns))] + [[repr(v) if isinstance(v, float) else str(v) for v in row]
                                              for row in frame.itertuples(index=False, name=None)]


def _text_defect(case: Case, frame: pd.DataFrame, rng: np.random.Generator, folder: Path, i: int) -> Case:
    """A text table with decimal commas (quoted or not) or rows of another width than the header."""
    fmt = str(rng.choice(["csv", "csv", "tsv", "csv.gz"]))
    sep = "\t" if fmt == "tsv" else ","
    if case.kind == "decimal_comma" and rng.random() < 0.3:
        frame["lr"] = rng.uniform(1e-4, 1e-3, len(frame))
    rows = _cells_text(frame)
    numeric = [j for j, c in enumerate(rows[0]) if c in (*COLUMNS, "loss", "lr")]
    if case.kind == "decimal_comma":
        if rng.random() < 0.1:  # a European spreadsheet's export: ';' between cells, ',' in numbers
            sep = ";"
            rows = [rows[0]] + [[c.replace(".", ",") for c in r] for r in rows[1:]]
        else:
            j = int(rng.choice(numeric))
            every = rng.random() < 0.5  # the same column on every row: pandas shifts the columns under the header
            quote = rng.random() < 0.3
            for r in rows[1:]:
                if every or rng.random() < 0.4:
                    v = float(r[j])
                    text = f"{int(v):,}" if v >= 1e4 and rng.random() < 0.5 else f"{v:.4f}".replace(".", ",")
                    r[j] = f'"{text}"' if quote else text
    else:
        for _ in range(int(rng.integers(1, 3))):
            how = str(rng.choice(["extra", "short", "trailer", "blank", "trailing_sep"]))
            k = int(rng.integers(1, len(rows)))
            if how == "extra":
                rows[k] = rows[k] + [str(rng.choice(["", "x", "1.5"])) for _ in range(int(rng.integers(1, 3)))]
            elif how == "short" and len(rows[k]) > 1:
                rows[k] = rows[k][: -int(rng.integers(1, len(rows[k])))]
            elif how == "trailer":
                rows.append(str(rng.choice(["total", "# end of runs", "sum" + sep + "1e10"])).split(sep))
            elif how == "blank":
                rows.insert(k, [str(rng.choice(["", " ", "  "]))])
            elif how == "trailing_sep":  # an empty last cell on every line: the same width everywhere
                rows = [r + [""] for r in rows]
    data = "".join(sep.join(r) + "\n" for r in rows).encode()
    path = folder / f"t{i}.{fmt}"
    path.write_bytes(gzip.compress(data) if fmt == "csv.gz" else data)
    case.fmt, case.source = fmt, str(path)
    return case


def _not_numbers(case: Case, frame: pd.DataFrame, rng: np.random.Generator, folder: Path, i: int) -> Case:
    """A column of booleans or of dates, used as a feature, the target, a seed, a group, or not at all."""
    col = str(rng.choice([c for c in frame.columns if c in (*COLUMNS, "loss")] + ["unused", "seed", "router"]))
    if col == "router":
        case.kwargs["group"] = "router"
    n = len(frame)
    fmt = str(rng.choice(FORMATS))
    flags = rng.random(n) < (0.5 if rng.random() < 0.6 else 2.0)  # sometimes all True: 1 passes every range check
    if case.kind == "booleans":
        if fmt in ("csv", "tsv", "csv.gz"):
            yes, no = [("True", "False"), ("true", "false"), ("TRUE", "FALSE")][int(rng.integers(3))]
            cells = [yes if f else no for f in flags]
            if rng.random() < 0.2:
                cells[int(rng.integers(n))] = ""
            frame[col] = cells
        elif fmt == "parquet":
            arrays = {c: pa.array(frame[c].to_numpy()) for c in frame.columns if c != col}
            if rng.random() < 0.5:
                arrays[col] = pa.ExtensionArray.from_storage(pa.bool8(), pa.array(flags.astype(np.int8)))
            else:
                arrays[col] = pa.array(flags)
            path = folder / f"t{i}.parquet"
            pq.write_table(pa.table(arrays), path)
            case.fmt, case.source = "parquet", str(path)
            return case
        else:
            frame[col] = [flags, pd.array(flags, dtype="boolean"), list(map(bool, flags))][int(rng.integers(3))]
    else:
        days = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
        if fmt in ("csv", "tsv", "csv.gz"):
            style = ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%m/%d/%Y", "%H:%M:%S"][int(rng.integers(5))]
            frame[col] = [d.strftime(style) for d in days]
        elif fmt == "parquet":
            arrays = {c: pa.array(frame[c].to_numpy()) for c in frame.columns if c != col}
            kind = int(rng.integers(4))
            arrays[col] = (pa.array(days.date, pa.date32()) if kind == 0 else pa.array(days.date, pa.date64())
                           if kind == 1 else pa.array(days, pa.timestamp("ns", tz="UTC" if kind == 2 else None)))
            path = folder / f"t{i}.parquet"
            pq.write_table(pa.table(arrays), path)
            case.fmt, case.source = "parquet", str(path)
            return case
        else:
            frame[col] = [days, days.tz_localize("UTC"), list(days), list(days.date)][int(rng.integers(4))]
    return _write(case, frame, fmt, folder / f"t{i}", rng)


# ---- the judge: what a careful reader would do with the same file --------------------------------------

class Unreadable(Exception):
    """The judge itself cannot read the file."""


def read_back(case: Case) -> tuple[list[str], list[list[object]]]:
    """The file's column names and rows of cells, read without lawfind or pandas."""
    if case.fmt == "frame":
        frame = case.source
        return [str(c) for c in frame.columns], [list(r) for r in frame.itertuples(index=False, name=None)]
    path = case.source
    if case.fmt == "parquet":
        try:
            table = pq.read_table(path)
        except Exception as exc:  # noqa: BLE001
            raise Unreadable(str(exc)) from None
        cols = [c.to_pylist() for c in table.columns]
        return list(table.column_names), [list(r) for r in zip(*cols)] if cols else []
    try:
        data = Path(path).read_bytes()
        if case.fmt == "csv.gz":
            data = gzip.decompress(data)
        text = data.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise Unreadable(str(exc)) from None
    if "\0" in text or "\r" in text:
        raise Unreadable("NUL or CR in a text table")
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter="\t" if case.fmt == "tsv" else ",", strict=True))
    except csv.Error as exc:
        raise Unreadable(f"malformed quoting: {exc}") from None
    rows = [r for r in rows if r and not (len(r) == 1 and not r[0].strip(" \t"))]  # blank lines carry no run
    if not rows:
        raise Unreadable("empty")
    header, body = rows[0], rows[1:]
    if any(len(r) != len(header) for r in body):  # a decimal comma, a cut row, a trailer: cells shift
        raise Unreadable("a row with another number of fields than the header")
    return header, body


def number(cell: object, text: bool) -> float | None:
    """A cell as a number, the way a careful reader reads it; ``None`` if it is not a plain number."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return math.nan  # missing
    if isinstance(cell, (bool, np.bool_)):
        return None
    if isinstance(cell, (int, float, np.integer, np.floating, decimal.Decimal)) and not isinstance(cell, np.complexfloating):
        return float(cell)
    if isinstance(cell, str):
        if text and cell in NA_TEXT:
            return math.nan
        return float(cell.strip()) if NUMBER.match(cell.strip()) else None
    return None


def expect(case: Case) -> tuple[bool, str, dict[str, np.ndarray] | None]:
    """Would a careful reader accept the input? With the reason, and the expected columns if so."""
    if case.unwritable:
        return False, "the path cannot be a run table", None
    if case.fmt != "frame" and not re.search(r"\.(parquet|pq|csv|csv\.gz|tsv)$", case.source.lower()):
        return False, "unknown format", None
    try:
        header, rows = read_back(case)
    except Unreadable as exc:
        return False, f"unreadable: {exc}", None
    text = case.fmt in ("csv", "tsv", "csv.gz")
    header = [case.meant.get(c, c) for c in header]  # the names the user evidently meant
    if len(set(header)) != len(header):
        return False, "repeated column names (or two cells meaning one name)", None
    if not rows:
        return False, "no runs", None
    kw = case.kwargs
    target = kw.get("target", "loss")
    spec = kw.get("features")
    if spec is None:
        pairs = [(c, c) for c in COLUMNS if c in header]
    else:
        items = spec.split(",") if isinstance(spec, str) else spec
        pairs = [(a, b or a) for a, _, b in (t.partition("=") for t in items)]
    if not pairs:
        return False, "no feature column", None
    names = [n for n, _ in pairs]
    if target in names or any(c not in header for _, c in pairs) or target not in header:
        return False, "a missing or doubly used column", None
    col = {c: [r[header.index(c)] for r in rows] for c in header}
    values = {}
    for name, c in [*pairs, (target, target)]:
        v = [number(x, text) for x in col[c]]
        if any(x is None for x in v):
            return False, f"a cell of {c} is not a number", None
        v = np.array(v, dtype=float)
        if not np.isfinite(v).all():
            return False, f"NaN or inf in {c}", None
        if name == "S":
            if ((v < 0) | (v >= 1)).any():
                return False, "S outside [0, 1)", None
        elif (v <= 0).any():
            return False, f"a value <= 0 in {c}", None
        values[name] = v
    if "G" in values and (values["G"] < 1).any():
        return False, "G < 1", None
    with np.errstate(over="ignore"):
        if "Na" in values and "N" in values and (values["Na"] > values["N"] * (1 + 1e-9)).any():
            return False, "Na > N", None
    group = kw.get("group")
    keys = [tuple(values[n][k] for n in names) for k in range(len(rows))]
    if group is not None:
        labels = col[group]
        if any(isinstance(x, (list, dict, np.ndarray)) for x in labels):
            return False, "nested group labels", None
        if any(x is None or (isinstance(x, float) and math.isnan(x)) or (text and x in NA_TEXT) for x in labels):
            return False, "missing group labels", None
        keys = [k + (str(g),) for k, g in zip(keys, labels)]
    if "seed" in header:
        seeds = col["seed"]
        scalar = (int, float, str, bytes, bool, complex, decimal.Decimal, datetime.date, datetime.time,
                  datetime.timedelta, np.generic, type(None))
        if not all(isinstance(x, scalar) for x in seeds):
            return False, "seeds that are not numbers or labels", None
        keys = [k + (_seed_key(s, text),) for k, s in zip(keys, seeds)]
    losses = defaultdict(set)
    for k, y in zip(keys, values[target]):
        losses[k].add(y)
    repeats = kw.get("repeats", "keep")  # the loader keeps repeats unless told
    if repeats == "error" and any(len(v) > 1 for v in losses.values()):
        return False, "conflicting repeats", None
    return True, "clean", values


def _seed_key(seed: object, text: bool) -> object:
    if text:
        x = number(seed, True)
        return "nan" if x is not None and math.isnan(x) else x if x is not None else seed
    return "nan" if seed is None or (isinstance(seed, float) and math.isnan(seed)) else seed


def agrees(table, values: dict[str, np.ndarray], case: Case) -> str | None:
    """Where the loaded table differs from the file's values (``None`` if it does not)."""
    frame = table.frame
    if case.kwargs.get("repeats") == "mean":
        return None if len(frame) <= len(values[table.target]) else "more runs than the file"
    for name, expected in values.items():
        got = frame[name].to_numpy(dtype=float)
        if len(got) != len(expected) or not np.array_equal(got, expected):
            return f"column {name}: loaded {got[:3]} but the file holds {expected[:3]}"
    # beyond equality: the invariants a fit relies on
    X = frame[list(table.features) + [table.target]].to_numpy(dtype=float)
    if not np.isfinite(X).all():
        return "a non-finite value was accepted"
    return None


# ---- running ----------------------------------------------------------------------------------------

CLASSES = ("clean", "missing_column", "unknown_column", *VALUE_KINDS, "truncated", "garbage", "exotic", "nested",
           "long_path", "odd_path", "empty", "dup_columns", "lookalike", "invisible", "decimal_comma", "ragged",
           "booleans", "dates")
#: Each table's outcome, one of these; a good loader has 0 of the first four.
OUTCOMES = ("crashed", "hung", "wrongly accepted", "dropped, no note", "dropped, noted", "good refused",
            "clean refusal", "correctly accepted")
HANG_S = 30


class Hung(Exception):
    """A load ran past ``HANG_S`` seconds."""


def _alarm(signum, frame):  # noqa: ANN001, ARG001
    raise Hung


def judge(case: Case) -> tuple[str, str, str]:
    """Load the case and judge the outcome against the reader's: (outcome, detail, the loader's message)."""
    ok, why, values = expect(case)
    signal.setitimer(signal.ITIMER_REAL, HANG_S)
    try:
        table = load_runs(case.source, **case.kwargs)
    except LawfindError as exc:
        outcome = "good refused" if ok and not case.refusal_ok else "clean refusal"
        return outcome, ("reader accepts" if ok else why), str(exc)
    except Hung:
        return "hung", f"more than {HANG_S} s", ""
    except Exception as exc:  # noqa: BLE001 - what the target says must not happen
        return "crashed", f"{type(exc).__name__}: {exc}", ""
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if not ok:
        return "wrongly accepted", f"reader refuses: {why}", ""
    used = (*table.features, table.target)
    lost = [n for n in values if n not in used]
    if lost:  # the user's column (a header cell meaning it) left out of the load
        return ("dropped, noted" if table.notes else "dropped, no note"), f"{lost} not loaded; notes {table.notes}", ""
    diff = agrees(table, values, case)
    return ("wrongly accepted", diff, "") if diff else ("correctly accepted", "", "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="tables to generate (default: 10000)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    signal.signal(signal.SIGALRM, _alarm)
    stats: dict[str, Counter] = defaultdict(Counter)
    examples: dict[str, list[str]] = defaultdict(list)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(args.n):
            kind = CLASSES[i % len(CLASSES)]
            case = generate(kind, rng, folder, i)
            outcome, detail, msg = judge(case)
            s = stats[case.kind]
            s["n"] += 1
            s[outcome] += 1
            if outcome not in ("clean refusal", "correctly accepted"):
                examples[outcome].append(f"{case.kind} ({case.fmt}): {detail} {msg}")
            if msg.startswith("cannot interpret"):  # refused only by the loader's last-resort guard
                s["guard"] += 1
                examples["guard"].append(f"{case.kind}: {msg}")
            if "\n" in msg:
                s["multi-line"] += 1
                examples["multi-line"].append(f"{case.kind} ({case.fmt}): {msg!r}")
            if outcome == "clean refusal" and case.kind in ("lookalike", "invisible", "decimal_comma", "ragged",
                                                            "booleans", "dates"):
                examples[f"refused {case.kind}"].append(f"({case.fmt}) {msg}")
    elapsed = time.perf_counter() - start
    heads = ["n", *OUTCOMES, "guard", "multi-line"]
    width = max(map(len, heads)) + 2
    print(f"{'class':<15}" + "".join(f"{h:>{width}}" for h in heads))
    total = Counter()
    for kind in CLASSES:
        s = stats[kind]
        total.update(s)
        print(f"{kind:<15}" + "".join(f"{s[h]:>{width}}" for h in heads))
    print(f"{'total':<15}" + "".join(f"{total[h]:>{width}}" for h in heads))
    print(f"\n{total['n']} tables (seed {args.seed}) in {elapsed:.0f} s: "
          + ", ".join(f"{total[o]} {o}" for o in OUTCOMES)
          + f"; {total['guard']} refused only by the last-resort guard, {total['multi-line']} multi-line messages")
    for key, lines in examples.items():
        print(f"\n{key} (first 5 of {len(lines)}):")
        for line in lines[:5]:
            print("  " + " ".join(line.split())[:300])


if __name__ == "__main__":
    main()
