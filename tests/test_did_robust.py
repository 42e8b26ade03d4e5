"""Imputation, Sun-Abraham and the robustness panel: result contract, exactness, bad input."""

from __future__ import annotations

import warnings
from pathlib import Path

import altair as alt
import numpy as np
import polars as pl
import pytest

from certkit.did import imputation, sun_abraham
from certkit.did.robust_base import TIDY_COLUMNS, TwoWayFE
from certkit.did.robust_panel import (
    CS_NEVER,
    CS_NOTYET,
    IMPUTATION,
    SUNAB,
    TWFE,
    RobustnessResult,
    _verdict,
    robustness,
)
from certkit.errors import CertkitError, CertkitWarning

MPDTA = pl.read_csv(Path(__file__).parent / "fixtures" / "did" / "mpdta.csv")
COLS = dict(outcome="lemp", unit="countyreal", time="year", group="first.treat")


def staggered(seed=0, n=120, T=8, cohorts=(0, 3, 5, 7), effect=1.0, drop=0.0):
    """Small staggered panel with unit and period effects and dynamic, cohort-specific effects."""
    rng = np.random.default_rng(seed)
    g = rng.choice(np.array(cohorts), size=n)
    unit = np.repeat(np.arange(n), T)
    t = np.tile(np.arange(1, T + 1), n)
    G = g[unit]
    e = t - G
    tau = np.where((G > 0) & (e >= 0), effect * (1 + 0.3 * e) * np.where(G == 3, 1.5, 1.0), 0.0)
    y = rng.normal(size=n)[unit] + 0.2 * t + tau + rng.normal(size=n * T)
    df = pl.DataFrame({"id": unit, "t": t, "g": G, "y": y, "tau": tau, "team": unit % 10})
    if drop:
        df = df.filter((pl.col("t") == 1) | pl.Series(rng.random(df.height) > drop))
    return df


SIM = dict(outcome="y", unit="id", time="t", group="g")


@pytest.mark.parametrize("fn", [imputation, sun_abraham])
def test_result_contract(fn):
    res = fn(MPDTA, **COLS)
    tidy = res.tidy()
    assert tidy.columns == [*TIDY_COLUMNS, "n"]
    assert tidy["term"][0] == "ATT"
    assert res.to_polars().equals(tidy)
    lo, hi = res.ci
    assert lo < res.estimate < hi
    row = tidy.row(0, named=True)
    assert row["statistic"] == pytest.approx(row["estimate"] / row["std_error"])
    assert res.pvalue == pytest.approx(row["p_value"])
    text = res.summary()
    assert "overall ATT" in text and "e=0" in text
    assert "<table" in res._repr_html_()
    summ = res.effect_summary()
    assert f"{res.estimate:.3g}" in summ.text and "lemp" in summ.text
    assert summ.table.height == 1
    spec = res.plot().to_dict()
    assert spec["layer"]  # a layered event-study chart
    es = res.event_study()
    assert es["event_time"].is_sorted() and es.height == tidy.height - 1


def test_robustness_contract_and_forest_chart():
    res = robustness(MPDTA, **COLS)
    assert res.tidy().columns == [*TIDY_COLUMNS, "n"]
    assert res.tidy()["term"].to_list()[-1] == TWFE
    full = res.to_polars()
    assert full.filter(pl.col("term") == TWFE)["robust"].to_list() == [False]
    assert full["robust"].sum() == 4
    chart = res.plot()
    assert isinstance(chart, alt.LayerChart)
    values = chart.to_dict()
    assert "layer" in values
    assert "agree" in res.verdict and "-0.0477" in res.verdict
    assert res.effect_summary().text == res.verdict
    assert "verdict" in res.summary()
    assert set(res.results) == {
        CS_NEVER,
        CS_NOTYET,
        SUNAB,
        IMPUTATION,
        TWFE,
    }


