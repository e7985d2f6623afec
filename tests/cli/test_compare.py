"""``lawfind compare``: a ranked table and its LaTeX, and bad input refused before any fit."""

from __future__ import annotations

from lawfind.cli import main

from .conftest import one_line_error


def test_compare_ranks_and_writes_latex(runs_csv, tmp_path, capsys):
    tex = tmp_path / "tables" / "t.tex"
    assert main(["compare", str(runs_csv), "--laws", "chinchilla2022,kaplan2020", "--holdout", "N>=3e9",
                 "--starts", "16", "--latex", str(tex)]) == 0
    text = capsys.readouterr().out
    assert text.index("chinchilla2022") < text.index("kaplan2020") and "skipped" not in text
    body = tex.read_text()
    assert r"\begin{tabular}{rllrrrrrr}" in body and body.count(r"\\") == 3  # header and two laws


def test_formulas_with_params(runs_csv, capsys):
    assert main(["compare", str(runs_csv), "--laws", "E0 + A/N**a + B/Q**b; chinchilla2022", "--params", "Q",
                 "--holdout", "N>=3e9", "--starts", "4"]) == 0
    captured = capsys.readouterr()
    assert "custom" in captured.out and captured.err == ""


def test_bad_options_refused_before_loading(runs_csv, tmp_path, capsys, no_work):
    no_work("lawfind.cli.common.load_runs", "lawfind.cli.compare.compare_laws")
    (tmp_path / "file").write_text("x")
    for argv, message in [
        (["--latex", str(tmp_path / "file" / "t.tex")], "--latex '"),
        (["--holdout", "top:N:1.5"], "the holdout fraction in 'top:N:1.5' must lie in (0, 1)"),
        (["--holdout", "N=>3"], "cannot read the holdout 'N=>3'"),
        (["--kfold", "1"], "argument --kfold: must be >= 2, got 1"),
        (["--delta", "0"], "argument --delta: must be > 0, got 0"),
        (["--laws", "E0 + A/N**a", "--params", "Z"], "--params names ['Z'], which no formula of --laws uses"),
    ]:
        assert main(["compare", str(runs_csv), *argv]) == 2, argv
        assert message in one_line_error(capsys), argv
