"""Rosters and certification files as HR and learning systems export them.

From a review-only trial (/work/notes/trialC.md) that fed pallets/click's history with
rosters shaped like Workday, BambooHR and HiBob exports and Credly badge files:

- a day-first roster was refused by ``certkit import git --engineers`` ("expected a date such
  as 2025-03-31") because the ISO dates of the authors the import added outvoted it;
- ``01/14/25`` (Credly's short format) was read as the year 25, and every certified engineer
  dropped out of the analysis;
- ``Termination Date`` was an unused extra column: leavers got months of zero outcomes;
- ``Employee ID``/``Hire Date`` were unknown and the refusal named one column at a time;
- a Credly timestamp ``2025-09-22 00:15:00 +0200`` became 21 September;
- a header row repeated inside the file (two exports joined) was read as a person;
- a name without its accents, or in decomposed Unicode, did not match git's name;
- a roster that is not UTF-8 was said by ``certkit validate`` but not by the import.
"""

from __future__ import annotations

import warnings
from datetime import date

import polars as pl
import pytest
from test_connectors_git import ANA, BEN, CHEN, Repo

import certkit as ck
from certkit.connectors import read_git, to_dataset, write_import
from certkit.errors import CertkitError, CertkitWarning

CLEMENT = ("Clément Robert", "clement@home.example")
ELOI = ("Éloi Rivard", "eloi@home.example")


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    r = Repo(tmp_path_factory.mktemp("hr") / "app")
    r.commit("Initial commit", ANA, "2023-01-02T09:00:00Z")
    for i, (who, month) in enumerate([(ANA, 2), (BEN, 3), (CHEN, 4), (CLEMENT, 5), (ELOI, 6)]):
        r.commit(f"Change {i} (#{i + 1})", who, f"2024-{month:02d}-10T10:00:00Z")
    r.commit("Outside help (#9)", ("Dana Out", "dana@else.example"), "2024-07-01T10:00:00Z")
    return r


def _load(repo, tmp_path, roster: str, certs: str | None = None, **kw):
    (tmp_path / "roster.csv").write_bytes(roster.encode(kw.pop("encoding", "utf-8")))
    files = {"engineers": tmp_path / "roster.csv"}
    if certs is not None:
        (tmp_path / "certs.csv").write_text(certs)
        files["certifications"] = tmp_path / "certs.csv"
    imp = read_git(repo.path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CertkitWarning)
        ds = to_dataset(imp, **files, **kw)
    return ds, imp, [str(w.message) for w in caught]


def test_hr_roster_with_day_first_dates_and_a_termination_date(repo, tmp_path):
    roster = (
        "Employee ID,Team,Role,Job Level,Hire Date,Platform,Termination Date,Work Email\n"
        "E1,core,backend,L4,01/11/2016,aws,,ana@corp.example\n"
        "E2,core,backend,L3,31/12/2018,gcp,30/04/2024,ben@corp.example\n"
        "E3,ml,ml_engineer,L5,15/03/2020,gcp,,chen@corp.example\n"
    )
    # Dana is not in the roster: the import adds her with an ISO hire date
    ds, _, _ = _load(repo, tmp_path, roster)
    eng = {r["engineer_id"]: r for r in ds.engineers.to_dicts()}
    assert eng["E1"]["hire_date"] == date(2016, 11, 1)
    assert eng["E2"]["hire_date"] == date(2018, 12, 31)
    assert eng["E2"]["leave_date"] == date(2024, 4, 30)
    assert eng["E2"]["email"] == "ben@corp.example"
    panel = ck.build_panel(ds, "month")
    last = panel.filter(pl.col("engineer_id") == "E2")["period"].max()
    assert last.month == 4 and last.year == 2024  # the panel ends when he left


