"""Data-health checks and the notebook context: counts add up, filters and privacy hold."""

from __future__ import annotations

import polars as pl
import pytest

import certkit as ck
from certkit import narrative
from certkit.data import health
from certkit.errors import CertkitError
from certkit.privacy import Privacy
from certkit.report import filter_dataset, setup


@pytest.fixture(scope="module")
def ds():
    return ck.simulate(n_engineers=60, months=8, seed=5)


def test_coverage_counts_every_row_in_the_window(ds):
    cov = health.coverage(ds, "month")
    prs = cov.filter(pl.col("table") == "pull_requests")
    assert prs["rows"].sum() == ds.pull_requests.height
    assert prs.height == 8  # one row per month, gaps filled with 0
    inc = cov.filter(pl.col("table") == "incidents")["rows"].sum()
    assert inc == ds.incidents.height


def test_missing_and_outliers(ds):
    prs = ds.pull_requests.with_columns(
        pl.when(pl.int_range(pl.len()) < 10).then(None).otherwise(pl.col("repo")).alias("repo")
    )
    broken = ck.io.Dataset(ds.engineers, ds.certifications, prs, ds.defects, ds.incidents)
    miss = health.missing(broken)
    row = miss.filter((pl.col("table") == "pull_requests") & (pl.col("column") == "repo"))
    assert row["missing"].item() == 10
    out = health.outliers(ds, ck.build_panel(ds))
    never = out.filter(pl.col("check") == "PRs never merged").row(0, named=True)
    assert never["flagged"] == ds.pull_requests["merged_date"].null_count()
    assert set(out.columns) == {"check", "rule", "flagged", "of", "share"}


def test_team_table_merges_small_teams(ds):
    humans = ds.human_engineers()
    small = humans["engineer_id"].head(2).to_list()
    eng = ds.engineers.with_columns(
        pl.when(pl.col("engineer_id").is_in(small))
        .then(pl.lit("tiny"))
        .otherwise("team")
        .alias("team")
    )
    ds2 = ck.io.Dataset(eng, ds.certifications, ds.pull_requests, ds.defects, ds.incidents)
    assert "tiny" in health.teams(ds2, 1)["team"].to_list()
    shared = health.teams(ds2, 5)
    assert "tiny" not in shared["team"].to_list()
    assert shared["engineers"].min() >= 5
    assert shared["engineers"].sum() <= humans.height


def test_engineer_flags_are_pseudonymized_when_shared(ds):
    flags = health.engineer_flags(ck.build_panel(ds))
    assert flags.height and flags["flags"].str.len_chars().min() > 0
    shown = Privacy(share=True, individuals=True, key=b"k").engineer_ids(flags)
    assert not set(shown["engineer_id"]) & set(ds.engineers["engineer_id"])


def test_filter_dataset_by_team_certification_and_dates(ds):
    team = ds.human_engineers()["team"].mode()[0]
    sub = filter_dataset(ds, teams=[team], start="2024-12-01")
    assert set(sub.human_engineers()["team"]) == {team}
    assert sub.pull_requests["created_date"].min().date().isoformat() >= "2024-12-01"
    assert set(sub.pull_requests["author_id"]) <= set(sub.engineers["engineer_id"])
    cert = ds.certifications["certification_id"].mode()[0]
    by_cert = filter_dataset(ds, certifications=[cert])
    assert set(by_cert.certifications["certification_id"]) == {cert}
    other_only = set(ds.certifications["engineer_id"]) - set(
        ds.certifications.filter(pl.col("certification_id") == cert)["engineer_id"]
    )
    assert not other_only & set(by_cert.engineers["engineer_id"])
    with pytest.raises(CertkitError, match="not in engineers.team"):
        filter_dataset(ds, teams=["nope"])
    with pytest.raises(CertkitError, match="neither in this data's certifications .* nor in the"):
        filter_dataset(ds, certifications=["nope"])
    # one name as text was split into letters (trial F: teams ['c', 'o', 'r', 'e'])
    assert filter_dataset(ds, teams=team).engineers.equals(
        filter_dataset(ds, teams=[team]).engineers
    )
    # a certification id outside the catalog, as an organisation's own file names it
    own = ds.certifications.drop("certification_id").with_columns(
        certification=pl.lit("acme-ml-101")
    )
    mine = filter_dataset(
        ck.from_frames(**{**ds.tables(), "certifications": own}), certifications="acme-ml-101"
    )
    assert set(mine.certifications["certification_id"]) == {"acme-ml-101"}
    with pytest.raises(CertkitError, match="YYYY-MM-DD"):
        filter_dataset(ds, start="last week")


