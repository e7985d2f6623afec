"""The ``lawfind`` entry point: one-line errors, warnings, help with examples, ``python -m lawfind.cli``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lawfind.cli import main

from .conftest import one_line_error


@pytest.mark.parametrize("argv,message", [
    (["fit", "missing.parquet", "--law", "chinchilla2022"], "no such file"),
    (["fit", "{csv}", "--law", "chinchila2022"], "did you mean 'chinchilla2022'"),
    (["fit", "{csv}", "--law", "E + A/N**"], "cannot parse the formula"),
    (["fit", "{csv}", "--law", "chinchilla2022", "--target", "los"], "did you mean 'loss'"),
    (["fit", "{csv}", "--law", "chinchilla2022", "--loss", "l2"], "unknown loss 'l2'"),
    (["fit", "{csv}", "--law", "chinchilla2022", "--repeats", "mea"], "did you mean 'mean'"),
    (["compare", "{csv}", "--rank-by", "r3"], "unknown metric 'r3'"),
    (["fit", "{csv}"], "the following arguments are required: --law"),
    (["fitt", "{csv}"], "invalid choice: 'fitt'"),
    (["fit", "{csv}", "--law", "chinchilla2022", "--where", "N >>\n 3"], "cannot apply the filter"),
])
def test_bad_input_one_line_error_no_traceback(argv, message, runs_csv, capsys):
    argv = [a.format(csv=runs_csv) for a in argv]
    assert main(argv) == 2
    assert message in one_line_error(capsys)


def test_a_bug_is_one_line_without_traceback(monkeypatch, runs_csv, capsys):
    def broken(args):
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr("lawfind.cli.export.cmd_export", broken)  # looked up when the parser is built
    monkeypatch.delenv("LAWFIND_DEBUG", raising=False)
    assert main(["export", "x.json"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("internal error: RuntimeError: a bug over two lines") and err.count("\n") == 1


@pytest.mark.parametrize("command", ["fit", "compare", "export", "discover", "optimize", "report"])
def test_help_shows_an_example(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert f"lawfind {command} " in capsys.readouterr().out


def test_top_level_help_lists_every_command_with_an_example(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    for command in ("fit", "compare", "export", "discover", "optimize", "report"):
        assert f"lawfind {command} " in out


@pytest.mark.slow
def test_runs_as_a_module():
    proc = subprocess.run([sys.executable, "-m", "lawfind.cli", "fit", "nope.csv", "--law", "chinchilla2022"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error: no such file: 'nope.csv'")
