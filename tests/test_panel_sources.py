"""``open_dataset``'s and ``certkit panel``'s source options, without a JVM: DuckDB's
``--memory-limit``, options refused on the wrong engine, ``spark:`` schema names, and Spark
Connect URLs (Databricks' form, malformed ones, tokens never shown).

The Spark catalog tables and Databricks-style URLs against a live (local) Spark Connect server
are in ``tests/test_panel_spark.py`` (marker ``spark``: one JVM per run).
"""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from test_panel_engines import panel, same, to_parquet_folder

import certkit as ck
import certkit.data.panel_sources as panel_sources
from certkit.cli import main
from certkit.data.panel_sources import copy_to_duckdb, open_dataset
from certkit.data.spark_sources import redact

SECRET = "dapi0123456789abcdef"  # looks like a Databricks personal access token


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    ds = ck.simulate(n_engineers=20, months=4, seed=3)
    root = tmp_path_factory.mktemp("sources")
    folder = to_parquet_folder(ds, root / "org")
    db = root / "org.duckdb"
    con = duckdb.connect(str(db))
    copy_to_duckdb(ds, con)
    con.close()
    return ds, folder, db


def memory_setting(limit: str) -> str:
    """What DuckDB reports for ``SET memory_limit = limit`` (its own formatting)."""
    con = duckdb.connect()
    con.execute("SET memory_limit = ?", [limit])
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


@pytest.mark.parametrize("data", ["folder", "file"])
def test_panel_memory_limit_reaches_the_duckdb_connection(org, data, tmp_path, monkeypatch, capsys):
    ds, folder, db = org
    opened = []

    def spy(*args, **kw):
        opened.append(open_dataset(*args, **kw))
        return opened[-1]

    monkeypatch.setattr(panel_sources, "open_dataset", spy)
    out = tmp_path / "panel.parquet"
    argv = ["panel", "--data", str(folder if data == "folder" else db), "--out", str(out)]
    if data == "folder":  # a .duckdb file is read by DuckDB without --engine
        argv += ["--engine", "duckdb"]
    assert main([*argv, "--memory-limit", "3GB"]) == 0, capsys.readouterr().err
    same(panel(ds), pl.read_parquet(out))
    (used,) = opened
    sql = "SELECT current_setting('memory_limit')"
    got = used.pull_requests.query("_any", sql).fetchall()[0][0]
    assert got == memory_setting("3GB") != memory_setting("4GB")


def test_panel_memory_limit_errors_are_messages(org, tmp_path, capsys):
    _, folder, db = org
    out = str(tmp_path / "panel.parquet")
    base = ["panel", "--data", str(db), "--out", out, "--memory-limit"]
    assert main([*base, "plenty"]) == 2
    err = capsys.readouterr().err
    assert "memory_limit must be a DuckDB memory size such as '4GB'; got 'plenty'" in err
    for engine in (["--engine", "polars"], []):  # polars; the in-memory load of a folder
        argv = ["panel", "--data", str(folder), "--out", out, "--memory-limit", "4GB", *engine]
        assert main(argv) == 2
        assert "--memory-limit only applies with --engine duckdb" in capsys.readouterr().err
    assert not (tmp_path / "panel.parquet").exists()


def test_options_on_the_wrong_engine_are_refused(org, tmp_path, capsys):
    _, folder, db = org
    out = str(tmp_path / "p.parquet")
    argv = ["panel", "--data", str(folder), "--out", out, "--engine", "duckdb"]
    assert main([*argv, "--spark-remote", "sc://localhost:15002"]) == 2
    assert "--spark-remote only applies with --engine spark" in capsys.readouterr().err
    assert main(["panel", "--data", "spark:main.devprod", "--engine", "polars", "--out", out]) == 2
    assert "catalog tables are read with --engine spark" in capsys.readouterr().err
    cases = [
        (dict(engine="polars", memory_limit="4GB"), "memory_limit applies with engine='duckdb'"),
        (dict(engine="duckdb", session=object()), "apply with engine='spark' only"),
        (dict(engine="duckdb", spark_remote="sc://h"), "apply with engine='spark' only"),
        (
            dict(engine="spark", session=object(), spark_remote="sc://h"),
            "give spark_remote or session, not both",
        ),
        # any source may name its tables otherwise (tests/test_panel_cli.py); a name that is
        # not there says where it looked
        (dict(table_names={"pull_requests": "prs"}), "looked for pull_requests as prs"),
        (dict(table_names={"prs": "x"}), "prs is not a certkit table"),
    ]
    for kw, message in cases:
        with pytest.raises(ck.CertkitError, match=message):
            open_dataset(folder, **kw)
    with pytest.raises(ck.CertkitError, match="the Spark engine reads a folder of Parquet"):
        open_dataset(db, "spark")


