"""Choosing the next runs: where the replicates disagree, non-redundant batches, specs moe can run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lawfind import catalog
from lawfind.cli import main
from lawfind.data import load_runs
from lawfind.errors import OptionError
from lawfind.record import save_fit
from lawfind.fit import fit_law
from lawfind.planted import planted_law, sample
from lawfind.predict import Predictor
from lawfind.suggest import candidates_from_ranges, parse_target, suggest, sweep_spec, target_replicates

from .conftest import chinchilla_frame


@pytest.fixture(scope="module")
def small_n():
    """Chinchilla runs with N only up to 1e9: the replicates agree inside and fan out beyond."""
    frame = chinchilla_frame(300, seed=2)
    table = load_runs(frame[frame.N <= 1e9].reset_index(drop=True))
    fit = fit_law(catalog.get("chinchilla2022"), table, n_starts=32, bootstrap=100, seed=0)
    return table, Predictor.from_fit(fit, table.ranges())


def test_first_run_goes_where_the_replicates_disagree_most(small_n):
    table, pred = small_n
    cands = pd.DataFrame({"N": np.geomspace(1e7, 3e10, 40), "D": 3e10})
    res = suggest(pred, parse_target("loss@N=1e11,D=3e10", pred.variables), cands, n=3, cost="1")
    _, F = pred.log_predict({"N": cands.N.to_numpy(), "D": cands.D.to_numpy()})
    first = res.picks.candidate[0]
    assert first == int(np.argmax(F.std(axis=0))) == len(cands) - 1  # the largest N, where they disagree most
    assert res.sd_after < 0.7 * res.sd_now and res.picks.shrink[0] > 0.15
    assert res.picks.sd_after.is_monotonic_decreasing


def test_greedy_picks_condition_on_earlier_ones(small_n):
    """The batch's expected variance equals Gaussian conditioning on all its runs at once, and a run at
    the same place as an earlier pick is worth less than it was before that pick."""
    table, pred = small_n
    cands = pd.DataFrame({"N": np.repeat(np.geomspace(1e7, 3e10, 20), 2), "D": 3e10})  # every point twice
    target = parse_target("loss@N=1e11,D=3e10", pred.variables)
    sigma = 0.01
    res = suggest(pred, target, cands, n=4, cost="1", noise_sd=sigma)
    _, t, _ = target_replicates(pred, target)
    _, F = pred.log_predict({"N": cands.N.to_numpy(), "D": cands.D.to_numpy()})
    S = res.picks.candidate.to_numpy()
    C = np.cov(np.column_stack([t, F[:, S]]), rowvar=False)
    post = C[0, 0] - C[0, 1:] @ np.linalg.solve(C[1:, 1:] + sigma ** 2 * np.eye(len(S)), C[1:, 0])
    assert res.sd_after == pytest.approx(np.sqrt(post), rel=1e-6)
    # the twin of the first pick was worth as much as it before; after it, the next pick gains less
    assert res.picks.per_cost[1] < res.picks.per_cost[0]


@pytest.mark.slow
def test_optimum_beyond_the_data_draws_runs_beyond_it():
    """G* of a planted hook at e^1.8 = 6 with runs only at G <= 4: the picks go to large G."""
    law = planted_law("chinchilla_ghook")
    frame = sample(law, n=300, noise=0.005, seed=1)
    table = load_runs(frame[frame.G <= 4].reset_index(drop=True))
    fit = fit_law(law.law(), table, n_starts=64, bootstrap=100, seed=0)
    assert abs(fit.values["g0"] - 1.8) < 0.3 and fit.boot_failed < 0.05
    pred = Predictor.from_fit(fit, table.ranges())
    ranges = dict(table.ranges())
    ranges["G"] = (1.0, 24.0)
    res = suggest(pred, parse_target("G*", pred.variables), candidates_from_ranges(ranges, 400, seed=0), n=4,
                  cost="1")
    assert (res.picks.G > 4).all() and res.unit == "log"
    assert res.width_ratio() < 0.8


@pytest.mark.slow
def test_optimum_closed_form_and_numeric_agree(small_n, monkeypatch):
    import lawfind.suggest as mod

    frame = sample(planted_law("shared_hook"), n=200, noise=0.005, seed=0)
    table = load_runs(frame[["D", "Na", "S", "loss"]])
    fit = fit_law(planted_law("shared_hook").law(), table, n_starts=32, bootstrap=40, seed=0)
    pred = Predictor.from_fit(fit, table.ranges())
    target = parse_target("S*", pred.variables)
    closed = target_replicates(pred, target)
    monkeypatch.setattr(mod, "_closed_form", lambda *a, **k: None)
    numeric = target_replicates(pred, target)
    assert closed[0] == pytest.approx(fit.values["s0"], rel=1e-9)  # S* = s0 in closed form
    assert numeric[0] == pytest.approx(closed[0], abs=1e-3)
    assert np.allclose(numeric[1], closed[1], atol=1e-3) and closed[2] == "linear"


def test_budget_and_costs(small_n):
    table, pred = small_n
    cands = pd.DataFrame({"N": np.geomspace(1e7, 3e10, 30), "D": 3e10})
    res = suggest(pred, parse_target("loss@N=1e11,D=3e10", pred.variables), cands, n=8, budget=2e22)
    assert res.total_cost <= 2e22 and res.cost == "6*N*D"
    assert np.allclose(res.picks.cost, 6 * res.picks.N * res.picks.D)
    with pytest.raises(OptionError, match="cannot read the target 'G'"):
        parse_target("G", ["N", "G"])
    with pytest.raises(OptionError, match="'Q' in 'loss@Q=1'|unknown variable 'Q'"):
        parse_target("loss@Q=1", ["N", "D"])
    with pytest.raises(OptionError, match=r"uses \['Na'\]"):
        suggest(pred, parse_target("loss@N=1e10", pred.variables), cands, cost="6*Na*D")


@pytest.mark.slow
def test_cli_writes_a_table_a_csv_and_a_spec_moe_reads(tmp_path, capsys):
    from moe.spec import expand, load_spec

    frame = sample(planted_law("moe5"), n=200, noise=0.0075, seed=0)
    table = load_runs(frame)
    fit = fit_law(catalog.get("lawfind_moe5"), table, n_starts=32, bootstrap=60, seed=0)
    path = save_fit(tmp_path / "fit.json", fit, ranges=table.ranges())
    out = tmp_path / "next"
    assert main(["suggest", str(path), "--target", "S*", "--n", "3", "--candidates", "300",
                 "--template", "runs/moe_study.toml", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "target S* =" in text and "width cut" in text and "suggest.toml" in text
    picks = pd.read_csv(out / "suggest.csv")
    assert len(picks) == 3
    runs = expand(load_spec(out / "suggest.toml")).runs
    assert len(runs) == 3  # exactly the chosen runs, in order
    for run, (_, row) in zip(runs, picks.iterrows()):
        target = run.target
        assert target["N"] == pytest.approx(row.N) and target["Na"] == pytest.approx(row.Na)
        assert target["G"] == round(row.G) and target["S"] == pytest.approx(row.S)
        assert run.train.tokens == int(row.D) and run.model.d_model == 48  # the template's width


@pytest.mark.parametrize("argv,message", [
    (["--target", "G**"], "cannot read the target 'G**'"),
    (["--target", "loss@N=1e1e"], "'1e1e' is not a number in 'N=1e1e'"),
    (["--target", "loss@N=1e10", "--cost", "6*N*"], "cannot read the cost '6*N*'"),
    (["--target", "G*"], "'G', which is not a variable of the law (N, D)"),
])
def test_cli_bad_input_is_one_line(argv, message, small_n, tmp_path, capsys):
    table, pred = small_n
    fit = fit_law(catalog.get("chinchilla2022"), table, n_starts=8, bootstrap=20, seed=0)
    path = save_fit(tmp_path / "fit.json", fit, ranges=table.ranges())
    assert main(["suggest", str(path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.strip().count("\n") == 0


def test_sweep_spec_is_read_back_by_moe_into_the_picks(tmp_path):
    """The TOML ``sweep_spec`` writes, loaded by moe's own loader, plans exactly the picks in order;
    a template setting moe does not know is refused when the spec is written, not when it is run."""
    from moe.spec import expand, load_spec

    picks = pd.DataFrame({"N": [1e6, 2e6, 5e5], "Na": [3e5, 5e5, 2.5e5], "G": [4.0, 2.2, 8.0],
                          "S": [0.2, 0.0, 0.5], "D": [2e5, 3e5, 1e5], "cost": [1.0, 2.0, 3.0]})
    base = {"N": 9e9, "d_model": 48, "n_layers": 2, "n_heads": 4, "seq_len": 64, "lr": 3e-3, "data": {"x": 1}}
    path = tmp_path / "suggest.toml"
    path.write_text(sweep_spec(picks, base, corpus="tokens.bin", name="next"))
    spec = load_spec(path)
    assert (spec.name, spec.corpus) == ("next", "tokens.bin")
    assert dict(spec.point) == {"N": 1e6, "Na": 3e5, "G": 4.0, "S": 0.2, "D": 2e5}  # the first pick, not base's N
    assert spec.model["d_model"] == 48 and spec.train["lr"] == 3e-3
    assert [(f.vary, f.values, f.label) for f in spec.families] == [("G", (2.0,), "suggest run 2"),
                                                                      ("G", (8.0,), "suggest run 3")]
    runs = expand(spec).runs
    assert len(runs) == 3
    for run, row in zip(runs, picks.itertuples()):
        assert run.target["N"] == pytest.approx(row.N) and run.target["Na"] == pytest.approx(row.Na)
        assert run.target["G"] == round(row.G) and run.target["S"] == pytest.approx(row.S)
        assert run.train.tokens == int(row.D) and run.model.d_model == 48
    with pytest.raises(OptionError, match="unknown key 'd_modle' in \\[base\\].*did you mean 'd_model'"):
        sweep_spec(picks, {"d_modle": 48})
    with pytest.raises(OptionError, match=r"the picks lack \['S'\]"):
        sweep_spec(picks.drop(columns="S"))
