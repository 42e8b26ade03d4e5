"""PRs merged outside their author's employment, and every merged PR the panel leaves out.

Used by validation (:func:`certkit.data.validate.check_tenure` warns about PRs merged before
the author's hire month) and by the data-health page (:func:`prs_outside_panel` counts both
sides, the periods engineers joined or left inside, the data's partial last period and the engineers
the panel leaves out; :func:`outside_words` says it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from certkit.data.panel_calendar import PERIODS, partial_tenure_periods

if TYPE_CHECKING:
    from certkit.data.dataset import Dataset

__all__ = ["outside_tenure", "outside_words", "prs_outside_panel", "tenure_words"]


def outside_tenure(prs: pl.DataFrame, engineers: pl.DataFrame, every: str = "1mo") -> pl.DataFrame:
    """Merged PRs of human engineers that the panel leaves out because they fall outside their
    author's employment: merged in a period before that of the author's ``hire_date``
    (``side`` "before") or after that of their ``leave_date`` ("after").

    The panel holds each engineer from the period of their hire date to that of their leave
    date (:mod:`certkit.data.panel`), so a PR merged in the hire month before the hire day
    still counts. ``every`` is the period as a polars interval (``"1mo"``, ``"1w"``, ``"1q"``;
    ISO weeks start on Monday, as the panel's). Returns the PR rows with a ``side`` column.
    """
    people = engineers.filter(~pl.col("is_bot").fill_null(False)).select(
        pl.col("engineer_id").alias("author_id"),
        pl.col("hire_date").cast(pl.Date).dt.truncate(every).alias("_hired"),
        pl.col("leave_date").cast(pl.Date).dt.truncate(every).alias("_left"),
    )
    merged = pl.col("merged_date").cast(pl.Date).dt.truncate(every)
    # on the three columns it needs, then the few rows gathered: joining every PR column
    # cost 400 MB at 2.7M PRs (ck.simulate(10_000, 24): 1.56 -> 1.96 GB peak)
    found = (
        prs.lazy()
        .select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i"), "author_id", "merged_date")
        .filter(pl.col("merged_date").is_not_null())
        .join(people.lazy(), on="author_id", how="inner")
        .select(
            "_i",
            pl.when(merged < pl.col("_hired"))
            .then(pl.lit("before"))
            .when(merged > pl.col("_left"))
            .then(pl.lit("after"))
            .alias("side"),
        )
        .filter(pl.col("side").is_not_null())
        .sort("_i")
        .collect()
    )
    return prs[found["_i"]].with_columns(found["side"])


def tenure_words(outside: pl.DataFrame, side: str, shown: int = 5) -> str:
    """``48 PRs of 3 engineers were merged before the month of their author's hire_date
    (e004: 43, e010: 4, e020: 1): outside the panel``, for :func:`outside_tenure`'s rows on
    ``side``; empty when there are none."""
    rows = outside.filter(pl.col("side") == side)
    if rows.height == 0:
        return ""
    per = (
        rows["author_id"].value_counts(name="n").sort(["n", "author_id"], descending=[True, False])
    )
    listed = ", ".join(f"{a}: {n}" for a, n in per.head(shown).iter_rows())
    more = f" and {per.height - shown} more" if per.height > shown else ""
    date = "hire_date" if side == "before" else "leave_date"
    prs = "PR" if rows.height == 1 else "PRs"
    people = "engineer" if per.height == 1 else "engineers"
    verb = "was" if rows.height == 1 else "were"
    return (
        f"{rows.height:,} {prs} of {per.height:,} {people} {verb} merged {side} the month of "
        f"their author's {date} ({listed}{more}): outside the panel, which holds each engineer "
        f"from the month of their hire_date to that of their leave_date, so they count in no "
        f"outcome (check the {date}, or the author ids of these PRs)"
    )


def prs_outside_panel(ds: Dataset, panel: pl.DataFrame, period: str = "month") -> dict:
    """Merged PRs of human engineers that count in no outcome of ``panel``: merged before the
    period of their author's hire date (``before``), after that of their leave date
    (``after``), in the period they joined (``joined_inside``) or left inside (``left_inside``),
    in the data's partial last
    period (``partial_end``), or by an engineer the panel leaves out (``left_out``: certified
    before or in their first observed period). ``merged`` is every merged PR of a human engineer, so
    ``merged - total`` is the panel's ``merged_prs`` sum. ``engineers`` counts the authors of
    the ``before`` and ``after`` PRs.
    """
    humans = ds.human_engineers()
    prs = ds.pull_requests.select("id", "author_id", "merged_date").filter(  # the columns
        pl.col("merged_date").is_not_null()  # it reads: not a copy of every PR column
        & pl.col("author_id").is_in(humans["engineer_id"].implode())
    )
    in_panel = panel["engineer_id"].unique().implode() if panel.height else pl.lit([])
    if "leave_date" not in humans.columns:
        humans = humans.with_columns(pl.lit(None, pl.Date).alias("leave_date"))
    outside = outside_tenure(prs, humans, PERIODS[period])
    before = outside.filter(pl.col("side") == "before")
    after = outside.filter(pl.col("side") == "after")
    rest = prs.filter(~pl.col("id").is_in(outside["id"].implode()))
    # the data's partial last period and the periods engineers joined or left inside, which the panel
    # leaves out (panel_calendar; trial Z: August's 166 PRs were "26 by 19 engineers left
    # out of the panel (certified before ...)", none of them certified)
    when = pl.col("merged_date").cast(pl.Date).dt.truncate(PERIODS[period]).alias("period")
    last = panel["period"].max() if panel.height else None
    late = rest.filter(when > last) if last is not None else rest.clear()
    rest = rest.filter(~pl.col("id").is_in(late["id"].implode()))
    cut = partial_tenure_periods(
        humans.select("engineer_id", "hire_date", "leave_date", "role", "level"), period
    ).rename({"engineer_id": "author_id"})
    inside = rest.with_columns(when).join(cut, on=["author_id", "period"], how="inner")
    joining = inside.filter(pl.col("side") == "hire")
    leaving = inside.filter(pl.col("side") == "leave")
    rest = rest.filter(~pl.col("id").is_in(inside["id"].implode()))
    gone = rest.filter(~pl.col("author_id").is_in(in_panel))
    return {
        "merged": prs.height,
        "before": before.height,
        "before_engineers": before["author_id"].n_unique(),
        "after": after.height,
        "after_engineers": after["author_id"].n_unique(),
        "partial_end": late.height,
        "joined_inside": joining.height,
        "joined_inside_engineers": joining["author_id"].n_unique(),
        "left_inside": leaving.height,
        "left_inside_engineers": leaving["author_id"].n_unique(),
        "left_out": gone.height,
        "left_out_engineers": gone["author_id"].n_unique(),
        "engineers": outside["author_id"].n_unique(),
        "total": outside.height + late.height + inside.height + gone.height,
    }


def outside_words(found: dict, period: str = "month", k: int = 1) -> str:
    """The data-health sentence for :func:`prs_outside_panel` (empty when none is outside).
    ``k``: a shared report's threshold; a part resting on fewer engineers than that is not
    counted (trial T: 107 PRs of 2 left-out engineers; trial AB: "15 merged in the month
    their author left inside" of one leaver)."""
    kinds = [
        ("before", f"merged before the {period} of their author's hire_date"),
        ("after", f"merged after the {period} of their author's leave_date"),
        ("joined_inside", f"merged in the {period} their author joined inside (left out for them)"),
        ("left_inside", f"merged in the {period} their author left inside (left out for them)"),
        ("partial_end", f"merged in the data's partial last {period} (the data end inside it)"),
        ("left_out", ""),
    ]
    parts, hidden, total = [], 0, 0
    for key, words in kinds:
        n = found.get(key) or 0
        if not n:
            continue
        who = found.get(f"{key}_engineers", k)
        if key != "partial_end" and who < k:  # a statistic of fewer than k engineers
            hidden += 1
            continue
        total += n
        if key == "left_out":
            words = (
                f"by {who:,} engineer{'s' if who != 1 else ''} left out of the panel (certified "
                f"before or in their first observed {period}, or after their last: no time "
                "before or after certification)"
            )
        parts.append(f"{n:,} {words}")
    if not total and hidden:
        return (
            f"Some merged PRs of engineers count in no outcome; each kind rests on fewer than "
            f"{k} engineers (joiners, leavers, late certifications) and is not counted in this shared report"
        )
    if not total:
        return ""
    also = (
        f". PRs resting on fewer than {k} engineers (joiners, leavers, late certifications) are not "
        "counted here"
        if hidden
        else ""
    )
    return (
        f"{total:,} of {found['merged']:,} merged PRs of engineers count in no outcome: "
        + "; ".join(parts)
        + also
        + f". The panel holds each engineer from their hire to their leave (a {period} they "
        f"joined or left inside excluded)"
        + (" (see the validation table below)" if found["before"] or found["after"] else "")
    )
