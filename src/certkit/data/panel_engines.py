"""Engines the panel builder runs on: polars (eager, lazy, streaming), DuckDB, Spark-like.

:func:`certkit.data.panel.build_panel` is written once as narwhals lazy expressions. This module
holds the few engine-specific pieces narwhals does not cover:

* turning a table (polars DataFrame/LazyFrame, DuckDB relation, PySpark/SQLFrame DataFrame)
  into a narwhals LazyFrame, and telling which engine it is;
* building the small table of periods *inside* the engine of the data (a join needs both
  sides on the same DuckDB connection or Spark session);
* the canonical column types of the panel, applied after collecting to polars (engines return
  sums as decimals, HUGEINT or 64-bit integers differently).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import narwhals as nw
import polars as pl

from certkit.data.schema import INT, PLATFORMS, STR, TABLES
from certkit.errors import CertkitError

#: Engines ``build_panel`` runs on, by narwhals implementation name.
ENGINES = ("polars", "duckdb", "pyspark", "pyspark-connect", "sqlframe")

#: Column types of the panel, whatever engine computed it.
PANEL_SCHEMA: dict[str, pl.DataType] = {
    "engineer_id": pl.String(),
    "period": pl.Date(),
    "period_index": pl.Int32(),
    "merged_prs": pl.Int64(),
    "prs_opened": pl.Int64(),
    "cycle_time_log_median": pl.Float64(),
    "cycle_time_log_mean": pl.Float64(),
    "cycle_time_hours_median": pl.Float64(),
    "pickup_time_hours_median": pl.Float64(),
    "defects": pl.Int64(),
    "defects_per_pr": pl.Float64(),
    "incidents": pl.Int64(),
    "reverts": pl.Int64(),
    "revert_rate": pl.Float64(),
    "ai_prs": pl.Float64(),
    "ai_share": pl.Float64(),
    "lines_changed": pl.Int64(),
    "rework_rate": pl.Float64(),
    "cohort": pl.Int32(),
    "event_time": pl.Int32(),
    "post": pl.Boolean(),
    "certification": pl.String(),
    "earned_date": pl.Date(),
    "team": pl.String(),
    "role": pl.String(),
    "level": pl.String(),
    "platform": pl.String(),
    "hire_date": pl.Date(),
    "tenure_months": pl.Float64(),
}


def to_lazy(table: Any, name: str) -> nw.LazyFrame:
    """A narwhals LazyFrame over ``table`` (any engine narwhals knows), its columns named as
    ``certkit load`` names them (lower case, known aliases such as ``created_at``; see
    :meth:`~certkit.data.schema.Table.canonical_names`)."""
    try:
        frame = nw.from_native(table)
    except TypeError as exc:
        raise CertkitError(
            f"table {name}: expected a polars DataFrame/LazyFrame, a DuckDB relation or a "
            f"Spark DataFrame; got {type(table).__name__}"
        ) from exc
    frame = frame.lazy() if isinstance(frame, nw.DataFrame) else frame
    have = frame.collect_schema().names()
    names = TABLES[name].canonical_names(have)
    if names == have:
        return frame
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise CertkitError(
            f"table {name}: duplicate column name(s) {', '.join(repeated)} (names are read "
            "ignoring case and surrounding spaces, with known aliases such as created_at)"
        )
    return frame.rename({old: new for old, new in zip(have, names, strict=True) if old != new})


def engine_of(frame: nw.LazyFrame) -> str:
    """Name of the engine behind ``frame`` (one of :data:`ENGINES`)."""
    impl = frame.implementation
    if impl.is_polars():
        return "polars"
    if impl.is_duckdb():
        return "duckdb"
    if impl.is_pyspark():
        return "pyspark"
    if impl.is_pyspark_connect():
        return "pyspark-connect"
    if impl.is_sqlframe():
        return "sqlframe"
    raise CertkitError(
        f"the panel builder does not run on {impl}; use polars, DuckDB or Spark tables"
    )


def same_engine(tables: dict[str, nw.LazyFrame]) -> str:
    """The one engine all tables share, or a clear error naming the odd table."""
    engines = {name: engine_of(frame) for name, frame in tables.items()}
    first = engines["pull_requests"]
    odd = {name: e for name, e in engines.items() if e != first}
    if odd:
        listed = ", ".join(f"{n} ({e})" for n, e in odd.items())
        raise CertkitError(
            f"all tables must live in one engine: pull_requests is {first} but {listed}; "
            "load them from the same place (e.g. one DuckDB connection)"
        )
    return first


def periods_table(like: nw.LazyFrame, periods: list[date]) -> nw.LazyFrame:
    """The table ``period`` (date), ``period_index`` (1..T) in the engine of ``like``."""
    index = list(range(1, len(periods) + 1))
    engine = engine_of(like)
    if engine == "polars":
        native: Any = pl.LazyFrame(
            {"period": periods, "period_index": index},
            schema={"period": pl.Date, "period_index": pl.Int32},
        )
    elif engine == "duckdb":
        rows = ", ".join(
            f"(DATE '{p.isoformat()}', {i}::INTEGER)" for p, i in zip(periods, index, strict=True)
        )
        # ``query`` runs on the relation's own connection, so the join below stays on it.
        native = like.to_native().query(
            "_certkit_any", f"SELECT * FROM (VALUES {rows}) AS v(period, period_index)"
        )
    else:  # PySpark, Spark Connect, SQLFrame: the session that made the data
        df = like.to_native()
        session = getattr(df, "sparkSession", None) or getattr(df, "session", None)
        if session is None:
            raise CertkitError(f"cannot find the Spark session of a {engine} table")
        native = session.createDataFrame(
            list(zip(periods, index, strict=True)), schema="period date, period_index int"
        )
    return nw.from_native(native)


def epoch_days(expr: nw.Expr) -> nw.Expr:
    """Days since 1970-01-01 of a date or naive datetime, by proleptic Gregorian arithmetic."""
    y = expr.dt.year().cast(nw.Int64)
    return (
        365 * (y - 1970)
        + floor_div(y - 1969, 4)
        - floor_div(y - 1901, 100)
        + floor_div(y - 1601, 400)
        + expr.dt.ordinal_day().cast(nw.Int64)
        - 1
    )


def floor_div(expr: nw.Expr, divisor: int) -> nw.Expr:
    """``expr // divisor`` for an integer ``expr`` and a positive integer ``divisor``, as Int64.

    narwhals' Spark-like ``//`` and ``/`` repeat their left side four times (to return
    inf/NaN on division by zero), which nested calendar arithmetic multiplies into megabytes
    of plan (and minutes of SQLFrame/Spark query building). Here ``expr`` appears once:
    ``floor((expr + 0.5) * (1 / divisor))``. Exact while ``|expr|`` stays far below 2**40:
    the true quotient plus ``0.5 / divisor`` is at least ``0.5 / divisor`` from the next
    integer, and the floating-point error is below ``|expr| * 2**-51 / divisor``.
    """
    if divisor < 1:
        raise ValueError(f"divisor must be a positive integer; got {divisor}")
    return ((expr.cast(nw.Float64) + 0.5) * (1.0 / divisor)).floor().cast(nw.Int64)


def portable_seconds(later: nw.Expr, earlier: nw.Expr) -> nw.Expr:
    """Whole seconds from ``earlier`` to ``later`` (truncated toward 0) from calendar parts.

    For engines whose narwhals backend lacks duration arithmetic (Spark-like). Written
    without dividing (see :func:`floor_div`), and with each calendar part appearing once.
    """
    secs = _epoch_seconds(later) - _epoch_seconds(earlier)
    micros = later.dt.microsecond().cast(nw.Int64) - earlier.dt.microsecond().cast(nw.Int64)
    # |micros| < 1 s, so only a sign mismatch between ``secs`` and ``micros`` moves the
    # truncated value (toward 0). ``secs > 0 and micros < 0`` is ``later > earlier and
    # micros < 0`` (and likewise for < 0), so ``secs`` itself appears once.
    step = (
        nw.when((later > earlier) & (micros < 0))
        .then(nw.lit(-1, nw.Int64))
        .when((later < earlier) & (micros > 0))
        .then(nw.lit(1, nw.Int64))
        .otherwise(nw.lit(0, nw.Int64))
    )
    return (secs + step).cast(nw.Int64)


def _epoch_seconds(expr: nw.Expr) -> nw.Expr:
    return (
        epoch_days(expr) * 86400
        + expr.dt.hour().cast(nw.Int64) * 3600
        + expr.dt.minute().cast(nw.Int64) * 60
        + expr.dt.second().cast(nw.Int64)
    )


def collect_polars(frame: nw.LazyFrame, *, streaming: bool = False) -> pl.DataFrame:
    """Run the query in its engine and bring the (small) result back as polars."""
    if frame.implementation.is_polars():
        native = frame.to_native()
        return native.collect(engine="streaming") if streaming else native.collect()
    return frame.collect("polars").to_native()


#: Columns the panel reads, per table: (type, required). Optional ones absent from a lazy
#: source (a warehouse table, a Parquet file certkit did not write) are added as nulls.
PANEL_INPUTS: dict[str, dict[str, tuple[Any, bool]]] = {
    "engineers": {
        "engineer_id": (nw.String, True),
        "hire_date": (nw.Date, True),
        "team": (nw.String, False),
        "role": (nw.String, False),
        "level": (nw.String, False),
        "platform": (nw.String, False),
        "leave_date": (nw.Date, False),
        "is_bot": (nw.Boolean, False),
    },
    "certifications": {
        "engineer_id": (nw.String, True),
        "earned_date": (nw.Date, True),
        "certification_id": (nw.String, False),
    },
    "pull_requests": {
        "id": (nw.String, True),
        "author_id": (nw.String, True),
        "created_date": (nw.Datetime("us"), True),
        "merged_date": (nw.Datetime("us"), True),
        "first_review_date": (nw.Datetime("us"), False),
        "additions": (nw.Int64, False),
        "deletions": (nw.Int64, False),
        "ai_assisted": (nw.Float64, False),
        "reverted": (nw.Boolean, False),
    },
    "defects": {
        "created_date": (nw.Datetime("us"), True),
        "id": (nw.String, False),  # named in the fix-link warning (certkit.data.panel_links)
        "pr_id": (nw.String, False),
        "engineer_id": (nw.String, False),
    },
    "incidents": {
        "created_date": (nw.Datetime("us"), True),
        "id": (nw.String, False),
        "pr_id": (nw.String, False),
        "engineer_id": (nw.String, False),
    },
}


#: narwhals type of each column kind of :mod:`certkit.data.schema`.
_KIND_TYPES = {STR: nw.String, INT: nw.Int64}


def complete(name: str, frame: nw.LazyFrame) -> nw.LazyFrame:
    """The columns the panel reads: optional ones absent added as nulls, the rest dropped.

    Refuses a missing required column, and a column of a type the panel cannot read (see
    :func:`conform`). Dropping the others (titles, repositories, ...) keeps every step of
    the query narrow, which matters to engines that rebuild their plan at each step
    (SQLFrame).
    """
    have = frame.collect_schema().names()
    wanted = PANEL_INPUTS[name]
    missing = [c for c, (_, required) in wanted.items() if required and c not in have]
    if missing:
        raise CertkitError(
            f"table {name}: missing column(s) {', '.join(missing)} needed by the panel "
            f"(it has: {', '.join(have)})"
        )
    frame, refused = conformed(name, frame)
    if refused:
        raise refused[0]
    columns: list[nw.Expr] = []
    for column, (dtype, _) in wanted.items():
        if column == "certification_id" and "certification" in have:
            # from the names, as certkit load derives it (a file's own id column is not used)
            columns.append(catalog_ids(frame).alias(column))
        elif column in have:
            columns.append(nw.col(column))
        elif column == "is_bot":
            columns.append(nw.lit(False).alias(column))
        else:
            columns.append(nw.lit(None, dtype).alias(column))
    columns += [nw.col(c) for c in have if c not in wanted and _optional_type(name, c)]
    if name == "certifications" and "certification" in have:
        frame = frame.filter(counted_certifications(frame, have))
    frame = frame.select(*columns)
    if name == "engineers":
        return _as_load_reads_engineers(frame)
    return _as_load_reads_prs(frame) if name == "pull_requests" else frame


def _as_load_reads_prs(prs: nw.LazyFrame) -> nw.LazyFrame:
    """The PR rules ``certkit load`` applies (:func:`certkit.data.validate.check_pull_requests`):
    a PR merged before it was created is left out, a first review before creation is
    unknown. (``load`` refuses the whole table when such PRs are many; here they are left
    out whatever their number: ``certkit panel --validate`` counts them.)"""
    before = (nw.col("merged_date") < nw.col("created_date")).fill_null(False)
    early_review = (nw.col("first_review_date") < nw.col("created_date")).fill_null(False)
    return prs.filter(~before).with_columns(
        nw.when(~early_review).then(nw.col("first_review_date")).alias("first_review_date")
    )


def _as_load_reads_engineers(engineers: nw.LazyFrame) -> nw.LazyFrame:
    """The roster rules ``certkit load`` applies (:func:`certkit.data.validate.check_engineers`):
    an unknown ``is_bot`` is false and an id ending in ``[bot]`` is a bot; ``platform`` in
    lower case, one outside :data:`~certkit.data.schema.PLATFORMS` read as ``other``."""
    platform = nw.col("platform").cast(nw.String).str.to_lowercase()
    return engineers.with_columns(
        (nw.col("is_bot").fill_null(False) | nw.col("engineer_id").str.ends_with("[bot]")).alias(
            "is_bot"
        ),
        nw.when(platform.is_in(PLATFORMS) | platform.is_null())
        .then(platform)
        .otherwise(nw.lit("other"))
        .alias("platform"),
    )


def _optional_type(table: str, column: str) -> Any:
    """The type of a column the panel reads when present, known by a name pattern of
    :attr:`~certkit.data.schema.Table.patterns` (``churned_lines_21d``); None: not one."""
    kind = TABLES[table].pattern_kind(column)
    return None if kind is None else _KIND_TYPES[kind]


#: What each expected type is called in messages.
_TYPE_WORDS = {
    nw.String: "text (an id or a name)",
    nw.Date: "a date",
    nw.Datetime: "a timestamp",
    nw.Int64: "an integer",
    nw.Float64: "a number",
    nw.Boolean: "true/false",
}


class ColumnTypeError(CertkitError):
    """A column whose type the panel cannot read (text where a date belongs, ...)."""

    def __init__(self, table: str, column: str, have: Any, want: Any):
        self.table, self.column = table, column
        base = want if isinstance(want, type) else type(want)
        self.expected = (
            f"expected {_TYPE_WORDS[base]}; the source has {have}. Convert it where the data "
            f"lives (e.g. CAST({column} AS {_SQL_TYPES[base]})), or load the folder with "
            "`certkit load`, which parses text"
        )
        super().__init__(f"table {table}, column {column}: {self.expected}")


def conform(table: str, column: str, have: Any, want: Any) -> nw.Expr | None:
    """``column`` in the type the panel reads (``want``), from the source's type ``have``
    (None: it has that type already; any datetime unit or time zone is a timestamp).

    Lossless or conventional conversions are made where the data lives: integer ids to
    text, categoricals to text, timestamps to dates (``hire_date``), dates to midnight
    timestamps, integers and decimals to Int64 (floats too, NaN as unknown), numbers and
    booleans to Float64, integers to booleans (0 false). Anything else (text dates, text
    numbers, ...) raises :class:`ColumnTypeError`, naming the table and column: the panel
    does not guess how a warehouse formatted its text.
    """
    col = nw.col(column)
    base = want if isinstance(want, type) else type(want)
    if have == want or (base is nw.Datetime and isinstance(have, nw.Datetime)):
        return None
    if base is nw.String and (have.is_integer() or have in (nw.Categorical, nw.Enum)):
        return col.cast(nw.String)
    if base is nw.Date and isinstance(have, nw.Datetime):
        return col.cast(nw.Date)
    if base is nw.Datetime and have == nw.Date:
        return col.cast(nw.Datetime("us"))
    if base is nw.Int64 and (have.is_integer() or have.is_decimal()):
        return col.cast(nw.Int64)
    if base is nw.Int64 and have.is_float():
        return nw.when(~col.is_nan()).then(col).cast(nw.Int64).alias(column)
    if base is nw.Float64 and (have.is_numeric() or have == nw.Boolean):
        return col.cast(nw.Float64)
    if base is nw.Boolean and have.is_integer():
        return (col != 0).alias(column)
    raise ColumnTypeError(table, column, have, want)


def conformed(name: str, frame: nw.LazyFrame) -> tuple[nw.LazyFrame, list[ColumnTypeError]]:
    """``frame`` with the columns the panel reads converted by :func:`conform` (the others
    kept as they are), and the columns it cannot read."""
    schema = frame.collect_schema()
    wanted = {c: dtype for c, (dtype, _) in PANEL_INPUTS[name].items()}
    converted, refused = [], []
    for column, have in schema.items():
        want = wanted.get(column) or _optional_type(name, column)
        if want is None:
            continue
        try:
            expr = conform(name, column, have, want)
        except ColumnTypeError as exc:
            refused.append(exc)
            continue
        if expr is not None:
            converted.append(expr.alias(column))
    return (frame.with_columns(*converted) if converted else frame), refused


_SQL_TYPES = {
    nw.String: "VARCHAR",
    nw.Date: "DATE",
    nw.Datetime: "TIMESTAMP",
    nw.Int64: "BIGINT",
    nw.Float64: "DOUBLE",
    nw.Boolean: "BOOLEAN",
}


def catalog_ids(certifications: nw.LazyFrame) -> nw.Expr:
    """``certification_id`` from the ``certification`` names as ``certkit.load`` sets it:
    the catalog id of a known name or alias (``"AWS Certified Machine Learning - Specialty"``
    -> ``"aws-mls-c01"``), else the name itself. The distinct names (a few) are read from the
    engine and mapped in Python; the mapping runs in the engine as one CASE expression."""
    from certkit.data.catalog import resolve

    names = collect_polars(certifications.select("certification").unique())["certification"]
    name = nw.col("certification").cast(nw.String)
    mapped = [(n, i) for n in names.drop_nulls().to_list() if (i := resolve(n, ml=None)) and i != n]
    if not mapped:
        return name
    case = nw.when(name == mapped[0][0]).then(nw.lit(mapped[0][1]))
    for n, i in mapped[1:]:
        case = case.when(name == n).then(nw.lit(i))
    return case.otherwise(name)


def counted_certifications(certifications: nw.LazyFrame, have: list[str]) -> nw.Expr:
    """The rows ``certkit.load`` counts as the treatment
    (:mod:`certkit.data.certification_checks`): not a revoked, rejected or pending badge
    (``status``); not a certification the catalog knows is not an ML one, unless ``ml`` is
    true; not ``ml`` false. (``load`` warns about the rows left out; ``certkit validate``
    on the folder names them.)"""
    from certkit.data import certification_checks as cc

    names = collect_polars(certifications.select("certification").unique())["certification"]
    non_ml = cc.non_ml_names(names.cast(pl.String))

    def word(column: str) -> nw.Expr:
        return nw.col(column).cast(nw.String).str.strip_chars().str.to_lowercase()

    # true on every row, as a column expression: narwhals refuses a bare literal in filter
    # ("Expressions which aggregate or change length"), which a roster of ML names alone gave
    known = nw.col("certification").is_null()
    keep = known | ~known
    if "status" in have:
        keep = keep & ~word("status").is_in(cc.LEFT_OUT_STATUSES).fill_null(False)
    said_true = word("ml").is_in(cc.TRUE_WORDS).fill_null(False) if "ml" in have else nw.lit(False)
    if "ml" in have:
        keep = keep & ~word("ml").is_in(cc.FALSE_WORDS).fill_null(False)
    if non_ml:
        other = nw.col("certification").cast(nw.String).is_in(non_ml).fill_null(False)
        keep = keep & (~other | said_true)
    return keep


def empty_table(name: str, like: nw.LazyFrame) -> nw.LazyFrame:
    """An empty ``name`` table (the columns the panel reads) in the engine of ``like``."""
    wanted = PANEL_INPUTS[name]
    return like.select(
        nw.lit(None, dtype).alias(column) for column, (dtype, _) in wanted.items()
    ).filter(~nw.col(next(iter(wanted))).is_null())  # all null: no row passes


def utc_naive(frame: nw.LazyFrame) -> nw.LazyFrame:
    """Time-zone-aware datetimes converted to UTC and made naive (the Dataset convention)."""
    aware = [
        name
        for name, dtype in frame.collect_schema().items()
        if isinstance(dtype, nw.Datetime) and dtype.time_zone is not None
    ]
    if not aware:
        return frame
    return frame.with_columns(
        nw.col(n).dt.convert_time_zone("UTC").dt.replace_time_zone(None) for n in aware
    )
