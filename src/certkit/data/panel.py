"""Engineer x period outcome panel: the input of every estimator.

Conventions (documented in ``docs/data-model.md``):

* Engineers are in the panel from the period of their hire date (or the data start) to the
  period of their leave date (or the data end). A hire (leave) period the engineer joined
  (left) well inside is left out for them, as is the data's partial last period for
  everyone (:mod:`certkit.data.panel_calendar`). Bots are left out unless asked for.
* PR outcomes are counted in the period the PR was **merged** (cycle time is only known then);
  ``prs_opened`` counts by creation. Defects are attributed to the merge period of the PR that
  caused them (or, without a PR link, to the period they were reported); incidents to the
  period they started, and to the engineer linked directly or through the PR. A link to a PR
  merged at or after the defect was reported (or the incident started), or never merged,
  names the fix, not the cause: it is not charged to the PR's author
  (``fix_links="drop"``, see :mod:`certkit.data.panel_links`).
* Cycle and pickup times leave out PRs whose creation date was approximated from git alone
  (``created_source`` in :data:`APPROXIMATE_CREATED`, e.g. squash merges); they still count
  in throughput and the other outcomes.
* Periods with no merged PR are present with counts of 0 and rate/duration outcomes null.
* ``cohort`` is the index of the period of the first certification (0 = never certified);
  ``event_time`` = ``period_index - cohort``. Engineers certified before or in their first
  observed period (no pre-certification data) or after their last (no post-certification
  data) are left out, with a warning.
"""

from __future__ import annotations

import warnings

import narwhals as nw
import polars as pl

from certkit.data.dataset import Dataset
from certkit.data.panel_buckets import (
    auto_buckets,
    can_bucket,
    engineer_ranges,
    in_bucket,
    materialize,
)
from certkit.data.panel_calendar import (
    PERIODS,
    Calendar,
    panel_calendar,
    without_one_sided,
    without_partial_periods,
)
from certkit.data.panel_engines import (
    PANEL_SCHEMA,
    collect_polars,
    complete,
    epoch_days,
    same_engine,
    to_lazy,
    utc_naive,
)
from certkit.data.panel_links import caused_expr, check_fix_links, fix_warnings, linked_prs
from certkit.data.schema import rework_columns
from certkit.errors import CertkitError, CertkitWarning
from certkit.progress import progress_bar

