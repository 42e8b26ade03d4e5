# ruff: noqa: E402  (percent-format notebook: imports follow the parameters cell)
# %% [markdown]
# # Matched cohorts
#
# A second, independent look at the certification effect: each certified engineer is paired
# with a similar peer who had not certified yet (same kind of role, level, platform, tenure and
# recent outcomes), and the change after certification is compared within the pair (matched
# difference-in-differences). Balance before and after matching shows whether the pairs are
# comparable; the sensitivity analysis asks how strong a hidden factor would have to be to
# explain the result away.

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
outcomes: list[str] = [
    "cycle_time_log_median",
    "merged_prs",
    "defects_per_pr",
    "incidents",
]  # panel outcomes
covariates: list[str] = [
    "role",
    "level",
    "platform",
    "tenure_months",
]  # matched on (plus pre-period outcome)
pre_periods: int = 3  # periods before certification used for matching
post_periods: int = 6  # periods after certification in the effect
caliper: float = 0.2  # largest allowed propensity distance, in SDs of the score

# %%
from IPython.display import HTML, Markdown, display

from certkit.report import setup, story, studies, table

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
matched = studies.matched_effects(
    ctx,
    outcomes,
    covariates=covariates,
    pre_periods=pre_periods,
    post_periods=post_periods,
    caliper=caliper,
    notes=notes,
)
effects, results = matched.effects, matched.results

# %% [markdown]
# ## Summary

# %%
sens_lines = matched.summary_lines(ctx, section="Sensitivity to hidden confounding")
sens_lines += story.cycle_time_note(ctx.ds, outcomes)
display(Markdown(f"*Data: {ctx.scope()}.*"))
display(
    Markdown(story.summarize(effects, "matched difference-in-differences", sens_lines, k=privacy_k))
)

# %%
display(
    table(
        effects.select(
            "label",
            "certified_engineers",
            "estimate",
            "ci_low",
            "ci_high",
            "p_value",
            "relative",
            "matched_sets",
            "critical_gamma",
            "e_value",
        ),
        percent=["relative"],
    )
)

# %% [markdown]
# ## Balance before and after matching
# A love plot: each dot is the standardized mean difference between certified engineers and their
# matched peers, before (grey) and after (blue) matching. After matching the blue dots should sit
# left of the dashed line at 0.1.

# %%
with ctx.section("Covariate balance"):
    display(matched.love_plot(), table(matched.balance()))

# %% [markdown]
# ## Effect by period since certification

# %%
display(*matched.event_study_displays(ctx))

# %% [markdown]
# ## Sensitivity to hidden confounding
# Rosenbaum bounds: gamma is how much a hidden factor could change the odds of certifying within
# a matched pair. The effect stays significant up to the critical gamma. The E-value is the
# strength of association (risk-ratio scale) a confounder would need with both certifying and
# the outcome.

# %%
display(*matched.sensitivity_displays())

# %% [markdown]
# ## Assumptions behind these numbers

# %%
display(Markdown(story.assumptions_md(story.MATCHING_ASSUMPTIONS)))
display(HTML(ctx.warnings_html(notes, "Notes and warnings from matching")))
