"""``lawfind optimize``: optima, compute-optimal allocation, efficiency leverage and effects of a law."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import plots
from ..data import RunTable
from ..effects import design_table, loss_surface, partial_dependence
from ..errors import OptionError
from ..export import latex, write_json
from ..laws import Law, identifiers, parse_law, parse_ranges
from ..predict import parse_point, split_group
from ..optimize import Analysis, analyse
from ..record import LawRecord, load_discovery
from ..symbols import CANONICAL
from .common import add_command, console, option, output_file, output_folder, positive, wrote

EXAMPLE = ("example:\n  lawfind optimize out/discover/best.json --wrt G S --at N=1e9,D=2e10\n"
           "  lawfind optimize --law \"1.7 + 50*Na**-0.24*exp(-0.24*log(G) + 0.06*log(G)**2) + 350*D**-0.27\" "
           "--wrt G --ranges G=1:24\n"
           "  lawfind optimize fit.json --budget 1e23 --cost 6*N*D --allocate N,D")

#: The names a law typed with its numbers may use: the canonical variables and the activation ratio r.
TYPED_VARIABLES = (*CANONICAL, "r")


def register(sub) -> None:
    p = add_command(sub, "optimize", "closed-form optima, compute-optimal allocation and effects of a law", EXAMPLE)
    p.add_argument("fit", nargs="?", help="a best.json (from discover) or a fit JSON (from fit --out)")
    p.add_argument("--law", help="instead of a file: a law typed with its numbers, e.g. \"1.7 + 400*N**-0.34\"")
    p.add_argument("--wrt", nargs="*", default=None, help="variables to optimise, e.g. G S r")
    p.add_argument("--at", help="values of the other variables, e.g. N=1e9,D=2e10 (default: the data's middle); for a "
                   "law with constants per group, dataset=pile picks a level (default: every level)")
    p.add_argument("--ranges", type=option(parse_ranges), default={}, help="data ranges for a typed law, e.g. G=1:24,S=0:0.7")
    p.add_argument("--reparam", help="reparametrise first, e.g. Na=r*N (then --wrt r)")
    p.add_argument("--budget", type=positive(), help="compute budget C for the allocation (> 0)")
    p.add_argument("--cost", default=None, help="the cost that equals C (default: 6*N*D, or 6*Na*D for MoE laws)")
    p.add_argument("--allocate", default=None, help="the two variables to allocate (default: N,D or Na,D)")
    p.add_argument("--target-loss", type=positive(), help="the cheapest configuration reaching this loss")
    p.add_argument("--dense", help="a dense law (JSON or typed) for the efficiency leverage at --at")
    p.add_argument("--effects", action="store_true", help="print each variable's effect and the interactions")
    p.add_argument("--plots", help="folder for partial-dependence and iso-loss plots")
    p.add_argument("--out", help="write the results (and the law) as JSON; 'lawfind export' prints its LaTeX")
    p.set_defaults(func=cmd_optimize)


def typed_law(text: str) -> Law:
    """A law typed with its numbers: every name must be a variable (or ``r``, the activation ratio)."""
    return parse_law(text, TYPED_VARIABLES, name="typed", strict=True, allow_constant=True)


def _at(text: str | None, law: Law, reparam: str | None) -> dict[str, float]:
    """``--at``: values of the law's variables (and of those a reparametrisation brings in, such as ``r``)."""
    if text is None:
        return {}
    known = [*law.variables, *sorted(identifiers(reparam or "") - set(law.variables))]
    return parse_point(text, known)


def _load_law(spec: str) -> tuple[Law, dict[str, float], LawRecord | None]:
    """A saved law (a best.json, a discovery's folder or a fit file) with its record, or a typed law."""
    if Path(spec).suffix == ".json" or Path(spec).exists():
        record = load_discovery(spec)
        return record.law, record.values, record
    return typed_law(spec), {}, None


