"""``--role`` and ``--scale``: the roles and the target's scale a command uses, said in one line each."""

from __future__ import annotations

import pytest

from lawfind.cli import main

from ..conftest import chinchilla_frame
from .conftest import one_line_error


@pytest.fixture()
def named_csv(tmp_path):
    """Chinchilla runs with the columns named as a study writes them, and a negative target beside."""
    frame = chinchilla_frame(120).rename(columns={"N": "params", "D": "tokens"})
    frame["num_experts"] = 8.0
    frame["delta"] = frame["loss"] - 3.0
    path = tmp_path / "runs.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture()
def caught(monkeypatch):
    """Stop discover at its search, keeping the Discovery it built and the table it was given."""
    seen = {}

    def stop(self, table, progress=None):
        seen["disc"], seen["table"] = self, table
        raise KeyboardInterrupt

    monkeypatch.setattr("lawfind.cli.discover.Discovery.fit", stop)
    return seen


def test_roles_from_names_and_from_role_options(named_csv, tmp_path, capsys, caught):
    argv = ["discover", str(named_csv), "--features", "params,tokens,num_experts", "--out", str(tmp_path / "o")]
    assert main(argv) == 130
    out = capsys.readouterr().out
    assert "roles: size params; data tokens; hooks num_experts; free -" in out
    assert "target: loss on the log scale" in out and caught["table"].scale == "log"
    assert main([*argv, "--role", "params=hook", "--role", "num_experts=free,tokens=data"]) == 130
    assert "roles: size -; data tokens; hooks params; free num_experts" in capsys.readouterr().out
    assert caught["disc"].roles == {"params": "hook", "num_experts": "free", "tokens": "data"}


def test_a_negative_target_is_read_on_the_linear_scale(named_csv, tmp_path, capsys, caught):
    argv = ["discover", str(named_csv), "--features", "params,tokens", "--target", "delta", "--out", str(tmp_path / "o")]
    assert main(argv) == 130
    assert "target: delta on the linear scale (it has values <= 0)" in capsys.readouterr().out
    assert caught["table"].scale == "linear"
    assert main([*argv, "--scale", "log"]) == 2
    assert "target 'delta' must be positive on the log scale" in one_line_error(capsys)


@pytest.mark.parametrize("role,message", [
    ("params", "cannot read 'params': write COLUMN=ROLE"),
    ("params=sise", "unknown role for 'params' 'sise' (did you mean 'size'?)"),
    ("parms=size", "--role names 'parms', which is not a feature (did you mean 'params'?)"),
])
def test_bad_roles_are_refused_in_one_line(named_csv, tmp_path, capsys, caught, role, message):
    argv = ["discover", str(named_csv), "--features", "params,tokens", "--role", role, "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    assert message in one_line_error(capsys)
    assert "disc" not in caught
