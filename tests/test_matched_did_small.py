"""Matched DiD on few matched sets: Student t, and the landing page's words about it.

fastapi (trial P, P2): a matched DiD on 2 matched sets said p = 0.003 (a normal critical value)
while the Rosenbaum table of the same sets said p = 0.09 at gamma 1, and the landing page
explained the disagreement as the 12-engineer staggered DiD having "less power".
"""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps
from test_report_landing import _effect

import certkit as ck
from certkit.report import landing


def test_matched_did_intervals_and_p_values_use_students_t_on_the_sets():
    """fastapi (trial P, P2): a matched DiD on 2 matched sets reported p = 0.003 from a normal
    critical value, where the one-sample t of the same two set DiDs gives 0.2 and the
    Rosenbaum test at gamma 1 gave 0.09."""
    from certkit.matching.rolling import event_rows

    D = np.array(
        [
            [0.5, 0.0, 1.0, 2.0],
            [-0.2, 0.0, 0.6, np.nan],
            [0.1, 0.0, 1.4, 1.1],
        ]
    )
    rows = event_rows(D, np.array([-2, -1, 0, 1]), 0.95)
    for (e, est, se, lo, hi, n), k in zip(rows, range(4), strict=True):
        col = D[:, k][~np.isnan(D[:, k])]
        if e == -1:
            assert (est, se, lo, hi) == (0.0, 0.0, 0.0, 0.0)
            continue
        ref = sps.ttest_1samp(col, 0.0)
        ci = ref.confidence_interval(0.95)
        assert n == col.size and est == pytest.approx(col.mean())
        assert (lo, hi) == pytest.approx((ci.low, ci.high), rel=1e-12)
    # overall on the sample: the tidy p-value is the one-sample t's on n - 1 df
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = ck.build_panel(ck.simulate(120, 18, seed=4))
        res = ck.matching.matched_did(panel, outcome="merged_prs", pre_periods=3, post_periods=4)
    row = res.tidy().filter(pl.col("term") == "overall").row(0, named=True)
    t = row["estimate"] / row["std_error"]
    assert row["p_value"] == pytest.approx(2 * sps.t.sf(abs(t), row["n"] - 1), rel=1e-12)
    half = sps.t.ppf(0.975, row["n"] - 1) * row["std_error"]
    assert (row["conf_low"], row["conf_high"]) == pytest.approx(
        (row["estimate"] - half, row["estimate"] + half), rel=1e-12
    )


def test_a_clear_result_on_fewer_engineers_is_the_weaker_evidence_not_more_power():
    staggered = _effect("staggered DiD", 0.9, -0.4, 2.2, 0.17, 12)  # wider, 12 engineers
    matched = _effect("matched DiD", 0.21, 0.07, 0.35, 0.01, 2)  # narrow, 2 engineers
    verdict, why = landing.agreement([staggered, matched])
    assert verdict == "disagree"
    assert "staggered DiD has less power" not in why  # main: said so
    assert "the clear result of matched DiD is the weaker evidence" in why
    assert "it rests on 2 certified engineers against 12" in why
    # a wider interval on as many engineers or fewer is still less power
    fewer = _effect("staggered DiD", 0.9, -0.4, 2.2, 0.17, 2)
    assert "staggered DiD has less power than matched DiD" in landing.agreement([fewer, matched])[1]


def test_the_roi_of_a_matched_did_draws_its_effect_from_students_t():
    """A matched DiD on few sets priced with normal draws would look far more certain than
    its own interval (fastapi's 2 sets)."""
    from certkit.analytics import roi

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = ck.build_panel(ck.simulate(120, 18, seed=4))
        res = ck.matching.matched_did(panel, outcome="merged_prs", pre_periods=3, post_periods=4)
    eff = roi.from_result(res, unit="prs_per_month")
    overall = res.tidy().filter(pl.col("term") == "overall").row(0, named=True)
    assert eff.df == overall["n"] - 1
    assert eff.p_value == pytest.approx(overall["p_value"], rel=1e-12)
    # two sets: t on 1 df; the ROI interval is wider than with normal draws
    t1 = roi.Effect(1.0, 0.5, "prs_per_month", df=1)
    assert t1.p_value == pytest.approx(2 * sps.t.sf(2.0, 1), rel=1e-12)
    fixed = {"exam_fee": 300, "study_hours": 40, "training_cost": 0, "hourly_cost": 100}
    wide = roi.roi(t1, n_sims=4000, seed=1, **fixed).to_polars()
    narrow = roi.roi(roi.Effect(1.0, 0.5, "prs_per_month"), n_sims=4000, seed=1, **fixed)
    narrow = narrow.to_polars()

    def width(table: pl.DataFrame) -> float:
        row = table.filter(pl.col("metric") == "roi").row(0, named=True)
        return row["ci_high"] - row["ci_low"]

    assert width(wide) > 2 * width(narrow)


def test_an_effects_degrees_of_freedom_are_checked():
    """review D4: df=inf made the ROI "+nan%"; df=0 raised numpy's bare "df <= 0"."""
    from certkit.analytics import roi
    from certkit.errors import CertkitError

    assert roi.Effect(1.0, 0.5, "prs_per_month", df=float("inf")).df is None
    for bad in (0, -1, float("nan")):
        with pytest.raises(CertkitError, match="Effect df must be a positive number"):
            roi.Effect(1.0, 0.5, "prs_per_month", df=bad)


def test_most_certified_engineers_without_a_peer_are_said_with_why():
    """astral-sh/ruff (trial AC): page 03 said "it rests on only 3 certified engineers" and
    never that 10 of 13 found no peer, nor why (most candidate peers outside the roster)."""
    import warnings

    import certkit as ck

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = ck.build_panel(ck.load_sample())
        covs = ["role", "level", "platform", "tenure_months"]
        narrow = ck.matching.matched_did(
            panel, outcome="merged_prs", covariates=covs, caliper=0.002
        )
        usual = ck.matching.matched_did(panel, outcome="merged_prs", covariates=covs)
    said = [w for w in narrow.warnings if w.startswith("most certified engineers found no peer")]
    assert said and "found a peer within the caliper (0.002 SD)" in said[0]
    assert "a wider caliper or fewer covariates would pair more of them" in said[0]
    assert not [w for w in usual.warnings if "found no peer" in w]
