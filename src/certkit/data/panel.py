"""Engineer x period outcome panel: the input of every estimator.

Conventions (documented in ``docs/data-model.md``):

* Engineers are in the panel from the period of their hire date (or the data start) to the
  period of their leave date (or the data end). Bots are left out unless asked for.
* PR outcomes are counted in the period the PR was **merged** (cycle time is only known then);
  ``prs_opened`` counts by creation. Defects are attributed to the merge period of the PR that
  caused them (or, without a PR link, to the period they were reported); incidents to the
  period they started, and to the engineer linked directly or through the PR.
* Cycle and pickup times leave out PRs whose creation date was approximated from git alone
  (``created_source`` in :data:`APPROXIMATE_CREATED`, e.g. squash merges); they still count
  in throughput and the other outcomes.
* Periods with no merged PR are present with counts of 0 and rate/duration outcomes null.
* ``cohort`` is the index of the period of the first certification (0 = never certified);
  ``event_time`` = ``period_index - cohort``. Engineers certified before their first observed
  period have no pre-certification data and are left out, with a warning.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import narwhals as nw
import polars as pl

from certkit.data.dataset import Dataset
from certkit.data.panel_engines import (
    PANEL_SCHEMA,
    collect_polars,
    complete,
    epoch_days,
    periods_table,
    portable_seconds,
    same_engine,
    to_lazy,
)
from certkit.errors import CertkitError, CertkitWarning

PERIODS = {"week": "1w", "month": "1mo", "quarter": "1q"}

#: ``pull_requests.created_source`` values whose creation date was approximated from git
#: alone (a squash commit's author date, a merge without branch commits, a direct push): the
#: time from creation to merge is not the PR's cycle time. ``github``/``devlake`` (and a
#: merged branch's first commit) are trusted; a missing column means the user supplied dates.
APPROXIMATE_CREATED = ("squash_commit", "merge_commit", "commit")


def approximate_created(prs: pl.DataFrame | pl.LazyFrame | None = None) -> pl.Expr:
    """True for PRs whose ``created_date`` was approximated (see :data:`APPROXIMATE_CREATED`).

    Cycle and pickup times of these PRs are left out of every outcome. Without a
    ``created_source`` column (``prs`` given and lacking it) nothing is approximated.
    """
    if prs is not None:
        names = prs.collect_schema().names() if isinstance(prs, pl.LazyFrame) else prs.columns
        if "created_source" not in names:
            return pl.lit(False)
    return pl.col("created_source").is_in(list(APPROXIMATE_CREATED)).fill_null(False)


OUTCOMES = {
    "merged_prs": "PRs merged in the period (throughput)",
    "prs_opened": "PRs opened in the period",
    "cycle_time_log_median": "median of log(hours from PR creation to merge)",
    "cycle_time_log_mean": "mean of log(hours from PR creation to merge)",
    "cycle_time_hours_median": "median hours from PR creation to merge",
    "pickup_time_hours_median": "median hours from PR creation to first review",
    "defects": "defects traced to the period's merged PRs",
    "defects_per_pr": "defects per merged PR (null without merged PRs)",
    "incidents": "incidents caused (linked to the engineer or their PR)",
    "reverts": "merged PRs later reverted",
    "revert_rate": "reverted share of merged PRs",
    "ai_prs": "AI-assisted merged PRs (sum of the AI share)",
    "ai_share": "AI-assisted share of merged PRs",
    "lines_changed": "additions + deletions of merged PRs (null when no size is known)",
    "rework_rate": "share of the lines added by merged PRs that were changed or deleted again "
    "within the line ledger's window (21 days by default; git imports only)",
}


def build_panel(
    dataset: Dataset,
    period: str = "month",
    *,
    include_bots: bool = False,
    streaming: bool = False,
    buckets: int | None = None,
) -> pl.DataFrame:
    """Build the engineer x period panel of outcomes and treatment columns.

    The panel is computed where the data lives and only the panel comes back: the tables of
    ``dataset`` may be polars DataFrames or LazyFrames (e.g. ``pl.scan_parquet``), DuckDB
    relations (one connection) or Spark DataFrames (one session); the result is the same
    polars frame, row for row, whatever the engine.

    Parameters
    ----------
    dataset
        A validated :class:`~certkit.data.dataset.Dataset` (``certkit.load`` or ``certkit.simulate``),
        or one whose tables are lazy frames of one engine (see :mod:`certkit.data.panel_engines`).
    period
        ``"month"`` (default), ``"week"`` (ISO weeks, starting Monday) or ``"quarter"``.
    include_bots
        Keep bot accounts (default: left out of every human cohort).
    streaming
        With polars tables, run the query on polars' streaming engine (bounded memory for
        inputs larger than RAM, e.g. ``pl.scan_parquet``). Ignored by other engines.
    buckets
        polars and DuckDB (ignored by other engines): build the panel in this many buckets
        of engineers (contiguous ``engineer_id`` ranges), one query each, so the medians and
        group-bys hold 1/``buckets`` of the PRs at a time; defects and incidents are
        attributed once for all. The result is the same panel. ``None`` (default): one
        bucket per :data:`BUCKET_PRS` PRs for DuckDB relations, and for a polars LazyFrame
        PR table (e.g. ``pl.scan_parquet``) with ``streaming`` on; else 1. A Parquet source
        sorted or partitioned by engineer reads each bucket's row groups only (statistics).

    Returns
    -------
    polars.DataFrame
        One row per engineer and period: ``engineer_id``, ``period`` (first day),
        ``period_index`` (1..T), the outcomes in :data:`OUTCOMES`, treatment columns
        ``cohort``, ``event_time``, ``post``, ``certification``, and covariates ``team``,
        ``role``, ``level``, ``platform``, ``tenure_months``.
    """
    if period not in PERIODS:
        raise CertkitError(f"period must be one of {', '.join(PERIODS)}; got {period!r}")
    if buckets is not None and (not isinstance(buckets, int) or buckets < 1):
        raise CertkitError(f"buckets must be a positive integer or None; got {buckets!r}")
    tables = {name: to_lazy(getattr(dataset, name), name) for name in _TABLES}
    engine = same_engine(tables)
    portable = engine in PORTABLE_ENGINES
    tables = {name: _utc_naive(complete(name, frame)) for name, frame in tables.items()}
    prs = tables["pull_requests"]

    bounds = collect_polars(
        prs.select(
            nw.len().cast(nw.Int64).alias("n"),
            nw.col("created_date").min().alias("start"),
            nw.max_horizontal(nw.col("created_date").max(), nw.col("merged_date").max()).alias(
                "end"
            ),
        ),
        streaming=streaming,
    ).row(0, named=True)
    if not bounds["n"]:
        raise CertkitError("pull_requests is empty: there is nothing to build a panel from")
    start = period_start(bounds["start"].date(), period)
    end = period_start(bounds["end"].date(), period)
    periods = _period_starts(start, end, period)
    cal = _Calendar(period, start, end, len(periods), portable, periods_table(prs, periods))

    defects = _defect_counts(tables, cal)
    incidents = _incident_counts(tables, cal)
    if buckets is None:
        buckets = _auto_buckets(dataset, engine, bounds["n"], streaming)
    ranges = _engineer_ranges(tables["engineers"], buckets) if _can_bucket(prs) else []
    if len(ranges) > 1:
        # attributed once for all buckets (a defect's PR may be anyone's), then split
        defects = _materialize(defects, streaming)
        incidents = _materialize(incidents, streaming)
        parts = []
        for low, high in ranges:
            part = {
                name: frame.filter(_in_range(_ENGINEER_KEY[name], low, high))
                for name, frame in tables.items()
                if name in _ENGINEER_KEY
            }
            query = _outcomes(
                {**tables, **part},
                defects.filter(_in_range("engineer_id", low, high)),
                incidents.filter(_in_range("engineer_id", low, high)),
                cal,
                include_bots,
            )
            parts.append(_collect_part(query, streaming))
        # the ranges are disjoint and in order, so the sorted parts concatenate sorted
        panel = pl.concat(parts)
    else:
        query = _outcomes(tables, defects, incidents, cal, include_bots)
        panel = _collect_part(query, streaming)

    late = panel.filter((pl.col("cohort") == 0) & pl.col("certification").is_not_null())
    if late.height:
        warnings.warn(
            f"{late['engineer_id'].n_unique()} engineer(s) were certified after the data's last "
            f"{period}: they are not certified inside the window and compare as never "
            "certified (cohort 0), as R's did treats units first treated after the last period.",
            CertkitWarning,
            stacklevel=2,
        )
    n_arrival = panel.filter(pl.col("_arrival"))["engineer_id"].n_unique()
    if n_arrival:
        warnings.warn(
            f"{n_arrival} engineer(s) were certified before (or in) their first observed "
            f"{period}: they have no pre-certification data and are left out of the panel.",
            CertkitWarning,
            stacklevel=2,
        )
        panel = panel.filter(~pl.col("_arrival"))
    return panel.drop("_arrival")


#: PRs per bucket when ``build_panel`` picks the number of engineer buckets itself.
BUCKET_PRS = 4_000_000

#: The engineer column of each table split into buckets (defects and incidents are
#: attributed before splitting: their PR's author may be in any bucket).
_ENGINEER_KEY = {
    "engineers": "engineer_id",
    "certifications": "engineer_id",
    "pull_requests": "author_id",
}


@dataclass(frozen=True)
class _Calendar:
    """The periods of one panel and the time arithmetic of its engine."""

    period: str
    start: date
    end: date
    n_periods: int
    portable: bool
    table: nw.LazyFrame

    def index(self, expr: nw.Expr) -> nw.Expr:
        return _period_index(expr, self.period, self.start, self.portable)

    def seconds(self, later: nw.Expr, earlier: nw.Expr) -> nw.Expr:
        return _seconds(later, earlier, self.portable)


def _engineer_ranges(engineers: nw.LazyFrame, buckets: int) -> list[tuple[str | None, str | None]]:
    """``buckets`` contiguous ``engineer_id`` ranges [low, high) of about equal size
    (``None``: unbounded), covering every string."""
    if buckets <= 1:
        return [(None, None)]
    ids = collect_polars(engineers.select("engineer_id").unique())["engineer_id"]
    ids = ids.drop_nulls().sort()
    step = max(1, -(-ids.len() // buckets))
    cuts: list[str | None] = [None, *ids.gather_every(step)[1:].to_list(), None]
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _auto_buckets(dataset: Dataset, engine: str, n_prs: int, streaming: bool) -> int:
    """One bucket per :data:`BUCKET_PRS` PRs for DuckDB and for lazy polars sources on the
    streaming engine (in-memory polars holds every PR anyway: one query)."""
    per_bucket = -(-n_prs // BUCKET_PRS)
    if engine == "duckdb":
        return per_bucket
    if engine == "polars" and streaming and isinstance(dataset.pull_requests, pl.LazyFrame):
        return per_bucket
    return 1


def _can_bucket(prs: nw.LazyFrame) -> bool:
    """Buckets need the small attributed tables kept in the engine: polars, or DuckDB with
    ``DuckDBPyRelation.materialize`` (DuckDB 2)."""
    if prs.implementation.is_polars():
        return True
    return prs.implementation.is_duckdb() and hasattr(prs.to_native(), "materialize")


def _materialize(frame: nw.LazyFrame, streaming: bool) -> nw.LazyFrame:
    """Run ``frame`` once and keep its (small) result in its engine, for every bucket."""
    if frame.implementation.is_polars():
        return nw.from_native(collect_polars(frame, streaming=streaming).lazy())
    return nw.from_native(frame.to_native().materialize())  # DuckDB: client memory


def _in_range(column: str, low: str | None, high: str | None) -> nw.Expr:
    """``column`` in [low, high); the first range (``low`` None) also takes nulls."""
    below = nw.lit(True) if high is None else nw.col(column) < high
    if low is None:
        return nw.col(column).is_null() | below
    return (nw.col(column) >= low) & below


def _collect_part(query: nw.LazyFrame, streaming: bool) -> pl.DataFrame:
    """Collect (part of) the panel in the canonical types, sorted, with ``_arrival`` marking
    engineers certified before or in their first observed period."""
    part = collect_polars(query.select(*PANEL_SCHEMA), streaming=streaming)
    part = part.cast(PANEL_SCHEMA)  # engines differ in integer widths and decimals
    first = pl.col("period_index").min().over("engineer_id")
    arrival = (pl.col("cohort") != 0) & (pl.col("cohort") <= first)
    return part.with_columns(arrival.alias("_arrival")).sort("engineer_id", "period_index")


def _defect_counts(tables: dict[str, nw.LazyFrame], cal: _Calendar) -> nw.LazyFrame:
    """Defects per (engineer, period): the merge period of their PR's author, else the
    defect's own engineer and period. Only PRs a defect points to are joined (semi join
    first), so no hash table of every PR id is built."""
    linked = tables["defects"].filter(~nw.col("pr_id").is_null()).select("pr_id").unique()
    pr_keys = (
        tables["pull_requests"]
        .filter(~nw.col("merged_date").is_null())
        .select(
            nw.col("id").alias("pr_id"), "author_id", cal.index(nw.col("merged_date")).alias("_p")
        )
        .join(linked, on="pr_id", how="semi")
    )
    return (
        tables["defects"]
        .join(pr_keys, on="pr_id", how="left")
        .select(
            nw.coalesce(nw.col("author_id"), nw.col("engineer_id")).alias("engineer_id"),
            nw.coalesce(nw.col("_p"), cal.index(nw.col("created_date"))).alias("period_index"),
        )
        .filter(~nw.col("engineer_id").is_null())
        .group_by("engineer_id", "period_index")
        .agg(nw.len().cast(nw.Int64).alias("defects"))
    )


def _incident_counts(tables: dict[str, nw.LazyFrame], cal: _Calendar) -> nw.LazyFrame:
    """Incidents per (engineer, period started): the linked engineer, else their PR's author."""
    linked = tables["incidents"].filter(~nw.col("pr_id").is_null()).select("pr_id").unique()
    pr_author = (
        tables["pull_requests"]
        .select(nw.col("id").alias("pr_id"), "author_id")
        .join(linked, on="pr_id", how="semi")
    )
    return (
        tables["incidents"]
        .join(pr_author, on="pr_id", how="left")
        .select(
            nw.coalesce(nw.col("engineer_id"), nw.col("author_id")).alias("engineer_id"),
            cal.index(nw.col("created_date")).alias("period_index"),
        )
        .filter(~nw.col("engineer_id").is_null())
        .group_by("engineer_id", "period_index")
        .agg(nw.len().cast(nw.Int64).alias("incidents"))
    )


