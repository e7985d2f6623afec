"""Which runs to train next: the candidates that most shrink the interval of a chosen quantity per unit cost.

The bootstrap replicates of a fit carry its uncertainty. For a target ``t`` (an optimum such as ``G*``,
per replicate, or the log loss at a configuration) and a candidate run at ``x`` whose log loss ``f(x)``
would be observed with run-to-run noise ``sigma``, the replicates give the joint covariance of ``t`` and
``f(x)``; treating it as Gaussian (the linearised replicate covariance), the run is expected to reduce
the target's variance by

    cov(t, f(x))^2 / (var f(x) + sigma^2),

which is large where the replicates disagree about ``f(x)`` *in a way that matters for t*. Candidates
are ranked by that reduction per unit cost (``6 Na D`` FLOPs by default). A batch is chosen greedily:
after each pick, the covariance is conditioned on that noisy observation (a rank-one update), so a
second run next to the first gains little and the picks spread out (the batch form of expected
variance reduction in Bayesian experimental design; Chaloner & Verdinelli 1995).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sympy as sp
from scipy.stats import qmc

from .errors import OptionError
from .optimize import default_cost, stationary_point
from .design import COST_POWER
from .optimize.allocation import run_costs
from .optimize.solve import substitute
from .predict import Predictor, _log_eval, parse_point
from .symbols import interpolate, scale

__all__ = ["Target", "parse_target", "target_point", "target_replicates", "candidates_from_ranges", "Suggestion",
           "suggest", "sweep_spec"]

_GRID = 241  # points of the numeric search for an optimum


@dataclass(frozen=True)
class Target:
    """What the next runs should pin down: ``kind`` ``"optimum"`` (of ``variable``), ``"loss"`` (at
    ``point``) or ``"region"`` (the loss over the configurations of ``region``, a ``weight`` column
    weighing them)."""

    kind: str
    variable: str | None = None
    point: Mapping[str, float] = field(default_factory=dict)
    text: str = ""
    region: pd.DataFrame | None = None

    def describe(self) -> str:
        if self.kind == "optimum":
            return f"{self.variable}*"
        if self.kind == "region":
            return f"loss over the {len(self.region)} configurations of {self.text.partition(':')[2]}"
        return "loss at " + ", ".join(f"{k}={v:.3g}" for k, v in self.point.items())


def parse_target(text: str, variables: Sequence[str], others: Sequence[str] = ()) -> Target:
    """``"G*"``, ``"S*"`` (an optimum of the law's ``variables``) or ``"loss@N=7e9,D=2e12"`` (the loss at
    a point, which may also name ``others``, e.g. table features the law does not use)."""
    t = (text or "").strip()
    m = re.fullmatch(r"([A-Za-z_]\w*)\s*\*", t)
    if m:
        if m.group(1) not in variables:
            raise OptionError(f"the target '{t}' names '{m.group(1)}', which is not a variable of the law "
                              f"({', '.join(variables)})")
        return Target("optimum", m.group(1), {}, t)
    head, sep, rest = t.partition("@")
    if sep and head.strip().lower() == "loss" and rest.strip().lower().startswith("grid:"):
        return Target("region", None, {}, t, _region(rest.strip()[5:].strip(), variables))
    if sep and head.strip().lower() == "loss":
        return Target("loss", None, parse_point(rest, [*variables, *(o for o in others if o not in variables)]), t)
    raise OptionError(f"cannot read the target '{t}': write an optimum such as 'G*' or 'S*', "
                      "'loss@N=7e9,D=2e12' (unnamed variables take the middle of the data), or "
                      "'loss@grid:FILE' (the configurations of a CSV or parquet file)")


def _region(path: str, variables: Sequence[str]) -> pd.DataFrame:
    """The target region's configurations from ``path``: every variable of the law, an optional weight."""
    from .files import read_table

    if not path:
        raise OptionError("'loss@grid:' needs a file: 'loss@grid:targets.csv'")
    frame = read_table(path)
    if not len(frame):
        raise OptionError(f"the target region '{path}' has no configurations")
    missing = [v for v in variables if v not in frame.columns]
    if missing:
        raise OptionError(f"the target region '{path}' lacks the law's variables {missing} (it has "
                          f"{', '.join(map(str, frame.columns))})")
    for col in [*variables, *(["weight"] if "weight" in frame else [])]:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~np.isfinite(values) | ((values < 0) if col == "weight" else False))
        if bad.size:
            need = "a finite number >= 0" if col == "weight" else "a finite number"
            raise OptionError(f"row {bad[0] + 1} of the target region '{path}' has {col} = {frame[col].iloc[bad[0]]!r}: "
                              f"give {need}")
        frame[col] = values
    return frame.reset_index(drop=True)


