"""sympy under a time limit; numbers out of expressions."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from lawfind.optimize.solve import real, solve_with_timeout, substitute


def test_solve_in_a_child_process():
    x, a = sp.Symbol("x", positive=True), sp.Symbol("a", positive=True)
    roots = solve_with_timeout(sp.diff(x ** 2 - 2 * a * x, x), x, timeout=30)
    assert roots == [a]


@pytest.mark.slow
def test_gives_up_in_time():
    x = sp.Symbol("x")
    # no closed form: sympy raises inside the child, which says None (as it does on a timeout)
    assert solve_with_timeout(sp.exp(x) + x ** 3 * sp.sin(x) - sp.cos(sp.exp(x)), x, timeout=5) is None
    assert solve_with_timeout(x ** 5 - x - 1 - sp.log(x) * sp.exp(sp.sin(x)), x, timeout=0.01) is None


def test_substitute_and_real():
    a, b = sp.symbols("a b", real=True)
    assert substitute(a * b + 1, {"a": 2.0}) == 2.0 * b + 1
    assert real(sp.sqrt(2)) == math.sqrt(2)
    assert real(sp.sqrt(-2)) is None and real(sp.oo) is None and real(a) is None
