"""certkit.report.studies: the report notebooks' per-outcome runs, moved out of the cells.

A small simulated organisation (``certkit.simulate``) stands in for a report's data; the
functions are checked against direct calls of the public estimators.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import polars as pl
import pytest

import certkit as ck
from certkit import did, matching, narrative
from certkit.errors import CertkitError
from certkit.privacy import Privacy
from certkit.report import Context, filter_dataset, studies


def _ctx(ds, share: bool = False, k: int = 5) -> Context:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = ck.build_panel(ds)
    return Context(
        ds=ds,
        full=ds,
        panel=panel,
        privacy=Privacy(k=k, share=share),
        period="",
        filters={},
    )


@pytest.fixture(scope="module")
def ctx() -> Context:
    return _ctx(ck.simulate(160, 18, seed=5))


def test_did_spec_normalises_and_rejects():
    spec = studies.did_spec("not-yet", "ipw")
    assert spec["control"] == "not_yet" and spec["method"] == "ipw"
    assert spec["unit"] == "engineer_id" and spec["group"] == "cohort"
    with pytest.raises(CertkitError, match="control_group must be 'not_yet' or 'never'"):
        studies.did_spec("always")


def test_twfe_contrast_uses_the_headline_comparison(ctx):
    """The TWFE table's Callaway-Sant'Anna column is the headline estimate (issue 11's bug:
    the notebook once compared with never-treated controls while the headline used
    not-yet-treated)."""
    spec = studies.did_spec("not_yet", "dr")
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        impact = studies.did_effects(ctx, ["merged_prs"], spec, min_e=-3, max_e=3, notes=notes)
        contrast = studies.twfe_contrast(ctx, ["merged_prs"], spec, notes)
        direct = did.att_gt(ctx.panel, outcome="merged_prs", **spec).aggregate("simple")
    head = impact.effects.row(0, named=True)
    assert head["estimate"] == pytest.approx(direct.estimate, rel=1e-12)
    row = contrast.row(0, named=True)
    assert row["Callaway-Sant'Anna"] == pytest.approx(head["estimate"], rel=1e-12, abs=1e-12)
    assert math.isfinite(row["TWFE"]) and row["verdict"]
    assert "merged_prs" in impact.studies and head["certified_engineers"] > 0
    assert ctx.headlines[-1]["key"] == "effect/staggered DiD/merged_prs"
    shown = impact.event_study_displays()
    assert len(shown) == 2 and "Pre-trend check" in shown[1].data


def test_an_outcome_that_cannot_be_estimated_says_why(ctx):
    notes: list[str] = []
    spec = studies.did_spec("not_yet")
    impact = studies.did_effects(ctx, ["no_such_outcome"], spec, min_e=-2, max_e=2, notes=notes)
    row = impact.effects.row(0, named=True)
    assert math.isnan(row["estimate"]) and row["note"]
    # the reason is said once, in the summary row; the later sections only name the outcome
    assert impact.not_estimated == ["no_such_outcome"] and not notes, notes
    shown = impact.event_study_displays()
    assert len(shown) == 1 and "Not shown for no such outcome" in shown[0].data
    contrast = studies.twfe_contrast(
        ctx, ["no_such_outcome"], spec, notes, skip=["no_such_outcome"]
    )
    assert contrast["verdict"].to_list() == [narrative.SEE_SUMMARY] and not notes


def test_an_outcome_the_data_does_not_record_says_only_that(ctx):
    """An outcome that is 0 everywhere: more certified engineers would not help, so neither
    the summary row nor the landing record says what the estimate "needs" (fastapi's git
    import: defects_per_pr and incidents, each followed by "it needs certified engineers ...")."""
    notes: list[str] = []
    panel = ctx.panel
    ctx.panel = panel.with_columns(pl.lit(0.0).alias("incidents"))
    try:
        impact = studies.did_effects(
            ctx, ["incidents"], studies.did_spec("not_yet"), min_e=-2, max_e=2, notes=notes
        )
    finally:
        ctx.panel = panel
    row = impact.effects.row(0, named=True)
    assert "0 in every row" in row["note"] and "it needs" not in row["note"], row["note"]
    record = ctx.headlines[-1]
    assert record["key"] == "effect/staggered DiD/incidents" and not record.get("needs")


def test_an_outcome_without_a_finite_estimate_is_skipped_by_the_later_sections():
    """pallets/click: cycle time's event study ran but its overall estimate was not finite;
    the landing page said "not estimated" beside a robust-estimators line for it."""
    effects = pl.DataFrame(
        {"outcome": ["merged_prs", "cycle_time_log_median"], "note": [None, "not finite"]}
    )
    impact = studies.DiDEffects(
        ["merged_prs", "cycle_time_log_median"],
        effects,
        {"merged_prs": (None, None), "cycle_time_log_median": (None, None)},
    )
    assert impact.not_estimated == ["cycle_time_log_median"]


def test_matched_effects_carry_the_sensitivity_result(ctx):
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = studies.matched_effects(
            ctx,
            ["merged_prs"],
            covariates=["level", "tenure_months"],
            pre_periods=3,
            post_periods=3,
            caliper=0.2,
            notes=notes,
        )
    res = m.results["merged_prs"]
    row = m.effects.row(0, named=True)
    sens = res.sensitivity()
    # a critical gamma only for an effect significant at gamma = 1 (else none: 1.0 misled)
    # and by the headline test (else an E-value beside p = 0.36 invited explaining it away)
    clear = sens.significant and row["p_value"] < 0.05
    assert row["critical_gamma"] == (sens.critical_gamma if clear else None)
    assert row["e_value"] == (sens.e_value if clear else None)
    assert row["matched_sets"] == res.n_pairs
    assert row["estimate"] == pytest.approx(res.overall_att, rel=1e-12)
    bal = m.balance().row(0, named=True)
    assert bal == {"outcome": narrative.label("merged_prs")} | matching.balance_summary(
        res.balance()
    )
    lines = m.summary_lines(ctx, section="Sensitivity")
    assert lines[0].startswith("Balance after matching: the largest standardized difference")
    if row["p_value"] < 0.05:
        assert any("hidden factor" in line for line in lines[1:])
    tables = m.sensitivity_displays()
    # the outcome's name, its bounds table and, when sets with a zero difference were left
    # out of the signed-rank bounds, the sentence that says so
    assert len(tables) == 2 + bool(sens.zeros_note())


def test_matched_caveat_counts_the_prs_of_the_matched_certified_engineers(ctx):
    """Trial H (sqlalchemy): the matched line's "merged only 26 PRs after certifying" counted
    all 15 certified engineers' PRs in every period, for an estimate on 12 matched sets.
    The counts are now those of the certified engineers in the ATT, in their window."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = studies.matched_effects(
            ctx,
            ["merged_prs"],
            covariates=["level", "tenure_months"],
            pre_periods=3,
            post_periods=2,
            caliper=0.05,  # tight: some certified engineers find no peer
            notes=[],
        )
    res, row = m.results["merged_prs"], m.effects.row(0, named=True)
    sets = res.pairs.filter(pl.col("in_att"))
    assert sets.height == res.n_pairs
    certified = ctx.panel.filter(pl.col("cohort") > 0)
    assert sets.height < certified["engineer_id"].n_unique()  # the caliper dropped some
    # by hand: each set's certified engineer, periods g-3 .. g-1 and g .. g+2
    before = after = 0
    for engineer, g in sets.select("engineer_id", "cohort").iter_rows():
        rows = certified.filter(pl.col("engineer_id") == engineer)
        rel = rows["period_index"] - g
        prs = rows["merged_prs"].fill_null(0)
        before += int(prs.filter((rel >= -3) & (rel < 0)).sum())
        after += int(prs.filter((rel >= 0) & (rel <= 2)).sum())
    assert (row["prs_before"], row["prs_after"]) == (before, after)
    everyone = narrative.effects.event_counts(ctx.panel, "merged_prs")
    assert row["prs_after"] < everyone["prs_after"]