def _point(pred: Predictor, given: Mapping[str, float]) -> dict[str, float]:
    missing = [v for v in pred.variables if v not in given and v not in pred.ranges]
    if missing:
        raise OptionError(f"give {', '.join(missing)} in the target or --at (the file has no data range for them)")
    return {v: float(given[v]) if v in given else interpolate(v, *pred.ranges[v], 0.5) for v in pred.variables}


def target_point(pred: Predictor, target: Target, at: Mapping[str, float] | None = None) -> dict[str, float]:
    """Where the target is taken: the values given (in the target, then ``at``), the data's middle for
    the law's other variables."""
    return _point(pred, {**(at or {}), **target.point})


def _search_grid(v: str, ranges: Mapping[str, tuple[float, float]]) -> tuple[np.ndarray, bool]:
    """Where an optimum is searched: the data's range widened (twice beyond on a log scale)."""
    lo, hi = ranges[v]
    if scale(v) == "linear":
        w = hi - lo
        return np.linspace(max(0.0, lo - 0.5 * w), min(0.999, hi + 0.5 * w), _GRID), False
    return np.geomspace(lo / 2, hi * 2, _GRID), True


def target_replicates(pred: Predictor, target: Target, at: Mapping[str, float] | None = None
                      ) -> tuple[float, np.ndarray, str]:
    """The target at the fitted constants and per replicate, on the scale its variance is judged:
    log loss; the log of an optimum of a positive variable; a bounded ratio's optimum as it is.

    Returns ``(value, replicates (R,), unit)``, where ``unit`` is ``"log"`` or ``"linear"``;
    replicates without an interior optimum in the searched range take its edge.
    """
    pt = target_point(pred, target, at)
    if target.kind == "loss":
        point, reps = pred.log_predict({v: np.array([pt[v]]) for v in pred.variables})
        return float(point[0]), reps[:, 0], "log"
    v = target.variable
    if v not in pred.ranges:
        raise OptionError(f"the file has no data range for {v}: an optimum is searched over it")
    grid, logs = _search_grid(v, pred.ranges)
    X = [grid if u == v else np.full(len(grid), pt[u]) for u in pred.variables]
    thetas = np.vstack([pred.theta()[None, :], pred.replicates])
    vals = _log_eval(pred.law, thetas, X)  # (1 + R, grid)
    x = _argmin(grid, vals, logs)
    closed = _closed_form(pred, v, pt, thetas, grid, vals, X)
    if closed is not None:
        x = np.where(np.isfinite(closed), closed, x)
    x = np.log(x) if logs else x
    return float(x[0]), x[1:], "log" if logs else "linear"


def _argmin(grid: np.ndarray, vals: np.ndarray, logs: bool) -> np.ndarray:
    """Per row, the grid's minimum refined by the vertex of the parabola through it and its neighbours."""
    t = np.log(grid) if logs else grid
    v = np.where(np.isfinite(vals), vals, np.inf)
    i = np.clip(np.argmin(v, axis=1), 1, len(grid) - 2)
    rows = np.arange(len(v))
    y0, y1, y2 = v[rows, i - 1], v[rows, i], v[rows, i + 1]
    h = t[1] - t[0]
    den = y0 - 2 * y1 + y2
    with np.errstate(all="ignore"):
        off = np.where(den > 0, 0.5 * h * (y0 - y2) / den, 0.0)
    x = t[i] + np.clip(np.nan_to_num(off), -h, h)
    edge = np.argmin(v, axis=1)
    x = np.where(edge == 0, t[0], np.where(edge == len(grid) - 1, t[-1], x))
    return np.exp(x) if logs else x


