"""The report's own figures: pure functions of data, one colour per split, embedded as PNG data URIs."""

from __future__ import annotations

import base64

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from lawfind.report.figures import SPLIT_COLOURS, embed, front, runs_by_split


def test_runs_by_split_colours_each_split_alike_and_follows_the_scale_rule():
    rng = np.random.default_rng(0)
    n = 30
    split = np.array(["test"] * 5 + ["selection"] * 20 + ["largest slice"] * 5)
    fig = runs_by_split({"N": 10 ** rng.uniform(6, 9, n), "S": rng.uniform(0, 0.7, n)}, rng.uniform(2, 3, n), split)
    assert isinstance(fig, Figure) and [ax.get_xscale() for ax in fig.axes] == ["log", "linear"]
    for ax in fig.axes:
        colours = {c.get_label().split(" (")[0]: tuple(c.get_facecolor()[0]) for c in ax.collections}
        assert colours == {s: to_rgba(SPLIT_COLOURS[s], colours[s][3]) for s in ("selection", "largest slice", "test")}
        sizes = {c.get_label(): len(c.get_offsets()) for c in ax.collections}
        assert sizes == {"selection (20)": 20, "largest slice (5)": 5, "test (5)": 5}


def test_front_marks_the_chosen_law_and_names_the_catalogues():
    k = [4, 5, 5, 7, 9, 10]
    err = [0.06, 0.03, np.nan, 0.02, 0.019, 0.009]
    names = ["kaplan2020", None, "", None, np.nan, "lawfind_moe5"]  # None, "" or NaN: an engine's form
    fig = front(k, err, names, [True, True, False, True, False, True], chosen=5, se=[0.003] * 6)
    ax = fig.axes[0]
    star = [line for line in ax.get_lines() if line.get_label() == "chosen"][0]
    assert list(star.get_xdata()) == [10] and list(star.get_ydata()) == [0.009]
    assert sorted(t.get_text() for t in ax.texts) == ["kaplan2020", "lawfind_moe5"]
    grey = [c for c in ax.collections if c.get_label() == "other candidates"][0]
    assert grey.get_offsets().tolist() == [[9.0, 0.019]]  # not on the front, measured, not catalogue
    assert ax.get_yscale() == "log"


def test_embed_gives_a_png_data_uri():
    fig = runs_by_split({"G": np.arange(1.0, 9.0)}, np.linspace(2, 3, 8), np.array(["selection"] * 8))
    uri = embed(fig)
    head, _, data = uri.partition(",")
    assert head == "data:image/png;base64"
    png = base64.b64decode(data)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") > 100  # width in the IHDR
