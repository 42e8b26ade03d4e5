"""All generated prose: plain-language sentences about estimates, for results and reports.

Nothing here is hand-written about the data: every sentence is filled from a result table,
so the summary changes when the data (or the parameters) change. ``describe_effect`` is the
sentence behind every result's ``effect_summary()``; the rest builds the report notebooks'
summaries (DiD, matching, AI outcomes, ROI), their assumptions, the pre-trend check and,
for the landing page, whether the designs estimating an outcome agree (``agreement``,
``agreement_notes``: a disagreement explained once, with the outcomes it applies to; in
``certkit.narrative.designs``).
Notebooks reach this module as ``certkit.report.story`` too.
"""

from __future__ import annotations

import math

import polars as pl
from scipy import stats

from certkit.display import p_said
from certkit.narrative import effects
from certkit.narrative.adoption import THIN_END_PRS, adoption_trend, adoption_words  # noqa: F401
from certkit.narrative.designs import (  # noqa: F401
    ALPHA,
    agreement,
    agreement_notes,
    status,
    withheld,
)
from certkit.narrative.effects import (  # noqa: F401 (re-exported: certkit.report.story)
    DID_NEEDS,
    MATCHING_NEEDS,
    OUTCOMES,
    SEE_SUMMARY,
    NotEstimated,
    _finite,
    approximated_mix,
    approximated_reason,
    baseline,
    cycle_time_note,
    effect_caveat,
    effect_of,
    effect_row,
    mostly_approximated,
    no_certified_data,
    not_estimated,
    not_evidence,
    outside_window_reason,
    percent_words,
    skipped_outcomes,
    summarize,
    unrecorded_reason,
    why,
)

label = effects.label  # an assignment: describe_effect's `label` argument shadows it

DID_ASSUMPTIONS = [
    "Observational estimate, not an experiment: engineers chose (or were chosen) to certify.",
    "Parallel trends: without certification, certified engineers' outcomes would have moved "
    "like those of the comparison group (checked, not proven, by the pre-period estimates).",
    "No anticipation: outcomes do not change before the certification month.",
    "No spill-over: a certified engineer does not change teammates' outcomes (a team-wide "
    "effect would be hidden in the comparison group).",
    "Certification timing is not driven by a shock to the outcome itself (e.g. certifying "
    "during a quiet month).",
]

MATCHING_ASSUMPTIONS = [
    "Observational estimate: certified engineers are compared with similar peers who had not "
    "certified yet, matched on role, level, platform, tenure and their recent outcomes.",
    "No unmeasured confounding: anything that drives both certifying and the outcome (and is "
    "not matched on) biases the estimate; the sensitivity analysis says how strong such a "
    "factor would have to be to explain the result away.",
    "Parallel trends within matched pairs (the difference-in-differences removes fixed "
    "differences between the pair).",
]


def assumptions_md(items: list[str]) -> str:
    """Assumptions as a Markdown list."""
    return "\n".join(f"- {a}" for a in items)


AI_LABELS = {
    "cycle_time_log": ("PR cycle time", True, True),
    "pickup_time_log": ("time to first review", True, True),
    "size_log": ("PR size", None, True),
    "reverted": ("revert rate", True, False),
    "defect": ("defect rate", True, False),
    # trial AH: the AI page compared rework, yet its box said "No effect could be estimated"
    "rework": ("rework rate", True, False),
}

AI_NEEDS = (
    "at least 10 authors who wrote both AI-assisted and other merged PRs (20 such PRs or more), "
    "with AI use varying within author, repository and month"
)
TRUST_NEEDS = (
    "at least 2 engineers with 5 or more AI-assisted merged PRs each, and at least one of "
    "those PRs reverted or linked to a defect"
)


NO_AI_PRS = "no pull request in this data shows a trace of AI assistance (see the summary)"


def no_ai_prs(n_prs: int) -> str:
    """Why the AI analyses have nothing to compare: no PR carries a trace of AI assistance
    (the page says it once; each section says :data:`NO_AI_PRS`)."""
    return (
        f"none of the {n_prs:,} pull requests shows a trace of AI assistance (commit trailers, "
        "bot accounts, labels, PR text): AI tools may be unused, or used without leaving one; "
        "detection is a lower bound (docs/connectors.md, AI-assistance detection)"
    )


AI_ASSUMPTIONS = [
    "Observational comparison: engineers choose which pull requests to write with AI; the "
    "comparison within the same author, repository and month removes who uses AI and when, "
    "but not which tasks they pick it for.",
    "AI attribution comes from trailers, labels and tool metadata: it is a lower bound, so "
    "some 'non-AI' pull requests were AI-assisted and differences are diluted.",
    "Adoption cells with fewer engineers than the reporting threshold are hidden.",
]


