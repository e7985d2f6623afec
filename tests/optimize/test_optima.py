"""Stationary points: exact closed forms, their dependence, the numeric fallback, intervals."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from lawfind import catalog
from lawfind.data import load_runs
from lawfind.errors import OptionError
from lawfind.fit import fit_law
from lawfind.laws import parse_law
from lawfind.optimize import reparametrise, stationary_point
from lawfind.planted import planted_law, sample
from lawfind.symbols import symbol

from ..conftest import CLARK_FINAL
from .conftest import HOOK, HOOK_VALUES, RANGES


def test_quadratic_hook_in_log_g_is_exact_and_independent():
    law = parse_law(HOOK)
    opt = stationary_point(law, HOOK_VALUES, "G", ranges=RANGES)
    g1, g2 = law.symbol("g1"), law.symbol("g2")
    assert opt.method == "closed form" and opt.kind == "minimum"
    assert sp.simplify(opt.closed_form - sp.exp(-g1 / (2 * g2))) == 0
    assert opt.value == pytest.approx(np.exp(2.0))
    assert opt.depends_on == () and set(opt.independent_of) == {"D", "Na"}
    assert "independent of D, Na" in opt.describe() and opt.in_range


@pytest.mark.slow
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


def test_forced_numeric_fallback_finds_the_known_optimum(monkeypatch):
    monkeypatch.setattr("lawfind.optimize.optima.solve_with_timeout", lambda *a, **k: None)  # sympy gives up
    law = parse_law(HOOK.replace("g2*log(G)**2", "g2*log(G)**2 + k*log(G)*log(N)"))
    vals = {**HOOK_VALUES, "k": -0.01}
    opt = stationary_point(law, vals, "G", ranges=RANGES, at={"N": 1e9})
    assert opt.method == "numeric" and opt.closed_form is None and opt.kind == "minimum"
    assert opt.value == pytest.approx(np.exp((0.24 + 0.01 * np.log(1e9)) / 0.12), rel=1e-6)
    assert opt.depends_on == ("N",) and set(opt.independent_of) == {"D", "Na"}
    assert opt.notes == ("sympy found no closed form in time",) and "(numeric, minimum" in opt.describe()


def test_numeric_fallback_in_a_linear_variable(monkeypatch):
    monkeypatch.setattr("lawfind.optimize.optima.solve_with_timeout", lambda *a, **k: None)
    law = parse_law("E0 + A*Na**(-alpha) + c*(S - s0)**2")
    opt = stationary_point(law, dict(E0=1.7, A=45.0, alpha=0.23, c=0.12, s0=0.3), "S", ranges={"S": (0, 0.7)},
                           at={"Na": 1e8})
    assert opt.method == "numeric" and opt.value == pytest.approx(0.3, abs=1e-7) and opt.depends_on == ()


def test_monotonic_law_has_no_interior_optimum():
    opt = stationary_point(catalog.get("chinchilla2022"), dict(catalog.get("chinchilla2022").reference), "N",
                           ranges={"N": (1e8, 1e10), "D": (1e10, 1e11)})
    assert opt.kind == "none" and opt.latex() is None and "monotonic" in opt.describe()


def test_reparametrise_with_the_activation_ratio():
    law = parse_law("E0 + A*Na**(-alpha)*(N/Na)**(-rho) + B*D**(-beta)")
    expr, replaced = reparametrise(law.expr, "Na = r*N")
    assert replaced == {"Na": symbol("r") * symbol("N")} and "Na" not in {s.name for s in expr.free_symbols}
    vals = dict(E0=1.7, A=50.0, alpha=0.24, rho=0.3, B=350.0, beta=0.27)
    opt = stationary_point(law, vals, "r", reparam="Na=r*N", ranges={"Na": (1e7, 1e9), "N": (1e8, 1e10),
                                                                     "D": (1e10, 1e11)})
    assert opt.data_range == pytest.approx((1e7 / 1e10, 1.0))  # r's range, from those of Na and N
    for bad, message in [("Na", "write VARIABLE=EXPRESSION"), ("Q=r*N", "no variable 'Q'"),
                         ("Na=r*", "cannot read the reparametrisation 'Na=r\\*'")]:
        with pytest.raises(OptionError, match=message):
            reparametrise(law.expr, bad)


@pytest.mark.slow
def test_bootstrap_intervals_cover_the_planted_optima():
    table = load_runs(sample(planted_law("moe5"), n=450, noise=0.0075, seed=0))
    fit = fit_law(catalog.get("lawfind_moe5"), table, n_starts=32, bootstrap=60, seed=0)
    reps = [dict(zip(fit.values, row)) for row in fit.bootstrap]
    g = stationary_point(fit.law, fit.values, "G", ranges=table.ranges(), bootstrap=reps)
    s = stationary_point(fit.law, fit.values, "S", ranges=table.ranges(), bootstrap=reps)
    assert g.interval[0] <= np.exp(2.0) <= g.interval[1]
    assert s.interval[0] <= 0.7 / 2.2 <= s.interval[1]
    assert set(g.independent_of) == {"D", "N", "Na", "S"}


@pytest.mark.slow
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


def test_unknown_variable():
    with pytest.raises(OptionError, match="the law does not depend on 'Q'"):
        stationary_point(parse_law(HOOK), HOOK_VALUES, "Q")