#: ``pull_requests.created_source`` values whose creation date was approximated from git
#: alone (a squash commit's author date, a merge without branch commits, a direct push, a
#: reviewed change merged by fast-forward, whose merge time git does not keep, one exported
#: from an internal review system with a single date for both, a branch of
#: old history rewritten onto a new one): the time from creation to merge is not the PR's
#: cycle time. ``github``/``devlake`` (and a
#: merged branch's first commit) are trusted; a missing column means the user supplied dates.
APPROXIMATE_CREATED = (
    "squash_commit",
    "merge_commit",
    "commit",
    "fast_forward",
    "exported",
    "imported_history",
    "self_landed",
)


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
    "defects": "defects traced to the period's merged PRs (merged before the defect was reported)",
    "defects_per_pr": "defects per merged PR (null without merged PRs)",
    "incidents": "incidents caused (linked to the engineer, or their PR merged before it started)",
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
    progress: bool | None = None,
    fix_links: str = "drop",
    keep_arrivals: bool = False,
    keep_partial_end: bool = False,
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
        bucket per :data:`~certkit.data.panel_buckets.BUCKET_PRS` PRs for DuckDB relations, and for a polars LazyFrame
        PR table (e.g. ``pl.scan_parquet``) with ``streaming`` on; else 1. A Parquet source
        sorted or partitioned by engineer reads each bucket's row groups only (statistics).
    progress
        A progress bar over the steps (defects, incidents, engineers, then each engineer
        bucket's outcomes), as text on standard error (no widget: notebooks without
        ipywidgets stay quiet): ``True`` always,
        ``False`` never, ``None`` (default) when there is more than one bucket (big
        organisations, where the panel takes seconds to minutes).
    fix_links
        ``"drop"`` (default): a defect or incident whose ``pr_id`` names a PR merged at or
        after the row's ``created_date`` (or never merged) is not charged to that PR's
        author: that PR most likely fixed it (Jira's GitHub panel and DevLake's
        ``pull_request_issues`` link fixes). It counts in organisation totals only, or for
        the ``engineer_id`` the row names; a warning says how many. ``"keep"``: every link
        names the PR that caused the row (your links say so).
    keep_arrivals
        Keep the engineers certified before or in their first observed period, and those
        certified after their last (a leaver certified in the period they left inside)
        (default: left out with a warning, as R's ``did`` drops units treated from the
        start). For analyses that only group engineers by certification, such as the
        AI-adoption study, which would otherwise lose them.
    keep_partial_end
        Keep the data's last period when the data end well inside it (default: left out
        with a warning). An export taken on 22 August has about 70% of August's PRs for
        every engineer; a comparison of levels reads that shortfall as an outcome, larger for
        busier engineers. The period is partial when no PR was opened or merged in its last
        day and :data:`~certkit.data.panel_calendar.PARTIAL_GAP_INTERVALS` times the data's
        usual interval between PRs (by chance, under 1 in 1,000).

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
    drop = check_fix_links(fix_links) == "drop"
    tables = {name: to_lazy(getattr(dataset, name), name) for name in _TABLES}
    engine = same_engine(tables)
    portable = engine in PORTABLE_ENGINES
    tables = {name: utc_naive(complete(name, frame)) for name, frame in tables.items()}
    prs = tables["pull_requests"]

    cal, n_prs = panel_calendar(tables, period, portable, streaming, keep_partial_end)

    # the PRs defects and incidents link to, found in one pass over the PRs and kept in the
    # engine where it can (polars, DuckDB 2) for the attribution and the fix-link words
    linked = linked_prs(tables)
    if can_bucket(prs):
        linked = materialize(linked, streaming)
    links = {**tables, "pull_requests": linked}
    defects = _defect_counts(links, cal, drop)
    incidents = _incident_counts(links, cal, drop)
    said = [] if not drop else fix_warnings(links, dataset, streaming)
    if buckets is None:
        buckets = auto_buckets(dataset, engine, n_prs, streaming)
    ranges = engineer_ranges(tables["engineers"], buckets) if can_bucket(prs) else []
    todo = ranges if len(ranges) > 1 else [None]
    shown = progress if progress is not None else len(todo) > 1
    steps = len(todo) + (3 if len(todo) > 1 else 1)
    bar = progress_bar(total=steps, desc="panel", unit="step", disable=not shown, plain=True)
    if len(todo) > 1:
        # attributed once for all buckets (a defect's PR may be anyone's), then split
        bar.set_postfix_str("defects")
        defects = materialize(defects, streaming)
        bar.update()
        bar.set_postfix_str("incidents")
        incidents = materialize(incidents, streaming)
        bar.update()
    # The per-engineer columns (strings) are joined in polars from one small table, not
    # brought back from the engine on every row (measured: DuckDB's string columns pinned
    # about 3x their size, 1 GB more at 60M PRs); each part gets them as it is collected.
    bar.set_postfix_str("engineers")
    covariates = collect_polars(_covariates(tables, cal, include_bots), streaming=streaming)
    covariates = covariates.cast(_schema(["engineer_id", *COVARIATES]))
    bar.update()
    repeated = covariates.filter(pl.col("engineer_id").is_duplicated())["engineer_id"]
    if repeated.len():
        bar.close()
        raise CertkitError(
            f"table engineers: engineer_id must be unique; {repeated.n_unique()} id(s) appear "
            f"more than once (e.g. {repeated[0]!r})"
        )
    parts = []
    for i, bucket in enumerate(todo, start=1):
        bar.set_postfix_str(f"outcomes, engineer bucket {i}/{len(todo)}")
        query = _outcomes(*in_bucket(tables, defects, incidents, bucket), cal, include_bots)
        rows = _collect_part(query, streaming)
        rows = rows.join(covariates, on="engineer_id", how="left", maintain_order="left")
        parts.append(rows.select(list(PANEL_SCHEMA)))
        bar.update()
    bar.close()
    # the ranges are disjoint and in order, so the sorted parts concatenate sorted
    panel = pl.concat(parts)
    leavers = collect_polars(
        tables["engineers"]
        .select("engineer_id", "leave_date")
        .filter(~nw.col("leave_date").is_null()),
        streaming=streaming,
    )
    tenure = covariates.select("engineer_id", "hire_date", "role", "level").join(
        leavers.cast({"engineer_id": pl.String}), on="engineer_id", how="left"
    )
    panel = without_partial_periods(panel, tenure, cal)
    # after the partial periods: a first (last) period left out can leave a certified
    # engineer with no period before (after) certifying
    n_arrival = n_departure = 0
    if not keep_arrivals:
        panel, n_arrival, n_departure = without_one_sided(panel)
    late = panel.filter((pl.col("cohort") == 0) & pl.col("certification").is_not_null())
    if late.height:
        warnings.warn(
            f"{late['engineer_id'].n_unique()} engineer(s) were certified after the data's last "
            f"{period}: they are not certified inside the window and compare as never "
            "certified (cohort 0), as R's did treats units first treated after the last period.",
            CertkitWarning,
            stacklevel=2,
        )
    if n_arrival:
        warnings.warn(
            f"{n_arrival} engineer(s) were certified before (or in) their first observed "
            f"{period}: they have no pre-certification data and are left out of the panel.",
            CertkitWarning,
            stacklevel=2,
        )
    if n_departure:
        warnings.warn(
            f"{n_departure} engineer(s) were certified after their last observed {period} "
            f"(they left inside the {period} they certified in, or before it): they have no "
            "post-certification data and are left out of the panel.",
            CertkitWarning,
            stacklevel=2,
        )
    for text in said:
        warnings.warn(text, CertkitWarning, stacklevel=2)
    return panel


