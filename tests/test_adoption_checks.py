"""The planted rework increase on AI adoption, and HonestDiD / robustness on the adoption study."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest
from split_orgs import split_panels
from test_adoption import _known_dates  # the planted adoption dates, as there

import certkit as ck
from certkit.analytics.adoption import AdoptionSensitivity, adoption_did
from certkit.did import HonestResult, RobustnessResult
from certkit.errors import CertkitError, CertkitWarning


def _simulate(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        ds = ck.simulate(*args, ai_adoption=True, bots=False, **kwargs)
        return ds, ck.build_panel(ds, "month")


def test_rework_is_planted_only_with_adoption_and_leaves_the_rest_unchanged():
    plain = ck.simulate(40, 8, seed=2)
    assert not any(c.startswith("churned_lines") for c in plain.pull_requests.columns)
    (a, _), (b, _) = _simulate(60, 10, seed=4), _simulate(60, 10, seed=4, adoption_effect_rework=0)
    prs_a, prs_b = a.pull_requests, b.pull_requests
    # the churned lines come from their own random stream: everything else is identical
    assert prs_a.drop("churned_lines_21d").equals(prs_b.drop("churned_lines_21d"))
    merged = prs_a["merged_date"].is_not_null()
    assert prs_a.filter(~merged)["churned_lines_21d"].null_count() == (~merged).sum()
    churn = prs_a.filter(merged)
    assert churn["churned_lines_21d"].null_count() == 0
    assert (churn["churned_lines_21d"] <= churn["additions"]).all()
    planted = a.truth["adoption"]
    assert planted["params"]["effect_rework"] == 0.03
    assert set(planted["att_by_event_time"]["rework_rate"]) == {0.03}
    assert set(b.truth["adoption"]["att_by_event_time"]["rework_rate"]) == {0.0}
    # adopters churn more after adopting than before (raw, within the same engineers)
    adopt = {k: v for k, v in planted["adoption_period"].items() if v}
    panel = ck.build_panel(a, "month").filter(pl.col("engineer_id").is_in(list(adopt)))
    after = panel["period_index"] >= panel["engineer_id"].replace_strict(adopt)
    means = panel.group_by(after.alias("after")).agg(pl.col("rework_rate").mean())
    by = dict(means.iter_rows())
    assert by[True] - by[False] > 0.015


@pytest.fixture(scope="module")
def study():
    ds, panel = _simulate(120, 14, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        return adoption_did(panel, "rework_rate", min_e=-3, max_e=3, by_certified=False)


def test_sensitivity_is_honestdid_on_the_adoption_event_study(study):
    sens = study.sensitivity()
    assert isinstance(sens, HonestResult) and isinstance(sens, AdoptionSensitivity)
    # e = 0 compares with the period before adoption under either base period: the HonestDiD
    # target is the study's own e = 0 estimate
    e0 = study.tidy().filter(pl.col("term") == "e=0").row(0, named=True)
    assert sens.estimate == pytest.approx(e0["estimate"], rel=1e-9)
    assert sens.original[0] == pytest.approx(e0["conf_low"], rel=1e-9)
    words = sens.effect_summary().text
    assert (
        "effect on rework rate (share of added lines changed again)" in words
        and "certif" not in words
    )
    assert sens.tidy().height == 11  # the original interval and the default Mbar grid
    smooth = study.sensitivity(method="smoothness", m=[0, 0.01])
    assert smooth.tidy()["method"].to_list()[1:] == ["FLCI", "FLCI"]


def test_robustness_runs_the_did_panel_on_the_adoption_cohorts(study):
    rob = study.robustness()
    assert isinstance(rob, RobustnessResult)
    tidy = rob.tidy()
    assert {"CS (never treated)", "CS (not yet treated)", "Sun-Abraham"} <= set(tidy["term"])
    # the not-yet-treated Callaway-Sant'Anna row is this study's overall effect
    cs = tidy.filter(pl.col("term") == "CS (not yet treated)")["estimate"][0]
    assert cs == pytest.approx(study.tidy()["estimate"][0], rel=1e-9)
    # named and measured as the headline beside it (trial N: "rework_rate", shares)
    assert "effect on rework rate" in rob.verdict and "percentage points" in rob.verdict


def test_sensitivity_without_pre_adoption_periods_says_why():
    ds, panel = _simulate(60, 10, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        res = adoption_did(panel, "rework_rate", min_e=0, max_e=2, by_certified=False)
    with pytest.raises(CertkitError, match="min_e <= -2"):
        res.sensitivity()


def _coverage(effect: float, n_orgs: int) -> tuple[float, float, float]:
    """Organisations of 80 engineers, ten at a time from organisations of 800 (split_orgs.py;
    the planted rework effect is the same for every engineer, so it is each one's truth)."""
    hits, e0_hits, est = [], [], []
    orgs = split_panels(
        80, 12, n_orgs, per_simulation=10, seed=0,
        ai_adoption=True, bots=False, adoption_effect_rework=effect,
    )  # fmt: skip
    for ds, panel in orgs:
        known = _known_dates(ds, panel).filter(
            pl.col("engineer_id").is_in(panel["engineer_id"].unique().implode())
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CertkitWarning)
            res = adoption_did(
                panel, "rework_rate", adoption=known, by_certified=False, min_e=-2, max_e=2
            )
        tidy = res.tidy()
        truth = ds.truth["adoption"]["att_by_event_time"]["rework_rate"]
        overall = tidy.row(0, named=True)
        e0 = tidy.filter(pl.col("term") == "e=0").row(0, named=True)
        hits.append(overall["conf_low"] <= effect <= overall["conf_high"])
        e0_hits.append(e0["conf_low"] <= truth[0] <= e0["conf_high"])
        est.append(overall["estimate"])
    return float(np.mean(hits)), float(np.mean(e0_hits)), float(np.mean(est)) - effect


@pytest.mark.slow
@pytest.mark.parametrize("effect", [0.03, 0.0])
def test_adoption_rework_intervals_cover_the_planted_increase_about_95_percent(effect):
    # 200 organisations: the coverage of a true 95% interval lies in [0.92, 0.98] with
    # probability ~0.95 (binomial SD 0.015); the band allows small-sample undercoverage (with
    # no effect, the overall interval covered 93.5% of 400 other seeds: docs/ai-adoption.md).
    overall, e0, bias = _coverage(effect, 200)
    assert 0.90 <= overall <= 0.99, overall
    assert 0.90 <= e0 <= 0.99, e0
    assert abs(bias) < 0.002, bias  # the effect is 0.03; the estimate's SD is about 0.006


@pytest.mark.slow
@pytest.mark.parametrize("share", [False, True])
def test_notebook_06_shows_and_records_the_checks(tmp_path, share):
    from certkit.report import landing
    from certkit.report.runner import run_report

    ds, _ = _simulate(120, 14, seed=11)
    ds.write(tmp_path / "org")
    run = run_report(
        str(tmp_path / "org"),
        str(tmp_path / "out"),
        notebooks=["06_ai_adoption"],
        parameters={"outcomes": ["merged_prs", "rework_rate"]},
        share=share,
        no_input=True,
        progress=False,
        jobs=1,
    )
    assert run.ok, [(r.notebook, r.error) for r in run.failed]
    page = run.results[0]
    records = {r["key"]: r for r in landing.read(page.headlines)}
    honest = records["ai/adoption-honest-did/rework_rate"]["text"]
    assert (
        "rework rate (share of added lines changed again) in the period of adoption (e = 0)"
        in honest
        and "certif" not in honest
    )
    robust = records["ai/adoption-robustness/rework_rate"]["text"]
    assert "heterogeneity-robust estimators" in robust
    html = page.html.read_text()
    assert "Sensitivity to non-parallel trends (HonestDiD)" in html
    index = run.index.read_text()
    rework = "adopting AI, rework rate (share of added lines changed again)"  # not its column
    assert f"{rework}, HonestDiD" in index and f"{rework}, robust estimators" in index


def test_the_ledger_is_asked_for_only_when_the_panel_has_no_rework():
    """click and fastapi (git imports with the ledger) read 'rework also needs a git import
    with the line ledger' when the real reason was no adopter."""
    from certkit.analytics.adoption import needs

    with_ledger = pl.DataFrame({"rework_rate": [0.1, None]})
    without = pl.DataFrame({"rework_rate": [None, None]}, schema={"rework_rate": pl.Float64})
    assert "line ledger" not in needs("rework_rate", with_ledger)
    assert "line ledger" in needs("rework_rate", without)
    assert "line ledger" in needs("rework_rate")  # nothing known about the data
    assert "line ledger" not in needs("merged_prs", without)
