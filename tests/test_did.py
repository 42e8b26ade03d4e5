"""certkit.did: API, clear errors, assumption warnings, inference options, charts."""

from __future__ import annotations

import warnings
from pathlib import Path

import altair as alt
import numpy as np
import polars as pl
import pytest

from certkit import did
from certkit.errors import CertkitError, CertkitWarning

MPDTA = pl.read_csv(Path(__file__).parent / "fixtures" / "did" / "mpdta.csv")
COLS = dict(outcome="lemp", unit="countyreal", time="year", group="first.treat")


def small(n=60, T=5, seed=0, cohorts=(3, 4), never=True):
    rng = np.random.default_rng(seed)
    choices = ((0,) if never else ()) + tuple(cohorts)
    G = rng.choice(choices, n)
    t = np.arange(1, T + 1)
    y = rng.normal(size=(n, T)) + 0.2 * t + np.where((G[:, None] > 0) & (t >= G[:, None]), 1, 0)
    return pl.DataFrame(
        {
            "id": np.repeat(np.arange(n), T),
            "t": np.tile(t, n),
            "g": np.repeat(G, T),
            "y": y.ravel(),
            "x": np.repeat(rng.normal(size=n), T),
        }
    )


SCOLS = dict(outcome="y", unit="id", time="t", group="g")


# ---- clear errors ---------------------------------------------------------------------------


def test_treated_units_without_an_outcome_are_named_as_the_cause():
    """httpx (trial F): cycle time missing for the ten certified engineers (squash merges)
    gave "no treated units: every value of 'cohort' is 0", blaming the certifications."""
    df = small().with_columns(pl.when(pl.col("g") > 0).then(None).otherwise(pl.col("y")).alias("y"))
    n = df.filter(pl.col("g") > 0)["id"].n_unique()
    for estimate in (did.att_gt, did.sun_abraham, did.imputation):
        with pytest.raises(
            CertkitError, match=rf"no treated unit has a value of 'y': the {n} unit"
        ):
            estimate(df, **SCOLS)
    with pytest.raises(CertkitError, match="every value of 'g' is 0"):
        did.att_gt(small().with_columns(pl.lit(0).alias("g")), **SCOLS)


def test_a_mostly_missing_cycle_time_says_why_when_no_treated_unit_is_left():
    """trial Y: docs/did.md's example (``cycle_time_log_mean``) on a git import of squash-
    merged PRs ended in "no treated units left ..." naming neither cause nor remedy."""
    df = small(T=6).rename({"y": "cycle_time_log_mean"})
    # treated units' cycle time only in their own treatment period: nothing before it
    kept = (pl.col("g") == 0) | (pl.col("t") == pl.col("g"))
    df = df.with_columns(
        pl.when(kept).then(pl.col("cycle_time_log_mean")).alias("cycle_time_log_mean")
    )
    cols = {**SCOLS, "outcome": "cycle_time_log_mean"}
    with pytest.raises(
        CertkitError,
        match=r"no treated units left.*missing in \d+% of their "
        r"periods \(for cycle and pickup times: squash-merged PRs.*gh export",
    ):
        did.att_gt(df, **cols)
    # another outcome, the same gap: no word on cycle times
    with pytest.raises(CertkitError, match="no treated units left") as err:
        did.att_gt(df.rename({"cycle_time_log_mean": "y"}), **SCOLS)
    assert "squash" not in str(err.value)


def test_no_never_treated_units_with_never_control():
    df = small(never=False)
    with pytest.raises(CertkitError, match="no never-treated units.*not_yet"):
        did.att_gt(df, **SCOLS, control="never")
    # not-yet-treated controls work (late cohort serves as control for the early one)
    res = did.att_gt(df, **SCOLS, control="not_yet")
    assert len(res.att) > 0


def test_units_treated_in_the_first_period_are_dropped_as_r_did_does():
    """R's did (pre_process_did) drops them with "Dropped N units that were already treated
    in the first period"; the estimates are those without them."""
    df = small().with_columns(pl.when(pl.col("g") == 3).then(1).otherwise(pl.col("g")).alias("g"))
    n_early = df.filter(pl.col("g") == 1)["id"].n_unique()
    with pytest.warns(CertkitWarning, match=rf"dropped {n_early} unit\(s\) already treated"):
        res = did.att_gt(df, **SCOLS)
    ref = did.att_gt(df.filter(pl.col("g") != 1), **SCOLS)
    np.testing.assert_allclose(res.att, ref.att, atol=1e-12)
    np.testing.assert_allclose(res.se, ref.se, atol=1e-12)
    assert any("already treated in the first period" in n for n in res.warnings)
    with pytest.raises(CertkitError, match="every unit is"):
        did.att_gt(df.filter(pl.col("g") == 1), **SCOLS)


