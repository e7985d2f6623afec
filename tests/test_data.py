"""The run-table loader: formats, column choice, and one test per bad-input class."""

from __future__ import annotations

import csv
import datetime
import decimal
import gzip
import io
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames

from lawfind.data import load_runs
from lawfind.errors import DataError, LawfindError, OptionError
from lawfind.files import Unreadable


def good(n: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    N = 10 ** rng.uniform(8, 9, n)
    return pd.DataFrame({"D": 10 ** rng.uniform(10, 11, n), "N": N, "Na": N / 4, "G": 2.0 + np.arange(n),
                         "S": 0.25, "loss": rng.uniform(2, 3, n)})


def test_default_schema_and_formats(tmp_path):
    frame = good()
    frame.to_parquet(tmp_path / "r.parquet")
    frame.to_csv(tmp_path / "r.csv", index=False)
    a, b = load_runs(tmp_path / "r.parquet"), load_runs(tmp_path / "r.csv")
    assert a.features == ("D", "N", "Na", "G", "S") and a.target == "loss"
    np.testing.assert_allclose(a.y, b.y)
    assert a.data_hash() == b.data_hash()


def test_named_columns_target_group(clark_path):
    kw = dict(target="loss_validation", features="num_experts,N=dense_parameter_count", group="router_type",
              where="step == 249000")
    # k and routing_frequency are not features, so some runs repeat a configuration with another loss
    with pytest.raises(DataError, match="15 configuration.s. repeat with different loss_validation"):
        load_runs(clark_path, repeats="error", **kw)
    t = load_runs(clark_path, **kw)  # kept by default and counted
    raw = pd.read_csv(clark_path).query("step == 249000")
    assert t.repeated == raw.duplicated(["num_experts", "dense_parameter_count", "router_type"], keep=False).sum() == 75
    assert t.features == ("num_experts", "N") and t.columns["N"] == "dense_parameter_count"
    assert set(t.groups) == {"Dense", "Hash", "S-Base", "RL-R"}
    assert len(t) == 193


def test_missing_column_did_you_mean():
    with pytest.raises(DataError, match=r"missing target column 'los'.*did you mean 'loss'"):
        load_runs(good(), target="los")
    with pytest.raises(DataError, match=r"missing feature column 'Nn'.*did you mean 'N'"):
        load_runs(good(), features="Nn,D")


def test_features_by_name_where_no_canonical_column():
    # params and tokens are taken (with a note); a run id, a learning rate and the target are not
    frame = pd.DataFrame({"params": [1e8, 2e8, 4e8], "tokens": [2e9, 4e9, 8e9], "run": [1, 2, 3],
                          "lr": [1e-3, 1e-3, 2e-3], "loss": [3.1, 2.9, 2.7]})
    table = load_runs(frame)
    assert table.features == ("params", "tokens")
    assert table.notes == ("features from the column names: params, tokens (a size, data or compute by its name; "
                           "--features to choose others)",)
    with pytest.raises(DataError, match=r"missing feature column 'D'"):
        load_runs(frame[["run", "lr", "loss"]])


def test_non_numeric():
    f = good().astype({"G": object})
    f.loc[2, "G"] = "eight"
    with pytest.raises(DataError, match=r"column 'G' is not numeric: row 2 holds 'eight'"):
        load_runs(f)


@pytest.mark.parametrize("value,word", [(np.nan, "NaN"), (np.inf, "inf")])
def test_nan_inf(value, word):
    f = good()
    f.loc[3, "loss"] = value
    with pytest.raises(DataError, match=rf"column 'loss' has {word} at row 3"):
        load_runs(f)


@pytest.mark.parametrize("col", ["D", "N"])
def test_non_positive_where_log_taken(col):
    f = good()
    f.loc[1, col] = 0.0
    with pytest.raises(DataError, match=rf"column '{col}' must be positive \(its log is taken\): row 1"):
        load_runs(f)


def test_a_target_of_any_sign_is_read_on_the_linear_scale():
    f = good()
    assert load_runs(f).scale == "log"
    f.loc[1, "loss"] = -1.0
    table = load_runs(f)
    assert table.scale == "linear" and table.spread == pytest.approx(float(np.std(f["loss"])))
    assert table.subset(np.arange(3)).spread == table.spread  # fixed once per table
    with pytest.raises(DataError, match=r"target 'loss' must be positive on the log scale: row 1 holds -1"):
        load_runs(f, scale="log")
    assert load_runs(good(), scale="linear").scale == "linear"


def test_proportions_with_zeros_are_refused_clearly():
    f = good().assign(p=[0.0, 0.5, 0.25, 0.0, 1.0, 0.5])
    with pytest.raises(DataError, match=r"column 'p' holds proportions in \[0, 1\] with zeros \(rows 0, 3 hold 0\).*"
                                        r"--features code_fraction=code"):
        load_runs(f, features="N,D,p")


def test_proportions_by_name_are_read_linearly_zeros_and_ones_included():
    f = good().assign(proportion_code=[0.0, 0.5, 0.25, 0.0, 1.0, 0.5])
    table = load_runs(f, features="N,D,proportion_code")
    assert table.frame["proportion_code"].tolist() == [0.0, 0.5, 0.25, 0.0, 1.0, 0.5]
    assert load_runs(f, features="N,D,web_fraction=proportion_code").features[-1] == "web_fraction"
    with pytest.raises(DataError, match=r"'proportion_code' .* must lie in \[0, 1\]: row 2 holds 1.5; a column whose "
                                        "name says proportion"):
        load_runs(f.assign(proportion_code=[0.0, 0.5, 1.5, 0.0, 1.0, 0.5]), features="N,D,proportion_code")
    with pytest.raises(DataError, match=r"'S' .* must lie in \[0, 1\): row 0 holds 1"):
        load_runs(f.assign(S=[1.0, 0.5, 0.25, 0.0, 0.2, 0.5]), features="N,D,S")


def test_na_exceeds_n():
    f = good()
    f.loc[4, "Na"] = f.loc[4, "N"] * 2
    with pytest.raises(DataError, match=r"Na > N.*row 4"):
        load_runs(f)


def test_g_below_one():
    f = good()
    f.loc[0, "G"] = 0.5
    with pytest.raises(DataError, match=r"must be at least 1: row 0"):
        load_runs(f)


@pytest.mark.parametrize("value", [-0.1, 1.0, 1.5])
def test_s_outside_unit_interval(value):
    f = good()
    f.loc[5, "S"] = value
    with pytest.raises(DataError, match=r"must lie in \[0, 1\): row 5"):
        load_runs(f)


def test_conflicting_duplicates_name_rows():
    f = pd.concat([good(), good().iloc[[2]].assign(loss=9.0)], ignore_index=True)
    with pytest.raises(DataError, match=r"repeat with different loss: rows 2, 6"):
        load_runs(f, repeats="error")
    kept = load_runs(f)  # repeats are normal (seeds): kept by default, and counted
    assert len(kept) == 7 and kept.repeated == 2
    assert len(load_runs(f, repeats="mean")) == 6
    # a seed column tells repeats apart
    assert len(load_runs(f.assign(seed=np.arange(7)), repeats="error")) == 7


def test_empty_table(tmp_path):
    with pytest.raises(DataError, match="the table is empty"):
        load_runs(good().iloc[:0])
    with pytest.raises(DataError, match="empty after the filter"):
        load_runs(good(), where="N < 0")
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataError, match="is empty"):
        load_runs(tmp_path / "e.csv")


