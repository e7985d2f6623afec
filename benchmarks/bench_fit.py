"""Speed of the robust fitter: a 5-parameter Chinchilla fit from 256 starts, and 1000 bootstrap refits.

Targets on the 2-core CPU machine: under 2 s and under 20 s. Baseline in the same run: plain
scipy L-BFGS-B with finite-difference gradients from the same 256 starts (what a notebook would do).

Usage: python benchmarks/bench_fit.py
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from lawfind import catalog
from lawfind.data import load_runs
from lawfind.fit import fit_law


def table(n: int = 450, seed: int = 0):
    rng = np.random.default_rng(seed)
    N, D = 10 ** rng.uniform(7, 10, n), 10 ** rng.uniform(9, 11.5, n)
    L = (1.69 + 406.4 / N ** 0.34 + 410.7 / D ** 0.28) * np.exp(rng.normal(0, 0.01, n))
    return load_runs(pd.DataFrame({"N": N, "D": D, "loss": L}))


def baseline(t, starts) -> float:
    """Finite-difference L-BFGS-B from every start, Huber on log loss, no analytic gradient."""
    N, D = t.X(["N", "D"])
    logy = np.log(t.y)

    def obj(p):
        e, a, b, al, be = p
        pred = e + np.exp(a) / N ** al + np.exp(b) / D ** be
        if np.any(pred <= 0):
            return 1e30
        r = np.abs(np.log(pred) - logy)
        return float(np.sum(np.where(r <= 1e-3, 0.5 * r * r, 1e-3 * (r - 5e-4))))

    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        best = min((minimize(obj, s, method="L-BFGS-B") for s in starts), key=lambda r: r.fun)
    return time.perf_counter() - t0, best.fun


def main() -> None:
    t = table()
    law = catalog.get("chinchilla2022")
    t0 = time.perf_counter()
    fit = fit_law(law, t, n_starts=256)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit_law(law, t, n_starts=16, bootstrap=1000)
    t_boot = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    starts = np.column_stack([rng.uniform(0.5, 3, 256), rng.uniform(np.log(10), np.log(3000), 256),
                              rng.uniform(np.log(10), np.log(3000), 256), rng.uniform(0.1, 0.8, 256),
                              rng.uniform(0.1, 0.8, 256)])
    t_base, f_base = baseline(t, starts)
    print(f"{'task':<42}{'seconds':>9}{'target':>9}{'vs baseline':>13}")
    print(f"{'5-param fit, 256 starts (lawfind)':<42}{t_fit:>9.2f}{'< 2':>9}{t_base / t_fit:>12.1f}x")
    print(f"{'5-param fit, 256 starts (fd L-BFGS-B)':<42}{t_base:>9.2f}{'':>9}{'1.0x':>13}")
    print(f"{'1000 bootstrap refits (lawfind)':<42}{t_boot:>9.2f}{'< 20':>9}{'':>13}")
    print(f"objective: lawfind {fit.objective:.6g}, baseline {f_base:.6g}; converged {fit.converged}")


if __name__ == "__main__":
    main()