def test_single_unit_cells_are_kept_by_default_and_dropped_on_request():
    df = small(n=60)
    one = df.filter(pl.col("g") == 4)["id"].unique()[0]
    df = df.with_columns(
        pl.when(pl.col("id") == one).then(5).otherwise(pl.col("g")).alias("g")
    )  # cohort 5 has a single unit
    # default: kept, as R did does, with a warning that says what that means for the SEs
    with pytest.warns(CertkitWarning, match=r"cohort\(s\) 5 rest on a single treated unit"):
        kept = did.att_gt(df, **SCOLS)
    assert 5 in kept.group.tolist()
    assert np.all(kept.n_treated[kept.group == 5] == 1)
    assert any("very small cohort" in w for w in kept.warnings)
    assert "min_cell_units" not in str(kept._header())  # the header facts, not the notes
    # explicit option: dropped, and the result says so in its header and warnings
    with pytest.warns(CertkitWarning, match=r"too few units.*ATT\(g=5, t=2\): 1 treated"):
        res = did.att_gt(df, **SCOLS, min_cell_units=2)
    assert 5 not in res.group.tolist()
    head = str(res._header())
    assert "min_cell_units=2; R did keeps them" in head and "dropped" in head
    assert "min_cell_units=2; R did keeps them" in res.summary()
    assert res.aggregate("simple").overall_att != kept.aggregate("simple").overall_att
    for bad in (0, 1.5, True):
        with pytest.raises(CertkitError, match="min_cell_units"):
            did.att_gt(df, **SCOLS, min_cell_units=bad)


def test_outcome_all_null():
    df = small().with_columns(pl.lit(None, dtype=pl.Float64).alias("y"))
    with pytest.raises(CertkitError, match="entirely null"):
        did.att_gt(df, **SCOLS)
    with pytest.raises(CertkitError, match="entirely null"):
        did.twfe(df, **SCOLS)


def test_outcome_without_variation_is_not_estimated():
    """An outcome with one value everywhere (incidents of a git-only import: 0) has no
    effect to estimate; every estimator said an effect of 0 with no uncertainty, and the
    robust-estimator check on pallets/click read "estimates range from 0 to 0, a spread of 0,
    more than the typical 95% margin of error (n/a)"."""
    df = small().with_columns(pl.lit(0, dtype=pl.Int64).alias("y"))
    for estimate in (did.att_gt, did.twfe, did.sun_abraham, did.imputation):
        with pytest.raises(CertkitError, match=r"'y' is 0 in every row: with no variation"):
            estimate(df, **SCOLS)
    varied = df.with_columns(pl.when(pl.col("id") == 1).then(1).otherwise(0).alias("y"))
    assert np.isfinite(did.att_gt(varied, **SCOLS).aggregate("simple").overall_att)


def test_covariate_without_variation():
    df = small().with_columns(pl.lit(3.0).alias("x"))
    with pytest.raises(CertkitError, match="'x' has no variation"):
        did.att_gt(df, **SCOLS, covariates=["x"])


def test_perfect_separation_in_propensity_model():
    df = small(n=120).with_columns((pl.col("g") > 0).cast(pl.Float64).alias("sep"))
    df = df.with_columns(pl.col("sep") + pl.col("x") * 0.01)
    with pytest.raises(CertkitError, match="perfect separation"):
        did.att_gt(df, **SCOLS, covariates=["sep"])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (dict(outcome="nope"), "no column"),
        (dict(control="sometimes"), "control must be"),
        (dict(method="ols"), "method must be"),
        (dict(base_period="first"), "base_period must be"),
        (dict(unbalanced="drop"), "unbalanced must be"),
    ],
)
def test_bad_arguments(change, match):
    with pytest.raises(CertkitError, match=match):
        did.att_gt(MPDTA, **(COLS | change))