def test_setup_collects_warnings_and_redacts_when_shared(small_folder):
    ctx = setup(str(small_folder), share=True, privacy_k=2)
    assert ctx.k == 2 and ctx.privacy.share
    assert ctx.safe_text("Ana Silva and ben okafor") == "[redacted] and [redacted]"
    assert ctx.safe_text("E1") == "E1"  # ids under 3 characters are too ambiguous to scan
    assert ctx.panel.height > 0 and "engineers" in ctx.scope()
    assert setup(str(small_folder)).safe_text("Ana Silva") == "Ana Silva"


def test_story_sentences_follow_the_numbers():
    good = narrative.effect_row("cycle_time_log_median", -0.2, 0.05, -0.3, -0.1, 3.0)
    flat = narrative.effect_row("merged_prs", 0.1, 0.5, -0.9, 1.1, 5.0)
    text = narrative.summarize(pl.DataFrame([good, flat]), "test")
    assert "about 18% lower" in text and "an improvement" in text
    assert "not distinguishable from no change" in text
    assert "1 of 2 estimated outcome(s)" in text and "observational" in text


def test_effect_of_reads_a_did_aggregate_and_the_panel_baseline(ds):
    panel = ck.build_panel(ds, "month")
    agg = ck.did.att_gt(
        panel, outcome="merged_prs", unit="engineer_id", time="period_index", group="cohort"
    ).aggregate("simple")
    row = narrative.effect_of("merged_prs", agg, panel)
    lo, hi = agg.overall_ci
    pre = panel.filter((pl.col("cohort") > 0) & (pl.col("post") == 0))["merged_prs"].mean()
    assert row["estimate"] == agg.overall_att and row["se"] == agg.overall_se
    assert (row["ci_low"], row["ci_high"]) == (lo, hi)
    assert row["baseline"] == pytest.approx(pre)
    assert row["relative"] == pytest.approx(agg.overall_att / pre)


def test_rare_event_effects_say_how_many_events_they_rest_on(ds):
    """httpx with Jira and PagerDuty (trial E): "incidents about 36% higher (95% CI -9% to
    +81%)" rested on 3 incidents of the certified engineers, 1 after certifying; no page said
    how few. Every defect, incident and revert effect now gives both counts, and a clear one
    resting on fewer than 10 events after certifying says so."""
    panel = ck.build_panel(ds, "month")
    agg = ck.did.att_gt(
        panel, outcome="defects", unit="engineer_id", time="period_index", group="cohort"
    ).aggregate("simple")
    row = narrative.effect_of("defects", agg, panel)
    certified = panel.filter(pl.col("cohort") > 0)
    after = int(certified.filter(pl.col("post") == 1)["defects"].sum())
    before = int(certified.filter(pl.col("post") == 0)["defects"].sum())
    assert (row["events_after"], row["events_before"]) == (after, before) and after > 0
    text = narrative.summarize(pl.DataFrame([row]), "staggered DiD")
    assert (
        f"the certified engineers had {after:,} defects after certifying, {before:,} before" in text
    )
    clear = row | {"p_value": 0.001, "events_after": 3}
    assert "rests on only 3 defects after certification" in narrative.effect_caveat(clear)
    assert "rests on only" not in (narrative.effect_caveat(row | {"events_after": 40}) or "")
    merged = narrative.effect_of("merged_prs", agg, panel)  # not a rare event: no counts
    assert "events_after" not in merged


