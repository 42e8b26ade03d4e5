"""The validated input tables (:class:`Dataset`) and the public entry points.

``load(path)`` reads a folder with one file per table (CSV, Parquet or NDJSON), converts each
column to its type, checks every rule in one pass and returns a :class:`Dataset`. Every problem
is reported together, naming the file, column, line/row numbers and what was expected. Input
files are only read, never written. ``from_frames`` validates in-memory tables with the same
rules; ``load_sample`` reads the bundled sample organisation.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import polars as pl

from certkit.data import validate as rules
from certkit.data.catalog import catalog as load_catalog
from certkit.data.read import (
    date_order_scope,
    empty_frame,
    file_format,
    find_file,
    prepare,
    read_file,
)
from certkit.data.schema import TABLES
from certkit.data.validate import ROW, Collector, Problem, ValidationReport
from certkit.display import oneline
from certkit.display import table as display_table
from certkit.errors import (
    CertkitError,
    CertkitWarning,
    DataValidationError,
    frame_type,
)

TRUTH_FILE = "truth.json"
_here = Path(__file__).resolve()
# The sample organisation: inside the wheel (certkit/_sample) or in the repository (data/sample).
SAMPLE_DIR = next(
    (p for p in (_here.parents[1] / "_sample", _here.parents[3] / "data" / "sample") if p.exists()),
    _here.parents[3] / "data" / "sample",
)


def data_window(prs: pl.DataFrame, engineers: pl.DataFrame) -> tuple:
    """First and last moment of the data, as :func:`certkit.build_panel`'s window: from the
    first merged PR (the first created one when none is merged) to the last PR creation or
    merge, over the PRs of ``engineers`` (all PRs when none is theirs). ``(None, None)``
    without PRs."""
    counted = prs.filter(pl.col("author_id").is_in(engineers["engineer_id"].implode()))
    prs = counted if counted.height else prs  # as the panel's window: its engineers' PRs
    start = prs["merged_date"].min()
    start = prs["created_date"].min() if start is None else start
    end = pl.concat([prs["created_date"], prs["merged_date"].drop_nulls()]).max()
    return start, end


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
        """First and last day the data covers: from the first merged PR (the first created
        one when none is merged), as :func:`certkit.build_panel`'s window, to the last PR
        creation or merge. A git import ``--since 2022`` holds PRs whose first commit is
        older: headers said "2020-06-07 to ..." for it."""
        start, end = data_window(self.pull_requests, self.engineers)
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
            :mod:`certkit.data.outputs`); by default such files stop the write with an error.
        extra
            More text files to write with the tables (file name -> content).
        """
        from certkit.data.outputs import staged_folder, write_frames

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


