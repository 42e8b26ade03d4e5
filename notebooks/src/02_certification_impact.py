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
import polars as pl
from IPython.display import HTML, Markdown, display

from certkit import charts, did
from certkit.data.panel import build_panel
from certkit.privacy import certified_engineers
from certkit.report import chart, collect_warnings, filter_dataset, setup, story, table

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
control = {"not_yet": "not_yet", "never": "never"}.get(control_group.replace("-", "_"))
if control is None:
    raise ValueError(f"control_group must be 'not_yet' or 'never', not {control_group!r}")
spec = dict(unit="engineer_id", time="period_index", group="cohort", control=control, method=method)

studies, rows, notes = {}, [], list(ctx.notes)
for outcome in outcomes:
    n = certified_engineers(ctx.panel, outcome)
    with ctx.section(story.label(outcome), story.DID_NEEDS, show=False, sink=notes) as s:
        ctx.require(n, f"the {story.label(outcome)} estimate")
        with collect_warnings(notes, f"{outcome}: "):
            es = did.event_study(ctx.panel, outcome=outcome, min_e=min_e, max_e=max_e, **spec)
            overall = did.att_gt(ctx.panel, outcome=outcome, **spec).aggregate("simple")
        row = story.effect_of(outcome, overall, ctx.panel)
        points, hidden = ctx.event_points(
            es.to_polars().rename({"e": "event_time", "att": "estimate"}), outcome
        )
        row["pre_trends"] = story.pretrend_words(points, es.pretrend_verdict)
        studies[outcome] = (points, hidden)
    if not s.ok:
        row = story.not_estimated(outcome, s.explanation) | {"pre_trends": ""}
    rows.append(row | {"certified_engineers": n})
    ctx.effect_headline(
        rows[-1] | {"needs": story.DID_NEEDS},
        design="staggered DiD",
        comparison=f"{control.replace('_', '-')}-certified engineers",
        section="Summary",
    )
effects = pl.DataFrame(rows)
effects_by = dict(zip(effects["outcome"], effects["pre_trends"], strict=True))

# %% [markdown]
# ## Summary

