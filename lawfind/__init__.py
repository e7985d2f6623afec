"""lawfind: discover, fit, compare and differentiate scaling laws for Mixture-of-Experts models."""

from __future__ import annotations

from . import catalog
from .compare import Comparison, compare_laws
from .data import RunTable, load_runs
from .discovery import Discovery, discover
from .errors import DataError, FitError, FormulaError, LawfindError, OptionError
from .export import latex, latex_fit, latex_table, numpy_callable, torch_callable
from .record import load_fit, save_fit
from .fit import FitResult, fit_law
from .laws import Law, Param, parse_law
from .splits import holdout_split, kfold_splits

from .version import __version__

__all__ = [
    "catalog", "Comparison", "compare_laws", "holdout_split", "kfold_splits", "RunTable", "load_runs",
    "DataError", "FitError", "FormulaError", "LawfindError", "OptionError", "latex", "latex_fit",
    "latex_table", "load_fit", "numpy_callable", "save_fit", "torch_callable", "FitResult", "fit_law",
    "Law", "Param", "parse_law", "Discovery", "discover",
]
