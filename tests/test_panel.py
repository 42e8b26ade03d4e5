"""Panel builder against hand-computed small cases."""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest
from conftest import CERTIFICATIONS, ENGINEERS, write_folder

import certkit as ck

TODAY = date(2026, 11, 24)


@pytest.fixture
def panel(small_folder):
    return ck.build_panel(ck.load(small_folder, today=TODAY))


def row(panel: pl.DataFrame, engineer: str, index: int) -> dict:
    (r,) = panel.filter(
        (pl.col("engineer_id") == engineer) & (pl.col("period_index") == index)
    ).to_dicts()
    return r


def test_rows_follow_hire_dates_and_data_window(panel):
    # data window: January to March 2024; E2 was hired on 2024-02-10, inside February,
    # which is left out for them (a partial month counts fewer PRs)
    assert panel.height == 7
    assert panel.filter(pl.col("engineer_id") == "E2")["period"].to_list() == [date(2024, 3, 1)]
    assert panel["period_index"].unique().sort().to_list() == [1, 2, 3]


def test_outcomes_hand_computed(panel):
    jan = row(panel, "E1", 1)  # P1 (48 h, reviewed after 2 h) and P2 (24 h, AI, reverted)
    assert jan["merged_prs"] == 2 and jan["prs_opened"] == 2
    assert jan["cycle_time_log_median"] == pytest.approx((math.log(48) + math.log(24)) / 2)
    assert jan["cycle_time_log_mean"] == pytest.approx((math.log(48) + math.log(24)) / 2)
    assert jan["cycle_time_hours_median"] == pytest.approx(36)
    assert jan["pickup_time_hours_median"] == pytest.approx(2)
    assert jan["reverts"] == 1 and jan["revert_rate"] == pytest.approx(0.5)
    assert jan["ai_prs"] == pytest.approx(1) and jan["ai_share"] == pytest.approx(0.5)
    assert jan["lines_changed"] == 115
    # D1 was reported in February but is traced to P1, merged in January
    assert jan["defects"] == 1 and jan["defects_per_pr"] == pytest.approx(0.5)

    feb = row(panel, "E1", 2)  # no PR merged: counts 0, rates and durations null
    assert feb["merged_prs"] == 0 and feb["defects"] == 0
    assert feb["cycle_time_log_median"] is None and feb["defects_per_pr"] is None
    assert feb["revert_rate"] is None and feb["ai_share"] is None

    mar = row(panel, "E1", 3)  # P3 merged; incident I1 is linked through P3
    assert mar["merged_prs"] == 1 and mar["incidents"] == 1
    assert mar["cycle_time_hours_median"] == pytest.approx(24)

    e2 = row(panel, "E2", 3)  # P4 opened in February, merged in March after 29 days
    assert e2["merged_prs"] == 1 and e2["cycle_time_hours_median"] == pytest.approx(29 * 24)
    # P4 was opened in E2's first, partial month (hired 10 February): not a row of the panel
    assert panel.filter((pl.col("engineer_id") == "E2") & (pl.col("period_index") == 2)).is_empty()

    e3 = row(panel, "E3", 3)  # D2 has no PR link: counted by its own date for E3
    assert e3["defects"] == 1 and e3["ai_share"] == pytest.approx(0.5)
    assert row(panel, "E3", 1)["merged_prs"] == 0 and row(panel, "E3", 1)["prs_opened"] == 1
    # the unlinked incident I2 is attributed to nobody
    assert panel["incidents"].sum() == 1


def test_treatment_columns(panel):
    e1 = panel.filter(pl.col("engineer_id") == "E1")
    assert e1["cohort"].to_list() == [2, 2, 2]
    assert e1["event_time"].to_list() == [-1, 0, 1]
    assert e1["post"].to_list() == [False, True, True]
    assert e1["certification"][0] == "aws-mls-c01"
    never = panel.filter(pl.col("engineer_id") != "E1")
    assert set(never["cohort"]) == {0}
    assert never["event_time"].null_count() == never.height
    assert not never["post"].any()


