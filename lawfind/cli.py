"""The ``lawfind`` command: a thin layer over the Python API.

Each command parses its arguments, calls the public API and writes or prints the result. Bad input
ends with a one-line ``error: ...`` message and exit status 2; no traceback reaches the user unless
``LAWFIND_DEBUG=1`` is set.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from . import catalog
from .compare import compare_laws, holdout_split, kfold_splits
from .data import RunTable, load_runs
from .errors import LawfindError, OptionError
from .export import latex, latex_fit, latex_table, load_fit, save_fit
from .fit import LOSSES, fit_law
from .laws import Law, parse_law, parse_ranges

console = Console(highlight=False)
if not console.is_terminal:  # pipes and files get full tables rather than 80 columns
    console = Console(highlight=False, width=140)
err_console = Console(stderr=True, highlight=False)


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage in one line with exit status 2."""

    def error(self, message: str) -> None:  # noqa: D102
        raise OptionError(f"{message} (see '{self.prog} --help')")


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="run table (.parquet, .csv, .csv.gz or .tsv)")
    p.add_argument("--target", default="loss", help="column to predict (default: loss)")
    p.add_argument("--features", help="comma-separated columns; NAME=column maps a column to a variable "
                                      "(default: the columns of D,N,Na,G,S present)")
    p.add_argument("--group", help="column that splits runs into groups, e.g. router_type")
    p.add_argument("--where", help="pandas query selecting runs, e.g. \"step == 249000 and k == 1\"")
    p.add_argument("--repeats", default="error", help="repeated configurations without a seed column: "
                                                       "error (default), keep or mean")


def _add_fit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--loss", default="huber", help=f"objective: {' or '.join(LOSSES)} (default: huber, delta 1e-3 on log loss)")
    p.add_argument("--delta", type=float, default=1e-3, help="Huber threshold on log residuals")
    p.add_argument("--starts", type=int, default=256, help="number of L-BFGS starts (default: 256)")
    p.add_argument("--seed", type=int, default=0, help="seed of starts and bootstrap (default: 0)")


def _load(args: argparse.Namespace) -> RunTable:
    return load_runs(args.file, target=args.target, features=args.features, group=args.group,
                     where=args.where, repeats=args.repeats)


def resolve_law(spec: str, table: RunTable | None = None, init: str | None = None) -> Law:
    """A catalogue law by name, or a law parsed from a formula over the table's features."""
    if spec.replace("_", "").isalnum() and spec.lower() in {n.lower() for n in catalog.names()}:
        return catalog.get(spec)
    if spec.replace("_", "").isalnum() and not any(ch in spec for ch in "+-*/^()"):
        catalog.get(spec)  # a bare word that is no catalogue law: raise with a did-you-mean
    return parse_law(spec, table.features if table is not None else None, init=parse_ranges(init))


def _print_kv_table(title: str, rows: list[list[str]], header: list[str]) -> None:
    t = Table(title=title, header_style="bold")
    for h in header:
        t.add_column(h, justify="right" if h not in ("law", "parameter", "certainty", "reason") else "left")
    for r in rows:
        t.add_row(*r)
    console.print(t)


def _g(x: float | None, d: int = 4) -> str:
    return "-" if x is None else f"{x:.{d}g}"


