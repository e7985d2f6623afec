"""Build ``report.html`` from a discovery's output folder: the numbers of each section, then the template.

Every section is computed by a small function from what the folder holds (:mod:`.folder`); the
optima come from ``optima.json`` (:mod:`.analysis`), computed here when the folder lacks it; the
partial-dependence bands from the bootstrap replicates of ``best.json`` (:mod:`lawfind.predict`).
Figures are embedded as PNG ``data:`` URIs and equations as MathML, so the page loads nothing else.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import sympy as sp
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .. import plots
from ..version import __version__
from ..data import RunTable
from ..effects import loss_surface
from ..export import latex_groups, mathml, write_json
from ..laws import Law
from ..parallel import Background
from ..predict import Predictor, predict
from ..record import Admissibility, LawRecord, Selection
from ..search.parse import parse_text
from ..symbols import interpolate
from .analysis import HOOKS, analyse_discovery
from .figures import embed, front, runs_by_split
from .folder import DiscoveryFolder, read_folder
from .tables import SPLITS, candidate_fields

__all__ = ["build_report", "write_report"]

TEMPLATES = Path(__file__).parent / "templates"


def write_report(folder: str | Path | DiscoveryFolder, out: str | Path | None = None) -> Path:
    """Write the report of a discovery's output folder (default ``FOLDER/report.html``); ``folder`` may
    be one already read (:func:`read_folder`).

    ``optima.json`` is derived where the folder lacks it and written beside ``best.json``. Returns the
    report's path.
    """
    data = folder if isinstance(folder, DiscoveryFolder) else read_folder(folder)
    html, optima = _page(data)
    if data.optima is None:
        write_json(data.path / "optima.json", optima)
    path = Path(out) if out is not None else data.path / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


def build_report(folder: str | Path) -> str:
    """The report's HTML for a discovery's output folder (optima derived where the folder lacks them)."""
    return _page(read_folder(folder))[0]


def _analyse(data: DiscoveryFolder) -> dict:
    record = data.record.for_group(data.level) if data.level is not None else data.record  # a group's optima
    return analyse_discovery(data.law, data.values, dict(record.ranges), record.replicates(), data.runs)


def _page(data: DiscoveryFolder) -> tuple[str, dict]:
    """The page and the optima it shows. Optima the folder lacks are derived in a background process
    (sympy, seconds) while the other sections are drawn."""
    t0 = time.monotonic()
    job = Background(lambda: _analyse(data)) if data.optima is None else None
    try:
        runs = _ordered(data.runs)
        record = data.record
        source = (record.provenance or {}).get("data_file")
        context = {
            "title": f"lawfind discovery: {Path(source).name if source else data.path.name}",
            "law": _law(data),
            "data": _data(runs, data.features, record),
            "front": _front(data),
            "fit": _fit(runs, data.features, data.group),
            "catalogue": _catalogue(data.candidates),
            "provenance": _provenance(record),
        }
        optima = data.optima if job is None else job.result()
    finally:
        if job is not None:
            job.cancel()  # an interrupted page leaves no process behind
    context["optima"] = _optima(data, optima)
    context["built"] = {"version": __version__, "time": _now(), "seconds": f"{time.monotonic() - t0:.1f}"}
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _num
    env.filters["interval"] = _interval
    return env.get_template("report.html.j2").render(**context), optima


# ---- sections --------------------------------------------------------------------------------------

def _data(runs: pd.DataFrame, features: tuple[str, ...], record: LawRecord) -> dict:
    split = runs["split"].to_numpy()
    rows = []
    for v in features:
        x = runs[v].to_numpy(float)
        cells = [(int((split == s).sum()), _range(x[split == s])) for s in SPLITS]
        rows.append({"name": v, "column": (record.columns or {}).get(v, v), "all": _range(x), "splits": cells})
    counts = {s: int((split == s).sum()) for s in SPLITS}
    fig = runs_by_split({v: runs[v].to_numpy(float) for v in features}, runs["loss"].to_numpy(float), split)
    return {"figure": embed(fig), "rows": rows, "counts": counts, "n": len(runs), "splits": SPLITS,
            "description": (record.selection or Selection()).splits,
            "loss": _range(runs["loss"].to_numpy(float))}


def _law(data: DiscoveryFolder) -> dict:
    record, law = data.record, data.law
    params = []
    for name, entry in record.parameters.items():
        params.append({"name": name, "symbol": Markup(mathml(sp.Symbol(name), lhs=None, display="inline")),
                       "value": entry.value, "stderr": entry.stderr, "interval": entry.interval95})
    adm = record.admissibility or Admissibility(None)
    sel = record.selection or Selection()
    fitted = law.substitute({k: v for k, v in data.values.items() if k not in record.per_group})
    return {"form": Markup(mathml(law.expr, 4)), "fitted": Markup(mathml(fitted, 4)),
            "latex": latex_groups(record) if record.per_group else record.latex, "tex": _read(data.path / "best.tex"),
            "params": params,
            "metrics": dict(record.metrics), "admissible": adm.admissible,
            "reasons": list(adm.reasons), "limit": adm.limit, "n_replicates": len(record.replicates()),
            "extrapolation": sel.extrapolation_rmse_log, "extrapolation_se": sel.extrapolation_se,
            "selection": sel.model_selection or "",
            "expression": record.expression if isinstance(record.expression, str)
            else "\n".join(f"{level}: {text}" for level, text in record.expression.items()),
            "columns": {k: v for k, v in (record.columns or {}).items() if k != v},
            "fit_notes": list(record.warnings), "scale": (record.fit or {}).get("scale") or "log"}


def _front(data: DiscoveryFolder) -> dict:
    eq, cand = data.equations, candidate_fields(data.candidates)
    chosen = int(np.flatnonzero(cand["chosen"].to_numpy(bool))[0]) if cand["chosen"].any() else None
    fig = front(cand["n_params"], cand["extrap_rmse_log"], cand["catalog_name"], cand["on_front"], chosen,
                cand["extrap_se"])
    sel = data.record.selection or Selection()
    best = sel.front_index
    rows = []
    for i, r in eq.iterrows():
        rows.append({"chosen": i == best, "k": int(r["n_params"]), "extrap": r["loss"], "se": r["loss_se"],
                     "test": _on_scale(r), "r2": r.get("test_r2"), "admissible": bool(r["admissible"]),
                     "reason": _text(r.get("reason")), "source": _text(r.get("source")),
                     "law": Markup(_mathml_text(r["sympy_format"]))})
    aside = sel.set_aside
    examples = {}
    for _, r in cand[~cand["admissible"].astype(bool)].iterrows():
        examples.setdefault(_text(r["category"]), _text(r["reason"]))
    return {"figure": embed(fig), "rows": rows, "candidates": len(cand) if sel.candidates is None else sel.candidates,
            "aside": [{"reason": k, "count": n, "example": examples.get(k, "")}
                      for k, n in sorted(aside.items(), key=lambda kv: -kv[1])],
            "n_aside": sum(aside.values()), "measured": int(np.isfinite(cand["extrap_rmse_log"]).sum())}


def _on_scale(row: pd.Series) -> float | None:
    """A front row's test RMSE: of log loss, or (a linear target scale, where that is NaN) of the target."""
    value = row.get("test_rmse_log")
    if value is None or not np.isfinite(value):
        value = row.get("test_rmse", value)
    return value


