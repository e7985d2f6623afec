"""Export: LaTeX of laws through a sympy printer, booktabs tables, JSON, numpy and torch callables."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import sympy as sp
from sympy.printing.latex import LatexPrinter

from .compare import Comparison, Metrics
from .errors import DataError, FormulaError
from .fit import FitResult
from .laws import Law, Param, make_callable, parse_law

__all__ = ["latex", "latex_fit", "latex_table", "fit_to_dict", "save_fit", "load_fit", "numpy_callable",
           "torch_callable"]

_NAMES = {"Na": r"N_{a}", "E0": r"E_{0}", "L0": r"L_{0}", "N_c": r"N_{c}", "D_c": r"D_{c}",
          "lambda_": r"\lambda", "E_start": r"E_{\mathrm{start}}", "E_max": r"E_{\mathrm{max}}",
          "A_start": r"A_{\mathrm{start}}", "A_max": r"A_{\mathrm{max}}", "beta_C": r"\beta_{C}"}


class _Printer(LatexPrinter):
    """sympy's LaTeX printer with a chosen number of significant digits for floats."""

    def __init__(self, precision: int = 3, **settings) -> None:
        # explicit products ("2 \cdot N") keep the output parseable by sympy's LaTeX parser
        settings.setdefault("mul_symbol", "dot")
        super().__init__(settings)
        self._precision = precision

    def _print_Float(self, expr: sp.Float) -> str:
        x = float(expr)
        if x == 0 or not math.isfinite(x):
            return super()._print_Float(expr)
        mant, _, exp = f"{x:.{self._precision - 1}e}".partition("e")
        e = int(exp)
        if -3 <= e < 4:
            digits = max(self._precision - 1 - e, 0)
            return f"{x:.{digits}f}"
        return rf"{mant} \cdot 10^{{{e}}}"

    def _print_Pow(self, expr: sp.Pow) -> str:
        # "\log{(G)}^{2}" reads as log(G^2) or log(G)^2: parenthesise powers of functions
        if isinstance(expr.base, sp.Function) and not isinstance(expr.base, sp.exp) and expr.exp != -1:
            return rf"\left({self._print(expr.base)}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr)

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        return _NAMES.get(expr.name, super()._print_Symbol(expr))


def latex(expr: sp.Expr | Law, precision: int = 3, lhs: str | None = "L") -> str:
    """LaTeX of an expression or a law, numbers printed to ``precision`` significant digits."""
    body = _Printer(precision).doprint(expr.expr if isinstance(expr, Law) else expr)
    return f"{lhs} = {body}" if lhs else body


def latex_fit(fit: FitResult, precision: int = 3, level: str | None = None) -> str:
    """LaTeX of a fitted law with its numbers substituted."""
    return latex(fit.substituted(level), precision)


def _fmt(x: float, digits: int = 3) -> str:
    return "--" if x is None or not np.isfinite(x) else f"{x:.{digits}g}"


def latex_table(comparison: Comparison, precision: int = 3, caption: str | None = None) -> str:
    """A booktabs table of compared laws: rank, law, parameters, test R2, NMSE, NMAE, RMSE, AIC, BIC."""
    lines = [r"\begin{table}[t]", r"\centering", r"\begin{tabular}{rllrrrrrr}", r"\toprule",
             r"Rank & Law & Form & $k$ & $R^2$ & NMSE & NMAE & RMSE$_{\log}$ & BIC \\", r"\midrule"]
    for i, row in enumerate(comparison.rows, 1):
        m = row.metrics
        name = row.law.name.replace("_", r"\_")
        lines.append(f"{i} & {name} & ${latex(row.law, precision, lhs=None)}$ & {m.n_params} & "
                     f"{_fmt(m.r2, precision)} & {_fmt(m.nmse, precision)} & {_fmt(m.nmae, precision)} & "
                     f"{_fmt(m.rmse_log, precision)} & {m.bic:.1f} \\\\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    cap = caption or f"Laws ranked by test {comparison.rank_by} on the split {comparison.split.description}."
    lines += [rf"\caption{{{_escape(cap)}}}", r"\end{table}"]
    return "\n".join(lines)


def _escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                 (">", r"$>$"), ("<", r"$<$")):
        text = text.replace(a, b)
    return text


