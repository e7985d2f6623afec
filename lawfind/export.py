"""Export: LaTeX and MathML of laws through sympy printers, booktabs tables, JSON, numpy and torch callables."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.pretty.pretty_symbology import greek_unicode

from .errors import FormulaError
from .fit import FitResult
from .laws import Law, make_callable
from .metrics import Metrics

if TYPE_CHECKING:  # for annotations only: comparing builds on export, not the other way round
    from .compare import Comparison

__all__ = ["latex", "mathml", "latex_fit", "latex_groups", "latex_record", "latex_table", "booktabs", "write_json",
           "bootstrap_replicates", "numpy_callable", "torch_callable"]

_NAMES = {"Na": r"N_{a}", "E0": r"E_{0}", "L0": r"L_{0}", "N_c": r"N_{c}", "D_c": r"D_{c}",
          "lambda_": r"\lambda", "E_start": r"E_{\mathrm{start}}", "E_max": r"E_{\mathrm{max}}",
          "A_start": r"A_{\mathrm{start}}", "A_max": r"A_{\mathrm{max}}", "beta_C": r"\beta_{C}"}


def _digits(x: float, precision: int) -> tuple[str, int | None]:
    """``x`` to ``precision`` significant digits: the number as it is written between 1e-3 and 1e4
    (and ``None``), else the mantissa and the power of ten."""
    mant, _, exp = f"{x:.{precision - 1}e}".partition("e")
    e = int(exp)
    if -3 <= e < 4:
        return f"{x:.{max(precision - 1 - e, 0)}f}", None
    return mant, e


_GREEK = frozenset(greek_unicode)


def _column_name(name: str) -> bool:
    """A table column's name (``dense_parameter_count``, ``active_params``), printed whole and upright,
    not as a symbol with a subscript (``N_c``, ``E_start``, ``beta_C`` keep theirs)."""
    base, _, sub = name.rstrip("_").partition("_")
    return "_" in sub or bool(sub) and not (re.fullmatch(r"[A-Za-z][0-9]*", base) or base in _GREEK)


def _power_of_function(expr: sp.Pow) -> bool:
    """A power of a function other than exp (``log(G)**2``), which reads ambiguously without parentheses."""
    return isinstance(expr.base, sp.Function) and not isinstance(expr.base, sp.exp) and expr.exp != -1


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
        mant, e = _digits(x, self._precision)
        return mant if e is None else rf"{mant} \cdot 10^{{{e}}}"

    def _print_Pow(self, expr: sp.Pow) -> str:
        # "\log{(G)}^{2}" reads as log(G^2) or log(G)^2: parenthesise powers of functions
        if _power_of_function(expr):
            return rf"\left({self._print(expr.base)}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr)

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        grouped = re.fullmatch(r"(.+)\[(.+)\]", expr.name)
        if grouped:  # a per-group constant, A[pile]: A_{\mathrm{pile}}, E0[pile]: E_{0,\mathrm{pile}}
            base, level = self._print_Symbol(sp.Symbol(grouped.group(1)), style), grouped.group(2)
            sub = level if level == "g" else r"\mathrm{" + _escape(level).replace(" ", r"\ ") + "}"
            if base.endswith("}") and "_{" in base:
                return f"{base[:-1]},{sub}}}"
            return f"{base}_{{{sub}}}"
        if expr.name in _NAMES:
            return _NAMES[expr.name]
        if _column_name(expr.name):
            return r"\mathrm{" + expr.name.replace("_", r"\_") + "}"
        return super()._print_Symbol(expr)


def latex(expr: sp.Expr | Law, precision: int = 3, lhs: str | None = "L") -> str:
    """LaTeX of an expression or a law, numbers printed to ``precision`` significant digits."""
    body = _Printer(precision).doprint(expr.expr if isinstance(expr, Law) else expr)
    return f"{lhs} = {body}" if lhs else body


class _MathML(MathMLPresentationPrinter):
    """sympy's presentation MathML printer with :class:`_Printer`'s numbers, names and parentheses."""

    def __init__(self, precision: int = 3) -> None:
        super().__init__({})
        self._precision = precision

    def _element(self, tag: str, *children, text: str | None = None):
        el = self.dom.createElement(tag)
        if text is not None:
            el.appendChild(self.dom.createTextNode(text))
        for c in children:
            el.appendChild(c)
        return el

    def _print_Float(self, expr: sp.Float):
        x = float(expr)
        if x == 0 or not math.isfinite(x):
            return super()._print_Float(expr)
        mant, e = _digits(x, self._precision)
        if e is None:
            return self._element("mn", text=mant)
        return self._element("mrow", self._element("mn", text=mant), self._element("mo", text="\u00b7"),
                             self._element("msup", self._element("mn", text="10"), self._element("mn", text=str(e))))

    def _print_Symbol(self, sym: sp.Symbol, style: str = "plain"):
        grouped = re.fullmatch(r"(.+)\[(.+)\]", sym.name)
        if grouped:  # a per-group constant, A[pile]: A with the level as a subscript
            return self._element("msub", self._print_Symbol(sp.Symbol(grouped.group(1)), style),
                                 self._element("mi", text=grouped.group(2)))
        if sym.name == "Na":  # N_a, as in the LaTeX
            return self._element("msub", self._element("mi", text="N"), self._element("mi", text="a"))
        name = sym.name.rstrip("_")  # lambda_ -> lambda
        if _column_name(name):
            return self._element("mi", text=name)
        return super()._print_Symbol(sp.Symbol(name), style)

    def _print_Pow(self, expr: sp.Pow):
        # "log(G)^2" reads as log(G^2) or log(G)^2: parenthesise powers of functions, as the LaTeX does
        if _power_of_function(expr):
            base = self._element("mrow", self._l_paren(), self._print(expr.base), self._r_paren())
            return self._element("msup", base, self._print(expr.exp))
        return super()._print_Pow(expr)


def mathml(expr: sp.Expr | Law, precision: int = 3, lhs: str | None = "L", display: str = "block") -> str:
    """Presentation MathML of an expression or a law (a whole ``<math>`` element, as HTML5 embeds it),
    numbers printed to ``precision`` significant digits like :func:`latex`."""
    printer = _MathML(precision)
    body = printer._print(expr.expr if isinstance(expr, Law) else expr).toxml()
    if lhs:
        body = f"<mi>{lhs}</mi><mo>=</mo>{body}"
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="{display}"><mrow>{body}</mrow></math>'


def latex_record(law: Law, values: Mapping[str, float], record: Mapping, precision: int = 3) -> str:
    """The equations of a fit file (from :func:`load_fit`): the law with its numbers, then the optima and
    allocation that ``lawfind optimize --out`` added (a comment where an optimum has no LaTeX)."""
    lines = [r"\begin{equation}", latex(law.substitute(values), precision), r"\end{equation}"]
    for item in record.get("optima") or []:
        if item.get("latex"):
            lines += [r"\begin{equation}", item["latex"], r"\end{equation}"]
        else:
            lines.append(f"% {item['description']}")
    for line in (record.get("allocation") or {}).get("latex", []):
        lines += [r"\begin{equation}", line, r"\end{equation}"]
    return "\n".join(lines)


def latex_groups(record: LawRecord, precision: int = 3) -> str:
    r"""The equations of a law with constants per group level: the shared form, its per-group constants
    written with the level ``g`` as a subscript (``E_{0,g}``), the shared constants as numbers; then
    each level's constants (``E_{0,\mathrm{pile}} = 1.80``)."""
    law, per = record.law, record.per_group
    first = record.group_values(record.groups[0])
    form = law.expr.xreplace({law.symbol(p): sp.Float(v) if p not in per else sp.Symbol(f"{p}[g]")
                              for p, v in first.items()})
    lines = [f"% one law for every level of '{_escape(str(record.group))}'; constants per level: {', '.join(per)}",
             r"\begin{equation}", latex(form, precision, lhs="L_{g}"), r"\end{equation}"]
    for level in record.groups:
        values = record.group_values(level)
        parts = [f"{latex(sp.Symbol(f'{p}[{level}]'), precision, lhs=None)} = "
                 f"{latex(sp.Float(values[p]), precision, lhs=None)}" for p in law.param_names if p in per]
        lines += [r"\begin{equation}", r",\quad ".join(parts), r"\end{equation}"]
    return "\n".join(lines)


