"""``lawfind suggest``: the next runs that most shrink the interval of an optimum or a prediction per unit cost."""

from __future__ import annotations

import argparse
import math
import tomllib
from pathlib import Path

from ..data import read_table
from ..design import exclude_done
from ..errors import DataError, OptionError
from ..laws import parse_ranges
from ..predict import Predictor, parse_point, split_group
from ..suggest import candidates_from_ranges, parse_target, suggest, sweep_spec
from .common import add_command, at_least, console, option, output_folder, positive, print_table

EXAMPLE = ("example:\n  lawfind suggest out/discover/best.json --target \"G*\" --budget 1e19 --n 8\n"
           "  lawfind suggest fit.json --target \"loss@N=7e9,D=2e12\" --ranges N=1e8:2e10 --out out/next\n"
           "  lawfind suggest out/discover/best.json --target \"S*\" --template runs/moe_study2.toml --out out/next\n"
           "  lawfind suggest fit.json --target \"loss@grid:large.csv\" --grid pool.csv --budget 1e20 "
           "--exclude-done runs.csv")


def register(sub) -> None:
    p = add_command(sub, "suggest", "the next runs that most shrink an interval per unit cost", EXAMPLE)
    p.add_argument("fit", help="a best.json (from discover) or a fit JSON with bootstrap replicates")
    p.add_argument("--target", required=True, help="'G*', 'S*' (an optimum), 'loss@N=7e9,D=2e12' (a prediction) or "
                   "'loss@grid:FILE' (the predictions at a file's configurations, weighed by its 'weight' column)")
    p.add_argument("--n", type=at_least(1), default=8, help="runs to choose (default: 8)")
    p.add_argument("--budget", type=positive(), help="total cost of the chosen runs (default: no limit)")
    p.add_argument("--cost", help="cost of a run, a formula in the variables (default: 6*Na*D FLOPs, or 6*N*D)")
    p.add_argument("--grid", help="candidate configurations (CSV or parquet); default: a Latin hypercube of the "
                                  "data's ranges")
    p.add_argument("--candidates", type=at_least(1), default=2000, help="candidates drawn from the ranges (default: 2000)")
    p.add_argument("--ranges", type=option(parse_ranges, keep_text=True), help="candidate ranges that replace the data's, e.g. N=1e8:4e10,D=1e10:1e12")
    p.add_argument("--at", help="values of other variables for an optimum target (default: the data's middle); for a "
                   "law with constants per group, the level, e.g. dataset=pile")
    p.add_argument("--exclude-done", metavar="FILE", help="runs already trained (CSV or parquet): candidates equal to "
                   "one in the law's variables are not proposed again")
    p.add_argument("--cost-power", type=option(_power),
                   help="for a loss@grid: target only, rank by gain / (cost / total) ** POWER (default: 0.4)")
    p.add_argument("--noise", type=positive(), help="noise sd of log loss of a new run (default: the file's estimate)")
    p.add_argument("--template", help="a moe sweep spec whose [base] training settings the written specs copy")
    p.add_argument("--seed", type=at_least(0), default=0, help="seed of the candidates (default: 0)")
    p.add_argument("--out", help="folder for suggest.csv and suggest.toml, the moe sweep spec of the chosen runs")
    p.set_defaults(func=cmd_suggest)


