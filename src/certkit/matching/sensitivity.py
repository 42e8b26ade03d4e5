"""Sensitivity to unmeasured confounding: Rosenbaum bounds and the E-value."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import stats

from certkit.errors import CertkitError


def rosenbaum_bounds(
    differences, gammas=(1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0), alpha: float = 0.05
) -> pl.DataFrame:
    """Rosenbaum bounds for Wilcoxon's signed-rank test on matched-pair differences.

    For each ``gamma`` (odds that one unit of a pair is treated rather than the other may differ
    by up to this factor because of an unobserved confounder) the upper bound on the one-sided
    p-value for "no effect" against "treated > control" is computed with the large-sample normal
    approximation (Rosenbaum 2002, sec. 4.3; as ``DOS2::senWilcox``). Zero differences are
    dropped and ties get average ranks. At ``gamma = 1`` it equals ``wilcox.test(exact = FALSE,
    correct = FALSE)``. For effects expected to be negative pass ``-differences``.

    Returns a table with ``gamma``, ``p_upper``, ``significant`` (p_upper < alpha) and, as
    attribute-like extra column, ``critical_gamma`` (the same on every row): the smallest gamma
    at which the bound reaches ``alpha``.
    """
    d = np.asarray(differences, dtype=float)
    d = d[np.isfinite(d) & (d != 0)]
    if d.size == 0:
        raise CertkitError("rosenbaum_bounds needs at least one non-zero pair difference")
    ranks = stats.rankdata(np.abs(d))
    t_plus = ranks[d > 0].sum()

    def p_upper(g: float) -> float:
        p = g / (1 + g)
        mean = p * ranks.sum()
        var = p * (1 - p) * np.sum(ranks**2)
        return float(stats.norm.sf((t_plus - mean) / math.sqrt(var)))

    crit = _critical_gamma(p_upper, alpha)
    gammas = [float(g) for g in gammas]
    return pl.DataFrame(
        {
            "gamma": gammas,
            "p_upper": [p_upper(g) for g in gammas],
            "significant": [p_upper(g) < alpha for g in gammas],
            "critical_gamma": [crit] * len(gammas),
            "n_pairs": [int(d.size)] * len(gammas),
        }
    )


def _critical_gamma(p_upper, alpha: float, hi: float = 1000.0) -> float:
    if p_upper(1.0) >= alpha:
        return 1.0
    if p_upper(hi) < alpha:
        return math.inf
    lo = 1.0
    for _ in range(80):
        mid = math.sqrt(lo * hi)
        if p_upper(mid) < alpha:
            lo = mid
        else:
            hi = mid
    return hi


def e_value(estimate: float, *, sd: float | None = None, ci: tuple[float, float] | None = None):
    """E-value (VanderWeele & Ding 2017) for a risk ratio or a standardized mean difference.

    With ``sd`` the estimate is a mean difference: it is standardized (d = estimate / sd) and
    turned into an approximate risk ratio RR = exp(0.91 d). Without ``sd`` the estimate is a
    risk ratio. Returns ``(e_point, e_ci)``: the minimum strength of association (risk-ratio
    scale) an unmeasured confounder would need with both treatment and outcome to explain away
    the estimate, and its confidence limit closest to the null (1 when the CI includes the null).
    """

    def to_rr(v):
        return math.exp(0.91 * v / sd) if sd is not None else v

    def ev(rr):
        rr = 1 / rr if rr < 1 else rr
        return rr + math.sqrt(rr * (rr - 1))

    if sd is not None and sd <= 0:
        raise CertkitError("e_value: sd must be positive")
    rr = to_rr(estimate)
    if rr <= 0:
        raise CertkitError("e_value: a risk ratio must be positive")
    e_ci = None
    if ci is not None:
        lo, hi = sorted(to_rr(c) for c in ci)
        e_ci = 1.0 if lo <= 1 <= hi else ev(lo if rr > 1 else hi)
    return ev(rr), e_ci
