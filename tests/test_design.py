"""Budgeted designs over a pool for a target region: informative runs over cheap ones, a reproducible
loop, the mixture over basins, and the CLI's ``loss@grid:`` target with runs already done left out."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from lawfind import catalog
from lawfind.cli import main
from lawfind.data import load_runs
from lawfind.design import Design, Ensemble, choose, exclude_done
from lawfind.errors import OptionError
from lawfind.fit import fit_law, fit_modes
from lawfind.laws import parse_law
from lawfind.record import save_fit

_TRUE = {"E": 1.8, "A": 300.0, "alpha": 0.32}
_FAR = 1e10  # the target: 10x beyond the largest run of the pool


def _law():
    return parse_law("E + A/N**alpha", ["N"], params=["E"], init={"E": (0.5, 3), "A": (10, 3000), "alpha": (0.1, 0.6)},
                     bounds={"E": (0, 10), "A": (0, 1e6), "alpha": (0.01, 2)})


def _pool(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    N = np.geomspace(1e7, 1e9, 25)
    loss = (_TRUE["E"] + _TRUE["A"] / N ** _TRUE["alpha"]) * np.exp(rng.normal(0, 0.004, len(N)))
    return pd.DataFrame({"N": N, "loss": loss})


def _far_error(frame: pd.DataFrame) -> float:
    law = _law()
    fit = fit_law(law, load_runs(frame[["N", "loss"]]), n_starts=32, seed=0)
    pred = law.compiled([fit.values[p] for p in law.param_names], [np.array([_FAR])])[0]
    return abs(float(np.log(pred / (_TRUE["E"] + _TRUE["A"] / _FAR ** _TRUE["alpha"]))))


def _loop(pool: pd.DataFrame, budget: float, seed: int = 0) -> Design:
    design = Design.from_frames(pool, pd.DataFrame({"N": [_FAR]}), "N", budget)
    design = design.add(np.argsort(design.cost)[:4])  # the four cheapest runs to start
    while design.affordable().size:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            picks, _ = choose(design, [_law()], load_runs(design.done()[["N", "loss"]]), n=2, seed=seed)
        if not picks.rows:
            break
        design = design.add(picks.rows)
    return design


def _cheapest(pool: pd.DataFrame, budget: float) -> pd.DataFrame:
    order = np.argsort(pool.N.to_numpy())
    k = int(np.searchsorted(np.cumsum(pool.N.to_numpy()[order]), budget, side="right"))
    return pool.iloc[order[:k]]


def test_the_design_buys_the_informative_runs_over_the_cheap_ones():
    """For a prediction 10x beyond the pool, the runs worth their cost are the largest: the design
    spends the budget on them and predicts the far loss better than the cheapest runs would."""
    errors, cheap_errors = [], []
    for seed in range(6):
        pool = _pool(seed)
        budget = 0.1 * pool.N.sum()
        design = _loop(pool, budget)
        cheap = _cheapest(pool, budget)
        assert design.spent <= budget * (1 + 1e-9)
        assert design.done().N.max() > 2 * cheap.N.max()  # it buys runs twice as large as the cheapest reach
        errors.append(_far_error(design.done()))
        cheap_errors.append(_far_error(cheap))
    assert np.mean(errors) < 0.5 * np.mean(cheap_errors)  # measured: 0.014 vs 0.046


def test_the_loop_is_reproducible_from_a_seed():
    pool = _pool(0)
    a = _loop(pool, 0.2 * pool.N.sum(), seed=3)
    b = _loop(pool, 0.2 * pool.N.sum(), seed=3)
    assert a.chosen == b.chosen and len(a.chosen) > 4


def test_two_basins_that_disagree_draw_the_run_that_tells_them_apart():
    """Two fitted laws agree on the runs done and part ways beyond: the mixture's disagreement makes
    the run where they differ most (towards the target) worth more than its variance alone says."""
    N = np.geomspace(1e7, 5e7, 5)
    done = pd.DataFrame({"N": N, "loss": 1.8 + 300 / N ** 0.32})
    table = load_runs(done)
    power = _law()
    logistic = parse_law("A/N**alpha", ["N"], init={"A": (1, 1e4), "alpha": (0.01, 1)})
    models = [(law, fit_modes(law, table, n_starts=16, seed=0)[0]) for law in (power, logistic)]
    pool = pd.DataFrame({"N": np.geomspace(1e7, 1e9, 12)})
    design = Design.from_frames(pool, pd.DataFrame({"N": [1e10]}), np.ones(12), 3.0)
    from lawfind.design import points_table

    ens = Ensemble.from_modes(models, table, points_table(table, pd.concat([pool, design.target])))
    picks = design.next(ens, 1)
    assert picks.rows == (11,)  # the largest run: where the two laws differ most
    assert picks.variance_after[0] < 0.5 * picks.variance_now


def test_exclude_done_and_bad_designs_are_named():
    cands = pd.DataFrame({"N": [1e7, 2e7, 3e7], "D": [1e9, 2e9, 3e9]})
    kept = exclude_done(cands, pd.DataFrame({"N": [2e7], "D": [2e9], "loss": [3.0]}), ["N", "D"])
    assert list(kept.index) == [0, 2]
    with pytest.raises(OptionError, match="lack the law's variables"):
        exclude_done(cands, pd.DataFrame({"N": [2e7]}), ["N", "D"])
    with pytest.raises(OptionError, match="finite cost > 0"):
        Design.from_frames(cands, cands, [1.0, -1.0, 1.0], 2.0)
    with pytest.raises(OptionError, match="uses \\['G'\\]"):
        Design.from_frames(cands, cands, "6*N*D*G", 2.0)
    with pytest.raises(OptionError, match="no weight column 'w'"):
        Design.from_frames(cands, cands, "N", 2.0, weights="w")


@pytest.fixture(scope="module")
def fit_file(tmp_path_factory):
    from .conftest import chinchilla_frame

    frame = chinchilla_frame(200, seed=4)
    table = load_runs(frame[frame.N <= 1e9].reset_index(drop=True))
    fit = fit_law(catalog.get("chinchilla2022"), table, n_starts=16, bootstrap=60, seed=0)
    return save_fit(tmp_path_factory.mktemp("fit") / "fit.json", fit, ranges=table.ranges())


def test_cli_region_target_with_a_pool_and_runs_done(fit_file, tmp_path, capsys):
    N = np.geomspace(1e8, 3e9, 12)
    pool = pd.DataFrame({"N": N, "D": 20 * N})
    pool.to_csv(tmp_path / "pool.csv", index=False)
    pool.iloc[[11]].assign(loss=2.0).to_csv(tmp_path / "done.csv", index=False)
    pd.DataFrame({"N": [7e9, 1.4e10], "D": [1.4e11, 2.8e11], "weight": [1.0, 2.0]}).to_csv(tmp_path / "big.csv",
                                                                                            index=False)
    out = tmp_path / "next"
    assert main(["suggest", str(fit_file), "--target", f"loss@grid:{tmp_path / 'big.csv'}", "--grid",
                 str(tmp_path / "pool.csv"), "--exclude-done", str(tmp_path / "done.csv"), "--n", "3",
                 "--cost", "6*N*D", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "loss over the 2 configurations of" in text and "width cut" in text
    picks = pd.read_csv(out / "suggest.csv")
    assert len(picks) == 3 and picks.candidate.max() < 11  # the run done is not proposed again
    assert picks.sd_after.is_monotonic_decreasing
    assert picks.N.max() >= N[8]  # runs near the region, not the cheapest


@pytest.mark.parametrize("argv,message", [
    (["--target", "loss@grid:"], "'loss@grid:' needs a file"),
    (["--target", "loss@grid:{tmp}/nope.csv"], "nope.csv"),
    (["--target", "loss@grid:{tmp}/region_n.csv"], "lacks the law's variables ['D']"),
    (["--target", "loss@grid:{tmp}/region.csv", "--cost-power", "3"], "--cost-power must be in [0, 2]"),
    (["--target", "loss@grid:{tmp}/region_w.csv"], "row 2 of the target region"),
    (["--target", "loss@grid:{tmp}/region.csv", "--grid", "{tmp}/region.csv", "--exclude-done", "{tmp}/region.csv"],
     "every candidate is among the runs done"),
    (["--target", "loss@N=1e10", "--cost-power", "0.5"], "applies to a 'loss@grid:FILE' target only"),
])
def test_cli_region_bad_input_is_one_line(argv, message, fit_file, tmp_path, capsys):
    pd.DataFrame({"N": [7e9]}).to_csv(tmp_path / "region_n.csv", index=False)
    pd.DataFrame({"N": [7e9], "D": [1e11]}).to_csv(tmp_path / "region.csv", index=False)
    pd.DataFrame({"N": [7e9, 8e9], "D": [1e11, 1e11], "weight": ["1", "x"]}).to_csv(tmp_path / "region_w.csv",
                                                                                     index=False)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(["suggest", str(fit_file), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.strip().count("\n") == 0


def test_per_group_constants_predict_each_points_own_level():
    """Points of one level only take that level's constants (the fitted table's layout), and points of
    a level the fit never saw are refused by name."""
    from lawfind.design import points_table
    from lawfind.fit import response

    rng = np.random.default_rng(0)
    N = np.tile(np.geomspace(1e7, 1e9, 8), 2)
    E = np.repeat([1.0, 3.0], 8)
    frame = pd.DataFrame({"N": N, "loss": (E + 300 / N ** 0.3) * np.exp(rng.normal(0, 1e-3, 16)),
                          "data": np.repeat(["a", "b"], 8)})
    table = load_runs(frame, group="data")
    law = _law()
    mode = fit_modes(law, table, n_starts=16, seed=0, per_group=["E"])[0]
    assert mode.values["E[b]"] == pytest.approx(3.0, rel=0.05)
    pts = points_table(table, pd.DataFrame({"N": [1e12], "data": ["b"]}))
    mu, _ = response(law, mode.z, pts, ["E"], ("a", "b"))
    assert np.exp(mu[0]) == pytest.approx(3.0 + 300 / 1e12 ** 0.3, rel=0.05)
    with pytest.raises(OptionError, match="group levels \\['c'\\]"):
        response(law, mode.z, points_table(table, pd.DataFrame({"N": [1e9], "data": ["c"]})), ["E"], ("a", "b"))
    with pytest.raises(OptionError, match="need the group column 'data'"):
        points_table(table, pd.DataFrame({"N": [1e9]}))


def test_the_misfit_process_prefers_runs_near_the_region_where_the_law_cannot_tell():
    """A law in N alone, pinned by 30 runs: a second input it ignores (D) leaves every pair of runs
    of the same N equal to the law, so only the misfit's process (a smooth function of all inputs) can
    tell them apart, and it buys the run whose D is the target region's. Without it, the tie is broken
    by position (the far run, listed first). Observing a run then makes its duplicate worth less."""
    from lawfind.design import coordinates, points_table

    rng = np.random.default_rng(1)
    N = np.geomspace(1e7, 1e9, 30)
    done = pd.DataFrame({"N": N, "D": 1e9, "loss": (1.8 + 300 / N ** 0.32) * np.exp(rng.normal(0, 0.01, 30))})
    table = load_runs(done)
    law = _law()
    models = [(law, fit_modes(law, table, n_starts=16, seed=0)[0])]
    big = np.geomspace(1e8, 1e9, 4)
    pool = pd.DataFrame({"N": np.concatenate([big, big, [1e9]]), "D": [1e9] * 4 + [1e11] * 5})
    target = pd.DataFrame({"N": [1e10], "D": [1e11]})
    design = Design.from_frames(pool, target, np.ones(len(pool)), 3.0)
    points = points_table(table, pd.concat([pool, target], ignore_index=True))
    plain = Ensemble.from_modes(models, table, points)
    with_misfit = Ensemble.from_modes(models, table, points, discrepancy=True)
    assert with_misfit.discrepancy == pytest.approx(with_misfit.noise ** 2) and plain.discrepancy == 0
    assert design.next(plain, 1).rows == (3,)  # the largest N; its twin at the target's D ties with it
    picks = design.next(with_misfit, 2)
    assert picks.rows == (7, 8)  # the largest N at the target's D, then its duplicate
    first, second = picks.variance_now - picks.variance_after[0], picks.variance_after[0] - picks.variance_after[1]
    assert 0 < second < 0.5 * first  # measured: 1.8e-6 after 6.0e-6: the duplicate tells much less
    tau2 = with_misfit.discrepancy  # known beside the 30 runs done at D = 1e9, unknown at the region's D
    near, far = with_misfit.kernel_diag(slice(0, 4)), with_misfit.kernel_diag(slice(4, 9))
    assert np.all(near < 0.2 * tau2) and np.all(far > 0.9 * tau2)
    x = coordinates(points.X())
    assert x.shape == (len(pool) + 1, 2) and np.allclose(x.std(axis=0), 1.0)


def test_cli_runs_done_in_another_group_level_stay_candidates(tmp_path, capsys):
    """A law with constants per dataset plans runs for one level: a run done on another dataset does
    not take its configuration out of this level's candidates; one done on this level does."""
    from .conftest import two_dataset_frame

    table = load_runs(two_dataset_frame(60, (7, 9), (9, 10.5)), group="kind")
    fit = fit_law(catalog.get("chinchilla2022"), table, per_group=["E0", "A"], n_starts=16, bootstrap=30, seed=0)
    save_fit(tmp_path / "fit.json", fit, ranges=table.ranges())
    N = np.geomspace(3e8, 3e9, 6)
    pool = pd.DataFrame({"N": N, "D": 20 * N})
    pool.to_csv(tmp_path / "pool.csv", index=False)
    pd.concat([pool.iloc[[0]].assign(kind="x"), pool.iloc[[5]].assign(kind="y")]).assign(loss=2.0).to_csv(
        tmp_path / "done.csv", index=False)
    pd.DataFrame({"N": [1e10], "D": [2e11]}).to_csv(tmp_path / "big.csv", index=False)
    assert main(["suggest", str(tmp_path / "fit.json"), "--target", f"loss@grid:{tmp_path / 'big.csv'}",
                 "--at", "kind=x", "--grid", str(tmp_path / "pool.csv"), "--exclude-done",
                 str(tmp_path / "done.csv"), "--n", "5", "--cost", "6*N*D", "--out", str(tmp_path / "next")]) == 0
    capsys.readouterr()
    picked = set(pd.read_csv(tmp_path / "next" / "suggest.csv").candidate)
    assert 0 not in picked and 5 in picked  # done on x: excluded; done on y only: still this level's candidate
