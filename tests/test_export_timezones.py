"""Jira's CSV export writes dates in the exporting user's profile zone, with no offset
(``14/Jul/25 11:30 PM``); certkit read them as UTC, silently, and a few hours can turn the PR
that caused a defect into its fix. ``--timezone`` / ``timezone=`` reads them as local times."""

from __future__ import annotations

import json
import warnings
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

import certkit as ck
from certkit.cli import main
from certkit.connectors import read_jira, read_pagerduty
from certkit.connectors.incidents import read_exports
from certkit.errors import CertkitError, CertkitWarning

FIX = Path(__file__).parent / "fixtures" / "connectors"
HEADER = "Summary,Issue key,Issue Type,Resolution,Created,Resolved,Description\n"
CERTS = "engineer_id,certification,earned_date\nana,AWS Certified Machine Learning,2024-03-20\n"


def _jira(tmp_path: Path, rows: list[str], name: str = "jira.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n", "utf-8")
    return path


def test_local_jira_times_are_read_in_the_zone_and_converted_to_utc(tmp_path):
    path = _jira(
        tmp_path,
        [
            "a,WEB-1,Bug,Fixed,14/Jul/25 11:30 PM,15/Jul/25 9:05 AM,x",
            "b,WEB-2,Bug,Fixed,14/Jan/25 11:30 PM,,x",  # winter: UTC-5
        ],
    )
    imp = read_jira(path, timezone="America/New_York")
    d = imp.defects.sort("id")
    assert d["created_date"].to_list() == [
        datetime(2025, 7, 15, 3, 30),
        datetime(2025, 1, 15, 4, 30),
    ]
    assert d["resolution_date"].to_list() == [datetime(2025, 7, 15, 13, 5), None]
    assert any("3 dates in" in n and "local times in America/New_York" in n for n in imp.notes)
    # without the zone: as before, read as UTC, and the import says it once for the file
    imp = read_jira(path)
    assert imp.defects.sort("id")["created_date"].to_list()[0] == datetime(2025, 7, 14, 23, 30)
    said = [n for n in imp.notes if "have no time zone" in n]
    assert said == [
        f"3 dates in {path} have no time zone; read as UTC (use --timezone ZONE, or timezone= "
        "in Python, if Jira exported them in your profile's zone)"
    ]


def test_values_with_an_offset_keep_it_and_get_no_note(tmp_path):
    path = _jira(
        tmp_path,
        ["a,WEB-1,Bug,Fixed,2025-07-14T23:30:00+02:00,2025-07-15T01:00:00Z,x"],
    )
    for zone in (None, "America/New_York"):
        imp = read_jira(path, timezone=zone)
        assert imp.defects["created_date"].to_list() == [datetime(2025, 7, 14, 21, 30)]
        assert imp.defects["resolution_date"].to_list() == [datetime(2025, 7, 15, 1, 0)]
        assert not [n for n in imp.notes if "time zone" in n]


def test_dst_edges_are_read_by_one_rule_with_notes_naming_the_lines(tmp_path):
    path = _jira(
        tmp_path,
        [
            "a,WEB-1,Bug,Fixed,26/Oct/25 2:30 AM,,x",  # Berlin: 2:30 happens twice
            "b,WEB-2,Bug,Fixed,30/Mar/25 2:30 AM,,x",  # Berlin: 2:30 never happens
            "c,WEB-3,Bug,Fixed,30/Mar/25 3:30 AM,,x",  # just after the change: CEST
        ],
    )
    with pytest.warns(CertkitWarning) as rec:
        imp = read_jira(path, timezone="Europe/Berlin")
    d = imp.defects.sort("id")
    assert d["created_date"].to_list() == [
        datetime(2025, 10, 26, 0, 30),  # the first 2:30, still summer time (UTC+2)
        datetime(2025, 3, 30, 1, 30),  # the offset before the change (UTC+1): 3:30 CEST
        datetime(2025, 3, 30, 1, 30),
    ]
    said = [str(w.message) for w in rec]
    twice = next(n for n in said if "repeated when clocks go back" in n)
    assert "line 2 ('26/Oct/25 2:30 AM')" in twice and "first of the two" in twice
    never = next(n for n in said if "skipped when clocks go forward" in n)
    assert "line 3 ('30/Mar/25 2:30 AM')" in never and "before the change" in never
    assert twice in imp.notes and never in imp.notes