def test_pretrend_words_compare_misses_with_chance():
    es = pl.DataFrame(
        {
            "e": [-3, -2, -1, 0, 1],
            "ci_low": [-0.1, 0.05, -0.2, 0.1, 0.2],
            "ci_high": [0.1, 0.3, 0.2, 0.3, 0.4],
        }
    )
    # one miss in three: P(>= 1 of 3 at 5 %) = 0.14, within chance
    text = narrative.pretrend_words(es, "not tested: degenerate")
    assert "Of the 3 pre-certification estimates shown, 1 has" in text
    assert "no more than chance" in text and "caution" not in text
    # two misses in three: P(>= 2 of 3) = 0.007, more than chance
    two = es.with_columns(ci_low=pl.Series([0.01, 0.05, -0.2, 0.1, 0.2]))
    assert "caution" in narrative.pretrend_words(two, "no evidence (p = 0.40)")
    ok = narrative.pretrend_words(es.filter(pl.col("e") != -2), "no evidence (p = 0.40)")
    assert "0 have" in ok and "no more than chance" in ok
    # gnome-shell: the only pre-period estimate shown missed zero: 5 %, not "no more than chance"
    one = es.filter(pl.col("e") == -2)
    assert "caution" in narrative.pretrend_words(one, "warning: diverging (p = 0.000)")


def test_default_data_path_works_from_the_notebooks_folder(monkeypatch):
    from pathlib import Path

    from certkit.report.context import resolve_data

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root / "notebooks")
    assert Path(resolve_data("data/sample")) == root / "data" / "sample"
    assert resolve_data("no/such/folder") == "no/such/folder"


def test_narrative_tells_empty_optional_columns_apart_from_gaps(ds):
    """The simulated data carry no PR titles: that is 'not provided', not the worst gap."""
    prs = ds.pull_requests.with_columns(
        pl.when(pl.int_range(pl.len()) < 10).then(None).otherwise(pl.col("repo")).alias("repo")
    )
    broken = ck.io.Dataset(ds.engineers, ds.certifications, prs, ds.defects, ds.incidents)
    miss = health.missing(broken)
    assert miss.filter(pl.col("column") == "title")["missing_share"].item() == 1.0
    text = health.narrative(broken, health.coverage(broken), miss, health.outliers(broken))
    line = next(x for x in text.splitlines() if "Missing values" in x)
    assert "Entirely empty (not provided):" in line and "pull_requests.title" in line
    assert "the largest is" in line and "pull_requests.title (" not in line


