"""Notebook displays of the data objects: one-line reprs and readable tables, nothing cut."""

from __future__ import annotations

import certkit as ck
from certkit.connectors.base import Import
from certkit.data.validate import Problem, ValidationReport


def test_dataset_and_import_have_one_line_reprs_and_table_displays():
    ds = ck.load_sample()
    text = repr(ds)
    assert "\n" not in text and "pull requests 110,900" in text and "2024-10-01" in text
    page = ds._repr_html_()
    assert "shape:" not in page and "pull_requests" in page and "110,900" in page
    note = ("a note that must be shown in full, however long it is " * 3).strip()
    imp = Import(notes=[note])
    assert "\n" not in repr(imp)
    assert note in imp._repr_html_().replace("\n", "")


def test_validation_report_shows_every_problem_whole():
    message = "could not read '31/02/2024' as a date; expected YYYY-MM-DD or ISO 8601 " * 2
    problems = [
        Problem("error", "engineers", message.strip(), column="hire_date", rows=[3], file="e.csv"),
        *[Problem("warning", "pull_requests", f"warning {i}") for i in range(60)],
    ]
    report = ValidationReport(problems)
    assert repr(report) == "ValidationReport: errors 1, warnings 60"
    page = report._repr_html_()
    assert "&#x27;31/02/2024&#x27;" in page or "'31/02/2024'" in page
    assert message.strip().replace("'", "&#x27;") in page or message.strip() in page
    assert "warning 59" in page  # all rows, no "more rows" cut for problems
    assert "shape:" not in page and "str" not in page.split("<table", 1)[1][:200]