def test_unreadable_or_wrong_format(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_runs(tmp_path / "nope.parquet")
    (tmp_path / "r.xlsx").write_text("x")
    with pytest.raises(DataError, match="unknown format '.xlsx'"):
        load_runs(tmp_path / "r.xlsx")
    (tmp_path / "bad.parquet").write_bytes(b"this is not parquet")
    with pytest.raises(DataError, match="cannot read .*bad.parquet' as parquet"):
        load_runs(tmp_path / "bad.parquet")


def test_bad_options():
    with pytest.raises(OptionError, match="unknown repeats option 'mea'.*did you mean 'mean'"):
        load_runs(good(), repeats="mea")
    with pytest.raises(DataError, match="cannot apply the filter"):
        load_runs(good(), where="N >>> 3")


def test_nested_and_non_numeric_cells_name_column_and_row():
    f = good().astype({"N": object})
    f.at[3, "N"] = [1e8, 2e8]
    with pytest.raises(DataError, match=r"column 'N' holds lists, maps or structs \(nested cells\), not numbers: "
                                        r"row 3 holds \[100000000.0, 200000000.0\]; store one value a cell"):
        load_runs(f)
    for value, kind in [(b"1", "bytes"), (True, "booleans"), (datetime.date(2020, 1, 1), "dates or times"),
                        (complex(1, 1), "complex numbers"), (Unreadable("duration[s]"), "values of a parquet type")]:
        f = good().astype({"G": object})
        f.at[2, "G"] = value
        with pytest.raises(DataError, match=f"column 'G' holds {kind}.*row 2 holds"):
            load_runs(f)
    with pytest.raises(DataError, match=r"column 'D' holds dates or times \(datetime64"):
        load_runs(good().assign(D=pd.date_range("2020-01-01", periods=6)))


def test_seed_and_group_cells():
    f = good().assign(seed=[[1], [2], [3], [4], [5], [6]])
    with pytest.raises(DataError, match="column 'seed' holds lists, maps or structs .*not plain values: rows 0, 1"):
        load_runs(f)
    assert len(load_runs(good().assign(seed=["a", "b", "c", "d", "e", "f"]))) == 6  # labels are fine seeds
    with pytest.raises(DataError, match="group column 'router' has missing labels at row 1"):
        load_runs(good().assign(router=["a", None, "b", "a", "b", "a"]), group="router")
    with pytest.raises(DataError, match="column 'router' holds lists, maps or structs"):
        load_runs(good().assign(router=[{"k": 1}] * 6), group="router")


def test_a_name_used_twice():
    with pytest.raises(OptionError, match="'loss' is both a feature and the target"):
        load_runs(good(), features="N,loss")
    with pytest.raises(OptionError, match="'N' is both a feature and the group"):
        load_runs(good(), features="N,D", group="N")
    with pytest.raises(OptionError, match="features must be a comma-separated string or a list"):
        load_runs(good(), features=5)


def test_unusual_parquet_types(tmp_path):
    t = good()
    arrays = {c: pa.array(t[c]) for c in t.columns}
    cases = {"decimal": (pa.array([decimal.Decimal(round(v)) for v in t["D"]], pa.decimal128(38, 4)), True),
             "float16": (pa.array(np.asarray(t["G"], np.float16)), True),
             "dictionary": (pa.array(t["G"]).dictionary_encode(), True),
             "large_string": (pa.array([repr(v) for v in t["G"]], pa.large_string()), True),
             "timestamp": (pa.array(range(6), pa.timestamp("ms", tz="UTC")), False),
             "duration": (pa.array(range(6), pa.duration("s")), False),
             "binary": (pa.array([b"2"] * 6), False), "bool": (pa.array([True] * 6), False),
             "null": (pa.array([None] * 6, pa.null()), False)}
    for name, (array, ok) in cases.items():
        column = "D" if name == "decimal" else "G"
        pq.write_table(pa.table({**arrays, column: array}), tmp_path / f"{name}.parquet")
        if ok:
            np.testing.assert_array_equal(load_runs(tmp_path / f"{name}.parquet").frame[column],
                                          [float(v) for v in array.to_pylist()])
        else:
            with pytest.raises(DataError, match=f"column '{column}'"):
                load_runs(tmp_path / f"{name}.parquet")
        pq.write_table(pa.table({**arrays, "unused": array}), tmp_path / f"{name}_unused.parquet")
        assert len(load_runs(tmp_path / f"{name}_unused.parquet")) == 6  # a column the load does not use


# ---- property: whatever the table, the loader accepts a clean one or refuses with its own error -------

NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
scalars = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 10 ** 12), st.text(max_size=3),
                    st.none(), st.booleans(), st.binary(max_size=2), st.dates(), st.decimals(allow_nan=False, places=3),
                    st.sampled_from(["1e9", " 2.5", "nan", "inf", "1,5", "NA", ""]))
