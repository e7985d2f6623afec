"""A discovery's record: where its results are written, and where they are read back.

A fitted law is saved as one JSON record: ``lawfind fit --out`` writes it for one fit, and
``lawfind discover`` writes it as ``best.json``, adding how the law was chosen (``selection``),
whether it is admissible, the table's column names and the provenance. :class:`LawRecord` is that
record, typed, with :meth:`~LawRecord.to_dict` / :meth:`~LawRecord.from_dict` (the format carries a
``version``; a record without one, written before versions, reads as version 0).

A discovery's folder, written by :func:`save_discovery` (:meth:`lawfind.discovery.Discovery.save`,
``lawfind discover --out``):

==============================  ===================================================================
``best.json``                   the chosen law's :class:`LawRecord` (with its bootstrap replicates)
``best.tex``                    the chosen law and the front as LaTeX
``equations.csv``               the front of constants against extrapolation error
``candidates.csv``, ``runs.csv``  every scored candidate; every run with its split and prediction
                                (:mod:`lawfind.report.tables`)
``*.png``                       predicted against observed, residuals, loss against constants
``report.html``, ``optima.json``  the report and the chosen law's optima (when asked for)
==============================  ===================================================================

:func:`load_discovery` reads the record back from a folder, its ``best.json`` or a ``fit --out``
file; :func:`load_fit`, :meth:`lawfind.predict.Predictor.from_json`, the report
(:func:`lawfind.report.read_folder`) and ``lawfind optimize`` all read through it.
"""

from __future__ import annotations

import html
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp

from .errors import DataError, FormulaError, OptionError, show_path
from .export import latex_fit, write_json
from .laws import FUNCTIONS, Law, Param, identifiers, parse_law

if TYPE_CHECKING:  # ``Discovery`` (lawfind.discovery, which imports this module's readers) stays a name
    from .fit import FitResult
    from .metrics import Metrics

__all__ = ["LawRecord", "Parameter", "Admissibility", "Selection", "load_discovery", "save_discovery", "save_index",
           "folder_name", "target_lines", "fit_to_dict", "save_fit", "load_fit",
           "FORMAT_VERSION", "BEST", "OUTPUTS"]

#: The version of the record's format that this lawfind writes (0: a record from before versions).
FORMAT_VERSION = 1
BEST = "best.json"
TABLES = ("equations.csv", "candidates.csv", "runs.csv")
PLOTS = ("predicted_vs_observed.png", "residuals.png", "loss_vs_complexity.png")
REPORT = ("report.html", "optima.json")
#: Every file lawfind writes in a discovery's folder; ``best.json`` last, the order they are put in place.
OUTPUTS = (*TABLES, "best.tex", *PLOTS, *REPORT, BEST)


@dataclass(frozen=True)
class Parameter:
    """A fitted constant: its value, standard error and 95 % interval (where bootstrapped)."""

    value: float
    stderr: float | None = None
    interval95: tuple[float, float] | None = None

    def to_dict(self) -> dict:
        out: dict[str, object] = {"value": self.value}
        if self.stderr is not None:
            out["stderr"] = self.stderr
        if self.interval95 is not None:
            out["interval95"] = list(self.interval95)
        return out

    @classmethod
    def from_dict(cls, entry: Mapping) -> Parameter:
        value = float(entry["value"])
        ivl = entry.get("interval95")
        return cls(value, entry.get("stderr"), None if ivl is None else (ivl[0], ivl[1]))


@dataclass(frozen=True)
class Admissibility:
    """Whether the chosen law is admissible (:class:`lawfind.admissible.Verdict`), and the roles and
    the reach beyond the data it was checked with."""

    admissible: bool | None
    reasons: tuple[str, ...] = ()
    limit: float | None = None
    method: str | None = None
    roles: str | None = None
    factor: float | None = None

    def to_dict(self) -> dict:
        return {"admissible": self.admissible, "reasons": list(self.reasons), "limit": self.limit,
                "method": self.method, "roles": self.roles, "factor": self.factor}

    @classmethod
    def from_dict(cls, entry: Mapping) -> Admissibility:
        return cls(entry.get("admissible"), tuple(entry.get("reasons") or ()), entry.get("limit"),
                   entry.get("method"), entry.get("roles"), entry.get("factor"))


