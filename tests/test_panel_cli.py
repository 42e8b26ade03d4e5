"""``certkit panel --engine polars|duckdb --data PATH_OR_FILE``."""

from __future__ import annotations

import warnings

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import certkit as ck
from certkit.cli import main
from certkit.data.panel_sources import copy_to_duckdb, open_dataset

duckdb = pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    """A simulated organisation as a Parquet folder and as a DuckDB file, and its panel."""
    root = tmp_path_factory.mktemp("org")
    ds = ck.simulate(n_engineers=40, months=6, seed=5)
    folder = root / "parquet"
    folder.mkdir()
    con = duckdb.connect(str(root / "org.duckdb"))
    for name, frame in ds.tables().items():
        frame.write_parquet(folder / f"{name}.parquet")
    copy_to_duckdb(ds, con)
    con.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        expected = ck.build_panel(ds, "month")
    return root, expected


@pytest.mark.parametrize(
    ("engine", "data"),
    [("polars", "parquet"), ("duckdb", "parquet"), ("duckdb", "org.duckdb"), (None, "org.duckdb")],
)
def test_panel_command_on_each_engine(org, engine, data, capsys):
    root, expected = org
    out = root / f"panel-{engine}-{data}.parquet"
    argv = ["panel", "--data", str(root / data), "--out", str(out)]
    if engine:
        argv += ["--engine", engine]
    assert main(argv) == 0
    assert f"Wrote {expected.height:,} engineer-month rows" in capsys.readouterr().out
    got = pl.read_parquet(out)
    assert_frame_equal(got, expected, check_exact=False, rel_tol=1e-12, abs_tol=0)


def test_panel_command_errors_are_messages(org, tmp_path, capsys):
    root, _ = org
    assert main(["panel", "--data", str(tmp_path / "nope"), "--engine", "duckdb"]) == 2
    assert "no such data folder or DuckDB file" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["panel", "--data", str(empty), "--engine", "polars"]) == 2
    assert "no Parquet tables" in capsys.readouterr().err
    not_db = tmp_path / "x.duckdb"
    not_db.write_text("hello")
    assert main(["panel", "--data", str(not_db), "--out", str(tmp_path / "p.parquet")]) == 2
    assert "not a DuckDB database" in capsys.readouterr().err
    # the output may not overwrite the database it reads
    db = root / "org.duckdb"
    assert main(["panel", "--data", str(db), "--out", str(db)]) == 2
    assert db.stat().st_size > 0


def copy_tables(source, folder, names, prefix: str = "") -> None:
    """Copy ``source/<name>.parquet`` files to ``folder/<prefix><name>.parquet``."""
    for name in names:
        (folder / f"{prefix}{name}.parquet").write_bytes((source / f"{name}.parquet").read_bytes())


def same_panel(path, expected) -> None:
    assert_frame_equal(pl.read_parquet(path), expected, check_exact=False, rel_tol=1e-12, abs_tol=0)


def test_tables_under_other_names(org, tmp_path, capsys):
    """``--table pull_requests=github_prs``: a warehouse export or a DuckDB file whose
    tables are not named as certkit's (a Parquet file, a folder of parts, a view in
    another schema)."""
    root, expected = org
    folder = tmp_path / "export"
    folder.mkdir()
    copy_tables(
        root / "parquet", folder, ("engineers", "certifications", "defects", "incidents"), "dim_"
    )
    (folder / "fact_prs").mkdir()
    prs = pl.read_parquet(root / "parquet" / "pull_requests.parquet")
    for i, part in enumerate(prs.partition_by("repo")):
        part.write_parquet(folder / "fact_prs" / f"part-{i:05d}.parquet")
    options = [
        f"--table={t}=dim_{t}" for t in ("engineers", "certifications", "defects", "incidents")
    ]
    options += ["--table", "pull_requests=fact_prs"]
    for engine in ("polars", "duckdb"):
        out = tmp_path / f"panel-{engine}.parquet"
        argv = ["panel", "--engine", engine, "--data", str(folder), "--out", str(out), *options]
        assert main(argv) == 0, capsys.readouterr().err
        same_panel(out, expected)
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA analytics")
    for name in ("engineers", "certifications", "pull_requests", "defects", "incidents"):
        path = root / "parquet" / f"{name}.parquet"
        con.execute(f"CREATE TABLE analytics.raw_{name} AS SELECT * FROM read_parquet('{path}')")
    con.execute("CREATE VIEW analytics.prs AS SELECT * FROM analytics.raw_pull_requests")
    con.close()
    options = [f"--table={t}=analytics.raw_{t}" for t in ("engineers", "certifications")]
    options += ["--table=pull_requests=analytics.prs"]  # a view; no defects or incidents
    out = tmp_path / "panel-db.parquet"
    assert main(["panel", "--data", str(db), "--out", str(out), *options]) == 0
    no_quality = expected.with_columns(
        pl.lit(0, pl.Int64).alias("defects"),
        pl.lit(0, pl.Int64).alias("incidents"),
        pl.when(pl.col("merged_prs") > 0).then(0.0).alias("defects_per_pr"),
    )
    same_panel(out, no_quality)


