"""Predictions of a fitted law with honest intervals, and how far they reach beyond the data.

The **confidence interval** is the spread of the prediction across the bootstrap replicates of the
law's constants (``fit_law(..., bootstrap=...)``, stored in ``best.json`` and ``fit --out`` files):
percentile intervals of the log prediction, or basic ("reflected") ones. The **prediction interval**
is for one new run: the replicates' log predictions convolved with run-to-run noise, whose standard
deviation of log loss comes from repeated configurations of the fitted table (the pooled
within-configuration variance, :func:`lawfind.fit.repeat_noise`), as Student's t with that
estimate's degrees of freedom (a few repeats give a wide interval, as they should). Without repeats
the residual RMSE of log loss stands in for the noise (normal); it also holds any lack of fit,
so that interval is wider than the noise alone would make it. ``Predictor.noise_source`` says which
was used.

A law fitted on a target of any sign (``scale == "linear"``: a normalised loss, a log-ratio) makes
all of this on the target itself instead of its log: intervals of the prediction, noise in the
target's units.

Every point is checked against the fitted data's range: the factor beyond the largest (or below the
smallest) value of each variable, or the distance for a bounded ratio such as ``S``. Optionally,
several laws of a discovery's front are averaged and their spread is reported as model uncertainty.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from .errors import DataError, OptionError, did_you_mean
from .fit import FitResult
from .laws import Law, parse_law, parse_pairs
from .symbols import MEANINGS, domain_text, in_domain, scale

if TYPE_CHECKING:
    from .record import LawRecord

__all__ = ["Predictor", "predict", "parse_point", "split_group", "check_domain", "out_of_range", "average_laws", "METHODS"]

METHODS = ("percentile", "basic")
#: A point within this share of a range's edge counts as inside (the achieved sizes of a sweep miss
#: their targets by a little: asking at a sweep's own D = 4e5 should not read as extrapolation).
EDGE = 0.01


@dataclass(frozen=True)
class Predictor:
    """A fitted law ready to predict.

    Attributes
    ----------
    law, values:
        The law and its fitted constants.
    replicates:
        Bootstrap replicates of the constants, ``(R, n_params)`` in ``law.param_names`` order
        (``R`` may be 0).
    noise_sd, noise_dof:
        Standard deviation of log loss for a new run and its degrees of freedom (``None``: normal),
        and ``noise_source`` what it was estimated from.
    ranges:
        Each variable's (min, max) in the fitted data.
    columns:
        Variable -> the table's column name (``N`` -> ``dense_parameter_count``), for grids in column names.
    group, levels:
        For a law with constants per group level: the group column, and each level's own predictor
        (:meth:`for_level`); ``values`` and ``replicates`` are then the first level's.
    """

    law: Law
    values: Mapping[str, float]
    replicates: np.ndarray
    noise_sd: float | None
    noise_source: str
    ranges: Mapping[str, tuple[float, float]]
    columns: Mapping[str, str]
    source: str = ""
    noise_dof: int | None = None
    group: str | None = None
    levels: Mapping[str, Predictor] = field(default_factory=dict)
    #: the target's scale of the fit, ``"log"`` or ``"linear"`` (intervals and noise on that scale)
    scale: str = "log"

    @classmethod
    def from_fit(cls, fit: FitResult, ranges: Mapping[str, tuple[float, float]] | None = None) -> Predictor:
        """From a :class:`FitResult` (per-group constants give one predictor per level)."""
        if fit.per_group:
            from .record import LawRecord

            return cls.from_record(LawRecord.from_fit(fit, ranges=ranges), fit.law.name)
        reps = np.empty((0, fit.law.n_params)) if fit.bootstrap is None else np.asarray(fit.bootstrap, float)
        sd, dof, src = _noise(fit.uncertainty(), {})
        return cls(fit.law, dict(fit.values), reps, sd, src, dict(ranges or {}), {}, fit.law.name, dof,
                   scale=fit.scale)

    @classmethod
    def from_json(cls, path: str | Path) -> Predictor:
        """From a discovery's folder, its ``best.json``, or a ``fit --out`` file
        (:func:`lawfind.record.load_discovery`)."""
        from .record import load_discovery

        return cls.from_record(load_discovery(path), str(path))

    @classmethod
    def from_record(cls, record: LawRecord, source: str = "") -> Predictor:
        """From a saved law (:class:`lawfind.record.LawRecord`); ``source`` names it (its file)."""
        if record.per_group:
            levels = {lev: cls.from_record(record.for_group(lev), source) for lev in record.groups}
            return replace(next(iter(levels.values())), group=record.group, levels=levels)
        law = record.law
        try:
            reps = record.replicate_matrix(law.param_names)
        except DataError as exc:
            raise DataError(f"'{source or law.name}': {exc}") from None
        sd, dof, src = _noise(record.fit, record.metrics)
        return cls(law, record.values, reps, sd, src, dict(record.ranges), dict(record.columns or {}),
                   source or law.name, dof, scale=(record.fit or {}).get("scale") or "log")

    @property
    def variables(self) -> tuple[str, ...]:
        return self.law.variables

    def for_level(self, level: object) -> Predictor:
        """The predictor of one group level (this one, for a law without per-group constants).

        Raises
        ------
        OptionError
            If ``level`` is not one of the fitted levels (with a did-you-mean).
        """
        if self.group is None:
            return self
        text = str(level)
        if text not in self.levels:
            raise OptionError(f"'{text}' is not a level of the group column '{self.group}'"
                              f"{did_you_mean(text, self.levels)}: the law has constants for "
                              f"{', '.join(self.levels)}")
        return self.levels[text]

    def theta(self) -> np.ndarray:
        return np.array([self.values[p] for p in self.law.param_names], dtype=float)

    def log_predict(self, points: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Log predicted loss at ``m`` points (the loss itself on the linear scale, :attr:`scale`): at the
        fitted constants ``(m,)`` and per replicate ``(R, m)``."""
        X = [np.asarray(points[v], dtype=float) for v in self.variables]
        return (_log_eval(self.law, self.theta()[None, :], X, self.scale)[0],
                _log_eval(self.law, self.replicates, X, self.scale))

    def back(self, values: np.ndarray) -> np.ndarray:
        """From the scale of :meth:`log_predict` to the loss: ``exp`` on the log scale, as it is on the linear one."""
        return np.exp(values) if self.scale == "log" else np.asarray(values, float)


