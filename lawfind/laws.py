"""Laws: a sympy expression for the loss over named variables, plus its parameters.

A :class:`Law` predicts the loss ``L`` from variables (``D``, ``N``, ``Na``, ``G``, ``S``, ``E`` or any
column name) through parameters, each with a range of initial values for multi-start fitting and
optional bounds. :func:`parse_law` reads one from a string: free symbols that are not variables
become parameters. :meth:`Law.compile` lambdifies the law and its analytic gradient once.
"""

from __future__ import annotations

import difflib
import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy as sp
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations
from tokenize import TokenError

from .errors import FormulaError, LawfindError, LawfindWarning, OptionError, did_you_mean
from .symbols import CANONICAL, DEFAULT_FEATURES, symbol

__all__ = ["Param", "Law", "CompiledLaw", "FUNCTIONS", "identifiers", "parse_law", "parse_pairs",
           "parse_ranges"]

#: Functions a formula may use; every other identifier is a variable or a parameter.
FUNCTIONS: dict[str, object] = {
    "log": sp.log, "ln": sp.log, "exp": sp.exp, "sqrt": sp.sqrt, "Abs": sp.Abs, "abs": sp.Abs,
    "Min": sp.Min, "Max": sp.Max, "min": sp.Min, "max": sp.Max, "log10": lambda x: sp.log(x, 10),
    "log2": lambda x: sp.log(x, 2), "tanh": sp.tanh, "sin": sp.sin, "cos": sp.cos, "pi": sp.pi,
}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


@dataclass(frozen=True)
class Param:
    """A fitted constant of a law.

    Parameters
    ----------
    name:
        The parameter's symbol name.
    init:
        ``(low, high)``: the range the multi-start fit draws initial values from.
    bounds:
        ``(low, high)`` hard bounds for the optimiser; ``None`` for unbounded sides.
    log_scale:
        Optimise ``log(value)`` rather than the value (for positive constants spanning decades).
    """

    name: str
    init: tuple[float, float] = (0.1, 1.0)
    bounds: tuple[float | None, float | None] = (None, None)
    log_scale: bool = False

    def __post_init__(self) -> None:
        lo, hi = self.init
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
            raise FormulaError(f"parameter '{self.name}': initial range {self.init} must be finite with low <= high")
        blo, bhi = self.bounds
        if blo is not None and bhi is not None and blo >= bhi:
            raise FormulaError(f"parameter '{self.name}': bounds {self.bounds} must have low < high")
        if self.log_scale and (lo <= 0 or (blo is not None and blo < 0)):
            raise FormulaError(f"parameter '{self.name}': log_scale needs a positive initial range, got {self.init}")


@dataclass(frozen=True)
class Law:
    """A scaling law: ``L = expr(variables; params)``.

    Parameters
    ----------
    name:
        Short identifier, e.g. ``"chinchilla"``.
    expr:
        The predicted loss as a sympy expression.
    variables:
        Names of the data variables the law reads, in a fixed order.
    params:
        The law's parameters, in a fixed order.
    citation, certainty, reference, notes:
        Where the law comes from, how sure we are of it (``seen``, ``notes``, ``memory``, ``ours``),
        published constants where known, and remarks.
    """

    name: str
    expr: sp.Expr
    variables: tuple[str, ...]
    params: tuple[Param, ...]
    citation: str = ""
    certainty: str = ""
    reference: Mapping[str, float] = field(default_factory=dict)
    notes: str = ""

    def __post_init__(self) -> None:
        names = {s.name for s in self.expr.free_symbols}
        declared = set(self.variables) | {p.name for p in self.params}
        if names - declared:
            raise FormulaError(f"law '{self.name}': symbols {sorted(names - declared)} are neither variables nor parameters")
        if len({p.name for p in self.params}) != len(self.params):
            raise FormulaError(f"law '{self.name}': duplicate parameter names")

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def n_params(self) -> int:
        return len(self.params)

    def symbol(self, name: str) -> sp.Symbol:
        """The symbol of a variable or parameter of this law, by name."""
        for s in self.expr.free_symbols:
            if s.name == name:
                return s
        raise FormulaError(f"law '{self.name}' has no symbol '{name}'")

    def with_params(self, params: Iterable[Param]) -> Law:
        """A copy whose parameter specs are replaced (by name) by ``params``."""
        new = {p.name: p for p in params}
        return Law(self.name, self.expr, self.variables, tuple(new.get(p.name, p) for p in self.params),
                   self.citation, self.certainty, self.reference, self.notes)

    def substitute(self, values: Mapping[str, float]) -> sp.Expr:
        """The expression with parameter values substituted (as sympy Floats)."""
        return self.expr.xreplace({self.symbol(k): sp.Float(v) for k, v in values.items()
                                   if k in self.param_names})

    def __getstate__(self) -> dict:
        """Pickle without the compiled functions (lambdified code does not pickle; it is rebuilt)."""
        state = dict(self.__dict__)
        state.pop("compiled", None)
        return state

    @cached_property
    def compiled(self) -> CompiledLaw:
        """The law and its gradient, lambdified once (cached on the instance)."""
        return CompiledLaw(self)

    def __str__(self) -> str:
        return f"{self.name}: L = {self.expr}"


