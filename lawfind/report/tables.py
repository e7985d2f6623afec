"""What a discovery writes beside ``best.json`` for its report: every scored candidate, and every run.

``candidates.csv`` holds each candidate law the discovery fitted (engines' forms and the catalogue's
laws alike, all on the same selection runs): its source, constants, extrapolation error where it was
measured, test error on the held-out runs, admissibility and why not. ``runs.csv`` holds each run's
features, loss, split (``test``, ``largest slice`` or ``selection``) and the chosen law's prediction.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import sympy as sp

from ..compare import metrics

if TYPE_CHECKING:
    from ..discovery import Discovery

__all__ = ["candidates_table", "runs_table", "split_labels", "SPLITS"]

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
    return out


def candidates_table(disc: Discovery) -> pd.DataFrame:
    """One row per scored candidate, the chosen law first, then by extrapolation error and BIC.

    Columns: ``source`` (``grammar``, ``operon``, ``catalog:NAME``, ...), ``n_params``, ``complexity``,
    ``extrap_rmse_log`` and ``extrap_se`` (empty where it was not measured: only the shortlist by BIC
    gets an extrapolation error), ``train_rmse_log``, ``bic``, ``test_rmse_log``, ``test_r2``,
    ``admissible``, ``reason`` (the first failed property, empty when admissible), ``on_front``,
    ``chosen`` and ``equation`` (with its numbers, in the project's variable names).
    """
    table, s = disc.table_, disc.splits_
    sel, test = table.subset(s.selection), table.subset(s.test)
    chosen = disc.front_[disc.best_index_]
    on_front = {id(r.law) for r in disc.front_}
    rows = []
    for c in disc.candidates_:
        fit = chosen.fit if c.law is chosen.law else c.fit
        with np.errstate(all="ignore"):
            m = metrics(test.y, fit.predict(test), train_y=sel.y, train_pred=fit.predict(sel), n_params=fit.n_params)
        ext = c.extrapolation
        rows.append({"source": c.source, "n_params": c.n_params, "complexity": c.complexity,
                     "extrap_rmse_log": ext.rmse if ext else math.nan, "extrap_se": ext.se if ext else math.nan,
                     "train_rmse_log": c.train_rmse, "bic": c.bic, "test_rmse_log": m.rmse_log, "test_r2": m.r2,
                     "admissible": c.verdict.ok, "reason": c.verdict.reason, "on_front": id(c.law) in on_front,
                     "chosen": c.law is chosen.law, "equation": sp.sstr(fit.substituted(), full_prec=False)})
    frame = pd.DataFrame(rows)
    return frame.sort_values(["chosen", "extrap_rmse_log", "bic"], ascending=[False, True, True],
                             na_position="last", kind="stable").reset_index(drop=True)