def _closed_form(pred: Predictor, v: str, pt, thetas, grid, vals, X) -> np.ndarray | None:
    """The sympy closed form of the optimum (lawfind.optimize) per replicate, where it is a minimum in
    the searched range at least as low as the grid's; ``None`` where sympy finds none."""
    try:
        opt = stationary_point(pred.law, pred.values, v, at={u: pt[u] for u in pt if u != v}, ranges=pred.ranges,
                               timeout=10.0)
    except (OptionError, ValueError, TypeError):
        return None
    if opt.closed_form is None:
        return None
    syms = [pred.law.symbol(p) for p in pred.law.param_names]
    others = [u for u in pred.variables if u != v]
    expr = substitute(opt.closed_form, {u: pt[u] for u in others})
    f = sp.lambdify(syms, expr, "numpy")
    with np.errstate(all="ignore"):
        x = np.asarray(f(*[thetas[:, j] for j in range(thetas.shape[1])]), dtype=complex)
    ok = (np.abs(x.imag) < 1e-12 * np.maximum(1, np.abs(x.real))) & (x.real >= grid[0]) & (x.real <= grid[-1])
    x = np.where(ok, x.real, np.nan)
    Xv = [np.nan_to_num(x, nan=grid[0]) if u == v else np.full(len(x), pt[u]) for u in pred.variables]
    with np.errstate(all="ignore"):  # row r of thetas at row r of the columns
        at_x = np.log(pred.law.compiled(list(thetas.T), Xv))
    best = np.nanmin(np.where(np.isfinite(vals), vals, np.nan), axis=1)
    return np.where(ok & (at_x <= best + 1e-12), x, np.nan)


def candidates_from_ranges(ranges: Mapping[str, tuple[float, float]], n: int = 2000, seed: int = 0,
                           integer: Sequence[str] = ("G",)) -> pd.DataFrame:
    """``n`` candidate configurations filling the ranges (a Latin hypercube: log scale for positive
    variables, linear for ratios such as ``S``; ``G`` rounded to integers; ``Na <= N`` kept)."""
    names = list(ranges)
    out: list[pd.DataFrame] = []
    rng = np.random.default_rng(seed)
    have = 0
    for _ in range(20):
        u = qmc.LatinHypercube(d=len(names), seed=rng).random(max(n, 16) * 2)
        cols = {}
        for k, v in enumerate(names):
            lo, hi = ranges[v]
            cols[v] = interpolate(v, lo, hi, u[:, k])
            if v in integer:
                cols[v] = np.clip(np.round(cols[v]), max(1.0, math.ceil(lo)), math.floor(hi))
        frame = pd.DataFrame(cols)
        if "Na" in frame and "N" in frame:
            frame = frame[frame["Na"] <= frame["N"]]
        out.append(frame)
        have += len(frame)
        if have >= n:
            break
    return pd.concat(out, ignore_index=True).head(n).reset_index(drop=True)


