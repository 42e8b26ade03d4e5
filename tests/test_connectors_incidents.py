"""PagerDuty and Jira exports -> incidents / defects."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

import certkit
from certkit.connectors import read_github, read_jira, read_pagerduty, to_dataset
from certkit.connectors.incidents import pr_refs
from certkit.errors import CertkitError

FIX = Path(__file__).parent / "fixtures" / "connectors"


def _t(s):
    return datetime.fromisoformat(s)


def test_pr_refs():
    text = "see https://github.com/org/app/pull/10 and org/app#12, not #5 or a/b/c#7; org/app#12"
    assert pr_refs(text) == ["org/app#10", "org/app#12"]
    assert pr_refs(None) == []


def test_jira_export():
    imp = read_jira(FIX / "jira_export.csv")
    d = imp.defects.row(0, named=True)
    assert imp.defects.height == 1
    assert d["id"] == "APP-101"
    assert d["created_date"] == _t("2025-07-14T15:42:00")
    assert d["resolution_date"] == _t("2025-07-15T11:05:00")
    assert d["severity"] == "High"
    assert d["pr_id"] == "org/app#10"  # from the multi-line description
    inc = imp.incidents.sort("id")
    assert inc["id"].to_list() == ["APP-102", "APP-104"]  # type Incident, label Incident
    assert inc["pr_id"].to_list() == ["org/app#12", None]  # custom field link
    assert inc["service"].to_list() == ["search", "api"]
    assert inc["resolution_date"].to_list() == [_t("2025-07-16T03:30:00"), None]
    assert imp.notes[0] == "jira_export.csv: 1 issue(s) of other types skipped"
    # Jira's dates carry no offset: read as UTC, and the import says so once for the file
    assert imp.notes[1].startswith(f"5 dates in {FIX / 'jira_export.csv'} have no time zone")
    assert len(imp.notes) == 2


def test_jira_options_and_link_file(tmp_path):
    imp = read_jira(FIX / "jira_export.csv", defect_types=("Bug", "Story"), incident_label=None)
    assert sorted(imp.defects["id"]) == ["APP-101", "APP-103"]
    assert imp.incidents["id"].to_list() == ["APP-102"]
    links = tmp_path / "links.csv"
    links.write_text("id,pr_id,engineer_id\nAPP-102,,ana\n")
    imp = read_jira(FIX / "jira_export.csv", link=links)
    assert imp.incidents.sort("id")["engineer_id"].to_list() == ["ana", None]
    assert imp.incidents["pr_id"].null_count() == 2
    none = read_jira(FIX / "jira_export.csv", link="none")
    assert none.defects["pr_id"].null_count() == 1 and none.incidents["pr_id"].null_count() == 2


def test_jira_bad_date_names_line(tmp_path):
    text = (FIX / "jira_export.csv").read_text().replace("16/Jul/25 1:00 AM", "sometime")
    path = tmp_path / "jira.csv"
    path.write_text(text)
    with pytest.raises(CertkitError, match=r"column 'created'.*line 4 \('sometime'\)"):
        read_jira(path)
    path.write_text("Summary,Status\nx,Done\n")
    with pytest.raises(CertkitError, match="expected columns 'Issue key'"):
        read_jira(path)


@pytest.mark.parametrize("name", ["pagerduty_incidents.json", "pagerduty_incidents.csv"])
def test_pagerduty(name):
    inc = read_pagerduty(FIX / name).incidents.sort("id")
    assert inc["id"].to_list() == ["PD-1042", "PD-1043"]
    assert inc["created_date"].to_list() == [_t("2025-07-16T01:00:00"), _t("2025-07-17T07:15:00")]
    assert inc["resolution_date"].to_list() == [_t("2025-07-16T02:30:00"), None]
    assert inc["service"].to_list() == ["api-gateway", "batch"]
    assert inc["pr_id"].to_list() == ["org/app#11", None]
    sev = inc["severity"].to_list()
    assert sev == (["P1", "low"] if name.endswith("json") else ["high", "low"])


def test_pagerduty_link_file_and_errors(tmp_path):
    links = tmp_path / "links.csv"
    links.write_text("id,engineer_id\n1043,ben\n")
    inc = read_pagerduty(FIX / "pagerduty_incidents.json", link=links).incidents.sort("id")
    assert inc["engineer_id"].to_list() == [None, "ben"]
    bad = tmp_path / "pd.csv"
    bad.write_text("incident_number,created_on\n1,2025-01-01\n2,\n")
    with pytest.raises(CertkitError, match="line 3: created_at is missing"):
        read_pagerduty(bad)
    bad_links = tmp_path / "l.csv"
    bad_links.write_text("incident,who\n1,x\n")
    with pytest.raises(CertkitError, match="expected columns id and pr_id"):
        read_pagerduty(FIX / "pagerduty_incidents.json", link=bad_links)


def test_incidents_join_pull_requests():
    ids = FIX / "gh_identities.csv"
    imp = (
        read_github(FIX / "gh_prs.json", identities=ids)
        + read_pagerduty(FIX / "pagerduty_incidents.json")
        + read_jira(FIX / "jira_export.csv")
    )
    with pytest.warns(certkit.CertkitWarning):
        ds = to_dataset(imp)
    assert ds.incidents.height == 4
    assert ds.defects["pr_id"].to_list() == ["org/app#10"]
    linked = ds.incidents.filter(pl.col("pr_id").is_not_null()).sort("id")
    assert linked["pr_id"].to_list() == ["org/app#12", "org/app#11"]
