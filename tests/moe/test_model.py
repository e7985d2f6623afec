"""The MoE model: exact parameter accounting, one initialisation, dense equivalence, dispatch paths,
auxiliary losses."""

from __future__ import annotations

import logging
import math

import pytest
import torch

from moe.model import (MLP, MoEConfig, MoEFFN, MoETransformer, count_params, grouped_mm_unsupported,
                       init_std, switch_load_balancing_loss)

from .conftest import needs_grouped_mm


@pytest.mark.parametrize("kw", [dict(n_experts=8, top_k=2, d_shared=16), dict(n_experts=4, top_k=1),
                                dict(n_experts=0, top_k=2), dict(n_experts=1, top_k=1, d_shared=7),
                                dict(n_experts=6, top_k=3, d_shared=37, noisy_gating=True)])
def test_parameter_accounting_is_exact(kw):
    cfg = MoEConfig(d_model=32, n_heads=2, d_expert=16, n_layers=3, **kw)
    model = MoETransformer(cfg)
    counts = count_params(cfg)
    emb = model.embed.weight.numel()
    assert counts["embedding"] == emb
    assert counts["N"] == sum(p.numel() for p in model.parameters()) - emb
    if cfg.n_experts:
        per_expert = 2 * cfg.d_model * cfg.d_expert
        assert counts["N"] - counts["Na"] == cfg.n_layers * per_expert * (cfg.n_experts - cfg.top_k)
        # S is the shared FFN's share of the activated FFN parameters, read off the modules
        ffn = model.blocks[0].ffn
        shared = sum(p.numel() for p in ffn.shared.parameters()) if ffn.shared is not None else 0
        routed = ffn.experts.w_up[0].numel() * 2 * cfg.top_k
        assert cfg.shared_ratio == pytest.approx(shared / (shared + routed))
    else:
        assert counts["N"] == counts["Na"]


def _std_matches(weight: torch.Tensor, std: float) -> bool:
    """The sample std of ``weight`` lies within 5 standard errors of ``std`` (SE = std / sqrt(2n))."""
    return abs(weight.detach().std().item() - std) < 5 * std / math.sqrt(2 * weight.numel())


def test_one_initialisation_for_routed_shared_and_dense_weights():
    torch.manual_seed(0)
    L = 3
    moe = MoETransformer(MoEConfig(d_model=64, n_heads=4, n_layers=L, n_experts=8, top_k=2, d_expert=32, d_shared=48))
    dense = MoETransformer(MoEConfig(d_model=64, n_heads=4, n_layers=L, n_experts=0, top_k=2, d_expert=32))
    ffn, mlp = moe.blocks[1].ffn, dense.blocks[1].ffn
    std = init_std(64)
    assert std == pytest.approx(0.079, abs=1e-3) and init_std(768) == pytest.approx(0.0228, abs=1e-4)  # SmallInit
    residual = std / math.sqrt(2 * L)  # GPT-2's scaled residual projections
    up = {"routed": ffn.experts.w_up, "shared": ffn.shared.up.weight, "dense": mlp.up.weight}
    down = {"routed": ffn.experts.w_down, "shared": ffn.shared.down.weight, "dense": mlp.down.weight}
    assert all(_std_matches(w, std) for w in up.values()), {k: w.std().item() for k, w in up.items()}
    assert all(_std_matches(w, residual) for w in down.values()), {k: w.std().item() for k, w in down.items()}
    # and the rest of the model follows the same rule
    assert _std_matches(moe.embed.weight, std) and _std_matches(moe.blocks[0].attn.qkv.weight, std)
    assert _std_matches(moe.blocks[0].attn.proj.weight, residual) and _std_matches(ffn.router.weight, std)
    # the old bug: routed experts started 1.7x wider than the shared and dense FFNs
    ratio = ffn.experts.w_up.std().item() / ffn.shared.up.weight.std().item()
    assert abs(ratio - 1) < 0.05


