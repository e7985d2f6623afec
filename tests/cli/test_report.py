"""``lawfind report``: the page of a discovery's folder; bad input refused before any work."""

from __future__ import annotations

import json
import shutil

import pytest

from lawfind.cli import build_parser, main

from ..report.test_builder import without_build_time
from .conftest import one_line_error


@pytest.mark.slow
def test_report_writes_the_page_and_the_optima_it_lacked(discovered, tmp_path, capsys):
    folder = tmp_path / "copy"
    shutil.copytree(discovered, folder)
    for name in ("report.html", "optima.json"):
        (folder / name).unlink()
    assert main(["report", str(folder)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"wrote {folder / 'report.html'}"
    assert "note: no optima.json in the folder: deriving the optima" in captured.err
    page = (folder / "report.html").read_text()
    derived, own = (json.loads((f / "optima.json").read_text()) for f in (folder, discovered))
    assert [o["variable"] for o in derived["optima"]] == [o["variable"] for o in own["optima"]] == ["G", "S", "r"]
    assert derived["n_replicates"] == 20 and "over 20 bootstrap replicates" in page  # the fixture's --bootstrap 20
    assert main(["report", str(folder), "--out", str(tmp_path / "pages" / "study.html")]) == 0
    # the same page from the same folder, the optima now read from the file
    assert without_build_time((tmp_path / "pages" / "study.html").read_text()) == without_build_time(page)
    assert "note:" not in capsys.readouterr().err  # optima.json is there now


@pytest.mark.slow
def test_bad_input_refused_before_any_work(discovered, tmp_path, capsys, no_work):
    no_work("lawfind.report.write_report")
    (tmp_path / "file").write_text("x")
    old = tmp_path / "old"
    shutil.copytree(discovered, old)
    (old / "candidates.csv").unlink()
    for argv, message in [
        ([str(tmp_path / "nowhere")], "no folder"),
        ([str(old)], "has no candidates.csv: it is not the output of 'lawfind discover', or one from before reports"),
        ([str(discovered), "--out", str(tmp_path)], "is a folder: give a file name inside it"),
        ([str(discovered), "--out", str(tmp_path / "file" / "r.html")], "which is a file, not a folder"),
    ]:
        assert main(["report", *argv]) == 2, argv
        assert message in one_line_error(capsys), argv


@pytest.mark.slow
def test_discover_writes_the_report_unless_told_not_to(discovered):
    parser = build_parser()
    assert parser.parse_args(["discover", "runs.csv"]).report is True
    assert parser.parse_args(["discover", "runs.csv", "--no-report"]).report is False
    assert {p.name for p in discovered.iterdir()} >= {"report.html", "optima.json", "candidates.csv", "runs.csv"}


@pytest.mark.slow
def test_discover_no_report_writes_the_tables_but_no_page(runs_csv, tmp_path):
    out = tmp_path / "out"
    assert main(["discover", str(runs_csv), "--engine", "catalog", "--bootstrap", "0", "--no-report",
                 "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"candidates.csv", "runs.csv", "best.json"} <= names and not names & {"report.html", "optima.json"}
