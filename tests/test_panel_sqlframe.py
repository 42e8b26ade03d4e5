"""The same panel on SQLFrame (the Spark DataFrame API on DuckDB, no JVM) as on polars.

SQLFrame goes through narwhals' Spark-like backend, the same code path as PySpark and Spark
Connect (calendar arithmetic instead of durations), so this always-run test guards the
Spark path without a JVM. It also guards the size of the query: SQLFrame rebuilds its plan at
every step, and before the calendar arithmetic was made compact this panel took ~105 s of
Python to build (now a few seconds).
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from test_panel_engines import awkward, panel, same, to_duckdb

import certkit as ck
from certkit.data.panel_engines import engine_of, to_lazy

pytest.importorskip("sqlframe")
duckdb = pytest.importorskip("duckdb")


def to_sqlframe(ds: ck.Dataset) -> ck.Dataset:
    """The tables of ``ds`` as SQLFrame DataFrames of one DuckDB-backed session."""
    from sqlframe.duckdb import DuckDBSession

    con = duckdb.connect()
    to_duckdb(ds, con)  # typed DuckDB tables (SQLFrame's createDataFrame infers from rows)
    session = DuckDBSession(conn=con)
    return dataclasses.replace(ds, **{name: session.table(name) for name in ds.tables()})


def test_awkward_org_monthly_panel_on_sqlframe():
    ds, when = awkward()
    on_sqlframe = to_sqlframe(ds)
    assert engine_of(to_lazy(on_sqlframe.pull_requests, "pull_requests")) == "sqlframe"
    cpu = time.process_time()
    got = panel(on_sqlframe)
    cpu = time.process_time() - cpu
    same(panel(ds), got)
    mid = got.filter(got["engineer_id"] == "MID")
    assert mid["period"][0] == when["month3"]  # hired mid-month: in from that month
    # ~105 s before the query was made compact; a regression to megabytes of plan shows here
    assert cpu < 60, f"SQLFrame panel took {cpu:.0f} CPU s"
