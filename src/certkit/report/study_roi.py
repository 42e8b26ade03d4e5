"""The ROI report's effects and answer box (notebook 05); re-exported by
:mod:`certkit.report.studies`."""

from __future__ import annotations

import warnings

import polars as pl

from certkit import narrative as story
from certkit.privacy import certified_engineers
from certkit.report.context import Context, collect_warnings, table
from certkit.report.study_quiet import tempering

# ---------------------------------------------------------------------------------------------
# ROI (notebook 05)
# ---------------------------------------------------------------------------------------------

#: Panel outcome -> ROI unit of its effect (:data:`certkit.roi.UNITS`), per engineer-month.
ROI_UNITS = {
    "merged_prs": "prs_per_month",
    "defects_per_pr": "defects_per_pr",
    "incidents": "incidents_per_month",
}


def roi_effects(
    ctx: Context, spec: dict, *, notes: list[str], units: dict[str, str] | None = None
) -> tuple[list, pl.DataFrame]:
    """The DiD effects the ROI is built on: :class:`certkit.roi.Effect` list and effect rows.

    One simple-aggregated Callaway-Sant'Anna effect per outcome of ``units`` (default
    :data:`ROI_UNITS`); an outcome that cannot be estimated gets a ``not_estimated`` row and
    no effect.
    """
    from certkit import did, roi

    effects, rows = [], []
    for outcome, unit in (units or ROI_UNITS).items():
        # no sink: the summary's bullet for the outcome says why it was not estimated
        with ctx.section(story.label(outcome), story.DID_NEEDS, show=False) as s:
            ctx.recorded(outcome)
            n = certified_engineers(ctx.panel, outcome)
            ctx.require(n, f"the {story.label(outcome)} effect")
            with collect_warnings(notes, f"{outcome}: "):
                agg = did.att_gt(ctx.panel, outcome=outcome, **spec).aggregate("simple")
            ctx.require(agg.n_engineers, f"the {story.label(outcome)} effect")
            row = story.effect_of(outcome, agg, ctx.panel) | {"certified_engineers": n}
            if row["note"]:
                raise story.NotEstimated(row["note"])
            with warnings.catch_warnings():  # said on the certification impact page
                warnings.simplefilter("ignore")
                es = did.event_study(ctx.panel, outcome=outcome, min_e=-6, max_e=12, **spec)
            row["pretrend_p"] = es.pretrend_pvalue  # the ROI repeats a failed pre-trend test
            row |= tempering(ctx, outcome, spec, row, agg.parent)  # and an effect of a quiet end
            # an SE on one-engineer cohorts is used, and said: the page's caveat for the
            # effect (effect_caveat) names the share of weight on them (trial AE, H2)
            effects.append(
                roi.from_result(agg, unit=unit, name=story.label(outcome), allow_unreliable_se=True)
            )
        rows.append(row if s.ok else story.not_estimated(outcome, s.explanation))
    return effects, pl.DataFrame(rows, infer_schema_length=None)


def leaver_caveat(ctx: Context, horizon_months: float) -> str | None:
    """Certified engineers the ROI values who left before ``horizon_months`` after certifying:
    the ROI counts the whole horizon of benefit for each (trial AE, getsentry/sentry-python:
    an engineer who left 7 months after certifying counted 12). None when there are none; a
    shared report does not count a group under k."""
    engineers = ctx.ds.engineers
    if "leave_date" not in engineers.columns or not ctx.panel.height:
        return None
    valued = (
        ctx.panel.filter(pl.col("cohort") > 0)
        .group_by("engineer_id")
        .agg(pl.col("earned_date").first())
    )
    left = valued.join(
        engineers.select("engineer_id", "leave_date").drop_nulls(), on="engineer_id"
    ).with_columns(
        (
            (
                pl.col("leave_date").cast(pl.Date) - pl.col("earned_date").cast(pl.Date)
            ).dt.total_days()
            / 30.4375
        ).alias("months")
    )
    early = left.filter(pl.col("months") < horizon_months)
    if early.is_empty():
        return None
    n, of = early.height, valued.height
    shown = n >= ctx.k or not ctx.privacy.share  # a group under k: not counted when shared
    who = f"{n} of the {of}" if shown else "some of the"
    stayed = f" (after {early['months'].mean():.0f} months on average)" if shown else ""
    return (
        f"{who} certified engineers it values left within {horizon_months:g} months of "
        f"certifying{stayed}, yet each is counted with {horizon_months:g} months of benefit: "
        "the ROI overstates theirs."
    )


