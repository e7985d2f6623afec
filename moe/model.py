"""A decoder-only MoE transformer that reads in one sitting.

Pre-norm blocks; causal attention through ``scaled_dot_product_attention`` with rotary positions;
the FFN is a mixture of experts: E fine-grained routed experts with top-G routing (router in fp32),
plus one always-on shared FFN of its own width ``d_shared``, whose share of the activated FFN is S.
The block returns ``(hidden, aux)``; the Switch load-balancing loss and the router z-loss are pure
functions, summed by ``forward`` and returned, never kept in a global. Dispatch is dropless: tokens are
sorted by expert and multiplied with ``torch.nn.functional.grouped_mm`` where it runs in the compute
dtype (the autocast dtype where autocast is on), else a plain loop over experts; the path taken is
kept on the experts module and a fallback is logged once per process. Every weight is drawn once, by
one function, ``init_weights``: the modules allocate their weights without drawing them, and the
module a caller builds (the model, or an MoE layer or MLP built alone) applies ``init_weights``.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["MoEConfig", "MoETransformer", "switch_load_balancing_loss", "router_z_loss", "count_params",
           "init_weights", "init_std", "grouped_mm_unsupported", "compute_dtype"]

log = logging.getLogger(__name__)


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
    d_expert: int = 64  # width of one routed expert's hidden layer
    d_shared: int = 0  # width of the shared (always-on) FFN's hidden layer; 0: none
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
        if self.d_shared < 0 or (self.d_shared and not self.n_experts):
            raise ValueError(f"d_shared must be >= 0, and 0 for a dense model (got {self.d_shared} with "
                             f"n_experts={self.n_experts})")

    @property
    def shared_ratio(self) -> float:
        """S = shared / (shared + activated routed), in activated FFN parameters: d_s / (d_s + G h)."""
        return self.d_shared / (self.d_shared + self.top_k * self.d_expert) if self.n_experts else 0.0


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


def _linear(d_in: int, d_out: int) -> nn.Linear:
    """A bias-free linear layer whose weight is allocated, not drawn (``init_weights`` draws it)."""
    return nn.utils.skip_init(nn.Linear, d_in, d_out, bias=False)


def _initialise(module: nn.Module, d_model: int, n_layers: int) -> None:
    """Draw every weight of ``module`` once (``init_weights`` applied to it and its submodules)."""
    module.apply(functools.partial(init_weights, d_model=d_model, n_layers=n_layers))


class Attention(nn.Module):
    def __init__(self, cfg: MoEConfig) -> None:
        super().__init__()
        self.n_heads = cfg.n_heads
        self.qkv = _linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = _linear(cfg.d_model, cfg.d_model)
        self.proj.residual_out = True  # scaled at init (init_weights)
        self.rotary = Rotary(cfg.d_model // cfg.n_heads, cfg.seq_len)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2) for t in (q, k, v))  # (B, H, T, hd)
        q, k = self.rotary(q), self.rotary(k)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    """A GELU MLP: the dense FFN and the shared FFN.

    Built alone it is initialised as inside a one-layer model (``init_weights``); a parent module that
    initialises its own tree passes ``init=False``.
    """

    def __init__(self, d_model: int, hidden: int, *, init: bool = True) -> None:
        super().__init__()
        self.up = _linear(d_model, hidden)
        self.down = _linear(hidden, d_model)
        self.down.residual_out = True  # scaled at init (init_weights)
        if init:
            _initialise(self, d_model, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(x)))


class Router(nn.Module):
    """Top-k router in fp32, with optional noisy gating and bias balancing."""

    def __init__(self, cfg: MoEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.weight = nn.Parameter(torch.empty(cfg.n_experts, cfg.d_model))
        if cfg.noisy_gating:  # Shazeer et al. 2017, Eq. 4: a learned, softplus-scaled noise per expert
            self.noise = nn.Parameter(torch.zeros(cfg.n_experts, cfg.d_model))
        # DeepSeek-V3: a bias added for the top-k choice only, nudged against overloaded experts
        self.register_buffer("bias", torch.zeros(cfg.n_experts))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        with torch.autocast(x.device.type, enabled=False):  # fp32 logits, under autocast too
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
    """E routed experts as stacked weights: ``w_up (E, d, h)`` and ``w_down (E, h, d)``.

    ``dispatch_used`` is the path the last forward took (``"grouped_mm"`` or ``"loop"``).
    """

    def __init__(self, cfg: MoEConfig) -> None:
        super().__init__()
        self.w_up = nn.Parameter(torch.empty(cfg.n_experts, cfg.d_model, cfg.d_expert))
        self.w_down = nn.Parameter(torch.empty(cfg.n_experts, cfg.d_expert, cfg.d_model))
        self.dispatch = cfg.dispatch
        self.dispatch_used: str | None = None

    def forward(self, x: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        """``x``: tokens sorted by expert, ``counts[e]`` of them for expert e, already in the compute dtype."""
        path = self._path(x)
        self.dispatch_used = path
        if path == "grouped_mm":  # grouped_mm is not on autocast's lists: operands are cast here
            offs = torch.cumsum(counts, 0).to(torch.int32)
            h = F.gelu(F.grouped_mm(x, self.w_up.to(x.dtype), offs=offs))
            return F.grouped_mm(h, self.w_down.to(x.dtype), offs=offs)
        out, start = [], 0
        for e, n in enumerate(counts.tolist()):
            out.append(F.gelu(x[start:start + n] @ self.w_up[e].to(x.dtype)) @ self.w_down[e].to(x.dtype))
            start += n
        return torch.cat(out) if out else x

    def _path(self, x: torch.Tensor) -> str:
        if self.dispatch == "loop":
            return "loop"
        capability = torch.cuda.get_device_capability(x.device) if x.device.type == "cuda" else None
        reason = grouped_mm_unsupported(x.device.type, x.dtype, (self.w_up.shape[1], self.w_up.shape[2]), capability)
        if reason is None:
            return "grouped_mm"
        if self.dispatch == "grouped_mm":
            raise ValueError(f"dispatch='grouped_mm' cannot run here: {reason}; use dispatch='auto' or 'loop'")
        _log_fallback(reason)
        return "loop"


@functools.lru_cache(maxsize=None)
def grouped_mm_unsupported(device_type: str, dtype: torch.dtype, widths: tuple[int, ...],
                           capability: tuple[int, int] | None = None) -> str | None:
    """Why ``grouped_mm`` cannot run for these operands, or ``None`` where it can.

    It runs on the CPU in fp32 and bf16 (torch 2.13) and on CUDA in bf16 with compute capability >= 8.0
    (the ``torch.nn.functional.grouped_mm`` documentation); every row (``widths``: d_model and the
    expert width) must be a multiple of 16 bytes in ``dtype``. A pure function, so the CUDA decision
    can be tested without a GPU; cached, since every MoE layer asks on every forward pass.
    """
    if not hasattr(F, "grouped_mm"):
        return f"this torch ({torch.__version__}) has no torch.nn.functional.grouped_mm"
    size = dtype.itemsize
    unaligned = [w for w in widths if (w * size) % 16]
    if unaligned:
        return (f"rows of width {unaligned[0]} in {dtype} are not 16-byte aligned "
                f"(use widths that are multiples of {16 // math.gcd(16, size)})")
    if device_type == "cpu":
        return None if dtype in (torch.float32, torch.bfloat16) else f"the CPU kernel takes fp32 or bf16, not {dtype}"
    if device_type == "cuda":
        if dtype != torch.bfloat16:
            return f"the CUDA kernel takes bf16, not {dtype} (train under bf16 autocast)"
        if capability is None or capability[0] < 8:
            return f"the CUDA kernel needs compute capability >= 8.0 (this device: {capability})"
        return None
    return f"no grouped_mm kernel for device '{device_type}'"


@functools.cache
def _log_fallback(reason: str) -> None:
    """Log a fallback to the loop once per process and reason (functools.cache keeps the reasons seen)."""
    log.warning("moe: grouped_mm cannot run (%s); the experts use the slower loop dispatch", reason)


def compute_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype the experts compute in: autocast's where autocast is on (layer norm returns fp32
    under CUDA autocast, so ``x.dtype`` would say fp32 and rule out grouped_mm), else ``x.dtype``."""
    kind = x.device.type
    return torch.get_autocast_dtype(kind) if torch.is_autocast_enabled(kind) else x.dtype


