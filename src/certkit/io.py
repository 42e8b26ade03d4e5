"""Load and validate certkit's input tables.

``load(path)`` reads a folder with one file per table (CSV, Parquet or NDJSON), converts each
column to its type, checks every rule in one pass and returns a :class:`Dataset`. Every problem
is reported together, naming the file, column, line/row numbers and what was expected. Input
files are only read, never written.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

from certkit.catalog import catalog as load_catalog
from certkit.catalog import resolve as resolve_certification
from certkit.display import oneline
from certkit.display import table as display_table
from certkit.errors import CertkitError, CertkitWarning, DataValidationError
from certkit.schema import (
    BOOL,
    DATE,
    DATETIME,
    FLOAT,
    INT,
    PLATFORMS,
    SHARE,
    STR,
    TABLES,
    Table,
)
from certkit.textio import decode, excel_serial_hint, first_row, header_problems

ROW = "__row"  # 1-based data row number, kept until validation is done
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
# Share of PRs with merged_date before created_date above which it is an error, not noise.
MAX_NEGATIVE_DURATION_SHARE = 0.05

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


# ---------------------------------------------------------------------------------------------
# Validation report
# ---------------------------------------------------------------------------------------------


@dataclass
class Problem:
    """One validation finding: where it is and what was expected."""

    severity: str  # "error", "warning" or "info"
    table: str
    message: str
    column: str | None = None
    rows: list[int | str] = field(default_factory=list)  # or ids: PR numbers, issue keys
    file: str | None = None
    row_label: str = "row"

    def format(self) -> str:
        where = self.file or self.table
        if self.column:
            where += f", column {self.column!r}"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:10])
            more = f" and {len(self.rows) - 10} more" if len(self.rows) > 10 else ""
            plural = "s" if len(self.rows) > 1 else ""
            where += f", {self.row_label}{plural} {shown}{more}"
        return f"{self.severity.upper():7} {where}: {self.message}"


@dataclass
class ValidationReport:
    """Everything the validation found, errors and warnings together."""

    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors

    def format(self) -> str:
        if not self.problems:
            return "Validation passed: no problems found."
        head = f"Validation found {len(self.errors)} error(s) and {len(self.warnings)} warning(s):"
        order = {"error": 0, "warning": 1, "info": 2}
        body = [p.format() for p in sorted(self.problems, key=lambda p: order[p.severity])]
        return "\n".join([head, *body])

    def to_polars(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "severity": [p.severity for p in self.problems],
                "table": [p.table for p in self.problems],
                "file": [p.file for p in self.problems],
                "column": [p.column for p in self.problems],
                "n_rows": [len(p.rows) for p in self.problems],
                "rows": [", ".join(map(str, p.rows[:20])) for p in self.problems],
                "message": [p.message for p in self.problems],
            },
            schema={
                "severity": pl.String,
                "table": pl.String,
                "file": pl.String,
                "column": pl.String,
                "n_rows": pl.Int64,
                "rows": pl.String,
                "message": pl.String,
            },
        )

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        info = len(self.problems) - len(self.errors) - len(self.warnings)
        return oneline(
            "ValidationReport",
            errors=len(self.errors),
            warnings=len(self.warnings),
            info=info or None,
        )

    def _repr_html_(self) -> str:
        title = f"Validation: {len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        if not self.problems:
            return display_table(
                pl.DataFrame({"result": ["no problems found"]}), title=title
            ).to_html()
        order = {"error": 0, "warning": 1, "info": 2}
        shown = sorted(self.problems, key=lambda p: order[p.severity])
        rows = pl.DataFrame(
            {
                "severity": [p.severity for p in shown],
                "where": [p.format().split(": ", 1)[0].split(None, 1)[1] for p in shown],
                "problem": [p.message for p in shown],
            }
        )
        return display_table(rows, title=title, max_rows=None).to_html()


class _Collector:
    """Adds problems for one table, translating row numbers into what the user's file shows."""

    def __init__(self, report, table: str, file: str | None, fmt: str | None, names=None):
        self.report, self.table, self.file = report, table, file
        # CSV: line numbers as an editor shows them (header is line 1); NDJSON: line numbers.
        self.offset = {"csv": 1, "ndjson": 0}.get(fmt or "", 0)
        self.label = "line" if fmt in ("csv", "ndjson") else "row"
        # names: (label, one value per row), what the source calls rows: ("PR", ["org/a#3"])
        self.label, self.names = names if names else (self.label, None)

    def add(self, severity: str, message: str, column: str | None = None, rows=()):
        n = self.names
        where = [n[int(r) - 1] if n else int(r) + self.offset for r in rows]
        self.report.problems.append(
            Problem(severity, self.table, message, column, where, self.file, self.label)
        )


