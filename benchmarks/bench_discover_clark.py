"""Discovery on the public Clark et al. 2022 runs, beside Clark's law and SLDBench's 4-parameter law.

Rows: the final step (249000), top-1 routing in every other layer, S-Base router plus the dense runs.
Features ``num_experts`` and ``dense_parameter_count``, target ``loss_validation``. Extrapolation split:
train on dense_parameter_count < 3e8, test on the 370M runs (the shared copy has no 1.3B runs).
Discovery holds out the largest training runs (130M) for its own selection; Clark's form and
``L0 + K N^-a E^-b`` are fitted on all training runs. Prints test R2 (SLDBench's 1 - NMSE) and more.

Usage: python benchmarks/bench_discover_clark.py [--generations 60] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import sympy as sp

from lawfind import catalog
from lawfind.compare import evaluate, holdout_split
from lawfind.data import load_runs
from lawfind.discovery import Discovery
from lawfind.fit import fit_law

CLARK = Path(__file__).resolve().parents[2] / "shared" / "data" / "clark2022" / "curves.csv.gz"
WHERE = ("step == 249000 and k == 1 and (routing_frequency == 0.5 or router_type == 'Dense') "
         "and router_type in ['S-Base', 'Dense']")
COLS = {"N": "dense_parameter_count", "E": "num_experts"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--generations", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=str(CLARK))
    args = ap.parse_args()
    table = load_runs(args.data, target="loss_validation", features="num_experts,dense_parameter_count", where=WHERE)
    holdout = "dense_parameter_count>=3e8"
    split = holdout_split(table, holdout)
    rows = []
    for name in ("clark2022", "sldbench_moe"):
        law = catalog.get(name).rename_variables(COLS)
        fit = fit_law(law, table.subset(split.train), n_starts=256, seed=args.seed)
        m = evaluate(fit, table, split)
        rows.append((name, m, fit.n_params, sp.sstr(sp.N(fit.substituted(), 4))))
    t0 = time.perf_counter()
    d = Discovery(generations=args.generations, seed=args.seed, holdout=holdout, include_catalog=False).fit(table)
    sec = time.perf_counter() - t0
    rows.append((f"discovered ({sec:.0f} s)", d.best_metrics_, d.best_.n_params, sp.sstr(sp.N(d.sympy(), 4))))
    # with the columns mapped to N and E, the catalogue's laws join the candidates
    mapped = load_runs(args.data, target="loss_validation", features="E=num_experts,N=dense_parameter_count",
                       where=WHERE)
    dc = Discovery(generations=args.generations, seed=args.seed, holdout="N>=3e8").fit(mapped)
    rows.append(("discovered + catalogue", dc.best_metrics_, dc.best_.n_params, sp.sstr(sp.N(dc.sympy(), 4))))
    print(f"train {int(split.train.sum())} runs, test {int(split.test.sum())} runs ({split.description})")
    print(f"{'law':<28}{'test R2':>9}{'NMSE':>9}{'NMAE':>9}{'RMSE log':>10}{'k':>4}  law")
    for name, m, k, expr in rows:
        print(f"{name:<28}{m.r2:>9.4f}{m.nmse:>9.4f}{m.nmae:>9.4f}{m.rmse_log:>10.4f}{k:>4}  {expr}")


if __name__ == "__main__":
    main()
