"""Certifications that fall outside the data's window (earned before the history starts, as in
most real organisations, or after it ends): every certification design says so in words
instead of "no certified engineers (all cohorts are 0)" or "no values before and after"."""

from __future__ import annotations

import dataclasses
import warnings
from datetime import date

import polars as pl
import pytest

import certkit as ck
from certkit import narrative
from certkit.data import health
from certkit.privacy import Privacy
from certkit.report import Context, studies


def _shifted(ds, day: date):
    earned = pl.lit(day).cast(ds.certifications.schema["earned_date"])
    return dataclasses.replace(
        ds, certifications=ds.certifications.with_columns(earned.alias("earned_date"))
    )


def _ctx(ds) -> Context:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = ck.build_panel(ds)
    return Context(ds=ds, full=ds, panel=panel, privacy=Privacy(k=5), period="", filters={})


@pytest.fixture(scope="module")
def org():
    return ck.simulate(120, 18, seed=11)


def test_counts_certified_engineers_before_inside_and_after_the_window(org):
    certified = org.certifications.filter(
        pl.col("engineer_id").is_in(org.human_engineers()["engineer_id"].implode())
    )["engineer_id"].n_unique()
    start, end = org.period()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for day, key in ((date(2015, 1, 1), "early"), (date(2040, 1, 1), "late")):
            ds = _shifted(org, day)
            found = health.certified_outside_window(ds, ck.build_panel(ds))
            assert found[key] == certified > 0
            assert found["inside"] == 0 and found["first"] == start and found["last"] == end
        inside = health.certified_outside_window(org, ck.build_panel(org))
    assert inside["inside"] > 0
    assert narrative.outside_window_reason(inside) is None


def test_the_words_name_the_window_and_the_remedy():
    found = {
        "inside": 0,
        "early": 4,
        "late": 2,
        "first": date(2024, 12, 1),
        "last": date(2025, 11, 28),
    }
    text = narrative.outside_window_reason(found, "month")
    assert text.startswith("none of the 6 certified engineers was certified inside the data's")
    assert "(2024-12-01 to 2025-11-28)" in text
    assert "4 before or in their first month in the data" in text
    assert "2 after its last month" in text and "--since" in text
    assert narrative.outside_window_reason(found | {"early": 0, "late": 0}) is None


def test_every_certification_design_says_the_certifications_predate_the_data(org):
    ctx = _ctx(_shifted(org, date(2015, 1, 1)))
    spec = studies.did_spec("not_yet", "dr")
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        impact = studies.did_effects(ctx, ["merged_prs"], spec, min_e=-3, max_e=3, notes=notes)
        matched = studies.matched_effects(
            ctx,
            ["merged_prs"],
            covariates=["tenure_months"],
            pre_periods=3,
            post_periods=3,
            caliper=None,
            notes=notes,
        )
        _, roi_rows = studies.roi_effects(ctx, spec, notes=notes)
    for rows in (impact.effects, matched.effects, roi_rows):
        for note in rows["note"].to_list():
            assert "was certified inside the data's window" in note, note
            assert "before or in their first month in the data" in note
