"""The AI adoption headline of a shared report is the organisation's, not one team's cell.

Found on the public history of fastapi/fastapi: the shared AI page said the AI-assisted share
went "from 0% to 17%" while the private one said "0% to 0%". The shared headline pooled the
by-team adoption cells left after small cells were suppressed, so in the last month the
"unknown" team's cell (1 AI-assisted PR of 6) stood for the organisation (about 1 in 106).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from certkit.analytics.ai import adoption_overall
from certkit.report import landing, setup
from certkit.report.study_ai import ai_study

K = 5


def write_roster(root: Path, engineers: list[tuple[str, str]]) -> None:
    """``engineers.csv`` of (engineer id, team) pairs, every one a mid backend on AWS."""
    pl.DataFrame(
        {
            "engineer_id": [e for e, _ in engineers],
            "team": [t for _, t in engineers],
            "role": "backend",
            "level": "mid",
            "hire_date": date(2023, 1, 1),
            "platform": "aws",
        }
    ).write_csv(root / "engineers.csv")


def _folder(root: Path) -> Path:
    """Core: 6 engineers, 10 PRs each a month, no AI; in March only 3 of them (a suppressed
    cell), in April only 2 (the whole organisation under k). Guests: 6 engineers, 1 PR each
    a month, half of them AI-assisted."""
    engineers = [(f"core{i}", "core") for i in range(6)] + [
        (f"guest{i}", "guest") for i in range(6)
    ]
    active = {1: 6, 2: 6, 3: 3, 4: 2}  # core engineers active per month
    rows = []
    for month, n_core in active.items():
        for i in range(n_core):
            rows += [(f"core{i}", month, day, False) for day in range(1, 11)]
        if month < 4:
            rows += [(f"guest{i}", month, 15, i < 3) for i in range(6)]
    # the data run to the end of April: a month the data end inside is left out of the
    # headline (trial I), and this test is about small periods, not partial ones
    rows.append(("core0", 4, 29, False))
    root.mkdir()
    write_roster(root, engineers)
    pl.DataFrame(
        {"engineer_id": ["core0"], "certification": ["CKA"], "earned_date": [date(2024, 2, 1)]}
    ).write_csv(root / "certifications.csv")
    created = [f"2024-{m:02d}-{d:02d}T10:00:00Z" for _, m, d, _ in rows]
    merged = [f"2024-{m:02d}-{d + 1:02d}T10:00:00Z" for _, m, d, _ in rows]
    pl.DataFrame(
        {
            "id": [f"P{i}" for i in range(len(rows))],
            "author_id": [a for a, *_ in rows],
            "repo": "org/app",
            "created_date": created,
            "merged_date": merged,
            "additions": 10,
            "deletions": 2,
            "ai_assisted": [ai for *_, ai in rows],
        }
    ).write_csv(root / "pull_requests.csv")
    return root


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    folder = str(_folder(tmp_path_factory.mktemp("ai") / "data"))
    out = {}
    for share in (False, True):
        ctx = setup(folder, share=share, privacy_k=K)
        out[share] = ai_study(ctx, ["size_log"], notes=[])
    return out


def test_the_shared_headline_is_the_organisation_series_without_small_periods(studies):
    private, shared = studies[False], studies[True]
    org = private.overall.select("period", "ai_share").rows()
    # the organisation: 3 AI-assisted PRs of 66 in January; 3 of 36 in March; none in April
    assert org == [
        (date(2024, 1, 1), 3 / 66),
        (date(2024, 2, 1), 3 / 66),
        (date(2024, 3, 1), 3 / 36),
        (date(2024, 4, 1), 0.0),
    ]
    # what went wrong: in March the only cell a shared report shows is the guests' (50%)
    cells = shared.adoption.filter(pl.col("period") == date(2024, 3, 1), ~pl.col("suppressed"))
    assert cells.select("team", "ai_share").rows() == [("guest", 0.5)]
    values = {
        s: landing.ai_values(None, study.overall, None, {}, {}) for s, study in studies.items()
    }
    assert values[False]["adoption_first"] == pytest.approx(3 / 66)
    assert values[False]["adoption_last"] == 0.0 and values[False]["period_last"] == "2024-04-01"
    assert "periods_left_out" not in values[False]
    # shared: the same series, April (2 engineers) left out, never the guests' 50%
    assert values[True]["adoption_first"] == pytest.approx(3 / 66)
    assert values[True]["adoption_last"] == pytest.approx(3 / 36)
    assert values[True]["period_first"] == "2024-01-01"
    assert values[True]["period_last"] == "2024-03-01"
    assert values[True]["periods_left_out"] == 1


def test_the_page_summary_and_the_landing_line_say_the_same(studies):
    private = studies[False].summary_displays()[1].data
    shared = studies[True].summary_displays()[1].data
    assert "went from 5% (2024-01-01) to 0% (2024-04-01)." in private
    assert "went from 5% (2024-01-01) to 8% (2024-03-01), organisation-wide; 1 period" in shared
    assert "50%" not in shared
    record = landing.ai_values(None, studies[True].overall, None, {}, {})
    line = next(x for x in landing.ai_lines(json.loads(json.dumps(record))) if "adoption" in x)
    assert "from 5% (2024-01-01) to 8% (2024-03-01), organisation-wide" in line


def test_adoption_overall_checks_its_period():
    from certkit.errors import CertkitError

    with pytest.raises(CertkitError, match="month' or 'quarter"):
        adoption_overall(pl.DataFrame(), period="week")


def test_a_series_that_rose_and_fell_names_its_peak():
    """pydantic-ai: 0% (2024-10) to 2% (2026-08) hid 53% in March 2026 and the drop after the
    repository told agents to stop adding their co-author line."""
    from certkit import narrative

    shares = [0.0, 0.05, 0.27, 0.33, 0.53, 0.48, 0.077, 0.023, 0.02]
    series = pl.DataFrame(
        {
            "period": [date(2025, 12 + i, 1) if i < 1 else date(2026, i, 1) for i in range(9)],
            "ai_share": shares,
        }
    )
    trend = narrative.adoption_trend(series)
    assert trend["adoption_peak"] == 0.53 and trend["period_peak"] == "2026-04-01"
    words = narrative.adoption_words(trend)
    assert "went from 0% (2025-12-01) to 2% (2026-08-01); it peaked at 53% (2026-04-01)" in words
    assert "traces AI tools leave" in words
    steady = narrative.adoption_trend(series.with_columns(pl.Series("ai_share", sorted(shares))))
    assert "adoption_peak" not in steady


def test_a_tiny_share_is_not_rounded_to_zero():
    """fastapi: 3 AI-assisted PRs in 3,218 read "went from 0% (2018-12-01) to 0% (2026-08-01)"."""
    from certkit import narrative

    trend = {"adoption_first": 0.0, "period_first": "2018-12-01"} | {
        "adoption_last": 0.003,
        "period_last": "2026-08-01",
    }
    assert "went from 0% (2018-12-01) to under 1% (2026-08-01)" in narrative.adoption_words(trend)


def test_a_shared_series_that_stops_early_says_so():
    """Aider-AI/aider (trial M, M13): the shared sentence read "from 57% (2025-01-01) to 10%
    (2025-09-01)", a fall, while the 8 later months it hid (too few engineers) rose to 79%."""
    from certkit import narrative

    months = [date(2025, m, 1) for m in range(1, 13)]
    table = pl.DataFrame(
        {
            "period": months,
            "ai_share": [0.57, 0.5, 0.4, 0.3, 0.2, 0.15, 0.12, 0.11, 0.10] + [None] * 3,
            "n_ai": [57, 50, 40, 30, 20, 15, 12, 11, 10] + [None] * 3,
            "n_prs": [100] * 9 + [None] * 3,
            "suppressed": [False] * 9 + [True] * 3,
        },
        schema_overrides={"n_ai": pl.Int64, "n_prs": pl.Int64},
    )
    words = narrative.adoption_words(narrative.adoption_trend(table))
    assert "to 10% (2025-09-01), organisation-wide; 3 periods with too few engineers" in words
    assert "3 of them after 2025-09-01: the series stops there, not the data" in words
    inside = table.with_columns(pl.Series("suppressed", [True] + [False] * 11))
    inside = inside.with_columns(pl.col("ai_share").fill_null(0.5), pl.col("n_ai").fill_null(50),
                                 pl.col("n_prs").fill_null(100))  # fmt: skip
    assert "of them after" not in narrative.adoption_words(narrative.adoption_trend(inside))


