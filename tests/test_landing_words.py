"""The index's words on weak or missing evidence (trial I): one engineer count per estimate,
"inconclusive" rather than "agree", a matched caveat kept in an unclear cell, a failed page
said as failed."""

from __future__ import annotations

from test_report_landing import _effect as landing_effect

from certkit.narrative.effects import effect_caveat
from certkit.report import landing


def _effect(design: str, est: float, lo: float, hi: float, p: float, n: int, **kw) -> dict:
    return landing_effect(design, est, lo, hi, p, n) | kw


def test_the_headline_count_says_which_engineers_it_is():
    """glib cycle time: 4 in the headline, 8 cohorts of one in the notes, 7 in robustness."""
    row = {
        "outcome": "cycle_time_log_median",
        "certified_engineers": 4,
        "certified_before_after": 7,
        "certified_with_outcome": 8,
    }
    said = effect_caveat(row, k=5)
    assert said.startswith(
        "it rests on only 4 certified engineers (those with PR cycle time in the period just "
        "before certifying and in one after; 7 have it before and after, 8 at all; a shared "
        "report needs 5 to show it): one person can decide it"
    )
    # no wider count: unchanged
    assert effect_caveat({"outcome": "merged_prs", "certified_engineers": 4}, k=5).startswith(
        "it rests on only 4 certified engineers (a shared report"
    )


def test_designs_that_all_include_zero_are_inconclusive_not_in_agreement():
    staggered = _effect("staggered DiD", 2.8, -1.2, 6.8, 0.17, 7)
    caveat = "the matched peers still differ from the certified engineers (largest |SMD| 1.43)"
    matched = _effect("matched DiD", 2.2, -10.5, 15.0, 0.73, 2, caveat=caveat)
    verdict, why = landing.agreement([staggered, matched])
    assert verdict == "both inconclusive"
    assert "no evidence of no effect" in why
    notes = landing.agreement_notes([[staggered, matched]])
    assert not any("agree" in n for n in notes)
    # the matched cell keeps its caveat although its interval includes zero (the designs
    # table, the page's answer box and its summary say it alike: trial K, K5)
    assert landing.effect_text(matched).endswith(
        f"not distinguishable from no change, and {caveat}"
    )
    page = landing.answer_section([("p.html", "t", [staggered, matched])])
    assert ">both inconclusive<" in page and caveat in page
    # a clear agreement with a caveat is tempered, in the verdict and the bottom line
    clear = _effect("staggered DiD", 0.8, 0.4, 1.2, 0.001, 4, caveat="it rests on only 4")
    other = _effect("matched DiD", 0.7, 0.2, 1.2, 0.01, 30)
    assert landing.agreement([clear, other])[0] == "agree, with caveats"
    assert landing.agreement([other, other | {"design": "x"}])[0] == "agree"
    page = landing.answer_section([("p.html", "t", [clear, other])])
    assert "1 improvement(s), 0 deterioration(s), 1 of them with a caveat" in page


def test_a_failed_page_is_said_as_failed_not_as_nothing_estimated():
    missing = {
        "kind": "effect",
        "key": "effect/matched DiD/merged_prs",
        "outcome": "merged_prs",
        "label": "throughput",
        "design": "matched DiD",
        "note": "no control unit was matched",
        "needs": "similar peers",
    }
    error = (
        "CertkitError: privacy check failed: the shared page would show 1 engineer "
        "id(s)/name(s)/email(s) ('two') in 1 place(s); no HTML was written."
    )
    page = landing.answer_section(
        [("03.html", "Matched cohorts", [missing])], failed=[("Certification impact", error)]
    )
    assert (
        "The page 'Certification impact' failed</b> (privacy check failed; see the run log)" in page
    )
    assert "could be estimated on this data" not in page and "'two'" not in page
    assert "No certification effect is shown" in page
    # without any effect record, the failure is still said first
    alone = landing.answer_section([], failed=[("Certification impact", error)])
    assert alone.startswith("<p class='certkit-nothing'><b>The page 'Certification impact' failed")
    cell = "cell 7 (execution count 7) failed: ValueError: boom: details\n    in line 3: x"
    assert landing.failure_reason(cell) == "boom"


