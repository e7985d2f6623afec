"""Predictions with confidence and prediction intervals, range checks, model averaging, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lawfind import catalog
from lawfind.cli import main
from lawfind.data import load_runs
from lawfind.errors import OptionError
from lawfind.record import save_fit
from lawfind.fit import fit_law
from lawfind.predict import Predictor, average_laws, out_of_range, parse_point, predict

from .conftest import chinchilla_frame


@pytest.fixture(scope="module")
def fitted():
    table = load_runs(chinchilla_frame(300))
    return table, fit_law(catalog.get("chinchilla2022"), table, n_starts=32, bootstrap=100, seed=0)


@pytest.fixture()
def fit_json(fitted, tmp_path):
    table, fit = fitted
    return save_fit(tmp_path / "fit.json", fit, ranges=table.ranges())


def test_interval_widens_with_distance_from_the_data(fitted):
    table, fit = fitted
    pred = Predictor.from_fit(fit, table.ranges())
    n_max, d_mid = table.ranges()["N"][1], float(np.sqrt(np.prod(table.ranges()["D"])))
    out = predict(pred, pd.DataFrame({"N": n_max * np.array([0.5, 4, 16, 64, 256]), "D": d_mid}))
    ci = np.log(out.ci_high / out.ci_low).to_numpy()
    pi = np.log(out.pi_high / out.pi_low).to_numpy()
    assert np.all(np.diff(ci) > 0) and np.all(np.diff(pi) > 0), (ci, pi)  # farther out, wider
    assert ci[-1] > 2 * ci[0]
    assert np.all(out.pi_high >= out.ci_high) and np.all(out.pi_low <= out.ci_low)
    assert np.all((out.ci_low <= out.loss) & (out.loss <= out.ci_high))
    assert out.extrapolation.to_numpy() == pytest.approx([1, 4, 16, 64, 256])
    assert out.outside[0] == "" and "N 4x above the largest" in out.outside[1]


def test_prediction_interval_adds_the_noise_of_repeats():
    frame = chinchilla_frame(200, noise=0.01, seed=1)
    rng = np.random.default_rng(3)
    reps = pd.concat([frame.iloc[[i] * 4] for i in range(5)], ignore_index=True)  # 5 configurations, 4 seeds each
    reps["loss"] = reps["loss"] * np.exp(rng.normal(0, 0.02, len(reps)))
    frame = pd.concat([frame.assign(seed=0), reps.assign(seed=np.tile([1, 2, 3, 4], 5))], ignore_index=True)
    table = load_runs(frame)
    fit = fit_law(catalog.get("chinchilla2022"), table, n_starts=32, bootstrap=60, seed=0)
    assert fit.noise["dof"] == 20 and fit.noise["groups"] == 5 and 0.01 < fit.noise["sd_log"] < 0.035
    pred = Predictor.from_fit(fit, table.ranges())
    assert pred.noise_sd == fit.noise["sd_log"] and "repeated configuration" in pred.noise_source
    out = predict(pred, {"N": [3e8], "D": [1e10]})
    half_pi = np.log(out.pi_high / out.pi_low)[0] / 2
    half_ci = np.log(out.ci_high / out.ci_low)[0] / 2
    # a noise of sd s estimated with 20 degrees of freedom adds about t(20) = 2.09 s in quadrature
    assert half_pi == pytest.approx(np.hypot(half_ci, 2.086 * fit.noise["sd_log"]), rel=0.1)


def test_from_json_reads_replicates_noise_and_ranges(fitted, fit_json):
    table, fit = fitted
    record = json.loads(fit_json.read_text())
    assert record["fit"]["rmse_log"] == pytest.approx(fit.rmse_log) and record["fit"]["noise"] is None
    pred = Predictor.from_json(fit_json)
    assert pred.replicates.shape == (100, 5) and pred.noise_sd == pytest.approx(fit.rmse_log)
    assert "no repeated configurations" in pred.noise_source
    a = predict(pred, {"N": [1e9, 5e10], "D": [1e10, 1e12]})
    b = predict(Predictor.from_fit(fit, table.ranges()), {"N": [1e9, 5e10], "D": [1e10, 1e12]})
    pd.testing.assert_frame_equal(a, b)


def test_basic_and_percentile_intervals_share_the_width(fitted):
    table, fit = fitted
    pred = Predictor.from_fit(fit, table.ranges())
    p = predict(pred, {"N": [4e10], "D": [1e11]})
    b = predict(pred, {"N": [4e10], "D": [1e11]}, method="basic")
    assert np.log(p.ci_high / p.ci_low)[0] == pytest.approx(np.log(b.ci_high / b.ci_low)[0])
    with pytest.raises(OptionError, match="unknown interval method 'basik'.*did you mean 'basic'"):
        predict(pred, {"N": [4e10], "D": [1e11]}, method="basik")


def test_out_of_range_factors():
    ranges = {"N": (1e8, 1e10), "D": (1e10, 1e11), "S": (0.0, 0.5)}
    assert out_of_range({"N": 5e9, "D": 2e10, "S": 0.2}, ranges) == (1.0, "")
    f, text = out_of_range({"N": 4e10, "D": 2e9, "S": 0.7}, ranges)
    assert f == pytest.approx(5.0) and "N 4x above the largest" in text and "D 5x below the smallest" in text
    assert "S 0.2 above the fitted range [0, 0.5]" in text
    assert "N 4x above the largest (1e+10)" in text  # the edge it is measured from, not the point
    # within 1 % of an edge is inside (a sweep's achieved sizes miss their targets by a little)
    assert out_of_range({"N": 1.005e10, "D": 0.995e10, "S": 0.504}, ranges) == (1.0, "")
    f, text = out_of_range({"N": 1.02e10, "D": 2e10, "S": 0.2}, ranges)
    assert f == pytest.approx(1.02) and text == "N 1.02x above the largest (1e+10)"


def test_parse_point_names_the_bad_part():
    assert parse_point("N=7e9, D=2e12", ["N", "D"]) == {"N": 7e9, "D": 2e12}
    with pytest.raises(OptionError, match=r"'2e1x2' is not a number in 'D=2e1x2'"):
        parse_point("N=7e9,D=2e1x2", ["N", "D"])
    with pytest.raises(OptionError, match=r"unknown variable 'Naa'.*did you mean 'Na'"):
        parse_point("Naa=3", ["N", "Na", "D"])
    with pytest.raises(OptionError, match=r"cannot read 'N7e9'"):
        parse_point("N7e9", ["N"])


def test_average_over_the_front(fitted, fit_json, tmp_path):
    table, fit = fitted
    v = fit.values
    rows = [{"complexity": 9, "loss": 0.010, "sympy_format": str(fit.substituted()), "admissible": True},
            {"complexity": 7, "loss": 0.011, "sympy_format": f"{v['E0'] * 1.02} + {v['A']}/N**{v['alpha']} + "
                                                               f"{v['B']}/D**{v['beta']}", "admissible": True},
            {"complexity": 5, "loss": 0.012, "sympy_format": "9.0 + 0*N", "admissible": False}]
    pd.DataFrame(rows).to_csv(tmp_path / "equations.csv", index=False)
    laws = average_laws(tmp_path / "equations.csv", 5, ["N", "D"])
    assert len(laws) == 2  # the inadmissible row is left out
    out = predict(Predictor.from_json(fit_json), {"N": [1e9], "D": [1e10]}, average=laws)
    assert out.model_low[0] == pytest.approx(out.loss[0]) and out.model_high[0] > out.loss[0] * 1.005
    assert out.model_low[0] < out.loss_avg[0] < out.model_high[0] and out.model_sd_log[0] > 0
    assert out.avg_ci_high[0] > out.ci_high[0] and out.avg_pi_high[0] > out.avg_ci_high[0]
    assert main(["predict", str(fit_json), "--at", "N=1e9,D=1e10", "--average", "2"]) == 0


def test_average_reads_variables_only_other_laws_use(fitted, fit_json, tmp_path):
    """A law of the front may use a variable the chosen law lacks (S here): the points give it, and the
    average uses it; a point without it gets a one-line error naming it."""
    table, fit = fitted
    rows = [{"complexity": 9, "loss": 0.010, "sympy_format": str(fit.substituted()), "admissible": True},
            {"complexity": 11, "loss": 0.011, "sympy_format": f"({fit.substituted()})*(1 + 0.1*S)", "admissible": True}]
    pd.DataFrame(rows).to_csv(tmp_path / "equations.csv", index=False)
    laws = average_laws(tmp_path / "equations.csv", 2, ["N", "D", "S"])
    out = predict(Predictor.from_json(fit_json), {"N": [1e9, 1e9], "D": [1e10, 1e10], "S": [0.0, 0.5]}, average=laws)
    assert out.model_high[0] == pytest.approx(out.loss[0]) and out.model_high[1] == pytest.approx(1.05 * out.loss[1])
    with pytest.raises(OptionError, match="the averaged laws need S at every point"):
        predict(Predictor.from_json(fit_json), {"N": [1e9], "D": [1e10]}, average=laws)


def test_cli_predict_inside_and_outside(fit_json, tmp_path, capsys):
    out = tmp_path / "p.csv"
    assert main(["predict", str(fit_json), "--at", "N=1e9,D=1e10", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "inside" in text and "outside the fitted" not in text and "95% PI" in text
    assert pd.read_csv(out)["extrapolation"].tolist() == [1.0]
    n_far = 4 * json.loads(fit_json.read_text())["ranges"]["N"][1]
    assert main(["predict", str(fit_json), "--at", f"N={n_far!r},D=1e10", "--at", "N=1e9,D=1e10"]) == 0
    text = capsys.readouterr().out
    assert "N 4x above the largest" in text and "1 point(s) lie outside" in text


@pytest.mark.parametrize("at,message", [
    ("N=7e9,D=2e1x2", "'2e1x2' is not a number in 'D=2e1x2'"),
    ("N=7e9,Q=3", "unknown variable 'Q'"),
    ("N=7e9", "the law needs D at every point"),
    ("N7e9,D=1", "cannot read 'N7e9'"),
])
def test_cli_bad_at_is_one_line_naming_the_part(at, message, fit_json, capsys):
    assert main(["predict", str(fit_json), "--at", at]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.strip().count("\n") == 0


def test_cli_grid_in_column_names(fit_json, tmp_path, capsys):
    grid = tmp_path / "grid.csv"
    pd.DataFrame({"N": [1e8, 1e9, 4e10], "D": [1e10, 1e10, 1e11]}).to_csv(grid, index=False)
    out = tmp_path / "p.csv"
    assert main(["predict", str(fit_json), "--grid", str(grid), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert len(table) == 3 and (table.extrapolation > 1).tolist() == [False, False, True]
    assert (table.ci_low < table.loss).all() and (table.loss < table.ci_high).all()


@pytest.mark.parametrize("command", ["predict", "suggest"])
def test_help_shows_an_example(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0 and f"lawfind {command} " in capsys.readouterr().out