nested = st.one_of(st.lists(st.floats(allow_nan=False), max_size=2), st.dictionaries(st.text(max_size=1), st.integers(),
                                                                                       max_size=1),
                   st.lists(st.integers(0, 9), max_size=2).map(np.array))
cells = st.one_of(scalars, scalars, nested)
ODD_NAMES = ["runs.csv", "é ü.csv", "with space.tsv", "a\nb.csv", "-dash.csv.gz", "t.parquet", "x" * 300 + ".csv",
             "\udcff.csv", "t.pq"]


def _plain(cell: object, text: bool) -> float | None:
    """The number a careful reader reads in a cell, or None (not a plain number)."""
    if isinstance(cell, (bool, np.bool_)) or cell is None:
        return None
    if isinstance(cell, (int, float, np.integer, np.floating, decimal.Decimal)):
        return float(cell)
    if isinstance(cell, str) and NUMBER.match(cell.strip()):
        return float(cell)
    return None


def _read_back(source: object, frame: pd.DataFrame, text: bool) -> dict[str, list]:
    """The cells as the file holds them, read without lawfind or pandas (the frame's own cells otherwise)."""
    if isinstance(source, pd.DataFrame):
        return {c: list(frame[c]) for c in frame.columns}
    if not text:
        table = pq.read_table(source)
        return {c: table.column(c).to_pylist() for c in table.column_names}
    data = Path(source).read_bytes()
    lines = (gzip.decompress(data) if source.endswith(".gz") else data).decode("utf-8", "surrogatepass")
    rows = list(csv.reader(io.StringIO(lines), delimiter="\t" if source.endswith(".tsv") else ","))
    return {c: [r[i] for r in rows[1:]] for i, c in enumerate(rows[0])}


