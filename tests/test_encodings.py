"""Real export quirks (issue 10, section 5): every reader decodes files the same way
(UTF-8, UTF-8 BOM, UTF-16 from PowerShell), and duplicated headers, semicolon-delimited
files and Excel serial dates get a message saying what was probably wrong. The fixture files
are in ``tests/fixtures/quirks/`` (see its README)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_folder

import certkit
from certkit.cli import main
from certkit.connectors import read_github, read_pagerduty
from certkit.connectors.identity import read_identities
from certkit.data.textio import decode, read_text
from certkit.errors import CertkitError

Q = Path(__file__).parent / "fixtures" / "quirks"
FIX = Path(__file__).parent / "fixtures" / "connectors"


def cli(*args: str) -> subprocess.CompletedProcess:
    res = subprocess.run(
        [sys.executable, "-m", "certkit.cli", *args], capture_output=True, text=True
    )
    assert "Traceback" not in res.stdout + res.stderr, res.stderr
    return res


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    cap = capsys.readouterr()
    assert "Traceback" not in cap.out + cap.err
    return code, cap.out, cap.err


def test_fixtures_really_are_utf16_from_powershell():
    for name in ("gh_prs_utf16.json", "engineers_utf16.csv", "identities_utf16.csv"):
        raw = (Q / name).read_bytes()
        assert raw.startswith(b"\xff\xfe") and b"\r\x00\n\x00" in raw


def test_import_github_reads_utf16_exports_roster_identities_and_jira(tmp_path):
    out = tmp_path / "o"
    res = cli(
        "import",
        "github",
        str(Q / "gh_prs_utf16.json"),
        "--identities",
        str(Q / "identities_utf16.csv"),
        "--engineers",
        str(Q / "engineers_utf16.csv"),
        "--jira",
        str(Q / "jira_utf16.csv"),
        "--out",
        str(out),
        "--format",
        "csv",
    )
    assert res.returncode == 0, res.stderr
    ds = certkit.load(out, strict=False)
    eng = ds.engineers.sort("engineer_id")
    # The roster was read, not misread: three engineers with their real attributes.
    assert eng["engineer_id"].to_list() == ["ana", "ben", "chen"]
    assert eng["team"].to_list() == ["payments", "search", "search"]
    assert eng["name"].to_list()[2] == "Chén Nguyễn"
    prs = ds.pull_requests.sort("id")
    assert prs["author_id"].to_list() == ["ana", "chen", "ben"]  # identities mapped logins
    assert "Añadir caché (naïve → fast)" in prs["title"].to_list()
    assert ds.defects["id"].to_list() == ["APP-101"]
    assert sorted(ds.incidents["id"].to_list()) == ["APP-102", "APP-104"]


def test_utf16_export_reads_exactly_like_the_utf8_original(tmp_path):
    original = json.loads((FIX / "gh_prs.json").read_text("utf-8"))
    utf8 = tmp_path / "gh_prs_utf16.json"  # same name: same repo fallback and sources
    kept = json.loads(read_text(Q / "gh_prs_utf16.json"))
    assert [p["number"] for p in kept] == [10, 12, 16]
    utf8.write_text(json.dumps(kept), "utf-8")
    a = read_github(Q / "gh_prs_utf16.json").pull_requests
    b = read_github(utf8).pull_requests
    assert a.equals(b)
    assert a.height == 3 and len(original) == 8


def test_utf16_identities_and_pagerduty(tmp_path):
    ids = read_identities(Q / "identities_utf16.csv")
    assert ids.resolve(name="chén nguyễn") == "chen"
    assert ids.resolve(login="ana-gh") == "ana"
    pd = tmp_path / "pd.json"
    pd.write_bytes((FIX / "pagerduty_incidents.json").read_text("utf-8").encode("utf-16"))
    assert read_pagerduty(pd).incidents.equals(
        read_pagerduty(FIX / "pagerduty_incidents.json").incidents
    )


def test_validate_reads_utf16_and_bomless_utf16(tmp_path, capsys):
    roster = read_text(Q / "engineers_utf16.csv").replace("\r\n", "\n")
    roster = roster.replace("ana,", "E1,").replace("ben,", "E2,").replace("chen,", "E3,")
    folder = write_folder(tmp_path / "a", engineers=roster.encode("utf-16"))
    code, out, _ = run(capsys, "validate", str(folder))
    assert code == 0, out
    assert certkit.load(folder).engineers["name"].to_list()[2] == "Chén Nguyễn"
    text, note = decode(roster.encode("utf-16-le"), "x.csv")  # no BOM
    assert text == roster and note is None
    assert decode(roster.encode("utf-16-be"), "x.csv")[0] == roster


def test_duplicated_header_is_an_error_in_validate(tmp_path, capsys):
    dup = (Q / "pull_requests_duplicated_header.csv").read_text()
    folder = write_folder(tmp_path / "d", pull_requests=dup)
    code, out, _ = run(capsys, "validate", str(folder))
    assert code == 1
    assert "pull_requests.csv, line 1: duplicate column name(s): 'repo' (columns 3 and 4)" in out
    with pytest.raises(certkit.DataValidationError, match="duplicate column"):
        certkit.load(folder)


def test_duplicated_header_in_engineers_option(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("engineer_id,team,Team\nana,a,b\n")
    code, _, err = run(
        capsys, "import", "github", str(FIX / "gh_prs.json"), "--engineers", str(roster),
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert code == 2
    assert f"engineers file {roster}, line 1: duplicate column name(s): 'Team'" in err
    assert not (tmp_path / "o").exists()


def test_semicolon_delimited_files(tmp_path, capsys):
    code, _, err = run(
        capsys, "import", "github", str(FIX / "gh_prs.json"), "--engineers",
        str(Q / "engineers_semicolon.csv"), "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert code == 2
    assert "engineers_semicolon.csv, line 1: looks semicolon-delimited (use commas" in err
    folder = tmp_path / "v"
    folder.mkdir()
    shutil.copy(Q / "engineers_semicolon.csv", folder / "engineers.csv")
    write_folder(folder, engineers=None)
    code, out, _ = run(capsys, "validate", str(folder))
    assert code == 1 and "engineers.csv, line 1: looks semicolon-delimited" in out
    ids = tmp_path / "ids.csv"
    ids.write_text("engineer_id;email\nana;ana@corp.example\n")
    with pytest.raises(CertkitError, match="ids.csv, line 1: looks semicolon-delimited"):
        read_identities(ids)
    ids.write_text("engineer_id\temail\nana\tana@corp.example\n")
    with pytest.raises(CertkitError, match="ids.csv, line 1: looks tab-delimited"):
        read_identities(ids)
    ids.rename(ids.with_suffix(".tsv"))
    tsv = certkit.connectors.base._read_table(ids.with_suffix(".tsv"), "engineers")[0]
    assert tsv.columns == ["engineer_id", "email"] and tsv.height == 1


def test_excel_serial_dates(tmp_path, capsys):
    code, out, err = run(
        capsys, "import", "github", str(Q / "gh_prs_utf16.json"), "--identities",
        str(Q / "identities_utf16.csv"), "--engineers", str(Q / "engineers_utf16.csv"),
        "--certifications", str(Q / "certifications_excel_serial.csv"),
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert code == 1
    assert "certifications_excel_serial.csv, column 'earned_date', lines 2, 3" in err
    assert "looks like Excel serial dates" in err and "45352 is 2024-03-01" in err
    assert not (tmp_path / "o").exists()
    certs = (Q / "certifications_excel_serial.csv").read_text().replace("ana", "E1")
    folder = write_folder(tmp_path / "v", certifications=certs.replace("ben", "E2"))
    code, out, _ = run(capsys, "validate", str(folder))
    assert code == 1
    assert "certifications.csv, column 'earned_date', lines 2, 3" in out
    assert "looks like Excel serial dates" in out
    jira = tmp_path / "jira.csv"
    jira.write_text("Issue key,Issue Type,Created\nAPP-1,Bug,45352\nAPP-2,Bug,45353.5\n")
    code, _, err = run(
        capsys, "import", "github", str(FIX / "gh_prs.json"), "--jira", str(jira),
        "--out", str(tmp_path / "j"),
    )  # fmt: skip
    assert code == 2 and "line 2 ('45352')" in err and "looks like Excel serial dates" in err


def test_undecodable_and_binary_files_are_named(tmp_path, capsys):
    gh = tmp_path / "prs.json"
    gh.write_bytes('[{"title": "Café"}]'.encode("cp1252"))
    code, _, err = run(capsys, "import", "github", str(gh), "--out", str(tmp_path / "o"))
    assert (
        code == 2
        and f"GitHub export {gh}: not UTF-8 or UTF-16 (first invalid byte on line 1)" in err
    )
    xlsx = tmp_path / "engineers.csv"
    xlsx.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    code, _, err = run(
        capsys, "import", "github", str(FIX / "gh_prs.json"), "--engineers", str(xlsx),
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert code == 2 and f"engineers file {xlsx}: an Excel workbook, not a text file" in err
    folder = write_folder(tmp_path / "v")
    (folder / "engineers.csv").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    code, out, _ = run(capsys, "validate", str(folder))
    assert code == 1 and "ERROR   engineers.csv: an Excel workbook, not a text file" in out


def test_latin1_roster_is_read_with_a_warning(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_bytes("engineer_id,team,name\nana,a,José Müller\n".encode("cp1252"))
    from certkit.connectors.base import _read_table

    with pytest.warns(certkit.CertkitWarning, match="roster.csv: file is not UTF-8 .* line 2"):
        df, origin = _read_table(roster, "engineers")
    assert df["name"].to_list() == ["José Müller"]
    assert origin == (str(roster), ("line", [2]))


def test_import_errors_name_the_pr_not_an_internal_row(tmp_path, capsys):
    items = json.loads((FIX / "gh_prs.json").read_text())
    for it in items[:3]:  # merged a day before creation: a timezone mix-up, > 5% of PRs
        it["mergedAt"] = "2024-02-01T00:00:00Z"
    gh = tmp_path / "prs.json"
    gh.write_text(json.dumps(items))
    code, _, err = run(capsys, "import", "github", str(gh), "--out", str(tmp_path / "o"))
    assert code == 1
    assert "column 'merged_date', PRs org/app#10, org/app#11, org/app#12:" in err
    assert "row" not in err.split("merged_date")[1].split(":")[0]


def test_parquet_columns_equal_but_for_case_are_a_duplicate_error(tmp_path):
    """Parquet has no header line to check: the names are compared as certkit reads them."""
    ds = certkit.load_sample()
    folder = tmp_path / "p"
    folder.mkdir()
    for name, frame in ds.tables().items():
        if name == "engineers":
            frame = frame.with_columns(frame["team"].alias("TEAM"))
        frame.write_parquet(folder / f"{name}.parquet")
    with pytest.raises(certkit.DataValidationError, match="duplicate column name.*team"):
        certkit.load(folder)


def test_both_unreadable_analyst_files_are_named_before_git_is_read(tmp_path, capsys):
    """fastapi (trial P, P8): a malformed certifications file was reported after 13 s of
    reading git, and with a bad roster too only the roster was named."""
    certs = tmp_path / "certs.csv"
    certs.write_text("engineer_id;certification;earned_date\nana;gcp-pmle;2025-01-01\n")
    not_a_repo = tmp_path / "repo"
    not_a_repo.mkdir()  # reading git would fail: the analyst files are read first
    code, _, err = run(
        capsys, "import", "git", str(not_a_repo), "--engineers",
        str(Q / "engineers_semicolon.csv"), "--certifications", str(certs),
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert code == 2
    assert "neither file can be read" in err
    assert "engineers_semicolon.csv, line 1: looks semicolon-delimited" in err
    assert f"certifications file {certs}, line 1: looks semicolon-delimited" in err
    assert "git" not in err.split("neither")[0]
    assert not (tmp_path / "o").exists()


def test_dates_that_do_not_read_are_named_before_git_is_read(tmp_path, capsys):
    """fastapi (trial Q, Q9): 'June 5, 2025' and '2026-15-01' in a certifications file were
    named only after the whole git history was read (13.6 s)."""
    certs = tmp_path / "certs.csv"
    certs.write_text(
        "engineer_id,certification,earned_date\nana,gcp-pmle,2025-01-01\n"
        'ben,gcp-pmle,"June 5, 2025"\nchen,aws-mla-c01,2026-15-01\n'
    )
    not_a_repo = tmp_path / "repo"
    not_a_repo.mkdir()  # reading git would fail: the dates are read first
    code, _, err = run(
        capsys, "import", "git", str(not_a_repo), "--certifications", str(certs),
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert code == 1  # a validation error, said as validation says it
    assert (
        f"{certs}, column 'earned_date', lines 3, 4: expected a date such as 2025-03-31" in err
    ), err
    assert "'June 5, 2025', '2026-15-01'" in err and str(not_a_repo) not in err


def test_a_repeated_header_row_is_still_left_out_not_refused_before_git(tmp_path, capsys):
    """review D1: the early date check read the raw file, so a roster with its header
    repeated (two exports joined), accepted with a warning before, was refused."""
    from test_connectors_git import ANA, Repo

    repo = Repo(tmp_path / "app", origin="https://github.com/org/app.git")
    repo.commit("Add a (#1)", ANA, "2025-03-01T10:00:00Z")
    roster = tmp_path / "roster.csv"
    header = "engineer_id,team,role,level,hire_date,platform\n"
    roster.write_text(
        header + "ana,core,backend,mid,2023-01-10,aws\n" + header
        + "ben,core,backend,mid,2023-02-10,aws\n"
    )  # fmt: skip
    code, out, err = run(
        capsys, "import", "git", str(repo.path), "--engineers", str(roster),
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert code == 0, err
    assert "repeat the header row" in out + err


def test_a_misspelled_header_is_named_before_git_in_one_style_for_both_files(tmp_path, capsys):
    """gemini-cli (trial T, T10): a misspelled certifications header was a validation ERROR
    (exit 1, no "did you mean") after 18 s of git; the roster's was a usage error with "did
    you mean" (exit 2), also after git."""
    certs = tmp_path / "certs.csv"
    certs.write_text("engineer_id,certification,earned_dte\nana,gcp-pmle,2025-01-01\n")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "engineer_id,team,role,level,hire_dat,platform\nana,core,backend,mid,2023-01-10,aws\n"
    )
    not_a_repo = tmp_path / "repo"
    not_a_repo.mkdir()  # reading git would fail: the headers are read first
    for flag, path, wrong, right in (
        ("--certifications", certs, "earned_dte", "earned_date"),
        ("--engineers", roster, "hire_dat", "hire_date"),
    ):
        code, _, err = run(
            capsys, "import", "git", str(not_a_repo), flag, str(path),
            "--out", str(tmp_path / "o"),
        )  # fmt: skip
        assert code == 2, err
        assert f"missing required column(s) {right}" in err, err
        assert f"did you mean {wrong!r} for {right!r}?" in err and str(not_a_repo) not in err