@dataclass(frozen=True)
class Selection:
    """How a discovery chose its law: the rule, the validation and splits, the search's settings, the
    chosen law's extrapolation error, the candidates (and those set aside, by reason), its row of the front,
    and the extrapolation steps that decided (``steps``: axis -> count, ``size``, ``data``, ``compute`` or
    ``random``) with how much to trust them (``trust``: :data:`lawfind.selection.TRUST`)."""

    model_selection: str | None = None
    validation: str | None = None
    splits: str = ""
    engine: str | None = None
    seed: int | None = None
    generations: int | None = None
    seeds: int | None = None
    time_budget: float | None = None
    extrapolation_rmse_log: float | None = None
    extrapolation_se: float | None = None
    candidates: int | None = None
    set_aside: Mapping[str, int] = field(default_factory=dict)
    front_index: int | None = None
    steps: Mapping[str, int] = field(default_factory=dict)
    trust: str | None = None

    def to_dict(self) -> dict:
        return {"model_selection": self.model_selection, "validation": self.validation, "splits": self.splits,
                "engine": self.engine, "seed": self.seed, "generations": self.generations, "seeds": self.seeds,
                "time_budget": self.time_budget, "extrapolation_rmse_log": self.extrapolation_rmse_log,
                "extrapolation_se": self.extrapolation_se, "candidates": self.candidates,
                "set_aside": dict(self.set_aside), "front_index": self.front_index, "steps": dict(self.steps),
                "trust": self.trust}

    @classmethod
    def from_dict(cls, entry: Mapping) -> Selection:
        index = entry.get("front_index")
        return cls(entry.get("model_selection"), entry.get("validation"), entry.get("splits") or "",
                   entry.get("engine"), entry.get("seed"), entry.get("generations"), entry.get("seeds"),
                   entry.get("time_budget"), entry.get("extrapolation_rmse_log"), entry.get("extrapolation_se"),
                   entry.get("candidates"), dict(entry.get("set_aside") or {}), None if index is None else int(index),
                   {str(k): int(n) for k, n in (entry.get("steps") or {}).items()}, entry.get("trust"))


#: The keys of a record that :class:`LawRecord` holds in its fields; any other key is kept in ``extra``.
_KEYS = ("version", "law", "formula", "variables", "param_specs", "expression", "latex", "parameters", "metrics",
         "fit", "citation", "certainty", "data_hash", "ranges", "bootstrap_samples", "columns", "admissibility",
         "selection", "provenance")


