"""A defect or incident linked to a PR merged at or after it names the fix, not the cause.

``certkit.load`` (validation), ``certkit validate``, the lazy validation, the panel and the
data-health summary count the same rows and say it in the same words
(:mod:`certkit.data.panel_links`); the bundled sample has no such link (its planted truth
puts every defect after the merge of the PR that caused it).
"""

from __future__ import annotations

import dataclasses
import warnings
from datetime import date

import polars as pl
import pytest
from conftest import DEFECTS, INCIDENTS, write_folder
from test_panel_engines import same

import certkit as ck
from certkit.cli import main
from certkit.data import health

# P4 (E2) was created 2024-02-15 and merged 2024-03-15 09:00. D3 was reported two weeks
# before that merge, D4 at the merge instant (naming E1, who keeps it), D5 links P5 (never
# merged). I3 started a day before P4 merged.
FIX_DEFECTS = (
    DEFECTS + "D3,2024-03-01,P4,,high\nD4,2024-03-15T09:00:00Z,P4,E1,low\nD5,2024-02-01,P5,,low\n"
)
FIX_INCIDENTS = INCIDENTS + "I3,2024-03-14T09:00:00Z,2024-03-14T10:00:00Z,SEV2,P4,\n"
DEFECT_WORDS = (
    "3 defects are linked to PRs merged after they were reported (or never merged), e.g. D3, "
    "D4, D5: those PRs most likely fixed them, so they are not counted against their authors "
    "(fix_links='drop', the default)"
)
INCIDENT_WORDS = (
    "1 incident is linked to a PR merged after it started (or never merged), e.g. I3: that PR "
    "most likely fixed it, so it is not counted against the PR's author (fix_links='drop', "
    "the default)"
)


@pytest.fixture
def folder(tmp_path):
    return write_folder(tmp_path / "org", defects=FIX_DEFECTS, incidents=FIX_INCIDENTS)


def load(folder) -> ck.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        return ck.load(folder, today=date(2024, 6, 1))


