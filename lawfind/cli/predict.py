"""``lawfind predict``: predicted loss with confidence and prediction intervals, over a fitted law."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..data import read_table
from ..errors import OptionError
from ..predict import METHODS, Predictor, average_laws, parse_point, predict, split_group
from .common import add_command, at_least, choice, console, fraction, output_file, print_table, wrote

EXAMPLE = ("example:\n  lawfind predict out/discover/best.json --at \"N=7e9,Na=1.4e9,G=8,S=0.25,D=2e12\"\n"
           "  lawfind predict fit.json --grid configs.csv --out predictions.csv\n"
           "  lawfind predict out/discover/best.json --at N=8e6,Na=2e6,G=4,S=0.2,D=1e6 --average 3\n"
           "  lawfind predict out/grouped/best.json --at \"N=1e9,D=2e10,dataset=pile\"  (a law with constants per group)")


def register(sub) -> None:
    p = add_command(sub, "predict", "predicted loss with confidence and prediction intervals", EXAMPLE)
    p.add_argument("fit", help="a best.json (from discover) or a fit JSON (from fit --out --bootstrap N)")
    p.add_argument("--at", action="append", default=[], help="a configuration, e.g. \"N=7e9,Na=1.4e9,G=8,S=0.25,D=2e12\" "
                   "(repeatable); for a law with constants per group add the level, e.g. dataset=pile")
    p.add_argument("--grid", help="a CSV (or parquet) of configurations, one column per variable (and the group's column "
                   "for a law with constants per group)")
    p.add_argument("--interval", type=fraction, default=0.95, help="coverage of the intervals (default: 0.95)")
    p.add_argument("--method", type=choice("interval method", METHODS), default="percentile",
                   help=f"bootstrap interval: {' or '.join(METHODS)} (default: percentile)")
    p.add_argument("--average", type=at_least(1), default=0, help="average the best K admissible laws (lowest "
                   "extrapolation error) of the equations.csv beside best.json; their spread is model uncertainty")
    p.add_argument("--out", help="write the predictions as CSV")
    p.set_defaults(func=cmd_predict)


def _points(args: argparse.Namespace, pred: Predictor) -> pd.DataFrame:
    if not args.at and not args.grid:
        raise OptionError("give the configurations: --at \"N=...,D=...\" (repeatable) or --grid FILE.csv")
    known = sorted(set(pred.variables) | set(pred.ranges) | set(pred.columns.values()))
    rows = []
    for text in args.at:
        rest, level = split_group(text, pred.group)
        row: dict[str, object] = dict(parse_point(rest, known))
        if pred.group is not None:
            if level is None:
                raise OptionError(f"this law has constants per '{pred.group}' ({', '.join(pred.levels)}): add "
                                  f"{pred.group}=LEVEL to --at, e.g. \"{text},{pred.group}={next(iter(pred.levels))}\"")
            pred.for_level(level)  # an unknown level is refused here, with a did-you-mean
            row[pred.group] = level
        rows.append(row)
    frames = [pd.DataFrame(rows)] if rows else []
    if args.grid:
        frames.append(read_table(args.grid))
    return pd.concat(frames, ignore_index=True)


def cmd_predict(args: argparse.Namespace) -> int:
    out = output_file(args.out)
    pred = Predictor.from_json(args.fit)
    points = _points(args, pred)
    laws = []
    if args.average:
        laws = average_laws(Path(args.fit).with_name("equations.csv"), args.average,
                            sorted(set(pred.variables) | set(pred.ranges)))
    table = predict(pred, points, args.interval, method=args.method, average=laws)
    pct = f"{args.interval:.0%}"
    rows = []
    for _, r in table.iterrows():
        cfg = ", ".join([*([f"{pred.group}={r[pred.group]}"] if pred.group else []),
                         *(f"{v}={r[v]:.3g}" for v in pred.variables)])
        row = [cfg, f"{r.loss:.4f}", f"[{r.ci_low:.4f}, {r.ci_high:.4f}]", f"[{r.pi_low:.4f}, {r.pi_high:.4f}]"]
        if laws:
            row += [f"{r.loss_avg:.4f}", f"[{r.model_low:.4f}, {r.model_high:.4f}]",
                    f"[{r.avg_pi_low:.4f}, {r.avg_pi_high:.4f}]"]
        rows.append(row + [r.outside or "inside"])
    header = ["configuration", "loss", f"{pct} CI", f"{pct} PI"]
    if laws:
        header += [f"mean of {len(laws)} laws", "range of laws", f"{pct} PI (averaged)"]
    print_table(f"{pred.law.name}: predicted loss", rows, header + ["beyond the data"])
    n_reps = pred.replicates.shape[0]
    if n_reps < 2:
        console.print("note: the file has no bootstrap replicates, so the confidence interval is the point; "
                      "fit with --bootstrap 200 (discover does by default)", markup=False)
    else:
        console.print(f"CI: {args.method} bootstrap over {n_reps} replicates; PI adds "
                      + (f"noise of sd {pred.noise_sd:.3g} in log loss: {pred.noise_source}"
                         if pred.noise_sd else pred.noise_source), markup=False)
    if laws:
        console.print(f"model uncertainty: the laws' standard deviation of log loss is "
                      f"{table['model_sd_log'].max():.3g} at most over these points", markup=False)
    far = table["extrapolation"] > 1
    if far.any():
        console.print(f"note: {int(far.sum())} point(s) lie outside the fitted data's range (the 'beyond' column); "
                      "intervals there assume the law holds beyond the data", markup=False)
    if out:
        table.to_csv(out, index=False)
        wrote(out)
    return 0
