"""Event study: the dynamic aggregation of :func:`att_gt` with a pre-trend verdict."""

from __future__ import annotations

import polars as pl

from certkit.did.aggregate import AggregateResult
from certkit.did.group_time import att_gt
from certkit.errors import warn_and_keep as _warn


def event_study(
    data: pl.DataFrame,
    *,
    outcome: str,
    min_e: float | None = None,
    max_e: float | None = None,
    balance_e: int | None = None,
    **kwargs,
) -> AggregateResult:
    """Event study: the dynamic aggregation of :func:`att_gt` with a pre-trend verdict.

    Keyword arguments other than ``min_e``, ``max_e`` and ``balance_e`` go to :func:`att_gt`
    (``unit``, ``time``, ``group``, ``control``, ...); ``unit``, ``time`` and ``group`` default
    to the panel contract's columns, as there.
    The result has ``pretrend_pvalue`` (Wald test that all pre-treatment ATT(g,t) are zero) and
    ``pretrend_verdict``, a sentence for the analyst.
    """
    res = att_gt(data, outcome=outcome, **kwargs)
    agg = res.aggregate("dynamic", min_e=min_e, max_e=max_e, balance_e=balance_e)
    # R did's cell-level test when the data identify it; otherwise (many small cohorts give
    # more pre-period cells than independent units) the joint test of the event-time estimates.
    p, q, what = res.wald_pvalue, int(res.is_pre.sum()), "pre-period ATT(g,t) cells"
    if q and p is None:
        _, p, q = agg.pretrend_test()
        what = "pre-period event-study estimates"
    agg.pretrend_pvalue = p
    agg.pretrend_test_on = what
    if q == 0:
        agg.pretrend_verdict = "not tested: there are no pre-certification periods to compare"
    elif p is None:
        agg.pretrend_verdict = (
            "not tested: the pre-period estimates' covariance is singular (too few units per "
            "cohort); read the pre-period points of the chart instead"
        )
    elif p < 0.05:
        agg.pretrend_verdict = (
            f"warning: certified and comparison groups were already diverging before "
            f"certification (joint test of {q} {what}, p = {p:.3f}); the effect estimates "
            "may be biased"
        )
        if res.wald_pvalue is None:  # the cell-level test already warned otherwise
            _warn(f"pre-trends: {agg.pretrend_verdict}", agg.warnings)
    else:
        agg.pretrend_verdict = (
            f"no evidence of diverging trends before certification (joint test of {q} {what}, "
            f"p = {p:.2f}); this supports, but cannot prove, parallel trends"
        )
    return agg
