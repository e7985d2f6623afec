"""Ctrl-C during ``lawfind discover``: one line, exit 130, no traceback, no process left behind; a second
Ctrl-C while the first is handled ends the command at once (it used to hang on the pool's workers)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from lawfind.planted import planted_law, sample

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")]


def _start(tmp_path):
    data = tmp_path / "runs.csv"
    sample(planted_law("moe5"), n=200, ladder=True).to_csv(data, index=False)
    code = "import sys; from lawfind.cli import main; sys.exit(main(sys.argv[1:]))"
    argv = [sys.executable, "-c", code, "discover", str(data), "--no-report", "--bootstrap", "0",
            "--out", str(tmp_path / "out")]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(8)  # past the imports, into the search (which takes far longer than this)
    assert proc.poll() is None, proc.communicate()
    return proc


def _group_gone(pgid: int, within: float) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_ends_discover_with_one_line_and_no_process_left(tmp_path, presses):
    """(The pool's own double-Ctrl-C hang is tested in tests/test_parallel.py, where the timing is sure.)"""
    proc = _start(tmp_path)
    pgid = os.getpgid(proc.pid)
    for _ in range(presses):
        os.killpg(pgid, signal.SIGINT)  # as a terminal does: the whole process group
        time.sleep(0.2)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(pgid, signal.SIGKILL)
    # 130, or killed by the second SIGINT during the interpreter's own shutdown (a shell shows 130 too)
    assert proc.returncode in (130, -signal.SIGINT)
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "interrupted"
    assert err.count("interrupted") == 1
    assert _group_gone(pgid, within=5), "worker processes outlived the interrupted command"
    assert not (tmp_path / "out" / "best.json").exists()


def test_an_extrapolation_factor_below_one_is_refused_before_any_work(runs_csv, tmp_path, capsys, no_work):
    """It was refused only after the search (9 s of work), and left the --out folder behind."""
    from lawfind.cli import main

    from .conftest import one_line_error

    no_work("lawfind.discovery.Discovery.fit")
    out = tmp_path / "out"
    assert main(["discover", str(runs_csv), "--extrapolation-factor", "0.5", "--out", str(out)]) == 2
    err = one_line_error(capsys)
    assert "--extrapolation-factor" in err and "must be >= 1" in err and "got 0.5" in err
    assert not out.exists()