def fit_to_dict(fit: FitResult, metrics: Metrics | None = None, precision: int = 4,
                ranges: Mapping[str, tuple[float, float]] | None = None) -> dict:
    """JSON-ready record of a fitted law: expression, parameters with intervals, metrics, the data's
    ranges and hash, and the bootstrap replicates (so that optima get intervals from the file alone)."""
    levels = fit.groups if fit.per_group else (None,)
    params = {}
    for name, value in fit.values.items():
        entry: dict[str, object] = {"value": value}
        if fit.stderr:
            entry["stderr"] = fit.stderr[name]
            entry["interval95"] = list(fit.intervals[name])
        params[name] = entry
    exprs = {str(lev): sp.sstr(fit.substituted(lev), full_prec=True) for lev in levels}
    return {
        "law": fit.law.name,
        "formula": sp.sstr(fit.law.expr),
        "variables": list(fit.law.variables),
        "param_specs": [{"name": p.name, "init": list(p.init), "bounds": list(p.bounds), "log_scale": p.log_scale}
                        for p in fit.law.params],
        "expression": exprs["None"] if levels == (None,) else exprs,
        "latex": latex_fit(fit, precision) if levels == (None,) else
        {str(lev): latex_fit(fit, precision, lev) for lev in levels},
        "parameters": params,
        "metrics": metrics.as_dict() if metrics else {},
        "fit": {"loss": fit.loss, "delta": fit.delta, "objective": fit.objective, "n_obs": fit.n_obs,
                "converged": fit.converged, "n_starts": fit.n_starts, "n_at_best": fit.n_at_best,
                "warnings": list(fit.warnings), "group": fit.group, "per_group": list(fit.per_group),
                "groups": list(fit.groups), **fit.uncertainty()},
        "citation": fit.law.citation,
        "certainty": fit.law.certainty,
        "data_hash": fit.data_hash,
        "ranges": {k: [float(a), float(b)] for k, (a, b) in (ranges or {}).items()},
        "bootstrap_samples": None if fit.bootstrap is None else
        {"names": list(fit.values), "values": fit.bootstrap.tolist()},
    }


def save_fit(path: str | Path, fit: FitResult, metrics: Metrics | None = None, extra: Mapping | None = None,
             ranges: Mapping[str, tuple[float, float]] | None = None) -> Path:
    """Write :func:`fit_to_dict` (plus ``extra`` keys) as JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = fit_to_dict(fit, metrics, ranges=ranges)
    record.update(extra or {})
    path.write_text(json.dumps(record, indent=2, default=float))
    return path


def load_fit(path: str | Path) -> tuple[Law, dict[str, float], dict]:
    """Read a fitted law from JSON: the law, its parameter values and the whole record.

    Only files without per-group parameters give a single set of values.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"no such file: '{path}'") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"'{path}' is not a lawfind JSON file ({exc})") from None
    for key in ("formula", "variables", "parameters"):
        if key not in record:
            raise DataError(f"'{path}' lacks '{key}': is it a best.json or a fit written by lawfind?")
    if record.get("fit", {}).get("per_group"):
        raise FormulaError(f"'{path}' holds per-group parameters: optimise one group's law with --law")
    law = parse_law(record["formula"], record["variables"], name=record.get("law", "law"),
                    allow_constant=not record["parameters"])
    specs = [Param(s["name"], tuple(s["init"]), tuple(s["bounds"]), s["log_scale"])
             for s in record.get("param_specs", [])]
    law = law.with_params(specs)
    values = {k: float(v["value"]) for k, v in record["parameters"].items()}
    return law, values, record


def numpy_callable(law: Law, values: Mapping[str, float]) -> Callable[..., np.ndarray]:
    """``f(**variables) -> loss`` in numpy with the fitted values fixed."""
    return make_callable(law, values)


def torch_callable(law: Law, values: Mapping[str, float]) -> Callable[..., object]:
    """``f(**variables) -> loss`` in torch (differentiable in the variables), values fixed."""
    import torch

    def _t(fn):
        return lambda *a: fn(*(torch.as_tensor(x, dtype=torch.float64) for x in a))

    mapping = {"log": _t(torch.log), "exp": _t(torch.exp), "sqrt": _t(torch.sqrt),
               "Max": _t(torch.maximum), "Min": _t(torch.minimum), "Abs": _t(torch.abs)}
    expr = law.substitute(values)
    syms = [law.symbol(v) for v in law.variables]
    f = sp.lambdify(syms, expr, modules=[mapping, "torch"])

    def g(**columns):
        missing = [v for v in law.variables if v not in columns]
        if missing:
            raise FormulaError(f"law '{law.name}' needs the variables {missing}")
        return f(*(torch.as_tensor(columns[v], dtype=torch.float64) for v in law.variables))

    return g