def test_balance_summary_counts_terms_over_the_threshold():
    bal = pl.DataFrame(
        {
            "term": ["a", "a", "b", "b", "distance", "distance"],
            "sample": ["all", "matched"] * 3,
            "smd": [0.5, 0.05, -0.3, -0.15, 2.0, 1.0],
        }
    )
    out = matching.balance_summary(bal)
    assert out == {"max |SMD| before": 0.5, "max |SMD| after": 0.15, "terms over 0.1 after": 1}
    assert matching.balance_summary(bal, threshold=0.2)["terms over 0.2 after"] == 0


def test_describe_balance_and_roi_figures():
    assert narrative.describe_balance(None) == []
    assert "below the usual 0.1" in narrative.describe_balance(0.04)[0]
    assert "above 0.1 for some terms" in narrative.describe_balance(0.25)[0]
    text = narrative.describe_roi_figures(0.5, -0.2, 1.4, 0.83, 2500.0, 40)
    assert text.startswith("Median ROI +50% (95% interval -20% to +140%)")
    assert "$2,500" in text and "40 engineers" in text and "83%" in text


def test_roi_effects_and_answer(ctx):
    notes: list[str] = []
    spec = studies.did_spec("not_yet")
    spec.pop("method")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        effects, rows = studies.roi_effects(
            ctx, spec, notes=notes, units={"merged_prs": "prs_per_month"}
        )
        direct = did.att_gt(ctx.panel, outcome="merged_prs", **spec).aggregate("simple")
        assert len(effects) == 1 and effects[0].estimate == pytest.approx(direct.estimate)
        result = ck.roi.roi(effects, n_sims=500, seed=1)
    answer = ctx.section("Return on investment", show=False)
    box = studies.roi_answer(ctx, result, answer, horizon_months=12, section="The answer")
    assert result.statement()[:40] in box.data and "chance of a positive return" in box.data
    assert ctx.headlines[-1]["kind"] == "roi"
    answer.fail("no effect to price")
    empty = studies.roi_answer(ctx, None, answer, horizon_months=12, section="The answer")
    assert "No ROI estimate on this data" in empty.data and "No effect to price" in empty.data
    assert "Default money assumptions" in studies.assumptions_table({}).data
    # the table reads as the answer does: percents, dollars, months with one decimal
    shown = studies.roi_table(result)
    raw = {r["metric"]: r for r in result.to_polars().iter_rows(named=True)}
    roi_row = shown.row(0, named=True)
    assert roi_row[""].startswith("ROI") and roi_row["median"] == f"{raw['roi']['median']:+.0%}"
    payback = shown.filter(pl.col("").str.starts_with("payback")).row(0, named=True)
    assert payback["median"] == f"{raw['payback_months']['median']:,.1f}"
    cost = shown.filter(pl.col("").str.starts_with("cost")).row(0, named=True)
    assert cost["median"] == f"${raw['cost_per_engineer']['median']:,.0f}"
    assert studies.roi_figure(float("inf"), "months") == "never"
    assert studies.roi_figure(-1234.4, "money") == "-$1,234"


