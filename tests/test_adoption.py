"""AI adoption as a staggered treatment: adoption periods from data, and the adoption DiD."""

from __future__ import annotations

import warnings

import altair as alt
import numpy as np
import polars as pl
import pytest
from split_orgs import split_panels

import certkit as ck
from certkit.analytics.adoption import (
    AdoptionDefinition,
    adoption_cohorts,
    adoption_did,
    certification_effect_on_ai,
)
from certkit.errors import CertkitError, CertkitWarning


def _panel(rows: dict[str, list[tuple[int, float]]]) -> pl.DataFrame:
    """A tiny panel: per engineer, (merged_prs, ai_share) for periods 1..n."""
    out = []
    for eng, periods in rows.items():
        for t, (n, share) in enumerate(periods, start=1):
            out.append({"engineer_id": eng, "period_index": t, "merged_prs": n, "ai_share": share})
    return pl.DataFrame(out)


def test_adoption_period_follows_the_definition():
    panel = _panel(
        {
            "a": [(4, 0.0), (4, 0.5), (4, 0.75), (4, 1.0)],  # adopts in 2, sustained
            "b": [(4, 0.0), (4, 0.6), (4, 0.0), (4, 0.6)],  # never two in a row
            "c": [(4, 0.9), (4, 0.9), (4, 0.9), (4, 0.9)],  # already using AI at the start
            "d": [(1, 1.0), (1, 1.0), (3, 1.0), (3, 1.0)],  # too few PRs until period 3
            "e": [(4, 0.0), (0, None), (4, 0.8), (4, 0.8)],  # a period without PRs breaks a run
        }
    )
    got = dict(
        adoption_cohorts(panel, AdoptionDefinition(min_prs=2))
        .select("engineer_id", "adoption_cohort")
        .iter_rows()
    )
    assert got == {"a": 2, "b": 0, "c": 1, "d": 3, "e": 3}
    start = adoption_cohorts(panel).filter(pl.col("adopted_at_start"))["engineer_id"].to_list()
    assert start == ["c", "d"]  # d qualifies from period 1 with min_prs=1
    once = AdoptionDefinition(sustain=1, threshold=0.6)
    got = dict(adoption_cohorts(panel, once).select("engineer_id", "adoption_cohort").iter_rows())
    assert got["a"] == 3 and got["b"] == 2
    with pytest.raises(CertkitError, match="threshold"):
        AdoptionDefinition(threshold=0)
    with pytest.raises(CertkitError, match="ai_share"):
        adoption_cohorts(panel.drop("ai_share"))


@pytest.fixture(scope="module")
def org():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        ds = ck.simulate(300, 24, seed=3, ai_adoption=True)
        return ds, ck.build_panel(ds, "month")


def _known_dates(ds, panel) -> pl.DataFrame:
    periods = dict(panel.select("period_index", "period").unique().iter_rows())
    planted = ds.truth["adoption"]["adoption_period"]
    return pl.DataFrame(
        {
            "engineer_id": list(planted),
            "adoption_date": [periods.get(p) if p else None for p in planted.values()],
        },
        schema={"engineer_id": pl.String, "adoption_date": pl.Date},
    )


def test_data_defined_adoption_finds_the_planted_periods(org):
    ds, panel = org
    planted = ds.truth["adoption"]["adoption_period"]
    found = adoption_cohorts(panel)
    truth = pl.DataFrame({"engineer_id": list(planted), "true": list(planted.values())})
    joined = found.join(truth, on="engineer_id")
    exact = (joined["adoption_cohort"] == joined["true"]).mean()
    within_one = ((joined["adoption_cohort"] - joined["true"]).abs() <= 1).mean()
    assert exact > 0.8 and within_one > 0.9


def test_adoption_did_recovers_the_planted_jump_and_follows_the_result_contract(org):
    ds, panel = org
    res = adoption_did(panel, "prs_opened", adoption=_known_dates(ds, panel), min_e=-3, max_e=4)
    tidy = res.tidy()
    assert tidy.columns[:7] == [
        "term",
        "estimate",
        "std_error",
        "statistic",
        "p_value",
        "conf_low",
        "conf_high",
    ]
    truth = ds.truth["adoption"]["att_by_event_time"]["prs_opened"]
    e0 = tidy.filter(pl.col("term") == "e=0").row(0, named=True)
    assert e0["conf_low"] <= truth[0] <= e0["conf_high"]
    assert e0["p_value"] < 0.01  # a 20 % jump in 300 engineers is clearly visible
    e3 = tidy.filter(pl.col("term") == "e=3").row(0, named=True)
    assert e3["conf_low"] <= 0 <= e3["conf_high"]  # faded out after three months
    assert {"certified engineers", "difference (certified - not certified)"} <= set(tidy["term"])
    summary = res.effect_summary()
    table, words = summary.table, summary.text
    assert table.height == 1 and f"{e0['estimate']:+.3g}" in words and "lower bound" in words
    assert "adoption" in res.summary() and "certification" not in res._header()["pre-trends"]
    assert isinstance(res.plot(), alt.TopLevelMixin)


