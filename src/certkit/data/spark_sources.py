"""Spark sessions and catalog tables for the panel: local, Spark Connect, Databricks.

:func:`certkit.data.panel_sources.open_dataset` reads a Parquet folder on any engine; with
``engine="spark"`` it can also read *tables by name* from a Spark catalog
(``"spark:catalog.schema"``: Unity Catalog or a Hive metastore on Databricks, the session
catalog locally), on a session it is given (a Databricks notebook's ``spark``, a Databricks
Connect ``DatabricksSession``), a Spark Connect session it opens from a URL
(``sc://host:port/;token=...;x-databricks-cluster-id=...``) or a local one. A Spark Connect
URL may carry a token: it is masked (:func:`redact`) in every message certkit writes.
"""

from __future__ import annotations

import os
import re
import urllib.parse
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from certkit.errors import CertkitError, CertkitWarning

#: ``--data spark:SCHEMA`` / ``open_dataset("spark:SCHEMA", "spark")``: tables of a catalog schema.
CATALOG_PREFIX = "spark:"
#: pyspark reads a Spark Connect token from this variable when the URL has none.
TOKEN_ENV = "SPARK_CONNECT_AUTHENTICATE_TOKEN"
_SECRET_KEY = re.compile(r"(?i)((?:token|password|secret)[\w-]*=)[^;\s'\"]*")
_UTC_NAMES = {"utc", "etc/utc", "gmt", "etc/gmt", "z", "+00:00"}