#: AI outcomes that are rare events: outcome -> what happened to the PR.
AI_EVENTS = {"reverted": "reverted", "defect": "linked to a defect"}
#: Fewer events than this expected in either group (AI-assisted or other PRs) if both had
#: the same rate: too few to compare (the usual rule for comparing counts).
AI_FEW_EXPECTED = 5


def ai_events(prs: pl.DataFrame) -> dict[str, dict]:
    """For each rare-event outcome of :data:`AI_EVENTS`: how many AI-assisted and other PRs
    (``prs_ai``, ``prs_other``, with a value) had it (``events_ai``, ``events_other``).
    ``prs`` is :func:`certkit.ai.pr_table` (columns ``ai`` and the outcomes)."""
    out = {}
    for outcome in AI_EVENTS:
        if outcome not in prs.columns or "ai" not in prs.columns:
            continue
        d = prs.filter(pl.col("ai").is_not_null() & pl.col(outcome).is_not_null())
        ai = pl.col("ai").cast(pl.Boolean)
        hit = pl.col(outcome) > 0
        out[outcome] = d.select(
            ai.sum().alias("prs_ai"),
            (~ai).sum().alias("prs_other"),
            (ai & hit).sum().alias("events_ai"),
            (~ai & hit).sum().alias("events_other"),
        ).row(0, named=True)
    return {o: {k: int(v or 0) for k, v in c.items()} for o, c in out.items()}


def ai_event_words(gap: dict) -> tuple[str, bool] | None:
    """ "0 of 65 AI-assisted and 12 of 1,703 other PRs were reverted", and whether that is
    too few to compare (fewer than :data:`AI_FEW_EXPECTED` expected in a group at the pooled
    rate); None without counts (trial G, xarray: "about 40% lower" on 0 reverted AI PRs)."""
    if gap.get("events_ai") is None or gap.get("prs_ai") is None:
        return None
    e_ai, n_ai = gap["events_ai"], gap["prs_ai"]
    e_other, n_other = gap["events_other"], gap["prs_other"]
    total, prs = e_ai + e_other, n_ai + n_other
    expected = min(n_ai, n_other) * total / prs if prs else 0.0
    what = AI_EVENTS.get(gap.get("outcome", ""), "affected")
    words = f"{e_ai:,} of {n_ai:,} AI-assisted and {e_other:,} of {n_other:,} other PRs were {what}"
    return words, expected < AI_FEW_EXPECTED


def ai_gap_line(gap: dict) -> tuple[str, str]:
    """One compared outcome's size and verdict in words, for the AI page and the landing
    page: a rare event too few to compare says only its counts."""
    counted = ai_event_words(gap)
    if counted and counted[1]:
        return counted[0], "too few to compare"
    size, verdict = ai_gap_words(
        gap.get("relative"),
        gap.get("p_value"),
        gap.get("lower_better"),
        estimate=gap.get("estimate"),
    )
    return size, verdict + (f"; {counted[0]}" if counted else "")


def ai_summary(
    comparison: pl.DataFrame | None,
    adoption: pl.DataFrame | None,
    flagged: int | None,
    skipped: dict[str, str] | None = None,
    events: dict[str, dict] | None = None,
) -> str:
    """Markdown bullets from ``certkit.ai.compare(...)`` (or its table) and the adoption table.

    ``None`` for a part that could not be computed; ``skipped`` maps a part's name to the
    reason, which the summary states instead of a number. ``events``: :func:`ai_events`.
    """
    lines = []
    skipped = dict(skipped or {})
    if comparison is not None and not isinstance(comparison, pl.DataFrame):
        comparison = comparison.to_polars()  # an AIComparison
    for gap in ai_gaps(comparison, events=events):
        name, rel = gap["label"], gap["relative"]
        if rel is None and not _finite(gap.get("estimate")):
            lines.append(f"- **{name}**: could not be estimated (no finite estimate).")
            continue
        size, verdict = ai_gap_line(gap)
        if verdict == "too few to compare":
            lines.append(f"- **{name}**: {size}: too few to compare.")
            continue
        raw = f"; the raw gap is {gap['raw']:+.0%}" if gap["raw"] is not None else ""
        lines.append(f"- **{name}**: {size} ({verdict}{raw}).")
    if "comparison" in skipped:
        lines.append(f"- **AI-assisted vs other PRs**: not estimated: {skipped['comparison']}.")
    trend = adoption_trend(adoption)
    if trend:
        lines.append(f"- **Adoption**: {adoption_words(trend)}.")
    if "adoption" in skipped:
        lines.append(f"- **Adoption**: not shown: {skipped['adoption']}.")
    if flagged is not None:
        lines.append(
            f"- **Fix first**: {flagged} team x repository cell(s) where AI-assisted work has a "
            "measurably higher defect rate (false discovery rate controlled)."
        )
    elif "fix_first" in skipped:
        lines.append(f"- **Fix first**: not estimated: {skipped['fix_first']}.")
    lines.append("- These are **observational** comparisons; see the assumptions at the end.")
    return "\n".join(lines)


