"""Simulator: calibration, selection on observables, and the planted effects are in the data."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

import certkit as ck
from certkit.data.sample import SAMPLE_SEED


@pytest.fixture(scope="module")
def org():
    return ck.simulate(n_engineers=3000, months=24, seed=7)


def merged(ds):
    return ds.pull_requests.filter(pl.col("merged_date").is_not_null()).with_columns(
        ((pl.col("merged_date") - pl.col("created_date")).dt.total_seconds() / 3600).alias("h")
    )


def test_same_seed_same_data():
    a, b = ck.simulate(200, 12, seed=3), ck.simulate(200, 12, seed=3)
    assert a.pull_requests.equals(b.pull_requests) and a.certifications.equals(b.certifications)
    assert not a.pull_requests.equals(ck.simulate(200, 12, seed=4).pull_requests)


def test_calibration_matches_published_figures(org):
    prs = merged(org)
    assert 65 < prs["h"].median() < 95  # LinearB median cycle time about 83 h
    panel = ck.build_panel(org)
    assert 10.5 < panel["merged_prs"].mean() < 13.5  # about 12 merged PRs per engineer-month
    defect_rate = org.defects.height / prs.height
    assert 0.06 < defect_rate < 0.14  # change-failure rate in DORA's elite-to-medium range
    ai = (
        prs.group_by(pl.col("ai_assisted") > 0)
        .agg(
            pl.col("additions").median().alias("size"),
            ((pl.col("first_review_date") - pl.col("created_date")).dt.total_hours())
            .median()
            .alias("pickup"),
        )
        .sort("ai_assisted")
    )
    assert ai["size"][1] > 1.3 * ai["size"][0]  # AI-assisted PRs are larger
    assert ai["pickup"][1] > 1.5 * ai["pickup"][0]  # and wait longer for a first review
    share = (
        prs.group_by(pl.col("created_date").dt.truncate("1q"))
        .agg(pl.col("ai_assisted").mean())
        .sort("created_date")["ai_assisted"]
    )
    assert share[-1] > share[0] + 0.2  # adoption grows over time


def test_certification_is_selected_on_observables(org):
    eng = (
        org.human_engineers()
        .join(
            org.certifications.select("engineer_id")
            .unique()
            .with_columns(pl.lit(True).alias("certified")),
            on="engineer_id",
            how="left",
        )
        .with_columns(pl.col("certified").fill_null(False))
    )
    by_role = eng.group_by("role").agg(pl.col("certified").mean()).sort("role")
    rate = dict(zip(by_role["role"], by_role["certified"], strict=True))
    assert rate["ml_engineer"] > 2 * rate["backend"]
    # certified engineers were more productive before certifying: naive comparisons are biased
    panel = ck.build_panel(org)
    pre = panel.filter((pl.col("cohort") == 0) | (pl.col("event_time") < 0))
    means = pre.group_by(pl.col("cohort") > 0).agg(pl.col("merged_prs").mean()).sort("cohort")
    assert means["merged_prs"][1] > 1.1 * means["merged_prs"][0]


def _did_on_windows(panel: pl.DataFrame, outcome: str) -> float:
    """Mean over treated engineers of (post - pre) minus the same change for never-treated."""
    never = (
        panel.filter(pl.col("cohort") == 0)
        .group_by("period_index")
        .agg(pl.col(outcome).mean().alias("c"))
    )
    t = (
        panel.filter(pl.col("cohort") > 0)
        .join(never, on="period_index")
        .with_columns((pl.col(outcome) - pl.col("c")).alias("gap"))
    )
    pre = (
        t.filter(pl.col("event_time").is_between(-6, -1))
        .group_by("engineer_id")
        .agg(pl.col("gap").mean().alias("pre"))
    )
    post = (
        t.filter(pl.col("event_time").is_between(3, 8))
        .group_by("engineer_id")
        .agg(pl.col("gap").mean().alias("post"))
    )
    both = pre.join(post, on="engineer_id").drop_nulls()
    return float((both["post"] - both["pre"]).mean())


def test_planted_certification_effects_are_in_the_data(org):
    panel = ck.build_panel(org)
    p = org.truth["params"]
    cycle = _did_on_windows(panel, "cycle_time_log_mean")
    assert cycle == pytest.approx(p["effect_cycle_time"], abs=0.03)
    treated_pre = panel.filter(pl.col("event_time").is_between(-6, -1))["merged_prs"].mean()
    throughput = _did_on_windows(panel, "merged_prs") / treated_pre
    assert throughput == pytest.approx(p["effect_throughput"], abs=0.04)
    defects = _did_on_windows(panel, "defects_per_pr")
    base = panel.filter(pl.col("event_time").is_between(-6, -1))["defects_per_pr"].mean()
    assert defects / base == pytest.approx(p["effect_defects"], abs=0.12)


def test_no_planted_effect_gives_no_effect():
    ds = ck.simulate(3000, 24, seed=8, effect_cycle_time=0.0, effect_throughput=0.0)
    panel = ck.build_panel(ds)
    assert abs(_did_on_windows(panel, "cycle_time_log_mean")) < 0.03


def test_truth_is_consistent_with_the_ramp(org):
    truth = org.truth["att_by_event_time"]
    p = org.truth["params"]
    e = np.array(truth["event_time"])
    expected = p["effect_cycle_time"] * np.minimum(1, (e + 1) / p["effect_ramp_months"])
    assert np.allclose(truth["cycle_time_log"], expected)
    assert all(v > 0 for v in truth["merged_prs"])  # effect on throughput is positive


def test_retired_exam_not_earned_after_retirement(org):
    aws_mls = org.certifications.filter(pl.col("certification_id") == "aws-mls-c01")
    assert aws_mls.height > 0
    assert aws_mls["earned_date"].max() <= date(2026, 3, 31)
    assert org.certifications.filter(pl.col("certification_id") == "aws-mla-c01").height > 0


def test_simulated_data_passes_validation(tmp_path):
    ds = ck.simulate(150, 12, seed=1)
    again = ck.load(ds.write(tmp_path / "org", format="csv"), today=date(2030, 1, 1))
    assert again.validation.ok
    assert again.pull_requests.height == ds.pull_requests.height


def test_bundled_sample_is_the_documented_simulation():
    sample = ck.load_sample()
    fresh = ck.simulate(n_engineers=400, months=24, seed=SAMPLE_SEED)
    assert sample.pull_requests.equals(fresh.pull_requests)
    assert sample.engineers.equals(fresh.engineers)
    assert sample.truth["params"]["seed"] == SAMPLE_SEED


def test_bundled_sample_files_are_what_certkit_sample_writes(tmp_path):
    """trial Y: `certkit sample` wrote PR titles and the certifications' status and ml
    columns that data/sample lacked (and an old certification_id column), so title-based
    features never ran on the sample; the files themselves are compared, not their loads."""
    import json
    from pathlib import Path

    import polars as pl

    from certkit.data.sample import write_sample

    write_sample(tmp_path / "s")
    bundled = Path(__file__).resolve().parents[1] / "data" / "sample"
    names = sorted(p.name for p in bundled.glob("*.parquet"))
    assert names == sorted(p.name for p in (tmp_path / "s").glob("*.parquet"))
    for name in names:
        assert pl.read_parquet(bundled / name).equals(pl.read_parquet(tmp_path / "s" / name)), name
    old, new = (json.loads((p / "truth.json").read_text()) for p in (bundled, tmp_path / "s"))

    def close(a, b) -> bool:  # floats to 1e-9 (sums in another order differ in the last bit)
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
        if isinstance(a, float):
            return abs(a - b) <= 1e-9 * max(1.0, abs(a))
        return a == b

    assert close(old, new)