class CompiledLaw:
    """A law lambdified for numpy, with its analytic gradient with respect to the parameters."""

    def __init__(self, law: Law) -> None:
        self.law = law
        psyms = [law.symbol(p) for p in law.param_names]
        vsyms = [law.symbol(v) if v in {s.name for s in law.expr.free_symbols} else sp.Symbol(v)
                 for v in law.variables]
        args = psyms + vsyms
        grads = [sp.diff(law.expr, p) for p in psyms]
        self._f = sp.lambdify(args, law.expr, "numpy")
        self._fg = sp.lambdify(args, [law.expr, *grads], "numpy", cse=True)
        self.n_params = len(psyms)

    def __call__(self, theta: Sequence[float | np.ndarray], X: Sequence[np.ndarray]) -> np.ndarray:
        """Predicted loss for parameters ``theta`` and variable columns ``X`` (in law order)."""
        n = len(X[0]) if len(X) else 1
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(self._f(*theta, *X), dtype=float), (n,))

    def rows(self, thetas: np.ndarray, X: Sequence[np.ndarray]) -> np.ndarray:
        """Predicted loss for every row of parameters ``thetas`` ``(R, n_params)`` at the columns ``X``
        (length ``m``): ``(R, m)``, parameters of shape ``(R, 1)`` broadcasting against the columns."""
        m = len(X[0]) if len(X) else 1
        with np.errstate(all="ignore"):
            out = self._f(*[thetas[:, j, None] for j in range(thetas.shape[1])], *X)
            return np.broadcast_to(np.asarray(out, dtype=float), (len(thetas), m))

    def value_and_jacobian(self, theta: Sequence[float | np.ndarray], X: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Predicted loss ``(n,)`` and its Jacobian ``(n_params, n)``."""
        with np.errstate(all="ignore"):
            return self.raw_value_and_jacobian(theta, X)

    def batch_value_and_jacobian(self, theta: Sequence[float | np.ndarray], X: Sequence[np.ndarray],
                                 shape: tuple[int, ...]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Predicted loss and its derivative in each parameter, each broadcast to ``shape``, for
        parameters that broadcast against the columns: ``(B, 1)`` (one value per parameter row) or
        ``(B, m)`` (one per row and point) against columns of length ``m`` give ``shape = (B, m)``.
        The law's value and gradient are evaluated once, in one lambdified call (read-only views;
        numpy's floating-point error state is left to the caller)."""
        out = self._fg(*theta, *X)
        return np.broadcast_to(out[0], shape), [np.broadcast_to(g, shape) for g in out[1:]]

    def raw_value_and_jacobian(self, theta: Sequence[float | np.ndarray], X: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`value_and_jacobian`, leaving numpy's floating-point error state to the caller."""
        n = len(X[0]) if len(X) else 1
        out = self._fg(*theta, *X)
        jac = np.empty((self.n_params + 1, n))
        for i, g in enumerate(out):
            jac[i] = g  # scalars (a constant derivative) broadcast on assignment
        return jac[0], jac[1:]


def _default_param(name: str, expr: sp.Expr) -> Param:
    """Initial range by the parameter's role: exponents start in (0, 1), others in (0.1, 10)."""
    sym = next(s for s in expr.free_symbols if s.name == name)
    in_exponent = any(sym in p.exp.free_symbols for p in expr.atoms(sp.Pow)) or any(
        sym in e.args[0].free_symbols for e in expr.atoms(sp.exp))
    if in_exponent:
        return Param(name, init=(0.05, 1.0))
    return Param(name, init=(0.1, 10.0))


def parse_pairs(text: str | None, *, ranges: bool = False, known: Sequence[str] | None = None,
                error: type[LawfindError] = OptionError) -> dict:
    """The one reader of ``NAME=VALUE`` lists (``"N=7e9,D=2e12"``) and ``NAME=LOW:HIGH`` lists (``ranges``).

    Every number must be finite, a name may appear once (and, given ``known``, must be one of them),
    and a range must not be reversed. Returns ``{name: value}`` or ``{name: (low, high)}``; empty for
    an empty text. A bad part raises ``error`` naming it and the fix.
    """
    form = "NAME=LOW:HIGH, e.g. 'alpha=0.1:1'" if ranges else "NAME=VALUE pairs, e.g. N=7e9,D=2e12"
    what = "the range " if ranges else ""
    out: dict = {}
    for item in filter(None, (t.strip() for t in (text or "").split(","))):
        name, sep, value = (t.strip() for t in item.partition("="))
        if not sep or not name:
            raise error(f"cannot read {what}'{item}': write {form}")
        if known is not None and name not in known:
            raise error(f"unknown variable '{name}' in '{text}'{did_you_mean(name, known)}; known: {', '.join(known)}")
        if name in out:
            raise error(f"'{name}' is given twice in '{text}'")
        parts = value.split(":") if ranges else [value]
        if len(parts) != (2 if ranges else 1):
            raise error(f"cannot read {what}'{item}': write {form}")
        try:
            numbers = [float(x) for x in parts]
        except ValueError:
            raise error(f"'{value}' is not a number in '{item}' (in '{text}'): write {form}") from None
        if not all(math.isfinite(x) for x in numbers):
            raise error(f"'{item}' is not finite: give finite numbers ({form})")
        if ranges and numbers[0] > numbers[1]:
            raise error(f"the range '{item}' is reversed: write LOW:HIGH, {name}={parts[1]}:{parts[0]}")
        out[name] = tuple(numbers) if ranges else numbers[0]
    return out


def parse_ranges(text: str | None) -> dict[str, tuple[float, float]]:
    """Parse ``"A=1:1000,alpha=0.1:1"`` into ``{"A": (1, 1000), "alpha": (0.1, 1)}`` (:func:`parse_pairs`)."""
    return parse_pairs(text, ranges=True, error=FormulaError)


def identifiers(text: str) -> set[str]:
    """The names a formula uses, functions (``log``, ``exp``, ...) left out."""
    return set(_IDENT.findall(text or "")) - set(FUNCTIONS)


def parse_law(
    text: str,
    variables: Sequence[str] | None = None,
    *,
    name: str = "custom",
    init: Mapping[str, tuple[float, float]] | None = None,
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    allow_constant: bool = False,
    strict: bool = False,
    params: Iterable[str] = (),
) -> Law:
    """Parse a law from a formula string: the one formula parser of lawfind.

    Parameters
    ----------
    text:
        The right-hand side of ``L = ...``, e.g. ``"E + A/N**alpha + B/D**beta"``. ``^`` means power.
        A leading ``L =`` or ``loss =`` is allowed. Functions: those of :data:`FUNCTIONS`.
    variables:
        Names of the data's variables (the table's features); default ``D, N, Na, G, S``. Every other free name is a
        parameter.
    name:
        Name of the resulting law.
    init, bounds:
        Initial ranges and bounds by parameter name, overriding the defaults.
    allow_constant:
        Accept a formula without parameters (a law typed with its numbers, a cost).
    strict:
        Refuse every name that is not a variable: the formula's constants must be numbers.
    params:
        Names to fit as constants even where a variable has the name. A name that is not a variable
        but looks like one (a canonical variable such as ``G``, a single capital letter raised to a
        power or whose logarithm is taken, or a name close to a variable's) draws a
        :class:`~lawfind.errors.LawfindWarning` unless it is listed here.

    Raises
    ------
    FormulaError
        If the formula does not parse, names no variable, has no parameter, or (``strict``) names
        something that is not a variable.
    """
    text = (text or "").strip()
    text = re.sub(r"^\s*(L|loss)\s*=\s*", "", text)
    if not text:
        raise FormulaError("the formula is empty: give the right-hand side of L = ..., e.g. 'E + A/N**alpha'")
    params = tuple(params)
    variables = tuple(v for v in (variables if variables is not None else DEFAULT_FEATURES) if v not in params)
    names = identifiers(text)
    if strict and names - set(variables):
        unknown = sorted(names - set(variables))
        raise FormulaError(f"the formula '{text}' has unknown names {unknown}{did_you_mean(unknown[0], variables)}: "
                           f"type the numbers of its constants (variables: {', '.join(variables)})")
    local: dict[str, object] = {f: FUNCTIONS[f] for f in set(_IDENT.findall(text)) & set(FUNCTIONS)}
    local.update({n: symbol(n) if n in variables else sp.Symbol(n, real=True) for n in names})
    try:
        expr = parse_expr(text, local_dict=local, global_dict={"Integer": sp.Integer, "Float": sp.Float,
                                                                 "Rational": sp.Rational, "Symbol": sp.Symbol},
                          transformations=(*standard_transformations, convert_xor), evaluate=True)
    except (SyntaxError, TypeError, ValueError, AttributeError, TokenError, RecursionError) as exc:
        raise FormulaError(f"cannot parse the formula '{text}': {_first_line(exc)}. Write it in Python syntax, "
                           "e.g. 'E + A/N**alpha + B/D**beta'") from None
    if not isinstance(expr, sp.Expr):
        raise FormulaError(f"the formula '{text}' is not an expression (did you write a comparison?)")
    names = sorted(s.name for s in expr.free_symbols)
    used_vars = tuple(v for v in variables if v in names)
    if not used_vars:
        raise FormulaError(f"the formula '{text}' uses none of the variables {', '.join(variables)}: "
                           "name at least one data column")
    pnames = [n for n in names if n not in variables]
    if not pnames and not allow_constant:
        raise FormulaError(f"the formula '{text}' has no parameter to fit: use names like A, alpha for constants")
    init, bounds = dict(init or {}), dict(bounds or {})
    unknown = (set(init) | set(bounds) | set(params)) - set(pnames)
    if unknown:
        raise FormulaError(f"ranges or constants given for {sorted(unknown)}, which are not parameters of '{text}' "
                           f"(its parameters: {', '.join(pnames) or 'none'})")
    for p in pnames:
        if p not in params and _looks_like_variable(p, expr, variables):
            warnings.warn(_not_a_column(p, variables, used_vars), LawfindWarning, stacklevel=2)
    params_ = []
    for p in pnames:
        base = _default_param(p, expr)
        params_.append(Param(p, init=init.get(p, base.init), bounds=bounds.get(p, base.bounds)))
    return Law(name, expr, used_vars, tuple(params_))


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[-1] if lines else type(exc).__name__


def _looks_like_variable(p: str, expr: sp.Expr, variables: Sequence[str]) -> bool:
    """A canonical variable's name, a capital letter read like a variable, or a name close to a variable's."""
    if p in CANONICAL or difflib.get_close_matches(p, variables, n=1, cutoff=0.8):
        return True
    if not (len(p) == 1 and p.isupper()):
        return False
    sym = next(s for s in expr.free_symbols if s.name == p)
    as_base = any(pw.base == sym and not pw.exp.is_Integer for pw in expr.atoms(sp.Pow))
    logged = any(f.args[0] == sym for f in expr.atoms(sp.log))
    return as_base or logged


def _not_a_column(p: str, variables: Sequence[str], used: Sequence[str]) -> str:
    close = difflib.get_close_matches(p, variables, n=1, cutoff=0.5)
    unused = [v for v in variables if v not in used]
    guess = (f", or did you mean {close[0]}?" if close else
             f", or did you mean {unused[0]} (a column the formula does not use)?" if len(unused) == 1 else
             f", or did you mean one of the columns the formula does not use ({', '.join(unused)})?" if unused else "")
    return f"{p} is not a column of the table: fitted as a constant; pass --params {p} to silence this{guess}"


def make_callable(law: Law, values: Mapping[str, float]) -> Callable[..., np.ndarray]:
    """A numpy function ``f(**variables) -> loss`` with the law's parameters fixed."""
    theta = [float(values[p]) for p in law.param_names]
    compiled = law.compiled

    def f(**columns: np.ndarray) -> np.ndarray:
        missing = [v for v in law.variables if v not in columns]
        if missing:
            raise FormulaError(f"law '{law.name}' needs the variables {missing}")
        X = [np.asarray(columns[v], dtype=float) for v in law.variables]
        X = np.broadcast_arrays(*X) if X else X
        return compiled(theta, X)

    return f
