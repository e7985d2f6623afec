"""Sweeps: specs to parquet that lawfind loads; a killed sweep resumes with no run lost or repeated, and
its workers end with it; a torn journal line costs nothing; a failed or diverged run is journalled and
the sweep goes on; --retry-failed; the Ray backend, a killed Ray worker included."""

from __future__ import annotations

import importlib
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pandas as pd
import pytest

from lawfind import load_runs
from moe.cli import main
from moe.model import count_params
from moe.spec import expand, load_spec
from moe.sweep import journal_path, read_failures, read_journal, run_sweep

from .conftest import GROUPED_MM, needs_grouped_mm, tiny_spec

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads processes from Linux's /proc")


def test_tiny_sweep_into_parquet_loads_with_lawfind(tmp_path, text_corpus):
    runs = expand(load_spec(tiny_spec(tmp_path / "s.toml", text_corpus))).runs
    assert len(runs) == 4 and len({r.key for r in runs}) == 4  # base, G=1, G=4, seed 1
    out = tmp_path / "runs" / "tiny.parquet"
    result = run_sweep(runs, out, workers=2)
    assert len(result.frame) == 4 and result.failed == () and result.ran == 4
    table = load_runs(out)  # the default schema, with a seed column telling repeats apart
    assert table.features == ("D", "N", "Na", "G", "S") and len(table) == 4
    assert sorted(table.frame["G"]) == [1, 2, 2, 4]
    stored = pd.read_parquet(out)
    # learnt: at least one nat below the uniform baseline ln 256 = 5.545, and below the first evaluation
    assert (stored["loss"] < math.log(256) - 1).all() and (stored["tokens_per_s"] > 0).all()
    first_eval = stored["curve"].map(lambda c: next(p["val_loss"] for p in json.loads(c) if "val_loss" in p))
    assert (stored["loss"] < first_eval).all()
    assert {"flops", "wall_time", "load_max_over_mean", "curve", "config", "E", "dispatch"} <= set(stored.columns)
    # rows record the seed, the dispatch and the achieved (not requested) N, Na, G, S
    by_key = {r.key: r for r in runs}
    for _, row in stored.iterrows():
        run = by_key[row["run_key"]]
        counts = count_params(run.model)
        assert (row["N"], row["Na"], row["G"]) == (counts["N"], counts["Na"], run.model.top_k)
        assert row["S"] == run.model.shared_ratio and row["seed"] == run.train.seed
        assert row["target_N"] == run.target["N"] and row["dispatch"] == ("grouped_mm" if GROUPED_MM else "loop")
    assert (stored["N"] != stored["target_N"]).all()  # achieved, not requested


# the sweep of test_killed_sweep_resumes_without_loss_or_duplicates, in a process of its own: once the first
# run is journalled it touches FLAG and waits to be killed (a handshake, not a timed race)
_STOP_AFTER_FIRST_RUN = textwrap.dedent("""
    import pathlib, sys, threading
    import moe.sweep
    from moe.cli import main

    real, calls = moe.sweep.train, []

    def train(model, cfg, corpus):
        calls.append(cfg.seed)
        if len(calls) == 2:  # the first run is in the journal
            pathlib.Path(sys.argv[1]).touch()
            threading.Event().wait()  # until killed
        return real(model, cfg, corpus)

    moe.sweep.train = train
    sys.exit(main(sys.argv[2:]))
""")


