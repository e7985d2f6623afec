"""ScaleBench's budgeted protocol (arXiv 2604.22753; PlanarG/active-sl) with lawfind's fitter and design.

Each task of ``../shared/data/sldbench`` is a pool of runnable experiments (its train split, per group),
a cost per run (the paper's proxies: 6ND, N E, N, ...) and a target region (its test split). A method
chooses runs from the pool under budgets of 1, 5 and 10 % of the pool's cost (20, 35 and 50 % for
domain_mixture and sparsity), a law is fitted on what it chose, and the score is the pooled R2 on the
target region, clipped to [-1, 1] (a group whose predictions are not finite is skipped, none left gives
-1). Per law the R2 is averaged over repeats; a task's value is the mean and sd over its laws, as the
paper's Table 2 reports. The laws are the paper's 65 (``scalebench_laws.py``), written from their
definitions as lawfind formulas.

Methods, all fitted with lawfind's multi-start fitter (least squares on log loss, or on the target for
vocab's negative one; the paper's is least squares on the loss), all in this one run:

- ``random``, ``cheapest``: the paper's harness A (one run at a time; the first draw that overshoots a
  checkpoint's budget ends that phase and is charged at the next).
- ``dopt``: harness B's D-optimal design (the cheapest runs up to 2.5 P or 2 % of the cost first, then
  greedy ``gain / (cost / C) ** 0.4`` at the best fit's local Gaussian).
- ``lawfind``: the same start, then :mod:`lawfind.design`'s criterion: the target region's expected
  squared error, over a mixture of every basin of the fit within 1.5x the best sum of squares.
- ``misfit``: lawfind's criterion with the law's misfit as a Gaussian process in the inputs beside the
  mixture, conditioned on the runs chosen so far (``Ensemble.from_modes(..., discrepancy=True)``).
- ``discovered``: no law given: lawfind's discovery on the runs chosen so far proposes the laws (its
  admissible front), the design tells them apart, the discovery's chosen law is scored (one per task,
  not per law).

Departures from the paper, said where they matter: dopt and lawfind choose batches (a quarter of the runs
chosen so far, each pick conditioned on the earlier ones) between refits, where the paper refits after
every run; the fitter is lawfind's (least squares from 64 starts, each run to convergence, beside a warm
pool of earlier fits' constants, as the paper's L-BFGS-B; on log loss, where the paper's is on the loss); domain
mixture's sl_4 and sl_5 share exponents across the five outputs and are left out (lawfind fits one
target at a time).

Usage: python benchmarks/bench_scalebench.py [--tasks moe,parallel,...] [--laws all|1,2,3] [--repeats 3]
       [--methods random,cheapest,dopt,lawfind] [--starts 64] [--design-starts 16] [--discover-budget 20]
       python benchmarks/bench_scalebench.py --from-log run1.txt   (the tables of earlier runs' per-law lines)
"""

from __future__ import annotations

import argparse
import math
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lawfind.data import RunTable, target_scale
from lawfind.design import Design, Ensemble, choose, points_table
from lawfind.errors import LawfindError
from lawfind.fit import fit_modes
from lawfind.splits import RUNG
from scalebench_laws import LAWS, VARIABLES, make_law

SLDBENCH = Path(__file__).resolve().parents[2] / "shared" / "data" / "sldbench"
METHODS = ("random", "cheapest", "dopt", "lawfind", "misfit", "discovered")
_TARGETS = {"moe": ("loss_validation",), "sparsity": ("loss",), "farseer": ("loss",), "data_constrained": ("loss",),
            "lr_bsz": ("lm_loss",), "parallel": ("loss",), "vocab": ("unigram_normalized_loss",),
            "domain_mixture": tuple(f"loss_domain_{i}" for i in range(1, 6))}
_COST = {
    "moe": lambda f: f.dense_parameter_count * f.num_experts,
    "sparsity": lambda f: 6 * f.N_dense * f.D1 + 6 * f.N_active * f.D2,
    "farseer": lambda f: 6 * f.N * f.D,
    "data_constrained": lambda f: 6 * f.params * f.tokens,
    "lr_bsz": lambda f: 6 * f.non_embedding_param_size * f.data_size,
    "parallel": lambda f: f.num_params.astype(float),
    "vocab": lambda f: f.non_vocab_parameters * f.num_characters,
    "domain_mixture": lambda f: pd.Series(np.ones(len(f))),
}
_WIDE = ("domain_mixture", "sparsity")
TASKS = tuple(_TARGETS)
_WARM = 16  # earlier fits' constants tried as starts (the paper keeps up to 30)

