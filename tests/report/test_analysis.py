"""The optima of a discovered law for its report (optima.json)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from lawfind import catalog
from lawfind.report import analyse_discovery


@pytest.mark.slow
def test_optima_of_the_small_discovery_hold_the_planted_ones(discovered):
    opt = json.loads((discovered / "optima.json").read_text())
    by = {o["variable"]: o for o in opt["optima"]}
    g, s, r = by["G"], by["S"], by["r"]
    # planted moe5: G* = exp(0.24 / (2 * 0.06)) = e^2, S* = 0.7 / (2 * 1.1)
    assert g["closed_form"] == "exp(-g1/(2*g2))" and g["kind"] == "minimum"
    assert g["interval95"][0] < math.exp(2) < g["interval95"][1] and abs(g["value"] - math.exp(2)) < 0.5
    assert s["interval95"][0] < 0.7 / 2.2 < s["interval95"][1]
    assert g["independent_of"] == ["D", "N", "Na", "S"] and s["depends_on"] == []
    assert r["label"] == "Na/N" and r["kind"] == "none"  # more activated parameters always help here
    assert opt["n_replicates"] == 20
    # the allocation under 6 Na D = C spends the budget; where the chosen law gives it in closed form
    # (no size term beside Na), the exponents of Na and D add up to one, each inside its interval. With
    # the numerics of today's scipy the small search keeps a weak N**0.07 term beside Na, and the
    # allocation is numeric: no exponents.
    alloc = opt["allocation"]
    runs = pd.read_csv(discovered / "runs.csv")
    assert alloc["budget"] == pytest.approx(float((6 * runs["Na"] * runs["D"]).max()), rel=1e-12)
    assert alloc["values"]["Na"] * alloc["values"]["D"] * 6 == pytest.approx(alloc["budget"], rel=1e-9)
    assert alloc["method"].startswith("numeric") == (not alloc["exponents"])
    if alloc["exponents"]:
        assert alloc["exponents"]["Na"] + alloc["exponents"]["D"] == pytest.approx(1, abs=1e-9)
        for v in ("Na", "D"):
            lo, hi = alloc["intervals95"][v]
            assert lo < alloc["exponents"][v] < hi
            lo, hi = alloc["intervals95"][f"{v}@C"]
            assert lo < alloc["values"][v] < hi
    shapes = {e["variable"]: e["shape"] for e in opt["effects"]}
    assert shapes == {"D": "decreasing", "N": "decreasing", "Na": "decreasing", "G": "hook (minimum)",
                      "S": "hook (minimum)"}


def test_a_dense_law_has_no_stationary_point_and_chinchillas_allocation():
    law = catalog.get("chinchilla2022")
    values = dict(law.reference)
    ranges = {"N": (1e7, 1e10), "D": (1e9, 1e12)}
    runs = pd.DataFrame({"N": [1e7, 1e10], "D": [1e12, 1e11]})
    opt = analyse_discovery(law, values, ranges, runs=runs, n_jobs=1)
    assert opt["optima"] == [] and opt["allocation_note"] == "" and opt["cost"] == "6*N*D"
    alloc = opt["allocation"]
    assert alloc["budget"] == pytest.approx(6e21)
    beta_share = values["beta"] / (values["alpha"] + values["beta"])
    assert alloc["exponents"]["N"] == pytest.approx(beta_share) and alloc["intervals95"] == {}
    assert opt["at"] == pytest.approx({"N": np.sqrt(1e17), "D": np.sqrt(1e21)})


def test_a_law_without_both_allocated_variables_says_so():
    law = catalog.get("clark2022")  # in N and E: no tokens to allocate
    opt = analyse_discovery(law, dict(law.reference), {"N": (1e7, 1e9), "E": (1, 512)}, n_jobs=1)
    assert opt["allocation"] is None
    assert opt["allocation_note"] == "no compute-optimal allocation: the law does not read both N and D"
    assert [e["variable"] for e in opt["effects"]] == ["N", "E"]


@pytest.mark.slow
def test_a_question_the_law_cannot_answer_is_noted_and_the_rest_goes_on(monkeypatch):
    import lawfind.report.analysis as analysis
    from lawfind.errors import OptionError

    real = analysis.analyse

    def no_effects(law, values, **kw):
        if kw.get("with_effects"):
            raise OptionError("effects and plots need the data's ranges of ['D']: give --ranges NAME=LOW:HIGH")
        return real(law, values, **kw)

    monkeypatch.setattr(analysis, "analyse", no_effects)
    law = catalog.get("chinchilla2022")
    opt = analyse_discovery(law, dict(law.reference), {"N": (1e7, 1e10), "D": (1e9, 1e12)}, n_jobs=1)
    assert opt["notes"] == ["effects: effects and plots need the data's ranges of ['D']: give --ranges NAME=LOW:HIGH"]
    assert opt["effects"] == [] and opt["allocation"]["method"] == "closed form"
