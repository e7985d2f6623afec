"""The catalogue as a search engine: published laws as candidates beside the searched ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .. import catalog
from ..data import RunTable
from .base import Candidate, Progress

__all__ = ["CatalogEngine"]


@dataclass(frozen=True)
class CatalogEngine:
    """Every catalogue law whose variables the table has (or the named ones)."""

    laws: Sequence[str] | None = None
    name: str = field(default="catalog", init=False)

    def search(self, table: RunTable, *, progress: Progress | None = None) -> list[Candidate]:
        names = list(self.laws) if self.laws else catalog.names()
        out = []
        for name in names:
            law = catalog.get(name)
            if all(v in table.features for v in law.variables):
                out.append(Candidate(law.expr, "catalog", name, 0, catalog_name=law.name, engine=self.name))
        if progress:
            progress(1, 1, f"{len(out)} catalogue laws apply")
        return out
