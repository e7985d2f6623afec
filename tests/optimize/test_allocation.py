"""Compute-optimal allocation, the cheapest configuration for a loss, and efficiency leverage."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import minimize_scalar

from lawfind import catalog
from lawfind.errors import FormulaError, OptionError
from lawfind.laws import parse_law
from lawfind.optimize import cheapest_config, compute_optimal, efficiency_leverage


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
    assert alloc.loss == pytest.approx(f(np.log(alloc.values["N"])), rel=1e-12)


@pytest.mark.slow
def test_allocation_intervals_from_the_replicates():
    law = catalog.get("chinchilla2022")
    vals = dict(law.reference)
    rng = np.random.default_rng(1)
    reps = [{**vals, "alpha": vals["alpha"] + rng.normal(0, 0.02), "beta": vals["beta"] + rng.normal(0, 0.02),
             "A": vals["A"] * np.exp(rng.normal(0, 0.1))} for _ in range(200)]
    alloc = compute_optimal(law, vals, budget=1e23, bootstrap=reps)
    # the exponent of N in C is beta / (alpha + beta) in every replicate: its percentiles, exactly
    shares = [r["beta"] / (r["alpha"] + r["beta"]) for r in reps]
    assert alloc.intervals["N"] == pytest.approx(tuple(np.percentile(shares, [2.5, 97.5])), rel=1e-9)
    assert alloc.intervals["D"] == pytest.approx(tuple(1 - np.percentile(shares, [97.5, 2.5])), rel=1e-9)
    lo, hi = alloc.intervals["N@C"]  # N_opt at the budget, per replicate
    assert lo < alloc.values["N"] < hi and hi / lo > 1.5
    assert "[95% CI" in alloc.describe() and alloc.as_dict()["intervals95"]["N"] == list(alloc.intervals["N"])
    assert compute_optimal(law, vals, budget=1e23).intervals == {}  # none without replicates


@pytest.mark.slow
def test_a_numeric_allocation_at_the_search_bound_says_there_is_no_interior_optimum(monkeypatch):
    import lawfind.optimize.allocation as allocation

    real_solve = allocation.solve_with_timeout

    def no_stationary_point(eq, x, timeout):  # sympy solves the budget for D, not dL/dN = 0: the numeric search runs
        return real_solve(eq, x, timeout) if x.name == "D" else None

    law = catalog.get("chinchilla2022")
    vals = dict(law.reference)
    closed = compute_optimal(law, vals, budget=1e23)
    monkeypatch.setattr(allocation, "solve_with_timeout", no_stationary_point)
    inner = compute_optimal(law, vals, budget=1e23)
    assert inner.method == "numeric" and inner.values["N"] == pytest.approx(closed.values["N"], rel=1e-3)
    edge = compute_optimal(law, {**vals, "A": 1e-6}, budget=1e23)  # N barely matters: everything to D
    assert edge.method.startswith("numeric, at the search's bound N = 1") and "no interior optimum" in edge.describe()


def test_the_cost_is_read_by_the_formula_parser():
    law = catalog.get("chinchilla2022")
    with pytest.raises(FormulaError, match=r"cannot read the cost '6\*N\*D\*x'.*unknown names \['x'\]"):
        compute_optimal(law, dict(law.reference), cost="6*N*D*x")
    with pytest.raises(FormulaError, match="cannot read the cost '6\\*N\\*'"):
        compute_optimal(law, dict(law.reference), cost="6*N*")
    with pytest.raises(OptionError, match="must involve both N and D"):
        compute_optimal(law, dict(law.reference), cost="6*N*G")


@pytest.mark.slow
def test_cheapest_configuration_reaches_the_loss_at_least_cost():
    law = catalog.get("chinchilla2022")
    vals = dict(law.reference)
    alloc = compute_optimal(law, vals, budget=1e22)
    cfg = cheapest_config(law, vals, alloc.loss, cost="6*N*D", over=("N", "D"))
    # the cheapest way to a loss is the compute-optimal point of the budget that reaches it
    assert cfg["cost"] == pytest.approx(1e22, rel=1e-4) and cfg["N"] == pytest.approx(alloc.values["N"], rel=1e-3)
    with pytest.raises(OptionError, match="no configuration within bounds reaches loss 1"):
        cheapest_config(law, vals, 1.0, cost="6*N*D", over=("N", "D"))


@pytest.mark.slow
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
