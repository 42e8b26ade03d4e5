"""Event study: the dynamic aggregation of :func:`att_gt` with a pre-trend verdict."""

from __future__ import annotations

import numpy as np
import polars as pl

from certkit.did.aggregate import AggregateResult
from certkit.did.group_time import att_gt
from certkit.did.results import ATTgtResult
from certkit.display import p_said
from certkit.errors import warn_and_keep as _warn

#: The cell-level pre-trend test (R did's Wald test of every pre-period ATT(g,t)) is used only
#: when every cohort has at least this many treated engineers per pre-period cell of its own;
#: otherwise the joint test of the event-time estimates. The cell-level test's chi-square
#: reference needs many engineers behind each cohort's cells: on null panels (parallel
#: trends; 50, 100 and 200 never-certified engineers, five cohorts of 5, 20 and 50 with up to
#: 6 pre-period cells each, 10 periods, 60 panels each) it rejected at 5% in 100%, 28% and 7%
#: of the panels; the event-time test in 20%, 12% and 7%. R's mpdta (cohorts of 40 and 131
#: counties, 2 and 3 pre-period cells) keeps R did's test.
CELL_TEST_UNITS_PER_CELL = 10


def _small_cohorts(res) -> bool:
    """Whether some cohort has fewer than :data:`CELL_TEST_UNITS_PER_CELL` treated engineers
    per pre-period cell of its own."""
    pre = np.asarray(res.is_pre) & np.isfinite(np.asarray(res.se))
    if not pre.any():
        return False
    groups = np.asarray(res.group)[pre]
    units = np.asarray(res.n_treated)[pre]
    for g in np.unique(groups):
        mine = groups == g
        if units[mine].min() < CELL_TEST_UNITS_PER_CELL * mine.sum():
            return True
    return False


def unused_cell_test(p: float | None, cell_p: float | None) -> str:
    """What a verdict adds when the event-time test could not run (``p`` None) but the
    cell-level test, set aside for small cohorts, gave ``cell_p``: its result and why it is
    not the verdict (trial Q, Q4: a row said "not tested" beside a note that trends had
    "already diverged, p < 0.001"). Empty otherwise."""
    if p is not None or cell_p is None:
        return ""
    return (
        f"; the cell-level Wald test of the pre-period ATT(g,t) gives p {p_said(cell_p)}, but "
        f"with cohorts this small (under {CELL_TEST_UNITS_PER_CELL} engineers per pre-period "
        "cell) "
        "it rejects far too often when trends are parallel, so it is not the verdict"
    )


def pretrend_verdict(
    p: float | None,
    q: int,
    what: str,
    *,
    groups: str = "certified and comparison groups",
    event: str = "certification",
) -> str:
    """The pre-trend test in a sentence for the analyst.

    Parameters
    ----------
    p
        p-value of the joint test (None when it could not be computed).
    q
        Number of pre-period estimates tested (0: nothing to test).
    what
        What was tested (``"pre-period event-study estimates"``, ...).
    groups, event
        Who is compared and what they start: the certification study's words by default;
        the AI-adoption study says ``"adopters and engineers who had not adopted (yet)"`` and
        ``"adoption"``.
    """
    if q == 0:
        return f"not tested: there are no pre-{event} periods to compare"
    if p is None:
        return (
            "not tested: the pre-period estimates' covariance is singular (too few units per "
            "cohort); read the pre-period points of the chart instead"
        )
    if p < 0.05:
        return (
            f"warning: {groups} were already diverging before {event} (joint test of {q} "
            f"{what}, p = {p:.3f}); the effect estimates may be biased"
        )
    return (
        f"no evidence of diverging trends before {event} (joint test of {q} {what}, "
        f"p = {p:.2f}); this supports, but cannot prove, parallel trends"
    )


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
    The result has ``pretrend_pvalue``, ``pretrend_test_on`` and ``pretrend_verdict`` (a
    sentence for the analyst): R did's Wald test that all pre-treatment ATT(g,t) are zero
    when the cohorts are large enough for it (:data:`CELL_TEST_UNITS_PER_CELL`), else the
    joint test of the pre-period event-time estimates (:meth:`AggregateResult.pretrend_test`).
    """
    res = att_gt(data, outcome=outcome, **kwargs)
    return dynamic_with_pretrend(res, min_e=min_e, max_e=max_e, balance_e=balance_e)


def dynamic_with_pretrend(
    res: ATTgtResult,
    *,
    min_e: float | None = None,
    max_e: float | None = None,
    balance_e: int | None = None,
) -> AggregateResult:
    """The dynamic aggregation of ``res`` with :func:`event_study`'s pre-trend test
    (``pretrend_pvalue``, ``pretrend_test_on``, ``pretrend_periods``, ``pretrend_verdict``).

    For a result already estimated: the report's per-certification table tests each
    certification's pre-trends without estimating its ATT(g,t) twice.
    """
    agg = res.aggregate("dynamic", min_e=min_e, max_e=max_e, balance_e=balance_e)
    # R did's cell-level test when the data identify it well; otherwise (small cohorts: their
    # pre-period cells' covariance rests on a few engineers each, or more cells than units)
    # the joint test of the event-time estimates, with its small-sample correction.
    p, q, what = res.wald_pvalue, int(res.is_pre.sum()), "pre-period ATT(g,t) cells"
    cell_p = None  # the cell-level test's p-value when it was computed but not used
    if q and (p is None or _small_cohorts(res)):
        cell_p = p
        _, p, q = agg.pretrend_test()
        what = "pre-period event-study estimates"
    agg.pretrend_pvalue = p
    agg.pretrend_test_on = what
    agg.pretrend_periods = q
    agg.pretrend_cell_pvalue = cell_p
    agg.pretrend_verdict = pretrend_verdict(p, q, what)
    agg.pretrend_verdict += unused_cell_test(p, cell_p)
    if q and p is not None and p < 0.05 and res.wald_pvalue is None:
        # the cell-level test already warned otherwise
        _warn(f"pre-trends: {agg.pretrend_verdict}", agg.warnings)
    return agg
