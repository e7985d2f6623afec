"""Sweeps: the runs of a spec (``moe.spec``) -> one parquet row per finished run, resumable.

Every run is keyed by a hash of its full configuration. Each run that ends is appended to
``OUT.journal.jsonl`` (one line, one ``write`` with ``O_APPEND``, then ``fsync``) by the parent
process only: a finished run as its row, a failed run (it raised, or its loss diverged: non-finite,
or above the uniform baseline ln V at the end) as ``{"status": "failed", "error": ...}`` with its
targets. A failure does not stop the sweep. The parquet holds the finished runs only and is rewritten
atomically (temporary file + ``os.replace``). A killed and restarted sweep skips the finished runs
and the failed ones (``retry_failed=True`` runs those again): no finished run is lost or run twice.
A line torn by a kill mid-write is skipped, and the next record starts on a line of its own.

The options and the output's writability are checked before any run (``check_sweep``). Worker
processes end with the sweep, a ``kill -9`` included: on Linux through ``prctl(PR_SET_PDEATHSIG)``,
everywhere through a thread that checks the parent once a second.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .data import load_corpus
from .output import OutputError, check_output
from .spec import RunSpec
from .train import divergence, train

__all__ = ["SweepResult", "run_sweep", "read_records", "read_journal", "read_failures", "journal_path",
           "check_sweep", "OutputError"]


@dataclass(frozen=True)
class SweepResult:
    """The finished rows (``frame``, as in the parquet) and the failures still outstanding."""

    frame: pd.DataFrame
    failed: tuple[dict, ...]
    ran: int  # runs attempted by this call


def journal_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".journal.jsonl")


def read_records(out: str | Path) -> tuple[list[dict], dict[str, dict]]:
    """Finished rows (first line per key) and failures of keys that never finished (last line per key).

    A torn last line (a kill mid-write) is ignored; lines without a status are finished rows.
    """
    path = journal_path(out)
    rows, failed, seen = [], {}, set()
    if not path.exists():
        return rows, failed
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        key = rec.get("run_key")
        if rec.get("status") == "failed":
            failed[key] = rec
        elif key not in seen:
            seen.add(key)
            rows.append(rec)
    return rows, {k: v for k, v in failed.items() if k not in seen}


def read_journal(out: str | Path) -> list[dict]:
    """The finished rows in the journal of ``out``."""
    return read_records(out)[0]


def read_failures(out: str | Path) -> list[dict]:
    """The failure records of runs in the journal of ``out`` that have not finished since."""
    return list(read_records(out)[1].values())


def _append(path: Path, record: dict) -> None:
    """Append ``record`` as one line, in one write; after a torn last line, on a new line."""
    data = (json.dumps(record) + "\n").encode()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size:
            os.lseek(fd, size - 1, os.SEEK_SET)  # O_APPEND: the write still goes to the end
            if os.read(fd, 1) != b"\n":
                data = b"\n" + data
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_parquet(out: Path, rows: list[dict]) -> None:
    tmp = out.with_name(out.name + ".tmp")
    pd.DataFrame(rows).to_parquet(tmp, index=False)
    os.replace(tmp, out)


def _identity(run: RunSpec) -> dict:
    t = run.target
    return {"run_key": run.key, "label": run.label, "seed": run.train.seed, "target_N": t["N"],
            "target_Na": t["Na"], "target_G": t["G"], "target_S": t["S"], "target_D": t["D"]}


def _failure(run: RunSpec, error: str, started: float) -> dict:
    return {"status": "failed", **_identity(run), "error": error, "wall_time": time.perf_counter() - started}


def _execute(run: RunSpec) -> dict:
    """Train one run; return its row, or a failure record (it never raises)."""
    started = time.perf_counter()
    try:
        corpus = load_corpus(run.corpus or None)
        row = train(run.model, run.train, corpus)
    except Exception as exc:  # any error of one run is journalled; the sweep goes on
        return _failure(run, f"{type(exc).__name__}: {exc}", started)
    why = divergence(row["loss"], row["vocab_size"])
    if why:
        return _failure(run, why, started)
    return {**row, **_identity(run)}


def _end_with_parent(sweep_pid: int, start_method: str) -> None:
    """Worker initializer: end this worker process when the sweep's process ends (a kill -9 too)."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:  # prctl(2): PR_SET_PDEATHSIG = 1, the signal sent when the parent ends
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if parent != sweep_pid and start_method != "forkserver":  # the sweep ended before this worker began
        os._exit(1)

    def watch() -> None:  # the portable fallback: the parent's end re-parents this process
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="moe-parent-check", daemon=True).start()


