"""``lawfind discover``: the command over :class:`lawfind.discovery.Discovery`.

It parses, runs the discovery, prints the front and the chosen law, and saves the folder with
:meth:`Discovery.save <lawfind.discovery.Discovery.save>` (:mod:`lawfind.record` writes it, whole or
not at all). ``--out`` is checked before any work but made only when the discovery is saved, so a
refused or interrupted command leaves no empty folder behind.
"""

from __future__ import annotations

import argparse
import os
import datetime as dt
import platform
import shlex
from pathlib import Path

import sympy as sp
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ..admissible import EXTRAPOLATION_FACTOR, Roles
from ..discovery import MODEL_SELECTION, VALIDATION, Discovery
from ..errors import OptionError
from ..record import folder_name, save_index, target_lines
from ..files import file_sha256
from ..forms import structure_key
from ..search import ENGINES
from .common import (HOLDOUT, add_command, add_data_args, add_role_args, at_least, choice, console, declared_roles,
                     err_console, factor, load, names, output_folder, positive, scale_line)

ENGINE_CHOICES = ("default", *ENGINES)

EXAMPLE = ("example:\n  lawfind discover runs/planted_moe5.parquet --out out/discover\n"
           "  lawfind discover clark.csv.gz --target loss_validation --features num_experts,dense_parameter_count "
           "--decreasing dense_parameter_count --where \"step == 249000\" --holdout \"dense_parameter_count>=3e8\" "
           "--out out/clark\n"
           "  lawfind discover two_datasets.csv --group dataset --out out/grouped   (one form, constants per dataset)\n"
           "  lawfind discover runs.csv --target loss_a,loss_b --out out/both   (one law per target, index.html)")


def register(sub) -> None:
    p = add_command(sub, "discover", "search functional forms and choose a law (the main job)", EXAMPLE)
    add_data_args(p)
    p.add_argument("--engine", type=choice("engine", ENGINE_CHOICES), default="default",
                   help="default (the grammar engine and pyoperon over one pool with the catalogue), grammar, "
                        "operon, pysr or catalog")
    p.add_argument("--generations", type=at_least(1), default=60, help="generations per seed (default: 60; reproducible)")
    p.add_argument("--population", type=at_least(1), default=600, help="population size (default: 600)")
    p.add_argument("--seeds", type=at_least(1), default=2, help="independent searches, run in parallel (default: 2)")
    p.add_argument("--time-budget", type=positive(), help="seconds for the whole command, start-up and writing the "
                   "outputs included (the report, when on, comes after); on request (not exactly reproducible)")
    p.add_argument("--beam", type=at_least(1), default=4, help="grammar engine: forms kept at each depth (default: 4)")
    p.add_argument("--max-depth", type=at_least(0), default=4, help="grammar engine: blocks added at most (default: 4)")
    p.add_argument("--seed", type=at_least(0), default=0, help="seed of the search and the fits (default: 0)")
    p.add_argument("--holdout", type=HOLDOUT, help="test split, e.g. 'N>=1e9' or 'top:N:0.15' (default: top 15%% of N; "
                   "with 3 to 5 sizes the largest 15%% of D at each size, so selection keeps every size)")
    p.add_argument("--model-selection", type=choice("model selection", MODEL_SELECTION), default="1se",
                   help=f"{', '.join(MODEL_SELECTION)} (default: 1se, the fewest constants within one standard error "
                        "of the lowest extrapolation error)")
    p.add_argument("--validation", type=choice("validation", VALIDATION), default="rolling",
                   help="rolling (default: fit below several size cutoffs, score on the next larger slice) or slice "
                        "(one validation slice, lawfind 0.1's rule)")
    p.add_argument("--origins", type=at_least(1), default=3, help="rolling origins (default: 3)")
    p.add_argument("--admissible", type=choice("admissible", ("on", "off")), default="on",
                   help="on (default): set aside laws that rise with data or size, turn negative or are unbounded "
                        "below; off: keep them, marked in equations.csv")
    p.add_argument("--decreasing", type=names, default=(),
                   help="columns that grow with the model size (the loss must not rise with them), beside N and Na, "
                        "e.g. dense_parameter_count (the same as --role COL=size)")
    add_role_args(p)
    p.add_argument("--extrapolation-factor", type=factor, default=EXTRAPOLATION_FACTOR,
                   help="admissibility is checked with size and data up to this factor beyond the data (default: 100)")
    p.add_argument("--operators", default="powerlaw", help="operon operator set: powerlaw (add, mul, exp) or wide")
    p.add_argument("--template", help="pysr engine: a structured form, e.g. 'E0 + f(N, Na, D) * g(G, S)'")
    p.add_argument("--no-catalog", action="store_true", help="leave the catalogue's laws out of the candidates")
    p.add_argument("--per-group", help="with --group: the constants fitted per group level, e.g. E0,A (default: "
                   "chosen by BIC per form among none, the limit, the limit and coefficients, every constant)")
    p.add_argument("--bootstrap", type=at_least(0), default=100, help="bootstrap refits of the chosen law (default: 100)")
    p.add_argument("--out", default="discover-out", help="output folder (default: discover-out)")
    p.add_argument("--report", action=argparse.BooleanOptionalAction, default=True,
                   help="write report.html, one self-contained page of the discovery, with optima.json "
                        "(default: on; --no-report skips both)")
    p.set_defaults(func=cmd_discover)