def test_a_raw_hr_export_is_refused_once_with_every_missing_column(repo, tmp_path):
    roster = (
        "Employee ID,Worker,Work Email,Supervisory Organization,Business Title,"
        "Management Level,Hire Date,Termination Date,Manager\n"
        "E1,Ana Silva,ana@corp.example,Core,Engineer,L4,11/01/2016,,Bo\n"
    )
    with pytest.raises(CertkitError) as err:
        _load(repo, tmp_path, roster)
    msg = str(err.value)
    assert "roster.csv" in msg and "missing required column(s) team, role, level, platform" in msg
    assert "'supervisory_organization' could be team" in msg
    assert "'business_title' could be role" in msg and "'management_level' could be level" in msg


def test_ambiguous_certification_dates_follow_the_roster_s_day_first_order(repo, tmp_path):
    """Trial C: a certifications file whose days were all 12 or less was read month-first
    (with a warning) beside a roster whose dates are unmistakably day-first."""
    roster = (
        "engineer_id,team,role,level,hire_date,platform,email\n"
        "E1,core,backend,L4,31/01/2020,aws,ana@corp.example\n"
        "E2,core,backend,L4,15/06/2019,aws,ben@corp.example\n"
    )
    certs = (
        "engineer_id,certification,earned_date\nE1,gcp-pmle,03/04/2025\nE2,gcp-pmle,11/02/2025\n"
    )
    ds, _, _ = _load(repo, tmp_path, roster, certs)
    got = dict(ds.certifications.select("engineer_id", "earned_date").iter_rows())
    assert got == {"E1": date(2025, 4, 3), "E2": date(2025, 2, 11)}
    said = [p.message for p in ds.validation.warnings if p.column == "earned_date"]
    assert any("read as day-first" in m and "the order of engineers.hire_date" in m for m in said)
    # beside an ISO roster (no order to follow) the same file is read month-first, as before
    from certkit.data.dataset import load_people

    folder = tmp_path / "iso"
    folder.mkdir()
    (folder / "roster.csv").write_text(
        roster.replace("31/01/2020", "2020-01-31").replace("15/06/2019", "2019-06-15")
    )
    (folder / "certs.csv").write_text(certs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        read = load_people(folder, {"engineers": "roster", "certifications": "certs"})
    got = dict(read["certifications"].select("engineer_id", "earned_date").iter_rows())
    assert got["E1"] == date(2025, 3, 4)


def test_certification_dates_as_credly_writes_them(repo, tmp_path):
    roster = "engineer_id,team,role,level,hire_date,platform,email\n" + "".join(
        f"{i},core,backend,L4,2020-01-01,aws,{e}\n"
        for i, e in [("E1", "ana@corp.example"), ("E2", "ben@corp.example")]
    )
    certs = (
        "engineer_id,certification,earned_date\n"
        "E1,gcp-pmle,01/14/25\n"  # Credly's bulk template: mm/dd/yy
        "E2,gcp-pmle,2025-09-22 00:15:00 +0200\n"  # Credly's API, Berlin
    )
    ds, _, said = _load(repo, tmp_path, roster, certs)
    got = dict(ds.certifications.select("engineer_id", "earned_date").iter_rows())
    assert got["E1"] == date(2025, 1, 14)  # not the year 25
    assert got["E2"] == date(2025, 9, 22)  # the local date, not 21 September in UTC
    assert any("two-digit year" in p.message for p in ds.validation.warnings), said


def test_a_repeated_header_row_is_left_out(repo, tmp_path):
    header = "engineer_id,team,role,level,hire_date,platform,email\n"
    roster = (
        header
        + "E1,core,backend,L4,2020-01-01,aws,ana@corp.example\n"
        + header
        + "E2,core,backend,L4,2020-01-01,aws,ben@corp.example\n"
    )
    ds, _, _ = _load(repo, tmp_path, roster)
    assert "engineer_id" not in ds.engineers["engineer_id"].to_list()
    warned = [p for p in ds.validation.warnings if "repeat the header row" in p.message]
    assert warned and warned[0].rows == [3]


def test_names_match_without_accents_and_in_any_unicode_form(repo, tmp_path):
    decomposed = "E\u0301loi Rivard"  # what a Mac may type: E + combining acute accent
    roster = (
        "engineer_id,team,role,level,hire_date,platform,name\n"
        "E4,core,backend,L4,2020-01-01,aws,Clement Robert\n"
        f"E5,core,backend,L4,2020-01-01,aws,{decomposed}\n"
    )
    ds, _, _ = _load(repo, tmp_path, roster)
    authors = set(ds.pull_requests["author_id"].to_list())
    assert {"E4", "E5"} <= authors


def test_the_import_says_a_roster_is_not_utf8(repo, tmp_path):
    roster = (
        "engineer_id,team,role,level,hire_date,platform,name\n"
        "E4,core,backend,L4,2020-01-01,aws,Clément Robert\n"
    )
    (tmp_path / "roster.csv").write_bytes(roster.encode("cp1252"))
    imp = read_git(repo.path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        write_import(imp, tmp_path / "out", engineers=tmp_path / "roster.csv")
    assert any("not UTF-8" in n for n in imp.notes), imp.notes


def test_levels_that_differ_only_in_case_are_one_level(repo, tmp_path):
    """Two HR exports joined: "Senior" and "senior" were two levels, which exact matching on
    level never pairs."""
    roster = (
        "engineer_id,team,role,level,hire_date,platform,email\n"
        "E1,core,backend,Senior,2020-01-01,aws,ana@corp.example\n"
        "E2,core,backend,senior,2020-01-01,aws,ben@corp.example\n"
        "E3,core,backend,Senior,2020-01-01,aws,chen@corp.example\n"
    )
    ds, _, _ = _load(repo, tmp_path, roster)
    levels = ds.engineers.filter(pl.col("engineer_id").str.starts_with("E"))["level"]
    assert levels.unique().to_list() == ["Senior"]
    warned = [p for p in ds.validation.warnings if "differ only in case" in p.message]
    assert warned and warned[0].column == "level" and warned[0].rows == [3]


def test_a_credly_export_needs_only_its_key_column_named(repo, tmp_path):
    """A raw Credly export (badge_name, issue_date, issued_to_email, issuer_earner_id) named
    all three required columns missing; its name and date columns are read now, and the
    message says which columns could be the engineer id."""
    roster = (
        "engineer_id,team,role,level,hire_date,platform,email\n"
        "E1,core,backend,L4,2020-01-01,aws,ana@corp.example\n"
    )
    certs = (
        "Badge Name,Issue Date,Issued to Email,Issuer Earner ID\n"
        "Google Cloud Certified Professional Machine Learning Engineer,2025-01-14,"
        "ana@corp.example,\n"
    )
    with pytest.raises(Exception) as err:
        _load(repo, tmp_path, roster, certs)
    msg = str(err.value)
    assert "missing required column(s) engineer_id (" in msg, msg
    assert "'issuer_earner_id' or 'issued_to_email' could be engineer_id" in msg, msg
    renamed = certs.replace("Issued to Email", "engineer_id")
    ds, _, _ = _load(repo, tmp_path, roster, renamed)
    row = ds.certifications.row(0, named=True)
    assert (row["engineer_id"], row["certification_id"]) == ("E1", "gcp-pmle")


def test_a_rehire_listed_twice_gets_a_hint(repo, tmp_path):
    roster = (
        "engineer_id,team,role,level,hire_date,platform,leave_date\n"
        "E1,core,backend,L4,2018-01-01,aws,2020-06-30\n"
        "E1,core,backend,L5,2022-01-01,aws,\n"
    )
    with pytest.raises(Exception) as err:
        _load(repo, tmp_path, roster)
    assert "ids must be unique; repeated: E1 (a person listed twice" in str(err.value)
