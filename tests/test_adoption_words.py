"""The AI-adoption study speaks of adopters and adoption, in the outcome's unit (trialA #8).

On pydantic-ai the adoption page said "certified and comparison groups were already diverging
before adoption", left a failed pre-trend test (p = 0.000) out of its verdict, showed "Sigma has
a zero or negative variance on its diagonal", "(n/a)" as a margin of error, "rework_rate
changed by -0.121 per engineer-period", and an axis "Periods since certification".
"""

from __future__ import annotations

import math
import re
import warnings
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
from adoption_panels import adoption_panel

from certkit import did
from certkit.analytics.adoption import adoption_did
from certkit.did.robust_base import tidy_rows
from certkit.did.robust_panel import CS_NEVER, CS_NOTYET, IMPUTATION, SUNAB, TWFE, _verdict
from certkit.errors import CertkitError, CertkitWarning
from certkit.privacy import Privacy
from certkit.report import Context, studies


def _study(panel: pl.DataFrame, *, min_e: int, max_e: int):
    """The report's AI-adoption study of ``panel`` (throughput; private, k = 5)."""
    engineers = pl.DataFrame({"engineer_id": panel["engineer_id"].unique().to_list()})
    ds = SimpleNamespace(engineers=engineers)
    ctx = Context(ds=ds, full=ds, panel=panel, privacy=Privacy(k=5), period="", filters={})
    return studies.adoption_study(
        ctx, ["merged_prs"], threshold=0.5, sustain=2, min_prs=1, min_e=min_e, max_e=max_e, notes=[]
    )


def _text(display) -> str:
    """The text of a Markdown/HTML display (charts have none)."""
    data = getattr(display, "data", None)
    return data if isinstance(data, str) else ""


@pytest.fixture(scope="module")
def diverging():
    """Adopters' rework rate already rising before adoption: the pre-trend test fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        return adoption_did(adoption_panel(trend=0.05), "rework_rate", min_e=-4, max_e=4)


def test_a_failed_pre_trend_test_is_in_the_verdict_in_adoption_words(diverging):
    res = diverging
    p = res.event_study.pretrend_pvalue
    assert p is not None and p < 0.05
    words = res.effect_summary().text
    said = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
    # in the verdict sentence, the second: the page's answer box keeps the first two
    verdict = re.split(r"(?<=[.!?])\s+(?=[A-Z])", words)[1]
    assert verdict.startswith("The interval") and "already diverging before adoption" in verdict
    assert said in verdict
    head = res._header()["pre-trends"]
    assert head.startswith("warning: adopters and engineers who had not adopted (yet)")
    assert "before adoption" in head
    # neither the verdict nor the notes speak of certified groups or certification
    for text in [words, head, *res.warnings, res.summary()]:
        assert "certified and comparison" not in text and "before certification" not in text
    assert any("adopters and comparison engineers already diverged" in w for w in res.warnings)


def test_the_effect_is_said_in_the_outcome_s_label_and_unit(diverging):
    words = diverging.effect_summary().text
    est = diverging.tidy()["estimate"][0]
    assert "per engineer-period" not in words and "rework_rate" not in words
    said = f"rework rate (share of added lines changed again) changed by {100 * est:+.3g} "
    assert said + "percentage points" in words


def test_the_event_study_axis_counts_periods_since_adopting(diverging):
    spec = diverging.plot().to_dict()
    titles = [layer["encoding"].get("x", {}).get("title") for layer in spec["layer"]]
    assert "Periods since adopting AI" in titles
    assert not any(t and "certification" in t for t in titles)


def test_no_variance_before_adoption_is_said_in_plain_words():
    """HonestDiD on estimates with no variance names the event times and says why."""
    e = np.array([-3.0, -2.0, -1.0, 0.0, 1.0])
    b = np.array([0.0, 0.1, 0.0, 0.3, 0.2])
    v = np.diag([0.0, 0.01, 0.0, 0.02, 0.02])  # e = -3 has none; e = -1 is the reference
    with pytest.raises(CertkitError) as err:
        did.honestdid.event_time_inputs(e, b, v)
    msg = str(err.value)
    assert "e = -3" in msg and "e = -2" not in msg and "no variance" in msg
    assert "single engineer" in msg and "does not vary" in msg and "diagonal" not in msg
    with pytest.raises(CertkitError) as err:
        did.honest(
            betahat=b[[0, 1, 3, 4]],
            sigma=np.diag([0.0, 0.01, 0.02, 0.02]),
            num_pre_periods=2,
            num_post_periods=2,
        )
    assert "estimate(s) 1 of betahat" in str(err.value)
    assert "zero or negative variance on its diagonal" not in str(err.value)


def test_the_robustness_margin_of_error_is_never_n_a():
    """An estimator without an interval is left out of the typical margin of error."""
    names = [CS_NEVER, CS_NOTYET, SUNAB, IMPUTATION, TWFE]
    se = [math.nan, 0.05, 0.06, 0.05, 0.05]
    table = tidy_rows(names, [0.1, 0.11, 0.12, 0.1, 0.1], se, [10] * 5, 0.95)
    _, text = _verdict(table, "revert rate", 0.95)
    assert "n/a" not in text and "nan" not in text.lower()
    margin = 1.959963984540054 * 0.05  # the median half-width of the three finite intervals
    assert f"({margin:.3g})" in text


def test_the_tables_say_what_their_counts_count():
    """Adopters in the effect table; adopter-periods after adoption in the robustness table."""
    study = _study(adoption_panel(), min_e=-3, max_e=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        effect = study.effect_displays()
        robust = study.robustness_displays()
    effect_html = "".join(_text(d) for d in effect)
    robust_html = "".join(_text(d) for d in robust)
    assert "<th>adopters behind it</th>" in effect_html and "<th>n</th>" not in effect_html
    assert "<th>adopter-periods after adoption</th>" in robust_html
    assert "<th>n</th>" not in robust_html and "8 adopters" in robust_html


def test_an_effect_without_interval_says_why_from_the_data(monkeypatch):
    """Trial H (xarray, revert rate): the answer box said only "The effect of adopting AI on
    revert rate could not be estimated." with the reason far below. The words now give it,
    from the data: here the adopters' rework rate is 0 throughout (the interval is taken
    away, as when the estimator finds no standard error)."""
    panel = adoption_panel(trend=0.0)
    ever = panel.group_by("engineer_id").agg((pl.col("ai_share") > 0).any().alias("_adopter"))
    flat = (
        panel.join(ever, on="engineer_id")
        .with_columns(
            pl.when(pl.col("_adopter"))
            .then(0.0)
            .otherwise(pl.col("rework_rate"))
            .alias("rework_rate")
        )
        .drop("_adopter")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        res = adoption_did(flat, "rework_rate", min_e=-4, max_e=4)
    tidy = res.tidy()
    no_interval = tidy.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("std_error", "conf_low", "conf_high", "p_value")
    )
    monkeypatch.setattr(res, "tidy", lambda: no_interval)
    words = res.effect_summary().text
    assert "could not be estimated: the adopters' rework rate" in words
    assert "is 0 in every period they have one, so there is no change to measure" in words
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        other = adoption_did(panel, "rework_rate", min_e=-4, max_e=4)
    monkeypatch.setattr(other, "tidy", lambda: no_interval)
    assert "its standard error cannot be computed" in other.effect_summary().text


def test_certification_and_ai_use_is_said_in_percentage_points():
    """trial N: "certification and AI use: Effect: +0.167 (95% interval -0.0643 to 0.398,
    p = 0.157)" named neither the outcome nor its unit."""
    from certkit.analytics.adoption_result import certification_ai_words

    row = {"estimate": 0.167, "conf_low": -0.0643, "conf_high": 0.398, "p_value": 0.157}
    text = certification_ai_words(row)
    assert text.startswith("After certifying, an engineer's AI-assisted share of merged PRs ")
    assert "+16.7 percentage points (95% CI -6.43 to +39.8 percentage points)" in text
    assert "cannot tell this apart from no change" in text
    up = certification_ai_words(row | {"conf_low": 0.05, "p_value": 0.01})
    assert up.endswith("the data show an increase.")
    assert "could not be estimated" in certification_ai_words(row | {"conf_low": math.nan})