def test_table_option_errors_are_messages(org, tmp_path, capsys):
    root, _ = org
    folder = root / "parquet"
    out = str(tmp_path / "p.parquet")
    cases = [
        (
            ["--engine", "polars", "--table", "pull_requests"],
            "--table pull_requests: give TABLE=NAME",
        ),
        (["--engine", "polars", "--table", "prs=x"], "table_names: prs is not a certkit table"),
        (["--engine", "polars", "--table", "pull_requests=nothing"], "no pull_requests table"),
        (["--table", "pull_requests=x"], "--table applies to tables scanned where they live"),
    ]
    for extra, message in cases:
        assert main(["panel", "--data", str(folder), "--out", out, *extra]) == 2
        assert message in capsys.readouterr().err
    with pytest.raises(ck.CertkitError, match="looked for pull_requests as nothing"):
        open_dataset(folder, "polars", table_names={"pull_requests": "nothing"})
    devlake = ["panel", "--data", "postgresql://x/y", "--table", "pull_requests=x", "--out", out]
    assert main(devlake) == 2
    assert "--table does not apply to a DevLake URI" in capsys.readouterr().err


def test_the_panel_never_lands_on_a_table_of_its_data_folder(org, tmp_path, capsys):
    root, _ = org
    folder = tmp_path / "export"
    (folder / "fact_prs").mkdir(parents=True)
    prs = (root / "parquet" / "pull_requests.parquet").read_bytes()
    (folder / "fact_prs" / "part-0.parquet").write_bytes(prs)
    copy_tables(root / "parquet", folder, ("engineers", "certifications"))
    base = [
        "panel",
        "--engine",
        "duckdb",
        "--data",
        str(folder),
        "--table",
        "pull_requests=fact_prs",
    ]
    for out in (
        folder / "fact_prs.parquet",
        folder / "fact_prs" / "panel.parquet",
        folder / "pull_requests.csv",
    ):
        assert main([*base, "--out", str(out)]) == 2
        assert "inputs are only ever read" in capsys.readouterr().err
        assert not out.exists()
    assert (folder / "fact_prs" / "part-0.parquet").read_bytes() == prs


def test_hand_written_certifications_beside_parquet_tables(org, tmp_path, capsys):
    """The usual folder after ``certkit import``: Parquet tables and a certifications.csv
    written by hand (any date format load reads, names or aliases). The scan reads and
    checks it as ``certkit load`` does, so the panel is the same loaded or scanned; its
    problems name the file, column and line."""
    root, _ = org
    folder = tmp_path / "import"
    folder.mkdir()
    copy_tables(root / "parquet", folder, ("engineers", "pull_requests", "defects", "incidents"))
    certs = pl.read_parquet(root / "parquet" / "certifications.parquet")
    certs.select(
        "engineer_id",
        pl.col("certification").alias("Certification_Name"),  # an alias, in any case
        pl.col("earned_date").dt.strftime("%d %b %Y").alias("earned_date"),  # 05 Mar 2024
    ).write_csv(folder / "certifications.csv")
    expected_path = tmp_path / "loaded.parquet"
    assert main(["panel", str(folder), "--out", str(expected_path)]) == 0
    expected = pl.read_parquet(expected_path)
    assert (expected["cohort"] > 0).any()
    for engine in ("polars", "duckdb"):
        out = tmp_path / f"{engine}.parquet"
        assert main(["panel", "--engine", engine, "--data", str(folder), "--out", str(out)]) == 0
        same_panel(out, expected)
    text = (folder / "certifications.csv").read_text().splitlines()
    text[3] = text[3].rsplit(",", 1)[0] + ",someday"
    (folder / "certifications.csv").write_text("\n".join(text) + "\n")
    capsys.readouterr()
    assert main(["panel", "--engine", "duckdb", "--data", str(folder), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "certifications.csv, column 'earned_date', line 4: expected a date" in err
