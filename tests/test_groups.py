"""Groups with a shared form (discover --group, and every consumer taking the group as a column), and
several targets in one call."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lawfind import catalog
from lawfind.cli import main
from lawfind.discovery import Discovery
from lawfind.errors import OptionError
from lawfind.groups import exponents, ladder, limits
from lawfind.predict import Predictor, predict
from lawfind.pyexport import load_python_law
from lawfind.record import load_discovery

#: Two datasets sharing the exponents, with their own limit and coefficient of N.
TRUTH = {"pile": (1.8, 400.0), "c4": (2.1, 250.0)}
ALPHA, BETA, B = 0.34, 0.28, 1200.0
NS = (2e7, 5e7, 1.2e8, 3e8, 7e8)
SMALL = dict(engine="grammar", max_depth=2, beam=2, bootstrap=0, n_jobs=1)


def truth(level: str, N, D):
    E0, A = TRUTH[level]
    return E0 + A / np.asarray(N) ** ALPHA + B / np.asarray(D) ** BETA


def two_datasets(seed: int = 0, noise: float = 0.005) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [{"N": N, "D": D, "dataset": g, "loss": float(truth(g, N, D)) * np.exp(noise * rng.standard_normal())}
            for g in TRUTH for N in NS for D in (1e9, 3e9, 1e10, 3e10)]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    """The planted two-dataset table discovered with group='dataset', saved without a report."""
    disc = Discovery(group="dataset", **SMALL).fit(two_datasets(), target="loss")
    out = tmp_path_factory.mktemp("grouped") / "out"
    disc.save(out)
    return disc, out


def test_ladder_keeps_exponents_shared_until_the_last_rung():
    law = catalog.get("chinchilla2022")
    assert set(exponents(law)) == {"alpha", "beta"}
    assert limits(law) == ("E0",)
    assert ladder(law) == [(), ("E0",), ("E0", "A", "B"), tuple(law.param_names)]


def test_group_discovery_recovers_per_group_predictions_with_shared_exponents(grouped):
    disc, _ = grouped
    fit = disc.best_
    assert fit.groups == ("c4", "pile") and fit.per_group
    exps = set(exponents(fit.law))
    assert exps and not exps & set(fit.per_group)  # the exponents are shared
    N, D = 4 * max(NS), 3e10
    frame = pd.DataFrame({"N": [N, N], "D": [D, D], "dataset": ["pile", "c4"]})
    got = disc.predict(frame)
    want = np.array([truth("pile", N, D), truth("c4", N, D)])
    assert np.all(np.abs(got / want - 1) < 0.02), got / want - 1
    assert abs(got[0] / got[1] - want[0] / want[1]) < 0.01  # the groups differ as the truth does


def test_declared_per_group_is_used():
    disc = Discovery(group="dataset", per_group=("E0",), engine="catalog", bootstrap=0, n_jobs=1)
    disc.fit(two_datasets(), target="loss")
    assert set(disc.best_.per_group) <= {"E0"}
    with pytest.raises(OptionError, match="group"):
        Discovery(per_group=("E0",), engine="catalog", n_jobs=1).fit(two_datasets().drop(columns="dataset"),
                                                                     target="loss")


def test_record_and_predictor_per_group(grouped):
    disc, out = grouped
    record = load_discovery(out)
    assert record.groups == ("c4", "pile") and record.group == "dataset"
    by_group = record.values_by_group()
    assert by_group["pile"] == disc.best_.group_values("pile")
    pred = Predictor.from_json(out)
    frame = pd.DataFrame({"N": [1e9, 1e9], "D": [1e10, 1e10], "dataset": ["c4", "pile"]})
    table = predict(pred, frame)
    assert list(table["dataset"]) == ["c4", "pile"]
    np.testing.assert_allclose(table["loss"], disc.predict(frame), rtol=1e-9)
    with pytest.raises(OptionError, match="did you mean 'pile'"):
        pred.for_level("pil")
    with pytest.raises(OptionError, match="dataset=LEVEL|dataset="):
        predict(pred, frame.drop(columns="dataset"))


def test_predict_cli_per_group_and_unknown_level(grouped, capsys, tmp_path):
    _, out = grouped
    csv = tmp_path / "p.csv"
    assert main(["predict", str(out / "best.json"), "--at", "N=2.8e9,D=3e10,dataset=pile",
                 "--at", "N=2.8e9,D=3e10,dataset=c4", "--out", str(csv)]) == 0
    got = pd.read_csv(csv)
    assert list(got["dataset"]) == ["pile", "c4"] and got["loss"][0] != pytest.approx(got["loss"][1], rel=0.01)
    capsys.readouterr()
    assert main(["predict", str(out / "best.json"), "--at", "N=2.8e9,D=3e10,dataset=pil"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'pile'" in err and len(err.strip().splitlines()) == 1


def test_export_latex_has_a_subscript_per_group(grouped, capsys):
    _, out = grouped
    assert main(["export", str(out)]) == 0
    text = capsys.readouterr().out
    per = load_discovery(out).per_group
    assert r"\mathrm{pile}" in text and r"\mathrm{c4}" in text
    if "E0" in per:
        assert r"E_{0,\mathrm{pile}}" in text


def test_export_python_matches_predict(grouped, tmp_path):
    _, out = grouped
    path = tmp_path / "law.py"
    assert main(["export", str(out), "--python", "--out", str(path)]) == 0
    law = load_python_law(path.read_text())
    rows = [{"N": 2.8e9, "D": 3e10}, {"N": 1e8, "D": 1e9}]
    pred = Predictor.from_json(out)
    for level in ("pile", "c4"):
        want = predict(pred, pd.DataFrame(rows).assign(dataset=level))["loss"].to_numpy()
        got = np.array([r["loss"] for r in law(rows, level)])
        np.testing.assert_allclose(got, want, rtol=1e-10)


@pytest.mark.slow
def test_optimize_per_group_and_at_level(grouped, capsys):
    _, out = grouped
    assert main(["optimize", str(out), "--budget", "1e21", "--at", "dataset=pile"]) == 0
    text = capsys.readouterr().out
    assert "dataset=pile" in text and "dataset=c4" not in text
    assert main(["optimize", str(out), "--budget", "1e21"]) == 0
    text = capsys.readouterr().out
    assert "dataset=pile" in text and "dataset=c4" in text


def test_suggest_needs_a_level(grouped, capsys):
    _, out = grouped
    assert main(["suggest", str(out), "--target", "loss@N=3e9,D=1e11"]) == 2
    assert "--at dataset=LEVEL" in capsys.readouterr().err


@pytest.mark.slow
def test_two_targets_in_one_call_write_two_laws(tmp_path, capsys):
    frame = two_datasets()
    frame = frame[frame["dataset"] == "pile"].drop(columns="dataset")
    frame["loss_b"] = 1.1 * frame["loss"] + 0.2
    data = tmp_path / "runs.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "out"
    assert main(["discover", str(data), "--target", "loss,loss_b", "--engine", "grammar", "--max-depth", "2",
                 "--beam", "2", "--bootstrap", "0", "--no-report", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "loss: loss = " in text and "loss_b: loss_b = " in text
    index = json.loads((out / "index.json").read_text())
    assert [t["target"] for t in index["targets"]] == ["loss", "loss_b"]
    a, b = load_discovery(out / "loss"), load_discovery(out / "loss_b")
    assert a.target == "loss" and b.target == "loss_b"
    x = pd.DataFrame({"N": [2.8e9], "D": [3e10]})
    la, lb = predict(Predictor.from_record(a), x)["loss"][0], predict(Predictor.from_record(b), x)["loss"][0]
    assert lb == pytest.approx(1.1 * la + 0.2, rel=0.02)
    assert (out / "index.html").read_text().count("<a href=") == 2


def test_a_form_found_for_one_target_is_screened_for_the_next():
    """``forms``: a law another target chose is fitted and measured beside the search's; here a form
    the catalogue lacks (a product of powers) is the truth, and it is chosen only where it is given."""
    from lawfind.laws import parse_law
    rng = np.random.default_rng(3)
    N = np.repeat(NS + (1.6e9, 3.5e9), 6)
    D = np.tile([1e9, 2e9, 4e9, 1e10, 2e10, 4e10], len(NS) + 2)
    y = (1.7 + 3e3 * N ** -0.3 * D ** -0.1) * np.exp(0.003 * rng.standard_normal(len(N)))
    frame = pd.DataFrame({"N": N, "D": D, "loss": y})
    law = parse_law("E0 + A*N**(-a)*D**(-b)", ["N", "D"], name="other_target")
    opts = dict(engine="catalog", holdout="N>=1.6e9", bootstrap=0, n_jobs=1)
    given = Discovery(forms=[law], **opts).fit(frame)
    alone = Discovery(**opts).fit(frame)
    assert given.front_[given.best_index_].source == "shared:other_target"
    assert given.best_.values["a"] == pytest.approx(0.3, abs=0.03)
    assert given.best_metrics_.rmse_log < 0.008 < 0.02 < alone.best_metrics_.rmse_log  # floor: 0.0034


def test_several_targets_share_the_time_budget(tmp_path, monkeypatch):
    """--time-budget is the whole command's: the targets' budgets add up to it, and each later target
    is given the forms of the earlier ones."""
    from lawfind.cli import discover as cli_discover
    seen, clock = [], [0.0]

    class Found:  # a discovery whose front holds one law
        front_ = (type("Row", (), {"law": catalog.get("chinchilla2022"), "fit": None})(),)

    def fake(args, budget, forms=()):  # a discovery that spends its whole budget
        seen.append((args.target, budget, len(forms)))
        clock[0] += budget
        return Found()

    monkeypatch.setattr(cli_discover, "_discover", fake)
    monkeypatch.setattr(cli_discover, "_process_age", lambda: clock[0])
    monkeypatch.setattr(cli_discover, "save_index", lambda found, out: [])
    monkeypatch.setattr(cli_discover, "target_lines", lambda found: [])
    data = tmp_path / "runs.csv"
    frame = two_datasets()
    frame.assign(loss_b=frame["loss"] + 0.1, loss_c=frame["loss"] + 0.2).to_csv(data, index=False)
    assert main(["discover", str(data), "--target", "loss,loss_b,loss_c", "--time-budget", "60",
                 "--out", str(tmp_path / "out")]) == 0
    assert [(t, k) for t, _, k in seen] == [("loss", 0), ("loss_b", 1), ("loss_c", 1)]
    budgets = [b for _, b, _ in seen]
    assert sum(budgets) <= 60 and all(15 <= b <= 20 for b in budgets)


def test_a_constant_law_predicts_one_value_per_run():
    from lawfind.fit import fit_law
    from lawfind.data import load_runs
    import sympy as sp
    from lawfind.laws import Law, Param
    table = load_runs(two_datasets()[lambda f: f["dataset"] == "pile"])
    fit = fit_law(Law("constant", sp.Symbol("E0"), (), (Param("E0", (1.0, 5.0), (0.0, None)),)), table)
    assert fit.predict(table).shape == (len(table),)
    assert fit.predict(table)[0] == pytest.approx(float(np.exp(np.mean(np.log(table.y)))), rel=0.01)


@pytest.mark.slow
def test_discover_cli_group_with_report(tmp_path, capsys):
    """The command line (worker processes, a report): the chosen law is marked in candidates.csv, the
    report shows the constants per group and a figure coloured by group."""
    data = tmp_path / "runs.csv"
    two_datasets().to_csv(data, index=False)
    out = tmp_path / "out"
    assert main(["discover", str(data), "--group", "dataset", "--engine", "grammar", "--max-depth", "2", "--beam", "2",
                 "--bootstrap", "20", "--out", str(out)]) == 0
    assert "constants per dataset" in capsys.readouterr().out
    cand = pd.read_csv(out / "candidates.csv")
    record = load_discovery(out)
    assert cand["chosen"].sum() == 1 and int(cand.loc[cand["chosen"], "n_params"].iloc[0]) == len(record.parameters)
    page = (out / "report.html").read_text()
    assert "by dataset" in page and "pile" in page and "c4" in page