RANDOM_INITS = ("normal_", "uniform_", "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_",
                "xavier_normal_", "trunc_normal_", "orthogonal_")


@pytest.mark.parametrize("build", [
    lambda: MoETransformer(MoEConfig(d_model=32, n_heads=2, n_layers=2, n_experts=4, top_k=2, d_expert=16,
                                     d_shared=8, noisy_gating=True)),
    lambda: MoETransformer(MoEConfig(d_model=32, n_heads=2, n_layers=2, n_experts=0, top_k=2, d_expert=16)),
    lambda: MoEFFN(MoEConfig(d_model=32, n_heads=2, n_experts=4, top_k=2, d_expert=16, d_shared=8)),
    lambda: MLP(32, 24),
], ids=["moe", "dense", "moe-layer-alone", "mlp-alone"])
def test_every_weight_is_drawn_once(build, monkeypatch):
    # once: not by PyTorch's constructors (kaiming_uniform_) and then init_weights, nor by an MoE layer's
    # constructor and then the model's init_weights; each draw costs random numbers, so this fixes the stream
    draws: list[tuple[str, torch.Tensor]] = []
    for name in RANDOM_INITS:
        real = getattr(torch.nn.init, name)

        def record(tensor, *args, _real=real, _name=name, **kwargs):
            if tensor.device.type != "meta":  # a meta tensor holds no numbers: nothing is drawn
                draws.append((_name, tensor))
            return _real(tensor, *args, **kwargs)

        monkeypatch.setattr(torch.nn.init, name, record)
    module = build()
    matrices = [p for p in module.parameters() if p.dim() >= 2 and p.abs().sum() > 0]  # noise weights start at 0
    assert matrices and {name for name, _ in draws} == {"normal_"}
    counts = [sum(t is p for _, t in draws) for p in matrices]
    assert counts == [1] * len(matrices) and len(draws) == len(matrices)


