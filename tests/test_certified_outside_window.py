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
from certkit.report import Context, health_values, landing, studies


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


def _half_early(org):
    """Half the certified engineers certified in 2015, the rest as simulated."""
    ids = org.certifications["engineer_id"].unique().sort()
    early = ids.head(ids.len() // 2).implode()
    earned = (
        pl.when(pl.col("engineer_id").is_in(early))
        .then(pl.lit(date(2015, 1, 1)))
        .otherwise(pl.col("earned_date"))
        .cast(org.certifications.schema["earned_date"])
    )
    certs = org.certifications.with_columns(earned.alias("earned_date"))
    return dataclasses.replace(org, certifications=certs), early.explode().len()


def test_the_data_health_headline_and_landing_say_who_the_estimates_leave_out(org):
    """trial N: 6 of 11 certified engineers (56% of the PRs) certified before the history
    started were left out of every estimate while the landing page said nothing."""

    ds, n_moved = _half_early(org)
    ctx = _ctx(ds)
    n_early = health.certified_outside_window(ds, ctx.panel)["early"]
    assert n_early >= n_moved  # (and any the simulation certified in their first month)
    values = health_values(ctx)
    text = values["outside_window"]
    assert text.startswith(f"{n_early} of ")
    assert "certified before or in their first month in the data" in text
    assert text in values["unreliable"]
    assert health_values(_ctx(org))["outside_window"] == ""
    record = {"key": "health", "kind": "health", **values}
    effect = {
        "key": "e",
        "kind": "effect",
        "outcome": "merged_prs",
        "label": "throughput",
        "design": "staggered DiD",
        "estimate": 0.1,
        "ci_low": -0.1,
        "ci_high": 0.3,
        "p_value": 0.3,
    }
    page = landing.answer_section([("02.html", "impact", [effect]), ("01.html", "h", [record])])
    assert "Not in these estimates:" in page and f"{n_early} of " in page


def test_a_shared_report_does_not_count_a_group_under_k(org):
    ds, _ = _half_early(org)
    ctx = _ctx(ds)
    n_early = health.certified_outside_window(ds, ctx.panel)["early"]
    ctx.privacy = Privacy(k=n_early + 1, share=True)
    text = health_values(ctx)["outside_window"]
    assert text.startswith(f"fewer than {n_early + 1} of the certified engineers")


def test_the_ai_adoption_study_keeps_engineers_certified_before_the_data(org):
    """trial O: the same PRs and AI flags gave 4 adopters with in-window certifications and 1
    with half of them in 2021: the adoption study ran on the certification panel, which
    leaves out engineers certified before the data. It groups engineers by certification
    only, so it keeps them (as certified: cohort -1)."""
    kw = dict(threshold=0.3, sustain=2, min_prs=2)
    early = _ctx(_shifted(org, date(2015, 1, 1)))
    inside = _ctx(org)
    assert early.panel["engineer_id"].n_unique() < inside.panel["engineer_id"].n_unique()
    kept = early.adoption_panel
    assert kept["engineer_id"].n_unique() == inside.adoption_panel["engineer_id"].n_unique()
    moved = kept.filter(pl.col("certification").is_not_null())["cohort"].unique().to_list()
    assert moved == [-1]  # every certification now predates the data
    a = studies.adoption_study(early, ["merged_prs"], notes=[], **kw)
    b = studies.adoption_study(inside, ["merged_prs"], notes=[], **kw)
    assert a.n_adopters == b.n_adopters > 0


def test_the_notes_count_leaves_out_the_validation_warnings_counted_beside_it(org):
    """trial O: "validation: 0 error(s), 2 warning(s); 3 note(s)" counted the two warnings
    (which reach the notes as warnings when the data load) a second time."""
    shifted = _shifted(org, date(2015, 1, 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = ck.from_frames(**shifted.tables())
    notes = [str(w.message) for w in caught if issubclass(w.category, ck.CertkitWarning)]
    said = {p.format() for p in ds.validation.warnings}
    assert said and said <= set(notes)  # the validation warning reached the notes
    ctx = _ctx(ds)
    ctx.notes = [*notes, "a note of the panel"]
    values = health_values(ctx)
    assert values["warnings"] == len(ds.validation.warnings)
    assert values["notes"] == len(ctx.notes) - len(said)