@dataclass(frozen=True, eq=False)
class LawRecord:
    """A fitted law as lawfind saves it: a ``fit --out`` file, or a discovery's ``best.json``.

    Attributes
    ----------
    law:
        The law, with its parameter specs.
    parameters:
        Each constant's :class:`Parameter` (value, and standard error and interval where bootstrapped).
    expression, latex:
        The law with its numbers, as sympy text (in the table's column names for a discovery) and LaTeX;
        one per group (a mapping) for a fit with per-group parameters.
    metrics:
        Test metrics (:meth:`lawfind.compare.Metrics.as_dict`), empty where none were computed.
    fit:
        The fit's diagnostics: loss, objective, convergence, starts, warnings, groups, and the
        bootstrap's and the noise's summaries (:meth:`lawfind.fit.FitResult.uncertainty`).
    citation, certainty, data_hash:
        The law's source and standing, and the fitted table's hash.
    ranges:
        Each variable's (min, max) in the fitted data.
    bootstrap, bootstrap_names:
        The bootstrap replicates ``(R, p)``, one column per name, or ``None``.
    columns, admissibility, selection, provenance:
        A discovery's: variable -> table column, :class:`Admissibility`, :class:`Selection`, and where
        the discovery came from (lawfind's version, the command, the data file and its SHA-256, ...).
        ``None`` in a ``fit --out`` file.
    extra:
        Any other key of the file, kept as it is (``lawfind optimize --out`` adds its optima).
    version:
        The format version the record was read from (:data:`FORMAT_VERSION` for a new one, 0 for a
        file from before versions); :meth:`to_dict` always writes the current format.
    """

    law: Law
    parameters: Mapping[str, Parameter]
    expression: str | Mapping[str, str] = ""
    latex: str | Mapping[str, str] = ""
    metrics: Mapping[str, float] = field(default_factory=dict)
    fit: Mapping[str, object] = field(default_factory=dict)
    citation: str = ""
    certainty: str = ""
    data_hash: str | None = None
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    bootstrap: np.ndarray | None = None
    bootstrap_names: tuple[str, ...] = ()
    columns: Mapping[str, str] | None = None
    admissibility: Admissibility | None = None
    selection: Selection | None = None
    provenance: Mapping[str, object] | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
    version: int = FORMAT_VERSION

    # ---- views ------------------------------------------------------------------------------------

    @property
    def values(self) -> dict[str, float]:
        """The fitted constants."""
        return {k: p.value for k, p in self.parameters.items()}

    @property
    def target(self) -> str:
        """The name of the fitted target column (``"loss"`` where the record does not say)."""
        return str(self.extra.get("target") or "loss")

    @property
    def is_discovery(self) -> bool:
        """Whether the record is a discovery's ``best.json`` (it says how the law was chosen)."""
        return self.selection is not None

    @property
    def warnings(self) -> tuple[str, ...]:
        """The fit's notes (bootstrap refits on a bound, no convergence, ...)."""
        return tuple(self.fit.get("warnings") or ())

    def replicates(self) -> list[dict[str, float]]:
        """The bootstrap replicates of the constants, one mapping each (none if not bootstrapped)."""
        if self.bootstrap is None:
            return []
        return [dict(zip(self.bootstrap_names, row)) for row in self.bootstrap.tolist()]

    def replicate_matrix(self, names: Sequence[str]) -> np.ndarray:
        """The replicates ``(R, len(names))`` in the order of ``names`` (``R`` is 0 without a bootstrap).

        Raises
        ------
        DataError
            If the replicates lack one of ``names``.
        """
        if self.bootstrap is None or not len(self.bootstrap):
            return np.empty((0, len(names)))
        missing = [p for p in names if p not in self.bootstrap_names]
        if missing:
            raise DataError(f"the bootstrap samples lack the parameters {missing}")
        return self.bootstrap[:, [self.bootstrap_names.index(p) for p in names]]

    # ---- groups -----------------------------------------------------------------------------------

    @property
    def per_group(self) -> tuple[str, ...]:
        """The parameters fitted once per group level (empty for one set of constants)."""
        return tuple(self.fit.get("per_group") or ())

    @property
    def group(self) -> str | None:
        """The group column of a law with per-group constants (``None`` otherwise)."""
        return self.fit.get("group") if self.per_group else None

    @property
    def groups(self) -> tuple[str, ...]:
        """The group levels with constants of their own (empty without per-group parameters)."""
        return tuple(str(g) for g in self.fit.get("groups") or ()) if self.per_group else ()

    def check_level(self, level: object) -> str:
        """``level`` as one of :attr:`groups`, or an :class:`OptionError` naming the known levels."""
        text = str(level)
        if text not in self.groups:
            from .errors import did_you_mean

            raise OptionError(f"'{text}' is not a level of the group column '{self.group}'"
                              f"{did_you_mean(text, self.groups)}: the law has constants for "
                              f"{', '.join(self.groups)}")
        return text

    def group_values(self, level: object = None) -> dict[str, float]:
        """The law's constants by parameter name for one group level (the only set, without groups)."""
        if not self.per_group:
            return self.values
        level = self.check_level(level)
        return {p: self.parameters[f"{p}[{level}]" if p in self.per_group else p].value for p in self.law.param_names}

    def values_by_group(self) -> dict[str, dict[str, float]]:
        """``{level: {param: value}}`` for a law with per-group constants (what
        :func:`lawfind.pyexport.python_source` takes); empty without groups."""
        return {lev: self.group_values(lev) for lev in self.groups}

    def for_group(self, level: object) -> LawRecord:
        """The record of one group level's law: plain parameter names, that level's constants, the
        bootstrap replicates' columns for it, and ``fit["level"]`` saying which level it is.

        Raises
        ------
        OptionError
            If ``level`` is not a level of the fitted groups (with a did-you-mean).
        """
        if not self.per_group:
            return self
        level = self.check_level(level)
        key = {p: f"{p}[{level}]" if p in self.per_group else p for p in self.law.param_names}
        boot, names = None, ()
        if self.bootstrap is not None and all(k in self.bootstrap_names for k in key.values()):
            boot = self.bootstrap[:, [self.bootstrap_names.index(key[p]) for p in self.law.param_names]]
            names = tuple(self.law.param_names)

        def one(text: str | Mapping[str, str]) -> str:
            return text if isinstance(text, str) else str(text.get(level, ""))

        return replace(self, parameters={p: self.parameters[k] for p, k in key.items()},
                       expression=one(self.expression), latex=one(self.latex), bootstrap=boot, bootstrap_names=names,
                       fit={**self.fit, "per_group": [], "groups": [], "level": level})

    # ---- building ---------------------------------------------------------------------------------

    @classmethod
    def from_fit(cls, fit: FitResult, metrics: Metrics | None = None, precision: int = 4,
                 ranges: Mapping[str, tuple[float, float]] | None = None) -> LawRecord:
        """The record of a fit: its constants with intervals, ``metrics``, the data's ``ranges`` and the
        bootstrap replicates (so that optima get intervals from the file alone)."""
        levels = fit.groups if fit.per_group else (None,)
        params = {name: Parameter(value, fit.stderr[name], tuple(fit.intervals[name])) if fit.stderr
                  else Parameter(value) for name, value in fit.values.items()}
        exprs = {str(lev): sp.sstr(fit.substituted(lev), full_prec=True) for lev in levels}
        single = levels == (None,)
        return cls(
            law=fit.law, parameters=params,
            expression=exprs["None"] if single else exprs,
            latex=latex_fit(fit, precision) if single else {str(lev): latex_fit(fit, precision, lev) for lev in levels},
            metrics=metrics.as_dict() if metrics else {},
            fit={"loss": fit.loss, "delta": fit.delta, "objective": fit.objective, "n_obs": fit.n_obs,
                 "converged": fit.converged, "n_starts": fit.n_starts, "n_at_best": fit.n_at_best,
                 "warnings": list(fit.warnings), "group": fit.group, "per_group": list(fit.per_group),
                 "groups": list(fit.groups), **fit.uncertainty()},
            citation=fit.law.citation, certainty=fit.law.certainty, data_hash=fit.data_hash,
            ranges={k: (float(a), float(b)) for k, (a, b) in (ranges or {}).items()},
            bootstrap=None if fit.bootstrap is None else np.asarray(fit.bootstrap, dtype=float),
            bootstrap_names=tuple(fit.values))

    @classmethod
    def from_discovery(cls, disc: Discovery, provenance: Mapping | None = None) -> LawRecord:
        """The record of a fitted :class:`~lawfind.discovery.Discovery`'s chosen law (its ``best.json``),
        with ``provenance`` where given."""
        base = cls.from_fit(disc.best_, disc.best_metrics_, ranges=disc.table_.ranges())
        v, i = disc.best_verdict_, disc.best_index_
        ev = disc.splits_.evidence
        expression = ({lev: sp.sstr(disc.sympy(level=lev), full_prec=True) for lev in disc.best_.groups}
                      if disc.best_.per_group else sp.sstr(disc.sympy(), full_prec=True))
        return replace(
            base, expression=expression, columns=dict(disc.table_.columns or {}),
            admissibility=Admissibility(v.ok, tuple(str(r) for r in v.reasons), v.limit, v.method,
                                        disc.roles_.describe(), disc.extrapolation_factor),
            selection=Selection(disc.model_selection, disc.validation, disc.splits_.description, disc.engine,
                                disc.seed, disc.generations, disc.seeds, disc.time_budget,
                                float(disc.equations_["loss"][i]), float(disc.equations_["loss_se"][i]),
                                disc.n_candidates_, {_name(k): int(n) for k, n in disc.set_aside_.items()}, int(i),
                                dict(ev.steps) if ev else {}, ev.trust if ev else None),
            provenance=None if provenance is None else dict(provenance), extra={"target": disc.table_.target})

    # ---- the format -------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The JSON-ready record, in the current format (:data:`FORMAT_VERSION`)."""
        law = self.law
        out: dict[str, object] = {
            "version": FORMAT_VERSION,
            "law": law.name,
            "formula": sp.sstr(law.expr),
            "variables": list(law.variables),
            "param_specs": [{"name": p.name, "init": list(p.init), "bounds": list(p.bounds), "log_scale": p.log_scale}
                            for p in law.params],
            "expression": self.expression if isinstance(self.expression, str) else dict(self.expression),
            "latex": self.latex if isinstance(self.latex, str) else dict(self.latex),
            "parameters": {k: p.to_dict() for k, p in self.parameters.items()},
            "metrics": dict(self.metrics),
            "fit": dict(self.fit),
            "citation": self.citation,
            "certainty": self.certainty,
            "data_hash": self.data_hash,
            "ranges": {k: [float(a), float(b)] for k, (a, b) in self.ranges.items()},
            "bootstrap_samples": None if self.bootstrap is None else
            {"names": list(self.bootstrap_names), "values": self.bootstrap.tolist()},
        }
        if self.columns is not None:
            out["columns"] = dict(self.columns)
        if self.admissibility is not None:
            out["admissibility"] = self.admissibility.to_dict()
        if self.selection is not None:
            out["selection"] = self.selection.to_dict()
        if self.provenance is not None:
            out["provenance"] = dict(self.provenance)
        return {**out, **self.extra}

    @classmethod
    def from_dict(cls, record: Mapping, source: str = "the record") -> LawRecord:
        """Read a record (as :meth:`to_dict` writes it, or a file from before versions).

        ``source`` names the record in messages (its file).

        Raises
        ------
        DataError
            If it lacks the law's formula, variables or parameters, holds something unreadable, or
            comes from a newer lawfind.
        FormulaError
            If its formula does not parse.
        """
        if not isinstance(record, Mapping):
            raise DataError(f"'{source}' is not a lawfind JSON file: it holds a {type(record).__name__}, not a record")
        version = record.get("version", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise DataError(f"'{source}' has the format version {version!r}, which is no version: write it again "
                            "with lawfind")
        if version > FORMAT_VERSION:
            raise DataError(f"'{source}' was written by a newer lawfind (format version {version}; this one reads up "
                            f"to {FORMAT_VERSION}): upgrade lawfind")
        for key in ("formula", "variables", "parameters"):
            if key not in record:
                raise DataError(f"'{source}' lacks '{key}': is it a best.json or a fit written by lawfind?")
        try:
            law = parse_law(record["formula"], record["variables"], name=record.get("law", "law"),
                            allow_constant=not record["parameters"],
                            params=list(dict.fromkeys(_base_name(k) for k in record["parameters"])))
            specs = [Param(s["name"], tuple(s["init"]), tuple(s["bounds"]), s["log_scale"])
                     for s in record.get("param_specs", [])]
            params = {k: Parameter.from_dict(v) for k, v in record["parameters"].items()}
            boot = record.get("bootstrap_samples") or None
            names = tuple(boot["names"]) if boot else ()
            samples = None if not boot else np.asarray(boot["values"], dtype=float).reshape(-1, len(names))
            ranges = {k: (float(a), float(b)) for k, (a, b) in (record.get("ranges") or {}).items()}
            adm, sel = record.get("admissibility"), record.get("selection")
            law = law.with_params(specs)
            if sorted(spec.name for spec in specs) == sorted(law.param_names):
                law = replace(law, params=tuple(specs))  # in the order of the file (the fit's)
            return cls(
                law=law, parameters=params, expression=record.get("expression", ""),
                latex=record.get("latex", ""), metrics=dict(record.get("metrics") or {}),
                fit=dict(record.get("fit") or {}), citation=record.get("citation") or "",
                certainty=record.get("certainty") or "", data_hash=record.get("data_hash"), ranges=ranges,
                bootstrap=samples, bootstrap_names=names,
                columns=None if record.get("columns") is None else dict(record["columns"]),
                admissibility=None if adm is None else Admissibility.from_dict(adm),
                selection=None if sel is None else Selection.from_dict(sel),
                provenance=None if record.get("provenance") is None else dict(record["provenance"]),
                extra={k: v for k, v in record.items() if k not in _KEYS}, version=version)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            if isinstance(exc, FormulaError):
                raise
            raise DataError(f"'{source}' is not a lawfind fit: {type(exc).__name__}: {exc}") from None

    def save(self, path: str | Path) -> Path:
        """Write the record as JSON (a ``fit --out`` file, or a ``best.json``)."""
        return write_json(path, self.to_dict())

    # ---- display ----------------------------------------------------------------------------------

    def _title(self) -> str:
        expr = self.expression if isinstance(self.expression, str) else next(iter(self.expression.values()), "")
        try:  # every name a symbol (S, E, beta too), as the report reads a law's text; 4 digits
            parsed = sp.parse_expr(expr, local_dict={**FUNCTIONS, **{n: sp.Symbol(n) for n in identifiers(expr)}})
            expr = sp.sstr(parsed.xreplace({f: sp.Float(f, 4) for f in parsed.atoms(sp.Float)}))
        except (sp.SympifyError, TypeError, ValueError, SyntaxError):
            pass
        return f"{self.law.name}: L = {expr}"

    def _metrics_line(self) -> str:
        m = self.metrics
        if not m:
            return ""
        parts = [f"{label} {_num(m[key])}" for key, label in (("rmse_log", "RMSE of log loss"), ("r2", "R2"))
                 if m.get(key) is not None]
        return "test: " + ", ".join(parts) + (f" on {m['n_test']} runs" if m.get("n_test") else "")

    def __repr__(self) -> str:
        lines = [f"LawRecord({self._title()}"]
        for name, p in self.parameters.items():
            ivl = f" [{_num(p.interval95[0])}, {_num(p.interval95[1])}]" if p.interval95 else ""
            lines.append(f"  {name} = {_num(p.value)}{ivl}")
        if self._metrics_line():
            lines.append(f"  {self._metrics_line()}")
        return "\n".join(lines) + ")"

    def _repr_html_(self) -> str:
        e = html.escape
        rows = "".join(f"<tr><td>{e(name)}</td><td>{_num(p.value)}</td><td>{_num(p.stderr)}</td>"
                       f"<td>{'[' + _num(p.interval95[0]) + ', ' + _num(p.interval95[1]) + ']' if p.interval95 else '–'}"
                       "</td></tr>" for name, p in self.parameters.items())
        foot = f"<p>{e(self._metrics_line())}</p>" if self._metrics_line() else ""
        return (f"<div><p><b>LawRecord</b> {e(self._title())}</p><table><thead><tr><th>constant</th><th>value</th>"
                f"<th>stderr</th><th>95% interval</th></tr></thead><tbody>{rows}</tbody></table>{foot}</div>")


def _num(x: object) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    try:
        return f"{float(x):.4g}"
    except (TypeError, ValueError):
        return str(x)


def _base_name(name: str) -> str:
    """A per-group constant's parameter (``A[pile]`` -> ``A``); other names as they are."""
    return name.split("[", 1)[0] if name.endswith("]") else name


def _name(key: object) -> str:
    """A reason's name for JSON (an enum's value, or the text)."""
    return str(getattr(key, "value", key))


# ---- reading ----------------------------------------------------------------------------------------

def load_discovery(path: str | Path) -> LawRecord:
    """Read a saved law: a discovery's folder (its ``best.json``), a ``best.json``, or a ``fit --out`` file.

    Raises
    ------
    DataError
        If there is no such file (or the folder has no ``best.json``), or it is not a lawfind record.
    FormulaError
        If its formula does not parse.
    """
    path = Path(path)
    if path.is_dir():
        if not (path / BEST).is_file():
            raise DataError(f"'{show_path(path)}' has no {BEST}: give the --out folder of 'lawfind discover' (or a "
                            "best.json or fit JSON file)")
        path = path / BEST
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"no such file: '{show_path(path)}'") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"'{show_path(path)}' is not a lawfind JSON file ({exc})") from None
    except OSError as exc:
        raise DataError(f"cannot read '{show_path(path)}': {exc.strerror or type(exc).__name__}") from None
    return LawRecord.from_dict(record, show_path(path))