def test_per_certification_leaves_out_small_certifications():
    small = _ctx(ck.simulate(60, 12, seed=2), share=True, k=1000)
    out = studies.per_certification(
        small, ["merged_prs"], studies.did_spec("not_yet"), period="month", notes=[]
    )
    assert out.rows.height == 0 and out.left_out and out.min_holders == 1000
    # most holders first, ties in name order, the same on every run
    held = small.ds.certifications.group_by("certification_id").agg(
        pl.col("engineer_id").n_unique().alias("n")
    )
    expected = held.sort(["n", "certification_id"], descending=[True, False])
    assert out.left_out == [
        f"{c} ({n} engineer{'s' if n != 1 else ''})" for c, n in expected.iter_rows()
    ]
    assert held["n"].is_duplicated().any()  # the sample has ties to order
    assert "with fewer than 1000 holders" in out.displays()[0].data
    off = studies.per_certification(
        small, ["merged_prs"], studies.did_spec("not_yet"), period="month", notes=[], enabled=False
    )
    assert "disabled" in off.displays()[-1].data


def test_ai_study_runs_the_four_analyses_and_records_the_landing_line(ctx):
    """Notebook 04's analyses: the same numbers as direct ``certkit.ai`` calls, one headline."""
    from certkit import ai
    from certkit.report import landing

    notes: list[str] = []
    study = studies.ai_study(ctx, ["cycle_time_log", "defect"], fdr=0.05, notes=notes)
    assert study.skipped == {}, study.skipped
    direct = ai.compare(ctx.ds, outcomes=("cycle_time_log", "defect"), by_certification=True)
    assert study.comparison["estimate"].to_list() == direct.to_polars()["estimate"].to_list()
    assert study.flagged.height == ai.fix_first(ctx.team_view(), fdr=0.05, k=5).flagged().height
    (record,) = [r for r in ctx.headlines if r["key"] == "ai"]
    values = landing.ai_values(
        study.comparison, study.adoption, study.n_flagged, {}, narrative.AI_LABELS, study.events
    )
    assert {k: record[k] for k in values} == values
    # the defect rate's row carries its counts (trial G, F8: "0 of 65 AI-assisted ...")
    (defect,) = [r for r in record["rows"] if r["outcome"] == "defect"]
    assert defect["events_ai"] + defect["events_other"] > 0 and defect["prs_ai"] > 0
    displays = [
        *study.summary_displays(),
        *study.comparison_displays(),
        *study.adoption_displays(),
        *study.fix_first_displays(),
    ]
    assert len(displays) >= 6 and all(d is not None for d in displays)