def test_pagerduty_csv_without_offsets(tmp_path):
    path = tmp_path / "pd.csv"
    path.write_text(
        "incident_number,created_on,resolved_on,urgency\n"
        "7,2025-07-16 01:00:00,2025-07-16T02:30:00Z,high\n"
    )
    imp = read_pagerduty(path, timezone="Asia/Kolkata")
    assert imp.incidents["created_date"].to_list() == [datetime(2025, 7, 15, 19, 30)]
    assert imp.incidents["resolution_date"].to_list() == [datetime(2025, 7, 16, 2, 30)]
    said = [n for n in read_pagerduty(path).notes if "have no time zone" in n]
    assert len(said) == 1 and said[0].startswith(f"1 dates in {path}")
    assert "if PagerDuty exported them" in said[0]
    fixture = read_pagerduty(FIX / "pagerduty_incidents.csv")  # offsets given: no note
    assert not [n for n in fixture.notes if "time zone" in n]


def test_unknown_zones_are_clear_errors(tmp_path, capsys):
    path = _jira(tmp_path, ["a,WEB-1,Bug,Fixed,14/Jul/25 11:30 PM,,x"])
    with pytest.raises(CertkitError, match=r"timezone= 'europe/berlin' is not a time zone.*"):
        read_jira(path, timezone="europe/berlin")
    with pytest.raises(CertkitError, match="did you mean 'Europe/Berlin'"):
        read_exports(jira=[path], timezone="Europe/Berln")
    out = tmp_path / "out"
    argv = ["import", "github", str(FIX / "gh_prs.json"), "--jira", str(path), "--out", str(out)]
    assert main([*argv, "--timezone", "Mars/Olympus"]) == 2
    err = capsys.readouterr().err
    assert "--timezone 'Mars/Olympus' is not a time zone" in err and "Europe/Berlin" in err
    assert "Traceback" not in err and not out.exists()
    argv = ["import", "github", str(FIX / "gh_prs.json"), "--out", str(out)]
    assert main([*argv, "--timezone", "Europe/Berlin"]) == 2
    assert "--timezone applies to the dates of --jira" in capsys.readouterr().err


def _import(tmp_path: Path, zone: str | None) -> ck.Dataset:
    """``certkit import github`` of the fixture PRs with a Jira export holding one bug that
    names ben's PR org/app#16, merged 2024-03-11 12:00 UTC. The bug was reported at 9:30 AM
    in Los Angeles (16:30 UTC, after the merge: the PR caused it); read as UTC, 9:30 is
    before the merge and the PR looks like its fix."""
    from test_connectors_cli import run_import

    jira = _jira(tmp_path, ["Crash on save,WEB-9,Bug,Fixed,11/Mar/24 9:30 AM,,org/app#16"])
    certs = tmp_path / "certs.csv"
    certs.write_text(CERTS)
    out = tmp_path / f"out-{(zone or 'utc').replace('/', '-')}"
    argv = ["import", "github", str(FIX / "gh_prs.json"), "--jira", str(jira), "--out", str(out)]
    argv += ["--identities", str(FIX / "gh_identities.csv"), "--certifications", str(certs)]
    argv += ["--timezone", zone] if zone else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        assert run_import(argv) == 0
        return ck.load(out, today=date(2024, 6, 1))


def test_the_zone_decides_whether_the_pr_caused_the_defect_or_fixed_it(tmp_path, capsys):
    def charged(ds: ck.Dataset) -> int:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CertkitWarning)
            panel = ck.build_panel(ds)
        return int(panel.filter(pl.col("engineer_id") == "ben")["defects"].sum())

    as_utc = _import(tmp_path, None)
    said = capsys.readouterr().out
    assert "1 dates in" in said and "have no time zone; read as UTC" in said
    notes = json.loads((tmp_path / "out-utc" / "import.json").read_text())["notes"]
    assert sum("have no time zone" in n for n in notes) == 1
    assert as_utc.defects["created_date"].to_list() == [datetime(2024, 3, 11, 9, 30)]
    assert charged(as_utc) == 0  # "merged after it was reported": read as the fix

    local = _import(tmp_path, "America/Los_Angeles")
    assert local.defects["created_date"].to_list() == [datetime(2024, 3, 11, 16, 30)]
    assert charged(local) == 1  # merged 4.5 hours before the report: the cause
    notes = json.loads((tmp_path / "out-America-Los_Angeles" / "import.json").read_text())
    assert any("read as local times in America/Los_Angeles" in n for n in notes["notes"])
