"""Parity of certkit.did with reference implementations on R did's ``mpdta`` data.

Expected numbers: ``tests/fixtures/did/mpdta_expected.json`` (moderndid 0.4.1, equal to csdid 0.4.3
and differences 0.3.0, point estimates and Wald p-values as printed in R did's docs); see
``tests/fixtures/did/README.md``. TWFE reference: -0.036549 (0.013265), county-clustered.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from certkit import did
from certkit.errors import CertkitWarning

pytestmark = pytest.mark.reference

FIX = Path(__file__).parent / "fixtures" / "did"
MPDTA = pl.read_csv(FIX / "mpdta.csv")
EXPECTED = json.loads((FIX / "mpdta_expected.json").read_text())["results"]
COLS = dict(outcome="lemp", unit="countyreal", time="year", group="first.treat")
CONFIGS = {
    "nevertreated_nocov": dict(control="never"),
    "nevertreated_lpop": dict(control="never", covariates=["lpop"]),
    "notyettreated_nocov": dict(control="not_yet"),
    "notyettreated_lpop": dict(control="not_yet", covariates=["lpop"]),
}
TOL = 1e-6


@pytest.fixture(scope="module", params=list(CONFIGS))
def fitted(request):
    return request.param, did.att_gt(MPDTA, **COLS, **CONFIGS[request.param])


def test_all_group_time_atts_and_ses(fitted):
    key, res = fitted
    exp = EXPECTED[key]["att_gt"]
    got = res.to_polars()
    assert got.height == len(exp) == 12
    assert got["group"].to_list() == [c["group"] for c in exp]
    assert got["time"].to_list() == [c["time"] for c in exp]
    np.testing.assert_allclose(got["att"], [c["att"] for c in exp], rtol=0, atol=TOL)
    np.testing.assert_allclose(got["se"], [c["se"] for c in exp], rtol=0, atol=TOL)


def test_wald_pretest(fitted):
    key, res = fitted
    assert res.wald_stat == pytest.approx(EXPECTED[key]["wald_stat"], abs=TOL)
    assert round(res.wald_pvalue, 5) == pytest.approx(EXPECTED[key]["wald_pvalue"], abs=1e-9)


@pytest.mark.parametrize("kind", ["simple", "dynamic", "group", "calendar"])
def test_aggregations(fitted, kind):
    key, res = fitted
    exp = EXPECTED[key]["aggregations"][kind]
    agg = res.aggregate(kind)
    assert agg.overall_att == pytest.approx(exp["overall_att"], abs=TOL)
    assert agg.overall_se == pytest.approx(exp["overall_se"], abs=TOL)
    if "elements" in exp:
        tab = agg.to_polars()
        key_col = {"dynamic": "e", "group": "group", "calendar": "time"}[kind]
        assert tab[key_col].to_list() == [x["e"] for x in exp["elements"]]
        np.testing.assert_allclose(tab["att"], [x["att"] for x in exp["elements"]], atol=TOL)
        np.testing.assert_allclose(tab["se"], [x["se"] for x in exp["elements"]], atol=TOL)
    lo, hi = agg.overall_ci
    assert lo == pytest.approx(exp["overall_att"] - 1.959964 * exp["overall_se"], abs=1e-5)
    assert hi == pytest.approx(exp["overall_att"] + 1.959964 * exp["overall_se"], abs=1e-5)


def test_twfe_reference():
    res = did.twfe(MPDTA, **COLS)
    assert res.estimate == pytest.approx(-0.036549, abs=1e-6)
    assert res.se == pytest.approx(0.013265, abs=1e-6)


def test_methods_coincide_without_covariates():
    base = did.att_gt(MPDTA, **COLS)
    for method in ("ipw", "reg"):
        other = did.att_gt(MPDTA, **COLS, method=method)
        np.testing.assert_allclose(other.att, base.att, atol=1e-12)
        np.testing.assert_allclose(other.se, base.se, atol=1e-12)


def test_universal_base_is_a_re_normalisation_of_varying():
    var = did.att_gt(MPDTA, **COLS).to_polars()
    uni = did.att_gt(MPDTA, **COLS, base_period="universal").to_polars()
    # post-treatment cells do not depend on the base-period choice
    post_v = var.filter(pl.col("e") >= 0).sort("group", "time")
    post_u = uni.filter(pl.col("e") >= 0).sort("group", "time")
    np.testing.assert_allclose(post_u["att"], post_v["att"], atol=1e-12)
    # universal pre cell (g, t) = -(sum of varying cells t+1 .. g-1)
    for g in (2006, 2007):
        v = dict(
            zip(
                *var.filter((pl.col("group") == g) & (pl.col("e") < 0))[["time", "att"]],
                strict=True,
            )
        )
        for t in range(2003, g - 1):
            got = uni.filter((pl.col("group") == g) & (pl.col("time") == t))["att"][0]
            assert got == pytest.approx(-sum(v[s] for s in range(t + 1, g)), abs=1e-12)
        ref = uni.filter((pl.col("group") == g) & (pl.col("time") == g - 1))
        assert ref["att"][0] == 0.0


def test_did_2x2_equals_first_cell():
    two = MPDTA.filter(
        pl.col("year").is_in([2003, 2004]) & pl.col("first.treat").is_in([0, 2004])
    ).with_columns(
        treated=(pl.col("first.treat") > 0).cast(pl.Int8),
        post=(pl.col("year") == 2004).cast(pl.Int8),
    )
    res = did.did_2x2(two, outcome="lemp", treated="treated", post="post", unit="countyreal")
    exp = EXPECTED["nevertreated_nocov"]["att_gt"][0]
    assert res.estimate == pytest.approx(exp["att"], abs=1e-12)
    # clustered OLS SE with small-sample factors is close to, not equal to, the IF SE
    assert res.se == pytest.approx(exp["se"], rel=0.02)


# ---- ehec (Medicaid expansion, states x years): a cohort with a single state --------------
EHEC = pl.read_csv(FIX / "ehec.csv").with_columns(
    pl.col("yexp2").fill_null(0).cast(pl.Int64).alias("g")
)
EHEC_EXPECTED = json.loads((FIX / "ehec_expected.json").read_text())["results"]
EHEC_COLS = dict(outcome="dins", unit="stfips", time="year", group="g")


@pytest.mark.parametrize("control, key", [("never", "nevertreated"), ("not_yet", "notyettreated")])
def test_default_reproduces_r_did_with_a_single_state_cohort(control, key):
    """R did keeps the one-state cohort's cells (csdid 0.4.3 numbers, make_ehec_fixture.py)."""
    exp = EHEC_EXPECTED[key]
    with pytest.warns(CertkitWarning, match="cohort\\(s\\) 2017 rest on a single treated unit"):
        res = did.att_gt(EHEC, **EHEC_COLS, control=control)
    got = res.to_polars()
    assert got.height == len(exp["att_gt"]) == 55
    assert got["group"].to_list() == [c["group"] for c in exp["att_gt"]]
    assert got["time"].to_list() == [c["time"] for c in exp["att_gt"]]
    np.testing.assert_allclose(got["att"], [c["att"] for c in exp["att_gt"]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(got["se"], [c["se"] for c in exp["att_gt"]], rtol=0, atol=1e-12)
    one = got.filter((pl.col("group") == 2017) & (pl.col("time") >= 2017))
    assert one["n_treated"].to_list() == [1, 1, 1]
    for kind in ("simple", "dynamic", "group", "calendar"):
        agg = res.aggregate(kind)
        ref = exp["aggregations"][kind]
        assert agg.overall_att == pytest.approx(ref["overall_att"], abs=1e-12)
        assert agg.overall_se == pytest.approx(ref["overall_se"], abs=1e-12)
        if kind != "simple":
            np.testing.assert_allclose(agg.keys, ref["keys"])
            np.testing.assert_allclose(agg.att, ref["att"], rtol=0, atol=1e-12)
            np.testing.assert_allclose(agg.se, ref["se"], rtol=0, atol=1e-12)
    assert res.wald_pvalue is None  # R: "Not returning pre-test Wald statistic ..." (singular)
    assert any("singular" in w for w in exp["warnings"])


def test_dropping_single_unit_cells_is_an_explicit_departure_from_r():
    with pytest.warns(CertkitWarning, match="min_cell_units=2"):
        res = did.att_gt(EHEC, **EHEC_COLS, min_cell_units=2)
    assert 2017 not in res.group.tolist()
    simple = res.aggregate("simple").overall_att
    r_simple = EHEC_EXPECTED["nevertreated"]["aggregations"]["simple"]["overall_att"]
    assert abs(simple - r_simple) > 1e-4
