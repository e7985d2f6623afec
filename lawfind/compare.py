"""Comparing laws on held-out runs: each law fitted on the training runs, ranked on the test runs.

The splits live in :mod:`lawfind.splits` and the metrics (SLDBench's R2, NMSE and NMAE, the RMSE of
log loss, the spread ratio, AIC and BIC) in :mod:`lawfind.metrics`; this module fits and ranks.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .data import RunTable
from .errors import FitError, OptionError, did_you_mean
from .fit import FitResult, fit_law
from .groups import choose_per_group
from .laws import Law
from .metrics import Metrics, metrics
from .splits import Split

__all__ = ["Row", "Comparison", "RANK_BY", "evaluate", "compare_laws"]

#: Rows a Comparison's text view lists before it says how many more there are.
_REPR_ROWS = 10


@dataclass(frozen=True)
class Row:
    """One compared law: its fit on the training runs and its metrics."""

    law: Law
    fit: FitResult
    metrics: Metrics

    def __repr__(self) -> str:
        m = self.metrics
        return f"Row({self.law.name}: k={m.n_params}, R2={m.r2:.4g}, RMSE log={m.rmse_log:.4g})"


@dataclass(frozen=True)
class Comparison:
    """Laws ranked by a test metric; ``skipped`` lists laws that could not be fitted, with why."""

    rows: tuple[Row, ...]
    split: Split
    rank_by: str
    skipped: tuple[tuple[str, str], ...] = field(default=())

    def table(self) -> list[dict[str, object]]:
        """The ranked table as plain records."""
        return [{"rank": i + 1, "law": r.law.name, "certainty": r.law.certainty, **r.metrics.as_dict()}
                for i, r in enumerate(self.rows)]

    def _header(self) -> str:
        return (f"{len(self.rows)} laws ranked by {self.rank_by} on {self.split.description} "
                f"(train {int(np.sum(self.split.train))} runs, test {int(np.sum(self.split.test))} runs)"
                + (f"; {len(self.skipped)} skipped" if self.skipped else ""))

    def __repr__(self) -> str:
        lines = [f"Comparison({self._header()})"]
        for i, r in enumerate(self.rows[:_REPR_ROWS], 1):
            m = r.metrics
            lines.append(f"  {i:>2}. {r.law.name}: k={m.n_params}, R2={m.r2:.4g}, RMSE log={m.rmse_log:.4g}, "
                         f"BIC={m.bic:.1f}")
        if len(self.rows) > _REPR_ROWS:
            lines.append(f"  ... {len(self.rows) - _REPR_ROWS} more (see .table())")
        lines += [f"  skipped {name}: {why}" for name, why in self.skipped]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cols = ("rank", "law", "certainty", "k", "R2", "NMSE", "NMAE", "RMSE log", "AIC", "BIC")
        body = []
        for i, r in enumerate(self.rows, 1):
            m = r.metrics
            cells = (str(i), r.law.name, r.law.certainty, str(m.n_params), f"{m.r2:.4g}", f"{m.nmse:.4g}",
                     f"{m.nmae:.4g}", f"{m.rmse_log:.4g}", f"{m.aic:.1f}", f"{m.bic:.1f}")
            body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        skipped = "".join(f"<li>{html.escape(name)}: {html.escape(why)}</li>" for name, why in self.skipped)
        return (f"<table><caption>{html.escape(self._header())}</caption><thead><tr>"
                + "".join(f"<th>{c}</th>" for c in cols) + "</tr></thead><tbody>" + "".join(body)
                + "</tbody></table>" + (f"<p>skipped:</p><ul>{skipped}</ul>" if skipped else ""))


#: Metrics laws may be ranked by, with their sort keys (best first).
# rmse_log ranks by Metrics.rmse: of log loss, or of the target itself on a linear target scale
RANK_BY = {"r2": (lambda m: -m.r2), "nmse": (lambda m: m.nmse), "nmae": (lambda m: m.nmae),
           "rmse_log": (lambda m: m.rmse), "aic": (lambda m: m.aic), "bic": (lambda m: m.bic)}


def evaluate(fit: FitResult, table: RunTable, split: Split) -> Metrics:
    """Metrics of a law fitted on ``split.train``, evaluated on ``split.test``."""
    train, test = table.subset(split.train), table.subset(split.test)
    return metrics(test.y, fit.predict(test), train_y=train.y, train_pred=fit.predict(train),
                   n_params=fit.n_params, scale=table.scale)


def compare_laws(
    laws: Sequence[Law],
    table: RunTable,
    split: Split,
    *,
    rank_by: str = "r2",
    progress: Callable[[str], None] | None = None,
    per_group: Sequence[str] | None = None,
    **fit_options,
) -> Comparison:
    """Fit each law on the training runs and rank the laws on the test runs.

    On a table with a group column of two or more levels, each law takes the constants per group level
    that the data choose by BIC (:func:`lawfind.groups.choose_per_group`: none, the limit, the limit
    and coefficients, every constant), or those named in ``per_group``; the shared form is the law's.
    Laws whose variables the table lacks, or whose fit fails, are listed in ``skipped`` with the
    reason, never dropped silently.
    """
    if rank_by not in RANK_BY:
        raise OptionError(f"unknown metric '{rank_by}'{did_you_mean(rank_by, RANK_BY)}; "
                          f"choose one of {', '.join(RANK_BY)}")
    train = table.subset(split.train)
    grouped = table.group is not None and len(set(train.groups)) > 1
    if per_group and not grouped:
        raise OptionError("per_group needs a group column with at least two levels: give --group COLUMN")
    rows, skipped = [], []
    for law in laws:
        missing = [v for v in law.variables if v not in table.features]
        if missing:
            skipped.append((law.name, f"needs {', '.join(missing)}, which the table lacks"))
            continue
        if progress:
            progress(law.name)
        try:
            fit = fit_law(law, train, **fit_options)
        except FitError as exc:
            skipped.append((law.name, str(exc)))
            continue
        if grouped:
            fit = choose_per_group(law, train, dict(fit.values), declared=per_group,
                                   seed=fit_options.get("seed", 0)) or fit
        rows.append(Row(law, fit, evaluate(fit, table, split)))
    key = RANK_BY[rank_by]
    rows.sort(key=lambda r: (np.nan_to_num(key(r.metrics), nan=np.inf)))
    return Comparison(tuple(rows), split, rank_by, tuple(skipped))
