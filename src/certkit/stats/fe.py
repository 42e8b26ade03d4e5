"""Fixed-effects helpers: dense integer codes, demeaning and OLS with absorbed fixed effects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from certkit.errors import CertkitError
from certkit.stats.vcov import cluster_sums, group_indicator


def dense_codes(s: pl.Series | np.ndarray) -> np.ndarray:
    """0-based codes in sorted order of the distinct values of ``s``.

    O(n) for compact integer ids (a bincount instead of a sort); other types are ranked.

    Parameters
    ----------
    s
        Ids (unit, period, cluster ...), without nulls: a polars Series or an array.

    Returns
    -------
    numpy.ndarray
        ``int64`` codes ``0 .. k-1``; equal values share a code, order follows the values.
    """
    if not isinstance(s, pl.Series):
        s = pl.Series(np.asarray(s))
    if s.dtype.is_integer() and s.len():
        v = s.to_numpy()
        lo, hi = int(v.min()), int(v.max())
        if hi - lo <= 4 * len(v) + 1000:
            present = np.bincount(v - lo, minlength=hi - lo + 1) > 0
            return (np.cumsum(present) - 1)[v - lo].astype(np.int64)
    if not s.dtype.is_numeric():
        s = s.cast(pl.String)
    return s.rank("dense").to_numpy().astype(np.int64) - 1


def demean_twoway(
    v: np.ndarray, ui: np.ndarray, ti: np.ndarray, tol: float = 1e-12, max_iter: int = 1000
) -> np.ndarray:
    """Remove unit and time means from ``v`` (alternating projections).

    Exact in one pass on a balanced panel; unbalanced panels iterate until the time means left
    are below ``tol``. Equivalent to the residuals of OLS on unit and time dummies.

    Parameters
    ----------
    v
        Values, one per observation.
    ui, ti
        Dense unit and time codes per observation (see :func:`dense_codes`).
    """
    nu, nt = ui.max() + 1, ti.max() + 1
    cu, ct = np.bincount(ui, minlength=nu), np.bincount(ti, minlength=nt)
    out = v.astype(float).copy()
    for _ in range(max_iter):
        out -= (np.bincount(ui, out, nu) / cu)[ui]
        tm = np.bincount(ti, out, nt) / ct
        out -= tm[ti]
        if np.max(np.abs(tm)) < tol:
            break
    return out


def demean(
    x: np.ndarray, groups: list[np.ndarray], tol: float = 1e-10, max_iter: int = 10_000
) -> np.ndarray:
    """Remove several sets of fixed effects from the columns of ``x`` (alternating projections).

    Each pass subtracts group means for every factor in turn until the largest change is
    below ``tol`` (the method of alternating projections used by fixest/pyfixest). With two
    factors on one column this is :func:`demean_twoway`, which stops on a tighter criterion.

    Parameters
    ----------
    x
        Values, one row per observation (a vector or a matrix of columns).
    groups
        Dense 0-based codes per observation, one array per factor (see :func:`dense_codes`).

    Returns
    -------
    numpy.ndarray
        A 2-D copy of ``x`` with the group means removed.
    """
    x = np.array(x, dtype=float, copy=True)
    if x.ndim == 1:
        x = x[:, None]
    indicators = [group_indicator(g) for g in groups]
    counts = [np.maximum(np.bincount(g), 1) for g in groups]
    for _ in range(max_iter):
        delta = 0.0
        for g, m, c in zip(groups, indicators, counts, strict=True):
            means = (m @ x) / c[:, None]  # every column's group means in one product
            x -= means[g]
            delta = max(delta, float(np.abs(means).max(initial=0.0)))
        if delta < tol or len(groups) == 1:
            break
    return x


#: Small fixed effects become dummy regressors (exact in one demeaning pass) up to this many
#: levels in all, and this many cells (rows x dummy columns: 20M is 160 MB a copy); beyond
#: either, every factor is absorbed by alternating projections (to ``demean``'s tolerance).
MAX_DUMMIES = 400
MAX_DUMMY_CELLS = 20_000_000


@dataclass
class FEFit:
    """Coefficients of an OLS fit with absorbed fixed effects and cluster-robust vcov."""

    names: list[str]
    coef: np.ndarray
    vcov: np.ndarray
    n: int
    n_clusters: int
    df_model: int

    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))


def fe_ols(
    y: np.ndarray,
    x: np.ndarray,
    names: list[str],
    fixed_effects: list[np.ndarray],
    cluster: np.ndarray,
) -> FEFit:
    """OLS of ``y`` on ``x`` with absorbed fixed effects; SEs clustered on ``cluster``.

    Parameters
    ----------
    y
        Outcome, one per observation.
    x
        Regressors (a vector or a matrix of columns), named by ``names``.
    names
        Names of the reported coefficients (the first ``len(names)`` columns of ``x``).
    fixed_effects
        Factors to absorb, one array of labels per factor (any type).
    cluster
        Cluster labels (any type).

    Raises
    ------
    CertkitError
        When the regressors do not vary within the fixed effects.

    Notes
    -----
    The small-sample correction is statsmodels' default for clustered SEs,
    ``G/(G-1) * (n-1)/(n-K)``, with ``K`` counting the regressors plus every fixed-effect level
    (less one per extra factor), i.e. the same numbers as an OLS with dummy variables.
    Without fixed effects an intercept is added (and not reported).
    """
    y = np.asarray(y, float)
    x = np.asarray(x, float).reshape(len(y), -1)
    n = len(y)
    if fixed_effects:
        fes = sorted((dense_codes(f) for f in fixed_effects), key=lambda c: -int(c.max()))
        k_fe = sum(int(f.max()) + 1 for f in fes) - (len(fes) - 1)
        # The largest factor is absorbed; small ones become dummies when that is cheaper and
        # exact (one demeaning pass), otherwise all are absorbed by alternating projections.
        # The dummies are a dense rows x levels matrix, copied twice: bounded in cells too
        # (2.5M PRs x 322 repository and month levels took 21 GB and 25 s per fit).
        small = fes[1:]
        n_dummies = sum(int(f.max()) for f in small)
        if n_dummies <= MAX_DUMMIES and n * n_dummies <= MAX_DUMMY_CELLS:
            dummies = [
                (f[:, None] == np.arange(1, int(f.max()) + 1)[None, :]).astype(float) for f in small
            ]
            z = demean(np.column_stack([y, x, *dummies]), fes[:1])
        else:
            z = demean(np.column_stack([y, x]), fes)
        yd, xd = z[:, 0], z[:, 1:]
        k_fe -= xd.shape[1] - x.shape[1]  # dummies are counted as regressors below
    else:
        xd = np.column_stack([x, np.ones(n)])
        yd = y
        k_fe = 0
    xtx = xd.T @ xd
    try:
        xtx_inv = np.linalg.inv(xtx)
    except np.linalg.LinAlgError as exc:
        raise CertkitError(
            f"the regressors {names} do not vary within the fixed effects "
            "(e.g. no author has both AI and non-AI PRs)"
        ) from exc
    beta = xtx_inv @ (xd.T @ yd)
    resid = yd - xd @ beta
    cl = dense_codes(cluster)
    g = int(cl.max()) + 1
    scores = cluster_sums(xd * resid[:, None], cl)
    meat = scores.T @ scores
    k = xd.shape[1] + k_fe
    adj = g / max(g - 1, 1) * (n - 1) / max(n - k, 1)
    vcov = adj * xtx_inv @ meat @ xtx_inv
    p = len(names)
    return FEFit(names, beta[:p], vcov[:p, :p], n, g, k)
