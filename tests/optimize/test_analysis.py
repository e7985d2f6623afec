"""analyse: everything 'lawfind optimize' derives from a law, as lines and as a JSON record."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lawfind import catalog
from lawfind.errors import OptionError
from lawfind.laws import parse_law
from lawfind.optimize import analyse, default_cost

from .conftest import HOOK, HOOK_VALUES, RANGES


def test_analyse_does_what_is_asked_and_no_more():
    law = parse_law(HOOK)
    found = analyse(law, HOOK_VALUES, wrt=["G"], ranges=RANGES, with_effects=True)
    assert [o.variable for o in found.optima] == ["G"] and found.optima[0].value == pytest.approx(np.exp(2))
    assert found.allocation is None and found.cheapest is None and found.leverage is None
    assert {e.variable: e.shape for e in found.effects}["G"] == "hook (minimum)"
    lines = found.lines()
    assert lines[0].startswith("law: L = ") and "no bootstrap replicates" in lines[1]
    assert any(line.startswith("G* = exp(-g1/(2*g2)) = 7.389") for line in lines)
    assert any(line.startswith("interaction D x Na: none (separable)") for line in lines)
    record = json.loads(json.dumps(found.as_dict()))
    assert set(record) == {"optima", "effects", "interactions"}


@pytest.mark.slow
def test_allocation_cheapest_and_leverage():
    law = catalog.get("chinchilla2022")
    vals = dict(law.reference)
    at_budget = analyse(law, vals, budget=1e22).allocation
    found = analyse(law, vals, budget=1e23, target_loss=at_budget.loss, dense=(law, vals), at={"N": 1e9, "D": 2e10})
    assert default_cost(law) == ("6*N*D", ("N", "D"))
    assert found.allocation.values["N"] * found.allocation.values["D"] * 6 == pytest.approx(1e23)
    assert found.cheapest["cost"] == pytest.approx(1e22, rel=1e-4)  # the budget whose optimum has that loss
    assert 0 < found.leverage < 1.0  # off its own frontier, a law is less efficient than itself
    assert set(found.as_dict()) == {"optima", "allocation", "cheapest", "efficiency_leverage"}
    assert any(line.startswith("efficiency leverage at N=1e+09,D=2e+10") for line in found.lines())


def test_effects_need_every_range_before_any_work(monkeypatch):
    monkeypatch.setattr("lawfind.optimize.analysis.stationary_point", lambda *a, **k: pytest.fail("work done"))
    with pytest.raises(OptionError, match=r"need the data's ranges of \['D'\]"):
        analyse(parse_law(HOOK), HOOK_VALUES, wrt=["G"], ranges={"G": (1, 24), "Na": (1e7, 1e9)}, with_effects=True)
