"""Bootstrap refits in batches: many replicates, several starts each, one numpy pass per iteration.

Each bootstrap replicate resamples the runs (multinomial counts as weights) and is refitted from
several starts: the best point of the full fit, and a few Latin-hypercube draws from the law's
initial ranges. Restarting only from the best point keeps every replicate in one basin, which makes
intervals too narrow when the objective is multimodal (the lesson of Besiroglu et al. 2024's
replication of Chinchilla's approach 3).

The refits are a damped Gauss-Newton (Levenberg-Marquardt) on the weighted log residuals, with the
exact gradient of the summed Huber loss and a Gauss-Newton matrix weighted by Huber's own curvature
(1 for residuals inside ``delta``, 0 outside) plus a small share of the reweighted-least-squares
weight ``delta/|r|`` outside, which keeps the matrix regular. Near the optimum this is Newton's
method for the Huber loss, which ends in a few steps once the residuals inside ``delta`` are known
(pure reweighted least squares converges only linearly there). A step is accepted only if it
lowers the true objective. All (replicate, start) pairs advance together: the law's lambdified
value and Jacobian are evaluated once per iteration for every pair (parameters of shape ``(B, 1)``
broadcast against the data columns) and the ``(B, P, P)`` systems are solved with one
``np.linalg.solve``; a pair leaves the batch as soon as it has converged. Like the point fit's
starts, every start gets a short run and only those already near their replicate's best go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = ["Problem", "Replicates", "refit_replicates", "screen_starts", "levenberg_marquardt"]

_SHORT = 20  # iterations every start gets
_KEEP = 1.5  # then starts within this factor of their replicate's best objective go on
_MAXITER = 2000  # iterations a start may take in all (ridges of the objective take many)
_FTOL = 1e-10  # converged: the decrease still on offer is below this share of the objective
_EPS = 0.02  # share of the IRLS weight kept outside the Huber threshold
#: The fewest replicates refitted under a deadline (and the batch size then): enough for rough intervals.
MIN_REPLICATES = 20
_CHUNK = 1024  # (replicate, start) rows per batch: the Jacobian of one batch is 8 B * rows * P * n


class Problem(Protocol):
    """What the batched refits need of a fitting problem (the fitter's, :func:`lawfind.fit.fit_law`'s).

    Attributes
    ----------
    loss:
        ``"huber"`` or ``"lsq"``.
    delta:
        The Huber threshold on log residuals.
    n:
        Number of runs.
    """

    loss: str
    delta: float
    n: int

    def batch(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Log residuals ``(B, n)`` and their Jacobian ``(B, P, n)`` at the rows of ``Z`` ``(B, P)``."""
        ...

    def rho(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The loss of each log residual and its derivative."""
        ...


@dataclass(frozen=True)
class Replicates:
    """Bootstrap refits.

    Attributes
    ----------
    z:
        The optimum of each replicate in the fitter's parameter space, ``(R, P)``.
    objective:
        The replicate's objective at ``z``, ``(R,)``.
    converged:
        Whether the replicate's best start converged (the decrease still on offer, its Newton
        decrement, fell below 1e-10 of the objective within the iteration limit).
    switched:
        Whether a start other than the full fit's best point gave the replicate's optimum, with an
        objective lower by more than 1e-6 relative than the converged refit from the best point: the
        replicate left the best point's basin.
    """

    z: np.ndarray
    objective: np.ndarray
    converged: np.ndarray
    switched: np.ndarray


def _curvature_weights(problem: Problem, r: np.ndarray) -> np.ndarray:
    """Weights of the Gauss-Newton matrix: Huber's own curvature (1 inside ``delta``, 0 outside),
    plus a small share ``_EPS`` of the IRLS weight ``delta/|r|`` outside so that the matrix stays
    regular when few residuals lie inside; 1 for squares."""
    if problem.loss != "huber":
        return np.ones_like(r)
    a = np.abs(r)
    return np.where(a <= problem.delta, 1.0, _EPS * problem.delta / np.maximum(a, 1e-300))


def _decrement(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Newton decrement ``g' H^-1 g / 2`` of the Gauss-Newton model: the decrease still on offer."""
    return 0.5 * np.abs(np.einsum("bp,bp->b", g, _solve(H, g)))


