from __future__ import annotations

import pytest

from ..conftest import chinchilla_frame


@pytest.fixture()
def runs_csv(tmp_path):
    path = tmp_path / "runs.csv"
    chinchilla_frame(300).to_csv(path, index=False)
    return path


@pytest.fixture()
def no_work(monkeypatch):
    """Make the work a command would do fail if it starts: ``no_work("lawfind.cli.fit.fit_law", ...)``."""

    def forbid(*targets: str) -> None:
        for target in targets:
            def fail(*args, _target=target, **kwargs):
                raise AssertionError(f"{_target} was called before the bad input was refused")
            monkeypatch.setattr(target, fail)

    return forbid


def one_line_error(capsys) -> str:
    """The command's stderr, checked to be one 'error: ...' line without a traceback."""
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.strip().count("\n") == 0 and "Traceback" not in err, err
    return err
