# ruff: noqa: E402  (percent-format notebook: imports follow the parameters cell)
# %% [markdown]
# # Data health
#
# Is the data good enough to answer the question? This notebook checks coverage per table and
# period, missing values and outliers, and lists every validation finding. It makes no causal
# claim; read it before the impact notebooks.

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
individuals: bool = False  # allow individual-level views (pseudonymized when shared)

# %%
import polars as pl
from IPython.display import HTML, Markdown, display

from certkit import charts
from certkit.data import dating
from certkit.data.repositories import repositories
from certkit.report import chart, health, health_values, setup, table
from certkit.report.study_health import import_notes_display

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
    individuals=individuals,
)
cov = health.coverage(ctx.ds, period)
miss = health.missing(ctx.ds)
out = health.outliers(ctx.ds, ctx.panel)
approx = dating.approximated_dates(ctx.ds)
team_table = health.teams(ctx.ds, ctx.k)
values = health_values(ctx, approx)
ctx.headline("health", values, kind="health", section="Summary")
hidden = (
    ctx.ds.human_engineers()["team"].n_unique()
    - team_table.filter(pl.col("team") != "other").height
)

# %% [markdown]
# ## Summary

# %%
display(ctx.answer())
display(
    Markdown(
        health.narrative(
            ctx.ds,
            cov,
            miss,
            out,
            hidden_teams=hidden if share else 0,
            approximated=approx,
            full=ctx.full,
            panel=ctx.panel,
            period=period,
            k=ctx.k,
        )
    )
)
# what the answer box says beyond the narrative: its numbers are this section's
said = [values[key] for key in ("panel_end", "outside_window", "ending_apart", "starting_apart")]
said = [text[0].upper() + text[1:] + "." for text in said if text]
if values["notes"]:
    said.append(
        f"{values['notes']} note(s) from loading and building the panel: see the end of the page."
    )
if said:
    display(Markdown("\n\n".join(said)))

# %% [markdown]
# ## Coverage per table and period
# Rows per period by each table's main date (pull requests by creation, certifications by the
# date earned, defects and incidents by the date reported) and the number of engineers who opened
# a pull request. A dip is an export gap or a real change; check before trusting those periods.

# %%
shown, thin = health.coverage_shown(cov, ctx.k if share else 1)
if thin:
    display(Markdown(thin))
chart(
    charts.lines,
    shown.filter(pl.col("table") != "certifications"),
    empty="no table has dated rows",
    x="period",
    y="rows",
    facet="table",
    title="Rows per period",
    y_title="rows",
)

# %%
chart(
    charts.bars,
    health.certifications(ctx.ds, ctx.k),
    empty=f"no certification has {ctx.k} or more holders (smaller groups are hidden)"
    if ctx.k > 1
    else "no certification records",
    x="engineers",
    y="certification",
    title="Engineers per certification",
    x_title="engineers",
)

# %% [markdown]
# ## Teams
# People and certified people per team. In a shared report, teams with fewer people than the
# privacy threshold are merged into "other" (and hidden when "other" is itself too small), and a
# team's certified count and share are shown only when at least that many of its people are
# certified and at least that many are not ("5 of 5 certified" would tell each one's status).

# %%
display(table(team_table, percent=["certified_share"]))
if share and team_table["certified"].null_count():
    display(
        Markdown(
            f"&ndash;: fewer than {ctx.k} of the team's people are certified, or fewer than "
            f"{ctx.k} are not (a shared report does not show either)."
        )
    )

# %% [markdown]
# ## Repositories
# Every pull request of the data (bots' too, whatever the filters), merged pull requests and
# authors (engineers, bots left out) per repository, with the first and last pull request of
# each. Histories that end months apart usually mean that one clone or export is older than the
# others. In a shared report, repositories with fewer authors than the privacy threshold are
# merged into "other".

# %%
authors = ctx.full.human_engineers()["engineer_id"]
display(table(repositories(ctx.full.pull_requests, authors, ctx.k)))
ends = values["ending_apart"]
if ends:
    display(Markdown(ends[0].upper() + ends[1:] + "."))

# %% [markdown]
# ## Missing values

# %%
shown = health.missing_shared(miss, ctx.k) if share else miss  # no group under k
display(table(shown, percent=["missing_share"]) if miss.height else Markdown("No missing values."))

# %% [markdown]
# ## Creation dates approximated from git
# Git does not record when a pull request was opened, nor when a change merged by fast-forward
# was merged. For squash merges, direct pushes and fast-forwarded changes the import can only
# guess, so the time from creation to merge would be wrong: these PRs are left out of cycle time
# and time to first review (they still count everywhere else). A `gh` export
# (`certkit import git --github`) supplies the real dates of GitHub PRs.

# %%
if approx.height:
    display(table(approx))
display(Markdown(dating.first_commit_dates(ctx.ds)))

# %% [markdown]
# ## Outliers
# Counts only: outliers are kept in the analysis (medians and logs make it robust to them), but a
# large share points at a data problem (bots, auto-merges, a time zone mix-up).

# %%
display(table(out, percent=["share"]))

# %% [markdown]
# ## Engineers to look at (individual level)
# Only when individual-level views are enabled (`individuals=True`); in a shared report the ids
# are pseudonymized with a keyed hash and names are never shown.

# %%
if ctx.privacy.individuals:
    flags = ctx.privacy.engineer_ids(health.engineer_flags(ctx.panel))
    if ctx.privacy.share:
        flags = flags.drop("team")  # a team plus a flag could single someone out
    display(table(flags) if flags.height else Markdown("No engineer is flagged."))
else:
    display(Markdown("Individual-level views are off (set `individuals=True` to list them)."))

# %% [markdown]
# ## Notes from the import
# What `certkit import` said when it read the data: reverts it could not place, work pushed
# without a PR, AI use said only in words, identities to check. Kept in the data folder's
# `import.json`.

# %%
display(HTML(import_notes_display(ctx)))

# %% [markdown]
# ## Validation report
# Every finding of `certkit validate` on the data folder (in a shared report, engineer ids in the
# messages are redacted).

# %%
findings = ctx.validation_findings()
display(table(findings) if findings.height else Markdown("Validation passed: no problems found."))
display(HTML(ctx.warnings_html(ctx.notes, "Notes from loading and building the panel")))