def _solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``A x = b`` for a stack of positive semi-definite systems, with a ridge of 1e-12 of the largest
    diagonal entry (a constant the data cannot see makes a singular ``A``); least squares for all where
    one system is singular still."""
    d = np.einsum("bpp->bp", A)
    A = A + (1e-12 * np.abs(d).max(axis=1))[:, None, None] * np.eye(A.shape[1])
    try:
        return np.linalg.solve(A, b[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        return np.einsum("bij,bj->bi", np.linalg.pinv(A), b)


def _objective(h: np.ndarray, W: np.ndarray) -> np.ndarray:
    """The weighted robust loss: ``h`` (per run) weighted by the resampling counts ``W`` and summed over
    the runs (the last axis); a non-finite total is +inf."""
    f = (h * W).sum(axis=-1)
    return np.where(np.isfinite(f), f, np.inf)


def _model(problem: Problem, Z: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Objective ``(B,)``, gradient ``(B, P)`` and Gauss-Newton matrix ``(B, P, P)`` at ``Z``."""
    r, J = problem.batch(Z)
    h, dh = problem.rho(r)
    f = _objective(h, W)
    g = np.einsum("bpn,bn->bp", J, W * dh)
    u = W * _curvature_weights(problem, r)
    H = np.matmul(J * u[:, None, :], J.transpose(0, 2, 1))
    return f, g, H