def test_one_expert_top1_equals_the_dense_ffn_in_outputs_and_gradients():
    torch.manual_seed(0)
    cfg = MoEConfig(d_model=16, n_heads=2, d_expert=24, n_experts=1, top_k=1, d_shared=0, dispatch="loop")
    moe_ffn = MoEFFN(cfg)
    dense = MLP(16, 24)
    with torch.no_grad():
        dense.up.weight.copy_(moe_ffn.experts.w_up[0].t())
        dense.down.weight.copy_(moe_ffn.experts.w_down[0].t())
    x = torch.randn(3, 5, 16)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    y_moe, _ = moe_ffn(x1)
    y_dense = dense(x2)
    torch.testing.assert_close(y_moe, y_dense, rtol=1e-5, atol=1e-6)
    g = torch.randn_like(y_dense)
    (y_moe * g).sum().backward()
    (y_dense * g).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(moe_ffn.experts.w_up.grad[0], dense.up.weight.grad.t(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(moe_ffn.experts.w_down.grad[0], dense.down.weight.grad.t(), rtol=1e-5, atol=1e-6)


@needs_grouped_mm
def test_grouped_mm_and_loop_dispatch_agree():
    torch.manual_seed(1)
    cfg = MoEConfig(d_model=32, n_heads=2, d_expert=16, n_experts=8, top_k=2, d_shared=16, dispatch="grouped_mm")
    a = MoEFFN(cfg)
    b = MoEFFN(MoEConfig(**{**cfg.__dict__, "dispatch": "loop"}))
    b.load_state_dict(a.state_dict())
    x = torch.randn(4, 7, 32)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, _ = a(xa)
    yb, _ = b(xb)
    torch.testing.assert_close(ya, yb, rtol=1e-5, atol=1e-5)
    g = torch.randn_like(ya)
    (ya * g).sum().backward()
    (yb * g).sum().backward()
    torch.testing.assert_close(a.experts.w_up.grad, b.experts.w_up.grad, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-4, atol=1e-5)
    assert a.experts.dispatch_used == "grouped_mm" and b.experts.dispatch_used == "loop"


@needs_grouped_mm  # the loop case checks the alignment reason, which a torch without grouped_mm does not give
@pytest.mark.parametrize("d_expert, expected", [(16, "grouped_mm"), (6, "loop")])
def test_recorded_dispatch_is_grouped_mm_for_aligned_widths_and_the_loop_otherwise(d_expert, expected, caplog):
    from moe import model as m

    m._log_fallback.cache_clear()
    cfg = MoEConfig(d_model=32, n_heads=2, d_expert=d_expert, n_experts=4, top_k=2, seq_len=8, n_layers=2)
    model = MoETransformer(cfg)
    assert model.dispatch_in_use() == "none"  # before any forward
    idx = torch.randint(0, 256, (2, 8))
    with caplog.at_level(logging.WARNING, logger="moe.model"):
        model(idx, idx)
        model(idx, idx)
    assert model.dispatch_in_use() == expected
    fallbacks = [r for r in caplog.records if "loop dispatch" in r.getMessage()]
    if expected == "loop":  # fp32 rows of 6 floats are 24 bytes: not 16-byte aligned
        assert len(fallbacks) == 1 and "width 6" in fallbacks[0].getMessage()
    else:
        assert not fallbacks
    dense = MoETransformer(MoEConfig(d_model=32, n_heads=2, n_experts=0, d_expert=16, seq_len=8))
    assert dense.dispatch_in_use() == "dense"


@needs_grouped_mm
def test_a_fallback_is_logged_once_per_process(caplog):
    from moe import model as m

    m._log_fallback.cache_clear()
    cfg = MoEConfig(d_model=32, n_heads=2, d_expert=6, n_experts=4, top_k=2, seq_len=8, n_layers=2)
    idx = torch.randint(0, 256, (2, 8))
    with caplog.at_level(logging.WARNING, logger="moe.model"):
        for _ in range(3):
            MoETransformer(cfg)(idx, idx)  # 3 models x 2 layers, one reason
    fallbacks = [r.getMessage() for r in caplog.records if "loop dispatch" in r.getMessage()]
    assert len(fallbacks) == 1 and "rows of width 6" in fallbacks[0]


@needs_grouped_mm
def test_the_compute_dtype_is_decided_before_the_dispatch_under_autocast():
    # under bf16 autocast the layer norm returns fp32; the experts must see bf16 and decide on bf16 rows:
    # 12 bf16 values are 24 bytes (unaligned, loop) though 12 fp32 values are 48 bytes (aligned)
    idx = torch.randint(0, 256, (2, 8))
    for d_expert, expected in ((12, "loop"), (16, "grouped_mm")):
        model = MoETransformer(MoEConfig(d_model=32, n_heads=2, d_expert=d_expert, n_experts=4, top_k=2, seq_len=8))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            _, loss, _ = model(idx, idx)
        assert model.dispatch_in_use() == expected and torch.isfinite(loss)
        loss.backward()
        assert torch.isfinite(model.blocks[0].ffn.experts.w_up.grad).all()
    model(idx, idx)  # without autocast, fp32: 12 floats are aligned
    assert model.dispatch_in_use() == "grouped_mm"


def test_router_logits_stay_fp32_under_autocast():
    ffn = MoEFFN(MoEConfig(d_model=32, n_heads=2, d_expert=16, n_experts=4, top_k=2, noisy_gating=True))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits, probs, _, gates = ffn.router(torch.randn(10, 32))
    assert logits.dtype == probs.dtype == gates.dtype == torch.float32


@needs_grouped_mm
def test_grouped_mm_decision_for_cuda_without_a_gpu():
    bf16, fp32 = torch.bfloat16, torch.float32
    assert grouped_mm_unsupported("cuda", bf16, (48, 64), (9, 0)) is None  # H100, bf16 autocast
    assert grouped_mm_unsupported("cuda", bf16, (48, 64), (8, 0)) is None  # A100
    assert "bf16" in grouped_mm_unsupported("cuda", fp32, (48, 64), (9, 0))  # the old bypass: fp32 input
    assert "capability" in grouped_mm_unsupported("cuda", bf16, (48, 64), (7, 5))
    assert "multiples of 8" in grouped_mm_unsupported("cuda", bf16, (48, 36), (9, 0))
    assert grouped_mm_unsupported("cpu", fp32, (48, 36)) is None
    assert "multiples of 4" in grouped_mm_unsupported("cpu", fp32, (48, 6))


@needs_grouped_mm
def test_explicit_grouped_mm_that_cannot_run_is_an_error():
    cfg = MoEConfig(d_model=32, n_heads=2, d_expert=6, n_experts=4, top_k=2, dispatch="grouped_mm")
    with pytest.raises(ValueError, match="dispatch='grouped_mm' cannot run here: rows of width 6"):
        MoEFFN(cfg)(torch.randn(2, 4, 32))


def test_switch_loss_is_one_when_uniform_and_grows_with_imbalance():
    E, T = 4, 400
    probs = torch.full((T, E), 1 / E)
    idx = torch.arange(T).remainder(E).unsqueeze(1)
    assert switch_load_balancing_loss(probs, idx, E).item() == pytest.approx(1.0)
    skew = torch.zeros(T, 1, dtype=torch.long)
    probs2 = torch.tensor([[0.7, 0.1, 0.1, 0.1]]).expand(T, E)
    assert switch_load_balancing_loss(probs2, skew, E).item() == pytest.approx(4 * 0.7)


def test_forward_returns_losses_not_globals():
    torch.manual_seed(0)
    cfg = MoEConfig(d_model=32, n_heads=2, d_expert=16, n_experts=4, top_k=2, seq_len=16, n_layers=2)
    model = MoETransformer(cfg)
    idx = torch.randint(0, 256, (2, 16))
    logits, loss, aux = model(idx, idx)
    assert logits.shape == (2, 16, 256)
    # the training loss is the cross-entropy plus the weighted auxiliary losses, each a mean over layers
    expected = aux["ce"] + cfg.aux_loss_coef * aux["balance"] + cfg.z_loss_coef * aux["z"]
    torch.testing.assert_close(loss.detach(), expected, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(aux["ce"], torch.nn.functional.cross_entropy(logits.reshape(-1, 256), idx.reshape(-1)))
    assert 0.9 < aux["balance"].item() < 1.5  # near uniform routing at initialisation (1 when uniform)
    assert aux["z"].item() > 0
    # every layer routes each of the 2 x 16 tokens to G = 2 experts
    assert aux["load"].shape == (2, 4) and aux["load"].sum(1).tolist() == [2 * 16 * 2] * 2
    # nothing accumulates between calls: the same input gives the same losses
    _, again, aux2 = model(idx, idx)
    assert again.item() == loss.item() and torch.equal(aux2["load"], aux["load"])
    loss.backward()
    grad = model.blocks[0].ffn.router.weight.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    # with bias balancing the load-balancing loss carries no weight; the z-loss still does
    biased = MoETransformer(MoEConfig(**{**cfg.__dict__, "bias_balancing": True}))
    _, loss_b, aux_b = biased(idx, idx)
    torch.testing.assert_close(loss_b.detach(), aux_b["ce"] + cfg.z_loss_coef * aux_b["z"], rtol=1e-6, atol=1e-6)


def test_bias_balancing_moves_bias_against_load():
    cfg = MoEConfig(d_model=16, n_heads=2, d_expert=8, n_experts=4, top_k=1, bias_balancing=True)
    ffn = MoEFFN(cfg).train()
    with torch.no_grad():
        ffn.router.weight.zero_()
        ffn.router.weight[0] = 1.0  # every token prefers expert 0
    ffn(torch.ones(2, 8, 16))
    bias = ffn.router.bias
    assert bias[0] < 0 and (bias[1:] > 0).all()
