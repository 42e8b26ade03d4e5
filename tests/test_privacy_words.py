"""The shared-page identifier check: names that are ordinary words ("Mark", "Dom", "mode").

Found on the public history of fastapi/fastapi: contributors whose display names are "Dom",
"Mark" and "mode" made every shared page fail, matched in the page's CSS ("mark {"), in
comments ("Command mode") and in chart grammar ("mark": "bar"). The check scans what a reader
sees and the charts' data; single words match only with their exact case.
"""

from __future__ import annotations

import re

import nbformat
import polars as pl
import pytest

from certkit.errors import CertkitError
from certkit.privacy import (
    check_shared,
    find_exposures,
    find_identifiers,
    identifiers,
    json_strings,
)
from certkit.renderers import vega_bundle
from certkit.report import html as report_html

PEOPLE = pl.DataFrame(
    {
        "engineer_id": ["mark.lee@example.com", "domdent@example.com", "glee0628@example.com"],
        "name": ["Mark", "Dom", "mode"],
        "email": ["mark.lee@example.com", "domdent@example.com", "glee0628@example.com"],
    }
)
HEADER = {"title": "t", "parameters": {}, "period": "p", "version": "v", "generated": "g"}


def _spec(rows: list[dict], title: str = "AI share by team") -> dict:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": title,
        "mark": {"type": "bar", "tooltip": True},
        "params": [{"name": "mode", "select": "interval", "bind": "scales"}],
        "encoding": {
            "x": {"field": "team", "type": "nominal", "title": "team"},
            "y": {"field": "mode", "type": "quantitative", "title": "share of PRs"},
        },
        "config": {"mark": {"color": "#1f5f8b"}, "axis": {"labelFont": "Mode Sans"}},
        "datasets": {"data-1": rows},
        "data": {"name": "data-1"},
    }


def _page(text: str, rows: list[dict], full: bool = False) -> str:
    nb = nbformat.v4.new_notebook()
    chart = nbformat.v4.new_output(
        "display_data", data={"application/vnd.vegalite.v6+json": _spec(rows)}
    )
    code = nbformat.v4.new_code_cell("chart", outputs=[chart])
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Page\n\n## AI adoption\n\n" + text),
        code,
    ]
    body, page = report_html.export(nb, title="t", header=HEADER, records=[])
    return page if full else body


CLEAN_ROWS = [{"team": "core", "mode": 0.2}, {"team": "docs", "mode": 0.1}]


@pytest.fixture(scope="module")
def clean_pages() -> tuple[str, str]:
    text = "The DOM is drawn in SVG. Mode of the MARK: **mark** the cells."
    return _page(text, CLEAN_ROWS), _page(text, CLEAN_ROWS, full=True)


def test_css_js_keys_and_grammar_are_not_identifiers(clean_pages):
    body, page = clean_pages
    people = identifiers(PEOPLE)
    # the raw page has the words everywhere: CSS ("> mark {"), the vega library, the spec
    assert '"mark"' in body and '"mode"' in body and "mark {" in body
    assert re.search(r"\bmode\b", vega_bundle()) and vega_bundle() in page
    for html in (body, page):
        parts = report_html.shared_content(html)
        assert find_exposures(parts, people) == []
        check_shared(parts, people)  # does not raise
    # the visible text and the chart's data and titles are scanned
    seen = " ".join(t for _, t in report_html.shared_content(body))
    assert "The DOM is drawn" in seen and "core" in seen and "share of PRs" in seen
    assert "interval" not in seen and "Mode Sans" not in seen  # grammar and styling


@pytest.mark.parametrize(
    ("text", "rows", "who", "where"),
    [
        ("Top author this month: Mark.", CLEAN_ROWS, "Mark", "section 'AI adoption', text"),
        ("Reviewed by Dom and others.", CLEAN_ROWS, "Dom", "section 'AI adoption', text"),
        ("Most AI PRs: mode (7).", CLEAN_ROWS, "mode", "section 'AI adoption', text"),
        ("", [{"team": "Mark", "mode": 0.9}], "Mark", "chart 1 ('AI share by team'), data field"),
        ("", [{"team": "mode", "mode": 0.9}], "mode", "data field 'team'"),
        ("", [{"team": "x", "who": "Dom"}], "Dom", "data field 'who'"),
        ("Mail DOMDENT@example.com", CLEAN_ROWS, "domdent@example.com", "text"),
    ],
)
def test_names_in_text_or_chart_data_are_found_and_named(text, rows, who, where):
    body = _page(text, rows)
    parts = report_html.shared_content(body)
    found = find_exposures(parts, PEOPLE)
    assert {e.identifier for e in found} == {who}
    assert any(where in e.place for e in found), [e.place for e in found]
    with pytest.raises(CertkitError) as err:
        check_shared(parts, identifiers(PEOPLE))
    msg = str(err.value)
    assert "no HTML was written" in msg and repr(who) in msg and where in msg
    if who in ("Mark", "Dom", "mode"):  # a one-word name: the message says what to do
        assert "`name` column" in msg


def test_single_words_match_case_sensitively_full_names_and_emails_in_any_case():
    people = ["Mark", "mode", "Ana Silva", "ana.silva@example.com", "E001"]
    text = "MARK mark Marks mode- Mode ana SILVA ANA.Silva@Example.com e001 E001x E001"
    assert find_identifiers(text, people) == sorted(
        ["mode", "ana SILVA", "ANA.Silva@Example.com", "E001"]
    )
    assert find_identifiers("Mark's review", people) == []  # one token "Mark's"
    assert find_identifiers("by Mark, today", people) == ["Mark"]


def test_the_message_shows_the_text_around_each_match():
    parts = [("section 'Summary', text", "The only reviewer was " + "Mark" + " in 2026. " * 3)]
    with pytest.raises(CertkitError) as err:
        check_shared(parts, ["Mark"], "page 04_ai_outcomes")
    msg = str(err.value)
    assert "page 04_ai_outcomes would show 1 engineer" in msg
    assert "'Mark' in section 'Summary', text: 'The only reviewer was [Mark] in 2026." in msg
    records = [{"section": "Summary", "mode": "ok"}, {"section": "by mode", "x": 1}]
    parts = json_strings(records, "answer records")
    assert parts == [
        ("answer records, 'section'", "Summary"),
        ("answer records, 'mode'", "ok"),
        ("answer records, 'section'", "by mode"),
    ]
    assert [e.snippet for e in find_exposures(parts, ["mode"])] == ["by [mode]"]
