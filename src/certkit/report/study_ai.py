"""AI-assisted work (notebook 04): the four AI analyses, each in its section, and their displays.

Re-exported by :mod:`certkit.report.studies`. The notebook calls :func:`ai_study` once and
displays what its methods return; the analyses are :mod:`certkit.analytics.ai`'s, the words
:mod:`certkit.narrative`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
from IPython.display import HTML, Markdown

from certkit import narrative as story
from certkit.data.certification_checks import added_by_import
from certkit.data.schema import rework_columns
from certkit.privacy import certified_engineers
from certkit.report import landing
from certkit.report.context import PRIVACY_RULES, Context, collect_warnings, table
from certkit.report.sections import chart, in_section

#: The comparison table's columns, in the order the page shows them.
COMPARISON_COLUMNS = (
    "outcome",
    "comparison",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "relative",
    "n_prs",
    "n_authors",
)
FLAGGED_COLUMNS = (
    "rank",
    "team",
    "repo",
    "ai_prs",
    "ai_rate",
    "non_ai_rate",
    "risk_ratio",
    "q_value",
)


@dataclass
class AIStudy:
    """Notebook 04's results: each is ``None`` when its section could not be estimated."""

    ctx: Context
    outcomes: list[str]
    adoption_by: str
    parts: dict
    comparison_result: object = None
    comparison: pl.DataFrame | None = None
    hidden: list[str] = field(default_factory=list)
    hidden_rows: bool = False
    adoption: pl.DataFrame | None = None
    overall: pl.DataFrame | None = None
    flagged: pl.DataFrame | None = None
    trust: pl.DataFrame | None = None
    no_ai_reason: str = ""  # set when no PR carries a trace of AI assistance
    events: dict = field(default_factory=dict)  # rare events per kind of PR (story.ai_events)

    @property
    def no_ai(self) -> bool:
        """No PR of the data carries a trace of AI assistance (every section says so)."""
        return bool(self.no_ai_reason)

    @property
    def skipped(self) -> dict[str, str]:
        """Section name -> the reason it could not be estimated."""
        return {name: sec.reason for name, sec in self.parts.items() if not sec.ok}

    @property
    def n_flagged(self) -> int | None:
        return None if self.flagged is None else self.flagged.height

    def summary_displays(self) -> list:
        """The page's summary: data scope, the AI summary, the cycle-time caveats."""
        if self.no_ai:
            text = f"- **AI-assisted work**: not estimated: {self.no_ai_reason}."
        else:
            text = story.ai_summary(
                self.comparison, self.overall, self.n_flagged, self.skipped, self.events
            )
        notes = story.cycle_time_note(self.ctx.ds, self.outcomes)
        return [
            Markdown(f"*Data: {self.ctx.scope()}.*"),
            Markdown(text),
            *(Markdown(f"*{line}*") for line in notes),
        ]

    def comparison_displays(self) -> list:
        """AI-assisted vs other PRs: the table, what was hidden, and the chart."""
        if self.comparison is None:
            return [HTML(self.parts["comparison"].html())]
        shown, few = self.comparison_rows()
        out = [
            table(shown, percent=["relative"]),
            *(Markdown(f"*{note}*") for note in self.hidden),
            *(Markdown(f"*left blank: too few events to compare ({words}).*") for words in few),
        ]
        if not self.hidden_rows and not few:  # the chart would show the rows left out
            out += in_section(self.ctx, "Comparison chart", self.comparison_result.plot)
        return out

    def comparison_rows(self) -> tuple[pl.DataFrame, list[str]]:
        """The comparison table's rows, blank where too few events compare, and the words
        saying which counts those are."""
        shown, few = self.comparison.select(COMPARISON_COLUMNS), []
        for outcome, counts in self.events.items():
            said = story.ai_event_words(counts | {"outcome": outcome})
            if said and said[1]:  # the summary says "too few to compare": so does the table
                few.append(said[0])
                blank = pl.col("outcome") == outcome
                # every number of the row, not the relative alone (trial S: "-0.049, p 2e-19"
                # from 2 AI-assisted reverts, beside words saying too few to compare)
                shown = shown.with_columns(
                    pl.when(blank).then(None).otherwise(pl.col(c)).alias(c)
                    for c in ("estimate", "ci_low", "ci_high", "p_value", "relative")
                )
        return shown, few

    def adoption_displays(self) -> list:
        """The adoption heat map by team (or repository) and month, then certified vs others."""
        from certkit import charts

        k = max(self.ctx.k, 1)
        if self.adoption is None:
            out = [HTML(self.parts["adoption"].html())]
        else:
            heat = self.adoption
            if "suppressed" in heat.columns:
                heat = heat.filter(~pl.col("suppressed"))
            heat, uniform = self.ctx.hide_uniform(
                heat, "ai_share", f"{self.adoption_by} x month cell(s)"
            )
            cells = f"{self.adoption_by} x month cell"
            engineers = self.ctx.ds.engineers
            added = engineers.filter(added_by_import(engineers))
            if self.adoption_by == "team" and "unknown" in added["team"].to_list():
                # the import's placeholder team (trial AF)
                heat = heat.with_columns(
                    pl.col("team").replace({"unknown": "unknown (outside the roster)"})
                )
            out = [
                chart(
                    charts.heatmap,
                    heat.select("period", self.adoption_by, "ai_share"),
                    # one reason for every hidden cell: "or 0% or 100%" told why (trial AE)
                    empty=f"every {cells} is {PRIVACY_RULES}"
                    if uniform
                    else f"every {cells} has fewer than {k} engineers",
                    x="period",
                    y=self.adoption_by,
                    color="ai_share",
                    title=f"AI adoption by {self.adoption_by}",
                )
            ]
            hidden = self.adoption.height - heat.height
            if uniform and heat.height:
                # every cell left out, the small ones too (trial AE: "9 cell(s) left out"
                # where 66 of 69 were)
                out.append(
                    Markdown(
                        f"{hidden} of the {self.adoption.height} {cells}s are {PRIVACY_RULES}."
                    )
                )

        def certified_vs_others():
            n = certified_engineers(self.ctx.panel, "ai_share")
            self.ctx.require(n, "the certified engineers' AI share")
            # each point is a group's mean in one month: a shared report leaves out those
            # resting on fewer than k engineers (trial P: means over 2-4 engineers were shown)
            means = charts.cohort_means(self.ctx.panel, "ai_share")
            large, _ = self.ctx.hide_small(means, "engineers")
            shown, uniform = self.ctx.hide_uniform(large, "mean", "monthly point(s)")
            out = [
                chart(
                    charts.cohort_lines,
                    shown,
                    empty=f"no month has a group of {self.ctx.k} or more engineers with merged "
                    "PRs (shared report)"
                    if means.height
                    else "no merged PRs with a known AI share",
                    title="AI-assisted share: certified vs never certified",
                    y_title="AI-assisted share",
                )
            ]
            small = means.height - large.height
            if shown.height and small and not uniform:
                out.append(
                    Markdown(
                        f"{small} of the {means.height} monthly points "
                        f"are left out: each rests on fewer than {self.ctx.k} engineers with "
                        "merged PRs (shared report)."
                    )
                )
            elif shown.height and uniform:  # one sentence for both rules: no point's reason
                out.append(
                    Markdown(
                        f"{means.height - shown.height} of the {means.height} monthly points are {PRIVACY_RULES}."
                    )
                )
            return out

        if self.no_ai:
            return out
        what = "AI-assisted share, certified vs never certified"
        out += in_section(self.ctx, what, certified_vs_others)
        return out

    def fix_first_displays(self) -> list:
        """The fix-first list (team x repository cells) and the teams' trust scores."""
        k = max(self.ctx.k, 1)
        if self.flagged is None:
            out = [HTML(self.parts["fix_first"].html())]
        elif self.flagged.height:
            cols = FLAGGED_COLUMNS
            out = [table(self.flagged.select(cols), percent=["ai_rate", "non_ai_rate"])]
        else:
            out = [Markdown("No team x repository cell stands out at this false discovery rate.")]
        if self.trust is None:
            out.append(HTML(self.parts["trust"].html()))
        elif self.trust.height:
            out.append(Markdown(TRUST_CAPTION))
            out.append(table(self.trust))
        else:
            out.append(Markdown(f"Trust scores: no team has {k} or more scored engineers to show."))
        return out


