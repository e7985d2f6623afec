"""Plots take a path (or None) and return the Figure; axes follow the variables' scales."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.ticker import NullFormatter

from lawfind import plots


def test_every_plot_returns_a_figure_of_its_data_and_writes_it(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.uniform(2, 3, 30)
    labels = np.array(["train"] * 20 + ["test"] * 10)
    n = 10 ** rng.uniform(6, 9, 30)
    z = np.arange(20.0).reshape(4, 5)
    figs = {
        "pvo.png": plots.predicted_vs_observed(y, y * 1.01, labels, tmp_path / "pvo.png"),
        "res.png": plots.residuals({"N": n, "S": rng.uniform(0, 0.7, 30)}, y, y * 1.01, labels, tmp_path / "res.png"),
        "lvc.png": plots.loss_vs_complexity([3, 5, 9], [0.1, 0.05, 0.04], 1, tmp_path / "lvc.png"),
        "sub/pd.png": plots.partial_dependence({"G": (np.geomspace(1, 24, 20), np.linspace(2, 3, 20))}, {"G": 7.4},
                                               tmp_path / "sub" / "pd.png"),
        "iso.png": plots.iso_loss(*np.meshgrid(np.geomspace(1, 24, 5), np.linspace(0, 0.7, 4)), z, ("G", "S"),
                                  tmp_path / "iso.png"),
    }
    for name, fig in figs.items():  # each file is the figure, drawn at the saved resolution
        assert isinstance(fig, Figure), name
        image = imread(tmp_path / name)
        assert image.ndim == 3 and min(image.shape[:2]) > 200 and image[..., :3].std() > 0.05, name
    # predicted against observed: one series per split, labelled with its count, and the diagonal
    ax = figs["pvo.png"].axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train (20)", "test (10)"]
    for points, m in zip(ax.collections, (labels == "train", labels == "test")):
        assert np.allclose(points.get_offsets(), np.column_stack([y[m], y[m] * 1.01]))
    assert np.allclose(ax.lines[0].get_xydata(), [[y.min(), y.min()], [y.max() * 1.01] * 2])
    # residuals: log(predicted / observed) = log 1.01 against each feature, one panel per feature
    res = figs["res.png"].axes
    assert [a.get_xlabel() for a in res] == ["N", "S"]
    offsets = np.vstack([c.get_offsets() for c in res[0].collections])
    assert np.allclose(np.sort(offsets[:, 0]), np.sort(n)) and np.allclose(offsets[:, 1], np.log(1.01))
    # the front, with the chosen law starred
    ax = figs["lvc.png"].axes[0]
    assert np.allclose(ax.lines[0].get_xydata(), [[3, 0.1], [5, 0.05], [9, 0.04]])
    assert np.allclose(ax.lines[-1].get_xydata(), [[5, 0.05]]) and ax.lines[-1].get_marker() == "*"
    # partial dependence: the curve and the optimum's line
    ax = figs["sub/pd.png"].axes[0]
    assert np.allclose(ax.lines[0].get_ydata(), np.linspace(2, 3, 20))
    assert np.allclose(ax.lines[1].get_xdata(), 7.4) and ax.get_legend().get_texts()[0].get_text() == "G* = 7.4"
    # iso-loss: evenly spaced levels spanning the surface, each line labelled with its loss, axes by the pair
    ax = figs["iso.png"].axes[0]
    levels = ax.collections[0].levels
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("G", "S") and len(levels) > 5
    assert levels[0] <= z.min() and levels[-1] >= z.max() and np.allclose(np.diff(levels), levels[1] - levels[0])
    assert ax.texts and {float(t.get_text()) for t in ax.texts} <= {round(float(v), 3) for v in levels}


def test_axes_follow_the_scale_rule():
    x = np.geomspace(1e6, 1e9, 30)
    fig = plots.residuals({"N": x, "S": np.linspace(0.01, 0.7, 30)}, np.full(30, 2.0), np.full(30, 2.0))
    assert [ax.get_xscale() for ax in fig.axes] == ["log", "linear"]  # S is linear even if it spans 70x
    assert isinstance(fig.axes[0].xaxis.get_minor_formatter(), NullFormatter)  # powers of ten only: no crowding
    fig = plots.residuals({"D": np.linspace(1e5, 6e5, 30)}, np.full(30, 2.0), np.full(30, 2.0))
    fig.canvas.draw()
    assert fig.axes[0].xaxis.get_offset_text().get_text() == "1e5"  # 1 to 6 x 1e5, not 100000 to 600000
    fig = plots.partial_dependence({"G": (np.linspace(1, 4, 5), np.ones(5))})
    assert fig.axes[0].get_xscale() == "linear"  # G spans only 4x
    fig = plots.iso_loss(*np.meshgrid(np.geomspace(1, 64, 5), np.linspace(0.01, 0.9, 4)), np.ones((4, 5)), ("G", "S"))
    assert (fig.axes[0].get_xscale(), fig.axes[0].get_yscale()) == ("log", "linear")


def test_partial_dependence_draws_bands_under_the_curves():
    x = np.geomspace(1, 24, 20)
    y = 2.5 + 0.05 * (np.log(x) - 2) ** 2
    fig = plots.partial_dependence({"G": (x, y)}, {"G": 7.4}, bands={"G": (y - 0.01, y + 0.01)})
    ax = fig.axes[0]
    band = ax.collections[0]
    verts = band.get_paths()[0].vertices
    assert verts[:, 1].min() == pytest.approx((y - 0.01).min()) and verts[:, 1].max() == pytest.approx((y + 0.01).max())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["95% band", "G* = 7.4"]