class MoEFFN(nn.Module):
    """Routed experts plus a shared FFN; returns ``(y, aux)`` with the auxiliary losses and loads.

    Built alone, it is initialised as inside the model (``init_weights``); inside the model
    (``init=False``) the model initialises it, once.
    """

    def __init__(self, cfg: MoEConfig, *, init: bool = True) -> None:
        super().__init__()
        self.cfg = cfg
        self.router = Router(cfg)
        self.experts = Experts(cfg)
        self.shared = MLP(cfg.d_model, cfg.d_shared, init=False) if cfg.d_shared else None
        if init:
            _initialise(self, cfg.d_model, cfg.n_layers)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        B, T, C = x.shape
        flat = x.reshape(-1, C)  # (BT, C)
        logits, probs, idx, gates = self.router(flat)
        order = idx.reshape(-1).argsort(stable=True)  # (BT*G,)
        token = order // self.cfg.top_k
        counts = torch.bincount(idx.reshape(-1), minlength=self.cfg.n_experts)
        # the dtype is decided before the dispatch: under autocast the experts see autocast's dtype
        y_sorted = self.experts(flat[token].to(compute_dtype(flat)), counts)  # (BT*G, C)
        weight = gates.reshape(-1)[order].unsqueeze(-1)  # (BT*G, 1), fp32
        y = torch.zeros_like(flat).index_add_(0, token, (y_sorted * weight).to(flat.dtype))
        if self.shared is not None:
            y = y + self.shared(flat).to(flat.dtype)
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
        self.ffn = (MoEFFN(cfg, init=False) if cfg.n_experts
                    else MLP(cfg.d_model, cfg.d_expert * cfg.top_k, init=False))  # the model initialises it

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x = x + self.attn(self.norm1(x))
        out = self.ffn(self.norm2(x))
        h, aux = out if isinstance(out, tuple) else (out, {})
        return x + h, aux


