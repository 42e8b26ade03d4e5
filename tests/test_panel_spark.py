"""The same panel on PySpark (local JVM) and on Spark Connect as on polars, row for row.

Under the ``spark`` marker (and ``slow``: a JVM starts): ``make test`` and CI run it, with
Java 17 from ``scripts/system-deps.sh``. Without Java these tests fail, never skip. One JVM
serves both: the local session loads Spark's Connect plugin (its jar ships with pyspark), so a
Spark Connect server listens on a free local port of the same JVM.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import uuid

import polars as pl
import pytest
from test_panel_engines import awkward, panel, same, to_parquet_folder, to_partitioned_folder

import certkit as ck
from certkit.cli import main
from certkit.data.panel_engines import engine_of, to_lazy

# one file runs on one worker (make test: --dist loadfile), so one JVM serves all its tests
pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.fail("no Java: Spark 4 needs Java 17+ (run scripts/system-deps.sh)")
    from pyspark.sql import SparkSession

    with socket.socket() as probe:  # a free port for the Connect server
        probe.bind(("localhost", 0))
        port = probe.getsockname()[1]
    session = (
        SparkSession.builder.master("local[2]")
        .appName("certkit-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
        .config("spark.connect.grpc.binding.port", str(port))
        # the catalog's default folder is ./spark-warehouse otherwise (catalog tests below)
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.connect_url = f"sc://localhost:{port}"
    yield session
    session.stop()


@pytest.fixture(scope="module")
def connect(spark):
    """A Spark Connect client session on the test JVM's Connect server."""
    from certkit.data.panel_sources import spark_session

    session = spark_session(spark.connect_url)
    yield session
    session.stop()


def to_spark(ds: ck.Dataset, session) -> ck.Dataset:
    tables = {n: session.createDataFrame(f.to_arrow()) for n, f in ds.tables().items()}
    return dataclasses.replace(ds, **tables)


def test_sample_and_awkward_org_same_panel_on_spark(spark):
    """The sample by month; the awkward organisation by week here (by month through the CLI
    below and on Spark Connect: each Spark build costs tens of seconds of query planning)."""
    sample = ck.load_sample()
    same(panel(sample), panel(to_spark(sample, spark)))
    awk, when = awkward()
    got = panel(to_spark(awk, spark), "week")
    same(panel(awk, "week"), got)
    mid = got.filter(got["engineer_id"] == "MID")
    assert mid.height > 0  # the engineer hired inside a period made it through Spark


def test_validation_rules_run_on_spark(spark):
    from test_validate_lazy import broken_dataset, findings

    from certkit.data.validate_lazy import validate_lazy

    broken = broken_dataset()
    assert findings(validate_lazy(to_spark(broken, spark))) == findings(validate_lazy(broken))


def test_cli_panel_engine_spark_reads_parquet(spark, tmp_path):
    """A Parquet folder as Spark's partitionBy writes it, with a hand-written
    certifications.csv beside it (read and checked as certkit load reads it)."""
    awk, _ = awkward()
    folder = to_partitioned_folder(awk, tmp_path / "org")
    awk.certifications.drop("certification_id", strict=False).write_csv(
        folder / "certifications.csv"
    )
    (folder / "certifications.parquet").unlink()
    out = tmp_path / "panel.parquet"
    # the active test session is reused (no second JVM)
    argv = ["panel", "--engine", "spark", "--data", str(folder), "--out", str(out), "--validate"]
    assert main(argv) == 0
    same(panel(awk), pl.read_parquet(out))


def test_connect_session_reads_the_awkward_org(spark, connect, tmp_path):
    """A Spark Connect client session on the test JVM: UTC, and narwhals sees its frames as
    Connect frames. (Its panel, through `certkit panel --spark-remote`, is built by
    test_cli_catalog_tables_on_spark_connect_with_a_databricks_style_url below: each Spark
    build costs tens of seconds of query planning.)"""
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    assert isinstance(connect, ConnectSession)
    assert connect.conf.get("spark.sql.session.timeZone") == "UTC"
    awk, _ = awkward()
    on_connect = to_spark(awk, connect)
    assert engine_of(to_lazy(on_connect.pull_requests, "pull_requests")) == "pyspark-connect"
    assert on_connect.pull_requests.count() == awk.pull_requests.height
    from certkit.data.panel_sources import open_dataset

    folder = to_parquet_folder(awk, tmp_path / "org")  # a Parquet folder read over Connect
    ds = open_dataset(folder, "spark", session=connect)
    assert engine_of(to_lazy(ds.pull_requests, "pull_requests")) == "pyspark-connect"
    for table, expected in awk.tables().items():
        assert getattr(ds, table).count() == expected.height, table