def test_the_dynamic_overall_counts_the_engineers_behind_its_periods_after():
    """trial O: "certification and AI use" on one engineer in one month was shown in a shared
    report (gated on the 5 with AI use before and after) and said "on average after
    certifying"; the dynamic aggregation now says how many engineers are behind it."""
    from certkit.analytics.adoption import certification_effect_on_ai

    panel = adoption_panel(seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = certification_effect_on_ai(panel, min_e=-2, max_e=40)
        simple = did.att_gt(
            panel, outcome="ai_share", unit="engineer_id", time="period_index", group="cohort"
        ).aggregate("simple")
        first = certification_effect_on_ai(panel, min_e=-2, max_e=0)
    # every period after: the simple aggregation's cells, so the same engineers
    assert whole.n_engineers == simple.n_engineers > 0
    assert 0 < first.n_engineers <= whole.n_engineers  # the certification period's only


def test_certification_and_ai_use_on_one_engineer_says_so():
    from certkit.analytics.adoption_result import certification_ai_words

    row = {"estimate": 0.5, "conf_low": -0.193, "conf_high": 1.19, "p_value": 0.157}
    text = certification_ai_words(row, n=1, k=5)
    assert "it rests on only 1 certified engineer (a shared report needs 5" in text
    assert "runs past the 100 percentage points a share can move" in text
    calm = certification_ai_words(row | {"conf_high": 0.9}, n=40, k=5)
    assert "rests on" not in calm and "runs past" not in calm and calm.endswith("change.")


def test_certification_and_ai_use_weighs_engineers_and_hides_small_points():
    """browser-use (trial Q, Q2 and Q3): "+25.2 percentage points, p = 0.0002" came from the
    event study's average, which weighs each event time the same: its last two rested on one
    engineer each, with no standard error. And the shared chart drew 8 of 13 points on 1-4
    certified engineers, the last one engineer's month."""
    from datetime import date

    from certkit.analytics.adoption_result import certification_ai_words

    rng = np.random.default_rng(3)
    rows = []
    people = [(f"n{i}", 0) for i in range(12)] + [(f"c{i}", 4) for i in range(6)] + [("e0", 2)]
    for eng, cohort in people:
        for t in range(1, 11):
            late = eng == "e0" and t >= 8  # the early certified engineer's last months
            share = 1.0 if late else float(rng.uniform(0, 0.2))
            rows.append(
                {
                    "engineer_id": eng,
                    "period_index": t,
                    "period": date(2025, t, 1),
                    "cohort": cohort,
                    "post": bool(cohort) and t >= cohort,
                    "merged_prs": 5,
                    "ai_share": share,
                }
            )
    panel = pl.DataFrame(rows)
    engineers = pl.DataFrame({"engineer_id": [e for e, _ in people]})
    ds = SimpleNamespace(engineers=engineers)
    shown = {}
    for share in (False, True):
        ctx = Context(
            ds=ds, full=ds, panel=panel, privacy=Privacy(k=5, share=share), period="", filters={}
        )
        study = studies.adoption_study(
            ctx, ["merged_prs"], threshold=0.5, sustain=2, min_prs=1, min_e=-1, max_e=8, notes=[]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            displays = study.certification_displays()
        charts_ = [d for d in displays if hasattr(d, "to_dict")]
        assert len(charts_) == 1, [str(getattr(d, "data", d))[:200] for d in displays]
        (chart_,) = charts_
        data = chart_.to_dict()["datasets"]
        shown[share] = {
            r["event_time"]: r["engineers"]
            for rows_ in data.values()
            for r in rows_
            if "event_time" in r  # not the rule layers' own rows
        }
        (record,) = [r for r in ctx.headlines if r["key"] == "ai/certification"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            simple = did.att_gt(
                panel, outcome="ai_share", unit="engineer_id", time="period_index",
                group="cohort", control="not_yet",
            ).aggregate("simple")  # fmt: skip
        row = simple.effect_summary().table.row(0, named=True)
        assert record["text"] == certification_ai_words(row, 0.95, simple.n_engineers, 5)
    assert shown[False][8] == 1 and shown[False][7] == 1  # private: drawn, with their count
    assert min(shown[True].values()) >= 5 and 8 not in shown[True]  # shared: not drawn


def test_the_adoption_table_shows_no_p_value_on_one_adopter_and_gives_the_pretrend_check():
    """browser-use (trial Q, Q5): the adoption event-study table printed "+48.1 PRs, SE 0.19,
    p = 0.000" for pre-adoption periods resting on one adopter, and the page gave no
    pre-trend verdict."""
    specs = [("a0", 3, 0)] + [(f"a{i}", 6, 0) for i in range(1, 8)]
    specs += [(f"n{i}", 0, 0) for i in range(12)]
    study = _study(adoption_panel(seed=2, specs=specs), min_e=-3, max_e=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        shown = study.effect_displays()
    html = "".join(_text(d) for d in shown)
    assert "Pre-trend check: " in html and "before adoption" in html
    res = study.studies["merged_prs"]
    single = res.tidy().filter(pl.col("n") == 1)
    assert single.height >= 2 and single["p_value"].is_not_null().all()  # the estimator's
    said = re.search(r"(\d+) row\(s\) rest on a single adopter", html)
    assert said and int(said.group(1)) == single.height


def test_robust_estimates_of_opposite_signs_do_not_agree_in_words():
    """trial Y: "The 4 heterogeneity-robust estimators agree on the effect on throughput:
    estimates range from -0.835 PRs (CS (not yet treated)) to +3.71 PRs (Imputation (BJS))"
    read as corroboration; within the margin of error, they still differ in sign."""
    names = [CS_NEVER, CS_NOTYET, SUNAB, IMPUTATION, TWFE]
    table = tidy_rows(names, [0.5, -0.835, 1.2, 3.71, 3.22], [2.9] * 5, [10] * 5, 0.95)
    agree, text = _verdict(table, "throughput", 0.95)
    assert agree  # no contradiction beyond sampling error
    assert "agree on the effect" not in text
    assert "do not contradict each other on the effect on throughput, but differ in sign" in text
    same = tidy_rows(names, [0.5, 0.835, 1.2, 3.71, 3.22], [2.9] * 5, [10] * 5, 0.95)
    assert "agree on the effect on throughput" in _verdict(same, "throughput", 0.95)[1]


def test_the_adoption_sensitivity_speaks_in_the_outcomes_unit():
    """trial X: the adoption page said "+0.412 percentage points" for the effect at adoption
    and HonestDiD "0.00412 (95% CI -0.0235 to 0.0317)" for the same estimate."""
    import certkit as ck
    from certkit.analytics.adoption import adoption_did

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = adoption_did(ck.load_sample(), "revert_rate")
        text = res.sensitivity().effect_summary().text
    assert re.search(r"is [+-][\d.]+ percentage points \(95% CI", text), text
