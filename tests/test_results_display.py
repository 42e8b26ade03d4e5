"""Results of ai, roi and planning on the contract; every result renders through certkit.display."""

from __future__ import annotations

import math
import warnings

import numpy as np
import polars as pl
import pytest

import certkit as ck
from certkit import ai, did, narrative, roi
from certkit.errors import CertkitError, CertkitWarning
from certkit.results import TIDY_COLUMNS


@pytest.fixture(scope="module")
def small():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        ds = ck.simulate(n_engineers=120, months=18, seed=3)
        panel = ck.build_panel(ds, "month")
        es = did.event_study(
            panel, outcome="merged_prs", unit="engineer_id", time="period_index", group="cohort"
        )
        cmp = ai.compare(ds, ("cycle_time_log", "reverted"))
    return ds, panel, es, cmp


def _plain_text_checks(text: str) -> None:
    assert "shape:" not in text
    for dtype_row in ("f64", "i64", " str ", "---"):
        assert dtype_row not in text


def test_ai_comparison_keeps_the_contract(small):
    _, _, _, cmp = small
    tidy = cmp.tidy()
    assert tuple(tidy.columns) == (*TIDY_COLUMNS, "n")
    legacy = cmp.to_polars()
    np.testing.assert_allclose(tidy["estimate"], legacy["estimate"])
    np.testing.assert_allclose(tidy["std_error"], legacy["se"])
    np.testing.assert_allclose(tidy["p_value"], legacy["p_value"], rtol=1e-9)
    assert tidy["n"].to_list() == legacy["n_prs"].to_list()
    assert set(cmp.headline()["term"]) == {"cycle_time_log: adjusted", "reverted: adjusted"}
    assert "adjusted" in cmp.effect_summary().text or "gap" in cmp.effect_summary().text
    eff = roi.from_result(cmp, "log_cycle_time", term="cycle_time_log: adjusted")
    row = cmp.effect("cycle_time_log")
    assert (eff.estimate, eff.se) == (row["estimate"], row["se"])
    with pytest.raises(CertkitError, match="headline rows"):
        roi.from_result(cmp, "log_cycle_time")  # two outcomes: say which
    spec = cmp.plot().to_dict()
    assert "facet" in spec
    assert "\n" not in repr(cmp) and repr(cmp).startswith(cmp.title)


def test_roi_result_has_a_tidy_headline_and_a_one_line_repr(small):
    _, _, es, _ = small
    eff = roi.from_result(es, "prs_per_month", name="extra merged PRs")
    overall = es.tidy().filter(pl.col("term") == es.headline()["term"][0])
    assert (eff.estimate, eff.se) == (overall["estimate"][0], overall["std_error"][0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        res = roi.roi(eff, n_sims=2_000, seed=1)
    tidy = res.tidy()
    assert tuple(tidy.columns) == TIDY_COLUMNS
    head = res.headline().row(0, named=True)
    assert head["term"] == "roi" and head["estimate"] == pytest.approx(res.roi_median)
    assert (head["conf_low"], head["conf_high"]) == pytest.approx(res.roi_interval)
    assert math.isnan(head["std_error"]) and math.isnan(head["p_value"])
    assert res.effect_summary().text == res.statement()
    text = repr(res)
    assert "\n" not in text and len(text) < 200 and "array" not in text
    assert "P(ROI > 0)" in text
    assert res.plot().to_dict() and res.plot_sensitivity().to_dict()["mark"]["type"] == "bar"


def test_results_render_every_event_time_without_shape_or_dtype_rows(small):
    _, _, es, cmp = small
    text = es.summary()
    _plain_text_checks(text)
    html = es._repr_html_()
    assert "shape:" not in html and "<table" in html
    events = es.to_polars()["e"].to_list()
    assert len(events) > 10  # more rows than polars' default preview would show
    body = [line.split() for line in text.splitlines()]
    shown = [int(p[0]) for p in body if p and p[0].lstrip("-").isdigit()]
    assert shown == events  # every event time, in order, none cut
    assert html.count("<tr ") == len(events)
    _plain_text_checks(cmp.summary())
    assert "\n" not in repr(es)


def test_narrative_reads_results_through_tidy(small):
    _, panel, es, cmp = small
    row = narrative.effect_of("merged_prs", es, panel)
    head = es.headline().row(0, named=True)
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == (
        head["estimate"],
        head["conf_low"],
        head["conf_high"],
    )
    words = narrative.pretrend_words(es)
    assert words.startswith(es.pretrend_verdict.rstrip("."))
    assert narrative.ai_summary(cmp, None, None) == narrative.ai_summary(
        cmp.to_polars(), None, None
    )