@pytest.fixture(scope="module")
def catalog_schema(spark, tmp_path_factory):
    """The awkward organisation as managed tables of a schema of the session catalog (what a
    Databricks user has in Unity Catalog), under a throwaway location; dropped afterwards."""
    awk, _ = awkward()
    name = f"certkit_{uuid.uuid4().hex[:10]}"  # one JVM serves the whole run: a unique name
    where = tmp_path_factory.mktemp("warehouse")
    spark.sql(f"CREATE SCHEMA {name} LOCATION '{where}'")
    try:
        for table, frame in awk.tables().items():
            spark.createDataFrame(frame.to_arrow()).write.saveAsTable(f"{name}.{table}")
        yield name, awk
    finally:
        spark.sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def test_catalog_tables_same_panel_on_spark(spark, catalog_schema, tmp_path):
    from certkit.data.panel_sources import open_dataset

    name, awk = catalog_schema
    ds = open_dataset(f"spark:spark_catalog.{name}", session=spark)  # engine: spark
    assert engine_of(to_lazy(ds.pull_requests, "pull_requests")) == "pyspark"
    # the panel of catalog tables on this session: test_cli_catalog_tables_on_the_active_session
    for table, expected in awk.tables().items():
        assert getattr(ds, table).count() == expected.height, table
    # a schema without the required tables: named, with what it has
    other = f"{name}_partial"
    spark.sql(f"CREATE SCHEMA {other} LOCATION '{tmp_path}'")
    try:
        spark.table(f"{name}.engineers").write.saveAsTable(f"{other}.engineers")
        spark.table(f"{name}.pull_requests").write.saveAsTable(f"{other}.github_prs")
        with pytest.raises(ck.CertkitError) as info:
            open_dataset(f"spark:{other}", session=spark)
        assert str(info.value) == (
            f"spark:{other}: schema {other} has no certifications, pull_requests table "
            "(certkit reads engineers, certifications, pull_requests, and optionally defects, "
            "incidents); it has engineers, github_prs"
        )
        with pytest.raises(ck.CertkitError, match=r"has no certifications table .* it has"):
            open_dataset(f"spark:{other}", table_names={"pull_requests": "GitHub_PRs"})
    finally:
        spark.sql(f"DROP SCHEMA IF EXISTS {other} CASCADE")
    with pytest.raises(ck.CertkitError, match=f"cannot list the tables of schema {name}_nope"):
        open_dataset(f"spark:{name}_nope", session=spark)


def test_cli_catalog_tables_on_the_active_session(spark, catalog_schema, tmp_path, capsys):
    """`certkit panel --data spark:CATALOG.SCHEMA`: --engine spark is the default for it, and
    the active (classic) session is used."""
    name, awk = catalog_schema
    # a table under another name (here a view): --table
    spark.sql(f"CREATE VIEW {name}.github_prs AS SELECT * FROM {name}.pull_requests")
    out = tmp_path / "panel.parquet"
    argv = ["panel", "--data", f"spark:spark_catalog.{name}", "--period", "quarter"]
    argv += ["--table", "pull_requests=github_prs"]
    assert main([*argv, "--out", str(out)]) == 0
    assert "engineer-quarter rows" in capsys.readouterr().out
    same(panel(awk, "quarter"), pl.read_parquet(out))


def test_cli_catalog_tables_on_spark_connect_with_a_databricks_style_url(
    spark, catalog_schema, tmp_path, capsys, monkeypatch
):
    """`certkit panel --data spark:SCHEMA --spark-remote URL` with the parameters Databricks
    puts in its URLs: a token (local credentials on localhost, a bearer header; the local
    server checks none), a cluster id and a user id (passed through as gRPC headers). The
    Connect session it opened is stopped (an open one blocks Python's exit for minutes once
    the server has gone)."""
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    stopped = []
    real_stop = ConnectSession.stop
    monkeypatch.setattr(ConnectSession, "stop", lambda s: (stopped.append(s), real_stop(s))[1])
    name, awk = catalog_schema
    when = awkward()[1]
    url = f"{spark.connect_url}/;token=certkit-test-token;x-databricks-cluster-id=0123-456;user_id=certkit"
    out = tmp_path / "panel.parquet"
    argv = ["panel", "--data", f"spark:{name}", "--spark-remote", url, "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "certkit-test-token" not in captured.out + captured.err
    got = pl.read_parquet(out)
    same(panel(awk), got)
    mid = got.filter(got["engineer_id"] == "MID")
    assert mid["period"][0] == when["month3"]  # hired on the 3rd: in from that month
    assert len(stopped) == 1 and stopped[0].is_stopped
    assert stopped[0].client.token == "certkit-test-token"  # the session of that URL


def test_catalog_tables_on_a_given_connect_session(connect, catalog_schema):
    """open_dataset(..., session=...) as with Databricks Connect's DatabricksSession (a Spark
    Connect session); a per-table name mapping; a session not on UTC gets a warning."""
    from certkit.data.panel_sources import open_dataset

    name, awk = catalog_schema
    ds = open_dataset(f"spark:{name}", session=connect, table_names={"incidents": "INCIDENTS"})
    frame = to_lazy(ds.pull_requests, "pull_requests")
    assert engine_of(frame) == "pyspark-connect"
    for table, expected in awk.tables().items():
        assert getattr(ds, table).count() == expected.height, table
    connect.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        with pytest.warns(ck.CertkitWarning, match="time zone is America/New_York, not UTC"):
            open_dataset(f"spark:{name}", session=connect)
    finally:
        connect.conf.set("spark.sql.session.timeZone", "UTC")
