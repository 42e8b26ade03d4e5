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

from contextlib import contextmanager
from dataclasses import dataclass, field

import polars as pl

from certkit import narrative as story
from certkit.analytics.adoption_result import amount_words
from certkit.data import dating
from certkit.errors import CertkitError
from certkit.narrative.base_period import no_base_period
from certkit.privacy import certified_engineers
from certkit.report.context import Context, collect_warnings, filter_dataset, table
from certkit.report.sections import chart
from certkit.report.study_adoption import AdoptionStudy, adoption_study
from certkit.report.study_ai import AIStudy, ai_study
from certkit.report.study_matched import (
    MATCHED_COLUMNS,
    MatchedEffects,
    describe_sensitivity_row,
    matched_effects,
)
from certkit.report.study_quiet import tempering
from certkit.report.study_roi import (
    ROI_UNITS,
    assumptions_table,
    roi_answer,
    roi_caveats,
    roi_effects,
    roi_engineers,
    roi_figure,
    roi_not_evidence,
    roi_table,
)

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

    @property
    def not_estimated(self) -> list[str]:
        """The outcomes without an overall effect: the later sections skip them (also one
        whose estimate is not a finite number: click's cycle time had no estimate on the
        landing page but a robust-estimators line beside it)."""
        noted = set()
        if "note" in self.effects.columns:
            noted = set(self.effects.filter(pl.col("note").is_not_null())["outcome"].to_list())
        return [o for o in self.outcomes if o not in self.studies or o in noted]

    def pre_trends(self, outcome: str) -> str:
        """The pre-trend check of ``outcome`` in words."""
        row = self.effects.filter(pl.col("outcome") == outcome)
        return row["pre_trends"][0] if row.height else ""

    def event_study_displays(self) -> list:
        """Per outcome: its event-study chart and pre-trend sentence, or why there is none."""
        from IPython.display import Markdown

        from certkit import charts

        out: list = []
        if self.not_estimated:
            out.append(Markdown(story.skipped_outcomes(self.not_estimated)))
        for outcome in self.outcomes:
            if outcome in self.not_estimated:
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
        n, support = 0, {}
        # no sink: the summary's bullet for the outcome says why it was not estimated
        with ctx.section(story.label(outcome), story.DID_NEEDS, show=False) as s:
            ctx.recorded(outcome)
            n = certified_engineers(ctx.panel, outcome)
            if n == 0:
                approx = dating.approximated_dates(ctx.ds)
                merged = ctx.ds.pull_requests["merged_date"].is_not_null().sum()
                dated = dating.dated_merged_prs(ctx.ds)
                raise CertkitError(
                    story.no_certified_data(outcome, approx, int(merged), ctx.outside_window, dated)
                )
            ctx.require(n, f"the {story.label(outcome)} estimate")
            empty_base = no_base_period(ctx.panel, outcome, story.label(outcome))
            if empty_base:
                raise CertkitError(empty_base)
            with collect_warnings(notes, f"{outcome}: "):
                es = did.event_study(ctx.panel, outcome=outcome, min_e=min_e, max_e=max_e, **spec)
                overall = did.att_gt(ctx.panel, outcome=outcome, **spec).aggregate("simple")
            # the engineers the estimate rests on (observed in the base period too), fewer
            # than those with any value (golang/net's cycle time: 4 of 11)
            # the wider counts the page's other sections use (small cohorts: every certified
            # engineer with the outcome; robust estimators: before and after), so the headline
            # says which engineers its count is (trial I, glib: 4, 7 and 8 on one page)
            support = {
                "certified_before_after": n,
                "certified_with_outcome": ctx.panel.filter(
                    (pl.col("cohort") > 0) & pl.col(outcome).is_not_null()
                )["engineer_id"].n_unique(),
            }
            n = overall.n_engineers
            ctx.require(n, f"the {story.label(outcome)} estimate")
            row = story.effect_of(outcome, overall, ctx.panel) | support
            points, hidden = ctx.event_points(
                es.to_polars().rename({"e": "event_time", "att": "estimate"}),
                outcome,
                count="n_treated",
            )
            row["pre_trends"] = story.pretrend_words(points, es.pretrend_verdict)
            row["pretrend_p"] = es.pretrend_pvalue  # a failed test tempers the verdict
            # a quiet end of the data, a comparison group far less active, too
            row |= tempering(ctx, outcome, spec, row, overall.parent)
            studies[outcome] = (points, hidden)
        if not s.ok:
            row = story.not_estimated(outcome, s.explanation) | {"pre_trends": ""}
        rows.append(row | {"certified_engineers": n})
        ctx.effect_headline(
            rows[-1] | {"needs": s.needs},
            design="staggered DiD",
            comparison=f"{spec['control'].replace('_', '-')}-certified engineers",
            section=section,
        )
    return DiDEffects(list(outcomes), pl.DataFrame(rows), studies)