def test_the_ai_table_leaves_relative_blank_where_too_few_events_to_compare(ctx):
    """trial N: the answer said "2 of 202 AI-assisted and 7 of 972 other PRs were reverted:
    too few to compare" above a table showing +107.7% for it, unmarked."""
    study = studies.ai_study(ctx, ["cycle_time_log", "reverted"], notes=[])
    study.events = {
        "reverted": {"prs_ai": 202, "prs_other": 972, "events_ai": 2, "events_other": 7}
    }
    shown, *notes = study.comparison_displays()
    reverted = study.comparison.filter(pl.col("outcome") == "reverted")["relative"]
    kept = study.comparison.filter(pl.col("outcome") == "cycle_time_log")["relative"]
    assert all(f"{v:.1%}" not in shown.data for v in reverted)
    assert all(f"{v:.1%}" in shown.data for v in kept)
    assert any("too few events to compare (2 of 202 AI-assisted" in n.data for n in notes)
    # trial S: the estimate, interval and p-value too, not the relative alone; no chart of it
    rows, _ = study.comparison_rows()
    blank = rows.filter(pl.col("outcome") == "reverted")
    numbers = blank.select("estimate", "ci_low", "ci_high", "p_value", "relative")
    assert blank.height and numbers.null_count().row(0) == (blank.height,) * 5
    assert rows.filter(pl.col("outcome") == "cycle_time_log")["estimate"].is_not_null().all()
    assert not any(hasattr(n, "to_dict") for n in notes)


def test_ai_study_says_why_a_section_cannot_be_estimated():
    """Without AI attribution the comparison section explains itself instead of failing."""
    ds = ck.simulate(60, 12, seed=3)
    prs = ds.pull_requests.with_columns(pl.lit(None, pl.Boolean).alias("ai_assisted"))
    small = _ctx(ck.from_frames(**{**ds.tables(), "pull_requests": prs}))
    study = studies.ai_study(small, ["cycle_time_log"], notes=[])
    assert "comparison" in study.skipped and study.skipped["comparison"]
    (shown,) = study.comparison_displays()
    assert "not estimated" in shown.data and "ai_assisted is missing" in shown.data.lower()


def test_ai_study_without_any_ai_trace_says_so_once():
    """pallets/click (no AI trace in 725 PRs): page 04 gave each section its own long reason,
    then repeated every one in the page's notes; the adoption line read "went from 0% to 0%"."""
    ds = ck.simulate(60, 12, seed=3)
    prs = ds.pull_requests.with_columns(pl.lit(False).alias("ai_assisted"))
    c = _ctx(ck.from_frames(**{**ds.tables(), "pull_requests": prs}))
    notes: list[str] = []
    study = studies.ai_study(c, ["cycle_time_log", "reverted"], notes=notes)
    assert set(study.skipped) == {"comparison", "adoption", "fix_first", "trust"}
    assert set(study.skipped.values()) == {narrative.NO_AI_PRS}
    assert not [n for n in notes if "not estimated" in n]  # the sections say it, not the notes
    summary = " ".join(d.data for d in study.summary_displays())
    assert f"none of the {prs.height:,} pull requests shows a trace of AI assistance" in summary
    assert "went from" not in summary
    shown = [d.data for d in (*study.comparison_displays(), *study.adoption_displays())]
    assert len(shown) == 2 and all("see the summary" in s for s in shown)  # no 0% chart
    (record,) = [r for r in c.headlines if r["key"] == "ai"]
    assert "trace of AI assistance" in record["comparison_note"]


