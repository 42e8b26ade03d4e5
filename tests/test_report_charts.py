"""Chart helpers: aggregate before plotting, valid Vega-Lite, offline embed HTML, export."""

from __future__ import annotations

import json
from datetime import date

import altair as alt
import nbformat
import numpy as np
import polars as pl
import pytest

from certkit import charts
from certkit.errors import CertkitError
from certkit.report import html as report_html


def _rows(chart) -> int:
    spec = chart.to_dict()
    return sum(len(v) for v in spec.get("datasets", {}).values())


def test_cohort_trends_aggregates_the_panel_first():
    rng = np.random.default_rng(0)
    n = 60_000  # far above Altair's 5,000-row limit
    panel = pl.DataFrame(
        {
            "period": [date(2025, 1 + i % 12, 1) for i in range(n)],
            "engineer_id": [f"e{i // 12}" for i in range(n)],
            "cohort": rng.integers(0, 4, n),
            "merged_prs": rng.poisson(5, n),
        }
    )
    chart = charts.cohort_trends(panel, "merged_prs")
    assert _rows(chart) == 12 * 2  # one row per period and group
    spec = chart.to_dict()
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")


def test_distribution_bins_in_polars():
    draws = np.random.default_rng(1).normal(0.5, 1, 20_000)
    chart = charts.distribution(draws, bins=30, clip=None)
    data = next(iter(chart.to_dict()["datasets"].values()))
    assert len(data) <= 30
    assert sum(d["share"] for d in data) == pytest.approx(1.0)
    tail = np.append(draws, [1e9])  # one huge draw must not squash the chart
    data = next(iter(charts.distribution(tail, bins=30).to_dict()["datasets"].values()))
    assert max(d["end"] for d in data) < 10
    assert sum(d["share"] for d in data) == pytest.approx(0.99, abs=0.002)
    with pytest.raises(CertkitError, match="finite"):
        charts.distribution([float("nan")])


def test_helpers_check_columns_and_build_specs():
    es = pl.DataFrame(
        {"event_time": [-1, 0, 1], "estimate": [0.0, 0.1, 0.2], "ci_low": [-0.1, 0, 0.1]}
    )
    with pytest.raises(CertkitError, match=r"needs columns \['ci_high'\]"):
        charts.event_study(es)
    es = es.with_columns((pl.col("ci_low") + 0.2).alias("ci_high"))
    spec = charts.event_study(es).to_dict()
    assert len(spec["layer"]) == 4  # band, line, zero, certification rule
    love = pl.DataFrame(
        {"covariate": ["a", "b"], "smd_before": [0.5, -0.3], "smd_after": [0.05, 0.02]}
    )
    sets = charts.love_plot(love).to_dict()["datasets"].values()
    data = next(d for d in sets if "smd" in d[0])
    assert len(data) == 4 and all(d["smd"] >= 0 for d in data)
    heat = pl.DataFrame({"period": [date(2025, 1, 1)], "team": ["a"], "ai_share": [0.3]})
    assert charts.heatmap(heat).to_dict()["mark"]["type"] == "rect"
    forest = pl.DataFrame(
        {"c": ["x", "y"], "estimate": [1.0, 2.0], "ci_low": [0.0, 1.0], "ci_high": [2.0, 3.0]}
    )
    assert "layer" in charts.forest(forest, y="c").to_dict()


def test_renderer_keeps_the_spec_and_embed_is_safe():
    charts.setup()
    assert alt.renderers.active == "certkit"
    chart = (
        alt.Chart(pl.DataFrame({"a": ["</script><b>"], "b": [1]})).mark_bar().encode(x="a", y="b")
    )
    bundle = chart._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    assert charts.VEGALITE_MIME in bundle and "text/html" in bundle
    html = charts.embed_html(bundle[charts.VEGALITE_MIME], "c1")
    assert "</script><b>" not in html and "<\\/script>" in html
    assert html.count("<script>") == 1 and "vegaEmbed(el," in html


def test_export_turns_specs_into_embeds_and_hides_parameters():
    spec = alt.Chart(pl.DataFrame({"x": [1]})).mark_point().encode(x="x").to_dict()
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell("secret_param = 1")
    p.metadata["tags"] = ["parameters"]
    c = nbformat.v4.new_code_cell("chart")
    c.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                charts.VEGALITE_MIME: spec,
                "text/html": "<script src='https://cdn.x/vega'></script>",
            },
        )
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# My title"), p, c]
    assert report_html.title_of(nb, "x") == "My title"
    header = {
        "title": "T",
        "generated": "now",
        "period": "P",
        "version": "v",
        "parameters": {"k": "5"},
        "share": True,
        "k": 5,
    }
    body, page = report_html.export(nb, title="T", header=header, no_input=True)
    assert "secret_param" not in body and "cdn.x" not in body
    assert report_html.PLACEHOLDER in body and report_html.PLACEHOLDER not in page
    assert json.dumps(spec["mark"]) in body
    assert "shared: groups under 5 people hidden" in body


