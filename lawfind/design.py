"""Which runs of a pool to train, under a budget, so that a law predicts a target region best.

A :class:`Design` holds the runnable experiments (the pool, each with a cost), the configurations the
law must predict (the target region, e.g. the large runs one cannot afford) and a budget; a loop asks it
for the next runs, trains them, refits, and adds them (:meth:`Design.add` returns the grown design).

The criterion is the expected reduction of the mean squared prediction error over the target region
per ``(cost / pool cost) ** 0.4`` (V-optimality, Chaloner & Verdinelli 1995, sec. 2.3, with a cost exponent as ScaleBench,
arXiv 2604.22753, uses). The predictions' uncertainty is a mixture: each fitted basin of each candidate
law contributes its local Gaussian (the Laplace approximation at the fit, with a weak prior from the
constants' bounds), and the basins' and laws' disagreement enters as between-component covariance, so a
run is worth most where it tells the candidate fits apart in a way that matters for the target region
(the bias of extrapolating with the wrong basin or the wrong law, not only the variance of the
constants). Optionally (``Ensemble.from_modes(..., discrepancy=True)``), the law's misfit is a
Gaussian process in the inputs beside it (Kennedy & O'Hagan 2001): no law is exact, and what it misses
near the target region is learnt from runs near it. The covariance, ``Z.T @ Z`` plus the process's
kernel, is conditioned on each pick's noisy observation (a rank-one update, as in
:mod:`lawfind.suggest`), so a batch spreads out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.linalg import solve_triangular

from .data import RunTable
from .errors import FitError, OptionError, check_choice
from .fit import Mode, fit_modes, response
from .laws import Law
from .optimize.allocation import run_costs

__all__ = ["Ensemble", "Design", "Picks", "CRITERIA", "COST_POWER", "prior_sd", "coordinates", "points_table",
           "exclude_done", "choose"]

_PRIOR_NOISE = 0.01  # a new run's noise before the data say otherwise: 1 % of loss (log scale) or of the spread
CRITERIA = ("region", "d-optimal")
COST_POWER = 0.4  # ScaleBench's exponent of the cost in gain / cost**power, taken as the paper set it


@dataclass(frozen=True)
class Ensemble:
    """Predictions at a set of points as a mean and a factor of their covariance (``factor.T @ factor``),
    in the fitter's units (log loss, or the target over its spread), and the sd of a new run's noise.

    Attributes
    ----------
    mean:
        ``(M,)`` predicted values.
    factor:
        ``(r, M)``: the covariance of the predictions is ``factor.T @ factor``.
    noise:
        The sd of one new observation, in the same units.
    """

    mean: np.ndarray
    factor: np.ndarray
    noise: float
    coords: np.ndarray | None = None
    discrepancy: float = 0.0
    done: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.factor.ndim != 2 or self.factor.shape[1] != len(self.mean):
            raise OptionError(f"the factor must be (r, {len(self.mean)}), got {self.factor.shape}")
        if not (math.isfinite(self.noise) and self.noise > 0):
            raise OptionError(f"the noise sd must be a finite number > 0, got {self.noise}")
        if not (math.isfinite(self.discrepancy) and self.discrepancy >= 0):
            raise OptionError(f"the discrepancy variance must be a finite number >= 0, got {self.discrepancy}")
        if self.discrepancy > 0 and (self.coords is None or self.coords.ndim != 2
                                     or len(self.coords) != len(self.mean)):
            raise OptionError(f"a discrepancy needs coordinates, one row per point ({len(self.mean)})")
        if self.done is not None and (self.coords is None or self.done.ndim != 2
                                      or self.done.shape[1] != self.coords.shape[1]):
            raise OptionError("the runs done need coordinates with the points' columns")

    def __repr__(self) -> str:
        extra = f", discrepancy sd {math.sqrt(self.discrepancy):.3g}" if self.discrepancy else ""
        return f"Ensemble({len(self.mean)} points, rank {self.factor.shape[0]}, noise sd {self.noise:.3g}{extra})"

    def _k(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        d2 = np.sum(x ** 2, axis=1)[:, None] + np.sum(y ** 2, axis=1)[None, :] - 2 * x @ y.T
        return self.discrepancy * np.exp(-0.5 * np.maximum(d2, 0.0))

    @cached_property
    def _seen(self) -> np.ndarray | None:
        """``L^-1 K(done, points)`` with ``L L' = K(done, done) + noise**2 I``: what the runs done tell of
        the misfit at the points, ``(n_done, points)``."""
        if not self.discrepancy or self.done is None or not len(self.done):
            return None
        L = np.linalg.cholesky(self._k(self.done, self.done) + self.noise ** 2 * np.eye(len(self.done)))
        return solve_triangular(L, self._k(self.done, self.coords), lower=True)

    def kernel(self, rows: np.ndarray | slice, cols: np.ndarray | slice) -> np.ndarray:
        """The discrepancy's covariance between points ``rows`` and ``cols`` given the runs done (zeros
        without one)."""
        if not self.discrepancy:
            a = np.arange(len(self.mean))
            return np.zeros((len(a[rows]), len(a[cols])))
        k = self._k(self.coords[rows], self.coords[cols])
        seen = self._seen
        return k if seen is None else k - seen[:, rows].T @ seen[:, cols]

    def kernel_diag(self, rows: np.ndarray | slice) -> np.ndarray:
        """The discrepancy's variance at points ``rows`` given the runs done."""
        n = len(np.arange(len(self.mean))[rows])
        if not self.discrepancy:
            return np.zeros(n)
        seen = self._seen
        return self.discrepancy - (0.0 if seen is None else np.einsum("dm,dm->m", seen[:, rows], seen[:, rows]))

    @classmethod
    def from_replicates(cls, point: np.ndarray, replicates: np.ndarray, noise: float) -> Ensemble:
        """From bootstrap replicates of the predictions, ``(R, M)`` (their covariance)."""
        R = replicates.shape[0]
        if R < 2:
            raise OptionError("an ensemble needs at least two replicates")
        return cls(np.asarray(point, float), (replicates - replicates.mean(axis=0)) / math.sqrt(R - 1), float(noise))

    @classmethod
    def from_modes(cls, models: Sequence[tuple[Law, Mode]], table: RunTable, points: RunTable, *,
                   per_group: Sequence[str] = (), prior_noise: float = _PRIOR_NOISE,
                   discrepancy: bool = False) -> Ensemble:
        """A mixture of local Gaussians: one per (law, basin) fitted to ``table``, predicting ``points``.

        Each component's constants are Gaussian about the fit with covariance ``(J'J / s2 + prior)^-1``
        (``J`` the residuals' Jacobian on ``table``; the prior from :func:`prior_sd`); ``s2`` is the
        noise's posterior mean from the best component's sum of squares under an inverse-gamma prior
        (shape 2, scale ``2 prior_noise**2``). Components weigh ``exp(-dBIC / (2 T))`` with ``T = max(1,
        n / 2P)`` per component (as ScaleBench's MSPE): with many runs, basins of similar fit keep some
        weight. A component that cannot predict every point is left out while another can; a point
        whose prediction or slope some component cannot give is unusable (a ``nan`` column).

        With ``discrepancy``, the law's misfit is a smooth function of the inputs too (Kennedy &
        O'Hagan 2001): a Gaussian process with the noise's variance and a squared-exponential kernel of
        unit length in :func:`coordinates` (each input's log, over its sd across the points and the runs
        done), independent between groups, conditioned on the runs done (their residuals are seen: near
        them the misfit is known). Where the constants are pinned, a run is then worth most near the
        target region, where it tells what the law misses there; far-off cheap runs are not. It is off
        by default: on ScaleBench it moved tasks both ways and left the mean R2 where it was
        (docs/predict.md).
        """
        if not models:
            raise OptionError("an ensemble needs at least one fitted law")
        n = len(table)
        # a component that cannot predict every point (a negative loss, an overflow) is implausible there:
        # it is left out while another can predict them all
        levels = tuple(sorted(set(table.groups))) if per_group else None
        finite = [bool(np.all(np.isfinite(response(law, m.z, points, per_group, levels)[0]))) for law, m in models]
        if any(finite):
            models = [lm for lm, ok in zip(models, finite) if ok]
        a0, b0 = 2.0, 2.0 * prior_noise ** 2
        best = min(m.sse for _, m in models)
        s2 = (b0 + best / 2) / (a0 + n / 2 - 1)
        bic = np.array([n * math.log(max(m.sse / n, 1e-300)) + len(m.z) * math.log(max(n, 2)) for _, m in models])
        temp = np.array([max(1.0, n / (2 * len(m.z))) for _, m in models])
        w = np.exp(-(bic - bic.min()) / (2 * temp))
        w /= w.sum()
        means, blocks = [], []
        for (law, mode), wk in zip(models, w):
            _, J = response(law, mode.z, table, per_group)
            mu, Jp = response(law, mode.z, points, per_group, levels)
            mu = np.where(np.all(np.isfinite(Jp), axis=0), mu, np.nan)  # a slope it cannot give: unusable
            J, Jp = np.nan_to_num(J, posinf=0.0, neginf=0.0), np.nan_to_num(Jp, posinf=0.0, neginf=0.0)
            H = J @ J.T / s2 + np.diag(1.0 / prior_sd(law, mode, per_group) ** 2)
            lam, V = np.linalg.eigh(H)
            lam = np.maximum(lam, max(1e-10 * lam.max(), 1e-30))
            blocks.append(math.sqrt(wk) * (V / np.sqrt(lam)).T @ Jp)  # (P, M): its covariance is Jp' H^-1 Jp
            means.append(mu)
        mu = np.array(means)  # (K, M)
        bad = ~np.isfinite(mu)
        mean = np.einsum("k,km->m", w, np.where(bad, 0.0, mu))
        spread = np.sqrt(w)[:, None] * np.where(bad, 0.0, mu - mean)  # the components' disagreement
        factor = np.vstack([*blocks, spread])
        factor[:, bad.any(axis=0)] = np.nan  # a point some component cannot predict: unusable
        if not discrepancy:
            return cls(mean, factor, math.sqrt(s2))
        inputs = [np.concatenate([a, b]) for a, b in zip(points.X(), table.X(points.features))]
        groups = None if points.groups is None else np.concatenate([points.groups, table.groups])
        xy = coordinates(inputs, groups)
        return cls(mean, factor, math.sqrt(s2), xy[:len(points)], s2, xy[len(points):])


