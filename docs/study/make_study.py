"""Regenerate the study of docs/study.md from runs/moe_study2.parquet (about a minute on 2 cores).

Usage: python docs/study/make_study.py [--runs runs/moe_study2.parquet]
Writes docs/study/data.png, docs/study/discover/ (discover's outputs and report), docs/study/compare.tex
and docs/study/results.json; prints the numbers.

The sweep (runs/moe_study2.toml, docs/study.md) has four anchors, N in {300k, 900k} x D in
{400k, 800k} at Na/N = 0.3, each with a G family (S = 0.3), an S family (G = 4) and an Na/N family, extra
seeds at the points that decide the hooks, and a random fill.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sympy as sp  # noqa: E402

from lawfind import catalog, compare_laws, load_runs  # noqa: E402
from lawfind.discovery import Discovery  # noqa: E402
from lawfind.export import latex, latex_table  # noqa: E402
from lawfind.fit import fit_law  # noqa: E402
from lawfind.laws import Param, parse_law  # noqa: E402
from lawfind.optimize import compute_optimal, stationary_point  # noqa: E402
from lawfind.splits import Split  # noqa: E402

HERE = Path(__file__).resolve().parent
ANCHORS = [(n, d) for n in (3e5, 9e5) for d in (4e5, 8e5)]
N0, D0 = 5.2e5, 5.66e5  # the anchors' geometric middles: the cross terms are centred there
CROSS = ("E0 + A*Na**(-alpha)*(N/Na)**(-rho)*exp(g1*log(G) + g2*log(G)**2 + s1*S + s2*S**2"
         f" + kgn*log(G)*log(N/{N0:g}) + ksn*S*log(N/{N0:g}) + kgd*log(G)*log(D/{D0:g}) + ksd*S*log(D/{D0:g}))"
         " + B*D**(-beta)")


CENTRE = {"G": 4.0, "S": 0.3, "ratio": 0.3}  # the point every family at an anchor passes through


def family(frame: pd.DataFrame, name: str, n: float, d: float) -> pd.DataFrame:
    """The runs of one family (G, S or ratio) at the anchor (n, d), its centre included.

    Membership is read from the targets, not the labels: the centre run (G = 4, S = 0.3, Na/N = 0.3) and
    its extra seeds belong to all three families, whatever label the sweep gave them.
    """
    anchored = frame[(frame["label"] != "random") & np.isclose(frame["target_N"], n)
                     & np.isclose(frame["target_D"], d)]
    held = {"G": anchored["target_G"], "S": anchored["target_S"],
            "ratio": anchored["target_Na"] / anchored["target_N"]}
    keep = np.ones(len(anchored), dtype=bool)
    for other, values in held.items():
        if other != name:
            keep &= np.isclose(values, CENTRE[other])
    return anchored[keep].assign(**{f"target_{name}": held[name]} if name == "ratio" else {})


def data_plots(frame: pd.DataFrame) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    for ax, name, xl in ((axes[0], "G", "G (activated experts)"), (axes[1], "S", "S (shared ratio)"),
                         (axes[2], "ratio", "Na/N")):
        for i, (n, d) in enumerate(ANCHORS):
            sub = family(frame, name, n, d)
            x = sub["Na"] / sub["N"] if name == "ratio" else sub[name]
            ax.scatter(x, sub["loss"], s=16, c=f"C{i}", label=f"N={n:.0e}, D={d:.0e}")
        ax.set_xscale("linear" if name == "S" else "log")
        ax.set_xlabel(xl)
    axes[0].set_ylabel("validation loss (nats/byte)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(HERE / "data.png", dpi=110)
    plt.close(fig)


def seed_noise(frame: pd.DataFrame) -> dict:
    """The spread of the loss over seeds at every configuration run with more than one seed."""
    keys = ["target_N", "target_Na", "target_G", "target_S", "target_D"]
    groups = frame.groupby(keys)["loss"]
    rows = []
    for key, losses in groups:
        if len(losses) > 1:
            rows.append({"N": key[0], "G": key[2], "S": key[3], "D": key[4], "n": int(len(losses)),
                         "mean": float(losses.mean()), "std": float(losses.std(ddof=1))})
    logs = frame.assign(logl=np.log(frame["loss"])).groupby(keys)["logl"]
    dev = (frame.assign(logl=np.log(frame["loss"]))["logl"] - logs.transform("mean"))
    dof = int((logs.size() - 1).clip(lower=0).sum())
    return {"points": rows, "pooled_sd_log": float(np.sqrt((dev ** 2).sum() / dof)), "dof": dof}


def hook_argmin(frame: pd.DataFrame, name: str, n: float, d: float) -> dict:
    """The model-free view: a family's mean loss over seeds per value at one anchor, and its argmin."""
    sub = family(frame, name, n, d)
    stats = sub.groupby(f"target_{name}")["loss"].agg(["mean", "count"])
    return {"means": {f"{k:g}": float(v) for k, v in stats["mean"].items()},
            "seeds": {f"{k:g}": int(v) for k, v in stats["count"].items()},
            "argmin": float(stats["mean"].idxmin())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default="runs/moe_study2.parquet")
    args = ap.parse_args()
    frame = pd.read_parquet(args.runs)
    data_plots(frame)
    table = load_runs(args.runs)
    out: dict = {"n_runs": len(table), "seed_noise": seed_noise(frame)}
    out["model_free"] = {f"N={n:g},D={d:g}": {fam: hook_argmin(frame, fam, n, d) for fam in ("G", "S", "ratio")}
                         for n, d in ANCHORS}

    disc = Discovery(seed=0, bootstrap=200).fit(table)
    disc.save(HERE / "discover")
    out["discovered"] = {"expression": sp.sstr(sp.N(disc.sympy(), 4)), "latex": disc.latex(),
                         "n_params": disc.best_.n_params, "test": disc.best_metrics_.as_dict(),
                         "splits": disc.splits_.description, "summary": disc.summary(),
                         "admissible": disc.best_verdict_.ok, "limit": disc.best_verdict_.limit,
                         "extrapolation_rmse_log": float(disc.equations_["loss"][disc.best_index_])}

    # the catalogue's laws on the same split (with E, the routed experts, for the laws that read it)
    with_e = load_runs(args.runs, features="D,N,Na,G,S,E")
    split = Split(~disc.splits_.test, disc.splits_.test, disc.splits_.description.split(";")[0], "N")
    laws = [catalog.get(n) for n in ("chinchilla2022", "kaplan2020", "krajewski2024", "ludziejewski2025",
                                     "abnar2025", "tian2025", "lawfind_moe5")]
    laws.append(disc.best_.law)
    comp = compare_laws(laws, with_e, split, n_starts=64, rank_by="rmse_log")
    out["comparison"] = comp.table()
    (HERE / "compare.tex").write_text(latex_table(comp) + "\n")

    # optima from the five-factor law (hooks in G and S by construction) with bootstrap intervals
    fit = fit_law(catalog.get("lawfind_moe5"), table, n_starts=128, bootstrap=200, seed=0)
    reps = [dict(zip(fit.values, r)) for r in fit.bootstrap]
    ranges = table.ranges()
    opt = {v: stationary_point(fit.law, fit.values, v, ranges=ranges, bootstrap=reps) for v in ("G", "S")}
    out["moe5"] = {"values": fit.values, "intervals": fit.intervals, "latex": latex(fit.substituted()),
                   "optima": {v: o.as_dict() for v, o in opt.items()}, "warnings": list(fit.warnings)}
    dvals, dlaw = disc.best_.values, disc.best_.law
    out["discovered_optima"] = {}
    for v in ("G", "S"):
        if v in dlaw.variables:
            o = stationary_point(dlaw, dvals, v, ranges=ranges,
                                 bootstrap=[dict(zip(dvals, r)) for r in disc.best_.bootstrap])
            out["discovered_optima"][v] = o.as_dict()

    # are G* and S* independent of N and D? the five-factor law with the cross terms the claim says are 0
    cross = parse_law(CROSS, table.features, name="moe5_cross")
    cross = cross.with_params([*catalog.get("lawfind_moe5").params,
                               *(Param(k, (-0.05, 0.05)) for k in ("kgn", "ksn", "kgd", "ksd"))])
    cfit = fit_law(cross, table, n_starts=128, bootstrap=200, seed=0,
                   initial=[{**fit.values, "kgn": 0.0, "ksn": 0.0, "kgd": 0.0, "ksd": 0.0}])
    out["cross_terms"] = {k: {"value": cfit.values[k], "interval95": cfit.intervals[k]}
                          for k in ("kgn", "ksn", "kgd", "ksd")}
    creps = [dict(zip(cfit.values, r)) for r in cfit.bootstrap]
    out["optima_by_anchor"] = {}
    for n, d in ANCHORS:
        at = {"N": n, "D": d, "Na": 0.3 * n}
        g = stationary_point(cross, cfit.values, "G", ranges=ranges, at={**at, "S": 0.3}, bootstrap=creps)
        s = stationary_point(cross, cfit.values, "S", ranges=ranges, at={**at, "G": 4.0}, bootstrap=creps)
        out["optima_by_anchor"][f"N={n:g},D={d:g}"] = {"G": g.as_dict(), "S": s.as_dict()}

    # does the compute-optimal Na/N fall as N grows? budget C = 6 Na D at the anchors' middle compute
    C = 6 * 0.3 * N0 * D0
    alloc = compute_optimal(fit.law, fit.values, cost="6*Na*D", allocate=("Na", "D"),
                            at={"N": N0, "G": 4, "S": 0.3}, budget=C)
    na_form = alloc.closed_forms["Na"]
    syms = sorted(na_form.free_symbols, key=lambda t: t.name)
    f = sp.lambdify(syms, na_form, "numpy")

    def na_opt(theta: dict, n: float) -> float:
        env = {**theta, "N": n, "G": 4.0, "S": 0.3, "C": C}
        return float(f(*(env[t.name] for t in syms)))

    r_star = {}
    for n in (3e5, 9e5, 3e6):
        with np.errstate(all="ignore"):
            draws = np.array([na_opt(t, n) / n for t in reps])
        ok = np.isfinite(draws) & (draws > 0)
        r_star[f"{n:g}"] = {"r_star": na_opt(fit.values, n) / n, "finite_replicates": int(ok.sum()),
                            "interval95": list(np.percentile(draws[ok], [2.5, 97.5])) if ok.sum() >= 10 else None}
    # an interior allocation needs alpha > rho (otherwise a sparser model is always better at fixed N)
    interior = sum(t["alpha"] > t["rho"] for t in reps)
    out["r_star_by_N"] = {"budget": C, "closed_form": sp.sstr(na_form), "latex": alloc.latex(), "values": r_star,
                          "replicates_alpha_above_rho": f"{interior} of {len(reps)}"}
    (HERE / "results.json").write_text(json.dumps(out, indent=2, default=float))
    print(json.dumps(out, indent=2, default=float))


if __name__ == "__main__":
    main()
