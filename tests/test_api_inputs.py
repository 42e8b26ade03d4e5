"""The Python API on an analyst's inputs: pandas frames, typos, wrong argument types.

Bad input gets a CertkitError that names what was wrong and what was expected, never a
traceback from polars or numpy; every result meets the tidy()/effect_summary() contract.
Small hand-made panels (and the bundled sample for from_frames and adoption_did) keep this
file fast.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import certkit as ck
from certkit import did, matching
from certkit.analytics.adoption_result import AdoptionSensitivity
from certkit.errors import CertkitError, CertkitWarning
from certkit.report import params as report_params
from certkit.results import TIDY_COLUMNS, EffectSummary

pytestmark = pytest.mark.filterwarnings("ignore::certkit.errors.CertkitWarning")
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _panel(n: int = 60, periods: int = 10, seed: int = 0) -> pl.DataFrame:
    """A certkit-shaped engineer x period panel: cohorts 0 (never), 5, 6 and 7."""
    rng = np.random.default_rng(seed)
    cohort = rng.choice([0, 0, 5, 6, 7], size=n)
    level = rng.choice(["L3", "L4", "L5"], size=n)
    tenure = rng.integers(6, 60, size=n)
    rows = []
    for i in range(n):
        for t in range(1, periods + 1):
            treated = cohort[i] > 0 and t >= cohort[i]
            y = 5 + 0.1 * t + (1.0 if treated else 0.0) + rng.normal(0, 1)
            rows.append((f"e{i:02d}", t, int(cohort[i]), y, level[i], int(tenure[i]) + t))
    return pl.DataFrame(
        rows,
        schema=["engineer_id", "period_index", "cohort", "merged_prs", "level", "tenure_months"],
        orient="row",
    )


@pytest.fixture(scope="module")
def panel() -> pl.DataFrame:
    return _panel()


def test_matching_refuses_pandas_with_the_did_message(panel):
    pdf = panel.to_pandas()
    calls = {
        "panel": [
            lambda: matching.matched_did(pdf, outcome="merged_prs", covariates=["tenure_months"]),
            lambda: matching.baseline_table(pdf, outcomes=["merged_prs"]),
        ],
        "data": [
            lambda: matching.match(pdf, treatment="certified", covariates=["level"]),
            lambda: matching.estimate_att(pdf, treatment="certified", outcome="merged_prs"),
            lambda: did.att_gt(pdf, outcome="merged_prs"),
        ],
        "balance": [lambda: matching.balance_summary(pdf)],
    }
    for name, fns in calls.items():
        for fn in fns:
            with pytest.raises(CertkitError) as err:
                fn()
            msg = str(err.value)
            assert msg.startswith(f"{name} must be a polars DataFrame")
            assert "got pandas.DataFrame" in msg and f"polars.from_pandas({name})" in msg


def test_matching_typo_in_the_outcome_lists_the_columns(panel):
    with pytest.raises(CertkitError) as err:
        matching.matched_did(panel, outcome="merged_pr", covariates=["tenure_months"])
    assert "outcome='merged_pr'" in str(err.value) and "'merged_prs'" in str(err.value)
    with pytest.raises(CertkitError) as err:
        matching.baseline_table(panel, outcomes=["merged_prs", "merged_pr"])
    assert "outcomes[1]='merged_pr'" in str(err.value) and "'merged_prs'" in str(err.value)
    with pytest.raises(CertkitError, match=r"covariates\[0\]='tenure'"):
        matching.matched_did(panel, outcome="merged_prs", covariates=["tenure"])
    with pytest.raises(CertkitError, match="pre_periods must be a whole number"):
        matching.matched_did(panel, outcome="merged_prs", covariates=["level"], pre_periods="3")


def test_from_frames_accepts_pandas_tables():
    ds = ck.load_sample()
    keep = ds.engineers["engineer_id"].head(30).to_list()
    tables = {
        "engineers": ds.engineers.filter(pl.col("engineer_id").is_in(keep)),
        "certifications": ds.certifications.filter(pl.col("engineer_id").is_in(keep)),
        "pull_requests": ds.pull_requests.filter(pl.col("author_id").is_in(keep)),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        from_polars = ck.from_frames(**tables)
        from_pandas = ck.from_frames(**{k: v.to_pandas() for k, v in tables.items()})
    for name in tables:
        assert getattr(from_pandas, name).equals(getattr(from_polars, name)), name
    assert from_pandas.pull_requests.height > 0
    with pytest.raises(CertkitError, match="engineers must be a polars or pandas DataFrame"):
        ck.from_frames(engineers=[1, 2], pull_requests=tables["pull_requests"])


@pytest.mark.parametrize(
    ("kwargs", "name", "shown"),
    [
        ({"min_e": "-6"}, "min_e", "'-6'"),
        ({"max_e": 2.5}, "max_e", "2.5"),
        ({"balance_e": True}, "balance_e", "True"),
    ],
)
def test_event_study_event_times_must_be_ints(panel, kwargs, name, shown):
    with pytest.raises(CertkitError) as err:
        did.event_study(panel, outcome="merged_prs", **kwargs)
    assert str(err.value).startswith(f"{name} must be a whole number") and shown in str(err.value)


def test_att_gt_integer_arguments(panel):
    with pytest.raises(CertkitError, match="anticipation must be a whole number.*'1'"):
        did.att_gt(panel, outcome="merged_prs", anticipation="1")
    with pytest.raises(CertkitError, match="n_boot must be a whole number.*99.5"):
        did.att_gt(panel, outcome="merged_prs", bootstrap=True, n_boot=99.5)
    res = did.att_gt(panel, outcome="merged_prs", anticipation=np.int64(0))
    agg = res.aggregate("dynamic", min_e=np.int64(-2), max_e=2)
    assert sorted(agg.to_polars()["e"].to_list()) == [-2, -1, 0, 1, 2]
    with pytest.raises(CertkitError, match="min_e must be a whole number"):
        res.aggregate("dynamic", min_e=-2.0)


def _honest() -> did.HonestResult:
    beta = np.array([0.02, -0.01, 0.0, 0.3, 0.35])  # three pre-periods, two post
    sigma = np.diag([0.001, 0.001, 0.001, 0.0012, 0.0015])
    return did.honest(
        betahat=beta,
        sigma=sigma,
        num_pre_periods=3,
        num_post_periods=2,
        mbar=[0.5, 1.0, 5.0],
        outcome="merged_prs",
    )


def test_honest_results_meet_the_contract():
    res = _honest()
    for r in (res, AdoptionSensitivity.adopt(res)):
        t = r.tidy()
        assert t.columns[:7] == list(TIDY_COLUMNS)
        assert t.columns[7:] == ["method", "mbar", "significant"]
        original, robust = t.head(1), t.tail(3)
        assert original["std_error"][0] == pytest.approx(r.se)
        assert original["p_value"][0] is not None and 0 <= original["p_value"][0] <= 1
        assert robust.select("std_error", "statistic", "p_value").null_count().row(0) == (3, 3, 3)
        summary = r.effect_summary()
        assert isinstance(summary, EffectSummary)
        assert summary.table.equals(t) and "<table" in summary._repr_html_()
        assert "merged_prs" in summary.text and summary.text in str(summary)
    adopted = AdoptionSensitivity.adopt(res).effect_summary().text
    assert "post-certification" in res.effect_summary().text  # the words that are replaced
    assert "certification" not in adopted and "post-adoption trend violations" in adopted
    assert "in words" in res.summary()


def test_report_outcomes_parameter_is_checked_before_kernels_start():
    declared = {
        name: report_params.declared(NOTEBOOKS / f"{name}.ipynb")
        for name in ("02_certification_impact", "01_data_health")
    }
    given = report_params.parse_assignments(["outcomes=[merged_pr, revert_rate]"])
    with pytest.raises(CertkitError) as err:
        report_params.validate(given, declared)
    msg = str(err.value)
    assert "unknown outcome(s) 'merged_pr'" in msg and "'merged_prs' for 'merged_pr'" in msg
    assert "revert_rate" in msg.split("outcomes may be:")[1]  # the valid ones are listed
    ok = report_params.validate({"outcomes": ["merged_prs", "revert_rate"]}, declared)
    assert ok["02_certification_impact"]["outcomes"] == ["merged_prs", "revert_rate"]
    assert "outcomes" not in ok["01_data_health"]
    # fixed-choice parameters too (period=weekly failed in the notebook, after the kernel)
    with pytest.raises(CertkitError, match=r"'period': 'weekly' is not one of .*'week'\?"):
        report_params.validate({"period": "weekly"}, declared)
    with pytest.raises(CertkitError, match="'control_group': 'notyet'.*did you mean 'not_yet'"):
        report_params.validate({"control_group": "notyet"}, declared)
    assert report_params.validate({"period": "quarter"}, declared)["01_data_health"]["period"]


def test_report_ai_outcomes_parameter_is_checked_before_kernels_start():
    """ai_outcomes names PR-level outcomes (cycle_time_log, reverted, ...), not panel columns;
    a typo failed inside notebook 04's kernel."""
    declared = {"04_ai_outcomes": report_params.declared(NOTEBOOKS / "04_ai_outcomes.ipynb")}
    with pytest.raises(CertkitError) as err:
        report_params.validate({"ai_outcomes": ["cycle_time_log", "revert"]}, declared)
    msg = str(err.value)
    assert "'ai_outcomes'" in msg and "'reverted' for 'revert'" in msg, msg
    assert "defect" in msg.split("ai_outcomes may be:")[1]
    ok = report_params.validate({"ai_outcomes": ["reverted", "size_log"]}, declared)
    assert ok["04_ai_outcomes"]["ai_outcomes"] == ["reverted", "size_log"]


