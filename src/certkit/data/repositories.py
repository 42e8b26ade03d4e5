"""Per-repository facts of a dataset: what each repository holds, and histories that start or
end apart.

An organisation's data usually spans several repositories, each exported or cloned on its own:
when one clone is months older than the others, its engineers' last months look idle (no PR
merged) and the comparisons read that as a change (trial N: encode/starlette's history ended
2025-08-24 and encode/uvicorn's 2025-09-03, 108 and 98 days before encode/httpx's; ending the
report at the earliest moved the throughput effect from +12% to +17%).
:func:`repositories` is the data-health table; :func:`uneven_ends` the sentence the import and
the data-health page say when the last PRs of the repositories are more than a month apart,
:func:`uneven_starts` when their first ones are and some engineers work only in the later ones.
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
    ends = _per_repository(prs, _last_activity(), "last")
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


def _per_repository(prs: pl.DataFrame, when: pl.Expr, name: str) -> pl.DataFrame:
    """``repo`` and the day ``when`` gives per repository (as ``name``), earliest first."""
    return (
        prs.filter(pl.col("repo").is_not_null())
        .group_by(pl.col("repo").cast(pl.String))
        .agg(when.dt.date().alias(name))
        .drop_nulls(name)
        .sort([name, "repo"])
    )


def _first_activity() -> pl.Expr:
    """A repository's first merge (its first PR opened when none merged): where a history's
    panel months begin (``build_panel`` opens the window at the first merged PR)."""
    return pl.col("merged_date").min().fill_null(pl.col("created_date").min())


def uneven_starts(
    prs: pl.DataFrame,
    engineers: pl.DataFrame | None = None,
    gap_days: int = GAP_DAYS,
    since: date | None = None,
    opens: date | None = None,
) -> str:
    """Repositories whose histories start more than ``gap_days`` after the earliest one's,
    in words (empty with one repository, or when they start together).

    With ``engineers`` (``engineer_id``, ``hire_date``), said only when some engineers' PRs
    are all in the later repositories and their panel months (from the hire date or the data
    start) begin more than ``gap_days`` before the first of those repositories does: those
    months count as idle, 0 PRs, and lower the engineers' levels "before" (trial Y:
    modelcontextprotocol/python-sdk from 2024-09, openai/openai-agents-python from 2025-03;
    14 engineers of the second had 63 months of zeros; the imputation estimate moved from
    +3.71 to +2.48 without them). ``since``: the analysis starts that day (a report's
    ``start``); a repository starting before it is not late. ``opens``: the panel's first
    period, where the idle months are counted from (default: the earliest repository's start).
    """
    if "repo" not in prs.columns or prs.is_empty():
        return ""
    starts = _per_repository(prs, _first_activity(), "first")
    if starts.height < 2:
        return ""
    earliest_repo, earliest = starts.row(0)
    if since is not None and since > earliest:
        earliest_repo, earliest = "the analysis", since
    late = starts.filter((pl.col("first") - pl.lit(earliest)).dt.total_days() > gap_days)
    if late.is_empty():
        return ""
    who = ""
    if engineers is not None and {"author_id"} <= set(prs.columns):
        own = (
            prs.filter(pl.col("repo").is_not_null())
            .select(pl.col("author_id"), pl.col("repo").cast(pl.String))
            .join(starts, on="repo")
            .group_by("author_id")
            .agg(pl.col("first").min().alias("own_start"))
        )
        hired = engineers.select(
            pl.col("engineer_id").alias("author_id"),
            pl.max_horizontal(
                pl.col("hire_date").cast(pl.Date) if "hire_date" in engineers.columns else None,
                pl.lit(opens or earliest),
            ).alias("panel_start"),
        )
        idle = own.join(hired, on="author_id").filter(
            (pl.col("own_start") - pl.col("panel_start")).dt.total_days() > gap_days
        )
        if idle.is_empty():
            return ""
        # whole calendar months from the panel's first to the repository's first, as the
        # panel counts them (trial Z: "about 67" by days where the panel held 63)
        months = idle.select(
            (
                (pl.col("own_start").dt.year() - pl.col("panel_start").dt.year()) * 12
                + pl.col("own_start").dt.month().cast(pl.Int32)
                - pl.col("panel_start").dt.month().cast(pl.Int32)
            ).sum()
        ).item()
        who = (
            " Engineers who work only in the later ones and were in the roster before they "
            f"start: {idle.height}; {months:,} of their months count as idle (0 PRs), which "
            "lowers their levels before certifying."
        )
    named = [
        f"{repo} starts {first} ({(first - earliest).days} days later)"
        for repo, first in late.head(5).iter_rows()
    ]
    more = f" and {late.height - 5} more" if late.height > 5 else ""
    # the first whole month after the last one starts: a start on the 11th would open the
    # analysis with a partial month (trial Z)
    last = late["first"][-1]
    last_start = (
        last if last.day == 1 else date(last.year + last.month // 12, last.month % 12 + 1, 1)
    )
    return (
        f"the repositories' histories start on different dates: {earliest_repo} "
        f"{'starts' if earliest_repo == 'the analysis' else 'has PRs from'} {earliest}, but "
        + "; ".join(named)
        + more
        + "."
        + who
        + " If a repository did not exist yet, or its clone or export starts later, the "
        "engineers who work only there count as idle before it: start the analysis with the "
        f"first whole month after the last one starts (certkit report -p start={last_start})"
    )
