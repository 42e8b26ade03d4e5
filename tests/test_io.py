"""Loader and validation: each rule, broken files, encodings, formats, clear messages."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from conftest import CERTIFICATIONS, ENGINEERS, PULL_REQUESTS, write_folder

import certkit as ck
from certkit.errors import CertkitError, DataValidationError

TODAY = date(2026, 11, 24)


def load(folder: Path, **kw):
    return ck.load(folder, today=TODAY, **kw)


def errors_of(folder: Path) -> list[str]:
    with pytest.raises(DataValidationError) as info:
        load(folder)
    return [p.format() for p in info.value.report.errors]


def test_valid_folder_loads_with_types(small_folder):
    ds = load(small_folder)
    assert ds.engineers.height == 3
    assert ds.pull_requests.schema["created_date"] == pl.Datetime("us")
    assert ds.engineers.schema["hire_date"] == pl.Date
    assert ds.pull_requests.schema["additions"] == pl.Int64
    assert ds.pull_requests["ai_assisted"].to_list() == [0.0, 1.0, 1.0, 0.0, 0.0, 0.5]
    assert ds.certifications["certification_id"].to_list() == ["aws-mls-c01"]
    assert ds.validation.ok
    # optional columns absent from the file still exist, as nulls
    assert ds.pull_requests["closed_date"].null_count() == 6


def test_timezones_are_converted_to_utc(tmp_path):
    prs = PULL_REQUESTS.replace("2024-01-03T10:00:00Z", "2024-01-03T12:00:00+02:00")
    ds = load(write_folder(tmp_path, pull_requests=prs))
    assert ds.pull_requests["created_date"][0] == datetime(2024, 1, 3, 10, 0)


def test_common_export_date_formats(tmp_path):
    engineers = ENGINEERS.replace("2023-01-15", "01/15/2023").replace("2024-02-10", "02/10/2024")
    engineers = engineers.replace("2023-06-01", "06/01/2023")
    ds = load(write_folder(tmp_path / "us", engineers=engineers))
    assert ds.engineers["hire_date"].to_list()[0] == date(2023, 1, 15)
    jira = (
        "id,created_date,pr_id,engineer_id,severity\nD1,14/Jul/24 3:42 PM,P1,,high\n"
        "D2,02/Feb/24 9:05 AM,,E3,low\n"
    )
    ds = load(write_folder(tmp_path / "jira", defects=jira))
    assert ds.defects["created_date"][0] == datetime(2024, 7, 14, 15, 42)


def test_ambiguous_day_month_order_warns(tmp_path):
    engineers = ENGINEERS.replace("2023-01-15", "01/02/2023").replace("2024-02-10", "03/04/2024")
    engineers = engineers.replace("2023-06-01", "05/06/2023")
    with pytest.warns(ck.CertkitWarning, match="month-first"):
        ds = load(write_folder(tmp_path, engineers=engineers))
    assert ds.engineers["hire_date"][0] == date(2023, 1, 2)


def test_missing_required_column_names_file_and_columns(tmp_path):
    prs = "\n".join(",".join(line.split(",")[:-3]) for line in PULL_REQUESTS.splitlines())
    prs = prs.replace(",additions", ",adds")
    (msg,) = errors_of(write_folder(tmp_path, pull_requests=prs + "\n"))
    assert "pull_requests.csv" in msg and "missing required column(s) additions" in msg


def test_all_problems_reported_together_with_line_numbers(tmp_path):
    prs = PULL_REQUESTS.replace("2024-01-10T10:00:00Z,2024-01-11", "not-a-date,2024-01-11")
    prs = prs.replace(",100,0,", ",-100,0,").replace(",7,1,", ",seven,1,")
    engineers = ENGINEERS + "E3,beta,backend,mid,2023-01-01,aws,Dup\n"
    errors = errors_of(write_folder(tmp_path, pull_requests=prs, engineers=engineers))
    text = "\n".join(errors)
    assert "pull_requests.csv, column 'created_date', line 3: expected a date" in text
    assert "'not-a-date'" in text
    assert "column 'additions', line 3: line counts must not be negative" in text
    assert "column 'additions', line 6: expected a whole number; got 'seven'" in text
    assert "engineers.csv, column 'engineer_id', lines 4, 5: ids must be unique" in text
    assert len(errors) == 4


def test_certification_rules(tmp_path):
    certs = CERTIFICATIONS + (
        "E9,DP-100,2024-05-01,,\n"  # unknown engineer -> error
        "E2,DP-100,2027-01-01,,\n"  # future -> error
        "E3,Google Cloud Professional Machine Learning Engineer,2023-01-01,,\n"  # before hire
        "E2,Some Vendor Cert,2024-06-01,,\n"  # not in catalog -> warning
    )
    folder = write_folder(tmp_path, certifications=certs)
    report = ck.validate(folder, today=TODAY)
    text = report.format()
    assert (
        "certifications.csv, column 'engineer_id', line 3: engineer_id not found in engineers: 'E9'"
        in text
    )
    assert "column 'earned_date', line 4: earned_date is in the future" in text
    assert "line 5: earned before hire_date" in text
    assert "not in the certification catalog: Some Vendor Cert" in text
    # E2, hired 2024-02-10, certified on 2024-06-01: the before-period is their ramp-up
    assert "line 6: earned within 6 months of the engineer's hire_date (1 engineer(s))" in text
    assert len(report.errors) == 2 and len(report.warnings) == 3


def test_certification_earned_before_the_first_pr_warns_with_its_lines(tmp_path):
    """trial N: 6 of 11 certified engineers certified before the imported history started
    were left out of every comparison; neither the import nor validate said so. trial O: the
    panel also leaves out those certified in their first month (the data's, or the hire
    month when later), which a rule on the first PR's day missed."""
    certs = (
        "engineer_id,certification,earned_date,cost_usd,study_hours\n"
        "E2,AWS Certified Machine Learning - Specialty,2024-03-20,300,80\n"  # 2 months in
        "E1,DP-100,2023-09-01,,\n"  # hired 2023-01-15, data from 2024-01-05: before the data
        "E3,DP-100,2023-01-01,,\n"  # before hire_date: that rule's warning only
        "E1,AWS Certified Machine Learning - Specialty,2024-01-31,300,80\n"  # the first month
    )
    hired = ENGINEERS.replace("E2,alpha,backend,mid,2024-02-10", "E2,alpha,backend,mid,2024-03-02")
    report = ck.validate(write_folder(tmp_path, certifications=certs, engineers=hired), today=TODAY)
    text = report.format()
    assert (
        "certifications.csv, column 'earned_date', lines 2, 3, 5: earned before or in the "
        "engineer's first month in the data (the data start 2024-01-05; the hire month when "
        "later, or the month after it when the hire date falls more than 3 days into it): 2 "
        "engineer(s) with no month before certifying in the data"
    ) in text  # E2: certified in the month of a later hire date
    assert "line 4: earned before hire_date" in text
    assert len(report.warnings) == 2 and report.ok