@dataclass(frozen=True)
class Suggestion:
    """The chosen runs and what they are expected to do to the target's interval.

    Attributes
    ----------
    picks:
        The chosen candidates in the order chosen: their variables, ``cost``, ``sd_after`` (the
        target's expected standard deviation after this and the earlier picks), ``shrink`` (share of
        the interval width removed by this pick), ``per_cost`` (variance removed per unit cost) and
        ``candidate`` (the pick's index label in the candidate table).
    target, point:
        What was targeted and where (the other variables of an optimum, or the configuration of a
        loss); ``value``, its value at the fitted constants, in ``unit`` (``log``: a log scale).
    sd_now, sd_after:
        The target's standard deviation across the replicates, and expected after all picks.
    """

    picks: pd.DataFrame
    target: Target
    point: Mapping[str, float]
    value: float
    unit: str
    sd_now: float
    sd_after: float
    interval_now: tuple[float, float]
    cost: str
    noise_sd: float
    n_candidates: int
    n_replicates: int
    notes: tuple[str, ...] = ()

    @property
    def total_cost(self) -> float:
        return float(self.picks["cost"].sum()) if len(self.picks) else 0.0

    def width_ratio(self) -> float:
        """Expected interval width after the picks over the width now (Gaussian approximation)."""
        return self.sd_after / self.sd_now if self.sd_now > 0 else 1.0


def _costs(cost: str, frame: pd.DataFrame) -> np.ndarray:
    return run_costs(cost, frame, "the candidates")


def suggest(pred: Predictor, target: Target, candidates: pd.DataFrame, *, n: int = 8, budget: float | None = None,
            cost: str | None = None, noise_sd: float | None = None, at: Mapping[str, float] | None = None,
            cost_power: float | None = None) -> Suggestion:
    """Choose up to ``n`` runs among ``candidates`` that most shrink the target's interval per unit cost.

    Parameters
    ----------
    pred:
        The fitted law with its bootstrap replicates.
    target:
        From :func:`parse_target`.
    candidates:
        Configurations, one column per variable (and any column the cost uses).
    n, budget:
        At most ``n`` picks whose costs sum to at most ``budget`` (no limit if ``None``).
    cost:
        A formula in the variables (default: :func:`lawfind.optimize.default_cost` of the candidates'
        columns, ``6*Na*D`` where ``Na`` is one, else ``6*N*D``).
    noise_sd:
        Run-to-run noise of log loss for a new run (default: the file's estimate).
    at:
        Values of variables an optimum target is taken at (default: the middle of the data).
    cost_power:
        For a target region only: candidates rank by variance removed per ``(cost / total cost) **
        cost_power`` (default 0.4, :class:`lawfind.design.Design`); the other targets rank per unit cost.
    """
    R = pred.replicates.shape[0]
    if R < 10:
        raise OptionError(f"suggest needs bootstrap replicates of the fit ({R} in the file): fit with --bootstrap 200")
    if n < 1:
        raise OptionError("n must be at least 1")
    missing = [v for v in pred.variables if v not in candidates.columns]
    if missing:
        raise OptionError(f"the candidates lack the law's variables {missing}")
    cost = cost or default_cost(candidates.columns)[0]
    c = _costs(cost, candidates)
    sigma = pred.noise_sd if noise_sd is None else noise_sd
    notes = []
    if not sigma:
        sigma = 0.01
        notes.append("no noise estimate in the file: a new run is assumed to carry 1 % noise of log loss")
    if target.kind == "region":
        return _suggest_region(pred, target, candidates, c, cost, n, budget, float(sigma),
                               COST_POWER if cost_power is None else cost_power, notes)
    if cost_power is not None:
        raise OptionError("a cost power applies to a 'loss@grid:FILE' target only; the others rank per unit cost")
    value, t, unit = target_replicates(pred, target, at)
    _, F = pred.log_predict({v: candidates[v].to_numpy(float) for v in pred.variables})
    rows = np.isfinite(t) & np.all(np.isfinite(F), axis=1)
    if rows.sum() < 10:
        raise OptionError("fewer than 10 replicates give a finite target and predictions at the candidates")
    t, F = t[rows], F[rows]
    m = len(t) - 1
    tc, Fc = t - t.mean(), F - F.mean(axis=0)
    var_t = float(tc @ tc / m)
    cov0 = Fc.T @ tc / m  # (M,)
    cov = cov0.copy()
    var_f = np.einsum("rm,rm->m", Fc, Fc) / m
    updates: list[np.ndarray] = []  # rank-one downdates of the joint covariance of (t, f(x_1..M))
    left = math.inf if budget is None else float(budget)
    picked: list[int] = []
    rec = []
    sd_now = math.sqrt(var_t)
    for _ in range(n):
        gain = cov ** 2 / (var_f + sigma ** 2)
        ok = (c <= left) & (gain > 1e-12 * max(var_t, 1e-300))
        ok[picked] = False
        if not ok.any():
            break
        score = np.where(ok, gain / c, -np.inf)
        j = int(np.argmax(score))
        col = np.concatenate([[cov0[j]], Fc.T @ Fc[:, j] / m])  # cov((t, f), f(x_j)) before the picks
        for u in updates:
            col -= u * u[1 + j]
        u = col / math.sqrt(col[1 + j] + sigma ** 2)
        updates.append(u)
        before = var_t
        var_t -= u[0] ** 2
        cov = cov - u[0] * u[1:]
        var_f = var_f - u[1:] ** 2
        picked.append(j)
        left -= c[j]
        rec.append({"cost": c[j], "sd_after": math.sqrt(max(var_t, 0.0)),
                    "shrink": 1 - math.sqrt(max(var_t, 0.0) / before), "per_cost": float(gain[j] / c[j]),
                    "candidate": int(candidates.index[j])})
    picks = pd.concat([candidates.iloc[picked].reset_index(drop=True), pd.DataFrame(rec)], axis=1)
    if len(picked) < n:
        rest = np.delete(c, picked)
        why = "the budget is spent" if not (rest <= left).any() else "no other candidate narrows the target"
        notes.append(f"{len(picked)} of {n} runs chosen: {why}")
    lo, hi = np.percentile(t, [2.5, 97.5])
    return Suggestion(picks, target, target_point(pred, target, at), value, unit, sd_now,
                      math.sqrt(max(var_t, 0.0)), (float(lo), float(hi)), cost, float(sigma), len(candidates),
                      int(rows.sum()), tuple(notes))