def test_bad_panels():
    dup = pl.concat([MPDTA, MPDTA.head(1)])
    with pytest.raises(CertkitError, match="duplicated"):
        did.att_gt(dup, **COLS)
    varying = MPDTA.with_columns(
        pl.when((pl.col("countyreal") == 8001) & (pl.col("year") == 2005))
        .then(2006)
        .otherwise(pl.col("first.treat"))
        .alias("first.treat")
    )
    with pytest.raises(CertkitError, match="constant within each unit.*8001"):
        did.att_gt(varying, **COLS)
    with pytest.raises(CertkitError, match="must be numeric"):
        did.att_gt(MPDTA.with_columns(pl.col("year").cast(pl.String)), **COLS)
    with pytest.raises(CertkitError, match="polars DataFrame"):
        did.att_gt(MPDTA.to_pandas(), **COLS)
    with pytest.raises(CertkitError, match="no treated units"):
        did.att_gt(MPDTA.with_columns(pl.lit(0).alias("first.treat")), **COLS)


def test_input_frame_is_not_modified():
    before = MPDTA.clone()
    did.att_gt(MPDTA, **COLS, covariates=["lpop"])
    did.twfe(MPDTA, **COLS)
    assert MPDTA.equals(before)


# ---- assumption warnings --------------------------------------------------------------------


def test_overlap_warning():
    rng = np.random.default_rng(4)
    n, T = 400, 4
    x = rng.normal(size=n) * 2.5
    G = np.where(rng.random(n) < 1 / (1 + np.exp(-3 * x)), 3, 0)
    y = rng.normal(size=(n, T))
    df = pl.DataFrame(
        {
            "id": np.repeat(np.arange(n), T),
            "t": np.tile(np.arange(1, T + 1), n),
            "g": np.repeat(G, T),
            "y": y.ravel(),
            "x": np.repeat(x, T),
        }
    )
    with pytest.warns(CertkitWarning, match="weak overlap"):
        did.att_gt(df, **SCOLS, covariates=["x"])


# ---- inference options ----------------------------------------------------------------------


def test_bootstrap_is_seeded_and_close_to_analytic():
    a = did.att_gt(MPDTA, **COLS, bootstrap=True, n_boot=999, seed=7)
    b = did.att_gt(MPDTA, **COLS, bootstrap=True, n_boot=999, seed=7)
    c = did.att_gt(MPDTA, **COLS)
    np.testing.assert_array_equal(a.se, b.se)
    np.testing.assert_allclose(a.se, c.se, rtol=0.15)
    es = a.aggregate("dynamic")
    assert es.crit > 1.96  # a uniform band is wider than pointwise intervals
    rad = did.att_gt(MPDTA, **COLS, bootstrap=True, boot_weights="rademacher", seed=7)
    np.testing.assert_allclose(rad.se, c.se, rtol=0.15)