def test_a_weekly_report_shows_the_adoption_shares_by_month(tmp_path):
    """trial AE (L2): a weekly report's AI page said "adoption: not shown: period must be
    'month' or 'quarter', not 'week'"."""
    folder = str(_folder(tmp_path / "data"))
    ctx = setup(folder, privacy_k=K, period="week")
    notes: list[str] = []
    weekly = ai_study(ctx, ["size_log"], notes=notes, period="week")
    monthly = ai_study(setup(folder, privacy_k=K), ["size_log"], notes=[])
    assert weekly.overall.equals(monthly.overall)
    assert weekly.adoption.equals(monthly.adoption)
    assert any("shown by month in this weekly report" in n for n in notes)
    assert not any("period must be" in n for n in notes)


def test_the_heat_map_note_counts_every_cell_it_leaves_out(studies):
    """trial AE (L3): a shared heat map said "9 team x month cell(s) left out" where 66 of
    its 69 cells were (the cells under k were not counted)."""
    shared = studies[True]
    notes = [
        getattr(d, "data", "")
        for d in shared.adoption_displays()
        if "team x month cells are left out" in str(getattr(d, "data", ""))
    ]
    shown = shared.adoption.filter(~pl.col("suppressed"), ~pl.col("ai_share").is_in([0.0, 1.0]))
    total = shared.adoption.height
    assert notes == [
        f"{total - shown.height} of the {total} team x month cells are left out of this shared "
        "report by its privacy rules (a group under k engineers, or a value that would tell "
        "each engineer's own)."
    ]
    assert shared.adoption.filter(pl.col("suppressed")).height > 0  # small cells counted too