def test_the_index_of_a_run_with_a_failed_page_says_it_failed(tmp_path):
    """The runner passes the run's failed pages to the answer (trial I, glib shared: the
    certification-impact page failed its privacy check; the index said nothing "could be
    estimated")."""
    from types import SimpleNamespace

    from certkit.report import runner

    failed = SimpleNamespace(
        run="org",
        title="Certification impact",
        status="failed",
        error="cell 9 (execution count 7) failed: CertkitError: privacy check failed: ('two')",
        html=None,
        headlines=None,
    )
    other_run = SimpleNamespace(
        run="team", title="Data health", status="failed", error="boom", html=None, headlines=None
    )
    report = SimpleNamespace(out_dir=tmp_path, results=[failed, other_run])
    [(_, text)] = runner._answers(report, False, {"org": ("10 engineers", [])})
    assert "The page 'Certification impact' failed</b> (privacy check failed;" in text
    assert "two" not in text and "Data health" not in text
    assert "could not be estimated" not in text


def test_a_shared_report_says_withheld_not_impossible():
    """Trial J, gnome-shell --share: "matched DiD: no outcome could be estimated" and
    "(matched DiD: not)" for an estimate the private run had, on 4 certified engineers."""
    staggered = _effect("staggered DiD", 0.5, 0.2, 0.8, 0.001, 7)
    hidden = _effect(
        "matched DiD",
        float("nan"),
        float("nan"),
        float("nan"),
        float("nan"),
        4,
        note="the matched throughput estimate rests on fewer than 5 certified engineers; a "
        "shared report shows only estimates based on at least 5 people",
    )
    page = landing.answer_section([("p.html", "t", [staggered, hidden])])
    assert "matched DiD: withheld in this shared report" in page
    assert "matched DiD: no outcome could be estimated" not in page
    assert "(matched DiD: withheld in a shared report)" in page
    impossible = hidden | {"note": "no certification cohort has 3 observed pre-period(s)"}
    page = landing.answer_section([("p.html", "t", [staggered, impossible])])
    assert "matched DiD: no outcome could be estimated" in page and "withheld" not in page


def test_a_row_whose_designs_are_all_withheld_says_so():
    """Trial K, glib --share: a withheld cycle time read "nothing estimated"."""
    note = "rests on fewer than 5 certified engineers; a shared report shows only estimates"
    nan = float("nan")
    rows = [_effect(d, nan, nan, nan, nan, 4, note=note) for d in ("staggered DiD", "matched DiD")]
    assert landing.agreement(rows)[0] == "withheld in a shared report"
    other = _effect("matched DiD", nan, nan, nan, nan, 4, note="no cohort has 3 pre-periods")
    assert landing.agreement([rows[0], other])[0] == "nothing estimated"


def test_a_page_summary_explains_an_unclear_effect_as_the_landing_page_does():
    """glib (trial K, K5): the index's cycle-time cell said "not distinguishable from no
    change, and it rests on only 4 certified engineers (those with PR cycle time in the
    period just before certifying ...)"; page 02, its "details" target, had neither the
    count's explanation nor the base-period sentence."""
    import polars as pl

    from certkit.narrative.effects import summarize

    row = {
        "outcome": "cycle_time_log_median",
        "label": "PR cycle time",
        "estimate": -1.14,
        "std_error": 0.8,
        "p_value": 0.16,
        "ci_low": -2.7,
        "ci_high": 0.43,
        "relative": -0.68,
        "relative_low": -0.93,
        "relative_high": 0.54,
        "certified_engineers": 4,
        "certified_before_after": 7,
        "certified_with_outcome": 8,
        "note": None,
    }
    text = summarize(pl.DataFrame([row]), "staggered DiD", k=5)
    assert (
        "not distinguishable from no change, and it rests on only 4 certified engineers "
        "(those with PR cycle time in the period just before certifying and in one after; "
        "7 have it before and after, 8 at all"
    ) in text
    record = row | {"design": "staggered DiD", "caveat": effect_caveat(row, k=5)}
    assert landing.effect_text(record).split("; ", 1)[1] in text


