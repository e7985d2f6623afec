"""Independent fits in parallel processes: the one place lawfind uses more than one core for fitting.

Candidate laws are fitted independently of each other, so a discovery spreads them over processes;
:class:`Background` computes one thing in a forked process while this one goes on (a report derives
its optima with sympy while it draws its figures).
Workers are forked, so they inherit the function and its inputs without pickling them; only the
index goes out and the result comes back. Where fork is unavailable, or ``n_jobs`` is 1, the map
runs in this process. Results come back in the order of the inputs, so a seeded discovery gives the
same answer with any number of processes.

Ctrl-C belongs to the parent: workers ignore SIGINT (the terminal sends it to the whole process
group), and the parent, when interrupted, kills its workers at once instead of waiting for them, so
an interrupted command ends promptly with one line and leaves no process behind.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Generic, TypeVar

__all__ = ["parallel_map", "default_jobs", "Background"]

T = TypeVar("T")
R = TypeVar("R")
_TASK: tuple[Callable, Sequence] | None = None


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def ignore_interrupts() -> None:
    """In a worker process: leave SIGINT to the parent, which ends the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run(i: int):
    fn, items = _TASK
    return i, fn(items[i])


def parallel_map(fn: Callable[[T], R], items: Sequence[T], n_jobs: int | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 deadline: float | None = None, min_done: int = 0) -> list[R | None]:
    """``[fn(x) for x in items]``, over up to ``n_jobs`` forked processes (default: the cores).

    ``fn`` must return something picklable; ``progress(done, total)`` is called as results arrive.
    ``deadline`` (a :func:`time.monotonic` time): once it has passed and at least ``min_done`` results
    are in, the items not done are given up, their result ``None``, and the workers still on them are
    stopped (a time budget bounds the map; ``min_done`` keeps it from ending with nothing).
    """
    global _TASK
    jobs = min(n_jobs or default_jobs(), len(items))
    if jobs <= 1 or "fork" not in mp.get_all_start_methods():
        out: list[R | None] = []
        for i, x in enumerate(items):
            out.append(None if i >= min_done and _past(deadline) else fn(x))
            if progress:
                progress(i + 1, len(items))
        return out
    _TASK = (fn, items)
    results: list = [None] * len(items)
    pool = ProcessPoolExecutor(jobs, mp_context=mp.get_context("fork"), initializer=ignore_interrupts)
    try:
        pending, n_done = {pool.submit(_run, i) for i in range(len(items))}, 0
        while pending:
            timeout = None if deadline is None or n_done < min_done else max(deadline - time.monotonic(), 0.0)
            done, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            if not done:  # the budget is spent: what is done is kept, the rest given up
                _kill(pool)
                return results
            for fut in done:
                i, r = fut.result()
                results[i] = r
                n_done += 1
                if progress:
                    progress(n_done, len(items))
    except BaseException:
        _kill(pool)  # an error or Ctrl-C: the other results are not wanted, so don't wait for them
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        _TASK = None
    return results


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _kill(pool: ProcessPoolExecutor) -> None:
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        p.kill()
    for p in processes:
        p.join()


class Background(Generic[R]):
    """``fn()`` computed in a forked process while this one goes on; :meth:`result` waits for it.

    ``fn`` need not be picklable (the process is forked), its result must be. Where fork is
    unavailable, ``fn`` runs at once, in this process. An exception in ``fn`` is raised again by
    :meth:`result`.
    """

    def __init__(self, fn: Callable[[], R]) -> None:
        self._proc = None
        if "fork" not in mp.get_all_start_methods():
            self._done = (True, fn())
            return
        ctx = mp.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_send_result, args=(fn, send))
        self._proc.start()
        send.close()

    def result(self) -> R:
        """The result, once ``fn`` has returned (its exception, if it raised one)."""
        if self._proc is not None:
            try:
                self._done = self._recv.recv()
            except KeyboardInterrupt:
                self.cancel()
                raise
            except EOFError:
                self._done = (False, RuntimeError(f"the background process ended with status {self._proc.exitcode}"))
            finally:
                self._proc.join()
                self._recv.close()
                self._proc = None
        ok, value = self._done
        if not ok:
            raise value
        return value

    def cancel(self) -> None:
        """Stop the process if it still runs (nothing to wait for any more)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.join()
            self._recv.close()
            self._proc = None
            self._done = (False, RuntimeError("cancelled"))


def _send_result(fn: Callable, send) -> None:  # noqa: ANN001
    ignore_interrupts()
    try:
        send.send((True, fn()))
    except BaseException as exc:  # noqa: BLE001 - carried to the parent, which raises it
        send.send((False, exc))
    finally:
        send.close()
