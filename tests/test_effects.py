"""Effects of each variable, interactions of pairs, and the grids that plots read."""

from __future__ import annotations

import numpy as np
import pytest

from lawfind.data import load_runs
from lawfind.effects import design_table, effects, interactions, loss_surface, partial_dependence
from lawfind.errors import OptionError
from lawfind.laws import parse_law
from lawfind.planted import planted_law, sample

HOOK = "E0 + A*Na**(-alpha)*exp(g1*log(G) + g2*log(G)**2) + B*D**(-beta)"
HOOK_VALUES = dict(E0=1.7, A=50.0, alpha=0.24, g1=-0.24, g2=0.06, B=350.0, beta=0.27)
RANGES = {"G": (1.0, 24.0), "Na": (1e7, 1e9), "D": (1e10, 1e11)}


def test_effects_and_interactions():
    law = parse_law(HOOK)
    table = load_runs(sample(planted_law("chinchilla_ghook"), n=200, seed=1))
    eff = {e.variable: e for e in effects(law, HOOK_VALUES, table)}
    assert eff["G"].shape == "hook (minimum)" and eff["G"].turning_point == pytest.approx(np.exp(2), rel=0.02)
    assert eff["D"].shape == "decreasing" and eff["Na"].shape == "decreasing"
    # sizes in nats per e-fold: |dL/dln D| = beta B D^-beta, its median over the runs
    D = table.frame["D"].to_numpy()
    assert eff["D"].size == pytest.approx(np.median(0.27 * 350 * D ** -0.27), rel=1e-9)
    inter = {i.pair: i for i in interactions(law, HOOK_VALUES, table)}
    assert inter[("D", "Na")].exactly_zero and inter[("D", "G")].exactly_zero
    assert not inter[("Na", "G")].exactly_zero and inter[("Na", "G")].median_abs > 0


def test_effect_of_a_linear_variable_is_per_unit():
    law = parse_law("E0 + A*Na**(-alpha) + c*(S - s0)**2")
    vals = dict(E0=1.7, A=45.0, alpha=0.23, c=0.12, s0=0.3)
    eff = {e.variable: e for e in effects(law, vals, design_table(law, {"Na": (1e7, 1e9), "S": (0, 0.7)}))}
    assert eff["S"].shape == "hook (minimum)" and eff["S"].turning_point == pytest.approx(0.3, abs=1e-3)


def test_design_table_spreads_each_variable_on_its_scale():
    law = parse_law("E0 + A*Na**(-alpha)*(N/Na)**(-rho) + c*S")
    t = design_table(law, {"Na": (1e7, 1e9), "N": (1e8, 1e10), "S": (0.0, 0.7)}, n=2000)
    logs = np.log10(t.frame["N"])
    assert 8 <= logs.min() and logs.max() <= 10 and abs(np.median(logs) - 9) < 0.1  # log-uniform
    assert abs(np.median(t.frame["S"]) - 0.35) < 0.03  # uniform
    assert (t.frame["Na"] <= t.frame["N"]).all()
    with pytest.raises(OptionError, match=r"need the data's ranges of \['S'\]"):
        design_table(law, {"Na": (1e7, 1e9), "N": (1e8, 1e10)})


def test_partial_dependence_and_loss_surface():
    law = parse_law(HOOK)
    table = design_table(law, RANGES)
    curves = partial_dependence(law, HOOK_VALUES, table, n=101)
    x, y = curves["G"]
    assert x[0] == pytest.approx(table.frame["G"].min()) and np.all(np.diff(np.log(x)) > 0)
    assert x[np.argmin(y)] == pytest.approx(np.exp(2), rel=0.05)
    A, B, Z = loss_surface(law, HOOK_VALUES, table, ("G", "D"), n=30)
    assert A.shape == B.shape == Z.shape == (30, 30) and np.isfinite(Z).all()
    # along G at the largest D the loss is lowest, as B D^-beta falls
    assert Z[-1].min() < Z[0].min()