def test_negative_durations_dropped_with_count_warning(tmp_path):
    prs = PULL_REQUESTS.replace("2024-03-02T09:00:00Z", "2024-02-28T09:00:00Z")
    big = PULL_REQUESTS + "".join(
        f"X{i},E1,org/app,2024-01-0{1 + i % 9}T10:00:00Z,2024-01-10T10:00:00Z,,1,1,0,false\n"
        for i in range(30)
    )
    big = big.replace("2024-03-02T09:00:00Z", "2024-02-28T09:00:00Z")
    with pytest.warns(ck.CertkitWarning, match=r"1 PR\(s\) dropped"):
        ds = load(write_folder(tmp_path / "big", pull_requests=big))
    assert "P3" not in ds.pull_requests["id"].to_list()
    # one bad PR out of six is not noise any more: an error (a timezone or column mix-up)
    errors = errors_of(write_folder(tmp_path / "small", pull_requests=prs))
    assert "probably a timezone or column mix-up" in errors[0]


def test_unknown_authors_warn_and_bots_are_not_reported(tmp_path):
    prs = PULL_REQUESTS + (
        "P7,E99,org/app,2024-01-03T10:00:00Z,2024-01-04T10:00:00Z,,1,1,0,false\n"
        "P8,dependabot[bot],org/app,2024-01-03T10:00:00Z,2024-01-04T10:00:00Z,,1,1,0,false\n"
    )
    report = ck.validate(write_folder(tmp_path, pull_requests=prs), today=TODAY)
    (warning,) = report.warnings
    assert "author_id not found in engineers (1 author(s), e.g. E99)" in warning.format()
    assert warning.rows == [8]