def roi_engineers(ctx: Context) -> tuple[int, int]:
    """``(valued, in_data)``: the certified engineers the panel holds as certified inside the
    window (the effects rest on them, and the ROI values them), and all engineers with a
    certification in the data. An engineer certified before their first observed period is
    left out of the panel, one certified after its end compares as never certified (trial G,
    xarray: "15 engineers certified in the data" beside effects on 14)."""
    panel = ctx.panel
    valued = panel.filter(pl.col("cohort") > 0)["engineer_id"].n_unique() if panel.height else 0
    return valued, ctx.ds.certifications["engineer_id"].n_unique()


def roi_caveats(rows: pl.DataFrame, k: int | None = None) -> list[str]:
    """Why the effects the ROI is built on should not be read at face value (one sentence
    per effect, :func:`certkit.narrative.effect_caveat`; ``k`` the privacy threshold):
    golang/net's ROI valued a fall of throughput larger than the engineers' own level,
    cargo's a failed pre-trend test."""
    out = []
    for r in rows.iter_rows(named=True):
        caveat = None if r.get("note") else story.effect_caveat(r, k=k)
        if caveat:
            out.append(f"{r['label']}: {caveat}")
    return out


def roi_not_evidence(rows: pl.DataFrame) -> bool:
    """Whether every clear effect the ROI prices is one its own caveat says not to read as
    evidence (:func:`certkit.narrative.effects.not_evidence`): the ROI then rests on no
    evidence of an effect (trial V: "median ROI -459% ... chance of a positive return under
    1%" led the page and the index, on a throughput effect of a project's quiet months)."""
    clear = [
        r
        for r in rows.iter_rows(named=True)
        if not r.get("note") and story._finite(r.get("p_value")) and r["p_value"] < 0.05
    ]
    return bool(clear) and all(story.not_evidence(r) for r in clear)


def roi_answer(
    ctx: Context,
    result,
    answer,
    *,
    horizon_months: float,
    section: str,
    caveats: list[str] | None = None,
    undone: bool = False,
):
    """The ROI answer box (an HTML display object); records the ``roi`` headline.

    ``result`` is the :class:`certkit.roi.ROIResult` or None when ``answer`` (the section
    that ran :func:`certkit.roi.roi`) failed; then the box says why. ``undone``
    (:func:`roi_not_evidence`): the box and the landing line lead with the interval, not a
    median, and say the effects are no evidence.
    """
    import html

    from IPython.display import HTML

    if result is None:
        ctx.headline(
            "roi", {"note": answer.reason or "no effect to price"}, kind="roi", section=section
        )
        return HTML(
            "<div class='certkit-callout'><p style='font-size:1.15em'><b>No ROI estimate on "
            "this data.</b></p></div>" + answer.html()
        )
    # the same number as the table below (the simulations' median)
    cost = result.tidy().filter(pl.col("term") == "cost_per_engineer")["estimate"][0]
    lo, hi = result.roi_interval
    warn = "It rests on effects to read with care: " + "; ".join(caveats) + "." if caveats else None
    gone = leaver_caveat(ctx, horizon_months)
    if gone:
        warn = f"{warn} {gone}" if warn else gone
    significant = result.significant and not undone
    ctx.headline(
        "roi",
        dict(median=result.roi_median, low=lo, high=hi, p_positive=result.p_positive)
        | dict(cost_per_engineer=cost, horizon_months=horizon_months, caveat=warn)
        | dict(significant=significant, not_evidence=undone),
        kind="roi",
        section=section,
    )
    valued, in_data = roi_engineers(ctx)
    # a shared report does not count a group of fewer than k engineers (trial T)
    under = ctx.k if ctx.privacy.share and 0 < in_data - valued < ctx.k else None
    figures = story.describe_roi_figures(
        result.roi_median,
        lo,
        hi,
        result.p_positive,
        cost,
        valued,
        result.level,
        significant=significant,
        in_data=in_data,
        others_under=under,
    )
    lead = result.statement()
    if undone:
        lead = (
            "No evidence of a return either way: the effects this ROI prices are clear on the "
            "numbers only, and their own caveats (below) say not to read them as evidence of "
            "an effect. Read the interval, not a single figure."
        )
    return HTML(
        "<div class='certkit-callout'>"
        f"<p style='font-size:1.15em'><b>{html.escape(lead)}</b></p>"
        f"<p>{html.escape(figures)}</p>"
        + (f"<p><b>Caution.</b> {html.escape(warn)}</p>" if warn else "")
        + "</div>"
    )


