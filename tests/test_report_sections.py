"""Fast tests of what keeps report pages readable on small data (no notebook is executed)."""

from __future__ import annotations

import json
import math
from datetime import datetime

import altair as alt
import polars as pl
import pytest

from certkit import charts, narrative
from certkit.data import dating, health
from certkit.data.dataset import Dataset
from certkit.data.panel import build_panel
from certkit.errors import CertkitError
from certkit.privacy import certified_engineers, engineers_behind, too_few
from certkit.report.runner import failing_line
from certkit.report.sections import Section, explain, finite


def test_section_turns_a_certkit_error_into_a_paragraph_and_goes_on():
    sink: list[str] = []
    done = []
    with Section("Trust scores", "2+ engineers with 5+ AI PRs", show=False, sink=sink) as s:
        raise CertkitError("only 1 engineer has 5 or more AI-assisted merged PRs.")
        done.append("never")  # noqa: F821 - skipped after the error
    done.append("after")
    assert done == ["after"]
    assert not s.ok
    assert s.reason == "only 1 engineer has 5 or more AI-assisted merged PRs"
    assert s.explanation.endswith("it needs 2+ engineers with 5+ AI PRs")
    assert sink == ["Trust scores: not estimated (only 1 engineer has 5 or more AI-assisted "
                    "merged PRs)"]  # fmt: skip
    html = s.html()
    assert "certkit-skipped" in html and "<b>Trust scores: not estimated.</b>" in html
    assert "Only 1 engineer" in html and "It needs 2+ engineers" in html


def test_a_reason_that_says_it_all_gets_no_needs_clause():
    """Contradictions on real data: "rests on 2 adopters; a shared report shows only ... at
    least 5. It needs at least 2 engineers who adopt AI" (pydantic-ai, shared) and
    "'incidents' is 0 in every row ... it needs certified engineers" (fastapi)."""
    from certkit.errors import HiddenInSharedReport, OutcomeNotRecorded

    for exc in (HiddenInSharedReport("rests on 2 adopters"), OutcomeNotRecorded("0 everywhere")):
        with Section("Sensitivity", "at least 2 adopters", show=False) as s:
            raise exc
        assert "needs" not in s.explanation and "It needs" not in s.html(), s.html()


def test_section_labels_unexpected_errors_and_lets_interrupts_through():
    with Section("Balance", show=False) as s:
        raise ValueError("math domain error")
    assert s.reason == "unexpected error in the computation (ValueError: math domain error)"
    with pytest.raises(KeyboardInterrupt), Section("x", show=False):
        raise KeyboardInterrupt
    with Section("fine", show=False) as ok:
        pass
    assert ok.ok and ok.html() == "" and ok.explanation == ""


def test_section_redacts_the_reason():
    with Section("x", show=False, redact=lambda t: t.replace("ana@corp", "[redacted]")) as s:
        raise CertkitError("ana@corp has no PRs")
    assert s.reason == "[redacted] has no PRs"
    assert "ana@corp" not in explain("x", s.reason)


def test_finite_replaces_nan_and_inf_by_nulls():
    df = pl.DataFrame({"a": [1.0, math.nan, math.inf, -math.inf], "b": ["x", "y", "z", "w"]})
    out = finite(df)
    assert out["a"].to_list() == [1.0, None, None, None]
    assert out["b"].to_list() == df["b"].to_list()


def test_chart_spec_has_no_nan_even_when_the_data_does():
    charts.setup()
    df = pl.DataFrame(
        {"event_time": [-1, 0, 1], "estimate": [0.1, math.nan, math.inf], "ci_low": [0.0] * 3}
    ).with_columns(ci_high=pl.col("estimate") + 1)
    chart = charts.event_study(df)
    for name in ("certkit", "svg"):  # the interactive and a static renderer
        charts.use(name)
        bundle = alt.renderers.get()(chart.to_dict())
        bundle = bundle[0] if isinstance(bundle, tuple) else bundle
        text = json.dumps(bundle[charts.VEGALITE_MIME], allow_nan=False)  # raises on NaN/inf
        assert "null" in text
    charts.use("certkit")


def test_story_never_prints_nan():
    row = narrative.effect_row("merged_prs", 0.0, math.nan, math.nan, math.nan, 2.0)
    sentence = narrative.summarize(pl.DataFrame([row]), "DiD")
    assert "nan" not in sentence.lower() and "inf" not in sentence.lower()
    assert "could not be estimated: the estimate or its confidence interval is not" in sentence
    assert "No outcome could be estimated" in sentence
    ok = narrative.effect_row("merged_prs", 0.5, 0.1, 0.3, 0.7, 2.0)
    mixed = narrative.summarize(
        pl.DataFrame([ok, narrative.not_estimated("defects", "too few")]), "DiD"
    )
    assert (
        "about 25% higher" in mixed and "**defects per period**: could not be estimated: too few."
    )
    assert "1 of 1 estimated outcome(s)" in mixed
    # a zero baseline gives no relative change, but the absolute estimate is still reported
    zero = narrative.effect_row("merged_prs", 0.5, 0.1, 0.3, 0.7, 0.0)
    assert math.isnan(zero["relative"]) and "+0.5" in narrative.summarize(pl.DataFrame([zero]), "x")


def test_ai_summary_says_which_parts_were_not_estimated():
    text = narrative.ai_summary(None, None, None, {"comparison": "no author wrote both kinds"})
    assert "not estimated: no author wrote both kinds" in text
    assert "Fix first" not in text and "nan" not in text


