"""What a discovery writes beside ``best.json`` for its report: every scored candidate, and every run.

``candidates.csv`` holds each candidate law the discovery fitted (engines' forms and the catalogue's
laws alike, all on the same selection runs): its source and engine, constants, extrapolation error
where it was measured, test error on the held-out runs, admissibility and why not; and each candidate
that could not be fitted, with the error. ``runs.csv`` holds each run's
features, loss, split (``test``, ``largest slice`` or ``selection``) and the chosen law's prediction.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import sympy as sp

from ..groups import shared_form
from ..metrics import metrics

# ``Discovery`` in the annotations is lawfind.discovery's, named, not imported (it saves these tables)

__all__ = ["candidates_table", "candidate_fields", "runs_table", "split_labels", "SPLITS"]

#: The splits of the runs, in the order the report draws and lists them.
SPLITS = ("selection", "largest slice", "test")


def split_labels(disc: Discovery) -> np.ndarray:
    """Each run's part: ``test``, ``largest slice`` (scored at the last rolling origin) or ``selection``."""
    s = disc.splits_
    last = np.zeros(len(s.selection), bool)
    last[np.flatnonzero(s.selection)[s.origins[-1].score]] = True
    return np.where(s.test, "test", np.where(last, "largest slice", "selection"))


def runs_table(disc: Discovery) -> pd.DataFrame:
    """One row per run: its features (the project's variable names), ``loss``, ``split`` and
    ``predicted`` (the chosen law's prediction)."""
    table = disc.table_
    out = table.frame[list(table.features)].copy()
    out["loss"] = table.y
    out["split"] = split_labels(disc)
    out["predicted"] = disc.predict(table)
    if table.group is not None:  # after the features: the report reads the features as the columns before loss
        out[table.group] = table.groups
    return out


def candidates_table(disc: Discovery) -> pd.DataFrame:
    """One row per scored candidate, the chosen law first, then by extrapolation error and BIC.

    Columns: ``source`` (``grammar``, ``operon:seed1``, ``catalog:NAME``, ...), ``n_params``,
    ``complexity``, ``extrap_rmse_log`` and ``extrap_se`` (empty where it was not measured: only the
    shortlist by BIC gets an extrapolation error), ``train_rmse_log``, ``bic``, ``test_rmse_log``,
    ``test_r2``, ``admissible``, ``reason`` (the first failed property, empty when admissible),
    ``on_front``, ``chosen``, ``equation`` (with its numbers, in the project's variable names), then
    ``engine`` (``grammar``, ``operon``, ``pysr``, ``catalog``), ``catalog_name`` (empty for an
    engine's form) and ``category`` (the reason's label, as counted in ``set_aside``). Candidates that
    failed to fit come last, with their error as the reason and no numbers.
    """
    table, s = disc.table_, disc.splits_
    sel, test = table.subset(s.selection), table.subset(s.test)
    chosen = disc.front_[disc.best_index_]
    on_front = {id(r.law) for r in disc.front_}
    rows = []
    for c in disc.candidates_:
        fit = chosen.fit if c.law is chosen.law else c.fit
        with np.errstate(all="ignore"):
            m = metrics(test.y, fit.predict(test), train_y=sel.y, train_pred=fit.predict(sel), n_params=fit.n_params,
                        scale=sel.scale)
        ext = c.extrapolation
        rows.append({"source": c.source, "n_params": c.n_params, "complexity": c.complexity,
                     "extrap_rmse_log": ext.rmse if ext else math.nan, "extrap_se": ext.se if ext else math.nan,
                     "train_rmse_log": c.train_rmse, "bic": c.bic, "test_rmse_log": m.rmse_log, "test_r2": m.r2,
                     "admissible": c.verdict.ok, "reason": c.verdict.reason, "on_front": id(c.law) in on_front,
                     "chosen": c.law is chosen.law, "equation": sp.sstr(shared_form(fit) if fit.per_group else fit.substituted(), full_prec=False),
                     "engine": c.engine, "catalog_name": c.catalog_name, "category": c.verdict.category})
    frame = pd.DataFrame(rows)
    frame = frame.sort_values(["chosen", "extrap_rmse_log", "bic"], ascending=[False, True, True],
                              na_position="last", kind="stable")
    failed = pd.DataFrame([{"source": f.source, "n_params": f.n_params, "admissible": False,
                            "reason": f.verdict.reason, "on_front": False, "chosen": False, "equation": f.expression,
                            "engine": f.engine, "catalog_name": f.catalog_name, "category": f.verdict.category}
                           for f in disc.failed_], columns=frame.columns)
    if len(failed):
        frame = pd.concat([frame.astype({"n_params": "Int64", "complexity": "Int64"}),
                           failed.astype({"n_params": "Int64", "complexity": "Int64"})])
    return frame.reset_index(drop=True)


def candidate_fields(cand: pd.DataFrame) -> pd.DataFrame:
    """``candidates.csv`` as read back, with its ``engine``, ``catalog_name`` and ``category`` columns.

    A folder written before those columns existed gets them from ``source`` and ``reason``, the only
    record it has (``catalog:NAME``; the reason's text before its colon): the one place a report reads
    a decision from text, and only for such old folders.
    """
    if {"engine", "catalog_name", "category"} <= set(cand.columns):
        return cand
    out = cand.copy()
    source = out["source"].fillna("").astype(str)
    reason = out["reason"].fillna("").astype(str)
    out["engine"] = source.str.partition(":")[0]
    out["catalog_name"] = source.str.partition(":")[2].where(out["engine"] == "catalog", None)
    out["category"] = reason.str.partition(":")[0]
    return out