def test_validation_names_the_rows_and_the_default(folder, capsys):
    found = {p.table: p for p in load(folder).validation.warnings if p.column == "pr_id"}
    assert DEFECT_WORDS in found["defects"].message
    assert found["defects"].rows == [4, 5, 6]  # CSV lines (header = line 1)
    assert "fix_links='keep' counts them for the PRs' authors" in found["defects"].message
    assert INCIDENT_WORDS in found["incidents"].message and found["incidents"].rows == [4]
    assert main(["validate", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "defects.csv, column 'pr_id', lines 4, 5, 6: 3 defects are linked" in out


def test_panel_charges_the_cause_only_and_keep_trusts_every_link(folder):
    ds = load(folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drop = ck.build_panel(ds)
    said = [str(w.message) for w in caught]
    assert not any("are linked to PRs merged after" in t for t in said), said  # load said it

    def at(p: pl.DataFrame, who: str, month: int, column: str) -> int:
        row = p.filter((pl.col("engineer_id") == who) & (pl.col("period") == date(2024, month, 1)))
        return row[column].item()

    keep = ck.build_panel(ds, fix_links="keep")
    assert at(drop, "E2", 3, "defects") == 0 and at(keep, "E2", 3, "defects") == 1  # D3
    assert at(drop, "E1", 3, "defects") == 1  # D4 names E1: E1 keeps it (its own month)
    assert at(keep, "E1", 3, "defects") == 1  # the named engineer wins, as for incidents
    assert at(drop, "E1", 1, "defects") == 1 == at(keep, "E1", 1, "defects")  # D1: caused
    assert at(drop, "E2", 3, "incidents") == 0 and at(keep, "E2", 3, "incidents") == 1  # I3
    assert at(drop, "E1", 3, "incidents") == 1 == at(keep, "E1", 3, "incidents")  # I1: caused


def test_lazy_validation_and_a_lazy_panel_say_it_alike(folder):
    duckdb = pytest.importorskip("duckdb")
    from certkit.data.panel_sources import copy_to_duckdb
    from certkit.data.validate_lazy import validate_lazy

    ds = load(folder)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    on_duckdb = copy_to_duckdb(ds, con)
    found = {p.table: p.message for p in validate_lazy(on_duckdb).warnings if p.column == "pr_id"}
    assert DEFECT_WORDS in found["defects"] and INCIDENT_WORDS in found["incidents"]
    fresh = dataclasses.replace(on_duckdb, validation=ck.ValidationReport())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = ck.build_panel(fresh)
    said = " ".join(str(w.message) for w in caught)
    assert DEFECT_WORDS in said and INCIDENT_WORDS in said
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        same(got, ck.build_panel(ds))


def test_data_health_counts_them(folder):
    ds = load(folder)
    cov, miss = health.coverage(ds), health.missing(ds)
    text = health.narrative(ds, cov, miss, health.outliers(ds))
    assert (
        "5 defects (3 of them linked to a PR merged after them (or never merged): most likely "
        "the fix, so not counted against the PR's author)" in text
    )
    assert "3 incidents (1 of them linked to a PR merged after it" in text


def test_the_sample_links_every_defect_to_the_pr_that_caused_it():
    """The simulator reports defects and incidents after their PR merged: its planted
    effects are on caused rows, and the default changes none of the sample's panel."""
    from certkit.data.panel_links import fix_linked

    ds = ck.load_sample()
    for table in ("defects", "incidents"):
        rows = getattr(ds, table)
        assert rows["pr_id"].drop_nulls().len() > 500
        assert fix_linked(rows, ds.pull_requests).height == 0
    same(ck.build_panel(ds), ck.build_panel(ds, fix_links="keep"))


def test_a_named_engineer_wins_over_the_pr_author_for_defects_as_for_incidents(tmp_path):
    """Trial E (M3): a row naming both a PR and an engineer (a post-incident review) went to
    the PR's author for defects but to the named engineer for incidents."""
    defects = DEFECTS + "D6,2024-02-01,P1,E3,low\n"  # P1 (E1) merged 2024-01-05: caused
    incidents = INCIDENTS + "I4,2024-03-07T01:00:00Z,,SEV2,P3,E3\n"  # P3 (E1) merged before
    ds = load(write_folder(tmp_path / "org", defects=defects, incidents=incidents))
    panel = ck.build_panel(ds)

    def total(who: str, column: str) -> int:
        return int(panel.filter(pl.col("engineer_id") == who)[column].sum())

    assert total("E1", "defects") == 1 and total("E3", "defects") == 2  # D1; D2 and D6
    jan = panel.filter((pl.col("engineer_id") == "E3") & (pl.col("period") == date(2024, 1, 1)))
    assert jan["defects"].item() == 1  # D6 in its PR's merge month (the cause's time)
    assert total("E1", "incidents") == 1 and total("E3", "incidents") == 1  # I1; I4


def test_the_ai_comparison_does_not_call_a_bug_fix_pr_defective(folder):
    """FIXPR left it: ``ai.compare``'s PR-level ``defect`` marked every PR a defect links to,
    fixes included, while the panel charges only causes."""
    from certkit.analytics.ai_prs import pr_table

    prs = pr_table(load(folder)).select("id", "defect", "incident")
    flag = dict(zip(prs["id"], prs["defect"], strict=True))
    assert flag["P1"] == 1.0  # D1, reported after P1 merged: caused
    assert flag["P4"] == 0.0  # D3 and D4 were reported before / as P4 merged: its fixes
    incident = dict(zip(prs["id"], prs["incident"], strict=True))
    assert incident["P3"] == 1.0 and incident["P4"] == 0.0  # I1 caused; I3 started before


def test_certkit_panel_takes_fix_links(folder, tmp_path):
    out_drop, out_keep = tmp_path / "drop.parquet", tmp_path / "keep.parquet"
    assert main(["panel", str(folder), "--out", str(out_drop)]) == 0
    assert main(["panel", str(folder), "--fix-links", "keep", "--out", str(out_keep)]) == 0
    drop, keep = pl.read_parquet(out_drop), pl.read_parquet(out_keep)
    assert int(keep["defects"].sum()) - int(drop["defects"].sum()) == 1  # D3 on P4 (its fix)


def test_validation_names_references_that_match_no_pr(tmp_path):
    """LINKS left it: the import keeps an unresolved reference in ``pr_ref``, but validation
    said only "N row(s) are linked to no PR or engineer"."""
    defects = "id,created_date,pr_id,engineer_id,severity,pr_ref\n"
    defects += "D1,2024-02-01,P1,,high,\nD7,2024-03-10,,,low,org/other#99\nD8,2024-03-11,,,low,\n"
    ds = load(write_folder(tmp_path / "org", defects=defects))
    info = [p.message for p in ds.validation.problems if p.table == "defects"]
    text = next(m for m in info if "linked to no PR or engineer" in m)
    assert text.startswith("2 row(s) are linked to no PR or engineer")
    assert (
        "1 of them name a PR that is not in the data (column pr_ref, e.g. D7 (org/other#99))"
        in text
    )
    assert not [m for m in info if "extra column" in m]  # pr_ref is a known column


def test_reports_take_fix_links_as_a_parameter(folder):
    """FIXPR left it: the report notebooks always used the default."""
    from certkit.errors import CertkitError
    from certkit.report import params, setup
    from certkit.report.runner import list_notebooks

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        drop, keep = setup(str(folder)), setup(str(folder), fix_links="keep")
    assert int(keep.panel["defects"].sum()) - int(drop.panel["defects"].sum()) == 1  # D3
    decl = {n: params.declared(p) for n, p in list_notebooks().items()}
    assert all(d["fix_links"].default == "drop" for d in decl.values())
    assert params.validate({"fix_links": "keep"}, decl)["02_certification_impact"] == {
        "fix_links": "keep"
    }
    with pytest.raises(CertkitError, match="'fix_links'.*not one of 'drop', 'keep'"):
        params.validate({"fix_links": "maybe"}, decl)
