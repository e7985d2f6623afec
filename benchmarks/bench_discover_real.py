"""Discovery on published run tables, judged on their largest models, beside the catalogue's laws.

- **Clark et al. 2022** (``../shared/data/clark2022``, CC-BY 4.0): the final step (249000), top-1
  routing in every other layer, the S-Base router plus the dense runs (the paper's law). Features
  ``E = num_experts``, ``N = dense_parameter_count``; target ``loss_validation``. Fitted on the models
  below 300M, tested on the 370M models (the shared copy has no 1.3B runs).
- **Gemstones** (McLeish et al. 2025; ``../shared/data/gemstone2025``, MIT): dense models of many
  widths and depths at several token counts. Features ``N, D, width, depth``; fitted on N < 1e9,
  tested on N >= 1e9 (1.0B to 2.0B parameters).

For each table: ``Discovery()`` at its default budget and at ``time_budget=60``; and every catalogue
law that applies, fitted (256 starts) on exactly the runs discovery selects on and scored on the same
test runs. Printed: test RMSE of log loss, R2, the error over the spread of the test losses, the number
of constants, admissibility, seconds. Target (issue "discover: laws that hold up beyond the data"): the
discovered law's test error at most that of the best catalogue law, and admissible.

Usage: python benchmarks/bench_discover_real.py [--tables clark,gemstones] [--seed 0] [--budgets default,60]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import sympy as sp

from lawfind import catalog
from lawfind.admissible import Roles, check_admissible
from lawfind.data import load_runs
from lawfind.discovery import Discovery
from lawfind.fit import fit_law
from lawfind.metrics import metrics

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TABLES = {
    "clark": dict(path=SHARED / "clark2022" / "curves.csv.gz", target="loss_validation",
                  features="E=num_experts,N=dense_parameter_count",
                  where="step == 249000 and k == 1 and routing_frequency == 0.5 and router_type in ['S-Base', 'Dense']",
                  holdout="N>=3e8"),
    "gemstones": dict(path=SHARED / "gemstone2025" / "runs.csv.gz", target="loss", features="N,D,width,depth",
                      where=None, holdout="N>=1e9"),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tables", default=",".join(TABLES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budgets", default="default,60")
    args = ap.parse_args()
    for name in args.tables.split(","):
        spec = TABLES[name]
        if not spec["path"].exists():
            print(f"{name}: {spec['path']} is absent, skipped")
            continue
        table = load_runs(spec["path"], target=spec["target"], features=spec["features"], where=spec["where"])
        roles = Roles.infer(table.features)
        rows = []
        splits = None
        for budget in args.budgets.split(","):
            t0 = time.perf_counter()
            d = Discovery(seed=args.seed, holdout=spec["holdout"],
                          time_budget=None if budget == "default" else float(budget)).fit(table)
            sec = time.perf_counter() - t0
            splits = d.splits_
            rows.append((f"discovered ({budget})", d.best_metrics_, d.best_.n_params, d.best_verdict_.ok, sec,
                         sp.sstr(sp.N(d.sympy(), 4))))
        sel, test = table.subset(splits.selection), table.subset(splits.test)
        for law_name in catalog.names():
            law = catalog.get(law_name)
            if not set(law.variables) <= set(table.features):
                continue
            t0 = time.perf_counter()
            fit = fit_law(law, sel, n_starts=256, seed=args.seed)
            m = metrics(test.y, fit.predict(test), train_y=sel.y, train_pred=fit.predict(sel), n_params=fit.n_params)
            ok = check_admissible(law, fit.values, sel, roles).ok
            rows.append((f"catalog: {law_name}", m, fit.n_params, ok, time.perf_counter() - t0,
                         sp.sstr(sp.N(fit.substituted(), 4))))
        print(f"\n{name}: {len(sel)} selection runs, {len(test)} test runs ({splits.description})")
        print(f"{'law':<34}{'RMSE log':>9}{'R2':>9}{'err/spread':>11}{'k':>4}{'adm':>5}{'sec':>6}  law")
        for label, m, k, ok, sec, expr in sorted(rows, key=lambda r: r[1].rmse_log):
            print(f"{label:<34}{m.rmse_log:>9.4f}{m.r2:>9.3f}{m.spread_ratio:>11.3f}{k:>4}{'yes' if ok else 'NO':>5}"
                  f"{sec:>6.0f}  {expr}", flush=True)
        best_cat = min((r for r in rows if r[0].startswith("catalog")), key=lambda r: r[1].rmse_log)
        for r in rows:
            if r[0].startswith("discovered"):
                verdict = "met" if r[1].rmse_log <= best_cat[1].rmse_log and r[3] else "NOT met"
                print(f"{r[0]}: test RMSE {r[1].rmse_log:.4f} against the best catalogue law's {best_cat[1].rmse_log:.4f} "
                      f"({best_cat[0]}), admissible {r[3]}: target {verdict}")


if __name__ == "__main__":
    main()
