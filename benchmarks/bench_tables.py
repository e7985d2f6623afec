"""Does ``lawfind discover`` give a sound law for the tables studies produce? Tables of the common kinds,
drawn from known laws with 0.5 % noise, each run through the default command as a user would run it
(``lawfind discover FILE --out DIR`` plus only the options the table's kind needs), then asked for the
loss at 4x the largest model in the table.

Kinds (issue "discover gives a law for every run table a study produces"):

- ``four_sizes``: a Chinchilla law (Hoffmann et al. 2022's constants) on four model sizes, eight token
  counts each;
- ``three_sizes``: the same on three sizes;
- ``params_tokens``: columns named ``params``, ``tokens``, ``loss`` and no mapping given;
- ``negative``: the target ``loss - 3`` (every value below zero, as a normalised loss);
- ``two_datasets``: two datasets with their own limit and size coefficient and shared exponents,
  ``--group dataset``;
- ``experts``: an expert-count column ``num_experts`` beside ``N`` and ``D`` (loss falls as
  ``E^-0.1``, Clark et al. 2022's form without saturation);
- ``two_targets``: two losses of the same runs, ``--target loss_a,loss_b``;
- ``two_sizes``: two model sizes only: the command must refuse it with a one-line error.

Target: every table but ``two_sizes`` gives a law whose prediction at 4x the largest N (D = 20 N,
and each group, expert count or target) lies within 2 % of the truth; ``two_sizes`` ends with exit
status 2 and one ``error:`` line. Prints one row per prediction and the seconds per table.

Usage: python benchmarks/bench_tables.py [--kinds four_sizes,...] [--seed 0] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

NOISE = 0.005
RATIOS = (2.5, 5, 10, 20, 40, 80, 160, 320)  # tokens per parameter at each size


def chinchilla(n, d, e=1.69, a=406.4, b=410.7, alpha=0.34, beta=0.28):
    return e + a / n ** alpha + b / d ** beta


@dataclass(frozen=True)
class Kind:
    """A kind of table: its rows, the options it needs, and the truth at the points asked about."""

    make: Callable[[np.random.Generator], pd.DataFrame]
    options: tuple[str, ...] = ()
    #: (label, point for predict, true value) for each question
    truth: Callable[[pd.DataFrame], list[tuple[str, dict, float]]] = field(default=lambda f: [])
    refuse: bool = False


def _ladder(sizes, rng, extra: dict | None = None) -> pd.DataFrame:
    rows = [{"N": n, "D": r * n, **(extra or {})} for n in sizes for r in RATIOS]
    return pd.DataFrame(rows)


def _noisy(value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return value * np.exp(rng.normal(0, NOISE, len(value)))


def _chinchilla_table(sizes):
    def make(rng):
        f = _ladder(sizes, rng)
        f["loss"] = _noisy(chinchilla(f.N, f.D), rng)
        return f
    return make


def _at_4x(f: pd.DataFrame, n_col: str = "N", d_col: str = "D") -> tuple[float, float]:
    n = 4 * float(f[n_col].max())
    return n, 20 * n


def _plain_truth(f):
    n, d = _at_4x(f)
    return [("4x N", {"N": n, "D": d}, chinchilla(n, d))]


def _params_tokens(rng):
    f = _chinchilla_table((5e7, 1e8, 2e8, 4e8, 8e8))(rng)
    return f.rename(columns={"N": "params", "D": "tokens"})


def _params_tokens_truth(f):
    n, d = _at_4x(f, "params", "tokens")
    return [("4x params", {"params": n, "tokens": d}, chinchilla(n, d))]


def _negative(rng):
    f = _chinchilla_table((5e7, 1e8, 2e8, 4e8, 8e8))(rng)
    f["loss"] = f["loss"] - 3.0
    return f


def _negative_truth(f):
    n, d = _at_4x(f)
    return [("4x N", {"N": n, "D": d}, chinchilla(n, d) - 3.0)]


DATASETS = {"pile": dict(e=1.69, a=406.4), "c4": dict(e=1.95, a=300.0)}


def _two_datasets(rng):
    parts = []
    for name, consts in DATASETS.items():
        f = _ladder((5e7, 1e8, 2e8, 4e8, 8e8), rng, {"dataset": name})
        f["loss"] = _noisy(chinchilla(f.N, f.D, **consts), rng)
        parts.append(f)
    return pd.concat(parts, ignore_index=True)


def _two_datasets_truth(f):
    n, d = _at_4x(f)
    return [(f"4x N, {g}", {"N": n, "D": d, "dataset": g}, chinchilla(n, d, **c)) for g, c in DATASETS.items()]


EXPERTS = (1, 4, 16, 64)


def _experts_law(n, d, e):
    return 1.69 + 406.4 / (n ** 0.34 * e ** 0.1) + 410.7 / d ** 0.28


def _experts(rng):
    rows = [{"N": n, "D": r * n, "num_experts": e} for n in (5e7, 1e8, 2e8, 4e8, 8e8) for r in (5, 20, 80)
            for e in EXPERTS]
    f = pd.DataFrame(rows)
    f["loss"] = _noisy(_experts_law(f.N, f.D, f.num_experts), rng)
    return f


def _experts_truth(f):
    n, d = _at_4x(f)
    return [(f"4x N, E={e}", {"N": n, "D": d, "num_experts": e}, _experts_law(n, d, e)) for e in (1, 16)]


TARGETS = {"loss_a": dict(), "loss_b": dict(e=2.1, a=250.0, b=600.0)}


def _two_targets(rng):
    f = _ladder((5e7, 1e8, 2e8, 4e8, 8e8), rng)
    for t, consts in TARGETS.items():
        f[t] = _noisy(chinchilla(f.N, f.D, **consts), rng)
    return f


def _two_targets_truth(f):
    n, d = _at_4x(f)
    return [(f"4x N, {t}", {"N": n, "D": d, "target": t}, chinchilla(n, d, **c)) for t, c in TARGETS.items()]


KINDS = {
    "four_sizes": Kind(_chinchilla_table((1e8, 2e8, 4e8, 8e8)), truth=_plain_truth),
    "three_sizes": Kind(_chinchilla_table((1e8, 3e8, 9e8)), truth=_plain_truth),
    "params_tokens": Kind(_params_tokens, truth=_params_tokens_truth),
    "negative": Kind(_negative, truth=_negative_truth),
    "two_datasets": Kind(_two_datasets, ("--group", "dataset"), truth=_two_datasets_truth),
    "experts": Kind(_experts, ("--features", "N,D,num_experts"), truth=_experts_truth),
    "two_targets": Kind(_two_targets, ("--target", "loss_a,loss_b"), truth=_two_targets_truth),
    "two_sizes": Kind(_chinchilla_table((1e8, 4e8)), refuse=True),
}


def best_json(out: Path, target: str | None) -> Path:
    """The best.json of ``target`` in a discovery's folder (a sub-folder per target when there are several)."""
    if target is not None:
        for path in sorted(out.rglob("best.json")):
            if target in path.parts or json.loads(path.read_text()).get("target") == target:
                return path
        raise FileNotFoundError(f"no best.json for target {target} under {out}")
    return out / "best.json"


