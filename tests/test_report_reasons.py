"""An outcome that cannot be estimated gets one reason on every page (trial G, F6 and F12).

xarray's cycle time: staggered DiD said "1,767 of 1,768 merged PRs have a creation date
approximated from git (squash merges)", matched DiD and the AI-adoption page "outcome column
'cycle_time_log_median' is 9.41657 in every row ..." (a raw log value, and the wrong cause);
sqlalchemy's mix was 1,824 direct commits and 155 squashes, not "(squash merges)". Every design
now asks the report context first (``Context.recorded``), which words it once.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import polars as pl
import pytest

import certkit as ck
from certkit import narrative
from certkit.privacy import Privacy
from certkit.report import Context, studies


def _text(display) -> str:
    data = getattr(display, "data", None)
    return data if isinstance(data, str) else ""


@pytest.fixture(scope="module")
def ctx() -> Context:
    """A simulated organisation whose PRs came from git: 155 squash merges, the rest direct
    commits, and one PR with a (bogus) real creation date, the only cycle time left."""
    ds = ck.simulate(160, 18, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = ck.build_panel(ds)
    prs = ds.pull_requests.with_row_index("_i")
    source = (
        pl.when(pl.col("_i") == 0)
        .then(pl.lit("github"))
        .when(pl.col("_i") <= 155)
        .then(pl.lit("squash_commit"))
        .otherwise(pl.lit("commit"))
    )
    ds = dataclasses.replace(
        ds, pull_requests=prs.with_columns(source.alias("created_source")).drop("_i")
    )
    assert ds.pull_requests["merged_date"][0] is not None  # the dated PR is merged
    first = pl.int_range(pl.len()) == 0
    panel = panel.with_columns(
        pl.when(first).then(9.41657).otherwise(None).alias("cycle_time_log_median"),
        pl.when(first).then(12300.0).otherwise(None).alias("cycle_time_hours_median"),
    )
    return Context(
        ds=ds, full=ds, panel=panel, privacy=Privacy(k=5, share=False), period="", filters={}
    )


def test_every_design_gives_the_same_right_reason(ctx):
    prs = ctx.ds.pull_requests.filter(pl.col("merged_date").is_not_null())
    merged = prs.height
    squash = prs.filter(pl.col("created_source") == "squash_commit").height
    commits = prs.filter(pl.col("created_source") == "commit").height
    n = squash + commits
    outcome = "cycle_time_log_median"
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        did_row = studies.did_effects(
            ctx, [outcome], studies.did_spec("not_yet"), min_e=-2, max_e=2, notes=notes
        ).effects.row(0, named=True)
        matched_row = studies.matched_effects(
            ctx,
            [outcome],
            covariates=["role", "level"],
            pre_periods=3,
            post_periods=6,
            caliper=0.2,
            notes=notes,
        ).effects.row(0, named=True)
        study = studies.adoption_study(
            ctx, [outcome], threshold=0.5, sustain=2, min_prs=1, notes=notes
        )
        adoption_text = " ".join(_text(d) for d in study.effect_displays())
    reason = did_row["note"]
    assert reason.startswith(f"{n:,} of {merged:,} merged PRs have a creation date approximated")
    assert f"({commits:,} PRs made of direct commits, {squash:,} squash merges)" in reason, reason
    assert "import a gh export" in reason
    # trial M (abseil-cpp): the dated PRs left are named, with whether certified engineers
    # wrote any, or the reader wonders why they give no estimate
    certified = set(ctx.ds.certifications["engineer_id"])
    dated = prs.filter(pl.col("created_source") == "github")["author_id"]
    assert dated.len() == 1
    who = "by" if dated[0] in certified else "not by"
    assert (
        f"left out; the other one has a real creation date, {who} a certified engineer; " in reason
    )
    assert matched_row["note"] == reason
    assert reason in adoption_text or reason.replace("'", "&#x27;") in adoption_text, adoption_text
    for text in (reason, matched_row["note"], adoption_text, *notes):
        assert "9.41657" not in text and "in every row" not in text
    records = [r for r in ctx.headlines if r.get("outcome") == outcome]
    assert {r["note"] for r in records} == {reason}


def test_a_constant_outcome_is_worded_in_its_unit_never_as_a_raw_log():
    values = pl.Series([9.41657, None, 9.41657])
    text = narrative.unrecorded_reason("cycle_time_log_median", values)
    assert text.startswith("PR cycle time is about 512 days in every row (engineer and period)")
    assert "9.41657" not in text
    assert narrative.unrecorded_reason("merged_prs", pl.Series([1, 2])) is None
    none = narrative.unrecorded_reason("cycle_time_log_median", pl.Series([None, math.nan]))
    assert none.startswith("no engineer-period has a PR cycle time value")


def test_the_roi_values_the_certified_engineers_its_effects_rest_on(ctx):
    """xarray: "15 engineers certified in the data" and "net value of the programme (15
    engineers)" while the effect rested on 14 (one certified before hire, out of the panel)."""
    valued, in_data = studies.roi_engineers(ctx)
    assert valued == ctx.panel.filter(pl.col("cohort") > 0)["engineer_id"].n_unique()
    assert in_data == ctx.ds.certifications["engineer_id"].n_unique() and in_data > valued
    text = narrative.describe_roi_figures(0.5, -0.2, 1.4, 0.83, 2500.0, 14, in_data=15)
    assert text.endswith(
        "14 of the 15 engineers certified in the data are valued (the effects rest on them; "
        "the others were certified before they were first observed or after the data ends)."
    )
    assert narrative.describe_roi_figures(0.5, -0.2, 1.4, 0.83, 2500.0, 14, in_data=14).endswith(
        "; 14 engineers certified in the data."
    )
