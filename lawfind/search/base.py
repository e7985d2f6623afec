"""The interface every search engine implements, and the candidates it returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import sympy as sp

from ..data import RunTable
from ..laws import Law
from ..symbols import scale, symbol

__all__ = ["Candidate", "SearchEngine", "Progress", "feature_transform", "transformed_symbols"]

#: ``progress(done, total, message)``: engines call it as they go.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Candidate:
    """A raw expression an engine found, over the table's variables (not yet refitted).

    Attributes
    ----------
    expr:
        sympy expression of the loss in the variables, numeric constants as Floats (or, for catalogue
        candidates, as parameter symbols).
    source:
        Which engine (and seed) found it, for a reader (``"operon:seed1"``).
    raw:
        The engine's own text of the expression.
    complexity:
        The engine's complexity measure (node count), for reference.
    catalog_name:
        For catalogue candidates: the catalogue law it is.
    law, start:
        For engines that build laws themselves (the grammar engine): the law, with its parameters'
        bounds and signs, and the fitted values to start its refits from.
    engine:
        The engine's ``name`` (``"grammar"``, ``"operon"``, ``"pysr"``, ``"catalog"``): what decisions
        about a candidate's origin read, never ``source``.
    """

    expr: sp.Expr
    source: str
    raw: str = ""
    complexity: int = 0
    catalog_name: str | None = None
    law: Law | None = None
    start: Mapping[str, float] | None = None
    engine: str = field(kw_only=True)


class SearchEngine(Protocol):
    """A symbolic-regression engine: ``search(table) -> candidates``."""

    name: str

    def search(self, table: RunTable, *, progress: Progress | None = None) -> list[Candidate]:
        """Search functional forms of ``table.target`` in ``table.features``."""
        ...


def feature_transform(name: str) -> str:
    """How an engine sees a variable: ``log`` for positive ones, ``identity`` for bounded ratios such
    as ``S`` (the project's scale rule, :func:`lawfind.symbols.scale`).

    On log features, sums and products of power laws are spanned by {add, mul, exp}.
    """
    return "identity" if scale(name) == "linear" else "log"


def transformed_symbols(features: Sequence[str]) -> list[sp.Expr]:
    """The sympy expression of each engine input: ``log(N)`` or ``S``."""
    return [symbol(f) if feature_transform(f) == "identity" else sp.log(symbol(f)) for f in features]


def transformed_matrix(table: RunTable, dtype=np.float32) -> np.ndarray:
    """The engine inputs as a matrix (float32 by default: see the operon engine)."""
    cols = [x if feature_transform(f) == "identity" else np.log(x) for f, x in zip(table.features, table.X())]
    return np.column_stack(cols).astype(dtype)
