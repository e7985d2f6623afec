"""Search engines behind one interface: ``operon`` (default), ``pysr`` and ``catalog``."""

from __future__ import annotations

from ..errors import check_choice
from .base import Candidate, Progress, SearchEngine
from .catalog import CatalogEngine
from .operon import OperonEngine
from .pysr import PySREngine, julia_status

__all__ = ["Candidate", "Progress", "SearchEngine", "CatalogEngine", "OperonEngine", "PySREngine",
           "julia_status", "ENGINES", "make_engine"]

ENGINES = ("operon", "pysr", "catalog")


def make_engine(name: str, **options) -> SearchEngine:
    """An engine by name; options the engine does not take are ignored for ``catalog``."""
    check_choice("engine", name, ENGINES)
    if name == "operon":
        return OperonEngine(**options)
    if name == "pysr":
        return PySREngine(**{k: v for k, v in options.items() if k in PySREngine.OPTIONS})
    return CatalogEngine()
