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
fix_links: str = "drop"  # a defect linked to a PR merged after it: drop (its fix) or keep
keep_partial_end: bool = False  # keep the data's last period when the data end inside it
privacy_k: int = 5  # smallest group of people shown in a shared report
share: bool = False  # shared report: no individual engineers, small groups hidden
# PR-level outcomes compared (rework where the git line ledger measured it)
ai_outcomes: list[str] = ["cycle_time_log", "reverted", "defect", "rework"]
adoption_by: str = "team"  # adoption heatmap rows: team, platform, role or level
fdr: float = 0.05  # false discovery rate of the fix-first list

# %%
from IPython.display import HTML, Markdown, display

from certkit.report import setup, story, studies

ctx = setup(
    data,
    period=period,
    teams=teams,
    certifications=certifications,
    start=start,
    end=end,
    fix_links=fix_links,
    keep_partial_end=keep_partial_end,
    privacy_k=privacy_k,
    share=share,
)
notes = list(ctx.notes)
study = studies.ai_study(
    ctx, ai_outcomes, adoption_by=adoption_by, fdr=fdr, period=period, notes=notes
)

# %% [markdown]
# ## Summary

# %%
display(*study.summary_displays())

# %% [markdown]
# ## AI-assisted vs other pull requests
# *naive* is the raw difference; *adjusted* compares PRs of the same author in the same repository
# and month, with PR size held fixed; *certified_extra* is how much more (or less) the AI effect
# is for certified engineers.

# %%
display(*study.comparison_displays())

# %% [markdown]
# ## Adoption by team and month
# Share of merged PRs that were AI-assisted. An empty cell is a team without a PR that
# month, or, in a shared report, one the privacy rules leave out (the note under the chart
# counts them).

# %%
display(*study.adoption_displays())

# %% [markdown]
# ## Where to look first
# Team x repository cells where AI-assisted PRs cause defects measurably more often than the
# same cell's other PRs (Benjamini-Hochberg at the chosen false discovery rate), and how safely
# each team's AI-assisted work lands: AI-assisted PRs reverted or linked to a defect, against
# each engineer's own other PRs (team medians of empirical-Bayes scores).

# %%
display(*study.fix_first_displays())

# %% [markdown]
# ## Assumptions behind these numbers

# %%
display(Markdown(story.assumptions_md(story.AI_ASSUMPTIONS)))
display(HTML(ctx.warnings_html(notes, "Notes and warnings")))
