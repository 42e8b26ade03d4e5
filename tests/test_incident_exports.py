"""Jira and PagerDuty exports as analysts really have them (trial E on encode/httpx and
pallets/flask): ambiguous dates, paginated pages, fix-worded links, link files that name a
few rows, references to no PR, not-a-defect resolutions and overlapping exports."""

from __future__ import annotations

import json
import warnings
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from certkit.connectors import read_github, read_jira, read_pagerduty, write_import
from certkit.connectors.incident_links import pick_ref, pr_refs
from certkit.connectors.incidents import read_exports
from certkit.errors import CertkitError, CertkitWarning

FIX = Path(__file__).parent / "fixtures" / "connectors"
HEADER = "Summary,Issue key,Issue Type,Resolution,Created,Description\n"
CERTS = "engineer_id,certification,earned_date\nana,AWS Certified Machine Learning,2024-03-20\n"


def _jira(tmp_path: Path, rows: list[str], name: str = "jira.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + "\n".join(rows) + "\n", "utf-8")
    return path


def _prs():
    return read_github(FIX / "gh_prs.json", identities=FIX / "gh_identities.csv")


def _notes(imp, out: Path) -> list[str]:
    """Write ``imp`` with the fixture PRs; the notes of import.json."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_import(_prs() + imp, out, certifications=_certs(out.parent))
    return json.loads((out / "import.json").read_text())["notes"]


def _certs(folder: Path) -> Path:
    path = folder / "certs.csv"
    path.write_text(CERTS)
    return path


# --- H1: the loader's date warnings reach the import ------------------------------------------


def test_ambiguous_day_month_dates_are_warned_and_kept_in_import_json(tmp_path):
    path = _jira(
        tmp_path,
        [
            "a,WEB-1,Bug,Fixed,09/08/2024 14:41,org/app#10",  # 9 August, read as 8 September
            "b,WEB-2,Bug,Fixed,11/10/2024 12:05,",
        ],
    )
    with pytest.warns(CertkitWarning, match=r"jira\.csv, column 'created'.*month-first"):
        imp = read_jira(path)
    assert any("jira.csv, column 'created'" in n and "day-first" in n for n in imp.notes)
    notes = _notes(read_jira(path), tmp_path / "out")
    assert any("column 'created'" in n and "day-first" in n for n in notes)


def test_two_digit_years_are_warned(tmp_path):
    path = _jira(tmp_path, ["a,WEB-1,Bug,Fixed,8/13/24 2:41 PM,"])
    with pytest.warns(CertkitWarning, match=r"column 'created'.*two-digit year"):
        imp = read_jira(path)
    assert imp.defects["created_date"].to_list() == [datetime(2024, 8, 13, 14, 41)]


def test_pagerduty_json_dates_name_items_and_pagerduty_format(tmp_path):
    path = tmp_path / "pd.json"
    items = [{"incident_number": 1, "created_at": "2024-01-01T00:00:00Z"}] * 2
    items = [*items, {"incident_number": 3, "created_at": "2024-13-45T99:00:00Z"}]
    path.write_text(
        json.dumps({"incidents": [dict(x, incident_number=i) for i, x in enumerate(items, 1)]})
    )
    with pytest.raises(CertkitError, match=r"item 3 \('2024-13-45.*PagerDuty") as err:
        read_pagerduty(path)
    assert "line 3" not in str(err.value) and "Jira" not in str(err.value)


# --- H3: one page of a paginated answer -------------------------------------------------------


def test_a_pagerduty_page_with_more_is_warned(tmp_path):
    page = {
        "incidents": [
            {"incident_number": i, "created_at": "2024-05-01T10:00:00Z"} for i in range(1, 6)
        ],
        "limit": 5,
        "offset": 0,
        "total": 12,
        "more": True,
    }
    path = tmp_path / "pd_page1.json"
    path.write_text(json.dumps(page))
    with pytest.warns(CertkitWarning, match=r"pd_page1\.json is one page of several") as rec:
        imp = read_pagerduty(path)
    msg = str(rec[0].message)
    assert "offset 0, limit 5, total 12" in msg and "offset=5" in msg
    assert imp.incidents.height == 5 and msg in imp.notes
    cursor = {"data": page["incidents"], "more": True, "next_cursor": "abc123"}
    path.write_text(json.dumps(cursor))
    with pytest.warns(CertkitWarning, match="cursor=abc123"):
        read_pagerduty(path)
    page["more"] = False
    path.write_text(json.dumps(page))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not read_pagerduty(path).notes


# --- H2 and L1: which reference the text names ------------------------------------------------


def test_references_are_taken_in_text_order_and_causes_beat_fixes():
    url_last = "Caused by pallets/flask#5615. Fixed by https://github.com/encode/httpx/pull/3106."
    assert pr_refs(url_last) == ["pallets/flask#5615", "encode/httpx#3106"]
    assert pick_ref(url_last) == "pallets/flask#5615"
    assert pick_ref("Fixed by o/r#2; regression from o/r#1") == "o/r#1"
    assert pick_ref("Fix: https://github.com/o/r/pull/9 (introduced in o/r#4)") == "o/r#4"
    assert pick_ref("see o/r#3, fixed in o/r#5") == "o/r#3"  # first, as documented
    assert pick_ref("Resolved by o/r#7") == "o/r#7"  # only a fix: the link is kept
    assert pick_ref("Closed by o/r#7 and o/r#8") == "o/r#7"
    assert pick_ref(None) is None


def test_mixed_case_urls_match_the_pr(tmp_path):
    path = _jira(
        tmp_path,
        [
            "a,WEB-1,Bug,Fixed,2024-03-04,https://github.com/ORG/App/pull/12",
            "b,WEB-2,Bug,Fixed,2024-03-04,Org/app#10",
        ],
    )
    imp = _prs() + read_jira(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = write_import(imp, tmp_path / "out", certifications=_certs(tmp_path))[0]
    assert ds.defects.sort("id")["pr_id"].to_list() == ["org/app#12", "org/app#10"]


# --- M4: references to no PR stay in the written tables, and in import.json -----------------


def test_unresolved_references_are_kept_and_noted(tmp_path):
    path = _jira(
        tmp_path,
        [
            "a,WEB-1,Bug,Fixed,2024-03-04,https://github.com/org/app/pull/99999",
            "b,WEB-2,Bug,Fixed,2024-03-04,org/app#10",
        ],
    )
    notes = _notes(read_jira(path), tmp_path / "out")
    assert any("WEB-1 (org/app#99999)" in n and "not in the import" in n for n in notes)
    written = pl.read_parquet(tmp_path / "out" / "defects.parquet").sort("id")
    assert written["pr_ref"].to_list() == ["org/app#99999", "org/app#10"]
    assert written["pr_id"].to_list() == [None, "org/app#10"]


# --- M2 and M3: a link file names a few rows ---------------------------------------------------


def test_link_file_overrides_only_the_rows_it_names(tmp_path):
    jira = _jira(
        tmp_path,
        [
            "a,WEB-1,Bug,Fixed,2024-03-04,org/app#10",
            "b,WEB-2,Bug,Fixed,2024-03-04,org/app#12",
            "c,WEB-3,Bug,Fixed,2024-03-04,no link",
        ],
    )
    links = tmp_path / "links.csv"
    links.write_text(
        "id,pr_id,engineer_id\nWEB-2,org/app#16,\nPD-9999,org/app#10,\n"
        "WEB-3,,chen\nWEB-3,org/app#12,ben\n"
    )
    with pytest.warns(CertkitWarning) as rec:
        imp = read_exports(jira=[jira], link=links)
    said = [str(w.message) for w in rec]
    d = imp.defects.sort("id")
    assert d["pr_id"].to_list() == ["org/app#10", "org/app#16", "org/app#12"]
    assert d["engineer_id"].to_list() == [None, None, "ben"]  # the last WEB-3 row
    assert any("1 row(s) linked by the link file" not in n for n in imp.notes)
    assert any(
        "2 row(s) linked by the link file links.csv, 1 by a PR reference" in n for n in imp.notes
    )
    assert any("'PD-9999' (line 3)" in n and "match no incident" in n for n in said)
    assert any("'WEB-3' on lines 4, 5" in n for n in said)
    assert all(n in imp.notes for n in said)
    notes = _notes(imp, tmp_path / "out")
    # WEB-3 names ben and PR 12 (chen's): the named engineer counts, and the import says so
    assert any(
        "name both a PR and an engineer" in n and "WEB-3: ben, PR org/app#12 by chen" in n
        for n in notes
    )


# --- M6: not-a-defect resolutions --------------------------------------------------------------


def test_duplicate_and_wont_fix_bugs_are_left_out(tmp_path):
    path = _jira(
        tmp_path,
        [
            "a,WEB-1,Bug,Fixed,2024-03-04,org/app#10",
            "b,WEB-2,Bug,Duplicate,2024-03-05,org/app#10",
            "c,WEB-3,Bug,Won’t Fix,2024-03-05,",
            "d,WEB-4,Bug,Cannot Reproduce,2024-03-05,",
            "e,WEB-5,Bug,,2024-03-05,",
        ],
    )
    imp = read_jira(path)
    assert imp.defects["id"].to_list() == ["WEB-1", "WEB-5"]
    note = next(n for n in imp.notes if "not a defect" in n)
    assert "3 defect(s)" in note and "1 'Duplicate'" in note
    assert read_jira(path, not_defect=()).defects.height == 5


# --- M7: repeated ids name files and lines ----------------------------------------------------


def test_repeated_ids_name_lines_and_overlapping_files(tmp_path):
    csv_ = tmp_path / "pd.csv"
    csv_.write_text(
        "incident_number,created_at\n4113,2024-05-01T10:00:00Z\n4114,2024-05-02T10:00:00Z\n"
        "4113,2024-05-01T10:00:00Z\n"
    )
    with pytest.raises(CertkitError, match=r"pd\.csv: 1 id\(s\).*PD-4113 \(line 2, line 4\)"):
        read_pagerduty(csv_)
    csv_.write_text("incident_number,created_at\n4101,2024-05-01T10:00:00Z\n")
    js = tmp_path / "pd.json"
    js.write_text(json.dumps([{"incident_number": 4101, "created_at": "2024-05-01T10:00:00Z"}]))
    with pytest.raises(CertkitError) as err:
        read_exports(pagerduty=[js, csv_])
    msg = str(err.value)
    assert "pd.json and " in msg and "pd.csv" in msg and "PD-4101 (item 1; line 2)" in msg
    assert "overlap" in msg and "Nothing was written" in msg


# --- L2: no description column ----------------------------------------------------------------


def test_no_description_column_is_noted(tmp_path):
    header = "Summary,Issue key,Issue Type,Created,Issue description\n"
    path = _jira(tmp_path, ["a,WEB-1,Bug,2024-03-04,org/app#10"], header=header)
    imp = read_jira(path)
    assert imp.defects["pr_id"].to_list() == [None]
    assert any("no 'Description' column" in n for n in imp.notes)
    assert not any(
        "Description" in n
        for n in read_jira(_jira(tmp_path, ["a,WEB-1,Bug,,2024-03-04,x"], "j2.csv")).notes
    )


# --- the command line: one read of all exports, warnings once, --keep-resolutions -------------


def test_cli_reads_exports_once_with_notes_in_import_json(tmp_path, capsys):
    from test_connectors_cli import run_import

    jira = _jira(
        tmp_path,
        [
            "a,WEB-1,Bug,Fixed,09/03/2024 14:41,org/app#10",
            "b,WEB-2,Bug,Duplicate,11/03/2024 12:05,org/app#10",
        ],
    )
    out = tmp_path / "out"
    argv = ["import", "github", str(FIX / "gh_prs.json"), "--jira", str(jira), "--out", str(out)]
    argv += ["--identities", str(FIX / "gh_identities.csv"), "--keep-resolutions"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        assert run_import(argv) == 0
    said = capsys.readouterr()
    assert (said.out + said.err).count("dates fit both") == 1  # as a note, not also a warning
    notes = json.loads((out / "import.json").read_text())["notes"]
    assert any("column 'created'" in n and "dates fit both" in n for n in notes)
    assert pl.read_parquet(out / "defects.parquet").height == 2  # the Duplicate is kept


def test_engineers_named_by_link_rows_resolve_through_aliases_and_case():
    """Trial E: a link file naming ``florimond.manca@protonmail.com`` (an identity-file alias)
    or ``TomChristie`` (the engineer ``tomchristie``) got "not found; link ignored"."""
    from types import SimpleNamespace

    from certkit.connectors.identity import Identities
    from certkit.connectors.incident_links import named_engineers

    imp = SimpleNamespace(
        defects=pl.DataFrame(
            {"id": ["W1", "W2", "W3"], "engineer_id": ["f@alias.example", "TomChristie", "nobody"]}
        ),
        incidents=pl.DataFrame({"id": ["P1"], "engineer_id": ["TOMCHRISTIE"]}),
    )
    ids = Identities(by_email={"f@alias.example": "florimond"})
    notes = named_engineers(imp, {"florimond", "tomchristie", "kludex"}, ids)
    assert imp.defects["engineer_id"].to_list() == ["florimond", "tomchristie", "nobody"]
    assert imp.incidents["engineer_id"].to_list() == ["tomchristie"]
    assert len(notes) == 1 and "f@alias.example -> florimond" in notes[0]
    # two ids equal but for case: no guess
    imp = SimpleNamespace(
        defects=pl.DataFrame({"id": ["W1"], "engineer_id": ["ANA"]}), incidents=pl.DataFrame()
    )
    assert named_engineers(imp, {"ana", "Ana"}, Identities()) == []
    assert imp.defects["engineer_id"].to_list() == ["ANA"]