def test_verdict_reports_disagreement_from_the_numbers():
    from certkit.did.robust_base import tidy_rows

    names = [CS_NEVER, CS_NOTYET, SUNAB, IMPUTATION, TWFE]
    table = tidy_rows(names, [0.1, 0.12, 0.9, 1.0, 3.0], [0.05] * 5, [10] * 5, 0.95)
    agree, text = _verdict(table, "cycle time", 0.95)
    assert agree is False
    assert "do not fully agree" in text and "0.1 (CS (never treated))" in text
    assert "outside the robust range" in text
    same = tidy_rows(names, [1.0, 1.01, 0.99, 1.02, 1.0], [0.05] * 5, [10] * 5, 0.95)
    agree, text = _verdict(same, "cycle time", 0.95)
    assert agree is True and "agree" in text and "Static TWFE gives 1, within the robust" in text


def test_the_verdict_speaks_the_unit_of_the_headline_beside_it():
    """trial N: a rework headline in percentage points beside a verdict whose estimates
    "range from -0.0394 (CS (never treated)) to -0.0274" (shares)."""
    from certkit.did.robust_base import tidy_rows

    names = [CS_NEVER, CS_NOTYET, SUNAB, IMPUTATION, TWFE]
    table = tidy_rows(names, [-0.0394, -0.0274, -0.03, -0.031, -0.05], [0.02] * 5, [10] * 5, 0.95)
    pp = lambda v: f"{100 * v:+.3g} percentage points"  # noqa: E731
    _, text = _verdict(table, "rework rate", 0.95, show=pp)
    assert "range from -3.94 percentage points (CS (never treated)) to -2.74 percentage" in text
    assert "a spread of 1.2 percentage points" in text  # a size: no sign
    assert "Static TWFE gives -5 percentage points" in text
    res = robustness(MPDTA, **COLS, name="teen employment", value_words=lambda v: f"{v:+.3g} log")
    assert "effect on teen employment" in res.verdict and " log (" in res.verdict


def test_twfe_is_not_called_close_across_a_sign_flip():
    """pydantic-ai: TWFE 4.95 against robust estimates -3.37 to 0.262 with a margin of 10.3
    read "close to the robust estimates"; the TWFE section called it misleading."""
    from certkit.did.robust_base import tidy_rows

    names = [CS_NEVER, CS_NOTYET, SUNAB, IMPUTATION, TWFE]
    table = tidy_rows(names, [-3.37, -2.9, 0.262, -1.0, 4.95], [5.25] * 5, [10] * 5, 0.95)
    _, text = _verdict(table, "throughput", 0.95)
    assert "close" not in text and "outside the robust range (-3.37 to 0.262)" in text
    assert "but within the typical margin of error" in text
    neg = tidy_rows(names, [-3.37, -2.9, -0.5, -1.0, 4.95], [5.25] * 5, [10] * 5, 0.95)
    assert "opposite sign of every robust estimate" in _verdict(neg, "throughput", 0.95)[1]
    # no finite interval: no "margin of error (n/a)"
    nan = tidy_rows(names, [0.0, 0.0, 0.0, 0.0, 0.0], [float("nan")] * 5, [10] * 5, 0.95)
    agree, text = _verdict(nan, "cycle time", 0.95)
    assert agree is None and "n/a" not in text and "cannot be judged" in text
    # equal estimates without standard errors (pallets/click: both CS rows on one engineer)
    # read "range from -2.96 (CS (never treated)) to -2.96 (CS (never treated))"
    nan = float("nan")
    tied = tidy_rows(
        names, [-2.956, -2.956, nan, nan, 0.1], [nan, nan, nan, nan, 1.2], [1, 1, 0, 0, 24], 0.95
    )
    agree, text = _verdict(tied, "cycle time", 0.95)
    assert agree is None and "range from" not in text
    assert "are all -2.96 (CS (never treated), CS (not yet treated))" in text
    result = RobustnessResult(
        tied, outcome="y", level=0.95, agree=None, verdict=text, results={}, warnings=[]
    )
    reliable = result.to_polars()["se_reliable"].to_list()
    assert reliable[:2] == [False, False] and reliable[2:4] == [None, None]  # no SE: not "yes"


