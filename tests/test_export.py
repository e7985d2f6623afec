"""LaTeX through the sympy printer, JSON round trips, numpy and torch callables."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from lawfind import catalog
from lawfind.export import latex, latex_fit, load_fit, numpy_callable, save_fit, torch_callable
from lawfind.fit import fit_law


def test_latex_precision_from_the_printer():
    x = sp.Symbol("N", positive=True)
    assert latex(sp.Float(406.4123) / x ** sp.Float(0.33987), precision=3) == r"L = \frac{406}{N^{0.340}}"
    assert latex(sp.Float(0.000123456) * x, precision=3) == r"L = 1.23 \cdot 10^{-4} \cdot N"
    assert latex(sp.Float(2085.4e6) * x, precision=2) == r"L = 2.1 \cdot 10^{9} \cdot N"
    assert "N_{a}" in latex(catalog.get("ludziejewski2025"))


def test_json_round_trip_and_callables(tmp_path, chinchilla_table):
    fit = fit_law(catalog.get("chinchilla2022"), chinchilla_table, n_starts=16, bootstrap=10)
    path = save_fit(tmp_path / "fit.json", fit)
    record = json.loads(path.read_text())
    assert set(record) >= {"expression", "parameters", "latex", "metrics", "data_hash"}
    assert record["parameters"]["alpha"]["interval95"][0] <= record["parameters"]["alpha"]["value"]
    law, values, _ = load_fit(path)
    N, D = chinchilla_table.X(["N", "D"])
    expected = fit.predict(chinchilla_table)
    np.testing.assert_allclose(numpy_callable(law, values)(N=N, D=D), expected, rtol=1e-12)
    # the expression string parses back to the same predictions
    expr = sp.sympify(record["expression"], locals={"N": sp.Symbol("N"), "D": sp.Symbol("D")})
    f = sp.lambdify([sp.Symbol("N"), sp.Symbol("D")], expr)
    np.testing.assert_allclose(f(N, D), expected, rtol=1e-10)
    torch = pytest.importorskip("torch")
    t = torch_callable(law, values)(N=torch.tensor(N), D=torch.tensor(D))
    np.testing.assert_allclose(t.numpy(), expected, rtol=1e-10)
    assert latex_fit(fit).startswith("L = ")


def test_torch_callable_handles_log10_laws():
    torch = pytest.importorskip("torch")
    law = catalog.get("clark2022")
    vals = {"a": -0.0838, "b": -0.124, "c": 0.0105, "d": 1.122, "E_start": 2.41, "E_max": 213.0}
    N, E = np.array([1e8, 3e8]), np.array([8.0, 64.0])
    expected = numpy_callable(law, vals)(N=N, E=E)
    np.testing.assert_allclose(torch_callable(law, vals)(N=torch.tensor(N), E=torch.tensor(E)).numpy(), expected)