def test_covariates_present(panel):
    assert {"team", "role", "level", "platform", "tenure_months"} <= set(panel.columns)
    jan = row(panel, "E1", 1)
    assert jan["tenure_months"] == pytest.approx(
        (date(2024, 1, 1) - date(2023, 1, 15)).days / 30.4375
    )


def test_leave_date_and_bots(tmp_path):
    engineers = ENGINEERS.replace(
        "engineer_id,team,role,level,hire_date,platform,name",
        "engineer_id,team,role,level,hire_date,platform,name,leave_date",
    )
    engineers = (
        engineers.replace("Chen Nguyen", "Chen Nguyen,2024-02-15")
        .replace("Ana Silva", "Ana Silva,")
        .replace("Ben Okafor", "Ben Okafor,")
    )
    engineers += "renovate[bot],automation,bot,n/a,2020-01-01,other,Renovate,\n"
    ds = ck.load(write_folder(tmp_path, engineers=engineers), today=TODAY)
    panel = ck.build_panel(ds)
    # E3 left on 15 February: February, a partial month for E3, is left out (trial X)
    assert panel.filter(pl.col("engineer_id") == "E3")["period_index"].to_list() == [1]
    kept = ck.load(
        write_folder(tmp_path / "b", engineers=engineers.replace("2024-02-15", "2024-02-27")),
        today=TODAY,
    )
    e3 = ck.build_panel(kept).filter(pl.col("engineer_id") == "E3")
    assert e3["period_index"].to_list() == [1, 2]  # left on the 27th of 29: February kept
    assert "renovate[bot]" not in panel["engineer_id"].to_list()
    assert "renovate[bot]" in ck.build_panel(ds, include_bots=True)["engineer_id"].to_list()


def test_certified_before_first_period_is_left_out_with_warning(tmp_path):
    certs = CERTIFICATIONS + "E3,DP-100,2023-12-01,,\n"
    ds = ck.load(write_folder(tmp_path, certifications=certs), today=TODAY)
    with pytest.warns(ck.CertkitWarning, match="1 engineer\\(s\\) were certified before"):
        panel = ck.build_panel(ds)
    assert "E3" not in panel["engineer_id"].to_list()


def test_certified_after_the_last_period_compares_as_not_yet_certified(tmp_path):
    """As R did: a unit first treated after the last period is untreated throughout (cohort 0),
    kept in the panel whether or not another engineer was certified on arrival."""
    late = "E3,DP-100,2024-06-01,,\n"
    for extra in ("", "E2,DP-100,2023-12-01,,\n"):  # with and without an on-arrival engineer
        folder = write_folder(
            tmp_path / str(len(extra)), certifications=CERTIFICATIONS + late + extra
        )
        ds = ck.load(folder, today=TODAY)
        with pytest.warns(ck.CertkitWarning, match="1 engineer\\(s\\) were certified after"):
            panel = ck.build_panel(ds)
        e3 = panel.filter(pl.col("engineer_id") == "E3")
        assert e3.height == 3 and set(e3["cohort"]) == {0} and not e3["post"].any()
        assert e3["event_time"].null_count() == 3
        assert panel["cohort"].null_count() == 0
        ck.did.att_gt(panel, outcome="merged_prs")  # no null group left to trip on


def test_weekly_and_quarterly_periods(small_folder):
    ds = ck.load(small_folder, today=TODAY)
    weekly = ck.build_panel(ds, "week")
    assert weekly["period"].dt.weekday().unique().to_list() == [1]  # Mondays
    assert weekly["merged_prs"].sum() == 5
    # E1 certified in February: Q1 is its first quarter, so no pre-period -> left out; E2,
    # hired on 10 February, has no whole quarter in the data (Q1 only)
    with pytest.warns(ck.CertkitWarning, match="first observed quarter"):
        quarterly = ck.build_panel(ds, "quarter")
    assert quarterly["engineer_id"].to_list() == ["E3"]
    assert quarterly["merged_prs"].to_list() == [1]
    with pytest.raises(ck.CertkitError, match="period must be one of"):
        ck.build_panel(ds, "day")