@pytest.mark.slow
def test_killed_sweep_resumes_without_loss_or_duplicates(tmp_path, text_corpus):
    spec_path = tiny_spec(tmp_path / "s.toml", text_corpus)
    out, flag = tmp_path / "k.parquet", tmp_path / "first-run-journalled"
    argv = ["sweep", spec_path, "-o", str(out), "--workers", "1"]
    proc = subprocess.Popen([sys.executable, "-c", _STOP_AFTER_FIRST_RUN, str(flag), *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not flag.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert flag.exists(), f"the sweep never reached its second run (exit status {proc.poll()})"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = read_journal(out)
    assert len(before) == 1 and len(pd.read_parquet(out)) == 1  # killed in its second run
    assert main(argv) == 0
    after = read_journal(out)
    keys = [r["run_key"] for r in after]
    assert len(keys) == 4 == len(set(keys)) == len(pd.read_parquet(out))
    # the run finished before the kill was kept, not run again
    assert after[0] == before[0]
    assert journal_path(out).read_text().count("\n") == 4


def _descendants(pid: int) -> set[int]:
    """The processes below ``pid`` (children, their children, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (a dead process its new parent has not reaped)."""
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.mark.slow
@needs_proc
def test_workers_end_with_a_killed_sweep(tmp_path, text_corpus):
    spec = tiny_spec(tmp_path / "s.toml", text_corpus, D=2e5)  # runs of many seconds: the workers are busy
    cmd = [sys.executable, "-m", "moe.cli", "sweep", spec, "-o", str(tmp_path / "w.parquet"), "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and proc.poll() is None and time.monotonic() < deadline:
            workers = _descendants(proc.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, f"the sweep never started its workers (exit status {proc.poll()})"
        os.kill(proc.pid, signal.SIGKILL)  # the sweep only: its workers are not signalled
        proc.wait()
        deadline = time.monotonic() + 5
        while any(map(_running, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in workers if _running(p)], "workers outlived the killed sweep"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the sweep's process group
        except ProcessLookupError:
            pass
        proc.wait()


def test_a_torn_journal_line_does_not_swallow_the_next_record(tmp_path, text_corpus, monkeypatch):
    runs = expand(load_spec(tiny_spec(tmp_path / "s.toml", text_corpus))).runs[:2]
    # the journal's logic, not training, is under test: a stand-in row per run
    monkeypatch.setattr(importlib.import_module("moe.sweep"), "train",
                        lambda model, cfg, corpus: {"loss": 2.0 + model.top_k, "vocab_size": 256})
    out = tmp_path / "t.parquet"
    assert run_sweep(runs[:1], out, workers=1).ran == 1
    path = journal_path(out)
    torn = '{"run_key": "0123456789abcdef", "loss": 2.'  # a crash mid-write of another run
    path.write_text(path.read_text() + torn)
    assert run_sweep(runs, out, workers=1).ran == 1
    lines = path.read_text().split("\n")
    assert lines[1] == torn and json.loads(lines[2])["run_key"] == runs[1].key and lines[3] == ""
    assert [r["run_key"] for r in read_journal(out)] == [runs[0].key, runs[1].key]
    assert run_sweep(runs, out, workers=1).ran == 0  # the run after the torn line is not trained again
    assert list(pd.read_parquet(out)["loss"]) == [2.0 + runs[0].model.top_k, 2.0 + runs[1].model.top_k]


def _sabotage(monkeypatch, *, raise_at_G: int | None = None, nan_at_G: int | None = None) -> None:
    """Make the run of one G raise, or report a NaN loss, inside the sweep."""
    sweep = importlib.import_module("moe.sweep")
    real = sweep.train

    def train(model, cfg, corpus):
        if model.top_k == raise_at_G:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        row = real(model, cfg, corpus)
        return {**row, "loss": float("nan")} if model.top_k == nan_at_G else row

    monkeypatch.setattr(sweep, "train", train)


@pytest.mark.slow
def test_a_failed_and_a_diverged_run_are_journalled_and_the_sweep_goes_on(tmp_path, text_corpus, monkeypatch):
    runs = expand(load_spec(tiny_spec(tmp_path / "s.toml", text_corpus))).runs  # G = 2 (twice), 1, 4
    out = tmp_path / "f.parquet"
    _sabotage(monkeypatch, raise_at_G=1, nan_at_G=4)
    result = run_sweep(runs, out, workers=1)
    assert result.ran == 4 and len(result.frame) == 2 and set(result.frame["G"]) == {2}
    errors = {f["target_G"]: f["error"] for f in read_failures(out)}
    assert errors[1] == "RuntimeError: CUDA error: an illegal memory access was encountered"
    assert errors[4] == "diverged: the final loss is nan"
    assert len(pd.read_parquet(out)) == 2 and pd.read_parquet(out)["loss"].notna().all()  # finished runs only
    assert len(load_runs(out)) == 2
    # a rerun skips the failures; --retry-failed runs them again
    monkeypatch.undo()
    assert run_sweep(runs, out, workers=1).ran == 0
    again = run_sweep(runs, out, workers=1, retry_failed=True)
    assert again.ran == 2 and len(again.frame) == 4 and again.failed == () and read_failures(out) == []
    lines = [json.loads(x) for x in journal_path(out).read_text().splitlines()]
    assert [x.get("status", "finished") for x in lines].count("failed") == 2 and len(lines) == 6


@pytest.mark.slow
@needs_grouped_mm
def test_cli_finishes_every_other_run_in_parallel_and_retries(tmp_path, text_corpus, capsys):
    # a real failure in a worker process: explicit grouped_mm with an expert width that is not 16-byte
    # aligned in fp32 (align = 2 lets the designer pick 1182 for G = 1; 592 and 296 for G = 2 and 4)
    spec = tiny_spec(tmp_path / "s.toml", text_corpus, dispatch='"grouped_mm"', align=2)
    out = tmp_path / "c.parquet"
    assert main(["sweep", spec, "-o", str(out), "--workers", "2"]) == 1
    captured = capsys.readouterr()
    assert "1 of 4 runs failed" in captured.err and "--retry-failed" in captured.err
    (failure,) = read_failures(out)
    assert failure["target_G"] == 1 and "dispatch='grouped_mm' cannot run here: rows of width 1182" in failure["error"]
    assert sorted(pd.read_parquet(out)["G"]) == [2, 2, 4]
    assert main(["sweep", spec, "-o", str(out), "--workers", "2"]) == 0
    assert "1 failed before (skipped; --retry-failed reruns them)" in capsys.readouterr().out
    assert main(["sweep", spec, "-o", str(out), "--workers", "2", "--retry-failed"]) == 1  # fails again, honestly
    assert len(read_failures(out)) == 1 and len(pd.read_parquet(out)) == 3


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray instance for this module's Ray tests (it takes seconds to start)."""
    ray = pytest.importorskip("ray", reason="ray is optional: pip install -c constraints.txt -e '.[test,ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_backend_trains_the_runs_as_the_local_backend_does(tmp_path, text_corpus, ray_session):
    runs = expand(load_spec(tiny_spec(tmp_path / "s.toml", text_corpus))).runs[:2]
    remote = run_sweep(runs, tmp_path / "r.parquet", backend="ray")
    local = run_sweep(runs, tmp_path / "l.parquet", workers=1)
    assert remote.ran == 2 and remote.failed == () and len(pd.read_parquet(tmp_path / "r.parquet")) == 2
    columns = ["run_key", "N", "Na", "G", "S", "D", "seed", "loss", "final_train_loss"]
    a, b = (r.frame[columns].sort_values("run_key").reset_index(drop=True) for r in (remote, local))
    assert set(a["run_key"]) == {r.key for r in runs}
    pd.testing.assert_frame_equal(a, b)  # same runs, same seeds, one thread each: the same losses
    assert (a["loss"] < math.log(256) - 1).all()  # and they learnt


def _ray_tasks() -> list[int]:
    """The Ray worker processes running a run now (Ray titles them after the task: ray::_execute)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if open(f"/proc/{entry}/cmdline", "rb").read().startswith(b"ray::_execute"):
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


@needs_proc
@pytest.mark.slow
def test_a_killed_ray_worker_leaves_the_sweep_whole_after_resuming(tmp_path, text_corpus, ray_session):
    runs = expand(load_spec(tiny_spec(tmp_path / "s.toml", text_corpus, D=3.6e4))).runs  # 4 runs
    out, killed, stop = tmp_path / "k.parquet", [], threading.Event()

    def kill_one_worker_mid_run() -> None:
        seen: dict[int, float] = {}
        while not stop.is_set():
            now = time.monotonic()
            seen = {p: seen.get(p, now) for p in _ray_tasks()}
            busy = [p for p, since in seen.items() if now - since > 0.5]  # half a second into a run
            if busy:
                os.kill(busy[0], signal.SIGKILL)
                killed.append(busy[0])
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_one_worker_mid_run)
    killer.start()
    try:
        first = run_sweep(runs, out, backend="ray")
    finally:
        stop.set()
        killer.join()
    assert killed, "no Ray worker was seen running a run"
    # Ray retries a task whose worker died; a failure it gave up on is journalled and rerun here
    assert first.ran == 4 and len(first.frame) + len(first.failed) == 4
    again = run_sweep(runs, out, backend="ray", retry_failed=True)
    assert again.ran == len(first.failed) and again.failed == ()
    keys = [r["run_key"] for r in read_journal(out)]
    assert sorted(keys) == sorted(r.key for r in runs)  # every run finished, none twice
    stored = pd.read_parquet(out)
    assert sorted(stored["run_key"]) == sorted(keys) and (stored["loss"] < math.log(256) - 1).all()


def test_bad_spec_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "bad.toml").write_text("[base]\nN = 1e6\n")
    assert main(["sweep", str(tmp_path / "bad.toml"), "-o", str(tmp_path / "x.parquet")]) == 2
    assert "lacks ['Na', 'G', 'S', 'D']" in capsys.readouterr().err
