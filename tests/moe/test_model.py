"""The MoE model: exact parameter accounting, dense equivalence, dispatch paths, auxiliary losses."""

from __future__ import annotations

import pytest
import torch

from moe.model import MLP, MoEConfig, MoEFFN, MoETransformer, count_params, switch_load_balancing_loss


@pytest.mark.parametrize("kw", [dict(n_experts=8, top_k=2, n_shared=1), dict(n_experts=4, top_k=1),
                                dict(n_experts=0, top_k=2), dict(n_experts=6, top_k=3, n_shared=2, noisy_gating=True)])
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
    else:
        assert counts["N"] == counts["Na"]


def test_one_expert_top1_equals_the_dense_ffn_in_outputs_and_gradients():
    torch.manual_seed(0)
    cfg = MoEConfig(d_model=16, n_heads=2, d_expert=24, n_experts=1, top_k=1, n_shared=0, dispatch="loop")
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


def test_grouped_mm_and_loop_dispatch_agree():
    torch.manual_seed(1)
    cfg = MoEConfig(d_model=32, n_heads=2, d_expert=16, n_experts=8, top_k=2, n_shared=1, dispatch="grouped_mm")
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


def test_switch_loss_is_one_when_uniform_and_grows_with_imbalance():
    E, T = 4, 400
    probs = torch.full((T, E), 1 / E)
    idx = torch.arange(T).remainder(E).unsqueeze(1)
    assert switch_load_balancing_loss(probs, idx, E).item() == pytest.approx(1.0)
    skew = torch.zeros(T, 1, dtype=torch.long)
    probs2 = torch.tensor([[0.7, 0.1, 0.1, 0.1]]).expand(T, E)
    assert switch_load_balancing_loss(probs2, skew, E).item() == pytest.approx(4 * 0.7)


def test_forward_returns_losses_not_globals():
    cfg = MoEConfig(d_model=32, n_heads=2, d_expert=16, n_experts=4, top_k=2, seq_len=16, n_layers=2)
    model = MoETransformer(cfg)
    idx = torch.randint(0, 256, (2, 16))
    logits, loss, aux = model(idx, idx)
    assert logits.shape == (2, 16, 256) and loss.item() > aux["ce"].item() > 0
    assert aux["load"].shape == (2, 4) and aux["load"].sum().item() == 2 * 2 * 16 * 2
    loss.backward()
    assert model.blocks[0].ffn.router.weight.grad is not None


def test_bias_balancing_moves_bias_against_load():
    cfg = MoEConfig(d_model=16, n_heads=2, d_expert=8, n_experts=4, top_k=1, bias_balancing=True)
    ffn = MoEFFN(cfg).train()
    with torch.no_grad():
        ffn.router.weight.zero_()
        ffn.router.weight[0] = 1.0  # every token prefers expert 0
    ffn(torch.ones(2, 8, 16))
    bias = ffn.router.bias
    assert bias[0] < 0 and (bias[1:] > 0).all()
