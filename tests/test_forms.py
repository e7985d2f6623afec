"""From an engine's raw expression to a readable, refitted law: tidy, parametrise, refine, keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from lawfind.data import load_runs
from lawfind.forms import complexity, parametrise, refine, structure_key, tidy

N, D = sp.symbols("N D", positive=True)


def test_tidy_writes_exponentials_of_logs_as_powers():
    x = sp.Float(0.34)
    assert tidy(sp.exp(-x * sp.log(N))) == N ** -x
    assert tidy(sp.exp(2 + sp.log(N))) == sp.exp(2) * N
    assert tidy(sp.exp(sp.log(N) + sp.log(D))) == N * D


def test_complexity_counts_nodes():
    assert complexity(N) == 1 and complexity(N + D) == 3 and complexity(2 * N ** 3) > complexity(N ** 3)


def test_parametrise_turns_each_number_into_a_started_parameter():
    law, start = parametrise(sp.Float(1.7) + sp.Float(400.0) * N ** sp.Float(-0.34), ["N", "D"])
    assert law.variables == ("N",) and len(law.params) == 3
    assert sorted(start.values()) == [-0.34, 1.7, 400.0]
    assert law.substitute(start).equals(1.7 + 400 * N ** -0.34)
    spec = {p.name: p for p in law.params}
    positive = next(n for n, v in start.items() if v == 400.0)
    assert spec[positive].log_scale and spec[positive].init == (200.0, 800.0)


def test_structure_key_ignores_names_and_values():
    a, _ = parametrise(sp.Float(1.7) + sp.Float(400.0) / N ** sp.Float(0.34), ["N"])
    b, _ = parametrise(sp.Float(2.1) + sp.Float(90.0) / N ** sp.Float(0.2), ["N"])
    c, _ = parametrise(sp.Float(2.1) + sp.Float(90.0) / D ** sp.Float(0.2), ["D"])
    assert structure_key(a) == structure_key(b) != structure_key(c)


def test_refine_prunes_a_useless_term_and_keeps_the_law():
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame({"N": 10 ** rng.uniform(7, 10, n), "D": 10 ** rng.uniform(9, 11, n)})
    frame["loss"] = (1.7 + 400 * frame.N ** -0.34) * np.exp(rng.normal(0, 0.003, n))
    table = load_runs(frame)
    raw = sp.Float(1.7) + sp.Float(400.0) * N ** sp.Float(-0.34) + sp.Float(1e-4) * sp.log(D)
    law, start = parametrise(raw, ["N", "D"])
    refined = refine(law, start, table, n_starts=2)
    assert refined.law.variables == ("N",)  # the D term, worth nothing, is gone
    assert refined.fit.n_params == 3 and refined.bic < np.inf
    values = sorted(refined.fit.values.values())
    assert values[1] == pytest.approx(1.7, rel=0.02) and values[2] == pytest.approx(400, rel=0.3)
