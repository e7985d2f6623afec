"""Independent fits in parallel processes: the one place lawfind uses more than one core for fitting.

Candidate laws are fitted independently of each other, so a discovery spreads them over processes.
Workers are forked, so they inherit the function and its inputs without pickling them; only the
index goes out and the result comes back. Where fork is unavailable, or ``n_jobs`` is 1, the map
runs in this process. Results come back in the order of the inputs, so a seeded discovery gives the
same answer with any number of processes.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TypeVar

__all__ = ["parallel_map", "default_jobs"]

T = TypeVar("T")
R = TypeVar("R")
_TASK: tuple[Callable, Sequence] | None = None


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _run(i: int):
    fn, items = _TASK
    return i, fn(items[i])


def parallel_map(fn: Callable[[T], R], items: Sequence[T], n_jobs: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> list[R]:
    """``[fn(x) for x in items]``, over up to ``n_jobs`` forked processes (default: the cores).

    ``fn`` must return something picklable; ``progress(done, total)`` is called as results arrive.
    """
    global _TASK
    jobs = min(n_jobs or default_jobs(), len(items))
    if jobs <= 1 or "fork" not in mp.get_all_start_methods():
        out = []
        for i, x in enumerate(items):
            out.append(fn(x))
            if progress:
                progress(i + 1, len(items))
        return out
    _TASK = (fn, items)
    results: list = [None] * len(items)
    try:
        with ProcessPoolExecutor(jobs, mp_context=mp.get_context("fork")) as pool:
            futures = [pool.submit(_run, i) for i in range(len(items))]
            for done, fut in enumerate(as_completed(futures), 1):
                i, r = fut.result()
                results[i] = r
                if progress:
                    progress(done, len(items))
    finally:
        _TASK = None
    return results
