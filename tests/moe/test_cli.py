"""The moe command line refuses bad input before any work: exit 2, one line naming the problem and the
fix, no traceback, nothing written."""

from __future__ import annotations

import importlib
import os

import pytest

from moe.cli import main

from .conftest import tiny_spec

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc (a folder that takes no new files)")


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if a model is trained (in this process: the sweeps here run with --workers 1)."""
    calls = []

    def train(*args, **kwargs):
        calls.append(args)
        raise AssertionError("trained before the input was checked")

    monkeypatch.setattr(importlib.import_module("moe.train"), "train", train)
    monkeypatch.setattr(importlib.import_module("moe.sweep"), "train", train)
    return calls


def _refused(argv, capsys, folder, *expected) -> str:
    """Run ``moe argv``; check exit 2, one ``error:`` line holding ``expected``, nothing new in ``folder``."""
    before = sorted(folder.rglob("*"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for text in expected:
        assert text in err, err
    assert sorted(folder.rglob("*")) == before, "something was written"
    return err


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_sweep_workers_below_one_are_refused(tmp_path, text_corpus, capsys, no_training, workers):
    spec = tiny_spec(tmp_path / "s.toml", text_corpus)
    _refused(["sweep", spec, "-o", str(tmp_path / "o.parquet"), "--workers", workers], capsys, tmp_path,
             f"argument --workers: must be a whole number >= 1, got '{workers}'", "moe sweep --help")


def test_train_threads_zero_is_refused(tmp_path, capsys, no_training):
    _refused(["train", "--threads", "0", "-o", str(tmp_path / "row.json")], capsys, tmp_path,
             "argument --threads: must be a whole number >= 1, got '0'")


@pytest.mark.parametrize("argv, expected", [
    (["--D", "-5"], "argument --D: must be a whole number >= 1, got '-5'"),
    (["--D", "0"], "argument --D: must be a whole number >= 1, got '0'"),
    (["--N", "nan"], "argument --N: must be a finite number > 0, got 'nan'"),
    (["--G", "2.5"], "argument --G: must be a whole number >= 1, got '2.5'"),
    (["--S", "1"], "argument --S: must lie in [0, 1)"),
])
def test_train_targets_that_cannot_be_trained_are_refused(tmp_path, capsys, no_training, argv, expected):
    _refused(["train", *argv, "-o", str(tmp_path / "row.json")], capsys, tmp_path, expected)


def test_sweep_spec_that_is_a_folder_is_refused(tmp_path, text_corpus, capsys, no_training):
    (tmp_path / "specs").mkdir()
    tiny_spec(tmp_path / "specs" / "tiny.toml", text_corpus)
    _refused(["sweep", str(tmp_path / "specs"), "-o", str(tmp_path / "o.parquet")], capsys, tmp_path,
             f"the sweep spec '{tmp_path / 'specs'}' is a folder: give a spec file, e.g. "
             f"'{tmp_path / 'specs' / 'tiny.toml'}'")


def test_sweep_output_that_is_a_folder_is_refused_and_nothing_is_left_behind(tmp_path, text_corpus, capsys,
                                                                             no_training):
    spec = tiny_spec(tmp_path / "s.toml", text_corpus)
    (tmp_path / "full").mkdir()
    _refused(["sweep", spec, "-o", str(tmp_path / "full"), "--workers", "1"], capsys, tmp_path,
             f"-o '{tmp_path / 'full'}' is a folder, not a file: give a file path, e.g. "
             f"'{tmp_path / 'full' / 'NAME.parquet'}'")
    assert not (tmp_path / "full.journal.jsonl").exists() and not (tmp_path / "full.tmp").exists()


def test_sweep_output_under_a_file_is_refused(tmp_path, text_corpus, capsys, no_training):
    spec = tiny_spec(tmp_path / "s.toml", text_corpus)
    (tmp_path / "file").write_text("x")
    _refused(["sweep", spec, "-o", str(tmp_path / "file" / "sub" / "o.parquet"), "--workers", "1"], capsys, tmp_path,
             f"lies under '{tmp_path / 'file'}', which is a file, not a folder")


@needs_proc
@pytest.mark.parametrize("argv", [["train", "-o", "/proc/x.json"],
                                  ["sweep", "SPEC", "-o", "/proc/x.parquet", "--workers", "1"]])
def test_an_output_that_cannot_be_written_is_refused_before_training(tmp_path, text_corpus, capsys, no_training,
                                                                    argv):
    argv = [tiny_spec(tmp_path / "s.toml", text_corpus) if a == "SPEC" else a for a in argv]
    _refused(argv, capsys, tmp_path, f"cannot write -o '{argv[argv.index('-o') + 1]}': the folder '/proc' does not "
             "take new files", "choose a path in a writable folder")
    assert no_training == []
