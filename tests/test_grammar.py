"""The grammar engine: structured forms, physical signs, recovery of planted laws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from lawfind import fit_law, load_runs
from lawfind.admissible import Roles
from lawfind.search.grammar import Block, Form, GrammarEngine, _Context, base_forms, build, expand

TRUTH = dict(E0=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28)


@pytest.fixture(scope="module")
def chinchilla_with_distractors():
    """A planted Chinchilla law in N and D; G and S vary but play no part."""
    rng = np.random.default_rng(7)
    n = 400
    N, D = 10 ** rng.uniform(7.5, 9.5, n), 10 ** rng.uniform(9.5, 11.5, n)
    loss = (1.69 + 406.4 / N ** 0.34 + 410.7 / D ** 0.28) * np.exp(rng.normal(0, 0.005, n))
    frame = pd.DataFrame({"D": D, "N": N, "G": rng.choice([1, 2, 4, 8], n), "S": rng.uniform(0, 0.5, n), "loss": loss})
    return load_runs(frame, features="D,N,G,S")


def _ctx(table):
    return _Context(table.features, Roles.infer(table.features), table.ranges(), float(table.y.min()),
                    float(np.median(table.y)))


@pytest.mark.slow
def test_grammar_recovers_planted_chinchilla_within_bootstrap_intervals(chinchilla_with_distractors):
    table = chinchilla_with_distractors
    cands = GrammarEngine(max_depth=2, n_jobs=1).search(table)
    top = cands[0]
    # the plain form wins on BIC: no block in G or S earns its constants
    assert top.raw == "power law in N, data term in D"
    assert {s.name for s in top.law.expr.free_symbols} == {"E0", "A", "alpha", "B", "beta", "N", "D"}
    fit = fit_law(top.law, table, bootstrap=200, seed=0, initial=[dict(top.start)])
    for name, true in TRUTH.items():
        lo, hi = fit.intervals[name]
        assert lo <= true <= hi, (name, true, lo, hi)
        assert fit.values[name] == pytest.approx(true, rel=0.25)


def test_forms_carry_physical_signs(chinchilla_with_distractors):
    ctx = _ctx(chinchilla_with_distractors)
    law, neutral, alts = build(Form(("N",), "D", (Block("qhook", "G"), Block("additive", "S"))), ctx)
    bounds = {p.name: p.bounds for p in law.params}
    assert bounds["E0"][0] == 0 and bounds["A"][0] > 0 and bounds["B"][0] > 0
    assert bounds["alpha"][0] > 0 and bounds["beta"][0] > 0  # the loss falls with size and data
    assert bounds["h_G"][0] == 0 and bounds["k_S"][0] == 0  # hooks are minima
    # at its neutral start a child equals its parent: the blocks are the identity there
    parent, pstart, _ = build(Form(("N",), "D"), ctx)
    point = {"N": 3e8, "D": 1e10, "G": 4.0, "S": 0.2}
    child = law.compiled([{**neutral, "h_G": 0.0, **pstart}[p] for p in law.param_names],
                         [np.array([point[v]]) for v in law.variables])
    par = parent.compiled([pstart[p] for p in parent.param_names], [np.array([point[v]]) for v in parent.variables])
    assert child[0] == pytest.approx(par[0], rel=1e-12)
    assert len(alts) == 4  # two other hook centres for each of the two hooks


def test_expansion_offers_each_block_once(chinchilla_with_distractors):
    ctx = _ctx(chinchilla_with_distractors)
    (base,) = base_forms(ctx)
    kids = expand(base, ctx)
    tags = [k.key() for k in kids]
    assert len(tags) == len(set(tags))
    assert any("qhook(G)" in t for t in tags) and any("additive(S)" in t for t in tags)
    assert any("sat(G)" in t for t in tags)  # G >= 1 is a count: a saturating block applies
    assert not any("sat(S)" in t for t in tags)  # S is a ratio in [0, 1): it does not
    grown = Form(base.model, base.data, (Block("hook", "G"),))
    assert not any(k.key().count("(G)") > 1 and "exponent" not in k.key() and "additive" not in k.key()
                   for k in expand(grown, ctx))


def test_a_fixed_hook_can_start_to_move():
    """A form with a fixed hook in a log-scale variable expands into the same form with that hook's centre
    moving with size and data (from the parent's optimum): a fixed hook often wins the first depth."""
    from lawfind.designs import LITERATURE, design, design_table

    law = next(x for x in LITERATURE if x.name == "lr_bsz")
    table = load_runs(design_table(law, design("ladder7"), seed=0), features=",".join(law.features))
    ctx = _ctx(table)
    (base,) = base_forms(ctx)
    fixed = Form(base.model, base.data, (Block("additive", "lr"),))
    keys = [k.key() for k in expand(fixed, ctx)]
    assert "N|D|mhook(lr moving with N and D)" in keys
    assert not any("additive(lr)" in k and "mhook(lr" in k for k in keys)


@pytest.mark.slow
def test_engine_is_reproducible_and_parallel_invariant(chinchilla_with_distractors):
    a = GrammarEngine(max_depth=1, n_jobs=1, seed=3).search(chinchilla_with_distractors)
    b = GrammarEngine(max_depth=1, n_jobs=2, seed=3).search(chinchilla_with_distractors)
    assert [c.raw for c in a] == [c.raw for c in b]
    assert [sp.srepr(c.law.expr) for c in a] == [sp.srepr(c.law.expr) for c in b]
    assert all(np.isclose(a[i].start[k], b[i].start[k], rtol=1e-10) for i in range(len(a)) for k in a[i].start)


def test_forms_are_checked_as_far_out_as_asked(chinchilla_with_distractors, monkeypatch):
    """--extrapolation-factor reaches the grammar's own admissibility check, not only discovery's."""
    import lawfind.search.grammar as grammar

    factors = []

    def recording(*args, **kwargs):
        factors.append(kwargs.get("factor"))
        return check(*args, **kwargs)

    check = grammar.check_admissible
    monkeypatch.setattr(grammar, "check_admissible", recording)
    GrammarEngine(max_depth=0, n_jobs=1, factor=7.0).search(chinchilla_with_distractors)
    assert factors and set(factors) == {7.0}


def _candidate_with(cands, tag: str):
    """The best-by-BIC candidate (the engine returns them best first) whose form has a block ``tag``."""
    return next(c for c in cands if tag in c.raw)


def test_a_mixture_with_zero_proportions_is_fitted_exp_linear():
    # Ye et al. 2024's data-mixing law on three domains whose proportions sum to one, zeros included
    rng = np.random.default_rng(5)
    weights = rng.dirichlet([0.6, 0.6, 0.6], 60)
    weights[rng.random((60, 3)) < 0.2] = 0.0
    weights = weights / weights.sum(axis=1, keepdims=True)
    weights = weights[np.isfinite(weights).all(axis=1)]
    truth = lambda w: 2.1 + 0.9 * np.exp(-1.6 * w[:, 0] + 0.4 * w[:, 1])  # noqa: E731
    frame = pd.DataFrame(weights, columns=["proportion_web", "proportion_code", "proportion_books"])
    frame["loss"] = truth(weights) * np.exp(rng.normal(0, 0.002, len(frame)))
    assert (frame[["proportion_web", "proportion_code", "proportion_books"]] == 0).any().all()
    table = load_runs(frame, features="proportion_web,proportion_code,proportion_books")
    cands = GrammarEngine(max_depth=2, n_jobs=1).search(table)
    top = cands[0]
    assert "mix(proportions)" in top.raw
    # the last proportion is the others' complement: no coefficient of its own
    assert {s.name for s in top.law.expr.free_symbols} >= {"t_proportion_web", "t_proportion_code"}
    assert "t_proportion_books" not in {s.name for s in top.law.expr.free_symbols}
    fit = fit_law(top.law, table, seed=0, initial=[dict(top.start)])
    new = rng.dirichlet([1, 1, 1], 20)
    new[:5, 2] = 0.0
    new = new / new.sum(axis=1, keepdims=True)
    pred = fit.predict(load_runs(pd.DataFrame(new, columns=table.features).assign(loss=1.0),
                                 features=",".join(table.features)))
    assert np.max(np.abs(pred / truth(new) - 1)) < 0.01


def test_repeated_data_is_found_as_effective_data():
    # Muennighoff et al. 2023: U unique tokens repeated D/U times are worth U (1 + R* (1 - exp(-(D/U - 1)/R*)))
    rng = np.random.default_rng(8)
    n = 240
    N = 10 ** rng.uniform(7.5, 9.0, n)
    U = 10 ** rng.uniform(8.5, 10.0, n)
    D = U * 10 ** rng.uniform(0.0, 2.0, n)
    deff = U * (1 + 12.0 * (1 - np.exp(-(D / U - 1) / 12.0)))
    truth = 1.8 + 400 / N ** 0.34 + 400 / deff ** 0.28
    frame = pd.DataFrame({"params": N, "unique_tokens": U, "tokens": D, "loss": truth * np.exp(rng.normal(0, 0.003, n))})
    table = load_runs(frame, features="N=params,D=tokens,U=unique_tokens")
    assert Roles.of(table).data == ("D", "U")  # the tokens trained on are the data axis, unique tokens after
    cands = GrammarEngine(max_depth=2, n_jobs=1).search(table)
    assert "repeat(D of unique U)" in cands[0].raw
    top = _candidate_with(cands, "repeat(D of unique U)")
    fit = fit_law(top.law, table, seed=0, initial=[dict(top.start)])
    assert fit.values["R_U"] == pytest.approx(12.0, rel=0.3)
    # at 300 epochs, far beyond the data's 100, the saturated prediction holds
    far = load_runs(pd.DataFrame({"N": [3e8], "D": [3e11], "U": [1e9], "loss": [1.0]}), features="N,D,U")
    deff_far = 1e9 * (1 + 12.0 * (1 - np.exp(-299 / 12.0)))
    assert fit.predict(far)[0] == pytest.approx(1.8 + 400 / 3e8 ** 0.34 + 400 / deff_far ** 0.28, rel=0.01)


def test_a_learning_rate_optimum_that_moves_with_size_is_recovered():
    # lr* = exp(c) (N / 3e8)^-0.3: a hook in ln lr whose centre falls with model size
    rng = np.random.default_rng(11)
    n = 400
    N, D = 10 ** rng.uniform(7.5, 9.0, n), 10 ** rng.uniform(9.5, 11.0, n)
    lr = 10 ** rng.uniform(-4.0, -1.5, n)
    centre = np.log(2e-3) - 0.3 * np.log(N / 3e8)
    truth = 1.8 + 400 / N ** 0.34 + 400 / D ** 0.28 + 0.04 * (np.log(lr) - centre) ** 2
    frame = pd.DataFrame({"N": N, "D": D, "lr": lr, "loss": truth * np.exp(rng.normal(0, 0.003, n))})
    table = load_runs(frame, features="N,D,lr")
    cands = GrammarEngine(max_depth=2, n_jobs=1).search(table)
    assert "mhook(lr moving with N and D)" in cands[0].raw
    top = _candidate_with(cands, "mhook(lr moving with N and D)")
    fit = fit_law(top.law, table, seed=0, initial=[dict(top.start)], bootstrap=40)
    lo, hi = fit.intervals["m_lr"]
    assert lo <= -0.3 <= hi and hi - lo < 0.2
    lo, hi = fit.intervals["n_lr"]
    assert lo <= 0.0 <= hi and hi - lo < 0.2
    assert fit.values["k_lr"] == pytest.approx(0.04, rel=0.15)
    # optimize reads the optimum back as a closed form in N and D: lr* = e^c (N/N0)^m (D/D0)^n
    from lawfind.optimize.optima import stationary_point

    best = stationary_point(top.law, fit.values, "lr", ranges=table.ranges(), at={"N": 3e8, "D": 1e10})
    assert best.method == "closed form" and best.kind == "minimum" and set(best.depends_on) == {"N", "D"}
    assert best.value == pytest.approx(2e-3, rel=0.05)
    bigger = stationary_point(top.law, fit.values, "lr", ranges=table.ranges(), at={"N": 3e9, "D": 1e10})
    assert bigger.value / best.value == pytest.approx(10 ** -0.3, rel=0.05)


def test_parallel_width_enlarges_the_model_as_its_log():
    # ParScale: P parallel streams act as a model N (1 + k ln P) large
    rng = np.random.default_rng(13)
    N = np.repeat(10 ** np.linspace(7.5, 9.5, 8), 4)
    P = np.tile([1.0, 2.0, 4.0, 8.0], 8)
    truth = 1.6 + 300 / (N * (1 + 0.4 * np.log(P))) ** 0.3
    frame = pd.DataFrame({"N": N, "P": P, "loss": truth * np.exp(rng.normal(0, 0.002, len(N)))})
    table = load_runs(frame, features="N,P")
    cands = GrammarEngine(max_depth=1, n_jobs=1, decreasing=("P",)).search(table)
    top = _candidate_with(cands, "neff(P)")
    assert top is cands[0]
    fit = fit_law(top.law, table, seed=0, initial=[dict(top.start)])
    assert fit.values["k_P"] == pytest.approx(0.4, rel=0.2) and fit.values["alpha"] == pytest.approx(0.3, rel=0.1)
