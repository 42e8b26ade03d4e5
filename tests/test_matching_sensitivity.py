"""One shape for sensitivity to hidden confounding (issue 11): ``MatchResult.sensitivity()``
and ``MatchedDiDResult.sensitivity()`` both return a :class:`SensitivityResult` that meets the
result contract; the old dict / table access still works with a DeprecationWarning."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from certkit import matching as M
from certkit.errors import CertkitError, CertkitWarning
from certkit.matching.sensitivity import SensitivityResult
from certkit.narrative import describe_confounding
from certkit.results import TIDY_COLUMNS

FIX = Path(__file__).parent / "fixtures" / "matching"
COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]


@pytest.fixture(scope="module")
def nn() -> M.MatchResult:
    lalonde = pl.read_csv(FIX / "lalonde.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        return M.match(lalonde, treatment="treat", covariates=COVS, outcome="re78")


def _staggered_panel(seed: int = 0, n: int = 200, periods: int = 12, tau: float = 1.0):
    rng = np.random.default_rng(seed)
    alpha = rng.normal(0, 1, n)
    level = rng.choice(["junior", "senior"], n)
    treated = rng.random(n) < 0.4
    cohort = np.where(treated, rng.integers(5, periods - 2, n), 0)
    t = np.arange(1, periods + 1)
    y = (
        alpha[:, None]
        + 0.05 * t[None, :]
        + tau * ((cohort[:, None] > 0) & (t[None, :] >= cohort[:, None]))
        + rng.normal(0, 0.5, (n, periods))
    )
    return pl.DataFrame(
        {
            "engineer_id": np.repeat(np.arange(n), periods),
            "period_index": np.tile(t, n),
            "cohort": np.repeat(cohort, periods),
            "level": np.repeat(level, periods),
            "y": y.ravel(),
        }
    )


@pytest.fixture(scope="module")
def mdid() -> M.MatchedDiDResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        return M.matched_did(
            _staggered_panel(),
            outcome="y",
            covariates=["level"],
            pre_periods=3,
            post_periods=3,
            caliper=None,
        )


def _contract(sens: SensitivityResult) -> None:
    tidy = sens.tidy()
    assert tuple(tidy.columns[:7]) == TIDY_COLUMNS and tidy.columns[7] == "n"
    assert tidy["term"].to_list()[:2] == ["critical_gamma", "e_value"]
    gammas = tidy.filter(pl.col("term").str.starts_with("gamma="))
    assert gammas["p_value"].to_list() == sens.to_polars()["p_upper"].to_list()
    assert sens.headline()["term"].to_list() == ["critical_gamma", "e_value"]
    spec = sens.plot().to_dict()  # the p-value line and alpha's dashed rule to read gamma off
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks[:2] == ["line", "rule"] and f"alpha = {sens.alpha:g}" in str(spec)
    assert "critical gamma" in sens.summary() and "certkit-result" in sens._repr_html_()
    summary = sens.effect_summary()
    assert summary.table.height == 2 and summary.text == sens.statement()
    assert "\n" not in repr(sens) and "critical gamma" in repr(sens)


def test_match_sensitivity_is_a_result_equal_to_the_bounds_and_e_value(nn):
    sens = nn.sensitivity(gammas=(1.0, 1.5, 2.0))
    assert isinstance(sens, SensitivityResult) and sens.outcome == "re78"
    d = nn.pair_differences("re78")
    direct = M.rosenbaum_bounds(d if d.mean() >= 0 else -d, (1.0, 1.5, 2.0))
    assert sens.to_polars().equals(direct.drop("critical_gamma"))
    assert sens.critical_gamma == direct["critical_gamma"][0]
    att = nn.att("re78").tidy().row(0, named=True)
    sd = float(nn.data["re78"].std())
    ev, ev_ci = M.e_value(att["estimate"], sd=sd, ci=(att["conf_low"], att["conf_high"]))
    assert sens.e_value == pytest.approx(ev, rel=1e-12) and sens.e_value_ci == ev_ci
    row = sens.tidy().filter(pl.col("term") == "e_value").row(0, named=True)
    assert row["estimate"] == sens.e_value and math.isnan(row["std_error"])
    _contract(sens)


def test_matched_did_sensitivity_has_the_same_shape(mdid):
    sens = mdid.sensitivity()
    assert isinstance(sens, SensitivityResult) and sens.outcome == "y"
    assert sens.critical_gamma > 1.0 and sens.significant  # tau = 1 against noise 0.5
    assert sens.n_pairs == mdid.n_pairs
    _contract(sens)
    assert f"{sens.critical_gamma:.3g}" in mdid.summary()


def test_old_dict_access_is_a_deprecated_alias(mdid, nn):
    sens = mdid.sensitivity()
    with pytest.warns(DeprecationWarning, match=r"res\.sensitivity\(\)"):
        assert mdid.sensitivity["critical_gamma"] == sens.critical_gamma
    with pytest.warns(DeprecationWarning):
        assert mdid.sensitivity.get("e_value") == sens.e_value
    with pytest.warns(DeprecationWarning):
        assert mdid.sensitivity.get("table").equals(sens.to_polars())
    tab = nn.sensitivity("re78")
    with pytest.warns(DeprecationWarning, match="to_polars"):
        assert tab["p_upper"].to_list() == tab.to_polars()["p_upper"].to_list()


def test_sensitivity_needs_an_outcome():
    lalonde = pl.read_csv(FIX / "lalonde.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        m = M.match(lalonde, treatment="treat", covariates=COVS)
    with pytest.raises(CertkitError, match="no outcome"):
        m.sensitivity()


def test_describe_confounding_words():
    text = describe_confounding("Throughput", 1.84, 2.5)
    assert "factor of 1.84" in text and "E-value 2.50" in text
    assert "more than 1000" in describe_confounding("x", math.inf, 9.0)
    assert "not significant" in describe_confounding("x", 1.0, 1.2, significant=False)
    # the sample README (trial F): t-interval -0.178 to 1.57 (p = 0.118) beside "a hidden
    # factor would have to change the odds ... by 1.01 to explain the effect away"
    both = describe_confounding("x", 1.01, 1.46, significant=True, interval_includes_zero=True)
    assert "includes zero, so there is no clear effect" in both and "explain the effect" not in both
    assert "by a factor of 1.01 would overturn that test" in both


def test_zero_differences_left_out_of_the_bounds_are_said():
    """The bounds' n_pairs counts the sets with a non-zero difference (signed-rank test); the
    report's matched_sets counted all of them, and nothing explained 9 beside 11 (click)."""
    d = np.array([1.0, 2.0, 0.0, 3.0, 0.0, -0.5, 1.5, np.nan])
    sens = M.sensitivity.sensitivity_analysis(d, outcome="merged_prs")
    assert (sens.n_pairs, sens.n_sets) == (5, 7)
    assert (
        "5 of 7 matched sets" in sens.zeros_note() and "2 with no difference" in sens.zeros_note()
    )
    assert "5 with a non-zero difference (of 7)" in sens.summary()
    # NaN differences no longer flip the test's direction (their mean was NaN, so negated)
    ref = M.sensitivity.rosenbaum_bounds(d[np.isfinite(d)], [1.0])
    assert sens.to_polars()["p_upper"][0] == pytest.approx(ref["p_upper"][0], rel=1e-12)
    none = M.sensitivity.sensitivity_analysis(d[d != 0], outcome="merged_prs")
    assert none.zeros_note() == "" and "with a non-zero" not in none.summary()


