"""The AI-adoption trend in words: the AI-assisted share of PRs from the first to the last
period (the AI page's summary and the landing page's line)."""

from __future__ import annotations

import polars as pl

from certkit.narrative.effects import percent_words

#: A period at either end of the adoption series with fewer PRs than this is left out of its
#: ends (the sentence says how many).
THIN_END_PRS = 10


def adoption_trend(adoption: pl.DataFrame | None) -> dict | None:
    """The AI-assisted share of PRs in the first and last period of an adoption table.

    ``adoption_first``, ``period_first``, ``adoption_last``, ``period_last``; the share of a
    period pools its rows (``n_ai / n_prs`` when the table has the counts), so pass the
    organisation-wide series (``certkit.ai.adoption_overall``): pooling the cells of a
    suppressed by-team table that survive would let one team stand for the organisation.
    With a ``suppressed`` column, ``periods_left_out`` counts the periods with nothing shown;
    with a ``partial`` column (:func:`certkit.ai.adoption_overall`), the periods the data
    start or end inside are left out, named in ``period_partial_first`` (the last one before
    the whole periods) and ``period_partial`` (the first one after them).
    ``adoption_peak`` / ``period_peak`` when the highest period is well above both ends (5
    points and 1.5 times). ``None`` with fewer than two periods.
    """
    if adoption is None or adoption.height == 0 or "ai_share" not in adoption.columns:
        return None
    partial_first = partial = None
    if "partial" in adoption.columns:  # periods the data start or end inside: left out, said
        is_partial = pl.col("partial").fill_null(False)
        whole = adoption.filter(~is_partial)["period"]
        cut = adoption.filter(is_partial)["period"]
        if cut.len() and whole.len():
            before = cut.filter(cut < whole.min())
            after = cut.filter(cut > whole.max())
            partial_first = str(before.max()) if before.len() else None
            partial = str(after.min()) if after.len() else None
            adoption = adoption.filter(~is_partial)
    counted = {"n_ai", "n_prs"} <= set(adoption.columns)
    by_period = (
        adoption.drop_nulls("ai_share")
        .group_by("period")
        .agg(
            (pl.col("n_ai").sum() / pl.col("n_prs").sum()).alias("share")
            if counted
            else pl.col("ai_share").mean().alias("share"),
            (pl.col("n_prs").sum() if counted else pl.lit(None, pl.Int64)).alias("prs"),
        )
        .filter(pl.col("share").is_finite())
        .sort("period")
    )
    # an end resting on a handful of PRs is not where adoption went (trial N: "to 0%
    # (2025-10-01)" on 1 PR, the other repositories' histories having ended)
    thin = pl.col("prs").fill_null(THIN_END_PRS) < THIN_END_PRS
    trimmed = 0
    while by_period.height > 2 and by_period.select(thin.first()).item():
        by_period, trimmed = by_period.slice(1), trimmed + 1
    while by_period.height > 2 and by_period.select(thin.last()).item():
        by_period, trimmed = by_period.slice(0, by_period.height - 1), trimmed + 1
    if by_period.height < 2:
        return None
    out = {
        "adoption_first": by_period["share"][0],
        "period_first": str(by_period["period"][0]),
        "adoption_last": by_period["share"][-1],
        "period_last": str(by_period["period"][-1]),
    }
    # the peak among periods with enough PRs too (trial Y: "peaked at 50% (2024-12-01)" on
    # 1 AI-assisted PR of 2, between months of 0-2%)
    solid = by_period.filter(~thin)
    peak = solid.row(int(solid["share"].arg_max()), named=True) if solid.height else None
    ends = max(out["adoption_first"], out["adoption_last"])
    if peak and peak["share"] >= ends + 0.05 and peak["share"] >= 1.5 * ends:
        # a series that rose and fell (pydantic-ai: 53% in March, 2% after a policy change
        # told agents to stop adding their co-author line) is not "from 0% to 2%"
        out |= {"adoption_peak": peak["share"], "period_peak": str(peak["period"])}
    if "suppressed" in adoption.columns:  # periods with no cell shown (too few engineers)
        hidden = adoption.group_by("period").agg(pl.col("suppressed").all()).filter("suppressed")
        if hidden.height:
            out["periods_left_out"] = hidden.height
            # hidden periods after the last one shown: the series ends early (trial M, aider:
            # "to 10% (2025-09-01)" while the 8 hidden months after rose to 79%)
            later = hidden.filter(pl.col("period").cast(pl.String) > out["period_last"])
            if later.height:
                out["periods_hidden_after"] = later.height
    if trimmed:
        out["periods_thin"] = trimmed
    if partial is not None:
        out["period_partial"] = partial
    if partial_first is not None:
        out["period_partial_first"] = partial_first
    return out


def adoption_words(trend: dict) -> str:
    """An :func:`adoption_trend` in words (the AI page's summary and the landing page's line)."""
    # all PRs by the period each was opened (ai.adoption_overall), where the panel's charts
    # count merged PRs by their merge: said, as the two differ (trial Q, Q7: 13% and 9%)
    # a share of PRs with an AI trace: a lower bound (docs/connectors.md; trial T, gemini-cli:
    # "from under 1% to 0%" in the repository of an AI tool that leaves no trace by default)
    text = (
        "AI-assisted share of PRs (at least: PRs with a trace an AI tool left; dated by when "
        f"each was opened) went from {percent_words(trend['adoption_first'])} "
        f"({trend['period_first']}) to {percent_words(trend['adoption_last'])} "
        f"({trend['period_last']})"
    )
    first, last = trend.get("period_partial_first"), trend.get("period_partial")
    if first and last:
        text += f" (the partial first and last periods, {first} and {last}, left out)"
    elif first or last:
        text += f" (the partial {'first' if first else 'last'} period, {first or last}, left out)"
    thin = trend.get("periods_thin")
    if thin:
        text += (
            f" ({thin} period{'s' if thin != 1 else ''} at the ends with fewer than "
            f"{THIN_END_PRS} PRs left out)"
        )
    n = trend.get("periods_left_out")
    if n:
        text += (
            f", organisation-wide; {n} period{'s' if n != 1 else ''} with too few engineers "
            "to show (shared report) left out"
        )
    after = trend.get("periods_hidden_after")
    if after:
        text += (
            f", {after} of them after {trend['period_last']}: the series stops there, not the "
            "data, so it says nothing of the share since"
        )
    if trend.get("adoption_peak") is not None:
        text += (
            f"; it peaked at {trend['adoption_peak']:.0%} ({trend['period_peak']}): detection "
            "rests on the traces AI tools leave in commits and PRs, so a drop can also be a "
            "change in what is recorded"
        )
    return text