def test_adoption_study_runs_each_outcome_in_its_section_and_records_headlines():
    """Notebook 06's runs: the same estimate as a direct ``adoption_did`` call; an outcome that
    cannot be estimated says why in its place while the others still show."""
    from certkit import adoption

    c = _ctx(ck.simulate(160, 18, seed=5, ai_adoption=True))
    notes: list[str] = []
    study = studies.adoption_study(
        c,
        ["merged_prs", "no_such_outcome"],
        threshold=0.5,
        sustain=2,
        min_prs=1,
        max_e=4,
        notes=notes,
    )
    assert study.n_adopters >= 2
    shown = study.effect_displays()
    direct = adoption.adoption_did(  # on the panel that keeps those certified from the start
        c.adoption_panel,
        "merged_prs",
        definition=study.definition,
        control="not_yet",
        min_e=-6,
        max_e=4,
    )
    got = study.studies["merged_prs"].tidy()
    assert got["estimate"].to_list() == direct.tidy()["estimate"].to_list()
    assert "no_such_outcome" not in study.studies
    assert any(
        n.startswith("Effect of adopting AI on no such outcome: not estimated") for n in notes
    )
    assert "not estimated" in shown[-1].data  # the failed outcome's explanation, in its place
    study.sensitivity_displays(max_e=2)
    study.robustness_displays()
    keys = {r["key"] for r in c.headlines}
    for key in ("ai/adoption/", "ai/adoption-honest-did/", "ai/adoption-robustness/"):
        assert key + "merged_prs" in keys
        assert key + "no_such_outcome" not in keys
    # the later sections name the outcome the effects could not estimate, once, in one line
    assert notes.count(next(n for n in notes if "no_such_outcome" in n)) == 1
    assert not any(n.startswith(("Sensitivity, no such", "Robustness, no such")) for n in notes)


def test_adoption_study_without_adopters_says_so_once(ctx):
    """No engineer adopted AI (fastapi: 1% of PRs): one paragraph for every outcome instead of
    the same reason under each outcome and section (12 times), and the certification study on
    AI use says no certified engineer used AI instead of drawing a flat line at zero."""
    notes: list[str] = []
    panel, kept = ctx.panel, ctx.adoption_panel
    no_ai = (pl.lit(0.0).alias("ai_share"), pl.lit(0).alias("ai_prs"))
    ctx.panel, ctx.adoption_panel = panel.with_columns(*no_ai), kept.with_columns(*no_ai)
    try:
        study = studies.adoption_study(
            ctx, ["merged_prs", "prs_opened"], threshold=0.5, sustain=2, min_prs=1, notes=notes
        )
        assert study.n_adopters == 0
        shown = study.effect_displays()
        later = study.sensitivity_displays() + study.robustness_displays()
        cert = study.certification_displays()
    finally:
        ctx.panel, ctx.adoption_panel = panel, kept
    assert len(shown) == 1 and "No engineer adopted AI inside the window" in shown[0].data
    assert all(
        "Not shown for throughput (merged PRs per period) and PRs opened" in d.data for d in later
    )
    assert len(cert) == 1 and "was AI-assisted, before or after certifying" in cert[0].data
    assert sum("adopted AI inside the window" in n for n in notes) == 1, notes
    # the answer box stands above the section it points to (trial G, F25: "see ..., above")
    assert "above" not in shown[0].data and "Who adopted, and when" in shown[0].data


def test_relative_change_is_not_shown_below_minus_100_percent():
    """A count or rate cannot fall by more than its baseline: an interval reading "-222% to
    +256%" (click, defect rate on a tiny baseline) is said in the outcome's unit instead."""
    row = narrative.effect_row("defects_per_pr", 0.013, 0.015, -0.027, 0.031, baseline=0.012)
    assert math.isnan(row["relative"]) and row["estimate"] == 0.013
    text = narrative.summarize(pl.DataFrame([row]), "DiD")
    assert (
        "+0.013 defects per PR after certification (95% CI -0.027 to +0.031; 0.012 before" in text
    )
    assert "%" not in text.splitlines()[0].replace("95% CI", "")
    wide = narrative.effect_row("merged_prs", 2.27, 1.96, -1.57, 6.10, baseline=2.0)
    assert wide["relative_low"] == pytest.approx(-0.785)  # above -100%: still a percent
    assert "about 114% higher" in narrative.summarize(pl.DataFrame([wide]), "DiD")


