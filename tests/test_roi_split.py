"""analytics/roi.py split (issue 11): the model in roi_model.py, every public name unchanged."""

from __future__ import annotations

import warnings

import polars as pl
import pytest

import certkit as ck
from certkit.analytics import roi, roi_model


def test_public_names_resolve_to_the_model():
    for name in ("UNITS", "DEFAULTS", "catalog_costs", "costs_from_data"):
        assert getattr(ck.roi, name) is getattr(roi_model, name)
    assert ck.roi.roi is roi.roi and ck.roi.Effect is roi.Effect
    assert set(roi.__all__) >= {"Effect", "ROIResult", "from_result", "roi", "UNITS"}


def test_result_methods_delegate_to_the_model_functions():
    eff = roi.Effect(1.0, 0.4, "prs_per_month", "extra PRs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = roi.roi(eff, n_sims=2000, seed=3, hourly_cost=(80.0, 120.0))
    table = roi_model.sensitivity_table([eff], res.assumptions, res.horizon_months)
    assert res.sensitivity().equals(table)
    assert table["swing"].is_sorted(descending=True) and "effect: extra PRs" in table["assumption"]
    be = roi_model.break_even_effect([eff], res.assumptions, res.horizon_months)
    assert res.break_even_effect() == be
    # at the break-even effect the central ROI is zero
    at_be = roi.ROIResult(
        [roi.Effect(be, 0.0, "prs_per_month")], res.assumptions, 12.0, 1, res.draws, 0.95, 3
    )
    assert at_be.central()["roi"] == pytest.approx(0.0, abs=1e-9)
    central = roi_model.central_assumptions(res.assumptions)
    assert central["hourly_cost"] == 100.0 and central["study_hours"] == 70.0
    assert isinstance(res.to_polars(), pl.DataFrame)
