"""certkit.display tables and one-line reprs, and certkit.charts renderer choice."""

from __future__ import annotations

import base64
import datetime as dt
import re

import altair as alt
import polars as pl
import pytest

from certkit import charts
from certkit.display import Table, format_number, oneline, table
from certkit.errors import CertkitError


def _event_study() -> pl.DataFrame:
    e = list(range(-11, 8))
    est = [0.013 * k if k < 0 else 0.4 + 0.05 * k for k in e]
    return pl.DataFrame(
        {
            "event_time": e,
            "estimate": est,
            "std_error": [0.11] * 19,
            "ci_low": [x - 0.2156 for x in est],
            "ci_high": [x + 0.2156 for x in est],
            "n_engineers": [1234 + 10 * k for k in range(19)],
        }
    )


def _cells(html_text: str) -> list[list[str]]:
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html_text, flags=re.S)
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, flags=re.S) for r in rows]


def test_event_study_shows_every_row_without_shape_or_dtypes():
    df = _event_study()
    t = table(df, title="Effect by time since certification")
    html_text, text = t.to_html(), t.to_text()
    for out in (html_text, text, repr(t)):
        assert "shape:" not in out
        for dtype in ("i64", "f64", "str", "---"):
            assert dtype not in out
    rows = _cells(html_text)
    assert rows[0] == list(df.columns)  # header is the only non-data row
    assert [r[0] for r in rows[1:]] == [str(k) for k in range(-11, 8)]
    text_rows = text.splitlines()[3:]  # title, header, rule
    assert [int(line.split()[0]) for line in text_rows] == list(range(-11, 8))
    assert "more row" not in html_text and "more row" not in text
    assert "1,234" in text and "1,414" in text  # thousands separators
    # floats: one number of decimals per column, enough for the column's scale
    est = [r[1] for r in rows[1:]]
    assert len({len(x.split(".")[1]) for x in est}) == 1, est
    assert "0.750" in est and "-0.143" in est and "0.400" in est  # 3 significant digits


def test_long_messages_wrap_and_are_never_cut():
    msg = (
        "engineers.csv, column hire_date, line 17: '31/02/2024' is not a date; expected "
        "YYYY-MM-DD such as 2024-02-29. " * 3
    ).strip()
    assert len(msg) > 200
    df = pl.DataFrame({"file": ["engineers.csv"], "message": [msg]})
    t = table(df)
    assert msg.replace("<", "&lt;").replace("'", "&#x27;") in t.to_html()
    text = t.to_text()
    # every word of the message is in the text table, in order, over several lines
    body = " ".join(line[len("engineers.csv") :].strip() for line in text.splitlines()[2:])
    assert " ".join(body.split()) == " ".join(msg.split())
    assert len(text.splitlines()) > 4 and max(len(x) for x in text.splitlines()) < 100
    assert "'31/02/2024'" in text and '"' not in text  # strings are not quoted


def test_long_frames_show_fifty_rows_and_say_how_many_more():
    df = pl.DataFrame({"i": list(range(120)), "label": [f"row {k}" for k in range(120)]})
    t = table(df)
    rows = _cells(t.to_html())
    assert len(rows) == 1 + 50 and rows[-1][1] == "row 49"
    for out in (t.to_html(), t.to_text()):
        assert "70 more rows" in out and "50 of 120" in out
    assert "row 50" not in t.to_text()
    everything = t.all()
    assert len(_cells(everything.to_html())) == 121 and "more row" not in everything.to_text()
    assert len(_cells(table(df, max_rows=None).to_html())) == 121
    assert "1 more row " in table(df.head(51)).to_text()


def test_html_is_escaped():
    df = pl.DataFrame({"<script>alert(1)</script>": ["<script>x</script> & <b>"]})
    out = table(df, title="<img src=x>", caption="a<b", footnotes=["<i>n</i>"]).to_html()
    assert "<script>" not in out and "<img" not in out and "<i>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out and "&amp; &lt;b&gt;" in out


