"""Whole-table validation rules as narwhals queries: same findings on polars and DuckDB."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import polars as pl
import pytest
from test_panel_engines import to_duckdb, to_parquet_folder

import certkit as ck
from certkit.cli import main
from certkit.data.validate_lazy import validate_lazy

duckdb = pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def broken() -> ck.Dataset:
    return broken_dataset()


def broken_dataset() -> ck.Dataset:
    """A small simulated organisation with one planted problem per rule."""
    ds = ck.simulate(n_engineers=30, months=6, seed=3)
    eng = ds.engineers.with_columns(pl.lit(None, pl.Date).alias("leave_date"))
    first = eng.row(0, named=True)
    eng = eng.with_columns(
        pl.when(pl.col("engineer_id") == eng["engineer_id"][1])
        .then(pl.lit(date(2000, 1, 1)))
        .otherwise(pl.col("leave_date"))
        .alias("leave_date")
    )
    eng = pl.concat([eng, pl.DataFrame([first], schema=eng.schema)])  # repeated engineer
    prs = ds.pull_requests
    ghost = prs.head(2).with_columns(
        pl.Series("id", ["GHOST-1", "GHOST-2"]),
        pl.lit("nobody").alias("author_id"),
    )
    bot = prs.head(1).with_columns(pl.lit("B-1").alias("id"), pl.lit("ci[bot]").alias("author_id"))
    backwards = prs.head(1).with_columns(
        pl.lit("BACK-1").alias("id"),
        pl.lit(datetime(2001, 1, 1)).alias("merged_date"),
    )
    prs = pl.concat([prs, ghost, bot, backwards, prs.head(1)], how="diagonal_relaxed")
    certs = pl.concat(
        [
            ds.certifications,
            ds.certifications.head(1).with_columns(pl.lit("X9").alias("engineer_id")),
        ]
    )
    return dataclasses.replace(ds, engineers=eng, pull_requests=prs, certifications=certs)


def findings(report) -> dict[tuple[str, str], tuple[str, list]]:
    return {(p.table, p.column): (p.severity, p.rows, p.message) for p in report.problems}


def test_every_rule_found_with_table_column_and_example(broken):
    got = findings(validate_lazy(broken))
    first_pr = broken.pull_requests["id"][0]
    assert got[("engineers", "engineer_id")][:2] == ("error", [broken.engineers["engineer_id"][0]])
    assert got[("pull_requests", "id")][:2] == ("error", [first_pr])
    assert got[("certifications", "engineer_id")][:2] == ("warning", ["X9"])
    sev, rows, msg = got[("pull_requests", "author_id")]
    assert (sev, rows) == ("warning", ["GHOST-1", "GHOST-2"])  # the bot is not reported
    assert "2 row(s)" in msg
    assert got[("engineers", "leave_date")][:2] == ("error", [broken.engineers["engineer_id"][1]])
    assert got[("pull_requests", "merged_date")][:2] == ("warning", ["BACK-1"])
    assert len(got) == 6


def test_same_findings_on_lazy_polars_and_duckdb(broken):
    expected = findings(validate_lazy(broken))
    lazy = dataclasses.replace(broken, **{n: f.lazy() for n, f in broken.tables().items()})
    assert findings(validate_lazy(lazy)) == expected
    assert findings(validate_lazy(to_duckdb(broken))) == expected


def test_clean_sample_passes():
    assert validate_lazy(ck.load_sample()).ok


def test_cli_panel_validate_stops_on_errors(broken, tmp_path, capsys):
    folder = to_parquet_folder(broken, tmp_path / "org")
    out = tmp_path / "panel.parquet"
    argv = ["panel", "--engine", "duckdb", "--data", str(folder), "--out", str(out), "--validate"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "engineers, column 'engineer_id'" in err and "ids must be unique" in err
    assert not out.exists()


def test_text_dates_are_type_errors_and_warehouse_types_are_read(broken, tmp_path, capsys):
    """A text date is reported (table, column, what was expected) instead of a traceback;
    integer ids and timestamps for dates are converted and the rules still find everything."""
    expected = findings(validate_lazy(broken))
    named = [broken.engineers["engineer_id"], broken.certifications["engineer_id"]]
    named.append(broken.pull_requests["author_id"].alias("engineer_id"))
    ids = pl.concat(named).unique().sort().to_frame().with_row_index("_n", offset=1)
    # the same people as integers in every table that names them
    as_numbers = {"engineers": "engineer_id", "certifications": "engineer_id"}
    numbered = {}
    for table, column in {**as_numbers, "pull_requests": "author_id"}.items():
        frame = getattr(broken, table).join(
            ids.rename({"engineer_id": column}), on=column, how="left", maintain_order="left"
        )
        numbered[table] = frame.with_columns(pl.col("_n").cast(pl.Int64).alias(column)).drop("_n")
    numbered["engineers"] = numbered["engineers"].with_columns(
        pl.col("hire_date").cast(pl.Datetime)
    )
    warehouse = dataclasses.replace(broken, **numbered)
    got = findings(validate_lazy(to_duckdb(warehouse)))
    assert {k: v[0] for k, v in got.items()} == {k: v[0] for k, v in expected.items()}
    # an integer id cannot say it is a bot (``[bot]`` suffix): ci[bot]'s PR is reported too
    assert got[("pull_requests", "author_id")][1] == ["B-1", "GHOST-1", "GHOST-2"]
    assert got[("certifications", "engineer_id")][1] == [
        str(ids.row(by_predicate=pl.col("engineer_id") == "X9")[0])  # ids are read as text
    ]

    text = dataclasses.replace(
        broken,
        pull_requests=broken.pull_requests.with_columns(pl.col("created_date").dt.to_string()),
    )
    for source in (text, to_duckdb(text)):
        got = findings(validate_lazy(source))
        assert list(got) == [("pull_requests", "created_date")]
        severity, _, message = got[("pull_requests", "created_date")]
        assert severity == "error" and message.startswith("expected a timestamp")
    folder = to_parquet_folder(text, tmp_path / "org")
    argv = ["panel", "--engine", "polars", "--data", str(folder), "--out", str(tmp_path / "p.pq")]
    assert main([*argv, "--validate"]) == 1
    assert "pull_requests, column 'created_date': expected a timestamp" in capsys.readouterr().err
    assert main(argv) == 2  # without --validate the panel itself refuses, naming the column
    err = capsys.readouterr().err
    assert f"--data {folder}: table pull_requests, column created_date: expected a timestamp" in err