def levenberg_marquardt(problem: Problem, Z: np.ndarray, W: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                        maxiter: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise the weighted objective from every row of ``Z`` at once (bounds by projection).

    Returns the end points ``(B, P)``, their objectives, and whether each converged: the Newton
    decrement of the Gauss-Newton model, the decrease still on offer, fell below ``_FTOL`` of the
    objective before the iteration limit.
    """
    Z = Z.copy()
    B, P = Z.shape
    eye = np.eye(P)
    with np.errstate(all="ignore"):
        f, G, HH = _model(problem, Z, W)
        lam = np.full(B, 1e-3)
        active = np.isfinite(f)
        conv = np.zeros(B, bool)
        for it in range(maxiter + 1):
            idx = np.flatnonzero(active)
            if not idx.size:
                break
            za, fa, g, H = Z[idx], f[idx], G[idx], HH[idx]
            # a coordinate on a bound whose gradient pushes outward stays fixed
            fixed = ((za <= lo) & (g > 0)) | ((za >= hi) & (g < 0))
            if fixed.any():
                g = np.where(fixed, 0.0, g)
                H = np.where(fixed[:, :, None] | fixed[:, None, :], 0.0, H) + fixed[:, :, None] * eye
            done = _decrement(H, g) <= _FTOL * np.abs(fa)
            conv[idx[done]] = True
            active[idx[done]] = False
            if it == maxiter or done.all():
                break
            keep = ~done
            idx, H, g, za, fa = idx[keep], H[keep], g[keep], za[keep], fa[keep]
            d = np.einsum("bpp->bp", H)
            A = H + (lam[idx, None] * np.maximum(d, 1e-12 * d.max(axis=1, keepdims=True)))[:, :, None] * eye
            step = _solve(A, -g)
            zt = np.clip(za + step, lo, hi)
            ft, gt, Ht = _model(problem, zt, W[idx])
            better = ft < fa
            acc = idx[better]
            Z[acc], f[acc], G[acc], HH[acc] = zt[better], ft[better], gt[better], Ht[better]
            lam[acc] = np.maximum(lam[acc] * 0.3, 1e-12)
            lam[idx[~better]] *= 10.0
            active[idx[~better & (lam[idx] > 1e12)]] = False  # no damped step descends: give up
    return Z, f, conv


def screen_starts(problem: Problem, weights: np.ndarray, candidates: np.ndarray, keep: int) -> np.ndarray:
    """For each replicate, the ``keep`` candidates ``(R, m, P)`` of lowest objective under its weights."""
    R, m, P = candidates.shape
    if keep >= m:
        return candidates
    f = np.empty((R, m))
    per = max(1, _CHUNK // m)
    with np.errstate(all="ignore"):
        for a in range(0, R, per):
            b = min(R, a + per)
            r, _ = problem.batch(candidates[a:b].reshape(-1, P))
            h, _ = problem.rho(r)
            f[a:b] = _objective(h.reshape(b - a, m, -1), weights[a:b, None, :])
    order = np.argsort(f, axis=1, kind="stable")[:, :keep]
    return np.take_along_axis(candidates, order[:, :, None], axis=1)


def refit_replicates(problem: Problem, best_z: np.ndarray, weights: np.ndarray, starts: np.ndarray, lo: np.ndarray,
                     hi: np.ndarray, progress: Callable[[int, int], None] | None = None,
                     deadline: float | None = None) -> Replicates:
    """Refit every replicate from the best point and from its own extra starts, each to convergence.

    Parameters
    ----------
    problem:
        The fitting problem (:class:`Problem`).
    best_z:
        The full fit's optimum, ``(P,)``.
    weights:
        Bootstrap counts per replicate and run, ``(R, n)``.
    starts:
        Extra starts per replicate, ``(R, S, P)`` (``S`` may be 0).
    lo, hi:
        Bounds of ``z``.
    progress:
        ``progress(done, total)`` after each batch of replicates.
    deadline:
        A :func:`time.monotonic` time: past it, no new batch starts (at least :data:`MIN_REPLICATES`
        are refitted all the same), and the replicates done so far are returned.
    """
    R, S = weights.shape[0], starts.shape[1]
    k, P = S + 1, len(best_z)
    z0 = np.concatenate([np.broadcast_to(best_z, (R, 1, P)), starts], axis=1)  # (R, k, P)
    out_z, out_f = np.empty((R, P)), np.empty(R)
    conv, switched = np.zeros(R, bool), np.zeros(R, bool)
    per = max(1, _CHUNK // k if deadline is None else min(_CHUNK // k, MIN_REPLICATES))  # a budget cuts between batches
    for a in range(0, R, per):
        b = min(R, a + per)
        Z, W = z0[a:b].reshape(-1, P), np.repeat(weights[a:b], k, axis=0)
        Z, F, C = levenberg_marquardt(problem, Z, W, lo, hi, _SHORT if S else _MAXITER)
        if S:
            # screen: the best point's run, and starts already within _KEEP times the replicate's best, go on
            F2 = F.reshape(b - a, k)
            go = (F2 <= _KEEP * F2.min(axis=1, keepdims=True)) & np.isfinite(F2)
            go[:, 0] |= np.isfinite(F2[:, 0])
            go = np.flatnonzero(go.ravel() & ~C)
            if go.size:
                Z[go], F[go], C[go] = levenberg_marquardt(problem, Z[go], W[go], lo, hi, _MAXITER - _SHORT)
        F = np.where(C, F, np.inf).reshape(b - a, k)  # a start that did not converge does not count
        j = np.argmin(F, axis=1)
        out_z[a:b] = Z.reshape(b - a, k, P)[np.arange(b - a), j]
        out_f[a:b] = F[np.arange(b - a), j]
        conv[a:b] = np.isfinite(out_f[a:b])
        with np.errstate(invalid="ignore"):  # inf - inf where no start converged
            switched[a:b] = (j > 0) & np.isfinite(F[:, 0]) & (out_f[a:b] < F[:, 0] - 1e-6 * np.abs(out_f[a:b]))
        if progress is not None:
            progress(b, R)
        if deadline is not None and b < R and b >= min(R, MIN_REPLICATES) and time.monotonic() >= deadline:
            return Replicates(out_z[:b], out_f[:b], conv[:b], switched[:b])
    return Replicates(out_z, out_f, conv, switched)
