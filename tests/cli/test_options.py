"""Bad option values are refused with one 'error:' line and exit 2, before any work and with nothing written."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lawfind.cli import main
from lawfind.export import write_json
from lawfind.planted import planted_law

from .conftest import one_line_error

POINT = "N=1e8,Na=1e7,G=4,S=0.1,D=1e10"


@pytest.fixture()
def moe_json(tmp_path):
    """A fit file of the planted moe5 law with its constants, data ranges and 40 bootstrap replicates."""
    planted = planted_law("moe5")
    law, names = planted.law(), list(planted.values)
    rng = np.random.default_rng(0)
    reps = [[planted.values[n] * (1 + 0.01 * rng.normal()) for n in names] for _ in range(40)]
    ranges = {"N": [1e7, 1e9], "Na": [1e6, 1e9], "D": [1e9, 1e11], "G": [1, 32], "S": [0.0, 0.5]}
    return write_json(tmp_path / "moe.json", {
        "formula": str(law.expr), "variables": list(law.variables),
        "parameters": {k: {"value": v} for k, v in planted.values.items()}, "ranges": ranges,
        "bootstrap_samples": {"names": names, "values": reps}})


@pytest.mark.parametrize("argv, message", [
    (["--wrt", "G", "--at", "G=nan"], "'G=nan' is not finite"),
    (["--wrt", "G", "--at", "G=inf"], "'G=inf' is not finite"),
    (["--wrt", "G", "--at", "Q=1,N=1e9"], "unknown variable 'Q' in 'Q=1,N=1e9'; known: D, N, Na, G, S"),
    (["--wrt"], "--wrt needs at least one variable"),
    (["--wrt", "G", "--ranges", "G=16:2"], "the range 'G=16:2' is reversed: write LOW:HIGH, G=2:16"),
])
def test_optimize_options(moe_json, tmp_path, capsys, argv, message):
    out = tmp_path / "opt.json"
    assert main(["optimize", str(moe_json), *argv, "--out", str(out)]) == 2
    assert message in one_line_error(capsys)
    assert not out.exists()


@pytest.mark.parametrize("point, message", [
    (POINT.replace("G=4", "G=0"), "G=0 is outside the domain of a scaling law: G (activated routed experts per "
                                  "token) must be > 0"),
    (POINT.replace("S=0.1", "S=-0.1"), "S=-0.1 is outside the domain of a scaling law: S (shared-expert ratio) "
                                       "must be in [0, 1)"),
])
def test_predict_refuses_points_outside_the_domain(moe_json, tmp_path, capsys, point, message):
    out = tmp_path / "p.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warnings on the way either
        assert main(["predict", str(moe_json), "--at", point, "--out", str(out)]) == 2
    assert message in one_line_error(capsys)
    assert not out.exists()


def test_predict_average_zero(moe_json, tmp_path, capsys):
    out = tmp_path / "p.csv"
    assert main(["predict", str(moe_json), "--at", POINT, "--average", "0", "--out", str(out)]) == 2
    assert "argument --average: must be >= 1, got 0" in one_line_error(capsys)
    assert not out.exists()


def test_suggest_reversed_ranges(moe_json, tmp_path, capsys, no_work):
    no_work("lawfind.cli.suggest.suggest")
    assert main(["suggest", str(moe_json), "--target", "G*", "--ranges", "N=4e10:1e8",
                 "--out", str(tmp_path / "next")]) == 2
    assert "argument --ranges: the range 'N=4e10:1e8' is reversed: write LOW:HIGH, N=1e8:4e10" in one_line_error(capsys)
    assert not (tmp_path / "next").exists()


@pytest.mark.slow  # sympy's solve runs to its 20 s limit, twice
def test_optimize_budget_says_what_is_missing(tmp_path, capsys):
    # no closed form: the allocation at the budget is numeric, and needs N (it crashed with a TypeError)
    law = "1.7 + 400*Na**-0.3*N**-0.05*(1 + 0.1*log(Na)**2) + 400*D**-0.28"
    out = tmp_path / "opt.json"
    argv = ["optimize", "--law", law, "--budget", "1e15", "--allocate", "Na,D", "--out", str(out)]
    assert main(argv) == 2
    assert "the allocation at a budget needs the values of N: give them with --at" in one_line_error(capsys)
    assert not out.exists()
    assert main([*argv, "--at", "N=1e10"]) == 0
    assert "(numeric" in capsys.readouterr().out and out.exists()

