"""Sweeps: specs to parquet that lawfind loads; a killed sweep resumes with no run lost or repeated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from lawfind import load_runs
from moe.cli import main
from moe.designer import design, vary
from moe.sweep import expand, journal_path, load_spec, read_journal, run_sweep

from .conftest import tiny_spec


def test_designer_hits_targets_and_reports_them():
    d = design(1e6, 3e5, 4, 0.2, d_model=64, n_layers=2)
    assert d.error < 0.02 and d.achieved["S"] == pytest.approx(0.2) and d.config.d_expert % 4 == 0
    grid = vary({"N": 1e6, "Na": 3e5, "G": 4, "S": 0.2, "D": 1e5}, "ratio", [0.1, 0.5])
    assert [g["Na"] for g in grid] == [1e5, 5e5] and all(g["N"] == 1e6 for g in grid)
    with pytest.raises(ValueError, match="Na <= N"):
        design(1e5, 2e5, 2, 0.0)


def test_tiny_sweep_into_parquet_loads_with_lawfind(tmp_path, text_corpus):
    spec = load_spec(tiny_spec(tmp_path / "s.toml", text_corpus))
    runs = expand(spec)
    assert len(runs) == 4 and len({r.key for r in runs}) == 4  # base, G=1, G=4, seed 1
    out = tmp_path / "runs" / "tiny.parquet"
    frame = run_sweep(runs, out, workers=2)
    assert len(frame) == 4
    table = load_runs(out)  # the default schema, with a seed column telling repeats apart
    assert table.features == ("D", "N", "Na", "G", "S") and len(table) == 4
    assert sorted(table.frame["G"]) == [1, 2, 2, 4]
    stored = pd.read_parquet(out)
    assert (stored["loss"] < 5.6).all() and (stored["tokens_per_s"] > 0).all()  # learnt below uniform (ln 256)
    assert {"flops", "wall_time", "load_max_over_mean", "curve", "config", "E"} <= set(stored.columns)


def test_killed_sweep_resumes_without_loss_or_duplicates(tmp_path, text_corpus):
    spec_path = tiny_spec(tmp_path / "s.toml", text_corpus, D=2.4e4)
    out = tmp_path / "k.parquet"
    cmd = [sys.executable, "-m", "moe.cli", "sweep", spec_path, "-o", str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(read_journal(out)) < 1:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = read_journal(out)
    assert 1 <= len(before) < 4, "kill the sweep midway"
    assert main(["sweep", spec_path, "-o", str(out), "--workers", "1"]) == 0
    after = read_journal(out)
    keys = [r["run_key"] for r in after]
    assert len(keys) == 4 == len(set(keys)) == len(pd.read_parquet(out))
    # the runs finished before the kill were kept, not run again
    first = {r["run_key"]: r["wall_time"] for r in before}
    assert all(next(r for r in after if r["run_key"] == k)["wall_time"] == w for k, w in first.items())
    assert journal_path(out).read_text().count("\n") == 4


def test_ray_backend_against_a_local_instance(tmp_path, text_corpus):
    ray = pytest.importorskip("ray", reason="ray is optional: pip install 'lawfind[ray]'")
    spec = load_spec(tiny_spec(tmp_path / "s.toml", text_corpus))
    try:
        frame = run_sweep(expand(spec)[:2], tmp_path / "r.parquet", backend="ray")
    finally:
        ray.shutdown()
    assert len(frame) == 2 and frame["loss"].notna().all()


def test_bad_spec_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "bad.toml").write_text("[base]\nN = 1e6\n")
    assert main(["sweep", str(tmp_path / "bad.toml"), "-o", str(tmp_path / "x.parquet")]) == 2
    assert "lacks ['Na', 'G', 'S', 'D']" in capsys.readouterr().err


def test_default_corpus_is_real_text_from_a_package():
    from moe.data import default_corpus_dir, load_corpus

    try:
        default_corpus_dir()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    corpus = load_corpus()
    assert corpus.vocab_size == 256 and len(corpus.train) > 5_000_000
    assert b"Romeo" in corpus.train[:].astype("uint8").tobytes()
    again = load_corpus()
    assert (again.val == corpus.val).all()  # the validation set is fixed