def test_ai_share_out_of_range_and_bad_boolean(tmp_path):
    prs = PULL_REQUESTS.replace(",0.5,false", ",1.5,maybe")
    text = "\n".join(errors_of(write_folder(tmp_path, pull_requests=prs)))
    assert "column 'ai_assisted', line 7: ai_assisted must be true/false or a share" in text
    assert "column 'reverted', line 7: expected true/false (or yes/no, 1/0); got 'maybe'" in text


def test_missing_values_in_required_columns(tmp_path):
    engineers = ENGINEERS.replace("E2,alpha,backend", "E2,,backend")
    (msg,) = errors_of(write_folder(tmp_path, engineers=engineers))
    assert msg.endswith("engineers.csv, column 'team', line 3: value is missing (required)")


def test_empty_file_and_header_only(tmp_path):
    text = "\n".join(errors_of(write_folder(tmp_path / "a", pull_requests="")))
    assert "pull_requests.csv: file is empty" in text
    header_only = ENGINEERS.splitlines()[0] + "\n"
    text = "\n".join(errors_of(write_folder(tmp_path / "b", engineers=header_only)))
    assert "engineers.csv: table has a header but no rows" in text


def test_missing_required_table_and_absent_optional_tables(tmp_path):
    text = "\n".join(errors_of(write_folder(tmp_path / "a", engineers=None)))
    assert "no engineers.csv / .parquet / .ndjson file" in text
    ds = load(write_folder(tmp_path / "b", defects=None, incidents=None))
    assert ds.defects.height == 0 and "pr_id" in ds.defects.columns


def test_wrong_encodings(tmp_path):
    latin1 = ENGINEERS.replace("Ana Silva", "José Müller").encode("latin-1")
    with pytest.warns(ck.CertkitWarning, match="not UTF-8 .* line 2"):
        ds = load(write_folder(tmp_path / "latin1", engineers=latin1))
    assert ds.engineers["name"][0] == "José Müller"
    utf16 = ENGINEERS.replace("Ana Silva", "José").encode("utf-16")
    ds = load(write_folder(tmp_path / "utf16", engineers=utf16))
    assert ds.engineers["name"][0] == "José"
    bom = b"\xef\xbb\xbf" + ENGINEERS.encode("utf-8")
    assert load(write_folder(tmp_path / "bom", engineers=bom)).engineers.height == 3


def test_extra_columns_kept_and_devlake_aliases(tmp_path):
    prs = PULL_REQUESTS.replace("id,author_id,repo,", "id,author_id,base_repo_id,")
    prs = prs.replace("reverted\n", "reverted,labels\n", 1)
    prs = "\n".join(line + ",x" if i and line else line for i, line in enumerate(prs.split("\n")))
    ds = load(write_folder(tmp_path, pull_requests=prs))
    assert ds.pull_requests["repo"][0] == "org/app"
    assert "labels" in ds.pull_requests.columns
    assert any("extra column(s)" in p.message for p in ds.validation.problems)
    # the git import's documented surviving_lines column is known, read as an integer
    prs = PULL_REQUESTS.replace("reverted\n", "reverted,surviving_lines\n", 1)
    prs = "\n".join(line + ",7" if i and line else line for i, line in enumerate(prs.split("\n")))
    ds = load(write_folder(tmp_path / "ledger", pull_requests=prs))
    assert ds.pull_requests["surviving_lines"].dtype.is_integer()
    assert not any("surviving_lines" in p.message for p in ds.validation.problems)


