"""Sweeps: a TOML spec -> runs -> one parquet row per finished run, resumable.

Spec (``runs/*.toml``)::

    name = "tiny"
    corpus = ""                      # "" = the default corpus; or a folder / token file
    [base]                           # the base point: design targets and training settings
    N = 1e6
    Na = 3e5
    G = 4
    S = 0.2
    D = 2e5                          # training tokens
    d_model = 64
    n_layers = 2
    n_heads = 4
    seq_len = 64
    batch_size = 16
    lr = 3e-3
    [[family]]                       # vary one factor around the base point
    vary = "G"                       # N, ratio (= Na/N), G, S or D
    values = [1, 2, 4, 8]
    [random]                         # a random fill of the box
    n = 10
    seed = 0
    N = [3e5, 3e6]                   # log-uniform
    ratio = [0.1, 0.6]
    G = [1, 8]                       # integers
    S = [0.0, 0.5]
    D = [1e5, 4e5]
    [seeds]                          # repeats at the base point, to measure noise
    values = [0, 1, 2]

Every run is keyed by a hash of its full configuration. A finished run is appended to
``OUT.journal.jsonl`` (one line, one ``write`` with ``O_APPEND``, then ``fsync``) by the parent
process only, and the parquet is rewritten atomically (temporary file + ``os.replace``). A killed and
restarted sweep skips the hashes in the journal: no finished run is lost or run twice.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from .data import load_corpus
from .designer import design, vary
from .model import MoEConfig
from .train import TrainConfig, run_hash, train

__all__ = ["RunSpec", "load_spec", "expand", "run_sweep", "read_journal"]

_MODEL_KEYS = {f.name for f in fields(MoEConfig)} - {"n_experts", "top_k", "d_expert", "n_shared", "vocab_size"}
_TRAIN_KEYS = {f.name for f in fields(TrainConfig)} - {"tokens"}


@dataclass(frozen=True)
class RunSpec:
    """One run: the designed model, its training settings, its targets and its hash."""

    model: MoEConfig
    train: TrainConfig
    target: dict
    corpus: str
    key: str
    label: str


def load_spec(path: str | Path) -> dict:
    path = Path(path)
    try:
        spec = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"no such sweep spec: '{path}'") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"'{path}' is not valid TOML: {exc}") from None
    if "base" not in spec:
        raise ValueError(f"'{path}' has no [base] table: it needs the base point (N, Na, G, S, D, ...)")
    missing = [k for k in ("N", "Na", "G", "S", "D") if k not in spec["base"]]
    if missing:
        raise ValueError(f"[base] in '{path}' lacks {missing}")
    return spec


def _run(base: dict, target: dict, seed: int, corpus: str, label: str) -> RunSpec:
    model_kw = {k: v for k, v in base.items() if k in _MODEL_KEYS}
    train_kw = {k: v for k, v in base.items() if k in _TRAIN_KEYS}
    d = design(target["N"], target["Na"], int(round(target["G"])), float(target["S"]), **model_kw)
    tcfg = TrainConfig(tokens=int(target["D"]), **{**train_kw, "seed": seed})
    return RunSpec(d.config, tcfg, {**target, "G": int(round(target["G"]))}, corpus,
                   run_hash(d.config, tcfg, corpus), label)


def expand(spec: dict) -> list[RunSpec]:
    """The runs of a spec, without repeats (same hash = same run)."""
    base = dict(spec["base"])
    point = {k: float(base[k]) for k in ("N", "Na", "G", "S", "D")}
    corpus = spec.get("corpus", "")
    seed0 = int(base.get("seed", 0))
    runs = [_run(base, point, seed0, corpus, "base")]
    for fam in spec.get("family", []):
        for t in vary(point, fam["vary"], fam["values"]):
            runs.append(_run(base, t, seed0, corpus, f"vary {fam['vary']}"))
    rnd = spec.get("random")
    if rnd:
        rng = np.random.default_rng(int(rnd.get("seed", 0)))
        for _ in range(int(rnd.get("n", 0))):
            for _attempt in range(20):  # redraw points whose Na is below what the width and depth allow
                try:
                    runs.append(_run(base, _draw(rng, rnd, point), seed0, corpus, "random"))
                    break
                except ValueError:
                    continue
    for s in spec.get("seeds", {}).get("values", []):

        runs.append(_run(base, point, int(s), corpus, "seed"))
    seen, out = set(), []
    for r in runs:
        if r.key not in seen:
            seen.add(r.key)
            out.append(r)
    return out


def _draw(rng: np.random.Generator, rnd: dict, point: dict) -> dict:
    """A random point of the box: log-uniform N, ratio and D; integer G; uniform S."""
    t = dict(point)
    for k in ("N", "D"):
        if k in rnd:
            t[k] = float(np.exp(rng.uniform(*np.log(rnd[k]))))
    ratio = float(np.exp(rng.uniform(*np.log(rnd["ratio"])))) if "ratio" in rnd else point["Na"] / point["N"]
    t["Na"] = t["N"] * ratio
    if "G" in rnd:
        t["G"] = float(rng.integers(rnd["G"][0], rnd["G"][1] + 1))
    if "S" in rnd:
        t["S"] = float(rng.uniform(*rnd["S"]))
    return t


def journal_path(out: Path) -> Path:
    return out.with_name(out.name + ".journal.jsonl")


def read_journal(out: str | Path) -> list[dict]:
    """Finished rows; a torn last line (a kill mid-write) is ignored, a repeated key kept once."""
    path = journal_path(Path(out))
    if not path.exists():
        return []
    rows, seen = [], set()
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if row.get("run_key") not in seen:
            seen.add(row["run_key"])
            rows.append(row)
    return rows


def _append(path: Path, row: dict) -> None:
    data = (json.dumps(row) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_parquet(out: Path, rows: list[dict]) -> None:
    tmp = out.with_name(out.name + ".tmp")
    pd.DataFrame(rows).to_parquet(tmp, index=False)
    os.replace(tmp, out)


def _execute(run: RunSpec) -> dict:
    corpus = load_corpus(run.corpus or None)
    row = train(run.model, run.train, corpus)
    row.update(run_key=run.key, label=run.label, target_N=run.target["N"], target_Na=run.target["Na"])
    return row


def run_sweep(runs: Iterable[RunSpec], out: str | Path, *, workers: int = 2, backend: str = "local",
              ray_address: str | None = None, on_done: Callable[[dict, int, int], None] | None = None) -> pd.DataFrame:
    """Run what the journal does not hold yet; return every finished row (also in ``out``)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = read_journal(out)
    done = {r["run_key"] for r in rows}
    pending = [r for r in runs if r.key not in done]
    total = len(done) + len(pending)
    if rows:
        _write_parquet(out, rows)

    def finish(row: dict) -> None:
        _append(journal_path(out), row)
        rows.append(row)
        _write_parquet(out, rows)
        if on_done:
            on_done(row, len(rows), total)

    if backend == "local":
        if workers <= 1:
            for r in pending:
                finish(_execute(r))
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(_execute, r) for r in pending}
                while futures:
                    finished, futures = wait(futures, return_when=FIRST_COMPLETED)
                    for f in finished:
                        finish(f.result())
    elif backend == "ray":
        import ray

        if not ray.is_initialized():
            ray.init(address=ray_address, include_dashboard=False, log_to_driver=False)
        remote = ray.remote(num_cpus=1)(_execute)
        refs = [remote.remote(r) for r in pending]
        while refs:
            ready, refs = ray.wait(refs, num_returns=1)
            finish(ray.get(ready[0]))
    else:
        raise ValueError(f"unknown backend '{backend}': choose local or ray")
    return pd.DataFrame(rows)