EXOTIC = {  # arrow types for a column of numbers (None where a cell is not one)
    "decimal": lambda v: pa.array([None if x is None else decimal.Decimal(repr(round(x, 6))) for x in v],
                                  pa.decimal128(38, 6)),
    "float16": lambda v: pa.array(np.array([np.nan if x is None else x for x in v], dtype=np.float16)),
    "uint64": lambda v: pa.array([int(x) if x is not None and 0 <= x < 2 ** 63 else None for x in v], pa.uint64()),
    "large_string": lambda v: pa.array([None if x is None else repr(x) for x in v], pa.large_string()),
    "dictionary": lambda v: pa.array(v, pa.float64()).dictionary_encode(),
    "date": lambda v: pa.array([datetime.date(2020, 1, 1)] * len(v)),
    "timestamp": lambda v: pa.array(range(len(v)), pa.timestamp("ms", tz="UTC")),
    "duration": lambda v: pa.array(range(len(v)), pa.duration("s")),
    "binary": lambda v: pa.array([b"1"] * len(v)),
    "bool": lambda v: pa.array([True] * len(v)),
    "null": lambda v: pa.array([None] * len(v), pa.null()),
}


def _write(frame: pd.DataFrame, name: str, folder: Path, exotic: tuple[str, str] | None = None) -> tuple[object, bool]:
    """The source to load (a path or the frame) and whether its cells went through text; ``exotic``
    (column, arrow type) writes that column of a parquet file with an unusual type."""
    path = folder / name
    try:
        if name.endswith((".parquet", ".pq")):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if exotic:
                col, kind = exotic
                with np.errstate(all="ignore"):
                    array = EXOTIC[kind]([_plain(c, False) for c in frame[col]])
                table = table.set_column(table.column_names.index(col), col, array)
            pq.write_table(table, path)
            return str(path), False
        text = frame.to_csv(index=False, sep="\t" if name.endswith(".tsv") else ",").encode("utf-8", "surrogatepass")
        path.write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    except OSError as exc:
        assert exc.errno == 36  # only the too-long name cannot be written: loading it must fail cleanly
        return str(path), True
    except (pa.ArrowException, ValueError, TypeError, OverflowError):  # cells parquet cannot hold: the frame
        return frame, False
    return str(path), True


@st.composite
def spoilt_tables(draw) -> pd.DataFrame:
    """A clean table with a few cells replaced by any cell (so that many tables are nearly valid)."""
    n = draw(st.integers(1, 6))
    floats = lambda lo, hi: st.lists(st.floats(lo, hi), min_size=n, max_size=n)  # noqa: E731
    N = np.array(draw(floats(1e3, 1e12)))
    frame = pd.DataFrame({"D": draw(floats(1e3, 1e12)), "N": N, "Na": N * np.array(draw(floats(0.01, 1.0))),
                          "G": draw(floats(1.0, 64.0)), "S": draw(floats(0.0, 0.99)), "loss": draw(floats(0.5, 10.0))})
    frame = frame.astype(object)
    for _ in range(draw(st.integers(0, 2))):
        frame.iat[draw(st.integers(0, n - 1)), draw(st.integers(0, 5))] = draw(cells)
    return frame


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(spoilt_tables(), data_frames([column(name, elements=cells, dtype=object)
                                               for name in ("D", "N", "Na", "G", "S", "loss")])),
       st.sampled_from([None, "D,N", "N=Na,G", "x"]), st.sampled_from(["frame", *ODD_NAMES]),
       st.sampled_from([None, "nested seed", "label seed"]),
       st.one_of(st.none(), st.tuples(st.sampled_from(["D", "N", "Na", "G", "S", "loss"]), st.sampled_from(list(EXOTIC)))))
