"""Shared reports show no sentence, table or count resting on fewer than k engineers (trialA #3).

On pydantic-ai (``certkit report --share``, k = 5): page 06 printed "Certified engineers' effect
minus others': +1.97 (95% CI -16 to +19.9)" resting on 2 never-certified adopters while its
table hid those rows; page 03 showed Rosenbaum bounds on 4 matched sets; page 02 named
"azure-dp-100 (1 engineer)" among the certifications left out.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import polars as pl
import pytest
from adoption_panels import adoption_panel

from certkit import matching
from certkit.analytics.adoption import adoption_cohorts, adoption_did, adoption_overview
from certkit.errors import CertkitWarning
from certkit.matching.sensitivity import SensitivityResult
from certkit.privacy import Privacy
from certkit.report import Context, studies
from certkit.results import tidy_frame

DIFF = "Certified engineers' effect minus others'"


def _ctx(panel: pl.DataFrame, share: bool, k: int = 5, certifications=None) -> Context:
    ids = sorted(set(panel["engineer_id"].to_list())) if "engineer_id" in panel.columns else []
    ds = SimpleNamespace(
        engineers=pl.DataFrame({"engineer_id": ids}, schema={"engineer_id": pl.String}),
        certifications=certifications,
    )
    return Context(
        ds=ds, full=ds, panel=panel, privacy=Privacy(k=k, share=share), period="", filters={}
    )


@pytest.fixture(scope="module")
def panel() -> pl.DataFrame:
    return adoption_panel()


@pytest.fixture(scope="module")
def result(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        return adoption_did(panel, "merged_prs", min_e=-3, max_e=3)


def test_the_adoption_sentence_leaves_out_estimates_on_fewer_than_k_adopters(result):
    n = dict(result.tidy().select("term", "n").iter_rows())
    assert n["difference (certified - not certified)"] == 2 and n["e=0"] == 8
    assert DIFF in result.effect_summary().text  # private: every estimate is said
    shared = result.effect_summary(k=5).text
    assert DIFF not in shared and "In the period of adoption itself" in shared
    none = result.effect_summary(k=9)  # the overall effect rests on 8 adopters
    assert "not shown" in none.text and "changed by" not in none.text
    assert none.table.height == 0


def test_the_adoption_page_says_the_difference_only_in_private_reports(panel):
    assert DIFF in _adoption_page(panel, False, min_e=-3)
    shared = _adoption_page(panel, True, min_e=-3)
    assert DIFF not in shared and "hidden: they rest on fewer than 5 engineers" in shared


def test_who_adopted_when_names_no_period_with_fewer_than_k_adopters(panel):
    cohorts = adoption_cohorts(panel)  # 4 adopters in May, 4 in June
    private = adoption_overview(cohorts, panel, k=1)
    assert "between 2025-05-01 and 2025-06-01" in private
    assert "most in" not in private  # 4 and 4: no month has most (trial AH)
    shared = adoption_overview(cohorts, panel, k=5)
    assert shared.startswith("8 of 20 engineers adopted AI")
    assert "2025-0" not in shared and "most in" not in shared


def test_left_out_certifications_are_counted_not_named_in_a_shared_report():
    certs = pl.DataFrame(
        {
            "engineer_id": ["e1", "e2", "e3", "e4"],
            "certification_id": ["azure-dp-100", "aws-mls-c01", "aws-mls-c01", "gcp-pmle"],
        }
    )
    spec = studies.did_spec("not_yet")
    empty = pl.DataFrame({"engineer_id": ["e1"]})
    shared = studies.per_certification(
        _ctx(empty, True, certifications=certs), ["merged_prs"], spec, period="month", notes=[]
    )
    text = shared.displays()[0].data
    assert "3 certifications with fewer than 5 holders" in text
    for hidden in ("azure-dp-100", "aws-mls-c01", "gcp-pmle", "1 engineer", "2 engineers"):
        assert hidden not in text
    private = studies.per_certification(
        _ctx(empty, False, certifications=certs), ["merged_prs"], spec, period="month", notes=[]
    )
    assert "azure-dp-100 (1 engineer)" in private.displays()[0].data


class _Matched:
    """A matched DiD result as the report reads it: a headline, counts, sensitivity."""

    def __init__(self, n_treated: int, n_pairs: int, bound_pairs: int):
        self.n_treated, self.n_pairs, self.warnings = n_treated, n_pairs, []
        self._sens = SensitivityResult(
            outcome="merged_prs",
            table=pl.DataFrame(
                {
                    "gamma": [1.0, 1.5],
                    "p_upper": [0.01, 0.2],
                    "significant": [True, False],
                    "n_pairs": [bound_pairs, bound_pairs],
                }
            ),
            critical_gamma=1.3,
            e_value=2.0,
            n_sets=n_pairs,
        )

    def headline(self) -> pl.DataFrame:
        return tidy_frame(["overall"], [1.0], [0.2], [0.6], [1.4], n=self.n_pairs)

    def balance(self) -> pl.DataFrame:
        return pl.DataFrame({"term": ["x", "x"], "sample": ["all", "matched"], "smd": [0.5, 0.05]})

    def sensitivity(self) -> SensitivityResult:
        return self._sens

    def certified_rows(self, panel: pl.DataFrame) -> pl.DataFrame:
        return panel.filter(pl.col("cohort") > 0)


def _matched_page(monkeypatch, share: bool, res: _Matched) -> studies.MatchedEffects:
    monkeypatch.setattr(matching, "matched_did", lambda *a, **kw: res)
    panel = pl.DataFrame({"cohort": [3, 0], "post": [0, 0], "merged_prs": [4.0, 5.0]})
    return studies.matched_effects(
        _ctx(panel, share),
        ["merged_prs"],
        covariates=["tenure_months"],
        pre_periods=2,
        post_periods=2,
        caliper=None,
        notes=[],
    )


def test_rosenbaum_bounds_on_fewer_than_k_matched_sets_are_not_shown(monkeypatch):
    res = _Matched(n_treated=11, n_pairs=6, bound_pairs=4)  # 2 sets with no difference
    shared = _matched_page(monkeypatch, True, res)
    row = shared.effects.row(0, named=True)
    assert row["estimate"] == 1.0 and row["critical_gamma"] is None
    text = "".join(d.data for d in shared.sensitivity_displays())
    assert "not shown" in text and "at least 5" in text and "<table" not in text
    private = _matched_page(monkeypatch, False, res)
    assert private.effects.row(0, named=True)["critical_gamma"] == 1.3
    assert "<table" in "".join(d.data for d in private.sensitivity_displays())


def test_a_matched_effect_on_fewer_than_k_matched_sets_is_not_shown(monkeypatch):
    """The caliper left 4 of 11 certified engineers matched: the effect rests on 4."""
    shared = _matched_page(monkeypatch, True, _Matched(n_treated=11, n_pairs=4, bound_pairs=4))
    row = shared.effects.row(0, named=True)
    assert row["estimate"] != row["estimate"] and "at least 5" in row["note"]  # NaN + why
    assert shared.results == {}


def test_sensitivity_bounds_resting_on_fewer_than_k_adopters_are_not_shown(panel):
    """HonestDiD uses every event time of its window: e = -4 rests on 4 adopters only."""
    shared = _adoption_page(panel, True, min_e=-4, sensitivity=True)
    assert "rests on fewer than 5 adopters" in shared and "4 adopters" not in shared
    private = _adoption_page(panel, False, min_e=-4, sensitivity=True)
    assert "rests on 4" not in private
    # the private page says how few beside "stays significant" (trial K, python-sdk: 2), in
    # the second sentence, which the index keeps (trial AF: a third sentence was dropped)
    assert "; these bounds rest on as few as 4 adopters: one person can decide them." in private


def test_git_authors_outside_the_roster_are_redacted_in_a_shared_report():
    """A roster-only import keeps PRs of unlisted authors; the validation note names them
    ("e.g. 07pepa, 0xyjk, 1002770724@qq.com"), and the shared pages printed those ids."""
    eng = pl.DataFrame({"engineer_id": ["alice", "dependabot[bot]"], "is_bot": [False, True]})
    prs = pl.DataFrame({"author_id": ["alice", "07pepa", "1002770724@qq.com", "dependabot[bot]"]})
    full = SimpleNamespace(engineers=eng, pull_requests=prs)
    note = "author_id not found in engineers (e.g. 07pepa, 1002770724@qq.com); dependabot[bot]"
    ctx = Context(ds=full, full=full, panel=pl.DataFrame(), privacy=Privacy(k=5, share=True),
                  period="", filters={})  # fmt: skip
    shown = ctx.safe_text(note)
    assert "07pepa" not in shown and "qq.com" not in shown and "dependabot[bot]" in shown
    private = Context(ds=full, full=full, panel=pl.DataFrame(), privacy=Privacy(k=5),
                      period="", filters={})  # fmt: skip
    assert private.safe_text(note) == note


def test_estimator_messages_drop_their_small_group_lists():
    """Shared pages listed "very small cohort(s): 17 (1 units), 18 (4 units)", the cohorts of
    single engineers and the cells with their treated counts (pydantic-ai, left by PRIV2)."""
    from certkit.privacy import hide_small_counts

    notes = [
        "merged_prs: very small cohort(s): 23 (1 units), 28 (4 units); their effects are noisy "
        "and rest on very few people",
        "merged_prs: too few units in 380 group-time cell(s), which were dropped "
        "(min_cell_units=1): ATT(g=23, t=2): 0 treated, 2 comparison units; ATT(g=23, t=3): 0 "
        "treated, 3 comparison units; and 378 more",
        "merged_prs: 632 group-time cell(s) of cohort(s) 23, 28, 34 rest on a single treated "
        "unit; they are kept, as R did keeps them",
        "Sun-Abraham and Imputation (BJS) are left out: the estimate rests on cohorts of a "
        "single engineer (Sun-Abraham: 3 cohorts, 3 engineers, 29% of its weight)",
        "632 cohort x period cells of cohort(s) 23, 28, 34, 39 and 3 more rest on a single "
        "treated unit (11 engineers)",
        "merged_prs: 346 group-time cell(s) have no treated unit with data in both of their "
        "periods (an unbalanced panel: engineers not yet hired or already gone), so they were "
        "left out: ATT(g=14, t=2): 0 treated, 2 comparison units; and 345 more",
    ]
    out = [hide_small_counts(n, 5) for n in notes]
    assert out[0].startswith("merged_prs: very small cohort(s) (fewer than 5 engineers);")
    assert out[1].endswith("which were dropped (min_cell_units=1)")
    assert "cohort(s) 23" not in out[2] and "632 group-time cell(s) rest on a single" in out[2]
    assert "3 engineers" not in out[3] and "(Sun-Abraham: 29% of its weight)" in out[3]
    assert out[4].startswith("632 cohort x period cells rest on a single treated unit")
    assert out[5].endswith("so they were left out")
    for text in out:
        assert "(1 units)" not in text and "ATT(g=" not in text
    assert hide_small_counts("rest on a single treated unit (3 engineers)", 5).endswith(
        "(fewer than 5 engineers)"
    )


def _starts_as(said: dict[str, str], k: int = 5) -> None:
    """Each text, redacted for a shared report, starts as its value says."""
    from certkit.privacy import hide_small_counts

    for text, start in said.items():
        assert hide_small_counts(text, k).startswith(start), hide_small_counts(text, k)


def test_any_count_of_engineers_under_k_is_redacted_in_shared_text():
    """fastapi (trial P, P5): the shared notes said "gcp-pmle: 1 engineer(s) were certified
    before (or in) their first observed month", a group of one tied to a certification,
    while the summaries above said "fewer than 5"."""
    from certkit.privacy import hide_small_counts

    said = {
        "gcp-pmle: 1 engineer(s) were certified before (or in) their first observed month": "gcp-pmle: fewer than 5 engineer(s) were certified before (or in) their first",
        "lines 15, 16: 2 engineer(s) with no month before certifying in the data": "lines 15, 16: fewer than 5 engineer(s) with no month before certifying",
        "it rests on only 4 certified engineers (those with PR cycle time)": "it rests on fewer than 5 certified engineers (those with PR cycle time)",
        "1 engineer was certified after the data's last month": "fewer than 5 engineers was certified after",
    }
    _starts_as(said)
    kept = "12 engineers, 5 engineers, 1,024 engineers, version 2.5 engineers, 0 engineers"
    assert hide_small_counts(kept, 5) == kept
    # review D5: thresholds, words with digits and engineer-months are not head counts
    for text in (
        "under 10 engineers per pre-period cell",
        "fewer than 5 engineers",
        "at least 2 engineers",
        "python3 engineers",
        "3 engineer-months",
    ):
        assert hide_small_counts(text, 12) == text
    # review D6: the part of a group, not only the group
    part = hide_small_counts("1 of 3 certified engineer(s) lack the pre-periods", 5)
    assert part == "fewer than 5 of fewer than 5 certified engineer(s) lack the pre-periods"
    assert hide_small_counts("12 of 40 engineers", 5) == "12 of 40 engineers"


def test_counts_of_roster_and_certification_rows_under_k_are_redacted(tmp_path):
    """fastapi (trial Q, Q8): every shared page said "certifications.parquet, column
    'earned_date', 1 row: earned before hire_date" and "1 row(s) with ml false"; the data
    health table showed n_rows 1. A row of those tables is one engineer."""
    import dataclasses
    from datetime import date

    import certkit as ck
    from certkit.privacy import hide_small_counts
    from certkit.report import setup

    said = {
        "WARNING certifications.parquet, column 'earned_date', 1 row: earned before hire_date": "WARNING certifications.parquet, column 'earned_date', fewer than 5 rows: earned",
        "engineers.csv, column 'team', 2 rows: blank": "engineers.csv, column 'team', fewer than 5 rows: blank",
        "1 row(s) with ml false are left out of the treatment": "fewer than 5 rows with ml false are left out",
        # review D7: the other shapes of the same counts
        "status revoked: 2 badge row(s) not held": "status revoked: fewer than 5 badge rows not",
        "certifications.csv, 2 rows: earned twice": "certifications.csv, fewer than 5 rows: earned",
        'engineers.csv, column "team", 1 row: blank': 'engineers.csv, column "team", fewer than 5',
    }
    _starts_as(said)
    kept = [
        "pull_requests.csv, column 'merged_date', 2 rows: merged before created",  # PRs
        "certifications.csv, column 'earned_date', 12 rows: late",
    ]
    assert [hide_small_counts(t, 5) for t in kept] == kept
    # the data-health table: n_rows of a certifications finding under k is blanked when shared
    ds = ck.simulate(80, 12, seed=3)
    eng = ds.engineers.filter(~pl.col("is_bot"))["engineer_id"][0]
    early = pl.DataFrame(
        {"engineer_id": [eng], "certification": ["gcp-pmle"], "earned_date": [date(1990, 1, 1)]}
    )
    folder = tmp_path / "org"
    certs = pl.concat([ds.certifications, early], how="diagonal_relaxed")
    dataclasses.replace(ds, certifications=certs).write(folder)
    rows = {}
    for share in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx = setup(str(folder), share=share, privacy_k=5)
        found = ctx.validation_findings().filter(
            (pl.col("table") == "certifications") & pl.col("message").str.contains("hire_date")
        )
        rows[share] = found.select("n_rows", "message").row(0)
    assert rows[False][0] == 1 and "1 row" not in rows[True][1]
    assert rows[True][0] is None


def _adoption_page(panel, share: bool, *, min_e: int, sensitivity: bool = False) -> str:
    """The text of page 06's effect section (or, with ``sensitivity``, its HonestDiD one)."""
    ctx = _ctx(panel, share)
    study = studies.adoption_study(
        ctx, ["merged_prs"], threshold=0.5, sustain=2, min_prs=1, min_e=min_e, max_e=3
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        shown = study.effect_displays()
        if sensitivity:
            shown = study.sensitivity_displays(max_e=2)
    return "".join(d.data for d in shown if isinstance(getattr(d, "data", None), str))


def _thin_base_panel() -> pl.DataFrame:
    """40 engineers x 12 months; 10 certified in month 6, of whom only 3 have a value in
    month 5 (the base period every post-certification cell compares with)."""
    import numpy as np

    rng = np.random.default_rng(0)
    rows = []
    for i in range(40):
        cohort = 6 if i < 10 else 0
        for t in range(1, 13):
            missing = cohort and t == 5 and i >= 3
            value = None if missing else float(rng.normal(10 + (cohort > 0) * (t >= 6)))
            rows.append(
                {
                    "engineer_id": f"e{i:02d}",
                    "period_index": t,
                    "cohort": cohort,
                    "event_time": t - cohort if cohort else None,
                    "post": bool(cohort and t >= cohort),
                    "cycle_time_log_median": value,
                }
            )
    return pl.DataFrame(rows)


def test_an_estimate_is_counted_by_the_engineers_it_rests_on_not_those_with_any_value():
    """cargo and golang/net shared reports (trial D): the cycle-time effect and event-study
    points were shown with 11-12 'certified engineers' while at most 4 had a value in the
    base period, so the estimate rested on 4 and points on 1."""
    from certkit import did

    panel = _thin_base_panel()
    spec = studies.did_spec("not_yet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        agg = did.att_gt(panel, outcome="cycle_time_log_median", **spec).aggregate("simple")
        assert agg.n_engineers == 3
        private = studies.did_effects(
            _ctx(panel, False), ["cycle_time_log_median"], spec, notes=[], min_e=-3, max_e=3
        )
        shared = studies.did_effects(
            _ctx(panel, True), ["cycle_time_log_median"], spec, notes=[], min_e=-3, max_e=3
        )
    assert private.effects["certified_engineers"][0] == 3
    row = shared.effects.row(0, named=True)
    assert row["estimate"] != row["estimate"], row  # NaN: not shown
    assert "rests on fewer than 5 certified engineers" in row["note"], row["note"]
    assert shared.studies == {} or all((pts.height == 0) for pts, _ in shared.studies.values()), (
        shared.studies
    )


def test_an_outcome_without_its_table_says_so_in_plain_words():
    """Trial D: 'outcome column defects_per_pr is 0 in every row: with no variation ...' on
    every page of imports that had no defects or incidents table at all."""
    from certkit.errors import OutcomeNotRecorded

    ctx = _ctx(_thin_base_panel(), share=False)
    ctx.full.defects = pl.DataFrame(schema={"id": pl.String})
    ctx.full.incidents = pl.DataFrame({"id": ["i1"]})
    with pytest.raises(OutcomeNotRecorded, match="it has no defects .*--jira"):
        ctx.recorded("defects_per_pr")
    ctx.recorded("incidents")  # recorded: the estimators decide
    ctx.recorded("merged_prs")


def test_a_hidden_match_keeps_its_notes_out_of_a_shared_report(monkeypatch):
    """cargo (trial D): the matched estimate on 4 engineers was withheld, but its notes kept
    'the caliper dropped 8 of 12 ... describes only the remaining 4' and the SMDs of those
    four engineers' role and level."""

    def fake(*a, **kw):
        warnings.warn("the caliper dropped 8 of 12 certified units", CertkitWarning, stacklevel=2)
        return _Matched(n_treated=12, n_pairs=4, bound_pairs=4)

    monkeypatch.setattr(matching, "matched_did", fake)
    panel = pl.DataFrame({"cohort": [3, 0], "post": [0, 0], "merged_prs": [4.0, 5.0]})
    for share, kept in ((True, False), (False, True)):
        notes: list[str] = []
        studies.matched_effects(
            _ctx(panel, share), ["merged_prs"], covariates=["tenure_months"],
            pre_periods=2, post_periods=2, caliper=None, notes=notes,
        )  # fmt: skip
        assert any("caliper dropped" in n for n in notes) is kept, notes


def test_one_engineer_cohorts_count_as_the_engineers_they_are():
    """golang/net: eleven cohorts, most of one engineer; counting engineers by a non-zero
    influence gave 2 of 12 (a one-engineer cohort's deviation from its own mean is zero)."""
    import numpy as np

    from certkit import did

    rng = np.random.default_rng(1)
    rows = [
        {"engineer_id": f"e{i}", "period_index": t, "cohort": g, "y": float(rng.normal())}
        for i, g in enumerate([6, 7, 8, 9, 10] + [0] * 20)
        for t in range(1, 13)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        agg = did.att_gt(pl.DataFrame(rows), outcome="y", **studies.did_spec("not_yet"))
    assert agg.aggregate("simple").n_engineers == 5


def test_counts_per_engineer_leave_a_shared_report():
    """Trial H: the hire-date warning kept "([redacted]: 42, [redacted]: 12, ... and 4 more)"
    in the shared report: one person's numbers, id or not."""
    from certkit.privacy import hide_small_counts, redact

    text = (
        "90 PRs of 9 engineers were merged before the month of their author's hire_date "
        "(e004: 42, e008: 12, e010: 1,024, e020: 7, e030: 3 and 4 more): outside the panel"
    )
    shared = hide_small_counts(redact(text, ["e004", "e008", "e010", "e020", "e030"]), 5)
    assert shared == (
        "90 PRs of 9 engineers were merged before the month of their author's hire_date: "
        "outside the panel"
    )
    for kept in (  # lists that are not one person's numbers stay
        "every design gives one reason (1,824 direct commits, 155 squash merges)",
        "e.g. D3 (P7 by renovate), D4 (P8 by dependabot[bot]): the analysis",
        "Wald test (p = 0.03, 4 degrees of freedom)",
    ):
        assert hide_small_counts(kept, 5) == kept


def test_a_shared_report_says_how_many_rows_not_which(tmp_path):
    """Trial H: a shared report's notes and validation table listed the rows a finding is
    about ("pull_requests rows 9, 11, 18"); a Parquet file's rows are now named by id
    ("ids PR-0000004, ..."), which point at one person's PRs. Shared: how many; private:
    which."""
    import certkit as ck
    from certkit.report.context import setup

    ds = ck.simulate(40, 12, seed=3)
    folder = tmp_path / "org"
    ds.write(folder, format="parquet")
    prs = pl.read_parquet(folder / "pull_requests.parquet")
    merged = prs.filter(pl.col("merged_date").is_not_null())["id"].head(2).to_list()
    prs = prs.with_columns(
        pl.when(pl.col("id").is_in(merged))
        .then(pl.col("merged_date") - pl.duration(days=400))
        .otherwise(pl.col("merged_date"))
        .alias("merged_date")
    )
    prs.write_parquet(folder / "pull_requests.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        private, shared = setup(str(folder)), setup(str(folder), share=True)
    said = "merged_date is before created_date: 2 PR(s) dropped"
    mine = [n for n in private.notes if said in n]
    assert mine and all(i in mine[0] for i in merged)
    theirs = [n for n in shared.notes if said in n]
    assert theirs and "2 rows:" in theirs[0] and not any(i in theirs[0] for i in merged)
    table = shared.validation_findings()
    assert "rows" not in table.columns and table["n_rows"].sum() >= 2
    assert "rows" in private.validation_findings().columns


def test_prs_of_fewer_than_k_left_out_engineers_and_their_number_are_not_said():
    """gemini-cli (trial T), shared report: "107 of 5,778 merged PRs of engineers count in no
    outcome: 107 by engineers left out of the panel" (2 engineers: their volume), and "12 of
    the 14 engineers certified in the data are valued" (2 by subtraction)."""
    from certkit import narrative
    from certkit.data.health import outside_words

    found = {
        "total": 110,
        "merged": 5778,
        "before": 3,
        "after": 0,
        "left_out": 107,
        "left_out_engineers": 2,
    }
    shared = outside_words(found, "month", k=5)
    assert "107" not in shared and "110" not in shared
    assert shared.startswith("3 of 5,778 merged PRs") and "fewer than 5 engineers" in shared
    private = outside_words(found, "month", k=1)
    assert "110 of 5,778" in private and "107 by 2 engineers" in private
    only_few = outside_words(found | {"before": 0, "total": 107}, "month", k=5)
    assert "107" not in only_few and "each kind rests on fewer than 5 engineers" in only_few
    args = (-0.5, -1.2, 0.1, 0.2, 8000.0, 12)
    said = narrative.describe_roi_figures(*args, in_data=14, others_under=5)
    assert "14" not in said and "fewer than 5 others" in said
    assert "12 of the 14 engineers" in narrative.describe_roi_figures(*args, in_data=14)


def test_the_matched_refusal_counts_no_group_under_k():
    """continuedev/continue (trial V), shared 03: "of 10 certified engineer(s) with the
    pre-periods, 1 found a peer within the caliper ... and 1 of those have outcomes"."""
    from certkit.privacy import hide_small_counts

    text = (
        "fewer than two matched sets have post-period outcomes: of 10 certified engineer(s) "
        "with enough periods before certifying, 1 found a peer within the caliper (0.2 SD) and 1 of those have "
        "outcomes after certifying"
    )
    shared = hide_small_counts(text, 5)
    assert "of 10 certified engineer(s)" in shared and "fewer than 5 found a peer" in shared
    assert "fewer than 5 of those have outcomes" in shared and " 1 " not in shared
    assert "7 found a peer" in hide_small_counts(text.replace("1 found", "7 found"), 5)


def test_an_all_or_nothing_ai_share_of_a_group_is_not_shown_in_a_shared_report():
    """trial X (pydantic-ai, F4): the shared heat map said "core, 2025-12: 0%": the cell
    had 5 engineers, but 0% told each of them that they had no AI-assisted PR that month.
    Cells and monthly points of 0% or 100% are withheld from shared reports, as "5 of 5
    certified" is; the private report keeps them."""
    from IPython.display import Markdown

    import certkit as ck
    from certkit.report.study_ai import ai_study

    sample = ck.load("data/sample")
    team = sample.engineers.filter(pl.col("team") == "payments")["engineer_id"]
    prs = sample.pull_requests.with_columns(
        pl.when(
            pl.col("author_id").is_in(team.implode())
            & (pl.col("created_date").dt.truncate("1mo") == pl.datetime(2025, 6, 1))
        )
        .then(0.0)
        .otherwise(pl.col("ai_assisted"))
        .alias("ai_assisted")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = ck.from_frames(**{**sample.tables(), "pull_requests": prs})
        panel = ck.build_panel(ds)

    def heat(share: bool) -> tuple[pl.DataFrame, str]:
        ctx = Context(
            ds=ds, full=ds, panel=panel, privacy=Privacy(k=5, share=share), period="", filters={}
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study = ai_study(ctx, ["cycle_time_hours"])
            shown = study.adoption_displays()
        cells = pl.DataFrame(shown[0].to_dict()["datasets"].popitem()[1])
        words = " ".join(d.data for d in shown if isinstance(d, Markdown))
        return cells, words

    private, _ = heat(share=False)
    cell = private.filter(pl.col("team") == "payments", pl.col("period").str.starts_with("2025-06"))
    assert cell["ai_share"].to_list() == [0.0]  # the analyst sees it
    shared, words = heat(share=True)
    assert shared.filter(pl.col("ai_share").is_in([0.0, 1.0])).height == 0
    assert shared.height == private.height - 1
    assert (
        f"1 of the {private.height} team x month cells are left out of this shared report by "
        "its privacy rules"
    ) in words
    assert "0%" not in words  # the reason is not given per cell: it would tell the value


def test_the_missing_values_table_of_a_shared_report_counts_no_group_under_k():
    """trial AD (astral-sh/ruff): the shared missing-values table said "leave_date 428 424":
    4 leavers, where the notes said "fewer than 5"."""
    from certkit.data.health import missing_shared

    miss = pl.DataFrame(
        {
            "table": ["engineers", "engineers", "pull_requests"],
            "column": ["leave_date", "team", "merged_date"],
            "rows": [428, 428, 7555],
            "missing": [424, 0, 3],
            "missing_share": [424 / 428, 0.0, 3 / 7555],
        }
    )
    shared = missing_shared(miss, 5)
    assert shared["missing"].to_list() == [None, 0, 3]  # 4 leavers: not counted
    assert missing_shared(miss, 1).equals(miss)
