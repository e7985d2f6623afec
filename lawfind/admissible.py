"""Admissibility: does a fitted law have the shape every scaling law has?

A law is worth what it predicts beyond its data, so before a law is compared with others it must be:

1. **finite and positive** on the data's range and on an extrapolation range (the size variables and
   the data variable up to ``factor`` times their largest value in the table, the shape variables
   over their data range, and each log-scale shape variable alone up to ``factor`` times its
   largest value); a target of any sign (``table.scale == "linear"``) need not be positive;
2. **non-increasing in the data variable** (``D``) and **in model size when the size variables grow
   together** (``N`` and ``Na`` at a fixed ``Na/N``; a column declared decreasing); hooks in the
   shape variables (``G``, ``S``, ``E``, ``Na/N``, width, depth, ...) stay allowed;
3. **bounded below**: the loss tends to a finite limit ``>= 0`` (any finite limit on a linear target
   scale) as size and data grow, and does not fall without bound as any log-scale shape variable
   (an expert count, a parallel width, a vocabulary) grows: a hook or a saturation is fine,
   ``-0.09*log(V)`` is not;
4. **plausible exponents**: no power of a size or data variable beyond +-3 (``N**-20`` dies out within
   a factor of two of size: it fits the smallest runs, not a scaling; published exponents lie between
   0.05 and 0.8, and the grammar engine bounds its own at 3); where no column has a size or data
   role, no such power of any log-scale variable.

Roles come from the columns' names (:func:`lawfind.symbols.infer_role`: ``params`` is a size,
``tokens`` data, ``num_experts`` a hook) or are declared (``--role COL=size|data|hook|free``); a
``free`` variable is not checked at all.

Each property is decided with sympy where it resolves (the sign of a derivative, the limit along a
ray) and with a dense numerical check where it does not: rays from anchor runs of the table, scaled in
size and in data, evaluated on a grid and far out (to 1e300). The verdict records which method
decided and why a law was set aside: a :class:`Reason` for each failure, beside the sentence that
says where it fails.
"""

from __future__ import annotations

import math
import signal
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple, TypeVar

import numpy as np
import sympy as sp

from .data import RunTable
from .errors import LawfindWarning, OptionError, did_you_mean
from .laws import Law
from .symbols import ROLE_CHOICES, infer_role, interpolate, is_unique, scale

__all__ = ["Roles", "Reason", "Verdict", "check_admissible", "EXTRAPOLATION_FACTOR"]

#: How far beyond the data the size and data variables are checked, by default.
EXTRAPOLATION_FACTOR = 100.0
#: The largest magnitude of a power of a size or data variable in a plausible law.
MAX_EXPONENT = 3.0
_GRID = 14  # points along each ray within the extrapolation range
_FAR = (1e2, 1e4, 1e8, 1e16, 1e32, 1e64)  # far along the joint ray (squaring steps), times the range's end
_LOG_LIKE = 1.5  # along a shape variable, drops growing by this factor over squaring steps: a log decline
_REL_TOL = 1e-7  # a rise smaller than this (relative) is float noise, not a rise
_PROFILE_TOL = 1e-5  # the same for the loss at the best hook values, found on a grid of them
_T = TypeVar("_T")


class Reason(Enum):
    """Why a law is set aside; the value is its label in counts (``set_aside`` in best.json)."""

    IMPLAUSIBLE_EXPONENT = "implausible exponent"
    NOT_FINITE = "not finite"
    NOT_POSITIVE = "not positive"
    RISES_WITH_DATA = "rises with data"
    RISES_WITH_SIZE = "rises with size"
    #: far out along the joint ray, where neither size nor data alone makes the loss rise
    RISES_WITH_SIZE_AND_DATA = "rises with size and data"
    UNBOUNDED_BELOW = "unbounded below"
    #: the candidate could not be made into a law or fitted (discovery counts it, with the error)
    FAILED_TO_FIT = "failed to fit"

    @property
    def label(self) -> str:
        return self.value


class _Finding(NamedTuple):
    """One failed property: its reason, the sentence for a reader, and whether it is a numerical doubt
    (overflow far out, a slow decline) that a finite symbolic limit overrides."""

    code: Reason
    text: str
    doubt: bool = False