def engineers_in_estimate(ctx: Context, outcome: str, spec: dict) -> int:
    """Certified engineers the page's overall effect of ``outcome`` rests on (observed in the
    base period and after certifying), for the privacy threshold of the sections that repeat
    it in other forms (robustness: shared reports showed estimates on 4 engineers)."""
    import warnings

    from certkit import did

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return did.att_gt(ctx.panel, outcome=outcome, **spec).aggregate("simple").n_engineers


def target_engineers(event_study) -> int:
    """Treated engineers behind the event study's ``e = 0`` estimate (HonestDiD's target)."""
    table = event_study.to_polars()
    row = table.filter(pl.col("e") == 0)
    return int(row["n_treated"][0]) if row.height and "n_treated" in table.columns else 0


def twfe_contrast(
    ctx: Context,
    outcomes: list[str],
    spec: dict,
    notes: list[str],
    skip: list[str] | tuple[str, ...] = (),
) -> pl.DataFrame:
    """TWFE next to Callaway-Sant'Anna per outcome (:func:`certkit.did.compare_twfe`).

    Both sides use ``spec`` (comparison group and method), so the Callaway-Sant'Anna column
    is the page's headline estimate. Columns: ``outcome`` (label), ``TWFE``,
    ``Callaway-Sant'Anna``, ``difference``, ``verdict`` (or why it was not estimated).
    Outcomes in ``skip`` (:attr:`DiDEffects.not_estimated`: the summary said why) get a
    verdict that points there instead of repeating the reason.
    """
    from certkit import did

    rows = []
    for outcome in outcomes:
        if outcome in skip:
            rows.append({"outcome": story.label(outcome), "verdict": story.SEE_SUMMARY})
            continue
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


#: How a re-estimate's own pre-trend warning begins (:class:`certkit.did.ATTgtResult`'s
#: cell-level Wald test, or an event study's verdict).
PRETREND_NOTE = "pre-trends:"


@contextmanager
def check_warnings(notes: list[str], prefix: str):
    """:func:`~certkit.report.context.collect_warnings` for a check's re-estimate (HonestDiD,
    robustness), leaving out its own pre-trend test.

    The outcome's pre-trend verdict is the summary table's: the same panel and the same null
    (no diverging trends before certifying), tested with the test that suits its cohorts (the
    joint test of the event-time estimates when cohorts are small, as the cell-level test then
    rejects far too often: :data:`certkit.did.event.CELL_TEST_UNITS_PER_CELL`). A re-estimate
    that reruns the cell-level test (HonestDiD's universal base period) gave a second, opposite
    verdict on one page (trial I, python-sdk: "no evidence of diverging trends (joint test of 6
    pre-period event-study estimates, p = 0.66)" and "already diverged (Wald test p = 0)", a
    Wald statistic of 4e7 on 36 cells resting on single engineers).
    """
    start = len(notes)
    with collect_warnings(notes, prefix):
        yield notes
    notes[start:] = [n for n in notes[start:] if not n.startswith(prefix + PRETREND_NOTE)]


