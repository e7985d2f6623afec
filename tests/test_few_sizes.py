"""A law for any table with at least three sizes: the test split keeps the sizes selection needs,
extrapolation steps along size, data and compute, cross-validation where no axis exists, and a
one-line refusal with two sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lawfind import load_runs
from lawfind.admissible import Roles
from lawfind.discovery import Discovery
from lawfind.errors import OptionError
from lawfind.planted import planted_law
from lawfind.record import Selection
from lawfind.selection import Axes, evidence, plan_origins, rolling_origins
from lawfind.splits import default_split

DENSE = planted_law("dense")  # Chinchilla: 1.69 + 406.4 N^-0.34 + 410.7 D^-0.28


def truth(N: np.ndarray | float, D: np.ndarray | float) -> np.ndarray:
    v = DENSE.values
    return v["E0"] + v["A"] * np.asarray(N, float) ** -v["alpha"] + v["B"] * np.asarray(D, float) ** -v["beta"]


def chinchilla_ladder(n_sizes: int, n_d: int = 12, step: float = 3.0, noise: float = 0.005,
                      seed: int = 0) -> pd.DataFrame:
    """``n_sizes`` model sizes (from 1e8, ``step`` apart), each trained on ``n_d`` token counts."""
    rng = np.random.default_rng(seed)
    sizes = 1e8 * step ** np.arange(n_sizes)
    N, D = np.repeat(sizes, n_d), np.tile(np.geomspace(2e9, 2e11, n_d), n_sizes)
    return pd.DataFrame({"N": N, "D": D, "loss": truth(N, D) * np.exp(rng.normal(0, noise, len(N)))})


def splits_of(frame: pd.DataFrame, features: str | None = None):
    table = load_runs(frame, features=features)
    axes = Axes.of(Roles.infer(table.features))
    split = default_split(table, axes.size, axes.data)
    sel = table.subset(split.train)
    return table, axes, split, sel, plan_origins(sel, axes, 3)


def test_with_four_sizes_the_test_split_is_taken_along_data_and_keeps_every_size():
    table, axes, split, sel, origins = splits_of(chinchilla_ladder(4))
    n, d = table.frame["N"].to_numpy(), table.frame["D"].to_numpy()
    assert split.column == "D" and "largest D at each size" in split.description
    # the largest two token counts of every size are tested; every size stays in selection
    assert set(np.unique(n[split.test])) == set(np.unique(n)) == set(np.unique(n[split.train]))
    assert all(d[split.test & (n == s)].min() > d[split.train & (n == s)].max() for s in np.unique(n))
    # one step along size (fit on three sizes, score on the fourth), one along compute, one along data
    assert [o.axis for o in origins] == ["data", "compute", "size"]
    ns = sel.frame["N"].to_numpy()
    assert len(np.unique(ns[origins[-1].fit])) == 3 and set(ns[origins[-1].score]) == {2.7e9}
    ev = evidence(origins, axes)
    assert dict(ev.steps) == {"size": 1, "compute": 1, "data": 1} and ev.trust == "fair"
    assert ev.describe() == "3 extrapolation steps (size 1, compute 1, data 1): fair evidence"


def test_with_three_sizes_no_step_fits_on_two_sizes():
    table, axes, split, sel, origins = splits_of(chinchilla_ladder(3))
    ns = sel.frame["N"].to_numpy()
    assert len(np.unique(ns)) == 3 and {o.axis for o in origins} == {"data", "compute"}
    assert all(len(np.unique(ns[o.fit])) == 3 for o in origins)
    ev = evidence(origins, axes)
    assert ev.trust == "weak" and "none along size" in ev.describe()


def test_plenty_of_sizes_keep_the_size_origins_and_the_top_sizes_as_test():
    frame = chinchilla_ladder(8, n_d=4, step=2.0)
    table, axes, split, sel, origins = splits_of(frame)
    assert split.column == "N" and split.description.startswith("N >= ")
    plain = rolling_origins(sel, "N", 3)
    assert [o.description for o in origins] == [o.description for o in plain]
    assert all((a.fit == b.fit).all() and (a.score == b.score).all() for a, b in zip(origins, plain))
    ev = evidence(origins, axes)
    assert ev.trust == "usual" and ev.describe() == "3 extrapolation steps along size: usual evidence"


def test_two_sizes_are_refused_in_one_line():
    with pytest.raises(OptionError, match="'N' takes 2 distinct size.s., and a law in it needs at least 3") as e:
        Discovery(engine="catalog", bootstrap=0).fit(chinchilla_ladder(2))
    assert "\n" not in str(e.value) and "three constants in size" in str(e.value)


def test_two_sizes_at_the_cli_exit_2_with_one_line(tmp_path, capsys):
    from lawfind.cli import main

    path = tmp_path / "runs.csv"
    chinchilla_ladder(2).to_csv(path, index=False)
    assert main(["discover", str(path), "--engine", "catalog", "--bootstrap", "0", "--no-report",
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: 'N' takes 2 distinct size(s)") and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_an_expert_count_is_never_the_split_axis():
    frame = chinchilla_ladder(4, n_d=6)
    frame = pd.concat([frame.assign(E=e) for e in (1, 4, 16, 64)], ignore_index=True)
    frame["loss"] *= 1 - 0.02 * np.log(frame["E"])
    for features, axis in (("D,N,E", "N"), ("E,D", "D")):  # E first, with and without a size column
        table, axes, split, sel, origins = splits_of(frame, features)
        assert "E" not in (axes.size, axes.data) and split.column == "D"
        assert all("E" not in o.description.replace("E0", "") for o in origins)
        assert evidence(origins, axes).main == ("size" if axis == "N" else "data")


@pytest.mark.parametrize("n_sizes", [4, 3])
def test_a_planted_ladder_with_few_sizes_extrapolates_to_4x_the_largest_size(n_sizes):
    frame = chinchilla_ladder(n_sizes)
    disc = Discovery(engine="catalog", bootstrap=0, n_starts=16).fit(frame)
    assert disc.best_verdict_.ok
    N4, D = 4 * frame["N"].max(), np.array([2e9, 2e10, 2e11])
    pred = disc.predict(pd.DataFrame({"N": N4, "D": D}))
    assert np.abs(pred / truth(N4, D) - 1).max() < 0.02
    assert disc.splits_.evidence.trust == ("fair" if n_sizes == 4 else "weak")


def test_a_table_without_a_size_column_steps_along_data():
    rng = np.random.default_rng(3)
    D = np.geomspace(1e9, 1e11, 40)
    frame = pd.DataFrame({"D": D, "loss": (1.8 + 410.7 / D ** 0.28) * np.exp(rng.normal(0, 0.003, 40))})
    disc = Discovery(engine="grammar", max_depth=1, bootstrap=0, n_starts=8).fit(frame, features="D")
    ev = disc.splits_.evidence
    assert dict(ev.steps) == {"data": 3} and ev.trust == "usual" and disc.splits_.column == "D"
    pred = disc.predict(pd.DataFrame({"D": [4e11]}))
    assert abs(pred[0] / (1.8 + 410.7 / 4e11 ** 0.28) - 1) < 0.02


def proportions(seed: int = 4) -> pd.DataFrame:
    p = np.random.default_rng(seed).dirichlet(np.ones(3), 60)
    return pd.DataFrame({"p1": p[:, 0], "p2": p[:, 1], "loss": 2 + 0.5 * p[:, 0] ** 0.5 + 0.1 * p[:, 1]})


def test_proportions_only_are_split_at_random_into_folds():
    table, axes, split, sel, origins = splits_of(proportions(), "p1,p2")
    assert axes.main is None and split.column is None and int(split.test.sum()) == 9
    assert [o.axis for o in origins] == ["random"] * 5
    assert sum(int(o.score.sum()) for o in origins) == 51 and not any((o.fit & o.score).any() for o in origins)
    assert evidence(origins, axes).trust == "none"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:no column has a size or data role")
def test_proportions_only_fall_back_to_cross_validation_and_say_so():
    frame = proportions()
    disc = Discovery(engine="grammar", max_depth=1, bootstrap=0, n_starts=8).fit(frame, features="p1,p2")
    ev = disc.splits_.evidence
    assert ev.trust == "none" and dict(ev.steps) == {"random": 5}
    assert "random 15%" in disc.splits_.description and "interpolation only" in disc.splits_.description
    assert disc.best_metrics_.n_test == 9 and disc.best_metrics_.r2 > 0.5


@pytest.mark.parametrize("n_sizes,steps", [(4, 1), (5, 2)])
def test_few_sizes_without_a_data_axis_have_no_test_split(n_sizes, steps):
    # SLDBench's moe task: five dense sizes and expert counts, no token column; a test split of the
    # largest size would leave selection one step of extrapolation, so all five choose the law
    rng = np.random.default_rng(5)
    N = np.repeat(1e8 * 3.0 ** np.arange(n_sizes), 5)
    E = np.tile([1.0, 2, 4, 8, 16], n_sizes)
    frame = pd.DataFrame({"N": N, "E": E, "loss": (1.7 + 406.4 / N ** 0.34) * E ** -0.02
                          * np.exp(rng.normal(0, 0.003, len(N)))})
    table, axes, split, sel, origins = splits_of(frame, "N,E")
    assert not split.test.any() and split.description.startswith(f"none (N takes only {n_sizes} sizes")
    assert [o.axis for o in origins] == ["size"] * steps


def test_the_record_keeps_the_steps_and_the_trust():
    s = Selection("1se", "rolling", "test: ...", steps={"size": 1, "data": 1}, trust="weak")
    back = Selection.from_dict(s.to_dict())
    assert back.steps == {"size": 1, "data": 1} and back.trust == "weak"
    assert Selection.from_dict({}).steps == {} and Selection.from_dict({}).trust is None


def test_five_sizes_step_twice_along_size_alone():
    table, axes, split, sel, origins = splits_of(chinchilla_ladder(5, n_d=6))
    assert split.column == "D" and len(np.unique(sel.frame["N"])) == 5
    assert [o.axis for o in origins] == ["size", "size"]
    assert evidence(origins, axes).describe() == "2 extrapolation steps along size: fair evidence"


def test_the_cli_prints_and_records_the_steps_that_decided(tmp_path, capsys):
    import json

    from lawfind.cli import main

    path, out = tmp_path / "runs.csv", tmp_path / "out"
    chinchilla_ladder(4).to_csv(path, index=False)
    assert main(["discover", str(path), "--engine", "catalog", "--bootstrap", "0", "--no-report",
                 "--out", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "decided by 3 extrapolation steps (size 1, compute 1, data 1): fair evidence" in printed
    selection = json.loads((out / "best.json").read_text())["selection"]
    assert selection["steps"] == {"size": 1, "compute": 1, "data": 1} and selection["trust"] == "fair"
    assert "largest D at each size" in selection["splits"]
