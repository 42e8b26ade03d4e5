"""The report notebooks' per-outcome and per-certification runs, out of the notebook cells.

A report page estimates the same thing for several outcomes (or certifications): each run
goes in its own :meth:`~certkit.report.Context.section` (a run the data cannot support says
why and the page goes on), respects the privacy threshold (``ctx.require``), collects its
warnings into the page's notes and records its headline for the landing page. The estimators
are the public ones (:mod:`certkit.did`, :mod:`certkit.matching`, :mod:`certkit.roi`); the
words come from :mod:`certkit.narrative`. Notebook cells call these functions and display
what they return.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from certkit import narrative as story
from certkit.errors import CertkitError
from certkit.privacy import certified_engineers
from certkit.report.context import Context, collect_warnings, filter_dataset, table
from certkit.report.sections import chart

#: Comparison groups of the DiD notebooks (the ``control_group`` parameter, "-" or "_").
CONTROL_GROUPS = ("not_yet", "never")


def did_spec(control_group: str, method: str = "dr") -> dict:
    """The column and estimator settings shared by every DiD estimate of a page.

    Parameters
    ----------
    control_group
        ``"not_yet"`` / ``"not-yet"`` or ``"never"`` (the comparison group).
    method
        Callaway-Sant'Anna estimation method (``"dr"``, ``"ipw"``, ``"reg"``).

    Returns
    -------
    dict
        Keyword arguments for :func:`certkit.did.att_gt`, ``event_study`` and ``compare_twfe``.
    """
    control = control_group.replace("-", "_")
    if control not in CONTROL_GROUPS:
        raise CertkitError(f"control_group must be 'not_yet' or 'never', not {control_group!r}")
    return dict(
        unit="engineer_id", time="period_index", group="cohort", control=control, method=method
    )


# ---------------------------------------------------------------------------------------------
# Staggered DiD (notebook 02)
# ---------------------------------------------------------------------------------------------


@dataclass
class DiDEffects:
    """Per-outcome staggered DiD: the effect rows, and the event-study points to draw."""

    outcomes: list[str]
    effects: pl.DataFrame
    studies: dict[str, tuple[pl.DataFrame, str]] = field(default_factory=dict)

    def pre_trends(self, outcome: str) -> str:
        """The pre-trend check of ``outcome`` in words."""
        row = self.effects.filter(pl.col("outcome") == outcome)
        return row["pre_trends"][0] if row.height else ""

    def event_study_displays(self) -> list:
        """Per outcome: its event-study chart and pre-trend sentence, or why there is none."""
        from IPython.display import Markdown

        from certkit import charts

        out: list = []
        for outcome in self.outcomes:
            if outcome not in self.studies:
                why = story.why(self.effects, outcome)
                out.append(Markdown(f"*{story.label(outcome)}: no event study ({why}).*"))
                continue
            points, hidden = self.studies[outcome]
            out.append(
                chart(
                    charts.event_study,
                    points,
                    empty=hidden or "no event time has a finite estimate",
                    title=f"{story.label(outcome)}: effect by periods since certification",
                    y_title=f"effect on {outcome}",
                )
            )
            out.append(
                Markdown(
                    f"*Pre-trend check ({story.label(outcome)}):* "
                    f"{self.pre_trends(outcome)} {hidden}"
                )
            )
        return out


def did_effects(
    ctx: Context,
    outcomes: list[str],
    spec: dict,
    *,
    min_e: int,
    max_e: int,
    notes: list[str],
    section: str = "Summary",
) -> DiDEffects:
    """The overall effect (simple aggregation) and event study of each outcome.

    Every row is an effect row of :func:`certkit.narrative.effect_of` (or ``not_estimated``)
    with ``pre_trends`` and ``certified_engineers``; its headline is recorded under
    ``section``. ``spec`` is :func:`did_spec`.
    """
    from certkit import did

    studies, rows = {}, []
    for outcome in outcomes:
        n = 0
        with ctx.section(story.label(outcome), story.DID_NEEDS, show=False, sink=notes) as s:
            n = certified_engineers(ctx.panel, outcome)
            ctx.require(n, f"the {story.label(outcome)} estimate")
            with collect_warnings(notes, f"{outcome}: "):
                es = did.event_study(ctx.panel, outcome=outcome, min_e=min_e, max_e=max_e, **spec)
                overall = did.att_gt(ctx.panel, outcome=outcome, **spec).aggregate("simple")
            row = story.effect_of(outcome, overall, ctx.panel)
            points, hidden = ctx.event_points(
                es.to_polars().rename({"e": "event_time", "att": "estimate"}), outcome
            )
            row["pre_trends"] = story.pretrend_words(points, es.pretrend_verdict)
            studies[outcome] = (points, hidden)
        if not s.ok:
            row = story.not_estimated(outcome, s.explanation) | {"pre_trends": ""}
        rows.append(row | {"certified_engineers": n})
        ctx.effect_headline(
            rows[-1] | {"needs": story.DID_NEEDS},
            design="staggered DiD",
            comparison=f"{spec['control'].replace('_', '-')}-certified engineers",
            section=section,
        )
    return DiDEffects(list(outcomes), pl.DataFrame(rows), studies)


def twfe_contrast(ctx: Context, outcomes: list[str], spec: dict, notes: list[str]) -> pl.DataFrame:
    """TWFE next to Callaway-Sant'Anna per outcome (:func:`certkit.did.compare_twfe`).

    Both sides use ``spec`` (comparison group and method), so the Callaway-Sant'Anna column
    is the page's headline estimate. Columns: ``outcome`` (label), ``TWFE``,
    ``Callaway-Sant'Anna``, ``difference``, ``verdict`` (or why it was not estimated).
    """
    from certkit import did

    rows = []
    for outcome in outcomes:
        with ctx.section(f"TWFE, {story.label(outcome)}", show=False, sink=notes) as s:
            ctx.require(certified_engineers(ctx.panel, outcome), "the TWFE estimate")
            with collect_warnings(notes, f"TWFE, {outcome}: "):
                cmp = did.compare_twfe(ctx.panel, outcome=outcome, **spec)
            item = {
                "outcome": story.label(outcome),
                "TWFE": cmp.twfe.estimate,
                "Callaway-Sant'Anna": cmp.cs.overall_att,
                "difference": cmp.difference,
                "verdict": cmp.verdict,
            }
        if not s.ok:
            item = {"outcome": story.label(outcome), "verdict": f"not estimated: {s.reason}"}
        rows.append(item)
    return pl.DataFrame(rows, infer_schema_length=None)


def honest_sections(
    ctx: Context,
    outcomes: list[str],
    spec: dict,
    *,
    min_e: int,
    max_e: int,
    notes: list[str],
    section: str = "Sensitivity to non-parallel trends (HonestDiD)",
) -> dict:
    """HonestDiD (relative magnitudes) per outcome, displayed as it runs; the results by outcome.

    The event study uses the universal base period and at most ``max_e`` post periods (the
    method needs it; fewer periods keep it fast). Each outcome shows its sensitivity chart and
    :meth:`~certkit.did.HonestResult.effect_summary` and records a ``sensitivity`` headline.
    """
    from IPython.display import Markdown, display

    from certkit import charts, did

    results = {}
    for outcome in outcomes:
        with ctx.section(f"Sensitivity, {story.label(outcome)}", story.DID_NEEDS, sink=notes):
            ctx.require(certified_engineers(ctx.panel, outcome), "the sensitivity analysis")
            with collect_warnings(notes, f"sensitivity, {outcome}: "):
                universal = did.event_study(
                    ctx.panel,
                    outcome=outcome,
                    min_e=min_e,
                    max_e=max_e,
                    base_period="universal",
                    **spec,
                )
                sens = did.honest(result=universal, outcome=story.label(outcome))
            display(
                chart(
                    charts.sensitivity,
                    sens.plot_data(),
                    empty="no robust interval could be computed",
                    x_title="Mbar (post-certification violation / largest pre-certification one)",
                    title=f"{story.label(outcome)}: sensitivity to non-parallel trends",
                )
            )
            display(Markdown(sens.effect_summary()))
            ctx.headline(
                f"sensitivity/honest-did/{outcome}",
                {
                    "outcome": outcome,
                    "label": story.label(outcome),
                    "design": "HonestDiD",
                    "text": sens.effect_summary(),
                },
                kind="sensitivity",
                section=section,
                n=certified_engineers(ctx.panel, outcome),
            )
            results[outcome] = sens
    return results


def robustness_sections(
    ctx: Context,
    outcomes: list[str],
    spec: dict,
    *,
    notes: list[str],
    section: str = "Robustness: do other modern estimators agree?",
) -> dict:
    """:func:`certkit.did.robustness` per outcome, displayed as it runs; the results by outcome.

    Each outcome shows its verdict, table and forest chart and records a ``sensitivity``
    headline.
    """
    from IPython.display import Markdown, display

    from certkit import charts, did

    results = {}
    for outcome in outcomes:
        with ctx.section(f"Robustness, {story.label(outcome)}", story.DID_NEEDS, sink=notes):
            ctx.require(certified_engineers(ctx.panel, outcome), "the robustness panel")
            with collect_warnings(notes, f"robustness, {outcome}: "):
                rob = did.robustness(
                    ctx.panel, outcome=outcome, **{k: spec[k] for k in ("unit", "time", "group")}
                )
            display(Markdown(f"**{story.label(outcome)}.** {rob.verdict}"))
            ctx.headline(
                f"sensitivity/robustness/{outcome}",
                {
                    "outcome": outcome,
                    "label": story.label(outcome),
                    "design": "robust estimators",
                    "text": rob.verdict,
                },
                kind="sensitivity",
                section=section,
                n=certified_engineers(ctx.panel, outcome),
            )
            display(table(rob.to_polars().drop("statistic")))
            display(
                chart(
                    charts.forest,
                    rob.tidy(),
                    empty="no estimator gave a finite estimate",
                    y="term",
                    lower="conf_low",
                    upper="conf_high",
                    title=f"{story.label(outcome)}: robust estimators and TWFE (95% CI)",
                )
            )
            results[outcome] = rob
    return results


@dataclass
class PerCertification:
    """The overall effect per certification (holders vs engineers holding none of them)."""

    rows: pl.DataFrame
    left_out: list[str]
    min_holders: int
    enabled: bool = True

    def displays(self) -> list:
        """What was left out, the table and the forest chart (or why there is none)."""
        from IPython.display import Markdown

        from certkit import charts

        out: list = []
        if self.left_out:
            out.append(
                Markdown(
                    f"Left out (fewer than {self.min_holders} holders, too few for a separate "
                    "estimate): " + ", ".join(self.left_out) + "."
                )
            )
        if self.rows.height:
            cols = ["certification", "engineers", "label", "estimate", "ci_low", "ci_high"]
            out.append(table(self.rows.select(*cols, "p_value", "relative"), percent=["relative"]))
            out.append(
                chart(
                    charts.forest,
                    self.rows,
                    empty="no per-certification estimate is finite",
                    y="certification",
                    facet="label",
                    title="Overall effect by certification (95% CI)",
                )
            )
        else:
            why = (
                "the breakdown is disabled (`by_certification=False`)."
                if not self.enabled
                else "no certification has enough holders with estimable outcomes (see the "
                "notes at the end)."
            )
            out.append(Markdown("No per-certification estimate: " + why))
        return out


def per_certification(
    ctx: Context,
    outcomes: list[str],
    spec: dict,
    *,
    period: str,
    notes: list[str],
    enabled: bool = True,
) -> PerCertification:
    """The overall DiD effect of each certification with at least ``max(k, 5)`` holders.

    Each certification's panel is built from its holders and the engineers who hold none of
    the certifications (:func:`certkit.report.filter_dataset`); rows that could not be
    estimated are left out (their reasons go to ``notes``).
    """
    from certkit import did
    from certkit.data.panel import build_panel

    need = max(ctx.k, 5)
    rows, left_out = [], []
    if not enabled:
        return PerCertification(pl.DataFrame(), [], need, enabled=False)
    holders = ctx.ds.certifications.group_by("certification_id").agg(
        pl.col("engineer_id").n_unique().alias("engineers")
    )
    for cert, n in holders.sort("engineers", descending=True).iter_rows():
        if n < need:
            left_out.append(f"{cert} ({n} engineer{'s' if n != 1 else ''})")
            continue
        with ctx.section(cert, show=False, sink=notes):
            with collect_warnings(notes, f"{cert}: "):
                panel = build_panel(filter_dataset(ctx.ds, certifications=[cert]), period)
            for outcome in outcomes:
                with ctx.section(f"{cert}, {story.label(outcome)}", show=False, sink=notes):
                    ctx.require(certified_engineers(panel, outcome), f"the {cert} estimate")
                    with collect_warnings(notes, f"{cert}, {outcome}: "):
                        agg = did.att_gt(panel, outcome=outcome, **spec).aggregate("simple")
                    r = story.effect_of(outcome, agg, panel)
                    if not r["note"]:
                        rows.append({"certification": cert, "engineers": n} | r)
    return PerCertification(pl.DataFrame(rows), left_out, need)


# ---------------------------------------------------------------------------------------------
# Matched cohorts (notebook 03)
# ---------------------------------------------------------------------------------------------

#: Columns the matched-effects table adds to the effect rows (null when not estimated).
MATCHED_COLUMNS = ("certified_engineers", "matched_sets", "critical_gamma", "e_value")


@dataclass
class MatchedEffects:
    """Per-outcome matched DiD: effect rows, the results, and their balance in brief."""

    outcomes: list[str]
    effects: pl.DataFrame
    results: dict = field(default_factory=dict)

    def balance(self) -> pl.DataFrame:
        """Per estimated outcome: the largest |SMD| before and after matching, terms over 0.1."""
        from certkit.matching import balance_summary

        return pl.DataFrame(
            [
                {"outcome": story.label(o)} | balance_summary(r.balance())
                for o, r in self.results.items()
            ],
            schema={
                "outcome": pl.String,
                "max |SMD| before": pl.Float64,
                "max |SMD| after": pl.Float64,
                "terms over 0.1 after": pl.Int64,
            },
        )

    def summary_lines(self, ctx: Context, section: str) -> list[str]:
        """Balance and hidden-confounding sentences for the summary.

        Each significant effect's sensitivity sentence is also recorded as a ``sensitivity``
        headline under ``section``.
        """
        worst = self.balance()["max |SMD| after"].drop_nans().max()
        lines = story.describe_balance(worst)
        for r in self.effects.filter(pl.col("p_value") < 0.05).iter_rows(named=True):
            g = r["critical_gamma"]
            if g is not None and g == g and r["e_value"] is not None:
                lines.append(describe_sensitivity_row(r))
                ctx.headline(
                    f"sensitivity/rosenbaum/{r['outcome']}",
                    {"outcome": r["outcome"], "label": r["label"], "design": "Rosenbaum bounds"}
                    | {"text": lines[-1].split(": ", 1)[1]},
                    kind="sensitivity",
                    section=section,
                    n=r["certified_engineers"],
                )
        return lines

    def love_plot(self):
        """The Love plot of the first estimated outcome's matching."""
        from certkit import charts

        if not self.results:
            raise story.NotEstimated("no outcome could be matched (see the summary)")
        first = next(iter(self.results))
        b = self.results[first].balance().filter(pl.col("term") != "distance")
        love = b.pivot(on="sample", index="term", values="smd").rename(
            {"term": "covariate", "all": "smd_before", "matched": "smd_after"}
        )
        return chart(
            charts.love_plot,
            love,
            empty="no covariate has a finite standardized difference",
            title=f"Covariate balance (matching for {story.label(first)})",
        )

    def event_study_displays(self, ctx: Context) -> list:
        """Per outcome: its matched event-study chart (privacy-checked), or why there is none."""
        from IPython.display import Markdown

        from certkit import charts

        out: list = []
        for outcome in self.outcomes:
            if outcome not in self.results:
                why = story.why(self.effects, outcome)
                out.append(Markdown(f"*{story.label(outcome)}: not estimated ({why}).*"))
                continue
            points, hidden = ctx.event_points(
                self.results[outcome].to_polars(), outcome, count="n_pairs"
            )
            out.append(
                chart(
                    charts.event_study,
                    points,
                    empty=hidden or "no period has a finite estimate",
                    y="estimate",
                    lower="conf_low",
                    upper="conf_high",
                    title=f"{story.label(outcome)}: matched DiD by periods since certification",
                    y_title=f"effect on {outcome}",
                )
            )
            if hidden:
                out.append(Markdown(f"*{hidden}*"))
        return out

    def sensitivity_displays(self) -> list:
        """Per estimated outcome: its Rosenbaum bounds table (or why there is none)."""
        from IPython.display import Markdown

        out: list = []
        for outcome, res in self.results.items():
            t = res.sensitivity().to_polars()
            if t.height:
                out += [Markdown(f"**{story.label(outcome)}**"), table(t)]
        if not out:
            msg = "No sensitivity analysis: no outcome was estimated (see the summary)."
            out.append(Markdown(msg))
        return out