def test_a_certified_engineer_no_roster_names_is_said_before_git_is_read(tmp_path, capsys):
    """astral-sh/ruff (trial AC, F12): 'chirimarsh' in a certifications file stopped the
    import after 1:44 of reading git, with no hint that 'charliermarsh' was meant. It is said
    before git is read (git may still name that author, so it does not stop there), and the
    error after it suggests the roster id."""
    from test_connectors_git import ANA, Repo

    repo = Repo(tmp_path / "app", origin="https://github.com/org/app.git")
    repo.commit("Add a (#1)", ANA, "2025-03-01T10:00:00Z")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "engineer_id,email,team,role,level,hire_date,platform\n"
        "charliermarsh,charlie@corp.example,core,backend,mid,2023-01-10,aws\n"
        f"ana,{ANA[1]},core,backend,mid,2023-02-10,aws\n"
    )
    ids = tmp_path / "ids.csv"
    ids.write_text("engineer_id,email\nana,ana.personal@example.com\n")
    certs = tmp_path / "certs.csv"
    certs.write_text(
        "engineer_id,certification,earned_date\nana.personal@example.com,gcp-pmle,2024-01-01\n"
        "CHARLIE@corp.example,gcp-pmle,2024-02-01\nchirimarsh,gcp-pmle,2024-03-01\n"
    )
    code, _, err = run(
        capsys, "import", "git", str(repo.path), "--engineers", str(roster),
        "--certifications", str(certs), "--identities", str(ids), "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert code == 1, err
    note = (
        f"note: certifications file {certs}, column 'engineer_id': 1 value(s) name no roster "
        "engineer (by engineer_id, email or name) and no alias of the identity file: "
        "'chirimarsh' (line 4) (did you mean 'charliermarsh' for 'chirimarsh'?)"
    )
    assert note in err, err
    assert "engineer_id not found in engineers: 'chirimarsh'" in err
    assert "did you mean 'charliermarsh' for 'chirimarsh'?" in err.split(note)[1]
