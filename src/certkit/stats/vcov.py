"""Inference helpers: critical values, p-values, robust covariance matrices and Wald tests."""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
from scipy import linalg, sparse, stats

from certkit.errors import CertkitError


def level_from_alpha(level: float, alpha: float | None, *, stacklevel: int = 3) -> float:
    """The confidence level to use, accepting the deprecated ``alpha = 1 - level``.

    Parameters
    ----------
    level
        Confidence level, e.g. 0.95.
    alpha
        Deprecated alias (``1 - level``); when given it wins, with a ``DeprecationWarning``.

    Raises
    ------
    CertkitError
        When the level is not strictly between 0 and 1.
    """
    if alpha is not None:
        warnings.warn(
            f"alpha={alpha} is deprecated; pass level={1 - alpha:g} (the confidence level)",
            DeprecationWarning,
            stacklevel=stacklevel,
        )
        if not 0 < alpha < 1:
            raise CertkitError(f"alpha must be between 0 and 1, got {alpha}")
        level = 1 - alpha
    if not 0 < level < 1:
        raise CertkitError(f"level must be between 0 and 1 (e.g. 0.95), got {level}")
    return level


def critical_value(level: float = 0.95, df: float | None = None) -> float:
    """Two-sided critical value for a confidence ``level``: normal (1.959964 for 0.95), or
    Student t with ``df`` degrees of freedom (12.706 for 0.95 and 1)."""
    return _critical_value(float(level), None if df is None else float(df))


@functools.lru_cache(maxsize=256)
def _critical_value(level: float, df: float | None) -> float:
    # cached: scipy's norm.ppf costs about 0.3 ms a call (argument checks), and every estimate
    # asks for the same few levels (an event study five times)
    if df is None:
        return float(stats.norm.ppf(0.5 + level / 2))
    return float(stats.t.ppf(0.5 + level / 2, df)) if df > 0 else math.nan


def pvalue(estimate, se, df=None):
    """Two-sided p-value of ``estimate / se``: normal, or Student t with ``df`` degrees of
    freedom (a scalar or one per estimate); NaN where the SE is not positive.

    Works on scalars (returns a float) and on arrays (returns an array).
    """
    est, s = np.asarray(estimate, dtype=float), np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(est / s)
        if df is None:
            tail = stats.norm.sf(t)
        else:
            d = np.asarray(df, dtype=float)
            tail = np.where(d > 0, stats.t.sf(t, np.where(d > 0, d, 1.0)), np.nan)
        p = np.where(s > 0, 2 * tail, np.nan)
    return float(p) if p.ndim == 0 else p


def statistic(estimate, se):
    """``estimate / se`` (z or t statistic); NaN where the SE is not positive."""
    est, s = np.asarray(estimate, dtype=float), np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, est / s, np.nan)
    return float(z) if z.ndim == 0 else z


def cluster_sums(scores: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Sum the rows of ``scores`` within clusters (0-based codes); unchanged without clusters."""
    if cluster is None:
        return scores
    return np.asarray(group_indicator(cluster) @ scores)


def group_indicator(codes: np.ndarray) -> sparse.csr_matrix:
    """The groups x observations 0/1 matrix of dense ``codes`` (0-based): ``M @ x`` sums the
    rows of ``x`` by group, every column in one sparse product (faster than ``np.add.at`` or
    a ``bincount`` per column, and the same sums bit for bit: rows are added in order)."""
    n = len(codes)
    k = int(codes.max()) + 1 if n else 0
    return sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(k, n))


def wald_test(est: np.ndarray, V: np.ndarray) -> tuple[float | None, float | None]:
    """Wald statistic and chi-square p-value that all ``est`` are zero; None if V is singular.

    Singular covariance matrices (e.g. more pre-period cells than independent units) give no
    test, as R's ``did`` does, rather than a pseudo-inverse whose answer depends on rounding.
    """
    q = est.size
    d = np.sqrt(np.diag(V))
    if q == 0 or not np.all(np.isfinite(d)) or np.any(d == 0):
        return None, None
    try:
        L = np.linalg.cholesky(V / np.outer(d, d))
    except np.linalg.LinAlgError:
        return None, None
    if np.min(np.diag(L)) ** 2 <= np.finfo(float).eps * q:
        return None, None
    z = linalg.solve_triangular(L, est / d, lower=True)
    W = float(z @ z)
    return W, float(stats.chi2.sf(W, q))


def wls(
    y: np.ndarray,
    X: np.ndarray,
    w: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    vcov: str = "HC1",
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares with a heteroskedasticity- or cluster-robust covariance.

    Parameters
    ----------
    y, X
        Outcome and design (include the intercept column yourself).
    w
        Observation weights (default: all 1, i.e. OLS).
    cluster
        Cluster labels (any type); when given the covariance is cluster-robust with
        ``sandwich::vcovCL(type = "HC1")``'s ``G/(G-1) * (n-1)/(n-k)`` correction.
    vcov
        Without clusters: ``"HC0"``, ``"HC1"``, ``"HC2"`` or ``"HC3"`` (as statsmodels'
        ``cov_type``).

    Returns
    -------
    tuple
        ``(beta, covariance)``.
    """
    n = X.shape[0]
    w = np.ones(n) if w is None else w
    sw = np.sqrt(w)
    Xw = X * sw[:, None]
    beta, _, k, _ = np.linalg.lstsq(Xw, y * sw, rcond=None)  # k: the rank, as R's lm
    # counts its coefficients (aliased columns dropped) in the small-sample corrections
    e = y - X @ beta
    bread = np.linalg.pinv(Xw.T @ Xw)
    score = X * (w * e)[:, None]
    if cluster is not None:
        _, g = np.unique(cluster, return_inverse=True)
        G = g.max() + 1
        u = cluster_sums(score, g.ravel())
        adj = G / (G - 1) * (n - 1) / (n - k)
        return beta, adj * bread @ (u.T @ u) @ bread
    h = np.einsum("ij,jk,ik->i", Xw, bread, Xw)
    if vcov == "HC0":
        s = np.ones(n)
    elif vcov == "HC1":
        s = np.full(n, n / (n - k))
    elif vcov == "HC2":
        s = 1 / (1 - h)
    elif vcov == "HC3":
        s = 1 / (1 - h) ** 2
    else:
        raise CertkitError(f"vcov must be HC0, HC1, HC2, HC3 or 'cluster'; got {vcov!r}")
    meat = (score * s[:, None]).T @ score
    return beta, bread @ meat @ bread
