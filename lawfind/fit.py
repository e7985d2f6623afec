"""Robust fitting of a law's constants: Chinchilla approach 3, done right.

The objective is the Huber loss of ``log(prediction) - log(loss)`` with ``delta = 1e-3``, **summed**
over runs (on a table whose target has values ``<= 0``, ``table.scale == "linear"``, of
``(prediction - y) / spread`` instead, with ``spread`` the target's standard deviation at load) (Hoffmann et al. 2022, approach 3; Besiroglu et al. 2024 showed that the original fit
stopped early). L-BFGS-B runs from every point of a Latin hypercube (or grid) of starts with the
law's analytic gradient; the best optimum is checked for convergence, for how many starts reached it
and for parameters stuck on a bound. Bootstrap refits over resampled runs give standard errors and
95 % percentile intervals; each refit restarts from several points and all run in numpy batches
(:mod:`lawfind.bootstrap`). Repeated configurations give the run-to-run noise that prediction
intervals add. Parameters may be fitted per group (e.g. router type) while the others, typically the
exponents, are shared.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
from scipy.optimize import OptimizeResult, minimize
from scipy.stats import qmc

from .bootstrap import levenberg_marquardt, refit_replicates, screen_starts
from .data import RunTable
from .errors import FitError, OptionError, check_choice
from .laws import Law

__all__ = ["FitResult", "fit_law", "repeat_noise", "LOSSES", "Mode", "fit_modes", "response"]

LOSSES = ("huber", "lsq")
_BAD = 1e30
_SHORT = 30  # iterations every start gets
_POLISH = 12  # best starts then run to convergence
_NEWTON = 1000  # then at most these Newton steps on the Huber loss from each


@dataclass(frozen=True)
class FitResult:
    """A law with fitted constants, and how the fit went.

    Attributes
    ----------
    law:
        The fitted law.
    values:
        Best parameter values by name; a per-group parameter ``A`` appears as ``A[group]``.
    objective:
        The summed Huber (or half squared) loss of log residuals at the optimum.
    loss, delta:
        The objective used.
    n_obs:
        Number of runs fitted.
    converged:
        The optimiser reported success at the best start and the gradient there is small.
    n_starts, n_at_best:
        Starts tried, and how many reached the best objective (within 1e-6 relative).
    at_bound:
        Parameters that ended on a bound (the bound may be hiding a better optimum).
    stderr, intervals:
        Bootstrap standard errors and 95 % percentile intervals, when bootstrapped.
    bootstrap:
        The converged bootstrap replicates, ``(n, n_values)``, in the order of ``values``.
    boot_starts:
        Starts per bootstrap replicate: the best point, the full fit's other basins, Latin-hypercube
        draws.
    boot_failed:
        Share of replicates whose refit converged from none of its starts (left out of the intervals).
    boot_switched:
        Share of replicates whose optimum came from a start other than the best point, with a lower
        objective: they left the best point's basin, which single-start refits cannot do.
    noise:
        Run-to-run noise of log loss from repeated configurations (runs equal in every feature):
        ``{"sd_log": pooled within-group standard deviation, "dof": its degrees of freedom,
        "groups": number of repeated configurations}``; ``None`` without repeats.
    rmse_log:
        Root mean square of the log residuals at the optimum (lack of fit and noise together); NaN on
        the linear scale.
    scale:
        The target's scale the fit was made on (:attr:`lawfind.data.RunTable.scale`): ``"log"`` or
        ``"linear"``.
    rmse:
        Root mean square of the residuals on that scale: of log loss (``rmse_log``), or of the target
        in its own units.
    spread:
        The target's spread the linear-scale residuals were divided by in the objective (1 on the log scale).
    group, groups, per_group:
        The group column, its levels, and the parameters fitted per level.
    data_hash:
        Hash of the fitted data.
    """

    law: Law
    values: Mapping[str, float]
    objective: float
    loss: str
    delta: float
    n_obs: int
    converged: bool
    n_starts: int
    n_at_best: int
    at_bound: tuple[str, ...] = ()
    stderr: Mapping[str, float] | None = None
    intervals: Mapping[str, tuple[float, float]] | None = None
    bootstrap: np.ndarray | None = field(default=None, repr=False)
    group: str | None = None
    groups: tuple[str, ...] = ()
    per_group: tuple[str, ...] = ()
    data_hash: str = ""
    warnings: tuple[str, ...] = ()
    boot_starts: int = 0
    boot_failed: float = 0.0
    boot_switched: float = 0.0
    noise: Mapping[str, float] | None = None
    rmse_log: float = float("nan")
    scale: str = "log"
    rmse: float = float("nan")
    spread: float = 1.0

    @property
    def n_params(self) -> int:
        """Number of fitted constants (per-group parameters count once per group)."""
        return len(self.values)

    def group_values(self, level: str | None = None) -> dict[str, float]:
        """The law's parameter values for one group level (or the only set, without groups)."""
        out = {}
        for p in self.law.param_names:
            out[p] = self.values[f"{p}[{level}]"] if p in self.per_group else self.values[p]
        return out

    def predict(self, table: RunTable) -> np.ndarray:
        """Predicted loss for every run of ``table``."""
        X = table.X(self.law.variables)
        if not self.per_group:  # broadcast: a law without variables (a constant) gives one value
            return per_run(self.law.compiled([self.values[p] for p in self.law.param_names], X), len(table))
        if table.group is None:
            raise OptionError(f"this fit has per-group parameters {list(self.per_group)}: "
                              f"load the table with group='{self.group}'")
        level = table.groups
        unknown = sorted(set(level) - set(self.groups))
        if unknown:
            raise OptionError(f"group levels {unknown} were not in the fitted data ({', '.join(self.groups)})")
        idx = np.searchsorted(np.array(self.groups), level)
        theta = []
        for p in self.law.param_names:
            if p in self.per_group:
                theta.append(np.array([self.values[f"{p}[{g}]"] for g in self.groups])[idx])
            else:
                theta.append(self.values[p])
        return per_run(self.law.compiled(theta, X), len(table))

    def uncertainty(self) -> dict:
        """JSON-ready record of what predictions need beyond the values: the bootstrap's health,
        the run-to-run noise and the residual scale."""
        return {"boot_starts": self.boot_starts, "boot_failed": self.boot_failed,
                "boot_switched": self.boot_switched, "noise": None if self.noise is None else dict(self.noise),
                "rmse_log": self.rmse_log, "scale": self.scale, "rmse": self.rmse, "spread": self.spread}

    def substituted(self, level: str | None = None):
        """The law's sympy expression with fitted numbers substituted."""
        return self.law.substitute(self.group_values(level))

    def _constant(self, name: str) -> str:
        """``A=406.4`` or, bootstrapped, ``A=406.4 [380.1, 431.2]``."""
        text = f"{name}={self.values[name]:.4g}"
        if self.intervals and name in self.intervals:
            lo, hi = self.intervals[name]
            text += f" [{lo:.4g}, {hi:.4g}]"
        return text

    def __repr__(self) -> str:
        consts = ", ".join(self._constant(k) for k in self.values)
        fit = f"rmse_log={self.rmse_log:.3g}" if self.scale == "log" else f"rmse={self.rmse:.3g} (linear scale)"
        return f"FitResult({self.law.name}: {consts}; n={self.n_obs}, {fit})"

    def _repr_html_(self) -> str:
        """A table of the constants (value, standard error, 95 % interval) under the law and the fit's size."""
        from html import escape

        def cell(x: float | None) -> str:
            return "" if x is None else f"{x:.4g}"

        rows = []
        for k, v in self.values.items():
            se = self.stderr.get(k) if self.stderr else None
            ci = self.intervals.get(k) if self.intervals else None
            rows.append(f"<tr><td>{escape(k)}</td><td>{cell(v)}</td><td>{cell(se)}</td>"
                        f"<td>{'' if ci is None else f'[{ci[0]:.4g}, {ci[1]:.4g}]'}</td></tr>")
        err = f"rmse of log loss = {self.rmse_log:.3g}" if self.scale == "log" else \
            f"rmse = {self.rmse:.3g} (linear scale)"
        caption = (f"{escape(self.law.name)}: L = {escape(str(self.law.expr))}<br>n = {self.n_obs}, "
                   f"{err}, {'converged' if self.converged else 'NOT converged'}")
        return (f"<table><caption>{caption}</caption><thead><tr><th>constant</th><th>value</th><th>stderr</th>"
                f"<th>95% interval</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


class _Problem:
    """The objective over an expanded parameter vector ``z`` (log-scaled where a param asks).

    Residuals are ``log(pred) - log(y)`` on the log scale, ``(pred - y) / spread`` on the linear one."""

    def __init__(self, law: Law, table: RunTable, loss: str, delta: float, per_group: Sequence[str],
                 levels: Sequence[str] | None = None) -> None:
        self.law, self.loss, self.delta = law, loss, delta
        self.X = table.X(law.variables)
        self.linear = getattr(table, "scale", "log") == "linear"
        self.y, self.spread = table.y, float(getattr(table, "spread", 1.0))
        self.logy = None if self.linear else np.log(table.y)
        self.n = len(table)
        self.levels: tuple[str, ...] = ()
        self.gidx = None
        if per_group:
            self.levels = tuple(sorted(set(table.groups))) if levels is None else tuple(levels)
            unknown = sorted(set(map(str, table.groups)) - set(map(str, self.levels)))
            if unknown:
                raise OptionError(f"the runs have group levels {unknown} the fit has no constants for "
                                  f"(it has {', '.join(map(str, self.levels))})")
            self.gidx = np.searchsorted(np.array(self.levels), table.groups)
        # the expanded vector: one slot per shared param, one per (param, level) for per-group params
        self.slots: list[tuple[int, int | None]] = []
        self.names: list[str] = []
        for j, p in enumerate(law.params):
            if p.name in per_group:
                for k, lev in enumerate(self.levels):
                    self.slots.append((j, k))
                    self.names.append(f"{p.name}[{lev}]")
            else:
                self.slots.append((j, None))
                self.names.append(p.name)
        self.log_scale = np.array([law.params[j].log_scale for j, _ in self.slots])
        self.any_log = bool(self.log_scale.any())
        self.slot_param = np.array([j for j, _ in self.slots], dtype=int)
        # row masks of each slot: all ones for a shared parameter, the level's rows for a per-group one
        self.onehot = None if not per_group else np.array(
            [np.ones(self.n) if k is None else (self.gidx == k).astype(float) for _, k in self.slots])
        self.compiled = law.compiled

    def to_values(self, z: np.ndarray) -> np.ndarray:
        if not self.any_log:
            return z
        return np.where(self.log_scale, np.exp(np.where(self.log_scale, z, 0.0)), z)

    def to_z(self, values: np.ndarray) -> np.ndarray:
        return np.where(self.log_scale, np.log(np.where(self.log_scale, values, 1.0)), values)

    def bounds_z(self) -> list[tuple[float | None, float | None]]:
        out = []
        for (j, _), logs in zip(self.slots, self.log_scale):
            lo, hi = self.law.params[j].bounds
            if logs:
                lo = None if lo is None or lo <= 0 else float(np.log(lo))
                hi = None if hi is None else float(np.log(hi))
            out.append((lo, hi))
        return out

    def _theta(self, v: np.ndarray) -> list[float | np.ndarray]:
        if self.gidx is None:
            return list(v)
        theta: list = [None] * self.law.n_params
        for (j, k), val in zip(self.slots, v):
            if k is None:
                theta[j] = val
            else:
                if theta[j] is None:
                    theta[j] = np.empty(len(self.levels))
                theta[j][k] = val
        return [t[self.gidx] if isinstance(t, np.ndarray) else t for t in theta]

    def rho(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The loss of each log residual and its derivative (Huber with ``delta``, or half squares)."""
        if self.loss == "huber":
            a = np.abs(r)
            return (np.where(a <= self.delta, 0.5 * r * r, self.delta * (a - 0.5 * self.delta)),
                    np.clip(r, -self.delta, self.delta))
        return 0.5 * r * r, r

    def __call__(self, z: np.ndarray, w: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """Objective and gradient at ``z``; ``w`` are integer bootstrap weights per run."""
        with np.errstate(all="ignore"):
            v = self.to_values(z)
            pred, jac = self.compiled.raw_value_and_jacobian(self._theta(v), self.X)
            r = (pred - self.y) / self.spread if self.linear else np.log(pred) - self.logy
            if not (np.isfinite(r.sum()) and np.isfinite(jac.sum())):
                return _BAD, np.zeros_like(z)
            h, dh = self.rho(r)  # a finite residual far out may square past the floats: +inf, a bad start
        if w is not None:
            h, dh = h * w, dh * w
        # chain rule: d objective / d param = sum_i h'(r_i) / pred_i * d pred_i / d param (log scale),
        # sum_i h'(r_i) / spread * d pred_i / d param (linear scale)
        per_param = jac * (dh / self.spread) if self.linear else jac * (dh / pred)
        grad = per_param[self.slot_param].sum(axis=1) if self.onehot is None else \
            np.einsum("pn,pn->p", per_param[self.slot_param], self.onehot)
        if self.any_log:
            grad = np.where(self.log_scale, grad * v, grad)
        return float(h.sum()), grad

    def batch(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Log residuals ``(B, n)`` and their Jacobian with respect to ``z``, ``(B, P, n)``, for ``B``
        parameter vectors at once (rows of ``Z``, ``(B, P)``): the law's lambdified value and gradient
        are evaluated once, parameters of shape ``(B, 1)`` broadcasting against the data columns."""
        V = self.to_values(Z)
        theta: list = []
        for j in range(self.law.n_params):
            cols = np.flatnonzero(self.slot_param == j)
            if self.gidx is None or len(cols) == 1 and self.slots[cols[0]][1] is None:
                theta.append(V[:, cols[0], None])  # (B, 1)
            else:
                theta.append(V[:, cols][:, self.gidx])  # (B, n): the value of each run's level
        pred, grads = self.compiled.batch_value_and_jacobian(theta, self.X, (len(Z), self.n))
        inv = np.full_like(pred, 1.0 / self.spread) if self.linear else 1.0 / pred
        J = np.empty((len(Z), len(self.slots), self.n))
        for s, j in enumerate(self.slot_param):
            np.multiply(grads[j], inv, out=J[:, s])  # d log(pred) / d value
            if self.onehot is not None:
                J[:, s] *= self.onehot[s]
            if self.log_scale[s]:
                J[:, s] *= V[:, s, None]  # d value / d log(value)
        return self.residuals(pred), J

    def residuals(self, pred: np.ndarray) -> np.ndarray:
        """The fit's residuals of predictions ``pred``: of log loss, or scaled by the target's spread."""
        return (pred - self.y) / self.spread if self.linear else np.log(pred) - self.logy

    def starts(self, n: int, method: str, rng: np.random.Generator) -> np.ndarray:
        lo = np.array([self.law.params[j].init[0] for j, _ in self.slots], dtype=float)
        hi = np.array([self.law.params[j].init[1] for j, _ in self.slots], dtype=float)
        lo_z, hi_z = self.to_z(lo), self.to_z(hi)
        d = len(lo)
        if method == "grid":
            k = max(2, int(np.ceil(n ** (1.0 / d))))
            axes = [np.linspace(a, b, k) for a, b in zip(lo_z, hi_z)]
            pts = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)
            return pts[rng.permutation(len(pts))[:n]] if len(pts) > n else pts
        unit = qmc.LatinHypercube(d=d, seed=rng).random(n)
        return lo_z + unit * (hi_z - lo_z)


def _minimise(problem: _Problem, z0: np.ndarray, bounds, w=None, maxiter: int = 2000):
    return minimize(problem, z0, args=(w,), jac=True, method="L-BFGS-B", bounds=bounds,
                    options={"maxiter": maxiter, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20})


@functools.cache
def _blas():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _serial_blas(func: Callable) -> Callable:
    """Run ``func`` with one BLAS thread. The fitter's linear algebra is many tiny problems (L-BFGS-B's
    updates, batches of P x P systems), where OpenBLAS's threads only wait for each other: on two busy
    cores, two threads made a 256-start fit take seven times the CPU time."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _blas().limit(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper


@_serial_blas
def fit_law(
    law: Law,
    table: RunTable,
    *,
    loss: str = "huber",
    delta: float = 1e-3,
    n_starts: int = 256,
    starts: str = "lhs",
    per_group: Sequence[str] = (),
    bootstrap: int = 0,
    boot_starts: int = 4,
    seed: int = 0,
    screen: int | None = None,
    initial: Sequence[Mapping[str, float]] = (),
    progress=None,
    deadline: float | None = None,
    polish: int = _POLISH,
) -> FitResult:
    """Fit a law's constants to a run table.

    Parameters
    ----------
    law:
        The law to fit; its variables must be features of ``table``.
    table:
        The runs.
    loss:
        ``"huber"`` (default; Huber loss of log residuals, summed) or ``"lsq"`` (least squares on
        log loss).
    delta:
        The Huber threshold on log residuals.
    n_starts:
        Number of initial points for L-BFGS-B.
    starts:
        ``"lhs"`` (Latin hypercube, default) or ``"grid"`` (a full grid, thinned to ``n_starts``).
    per_group:
        Parameters fitted once per level of ``table.group``; the others are shared.
    bootstrap:
        Number of bootstrap refits (0 for none).
    boot_starts:
        Starts per bootstrap refit: the best point, then up to two other basins the full fit found
        (local optima within 25 % of the best objective), then Latin-hypercube draws (each the best
        of 16 candidates by the replicate's objective). All run in batches (``lawfind.bootstrap``).
    seed:
        Seed of the starts and the bootstrap.
    screen:
        Run L-BFGS-B only from the ``screen`` best starts by initial objective (default: all).
    initial:
        Extra starting points (parameter values by name; per-group parameters take the value for
        every level), tried beside the ``n_starts`` drawn ones.
    progress:
        Optional callable ``progress(done, total)`` for long bootstraps.
    deadline:
        A :func:`time.monotonic` time after which the bootstrap stops at the end of its current batch
        (a time budget): the intervals then rest on fewer refits, and the fit's notes say how many.
    polish:
        Starts run to convergence (and Newton-polished) after every start's short run: the best by
        objective (a search that refits its candidates later takes fewer).

    Returns
    -------
    FitResult
    """
    _check_options(law, table, loss, starts, delta, seed, per_group, n_starts, bootstrap, boot_starts)
    problem = _Problem(law, table, loss, delta, per_group)
    if len(problem.names) > len(table):
        raise FitError(f"law '{law.name}' has {len(problem.names)} constants but only {len(table)} runs: "
                       "add runs or choose a smaller law")
    rng = np.random.default_rng(seed)
    bounds = problem.bounds_z()
    lo = np.array([b[0] if b[0] is not None else -np.inf for b in bounds])
    hi = np.array([b[1] if b[1] is not None else np.inf for b in bounds])
    z0s = _initial_points(problem, n_starts, starts, initial, screen, rng, lo, hi)
    ok = _multistart(problem, z0s, bounds, lo, hi, polish)
    best = min(ok, key=lambda r: r.fun)
    fit = _diagnose(problem, table, best, ok, len(z0s), lo, hi)
    boot = _bootstrap_summary(problem, best.x, ok, bootstrap, boot_starts, rng, lo, hi, progress, deadline)
    values = problem.to_values(best.x)
    with np.errstate(all="ignore"):
        resid = problem.residuals(problem.compiled(problem._theta(values), problem.X))
    rmse = float(np.sqrt(np.mean(resid ** 2))) * (problem.spread if problem.linear else 1.0)

    return FitResult(
        law=law, values=dict(zip(problem.names, values.tolist())), objective=float(best.fun), loss=loss,
        delta=delta, n_obs=len(table), converged=fit.converged, n_starts=len(z0s), n_at_best=fit.n_at_best,
        at_bound=fit.at_bound, stderr=boot.stderr, intervals=boot.intervals, bootstrap=boot.replicates,
        group=table.group, groups=problem.levels, per_group=tuple(per_group), data_hash=table.data_hash(),
        warnings=fit.notes + boot.notes, boot_starts=boot_starts if bootstrap else 0, boot_failed=boot.failed,
        boot_switched=boot.switched, noise=repeat_noise(table), rmse_log=float("nan") if problem.linear else rmse,
        scale="linear" if problem.linear else "log", rmse=rmse, spread=problem.spread,
    )


def _check_options(law: Law, table: RunTable, loss: str, starts: str, delta: float, seed: int,
                   per_group: Sequence[str], n_starts: int, bootstrap: int, boot_starts: int) -> None:
    """Refuse options :func:`fit_law` cannot use, naming the option and the fix."""
    check_choice("loss", loss, LOSSES)
    check_choice("starts", starts, ("lhs", "grid"))
    if not (np.isfinite(delta) and delta > 0):
        raise OptionError(f"the Huber threshold delta must be a finite number > 0, got {delta}")
    if seed < 0:
        raise OptionError(f"the seed must be >= 0, got {seed}")
    missing = [v for v in law.variables if v not in table.features]
    if missing:
        raise FitError(f"law '{law.name}' needs the variables {missing}, which the table does not have "
                       f"(its features: {', '.join(table.features)}); map columns with NAME=column")
    unknown = sorted(set(per_group) - set(law.param_names))
    if unknown:
        raise OptionError(f"per-group parameters {unknown} are not parameters of '{law.name}' "
                          f"({', '.join(law.param_names)})")
    if per_group and table.group is None:
        raise OptionError("per-group parameters need a group column: pass group=... (--group COLUMN)")
    if n_starts < 1 or bootstrap < 0 or boot_starts < 1:
        raise OptionError("n_starts and boot_starts must be at least 1 and bootstrap at least 0")


def _initial_points(problem: _Problem, n_starts: int, starts: str, initial: Sequence[Mapping[str, float]],
                    screen: int | None, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The starts, ``(S, P)`` in the fitter's coordinates: the given ``initial`` points, then ``n_starts``
    drawn ones, inside the bounds; only the ``screen`` best by objective where asked."""
    z0s = problem.starts(n_starts, starts, rng)
    if initial:
        given = np.array([[float(point[problem.law.params[j].name]) for j, _ in problem.slots] for point in initial])
        with np.errstate(all="ignore"):
            z0s = np.vstack([problem.to_z(given), z0s])
    z0s = np.clip(np.nan_to_num(z0s, nan=0.0), lo, hi)
    if screen is not None and screen < len(z0s):
        f0 = np.array([problem(z)[0] for z in z0s])
        z0s = z0s[np.argsort(f0)[:screen]]
    return z0s


def _multistart(problem: _Problem, z0s: np.ndarray, bounds, lo: np.ndarray, hi: np.ndarray,
                polish: int = _POLISH) -> list[OptimizeResult]:
    """L-BFGS-B from every start (a short run each; the ``polish`` most promising then to convergence,
    then Newton steps on the Huber loss): the runs that ended on a finite objective."""
    runs = [_minimise(problem, z0, bounds, maxiter=_SHORT) for z0 in z0s]
    order = np.argsort([r.fun for r in runs])
    for i in order[:polish]:
        if runs[i].fun < _BAD and runs[i].nit >= _SHORT:
            runs[i] = _minimise(problem, runs[i].x, bounds)
    _newton_polish(problem, runs, order[:polish], lo, hi)
    ok = [r for r in runs if np.isfinite(r.fun) and r.fun < _BAD]
    if not ok:
        raise FitError(f"no start of law '{problem.law.name}' gave a finite"
                       f"{'' if problem.linear else ', positive'} prediction for every run: "
                       "give initial ranges (--init NAME=LOW:HIGH) closer to plausible values")
    return ok


class _Diagnosis(NamedTuple):
    converged: bool
    n_at_best: int
    at_bound: tuple[str, ...]
    notes: tuple[str, ...]


def _diagnose(problem: _Problem, table: RunTable, best: OptimizeResult, ok: list[OptimizeResult], n_starts: int,
              lo: np.ndarray, hi: np.ndarray) -> _Diagnosis:
    """How the best start went: converged, how many starts reached it, constants on a bound, and notes."""
    n_at_best = sum(1 for r in ok if r.fun <= best.fun + 1e-6 * max(abs(best.fun), 1e-12))
    _, grad = problem(best.x)
    scale = max(abs(best.fun), 1e-12)
    # L-BFGS-B may stop "abnormally" once float precision is exhausted at a true optimum: judge by
    # the gradient, and by the iteration limit
    converged = best.get("newton", False) or best.nit < 2000 and float(np.max(np.abs(grad))) <= 1e-3 * scale + 1e-9
    at_bound = tuple(n for n, on in zip(problem.names, _on_bound(best.x, lo) | _on_bound(best.x, hi)) if on)
    notes = []
    if not converged:
        notes.append(f"the best start did not converge cleanly ({best.message}); widen --starts or the ranges")
    if n_at_best < 2 and n_starts > 1:
        notes.append("only one start reached the best optimum: the fit may be fragile")
    if at_bound:
        notes.append(f"parameters on a bound: {', '.join(at_bound)}")
    const = [v for v in problem.law.variables if v in table.constant_features()]
    if const:
        notes.append(f"{', '.join(const)} take one value in the data: terms in them are not identifiable")
    return _Diagnosis(bool(converged), n_at_best, at_bound, tuple(notes))


class _BootSummary(NamedTuple):
    replicates: np.ndarray | None = None
    stderr: dict[str, float] | None = None
    intervals: dict[str, tuple[float, float]] | None = None
    failed: float = 0.0
    switched: float = 0.0
    notes: tuple[str, ...] = ()


def _bootstrap_summary(problem: _Problem, best_z: np.ndarray, ok: list[OptimizeResult], n_boot: int,
                       boot_starts: int, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray,
                       progress, deadline: float | None = None) -> _BootSummary:
    """Bootstrap refits (:func:`_bootstrap`) summed up: standard errors, 95 % percentile intervals, the
    shares that failed or switched basin, and notes where those shares or refits on a bound matter."""
    if not n_boot:
        return _BootSummary()
    reps, failed, switched, on_bound, n_run = _bootstrap(problem, best_z, ok, n_boot, boot_starts, rng, lo, hi,
                                                         progress, deadline)
    stderr = intervals = None
    if len(reps) >= 2:
        stderr = dict(zip(problem.names, reps.std(axis=0, ddof=1).tolist()))
        lo_q, hi_q = np.percentile(reps, [2.5, 97.5], axis=0)
        intervals = {k: (float(a), float(b)) for k, a, b in zip(problem.names, lo_q, hi_q)}
    notes = []
    if n_run < n_boot:
        notes.append(f"{n_run} of the {n_boot} bootstrap refits fitted within the time budget: the intervals rest on "
                     "those")
    if failed > 0.05:
        notes.append(f"{failed:.0%} of the bootstrap refits converged from none of their starts and are left "
                     "out of the intervals: the intervals may be too narrow")
    cut = [f"{name} ({share:.0%})" for name, share in on_bound.items() if share > 0.05]
    if cut:
        notes.append(f"bootstrap refits on a bound of {', '.join(cut)}: those intervals stop at the bound (a "
                     "sign the law's shape requires, or the search's range), not where the data alone put them")
    if switched > 0.02:
        notes.append(f"{switched:.0%} of the bootstrap refits found a better optimum away from the best point: "
                     "the objective has several basins, and the intervals span them")
    loose = unpinned(intervals or {})
    if loose:
        notes.append(f"constants the data do not pin: {', '.join(loose)}; their values are one point of a ridge "
                     "(a simpler law, or runs that spread those terms apart, would pin them)")
    return _BootSummary(reps, stderr, intervals, failed, switched, tuple(notes))


class Mode(NamedTuple):
    """A local optimum of a fit: the constants (``values``), in the fitter's coordinates (``z``: the log
    of a log-scale constant), and the sum of squared residuals there (of log loss, or of the target over
    its spread on the linear scale)."""

    values: dict[str, float]
    z: np.ndarray
    sse: float


@_serial_blas
def fit_modes(law: Law, table: RunTable, *, n_starts: int = 32, seed: int = 0,
              initial: Sequence[Mapping[str, float]] = (), keep: float = 1.5, most: int = 8,
              per_group: Sequence[str] = (), polish: int | None = None) -> list[Mode]:
    """The distinct local optima of a least-squares fit whose sum of squares is within ``keep`` times the
    best's, best first (at most ``most``): the basins a few runs cannot yet tell apart, which a design
    that only trusts the best one ignores. Multi-start as :func:`fit_law`: every start gets a short run,
    then the ``max(polish, most)`` best (default ``most``) run to convergence; ``polish`` as large as the
    starts runs every one to convergence, for laws whose short runs rank the starts poorly."""
    problem = _Problem(law, table, "lsq", 1.0, per_group)
    rng = np.random.default_rng(seed)
    bounds = problem.bounds_z()
    lo = np.array([b[0] if b[0] is not None else -np.inf for b in bounds])
    hi = np.array([b[1] if b[1] is not None else np.inf for b in bounds])
    z0s = _initial_points(problem, n_starts, "lhs", initial, None, rng, lo, hi)
    runs = sorted(_multistart(problem, z0s, bounds, lo, hi, most if polish is None else max(polish, most)),
                  key=lambda r: r.fun)[:most]
    out: list[Mode] = []
    for r in runs:
        if 2 * r.fun > keep * 2 * runs[0].fun + 1e-300:
            break
        if any(np.allclose(r.x, m.z, rtol=1e-3, atol=1e-6) for m in out):
            continue
        out.append(Mode(dict(zip(problem.names, problem.to_values(r.x).tolist())), r.x, float(2 * r.fun)))
    return out


def response(law: Law, z: np.ndarray, table: RunTable, per_group: Sequence[str] = (),
             levels: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The law's prediction at the runs of ``table`` in the fitter's units (log loss, or the target over
    its spread on the linear scale), ``(M,)``, and its Jacobian in the fitter's coordinates ``z``,
    ``(P, M)``; the table's target only sets the units (any values of the right sign do). A law with
    per-group constants needs the fitted table's ``levels`` (the layout of ``z``) where ``table`` is
    other runs than those fitted."""
    problem = _Problem(law, table, "lsq", 1.0, per_group, levels)
    with np.errstate(all="ignore"):
        r, J = problem.batch(np.asarray(z, dtype=float)[None, :])
    base = table.y / problem.spread if problem.linear else np.log(table.y)
    return r[0] + base, J[0]


def local_intervals(fit: FitResult, table: RunTable, z: float = 1.96) -> dict[str, tuple[float, float]]:
    """Approximate 95 % intervals of the constants from the curvature at the fit (Gauss-Newton: the
    residuals' Jacobian by finite differences; multiplicative for a log-scale constant or one its bounds
    keep positive), without refits; a direction the data do not constrain gives an unbounded interval. Residuals are
    those the fit judges: of log loss, or of the target over its spread on the linear scale."""
    names = list(fit.values)
    # constants read multiplicatively: log-scale ones, and those the bounds keep positive
    log_scale = {p.name for p in fit.law.params if p.log_scale or (p.bounds[0] is not None and p.bounds[0] >= 0)}

    def residuals(values: Mapping[str, float]) -> np.ndarray:
        with np.errstate(all="ignore"):
            pred = replace(fit, values=dict(values)).predict(table)
            r = np.log(pred) - np.log(table.y) if table.scale == "log" else (pred - table.y) / table.spread
        return r

    r0 = residuals(fit.values)
    n, k = len(r0), len(names)
    if not np.all(np.isfinite(r0)) or n <= k:
        return {name: (-math.inf, math.inf) for name in names}
    # the Jacobian in relative units (d r / d ln|v|; d r / d v where v = 0), so that its singular values
    # compare constants of any scale: a direction the data leave flat has a singular value near zero
    J, unit = np.empty((n, k)), np.empty(k)
    for j, name in enumerate(names):
        v = fit.values[name]
        unit[j] = abs(v) if v != 0 else 1.0
        h = 1e-5 * unit[j]
        step = dict(fit.values)
        step[name] = v + h
        J[:, j] = (residuals(step) - r0) / h * unit[j]
    if not np.all(np.isfinite(J)):
        return {name: (-math.inf, math.inf) for name in names}
    _, sv, vt = np.linalg.svd(J, full_matrices=False)
    sv = np.maximum(sv, 1e-12 * max(float(sv[0]), 1e-300))
    var = (float(r0 @ r0) / (n - k)) * np.sum((vt / sv[:, None]) ** 2, axis=0)  # diag of s2 (J^T J)^-1
    out = {}
    for j, name in enumerate(names):
        v, se = fit.values[name], math.sqrt(float(var[j]))  # se of ln|v| (or of v where v = 0)
        if name.split("[")[0] in log_scale and v > 0:
            out[name] = (v * math.exp(-z * se), v * math.exp(z * se)) if z * se < 700 else (0.0, math.inf)
        else:
            out[name] = (v - z * se * unit[j], v + z * se * unit[j])
    return out


def unpinned(intervals: Mapping[str, tuple[float, float]], orders: float = 2.0) -> list[str]:
    """The constants whose 95 % interval spans more than ``orders`` orders of magnitude (both ends of
    one sign; or an end not finite), as ``"B in [13, 2e+05]"``: the data do not identify them."""
    out = []
    for name, (a, b) in intervals.items():
        if not (math.isfinite(a) and math.isfinite(b)):
            out.append(f"{name} in [{a:.3g}, {b:.3g}]")
        elif a * b > 0 and math.log10(max(abs(a), abs(b)) / min(abs(a), abs(b))) > orders:
            out.append(f"{name} in [{a:.3g}, {b:.3g}]")
    return out


def _newton_polish(problem: _Problem, runs: list, idx, lo: np.ndarray, hi: np.ndarray) -> None:
    """Newton steps on the Huber loss (:func:`lawfind.bootstrap.levenberg_marquardt`) from the polished
    starts, kept where they lower the objective: L-BFGS-B can crawl along a ridge of the objective for
    its whole iteration budget, where these steps converge."""
    idx = [i for i in idx if runs[i].fun < _BAD]
    if not idx:
        return
    Z, F, C = levenberg_marquardt(problem, np.array([runs[i].x for i in idx]), np.ones((len(idx), problem.n)),
                                  lo, hi, _NEWTON)
    for i, z, f, c in zip(idx, Z, F, C):
        if f < runs[i].fun:
            runs[i] = OptimizeResult(x=z, fun=float(f), nit=runs[i].nit, newton=bool(c),
                                     message="Newton steps on the Huber loss" + ("" if c else ", not converged"))


def _bootstrap(problem: _Problem, best_z: np.ndarray, runs: list, n_boot: int, n_starts: int,
               rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray,
               progress, deadline: float | None = None) -> tuple[np.ndarray, float, float, dict[str, float], int]:
    """Converged replicates (values), the share that failed, the share that switched basin, for each
    constant the share of converged replicates that ended on one of its bounds, and how many replicates
    were refitted (fewer than ``n_boot`` where ``deadline`` stopped them)."""
    n = problem.n
    weights = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(n_boot)]).astype(float)
    # the full fit's other basins: distinct local optima within 25 % of the best objective
    others: list[np.ndarray] = []
    seen = [float(problem(best_z)[0])]
    for r in sorted(runs, key=lambda r: r.fun):
        if len(others) >= min(2, n_starts - 1) or r.fun > 1.25 * seen[0]:
            break
        if all(abs(r.fun - f) > 1e-6 * abs(f) for f in seen):
            others.append(r.x)
            seen.append(float(r.fun))
    n_lhs = n_starts - 1 - len(others)
    extra = np.broadcast_to(np.array(others, dtype=float).reshape(len(others), len(best_z)),
                            (n_boot, len(others), len(best_z)))
    if n_lhs > 0:
        cands = problem.starts(n_boot * n_lhs * 16, "lhs", rng).reshape(n_boot, n_lhs * 16, -1)
        cands = np.clip(cands, lo, hi)
        extra = np.concatenate([extra, screen_starts(problem, weights, cands, n_lhs)], axis=1)
    out = refit_replicates(problem, best_z, weights, extra, lo, hi, progress, deadline)
    z = out.z[out.converged]
    on_bound = _on_bound(z, lo) | _on_bound(z, hi)
    shares = dict(zip(problem.names, on_bound.mean(axis=0).tolist() if len(z) else [0.0] * len(problem.names)))
    return (problem.to_values(z), float(1 - out.converged.mean()), float(out.switched.mean()), shares,
            len(out.converged))


def _on_bound(z: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Which entries of ``z`` (constants, or replicates x constants, in the fitter's coordinates) sit on a
    finite ``bound``."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(bound) & (np.abs(z - bound) < 1e-8 * np.maximum(1.0, np.abs(bound)))


def repeat_noise(table: RunTable) -> dict[str, float] | None:
    """Run-to-run noise of log loss from repeated configurations (equal in every feature and group).

    The pooled within-configuration variance, ``sum_g sum_i (log y_gi - mean_g)^2 / sum_g (n_g - 1)``;
    ``None`` when no configuration repeats. On the linear target scale, of the target itself, under
    the key ``sd`` (not ``sd_log``).
    """
    keys = list(table.features) + ([table.group] if table.group else [])
    frame = table.frame[keys].copy()
    linear = getattr(table, "scale", "log") == "linear"
    frame["__logy"] = table.y if linear else np.log(table.y)
    grouped = frame.groupby(keys, sort=False)["__logy"]
    size = grouped.transform("size").to_numpy()
    if not (size > 1).any():
        return None
    dev = frame["__logy"].to_numpy() - grouped.transform("mean").to_numpy()
    dof = int((grouped.size() - 1).clip(lower=0).sum())
    return {"sd" if linear else "sd_log": float(np.sqrt(np.sum(dev[size > 1] ** 2) / dof)), "dof": dof,
            "groups": int((grouped.size() > 1).sum())}


def per_run(values, n: int) -> np.ndarray:
    """``values`` as one float per run (a law without variables gives a single value)."""
    return np.array(np.broadcast_to(np.asarray(values, dtype=float), (n,)))
