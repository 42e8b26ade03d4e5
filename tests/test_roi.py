"""certkit.roi: hand-computable cases, symmetry, coverage, catalog costs, adapters."""

from __future__ import annotations

import math
import warnings
from datetime import date
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest

import certkit as ck
from certkit import roi
from certkit.errors import CertkitError, CertkitWarning

FIXED = dict(
    hourly_cost=100.0,
    prs_per_month=10.0,
    cycle_time_hours=80.0,
    engineer_share_of_cycle_time=0.1,
    value_per_pr=400.0,
    cost_per_defect=1000.0,
    cost_per_incident=20000.0,
    exam_fee=150.0,
    attempts=1.0,
    study_hours=50.0,
    training_cost=350.0,
    renewal_fee_share=1.0,
    validity_months=36.0,
)
COST = 150 + 350 + 50 * 100  # 5500 per engineer


def _quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        return roi.roi(*args, **kwargs)


@pytest.mark.parametrize(
    ("unit", "effect", "monthly"),
    [
        ("relative_throughput", 0.1, 0.1 * 10 * 400),
        ("prs_per_month", 1.5, 1.5 * 400),
        ("log_cycle_time", -0.2, (1 - math.exp(-0.2)) * 80 * 10 * 0.1 * 100),
        ("cycle_time_hours", -8.0, 8 * 10 * 0.1 * 100),
        ("defects_per_pr", -0.02, 0.02 * 10 * 1000),
        ("incidents_per_month", -0.05, 0.05 * 20000),
    ],
)
def test_zero_se_gives_deterministic_hand_formula(unit, effect, monthly):
    res = roi.roi(roi.Effect(effect, 0.0, unit), horizon_months=12, n_sims=500, **FIXED)
    expected = (12 * monthly - COST) / COST
    assert np.allclose(res.draws["roi"], expected, rtol=1e-12)
    assert res.central()["roi"] == pytest.approx(expected)
    assert res.central()["payback_months"] == pytest.approx(COST / monthly)
    t = res.to_polars()
    assert t.filter(pl.col("metric") == "roi")["median"][0] == pytest.approx(expected)
    assert res.p_positive == float(expected > 0)


def test_effects_add_and_program_scales():
    effs = [roi.Effect(0.1, 0, "relative_throughput"), roi.Effect(-0.02, 0, "defects_per_pr")]
    res = roi.roi(effs, horizon_months=6, n_engineers=7, n_sims=200, **FIXED)
    net = 6 * (400 + 200) - COST
    prog = res.to_polars().filter(pl.col("metric") == "net_value_program")["median"][0]
    assert prog == pytest.approx(7 * net)


def test_renewals_inside_horizon_are_charged():
    res = roi.roi(
        roi.Effect(0.1, 0, "relative_throughput"),
        horizon_months=30,
        n_sims=200,
        **{**FIXED, "validity_months": 12.0, "renewal_fee_share": 0.5},
    )
    assert res.central()["cost_per_engineer"] == pytest.approx(COST + 2 * 0.5 * 150)


def test_break_even_effect_and_symmetry():
    base = roi.roi(roi.Effect(0.1, 0, "relative_throughput"), n_sims=200, **FIXED)
    be = base.break_even_effect()
    assert be == pytest.approx(COST / (12 * 10 * 400), rel=1e-9)
    # estimate at break-even, symmetric normal uncertainty: P(ROI > 0) = 0.5
    res = roi.roi(roi.Effect(be, 0.05, "relative_throughput"), n_sims=40_000, seed=3, **FIXED)
    assert res.p_positive == pytest.approx(0.5, abs=0.01)
    assert res.roi_median == pytest.approx(0.0, abs=0.02)
    # nonlinear unit: break-even solves the exact formula
    ct = roi.roi(roi.Effect(-0.2, 0, "log_cycle_time"), n_sims=200, **FIXED).break_even_effect()
    assert (1 - math.exp(ct)) * 80 * 10 * 0.1 * 100 * 12 == pytest.approx(COST)


def test_interval_covers_true_roi_over_repetitions():
    """Estimates drawn around a true effect: the ROI interval covers the true ROI ~95%."""
    rng = np.random.default_rng(11)
    truth, se = 0.08, 0.03
    true_roi = (12 * truth * 10 * 400 - COST) / COST
    hits = []
    for i in range(200):
        est = truth + se * rng.standard_normal()
        res = _quiet(roi.Effect(est, se, "relative_throughput"), n_sims=2000, seed=i, **FIXED)
        lo, hi = res.roi_interval
        hits.append(lo <= true_roi <= hi)
    assert 0.9 <= np.mean(hits) <= 0.99


def test_not_significant_effect_is_said_plainly():
    with pytest.warns(CertkitWarning, match="not statistically significant"):
        res = roi.roi(roi.Effect(0.05, 0.05, "relative_throughput"), n_sims=2000, **FIXED)
    assert "not statistically distinguishable from zero" in res.statement()
    assert "median ROI" not in res.statement()
    sig = roi.roi(roi.Effect(0.2, 0.02, "relative_throughput"), n_sims=2000, **FIXED)
    assert "median ROI" in sig.statement() and not sig.warnings