def cmd_discover(args: argparse.Namespace) -> int:
    targets = [t.strip() for t in args.target.split(",") if t.strip()]
    if len(targets) > 1:
        return _discover_targets(args, targets)
    _discover(args, _fit_budget(args.time_budget))
    return 0


def _discover(args: argparse.Namespace, budget: float | None, forms: tuple = ()) -> Discovery:
    """One discovery of ``args.target`` in ``budget`` seconds (``None``: no limit), ``forms`` screened
    beside the search's, printed and saved to ``args.out``."""
    out = _check_out(args.out)
    table = load(args)
    roles = Roles.of(table, args.decreasing, declared_roles(args))  # a misnamed column is refused before any work
    console.print(roles.line(), markup=False)
    console.print(scale_line(table), markup=False)
    disc = Discovery(engine=args.engine, generations=args.generations, population_size=args.population,
                     seeds=args.seeds, beam=args.beam, max_depth=args.max_depth, time_budget=budget,
                     seed=args.seed, holdout=args.holdout, validation=args.validation, n_origins=args.origins,
                     model_selection=args.model_selection, admissible=args.admissible == "on",
                     decreasing=tuple(args.decreasing), extrapolation_factor=args.extrapolation_factor,
                     include_catalog=not args.no_catalog, operators=args.operators, template=args.template,
                     bootstrap=args.bootstrap, per_group=_per_group(args), roles=declared_roles(args) or None,
                     forms=forms)
    stages = {"search": "pyoperon search", "grammar": "grammar search", "refit": "fitting candidates",
              "refine": "snapping and pruning", "extrapolate": "extrapolation steps", "final": "final fit",
              "bootstrap": "bootstrap"}
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console, transient=True,
                  disable=not err_console.is_terminal) as bar:  # a pipe gets no bar (and no blank line)
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int, message: str) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stages.get(stage, stage), total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        started = _now()
        disc.fit(table, progress=report)
    _print(disc, console)
    what = "writing the outputs and the report (optima with sympy, figures)" if args.report else "writing the outputs"
    with err_console.status(what):
        written = disc.save(out, provenance=provenance(args, disc, started), report=args.report)
    console.print(f"wrote {', '.join(sorted(p.name for p in written))} to {args.out}/", markup=False)
    return disc


def _fit_budget(budget: float | None) -> float | None:
    """The seconds the discovery itself may take when the command has ``budget`` (``--time-budget``):
    less what the command has spent already (starting Python, imports, loading the table) and a reserve
    for writing the outputs (the report, where asked for, comes after)."""
    if budget is None:
        return None
    return max(budget - _process_age() - min(0.1 * budget, 4.0), 0.5 * budget)


