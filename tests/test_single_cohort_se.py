"""Callaway-Sant'Anna on cohorts of one engineer: the words stop calling its SE reliable.

Trial AE (getsentry/sentry-python): the effect line said "not evidence of an effect: 100% of
its weight rests on certification cohorts of one engineer", while the robustness line below it
said "all 2 with a reliable standard error are distinguishable from zero" (the two CS
estimates, on the same seven cohorts), HonestDiD "It stays significant unless ..." and
``roi.from_result(es, ...)`` "the chance that it is positive is 99%". A CS aggregation with at
least ``SINGLE_WEIGHT_LIMIT`` of its weight on such cells is now treated as Sun-Abraham and BJS
already were; its numbers stay R did's.
"""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest

from certkit import did, roi
from certkit.did.honestdid import event_study_inputs
from certkit.did.robust_panel import CS_NEVER, CS_NOTYET, IMPUTATION, SUNAB, TWFE
from certkit.errors import CertkitError
from certkit.narrative.effects import SINGLE_WEIGHT_LIMIT
from tests.test_did_singleton import COHORTS, S
from tests.test_did_singleton import panel as singleton_panel


def panel(size, effect: float = 3.0) -> pl.DataFrame:
    """The singleton tests' panel (``tests/test_did_singleton.py``) with a clear effect."""
    return singleton_panel(size, effect=effect)


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


@pytest.fixture(scope="module")
def ones():
    return panel(1)


@pytest.fixture(scope="module")
def fives():
    return panel(5)


def test_cs_aggregations_flag_their_standard_error_as_the_headline_does(ones, fives):
    res = quiet(did.att_gt, ones, **S)
    agg = res.aggregate("simple")
    assert agg.single_weight == pytest.approx(1.0) and agg.se_reliable is False
    assert agg.thin.cohorts == [float(g) for g in COHORTS] and agg.thin.engineers == 5
    assert "not reliable" in agg.summary() and "(not reliable)" in repr(agg)
    # every aggregation's overall row is flagged, and each element by its own share
    for kind in ("dynamic", "group", "calendar"):
        a = res.aggregate(kind)
        assert a.se_reliable is False and a.thin.share["overall"] == pytest.approx(1.0)
    assert quiet(did.event_study, ones, **S).se_reliable is False

    agg5 = quiet(did.att_gt, fives, **S).aggregate("simple")
    assert agg5.single_weight == 0.0 and agg5.thin is None and agg5.se_reliable is True
    assert "not reliable" not in agg5.summary() + repr(agg5)


def test_flag_follows_the_headline_limit_not_the_thin_share_of_sun_abraham():
    """27% of the weight on one-engineer cells: Sun-Abraham and BJS (10%) are flagged, CS is
    not, as the headline does not call it "not evidence" under ``SINGLE_WEIGHT_LIMIT``."""
    agg = quiet(did.att_gt, panel([1, 1, 3, 3, 3]), **S).aggregate("simple")
    assert 0.1 < agg.single_weight < SINGLE_WEIGHT_LIMIT and agg.thin is not None
    assert agg.se_reliable is True
    rob = quiet(did.robustness, panel([1, 1, 3, 3, 3]), **S)
    assert rob.unreliable == [SUNAB, IMPUTATION]