# Table 2 of the paper (README of PlanarG/active-sl): mean and sd at the three checkpoints
_ORDER = ("lr_bsz", "domain_mixture", "vocab", "parallel", "moe", "data_constrained", "sparsity", "farseer")
_PAPER_TEXT = {
    "random": ["-0.65 0.49 -0.36 0.82 0.54 0.57 -1.00 0.00 -0.47 0.66 -0.74 0.48 -0.25 0.63 -0.77 0.55",
               "-0.45 0.61 0.41 0.82 0.53 0.62 0.27 0.02 0.01 0.72 -0.36 0.71 0.37 0.26 0.78 0.18",
               "-0.33 0.66 0.70 0.67 0.59 0.54 0.19 0.01 0.26 0.65 0.12 0.62 0.38 0.25 0.79 0.09"],
    "cheapest": ["-0.92 0.29 -0.36 0.82 0.30 0.71 -1.00 0.00 0.30 0.57 -0.58 0.64 -0.95 0.14 -0.89 0.17",
                 "-0.88 0.34 0.41 0.82 0.53 0.62 0.42 0.03 0.74 0.19 -0.56 0.65 0.04 0.46 0.41 0.40",
                 "-0.80 0.46 0.70 0.67 0.55 0.63 0.42 0.03 0.81 0.14 -0.40 0.64 0.32 0.20 0.68 0.18"],
    "dopt": ["-0.92 0.23 0.14 0.80 0.95 0.03 -1.00 0.00 0.34 0.54 0.71 0.43 -0.07 0.56 -0.11 0.80",
             "-0.66 0.57 0.81 0.48 0.97 0.01 0.70 0.52 0.55 0.34 0.80 0.17 0.23 0.32 0.49 0.18",
             "-0.53 0.57 0.88 0.43 0.97 0.00 0.99 0.00 0.74 0.14 0.77 0.16 0.19 0.41 0.87 0.03"],
    "vopt": ["-0.70 0.47 0.57 0.66 0.96 0.02 -1.00 0.00 0.67 0.24 0.58 0.53 0.12 0.53 0.67 0.22",
             "-0.06 0.59 0.91 0.33 0.97 0.00 0.69 0.53 0.80 0.05 0.83 0.17 0.39 0.20 0.87 0.01",
             "0.18 0.54 0.95 0.27 0.98 0.00 0.99 0.00 0.80 0.11 0.85 0.13 0.51 0.15 0.92 0.01"],
    "mspe": ["-0.66 0.53 0.64 0.58 0.96 0.02 -1.00 0.00 0.59 0.39 0.73 0.37 0.31 0.39 0.60 0.11",
             "0.00 0.59 0.89 0.38 0.98 0.00 0.77 0.39 0.65 0.27 0.85 0.16 0.44 0.17 0.88 0.02",
             "0.22 0.55 0.95 0.28 0.98 0.00 0.99 0.00 0.83 0.07 0.86 0.11 0.53 0.08 0.93 0.00"],
}
PAPER = {m: [{t: (float(v[2 * i]), float(v[2 * i + 1])) for i, t in enumerate(_ORDER)}
             for v in (row.split() for row in rows)] for m, rows in _PAPER_TEXT.items()}


@dataclass(frozen=True)
class Group:
    """One independent sub-problem: a pool (train rows), its costs, a target region (test rows)."""

    name: str
    pool: pd.DataFrame
    test: pd.DataFrame
    cost: np.ndarray


def groups(task: str) -> list[Group]:
    train = pd.read_csv(SLDBENCH / task / "train.csv.gz")
    test = pd.read_csv(SLDBENCH / task / "test.csv.gz")
    out = []
    for g in sorted(set(train.group) & set(test.group)):
        pool = train[train.group == g].reset_index(drop=True)
        out.append(Group(str(g), pool, test[test.group == g].reset_index(drop=True),
                         np.asarray(_COST[task](pool), dtype=float)))
    return out


