"""certkit.planning: hand-made decision matrices, retirement flags, skill gaps."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

import certkit as ck
from certkit import planning, roi
from certkit.errors import CertkitError

CATALOG = pl.DataFrame(
    {
        "id": ["a-cert", "b-cert", "c-cert"],
        "name": ["A", "B", "C"],
        "platform": ["aws", "gcp", "aws"],
        "exam_fee_usd": [100.0, 300.0, 200.0],
        "study_hours_typical": [20.0, 60.0, 40.0],
        "recommended_experience_years": [0, 3, 2],
        "skills": [["ml_ops"], ["ml_ops", "genai"], ["genai"]],
        "retirement_date": [None, None, date(2026, 1, 1)],
        "successor": [None, None, "a-cert"],
    }
)
TARGETS = pl.DataFrame(
    {
        "target": ["t1", "t2"],
        "platform": ["aws", "gcp"],
        "role": ["ml_engineer", "backend"],
        "level": ["senior", "junior"],
    }
)
NEEDS = pl.DataFrame(
    {"target": ["t1", "t1", "t2"], "skill": ["ml_ops", "genai", "genai"], "need": [1.0, 3.0, 2.0]}
)


def test_decision_matrix_scores_by_hand():
    m = planning.decision_matrix(
        TARGETS, needs=NEEDS, certifications=CATALOG, as_of=date(2025, 6, 1), hourly_cost=10.0
    )
    t = m.to_polars()
    row = t.filter((pl.col("target") == "t1") & (pl.col("certification_id") == "b-cert")).row(
        0, named=True
    )
    # t1 needs ml_ops 1 + genai 3; b covers both -> alignment 1; gcp vs aws -> stack 0;
    # ml_engineer role 1 x senior 6y / 3y recommended (capped) -> 1; b is the dearest and longest
    assert row["alignment"] == pytest.approx(1.0)
    assert row["stack_fit"] == 0.0
    assert row["role_level_fit"] == pytest.approx(1.0)
    assert row["cost"] == pytest.approx(0.0) and row["time"] == pytest.approx(0.0)
    w = planning.DEFAULT_WEIGHTS
    assert row["score"] == pytest.approx(w["alignment"] + w["role_level_fit"])
    c = t.filter((pl.col("target") == "t1") & (pl.col("certification_id") == "c-cert")).row(
        0, named=True
    )
    # cost: a=100+200=300, b=900, c=600 -> (900-600)/600 = 0.5; time (60-40)/40 = 0.5
    assert c["cost"] == pytest.approx(0.5) and c["time"] == pytest.approx(0.5)
    assert c["alignment"] == pytest.approx(0.75)
    assert c["status"] == "retiring" and "successor a-cert" in c["note"]
    expected = 0.35 * 0.75 + 0.25 + 0.15 * 1 + 0.15 * 0.5 + 0.10 * 0.5
    assert c["score"] == pytest.approx(expected)
    # t1 ranking: c (0.7875) > b (0.50) vs a: 0.35*0.25 + 0.25 + 0.15 + 0.15 + 0.10 = 0.7375
    assert m.top(3).filter(pl.col("target") == "t1")["certification_id"].to_list() == [
        "c-cert",
        "a-cert",
        "b-cert",
    ]
    # t2 (gcp, backend junior): b has the stack; role 0.5 x 1y/3y
    b2 = t.filter((pl.col("target") == "t2") & (pl.col("certification_id") == "b-cert"))
    assert b2["role_level_fit"][0] == pytest.approx(0.5 / 3)
    assert m.top(1).filter(pl.col("target") == "t2")["certification_id"][0] == "b-cert"
    assert "stack fit" in b2["why"][0]


def test_user_weights_change_the_ranking():
    only_cost = planning.decision_matrix(
        TARGETS, needs=NEEDS, certifications=CATALOG, weights={"cost": 1}, as_of=date(2025, 6, 1)
    )
    assert set(only_cost.top(1)["certification_id"]) == {"a-cert"}
    with pytest.raises(CertkitError, match="unknown weight"):
        planning.decision_matrix(TARGETS, certifications=CATALOG, weights={"fun": 1})
    with pytest.raises(CertkitError, match="non-negative"):
        planning.decision_matrix(TARGETS, certifications=CATALOG, weights={"cost": -1})
    with pytest.raises(CertkitError, match="target, platform"):
        planning.decision_matrix(pl.DataFrame({"x": [1]}), certifications=CATALOG)


def test_retired_exams_dropped_or_flagged_with_successor():
    after = planning.decision_matrix(TARGETS, certifications=CATALOG, as_of=date(2026, 6, 1))
    assert "c-cert" not in after.to_polars()["certification_id"].to_list()
    assert any("take a-cert instead" in w for w in after.warnings)
    shown = planning.decision_matrix(
        TARGETS, certifications=CATALOG, as_of=date(2026, 6, 1), include_retired=True
    ).to_polars()
    c = shown.filter(pl.col("certification_id") == "c-cert")
    assert (c["rank"] == 3).all() and (c["status"] == "retired").all()
    # the real catalog: AWS ML Specialty after 2026-03-31 points to MLA-C01
    real = planning.decision_matrix(TARGETS, as_of=date(2026, 6, 1), include_retired=True)
    mls = real.to_polars().filter(pl.col("certification_id") == "aws-mls-c01")
    assert mls["note"][0].startswith("retired on 2026-03-31: take aws-mla-c01")


def test_held_certifications_are_skipped():
    targets = TARGETS.with_columns(pl.Series("held", [["a-cert"], []]))
    t = planning.decision_matrix(targets, certifications=CATALOG, as_of=date(2025, 6, 1))
    assert "a-cert" not in t.to_polars().filter(pl.col("target") == "t1")["certification_id"]


def test_skill_gaps_by_hand(small_folder):
    ds = ck.load(small_folder, today=date(2100, 1, 1))
    roadmap = pl.DataFrame({"skill": ["ml_ops", "spark_ml"], "importance": [2.0, 1.0]})
    g = planning.skill_gaps(ds, roadmap, k=1).to_polars()
    # alpha = E1 (AWS ML Specialty: has ml_ops) + E2; beta = E3
    r = g.filter((pl.col("team") == "alpha") & (pl.col("skill") == "ml_ops")).row(0, named=True)
    assert r["coverage"] == pytest.approx(0.5) and r["gap"] == pytest.approx(1.0)
    r = g.filter((pl.col("team") == "beta") & (pl.col("skill") == "ml_ops")).row(0, named=True)
    assert r["gap"] == pytest.approx(2.0)
    extra = pl.DataFrame({"engineer_id": ["E3"], "skill": ["spark_ml"]})
    g2 = planning.skill_gaps(ds, roadmap, skills=extra, k=1).to_polars()
    assert g2.filter((pl.col("team") == "beta") & (pl.col("skill") == "spark_ml"))["gap"][0] == 0
    hidden = planning.skill_gaps(ds, roadmap).to_polars()  # k = 5: every team too small
    assert hidden["suppressed"].all() and hidden["coverage"].null_count() == hidden.height
    with pytest.raises(CertkitError, match="importance"):
        planning.skill_gaps(ds, pl.DataFrame({"skill": ["x"]}))
    team_rm = pl.DataFrame(
        {"skill": ["ml_ops", "genai_agents"], "importance": [2.0, 5.0], "team": [None, "beta"]}
    )
    g3 = planning.skill_gaps(ds, team_rm, k=1).to_polars()
    assert g3.filter(pl.col("skill") == "genai_agents")["team"].to_list() == ["beta"]


def test_recommend_on_sample():
    ds = ck.load_sample()
    rm = pl.DataFrame({"skill": ["ml_ops", "genai_agents"], "importance": [3.0, 2.0]})
    m = planning.recommend(ds, rm, as_of=date(2026, 6, 1))
    top = m.top(1)
    assert top.height == top["target"].n_unique() > 5
    assert "aws-mls-c01" not in m.to_polars()["certification_id"].to_list()
    with pytest.raises(CertkitError, match="individuals=True"):
        planning.recommend(ds, rm, by="engineer")
    assert planning.skill_gaps(ds, rm).plot().to_dict()["mark"]["type"] == "rect"


def test_compare_certifications_prices_retired_as_successor():
    t = planning.compare_certifications(
        roi.Effect(0.1, 0.02, "relative_throughput"),
        ["aws-mls-c01", "gcp-pmle"],
        as_of=date(2026, 6, 1),
        n_sims=2000,
    )
    mls = t.filter(pl.col("certification_id") == "aws-mls-c01").row(0, named=True)
    assert mls["priced_as"] == "aws-mla-c01" and "retired" in mls["note"]
    assert ((t["p_positive"] >= 0) & (t["p_positive"] <= 1)).all()
    assert (t["roi_ci_low"] <= t["roi_median"]).all()
