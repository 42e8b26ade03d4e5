"""certkit.stats: every hand-written kernel against statsmodels (or a direct computation)."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from certkit.errors import CertkitError
from certkit.stats import (
    benjamini_hochberg,
    cluster_sums,
    critical_value,
    demean_twoway,
    dense_codes,
    fit_binomial,
    fit_logit_newton,
    level_from_alpha,
    mantel_haenszel_rr,
    pvalue,
    wald_test,
    wls,
)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    n = 600
    X = np.column_stack([rng.normal(size=n), rng.binomial(1, 0.4, n), rng.uniform(0, 3, n)])
    eta = -0.3 + 0.8 * X[:, 0] - 0.5 * X[:, 1] + 0.3 * X[:, 2]
    d = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    y = 1 + 2 * d + X @ np.array([0.5, -1.0, 0.2]) + rng.normal(size=n) * (1 + X[:, 2])
    w = rng.uniform(0.5, 2.0, n)
    cl = rng.integers(0, 40, n)
    return X, d, y, w, cl


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_fit_binomial_equals_statsmodels_glm(data, link):
    X, d, *_ = data
    p, beta, converged = fit_binomial(X, d, link)
    fam = sm.families.Binomial(
        sm.families.links.Logit() if link == "logit" else sm.families.links.Probit()
    )
    ref = sm.GLM(d, sm.add_constant(X), family=fam).fit(tol=1e-12)
    assert converged
    # R's stopping rule (relative deviance change < 1e-8) ends a little before statsmodels'
    # tol=1e-12, so coefficients agree to ~1e-7 (R parity itself is in test_matching.py)
    np.testing.assert_allclose(beta, ref.params, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(p, ref.fittedvalues, rtol=1e-6, atol=1e-10)


def test_weighted_newton_logit_equals_statsmodels_with_frequency_weights(data):
    X, d, _, w, _ = data
    Xd = sm.add_constant(X)
    p, Hinv = fit_logit_newton(Xd, d.astype(float), w, "test cell")
    ref = sm.GLM(d, Xd, family=sm.families.Binomial(), freq_weights=w).fit(tol=1e-12)
    np.testing.assert_allclose(p, ref.fittedvalues, rtol=1e-8)
    np.testing.assert_allclose(Hinv, ref.cov_params(), rtol=1e-6)


def test_newton_logit_names_the_cell_on_perfect_separation():
    x = np.r_[np.linspace(-2, -0.1, 20), np.linspace(0.1, 2, 20)]
    d = (x > 0).astype(float)
    with pytest.raises(CertkitError, match="perfect separation.*cell 7"):
        fit_logit_newton(np.column_stack([np.ones(40), x]), d, np.ones(40), "cell 7")


@pytest.mark.parametrize("kind", ["HC0", "HC1", "HC2", "HC3"])
def test_wls_robust_covariance_equals_statsmodels(data, kind):
    X, d, y, w, _ = data
    Xd = sm.add_constant(np.column_stack([d, X]))
    beta, V = wls(y, Xd, w, vcov=kind)
    ref = sm.WLS(y, Xd, weights=w).fit(cov_type=kind)
    np.testing.assert_allclose(beta, ref.params, rtol=1e-9)
    np.testing.assert_allclose(V, ref.cov_params(), rtol=1e-8)


def test_wls_cluster_covariance_equals_statsmodels(data):
    X, d, y, w, cl = data
    Xd = sm.add_constant(np.column_stack([d, X]))
    beta, V = wls(y, Xd, w, cluster=cl)
    ref = sm.WLS(y, Xd, weights=w).fit(cov_type="cluster", cov_kwds={"groups": cl})
    np.testing.assert_allclose(V, ref.cov_params(), rtol=1e-8)


def test_wls_rejects_unknown_covariance(data):
    X, d, y, *_ = data
    with pytest.raises(CertkitError, match="HC0, HC1, HC2, HC3"):
        wls(y, sm.add_constant(X), vcov="HC9")


def test_twoway_demeaning_equals_dummy_regression_on_an_unbalanced_panel():
    rng = np.random.default_rng(3)
    ui = np.repeat(np.arange(30), 8)
    ti = np.tile(np.arange(8), 30)
    keep = rng.uniform(size=ui.size) > 0.2
    ui, ti = ui[keep], ti[keep]
    v = rng.normal(size=ui.size) + ui * 0.1 + ti * 0.3
    D = np.column_stack([np.eye(30)[ui], np.eye(8)[ti][:, 1:]])
    resid = v - D @ np.linalg.lstsq(D, v, rcond=None)[0]
    np.testing.assert_allclose(demean_twoway(v, ui, ti), resid, atol=1e-9)


@pytest.mark.parametrize(
    "s",
    [
        pl.Series([105, 3, 3, 7, 105]),
        pl.Series(["b", "a", "b", "c", "a"]),
        pl.Series([2.5, -1.0, 2.5, 0.0, 9.0]),
        pl.Series([10**12, 5, 10**12, 7, 5]),  # sparse ids: the rank path
    ],
)
def test_dense_codes_are_sorted_ranks(s):
    codes = dense_codes(s)
    expected = np.unique(s.to_numpy(), return_inverse=True)[1]
    np.testing.assert_array_equal(codes, expected)


def test_pvalue_critical_value_and_level():
    assert critical_value(0.95) == pytest.approx(1.959963984540054)
    assert critical_value(0.9) == pytest.approx(sps.norm.ppf(0.95))
    assert pvalue(1.959963984540054, 1.0) == pytest.approx(0.05)
    np.testing.assert_allclose(
        pvalue(np.array([0.0, 2.0]), np.array([1.0, 1.0])), [1.0, 0.0455], atol=1e-4
    )
    assert np.isnan(pvalue(1.0, 0.0))
    assert level_from_alpha(0.9, None) == 0.9
    with pytest.warns(DeprecationWarning, match="level=0.9"):
        assert level_from_alpha(0.95, 0.1) == pytest.approx(0.9)
    with pytest.raises(CertkitError, match="level must be between 0 and 1"):
        level_from_alpha(95, None)


def test_cluster_sums_and_wald_test():
    rng = np.random.default_rng(5)
    S = rng.normal(size=(50, 3))
    cl = rng.integers(0, 7, 50)
    sums = cluster_sums(S, cl)
    np.testing.assert_allclose(sums[2], S[cl == 2].sum(axis=0))
    assert cluster_sums(S, None) is S
    est = np.array([0.5, -0.2])
    V = np.array([[0.04, 0.01], [0.01, 0.09]])
    W, p = wald_test(est, V)
    assert pytest.approx(est @ np.linalg.solve(V, est)) == W
    assert p == pytest.approx(sps.chi2.sf(W, 2))
    assert wald_test(est, np.array([[1.0, 1.0], [1.0, 1.0]])) == (None, None)


def test_benjamini_hochberg_equals_statsmodels():
    p = np.array([0.001, 0.2, np.nan, 0.03, 0.04, 0.8, 0.011])
    ok = ~np.isnan(p)
    q = benjamini_hochberg(p)
    np.testing.assert_allclose(q[ok], multipletests(p[ok], method="fdr_bh")[1])
    assert np.isnan(q[2])


def test_mantel_haenszel_equals_statsmodels_stratified_tables():
    from statsmodels.stats.contingency_tables import StratifiedTable

    a, n1 = np.array([12, 5, 30]), np.array([100, 40, 160])
    b, n0 = np.array([8, 6, 18]), np.array([120, 60, 150])
    rr, se = mantel_haenszel_rr(a, n1, b, n0)
    # MH risk ratio by hand from the definition, and the SE by Greenland-Robins
    n = n1 + n0
    assert rr == pytest.approx(np.sum(a * n0 / n) / np.sum(b * n1 / n))
    tables = [
        np.array([[ai, ni - ai], [bi, mi - bi]])
        for ai, ni, bi, mi in zip(a, n1, b, n0, strict=True)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = StratifiedTable(tables)
    assert st.riskratio_pooled == pytest.approx(rr, rel=1e-12)
    assert se > 0