# ---------------------------------------------------------------------------------------------
# Dataset
# ---------------------------------------------------------------------------------------------


@dataclass
class Dataset:
    """The validated input tables, one polars DataFrame per table.

    Optional tables that were absent are empty frames with the documented columns, so code
    downstream never has to test for ``None``.
    """

    engineers: pl.DataFrame
    certifications: pl.DataFrame
    pull_requests: pl.DataFrame
    defects: pl.DataFrame
    incidents: pl.DataFrame
    validation: ValidationReport = field(default_factory=ValidationReport)
    source: str = "in-memory"
    truth: dict | None = None

    TABLE_NAMES = tuple(TABLES)

    @property
    def catalog(self) -> pl.DataFrame:
        return load_catalog()

    def tables(self) -> dict[str, pl.DataFrame]:
        return {name: getattr(self, name) for name in self.TABLE_NAMES}

    def human_engineers(self) -> pl.DataFrame:
        """Engineers who are not bots (the population every cohort is drawn from)."""
        return self.engineers.filter(~pl.col("is_bot"))

    def period(self) -> tuple[date, date]:
        """First and last day covered by pull requests (created or merged)."""
        prs = self.pull_requests
        start = prs["created_date"].min()
        end = pl.concat([prs["created_date"], prs["merged_date"].drop_nulls()]).max()
        return start.date(), end.date()

    def write(
        self,
        path: str | Path,
        format: str = "parquet",
        *,
        overwrite: bool = False,
        extra: dict[str, str] | None = None,
    ) -> Path:
        """Write one file per table into ``path`` (created if needed), all or nothing.

        Parameters
        ----------
        format
            ``"parquet"`` (compact, typed), ``"csv"`` (for spreadsheets) or ``"ndjson"``.
        overwrite
            Also replace files in ``path`` that certkit did not write (see
            :mod:`certkit.outputs`); by default such files stop the write with an error.
        extra
            More text files to write with the tables (file name -> content).
        """
        from certkit.outputs import staged_folder, write_frames

        with staged_folder(path, overwrite=overwrite) as tmp:
            write_frames(self.output_tables(), tmp, format)
            for name, text in (extra or {}).items():
                (tmp / name).write_text(text, "utf-8")
        return Path(path)

    def output_tables(self) -> dict[str, pl.DataFrame]:
        """The tables as written to files (without columns derived on load)."""
        out = self.tables()
        out["certifications"] = out["certifications"].drop("certification_id", strict=False)
        return out

    def summary(self) -> str:
        lines = [f"certkit Dataset from {self.source}"]
        for name, df in self.tables().items():
            lines.append(f"  {name:15} {df.height:>9,} rows")
        if self.pull_requests.height:
            start, end = self.period()
            lines.append(f"  period          {start} to {end}")
        lines.append(
            f"  validation      {len(self.validation.errors)} error(s), "
            f"{len(self.validation.warnings)} warning(s)"
        )
        return "\n".join(lines)

    def _facts(self) -> dict[str, object]:
        period = None
        if self.pull_requests.height:
            start, end = self.period()
            period = f"{start} to {end}"
        return {
            "period": period,
            "validation": f"{len(self.validation.errors)} error(s), "
            f"{len(self.validation.warnings)} warning(s)",
        }

    def __repr__(self) -> str:
        return oneline(
            f"certkit Dataset from {self.source}",
            engineers=self.engineers.height,
            pull_requests=self.pull_requests.height,
            **self._facts(),
        )

    def _repr_html_(self) -> str:
        rows = pl.DataFrame(
            {"table": list(self.tables()), "rows": [df.height for df in self.tables().values()]}
        )
        title = f"certkit Dataset from {self.source}"
        return display_table(rows, title=title, facts=self._facts()).to_html()


def _empty(table: Table) -> pl.DataFrame:
    return pl.DataFrame(schema={c.name: DTYPES[c.kind] for c in table.columns})


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------


def _find_file(folder: Path, table: Table, report: ValidationReport) -> Path | None:
    found = [p for p in sorted(folder.glob(f"{table.name}.*")) if p.suffix.lower() in SUFFIXES]
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


def _read_file(path: Path, col: _Collector) -> pl.DataFrame | None:
    fmt = SUFFIXES[path.suffix.lower()]
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