def _suggest_region(pred: Predictor, target: Target, candidates: pd.DataFrame, c: np.ndarray, cost: str, n: int,
                    budget: float | None, sigma: float, cost_power: float, notes: list[str]) -> Suggestion:
    """The picks that most cut the region's weighted mean squared error of log loss (:mod:`lawfind.design`),
    the replicates' covariance standing for the law's uncertainty. ``value`` is the region's weighted
    mean log loss, ``sd_now``/``sd_after`` the root of its weighted mean variance (the rms sd over the
    region), ``per_cost`` the variance a pick removes per unit cost."""
    from .design import Design, Ensemble

    region = target.region
    both = pd.concat([candidates[list(pred.variables)], region[list(pred.variables)]], ignore_index=True)
    point, reps = pred.log_predict({v: both[v].to_numpy(float) for v in pred.variables})
    M = len(candidates)
    usable = np.all(np.isfinite(reps), axis=0) & np.isfinite(point)  # a point some replicate cannot predict
    if not usable[M:].any():
        raise OptionError("the law predicts no configuration of the target region finitely in every replicate")
    weights = region["weight"].to_numpy(float) if "weight" in region else np.ones(len(region))
    if not weights[usable[M:]].sum() > 0:
        raise OptionError("every configuration of the target region that the law predicts has weight 0")
    design = Design.from_frames(candidates, region, c, float(c.sum()) if budget is None else budget,
                                weights=weights, cost_power=cost_power)
    ens = Ensemble.from_replicates(np.where(usable, point, np.nan), np.where(usable, reps, np.nan), sigma)
    picks = design.next(ens, n)
    w = np.where(usable[M:], weights, 0.0)
    value = float(w @ np.nan_to_num(point[M:]) / w.sum())
    sd_now = math.sqrt(picks.variance_now)
    before = [picks.variance_now, *picks.variance_after[:-1]]
    rec = [{"cost": c[j], "sd_after": math.sqrt(max(v, 0.0)), "shrink": 1 - math.sqrt(max(v, 0.0) / b) if b > 0 else 0.0,
            "per_cost": (b - v) / c[j], "candidate": int(candidates.index[j])}
           for j, v, b in zip(picks.rows, picks.variance_after, before)]
    out = pd.concat([candidates.iloc[list(picks.rows)].reset_index(drop=True), pd.DataFrame(rec)], axis=1)
    if (~usable[M:]).any():
        notes.append(f"{int((~usable[M:]).sum())} configurations of the region are left out: some replicate "
                     "predicts no finite loss there")
    if len(picks) < n:
        notes.append(f"{len(picks)} of {n} runs chosen: the budget is spent or no other candidate narrows the region")
    sd_after = math.sqrt(max(picks.variance_after[-1], 0.0)) if len(picks) else sd_now
    return Suggestion(out, target, {}, value, "log", sd_now, sd_after, (value - 1.96 * sd_now, value + 1.96 * sd_now),
                      cost, sigma, M, int(reps.shape[0]), tuple(notes))


