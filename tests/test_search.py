"""Search engines and the path from raw expressions to laws."""

from __future__ import annotations

import pandas as pd
import pytest
import sympy as sp

from lawfind.data import load_runs
from lawfind.discovery import select_model
from lawfind.errors import OptionError
from lawfind.forms import complexity, parametrise, refine, structure_key, tidy
from lawfind.search import OperonEngine, PySREngine, julia_status, make_engine
from lawfind.search.pysr import EngineUnavailable, parse_template_equation, template_parts
from lawfind.search.operon import parse_operon
from lawfind.symbols import D, G, N, S, Na

from .conftest import chinchilla_frame


def test_operon_text_maps_inputs_to_log_features():
    expr = parse_operon("(2.5 + (406.0 * exp(((-0.34) * X1))))", [sp.log(N), sp.log(D)])
    assert sp.simplify(expr - (2.5 + 406.0 * N ** -0.34)) == 0


def test_tidy_rewrites_exp_of_logs_as_powers():
    x = sp.Symbol("x")
    assert tidy(sp.exp(-0.34 * sp.log(N) + 0.1 * S)) == N ** -0.34 * sp.exp(0.1 * S)
    assert tidy(3 * sp.exp(2 * sp.log(G) + sp.log(Na))) == 3 * G ** 2 * Na
    assert tidy(x + 1) == x + 1


def test_parametrise_and_structure_key():
    law, start = parametrise(2.5 + 406.0 * N ** -0.34 + 410.0 * D ** -0.28, ["D", "N"])
    assert law.n_params == 5 and sorted(start.values()) == sorted([2.5, 406.0, -0.34, 410.0, -0.28])
    other, _ = parametrise(1.7 + 300.0 * N ** -0.3 + 200.0 * D ** -0.2, ["D", "N"])
    assert structure_key(law) == structure_key(other)
    third, _ = parametrise(1.7 + 300.0 * N ** -0.3, ["N"])
    assert structure_key(third) != structure_key(law)
    assert complexity(N ** 2 + 1) == 5


@pytest.mark.slow
def test_refine_prunes_what_costs_nothing():
    table = load_runs(chinchilla_frame(300, noise=0.005))
    # a spurious factor G-like D**0.0003 on the N term and a tiny constant term: both must go
    raw = 1.69 + 406.0 * N ** -0.34 * D ** 0.0003 + 410.7 * D ** -0.28 + 1e-5 * N ** 0.01
    law, start = parametrise(raw, ["D", "N"])
    ref = refine(law, start, table)
    assert ref.law.n_params <= 5 < law.n_params
    assert abs(ref.fit.predict(table) / table.y - 1).max() < 0.03


def test_engine_options_are_checked():
    with pytest.raises(OptionError, match="optimizer_iterations must be at least 1"):
        OperonEngine(optimizer_iterations=0)
    with pytest.raises(OptionError, match="unknown operator set 'powerlow'.*did you mean 'powerlaw'"):
        OperonEngine(operators="powerlow")
    with pytest.raises(OptionError, match="unknown engine 'operom'.*did you mean 'operon'"):
        make_engine("operom")


def test_operon_search_is_reproducible():
    table = load_runs(chinchilla_frame(120))
    a = OperonEngine(generations=4, population_size=60, seeds=2).search(table)
    b = OperonEngine(generations=4, population_size=60, seeds=2).search(table)
    assert [c.raw for c in a] == [c.raw for c in b] and a
    assert {s.name for c in a for s in c.expr.free_symbols} <= {"N", "D"}


def test_julia_probe_reports_why():
    status = julia_status()
    if status.ok:
        pytest.skip("a working Julia is present: the integration test below runs instead")
    assert "Julia" in status.message or "not installed" in status.message
    with pytest.raises(EngineUnavailable, match="the pysr engine is unavailable"):
        PySREngine().search(load_runs(chinchilla_frame(50)))


def test_pysr_integration():
    status = julia_status()
    if not status.ok:
        pytest.skip(status.message)
    table = load_runs(chinchilla_frame(200))
    cands = PySREngine(niterations=5, populations=4).search(table)
    assert cands and all({s.name for s in c.expr.free_symbols} <= {"N", "D"} for c in cands)


def test_pysr_template_parsing():
    funcs, consts, combine = template_parts("E0 + f(N, Na, D) * g(G, S)", ["D", "N", "Na", "G", "S"])
    assert funcs == ["f", "g"] and consts == ["E0"] and combine == "p[1] + f(lN, lNa, lD) * g(lG, S)"
    text = "f = exp(#1 * -0.3 + #2 * 0.1)\ng = 1.5 + #1 * #1 * 0.2 - #2\np = [1.7]"
    expr = parse_template_equation(text, "E0 + f(N, D) * g(G, S)", ["D", "N", "G", "S"])
    expected = 1.7 + sp.exp(-0.3 * sp.log(N) + 0.1 * sp.log(D)) * (1.5 + 0.2 * sp.log(G) ** 2 - S)
    assert sp.simplify(expr - expected) == 0


def test_model_selection_rules():
    eq = pd.DataFrame({"complexity": [5, 9, 15, 30], "n_params": [2, 4, 6, 12], "loss": [0.05, 0.012, 0.0100, 0.0098],
                       "loss_se": [0.004, 0.001, 0.0008, 0.0008], "score": [0.0, 0.36, 0.03, 0.001]})
    assert select_model(eq, "accuracy") == 3
    assert select_model(eq, "score") == 1
    assert select_model(eq, "best") == 1  # 0.012 <= sqrt(1.5) * 0.0098 and the highest score
    assert select_model(eq, "1se") == 2  # fewest constants within 0.0098 + 0.0008
    with pytest.raises(OptionError, match="did you mean 'best'"):
        select_model(eq, "bets")


def test_one_parser_reads_engine_output_and_lawfinds_own_text():
    import sympy as sp

    from lawfind.search.parse import parse_operon, parse_pysr, parse_text
    from lawfind.symbols import symbol

    N, D = symbol("N"), symbol("D")
    # pyoperon's X1, X2 are the engine inputs log(N), log(D); ^ is a power; its own functions are known
    expr = parse_operon("1.69 + exp(-0.34 * X1) * 406.4 + square(X2) ^ 1", [sp.log(N), sp.log(D)])
    assert expr == sp.Float("1.69") + sp.Float("406.4") * N ** sp.Float("-0.34") + sp.log(D) ** 2
    assert parse_pysr("exp(lN * -0.5) * S", {"N": "lN", "S": "S"}) == N ** sp.Float("-0.5") * symbol("S")
    # names sympy would read as its own objects (E, S, beta) stay symbols in lawfind's text
    assert parse_text("E + beta*S").free_symbols == {sp.Symbol("E"), sp.Symbol("beta"), sp.Symbol("S")}
    with pytest.raises(ValueError, match="cannot read the expression"):
        parse_text("1 +* 2")
