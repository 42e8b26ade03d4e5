"""Altair charts that read well to a non-statistician, and certkit's chart theme.

Every helper takes a small, already aggregated polars frame (or aggregates a panel itself
before plotting), so charts stay far below Altair's row limit on real data sizes. Call
:func:`setup` once in a notebook: it enables the certkit theme and, unless you chose another
renderer, certkit's renderer, which draws charts offline in JupyterLab and keeps the
Vega-Lite spec in the notebook output (``certkit report`` turns it into offline HTML).
:func:`use` switches renderer: ``"interactive"`` (the default), ``"svg"``, ``"png"`` or any
Altair renderer name.

Conventions: dates on the x axis are period starts; confidence bands are 95 % unless the
frame says otherwise; a dashed vertical rule marks certification (event time 0).
"""

from __future__ import annotations

import html
import json
import uuid

import polars as pl

from certkit.altair_import import alt
from certkit.charts_base import (  # noqa: F401 - re-exported: charts.setup, charts.PALETTE, ...
    CONTROL,
    HEIGHT,
    PALETTE,
    TREATED,
    WIDTH,
    _check,
    _count_axis,
    _panels,
    setup,
    time_axis,
)
from certkit.errors import CertkitError
from certkit.renderers import (  # noqa: F401 - re-exported: charts.use, charts.VEGALITE_MIME
    RENDERERS,
    VEGALITE_MIME,
    activate,
    use,
    vega_bundle,
)


def event_study(
    df: pl.DataFrame,
    *,
    x: str = "event_time",
    y: str = "estimate",
    lower: str = "ci_low",
    upper: str = "ci_high",
    facet: str | None = None,
    title: str = "Effect by time since certification",
    y_title: str = "Estimated effect (certified minus comparison)",
    x_title: str = "Periods since certification",
) -> alt.Chart:
    """Event-study plot: estimates with their confidence band and a line at certification.

    The one event-study chart: every result's event-study ``plot()`` and the report draw it.

    ``df`` has one row per event time (and per ``facet`` value): the estimate and its
    interval. The dashed rule is drawn between the last pre period and certification.
    """
    _check(df, [x, y, lower, upper] + ([facet] if facet else []), "event_study")
    # in panels the data goes to the facet, so that each panel gets only its rows (a layer
    # holding its own data would be drawn whole in every panel)
    base = (alt.Chart() if facet else alt.Chart(df)).encode(
        x=alt.X(f"{x}:Q", title=x_title, axis=alt.Axis(tickMinStep=1))
    )
    band = base.mark_area(opacity=0.18, color=TREATED).encode(
        y=alt.Y(f"{lower}:Q", title=y_title), y2=alt.Y2(f"{upper}:Q")
    )
    line = base.mark_line(color=TREATED, point=True).encode(
        y=alt.Y(f"{y}:Q"),
        tooltip=[
            alt.Tooltip(f"{x}:Q", title="periods since"),
            alt.Tooltip(f"{y}:Q", format=".3f", title="estimate"),
            alt.Tooltip(f"{lower}:Q", format=".3f", title="95% low"),
            alt.Tooltip(f"{upper}:Q", format=".3f", title="95% high"),
        ],
    )
    zero = alt.Chart(pl.DataFrame({"y": [0.0]})).mark_rule(color="#444").encode(y="y:Q")
    cert = (
        alt.Chart(pl.DataFrame({"x": [-0.5]}))
        .mark_rule(color="#b8405e", strokeDash=[5, 4])
        .encode(x="x:Q")
    )
    layered = alt.layer(band, line, zero, cert)
    if facet:
        return _panels(layered, facet, title=title, independent="y", data=df)
    return layered.properties(title=title, width=WIDTH, height=HEIGHT)