def describe_sensitivity_row(row: dict) -> str:
    """The hidden-confounding sentence of a matched-effects row (critical gamma, E-value)."""
    return story.describe_confounding(row["label"], row["critical_gamma"], row["e_value"])


def matched_effects(
    ctx: Context,
    outcomes: list[str],
    *,
    covariates: list[str],
    pre_periods: int,
    post_periods: int,
    caliper: float | None,
    notes: list[str],
    section: str = "Summary",
) -> MatchedEffects:
    """:func:`certkit.matching.matched_did` per outcome, as effect rows with its sensitivity.

    Every row is an effect row of :func:`certkit.narrative.effect_of` (or ``not_estimated``)
    with :data:`MATCHED_COLUMNS`; its headline is recorded under ``section``.
    """
    from certkit import matching

    results, rows = {}, []
    for outcome in outcomes:
        with ctx.section(story.label(outcome), story.MATCHING_NEEDS, show=False, sink=notes) as s:
            with collect_warnings(notes, f"{outcome}: "):
                res = matching.matched_did(
                    ctx.panel,
                    outcome=outcome,
                    covariates=covariates,
                    pre_periods=pre_periods,
                    post_periods=post_periods,
                    caliper=caliper,
                )
            ctx.require(res.n_treated, f"the matched {story.label(outcome)} estimate")
            row = story.effect_of(outcome, res, ctx.panel)
            sens = res.sensitivity()
            row |= {
                "certified_engineers": res.n_treated,
                "matched_sets": res.n_pairs,
                "critical_gamma": sens.critical_gamma,
                "e_value": sens.e_value,
            }
            results[outcome] = res
            notes += [f"{outcome}: {w}" for w in res.warnings if f"{outcome}: {w}" not in notes]
        if not s.ok:
            row = story.not_estimated(outcome, s.explanation)
        rows.append(row)
        ctx.effect_headline(
            row | {"needs": story.MATCHING_NEEDS},
            design="matched DiD",
            comparison="matched peers (similar role, level, platform, tenure, recent outcomes)",
            section=section,
        )
    effects = pl.DataFrame(rows, infer_schema_length=None)
    for col in MATCHED_COLUMNS:
        if col not in effects.columns:
            effects = effects.with_columns(pl.lit(None, dtype=pl.Float64).alias(col))
    return MatchedEffects(list(outcomes), effects, results)


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
        with ctx.section(story.label(outcome), story.DID_NEEDS, show=False, sink=notes) as s:
            n = certified_engineers(ctx.panel, outcome)
            ctx.require(n, f"the {story.label(outcome)} effect")
            with collect_warnings(notes, f"{outcome}: "):
                agg = did.att_gt(ctx.panel, outcome=outcome, **spec).aggregate("simple")
            row = story.effect_of(outcome, agg, ctx.panel)
            if row["note"]:
                raise story.NotEstimated(row["note"])
            effects.append(roi.from_result(agg, unit=unit, name=story.label(outcome)))
        rows.append(row if s.ok else story.not_estimated(outcome, s.explanation))
    return effects, pl.DataFrame(rows, infer_schema_length=None)


