"""The command line, called in-process: results, one-line errors, help with examples."""

from __future__ import annotations

import json

import pytest

from lawfind.cli import main

from .conftest import chinchilla_frame


@pytest.fixture()
def runs_csv(tmp_path):
    path = tmp_path / "runs.csv"
    chinchilla_frame(300).to_csv(path, index=False)
    return path


def test_fit_writes_json_and_prints_latex(runs_csv, tmp_path, capsys):
    out = tmp_path / "fit.json"
    assert main(["fit", str(runs_csv), "--law", "chinchilla2022", "--starts", "32", "--bootstrap", "20",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "alpha" in text and "95% interval" in text and "L = " in text
    assert abs(json.loads(out.read_text())["parameters"]["alpha"]["value"] - 0.34) < 0.03


def test_fit_a_typed_formula(runs_csv, capsys):
    assert main(["fit", str(runs_csv), "--law", "E + A/N**a + B/D**b", "--init", "A=10:1000,B=10:1000",
                 "--starts", "32"]) == 0
    assert "converged: True" in capsys.readouterr().out


def test_compare_and_export(runs_csv, tmp_path, capsys):
    tex = tmp_path / "t.tex"
    assert main(["compare", str(runs_csv), "--laws", "chinchilla2022,kaplan2020", "--holdout", "N>=3e9",
                 "--starts", "16", "--latex", str(tex)]) == 0
    text = capsys.readouterr().out
    assert text.index("chinchilla2022") < text.index("kaplan2020") and "skipped" not in text
    assert r"\begin{tabular}" in tex.read_text()
    fit = tmp_path / "f.json"
    main(["fit", str(runs_csv), "--law", "chinchilla2022", "--starts", "16", "--out", str(fit)])
    capsys.readouterr()
    assert main(["export", str(fit), "--precision", "2"]) == 0
    assert r"\begin{equation}" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["fit", "missing.parquet", "--law", "chinchilla2022"], "no such file"),
    (["fit", "{csv}", "--law", "chinchila2022"], "did you mean 'chinchilla2022'"),
    (["fit", "{csv}", "--law", "E + A/N**"], "cannot parse the formula"),
    (["fit", "{csv}", "--law", "chinchilla2022", "--target", "los"], "did you mean 'loss'"),
    (["fit", "{csv}", "--law", "chinchilla2022", "--loss", "l2"], "unknown loss 'l2'"),
    (["compare", "{csv}", "--rank-by", "r3"], "unknown metric 'r3'"),
    (["fit", "{csv}"], "the following arguments are required: --law"),
    (["fitt", "{csv}"], "invalid choice: 'fitt'"),
])
def test_bad_input_one_line_error_no_traceback(argv, message, runs_csv, capsys):
    argv = [a.format(csv=runs_csv) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.startswith("error: ") and err.strip().count("\n") == 0


@pytest.mark.parametrize("command", ["fit", "compare", "export"])
def test_help_shows_an_example(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert f"lawfind {command} " in capsys.readouterr().out