# ---- writing a discovery's folder -----------------------------------------------------------------

def save_discovery(disc: Discovery, folder: str | Path, *, provenance: Mapping | None = None,
                   report: Callable[[Path], object] | None = None) -> list[Path]:
    """Write a fitted discovery's folder, whole or not at all.

    Writes ``equations.csv`` (the front), ``candidates.csv`` (every scored candidate), ``runs.csv``
    (every run, its split and prediction), ``best.json`` (:class:`LawRecord`, with ``provenance``
    where given), ``best.tex``, the plots, and, where ``report`` is given (the page's writer,
    :func:`lawfind.report.write_report`, called on the folder before it is put in place), also
    ``report.html`` and ``optima.json``.

    Everything is written first to a temporary folder beside ``folder`` (``.NAME.*.partial``) and
    then put in place: a new ``folder`` is renamed into place in one step. Into an existing folder,
    only lawfind's own files (:data:`OUTPUTS`) are replaced, one rename each, with ``best.json``
    removed first and put back last; outputs of a previous run that this one does not write
    (``report.html`` and ``optima.json`` without ``report``) are removed, and other files are left
    alone. So a folder with a ``best.json`` always holds one discovery's whole output: an
    interruption leaves no folder, the previous output as it was, or (while files are being put in
    place) a folder without ``best.json``; the temporary folder, and parent folders made for it that
    are still empty, are removed on the way out.

    Returns
    -------
    list of Path
        The files written, by name.

    Raises
    ------
    OptionError
        If ``folder`` is a file.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OptionError(f"'{show_path(folder)}' is a file, not a folder: give a folder's name (or move the file "
                          "away)")
    made = [p for p in folder.parents if not p.exists()]  # deepest first (made for it, removed if interrupted)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent))
    try:
        new = staging / folder.name  # the folder's own name, which the report shows where it lacks a data file
        new.mkdir()
        write_files(disc, new, provenance)
        if report is not None:
            report(new)
        return _put_in_place(new, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for parent in made:  # the folders made for it, where they are still empty
            try:
                parent.rmdir()
            except OSError:
                break
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_files(disc: Discovery, out: Path, provenance: Mapping | None = None) -> None:
    """Write a discovery's tables, ``best.json``, ``best.tex`` and plots into the folder ``out`` as they
    come (:func:`save_discovery` writes them whole)."""
    from . import plots
    from .report.tables import candidates_table, runs_table, split_labels

    eq = disc.equations_.drop(columns=["lambda_format"]).copy()
    eq["sympy_format"] = [sp.sstr(e) for e in eq["sympy_format"]]
    eq.to_csv(out / "equations.csv", index=False)
    candidates_table(disc).to_csv(out / "candidates.csv", index=False)
    runs_table(disc).to_csv(out / "runs.csv", index=False)
    LawRecord.from_discovery(disc, provenance).save(out / BEST)
    (out / "best.tex").write_text("\\begin{equation}\n" + disc.latex() + "\n\\end{equation}\n\n" + disc.latex_table()
                                  + "\n")
    table = disc.table_
    labels = split_labels(disc)
    pred = disc.predict(table)
    plots.predicted_vs_observed(table.y, pred, labels, out / "predicted_vs_observed.png")
    plots.residuals(dict(zip(table.features, table.X())), table.y, pred, labels, out / "residuals.png")
    eq = disc.equations_
    plots.loss_vs_complexity(list(eq["n_params"]), list(eq["loss"]), disc.best_index_, out / "loss_vs_complexity.png",
                             se=list(eq["loss_se"]))


# ---- several targets in one call ---------------------------------------------------------------------

INDEX = ("index.html", "index.json")


def folder_name(target: str) -> str:
    """The sub-folder of a target's discovery (its name, with characters a file name cannot hold as ``_``)."""
    import re

    name = re.sub(r"[^A-Za-z0-9._-]", "_", target).strip(".") or "target"
    return name


