"""Speed of the robust fitter and its bootstrap.

1. A 5-parameter Chinchilla fit from 256 starts, beside plain scipy L-BFGS-B with finite-difference
   gradients from the same 256 starts (what a notebook would do). Target: under 2 s.

Every baseline runs with one BLAS thread, as ``fit_law`` does (with OpenBLAS's two threads on two busy
cores, scipy's L-BFGS-B takes several times the CPU time: see ``lawfind.fit._serial_blas``). Wall and
CPU seconds are printed: on a machine shared with other work, CPU seconds are the better guide.
2. 1000 bootstrap replicates of a 10-constant law (``lawfind_moe5``) and of a 12-constant law
   (``lawfind_moe5`` plus a ln G x S cross term and an N-dependent data exponent) on the planted
   five-factor table ``runs/planted_moe5.parquet`` (450 runs): the batched multi-start refits
   (best point + 3 more starts each, ``lawfind.bootstrap``), the batched refits from the best point
   only, and, in the same run, the earlier bootstrap (one scipy L-BFGS-B refit per replicate from
   the best point; ``--baseline-reps`` of them, scaled to 1000). Target: fit (256 starts) plus 1000
   multi-start replicates under 10 s. The earlier and the batched single-start intervals are compared
   on the replicates both ran.

Usage: python benchmarks/bench_fit.py [--baseline-reps 1000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from lawfind import catalog
from lawfind.data import load_runs
from lawfind.fit import _blas, _minimise, _Problem, fit_law
from lawfind.laws import parse_law

ROOT = Path(__file__).resolve().parents[1]


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
    with np.errstate(all="ignore"), _blas().limit(limits=1, user_api="blas"):  # as lawfind runs
        best = min((minimize(obj, s, method="L-BFGS-B") for s in starts), key=lambda r: r.fun)
    return time.perf_counter() - t0, best.fun


def moe5_12():
    """lawfind_moe5 with two more constants: a ln G x S cross term in the hook (c) and a data exponent
    that moves with ln N (k)."""
    text = ("E0 + A*Na**(-alpha)*(N/Na)**(-rho)*exp(g1*log(G) + g2*log(G)**2 + s1*S + s2*S**2 + c*log(G)*S)"
            " + B*D**(-(beta + k*log(N/1e9)))")
    init = {"E0": (0.1, 3.0), "A": (1, 3000), "B": (1, 3000), "alpha": (0.05, 0.6), "beta": (0.05, 0.6),
            "rho": (0.0, 0.3), "g1": (-0.2, 0.0), "g2": (0.0, 0.1), "s1": (-0.5, 0.0), "s2": (0.0, 1.0),
            "c": (-0.05, 0.05), "k": (-0.02, 0.02)}
    bounds = {"E0": (0.0, None), "A": (1e-8, None), "B": (1e-8, None), "alpha": (0.0, 3.0), "beta": (0.0, 3.0)}
    law = parse_law(text, ("D", "N", "Na", "G", "S"), name="moe5_cross12", init=init, bounds=bounds)
    from lawfind.laws import Param
    return law.with_params([Param(p.name, p.init, p.bounds, p.name in ("A", "B")) for p in law.params])


def old_bootstrap(law, t, fit, n_reps: int, seed: int = 0, n_starts: int = 256) -> np.ndarray:
    """The bootstrap before the batched one: one scipy L-BFGS-B refit per replicate from the best point.

    The random stream is consumed as ``fit_law(..., n_starts=n_starts, seed=seed)`` does (its starts,
    then the resamples), so replicate ``b`` here and there refit the same resample."""
    problem = _Problem(law, t, "huber", 1e-3, ())
    bounds = problem.bounds_z()
    z = problem.to_z(np.array([fit.values[k] for k in problem.names]))
    rng = np.random.default_rng(seed)
    problem.starts(n_starts, "lhs", rng)
    n = len(t)
    reps = np.empty((n_reps, len(z)))
    with _blas().limit(limits=1, user_api="blas"):  # the same one BLAS thread as fit_law now runs with
        for b in range(n_reps):
            w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
            reps[b] = problem.to_values(_minimise(problem, z, bounds, w=w, maxiter=500).x)
    return reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline-reps", type=int, default=1000, help="replicates of the earlier bootstrap to time")
    args = ap.parse_args()

    t = table()
    law = catalog.get("chinchilla2022")
    t0 = time.perf_counter()
    fit = fit_law(law, t, n_starts=256)
    t_fit = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    starts = np.column_stack([rng.uniform(0.5, 3, 256), rng.uniform(np.log(10), np.log(3000), 256),
                              rng.uniform(np.log(10), np.log(3000), 256), rng.uniform(0.1, 0.8, 256),
                              rng.uniform(0.1, 0.8, 256)])
    t_base, f_base = baseline(t, starts)
    print(f"{'task':<42}{'seconds':>9}{'target':>9}{'vs baseline':>13}")
    print(f"{'5-param fit, 256 starts (lawfind)':<42}{t_fit:>9.2f}{'< 2':>9}{t_base / t_fit:>12.1f}x")
    print(f"{'5-param fit, 256 starts (fd L-BFGS-B)':<42}{t_base:>9.2f}{'':>9}{'1.0x':>13}")
    print(f"objective: lawfind {fit.objective:.6g}, baseline {f_base:.6g}; converged {fit.converged}\n")

    planted = load_runs(ROOT / "runs" / "planted_moe5.parquet")
    print(f"{'law':<14}{'k':>3}  {'task (1000 replicates)':<40}{'wall s':>8}{'cpu s':>8}{'target':>8}"
          f"{'vs earlier':>12}")
    notes = []
    for law in (catalog.get("lawfind_moe5"), moe5_12()):
        timed = {}
        for key, kw in (("fit", {}), ("x1", dict(bootstrap=1000, boot_starts=1)),
                        ("x4", dict(bootstrap=1000, boot_starts=4))):
            w0, c0 = time.perf_counter(), time.process_time()
            timed[key] = (fit_law(law, planted, n_starts=256, seed=0, **kw), time.perf_counter() - w0,
                          time.process_time() - c0)
        fit, w_fit, c_fit = timed["fit"]
        w0, c0 = time.perf_counter(), time.process_time()
        old = old_bootstrap(law, planted, fit, args.baseline_reps)
        scale_ = 1000 / args.baseline_reps
        w_old = w_fit + (time.perf_counter() - w0) * scale_
        c_old = c_fit + (time.process_time() - c0) * scale_
        lines = [("fit, 256 starts, no bootstrap", w_fit, c_fit, "", ""),
                 ("fit + earlier bootstrap, 1 start each", w_old, c_old, "", "1.0x"),
                 ("fit + batched bootstrap, 1 start each", timed["x1"][1], timed["x1"][2], "",
                  f"{c_old / timed['x1'][2]:.1f}x"),
                 ("fit + batched bootstrap, 4 starts each", timed["x4"][1], timed["x4"][2], "< 10",
                  f"{c_old / timed['x4'][2]:.1f}x")]
        for i, (task, w, c, target, ratio) in enumerate(lines):
            head = f"{law.name:<14}{law.n_params:>3}" if i == 0 else " " * 17
            print(f"{head}  {task:<40}{w:>8.2f}{c:>8.2f}{target:>8}{ratio:>12}")
        one, multi = timed["x1"][0], timed["x4"][0]
        # the earlier and the batched single-start refits of the same resamples: their 95 % intervals
        k_same = min(len(old), len(one.bootstrap)) if one.boot_failed == 0 else 0
        q_old = np.percentile(old[:k_same], [2.5, 97.5], axis=0)
        q_new = np.percentile(one.bootstrap[:k_same], [2.5, 97.5], axis=0)
        agree = float(np.max(np.abs(q_new - q_old) / (q_old[1] - q_old[0]))) if k_same else float("nan")
        notes.append(f"{law.name}: multi-start replicates failed {multi.boot_failed:.1%}, left the best point's basin "
                     f"{multi.boot_switched:.1%}; the 95% intervals of the earlier and the batched single-start "
                     f"refits of the same {k_same} resamples differ by at most {agree:.2%} of their width")
    print("\n'vs earlier' is the ratio of CPU seconds; 'earlier': one scipy L-BFGS-B refit per replicate from the best "
          "point" + ("" if args.baseline_reps == 1000 else f" ({args.baseline_reps} timed, scaled to 1000)"))
    print("\n".join(notes))


if __name__ == "__main__":
    main()
