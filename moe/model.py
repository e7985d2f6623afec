"""A decoder-only MoE transformer that reads in one sitting.

Pre-norm blocks; causal attention through ``scaled_dot_product_attention`` with rotary positions;
the FFN is a mixture of experts: E fine-grained routed experts with top-G routing (router in fp32),
plus always-on shared experts whose share of the activated FFN is S. The block returns
``(hidden, aux)``; the Switch load-balancing loss and the router z-loss are pure functions, summed by
``forward`` and returned, never kept in a global. Dispatch is dropless: tokens are sorted by expert
and multiplied with ``torch.nn.functional.grouped_mm`` where it runs, else a plain loop over experts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["MoEConfig", "MoETransformer", "switch_load_balancing_loss", "router_z_loss", "count_params"]


@dataclass(frozen=True)
class MoEConfig:
    """Model shape. ``n_experts = 0`` means a dense FFN of width ``d_expert * top_k``."""

    vocab_size: int = 256
    seq_len: int = 128
    d_model: int = 128
    n_layers: int = 2
    n_heads: int = 4
    n_experts: int = 8  # E routed experts
    top_k: int = 2  # G activated routed experts per token
    d_expert: int = 64  # width of one expert's hidden layer
    n_shared: int = 0  # shared (always-on) experts, each of width d_expert
    aux_loss_coef: float = 0.01
    z_loss_coef: float = 1e-3
    noisy_gating: bool = False
    bias_balancing: bool = False  # DeepSeek-V3's auxiliary-loss-free balancing
    bias_update_rate: float = 1e-3
    dispatch: str = "auto"  # "grouped_mm", "loop" or "auto"

    def __post_init__(self) -> None:
        if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            raise ValueError(f"d_model {self.d_model} must split into {self.n_heads} heads of even width")
        if self.n_experts and not 1 <= self.top_k <= self.n_experts:
            raise ValueError(f"top_k must lie in [1, n_experts={self.n_experts}], got {self.top_k}")
        if self.dispatch not in ("auto", "grouped_mm", "loop"):
            raise ValueError(f"unknown dispatch '{self.dispatch}': choose auto, grouped_mm or loop")

    @property
    def shared_ratio(self) -> float:
        """S = shared / (shared + activated routed), in activated FFN parameters."""
        return self.n_shared / (self.n_shared + self.top_k) if self.n_experts else 0.0


def switch_load_balancing_loss(router_probs: torch.Tensor, expert_index: torch.Tensor, n_experts: int) -> torch.Tensor:
    """Switch Transformer load-balancing loss (Fedus et al. 2021, Eq. 4-6): ``E * sum_i f_i P_i``.

    ``f_i`` is the fraction of routing assignments sent to expert i (over all top-k slots), ``P_i`` the
    mean router probability of expert i. It equals 1 under uniform routing.
    """
    f = torch.bincount(expert_index.reshape(-1), minlength=n_experts).to(router_probs.dtype)
    f = f / expert_index.numel()
    p = router_probs.mean(dim=0)
    return n_experts * torch.sum(f * p)


def router_z_loss(logits: torch.Tensor) -> torch.Tensor:
    """ST-MoE's router z-loss (Zoph et al. 2022, Eq. 5): mean of logsumexp(logits)^2."""
    return torch.logsumexp(logits, dim=-1).pow(2).mean()


class Rotary(nn.Module):
    """Rotary position embedding (Su et al. 2021), cached per sequence length."""

    def __init__(self, head_dim: int, seq_len: int, base: float = 10000.0) -> None:
        super().__init__()
        inv = 1.0 / base ** (torch.arange(0, head_dim, 2).float() / head_dim)
        t = torch.arange(seq_len).float()
        freqs = torch.outer(t, inv)  # (T, hd/2)
        self.register_buffer("cos", freqs.cos(), persistent=False)
        self.register_buffer("sin", freqs.sin(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, H, T, hd)
        T = x.shape[-2]
        x1, x2 = x[..., 0::2], x[..., 1::2]
        cos, sin = self.cos[:T].to(x.dtype), self.sin[:T].to(x.dtype)
        return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, cfg: MoEConfig) -> None:
        super().__init__()
        self.n_heads = cfg.n_heads
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.rotary = Rotary(cfg.d_model // cfg.n_heads, cfg.seq_len)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2) for t in (q, k, v))  # (B, H, T, hd)
        q, k = self.rotary(q), self.rotary(k)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    """A GELU MLP: the dense FFN and each shared expert."""

    def __init__(self, d_model: int, hidden: int) -> None:
        super().__init__()
        self.up = nn.Linear(d_model, hidden, bias=False)
        self.down = nn.Linear(hidden, d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(x)))


