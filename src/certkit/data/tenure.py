"""PRs merged outside their author's employment, which the panel leaves out.

Used by validation (:func:`certkit.data.validate.check_tenure` warns about PRs merged before
the author's hire month) and by the data-health page (which counts both sides).
"""

from __future__ import annotations

import polars as pl

__all__ = ["outside_tenure", "tenure_words"]


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
