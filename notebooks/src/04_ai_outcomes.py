# ruff: noqa: E402  (percent-format notebook: imports follow the parameters cell)
# %% [markdown]
# # AI outcomes and adoption
#
# How do AI-assisted pull requests land compared with the same engineers' other pull requests,
# how fast is AI assistance spreading across teams, and where does AI-assisted work need
# attention first? Comparisons are within author (same engineer, repository and month).

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
from certkit.report import collect_warnings, setup, story, table

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
with collect_warnings(notes, "AI comparison: "):
    cmp = ai.compare(ctx.ds, outcomes=tuple(ai_outcomes), by_certification=True)
with collect_warnings(notes, "adoption: "):
    adopt = ai.adoption(view, by=adoption_by, period=period, k=max(ctx.k, 1))
with collect_warnings(notes, "fix-first: "):
    ff = ai.fix_first(view, fdr=fdr, k=max(ctx.k, 1))
with collect_warnings(notes, "trust scores: "):
    trust = ai.trust_scores(view).by_team(max(ctx.k, 1))
comparison = cmp.to_polars()
adoption = adopt.to_polars()
flagged = ff.flagged()

# %% [markdown]
# ## Summary

# %%
display(Markdown(f"*Data: {ctx.scope()}.*"))
display(Markdown(story.ai_summary(comparison, adoption, flagged.height)))

# %% [markdown]
# ## AI-assisted vs other pull requests
# *naive* is the raw difference; *adjusted* compares PRs of the same author in the same repository
# and month, with PR size held fixed; *certified_extra* is how much more (or less) the AI effect
# is for certified engineers.

# %%
display(
    table(
        comparison.select(
            "outcome", "comparison", "estimate", "ci_low", "ci_high", "p_value", "relative", "n_prs"
        ),
        percent=["relative"],
    )
)
display(cmp.plot())

# %% [markdown]
# ## Adoption by team and month
# Share of merged PRs that were AI-assisted. Empty cells have fewer engineers than the
# reporting threshold.

# %%
heat = adoption.filter(~pl.col("suppressed")) if "suppressed" in adoption.columns else adoption
display(
    charts.heatmap(
        heat, x="period", y=adoption_by, color="ai_share", title=f"AI adoption by {adoption_by}"
    )
)
display(
    charts.cohort_trends(
        ctx.panel,
        "ai_share",
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
if flagged.height:
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
display(table(trust))

# %% [markdown]
# ## Assumptions behind these numbers

# %%
display(Markdown(story.assumptions_md(story.AI_ASSUMPTIONS)))
display(HTML(ctx.warnings_html(notes, "Notes and warnings")))
