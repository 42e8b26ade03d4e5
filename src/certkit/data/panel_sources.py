"""Lazy datasets for the panel: Parquet folders and DuckDB files, scanned where they live.

``certkit.load`` reads and validates every table into polars memory, which is right for an
organisation of a few thousand engineers. For tens of millions of PRs the panel builder is
pointed at the data instead: :func:`open_dataset` returns a :class:`~certkit.data.dataset.Dataset`
whose tables are polars LazyFrames (``pl.scan_parquet``) or DuckDB relations, and
:func:`certkit.build_panel` runs its query in that engine. These tables are *not* validated
row by row (that needs a full load); the panel checks the columns it reads and their types.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl

from certkit.data.dataset import Dataset
from certkit.data.panel_engines import empty_table
from certkit.errors import CertkitError

TABLES = ("engineers", "certifications", "pull_requests", "defects", "incidents")
REQUIRED = ("engineers", "certifications", "pull_requests")
SOURCE_ENGINES = ("polars", "duckdb", "spark")


def open_dataset(
    source: str | Path,
    engine: str = "polars",
    *,
    spark_remote: str | None = None,
    memory_limit: str | None = None,
) -> Dataset:
    """A lazy :class:`~certkit.data.dataset.Dataset` over a Parquet folder or a DuckDB database file.

    Parameters
    ----------
    source
        A folder with ``engineers.parquet``, ``certifications.parquet``,
        ``pull_requests.parquet`` (and optionally ``defects``/``incidents``; a table may also
        be a folder of Parquet files, e.g. written in chunks), or a DuckDB database file
        (``.duckdb``/``.db``) holding tables of those names.
    engine
        ``"polars"`` (``pl.scan_parquet``; run the panel with ``streaming=True`` for bounded
        memory), ``"duckdb"`` (relations on one DuckDB connection) or ``"spark"``
        (``spark.read.parquet`` on the active Spark session, else a new local one; Parquet
        folders only).
    spark_remote
        With ``engine="spark"``: a Spark Connect URL (``sc://host:15002``) to run on instead
        of a local session.
    memory_limit
        With ``engine="duckdb"``: DuckDB's ``memory_limit`` for the connection opened here
        (e.g. ``"4GB"``; default: DuckDB's own, 80% of RAM). Whatever it is, the connection
        spills to a fresh temporary folder (``temp_directory``; never next to the input
        files, removed when the connection is), does not keep insertion order (the panel
        is sorted anyway) and ``build_panel`` works in engineer buckets of
        :data:`~certkit.data.panel.BUCKET_PRS` PRs. A connection of your own (tables passed
        to :class:`~certkit.data.dataset.Dataset` directly) keeps your settings.

    Returns
    -------
    Dataset
        Tables are polars LazyFrames or DuckDB relations; only ``build_panel`` and other
        lazy-aware functions accept it.
    """
    if engine not in SOURCE_ENGINES:
        raise CertkitError(f"engine must be one of {', '.join(SOURCE_ENGINES)}; got {engine!r}")
    path = Path(source)
    if not path.exists():
        raise CertkitError(f"{source}: no such data folder or DuckDB file")
    if engine == "spark" and not path.is_dir():
        raise CertkitError(f"{source}: the Spark engine reads a folder of Parquet tables")
    tables = (
        _parquet_tables(path, engine, spark_remote, memory_limit)
        if path.is_dir()
        else _duckdb_tables(path, engine, memory_limit)
    )
    missing = [t for t in REQUIRED if t not in tables]
    if missing:
        raise CertkitError(
            f"{source}: no {', '.join(missing)} table (expected {', '.join(REQUIRED)}, "
            "and optionally defects, incidents)"
        )
    like = nw.from_native(tables["pull_requests"])
    for name in TABLES:
        if name not in tables:
            tables[name] = empty_table(name, like).to_native()
    return Dataset(**tables, source=str(source))


def _parquet_tables(
    folder: Path, engine: str, spark_remote: str | None = None, memory_limit: str | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    con = _duckdb_connect(None, memory_limit) if engine == "duckdb" else None
    spark = spark_session(spark_remote) if engine == "spark" else None
    for name in TABLES:
        file, part_dir = folder / f"{name}.parquet", folder / name
        if file.is_file():
            pattern = str(file)
        elif part_dir.is_dir() and any(part_dir.glob("*.parquet")):
            pattern = str(part_dir / "*.parquet")
        else:
            continue
        if spark is not None:
            found[name] = spark.read.parquet(pattern)
        elif con is None:
            found[name] = pl.scan_parquet(pattern)
        else:
            found[name] = con.read_parquet(pattern)
    if not found:
        raise CertkitError(
            f"{folder}: no Parquet tables (engineers.parquet, pull_requests.parquet, ...); "
            "CSV folders are read with `certkit panel PATH` (no --engine)"
        )
    return found


def _duckdb_tables(file: Path, engine: str, memory_limit: str | None = None) -> dict[str, Any]:
    con = _duckdb_connect(file, memory_limit)
    names = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    names |= {row[0] for row in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    found: dict[str, Any] = {}
    for name in TABLES:
        if name in names:
            rel = con.table(name)
            # polars engine: pull the table into polars (Arrow, zero-copy where possible)
            found[name] = rel.pl().lazy() if engine == "polars" else rel
    return found


def _duckdb_connect(file: Path | None, memory_limit: str | None = None) -> Any:
    """A DuckDB connection (read-only for a file) set up for the panel: UTC, spilling to a
    fresh temporary folder, no insertion order, ``memory_limit`` if given."""
    try:
        import duckdb
    except ModuleNotFoundError as exc:
        raise CertkitError(
            "the DuckDB engine needs the duckdb package: pip install 'certkit[duckdb]'"
        ) from exc
    try:
        con = duckdb.connect(str(file), read_only=True) if file else duckdb.connect()
    except duckdb.Error as exc:
        raise CertkitError(f"{file}: not a DuckDB database ({exc})") from exc
    con.execute("SET TimeZone = 'UTC'")  # dates of TIMESTAMPTZ columns are UTC dates
    # DuckDB's default spill folder is next to the database file (or in the working
    # directory): use a fresh one, removed with the connection
    spill = tempfile.mkdtemp(prefix="certkit-duckdb-")
    weakref.finalize(con, shutil.rmtree, spill, ignore_errors=True)
    con.execute("SET temp_directory = ?", [spill])
    con.execute("SET preserve_insertion_order = false")  # the panel is sorted at the end
    if memory_limit is not None:
        try:
            con.execute("SET memory_limit = ?", [memory_limit])
        except duckdb.Error as exc:
            raise CertkitError(
                f"memory_limit must be a DuckDB memory size such as '4GB'; got {memory_limit!r}"
            ) from exc
    return con


def spark_session(remote: str | None = None) -> Any:
    """The active Spark session, a Spark Connect one (``remote``) or a new local one.

    A new local session runs on all cores (``local[*]``) with its SQL time zone set to UTC
    (the Dataset convention: naive datetimes are UTC). Needs ``pip install 'certkit[spark]'``
    and Java 17 or newer.
    """
    try:
        from pyspark.sql import SparkSession
    except ModuleNotFoundError as exc:
        raise CertkitError(
            "the Spark engine needs pyspark: pip install 'certkit[spark]' (and Java 17+)"
        ) from exc
    if remote:
        return _connect_session(remote)
    builder = SparkSession.builder.config("spark.sql.session.timeZone", "UTC")
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    try:
        return builder.master("local[*]").appName("certkit").getOrCreate()
    except Exception as exc:  # no Java, or a Java too old for Spark 4
        raise CertkitError(
            f"could not start a local Spark session ({exc}); Spark 4 needs Java 17 or newer "
            "(Debian: apt-get install openjdk-17-jre-headless)"
        ) from exc


def _connect_session(remote: str) -> Any:
    """A Spark Connect session on ``remote`` (session time zone UTC). The Connect builder
    is used directly: ``SparkSession.builder.remote`` refuses while a classic session runs in
    this process (a notebook's, a test's)."""
    try:
        from pyspark.sql.connect.session import SparkSession as ConnectSession
    except ImportError as exc:  # pyspark without its ``connect`` dependencies (grpcio, ...)
        raise CertkitError(
            f"Spark Connect needs pyspark's connect dependencies ({exc}): "
            "pip install 'certkit[spark]'"
        ) from exc
    builder = ConnectSession.builder.remote(remote)
    return builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()