def cmd_optimize(args: argparse.Namespace) -> int:
    if bool(args.fit) == bool(args.law):
        raise OptionError("give a JSON file (best.json or fit.json) or --law \"EXPR\", not both or neither")
    if args.wrt == []:
        raise OptionError("--wrt needs at least one variable to optimise, e.g. --wrt G S (or leave --wrt out)")
    out, plot_dir = output_file(args.out), output_folder(args.plots, "--plots")
    law, values, record = _load_law(args.fit) if args.fit else (typed_law(args.law), {}, None)
    if record is not None and record.per_group:
        return _per_group(args, record, out, plot_dir)
    at = _at(args.at, law, args.reparam)
    ranges = dict(record.ranges) if record else {}
    ranges.update(args.ranges)
    dense = _load_law(args.dense)[:2] if args.dense else None
    table = design_table(law, ranges) if plot_dir else None  # needs every variable's range: check before the work
    found = analyse(law, values, wrt=args.wrt or [], at=at, ranges=ranges, reparam=args.reparam,
                    bootstrap=record.replicates() if record else [], budget=args.budget, cost=args.cost,
                    allocate=args.allocate.split(",") if args.allocate else None, target_loss=args.target_loss,
                    dense=dense, with_effects=args.effects)
    for line in found.lines():
        console.print(line, markup=False)
    if plot_dir:
        _plots(found, table, plot_dir)
        console.print(f"wrote plots to {args.plots}/", markup=False)
    if out:
        base = record.to_dict() if record else {"formula": str(law.expr), "variables": list(law.variables),
                                            "parameters": {}, "latex": latex(law.substitute(values))}
        wrote(write_json(out, {**base, **found.as_dict()}))
    return 0


def _per_group(args: argparse.Namespace, record: LawRecord, out: Path | None, plot_dir: Path | None) -> int:
    """A law with constants per group level: one set of optima per level, or the level ``--at`` names
    (``--at dataset=pile``)."""
    text, level = split_group(args.at or "", record.group)
    levels = [record.check_level(level)] if level is not None else list(record.groups)
    if plot_dir and len(levels) > 1:
        raise OptionError(f"--plots draws one law: pick a level with --at {record.group}=LEVEL "
                          f"({', '.join(record.groups)})")
    results = {}
    for lev in levels:
        one = record.for_group(lev)
        at = _at(text or None, one.law, args.reparam)
        dense = _load_law(args.dense)[:2] if args.dense else None
        found = analyse(one.law, one.values, wrt=args.wrt or [], at=at, ranges=dict(one.ranges), reparam=args.reparam,
                        bootstrap=one.replicates(), budget=args.budget, cost=args.cost,
                        allocate=args.allocate.split(",") if args.allocate else None, target_loss=args.target_loss,
                        dense=dense, with_effects=args.effects)
        console.print(f"{record.group}={lev}:", markup=False)
        for line in found.lines():
            console.print(f"  {line}", markup=False)
        if plot_dir:
            _plots(found, design_table(one.law, dict(one.ranges)), plot_dir)
            console.print(f"wrote plots to {args.plots}/", markup=False)
        results[lev] = found.as_dict()
    if out:
        wrote(write_json(out, {**record.to_dict(), "optima_per_group": results}))
    return 0


def _plots(found: Analysis, table: RunTable, out: Path) -> None:
    law, values = found.law, found.values
    optima = {o.variable: o.value for o in found.optima if o.kind == "minimum"}
    plots.partial_dependence(partial_dependence(law, values, table), optima, out / "partial_dependence.png")
    chosen = [o.variable for o in found.optima if o.variable in law.variables]
    pair = tuple(dict.fromkeys([*chosen, *law.variables]))[:2]  # the optimised variables first
    if len(pair) == 2:
        plots.iso_loss(*loss_surface(law, values, table, pair), pair, out / f"iso_loss_{pair[0]}_{pair[1]}.png")