def _as_text(s: pl.Series) -> pl.Series:
    if s.dtype == pl.String:
        out = s.str.strip_chars()
        return out.set(out == "", None) if out.len() else out
    return s.cast(pl.String)


def _parse_datetime(raw: pl.Series, col: _Collector, name: str) -> pl.Series:
    """Parse dates/datetimes; timezone-aware values are converted to UTC and made naive."""
    if raw.dtype == pl.Datetime:
        tz = raw.dtype.time_zone
        s = raw.dt.convert_time_zone("UTC").dt.replace_time_zone(None) if tz else raw
        return s.cast(pl.Datetime("us"))
    if raw.dtype == pl.Date:
        return raw.cast(pl.Datetime("us"))
    text = _as_text(raw).str.replace(r"Z$", "+00:00").str.replace(r"([+-]\d\d)(\d\d)$", "$1:$2")
    best, best_n, fitting = None, -1, []
    for family, formats in DATE_FAMILIES.items():
        parsed = pl.Series(name, [None] * len(text), dtype=pl.Datetime("us"))
        for fmt, has_tz in formats:
            p = text.str.to_datetime(
                fmt, strict=False, time_unit="us", time_zone="UTC" if has_tz else None
            )
            if has_tz:
                p = p.dt.replace_time_zone(None)
            parsed = parsed.fill_null(p)
        n = parsed.is_not_null().sum()
        if n == text.is_not_null().sum() and n > 0:
            fitting.append(family)
        if n > best_n:
            best, best_n = parsed, n
    if len(fitting) > 1 and "ISO" not in fitting[0]:
        col.add(
            "warning",
            f"dates fit both {fitting[0]} and {fitting[1]}; read as {fitting[0]}. "
            "Use ISO 8601 (YYYY-MM-DD) to remove the doubt.",
            name,
        )
    return best


def _convert(df: pl.DataFrame, table: Table, col: _Collector) -> pl.DataFrame:
    """Cast each schema column to its type; values that do not convert are reported by row."""
    out = []
    for c in table.columns:
        if c.name not in df.columns:
            out.append(pl.Series(c.name, [None] * df.height, dtype=DTYPES[c.kind]))
            continue
        raw = df[c.name]
        present = _as_text(raw).is_not_null() if raw.dtype == pl.String else raw.is_not_null()
        if c.kind == STR:
            conv = _as_text(raw)
            expected = "text"
        elif c.kind in (DATE, DATETIME):
            conv = _parse_datetime(raw, col, c.name)
            if c.kind == DATE:
                conv = conv.dt.date()
            expected = "a date such as 2025-03-31 or 2025-03-31T14:05:00Z"
        elif c.kind in (INT, FLOAT):
            num = _as_text(raw).cast(pl.Float64, strict=False)
            if c.kind == INT:
                whole = num.is_null() | (num == num.floor())
                num = num.set(~whole, None) if num.len() else num
                conv = num.cast(pl.Int64)
                expected = "a whole number"
            else:
                conv = num
                expected = "a number"
        else:  # BOOL or SHARE
            text = _as_text(raw).str.to_lowercase()
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
            examples = _as_text(raw).filter(bad).unique(maintain_order=True)[:3]
            examples = ", ".join(repr(v) for v in examples)
            hint = excel_serial_hint(_as_text(raw).filter(bad).to_list())
            hint = f": {hint}" if hint and c.kind in (DATE, DATETIME) else ""
            col.add("error", f"expected {expected}; got {examples}{hint}", c.name, rows)
        out.append(conv)
    extra = [n for n in df.columns if n not in {c.name for c in table.columns} | {ROW}]
    if extra:
        col.add("info", f"extra column(s) kept but not used: {', '.join(extra)}")
    return pl.DataFrame(out).with_columns(df[ROW]).hstack(df.select(extra))


def _rename_aliases(df: pl.DataFrame, table: Table) -> pl.DataFrame:
    lower = {n: n.strip().lower() for n in df.columns}
    df = df.rename(lower)
    for c in table.columns:
        if c.name in df.columns:
            continue
        alias = next((a for a in c.aliases if a.lower() in df.columns), None)
        if alias:
            df = df.rename({alias.lower(): c.name})
    return df


