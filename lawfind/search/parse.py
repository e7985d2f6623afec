"""One reader of expressions written as text by others: search engines and lawfind's own files.

Every text goes through :func:`parse_expression`, on the functions of :data:`lawfind.laws.FUNCTIONS`
(plus the few pyoperon adds: ``square``, ``cbrt``, ``pow``, ``logabs``, ``sqrtabs``, ``aq``), with
``^`` read as a power and no name taken from sympy's namespace (``E``, ``S``, ``beta`` stay symbols).
Users' formulas go through :func:`lawfind.laws.parse_law`, which also decides which names are
parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from tokenize import TokenError

import sympy as sp
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from ..errors import FormulaError
from ..laws import FUNCTIONS, identifiers
from ..symbols import symbol

__all__ = ["ENGINE_FUNCTIONS", "parse_expression", "parse_operon", "parse_pysr", "parse_text"]

#: The functions engines write: lawfind's, and pyoperon's own.
ENGINE_FUNCTIONS: dict[str, object] = {
    **FUNCTIONS, "square": lambda x: x ** 2, "cbrt": lambda x: sp.cbrt(x), "pow": sp.Pow,
    "logabs": lambda x: sp.log(sp.Abs(x)), "sqrtabs": lambda x: sp.sqrt(sp.Abs(x)),
    "aq": lambda a, b: a / sp.sqrt(1 + b ** 2),
}
_GLOBALS = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational, "Symbol": sp.Symbol,
            "Function": sp.Function}


def parse_expression(text: str, names: Mapping[str, object] | None = None, *,
                     functions: Mapping[str, object] = ENGINE_FUNCTIONS) -> sp.Expr:
    """Read ``text`` as a sympy expression.

    Parameters
    ----------
    text:
        The expression, in Python syntax (``^`` is a power).
    names:
        What names stand for (a sympy expression, or a callable for a function); every other name
        is a plain :class:`sympy.Symbol`.
    functions:
        The functions the text may call.

    Raises
    ------
    FormulaError
        If the text does not parse.
    """
    text = str(text)
    local = {f: fn for f, fn in functions.items() if f in text}
    local.update(names or {})
    try:
        return parse_expr(text, local_dict=local, global_dict=dict(_GLOBALS),
                          transformations=(*standard_transformations, convert_xor), evaluate=True)
    except (SyntaxError, TypeError, ValueError, AttributeError, TokenError, RecursionError, sp.SympifyError) as exc:
        raise FormulaError(f"cannot read the expression '{text}': {exc}") from None


def parse_operon(text: str, inputs: Sequence[sp.Expr]) -> sp.Expr:
    """pyoperon's infix text, ``X1..Xk`` mapped to the engine's inputs (``log(N)``, ``S``)."""
    return parse_expression(text, {f"X{i + 1}": inp for i, inp in enumerate(inputs)})


def parse_pysr(text: str, inputs: Mapping[str, str]) -> sp.Expr:
    """A PySR equation over its input names (``inputs``: feature -> input name, ``lN`` for ``log(N)``)."""
    return parse_expression(text, {n: (sp.log(symbol(f)) if n != f else symbol(f)) for f, n in inputs.items()})


def parse_text(text: str) -> sp.Expr:
    """An expression lawfind wrote as text (a row of equations.csv, a closed form of a JSON record):
    every name a plain symbol, the functions of lawfind's formulas."""
    return parse_expression(text, {n: sp.Symbol(n) for n in identifiers(str(text))}, functions=FUNCTIONS)