def test_adoption_did_passes_level_not_alpha():
    from certkit import adoption

    ds = ck.load_sample()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        warnings.simplefilter("error", DeprecationWarning)
        res = adoption.adoption_did(ds, "merged_prs", level=0.9, by_certified=False)
    assert res.level == 0.9
    row = res.tidy().row(0, named=True)
    assert row["conf_high"] - row["conf_low"] == pytest.approx(
        2 * 1.6448536269514722 * row["std_error"], rel=1e-9
    )


def test_matched_did_on_an_all_null_outcome_says_so():
    """click: matched_did on an all-null outcome said 'no certification cohort has 3 observed
    pre-period(s)... lower pre_periods', the wrong cause."""
    panel = ck.build_panel(ck.simulate(40, 8, seed=1), "month").with_columns(
        pl.lit(None, pl.Float64).alias("merged_prs")
    )
    with pytest.raises(CertkitError, match="'merged_prs' is entirely null"):
        ck.matching.matched_did(panel, outcome="merged_prs")


def _quiet_matched(panel: pl.DataFrame, pre: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        return ck.matching.matched_did(panel, outcome="merged_prs", pre_periods=pre)


def test_matched_did_hints_lower_pre_periods_only_when_it_can_help():
    """Trial H (sqlalchemy cycle time): every certified engineer had values on one side of
    certifying only; matched DiD said "lower pre_periods" at 3, again at 2, and 1 is refused."""
    panel = ck.build_panel(ck.simulate(60, 12, seed=2), "month")
    after_only = panel.with_columns(  # certified engineers' values only after certifying
        pl.when((pl.col("cohort") > 0) & (pl.col("period_index") < pl.col("cohort")))
        .then(None)
        .otherwise(pl.col("merged_prs"))
        .alias("merged_prs")
    )
    for pre in (3, 2):
        with pytest.raises(CertkitError, match="lowering pre_periods cannot help") as err:
            _quiet_matched(after_only, pre)
        assert "0 of " in str(err.value) and "lower pre_periods (" not in str(err.value)
    # values two periods before certifying, none earlier: 3 cannot match, 2 can
    two = panel.with_columns(
        pl.when((pl.col("cohort") > 0) & (pl.col("period_index") < pl.col("cohort") - 2))
        .then(None)
        .otherwise(pl.col("merged_prs"))
        .alias("merged_prs")
    )
    with pytest.raises(CertkitError, match=r"; lower pre_periods \(\d+ certified engineer"):
        _quiet_matched(two, 3)


def test_adoption_did_checks_its_options_before_the_data():
    """click (no adopter): control='notyet' said 'only 0 engineer(s) adopted AI'."""
    from certkit.analytics.adoption import adoption_did

    panel = ck.build_panel(ck.simulate(40, 8, seed=1), "month")
    with pytest.raises(CertkitError, match="control must be 'never' or 'not_yet', got 'notyet'"):
        adoption_did(panel, "merged_prs", control="notyet")


def test_matched_did_says_why_nothing_could_be_matched(panel):
    """pydantic-ai and fastapi: "fewer than two matched sets have post-period outcomes" / "no
    control unit was matched" and nothing more; the peers (authors outside the roster) all
    had role and level 'unknown'."""
    # one cohort, and the never-certified peers' level is 'unknown': no peer shares one
    first = panel.filter(pl.col("cohort") > 0)["cohort"].min()
    apart = panel.filter(pl.col("cohort").is_in([0, first])).with_columns(
        pl.when(pl.col("cohort") == 0).then(pl.lit("unknown")).otherwise("level").alias("level")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        with pytest.raises(CertkitError) as err:
            matching.matched_did(apart, outcome="merged_prs", covariates=["level", "tenure_months"])
    msg = str(err.value)
    assert "no control shares a treated unit's value of level" in msg, msg
    assert "roster-only" in msg and "'unknown'" in msg, msg
    # a roster-only dataset whose levels simply do not meet: no hint about outside authors
    apart = apart.with_columns(
        pl.when(pl.col("cohort") == 0).then(pl.lit("L3")).otherwise(pl.lit("L5")).alias("level")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        with pytest.raises(CertkitError) as err:
            matching.matched_did(apart, outcome="merged_prs", covariates=["level", "tenure_months"])
    msg = str(err.value)
    assert "no control shares a treated unit's value of level: match without it" in msg, msg
    assert "roster" not in msg, msg


def test_an_outcome_null_everywhere_says_why_and_what_to_import():
    """trial T: docs/did.md's cycle-time event study on a git-only import raised only
    "outcome column 'cycle_time_log_mean' is entirely null: nothing to estimate"."""
    from certkit.errors import OutcomeNotRecorded, check_outcome

    with pytest.raises(OutcomeNotRecorded, match="import a gh export or DevLake data"):
        check_outcome(pl.Series([None, None], dtype=pl.Float64), "cycle_time_log_mean")
    with pytest.raises(OutcomeNotRecorded, match=r"nothing to estimate$"):
        check_outcome(pl.Series([None], dtype=pl.Float64), "custom_metric")
