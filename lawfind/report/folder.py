"""A discovery's output folder, read back for its report.

``lawfind discover`` writes the folder (:func:`lawfind.record.save_discovery`): ``best.json`` (the
chosen law's :class:`~lawfind.record.LawRecord`, read by :func:`lawfind.record.load_discovery`),
``equations.csv`` (the front), ``candidates.csv`` (every scored candidate) and ``runs.csv`` (every
run with its split and prediction); ``optima.json`` holds the chosen law's optima when the report was
asked for. A missing or unreadable file is named with the way to get it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DataError, show_path
from ..laws import Law
from ..record import BEST, LawRecord, load_discovery

__all__ = ["DiscoveryFolder", "read_folder", "REQUIRED"]

#: The files a report needs, and the columns it reads from each table.
REQUIRED = {BEST: (), "equations.csv": ("n_params", "loss", "loss_se", "sympy_format", "admissible"),
            "candidates.csv": ("source", "n_params", "extrap_rmse_log", "test_rmse_log", "admissible", "reason"),
            "runs.csv": ("loss", "split", "predicted")}


@dataclass(frozen=True)
class DiscoveryFolder:
    """What a discovery wrote, read back.

    Attributes
    ----------
    path:
        The folder.
    record:
        The chosen law's record (``best.json``); ``law`` and ``values`` are its law and constants.
    equations, candidates, runs:
        The front, every scored candidate, and the runs (see :mod:`lawfind.report.tables`).
    optima:
        ``optima.json`` (see :func:`lawfind.report.analysis.analyse_discovery`), or ``None``.
    """

    path: Path
    record: LawRecord
    equations: pd.DataFrame
    candidates: pd.DataFrame
    runs: pd.DataFrame
    optima: dict | None

    @property
    def law(self) -> Law:
        return self.record.law

    @property
    def values(self) -> dict[str, float]:
        """The law's constants by parameter name; for a law with constants per group, the first level's
        (:attr:`level`), whose optima the report derives."""
        return self.record.group_values(self.level)

    @property
    def level(self) -> str | None:
        """The group level whose constants :attr:`values` holds (``None`` without per-group constants)."""
        return self.record.groups[0] if self.record.per_group else None

    @property
    def group(self) -> str | None:
        """The runs' group column (in ``runs.csv`` after ``predicted``), or ``None``."""
        group = self.record.fit.get("group")
        return group if group and group in self.runs.columns else None

    @property
    def features(self) -> tuple[str, ...]:
        """The table's variables (the columns of ``runs.csv`` before ``loss``)."""
        cols = list(self.runs.columns)
        return tuple(cols[: cols.index("loss")])


def read_folder(path: str | Path) -> DiscoveryFolder:
    """Read a discovery's output folder.

    Raises
    ------
    DataError
        If the folder or one of its files is missing or unreadable; the message says how to write it.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(f"no folder '{show_path(folder)}': give the --out folder of 'lawfind discover'")
    for name, columns in REQUIRED.items():
        if not (folder / name).is_file():
            raise DataError(f"'{show_path(folder)}' has no {name}: it is not the output of 'lawfind discover', or "
                            "one from before reports; run 'lawfind discover FILE --out "
                            f"{show_path(folder)}' again")
    record = load_discovery(folder)
    tables = {name: _csv(folder / name, columns) for name, columns in REQUIRED.items() if name.endswith(".csv")}
    optima = None
    if (folder / "optima.json").is_file():
        try:
            optima = json.loads((folder / "optima.json").read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"'{show_path(folder / 'optima.json')}' is not JSON ({exc}): delete it and run "
                            "'lawfind report' again to recompute it") from None
    return DiscoveryFolder(folder, record, tables["equations.csv"], tables["candidates.csv"],
                           tables["runs.csv"], optima)


def _csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read '{show_path(path)}': {exc}") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"'{show_path(path)}' lacks the columns {missing}: write it again with 'lawfind discover'")
    return frame
