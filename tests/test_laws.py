"""Parsing laws and their compiled gradients."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lawfind.errors import FormulaError, LawfindWarning
from lawfind.laws import identifiers, parse_law, parse_ranges


def test_free_symbols_that_are_not_columns_become_parameters():
    with pytest.warns(LawfindWarning, match="E is not a column of the table: fitted as a constant"):
        law = parse_law("E + A/N**alpha + B/D**beta")  # E is the project's name for the number of experts
    assert law.variables == ("D", "N")
    assert law.param_names == ("A", "B", "E", "alpha", "beta")
    # exponents start in (0.05, 1), coefficients in (0.1, 10)
    assert dict((p.name, p.init) for p in law.params)["alpha"] == (0.05, 1.0)


def test_caret_and_leading_lhs_and_columns():
    law = parse_law("L = c + k * num_experts^(-b)", ["num_experts"])
    assert law.variables == ("num_experts",) and set(law.param_names) == {"c", "k", "b"}


@pytest.mark.parametrize("text,match", [
    ("E + A/N**", "cannot parse the formula"),
    ("", "the formula is empty"),
    ("A + B", "uses none of the variables"),
    ("N**2", "has no parameter to fit"),
    ("A < N", "is not an expression"),
])
def test_malformed_formulas(text, match):
    with pytest.raises(FormulaError, match=match):
        parse_law(text)


def test_ranges():
    assert parse_ranges("A=1:1000, alpha=0.1:1") == {"A": (1.0, 1000.0), "alpha": (0.1, 1.0)}
    with pytest.raises(FormulaError, match="write NAME=LOW:HIGH"):
        parse_ranges("A=1-1000")
    with pytest.raises(FormulaError, match=r"not parameters of .*its parameters: A, alpha"):
        parse_law("A/N**alpha", init={"B": (1, 2)})


def test_analytic_jacobian_matches_finite_differences():
    law = parse_law("E0 + A*Na**(-(alpha + gamma*log(G))) * exp(s*(S - s0)**2) + B/D**beta")
    rng = np.random.default_rng(0)
    X = [10 ** rng.uniform(9, 11, 20) if v == "D" else rng.uniform(0, 0.7, 20) if v == "S"
         else rng.uniform(1, 16, 20) if v == "G" else 10 ** rng.uniform(7, 9, 20) for v in law.variables]
    theta = rng.uniform(0.1, 0.5, law.n_params)
    pred, jac = law.compiled.value_and_jacobian(theta, X)
    for i in range(law.n_params):
        h = 1e-6 * max(1.0, abs(theta[i]))
        tp, tm = theta.copy(), theta.copy()
        tp[i] += h
        tm[i] -= h
        fd = (law.compiled(tp, X) - law.compiled(tm, X)) / (2 * h)
        np.testing.assert_allclose(jac[i], fd, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(pred, law.compiled(theta, X))


def test_strict_mode_refuses_names_that_are_not_variables():
    law = parse_law("1.7 + 400*N**-0.34*(1 + tanh(log(G)))", ["N", "G"], strict=True, allow_constant=True)
    assert law.params == () and law.variables == ("N", "G")
    with pytest.raises(FormulaError, match=r"unknown names \['x'\].*type the numbers of its constants"):
        parse_law("1.7 + 400*N**-0.34 + x", ["N", "D"], strict=True, allow_constant=True)
    with pytest.raises(FormulaError, match=r"unknown names \['Nn'\] \(did you mean 'N'\?\)"):
        parse_law("1.7 + 400*Nn**-0.34", ["N", "D"], strict=True, allow_constant=True)


@pytest.mark.parametrize("text,columns,warned", [
    ("E0 + A/N**alpha + B/Q**beta", ["N", "D"], "Q"),  # a capital letter read as a variable
    ("E0 + A/N**alpha + B*log(Q)", ["N", "D"], "Q"),
    ("E0 + A/N**alpha + B/D**beta", ["N"], "D"),  # a canonical variable the table lacks
    ("c + k*num_expert**(-b)/N**a", ["num_experts", "N"], "num_expert"),  # close to a column's name
    ("E0 + A/N**alpha + B/D**beta", ["N", "D"], None),  # A, B: capital letters used as coefficients
    ("c*(S - s0)**2 + k/N**a", ["N", "S"], None),
])
def test_names_that_look_like_columns_are_reported(text, columns, warned):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        law = parse_law(text, columns)
    notes = [str(w.message) for w in caught if issubclass(w.category, LawfindWarning)]
    if warned is None:
        assert notes == []
    else:
        assert len(notes) == 1 and notes[0].startswith(f"{warned} is not a column of the table: fitted as a "
                                                       f"constant; pass --params {warned} to silence this")
        assert warned in law.param_names
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parse_law(text, columns, params=[warned])


def test_params_win_over_a_column_of_the_same_name():
    law = parse_law("E + A/N**alpha", ["N", "E"], params=["E"])
    assert law.variables == ("N",) and "E" in law.param_names
    with pytest.raises(FormulaError, match=r"constants given for \['Z'\]"):
        parse_law("E0 + A/N**alpha", ["N"], params=["Z"])


def test_identifiers_leave_functions_out():
    assert identifiers("A*exp(-b*log(N)) + tanh(Na)") == {"A", "b", "N", "Na"}