def love_plot(
    df: pl.DataFrame,
    *,
    covariate: str = "covariate",
    before: str = "smd_before",
    after: str = "smd_after",
    threshold: float = 0.1,
    title: str = "Covariate balance before and after matching",
) -> alt.Chart:
    """Love plot: absolute standardized mean differences before and after matching."""
    _check(df, [covariate, before, after], "love_plot")
    long = (
        df.select(covariate, before, after)
        .unpivot(index=covariate, variable_name="sample", value_name="smd")
        .with_columns(
            pl.col("smd").abs(),
            pl.col("sample").replace({before: "before matching", after: "after matching"}),
        )
    )
    points = (
        alt.Chart(long)
        .mark_point(size=70, filled=True)
        .encode(
            x=alt.X("smd:Q", title="|standardized mean difference|"),
            y=alt.Y(f"{covariate}:N", title=None, sort="-x"),
            color=alt.Color(
                "sample:N",
                title=None,
                scale=alt.Scale(
                    domain=["before matching", "after matching"], range=[CONTROL, TREATED]
                ),
            ),
            tooltip=[covariate, "sample", alt.Tooltip("smd:Q", format=".3f")],
        )
    )
    rule = (
        alt.Chart(pl.DataFrame({"t": [threshold]}))
        .mark_rule(color="#b8405e", strokeDash=[5, 4])
        .encode(x="t:Q")
    )
    return alt.layer(rule, points).properties(title=title, width=WIDTH)


def heatmap(
    df: pl.DataFrame,
    *,
    x: str = "period",
    y: str = "team",
    color: str = "ai_share",
    color_title: str = "AI-assisted share of PRs",
    title: str = "AI adoption by team and month",
    percent: bool = True,
) -> alt.Chart:
    """Heatmap (e.g. adoption by team x month) from one row per cell."""
    _check(df, [x, y, color], "heatmap")
    fmt = ".0%" if percent else ".2f"
    return (
        alt.Chart(df)
        .mark_rect()
        .encode(
            # one label per month overlapped ("Jul 2025Sep 2025"): drop every other one that
            # would collide, angled
            x=alt.X(
                f"{x}:O",
                title=None,
                timeUnit="yearmonth",
                axis=alt.Axis(labelOverlap="parity", labelAngle=-45, format="%b %Y"),
            )
            if df.schema[x] in (pl.Date, pl.Datetime)
            else alt.X(f"{x}:O", title=None, axis=alt.Axis(labelOverlap="parity")),
            y=alt.Y(f"{y}:N", title=None),
            color=alt.Color(
                f"{color}:Q",
                title=color_title,
                scale=alt.Scale(scheme="blues"),
                legend=alt.Legend(format=fmt),
            ),
            tooltip=[alt.Tooltip(f"{x}"), y, alt.Tooltip(f"{color}:Q", format=fmt)],
        )
        .properties(title=title, width=WIDTH)
    )


def cohort_means(panel: pl.DataFrame, outcome: str, *, time: str = "period") -> pl.DataFrame:
    """Mean ``outcome`` per period for engineers ever certified vs never certified.

    Columns ``time``, ``group`` ("certified (ever)" / "never certified"), ``mean`` and
    ``engineers``: the engineers with a value behind the mean (not every panel row: a
    month's mean of the AI share over 4 engineers with merged PRs said "410", trial P).
    """
    _check(panel, [outcome, time, "cohort", "engineer_id"], "cohort_means")
    return (
        panel.filter(pl.col(outcome).is_not_null() & pl.col(outcome).is_not_nan())
        .with_columns(
            pl.when(pl.col("cohort") > 0)
            .then(pl.lit("certified (ever)"))
            .otherwise(pl.lit("never certified"))
            .alias("group")
        )
        .group_by(time, "group")
        .agg(
            pl.col(outcome).mean().alias("mean"),
            pl.col("engineer_id").n_unique().alias("engineers"),
        )
        .sort(time, "group")
    )


