"""The periods of a panel, and time arithmetic that gives the same answer on every engine.

Period indexes and time differences are written as narwhals expressions with integer
arithmetic (no ``truncate``: ISO weeks have no portable truncation), so polars, DuckDB and
the Spark-like engines agree to the second. ``portable`` selects calendar-part arithmetic for
engines whose narwhals backend lacks duration arithmetic (Spark-like).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import narwhals as nw

from certkit.data.panel_engines import epoch_days, portable_seconds


@dataclass(frozen=True)
class Calendar:
    """The periods of one panel and the time arithmetic of its engine."""

    period: str
    start: date
    end: date
    n_periods: int
    portable: bool
    table: nw.LazyFrame

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
        d = out[-1]
        if period == "week":
            out.append(d + timedelta(days=7))
        else:
            step = 3 if period == "quarter" else 1
            month = d.month - 1 + step
            out.append(date(d.year + month // 12, month % 12 + 1, 1))
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
