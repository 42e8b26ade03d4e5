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

import polars as pl
import pytest
from test_panel_engines import awkward, panel, same, to_parquet_folder

import certkit as ck
from certkit.cli import main
from certkit.data.panel_engines import engine_of, to_lazy

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("spark")]


@pytest.fixture(scope="module")
def spark():
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
    assert mid.height > 0  # the engineer hired mid-period made it through Spark


def test_validation_rules_run_on_spark(spark):
    from test_validate_lazy import broken_dataset, findings

    from certkit.data.validate_lazy import validate_lazy

    broken = broken_dataset()
    assert findings(validate_lazy(to_spark(broken, spark))) == findings(validate_lazy(broken))


def test_cli_panel_engine_spark_reads_parquet(spark, tmp_path):
    awk, _ = awkward()
    folder = to_parquet_folder(awk, tmp_path / "org")
    out = tmp_path / "panel.parquet"
    # the active test session is reused (no second JVM)
    argv = ["panel", "--engine", "spark", "--data", str(folder), "--out", str(out), "--validate"]
    assert main(argv) == 0
    same(panel(awk), pl.read_parquet(out))


def test_awkward_org_same_panel_on_spark_connect(connect):
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    assert isinstance(connect, ConnectSession)
    assert connect.conf.get("spark.sql.session.timeZone") == "UTC"
    awk, when = awkward()
    on_connect = to_spark(awk, connect)
    frame = to_lazy(on_connect.pull_requests, "pull_requests")
    assert engine_of(frame) == "pyspark-connect"
    got = panel(on_connect, "month")
    same(panel(awk, "month"), got)
    mid = got.filter(got["engineer_id"] == "MID")
    assert mid["period"][0] == when["month3"]


def test_cli_panel_engine_spark_remote(spark, connect, tmp_path):
    awk, _ = awkward()
    folder = to_parquet_folder(awk, tmp_path / "org")
    out = tmp_path / "panel.parquet"
    argv = ["panel", "--engine", "spark", "--spark-remote", spark.connect_url]
    assert main([*argv, "--data", str(folder), "--out", str(out)]) == 0
    same(panel(awk), pl.read_parquet(out))