def coordinates(inputs: Sequence[np.ndarray], groups: np.ndarray | None = None) -> np.ndarray:
    """The points' inputs (one array per variable) where the discrepancy's kernel has unit length: each
    variable's log (its value where one is <= 0) over its sd across the points (constant ones left out);
    points of different ``groups`` are set far apart (independent misfits)."""
    cols = []
    for x in inputs:
        x = np.asarray(x, float)
        v = np.log(x) if np.all(x > 0) else x
        sd = float(np.std(v))
        if sd > 0 and np.all(np.isfinite(v)):
            cols.append((v - v.mean()) / sd)
    if groups is not None:
        _, code = np.unique(np.asarray(groups).astype(str), return_inverse=True)
        cols.append(1e3 * code.astype(float))
    return np.column_stack(cols) if cols else np.zeros((len(np.asarray(inputs[0])) if len(inputs) else 0, 1))


def prior_sd(law: Law, mode: Mode, per_group: Sequence[str] = ()) -> np.ndarray:
    """The prior sd of each constant in the fitter's coordinates: a quarter of the bounds' width where
    both are finite (in logs for a log-scale constant), else half the initial range's, else 1."""
    params = {p.name: p for p in law.params}
    out = []
    for name in mode.values:
        p = params[name.split("[")[0]]
        lo, hi = p.bounds
        if lo is not None and hi is not None and (not p.log_scale or lo > 0):
            w = (math.log(hi) - math.log(lo)) / 4 if p.log_scale else (hi - lo) / 4
        else:
            a, b = p.init
            w = (math.log(b) - math.log(a)) / 2 if p.log_scale else (b - a) / 2
        out.append(w if w > 0 else 1.0)
    return np.array(out)