def check_sweep(out: str | Path, workers: int = 2, backend: str = "local") -> Path:
    """``out`` as a ``Path`` if a sweep can run with these options and write ``out`` (the parquet, its
    journal and its temporary file); else raise a ``ValueError`` (:class:`moe.output.OutputError` for
    the output) that names the fix. Nothing is written."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number >= 1 (1 runs in this process), got {workers!r}")
    if backend not in ("local", "ray"):
        raise ValueError(f"unknown backend '{backend}': choose local or ray")
    if backend == "ray" and importlib.util.find_spec("ray") is None:
        raise ValueError("the ray backend needs ray: pip install 'lawfind[ray]' (or use the local backend)")
    out = Path(out)
    return check_output(out, "-o", example="NAME.parquet",
                        companions=(journal_path(out), out.with_name(out.name + ".tmp")))


def run_sweep(runs: Iterable[RunSpec], out: str | Path, *, workers: int = 2, backend: str = "local",
              ray_address: str | None = None, retry_failed: bool = False,
              on_done: Callable[[dict, int, int], None] | None = None) -> SweepResult:
    """Run what the journal does not hold yet (and its failures with ``retry_failed``).

    ``on_done(record, ended, total)`` is called after each run ends (finished or failed). Options and
    the output are checked first (:func:`check_sweep`), before any run.
    """
    out = check_sweep(out, workers, backend)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows, failed = read_records(out)
    done = {r["run_key"] for r in rows}
    runs = list(runs)
    pending = [r for r in runs if r.key not in done and (retry_failed or r.key not in failed)]
    total, ended = len(runs), len(runs) - len(pending)
    if rows:
        _write_parquet(out, rows)

    def finish(record: dict) -> None:
        nonlocal ended
        _append(journal_path(out), record)
        ended += 1
        if record.get("status") == "failed":
            failed[record["run_key"]] = record
        else:
            failed.pop(record["run_key"], None)
            rows.append(record)
            _write_parquet(out, rows)
        if on_done:
            on_done(record, ended, total)

    if backend == "local":
        if workers <= 1:
            for r in pending:
                finish(_execute(r))
        else:
            context = multiprocessing.get_context()
            with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_end_with_parent,
                                     initargs=(os.getpid(), context.get_start_method())) as pool:
                futures = {pool.submit(_execute, r): r for r in pending}
                while futures:
                    finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for f in finished:
                        run = futures.pop(f)
                        try:
                            record = f.result()
                        except Exception as exc:  # the worker process died (e.g. killed for memory)
                            record = _failure(run, f"{type(exc).__name__}: {exc}", time.perf_counter())
                        finish(record)
    elif backend == "ray":
        import ray

        if not ray.is_initialized():
            ray.init(address=ray_address, include_dashboard=False, log_to_driver=False)
        remote = ray.remote(num_cpus=1)(_execute)
        refs = {remote.remote(r): r for r in pending}
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            run = refs.pop(ready[0])
            try:
                record = ray.get(ready[0])
            except Exception as exc:  # the worker died
                record = _failure(run, f"{type(exc).__name__}: {exc}", time.perf_counter())
            finish(record)
    return SweepResult(pd.DataFrame(rows), tuple(failed.values()), len(pending))
