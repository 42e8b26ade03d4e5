# ruff: noqa: E402  (percent-format notebook: imports follow the parameters cell)
# %% [markdown]
# # Certification ROI: executive summary
#
# What is the certification programme worth? The estimated effects of certification (staggered
# difference-in-differences on monthly data) are turned into money with explicit assumptions,
# and both the estimation uncertainty and the assumption ranges are carried through a Monte Carlo
# simulation.

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
teams: list[str] | None = None  # restrict to these teams (default: all)
certifications: list[str] | None = None  # certification ids or names to study (default: all)
start: str | None = None  # first day of pull requests to include, YYYY-MM-DD
end: str | None = None  # last day of pull requests to include, YYYY-MM-DD
fix_links: str = "drop"  # a defect linked to a PR merged after it: drop (its fix) or keep
keep_partial_end: bool = False  # keep the data's last period when the data end inside it
privacy_k: int = 5  # smallest group of people shown in a shared report
share: bool = False  # shared report: no individual engineers, small groups hidden
control_group: str = "not_yet"  # comparison group of the DiD: not_yet or never
horizon_months: float = 12.0  # months of benefit counted per certified engineer
certification: str | None = None  # price the exam from the catalog (default: costs in the data)
hourly_cost: float | None = None  # loaded cost of an engineer hour, USD (default: 75-150)
value_per_pr: float | None = None  # value of one more merged PR, USD (default: 250-1000)
cost_per_defect: float | None = None  # cost of a defect found after merge, USD (default: 500-3000)
cost_per_incident: float | None = None  # cost of a production incident, USD (default: 2k-30k)
n_sims: int = 20000  # Monte Carlo simulations
seed: int = 0  # random seed of the simulation

# %%
from IPython.display import HTML, Markdown, display

from certkit import charts, roi
from certkit.report import collect_warnings, setup, story, studies, table

ctx = setup(
    data,
    period="month",  # ROI units are per engineer-month
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
spec = studies.did_spec(control_group)
spec.pop("method")  # the default (doubly robust)
effects, effect_rows = studies.roi_effects(ctx, spec, notes=notes)
assumptions = {
    k: v
    for k, v in dict(
        hourly_cost=hourly_cost,
        value_per_pr=value_per_pr,
        cost_per_defect=cost_per_defect,
        cost_per_incident=cost_per_incident,
    ).items()
    if v is not None
}
if certification is None:
    with ctx.section("costs from the data", show=False) as costs:
        assumptions = roi.costs_from_data(ctx.ds.certifications) | assumptions
    if not costs.ok:
        notes.append(f"costs: {costs.reason}; default exam fee and study hours used")
certified, _ = studies.roi_engineers(ctx)  # those the effects rest on (in the panel)
answer = ctx.section("Return on investment", show=False, sink=notes)
result = None
with answer, collect_warnings(notes, "ROI: "):
    result = roi.roi(
        effects,
        horizon_months=horizon_months,
        n_engineers=max(certified, 1),
        certification=certification,
        n_sims=n_sims,
        seed=seed,
        **assumptions,
    )
    notes += [w for w in result.warnings if w not in notes]

# %% [markdown]
# ## The answer

# %%
display(
    studies.roi_answer(
        ctx,
        result,
        answer,
        horizon_months=horizon_months,
        section="The answer",
        caveats=studies.roi_caveats(effect_rows, k=privacy_k),
        undone=studies.roi_not_evidence(effect_rows),
    )
)
display(Markdown(f"*Data: {ctx.scope()}.*"))

# %% [markdown]
# ## Where the value comes from
# The effects of certification that the value is built on (observational estimates, staggered
# DiD against not-yet-certified engineers), and the value per certified engineer. Cycle time is
# not valued here: the hours a faster PR cycle saves are largely those that more merged PRs
# already count, and valuing both would count them twice (its effect is on the certification
# impact page).

# %%
display(Markdown(story.summarize(effect_rows, "Callaway & Sant'Anna DiD", k=privacy_k)))
display(
    table(
        effect_rows.select("label", "estimate", "ci_low", "ci_high", "p_value", "relative"),
        percent=["relative"],
    )
)
if result is not None:
    display(table(studies.roi_table(result)))

# %%
if result is not None:
    display(
        charts.distribution(
            result.draws["roi"],
            title=f"ROI per certified engineer over {horizon_months:g} months (simulations)",
            x_title="return on investment (0 = break-even)",
            x_format=".0%",
        )
    )

# %% [markdown]
# ## What the answer depends on
# How much the median ROI moves when each assumption goes from its low to its high value.

# %%
if result is None:
    display(Markdown("No sensitivity analysis without an ROI estimate (see above)."))
else:
    with ctx.section("Sensitivity of the ROI"):
        display(result.plot_sensitivity())

# %% [markdown]
# ## Assumptions
# Money values are assumptions, not data: replace them with your organisation's figures
# (parameters of this notebook).

# %%
display(
    studies.assumptions_table(
        result.assumptions if result is not None else assumptions,
        units=[e.unit for e in effects],
    )
)
display(Markdown(story.assumptions_md(story.DID_ASSUMPTIONS)))
display(HTML(ctx.warnings_html(notes, "Notes and warnings")))
