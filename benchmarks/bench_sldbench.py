"""lawfind on SLDBench: every task of ``../shared/data/sldbench`` with the default discovery, only the
columns' roles (and the group, where a task has one) given, scored by R2 on the task's test split.

The discovery sees the train split alone (its own test split and rolling origins are drawn inside it,
as for any user table); the chosen law predicts the task's test rows, and R2 is pooled over them as
SLDBench scores it. Where a task has groups, discovery takes the group column (one form, the constants
that differ per group chosen by the data); where it has several targets, one law per target, the time
budget shared among them. Beside each score: the human law's and the best leaderboard
entry's R2 from the data's README (January 2026), and the seconds the discovery took. A task that
lawfind refuses prints its one-line error in the table.

Usage: python benchmarks/bench_sldbench.py [--tasks moe,parallel,...] [--time-budget 60] [--seed 0] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lawfind.data import load_runs
from lawfind.discovery import Discovery
from lawfind.forms import structure_key
from lawfind.errors import LawfindError

SLDBENCH = Path(__file__).resolve().parents[2] / "shared" / "data" / "sldbench"


@dataclass(frozen=True)
class Task:
    """A task: its target(s), the features with their roles (``NAME=column``), and the published scores."""

    target: tuple[str, ...]
    features: str
    human: float
    best: float
    decreasing: tuple[str, ...] = ()
    per_group: bool = False
    options: dict = field(default_factory=dict)


TASKS = {
    "moe": Task(("loss_validation",), "E=num_experts,N=dense_parameter_count", 0.703, 0.958),
    "parallel": Task(("loss",), "N=num_params,P=parallel_size", 0.99989, 0.99997, decreasing=("P",), per_group=True),
    "data_constrained": Task(("loss",), "U=unique_tokens,N=params,D=tokens", 0.911, 0.991),
    "lr_bsz": Task(("lm_loss",), "N=non_embedding_param_size,D=data_size,lr,bsz", -0.076, 0.848),
    "sparsity": Task(("loss",), "P,N_active,N_dense,D1,D2", 0.37, 0.53),
    "farseer": Task(("loss",), "N,D", 0.91, 0.93),
    "vocab": Task(("unigram_normalized_loss",), "N=non_vocab_parameters,V=vocab_size,D=num_characters", 0.966, 0.988),
    "domain_mixture": Task(tuple(f"loss_domain_{i}" for i in range(1, 6)),
                           ",".join(f"proportion_domain_{i}" for i in range(1, 6)), 0.671, 0.994, per_group=True),
}


def r2(y: np.ndarray, pred: np.ndarray) -> float:
    return float(1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))


def run_task(name: str, task: Task, budget: float | None, seed: int) -> tuple[str, float]:
    """The pooled test R2 (as text: a number or the refusal) and the seconds taken. A task with groups
    gets one discovery with ``group="group"`` (one form, constants per group as the data choose); a
    task with several targets one discovery per target, the budget shared evenly among them and the
    laws found for the earlier targets screened for the later ones (as ``--target a,b`` does)."""
    train = pd.read_csv(SLDBENCH / name / "train.csv.gz")
    test = pd.read_csv(SLDBENCH / name / "test.csv.gz")
    group = "group" if task.per_group else None
    each = None if budget is None else budget / len(task.target)
    t0 = time.monotonic()
    ys, preds, forms = [], [], {}
    try:
        for target in task.target:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                table = load_runs(train, target=target, features=task.features, group=group)
                disc = Discovery(time_budget=each, seed=seed, decreasing=task.decreasing, forms=tuple(forms.values()),
                                 **task.options)
                disc.fit(table)
                forms.update({structure_key(r.law): r.fit for r in disc.front_})
                held = load_runs(test, target=target, features=task.features, group=group)
            ys.append(held.y)
            preds.append(np.asarray(disc.predict(held), dtype=float))
    except LawfindError as exc:
        return f"refused: {str(exc).splitlines()[0][:90]}", time.monotonic() - t0
    y, pred = np.concatenate(ys), np.concatenate(preds)
    if not np.all(np.isfinite(pred)):
        return f"non-finite on {int(np.sum(~np.isfinite(pred)))} test rows", time.monotonic() - t0
    return f"{r2(y, pred):.4f}", time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--time-budget", type=float, default=None, help="seconds per task, shared among its targets (default: none)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=1,
                    help="runs of each task (same seed: under a time budget the choice may vary with timing); "
                         "the table then gives the median, min and max R2")
    args = ap.parse_args()
    if not SLDBENCH.exists():
        print(f"{SLDBENCH} is absent: nothing to run")
        return
    rows = []
    for name in args.tasks.split(","):
        runs = []
        for _ in range(args.repeats):
            score, seconds = run_task(name, TASKS[name], args.time_budget, args.seed)
            runs.append((score, seconds))
            print(f"{name:17s} R2 {score:>10s}  human {TASKS[name].human:.4g}  best {TASKS[name].best:.4g}  "
                  f"{seconds:.0f} s", flush=True)
        rows.append((name, runs))
    print()
    if args.repeats == 1:
        print("| task | lawfind R2 | human law | best leaderboard entry | seconds |")
        print("|---|---|---|---|---|")
        for name, [(score, seconds)] in rows:
            print(f"| {name} | {score} | {TASKS[name].human:.5g} | {TASKS[name].best:.5g} | {seconds:.0f} |")
        return
    print(f"| task | median R2 of {args.repeats} | min | max | human law | best leaderboard entry | seconds (max) |")
    print("|---|---|---|---|---|---|---|")
    for name, runs in rows:
        values = [float(s) for s, _ in runs if _is_number(s)]
        cells = [f"{np.median(values):.4f}", f"{min(values):.4f}", f"{max(values):.4f}"] if values else ["-"] * 3
        failed = len(runs) - len(values)
        print(f"| {name} | {cells[0]}{f' ({failed} without a score)' if failed else ''} | {cells[1]} | {cells[2]} | "
              f"{TASKS[name].human:.5g} | {TASKS[name].best:.5g} | {max(t for _, t in runs):.0f} |")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


if __name__ == "__main__":
    main()
