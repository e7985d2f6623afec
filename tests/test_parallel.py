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
