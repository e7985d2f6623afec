"""How results read: one line, LaTeX that parses back to the same expression, JSON records."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp

from lawfind import catalog
from lawfind.export import latex
from lawfind.laws import parse_law
from lawfind.optimize import Optimum, compute_optimal, stationary_point

from .conftest import HOOK, HOOK_VALUES, RANGES


def _derived() -> list[tuple[str, sp.Expr]]:
    """LaTeX of derived optima with the expressions they print."""
    chin = catalog.get("chinchilla2022")
    alloc = compute_optimal(chin, dict(chin.reference), budget=1e23)
    moe_alloc = compute_optimal(catalog.get("lawfind_moe5"), cost="6*Na*D", allocate=("Na", "D"))  # N_a
    opts = [stationary_point(parse_law(HOOK), HOOK_VALUES, "G", ranges=RANGES),
            stationary_point(parse_law(HOOK.replace("g2*log(G)**2", "g2*log(G)**2 + k*log(G)*log(N)")),
                             {**HOOK_VALUES, "k": -0.01}, "G", ranges=RANGES, at={"N": 1e9})]
    out = [(t, e) for a in (alloc, moe_alloc) for t, e in zip(a.latex(), a.closed_forms.values())]
    return out + [(o.latex(), o.closed_form) for o in opts]


@pytest.mark.slow
def test_derived_latex_parses_back_to_the_same_expression():
    pytest.importorskip("lark")
    from sympy.parsing.latex import parse_latex

    rng = np.random.default_rng(0)
    for tex, expr in _derived():
        parsed = parse_latex(tex.partition(" = ")[2], backend="lark")
        parsed = parsed.xreplace({s: sp.E for s in parsed.free_symbols if s.name == "e"})  # e^x is exp(x)
        by_name = {latex(s, lhs=None).lstrip("\\"): s for s in expr.free_symbols}
        assert {str(s.name) for s in parsed.free_symbols} == set(by_name), tex
        for _ in range(3):  # equal at random points (constants in (0.2, 0.9), C a real budget)
            point = {name: 1e21 if name == "C" else rng.uniform(0.2, 0.9) for name in by_name}
            a = complex(sp.N(expr.xreplace({by_name[n]: v for n, v in point.items()}), 30))
            b = complex(sp.N(parsed.xreplace({s: point[str(s.name)] for s in parsed.free_symbols}), 30))
            assert b == pytest.approx(a, rel=1e-12), tex


def test_a_wrong_latex_would_fail_the_round_trip():
    from sympy.parsing.latex import parse_latex

    pytest.importorskip("lark")
    g1, g2 = sp.symbols("g1 g2", real=True)
    parsed = parse_latex(r"e^{- \frac{g_{1}}{2 \cdot g_{2}}}", backend="lark")
    wrong = sp.exp(-g1 / g2)
    point = {"g_{1}": 0.3, "g_{2}": 0.5}
    a = complex(sp.N(wrong.xreplace({g1: 0.3, g2: 0.5})))
    b = complex(sp.N(parsed.xreplace({s: sp.E if s.name == "e" else point[str(s.name)] for s in parsed.free_symbols})))
    assert b != pytest.approx(a, rel=1e-6)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex absent (apt-get install texlive-latex-base)")
def test_derived_latex_compiles(tmp_path):
    body = "\n".join(rf"\begin{{equation}}{t}\end{{equation}}" for t, _ in _derived())
    (tmp_path / "d.tex").write_text("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
                                    + body + "\n\\end{document}\n")
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]  # -halt-on-error: any LaTeX error fails the run
    assert "Output written on d.pdf (1 page" in proc.stdout, proc.stdout[-2000:]


def test_one_line_views_and_json_record():
    g1, g2 = sp.symbols("g1 g2", real=True)
    opt = Optimum("G", sp.exp(-g1 / (2 * g2)), 7.389, "closed form", "minimum", (), ("D", "Na"), (1.0, 24.0), True,
                  (6.0, 9.0))
    assert opt.describe() == ("G* = exp(-g1/(2*g2)) = 7.389 [95% CI 6, 9] (closed form, minimum, inside the data's "
                              "range [1, 24]): independent of D, Na")
    assert opt.latex() == r"{G}^{*} = e^{- \frac{g_{1}}{2 \cdot g_{2}}}"
    record = json.loads(json.dumps(opt.as_dict()))
    assert record["closed_form"] == "exp(-g1/(2*g2))" and record["interval95"] == [6.0, 9.0]
    assert record["latex"] == opt.latex() and record["description"] == opt.describe()
    numeric = Optimum("S", None, 0.3, "numeric", "minimum", (), ())
    assert numeric.latex() == r"{S}^{*} \approx 0.300" and numeric.as_dict()["closed_form"] is None
