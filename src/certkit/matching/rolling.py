"""Matched difference-in-differences for staggered certification (rolling entry)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import polars as pl
from scipy import stats

from certkit.data.contract import panel_columns
from certkit.errors import (
    CertkitError,
    CertkitWarning,
    check_outcome,
    require_columns,
    require_int,
    require_polars,
)
from certkit.errors import warn_and_keep as _warn
from certkit.matching.matcher import match, no_overlap_words, unknown_controls_words
from certkit.matching.results import MatchedDiDResult
from certkit.matching.sensitivity import sensitivity_analysis
from certkit.stats.vcov import critical_value, level_from_alpha


def event_rows(D: np.ndarray, events, level: float) -> list[tuple]:
    """``(event_time, estimate, std_error, conf_low, conf_high, n_pairs)`` per event time
    from the matched sets' differences ``D`` (sets x event times; NaN: no value); intervals
    with Student t's critical value on (sets - 1) degrees of freedom, the one-sample t of the
    sets' differences."""
    rows = []
    for k, ev in enumerate(events):
        col = D[:, k]
        col = col[~np.isnan(col)]
        if ev == -1 or col.size < 2:
            est = 0.0 if ev == -1 else (float(col.mean()) if col.size else math.nan)
            se = 0.0 if ev == -1 else math.nan
        else:
            est = float(col.mean())
            se = float(col.std(ddof=1) / math.sqrt(col.size))
            # every set's difference equal (two sets, both 0): no spread to measure the
            # uncertainty from, not a certain estimate (the chart pinched to a point; trial F)
            se = se if se > 0 else math.nan
        z = critical_value(level, col.size - 1) if col.size >= 2 else math.nan
        half = 0.0 if ev == -1 else z * se
        rows.append((int(ev), est, se, est - half, est + half, int(col.size)))
    return rows