@dataclass(frozen=True)
class Design:
    """Runnable experiments (``pool``, with ``cost``), the region to predict (``target``, weighed by
    ``weights``), a ``budget`` for the whole design, and the pool rows already ``chosen`` (positions).

    Build one with :meth:`from_frames`; :meth:`next` proposes runs, :meth:`add` returns the design
    with them chosen. Nothing is random: the same fits give the same picks.
    """

    pool: pd.DataFrame
    target: pd.DataFrame
    cost: np.ndarray
    budget: float
    weights: np.ndarray
    chosen: tuple[int, ...] = ()
    cost_power: float = COST_POWER

    def __post_init__(self) -> None:
        if len(self.cost) != len(self.pool):
            raise OptionError(f"{len(self.cost)} costs for {len(self.pool)} pool runs: give one cost per run")
        if not np.all(np.isfinite(self.cost) & (self.cost > 0)):
            raise OptionError("every pool run needs a finite cost > 0")
        if not (math.isfinite(self.budget) and self.budget > 0):
            raise OptionError(f"the budget must be a finite number > 0, got {self.budget}")
        if not len(self.target):
            raise OptionError("the target region is empty: give at least one configuration to predict")
        if (len(self.weights) != len(self.target) or not np.all(np.isfinite(self.weights) & (self.weights >= 0))
                or not self.weights.sum() > 0):
            raise OptionError("the target region's weights must be finite and >= 0, one per configuration, "
                              "not all zero")
        if not 0 <= self.cost_power <= 2:
            raise OptionError(f"cost_power must be in [0, 2], got {self.cost_power}")
        if len(set(self.chosen)) != len(self.chosen) or any(not 0 <= i < len(self.pool) for i in self.chosen):
            raise OptionError("chosen runs must be distinct positions in the pool")

    def __repr__(self) -> str:
        return (f"Design({len(self.pool)} pool runs, {len(self.target)} target configurations, "
                f"{len(self.chosen)} chosen, spent {self.spent:.3g} of {self.budget:.3g})")

    @classmethod
    def from_frames(cls, pool: pd.DataFrame, target: pd.DataFrame, cost: str | Sequence[float] | np.ndarray,
                    budget: float, *, weights: str | Sequence[float] | None = None,
                    cost_power: float = COST_POWER) -> Design:
        """A design over ``pool`` for ``target``; ``cost`` is a column of the pool, a formula in its
        columns (e.g. ``"6*N*D"``) or one number per run; ``weights`` a column of the target or numbers."""
        pool = pool.reset_index(drop=True)
        target = target.reset_index(drop=True)
        if isinstance(cost, str):
            c = pool[cost].to_numpy(float) if cost in pool.columns else run_costs(cost, pool, "the pool's runs")
        else:
            c = np.asarray(cost, float)
        if weights is None:
            w = np.ones(len(target))
        elif isinstance(weights, str):
            if weights not in target.columns:
                raise OptionError(f"the target region has no weight column '{weights}' (it has "
                                  f"{', '.join(map(str, target.columns))})")
            w = target[weights].to_numpy(float)
        else:
            w = np.asarray(weights, float)
        return cls(pool, target, c, float(budget), w, (), float(cost_power))

    @property
    def spent(self) -> float:
        return float(self.cost[list(self.chosen)].sum()) if self.chosen else 0.0

    @property
    def left(self) -> float:
        return self.budget - self.spent

    def done(self) -> pd.DataFrame:
        """The chosen pool rows, in the order chosen."""
        return self.pool.iloc[list(self.chosen)]

    def add(self, rows: Sequence[int]) -> Design:
        """The design with pool positions ``rows`` chosen too."""
        return replace(self, chosen=(*self.chosen, *(int(i) for i in rows)))

    def affordable(self) -> np.ndarray:
        """Positions of the pool runs not chosen whose cost fits in what is left."""
        ok = self.cost <= self.left * (1 + 1e-12)
        ok[list(self.chosen)] = False
        return np.flatnonzero(ok)

    def next(self, ensemble: Ensemble | Sequence[Ensemble], n: int | None = None,
             criterion: str = "region") -> Picks:
        """Up to ``n`` runs (default: until the budget is spent), each conditioned on the earlier ones,
        that most improve the criterion per ``(cost / pool cost) ** cost_power``: ``"region"``, the
        expected reduction of the target region's squared prediction error; ``"d-optimal"``, the log of
        the constants' posterior volume shrinking (the target region unused). ``ensemble`` predicts the
        pool's rows followed by the target's; several (one per target column of a law with several
        outputs, observed together) add their gains."""
        check_choice("criterion", criterion, CRITERIA)
        if n is not None and n < 1:
            raise OptionError(f"n must be at least 1, got {n}")
        ens = [ensemble] if isinstance(ensemble, Ensemble) else list(ensemble)
        M, T = len(self.pool), len(self.target)
        for e in ens:
            if len(e.mean) != M + T:
                raise OptionError(f"the ensemble predicts {len(e.mean)} points; the design has {M} pool runs "
                                  f"and {T} target configurations")
        return _greedy(ens, M, self.cost, self.weights, self.left, n, self.cost_power,
                       np.isin(np.arange(M), list(self.chosen)), criterion == "d-optimal")