def test_two_way_fe_solver_is_exact_on_an_unbalanced_panel():
    d = staggered(seed=3, n=40, drop=0.25)
    ui, ti = d["id"].to_numpy(), d["t"].to_numpy() - 1
    y = d["y"].to_numpy()
    mask = np.random.default_rng(1).random(d.height) > 0.2
    mask[ti == 0] = True
    fe = TwoWayFE(ui, ti, ui.max() + 1, ti.max() + 1, mask)
    gu, gt = fe.fit(ui, ti, y, mask)
    X = np.zeros((d.height, ui.max() + 1 + ti.max()))
    X[np.arange(d.height), ui] = 1
    X[np.nonzero(ti > 0)[0], ui.max() + ti[ti > 0]] = 1
    beta = np.linalg.lstsq(X[mask], y[mask], rcond=None)[0]
    np.testing.assert_allclose((gu[ui] + gt[ti])[mask], (X @ beta)[mask], atol=1e-10)


def test_sun_abraham_matches_dense_saturated_regression_when_unbalanced():
    d = staggered(seed=4, n=60, drop=0.2)
    res = sun_abraham(d, **SIM)
    ui, t, g = d["id"].to_numpy(), d["t"].to_numpy(), d["g"].to_numpy()
    e = t - g
    cell = (g > 0) & (e != -1)
    keys, idx = np.unique(g[cell] * 100 + t[cell], return_inverse=True)
    X = np.zeros((d.height, ui.max() + 1 + t.max() - 1 + keys.size))
    X[np.arange(d.height), ui] = 1
    X[np.nonzero(t > 1)[0], ui.max() + t[t > 1] - 1] = 1
    X[np.nonzero(cell)[0], ui.max() + t.max() + idx] = 1
    beta = np.linalg.lstsq(X, d["y"].to_numpy(), rcond=None)[0][ui.max() + t.max() :]
    got = res.cells.sort("cohort", "time")["estimate"].to_numpy()
    np.testing.assert_allclose(got, beta, atol=1e-9)