def test_authors_missing_from_the_roster_and_bot_prs_are_said(ds):
    """fastapi with an 18-person roster: the import added 894 outside authors (team, role and
    level 'unknown'), 97% of the engineer-months, counted as never certified, and the page
    said nothing; the scope line also counted bots' PRs without saying so."""
    humans = ds.human_engineers()["engineer_id"].to_list()
    unlisted = humans[: len(humans) // 2]
    eng = ds.engineers.with_columns(
        pl.when(pl.col("engineer_id").is_in(unlisted))
        .then(pl.lit("unknown"))
        .otherwise(pl.col(c))
        .alias(c)
        for c in ("team", "role", "level")
    )
    marked = ck.io.Dataset(eng, ds.certifications, ds.pull_requests, ds.defects, ds.incidents)
    found = health.unlisted_authors(marked)
    assert (found["engineers"], found["of"]) == (len(unlisted), len(humans))
    theirs = ds.pull_requests.filter(pl.col("author_id").is_in(unlisted)).height
    assert found["prs"] == theirs
    text = health.narrative(
        marked, health.coverage(marked), health.missing(marked), health.outliers(marked)
    )
    roster = next(x for x in text.splitlines() if "**Roster:**" in x)
    assert f"{len(unlisted):,} of {len(humans):,} engineers" in roster
    assert "count as never certified" in roster
    bots = (
        ds.pull_requests.height - ds.pull_requests.filter(pl.col("author_id").is_in(humans)).height
    )
    assert bots > 0 and f"({bots:,} of them by bots or authors not in engineers" in text
    assert health.unlisted_authors(ds) is None  # the simulated roster is complete
    nobody = ds.engineers.with_columns(
        pl.lit("unknown").alias(c) for c in ("team", "role", "level")
    )
    no_roster = ck.io.Dataset(nobody, ds.certifications, ds.pull_requests, ds.defects, ds.incidents)
    assert health.unlisted_authors(no_roster) is None  # no roster at all: the import says so
    # a roster edited by hand ("Unknown ") is read as validation's alias warning reads it
    edited = eng.with_columns(
        pl.when(pl.col(c) == "unknown").then(pl.lit(" Unknown")).otherwise(pl.col(c)).alias(c)
        for c in ("team", "role", "level")
    )
    by_hand = ck.io.Dataset(edited, ds.certifications, ds.pull_requests, ds.defects, ds.incidents)
    assert health.unlisted_authors(by_hand)["engineers"] == len(unlisted)


def test_cycle_time_outliers_leave_out_approximated_creation_dates(ds):
    """fastapi: 'PR merged within a minute: 3,209 of 3,216 (99.8%) (auto-merge?)' were the
    squash merges whose creation date is the merge, already left out of cycle time."""
    prs = ds.pull_requests
    squashed = pl.int_range(pl.len()) % 2 == 0
    prs = prs.with_columns(
        pl.when(squashed).then(pl.col("merged_date")).otherwise(pl.col("created_date"))
        .alias("created_date"),
        pl.when(squashed).then(pl.lit("squash_commit")).otherwise(pl.lit("gh"))
        .alias("created_source"),
    )  # fmt: skip
    marked = ck.io.Dataset(ds.engineers, ds.certifications, prs, ds.defects, ds.incidents)
    out = health.outliers(marked)
    row = out.filter(pl.col("check") == "PR merged within a minute").row(0, named=True)
    real = prs.filter(pl.col("merged_date").is_not_null() & (pl.col("created_source") == "gh"))
    assert row["of"] == real.height
    assert row["flagged"] == real.filter(pl.col("merged_date") == pl.col("created_date")).height
    size = out.filter(pl.col("check") == "PR size").row(0, named=True)
    assert size["of"] == prs["merged_date"].is_not_null().sum()  # size checks every merged PR


def test_an_effect_without_an_interval_never_shows_n_a_to_readers():
    """fastapi: 'certification and AI use: Effect: +0 (95% interval n/a to n/a)'; trial G:
    'Effect: +0, but its 95% interval could not be estimated': not estimated, no number."""
    text = narrative.describe_effect("Effect", 0.0, float("nan"), float("nan"), float("nan"))
    assert "n/a" not in text and text.startswith("Effect: not estimated: too little variation")
    assert "+0" not in text
    assert "cannot be told apart from no effect" in text
    ok = narrative.describe_effect("Effect", 0.5, 0.1, 0.9, 0.01)
    assert "(95% interval 0.1 to 0.9, p = 0.01)" in ok and "excludes zero" in ok


def test_no_cycle_time_because_git_approximated_the_creation_dates_is_said():
    """fastapi: the cycle-time row said 'rests on 0 certified engineers; a shared report
    shows only ...' (shared) or 'no group-time cell has enough units' (private); the reason
    was 3,211 of 3,218 merged PRs squash-merged, with no creation date."""
    why = narrative.no_certified_data("cycle_time_log_median", 3211, 3218)
    assert "3,211 of 3,218 merged PRs have a creation date approximated" in why
    assert "--github" in why
    plain = narrative.no_certified_data("merged_prs", 3211, 3218)
    assert "approximated" not in plain and "before and after certifying" in plain
    assert "approximated" not in narrative.no_certified_data("cycle_time_log_median", 10, 3218)
    # trial M (abseil-cpp): 34 dated PRs, all by authors outside the roster
    none = narrative.no_certified_data("cycle_time_log_median", 2259, 2293, dated=(34, 0))
    assert "left out; the other 34 have real creation dates, none of them by a certified " in none
    some = narrative.no_certified_data("cycle_time_log_median", 2259, 2293, dated=(34, 3))
    assert (
        "the other 34 have real creation dates (3 of them by certified engineers), in too" in some
    )
    assert "certifying" not in some  # the same words on the AI-adoption page (trial Y)


def test_scope_counts_defects_and_incidents_left_out(ds):
    """DevLake trial on fastapi: the page said "9 incidents" beside an import of 10 (one was
    blamed on a bot's PR) with nothing saying why."""
    team = ds.human_engineers()["team"].mode()[0]
    sub = filter_dataset(ds, teams=[team])
    cov, miss, out = health.coverage(sub), health.missing(sub), health.outliers(sub)
    text = health.narrative(sub, cov, miss, out, full=ds)
    more = ds.incidents.height - sub.incidents.height
    assert more > 0
    assert f"{sub.incidents.height:,} incidents ({more:,} more out of scope" in text
    assert "more out of scope" not in health.narrative(
        ds, *map(lambda f: f(ds), (health.coverage, health.missing, health.outliers)), full=ds
    )


def test_pretrend_words_do_not_reassure_beside_a_failed_joint_test():
    """cargo (trial D): 'joint test ... p = 0.000' beside '0 of 6 ... (no more than chance
    would give)'."""
    es = pl.DataFrame(
        {"e": [-3, -2, -1, 0], "ci_low": [-0.1, -0.05, -0.2, 0.1], "ci_high": [0.1, 0.3, 0.2, 0.3]}
    )
    text = narrative.pretrend_words(es, "warning: already diverging (p = 0.000)")
    assert "no more than chance" not in text and "together they drift" in text, text


def test_a_shared_coverage_chart_leaves_out_periods_of_few_active_engineers():
    """cargo (trial D): the shared data-health chart showed months with 0-3 active
    engineers (their PR counts are a few people's activity)."""
    from certkit.data.health import coverage_shown

    cov = pl.DataFrame(
        {
            "table": ["active engineers", "pull_requests"] * 2,
            "period": ["2021-01-01", "2021-01-01", "2022-01-01", "2022-01-01"],
            "rows": [2, 7, 9, 40],
        }
    )
    shown, note = coverage_shown(cov, 5)
    assert shown["period"].unique().to_list() == ["2022-01-01"]
    assert note.startswith("1 period(s) with fewer than 5 active engineers")
    assert coverage_shown(cov, 1)[0].height == 4


def test_health_tables_order_ties_by_name():
    """Certifications with as many holders, and approximation kinds with as many PRs, come in
    name order on every run (a group-by's order is not fixed)."""
    import dataclasses

    from certkit.data import dating, health

    ds = ck.simulate(60, 12, seed=2)
    certs = ds.certifications.head(0)
    for i, cert in enumerate(["zeta-cert", "alpha-cert", "mid-cert"]):  # two holders each
        rows = ds.certifications.head(2).with_columns(
            pl.lit(cert).alias("certification_id"),
            pl.Series("engineer_id", ds.engineers["engineer_id"][2 * i : 2 * i + 2]),
        )
        certs = pl.concat([certs, rows])
    kinds = ["squash_commit", "exported", "commit"]  # as many merged PRs of each kind
    merged = ds.pull_requests.filter(pl.col("merged_date").is_not_null()).head(30)
    prs = merged.with_columns(pl.Series("created_source", [kinds[i % 3] for i in range(30)]))
    for _ in range(8):
        shuffled = dataclasses.replace(
            ds,
            certifications=certs.sample(fraction=1.0, shuffle=True),
            pull_requests=prs.sample(fraction=1.0, shuffle=True),
        )
        assert health.certifications(shuffled)["certification"].to_list() == [
            "alpha-cert",
            "mid-cert",
            "zeta-cert",
        ]
        assert dating.approximated_dates(shuffled)["created_source"].to_list() == sorted(kinds)


def test_a_devlake_import_without_issues_is_not_told_that_devlake_adds_them():
    """trial AA: eight places of a DevLake report said defects are "not recorded ... an
    export from Jira (--jira) or DevLake adds them" on a DevLake import."""
    import warnings

    from certkit.errors import OutcomeNotRecorded
    from certkit.report import Context

    sample = ck.load_sample()
    empty = sample.defects.clear()
    for source, said in (
        ("devlake", "this DevLake import has no defects"),
        ("git", "DevLake adds"),
    ):
        prs = sample.pull_requests.with_columns(pl.lit(source).alias("source"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = ck.from_frames(**{**sample.tables(), "pull_requests": prs, "defects": empty})
        ctx = Context(
            ds=ds, full=ds, panel=pl.DataFrame(), privacy=Privacy(), period="", filters={}
        )
        with pytest.raises(OutcomeNotRecorded, match=said):
            ctx.recorded("defects_per_pr")