def cohort_trends(
    panel: pl.DataFrame,
    outcome: str,
    *,
    time: str = "period",
    title: str | None = None,
    y_title: str | None = None,
    min_engineers: int = 1,
) -> alt.Chart:
    """Mean outcome per period for engineers ever certified vs never certified.

    Aggregates the engineer x period panel (needs ``cohort`` and ``engineer_id``) with
    :func:`cohort_means` before plotting (:func:`cohort_lines`); a point whose mean rests on
    fewer than ``min_engineers`` engineers is left out (a shared report passes its ``k``).
    """
    agg = cohort_means(panel, outcome, time=time).filter(pl.col("engineers") >= min_engineers)
    return cohort_lines(
        agg, time=time, title=title or f"{outcome}: certified vs never certified", y_title=y_title
    )


def cohort_lines(
    means: pl.DataFrame,
    *,
    time: str = "period",
    title: str | None = None,
    y_title: str | None = None,
) -> alt.Chart:
    """The lines of :func:`cohort_means`' rows (``time``, ``group``, ``mean``, ``engineers``),
    certified vs never certified, the engineers behind each point in its tooltip."""
    _check(means, [time, "group", "mean", "engineers"], "cohort_lines")
    return (
        alt.Chart(means)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{time}:T", title=None, axis=time_axis()),
            y=alt.Y("mean:Q", title=y_title or "mean"),
            color=alt.Color(
                "group:N",
                title=None,
                scale=alt.Scale(
                    domain=["certified (ever)", "never certified"], range=[TREATED, CONTROL]
                ),
            ),
            tooltip=[
                alt.Tooltip(f"{time}:T"),
                "group",
                alt.Tooltip("mean:Q", format=".3f"),
                "engineers",
            ],
        )
        .properties(title=title or "certified vs never certified", width=WIDTH)
    )