def target_lines(found: Mapping[str, Discovery]) -> list[str]:
    """One line per target: the chosen law, its constants, its extrapolation and test errors."""
    lines = []
    for target, disc in found.items():
        m, i = disc.best_metrics_, disc.best_index_
        law = sp.sstr(sp.N(disc.sympy(), 4))
        lines.append(f"{target}: {target} = {law}; {disc.best_.n_params} constants, extrapolation RMSE of log "
                     f"{float(disc.equations_['loss'][i]):.3g}, test RMSE of log {m.rmse_log:.3g} on {m.n_test} runs")
    return lines


def save_index(found: Mapping[str, Discovery], folder: str | Path) -> list[Path]:
    """Write ``index.json`` (each target's folder, law and errors) and ``index.html`` (a page linking each
    target's report, or its ``best.json`` where it has none) for discoveries saved one per target in
    sub-folders of ``folder`` (:func:`folder_name`)."""
    folder = Path(folder)
    rows = []
    for (target, disc), line in zip(found.items(), target_lines(found)):
        sub = folder_name(target)
        page = f"{sub}/report.html" if (folder / sub / "report.html").is_file() else f"{sub}/{BEST}"
        rows.append({"target": target, "folder": sub, "page": page, "law": sp.sstr(disc.sympy(), full_prec=True),
                     "n_params": disc.best_.n_params,
                     "extrapolation_rmse_log": float(disc.equations_["loss"][disc.best_index_]),
                     "test_rmse_log": disc.best_metrics_.rmse_log, "summary": line})
    write_json(folder / "index.json", {"targets": rows})
    e = html.escape
    body = "".join(f"<tr><td><a href=\"{e(r['page'])}\">{e(r['target'])}</a></td><td><code>{e(r['law'])}</code>"
                   f"</td><td>{r['n_params']}</td><td>{_num(r['extrapolation_rmse_log'])}</td>"
                   f"<td>{_num(r['test_rmse_log'])}</td></tr>" for r in rows)
    (folder / "index.html").write_text(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>lawfind: one law per target</title></head><body>"
        f"<h1>One law per target ({len(rows)})</h1><table border=\"1\" cellpadding=\"4\"><thead><tr><th>target</th>"
        "<th>law</th><th>constants</th><th>extrapolation RMSE of log</th><th>test RMSE of log</th></tr></thead>"
        f"<tbody>{body}</tbody></table></body></html>\n")
    return [folder / name for name in INDEX]