def run_kind(name: str, kind: Kind, folder: Path, seed: int) -> list[tuple]:
    rng = np.random.default_rng(seed)
    frame = kind.make(rng)
    data = folder / f"{name}.csv"
    frame.to_csv(data, index=False)
    out = folder / name
    cmd = [sys.executable, "-m", "lawfind.cli", "discover", str(data), "--out", str(out), "--no-report",
           "--bootstrap", "20", "--seed", str(seed), *kind.options]
    t0 = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.monotonic() - t0
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    if kind.refuse:
        ok = done.returncode == 2 and len(errors) == 1 and "Traceback" not in done.stderr
        return [(name, "refused", errors[0][:100] if errors else done.stderr.strip()[-100:], None, None, ok, seconds)]
    if done.returncode != 0:
        return [(name, "no law", (errors or [done.stderr.strip()[-100:]])[0][:100], None, None, False, seconds)]
    from lawfind.predict import predict

    rows = []
    for label, point, truth in kind.truth(frame):
        point = dict(point)
        target = point.pop("target", None)
        try:
            got = float(predict(best_json(out, target), pd.DataFrame([point]))["loss"].iloc[0])
        except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
            rows.append((name, label, f"predict failed: {type(exc).__name__}: {str(exc)[:80]}", truth, None, False,
                         seconds))
            continue
        err = got / truth - 1
        rows.append((name, label, "", truth, got, abs(err) <= 0.02, seconds))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", help="write the tables and outputs here instead of a temporary folder")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for name in args.kinds.split(","):
            for row in run_kind(name, KINDS[name], folder, args.seed):
                rows.append(row)
                print(f"{row[0]}: {row[1]} done in {row[6]:.0f} s", flush=True)
    print()
    print("| table | question | truth | lawfind | error | within 2 % / refused cleanly | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name, label, note, truth, got, ok, seconds in rows:
        err = "" if got is None else f"{100 * (got / truth - 1):+.2f} %"
        shown = f"{got:.4f}" if got is not None else note
        print(f"| {name} | {label} | {'' if truth is None else f'{truth:.4f}'} | {shown} | {err} | "
              f"{'yes' if ok else 'NO'} | {seconds:.0f} |")
    print(f"\n{sum(r[5] for r in rows)}/{len(rows)} met")


if __name__ == "__main__":
    main()
