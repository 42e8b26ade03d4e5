"""The same panel on SQLFrame (the Spark DataFrame API on DuckDB, no JVM) as on polars.

SQLFrame goes through narwhals' Spark-like backend, the same code path as PySpark and Spark
Connect (calendar arithmetic instead of durations), so this always-run test guards the
Spark path without a JVM. It also guards the size of the query: SQLFrame rebuilds its plan at
every step, and before the calendar arithmetic was made compact this panel took ~105 s of
Python to build (now a few seconds). The sample itself is built on PySpark (the same
narwhals Spark-like path, tests/test_panel_spark.py, run by make test with Java) and on polars
and DuckDB (tests/test_panel_engines.py); here it cost ~25-30 s of the test budget.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from test_panel_engines import awkward, panel, same

import certkit as ck
from certkit.data.panel_engines import engine_of, to_lazy
from certkit.data.panel_sources import copy_to_duckdb

pytest.importorskip("sqlframe")
duckdb = pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def session():
    """One SQLFrame session over one DuckDB connection. SQLFrame sessions are process-wide
    singletons: a second ``DuckDBSession(conn=...)`` keeps the first one's connection, so
    every dataset of this module lives in one connection under its own table prefix."""
    from sqlframe.duckdb import DuckDBSession

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    sqlframe = DuckDBSession(conn=con)
    yield sqlframe
    sqlframe.stop()  # closes the connection, forgets the singleton


def to_sqlframe(ds: ck.Dataset, session, prefix: str) -> ck.Dataset:
    """The tables of ``ds`` as SQLFrame DataFrames of ``session`` (typed DuckDB tables:
    SQLFrame's ``createDataFrame`` infers types from rows)."""
    copy_to_duckdb(ds, session._conn, prefix=f"{prefix}_")
    tables = {name: session.table(f"{prefix}_{name}") for name in ds.tables()}
    return dataclasses.replace(ds, **tables)


def test_awkward_org_monthly_panel_on_sqlframe(session):
    ds, when = awkward()
    on_sqlframe = to_sqlframe(ds, session, "awk")
    assert engine_of(to_lazy(on_sqlframe.pull_requests, "pull_requests")) == "sqlframe"
    cpu = time.process_time()
    got = panel(on_sqlframe)
    cpu = time.process_time() - cpu
    same(panel(ds), got)
    mid = got.filter(got["engineer_id"] == "MID")
    assert mid["period"][0] == when["month3"]  # hired on the 3rd: in from that month
    # ~105 s before the query was made compact; a regression to megabytes of plan shows here
    assert cpu < 60, f"SQLFrame panel took {cpu:.0f} CPU s"