def roi_answer(ctx: Context, result, answer, *, horizon_months: float, section: str):
    """The ROI answer box (an HTML display object); records the ``roi`` headline.

    ``result`` is the :class:`certkit.roi.ROIResult` or None when ``answer`` (the section
    that ran :func:`certkit.roi.roi`) failed; then the box says why.
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
    central = result.central()
    lo, hi = result.roi_interval
    ctx.headline(
        "roi",
        dict(median=result.roi_median, low=lo, high=hi, p_positive=result.p_positive)
        | dict(cost_per_engineer=central["cost_per_engineer"], horizon_months=horizon_months),
        kind="roi",
        section=section,
    )
    figures = story.describe_roi_figures(
        result.roi_median,
        lo,
        hi,
        result.p_positive,
        central["cost_per_engineer"],
        ctx.ds.certifications["engineer_id"].n_unique(),
        result.level,
    )
    return HTML(
        "<div class='certkit-callout'>"
        f"<p style='font-size:1.15em'><b>{html.escape(result.statement())}</b></p>"
        f"<p>{html.escape(figures)}</p></div>"
    )


def assumptions_table(assumptions: dict):
    """The money assumptions as a two-column table (or a note that the defaults apply)."""
    from IPython.display import Markdown

    shown = pl.DataFrame(
        [{"assumption": k, "value": str(v)} for k, v in sorted(assumptions.items())],
        schema={"assumption": pl.String, "value": pl.String},
    )
    return (
        table(shown) if shown.height else Markdown("Default money assumptions (see `certkit.roi`).")
    )
