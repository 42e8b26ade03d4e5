"""Whether the data's last periods are quiet: activity well below its usual level.

A history that goes quiet at its end (a project wound down, a team moved, data exported
before the last weeks were filled in) is a shock to every engineer at once. In levels, it
takes most from the busiest engineers: a difference-in-differences against a comparison
group that was never busy reads it as an effect of whatever the busy engineers share (trial
T, google-gemini/gemini-cli: commits fell from 682 to 49 a month, and "throughput about 33%
lower after certification" came from those months; ending the data before them gave -2%,
95% CI -31% to +27%). :func:`quiet_end` finds such a tail so the report can show the
estimate without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from statistics import median

import polars as pl

#: A period is quiet below this share of the usual (median) period's total.
QUIET_SHARE = 0.5
#: Periods that must remain before a quiet tail for an estimate without it.
MIN_BEFORE = 3


@dataclass(frozen=True)
class QuietEnd:
    """The data's quiet last periods."""

    start: date  #: the first quiet period
    periods: int  #: how many periods, to the end of the data
    share: float  #: their mean total as a share of the usual period's total
    column: str  #: the panel column summed


def quiet_end(
    panel: pl.DataFrame,
    column: str = "merged_prs",
    share: float = QUIET_SHARE,
    min_before: int = MIN_BEFORE,
) -> QuietEnd | None:
    """The run of last periods whose total ``column`` over all engineers is under ``share``
    of the median period's (None: no such run, or fewer than ``min_before`` periods before).

    Parameters
    ----------
    panel
        An engineer x period panel (:func:`certkit.build_panel`), with ``period``.
    column
        The count summed per period (default: merged PRs, the throughput outcome).
    share
        The share of the usual (median) period's total under which a period is quiet
        (default: half, as the data-health page's coverage gaps).
    min_before
        Periods that must remain before the quiet run.
    """
    if column not in panel.columns or "period" not in panel.columns or not panel.height:
        return None
    totals = panel.group_by("period").agg(pl.col(column).sum()).sort("period")
    values = [float(v or 0) for v in totals[column].to_list()]
    usual = median(values) if values else 0.0
    if usual <= 0:
        return None
    n = 0
    while n < len(values) and values[-1 - n] < share * usual:
        n += 1
    if n == 0 or len(values) - n < min_before:
        return None
    start = totals["period"][len(values) - n]
    start = start.date() if hasattr(start, "date") and callable(start.date) else start
    return QuietEnd(start, n, sum(values[-n:]) / n / usual, column)
