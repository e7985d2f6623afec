"""Optima of a fitted law: stationary points, compute-optimal allocation, efficiency leverage.

Everything is derived with sympy from the law's expression with its parameters as symbols, so a
closed form reads in the law's own constants and its dependence on the other variables is visible.

=================  ==========================================================================
module             concern
=================  ==========================================================================
``solve``          ``sympy.solve`` under a time limit; numbers out of expressions
``optima``         stationary points in one variable, closed form or numeric, with intervals
``allocation``     compute-optimal allocation, cheapest configuration, efficiency leverage
``results``        the results (``Optimum``, ``Allocation``, ``Analysis``) and how they read
``analysis``       everything ``lawfind optimize`` derives from a law, in one call
=================  ==========================================================================
"""

from __future__ import annotations

from .allocation import cheapest_config, compute_optimal, efficiency_leverage
from .optima import reparametrise, stationary_point
from .analysis import analyse, default_cost
from .results import Allocation, Analysis, Optimum
from .solve import SOLVE_TIMEOUT, solve_with_timeout

__all__ = ["Optimum", "Allocation", "Analysis", "stationary_point", "compute_optimal", "cheapest_config",
           "efficiency_leverage", "solve_with_timeout", "reparametrise", "analyse", "default_cost", "SOLVE_TIMEOUT"]