def _log_eval(law: Law, thetas: np.ndarray, X: Sequence[np.ndarray], scale_: str = "log") -> np.ndarray:
    """``log L`` (``L`` on the linear scale) for parameter rows ``thetas`` ``(R, p)`` at columns ``X`` of
    length ``m``: ``(R, m)``."""
    m = len(X[0]) if X else 1
    if not len(thetas):
        return np.empty((0, m))
    with np.errstate(all="ignore"):
        out = law.compiled.rows(thetas, X)
        out = out if scale_ == "linear" else np.log(out)
    return np.where(np.isfinite(out), out, np.nan)


def _noise(fit_record: Mapping, metrics: Mapping) -> tuple[float | None, int | None, str]:
    noise = fit_record.get("noise")
    if fit_record.get("scale") == "linear":  # noise and residuals in the target's own units
        if noise and noise.get("sd") is not None:
            return float(noise["sd"]), int(noise["dof"]), (
                f"run-to-run noise from {noise['groups']} repeated configuration(s), Student's t with "
                f"{noise['dof']} degrees of freedom")
        rmse = fit_record.get("rmse")
        if rmse is not None and math.isfinite(float(rmse)):
            return float(rmse), None, ("no repeated configurations: the residual RMSE (linear scale) stands in for "
                                       "the noise (it also holds any lack of fit)")
        return None, None, "no noise estimate in the file: the prediction interval equals the confidence interval"
    if noise and noise.get("sd_log") is not None:
        return float(noise["sd_log"]), int(noise["dof"]), (
            f"run-to-run noise from {noise['groups']} repeated configuration(s), Student's t with "
            f"{noise['dof']} degrees of freedom")
    rmse = fit_record.get("rmse_log", metrics.get("train_rmse_log"))
    if rmse is not None and math.isfinite(float(rmse)):
        return float(rmse), None, ("no repeated configurations: the residual RMSE of log loss stands in for the "
                                   "noise (it also holds any lack of fit)")
    return None, None, "no noise estimate in the file: the prediction interval equals the confidence interval"


