"""certkit.matching: parity with MatchIt on lalonde, matcher rules, ATT, sensitivity, errors."""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from certkit import matching as M
from certkit.errors import CertkitError, CertkitWarning

FIX = Path(__file__).parent / "fixtures" / "matching"
REF = FIX / "matchit_4.7.2_nn"
REF45 = FIX / "matchit_4.5.1"
COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
BAL_COLS = {
    "Means Treated": "mean_treated",
    "Means Control": "mean_control",
    "Std. Mean Diff.": "smd",
    "Var. Ratio": "var_ratio",
    "eCDF Mean": "ecdf_mean",
    "eCDF Max": "ecdf_max",
    "Std. Pair Dist.": "std_pair_dist",
}


@pytest.fixture(scope="module")
def lalonde() -> pl.DataFrame:
    return pl.read_csv(FIX / "lalonde.csv")


@pytest.fixture(scope="module")
def notie(lalonde) -> pl.DataFrame:
    # as in make_fixtures.R: distinct covariate rows, so no ties in any distance
    return lalonde.with_columns(pl.col("re75") + pl.int_range(1, lalonde.height + 1) / 1000)


@pytest.fixture(scope="module")
def nn(lalonde) -> M.MatchResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        return M.match(lalonde, treatment="treat", covariates=COVS)