def _prepare(df: pl.DataFrame, table: Table, col: _Collector) -> pl.DataFrame | None:
    df = _rename_aliases(df, table)
    dup = [n for n in df.columns if df.columns.count(n) > 1]
    if dup:
        col.add("error", f"duplicate column name(s): {', '.join(sorted(set(dup)))}")
        return None
    missing = [c.name for c in table.columns if c.required and c.name not in df.columns]
    if missing:
        expected = ", ".join(c.name for c in table.columns if c.required)
        col.add(
            "error",
            f"missing required column(s) {', '.join(missing)} "
            f"(required: {expected}; found: {', '.join(df.columns) or 'none'})",
        )
        return None
    df = df.with_row_index(ROW, offset=1)
    return _convert(df, table, col)


# ---------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------


def _rows(df: pl.DataFrame, mask) -> list[int]:
    return df.filter(mask)[ROW].to_list()


def _check_keys(df: pl.DataFrame, table: Table, col: _Collector) -> pl.DataFrame:
    if table.key:
        dup = pl.col(table.key).is_duplicated() & pl.col(table.key).is_not_null()
        rows = _rows(df, dup)
        if rows:
            ids = ", ".join(df.filter(dup)[table.key].unique(maintain_order=True).head(5))
            col.add("error", f"ids must be unique; repeated: {ids}", table.key, rows)
    if df.height == 0:
        col.add("error" if table.required else "warning", "table has a header but no rows")
    return df


def _check_engineers(df: pl.DataFrame, col: _Collector, today: date) -> pl.DataFrame:
    df = df.with_columns(
        pl.col("platform").str.to_lowercase(),
        (pl.col("is_bot").fill_null(False) | pl.col("engineer_id").str.ends_with("[bot]")).alias(
            "is_bot"
        ),
    )
    unknown = ~pl.col("platform").is_in(PLATFORMS) & pl.col("platform").is_not_null()
    rows = _rows(df, unknown)
    if rows:
        vals = ", ".join(df.filter(unknown)["platform"].unique().sort().head(5))
        col.add(
            "warning",
            f"platform must be one of {', '.join(PLATFORMS)}; got {vals} (read as 'other')",
            "platform",
            rows,
        )
        df = df.with_columns(
            pl.when(unknown).then(pl.lit("other")).otherwise(pl.col("platform")).alias("platform")
        )
    rows = _rows(df, pl.col("leave_date") < pl.col("hire_date"))
    if rows:
        col.add("error", "leave_date is before hire_date", "leave_date", rows)
    rows = _rows(df, pl.col("hire_date") > today)
    if rows:
        col.add("warning", f"hire_date is in the future (after {today})", "hire_date", rows)
    return df


def _check_certifications(df, engineers, col: _Collector, today: date) -> pl.DataFrame:
    known = engineers["engineer_id"]
    rows = _rows(df, ~pl.col("engineer_id").is_in(known.implode()))
    if rows:
        col.add("error", "engineer_id not found in engineers", "engineer_id", rows)
    rows = _rows(df, pl.col("earned_date") > today)
    if rows:
        col.add("error", f"earned_date is in the future (after {today})", "earned_date", rows)
    hired = df.join(engineers.select("engineer_id", "hire_date"), on="engineer_id", how="left")
    rows = _rows(hired, pl.col("earned_date") < pl.col("hire_date"))
    if rows:
        col.add(
            "warning",
            "earned before hire_date: treated as certified on arrival (these "
            "engineers have no pre-certification period and are left out of DiD cohorts)",
            "earned_date",
            rows,
        )
    names = df["certification"].drop_nulls().unique()
    mapping = {n: resolve_certification(n) for n in names}
    unknown = sorted(n for n, i in mapping.items() if i is None)
    if unknown:
        rows = _rows(df, pl.col("certification").is_in(unknown))
        col.add(
            "warning",
            f"not in the certification catalog: {', '.join(unknown[:5])} "
            "(kept; exam fee unknown unless cost_usd is given)",
            "certification",
            rows,
        )
    df = df.with_columns(
        pl.col("certification")
        .replace_strict({k: (v or k) for k, v in mapping.items()}, default=None)
        .alias("certification_id")
    )
    dup = pl.struct("engineer_id", "certification_id", "earned_date").is_duplicated()
    first = pl.struct("engineer_id", "certification_id", "earned_date").is_first_distinct()
    rows = _rows(df, dup & ~first)
    if rows:
        col.add(
            "warning",
            "same engineer, certification and date repeated; duplicates dropped",
            rows=rows,
        )
        df = df.filter(~dup | first)
    for name in ("cost_usd", "study_hours"):
        rows = _rows(df, pl.col(name) < 0)
        if rows:
            col.add("error", "must not be negative", name, rows)
    return df


