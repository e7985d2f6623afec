"""LaTeX through the sympy printer, JSON round trips, numpy and torch callables."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from lawfind import catalog
from lawfind.errors import LawfindError
from lawfind.export import booktabs, latex, latex_fit, latex_record, mathml, numpy_callable, torch_callable, write_json
from lawfind.fit import fit_law
from lawfind.record import load_fit, save_fit


def test_latex_precision_from_the_printer():
    x = sp.Symbol("N", positive=True)
    assert latex(sp.Float(406.4123) / x ** sp.Float(0.33987), precision=3) == r"L = \frac{406}{N^{0.340}}"
    assert latex(sp.Float(0.000123456) * x, precision=3) == r"L = 1.23 \cdot 10^{-4} \cdot N"
    assert latex(sp.Float(2085.4e6) * x, precision=2) == r"L = 2.1 \cdot 10^{9} \cdot N"
    assert "N_{a}" in latex(catalog.get("ludziejewski2025"))


def test_mathml_numbers_names_and_powers_as_the_latex():
    n, na, g = (sp.Symbol(v, positive=True) for v in ("N", "Na", "G"))
    out = mathml(sp.Float(406.4123) / n ** sp.Float(0.33987) + sp.Float(3.02e18) * na, precision=3)
    assert out.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><mrow><mi>L</mi><mo>=</mo>')
    assert "<mfrac><mn>406</mn><msup><mi>N</mi><mn>0.340</mn></msup></mfrac>" in out
    assert "<mn>3.02</mn><mo>\u00b7</mo><msup><mn>10</mn><mn>18</mn></msup>" in out
    assert "<msub><mi>N</mi><mi>a</mi></msub>" in out  # Na is N with a subscript a
    # a power of a function is parenthesised: (log G)^2, not log(G)^2
    assert "<msup><mrow><mo>(</mo><mrow><mi>log</mi>" in mathml(sp.log(g) ** 2, lhs=None)
    inline = mathml(sp.Symbol("alpha") + sp.Symbol("lambda_") + sp.Symbol("E0"), lhs=None, display="inline")
    assert 'display="inline"' in inline and "<mi>L</mi>" not in inline
    assert "<mi>\u03b1</mi>" in inline and "<mi>\u03bb</mi>" in inline and "<msub><mi>E</mi><mi>0</mi></msub>" in inline
    # a column's name stays whole; a letter with a subscript gets one
    assert "<mi>dense_parameter_count</mi>" in mathml(sp.Symbol("dense_parameter_count"), lhs=None)
    assert "<msub><mi>E</mi><mi>start</mi></msub>" in mathml(sp.Symbol("E_start"), lhs=None)


@pytest.mark.parametrize("name,tex,mml", [
    ("dense_parameter_count", r"\mathrm{dense\_parameter\_count}", "<mi>dense_parameter_count</mi>"),
    ("active_params", r"\mathrm{active\_params}", "<mi>active_params</mi>"),
    ("num_experts", r"\mathrm{num\_experts}", "<mi>num_experts</mi>"),
    ("N_c", "N_{c}", "<msub><mi>N</mi><mi>c</mi></msub>"),
    ("E_start", r"E_{\mathrm{start}}", "<msub><mi>E</mi><mi>start</mi></msub>"),
    ("beta_C", r"\beta_{C}", "<msub><mi>\u03b2</mi><mi>C</mi></msub>"),
    ("x_1", "x_{1}", "<msub><mi>x</mi><mi>1</mi></msub>"),
])
def test_a_column_name_prints_whole_a_subscripted_symbol_with_its_subscript(name, tex, mml):
    """A table column (``dense_parameter_count``) is one upright name in LaTeX and one <mi> in MathML,
    not ``d`` with a subscript; a letter with a subscript keeps it, in both."""
    x = sp.Symbol(name, positive=True)
    assert latex(x, lhs=None) == tex
    assert mathml(x, lhs=None) == f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><mrow>{mml}</mrow></math>'
    assert latex(sp.Float(2.0) * x ** sp.Float(0.34), lhs=None) == rf"2.00 \cdot {tex}^{{0.340}}"


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


def test_one_booktabs_builder():
    tex = booktabs(["$k$", "Law"], [["3", "$N^{-a}$"], ["4", "$D^{-b}$"]], "Laws & 50% of runs", "rl")
    assert tex.splitlines() == [r"\begin{table}[t]", r"\centering", r"\begin{tabular}{rl}", r"\toprule",
                                r"$k$ & Law \\", r"\midrule", r"3 & $N^{-a}$ \\", r"4 & $D^{-b}$ \\", r"\bottomrule",
                                r"\end{tabular}", r"\caption{Laws \& 50\% of runs}", r"\end{table}"]


def test_one_json_writer(tmp_path):
    x = sp.Symbol("x")
    path = write_json(tmp_path / "sub" / "r.json", {"a": np.float32(0.5), "n": np.int64(3), "v": np.arange(2),
                                                    "e": sp.Float(0.1) * x, "t": (1, 2), "b": np.bool_(True)})
    record = json.loads(path.read_text())
    assert sp.sympify(record.pop("e"), locals={"x": x}) == sp.Float(0.1) * x  # sympy at full precision
    assert record == {"a": 0.5, "n": 3, "v": [0, 1], "t": [1, 2], "b": True}


@pytest.mark.parametrize("content,message", [
    ("{", "is not a lawfind JSON file"),
    ("[1]", "it holds a list, not a record"),
    ('{"formula": "A/N**a", "variables": ["N"]}', "lacks 'parameters'"),
    ('{"formula": "A/N**a", "variables": ["N"], "parameters": {"A": 1}}', "is not a lawfind fit: TypeError"),
    ('{"formula": "A/N**", "variables": ["N"], "parameters": {}}', "cannot parse the formula"),
])
def test_load_fit_refuses_what_it_cannot_read(tmp_path, content, message):
    (tmp_path / "f.json").write_text(content)
    with pytest.raises(LawfindError, match=message):
        load_fit(tmp_path / "f.json")


def test_latex_record_lists_the_law_then_its_optima():
    law = catalog.get("chinchilla2022")
    record = {"optima": [{"latex": "{G}^{*} = 7.39", "description": "G* = 7.39"},
                         {"latex": None, "description": "S*: no interior optimum in S"}],
              "allocation": {"latex": [r"{N}_{\mathrm{opt}} = C"]}}
    lines = latex_record(law, dict(law.reference), record, precision=2).splitlines()
    assert lines[:3] == [r"\begin{equation}", latex(law.substitute(law.reference), 2), r"\end{equation}"]
    assert lines[3:] == [r"\begin{equation}", "{G}^{*} = 7.39", r"\end{equation}", "% S*: no interior optimum in S",
                         r"\begin{equation}", r"{N}_{\mathrm{opt}} = C", r"\end{equation}"]
