"""The project's symbols: one scale rule, roles, canonical symbols and positions along a scale."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from lawfind import symbols
from lawfind.symbols import canonical, interpolate, role, scale, symbol


def test_scale_rule():
    assert scale("S") == "linear"
    assert {scale(v) for v in ("D", "N", "Na", "G", "E", "C", "r", "num_experts")} == {"log"}


def test_roles_and_meanings():
    assert (role("N"), role("Na"), role("D"), role("G"), role("C"), role("num_experts")) == \
        ("size", "size", "data", "shape", "compute", "shape")
    assert set(symbols.MEANINGS) == set(symbols.CANONICAL)


def test_symbols_carry_assumptions():
    assert symbol("N").is_positive and symbol("S").is_nonnegative and symbol("S").is_positive is None
    assert symbol("num_experts") == sp.Symbol("num_experts", positive=True)


def test_canonical_replaces_variables_only():
    N, A = sp.Symbol("N", real=True), sp.Symbol("A", real=True)
    out = canonical(A * N + sp.Symbol("x"), ["N", "x"])
    assert out == A * symbols.N + sp.Symbol("x", positive=True)
    assert canonical(A * N) == A * symbols.N  # default: the canonical names
    assert canonical(A * N).free_symbols & {A} == {A}  # parameters are left as they are


def test_interpolate_on_each_scale():
    assert interpolate("N", 1e6, 1e8, 0.5) == pytest.approx(1e7)  # geometric middle
    assert interpolate("S", 0.0, 0.6, 0.5) == pytest.approx(0.3)
    assert interpolate("G", 0.0, 4.0, 0.5) == pytest.approx(2.0)  # lo <= 0: arithmetic
    grid = interpolate("D", 1e9, 1e11, np.linspace(0, 1, 3))
    np.testing.assert_allclose(grid, [1e9, 1e10, 1e11])
    assert isinstance(interpolate("N", 1.0, 4.0, 0.5), float)