def test_sample_panel_shape():
    ds = ck.load_sample()
    with pytest.warns(ck.CertkitWarning):
        panel = ck.build_panel(ds)
    assert panel["period_index"].max() == 24
    assert panel.select(pl.struct("engineer_id", "period_index").is_unique().all()).item()
    # every PR merged by a panel engineer while employed is counted exactly once: from the
    # hire month, or the month after when the engineer joined more than 3 days after its
    # start, to the end of the leave month, or of the month before when the engineer left
    # more than 3 days before its end (partial months, left out)
    leave = pl.col("leave_date").fill_null(date(2100, 1, 1))
    hire = pl.col("hire_date")
    employed = ds.engineers.select(
        pl.col("engineer_id").alias("author_id"),
        pl.when(hire.dt.offset_by("-4d").dt.month() == hire.dt.month())
        .then(hire.dt.month_end().dt.offset_by("1d"))
        .otherwise(hire.dt.month_start())
        .alias("hire"),
        pl.when(leave.dt.offset_by("4d").dt.month() == leave.dt.month())
        .then(leave.dt.month_start().dt.offset_by("-1d"))
        .otherwise(leave.dt.month_end())
        .alias("leave"),
    )
    merged = ds.pull_requests.join(employed, on="author_id").filter(
        pl.col("merged_date").is_not_null()
        & (pl.col("merged_date").dt.date() >= pl.col("hire"))
        & (pl.col("merged_date").dt.date() <= pl.col("leave"))
        & pl.col("author_id").is_in(panel["engineer_id"].unique().implode())
    )
    assert panel["merged_prs"].sum() == merged.height


@pytest.mark.parametrize("period", ["week", "month", "quarter"])
@pytest.mark.parametrize("portable", [False, True])
def test_period_index_is_null_for_a_null_date_and_below_one_before_the_start(period, portable):
    """A null date must not land in a period: a week index of null was once 0 (not null),
    which a ``coalesce`` of two dates took as a real period."""
    from datetime import datetime

    import narwhals as nw

    from certkit.data.panel_calendar import period_index

    start = date(2024, 1, 1)  # a Monday
    frame = pl.DataFrame(
        {"t": [None, datetime(2023, 12, 31, 23), datetime(2024, 1, 1), datetime(2024, 4, 2)]},
        schema={"t": pl.Datetime("us")},
    )
    expr = period_index(nw.col("t"), period, start, portable).alias("i")
    got = nw.from_native(frame).select(expr).to_native()["i"].to_list()
    last = {"week": 14, "month": 4, "quarter": 2}[period]
    assert got[0] is None
    assert got[1] < 1
    assert got[2:] == [1, last]


def test_pull_requests_of_authors_outside_the_roster_do_not_stretch_the_window(tmp_path):
    """httpx (trial F): a git import keeps the PRs of authors outside the roster, which the
    analysis leaves out; they stretched ``build_panel``'s window by 3 months past the report's
    (which drops them), so the API and the report gave different effects on the same folder."""
    import warnings

    from conftest import PULL_REQUESTS

    from certkit.report import setup

    prs = PULL_REQUESTS + "P9,X9,org/app,2024-06-03T09:00:00Z,2024-06-04T09:00:00Z,,3,3,0,false\n"
    folder = write_folder(tmp_path / "org", pull_requests=prs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        ds = ck.load(folder)
        panel = ck.build_panel(ds)
        report = setup(str(folder)).panel
    assert panel["period"].max() == date(2024, 3, 1)  # P6, the engineers' last PR
    assert ds.period()[1] == date(2024, 3, 21)
    assert panel.sort("engineer_id", "period").equals(report.sort("engineer_id", "period"))
