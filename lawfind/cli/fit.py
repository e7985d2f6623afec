"""``lawfind fit``: fit a law's constants."""

from __future__ import annotations

import argparse

from rich.markup import escape

from ..export import latex_fit
from ..record import save_fit
from ..fit import fit_law
from ..laws import parse_ranges
from .common import (add_command, add_data_args, add_fit_args, add_formula_args, at_least, check_params, console, err_console, fmt,
                     load, option, output_file, print_table, resolve_law, wrote)

EXAMPLE = ("example:\n  lawfind fit runs/planted_moe5.parquet --law lawfind_moe5 --bootstrap 200\n"
           "  lawfind fit runs.csv --law \"E0 + A/N**alpha + B/D**beta\" --init A=1:1000 --out fit.json")


def register(sub) -> None:
    p = add_command(sub, "fit", "fit a law's constants", EXAMPLE)
    add_data_args(p)
    p.add_argument("--law", required=True, help="a catalogue name (see 'lawfind compare --laws all') or a formula")
    p.add_argument("--init", type=option(parse_ranges, keep_text=True),
                   help="initial ranges, e.g. A=1:1000,alpha=0.1:1")
    add_formula_args(p)
    p.add_argument("--per-group", help="parameters fitted per group level, e.g. E0,A (needs --group)")
    p.add_argument("--bootstrap", type=at_least(0), default=0, help="bootstrap refits for intervals (default: 0)")
    p.add_argument("--out", help="write the fit as JSON")
    add_fit_args(p)
    p.set_defaults(func=cmd_fit)


def cmd_fit(args: argparse.Namespace) -> int:
    out = output_file(args.out)
    check_params(args.law, args.params)
    table = load(args)
    law = resolve_law(args.law, table, args.init, args.params)
    per_group = [p for p in (args.per_group or "").split(",") if p]
    progress = None
    if args.bootstrap:
        status = err_console.status("bootstrap")
        status.start()
        progress = lambda done, total: status.update(f"bootstrap refit {done}/{total}")  # noqa: E731
    try:
        fit = fit_law(law, table, loss=args.loss, delta=args.delta, n_starts=args.starts,
                      per_group=per_group, bootstrap=args.bootstrap, seed=args.seed, progress=progress)
    finally:
        if progress:
            status.stop()
    rows = []
    for name, v in fit.values.items():
        ref = law.reference.get(name)
        ci = fit.intervals[name] if fit.intervals else None
        rows.append([escape(name), fmt(v), fmt(fit.stderr[name]) if fit.stderr else "-",
                     f"[{fmt(ci[0])}, {fmt(ci[1])}]" if ci else "-", fmt(ref)])
    print_table(f"{law.name} on {len(table)} runs ({fit.loss}, objective {fit.objective:.4g})", rows,
                ["parameter", "value", "stderr", "95% interval", "reference"])
    console.print(f"converged: {fit.converged}; {fit.n_at_best} of {fit.n_starts} starts reached the optimum")
    for w in fit.warnings:
        console.print(f"[yellow]note:[/] {w}")
    if not fit.per_group:
        console.print(latex_fit(fit), markup=False)
    else:
        for level in fit.groups:
            console.print(f"{fit.group}={level}: {latex_fit(fit, level=level)}", markup=False)
    if out:
        wrote(save_fit(out, fit, ranges=table.ranges(),
                       extra={"target": table.target, "columns": dict(table.columns or {})}))
    return 0