#: Per-engineer columns of the panel, joined after collecting (see ``build_panel``).
COVARIATES = ("team", "role", "level", "platform", "hire_date", "certification", "earned_date")


def _schema(columns: tuple[str, ...] | list[str]) -> dict[str, pl.DataType]:
    return {c: PANEL_SCHEMA[c] for c in columns}


def _collect_part(query: nw.LazyFrame, streaming: bool) -> pl.DataFrame:
    """Collect (part of) the panel without its per-engineer columns, in the canonical types,
    sorted."""
    columns = [c for c in PANEL_SCHEMA if c not in COVARIATES]
    part = collect_polars(query.select(*columns), streaming=streaming)
    part = part.cast(_schema(columns))  # engines differ in integer widths and decimals
    return part.sort("engineer_id", "period_index")


def _covariates(tables: dict[str, nw.LazyFrame], cal: Calendar, include_bots: bool) -> nw.LazyFrame:
    """One row per engineer: :data:`COVARIATES` (the first certification's name and date)."""
    first_cert = _first_certification(tables, cal)
    return (
        _people(tables, include_bots)
        .select("engineer_id", "team", "role", "level", "platform", "hire_date")
        .join(
            first_cert.select("engineer_id", "certification", "earned_date"),
            on="engineer_id",
            how="left",
        )
    )


def _people(tables: dict[str, nw.LazyFrame], include_bots: bool) -> nw.LazyFrame:
    engineers = tables["engineers"]
    return engineers if include_bots else engineers.filter(~nw.col("is_bot"))


def _first_certification(tables: dict[str, nw.LazyFrame], cal: Calendar) -> nw.LazyFrame:
    """Each engineer's first certification: earliest ``earned_date``, ties broken by the
    smallest ``certification_id``. Written as min + join rather than an ordered window
    (``first`` over ``order_by``), which Spark-like engines lack in narwhals; every engine
    picks the same row."""
    certs = tables["certifications"].filter(~nw.col("earned_date").is_null())
    first_day = certs.group_by("engineer_id").agg(nw.col("earned_date").min())
    return (
        certs.join(first_day, on=["engineer_id", "earned_date"], how="inner")
        .group_by("engineer_id", "earned_date")
        .agg(nw.col("certification_id").min().alias("certification"))
        .with_columns(cal.index(nw.col("earned_date")).alias("_cert_index"))
    )


