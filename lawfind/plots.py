"""Plots of a discovery or a fit. Each function takes a path (or None) and returns the Figure."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: lawfind never opens a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

from .symbols import scale  # noqa: E402

__all__ = ["predicted_vs_observed", "residuals", "loss_vs_complexity", "partial_dependence", "iso_loss", "scale_axis"]


def _log_axis(name: str, values: np.ndarray) -> bool:
    """A log axis for a log-scale variable whose values span more than a factor of 20."""
    values = np.asarray(values, dtype=float)
    return scale(name) == "log" and bool(np.all(values > 0)) and values.max() / values.min() > 20


def scale_axis(ax, name: str, values: np.ndarray, axis: str = "x") -> None:
    """Give ``ax``'s axis the variable's scale: log where :func:`_log_axis` says so, otherwise linear with
    large or small numbers as a multiple of a power of ten (``1e5`` to ``6e5`` as 1 to 6, x 1e5), so that
    tick labels do not run into each other."""
    if _log_axis(name, values):
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        # the range holds a power of ten (it spans more than 20x): label those, not the crowded minor ticks
        (ax.xaxis if axis == "x" else ax.yaxis).set_minor_formatter(NullFormatter())
    else:
        ax.ticklabel_format(axis=axis, style="sci", scilimits=(-3, 4))


def _save(fig: Figure, path: str | Path | None) -> Figure:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return fig


def predicted_vs_observed(observed: np.ndarray, predicted: np.ndarray, split: np.ndarray | None = None,
                          path: str | Path | None = None, title: str = "") -> Figure:
    """Predicted against observed loss; ``split`` labels each run (train / validation / test)."""
    fig, ax = plt.subplots(figsize=(4.8, 4.5))
    labels = np.asarray(split) if split is not None else np.array(["runs"] * len(observed))
    for lab, marker in zip(dict.fromkeys(labels), "o^s"):
        m = labels == lab
        ax.scatter(observed[m], predicted[m], s=12, marker=marker, alpha=0.7, label=f"{lab} ({m.sum()})")
    lo, hi = float(min(observed.min(), predicted.min())), float(max(observed.max(), predicted.max()))
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    ax.set(xlabel="observed loss", ylabel="predicted loss", title=title)
    ax.legend(fontsize=8)
    return _save(fig, path)


def residuals(features: dict[str, np.ndarray], observed: np.ndarray, predicted: np.ndarray,
              split: np.ndarray | None = None, path: str | Path | None = None) -> Figure:
    """Log residuals against each feature (log axis for positive features); residuals in the target's
    units where it has values <= 0 (its linear scale)."""
    names = list(features)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.0), squeeze=False, sharey=True)
    linear = bool(np.any(np.asarray(observed, float) <= 0))
    with np.errstate(all="ignore"):
        res = predicted - observed if linear else np.log(predicted) - np.log(observed)
    labels = np.asarray(split) if split is not None else np.array(["runs"] * len(observed))
    for ax, name in zip(axes[0], names):
        x = features[name]
        for lab in dict.fromkeys(labels):
            m = labels == lab
            ax.scatter(x[m], res[m], s=8, alpha=0.6, label=lab)
        scale_axis(ax, name, x)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlabel(name)
    axes[0][0].set_ylabel("predicted - observed" if linear else "log(predicted / observed)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def loss_vs_complexity(n_params: Sequence[int], loss: Sequence[float], chosen: int | None = None,
                       path: str | Path | None = None, se: Sequence[float] | None = None) -> Figure:
    """The front: extrapolation error against the number of constants (with standard errors), the
    chosen law marked."""
    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    ax.errorbar(n_params, loss, yerr=se, fmt="o-", ms=4, capsize=2)
    if chosen is not None:
        ax.plot([n_params[chosen]], [loss[chosen]], "r*", ms=14, label="chosen")
        ax.legend()
    ax.set(xlabel="fitted constants", ylabel="extrapolation RMSE of log loss", yscale="log")
    return _save(fig, path)


def partial_dependence(curves: dict[str, tuple[np.ndarray, np.ndarray]], optima: dict[str, float] | None = None,
                       path: str | Path | None = None,
                       bands: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> Figure:
    """Loss along each variable (others held), one panel each, with the optimum marked; ``bands``
    gives each curve's (low, high) interval, e.g. from bootstrap replicates, drawn shaded."""
    names = list(curves)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.0), squeeze=False, sharey=True)
    for ax, name in zip(axes[0], names):
        x, y = curves[name]
        if bands and name in bands:
            ax.fill_between(x, *bands[name], alpha=0.25, lw=0, label="95% band")
        ax.plot(x, y)
        scale_axis(ax, name, x)
        if optima and name in optima and np.isfinite(optima[name]):
            ax.axvline(optima[name], color="r", ls="--", lw=1, label=f"{name}* = {optima[name]:.3g}")
            ax.legend(fontsize=7)
        ax.set_xlabel(name)
    axes[0][0].set_ylabel("predicted loss")
    fig.tight_layout()
    return _save(fig, path)


def iso_loss(x: np.ndarray, y: np.ndarray, z: np.ndarray, names: tuple[str, str],
             path: str | Path | None = None) -> Figure:
    """Iso-loss contours over a pair of variables (``z`` on the ``x`` by ``y`` grid)."""
    fig, ax = plt.subplots(figsize=(4.6, 3.8))
    cs = ax.contour(x, y, z, levels=14, cmap="viridis")
    ax.clabel(cs, fontsize=6, fmt="%.3f")
    for axis, name, vals in (("x", names[0], x), ("y", names[1], y)):
        scale_axis(ax, name, vals, axis)
    ax.set(xlabel=names[0], ylabel=names[1], title="iso-loss contours")
    return _save(fig, path)