def test_parquet_and_ndjson_inputs(small_folder, tmp_path):
    ds = load(small_folder)
    for fmt in ("parquet", "ndjson"):
        out = ds.write(tmp_path / fmt, format=fmt)
        again = load(out)
        assert again.pull_requests.equals(ds.pull_requests)
        assert again.engineers.equals(ds.engineers)


def test_two_files_for_one_table_is_an_error(small_folder):
    (small_folder / "engineers.parquet").write_bytes(b"x")
    assert "several files for one table" in "\n".join(errors_of(small_folder))


def test_input_files_are_never_modified(tmp_path):
    folder = write_folder(tmp_path, pull_requests=PULL_REQUESTS.replace(",7,1,", ",-7,1,"))
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    with pytest.raises(DataValidationError):
        load(folder)
    ck.validate(folder)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    assert before == after


def test_not_a_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CertkitError, match="does not exist"):
        ck.load(tmp_path / "nope")


def test_from_frames_uses_the_same_rules(small_folder):
    ds = load(small_folder)
    bad = ds.pull_requests.with_columns(pl.lit(-1).alias("deletions"))
    with pytest.raises(DataValidationError, match="rows 1, 2, 3, 4, 5, 6: line counts"):
        ck.from_frames(engineers=ds.engineers, pull_requests=bad, today=TODAY)


def test_parquet_rows_are_named_by_their_id(small_folder, tmp_path):
    """A Parquet file has no line numbers; the git import's notes name PRs by id, and
    validation said "rows 9, 11, 18" for the same PRs (trial H). Parquet rows are named by
    the table's key; CSV keeps its editor line numbers."""
    ds = load(small_folder)
    folder = tmp_path / "parquet"
    folder.mkdir()
    ds.engineers.write_parquet(folder / "engineers.parquet")
    prs = ds.pull_requests.with_columns(
        pl.when(pl.col("id").is_in(["P2", "P5"])).then(-1).otherwise("deletions").alias("deletions")
    )
    prs.write_parquet(folder / "pull_requests.parquet")
    text = "\n".join(p.format() for p in ck.validate(folder, today=TODAY).problems)
    assert "pull_requests.parquet, column 'deletions', ids P2, P5: line counts" in text
    csv = tmp_path / "csv"
    shutil.copytree(small_folder, csv)
    prs.write_csv(csv / "pull_requests.csv")
    text = "\n".join(p.format() for p in ck.validate(csv, today=TODAY).problems)
    assert "pull_requests.csv, column 'deletions', lines 3, 6: line counts" in text


def test_bots_flagged_and_excluded_from_humans(tmp_path):
    engineers = ENGINEERS + "renovate[bot],automation,bot,n/a,2020-01-01,other,Renovate\n"
    ds = load(write_folder(tmp_path, engineers=engineers))
    assert ds.engineers.filter(pl.col("is_bot"))["engineer_id"].to_list() == ["renovate[bot]"]
    assert "renovate[bot]" not in ds.human_engineers()["engineer_id"].to_list()