@dataclass(frozen=True)
class Picks:
    """Runs proposed by :meth:`Design.next`: pool positions in the order chosen, the target region's
    weighted mean predictive variance (summed over the ensembles of a law with several outputs) now and
    expected after each pick, in the fitter's units squared."""

    rows: tuple[int, ...]
    variance_now: float
    variance_after: tuple[float, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.rows)


class _State:
    """One ensemble's covariances while picks are conditioned on: target x pool, pool and target variances."""

    def __init__(self, ens: Ensemble, M: int, w: np.ndarray) -> None:
        Z = ens.factor
        self.ens = ens
        self.usable = np.all(np.isfinite(Z), axis=0)
        self.Zp, self.Zt = np.nan_to_num(Z[:, :M]), np.nan_to_num(Z[:, M:])
        w = np.where(self.usable[M:], w, 0.0)
        self.w = w / w.sum() if w.sum() > 0 else w
        self.C = self.Zt.T @ self.Zp  # (T, M)
        self.var_p = np.einsum("rm,rm->m", self.Zp, self.Zp)
        self.var_t = np.einsum("rt,rt->t", self.Zt, self.Zt)
        if ens.discrepancy:  # the misfit's process, beside the law's constants
            self.C += ens.kernel(slice(M, None), slice(0, M))
            self.var_p += ens.kernel_diag(slice(0, M))
            self.var_t += ens.kernel_diag(slice(M, None))
        self.s2 = ens.noise ** 2
        self.ups: list[np.ndarray] = []  # rank-one downdates, each over (pool, target)
        self.M = M

    def gain(self, volume: bool) -> np.ndarray:
        if volume:
            return np.log1p(np.maximum(self.var_p, 0.0) / self.s2)
        return (self.w @ self.C ** 2) / (np.maximum(self.var_p, 0.0) + self.s2)

    def observe(self, j: int) -> None:
        M = self.M
        col = np.concatenate([self.Zp.T @ self.Zp[:, j], self.Zt.T @ self.Zp[:, j]])
        if self.ens.discrepancy:
            col += self.ens.kernel(slice(None), [j])[:, 0]
        for u in self.ups:
            col -= u * u[j]
        u = col / math.sqrt(max(col[j], 0.0) + self.s2)
        self.ups.append(u)
        self.C -= np.outer(u[M:], u[:M])
        self.var_p -= u[:M] ** 2
        self.var_t -= u[M:] ** 2

    def variance(self) -> float:
        return float(self.w @ np.maximum(self.var_t, 0.0))


