"""A fitted law as a standalone Python function, for another harness.

SLDBench scores a law through ``law(input_data: list[dict], group: str) -> list[dict]``: the rows of
the inputs as dictionaries keyed by the table's column names, and the predicted target per row. The
source written here needs numpy alone (no lawfind, no sympy): the expression is printed with sympy's
NumPy printer, its constants inlined per group at full precision.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Mapping

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from .errors import OptionError
from .laws import Law

__all__ = ["python_source", "load_python_law"]


def python_source(law: Law, values: Mapping[str, Mapping[str, float]] | Mapping[str, float], *,
                  columns: Mapping[str, str] | None = None, target: str = "loss", name: str = "law") -> str:
    """The source of a module defining ``name(input_data, group=None) -> list[dict]``.

    Parameters
    ----------
    law:
        The law (its variables are the canonical names of :mod:`lawfind.symbols` or column names).
    values:
        The fitted constants, ``{param: value}``, or per group ``{group: {param: value}}``.
    columns:
        The table column behind each variable (``{"N": "params"}``); a variable not named here is
        read from the column of its own name.
    target:
        The key of the prediction in each returned dictionary.
    name:
        The function's name.
    """
    if not name.isidentifier() or keyword.iskeyword(name):
        raise OptionError(f"'{name}' is not a Python function name: use letters, digits and underscores")
    groups = _per_group(law, values)
    columns = dict(columns or {})
    present = {s.name for s in law.expr.free_symbols}
    used = [v for v in law.variables if v in present]
    rename = {law.symbol(v): sp.Symbol(f"x{i}") for i, v in enumerate(used)}
    rename.update({law.symbol(p): sp.Symbol(f"p_{i}") for i, p in enumerate(law.param_names) if p in present})
    code = _printer().doprint(law.expr.xreplace(rename))
    consts = {g: [float(vals[p]) for p in law.param_names] for g, vals in groups.items()}
    lines = [
        f'"""{law.name}: {target} = {sp.sstr(law.expr)}',
        "",
        "Written by lawfind. Needs numpy only.",
        '"""',
        "",
        "import numpy",
        "",
        f"PARAMETERS = {tuple(law.param_names)!r}",
        "#: the fitted constants per group (None: one set for every group)",
        "CONSTANTS = {",
        *[f"    {g!r}: {tuple(c)!r}," for g, c in consts.items()],
        "}",
        f"COLUMNS = {tuple(columns.get(v, v) for v in used)!r}",
        "",
        "",
        f"def {name}(input_data, group=None):",
        f'    """Predicted {target} for each row of ``input_data`` (dicts keyed by column name)."""',
        "    key = group if group in CONSTANTS else None",
        "    if key not in CONSTANTS:",
        "        raise KeyError(f'no constants for group {group!r}: known groups are {sorted(map(str, CONSTANTS))}')",
        "    " + (", ".join(f"p_{i}" for i in range(len(law.param_names))) + ", = CONSTANTS[key]"
                  if law.param_names else "pass"),
        "    cols = [numpy.asarray([float(row[c]) for row in input_data], dtype=float) for c in COLUMNS]",
        "    " + (", ".join(f"x{i}" for i in range(len(used))) + ", = cols" if used else "pass"),
        "    with numpy.errstate(all='ignore'):",
        f"        out = numpy.broadcast_to(numpy.asarray({code}, dtype=float), (len(input_data),))",
        f"    return [{{{target!r}: float(v)}} for v in out]",
        "",
    ]
    return "\n".join(lines)


def load_python_law(source: str, name: str = "law"):  # noqa: ANN201 - the function the source defines
    """Run ``source`` (from :func:`python_source`) in a fresh namespace and return its function."""
    space: dict = {}
    exec(compile(source, "<lawfind law>", "exec"), space)  # noqa: S102 - our own generated source
    return space[name]


def _per_group(law: Law, values: Mapping) -> dict[str | None, dict[str, float]]:
    if values and all(isinstance(v, Mapping) for v in values.values()):
        groups = {str(g): dict(v) for g, v in values.items()}
    else:
        groups = {None: dict(values)}
    for g, vals in groups.items():
        missing = [p for p in law.param_names if p not in vals]
        bad = [p for p in law.param_names if p in vals and not math.isfinite(float(vals[p]))]
        where = "" if g is None else f" of group {g!r}"
        if missing:
            raise OptionError(f"the constants{where} lack {', '.join(missing)}: give every parameter of the law")
        if bad:
            raise OptionError(f"the constants{where} are not finite: {', '.join(bad)}")
    return groups


def _printer() -> NumPyPrinter:
    return NumPyPrinter({"fully_qualified_modules": True})
