"""lawfind discover end to end: the Python API and the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from lawfind import discover
from lawfind.cli import main
from lawfind.planted import planted_law, sample


@pytest.fixture(scope="module")
def small():
    return sample(planted_law("coupled_n_na"), n=200, noise=0.005, seed=3)


def test_api_mirrors_the_command(small):
    d = discover(small, generations=8, population_size=200, seeds=2, bootstrap=10, seed=1)
    eq = d.equations_
    assert list(eq.columns[:6]) == ["complexity", "loss", "loss_se", "score", "equation", "sympy_format"]
    assert {"lambda_format", "n_params", "bic", "val_rmse_log", "test_r2"} <= set(eq.columns)
    assert eq["complexity"].is_monotonic_increasing and eq["loss"].is_monotonic_decreasing
    assert d.best_metrics_.r2 > 0.9 and d.best_metrics_.rmse_log < 0.02
    pred = d.predict(small)
    assert np.sqrt(np.mean(np.log(pred / small["loss"]) ** 2)) < 0.02
    assert d.latex().startswith("L = ") and r"\toprule" in d.latex_table()
    assert isinstance(d.sympy(), sp.Expr) and d.best_.intervals is not None
    np.testing.assert_allclose(eq["lambda_format"][0](**{v: small[v].to_numpy() for v in "D N Na G S".split()
                                                         if v in str(eq["sympy_format"][0])}),
                               d.predict(small, index=0), rtol=1e-10)


def test_command_end_to_end_reproducible(small, tmp_path, capsys):
    path = tmp_path / "runs.parquet"
    small.to_parquet(path)
    outs = []
    for k in range(2):
        out = tmp_path / f"out{k}"
        assert main(["discover", str(path), "--generations", "6", "--population", "150", "--seed", "2",
                     "--bootstrap", "5", "--out", str(out)]) == 0
        outs.append(out)
    text = capsys.readouterr().out
    assert "Pareto front" in text and "chosen (1se)" in text and "L = " in text
    for name in ("equations.csv", "best.json", "best.tex", "predicted_vs_observed.png", "residuals.png",
                 "loss_vs_complexity.png"):
        assert (outs[0] / name).stat().st_size > 0
    a, b = (json.loads((o / "best.json").read_text()) for o in outs)
    assert a["expression"] == b["expression"] and a["parameters"] == b["parameters"]
    assert {"expression", "parameters", "latex", "metrics"} <= set(a)
    # the expression parses with sympy in the column names and reproduces the predictions
    syms = {c: sp.Symbol(c) for c in ("D", "N", "Na", "G", "S")}
    expr = sp.sympify(a["expression"], locals=syms)
    f = sp.lambdify(list(syms.values()), expr)
    pred = f(*(small[c].to_numpy() for c in syms))
    assert np.sqrt(np.mean(np.log(pred / small["loss"]) ** 2)) < 0.02


def test_discover_bad_options(small, tmp_path, capsys):
    path = tmp_path / "r.csv"
    small.to_csv(path, index=False)
    assert main(["discover", str(path), "--engine", "pysrr"]) == 2
    assert "did you mean 'pysr'" in capsys.readouterr().err
    assert main(["discover", str(path), "--model-selection", "bets"]) == 2
    assert "did you mean 'best'" in capsys.readouterr().err
