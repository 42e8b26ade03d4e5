"""The overall effect without the data's quiet last periods (:mod:`certkit.data.activity`),
and the comparison group's level (:func:`certkit.narrative.quiet.level_gap_words`).

A clear effect that disappears once the quiet tail is left out rests on those periods: the
effect rows carry the estimate without them (``quiet_*`` keys) and
:func:`certkit.narrative.effect_caveat` says so beside the verdict.
"""

from __future__ import annotations

import warnings

import polars as pl

from certkit.errors import CertkitError
from certkit.narrative.designs import ALPHA
from certkit.report.context import Context


def _rerun_without_quiet_end(ctx: Context, panel: pl.DataFrame, p_value, rerun) -> dict:
    """The ``quiet_*`` keys of an effect with ``p_value``: the quiet periods (first, count,
    share of the usual activity, unit) and ``rerun(panel before them)``'s overall row
    (``quiet_estimate`` None when it cannot be formed; ``quiet_hidden``: a shared report's k
    when it rests on fewer engineers, review E: "+4.01 (95% CI ...)" on 3, k = 5). Empty when
    the data's end is not quiet or the effect is not clear at 5% (only a clear effect is
    tempered by it). ``rerun`` returns ``(row, engineers)``."""
    quiet = ctx.quiet_end
    if quiet is None or not (isinstance(p_value, int | float) and p_value < ALPHA):
        return {}
    out = {
        "quiet_from": quiet.start.isoformat(),
        "quiet_periods": quiet.periods,
        "quiet_share": quiet.share,
        "quiet_unit": ctx.period_unit,
        "quiet_estimate": None,
    }
    before = panel.filter(pl.col("period") < pl.lit(quiet.start).cast(panel["period"].dtype))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r, n = rerun(before)
    except (CertkitError, ValueError, ZeroDivisionError):
        return out
    return out | {
        "quiet_estimate": r["estimate"],
        "quiet_low": r["conf_low"],
        "quiet_high": r["conf_high"],
        "quiet_p": r["p_value"],
        "quiet_hidden": ctx.k if ctx.privacy.share and n < ctx.k else None,
    }


def without_quiet_end(ctx: Context, outcome: str, spec: dict, row: dict, result=None) -> dict:
    """``quiet_*`` keys for the effect row ``row`` of ``outcome``: the simple aggregation of
    ``att_gt`` with ``spec`` on the periods before the quiet ones
    (:func:`_rerun_without_quiet_end`). With ``result`` (that ``att_gt``'s result on the
    whole panel) its cells are aggregated again up to the quiet periods instead of
    estimating again: the same numbers (``aggregate(before=)``), without a second
    ``att_gt`` (10,000 engineers weekly: 5.8 s per clear outcome and page); with the
    not-yet-certified comparison only (with never-certified ones, engineers certified in the
    quiet periods count as never certified once the data ends before them)."""
    from certkit import did

    def rerun(before: pl.DataFrame):
        if result is not None and spec.get("control", "not_yet") == "not_yet":
            cut = before[spec.get("time", "period_index")].max() + 1
            agg = result.aggregate("simple", before=int(cut))
        else:
            agg = did.att_gt(before, outcome=outcome, **spec).aggregate("simple")
        return agg.headline().row(0, named=True), agg.n_engineers

    return _rerun_without_quiet_end(ctx, ctx.panel, row.get("p_value"), rerun)


def tempering(ctx: Context, outcome: str, spec: dict, row: dict, result) -> dict:
    """The keys a staggered DiD effect row carries for the caveats a shock to everyone's
    activity calls for: :func:`without_quiet_end` and :func:`comparison_level` (the
    certification-impact and ROI pages)."""
    return without_quiet_end(ctx, outcome, spec, row, result) | comparison_level(ctx, outcome)


