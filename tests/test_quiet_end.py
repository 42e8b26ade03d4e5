"""A clear effect that rests on the data's quiet last periods says so (trial T).

google-gemini/gemini-cli's history went quiet after 2026-05 (commits 682 -> 49 a month); the
report said "throughput about 33% lower after certification (95% CI -61% to -5%)" and an ROI
with "chance of a positive return under 1%", from those months: ending the data before them
gave -0.96 PRs a month (95% CI -4.83 to +2.91). Nothing on the page connected the two.
"""

from __future__ import annotations

import warnings
from datetime import date

import polars as pl
import pytest

import certkit as ck
from certkit import narrative
from certkit.data.activity import quiet_end
from certkit.privacy import Privacy
from certkit.report import Context, landing, studies
from certkit.report.landing import _bottom_line


def _panel(rows: dict[str, list[int]]) -> pl.DataFrame:
    months = [date(2025, m, 1) for m in range(1, 1 + len(next(iter(rows.values()))))]
    return pl.DataFrame(
        [
            {"engineer_id": e, "period": p, "merged_prs": v}
            for e, values in rows.items()
            for p, v in zip(months, values, strict=True)
        ]
    )


def test_quiet_end_finds_the_last_periods_under_half_the_usual_level():
    busy = [10, 12, 11, 10, 9, 11, 2, 1]
    q = quiet_end(_panel({"a": busy, "b": busy}))
    assert q is not None and q.start == date(2025, 7, 1) and q.periods == 2
    assert abs(q.share - 3 / 20) < 1e-9  # (4 + 2) / 2 against the median total, 20
    assert quiet_end(_panel({"a": [10, 12, 11, 10, 9, 11, 8, 6]})) is None  # 6 >= half of 10.5
    assert quiet_end(_panel({"a": [10, 10, 1, 1, 1]})) is None  # too little data before
    assert quiet_end(_panel({"a": [0, 0, 0, 0]})) is None