def latex_fit(fit: FitResult, precision: int = 3, level: str | None = None) -> str:
    """LaTeX of a fitted law with its numbers substituted."""
    return latex(fit.substituted(level), precision)


def _fmt(x: float, digits: int = 3) -> str:
    return "--" if x is None or not np.isfinite(x) else f"{x:.{digits}g}"


def booktabs(header: Sequence[str], rows: Sequence[Sequence[str]], caption: str, align: str | None = None) -> str:
    """A booktabs LaTeX table: ``header`` and ``rows`` are cells already in LaTeX; the caption is escaped.

    ``align``: the column specification, default ``r`` for every column but a last ``l``.
    """
    align = align or "r" * (len(header) - 1) + "l"
    lines = [r"\begin{table}[t]", r"\centering", rf"\begin{{tabular}}{{{align}}}", r"\toprule",
             " & ".join(header) + r" \\", r"\midrule"]
    lines += [" & ".join(row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{_escape(caption)}}}", r"\end{table}"]
    return "\n".join(lines)


def latex_table(comparison: Comparison, precision: int = 3, caption: str | None = None) -> str:
    """A booktabs table of compared laws: rank, law, parameters, test R2, NMSE, NMAE, RMSE, AIC, BIC."""
    rows = []
    for i, row in enumerate(comparison.rows, 1):
        m = row.metrics
        rows.append([str(i), row.law.name.replace("_", r"\_"), f"${latex(row.law, precision, lhs=None)}$",
                     str(m.n_params), _fmt(m.r2, precision), _fmt(m.nmse, precision), _fmt(m.nmae, precision),
                     _fmt(m.rmse_log, precision), f"{m.bic:.1f}"])
    cap = caption or f"Laws ranked by test {comparison.rank_by} on the split {comparison.split.description}."
    return booktabs(["Rank", "Law", "Form", "$k$", "$R^2$", "NMSE", "NMAE", r"RMSE$_{\log}$", "BIC"], rows, cap,
                    "rllrrrrrr")


def _escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                 (">", r"$>$"), ("<", r"$<$")):
        text = text.replace(a, b)
    return text


def _json_default(o: object) -> object:
    if isinstance(o, (np.integer, np.floating, np.bool_)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, sp.Basic):
        return sp.sstr(o, full_prec=True)
    if isinstance(o, Path):
        return str(o)
    return float(o)


def write_json(path: str | Path, record: Mapping) -> Path:
    """Write a result record as indented JSON (numpy numbers as numbers, sympy expressions as strings),
    making the folder; the one JSON writer of lawfind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, default=_json_default))
    return path


def bootstrap_replicates(record: Mapping) -> list[dict[str, float]]:
    """The bootstrap replicates of a fit record's parameters, one mapping each (none if not bootstrapped)."""
    boot = record.get("bootstrap_samples")
    if not boot:
        return []
    return [dict(zip(boot["names"], row)) for row in boot["values"]]


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