def _greedy(ensembles: Sequence[Ensemble], M: int, cost: np.ndarray, w: np.ndarray, left: float, n: int | None,
            power: float, taken: np.ndarray, volume: bool) -> Picks:
    # the constants' volume is the law's alone: the misfit's process does not enter D-optimality
    states = [_State(replace(e, discrepancy=0.0) if volume else e, M, w) for e in ensembles]
    rel = cost / cost.sum()
    ok = np.logical_and.reduce([s.usable[:M] for s in states]) & ~taken
    rows: list[int] = []
    after: list[float] = []
    now = sum(s.variance() for s in states)
    for _ in range(M if n is None else n):
        avail = ok & (cost <= left * (1 + 1e-12))
        if not avail.any():
            break
        gain = sum(s.gain(volume) for s in states)
        score = np.where(avail, gain / rel ** power, -np.inf)
        j = int(np.argmax(score))
        if not gain[j] > (1e-12 if volume else 1e-12 * max(now, 1e-300)):
            break
        for s in states:
            s.observe(j)
        ok[j] = False
        left -= cost[j]
        rows.append(j)
        after.append(sum(s.variance() for s in states))
    return Picks(tuple(rows), now, tuple(after))


def points_table(table: RunTable, frame: pd.DataFrame) -> RunTable:
    """``frame``'s configurations as a table in ``table``'s units, to predict (the target is a placeholder)."""
    missing = [v for v in table.features if v not in frame.columns]
    if missing:
        raise OptionError(f"the configurations lack the variables {missing}")
    cols = {v: frame[v].to_numpy(float) for v in table.features}
    cols[table.target] = np.ones(len(frame))
    if table.group is not None:
        if table.group not in frame:
            raise OptionError(f"the configurations need the group column '{table.group}': the law has constants "
                              "per group")
        cols[table.group] = frame[table.group].to_numpy()
    return RunTable(pd.DataFrame(cols), table.features, table.target, table.group, scale=table.scale,
                    spread=table.spread)


