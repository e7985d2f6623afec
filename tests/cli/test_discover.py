"""``lawfind discover``: bad input refused before the search (the search itself: tests/test_discover.py)."""

from __future__ import annotations

from lawfind.cli import main

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


def test_output_folder_made_before_the_search(runs_csv, tmp_path, monkeypatch, capsys):
    out = tmp_path / "a" / "b"
    seen = {}

    def stop(self, table, progress=None):
        seen["folder existed"] = out.is_dir()
        raise KeyboardInterrupt

    monkeypatch.setattr("lawfind.cli.discover.Discovery.fit", stop)
    assert main(["discover", str(runs_csv), "--out", str(out)]) == 130
    assert seen == {"folder existed": True}
