"""Splits, SLDBench metrics, and ranking laws on held-out runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lawfind import catalog
from lawfind.compare import compare_laws
from lawfind.data import load_runs
from lawfind.errors import OptionError
from lawfind.export import latex_table
from lawfind.metrics import metrics
from lawfind.splits import Holdout, holdout_split, kfold_splits, parse_holdout

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


def test_compare_default_split_never_takes_a_shape_column(tmp_path, capsys):
    from lawfind.cli import main

    # no size or data column (G and S only): a random 20 % of the runs, not the largest G
    rng = np.random.default_rng(3)
    G, S = rng.choice([1, 2, 4, 8], 60), rng.uniform(0, 0.5, 60)
    path = tmp_path / "shape.csv"
    pd.DataFrame({"G": G, "S": S, "loss": 2 + 0.05 * np.log(G) ** 2 + (S - 0.2) ** 2}).to_csv(path, index=False)
    assert main(["compare", str(path), "--laws", "E0 + a*log(G)**2 + b*(S - s0)**2", "--starts", "4"]) == 0
    out = capsys.readouterr().out
    assert "a random 20% of the runs" in out and "test 12 runs" in out and "G >=" not in out
    # four model sizes and eight token counts each: the largest D at each size, so every size is fitted on
    N, D = np.meshgrid([1e8, 2e8, 4e8, 8e8], np.geomspace(1e9, 1e11, 8))
    N, D = N.ravel(), D.ravel()
    path = tmp_path / "ladder.csv"
    pd.DataFrame({"N": N, "D": D, "loss": 1.7 + 400 / N ** 0.34 + 410 / D ** 0.28}).to_csv(path, index=False)
    assert main(["compare", str(path), "--laws", "chinchilla2022", "--starts", "4"]) == 0
    out = capsys.readouterr().out
    assert "the largest D at each size" in out and "test 8 runs" in out


def test_a_comparison_prints_as_a_short_table(chinchilla_table):
    laws = [catalog.get("chinchilla2022"), catalog.get("kaplan2020"), catalog.get("clark2022")]
    comp = compare_laws(laws, chinchilla_table, holdout_split(chinchilla_table, "N>=3e9"), n_starts=8)
    text = repr(comp)
    lines = text.splitlines()
    assert lines[0].startswith("Comparison(2 laws ranked by r2 on N >= 3e+09 (train ") and "1 skipped" in lines[0]
    assert lines[1].startswith("   1. chinchilla2022: k=5, R2=") and lines[2].startswith("   2. kaplan2020")
    assert lines[3].startswith("  skipped clark2022: needs ") and len(lines) == 4
    assert "True" not in text and "False" not in text and len(text) < 600  # no split mask dumped
    html = comp._repr_html_()
    assert html.count("<tr>") == 3 and "<th>RMSE log</th>" in html and "chinchilla2022" in html
    assert "<li>clark2022: needs" in html
    assert repr(comp.split).startswith("Split('N >= 3e+09': train ")


def _table_without_n(tmp_path, size: str):
    rng = np.random.default_rng(0)
    n = 120
    Na, D = 10 ** rng.uniform(7, 9.5, n), 10 ** rng.uniform(9, 11, n)
    frame = {size: Na, "D": D, "loss": (1.7 + 400 / Na ** 0.3 + 400 / D ** 0.28) * np.exp(rng.normal(0, 0.01, n))}
    path = tmp_path / f"{size}.csv"
    pd.DataFrame(frame).to_csv(path, index=False)
    return path


def test_compare_without_n_splits_on_the_size_column(tmp_path, capsys):
    from lawfind.cli import main

    # a table whose only size column is Na: the default holdout is its top 20 %, as discover would choose
    path = _table_without_n(tmp_path, "Na")
    assert main(["compare", str(path), "--laws", "E0 + A/Na**a + B/D**b", "--starts", "4"]) == 0
    out = capsys.readouterr().out
    assert "Na >= " in out and "(top 20%)" in out and "test 24 runs" in out
    # a size column under another name, declared with --decreasing
    path = _table_without_n(tmp_path, "dense_parameter_count")
    assert main(["compare", str(path), "--laws", "E0 + A/dense_parameter_count**a + B/D**b", "--starts", "4",
                 "--features", "dense_parameter_count,D", "--decreasing", "dense_parameter_count"]) == 0
    assert "dense_parameter_count >= " in capsys.readouterr().out
    # a misnamed --decreasing column is refused with a suggestion
    assert main(["compare", str(path), "--laws", "chinchilla2022", "--features", "dense_parameter_count,D",
                 "--decreasing", "dense_parameter_cont"]) == 2
    assert "did you mean 'dense_parameter_count'" in capsys.readouterr().err


def test_compare_with_a_group_fits_constants_per_group(tmp_path, capsys):
    from lawfind.cli import main

    # two datasets with their own limit and coefficient, shared exponents: a pooled fit cannot serve both
    rng = np.random.default_rng(4)
    N, D = np.meshgrid(1e8 * 2.0 ** np.arange(6), np.geomspace(2e9, 2e11, 6))
    N, D = np.tile(N.ravel(), 2), np.tile(D.ravel(), 2)
    dataset = np.repeat(["pile", "c4"], len(N) // 2)
    E0, A = np.where(dataset == "pile", 1.7, 2.0), np.where(dataset == "pile", 400.0, 520.0)
    loss = (E0 + A / N ** 0.34 + 410 / D ** 0.28) * np.exp(rng.normal(0, 0.003, len(N)))
    path = tmp_path / "two.csv"
    pd.DataFrame({"N": N, "D": D, "dataset": dataset, "loss": loss}).to_csv(path, index=False)
    table = load_runs(path, group="dataset")
    split = holdout_split(table, "N>=3e9")
    pooled = compare_laws([catalog.get("chinchilla2022")], load_runs(path), holdout_split(load_runs(path), "N>=3e9"),
                          n_starts=8).rows[0]
    grouped = compare_laws([catalog.get("chinchilla2022")], table, split, n_starts=8).rows[0]
    assert set(grouped.fit.per_group) >= {"E0"} and grouped.fit.groups == ("c4", "pile")
    assert grouped.metrics.rmse < 0.2 * pooled.metrics.rmse and grouped.metrics.r2 > 0.95
    declared = compare_laws([catalog.get("chinchilla2022")], table, split, n_starts=8, per_group=("E0", "A")).rows[0]
    assert declared.fit.per_group == ("E0", "A")
    assert main(["compare", str(path), "--laws", "chinchilla2022", "--group", "dataset", "--holdout", "N>=3e9",
                 "--starts", "8"]) == 0
    assert "chinchilla2022: per dataset (c4, pile): E0" in capsys.readouterr().out