def _power(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise OptionError(f"--cost-power must be a number in [0, 2], got '{text}'") from None
    if not 0 <= v <= 2:
        raise OptionError(f"--cost-power must be in [0, 2], got {v}")
    return v


def _fmt(v: float, unit: str) -> str:
    return f"{math.exp(v):.4g}" if unit == "log" else f"{v:.4g}"


def cmd_suggest(args: argparse.Namespace) -> int:
    out = output_folder(args.out)
    pred = Predictor.from_json(args.fit)
    group, level = pred.group, None
    if pred.group is not None:  # one level's law: suggest plans runs for one group level at a time
        args.at, level = split_group(args.at or "", pred.group)
        head, at_sign, point = args.target.partition("@")
        point, named = split_group(point, pred.group)
        args.target, level = head + at_sign + point, level or named
        if level is None:
            raise OptionError(f"this law has constants per '{pred.group}' ({', '.join(pred.levels)}): suggest plans "
                              f"runs for one level at a time; give it with --at {pred.group}=LEVEL")
        pred = pred.for_level(level)
        args.at = args.at or None
    target = parse_target(args.target, pred.variables, list(pred.ranges))
    if args.grid:
        cands = read_table(args.grid)
    else:
        ranges = dict(pred.ranges)
        ranges.update(parse_ranges(args.ranges))
        if not ranges:
            raise OptionError("the file has no data ranges: give --ranges NAME=LOW:HIGH for every variable, or --grid")
        cands = candidates_from_ranges(ranges, args.candidates, args.seed)
    if args.exclude_done:
        missing = [v for v in pred.variables if v not in cands.columns]
        if missing:
            raise OptionError(f"the candidates lack the law's variables {missing}")
        done = read_table(args.exclude_done)
        if level is not None and group in done.columns:  # runs of other levels are not this level's
            done = done[done[group].astype(str) == str(level)]
        left = exclude_done(cands, done, pred.variables)
        if not len(left):
            raise OptionError(f"every candidate is among the runs done in '{args.exclude_done}': give more candidates")
        cands = left
    at = parse_point(args.at, sorted(set(pred.variables) | set(pred.ranges))) if args.at else None
    base, corpus = {}, ""
    if args.template:
        try:
            spec = tomllib.loads(Path(args.template).read_text())
        except FileNotFoundError:
            raise DataError(f"no such sweep spec: '{args.template}'") from None
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"'{args.template}' is not valid TOML: {exc}") from None
        base, corpus = dict(spec.get("base", {})), str(spec.get("corpus", ""))
    res = suggest(pred, target, cands, n=args.n, budget=args.budget, cost=args.cost, noise_sd=args.noise, at=at,
                  cost_power=args.cost_power)
    show = [v for v in ("N", "Na", "G", "S", "D") if v in res.picks.columns] or list(pred.variables)
    rows = [[str(i), *(f"{r[v]:.3g}" for v in show), f"{r.cost:.3g}", f"{r.shrink:.1%}", _sd(r.sd_after, res.unit)]
            for i, (_, r) in enumerate(res.picks.iterrows(), 1)]
    lo, hi = res.interval_now
    if target.kind == "region":
        console.print(f"target {target.describe()}: predicted loss {math.exp(res.value):.4g} (weighted geometric mean), "
                      f"sd of log loss {res.sd_now:.3g} (rms over the region) across {res.n_replicates} replicates",
                      markup=False)
    else:
        where = ", ".join(f"{k}={v:.3g}" for k, v in res.point.items() if target.kind == "loss" or k != target.variable)
        console.print(f"target {target.describe()} = {_fmt(res.value, res.unit)}, 95% interval now "
                      f"[{_fmt(lo, res.unit)}, {_fmt(hi, res.unit)}] over {res.n_replicates} replicates "
                      f"(at {where}; variables not given take the data's middle)", markup=False)
    print_table(f"next runs: {len(res.picks)} of {res.n_candidates} candidates, cost {res.cost}",
                    rows, ["#", *show, "cost", "width cut", "sd after"])
    what = "the region's rms sd of log loss" if target.kind == "region" else "the interval's width"
    console.print(f"expected: {what} falls to {res.width_ratio():.0%} of today's for a total cost of "
                  f"{res.total_cost:.3g} (linearised replicate covariance; new runs with log-loss noise sd "
                  f"{res.noise_sd:.3g})", markup=False)
    for note in res.notes:
        console.print(f"note: {note}", markup=False)
    if out:
        res.picks.to_csv(out / "suggest.csv", index=False)
        written = [out / "suggest.csv"]
        if all(v in res.picks.columns for v in ("N", "Na", "G", "S", "D")):
            (out / "suggest.toml").write_text(sweep_spec(res.picks, base, corpus))
            written.append(out / "suggest.toml")
            console.print(f"train them: moe sweep {out / 'suggest.toml'} -o runs/next.parquet", markup=False)
        else:
            console.print("note: no moe sweep spec: it needs N, Na, G, S and D", markup=False)
        console.print(f"wrote {', '.join(p.name for p in written)} to {out}/", markup=False)
    return 0


def _sd(sd: float, unit: str) -> str:
    return f"{sd:.3g} (log)" if unit == "log" else f"{sd:.3g}"
