"""Matched cohorts per outcome (notebook 03); re-exported by :mod:`certkit.report.studies`."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from certkit import narrative as story
from certkit.errors import CertkitError
from certkit.narrative.effects import event_counts
from certkit.report.context import Context, collect_warnings, table
from certkit.report.sections import chart

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
    #: The page's context: its privacy rules decide which sensitivity tables are shown.
    ctx: Context | None = field(default=None, repr=False)

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
        skipped = [o for o in self.outcomes if o not in self.results]
        if skipped:
            out.append(Markdown(story.skipped_outcomes(skipped)))
        for outcome in self.outcomes:
            if outcome not in self.results:
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

    def sensitivity_displays(self, ctx: Context | None = None) -> list:
        """Per estimated outcome: its Rosenbaum bounds table (or why there is none).

        In a shared report (``ctx``, by default the one the effects were estimated in) bounds
        resting on fewer than ``k`` matched sets are not shown; the page says why.
        """
        from IPython.display import Markdown

        ctx = ctx or self.ctx
        out: list = []
        for outcome, res in self.results.items():
            sens = res.sensitivity()
            t = sens.to_polars()
            # n_pairs: the sets the bounds rest on (never more than n_sets, every set)
            why = ctx and ctx.too_few(sens.n_pairs, "the sensitivity analysis", "matched set")
            if t.height and why:
                out.append(Markdown(f"**{story.label(outcome)}**: not shown: {why}."))
            elif t.height:
                out += [Markdown(f"**{story.label(outcome)}**"), table(t)]
                if sens.zeros_note():
                    out.append(Markdown(f"*{sens.zeros_note()}*"))
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
        said = len(notes)
        # no sink: the summary's bullet for the outcome says why it was not estimated
        with ctx.section(story.label(outcome), story.MATCHING_NEEDS, show=False) as s:
            ctx.recorded(outcome)
            if ctx.outside_window:  # before matching says "all cohorts are 0"
                raise CertkitError(ctx.outside_window)
            with collect_warnings(notes, f"{outcome}: "):
                res = matching.matched_did(
                    ctx.panel,
                    outcome=outcome,
                    covariates=covariates,
                    pre_periods=pre_periods,
                    post_periods=post_periods,
                    caliper=caliper,
                )
            # the effect rests on the matched sets (one certified engineer each), which the
            # caliper may have cut below the certified engineers
            ctx.require(
                min(res.n_treated, res.n_pairs), f"the matched {story.label(outcome)} estimate"
            )
            rests_on = res.certified_rows(ctx.panel)  # the matched certified engineers' windows
            row = story.effect_of(outcome, res, ctx.panel, base_rows=rests_on)
            if not row.get("note"):  # PRs and events of the certified engineers it rests on
                row |= event_counts(rests_on, outcome)
            # pairs still unlike after matching temper the verdict (cargo: |SMD| 1.34)
            row["balance_smd"] = matching.balance_summary(res.balance())["max |SMD| after"]
            sens = res.sensitivity()
            # neither bound for an effect the headline test cannot tell from zero: an E-value
            # of 3.5 beside p = 0.36 invited "a confounder would need 3.5 to explain it away"
            # about an effect that needs no explaining (trial F); nor when the bounds' own
            # test (Wilcoxon at gamma = 1) is not significant
            clear = sens.significant and row["p_value"] < 0.05
            row |= {
                # the certified engineers the estimate describes (one per matched set), not
                # all who could be matched (cargo: 12 before the caliper kept 4)
                "certified_engineers": res.n_pairs,
                "matched_sets": res.n_pairs,
                # the bounds rest on the sets with a non-zero difference: hidden under k; no
                # critical gamma for an effect not significant even at gamma = 1 (gnome-shell's
                # table showed 1.000 beside p = 0.68)
                "critical_gamma": (
                    None if ctx.too_few(sens.n_pairs) or not clear else sens.critical_gamma
                ),
                "e_value": sens.e_value if clear else None,
            }
            results[outcome] = res
            notes += [f"{outcome}: {w}" for w in res.warnings if f"{outcome}: {w}" not in notes]
        if not s.ok:
            row = story.not_estimated(outcome, s.explanation)
            if ctx.privacy.share and "a shared report shows only" in (s.explanation or ""):
                # the match the page hides: its notes (caliper counts, balance of the few
                # matched engineers' role and level) are not shown either (trial D, cargo)
                del notes[said:]
        rows.append(row)
        ctx.effect_headline(
            row | {"needs": s.needs},
            design="matched DiD",
            comparison="matched peers (similar role, level, platform, tenure, recent outcomes)",
            section=section,
        )
    effects = pl.DataFrame(rows, infer_schema_length=None)
    for col in MATCHED_COLUMNS:
        if col not in effects.columns:
            effects = effects.with_columns(pl.lit(None, dtype=pl.Float64).alias(col))
    return MatchedEffects(list(outcomes), effects, results, ctx=ctx)
