"""The designer: targets to integer shapes, exact accounting, any S at any G."""

from __future__ import annotations

import pytest

from moe.designer import design, vary
from moe.model import MoETransformer, count_params


def _exact(d) -> None:
    """The achieved N and Na are the model's real parameter counts, and S is the config's."""
    model = MoETransformer(d.config)
    emb = model.embed.weight.numel()
    assert d.achieved["N"] == sum(p.numel() for p in model.parameters()) - emb == count_params(d.config)["N"]
    assert d.achieved["Na"] == count_params(d.config)["Na"]
    assert d.achieved["S"] == d.config.shared_ratio and d.achieved["G"] == d.config.top_k


def test_designer_hits_targets_and_reports_them():
    d = design(1e6, 3e5, 4, 0.2, d_model=64, n_layers=2)
    assert d.error < 0.02 and d.achieved["S"] == pytest.approx(0.2, abs=0.005) and d.config.d_expert % 4 == 0
    _exact(d)
    grid = vary({"N": 1e6, "Na": 3e5, "G": 4, "S": 0.2, "D": 1e5}, "ratio", [0.1, 0.5])
    assert [g["Na"] for g in grid] == [1e5, 5e5] and all(g["N"] == 1e6 for g in grid)
    with pytest.raises(ValueError, match="Na <= N"):
        design(1e5, 2e5, 2, 0.0)
    with pytest.raises(ValueError, match="below the attention parameters"):
        design(1e6, 1e3, 2, 0.0, d_model=64)


@pytest.mark.parametrize("G", [1, 2])
def test_shared_ratio_is_realised_at_small_G(G):
    # the old designer had integer shared experts of the routed width: G = 1 or 2 forced S = 0
    d = design(2e6, 5e5, G, 0.3, d_model=48, n_layers=2)
    assert d.config.d_shared > 0 and d.achieved["S"] == pytest.approx(0.3, abs=0.005)
    assert abs(d.achieved["Na"] / 5e5 - 1) < 0.02 and abs(d.achieved["N"] / 2e6 - 1) < 0.1
    _exact(d)
    # S is the shared share of the activated FFN parameters: d_s / (d_s + G h)
    c = d.config
    assert d.achieved["S"] == c.d_shared / (c.d_shared + G * c.d_expert)


def test_shape_follows_S_with_Na_held():
    shapes = [design(1e6, 3e5, 4, S, d_model=48, n_layers=2) for S in (0.0, 0.3, 0.6)]
    assert [s.config.d_shared for s in shapes][0] == 0
    assert shapes[0].config.d_expert > shapes[1].config.d_expert > shapes[2].config.d_expert
    assert all(abs(s.achieved["Na"] / 3e5 - 1) < 0.02 for s in shapes)
    assert [round(s.achieved["S"], 2) for s in shapes] == [0.0, 0.3, 0.6]


def test_alignment_option_for_bf16():
    d = design(1e6, 3e5, 4, 0.2, d_model=48, n_layers=2, align=8)
    assert d.config.d_expert % 8 == 0 and d.error < 0.05
