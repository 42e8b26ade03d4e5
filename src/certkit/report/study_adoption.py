"""AI adoption impact (notebook 06): the adoption study per outcome and its checks.

Re-exported by :mod:`certkit.report.studies`. The notebook calls :func:`adoption_study` once
and displays what its methods return; the estimators are :mod:`certkit.analytics.adoption`'s.
Each method runs its outcomes in their own report sections, so one outcome that cannot be
estimated says why and the others still show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl
from IPython.display import Markdown

from certkit.narrative.effects import label
from certkit.privacy import certified_engineers
from certkit.report.context import Context, table
from certkit.report.sections import in_section
from certkit.report.study_quiet import adoption_level_words, adoption_quiet_words

EFFECT_SECTION = "Effect of adopting AI, by outcome"
HONEST_SECTION = "Sensitivity to non-parallel trends (HonestDiD)"
ROBUST_SECTION = "Robustness: do other modern estimators agree?"
CERTIFICATION_SECTION = "Does certification change AI use?"
EFFECT_NEEDS = (
    "at least 2 engineers who adopt AI inside the window, with periods before and after, and "
    "engineers who had not adopted yet"
)

#: Column names of ``n`` in the effect and robustness tables: they count different things.
ADOPTERS = "adopters behind it"
ADOPTER_PERIODS = "adopter-periods after adoption"
ROBUST_N = (
    "*{adopters} adopters; the last column counts their engineer-periods after adoption that "
    "each estimator averages (the effect table above counts engineers, not periods).*"
)


@dataclass
class AdoptionStudy:
    """Notebook 06's adoption studies: who adopted, and each outcome's estimate once run."""

    ctx: Context
    outcomes: list[str]
    definition: object
    cohorts: pl.DataFrame
    notes: list[str]
    control: str = "not_yet"
    min_e: int = -6
    max_e: int = 12
    studies: dict = field(default_factory=dict)

    @property
    def n_adopters(self) -> int:
        """Engineers who adopted inside the window (not already at its start)."""
        c = self.cohorts
        return int(((c["adoption_cohort"] > 0) & ~c["adopted_at_start"]).sum())

    def overview_displays(self) -> list:
        """Data scope, the adoption definition, and who adopted when."""
        from certkit import adoption

        k = self.ctx.k if self.ctx.privacy.share else 1
        scope = f"*Data: {self.ctx.scope()}. Adoption: {self.definition.describe()}.*"
        return [
            Markdown(scope),
            Markdown(adoption.adoption_overview(self.cohorts, self.ctx.adoption_panel, k=k)),
        ]

    def effect_displays(self) -> list:
        """Per outcome: the adoption DiD's summary, table and event study (or why not)."""
        from certkit import adoption

        def one(outcome: str) -> list:
            self.ctx.recorded(outcome)  # the same reason as the certification pages give
            self.ctx.require(self.n_adopters, "the adoption study", who="adopter")
            res = adoption.adoption_did(
                self.ctx.adoption_panel,
                outcome,
                definition=self.definition,
                control=self.control,
                min_e=self.min_e,
                max_e=self.max_e,
            )
            self.studies[outcome] = res
            quiet = adoption_quiet_words(
                self.ctx,
                outcome,
                res,
                lambda panel: adoption.adoption_did(
                    panel,
                    outcome,
                    definition=self.definition,
                    control=self.control,
                    min_e=self.min_e,
                    max_e=self.max_e,
                ),
            )
            rows, hidden = self.ctx.hide_small(res.tidy(), "n")
            # a row on one adopter: its standard error holds only the comparison engineers'
            # variation, so no p-value is shown for it (trial Q, Q5: "+48.1 PRs, SE 0.19,
            # p = 0.000" before adoption, on one adopter)
            single = pl.col("n") == 1
            rows = rows.with_columns(
                pl.when(single).then(None).otherwise(pl.col(c)).alias(c)
                for c in ("statistic", "p_value")
            )
            n_single = rows.filter(single).height
            summary = res.effect_summary(k=self.ctx.k, privacy_k=self.ctx.privacy.k).text
            # the quiet end of the data and unlike levels, as on the certification pages
            # (trials V and W)
            said = [w for w in (quiet, adoption_level_words(self.ctx, outcome, res)) if w]
            if said:
                summary = f"{summary.rstrip()} Read it with care: {'; '.join(said)}."
            self._headline(
                f"ai/adoption/{outcome}", f"adopting AI, {label(outcome)}", summary, EFFECT_SECTION
            )
            notes = [f"*Pre-trend check: {self.ctx.safe_text(res.pretrend).rstrip('.')}.*"]
            if n_single:
                notes.append(
                    f"*{n_single} row(s) rest on a single adopter: their standard errors "
                    "reflect only the comparison engineers' variation, not that adopter's own "
                    "noise, so no p-value is shown for them.*"
                )
            return [
                Markdown(summary),
                table(rows.rename({"n": ADOPTERS})),
                *(Markdown(n) for n in notes),
                Markdown(f"*{hidden}*") if hidden else res.plot(),
            ]

        if self.n_adopters == 0:
            # one reason for every outcome, said once (fastapi: the same paragraph 12 times)
            return in_section(
                self.ctx,
                "Effect of adopting AI",
                lambda: self._no_adopters(),
                needs=EFFECT_NEEDS,
                sink=self.notes,
            )
        out = []
        for outcome in self.outcomes:
            name = label(outcome)  # "PR cycle time", not cycle_time_log_median (trial H)
            out.append(Markdown(f"### {name}"))
            out += self._run(f"Effect of adopting AI on {name}", EFFECT_NEEDS, outcome, one)
        return out

    def sensitivity_displays(self, max_e: int = 4) -> list:
        """Per outcome: HonestDiD relative-magnitude bounds at adoption (e = 0)."""
        from certkit import adoption

        def one(outcome: str) -> list:
            res = adoption.estimated(self.studies, outcome)
            # the bounds rest on every event time they use, before and after adoption
            window = res.event_study.to_polars()["e"]
            used = [f"e={e}" for e in range(int(window.min()), min(int(window.max()), max_e) + 1)]
            behind = res.tidy().filter(pl.col("term").is_in(used))["n"].drop_nulls()
            n = behind.min() if behind.len() and behind.min() else res.counts.get("e=0", 0)
            self.ctx.require(int(n), "the sensitivity analysis", who="adopter")
            sens = res.sensitivity(max_e=max_e)
            text = sens.effect_summary().text
            if int(n) < self.ctx.privacy.k:  # only a private report shows them (require)
                # say so beside "stays significant" (trial K, python-sdk: on 2 adopters), in
                # the second sentence, which the index keeps (trial AF: it dropped a third)
                few = "adopter" if int(n) == 1 else "adopters"
                text = second_sentence(
                    text,
                    f"these bounds rest on as few as {int(n)} {few}: one person can decide them",
                )
            name = f"adopting AI, {label(outcome)}, HonestDiD"
            self._headline(f"ai/adoption-honest-did/{outcome}", name, text, HONEST_SECTION)
            return [Markdown(text), sens.plot()]

        return self._each("Sensitivity", "sensitivity", one)

    def robustness_displays(self) -> list:
        """Per outcome: Callaway-Sant'Anna, Sun-Abraham, imputation and TWFE side by side."""
        from certkit import adoption

        def one(outcome: str) -> list:
            res = adoption.estimated(self.studies, outcome)
            self.ctx.require(res.n_adopters, "the robustness panel", who="adopter")
            rob = res.robustness()
            name = f"adopting AI, {label(outcome)}, robust estimators"
            self._headline(f"ai/adoption-robustness/{outcome}", name, rob.verdict, ROBUST_SECTION)
            return [
                Markdown(self.ctx.safe_text(rob.verdict)),
                *(Markdown(f"*{self.ctx.safe_text(why)}.*") for why in rob.not_computed),
                table(rob.tidy().rename({"n": ADOPTER_PERIODS})),
                Markdown(ROBUST_N.format(adopters=res.n_adopters)),
                rob.plot(),
            ]

        return self._each("Robustness", "robustness", one)

    def certification_displays(self) -> list:
        """The certification event study on the AI-assisted share of merged PRs."""
        from certkit import adoption

        def run() -> list:
            from certkit.errors import CertkitError

            mine = self.ctx.panel.filter(pl.col("cohort") > 0)
            certified = mine["engineer_id"].n_unique()
            self.ctx.require(certified, "this study")
            if self.ctx.privacy.share:  # it rests on those with AI use before and after
                self.ctx.require(certified_engineers(self.ctx.panel, "ai_share"), "this study")
            if "ai_share" in mine.columns and not (mine["ai_share"].fill_null(0) > 0).any():
                raise CertkitError(
                    f"none of the {certified:,} certified engineers' merged PRs was AI-assisted, "
                    "before or after certifying: there is no change in AI use to estimate"
                )
            cert_ai = adoption.certification_effect_on_ai(
                self.ctx.panel, min_e=self.min_e, max_e=self.max_e
            )
            from certkit import charts
            from certkit.analytics.adoption_result import certification_ai_words
            from certkit.report.sections import chart

            # the overall effect as the certification-impact page gives it: the simple
            # aggregation, each certified engineer-period after certifying weighing the same.
            # The event study's own average weighs each event time the same, and one
            # engineer's last months (no standard error) made "+25 points, p = 0.0002" on
            # browser-use (trial Q, Q2), where this gives +15 points, p = 0.09.
            overall = cert_ai.parent.aggregate("simple")
            # the engineers behind the cells after certifying, not all with AI use before and
            # after (trial O: 5 of them, 1 behind the estimate, shown in a shared report)
            behind = overall.n_engineers
            self.ctx.require(behind or 0, "this study")
            row = overall.effect_summary().table.row(0, named=True)
            level = getattr(cert_ai, "level", 0.95)
            summary = certification_ai_words(
                row, level, behind, self.ctx.privacy.k, overall.single_weight
            )
            label = "certification and AI use"
            self._headline("ai/certification", label, summary, CERTIFICATION_SECTION)
            # a shared report draws no point resting on fewer than k certified engineers
            # (trial Q, Q3: 8 of 13 points on 1-4, the last one engineer's month)
            points, hidden = self.ctx.event_points(
                cert_ai.to_polars().rename({"e": "event_time", "att": "estimate"}),
                "ai_share",
                count="n_treated",
            )
            shown = chart(
                charts.event_study,
                points,
                empty=hidden or "no event time has a finite estimate",
                title="AI-assisted share of merged PRs by periods since certification",
                y_title="effect on the AI-assisted share",
            )
            return [Markdown(summary), shown, *([Markdown(f"*{hidden}*")] if hidden else [])]

        return in_section(
            self.ctx, "Certification and AI use", run, sink=self.notes, warnings_prefix="AI use: "
        )

    # -- helpers ------------------------------------------------------------------------------
    def _no_adopters(self) -> None:
        from certkit.errors import CertkitError

        raise CertkitError(
            "no engineer adopted AI inside the window (see the section 'Who adopted, and "
            "when'), so no outcome "
            "can be compared before and after adoption"
        )

    def _headline(self, key: str, label: str, text: str, section: str) -> None:
        record = {"topic": "ai", "label": label, "text": text}
        self.ctx.headline(key, record, kind="text", section=section)

    def _run(self, what: str, needs: str | None, outcome: str, one, prefix: str = "") -> list:
        return in_section(
            self.ctx,
            what,
            lambda: one(outcome),
            needs=needs,
            sink=self.notes,
            warnings_prefix=f"{prefix}{label(outcome)}: ",
        )

    def _each(self, title: str, prefix: str, one) -> list:
        from certkit import adoption
        from certkit.narrative import skipped_outcomes

        skipped = [o for o in self.outcomes if o not in self.studies]
        out = [Markdown(skipped_outcomes(skipped, "the effects above"))] if skipped else []
        for outcome in [o for o in self.outcomes if o in self.studies]:
            what = f"{title}, {label(outcome)}"
            start = len(self.notes)
            out += self._run(
                what, adoption.needs(outcome, self.ctx.adoption_panel), outcome, one, f"{prefix}, "
            )
            # the check's re-estimate reruns a pre-trend test; the outcome's verdict is the
            # effect section's (:func:`certkit.report.studies.check_warnings` says why)
            said = f"{prefix}, {label(outcome)}: pre-trends:"
            self.notes[start:] = [n for n in self.notes[start:] if not n.startswith(said)]
        return out


