"""What discover writes for the report: every scored candidate, and every run with its split."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lawfind.record import load_fit


@pytest.mark.slow
def test_candidates_csv_holds_every_scored_candidate_with_its_errors(discovered):
    record = json.loads((discovered / "best.json").read_text())
    cand = pd.read_csv(discovered / "candidates.csv")
    eq = pd.read_csv(discovered / "equations.csv")
    assert len(cand) == record["selection"]["candidates"]
    chosen = cand[cand["chosen"]]
    assert len(chosen) == 1 and cand.index[cand["chosen"]][0] == 0  # the chosen law first
    row = chosen.iloc[0]
    assert row["extrap_rmse_log"] == pytest.approx(record["selection"]["extrapolation_rmse_log"], rel=1e-9)
    assert row["test_rmse_log"] == pytest.approx(record["metrics"]["rmse_log"], rel=1e-9)
    assert row["test_r2"] == pytest.approx(record["metrics"]["r2"], rel=1e-9)
    assert eq.loc[record["selection"]["front_index"], "loss"] == row["extrap_rmse_log"]  # the chosen row
    # the front's rows are candidates, with the front's errors
    front = cand[cand["on_front"]]
    assert len(front) == len(eq)
    assert sorted(front["extrap_rmse_log"]) == pytest.approx(sorted(eq["loss"]), rel=1e-9)
    assert sorted(front["test_rmse_log"]) == pytest.approx(sorted(eq["test_rmse_log"]), rel=1e-9)
    # only the shortlist has an extrapolation error; every candidate has a test error
    measured = np.isfinite(cand["extrap_rmse_log"])
    assert len(eq) <= measured.sum() < len(cand)
    assert np.isnan(cand.loc[~measured, "extrap_se"]).all() and np.isfinite(cand["test_rmse_log"]).all()
    # the catalogue's laws are there, fitted on the same runs; the planted form extrapolates best of them
    catalogue = cand[cand["source"].str.startswith("catalog:")]
    assert {"catalog:lawfind_moe5", "catalog:chinchilla2022"} <= set(catalogue["source"])
    best = catalogue.sort_values("extrap_rmse_log").iloc[0]
    assert best["source"] == "catalog:lawfind_moe5" and best["test_rmse_log"] < 0.015
    assert (cand["admissible"] | cand["reason"].notna()).all()  # an inadmissible row says why


@pytest.mark.slow
def test_runs_csv_labels_each_run_and_holds_the_chosen_laws_prediction(discovered):
    runs = pd.read_csv(discovered / "runs.csv")
    data = pd.read_csv(discovered.parent / "runs.csv")
    assert list(runs.columns) == ["D", "N", "Na", "G", "S", "loss", "split", "predicted"]
    assert len(runs) == len(data) and np.allclose(runs["loss"], data["loss"], rtol=1e-12)
    assert ((runs["split"] == "test") == (runs["N"] >= 1.6e9)).all()
    largest = runs.loc[runs["split"] == "largest slice", "N"]
    assert largest.min() > runs.loc[runs["split"] == "selection", "N"].max()  # the last extrapolation step
    law, values, _ = load_fit(discovered / "best.json")
    pred = law.compiled([values[p] for p in law.param_names], [runs[v].to_numpy() for v in law.variables])
    assert np.allclose(runs["predicted"], pred, rtol=1e-10)
