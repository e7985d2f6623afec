"""``lawfind discover``: search functional forms, turn them into laws, select on extrapolation.

The runs are split three ways by a column (default ``N``): the largest runs are the **test** split
(``holdout``), the next largest the **validation** split, the rest the **training** split. Engines
search on the training runs only. Every candidate is tidied, its constants become parameters, it is
refitted with the robust fitter on the training runs, the most promising are refined (snapped and
pruned by BIC), duplicates are dropped, and the catalogue's laws join them. The results table
``equations_`` keeps, per complexity, the candidate with the lowest validation error, on the Pareto
front; ``model_selection`` picks one with PySR's meanings, where ``loss`` is the validation RMSE of
log loss (selection on extrapolation). The chosen law is refitted on training plus validation runs,
and its test metrics are reported.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sympy as sp

from .compare import Metrics, Split, holdout_split, metrics
from .data import RunTable, load_runs
from .errors import FitError, LawfindError, OptionError, check_choice
from .export import latex, latex_fit
from .fit import FitResult, fit_law
from .forms import complexity, parametrise, refine, structure_key, tidy
from .laws import Law
from .search import ENGINES, CatalogEngine, make_engine
from .search.base import Candidate

__all__ = ["Discovery", "discover", "select_model", "MODEL_SELECTION"]

MODEL_SELECTION = ("1se", "best", "accuracy", "score")
Reporter = Callable[[str, int, int, str], None]


def select_model(equations: pd.DataFrame, model_selection: str = "best") -> int:
    """Index (row position) of the chosen equation.

    ``1se`` (the one-standard-error rule, Breiman et al. 1984): the equation with the fewest fitted
    constants (then the fewest nodes) whose loss is within one standard error (``loss_se``) of the
    lowest. The others have PySR's meanings. ``accuracy``: the lowest loss. ``score``: the highest score (the drop of log loss per unit of
    complexity against the next simpler equation). ``best``: the highest score among equations whose
    loss is within ``sqrt(1.5)`` of the lowest (PySR's 1.5x on a squared loss; ours is an RMSE).
    """
    check_choice("model_selection", model_selection, MODEL_SELECTION)
    loss, score = equations["loss"].to_numpy(), equations["score"].to_numpy()
    if model_selection == "1se":
        i = int(np.nanargmin(loss))
        ok = np.flatnonzero(loss <= loss[i] + equations["loss_se"].to_numpy()[i])
        key = equations["n_params"].to_numpy()[ok] * 10_000 + equations["complexity"].to_numpy()[ok]
        return int(ok[np.argmin(key)])
    if model_selection == "accuracy":
        return int(np.nanargmin(loss))
    if model_selection == "score":
        return int(np.nanargmax(score))
    ok = loss <= math.sqrt(1.5) * np.nanmin(loss)
    return int(np.flatnonzero(ok)[np.nanargmax(score[ok])])


def pareto_table(rows: list[Scored]) -> list[Scored]:
    """The best validation loss per complexity, kept only where it beats every simpler one."""
    by_c: dict[int, Scored] = {}
    for r in rows:
        if np.isfinite(r.val_rmse) and (r.complexity not in by_c or r.val_rmse < by_c[r.complexity].val_rmse):
            by_c[r.complexity] = r
    front, best = [], math.inf
    for c in sorted(by_c):
        if by_c[c].val_rmse < best:
            front.append(by_c[c])
            best = by_c[c].val_rmse
    return front


@dataclass(frozen=True)
class Scored:
    """A candidate law fitted on the training runs, with its validation and test errors."""

    law: Law
    fit: FitResult
    complexity: int
    train_rmse: float
    val_rmse: float
    val_rmse_se: float
    test: Metrics
    bic: float
    source: str


@dataclass(frozen=True)
class Splits:
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    description: str


def three_way(table: RunTable, holdout: str | None, validation: float) -> Splits:
    """Test split from ``holdout``; validation = the top ``validation`` fraction of the rest by the
    same column."""
    col = "N" if "N" in table.features else table.features[0]
    outer: Split = holdout_split(table, holdout or f"top:{col}:0.15")
    col = outer.column
    if not 0 < validation < 1:
        raise OptionError(f"the validation fraction must lie in (0, 1), got {validation}")
    values = table.frame[col].to_numpy(dtype=float)
    rest = np.flatnonzero(outer.train)
    threshold = np.quantile(values[rest], 1 - validation)
    val = np.zeros(len(table), bool)
    val[rest] = values[rest] >= threshold
    if val[rest].all() or not val.any():
        raise OptionError("the validation split is empty or takes every training run: use a larger table "
                          "or another --holdout")
    train = outer.train & ~val
    if train.sum() < 10:
        raise OptionError(f"only {int(train.sum())} training runs remain after the holdout and validation splits")
    desc = f"test: {outer.description}; validation: {col} >= {threshold:.4g} among the rest"
    return Splits(train, val, outer.test, desc)


class Discovery:
    """Symbolic-regression discovery of a scaling law (scikit-learn style).

    Parameters
    ----------
    engine:
        ``"operon"`` (default), ``"pysr"`` or ``"catalog"``.
    generations, population_size, max_length, operators, seeds:
        The operon engine's budget (generations per seed, reproducible), population, largest
        expression, operator set (``"powerlaw"`` or ``"wide"``) and number of seeds.
    time_budget:
        Seconds for the search (split over seeds running in parallel), on request.
    seed:
        Seed of everything random.
    holdout:
        The test split (``"N>=1e9"``, ``"top:N:0.15"``); default the top 15 % of N.
    validation:
        Fraction of the remaining runs, the largest by the same column, used for selection.
    model_selection:
        ``"1se"`` (default: the fewest constants within one standard error of the lowest validation
        loss), or PySR's ``"best"``, ``"accuracy"`` and ``"score"`` on the validation loss. PySR's
        ``"best"`` guards against overfitting the training loss; here the loss is measured on
        held-out larger runs, where ``"accuracy"`` overfits the validation noise with many constants
        and ``"best"`` gives up accuracy for fewer nodes; benchmarks/bench_discover.py compares them.
    include_catalog:
        Add the catalogue's laws to the candidates.
    max_refine:
        How many candidates are refined (snapped and pruned).
    n_starts, bootstrap:
        Starts of the final fit, and bootstrap refits for its intervals.
    template:
        For the pysr engine: a structured form such as ``"E0 + f(N, Na, D) * g(G, S)"``.
    """

    def __init__(self, engine: str = "operon", *, generations: int = 60, population_size: int = 600,
                 max_length: int = 40, operators: str = "powerlaw", seeds: int = 2, time_budget: float | None = None,
                 seed: int = 0, holdout: str | None = None, validation: float = 0.15, model_selection: str = "1se",
                 include_catalog: bool = True, max_refine: int = 8, n_starts: int = 64, bootstrap: int = 0,
                 template: str | None = None, n_jobs: int | None = None) -> None:
        self.engine = engine
        self.generations = generations
        self.population_size = population_size
        self.max_length = max_length
        self.operators = operators
        self.seeds = seeds
        self.time_budget = time_budget
        self.seed = seed
        self.holdout = holdout
        self.validation = validation
        self.model_selection = model_selection
        self.include_catalog = include_catalog
        self.max_refine = max_refine
        self.n_starts = n_starts
        self.bootstrap = bootstrap
        self.template = template
        self.n_jobs = n_jobs

    # -- fitting --------------------------------------------------------------------------------
    def fit(self, X: RunTable | pd.DataFrame, y=None, *, progress: Reporter | None = None, **load) -> Discovery:
        """Search, refine, select and refit. ``X`` is a :class:`RunTable` or a DataFrame (loaded with
        ``load`` options such as ``target=``); ``y`` is unused (the target is a column)."""
        check_choice("engine", self.engine, ENGINES)
        check_choice("model_selection", self.model_selection, MODEL_SELECTION)
        report = progress or (lambda stage, done, total, msg: None)
        table = X if isinstance(X, RunTable) else load_runs(X, **load)
        splits = three_way(table, self.holdout, self.validation)
        train, val, test = table.subset(splits.train), table.subset(splits.val), table.subset(splits.test)
        t0 = time.monotonic()

        candidates = self._search(train, report)
        report("refit", 0, 1, f"{len(candidates)} raw candidates")
        scored = self._score_all(candidates, train, val, test, report)
        if not scored:
            raise FitError("no candidate law could be fitted to the training runs: try more generations, "
                           "--operators wide, or --engine catalog")
        front = pareto_table(scored)
        equations = self._equations_frame(front, table)
        idx = select_model(equations, self.model_selection)
        chosen = front[idx]
        report("final", 0, 1, "refitting the chosen law on training + validation runs")
        trainval = table.subset(splits.train | splits.val)
        starts = [{k: chosen.fit.values[k] for k in chosen.law.param_names}]
        final = fit_law(chosen.law, trainval, n_starts=self.n_starts, seed=self.seed, initial=starts,
                        bootstrap=self.bootstrap, progress=lambda d, t: report("bootstrap", d, t, ""))
        test_metrics = metrics(test.y, final.predict(test), train_y=trainval.y, train_pred=final.predict(trainval),
                               n_params=final.n_params)
        self.table_ = table
        self.splits_ = splits
        self.candidates_ = scored
        self.front_ = front
        self.equations_ = equations
        self.best_index_ = idx
        self.best_ = final
        self.best_metrics_ = test_metrics
        self.elapsed_ = time.monotonic() - t0
        return self

    def _search(self, train: RunTable, report: Reporter) -> list[Candidate]:
        opts = dict(seed=self.seed, time_budget=None if self.time_budget is None else
                    self.time_budget * max(1, min(self.n_jobs or 2, self.seeds)) / self.seeds)
        if self.engine == "operon":
            opts.update(generations=self.generations if self.time_budget is None else max(self.generations, 10_000),
                        population_size=self.population_size, max_length=self.max_length,
                        operators=self.operators, seeds=self.seeds, n_jobs=self.n_jobs)
        elif self.engine == "pysr":
            opts = dict(seed=self.seed, time_budget=self.time_budget, template=self.template)
        engine = make_engine(self.engine, **opts)
        cands = engine.search(train, progress=lambda d, t, m: report("search", d, t, m))
        if self.include_catalog and self.engine != "catalog":
            cands += CatalogEngine().search(train)
        return cands

    def _score_all(self, candidates: list[Candidate], train: RunTable, val: RunTable, test: RunTable,
                   report: Reporter) -> list[Scored]:
        # 1. quick refit of every distinct candidate
        quick: dict[str, Scored] = {}
        for i, cand in enumerate(candidates):
            report("refit", i, len(candidates), cand.source)
            try:
                scored = self._score(cand, train, val, test, n_starts=2 if cand.law_name is None else 32)
            except (LawfindError, ValueError, TypeError, ZeroDivisionError, OverflowError):
                continue  # an engine's expression that cannot be made into a law here
            if scored is not None:
                key = structure_key(scored.law)
                if key not in quick or scored.val_rmse < quick[key].val_rmse:
                    quick[key] = scored
        rows = list(quick.values())
        # 2. refine the most promising candidates (the front, then the lowest validation error)
        # (catalogue laws too: pruning a hook the data do not show gives the reduced law)
        chosen = pareto_table(rows)
        chosen += [r for r in sorted(rows, key=lambda r: r.val_rmse) if r not in chosen]
        chosen = chosen[: self.max_refine]
        for i, r in enumerate(chosen):
            report("refine", i, len(chosen), r.source)
            try:
                ref = refine(r.law, dict(r.fit.values), train, seed=self.seed)
            except LawfindError:
                continue
            new = self._scored(ref.law, ref.fit, train, val, test, r.source + "+refined")
            key = structure_key(new.law)
            if key not in quick or new.val_rmse < quick[key].val_rmse:
                quick[key] = new
        report("refine", len(chosen), len(chosen), "done")
        return list(quick.values())

    def _score(self, cand: Candidate, train: RunTable, val: RunTable, test: RunTable, n_starts: int) -> Scored | None:
        if cand.law_name is not None:
            from . import catalog
            law = catalog.get(cand.law_name)
            fit = fit_law(law, train, n_starts=n_starts, seed=self.seed)
            return self._scored(law, fit, train, val, test, "catalog:" + cand.law_name)
        expr = tidy(cand.expr)
        if not expr.free_symbols or expr.has(sp.zoo, sp.nan, sp.oo):
            return None
        law, start = parametrise(expr, train.features, name="discovered")
        if not law.params:
            return None
        fit = fit_law(law, train, n_starts=n_starts, seed=self.seed, initial=[start])
        return self._scored(law, fit, train, val, test, cand.source)

    @staticmethod
    def _scored(law: Law, fit: FitResult, train: RunTable, val: RunTable, test: RunTable, source: str) -> Scored:
        with np.errstate(all="ignore"):
            r2 = (np.log(fit.predict(val)) - np.log(val.y)) ** 2
        va = float(np.sqrt(np.mean(r2))) if np.all(np.isfinite(r2)) else math.inf
        # delta method: se(sqrt(m)) = se(m) / (2 sqrt(m)), with se(m) = std(r^2) / sqrt(n)
        va_se = float(np.std(r2, ddof=1) / np.sqrt(len(r2)) / (2 * va)) if np.isfinite(va) and va > 0 else math.inf
        m = metrics(test.y, fit.predict(test), train_y=train.y, train_pred=fit.predict(train), n_params=fit.n_params)
        return Scored(law, fit, complexity(law.expr), m.train_rmse_log, va, va_se, m, m.bic, source)

    def _equations_frame(self, front: list[Scored], table: RunTable) -> pd.DataFrame:
        rows, prev = [], None
        for r in front:
            score = 0.0 if prev is None else -(math.log(r.val_rmse) - math.log(prev.val_rmse)) / max(
                r.complexity - prev.complexity, 1)
            expr = r.fit.substituted()
            rows.append({"complexity": r.complexity, "loss": r.val_rmse, "loss_se": r.val_rmse_se, "score": score,
                         "equation": sp.sstr(_in_columns(expr, table), full_prec=False),
                         "sympy_format": expr, "lambda_format": _lambda(r.law, r.fit.values),
                         "n_params": r.fit.n_params, "bic": r.bic, "train_rmse_log": r.train_rmse,
                         "val_rmse_log": r.val_rmse, "test_r2": r.test.r2, "test_rmse_log": r.test.rmse_log,
                         "source": r.source})
            prev = r
        return pd.DataFrame(rows)

    # -- views ----------------------------------------------------------------------------------
    def _check(self) -> None:
        if not hasattr(self, "best_"):
            raise OptionError("this Discovery is not fitted yet: call fit(table) first")

    def _row(self, index: int | None) -> Scored:
        self._check()
        if index is None:
            return self.front_[self.best_index_]
        if not 0 <= index < len(self.front_):
            raise OptionError(f"no equation {index}: equations_ has rows 0 to {len(self.front_) - 1}")
        return self.front_[index]

    def sympy(self, index: int | None = None) -> sp.Expr:
        """The chosen law (or row ``index`` of ``equations_``) with its numbers, in the column names.

        The chosen law carries its final fit (training + validation runs); other rows their training fit.
        """
        self._check()
        expr = self.best_.substituted() if index is None else self._row(index).fit.substituted()
        return _in_columns(expr, self.table_)

    def latex(self, index: int | None = None, precision: int = 3) -> str:
        """LaTeX of :meth:`sympy`."""
        self._check()
        if index is None:
            return latex_fit(self.best_, precision)
        return latex(self._row(index).fit.substituted(), precision)

    def latex_table(self, precision: int = 3) -> str:
        """A booktabs table of the front: complexity, parameters, validation and test errors, law."""
        self._check()
        lines = [r"\begin{table}[t]", r"\centering", r"\begin{tabular}{rrrrl}", r"\toprule",
                 r"Complexity & $k$ & RMSE$_{\log}$ (val.) & $R^2$ (test) & Law \\", r"\midrule"]
        for i, r in enumerate(self.front_):
            mark = r"$^\star$" if i == self.best_index_ else ""
            lines.append(f"{r.complexity}{mark} & {r.fit.n_params} & {r.val_rmse:.3g} & {r.test.r2:.3g} & "
                         f"${latex(r.fit.substituted(), precision)}$ \\\\")
        lines += [r"\bottomrule", r"\end{tabular}", r"\caption{Discovered laws on the Pareto front; $\star$: chosen.}",
                  r"\end{table}"]
        return "\n".join(lines)

    def predict(self, X: RunTable | pd.DataFrame, index: int | None = None) -> np.ndarray:
        """Predicted loss for the runs of ``X`` (a RunTable or a DataFrame with the feature columns)."""
        self._check()
        fit = self.best_ if index is None else self._row(index).fit
        if isinstance(X, RunTable):
            return fit.predict(X)
        cols = self.table_.columns or {f: f for f in self.table_.features}
        missing = [c for c in cols.values() if c not in X.columns]
        if missing:
            raise OptionError(f"predict needs the columns {missing}")
        arrays = {f: np.asarray(X[c], dtype=float) for f, c in cols.items()}
        return fit.law.compiled([fit.values[p] for p in fit.law.param_names], [arrays[v] for v in fit.law.variables])


def _in_columns(expr: sp.Expr, table: RunTable) -> sp.Expr:
    """Rename canonical variables back to the table's column names (``N`` -> ``dense_parameter_count``)."""
    cols = table.columns or {}
    subs = {s: sp.Symbol(cols[s.name], positive=True) for s in expr.free_symbols if s.name in cols and cols[s.name] != s.name}
    return expr.xreplace(subs)


def _lambda(law: Law, values) -> Callable[..., np.ndarray]:
    from .laws import make_callable
    return make_callable(law, values)


def discover(data: RunTable | pd.DataFrame, *, progress: Reporter | None = None, load: dict | None = None,
             **options) -> Discovery:
    """Run a :class:`Discovery` on ``data`` and return it fitted."""
    return Discovery(**options).fit(data, progress=progress, **(load or {}))