def _check_pull_requests(df, engineers, col: _Collector) -> pl.DataFrame:
    for name in ("additions", "deletions"):
        rows = _rows(df, pl.col(name) < 0)
        if rows:
            col.add("error", "line counts must not be negative", name, rows)
    rows = _rows(df, (pl.col("ai_assisted") < 0) | (pl.col("ai_assisted") > 1))
    if rows:
        col.add(
            "error",
            "ai_assisted must be true/false or a share between 0 and 1",
            "ai_assisted",
            rows,
        )
    negative = pl.col("merged_date") < pl.col("created_date")
    rows = _rows(df, negative)
    if rows:
        share = len(rows) / max(df.height, 1)
        if share > MAX_NEGATIVE_DURATION_SHARE:
            col.add(
                "error",
                f"merged_date is before created_date for {share:.0%} of PRs: "
                "probably a timezone or column mix-up",
                "merged_date",
                rows,
            )
        else:
            col.add(
                "warning",
                f"merged_date is before created_date: {len(rows)} PR(s) dropped",
                "merged_date",
                rows,
            )
            df = df.filter(~negative.fill_null(False))
    bad_review = pl.col("first_review_date") < pl.col("created_date")
    rows = _rows(df, bad_review)
    if rows:
        col.add(
            "warning",
            f"first_review_date is before created_date; review time ignored for {len(rows)} PR(s)",
            "first_review_date",
            rows,
        )
        df = df.with_columns(
            pl.when(bad_review)
            .then(None)
            .otherwise(pl.col("first_review_date"))
            .alias("first_review_date")
        )
    unknown = ~pl.col("author_id").is_in(engineers["engineer_id"].implode())
    bots = pl.col("author_id").str.ends_with("[bot]")
    rows = _rows(df, unknown & ~bots)
    if rows:
        n_auth = df.filter(unknown & ~bots)["author_id"].n_unique()
        ids = ", ".join(df.filter(unknown & ~bots)["author_id"].unique().sort().head(5))
        col.add(
            "warning",
            f"author_id not found in engineers ({n_auth} author(s), e.g. {ids}); "
            f"their {len(rows)} PR(s) are left out of the analysis",
            "author_id",
            rows,
        )
    return df


def _check_linked(df, prs, engineers, col: _Collector) -> pl.DataFrame:
    """Defects and incidents: links to PRs/engineers and resolution dates."""
    rows = _rows(df, pl.col("pr_id").is_not_null() & ~pl.col("pr_id").is_in(prs["id"].implode()))
    if rows:
        col.add("warning", "pr_id not found in pull_requests; link ignored", "pr_id", rows)
        df = df.with_columns(
            pl.when(pl.col("pr_id").is_in(prs["id"].implode())).then(pl.col("pr_id")).alias("pr_id")
        )
    unknown_eng = pl.col("engineer_id").is_not_null() & ~pl.col("engineer_id").is_in(
        engineers["engineer_id"].implode()
    )
    rows = _rows(df, unknown_eng)
    if rows:
        col.add("warning", "engineer_id not found in engineers; link ignored", "engineer_id", rows)
        df = df.with_columns(
            pl.when(unknown_eng).then(None).otherwise(pl.col("engineer_id")).alias("engineer_id")
        )
    rows = _rows(df, pl.col("pr_id").is_null() & pl.col("engineer_id").is_null())
    if rows:
        col.add(
            "info",
            f"{len(rows)} row(s) are linked to no PR or engineer: they count in "
            "organisation totals only",
        )
    bad = pl.col("resolution_date") < pl.col("created_date")
    rows = _rows(df, bad)
    if rows:
        col.add(
            "warning",
            "resolution_date is before created_date; resolution time ignored",
            "resolution_date",
            rows,
        )
        df = df.with_columns(
            pl.when(bad).then(None).otherwise(pl.col("resolution_date")).alias("resolution_date")
        )
    return df


# ---------------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------------


