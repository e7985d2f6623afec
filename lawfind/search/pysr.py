"""PySR backend, used where a working Julia is found.

PySR runs SymbolicRegression.jl through juliacall. Importing ``pysr`` without a Julia runtime and
its packages tries to download them and raises a plain ``Exception`` (not ``ImportError``), so the
probe imports it in a subprocess with a timeout and reports why it failed. Like the operon engine it
searches on ``log(x)`` inputs (``S`` as it is) with {+, *, exp}; a template such as
``"f(N, Na, D) * g(G, S)"`` becomes a ``TemplateExpressionSpec`` for a structured search, and
catalogue laws can seed the search as ``guesses``.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import sympy as sp

from .. import catalog
from ..data import RunTable
from ..errors import LawfindError, OptionError
from ..symbols import symbol
from .base import Candidate, Progress, feature_transform, transformed_matrix
from .parse import parse_expression, parse_pysr

__all__ = ["PySREngine", "JuliaStatus", "julia_status", "parse_template_equation", "EngineUnavailable"]

INSTALL_HINT = ("install Julia (see https://julialang.org/downloads) and `pip install \"lawfind[pysr]\"`, then "
                "run `python -c \"import pysr\"` once with internet access so that juliacall installs "
                "PySR's Julia packages; or use --engine operon")


class EngineUnavailable(LawfindError):
    """A search engine cannot run on this machine."""


@dataclass(frozen=True)
class JuliaStatus:
    ok: bool
    message: str


@functools.lru_cache(maxsize=1)
def julia_status(timeout: float | None = None) -> JuliaStatus:
    """Can PySR start Julia here? Probed once per process, in a subprocess with a timeout."""
    if importlib.util.find_spec("pysr") is None:
        return JuliaStatus(False, f"PySR is not installed: {INSTALL_HINT}")
    timeout = timeout or float(os.environ.get("LAWFIND_PYSR_PROBE_TIMEOUT", "120"))
    code = "import pysr, sys; from pysr import PySRRegressor; print(pysr.__version__)"
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return JuliaStatus(False, f"importing pysr took over {timeout:.0f} s (is it downloading Julia?): {INSTALL_HINT}")
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        return JuliaStatus(False, f"PySR cannot start Julia ({lines[-1] if lines else 'exit ' + str(proc.returncode)}): "
                                  f"{INSTALL_HINT}")
    return JuliaStatus(True, f"PySR {proc.stdout.strip()} with a working Julia")


def _input_names(features: Sequence[str]) -> list[str]:
    """Julia-safe names of the engine inputs: ``lN`` for ``log(N)``, ``S`` for ``S``."""
    return [f if feature_transform(f) == "identity" else f"l{f}" for f in features]


_FUNC_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_KNOWN = {"exp", "log", "sqrt", "abs"}


def template_parts(template: str, features: Sequence[str]) -> tuple[list[str], list[str], str]:
    """The template's function names, its constants, and the Julia combine string over the inputs."""
    funcs = [f for f in dict.fromkeys(_FUNC_CALL.findall(template)) if f not in _KNOWN]
    if not funcs:
        raise OptionError(f"the template '{template}' has no function to search: write e.g. 'f(N, Na, D) * g(G, S)'")
    names = dict(zip(features, _input_names(features)))
    idents = [i for i in dict.fromkeys(re.findall(r"\b[A-Za-z_]\w*\b", template)) if i not in funcs and i not in _KNOWN]
    consts = [i for i in idents if i not in names]
    combine = template.replace("**", "^")
    for i, c in enumerate(consts, 1):
        combine = re.sub(rf"\b{c}\b", f"p[{i}]", combine)
    for f, n in names.items():
        if feature_transform(f) == "log":
            combine = re.sub(rf"\b{f}\b(?!\s*\()", n, combine)
    return funcs, consts, combine