#: ROIResult.to_polars() metric -> (label, how its numbers read)
ROI_METRICS = {
    "roi": ("ROI (net value / cost)", "percent"),
    "net_value_per_engineer": ("net value per certified engineer", "money"),
    "benefit_per_engineer": ("benefit per certified engineer", "money"),
    "cost_per_engineer": ("cost per certified engineer", "money"),
    "payback_months": ("payback (months)", "months"),
    "net_value_program": ("net value of the programme", "money"),
}


def roi_figure(value: float | None, kind: str) -> str:
    """One ROI number as the table shows it: ``+74%``, ``$8,297``, ``6.9``; a dash or
    ``never`` for a missing or infinite value (a payback the benefit never reaches)."""
    import math

    if value is None or math.isnan(value):
        return "–"
    if math.isinf(value):
        return "never" if kind == "months" and value > 0 else "–"
    if kind == "percent":
        return f"{value:+.0%}"
    if kind == "money":
        return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"
    return f"{value:,.1f}"


def roi_table(result) -> pl.DataFrame:
    """:meth:`certkit.roi.ROIResult.to_polars` for readers: labels, percents, dollars and
    months with one decimal (the page showed ``0.744`` for +74% and ``465.975`` months)."""
    t = result.to_polars()
    rows = []
    for r in t.iter_rows(named=True):
        label, kind = ROI_METRICS.get(r["metric"], (r["metric"], "number"))
        if r["metric"] == "net_value_program":
            label += f" ({result.n_engineers:,} engineer{'s' if result.n_engineers != 1 else ''})"
        rows.append(
            {"": label}
            | {
                # an infinite mean payback: some draws never pay back (the quantiles say how many)
                name: roi_figure(r[col], "number" if col == "mean" else kind)
                if kind == "months" and col == "mean" and r[col] == float("inf")
                else roi_figure(r[col], kind)
                for name, col in (
                    ("median", "median"),
                    ("mean", "mean"),
                    (f"{result.level:.0%} interval, low", "ci_low"),
                    ("high", "ci_high"),
                )
            }
        )
    return pl.DataFrame(rows)


def assumptions_table(assumptions: dict, units: list[str] | None = None):
    """The money assumptions as a table (or a note that the defaults apply); with the
    ``units`` of the effects valued, those no effect or cost reads are marked unused."""
    from IPython.display import Markdown

    from certkit.analytics.roi_model import unused_assumptions

    unused = set(unused_assumptions(units, list(assumptions))) if units is not None else set()
    shown = pl.DataFrame(
        [
            {
                "assumption": k,
                "value": str(v),
                "used": "not used: no effect valued here reads it" if k in unused else "yes",
            }
            for k, v in sorted(assumptions.items())
        ],
        schema={"assumption": pl.String, "value": pl.String, "used": pl.String},
    )
    if units is None:
        shown = shown.drop("used")
    return (
        table(shown) if shown.height else Markdown("Default money assumptions (see `certkit.roi`).")
    )