def distribution(
    values: pl.Series | list[float],
    *,
    title: str = "Distribution of the estimated value",
    x_title: str = "value",
    marker: float | None = 0.0,
    bins: int = 40,
    x_format: str = ",.0f",
    clip: tuple[float, float] | None = (0.005, 0.995),
) -> alt.Chart:
    """Histogram of simulated draws (e.g. ROI), binned in polars, with a break-even rule.

    ``clip`` keeps the central quantiles so a long tail does not squash the chart (the share
    axis still counts every draw).
    """
    s = pl.Series("v", values, dtype=pl.Float64).drop_nulls().drop_nans()
    s = s.filter(s.is_finite())
    if s.len() == 0:
        raise CertkitError("distribution chart needs at least one finite value")
    total = s.len()
    if clip is not None:
        lo_q, hi_q = s.quantile(clip[0]), s.quantile(clip[1])
        s = s.filter(s.is_between(lo_q, hi_q))
    lo, hi = float(s.min()), float(s.max())
    width = (hi - lo) / bins or 1.0
    binned = (
        s.to_frame()
        .with_columns(((pl.col("v") - lo) / width).floor().clip(0, bins - 1).alias("b"))
        .group_by("b")
        .len()
        .with_columns(
            (lo + pl.col("b") * width).alias("start"), (lo + (pl.col("b") + 1) * width).alias("end")
        )
        .with_columns((pl.col("len") / total).alias("share"))
        .sort("b")
    )
    bars = (
        alt.Chart(binned)
        .mark_bar(color=TREATED, opacity=0.85)
        .encode(
            x=alt.X("start:Q", title=x_title, axis=alt.Axis(format=x_format)),
            x2="end:Q",
            y=alt.Y("share:Q", title="share of simulations", axis=alt.Axis(format="%")),
            y2=alt.datum(0),  # bars from zero: without it Vega-Lite draws thin ranged ticks
            tooltip=[
                alt.Tooltip("start:Q", format=x_format),
                alt.Tooltip("end:Q", format=x_format),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
    )
    layers = [bars]
    if marker is not None:
        layers.append(
            alt.Chart(pl.DataFrame({"m": [marker]}))
            .mark_rule(color="#b8405e", strokeDash=[5, 4])
            .encode(x="m:Q")
        )
    return alt.layer(*layers).properties(title=title, width=WIDTH, height=HEIGHT)


def lines(
    df: pl.DataFrame,
    *,
    x: str,
    y: str,
    color: str | None = None,
    facet: str | None = None,
    title: str = "",
    y_title: str | None = None,
    x_title: str | None = None,
    threshold: tuple[float, str] | None = None,
) -> alt.Chart | alt.LayerChart:
    """Simple line chart for tidy, aggregated frames (coverage over time and the like).

    With ``facet`` one small panel per value, each with its own y scale. A date axis needs no
    title; give ``x_title`` for any other. Counts (integer ``y``) get whole-number ticks.
    ``threshold`` ``(value, label)`` draws a dashed horizontal line (e.g. alpha = 0.05 on a
    p-value chart, so the critical gamma can be read off it).
    """
    _check(df, [x, y] + [c for c in (color, facet) if c], "lines")
    x_type = "T" if df.schema[x] in (pl.Date, pl.Datetime) else "Q"
    enc = {
        "x": alt.X(
            f"{x}:{x_type}", title=x_title, axis=time_axis() if x_type == "T" else alt.Undefined
        ),
        "y": alt.Y(f"{y}:Q", title=y_title or y, axis=_count_axis(df, y)),
        "tooltip": [x, y] + [c for c in (color, facet) if c],
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None)
    chart = alt.Chart(df).mark_line(point=True).encode(**enc)
    if facet:
        return _panels(
            chart, facet, title=title, independent="y", width=WIDTH // 2 - 20, height=140
        )
    if threshold is None:
        return chart.properties(title=title, width=WIDTH)
    value, label = threshold
    line = alt.Chart(pl.DataFrame({"y": [value], "label": [label]})).encode(y="y:Q")
    rule = line.mark_rule(color="#b8405e", strokeDash=[5, 4])
    text = line.mark_text(align="left", dx=4, dy=-6, color="#b8405e").encode(
        x=alt.value(0), text="label:N"
    )
    return alt.layer(chart, rule, text).properties(title=title, width=WIDTH)


def forest(
    df: pl.DataFrame,
    *,
    y: str,
    x: str = "estimate",
    lower: str = "ci_low",
    upper: str = "ci_high",
    facet: str | None = None,
    title: str = "",
) -> alt.Chart:
    """Forest plot: one estimate with its interval per category, zero marked."""
    _check(df, [y, x, lower, upper] + ([facet] if facet else []), "forest")
    # in panels the data goes to the facet (see event_study): ai.compare's panels each drew
    # every outcome's points
    base = (alt.Chart() if facet else alt.Chart(df)).encode(y=alt.Y(f"{y}:N", title=None))
    chart = alt.layer(
        base.mark_rule(color=TREATED).encode(
            x=alt.X(f"{lower}:Q", title="effect"), x2=f"{upper}:Q"
        ),
        base.mark_point(filled=True, color=TREATED, size=60).encode(
            x=f"{x}:Q",
            tooltip=[
                y,
                alt.Tooltip(f"{x}:Q", format=".3f"),
                alt.Tooltip(f"{lower}:Q", format=".3f"),
                alt.Tooltip(f"{upper}:Q", format=".3f"),
            ],
        ),
        alt.Chart(pl.DataFrame({"z": [0.0]}))
        .mark_rule(color="#444", strokeDash=[3, 3])
        .encode(x="z:Q"),
    )
    if facet:
        return _panels(chart, facet, title=title, independent="x", data=df, width=WIDTH // 2 - 40)
    return chart.properties(title=title, width=WIDTH)


def bars(
    df: pl.DataFrame,
    *,
    x: str,
    y: str,
    title: str = "",
    x_title: str | None = None,
    fmt: str = ",.0f",
    color: str | None = None,
    tooltip: list[str] | None = None,
) -> alt.Chart:
    """Horizontal bars (``y`` categories, ``x`` values), sorted by value; ``color`` splits them."""
    _check(df, [x, y] + ([color] if color else []), "bars")
    enc = {"color": alt.Color(f"{color}:N")} if color else {}
    return (
        alt.Chart(df)
        .mark_bar(**({} if color else {"color": TREATED}))
        .encode(
            x=alt.X(f"{x}:Q", title=x_title or x, axis=_count_axis(df, x)),
            y=alt.Y(f"{y}:N", title=None, sort="-x"),
            tooltip=tooltip or [y, alt.Tooltip(f"{x}:Q", format=fmt)],
            **enc,
        )
        .properties(title=title, width=WIDTH)
    )


def risk_ratios(
    df: pl.DataFrame,
    *,
    x: str = "ai_prs",
    x_title: str = "AI-assisted merged PRs",
    title: str = "Empirical-Bayes AI risk ratio",
    tooltip: list[str] | None = None,
) -> alt.LayerChart:
    """Risk ratio with its interval per unit (``risk_ratio``, ``ci_low``, ``ci_high``) by volume."""
    _check(df, [x, "risk_ratio", "ci_low", "ci_high"], "risk_ratios")
    base = alt.Chart(df).encode(x=alt.X(f"{x}:Q", scale=alt.Scale(type="log"), title=x_title))
    return (
        base.mark_rule(opacity=0.3).encode(y="ci_low:Q", y2="ci_high:Q")
        + base.mark_point(filled=True).encode(
            y=alt.Y("risk_ratio:Q", title="Risk ratio (1 = as expected)"),
            tooltip=tooltip or [x, "risk_ratio", "ci_low", "ci_high"],
        )
    ).properties(title=title)


def stacked_contributions(
    df: pl.DataFrame,
    *,
    x: str = "contribution",
    y: str = "certification_id",
    color: str = "criterion",
    row: str = "target",
    title: str = "",
) -> alt.Chart:
    """Stacked bars of each criterion's contribution to a score, one panel per ``row``."""
    _check(df, [x, y, color, row], "stacked_contributions")
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X(f"sum({x}):Q", title="Score"),
            y=alt.Y(f"{y}:N", title=None),
            color=f"{color}:N",
            row=alt.Row(f"{row}:N", title=None),
        )
        .properties(title=title)
    )


def tornado(
    df: pl.DataFrame,
    *,
    y: str,
    low: str,
    high: str,
    title: str = "",
    x_title: str = "value",
    x_format: str = ",.2f",
) -> alt.Chart:
    """Tornado chart: one bar per row from ``low`` to ``high``, widest swing first."""
    _check(df, [y, low, high], "tornado")
    return (
        alt.Chart(df)
        .mark_bar(color=TREATED)
        .encode(
            y=alt.Y(f"{y}:N", sort="-x", title=None),
            x=alt.X(f"{low}:Q", title=x_title, axis=alt.Axis(format=x_format)),
            x2=f"{high}:Q",
            tooltip=[
                y,
                alt.Tooltip(f"{low}:Q", format=x_format),
                alt.Tooltip(f"{high}:Q", format=x_format),
            ],
        )
        .properties(title=title, width=WIDTH)
    )


def embed_html(spec: dict, element_id: str | None = None) -> str:
    """HTML for one chart, drawn by ``vegaEmbed`` (which must already be on the page)."""
    element_id = element_id or f"certkit-chart-{uuid.uuid4().hex[:12]}"
    payload = json.dumps(spec).replace("</", "<\\/")
    return (
        f'<div class="certkit-chart" id="{html.escape(element_id)}"></div>\n'
        "<script>(function(){var el=document.getElementById("
        f"{json.dumps(element_id)});"
        "if(!window.vegaEmbed){el.textContent='Chart library missing from this page.';return;}"
        f"vegaEmbed(el,{payload},{{actions:false,renderer:'svg'}})"
        ".then(function(r){el.setAttribute('data-rendered','1');})"
        ".catch(function(e){el.textContent='Chart failed to draw: '+e;});"
        "})();</script>"
    )


def sensitivity(
    df: pl.DataFrame,
    *,
    x: str = "bound",
    lower: str = "conf_low",
    upper: str = "conf_high",
    color: str = "method",
    title: str = "Sensitivity to non-parallel trends",
    x_title: str = "bound on the violation of parallel trends",
    y_title: str = "effect (confidence interval)",
) -> alt.Chart:
    """HonestDiD sensitivity chart: the original CI, then one robust CI per bound (Mbar / M).

    ``df`` has one row per interval in the order to draw them (original first); ``x`` is a
    text label per row (e.g. ``"original"``, ``"0.5"``), ``color`` the interval type. A grey
    rule marks zero: a robust interval that crosses it means the effect is no longer
    significant at that bound.
    """
    _check(df, [x, lower, upper, color], "sensitivity")
    order = df[x].to_list()
    base = alt.Chart(df).encode(x=alt.X(f"{x}:O", title=x_title, sort=order))
    colors = alt.Color(
        f"{color}:N",
        title=None,
        scale=alt.Scale(
            range=["#8c8c8c", TREATED],
            domain=["original", *sorted(set(df[color].to_list()) - {"original"})],
        ),
    )
    tips = [
        alt.Tooltip(f"{x}:O", title="bound"),
        alt.Tooltip(f"{lower}:Q", format=".4f", title="low"),
        alt.Tooltip(f"{upper}:Q", format=".4f", title="high"),
    ]
    rule = base.mark_rule(strokeWidth=3).encode(
        y=alt.Y(f"{lower}:Q", title=y_title), y2=f"{upper}:Q", color=colors, tooltip=tips
    )
    lo = base.mark_tick(thickness=2, size=16).encode(y=f"{lower}:Q", color=colors)
    hi = base.mark_tick(thickness=2, size=16).encode(y=f"{upper}:Q", color=colors)
    zero = alt.Chart(pl.DataFrame({"z": [0.0]})).mark_rule(color="#444").encode(y="z:Q")
    return alt.layer(zero, rule, lo, hi).properties(title=title, width=WIDTH, height=HEIGHT)


def effect_points(
    df: pl.DataFrame,
    *,
    x: str,
    color: str | None = None,
    title: str = "",
    x_title: str | None = None,
    y: str = "estimate",
    lower: str = "conf_low",
    upper: str = "conf_high",
    y_title: str = "effect (ATT)",
) -> alt.LayerChart:
    """Estimates as points with interval rules along a numeric ``x``, zero marked.

    Reads a tidy result frame (``estimate``, ``conf_low``, ``conf_high`` by default) plus the
    column named by ``x`` (event time, period, cohort); ``color`` splits points, e.g. pre/post.
    Used by every ``plot()`` of ``certkit.did`` and ``certkit.matching`` results.
    """
    _check(df, [x, y, lower, upper] + ([color] if color else []), "effect_points")
    base = alt.Chart(df).encode(x=alt.X(f"{x}:Q", title=x_title or x))
    enc = {"color": alt.Color(f"{color}:N", title=None)} if color else {}
    tips = [x, alt.Tooltip(f"{y}:Q", format=".4f")]
    if "std_error" in df.columns:
        tips.append(alt.Tooltip("std_error:Q", format=".4f"))
    bars = base.mark_rule().encode(y=alt.Y(f"{lower}:Q", title=y_title), y2=f"{upper}:Q", **enc)
    points = base.mark_point(filled=True, size=60).encode(y=f"{y}:Q", tooltip=tips, **enc)
    zero = alt.Chart(df).mark_rule(color="gray", strokeDash=[2, 2]).encode(y=alt.datum(0))
    return alt.layer(zero, bars, points).properties(title=title)