def second_sentence(text: str, clause: str) -> str:
    """``text`` with ``clause`` added to its second sentence ("...; <clause>."), where the
    index's answer box, which keeps the first two sentences, still shows it; at the end when
    ``text`` has a single sentence. Sentences split as the answer box splits them (a full
    stop, then a capital)."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text.strip())
    i = min(1, len(parts) - 1)
    parts[i] = f"{parts[i].rstrip('.')}; {clause}."
    return " ".join(parts)


def adoption_study(
    ctx: Context,
    outcomes: list[str],
    *,
    threshold: float,
    sustain: int,
    min_prs: int,
    control: str = "not_yet",
    min_e: int = -6,
    max_e: int = 12,
    notes: list[str] | None = None,
) -> AdoptionStudy:
    """Define adoption from the data and prepare notebook 06's studies.

    Parameters
    ----------
    ctx
        The report context (:func:`certkit.report.setup`).
    outcomes
        Panel outcomes the effect of adopting AI is estimated on.
    threshold, sustain, min_prs
        The adoption definition (:class:`certkit.adoption.AdoptionDefinition`).
    control
        Comparison group of the adoption DiD: ``not_yet`` or ``never``.
    min_e, max_e
        Event times shown.
    notes
        Where the sections' reasons and warnings are collected (the page's notes).
    """
    from certkit import adoption

    definition = adoption.AdoptionDefinition(threshold=threshold, sustain=sustain, min_prs=min_prs)
    return AdoptionStudy(
        ctx=ctx,
        outcomes=list(outcomes),
        definition=definition,
        cohorts=adoption.adoption_cohorts(ctx.adoption_panel, definition),
        notes=ctx.notes if notes is None else notes,
        control=control,
        min_e=min_e,
        max_e=max_e,
    )
