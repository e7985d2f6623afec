"""The robust fitter recovers planted constants, with honest intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lawfind import catalog
from lawfind.data import load_runs
from lawfind.errors import FitError, OptionError
from lawfind.fit import fit_law
from lawfind.laws import parse_law

TRUE = {"E0": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def test_chinchilla_constants_inside_their_bootstrap_intervals(chinchilla_table):
    fit = fit_law(catalog.get("chinchilla2022"), chinchilla_table, n_starts=64, bootstrap=200, seed=0)
    assert fit.converged and fit.n_at_best >= 2
    for name, true in TRUE.items():
        lo, hi = fit.intervals[name]
        assert lo <= true <= hi, f"{name}: {true} outside [{lo}, {hi}]"
        assert lo < fit.values[name] < hi
    # the intervals are informative, not vacuous
    assert fit.intervals["alpha"][1] - fit.intervals["alpha"][0] < 0.1
    assert abs(fit.values["E0"] - 1.69) < 0.1


def test_same_seed_same_fit(chinchilla_table):
    a = fit_law(catalog.get("chinchilla2022"), chinchilla_table, n_starts=16, bootstrap=20, seed=3)
    b = fit_law(catalog.get("chinchilla2022"), chinchilla_table, n_starts=16, bootstrap=20, seed=3)
    assert a.values == b.values and np.array_equal(a.bootstrap, b.bootstrap)


def test_grid_starts_and_lsq(chinchilla_table):
    fit = fit_law(catalog.get("chinchilla2022"), chinchilla_table, n_starts=243, starts="grid", loss="lsq")
    assert fit.n_starts == 243 and abs(fit.values["alpha"] - 0.34) < 0.03


def test_per_group_parameters_with_shared_exponents():
    rng = np.random.default_rng(5)
    frames = []
    for level, (e0, a) in {"x": (1.6, 300.0), "y": (1.9, 500.0)}.items():
        N, D = 10 ** rng.uniform(7, 10, 200), 10 ** rng.uniform(9, 11.5, 200)
        L = (e0 + a / N ** 0.34 + 410.7 / D ** 0.28) * np.exp(rng.normal(0, 0.005, 200))
        frames.append(pd.DataFrame({"N": N, "D": D, "loss": L, "kind": level}))
    table = load_runs(pd.concat(frames), group="kind")
    fit = fit_law(catalog.get("chinchilla2022"), table, per_group=["E0", "A"], n_starts=64)
    assert fit.groups == ("x", "y") and "alpha" in fit.values and "E0[x]" in fit.values
    assert abs(fit.values["E0[x]"] - 1.6) < 0.05 and abs(fit.values["E0[y]"] - 1.9) < 0.05
    assert abs(fit.values["alpha"] - 0.34) < 0.03
    pred = fit.predict(table)
    assert np.sqrt(np.mean(np.log(pred / table.y) ** 2)) < 0.007


def test_fit_errors(chinchilla_table):
    with pytest.raises(FitError, match=r"needs the variables \['E'\]"):
        fit_law(catalog.get("clark2022"), chinchilla_table)
    with pytest.raises(OptionError, match="unknown loss 'hubr'.*did you mean 'huber'"):
        fit_law(catalog.get("chinchilla2022"), chinchilla_table, loss="hubr")
    with pytest.raises(OptionError, match="need a group column"):
        fit_law(catalog.get("chinchilla2022"), chinchilla_table, per_group=["A"])
    small = chinchilla_table.subset(np.arange(3))
    with pytest.raises(FitError, match="5 constants but only 3 runs"):
        fit_law(catalog.get("chinchilla2022"), small)


def test_unfittable_starts_say_so(chinchilla_table):
    law = parse_law("log(A - N)", ["N"], init={"A": (0.1, 1)})
    with pytest.raises(FitError, match="no start .* gave a finite, positive prediction"):
        fit_law(law, chinchilla_table, n_starts=4)


@pytest.mark.parametrize("option,message", [({"delta": -1.0}, "delta must be a finite number > 0, got -1.0"),
                                            ({"delta": float("nan")}, "delta must be"),
                                            ({"seed": -1}, "the seed must be >= 0")])
def test_option_ranges(chinchilla_table, option, message):
    with pytest.raises(OptionError, match=message):
        fit_law(catalog.get("chinchilla2022"), chinchilla_table, n_starts=1, **option)