def _fit(runs: pd.DataFrame, features: tuple[str, ...], group: str | None = None) -> dict:
    y, pred, split = (runs[c].to_numpy() for c in ("loss", "predicted", "split"))
    y, pred = y.astype(float), pred.astype(float)
    with np.errstate(all="ignore"):  # residuals of log loss, or in the target's units where it has values <= 0
        res = pred - y if (y <= 0).any() else np.log(pred) - np.log(y)
    rows = [{"split": s, "n": int(m.sum()), "rmse": float(np.sqrt(np.mean(res[m] ** 2))),
             "bias": float(np.mean(res[m])), "worst": float(np.max(np.abs(res[m])))}
            for s in SPLITS if (m := split == s).any()]
    return {"pvo": embed(plots.predicted_vs_observed(y, pred, split)),
            "residuals": embed(plots.residuals({v: runs[v].to_numpy(float) for v in features}, y, pred, split)),
            "rows": rows, "group": group,
            "pvo_group": embed(plots.predicted_vs_observed(y, pred, runs[group].astype(str).to_numpy()))
            if group else None}


def _catalogue(cand: pd.DataFrame) -> dict:
    rows = []
    for _, r in candidate_fields(cand).iterrows():
        name = _text(r["catalog_name"])
        if name or bool(r["chosen"]):
            rows.append({"name": name or _text(r["source"]), "chosen": bool(r["chosen"]), "k": int(r["n_params"]),
                         "extrap": r["extrap_rmse_log"], "se": r.get("extrap_se"), "test": r["test_rmse_log"],
                         "r2": r.get("test_r2"), "admissible": bool(r["admissible"]), "reason": _text(r["reason"]),
                         "catalogue": bool(name)})
    rows.sort(key=lambda r: (not r["chosen"], _sortable(r["extrap"]), _sortable(r["test"])))
    return {"rows": rows, "n": sum(r["catalogue"] for r in rows)}