def redact(text: str, remote: str | None = None) -> str:
    """``text`` with Spark Connect secrets replaced by ``***``.

    Masks every ``token=``/``password=``/``secret=`` URL parameter, and the values of those
    parameters in ``remote`` (raw and URL-decoded) and of ``SPARK_CONNECT_AUTHENTICATE_TOKEN``
    wherever they appear, e.g. inside a parser's error message.

    Parameters
    ----------
    text
        A message or URL to print.
    remote
        The Spark Connect URL the message is about, whose secret values are masked too.

    Returns
    -------
    str
        The text, safe to print or log.
    """
    secrets = [os.environ.get(TOKEN_ENV, "")]
    for part in (remote or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if _SECRET_KEY.match(f"{key}="):
            secrets += [value, urllib.parse.unquote(value)]
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _SECRET_KEY.sub(r"\1***", text)


def spark_session(remote: str | None = None) -> Any:
    """The active Spark session, a Spark Connect one (``remote``) or a new local one.

    Without ``remote``: the active session (a notebook's ``spark``), else a Spark Connect
    session on ``$SPARK_REMOTE`` (pyspark's convention) if set, else a new local one on all
    cores (``local[*]``). The sessions opened here have their SQL time zone set to UTC (the
    Dataset convention: naive datetimes are UTC). Needs ``pip install 'certkit[spark]'``, and
    Java 17 or newer for a local session.

    Parameters
    ----------
    remote
        A Spark Connect URL, ``sc://HOST[:PORT][/;key=value;...]``: Databricks' form
        ``sc://WORKSPACE:443/;token=...;x-databricks-cluster-id=...`` works (pyspark sends
        unknown parameters as gRPC headers; a token implies TLS except on ``localhost``).

    Returns
    -------
    pyspark.sql.SparkSession
        A classic session or a Spark Connect one.
    """
    return _open_session(remote)[0]


@contextmanager
def opened_spark_session(remote: str | None = None) -> Iterator[Any]:
    """:func:`spark_session`, stopped on leaving if it was opened here (never the active one).

    A Spark Connect client left open runs cleanup calls when Python exits, which pyspark
    retries for minutes if the server has gone meanwhile; ``certkit panel`` therefore
    stops the sessions it opens.
    """
    session, opened = _open_session(remote)
    try:
        yield session
    finally:
        if opened:
            session.stop()


def _open_session(remote: str | None) -> tuple[Any, bool]:
    """The session :func:`spark_session` gives, and whether it was opened here."""
    try:
        from pyspark.sql import SparkSession
    except ModuleNotFoundError as exc:
        raise CertkitError(
            "the Spark engine needs pyspark: pip install 'certkit[spark]' (and Java 17+)"
        ) from exc
    if remote:
        return _connect_session(remote), True
    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    if os.environ.get("SPARK_REMOTE"):
        return _connect_session(os.environ["SPARK_REMOTE"]), True
    builder = SparkSession.builder.config("spark.sql.session.timeZone", "UTC")
    try:
        return builder.master("local[*]").appName("certkit").getOrCreate(), True
    except Exception as exc:  # no Java, or a Java too old for Spark 4
        raise CertkitError(
            f"could not start a local Spark session ({exc}); Spark 4 needs Java 17 or newer "
            "(Debian: apt-get install openjdk-17-jre-headless)"
        ) from exc


def _connect_session(remote: str) -> Any:
    """A new Spark Connect session on ``remote`` (session time zone UTC).

    The Connect builder is used directly (``SparkSession.builder.remote`` refuses while a
    classic session runs in this process: a notebook's, a test's), and ``create`` rather than
    ``getOrCreate``, which would hand back an existing Connect session to another server.
    Nothing is sent before the first query; a URL pyspark cannot parse is a CertkitError with
    its token masked.
    """
    shown = redact(remote, remote)
    form = "sc://HOST[:PORT][/;key=value;...], e.g. sc://localhost:15002"
    if not remote.startswith("sc://"):
        raise CertkitError(f"the Spark Connect URL must look like {form}; got {shown!r}")
    try:
        from pyspark.sql.connect.session import SparkSession as ConnectSession
    except ImportError as exc:  # pyspark without its ``connect`` dependencies (grpcio, ...)
        raise CertkitError(
            f"Spark Connect needs pyspark's connect dependencies ({exc}): "
            "pip install 'certkit[spark]'"
        ) from exc
    builder = ConnectSession.builder.remote(remote)
    try:  # create() sets the time zone on the server: the first call, retried for ~10 min
        return builder.config("spark.sql.session.timeZone", "UTC").create()
    except ValueError as exc:  # pyspark's URL parser (PySparkValueError is a ValueError)
        reason = redact(_first_line(exc), remote)
        raise CertkitError(
            f"Spark Connect URL {shown!r}: {reason} (expected {form})"
        ) from None  # the chained exception would print the token
    except Exception as exc:  # SparkConnectGrpcException: unreachable, refused, unauthorised
        details = re.search(r'details = "([^"]*)"', str(exc))
        reason = redact(details.group(1) if details else _first_line(exc), remote)
        raise CertkitError(
            f"could not open a Spark Connect session on {shown!r}: {reason}"
        ) from None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def check_utc(spark: Any) -> None:
    """Warn when ``spark``'s SQL session time zone is not UTC.

    Spark turns timestamps into dates in the session time zone, and certkit's tables take
    naive datetimes as UTC: on another zone PRs near midnight land in another period than on
    polars or DuckDB. Sessions certkit opens are set to UTC; a session it is given (a
    notebook's) is only checked, never changed.
    """
    zone = spark.conf.get("spark.sql.session.timeZone")
    if str(zone).lower() not in _UTC_NAMES:
        warnings.warn(
            f"the Spark session's time zone is {zone}, not UTC: dates of timestamps (and so "
            "periods) are taken in that zone. Set spark.conf.set('spark.sql.session.timeZone', "
            "'UTC') before building the panel",
            CertkitWarning,
            stacklevel=3,
        )


def catalog_names(
    source: str, tables: tuple[str, ...], table_names: Mapping[str, str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """The schema's name parts in ``"spark:[CATALOG.]SCHEMA"`` and each table's name in it.

    Checked before any Spark session is opened, so a typo costs no JVM start or connection.

    Returns
    -------
    tuple
        ``([catalog,] schema)`` and ``{certkit table: table name in the schema}``.
    """
    parts = source[len(CATALOG_PREFIX) :].strip().split(".")
    if not 1 <= len(parts) <= 2 or not all(re.fullmatch(r"[\w-]+", p) for p in parts):
        raise CertkitError(
            f"{source}: give a schema as spark:SCHEMA or spark:CATALOG.SCHEMA (letters, digits, "
            "_ and -; e.g. spark:main.devprod); its tables engineers, certifications, "
            "pull_requests[, defects, incidents] are read"
        )
    unknown = sorted(set(table_names or {}) - set(tables))
    if unknown:
        raise CertkitError(
            f"table_names: {', '.join(unknown)} is not a certkit table ({', '.join(tables)})"
        )
    names = {t: str((table_names or {}).get(t, t)) for t in tables}
    bad = [n for n in names.values() if not re.fullmatch(r"[\w-]+", n)]
    if bad:
        raise CertkitError(f"table_names: {', '.join(bad)} is not a table name in the schema")
    return parts, names


def catalog_tables(
    source: str,
    spark: Any,
    tables: tuple[str, ...],
    required: tuple[str, ...],
    table_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Spark DataFrames (``spark.table``) of the tables in the schema named by ``source``.

    Parameters
    ----------
    source
        ``"spark:SCHEMA"`` or ``"spark:CATALOG.SCHEMA"`` (e.g. ``spark:main.devprod`` for a
        Unity Catalog schema); names are case-insensitive, as in Spark.
    spark
        The session to read them on (classic, Spark Connect or Databricks Connect).
    tables, required
        The table names certkit reads, and those that must exist.
    table_names
        Optional ``{certkit table: name in the schema}``, e.g.
        ``{"pull_requests": "github_prs"}``; other tables keep their names.

    Returns
    -------
    dict
        certkit table name -> Spark DataFrame, for the tables found.
    """
    parts, names = catalog_names(source, tables, table_names)
    schema = ".".join(parts)
    quoted = ".".join(f"`{p}`" for p in parts)
    try:
        rows = spark.sql(f"SHOW TABLES IN {quoted}").collect()
    except Exception as exc:  # SCHEMA_NOT_FOUND, no permission, ...
        raise CertkitError(
            f"{source}: cannot list the tables of schema {schema} ({_first_line(exc)})"
        ) from exc
    have = {row["tableName"].lower(): row["tableName"] for row in rows if not row["isTemporary"]}
    missing = [
        t if names[t] == t else f"{t} ({names[t]})"
        for t in required
        if names[t].lower() not in have
    ]
    if missing:
        listed = sorted(have.values())
        shown = ", ".join(listed[:40]) + (
            f", ... ({len(listed) - 40} more)" if len(listed) > 40 else ""
        )
        raise CertkitError(
            f"{source}: schema {schema} has no {', '.join(missing)} table (certkit reads "
            f"{', '.join(required)}, and optionally defects, incidents); it has "
            + (shown or "no tables")
        )
    return {
        t: spark.table(f"{quoted}.`{have[names[t].lower()]}`")
        for t in tables
        if names[t].lower() in have
    }
