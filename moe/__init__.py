"""moe: a PyTorch MoE language model and a sweep runner that writes (D, N, Na, G, S, loss) runs."""

from __future__ import annotations

from .designer import Design, design, vary
from .model import MoEConfig, MoETransformer, count_params, router_z_loss, switch_load_balancing_loss
from .train import TrainConfig, train

__all__ = ["Design", "design", "vary", "MoEConfig", "MoETransformer", "count_params", "router_z_loss",
           "switch_load_balancing_loss", "TrainConfig", "train"]