@pytest.mark.slow
def test_malformed_tables_raise_only_our_errors(frame, features, where, seed, exotic):
    if seed:
        frame = frame.assign(seed=[[k] if seed == "nested seed" else f"s{k}" for k in range(len(frame))])
    if exotic:
        where = "t.parquet"
    with tempfile.TemporaryDirectory() as tmp:
        source, text = (frame, False) if where == "frame" else _write(frame, where, Path(tmp), exotic)
        try:
            table = load_runs(source, features=features)
        except LawfindError as exc:
            assert str(exc) and "\n" not in str(exc)  # a message, on one line
            assert not str(exc).startswith("cannot interpret"), exc  # foreseen: not the last-resort guard
            return
        file_cells = _read_back(source, frame, text)
    # whatever was accepted is clean, and holds the file's numbers
    assert seed != "nested seed" or text  # in a text file a list is the label "[0]"
    values = table.frame[list(table.features) + [table.target]].to_numpy(dtype=float)
    assert np.isfinite(values).all() and ((table.y > 0).all() if table.scale == "log" else (table.y <= 0).any())
    for name, col in {**table.columns, table.target: table.target}.items():
        expected = [_plain(c, text) for c in file_cells[col]]
        assert None not in expected, (col, list(frame[col]))
        np.testing.assert_array_equal(table.frame[name].to_numpy(), expected)
        if name == "S":
            assert ((0 <= table.frame[name]) & (table.frame[name] < 1)).all()
        elif name != table.target or table.scale == "log":
            assert (table.frame[name] > 0).all()
    if {"N", "Na"} <= set(table.features):
        assert (table.frame["Na"] <= table.frame["N"] * (1 + 1e-9)).all()
    if "G" in table.features:
        assert (table.frame["G"] >= 1).all()


# ---- what pandas would misread: header lookalikes, shifted rows, booleans, dates ---------------------

@pytest.mark.parametrize("cell,why", [("N ", "surrounding whitespace"), ("\xa0N", "surrounding whitespace"),
                                      ("N\u200d", "the invisible character ZERO WIDTH JOINER"),
                                      ("n", "case"), ("N\ufeff ", "surrounding whitespace and the invisible")])
def test_header_cell_meaning_a_canonical_name_is_read_with_a_note(cell, why):
    frame = good().rename(columns={"N": cell})
    t = load_runs(frame)
    assert t.features == ("D", "N", "Na", "G", "S") and t.columns["N"] == cell
    np.testing.assert_array_equal(t.frame["N"], good()["N"])
    assert len(t.notes) == 1 and why in t.notes[0] and "read as 'N'" in t.notes[0]
    assert load_runs(good()).notes == ()  # a clean header: no note


def test_target_and_explicit_features_are_found_through_spacing_and_case(tmp_path):
    path = tmp_path / "r.csv"
    good().rename(columns={"loss": "Loss", "D": " D"}).to_csv(path, index=False)
    t = load_runs(path, features="D,N")
    assert t.features == ("D", "N") and t.target == "loss" and t.columns["D"] == " D"
    np.testing.assert_allclose(t.y, good()["loss"])
    assert sorted(n.split("'")[1] for n in t.notes) == [" D", "Loss"]
    # a name the user typed is matched through spacing only, not case
    with pytest.raises(DataError, match=r"missing target column 'LOSS' \(did you mean 'Loss'\?\)"):
        load_runs(path, target="LOSS")


@pytest.mark.parametrize("cell,char,name", [("Ν", "GREEK CAPITAL LETTER NU", "N"),
                                            ("Nа", "CYRILLIC SMALL LETTER A", "Na"),
                                            ("Ｇ", "FULLWIDTH LATIN CAPITAL LETTER G", "G"),
                                            ("lоss", "CYRILLIC SMALL LETTER O", "loss")])
def test_lookalike_letters_are_refused_naming_the_character(cell, char, name):
    with pytest.raises(DataError, match=rf"^column '{cell}' uses {char}; did you mean '{name}'\? rename it$"):
        load_runs(good().rename(columns={name: cell}))


