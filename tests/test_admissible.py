"""Admissibility: the shape every scaling law has, checked on fitted laws."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from lawfind import catalog, load_runs, parse_law
from lawfind.admissible import Reason, Roles, Verdict, check_admissible
from lawfind.errors import LawfindWarning, OptionError


@pytest.fixture(scope="module")
def moe_table():
    """A generic MoE design (LLM-sized ranges) to check laws over; the loss values play no part."""
    rng = np.random.default_rng(0)
    n = 300
    N = 10 ** rng.uniform(8, 10, n)
    G = rng.choice([1, 2, 4, 8, 16], n).astype(float)
    frame = pd.DataFrame({"D": 10 ** rng.uniform(10, 12, n), "N": N, "Na": N * rng.uniform(0.05, 0.6, n), "G": G,
                          "S": rng.uniform(0, 0.5, n), "E": G * rng.choice([1, 4, 16, 32], n), "loss": 2.5})
    return load_runs(frame, features="D,N,Na,G,S,E")


CHINCHILLA = dict(E0=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28)


def verdict(formula, values, table, **kw):
    law = parse_law(formula, table.features)
    return check_admissible(law, values, table, **kw)


def test_a_planted_law_is_admissible_and_its_limit_is_e0(moe_table):
    v = verdict("E0 + A/N**alpha + B/D**beta", CHINCHILLA, moe_table)
    assert v.ok and v.reasons == ()
    assert v.limit == pytest.approx(1.69, rel=1e-5) and v.method == "sympy"


@pytest.mark.parametrize("formula, values, category", [
    # the loss goes to minus infinity as N grows
    ("c0 - c1*log(N) + B/D**beta", dict(c0=9.0, c1=0.05, B=410.7, beta=0.28), "unbounded below"),
    # a larger model is worse
    ("E0 + A*N**0.1 + B/D**beta", dict(E0=1.69, A=0.005, B=410.7, beta=0.28), "rises with size"),
    # a data term that falls over the data, then turns upward past it (minimum at D = e^37.5 = 2e16)
    ("E0 + A/N**alpha + B*exp(c*log(D)**2 - d*log(D))", dict(E0=1.69, A=406.4, alpha=0.34, B=410.7, c=0.01,
                                                              d=0.75), "rises with data"),
    # positive on the data and 100x beyond, but tends to -0.05
    ("E0 + A/N**alpha + B/D**beta", dict(E0=-0.05, A=406.4, alpha=0.34, B=410.7, beta=0.28), "unbounded below"),
    # negative inside the data
    ("E0 + A/N**alpha + B/D**beta", dict(E0=-1.0, A=406.4, alpha=0.34, B=410.7, beta=0.28), "not positive"),
    # a term that dies out within a factor of two of size: it fits the smallest runs, not a scaling
    ("E0 + A/N**alpha + B/D**beta + K/N**k", dict(E0=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28, K=1e150,
                                                 k=20.6), "implausible exponent"),
])
def test_inadmissible_forms_are_rejected(moe_table, formula, values, category):
    v = verdict(formula, values, moe_table)
    assert not v.ok
    assert v.category == category, v.reasons


def test_the_upward_turn_past_the_data_is_found_numerically(moe_table):
    # within the data the D term falls: the turn lies between 100x the data and far beyond
    law = "E0 + A/N**alpha + B*exp(c*log(D)**2 - d*log(D))"
    vals = dict(E0=1.69, A=406.4, alpha=0.34, B=410.7, c=0.01, d=0.75)
    v = check_admissible(parse_law(law, moe_table.features), vals, moe_table, symbolic=False)
    assert not v.ok and "far beyond the data" in v.reason
    # the far-out check names the variable that rises, in the text and in the reason's code
    assert v.code is Reason.RISES_WITH_DATA and v.reason.startswith("rises with D:")
    # a size term that turns upward far out is told apart from a data term
    size_turn = "E0 + A*exp(c*log(N)**2 - d*log(N)) + B/D**beta"
    v = check_admissible(parse_law(size_turn, moe_table.features), dict(E0=1.69, A=406.4, c=0.008, d=0.75,
                                                                        B=410.7, beta=0.28), moe_table, symbolic=False)
    assert v.code is Reason.RISES_WITH_SIZE and v.reason.startswith("rises with N:"), v.reasons


def test_rises_with_data_names_the_variable(moe_table):
    v = verdict("E0 + A/N**alpha + B*D**beta", dict(E0=1.69, A=406.4, alpha=0.34, B=1e-3, beta=0.1), moe_table)
    assert v.category == "rises with data"


def test_every_reason_is_a_code_beside_its_text(moe_table):
    v = verdict("E0 + A/N**alpha + B/D**beta", dict(E0=-1.0, A=406.4, alpha=0.34, B=410.7, beta=0.28), moe_table)
    assert v.codes == (Reason.NOT_POSITIVE,) and v.category == Reason.NOT_POSITIVE.label == "not positive"
    ok = verdict("E0 + A/N**alpha + B/D**beta", CHINCHILLA, moe_table)
    assert ok.codes == () and ok.code is None and ok.category == ""
    failed = Verdict.failed("FitError: no finite start")
    assert not failed.ok and failed.code is Reason.FAILED_TO_FIT
    assert failed.reason == "failed to fit: FitError: no finite start"
    with pytest.raises(ValueError, match="one Reason per reason"):
        Verdict(False, ("not finite: at N=1",), None, "numeric")


def test_the_symbolic_check_runs_off_the_main_thread(moe_table):
    # SIGALRM cannot be set outside the main thread: sympy's limit must still be taken there
    out = {}
    worker = threading.Thread(target=lambda: out.update(v=verdict("E0 + A/N**alpha + B/D**beta", CHINCHILLA,
                                                                  moe_table)))
    worker.start()
    worker.join(60)
    v = out["v"]
    assert v.ok and v.method == "sympy" and v.limit == pytest.approx(1.69, rel=1e-5)


def test_a_symbolic_check_past_its_time_limit_off_the_main_thread_leaves_the_numeric_verdict(moe_table, monkeypatch):
    import lawfind.admissible as adm

    from sympy.core.cache import clear_cache

    clear_cache()  # an earlier test's limit of the same law, cached, would answer within any time limit
    real = adm._symbolic
    monkeypatch.setattr(adm, "_symbolic", lambda *a, **k: real(*a, **{**k, "timeout": 1e-6}))
    out = {}
    worker = threading.Thread(target=lambda: out.update(v=verdict("E0 + A/N**alpha + B/D**beta", CHINCHILLA,
                                                                  moe_table)))
    worker.start()
    worker.join(60)
    assert out["v"].ok and out["v"].method == "numeric" and out["v"].limit is None


def test_hooks_in_shape_variables_are_allowed(moe_table):
    # a hook in G and in S, and a hook in the activation ratio Na/N: non-monotonic, admissible
    law = "E0 + A*Na**(-alpha)*(1 + h*(log(G) - g0)**2)*(1 + k*(log(Na/N) + 1.6)**2) + B/D**beta + c*(S - 0.3)**2"
    vals = dict(E0=1.7, A=50.0, alpha=0.24, h=0.04, g0=1.8, k=0.03, B=350.0, beta=0.27, c=0.12)
    assert verdict(law, vals, moe_table).ok


def test_a_hook_that_grows_with_size_is_caught(moe_table):
    # exp((ln G - m ln N)^2) grows faster than any power of N: at fixed G the loss rises with N; at the
    # best G (ln G* = g0 + m ln(N/1e9), an optimum that moves with size) it falls, and that is the law's
    # shape. Where the loss at the best G rises too (the hook's floor grows with N), it is caught.
    law = "E0 + A*Na**(-alpha)*exp(k*(log(G) - m*log(N/1e9) - g0)**2) + B/D**beta"
    vals = dict(E0=1.7, A=50.0, alpha=0.24, k=0.05, m=0.3, g0=1.5, B=350.0, beta=0.27)
    assert verdict(law, vals, moe_table).ok
    floor = "E0 + A*Na**(-alpha)*exp(k*(log(G) - m*log(N/1e9) - g0)**2 + q*log(N)) + B/D**beta"
    v = verdict(floor, {**vals, "q": 0.3}, moe_table)
    assert not v.ok and v.category in ("rises with size", "not finite")


def test_declared_decreasing_columns():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"dense_parameter_count": 10 ** rng.uniform(7, 9, 60), "num_experts": rng.choice([1, 8, 64], 60),
                          "loss": 3.0})
    table = load_runs(frame, features="dense_parameter_count,num_experts")
    law = parse_law("c + a*dense_parameter_count**0.05", table.features)
    vals = dict(c=1.0, a=0.1)
    # a parameter count is a size by its name; declared a hook, the rise is allowed
    assert check_admissible(law, vals, table).category == "rises with size"
    assert check_admissible(law, vals, table, Roles.of(table, declared={"dense_parameter_count": "hook"})).ok
    roles = Roles.infer(table.features, ["dense_parameter_count"])
    assert roles.size == ("dense_parameter_count",) and roles.shape == ("num_experts",)
    v = check_admissible(law, vals, table, roles)
    assert v.category == "rises with size"
    # a canonical name mapped onto the column carries its role
    mapped = load_runs(frame, features="N=dense_parameter_count,E=num_experts")
    assert Roles.infer(mapped.features).size == ("N",)
    with pytest.raises(OptionError, match="did you mean 'dense_parameter_count'"):
        Roles.infer(table.features, ["dense_parameter_cont"])


REFERENCE = [n for n in catalog.names() if set(catalog.get(n).param_names) <= set(catalog.get(n).reference)]


@pytest.mark.parametrize("name", REFERENCE)
def test_catalogue_laws_at_their_reference_constants(moe_table, name):
    law = catalog.get(name)
    v = check_admissible(law, dict(law.reference), moe_table)
    assert v.ok, v.reasons
    assert v.limit is None or v.limit >= 0


def test_which_catalogue_laws_lack_reference_constants():
    # these cannot be checked at published constants (the papers do not give all of them): they are
    # checked after fitting, like every discovered law
    assert set(catalog.names()) - set(REFERENCE) == {"clark2022_bilinear", "clark2022_separable", "sldbench_moe",
                                                     "abnar2025", "tian2025", "lawfind_moe5"}


# -- roles for any column, plausibility without roles, targets of any sign ----------------------------

def _frame(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


def test_roles_from_names_declared_roles_and_the_line():
    rng = np.random.default_rng(0)
    frame = _frame(params=10 ** rng.uniform(7, 9, 40), tokens=10 ** rng.uniform(9, 11, 40),
                   num_experts=rng.choice([1, 8, 64], 40), lr=10 ** rng.uniform(-4, -2, 40), loss=3.0)
    table = load_runs(frame, features="N=params,tokens,num_experts,lr")
    roles = Roles.of(table)
    assert (roles.size, roles.data, roles.shape, roles.free) == (("N",), ("tokens",), ("num_experts", "lr"), ())
    assert roles.line() == "roles: size N (params); data tokens; hooks num_experts, lr; free -"
    declared = Roles.of(table, declared={"params": "hook", "lr": "free", "num_experts": "size"})
    assert (declared.size, declared.data, declared.shape, declared.free) == \
        (("num_experts",), ("tokens",), ("N",), ("lr",))
    with pytest.raises(OptionError, match="--role names 'tokns'.*did you mean 'tokens'"):
        Roles.of(table, declared={"tokns": "data"})
    with pytest.raises(OptionError, match="unknown role 'sise'.*did you mean 'size'"):
        Roles.of(table, declared={"tokens": "sise"})


def _sparsity_like(seed: int = 0):
    """Columns whose names give no role: a ratio P and two widths X1, X2 (log scale, positive)."""
    rng = np.random.default_rng(seed)
    frame = _frame(P=rng.uniform(1.5, 12, 60), X1=rng.uniform(0.015, 0.3, 60), X2=rng.uniform(1.1, 4.6, 60), loss=3.0)
    return load_runs(frame, features="P,X1,X2")


def test_no_role_warns_and_still_checks_plausibility():
    table = _sparsity_like()
    roles = Roles.of(table)
    assert roles.unconstrained
    with pytest.warns(LawfindWarning, match="no column has a size or data role"):
        roles.warn_if_unconstrained()
    # a power beyond the limit in a column without a role
    law = parse_law("c + a*X1**16.8", table.features)
    assert check_admissible(law, dict(c=2.5, a=1.0), table).category == "implausible exponent"
    # a log term falls without bound as its column grows: set aside, though within the data it is fine
    law = parse_law("c - b*log(X2)", table.features)
    v = check_admissible(law, dict(c=3.0, b=0.09), table)
    assert v.category == "unbounded below" and "X2" in v.reason
    # the same with a saturation (a power law) is bounded: kept
    law = parse_law("c + b/X2**0.3", table.features)
    assert check_admissible(law, dict(c=2.5, b=0.5), table).ok
    # declared free, the column is not checked at all
    law = parse_law("c - b*log(X2)", table.features)
    assert check_admissible(law, dict(c=3.0, b=0.09), table, Roles.of(table, declared={"X2": "free"})).ok


def test_a_hook_variable_that_lowers_the_loss_without_bound_is_set_aside():
    rng = np.random.default_rng(2)
    frame = _frame(N=10 ** rng.uniform(7, 9, 60), D=10 ** rng.uniform(9, 11, 60), E=rng.choice([1, 4, 16, 64], 60),
                   loss=3.0)
    table = load_runs(frame, features="N,D,E")
    base = "E0 + A/N**0.3 + B/D**0.3"
    vals = dict(E0=1.8, A=50.0, B=400.0, c=0.02)
    assert check_admissible(parse_law(base + " - c*log(E)", table.features), vals, table).category == "unbounded below"
    assert check_admissible(parse_law(base + " + c/E**0.5", table.features), vals, table).ok  # saturates
    assert check_admissible(parse_law(base + " + c*log(E)**2", table.features), vals, table).ok  # a hook


def test_a_negative_target_needs_no_positivity_only_a_bounded_fall():
    rng = np.random.default_rng(3)
    N, D = 10 ** rng.uniform(7, 9, 50), 10 ** rng.uniform(9, 11, 50)
    table = load_runs(_frame(N=N, D=D, loss=-3 + 200 / N ** 0.3 + 100 / D ** 0.2), features="N,D")
    assert table.scale == "linear"
    law = parse_law("E + A/N**alpha + B/D**beta", table.features, params=("E",))
    v = check_admissible(law, dict(E=-3.0, A=200.0, alpha=0.3, B=100.0, beta=0.2), table)
    assert v.ok and v.limit == pytest.approx(-3.0, rel=1e-4)
    # a log fall in data is unbounded below on any scale
    law = parse_law("E + A/N**alpha - b*log(D)", table.features, params=("E",))
    assert check_admissible(law, dict(E=-3.0, A=200.0, alpha=0.3, b=0.01), table).category == "unbounded below"
    # rising with size is refused on the linear scale too
    law = parse_law("E + A*N**alpha", table.features, params=("E",))
    assert check_admissible(law, dict(E=-3.0, A=0.01, alpha=0.1), table).category == "rises with size"


def test_a_hook_whose_optimum_moves_with_size_is_judged_at_its_optimum():
    # lr* ~ N^-0.3: at a fixed learning rate the loss of a larger model rises (its lr is now too
    # high), but at the best learning rate it falls; a rise at every learning rate is still refused
    rng = np.random.default_rng(2)
    n = 120
    frame = pd.DataFrame({"N": 10 ** rng.uniform(7.5, 9.0, n), "D": 10 ** rng.uniform(9.5, 11.0, n),
                          "lr": 10 ** rng.uniform(-4.0, -1.5, n), "loss": 3.0})
    table = load_runs(frame, features="N,D,lr")
    base = dict(E0=1.8, A=400.0, a=0.34, B=400.0, b=0.28, k=0.04, c=float(np.log(2e-3)))
    moving = parse_law("E0 + A/N**a + B/D**b + k*(log(lr) - c - m*log(N/3e8))**2", variables=("N", "D", "lr"))
    verdict = check_admissible(moving, {**base, "m": -0.3}, table, symbolic=False)
    assert verdict.ok, verdict.reasons
    rising = parse_law("E0 + A/N**a + B/D**b + k*(log(lr) - c)**2 + z*log(N)", variables=("N", "D", "lr"))
    verdict = check_admissible(rising, {**base, "z": 0.01}, table, symbolic=False)
    assert not verdict.ok and verdict.codes == (Reason.RISES_WITH_SIZE,)
    # a hook that moves the wrong way for the data: its best value falls as D grows, but the loss at it
    # rises with D (the hook's curvature grows with D)
    widening = parse_law("E0 + A/N**a + B/D**b + k*(D/1e10)**0.5*(log(lr) - c - n*log(D/1e10))**2 + z*log(D)",
                         variables=("N", "D", "lr"))
    verdict = check_admissible(widening, {**base, "n": -0.2, "z": 0.02}, table, symbolic=False)
    assert not verdict.ok and Reason.RISES_WITH_DATA in verdict.codes


def test_an_optimum_that_moves_out_of_the_swept_range_is_no_rise():
    """The Step law's learning-rate optimum, lr* ~ N^-0.71 D^0.31, leaves the swept learning rates far
    along the size-and-data ray; the loss at the best learning rate (searched as far as the optimum can
    move) still falls, so the planted law is admissible, and one whose loss truly rises with N is not."""
    from lawfind.designs import LITERATURE, design, design_table

    planted = next(x for x in LITERATURE if x.name == "lr_bsz")
    table = load_runs(design_table(planted, design("ladder7"), seed=0), features=",".join(planted.features))
    law = parse_law("E0 + A/N**alpha + B/D**beta + h1*(log(lr) - log(c1*N**(-m1)*D**n1))**2", ["N", "D", "lr"])
    values = {k: planted.values[k] for k in law.param_names}
    assert check_admissible(law, values, table, Roles.of(table), symbolic=False).ok
    rising = parse_law("E0 + A/N**alpha + B/D**beta + h1*(log(lr) - log(c1*N**(-m1)*D**n1))**2 + q*log(N)",
                       ["N", "D", "lr"])
    verdict = check_admissible(rising, {**values, "q": 0.01}, table, Roles.of(table), symbolic=False)
    assert not verdict.ok and Reason.RISES_WITH_SIZE in verdict.codes
