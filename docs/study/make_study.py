"""Regenerate the study of docs/study.md from runs/moe_study.parquet (about 10 minutes on 2 cores).

Usage: python docs/study/make_study.py [--runs runs/moe_study.parquet] [--generations 60]
Writes docs/study/*.png, docs/study/discover/, and docs/study/results.json; prints the numbers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sympy as sp  # noqa: E402

from lawfind import catalog, compare_laws, holdout_split, load_runs  # noqa: E402
from lawfind.cli.discover import write_outputs  # noqa: E402
from lawfind.discovery import Discovery  # noqa: E402
from lawfind.export import latex, latex_table  # noqa: E402
from lawfind.fit import fit_law  # noqa: E402
from lawfind.laws import Param, parse_law  # noqa: E402
from lawfind.optimize import compute_optimal, stationary_point  # noqa: E402

HERE = Path(__file__).resolve().parent
CROSS = ("E0 + A*Na**(-alpha)*(N/Na)**(-rho)*exp(g1*log(G) + g2*log(G)**2 + s1*S + s2*S**2"
         " + kgn*log(G)*log(N/1e6) + ksn*S*log(N/1e6) + kgd*log(G)*log(D/2e5) + ksd*S*log(D/2e5)) + B*D**(-beta)")


def data_plots(frame: pd.DataFrame) -> None:
    fig, axes = plt.subplots(1, 5, figsize=(17, 3.2), sharey=True)
    fam = {"N": ("vary N", "N"), "ratio": ("vary ratio", "Na/N"), "G": ("vary G", "G"), "S": ("vary S", "S"),
           "D": ("vary D", "D")}
    base = frame[frame.label.isin(["base", "seed"])]
    for ax, (key, (label, xl)) in zip(axes, fam.items()):
        sub = pd.concat([frame[frame.label == label], base])
        x = sub["Na"] / sub["N"] if key == "ratio" else sub[key]
        ax.scatter(x, sub["loss"], c="C0", s=18, label=label + " + base")
        other = frame[frame.label == "random"]
        xo = other["Na"] / other["N"] if key == "ratio" else other[key]
        ax.scatter(xo, other["loss"], c="0.7", s=6, label="random fill")
        if key in ("N", "D", "G"):
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel(xl)
    axes[0].set_ylabel("validation loss (nats/byte)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(HERE / "data.png", dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default="runs/moe_study.parquet")
    ap.add_argument("--generations", type=int, default=60)
    args = ap.parse_args()
    frame = pd.read_parquet(args.runs)
    data_plots(frame)
    table = load_runs(args.runs)
    out: dict = {"n_runs": len(table)}
    seeds = frame[frame.label.isin(["base", "seed"])]["loss"]
    out["seed_noise"] = {"n": int(len(seeds)), "std": float(seeds.std(ddof=1)), "mean": float(seeds.mean())}

    disc = Discovery(generations=args.generations, seed=0, bootstrap=200).fit(table)
    write_outputs(disc, HERE / "discover")
    out["discovered"] = {"expression": sp.sstr(sp.N(disc.sympy(), 4)), "latex": disc.latex(),
                         "n_params": disc.best_.n_params, "test": disc.best_metrics_.as_dict(),
                         "splits": disc.splits_.description}

    split = holdout_split(table, "top:N:0.15")
    laws = [catalog.get(n) for n in ("chinchilla2022", "kaplan2020", "krajewski2024", "ludziejewski2025",
                                     "abnar2025", "tian2025", "lawfind_moe5")]
    laws.append(disc.best_.law)
    comp = compare_laws(laws, table, split, n_starts=64)
    out["comparison"] = comp.table()
    (HERE / "compare.tex").write_text(latex_table(comp) + "\n")

    # optima from the five-factor law (hooks in G and S by construction) with bootstrap intervals
    fit = fit_law(catalog.get("lawfind_moe5"), table, n_starts=128, bootstrap=200, seed=0)
    reps = [dict(zip(fit.values, r)) for r in fit.bootstrap]
    ranges = table.ranges()
    opt = {v: stationary_point(fit.law, fit.values, v, ranges=ranges, bootstrap=reps) for v in ("G", "S")}
    out["moe5"] = {"values": fit.values, "intervals": fit.intervals, "latex": latex(fit.substituted()),
                   "optima": {v: o.as_dict() for v, o in opt.items()}}
    # does the discovered law have optima in G and S?
    dvals, dlaw = disc.best_.values, disc.best_.law
    out["discovered_optima"] = {}
    for v in ("G", "S"):
        if v in dlaw.variables:
            o = stationary_point(dlaw, dvals, v, ranges=ranges,
                                 bootstrap=[dict(zip(dvals, r)) for r in disc.best_.bootstrap])
            out["discovered_optima"][v] = o.as_dict()

    # are G* and S* independent of N and D? a law with the cross terms the claim says are zero
    cross = parse_law(CROSS, table.features, name="moe5_cross")
    cross = cross.with_params([*catalog.get("lawfind_moe5").params,
                               *(Param(k, (-0.05, 0.05)) for k in ("kgn", "ksn", "kgd", "ksd"))])
    cfit = fit_law(cross, table, n_starts=128, bootstrap=200, seed=0,
                   initial=[{**fit.values, "kgn": 0.0, "ksn": 0.0, "kgd": 0.0, "ksd": 0.0}])
    out["cross_terms"] = {k: {"value": cfit.values[k], "interval95": cfit.intervals[k]}
                          for k in ("kgn", "ksn", "kgd", "ksd")}
    creps = [dict(zip(cfit.values, r)) for r in cfit.bootstrap]
    out["g_star_by_N"] = {}
    for n in (3e5, 1e6, 3e6):
        o = stationary_point(cross, cfit.values, "G", ranges=ranges, at={"N": n, "D": 2e5, "Na": 0.3 * n, "S": 0.2},
                             bootstrap=creps)
        out["g_star_by_N"][f"{n:g}"] = o.as_dict()

    # does the compute-optimal Na/N fall as N grows? (budget C = 6 Na D at the base point's compute)
    C = 6 * 3e5 * 2e5
    alloc = compute_optimal(fit.law, fit.values, cost="6*Na*D", allocate=("Na", "D"),
                            at={"N": 1e6, "G": 4, "S": 0.2}, budget=C)
    na_form = alloc.closed_forms["Na"]  # derived once, in the law's constants, C, N, G and S
    syms = sorted(na_form.free_symbols, key=lambda t: t.name)
    f = sp.lambdify(syms, na_form, "numpy")

    def na_opt(theta: dict, n: float) -> float:
        env = {**theta, "N": n, "G": 4.0, "S": 0.2, "C": C}
        return float(f(*(env[t.name] for t in syms)))

    r_star = {}
    for n in (3e5, 1e6, 3e6):
        with np.errstate(all="ignore"):
            draws = np.array([na_opt(t, n) / n for t in reps])
        ok = np.isfinite(draws)  # a replicate with alpha + beta <= rho has no finite optimum
        r_star[f"{n:g}"] = {"r_star": na_opt(fit.values, n) / n, "finite_replicates": int(ok.sum()),
                            "interval95": list(np.percentile(draws[ok], [2.5, 97.5])) if ok.sum() >= 10 else None}
    out["r_star_by_N"] = {"budget": C, "closed_form": sp.sstr(na_form), "latex": alloc.latex(), "values": r_star}
    (HERE / "results.json").write_text(json.dumps(out, indent=2, default=float))
    print(json.dumps(out, indent=2, default=float))


if __name__ == "__main__":
    main()