def test_planted_effect_recovered_without_noise_and_twfe_biased():
    d = staggered(seed=1, n=300).with_columns((pl.col("y") - pl.col("tau")).alias("y0"))
    d = d.with_columns((pl.col("id") * 0.1 + pl.col("t") * 0.5 + pl.col("tau")).alias("clean"))
    truth = d.filter(pl.col("tau") != 0)["tau"].mean()
    kw = dict(SIM, outcome="clean")
    assert imputation(d, **kw).estimate == pytest.approx(truth, abs=1e-9)
    assert sun_abraham(d, **kw).estimate == pytest.approx(truth, abs=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = robustness(d, **kw)
    est = dict(zip(res.tidy()["term"], res.tidy()["estimate"], strict=True))
    assert abs(est[TWFE] - truth) > 0.05  # TWFE misses a dynamic, cohort-specific effect


def test_imputation_horizons_cluster_and_anticipation():
    d = staggered(seed=2)
    res = imputation(d, **SIM, horizons=[0, 1], cluster="team")
    assert res.tidy()["term"].to_list() == ["ATT", "e=0", "e=1"]
    assert res.n_clusters == 10
    full = imputation(d, **SIM)
    assert res.estimate == pytest.approx(full.estimate)
    assert res.se != pytest.approx(full.se)
    ant = imputation(d, **SIM, anticipation=1)
    assert ant.tidy()["term"][1] == "e=-1"
    sa = sun_abraham(d, **SIM, anticipation=1)
    assert "e=-2" not in sa.tidy()["term"].to_list()  # the reference period
    assert "e=-1" in sa.tidy()["term"].to_list()


def test_sun_abraham_last_cohort_control():
    d = staggered(seed=5, cohorts=(3, 5, 7))
    with pytest.raises(CertkitError, match="control='last'"):
        sun_abraham(d, **SIM)
    res = sun_abraham(d, **SIM, control="last")
    assert res.cells["cohort"].max() == 5 and res.cells["time"].max() == 6
    assert any("last treated" in w for w in res.warnings)
    with pytest.warns(CertkitWarning) as caught:
        rob = robustness(d, **SIM)
    assert any("cannot be imputed" in str(w.message) for w in caught)
    tab = rob.tidy()
    assert tab.filter(pl.col("term") == CS_NEVER)["estimate"].is_nan().all()
    # no estimate, no reliability to claim (cargo's table read "Sun-Abraham | - | 0 | yes")
    assert rob.to_polars().filter(pl.col("term") == CS_NEVER)["se_reliable"][0] is None
    assert any("no never-treated" in w for w in rob.warnings)
    assert np.isfinite(tab.filter(pl.col("term") == SUNAB)["estimate"][0])


@pytest.mark.parametrize("fn", [imputation, sun_abraham, robustness])
def test_bad_input_gives_clear_errors(fn):
    with pytest.raises(CertkitError, match="outcome='nope'"):
        fn(MPDTA, **(COLS | {"outcome": "nope"}))
    with pytest.raises(CertkitError, match="level"):
        fn(MPDTA, **COLS, level=1.5)
    with (
        pytest.warns(DeprecationWarning, match="alpha"),
        pytest.raises(CertkitError, match="alpha"),
    ):
        fn(MPDTA, **COLS, alpha=1.5)
    varying = MPDTA.with_columns(
        pl.when(pl.col("year") == 2007).then(2004).otherwise(pl.col("first.treat")).alias("g2")
    )
    with pytest.raises(CertkitError, match="constant within each unit"):
        fn(varying, **(COLS | {"group": "g2"}))
    # units treated in the first period are dropped, as R's did does (not an error)
    early = MPDTA.with_columns(pl.col("first.treat").replace(2004, 2003))
    with pytest.warns(CertkitWarning, match=r"dropped 20 unit\(s\) already treated"):
        got = fn(early, **COLS).tidy()
    want = fn(MPDTA.filter(pl.col("first.treat") != 2004), **COLS).tidy()
    robust = pl.col("term") != TWFE  # static TWFE keeps them, as fixest's feols does
    np.testing.assert_allclose(
        got.filter(robust)["estimate"], want.filter(robust)["estimate"], equal_nan=True
    )
    dup = pl.concat([MPDTA, MPDTA.head(1)])
    with pytest.raises(CertkitError, match="duplicated"):
        fn(dup, **COLS)
    text = MPDTA.with_columns(pl.col("year").cast(pl.String))
    with pytest.raises(CertkitError, match="must be numeric"):
        fn(text, **COLS)


def test_option_errors():
    with pytest.raises(CertkitError, match="vcov"):
        imputation(MPDTA, **COLS, vcov="hc1")
    with pytest.raises(CertkitError, match="not_yet"):
        sun_abraham(MPDTA, **COLS, control="not_yet")
    never = MPDTA.with_columns(pl.lit(0).alias("first.treat"))
    with pytest.raises(CertkitError, match="no treated units"):
        imputation(never, **COLS)


def test_null_outcomes_are_skipped():
    d = MPDTA.with_columns(
        pl.when((pl.col("countyreal") == 8001) & (pl.col("year") == 2005))
        .then(None)
        .otherwise(pl.col("lemp"))
        .alias("lemp")
    )
    res = imputation(d, **COLS)
    assert res.n_obs == MPDTA.height - 1
    assert np.isfinite(res.estimate) and np.isfinite(sun_abraham(d, **COLS).estimate)


def test_bjs_pretrend_test_detects_a_planted_pretrend_and_holds_size():
    rejections = 0
    for i in range(100):
        d = staggered(seed=1000 + i, n=100)
        rejections += imputation(d, **SIM, pretrends=True).pretrend_pvalue < 0.05
    assert 0.01 <= rejections / 100 <= 0.12
    d = staggered(seed=7, n=200)
    # treated units drift upwards by 0.3 per period before treatment
    drift = pl.when(pl.col("g") > 0).then(0.3 * pl.col("t")).otherwise(0.0)
    bad = imputation(d.with_columns(pl.col("y") + drift), **SIM, pretrends=True)
    assert bad.pretrend_pvalue < 0.001
    assert "warning" in bad.pretrend_verdict and "pre-trends" in bad.summary()


def test_robust_results_follow_the_result_contract_and_level():
    from certkit.results import EstimateMixin

    for fn in (imputation, sun_abraham):
        res95 = fn(MPDTA, **COLS)
        res90 = fn(MPDTA, **COLS, level=0.9)
        assert isinstance(res95, EstimateMixin) and res90.level == 0.9
        assert res95.estimate == res90.estimate
        lo95, hi95 = res95.ci
        lo90, hi90 = res90.ci
        assert lo95 < lo90 < res90.estimate < hi90 < hi95
        assert "90% CI" in res90.summary()
        pd = res95.plot_data()
        assert set(pd["period"]) == {"pre", "post"} or set(pd["period"]) == {"post"}
        assert pd.height == res95.tidy().height - 1
    rob = robustness(MPDTA, **COLS, level=0.9)
    assert isinstance(rob, EstimateMixin) and rob.level == 0.9
    assert "90%" in rob.verdict


def test_estimators_set_aside_with_the_other_sign_are_named():
    """Trial H (xarray, 3 adopters): "all 2 with a reliable standard error are distinguishable
    from zero and have the same sign" beside Imputation (BJS) -0.041, set aside for its
    standard error, the other way round."""
    from certkit.did.robust_base import ThinSupport, tidy_rows

    names = [CS_NEVER, CS_NOTYET, IMPUTATION, TWFE]
    table = tidy_rows(names, [0.0244, 0.0244, -0.041, -0.0385], [0.005] * 4, [10] * 4, 0.95)
    thin = ThinSupport(cohorts=[5, 7, 9], engineers=3, cells=12, share={"ATT": 1.0}, single=[])
    _, text = _verdict(table, "rework rate", 0.95, {IMPUTATION: thin})
    assert "all 2 with a reliable standard error are distinguishable from zero" in text
    assert (
        "have the same sign; Imputation (BJS), whose standard error is not reliable, has the "
        "opposite sign" in text
    )
    same = tidy_rows(names, [0.0244, 0.0244, 0.03, 0.02], [0.005] * 4, [10] * 4, 0.95)
    assert "opposite sign" not in _verdict(same, "rework rate", 0.95, {IMPUTATION: thin})[1]


def test_an_estimator_that_cannot_run_says_which_period_in_words():
    """fastapi (trial P, P4): the first month held only engineers certified later; the
    Sun-Abraham row was dashes with no reason on the page, and the API's reason was "some
    periods have no comparison observation, so b_{g,e} is undefined"."""
    import warnings as _w

    import certkit as ck

    with _w.catch_warnings():
        _w.simplefilter("ignore")
        panel = ck.build_panel(ck.simulate(150, 14, seed=2))
    first = panel.filter(pl.col("period_index") == 1)["period"][0]
    gap = (pl.col("period_index") == 1) & (pl.col("cohort") == 0)
    panel = panel.with_columns(
        pl.when(gap).then(None).otherwise(pl.col("merged_prs")).alias("merged_prs")
    )
    with _w.catch_warnings():
        _w.simplefilter("ignore")
        rob = ck.did.robustness(panel, outcome="merged_prs")
    (why,) = [w for w in rob.not_computed if w.startswith("Sun-Abraham")]
    assert f"no never-certified engineer has a value of 'merged_prs' in period {first}" in why, why
    assert "b_{g,e}" not in why and "start the data after it" in why
    assert all(" not computed: " in w for w in rob.not_computed)
    # review D8: a period at the end is cut with end=
    last = panel["period_index"].max()
    gap = (pl.col("period_index") == last) & (pl.col("cohort") == 0)
    late = panel.with_columns(
        pl.when(gap).then(None).otherwise(pl.col("merged_prs")).alias("merged_prs")
    )
    with _w.catch_warnings():
        _w.simplefilter("ignore")
        rob = ck.did.robustness(late, outcome="merged_prs")
    said = " ".join(w for w in rob.not_computed if w.startswith("Sun-Abraham"))
    assert not said or "end the data before it (-p end=...)" in said
