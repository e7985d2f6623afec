"""A law as standalone Python: SLDBench's ``law(input_data, group)`` signature, numpy only, the same numbers
as lawfind's own prediction, constants per group, the table's own column names."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from lawfind.errors import OptionError
from lawfind.laws import parse_law
from lawfind.pyexport import load_python_law, python_source

LAW = parse_law("E + A/N**alpha + B/D**beta", ["N", "D"], params=["E"])
VALUES = {"E": 1.69, "A": 406.4, "alpha": 0.34, "B": 410.7, "beta": 0.28}


def _by_hand(n, d, v=VALUES):
    return v["E"] + v["A"] / n ** v["alpha"] + v["B"] / d ** v["beta"]


def test_the_function_predicts_what_the_law_says_under_the_tables_column_names():
    src = python_source(LAW, VALUES, columns={"N": "params", "D": "tokens"}, target="lm_loss")
    law = load_python_law(src)
    rows = [{"params": 1e8, "tokens": 2e9, "other": "x"}, {"params": 7e9, "tokens": 1.4e12, "other": "y"}]
    out = law(rows, "any group")
    assert [set(r) for r in out] == [{"lm_loss"}, {"lm_loss"}]
    expected = [_by_hand(1e8, 2e9), _by_hand(7e9, 1.4e12)]
    np.testing.assert_allclose([r["lm_loss"] for r in out], expected, rtol=1e-12)
    # lawfind's own compiled law agrees
    theta = [VALUES[p] for p in LAW.param_names]
    cols = [np.array([1e8, 7e9]) if v == "N" else np.array([2e9, 1.4e12]) for v in LAW.variables]
    np.testing.assert_allclose(LAW.compiled(theta, cols), expected, rtol=1e-12)


def test_constants_per_group_and_an_unknown_group_is_named():
    other = dict(VALUES, E=2.5, A=100.0)
    law = load_python_law(python_source(LAW, {"pile": VALUES, "c4": other}))
    row = [{"N": 1e9, "D": 1e11}]
    assert law(row, "pile")[0]["loss"] == pytest.approx(_by_hand(1e9, 1e11))
    assert law(row, "c4")[0]["loss"] == pytest.approx(_by_hand(1e9, 1e11, other))
    with pytest.raises(KeyError, match="no constants for group 'wiki'.*c4.*pile"):
        law(row, "wiki")


def test_the_source_runs_without_lawfind_or_sympy():
    src = python_source(LAW, VALUES)
    code = ("import sys; sys.modules['lawfind'] = None; sys.modules['sympy'] = None\n"
            "space = {}; exec(sys.stdin.read(), space)\n"
            "print(repr(space['law']([{'N': 1e9, 'D': 2e10}], None)[0]['loss']))")
    done = subprocess.run([sys.executable, "-c", code], input=src, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == pytest.approx(_by_hand(1e9, 2e10), rel=1e-12)


def test_missing_or_non_finite_constants_and_bad_names_are_refused():
    with pytest.raises(OptionError, match="lack beta"):
        python_source(LAW, {k: v for k, v in VALUES.items() if k != "beta"})
    with pytest.raises(OptionError, match="group 'c4'.*not finite: A"):
        python_source(LAW, {"pile": VALUES, "c4": dict(VALUES, A=float("nan"))})
    with pytest.raises(OptionError, match="not a Python function name"):
        python_source(LAW, VALUES, name="my law")
