"""moe on this CPU: training speed of MoE models beside dense models of the same active size, and the
seed noise of the final loss with and without common random numbers (CRN).

Speed: MoE models of about 0.2M, 1M and 5M non-embedding parameters (Na/N about 0.3, G = 4, S = 0.2,
grouped_mm dispatch, and the loop dispatch for reference), each beside a dense model whose N equals
the MoE's Na, all with 2 threads, in the same run; tokens/s counts training steps only.
Noise: a 1M-parameter MoE trained on 1M tokens with 3 seeds; with CRN every seed sees the same batch
order (only the initialisation changes); without, the batch order follows the seed too.

Usage: python benchmarks/bench_moe.py [--noise-tokens 1000000] [--skip-noise]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from moe.data import load_corpus
from moe.designer import design
from moe.model import MoEConfig, count_params
from moe.train import TrainConfig, train

SIZES = [(2e5, 32, 2), (1e6, 64, 2), (5e6, 128, 3)]  # (N, d_model, n_layers)


def dense_like(moe: MoEConfig) -> MoEConfig:
    """A dense model (n_experts = 0) whose N is closest to the MoE's Na."""
    target = count_params(moe)["Na"]
    d, L = moe.d_model, moe.n_layers
    h = max(4, round((target - L * (4 * d * d + 2 * d) - d) / (2 * d * L) / 4) * 4)
    return MoEConfig(d_model=d, n_layers=L, n_heads=moe.n_heads, seq_len=moe.seq_len, n_experts=0, top_k=1,
                     d_expert=h)


def speed(corpus, steps: int = 40) -> None:
    print(f"{'model':<24}{'N':>10}{'Na':>10}{'tokens/s':>11}{'vs dense':>10}")
    for N, d, L in SIZES:
        moe = design(N, 0.3 * N, 4, 0.2, d_model=d, n_layers=L, n_heads=4, seq_len=128).config
        tcfg = TrainConfig(tokens=steps * 16 * 128, batch_size=16, threads=2, eval_tokens=4096)
        dense = dense_like(moe)
        rows = {}
        for name, cfg in (("dense", dense), ("moe grouped_mm", moe),
                          ("moe loop", MoEConfig(**{**moe.__dict__, "dispatch": "loop"}))):
            rows[name] = train(cfg, tcfg, corpus)
        for name, row in rows.items():
            ratio = row["tokens_per_s"] / rows["dense"]["tokens_per_s"]
            print(f"{name + f' ~{N:.0e}':<24}{row['N']:>10.3g}{row['Na']:>10.3g}{row['tokens_per_s']:>11.0f}{ratio:>9.2f}x")


def noise(corpus, tokens: int) -> None:
    moe = design(1e6, 3e5, 4, 0.2, d_model=64, n_layers=2, n_heads=4, seq_len=128).config
    print(f"\nseed noise of the final validation loss, 1M-parameter MoE, D = {tokens:.3g} tokens, 3 seeds")
    for label, crn in (("with CRN (same batch order)", True), ("without CRN", False)):
        losses = [train(moe, TrainConfig(tokens=tokens, batch_size=16, seed=s, data_seed=0 if crn else s,
                                         threads=2), corpus)["loss"] for s in (0, 1, 2)]
        print(f"{label:<30} losses {', '.join(f'{x:.4f}' for x in losses)}  std {np.std(losses, ddof=1):.4f} nats")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--noise-tokens", type=int, default=1_000_000)
    ap.add_argument("--skip-noise", action="store_true")
    args = ap.parse_args()
    torch.manual_seed(0)
    corpus = load_corpus()
    speed(corpus)
    if not args.skip_noise:
        noise(corpus, args.noise_tokens)


if __name__ == "__main__":
    main()
