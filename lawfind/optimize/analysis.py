"""One call for everything ``lawfind optimize`` derives from a law: optima, allocation, the cheapest
configuration for a loss, efficiency leverage, and effects."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ..effects import design_table, effects, interactions
from ..laws import Law
from .allocation import cheapest_config, compute_optimal, efficiency_leverage
from .optima import stationary_point
from .results import Analysis
from .solve import SOLVE_TIMEOUT

__all__ = ["analyse", "default_cost"]


def default_cost(variables: Law | Iterable[str]) -> tuple[str, tuple[str, str]]:
    """The training cost and the pair to allocate: ``6*Na*D`` over (Na, D) where ``Na`` is among the
    variables (a law's, or a table's columns), else ``6*N*D`` over (N, D).

    The one default of the package: :func:`analyse`, the HTML report and :func:`lawfind.suggest.suggest`
    all take it from here.
    """
    names = variables.variables if isinstance(variables, Law) else tuple(variables)
    return ("6*Na*D", ("Na", "D")) if "Na" in names else ("6*N*D", ("N", "D"))


def analyse(
    law: Law,
    values: Mapping[str, float],
    *,
    wrt: Sequence[str] = (),
    at: Mapping[str, float] | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    reparam: str | None = None,
    bootstrap: Sequence[Mapping[str, float]] = (),
    budget: float | None = None,
    cost: str | None = None,
    allocate: Sequence[str] | None = None,
    target_loss: float | None = None,
    dense: tuple[Law, Mapping[str, float]] | None = None,
    with_effects: bool = False,
    timeout: float = SOLVE_TIMEOUT,
) -> Analysis:
    """Derive what is asked for from a fitted law (what ``lawfind optimize`` prints and writes).

    Parameters
    ----------
    law, values:
        The law and its constants.
    wrt:
        Variables to find stationary points in (see :func:`~lawfind.optimize.stationary_point`).
    at, ranges, reparam, bootstrap:
        The point of the other variables, the data's ranges, a reparametrisation such as
        ``"Na=r*N"`` and parameter replicates for intervals.
    budget, cost, allocate:
        The compute-optimal allocation, computed when any of the three is given (defaults:
        :func:`default_cost`).
    target_loss:
        The cheapest configuration (under ``cost``, over ``allocate``) reaching this loss.
    dense:
        A dense law and its constants, for the efficiency leverage at ``at``.
    with_effects:
        Each variable's effect and the interactions of pairs, over ``ranges``.
    timeout:
        Seconds sympy may take for each equation before a numeric search takes over.
    """
    at = dict(at or {})
    ranges = dict(ranges or {})
    table = design_table(law, ranges) if with_effects else None  # needs every range: check before the work
    optima = tuple(stationary_point(law, values, v, at=at, ranges=ranges, reparam=reparam, bootstrap=bootstrap,
                                    timeout=timeout) for v in wrt)
    asked = budget is not None or cost is not None or allocate is not None
    default, pair = default_cost(law)
    cost, allocate = cost or default, tuple(allocate or pair)
    rest = {k: v for k, v in at.items() if k not in allocate}  # the allocated variables are free
    alloc = (compute_optimal(law, values, cost=cost, allocate=allocate, at=rest, budget=budget, bootstrap=bootstrap,
                             timeout=timeout) if asked else None)
    cheapest = None
    if target_loss is not None:
        cheapest = cheapest_config(law, values, target_loss, cost=cost, over=allocate, at=rest,
                                   bounds={k: v for k, v in ranges.items() if k in allocate} or None)
    leverage = None
    if dense is not None:
        leverage = efficiency_leverage(law, values, dense[0], dense[1], at, moe_cost=cost)
    effs, inter = (), ()
    if table is not None:
        effs, inter = tuple(effects(law, values, table)), tuple(interactions(law, values, table))
    return Analysis(law, dict(values), optima, alloc, target_loss, cheapest, at if dense is not None else None, leverage,
                  effs, inter, len(bootstrap))
