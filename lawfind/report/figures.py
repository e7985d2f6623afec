"""The report's figures: pure functions from data to a matplotlib Figure, and one way to embed them.

The plots a discovery already draws (:mod:`lawfind.plots`: predicted against observed, residuals,
partial dependence, iso-loss) are reused as they are; this module adds the two the report needs
beside them (the runs along each variable, and the front among every scored candidate) and turns a
Figure into a ``data:`` URI, so that the page holds its pictures and needs no other file.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # files only: lawfind never opens a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..plots import scale_axis  # noqa: E402
from .tables import SPLITS  # noqa: E402

__all__ = ["runs_by_split", "front", "embed", "SPLIT_COLOURS"]

#: One colour per split, in the order of :data:`SPLITS` (matplotlib's cycle, so that the plots of
#: :mod:`lawfind.plots`, which colour labels in order of appearance, agree when runs come in that order).
SPLIT_COLOURS = {s: f"C{i}" for i, s in enumerate(SPLITS)}


def runs_by_split(features: Mapping[str, np.ndarray], loss: np.ndarray, split: np.ndarray) -> Figure:
    """The loss of every run against each variable, one panel each, coloured by split."""
    names = list(features)
    fig, axes = plt.subplots(1, len(names), figsize=(3.0 * len(names), 2.9), squeeze=False, sharey=True)
    split = np.asarray(split)
    for ax, name in zip(axes[0], names):
        x = np.asarray(features[name], dtype=float)
        for lab in SPLITS:
            m = split == lab
            if m.any():
                ax.scatter(x[m], loss[m], s=9, alpha=0.7, color=SPLIT_COLOURS[lab], label=f"{lab} ({m.sum()})")
        scale_axis(ax, name, x)
        ax.set_xlabel(name)
    axes[0][0].set_ylabel("loss")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    plt.close(fig)
    return fig


def front(n_params: Sequence[int], extrap: Sequence[float], catalog_names: Sequence[str | None],
          on_front: Sequence[bool], chosen: int | None = None, se: Sequence[float] | None = None) -> Figure:
    """Extrapolation error against the number of constants: every candidate whose error was measured
    (grey; the catalogue's laws as squares, named), the front joined, the chosen law starred.

    ``catalog_names`` holds each candidate's catalogue name, or ``None`` (an empty string, a NaN read
    from ``candidates.csv``) for an engine's form.
    """
    k = np.asarray(n_params, dtype=float)
    err = np.asarray(extrap, dtype=float)
    names = [n if isinstance(n, str) else "" for n in catalog_names]
    on = np.asarray(on_front, dtype=bool)
    fig, ax = plt.subplots(figsize=(6.2, 3.8))
    cat = np.array([bool(n) for n in names], dtype=bool)
    measured = np.isfinite(err)
    rest = measured & ~on & ~cat
    ax.scatter(k[rest], err[rest], s=14, color="0.65", label="other candidates")
    c = measured & cat
    ax.scatter(k[c], err[c], s=26, marker="s", facecolor="none", edgecolor="C4", label="catalogue laws")
    for i in np.flatnonzero(c):
        ax.annotate(names[i], (k[i], err[i]), fontsize=6, xytext=(3, 3),
                    textcoords="offset points", color="C4")
    order = np.flatnonzero(on & measured)
    order = order[np.argsort(k[order])]
    yerr = None if se is None else np.asarray(se, dtype=float)[order]
    ax.errorbar(k[order], err[order], yerr=yerr, fmt="o-", ms=4, capsize=2, color="C0", label="front")
    if chosen is not None and measured[chosen]:
        ax.plot([k[chosen]], [err[chosen]], "r*", ms=14, label="chosen")
    ax.set(xlabel="fitted constants", ylabel="extrapolation RMSE of log loss", yscale="log")
    ax.legend(fontsize=7)
    fig.tight_layout()
    plt.close(fig)
    return fig


def embed(fig: Figure, dpi: int = 96) -> str:
    """The figure as a ``data:image/png;base64,...`` URI (the page stays one file)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