@pytest.mark.parametrize(
    ("source", "kw", "message"),
    [
        ("spark:", {}, "give a schema as spark:SCHEMA or spark:CATALOG.SCHEMA"),
        ("spark:a.b.c", {}, "give a schema as spark:SCHEMA or spark:CATALOG.SCHEMA"),
        ("spark:main.dev prod", {}, "give a schema as spark:SCHEMA or spark:CATALOG.SCHEMA"),
        ("spark:main.devprod", {"engine": "duckdb"}, "read with the Spark engine"),
        ("spark:main.devprod", {"table_names": {"prs": "x"}}, "prs is not a certkit table"),
        (
            "spark:main.devprod",
            {"table_names": {"pull_requests": "other.prs"}},
            "other.prs is not a table name in the schema",
        ),
    ],
)
def test_catalog_source_names_are_checked_before_any_session(source, kw, message):
    # session=None and no JVM: these fail before a Spark session would be opened
    with pytest.raises(ck.CertkitError, match=message):
        open_dataset(source, **kw)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"sc://:443/;token={SECRET}", "Hostname is missing"),
        (f"https://example.cloud.databricks.com/;token={SECRET}", "must look like sc://HOST"),
        (f"sc://example:443/;token={SECRET}=", "key-value pair"),  # '=' inside the token
        (f"sc://example:443/path;token={SECRET}", "path component '/path' must be empty"),
        (f"sc://example:99999/;token={SECRET}", "Port out of range"),
        (f"sc://example:443/;session_id=x;token={SECRET}", "session_id must be a valid UUID"),
    ],
)
def test_malformed_spark_connect_url_is_a_message_without_its_token(org, url, message, capsys):
    _, folder, _ = org
    with pytest.raises(ck.CertkitError, match=message) as info:
        open_dataset(folder, "spark", spark_remote=url)
    assert SECRET not in str(info.value) and "***" in str(info.value)
    assert info.value.__cause__ is None  # a chained pyspark error would print the token
    argv = ["panel", "--engine", "spark", "--data", str(folder), "--spark-remote", url]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "certkit: error: " in captured.err and message.split("'")[0] in captured.err
    assert SECRET not in captured.err + captured.out and "Traceback" not in captured.err


def test_spark_remote_from_the_environment(org, monkeypatch):
    """Without --spark-remote or an active session, $SPARK_REMOTE is used (pyspark's rule)."""
    from pyspark.sql import SparkSession

    _, folder, _ = org
    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.setenv("SPARK_REMOTE", f"sc://:15002/;token={SECRET}")
    with pytest.raises(ck.CertkitError, match="Hostname is missing") as info:
        open_dataset(folder, "spark")
    assert SECRET not in str(info.value)


def test_redact_masks_tokens_and_secret_parameters(monkeypatch):
    url = f"sc://ws.cloud.databricks.com:443/;token={SECRET};x-databricks-cluster-id=0123-456"
    assert redact(url) == (
        "sc://ws.cloud.databricks.com:443/;token=***;x-databricks-cluster-id=0123-456"
    )
    quoted = "sc://h/;token=a%2Fb%3D;user_id=me"  # URL-encoded: pyspark reports it decoded
    assert redact("bad token 'a/b=' and a%2Fb%3D", quoted) == "bad token '***' and ***"
    assert redact("password=hunter2;Secret_Key=xyz") == "password=***;Secret_Key=***"
    monkeypatch.setenv("SPARK_CONNECT_AUTHENTICATE_TOKEN", SECRET)
    assert redact(f"Bearer {SECRET}") == "Bearer ***"


def test_pyspark_sends_databricks_parameters_as_headers():
    """What the docs rely on, in pyspark's own ChannelBuilder: unknown URL parameters become
    gRPC headers, the token does not (it is the bearer credential, and implies TLS except on
    localhost), user_id is the session's user."""
    from pyspark.sql.connect.client import DefaultChannelBuilder

    url = f"sc://ws.cloud.databricks.com:443/;token={SECRET};x-databricks-cluster-id=0123-456"
    builder = DefaultChannelBuilder(url)
    assert list(builder.metadata()) == [("x-databricks-cluster-id", "0123-456")]
    assert builder.secure and builder.token == SECRET and builder.endpoint.endswith(":443")
    local = DefaultChannelBuilder("sc://localhost:15002/;x-databricks-cluster-id=1;user_id=me")
    assert not local.secure and local.userId == "me"
    assert list(local.metadata()) == [("x-databricks-cluster-id", "1")]


def test_unreachable_spark_connect_server_is_a_message_without_its_token(org, monkeypatch):
    """pyspark retries an unreachable server for ~10 minutes, then raises a gRPC error whose
    text is a repr spanning lines (seen here against a closed port); certkit keeps its
    ``details`` and masks the token. The error is raised by a stand-in for the first call."""
    from pyspark.errors.exceptions.connect import SparkConnectGrpcException
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    text = (
        "<_InactiveRpcError of RPC that terminated with:\n\tstatus = StatusCode.UNAVAILABLE\n"
        '\tdetails = "failed to connect to all addresses; last error: UNKNOWN: '
        'ipv4:127.0.0.1:1: Connection refused"\n>'
    )

    def unreachable(self):
        raise SparkConnectGrpcException(message=text)

    monkeypatch.setattr(ConnectSession.Builder, "create", unreachable)
    _, folder, _ = org
    with pytest.raises(ck.CertkitError) as info:
        open_dataset(folder, "spark", spark_remote=f"sc://localhost:1/;token={SECRET}")
    assert str(info.value) == (
        "could not open a Spark Connect session on 'sc://localhost:1/;token=***': failed to "
        "connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Connection refused"
    )
