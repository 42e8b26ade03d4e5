"""Lazy datasets for the panel: Parquet folders, DuckDB files and Spark catalog tables, scanned
where they live.

``certkit.load`` reads and validates every table into polars memory, which is right for an
organisation of a few thousand engineers. For tens of millions of PRs the panel builder is
pointed at the data instead: :func:`open_dataset` returns a :class:`~certkit.data.dataset.Dataset`
whose tables are polars LazyFrames (``pl.scan_parquet``), DuckDB relations or Spark DataFrames
(:mod:`certkit.data.spark_sources`: catalog tables, Spark Connect, Databricks), and
:func:`certkit.build_panel` runs its query in that engine. These tables are *not* validated
row by row (that needs a full load); the panel checks the columns it reads and their types.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl

from certkit.data.dataset import Dataset, load_people
from certkit.data.panel_engines import collect_polars, complete, empty_table, to_lazy
from certkit.data.read import parquet_parts
from certkit.data.spark_sources import (
    CATALOG_PREFIX,
    catalog_names,
    catalog_tables,
    check_utc,
    spark_session,
)
from certkit.errors import CertkitError

__all__ = ["open_dataset", "spark_session"]

TABLES = ("engineers", "certifications", "pull_requests", "defects", "incidents")
REQUIRED = ("engineers", "certifications", "pull_requests")
SOURCE_ENGINES = ("polars", "duckdb", "spark")


def open_dataset(
    source: str | Path,
    engine: str | None = None,
    *,
    spark_remote: str | None = None,
    session: Any = None,
    memory_limit: str | None = None,
    table_names: Mapping[str, str] | None = None,
) -> Dataset:
    """A lazy :class:`~certkit.data.dataset.Dataset` over a Parquet folder, a DuckDB database
    file or the tables of a Spark catalog schema.

    Parameters
    ----------
    source
        A folder with ``engineers.parquet``, ``certifications.parquet``,
        ``pull_requests.parquet`` (and optionally ``defects``/``incidents``; a table may also
        be a folder of Parquet files, e.g. written in chunks, or partitioned into
        ``column=value`` sub-folders as Spark's ``partitionBy`` writes them), a DuckDB database file
        (``.duckdb``/``.db``) holding tables of those names, or ``"spark:SCHEMA"`` /
        ``"spark:CATALOG.SCHEMA"`` (e.g. ``"spark:main.devprod"``, a Unity Catalog schema on
        Databricks): the tables of those names in that schema, read with ``spark.table``.
    engine
        ``"polars"`` (``pl.scan_parquet``; run the panel with ``streaming=True`` for bounded
        memory), ``"duckdb"`` (relations on one DuckDB connection) or ``"spark"`` (Parquet
        folders with ``spark.read.parquet``, or catalog tables). Default: ``"spark"`` for a
        ``spark:`` source, else ``"polars"``.
    spark_remote
        With ``engine="spark"``: a Spark Connect URL (``sc://host:15002``; Databricks:
        ``sc://WORKSPACE:443/;token=...;x-databricks-cluster-id=...``) to run on instead of
        the active or a new local session. Default: the ``SPARK_REMOTE`` environment
        variable. Its token never appears in certkit's messages. The session stays open
        for the Dataset's DataFrames: stop it (``ds.pull_requests.sparkSession.stop()``)
        when done, or pass a session of your own.
    session
        With ``engine="spark"``: the Spark session to read on, e.g. a Databricks notebook's
        ``spark`` or ``DatabricksSession.builder.getOrCreate()`` (Databricks Connect). Its
        settings are kept; a time zone other than UTC gets a warning.
    memory_limit
        With ``engine="duckdb"``: DuckDB's ``memory_limit`` for the connection opened here
        (e.g. ``"4GB"``; default: DuckDB's own, 80% of RAM). Whatever it is, the connection
        spills to a fresh temporary folder (``temp_directory``; never next to the input
        files, removed when the connection is), does not keep insertion order (the panel
        is sorted anyway) and ``build_panel`` works in engineer buckets of
        :data:`~certkit.data.panel_buckets.BUCKET_PRS` PRs. A connection of your own (tables passed
        to :class:`~certkit.data.dataset.Dataset` directly) keeps your settings.
    table_names
        ``{certkit table: its name in the source}`` for tables named otherwise, e.g.
        ``{"pull_requests": "github_prs"}``: a table of a ``spark:`` schema, a table or view
        of a DuckDB file (``analytics.github_prs`` for another schema), or a Parquet file
        (``github_prs.parquet``) or folder (``github_prs/``) of a folder.

    Returns
    -------
    Dataset
        Tables are polars LazyFrames, DuckDB relations or Spark DataFrames; only
        ``build_panel`` and other lazy-aware functions accept it.
    """
    catalog = isinstance(source, str) and source.startswith(CATALOG_PREFIX)
    engine = engine or ("spark" if catalog else "polars")
    if engine not in SOURCE_ENGINES:
        raise CertkitError(f"engine must be one of {', '.join(SOURCE_ENGINES)}; got {engine!r}")
    _check_options(engine, catalog, spark_remote, session, memory_limit, table_names)
    if catalog:
        catalog_names(str(source), TABLES, table_names)  # before a session is opened
        spark = session if session is not None else spark_session(spark_remote)
        check_utc(spark)
        tables = catalog_tables(str(source), spark, TABLES, REQUIRED, table_names)
    else:
        path = Path(source)
        if not path.exists():
            raise CertkitError(f"{source}: no such data folder or DuckDB file")
        if engine == "spark" and not path.is_dir():
            raise CertkitError(
                f"{source}: the Spark engine reads a folder of Parquet tables or catalog "
                "tables (spark:CATALOG.SCHEMA)"
            )
        names = {t: str((table_names or {}).get(t, t)) for t in TABLES}
        tables = (
            _parquet_tables(path, engine, names, spark_remote, memory_limit, session)
            if path.is_dir()
            else _duckdb_tables(path, engine, names, memory_limit)
        )
    missing = [t for t in REQUIRED if t not in tables]
    if missing:
        renamed = [f"{t} as {table_names[t]}" for t in missing if t in (table_names or {})]
        raise CertkitError(
            f"{source}: no {', '.join(missing)} table (expected {', '.join(REQUIRED)}, "
            "and optionally defects, incidents"
            + (f"; looked for {', '.join(renamed)}" if renamed else "")
            + ")"
        )
    like = nw.from_native(tables["pull_requests"])
    for name in TABLES:
        if name not in tables:
            tables[name] = empty_table(name, like).to_native()
    return Dataset(**tables, source=str(source))


def _check_options(
    engine: str,
    catalog: bool,
    spark_remote: str | None,
    session: Any,
    memory_limit: str | None,
    table_names: Mapping[str, str] | None,
) -> None:
    """Refuse options that do not apply to ``engine`` (rather than ignore them)."""
    if catalog and engine != "spark":
        raise CertkitError(
            f"catalog tables (spark:...) are read with the Spark engine; got engine={engine!r}"
        )
    if engine != "spark" and (spark_remote or session is not None):
        raise CertkitError("spark_remote and session apply with engine='spark' only")
    if spark_remote and session is not None:
        raise CertkitError("give spark_remote or session, not both")
    if memory_limit is not None and engine != "duckdb":
        raise CertkitError(f"memory_limit applies with engine='duckdb' only; got {engine!r}")
    unknown = sorted(set(table_names or {}) - set(TABLES))
    if unknown:
        raise CertkitError(
            f"table_names: {', '.join(unknown)} is not a certkit table ({', '.join(TABLES)})"
        )


def copy_to_duckdb(dataset: Dataset, con: Any, *, prefix: str = "") -> Dataset:
    """Copy an in-memory Dataset into tables of a DuckDB connection.

    Handy to run the DuckDB engine on data already loaded (``certkit.load``,
    ``certkit.simulate``), or to write a DuckDB database file for ``certkit panel --data
    org.duckdb``. The connection's settings (time zone, memory limit) are left as they are.

    Parameters
    ----------
    dataset
        A Dataset of polars DataFrames.
    con
        An open DuckDB connection (``duckdb.connect()`` or ``duckdb.connect("org.duckdb")``).
    prefix
        Put before each table name (``{prefix}engineers``, ...), e.g. to keep two
        organisations on one connection.

    Returns
    -------
    Dataset
        The same dataset whose tables are relations on ``con``.
    """
    tables = {}
    for name, frame in dataset.tables().items():
        arrow = frame.to_arrow()  # noqa: F841 (read by DuckDB's replacement scan)
        con.execute(f'CREATE TABLE "{prefix}{name}" AS SELECT * FROM arrow')
        tables[name] = con.table(f'"{prefix}{name}"')
    return dataclasses.replace(dataset, **tables)


def _parquet_tables(
    folder: Path,
    engine: str,
    names: Mapping[str, str],
    spark_remote: str | None = None,
    memory_limit: str | None = None,
    session: Any = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    con = _duckdb_connect(None, memory_limit) if engine == "duckdb" else None
    spark = None
    if engine == "spark":
        spark = session if session is not None else spark_session(spark_remote)
        check_utc(spark)
    for name in TABLES:
        file, part_dir = folder / f"{names[name]}.parquet", folder / names[name]
        if file.is_file():
            pattern, hive = str(file), False
        elif parts := parquet_parts(part_dir):
            # hive: partitioned (Spark's partitionBy), part_dir/month=2024-01/part-0.parquet
            pattern, hive = parts
        else:
            continue
        if spark is not None:
            found[name] = spark.read.parquet(str(part_dir) if hive else pattern)
        elif con is None:
            found[name] = pl.scan_parquet(pattern, hive_partitioning=hive)
        else:
            found[name] = con.read_parquet(pattern, hive_partitioning=hive)
    if not found:
        raise CertkitError(
            f"{folder}: no Parquet tables (engineers.parquet, pull_requests.parquet, ...); "
            "CSV folders are read with `certkit panel PATH` (no --engine)"
        )
    # a roster or certifications file written by hand (CSV, TSV, NDJSON) beside Parquet
    # tables: small, so read and checked in memory as certkit load does, then handed over
    people = {t: names[t] for t in ("engineers", "certifications") if t not in found}
    if people:
        roster = None
        if "engineers" in found:  # certifications are checked against the Parquet roster
            roster_table = complete("engineers", to_lazy(found["engineers"], "engineers"))
            roster = collect_polars(roster_table.select("engineer_id", "hire_date"))
        for name, frame in load_people(folder, people, roster).items():
            found[name] = _into_engine(name, frame, con, spark)
    return found


def _into_engine(name: str, frame: pl.DataFrame, con: Any, spark: Any) -> Any:
    """A small polars table as a table of the engine the other tables are read with."""
    if spark is not None:
        return spark.createDataFrame(frame.to_arrow())
    if con is None:
        return frame.lazy()
    arrow = frame.to_arrow()  # noqa: F841 (read by DuckDB's replacement scan)
    con.execute(f'CREATE TEMP TABLE "_certkit_{name}" AS SELECT * FROM arrow')
    return con.table(f'"_certkit_{name}"')


def _duckdb_tables(
    file: Path, engine: str, names: Mapping[str, str], memory_limit: str | None = None
) -> dict[str, Any]:
    con = _duckdb_connect(file, memory_limit)
    listed = " UNION ALL ".join(
        f"SELECT schema_name, {kind}_name FROM duckdb_{kind}s()" for kind in ("table", "view")
    )
    existing = set()
    for schema, name in con.execute(listed).fetchall():
        existing |= {name, f"{schema}.{name}"}  # analytics.prs as well as prs
    found: dict[str, Any] = {}
    for table in TABLES:
        name = names[table]
        if name in existing:
            rel = con.table(".".join(f'"{part}"' for part in name.split(".")))
            # polars engine: pull the table into polars (Arrow, zero-copy where possible)
            found[table] = rel.pl().lazy() if engine == "polars" else rel
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
