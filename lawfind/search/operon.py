"""The default engine: pyoperon (a pip wheel), on log-transformed features.

Search settings chosen for scaling laws: inputs are ``log(x)`` for positive features and ``S`` as it
is, so {add, mul, exp} spans sums and products of power laws (``exp(a log N) = N^a``); a wider set is
available. Two objectives (R2 and length, NSGA-II). Constant optimisation is on (pyoperon's
``optimizer_iterations`` defaults to 0, which turns it off). The budget is in generations (exactly
reproducible) or, on request, in seconds. Seeds run in parallel processes, one a core (pyoperon's
threads gave no speed-up on the 2-core machine). Inputs are float32: pyoperon 0.6.2's scikit-learn
wrapper can crash in ``FitLeastSquares`` on float64 input.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
from dataclasses import dataclass, field

import numpy as np

from ..data import RunTable
from ..errors import OptionError, did_you_mean
from .base import Candidate, Progress, transformed_matrix, transformed_symbols
from .parse import parse_operon

__all__ = ["OperonEngine", "OPERATOR_SETS", "parse_operon"]

OPERATOR_SETS = {
    "powerlaw": "add,mul,exp,constant,variable",
    "wide": "add,sub,mul,div,exp,log,square,sqrt,constant,variable",
}

@dataclass(frozen=True)
class OperonEngine:
    """pyoperon search, several seeds in parallel processes.

    Parameters
    ----------
    generations:
        Generations per seed (the reproducible budget).
    population_size, max_length:
        Population and the longest expression (in nodes).
    operators:
        ``"powerlaw"`` ({add, mul, exp}) or ``"wide"``, or pyoperon's own comma-separated list.
    optimizer_iterations:
        Levenberg-Marquardt iterations on each candidate's constants (must be > 0).
    time_budget:
        Seconds per seed; when set, a seed also stops once it is spent (checked every 10
        generations, so not exactly reproducible).
    seeds:
        How many seeds (independent runs), from ``seed``.
    n_jobs:
        Processes (default: the number of cores, at most the number of seeds).
    """

    generations: int = 60
    population_size: int = 600
    max_length: int = 40
    operators: str = "powerlaw"
    optimizer_iterations: int = 10
    time_budget: float | None = None
    seed: int = 0
    seeds: int = 2
    n_jobs: int | None = None
    name: str = field(default="operon", init=False)

    def __post_init__(self) -> None:
        if self.optimizer_iterations < 1:
            raise OptionError("optimizer_iterations must be at least 1: 0 turns constant optimisation off")
        if self.generations < 1 or self.seeds < 1 or self.population_size < 10:
            raise OptionError("generations and seeds must be at least 1 and population_size at least 10")
        if self.operators not in OPERATOR_SETS and "variable" not in self.operators:
            raise OptionError(f"unknown operator set '{self.operators}'{did_you_mean(self.operators, OPERATOR_SETS)}; "
                              f"choose {', '.join(OPERATOR_SETS)} or give pyoperon's list, e.g. 'add,mul,exp,constant,variable'")

    def search(self, table: RunTable, *, progress: Progress | None = None) -> list[Candidate]:
        X, y = transformed_matrix(table), table.y.astype(np.float32)
        inputs = transformed_symbols(table.features)
        seeds = [self.seed + i for i in range(self.seeds)]
        jobs = max(1, min(self.n_jobs or os.cpu_count() or 1, len(seeds)))
        total = len(seeds) * self.generations
        fronts: dict[int, list[tuple[str, int]]] = {}
        if jobs == 1:
            for s in seeds:
                fronts[s] = _run_seed(self, X, y, s, None)
                if progress:
                    progress(len(fronts) * self.generations, total, f"seed {s} done")
        else:
            fronts = _run_parallel(self, X, y, seeds, jobs, total, progress)
        out = []
        for s in seeds:
            for text, length in fronts[s]:
                out.append(Candidate(parse_operon(text, inputs), f"operon:seed{s}", text, length, engine=self.name))
        return out


def _worker(engine: OperonEngine, X: np.ndarray, y: np.ndarray, seed: int, q) -> None:
    try:
        q.put(("done", seed, _run_seed(engine, X, y, seed, q)))
    except BaseException as exc:  # reported to the parent, which raises it
        q.put(("error", seed, f"{type(exc).__name__}: {exc}"))


def _run_parallel(engine: OperonEngine, X, y, seeds: list[int], jobs: int, total: int,
                  progress: Progress | None) -> dict[int, list[tuple[str, int]]]:
    """Seeds in up to ``jobs`` processes at once; progress arrives through a queue."""
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    q = ctx.Queue()
    pending, running, fronts, gens = list(seeds), {}, {}, {s: 0 for s in seeds}
    try:
        while pending or running:
            while pending and len(running) < jobs:
                s = pending.pop(0)
                running[s] = ctx.Process(target=_worker, args=(engine, X, y, s, q), daemon=True)
                running[s].start()
            try:
                kind, s, payload = q.get(timeout=1.0)
            except queue.Empty:
                dead = [s for s, p in running.items() if not p.is_alive() and s not in fronts]
                if dead and q.empty():
                    raise RuntimeError(f"the search process of seed {dead[0]} died (out of memory?)")
                continue
            if kind == "progress":
                gens[s] = payload
                if progress:
                    progress(sum(gens.values()), total, f"generation {payload} of seed {s}")
            elif kind == "error":
                raise RuntimeError(f"pyoperon failed on seed {s}: {payload}")
            else:
                fronts[s] = payload
                running.pop(s).join()
    finally:
        for p in running.values():
            p.kill()
    return fronts


def _run_seed(engine: OperonEngine, X: np.ndarray, y: np.ndarray, seed: int, q) -> list[tuple[str, int]]:
    """One seed's search, in chunks of generations (warm-started) so that progress can be reported;
    with a time budget it also stops once the budget is spent."""
    import time

    from pyoperon.sklearn import SymbolicRegressor

    symbols = OPERATOR_SETS.get(engine.operators, engine.operators)
    chunk = max(1, min(10, engine.generations))
    reg, done, start = None, 0, time.monotonic()
    while done < engine.generations:
        if engine.time_budget is not None and done and time.monotonic() - start >= engine.time_budget:
            break
        step = min(chunk, engine.generations - done)
        params = dict(allowed_symbols=symbols, objectives=["r2", "length"],
                      optimizer_iterations=engine.optimizer_iterations, generations=step,
                      population_size=engine.population_size, max_length=engine.max_length,
                      random_state=seed * 1000 + done, n_threads=1, warm_start=reg is not None)
        if reg is None:
            reg = SymbolicRegressor(**params)
        else:
            reg.set_params(**params)
        reg.fit(X, y)
        done += step
        if q is not None:
            q.put(("progress", seed, done))
    return [(p["model"], int(p["length"])) for p in reg.pareto_front_]
