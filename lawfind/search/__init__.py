"""Search engines behind one interface: ``grammar`` (structured forms), ``operon`` (free-form, from pip),
``pysr`` (free-form, with Julia) and ``catalog`` (published laws)."""

from __future__ import annotations

from ..errors import check_choice
from .base import Candidate, Progress, SearchEngine
from .catalog import CatalogEngine
from .grammar import GrammarEngine
from .operon import OperonEngine
from .parse import parse_expression, parse_operon, parse_pysr, parse_text
from .pysr import PySREngine, julia_status

__all__ = ["Candidate", "Progress", "SearchEngine", "CatalogEngine", "GrammarEngine", "OperonEngine", "PySREngine",
           "julia_status", "ENGINES", "make_engine", "parse_expression", "parse_operon", "parse_pysr",
           "parse_text"]

ENGINES = ("grammar", "operon", "pysr", "catalog")


def make_engine(name: str, **options) -> SearchEngine:
    """An engine by name (one of :data:`ENGINES`), built from the options it takes; the others are
    ignored (an operon engine takes every option, and refuses one it does not know)."""
    check_choice("engine", name, ENGINES)
    if name == "operon":
        return OperonEngine(**options)
    if name == "grammar":
        return GrammarEngine(**{k: v for k, v in options.items() if k in GrammarEngine.OPTIONS})
    if name == "pysr":
        return PySREngine(**{k: v for k, v in options.items() if k in PySREngine.OPTIONS})
    return CatalogEngine(**{k: v for k, v in options.items() if k == "laws"})
