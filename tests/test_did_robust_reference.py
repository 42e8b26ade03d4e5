"""Parity of the robustness panel's estimators with published numbers and independent code.

Provenance of every expected number: ``tests/fixtures/robust/README.md``. In short:
mpdta references (-0.047710, -0.039951, -0.036549 and CS's dynamic effects) come from the issue
and ``tests/fixtures/did/mpdta_expected.json``; SEs and event-time effects from pyfixest 0.60.0
and diff-diff 3.13.0 (``tests/fixtures/robust/expected.json``, made by ``make_fixtures.py``);
2.152 (SE 0.0476) is printed in R did2s's README for its ``df_het`` data.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from certkit.did import imputation, sun_abraham
from certkit.did.robust_panel import CS_NEVER, IMPUTATION, SUNAB, TWFE, robustness

pytestmark = pytest.mark.reference

DID = Path(__file__).parent / "fixtures" / "did"
FIX = Path(__file__).parent / "fixtures" / "robust"
MPDTA = pl.read_csv(DID / "mpdta.csv")
CS = json.loads((DID / "mpdta_expected.json").read_text())["results"]["nevertreated_nocov"]
PEERS = json.loads((FIX / "expected.json").read_text())
COLS = dict(outcome="lemp", unit="countyreal", time="year", group="first.treat")


def _rows(res) -> dict[str, tuple[float, float]]:
    return {r["term"]: (r["estimate"], r["std_error"]) for r in res.tidy().iter_rows(named=True)}


def test_imputation_att_on_mpdta_matches_the_issue_reference():
    res = imputation(MPDTA, **COLS)
    assert res.estimate == pytest.approx(-0.047710, abs=5e-7)


@pytest.mark.parametrize(("vcov", "peer"), [("bjs", "bjs_diffdiff"), ("two_stage", "did2s_event")])
def test_imputation_estimates_and_ses_match_peers_on_mpdta(vcov, peer):
    got = _rows(imputation(MPDTA, **COLS, vcov=vcov))
    ref = PEERS["mpdta"][peer]
    if vcov == "two_stage":
        ref = {k.replace("relp::", "e="): v for k, v in ref.items()}
        ref["ATT"] = PEERS["mpdta"]["did2s_unit_year"]["treat_now::True"]
    assert set(ref) <= set(got)
    for term, (est, se) in ref.items():
        assert got[term][0] == pytest.approx(est, abs=1e-9), term
        assert got[term][1] == pytest.approx(se, rel=1e-7), term


@pytest.mark.parametrize("unbalanced", [False, True])
def test_imputation_equals_extended_twfe_by_dense_least_squares(unbalanced):
    """Independent check: y on unit, year and one dummy per treated (cohort, year) cell
    (Wooldridge's extended TWFE; equal to imputation on a balanced panel) or, unbalanced, one
    dummy per treated observation (BJS's equivalence, which holds for any panel)."""
    d = MPDTA.filter(pl.col("countyreal") < MPDTA["countyreal"].unique().sort()[150])
    if unbalanced:  # drop 10% of the rows, never a county's first year
        rng = np.random.default_rng(5)
        d = d.filter((pl.col("year") == 2003) | pl.Series(rng.random(d.height) > 0.1))
    g, t = d["first.treat"].to_numpy(), d["year"].to_numpy()
    units = np.unique(d["countyreal"].to_numpy(), return_inverse=True)[1]
    years = np.unique(t, return_inverse=True)[1]
    treated = (g > 0) & (t >= g)
    cells, cell_idx = np.unique(g[treated] * 10000 + t[treated], return_inverse=True)
    if unbalanced:
        cells = cell_idx = np.arange(treated.sum())
    X = np.zeros((d.height, units.max() + 1 + years.max() + cells.size))
    X[np.arange(d.height), units] = 1
    later = years > 0  # the first year's dummy is dropped
    X[np.nonzero(later)[0], units.max() + years[later]] = 1
    cols = units.max() + 1 + years.max()
    X[np.nonzero(treated)[0], cols + cell_idx] = 1
    beta = np.linalg.lstsq(X, d["lemp"].to_numpy(), rcond=None)[0]
    n_cell = np.bincount(cell_idx)
    extended = float(beta[cols:] @ n_cell / n_cell.sum())
    assert extended == pytest.approx(imputation(d, **COLS).estimate, abs=1e-10)


def test_sun_abraham_post_event_times_equal_cs_dynamic_effects():
    res = sun_abraham(MPDTA, **COLS)
    got = _rows(res)
    assert res.estimate == pytest.approx(-0.039951, abs=5e-7)
    assert res.estimate == pytest.approx(CS["aggregations"]["simple"]["overall_att"], abs=1e-10)
    posts = [el for el in CS["aggregations"]["dynamic"]["elements"] if el["e"] >= 0]
    assert len(posts) == 4
    for el in posts:
        assert got[f"e={el['e']}"][0] == pytest.approx(el["att"], abs=1e-10)
    # every post-period cohort x period effect is CS's ATT(g, t)
    cs_cells = {(c["group"], c["time"]): c["att"] for c in CS["att_gt"]}
    post = res.cells.filter(pl.col("event_time") >= 0)
    for r in post.iter_rows(named=True):
        assert r["estimate"] == pytest.approx(cs_cells[(r["cohort"], r["time"])], abs=1e-10)


def test_sun_abraham_ses_match_pyfixest_and_diff_diff():
    res = sun_abraham(MPDTA, **COLS)
    got = _rows(res)
    for peer in ("sunab_pyfixest", "sunab_diffdiff"):
        for term, (est, se) in PEERS["mpdta"][peer].items():
            assert got[term][0] == pytest.approx(est, abs=1e-9), (peer, term)
            assert got[term][1] == pytest.approx(se, rel=1e-7), (peer, term)
    for r in res.cells.iter_rows(named=True):
        est, se = PEERS["mpdta"]["sunab_pyfixest_cells"][f"{r['cohort']:.0f}_{r['time']:.0f}"]
        assert r["estimate"] == pytest.approx(est, abs=1e-9)
        assert r["std_error"] == pytest.approx(se, rel=1e-7)


def test_robustness_table_on_mpdta():
    res = robustness(MPDTA, **COLS)
    got = _rows(res)
    assert got[TWFE][0] == pytest.approx(-0.036549, abs=5e-7)
    assert got[TWFE][0] == pytest.approx(PEERS["mpdta"]["twfe_pyfixest"][0], abs=1e-10)
    assert got[TWFE][1] == pytest.approx(PEERS["mpdta"]["twfe_pyfixest"][1], rel=1e-7)
    assert got[IMPUTATION][0] == pytest.approx(-0.047710, abs=5e-7)
    assert got[SUNAB][0] == pytest.approx(-0.039951, abs=5e-7)
    simple = CS["aggregations"]["simple"]
    assert got[CS_NEVER] == pytest.approx((simple["overall_att"], simple["overall_se"]), rel=1e-7)
    assert res.agree is True


@pytest.fixture(scope="module")
def df_het():
    return pl.read_csv(FIX / "df_het.csv.gz")


def test_did2s_readme_number_on_df_het(df_het):
    """R did2s README: did2s(df_het, first_stage = ~ 0 | state + year, ...) -> 2.152 (0.0476)."""
    res = imputation(
        df_het,
        outcome="dep_var",
        unit="unit",
        time="year",
        group="g",
        cluster="state",
        absorb="state",
        vcov="two_stage",
    )
    assert round(res.estimate, 3) == 2.152
    assert round(res.se, 4) == 0.0476
    # pyfixest demeans iteratively (to about 1e-7 here); certkit solves the fixed effects exactly
    # (a dense least-squares fit of the first stage gives 2.15221463240540, certkit's value)
    est, se = PEERS["df_het"]["did2s_state_year"]["treat_now::True"]
    assert res.estimate == pytest.approx(est, abs=2e-6)
    assert res.se == pytest.approx(se, rel=1e-5)


def test_bjs_on_df_het_matches_diff_diff_and_did2s(df_het):
    kw = dict(outcome="dep_var", unit="unit", time="year", group="g", cluster="state")
    got = _rows(imputation(df_het, **kw))
    for term, (est, se) in PEERS["df_het"]["bjs_diffdiff_unit_cluster_state"].items():
        assert got[term][0] == pytest.approx(est, abs=1e-8), term
        assert got[term][1] == pytest.approx(se, rel=1e-6), term
    two = imputation(df_het, **kw, vcov="two_stage")
    est, se = PEERS["df_het"]["did2s_unit_year"]["treat_now::True"]
    assert (two.estimate, two.se) == pytest.approx((est, se), rel=1e-6)


@pytest.mark.skipif(
    importlib.util.find_spec("pyfixest") is None, reason="pyfixest not installed (live check)"
)
def test_live_pyfixest_did2s_on_mpdta():  # pragma: no cover - optional peer
    import functools

    import pyfixest as pf

    d2 = importlib.import_module("pyfixest.did.did2s")
    d2.feols = functools.partial(d2.feols, fixef_rm="none")
    pdf = MPDTA.rename({"first.treat": "g"}).to_pandas()
    pdf["treat_now"] = (pdf.g > 0) & (pdf.year >= pdf.g)
    fit = pf.did2s(
        pdf,
        yname="lemp",
        first_stage="~0|countyreal+year",
        second_stage="~i(treat_now)",
        treatment="treat_now",
        cluster="countyreal",
    )
    res = imputation(MPDTA, **COLS, vcov="two_stage")
    assert res.estimate == pytest.approx(float(fit.coef().iloc[0]), abs=1e-9)
    assert res.se == pytest.approx(float(fit.se().iloc[0]), rel=1e-7)


@pytest.mark.parametrize("leads", [True, 2])
def test_bjs_pretrend_test_matches_diff_diff(leads):
    ref = PEERS["mpdta"]["bjs_pretrends_diffdiff"]
    res = imputation(MPDTA, **COLS, pretrends=leads)
    F, p = ref["tests"]["all" if leads is True else str(leads)]
    assert res.pretrend_stat == pytest.approx(F, rel=1e-8)
    assert res.pretrend_pvalue == pytest.approx(p, rel=1e-8)
    got = _rows(res)
    if leads is True:
        for term, (est, se) in ref["leads"].items():
            assert got[term][0] == pytest.approx(est, abs=1e-10), term
            assert got[term][1] == pytest.approx(se, rel=1e-8), term
    else:
        assert [t for t in got if t.startswith("e=-")] == ["e=-3", "e=-2"]
    assert got["ATT"][0] == pytest.approx(-0.047710, abs=5e-7)  # leads leave the ATT alone
