"""The periods of a panel, and time arithmetic that gives the same answer on every engine.

Period indexes and time differences are written as narwhals expressions with integer
arithmetic (no ``truncate``: ISO weeks have no portable truncation), so polars, DuckDB and
the Spark-like engines agree to the second. ``portable`` selects calendar-part arithmetic for
engines whose narwhals backend lacks duration arithmetic (Spark-like).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import narwhals as nw
import polars as pl

from certkit.data.panel_engines import collect_polars, epoch_days, periods_table, portable_seconds
from certkit.errors import CertkitError, CertkitWarning

#: The panel's periods and their polars intervals (ISO weeks start on Monday, as the panel's).
PERIODS = {"week": "1w", "month": "1mo", "quarter": "1q"}


@dataclass(frozen=True)
class Calendar:
    """The periods of one panel and the time arithmetic of its engine."""

    period: str
    start: date
    end: date
    n_periods: int
    portable: bool
    table: nw.LazyFrame
    #: The data's partial last period, left out (its first day), or None.
    dropped: date | None = None

    def index(self, expr: nw.Expr) -> nw.Expr:
        return period_index(expr, self.period, self.start, self.portable)

    def seconds(self, later: nw.Expr, earlier: nw.Expr) -> nw.Expr:
        return seconds_between(later, earlier, self.portable)


def period_start(day: date, period: str) -> date:
    """First day of the period holding ``day`` (ISO weeks start on Monday)."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    return day.replace(day=1)


def period_starts(start: date, end: date, period: str) -> list[date]:
    """First days of the periods from the one starting at ``start`` to the one at ``end``."""
    out = [start]
    while out[-1] < end:
        out.append(next_period_start(out[-1], period))
    return out