def parse_point(text: str, known: Sequence[str]) -> dict[str, float]:
    """Read ``"N=7e9,Na=1.4e9,G=8"`` into ``{"N": 7e9, ...}`` (:func:`lawfind.laws.parse_pairs`), inside
    every variable's domain (:func:`check_domain`); a bad part gets a one-line error naming it."""
    out = parse_pairs(text, known=known)
    if not out:
        raise OptionError(f"no NAME=VALUE pairs in '{text}': write e.g. N=7e9,D=2e12")
    check_domain(out)
    return out


def check_domain(point: Mapping[str, float | np.ndarray]) -> None:
    """Refuse values outside a variable's domain, which no law is fitted for: a ratio read on a linear
    scale (``S``) lies in ``[0, 1)``, every other variable (counts and sizes) is ``> 0``
    (:mod:`lawfind.symbols`)."""
    for v, x in point.items():
        x = np.asarray(x, dtype=float)
        bad, domain = ~in_domain(v, x), domain_text(v)
        if bad.any():
            value = float(x.flat[int(np.flatnonzero(bad.ravel())[0])])
            raise OptionError(f"{v}={value:g} is outside the domain of a scaling law: {v} "
                              f"({MEANINGS.get(v, 'a size or count')}) must be {domain}; give such a value")


def out_of_range(point: Mapping[str, float], ranges: Mapping[str, tuple[float, float]]) -> tuple[float, str]:
    """How far ``point`` lies outside the fitted ranges: the largest factor (1 inside) and a description.

    For positive variables the factor is ``x / max`` above the range and ``min / x`` below it; for a
    bounded ratio such as ``S`` (read on a linear scale) the description gives the distance, and the
    factor is ``1 + distance / range width``. A point within ``EDGE`` (1 %) of an edge counts as inside.
    """
    worst, parts = 1.0, []
    for v, x in point.items():
        if v not in ranges:
            continue
        lo, hi = ranges[v]
        if scale(v) == "log" and lo > 0 and x > 0:
            if lo / (1 + EDGE) <= x <= hi * (1 + EDGE):
                continue
            f = x / hi if x > hi else lo / x
            parts.append(f"{v} {f:.3g}x {'above the largest' if x > hi else 'below the smallest'} "
                         f"({hi if x > hi else lo:.3g})")
        else:
            if lo - EDGE * (hi - lo) <= x <= hi + EDGE * (hi - lo):
                continue
            gap = x - hi if x > hi else lo - x
            f = 1.0 + gap / max(hi - lo, 1e-12)
            parts.append(f"{v} {gap:.3g} {'above' if x > hi else 'below'} the fitted range [{lo:.3g}, {hi:.3g}]")
        worst = max(worst, f)
    return worst, "; ".join(parts)


def _columns(pred: Predictor, frame: pd.DataFrame, variables: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """``variables`` (default: the law's) from ``frame``, by variable name or by the table's column name."""
    out, missing = {}, []
    for v in pred.variables if variables is None else variables:
        col = v if v in frame.columns else pred.columns.get(v)
        if col is None or col not in frame.columns:
            missing.append(v)
            continue
        out[v] = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(out[v]))
        if len(bad):
            raise DataError(f"column '{col}' has a missing or non-numeric value at row {bad[0]}: give a number")
    if missing:
        whose = "the law needs" if variables is None else "the averaged laws need"
        raise OptionError(f"{whose} {', '.join(missing)} at every point; give them (e.g. "
                          f"{missing[0]}=...) — the chosen law's variables are {', '.join(pred.variables)}")
    return out


def _interval(point: np.ndarray, reps: np.ndarray, q: tuple[float, float], method: str) -> tuple[np.ndarray, np.ndarray]:
    """Interval of the log prediction from replicates ``(R, m)``: percentile, or basic (reflected)."""
    if reps.shape[0] < 2:
        return point.copy(), point.copy()
    lo, hi = np.nanpercentile(reps, [100 * q[0], 100 * q[1]], axis=0)
    if method == "basic":
        return 2 * point - hi, 2 * point - lo
    return lo, hi


