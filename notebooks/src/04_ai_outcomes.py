# ruff: noqa: E402  (percent-format notebook: imports follow the parameters cell)
# %% [markdown]
# # AI outcomes and adoption
#
# How do AI-assisted pull requests land compared with the same engineers' other pull requests,
# how fast is AI assistance spreading across teams, and where does AI-assisted work need
# attention first? Comparisons are within author (same engineer, repository and month).

# %% [markdown] tags=["remove-cell"]
# **How to use this notebook.** Edit the values in the parameters cell below, then run every
# cell (*Run > Run All Cells*). `data` is a folder of input tables (see `docs/data-model.md`);
# a relative path is read from the folder JupyterLab runs this notebook in, else from the
# certkit repository (so the default `data/sample` always works). Check your own data first
# with `certkit validate PATH`: it lists every problem with file, column and line. To get the
# shareable HTML page instead, run `certkit report --notebook NAME --data PATH --share`.
# This cell is not shown in reports.

# %% tags=["parameters"]
data: str = "data/sample"  # data folder (engineers, certifications, pull_requests, ...)
period: str = "month"  # period of the panel: week, month or quarter
teams: list[str] | None = None  # restrict to these teams (default: all)
certifications: list[str] | None = None  # certification ids or names to study (default: all)
start: str | None = None  # first day of pull requests to include, YYYY-MM-DD
end: str | None = None  # last day of pull requests to include, YYYY-MM-DD
privacy_k: int = 5  # smallest group of people shown in a shared report
share: bool = False  # shared report: no individual engineers, small groups hidden
ai_outcomes: list[str] = ["cycle_time_log", "reverted", "defect"]  # PR-level outcomes compared
adoption_by: str = "team"  # adoption heatmap rows: team, platform, role or level
fdr: float = 0.05  # false discovery rate of the fix-first list

# %%
import polars as pl
from IPython.display import HTML, Markdown, display

from certkit import ai, charts
from certkit.privacy import certified_engineers
from certkit.report import chart, collect_warnings, landing, setup, story, table

ctx = setup(
    data,
    period=period,
    teams=teams,
    certifications=certifications,
    start=start,
    end=end,
    privacy_k=privacy_k,
    share=share,
)
notes = list(ctx.notes)
view = ctx.team_view()  # small teams merged into "other" in shared reports
k = max(ctx.k, 1)
parts = {
    "comparison": ctx.section("AI-assisted vs other PRs", story.AI_NEEDS, show=False, sink=notes),
    "adoption": ctx.section("Adoption", show=False, sink=notes),
    "fix_first": ctx.section("Fix-first list", show=False, sink=notes),
    "trust": ctx.section("Trust scores", story.TRUST_NEEDS, show=False, sink=notes),
}
comparison = adoption = flagged = trust = cmp = None
with parts["comparison"], collect_warnings(notes, "AI comparison: "):
    cmp = ai.compare(ctx.ds, outcomes=tuple(ai_outcomes), by_certification=True)
    comparison, hidden_cmp = ctx.hide_small(cmp.to_polars(), "n_authors")
    comparison, hidden_cert = ctx.hide_small(
        comparison, "n_certified_authors", pl.col("comparison") == "certified_extra"
    )
with parts["adoption"], collect_warnings(notes, "adoption: "):
    adoption = ai.adoption(view, by=adoption_by, period=period, k=k).to_polars()
with parts["fix_first"], collect_warnings(notes, "fix-first: "):
    flagged = ai.fix_first(view, fdr=fdr, k=k).flagged()
with parts["trust"], collect_warnings(notes, "trust scores: "):
    trust = ai.trust_scores(view).by_team(k)
skipped = {name: sec.reason for name, sec in parts.items() if not sec.ok}
n_flagged = None if flagged is None else flagged.height
ai_headline = landing.ai_values(comparison, adoption, n_flagged, skipped, story.AI_LABELS)
ctx.headline("ai", ai_headline, kind="ai", section="Summary")

# %% [markdown]
# ## Summary

# %%
display(Markdown(f"*Data: {ctx.scope()}.*"))
display(
    Markdown(
        story.ai_summary(
            comparison,
            adoption,
            n_flagged,
            skipped,
        )
    )
)
for line in story.cycle_time_note(ctx.ds, ai_outcomes):
    display(Markdown(f"*{line}*"))

# %% [markdown]
# ## AI-assisted vs other pull requests
# *naive* is the raw difference; *adjusted* compares PRs of the same author in the same repository
# and month, with PR size held fixed; *certified_extra* is how much more (or less) the AI effect
# is for certified engineers.

# %%
if comparison is None:
    display(HTML(parts["comparison"].html()))
else:
    display(
        table(
            comparison.select(
                "outcome",
                "comparison",
                "estimate",
                "ci_low",
                "ci_high",
                "p_value",
                "relative",
                "n_prs",
                "n_authors",
            ),
            percent=["relative"],
        )
    )
    for note in (hidden_cmp, hidden_cert):
        if note:
            display(Markdown(f"*{note}*"))
    if not hidden_cmp:  # the chart would show the hidden rows
        with ctx.section("Comparison chart"):
            display(cmp.plot())

# %% [markdown]
# ## Adoption by team and month
# Share of merged PRs that were AI-assisted. Empty cells have fewer engineers than the
# reporting threshold.

# %%
if adoption is None:
    display(HTML(parts["adoption"].html()))
else:
    heat = adoption.filter(~pl.col("suppressed")) if "suppressed" in adoption.columns else adoption
    display(
        chart(
            charts.heatmap,
            heat.select("period", adoption_by, "ai_share"),
            empty=f"every {adoption_by} x month cell has fewer than {k} engineers",
            x="period",
            y=adoption_by,
            color="ai_share",
            title=f"AI adoption by {adoption_by}",
        )
    )
with ctx.section("AI-assisted share, certified vs never certified"):
    ctx.require(certified_engineers(ctx.panel, "ai_share"), "the certified engineers' AI share")
    display(
        chart(
            charts.cohort_trends,
            ctx.panel,
            empty="no merged PRs with a known AI share",
            outcome="ai_share",
            title="AI-assisted share: certified vs never certified",
            y_title="AI-assisted share",
        )
    )

# %% [markdown]
# ## Where to look first
# Team x repository cells where AI-assisted PRs cause defects measurably more often than the
# same cell's other PRs (Benjamini-Hochberg at the chosen false discovery rate), and how safely
# each team's AI-assisted work lands (team medians of empirical-Bayes scores).

# %%
if flagged is None:
    display(HTML(parts["fix_first"].html()))
elif flagged.height:
    display(
        table(
            flagged.select(
                "rank", "team", "repo", "ai_prs", "ai_rate", "non_ai_rate", "risk_ratio", "q_value"
            ),
            percent=["ai_rate", "non_ai_rate"],
        )
    )
else:
    display(Markdown("No team x repository cell stands out at this false discovery rate."))
if trust is None:
    display(HTML(parts["trust"].html()))
elif trust.height:
    display(table(trust))
else:
    display(Markdown(f"Trust scores: no team has {k} or more scored engineers to show."))

# %% [markdown]
# ## Assumptions behind these numbers

# %%
display(Markdown(story.assumptions_md(story.AI_ASSUMPTIONS)))
display(HTML(ctx.warnings_html(notes, "Notes and warnings")))
