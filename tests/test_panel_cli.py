"""``certkit panel --engine polars|duckdb --data PATH_OR_FILE``."""

from __future__ import annotations

import warnings

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import certkit as ck
from certkit.cli import main
from certkit.data.panel_sources import copy_to_duckdb

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
