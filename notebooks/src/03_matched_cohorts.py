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
import polars as pl
from IPython.display import HTML, Markdown, display

from certkit import charts, matching
from certkit.report import chart, collect_warnings, setup, story, table

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
results, rows = {}, []
for outcome in outcomes:
    with ctx.section(story.label(outcome), story.MATCHING_NEEDS, show=False, sink=notes) as s:
        with collect_warnings(notes, f"{outcome}: "):
            res = matching.matched_did(
                ctx.panel,
                outcome=outcome,
                covariates=covariates,
                pre_periods=pre_periods,
                post_periods=post_periods,
                caliper=caliper,
            )
        ctx.require(res.n_treated, f"the matched {story.label(outcome)} estimate")
        row = story.effect_of(outcome, res, ctx.panel)
        sens = res.sensitivity
        row |= {
            "certified_engineers": res.n_treated,
            "matched_sets": res.n_pairs,
            "critical_gamma": sens.get("critical_gamma"),
            "e_value": sens.get("e_value"),
        }
        results[outcome] = res
        notes += [f"{outcome}: {w}" for w in res.warnings if f"{outcome}: {w}" not in notes]
    if not s.ok:
        row = story.not_estimated(outcome, s.explanation)
    rows.append(row)
    ctx.effect_headline(
        row | {"needs": story.MATCHING_NEEDS},
        design="matched DiD",
        comparison="matched peers (similar role, level, platform, tenure, recent outcomes)",
        section="Summary",
    )
effects = pl.DataFrame(rows, infer_schema_length=None)
for col in ("certified_engineers", "matched_sets", "critical_gamma", "e_value"):
    if col not in effects.columns:
        effects = effects.with_columns(pl.lit(None, dtype=pl.Float64).alias(col))


def balance_summary(res) -> dict:
    b = res.balance().filter(pl.col("term") != "distance")
    smd = b.pivot(on="sample", index="term", values="smd")
    return {
        "max |SMD| before": float(smd["all"].abs().max()),
        "max |SMD| after": float(smd["matched"].abs().max()),
        "terms over 0.1 after": int((smd["matched"].abs() > 0.1).sum()),
    }


balance = pl.DataFrame(
    [{"outcome": story.label(o)} | balance_summary(r) for o, r in results.items()],
    schema={
        "outcome": pl.String,
        "max |SMD| before": pl.Float64,
        "max |SMD| after": pl.Float64,
        "terms over 0.1 after": pl.Int64,
    },
)

# %% [markdown]
# ## Summary

# %%
worst = balance["max |SMD| after"].drop_nans().max()
sens_lines = (
    [
        f"Balance after matching: the largest standardized difference left is {worst:.2f} "
        + (
            "(below the usual 0.1 threshold)."
            if worst < 0.1
            else "(above 0.1 for some terms: see below)."
        )
    ]
    if worst is not None
    else []
)
for r in effects.filter(pl.col("p_value") < 0.05).iter_rows(named=True):
    g = r["critical_gamma"]
    if g is not None and g == g and r["e_value"] is not None:
        sens_lines.append(
            f"{r['label']}: a hidden factor would have to change the odds of certifying by a "
            f"factor of {g:.2f} to explain the effect away (E-value {r['e_value']:.2f})."
        )
        ctx.headline(
            f"sensitivity/rosenbaum/{r['outcome']}",
            {"outcome": r["outcome"], "label": r["label"], "design": "Rosenbaum bounds"}
            | {"text": sens_lines[-1].split(": ", 1)[1]},
            kind="sensitivity",
            section="Sensitivity to hidden confounding",
            n=r["certified_engineers"],
        )
sens_lines += story.cycle_time_note(ctx.ds, outcomes)
display(Markdown(f"*Data: {ctx.scope()}.*"))
display(Markdown(story.summarize(effects, "matched difference-in-differences", sens_lines)))

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
    if not results:
        raise story.NotEstimated("no outcome could be matched (see the summary)")
    first = next(iter(results))
    b = results[first].balance().filter(pl.col("term") != "distance")
    love = b.pivot(on="sample", index="term", values="smd").rename(
        {"term": "covariate", "all": "smd_before", "matched": "smd_after"}
    )
    display(
        chart(
            charts.love_plot,
            love,
            empty="no covariate has a finite standardized difference",
            title=f"Covariate balance (matching for {story.label(first)})",
        )
    )
    display(table(balance))

# %% [markdown]
# ## Effect by period since certification

# %%
for outcome in outcomes:
    if outcome not in results:
        display(
            Markdown(f"*{story.label(outcome)}: not estimated ({story.why(effects, outcome)}).*")
        )
        continue
    points, hidden = ctx.event_points(results[outcome].to_polars(), outcome, count="n_pairs")
    display(
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
        display(Markdown(f"*{hidden}*"))

# %% [markdown]
# ## Sensitivity to hidden confounding
# Rosenbaum bounds: gamma is how much a hidden factor could change the odds of certifying within
# a matched pair. The effect stays significant up to the critical gamma. The E-value is the
# strength of association (risk-ratio scale) a confounder would need with both certifying and
# the outcome.

# %%
shown = 0
for outcome, res in results.items():
    t = res.sensitivity.get("table")
    if t is not None and t.height:
        display(Markdown(f"**{story.label(outcome)}**"))
        display(table(t))
        shown += 1
if not shown:
    display(Markdown("No sensitivity analysis: no outcome was estimated (see the summary)."))

# %% [markdown]
# ## Assumptions behind these numbers

# %%
display(Markdown(story.assumptions_md(story.MATCHING_ASSUMPTIONS)))
display(HTML(ctx.warnings_html(notes, "Notes and warnings from matching")))