def honest_sections(
    ctx: Context,
    outcomes: list[str],
    spec: dict,
    *,
    min_e: int,
    max_e: int,
    notes: list[str],
    skip: list[str] | tuple[str, ...] = (),
    section: str = "Sensitivity to non-parallel trends (HonestDiD)",
) -> dict:
    """HonestDiD (relative magnitudes) per outcome, displayed as it runs; the results by outcome.

    The event study uses the universal base period and at most ``max_e`` post periods (the
    method needs it; fewer periods keep it fast). Each outcome shows its sensitivity chart and
    :meth:`~certkit.did.HonestResult.effect_summary` and records a ``sensitivity`` headline.
    Outcomes in ``skip`` (not estimated in the summary) get one line naming them.
    """
    from IPython.display import Markdown, display

    from certkit import charts, did

    results = {}
    if any(o in skip for o in outcomes):
        display(Markdown(story.skipped_outcomes([o for o in outcomes if o in skip])))
    for outcome in [o for o in outcomes if o not in skip]:
        with ctx.section(f"Sensitivity, {story.label(outcome)}", story.DID_NEEDS, sink=notes):
            ctx.require(certified_engineers(ctx.panel, outcome), "the sensitivity analysis")
            with check_warnings(notes, f"sensitivity, {outcome}: "):
                universal = did.event_study(
                    ctx.panel,
                    outcome=outcome,
                    min_e=min_e,
                    max_e=max_e,
                    base_period="universal",
                    **spec,
                )
            # the target (e = 0) rests on the engineers observed then and just before
            n = target_engineers(universal)
            ctx.require(n, "the sensitivity analysis")
            with check_warnings(notes, f"sensitivity, {outcome}: "):
                sens = did.honest(
                    result=universal,
                    outcome=story.label(outcome),
                    value_words=amount_words(outcome),
                )
            display(
                chart(
                    charts.sensitivity,
                    sens.plot_data(),
                    empty="no robust interval could be computed",
                    x_title="Mbar (post-certification violation / largest pre-certification one)",
                    title=f"{story.label(outcome)}: sensitivity to non-parallel trends",
                )
            )
            display(Markdown(sens.effect_summary().text))
            ctx.headline(
                f"sensitivity/honest-did/{outcome}",
                {
                    "outcome": outcome,
                    "label": story.label(outcome),
                    "design": "HonestDiD",
                    "text": sens.effect_summary().text,
                },
                kind="sensitivity",
                section=section,
                n=n,
            )
            results[outcome] = sens
    return results


