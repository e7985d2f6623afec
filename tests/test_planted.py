"""Planted laws: known laws with known constants, sampled reproducibly."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lawfind.data import load_runs
from lawfind.errors import OptionError
from lawfind.planted import PLANTED, planted_law, sample


@pytest.mark.parametrize("planted", PLANTED, ids=lambda p: p.name)
def test_every_planted_law_parses_and_gives_finite_positive_losses(planted):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no constant of a planted law looks like a column
        law = planted.law()
    assert set(law.param_names) == set(planted.values)
    assert set(law.variables) == set(planted.must_use)
    frame = sample(planted, n=50, noise=0.0, seed=0)
    assert np.isfinite(frame["loss"]).all() and (frame["loss"] > 1).all()
    assert load_runs(frame).features == ("D", "N", "Na", "G", "S")


def test_samples_are_reproducible_and_noisy_as_asked():
    law = planted_law("chinchilla_ghook")
    a, b = sample(law, n=400, seed=3), sample(law, n=400, seed=3)
    assert a.equals(b) and not a.equals(sample(law, n=400, seed=4))
    clean = sample(law, n=400, noise=0.0, seed=3)
    assert np.std(np.log(a["loss"] / clean["loss"])) == pytest.approx(0.0075, rel=0.1)
    assert (a["Na"] <= a["N"]).all() and a["S"].between(0, 0.7).all()


def test_the_moe5_hook_is_where_its_docs_say():
    p = planted_law("moe5")
    assert np.exp(-p.values["g1"] / (2 * p.values["g2"])) == pytest.approx(np.exp(2))
    assert -p.values["s1"] / (2 * p.values["s2"]) == pytest.approx(0.32, abs=0.005)


def test_unknown_name():
    with pytest.raises(OptionError, match="did you mean 'moe5'"):
        planted_law("moe6")