def _optima(data: DiscoveryFolder, opt: Mapping) -> dict:
    law, values = data.law, data.values
    at = {k: float(v) for k, v in opt["at"].items()}
    ranges = dict(data.record.ranges)
    rows = []
    for o in opt["optima"]:
        ivl = o.get("interval95")
        rows.append({**o, "label": o.get("label", o["variable"]), "interval": ivl,
                     "form": Markup(_mathml_text(o["closed_form"], lhs=None))
                     if o.get("closed_form") else ""})
    alloc = opt.get("allocation")
    allocation = None
    if alloc:
        ivl = alloc.get("intervals95") or {}
        allocation = {"description": alloc["description"], "budget": alloc.get("budget"), "loss": alloc.get("loss"),
                      "method": alloc.get("method"), "cost": opt.get("cost", ""),
                      "interior": "no interior optimum" not in alloc.get("method", ""),
                      "rows": [{"name": v, "value": alloc["values"].get(v), "value_ci": ivl.get(f"{v}@C"),
                                "exponent": alloc["exponents"].get(v), "exponent_ci": ivl.get(v),
                                "form": Markup(_mathml_text(alloc["closed_forms"][v], lhs=None))
                                if v in alloc["closed_forms"] else ""}
                               for v in dict.fromkeys([*alloc["values"], *alloc["closed_forms"]])]}
    minima = {o["variable"]: o["value"] for o in opt["optima"] if o["kind"] == "minimum" and o["variable"] in law.variables}
    return {"rows": rows, "allocation": allocation, "allocation_note": opt.get("allocation_note", ""),
            "effects": opt.get("effects", []), "interactions": opt.get("interactions", []),
            "notes": opt.get("notes", []),
            "at": at, "n_replicates": opt.get("n_replicates", 0), "seconds": opt.get("seconds"),
            "pd": _partial_dependence(data, at, ranges, minima), "iso": _iso_loss(law, values, ranges, at, opt),
            "held": ", ".join(f"{k} = {_num(v)}" for k, v in at.items()),
            "level": data.level, "group": data.record.group}


def _partial_dependence(data: DiscoveryFolder, at: Mapping[str, float], ranges, minima) -> str:
    """Each variable across its data range, the others at ``at``, with the replicates' 95 % band."""
    pred = Predictor.from_record(data.record, str(data.path / "best.json")).for_level(data.level)
    pred = replace(pred, noise_sd=None)  # the constants' interval only
    curves, bands = {}, {}
    for v in data.law.variables:
        grid = interpolate(v, *ranges[v], np.linspace(0, 1, 120))
        frame = pd.DataFrame({u: grid if u == v else np.full(len(grid), at[u]) for u in data.law.variables})
        out = predict(pred, frame)
        curves[v] = (grid, out["loss"].to_numpy())
        if len(pred.replicates) >= 2:
            bands[v] = (out["ci_low"].to_numpy(), out["ci_high"].to_numpy())
    return embed(plots.partial_dependence(curves, minima, bands=bands or None))


def _iso_loss(law: Law, values, ranges, at: Mapping[str, float], opt: Mapping) -> dict | None:
    """Iso-loss contours over the hook variables (those with an interior minimum first), others at ``at``."""
    hooks = [e["variable"] for e in opt.get("effects", []) if e["shape"].startswith("hook")]
    pair = tuple(dict.fromkeys([*hooks, *(v for v in HOOKS if v in law.variables), *law.variables]))[:2]
    if len(pair) < 2:
        return None
    # three rows per variable (low, held point, high): min, max and median are the range and the point held
    frame = pd.DataFrame({v: [ranges[v][0], at[v], ranges[v][1]] for v in law.variables})
    frame["loss"] = 1.0
    table = RunTable(frame, tuple(law.variables), "loss")
    x, y, z = loss_surface(law, values, table, pair)
    return {"pair": pair, "figure": embed(plots.iso_loss(x, y, z, pair))}


def _provenance(record: LawRecord) -> dict:
    prov = dict(record.provenance or {})
    prov.setdefault("data_hash", record.data_hash)
    return prov


# ---- helpers ---------------------------------------------------------------------------------------

def _ordered(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs in the order of :data:`SPLITS`, so that every figure colours a split alike."""
    order = {s: i for i, s in enumerate(SPLITS)}
    return runs.iloc[np.argsort(runs["split"].map(order).to_numpy(), kind="stable")].reset_index(drop=True)


def _mathml_text(text: str, lhs: str | None = "L") -> str:
    """MathML of an expression written by sympy as text (a row of a CSV, a closed form of a JSON record):
    every name a symbol (``S``, ``E``, ``beta`` too), the functions lawfind's formulas know."""
    text = str(text)
    try:
        expr = parse_text(text)
    except ValueError:  # FormulaError
        return f"<code>{Markup.escape(text)}</code>"
    return mathml(expr, 4, lhs=lhs, display="inline")


def _range(x: np.ndarray) -> str:
    return "" if not len(x) else f"{_num(np.min(x))} to {_num(np.max(x))}"


def _interval(pair) -> str:
    """``[low, high]`` of an interval, or a dash where there is none."""
    return f"[{_num(pair[0])}, {_num(pair[1])}]" if pair else "–"


def _num(x, digits: int = 4) -> str:
    """A number to ``digits`` significant digits; a dash for none."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    try:
        return f"{float(x):.{digits}g}"
    except (TypeError, ValueError):
        return str(x)


def _text(x) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)


def _sortable(x) -> float:
    return float(x) if x is not None and np.isfinite(float(x)) else math.inf


def _read(path: Path) -> str:
    return path.read_text() if path.is_file() else ""


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()