def checkpoints(task: str) -> tuple[float, ...]:
    return (0.20, 0.35, 0.50) if task in _WIDE else (0.01, 0.05, 0.10)


def table_of(task: str, frame: pd.DataFrame, target: str) -> RunTable:
    """The chosen runs as a table of the law's variables (no loader: its checks are for users' files)."""
    y = frame[target].to_numpy(float)
    spread = float(np.std(y)) if len(y) > 1 and np.std(y) > 0 else 1.0
    return RunTable(frame[[*VARIABLES[task], target]].reset_index(drop=True), VARIABLES[task], target,
                    scale=target_scale(y), spread=spread)


def _fit(laws, task: str, frame: pd.DataFrame, starts: int, seed: int, warm=None):
    """Each output's best constants on ``frame`` (``None`` where no start gave finite predictions): every
    start run to convergence (a short run ranks the starts of these bounded laws poorly), beside the
    constants of earlier fits (``warm``, per output), as the paper's warm pool."""
    out = []
    for k, (law, target) in enumerate(zip(laws, _TARGETS[task])):
        initial = tuple(warm[k]) if warm and warm[k] else ()
        try:
            modes = fit_modes(law, table_of(task, frame, target), n_starts=starts, seed=seed, most=1,
                              initial=initial, polish=starts + len(initial))
            out.append(modes[0].values)
        except LawfindError:
            out.append(None)
    return out


def score(task: str, laws, fits_by_group: dict[str, list], gs: list[Group]) -> float:
    """Pooled R2 over groups and outputs, clipped to [-1, 1], as the paper scores it."""
    ys, ps = [], []
    for g in gs:
        fits = fits_by_group.get(g.name)
        if fits is None or any(f is None for f in fits):
            continue
        preds = []
        for law, values, target in zip(laws, fits, _TARGETS[task]):
            with np.errstate(all="ignore"):
                p = np.broadcast_to(law.compiled([values[n] for n in law.param_names],
                                                 [g.test[v].to_numpy(float) for v in law.variables]), (len(g.test),))
            preds.append((g.test[target].to_numpy(float), p))
        if all(np.all(np.isfinite(p)) for _, p in preds):
            for y, p in preds:
                ys.append(y)
                ps.append(p)
    if not ys:
        return -1.0
    y, p = np.concatenate(ys), np.concatenate(ps)
    tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1 - float(np.sum((y - p) ** 2)) / tot if tot > 1e-30 else -1.0
    return float(np.clip(r2, -1, 1)) if math.isfinite(r2) else -1.0


# ---- harness A: random and cheapest, one run at a time -------------------------------------------

def sequence_a(method: str, g: Group, fracs, rng: np.random.Generator) -> list[list[int]]:
    """The runs observed at each checkpoint: a draw that overshoots ends the phase and is charged at the next."""
    C = g.cost.sum()
    left = list(range(len(g.cost)))
    seen, spent, pending, out = [], 0.0, None, []
    for f in fracs:
        if pending is not None:
            seen.append(pending)
            spent += g.cost[pending]
            pending = None
        while spent < f * C - 1e-12 and left:
            afford = [i for i in left if g.cost[i] <= C - spent]
            if not afford:
                break
            if method == "random":
                i = int(afford[rng.integers(len(afford))])
            else:
                c = g.cost[afford]
                ties = [a for a, ci in zip(afford, c) if ci <= c.min() + 1e-12]
                i = int(ties[rng.integers(len(ties))])
            left.remove(i)
            if spent + g.cost[i] > f * C + 1e-12:
                pending = i
                break
            seen.append(i)
            spent += g.cost[i]
        out.append(list(seen))
    return out


# ---- harness B: a cheap start, then a design --------------------------------------------------------

def cheap_start(g: Group, n_params: int, n_out: int) -> list[int]:
    """The cheapest run, then the next cheapest while fewer than 2.5 P / outputs and within 2 % of the cost."""
    order = np.argsort(g.cost, kind="stable")
    C, want = g.cost.sum(), int(2.5 * n_params / n_out)
    chosen, spent = [int(order[0])], float(g.cost[order[0]])
    for i in order[1:]:
        if len(chosen) >= want or spent + g.cost[i] > 0.02 * C:
            break
        chosen.append(int(i))
        spent += g.cost[i]
    return chosen


