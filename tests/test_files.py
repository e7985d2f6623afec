"""Reading run-table files: every failure a DataError naming the file."""

from __future__ import annotations

import gzip

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lawfind.errors import DataError
from lawfind.files import Unreadable, read_table


def test_formats(tmp_path):
    frame = pd.DataFrame({"N": [1e8, 2e8], "loss": [3.0, 2.5]})
    frame.to_csv(tmp_path / "r.csv", index=False)
    (tmp_path / "r.csv.gz").write_bytes(gzip.compress((tmp_path / "r.csv").read_bytes()))
    frame.to_csv(tmp_path / "r.tsv", index=False, sep="\t")
    frame.to_parquet(tmp_path / "r.parquet")
    for name in ("r.csv", "r.csv.gz", "r.tsv", "r.parquet"):
        pd.testing.assert_frame_equal(read_table(tmp_path / name), frame, check_dtype=False)


@pytest.mark.parametrize("name,content,message", [
    ("x" * 300 + ".csv", None, "the name is too long for the file system"),
    ("nul\0.csv", None, r"no such file: '.*nul\\x00.csv'"),
    ("missing.csv", None, "no such file"),
    ("t.xlsx", b"x", "unknown format '.xlsx'"),
    ("e.csv", b"", "is empty"),
    ("trunc.csv.gz", gzip.compress(b"N,loss\n1,2\n" * 100)[:40], "cannot read '.*trunc.csv.gz' as CSV"),
    ("bad.parquet", b"PAR1 not parquet", "cannot read '.*bad.parquet' as parquet"),
    ("dup.csv", b"N,loss,N\n1,2,3\n", "repeats the column name.s. 'N' in its header"),
    ("bin.csv", b"\xff\xfe\x00N,loss\n", "cannot read '.*bin.csv' as CSV"),
])
def test_unreadable(tmp_path, name, content, message):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(DataError, match=message) as exc:
        read_table(str(tmp_path / name))
    assert "\n" not in str(exc.value)


def test_a_folder_and_a_non_path(tmp_path):
    with pytest.raises(DataError, match="is a folder"):
        read_table(tmp_path)
    with pytest.raises(DataError, match="cannot read a 'int' object as a run table"):
        read_table(3)


def test_a_column_pandas_cannot_convert_is_kept_as_unreadable_cells(tmp_path, monkeypatch):
    """pandas converts every arrow type of today; should one fail (as out-of-range timestamps did in
    older versions), the file is still read and only that column is marked."""
    pq.write_table(pa.table({"N": [1e8, 2e8], "odd": pa.array([1, 2], pa.duration("s"))}), tmp_path / "t.parquet")
    table = pq.read_table(tmp_path / "t.parquet")

    class Failing:
        def __init__(self, column):
            self.column = column

        def __len__(self):
            return len(self.column)

        def to_pandas(self):
            raise pa.ArrowNotImplementedError("cannot convert duration")

    class OneColumnFails:
        schema, column_names = table.schema, table.column_names
        columns = [table.column(0), Failing(table.column(1))]

    def pandas_fails(*args, **kwargs):
        raise pa.ArrowNotImplementedError("cannot convert duration")

    monkeypatch.setattr("lawfind.files.pd.read_parquet", pandas_fails)
    monkeypatch.setattr("lawfind.files.pq.read_table", lambda path: OneColumnFails())
    frame = read_table(tmp_path / "t.parquet")
    assert list(frame.columns) == ["N", "odd"] and list(frame["N"]) == [1e8, 2e8]
    assert isinstance(frame["odd"].iloc[0], Unreadable) and frame["odd"].iloc[0].arrow_type == "duration[s]"
