"""Does ``--time-budget`` bound the whole discovery? Wall time of ``lawfind discover --time-budget B``
against ``B``, on 3,000-row tables.

Tables: the planted five-factor law on the ladder design (3,000 runs, 0.75 % noise), and SLDBench's
``lr_bsz`` train split (2,702 runs, four inputs; read from ``../shared/data/sldbench`` where present).
Each run is the CLI in a fresh process (imports included, as a user times it), ``--no-report`` (the
report is not part of the discovery) and ``--bootstrap 100`` (the default). Target (issue "Nothing
silently dropped or misread"): wall time within 10 % of the budget. Run it with nothing else busy.

Usage: python benchmarks/bench_budget.py [--budgets 20,60] [--tables planted,lr_bsz]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lawfind.planted import planted_law, sample

SLDBENCH = Path(__file__).resolve().parents[2] / "shared" / "data" / "sldbench"


def tables(folder: Path) -> dict[str, list[str]]:
    """The command-line arguments (file and options) of each table."""
    planted = folder / "planted3000.csv"
    sample(planted_law("moe5"), n=3000, ladder=True, seed=7).to_csv(planted, index=False)
    out = {"planted": [str(planted)]}
    lr = SLDBENCH / "lr_bsz" / "train.csv.gz"
    if lr.exists():
        out["lr_bsz"] = [str(lr), "--target", "lm_loss",
                         "--features", "N=non_embedding_param_size,D=data_size,lr,bsz"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budgets", default="20,60")
    ap.add_argument("--tables", default="planted,lr_bsz")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        known = tables(folder)
        for name in args.tables.split(","):
            if name not in known:
                print(f"{name}: absent, skipped")
                continue
            for budget in (float(b) for b in args.budgets.split(",")):
                cmd = [sys.executable, "-m", "lawfind.cli", "discover", *known[name], "--time-budget", str(budget),
                       "--no-report", "--out", str(folder / f"{name}-{budget:g}")]
                t0 = time.monotonic()
                done = subprocess.run(cmd, capture_output=True, text=True)
                wall = time.monotonic() - t0
                status = "ok" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr.strip()[-200:]}"
                rows.append((name, budget, wall, status))
                print(f"{name:8s} budget {budget:5.0f} s  wall {wall:6.1f} s  ratio {wall / budget:5.2f}  {status}",
                      flush=True)
    print()
    print("| table | budget (s) | wall (s) | wall / budget | within 10 % |")
    print("|---|---|---|---|---|")
    for name, budget, wall, status in rows:
        print(f"| {name} | {budget:g} | {wall:.1f} | {wall / budget:.2f} | {'yes' if wall <= 1.1 * budget else 'NO'}"
              f"{'' if status == 'ok' else ' (' + status + ')'} |")


if __name__ == "__main__":
    main()