def _put_in_place(new: Path, folder: Path) -> list[Path]:
    names = sorted((p.name for p in new.iterdir()), key=lambda n: (n == BEST, n))  # best.json last
    if not folder.exists():
        try:
            new.rename(folder)
            return [folder / n for n in sorted(names)]
        except OSError:  # made meanwhile: put the files in one by one
            if not folder.is_dir():
                raise
    (folder / BEST).unlink(missing_ok=True)  # from here until the end the folder claims no discovery
    for name in OUTPUTS:
        if name not in names and (folder / name).is_file():
            (folder / name).unlink()  # a previous run's output this one does not replace
    for name in names:
        os.replace(new / name, folder / name)
    return [folder / n for n in sorted(names)]


def fit_to_dict(fit: FitResult, metrics: Metrics | None = None, precision: int = 4,
                ranges: Mapping[str, tuple[float, float]] | None = None) -> dict:
    """JSON-ready record of a fitted law: expression, parameters with intervals, metrics, the data's
    ranges and hash, and the bootstrap replicates (:meth:`lawfind.record.LawRecord.from_fit`)."""
    return LawRecord.from_fit(fit, metrics, precision, ranges).to_dict()


def save_fit(path: str | Path, fit: FitResult, metrics: Metrics | None = None, extra: Mapping | None = None,
             ranges: Mapping[str, tuple[float, float]] | None = None) -> Path:
    """Write :func:`fit_to_dict` (plus ``extra`` keys) as JSON; :func:`load_fit` and
    :func:`lawfind.record.load_discovery` read it back."""
    return write_json(path, {**fit_to_dict(fit, metrics, ranges=ranges), **(extra or {})})


def load_fit(path: str | Path) -> tuple[Law, dict[str, float], dict]:
    """Read a fitted law (a ``fit --out`` file, a ``best.json`` or a discovery's folder): the law, its
    parameter values and the whole record as a dict.

    The typed record is :func:`load_discovery`'s, through which this reads. Only files
    without per-group parameters give a single set of values.
    """
    record = load_discovery(path)
    return record.law, record.values, record.to_dict()
