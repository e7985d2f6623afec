"""A time budget bounds the discovery's every stage: a stage past its share gives up what it has not done
(keeping enough to go on), the bootstrap stops between batches and says so, and a budget spent early
still ends with a law."""

from __future__ import annotations

import time

import pytest

from lawfind import catalog
from lawfind.bootstrap import MIN_REPLICATES
from lawfind.discovery import Discovery
from lawfind.fit import fit_law


def test_a_spent_deadline_stops_the_bootstrap_after_its_first_batch_and_says_so(chinchilla_table):
    law = catalog.get("chinchilla2022")
    full = fit_law(law, chinchilla_table, n_starts=16, bootstrap=60, seed=0)
    cut = fit_law(law, chinchilla_table, n_starts=16, bootstrap=60, seed=0, deadline=time.monotonic() - 1)
    assert full.bootstrap.shape[0] == 60 and cut.bootstrap.shape[0] == MIN_REPLICATES
    assert cut.values == full.values  # the point estimate does not depend on the budget
    assert any(f"{MIN_REPLICATES} of the 60 bootstrap refits" in w for w in cut.warnings)
    assert not any("bootstrap refits fitted within" in w for w in full.warnings)


@pytest.mark.slow
def test_a_tiny_budget_still_ends_with_a_law(chinchilla_table):
    """Every stage past its share at once: each keeps its minimum (a few refits, two extrapolation
    errors, 20 bootstrap refits) and the discovery chooses among what was done."""
    disc = Discovery(engine="grammar", max_depth=2, time_budget=0.5, bootstrap=100, seed=0).fit(chinchilla_table)
    assert disc.best_verdict_.ok
    assert disc.best_.bootstrap.shape[0] == MIN_REPLICATES
    assert disc.best_metrics_.rmse_log < 0.03  # a law, not noise: the table's noise is 0.01