def _outcomes(
    tables: dict[str, nw.LazyFrame],
    defects: nw.LazyFrame,
    incidents: nw.LazyFrame,
    cal: _Calendar,
    include_bots: bool,
) -> nw.LazyFrame:
    """The panel query (before collecting) over ``tables``, with defect and incident counts
    already attributed."""
    index, seconds = cal.index, cal.seconds
    engineers = tables["engineers"]
    if not include_bots:
        engineers = engineers.filter(~nw.col("is_bot"))
    people = engineers.select(
        "engineer_id",
        "team",
        "role",
        "level",
        "platform",
        "hire_date",
        index(nw.max_horizontal(nw.col("hire_date"), nw.lit(cal.start))).alias("_first"),
        index(nw.coalesce(nw.col("leave_date"), nw.lit(cal.end))).alias("_last"),
    )
    # PRs are grouped by one integer key per (engineer, period), from a small integer code
    # per engineer, rather than by (author string, period): polars can then sort on it
    # cheaply before the medians (below). Authors who are not (human) engineers drop out
    # here, as they would at the grid's left join.
    people = people.with_row_index("_code", order_by="engineer_id")
    codes = people.select(nw.col("engineer_id").alias("author_id"), "_code")
    grid = (
        people.join(cal.table, how="cross")
        .filter(nw.col("period_index").is_between(nw.col("_first"), nw.col("_last")))
        .drop("_first", "_last")
    )

    grid = grid.with_columns(_key(nw.col("_code"), nw.col("period_index")))
    prs = tables["pull_requests"].join(codes, on="author_id", how="inner")
    hours = 3600.0
    trusted = ~_approximate(prs)  # squash merges etc.: no real creation date
    merged = _with_durations(prs.filter(~nw.col("merged_date").is_null()), cal).with_columns(
        _key(nw.col("_code"), index(nw.col("merged_date"))),
        nw.when(trusted).then(nw.col("_cycle_s") / hours).clip(lower_bound=1 / 60).alias("cycle_h"),
        nw.when(trusted).then(nw.col("_pickup_s") / hours).alias("pickup_h"),
        (nw.col("additions") + nw.col("deletions")).alias("_lines"),
    )
    if merged.implementation.is_polars():
        # polars computes a group's median from its rows in place when the rows of each
        # group are contiguous; sorting on the integer key first halves the cost of the three
        # medians (measured: 1.0-1.5 CPU s unsorted against 0.7 with the sort, 2.5M PRs).
        # SQL engines sort for their own medians, and a global sort there is pure cost.
        merged = merged.sort("_key")
    pr_stats = merged.group_by("_key").agg(
        nw.len().cast(nw.Int64).alias("merged_prs"),
        nw.col("cycle_h").log().median().alias("cycle_time_log_median"),
        nw.col("cycle_h").log().mean().alias("cycle_time_log_mean"),
        nw.col("cycle_h").median().alias("cycle_time_hours_median"),
        nw.col("pickup_h").median().alias("pickup_time_hours_median"),
        nw.col("reverted").cast(nw.Int64).sum().cast(nw.Int64).alias("reverts"),
        _count_known("reverted").alias("_revert_known"),
        nw.col("ai_assisted").cast(nw.Float64).sum().cast(nw.Float64).alias("ai_prs"),
        _count_known("ai_assisted").alias("_ai_known"),
        nw.when(_count_known("_lines") > 0)
        .then(nw.col("_lines").sum().cast(nw.Int64))
        .alias("lines_changed"),
        *_rework_parts(prs),
    )
    opened = (
        prs.select(_key(nw.col("_code"), index(nw.col("created_date"))))
        .group_by("_key")
        .agg(nw.len().cast(nw.Int64).alias("prs_opened"))
    )

    # First certification: earliest earned_date, ties broken by the smallest
    # certification_id. Written as min + join rather than an ordered window (``first`` over
    # ``order_by``), which Spark-like engines lack in narwhals; every engine picks the same row.
    certs = tables["certifications"].filter(~nw.col("earned_date").is_null())
    first_day = certs.group_by("engineer_id").agg(nw.col("earned_date").min())
    first_cert = (
        certs.join(first_day, on=["engineer_id", "earned_date"], how="inner")
        .group_by("engineer_id", "earned_date")
        .agg(nw.col("certification_id").min().alias("certification"))
        .with_columns(index(nw.col("earned_date")).alias("_cert_index"))
    )

    counts = ["merged_prs", "prs_opened", "defects", "incidents", "reverts"]
    on = ["engineer_id", "period_index"]
    return (
        grid.join(pr_stats, on="_key", how="left")
        .join(opened, on="_key", how="left")
        .join(defects, on=on, how="left")
        .join(incidents, on=on, how="left")
        .join(first_cert, on="engineer_id", how="left")
        .with_columns(
            *(nw.col(c).fill_null(0) for c in counts),
            nw.col("ai_prs").fill_null(0.0),
            nw.when(nw.col("merged_prs").is_null())  # no merged PR in the period: nothing changed
            .then(nw.lit(0, nw.Int64))
            .otherwise(nw.col("lines_changed"))
            .alias("lines_changed"),
        )
        .with_columns(
            nw.when(nw.col("_written") > 0)
            .then(nw.col("_churned") / nw.col("_written"))
            .alias("rework_rate"),
            _rate("defects", nw.col("merged_prs") > 0).alias("defects_per_pr"),
            _rate("reverts", nw.col("_revert_known") > 0).alias("revert_rate"),
            _rate("ai_prs", nw.col("_ai_known") > 0).alias("ai_share"),
            (
                (
                    epoch_days(nw.col("period")) - epoch_days(nw.col("hire_date"))
                    if cal.portable  # dates: whole days, without Spark's nested divisions
                    else (seconds(_as_datetime("period"), _as_datetime("hire_date")) // 86400)
                ).cast(nw.Int64)
                / 30.4375
            )
            .clip(lower_bound=0)
            .alias("tenure_months"),
            # 0 not certified inside the window (never, or after its last period: such
            # engineers are untreated throughout, as R did treats units first treated after
            # the last period); -1 certified before the data start
            nw.when(nw.col("earned_date").is_null())
            .then(nw.lit(0))
            .when(nw.col("_cert_index") < 1)
            .then(nw.lit(-1))
            .when(nw.col("_cert_index") <= cal.n_periods)
            .then(nw.col("_cert_index"))
            .otherwise(nw.lit(0))
            .cast(nw.Int32)
            .alias("cohort"),
        )
        .with_columns(
            nw.when(nw.col("cohort") != 0)
            .then(nw.col("period_index") - nw.col("cohort"))
            .cast(nw.Int32)
            .alias("event_time"),
        )
        .with_columns((nw.col("event_time").fill_null(-1) >= 0).alias("post"))
    )


#: Engines whose narwhals backend lacks duration arithmetic (``dt.total_seconds``): their
#: time differences are computed from calendar parts instead (see ``_epoch_micros``).
PORTABLE_ENGINES = ("pyspark", "pyspark-connect", "sqlframe")

_TABLES = ("engineers", "certifications", "pull_requests", "defects", "incidents")


def period_start(day: date, period: str) -> date:
    """First day of the period holding ``day`` (ISO weeks start on Monday)."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    return day.replace(day=1)


def _period_starts(start: date, end: date, period: str) -> list[date]:
    out = [start]
    while out[-1] < end:
        d = out[-1]
        if period == "week":
            out.append(d + timedelta(days=7))
        else:
            step = 3 if period == "quarter" else 1
            month = d.month - 1 + step
            out.append(date(d.year + month // 12, month % 12 + 1, 1))
    return out


def _period_index(expr: nw.Expr, period: str, start: date, portable: bool) -> nw.Expr:
    """1-based index of the period holding ``expr`` (a date or naive UTC datetime).

    Values before ``start`` get an index below 1, values after the end one above T: neither
    meets the grid. Integer arithmetic instead of ``truncate`` so every engine agrees (ISO
    weeks have no portable truncation) and joins run on a small integer key.
    """
    if period == "week" and portable:  # whole days: no nested divisions for Spark's analyzer
        days = epoch_days(expr) - (start - date(1970, 1, 1)).days
        return nw.when(days >= 0).then(days // 7 + 1).otherwise(0).cast(nw.Int32)
    if period == "week":
        seconds = _seconds(
            expr.cast(nw.Datetime("us")), nw.lit(datetime.combine(start, time())), portable
        )
        return nw.when(seconds >= 0).then(seconds // (7 * 86400) + 1).otherwise(0).cast(nw.Int32)
    year = expr.dt.year().cast(nw.Int32) - start.year
    month = expr.dt.month().cast(nw.Int32)
    if period == "quarter":
        return (year * 4 + (month - 1) // 3 - (start.month - 1) // 3 + 1).cast(nw.Int32)
    return (year * 12 + month - start.month + 1).cast(nw.Int32)


def _seconds(later: nw.Expr, earlier: nw.Expr, portable: bool) -> nw.Expr:
    """Whole seconds from ``earlier`` to ``later`` (truncated toward 0, as polars'
    ``total_seconds``), as Int64. ``portable``: from calendar parts, for engines without
    duration arithmetic in narwhals (Spark-like)."""
    if not portable:
        return (later - earlier).dt.total_seconds().cast(nw.Int64)
    return portable_seconds(later, earlier)


def _with_durations(prs: nw.LazyFrame, cal: _Calendar) -> nw.LazyFrame:
    """Seconds from creation to merge (``_cycle_s``) and to first review (``_pickup_s``) as
    columns, so dividing them repeats a column name, not the calendar arithmetic (narwhals'
    Spark-like division repeats its left side four times: SQLFrame took minutes on it)."""
    return prs.with_columns(
        cal.seconds(nw.col("merged_date"), nw.col("created_date")).alias("_cycle_s"),
        cal.seconds(nw.col("first_review_date"), nw.col("created_date")).alias("_pickup_s"),
    )


def _as_datetime(name: str) -> nw.Expr:
    return nw.col(name).cast(nw.Datetime("us"))


def _key(code: nw.Expr, period_index: nw.Expr) -> nw.Expr:
    """One Int64 key per (engineer code, period) for the PR group-bys and their joins.
    Period indexes of PRs lie in 1..T (the calendar spans every PR date), far below 2**20."""
    return (code.cast(nw.Int64) * (1 << 20) + period_index.cast(nw.Int64)).alias("_key")


def _count_known(name: str) -> nw.Expr:
    return (~nw.col(name).is_null()).cast(nw.Int64).sum().cast(nw.Int64)


def _rate(numerator: str, known: nw.Expr) -> nw.Expr:
    return (
        nw.when(known & (nw.col("merged_prs") > 0))
        .then(nw.col(numerator) / nw.col("merged_prs"))
        .otherwise(None)
    )


def _approximate(prs: nw.LazyFrame) -> nw.Expr:
    """Narwhals form of :func:`approximate_created`."""
    if "created_source" not in prs.collect_schema().names():
        return nw.lit(False)
    return nw.col("created_source").is_in(list(APPROXIMATE_CREATED)).fill_null(False)


def _rework_parts(prs: nw.LazyFrame) -> list[nw.Expr]:
    """Churned and written lines of merged PRs, when the import ran the git line ledger."""
    churn = [c for c in prs.collect_schema().names() if re.fullmatch(r"churned_lines_\d+d", c)]
    if not churn:
        return [
            nw.lit(None, nw.Int64).alias("_churned"),
            nw.lit(None, nw.Int64).alias("_written"),
        ]
    known = ~nw.col(churn[0]).is_null() & ~nw.col("additions").is_null()
    # an empty sum is 0 in polars and NULL in SQL engines: make it 0 everywhere
    return [
        nw.coalesce(nw.when(known).then(nw.col(churn[0])).sum().cast(nw.Int64), nw.lit(0))
        .cast(nw.Int64)
        .alias("_churned"),
        nw.coalesce(nw.when(known).then(nw.col("additions")).sum().cast(nw.Int64), nw.lit(0))
        .cast(nw.Int64)
        .alias("_written"),
    ]


def _utc_naive(frame: nw.LazyFrame) -> nw.LazyFrame:
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
