"""Coverage of predict's intervals at a 4x larger N, on planted tables with known truth.

Each of ``--tables`` tables is drawn afresh from the planted five-factor law ``moe5``
(``lawfind.planted``: N from 1e8 to 1e10, 0.75 % log-normal noise); ``lawfind_moe5`` (the same form)
is fitted with ``--bootstrap`` multi-start replicates and the loss is predicted at N four times the
table's largest (Na = 0.15 N, G = 8, S = 0.3, D = 1e11). The 95 % confidence interval should hold the
planted (noiseless) loss, and the 95 % prediction interval a new noisy run there, in about 95 % of the
tables. Target: 90 % to 98 % for the confidence interval. Percentile and basic bootstrap intervals
come from the same fits.

Usage: python benchmarks/bench_predict_coverage.py [--tables 100] [--runs 450] [--bootstrap 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from lawfind import catalog
from lawfind.data import load_runs
from lawfind.fit import fit_law
from lawfind.planted import planted_law, sample
from lawfind.predict import Predictor, predict


def _binomial_ci(k: int, n: int) -> tuple[float, float]:
    """Wilson 95 % interval of a proportion."""
    p, z = k / n, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", type=int, default=100)
    ap.add_argument("--runs", type=int, default=450)
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--starts", type=int, default=64)
    args = ap.parse_args()

    planted = planted_law("moe5")
    truth_law = planted.law()
    law = catalog.get("lawfind_moe5")
    noise = 0.0075
    rows = []
    t0 = time.perf_counter()
    for s in range(args.tables):
        frame = sample(planted, n=args.runs, noise=noise, seed=1000 + s)
        table = load_runs(frame)
        n_far = 4 * table.ranges()["N"][1]
        point = {"N": n_far, "Na": 0.15 * n_far, "G": 8.0, "S": 0.3, "D": 1e11}
        truth = float(truth_law.compiled([planted.values[p] for p in truth_law.param_names],
                                         [np.array([point[v]]) for v in truth_law.variables])[0])
        new_run = truth * float(np.exp(np.random.default_rng(s).normal(0, noise)))
        fit = fit_law(law, table, n_starts=args.starts, bootstrap=args.bootstrap, seed=s)
        pred = Predictor.from_fit(fit, table.ranges())
        row = {"table": s, "truth": truth, "failed": fit.boot_failed, "switched": fit.boot_switched}
        for method in ("percentile", "basic"):
            out = predict(pred, pd.DataFrame([point]), 0.95, method=method).iloc[0]
            row[f"{method}_ci"] = out.ci_low <= truth <= out.ci_high
            row[f"{method}_pi"] = out.pi_low <= new_run <= out.pi_high
            row[f"{method}_width"] = np.log(out.ci_high / out.ci_low)
            row["loss"] = out.loss
        row["extrapolation"] = out.extrapolation
        rows.append(row)
        if (s + 1) % 10 == 0:
            print(f"  {s + 1}/{args.tables} tables, {time.perf_counter() - t0:.0f} s", flush=True)
    res = pd.DataFrame(rows)
    n = len(res)
    err = np.log(res.loss / res.truth)
    print(f"\n{n} planted moe5 tables of {args.runs} runs, {args.bootstrap} multi-start replicates each; "
          f"prediction at 4x the largest N (extrapolation factor {res.extrapolation.median():.3g})")
    print(f"{'interval':<28}{'covers':>8}{'95% CI of coverage':>22}{'target':>10}")
    for method in ("percentile", "basic"):
        for kind, what in (("ci", "truth"), ("pi", "a new run")):
            k = int(res[f"{method}_{kind}"].sum())
            lo, hi = _binomial_ci(k, n)
            target = "90-98%" if kind == "ci" else ""
            print(f"{method + ' ' + kind.upper() + ' holds ' + what:<28}{k / n:>8.0%}{f'[{lo:.0%}, {hi:.0%}]':>22}"
                  f"{target:>10}")
    print(f"median CI width (log loss): percentile {res.percentile_width.median():.4f}, basic "
          f"{res.basic_width.median():.4f}; |log error| of the point prediction: median {err.abs().median():.4f}, "
          f"RMS {np.sqrt((err ** 2).mean()):.4f}; mean error {err.mean():+.4f}")
    print(f"bootstrap: failed {res.failed.mean():.2%}, left the best point's basin {res.switched.mean():.2%} "
          f"(means over tables); {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