def test_cluster_at_unit_level_equals_default():
    a = did.att_gt(MPDTA, **COLS)
    b = did.att_gt(MPDTA.with_columns(pl.col("countyreal").alias("cl")), **COLS, cluster="cl")
    np.testing.assert_allclose(a.se, b.se, rtol=1e-12)
    assert a.aggregate("simple").overall_se == pytest.approx(b.aggregate("simple").overall_se)
    state = MPDTA.with_columns((pl.col("countyreal") // 1000).alias("state"))
    s = did.att_gt(state, **COLS, cluster="state")
    np.testing.assert_allclose(s.att, a.att)
    assert not np.allclose(s.se, a.se)


def test_frequency_weights_equal_duplicated_units():
    df = small(n=50, seed=2)
    dup_ids = df.filter(pl.col("id") < 10).with_columns(pl.col("id") + 1000)
    dup = pl.concat([df, dup_ids])
    w = df.with_columns(pl.when(pl.col("id") < 10).then(2.0).otherwise(1.0).alias("w"))
    a = did.att_gt(dup, **SCOLS)
    b = did.att_gt(w, **SCOLS, weights="w")
    np.testing.assert_allclose(a.att, b.att, atol=1e-12)


def test_anticipation_shifts_the_base_period():
    data = MPDTA.filter(pl.col("first.treat") != 2004)
    # R's did drops the 2004 cohort (20 counties) "accounting for anticipation = 1"
    with pytest.warns(CertkitWarning, match=r"dropped 20 unit\(s\).*anticipation = 1"):
        dropped = did.att_gt(MPDTA, **COLS, anticipation=1)
    np.testing.assert_allclose(dropped.att, did.att_gt(data, **COLS, anticipation=1).att)
    tab = did.att_gt(data, **COLS, anticipation=1).to_polars()
    # cohort 2006 may react in 2005, so its post cells compare with 2004; 2005 counts as post
    got = tab.filter((pl.col("group") == 2006) & (pl.col("time") == 2006))["att"][0]
    wide = data.pivot(on="year", index=["countyreal", "first.treat"], values="lemp")
    d = wide.with_columns((pl.col("2006") - pl.col("2004")).alias("d"))
    manual = (
        d.filter(pl.col("first.treat") == 2006)["d"].mean()
        - d.filter(pl.col("first.treat") == 0)["d"].mean()
    )
    assert got == pytest.approx(manual, abs=1e-12)
    assert tab.filter((pl.col("group") == 2006) & (pl.col("time") == 2005))["period"][0] == "post"


def test_aggregate_options():
    res = did.att_gt(MPDTA, **COLS)
    es = res.aggregate("dynamic", min_e=-1, max_e=2)
    assert es.to_polars()["e"].to_list() == [-1, 0, 1, 2]
    bal = res.aggregate("dynamic", balance_e=1)
    assert bal.to_polars()["e"].max() <= 1
    with pytest.raises(CertkitError, match="kind must be"):
        res.aggregate("weekly")


# ---- TWFE, comparison, 2x2 -------------------------------------------------------------------


def test_twfe_misleading_with_staggered_growing_effects():
    rng = np.random.default_rng(0)
    n, T = 600, 10
    G = rng.choice([2, 8], n)  # early and late adopters, no never-treated
    G[: n // 5] = 0
    t = np.arange(1, T + 1)
    e = t[None, :] - G[:, None]
    eff = np.where((G[:, None] > 0) & (e >= 0), 0.5 * (e + 1), 0.0)  # grows over time
    y = rng.normal(size=(n, T)) * 0.5 + eff
    df = pl.DataFrame(
        {
            "id": np.repeat(np.arange(n), T),
            "t": np.tile(t, n),
            "g": np.repeat(G, T),
            "y": y.ravel(),
        }
    )
    with pytest.warns(CertkitWarning, match="TWFE is misleading"):
        cmp = did.compare_twfe(df, **SCOLS)
    assert cmp.misleading
    assert (cmp.weights["weight"] < 0).any()
    assert cmp.weights["weight"].sum() == pytest.approx(1.0)


def test_twfe_agrees_when_effects_are_constant():
    df = small(n=400, seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CertkitWarning)
        cmp = did.compare_twfe(df, **SCOLS)
    assert not cmp.misleading
    assert "agree" in cmp.verdict


def test_did_2x2_errors():
    df = pl.DataFrame({"y": [1.0, 2.0, 3.0], "tr": [0, 1, 1], "post": [0, 0, 1]})
    with pytest.raises(CertkitError, match=r"no observations in \(treated, post\)"):
        did.did_2x2(df, outcome="y", treated="tr", post="post")
    with pytest.raises(CertkitError, match="both values 0 and 1"):
        did.did_2x2(df.with_columns(pl.lit(1).alias("tr")), outcome="y", treated="tr", post="post")


# ---- results and charts ---------------------------------------------------------------------


def test_result_rendering_and_charts():
    res = did.att_gt(MPDTA, **COLS)
    text = res.summary()
    assert "pre-trend Wald test" in text and "2004" in text
    assert "<table" in res._repr_html_()
    es = did.event_study(MPDTA, **COLS)
    assert es.pretrend_pvalue == pytest.approx(res.wald_pvalue)
    assert "no evidence" in es.pretrend_verdict
    chart = es.plot()
    assert isinstance(chart, alt.LayerChart)
    spec = chart.to_dict()
    assert "-0.5" in str(spec) or "-0.5" in str(chart.to_json())
    for kind in ("simple", "group", "calendar"):
        assert isinstance(res.aggregate(kind).plot(), (alt.Chart, alt.LayerChart))
        assert res.aggregate(kind).to_polars().height >= 1
    # axes said "group" and "time" (trial F)
    assert "cohort (period index" in str(res.aggregate("group").plot().to_dict())
    assert "calendar period" in str(res.aggregate("calendar").plot().to_dict())
    assert isinstance(res.plot(), alt.FacetChart)
    res.plot().to_dict()
    assert isinstance(did.twfe(MPDTA, **COLS).summary(), str)
    # the TWFE chart named no outcome (trial F)
    assert "static): lemp" in str(did.twfe(MPDTA, **COLS).plot().to_dict()["title"])


def test_compare_twfe_uses_the_same_anticipation_on_both_sides():
    df = small(n=400, seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        cmp = did.compare_twfe(df, **SCOLS, anticipation=1)
        plain = did.twfe(df, **SCOLS)
        ahead = did.twfe(df, **SCOLS, anticipation=1)
    assert plain.estimate != pytest.approx(ahead.estimate)  # anticipation changes TWFE here
    assert cmp.twfe.estimate == pytest.approx(ahead.estimate, abs=1e-12)
    assert cmp.weights["weight"].sum() == pytest.approx(1.0)


def test_the_summary_names_which_overall_effect_it_reports():
    """pydantic-ai: the report's -3.37 (simple) beside es.summary()'s -2.52 (dynamic), with
    nothing saying they average different things."""
    res = did.att_gt(small(n=120), **SCOLS)
    for kind, words in (("simple", "weighted by cohort size"), ("dynamic", "e >= 0")):
        text = res.aggregate(kind).summary()
        assert f"aggregation: {kind}:" in text and words in text, text


def test_cells_without_treated_data_are_not_called_too_few_units():
    """httpx (trial F): "too few units in 346 group-time cell(s), which were dropped
    (min_cell_units=1)" for cells whose cohort's engineer was not yet hired: no setting
    dropped them; the message says what they are."""
    df = small(n=80, T=6, cohorts=(3,))
    hired_late = 0  # one engineer alone in cohort 5, with no data before period 3
    df = df.with_columns(
        pl.when(pl.col("id") == hired_late).then(5).otherwise(pl.col("g")).alias("g")
    ).filter(~((pl.col("id") == hired_late) & (pl.col("t") <= 2)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        did.att_gt(df, **SCOLS)
    said = [str(w.message) for w in caught]
    empty = [t for t in said if "have no treated unit with data in both of their periods" in t]
    assert empty and "ATT(g=5, t=2): 0 treated" in empty[0], said
    assert not [t for t in said if "too few units" in t and ": 0 treated" in t], said


def test_pre_trend_wald_covariance_is_the_same_dense_or_by_cohort_blocks(monkeypatch):
    """Small panels take one dense product, big ones (over DENSE_WALD_CELLS units x cells)
    the cohort blocks; both must give the same test."""
    from certkit.did import results

    df = small(n=120, T=6, cohorts=(3, 4, 5))
    dense = did.att_gt(df, **SCOLS)
    stat, pvalue = dense.wald_stat, dense.wald_pvalue  # by the dense product
    monkeypatch.setattr(results, "DENSE_WALD_CELLS", 0)
    blocks = did.att_gt(df, **SCOLS)
    assert stat is not None  # att_gt computes the test as it runs: each by its own path
    assert blocks.wald_stat == pytest.approx(stat, rel=1e-10)
    assert blocks.wald_pvalue == pytest.approx(pvalue, rel=1e-10)


def test_a_twfe_sign_flip_against_an_unclear_cs_estimate_is_not_called_misleading():
    """trial Z (openai-agents-python + python-sdk): page 02 said "TWFE is misleading here:
    the two estimates have opposite signs" (TWFE +2.61, CS -1.72 with an interval across
    zero) beside "Static TWFE gives +2.61 PRs, within the robust range"."""
    from certkit.did.twoway import twfe_verdict

    reasons, words = twfe_verdict(2.61, 1.0, -1.72, 2.9, (-7.4, 3.96), 0.0)
    assert reasons and "misleading" not in words
    assert "differ in sign" in words and "not distinguishable from zero" in words
    # a clear CS estimate of the other sign: misleading
    reasons, words = twfe_verdict(2.61, 1.0, -3.0, 0.5, (-3.98, -2.02), 0.0)
    assert words.startswith("TWFE is misleading here: the two estimates have opposite signs")
    # negative weights as well: misleading, whatever CS's interval
    _, words = twfe_verdict(2.61, 1.0, -1.72, 2.9, (-7.4, 3.96), 0.2)
    assert words.startswith("TWFE is misleading here")
