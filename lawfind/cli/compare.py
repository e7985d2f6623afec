"""``lawfind compare``: rank laws on held-out runs."""

from __future__ import annotations

import argparse

from .. import catalog
from ..admissible import Roles
from ..compare import RANK_BY, compare_laws
from ..errors import OptionError
from ..export import latex_table
from ..laws import identifiers
from ..selection import Axes
from ..splits import Split, default_split, holdout_split, kfold_splits
from .common import (HOLDOUT, add_command, add_data_args, add_fit_args, add_formula_args, add_role_args, at_least,
                     choice, console, declared_roles, err_console, fmt, load, names, output_file, print_table,
                     resolve_law, wrote)

EXAMPLE = "example:\n  lawfind compare runs/moe_study.parquet --laws all --holdout \"N>=2e6\" --latex compare.tex"


def _default_split(table, roles: Roles, seed: int) -> Split:
    """discover's default test split at 20 %: the largest sizes (or, with three to five sizes, the
    largest data at each size), never a shape column such as G or an expert count; where discover
    would keep every size for selection, the largest size is the test (a comparison has no selection)."""
    axes = Axes.of(roles)
    split = default_split(table, axes.size, axes.data, 0.2, seed=seed)
    return split if split.test.any() else holdout_split(table, f"top:{axes.size}:0.2")


def register(sub) -> None:
    p = add_command(sub, "compare", "rank laws on held-out runs", EXAMPLE)
    add_data_args(p)
    p.add_argument("--laws", default="all", help="'all', or catalogue names / formulas separated by ';' or ','")
    add_formula_args(p)
    p.add_argument("--holdout", type=HOLDOUT,
                   help="test split: COLUMN OP VALUE ('N>=1e9') or top:COLUMN:FRACTION (default: as discover chooses, at 20%%: the "
                        "largest N, or the first size column where the table has no N; with 3 to 5 sizes the largest D at "
                        "each size; never G, S or an expert count)")
    p.add_argument("--decreasing", type=names, default=(),
                   help="columns that grow with the model size, beside N and Na, e.g. dense_parameter_count: "
                        "the default holdout splits on the first of them where the table has no N")
    add_role_args(p)
    p.add_argument("--per-group", type=names, default=None,
                   help="with --group: the constants fitted per group level, e.g. E0,A (default: chosen by BIC per "
                        "law among none, the limit, the limit and coefficients, every constant)")
    p.add_argument("--kfold", type=at_least(2), help="rank on a random k-fold split instead")
    p.add_argument("--rank-by", type=choice("metric", RANK_BY), default="r2", help="r2 (default), nmse, nmae, rmse_log, aic or bic")
    p.add_argument("--latex", help="write the ranked table as a booktabs LaTeX table")
    add_fit_args(p)
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    tex = output_file(args.latex, "--latex")
    names = catalog.names() if args.laws == "all" else [s.strip() for s in args.laws.split(";" if ";" in args.laws else ",")]
    names = [n for n in names if n]
    unused = set(args.params) - set().union(*(identifiers(n) for n in names))
    if unused:
        raise OptionError(f"--params names {sorted(unused)}, which no formula of --laws uses")
    table = load(args)
    roles = Roles.of(table, args.decreasing, declared_roles(args))  # a misnamed column is refused before any fit
    laws = [resolve_law(n, table, params=tuple(p for p in args.params if p in identifiers(n))) for n in names]
    if args.kfold:
        split = kfold_splits(table, args.kfold, args.seed)[0]
        console.print("[yellow]note:[/] k-fold ranks on the first fold; use --holdout for extrapolation")
    else:
        split = holdout_split(table, args.holdout) if args.holdout else _default_split(table, roles, args.seed)
    with err_console.status("fitting") as status:
        comp = compare_laws(laws, table, split, rank_by=args.rank_by, loss=args.loss, delta=args.delta,
                            n_starts=args.starts, seed=args.seed, per_group=args.per_group,
                            progress=lambda name: status.update(f"fitting {name}"))
    rows = [[str(i), r.law.name, r.law.certainty, str(r.metrics.n_params), fmt(r.metrics.r2), fmt(r.metrics.nmse),
             fmt(r.metrics.nmae), fmt(r.metrics.rmse), f"{r.metrics.aic:.1f}", f"{r.metrics.bic:.1f}"]
            for i, r in enumerate(comp.rows, 1)]
    print_table(f"train {int(split.train.sum())} runs, test {int(split.test.sum())} runs ({split.description})",
                rows, ["rank", "law", "certainty", "k", "R2", "NMSE", "NMAE",
                       "RMSE log" if table.scale == "log" else "RMSE", "AIC", "BIC"])
    for r in comp.rows:
        if r.fit.per_group:
            console.print(f"{r.law.name}: per {table.group} ({', '.join(r.fit.groups)}): {', '.join(r.fit.per_group)}")
    for name, why in comp.skipped:
        console.print(f"[yellow]skipped[/] {name}: {why}")
    if tex:
        tex.write_text(latex_table(comp) + "\n")
        wrote(tex)
    return 0
