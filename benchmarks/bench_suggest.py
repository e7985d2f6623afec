"""Do the runs that ``suggest`` chooses pin the planted optimum down faster than random runs?

For each of ``--seeds`` planted five-factor tables (``lawfind.planted`` ``moe5``: G* = e^2 = 7.39,
S* = 0.32; 450 runs, 0.75 % noise), 20 % of the runs are known at the start and the other 80 % are
the pool of runs one could train (their losses are revealed when chosen). Each round, ``suggest``
chooses up to ``--per-round`` runs of the pool for the target (default ``G*``) under a budget of
``--per-round`` times the pool's median cost (6 Na D), and, in the same run, random choice goes through
the pool in a random order and takes each run that fits in what ``suggest`` has spent beyond it, so
that both have spent the same (random at most as much) after every round. After each round ``lawfind_moe5`` is
refitted with bootstrap replicates. Reported against the runs and the cost added: the width of the
95 % interval of the planted optimum G*, and the width of the interval and the error of the predicted
loss at a 4x larger N. ``--target loss`` makes the loss there what ``suggest`` narrows.

Target: ``suggest`` reaches random's final interval width with at most half of random's added cost.

Usage: python benchmarks/bench_suggest.py [--seeds 10] [--rounds 5] [--per-round 8] [--target G*|loss]
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
from lawfind.suggest import parse_target, suggest, target_replicates

FEATURES = ["D", "N", "Na", "G", "S"]


def _measure(frame: pd.DataFrame, point: dict, truth: float, args, seed: int) -> tuple[Predictor, dict]:
    """Refit; the width of the 95 % interval of G* (in G) and of the loss at the far point (in log
    loss), and the error of the predicted loss there."""
    table = load_runs(frame[FEATURES + ["loss"]])
    fit = fit_law(catalog.get("lawfind_moe5"), table, n_starts=args.starts, bootstrap=args.bootstrap, seed=seed)
    pred = Predictor.from_fit(fit, table.ranges())
    _, reps, _ = target_replicates(pred, parse_target("G*", FEATURES))
    lo, hi = np.exp(np.percentile(reps, [2.5, 97.5]))
    out = predict(pred, pd.DataFrame([point])).iloc[0]
    return pred, {"G*": float(hi - lo), "loss": float(np.log(out.ci_high / out.ci_low)),
                  "error": abs(np.log(out.loss / truth)), "failed": fit.boot_failed}


def run_seed(seed: int, args) -> list[dict]:
    planted = planted_law("moe5")
    frame = sample(planted, n=450, noise=0.0075, seed=seed).drop(columns="seed")
    frame["cost"] = 6 * frame.Na * frame.D
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    start = frame.iloc[order[: len(frame) // 5]]
    pool0 = frame.iloc[order[len(frame) // 5:]]
    budget = args.per_round * float(pool0.cost.median())
    n_far = 4 * float(frame.N.max())
    point = {"N": n_far, "Na": 0.15 * n_far, "G": 8.0, "S": 0.3, "D": 1e11}
    law = planted.law()
    truth = float(law.compiled([planted.values[p] for p in law.param_names],
                               [np.array([point[v]]) for v in law.variables])[0])
    target = parse_target("G*" if args.target == "G*" else "loss@" + ",".join(f"{k}={v!r}" for k, v in point.items()),
                          FEATURES)
    pred0, m0 = _measure(start, point, truth, args, seed)
    rows = [{"seed": seed, "strategy": s, "round": 0, "runs": 0, "cost": 0.0, **m0} for s in ("suggest", "random")]
    known = {"suggest": start, "random": start}
    pool = {"suggest": pool0, "random": pool0.sample(frac=1.0, random_state=seed)}
    spent = {"suggest": 0.0, "random": 0.0}
    pred = {"suggest": pred0}
    for r in range(1, args.rounds + 1):
        res = suggest(pred["suggest"], target, pool["suggest"][FEATURES], n=args.per_round, budget=budget)
        chosen = pool["suggest"].loc[res.picks.candidate]
        known["suggest"] = pd.concat([known["suggest"], chosen])
        pool["suggest"] = pool["suggest"].drop(index=chosen.index)
        spent["suggest"] += float(chosen.cost.sum())
        # random: pool runs in a random order, each taken if it fits in what suggest has spent more
        allowance, take = spent["suggest"] - spent["random"], []
        for i, c in zip(pool["random"].index, pool["random"].cost):
            if c <= allowance:
                take.append(i)
                allowance -= c
        chosen = pool["random"].loc[take]
        known["random"] = pd.concat([known["random"], chosen])
        pool["random"] = pool["random"].drop(index=take)
        spent["random"] += float(chosen.cost.sum())
        for s in ("suggest", "random"):
            pred[s], m = _measure(known[s], point, truth, args, seed)
            rows.append({"seed": seed, "strategy": s, "round": r, "runs": len(known[s]) - len(start),
                         "cost": spent[s], **m})
    return rows


def _cost_to_reach(curve: pd.DataFrame, width: float) -> float:
    """The added cost at which a strategy's width first falls to ``width`` (linear between rounds)."""
    c, w = curve.cost.to_numpy(), curve.width.to_numpy()
    for i in range(len(w)):
        if w[i] <= width:
            if i == 0:
                return 0.0
            f = (w[i - 1] - width) / (w[i - 1] - w[i])
            return float(c[i - 1] + f * (c[i] - c[i - 1]))
    return float("inf")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--per-round", type=int, default=8)
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--starts", type=int, default=64)
    ap.add_argument("--target", default="G*", choices=["G*", "loss"],
                    help="what suggest narrows: G* (default) or the loss at the 4x larger N")
    args = ap.parse_args()

    t0 = time.perf_counter()
    rows = []
    for seed in range(args.seeds):
        rows += run_seed(seed, args)
        print(f"  seed {seed + 1}/{args.seeds} done, {time.perf_counter() - t0:.0f} s", flush=True)
    res = pd.DataFrame(rows)
    res["width"] = res["G*" if args.target == "G*" else "loss"]
    med = res.groupby(["strategy", "round"]).median(numeric_only=True).reset_index()
    print(f"\nsuggest narrows {'G*' if args.target == 'G*' else 'the loss at 4x the largest N'}; {args.seeds} planted "
          f"moe5 tables; start from 90 of 450 runs; up to {args.per_round} runs per round; medians over seeds; cost = "
          "6 Na D FLOPs added; G*: width of its 95% interval (G); loss: width of the 95% CI of the loss at 4x the "
          "largest N (log loss); err: |log error| of the loss predicted there")
    print(f"{'round':>5} | {'suggest: runs':>13}{'cost':>10}{'G*':>8}{'loss':>8}{'err':>8} | "
          f"{'random: runs':>12}{'cost':>10}{'G*':>8}{'loss':>8}{'err':>8}")
    for r in range(args.rounds + 1):
        s = med[(med.strategy == "suggest") & (med["round"] == r)].iloc[0]
        q = med[(med.strategy == "random") & (med["round"] == r)].iloc[0]
        print(f"{r:>5} | {s.runs:>13.0f}{s.cost:>10.3g}{s['G*']:>8.3f}{s.loss:>8.4f}{s.error:>8.4f} | "
              f"{q.runs:>12.0f}{q.cost:>10.3g}{q['G*']:>8.3f}{q.loss:>8.4f}{q.error:>8.4f}")
    ratios = []  # per seed where random narrowed the target at all
    for seed in range(args.seeds):
        sub = res[res.seed == seed]
        rnd = sub[sub.strategy == "random"].sort_values("round")
        sug = sub[sub.strategy == "suggest"].sort_values("round")
        if rnd.width.iloc[-1] < rnd.width.iloc[0]:
            ratios.append(_cost_to_reach(sug, rnd.width.iloc[-1]) / rnd.cost.iloc[-1])
    ratios = np.array(ratios)
    curve_s = med[med.strategy == "suggest"].sort_values("round")
    curve_r = med[med.strategy == "random"].sort_values("round")
    ratio_med = _cost_to_reach(curve_s, curve_r.width.iloc[-1]) / curve_r.cost.iloc[-1]
    print(f"\ncost for suggest to reach random's final width of the target, as a share of random's added cost: "
          f"{ratio_med:.0%} on the median curves; per seed median {np.median(ratios):.0%} over the "
          f"{len(ratios)} seeds where random narrowed it at all (at or under 50 %: {int((ratios <= 0.5).sum())}; "
          f"never reached: {int(np.isinf(ratios).sum())})")
    if curve_r.width.iloc[-1] >= curve_r.width.iloc[0]:
        print("random's median width did not fall below the start's: the comparison says nothing")
    informative = curve_r.width.iloc[-1] < curve_r.width.iloc[0]
    verdict = "not measurable" if not informative else "met" if ratio_med <= 0.5 else "not met"
    print(f"target (at most 50 %): {verdict}; bootstrap failures "
          f"{res.failed.mean():.2%}; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
