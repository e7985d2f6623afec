"""The catalogue: every law is well-formed and cited; Clark's law refits the published data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from lawfind import catalog
from lawfind.data import load_runs
from lawfind.errors import OptionError
from lawfind.export import latex
from lawfind.fit import fit_law

from .conftest import CLARK_FINAL

LAWS_MD = {"a": -0.0838, "b": -0.124, "c": 0.0105, "d": 1.122, "E_start": 2.41, "E_max": 213.0}


POINTS = {"N": [1e9, 3e9], "Na": [2e8, 1e9], "D": [2e10, 1e11], "G": [4.0, 8.0], "S": [0.2, 0.3], "E": [8.0, 64.0]}


def _ehat(E, start, end):
    """Clark's (and Tian's) saturating transform: 1/x^ = 1/(x + (1/start - 1/end)^-1) + 1/end."""
    return 1 / (1 / (E + 1 / (1 / start - 1 / end)) + 1 / end)


def _clark(p, x):
    """Clark et al. 2022: log10 L = a log10 N + b log10 Ehat + c log10 N log10 Ehat + d."""
    logn, loge = np.log10(x["N"]), np.log10(_ehat(x["E"] - 1, p["E_start"], p["E_max"]))
    return 10 ** (p["a"] * logn + p["b"] * loge + p["c"] * logn * loge + p["d"])


def _ludziejewski(p, x):
    """Ludziejewski et al. 2025: L = a E^delta Na^-(alpha + gamma ln E) + b E^omega D^-(beta + zeta ln E) + c."""
    loge = np.log(x["E"])
    return (p["a"] * x["E"] ** p["delta"] * x["Na"] ** -(p["alpha"] + p["gamma"] * loge)
            + p["b"] * x["E"] ** p["omega"] * x["D"] ** -(p["beta"] + p["zeta"] * loge) + p["c"])


def _tian(p, x):
    """Tian et al. 2025: L = K (EL C)^-beta_C, C = 6 Na D, EL = Ahat^(a + d ln C + gamma ln^2 G + beta ln G)."""
    C, logg = 6 * x["Na"] * x["D"], np.log(x["G"])
    el = _ehat(x["Na"] / x["N"], p["A_start"], p["A_max"]) ** (p["a"] + p["d"] * np.log(C) + p["gamma"] * logg ** 2
                                                              + p["beta"] * logg)
    return p["K"] * (el * C) ** -p["beta_C"]


#: Each law written out again in numpy from its paper's formula (the docstrings in lawfind/catalog.py),
#: independently of the sympy expression: ``p`` the constants, ``x`` the variables.
BY_HAND = {
    "kaplan2020": lambda p, x: ((p["N_c"] / x["N"]) ** (p["alpha_N"] / p["alpha_D"]) + p["D_c"] / x["D"])
    ** p["alpha_D"],
    "chinchilla2022": lambda p, x: p["E0"] + p["A"] / x["N"] ** p["alpha"] + p["B"] / x["D"] ** p["beta"],
    "clark2022": _clark,
    "clark2022_bilinear": lambda p, x: 10 ** (p["a"] * np.log10(x["N"]) + p["b"] * np.log10(x["E"])
                                              + p["c"] * np.log10(x["N"]) * np.log10(x["E"]) + p["d"]),
    "clark2022_separable": lambda p, x: 10 ** (p["a"] * np.log10(x["N"]) + p["b"] * np.log10(x["E"]) + p["d"]),
    "sldbench_moe": lambda p, x: p["L0"] + p["K"] * x["N"] ** -p["a"] * x["E"] ** -p["b"],
    "krajewski2024": lambda p, x: (p["c"] + (p["g"] / x["G"] ** p["gamma"] + p["a"]) / x["N"] ** p["alpha"]
                                   + p["b"] / x["D"] ** p["beta"]),
    "ludziejewski2025": _ludziejewski,
    "abnar2025": lambda p, x: (p["a"] / x["N"] ** p["alpha"] + p["b"] / x["D"] ** p["beta"]
                               + p["c"] / (x["G"] / x["E"]) ** p["lambda_"]
                               + p["d"] / ((x["G"] / x["E"]) ** p["delta"] * x["N"] ** p["gamma"]) + p["e"]),
    "tian2025": _tian,
    "lawfind_moe5": lambda p, x: (p["E0"] + p["A"] * x["Na"] ** -p["alpha"] * (x["N"] / x["Na"]) ** -p["rho"]
                                  * np.exp(p["g1"] * np.log(x["G"]) + p["g2"] * np.log(x["G"]) ** 2 + p["s1"] * x["S"]
                                           + p["s2"] * x["S"] ** 2) + p["B"] * x["D"] ** -p["beta"]),
}


def test_every_law_is_written_out_by_hand():
    assert sorted(BY_HAND) == sorted(catalog.names())


@pytest.mark.parametrize("name", catalog.names())
def test_every_law_is_cited_tagged_and_predicts_what_its_formula_says(name):
    law = catalog.get(name)
    assert law.citation and law.certainty in {"seen", "notes", "memory", "ours"}
    assert f"[{law.certainty}" in (catalog.CATALOG[name].__doc__ or "")
    theta = {p.name: law.reference.get(p.name, np.sqrt(p.init[0] * p.init[1]) if p.log_scale else np.mean(p.init))
             for p in law.params}
    X = [np.array(POINTS[v]) for v in law.variables]
    pred = law.compiled([theta[p] for p in law.param_names], X)
    assert pred.shape == (2,) and np.isfinite(pred).all() and (pred > 0).all(), pred
    # the compiled law equals the paper's formula evaluated by hand, point by point
    expected = BY_HAND[name](theta, {v: np.array(POINTS[v]) for v in POINTS})
    assert pred == pytest.approx(expected, rel=1e-10)
    assert latex(law).startswith("L = ")


def test_chinchilla_prediction_by_hand():
    law = catalog.get("chinchilla2022")
    ref = law.reference
    pred = law.compiled([ref[p] for p in law.param_names], [np.array([1e9]), np.array([2e10])])
    assert pred[0] == pytest.approx(1.69 + 406.4 / 1e9 ** 0.34 + 410.7 / 2e10 ** 0.28, rel=1e-12)
    assert pred[0] == pytest.approx(2.5800, abs=1e-4)


def test_unknown_law_did_you_mean():
    with pytest.raises(OptionError, match="no law 'chinchila' in the catalogue.*did you mean 'chinchilla2022'"):
        catalog.get("chinchila")


def _clark(path, router):
    return load_runs(path, target="loss_validation", features="N=dense_parameter_count,E=num_experts",
                     where=f"{CLARK_FINAL} and router_type in ['{router}', 'Dense']")


@pytest.mark.slow
def test_clark_refit_per_router_type(clark_path):
    """The shared copy omits the 1.3B runs, so the LAWS.md constants (fitted with them) are matched to
    within a few percent, not to two significant figures; the full file is checked below."""
    fits = {r: fit_law(catalog.get("clark2022"), _clark(clark_path, r), loss="lsq", n_starts=64)
            for r in ("S-Base", "RL-R", "Hash")}
    sbase = fits["S-Base"].values
    # measured on the shared copy: a -0.0861, b -0.114, c 0.0093, d 1.139, E_start 2.37, E_max 233
    for name, ref in LAWS_MD.items():
        assert abs(sbase[name] - ref) <= 0.12 * abs(ref), f"{name}: {sbase[name]} vs {ref}"
    # all routers share Clark's qualitative finding: experts help, less so for larger models (c > 0)
    for r, f in fits.items():
        assert f.converged and f.values["b"] < 0 < f.values["c"], r
    # Hash routing benefits least from experts at 370M (its saturation comes earliest)
    assert fits["Hash"].values["E_start"] > fits["S-Base"].values["E_start"]


@pytest.mark.skipif(not os.environ.get("LAWFIND_CLARK_FULL"), reason="set LAWFIND_CLARK_FULL to the original "
                    "curves.csv.gz (with the 1.3B runs) to check the LAWS.md constants to two figures")
def test_clark_refit_full_file_two_significant_figures():
    t = _clark(Path(os.environ["LAWFIND_CLARK_FULL"]), "S-Base")
    fit = fit_law(catalog.get("clark2022"), t, loss="lsq", n_starts=64)
    for name, ref in LAWS_MD.items():
        half_unit = 0.5 * 10 ** (np.floor(np.log10(abs(ref))) - 1)  # half a unit in the second figure
        assert abs(fit.values[name] - ref) <= half_unit, f"{name}: {fit.values[name]} vs {ref}"