def predict(fit: Predictor | FitResult | str | Path, frame: pd.DataFrame | Mapping[str, Sequence[float]],
            interval: float = 0.95, *, method: str = "percentile", average: Sequence[Law] = ()) -> pd.DataFrame:
    """Predicted loss with confidence and prediction intervals, and the reach beyond the data.

    Parameters
    ----------
    fit:
        A :class:`Predictor`, a :class:`FitResult` (with bootstrap replicates for intervals), or the
        path of a ``best.json`` / ``fit --out`` file.
    frame:
        The points: one column per variable of the law (variable or table column names).
    interval:
        Coverage of the intervals (default 0.95).
    method:
        ``"percentile"`` (default) or ``"basic"`` bootstrap intervals.
    average:
        Laws with their constants (e.g. the best of a discovery's front, :func:`average_laws`) to
        average: their mean log prediction, their spread as model uncertainty, and intervals that
        pool every law's prediction shifted by this fit's replicate deviations (parametric and
        model uncertainty together).

    Returns
    -------
    pandas.DataFrame
        The variables, then ``loss``, ``ci_low``, ``ci_high``, ``pi_low``, ``pi_high``,
        ``extrapolation`` (the largest factor beyond the data, 1 inside) and ``outside`` (a
        description, empty inside). With ``average``: ``loss_avg``, ``model_sd_log`` (standard
        deviation of log loss between the laws), ``model_low``, ``model_high`` (their lowest and
        highest prediction), ``avg_ci_low``, ``avg_ci_high``, ``avg_pi_low``, ``avg_pi_high``.
    """
    if method not in METHODS:
        raise OptionError(f"unknown interval method '{method}'{did_you_mean(method, METHODS)}; choose one of "
                          f"{', '.join(METHODS)}")
    if not 0 < interval < 1:
        raise OptionError(f"interval must lie between 0 and 1 (got {interval}); e.g. 0.95")
    if isinstance(fit, (str, Path)):
        pred = Predictor.from_json(fit)
    elif isinstance(fit, FitResult):
        pred = Predictor.from_fit(fit)
    else:
        pred = fit
    frame = pd.DataFrame(frame)
    if pred.group is not None:
        return _predict_groups(pred, frame, interval, method, average)
    cols = _columns(pred, frame)
    check_domain(cols)
    q = ((1 - interval) / 2, (1 + interval) / 2)
    point, reps = pred.log_predict(cols)
    bad = np.flatnonzero(~np.isfinite(point))
    if len(bad):
        where = ", ".join(f"{v}={cols[v][bad[0]]:.4g}" for v in pred.variables)
        raise OptionError(f"the law gives no finite{', positive' if pred.scale == 'log' else ''} loss at {where} "
                          f"(point {bad[0] + 1}): the point lies "
                          "outside the law's domain; give a point where it holds")
    ci_lo, ci_hi = _interval(point, reps, q, method)
    pi_lo, pi_hi = _with_noise(point, reps, pred.noise_sd, pred.noise_dof, q, method)
    out = pd.DataFrame({v: cols[v] for v in pred.variables})
    out["loss"] = pred.back(point)
    out["ci_low"], out["ci_high"] = pred.back(ci_lo), pred.back(ci_hi)
    out["pi_low"], out["pi_high"] = pred.back(pi_lo), pred.back(pi_hi)
    reach = [out_of_range({v: float(cols[v][i]) for v in pred.variables}, pred.ranges) for i in range(len(out))]
    out["extrapolation"] = [r[0] for r in reach]
    out["outside"] = [r[1] for r in reach]
    if average:
        others = sorted({v for law in average for v in law.variables} - set(cols))
        _average(out, pred, {**cols, **_columns(pred, frame, others)}, point, reps, average, q)
    return out


def _predict_groups(pred: Predictor, frame: pd.DataFrame, interval: float, method: str,
                    average: Sequence[Law]) -> pd.DataFrame:
    """:func:`predict` for a law with constants per group level: each point with its level's constants
    (the group column of ``frame``), in the order of ``frame``, the group column first."""
    if average:
        raise OptionError("averaging laws of the front is not available for a law with constants per group: "
                          "leave out --average")
    example = next(iter(pred.levels))
    if pred.group not in frame.columns:
        raise OptionError(f"this law has constants per '{pred.group}' ({', '.join(pred.levels)}): give the level at "
                          f"every point, e.g. {pred.group}={example} in --at, or a '{pred.group}' column in the grid")
    frame = frame.reset_index(drop=True)
    labels = frame[pred.group]
    empty = np.flatnonzero(labels.isna().to_numpy())
    if len(empty):
        raise DataError(f"column '{pred.group}' has no level at row {empty[0]}: give one of {', '.join(pred.levels)}")
    labels = labels.astype(str)
    parts = []
    for level in dict.fromkeys(labels):
        rows = (labels == level).to_numpy()
        one = predict(pred.for_level(level), frame[rows], interval, method=method)
        one.index = frame.index[rows]
        one.insert(0, pred.group, level)
        parts.append(one)
    return pd.concat(parts).sort_index()