def test_ranges_are_sampled_and_seeded():
    kw = dict(hourly_cost=(80, 160), value_per_pr=(200, 500, 900), n_sims=5000)
    a = roi.roi(roi.Effect(0.1, 0.02, "relative_throughput"), seed=5, **kw)
    b = roi.roi(roi.Effect(0.1, 0.02, "relative_throughput"), seed=5, **kw)
    np.testing.assert_array_equal(a.draws["roi"], b.draws["roi"])
    assert a.draws["cost"].std() > 0
    sens = a.sensitivity()
    assert {"value_per_pr", "hourly_cost", "effect: relative_throughput"} <= set(sens["assumption"])
    row = sens.filter(pl.col("assumption") == "value_per_pr").row(0, named=True)
    central = a.central()
    cost = central["cost_per_engineer"]
    assert row["roi_high"] == pytest.approx((12 * 0.1 * 12 * 900 - cost) / cost)
    assert a.plot().to_dict()["layer"]
    assert a.plot_sensitivity().to_dict()["mark"]["type"] == "bar"
    assert "P(ROI > 0)" in a.summary() and "<table" in a._repr_html_()


def test_catalog_costs_and_retirement():
    with pytest.warns(CertkitWarning, match="successor aws-mla-c01"):
        res = roi.roi(
            roi.Effect(0.1, 0.02, "relative_throughput"),
            certification="AWS ML Specialty",
            as_of=date(2026, 6, 1),
            n_sims=500,
        )
    assert res.assumptions["exam_fee"] == 150.0  # successor's fee
    costs, notes = roi.catalog_costs("aws-mls-c01", date(2025, 6, 1))
    assert costs["exam_fee"] == 300.0 and costs["validity_months"] == 36.0
    assert "retires on 2026-03-31" in notes[0]
    with pytest.raises(CertkitError, match="not in the catalog"):
        roi.catalog_costs("made-up-cert")
    sample = ck.load_sample()
    obs = roi.costs_from_data(sample.certifications)
    assert obs["exam_fee"][0] <= obs["exam_fee"][1] <= obs["exam_fee"][2]


def test_costs_from_data_price_records_without_cost_at_the_catalog_fee():
    """fastapi trial: a certifications file without cost_usd was priced at the flat default
    ($200) although docs/data-model.md promises the catalog's fee."""
    fees = dict(ck.catalog().select("id", "exam_fee_usd").iter_rows())
    ids = ["aws-mls-c01", "aws-mls-c01", "gcp-pmle", "azure-dp-100"]
    certs = pl.DataFrame({"certification_id": ids, "cost_usd": [None, 500.0, None, None]})
    obs = roi.costs_from_data(certs)
    paid = sorted([fees["aws-mls-c01"], 500.0, fees["gcp-pmle"], fees["azure-dp-100"]])
    assert obs["exam_fee"][1] == pytest.approx(float(np.quantile(paid, 0.5)))
    no_column = roi.costs_from_data(certs.drop("cost_usd"))
    assert no_column["exam_fee"][1] == pytest.approx(
        float(np.quantile(sorted(fees[i] for i in ids), 0.5))
    )


def test_from_result_duck_typing():
    e = roi.from_result(SimpleNamespace(overall_att=1.2, overall_se=0.4), "prs_per_month")
    assert (e.estimate, e.se, e.unit) == (1.2, 0.4, "prs_per_month")
    e = roi.from_result(SimpleNamespace(estimate=-0.1, se=0.02), "log_cycle_time", name="ct")
    assert e.name == "ct" and e.estimate == -0.1

    class Tidy:
        def to_polars(self):
            return pl.DataFrame({"e": [0, 1], "att": [0.5, 0.7], "se": [0.1, 0.2]})

    assert roi.from_result(Tidy(), "prs_per_month", e=1).estimate == 0.7
    with pytest.raises(CertkitError, match="2 rows"):
        roi.from_result(Tidy(), "prs_per_month")
    with pytest.raises(CertkitError, match="cannot read an effect"):
        roi.from_result(object(), "prs_per_month")


@pytest.mark.parametrize("estimator", ["imputation", "sun_abraham"])
def test_from_result_refuses_a_standard_error_the_estimator_calls_unreliable(estimator):
    """httpx (trial F): ten one-engineer cohorts, imputation's SE 0.027 which its own summary
    calls not reliable; roi.from_result took it and the statement read "chance positive 0%"."""
    import warnings

    from certkit import did

    rng = np.random.default_rng(0)
    g = np.concatenate([np.zeros(50), [4, 5, 6, 7, 8]])  # five cohorts of one engineer
    unit = np.repeat(np.arange(g.size), 10)
    t = np.tile(np.arange(1, 11), g.size)
    y = rng.normal(size=g.size)[unit] + 0.1 * t + rng.normal(size=unit.size)
    panel = pl.DataFrame({"id": unit, "t": t, "g": g[unit], "y": y})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = getattr(did, estimator)(panel, outcome="y", unit="id", time="t", group="g")
    assert res.se_reliable is False
    with pytest.raises(CertkitError, match=r"standard error of ATT .* is not reliable: .*single"):
        roi.from_result(res, "prs_per_month")
    e = roi.from_result(res, "prs_per_month", allow_unreliable_se=True)
    assert (e.estimate, e.se) == (res.estimate, res.se)