def ai_gaps(
    comparison: pl.DataFrame | None,
    labels: dict[str, tuple[str, bool | None, bool]] | None = None,
    events: dict[str, dict] | None = None,
) -> list[dict]:
    """The adjusted AI gap of each outcome of a comparison table, in ``labels`` order.

    One dict per outcome with an ``adjusted`` row: ``outcome``, ``label``, ``relative``
    (:func:`relative_gap`, ``None`` when not finite), ``p_value``, ``lower_better`` and
    ``raw`` (the ``naive`` row's relative gap, or ``None``), and the event counts of
    ``events`` (:func:`ai_events`) for rare events. ``labels`` defaults to
    :data:`AI_LABELS` (outcome -> label, lower better, log scale).
    """
    if comparison is None or comparison.height == 0:
        return []
    gaps = []
    for outcome, (name, lower_better, log) in (labels or AI_LABELS).items():
        rows = comparison.filter(pl.col("outcome") == outcome)
        adj = rows.filter(pl.col("comparison") == "adjusted")
        if adj.height == 0:
            continue
        naive = rows.filter(pl.col("comparison") == "naive")
        row = adj.row(0, named=True)
        gaps.append(
            {
                "outcome": outcome,
                "label": name,
                "relative": relative_gap(row, log),
                "estimate": row.get("estimate") if _finite(row.get("estimate")) else None,
                "p_value": row.get("p_value"),
                "lower_better": lower_better,
                "raw": relative_gap(naive.row(0, named=True), log) if naive.height else None,
            }
            | (events or {}).get(outcome, {})
        )
    return gaps


def ai_gap_words(
    rel: float | None,
    p: float | None,
    lower_better: bool | None,
    *,
    estimate: float | None = None,
) -> tuple[str, str]:
    """An adjusted AI gap in words: its size (``about 15% lower on AI-assisted PRs of the same
    author``) and its verdict (``better with AI``, ``worse with AI``, ``a clear difference``
    or ``no clear difference`` at the 5% level).

    Without a relative gap (a rate whose gap is below -100% of the non-AI rate), the size is
    the ``estimate`` as a difference in percentage points.
    """
    if _finite(rel):
        direction = "lower" if rel < 0 else "higher"
        size = f"about {abs(rel):.0%} {direction} on AI-assisted PRs of the same author"
        sign = rel
    else:
        direction = "lower" if estimate < 0 else "higher"
        size = (
            f"{abs(100 * estimate):.2g} percentage points {direction} on AI-assisted PRs of "
            "the same author"
        )
        sign = estimate
    clear = _finite(p) and p < ALPHA
    if clear and lower_better is not None:
        return size, ("better" if (sign < 0) == lower_better else "worse") + " with AI"
    return size, "a clear difference" if clear else "no clear difference"


def relative_gap(row: dict, log: bool) -> float | None:
    """The relative gap of a comparison row: ``exp(estimate) - 1`` on a log scale, else its
    ``relative`` column; ``None`` when not finite."""
    est = row.get("estimate")
    if not _finite(est):
        return None
    if log:
        try:
            rel = math.expm1(est)
        except OverflowError:
            return None
    else:
        rel = row.get("relative")
    return rel if _finite(rel) else None


def pretrend_cell(p_value: float | None, cell_p: float | None = None) -> str:
    """A table cell for a pre-trend test's p-value: ``diverged (p < 0.001)``, ``no evidence
    (p = 0.21)`` or ``not tested`` (no pre-period cell, or a singular covariance); with
    ``cell_p``, the cell-level test's p-value that small cohorts make unreliable
    (:func:`certkit.did.event.dynamic_with_pretrend`): ``not tested (cell-level p < 0.001,
    unreliable: small cohorts)``."""
    if p_value is None or not math.isfinite(p_value):
        if cell_p is not None and math.isfinite(cell_p):
            return f"not tested (cell-level p {p_said(cell_p, '.2g')}, unreliable: small cohorts)"
        return "not tested"
    verdict = "diverged" if p_value < 0.05 else "no evidence"
    return f"{verdict} (p {p_said(p_value, '.2g')})"


