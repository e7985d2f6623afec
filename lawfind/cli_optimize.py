"""``lawfind optimize``: optima, compute-optimal allocation, efficiency leverage and effects of a law."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import sympy as sp

from .data import RunTable
from .effects import effects, interactions, numeric_expr
from .errors import FormulaError, OptionError
from .export import latex, load_fit
from .laws import Law, parse_ranges
from .optimize import cheapest_config, compute_optimal, efficiency_leverage, stationary_point
from .symbols import symbol

EXAMPLE = ("example:\n  lawfind optimize out/discover/best.json --wrt G S --at N=1e9,D=2e10\n"
           "  lawfind optimize --law \"1.7 + 50*Na**-0.24*exp(-0.24*log(G) + 0.06*log(G)**2) + 350*D**-0.27\" "
           "--wrt G --ranges G=1:24\n"
           "  lawfind optimize fit.json --budget 1e23 --cost 6*N*D --allocate N,D")


def register(sub) -> None:
    p = sub.add_parser("optimize", help="closed-form optima, compute-optimal allocation and effects of a law",
                       epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fit", nargs="?", help="a best.json (from discover) or a fit JSON (from fit --out)")
    p.add_argument("--law", help="instead of a file: a law typed with its numbers, e.g. \"1.7 + 400*N**-0.34\"")
    p.add_argument("--wrt", nargs="*", default=[], help="variables to optimise, e.g. G S r")
    p.add_argument("--at", help="values of the other variables, e.g. N=1e9,D=2e10 (default: the data's middle)")
    p.add_argument("--ranges", help="data ranges for a typed law, e.g. G=1:24,S=0:0.7")
    p.add_argument("--reparam", help="reparametrise first, e.g. Na=r*N (then --wrt r)")
    p.add_argument("--budget", type=float, help="compute budget C for the allocation")
    p.add_argument("--cost", default=None, help="the cost that equals C (default: 6*N*D, or 6*Na*D for MoE laws)")
    p.add_argument("--allocate", default=None, help="the two variables to allocate (default: N,D or Na,D)")
    p.add_argument("--target-loss", type=float, help="the cheapest configuration reaching this loss")
    p.add_argument("--dense", help="a dense law (JSON or typed) for the efficiency leverage at --at")
    p.add_argument("--effects", action="store_true", help="print each variable's effect and the interactions")
    p.add_argument("--plots", help="folder for partial-dependence and iso-loss plots")
    p.add_argument("--out", help="write the results (and the law) as JSON; 'lawfind export' prints its LaTeX")
    p.set_defaults(func=cmd_optimize)


def _pairs(text: str | None, what: str) -> dict[str, str]:
    out = {}
    for item in filter(None, (t.strip() for t in (text or "").split(","))):
        k, sep, v = item.partition("=")
        if not sep:
            raise OptionError(f"cannot read '{item}' in --{what}: write NAME=VALUE")
        out[k.strip()] = v.strip()
    return out


def _floats(text: str | None, what: str) -> dict[str, float]:
    try:
        return {k: float(v) for k, v in _pairs(text, what).items()}
    except ValueError as exc:
        raise OptionError(f"--{what} needs numbers: {exc}") from None


def typed_law(text: str) -> tuple[Law, dict[str, float]]:
    """A law typed with its numbers: every identifier must be a variable."""
    idents = set(re.findall(r"[A-Za-z_]\w*", text)) - {"log", "exp", "sqrt", "ln", "Abs", "log10"}
    known = {"D", "N", "Na", "G", "S", "E", "r", "C"}
    unknown = sorted(idents - known)
    if unknown:
        raise FormulaError(f"the typed law has unknown names {unknown}: type their numbers, or use a JSON file "
                           "from fit/discover (variables: D, N, Na, G, S, E)")
    try:
        expr = sp.sympify(text.replace("^", "**"), locals={**{v: symbol(v) for v in known}, "ln": sp.log,
                                                          "log10": lambda x: sp.log(x, 10)})
    except (sp.SympifyError, SyntaxError, TypeError) as exc:
        raise FormulaError(f"cannot parse the law '{text}': {str(exc).strip().splitlines()[-1]}") from None
    variables = tuple(sorted(s.name for s in expr.free_symbols))
    if not variables:
        raise FormulaError(f"the law '{text}' names no variable")
    return Law("typed", expr, variables, ()), {}


def _load_law(spec: str) -> tuple[Law, dict[str, float], dict]:
    if Path(spec).suffix == ".json" or Path(spec).exists():
        return load_fit(spec)
    law, values = typed_law(spec)
    return law, values, {}


def _replicates(record: dict, law: Law) -> list[dict[str, float]]:
    boot = record.get("bootstrap_samples")
    if not boot:
        return []
    return [dict(zip(boot["names"], row)) for row in boot["values"]]


def _table_from_ranges(law: Law, ranges: dict[str, tuple[float, float]], n: int = 256) -> RunTable:
    rng = np.random.default_rng(0)
    cols = {}
    for v in law.variables:
        lo, hi = ranges[v]
        cols[v] = rng.uniform(lo, hi, n) if v == "S" or lo <= 0 else np.exp(rng.uniform(np.log(lo), np.log(hi), n))
    if "Na" in cols and "N" in cols:
        cols["Na"] = np.minimum(cols["Na"], cols["N"])  # a grid over the ranges, not runs: keep Na <= N
    cols["loss"] = np.ones(n)
    return RunTable(pd.DataFrame(cols), tuple(law.variables), "loss")


def cmd_optimize(args: argparse.Namespace) -> int:
    from .cli import console

    if bool(args.fit) == bool(args.law):
        raise OptionError("give a JSON file (best.json or fit.json) or --law \"EXPR\", not both or neither")
    law, values, record = _load_law(args.fit) if args.fit else (*typed_law(args.law), {})
    ranges = {k: tuple(v) for k, v in (record.get("ranges") or {}).items()}
    ranges.update(parse_ranges(args.ranges))
    at = _floats(args.at, "at")
    reps = _replicates(record, law)
    results: dict = {"optima": []}
    console.print(f"law: L = {sp.sstr(sp.N(law.substitute(values), 4))}", markup=False)
    if not reps and args.wrt:
        console.print("note: no bootstrap replicates in the input, so the optima have no intervals "
                      "(fit with --bootstrap, or run discover, to get them)")
    for var in args.wrt:
        opt = stationary_point(law, values, var, at=at, ranges=ranges, reparam=args.reparam, bootstrap=reps)
        results["optima"].append(opt.as_dict())
        console.print(opt.describe(), markup=False)
        if opt.latex():
            console.print("  " + opt.latex(), markup=False)
        for note in () if opt.kind == "none" else opt.notes:  # a "none" result's notes are in its description
            console.print(f"  note: {note}", markup=False)
    moe = "Na" in law.variables
    cost = args.cost or ("6*Na*D" if moe else "6*N*D")
    allocate = (args.allocate or ("Na,D" if moe else "N,D")).split(",")
    if args.budget or args.cost or args.allocate:
        alloc = compute_optimal(law, values, cost=cost, allocate=allocate, at=at, budget=args.budget)
        console.print(alloc.describe(), markup=False)
        for line in alloc.latex():
            console.print("  " + line, markup=False)
        results["allocation"] = {"description": alloc.describe(), "latex": alloc.latex(),
                                 "values": dict(alloc.values), "exponents": dict(alloc.exponents),
                                 "closed_forms": {k: sp.sstr(v) for k, v in alloc.closed_forms.items()},
                                 "loss": alloc.loss, "budget": alloc.budget, "method": alloc.method}
    if args.target_loss is not None:
        cfg = cheapest_config(law, values, args.target_loss, cost=cost, over=allocate, at=at,
                              bounds={k: v for k, v in ranges.items() if k in allocate} or None)
        console.print(f"cheapest configuration reaching L = {args.target_loss:g}: "
                      + ", ".join(f"{k} = {v:.4g}" for k, v in cfg.items()), markup=False)
        results["cheapest"] = cfg
    if args.dense:
        dense, dvals, _ = _load_law(args.dense)
        el = efficiency_leverage(law, values, dense, dvals, at, moe_cost=cost)
        console.print(f"efficiency leverage at {args.at}: EL = C_dense / C_moe = {el:.4g}", markup=False)
        results["efficiency_leverage"] = {"config": at, "EL": el}
    table = None
    if args.effects or args.plots:
        missing = [v for v in law.variables if v not in ranges]
        if missing:
            raise OptionError(f"effects and plots need the data's ranges of {missing}: give --ranges NAME=LOW:HIGH")
        table = _table_from_ranges(law, ranges)
        effs = effects(law, values, table)
        inter = interactions(law, values, table)
        for e in effs:
            console.print("effect " + e.describe(), markup=False)
        for it in inter:
            tag = "none (separable)" if it.exactly_zero else f"median |d2L/dlog dlog| = {it.median_abs:.3g} " \
                                                              f"({it.relative:.2g} of the smaller main effect)"
            console.print(f"interaction {it.pair[0]} x {it.pair[1]}: {tag}", markup=False)
        results["effects"] = [e.__dict__ for e in effs]
        results["interactions"] = [it.__dict__ for it in inter]
    if args.plots:
        _plots(law, values, table, results["optima"], Path(args.plots))
        console.print(f"wrote plots to {args.plots}/")
    if args.out:
        record = dict(record) if record else {"formula": sp.sstr(law.expr), "variables": list(law.variables),
                                              "parameters": {}, "latex": latex(law.substitute(values))}
        record.update(results)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(record, indent=2, default=_json_default))
        console.print(f"wrote {args.out}")
    return 0


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, (tuple, np.ndarray)):
        return list(o)
    return str(o)


def _plots(law: Law, values, table: RunTable, optima: list[dict], out: Path) -> None:
    from . import plots

    expr = numeric_expr(law, values)
    f = sp.lambdify([symbol(v) for v in law.variables], expr, "numpy")
    med = {v: float(np.median(table.frame[v])) for v in law.variables}
    curves = {}
    for v in law.variables:
        lo, hi = table.frame[v].min(), table.frame[v].max()
        grid = np.linspace(lo, hi, 200) if v == "S" else np.geomspace(lo, hi, 200)
        cols = [grid if u == v else np.full(200, med[u]) for u in law.variables]
        curves[v] = (grid, np.broadcast_to(np.asarray(f(*cols), float), (200,)))
    opt = {o["variable"]: o["value"] for o in optima if o["kind"] == "minimum"}
    plots.partial_dependence(curves, opt, out / "partial_dependence.png")
    pair = [o["variable"] for o in optima if o["variable"] in law.variables][:2]
    if len(pair) < 2:
        pair = list(law.variables[:2])
    if len(pair) == 2:
        a, b = pair
        ga = np.linspace(*table.frame[a].agg(["min", "max"]), 60) if a == "S" else np.geomspace(*table.frame[a].agg(["min", "max"]), 60)
        gb = np.linspace(*table.frame[b].agg(["min", "max"]), 60) if b == "S" else np.geomspace(*table.frame[b].agg(["min", "max"]), 60)
        A, B = np.meshgrid(ga, gb)
        cols = [A if u == a else B if u == b else np.full_like(A, med[u]) for u in law.variables]
        plots.iso_loss(A, B, np.broadcast_to(np.asarray(f(*cols), float), A.shape), (a, b), out / f"iso_loss_{a}_{b}.png")
