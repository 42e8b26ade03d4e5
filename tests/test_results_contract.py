"""The result contract (issue 11): every did and matching result has the same tidy() columns,
summary(), an Altair plot() drawn from its tidy data, effect_summary(), and numbers that agree
with the legacy tables (att/se/ci_low/ci_high, event_effects ...)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import altair as alt
import numpy as np
import polars as pl
import pytest

from certkit import did
from certkit import matching as M
from certkit.errors import CertkitError, CertkitWarning
from certkit.results import TIDY_COLUMNS, EffectSummary

FIX = Path(__file__).parent / "fixtures" / "matching"
COLS = dict(outcome="y", unit="id", time="t", group="g")


def _panel(n=120, T=6, seed=1):
    rng = np.random.default_rng(seed)
    G = rng.choice((0, 3, 4, 5), n)
    t = np.arange(1, T + 1)
    level = rng.choice(["junior", "senior"], n)
    y = (
        rng.normal(size=(n, T))
        + 0.2 * t
        + 0.5 * (level == "senior")[:, None]
        + np.where((G[:, None] > 0) & (t >= G[:, None]), 1.0, 0.0)
    )
    return pl.DataFrame(
        {
            "id": np.repeat(np.arange(n), T),
            "t": np.tile(t, n),
            "g": np.repeat(G, T),
            "level": np.repeat(level, T),
            "y": y.ravel(),
        }
    )


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        return fn(*args, **kw)


@pytest.fixture(scope="module")
def results():
    df = _panel()
    gt = _quiet(did.att_gt, df, **COLS)
    lalonde = pl.read_csv(FIX / "lalonde.csv")
    covs = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
    m = _quiet(M.match, lalonde, treatment="treat", covariates=covs, outcome="re78")
    post = df.with_columns((pl.col("t") >= 4).cast(pl.Int8).alias("post"))
    two = post.filter(pl.col("g").is_in([0, 4])).with_columns(
        (pl.col("g") == 4).cast(pl.Int8).alias("treated")
    )
    panel = df.rename({"id": "engineer_id", "t": "period_index", "g": "cohort"})
    return {
        "ATTgtResult": gt,
        "AggregateResult simple": gt.aggregate("simple"),
        "AggregateResult dynamic": _quiet(did.event_study, df, **COLS),
        "AggregateResult group": gt.aggregate("group"),
        "AggregateResult calendar": gt.aggregate("calendar"),
        "TWFEResult": did.twfe(df, **COLS),
        "TWFEComparison": _quiet(did.compare_twfe, df, **COLS),
        "DiD2x2Result": did.did_2x2(two, outcome="y", treated="treated", post="post", unit="id"),
        "MatchResult": m,
        "ATTResult": m.att("re78"),
        "MatchedDiDResult": _quiet(
            M.matched_did,
            panel,
            outcome="y",
            covariates=["level"],
            pre_periods=2,
            post_periods=1,
            caliper=None,
        ),
    }


NAMES = [
    "ATTgtResult",
    "AggregateResult simple",
    "AggregateResult dynamic",
    "AggregateResult group",
    "AggregateResult calendar",
    "TWFEResult",
    "TWFEComparison",
    "DiD2x2Result",
    "MatchResult",
    "ATTResult",
    "MatchedDiDResult",
]


@pytest.mark.parametrize("name", NAMES)
def test_every_result_keeps_the_contract(results, name):
    res = results[name]
    tidy = res.tidy()
    assert tuple(tidy.columns[:7]) == TIDY_COLUMNS
    assert set(tidy.columns) <= {*TIDY_COLUMNS, "n"}
    assert tidy.height >= 1 and tidy["term"].n_unique() == tidy.height
    ok = tidy.filter(pl.col("std_error") > 0)
    # statistic and p-value follow from estimate and SE; intervals contain the estimate
    np.testing.assert_allclose(ok["statistic"], ok["estimate"] / ok["std_error"])
    assert ok["p_value"].is_between(0, 1).all()
    assert (ok["conf_low"] <= ok["estimate"]).all() and (ok["estimate"] <= ok["conf_high"]).all()
    assert res.title in res.summary() and "<table>" in res._repr_html_()
    chart = res.plot()
    assert isinstance(chart, alt.TopLevelMixin)
    assert chart.to_dict()  # a valid Vega-Lite spec
    summary = res.effect_summary()
    assert isinstance(summary, EffectSummary)
    assert summary.text and summary.table.columns[:7] == list(TIDY_COLUMNS)
    assert summary.text in str(summary) and "<table" in summary._repr_html_()
    assert 0 < res.level < 1


def _legacy_equal(tidy: pl.DataFrame, legacy: pl.DataFrame, est: str, se: str, lo: str, hi: str):
    for a, b in [("estimate", est), ("std_error", se), ("conf_low", lo), ("conf_high", hi)]:
        np.testing.assert_array_equal(tidy[a].to_numpy(), legacy[b].to_numpy(), err_msg=a)


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("AggregateResult")])
def test_aggregate_tidy_equals_legacy_table(results, name):
    res = results[name]
    tidy, legacy = res.tidy(), res.to_polars()
    if res.kind == "simple":
        assert tidy["term"].to_list() == ["ATT"]
    else:
        assert tidy["term"][-1] == "overall"
        _legacy_equal(tidy.head(legacy.height), legacy, "att", "se", "ci_low", "ci_high")
    last = tidy.row(-1, named=True)
    assert last["estimate"] == res.overall_att == res.estimate
    assert last["std_error"] == res.overall_se
    assert (last["conf_low"], last["conf_high"]) == res.overall_ci
    assert res.pvalue == last["p_value"]


def test_att_gt_tidy_equals_legacy_table(results):
    res = results["ATTgtResult"]
    tidy, legacy = res.tidy(), res.to_polars()
    _legacy_equal(tidy, legacy, "att", "se", "ci_low", "ci_high")
    assert tidy["n"].to_list() == (legacy["n_treated"] + legacy["n_control"]).to_list()
    g, t = legacy.row(0, named=True)["group"], legacy.row(0, named=True)["time"]
    assert tidy["term"][0] == f"ATT(g={g}, t={t})"
    # no single headline: the summary speaks of the overall aggregation
    assert res.effect_summary().table["term"].to_list() == ["ATT"]


@pytest.mark.parametrize("name", ["TWFEResult", "DiD2x2Result", "ATTResult"])
def test_single_estimates_agree_with_their_attributes(results, name):
    res = results[name]
    row = res.tidy().row(0, named=True)
    assert row["estimate"] == res.estimate and row["std_error"] == res.se
    assert (row["conf_low"], row["conf_high"]) == tuple(res.ci)
    assert res.pvalue == row["p_value"]


def test_twfe_legacy_table_and_comparison(results):
    tw = results["TWFEResult"]
    _legacy_equal(tw.tidy(), tw.to_polars(), "estimate", "se", "ci_low", "ci_high")
    cmp = results["TWFEComparison"]
    legacy = cmp.to_polars()
    assert cmp.tidy()["term"].to_list() == legacy["estimator"].to_list()
    np.testing.assert_array_equal(cmp.tidy()["estimate"], legacy["estimate"])
    np.testing.assert_array_equal(cmp.tidy()["std_error"], legacy["se"])


def test_match_result_reports_the_effect_and_keeps_balance(results):
    m = results["MatchResult"]
    eff = m.att("re78")
    assert m.to_polars().equals(m.tidy())
    assert m.estimate == eff.estimate and m.se == eff.se and m.pvalue == eff.pvalue
    assert m.balance()["sample"].unique().sort().to_list() == ["all", "matched"]
    assert "re78" in m.effect_summary().text.lower()
    legacy = eff.to_polars()  # the ATT table keeps its outcome column
    assert legacy["outcome"].to_list() == ["re78"]
    assert legacy.drop("outcome").equals(eff.tidy())


def test_match_without_outcome_says_how_to_get_an_effect():
    lalonde = pl.read_csv(FIX / "lalonde.csv")
    m = _quiet(M.match, lalonde, treatment="treat", covariates=["age", "educ"])
    with pytest.raises(CertkitError, match="no outcome"):
        m.tidy()
    assert "age" in m.summary()  # falls back to the balance table
    assert isinstance(m.plot(), alt.TopLevelMixin)  # the Love plot
    with pytest.raises(CertkitError, match="outcome column 'nope' not found"):
        M.match(lalonde, treatment="treat", covariates=["age"], outcome="nope")


def test_matched_did_tidy_equals_event_effects(results):
    res = results["MatchedDiDResult"]
    tidy, ev = res.tidy(), res.to_polars()
    assert tidy["term"].to_list() == [f"e={e}" for e in ev["event_time"]] + ["overall"]
    _legacy_equal(tidy.head(ev.height), ev, "estimate", "std_error", "conf_low", "conf_high")
    assert tidy["n"].head(ev.height).to_list() == ev["n_pairs"].to_list()
    assert res.estimate == res.overall_att and res.se == res.overall_se
    assert res.effect_summary().table["term"].to_list() == ["overall"]


def test_level_is_the_one_name_and_alpha_is_deprecated():
    df = _panel()
    a = _quiet(did.att_gt, df, **COLS, level=0.9).aggregate("simple")
    with pytest.warns(DeprecationWarning, match="level=0.9"):
        b = _quiet(did.att_gt, df, **COLS, alpha=0.1).aggregate("simple")
    assert a.overall_ci == pytest.approx(b.overall_ci)
    assert a.level == pytest.approx(0.9) and "90% CI" in a.summary()
    wide = did.twfe(df, **COLS, level=0.99)
    narrow = did.twfe(df, **COLS, level=0.8)
    assert wide.ci[1] - wide.ci[0] > narrow.ci[1] - narrow.ci[0]
    with pytest.raises(CertkitError, match="level must be between 0 and 1"):
        did.twfe(df, **COLS, level=95)
    with pytest.warns(DeprecationWarning):
        did.did_2x2(
            df.with_columns(
                (pl.col("g") > 0).cast(pl.Int8).alias("tr"),
                (pl.col("t") > 3).cast(pl.Int8).alias("po"),
            ),
            outcome="y",
            treated="tr",
            post="po",
            alpha=0.05,
        )


def test_effect_summary_words_follow_the_numbers(results):
    res = results["AggregateResult simple"]
    text = res.effect_summary().text
    lo, hi = res.overall_ci
    assert f"{res.overall_att:+.3g}" in text
    if lo > 0 or hi < 0:
        assert "excludes zero" in text
    else:
        assert "includes zero" in text
    assert math.isfinite(res.pvalue)