class Router(nn.Module):
    """Top-k router in fp32, with optional noisy gating and bias balancing."""

    def __init__(self, cfg: MoEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.weight = nn.Parameter(torch.empty(cfg.n_experts, cfg.d_model))
        nn.init.normal_(self.weight, std=0.02)
        if cfg.noisy_gating:  # Shazeer et al. 2017, Eq. 4: a learned, softplus-scaled noise per expert
            self.noise = nn.Parameter(torch.zeros(cfg.n_experts, cfg.d_model))
        # DeepSeek-V3: a bias added for the top-k choice only, nudged against overloaded experts
        self.register_buffer("bias", torch.zeros(cfg.n_experts))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        x32 = x.float()
        logits = x32 @ self.weight.float().t()  # (T, E)
        if self.cfg.noisy_gating and self.training:
            logits = logits + torch.randn_like(logits) * F.softplus(x32 @ self.noise.float().t())
        probs = logits.softmax(dim=-1)
        choice = probs + self.bias if self.cfg.bias_balancing else probs
        _, idx = choice.topk(self.cfg.top_k, dim=-1)  # (T, G)
        gates = probs.gather(-1, idx)
        gates = gates / gates.sum(dim=-1, keepdim=True)
        return logits, probs, idx, gates

    @torch.no_grad()
    def update_bias(self, idx: torch.Tensor) -> None:
        load = torch.bincount(idx.reshape(-1), minlength=self.cfg.n_experts).float()
        self.bias += self.cfg.bias_update_rate * torch.sign(load.mean() - load)


class Experts(nn.Module):
    """E routed experts as stacked weights: ``w_up (E, d, h)`` and ``w_down (E, h, d)``."""

    def __init__(self, cfg: MoEConfig) -> None:
        super().__init__()
        self.w_up = nn.Parameter(torch.empty(cfg.n_experts, cfg.d_model, cfg.d_expert))
        self.w_down = nn.Parameter(torch.empty(cfg.n_experts, cfg.d_expert, cfg.d_model))
        nn.init.normal_(self.w_up, std=1 / math.sqrt(cfg.d_model))
        nn.init.normal_(self.w_down, std=1 / math.sqrt(cfg.d_expert))
        self.dispatch = cfg.dispatch

    def forward(self, x: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        """``x``: tokens sorted by expert, ``counts[e]`` of them for expert e."""
        if self.dispatch != "loop" and _grouped_mm_ok(x, self.w_up.shape[1], self.w_up.shape[2]):
            offs = torch.cumsum(counts, 0).to(torch.int32)
            h = F.gelu(F.grouped_mm(x, self.w_up.to(x.dtype), offs=offs))
            return F.grouped_mm(h, self.w_down.to(x.dtype), offs=offs)
        out, start = [], 0
        for e, n in enumerate(counts.tolist()):
            out.append(F.gelu(x[start:start + n] @ self.w_up[e].to(x.dtype)) @ self.w_down[e].to(x.dtype))
            start += n
        return torch.cat(out) if out else x


def _grouped_mm_ok(x: torch.Tensor, d_model: int, d_expert: int) -> bool:
    """grouped_mm runs on CPU in fp32 (torch 2.13) and on CUDA in bf16 with SM >= 80, with rows
    aligned to 16 bytes."""
    if not hasattr(F, "grouped_mm") or (d_model * x.element_size()) % 16 or (d_expert * x.element_size()) % 16:
        return False
    if x.device.type == "cpu":
        return x.dtype == torch.float32
    return x.dtype == torch.bfloat16 and torch.cuda.get_device_capability(x.device)[0] >= 8


class MoEFFN(nn.Module):
    """Routed experts plus shared experts; returns ``(y, aux)`` with the auxiliary losses and loads."""

    def __init__(self, cfg: MoEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.router = Router(cfg)
        self.experts = Experts(cfg)
        self.shared = MLP(cfg.d_model, cfg.d_expert * cfg.n_shared) if cfg.n_shared else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        B, T, C = x.shape
        flat = x.reshape(-1, C)  # (BT, C)
        logits, probs, idx, gates = self.router(flat)
        order = idx.reshape(-1).argsort(stable=True)  # (BT*G,)
        token = order // self.cfg.top_k
        counts = torch.bincount(idx.reshape(-1), minlength=self.cfg.n_experts)
        y_sorted = self.experts(flat[token], counts)  # (BT*G, C)
        weight = gates.reshape(-1)[order].unsqueeze(-1).to(y_sorted.dtype)
        y = torch.zeros_like(flat).index_add_(0, token, y_sorted * weight)
        if self.shared is not None:
            y = y + self.shared(flat)
        if self.cfg.bias_balancing and self.training:
            self.router.update_bias(idx)
        aux = {"balance": switch_load_balancing_loss(probs, idx, self.cfg.n_experts),
               "z": router_z_loss(logits), "load": counts.detach()}
        return y.view(B, T, C), aux


class Block(nn.Module):
    def __init__(self, cfg: MoEConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.d_model, bias=False)
        self.attn = Attention(cfg)
        self.norm2 = nn.LayerNorm(cfg.d_model, bias=False)
        self.ffn = MoEFFN(cfg) if cfg.n_experts else MLP(cfg.d_model, cfg.d_expert * cfg.top_k)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x = x + self.attn(self.norm1(x))
        out = self.ffn(self.norm2(x))
        h, aux = out if isinstance(out, tuple) else (out, {})
        return x + h, aux


class MoETransformer(nn.Module):
    """The language model: embeddings, blocks, final norm, tied output head."""

    def __init__(self, cfg: MoEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        nn.init.normal_(self.embed.weight, std=0.02)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = nn.LayerNorm(cfg.d_model, bias=False)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None, dict]:
        """Logits ``(B, T, V)``, the training loss (cross-entropy + weighted auxiliary losses) and aux."""
        x = self.embed(idx)  # (B, T, C)
        balance, z, loads = [], [], []
        for block in self.blocks:
            x, aux = block(x)
            if aux:
                balance.append(aux["balance"])
                z.append(aux["z"])
                loads.append(aux["load"])
        logits = self.norm(x) @ self.embed.weight.t()  # tied head
        aux = {}
        if balance:
            aux = {"balance": torch.stack(balance).mean(), "z": torch.stack(z).mean(), "load": torch.stack(loads)}
        loss = None
        if targets is not None:
            ce = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1))
            aux["ce"] = ce.detach()
            loss = ce
            if balance:
                w_bal = 0.0 if self.cfg.bias_balancing else self.cfg.aux_loss_coef
                loss = loss + w_bal * aux["balance"] + self.cfg.z_loss_coef * aux["z"]
        return logits, loss, aux


def count_params(cfg: MoEConfig) -> dict[str, int]:
    """Exact parameter counts: ``N`` (total non-embedding), ``Na`` (activated per token), ``embedding``.

    Per layer: attention 4 d^2; two norms d each; router E d (+ E d with noisy gating); each expert
    2 d h; shared experts 2 d h each. Activated: the same with G routed experts instead of E. The
    final norm counts d. The tied embedding (V d) is reported apart.
    """
    d, h, L = cfg.d_model, cfg.d_expert, cfg.n_layers
    attn, norms = 4 * d * d, 2 * d
    if cfg.n_experts:
        router = cfg.n_experts * d * (2 if cfg.noisy_gating else 1)
        total_ffn = router + 2 * d * h * (cfg.n_experts + cfg.n_shared)
        active_ffn = router + 2 * d * h * (cfg.top_k + cfg.n_shared)
    else:
        total_ffn = active_ffn = 2 * d * h * cfg.top_k
    return {"N": L * (attn + norms + total_ffn) + d, "Na": L * (attn + norms + active_ffn) + d,
            "embedding": cfg.vocab_size * d}