def _ds(created_source: list[str | None]) -> Dataset:
    n = len(created_source)
    eng = pl.DataFrame(
        {
            "engineer_id": ["a", "b"],
            "team": ["t", "t"],
            "role": ["r", "r"],
            "level": ["l", "l"],
            "hire_date": [datetime(2024, 1, 1).date()] * 2,
            "platform": ["aws", "aws"],
            "leave_date": [None, None],
            "is_bot": [False, False],
        },
        schema_overrides={"leave_date": pl.Date},
    )
    prs = pl.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "author_id": ["a" if i % 2 else "b" for i in range(n)],
            "repo": ["r"] * n,
            "created_date": [datetime(2024, 3, 1, 9)] * n,
            "merged_date": [datetime(2024, 3, 2, 9)] * n,
            "closed_date": [datetime(2024, 3, 2, 9)] * n,
            "first_review_date": [None] * n,
            "additions": [1] * n,
            "deletions": [1] * n,
            "ai_assisted": [0.0] * n,
            "ai_tool": [None] * n,
            "reverted": [False] * n,
            "created_source": created_source,
            "source": ["git"] * n,
        },
        schema_overrides={
            "first_review_date": pl.Datetime("us"),
            "ai_tool": pl.String,
            "created_source": pl.String,
        },
    )
    certs = pl.DataFrame(
        schema={"engineer_id": pl.String, "certification_id": pl.String, "earned_date": pl.Date}
    )
    linked = {
        "id": pl.String,
        "pr_id": pl.String,
        "engineer_id": pl.String,
        "created_date": pl.Datetime("us"),
    }
    return Dataset(
        engineers=eng,
        certifications=certs,
        pull_requests=prs,
        defects=pl.DataFrame(schema=linked),
        incidents=pl.DataFrame(schema=linked),
    )


def test_approximated_creation_dates_are_left_out_of_cycle_time():
    ds = _ds(["squash_commit", "squash_commit", "branch_first_commit", "github"])
    panel = build_panel(ds)
    # author b has PRs 0 (squash) and 2 (branch); author a has 1 (squash) and 3 (github)
    assert panel["merged_prs"].sum() == 4  # still counted
    assert panel["cycle_time_hours_median"].to_list() == [24.0, 24.0]
    approx = dating.approximated_dates(ds)
    assert approx.to_dicts()[0]["created_source"] == "squash_commit"
    assert approx["prs"].to_list() == [2]
    text = health.narrative(ds, health.coverage(ds), health.missing(ds), health.outliers(ds))
    assert "2 of 4 merged PRs (50%)" in text and "squash" in text
    only_squash = build_panel(_ds(["squash_commit", "squash_commit"]))
    assert only_squash["cycle_time_hours_median"].null_count() == only_squash.height
    note = narrative.cycle_time_note(ds, ["cycle_time_log_median"])
    assert note and "leaves out 2 of 4 merged PRs" in note[0]
    assert "(2 squash merges)" in note[0]  # the mix, not a list of every kind (watchman)
    assert "exported changes" not in note[0]
    exported = narrative.cycle_time_note(_ds(["exported", "exported"]), ["cycle_time_log_median"])
    assert "(2 changes exported from a review system)" in exported[0]
    assert "exported changes can be dated only by the review system" in exported[0]
    assert narrative.cycle_time_note(ds, ["merged_prs"]) == []


def test_missing_values_know_none_found_and_hide_internal_columns():
    ds = _ds(["squash_commit", None])
    miss = health.missing(ds)
    assert "created_source" not in miss["column"].to_list()
    assert "source" not in miss["column"].to_list()
    ai = miss.filter(pl.col("column") == "ai_tool").row(0, named=True)
    assert ai["meaning"] == "no AI tool detected on the PR" and ai["missing"] == 2
    text = health.narrative(ds, health.coverage(ds), miss, health.outliers(ds))
    assert "no gaps" in text  # every empty value here means "none"


def test_engineer_counts_behind_estimates():
    panel = pl.DataFrame(
        {
            "engineer_id": ["a", "a", "b", "b", "c", "c"],
            "cohort": [2, 2, 2, 2, 0, 0],
            "event_time": [-1, 0, -1, 0, None, None],
            "post": [False, True, False, True, False, False],
            "y": [1.0, 2.0, 1.0, None, 3.0, 3.0],
        }
    )
    counts = engineers_behind(panel, "y")
    assert dict(zip(counts["event_time"], counts["engineers"], strict=True)) == {-1: 2, 0: 1}
    assert certified_engineers(panel, "y") == 1  # b has no post-period value
    assert too_few(3, 5, "the effect") == (
        "the effect rests on fewer than 5 certified engineers; a shared report shows only "
        "estimates based on at least 5 people"
    )
    assert too_few(5, 5) is None and too_few(1, 1) is None


def test_failing_line_is_the_line_that_raised():
    source = "import x\n\nfor o in outs:\n    y = f(o)\n    z = g(y)\n"
    tb = ["\x1b[0;31mValueError\x1b[0m", "Cell \x1b[0;32mIn[3], line 5\x1b[0m", "File lib.py:9"]
    assert failing_line(source, tb) == (5, "z = g(y)")
    assert failing_line(source, ["no cell frame"]) == (None, "import x")


def test_the_dating_line_never_says_every_pr_is_dated_below_approximated_ones():
    """facebook/watchman: the data-health page showed a table of 692 approximated creation
    dates of 692 merged PRs, then "Every merged PR has the creation date its source
    recorded."."""
    everything = dating.first_commit_dates(_ds(["exported", "squash_commit"]))
    assert everything.startswith("No merged PR has a creation date the cycle time can use")
    some = dating.first_commit_dates(_ds(["exported", "github", "github"]))
    assert some.startswith("The 2 merged PRs kept in cycle time (of 3) have the creation date")
    assert dating.first_commit_dates(_ds(["github", None])).startswith("Every merged PR")