def pretrend_words(event_study, verdict: str | None = None) -> str:
    """The pre-trend check in words: the joint test's verdict plus what the pre-period points show.

    ``event_study`` is an event-study result (its ``plot_data()``: the tidy rows with ``e``,
    and its ``pretrend_verdict`` when ``verdict`` is not given) or a frame with an ``e`` or
    ``event_time`` column and ``conf_low``/``conf_high`` (or the legacy ``ci_low``/``ci_high``).
    Without a joint test (too many or collinear pre-period cells) the per-period intervals
    still say something: about 95 % of them should include zero under parallel trends.
    """
    if not isinstance(event_study, pl.DataFrame):
        verdict = verdict if verdict is not None else getattr(event_study, "pretrend_verdict", None)
        event_study = event_study.plot_data()
    e = "e" if "e" in event_study.columns else "event_time"
    lo = "ci_low" if "ci_low" in event_study.columns else "conf_low"
    hi = "ci_high" if "ci_high" in event_study.columns else "conf_high"
    pre = event_study.filter(
        (pl.col(e) < 0) & pl.col(lo).is_not_null() & (pl.col(lo) != pl.col(hi))
    )
    text = (verdict or "joint test not available").rstrip(".")
    if pre.height == 0:
        return text + "."
    cover = pre.filter((pl.col(lo) <= 0) & (pl.col(hi) >= 0)).height
    outside = pre.height - cover
    # under parallel trends each interval misses zero with probability about 5 %
    chance = float(stats.binom.sf(outside - 1, pre.height, 0.05)) if outside else 1.0
    tone = (
        "no more than chance would give"
        if chance > 0.05  # 1 of 1 is exactly 5 %: not "no more than chance" (gnome-shell)
        else "more than chance would give: treat the effects with caution"
    )
    if chance > 0.05 and text.startswith("warning"):
        # cargo: "p = 0.000" beside "0 of 6 ... (no more than chance)" read as a contradiction
        tone = (
            "each alone within chance, but together they drift the same way, which the joint "
            "test detects"
        )
    return (
        f"{text}. Of the {pre.height} pre-certification estimates shown, {outside} "
        f"{'has' if outside == 1 else 'have'} a 95% "
        f"interval that excludes zero ({tone})."
    )


# ---------------------------------------------------------------------------------------------
# One sentence about an estimate (every result's effect_summary)
# ---------------------------------------------------------------------------------------------


def _num(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.3g}"


def describe_effect(
    label: str,
    estimate: float | None,
    conf_low: float | None,
    conf_high: float | None,
    p_value: float | None,
    level: float = 0.95,
) -> str:
    """One plain-language sentence about an estimate and its interval."""
    if estimate is None or not math.isfinite(estimate):
        return f"{label}: no estimate (too little data)."
    pct = f"{100 * level:.0f}%"
    if conf_low is None or conf_high is None or not math.isfinite(conf_low * conf_high):
        # never "interval n/a to n/a" in front of readers (fastapi, AI use: "+0 (n/a to n/a)"),
        # nor a point estimate without one (trial G: "Effect: +0, but its 95% interval ...")
        return (
            f"{label}: not estimated: too little variation in the data for a {pct} interval, "
            "so it cannot be told apart from no effect."
        )
    head = f"{label}: {estimate:+.3g} ({pct} interval {_num(conf_low)} to {_num(conf_high)}" + (
        f", p = {p_value:.3g})" if p_value is not None and math.isfinite(p_value) else ")"
    )
    if conf_low > 0 or conf_high < 0:
        way = "an increase" if estimate > 0 else "a decrease"
        return head + f". The interval excludes zero: the data show {way}."
    return head + ". The interval includes zero: the data cannot tell this apart from no effect."


