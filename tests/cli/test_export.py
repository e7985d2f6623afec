"""``lawfind export``: LaTeX of a fit file, to the terminal or a file."""

from __future__ import annotations

from lawfind import catalog
from lawfind.cli import main
from lawfind.record import save_fit
from lawfind.fit import fit_law

from .conftest import one_line_error


def test_export_prints_and_writes(chinchilla_table, tmp_path, capsys):
    fit = save_fit(tmp_path / "f.json", fit_law(catalog.get("chinchilla2022"), chinchilla_table, n_starts=8))
    assert main(["export", str(fit), "--precision", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(r"\begin{equation}") and r"\end{equation}" in out and "N^{0.34}" in out
    tex = tmp_path / "tex" / "f.tex"
    assert main(["export", str(fit), "--out", str(tex)]) == 0
    assert tex.read_text().count(r"\begin{equation}") == 1


def test_bad_input(tmp_path, capsys):
    (tmp_path / "x.json").write_text("[1, 2]")
    (tmp_path / "file").write_text("x")
    for argv, message in [
        ([str(tmp_path / "x.json")], "is not a lawfind JSON file: it holds a list"),
        ([str(tmp_path / "missing.json")], "no such file"),
        ([str(tmp_path / "x.json"), "--precision", "0"], "argument --precision: must be >= 1, got 0"),
        ([str(tmp_path / "x.json"), "--out", str(tmp_path / "file" / "f.tex")], "which is a file, not a folder"),
    ]:
        assert main(["export", *argv]) == 2, argv
        assert message in one_line_error(capsys), argv
