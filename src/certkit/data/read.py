"""Read certkit's input files and convert each column to its type.

``read_file`` decodes one CSV / TSV / Parquet / NDJSON file (see :mod:`certkit.data.textio`),
``prepare`` renames column aliases and converts every schema column, and ``parse_datetime``
reads any of the supported date families. Problems are reported through a
:class:`certkit.data.validate.Collector`, naming the file, column and line. Input files are only
read, never written.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import polars as pl

from certkit.data.schema import (
    BOOL,
    DATE,
    DATETIME,
    FLOAT,
    INT,
    SHARE,
    STR,
    Table,
    optional,
    plain_name,
)
from certkit.data.textio import decode, excel_serial_hint, first_row, header_problems
from certkit.data.validate import ROW, Collector, Problem, ValidationReport
from certkit.errors import CertkitError

SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
DTYPES = {
    STR: pl.String,
    DATE: pl.Date,
    DATETIME: pl.Datetime("us"),
    INT: pl.Int64,
    FLOAT: pl.Float64,
    BOOL: pl.Boolean,
    SHARE: pl.Float64,
}
TRUE = ("true", "t", "yes", "y", "1", "1.0")
FALSE = ("false", "f", "no", "n", "0", "0.0")

# Date formats, grouped by family; a column is read with the one family that parses most of it.
ISO_FORMATS = [
    ("%Y-%m-%dT%H:%M:%S%.f%z", True),
    ("%Y-%m-%d %H:%M:%S%.f%z", True),
    ("%Y-%m-%dT%H:%M:%S%.f", False),
    ("%Y-%m-%d %H:%M:%S%.f", False),
    ("%Y-%m-%dT%H:%M%z", True),
    ("%Y-%m-%dT%H:%M", False),
    ("%Y-%m-%d %H:%M", False),
    ("%Y-%m-%d", False),
    ("%Y/%m/%d %H:%M:%S", False),
    ("%Y/%m/%d", False),
]
DATE_FAMILIES = {
    "ISO 8601 (YYYY-MM-DD[THH:MM:SS][+HH:MM|Z])": ISO_FORMATS,
    "month-first (MM/DD/YYYY [HH:MM])": [
        ("%m/%d/%Y %H:%M:%S", False),
        ("%m/%d/%Y %H:%M", False),
        ("%m/%d/%Y %I:%M %p", False),
        ("%m/%d/%Y", False),
    ],
    "day-first (DD/MM/YYYY [HH:MM])": [
        ("%d/%m/%Y %H:%M:%S", False),
        ("%d/%m/%Y %H:%M", False),
        ("%d.%m.%Y %H:%M", False),
        ("%d.%m.%Y", False),
        ("%d/%m/%Y", False),
    ],
    "Jira (DD/Mon/YY h:mm AM)": [
        ("%d/%b/%y %I:%M %p", False),
        ("%d/%b/%Y %I:%M %p", False),
        ("%d/%b/%y", False),
        ("%d %b %Y %H:%M", False),
        ("%d %b %Y", False),
    ],
}


def empty_frame(table: Table) -> pl.DataFrame:
    return pl.DataFrame(schema={c.name: DTYPES[c.kind] for c in table.columns})


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------


def parquet_parts(folder: Path) -> tuple[str, bool] | None:
    """A folder of Parquet parts as Spark, DuckDB or pandas write a table: the glob of its
    files and whether it is partitioned into ``column=value`` folders (Spark's
    ``partitionBy``, Hive), whose column is then read from the folder names. None: not one.
    """
    if not folder.is_dir():
        return None
    if any(folder.glob("*.parquet")):
        return str(folder / "*.parquet"), False
    if any(folder.glob("*=*/**/*.parquet")):
        return str(folder / "**" / "*.parquet"), True
    return None


def file_format(path: Path) -> str:
    """``csv``, ``parquet`` or ``ndjson``: a file's format from its suffix; a folder of
    Parquet parts is ``parquet``."""
    return "parquet" if path.is_dir() else SUFFIXES[path.suffix.lower()]


def find_file(folder: Path, table: Table, report: ValidationReport) -> Path | None:
    """The one file (or folder of Parquet parts) of ``table`` in ``folder``, else None."""
    found = [p for p in sorted(folder.glob(f"{table.name}.*")) if p.suffix.lower() in SUFFIXES]
    if parquet_parts(folder / table.name):
        found.append(folder / table.name)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        report.problems.append(
            Problem(
                "error",
                table.name,
                f"several files for one table ({names}); keep exactly one",
                file=found[0].name,
            )
        )
        return None
    return found[0] if found else None


def read_file(path: Path, col: Collector) -> pl.DataFrame | None:
    fmt = file_format(path)
    if path.is_dir():
        pattern, hive = parquet_parts(path) or (str(path / "*.parquet"), False)
        try:
            return pl.read_parquet(pattern, hive_partitioning=hive)
        except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            col.add("error", f"could not be read as a folder of Parquet parts: {first}")
            return None
    if path.stat().st_size == 0:
        col.add("error", "file is empty (no header, no rows)")
        return None
    try:
        if fmt == "parquet":
            return pl.read_parquet(path)
        text, note = decode(path.read_bytes(), path.name)
        if note:
            col.add("warning", note)
        if fmt == "ndjson":
            return pl.read_ndjson(io.StringIO(text), infer_schema_length=None)
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        for problem in header_problems(first_row(text, sep)):
            col.add("error", problem, rows=[0])
            return None
        df = pl.read_csv(io.StringIO(text), separator=sep, infer_schema=False)
    except CertkitError as exc:
        col.add("error", str(exc).removeprefix(f"{path.name}: "))
        return None
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        col.add("error", f"could not be read as {fmt.upper()}: {first}")
        return None
    return df


# ---------------------------------------------------------------------------------------------
# Type conversion
# ---------------------------------------------------------------------------------------------


def as_text(s: pl.Series) -> pl.Series:
    if s.dtype == pl.String:
        out = s.str.strip_chars()
        return out.set(out == "", None) if out.len() else out
    return s.cast(pl.String)


#: The date order (family) one table's column settled unambiguously while a dataset's tables
#: are read (``{"family": ..., "where": "engineers.hire_date"}``), used for a later column
#: whose dates fit two orders; None outside :func:`date_order_scope`.
_DATE_ORDER: ContextVar[dict | None] = ContextVar("certkit_date_order", default=None)


@contextmanager
def date_order_scope() -> Iterator[None]:
    """Read a dataset's tables under one date order: a column whose dates fit both month-first
    and day-first takes the order an earlier column proved (a roster with 31/03/2025), not
    month-first by default (trial C: a certifications file whose days were all 12 or less
    was read month-first beside a day-first roster)."""
    token = _DATE_ORDER.set({})
    try:
        yield
    finally:
        _DATE_ORDER.reset(token)


def parse_datetime(raw: pl.Series, col: Collector, name: str, local: bool = False) -> pl.Series:
    """Parse dates/datetimes; timezone-aware values are converted to UTC and made naive.

    A column is read with the date family that parses most of its values (ISO, month-first,
    day-first, Jira's); ISO 8601 values are read as ISO whatever the family, since they are
    unambiguous (a roster written as 31/03/2025 beside ISO dates the import added). A
    two-digit year (``01/14/25``, Credly's short format) is read as 2000-2068 or 1969-1999,
    as Python's ``%y`` does, with a warning; never as year 25. With ``local`` (date columns)
    a UTC offset is dropped, not applied: ``2025-09-22 00:15 +02:00`` is 22 September.
    """
    if raw.dtype == pl.Datetime:
        tz = raw.dtype.time_zone
        s = raw.dt.convert_time_zone("UTC").dt.replace_time_zone(None) if tz else raw
        return s.cast(pl.Datetime("us"))
    if raw.dtype == pl.Date:
        return raw.cast(pl.Datetime("us"))
    text = _offsets_normalized(raw)
    if local:
        text = text.str.replace(r"(\d)\s*[+-]\d\d:\d\d$", "$1")
    parses = {
        family: _parse_family(text, formats, name) for family, formats in DATE_FAMILIES.items()
    }
    iso = next(iter(parses))
    best, best_n, fitting, filled = None, -1, [], {}
    for family, parsed in parses.items():
        if family != iso:
            parsed = parses[iso].fill_null(parsed)
        filled[family] = parsed
        n = parsed.is_not_null().sum()
        if n == text.is_not_null().sum() and n > 0:
            fitting.append(family)
        if n > best_n:
            best, best_n = parsed, n
    if iso in fitting:  # every value is ISO: nothing to doubt
        best, fitting = parses[iso], [iso]
    order = _DATE_ORDER.get()
    if order is not None and len(fitting) == 1 and fitting[0] != iso and "family" not in order:
        order.update(family=fitting[0], where=f"{col.table}.{name}")
    if len(fitting) > 1 and order and order.get("family") in fitting:
        best = filled[order["family"]]
        col.add(
            "warning",
            f"dates fit both {fitting[0]} and {fitting[1]}; read as {order['family']}, the "
            f"order of {order['where']} (whose dates fit only that order). Use ISO 8601 "
            "(YYYY-MM-DD) to remove the doubt.",
            name,
        )
    elif len(fitting) > 1:
        col.add(
            "warning",
            f"dates fit both {fitting[0]} and {fitting[1]}; read as {fitting[0]}. "
            "Use ISO 8601 (YYYY-MM-DD) to remove the doubt.",
            name,
        )
    short = text.str.contains(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2}(?:\D|$)").fill_null(False)
    short = short & best.is_not_null() & (best.dt.year() < 100)
    if short.any():
        century = pl.when(best.dt.year() < 69).then(pl.lit("2000y")).otherwise(pl.lit("1900y"))
        frame = pl.DataFrame({"d": best, "short": short})
        best = (
            frame.select(
                pl.when(pl.col("short"))
                .then(pl.col("d").dt.offset_by(century))
                .otherwise(pl.col("d"))
            )
            .to_series()
            .alias(name)
        )
        col.add(
            "warning",
            f"{int(short.sum())} date(s) have a two-digit year (such as "
            f"{text.filter(short)[0]!r}), read as 20YY up to 2068 and 19YY from 69; use "
            "four-digit years to remove the doubt",
            name,
        )
    return best


def _offsets_normalized(raw: pl.Series) -> pl.Series:
    """Text values with ``Z`` and ``+0200`` written as ``+00:00`` and ``+02:00``."""
    return as_text(raw).str.replace(r"Z$", "+00:00").str.replace(r"([+-]\d\d)(\d\d)$", "$1:$2")


def offset_given(raw: pl.Series) -> pl.Series:
    """Whether each text value carries its UTC offset (``2025-03-31T14:05:00Z``,
    ``...+02:00``): the values :func:`parse_datetime` converts to UTC. The others (Jira's
    ``14/Jul/25 3:42 PM``, ``2025-03-31 14:05``) are read as they are, that is as UTC."""
    text = _offsets_normalized(raw.cast(pl.String))
    given = pl.Series(raw.name, [False] * len(text), dtype=pl.Boolean)
    for fmt, has_tz in ISO_FORMATS:
        if has_tz:
            p = text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
            given = given | p.is_not_null()
    return given


def _parse_family(text: pl.Series, formats: list[tuple[str, bool]], name: str) -> pl.Series:
    """``text`` parsed with the first of ``formats`` that reads each value (null: none)."""
    parsed = pl.Series(name, [None] * len(text), dtype=pl.Datetime("us"))
    for fmt, has_tz in formats:
        p = text.str.to_datetime(
            fmt, strict=False, time_unit="us", time_zone="UTC" if has_tz else None
        )
        if has_tz:
            p = p.dt.replace_time_zone(None)
        parsed = parsed.fill_null(p)
    return parsed


def convert(df: pl.DataFrame, table: Table, col: Collector) -> pl.DataFrame:
    """Cast each schema column to its type; values that do not convert are reported by row.

    Columns named by one of the table's :attr:`~certkit.data.schema.Table.patterns`
    (``churned_lines_21d``) are converted too, when present."""
    out = []
    by_pattern = [
        optional(n, kind) for n in df.columns if (kind := table.pattern_kind(n)) is not None
    ]
    for c in [*table.columns, *by_pattern]:
        if c.name not in df.columns:
            out.append(pl.Series(c.name, [None] * df.height, dtype=DTYPES[c.kind]))
            continue
        raw = df[c.name]
        text = as_text(raw) if raw.dtype == pl.String else None  # stripped once per column
        present = raw.is_not_null() if text is None else text.is_not_null()
        if c.kind == STR:
            conv = _stripped(raw, text)
            expected = "text"
        elif c.kind in (DATE, DATETIME):
            conv = parse_datetime(raw, col, c.name, local=c.kind == DATE)
            if c.kind == DATE:
                conv = conv.dt.date()
            expected = "a date such as 2025-03-31 or 2025-03-31T14:05:00Z"
        elif c.kind == INT and raw.dtype.is_integer():  # Parquet, frames: exact, no text
            conv = raw.cast(pl.Int64, strict=False)
            expected = "a whole number"
        elif c.kind in (INT, FLOAT):
            numeric = raw.dtype.is_numeric()
            num = (
                raw.cast(pl.Float64)
                if numeric
                else _stripped(raw, text).cast(pl.Float64, strict=False)
            )
            if c.kind == INT:
                whole = num.is_null() | (num.is_finite() & (num == num.floor()))
                num = num.set(~whole, None) if num.len() else num
                conv = num.cast(pl.Int64)
                expected = "a whole number"
            else:
                conv = num
                expected = "a number"
        elif raw.dtype == pl.Boolean or (c.kind == SHARE and raw.dtype.is_numeric()):
            # typed columns (Parquet, frames) need no text round trip: same values
            conv = raw if c.kind == BOOL else raw.cast(pl.Float64)
            expected = "true/false" if c.kind == BOOL else "true/false or a share between 0 and 1"
        else:  # BOOL or SHARE
            text = _stripped(raw, text).str.to_lowercase()
            as_bool = (
                pl.when(text.is_in(TRUE))
                .then(True)
                .when(text.is_in(FALSE))
                .then(False)
                .otherwise(None)
            )
            booleans = pl.select(as_bool.alias("b")).to_series()
            if c.kind == BOOL:
                conv = booleans
                expected = "true/false (or yes/no, 1/0)"
            else:
                conv = booleans.cast(pl.Float64).fill_null(text.cast(pl.Float64, strict=False))
                expected = "true/false or a share between 0 and 1"
        conv = conv.alias(c.name)
        if c.required and not c.nullable and (~present).any():
            col.add("error", "value is missing (required)", c.name, df[ROW].filter(~present))
        bad = present & conv.is_null()
        if bad.any():
            rows = df[ROW].filter(bad).to_list()
            examples = as_text(raw).filter(bad).unique(maintain_order=True)[:3]
            examples = ", ".join(repr(v) for v in examples)
            hint = excel_serial_hint(as_text(raw).filter(bad).to_list())
            hint = f": {hint}" if hint and c.kind in (DATE, DATETIME) else ""
            col.add("error", f"expected {expected}; got {examples}{hint}", c.name, rows)
        out.append(conv)
    known = {c.name for c in [*table.columns, *by_pattern]} | {ROW}
    extra = [n for n in df.columns if n not in known]
    if extra:
        col.add("info", f"extra column(s) kept but not used: {', '.join(extra)}")
    return pl.DataFrame(out).with_columns(df[ROW]).hstack(df.select(extra))


def _stripped(raw: pl.Series, text: pl.Series | None) -> pl.Series:
    """``raw`` as stripped text: ``text`` when :func:`convert` made it already."""
    return as_text(raw) if text is None else text


def prepare(df: pl.DataFrame, table: Table, col: Collector) -> pl.DataFrame | None:
    names = table.canonical_names(df.columns)
    dup = [n for n in names if names.count(n) > 1]
    if dup:
        col.add(
            "error",
            f"duplicate column name(s): {', '.join(sorted(set(dup)))} (names are read "
            "ignoring case and surrounding spaces, with known aliases such as created_at)",
        )
        return None
    header = {new: plain_name(old) for old, new in zip(df.columns, names, strict=True)}
    df = df.rename(dict(zip(df.columns, names, strict=True)))
    missing = [c.name for c in table.columns if c.required and c.name not in df.columns]
    if missing:
        expected = ", ".join(c.name for c in table.columns if c.required)
        col.add(
            "error",
            f"missing required column(s) {', '.join(missing)} "
            f"(required: {expected}; found: {', '.join(df.columns) or 'none'})"
            + table.missing_words(missing, df.columns),
        )
        return None
    df = df.with_row_index(ROW, offset=1)
    return convert(_drop_header_rows(df, header, col), table, col)


def _drop_header_rows(df: pl.DataFrame, header: dict[str, str], col: Collector) -> pl.DataFrame:
    """Rows that repeat the header (two exports joined into one file), left out with a
    warning naming their lines."""
    text = [c for c in header if df.schema[c] == pl.String]
    if len(text) < 2 or len(text) < len(header):
        # typed columns (in-memory frames, Parquet): not a text file two exports were joined
        # into, and the string scan cost simulate() 0.5 s of its 3 s
        return df
    plain = [
        pl.col(c).str.strip_chars().str.to_lowercase().str.replace_all(r"[\s\-]+", "_")
        for c in text
    ]
    equal = pl.sum_horizontal(
        (p == header[c]).fill_null(False).cast(pl.Int32) for p, c in zip(plain, text, strict=True)
    )
    filled = pl.sum_horizontal(pl.col(c).is_not_null().cast(pl.Int32) for c in text)
    same = (equal == filled) & (filled >= 2)  # every value given is its column's name
    rows = df.select(pl.col(ROW).filter(same))[ROW].to_list()
    if not rows:
        return df
    col.add(
        "warning",
        "these rows repeat the header row (two exports joined into one file?); left out",
        None,
        rows,
    )
    return df.filter(~same)
