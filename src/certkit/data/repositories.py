"""Per-repository facts of a dataset: what each repository holds, and histories that end apart.

An organisation's data usually spans several repositories, each exported or cloned on its own:
when one clone is months older than the others, its engineers' last months look idle (no PR
merged) and the comparisons read that as a change (trial N: encode/starlette's history ended
2025-08-24 and encode/uvicorn's 2025-09-03, 108 and 98 days before encode/httpx's; ending the
report at the earliest moved the throughput effect from +12% to +17%).
:func:`repositories` is the data-health table; :func:`uneven_ends` the sentence the import and
the data-health page say when the last PRs of the repositories are more than a month apart.
"""

from __future__ import annotations

from datetime import date

import polars as pl

#: Repositories whose last PRs are more than this many days before the latest one's are named.
GAP_DAYS = 31


def _last_activity() -> pl.Expr:
    return pl.max_horizontal(pl.col("created_date").max(), pl.col("merged_date").max())


def repositories(prs: pl.DataFrame, humans: pl.Series | None = None, k: int = 1) -> pl.DataFrame:
    """One row per repository: PRs, merged PRs, authors, first and last PR (creation or merge).

    Parameters
    ----------
    prs
        The ``pull_requests`` table (``repo``, ``author_id``, ``created_date``, ``merged_date``).
    humans
        Ids of the human engineers: ``authors`` counts them only (bots left out).
    k
        A shared report's threshold: repositories with fewer than ``k`` authors are merged
        into one row ``other`` (and dropped when that row is itself under ``k`` authors), so
        no repository's counts describe fewer than ``k`` people.

    Returns
    -------
    polars.DataFrame
        ``repo``, ``prs``, ``merged_prs``, ``authors``, ``first_pr``, ``last_pr`` (dates),
        most PRs first, ties by name.
    """
    if "repo" not in prs.columns or prs.is_empty():
        return pl.DataFrame(
            schema={
                "repo": pl.String,
                "prs": pl.UInt32,
                "merged_prs": pl.UInt32,
                "authors": pl.UInt32,
                "first_pr": pl.Date,
                "last_pr": pl.Date,
            }
        )
    human = pl.col("author_id").is_in(humans.implode()) if humans is not None else pl.lit(True)
    frame = prs.with_columns(pl.col("repo").cast(pl.String).fill_null("(no repository)"))

    def summary(by: pl.Expr) -> pl.DataFrame:
        return frame.group_by(by.alias("repo")).agg(
            pl.len().alias("prs"),
            pl.col("merged_date").is_not_null().sum().cast(pl.UInt32).alias("merged_prs"),
            pl.col("author_id").filter(human).n_unique().cast(pl.UInt32).alias("authors"),
            pl.col("created_date").min().dt.date().alias("first_pr"),
            _last_activity().dt.date().alias("last_pr"),
        )

    table = summary(pl.col("repo"))
    small = table.filter(pl.col("authors") < k)["repo"]
    if k > 1 and small.len():
        merged = pl.when(pl.col("repo").is_in(small.implode())).then(pl.lit("other"))
        table = summary(merged.otherwise(pl.col("repo")))
        table = table.filter((pl.col("repo") != "other") | (pl.col("authors") >= k))
    return table.sort(["prs", "repo"], descending=[True, False])


def uneven_ends(prs: pl.DataFrame, gap_days: int = GAP_DAYS, until: date | None = None) -> str:
    """Which repositories' histories end more than ``gap_days`` before the latest one's, in
    words (empty with one repository, or when they end together). ``until``: the analysis
    ends that day (a report's ``end``): a repository whose history goes on past it is not
    short of it, and the latest end is taken as ``until`` at most."""
    if "repo" not in prs.columns or prs.is_empty():
        return ""
    ends = (
        prs.filter(pl.col("repo").is_not_null())
        .group_by(pl.col("repo").cast(pl.String))
        .agg(_last_activity().dt.date().alias("last"))
        .drop_nulls("last")
        .sort(["last", "repo"])
    )
    if ends.height < 2:
        return ""
    latest_repo, latest = ends.row(-1)
    if until is not None and until < latest:
        latest_repo, latest = "the analysis", until
    early = ends.filter((pl.lit(latest) - pl.col("last")).dt.total_days() > gap_days)
    if early.is_empty():
        return ""
    named = [
        f"{repo} ends {last} ({(latest - last).days} days earlier)"
        for repo, last in early.head(5).iter_rows()
    ]
    more = f" and {early.height - 5} more" if early.height > 5 else ""
    first_end = early["last"][0]
    return (
        f"the repositories' histories end on different dates: {latest_repo} "
        f"{'ends' if latest_repo == 'the analysis' else 'has PRs until'} {latest}, but "
        + "; ".join(named)
        + more
        + ". If a clone or export is older than "
        "the others (not a repository that went quiet), its engineers' later months count as "
        "idle: refresh it, or end the analysis when the first one ends (certkit report -p "
        f"end={first_end})"
    )
