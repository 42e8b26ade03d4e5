"""Fixed-effects helpers: dense integer codes and two-way demeaning."""

from __future__ import annotations

import numpy as np
import polars as pl


def dense_codes(s: pl.Series) -> np.ndarray:
    """0-based codes in sorted order of the distinct values of ``s``.

    O(n) for compact integer ids (a bincount instead of a sort); other types are ranked.

    Parameters
    ----------
    s
        Ids (unit, period, cluster ...), without nulls.

    Returns
    -------
    numpy.ndarray
        ``int64`` codes ``0 .. k-1``; equal values share a code, order follows the values.
    """
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