def parse_template_equation(text: str, template: str, features: Sequence[str]) -> sp.Expr:
    """A template result (``f = #1 * 2.1; g = exp(#2)``, one line each or ``;``-separated, with
    optional ``p = [..]``) as one sympy expression in the variables."""
    funcs, consts, _ = template_parts(template, features)
    parts: dict[str, str] = {}
    for piece in re.split(r"[;\n]", text):
        piece = piece.strip().lstrip("╭│╰├ ").strip()
        if "=" in piece:
            k, _, v = piece.partition("=")
            parts[k.strip()] = v.strip()
    inputs = {f: (symbol(f) if feature_transform(f) == "identity" else sp.log(symbol(f))) for f in features}
    local = {f: symbol(f) for f in features}
    subs_funcs = {}
    for f in funcs:
        if f not in parts:
            raise OptionError(f"the template result has no part '{f}': {text!r}")
        body = re.sub(r"#(\d+)", r"__arg\1", parts[f].replace("^", "**"))
        subs_funcs[f] = parse_expression(body, local)
    values = []
    if "p" in parts:
        values = [float(x) for x in re.findall(r"[-+0-9.eE]+", parts["p"])]
    call_local = dict(local)
    for f, body in subs_funcs.items():
        def make(body=body):
            return lambda *args: body.xreplace({sp.Symbol(f"__arg{i + 1}"): a for i, a in enumerate(args)})
        call_local[f] = make()
    for i, c in enumerate(consts):
        call_local[c] = sp.Float(values[i]) if i < len(values) else sp.Symbol(c, real=True)
    expr = parse_expression(template, {**call_local, **{f: inputs[f] for f in features}})
    # the template names variables; engine inputs were log(x): a bare variable in the template means log(x)
    return expr


@dataclass(frozen=True)
class PySREngine:
    """PySR search (needs Julia; see :func:`julia_status`).

    Parameters
    ----------
    niterations, populations, maxsize:
        PySR's budget and largest expression.
    time_budget:
        Seconds (PySR's ``timeout_in_seconds``).
    seed:
        ``random_state``; the search runs ``deterministic`` and serial for reproducibility.
    template:
        A structured form over the variables, e.g. ``"E0 + f(N, Na, D) * g(G, S)"``; names that are
        neither functions nor variables are constants.
    seed_with_catalog:
        Start the search from the catalogue laws that apply (PySR's ``guesses``).
    """

    niterations: int = 40
    populations: int = 15
    maxsize: int = 30
    time_budget: float | None = None
    seed: int = 0
    template: str | None = None
    seed_with_catalog: bool = True
    name: str = field(default="pysr", init=False)
    OPTIONS: ClassVar[frozenset[str]] = frozenset({"niterations", "populations", "maxsize", "time_budget", "seed",
                                                   "template", "seed_with_catalog"})

    def search(self, table: RunTable, *, progress: Progress | None = None) -> list[Candidate]:
        status = julia_status()
        if not status.ok:
            raise EngineUnavailable(f"the pysr engine is unavailable: {status.message}")
        from pysr import PySRRegressor, TemplateExpressionSpec  # noqa: PLC0415 (needs Julia)

        names = _input_names(table.features)
        kwargs = dict(binary_operators=["+", "*"], unary_operators=["exp"], niterations=self.niterations,
                      populations=self.populations, maxsize=self.maxsize, random_state=self.seed,
                      deterministic=True, parallelism="serial", timeout_in_seconds=self.time_budget,
                      progress=progress is None, verbosity=0, temp_equation_file=True)
        if self.template:
            funcs, consts, combine = template_parts(self.template, table.features)
            kwargs["expression_spec"] = TemplateExpressionSpec(
                expressions=funcs, variable_names=names, combine=combine,
                **({"parameters": {"p": len(consts)}} if consts else {}))
        elif self.seed_with_catalog:
            guesses = _catalog_guesses(table.features)
            if guesses:
                kwargs["guesses"] = guesses
        model = PySRRegressor(**kwargs)
        model.fit(transformed_matrix(table, np.float64), table.y, variable_names=names)
        if progress:
            progress(1, 1, "PySR search done")
        out = []
        for _, row in model.equations_.iterrows():
            if self.template:
                expr = parse_template_equation(str(row["equation"]), self.template, table.features)
            else:
                expr = parse_pysr(str(row["equation"]), dict(zip(table.features, names)))
            out.append(Candidate(expr, f"pysr:seed{self.seed}", str(row["equation"]), int(row["complexity"]),
                                 engine=self.name))
        return out


def _catalog_guesses(features: Sequence[str]) -> list[str]:
    """Catalogue laws that apply, in PySR's input names, constants at the middle of their ranges."""
    names = dict(zip(features, _input_names(features)))
    out = []
    for law_name in catalog.names():
        law = catalog.get(law_name)
        if not all(v in features for v in law.variables):
            continue
        mids = {p.name: (np.sqrt(p.init[0] * p.init[1]) if p.log_scale else sum(p.init) / 2) for p in law.params}
        expr = law.substitute(mids)
        expr = expr.xreplace({law.symbol(v): (sp.exp(sp.Symbol(names[v])) if names[v] != v else sp.Symbol(v))
                              for v in law.variables})
        out.append(sp.sstr(sp.N(expr, 6)).replace("**", "^"))
    return out