def test_bad_inputs_are_explained():
    e = roi.Effect(0.1, 0.02, "relative_throughput")
    with pytest.raises(CertkitError, match="unit"):
        roi.Effect(0.1, 0.02, "dollars")
    with pytest.raises(CertkitError, match="non-negative standard error"):
        roi.Effect(0.1, -1, "prs_per_month")
    with pytest.raises(CertkitError, match="unknown assumption"):
        roi.roi(e, wage=3)
    with pytest.raises(CertkitError, match="ordered"):
        roi.roi(e, hourly_cost=(150, 80))
    with pytest.raises(CertkitError, match="must be a number"):
        roi.roi(e, hourly_cost="100")
    with pytest.raises(CertkitError, match="Effect"):
        roi.roi([0.1])


def test_end_to_end_did_on_sample_covers_planted_roi():
    """DiD estimate of extra merged PRs on the sample -> ROI interval contains the planted ROI."""
    ds = ck.load_sample()
    panel = ck.build_panel(ds, "month")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        es = ck.did.event_study(
            panel, outcome="merged_prs", unit="engineer_id", time="period_index", group="cohort"
        )
    eff = roi.from_result(es, "prs_per_month", name="extra merged PRs")
    res = _quiet(eff, n_sims=20_000, **FIXED)
    true_roi = (12 * ds.truth["att_post"]["merged_prs"] * 400 - COST) / COST
    lo, hi = res.roi_interval
    assert lo <= true_roi <= hi


def test_a_small_chance_is_not_rounded_to_zero_in_words():
    """click: summary 'P(ROI > 0): 0.001' beside the statement's 'is 0%'."""
    from certkit.narrative import percent_words

    assert percent_words(0.001) == "under 1%" and percent_words(0.999) == "over 99%"
    assert (
        percent_words(0.0) == "0%" and percent_words(1.0) == "100%" and percent_words(0.42) == "42%"
    )


def test_assumptions_no_effect_reads_are_marked_unused():
    """gnome-shell's ROI page listed cycle_time_hours and engineer_share_of_cycle_time among
    its assumptions while it valued throughput, defects and incidents only."""
    from certkit.analytics.roi_model import DEFAULTS, unused_assumptions
    from certkit.report.study_roi import assumptions_table

    units = ["prs_per_month", "defects_per_pr", "incidents_per_month"]
    unused = unused_assumptions(units, list(DEFAULTS))
    assert set(unused) == {"cycle_time_hours", "engineer_share_of_cycle_time"}
    assert unused_assumptions(["log_cycle_time"], ["cycle_time_hours", "value_per_pr"]) == [
        "value_per_pr"
    ]
    shown = assumptions_table(dict(DEFAULTS), units=units).data
    assert "not used" in shown


def test_roi_headlines_give_no_median_when_no_effect_is_clear():
    """httpx (trial F): the landing page and the ROI answer box led with "median ROI -227%"
    beside the page's own "treat any single ROI figure as unreliable" (docs/analytics.md:
    the interval instead of a median when the effect is not significant)."""
    from certkit import narrative
    from certkit.report import landing

    r = {"median": -2.27, "low": -5.46, "high": -0.13, "p_positive": 0.02}
    assert landing.roi_text(r).startswith("median ROI -227% (95% interval -546% to -13%)")
    unclear = landing.roi_text(r | {"significant": False})
    assert "median" not in unclear and unclear.startswith("ROI 95% interval -546% to -13%")
    assert "not distinguishable from zero" in unclear
    figures = narrative.describe_roi_figures(-2.27, -5.46, -0.13, 0.02, 1200, 10)
    assert figures.startswith("Median ROI -227%")
    figures = narrative.describe_roi_figures(-2.27, -5.46, -0.13, 0.02, 1200, 10, significant=False)
    assert "Median ROI" not in figures and figures.startswith("ROI 95% interval -546% to -13%")


def test_roi_summary_prints_the_roi_in_percent():
    """The text summary printed the ROI fractions as whole numbers ("-1" for -134%)."""
    r = roi.roi(roi.Effect(-0.3, 0.4, "prs_per_month", "throughput"))
    line = next(x for x in r.summary().splitlines() if x.startswith("roi"))
    assert line.split()[:2] == ["roi_percent", f"{100 * r.roi_median:,.0f}"], line
    assert r.to_polars().filter(pl.col("metric") == "roi")["median"][0] == r.roi_median
