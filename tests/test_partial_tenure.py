"""The period an engineer joined inside is left out for them, as the one they left inside is,
and a certified engineer left with no period after certifying is left out of the panel.

trial AB (N3) and AC (F5): roster engineers hired on the 15th, 18th, 24th and 25th kept
those months whole (0 or 1 PR, in their pre-certification periods), where a month they left
inside was already left out. trial AB (N5): a leaver certified on 5 March who left on 15 March
kept a cohort with no month after certifying, and moved pydantic-ai's headline from -5.21 to
-4.41 PRs as a treated engineer without outcomes.
"""

from __future__ import annotations

import warnings
from datetime import date

import polars as pl
import pytest

import certkit as ck
from certkit.connectors import read_git, to_dataset
from certkit.data.health import outside_words, prs_outside_panel
from certkit.data.panel_calendar import partial_tenure_periods
from tests.test_connectors_git import Repo


def _with(ds, table: str, column: str, values: dict) -> ck.Dataset:
    """``ds`` with ``column`` of ``table`` set for the engineers in ``values``."""
    frame = getattr(ds, table)
    dtype = frame.schema[column]
    changed = frame.with_columns(
        pl.col("engineer_id")
        .replace_strict(values, default=None, return_dtype=dtype)
        .fill_null(pl.col(column))
        .alias(column)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ck.from_frames(**{**ds.tables(), table: changed})


def _certify(ds, who: str, day: date) -> ck.Dataset:
    """``ds`` with one more certification: ``who``, earned on ``day``."""
    extra = ds.certifications.head(1).with_columns(
        pl.lit(who).alias("engineer_id"), pl.lit(day).alias("earned_date")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        certs = pl.concat([ds.certifications, extra])
        return ck.from_frames(**{**ds.tables(), "certifications": certs})


def _build(ds, period: str = "month") -> tuple[pl.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        panel = ck.build_panel(ds, period)
    return panel, [str(w.message) for w in caught]


def test_the_rule_reads_both_ends_of_a_tenure():
    engineers = pl.DataFrame(
        {
            "engineer_id": ["a", "b", "c", "d", "e"],
            "hire_date": [date(2025, 3, 4), date(2025, 3, 5), date(2025, 3, 15), None, None],
            "leave_date": [None, None, date(2025, 6, 26), date(2025, 6, 27), None],
        }
    )
    cut = partial_tenure_periods(engineers, "month").sort("engineer_id", "side")
    assert cut.rows() == [
        ("b", date(2025, 3, 1), "hire"),  # the 5th: 4 days of March missed
        ("c", date(2025, 3, 1), "hire"),
        ("c", date(2025, 6, 1), "leave"),  # 26 June: more than 3 days before the 30th
    ]
    # ISO weeks: a Monday hire keeps its week, a Tuesday one does not
    weekly = pl.DataFrame(
        {"engineer_id": ["mon", "tue"], "hire_date": [date(2025, 3, 3), date(2025, 3, 4)]}
    )
    assert partial_tenure_periods(weekly, "week").rows() == [("tue", date(2025, 3, 3), "hire")]


def test_the_month_an_engineer_joined_inside_is_left_out_for_them():
    ds = ck.simulate(60, 8, seed=1)
    start = ds.period()[0]
    month = date(start.year + (start.month + 2) // 12, (start.month + 2) % 12 + 1, 1)
    after = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    never = ds.engineers.join(ds.certifications, on="engineer_id", how="anti")
    a, b = never.filter(pl.col("leave_date").is_null())["engineer_id"][:2]
    changed = _with(ds, "engineers", "hire_date", {a: month.replace(day=15), b: month})
    panel, said = _build(changed)
    first = dict(panel.group_by("engineer_id").agg(pl.col("period").min()).iter_rows())
    assert first[a] == after  # hired on the 15th: that month is not theirs to compare
    assert first[b] == month  # hired on the 1st: kept
    assert any(
        "engineer(s) joined inside a month (their hire_date more than 3 days after the "
        "month's start): that month is left out of the panel for each of them" in s
        for s in said
    )
    # the data-health count still adds up, the hire month's PRs named apart
    found = prs_outside_panel(changed, panel)
    assert found["merged"] - found["total"] == panel["merged_prs"].sum()


@pytest.mark.parametrize("certified_day", [5, 20])
def test_a_leaver_certified_in_the_month_they_left_inside_is_left_out(certified_day):
    """N5: the leave month is left out for the leaver, so a certification inside it has no
    month after it; the engineer is left out, with a warning, not kept as a treated engineer
    without outcomes. Certified on the 20th after leaving on the 15th: the same."""
    ds = ck.simulate(60, 8, seed=1)
    start = ds.period()[0]
    month = date(start.year + (start.month + 3) // 12, (start.month + 3) % 12 + 1, 1)
    certified = ds.certifications["engineer_id"].unique()
    who = ds.engineers.filter(
        pl.col("leave_date").is_null() & ~pl.col("engineer_id").is_in(certified.implode())
    )["engineer_id"][0]
    changed = _with(ds, "engineers", "leave_date", {who: month.replace(day=15)})
    changed = _certify(changed, who, month.replace(day=certified_day))
    panel, said = _build(changed)
    assert who not in panel["engineer_id"].to_list()
    assert any("1 engineer(s) were certified after their last observed month" in s for s in said)
    # data health counts them apart from those certified before the data
    from certkit.data.health import certified_outside_window

    found = certified_outside_window(changed, panel)
    assert found["departed"] == 1
    both = certified_outside_window(ds, ck.build_panel(ds))
    assert found["early"] == both["early"]
    # the AI-adoption study, which groups engineers by certification only, keeps them
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept = ck.build_panel(changed, keep_arrivals=True)
    assert who in kept["engineer_id"].to_list()


def test_a_certification_the_month_after_a_partial_hire_month_has_no_before():
    """Hired on the 20th, certified the next month: the hire month is left out, so the
    certification month is their first and nothing compares them before and after."""
    ds = ck.simulate(60, 8, seed=1)
    start = ds.period()[0]
    month = date(start.year + (start.month + 2) // 12, (start.month + 2) % 12 + 1, 1)
    after = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    certified = ds.certifications["engineer_id"].unique()
    who = ds.engineers.filter(~pl.col("engineer_id").is_in(certified.implode()))["engineer_id"][0]
    changed = _with(ds, "engineers", "hire_date", {who: month.replace(day=20)})
    changed = _certify(changed, who, after.replace(day=10))
    panel, said = _build(changed)
    assert who not in panel["engineer_id"].to_list()
    assert any("were certified before (or in) their first observed month" in s for s in said)
    # validation says it of that row too, and not as a ramp-up (the first-month rule does)
    (early,) = [p for p in changed.validation.warnings if "first month in the data" in p.message]
    assert "the month after it when the hire date falls more than 3 days into it" in early.message
    ramp = [p for p in changed.validation.warnings if "within 6 months" in p.message]
    assert not [r for p in ramp for r in p.rows if r in early.rows]


def test_the_sample_health_sentence_names_the_joining_months():
    ds = ck.load("data/sample")
    panel, said = _build(ds)
    found = prs_outside_panel(ds, panel)
    assert found["joined_inside"] > 0 and found["joined_inside_engineers"] > 0
    assert found["merged"] - found["total"] == panel["merged_prs"].sum()
    words = outside_words(found)
    assert f"{found['joined_inside']:,} merged in the month their author joined inside" in words
    # a shared report counts no part resting on fewer than k engineers
    few = {**found, "joined_inside_engineers": 2}
    assert "joined inside" not in outside_words(few, k=5)


def test_a_real_git_history_with_a_mid_month_hire(tmp_path):
    """Real `git`: a roster engineer hired on 18 March 2024 whose first PR is that day loses
    March; an engineer hired on 1 January keeps January; an author outside the roster whose
    first PR is on 12 February (the import's placeholder hire date, not a hire) keeps
    February."""
    repo = Repo(tmp_path / "app")
    ana, dev, ext = (
        ("Ana Silva", "ana@corp.example"),
        ("Dev Rao", "dev@corp.example"),
        ("Kim Out", "kim@elsewhere.example"),
    )
    n = 0
    for month in range(1, 7):
        for day in (4, 11, 18, 25):
            when = date(2024, month, day)
            for who, since in (
                (ana, date(2024, 1, 1)),
                (dev, date(2024, 3, 18)),
                (ext, date(2024, 2, 12)),
            ):
                if when >= since:
                    n += 1
                    repo.commit(f"Change {n} (#{n})", who, f"{when.isoformat()}T10:00:00+00:00")
    repo.commit("Last (#999)", ana, "2024-06-30T10:00:00+00:00")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "engineer_id,email,team,role,level,hire_date,platform\n"
        "ana,ana@corp.example,core,engineer,senior,2024-01-01,aws\n"
        "dev,dev@corp.example,core,engineer,mid,2024-03-18,aws\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = to_dataset(read_git(repo.path), engineers=roster)
    panel, said = _build(ds)
    first = dict(panel.group_by("engineer_id").agg(pl.col("period").min()).iter_rows())
    assert first["ana"] == date(2024, 1, 1)
    assert first["dev"] == date(2024, 4, 1)
    assert first["kim@elsewhere.example"] == date(2024, 2, 1)
    assert any("1 engineer(s) joined inside a month" in s for s in said)
    # every roster engineer's month kept is whole: four PRs each
    roster = panel.filter(pl.col("engineer_id").is_in(["ana", "dev"]))
    assert set(roster.filter(pl.col("period") < date(2024, 6, 1))["merged_prs"].to_list()) == {4}


def test_the_idle_engineer_row_counts_the_panels_engineers():
    """trial AI (L5): data health said "engineers with no merged PR: 0 of 145" beside the
    page's 147 engineers (2 seen only in the partial last month the panel leaves out)."""
    from certkit.data import health

    ds = ck.load("data/sample")
    panel, _ = _build(ds)
    rows = health.outliers(ds, panel).to_dicts()
    (idle,) = [r for r in rows if str(next(iter(r.values()))).startswith("engineers with no")]
    assert "of the engineers in the panel" in " ".join(str(v) for v in idle.values())
    assert panel["engineer_id"].n_unique() in idle.values()
