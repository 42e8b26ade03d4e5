"""Trial I words on the AI page and cycle time: a partial last month is left out of the
adoption sentence (and said), the answer box does not call a page with counts "nothing", and
the cycle-time advice does not send GitLab projects to a gh export."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import polars as pl

import certkit as ck
from certkit import narrative
from certkit.narrative.effects import approximated_reason
from certkit.report import landing


def test_a_partial_last_month_is_left_out_of_the_adoption_sentence_and_said():
    """python-sdk: "went from 0% (2024-09-01) to 12% (2026-08-01)" with data ending on
    2026-08-20 (2 AI PRs of 17) after 0-2% months; the peak of 13% left out."""
    months = [date(2026, m, 1) for m in range(3, 9)]
    table = pl.DataFrame(
        {
            "period": months,
            "ai_share": [0.0, 0.13, 0.05, 0.0, 0.02, 0.12],
            "n_ai": [0, 13, 5, 0, 1, 2],
            "n_prs": [100, 100, 100, 100, 55, 17],
            "partial": [False] * 5 + [True],
        }
    )
    trend = narrative.adoption_trend(table)
    assert trend["period_last"] == "2026-07-01" and trend["period_partial"] == "2026-08-01"
    words = narrative.adoption_words(trend)
    assert "to 2% (2026-07-01) (the partial last period, 2026-08-01, left out)" in words
    assert "it peaked at 13% (2026-04-01)" in words


def test_the_peak_rests_on_a_period_with_enough_prs():
    """trial Y (openai-agents-python + python-sdk): "it peaked at 50% (2024-12-01)" on 1
    AI-assisted PR of 2, between months of 0-2%; the peak is read among periods of 10 or more
    PRs, as the ends are."""
    months = [date(2024, m, 1) for m in range(9, 13)] + [date(2025, m, 1) for m in range(1, 4)]
    table = pl.DataFrame(
        {
            "period": months,
            "ai_share": [0.0, 0.01, 0.0, 0.5, 0.02, 0.15, 0.01],
            "n_ai": [0, 1, 0, 1, 1, 6, 1],
            "n_prs": [40, 60, 50, 2, 50, 40, 70],
        }
    )
    words = narrative.adoption_words(narrative.adoption_trend(table))
    assert "50%" not in words
    assert "it peaked at 15% (2025-02-01)" in words


def test_adoption_overall_marks_the_periods_the_data_end_inside():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = ck.simulate(40, 12, seed=2)
        overall = ck.ai.adoption_overall(ds)
    start, end = ds.period()
    assert "partial" in overall.columns
    first_day = overall["period"].cast(pl.Date)
    last_day = first_day.dt.offset_by("1mo").dt.offset_by("-1d")
    assert overall["partial"].to_list() == [
        a + timedelta(days=6) < start or b > end
        for a, b in zip(first_day.to_list(), last_day.to_list(), strict=True)
    ]


def test_a_partial_first_month_is_left_out_too():
    """python-sdk (trial K, K13): "went from 0% (2024-09-01)" on the one PR of a month whose
    data start on the 30th."""
    table = pl.DataFrame(
        {
            "period": [date(2024, 9, 1), date(2024, 10, 1), date(2024, 11, 1), date(2024, 12, 1)],
            "ai_share": [0.0, 0.5, 1.0, 0.5],
            "n_ai": [0, 1, 2, 1],
            "n_prs": [1, 2, 2, 2],
            "partial": [True, False, False, True],
        }
    )
    trend = narrative.adoption_trend(table)
    assert trend["period_first"] == "2024-10-01" and trend["period_last"] == "2024-11-01"
    words = narrative.adoption_words(trend)
    assert "went from 50% (2024-10-01) to 100% (2024-11-01)" in words
    # all PRs by when each was opened, unlike the panel's merged PRs (trial Q, Q7)
    assert "dated by when each was opened) went" in words
    # a lower bound: only PRs with a trace an AI tool left (trial T, gemini-cli)
    assert words.startswith("AI-assisted share of PRs (at least: PRs with a trace an AI tool")
    assert "(the partial first and last periods, 2024-09-01 and 2024-12-01, left out)" in words
    table = table.with_columns(pl.Series("partial", [True, False, False, False]))
    words = narrative.adoption_words(narrative.adoption_trend(table))
    assert "to 50% (2024-12-01) (the partial first period, 2024-09-01, left out)" in words


def test_an_end_period_with_a_handful_of_prs_is_not_where_adoption_went():
    """trial N: "went from 0% (2022-01-01) to 0% (2025-10-01)" where 2025-10 held 1 PR (the
    other repositories' histories had ended)."""
    months = [date(2025, m, 1) for m in range(6, 11)]
    table = pl.DataFrame(
        {
            "period": months,
            "ai_share": [0.1, 0.3, 0.64, 0.4, 0.0],
            "n_ai": [7, 12, 7, 12, 0],
            "n_prs": [69, 40, 11, 30, 1],
        }
    )
    trend = narrative.adoption_trend(table)
    assert trend["period_last"] == "2025-09-01" and trend["periods_thin"] == 1
    words = narrative.adoption_words(trend)
    assert "to 40% (2025-09-01) (1 period at the ends with fewer than 10 PRs left out)" in words
    # never fewer than two periods: a short series keeps its ends
    short = narrative.adoption_trend(table.tail(2))
    assert short["period_last"] == "2025-10-01" and "periods_thin" not in short


def test_an_answer_box_with_counts_but_no_estimate_says_what_the_data_show():
    record = {
        "key": "ai",
        "kind": "ai",
        "rows": [
            {
                "outcome": "reverted",
                "label": "revert rate",
                "relative": None,
                "estimate": 0.042,
                "p_value": 0.24,
                "lower_better": True,
                "prs_ai": 30,
                "prs_other": 739,
                "events_ai": 1,
                "events_other": 1,
            }
        ],
        "adoption_first": 0.0,
        "period_first": "2024-09-01",
        "adoption_last": 0.02,
        "period_last": "2026-07-01",
    }
    box = landing.answer_box([record])
    assert "No effect could be estimated; what the data show:" in box
    assert "Nothing on this page could be estimated" not in box
    # a page of reasons only keeps its words
    empty = {"key": "ai", "kind": "ai", "comparison_note": "no AI trace"}
    assert "Nothing on this page could be estimated" in landing.answer_box([empty])


def test_the_cycle_time_advice_names_the_gitlab_route_too():
    approx = pl.DataFrame({"created_source": ["direct_commit"], "prs": [2185]})
    reason = approximated_reason(approx, 2185)
    assert "import a gh export (certkit import git --github)" in reason
    assert "GitHub PRs" in reason and "DevLake's GitLab plugin (certkit import devlake)" in reason
    assert "Only GitHub PRs can be dated from a `gh` export" in narrative.effects.DATING_ROUTES