def describe_confounding(
    label: str,
    critical_gamma: float | None,
    e_value: float | None,
    significant: bool = True,
    interval_includes_zero: bool = False,
) -> str:
    """How strong a hidden confounder would have to be to explain an effect away, in words.

    ``critical_gamma`` is the Rosenbaum critical gamma (odds of certifying within a matched
    set), ``e_value`` the E-value (risk-ratio scale); ``significant`` is whether the effect is
    significant without any hidden factor (gamma = 1).
    """
    if critical_gamma is None or math.isnan(critical_gamma) or not significant:
        return (
            f"{label}: the effect is not significant even without a hidden factor, so there is "
            "nothing for one to explain away."
        )
    ev = f" (E-value {e_value:.2f})" if e_value is not None and math.isfinite(e_value) else ""
    factor = f"{critical_gamma:.2f}" if math.isfinite(critical_gamma) else "more than 1000"
    if interval_includes_zero:  # the sample README: p = 0.118 beside "explain the effect away"
        return (
            f"{label}: the estimate's confidence interval includes zero, so there is no clear "
            "effect for a hidden factor to explain away; only the signed-rank test the bounds "
            f"use is significant without one, and a hidden factor changing the odds of "
            f"certifying by a factor of {factor} would overturn that test."
        )
    return (
        f"{label}: a hidden factor would have to change the odds of certifying by a factor of "
        f"{factor} to explain the effect away{ev}."
    )


def describe_balance(worst_smd: float | None, threshold: float = 0.1) -> list[str]:
    """The largest standardized difference left after matching, in one sentence (or none)."""
    if worst_smd is None:
        return []
    where = (
        f"(below the usual {threshold:g} threshold)."
        if worst_smd < threshold
        else f"(above {threshold:g} for some terms: see below)."
    )
    return [
        f"Balance after matching: the largest standardized difference left is {worst_smd:.2f} "
        + where
    ]


def describe_roi_figures(
    roi_median: float,
    low: float,
    high: float,
    p_positive: float,
    cost_per_engineer: float,
    certified: int,
    level: float = 0.95,
    significant: bool = True,
    in_data: int | None = None,
    others_under: int | None = None,
) -> str:
    """The ROI answer's figures in one sentence (median, interval, P(ROI > 0), cost).

    When no effect behind it is distinguishable from zero the interval leads and no median
    is quoted (docs/analytics.md; httpx's answer box read "median ROI -227%" beside "treat
    any single ROI figure as unreliable"). ``certified``: the certified engineers the effects
    rest on and the ROI values; ``in_data``: all certified in the data, when more (trial G:
    "15 engineers certified in the data" beside effects on 14). ``others_under``: a shared
    report's threshold k when fewer than k certified engineers are not valued: their number
    is not said, nor ``in_data`` (trial T: "12 of the 14" told 2)."""
    interval = f"{100 * level:.0f}% interval {low:+.0%} to {high:+.0%}"
    lead = f"Median ROI {roi_median:+.0%} ({interval})" if significant else f"ROI {interval}"
    who = f"{certified:,} engineer{'s' if certified != 1 else ''} certified in the data"
    if others_under:
        who = (
            f"{certified:,} engineer{'s' if certified != 1 else ''} certified in the data are "
            f"valued (the effects rest on them; fewer than {others_under} others were certified "
            "before they were first observed or after the data ends)"
        )
    elif in_data is not None and in_data > certified:
        who = (
            f"{certified:,} of the {in_data:,} engineers certified in the data are valued (the "
            "effects rest on them; the others were certified before they were first observed "
            "or after the data ends)"
        )
    return (
        f"{lead}; chance of a positive return {percent_words(p_positive)}; median cost per "
        f"certified engineer about ${cost_per_engineer:,.0f}; {who}."
    )


def describe_roi_result(
    roi_low: float,
    roi_high: float,
    roi_median: float,
    p_positive: float,
    payback_median_months: float,
    horizon_months: float,
    effects: list[tuple[str, float, float, float]],
    significant: bool,
    level: float = 0.95,
) -> str:
    """``ROIResult.statement()``: the ROI interval, P(ROI > 0), payback and the effect behind it.

    ``effects`` holds ``(name, estimate, std_error, p_value)`` per effect the ROI rests on.
    When no effect is distinguishable from zero the sentence says that ROI figures are not
    reliable instead of quoting a median.
    """
    units = "; ".join(f"{n}: {est:+.4g} (SE {se:.3g}, p={p:.3g})" for n, est, se, p in effects)
    payback = (
        f"{payback_median_months:.1f} months"
        if math.isfinite(payback_median_months)
        else "never (no benefit)"
    )
    base = (
        f"Over {horizon_months:g} months per certified engineer, ROI is between "
        f"{roi_low:+.0%} and {roi_high:+.0%} ({round(level * 100)}% interval) and the chance "
        f"that it is positive is {percent_words(p_positive)}."
    )
    if not significant:
        return (
            f"The estimated effect is not statistically distinguishable from zero ({units}). "
            + base
            + " The data do not show that the programme pays off; treat any single ROI "
            "figure as unreliable."
        )
    return (
        base + f" The median ROI is {roi_median:+.0%} and the median payback {payback}. "
        f"Effect: {units}."
    )
