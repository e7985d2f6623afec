"""Solving with sympy under a time limit, and reading numbers out of expressions.

``sympy.solve`` can run for minutes on a transcendental equation and cannot be interrupted from
within, so it runs in a child process that is killed after ``timeout`` seconds; the caller then
falls back to a numeric search and says so.
"""

from __future__ import annotations

import math
import multiprocessing as mp
from collections.abc import Mapping

import sympy as sp

__all__ = ["SOLVE_TIMEOUT", "solve_with_timeout", "substitute", "real"]

SOLVE_TIMEOUT = 20.0


def _solve_worker(eq_srepr: str, x_srepr: str, q) -> None:
    try:
        eq, x = sp.sympify(eq_srepr), sp.sympify(x_srepr)
        q.put([sp.srepr(r) for r in sp.solve(eq, x)])
    except Exception as exc:  # sympy raises NotImplementedError and others for unsolvable equations
        q.put(f"{type(exc).__name__}: {exc}")


def solve_with_timeout(eq: sp.Expr, x: sp.Symbol, timeout: float = SOLVE_TIMEOUT) -> list[sp.Expr] | None:
    """``sympy.solve(eq, x)`` in a child process; ``None`` if it fails or takes longer than ``timeout``."""
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_solve_worker, args=(sp.srepr(eq), sp.srepr(x), q), daemon=True)
    p.start()
    try:
        out = q.get(timeout=timeout)
    except Exception:  # queue.Empty: sympy is still working
        out = None
    p.kill()
    p.join()
    if not isinstance(out, list):
        return None
    return [sp.sympify(r) for r in out]


def substitute(expr: sp.Expr, values: Mapping[str, float]) -> sp.Expr:
    """``expr`` with the symbols named in ``values`` replaced by their numbers."""
    return expr.xreplace({s: sp.Float(values[s.name]) for s in expr.free_symbols if s.name in values})


def real(v: sp.Expr) -> float | None:
    """The value of ``v`` as a finite real number, or ``None`` (complex, infinite or not a number)."""
    try:
        c = complex(sp.N(v))
    except (TypeError, ValueError):
        return None
    if abs(c.imag) > 1e-9 * max(1.0, abs(c.real)) or not math.isfinite(c.real):
        return None
    return c.real