def test_robustness_counts_no_cs_standard_error_as_reliable_on_one_engineer_cohorts(ones):
    rob = quiet(did.robustness, ones, **S)
    assert rob.unreliable == [CS_NEVER, CS_NOTYET, SUNAB, IMPUTATION]
    v = rob.verdict
    assert "with a reliable standard error" not in v and "are distinguishable" not in v
    assert "none has a reliable, finite standard error" in v
    assert (
        "CS (never treated), CS (not yet treated), Sun-Abraham and Imputation (BJS) are left out"
        in v
    )
    assert "CS (never treated): 5 cohorts, 5 engineers, 100% of its weight" in v
    flags = dict(rob.to_polars().select("term", "se_reliable").iter_rows())
    assert flags == {CS_NEVER: False, CS_NOTYET: False, SUNAB: False, IMPUTATION: False, TWFE: True}
    assert f"{CS_NEVER} (SE not reliable)" in str(rob.plot().to_dict())
    # the numbers are R did's, unchanged: only the flag and the words moved
    agg = quiet(did.att_gt, ones, **S, control="never").aggregate("simple")
    row = rob.tidy().filter(pl.col("term") == CS_NEVER).row(0, named=True)
    assert (row["estimate"], row["std_error"]) == (agg.overall_att, agg.overall_se)


def test_robustness_unchanged_on_cohorts_of_five(fives):
    rob = quiet(did.robustness, fives, **S)
    assert rob.unreliable == [] and "left out" not in rob.verdict
    assert "are distinguishable from zero at the 95% level" in rob.verdict


def _event_study(data):
    return quiet(did.event_study, data, **S, base_period="universal", min_e=-3, max_e=3)


def test_honest_words_carry_the_caveat_and_keep_the_numbers(ones):
    es = _event_study(ones)
    sens = did.honest(result=es)
    text = sens.effect_summary().text
    assert sens.single_weight == pytest.approx(1.0) and sens.se_reliable is False
    assert "significant" not in text  # "It stays significant unless ..." (trial AE)
    assert "Its standard error is not reliable: 100% of its weight rests on certification " in text
    assert "robust ones built on it are too narrow" in text
    assert "not reliable" in sens.summary()
    # the same inputs without the result (no cohort facts): R HonestDiD's numbers and words
    inp = event_study_inputs(es)
    bare = did.honest(
        inp["betahat"],
        inp["sigma"],
        num_pre_periods=inp["num_pre_periods"],
        num_post_periods=inp["num_post_periods"],
    )
    assert bare.se_reliable is True and "significant" in bare.effect_summary().text
    assert bare.breakdown == sens.breakdown and bare.original == sens.original
    np.testing.assert_array_equal(bare.conf_low, sens.conf_low)


def test_honest_words_unchanged_on_cohorts_of_five(fives):
    sens = did.honest(result=_event_study(fives))
    assert sens.single_weight == 0.0 and sens.se_reliable is True
    assert "not reliable" not in sens.effect_summary().text
    assert "significant" in sens.effect_summary().text


def test_roi_from_result_refuses_a_cs_standard_error_on_one_engineer_cohorts(ones, fives):
    es = quiet(did.event_study, ones, **S)
    agg = es.parent.aggregate("simple")
    for res, term in ((es, "overall"), (agg, "ATT")):
        with pytest.raises(CertkitError, match=rf"standard error of {term} .* not reliable: "):
            roi.from_result(res, "prs_per_month")
        e = roi.from_result(res, "prs_per_month", allow_unreliable_se=True)
        assert (e.estimate, e.se) == (res.estimate, float(res.tidy()["std_error"][-1]))
    with pytest.raises(CertkitError, match="single engineer .* coarser periods") as err:
        roi.from_result(agg, "prs_per_month")
    assert "Callaway-Sant'Anna" not in str(err.value)  # not "use CS" for CS itself
    # cohorts of five: read as before
    e5 = roi.from_result(quiet(did.event_study, fives, **S), "prs_per_month")
    assert np.isfinite(e5.se) and e5.caveat is None
    # used anyway: the ROI's statement says why it is not to be trusted (trial AF)
    e = roi.from_result(agg, "prs_per_month", allow_unreliable_se=True)
    assert e.caveat.startswith("its standard error is not reliable: ")
    text = roi.roi([e], certification="aws-mla-c01", seed=1).statement()
    assert "rest on a standard error not to be trusted" in text and e.caveat in text
    assert "not to be trusted" not in roi.roi([e5], certification="aws-mla-c01").statement()