def test_the_roi_line_says_a_tiny_chance_as_the_roi_page_does():
    """trial N: the index said "chance of a positive return 0%", the ROI page "under 1%"."""
    from certkit.report.landing import roi_text

    r = {"median": -1.2, "low": -2.2, "high": -0.8, "p_positive": 0.001, "significant": False}
    assert "chance of a positive return under 1%" in roi_text(r)
    assert "chance of a positive return 35%" in roi_text(r | {"p_positive": 0.35})
    # trial AF: a weekly report's index showed the (monthly) ROI unlabelled
    assert "; priced on the monthly effects, benefits counted over 12 months" in roi_text(
        r | {"horizon_months": 12}
    )


def test_a_cell_without_a_percent_gives_the_level_before_certification():
    """trial N (N12): the index set the staggered "about 17% higher (95% CI -43% to +76%)"
    beside the matched "-0.0768 PRs (95% CI -2.41 to +2.25)" with no level to compare them."""
    import polars as pl

    from certkit.narrative.effects import effect_row
    from certkit.privacy import Privacy
    from certkit.report import Context

    row = effect_row("merged_prs", -0.0768, 1.19, -2.41, 2.25, 1.35)
    assert row["relative"] != row["relative"]  # the interval goes below -100%: no percent
    ctx = Context(
        ds=None,
        full=None,
        panel=pl.DataFrame(),
        privacy=Privacy(k=5, share=False),
        period="month",
        filters={},
    )
    record = ctx.effect_headline(
        row | {"certified_engineers": 12},
        design="matched DiD",
        comparison="matched peers",
        section="Summary",
    )
    assert record["baseline"] == 1.35
    text = landing.effect_text(record)
    assert text.startswith("-0.0768 PRs (95% CI -2.41 to +2.25; 1.35 before certification)")
    # with a percent, the percent alone
    pct = landing.effect_text(
        record | {"relative": 0.17, "relative_low": -0.43, "relative_high": 0.76}
    )
    assert pct.startswith("about 17% higher (95% CI -43% to +76%)") and "before" not in pct


def test_a_short_answer_keeps_the_sentence_that_undoes_the_first():
    """trial AH (M1): page 02's box kept "... is +2.38 PRs (95% CI +0.74 PRs to +4.02 PRs)."
    and dropped "Its standard error is not reliable ..."."""
    from certkit.report.landing import render

    record = {
        "kind": "sensitivity",
        "label": "throughput",
        "design": "HonestDiD",
        "key": "k",
        "text": "The effect is +2.38 PRs (95% CI +0.74 PRs to +4.02 PRs). Its standard error "
        "is not reliable: 100% of its weight rests on cohorts of one engineer. More words.",
    }
    short = render([record], short=True)
    assert "Its standard error is not reliable" in short and "More words" not in short
    plain = record | {"text": "The effect is +1 PR. It stays significant unless ... More."}
    assert "stays significant" not in render([plain], short=True)


def test_the_ai_answer_names_a_compared_rework_rate():
    """trial AH (M2): the AI page compared rework (git's line ledger), yet its box and the
    index said "No effect could be estimated"."""
    import polars as pl

    from certkit.narrative import ai_gaps

    table = pl.DataFrame(
        {
            "outcome": ["rework", "rework"],
            "comparison": ["naive", "adjusted"],
            "estimate": [-0.05, -0.037],
            "relative": [-0.4, -0.39],
            "p_value": [0.2, 0.3],
        }
    )
    (gap,) = ai_gaps(table)
    assert gap["label"] == "rework rate" and gap["relative"] == -0.39