def period_index(expr: nw.Expr, period: str, start: date, portable: bool) -> nw.Expr:
    """1-based index of the period holding ``expr`` (a date or naive UTC datetime).

    Values before ``start`` get an index below 1, values after the end one above T: neither
    meets the grid. A null date has a null index. Integer arithmetic instead of ``truncate`` so every engine agrees (ISO
    weeks have no portable truncation) and joins run on a small integer key.
    """
    if period == "week" and portable:  # whole days: no nested divisions for Spark's analyzer
        days = epoch_days(expr) - (start - date(1970, 1, 1)).days
        return nw.when(days < 0).then(0).otherwise(days // 7 + 1).cast(nw.Int32)
    if period == "week":
        seconds = seconds_between(
            expr.cast(nw.Datetime("us")), nw.lit(datetime.combine(start, time())), portable
        )
        return nw.when(seconds < 0).then(0).otherwise(seconds // (7 * 86400) + 1).cast(nw.Int32)
    year = expr.dt.year().cast(nw.Int32) - start.year
    month = expr.dt.month().cast(nw.Int32)
    if period == "quarter":
        return (year * 4 + (month - 1) // 3 - (start.month - 1) // 3 + 1).cast(nw.Int32)
    return (year * 12 + month - start.month + 1).cast(nw.Int32)


def seconds_between(later: nw.Expr, earlier: nw.Expr, portable: bool) -> nw.Expr:
    """Whole seconds from ``earlier`` to ``later`` (truncated toward 0, as polars'
    ``total_seconds``), as Int64. ``portable``: from calendar parts, for engines without
    duration arithmetic in narwhals (Spark-like)."""
    if not portable:
        return (later - earlier).dt.total_seconds().cast(nw.Int64)
    return portable_seconds(later, earlier)


#: The data's last period is partial when no PR was opened or merged in its last stretch of
#: at least a day and this many times the usual interval between PRs: at the data's own rate,
#: a gap that long happens by chance less than once in a thousand (``exp(-7)``).
PARTIAL_GAP_INTERVALS = 7


def partial_last_period(
    first: datetime,
    last: datetime,
    n_prs: int,
    period: str,
    last_is: str = "the last PR an engineer opened or merged; bots' PRs do not count",
) -> tuple[date, str] | None:
    """The data's last period when the data end inside it: ``(its first day, the words)``.

    ``first`` and ``last`` are the data's first and last PR events (opened or merged),
    ``n_prs`` the PRs between them. An export taken on 22 August holds 22 of August's 31
    days, so August counts about 70% of a month's PRs for every engineer, and a comparison of
    levels reads the shortfall as an outcome (larger for busier engineers). None when the
    last event is near the period's close at the data's rate (the period looks complete),
    when too few PRs make the rate unreadable, or when two periods or fewer would remain.
    Both ``build_panel`` and the DevLake pushdown decide with it. ``last_is``: what ``last``
    is, in words (trial AF: the import said the last PR was on the 20th, a bot's).
    """
    begins = period_start(last.date(), period)
    closes = datetime.combine(next_period_start(begins, period), time())
    span = (last - first).total_seconds()
    if n_prs < 2 or span <= 0 or len(period_starts(first.date(), begins, period)) <= 2:
        return None
    interval = span / (n_prs - 1)
    gap = (closes - last).total_seconds()
    if gap < max(86400.0, PARTIAL_GAP_INTERVALS * interval):
        return None
    seen = (last.date() - begins).days + 1
    length = (closes.date() - begins).days
    words = (
        f"The data end on {last.date().isoformat()} ({last_is}), "
        f"{seen} of the {length} days of {period_label(begins, period)}, where the data's PRs came "
        f"{_every(interval)}: that {period} is left out of the panel, as a partial {period} counts "
        f"fewer PRs for every engineer and a comparison of levels reads the shortfall as an "
        f"effect (keep it with keep_partial_end=True, certkit panel --keep-partial-end or, in a "
        "report, -p keep_partial_end=true)."
    )
    return begins, words


def next_period_start(begins: date, period: str) -> date:
    """First day of the period after the one starting on ``begins``."""
    if period == "week":
        return begins + timedelta(days=7)
    step = 3 if period == "quarter" else 1
    month = begins.month - 1 + step
    return date(begins.year + month // 12, month % 12 + 1, 1)


def period_label(begins: date, period: str) -> str:
    """A period in words: ``August 2026``, ``2026 Q3``, ``the week of 2026-08-17``."""
    if period == "week":
        return f"the week of {begins.isoformat()}"
    if period == "quarter":
        return f"{begins.year} Q{(begins.month - 1) // 3 + 1}"
    return begins.strftime("%B %Y")


def _every(seconds: float) -> str:
    """'every 2 hours', 'every 3 days': the usual interval between PRs, in words."""
    hours = seconds / 3600
    if hours < 1:
        return "more than once an hour"
    if hours < 48:
        n = round(hours)
        return "every hour" if n == 1 else f"every {n} hours"
    return f"every {round(hours / 24)} days"


def panel_calendar(
    tables: dict[str, nw.LazyFrame],
    period: str,
    portable: bool,
    streaming: bool,
    keep_partial_end: bool,
) -> tuple[Calendar, int]:
    """The panel's periods (:class:`Calendar`) and the number of the engineers' PRs, from
    the first merged PR to the last PR opened or merged (a partial last period left out
    unless ``keep_partial_end``: :func:`partial_last_period`), as ``build_panel`` reads them.
    """
    prs = tables["pull_requests"]
    # the window is that of the PRs the panel counts: those of engineers in the roster (a
    # git import keeps outside authors' PRs, which validation leaves out of the analysis; they
    # stretched the window by 3 months on httpx, so ck.build_panel(ck.load(folder)) and the
    # report, which drops them, gave different numbers: trial F)
    authors = tables["engineers"].select(nw.col("engineer_id").alias("author_id"))

    def window(frame: nw.LazyFrame) -> dict:
        return collect_polars(
            frame.select(
                nw.len().cast(nw.Int64).alias("n"),
                nw.col("created_date").min().alias("first_created"),
                nw.col("merged_date").min().alias("first_merged"),
                nw.max_horizontal(nw.col("created_date").max(), nw.col("merged_date").max()).alias(
                    "end"
                ),
            ),
            streaming=streaming,
        ).row(0, named=True)

    bounds = window(prs.join(authors, on="author_id", how="semi"))
    if not bounds["n"]:  # no engineer's PR: the window of every row (the DevLake pushdown
        bounds = window(prs)  # hands over two calendar rows by a placeholder author)
    if not bounds["n"]:
        raise CertkitError("pull_requests is empty: there is nothing to build a panel from")
    # The window opens with the first merged PR (throughput, the main outcome, counts merges):
    # a git import with --since holds PRs whose first commit is years older (cargo's from
    # 2020 on an import since 2022), and a window opened there gave every engineer months
    # of zero PRs that were never read. Without merged PRs, the first creation.
    first = bounds["first_merged"] or bounds["first_created"]
    start = period_start(first.date(), period)
    end = period_start(bounds["end"].date(), period)
    periods = period_starts(start, end, period)
    dropped = None
    if not keep_partial_end:
        # the rate of the PRs the window is read from, the engineers' (trial AH: a report,
        # whose data hold no bot's PR, said "every 15 hours" where Python said 14)
        opens = datetime.combine(start, time())
        partial = partial_last_period(opens, bounds["end"], bounds["n"], period)
        if partial:
            periods, end, dropped = periods[:-1], periods[-2], partial[0]
            warnings.warn(partial[1], CertkitWarning, stacklevel=3)
    cal = Calendar(period, start, end, len(periods), portable, periods_table(prs, periods), dropped)
    return cal, bounds["n"]


#: Days before a period's close within which a leave date still counts the period as whole
#: (a Friday for an ISO week; a month's last weekend).
LEAVE_SLACK_DAYS = {"week": 2, "month": 3, "quarter": 3}
#: Days after a period's start within which a hire date still counts the period as whole
#: (a Monday for an ISO week; a month's first weekend).
HIRE_SLACK_DAYS = {"week": 0, "month": 3, "quarter": 3}


def partial_tenure_periods(engineers: pl.DataFrame, period: str) -> pl.DataFrame:
    """``(engineer_id, period, side)`` of the periods engineers joined or left inside: a
    ``hire_date`` more than :data:`HIRE_SLACK_DAYS` after the period's start (``side``
    "hire"), a ``leave_date`` more than :data:`LEAVE_SLACK_DAYS` before its close ("leave").

    Such a period counts fewer PRs for that engineer only, and a comparison reads the
    shortfall as an outcome (trial X, pydantic-ai: a leaver on 15 March had a March of 0 PRs
    after months of 16 and 15; trial AC, ruff: engineers hired on the 24th and the 25th had
    first months of 0 PRs in their pre-certification periods). An author the import added
    from outside the roster has their first activity as hire date: their first period is as
    short, yet it holds at least one PR by construction, and many outside authors have all
    their PRs in it (left out, DevLake's own test data, whose authors are all outside any
    roster, lost more than half of its merged PRs from the panel): that period is kept for
    them (:func:`~certkit.data.certification_checks.added_by_import`). ``engineers``:
    ``engineer_id``, ``hire_date`` and, optionally, ``leave_date`` (dates), ``role`` and
    ``level``."""
    step = PERIODS[period]
    schema = {"engineer_id": pl.String, "period": pl.Date, "side": pl.String}
    parts = []
    for side, column, days in (
        ("hire", "hire_date", -(1 + HIRE_SLACK_DAYS[period])),
        ("leave", "leave_date", 1 + LEAVE_SLACK_DAYS[period]),
    ):
        if column not in engineers.columns:
            continue
        day = pl.col(column).cast(pl.Date)
        # whole when the slack reaches into the period before (hire) or after (leave)
        shifted = day.dt.offset_by(f"{days}d")
        rows = engineers.drop_nulls(column)
        if side == "hire":
            from certkit.data.certification_checks import added_by_import  # (a cycle)

            rows = rows.filter(~added_by_import(rows))
        parts.append(
            rows.filter(shifted.dt.truncate(step) == day.dt.truncate(step)).select(
                pl.col("engineer_id").cast(pl.String),
                day.dt.truncate(step).alias("period"),
                pl.lit(side).alias("side"),
            )
        )
    return pl.concat(parts).cast(schema) if parts else pl.DataFrame(schema=schema)


def without_partial_periods(
    panel: pl.DataFrame, tenure: pl.DataFrame, cal: Calendar
) -> pl.DataFrame:
    """``panel`` without the periods engineers joined or left inside
    (:func:`partial_tenure_periods`), as a partial last period of the data is left out for
    everyone, with a warning for each side; and a warning on the engineers whose first day
    falls in that left-out last period (they have no period left). ``tenure``:
    ``engineer_id``, ``hire_date``, ``leave_date`` of the panel's engineers."""
    period = cal.period
    cut = partial_tenure_periods(tenure, period)
    had = panel["engineer_id"].unique()
    if cut.height:
        gone = panel.join(cut, on=["engineer_id", "period"], how="semi")
        panel = panel.join(cut, on=["engineer_id", "period"], how="anti", maintain_order="left")
        sides = gone.join(cut, on=["engineer_id", "period"])["side"]
        hired, left = (int((sides == side).sum()) for side in ("hire", "leave"))
        if hired:
            warnings.warn(
                f"{hired} engineer(s) joined inside a {period} (their hire_date more than "
                f"{HIRE_SLACK_DAYS[period]} days after the {period}'s start): that {period} is "
                f"left out of the panel for each of them, as a partial {period} counts fewer PRs "
                "(authors the import added from outside the roster keep their first one).",
                CertkitWarning,
                stacklevel=3,
            )
        if left:
            warnings.warn(
                f"{left} engineer(s) left inside a {period} (their leave_date more than "
                f"{LEAVE_SLACK_DAYS[period]} days before the {period}'s end): that {period} is "
                f"left out of the panel for each of them, as a partial {period} counts fewer PRs.",
                CertkitWarning,
                stacklevel=3,
            )
        emptied = had.filter(~had.is_in(panel["engineer_id"].unique().implode())).len()
        if emptied:
            warnings.warn(
                f"{emptied} engineer(s) have no whole {period} in the data (joined and left, "
                f"or joined when the data end, inside one {period}): they are not in the panel.",
                CertkitWarning,
                stacklevel=3,
            )
    if cal.dropped is not None:  # trial AC: 428 engineers on some pages, 417 on others
        arrivals_in_dropped(tenure, panel, cal.dropped, period)
    return panel


def arrivals_in_dropped(
    engineers: pl.DataFrame, panel: pl.DataFrame, dropped: date, period: str
) -> None:
    """Warn about the engineers (``engineer_id``, ``hire_date``) whose hire date, or first PR,
    falls in the partial last period left out (first day ``dropped``), so none of their periods
    is in ``panel``. Said by ``build_panel`` and the DevLake pushdown (trial AG: 8 engineers
    seen only in the dropped August left the pushdown's panel unsaid)."""
    arrived = engineers.filter(
        (pl.col("hire_date").cast(pl.Date) >= dropped)
        & ~pl.col("engineer_id").is_in(panel["engineer_id"].unique().implode())
    ).height
    if arrived:
        warnings.warn(
            f"{arrived} engineer(s) appear only in the partial last {period} left out "
            f"(their hire date, or first PR, falls in it): they have no {period} in the "
            "panel.",
            CertkitWarning,
            stacklevel=4,
        )


def without_one_sided(panel: pl.DataFrame) -> tuple[pl.DataFrame, int, int]:
    """``panel`` without the certified engineers it cannot compare before and after: certified
    before or in their first observed period (arrivals: no time before; R's ``did`` drops
    units treated from the start), or after their last (departures: a leaver certified in
    the period they left inside, which is left out, or after it; trial AB: such an engineer
    moved pydantic-ai's headline from -5.21 to -4.41 PRs as a treated unit with no outcome
    after treatment). Returns the panel and the two engineer counts."""
    first = pl.col("period_index").min().over("engineer_id")
    last = pl.col("period_index").max().over("engineer_id")
    treated = pl.col("cohort") != 0
    arrival = treated & (pl.col("cohort") <= first)
    departure = treated & (pl.col("cohort") > last)
    flagged = panel.select("engineer_id", arrival.alias("a"), departure.alias("d"))
    n_arrival = flagged.filter("a")["engineer_id"].n_unique()
    n_departure = flagged.filter("d")["engineer_id"].n_unique()
    if n_arrival or n_departure:
        panel = panel.filter(~(flagged["a"] | flagged["d"]))
    return panel, n_arrival, n_departure
