"""lawfind discover end to end: the estimator, structure recovery, admissibility, the command."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import sympy as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as checks

import lawfind.discovery as discovery_module
from lawfind import Discovery, discover, load_runs
from lawfind.admissible import Reason
from lawfind.cli import main
from lawfind.errors import FitError
from lawfind.planted import planted_law, sample
from lawfind.report.tables import candidates_table
from lawfind.search.base import Candidate

FAST = dict(engine="grammar", max_depth=2, beam=3, bootstrap=10, seed=1)


@pytest.fixture(scope="module")
def ghook():
    """A planted hook in ln G (G* = e^1.8 = 6.05) on ladders of sizes, 0.5 % noise."""
    return sample(planted_law("chinchilla_ghook"), n=260, noise=0.005, seed=3, ladder=True)


@pytest.fixture(scope="module")
def fitted(ghook):
    return discover(ghook, holdout="N>=1.6e9", **FAST)


@pytest.mark.slow
def test_equations_front_and_chosen_law(fitted, ghook):
    eq = fitted.equations_
    assert list(eq.columns[:6]) == ["complexity", "loss", "loss_se", "score", "equation", "sympy_format"]
    assert {"lambda_format", "n_params", "bic", "extrap_rmse_log", "extrap_per_origin", "test_r2", "test_rmse_log",
            "test_spread_ratio", "admissible", "reason", "source"} <= set(eq.columns)
    assert eq["n_params"].is_monotonic_increasing and eq["loss"].is_monotonic_decreasing
    assert eq["admissible"].all()
    # five rungs below the test split: two extrapolation steps (each fitted on three rungs or more),
    # each scored on the next rung of the ladder
    assert len(fitted.splits_.origins) == 2 and len(eq["extrap_per_origin"][0].split()) == 2
    m = fitted.best_metrics_
    assert m.rmse_log < 0.0065  # the planted noise is 0.005, the test runs 2x and 4x beyond
    assert fitted.best_verdict_.ok and fitted.best_verdict_.limit == pytest.approx(1.7, abs=0.1)
    np.testing.assert_allclose(eq["lambda_format"][0](**{v: ghook[v].to_numpy() for v in "D N Na G S".split()
                                                         if v in str(eq["sympy_format"][0])}),
                               fitted.predict(ghook, index=0), rtol=1e-10)


@pytest.mark.slow
def test_the_chosen_row_is_the_chosen_law(fitted, ghook):
    i = fitted.best_index_
    assert sp.simplify(fitted.sympy() - fitted.sympy(i)) == 0
    assert fitted.equations_["sympy_format"][i] == fitted.best_.substituted()
    np.testing.assert_array_equal(fitted.predict(ghook), fitted.predict(ghook, index=i))
    assert fitted.latex() == fitted.latex(i) and r"\toprule" in fitted.latex_table()


@pytest.mark.slow
def test_planted_structure_is_recovered(fitted, ghook):
    law = fitted.best_.substituted()
    assert {s.name for s in law.free_symbols} == {"D", "Na", "G"}  # exactly the planted variables
    table = load_runs(ghook)
    grid = np.geomspace(1, 24, 2001)
    cols = {v: np.full(len(grid), float(np.median(table.frame[v]))) for v in table.features}
    cols["G"] = grid
    g_star = grid[np.argmin(fitted.predict(pd.DataFrame(cols)))]
    assert g_star == pytest.approx(np.exp(1.8), rel=0.15)


@pytest.mark.slow
def test_inadmissible_candidates_are_set_aside_or_marked(ghook):
    kept = discover(ghook, holdout="N>=1.6e9", engine="operon", generations=6, population_size=200,
                    include_catalog=False, bootstrap=0, seed=2, admissible=False)
    assert kept.n_candidates_ > 0 and sum(kept.set_aside_.values()) > 0
    assert set(kept.set_aside_) <= {r.label for r in Reason}
    assert {c.engine for c in kept.candidates_} == {"operon"} and all(c.catalog_name is None for c in kept.candidates_)
    # the counts are of the verdicts' codes, failures to fit included
    codes = Counter(c.verdict.code.label for c in [*kept.candidates_, *kept.failed_] if not c.verdict.ok)
    assert dict(codes) == kept.set_aside_
    assert "marked inadmissible" in kept.summary()
    on = discover(ghook, holdout="N>=1.6e9", engine="operon", generations=6, population_size=200,
                  include_catalog=False, bootstrap=0, seed=2)
    assert on.equations_["admissible"].all() and "set aside" in on.summary()
    assert on.set_aside_ == kept.set_aside_  # the same candidates, judged the same way


def test_candidates_that_fail_to_fit_are_counted_with_their_error(chinchilla_table, monkeypatch):
    real = discovery_module.fit_law

    def fit_law(law, *args, **kwargs):
        if law.name == "kaplan2020":
            raise FitError("no start gives a finite loss\n(a second line the count leaves out)")
        return real(law, *args, **kwargs)

    monkeypatch.setattr(discovery_module, "fit_law", fit_law)
    disc = discover(chinchilla_table, engine="catalog", bootstrap=0, n_starts=8)
    assert [f.catalog_name for f in disc.failed_] == ["kaplan2020"]
    failed = disc.failed_[0]
    assert failed.engine == "catalog" and failed.source == "catalog:kaplan2020" and failed.n_params == 4
    assert failed.verdict.code is Reason.FAILED_TO_FIT
    assert failed.verdict.reason == "failed to fit: FitError: no start gives a finite loss"
    assert disc.set_aside_["failed to fit"] == 1
    assert disc.n_candidates_ == len(disc.candidates_) + 1 and "1 failed to fit" in disc.summary()
    table = candidates_table(disc)
    assert len(table) == disc.n_candidates_
    row = table.iloc[-1]  # failures come last, with their error and no numbers
    assert row["catalog_name"] == "kaplan2020" and row["category"] == "failed to fit" and not row["admissible"]
    assert row["n_params"] == 4 and np.isnan(row["test_rmse_log"])
    assert set(table["engine"]) == {"catalog"}


def test_an_expression_that_cannot_become_a_law_is_counted(chinchilla_table):
    # a free-form expression whose prescreen raises (a variable the table lacks) is not dropped in silence
    bad = Candidate(sp.Symbol("Q") ** -0.3 + 1.7, "operon:seed0", "Q^-0.3 + 1.7", 4, engine="operon")
    kept, failed = Discovery()._prescreen([bad], chinchilla_table)
    assert kept == [] and len(failed) == 1
    assert failed[0].engine == "operon" and failed[0].verdict.code is Reason.FAILED_TO_FIT
    assert failed[0].verdict.reason == ("failed to fit: FormulaError: law 'discovered': symbols ['Q'] are neither "
                                        "variables nor parameters")
    assert failed[0].expression == "Q**(-0.3) + 1.7"


@pytest.mark.slow
def test_a_scikit_learn_estimator(ghook):
    d = Discovery(**FAST)
    assert d.get_params()["engine"] == "grammar" and clone(d).get_params() == d.get_params()
    assert d.set_params(beam=2) is d and d.beam == 2
    with pytest.raises(NotFittedError):
        d.predict(ghook)
    for check in (checks.check_parameters_default_constructible, checks.check_get_params_invariance,
                  checks.check_set_params, checks.check_no_attributes_set_in_init, checks.check_estimators_unfitted,
                  checks.check_estimator_cloneable, checks.check_estimator_repr):
        check("Discovery", Discovery())
    # fit(X, y): an array of D, N, Na, G, S columns and the loss
    X = ghook[["D", "N", "Na", "G", "S"]].to_numpy()
    est = Discovery(**FAST, holdout="N>=1.6e9").fit(X, ghook["loss"].to_numpy())
    assert est.n_features_in_ == 5
    assert est.score(X, ghook["loss"].to_numpy()) > 0.99  # RegressorMixin's R2 on the raw loss


@pytest.mark.slow
def test_command_end_to_end_reproducible(ghook, tmp_path, capsys):
    path = tmp_path / "runs.parquet"
    ghook.to_parquet(path)
    outs = []
    for k in range(2):
        out = tmp_path / f"out{k}"
        assert main(["discover", str(path), "--engine", "grammar", "--max-depth", "2", "--beam", "3", "--seed", "2",
                     "--holdout", "N>=1.6e9", "--bootstrap", "5", "--out", str(out), "--no-report"]) == 0
        outs.append(out)
    text = capsys.readouterr().out
    assert "Front of constants against extrapolation error" in text and "chosen (1se)" in text
    assert "admissible: yes" in text and "distinct candidate laws" in text
    for name in ("equations.csv", "best.json", "best.tex", "predicted_vs_observed.png", "residuals.png",
                 "loss_vs_complexity.png"):
        assert (outs[0] / name).stat().st_size > 0
    a, b = (json.loads((o / "best.json").read_text()) for o in outs)
    assert a["expression"] == b["expression"] and a["parameters"] == b["parameters"]
    for name in ("candidates.csv", "runs.csv", "equations.csv"):  # the report's tables too (its page: tests/report)
        assert (outs[0] / name).read_text() == (outs[1] / name).read_text(), name
    assert a["provenance"]["data_sha256"] == b["provenance"]["data_sha256"] and a["provenance"]["seed"] == 2
    assert a["admissibility"]["admissible"] is True and a["selection"]["validation"] == "rolling"
    eq = pd.read_csv(outs[0] / "equations.csv")
    assert eq["admissible"].all() and "reason" in eq
    # the expression parses with sympy in the column names and reproduces the predictions
    syms = {c: sp.Symbol(c) for c in ("D", "N", "Na", "G", "S")}
    f = sp.lambdify(list(syms.values()), sp.sympify(a["expression"], locals=syms))
    pred = f(*(ghook[c].to_numpy() for c in syms))
    assert np.sqrt(np.mean(np.log(pred / ghook["loss"]) ** 2)) < 0.01


def test_discover_bad_options(ghook, tmp_path, capsys):
    path = tmp_path / "r.csv"
    ghook.to_csv(path, index=False)
    assert main(["discover", str(path), "--engine", "pysrr"]) == 2
    assert "did you mean 'pysr'" in capsys.readouterr().err
    assert main(["discover", str(path), "--model-selection", "bets"]) == 2
    assert "did you mean 'best'" in capsys.readouterr().err
    assert main(["discover", str(path), "--admissible", "of"]) == 2
    assert "did you mean 'off'" in capsys.readouterr().err
    assert main(["discover", str(path), "--decreasing", "dense_parameter_count"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("note: 4 of 260 runs share their configuration")  # one line each
    assert len(lines) == 2 and lines[1].startswith("error: --decreasing names 'dense_parameter_count', which is "
                                                   "not a feature")


def test_the_search_sees_a_reproducible_sample_of_a_large_table():
    """Forms are searched on at most 800 runs (the same ones for a seed); their constants are fitted
    on every selection run."""
    from lawfind.discovery import _SEARCH_ROWS, _thin

    table = load_runs(sample(planted_law("dense"), n=2000, seed=0, ladder=True), features="N,D")
    a, b, c = _thin(table, _SEARCH_ROWS, 0), _thin(table, _SEARCH_ROWS, 0), _thin(table, _SEARCH_ROWS, 1)
    assert len(a) == _SEARCH_ROWS == 800
    assert np.array_equal(a.y, b.y) and not np.array_equal(a.y, c.y)
    small = table.subset(np.arange(len(table)) < 300)
    assert _thin(small, _SEARCH_ROWS, 0) is small


def test_a_chosen_law_without_bootstrap_names_the_constants_the_data_do_not_pin():
    """Kaplan's N_c on the small study's runs spans orders of magnitude: the equations say so, and so
    does the chosen fit's note (from the curvature at the final fit, there being no bootstrap)."""
    table = load_runs("runs/moe_study.parquet")
    d = Discovery(engine="catalog", bootstrap=0, n_jobs=1).fit(table)
    loose = d.equations_["unpinned"].iloc[d.best_index_]
    assert loose.startswith("N_c in [") and d.equations_["n_unpinned"].iloc[d.best_index_] == 1
    assert any(w.startswith("constants the data do not pin") and loose in w for w in d.best_.warnings)
