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

from .conftest import two_dataset_frame

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
    table = load_runs(two_dataset_frame(200), group="kind")
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


def _resamples(n: int, R: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(R)]).astype(float)


@pytest.mark.parametrize("per_group", [False, True])
def test_batched_refits_reach_scipys_optimum(per_group, chinchilla_table):
    from scipy.optimize import minimize

    from lawfind.bootstrap import refit_replicates
    from lawfind.fit import _blas, _Problem

    table = chinchilla_table.subset(np.arange(200))
    if per_group:
        frame = table.frame.assign(kind=np.where(np.arange(200) % 2, "x", "y"))
        table = load_runs(frame, group="kind")
    groups = ["E0"] if per_group else []
    fit = fit_law(catalog.get("chinchilla2022"), table, n_starts=32, per_group=groups)
    problem = _Problem(fit.law, table, "huber", 1e-3, groups)
    z = problem.to_z(np.array([fit.values[k] for k in problem.names]))
    bounds = problem.bounds_z()
    lo = np.array([-np.inf if a is None else a for a, _ in bounds])
    hi = np.array([np.inf if b is None else b for _, b in bounds])
    W = _resamples(len(table), 12)
    reps = refit_replicates(problem, z, W, np.zeros((12, 0, len(z))), lo, hi)
    assert reps.converged.all()
    for b in range(12):
        with _blas().limit(limits=1, user_api="blas"):  # as fit_law runs it
            ref = minimize(problem, z, args=(W[b],), jac=True, method="L-BFGS-B", bounds=bounds,
                           options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20})
        # the batched Gauss-Newton reaches at least scipy's optimum, at the same point
        assert reps.objective[b] <= ref.fun * (1 + 1e-7)
        assert np.max(np.abs(reps.z[b] - ref.x)) < 2e-3