def cmd_fit(args: argparse.Namespace) -> int:
    table = _load(args)
    law = resolve_law(args.law, table, args.init)
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
        rows.append([name, _g(v), _g(fit.stderr[name]) if fit.stderr else "-",
                     f"[{_g(ci[0])}, {_g(ci[1])}]" if ci else "-", _g(ref)])
    _print_kv_table(f"{law.name} on {len(table)} runs ({fit.loss}, objective {fit.objective:.4g})", rows,
                    ["parameter", "value", "stderr", "95% interval", "reference"])
    console.print(f"converged: {fit.converged}; {fit.n_at_best} of {fit.n_starts} starts reached the optimum")
    for w in fit.warnings:
        console.print(f"[yellow]note:[/] {w}")
    if not fit.per_group:
        console.print(latex_fit(fit))
    if args.out:
        path = save_fit(args.out, fit, ranges=table.ranges())
        console.print(f"wrote {path}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    table = _load(args)
    names = catalog.names() if args.laws == "all" else [s.strip() for s in args.laws.split(";" if ";" in args.laws else ",")]
    laws = [resolve_law(n, table) for n in names if n]
    if args.kfold:
        split = kfold_splits(table, args.kfold, args.seed)[0]
        console.print("[yellow]note:[/] k-fold ranks on the first fold; use --holdout for extrapolation")
    else:
        split = holdout_split(table, args.holdout)
    with err_console.status("fitting") as status:
        comp = compare_laws(laws, table, split, rank_by=args.rank_by, loss=args.loss, delta=args.delta,
                            n_starts=args.starts, seed=args.seed,
                            progress=lambda name: status.update(f"fitting {name}"))
    rows = [[str(i), r.law.name, r.law.certainty, str(r.metrics.n_params), _g(r.metrics.r2), _g(r.metrics.nmse),
             _g(r.metrics.nmae), _g(r.metrics.rmse_log), f"{r.metrics.aic:.1f}", f"{r.metrics.bic:.1f}"]
            for i, r in enumerate(comp.rows, 1)]
    _print_kv_table(f"train {int(split.train.sum())} runs, test {int(split.test.sum())} runs ({split.description})",
                    rows, ["rank", "law", "certainty", "k", "R2", "NMSE", "NMAE", "RMSE log", "AIC", "BIC"])
    for name, why in comp.skipped:
        console.print(f"[yellow]skipped[/] {name}: {why}")
    if args.latex:
        Path(args.latex).parent.mkdir(parents=True, exist_ok=True)
        Path(args.latex).write_text(latex_table(comp) + "\n")
        console.print(f"wrote {args.latex}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    law, values, record = load_fit(args.fit)
    text = latex(law.substitute(values), args.precision)
    lines = [r"\begin{equation}", text, r"\end{equation}"]
    for item in record.get("optima") or []:
        if item.get("latex"):
            lines += [r"\begin{equation}", item["latex"], r"\end{equation}"]
        else:
            lines.append(f"% {item['description']}")
    for line in (record.get("allocation") or {}).get("latex", []):
        lines += [r"\begin{equation}", line, r"\end{equation}"]
    out = "\n".join(lines)
    if args.out:
        Path(args.out).write_text(out + "\n")
        console.print(f"wrote {args.out}")
    else:
        console.print(out, markup=False)
    return 0


EXAMPLES = {
    "discover": "example:\n  lawfind discover runs/moe_study.parquet --out out/discover",
    "optimize": "example:\n  lawfind optimize out/discover/best.json --wrt G S --effects",
    "fit": "example:\n  lawfind fit runs/planted_moe5.parquet --law lawfind_moe5 --bootstrap 200\n"
           "  lawfind fit runs.csv --law \"E0 + A/N**alpha + B/D**beta\" --init A=1:1000 --out fit.json",
    "compare": "example:\n  lawfind compare runs/moe_study.parquet --laws all --holdout \"N>=2e6\" --latex compare.tex",
    "export": "example:\n  lawfind export out/best.json --precision 3 --out best.tex",
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lawfind", description="Discover, fit, compare and differentiate MoE scaling laws.",
                     formatter_class=argparse.RawDescriptionHelpFormatter,
                     epilog="\n\n".join(EXAMPLES.values()))
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("fit", help="fit a law's constants", epilog=EXAMPLES["fit"],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_data_args(p)
    p.add_argument("--law", required=True, help="a catalogue name (see 'lawfind compare --laws all') or a formula")
    p.add_argument("--init", help="initial ranges, e.g. A=1:1000,alpha=0.1:1")
    p.add_argument("--per-group", help="parameters fitted per group level, e.g. E0,A (needs --group)")
    p.add_argument("--bootstrap", type=int, default=0, help="bootstrap refits for intervals (default: 0)")
    p.add_argument("--out", help="write the fit as JSON")
    _add_fit_args(p)
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("compare", help="rank laws on held-out runs", epilog=EXAMPLES["compare"],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_data_args(p)
    p.add_argument("--laws", default="all", help="'all', or catalogue names / formulas separated by ';' or ','")
    p.add_argument("--holdout", default="top:N:0.2", help="test split: COLUMN OP VALUE ('N>=1e9') or "
                                                          "top:COLUMN:FRACTION (default: top:N:0.2)")
    p.add_argument("--kfold", type=int, help="rank on a random k-fold split instead")
    p.add_argument("--rank-by", default="r2", help="r2 (default), nmse, nmae, rmse_log, aic or bic")
    p.add_argument("--latex", help="write the ranked table as a booktabs LaTeX table")
    _add_fit_args(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("export", help="LaTeX of a fitted law (and its optima)", epilog=EXAMPLES["export"],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fit", help="a JSON file written by 'fit --out' or 'discover' (best.json)")
    p.add_argument("--precision", type=int, default=3, help="significant digits (default: 3)")
    p.add_argument("--out", help="write the LaTeX to a file")
    p.set_defaults(func=cmd_export)

    from . import cli_discover  # noqa: PLC0415
    cli_discover.register(sub, _add_data_args, _add_fit_args)
    from . import cli_optimize  # noqa: PLC0415
    cli_optimize.register(sub)
    from . import cli_predict, cli_suggest  # noqa: PLC0415
    for module in (cli_predict, cli_suggest):
        module.register(sub)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lawfind`` command; returns the exit status."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        return args.func(args)
    except LawfindError as exc:
        err_console.print(f"error: {exc}", markup=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except Exception as exc:  # the last guard: a bug must still not show a traceback to users
        if os.environ.get("LAWFIND_DEBUG"):
            raise
        err_console.print(f"internal error: {type(exc).__name__}: {exc} (set LAWFIND_DEBUG=1 for the traceback "
                          "and please report it)", markup=False, soft_wrap=True)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
