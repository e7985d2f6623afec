"""Optima with sympy: closed forms, their dependence, allocation, leverage, effects, LaTeX."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import minimize_scalar

from lawfind import catalog
from lawfind.cli import main
from lawfind.data import load_runs
from lawfind.effects import effects, interactions
from lawfind.fit import fit_law
from lawfind.laws import parse_law
from lawfind.optimize import compute_optimal, efficiency_leverage, stationary_point
from lawfind.planted import planted_law, sample

from .conftest import CLARK_FINAL

HOOK = "E0 + A*Na**(-alpha)*exp(g1*log(G) + g2*log(G)**2) + B*D**(-beta)"
HOOK_VALUES = dict(E0=1.7, A=50.0, alpha=0.24, g1=-0.24, g2=0.06, B=350.0, beta=0.27)
RANGES = {"G": (1.0, 24.0), "Na": (1e7, 1e9), "D": (1e10, 1e11), "N": (1e8, 1e10)}


def test_chinchilla_allocation_closed_form_and_numeric():
    law = catalog.get("chinchilla2022")
    vals = dict(law.reference)
    alloc = compute_optimal(law, vals, budget=1e23)
    assert alloc.method == "closed form"
    A, B, al, be = (law.symbol(n) for n in ("A", "B", "alpha", "beta"))
    C = sp.Symbol("C", positive=True)
    n_opt = alloc.closed_forms["N"]
    # the exponent is exactly beta / (alpha + beta)
    assert sp.simplify(C * sp.diff(n_opt, C) / n_opt - be / (al + be)) == 0
    # and the coefficient is G = (alpha A / (beta B))^(1/(alpha+beta)) with C/6, at random constants
    rng = np.random.default_rng(0)
    for _ in range(5):
        v = {A: rng.uniform(100, 3000), B: rng.uniform(100, 3000), al: rng.uniform(0.1, 0.6), be: rng.uniform(0.1, 0.6),
             C: 10 ** rng.uniform(18, 25)}
        g = (v[al] * v[A] / (v[be] * v[B])) ** (1 / (v[al] + v[be]))
        expected = g * (v[C] / 6) ** (v[be] / (v[al] + v[be]))
        assert float(n_opt.xreplace(v)) == pytest.approx(expected, rel=1e-10)
    # numerically: the loss along the budget line is least at N_opt
    f = lambda logn: (vals["E0"] + vals["A"] / np.exp(logn) ** vals["alpha"]  # noqa: E731
                      + vals["B"] / (1e23 / 6 / np.exp(logn)) ** vals["beta"])
    brute = np.exp(minimize_scalar(f, bounds=(10, 40), method="bounded", options={"xatol": 1e-12}).x)
    assert alloc.values["N"] == pytest.approx(brute, rel=1e-5)
    assert alloc.values["N"] * alloc.values["D"] * 6 == pytest.approx(1e23)
    assert alloc.exponents["N"] == pytest.approx(0.28 / 0.62)


def test_quadratic_hook_in_log_g_is_exact_and_independent():
    law = parse_law(HOOK)
    opt = stationary_point(law, HOOK_VALUES, "G", ranges=RANGES)
    g1, g2 = law.symbol("g1"), law.symbol("g2")
    assert opt.method == "closed form" and opt.kind == "minimum"
    assert sp.simplify(opt.closed_form - sp.exp(-g1 / (2 * g2))) == 0
    assert opt.value == pytest.approx(np.exp(2.0))
    assert opt.depends_on == () and set(opt.independent_of) == {"D", "Na"}
    assert "independent of D, Na" in opt.describe() and opt.in_range


def test_cross_term_makes_g_star_depend_on_n():
    law = parse_law(HOOK.replace("g2*log(G)**2", "g2*log(G)**2 + k*log(G)*log(N)"))
    vals = {**HOOK_VALUES, "k": -0.01}
    opt = stationary_point(law, vals, "G", ranges=RANGES, at={"N": 1e9})
    assert opt.depends_on == ("N",) and "depends on N" in opt.describe()
    assert opt.value == pytest.approx(np.exp((0.24 + 0.01 * np.log(1e9)) / 0.12))
    bigger = stationary_point(law, vals, "G", ranges=RANGES, at={"N": 1e10})
    assert bigger.value > opt.value


def test_optimum_outside_the_data_is_flagged():
    opt = stationary_point(parse_law(HOOK), {**HOOK_VALUES, "g1": -0.6}, "G", ranges=RANGES)
    assert opt.value == pytest.approx(np.exp(5.0)) and opt.in_range is False and "OUTSIDE" in opt.describe()


def test_numeric_fallback_says_so():
    law = parse_law("E0 + A*Na**(-alpha)*(1 + h*(log(G) - g0)**2 + q*sin(log(G)))")
    vals = dict(E0=1.7, A=50.0, alpha=0.24, h=0.05, g0=1.5, q=0.001)
    opt = stationary_point(law, vals, "G", ranges=RANGES, timeout=2)
    assert opt.kind == "minimum" and abs(np.log(opt.value) - 1.5) < 0.05
    if opt.method == "numeric":
        assert opt.closed_form is None and "numeric" in opt.describe()


def test_bootstrap_intervals_cover_the_planted_optima():
    table = load_runs(sample(planted_law("moe5"), n=450, noise=0.0075, seed=0))
    fit = fit_law(catalog.get("lawfind_moe5"), table, n_starts=32, bootstrap=60, seed=0)
    reps = [dict(zip(fit.values, row)) for row in fit.bootstrap]
    g = stationary_point(fit.law, fit.values, "G", ranges=table.ranges(), bootstrap=reps)
    s = stationary_point(fit.law, fit.values, "S", ranges=table.ranges(), bootstrap=reps)
    assert g.interval[0] <= np.exp(2.0) <= g.interval[1]
    assert s.interval[0] <= 0.7 / 2.2 <= s.interval[1]
    assert set(g.independent_of) == {"D", "N", "Na", "S"}


def test_effects_and_interactions():
    law = parse_law(HOOK)
    table = load_runs(sample(planted_law("chinchilla_ghook"), n=200, seed=1))
    eff = {e.variable: e for e in effects(law, HOOK_VALUES, table)}
    assert eff["G"].shape == "hook (minimum)" and eff["G"].turning_point == pytest.approx(np.exp(2), rel=0.02)
    assert eff["D"].shape == "decreasing" and eff["Na"].shape == "decreasing"
    inter = {i.pair: i for i in interactions(law, HOOK_VALUES, table)}
    assert inter[("D", "Na")].exactly_zero and inter[("D", "G")].exactly_zero
    assert not inter[("Na", "G")].exactly_zero and inter[("Na", "G")].median_abs > 0


def test_efficiency_leverage():
    dense = catalog.get("chinchilla2022")
    dvals = dict(dense.reference)
    # a "MoE" that is the dense law with 3x the effective parameters at equal activated compute
    moe = parse_law("E0 + A/(3*Na)**alpha + B/D**beta", ["Na", "D"])
    alloc = compute_optimal(dense, dvals, budget=1e21)
    config = {"Na": alloc.values["N"], "D": alloc.values["D"]}
    el = efficiency_leverage(moe, dvals, dense, dvals, config)
    assert el > 1.5
    same = parse_law("E0 + A/Na**alpha + B/D**beta", ["Na", "D"])
    assert efficiency_leverage(same, dvals, dense, dvals, config) == pytest.approx(1.0, rel=1e-6)


def test_clark_optimum_in_experts(clark_path):
    t = load_runs(clark_path, target="loss_validation", features="N=dense_parameter_count,E=num_experts",
                  where=f"{CLARK_FINAL} and router_type in ['S-Base', 'Dense']")
    fit = fit_law(catalog.get("clark2022"), t, n_starts=32, bootstrap=50)
    reps = [dict(zip(fit.values, row)) for row in fit.bootstrap]
    opt = stationary_point(fit.law, fit.values, "E", ranges=t.ranges(), bootstrap=reps)
    # experts keep helping up to 512 at these sizes: no interior optimum, in every replicate
    assert opt.kind == "none" and "50 of 50 bootstrap replicates also have no interior optimum" in opt.describe()
    hook = parse_law("L0 + K*N**(-a)*exp(b1*log(E) + b2*log(E)**2)", ["N", "E"], init={"K": (1, 100)})
    hf = fit_law(hook, t, n_starts=32, bootstrap=50)
    ho = stationary_point(hook, hf.values, "E", ranges=t.ranges(),
                          bootstrap=[dict(zip(hf.values, r)) for r in hf.bootstrap])
    assert not (ho.kind == "minimum" and ho.in_range)  # no optimum inside [1, 512]


def _derived_latex() -> list[str]:
    alloc = compute_optimal(catalog.get("chinchilla2022"), dict(catalog.get("chinchilla2022").reference), budget=1e23)
    moe5 = catalog.get("lawfind_moe5")
    moe_alloc = compute_optimal(moe5, cost="6*Na*D", allocate=("Na", "D"))  # symbols with subscripts: N_a
    law = parse_law(HOOK)
    opts = [stationary_point(law, HOOK_VALUES, "G", ranges=RANGES),
            stationary_point(parse_law(HOOK.replace("g2*log(G)**2", "g2*log(G)**2 + k*log(G)*log(N)")),
                             {**HOOK_VALUES, "k": -0.01}, "G", ranges=RANGES, at={"N": 1e9})]
    return alloc.latex() + moe_alloc.latex() + [o.latex() for o in opts]


def test_derived_latex_parses_back():
    from sympy.parsing.latex import parse_latex
    pytest.importorskip("lark")
    for tex in _derived_latex():
        lhs, _, rhs = tex.partition(" = ")
        expr = parse_latex(rhs, backend="lark")
        assert isinstance(expr, sp.Expr) and expr.free_symbols, tex


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex absent (apt-get install texlive-latex-base)")
def test_derived_latex_compiles(tmp_path):
    body = "\n".join(rf"\begin{{equation}}{t}\end{{equation}}" for t in _derived_latex())
    (tmp_path / "d.tex").write_text("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
                                    + body + "\n\\end{document}\n")
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert (tmp_path / "d.pdf").stat().st_size > 1000


def test_optimize_command(tmp_path, capsys):
    out = tmp_path / "opt.json"
    assert main(["optimize", "--law", "1.7 + 50*Na**-0.24*exp(-0.24*log(G) + 0.06*log(G)**2) + 350*D**-0.27",
                 "--wrt", "G", "--ranges", "G=1:24,Na=1e7:1e9,D=1e10:1e11", "--effects", "--out", str(out),
                 "--plots", str(tmp_path / "plots")]) == 0
    text = capsys.readouterr().out
    assert "G* = " in text and "independent of D, Na" in text and "hook (minimum)" in text
    record = json.loads(out.read_text())
    assert record["optima"][0]["value"] == pytest.approx(np.exp(2.0))
    assert (tmp_path / "plots" / "partial_dependence.png").exists()
    assert main(["export", str(out)]) == 0
    assert "{G}^{*} = 7.39" in capsys.readouterr().out
    assert main(["optimize", "--law", "1.7 + 400*N**-0.34 + x", "--wrt", "N"]) == 2
    assert "unknown names ['x']" in capsys.readouterr().err
