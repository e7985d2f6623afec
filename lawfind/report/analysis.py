"""The optima of a discovered law for its report: ``optima.json`` beside ``best.json``.

One call of :func:`lawfind.optimize.analyse` per question, with the bootstrap replicates for intervals:
the stationary points in ``G`` and ``S`` (the hook variables), the activation ratio ``r = Na/N`` (after
``Na = r N``), the compute-optimal allocation under ``6 Na D`` (or ``6 N D``) at the compute of the
largest run, and every variable's effect with the interactions of pairs. Other variables are held at
the data's middle (geometric for log-scale variables). Sympy has ``timeout`` seconds per equation
before a numeric search takes over (and says so), so that a report never waits minutes for a form
without a closed solution.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import LawfindError
from ..laws import Law
from ..optimize import analyse, default_cost
from ..optimize.allocation import evaluate_cost, parse_cost
from ..parallel import parallel_map
from ..symbols import interpolate

__all__ = ["analyse_discovery", "HOOKS", "REPORT_TIMEOUT"]

#: The variables whose stationary points a report looks for (where the law has them).
HOOKS = ("G", "S")
#: Seconds sympy may take for one equation in a report.
REPORT_TIMEOUT = 8.0


def analyse_discovery(law: Law, values: Mapping[str, float], ranges: Mapping[str, tuple[float, float]],
                      bootstrap: Sequence[Mapping[str, float]] = (), runs: pd.DataFrame | None = None,
                      timeout: float = REPORT_TIMEOUT, n_jobs: int | None = None) -> dict:
    """Optima, allocation and effects of a fitted law, as a JSON-ready record.

    Parameters
    ----------
    law, values:
        The law and its constants.
    ranges:
        Each variable's range in the data.
    bootstrap:
        Parameter replicates (one mapping each) for 95 % intervals.
    runs:
        The runs (with the law's variables), whose largest compute sets the allocation's budget.
    timeout:
        Seconds for sympy per equation.
    n_jobs:
        Processes for the four questions (stationary points, activation ratio, allocation, effects);
        default the cores. The answer does not depend on it.

    Returns
    -------
    dict
        ``at`` (the point of the variables held), ``optima`` (one record per optimum, as
        :meth:`~lawfind.optimize.Optimum.as_dict`), ``allocation`` (or ``None``, with
        ``allocation_note`` saying why), ``effects``, ``interactions``, ``notes`` (a question the law
        could not answer, and why), ``n_replicates`` and ``seconds``.
    """
    t0 = time.monotonic()
    ranges = {k: tuple(v) for k, v in ranges.items()}
    middle = {v: float(interpolate(v, *ranges[v], 0.5)) for v in law.variables if v in ranges}
    hooks = [v for v in HOOKS if v in law.variables]

    def stationary() -> dict:
        rep = analyse(law, values, wrt=hooks, at={k: x for k, x in middle.items() if k not in hooks}, ranges=ranges,
                      bootstrap=bootstrap, timeout=timeout)
        return {"optima": [o.as_dict() for o in rep.optima]}

    def ratio() -> dict:
        if not {"N", "Na"} <= set(law.variables):
            return {"optima": []}
        rep = analyse(law, values, wrt=["r"], at={k: x for k, x in middle.items() if k != "Na"}, ranges=ranges,
                      reparam="Na=r*N", bootstrap=bootstrap, timeout=timeout)
        return {"optima": [{**o.as_dict(), "label": "Na/N"} for o in rep.optima]}

    def allocation() -> dict:
        cost, pair = default_cost(law)
        if not set(pair) <= set(law.variables):
            return {"cost": cost, "allocation": None,
                    "allocation_note": f"no compute-optimal allocation: the law does not read both {pair[0]} and {pair[1]}"}
        try:
            alloc = analyse(law, values, at=middle, ranges=ranges, budget=_largest_cost(cost, law, runs, middle),
                            bootstrap=bootstrap, timeout=timeout).allocation
        except LawfindError as exc:  # no closed form and no numeric optimum along the budget line
            return {"cost": cost, "allocation": None, "allocation_note": f"no compute-optimal allocation: {exc}"}
        return {"cost": cost, "allocation": alloc.as_dict(), "allocation_note": ""}

    def effects() -> dict:
        rep = analyse(law, values, ranges=ranges, with_effects=True, timeout=timeout)
        return {"effects": [e.__dict__ for e in rep.effects], "interactions": [it.__dict__ for it in rep.interactions]}

    parts = {"stationary points": stationary, "activation ratio": ratio, "allocation": allocation, "effects": effects}

    def run(name: str) -> dict:
        try:
            return parts[name]()
        except LawfindError as exc:  # a question the law cannot answer: said on the page, the rest goes on
            return {"notes": [f"{name}: {exc}"]}

    # independent questions, each mostly sympy (the allocation's solve is the slowest): in parallel
    found = parallel_map(run, list(parts), n_jobs)
    out = {"at": middle, "optima": [], "cost": default_cost(law)[0], "allocation": None, "allocation_note": "",
           "effects": [], "interactions": [], "notes": []}
    for part in found:
        out["optima"] += part.pop("optima", [])
        out["notes"] += part.pop("notes", [])
        out.update(part)
    return {**out, "n_replicates": len(bootstrap), "seconds": time.monotonic() - t0}


def _largest_cost(cost: str, law: Law, runs: pd.DataFrame | None, middle: Mapping[str, float]) -> float:
    """The cost of the most expensive run (of the data's middle where the runs are not given)."""
    expr = parse_cost(cost, law.variables)
    if runs is not None and all(s.name in runs.columns for s in expr.free_symbols):
        return float(np.max(evaluate_cost(expr, {s.name: runs[s.name].to_numpy(float) for s in expr.free_symbols})))
    return float(evaluate_cost(expr, middle))