def test_per_certification_counts_the_engineers_its_estimate_rests_on():
    """fastapi (trial P, P3): gcp-pmle was shown on "5 engineers" (its holders) for an
    estimate on 4 (one certified before the data), above the table's minimum of 5, and its
    failed pre-trend test was only in the page's notes."""
    import dataclasses
    from datetime import date

    ds = ck.simulate(200, 18, seed=3)
    held = ds.certifications.group_by("certification_id").agg(
        pl.col("engineer_id").n_unique().alias("n")
    )
    cert = held.sort(["n", "certification_id"], descending=[True, False])["certification_id"][0]
    settled = ds.engineers.filter(  # in the panel from its start to its end
        (pl.col("hire_date") < ds.period()[0]) & pl.col("leave_date").is_null()
    )["engineer_id"]
    holders = sorted(
        set(ds.certifications.filter(pl.col("certification_id") == cert)["engineer_id"])
        & set(settled)
    )
    # five holders, one of them certified before the data starts
    mine = pl.col("certification_id") == cert
    certs = ds.certifications.filter(~mine | pl.col("engineer_id").is_in(holders[:5])).with_columns(
        pl.when(mine & (pl.col("engineer_id") == holders[0]))
        .then(pl.lit(date(2000, 1, 1)))
        .otherwise(pl.col("earned_date"))
        .alias("earned_date")
    )
    ctx = _ctx(dataclasses.replace(ds, certifications=certs))
    notes: list[str] = []
    spec = studies.did_spec("not_yet")
    out = studies.per_certification(
        ctx, ["merged_prs"], spec, period="month", notes=notes, min_e=-6, max_e=6
    )
    assert cert not in out.rows["certification"].to_list()  # main: shown on "5 engineers"
    (why,) = [n for n in notes if n.startswith(f"{cert}, throughput")]
    assert "rests on 4 of the 5 holders" in why and "fewer than 5" in why
    # the others: their engineers are the estimate's, each with its pre-trend test
    assert out.rows.height >= 3
    for row in out.rows.iter_rows(named=True):
        sub = filter_dataset(ctx.ds, certifications=[row["certification"]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            panel = ck.build_panel(sub)
            res = ck.did.att_gt(panel, outcome="merged_prs", **spec)
            es = ck.did.event_study(panel, outcome="merged_prs", min_e=-6, max_e=6, **spec)
        assert row["engineers"] == res.aggregate("simple").n_engineers
        assert row["pre_trends"] == narrative.pretrend_cell(es.pretrend_pvalue)
    assert set(out.rows["pre_trends"].str.extract(r"^(\w+ ?\w*)").to_list()) <= {
        "diverged",
        "no evidence",
        "not tested",
    }
    assert "pre_trends" in out.displays()[-2].data  # the table shows the column
    # review D9: an event study that cannot be formed leaves the row, "not tested"
    odd = studies.per_certification(
        ctx, ["merged_prs"], spec, period="month", notes=[], min_e=-30, max_e=-20
    )
    assert odd.rows.height == out.rows.height
    assert set(odd.rows["pre_trends"]) == {"not tested"}


def test_the_roi_says_when_certified_engineers_left_before_its_horizon():
    """trial AE (L7, getsentry/sentry-python): an engineer who left 7 months after
    certifying was counted with 12 months of benefit, unsaid."""
    from datetime import timedelta

    from certkit.report.study_roi import leaver_caveat

    ds = ck.simulate(120, 24, seed=4)
    ctx = _ctx(ds)
    assert leaver_caveat(ctx, 12) is None or "left within 12 months" in leaver_caveat(ctx, 12)
    valued = (
        ctx.panel.filter(pl.col("cohort") > 0)
        .group_by("engineer_id")
        .agg(pl.col("earned_date").first())
    )
    stays = set(ds.engineers.filter(pl.col("leave_date").is_null())["engineer_id"].to_list()) & set(
        valued["engineer_id"].to_list()
    )
    who = sorted(stays)[0]
    earned = valued.filter(pl.col("engineer_id") == who)["earned_date"][0]
    engineers = ds.engineers.with_columns(
        pl.when(pl.col("engineer_id") == who)
        .then(pl.lit(earned + timedelta(days=213)))
        .otherwise(pl.col("leave_date"))
        .alias("leave_date")
    )
    before = leaver_caveat(ctx, 12)
    ctx.ds = dataclasses.replace(ds, engineers=engineers)
    after = leaver_caveat(ctx, 12)
    assert after is not None and after != before
    assert "certified engineers it values left within 12 months of certifying" in after
    assert "each is counted with 12 months of benefit" in after
    assert leaver_caveat(ctx, 6) != after  # 7 months: not within 6
