"""Training one model: AdamW, a warmup-stable-decay schedule, seeds, a fixed validation set.

Every run yields a row (the achieved D, N, Na, G, S, E, loss, the config, seeds, the dispatch the
experts took, FLOPs, wall time, tokens/s, load-balance statistics) and its loss curve. The device is
chosen automatically: CUDA with bf16 autocast where present, else the CPU in fp32. A non-finite
training loss stops the run with ``TrainingDiverged``; ``divergence`` says whether a final loss is
a failure (non-finite, or above the uniform baseline ln V).
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import time
from dataclasses import asdict, dataclass

import torch

from .data import Batches, Corpus, validation_batches
from .model import MoEConfig, MoETransformer, count_params

__all__ = ["TrainConfig", "train", "run_hash", "pick_device", "TrainingDiverged", "divergence"]


class TrainingDiverged(RuntimeError):
    """The training loss became non-finite."""


def divergence(loss: float, vocab_size: int) -> str | None:
    """Why a final loss marks a failed run (non-finite, or above the uniform baseline ln V), or ``None``."""
    if not math.isfinite(loss):
        return f"diverged: the final loss is {loss}"
    if loss > math.log(vocab_size):
        return (f"diverged: the final loss {loss:.4f} is above the uniform baseline "
                f"ln {vocab_size} = {math.log(vocab_size):.4f}")
    return None


@dataclass(frozen=True)
class TrainConfig:
    """Training settings. ``tokens`` is D; ``data_seed`` fixes the batch order (shared by every
    configuration for common random numbers); ``seed`` fixes the initialisation."""

    tokens: int = 200_000
    batch_size: int = 16
    lr: float = 3e-3
    weight_decay: float = 0.1
    warmup_frac: float = 0.05
    decay_frac: float = 0.2
    seed: int = 0
    data_seed: int = 0
    eval_tokens: int = 65_536
    eval_every: int = 0  # steps between curve points (0: 10 points)
    device: str = "auto"
    threads: int = 1

    def __post_init__(self) -> None:
        for name in ("tokens", "batch_size", "threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"TrainConfig.{name} must be a whole number >= 1, got {value!r}")


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def wsd(step: int, total: int, warmup: int, decay: int) -> float:
    """Warmup-stable-decay (Hu et al. 2024, MiniCPM): linear warmup, flat, linear decay to zero."""
    if step < warmup:
        return (step + 1) / warmup
    if step >= total - decay:
        return max(0.0, (total - step) / decay)
    return 1.0


def run_hash(model: MoEConfig, train: TrainConfig, corpus: str) -> str:
    """A stable hash of everything that defines a run (the resume key of sweeps)."""
    blob = json.dumps({"model": asdict(model), "train": {k: v for k, v in asdict(train).items()
                                                         if k not in ("device", "threads")}, "corpus": corpus},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@torch.no_grad()
def evaluate(model: MoETransformer, batches, device, autocast) -> float:
    model.eval()
    total, n = 0.0, 0
    for x, y in batches:
        with autocast():
            _, _, aux = model(x.to(device), y.to(device))
        total += aux["ce"].item() * x.numel()
        n += x.numel()
    model.train()
    return total / n


def train(model_cfg: MoEConfig, cfg: TrainConfig, corpus: Corpus, progress=None) -> dict:
    """Train one model; return its row (with ``curve`` as a JSON string)."""
    torch.set_num_threads(cfg.threads)
    device = pick_device(cfg.device)
    torch.manual_seed(cfg.seed)
    if model_cfg.vocab_size != corpus.vocab_size:
        model_cfg = MoEConfig(**{**asdict(model_cfg), "vocab_size": corpus.vocab_size})
    model = MoETransformer(model_cfg).to(device)
    bf16 = device.type == "cuda"

    def autocast():
        return torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else torch.autocast("cpu", enabled=False)

    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() >= 2 and "embed" not in name else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95),
                            fused=device.type == "cuda")
    tokens_per_step = cfg.batch_size * model_cfg.seq_len
    steps = max(1, math.ceil(cfg.tokens / tokens_per_step))
    warmup, decay_steps = max(1, int(steps * cfg.warmup_frac)), max(1, int(steps * cfg.decay_frac))
    data = Batches(corpus.train, cfg.batch_size, model_cfg.seq_len, cfg.data_seed)
    val = validation_batches(corpus.val, model_cfg.seq_len, cfg.eval_tokens)
    every = cfg.eval_every or max(1, steps // 10)
    curve, loads = [], []
    t0 = time.perf_counter()
    train_time = 0.0
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = cfg.lr * wsd(step, steps, warmup, decay_steps)
        x, y = data.next()
        ts = time.perf_counter()
        with autocast():
            _, loss, aux = model(x.to(device), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        train_time += time.perf_counter() - ts
        if not torch.isfinite(loss):  # checked after the step's sync: no extra stall on CUDA
            raise TrainingDiverged(f"diverged: the training loss is {loss.item()} at step {step + 1} of {steps}")
        if "load" in aux and step >= steps - max(1, steps // 10):
            loads.append(aux["load"].float().cpu())
        if (step + 1) % every == 0 or step == steps - 1:
            point = {"step": step + 1, "tokens": (step + 1) * tokens_per_step, "train_loss": aux["ce"].item()}
            if step == steps - 1 or (step + 1) % (every * 5) == 0:
                point["val_loss"] = evaluate(model, val, device, autocast)
            curve.append(point)
            if progress:
                progress(step + 1, steps)
    final = curve[-1]["val_loss"]
    counts = count_params(model_cfg)
    D = steps * tokens_per_step
    flops = (6 * counts["Na"] + 12 * model_cfg.n_layers * model_cfg.d_model * model_cfg.seq_len) * D  # PaLM, App. B
    lb = torch.stack(loads).sum(0) if loads else None  # (layers, E)
    ratio = (lb.max(1).values / lb.mean(1)).mean().item() if lb is not None else 1.0
    cv = (lb.std(1) / lb.mean(1)).mean().item() if lb is not None else 0.0
    return {
        "D": float(D), "N": float(counts["N"]), "Na": float(counts["Na"]), "G": float(model_cfg.top_k),
        "S": float(model_cfg.shared_ratio), "E": float(model_cfg.n_experts), "loss": float(final),
        "seed": cfg.seed, "data_seed": cfg.data_seed, "embedding_params": float(counts["embedding"]),
        "d_model": model_cfg.d_model, "n_layers": model_cfg.n_layers, "d_expert": model_cfg.d_expert,
        "d_shared": model_cfg.d_shared, "dispatch": model.dispatch_in_use(),
        "dtype": "bf16" if bf16 else "fp32", "vocab_size": model_cfg.vocab_size, "flops": float(flops),
        "wall_time": time.perf_counter() - t0,
        "tokens_per_s": D / train_time if train_time else float("nan"), "load_max_over_mean": ratio,
        "load_cv": cv, "final_train_loss": float(curve[-1]["train_loss"]), "device": device.type,
        "config": json.dumps({"model": asdict(model_cfg), "train": asdict(cfg)}, sort_keys=True),
        "curve": json.dumps(curve), "corpus": corpus.name,
    }