def test_cli_validate_exit_codes_without_traceback(tmp_path, small_folder):
    bad = write_folder(tmp_path / "bad", pull_requests=PULL_REQUESTS.replace(",7,1,", ",-7,1,"))
    cmd = [sys.executable, "-m", "certkit.cli", "validate"]
    ok = subprocess.run([*cmd, str(small_folder)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    res = subprocess.run([*cmd, str(bad)], capture_output=True, text=True)
    assert res.returncode == 1
    assert "Traceback" not in res.stdout + res.stderr
    assert "pull_requests.csv, column 'additions', line 6" in res.stdout
    missing = subprocess.run([*cmd, str(tmp_path / "none")], capture_output=True, text=True)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_git_import_columns_are_read_from_text(tmp_path):
    """``created_source`` and the line ledger's ``churned_lines_21d`` (git imports) are read
    and typed from a CSV file as from Parquet, so rework and cycle time do not depend on the
    file format; a value that is not a whole number is reported by line."""
    extra = ["github", "squash_commit", "github", "commit", "github", "github"]
    churned = ["3", "", "40", "1", "0", "1"]
    lines = PULL_REQUESTS.strip().split("\n")
    rows = [lines[0] + ",created_source,churned_lines_21d"]
    rows += [f"{row},{s},{c}" for row, s, c in zip(lines[1:], extra, churned, strict=True)]
    ds = load(write_folder(tmp_path / "csv", pull_requests="\n".join(rows) + "\n"))
    assert ds.pull_requests.schema["churned_lines_21d"] == pl.Int64
    assert ds.pull_requests["churned_lines_21d"].to_list() == [3, None, 40, 1, 0, 1]
    assert not any("churned" in p.message for p in ds.validation.problems)
    again = load(ds.write(tmp_path / "parquet", format="parquet"))
    panel_csv, panel_parquet = ck.build_panel(ds), ck.build_panel(again)
    assert panel_csv["rework_rate"].drop_nulls().len() > 0
    assert panel_csv.equals(panel_parquet)
    rows[2] = rows[2].rsplit(",", 1)[0] + ",many"
    with pytest.raises(DataValidationError, match=r"churned_lines_21d.*whole number"):
        load(write_folder(tmp_path / "bad", pull_requests="\n".join(rows) + "\n"))


def test_typed_parquet_columns_read_as_their_text_would_be(small_folder, tmp_path):
    """Typed columns (Parquet, frames) are converted without a round trip through text, to
    the same values; numbers that cannot be what the column holds are errors by row, never a
    traceback (an infinite size and a UInt64 beyond Int64 were polars exceptions)."""
    ds = load(small_folder)
    prs = ds.pull_requests.drop("_row", strict=False)
    typed = prs.with_columns(
        pl.col("additions").cast(pl.Int32),
        pl.col("deletions").cast(pl.Float64),
        pl.col("ai_assisted").cast(pl.Float32),
        pl.col("reverted"),  # Boolean
    )
    out = tmp_path / "typed"
    ds.write(out, format="parquet")
    typed.write_parquet(out / "pull_requests.parquet")
    again = load(out)
    assert again.pull_requests.equals(ds.pull_requests)
    bad = typed.with_columns(
        pl.Series("additions", [1, 2, 3, 4, 5, 2**63 + 5], dtype=pl.UInt64),
        pl.when(pl.int_range(pl.len()) == 1)
        .then(float("inf"))
        .otherwise(pl.col("deletions"))
        .alias("deletions"),
    )
    bad.write_parquet(out / "pull_requests.parquet")
    found = errors_of(out)
    assert any(
        "additions" in e and "whole number" in e and "9223372036854775813" in e for e in found
    )
    assert any("deletions" in e and "whole number" in e and "'inf'" in e for e in found)


def test_links_to_unknown_prs_are_named_by_line_and_dropped(tmp_path):
    """A defect or incident naming a PR the data does not hold: a warning naming the file,
    the column and the lines, and the link is ignored (the row keeps its engineer)."""
    defects = (
        "id,created_date,pr_id,engineer_id,severity\n"
        "D1,2024-02-01,P1,,high\n"
        "D2,2024-02-02,P404,,low\n"  # line 3: no such PR
        "D3,2024-02-03,,E2,low\n"
        "D4,2024-02-04,P405,E3,low\n"  # line 5: no such PR, names its engineer
    )
    ds = load(write_folder(tmp_path, defects=defects))
    (found,) = [p for p in ds.validation.warnings if "pr_id not found" in p.message]
    assert "defects.csv, column 'pr_id', lines 3, 5: pr_id not found in pull_requests" in (
        found.format()
    )
    assert ds.defects.select("id", "pr_id", "engineer_id").rows() == [
        ("D1", "P1", None),
        ("D2", None, None),
        ("D3", None, "E2"),
        ("D4", None, "E3"),
    ]