@pytest.mark.slow
def test_multistart_bootstrap_spans_two_basins():
    """A loss that two frequencies explain almost equally: refits from the best point alone stay in its
    basin, so the interval of w misses the other; restarts let resamples that prefer it move there."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 12, 120)
    y = (2 + 0.05 * np.sin(x) + 0.05 * np.sin(1.6 * x + 0.5)) * np.exp(rng.normal(0, 0.01, 120))
    table = load_runs(pd.DataFrame({"N": np.exp(x) * 1e6, "loss": y}))
    law = parse_law("c + a*sin(w*log(N/1e6)) + b*cos(w*log(N/1e6))", ["N"],
                    init={"c": (1.5, 2.5), "a": (-0.1, 0.1), "b": (-0.1, 0.1), "w": (0.5, 2.0)})
    one = fit_law(law, table, n_starts=64, bootstrap=100, boot_starts=1, seed=0)
    many = fit_law(law, table, n_starts=64, bootstrap=100, boot_starts=4, seed=0)
    assert abs(one.values["w"] - 1.0) < 0.1 and one.boot_switched == 0
    assert one.intervals["w"][1] < 1.1  # one basin only
    assert many.boot_switched > 0.02 and many.intervals["w"][1] > 1.4  # the interval reaches w = 1.6
    assert any("several basins" in w for w in many.warnings)


def test_failed_replicates_are_reported_and_left_out(chinchilla_table, monkeypatch):
    import lawfind.bootstrap as bootstrap

    monkeypatch.setattr(bootstrap, "_MAXITER", 1)  # no refit can converge in one step
    fit = fit_law(catalog.get("chinchilla2022"), chinchilla_table, n_starts=8, bootstrap=20, boot_starts=1)
    assert fit.boot_failed > 0.5 and len(fit.bootstrap) == round(20 * (1 - fit.boot_failed))
    assert any("converged from none of their starts" in w for w in fit.warnings)
    assert fit.uncertainty()["boot_failed"] == fit.boot_failed


@pytest.mark.slow
def test_replicates_on_a_bound_are_reported(chinchilla_table):
    """alpha is planted at 0.34 and bounded at 0.3: the fit and every replicate end on the bound, so
    the interval [0.3, 0.3] says nothing about the data, and the fit says so; without the bound, no note."""
    from lawfind.laws import Param

    law = catalog.get("chinchilla2022")
    cut = law.with_params([Param(p.name, (0.1, 0.3), (0.0, 0.3)) if p.name == "alpha" else p for p in law.params])
    fit = fit_law(cut, chinchilla_table, n_starts=16, bootstrap=40, seed=0)
    assert fit.values["alpha"] == pytest.approx(0.3) and fit.intervals["alpha"][1] == pytest.approx(0.3)
    notes = [w for w in fit.warnings if "bootstrap refits on a bound" in w]
    assert len(notes) == 1 and "alpha (" in notes[0] and "beta" not in notes[0]
    free = fit_law(law, chinchilla_table, n_starts=16, bootstrap=40, seed=0)
    assert not any("on a bound" in w for w in free.warnings)


def test_noise_is_the_pooled_variance_of_repeats():
    from lawfind.fit import repeat_noise

    frame = pd.DataFrame({"N": [1e8, 1e8, 1e8, 1e9, 1e9, 2e9], "D": [1e10] * 6,
                          "loss": [3.0, 3.1, 2.9, 2.5, 2.6, 2.4], "seed": [0, 1, 2, 0, 1, 0]})
    noise = repeat_noise(load_runs(frame))
    logs = [np.log([3.0, 3.1, 2.9]), np.log([2.5, 2.6])]
    ss = sum(((g - g.mean()) ** 2).sum() for g in logs)
    assert noise["dof"] == 3 and noise["groups"] == 2
    assert noise["sd_log"] == pytest.approx(np.sqrt(ss / 3), rel=1e-12)
    assert repeat_noise(load_runs(frame.iloc[[0, 3, 5]])) is None


def test_a_fit_prints_as_what_it_is(chinchilla_table):
    fit = fit_law(catalog.get("chinchilla2022"), chinchilla_table.subset(np.arange(len(chinchilla_table)) < 120),
                  n_starts=16, bootstrap=20, seed=0)
    text = repr(fit)
    lo, hi = fit.intervals["alpha"]
    assert text.startswith("FitResult(chinchilla2022: E0=") and f"alpha={fit.values['alpha']:.4g} [{lo:.4g}, {hi:.4g}]" in text
    assert "n=120" in text and f"rmse_log={fit.rmse_log:.3g}" in text and "array" not in text
    html = fit._repr_html_()
    assert html.count("<tr><td>") == 5 and f"<td>{fit.stderr['beta']:.4g}</td>" in html and "converged" in html


def test_the_fitters_problem_is_what_the_bootstrap_asks_for(chinchilla_table):
    from lawfind.bootstrap import Problem
    from lawfind.fit import _Problem

    problem: Problem = _Problem(catalog.get("chinchilla2022"), chinchilla_table, "huber", 1e-3, ())
    Z = problem.to_z(np.array([[1.7, 400.0, 400.0, 0.34, 0.28], [1.6, 300.0, 500.0, 0.3, 0.3]]))
    r, J = problem.batch(Z)
    assert r.shape == (2, problem.n) and J.shape == (2, 5, problem.n)
    for b in range(2):  # the batched Jacobian agrees with the single-point gradient of the objective
        f, g = problem(Z[b])
        h, dh = problem.rho(r[b])
        assert f == pytest.approx(h.sum()) and g == pytest.approx(J[b] @ dh, rel=1e-9)


def test_constants_the_data_do_not_pin_are_named():
    from lawfind.fit import unpinned

    # the main job's B in [13, 2.0e5] and alpha in [0.0001, 0.191] span orders of magnitude; E0 and an
    # interval across zero (a sign the data leave open) do not count
    got = unpinned({"B": (13.0, 2.0e5), "alpha": (0.0001, 0.191), "E0": (1.4, 1.5), "q": (-0.05, 0.03),
                    "A": (20.0, 1500.0)})
    assert got == ["B in [13, 2e+05]", "alpha in [0.0001, 0.191]"]
    assert unpinned({"c": (float("nan"), 1.0)}) == ["c in [nan, 1]"]


def test_local_intervals_agree_with_the_truth_and_flag_a_tangle(chinchilla_table):
    """The curvature's intervals cover the planted constants where the data pin them, and are
    unbounded for a constant that trades off exactly against another (A k^-alpha: only the product
    is identified)."""
    from lawfind.fit import local_intervals, unpinned

    law = catalog.get("chinchilla2022")
    fit = fit_law(law, chinchilla_table, seed=0)
    iv = local_intervals(fit, chinchilla_table)
    assert set(iv) == set(fit.values)
    for name, (lo, hi) in iv.items():
        assert lo < fit.values[name] < hi and np.isfinite(lo) and np.isfinite(hi)
    assert iv["alpha"][1] - iv["alpha"][0] < 0.2
    tangle = parse_law("E0 + A*(k*N)**(-alpha) + B/D**beta", ["N", "D"], name="tangle",
                       bounds={"A": (0.0, None), "k": (1e-3, 1e3)})
    tfit = fit_law(tangle, chinchilla_table, seed=0)
    loose = unpinned(local_intervals(tfit, chinchilla_table))
    assert any(s.startswith("k in") for s in loose) and any(s.startswith("A in") for s in loose)
    assert not unpinned(iv)


def test_selection_prefers_identified_constants_among_laws_of_equal_error():
    from lawfind.selection import select_model

    eq = pd.DataFrame({"complexity": [9, 12, 30], "n_params": [5, 6, 12], "loss": [0.0101, 0.0100, 0.0098],
                       "loss_se": [0.0008, 0.0008, 0.0008], "score": [0.0, 0.01, 0.001]})
    assert select_model(eq, "1se") == 0  # fewest constants within one standard error
    eq["n_unpinned"] = [2, 0, 0]  # the 5-constant law is a tangle: two constants span orders of magnitude
    assert select_model(eq, "1se") == 1
    eq["n_unpinned"] = [1, 1, 0]  # equally loose: the fewest constants again... unless one is cleaner
    assert select_model(eq, "1se") == 2
    eq["loss"] = [0.0101, 0.0100, 0.0120]  # a clean law outside one standard error is not preferred
    assert select_model(eq, "1se") == 0


def test_fewer_polished_starts_reach_the_same_optimum_from_a_good_start(chinchilla_table):
    """The grammar engine's child fits run only their two best short runs to convergence: from the
    parent's constants they find the optimum the full fit finds."""
    law = catalog.get("chinchilla2022")
    full = fit_law(law, chinchilla_table, seed=0)
    start = {k: v * 1.2 for k, v in full.values.items()}
    quick = fit_law(law, chinchilla_table, n_starts=2, seed=0, initial=[start], polish=2)
    assert quick.objective == pytest.approx(full.objective, rel=1e-6)
    for k, v in full.values.items():
        assert quick.values[k] == pytest.approx(v, rel=1e-3)
