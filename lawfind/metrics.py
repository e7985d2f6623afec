"""How well a law's predictions match losses: log-residual statistics, information criteria, test metrics.

Metrics follow SLDBench (Can language models discover scaling laws? 2025): on the test split,
``NMSE = MSE / Var(y)``, ``NMAE = MAE / mean|y - mean(y)|`` and ``R2 = 1 - NMSE``. R2 alone misleads
when the test losses span little (a 3.6 % error can read R2 = -3), so beside it: the RMSE of log loss
(about the relative error), the error relative to the spread of the test losses (RMSE / (max - min)),
and AIC and BIC of the training fit from the Gaussian likelihood of log residuals.

A target with values ``<= 0`` (a normalised loss, a log-ratio) has no log: on its ``"linear"`` scale
the residuals are ``prediction - y`` in the target's units, ``rmse_log`` is NaN and ``rmse`` (with
``scale``) says the error on the scale that was used.

Pure functions of arrays: this module imports nothing else of lawfind, so that discovery, the
search engines and the report can score a prediction without depending on :mod:`lawfind.compare`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Metrics", "metrics", "log_fit_stats", "residuals", "SCALES"]

#: The target scales (as :data:`lawfind.data.SCALES`; this module imports nothing of lawfind).
SCALES = ("log", "linear")


@dataclass(frozen=True)
class Metrics:
    """How well a fitted law predicts the test runs (and fits the training runs)."""

    r2: float
    nmse: float
    nmae: float
    rmse_log: float
    train_rmse_log: float
    spread_ratio: float
    aic: float
    bic: float
    n_params: int
    n_train: int
    n_test: int
    scale: str = "log"
    rmse: float = float("nan")
    train_rmse: float = float("nan")

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def residuals(y: np.ndarray, pred: np.ndarray, scale: str = "log") -> np.ndarray:
    """``log(pred) - log(y)`` on the log scale, ``pred - y`` on the linear one (NaN where undefined)."""
    if scale not in SCALES:
        raise ValueError(f"unknown target scale '{scale}'; choose one of: {', '.join(SCALES)}")
    y, pred = np.asarray(y, float), np.asarray(pred, float)
    with np.errstate(all="ignore"):
        return pred - y if scale == "linear" else np.log(pred) - np.log(y)


def log_fit_stats(y: np.ndarray, pred: np.ndarray, n_params: int, scale: str = "log") -> tuple[float, float, float]:
    """RMSE of log residuals (of plain residuals on the ``"linear"`` scale), and AIC and BIC from their
    Gaussian likelihood, for ``n_params`` constants."""
    r = residuals(y, pred, scale)
    n = len(r)
    if n == 0:  # no runs (a discovery with no test split): nothing to measure
        return math.nan, math.nan, math.nan
    rss = float(np.sum(r * r))
    ll_term = n * np.log(max(rss, 1e-300) / n)
    return float(np.sqrt(rss / n)), float(ll_term + 2 * n_params), float(ll_term + n_params * np.log(n))


def metrics(y: np.ndarray, pred: np.ndarray, *, train_y: np.ndarray, train_pred: np.ndarray,
            n_params: int, scale: str = "log") -> Metrics:
    """SLDBench metrics on the test runs plus information criteria of the training fit, on the target's
    ``scale`` (``"log"``: ``rmse_log``; ``"linear"``: ``rmse`` in the target's units, ``rmse_log`` NaN)."""
    y, pred = np.asarray(y, float), np.asarray(pred, float)
    var = float(np.var(y)) if len(y) else 0.0  # no test runs: every test metric is nan
    with np.errstate(all="ignore"):
        err = pred - y
        nmse = float(np.mean(err ** 2) / var) if var > 0 else float("nan")
        nmae = float(np.mean(np.abs(err)) / np.mean(np.abs(y - y.mean()))) if var > 0 else float("nan")
    rmse = log_fit_stats(y, pred, 0, scale)[0]
    train_rmse, aic, bic = log_fit_stats(train_y, train_pred, n_params, scale)
    log = scale == "log"
    spread = float(np.ptp(y)) if len(y) else 0.0
    with np.errstate(all="ignore"):
        ratio = float(np.sqrt(np.mean(err ** 2)) / spread) if spread > 0 else float("nan")
    return Metrics(r2=1 - nmse, nmse=nmse, nmae=nmae, rmse_log=rmse if log else float("nan"),
                   train_rmse_log=train_rmse if log else float("nan"), spread_ratio=ratio, aic=aic, bic=bic,
                   n_params=n_params, n_train=len(train_y), n_test=len(y), scale=scale, rmse=rmse,
                   train_rmse=train_rmse)