def _validate_frames(
    raw: dict[str, tuple[pl.DataFrame | None, Collector]], today: date, report: ValidationReport
) -> dict[str, pl.DataFrame]:
    typed: dict[str, pl.DataFrame | None] = {}
    with date_order_scope():  # an ambiguous date column takes the roster's proven order
        for name, table in TABLES.items():
            df, col = raw[name]
            prepared = prepare(df, table, col) if df is not None else None
            typed[name] = None if prepared is None else rules.check_keys(prepared, table, col)
    if any(typed[n] is None for n in ("engineers", "pull_requests")):
        return {}
    eng = rules.check_engineers(typed["engineers"], raw["engineers"][1], today)
    out = {"engineers": eng}
    certs = typed["certifications"]
    out["certifications"] = (
        rules.check_certifications(certs, eng, raw["certifications"][1], today)
        if certs is not None
        else empty_frame(TABLES["certifications"]).with_columns(
            pl.lit(None, pl.String).alias("certification_id")
        )
    )
    prs = rules.check_pull_requests(typed["pull_requests"], eng, raw["pull_requests"][1])
    out["pull_requests"] = prs
    rules.check_activity(eng, out["certifications"], prs, raw["engineers"][1])
    if certs is not None:
        from certkit.data.certification_checks import predating_data

        predating_data(out["certifications"], eng, prs, raw["certifications"][1])
    for name in ("defects", "incidents"):
        df = typed[name]
        out[name] = (
            rules.check_linked(df, prs, eng, raw[name][1])
            if df is not None
            else empty_frame(TABLES[name])
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
        path = find_file(folder, table, report)
        fmt = file_format(path) if path else None
        col = Collector(report, name, path.name if path else None, fmt)
        if path is None:
            if table.required and not any(p.table == name for p in report.problems):
                report.problems.append(
                    Problem("error", name, f"no {name}.csv / .parquet / .ndjson file in {folder}")
                )
            raw[name] = (None, col)
            continue
        df = read_file(path, col)
        col.name_rows(df, table.key)
        raw[name] = (df, col)
    return _validate_frames(raw, today, report)


def load_people(
    folder: str | Path,
    files: dict[str, str],
    engineers: pl.DataFrame | None = None,
    today: date | None = None,
) -> dict[str, pl.DataFrame]:
    """Read and validate a folder's roster and certification files in memory, as
    :func:`load` does, for sources whose big tables stay where they are.

    A warehouse export or an import folder keeps its PRs in Parquet, but its roster and
    certifications are often hand-written CSV files; they are small, so they are read here
    with ``load``'s parsing and rules (dates in many formats, aliases, catalog ids, every
    problem named by file, column and line).

    Parameters
    ----------
    folder
        The data folder.
    files
        ``{"engineers" | "certifications": file name without its suffix}``: the tables to
        read (``engineers.csv``, ``certs.tsv``, ...).
    engineers
        The roster, when it is not among ``files`` (certifications are checked against it).
    today
        Reference date for "in the future" checks (default: today).

    Returns
    -------
    dict
        The typed tables read, by certkit table name.

    Raises
    ------
    DataValidationError
        When a file has errors (warnings are emitted as :class:`CertkitWarning`).
    """
    today = today or date.today()
    report, typed, collectors = ValidationReport(), {}, {}
    with date_order_scope():  # the roster first: its proven date order settles the others
        for name in sorted(files, key=list(TABLES).index):
            table = TABLES[name]
            path = find_file(Path(folder), replace(table, name=files[name]), report)
            if path is None:
                continue
            col = Collector(report, name, path.name, file_format(path))
            df = read_file(path, col)
            col.name_rows(df, table.key)
            prepared = prepare(df, table, col) if df is not None else None
            if prepared is not None:
                typed[name], collectors[name] = rules.check_keys(prepared, table, col), col
    out = {}
    if "engineers" in typed:
        engineers = rules.check_engineers(typed["engineers"], collectors["engineers"], today)
        out["engineers"] = engineers
    if "certifications" in typed and engineers is not None:
        certs, col = typed["certifications"], collectors["certifications"]
        out["certifications"] = rules.check_certifications(certs, engineers, col, today)
    if not report.ok:
        raise DataValidationError(report)
    for p in report.warnings:
        warnings.warn(p.format(), CertkitWarning, stacklevel=2)
    return {n: (d.drop(ROW) if ROW in d.columns else d) for n, d in out.items()}


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

    Each table is a polars DataFrame or a pandas DataFrame (converted with
    ``polars.from_pandas``); anything else raises a :class:`CertkitError` naming the table.

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
        if df is not None and not isinstance(df, pl.DataFrame):
            if not frame_type(df).startswith("pandas."):
                raise CertkitError(
                    f"{n} must be a polars or pandas DataFrame (the {n} table), "
                    f"got {frame_type(df)}"
                )
            df = pl.from_pandas(df)  # what an analyst has at hand
        file, names = (origins or {}).get(n, (None, None))
        raw[n] = (df, Collector(report, n, file, None, names))
    frames = _validate_frames(raw, today or date.today(), report)
    return _finish(frames, report, source, strict)


def load_sample() -> Dataset:
    """The bundled sample organisation (``data/sample/``), with its planted true effects."""
    ds = load(SAMPLE_DIR, today=datetime(2100, 1, 1).date())
    ds.truth = read_truth(SAMPLE_DIR)
    return ds


def read_truth(folder: str | Path) -> dict | None:
    """The planted effects written next to a simulated data folder, if any."""
    path = Path(folder) / TRUTH_FILE
    return json.loads(path.read_text("utf-8")) if path.exists() else None