def _process_age() -> float:
    """Seconds since this process started (Linux's /proc; 0 where it cannot be read)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


def _per_group(args: argparse.Namespace) -> tuple[str, ...] | None:
    """``--per-group E0,A``: the constants declared per group level (``None``: the data choose)."""
    names = tuple(n.strip() for n in (args.per_group or "").split(",") if n.strip())
    if names and not args.group:
        raise OptionError("--per-group needs --group COLUMN (the column whose levels get their own constants)")
    return names or None


def _discover_targets(args: argparse.Namespace, targets: list[str]) -> int:
    """``--target a,b``: one discovery per target, each in its own sub-folder of ``--out``, then an index
    (``index.html``, ``index.json``) and one line per target.

    The targets share their work where their features are the same: the laws found for the earlier
    targets (each one's front) are screened and measured for the later ones beside their own search,
    so that one structure can serve them all, and ``--time-budget`` is the whole command's, shared
    evenly among the targets still to run."""
    if len(set(targets)) < len(targets):
        raise OptionError(f"--target names a column twice ({args.target}): give each target once")
    out = _check_out(args.out)
    found: dict[str, Discovery] = {}
    total = _fit_budget(args.time_budget)
    started = _process_age()
    for k, target in enumerate(targets):
        console.rule(f"target {target}")
        sub = argparse.Namespace(**{**vars(args), "target": target, "out": str(out / folder_name(target))})
        budget = None if total is None else max((total - (_process_age() - started)) / (len(targets) - k),
                                                0.25 * total / len(targets))
        forms = tuple({structure_key(r.law): r.fit for d in found.values() for r in d.front_}.values())
        found[target] = _discover(sub, budget, forms)
    written = save_index(found, out)
    console.rule("targets")
    for line in target_lines(found):
        console.print(line, markup=False)
    console.print(f"wrote {', '.join(p.name for p in written)} and one folder per target to {args.out}/", markup=False)
    return 0


def _check_out(path: str) -> Path:
    """Check that the folder ``path`` can be written (:func:`output_folder`), and remove again the
    folders the check made: the folder appears, whole, when the discovery is saved."""
    out = Path(path)
    made = [p for p in (out, *out.parents) if _missing(p)]  # deepest first
    try:
        output_folder(path)
    finally:
        for folder in made:
            try:
                folder.rmdir()
            except OSError:  # not made, or not empty: leave it
                break
    return out


def _missing(path: Path) -> bool:
    try:
        return not path.exists()
    except OSError:  # a name too long: output_folder says so
        return False


def provenance(args: argparse.Namespace, disc: Discovery, started: str) -> dict:
    """Where a discovery came from: lawfind's version, the command, the data file and its SHA-256, the
    seed, when it started and how long it took."""
    from ..version import __version__

    argv = getattr(args, "argv", None)
    return {"lawfind": __version__, "command": "lawfind " + shlex.join(argv) if argv is not None else None,
            "data_file": str(args.file), "data_sha256": file_sha256(args.file), "seed": disc.seed, "time": started,
            "elapsed_s": round(disc.elapsed_, 3), "python": platform.python_version()}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def _print(disc: Discovery, console) -> None:
    from rich.table import Table

    t = Table(title=f"Front of constants against extrapolation error ({disc.splits_.description})",
              header_style="bold")
    log = disc.best_.scale == "log"
    rmse = "RMSE log" if log else "RMSE"  # of log loss, or (linear scale) of the target in its units
    for h in ("", "k", f"extrap. {rmse}", "± se", f"test {rmse}", "test R2", "admissible", "equation"):
        t.add_column(h, justify="left" if h == "equation" else "right")
    for i, row in disc.equations_.iterrows():
        t.add_row("*" if i == disc.best_index_ else "", str(row.n_params), f"{row.loss:.4g}", f"{row.loss_se:.2g}",
                  f"{row.test_rmse_log if log else row.test_rmse:.4g}", f"{row.test_r2:.4g}",
                  "yes" if row.admissible else "NO",
                  sp.sstr(sp.N(row.sympy_format, 4)))
    console.print(t)
    console.print(disc.summary(), markup=False)
    m = disc.best_metrics_
    console.print(f"chosen ({disc.model_selection}): L = {sp.sstr(sp.N(disc.sympy(), 4))}", markup=False)
    if disc.best_.per_group:
        console.print(f"constants per {disc.best_.group} ({', '.join(disc.best_.per_group)}; the others shared):",
                      markup=False)
        for level in disc.best_.groups:
            values = disc.best_.group_values(level)
            console.print(f"  {level}: " + ", ".join(f"{p}={values[p]:.4g}" for p in disc.best_.per_group),
                          markup=False)
    error = f"RMSE of log loss {m.rmse_log:.4g}" if log else \
        f"RMSE of {disc.table_.target} {m.rmse:.4g} (linear scale)"
    ev = disc.splits_.evidence
    if ev is not None:
        console.print(f"decided by {ev.describe()}", markup=False)
    test = (f"{error} (error {m.spread_ratio:.2g}x the spread of the test losses), R2 {m.r2:.4f}, on {m.n_test} runs"
            if m.n_test else "no test split (every run was needed to choose the law)")
    console.print(f"test: {test}; {disc.best_.n_params} constants; {disc.elapsed_:.0f} s", markup=False)
    v = disc.best_verdict_
    console.print("admissible: " + ("yes" + (f" (loss tends to {v.limit:.4g})" if v.limit is not None else "")
                                    if v.ok else "NO: " + "; ".join(v.reasons)), markup=False)
    console.print(disc.latex(), markup=False)
    for w in disc.best_.warnings:
        console.print(f"note: {w}", markup=False)