def sequence_b(method: str, task: str, laws, g: Group, fracs, starts: int, seed: int) -> tuple[list[int], list]:
    """Runs in the order a design chooses them, until the largest checkpoint's budget is spent, and the
    constants of the fits along the way (per output; the warm pool of the checkpoints' fits)."""
    n_out = len(laws)
    design = Design.from_frames(g.pool, g.test, g.cost, max(fracs) * g.cost.sum())
    design = design.add(cheap_start(g, max(law.n_params for law in laws), n_out))
    warm: list[list] = [[] for _ in laws]
    while design.affordable().size:
        frame = design.done()
        ens = []
        for k, (law, target) in enumerate(zip(laws, _TARGETS[task])):
            table = table_of(task, frame, target)
            try:
                modes = fit_modes(law, table, n_starts=starts, seed=seed, initial=warm[k][-_WARM:],
                                  most=1 if method == "dopt" else 8, polish=starts + len(warm[k][-_WARM:]))
            except LawfindError:
                modes = []
            if not modes:
                break
            warm[k] += [m.values for m in modes[:4]]
            points = points_table(table, pd.concat([g.pool, g.test], ignore_index=True))
            ens.append(Ensemble.from_modes([(law, m) for m in modes], table, points, discrepancy=method == "misfit"))
        if len(ens) < n_out:
            design = design.add(_cheapest_left(design))
            continue
        picks = design.next(ens, max(1, len(design.chosen) // 4), "d-optimal" if method == "dopt" else "region")
        design = design.add(picks.rows or _cheapest_left(design))
    return list(design.chosen), [w[-_WARM:] for w in warm]


def _cheapest_left(design: Design, k: int = 1) -> list[int]:
    """Where a criterion sees nothing to gain (every prediction agrees, or no fit yet): the cheapest runs
    left, so that the budget is spent as the paper's loops spend it."""
    left = design.affordable()
    return left[np.argsort(design.cost[left], kind="stable")[:k]].tolist()


def _next_size(design: Design, column: str) -> list[int]:
    """The cheapest run left whose ``column`` is beyond the largest chosen by more than a size rung
    (:data:`lawfind.splits.RUNG`): a discovery refused for too few sizes gets a new one; else the cheapest."""
    left = design.affordable()
    x = design.pool[column].to_numpy(float)
    beyond = left[x[left] > RUNG * x[list(design.chosen)].max()] if design.chosen else left
    if not beyond.size:
        return _cheapest_left(design)
    return [int(beyond[np.argmin(design.cost[beyond])])]


def prefixes(order: list[int], g: Group, fracs, n_start: int) -> list[list[int]]:
    """At each checkpoint, the longest prefix within its budget (the start always, as the paper does)."""
    C, out = g.cost.sum(), []
    cum = np.cumsum(g.cost[order])
    for f in fracs:
        k = max(int(np.searchsorted(cum, f * C * (1 + 1e-12), side="right")), n_start)
        out.append(order[:k])
    return out


def run_law(task: str, spec, method: str, repeats: int, starts: int, design_starts: int) -> np.ndarray:
    """R2 at each checkpoint, per repeat: ``(repeats, 3)``."""
    laws = [make_law(spec, k) for k in range(len(spec.formulas))]
    gs = groups(task)
    fracs = checkpoints(task)
    out = np.full((repeats, len(fracs)), -1.0)
    for r in range(repeats):
        per_ck: list[dict] = [{} for _ in fracs]
        for gi, g in enumerate(gs):
            pool: list = [[] for _ in laws]
            if method in ("random", "cheapest"):
                rng = np.random.default_rng(r * 100000 + gi)
                seqs = sequence_a(method, g, fracs, rng)
            else:
                order, pool = sequence_b(method, task, laws, g, fracs, design_starts, 42 + r)
                n0 = len(cheap_start(g, max(law.n_params for law in laws), len(laws)))
                seqs = prefixes(order, g, fracs, n0)
            for k, rows in enumerate(seqs):
                if rows:
                    fits = _fit(laws, task, g.pool.iloc[rows], starts, 42 + r, pool)
                    per_ck[k][g.name] = fits
                    pool = [p + ([f] if f else []) for p, f in zip(pool, fits)]
        for k in range(len(fracs)):
            out[r, k] = score(task, laws, per_ck[k], gs)
    return out


def run_discovered(task: str, repeats: int, starts: int, budget: float) -> np.ndarray:
    """The law not given: lawfind's discovery on the chosen runs; its front is the design's mixture."""
    from bench_sldbench import TASKS as SLD
    from lawfind.data import load_runs
    from lawfind.discovery import Discovery

    info = SLD[task]
    gs = groups(task)
    fracs = checkpoints(task)
    out = np.full((repeats, len(fracs)), -1.0)
    for r in range(repeats):
        ys: list[list] = [[] for _ in fracs]
        ps: list[list] = [[] for _ in fracs]
        for g in gs:
            design = Design.from_frames(g.pool, g.test, g.cost, max(fracs) * g.cost.sum())
            design = design.add(cheap_start(g, 6, len(info.target)))
            discs: list = []
            while True:
                discs, short = [], None
                try:
                    for target in info.target:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            table = load_runs(design.done(), target=target, features=info.features)
                            d = Discovery(time_budget=budget / len(info.target), seed=r, decreasing=info.decreasing)
                            d.fit(table)
                        discs.append((d, table))
                except LawfindError as exc:
                    discs = []
                    found = re.match(r"'([^']+)' takes \d+ distinct size", str(exc))
                    short = (table.columns or {}).get(found.group(1), found.group(1)) if found else None
                if not design.affordable().size:
                    break
                if discs:
                    ens = []
                    for d, table in discs:
                        models = [(row.law, m) for row in d.front_[:3] for m in
                                  fit_modes(row.law, d.table_, n_starts=starts, seed=r, initial=(row.fit.values,))[:2]]
                        pts = points_table(d.table_, pd.concat([g.pool, g.test], ignore_index=True).rename(
                            columns=dict(map(reversed, d.table_.columns.items())) if d.table_.columns else {}))
                        ens.append(Ensemble.from_modes(models, d.table_, pts))
                    picks = design.next(ens, max(1, len(design.chosen) // 4))
                    rows = picks.rows
                elif short is not None:  # too few sizes for a law yet: the cheapest run at a new size
                    rows = _next_size(design, short)
                else:
                    rows = _cheapest_left(design, 2)
                design = design.add(rows or _cheapest_left(design))
            # score each checkpoint with the discovery on its prefix
            for k, rows in enumerate(prefixes(list(design.chosen), g, fracs, 1)):
                try:
                    for target in info.target:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            table = load_runs(g.pool.iloc[rows], target=target, features=info.features)
                            d = Discovery(time_budget=budget / len(info.target), seed=r, decreasing=info.decreasing)
                            d.fit(table)
                            held = load_runs(g.test, target=target, features=info.features)
                            p = np.asarray(d.predict(held), float)
                        if np.all(np.isfinite(p)):
                            ys[k].append(held.y)
                            ps[k].append(p)
                except LawfindError:
                    pass
        for k in range(len(fracs)):
            if ys[k]:
                y, p = np.concatenate(ys[k]), np.concatenate(ps[k])
                r2 = 1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)
                out[r, k] = float(np.clip(r2, -1, 1)) if np.isfinite(r2) else -1.0
    return out


def print_tables(results: dict, tasks: list[str], methods: list[str]) -> None:
    """Per budget, each method's mean ± sd over laws (of the per-law mean over repeats), with the paper's rows."""
    for k, label in enumerate(("1 % (domain, sparsity 20 %)", "5 % (35 %)", "10 % (50 %)")):
        print(f"budget {label}")
        print("| method | " + " | ".join(tasks) + " |")
        print("|---|" + "---|" * len(tasks))
        for m in methods:
            cells = []
            for t in tasks:
                v = np.array([x[k] for x in results.get((t, m), [])])
                cells.append(f"{v.mean():.2f} ± {v.std():.2f}" if len(v) else "–")
            print(f"| {m} (this run) | " + " | ".join(cells) + " |")
        for m in ("random", "cheapest", "dopt", "vopt", "mspe"):
            print(f"| {m} (paper) | " + " | ".join(f"{PAPER[m][k][t][0]:.2f} ± {PAPER[m][k][t][1]:.2f}"
                                                  for t in tasks) + " |")
        mean = {(t, m): float(np.mean([x[k] for x in results[t, m]])) for t, m in results}
        for ours in ("lawfind", "misfit"):
            have = [t for t in tasks if (t, ours) in mean]
            if not have:
                continue
            above = [t for t in have if round(mean[t, ours], 2) >= PAPER["mspe"][k][t][0]]
            near = [t for t in have if round(mean[t, ours], 2) >= PAPER["vopt"][k][t][0] - PAPER["vopt"][k][t][1]]
            print(f"{ours} at or above the paper's MSPE on {len(above)} of {len(have)} tasks ({', '.join(above)}); "
                  f"within V-optimal's sd of it or above on {len(near)} of {len(have)}; mean over these tasks "
                  f"{np.mean([mean[t, ours] for t in have]):.3f}")
        checks = [(t, m) for t in tasks for m in ("random", "cheapest", "dopt") if (t, m) in mean]
        inside = [(t, m) for t, m in checks if abs(mean[t, m] - PAPER[m][k][t][0]) <= PAPER[m][k][t][1] + 0.005]
        if checks:
            print(f"baselines within the paper's sd of its mean: {len(inside)} of {len(checks)}"
                  + (f" (outside: {', '.join(f'{m} on {t}' for t, m in checks if (t, m) not in inside)})"
                     if len(inside) < len(checks) else ""))
        print()


def read_log(path: str) -> tuple[dict, list[str], list[str]]:
    """The per-law lines this script printed (one or several runs' logs concatenated): results, tasks, methods."""
    results: dict = {}
    tasks: list[str] = []
    methods: list[str] = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 7 and parts[0] in TASKS and parts[1] in METHODS:
            task, method = parts[0], parts[1]
            values = parts[3:6] if parts[2] != "(no" else parts[4:7]
            results.setdefault((task, method), []).append(np.array([float(v) for v in values]))
            tasks += [task] if task not in tasks else []
            methods += [method] if method not in methods else []
    return results, tasks, methods


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--laws", default="all", help="'all' or law numbers, e.g. 1,2,3 (sl_1, ...)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--methods", default="random,cheapest,dopt,lawfind")
    ap.add_argument("--starts", type=int, default=64, help="starts of each checkpoint's fit (default: 64, as the paper)")
    ap.add_argument("--design-starts", type=int, default=16,
                    help="starts of the designs' refits between picks, beside the warm pool (default: 16)")
    ap.add_argument("--discover-budget", type=float, default=20.0, help="seconds per discovery (discovered row)")
    ap.add_argument("--from-log", metavar="FILE", help="print the tables from the per-law lines of earlier runs' output")
    args = ap.parse_args()
    if args.from_log:
        results, tasks, methods = read_log(args.from_log)
        print_tables(results, tasks, methods)
        return
    if not SLDBENCH.exists():
        print(f"{SLDBENCH} is absent: nothing to run")
        return
    methods = args.methods.split(",")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    wanted = None if args.laws == "all" else {f"sl_{k}" for k in args.laws.split(",")}
    results: dict = {}  # (task, method) -> per-law (3,) means
    t_all = time.monotonic()
    for task in args.tasks.split(","):
        specs = [s for s in LAWS[task] if (wanted is None or s.name in wanted) and not s.shared]
        for method in methods:
            t0 = time.monotonic()
            if method == "discovered":
                r = run_discovered(task, args.repeats, args.starts, args.discover_budget)
                results[task, method] = [r.mean(axis=0)]
                print(f"{task:16s} {method:10s} {'(no law)':7s} " + " ".join(f"{v:6.3f}" for v in r.mean(axis=0)) +
                      f"  {time.monotonic() - t0:5.0f} s", flush=True)
                continue
            per_law = []
            for spec in specs:
                t1 = time.monotonic()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = run_law(task, spec, method, args.repeats, args.starts, args.design_starts)
                per_law.append(r.mean(axis=0))
                print(f"{task:16s} {method:10s} {spec.name:7s} " + " ".join(f"{v:6.3f}" for v in r.mean(axis=0)) +
                      f"  {time.monotonic() - t1:5.0f} s", flush=True)
            results[task, method] = per_law
    print(f"\nall in {time.monotonic() - t_all:.0f} s; task value = mean ± sd over laws of the mean R2 over "
          f"{args.repeats} repeats; paper: Table 2 of arXiv 2604.22753\n")
    print_tables(results, args.tasks.split(","), methods)


if __name__ == "__main__":
    main()