def _defect_counts(tables: dict[str, nw.LazyFrame], cal: Calendar, drop: bool) -> nw.LazyFrame:
    """Defects per (engineer, period): the defect's own engineer when it names one (a
    post-incident review names who; incidents read the same way), else their PR's author; in
    the PR's merge period, else the defect's own. ``tables["pull_requests"]`` holds only the
    PRs a defect or incident links to (:func:`~certkit.data.panel_links.linked_prs`), so no hash
    table of every PR id is built, and periods are computed after the joins, for the defects'
    rows only (not for every merged PR). ``drop``: a PR merged at or
    after the defect was reported is its fix, not its cause (the defect's own engineer and
    period, as without a link)."""
    pr_keys = (
        tables["pull_requests"]  # only the PRs a defect or incident links to (linked_prs)
        .filter(~nw.col("merged_date").is_null())
        .select(nw.col("id").alias("pr_id"), "author_id", "merged_date")
    )
    linked = tables["defects"].join(pr_keys, on="pr_id", how="left")
    if drop:  # the fix's merge: as if unlinked (an unmerged PR joins no row already)
        kept = caused_expr(nw.col("merged_date"), nw.col("created_date")).fill_null(True)
        linked = linked.with_columns(
            nw.when(kept).then(nw.col(c)).alias(c) for c in ("author_id", "merged_date")
        )
    return (
        linked.select(
            nw.coalesce(nw.col("engineer_id"), nw.col("author_id")).alias("engineer_id"),
            nw.coalesce(cal.index(nw.col("merged_date")), cal.index(nw.col("created_date"))).alias(
                "period_index"
            ),
        )
        .filter(~nw.col("engineer_id").is_null())
        .group_by("engineer_id", "period_index")
        .agg(nw.len().cast(nw.Int64).alias("defects"))
    )


def _incident_counts(tables: dict[str, nw.LazyFrame], cal: Calendar, drop: bool) -> nw.LazyFrame:
    """Incidents per (engineer, period started): the linked engineer, else their PR's author
    (``drop``: only a PR merged before the incident started; a later or unmerged one is the
    fix). ``tables["pull_requests"]``: the linked PRs only, as for :func:`_defect_counts`."""
    pr_author = tables["pull_requests"].select(  # the linked PRs only (linked_prs)
        nw.col("id").alias("pr_id"), "author_id", "merged_date"
    )
    linked = tables["incidents"].join(pr_author, on="pr_id", how="left")
    if drop:
        caused = caused_expr(nw.col("merged_date"), nw.col("created_date")).fill_null(False)
        linked = linked.with_columns(nw.when(caused).then(nw.col("author_id")).alias("author_id"))
    return (
        linked.select(
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
    cal: Calendar,
    include_bots: bool,
) -> nw.LazyFrame:
    """The panel query (before collecting) over ``tables``, with defect and incident counts
    already attributed."""
    index, seconds = cal.index, cal.seconds
    people = _people(tables, include_bots).select(
        "engineer_id",
        "hire_date",
        index(nw.max_horizontal(nw.col("hire_date"), nw.lit(cal.start))).alias("_first"),
        index(nw.coalesce(nw.col("leave_date"), nw.lit(cal.end))).alias("_last"),
    )
    # PRs are grouped by one integer key per (engineer, period), from a small integer code
    # per engineer, rather than by (author string, period): hashing one Int64 is cheaper
    # than a string and an integer. Authors who are not (human) engineers drop out here,
    # as they would at the grid's left join.
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
    pr_stats = merged.group_by("_key").agg(
        nw.len().cast(nw.Int64).alias("merged_prs"),
        nw.col("cycle_h").log().median().alias("cycle_time_log_median"),
        nw.col("cycle_h").log().mean().alias("cycle_time_log_mean"),
        nw.col("cycle_h").median().alias("cycle_time_hours_median"),
        nw.col("pickup_h").median().alias("pickup_time_hours_median"),
        # unknown when no merged PR of the period says (a DevLake import: trial S), not 0
        nw.when(_count_known("reverted") > 0)
        .then(nw.col("reverted").cast(nw.Int64).sum().cast(nw.Int64))
        .alias("reverts"),
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

    first_cert = _first_certification(tables, cal).select(
        "engineer_id", nw.col("earned_date").alias("_earned"), "_cert_index"
    )

    counts = ["merged_prs", "prs_opened", "defects", "incidents"]
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
            # no merged PR in the period: none reverted, nothing changed
            nw.when(nw.col("merged_prs").is_null())
            .then(nw.lit(0, nw.Int64))
            .otherwise(nw.col("reverts"))
            .alias("reverts"),
            nw.when(nw.col("merged_prs").is_null())
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
            nw.when(nw.col("_earned").is_null())
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


def _with_durations(prs: nw.LazyFrame, cal: Calendar) -> nw.LazyFrame:
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
    churn = rework_columns(prs.collect_schema().names())
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