def test_counts_get_whole_number_ticks_and_axes_say_what_they_are():
    """fastapi's "engineers per certification" bars had ticks at 0.2, 0.4 ... engineers, and
    the Rosenbaum chart's x axis had no title."""
    counts = pl.DataFrame({"engineers": [3, 2, 1], "certification": ["a", "b", "c"]})
    x = charts.bars(counts, x="engineers", y="certification").to_dict()["encoding"]["x"]
    assert x["axis"] == {"format": "d", "tickMinStep": 1}
    shares = counts.with_columns(pl.col("engineers") / 3)
    assert (
        "axis"
        not in charts.bars(shares, x="engineers", y="certification").to_dict()["encoding"]["x"]
    )
    rows = pl.DataFrame({"period": [date(2025, 1, 1), date(2025, 2, 1)], "rows": [4, 7]})
    enc = charts.lines(rows, x="period", y="rows").to_dict()["encoding"]
    assert enc["y"]["axis"]["tickMinStep"] == 1 and enc["x"].get("title") is None
    from certkit.matching.sensitivity import sensitivity_analysis

    sens = sensitivity_analysis(np.array([1.0, 2.0, -0.5, 3.0, 1.5]), outcome="merged_prs")
    assert "gamma" in sens.plot().to_dict()["layer"][0]["encoding"]["x"]["title"]


def test_panels_show_only_their_own_rows():
    """ai.compare's forest chart in panels by outcome drew every outcome's points in every
    panel (each layer held the whole frame); rendered, each panel's axis spans its own rows."""
    import re

    import vl_convert as vlc

    df = pl.DataFrame(
        {
            "term": ["naive", "adjusted"] * 2,
            "estimate": [1.0, 2.0, -5.0, -6.0],
            "ci_low": [0.0, 1.0, -6.0, -7.0],
            "ci_high": [2.0, 3.0, -4.0, -5.0],
            "outcome": ["revert", "revert", "defect", "defect"],
        }
    )
    svg = vlc.vegalite_to_svg(charts.forest(df, y="term", facet="outcome").to_dict())
    points = re.findall(r'aria-label="estimate: ([^;]+);', svg)
    assert sorted(points) == sorted(["1", "2", "−5", "−6"]), points  # each point drawn once
    es = df.rename({"term": "event_time"}).with_columns(pl.Series("event_time", [-1, 0, -1, 0]))
    svg = vlc.vegalite_to_svg(charts.event_study(es, facet="outcome").to_dict())
    # each panel's y axis spans its own rows only (with every row: -7 to 3 in both)
    axes = re.findall(
        r"Y-axis titled '[^']*' for a linear scale with values from (\S+) to (\S+)\"", svg
    )
    assert sorted(axes) == [("0.0", "3.0"), ("−7", "0")], axes


def test_heatmap_month_labels_do_not_overlap():
    """pydantic-ai's adoption heatmap printed every month's label: "Jul 2025Sep 2025"."""
    import re

    import vl_convert as vlc

    rows = [
        {"period": date(2024 + m // 12, m % 12 + 1, 1), "team": t, "ai_share": 0.1 * (m % 5)}
        for m in range(30)
        for t in ("a", "b")
    ]
    svg = vlc.vegalite_to_svg(charts.heatmap(pl.DataFrame(rows)).to_dict())
    labels = re.findall(r'opacity="([01])">[A-Z][a-z]{2} 20\d\d</text>', svg)
    assert len(labels) == 30 and 0 < labels.count("1") < 30, labels


def test_date_axes_label_every_tick_with_month_and_year():
    """Trial G (xarray, AI outcomes): Vega's default date labels mixed "October" and "2023"
    ticks 36 px apart, which read "October2023"; every tick now reads "Oct 2023" and labels
    closer than 12 px to the previous one are left out."""
    vlc = pytest.importorskip("vl_convert")
    import re

    rows = [
        {"period": date(y, m, 1), "engineer_id": f"e{c}", "cohort": c, "ai_share": m / 120}
        for y in (2023, 2024, 2025)
        for m in range(1, 13)
        for c in (0, 1)
    ]
    chart = charts.cohort_trends(pl.DataFrame(rows), "ai_share")
    axis = chart.to_dict()["encoding"]["x"]["axis"]
    assert axis["format"] == "%b %Y" and axis["labelSeparation"] == 12
    svg = vlc.vegalite_to_svg(chart.to_json())
    labels = [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg) if re.search(r"\d{4}", t)]
    assert labels and all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", t) for t in labels), labels
    frame = pl.DataFrame({"day": [date(2024, m, 1) for m in range(1, 13)], "n": range(12)})
    line = charts.lines(frame, x="day", y="n").to_dict()["encoding"]["x"]
    assert line["axis"]["format"] == "%b %Y"