def _quiet(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        return M.match(*args, **kw)


def _compare_balance(result: M.MatchResult, path: Path, sample: str, tol: float = 1e-9):
    ref = pl.read_csv(path, null_values="NA")
    ours = result.balance().filter(pl.col("sample") == sample)
    assert ours["term"].to_list() == ref[""].to_list()
    for rc, oc in BAL_COLS.items():
        if rc not in ref.columns:
            continue
        r = ref[rc].cast(pl.Float64).to_numpy()
        o = ours[oc].cast(pl.Float64).fill_null(np.nan).to_numpy()
        if sample == "all" and oc == "std_pair_dist":
            continue
        assert np.array_equal(np.isnan(r), np.isnan(o)), (oc, r, o)
        ok = ~np.isnan(r)
        np.testing.assert_allclose(o[ok], r[ok], rtol=tol, atol=tol, err_msg=oc)


# --------------------------------------------------------------------------------------------
# MatchIt 4.7.2 golden numbers (1:1 nearest neighbour on a logit propensity score)
# --------------------------------------------------------------------------------------------


@pytest.mark.reference
def test_propensity_scores_match_matchit(lalonde, nn):
    ref = pl.read_csv(REF / "ps_logit.csv", infer_schema_length=0)
    assert ref["id"].to_list() == lalonde["id"].to_list()
    np.testing.assert_allclose(nn.distance, ref["ps"].cast(pl.Float64).to_numpy(), atol=1e-11)


@pytest.mark.reference
def test_pairs_match_matchit_472_exactly(lalonde, nn):
    ref = pl.read_csv(REF / "match_matrix_nn.csv")
    expected = dict(zip(ref[""].to_list(), ref["V1"].to_list(), strict=True))
    ids = lalonde["id"].to_numpy()
    ours = dict(zip(ids[nn.t_pos], ids[nn.match_matrix[:, 0]], strict=True))
    assert ours == expected  # 185 pairs, including the tied propensity scores


@pytest.mark.reference
def test_weights_subclass_and_sample_sizes(lalonde, nn):
    ref = pl.read_csv(REF / "weights_nn.csv", infer_schema_length=0)
    np.testing.assert_array_equal(nn.weights, ref["weights"].cast(pl.Float64).to_numpy())
    md = nn.matched_data()
    sub_ref = dict(zip(ref["id"], ref["subclass"], strict=True))
    ours = dict(zip(md["id"].to_list(), md["subclass"].cast(pl.String).to_list(), strict=True))
    assert ours == {k: v for k, v in sub_ref.items() if v != "NA"}
    nn_ref = pl.read_csv(REF / "nn_nn.csv")
    ss = nn.sample_sizes()
    order = ["all_ess", "all", "matched_ess", "matched", "unmatched", "discarded"]
    assert ss["sample"].to_list() == order
    np.testing.assert_allclose(ss["control"].to_numpy(), nn_ref["Control"].to_numpy())
    np.testing.assert_allclose(ss["treated"].to_numpy(), nn_ref["Treated"].to_numpy())


@pytest.mark.reference
def test_balance_tables_match_matchit(nn):
    _compare_balance(nn, REF / "balance_all.csv", "all")
    _compare_balance(nn, REF / "balance_nn.csv", "matched")


@pytest.mark.reference
def test_att_and_pair_clustered_se_match_matchit(nn):
    ref = pl.read_csv(REF / "att.csv").row(0, named=True)
    res = nn.att("re78", covariates=COVS)
    assert res.estimate == pytest.approx(ref["att_lm_cov"], rel=1e-10)
    assert res.se == pytest.approx(ref["se"], rel=1e-8)
    assert round(res.estimate, 2) == 1344.94 and round(res.se, 2) == 718.98
    assert res.n == 370 and res.n_treated == 185
    lo, hi = res.ci
    assert lo == pytest.approx(res.estimate - 1.959964 * res.se, rel=1e-6)
    assert hi == pytest.approx(res.estimate + 1.959964 * res.se, rel=1e-6)
    dim = nn.att("re78")
    assert (round(dim.estimate, 2), round(dim.se, 2)) == (894.37, 705.23)
    tidy = res.to_polars()
    assert tidy.columns[:4] == ["term", "outcome", "estimate", "std_error"]
    assert "ATT" in res.summary() and "<table" in res._repr_html_()


def test_nsw_experimental_benchmark_and_observational_gap(nn):
    """Dehejia-Wahba: the randomized NSW sample gives 1794.34 (Neyman SE 671.00) as a
    difference in means. Matching NSW treated to PSID controls recovers an estimate whose 95%
    CI covers that benchmark, while the naive observational difference is far off (negative)."""
    nsw = pl.read_csv(FIX / "nsw_dehejia_wahba.csv")
    exp = M.estimate_att(nsw, treatment="treat", outcome="re78", vcov="HC2")
    assert round(exp.estimate, 2) == 1794.34
    assert round(exp.se, 2) == 671.00  # HC2 = Neyman's SE for a difference in means
    naive = M.estimate_att(nn.data, treatment="treat", outcome="re78")
    assert naive.estimate < 0  # selection bias: PSID controls earn much more
    matched = nn.att("re78", covariates=COVS)
    assert matched.ci[0] < 1794.34 < matched.ci[1]


# --------------------------------------------------------------------------------------------
# Other methods against MatchIt 4.5.1 (Debian r-cran-matchit; see make_fixtures.R)
# --------------------------------------------------------------------------------------------

SPECS_45 = {
    "nn_mahalanobis": dict(distance="mahalanobis"),
    "nn_mahalanobis_replace": dict(distance="mahalanobis", replace=True),
    "nn_euclidean_replace": dict(distance="euclidean", replace=True),
    "exact": dict(method="exact", covariates=["race", "married", "nodegree"]),
    "cem": dict(method="cem"),
    "subclass": dict(method="subclass"),
}


@pytest.mark.reference
@pytest.mark.parametrize("spec", sorted(SPECS_45))
def test_methods_match_matchit_451(spec, lalonde, notie):
    kw = dict(SPECS_45[spec])
    covs = kw.pop("covariates", COVS)
    data = notie if spec.startswith("nn_") else lalonde
    res = _quiet(data, treatment="treat", covariates=covs, **kw)
    ref = pl.read_csv(REF45 / f"{spec}_weights.csv", infer_schema_length=0)
    np.testing.assert_allclose(
        res.weights, ref["weights"].cast(pl.Float64).to_numpy(), rtol=1e-10, atol=1e-12
    )
    if res.subclass is not None and ref["subclass"].null_count() < ref.height:
        # same partition into subclasses (labels may differ)
        ours = res.subclass
        theirs = ref["subclass"].to_list()
        pairs = {(o, t) for o, t in zip(ours.tolist(), theirs, strict=True) if o >= 0}
        assert len(pairs) == len({o for o, _ in pairs}) == len({t for _, t in pairs})
    _compare_balance(res, REF45 / f"{spec}_balance.csv", "matched", tol=1e-8)
    att = pl.read_csv(REF45 / "att.csv").filter(pl.col("spec") == spec).row(0, named=True)
    est = res.att("re78", covariates=COVS)
    assert est.estimate == pytest.approx(att["att"], rel=1e-9)
    assert est.se == pytest.approx(att["se"], rel=1e-8)
    assert est.n == att["n"]


@pytest.mark.reference
def test_probit_scores_match_matchit(notie):
    res = _quiet(notie, treatment="treat", covariates=COVS, distance="probit")
    ref = pl.read_csv(REF45 / "nn_probit_weights.csv", infer_schema_length=0)
    np.testing.assert_allclose(res.distance, ref["distance"].cast(pl.Float64), atol=1e-11)


# --------------------------------------------------------------------------------------------
# Greedy matcher rules, checked against brute force on data without ties
# --------------------------------------------------------------------------------------------


def _toy(n1=60, n0=240, seed=0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    x = np.r_[rng.normal(0.6, 1, n1), rng.normal(0, 1, n0)]
    return pl.DataFrame(
        {
            "treat": np.r_[np.ones(n1, int), np.zeros(n0, int)],
            "x": x,
            "z": rng.normal(size=n1 + n0),
            "grp": rng.choice(["a", "b"], n1 + n0),
        }
    )


def _brute_greedy(d, treat, order, caliper=None):
    available = set(np.flatnonzero(treat == 0).tolist())
    out = {}
    for i in order:
        cands = sorted(available, key=lambda j: (abs(d[j] - d[i]), d[j]))
        if not cands or (caliper is not None and abs(d[cands[0]] - d[i]) > caliper):
            out[i] = -1
            continue
        out[i] = cands[0]
        available.remove(cands[0])
    return out


@pytest.mark.parametrize("order", ["largest", "smallest", "data"])
@pytest.mark.parametrize("caliper", [None, 0.05])
def test_greedy_nearest_equals_brute_force(order, caliper):
    df = _toy()
    res = M.match(df, treatment="treat", covariates=["x", "z"], order=order, caliper=caliper)
    d, t = res.distance, res.treat
    t_idx = np.flatnonzero(t == 1)
    key = {"largest": -d[t_idx], "smallest": d[t_idx], "data": np.arange(t_idx.size)}[order]
    seq = t_idx[np.argsort(key, kind="stable")]
    cal = None if caliper is None else caliper * np.std(d, ddof=1)
    expected = _brute_greedy(d, t, seq, cal)
    ours = dict(zip(res.t_pos.tolist(), res.match_matrix[:, 0].tolist(), strict=True))
    assert ours == expected
    if caliper is not None:
        ok = res.match_matrix[:, 0] >= 0
        assert np.all(np.abs(d[res.t_pos[ok]] - d[res.match_matrix[ok, 0]]) <= cal)


def test_ties_prefer_left_neighbour():
    # treated at 0.5; controls at 0.4 and 0.6 are equally close: MatchIt takes the left one
    x = np.array([0.5, 0.4, 0.6, 0.1])
    mm = M._nn_vector(x, np.array([True, False, False, False]), [0], 1, False, None)
    assert mm[0, 0] == 1
    # equal distances on the same side: the one first in the data wins (stable sort)
    x = np.array([0.5, 0.3, 0.3])
    mm = M._nn_vector(x, np.array([True, False, False]), [0], 1, False, None)
    assert mm[0, 0] == 2  # sorted: 0.3(1), 0.3(2), 0.5 -> nearest on the left is position 2


def test_replacement_ratio_takes_k_nearest():
    df = _toy(seed=1)
    res = M.match(df, treatment="treat", covariates=["x", "z"], replace=True, ratio=3)
    d, t = res.distance, res.treat
    c = np.flatnonzero(t == 0)
    for row, i in enumerate(res.t_pos):
        nearest = set(c[np.argsort(np.abs(d[c] - d[i]))[:3]].tolist())
        assert set(res.match_matrix[row].tolist()) == nearest
    # MatchIt weights: each treated spreads 1 over its 3 controls, rescaled so the control
    # weights sum to the number of distinct controls used
    used = np.unique(res.match_matrix)
    expected = np.zeros(t.size)
    np.add.at(expected, res.match_matrix.ravel(), 1 / 3)
    expected *= used.size / expected.sum()
    np.testing.assert_allclose(res.weights[t == 0], expected[t == 0])
    assert res.subclass is None and "subclass" not in res.matched_data().columns


def test_ratio_two_without_replacement_uses_each_control_once():
    df = _toy(seed=2)
    res = M.match(df, treatment="treat", covariates=["x", "z"], ratio=2)
    used = res.match_matrix[res.match_matrix >= 0]
    assert used.size == 120 and np.unique(used).size == used.size
    md = res.matched_data()
    assert md.group_by("subclass").len()["len"].unique().to_list() == [3]


def test_exact_argument_matches_within_strata():
    df = _toy(seed=3)
    res = M.match(df, treatment="treat", covariates=["x", "z"], exact="grp")
    g = df["grp"].to_numpy()
    ok = res.match_matrix[:, 0] >= 0
    assert ok.all()
    assert np.all(g[res.t_pos] == g[res.match_matrix[:, 0]])


def test_mahalanobis_with_replacement_scales_to_large_data_without_dense_matrix():
    rng = np.random.default_rng(4)
    n1, n0 = 2_000, 20_000
    X = rng.normal(size=(n1 + n0, 4))
    df = pl.DataFrame(X, schema=["a", "b", "c", "d"]).with_columns(
        treat=pl.Series(np.r_[np.ones(n1, int), np.zeros(n0, int)])
    )
    res = M.match(
        df, treatment="treat", covariates=["a", "b", "c", "d"], distance="euclidean", replace=True
    )
    # spot-check a few against brute force
    c = np.flatnonzero(res.treat == 0)
    for row in (0, 7, 1999):
        i = res.t_pos[row]
        j = c[np.argmin(((X[c] - X[i]) ** 2).sum(axis=1))]
        assert res.match_matrix[row, 0] == j


def _lattice(n1=40, n0=160, seed=6) -> pl.DataFrame:
    """Integer covariates with few values: many duplicated rows and exactly tied distances."""
    rng = np.random.default_rng(seed)
    n = n1 + n0
    return pl.DataFrame(
        {
            "treat": np.r_[np.ones(n1, int), np.zeros(n0, int)],
            "a": rng.integers(0, 3, n).astype(float),
            "b": rng.integers(0, 2, n).astype(float),
            "c": rng.choice(["x", "y"], n),
        }
    )


def _brute_covariate_nn(Z, treat, ratio, replace):
    """MatchIt 4.7's rule by brute force: nearest control; among equally distant controls the
    one its outward search (sorted on the first transformed covariate, left first, then
    alternating) visits last; without replacement in rounds (every treated unit's first match,
    then every second match)."""
    c = np.flatnonzero(treat == 0)
    pos = np.empty(treat.size, int)
    pos[np.argsort(Z[:, 0], kind="stable")] = np.arange(treat.size)
    free = np.ones(c.size, bool)
    t_idx = np.flatnonzero(treat == 1)
    out = [[] for _ in t_idx]
    for _ in range(1 if replace else ratio):
        for row, i in enumerate(t_idx):
            d = np.sqrt(((Z[c] - Z[i]) ** 2).sum(axis=1))
            visit = 2 * np.abs(pos[c] - pos[i]) + (pos[c] > pos[i])
            cand = np.flatnonzero(free)
            o = cand[np.lexsort((-visit[cand], np.round(d[cand], 8)))][: ratio if replace else 1]
            if not replace:
                free[o] = False
            out[row] += c[o].tolist()
    return out


@pytest.mark.parametrize("distance", ["euclidean", "mahalanobis"])
@pytest.mark.parametrize(("ratio", "replace"), [(1, True), (3, True), (1, False), (2, False)])
def test_covariate_distance_ties_go_to_the_control_visited_last(distance, ratio, replace):
    """Integer covariates: many exactly tied distances, resolved as MatchIt 4.7 does."""
    df = _lattice()
    res = M.match(
        df,
        treatment="treat",
        covariates=["a", "b", "c"],
        distance=distance,
        ratio=ratio,
        replace=replace,
    )
    t = res.treat
    Z = M._distance_covariates(res.design)
    if distance == "mahalanobis":
        Z = M._mahalanobis_transform(Z, t)
    expected = _brute_covariate_nn(Z, t, ratio, replace)
    ours = [r[r >= 0].tolist() for r in res.match_matrix]
    assert ours == expected


# --------------------------------------------------------------------------------------------
# MatchIt 4.7.2 (built from source) on lalonde with its ties: covariate distances
# --------------------------------------------------------------------------------------------

REF47 = FIX / "matchit_4.7.2_covdist"
COVS3 = ["age", "educ", "race", "mar", "deg", "re74", "re75"]
SPECS_47 = {
    "mahalanobis_replace": dict(distance="mahalanobis", replace=True),
    "mahalanobis": dict(distance="mahalanobis"),
    "mahalanobis_ratio2_replace": dict(distance="mahalanobis", replace=True, ratio=2),
    "mahalanobis_ratio2": dict(distance="mahalanobis", ratio=2),
    "euclidean_replace": dict(distance="euclidean", replace=True),
    "euclidean": dict(distance="euclidean"),
    "mahalanobis_exact_replace": dict(distance="mahalanobis", replace=True, exact="married"),
    "mahalanobis_factors_replace": dict(distance="mahalanobis", replace=True, covariates=COVS3),
    "mahalanobis_factors": dict(distance="mahalanobis", covariates=COVS3),
}
# NSW89 (age 21) is exactly as far from PSID383 (age 19) as from PSID407 (age 23), all else
# equal: R breaks that tie by floating-point rounding, which no other program reproduces bit
# for bit; certkit treats it as a tie and applies MatchIt's visiting order. Every spec that
# meets this tie differs from R from that unit on; the others reproduce R exactly.
FLOAT_TIE_SPECS = {
    "mahalanobis_replace",
    "mahalanobis",
    "mahalanobis_ratio2",
    "mahalanobis_factors_replace",
    "mahalanobis_factors",
}


@pytest.fixture(scope="module")
def lalonde3(lalonde) -> pl.DataFrame:
    return lalonde.with_columns(
        mar=pl.when(pl.col("married") == 1).then(pl.lit("yes")).otherwise(pl.lit("no")),
        deg=pl.when(pl.col("nodegree") == 1).then(pl.lit("none")).otherwise(pl.lit("degree")),
    )


@pytest.mark.reference
@pytest.mark.parametrize("which", ["default", "factors"])
def test_mahalanobis_transform_matches_matchit_472(which, lalonde3):
    covs = COVS if which == "default" else COVS3
    res = _quiet(lalonde3, treatment="treat", covariates=covs, distance="mahalanobis")
    Z = M._mahalanobis_transform(M._distance_covariates(res.design), res.treat)
    ref = pl.read_csv(REF47 / f"mahcovs_{which}.csv").drop("id").to_numpy()
    assert Z.shape == ref.shape
    # the first column orders MatchIt's search; distances between all rows are what it matches
    # on (a two-level factor's two columns are mirror images, so which of them LAPACK pivots on
    # first is decided by rounding and single columns may differ in sign, not the distances)
    np.testing.assert_allclose(Z[:, 0], ref[:, 0], atol=1e-10)
    t, c = res.t_pos, np.flatnonzero(res.treat == 0)
    dz = ((Z[t][:, None, :] - Z[c][None, :, :]) ** 2).sum(axis=-1)
    dr = ((ref[t][:, None, :] - ref[c][None, :, :]) ** 2).sum(axis=-1)
    np.testing.assert_allclose(dz, dr, rtol=1e-9, atol=1e-12)
    if which == "factors":
        # three categoricals: rank deficient three times; LAPACK's pivoted Cholesky stops after
        # 8 of 11 rows and the rest are entries of the inverse itself, so MatchIt's distance is
        # not the textbook Mahalanobis distance. certkit follows MatchIt.
        X = M._distance_covariates(res.design)
        Xs = (X - X.mean(0)) / X.std(0, ddof=1)
        textbook = M._mahalanobis_transform(X[:, [0, 1, 2, 3, 5, 7, 9, 10]], res.treat)
        dt = ((textbook[t][:, None, :] - textbook[c][None, :, :]) ** 2).sum(axis=-1)
        assert Xs.shape[1] == 11 and np.abs(dt - dz).max() > 0.1


@pytest.mark.reference
@pytest.mark.parametrize("spec", sorted(SPECS_47))
def test_covariate_distances_match_matchit_472(spec, lalonde3):
    kw = dict(SPECS_47[spec])
    covs = kw.pop("covariates", COVS)
    res = _quiet(lalonde3, treatment="treat", covariates=covs, **kw)
    ids = np.array(lalonde3["id"].to_list())
    mmR = pl.read_csv(REF47 / f"{spec}_match_matrix.csv")
    theirs = mmR.select(mmR.columns[1:]).to_numpy().astype(str)
    mm = res.match_matrix
    ours = np.where(mm >= 0, ids[np.clip(mm, 0, None)], "NA")
    assert list(mmR[mmR.columns[0]]) == list(ids[res.t_pos])
    Z = M._distance_covariates(res.design)
    if kw["distance"] == "mahalanobis":
        Z = M._mahalanobis_transform(Z, res.treat)
    row = {v: i for i, v in enumerate(ids)}

    def dist(t, c):
        return float(np.sqrt(((Z[row[c]] - Z[t]) ** 2).sum()))

    differ = np.flatnonzero(~(theirs == ours).all(axis=1))
    att = pl.read_csv(REF47 / "att.csv").filter(pl.col("spec") == spec).row(0, named=True)
    if spec not in FLOAT_TIE_SPECS:
        for r in differ:  # only the order of equally distant controls may differ
            assert sorted(theirs[r]) == sorted(ours[r])
        w = pl.read_csv(REF47 / f"{spec}_weights.csv", infer_schema_length=None)["weights"]
        np.testing.assert_allclose(res.weights, w.to_numpy(), rtol=1e-12, atol=1e-12)
        est = res.att("re78")
        assert est.estimate == pytest.approx(att["att"], rel=1e-9)
        assert est.se == pytest.approx(att["se"], rel=1e-8)
        assert est.n == att["n"]
        return
    # the disagreements start at the floating-point tie (same distance, other control) ...
    first = int(np.flatnonzero(ids[res.t_pos] == "NSW89")[0])
    assert first in differ
    t = res.t_pos[first]
    assert dist(t, theirs[first][0]) == pytest.approx(dist(t, ours[first][0]), rel=1e-12)
    assert theirs[first][0] != ours[first][0]
    if kw.get("replace"):
        # ... and with replacement units do not interact: it is the only one
        assert differ.tolist() == [first]
    else:
        # without replacement later units can inherit it (a control taken by another)
        assert differ.size <= 9
    assert (res.weights > 0).sum() == pytest.approx(att["n"], abs=3)


# --------------------------------------------------------------------------------------------
# Results, plots, inputs
# --------------------------------------------------------------------------------------------


def test_result_rendering_and_love_plot(nn):
    text = nn.summary()
    assert "nearest, 1:1" in text and "raceblack" in text
    assert "<table" in nn._repr_html_()
    spec = nn.love_plot().to_dict()
    assert "Covariate balance" in str(spec["title"])
    assert any(len(v) == 20 for v in spec["datasets"].values())  # 10 terms x before/after
    assert nn.balance().height == 20  # to_polars() is the effect now (issue 11)


def test_collinear_covariate_gives_the_same_scores_as_without_it(lalonde):
    """An exactly collinear covariate (R's glm drops it as aliased) leaves the fitted scores,
    and so the matches, unchanged instead of breaking the IRLS solve."""
    base = _quiet(lalonde, treatment="treat", covariates=COVS)
    dup = lalonde.with_columns((2 * pl.col("re74") + pl.col("re75")).alias("re_sum"))
    res = _quiet(dup, treatment="treat", covariates=[*COVS, "re_sum"])
    np.testing.assert_allclose(res.distance, base.distance, atol=1e-10)
    assert np.array_equal(res.match_matrix, base.match_matrix)


def test_subclass_pair_distance_equals_all_pairs_brute_force():
    """The standardized pair distance after CEM / subclassification is the mean |x_t - x_c|
    over every treated-control pair within a subclass (vectorised; checked pair by pair)."""
    rng = np.random.default_rng(7)
    n = 300
    treat = (rng.random(n) < 0.3).astype(np.int8)
    sub = rng.integers(-1, 12, n)  # -1 = not in a subclass
    x = rng.normal(size=n) * 1e4
    b = (rng.random(n) < 0.5).astype(float)
    for v in (x, b, np.where(sub % 2 == 0, 1.0, 0.0)):
        total = count = 0
        for s in range(12):
            a = v[(sub == s) & (treat == 1)]
            c = v[(sub == s) & (treat == 0)]
            total += np.abs(a[:, None] - c[None, :]).sum()
            count += a.size * c.size
        ours = M._pair_distance(v, treat, sub, None, None)
        assert ours == pytest.approx(total / count, rel=1e-12, abs=0)


def test_input_not_modified(lalonde):
    before = lalonde.clone()
    _quiet(lalonde, treatment="treat", covariates=COVS, method="cem")
    assert lalonde.equals(before)


def test_errors_name_the_column():
    df = _toy()
    with pytest.raises(CertkitError, match="covariate column 'nope'"):
        M.match(df, treatment="treat", covariates=["nope"])
    with pytest.raises(CertkitError, match=r"data\.x: 1 missing"):
        M.match(
            df.with_columns(
                pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col("x")).alias("x")
            ),
            treatment="treat",
            covariates=["x"],
        )
    with pytest.raises(CertkitError, match=r"only 0/1 values; row \d+ \(counting from 0\) has 2 "):
        M.match(df.with_columns(pl.col("treat") * 2), treatment="treat", covariates=["x"])
    cohort = df.with_columns((pl.col("treat") * 36).cast(pl.Int32))  # trial F: np.int32(36)
    with pytest.raises(CertkitError, match=r"has 36 \(a cohort or period column\? .*\(treat > 0\)"):
        M.match(cohort, treatment="treat", covariates=["x"])
    with pytest.raises(CertkitError, match=r"both certified \(1\) and comparison \(0\)"):
        M.match(df.filter(pl.col("treat") == 1), treatment="treat", covariates=["x"])
    with pytest.raises(CertkitError, match="method must be"):
        M.match(df, treatment="treat", covariates=["x"], method="optimal")
    with pytest.raises(CertkitError, match="caliper applies to the propensity"):
        M.match(df, treatment="treat", covariates=["x"], distance="mahalanobis", caliper=0.2)


def test_warnings_too_few_controls_overlap_caliper_and_separation():
    df = _toy(n1=100, n0=50)
    with pytest.warns(CertkitWarning, match="too few controls: 50 controls for 100 certified"):
        M.match(df, treatment="treat", covariates=["x"])
    sep = pl.DataFrame({"treat": [1] * 20 + [0] * 40, "x": list(range(40, 60)) + list(range(40))})
    sep = sep.with_columns(pl.col("x").cast(pl.Float64))
    with pytest.warns(CertkitWarning, match="separation"):
        M.match(sep, treatment="treat", covariates=["x"], ratio=1)
    far = _toy(n1=50, n0=200, seed=5).with_columns(
        pl.when(pl.col("treat") == 1).then(pl.col("x") + 3).otherwise(pl.col("x")).alias("x")
    )
    with pytest.warns(CertkitWarning) as rec:
        res = M.match(far, treatment="treat", covariates=["x"], caliper=0.01)
    msgs = " ".join(str(w.message) for w in rec)
    assert "limited overlap" in msgs and "outside the controls' range" in msgs
    assert "the caliper dropped" in msgs and "would keep 90%" in msgs
    assert any("caliper dropped" in w for w in res.warnings)


# --------------------------------------------------------------------------------------------
# Sensitivity
# --------------------------------------------------------------------------------------------


def test_rosenbaum_gamma_one_equals_wilcoxon_normal_approximation():
    rng = np.random.default_rng(0)
    d = np.round(rng.normal(0.3, 1, 80), 1)  # rounding creates ties and zeros
    tab = M.rosenbaum_bounds(d, gammas=[1.0, 2.0])
    ref = stats.wilcoxon(
        d, alternative="greater", correction=False, method="approx", zero_method="wilcox"
    )
    assert tab["p_upper"][0] == pytest.approx(ref.pvalue, rel=1e-10)
    assert tab["p_upper"][1] > tab["p_upper"][0]


def test_rosenbaum_hand_computed_case():
    # 10 positive differences 1..10: T+ = 55; at gamma = 3, p+ = 3/4,
    # E = 0.75 * 55 = 41.25, Var = 0.75 * 0.25 * 385 = 72.1875
    tab = M.rosenbaum_bounds(np.arange(1, 11), gammas=[3.0])
    z = (55 - 41.25) / math.sqrt(72.1875)
    assert tab["p_upper"][0] == pytest.approx(stats.norm.sf(z), rel=1e-12)
    crit = tab["critical_gamma"][0]
    p = crit / (1 + crit)
    assert stats.norm.sf((55 - p * 55) / math.sqrt(p * (1 - p) * 385)) == pytest.approx(
        0.05, abs=1e-6
    )


def test_e_value_published_example():
    # VanderWeele & Ding (2017, Ann Intern Med): RR = 3.9 -> E-value 7.2; lower limit 1.8 -> 3.0
    point, lo = M.e_value(3.9, ci=(1.8, 8.7))
    assert round(point, 1) == 7.3 - 0.1 or round(point, 2) == 7.26
    assert round(lo, 1) == 3.0
    assert M.e_value(0.5)[0] == pytest.approx(2 + math.sqrt(2))
    assert M.e_value(1.0, ci=(0.8, 1.3))[1] == 1.0


def test_match_sensitivity_for_pairs(nn):
    tab = nn.sensitivity("re78", gammas=[1.0, 1.5]).to_polars()
    assert tab["n_pairs"][0] <= 185 and tab["p_upper"][0] < tab["p_upper"][1]


def test_balance_with_a_covariate_constant_among_controls():
    """A covariate with no variance among the controls gives an infinite variance ratio (as it
    is), not a ZeroDivisionError from deep inside the balance table."""
    rng = np.random.default_rng(0)
    t = (np.arange(200) < 40).astype(int)
    df = pl.DataFrame(
        {
            "treat": t,
            "x": rng.normal(size=200) + 0.5 * t,
            "z": np.where(t == 1, rng.normal(size=200), 1.0),
        }
    )
    bal = M.match(df, treatment="treat", covariates=["x", "z"]).balance()
    z = bal.filter(pl.col("term") == "z")
    assert z.height == 2
    assert all(math.isinf(v) for v in z["var_ratio"])
    assert all(math.isfinite(v) for v in bal.filter(pl.col("term") == "x")["var_ratio"])


def test_smd_denominator_survives_a_variance_that_rounds_below_zero():
    """Twenty certified engineers who all have a 0/1 covariate at 1: the weighted mean rounds
    to 1.0000000000000002, so p(1 - p) is -2.2e-16. The SD must be 0 (then the pooled SD, as
    MatchIt), not a ``math domain error`` (seen on ``defects_per_pr`` in a small organisation)."""
    from certkit.matching.balance import smd_denominator, wvar

    ones = np.ones(20)
    assert np.sum(ones / 20) > 1  # the rounding this test is about
    assert wvar(ones, ones, True) == 0.0
    treat = np.r_[np.ones(20), np.zeros(40)].astype(int)
    x = np.r_[ones, np.tile([0.0, 1.0], 20)]
    pooled = math.sqrt(np.mean([0.0, 0.5 * 0.5]))
    assert smd_denominator(x, treat) == pytest.approx(pooled, rel=1e-12)
    rng = np.random.default_rng(1)
    df = pl.DataFrame({"treat": treat, "flag": x, "z": rng.normal(size=60) + 0.3 * treat})
    bal = _quiet(df, treatment="treat", covariates=["flag", "z"]).balance()
    flag = bal.filter((pl.col("term") == "flag") & (pl.col("sample") == "all"))
    assert flag["smd"][0] == pytest.approx(0.5 / pooled, rel=1e-12)


def test_subclass_is_an_alias_of_subclasses(lalonde):
    a = _quiet(lalonde, treatment="treat", covariates=COVS, method="subclass", subclass=4)
    b = _quiet(lalonde, treatment="treat", covariates=COVS, method="subclass", subclasses=4)
    assert np.array_equal(a.subclass, b.subclass) and int(a.subclass.max()) == 3
    with pytest.raises(CertkitError, match="disagree"):
        M.match(lalonde, treatment="treat", covariates=COVS, subclass=4, subclasses=5)


def test_balance_alert_names_the_terms_out_loud(lalonde, nn):
    bal = nn.balance().filter((pl.col("sample") == "matched") & (pl.col("term") != "distance"))
    over = bal.filter(pl.col("smd").abs() > 0.1)["term"].to_list()
    assert over  # lalonde 1:1 on the propensity score leaves some imbalance
    assert len(nn.alerts) == 1 and nn.alerts[0] in nn.warnings
    assert all(t in nn.alerts[0] for t in over[:6])
    assert f"{len(over)} term(s) over 0.1" in nn.alerts[0]
    assert "balance after matching misses" in nn.summary()
    with_outcome = _quiet(lalonde, treatment="treat", covariates=COVS, outcome="re78")
    assert "Warning: Balance after matching misses" in with_outcome.effect_summary().text
    # a looser threshold, and a randomized sample, stay quiet
    loose = _quiet(lalonde, treatment="treat", covariates=COVS, balance_threshold=5.0)
    assert loose.alerts == [] and not any("balance after" in w for w in loose.warnings)
    rng = np.random.default_rng(3)
    df = pl.DataFrame({"t": rng.integers(0, 2, 2000), "x": rng.normal(size=2000)})
    rand = _quiet(df, treatment="t", covariates=["x"], replace=True)
    assert rand.alerts == [] and "Warning:" not in str(rand.summary())


def test_the_balance_warning_names_the_pre_period_mean_once():
    """gnome-shell's matched page said the same balance miss twice, once as `_pre_mean (0.10)`
    (rounded below the 0.1 rule it broke) and once as `merged_prs (pre mean)`."""
    import certkit as ck

    panel = ck.build_panel(ck.simulate(80, 24, seed=3), "month")
    shifted = panel.with_columns(  # certified engineers far busier before: no peer is close
        merged_prs=pl.when(pl.col("cohort") > 0)
        .then(pl.col("merged_prs") + 30)
        .otherwise(pl.col("merged_prs"))
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = M.matched_did(
            shifted, outcome="merged_prs", covariates=["tenure_months"], caliper=None,
            pre_periods=2, post_periods=2,
        )  # fmt: skip
    said = [str(w.message) for w in caught if "balance after matching" in str(w.message)]
    assert len(said) == 1, said
    shown = re.search(r"merged_prs \(pre mean\) \((0\.\d{3})\)", said[0])
    assert shown and float(shown[1]) > 0.1, said  # three digits: not "0.10" for 0.104
    assert not any("_pre_mean" in w for w in res.warnings)


def test_no_match_among_unknown_authors_says_so_and_not_exact_terms_never_given():
    """trial N: 288 of 314 engineers were authors outside the roster (role, level 'unknown');
    the matched DiD said "loosen the caliper or the exact terms" though none were given."""
    rng = np.random.default_rng(5)
    n_t, n_c = 12, 120
    df = pl.DataFrame(
        {
            "treat": [1] * n_t + [0] * n_c,
            "level": ["senior"] * n_t + ["unknown"] * (n_c - 4) + ["senior"] * 4,
            "x": np.concatenate([rng.normal(3, 0.1, n_t), rng.normal(-3, 0.1, n_c)]),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CertkitError) as info:
            M.match(df, treatment="treat", covariates=["level", "x"], caliper=0.01)
    text = str(info.value)
    assert "loosen the caliper (" in text and "exact terms" not in text
    assert "116 of 120 candidate peers are authors outside the roster" in text
    assert "--roster-only" in text


def test_too_few_matched_sets_among_unknown_authors_say_so_counting_people():
    """trial O: with 1 of 11 certified engineers matched, the advice was "a wider caliper or
    fewer covariates"; most peers were authors outside the roster (a row per peer and
    certification month: counted as people)."""
    from certkit.matching.rolling import _too_few_sets

    peers = [f"p{i}" for i in range(30)]
    stack = pl.DataFrame(
        {
            "engineer_id": ["c1", "c2"] + peers * 2,  # each peer in two risk sets
            "_treat": [1, 1] + [0] * 60,
            "level": ["senior", "senior"] + (["unknown"] * 27 + ["senior"] * 3) * 2,
        }
    )
    sets = np.array([[5], [-1]])
    why = _too_few_sets(stack, ["level"], sets, eligible=2, with_post=1, caliper=0.2)
    assert "27 of 30 candidate peers are authors outside the roster" in why
    assert "--roster-only" in why and "wider caliper" not in why
