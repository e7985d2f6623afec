"""Work in other processes: the map keeps the order of its inputs; a background job gives its result or
its exception, and can be stopped."""

from __future__ import annotations

import os
import time

import pytest

from lawfind.errors import OptionError
from lawfind.parallel import Background, parallel_map


def test_parallel_map_keeps_the_order_of_its_inputs():
    assert parallel_map(lambda x: (x * x, os.getpid()), range(6), n_jobs=2)[3][0] == 9
    assert [r for r, _ in parallel_map(lambda x: (x * x, 0), range(6), n_jobs=2)] == [0, 1, 4, 9, 16, 25]


def test_background_runs_elsewhere_and_returns_or_raises():
    here = os.getpid()
    data = {"a": [1, 2, 3]}
    job = Background(lambda: (os.getpid(), sum(data["a"])))  # a closure: forked, never pickled
    pid, total = job.result()
    assert total == 6 and pid != here
    assert job.result() == (pid, 6)  # the result stays

    def bad():
        raise OptionError("no such option: try --x")

    with pytest.raises(OptionError, match="no such option: try --x"):
        Background(bad).result()


def test_a_cancelled_background_job_leaves_no_process():
    job = Background(lambda: time.sleep(30))
    proc = job._proc
    job.cancel()
    assert not proc.is_alive()
    with pytest.raises(RuntimeError, match="cancelled"):
        job.result()


_SLOW_MAP = """
import sys, time
from lawfind.parallel import parallel_map
print("started", flush=True)
try:
    parallel_map(lambda x: time.sleep(60), range(4), n_jobs=2)
except KeyboardInterrupt:
    sys.exit(130)
"""


@pytest.mark.slow
@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_stops_a_parallel_map_without_waiting_for_its_workers(presses):
    """Ctrl-C reaches the whole process group: the workers ignore it and the parent kills them, so the map
    stops at once (it used to wait for every running task, and hang on a second Ctrl-C)."""
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", _SLOW_MAP], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    assert proc.stdout.readline().strip() == "started"
    time.sleep(2)  # the workers are forked and sleeping
    pgid = os.getpgid(proc.pid)
    for _ in range(presses):
        os.killpg(pgid, signal.SIGINT)
        time.sleep(0.2)
    try:
        proc.wait(timeout=20)  # the tasks sleep 60 s: finishing well before means nobody waited for them
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        pytest.fail(f"parallel_map hung after {presses} Ctrl-C")
    assert proc.returncode in (130, -signal.SIGINT)
    assert "Traceback" not in proc.stderr.read()
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)  # no worker left behind


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_deadline_gives_up_what_is_not_done_but_keeps_min_done(n_jobs):
    """A time budget bounds the map: past the deadline, items not done are None and their workers stopped;
    ``min_done`` results are waited for all the same (a budget spent before the map must not leave it empty)."""
    nap = lambda x: (time.sleep(x), x)[1]  # noqa: E731
    start = time.monotonic()
    out = parallel_map(nap, [0.0, 0.0, 30.0, 30.0], n_jobs=n_jobs, deadline=start + 2.0) if n_jobs == 2 else \
        parallel_map(nap, [0.0, 0.0, 30.0], n_jobs=1, deadline=start + 0.0, min_done=2)
    assert out[:2] == [0.0, 0.0] and all(r is None for r in out[2:])
    assert time.monotonic() - start < 25  # nobody waited for the 30 s items
    late = parallel_map(nap, [0.5, 30.0], n_jobs=n_jobs, deadline=time.monotonic() - 1, min_done=1)
    assert late == [0.5, None]
