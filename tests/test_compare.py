"""Splits, SLDBench metrics, and ranking laws on held-out runs."""

from __future__ import annotations

import numpy as np
import pytest

from lawfind import catalog
from lawfind.compare import Holdout, compare_laws, holdout_split, kfold_splits, metrics, parse_holdout
from lawfind.data import load_runs
from lawfind.errors import OptionError
from lawfind.export import latex_table

from .conftest import CLARK_FINAL


def test_holdout_expressions(chinchilla_table):
    s = holdout_split(chinchilla_table, "N>=1e9")
    N = chinchilla_table.frame["N"].to_numpy()
    assert np.array_equal(s.test, N >= 1e9) and np.array_equal(s.train, N < 1e9)
    top = holdout_split(chinchilla_table, "top:N:0.2")
    assert abs(top.test.mean() - 0.2) < 0.01 and N[top.test].min() >= N[top.train].max()
    for bad, match in [("N=>1e9", "cannot read the holdout"), ("Q>=1", "not a feature or the target"),
                       ("N>=1e20", "leaves no run for testing"), ("top:N:1.5", r"must lie in \(0, 1\)")]:
        with pytest.raises(OptionError, match=match):
            holdout_split(chinchilla_table, bad)


def test_holdout_read_before_any_table():
    assert parse_holdout(" N >= 1e9 ") == Holdout("N", ">=", 1e9)
    assert parse_holdout("top:dense_parameter_count:0.15") == Holdout("dense_parameter_count", "top", 0.15)
    for bad, match in [("top:N:0", r"must lie in \(0, 1\)"), ("top:N:0.2.1", "cannot read the number '0.2.1'"),
                       ("N>=1e", "cannot read the number '1e'"), ("", "cannot read the holdout")]:
        with pytest.raises(OptionError, match=match):
            parse_holdout(bad)


def test_kfold_covers_every_run_once(chinchilla_table):
    folds = kfold_splits(chinchilla_table, 5, seed=1)
    assert np.array_equal(sum(f.test.astype(int) for f in folds), np.ones(len(chinchilla_table), int))


def test_sldbench_metric_definitions():
    y = np.array([2.0, 3.0, 4.0])
    pred = np.array([2.5, 3.0, 3.5])
    m = metrics(y, pred, train_y=y, train_pred=y * 1.01, n_params=2)
    assert m.nmse == pytest.approx((0.25 + 0 + 0.25) / 3 / (2 / 3))
    assert m.r2 == pytest.approx(1 - m.nmse)
    assert m.nmae == pytest.approx((1 / 3) / (2 / 3))
    assert m.train_rmse_log == pytest.approx(np.log(1.01))
    assert m.bic - m.aic == pytest.approx(2 * (np.log(3) - 2))


def test_planted_law_wins_on_extrapolation(chinchilla_table):
    laws = [catalog.get("chinchilla2022"), catalog.get("kaplan2020")]
    comp = compare_laws(laws, chinchilla_table, holdout_split(chinchilla_table, "N>=3e9"), n_starts=32)
    assert comp.rows[0].law.name == "chinchilla2022" and comp.rows[0].metrics.r2 > 0.95
    assert comp.rows[0].metrics.rmse_log < 0.015  # the planted noise is 0.01


@pytest.mark.slow
def test_clark_ranks_five_catalogue_laws(clark_path):
    t = load_runs(clark_path, target="loss_validation",
                  features="N=dense_parameter_count,E=num_experts,D=step,G=k",
                  where=f"{CLARK_FINAL} and router_type in ['S-Base', 'Dense']")
    comp = compare_laws([catalog.get(n) for n in catalog.names()], t, holdout_split(t, "N>=3e8"), n_starts=32)
    assert len(comp.rows) >= 5
    assert {n for n, _ in comp.skipped} == {"ludziejewski2025", "tian2025", "lawfind_moe5"}
    ranked = [r.law.name for r in comp.rows]
    # laws that know the number of experts beat the dense laws on MoE runs
    for moe_law in ("clark2022", "sldbench_moe"):
        assert ranked.index(moe_law) < ranked.index("chinchilla2022")
    sld = next(r for r in comp.rows if r.law.name == "sldbench_moe")
    assert sld.metrics.r2 > 0.8
    tex = latex_table(comp)
    assert tex.count(r"\\") == len(comp.rows) + 1 and r"\toprule" in tex and "sldbench\\_moe" in tex