def split_group(text: str, group: str | None) -> tuple[str, str | None]:
    """``"N=1e9,D=2e10,dataset=pile"`` -> ``("N=1e9,D=2e10", "pile")`` for the group column ``dataset``:
    the group's level taken out of a point's text (``None`` where the text does not name it)."""
    if group is None:
        return text, None
    keep, level = [], None
    for part in text.split(","):
        name, eq, value = part.partition("=")
        if eq and name.strip() == group:
            level = value.strip()
        else:
            keep.append(part)
    return ",".join(keep), level


def _with_noise(point: np.ndarray, reps: np.ndarray, sd: float | None, dof: int | None, q,
                method: str) -> tuple[np.ndarray, np.ndarray]:
    """Prediction interval: quantiles of the replicates' log predictions (reflected about the point for
    the basic method) convolved with the run-to-run noise, normal or Student's t with ``dof`` degrees
    of freedom. The mixture's quantiles are found by bisection, so they carry no Monte Carlo error."""
    if not sd:
        return _interval(point, reps, q, method)
    centres = reps if reps.shape[0] >= 2 else point[None, :]
    if method == "basic" and reps.shape[0] >= 2:
        centres = 2 * point - reps
    centres = np.where(np.isfinite(centres), centres, np.nan)
    dist = stats.t(dof) if dof else stats.norm()
    reach = float(dist.ppf(0.9995)) * sd

    def quantile(level: float) -> np.ndarray:
        lo, hi = np.nanmin(centres, axis=0) - reach, np.nanmax(centres, axis=0) + reach
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            below = np.nanmean(dist.cdf((mid - centres) / sd), axis=0) < level
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    return quantile(q[0]), quantile(q[1])


def _average(out: pd.DataFrame, pred: Predictor, cols, point, reps, laws: Sequence[Law], q) -> None:
    logs = []
    for law in laws:
        logs.append(_log_eval(law, np.empty((1, 0)), [cols[v] for v in law.variables], pred.scale)[0])
    logs = np.array(logs)  # (K, m)
    dev = reps - point if reps.shape[0] >= 2 else np.zeros((1, len(point)))
    pooled = (logs[:, None, :] + dev[None, :, :]).reshape(-1, len(point))  # every law with the replicates' spread
    out["loss_avg"] = pred.back(np.nanmean(logs, axis=0))
    out["model_sd_log"] = np.nanstd(logs, axis=0, ddof=1) if len(logs) > 1 else 0.0
    out["model_low"], out["model_high"] = pred.back(np.nanmin(logs, axis=0)), pred.back(np.nanmax(logs, axis=0))
    lo, hi = np.nanpercentile(pooled, [100 * q[0], 100 * q[1]], axis=0)
    out["avg_ci_low"], out["avg_ci_high"] = pred.back(lo), pred.back(hi)
    plo, phi = _with_noise(np.nanmean(logs, axis=0), pooled, pred.noise_sd, pred.noise_dof, q, "percentile")
    out["avg_pi_low"], out["avg_pi_high"] = pred.back(plo), pred.back(phi)


def average_laws(equations: str | Path, k: int, variables: Sequence[str]) -> list[Law]:
    """The ``k`` best laws of a discovery's ``equations.csv`` (lowest validation loss first), with their
    constants, as constant laws; only rows marked admissible where the file has an ``admissible`` column."""
    path = Path(equations)
    if not path.exists():
        raise DataError(f"no equations.csv at '{path}': --average reads the front that discover writes beside "
                        "best.json")
    table = pd.read_csv(path)
    for col in ("sympy_format", "loss"):
        if col not in table.columns:
            raise DataError(f"'{path}' lacks the column '{col}': is it an equations.csv from discover?")
    if "admissible" in table.columns:
        table = table[table["admissible"].astype(str).str.lower().isin(("true", "1", "yes"))]
    table = table.sort_values("loss", kind="stable").head(k)
    if len(table) < 1:
        raise DataError(f"'{path}' has no admissible law to average")
    return [parse_law(text, variables, name=f"front{i}", allow_constant=True)
            for i, text in zip(table.index, table["sympy_format"])]