def test_adoption_did_on_a_dataset_with_too_few_adopters_says_why():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        ds = ck.simulate(40, 12, seed=1)  # gradual org-wide AI use: no sustained adoption
    with pytest.raises(CertkitError, match="adopt"):
        adoption_did(ds, "merged_prs", definition=AdoptionDefinition(threshold=1.0, sustain=6))
    with pytest.raises(CertkitError, match="not a panel column"):
        adoption_did(ck.build_panel(ds), "nope")


def test_certification_effect_on_ai_share_runs_on_the_sample():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        panel = ck.build_panel(ck.load_sample(), "month")
        res = certification_effect_on_ai(panel, min_e=-3, max_e=3)
    # the sample plants no certification effect on AI use (cert_ai_uplift = 0)
    assert res.overall_ci[0] <= 0 <= res.overall_ci[1] or abs(res.overall_att) < 0.05


def test_default_simulation_is_unchanged_by_the_adoption_option():
    a = ck.simulate(60, 12, seed=5)
    b = ck.simulate(60, 12, seed=5, ai_adoption=False)
    assert a.pull_requests.equals(b.pull_requests)
    assert "adoption" not in a.truth


@pytest.mark.slow
def test_adoption_intervals_cover_the_planted_effect_about_95_percent():
    """200 organisations of 150 engineers, drawn ten at a time from organisations of 1,500
    (split_orgs.py). The truth is the planted effect averaged over the 1,500 engineers: the
    population effect the intervals estimate (an organisation of 150's own average differs
    from it by the luck of which engineers it has)."""
    hits = {0: [], 1: []}
    orgs = split_panels(150, 15, 200, per_simulation=10, seed=0, ai_adoption=True, bots=False)
    for ds, panel in orgs:
        known = _known_dates(ds, panel).filter(
            pl.col("engineer_id").is_in(panel["engineer_id"].unique().implode())
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CertkitWarning)
            res = adoption_did(
                panel, "prs_opened", adoption=known, by_certified=False, min_e=-3, max_e=3
            )
        tidy = res.tidy()
        truth = ds.truth["adoption"]["att_by_event_time"]["prs_opened"]
        for e in hits:
            row = tidy.filter(pl.col("term") == f"e={e}").row(0, named=True)
            hits[e].append(row["conf_low"] <= truth[e] <= row["conf_high"])
    # measured: 98% (e = 0) and 93% (e = 1) of these 200
    for e, h in hits.items():
        assert 0.90 <= np.mean(h) <= 0.99, (e, np.mean(h))


def test_the_overview_counts_adopters_whose_ai_traces_stopped():
    """pydantic-ai: the repository told agents to stop adding co-author lines in April 2026;
    adopters' later periods showed no AI, yet adoption is treated as permanent."""
    import polars as pl

    from certkit.analytics.adoption import adoption_cohorts, adoption_overview

    rows = []
    for eng, kind in [("a", "stops"), ("b", "stops"), ("c", "keeps"), ("d", "never")]:
        for t in range(1, 11):
            ai = {"stops": 1.0 if 3 <= t <= 5 else 0.0, "keeps": 1.0 if t >= 3 else 0.0}
            rows.append(
                {
                    "engineer_id": eng,
                    "period_index": t,
                    "period": f"2025-{t:02d}-01",
                    "merged_prs": 2,
                    "ai_share": ai.get(kind, 0.0),
                }
            )
    panel = pl.DataFrame(rows)
    cohorts = adoption_cohorts(panel)
    text = adoption_overview(cohorts, panel)
    assert "3 of 4 engineers adopted AI" in text
    assert "2 of them show no AI-assisted PR in their last 3 periods" in text, text


def test_known_adoption_dates_may_be_text_as_a_rollout_csv_reads_them(org):
    """Trial F: ``adoption=`` with dates as text (a rollout CSV) raised polars' "casting from
    string to date is not supported"; ISO text now gives the same estimate, and text that is
    no date names its rows."""
    ds, panel = org
    known = _known_dates(ds, panel)
    as_text = known.with_columns(pl.col("adoption_date").cast(pl.String))
    a = adoption_did(panel, "prs_opened", adoption=known, min_e=-3, max_e=4)
    b = adoption_did(panel, "prs_opened", adoption=as_text, min_e=-3, max_e=4)
    assert a.tidy().equals(b.tidy())
    bad = as_text.with_columns(
        pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("March")).otherwise("adoption_date")
        .alias("adoption_date")
    )  # fmt: skip
    with pytest.raises(
        CertkitError, match=r"1 value\(s\) are not dates written YYYY-MM-DD \(rows 2: 'March'\)"
    ):
        adoption_did(panel, "prs_opened", adoption=bad)