def sweep_spec(picks: pd.DataFrame, base: Mapping[str, object] | None = None, corpus: str = "",
               name: str = "suggest") -> str:
    """One ``moe sweep`` spec (TOML) that trains exactly the picks: the first is its ``[base]`` point,
    every other a one-point ``[[family]]`` placed ``at`` its N, activation ratio, S and D with its G;
    the training settings come from ``base`` (e.g. the ``[base]`` of the sweep that made the table).

    The text is read back by :func:`moe.spec.parse_spec` before it is returned, so a spec moe would
    refuse (a template setting it does not know, a key the spec format renamed) is an
    :class:`~lawfind.errors.OptionError` here rather than a file that fails later.
    """
    from moe.spec import FACTORS, POINT, SpecError, parse_spec  # imported here: moe imports torch

    missing = [k for k in POINT if k not in picks.columns]
    if missing:
        raise OptionError(f"a moe sweep spec needs {', '.join(POINT)}; the picks lack {missing}")
    if not len(picks):
        raise OptionError("a moe sweep spec needs at least one pick")
    settings = {k: v for k, v in (base or {}).items() if k not in POINT and not isinstance(v, dict)}
    rows = [{"N": float(r.N), "Na": float(r.Na), "G": int(round(r.G)), "S": float(r.S), "D": float(r.D)}
            for r in picks.itertuples(index=False)]
    families = []
    for i, r in enumerate(rows[1:], 2):
        at = {"N": r["N"], "ratio": r["Na"] / r["N"], "S": r["S"], "D": r["D"]}
        families.append({"vary": "G", "values": [r["G"]], "at": {k: at[k] for k in FACTORS if k in at},
                         "label": f"suggest run {i}"})
    header = f"# {len(rows)} runs chosen by 'lawfind suggest': the base point is run 1, each family one more run"
    text = _dump({"name": name, "corpus": corpus, "base": {**rows[0], **settings}, "family": families}, header)
    try:
        parse_spec(tomllib.loads(text), f"{name}.toml")
    except SpecError as exc:
        raise OptionError(f"the moe sweep spec cannot be written: {exc} (check the template's [base])") from None
    return text


def _dump(spec: Mapping[str, object], header: str) -> str:
    """A sweep spec as TOML: top-level values, then ``[base]``, then each ``[[family]]``."""
    lines = [header, *(f"{k} = {_toml(v)}" for k, v in spec.items() if not isinstance(v, (dict, list)))]
    lines += ["", "[base]", *(f"{k} = {_toml(v)}" for k, v in spec["base"].items())]
    for fam in spec["family"]:
        lines += ["", "[[family]]", *(f"{k} = {_toml(v)}" for k, v in fam.items())]
    return "\n".join(lines) + "\n"


def _toml(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else "nan"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + " }"
    raise OptionError(f"cannot write {v!r} into a TOML spec")
