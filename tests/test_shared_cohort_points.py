"""A shared report's "certified vs never certified" points rest on k engineers or more.

fastapi (trial P, P1): the shared AI page's chart of the AI-assisted share, certified vs
never certified, plotted monthly means over 2-4 engineers (one month's never-certified 0.25
was one AI PR among 4 engineers), and its tooltip said "410 engineers": every panel row of
the month, not the engineers behind the mean.
"""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from test_shared_ai_headline import write_roster

from certkit import charts
from certkit.report import setup
from certkit.report.study_ai import ai_study

K = 5


def _points(chart) -> list[dict]:
    spec = chart.to_dict()
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_the_mean_counts_the_engineers_behind_it_and_drops_small_points():
    panel = pl.DataFrame(
        {
            "engineer_id": ["a", "b", "c", "d", "a", "b", "c", "d"],
            "period": [date(2025, 1, 1)] * 4 + [date(2025, 2, 1)] * 4,
            "cohort": [2, 2, 0, 0, 2, 2, 0, 0],
            "ai_share": [0.5, None, 0.0, 1.0, 0.2, 0.4, None, None],
        }
    )
    means = charts.cohort_means(panel, "ai_share")
    got = {(r["period"].month, r["group"]): (r["mean"], r["engineers"]) for r in means.to_dicts()}
    assert got == {
        (1, "certified (ever)"): (0.5, 1),  # b has no merged PR: not behind the mean
        (1, "never certified"): (0.5, 2),
        (2, "certified (ever)"): (pytest.approx(0.3), 2),
    }
    assert len(_points(charts.cohort_trends(panel, "ai_share"))) == 3
    kept = _points(charts.cohort_trends(panel, "ai_share", min_engineers=2))
    assert sorted(r["engineers"] for r in kept) == [2, 2]


def _folder(root: Path) -> Path:
    """6 certified (in 2024-03) and 6 never-certified engineers, one PR a month each (late in
    the month: the data end with June, a whole month), half of the never certified and one
    certified engineer AI-assisted (no group's share is 0% or 100%, which a shared report
    withholds); in June only 3 certified and 2 others have PRs."""
    people = [f"c{i}" for i in range(6)] + [f"n{i}" for i in range(6)]
    rows = []
    for month in range(1, 7):
        active = people if month < 6 else ["c0", "c1", "c2", "n0", "n1"]
        rows += [(p, month, (p[0] == "n" and int(p[1]) % 2 == 0) or p == "c0") for p in active]
    root.mkdir()
    write_roster(root, [(p, "core") for p in people])
    pl.DataFrame(
        {
            "engineer_id": people[:6],
            "certification": "aws-mla-c01",
            "earned_date": date(2024, 3, 10),
        }
    ).write_csv(root / "certifications.csv")
    pl.DataFrame(
        {
            "id": [f"P{i}" for i in range(len(rows))],
            "author_id": [p for p, *_ in rows],
            "repo": "org/app",
            "created_date": [f"2024-{m:02d}-25T10:00:00Z" for _, m, _ in rows],
            "merged_date": [f"2024-{m:02d}-26T10:00:00Z" for _, m, _ in rows],
            "additions": 10,
            "deletions": 2,
            "ai_assisted": [ai for *_, ai in rows],
        }
    ).write_csv(root / "pull_requests.csv")
    return root


def test_a_shared_report_leaves_out_months_resting_on_fewer_than_k(tmp_path):
    folder = str(_folder(tmp_path / "data"))
    shown = {}
    for share in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx = setup(folder, share=share, privacy_k=K)
            study = ai_study(ctx, ["size_log"], notes=[])
            displays = study.adoption_displays()
        charts_ = [d for d in displays if hasattr(d, "to_dict")]
        assert len(charts_) >= 1
        points = _points(charts_[-1])
        shown[share] = {(r["period"][:7], r["group"]): r["engineers"] for r in points}
        texts = " ".join(
            getattr(d, "data", "") or "" for d in displays if not hasattr(d, "to_dict")
        )
        if share:
            assert "2 of the 12 monthly points are left out: each rests on fewer than 5" in texts
    # private: June's points (3 certified, 2 others) are shown with their real counts
    assert shown[False][("2024-06", "certified (ever)")] == 3
    assert shown[False][("2024-05", "never certified")] == 6
    # shared: every point rests on k engineers or more, June's are gone
    assert min(shown[True].values()) >= K
    assert ("2024-06", "certified (ever)") not in shown[True]
    assert len(shown[True]) == len(shown[False]) - 2