def _quiet_ctx() -> Context:
    """No true effect; the certified engineers are the busiest (6 times the PRs, in every
    period alike), and in the last 3 months everyone merges a tenth as much: a level drop
    that takes most from the busiest, as on gemini-cli."""
    ds = ck.simulate(240, 24, seed=3, effect_throughput=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = ck.build_panel(ds)
    last = sorted(panel["period"].unique())[-3]
    busy = pl.when(pl.col("cohort") > 0).then(pl.col("merged_prs") * 6)
    busy = busy.otherwise(pl.col("merged_prs"))
    panel = panel.with_columns(
        pl.when(pl.col("period") >= last).then(busy // 10).otherwise(busy).alias("merged_prs")
    )
    return Context(ds=ds, full=ds, panel=panel, privacy=Privacy(k=5), period="", filters={})


def test_a_clear_effect_of_the_quiet_months_is_tempered_with_the_estimate_without_them():
    ctx = _quiet_ctx()
    spec = studies.did_spec("not_yet")
    notes: list[str] = []
    effects = studies.did_effects(ctx, ["merged_prs"], spec, min_e=-4, max_e=4, notes=notes)
    row = effects.effects.row(0, named=True)
    assert row["p_value"] < 0.05 and row["estimate"] < 0  # clear on the numbers
    assert row["quiet_periods"] == 3 and row["quiet_share"] < 0.5
    assert row["quiet_low"] < 0 < row["quiet_high"]  # without them: no clear change
    caveat = narrative.effect_caveat(row)
    assert "the data's last 3 months (from" in caveat and "ending the data before them" in caveat
    assert "not distinguishable from no change" in caveat
    # the share beside the page's percentage, and the verdict undone before its reasons
    q = row["quiet_estimate"]
    share = f"(about {abs(q) / row['baseline']:.0%} {'lower' if q < 0 else 'higher'}) (95% CI"
    assert "ending the data before them (-p end=" in caveat and f"gives {q:+.3g} {share}" in caveat
    summary = narrative.summarize(effects.effects, "staggered DiD")  # as the index (trial V)
    assert (
        "- 0 of 1 estimated outcome(s) show a statistically clear change (p < 0.05); 1 more"
        in summary
    )
    sentence = narrative.effects._sentence(row)
    assert "; a deterioration on the numbers only, not evidence of an effect: " in sentence
    record = next(r for r in ctx.headlines if r["kind"] == "effect")
    assert "on the numbers only, not evidence" in landing.effect_text(record)
    assert record["not_evidence"] is True
    line = _bottom_line({"02": [("02.html", record)]})
    assert "0 of 1 estimated outcome(s) changed clearly" in line
    assert "1 more look(s) clear on the numbers" in line
    effects_roi, rows = studies.roi_effects(
        ctx, spec, notes=notes, units={"merged_prs": "prs_per_month"}
    )
    assert any("ending the data before them" in c for c in studies.roi_caveats(rows))
    # the ROI on such an effect leads with its interval and says so (trial V, V-A2)
    assert studies.roi_not_evidence(rows)
    r = {"low": -10.8, "high": -1.5, "median": -4.6, "p_positive": 0.004, "significant": False}
    text = landing.roi_text(r | {"not_evidence": True})
    assert text.startswith("ROI 95% interval -1080% to -150%, resting on effects that are clear")
    assert not studies.roi_not_evidence(rows.with_columns(pl.lit(None).alias("quiet_from")))


def test_no_words_when_the_effect_is_clear_without_the_quiet_months_too():
    row = {
        "estimate": -2.0,
        "p_value": 0.001,
        "quiet_from": "2026-06-01",
        "quiet_periods": 2,
        "quiet_share": 0.2,
        "quiet_unit": "month",
    }
    clear = row | {"quiet_estimate": -1.5, "quiet_low": -2.5, "quiet_high": -0.5, "quiet_p": 0.01}
    assert narrative.effects.quiet_end_words(clear) is None
    other = clear | {"quiet_estimate": 1.5, "quiet_low": 0.5, "quiet_high": 2.5}
    assert "clearly the other way" in narrative.effects.quiet_end_words(other)
    assert "cannot be formed" in narrative.effects.quiet_end_words(row | {"quiet_estimate": None})
    assert narrative.effects.quiet_end_words(other | {"p_value": 0.3}) is None  # not clear
    one = narrative.effects.quiet_end_words(other | {"quiet_periods": 1, "quiet_unit": "quarter"})
    assert one.startswith("the data's last quarter (from 2026-06-01) has 20% of")  # trial W


def test_a_clear_level_effect_against_a_far_less_active_comparison_group_says_so():
    """gemini-cli (trial T): 12 certified core engineers at about 14 merged PRs a month against
    673 outside contributors at about 0.6; on the roster's teams alone the effect was +0%."""
    row = {
        "outcome": "merged_prs",
        "estimate": -4.59,
        "p_value": 0.02,
        "baseline": 13.9,
        "comparison_level": 0.58,
        "comparison_engineers": 673,
    }
    words = narrative.effects.level_gap_words(row)
    assert words.startswith("the never-certified engineers averaged 0.58 per period against")
    assert "-p teams=" in narrative.effect_caveat(row)
    assert narrative.effects.level_gap_words(row | {"comparison_level": 3.0}) is None  # alike
    assert narrative.effects.level_gap_words(row | {"p_value": 0.4}) is None  # not clear
    assert narrative.effects.level_gap_words(row | {"outcome": "revert_rate"}) is None  # a rate
    assert narrative.effects.level_gap_words(row | {"comparison_engineers": 3}) is None  # < k
    ctx = _quiet_ctx()  # the certified engineers merge 6 times as many PRs
    effects = studies.did_effects(
        ctx, ["merged_prs"], studies.did_spec("not_yet"), min_e=-4, max_e=4, notes=[]
    )
    row = effects.effects.row(0, named=True)
    assert row["comparison_engineers"] > 100 and row["baseline"] > 5 * row["comparison_level"]
    assert "the never-certified engineers averaged" in narrative.effect_caveat(row)


def test_roster_engineers_idle_to_the_end_are_named_in_data_health():
    """gemini-cli (trial T, T11): a roster engineer whose last commit was 2025-07 sat in the
    panel with 0 PRs for 13 months (no leave_date), and no page said so."""
    from certkit.data import activity, health

    ds = ck.simulate(60, 18, seed=2, bots=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = ck.build_panel(ds)
    assert activity.idle_roster(ds, panel) is None
    last = sorted(panel["period"].unique())[-8]
    gone = sorted(panel["engineer_id"].unique())[:2]
    idle = pl.col("engineer_id").is_in(gone) & (pl.col("period") >= last)
    panel = panel.with_columns(
        pl.when(idle).then(0).otherwise(pl.col(c)).alias(c) for c in ("merged_prs", "prs_opened")
    )
    found = activity.idle_roster(ds, panel)
    assert found["names"] == gone and found["longest"] >= 8
    words = activity.idle_words(found, "month")
    assert words.startswith(f"2 engineers in the roster ({gone[0]}, {gone[1]}) have no PR in")
    shared = activity.idle_words(found, "month", k=5)
    assert shared.startswith("fewer than 5 engineers in the roster have no PR in their last 6")
    assert gone[0] not in shared and "longest" not in shared
    one = activity.idle_words(found | {"engineers": 1, "names": gone[:1]}, "month")
    assert one.startswith(f"1 engineer in the roster ({gone[0]}) has no PR")
    text = health.narrative(
        ds, health.coverage(ds), health.missing(ds), health.outliers(ds), panel=panel, k=5
    )
    assert "**Idle at the end:** fewer than 5 engineers in the roster" in text


def test_a_shared_report_gives_the_verdict_not_the_numbers_of_an_estimate_under_k():
    """review E (E4): the estimate without the quiet months rested on 3 certified engineers
    (k = 5) and the caveat printed its interval anyway."""
    ctx = _quiet_ctx()  # 66 certified engineers behind the estimate, 64 without the quiet end
    ctx.privacy = Privacy(k=65, share=True)
    effects = studies.did_effects(
        ctx, ["merged_prs"], studies.did_spec("not_yet"), min_e=-4, max_e=4, notes=[]
    )
    row = effects.effects.row(0, named=True)
    assert row["quiet_hidden"] == 65
    caveat = narrative.effect_caveat(row, k=65)
    assert "an estimate on fewer than 65 certified engineers (not shown" in caveat
    assert "not distinguishable from no change" in caveat
    assert f"{row['quiet_estimate']:+.3g}" not in caveat and "95% CI" not in caveat
    big = {"outcome": "lines_changed", "estimate": -900.0, "p_value": 0.01, "baseline": 8240.0}
    words = narrative.effects.level_gap_words(
        big | {"comparison_level": 1234.5, "comparison_engineers": 50}
    )
    assert "averaged 1,234 per period against the certified engineers' 8,240" in words


class _Result:
    """An adoption result's overall row (what adoption_quiet_words reads of it)."""

    def __init__(self, estimate: float, low: float, high: float, p: float, n: int = 40):
        self.row = {"term": "ATT", "estimate": estimate, "std_error": 1.0, "statistic": 1.0}
        self.row |= {"p_value": p, "conf_low": low, "conf_high": high, "n": n}

    def tidy(self) -> pl.DataFrame:
        return pl.DataFrame([self.row])


def test_the_adoption_effect_gets_the_quiet_end_check_too():
    """trial V (continuedev/continue): the adoption DiD had no quiet-end check; its rerun
    on the periods before the quiet ones decides whether the caveat is said."""
    from certkit.report.study_quiet import adoption_quiet_words

    ctx = _quiet_ctx()
    seen = []

    def rerun(result):
        def run(panel):
            seen.append(panel["period"].max())
            return result

        return run

    clear = _Result(-5.0, -8.0, -2.0, 0.001)
    words = adoption_quiet_words(ctx, "merged_prs", clear, rerun(_Result(-0.5, -3.0, 2.0, 0.7)))
    assert "ending the data before them (-p end=" in words and "gives -0.5 " in words
    assert "not distinguishable" in words
    assert seen[-1] < ctx.quiet_end.start  # rerun on the periods before the quiet ones
    assert adoption_quiet_words(ctx, "merged_prs", clear, rerun(clear)) is None
    assert adoption_quiet_words(ctx, "merged_prs", _Result(1, -1, 3, 0.4), rerun(clear)) is None
    ctx.privacy = Privacy(k=70, share=True)
    hidden = adoption_quiet_words(ctx, "merged_prs", clear, rerun(_Result(0, -1, 1, 0.9, n=3)))
    assert "fewer than 70 adopters" in hidden and "95% CI" not in hidden


def test_ending_the_data_with_the_report_parameter_reproduces_the_caveats_estimate():
    """trial W (W6): `-p end=` kept PRs opened before the end and merged after it, so the
    panel ran on into the quiet months and the caveat's number could not be reproduced
    (continuedev/continue: -12.97, not the -9.18 quoted). A PR merged, closed or first
    reviewed after the end was still open then, as in an export taken that day."""
    from certkit import did
    from certkit.report.filters import filter_dataset

    ds = ck.simulate(120, 12, seed=4)
    end = date(2025, 6, 30)
    cut = filter_dataset(ds, end=end.isoformat())
    prs = cut.pull_requests
    assert prs.filter(pl.col("merged_date").dt.date() > end).height == 0
    assert prs.filter(pl.col("first_review_date").dt.date() > end).height == 0
    opened_then = ds.pull_requests.filter(pl.col("created_date").dt.date() <= end)
    assert prs.height == opened_then.height  # every PR opened by then is kept
    assert prs["merged_date"].null_count() > opened_then["merged_date"].null_count()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = ck.build_panel(cut)
        full = ck.build_panel(ds)
    assert panel["period"].max() == date(2025, 6, 1)
    before = full.filter(pl.col("period") <= date(2025, 6, 1))
    a = did.att_gt(panel, outcome="merged_prs").aggregate("simple").headline()["estimate"][0]
    b = did.att_gt(before, outcome="merged_prs").aggregate("simple").headline()["estimate"][0]
    assert abs(a - b) < 1e-9  # the quiet-end rerun's estimate, reproduced by -p end=


def test_the_adoption_effect_names_unlike_levels_too():
    """trial W (continuedev/continue): "-11.1 PRs ... interval excludes zero" after adopting
    AI, for 4 adopters at 22.9 merged PRs a month against 249 never-adopters at 0.59, with no
    word of it (the certification pages now say it)."""
    from certkit.report.study_quiet import adoption_level_words

    class Adoption(_Result):
        spec = {"time": "period_index"}
        data = pl.DataFrame(
            {
                "engineer_id": ["a", "a", "a", "b", "b", "b"] + [f"n{i}" for i in range(6)],
                "period_index": [1, 2, 3] * 2 + [1] * 6,
                "adoption_cohort": [3] * 6 + [0] * 6,
                "merged_prs": [22, 24, 3, 23, 22, 2] + [0, 1, 1, 0, 1, 0],
            }
        )

    ctx = _quiet_ctx()
    words = adoption_level_words(ctx, "merged_prs", Adoption(-11.1, -18.0, -4.2, 0.002))
    assert words.startswith(
        "the engineers who never adopted AI averaged 0.5 per period against the adopters' 22.8 "
        "before adopting"
    )
    assert words.endswith("compare like with like (the roster's teams: -p teams=[...])")
    assert adoption_level_words(ctx, "merged_prs", Adoption(-11.1, -18.0, 4.2, 0.2)) is None


def test_aggregating_before_a_period_equals_estimating_on_the_panel_cut_there():
    """``aggregate("simple", before=)`` (opt-in, not R's aggte) gives the estimate, standard
    error and engineers of ``att_gt`` on the panel cut at that period, without a second
    ``att_gt`` (the quiet-end check's rerun: 5.8 s per clear outcome and page at 10,000
    engineers weekly)."""
    from certkit import did
    from certkit.errors import CertkitError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = ck.build_panel(ck.simulate(200, 18, seed=9))
        cut = int(panel["period_index"].max()) - 3
        full = did.att_gt(panel, outcome="merged_prs", control="not_yet")
        a = full.aggregate("simple", before=cut)
        b = did.att_gt(
            panel.filter(pl.col("period_index") < cut), outcome="merged_prs", control="not_yet"
        ).aggregate("simple")
        ra, rb = a.headline().row(0, named=True), b.headline().row(0, named=True)
        assert abs(ra["estimate"] - rb["estimate"]) < 1e-10
        assert abs(ra["std_error"] - rb["std_error"]) < 1e-10
        assert a.n_engineers == b.n_engineers
        assert ra["estimate"] != full.aggregate("simple").headline()["estimate"][0]
        # with never-certified engineers as the comparison, the cut panel counts the cohorts
        # certified from the cut on as never certified: not the same (why it is not used then)
        never = did.att_gt(panel, outcome="merged_prs", control="never")
        c = never.aggregate("simple", before=cut).headline()["estimate"][0]
        d = did.att_gt(
            panel.filter(pl.col("period_index") < cut), outcome="merged_prs", control="never"
        ).aggregate("simple")
        assert abs(c - d.headline()["estimate"][0]) > 1e-6
    with pytest.raises(CertkitError, match="simple aggregation only"):
        full.aggregate("dynamic", before=cut)


def test_the_level_gap_advice_follows_what_the_report_already_did():
    """trial AE (getsentry/sentry-python): after -p teams=[...] the caveat still advised the
    roster's teams, while 6 of the 8 never-certified roster engineers had had no PR for up
    to 17 months; the advice now names them and drops the filter already applied."""
    from certkit.report.study_quiet import gap_fix

    ctx = _quiet_ctx()
    never = ctx.panel.filter(pl.col("cohort") == 0)
    assert gap_fix(ctx, never) == "the matched design, or the roster's teams: -p teams=[...]"
    teams = sorted(ctx.panel["team"].unique().to_list())
    ctx.filters = {"teams": teams}
    assert gap_fix(ctx, never) == "the matched design"
    # never-certified roster engineers idle for the last 8 months
    last = sorted(ctx.panel["period"].unique())[-8]
    gone = sorted(never["engineer_id"].unique())[:6]
    idle = pl.col("engineer_id").is_in(gone) & (pl.col("period") >= last)
    ctx.panel = ctx.panel.with_columns(
        pl.when(idle).then(0).otherwise(pl.col(c)).alias(c) for c in ("merged_prs", "prs_opened")
    )
    words = gap_fix(ctx, never)
    n = never["engineer_id"].n_unique()
    assert words.startswith("the matched design, or ")
    assert (
        f"of the {n} never-certified engineers who are roster engineers with no PR in their "
        "last 6 months or more, if they left" in words
    )
    assert "leave_date" in words and "-p teams" not in words
    ctx.privacy = Privacy(k=50, share=True)
    shared = gap_fix(ctx, never)
    assert "the leave_date of never-certified roster engineers with no PR in their last" in shared
    assert f"of the {n}" not in shared