#: What the teams' trust table counts (trial M, M10: read as defects under a heading on them).
TRUST_CAPTION = (
    "Trust scores by team: AI-assisted merged PRs that went bad (reverted, or linked to a "
    "defect) observed, against the number expected from each engineer's own other PRs "
    "(expected_own) and that number scaled to the organisation's AI-assisted rate (expected, "
    "which the risk ratio divides by: the teams' expected add up to their observed), and the "
    "team's median score; only engineers with a trust score (5 or more AI-assisted merged PRs) count, "
    "and a team's risk ratio and median score are left blank on fewer than 5 bad PRs, observed "
    "and expected."
)


def ai_study(
    ctx: Context,
    outcomes: list[str],
    *,
    adoption_by: str = "team",
    fdr: float = 0.05,
    period: str = "month",
    notes: list[str] | None = None,
    section: str = "Summary",
) -> AIStudy:
    """Run notebook 04's analyses, each in its own section, and record the AI headline.

    Parameters
    ----------
    ctx
        The report context (:func:`certkit.report.setup`).
    outcomes
        PR outcomes compared between AI-assisted and other PRs (``ai.compare``).
    adoption_by
        ``team`` or ``repo``: the rows of the adoption heat map.
    fdr
        False discovery rate of the fix-first list (Benjamini-Hochberg).
    period
        Adoption period (``month`` or ``week``).
    notes
        Where the sections' reasons and warnings are collected (the page's notes).
    section
        The page section the landing page's AI line links to.
    """
    from certkit import ai

    notes = ctx.notes if notes is None else notes
    view = ctx.team_view()  # small teams merged into "other" in shared reports
    k = max(ctx.k, 1)
    parts = {
        "comparison": ctx.section(
            "AI-assisted vs other PRs", story.AI_NEEDS, show=False, sink=notes
        ),
        "adoption": ctx.section("Adoption", show=False, sink=notes),
        "fix_first": ctx.section("Fix-first list", show=False, sink=notes),
        "trust": ctx.section("Trust scores", story.TRUST_NEEDS, show=False, sink=notes),
    }
    study = AIStudy(ctx=ctx, outcomes=list(outcomes), adoption_by=adoption_by, parts=parts)
    prs = ctx.ds.pull_requests
    recorded = prs["ai_assisted"].drop_nulls() if "ai_assisted" in prs.columns else None
    if recorded is not None and recorded.len() and not (recorded.cast(pl.Float64) > 0).any():
        # said once in the summary and the answer; each section points there (each section
        # had given its own long reason, and the page's notes again: one reason four times)
        why = story.no_ai_prs(prs.height)
        for part in parts.values():
            part.needs, part.sink = None, None
            part.fail(story.NO_AI_PRS)
        study.no_ai_reason = why
        ctx.headline("ai", {"comparison_note": why}, kind="ai", section=section)
        return study
    with parts["comparison"], collect_warnings(notes, "AI comparison: "):
        # rework only where the git line ledger measured it (trial AF: a git import, no
        # cycle time and no defects table, compared nothing while rework was there)
        churn = rework_columns(prs.columns)
        measured = bool(churn) and prs[churn[0]].drop_nulls().len() > 0
        compared = tuple(o for o in outcomes if o != "rework" or measured)
        cmp = ai.compare(ctx.ds, outcomes=compared, by_certification=True)
        comparison, hidden_cmp = ctx.hide_small(cmp.to_polars(), "n_authors")
        comparison, hidden_cert = ctx.hide_small(
            comparison, "n_certified_authors", pl.col("comparison") == "certified_extra"
        )
        study.comparison_result, study.comparison = cmp, comparison
        study.events = story.ai_events(ai.pr_table(ctx.ds))
        study.hidden = [n for n in (hidden_cmp, hidden_cert) if n]
        study.hidden_rows = bool(hidden_cmp)
    with parts["adoption"], collect_warnings(notes, "adoption: "):
        # by month in a weekly report (trial AE: "not shown: period must be 'month' or
        # 'quarter'"): a team's weekly share would rest on a handful of PRs
        shares = period if period in ("month", "quarter") else "month"
        if shares != period:
            notes.append(
                f"adoption: AI-assisted shares are shown by month in this {period}ly report "
                f"(a team's share of one {period} rests on a handful of PRs)"
            )
        study.adoption = ai.adoption(view, by=adoption_by, period=shares, k=k).to_polars()
        # the headline's series: every PR of the organisation, a period with fewer than k
        # authors left out (never one team's cell standing for the organisation)
        study.overall = ai.adoption_overall(ctx.ds, period=shares, k=k)
    with parts["fix_first"], collect_warnings(notes, "fix-first: "):
        study.flagged = ai.fix_first(view, fdr=fdr, k=k).flagged()
    with parts["trust"], collect_warnings(notes, "trust scores: "):
        study.trust = ai.trust_scores(view).by_team(k)
    values = landing.ai_values(
        study.comparison,
        study.overall,
        study.n_flagged,
        study.skipped,
        story.AI_LABELS,
        study.events,
    )
    ctx.headline("ai", values, kind="ai", section=section)
    return study
