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


def without_quiet_end(ctx: Context, outcome: str, spec: dict, row: dict) -> dict:
    """``quiet_*`` keys for the effect row ``row`` of ``outcome``: the quiet periods (first,
    count, share of the usual activity, unit) and the simple aggregation of ``att_gt`` with
    ``spec`` on the periods before them (``quiet_estimate`` None when it cannot be formed).
    Empty when the data's end is not quiet or the row's effect is not clear at 5% (only a
    clear effect is tempered by it)."""
    from certkit import did

    quiet, p = ctx.quiet_end, row.get("p_value")
    if quiet is None or not (isinstance(p, int | float) and p < ALPHA):
        return {}
    out = {
        "quiet_from": quiet.start.isoformat(),
        "quiet_periods": quiet.periods,
        "quiet_share": quiet.share,
        "quiet_unit": ctx.period_unit,
        "quiet_estimate": None,
    }
    before = ctx.panel.filter(
        pl.col("period") < pl.lit(quiet.start).cast(ctx.panel["period"].dtype)
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            agg = did.att_gt(before, outcome=outcome, **spec).aggregate("simple")
        r = agg.headline().row(0, named=True)
    except (CertkitError, ValueError, ZeroDivisionError):
        return out
    n = agg.n_engineers
    return out | {
        "quiet_estimate": r["estimate"],
        "quiet_low": r["conf_low"],
        "quiet_high": r["conf_high"],
        "quiet_p": r["p_value"],
        # a shared report gives the verdict, not the numbers, of an estimate on fewer than k
        # certified engineers (review E: "+4.01 (95% CI ...)" on 3 engineers, k = 5)
        "quiet_hidden": ctx.k if ctx.privacy.share and n < ctx.k else None,
    }


def comparison_level(ctx: Context, outcome: str) -> dict:
    """``comparison_level`` and ``comparison_engineers``: the never-certified engineers' mean
    ``outcome`` and their number (for :func:`certkit.narrative.quiet.level_gap_words`)."""
    never = ctx.panel.filter((pl.col("cohort") == 0) & pl.col(outcome).is_not_null())
    if not never.height:
        return {}
    return {
        "comparison_level": float(never[outcome].mean()),
        "comparison_engineers": never["engineer_id"].n_unique(),
    }


def adoption_quiet_words(ctx: Context, outcome: str, result, rerun) -> str | None:
    """The quiet-end caveat of an adoption DiD's overall effect (None: none to say).

    ``result`` is the :class:`~certkit.analytics.adoption_result.AdoptionResult`; ``rerun``
    builds it again from a panel (the periods before the quiet ones). Trial V,
    continuedev/continue: "after adopting AI, PR cycle time about +2396%" rested on 2
    adopters' last months, when the project had gone quiet."""
    from certkit.narrative.quiet import quiet_end_words

    quiet = ctx.quiet_end
    head = result.tidy().row(0, named=True)
    row = {"outcome": outcome, "estimate": head["estimate"], "p_value": head["p_value"]}
    if quiet is None or not (isinstance(row["p_value"], int | float) and row["p_value"] < ALPHA):
        return None
    row |= {
        "quiet_from": quiet.start.isoformat(),
        "quiet_periods": quiet.periods,
        "quiet_share": quiet.share,
        "quiet_unit": ctx.period_unit,
        "quiet_estimate": None,
    }
    panel = ctx.adoption_panel
    before = panel.filter(pl.col("period") < pl.lit(quiet.start).cast(panel["period"].dtype))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            again = rerun(before).tidy().row(0, named=True)
    except (CertkitError, ValueError, ZeroDivisionError):
        return quiet_end_words(row)
    n = int(again.get("n") or 0)
    row |= {
        "quiet_estimate": again["estimate"],
        "quiet_low": again["conf_low"],
        "quiet_high": again["conf_high"],
        "quiet_p": again["p_value"],
        "quiet_hidden": ctx.k if ctx.privacy.share and n < ctx.k else None,
        "quiet_who": "adopters",
    }
    return quiet_end_words(row)
