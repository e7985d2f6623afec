"""``lawfind discover``: search functional forms, keep the admissible ones, choose on extrapolation.

The runs are split by a size column (default ``N``): the largest are the **test** split (``holdout``,
reported, never used to choose), the rest are the **selection** runs. Within the selection runs,
rolling origins (:mod:`lawfind.selection`) fit each candidate below several size cutoffs and score it
on the next larger slice. The engines search on the selection runs below the last cutoff, so the
largest selection slice is out of sample for the forms too. Where sizes are few (a ladder of three to
five), the test split is taken along data (the largest ``D`` at each size) and the missing steps along
data and compute (``N x D``); with no size or data column, along random folds
(:func:`lawfind.splits.default_split`, :func:`lawfind.selection.plan_origins`); ``splits_.evidence``
says how many steps decided, along which axes, and how much to trust them.

Every candidate, from every engine and the catalogue, is turned into a law (tidied and parametrised
where an engine returns numbers), fitted with the robust fitter on the selection runs and checked for
**admissibility** (:mod:`lawfind.admissible`): finite, positive, not rising with data or model size,
bounded below. Inadmissible candidates are set aside (counted by reason) unless ``admissible=False``,
which keeps and marks them; a candidate that cannot be made into a law or fitted is counted too
(``failed to fit``, with the error). The most promising free-form candidates are refined (snapped
and pruned by BIC); the best candidates by BIC (and the best of every number of constants) get their
extrapolation error; ``equations_`` keeps the Pareto front of constants against extrapolation error,
and ``model_selection`` chooses (by default the simplest law within one standard error of the
lowest error). The chosen law is refitted on every selection run, with bootstrap intervals, and its
test metrics are reported.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import sympy as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .admissible import EXTRAPOLATION_FACTOR, Roles, Verdict, check_admissible
from .data import RunTable, load_runs
from .errors import FitError, LawfindError, OptionError, check_choice
from .export import booktabs, latex, latex_fit
from .fit import FitResult, fit_law, local_intervals, per_run, unpinned
from .forms import complexity, parametrise, refine, structure_key, tidy
from .groups import choose_per_group, grouped_verdict, largest_level, shared_form
from .laws import Law, make_callable
from .metrics import Metrics, log_fit_stats, metrics
from .parallel import parallel_map
from .search import ENGINES, make_engine
from .search.base import Candidate
from .selection import (MODEL_SELECTION, Axes, Evidence, Extrapolation, Origin, evidence, extrapolation_error,
                        pareto_front, plan_origins, select_model, slice_origin)
from .splits import default_split, holdout_split, parse_holdout
from .symbols import DEFAULT_FEATURES, symbol

__all__ = ["Discovery", "discover", "discover_targets", "Scored", "Failed", "select_model", "MODEL_SELECTION", "VALIDATION"]

#: ``rolling``: several extrapolation steps (default); ``slice``: one validation slice, the largest
#: 15 % of the selection runs (lawfind 0.1's selection, kept for comparison).
VALIDATION = ("rolling", "slice")
Reporter = Callable[[str, int, int, str], None]
#: Under a time budget: pyoperon's share; the end of the search (the grammar engine takes what pyoperon
#: left); refinement only if it starts before this share; the ends of refitting, refining and
#: extrapolating (candidates not done by then are given up). The front's checks and the final fit with
#: its bootstrap take the rest.
_SHARE = {"operon": 0.25, "search": 0.6, "refine": 0.7, "prescreen_end": 0.64, "refit_end": 0.72, "refine_end": 0.78, "extrapolate_end": 0.88, "end": 0.97}
#: Runs the engines search forms on at most (a reproducible sample of a larger table; the forms' constants
#: are then fitted on every selection run): the search's cost grows with the runs, its answer hardly.
_SEARCH_ROWS = 800
#: Engines whose candidates are built from the blocks of published laws.
_STRUCTURED = ("grammar", "catalog")
#: Engines whose candidates are free-form expressions (refined: snapped and pruned).
_FREE_FORM = ("operon", "pysr")
#: What an engine's expression may raise on its way to a fitted law (a candidate that cannot be one),
#: when it is prescreened and when it is fitted.
_CANNOT_PRESCREEN = (LawfindError, ValueError, TypeError, ZeroDivisionError, OverflowError, KeyError)
_CANNOT_FIT = (LawfindError, ValueError, TypeError, ZeroDivisionError, OverflowError)


@dataclass(frozen=True)
class Scored:
    """A candidate law fitted on the selection runs, its verdict, and (once scored) its extrapolation.

    ``source`` says where it came from for a reader (``"operon:seed1+refined"``, ``"catalog:NAME"``);
    ``engine`` and ``catalog_name`` say it for the code.
    """

    law: Law
    fit: FitResult
    complexity: int
    bic: float
    train_rmse: float
    verdict: Verdict
    source: str
    extrapolation: Extrapolation | None = None
    engine: str = ""
    catalog_name: str | None = None

    @property
    def n_params(self) -> int:
        return self.fit.n_params

    @property
    def loss(self) -> float:
        return self.extrapolation.rmse if self.extrapolation else math.inf

    @property
    def structured(self) -> bool:
        """Built from the blocks of published laws (the grammar engine, the catalogue)."""
        return self.engine in _STRUCTURED

    @property
    def loss_se(self) -> float:
        return self.extrapolation.se if self.extrapolation else math.inf


@dataclass(frozen=True)
class Failed:
    """A candidate that could not be made into a law or fitted on the selection runs: counted among
    the candidates and set aside as ``failed to fit``, with the first line of the error."""

    source: str
    engine: str
    catalog_name: str | None
    expression: str
    n_params: int | None
    verdict: Verdict

    @classmethod
    def of(cls, cand: Candidate, exc: BaseException) -> Failed:
        """The failure of ``cand`` with ``exc``: its type and the first line of its message."""
        from . import catalog

        first = (str(exc).strip().splitlines() or [""])[0]
        error = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        law = cand.law or (catalog.get(cand.catalog_name) if cand.catalog_name is not None else None)
        source = cand.source if cand.catalog_name is None else f"catalog:{cand.catalog_name}"  # as Scored's
        return cls(source, cand.engine, cand.catalog_name, sp.sstr(cand.expr, full_prec=False),
                   law.n_params if law is not None else None, Verdict.failed(error))


@dataclass(frozen=True)
class Splits:
    """The test split, the selection runs, and the rolling origins within the selection runs, with how
    much their extrapolation steps are worth (``evidence``); ``column`` split off the test runs
    (``None`` for a random or no test split)."""

    test: np.ndarray
    selection: np.ndarray
    origins: tuple[Origin, ...]
    column: str | None
    description: str
    evidence: Evidence | None = None


class Discovery(RegressorMixin, BaseEstimator):
    """Symbolic-regression discovery of a scaling law, a scikit-learn estimator.

    Parameters
    ----------
    engine:
        ``"default"`` (the grammar engine and pyoperon, selected over their union with the catalogue),
        ``"grammar"``, ``"operon"``, ``"pysr"`` or ``"catalog"``.
    generations, population_size, max_length, operators, seeds:
        pyoperon's budget (generations per seed, reproducible), population, longest expression,
        operator set (``"powerlaw"`` or ``"wide"``) and number of seeds.
    beam, max_depth:
        The grammar engine's beam width and the most blocks it adds.
    time_budget:
        Seconds for the whole discovery, on request: pyoperon takes a quarter, the grammar engine the
        search's share up to 60 %, scoring the rest (with half the free-form candidates refitted, and
        refinement only if it starts before 70 %); not exactly reproducible.
    seed:
        Seed of everything random.
    holdout:
        The test split (``"N>=1e9"``, ``"top:N:0.15"``); default the top 15 % of ``N`` (of the data
        column within each size where sizes are few; see :func:`lawfind.splits.default_split`).
    validation:
        ``"rolling"`` (default: ``n_origins`` extrapolation steps) or ``"slice"`` (one slice).
    n_origins, slice_fraction:
        Rolling origins, and the share of the runs in each scored slice on continuous sizes.
    model_selection:
        ``"1se"`` (default: the fewest constants within one standard error of the lowest
        extrapolation error), or PySR's ``"best"``, ``"accuracy"`` and ``"score"``.
    admissible:
        Set inadmissible candidates aside (default); ``False`` keeps and marks them.
    decreasing:
        Columns (beside ``N``, ``Na``) that grow with the model size: the loss must not rise with them.
    roles:
        Declared roles, ``{column: "size"|"data"|"hook"|"free"}`` (``--role``); the others come from
        the columns' names (:meth:`lawfind.admissible.Roles.infer`).
    extrapolation_factor:
        How far beyond the data admissibility is checked (size and data variables).
    include_catalog:
        Add the catalogue's laws to the candidates.
    max_free, max_refine, max_scored:
        Free-form candidates refitted (the best by the BIC of their engine's constants), refined
        (snapped and pruned), and candidates whose extrapolation error is measured (the best by BIC,
        beside the two best of every number of constants).
    n_starts, bootstrap:
        Starts of the final fit, and bootstrap refits for its intervals.
    template:
        For the pysr engine: a structured form such as ``"E0 + f(N, Na, D) * g(G, S)"``.
    n_jobs:
        Processes for pyoperon's seeds and for fitting candidates (default: the cores). The answer
        does not depend on it.
    group:
        A column whose levels share one law form with constants of their own (``"dataset"``): the
        search runs on the largest level's runs, and each shortlisted form is fitted on every run with
        the per-group constants the data choose (:mod:`lawfind.groups`). A :class:`RunTable` loaded
        with ``group=`` brings its own.
    per_group:
        The constants fitted per group level, declared (``("E0", "A")``) instead of chosen by BIC.
    forms:
        Laws (or fitted laws, whose constants start the refit) screened beside the search's and always
        measured on extrapolation: the laws found for the other targets of the same runs, so that
        several targets share their structure (``--target a,b``; source ``shared``).
    """

    def __init__(self, engine: str = "default", *, generations: int = 60, population_size: int = 600,
                 max_length: int = 40, operators: str = "powerlaw", seeds: int = 2, beam: int = 4, max_depth: int = 4,
                 time_budget: float | None = None, seed: int = 0, holdout: str | None = None,
                 validation: str = "rolling", n_origins: int = 3, slice_fraction: float = 0.12,
                 model_selection: str = "1se", admissible: bool = True, decreasing: Sequence[str] = (),
                 extrapolation_factor: float = EXTRAPOLATION_FACTOR, include_catalog: bool = True,
                 max_free: int = 30, max_refine: int = 3, max_scored: int = 12, n_starts: int = 64, bootstrap: int = 0,
                 template: str | None = None, n_jobs: int | None = None, group: str | None = None,
                 per_group: Sequence[str] | None = None, roles: Mapping[str, str] | None = None,
                 forms: Sequence[Law | FitResult] = ()) -> None:
        self.engine = engine
        self.generations = generations
        self.population_size = population_size
        self.max_length = max_length
        self.operators = operators
        self.seeds = seeds
        self.beam = beam
        self.max_depth = max_depth
        self.time_budget = time_budget
        self.seed = seed
        self.holdout = holdout
        self.validation = validation
        self.n_origins = n_origins
        self.slice_fraction = slice_fraction
        self.model_selection = model_selection
        self.admissible = admissible
        self.decreasing = decreasing
        self.roles = roles
        self.extrapolation_factor = extrapolation_factor
        self.include_catalog = include_catalog
        self.max_free = max_free
        self.max_refine = max_refine
        self.max_scored = max_scored
        self.n_starts = n_starts
        self.bootstrap = bootstrap
        self.template = template
        self.n_jobs = n_jobs
        self.group = group
        self.per_group = per_group
        self.forms = forms

    # -- fitting --------------------------------------------------------------------------------
    def fit(self, X: RunTable | pd.DataFrame | np.ndarray, y=None, *, progress: Reporter | None = None,
            **load) -> Discovery:
        """Search, check, score on extrapolation, select and refit.

        Parameters
        ----------
        X:
            A :class:`RunTable`; a DataFrame of runs (loaded with ``load`` options such as
            ``target=``, or with ``y`` as the loss); or an array whose columns are ``D, N, Na, G, S``
            (as many as it has) with ``y`` the loss.
        y:
            The loss, where ``X`` does not hold it.
        progress:
            ``progress(stage, done, total, message)``, called as the work goes.
        """
        check_choice("engine", self.engine, ("default", *ENGINES))
        check_choice("model_selection", self.model_selection, MODEL_SELECTION)
        check_choice("validation", self.validation, VALIDATION)
        report = progress or (lambda stage, done, total, msg: None)
        t0 = time.monotonic()
        table = _as_table(X, y, {**load, "group": self.group} if self.group and "group" not in load else load)
        if self.group and table.group != self.group:
            raise OptionError(f"group='{self.group}' but the table was loaded with group={table.group!r}: load it "
                              f"with group='{self.group}' (or give a DataFrame)")
        grouped = table.group is not None and len(set(table.groups)) > 1
        if self.per_group and not grouped:
            raise OptionError("per_group needs a group column with at least two levels: give group=COLUMN "
                              "(--group COLUMN)")
        roles = Roles.of(table, self.decreasing, self.roles)
        roles.warn_if_unconstrained()
        splits = self._splits(table, roles)
        sel = table.subset(splits.selection)
        test = table.subset(splits.test)
        search_table = sel.subset(splits.origins[-1].fit)

        if grouped:  # the forms are searched and screened on one level's runs, then fitted per group
            search_table = largest_level(search_table)
        candidates = self._search(_thin(search_table, _SEARCH_ROWS, self.seed), report, t0)
        scored, failed = self._score_all(candidates, largest_level(sel) if grouped else sel, roles, report, t0)
        if not scored:
            why = f" ({_reasons(Counter(f.verdict.category for f in failed))})" if failed else ""
            raise FitError(f"no candidate law could be fitted to the selection runs{why}: try more generations, "
                           "--operators wide, or --engine catalog")
        aside = [s for s in scored if not s.verdict.ok]
        pool = [s for s in scored if s.verdict.ok or not self.admissible]
        if not pool:
            why = _reasons(Counter(s.verdict.category for s in [*aside, *failed]))
            raise FitError(f"every one of the {len(scored) + len(failed)} candidate laws is inadmissible "
                           f"({why}): try --engine grammar, or --admissible off to see them")
        short = self._shortlist(pool)
        if grouped:
            short = self._per_group_fits(short, sel, roles, report, self._deadline(t0, "refine_end"))
        ranked = self._extrapolate(short, sel, splits.origins, report, self._deadline(t0, "extrapolate_end"))
        front, confirmed = self._front(ranked, sel, roles)
        aside += confirmed
        if not front:
            raise FitError("no candidate could be fitted on the smaller runs of the rolling origins: add runs "
                           "or use --validation slice")
        equations = self._equations_frame(front, table, sel, test)
        idx = select_model(equations, self.model_selection)
        chosen = front[idx]
        report("final", 0, 1, "refitting the chosen law on every selection run")
        final = fit_law(chosen.law, sel, n_starts=self.n_starts, seed=self.seed, per_group=chosen.fit.per_group,
                        initial=[chosen.fit.group_values(chosen.fit.groups[0] if chosen.fit.per_group else None)],
                        bootstrap=self.bootstrap, progress=lambda d, t: report("bootstrap", d, t, ""),
                        deadline=self._deadline(t0, "end"))
        if final.objective > chosen.fit.objective:  # keep the better optimum of the two fits
            final = replace(chosen.fit, bootstrap=final.bootstrap, stderr=final.stderr, intervals=final.intervals)
        front[idx] = replace(chosen, fit=final)
        equations = self._equations_frame(front, table, sel, test)
        loose = equations["unpinned"].iloc[idx]  # from the curvature at the final fit
        if loose and not final.intervals:  # no bootstrap: say which constants the data do not pin
            final = replace(final, warnings=(*final.warnings, f"constants the data do not pin (approximate 95 % "
                            f"intervals from the curvature at the fit; --bootstrap N gives refitted ones): "
                            f"{loose.replace('; ', ', ')}"))
            front[idx] = replace(chosen, fit=final)

        self.table_ = table
        self.roles_ = roles
        self.splits_ = splits
        # every candidate as last seen: with its extrapolation where measured, its final verdict and fit
        latest = {id(s.law): s for s in (*ranked, *confirmed, *front)}
        self.candidates_ = [latest.get(id(s.law), s) for s in scored]
        self.failed_ = failed
        self.set_aside_ = dict(Counter(s.verdict.category for s in [*aside, *failed]))
        self.n_candidates_ = len(scored) + len(failed)
        self.front_ = front
        self.equations_ = equations
        self.best_index_ = idx
        self.best_ = final
        self.best_verdict_ = front[idx].verdict
        self.best_metrics_ = self._metrics(final, sel, test)
        self.n_features_in_ = len(table.features)
        self.elapsed_ = time.monotonic() - t0
        return self

    def _splits(self, table: RunTable, roles: Roles) -> Splits:
        holdout = parse_holdout(self.holdout) if self.holdout else None
        axes = Axes.of(roles, holdout.column if holdout else None)
        outer = (holdout_split(table, self.holdout) if holdout
                 else default_split(table, axes.size, axes.data, 0.15, seed=self.seed))
        sel = table.subset(outer.train)
        if self.validation == "rolling":
            origins = plan_origins(sel, axes, self.n_origins, self.slice_fraction, seed=self.seed)
        else:
            origins = [slice_origin(sel, axes.size or axes.data or outer.column, 0.15)]
        ev = evidence(origins, axes)
        desc = (f"test: {outer.description} ({int(outer.test.sum())} runs); selection: {len(sel)} runs; "
                f"{ev.describe()}: " + "; ".join(o.description for o in origins))
        return Splits(outer.test, outer.train, tuple(origins), outer.column, desc, ev)

    def _search(self, table: RunTable, report: Reporter, t0: float) -> list[Candidate]:
        budget = self.time_budget
        cands: list[Candidate] = []
        if self.engine in ("default", "operon"):
            share = _SHARE["operon"] if self.engine == "default" else _SHARE["search"]
            per_seed = None if budget is None else budget * share * max(1, min(self.n_jobs or 2, self.seeds)) / self.seeds
            engine = make_engine("operon", seed=self.seed, time_budget=per_seed,
                                 generations=self.generations if budget is None else max(self.generations, 10_000),
                                 population_size=self.population_size, max_length=self.max_length,
                                 operators=self.operators, seeds=self.seeds, n_jobs=self.n_jobs)
            cands += engine.search(table, progress=lambda d, t, m: report("search", d, t, m))
        if self.engine in ("default", "grammar"):
            left = None if budget is None else max(budget * _SHARE["search"] - (time.monotonic() - t0), 1.0)
            engine = make_engine("grammar", beam=self.beam, max_depth=self.max_depth, time_budget=left, seed=self.seed,
                                   decreasing=tuple(self.decreasing), factor=self.extrapolation_factor,
                                   roles=tuple((self.roles or {}).items()),
                                   n_jobs=self.n_jobs)
            cands += engine.search(table, progress=lambda d, t, m: report("grammar", d, t, m))
        if self.engine == "pysr":
            engine = make_engine("pysr", seed=self.seed, time_budget=budget, template=self.template)
            cands += engine.search(table, progress=lambda d, t, m: report("search", d, t, m))
        if self.include_catalog or self.engine == "catalog":
            cands += make_engine("catalog").search(table)
        return cands + self._shared(table)

    def _shared(self, table: RunTable) -> list[Candidate]:
        """:attr:`forms` as candidates (those whose variables the table has), each from its fitted
        constants where it brings them (one level's, for a law fitted per group)."""
        out = []
        for form in self.forms:
            law, fit = (form.law, form) if isinstance(form, FitResult) else (form, None)
            if not set(law.variables) <= set(table.features):
                continue
            start = fit.group_values(fit.groups[0] if fit.per_group else None) if fit is not None else None
            out.append(Candidate(law.expr, f"shared:{law.name}", sp.sstr(law.expr), 0, law=law, start=start,
                                 engine="shared"))
        return out

    def _score_all(self, candidates: list[Candidate], sel: RunTable, roles: Roles, report: Reporter,
                   t0: float) -> tuple[list[Scored], list[Failed]]:
        """Every distinct candidate fitted on the selection runs and checked; free-form ones refined.
        Candidates that raise on the way (an engine's expression that cannot be made into a law here,
        a fit that fails) come back apart, one per distinct source and expression."""
        best: dict[str, Scored] = {}
        failed: dict[tuple[str, str], Failed] = {}

        def keep(s: Scored | Failed | None) -> None:
            if isinstance(s, Failed):
                failed.setdefault((s.source, s.expression), s)
            elif s is not None:
                key = structure_key(s.law)
                if key not in best or s.fit.objective < best[key].fit.objective:
                    best[key] = s

        candidates, unfit = self._prescreen(candidates, sel, self._deadline(t0, "prescreen_end"))
        for f in unfit:
            keep(f)

        def score(cand: Candidate) -> Scored | Failed | None:
            try:
                return self._score(cand, sel, roles)
            except _CANNOT_FIT as exc:
                return Failed.of(cand, exc)

        for s in parallel_map(score, candidates, self.n_jobs, lambda d, t: report("refit", d, t, ""),
                              deadline=self._deadline(t0, "refit_end"), min_done=4):
            keep(s)
        # refine the free-form candidates with the lowest BIC (snap constants, prune terms)
        free = sorted((s for s in best.values() if s.engine in _FREE_FORM
                       and (s.verdict.ok or not self.admissible)), key=lambda s: s.bic)[: self.max_refine]
        if self.time_budget is not None and time.monotonic() - t0 > _SHARE["refine"] * self.time_budget:
            free = []

        def refined(s: Scored) -> Scored | None:
            try:
                ref = refine(s.law, dict(s.fit.values), sel, n_starts=1, seed=self.seed)
            except LawfindError:
                return None
            return self._scored(ref.law, ref.fit, sel, roles, s.source + "+refined", s.engine)

        for s in parallel_map(refined, free, self.n_jobs, lambda d, t: report("refine", d, t, ""),
                              deadline=self._deadline(t0, "refine_end")):
            keep(s)
        return list(best.values()), list(failed.values())

    def _prescreen(self, candidates: list[Candidate], sel: RunTable,
                   deadline: float | None = None) -> tuple[list[Candidate], list[Failed]]:
        """Free-form expressions, tidied and deduplicated by structure, ranked by the BIC of their
        engine's own constants on the selection runs; the best ``max_free`` go on to be refitted (the
        engines' constants are fitted already, so the ranking costs no fit). Expressions that raise on
        the way come back apart; past ``deadline`` (a time budget) the rest are not looked at."""
        keep = [c for c in candidates if c.law is not None or c.catalog_name is not None]
        n_free = self.max_free if self.time_budget is None else max(5, self.max_free // 2)
        ranked: dict[str, tuple[float, Candidate]] = {}
        failed: list[Failed] = []
        for c in candidates:
            if c.law is not None or c.catalog_name is not None:
                continue
            if deadline is not None and time.monotonic() >= deadline:
                break
            try:
                expr = tidy(c.expr)
                if not expr.free_symbols or expr.has(sp.zoo, sp.nan, sp.oo):
                    continue
                law, start = parametrise(expr, sel.features, name="discovered")
                pred = law.compiled([start[p] for p in law.param_names], sel.X(law.variables))
            except _CANNOT_PRESCREEN as exc:
                failed.append(Failed.of(c, exc))
                continue
            ok = sel.scale == "linear" or np.all(pred > 0)
            bic = log_fit_stats(sel.y, pred, law.n_params, sel.scale)[2] if ok else math.inf
            key = structure_key(law)
            if np.isfinite(bic) and (key not in ranked or bic < ranked[key][0]):
                ranked[key] = (bic, replace(c, expr=expr))
        best = sorted(ranked.values(), key=lambda bc: bc[0])[:n_free]
        free = [c for _, c in best]
        # under a budget the structured candidates (grammar, catalogue) go first: refitting may stop short
        return (free + keep if self.time_budget is None else keep + free), failed

    def _score(self, cand: Candidate, sel: RunTable, roles: Roles) -> Scored | None:
        if cand.catalog_name is not None:
            from . import catalog
            law = catalog.get(cand.catalog_name)
            fit = fit_law(law, sel, n_starts=32, seed=self.seed)
            return self._scored(law, fit, sel, roles, "catalog:" + cand.catalog_name, cand.engine, cand.catalog_name)
        if cand.law is not None:
            fit = fit_law(cand.law, sel, n_starts=2 if cand.start else 16, seed=self.seed,
                          initial=[dict(cand.start)] if cand.start else ())
            return self._scored(cand.law, fit, sel, roles, cand.source, cand.engine)
        expr = tidy(cand.expr)
        if not expr.free_symbols or expr.has(sp.zoo, sp.nan, sp.oo):
            return None
        law, start = parametrise(expr, sel.features, name="discovered")
        if not law.params:
            return None
        fit = fit_law(law, sel, n_starts=2, seed=self.seed, initial=[start])
        return self._scored(law, fit, sel, roles, cand.source, cand.engine)

    def _scored(self, law: Law, fit: FitResult, sel: RunTable, roles: Roles, source: str, engine: str,
                catalog_name: str | None = None) -> Scored:
        rmse, _, bic = log_fit_stats(sel.y, fit.predict(sel), fit.n_params, sel.scale)
        verdict = check_admissible(law, fit.values, sel, roles, factor=self.extrapolation_factor, seed=self.seed,
                                   symbolic=False)
        return Scored(law, fit, complexity(law.expr), bic if math.isfinite(bic) else math.inf, rmse, verdict, source,
                      engine=engine, catalog_name=catalog_name)

    def _shortlist(self, pool: list[Scored]) -> list[Scored]:
        """The candidates worth an extrapolation error: the lowest BIC overall, the two lowest of
        every number of constants (so the front can show each size), and every catalogue law and shared
        form (a published law, or one another target chose, is never dropped on its training BIC alone)."""
        ranked = sorted(pool, key=lambda s: (s.bic, s.n_params))
        short = ranked[: self.max_scored]
        for k in sorted({s.n_params for s in pool}):
            short += [s for s in ranked if s.n_params == k][:2]
        short += [s for s in ranked if s.catalog_name is not None or s.engine == "shared"]
        return list({id(s): s for s in short}.values())

    def _per_group_fits(self, rows: list[Scored], sel: RunTable, roles: Roles, report: Reporter,
                        deadline: float | None = None) -> list[Scored]:
        """Each shortlisted form (fitted on the largest group level) refitted on every selection run with
        the constants per group level that the data choose by BIC (or ``per_group``), its verdict taken
        level by level; forms that cannot be fitted so, or not before ``deadline`` (the first is always
        fitted), are dropped."""
        declared = None if self.per_group is None else tuple(self.per_group)

        def one(r: Scored) -> tuple[FitResult, float, float, Verdict] | None:
            fit = choose_per_group(r.law, sel, {k: r.fit.values[k] for k in r.law.param_names},
                                   declared=declared, seed=self.seed)
            if fit is None:
                return None
            rmse, _, bic = log_fit_stats(sel.y, fit.predict(sel), fit.n_params, sel.scale)
            verdict = grouped_verdict(r.law, fit, sel, roles, factor=self.extrapolation_factor, seed=self.seed,
                                      symbolic=False)
            return fit, rmse, bic if math.isfinite(bic) else math.inf, verdict

        out = []
        fits = parallel_map(one, rows, self.n_jobs, lambda d, t: report("groups", d, t, ""), deadline, min_done=1)
        for r, got in zip(rows, fits):
            if got is not None:  # the row keeps its own law object (a worker returns a copy): candidates_ match by it
                fit, rmse, bic, verdict = got
                out.append(replace(r, fit=replace(fit, law=r.law), bic=bic, train_rmse=rmse, verdict=verdict))
        return [s for s in out if s.verdict.ok or not self.admissible]

    def _predict_groups(self, fit: FitResult, X) -> np.ndarray:
        """:meth:`predict` for a DataFrame with the group column: each row with its level's constants."""
        group = self.table_.group
        if not isinstance(X, pd.DataFrame) or group not in X.columns:
            raise OptionError(f"this law has constants per '{group}' ({', '.join(fit.groups)}): give a DataFrame "
                              f"with a '{group}' column (or a RunTable loaded with group='{group}')")
        cols = self.table_.columns or {f: f for f in self.table_.features}
        missing = [c for c in cols.values() if c not in X.columns]
        if missing:
            raise OptionError(f"predict needs the columns {missing}")
        arrays = {f: np.asarray(X[c], dtype=float) for f, c in cols.items()}
        out = np.empty(len(X))
        labels = X[group].astype(str).to_numpy()
        for level in dict.fromkeys(labels):
            if level not in fit.groups:
                from .errors import did_you_mean

                raise OptionError(f"'{level}' is not a level of '{group}'{did_you_mean(level, fit.groups)}: the law "
                                  f"has constants for {', '.join(fit.groups)}")
            rows = labels == level
            values = fit.group_values(level)
            out[rows] = fit.law.compiled([values[p] for p in fit.law.param_names],
                                         [arrays[v][rows] for v in fit.law.variables])
        return out

    def _extrapolate(self, rows: list[Scored], sel: RunTable, origins: Sequence[Origin],
                     report: Reporter, deadline: float | None = None) -> list[Scored]:
        """The shortlisted rows with their extrapolation errors (those not measured by ``deadline``
        get none: they cannot be chosen)."""
        def one(r: Scored) -> Extrapolation:
            level = r.fit.groups[0] if r.fit.per_group else None
            return extrapolation_error(r.law, sel, origins, r.fit.group_values(level), seed=self.seed,
                                       per_group=r.fit.per_group)

        errors = parallel_map(one, rows, self.n_jobs, lambda d, t: report("extrapolate", d, t, ""), deadline=deadline,
                              min_done=2)
        return [replace(r, extrapolation=e if e is not None else Extrapolation.failed(len(origins)))
                for r, e in zip(rows, errors)]

    def _deadline(self, t0: float, stage: str) -> float | None:
        """When ``stage`` must end under the time budget (``None`` without one)."""
        return None if self.time_budget is None else t0 + _SHARE[stage] * self.time_budget

    def _front(self, ranked: list[Scored], sel: RunTable, roles: Roles) -> tuple[list[Scored], list[Scored]]:
        """The Pareto front, its rows confirmed with sympy's limits and derivative signs (the numeric
        check decided for every candidate; the symbolic one, slower, only for the front). A row the
        symbolic check rejects leaves, and the front is drawn again."""
        rows = [r for r in ranked if math.isfinite(r.loss)]
        rejected: list[Scored] = []
        checked: dict[int, Scored] = {}
        while True:
            front = pareto_front(rows)
            todo = [r for r in front if id(r) not in checked and r.verdict.ok]
            if not todo:
                return [checked.get(id(r), r) for r in front], rejected
            for r in todo:
                v = grouped_verdict(r.law, r.fit, sel, roles, factor=self.extrapolation_factor, seed=self.seed)
                new = replace(r, verdict=v)
                checked[id(r)] = new
                if not v.ok:
                    rejected.append(new)
                    if self.admissible:
                        rows.remove(r)
                    else:
                        rows[rows.index(r)] = new

    @staticmethod
    def _metrics(fit: FitResult, sel: RunTable, test: RunTable) -> Metrics:
        return metrics(test.y, fit.predict(test), train_y=sel.y, train_pred=fit.predict(sel), n_params=fit.n_params,
                       scale=sel.scale)

    def _equations_frame(self, front: list[Scored], table: RunTable, sel: RunTable, test: RunTable) -> pd.DataFrame:
        rows, prev = [], None
        for r in front:
            score = 0.0 if prev is None else -(math.log(r.loss) - math.log(prev.loss)) / max(
                r.complexity - prev.complexity, 1)
            m = self._metrics(r.fit, sel, test)
            expr = shared_form(r.fit) if r.fit.per_group else r.fit.substituted()
            loose = unpinned(local_intervals(r.fit, sel))
            rows.append({"complexity": r.complexity, "loss": r.loss, "loss_se": r.loss_se, "score": score,
                         "equation": sp.sstr(_in_columns(expr, table), full_prec=False),
                         "sympy_format": expr, "lambda_format": _callable(r.fit),
                         "n_params": r.n_params, "bic": r.bic, "train_rmse_log": r.train_rmse,
                         "extrap_rmse_log": r.loss,
                         "extrap_per_origin": " ".join(f"{e:.4g}" for e in r.extrapolation.per_origin),
                         "test_r2": m.r2, "test_rmse_log": m.rmse_log, "test_rmse": m.rmse, "test_spread_ratio": m.spread_ratio,
                         "admissible": r.verdict.ok, "reason": r.verdict.reason, "source": r.source,
                         "n_unpinned": len(loose), "unpinned": "; ".join(loose)})
            prev = r
        return pd.DataFrame(rows)

    # -- views ----------------------------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "best_")

    def _check(self) -> None:
        check_is_fitted(self, msg="this Discovery is not fitted yet: call fit(table) first")

    def _row(self, index: int | None) -> Scored:
        self._check()
        if index is None:
            return self.front_[self.best_index_]
        if not 0 <= index < len(self.front_):
            raise OptionError(f"no equation {index}: equations_ has rows 0 to {len(self.front_) - 1}")
        return self.front_[index]

    def sympy(self, index: int | None = None, level: str | None = None) -> sp.Expr:
        """The chosen law (or row ``index`` of ``equations_``) with its numbers, in the column names.

        Every row carries its fit on the selection runs; the chosen row's is the final fit, so
        ``sympy()`` and ``sympy(best_index_)`` are the same law. With constants per group, ``level``
        picks a group level's law; without it the per-group constants stay symbols.
        """
        fit = self._row(index).fit
        expr = shared_form(fit) if fit.per_group and level is None else fit.substituted(level)
        return _in_columns(expr, self.table_)

    def latex(self, index: int | None = None, precision: int = 3, level: str | None = None) -> str:
        """LaTeX of :meth:`sympy` (in the canonical variables)."""
        fit = self._row(index).fit
        if fit.per_group and level is None:
            return latex(shared_form(fit), precision)
        return latex_fit(fit, precision, level)

    def latex_table(self, precision: int = 3) -> str:
        """A booktabs table of the front: constants, extrapolation and test errors, law."""
        self._check()
        rows = []
        for i, (r, row) in enumerate(zip(self.front_, self.equations_.itertuples())):
            mark = r"$^\star$" if i == self.best_index_ else ""
            rows.append([f"{r.n_params}{mark}", f"{r.loss:.3g}", f"{row.test_rmse_log:.3g}", f"{row.test_r2:.3g}",
                         f"${latex(shared_form(r.fit) if r.fit.per_group else r.fit.substituted(), precision)}$"])
        return booktabs([r"$k$", r"RMSE$_{\log}$ (extrap.)", r"RMSE$_{\log}$ (test)", r"$R^2$ (test)", "Law"], rows,
                        "Admissible laws on the front of constants against extrapolation error; * marks the chosen one.")

    def predict(self, X: RunTable | pd.DataFrame | np.ndarray, index: int | None = None) -> np.ndarray:
        """Predicted loss for the runs of ``X`` (a RunTable, a DataFrame with the feature columns, or
        an array with the features in the fitted order)."""
        fit = self._row(index).fit
        if isinstance(X, RunTable):
            return fit.predict(X)
        if fit.per_group:
            return self._predict_groups(fit, X)
        features = self.table_.features
        if isinstance(X, pd.DataFrame):
            cols = self.table_.columns or {f: f for f in features}
            missing = [c for c in cols.values() if c not in X.columns]
            if missing:
                raise OptionError(f"predict needs the columns {missing}")
            arrays = {f: np.asarray(X[c], dtype=float) for f, c in cols.items()}
        else:
            arr = np.asarray(X, dtype=float)
            if arr.ndim != 2 or arr.shape[1] != len(features):
                raise OptionError(f"predict needs an array of shape (n, {len(features)}) with columns "
                                  f"{', '.join(features)}; got shape {arr.shape}")
            arrays = dict(zip(features, arr.T))
        n = len(next(iter(arrays.values()))) if arrays else len(X)
        return per_run(fit.law.compiled([fit.values[p] for p in fit.law.param_names],
                                        [arrays[v] for v in fit.law.variables]), n)

    def save(self, folder: str | Path, *, provenance: Mapping | None = None, report: bool = False) -> list[Path]:
        """Write the discovery's folder, whole or not at all: ``best.json`` (read back by
        :func:`lawfind.record.load_discovery`), the tables, ``best.tex``, the plots, and with ``report``
        ``report.html`` and ``optima.json``. See :func:`lawfind.record.save_discovery`."""
        from .record import save_discovery

        self._check()
        writer = None
        if report:
            from .report import write_report as writer
        return save_discovery(self, folder, provenance=provenance, report=writer)

    def summary(self) -> str:
        """One line on the candidates: how many, how many set aside and why."""
        self._check()
        aside = sum(self.set_aside_.values())
        why = _reasons(self.set_aside_)
        verb = "set aside" if self.admissible else "marked inadmissible (kept: --admissible off)"
        return (f"{self.n_candidates_} distinct candidate laws; {aside} {verb}" + (f" ({why})" if aside else ""))


def _as_table(X, y, load: dict) -> RunTable:
    if isinstance(X, RunTable):
        return X
    if isinstance(X, pd.DataFrame):
        if y is not None:
            target = load.pop("target", "loss")
            frame = X.copy()
            frame[target] = np.asarray(y, dtype=float)
            return load_runs(frame, target=target, **load)
        return load_runs(X, **load)
    arr = np.asarray(X, dtype=float)
    if y is None or arr.ndim != 2 or not 1 <= arr.shape[1] <= len(DEFAULT_FEATURES):
        raise OptionError("fit needs a RunTable, a DataFrame of runs, or an array of up to five columns "
                          f"({', '.join(DEFAULT_FEATURES)}) with y the loss")
    frame = pd.DataFrame(arr, columns=list(DEFAULT_FEATURES[: arr.shape[1]]))
    frame["loss"] = np.asarray(y, dtype=float)
    return load_runs(frame, **load)


def _callable(fit: FitResult):
    """The front row's ``lambda_format``: ``f(**variables)``, or ``{level: f}`` with constants per group."""
    if fit.per_group:
        return {level: make_callable(fit.law, fit.group_values(level)) for level in fit.groups}
    return make_callable(fit.law, fit.values)


def _thin(table: RunTable, n: int, seed: int) -> RunTable:
    """At most ``n`` runs of ``table``, drawn without replacement from ``seed`` (all of them if fewer)."""
    if len(table) <= n:
        return table
    keep = np.zeros(len(table), dtype=bool)
    keep[np.random.default_rng(seed).choice(len(table), n, replace=False)] = True
    return table.subset(keep)


def _reasons(counts: Mapping[str, int]) -> str:
    """``"27 rises with size, 3 unbounded below"``: the reasons for setting laws aside, most frequent first."""
    return ", ".join(f"{n} {k}" for k, n in Counter(counts).most_common())


def _in_columns(expr: sp.Expr, table: RunTable) -> sp.Expr:
    """Rename canonical variables back to the table's column names (``N`` -> ``dense_parameter_count``)."""
    cols = table.columns or {}
    return expr.xreplace({s: symbol(cols[s.name]) for s in expr.free_symbols
                          if s.name in cols and cols[s.name] != s.name})


def discover(data: RunTable | pd.DataFrame, *, progress: Reporter | None = None, load: dict | None = None,
             **options) -> Discovery:
    """Run a :class:`Discovery` on ``data`` and return it fitted."""
    return Discovery(**options).fit(data, progress=progress, **(load or {}))



def discover_targets(data: pd.DataFrame | str | Path, targets: Sequence[str], *, progress: Reporter | None = None,
                     load: dict | None = None, **options) -> dict[str, Discovery]:
    """One :class:`Discovery` per target column of ``data`` (a DataFrame, or a run table's file, read
    once), each with the same ``options`` and ``load`` options; by target, in the order given.
    :func:`lawfind.record.save_index` writes an index over their folders."""
    from .files import read_table

    if isinstance(targets, str) or len(set(targets)) < len(targets) or not targets:
        raise OptionError(f"targets must be a list of distinct column names, got {targets!r}")
    frame = read_table(data) if isinstance(data, (str, Path)) else data
    return {t: Discovery(**options).fit(frame, progress=progress, **{**(load or {}), "target": t}) for t in targets}