def init_std(d_model: int) -> float:
    """The standard deviation of every weight at initialisation: SmallInit, sqrt(2 / (5 d)) (Nguyen &
    Salazar 2019, "Transformers without Tears", Sec. 2.3; GPT-NeoX's ``small_init``). At GPT-2's width
    (768) it is 0.023, nanoGPT's 0.02; at this project's widths (32 to 128) a fixed 0.02 would be
    several times smaller than 1/sqrt(d) and slows early training."""
    return math.sqrt(2 / (5 * d_model))


def init_weights(module: nn.Module, d_model: int, n_layers: int) -> None:
    """The one initialisation of every weight, applied with ``model.apply`` (nanoGPT's ``_init_weights``,
    karpathy/nanoGPT model.py, with build-nanogpt's scaled residual projections).

    Every matrix (embedding, attention, router, routed experts, shared FFN, dense FFN) is drawn from
    N(0, std^2) with ``std = init_std(d_model)``; the projections that write into the residual stream
    (attention output, FFN down projections, the routed experts' ``w_down``) from
    N(0, (std / sqrt(2 n_layers))^2), GPT-2's scaling (Radford et al. 2019, Sec. 2.3). The noisy-gating
    weights and biases start at zero, norms at one. Routed experts, the shared FFN and the dense FFN
    thus start with the same statistics.
    """
    std = init_std(d_model)
    residual = std / math.sqrt(2 * n_layers)
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, std=residual if getattr(module, "residual_out", False) else std)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, Experts):
        nn.init.normal_(module.w_up, std=std)
        nn.init.normal_(module.w_down, std=residual)
    elif isinstance(module, Router):
        nn.init.normal_(module.weight, std=std)
        if hasattr(module, "noise"):
            nn.init.zeros_(module.noise)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)


class MoETransformer(nn.Module):
    """The language model: embeddings, blocks, final norm, tied output head."""

    def __init__(self, cfg: MoEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.utils.skip_init(nn.Embedding, cfg.vocab_size, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = nn.LayerNorm(cfg.d_model, bias=False)
        _initialise(self, cfg.d_model, cfg.n_layers)

    def dispatch_in_use(self) -> str:
        """``"dense"``, or the path the experts took in the last forward (``"grouped_mm"``, ``"loop"``;
        ``"none"`` before any forward)."""
        if not self.cfg.n_experts:
            return "dense"
        used = {m.dispatch_used for m in self.modules() if isinstance(m, Experts)}
        return "+".join(sorted(p or "none" for p in used))

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

    Per layer: attention 4 d^2; two norms d each; router E d (+ E d with noisy gating); each routed
    expert 2 d h; the shared FFN 2 d d_s. Activated: the same with G routed experts instead of E. The
    final norm counts d. The tied embedding (V d) is reported apart.
    """
    d, h, L = cfg.d_model, cfg.d_expert, cfg.n_layers
    attn, norms = 4 * d * d, 2 * d
    if cfg.n_experts:
        router = cfg.n_experts * d * (2 if cfg.noisy_gating else 1)
        total_ffn = router + 2 * d * (h * cfg.n_experts + cfg.d_shared)
        active_ffn = router + 2 * d * (h * cfg.top_k + cfg.d_shared)
    else:
        total_ffn = active_ffn = 2 * d * h * cfg.top_k
    return {"N": L * (attn + norms + total_ffn) + d, "Na": L * (attn + norms + active_ffn) + d,
            "embedding": cfg.vocab_size * d}