def matched_did(
    panel: pl.DataFrame,
    *,
    outcome: str,
    covariates: list[str] | None = None,
    pre_periods: int = 3,
    post_periods: int = 6,
    ratio: int = 1,
    caliper: float | None = 0.2,
    distance: str = "logit",
    unit: str | None = None,
    time: str | None = None,
    cohort: str | None = None,
    level: float = 0.95,
    balance_threshold: float = 0.1,
    pretrend_alpha: float = 0.05,
) -> MatchedDiDResult:
    """Match certified engineers to not-yet-certified peers, then difference-in-differences.

    Rolling entry: for every certification period ``g`` the engineers certified in ``g`` are
    matched (within ``g``, without replacement) to engineers not certified by ``g`` (never, or
    later), on ``covariates`` measured in period ``g - 1`` and on the outcome's mean over periods
    ``g - pre_periods .. g - 2``. The DiD baseline is period ``g - 1``, which is *not* used for
    matching: matching on the baseline itself would pick peers with a lucky baseline and bias
    the DiD through regression to the mean (Daw & Hatfield 2018). The pre-period event times
    are matched on, so they are balance checks rather than placebo tests. One propensity model is
    fitted on the stacked risk sets. The pair DiD at event time ``e`` compares the change of the
    treated engineer from ``g - 1`` to ``g + e`` with the change of the matched peer(s); a peer
    who certifies later stops counting from that period on. Event-time effects are averages over
    matched sets; the overall ATT averages each set's post-period (``e = 0..post_periods``)
    DiDs and then the sets. SEs treat matched sets as clusters (standard deviation over sets /
    sqrt(number of sets)); a peer reused for several cohorts makes them slightly optimistic.
    Intervals and p-values use Student t with (sets - 1) degrees of freedom: the one-sample
    t-test of the sets' DiDs, equal to the normal with many sets and honest with few.
    Reported with Rosenbaum bounds on the set-level DiDs and an E-value: ``sensitivity()``.

    Two warnings question the comparison itself and are kept in ``alerts`` (and shown in
    ``warnings``, ``summary()`` and ``effect_summary()``): matched balance worse than
    ``balance_threshold`` (|SMD|), and pre-certification DiDs (``e = -pre_periods .. -2``) that
    differ from zero beyond chance: a joint Hotelling T-squared test on the matched sets'
    pre-period DiDs (sets with every pre-period; F reference distribution) at level
    ``pretrend_alpha``. The test is in ``pretrend``.
    """
    require_polars(panel, "panel", "the engineer x period panel of certkit.build_panel")
    unit, time, cohort = panel_columns(panel, unit, time, cohort, group_arg="cohort")
    table = "panel"
    covariates = (
        ["role", "level", "platform", "tenure_months"] if covariates is None else list(covariates)
    )
    cols = {"unit": unit, "time": time, "cohort": cohort, "outcome": outcome}
    require_columns(
        panel, cols | {f"covariates[{i}]": c for i, c in enumerate(covariates)}, "panel"
    )
    require_int(pre_periods, "pre_periods", optional=False)
    require_int(post_periods, "post_periods", optional=False)
    if pre_periods < 2 or post_periods < 0:
        raise CertkitError("pre_periods must be >= 2 and post_periods >= 0")
    check_outcome(panel[outcome], outcome)  # all null: not "no cohort has 3 pre-periods"
    notes: list[str] = []
    p = panel.select(unit, time, cohort, outcome, *covariates).with_columns(
        pl.col(outcome).cast(pl.Float64)
    )
    cohorts = sorted(c for c in p[cohort].unique().to_list() if c is not None and c > 0)
    if not cohorts:
        raise CertkitError(f"{table}.{cohort}: no certified engineers (all cohorts are 0)")
    # outcome wide by period for fast lookups
    units = p[unit].unique().sort()
    uidx = {u: i for i, u in enumerate(units.to_list())}
    T = int(p[time].max())
    Y = np.full((units.len(), T + 1), np.nan)
    ui = np.array([uidx[u] for u in p[unit].to_list()])
    ti = p[time].to_numpy().astype(int)
    Y[ui, ti] = p[outcome].fill_null(np.nan).to_numpy()
    coh = np.zeros(units.len(), dtype=np.int64)
    coh[ui] = p[cohort].fill_null(0).to_numpy()

    stack = _risk_sets(p, cohorts, Y, coh, units, unit, time, covariates, pre_periods)
    if stack is None:
        raise CertkitError(_no_risk_set(Y, coh, pre_periods, outcome))
    n_t_all = int((coh > 0).sum())
    n_t_used = int(stack["_treat"].sum())
    if n_t_used < n_t_all:
        _warn(
            f"{n_t_all - n_t_used} of {n_t_all} certified engineer(s) lack {pre_periods} "
            f"complete pre-certification period(s) of {outcome} and are left out.",
            notes,
        )
    match_vars = [*covariates, "_pre_mean"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = match(
            stack,
            treatment="_treat",
            covariates=match_vars,
            distance=distance,
            ratio=ratio,
            caliper=caliper,
            exact=["_g"],
            balance_threshold=balance_threshold,
        )
    pre_label = f"{outcome} (pre mean)"
    for w in caught:  # said once, with the pre-period mean named as the reader knows it
        if issubclass(w.category, CertkitWarning):
            _warn(str(w.message).replace("_pre_mean", pre_label), notes)
    alerts = [msg.replace("_pre_mean", pre_label) for msg in m.alerts]  # already in notes
    m.alerts = []
    bal = m.balance().with_columns(pl.col("term").replace({"_pre_mean": pre_label}))

    # pair-level DiDs by event time
    sets = m.match_matrix
    t_rows = m.t_pos
    st_units = np.array([uidx[u] for u in stack[unit].to_list()])
    st_g = stack["_g"].to_numpy()
    events = np.arange(-pre_periods, post_periods + 1)
    n_sets = t_rows.size
    D = np.full((n_sets, events.size), np.nan)
    for k, ev in enumerate(events):
        tu = st_units[t_rows]
        g = st_g[t_rows]
        tt = g + ev
        valid_t = (tt >= 1) & (tt <= T)
        tt_c = np.clip(tt, 0, T)
        dt = Y[tu, tt_c] - Y[tu, g - 1]
        ctrl = np.full(sets.shape, np.nan)
        for r in range(sets.shape[1]):
            ok = sets[:, r] >= 0
            cu = np.where(ok, st_units[np.clip(sets[:, r], 0, None)], 0)
            still_control = (coh[cu] == 0) | (coh[cu] > tt)
            val = Y[cu, tt_c] - Y[cu, g - 1]
            ctrl[:, r] = np.where(ok & still_control, val, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            dc = np.nanmean(ctrl, axis=1)
        D[:, k] = np.where(valid_t, dt - dc, np.nan)
    level = level_from_alpha(level, None)
    effects = pl.DataFrame(
        event_rows(D, events, level),
        schema=["event_time", "estimate", "std_error", "conf_low", "conf_high", "n_pairs"],
        orient="row",
    )
    pretrend = pretrend_test(D[:, events < -1], events[events < -1])
    if pretrend["p_value"] is not None and pretrend["p_value"] < pretrend_alpha:
        pre_rows = effects.filter(pl.col("event_time") < -1)
        worst = pre_rows.sort(pl.col("estimate").abs() / pl.col("std_error"), descending=True)
        w = worst.row(0, named=True)
        msg = (
            f"the pre-certification estimates differ from zero beyond chance (joint test over "
            f"e={int(events[0])}..-2, p = {pretrend['p_value']:.3g}; largest: "
            f"e={w['event_time']}: {w['estimate']:.3g}, {100 * level:.0f}% CI "
            f"{w['conf_low']:.3g} to {w['conf_high']:.3g}). Either certified engineers and "
            f"their matched peers were already drifting apart on {outcome} before "
            "certification, and the post-certification effect may be biased, or the peers "
            "were picked on a lucky pre-period and differ in their usual level (regression to "
            "the mean). Check the event-study chart; consider other covariates or a shorter "
            "window."
        )
        _warn(msg, notes)
        alerts.append(msg)
    post = D[:, events >= 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_set = np.nanmean(post, axis=1)
    in_att = ~np.isnan(per_set)  # a set with no post-period difference is not in the ATT
    per_set = per_set[in_att]
    if per_set.size < 2:
        raise CertkitError(_too_few_sets(stack, covariates, sets, n_t_used, per_set.size, caliper))
    matched = int((sets >= 0).any(axis=1).sum())
    if matched * 2 < n_t_used:  # most certified engineers found no peer: say why (trial AC:
        # "rests on only 3 certified engineers", the 10 others unsaid)
        _warn(
            _too_few_sets(stack, covariates, sets, n_t_used, per_set.size, caliper).replace(
                "fewer than two matched sets have post-period outcomes: of",
                "most certified engineers found no peer: of",
            ),
            notes,
        )
    att = float(per_set.mean())
    se = float(per_set.std(ddof=1) / math.sqrt(per_set.size))
    # the one-sample t of the sets' DiDs: with 2 sets a normal critical value gave p = 0.003
    # where the Rosenbaum test at gamma 1 of the same sets gave 0.09 (trial P, fastapi)
    z = critical_value(level, per_set.size - 1)
    sd_y = float(np.nanstd(Y[st_units[t_rows]][:, :], ddof=1)) if n_sets else math.nan
    sensitivity = sensitivity_analysis(
        per_set,
        outcome=outcome,
        estimate=att,
        ci=(att - z * se, att + z * se),
        sd=sd_y,
        level=level,
        method="Rosenbaum bounds, Wilcoxon signed-rank on matched-set DiDs; E-value on the "
        "standardized ATT",
    )
    pairs = pl.DataFrame(
        {
            "set": np.arange(n_sets),
            unit: stack[unit].gather(t_rows),  # the set's certified engineer
            "cohort": st_g[t_rows],
            "matched": (sets >= 0).any(axis=1),
            "in_att": in_att,
        }
    )
    used_controls = np.unique(st_units[sets[sets >= 0]]).size
    return MatchedDiDResult(
        outcome=outcome,
        event_effects=effects,
        overall_att=att,
        overall_se=se,
        overall_ci=(att - z * se, att + z * se),
        n_pairs=int(per_set.size),
        n_treated=int(np.unique(st_units[t_rows]).size),
        n_controls=int(used_controls),
        pre_periods=pre_periods,
        post_periods=post_periods,
        balance_table=bal,
        pairs=pairs,
        sensitivity_result=sensitivity,
        warnings=notes,
        level=level,
        pretrend=pretrend,
        alerts=alerts,
    )


def _risk_sets(p, cohorts, Y, coh, units, unit, time, covariates, pre_periods):
    """The stacked risk sets of :func:`matched_did` (None when no cohort has one).

    For every cohort ``g`` with ``pre_periods`` complete pre-periods: its engineers and those
    not certified by ``g``, in unit order, with the covariates of period ``g - 1``, ``_g``,
    ``_treat`` and ``_pre_mean`` (the outcome's mean over ``g - pre_periods .. g - 2``). One
    join for all cohorts: a filter and a join per cohort cost ~6 polars queries each.
    """
    keys, gs, treat, pre_mean = [], [], [], []
    for g in cohorts:
        lo = g - pre_periods
        if lo < 1:
            continue
        window = Y[:, lo:g]
        complete = ~np.isnan(window).any(axis=1)
        is_t = (coh == g) & complete
        is_c = ((coh == 0) | (coh > g)) & complete
        if not is_t.any() or not is_c.any():
            continue
        rows = np.nonzero(is_t | is_c)[0]
        keys.append(rows)
        gs.append(g)
        treat.append(is_t[rows].astype(np.int8))
        pre_mean.append(window[rows][:, :-1].mean(axis=1))
    if not gs:
        return None
    rows = np.concatenate(keys)
    n_rows = np.array([r.size for r in keys])
    # _g typed as pl.lit(g) types a Python number: Int32 for integers that fit, else Int64
    if all(isinstance(g, int) for g in gs):
        g_type = pl.Int32 if all(-(2**31) <= g < 2**31 for g in gs) else pl.Int64
    else:
        g_type = pl.Float64
    wanted = pl.DataFrame(
        {
            unit: units.gather(rows),
            time: pl.Series(np.repeat(np.asarray(gs) - 1, n_rows)).cast(p.schema[time]),
            "_g": pl.Series(np.repeat(np.asarray(gs), n_rows)).cast(g_type),
            "_treat": np.concatenate(treat),
            "_pre_mean": np.concatenate(pre_mean),
        }
    )
    at = p.select(unit, time, *covariates)
    return wanted.join(at, on=[unit, time], how="inner", maintain_order="left").select(
        unit, *covariates, "_g", "_treat", "_pre_mean"
    )


def pretrend_test(P: np.ndarray, events: np.ndarray) -> dict:
    """Joint test that the mean pre-period DiDs are zero: Hotelling's T-squared on the matched
    sets (rows of ``P``, one column per pre-period event time) with every pre-period observed,
    referred to F(k, n - k). ``p_value`` is None when there are too few sets (n <= k + 1)."""
    out = {
        "test": "Hotelling T-squared on matched sets' pre-period DiDs",
        "event_times": [int(e) for e in events],
        "statistic": None,
        "df": None,
        "p_value": None,
        "n_sets": 0,
    }
    if P.shape[1] == 0:
        return out
    P = P[~np.isnan(P).any(axis=1)]
    n, k = P.shape
    out["n_sets"] = int(n)
    if n <= k + 1:
        return out
    mean = P.mean(axis=0)
    S = np.atleast_2d(np.cov(P, rowvar=False, ddof=1))
    t2 = float(n * mean @ np.linalg.pinv(S) @ mean)
    f = (n - k) / (k * (n - 1)) * t2
    out.update(statistic=f, df=(k, n - k), p_value=float(stats.f.sf(f, k, n - k)))
    return out


def _too_few_sets(
    stack: pl.DataFrame,
    covariates: list[str],
    sets: np.ndarray,
    eligible: int,
    with_post: int,
    caliper: float | None,
) -> str:
    """Why matched DiD has fewer than two matched sets with outcomes after certifying, with
    the counts at each step and the covariates whose values the peers never share
    (pydantic-ai: peers outside the roster have role and level ``unknown``)."""
    matched = int((sets >= 0).any(axis=1).sum())
    apart = no_overlap_words(stack, "_treat", covariates, "peer", "a certified engineer")
    why = (
        f"fewer than two matched sets have post-period outcomes: of {eligible} certified "
        f"engineer(s) with enough periods before certifying, {matched} found a peer"
        + (f" within the caliper ({caliper:g} SD)" if caliper else "")
        + f" and {with_post} of those have outcomes after certifying"
    )
    # most peers outside the roster say so before the caliper (trial O: 1 of 11 matched)
    apart = apart or unknown_controls_words(stack, "_treat", covariates)
    if apart:
        why += f"; {apart}"
    elif matched < eligible:
        why += "; a wider caliper or fewer covariates would pair more of them"
    return why


def _no_risk_set(Y: np.ndarray, coh: np.ndarray, pre_periods: int, outcome: str) -> str:
    """Why no cohort could be matched, with a hint that can help: lowering ``pre_periods``
    only when some certified engineer has 2 periods (the fewest matching uses) of
    ``outcome`` before certifying (trial H: "lower pre_periods" at 3, then at 2, then 1 was
    refused, where no certified engineer had any value before)."""
    treated = np.flatnonzero(coh > 0)
    before = np.array([np.isfinite(Y[i, 1 : coh[i]]).sum() for i in treated])
    with_two = int((before >= 2).sum())
    text = (
        f"no certification cohort has {pre_periods} observed pre-period(s) with both "
        "certified engineers and not-yet-certified peers"
    )
    if with_two and pre_periods > 2:
        return (
            f"{text}; lower pre_periods ({with_two} certified engineer(s) have {outcome} in 2 "
            "or more periods before certifying)"
        )
    none = int((before == 0).sum())
    return (
        f"{text}: {with_two} of {len(treated)} certified engineer(s) have {outcome} in 2 or "
        f"more periods before certifying, the fewest matching can use ({none} have none "
        "before), so lowering pre_periods cannot help"
    )