def test_event_times_whose_set_differences_are_all_equal_get_no_interval():
    """httpx (trial F): e = 6 rested on 2 matched sets whose differences were both 0, and
    the table gave std_error 0 and an interval 0 to 0: a "certain" zero drawn as a point."""
    import math

    from certkit.matching.rolling import event_rows

    D = np.array([[0.5, 0.0, 0.2, 1.0], [-0.2, 0.0, 0.0, 1.4], [0.1, 0.0, np.nan, np.nan]])
    rows = {r[0]: r for r in event_rows(D, [-2, -1, 5, 6], 1.96)}
    assert rows[-1][1:3] == (0.0, 0.0)  # the reference period, zero by construction
    assert rows[-2][2] > 0 and rows[6][2] > 0
    e5 = rows[5]  # two sets, differences 0.2 and 0.0: spread, an interval
    assert e5[2] > 0 and e5[5] == 2
    flat = {r[0]: r for r in event_rows(np.array([[0.0], [0.0]]), [6], 1.96)}[6]
    assert flat[1] == 0.0 and all(math.isnan(v) for v in flat[2:5]) and flat[5] == 2


def test_the_statement_follows_the_estimate_s_interval():
    """The sensitivity sentence of an estimate whose interval includes zero does not speak of
    explaining the effect away, even when the signed-rank test is significant at gamma = 1."""
    d = np.array([2.0, 1.5, 3.0, 0.5, 2.5, -0.1, 1.0, 2.0, 1.8, 1.2])
    wide = M.sensitivity.sensitivity_analysis(d, outcome="y", estimate=1.0, ci=(-0.2, 2.2), sd=2.0)
    assert wide.significant and wide.e_value_ci == 1.0
    assert "includes zero" in wide.statement() and "explain the effect away" not in wide.statement()
    clear = M.sensitivity.sensitivity_analysis(d, outcome="y", estimate=1.0, ci=(0.3, 1.7), sd=2.0)
    assert "explain the effect away" in clear.statement()
