# ruff: noqa: E402  (percent-format notebook: imports follow the parameters cell)
# %% [markdown]
# # Certification impact
#
# Did engineers' outcomes change after they earned an ML certification? A staggered
# difference-in-differences (Callaway & Sant'Anna) compares each certification cohort with
# engineers not (yet) certified, month by month. The naive two-way fixed-effects regression is
# shown next to it because it can mislead when engineers certify at different times.

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
control_group: str = "not_yet"  # comparison group: not_yet (never + not yet certified) or never
method: str = "dr"  # estimator: dr (doubly robust), ipw or reg
min_e: int = -6  # earliest period relative to certification shown
max_e: int = 12  # latest period relative to certification shown
by_certification: bool = True  # also estimate the effect per certification

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
spec = studies.did_spec(control_group, method)
control = spec["control"]
notes = list(ctx.notes)
impact = studies.did_effects(ctx, outcomes, spec, min_e=min_e, max_e=max_e, notes=notes)
effects = impact.effects

# %% [markdown]
# ## Summary

# %%
display(Markdown(f"*Data: {ctx.scope()}.*"))
display(
    Markdown(
        story.summarize(
            effects,
            f"Callaway & Sant'Anna DiD, {control} comparison; the overall effect averages "
            "every certified engineer-period after certification (R did's simple aggregation; "
            "the event studies below show it period by period)",
            story.cycle_time_note(ctx.ds, outcomes),
            k=privacy_k,
        )
    )
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
            "baseline",
            "relative",
            "pre_trends",
        ),
        percent=["relative"],
    )
)

# %% [markdown]
# ## Event studies
# Each point is the average effect that many periods after certification (negative = before).
# Before certification the points should hover around zero: that is the pre-trend check. The
# dashed red line marks certification; the band is the 95 % confidence interval.

# %%
display(*impact.event_study_displays())

# %% [markdown]
# ## Two-way fixed effects, for contrast
# The common regression with engineer and period fixed effects. With staggered certification
# and effects that grow over time it compares late with early certifiers and can be biased;
# the verdict says whether that matters here.

# %%
contrast = studies.twfe_contrast(ctx, outcomes, spec, notes, skip=impact.not_estimated)
display(table(contrast))

# %% [markdown]
# ## Sensitivity to non-parallel trends (HonestDiD)
# The estimates assume that, without certification, certified engineers' outcomes would have
# moved like the comparison group's. How large a violation of that after certification would
# overturn the first post-certification effect? Each chart shows the usual confidence interval,
# then the robust one when post-certification trend violations may be up to Mbar times the
# largest one seen before certification (Rambachan & Roth's relative magnitudes, as R
# HonestDiD). The target is the effect in the certification period itself (e = 0, as R's
# default); the event study here compares every period with the last one before
# certification (universal base period), as the method requires, and keeps the first few
# periods after certification.

# %%
SENSITIVITY_MAX_E = 4  # post-certification periods the bound constrains (keeps this fast)
honest = studies.honest_sections(
    ctx,
    outcomes,
    spec,
    min_e=min_e,
    max_e=min(max_e, SENSITIVITY_MAX_E),
    notes=notes,
    skip=impact.not_estimated,
)

# %% [markdown]
# ## Robustness: do other modern estimators agree?
# Callaway & Sant'Anna (never-treated and not-yet-treated comparisons), Sun & Abraham and the
# imputation estimator of Borusyak, Jaravel & Spiess all allow effects that differ across
# cohorts and grow over time; static TWFE is shown as the contrast that does not. They weight
# cohorts and periods slightly differently, so some spread is expected.

# %%
robust = studies.robustness_sections(ctx, outcomes, spec, notes=notes, skip=impact.not_estimated)

# %% [markdown]
# ## Per certification
# The same overall effect estimated separately for each certification, comparing its holders with
# engineers who hold none of the certifications. Certifications held by fewer engineers than the
# reporting threshold are left out.

# %%
by_cert = studies.per_certification(
    ctx,
    outcomes,
    spec,
    period=period,
    notes=notes,
    enabled=by_certification,
    min_e=min_e,
    max_e=max_e,
)
display(*by_cert.displays())

# %% [markdown]
# ## Assumptions behind these numbers

# %%
display(Markdown(story.assumptions_md(story.DID_ASSUMPTIONS)))
display(HTML(ctx.warnings_html(notes, "Notes and warnings from the estimation")))
