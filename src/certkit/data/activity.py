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


#: Trailing periods without a PR after which a roster engineer still in the data is named.
IDLE_PERIODS = {"week": 26, "month": 6, "quarter": 2}


def idle_roster(ds, panel: pl.DataFrame, period: str = "month") -> dict | None:
    """Roster engineers with no PR (opened or merged) in their last periods up to the data's
    end: ``{"engineers", "longest", "names"}``, None when there are none.

    An engineer who left without a ``leave_date`` stays in the panel with zero PRs every
    month, which every comparison reads as an outcome (trial T, gemini-cli: one roster
    engineer, last commit 2025-07, sat in the panel with 0 PRs for 13 months, and no page
    said so). Engineers the import added (not in the roster) are not counted: their last PR
    is their last sign of life anyway. ``period``: the panel's (its run of
    :data:`IDLE_PERIODS` or more)."""
    from certkit.data.certification_checks import added_by_import

    needed = {"engineer_id", "period", "merged_prs", "prs_opened"}
    if not panel.height or not needed <= set(panel.columns):
        return None
    roster = ds.human_engineers().filter(~added_by_import(ds.human_engineers()))
    last = panel["period"].max()
    rows = panel.filter(pl.col("engineer_id").is_in(roster["engineer_id"].implode()))
    active = (pl.col("merged_prs").fill_null(0) + pl.col("prs_opened").fill_null(0)) > 0
    last_active = pl.col("period").filter(active).max()
    runs = (
        rows.group_by("engineer_id")
        .agg(
            (pl.col("period").max() == last).alias("to_end"),
            # periods after the last one with a PR (all of them when there is none)
            pl.when(active.any())
            .then((pl.col("period") > last_active).sum())
            .otherwise(pl.len())
            .cast(pl.Int64)
            .alias("idle"),
        )
        .filter(pl.col("to_end") & (pl.col("idle") >= IDLE_PERIODS.get(period, 6)))
        .sort(["idle", "engineer_id"], descending=[True, False])
    )
    if not runs.height:
        return None
    return {
        "engineers": runs.height,
        "longest": int(runs["idle"][0]),
        "names": runs["engineer_id"].to_list(),
    }


def idle_words(found: dict, period: str = "month", k: int = 1) -> str:
    """The data-health sentence for :func:`idle_roster` (ids only when ``k`` is 1)."""
    n = found["engineers"]
    many = f"{n:,} engineer{'s' if n != 1 else ''} in the roster"
    who = many if n >= k else f"fewer than {k} engineers in the roster"
    named = f" ({', '.join(found['names'][:5])}{', ...' if n > 5 else ''})" if k <= 1 else ""
    # one engineer's run: not said of a group under k in a shared report
    longest = f" (the longest {found['longest']})" if k <= 1 or n >= k else ""
    verb = "has" if n == 1 and n >= k else "have"
    return (
        f"{who}{named} {verb} no PR in their last {IDLE_PERIODS.get(period, 6)} or more "
        f"{period}s up to the data's end{longest}: if they left or "
        "moved, give their leave_date; until then each empty "
        f"{period} counts as an outcome of zero PRs"
    )