def _validate_frames(
    raw: dict[str, tuple[pl.DataFrame | None, _Collector]], today: date, report: ValidationReport
) -> dict[str, pl.DataFrame]:
    typed: dict[str, pl.DataFrame | None] = {}
    for name, table in TABLES.items():
        df, col = raw[name]
        prepared = _prepare(df, table, col) if df is not None else None
        typed[name] = None if prepared is None else _check_keys(prepared, table, col)
    if any(typed[n] is None for n in ("engineers", "pull_requests")):
        return {}
    eng = _check_engineers(typed["engineers"], raw["engineers"][1], today)
    out = {"engineers": eng}
    certs = typed["certifications"]
    out["certifications"] = (
        _check_certifications(certs, eng, raw["certifications"][1], today)
        if certs is not None
        else _empty(TABLES["certifications"]).with_columns(
            pl.lit(None, pl.String).alias("certification_id")
        )
    )
    prs = _check_pull_requests(typed["pull_requests"], eng, raw["pull_requests"][1])
    out["pull_requests"] = prs
    for name in ("defects", "incidents"):
        df = typed[name]
        out[name] = (
            _check_linked(df, prs, eng, raw[name][1]) if df is not None else _empty(TABLES[name])
        )
    return {n: (d.drop(ROW) if ROW in d.columns else d) for n, d in out.items()}


def _finish(frames, report: ValidationReport, source: str, strict: bool) -> Dataset:
    if strict and not report.ok:
        raise DataValidationError(report)
    if not frames:  # only reachable with strict=False
        raise DataValidationError(report)
    for p in report.warnings:
        warnings.warn(p.format(), CertkitWarning, stacklevel=3)
    return Dataset(**frames, validation=report, source=source)


def validate(path: str | Path, today: date | None = None) -> ValidationReport:
    """Check a data folder and return the report (never raises for bad data)."""
    report = ValidationReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        _load_frames(Path(path), report, today or date.today())
    return report


def _load_frames(folder: Path, report: ValidationReport, today: date):
    if not folder.exists():
        raise CertkitError(f"Data folder {folder} does not exist")
    if not folder.is_dir():
        raise CertkitError(
            f"{folder} is not a folder; give the folder that holds engineers.csv, "
            "pull_requests.csv, ..."
        )
    raw = {}
    for name, table in TABLES.items():
        path = _find_file(folder, table, report)
        fmt = SUFFIXES[path.suffix.lower()] if path else None
        col = _Collector(report, name, path.name if path else None, fmt)
        if path is None:
            if table.required and not any(p.table == name for p in report.problems):
                report.problems.append(
                    Problem("error", name, f"no {name}.csv / .parquet / .ndjson file in {folder}")
                )
            raw[name] = (None, col)
            continue
        raw[name] = (_read_file(path, col), col)
    return _validate_frames(raw, today, report)


def load(path: str | Path, *, strict: bool = True, today: date | None = None) -> Dataset:
    """Read and validate a folder of input tables.

    Parameters
    ----------
    path
        Folder with ``engineers``, ``certifications``, ``pull_requests`` and optionally
        ``defects`` and ``incidents`` files (``.csv``, ``.parquet`` or ``.ndjson``).
    strict
        Raise :class:`~certkit.errors.DataValidationError` listing every problem when any
        error is found (default). Warnings are emitted as :class:`CertkitWarning` and kept in
        ``dataset.validation``.
    today
        Reference date for "in the future" checks (default: today).

    Returns
    -------
    Dataset
    """
    folder = Path(path)
    report = ValidationReport()
    frames = _load_frames(folder, report, today or date.today())
    return _finish(frames, report, str(folder), strict)


def from_frames(
    *,
    engineers: pl.DataFrame,
    pull_requests: pl.DataFrame,
    certifications: pl.DataFrame | None = None,
    defects: pl.DataFrame | None = None,
    incidents: pl.DataFrame | None = None,
    source: str = "in-memory",
    strict: bool = True,
    today: date | None = None,
    origins: dict[str, tuple] | None = None,
) -> Dataset:
    """Validate in-memory tables with the same rules as :func:`load` (used by connectors).

    ``origins`` maps a table to ``(file, (label, values))``: its source file and what it calls
    each row (``("line", [2, 3])``, ``("PR", ["org/app#12"])``), so problems point there.
    """
    report = ValidationReport()
    given = {
        "engineers": engineers,
        "certifications": certifications,
        "pull_requests": pull_requests,
        "defects": defects,
        "incidents": incidents,
    }
    raw = {}
    for n, df in given.items():
        file, names = (origins or {}).get(n, (None, None))
        raw[n] = (df, _Collector(report, n, file, None, names))
    frames = _validate_frames(raw, today or date.today(), report)
    return _finish(frames, report, source, strict)


def load_sample() -> Dataset:
    """The bundled sample organisation (``data/sample/``), with its planted true effects."""
    from certkit.simulate import SAMPLE_DIR, read_truth

    ds = load(SAMPLE_DIR, today=datetime(2100, 1, 1).date())
    ds.truth = read_truth(SAMPLE_DIR)
    return ds