def test_the_ai_page_compares_rework_where_the_line_ledger_measured_it():
    """trial AF (B3, huggingface_hub): a git import (no cycle time, no defects table) got "No
    effect could be estimated" on the AI page while ck.ai.compare(ds) compared rework; and
    "reverted: the data does not record it" was said of a history with no revert."""
    import dataclasses

    import numpy as np

    import certkit as ck
    from certkit.privacy import Privacy
    from certkit.report.context import Context

    ds = ck.load_sample()
    rng = np.random.default_rng(0)
    prs = ds.pull_requests
    churned = (prs["additions"].to_numpy() * rng.uniform(0, 0.3, prs.height)).round()
    with_ledger = dataclasses.replace(
        ds, pull_requests=prs.with_columns(pl.Series("churned_lines_21d", churned).cast(pl.Int64))
    )
    outcomes = ["cycle_time_log", "reverted", "defect", "rework"]
    for data, expected in ((ds, False), (with_ledger, True)):
        ctx = Context(
            ds=data, full=data, panel=pl.DataFrame(), privacy=Privacy(k=5), period="", filters={}
        )
        notes: list[str] = []
        study = ai_study(ctx, outcomes, notes=notes)
        compared = set(study.comparison["outcome"].to_list())
        assert ("rework" in compared) is expected, notes
        assert not any("rework" in n for n in notes)  # no ledger: not an outcome to explain
    words = ck.ai.compare(
        ds.pull_requests.pipe(
            lambda p: dataclasses.replace(ds, pull_requests=p.with_columns(reverted=pl.lit(False)))
        ),
        outcomes=("reverted", "size_log"),
    ).warnings
    assert any("no PR with a known revert status was reverted" in w for w in words), words


def test_the_heat_maps_unknown_team_is_named_as_authors_outside_the_roster():
    """trial AF (L3): the heat map's cells of the import's added authors were labelled team
    'unknown'."""
    import dataclasses

    import certkit as ck
    from certkit.privacy import Privacy
    from certkit.report.context import Context

    ds = ck.load_sample()
    team = sorted(ds.engineers["team"].unique().to_list())[0]
    added = pl.col("team") == team
    engineers = ds.engineers.with_columns(
        pl.when(added).then(pl.lit("unknown")).otherwise(pl.col(c)).alias(c)
        for c in ("team", "role", "level")
    )
    ds = dataclasses.replace(ds, engineers=engineers)
    ctx = Context(ds=ds, full=ds, panel=pl.DataFrame(), privacy=Privacy(k=5), period="", filters={})
    study = ai_study(ctx, ["size_log"], notes=[])
    shown = study.adoption_displays()[0].to_dict()["datasets"]
    teams = {row["team"] for rows in shown.values() for row in rows}
    assert "unknown (outside the roster)" in teams and "unknown" not in teams
