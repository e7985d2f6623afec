"""``lawfind discover``: the command over :class:`lawfind.discover.Discovery`."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import sympy as sp
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ..discovery import MODEL_SELECTION, Discovery
from ..export import fit_to_dict, write_json
from ..search import ENGINES
from .common import HOLDOUT, add_data_args, at_least, console, err_console, load, output_folder, positive

EXAMPLE = ("example:\n  lawfind discover runs/planted_moe5.parquet --out out/discover\n"
           "  lawfind discover clark.csv.gz --target loss_validation --features num_experts,dense_parameter_count "
           "--where \"step == 249000\" --repeats keep --holdout \"dense_parameter_count>=3e8\" --out out/clark")


def register(sub) -> None:
    p = sub.add_parser("discover", help="search functional forms and choose a law (the main job)", epilog=EXAMPLE,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_args(p)
    p.add_argument("--engine", default="operon", help=f"search engine: {', '.join(ENGINES)} (default: operon)")
    p.add_argument("--generations", type=at_least(1), default=60, help="generations per seed (default: 60; reproducible)")
    p.add_argument("--population", type=at_least(1), default=600, help="population size (default: 600)")
    p.add_argument("--seeds", type=at_least(1), default=2, help="independent searches, run in parallel (default: 2)")
    p.add_argument("--time-budget", type=positive(), help="seconds of search, on request (not exactly reproducible)")
    p.add_argument("--seed", type=at_least(0), default=0, help="seed of the search and the fits (default: 0)")
    p.add_argument("--holdout", type=HOLDOUT, help="test split, e.g. 'N>=1e9' or 'top:N:0.15' (default: top 15%% of N)")
    p.add_argument("--model-selection", default="1se", help=f"{', '.join(MODEL_SELECTION)} (default: 1se, the fewest "
                   "constants within one standard error of the lowest validation loss)")
    p.add_argument("--operators", default="powerlaw", help="operon operator set: powerlaw (add, mul, exp) or wide")
    p.add_argument("--template", help="pysr engine: a structured form, e.g. 'E0 + f(N, Na, D) * g(G, S)'")
    p.add_argument("--no-catalog", action="store_true", help="leave the catalogue's laws out of the candidates")
    p.add_argument("--bootstrap", type=at_least(0), default=100, help="bootstrap refits of the chosen law (default: 100)")
    p.add_argument("--out", default="discover-out", help="output folder (default: discover-out)")
    p.set_defaults(func=cmd_discover)


def cmd_discover(args: argparse.Namespace) -> int:
    out = output_folder(args.out)
    table = load(args)
    disc = Discovery(engine=args.engine, generations=args.generations, population_size=args.population,
                     seeds=args.seeds, time_budget=args.time_budget, seed=args.seed, holdout=args.holdout,
                     model_selection=args.model_selection, include_catalog=not args.no_catalog,
                     operators=args.operators, template=args.template, bootstrap=args.bootstrap)
    stages = {"search": "searching", "refit": "refitting candidates", "refine": "snapping and pruning",
              "final": "final fit", "bootstrap": "bootstrap"}
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int, message: str) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stages.get(stage, stage), total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        disc.fit(table, progress=report)
    written = write_outputs(disc, out)
    _print(disc, console)
    console.print(f"wrote {', '.join(sorted(p.name for p in written))} to {args.out}/")
    return 0


def _print(disc: Discovery, console) -> None:
    from rich.table import Table

    t = Table(title=f"Pareto front ({disc.splits_.description})", header_style="bold")
    for h in ("", "complexity", "k", "val RMSE log", "test R2", "equation"):
        t.add_column(h, justify="left" if h == "equation" else "right")
    for i, row in disc.equations_.iterrows():
        t.add_row("*" if i == disc.best_index_ else "", str(row.complexity), str(row.n_params), f"{row.loss:.4g}",
                  f"{row.test_r2:.4g}", sp.sstr(sp.N(row.sympy_format, 4)))
    console.print(t)
    m = disc.best_metrics_
    console.print(f"chosen ({disc.model_selection}): L = {sp.sstr(sp.N(disc.sympy(), 4))}", markup=False)
    console.print(f"test: R2 {m.r2:.4f}, RMSE of log loss {m.rmse_log:.4g} on {m.n_test} runs; "
                  f"{disc.best_.n_params} constants; {disc.elapsed_:.0f} s")
    console.print(disc.latex(), markup=False)
    for w in disc.best_.warnings:
        console.print(f"note: {w}", markup=False)


def write_outputs(disc: Discovery, out: Path) -> list[Path]:
    """equations.csv, best.json, best.tex and the plots."""
    from .. import plots

    out.mkdir(parents=True, exist_ok=True)
    eq = disc.equations_.drop(columns=["lambda_format"]).copy()
    eq["sympy_format"] = [sp.sstr(e) for e in eq["sympy_format"]]
    eq.to_csv(out / "equations.csv", index=False)
    record = fit_to_dict(disc.best_, disc.best_metrics_, ranges=disc.table_.ranges())
    record["expression"] = sp.sstr(disc.sympy(), full_prec=True)
    record["columns"] = dict(disc.table_.columns or {})
    record["selection"] = {"model_selection": disc.model_selection, "splits": disc.splits_.description,
                           "engine": disc.engine, "seed": disc.seed, "generations": disc.generations,
                           "seeds": disc.seeds, "time_budget": disc.time_budget}
    write_json(out / "best.json", record)
    (out / "best.tex").write_text("\\begin{equation}\n" + disc.latex() + "\n\\end{equation}\n\n" + disc.latex_table() + "\n")
    table, s = disc.table_, disc.splits_
    labels = np.where(s.test, "test", np.where(s.val, "validation", "train"))
    pred = disc.predict(table)
    plots.predicted_vs_observed(table.y, pred, labels, out / "predicted_vs_observed.png")
    plots.residuals(dict(zip(table.features, table.X())), table.y, pred, labels, out / "residuals.png")
    plots.loss_vs_complexity(list(disc.equations_["complexity"]), list(disc.equations_["loss"]), disc.best_index_,
                             out / "loss_vs_complexity.png")
    return list(out.iterdir())
