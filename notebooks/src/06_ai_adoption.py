# ruff: noqa: E402  (percent-format notebook: imports follow the parameters cell)
# %% [markdown]
# # AI adoption impact
#
# What changes when an engineer starts using AI tools: a staggered difference-in-differences
# that compares engineers after they adopt AI with engineers who have not adopted (yet), and
# whether certified engineers' adoption effect differs. Adoption is chosen, not assigned, and
# AI attribution from commit and PR traces is a lower bound: read the assumptions at the end.

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
    "merged_prs",
    "cycle_time_log_median",
    "revert_rate",
    "rework_rate",
]  # panel outcomes
adoption_threshold: float = 0.5  # share of an engineer's merged PRs that are AI-assisted
adoption_sustain: int = 2  # periods in a row at or above the threshold
adoption_min_prs: int = 1  # merged PRs a period needs to count
min_e: int = -6  # first period relative to adoption shown
max_e: int = 6  # last period relative to adoption shown
control: str = "not_yet"  # comparison group: not_yet (not adopted yet, and never) or never

# %%
from IPython.display import HTML, display

from certkit import adoption
from certkit.report import setup, studies

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
study = studies.adoption_study(
    ctx,
    outcomes,
    threshold=adoption_threshold,
    sustain=adoption_sustain,
    min_prs=adoption_min_prs,
    control=control,
    min_e=min_e,
    max_e=max_e,
    notes=notes,
)

# %% [markdown]
# ## Who adopted, and when

# %%
display(*study.overview_displays())

# %% [markdown]
# ## Effect of adopting AI, by outcome
# Each estimate compares engineers after adoption with engineers who had not adopted yet (or
# never did), period by period (Callaway & Sant'Anna). The last column counts the adopters
# behind each estimate (engineers, not engineer-periods).

# %%
display(*study.effect_displays())

# %% [markdown]
# ## Sensitivity to non-parallel trends (HonestDiD)
# The estimates assume that, without AI, adopters' outcomes would have moved like those of
# engineers who had not adopted yet. How large a violation of that after adoption would
# overturn the effect in the period of adoption (e = 0)? Each chart shows the usual interval,
# then the robust one when post-adoption trend violations may be up to Mbar times the largest
# one seen before adoption (Rambachan & Roth's relative magnitudes, as R HonestDiD). The event
# study behind it compares every period with the last one before adoption.

# %%
display(*study.sensitivity_displays(max_e=4))

# %% [markdown]
# ## Robustness: do other modern estimators agree?
# Callaway & Sant'Anna (never and not-yet adopters as comparison), Sun & Abraham and the
# imputation estimator of Borusyak, Jaravel & Spiess allow effects that differ across adoption
# cohorts and change over time; static TWFE is the contrast that does not. They weight cohorts
# and periods differently: with an effect that fades, some spread is expected.

# %%
display(*study.robustness_displays())

# %% [markdown]
# ## Does certification change AI use?
# The certification event study on the AI-assisted share of merged PRs.

# %%
display(*study.certification_displays())

# %% [markdown]
# ## Assumptions and caveats

# %%
display(HTML(ctx.warnings_html(notes + [adoption.CAVEATS])))