def exclude_done(candidates: pd.DataFrame, done: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
    """The candidates that no run of ``done`` equals in ``variables`` (to 1e-9 relative): a loop's
    trained runs are not proposed again. The candidates keep their index labels."""
    missing = [v for v in variables if v not in done.columns]
    if missing:
        raise OptionError(f"the runs done lack the law's variables {missing} (they have "
                          f"{', '.join(map(str, done.columns))}): name the columns as the candidates do")
    bad = [v for v in variables if not pd.api.types.is_numeric_dtype(done[v])]
    if bad:
        raise OptionError(f"the runs done have non-numeric values in {bad}: give numbers")
    a = candidates[list(variables)].to_numpy(float)
    same = np.zeros(len(a), dtype=bool)
    for row in done[list(variables)].to_numpy(float):  # one done run at a time: no (C, D, k) array
        same |= np.all(np.isclose(a, row, rtol=1e-9, atol=0.0), axis=1)
    return candidates[~same]


def choose(design: Design, laws: Sequence[Law], table: RunTable, *, n: int | None = None, n_starts: int = 32,
           seed: int = 0, initial: Mapping[str, Sequence[Mapping[str, float]]] | None = None,
           per_group: Sequence[str] = (), discrepancy: bool = False) -> tuple[Picks, list[tuple[Law, Mode]]]:
    """One step of the loop: fit every law's basins to ``table`` (the runs done so far), build the
    mixture over them (with the misfit's process where ``discrepancy``, :meth:`Ensemble.from_modes`)
    and propose up to ``n`` runs; returns the picks and the fitted (law, basin) pairs (their constants
    warm-start the next step through ``initial``, by law name)."""
    models: list[tuple[Law, Mode]] = []
    for law in laws:
        if law.n_params > len(table):
            continue
        try:
            modes = fit_modes(law, table, n_starts=n_starts, seed=seed, per_group=per_group,
                              initial=(initial or {}).get(law.name, ()))
        except FitError:  # no start gave finite predictions: the other laws still count
            continue
        models += [(law, mode) for mode in modes]
    if not models:
        raise OptionError(f"no law could be fitted to the {len(table)} runs done")
    points = points_table(table, pd.concat([design.pool, design.target], ignore_index=True))
    ens = Ensemble.from_modes(models, table, points, per_group=per_group, discrepancy=discrepancy)
    return design.next(ens, n), models
