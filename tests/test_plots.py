"""Plots take a path (or None) and return the Figure; axes follow the variables' scales."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from lawfind import plots


def test_every_plot_returns_a_figure_and_writes_its_file(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.uniform(2, 3, 30)
    labels = np.array(["train"] * 20 + ["test"] * 10)
    figs = {
        "pvo.png": plots.predicted_vs_observed(y, y * 1.01, labels, tmp_path / "pvo.png"),
        "res.png": plots.residuals({"N": 10 ** rng.uniform(6, 9, 30), "S": rng.uniform(0, 0.7, 30)}, y, y * 1.01,
                                   labels, tmp_path / "res.png"),
        "lvc.png": plots.loss_vs_complexity([3, 5, 9], [0.1, 0.05, 0.04], 1, tmp_path / "lvc.png"),
        "sub/pd.png": plots.partial_dependence({"G": (np.geomspace(1, 24, 20), np.linspace(2, 3, 20))}, {"G": 7.4},
                                               tmp_path / "sub" / "pd.png"),
        "iso.png": plots.iso_loss(*np.meshgrid(np.geomspace(1, 24, 5), np.linspace(0, 0.7, 4)),
                                  np.arange(20.0).reshape(4, 5), ("G", "S"), tmp_path / "iso.png"),
    }
    for name, fig in figs.items():
        assert isinstance(fig, Figure) and (tmp_path / name).stat().st_size > 1000, name


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
