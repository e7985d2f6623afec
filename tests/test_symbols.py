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


@pytest.mark.parametrize("name,expected", [
    # sizes as researchers write them
    *[(n, "size") for n in ("N", "Na", "params", "parameters", "num_params", "n_params", "non_embedding_param_size",
                            "non_vocab_parameters", "N_active", "N_dense", "model_size", "dense_parameter_count")],
    # amounts of data (unique tokens too: more unique data at fixed tokens lowers the loss)
    *[(n, "data") for n in ("D", "tokens", "num_tokens", "data_size", "num_characters", "D1", "D2", "D_train",
                            "unique_tokens")],
    *[(n, "compute") for n in ("C", "flops")],
    # counts, settings and ratios are never sizes or data: hooks
    *[(n, "shape") for n in ("E", "G", "S", "P", "num_experts", "parallel_size", "vocab_size", "lr", "bsz",
                             "batch_size", "seq_len", "context_length", "proportion_domain_1", "tokens_per_param",
                             "n_layers", "N_layers", "batch_tokens", "width")],
])
def test_roles_from_the_names_researchers_write(name, expected):
    assert symbols.infer_role(name) == expected