# %%
display(Markdown(f"*Data: {ctx.scope()}.*"))
display(
    Markdown(
        story.summarize(
            effects,
            f"Callaway & Sant'Anna DiD, {control} comparison",
            story.cycle_time_note(ctx.ds, outcomes),
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
for outcome in outcomes:
    if outcome not in studies:
        display(
            Markdown(f"*{story.label(outcome)}: no event study ({story.why(effects, outcome)}).*")
        )
        continue
    points, hidden = studies[outcome]
    display(
        chart(
            charts.event_study,
            points,
            empty=hidden or "no event time has a finite estimate",
            title=f"{story.label(outcome)}: effect by periods since certification",
            y_title=f"effect on {outcome}",
        )
    )
    display(Markdown(f"*Pre-trend check ({story.label(outcome)}):* {effects_by[outcome]} {hidden}"))

# %% [markdown]
# ## Two-way fixed effects, for contrast
# The common regression with engineer and period fixed effects. With staggered certification
# and effects that grow over time it compares late with early certifiers and can be biased;
# the verdict says whether that matters here.

# %%
contrast = []
for outcome in outcomes:
    with ctx.section(f"TWFE, {story.label(outcome)}", show=False, sink=notes) as s:
        ctx.require(certified_engineers(ctx.panel, outcome), "the TWFE estimate")
        with collect_warnings(notes, f"TWFE, {outcome}: "):
            cmp = did.compare_twfe(ctx.panel, outcome=outcome, **spec)
        item = {
            "outcome": story.label(outcome),
            "TWFE": cmp.twfe.estimate,
            "Callaway-Sant'Anna": cmp.cs.overall_att,
            "difference": cmp.difference,
            "verdict": cmp.verdict,
        }
    if not s.ok:
        item = {"outcome": story.label(outcome), "verdict": f"not estimated: {s.reason}"}
    contrast.append(item)
display(table(pl.DataFrame(contrast, infer_schema_length=None)))

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
for outcome in outcomes:
    with ctx.section(f"Sensitivity, {story.label(outcome)}", story.DID_NEEDS, sink=notes):
        ctx.require(certified_engineers(ctx.panel, outcome), "the sensitivity analysis")
        with collect_warnings(notes, f"sensitivity, {outcome}: "):
            universal = did.event_study(
                ctx.panel,
                outcome=outcome,
                min_e=min_e,
                max_e=min(max_e, SENSITIVITY_MAX_E),
                base_period="universal",
                **spec,
            )
            sens = did.honest(result=universal, outcome=story.label(outcome))
        display(
            chart(
                charts.sensitivity,
                sens.plot_data(),
                empty="no robust interval could be computed",
                x_title="Mbar (post-certification violation / largest pre-certification one)",
                title=f"{story.label(outcome)}: sensitivity to non-parallel trends",
            )
        )
        display(Markdown(sens.effect_summary()))
        ctx.headline(
            f"sensitivity/honest-did/{outcome}",
            {
                "outcome": outcome,
                "label": story.label(outcome),
                "design": "HonestDiD",
                "text": sens.effect_summary(),
            },
            kind="sensitivity",
            section="Sensitivity to non-parallel trends (HonestDiD)",
            n=certified_engineers(ctx.panel, outcome),
        )

# %% [markdown]
# ## Robustness: do other modern estimators agree?
# Callaway & Sant'Anna (never-treated and not-yet-treated comparisons), Sun & Abraham and the
# imputation estimator of Borusyak, Jaravel & Spiess all allow effects that differ across
# cohorts and grow over time; static TWFE is shown as the contrast that does not. They weight
# cohorts and periods slightly differently, so some spread is expected.

# %%
for outcome in outcomes:
    with ctx.section(f"Robustness, {story.label(outcome)}", story.DID_NEEDS, sink=notes):
        ctx.require(certified_engineers(ctx.panel, outcome), "the robustness panel")
        with collect_warnings(notes, f"robustness, {outcome}: "):
            rob = did.robustness(
                ctx.panel, outcome=outcome, **{k: spec[k] for k in ("unit", "time", "group")}
            )
        display(Markdown(f"**{story.label(outcome)}.** {rob.verdict}"))
        ctx.headline(
            f"sensitivity/robustness/{outcome}",
            {
                "outcome": outcome,
                "label": story.label(outcome),
                "design": "robust estimators",
                "text": rob.verdict,
            },
            kind="sensitivity",
            section="Robustness: do other modern estimators agree?",
            n=certified_engineers(ctx.panel, outcome),
        )
        display(table(rob.to_polars().drop("statistic")))
        display(
            chart(
                charts.forest,
                rob.tidy(),
                empty="no estimator gave a finite estimate",
                y="term",
                lower="conf_low",
                upper="conf_high",
                title=f"{story.label(outcome)}: robust estimators and TWFE (95% CI)",
            )
        )

# %% [markdown]
# ## Per certification
# The same overall effect estimated separately for each certification, comparing its holders with
# engineers who hold none of the certifications. Certifications held by fewer engineers than the
# reporting threshold are left out.

# %%
per_cert, left_out = [], []
if by_certification:
    holders = ctx.ds.certifications.group_by("certification_id").agg(
        pl.col("engineer_id").n_unique().alias("engineers")
    )
    for cert, n in holders.sort("engineers", descending=True).iter_rows():
        if n < max(ctx.k, 5):
            left_out.append(f"{cert} ({n} engineer{'s' if n != 1 else ''})")
            continue
        with ctx.section(cert, show=False, sink=notes):
            with collect_warnings(notes, f"{cert}: "):
                panel = build_panel(filter_dataset(ctx.ds, certifications=[cert]), period)
            for outcome in outcomes:
                with ctx.section(f"{cert}, {story.label(outcome)}", show=False, sink=notes):
                    ctx.require(certified_engineers(panel, outcome), f"the {cert} estimate")
                    with collect_warnings(notes, f"{cert}, {outcome}: "):
                        agg = did.att_gt(panel, outcome=outcome, **spec).aggregate("simple")
                    r = story.effect_of(outcome, agg, panel)
                    if not r["note"]:
                        per_cert.append({"certification": cert, "engineers": n} | r)
if left_out:
    display(
        Markdown(
            f"Left out (fewer than {max(ctx.k, 5)} holders, too few for a separate estimate): "
            + ", ".join(left_out)
            + "."
        )
    )
if per_cert:
    pc = pl.DataFrame(per_cert)
    display(
        table(
            pc.select(
                "certification",
                "engineers",
                "label",
                "estimate",
                "ci_low",
                "ci_high",
                "p_value",
                "relative",
            ),
            percent=["relative"],
        )
    )
    display(
        chart(
            charts.forest,
            pc,
            empty="no per-certification estimate is finite",
            y="certification",
            facet="label",
            title="Overall effect by certification (95% CI)",
        )
    )
else:
    display(
        Markdown(
            "No per-certification estimate: "
            + (
                "the breakdown is disabled (`by_certification=False`)."
                if not by_certification
                else "no certification has enough holders with estimable outcomes (see the "
                "notes at the end)."
            )
        )
    )

# %% [markdown]
# ## Assumptions behind these numbers

# %%
display(Markdown(story.assumptions_md(story.DID_ASSUMPTIONS)))
display(HTML(ctx.warnings_html(notes, "Notes and warnings from the estimation")))