def test_near_names_and_two_candidates_are_refused():
    with pytest.raises(DataError, match=r"column 'N_a' is not the column 'Na' \(did you mean 'Na'\?\): rename it "
                                        r"to 'Na', or map it with the feature Na=N_a"):
        load_runs(good().rename(columns={"Na": "N_a"}))
    assert load_runs(good().rename(columns={"Na": "N_a"}), features="D,N,Na=N_a").columns["Na"] == "N_a"
    with pytest.raises(DataError, match=r"columns 'd' and 'D ' both look like 'D'"):
        load_runs(good().rename(columns={"D": "d"}).assign(**{"D ": 1e10}))
    # a canonical column present: other cells that look like it are other columns
    assert load_runs(good().assign(**{"N ": 5.0})).columns["N"] == "N"


@pytest.mark.parametrize("text,line,fix", [
    ("D,N,loss\n1e10,1e8,2.5\n23230000,2e8,2,5\n", 3, "a decimal comma"),  # one row wider
    ("D,N,loss\n1e10,1e8,2,5\n2e10,2e8,3,1\n", 2, "a decimal comma"),  # every row wider: pandas shifted them all
    ("D,N,loss\n1e10,1e8,2.5\n2e10,2e8\n", 3, "a cut or incomplete row"),
    ("D,N,loss\n1e10,1e8,2.5\n\n2e10,2e8,3.1\ntotal,3e8,5.6,x\n", 5, "a decimal comma"),  # blank lines are skipped
])
def test_rows_of_another_width_than_the_header_are_refused_with_the_line(tmp_path, text, line, fix):
    (tmp_path / "r.csv").write_text(text)
    with pytest.raises(DataError, match=rf"r.csv' line {line} has \d fields? but the header has 3: {fix}") as exc:
        load_runs(tmp_path / "r.csv")
    assert "\n" not in str(exc.value)


def test_quoted_decimal_comma_semicolons_and_blank_lines(tmp_path):
    (tmp_path / "q.csv").write_text('D,N,loss\n1e10,1e8,"2,5"\n')
    with pytest.raises(DataError, match=r"column 'loss' is not numeric: row 0 holds '2,5'; a decimal comma\?"):
        load_runs(tmp_path / "q.csv")
    (tmp_path / "s.csv").write_text("D;N;loss\n1e10;1e8;2,5\n")
    with pytest.raises(DataError, match=r"line 2 has 2 fields but the header has 1: its header is one cell with ';'"):
        load_runs(tmp_path / "s.csv")
    (tmp_path / "b.tsv").write_text("D\tN\tloss\n\n1e10\t1e8\t2.5\n  \n2e10\t2e8\t3.5\n")
    np.testing.assert_array_equal(load_runs(tmp_path / "b.tsv").y, [2.5, 3.5])


def test_booleans_are_not_numbers(tmp_path):
    t = good()
    arrays = {c: pa.array(t[c]) for c in t.columns}
    bool8 = pa.ExtensionArray.from_storage(pa.bool8(), pa.array([1] * 6, pa.int8()))  # read by pandas as 1s
    pq.write_table(pa.table({**arrays, "G": bool8}), tmp_path / "b8.parquet")
    with pytest.raises(DataError, match=r"column 'G' holds booleans \(extension<arrow.bool8>\), not numbers"):
        load_runs(tmp_path / "b8.parquet")
    pq.write_table(pa.table({**arrays, "done": bool8}), tmp_path / "unused.parquet")
    assert len(load_runs(tmp_path / "unused.parquet")) == 6  # a column the load does not use
    t.assign(G=["True", "False"] * 3).to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(DataError, match=r"column 'G' holds booleans \(bool\), not numbers"):
        load_runs(tmp_path / "b.csv")
    with pytest.raises(DataError, match=r"column 'S' holds booleans"):
        load_runs(t.assign(S=pd.array([True] * 6, dtype="boolean")))


def test_dates_are_not_numbers(tmp_path):
    good().assign(N=[f"2020-01-0{k + 1}" for k in range(6)]).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError, match=r"column 'N' is not numeric: rows 0, 1, 2, 3, 4 \(and 1 more\) hold "
                                        r"'2020-01-01'; dates are not numbers"):
        load_runs(tmp_path / "d.csv")
    with pytest.raises(DataError, match=r"column 'loss' holds dates or times \(datetime64"):
        load_runs(good().assign(loss=pd.date_range("2020-01-01", periods=6)))
    assert len(load_runs(good().assign(when=pd.date_range("2020-01-01", periods=6)))) == 6  # unused: ignored


def test_subset_keeps_the_notes():
    t = load_runs(good().rename(columns={"G": "g"}))
    assert t.subset(np.arange(3)).notes == t.notes and len(t.notes) == 1
