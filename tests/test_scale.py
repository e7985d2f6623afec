"""The target's scale: log for a positive target (unchanged), linear for a target of any sign."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lawfind import catalog, load_runs, parse_law
from lawfind.fit import fit_law
from lawfind.metrics import metrics
from lawfind.predict import predict

RUNS = Path(__file__).resolve().parents[1] / "runs"


def planted_negative(noise: float = 0.002, seed: int = 0) -> pd.DataFrame:
    """``-3 + 2/n**0.3 + 1/d**0.2`` with ``n = N/1e7`` and ``d = D/1e9``: a target between about -2.3 and 0."""
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(1e7, 1e9, 6), 8)
    D = np.tile(np.geomspace(1e9, 1e11, 8), 6)
    y = -3 + 2 / (N / 1e7) ** 0.3 + 1 / (D / 1e9) ** 0.2 + rng.normal(0, noise, len(N))
    return pd.DataFrame({"N": N, "D": D, "loss": y})


def test_a_planted_law_with_a_negative_target_is_recovered():
    table = load_runs(planted_negative(), features="N,D")
    assert table.scale == "linear" and (table.y < 0).mean() > 0.9
    law = parse_law("E + A/N**alpha + B/D**beta", table.features, params=("E",))
    fit = fit_law(law, table, n_starts=64, bootstrap=8)
    v = fit.values
    assert fit.scale == "linear" and np.isnan(fit.rmse_log) and fit.rmse == pytest.approx(0.002, rel=0.3)
    assert v["E"] == pytest.approx(-3.0, rel=0.02)
    assert v["alpha"] == pytest.approx(0.3, rel=0.03) and v["beta"] == pytest.approx(0.2, rel=0.03)
    assert v["A"] / 1e7 ** v["alpha"] == pytest.approx(2.0, rel=0.03)
    assert v["B"] / 1e9 ** v["beta"] == pytest.approx(1.0, rel=0.03)
    assert fit.uncertainty()["scale"] == "linear"
    # predictions and their intervals on the target itself (negative), not on its log
    out = predict(fit, {"N": [4e9], "D": [1e11]})
    truth = -3 + 2 / 400 ** 0.3 + 1 / 100 ** 0.2
    assert out["loss"].iloc[0] == pytest.approx(truth, abs=0.01)
    assert out["pi_low"].iloc[0] < out["loss"].iloc[0] < out["pi_high"].iloc[0] < 0
    m = metrics(table.y, fit.predict(table), train_y=table.y, train_pred=fit.predict(table), n_params=5,
                scale=table.scale)
    assert m.scale == "linear" and np.isnan(m.rmse_log) and m.rmse == pytest.approx(fit.rmse, rel=1e-9)


def test_the_log_scale_is_unchanged():
    # fitted before the scale existed (commit 359d419): the same constants, to scipy's precision (the last
    # bits moved with scipy 1.17's L-BFGS-B, up to 2e-7 relative in the loosest constant, the objective not at
    # all; any change of the log scale's objective would move it)
    table = load_runs(RUNS / "planted_moe5.parquet")
    assert table.scale == "log"
    fit = fit_law(catalog.get("chinchilla2022"), table, n_starts=16, seed=0)
    before = {"E0": 1.7547506942854427, "A": 202.80101279990132, "B": 1828.8929431270656,
              "alpha": 0.31476084800415294, "beta": 0.3511017123520834}
    for k, x in before.items():
        assert fit.values[k] == pytest.approx(x, rel=1e-6), k
    assert fit.objective == pytest.approx(0.010130840916927921, rel=1e-12)
    assert fit.rmse_log == pytest.approx(0.02914076940520108, rel=1e-9) and fit.rmse == fit.rmse_log