def robustness_sections(
    ctx: Context,
    outcomes: list[str],
    spec: dict,
    *,
    notes: list[str],
    skip: list[str] | tuple[str, ...] = (),
    section: str = "Robustness: do other modern estimators agree?",
) -> dict:
    """:func:`certkit.did.robustness` per outcome, displayed as it runs; the results by outcome.

    Each outcome shows its verdict, table and forest chart and records a ``sensitivity``
    headline. Outcomes in ``skip`` (not estimated in the summary) get one line naming them.
    """
    from IPython.display import Markdown, display

    from certkit import charts, did

    results = {}
    if any(o in skip for o in outcomes):
        display(Markdown(story.skipped_outcomes([o for o in outcomes if o in skip])))
    for outcome in [o for o in outcomes if o not in skip]:
        with ctx.section(f"Robustness, {story.label(outcome)}", story.DID_NEEDS, sink=notes):
            n = engineers_in_estimate(ctx, outcome, spec)
            ctx.require(n, "the robustness panel")
            with check_warnings(notes, f"robustness, {outcome}: "):
                rob = did.robustness(
                    ctx.panel,
                    outcome=outcome,
                    name=story.label(outcome),
                    value_words=amount_words(outcome),
                    **{k: spec[k] for k in ("unit", "time", "group")},
                )
            display(Markdown(f"**{story.label(outcome)}.** {ctx.safe_text(rob.verdict)}"))
            for why in rob.not_computed:
                display(Markdown(f"*{ctx.safe_text(why)}.*"))
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
                n=n,
            )
            # "n" read as an engineer count (trial N: 313 beside "314 engineers")
            shown = rob.to_polars().drop("statistic").rename({"n": "certified_periods"})
            display(table(shown))
            display(
                Markdown(
                    "*certified_periods: the certified engineer-periods after certification "
                    "that each estimate averages (periods, not engineers).*"
                )
            )
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
    #: A shared report: left-out certifications are counted, not named (each has fewer than
    #: ``min_holders`` holders, a group too small to show).
    share: bool = False

    def displays(self) -> list:
        """What was left out, the table and the forest chart (or why there is none)."""
        from IPython.display import Markdown

        from certkit import charts

        out: list = []
        if self.left_out and self.share:
            n = len(self.left_out)
            out.append(
                Markdown(
                    f"Left out: {n} certification{'s' if n != 1 else ''} with fewer than "
                    f"{self.min_holders} holders, too few for a separate estimate (a shared "
                    "report does not name them)."
                )
            )
        elif self.left_out:
            out.append(
                Markdown(
                    f"Left out (fewer than {self.min_holders} holders, too few for a separate "
                    "estimate): " + ", ".join(self.left_out) + "."
                )
            )
        if self.rows.height:
            cols = ["certification", "engineers", "label", "estimate", "ci_low", "ci_high"]
            cols += ["p_value", "relative", "pre_trends"]
            out.append(table(self.rows.select(cols), percent=["relative"]))
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
    min_e: float | None = None,
    max_e: float | None = None,
) -> PerCertification:
    """The overall DiD effect of each certification whose estimate rests on at least
    ``max(k, 5)`` engineers, with the pre-trend test of its event study between ``min_e`` and
    ``max_e`` (:func:`certkit.did.event.dynamic_with_pretrend`, as the page's event studies).

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
    # most holders first; ties by id (a group-by's order changed between runs of one report)
    ordered = holders.sort(["engineers", "certification_id"], descending=[True, False])
    for cert, n in ordered.iter_rows():
        if n < need:
            left_out.append(f"{cert} ({n} engineer{'s' if n != 1 else ''})")
            continue
        with ctx.section(cert, show=False, sink=notes):
            with collect_warnings(notes, f"{cert}: "):
                panel = build_panel(
                    filter_dataset(ctx.ds, certifications=[cert]), period, **ctx.panel_options
                )
            for outcome in outcomes:
                with ctx.section(f"{cert}, {story.label(outcome)}", show=False, sink=notes):
                    ctx.require(certified_engineers(panel, outcome), f"the {cert} estimate")
                    with collect_warnings(notes, f"{cert}, {outcome}: "):
                        res = did.att_gt(panel, outcome=outcome, **spec)
                        agg = res.aggregate("simple")
                    ctx.require(agg.n_engineers, f"the {cert} estimate")
                    # the engineers the estimate rests on, not the holders (trial P: "5
                    # engineers" for an estimate on 4, one certified before the data)
                    if agg.n_engineers < need:
                        raise CertkitError(
                            f"the estimate rests on {agg.n_engineers} of the {n} holders "
                            f"(the others have no {story.label(outcome)} before and after "
                            f"certifying in the data), fewer than {need}"
                        )
                    r = story.effect_of(outcome, agg, panel)
                    if not r["note"]:
                        rows.append(
                            {"certification": cert, "engineers": agg.n_engineers}
                            | r
                            | {"pre_trends": _pretrend_cell(res, min_e, max_e, notes, cert)}
                        )
    return PerCertification(pl.DataFrame(rows), left_out, need, share=ctx.privacy.share)


def _pretrend_cell(res, min_e, max_e, notes: list[str], cert: str) -> str:
    """A certification's pre-trend cell; "not tested" when its event study cannot be formed
    (review D9: an error there dropped the certification's whole row)."""
    from certkit.did.event import dynamic_with_pretrend

    outcome = res.settings["outcome"]
    try:
        with collect_warnings(notes, f"{cert}, {outcome}: "):
            pre = dynamic_with_pretrend(res, min_e=min_e, max_e=max_e)
    except CertkitError:
        return "not tested"
    return story.pretrend_cell(pre.pretrend_pvalue, pre.pretrend_cell_pvalue)


__all__ = [
    "AIStudy",
    "AdoptionStudy",
    "adoption_study",
    "ai_study",
    "CONTROL_GROUPS",
    "DiDEffects",
    "MATCHED_COLUMNS",
    "MatchedEffects",
    "PerCertification",
    "ROI_UNITS",
    "roi_caveats",
    "assumptions_table",
    "describe_sensitivity_row",
    "did_effects",
    "did_spec",
    "honest_sections",
    "matched_effects",
    "per_certification",
    "robustness_sections",
    "roi_answer",
    "roi_effects",
    "roi_engineers",
    "roi_not_evidence",
    "roi_figure",
    "roi_table",
    "twfe_contrast",
]
