"""The run-table loader: formats, column choice, and one test per bad-input class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames

from lawfind.data import load_runs
from lawfind.errors import DataError, LawfindError, OptionError


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


@pytest.mark.parametrize("col", ["D", "N", "loss"])
def test_non_positive_where_log_taken(col):
    f = good()
    f.loc[1, col] = 0.0 if col != "loss" else -1.0
    with pytest.raises(DataError, match=rf"column '{col}' must be positive \(its log is taken\): row 1"):
        load_runs(f)


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


cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 10 ** 12),
                  st.text(max_size=3), st.none(), st.booleans())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data_frames([column(name, elements=cells) for name in ("D", "N", "Na", "G", "S", "loss")]),
       st.sampled_from([None, "D,N", "N=Na,G", "x"]))
def test_malformed_tables_raise_only_our_errors(frame, features):
    try:
        table = load_runs(frame, features=features)
    except LawfindError as exc:
        assert str(exc)  # a message, never an empty one
        return
    # whatever was accepted is clean
    values = table.frame[list(table.features) + [table.target]].to_numpy(dtype=float)
    assert np.isfinite(values).all() and (table.y > 0).all()
