"""``lawfind fit``: results, and bad input refused before any work."""

from __future__ import annotations

import json

from lawfind.cli import main

from .conftest import one_line_error


def test_fit_writes_json_and_prints_latex(runs_csv, tmp_path, capsys):
    out = tmp_path / "new" / "fit.json"
    assert main(["fit", str(runs_csv), "--law", "chinchilla2022", "--starts", "32", "--bootstrap", "20",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "alpha" in text and "95% interval" in text and "L = " in text and f"wrote {out}" in text
    assert abs(json.loads(out.read_text())["parameters"]["alpha"]["value"] - 0.34) < 0.03


def test_fit_a_typed_formula(runs_csv, capsys):
    assert main(["fit", str(runs_csv), "--law", "E0 + A/N**a + B/D**b", "--init", "A=10:1000,B=10:1000",
                 "--starts", "32"]) == 0
    captured = capsys.readouterr()
    assert "converged: True" in captured.out and captured.err == ""


def test_a_name_that_looks_like_a_column_is_reported(runs_csv, capsys):
    law = "E0 + A/N**alpha + B/Q**beta"
    assert main(["fit", str(runs_csv), "--law", law, "--starts", "4"]) == 0
    err = capsys.readouterr().err
    assert err == ("warning: Q is not a column of the table: fitted as a constant; pass --params Q to silence this, "
                   "or did you mean D (a column the formula does not use)?\n")
    assert main(["fit", str(runs_csv), "--law", law, "--starts", "4", "--params", "Q"]) == 0
    assert capsys.readouterr().err == ""


def test_bad_options_refused_before_loading(runs_csv, tmp_path, capsys, no_work):
    no_work("lawfind.cli.common.load_runs", "lawfind.cli.fit.fit_law")
    (tmp_path / "file").write_text("x")
    for argv, message in [
        (["--delta", "-1"], "argument --delta: must be > 0, got -1"),
        (["--starts", "0"], "argument --starts: must be >= 1, got 0"),
        (["--bootstrap", "-5"], "argument --bootstrap: must be >= 0, got -5"),
        (["--seed", "-1"], "argument --seed: must be >= 0, got -1"),
        (["--init", "A=1-100"], "argument --init: cannot read the range 'A=1-100'"),
        (["--out", str(tmp_path / "file" / "fit.json")], "which is a file, not a folder"),
        (["--out", str(tmp_path)], "is a folder: give a file name inside it"),
        (["--out", str(tmp_path / ("x" * 300))], "File name too long"),
        (["--law", "chinchilla2022", "--params", "Q"], "'chinchilla2022' is a catalogue law"),
    ]:
        assert main(["fit", str(runs_csv), "--law", "E0 + A/N**alpha", *argv]) == 2, argv
        assert message in one_line_error(capsys), argv


def test_unreadable_input_paths(tmp_path, capsys):
    for path, message in [(tmp_path / ("x" * 300 + ".csv"), "the name is too long for the file system"),
                          (tmp_path / "a\nb.csv", "no such file: '"), (tmp_path, "is a folder")]:
        assert main(["fit", str(path), "--law", "chinchilla2022"]) == 2
        assert message in one_line_error(capsys)
