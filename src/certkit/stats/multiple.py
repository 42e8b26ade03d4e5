"""Multiple testing and stratified risk ratios."""

from __future__ import annotations

import math

import numpy as np


def mantel_haenszel_rr(a, n1, b, n0) -> tuple[float, float]:
    """Mantel-Haenszel risk ratio over strata and the Greenland-Robins SE of its log.

    Parameters
    ----------
    a, n1
        Events and exposures per stratum in the exposed group (e.g. PRs with AI).
    b, n0
        Events and exposures per stratum in the reference group.

    Returns
    -------
    tuple of float
        ``(risk_ratio, se_log_rr)``; NaNs when either pooled numerator is zero. Strata with an
        empty group are skipped.
    """
    a, n1, b, n0 = (np.asarray(v, float) for v in (a, n1, b, n0))
    ok = (n1 > 0) & (n0 > 0)
    a, n1, b, n0 = a[ok], n1[ok], b[ok], n0[ok]
    n = n1 + n0
    r = np.sum(a * n0 / n)
    s = np.sum(b * n1 / n)
    if r <= 0 or s <= 0:
        return math.nan, math.nan
    var = np.sum((n1 * n0 * (a + b) - a * b * n) / n**2) / (r * s)
    return float(r / s), float(math.sqrt(max(var, 0.0)))


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN p-values stay NaN and do not count."""
    p = np.asarray(p, float)
    q = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    pv = p[ok]
    m = pv.size
    if m == 0:
        return q
    order = np.argsort(pv)
    ranked = pv[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(ranked, 1.0)
    q[ok] = out
    return q
