"""AI outcomes on rare events give their counts, and say when they are too few (trial G F8).

xarray: "revert rate: about 40% lower on AI-assisted PRs of the same author" while 0 of 65
AI-assisted PRs and 12 of 1,703 others were reverted.
"""

from __future__ import annotations

import polars as pl

from certkit import narrative
from certkit.report import landing


def _comparison(estimate: float = -0.006) -> pl.DataFrame:
    rows = [
        {"outcome": "reverted", "comparison": c, "estimate": estimate, "p_value": p,
         "relative": -0.4, "ci_low": -0.01, "ci_high": 0.0}
        for c, p in (("naive", 0.004), ("adjusted", 0.3))
    ]  # fmt: skip
    return pl.DataFrame(rows)


PRS = pl.DataFrame(
    {
        "ai": [True] * 65 + [False] * 1703 + [None] * 3,
        "reverted": [0.0] * 65 + [1.0] * 12 + [0.0] * 1691 + [1.0] * 3,
        "defect": [None] * 1771,
    }
)


def test_ai_events_count_each_kind_of_pr():
    events = narrative.ai_events(PRS)
    assert events["reverted"] == {
        "prs_ai": 65,
        "prs_other": 1703,
        "events_ai": 0,
        "events_other": 12,
    }
    assert events["defect"]["prs_ai"] == 0  # no value: nothing counted


def test_too_few_reverts_are_not_compared_on_the_page_or_the_landing_page():
    events = narrative.ai_events(PRS)
    text = narrative.ai_summary(_comparison(), None, None, events=events)
    assert (
        "- **revert rate**: 0 of 65 AI-assisted and 12 of 1,703 other PRs were reverted: too "
        "few to compare." in text
    ), text
    assert "40% lower" not in text
    values = landing.ai_values(_comparison(), None, None, {}, narrative.AI_LABELS, events)
    lines = landing.ai_lines(values)
    assert lines[0] == (
        "revert rate: 0 of 65 AI-assisted and 12 of 1,703 other PRs were reverted: too few to "
        "compare"
    )


def test_enough_events_keep_the_gap_with_their_counts():
    many = {"reverted": {"prs_ai": 650, "prs_other": 1703, "events_ai": 30, "events_other": 120}}
    text = narrative.ai_summary(_comparison(), None, None, events=many)
    assert (
        "about 40% lower on AI-assisted PRs of the same author (no clear difference; 30 of " in text
    )
    assert "650 AI-assisted and 120 of 1,703 other PRs were reverted" in text
    # without counts (an older record): the words as before
    assert "about 40% lower" in narrative.ai_summary(_comparison(), None, None)
