"""``lawfind discover``: bad input refused before the search (the search itself: tests/test_discover.py)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from lawfind.cli import main
from lawfind.data import load_runs
from lawfind.discovery import Discovery
from lawfind.record import FORMAT_VERSION, OUTPUTS, load_discovery

from ..conftest import chinchilla_frame
from .conftest import one_line_error


def test_bad_input_refused_before_the_search(runs_csv, tmp_path, capsys, no_work):
    no_work("lawfind.cli.common.load_runs", "lawfind.cli.discover.Discovery.fit")
    (tmp_path / "file").write_text("x")
    for argv, message in [
        (["--out", str(tmp_path / "file")], f"--out '{tmp_path / 'file'}' is a file, not a folder"),
        (["--out", str(tmp_path / "file" / "out")], "which is a file, not a folder"),
        (["--out", str(tmp_path / ("x" * 300))], "File name too long"),
        (["--generations", "0"], "argument --generations: must be >= 1, got 0"),
        (["--population", "-3"], "argument --population: must be >= 1"),
        (["--seeds", "0"], "argument --seeds: must be >= 1"),
        (["--time-budget", "-1"], "argument --time-budget: must be > 0"),
        (["--bootstrap", "-1"], "argument --bootstrap: must be >= 0"),
        (["--holdout", "top:N:0"], "must lie in (0, 1)"),
    ]:
        assert main(["discover", str(runs_csv), *argv]) == 2, argv
        assert message in one_line_error(capsys), argv


def test_output_folder_checked_but_not_made_before_the_search(runs_csv, tmp_path, monkeypatch, capsys):
    out = tmp_path / "a" / "b"
    seen = {}

    def stop(self, table, progress=None):
        seen["folder existed"] = (tmp_path / "a").exists()
        raise KeyboardInterrupt

    monkeypatch.setattr("lawfind.cli.discover.Discovery.fit", stop)
    assert main(["discover", str(runs_csv), "--out", str(out)]) == 130
    assert seen == {"folder existed": False} and not (tmp_path / "a").exists()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> Discovery:
    """A discovery of 300 Chinchilla runs with the catalogue alone (a few seconds), fitted once."""
    path = tmp_path_factory.mktemp("fitted") / "runs.csv"
    chinchilla_frame(300).to_csv(path, index=False)
    return Discovery(engine="catalog", bootstrap=0).fit(load_runs(path))


@pytest.fixture()
def discover(fitted, runs_csv, monkeypatch, capsys):
    """``lawfind discover runs.csv ARGS`` in-process, its search replaced by ``fitted``'s result:
    returns the exit status and stdout."""
    def fit(self, table, progress=None):
        self.__dict__.update(fitted.__dict__)
        return self

    monkeypatch.setattr("lawfind.cli.discover.Discovery.fit", fit)

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        status = main(["discover", str(runs_csv), "--engine", "catalog", "--bootstrap", "0", *args])
        return status, capsys.readouterr().out

    return run


def _previous_run(out: Path) -> dict[str, str]:
    """A folder with a previous discovery's whole output (with its report) and a file of the user's."""
    out.mkdir(parents=True)
    files = {name: f"old {name}" for name in OUTPUTS}
    files["notes.txt"] = "the user's own notes"
    for name, text in files.items():
        (out / name).write_text(text)
    return files


@pytest.mark.slow
def test_an_interrupted_write_leaves_no_folder_or_a_whole_one(discover, fitted, tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    new, old = tmp_path / "new" / "out", tmp_path / "old"
    previous = _previous_run(old)
    with monkeypatch.context() as m:
        m.setattr("lawfind.plots.residuals", interrupt)  # half way through the plots
        assert discover("--no-report", "--out", str(new))[0] == 130
        assert not (tmp_path / "new").exists()  # no folder at all, not even its parent
        assert discover("--out", str(old))[0] == 130
    assert {p.name: p.read_text() for p in old.iterdir()} == previous  # the previous output as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old", "runs.csv"]  # no temporary folder left

    # interrupted while the new files are put in place: best.json goes first and comes back last
    calls, real_replace = [], os.replace

    def replace_then_stop(src, dst):
        calls.append(Path(dst).name)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real_replace(src, dst)

    with monkeypatch.context() as m:
        m.setattr("lawfind.record.os.replace", replace_then_stop)
        assert discover("--no-report", "--out", str(old))[0] == 130
    assert not (old / "best.json").exists() and (old / "notes.txt").read_text() == previous["notes.txt"]
    assert (old / calls[0]).read_text() != previous[calls[0]]  # new files, which claim no discovery
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old", "runs.csv"]

    status, _ = discover("--no-report", "--out", str(new))
    assert status == 0 and {p.name for p in new.iterdir()} == set(OUTPUTS) - {"report.html", "optima.json"}
    assert load_discovery(new).values == pytest.approx(fitted.best_.values)


def test_no_report_removes_a_previous_report_and_keeps_the_users_files(discover, tmp_path):
    out = tmp_path / "out"
    previous = _previous_run(out)
    status, stdout = discover("--no-report", "--out", str(out))
    assert status == 0
    names = {p.name for p in out.iterdir()}
    assert names == set(OUTPUTS) - {"report.html", "optima.json"} | {"notes.txt"}
    assert (out / "notes.txt").read_text() == previous["notes.txt"]
    assert json.loads((out / "best.json").read_text())["version"] == FORMAT_VERSION
    text = " ".join(stdout.split())  # the console wraps long lines
    wrote = text[text.rindex("wrote "):]
    assert wrote.startswith("wrote best.json, best.tex, candidates.csv") and wrote.endswith(f"to {out}/")
    assert "report.html" not in wrote and "optima.json" not in wrote and "notes.txt" not in wrote


@pytest.mark.parametrize("argv,message", [
    (["--decreasing", "Q"], "--decreasing names 'Q', which is not a feature"),
    (["--engine", "operon", "--operators", "foo"], "operator"),
    (["--engine", "pysr"], "pysr"),
])
def test_a_refused_discovery_leaves_no_folder(runs_csv, tmp_path, capsys, argv, message):
    if "pysr" in argv and importlib.util.find_spec("pysr") is not None:
        pytest.skip("PySR is installed: --engine pysr would search")
    out = tmp_path / "a" / "b"
    assert main(["discover", str(runs_csv), *argv, "--generations", "1", "--population", "10", "--out", str(out)]) == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "a").exists()
