"""Training one model: the row records achieved values and the dispatch; divergence is caught; seeds."""

from __future__ import annotations

import importlib
import math

import pytest
import torch

from moe.data import load_corpus
from moe.designer import design
from moe.model import MoEConfig, MoETransformer, count_params
from moe.train import TrainConfig, TrainingDiverged, divergence, train

from .conftest import GROUPED_MM, needs_grouped_mm

TINY = dict(d_model=32, n_layers=1, n_heads=2, seq_len=32)
SHORT = TrainConfig(tokens=2048, batch_size=8, eval_tokens=1024)


@pytest.fixture(scope="module")
def corpus(text_corpus):
    return load_corpus(text_corpus)


def test_row_holds_achieved_values_and_the_dispatch(corpus):
    d = design(2e5, 8e4, 2, 0.3, **TINY)
    row = train(d.config, SHORT, corpus)
    counts = count_params(d.config)
    assert (row["N"], row["Na"], row["G"]) == (counts["N"], counts["Na"], 2)
    assert row["S"] == d.config.shared_ratio == pytest.approx(0.3, abs=0.01) and row["S"] != 0.3
    assert row["d_shared"] == d.config.d_shared > 0 and row["E"] == d.config.n_experts
    assert row["D"] == 2048 and row["seed"] == 0 and row["data_seed"] == 0
    assert (row["dispatch"], row["dtype"], row["device"]) == ("grouped_mm" if GROUPED_MM else "loop", "fp32", "cpu")
    assert row["vocab_size"] == corpus.vocab_size and math.isfinite(row["loss"])


@pytest.mark.parametrize("cfg, expected", [
    (MoEConfig(n_experts=4, top_k=2, d_expert=6, **TINY), "loop"),  # 24-byte rows
    pytest.param(MoEConfig(n_experts=4, top_k=2, d_expert=8, **TINY), "grouped_mm", marks=needs_grouped_mm),
    (MoEConfig(n_experts=4, top_k=2, d_expert=8, dispatch="loop", **TINY), "loop"),
    (MoEConfig(n_experts=0, top_k=1, d_expert=16, **TINY), "dense"),
])
def test_recorded_dispatch_is_the_expected_one(corpus, cfg, expected):
    assert train(cfg, TrainConfig(tokens=512, batch_size=8, eval_tokens=256), corpus)["dispatch"] == expected


def test_same_seed_same_loss_other_seed_other_loss(corpus):
    cfg = design(2e5, 8e4, 2, 0.0, **TINY).config
    a, b = train(cfg, SHORT, corpus), train(cfg, SHORT, corpus)
    c = train(cfg, TrainConfig(**{**SHORT.__dict__, "seed": 1}), corpus)
    assert a["loss"] == b["loss"] and c["loss"] != a["loss"]


def test_non_finite_training_loss_stops_the_run(corpus, monkeypatch):
    class Poisoned(MoETransformer):
        def __init__(self, cfg):
            super().__init__(cfg)
            with torch.no_grad():
                self.embed.weight[0, 0] = float("nan")

    monkeypatch.setattr(importlib.import_module("moe.train"), "MoETransformer", Poisoned)
    with pytest.raises(TrainingDiverged, match="training loss is nan at step 1 of 8"):
        train(design(2e5, 8e4, 2, 0.0, **TINY).config, SHORT, corpus)


def test_divergence_is_a_non_finite_loss_or_one_above_uniform():
    assert "nan" in divergence(float("nan"), 256) and "inf" in divergence(float("inf"), 256)
    assert "above the uniform baseline ln 256 = 5.5452" in divergence(5.6, 256)
    assert divergence(5.5, 256) is None and divergence(2.0, 256) is None
