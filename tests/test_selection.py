"""Selection on extrapolation: rolling origins, the combined error, the 1se rule, the front."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lawfind import fit_law, load_runs, parse_law
from lawfind.errors import OptionError
from lawfind.selection import extrapolation_error, pareto_front, rolling_origins, select_model, slice_origin

LADDER = [5e7 * 2 ** k for k in range(6)]


def chinchilla_ladder(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    N, D = rng.choice(LADDER, n), 10 ** rng.uniform(9.5, 11.5, n)
    loss = (1.69 + 406.4 / N ** 0.34 + 410.7 / D ** 0.28) * np.exp(rng.normal(0, 0.005, n))
    return pd.DataFrame({"N": N, "D": D, "loss": loss})


def test_origins_on_a_ladder_step_one_rung_at_a_time():
    table = load_runs(chinchilla_ladder(0))
    origins = rolling_origins(table, "N", 3)
    n = table.frame["N"].to_numpy()
    assert len(origins) == 3
    for o, (top, nxt) in zip(origins, [(2e8, 4e8), (4e8, 8e8), (8e8, 1.6e9)]):
        assert n[o.fit].max() == top and set(n[o.score]) == {nxt}
        assert not (o.fit & o.score).any()
    # every origin fits on at least three rungs: with four rungs, one origin
    small = table.subset(n <= 4e8)
    assert len(rolling_origins(small, "N", 3)) == 1
    with pytest.raises(OptionError, match="3 distinct size.s. outside the test split: extrapolation needs at least 4"):
        rolling_origins(table.subset(n <= 2e8), "N", 3)


def test_close_sizes_form_one_rung():
    # Gemstones-like: models of 96M to 117M are one rung; every scored slice is an extrapolation
    sizes = [4.8e7, 5.2e7, 6.7e7, 9.6e7, 1.03e8, 1.17e8, 4.75e8, 5.43e8]
    frame = pd.DataFrame({"N": np.repeat(sizes, 5), "D": 1e10, "loss": 3.0})
    origins = rolling_origins(load_runs(frame), "N", 3)
    assert [o.description for o in origins] == ["fit N <= 1.17e+08, score N = 4.75e+08 to 5.43e+08"]
    assert int(origins[0].score.sum()) == 10 and int(origins[0].fit.sum()) == 30


def test_origins_on_continuous_sizes_are_quantile_slices():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"N": 10 ** rng.uniform(7, 9, 200), "D": 1e10, "loss": 3.0})
    table = load_runs(frame)
    origins = rolling_origins(table, "N", 3, slice_fraction=0.1)
    n = table.frame["N"].to_numpy()
    assert [int(o.score.sum()) for o in origins] == [20, 20, 20]
    assert all(n[o.fit].max() < n[o.score].min() for o in origins)
    assert origins[-1].score.sum() + origins[-1].fit.sum() == 200


@pytest.mark.slow
def test_rolling_selection_prefers_the_planted_law_over_a_tangle_that_matches_it_on_one_slice():
    # E0 + (A/N^0.3 + B/D^0.3)^alpha has one constant fewer than the planted Chinchilla law; on the
    # largest slice alone its error is within one standard error of the planted law's, so the 1se
    # rule on that one slice chooses it; three extrapolation steps show it extrapolates worse
    table = load_runs(chinchilla_ladder(0))
    planted = parse_law("E0 + A/N**alpha + B/D**beta", table.features, init={"A": (10, 3000), "B": (10, 3000)})
    tangle = parse_law("E0 + (A/N**0.3 + B/D**0.3)**alpha", table.features, init={"A": (10, 3000), "B": (10, 3000)})
    chosen = {}
    for name, origins in (("slice", [slice_origin(table, "N", 0.15)]), ("rolling", rolling_origins(table, "N", 3))):
        rows = []
        for law in (planted, tangle):
            fit = fit_law(law, table, n_starts=32)
            e = extrapolation_error(law, table, origins, {p: fit.values[p] for p in law.param_names}, n_starts=16)
            rows.append({"loss": e.rmse, "loss_se": e.se, "n_params": law.n_params, "complexity": 10, "score": 0.0})
        eq = pd.DataFrame(rows)
        gap = (eq["loss"][1] - eq["loss"][0]) / eq["loss_se"][0]
        chosen[name] = (select_model(eq, "1se"), gap)
    assert chosen["slice"][0] == 1 and chosen["slice"][1] < 1.0  # the tangle, within one SE
    assert chosen["rolling"][0] == 0 and chosen["rolling"][1] > 2.0  # the planted law, the tangle > 2 SE worse


def test_the_front_keeps_the_simplest_form_within_noise_of_each_size():
    row = lambda k, c, loss, se=0.001: SimpleNamespace(n_params=k, complexity=c, loss=loss, loss_se=se)  # noqa: E731
    a, b = row(5, 30, 0.0100), row(5, 18, 0.0105)  # same constants, b simpler and within one SE
    c, d = row(7, 40, 0.0080), row(8, 50, 0.0090)  # d does not beat c: off the front
    front = pareto_front([a, b, c, d, row(4, 10, float("inf"))])
    assert front == [b, c]


def test_extrapolation_error_combines_origins_equally():
    table = load_runs(chinchilla_ladder(2))
    law = parse_law("E0 + A/N**alpha + B/D**beta", table.features, init={"A": (10, 3000), "B": (10, 3000)})
    origins = rolling_origins(table, "N", 3)
    fit = fit_law(law, table, n_starts=32)
    e = extrapolation_error(law, table, origins, {p: fit.values[p] for p in law.param_names})
    assert len(e.per_origin) == 3
    assert e.rmse == pytest.approx(np.sqrt(np.mean(np.square(e.per_origin))))
    assert 0.004 < e.rmse < 0.007  # the planted noise is 0.005
    assert 0 < e.se < 0.2 * e.rmse