def test_values_are_formatted_per_type():
    df = pl.DataFrame(
        {
            "n": [1234567, None],
            "share": [0.1234, None],
            "p": [0.00001234, 0.5],
            "x": [float("nan"), float("inf")],
            "day": [dt.date(2024, 2, 29), None],
            "at": [dt.datetime(2024, 2, 29, 13, 5, 7), dt.datetime(2024, 3, 1)],
            "ok": [True, False],
            "big": [1234567.891, 2.5],
        }
    )
    rows = _cells(table(df).to_html())[1:]
    assert rows[0][:2] == ["1,234,567", "0.123"] and rows[1][:2] == ["—", "—"]
    assert rows[0][2] == "1.2e-05" and rows[1][2] == "0.500"  # tiny values stay visible
    assert rows[0][3] == "–" and rows[1][3] == "∞"
    assert rows[0][4] == "2024-02-29" and rows[1][4] == "—"
    assert rows[0][5] == "2024-02-29 13:05:07" and rows[1][5] == "2024-03-01 00:00:00"
    assert rows[0][6] == "yes" and rows[1][6] == "no"
    assert rows[0][7] == "1,234,568" and rows[1][7] == "2"
    assert format_number(-0.0) == "0" and format_number(-0.0, 2) == "0.00"
    assert format_number(3) == "3" and format_number(None) == "—"
    pct = table(df.select("share"), formats={"share": "{:.1%}"}).to_text()
    assert "12.3%" in pct and "—" in pct


def test_title_facts_caption_and_footnotes():
    t = table(
        _event_study(),
        title="Event study",
        facts={"engineers": 1234, "overall": 0.41234, "skipped": None},
        caption="95% confidence intervals.",
        footnotes=["Pre-period estimates are jointly zero (p = 0.41)."],
    )
    text = t.to_text()
    assert text.splitlines()[0] == "Event study"
    assert text.splitlines()[1] == "engineers: 1,234 · overall: 0.412"
    assert text.rstrip().endswith("[1] Pre-period estimates are jointly zero (p = 0.41).")
    assert "95% confidence intervals." in t.to_html() and "skipped" not in t.to_html()
    assert isinstance(t, Table) and t._repr_html_() == t.to_html()
    with pytest.raises(TypeError, match="polars DataFrame"):
        table([1, 2])  # type: ignore[arg-type]


def test_empty_frame():
    t = table(pl.DataFrame({"a": []}, schema={"a": pl.Int64}))
    assert "(no rows)" in t.to_text() and "(no rows)" in t.to_html()


def test_oneline():
    line = oneline("Event study", event_times=19, engineers=1234, overall=0.41234, note=None)
    assert line == "Event study: event times 19, engineers 1,234, overall 0.412"
    assert "\n" not in oneline("Dataset", problems="two\nlines")
    assert oneline("Empty") == "Empty"


@pytest.fixture
def altair_defaults():
    yield
    alt.renderers.enable("default")
    alt.theme.enable("default")


def test_setup_keeps_a_renderer_the_user_chose(altair_defaults, monkeypatch):
    monkeypatch.delenv("CERTKIT_CHARTS", raising=False)
    alt.renderers.enable("default")
    charts.setup()
    assert alt.renderers.active == "certkit" and alt.theme.active == "certkit"
    alt.renderers.enable("mimetype")
    alt.theme.enable("dark")
    charts.setup()
    assert alt.renderers.active == "mimetype" and alt.theme.active == "dark"
    charts.use("svg")
    charts.setup()
    assert alt.renderers.active == "svg"
    alt.renderers.enable("default")
    monkeypatch.setenv("CERTKIT_CHARTS", "png")
    charts.setup()
    assert alt.renderers.active == "png"
    with pytest.raises(CertkitError, match="unknown chart renderer 'vega9'"):
        charts.use("vega9")


def _bundle(chart: alt.TopLevelMixin) -> dict:
    out = chart._repr_mimebundle_()
    return out[0] if isinstance(out, tuple) else out


def test_renderers_keep_the_spec_and_need_no_network(altair_defaults):
    chart = charts.event_study(_event_study().rename({"event_time": "event_time"}))
    charts.setup("interactive")
    first, second = _bundle(chart), _bundle(chart)
    assert charts.VEGALITE_MIME in first and charts.VEGALITE_MIME in second
    assert "window.vegaEmbed=" in first["text/html"]  # library inlined once...
    assert "window.vegaEmbed=" not in second["text/html"]  # ...per session
    assert len(second["text/html"]) < 20_000
    for out in (first["text/html"], second["text/html"]):
        assert not re.search(r"<script[^>]+src=|https?://cdn|jsdelivr", out)
        assert "Trust Notebook" in out  # what untrusted viewers see instead
    charts.setup()  # setup() sends the library again with the next chart
    assert "window.vegaEmbed=" in _bundle(chart)["text/html"]
    charts.use("svg")
    svg = _bundle(chart)
    assert set(svg) == {charts.VEGALITE_MIME, "image/svg+xml"}
    assert svg["image/svg+xml"].lstrip().startswith("<svg") and "role-mark" in svg["image/svg+xml"]
    charts.use("png")
    png = _bundle(chart)
    assert set(png) == {charts.VEGALITE_MIME, "image/png"}
    assert base64.b64decode(png["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
