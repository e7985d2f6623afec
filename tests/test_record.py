"""A saved law's record: one type, written and read in one module (lawfind.record)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lawfind import catalog
from lawfind.errors import DataError
from lawfind.record import fit_to_dict, load_fit, save_fit
from lawfind.fit import fit_law
from lawfind.predict import Predictor
from lawfind.record import FORMAT_VERSION, LawRecord, load_discovery


@pytest.fixture(scope="module")
def fit(chinchilla_table):
    return fit_law(catalog.get("chinchilla2022"), chinchilla_table, n_starts=8, bootstrap=8)


def test_a_fit_round_trips_through_its_record(fit, chinchilla_table, tmp_path):
    rec = LawRecord.from_fit(fit, ranges=chinchilla_table.ranges())
    data = rec.to_dict()
    assert data["version"] == FORMAT_VERSION and data == fit_to_dict(fit, ranges=chinchilla_table.ranges())
    back = LawRecord.from_dict(json.loads(json.dumps(data)))
    assert back.to_dict() == data
    assert back.values == pytest.approx(fit.values) and back.law.param_names == fit.law.param_names
    assert back.parameters["alpha"].interval95 == pytest.approx(fit.intervals["alpha"])
    np.testing.assert_array_equal(back.replicate_matrix(fit.law.param_names), fit.bootstrap)
    assert back.replicates()[0] == dict(zip(fit.values, fit.bootstrap[0]))
    assert back.ranges["N"] == chinchilla_table.ranges()["N"] and not back.is_discovery
    # a fit --out file is read by the same loader, and keys another command added are kept
    path = save_fit(tmp_path / "fit.json", fit, extra={"optima": [{"description": "none"}]})
    assert load_discovery(path).extra == {"optima": [{"description": "none"}]}
    assert load_fit(path)[2]["optima"] == [{"description": "none"}]


def test_a_record_from_before_versions_still_reads_and_a_newer_one_is_refused(fit, tmp_path):
    old = fit_to_dict(fit)
    del old["version"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    rec = load_discovery(tmp_path / "old.json")
    assert rec.version == 0 and rec.values == pytest.approx(fit.values)
    assert rec.to_dict()["version"] == FORMAT_VERSION
    (tmp_path / "new.json").write_text(json.dumps({**old, "version": FORMAT_VERSION + 1}))
    with pytest.raises(DataError, match="newer lawfind .*upgrade lawfind"):
        load_discovery(tmp_path / "new.json")
    with pytest.raises(DataError, match="has no best.json: give the --out folder"):
        load_discovery(tmp_path)


@pytest.mark.slow
def test_a_discoverys_record_reads_back_typed(discovered):
    rec = load_discovery(discovered)
    raw = json.loads((discovered / "best.json").read_text())
    assert rec.is_discovery and rec.to_dict() == raw
    assert rec.selection.front_index == raw["selection"]["front_index"]
    assert rec.admissibility.admissible is True and rec.columns == raw["columns"]
    assert rec.provenance["data_file"].endswith("runs.csv")
    assert len(rec.replicates()) == 20
    pred = Predictor.from_record(rec, "best.json")
    assert pred.replicates.shape == (20, rec.law.n_params) and pred.ranges == rec.ranges


def test_the_record_prints_as_what_it_is(fit):
    from lawfind.metrics import metrics

    y = np.array([2.0, 2.1, 2.2])
    rec = LawRecord.from_fit(fit, metrics(y, y * 1.01, train_y=y, train_pred=y, n_params=fit.n_params))
    text = repr(rec)
    lo, hi = fit.intervals["alpha"]
    assert text.startswith("LawRecord(chinchilla2022: L = ") and len(text.splitlines()) == 1 + len(fit.values) + 1
    assert f"alpha = {fit.values['alpha']:.4g} [{lo:.4g}, {hi:.4g}]" in text
    assert "test: RMSE of log loss 0.00995" in text and "on 3 runs" in text
    page = rec._repr_html_()
    assert page.count("<tr>") == 1 + len(fit.values) and f"<td>{fit.values['E0']:.4g}</td>" in page
