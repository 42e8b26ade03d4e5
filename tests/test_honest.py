"""HonestDiD sensitivity (certkit.did.honest): parity with R HonestDiD, properties, simulation, errors.

R numbers: ``tests/fixtures/honest/`` (see its README for provenance).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
from scipy.optimize import linprog

from certkit.did import honest
from certkit.did.honest_arp import _gamma_inv, _vertices, create_A_RM, r_rnorm, rm_conditional_cs
from certkit.did.honest_flci import flci, folded_normal_quantile, sd_upper_bound_mpre
from certkit.did.honestdid import event_time_inputs
from certkit.errors import CertkitError

FIX = Path(__file__).parent / "fixtures" / "honest"
EHEC = json.loads((FIX / "honestdid_ehec.json").read_text())
BC = json.loads((FIX / "bcdata.json").read_text())
EB, ES = np.array(EHEC["betahat"]), np.array(EHEC["sigma"])
BB, BS = np.array(BC["betahat"]), np.array(BC["sigma"])
R_BC = BC["r_results"]


# --------------------------------------------------------------------------------------------
# parity with R
# --------------------------------------------------------------------------------------------


def test_r_rng_reproduces_set_seed_0():
    # R: set.seed(0); rnorm(5) -> 1.2629543 -0.3262334 1.3297993 1.2724293 0.4146414
    np.testing.assert_allclose(
        r_rnorm(5), [1.2629543, -0.3262334, 1.3297993, 1.2724293, 0.4146414], atol=5e-8
    )


def test_relative_magnitudes_match_r_readme_medicaid():
    res = honest(
        EB,
        ES,
        num_pre_periods=5,
        num_post_periods=2,
        mbar=[r["mbar"] for r in EHEC["relative_magnitudes_C-LF"]],
    )
    got = res.table.filter(pl.col("method") == "C-LF")
    for row, exp in zip(got.iter_rows(named=True), EHEC["relative_magnitudes_C-LF"], strict=True):
        # R prints 3 significant digits; ours rounds to exactly the printed numbers
        assert float(f"{row['conf_low']:.3g}") == exp["lb"], (row, exp)
        assert float(f"{row['conf_high']:.3g}") == exp["ub"], (row, exp)
    assert not res.warnings


def test_relative_magnitudes_match_r_bcdata_to_full_precision():
    exp = R_BC["deltaRM"]
    lv = np.eye(4)[0]
    for mbar, lb, ub in zip(exp["Mbar"], exp["lb"], exp["ub"], strict=True):
        lo, hi, ext = rm_conditional_cs(BB, BS, 4, 4, lv, mbar, max_extend=0)
        assert lo == pytest.approx(lb, abs=1e-12)
        assert hi == pytest.approx(ub, abs=1e-12)
    # at Mbar = 2 R's upper end is the end of its theta grid (20 SE): R's CI is cut there;
    # by default certkit extends the grid (same spacing) and reports the full interval
    res = honest(BB, BS, num_pre_periods=4, num_post_periods=4, mbar=[2.0])
    assert res.conf_low[0] == pytest.approx(exp["lb"][3], abs=1e-12)
    assert res.conf_high[0] > exp["ub"][3] + 0.01
    assert any("extended" in w for w in res.warnings)


def test_original_ci_matches_r_bcdata():
    res = honest(BB, BS, num_pre_periods=4, num_post_periods=4, mbar=[0.5])
    assert res.original[0] == pytest.approx(R_BC["originalCS"]["lb"][0], abs=1e-12)
    assert res.original[1] == pytest.approx(R_BC["originalCS"]["ub"][0], abs=1e-12)


def test_smoothness_flci_matches_r_readme_medicaid():
    ms = [r["m"] for r in EHEC["smoothness_FLCI"]]
    res = honest(EB, ES, num_pre_periods=5, num_post_periods=2, method="smoothness", m=ms)
    got = res.table.filter(pl.col("method") == "FLCI")
    for row, exp in zip(got.iter_rows(named=True), EHEC["smoothness_FLCI"], strict=True):
        for got_v, printed in ((row["conf_low"], exp["lb"]), (row["conf_high"], exp["ub"])):
            # within 1e-4, or within half a unit of R's last printed (3rd significant) digit
            half_unit = 0.5 * 10 ** (np.floor(np.log10(abs(printed))) - 2)
            assert abs(got_v - printed) <= max(1e-4, half_unit), (row, exp)


def test_smoothness_flci_matches_r_bcdata():
    exp = R_BC["deltaSD"]
    res = honest(BB, BS, num_pre_periods=4, num_post_periods=4, method="smoothness", m=exp["M"])
    np.testing.assert_allclose(res.conf_low, exp["lb"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(res.conf_high, exp["ub"], atol=1e-4, rtol=0)
    f0 = flci(BB, BS, 4, 4, np.eye(4)[0], 0.0)
    assert f0["half_length"] == pytest.approx(R_BC["flci"]["optimalHalfLength"], abs=1e-5)
    assert sd_upper_bound_mpre(BB, BS, 4) == pytest.approx(R_BC["M_upperBound"], abs=1e-12)


def test_default_m_grid_is_r_default():
    res = honest(BB, BS, num_pre_periods=4, num_post_periods=4, method="smoothness")
    np.testing.assert_allclose(res.grid, np.linspace(0, R_BC["M_upperBound"], 10), atol=1e-12)
    rm = honest(EB, ES, num_pre_periods=5, num_post_periods=2)
    np.testing.assert_allclose(rm.grid, np.linspace(0, 2, 10))


# --------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("l_vec", [[1, 0, 0], [0, 1, 0], [0.5, 0.25, 0.25], [0, 0, 1]])
def test_closed_form_lp_equals_highs(l_vec):
    """eta = min_d max_i (y_i - X_i d) / sd_i, closed form over T + 2 dual vertices vs HiGHS."""
    rng = np.random.default_rng(1)
    npre, npost = 3, 3
    lv = np.array(l_vec, dtype=float)
    A = create_A_RM(npre, npost, 1.3, -1, True)
    post = np.arange(npre, npre + npost)
    rows = np.flatnonzero(np.any(A[:, post] != 0, axis=1))
    X = (A[:, post] @ _gamma_inv(lv))[rows, 1:]
    sd = rng.uniform(0.5, 2, rows.size)
    lam = _vertices(X, sd)
    assert np.all(lam >= -1e-12)
    np.testing.assert_allclose(sd @ lam, 1)
    np.testing.assert_allclose(X.T @ lam, 0, atol=1e-12)
    for _ in range(20):
        y = rng.normal(size=rows.size)
        k = X.shape[1]
        lp = linprog(
            np.r_[1.0, np.zeros(k)],
            A_ub=-np.column_stack([sd, X]),
            b_ub=-y,
            bounds=[(None, None)] * (k + 1),
            method="highs",
        )
        assert lp.status == 0
        assert (y @ lam).max() == pytest.approx(lp.fun, abs=1e-9)


def test_folded_normal_quantile_exact():
    from scipy import stats

    t = np.array([0.0, 0.3, 1.0, 4.0, 25.0])
    np.testing.assert_allclose(
        folded_normal_quantile(0.95, t), stats.foldnorm.ppf(0.95, t), rtol=1e-10
    )


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["ehec", "bcdata"])
def test_intervals_widen_with_the_bound(data):
    b, S, npre, npost = (EB, ES, 5, 2) if data == "ehec" else (BB, BS, 4, 4)
    rm = honest(b, S, num_pre_periods=npre, num_post_periods=npost, mbar=[0, 0.5, 1, 1.5])
    assert np.all(np.diff(rm.conf_low) <= 1e-12) and np.all(np.diff(rm.conf_high) >= -1e-12)
    assert np.all(np.diff(rm.conf_high - rm.conf_low) > 0)
    sd = honest(
        b,
        S,
        num_pre_periods=npre,
        num_post_periods=npost,
        method="smoothness",
        m=[0, 0.01, 0.02, 0.04],
    )
    assert np.all(np.diff(sd.conf_high - sd.conf_low) > 0)


def test_breakdown_and_words():
    res = honest(
        EB, ES, num_pre_periods=5, num_post_periods=2, mbar=[0.5, 1, 1.5, 2], outcome="dins"
    )
    assert res.breakdown == 1.5
    words = res.effect_summary().text
    assert "unless post-certification trend violations exceed 1.5x" in words
    assert "at Mbar = 2 the robust 95% interval includes zero" in words
    assert "dins" in words
    # every bound tried keeps significance: the breakdown is a lower bound
    res = honest(EB, ES, num_pre_periods=5, num_post_periods=2, mbar=[0.5, 1])
    assert res.breakdown == 1 and res.breakdown_is_lower_bound
    assert "for every bound tried" in res.effect_summary().text
    # an effect that is not significant even under parallel trends
    b = EB.copy()
    b[5] = 0.005
    res = honest(b, ES, num_pre_periods=5, num_post_periods=2, mbar=[0.5, 1])
    assert res.breakdown is None
    assert "not significant even under exact parallel trends" in res.effect_summary().text
    sd = honest(
        EB, ES, num_pre_periods=5, num_post_periods=2, method="smoothness", m=[0, 0.02, 0.03]
    )
    assert sd.breakdown == 0.02
    assert "M = 0.02" in sd.effect_summary().text and "M = 0.03" in sd.effect_summary().text


def test_words_say_when_a_robust_interval_excludes_zero_though_the_original_does_not():
    """httpx (trial F): the smoothness interval at M = 0 excluded zero (table: significant =
    yes) while the sentence said only "not significant even under exact parallel trends"."""
    b = EB.copy()
    b[:5] = [0.04, 0.03, 0.02, 0.01, 0.0]  # a falling pre-trend, extrapolated upward at M = 0
    b[5] = 0.005
    sd = honest(b, ES, num_pre_periods=5, num_post_periods=2, method="smoothness", m=[0, 0.01])
    assert not sd.original_significant and sd.significant.tolist() == [True, False]
    lo, hi = sd.conf_low[0], sd.conf_high[0]
    words = sd.effect_summary().text
    assert "not significant even under exact parallel trends" in words
    assert f"at M = 0 ({lo:.3g} to {hi:.3g}) does exclude zero" in words
    assert "extrapolates the pre-certification trend" in words


def test_result_contract():
    res = honest(EB, ES, num_pre_periods=5, num_post_periods=2, mbar=[0, 1], outcome="dins")
    t = res.tidy()
    assert t.columns == [
        "term",
        "estimate",
        "std_error",
        "statistic",
        "p_value",
        "conf_low",
        "conf_high",
        "method",
        "mbar",
        "significant",
    ]
    assert t["method"].to_list() == ["original", "C-LF", "C-LF"]
    assert t.equals(res.to_polars())
    assert "breakdown" in res.summary() and "Delta^RM" in res.summary()
    assert "<table" in res._repr_html_()
    spec = res.plot().to_dict()
    assert len(spec["layer"]) == 4
    sd = honest(EB, ES, num_pre_periods=5, num_post_periods=2, method="smoothness", m=[0, 0.01])
    assert "m" in sd.tidy().columns and sd.tidy()["estimate"].null_count() == 0


def test_event_time_inputs_drop_the_reference_and_need_consecutive_times():
    e = np.array([-6, -5, -4, -3, -2, -1, 0, 1])
    est = np.r_[EB[:5], 0.0, EB[5:]]
    V = np.zeros((8, 8))
    keep = np.r_[0:5, 6:8]
    V[np.ix_(keep, keep)] = ES
    inp = event_time_inputs(e[::-1], est[::-1], V[::-1, ::-1], outcome="dins")
    assert inp["num_pre_periods"] == 5 and inp["num_post_periods"] == 2
    np.testing.assert_array_equal(inp["betahat"], EB)
    np.testing.assert_array_equal(inp["sigma"], ES)
    assert inp["post_event_times"].tolist() == [0.0, 1.0] and inp["outcome"] == "dins"
    with pytest.raises(CertkitError, match="consecutive"):
        event_time_inputs(np.r_[-6, -4, -3, -2, -1, 0, 1], est[1:], V[1:, 1:])
    with pytest.raises(CertkitError, match="must agree"):
        event_time_inputs(e, est[1:], V)


def test_result_must_be_a_universal_base_certkit_event_study():
    from certkit import did

    mpdta = pl.read_csv(Path(__file__).parent / "fixtures" / "did" / "mpdta.csv")
    cols = dict(outcome="lemp", unit="countyreal", time="year", group="first.treat")
    es = did.event_study(mpdta, **cols, base_period="universal")
    with pytest.raises(CertkitError, match="universal base period; rerun event_study"):
        honest(result=did.event_study(mpdta, **cols))
    with pytest.raises(CertkitError, match="kind 'simple'"):
        honest(result=es.parent.aggregate("simple"))
    for other in (did.sun_abraham(mpdta, **cols), did.twfe(mpdta, **cols), SimpleNamespace()):
        with pytest.raises(CertkitError, match="needs a certkit event study"):
            honest(result=other)
    with pytest.raises(CertkitError, match="not both"):
        honest(EB, ES, result=es)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(sigma=ES[:6, :6]), "sigma is 6 x 6 but betahat has 7"),
        (dict(sigma=ES[:, :6]), "square covariance"),
        (dict(sigma=ES - 2e-4 * np.eye(7)), "not positive semi-definite"),
        (dict(sigma=ES + np.triu(np.full((7, 7), 1e-5), 1)), "not symmetric"),
        (dict(num_pre_periods=4), "must equal the number of estimates"),
        (dict(l_vec=[1, 0, 0]), "one finite weight per post period"),
        (dict(mbar=[-1]), "mbar must be"),
        (dict(m=[0.1]), "use mbar= with relative_magnitude"),
        (dict(method="bogus"), "method must be"),
        (dict(level=95), "level must be between 0 and 1"),
        (dict(betahat=np.r_[EB[:6], np.nan]), "finite"),
    ],
)
def test_bad_input_is_a_certkit_error(kwargs, match):
    args = dict(betahat=EB, sigma=ES, num_pre_periods=5, num_post_periods=2) | kwargs
    with pytest.raises(CertkitError, match=match):
        honest(**args)


# --------------------------------------------------------------------------------------------
# simulation: a linear pre-trend that continues after certification
# --------------------------------------------------------------------------------------------


def _sim_design(npre=4, npost=3, slope=0.3, tau=0.2, se=0.1, rho=0.5):
    t = np.r_[np.arange(-npre, 0), np.arange(1, npost + 1)]
    delta = slope * t  # violation of parallel trends: a linear trend, zero at the reference
    beta = delta + np.r_[np.zeros(npre), np.full(npost, tau)]
    idx = np.arange(npre + npost)
    S = se**2 * rho ** np.abs(idx[:, None] - idx[None, :])
    return beta, S


def test_simulation_flci_covers_under_linear_violation():
    """Delta^SD(0) contains linear trends: FLCI at M = 0 covers tau ~95%, the plain CI does not."""
    beta, S = _sim_design()
    rng = np.random.default_rng(12)
    draws = rng.multivariate_normal(beta, S, size=400)
    tau, cov_robust, cov_orig = 0.2, 0, 0
    for b in draws:
        f = flci(b, S, 4, 3, np.eye(3)[0], 0.0)
        cov_robust += f["conf_low"] <= tau <= f["conf_high"]
        z = 1.959964 * np.sqrt(S[4, 4])
        cov_orig += b[4] - z <= tau <= b[4] + z
    robust, orig = cov_robust / draws.shape[0], cov_orig / draws.shape[0]
    assert 0.92 <= robust <= 0.985, robust
    assert orig < 0.3, orig


@pytest.mark.slow
def test_simulation_relative_magnitudes_cover_under_linear_violation():
    """A linear trend has equal pre and post first differences: it lies in Delta^RM(1)."""
    beta, S = _sim_design()
    rng = np.random.default_rng(13)
    draws = rng.multivariate_normal(beta, S, size=300)
    hits = 0
    for b in draws:
        lo, hi, _ = rm_conditional_cs(b, S, 4, 3, np.eye(3)[0], 1.0)
        hits += lo <= 0.2 <= hi
    assert 0.92 <= hits / draws.shape[0] <= 1.0


def test_single_post_period_uses_the_no_nuisance_test():
    b, S = EB[:6], ES[:6, :6]
    res = honest(b, S, num_pre_periods=5, num_post_periods=1, mbar=[0, 0.5, 1])
    assert np.all(res.conf_low <= b[5]) and np.all(res.conf_high >= b[5])
    assert np.all(np.diff(res.conf_high - res.conf_low) > 0)
    sd = honest(b, S, num_pre_periods=5, num_post_periods=1, method="smoothness", m=[0, 0.01])
    assert np.all(np.isfinite(sd.conf_low)) and sd.conf_high[1] - sd.conf_low[1] > 0


def test_certkit_callaway_santanna_event_study_end_to_end():
    from certkit import did

    mpdta = pl.read_csv(Path(__file__).parent / "fixtures" / "did" / "mpdta.csv")
    cols = dict(outcome="lemp", unit="countyreal", time="year", group="first.treat")
    es = did.event_study(mpdta, **cols, base_period="universal")
    res = honest(result=es, mbar=[0.5, 1])
    i0 = int(np.flatnonzero(es.keys == 0)[0])
    z = 1.959963984540054
    assert res.term == "e = 0" and res.outcome == "lemp"
    assert res.num_pre == 3 and res.num_post == 4  # e = -4..-2 and 0..3; e = -1 dropped
    assert res.original[0] == pytest.approx(es.att[i0] - z * es.se[i0], abs=1e-10)
    assert res.original[1] == pytest.approx(es.att[i0] + z * es.se[i0], abs=1e-10)
    assert np.all(res.conf_low <= res.original[1]) and np.all(res.conf_high >= res.original[0])
    # the inputs are the event study's own numbers: estimates, and a covariance whose diagonal
    # is the square of its (separately computed) standard errors; e = -1 is the dropped zero
    ref = es.keys == -1
    assert es.att[ref][0] == 0.0
    raw = honest(
        es.att[~ref],
        es.vcov()[np.ix_(~ref, ~ref)],
        num_pre_periods=3,
        num_post_periods=4,
        mbar=[0.5, 1],
    )
    np.testing.assert_array_equal(res.conf_low, raw.conf_low)
    np.testing.assert_array_equal(res.conf_high, raw.conf_high)
    np.testing.assert_allclose(np.sqrt(np.diag(es.vcov()))[~ref], es.se[~ref], rtol=1e-12)
    # clustered event studies give clustered covariances (state-level clusters here)
    by_state = mpdta.with_columns((pl.col("countyreal") // 1000).alias("state"))
    cl = did.event_study(by_state, **cols, base_period="universal", cluster="state")
    np.testing.assert_allclose(np.sqrt(np.diag(cl.vcov()))[~ref], cl.se[~ref], rtol=1e-12)
    assert not np.allclose(cl.se[~ref], es.se[~ref])
    sd = honest(result=cl, method="smoothness", m=[0, 0.01], event_time=2)
    assert sd.term == "e = 2" and sd.estimate == pytest.approx(cl.att[cl.keys == 2][0])


def test_words_name_the_period_and_round_the_bounds():
    """gnome-shell's shared report read "(e = 0) is 2.72 ... exceed 0.444444x ... at Mbar =
    0.666667"."""
    from certkit.did.honestdid import _term_words

    assert _term_words("e = 0") == "in the period of certification (e = 0)"
    assert _term_words("e = 2") == "2 period(s) after certification (e = 2)"
    res = honest(
        EB, ES, num_pre_periods=5, num_post_periods=2, mbar=np.linspace(0, 2, 10), outcome="dins"
    )
    words = res.effect_summary().text
    assert "exceed 1.78x the largest" in words, words  # was 1.77778x


def test_the_words_speak_the_unit_they_are_given():
    """trial O: HonestDiD's sentence gave bare numbers beside headlines in PRs or points."""
    kw = dict(num_pre_periods=5, num_post_periods=2, mbar=[0, 0.5], outcome="teen employment")
    plain = honest(EB, ES, **kw)
    worded = honest(EB, ES, **kw, value_words=lambda v: f"{100 * v:+.3g} points")
    est, (lo, hi) = plain.estimate, plain.original
    assert f"is {est:.3g} (95% CI {lo:.3g} to {hi:.3g})" in plain.effect_summary().text
    assert (
        f"is {100 * est:+.3g} points (95% CI {100 * lo:+.3g} points to {100 * hi:+.3g} points)"
        in worded.effect_summary().text
    )
    assert worded.table.equals(plain.table)  # words only