@dataclass(frozen=True)
class Roles:
    """Which variables of a table are model sizes, data amounts, hooks and free variables.

    Attributes
    ----------
    size:
        Variables the loss must not rise with when they grow together (``N``, ``Na``, ``params``).
    data:
        Variables the loss must not rise with (``D``, ``tokens``; training compute ``C``).
    shape:
        Hooks: a minimum inside the range is allowed; checked over the data's range, and each
        log-scale one alone out to the extrapolation factor, where the loss must stay bounded below.
    free:
        Variables without any constraint (declared ``--role COL=free``).
    columns:
        The source column of each variable that was read from a column of another name.
    """

    size: tuple[str, ...]
    data: tuple[str, ...]
    shape: tuple[str, ...]
    free: tuple[str, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()

    @property
    def hooks(self) -> tuple[str, ...]:
        return self.shape

    @property
    def unconstrained(self) -> bool:
        """No variable is a size or data amount: only the plausibility checks apply."""
        return not self.size and not self.data

    @classmethod
    def infer(cls, features: Sequence[str], decreasing: Iterable[str] = (), *,
              columns: Mapping[str, str] | None = None, declared: Mapping[str, str] | None = None) -> Roles:
        """Roles of ``features`` from their names (:func:`lawfind.symbols.infer_role`; a feature whose
        own name says nothing, such as ``V``, is judged by its source column's name in ``columns``).

        Parameters
        ----------
        features:
            The table's variables.
        decreasing:
            Further variables in which the loss must not rise (they grow with the model size): sizes.
        columns:
            The source column of each feature (``RunTable.columns``).
        declared:
            Roles given by the user, ``{feature or source column: "size"|"data"|"hook"|"free"}``;
            they win over the names.

        Raises
        ------
        OptionError
            For a name that is no feature nor source column, or an unknown role.
        """
        columns = dict(columns or {})
        source = {c: f for f, c in columns.items()}
        decreasing = list(decreasing)
        unknown = [d for d in decreasing if d not in features and d not in source]
        if unknown:
            raise OptionError(f"--decreasing names '{unknown[0]}', which is not a feature"
                              f"{did_you_mean(unknown[0], features)}; the features are {', '.join(features)}")
        given: dict[str, str] = {}
        for name, r in (declared or {}).items():
            feature = name if name in features else source.get(name)
            if feature is None:
                raise OptionError(f"--role names '{name}', which is not a feature"
                                  f"{did_you_mean(name, [*features, *source])}; the features are {', '.join(features)}")
            if r not in ROLE_CHOICES:
                raise OptionError(f"unknown role '{r}' for '{name}'{did_you_mean(r, ROLE_CHOICES)}; "
                                  f"choose one of: {', '.join(ROLE_CHOICES)}")
            given[feature] = r
        for d in decreasing:
            given.setdefault(d if d in features else source[d], "size")
        size, data, shape, free = [], [], [], []
        for f in features:
            r = given.get(f) or _named_role(f, columns.get(f))
            {"size": size, "data": data, "compute": data, "free": free}.get(r, shape).append(f)
        mapped = tuple((f, c) for f, c in columns.items() if f in features and c != f)
        data.sort(key=lambda f: is_unique(f) or is_unique(columns.get(f, f)))  # the tokens trained on first
        return cls(tuple(size), tuple(data), tuple(shape), tuple(free), mapped)

    @classmethod
    def of(cls, table: RunTable, decreasing: Iterable[str] = (), declared: Mapping[str, str] | None = None) -> Roles:
        """:meth:`infer` for a run table's features and source columns."""
        return cls.infer(table.features, decreasing, columns=table.columns, declared=declared)

    def describe(self) -> str:
        """``size: N, Na; data: D; shape: G, S`` (best.json's ``admissibility.roles``)."""
        parts = [f"{k}: {', '.join(v)}" for k, v in (("size", self.size), ("data", self.data),
                                                     ("shape", self.shape), ("free", self.free)) if v]
        return "; ".join(parts)

    def line(self) -> str:
        """One line for a reader: ``roles: size N (params), Na; data D (tokens); hooks G, S; free -``."""
        cols = dict(self.columns)

        def names(vs: tuple[str, ...]) -> str:
            return ", ".join(f"{v} ({cols[v]})" if v in cols else v for v in vs) or "-"

        return (f"roles: size {names(self.size)}; data {names(self.data)}; hooks {names(self.shape)}; "
                f"free {names(self.free)}")

    def warn_if_unconstrained(self) -> None:
        """A :class:`LawfindWarning` where no variable is a size or data amount."""
        if self.unconstrained:
            warnings.warn("no column has a size or data role (name them params/tokens, map N=column and D=column, "
                          "or pass --role COL=size|data): only plausibility is checked (exponents within "
                          f"+-{MAX_EXPONENT:g}, bounded below as each log-scale column grows)", LawfindWarning,
                          stacklevel=2)


def _named_role(feature: str, column: str | None) -> str:
    """The role a feature's name gives it, else the role its source column's name gives it."""
    r = infer_role(feature)
    if r == "shape" and column and column != feature:
        r = infer_role(column)
    return r


@dataclass(frozen=True)
class Verdict:
    """Whether a fitted law is admissible, and why not.

    Attributes
    ----------
    ok:
        Admissible.
    reasons:
        Why it is not (empty when ``ok``): short sentences naming the property and where it fails.
    limit:
        The loss's limit as size and data grow together (at the table's median shape), if found.
    method:
        What decided: ``"sympy"`` where the symbolic checks resolved every property, else
        ``"numeric"`` or ``"sympy+numeric"``.
    codes:
        The :class:`Reason` of each entry of ``reasons``, in the same order.
    """

    ok: bool
    reasons: tuple[str, ...]
    limit: float | None
    method: str
    codes: tuple[Reason, ...] = ()

    def __post_init__(self) -> None:
        if len(self.codes) != len(self.reasons):
            raise ValueError(f"a Verdict needs one Reason per reason: got {len(self.codes)} for "
                             f"{len(self.reasons)} reasons")

    @classmethod
    def failed(cls, error: str) -> Verdict:
        """The verdict on a candidate that could not be fitted: ``error`` is the exception's first line."""
        return cls(False, (f"{Reason.FAILED_TO_FIT.label}: {error}",), None, "none", (Reason.FAILED_TO_FIT,))

    @property
    def reason(self) -> str:
        """The first reason, or an empty string."""
        return self.reasons[0] if self.reasons else ""

    @property
    def code(self) -> Reason | None:
        """The :class:`Reason` of the first failure, or ``None`` when admissible."""
        return self.codes[0] if self.codes else None

    @property
    def category(self) -> str:
        """The label of the first failure (for counts): ``implausible exponent``, ``not finite``,
        ``not positive``, ``rises with data``, ``rises with size``, ``unbounded below``, ..., or ``""``."""
        return self.codes[0].label if self.codes else ""


def check_admissible(law: Law, values: Mapping[str, float], table: RunTable, roles: Roles | None = None, *,
                     factor: float = EXTRAPOLATION_FACTOR, symbolic: bool = True, n_anchors: int = 48,
                     seed: int = 0) -> Verdict:
    """Check a fitted law's shape (see the module's docstring).

    Parameters
    ----------
    law, values:
        The law and its fitted constants (by parameter name).
    table:
        The runs it was fitted on: their ranges, and anchors for the rays.
    roles:
        The variables' roles (default: inferred from the table's feature names).
    factor:
        The extrapolation range: size and data variables up to ``factor`` times their largest value.
    symbolic:
        Try sympy's derivative signs and limits first (a few milliseconds each, with a time limit).
    n_anchors:
        Runs of the table from which the rays start.
    seed:
        Seed of the choice of anchors and of the shape values drawn for half of them.
    """
    if factor < 1:
        raise OptionError(f"the extrapolation factor must be at least 1, got {factor}")
    roles = roles or Roles.of(table)
    linear = getattr(table, "scale", "log") == "linear"  # a target of any sign: no positivity asked
    theta = [float(values[p]) for p in law.param_names]
    if not law.variables:  # a constant (where a search over hooks starts): finite, positive on a log scale
        value = complex(law.expr.subs({law.symbol(p): v for p, v in zip(law.param_names, theta)}))
        if not (np.isfinite(value.real) and value.imag == 0):
            return _verdict([_Finding(Reason.NOT_FINITE, "not finite")], None, "numeric")
        if not linear and value.real <= 0:
            return _verdict([_Finding(Reason.NOT_POSITIVE, "not positive")], None, "numeric")
        return _verdict([], value.real, "numeric")
    anchors = _anchors(table, law.variables, roles, n_anchors, seed)
    grower = [v for v in law.variables if v in roles.size]
    data = [v for v in law.variables if v in roles.data]
    hooks = [v for v in law.variables if v in roles.shape and _log_scale(table, v)]
    implausible = _implausible_exponents(law, values, grower + data + (hooks if roles.unconstrained else []))
    if implausible:
        return _verdict(implausible, None, "sympy")
    found: list[_Finding] = []

    # 1-2. the grid within the extrapolation range: finite, positive, non-increasing along both axes
    vals, cols = _grid(law, theta, anchors, table, grower, data, factor)
    bad = ~np.isfinite(vals)
    if bad.any():
        found.append(_Finding(Reason.NOT_FINITE, f"not finite: {_where(cols, bad)}"))
    elif not linear and (vals <= 0).any():
        found.append(_Finding(Reason.NOT_POSITIVE, f"not positive: {_where(cols, vals <= 0)}"))
    else:
        rises = _rises(vals, cols, grower, data)
        # where the hooks' optimum moves with size or data (a learning rate, G), the loss at fixed hook
        # values may rise; what must not rise is the loss at the best hook values (to a grid's precision)
        moving = [v for v in law.variables if v in roles.shape]
        if rises and moving:
            best = _at_best(law, theta, _flat(cols), table, moving)
            if best is not None and not _rises(best.reshape(vals.shape), cols, grower, data, _PROFILE_TOL):
                rises = []
        found += rises
    # each log-scale hook alone, out to the extrapolation factor and far beyond: bounded below
    if not found:
        found += _hooks_bounded(law, theta, anchors, table, hooks, factor, linear)

    # 3. far along the joint ray: finite, non-increasing, >= 0, and converging; sympy's limit (where it
    #    resolves) overrides a numerical doubt about overflow or a slow but converging decline
    limit, method = None, "numeric"
    if not found and (grower or data):
        far = _far(law, theta, anchors, table, grower, data, factor, linear,
                   [v for v in law.variables if v in roles.shape])
        # a numerical doubt (overflow far out, a slow decline) is never final without sympy's limit
        doubt = bool(far) and far[0].doubt
        sym = _symbolic(law, values, table, anchors, grower, data, linear) if symbolic or doubt else None
        if sym is not None:
            limit, sym_finding, resolved = sym
            if sym_finding:
                found.append(sym_finding)
            elif far and not far[0].doubt:
                found += far
            method = "sympy" if resolved and not far else "sympy+numeric"
        else:
            found += far
    return _verdict(found, limit, method)


def _rises(vals: np.ndarray, cols: dict[str, np.ndarray], grower: list[str], data: list[str],
           rel_tol: float = _REL_TOL) -> list[_Finding]:
    """Rises of the law along the data and the size axes of its grid (:func:`_grid`) by more than
    ``rel_tol`` (relative)."""
    tol = rel_tol * np.abs(vals)
    out = []
    if data:
        rise = np.diff(vals, axis=2) > tol[:, :, 1:]
        if rise.any():
            out.append(_Finding(Reason.RISES_WITH_DATA, "rises with data: "
                                f"{_where(cols, np.pad(rise, ((0, 0), (0, 0), (1, 0))))}"))
    if grower:
        rise = np.diff(vals, axis=1) > tol[:, 1:, :]
        if rise.any():
            out.append(_Finding(Reason.RISES_WITH_SIZE, "rises with size: "
                                f"{_where(cols, np.pad(rise, ((0, 0), (1, 0), (0, 0))))}"))
    return out


def _flat(cols: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The columns of a grid or a ray as 1-d float arrays (the points :func:`_at_best` takes)."""
    return {v: np.asarray(c, dtype=float).ravel() for v, c in cols.items()}


def _at_best(law: Law, theta: list[float], cols: dict[str, np.ndarray], table: RunTable, hooks: list[str],
             widen: float = 1.0, points: int = 161, sweeps: int = 2, reach: float = 0.0) -> np.ndarray | None:
    """The law at the points ``cols`` (1-d arrays per variable) with the hook variables at their best
    values: each hook in turn set to the best of ``points`` values over its range widened by ``widen``
    times its width on either side (and by ``reach`` more, in log units, for a log-scale hook; a
    proportion or a ratio kept in its domain), then of ``points`` values around that best (two steps
    either side), refined by a parabola through the best three, ``sweeps`` times over. ``None`` where
    not finite."""
    current = dict(cols)
    size = len(next(iter(cols.values())))
    rows = np.arange(size)
    best = None
    for _ in range(sweeps):
        for h in hooks:
            lo, hi = table.ranges()[h]
            log = scale(h) == "log"
            a, b = (np.log(lo), np.log(hi)) if log else (lo, hi)
            a, b = a - widen * (b - a) - (reach if log else 0.0), b + widen * (b - a) + (reach if log else 0.0)
            if not log:
                a, b = max(a, 0.0), min(b, 1.0)

            def at(z: np.ndarray) -> np.ndarray:
                x = np.exp(z) if log else z
                flat = [np.repeat(current[v][:, None], z.shape[1], axis=1).ravel() if v != h else x.ravel()
                        for v in law.variables]
                with np.errstate(all="ignore"):
                    out = law.compiled(theta, flat).reshape(z.shape)
                return np.where(np.isfinite(out), out, np.inf)

            tries = np.broadcast_to(np.linspace(a, b, points), (size, points))
            grid = at(tries)
            step = (b - a) / (points - 1)
            # zoom: the same number of points within two steps of each row's best
            centre = tries[rows, np.argmin(grid, axis=1)]
            tries = np.clip(centre[:, None] + np.linspace(-2 * step, 2 * step, points)[None, :], a, b)
            fine = at(tries)
            coarse_min, fine_min = grid.min(axis=1), fine.min(axis=1)
            step = 4 * step / (points - 1)
            k = np.clip(np.argmin(fine, axis=1), 1, points - 2)
            y0, y1, y2 = fine[rows, k - 1], fine[rows, k], fine[rows, k + 1]
            curv = y0 - 2 * y1 + y2
            with np.errstate(all="ignore"):
                shift = np.where(curv > 0, 0.5 * step * (y0 - y2) / curv, 0.0)
            z = (tries[rows, k] + np.clip(np.nan_to_num(shift), -step, step))[:, None]
            refined = at(z)[:, 0]
            low = np.minimum(fine_min, coarse_min)
            z_best = np.where(refined <= low, z[:, 0], np.where(fine_min <= coarse_min,
                                                                   tries[rows, np.argmin(fine, axis=1)], centre))
            current[h] = np.exp(z_best) if log else z_best
            best = np.minimum(refined, low)
    return best if best is not None and np.all(np.isfinite(best)) else None


def _verdict(found: Sequence[_Finding], limit: float | None, method: str) -> Verdict:
    return Verdict(not found, tuple(f.text for f in found), limit, method, tuple(f.code for f in found))


def _log_scale(table: RunTable, v: str) -> bool:
    """Whether ``v`` is read on a log scale (:func:`lawfind.symbols.scale`) and positive in the table."""
    return scale(v) == "log" and float(table.frame[v].min()) > 0


def _implausible_exponents(law: Law, values: Mapping[str, float], growing: Sequence[str]) -> list[_Finding]:
    """Powers of a size or data variable (or, where no variable has such a role, of any log-scale
    variable) with an exponent beyond +-``MAX_EXPONENT``: such a term dies out (or explodes) within a
    factor of two of size, so it fits the few smallest (or largest) runs rather than a scaling
    (published exponents lie between 0.05 and 0.8; the grammar engine bounds its exponents at 3)."""
    if not growing:
        return []
    expr = law.substitute(values)
    syms = {law.symbol(v) for v in growing if v in law.variables}
    for p in expr.atoms(sp.Pow):
        e = p.exp
        if e.is_number and p.base.free_symbols & syms and abs(float(e)) > MAX_EXPONENT:
            return [_Finding(Reason.IMPLAUSIBLE_EXPONENT,
                             f"implausible exponent: {sp.sstr(sp.N(p, 3))} (a power of a size, data or log-scale "
                             f"variable beyond +-{MAX_EXPONENT:g} fits a few sizes, not a scaling)")]
    return []


# -- numerical checks --------------------------------------------------------------------------------

def _anchors(table: RunTable, variables: Sequence[str], roles: Roles, n: int, seed: int) -> dict[str, np.ndarray]:
    """Up to ``n`` runs spread over the table (by size), half of them with shape values redrawn
    uniformly (on each variable's scale) over the data's range, so that unseen combinations count."""
    rng = np.random.default_rng(seed)
    frame = table.frame
    order = np.argsort(frame[list(variables)].to_numpy(float).sum(axis=1) if variables else np.arange(len(frame)),
                       kind="stable")
    pick = order[np.unique(np.linspace(0, len(frame) - 1, min(n, len(frame))).round().astype(int))]
    out = {v: frame[v].to_numpy(float)[pick].copy() for v in variables}
    half = np.arange(len(pick)) % 2 == 1
    for v in variables:
        if (v in roles.shape or v in roles.free) and half.any():
            lo, hi = table.ranges()[v]
            out[v][half] = interpolate(v, lo, hi, rng.uniform(0, 1, half.sum()))
    return out


def _spans(anchors: dict[str, np.ndarray], table: RunTable, names: Sequence[str], factor: float,
           k: int) -> np.ndarray:
    """Per anchor, ``k`` multipliers from 1 to ``factor`` times the table's largest value of the
    group (measured on its first variable): shape ``(n_anchors, k)``."""
    n = len(next(iter(anchors.values())))
    if not names:
        return np.ones((n, 1))
    first = names[0]
    top = factor * float(table.frame[first].max()) / anchors[first]
    return np.exp(np.linspace(0.0, 1.0, k)[None, :] * np.log(np.maximum(top, 1.0))[:, None])


def _grid(law: Law, theta: list[float], anchors: dict[str, np.ndarray], table: RunTable, grower: list[str],
          data: list[str], factor: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The law on a (anchor, size multiplier, data multiplier) grid."""
    s = _spans(anchors, table, grower, factor, _GRID)  # (a, ks)
    t = _spans(anchors, table, data, factor, _GRID)  # (a, kd)
    a, ks, kd = len(s), s.shape[1], t.shape[1]
    cols = {}
    for v in law.variables:
        base = anchors[v][:, None, None]
        mult = s[:, :, None] if v in grower else t[:, None, :] if v in data else 1.0
        cols[v] = np.broadcast_to(base * mult, (a, ks, kd))
    flat = [cols[v].ravel() for v in law.variables]
    vals = law.compiled(theta, flat).reshape(a, ks, kd)
    return vals, cols


def _where(cols: dict[str, np.ndarray], mask: np.ndarray) -> str:
    idx = np.unravel_index(int(np.flatnonzero(mask.ravel())[0]), mask.shape)
    return "at " + ", ".join(f"{v}={c[idx]:.3g}" for v, c in cols.items())


def _hooks_bounded(law: Law, theta: list[float], anchors: dict[str, np.ndarray], table: RunTable,
                   hooks: list[str], factor: float, linear: bool) -> list[_Finding]:
    """Each log-scale shape variable alone, from every anchor out to ``factor`` times its largest value
    (finite there, and positive on a log target scale), then far beyond in squaring steps, where the
    loss must not fall without bound: no negative value on a log scale, no ``-inf``, and no decline
    whose drops keep growing over squaring steps (a logarithm's). A rise, a hook or a saturation is
    fine, and so is an overflow to ``+inf`` far out (a rising hook)."""
    n = len(next(iter(anchors.values()))) if anchors else 0
    for v in hooks:
        inside = _spans(anchors, table, [v], factor, _GRID)  # (a, k)
        mults = np.concatenate([inside, inside[:, -1:] * np.array(_FAR)[None, :]], axis=1)
        cols = {w: np.broadcast_to(anchors[w][:, None] * (mults if w == v else 1.0), mults.shape)
                for w in law.variables}
        with np.errstate(all="ignore"):
            vals = law.compiled(theta, [cols[w].ravel() for w in law.variables]).reshape(n, mults.shape[1])
        k = inside.shape[1]
        near = vals[:, :k]
        if (~np.isfinite(near)).any():
            return [_Finding(Reason.NOT_FINITE, f"not finite as {v} grows: "
                                                f"{_where(cols, np.pad(~np.isfinite(near), ((0, 0), (0, len(_FAR)))))}")]
        if not linear and (near <= 0).any():
            return [_Finding(Reason.NOT_POSITIVE, f"not positive as {v} grows: "
                                                  f"{_where(cols, np.pad(near <= 0, ((0, 0), (0, len(_FAR)))))}")]
        far = vals[:, k - 1:]
        below = np.isneginf(far) | (~linear & np.isfinite(far) & (far < 0))
        drops = -np.diff(far, axis=1)
        with np.errstate(all="ignore"):
            last, prev, before = drops[:, -1], drops[:, -2], drops[:, -3]
            material = last > 1e-9 * np.abs(far[:, -1]) + 1e-12
            log_like = np.isfinite(far).all(axis=1) & material & (last > _LOG_LIKE * prev) & (prev > _LOG_LIKE * before)
        if below.any() or log_like.any():
            at = int(np.flatnonzero(below.any(axis=1) | log_like)[0])
            what = "turns negative" if below.any() else "keeps falling without a finite limit"
            return [_Finding(Reason.UNBOUNDED_BELOW,
                             f"unbounded below: the loss {what} as {v} grows (from "
                             + ", ".join(f"{w}={cols[w][at, 0]:.3g}" for w in law.variables) + ")")]
    return []


def _far(law: Law, theta: list[float], anchors: dict[str, np.ndarray], table: RunTable, grower: list[str],
         data: list[str], factor: float, linear: bool = False, hooks: Sequence[str] = ()) -> list[_Finding]:
    """Along the joint ray (size and data together) far beyond the extrapolation range; on a linear
    target scale (a target of any sign) a negative loss is no failure, only a fall without limit. A
    rise at the anchors' hook values is no failure where the loss at the best ``hooks`` values does
    not rise (an optimum that moves with size, as a learning rate's does)."""
    mults = np.array((1.0, *_FAR))
    n = len(next(iter(anchors.values())))

    def ray(size_mults: np.ndarray, data_mults: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        cols = {}
        for v in law.variables:
            if v in grower or v in data:
                end = factor * float(table.frame[v].max())
                m = size_mults if v in grower else data_mults
                cols[v] = np.broadcast_to(end * m[None, :], (n, len(m)))
            else:
                cols[v] = np.broadcast_to(anchors[v][:, None], (n, len(size_mults)))
        with np.errstate(all="ignore"):
            vals = law.compiled(theta, [cols[v].ravel() for v in law.variables]).reshape(n, len(size_mults))
        return vals, cols

    vals, cols = ray(mults, mults)
    if np.isnan(vals).any() or np.isposinf(vals).any():
        return [_Finding(Reason.NOT_FINITE, f"not finite: far beyond the data, {_where(cols, ~np.isfinite(vals))}",
                         doubt=True)]
    if (not linear and (vals < 0).any()) or np.isneginf(vals).any():
        return [_Finding(Reason.UNBOUNDED_BELOW, "unbounded below: the loss turns negative as size and data grow, "
                                                 f"{_where(cols, vals < 0)}")]
    rise = np.diff(vals, axis=1) > _REL_TOL * np.abs(vals[:, 1:])
    if rise.any() and hooks:  # at the best hook values (their optimum may move far out), searched widely
        # an optimum moving as a power of size and data (exponents at most 3) moves at most 3 ln(m) in
        # log units by the ray's last multiplier m
        best = _at_best(law, theta, _flat(cols), table, hooks, widen=10.0, points=801,
                        reach=3.0 * math.log(mults[-1]))
        if best is not None:
            best = best.reshape(vals.shape)
            if not (np.diff(best, axis=1) > _PROFILE_TOL * np.abs(best[:, 1:])).any():
                vals, rise = best, np.zeros_like(rise)
    if rise.any():
        code, names = _rising(ray, vals, mults, grower, data)
        return [_Finding(code, f"rises with {names}: far beyond the data, "
                               f"{_where(cols, np.pad(rise, ((0, 0), (1, 0))))}")]
    # a finite limit: the drops over successive (squaring) steps die out; a logarithmic decline does not
    drops = -np.diff(vals, axis=1)  # >= 0
    scale_ = np.maximum(vals[:, :1] - vals[:, -1:], 1e-12)
    last, prev = drops[:, -1], drops[:, -2]
    slow = (last > 1e-6 * scale_[:, 0] + 1e-12) & (last > 0.9 * prev)
    if slow.any():
        return [_Finding(Reason.UNBOUNDED_BELOW, "unbounded below: the loss keeps falling without a finite limit as "
                         f"size and data grow (drop {last[slow][0]:.3g} over the last squaring step)", doubt=True)]
    return []


def _rising(ray, vals: np.ndarray, mults: np.ndarray, grower: list[str], data: list[str]) -> tuple[Reason, str]:
    """Which variables make the loss rise far out: each step of the joint ray taken by the data
    variables alone, then by the size variables alone (the other group held); the reason and the
    variables' names (``"D"``, ``"N, Na"``, or both groups where only the joint step rises)."""
    before, after = mults[:-1], mults[1:]
    tol = _REL_TOL * np.abs(vals[:, :-1])
    if data and (ray(before, after)[0] - vals[:, :-1] > tol).any():
        return Reason.RISES_WITH_DATA, ", ".join(data)
    if grower and (ray(after, before)[0] - vals[:, :-1] > tol).any():
        return Reason.RISES_WITH_SIZE, ", ".join(grower)
    if grower and data:
        return Reason.RISES_WITH_SIZE_AND_DATA, f"{', '.join(grower)} and {', '.join(data)} together"
    return (Reason.RISES_WITH_SIZE, ", ".join(grower)) if grower else (Reason.RISES_WITH_DATA, ", ".join(data))


# -- symbolic checks ---------------------------------------------------------------------------------

class _Timeout(Exception):
    pass


def _within(seconds: float, work: Callable[[], _T]) -> _T:
    """``work()`` if it ends within ``seconds``, else :class:`_Timeout`, in any thread.

    In the main thread on POSIX a SIGALRM interrupts ``work`` itself. Elsewhere (a thread of a
    notebook or a server, where signals cannot be set; Windows) ``work`` runs in a daemon thread that
    is abandoned at the limit: the caller goes on at once, and the abandoned computation ends in the
    background when sympy returns.
    """
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        with _time_limit(seconds):
            return work()
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # noqa: BLE001 (re-raised in the caller's thread)
            box["error"] = exc

    worker = threading.Thread(target=run, name="lawfind-sympy", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _Timeout
    if "error" in box:
        raise box["error"]
    return box["value"]


@contextmanager
def _time_limit(seconds: float):
    """A SIGALRM time limit (the main thread on POSIX only: see :func:`_within`)."""

    def handler(signum, frame):  # noqa: ARG001
        raise _Timeout

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _rational(x: float) -> sp.Rational:
    """A nearby rational (6 significant digits): sympy's limits are exact with rationals, not Floats."""
    if x == 0:
        return sp.Integer(0)
    e = math.floor(math.log10(abs(x)))
    return sp.Rational(round(x / 10.0 ** (e - 5))) * sp.Rational(10) ** (e - 5)


def _freeze(expr: sp.Expr) -> sp.Expr:
    """Every number-valued subexpression (shape factors at fixed values) as one rational, and every
    remaining float (exponents, coefficients of the growing terms) as a nearby rational, so that the
    limit sees exact constants. Numbers are evaluated as floats first: sympy's exact powers of large
    rationals (perfect-power tests) can run for minutes in code no time limit interrupts."""
    if expr.is_number:
        value = complex(expr.evalf())
        if value.imag or not math.isfinite(value.real):
            raise ValueError("a constant factor is not a finite real number")
        return _rational(value.real)
    if not expr.args:
        return expr
    return expr.func(*(_freeze(a) for a in expr.args))


def _symbolic(law: Law, values: Mapping[str, float], table: RunTable, anchors: dict[str, np.ndarray],
              grower: list[str], data: list[str], linear: bool = False,
              timeout: float = 1.5) -> tuple[float | None, _Finding | None, bool] | None:
    """Derivative signs and the limit along the joint ray at the median anchor, with sympy.

    Returns ``(limit, finding, resolved)``: the limit (if found), a finding if sympy proves the law
    inadmissible, and whether every property was resolved symbolically; ``None`` if sympy gave up
    (or ran past ``timeout`` seconds, in any thread).
    The growing variables become ``t c_v`` with ``c_v`` positive symbols (numbers only at the end),
    the shape variables floats at the anchors' median.
    """
    t = sp.Symbol("t", positive=True)
    expr = law.substitute(values)

    def work() -> tuple[sp.Expr, bool]:
        resolved = True
        for names in ([*grower], [*data]):
            if not names:
                continue
            scaled = expr.xreplace({law.symbol(v): t * law.symbol(v) for v in names})
            sign = sp.diff(scaled, t).xreplace({t: 1})
            if sign.is_nonpositive is not True:
                resolved = False  # undecided symbolically (or positive somewhere): the grid decides
        mid = {law.symbol(v): sp.Float(float(np.median(anchors[v])))
               for v in law.variables if v not in grower and v not in data}
        scale_syms = {v: sp.Symbol(f"c_{v}", positive=True) for v in grower + data}
        ray = _freeze(expr.xreplace(mid).xreplace({law.symbol(v): t * c for v, c in scale_syms.items()}))
        lim = sp.limit(ray, t, sp.oo)
        return lim.xreplace({c: sp.Float(float(table.frame[v].max())) for v, c in scale_syms.items()}), resolved

    try:
        lim, resolved = _within(timeout, work)
    except (_Timeout, NotImplementedError, ValueError, TypeError, AttributeError, RecursionError):
        return None
    if lim.is_infinite or lim == -sp.oo:
        return None if lim == sp.oo else (
            None, _Finding(Reason.UNBOUNDED_BELOW, "unbounded below: sympy finds the loss tends to -oo"), True)
    try:
        value = float(lim)
    except TypeError:
        return None
    if value < -1e-12 and not linear:
        return value, _Finding(Reason.UNBOUNDED_BELOW,
                               f"unbounded below: the loss tends to {value:.4g} < 0 as size and data grow"), True
    return value, None, resolved