def comparison_level(ctx: Context, outcome: str) -> dict:
    """``comparison_level`` and ``comparison_engineers``: the never-certified engineers' mean
    ``outcome`` and their number (for :func:`certkit.narrative.quiet.level_gap_words`)."""
    never = ctx.panel.filter((pl.col("cohort") == 0) & pl.col(outcome).is_not_null())
    if not never.height:
        return {}
    return {
        "comparison_level": float(never[outcome].mean()),
        "comparison_engineers": never["engineer_id"].n_unique(),
        "gap_fix": gap_fix(ctx, never),
    }


def gap_fix(ctx: Context, never: pl.DataFrame) -> str:
    """What to do about a level gap, given what the report already did: the roster's teams
    are advised only when the report is not yet restricted to teams, and roster engineers
    idle to the data's end among the never-certified are named first (trial AE,
    getsentry/sentry-python: after -p teams=[...] the caveat still advised it, while 6 of
    the 8 never-certified roster engineers had had no PR for up to 17 months)."""
    from certkit.data.activity import IDLE_PERIODS, idle_roster

    unit = ctx.period_unit
    parts = ["the matched design"]
    idle = idle_roster(ctx.ds, ctx.panel, unit)
    if idle:
        comparison = set(never["engineer_id"].unique().to_list())
        n = len(comparison & set(idle["names"]))
        of = len(comparison)
        if n and n >= ctx.k:
            parts.append(
                f"the leave_date of the {n} of the {of} never-certified engineers who are "
                f"roster engineers with no PR in their last {IDLE_PERIODS.get(unit, 6)} "
                f"{unit}s or more, if they left (the data-health page lists them)"
            )
        elif n:
            parts.append(
                "the leave_date of never-certified roster engineers with no PR in their last "
                "months, if they left (the data-health page lists them)"
            )
    if not ctx.filters.get("teams"):
        parts.append("the roster's teams: -p teams=[...]")
    return ", or ".join(parts)


def adoption_quiet_words(ctx: Context, outcome: str, result, rerun) -> str | None:
    """The quiet-end caveat of an adoption DiD's overall effect (None: none to say).

    ``result`` is the :class:`~certkit.analytics.adoption_result.AdoptionResult`; ``rerun``
    builds it again from a panel (the periods before the quiet ones). Trial V,
    continuedev/continue: "after adopting AI, PR cycle time about +2396%" rested on 2
    adopters' last months, when the project had gone quiet."""
    from certkit.narrative.quiet import quiet_end_words

    head = result.tidy().row(0, named=True)

    def again(before: pl.DataFrame):
        r = rerun(before).tidy().row(0, named=True)
        return r, int(r.get("n") or 0)

    keys = _rerun_without_quiet_end(ctx, ctx.adoption_panel, head["p_value"], again)
    if not keys:
        return None
    row = {"outcome": outcome, "estimate": head["estimate"], "p_value": head["p_value"]}
    return quiet_end_words(row | keys | {"quiet_who": "adopters"})


def adoption_level_words(ctx: Context, outcome: str, result) -> str | None:
    """The level-gap caveat of an adoption DiD's overall effect (None: none to say): the
    adopters' level before adopting against the never-adopters' (trial W,
    continuedev/continue: 4 adopters at 22.9 merged PRs a month against 249 never-adopters
    at 0.59, "-11.1 PRs ... interval excludes zero" with no word of it)."""
    from certkit.narrative.quiet import level_gap_words

    head = result.tidy().row(0, named=True)
    d, time = result.data, result.spec["time"]
    if outcome not in d.columns:
        return None
    pre = d.filter((pl.col("adoption_cohort") > 0) & (pl.col(time) < pl.col("adoption_cohort")))
    never = d.filter(pl.col("adoption_cohort") == 0)
    row = {
        "outcome": outcome,
        "estimate": head["estimate"],
        "p_value": head["p_value"],
        "baseline": pre[outcome].mean() if pre.height else None,
        "comparison_level": never[outcome].mean() if never.height else None,
        "comparison_engineers": never["engineer_id"].n_unique() if never.height else 0,
        "gap_control": "engineers who never adopted AI",
        "gap_treated": "adopters",
        "gap_event": "adopting",
        "gap_fix": "the roster's teams: -p teams=[...]",
    }
    return level_gap_words(row, ALPHA, ctx.k)
