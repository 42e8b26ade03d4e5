"""The panel contract: unit/time/group default to the columns build_panel writes."""

from __future__ import annotations

import warnings

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import certkit as ck
from certkit import did, matching
from certkit.data.contract import GROUP, PANEL_COLUMNS, TIME, UNIT, PanelColumns, panel_columns
from certkit.data.panel_engines import PANEL_SCHEMA
from certkit.errors import CertkitError

RENAMED = {UNIT: "eid", TIME: "t", GROUP: "g"}
EXPLICIT = {"unit": "eid", "time": "t", "group": "g"}


@pytest.fixture(scope="module")
def panels() -> tuple[pl.DataFrame, pl.DataFrame]:
    """The sample organisation's panel, and the same panel under other column names."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = ck.build_panel(ck.load_sample())
    return panel, panel.rename(RENAMED)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def test_contract_names_the_columns_build_panel_writes(panels):
    panel, _ = panels
    assert PANEL_COLUMNS == {"unit": UNIT, "time": TIME, "group": GROUP}
    for col in (UNIT, TIME, GROUP):
        assert col in panel.columns
        assert col in PANEL_SCHEMA
    assert panel[TIME].dtype.is_integer()
    assert panel[GROUP].dtype.is_numeric()
    assert panel.select(UNIT, TIME).is_unique().all()
    # the group column is constant within each unit and 0 for the never certified
    assert panel.group_by(UNIT).agg(pl.col(GROUP).n_unique())[GROUP].max() == 1
    assert (panel[GROUP] == 0).any() and (panel[GROUP] > 0).any()


@pytest.mark.parametrize(
    "fn, kwargs",
    [
        (did.att_gt, {"control": "not_yet"}),
        (did.event_study, {"max_e": 3}),
        (did.twfe, {}),
        (did.compare_twfe, {}),
        (did.imputation, {}),
        (did.sun_abraham, {}),
    ],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_defaults_equal_explicit_names(panels, fn, kwargs):
    panel, renamed = panels
    default = quiet(fn, panel, outcome="merged_prs", **kwargs)
    explicit = quiet(fn, renamed, outcome="merged_prs", **EXPLICIT, **kwargs)
    assert default.tidy().height > 0
    assert_frame_equal(default.tidy(), explicit.tidy())
    assert list(default.warnings) == list(explicit.warnings)


def test_robustness_defaults_equal_explicit_names(panels):
    panel, renamed = panels
    default = quiet(did.robustness, panel, outcome="merged_prs")
    explicit = quiet(did.robustness, renamed, outcome="merged_prs", **EXPLICIT)
    assert default.tidy()["estimate"].is_finite().sum() >= 4
    assert_frame_equal(default.tidy(), explicit.tidy())
    assert default.verdict == explicit.verdict


def test_matching_defaults_equal_explicit_names(panels):
    panel, renamed = panels
    names = {"unit": "eid", "time": "t", "cohort": "g"}
    default = quiet(matching.matched_did, panel, outcome="merged_prs")
    explicit = quiet(matching.matched_did, renamed, outcome="merged_prs", **names)
    assert_frame_equal(default.tidy(), explicit.tidy())
    base = quiet(matching.baseline_table, panel)
    base_explicit = quiet(matching.baseline_table, renamed, **names)
    assert base.height > 0
    assert_frame_equal(base, base_explicit.rename({"eid": UNIT, "g": GROUP}))


@pytest.mark.parametrize(
    "fn",
    [
        did.att_gt,
        did.event_study,
        did.twfe,
        did.compare_twfe,
        did.imputation,
        did.sun_abraham,
        did.robustness,
    ],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize("role", ["unit", "time", "group"])
def test_missing_default_column_names_column_and_argument(panels, fn, role):
    panel, _ = panels
    col = PANEL_COLUMNS[role]
    data = panel.rename({col: "other"})
    with pytest.raises(CertkitError) as err:
        fn(data, outcome="merged_prs")
    msg = str(err.value)
    assert f"no column {col!r}" in msg
    assert f"pass {role}=" in msg
    # naming the column explicitly works
    quiet(fn, data, outcome="merged_prs", **{role: "other"})


def test_matching_missing_default_names_the_cohort_argument(panels):
    panel, _ = panels
    for fn, kw in [
        (matching.matched_did, {"outcome": "merged_prs"}),
        (matching.baseline_table, {}),
    ]:
        with pytest.raises(CertkitError, match=r"no column 'cohort'.*pass cohort="):
            fn(panel.rename({GROUP: "first_cert"}), **kw)


def test_panel_columns_resolves_only_none():
    df = pl.DataFrame({"a": [1], "b": [2]})
    # given names are returned as they are, whether or not the data has them
    assert panel_columns(df, "x", "y", "z") == ("x", "y", "z")
    cols = panel_columns(pl.DataFrame({UNIT: [1], TIME: [1], GROUP: [0]}), time=None)
    assert isinstance(cols, PanelColumns)
    assert cols._asdict() == {"unit": UNIT, "time": TIME, "group": GROUP}
    with pytest.raises(CertkitError, match=r"no column 'period_index'.*pass time="):
        panel_columns(df, unit="a", group="b")
    lazy = pl.DataFrame({UNIT: [1], TIME: [1]}).lazy()
    with pytest.raises(CertkitError, match=r"no column 'cohort'.*pass group="):
        panel_columns(lazy)
    assert panel_columns(pd.DataFrame({UNIT: [1], TIME: [1], GROUP: [0]})).group == GROUP
    # something that is not a frame is left to the estimator's own check
    assert panel_columns([1, 2]) == (UNIT, TIME, GROUP)
