"""Data health checks behind the data-health notebook: coverage, missing values, outliers.

All outputs are aggregates (counts per table, period, column or team); nothing lists an
individual engineer, so they are safe for shared reports once small teams are coarsened.
"""

from __future__ import annotations

import polars as pl

from certkit.data import activity
from certkit.data.certification_checks import added_by_import
from certkit.data.dataset import Dataset
from certkit.data.dating import approximated_dates
from certkit.data.panel_calendar import PERIODS
from certkit.data.panel_links import by_bots, fix_linked
from certkit.data.tenure import outside_words, prs_outside_panel
from certkit.privacy import coarsen, suppress

DATE_COLUMNS = {
    "certifications": "earned_date",
    "pull_requests": "created_date",
    "defects": "created_date",
    "incidents": "created_date",
}

#: Columns whose empty value is an answer, not a gap: (table, column) -> what it means.
NULL_MEANS = {
    ("pull_requests", "ai_tool"): "no AI tool detected on the PR",
    ("pull_requests", "merged_date"): "PR not merged (open, or closed without merging)",
    ("pull_requests", "closed_date"): "PR still open",
    ("pull_requests", "first_review_date"): (
        "no review recorded (a git history has none; a gh export or DevLake: no review or "
        "comment by another person)"
    ),
    ("pull_requests", "number"): (
        "no PR number (a reviewed change without a GitHub PR, such as a Gerrit change, "
        "a direct push or a merge without one)"
    ),
    ("engineers", "leave_date"): "still employed",
    ("engineers", "name"): "not given in the roster (optional)",
    ("engineers", "email"): "not given in the roster (optional)",
    ("certifications", "cost_usd"): "not given: the catalog fee (or a default) is used",
    ("certifications", "study_hours"): "not given: a default is used",
    ("certifications", "expiry_date"): "does not expire",
    ("certifications", "status"): "no badge status given: every row counts",
    ("certifications", "ml"): "not given: the catalog says which are ML certifications",
    ("defects", "pr_id"): "not linked to a PR",
    ("defects", "engineer_id"): "not linked to an engineer",
    ("incidents", "pr_id"): "not linked to a PR",
    ("incidents", "engineer_id"): "not linked to an engineer",
}

#: Bookkeeping columns of imports, never shown in the missing-values table.
INTERNAL_COLUMNS = {"created_source", "source", "is_bot_author", "is_bot"}


def coverage(ds: Dataset, period: str = "month") -> pl.DataFrame:
    """Rows per table and period (by each table's main date), plus active engineers.

    Columns: ``table``, ``period``, ``rows``, ``low`` (fewer than half the table's median
    rows per period: a gap in the export or a ramp-up to check).
    """
    every = PERIODS[period]
    parts = []
    for table, col in DATE_COLUMNS.items():
        df = getattr(ds, table)
        if df.height == 0:
            continue
        parts.append(
            df.select(pl.col(col).cast(pl.Date).dt.truncate(every).alias("period"))
            .group_by("period")
            .len("rows")
            .with_columns(pl.lit(table).alias("table"))
        )
    authors = (
        ds.pull_requests.join(
            ds.human_engineers().select(pl.col("engineer_id").alias("author_id")), on="author_id"
        )
        .select(
            pl.col("created_date").cast(pl.Date).dt.truncate(every).alias("period"), "author_id"
        )
        .group_by("period")
        .agg(pl.col("author_id").n_unique().cast(pl.UInt32).alias("rows"))
        .with_columns(pl.lit("active engineers").alias("table"))
    )
    parts.append(authors)
    out = pl.concat([p.select("table", "period", pl.col("rows").cast(pl.Int64)) for p in parts])
    lo, hi = ds.period()
    start = pl.Series([lo]).dt.truncate(every)[0]
    end = pl.Series([hi]).dt.truncate(every)[0]
    out = out.filter(pl.col("period").is_between(start, end))
    grid = pl.DataFrame({"table": out["table"].unique().sort()}).join(
        pl.DataFrame({"period": pl.date_range(start, end, every, eager=True)}), how="cross"
    )
    out = grid.join(out, on=["table", "period"], how="left").with_columns(
        pl.col("rows").fill_null(0)
    )
    return out.with_columns(
        (pl.col("rows") < 0.5 * pl.col("rows").median().over("table")).alias("low")
    ).sort("table", "period")


def missing_shared(miss: pl.DataFrame, k: int) -> pl.DataFrame:
    """:func:`missing` for a shared report: an engineers column whose filled or empty rows
    are fewer than ``k`` people (but not none) shows no counts (trial AD: "leave_date 428
    424" told 4 leavers beside notes saying "fewer than 5")."""
    if k <= 1 or not miss.height:
        return miss
    filled = pl.col("rows") - pl.col("missing")
    few = (pl.col("table") == "engineers") & (
        pl.col("missing").is_between(1, k - 1) | filled.is_between(1, k - 1)
    )
    return miss.with_columns(
        pl.when(few).then(None).otherwise(pl.col(c)).alias(c) for c in ("missing", "missing_share")
    )


def missing(ds: Dataset) -> pl.DataFrame:
    """Missing values per table and column (columns that are entirely empty included).

    ``meaning`` says what an empty value means where empty is an answer rather than a gap
    (:data:`NULL_MEANS`, e.g. ``ai_tool``: no AI tool detected); it is null for real gaps,
    which come first. Internal bookkeeping columns (:data:`INTERNAL_COLUMNS`, ``_...``) are
    left out.
    """
    rows = []
    for table, df in ds.tables().items():
        if df.height == 0:
            continue
        nulls = df.null_count().row(0, named=True)
        for col, n in nulls.items():
            if col in INTERNAL_COLUMNS or col.startswith("_"):
                continue
            rows.append(
                {
                    "table": table,
                    "column": col,
                    "rows": df.height,
                    "missing": n,
                    "missing_share": n / df.height,
                    "meaning": NULL_MEANS.get((table, col)),
                }
            )
    return (
        pl.DataFrame(
            rows,
            schema={
                "table": pl.String,
                "column": pl.String,
                "rows": pl.Int64,
                "missing": pl.Int64,
                "missing_share": pl.Float64,
                "meaning": pl.String,
            },
        )
        .filter(pl.col("missing") > 0)
        .sort(pl.col("meaning").is_not_null(), -pl.col("missing_share"))
    )


def coverage_shown(cov: pl.DataFrame, k: int) -> tuple[pl.DataFrame, str]:
    """The coverage rows a shared report may show: periods with fewer than ``k`` active
    engineers are left out (their counts are a few people's activity: cargo's shared page
    charted months with 0-3 active engineers), with a sentence saying how many."""
    if k <= 1:
        return cov, ""
    active = cov.filter(pl.col("table") == "active engineers")
    thin = active.filter(pl.col("rows") < k)["period"]
    if thin.len() == 0:
        return cov, ""
    kept = cov.filter(~pl.col("period").is_in(thin.implode()))
    return kept, (
        f"{thin.len()} period(s) with fewer than {k} active engineers are not charted "
        "(shared report)."
    )


def _iqr_flags(x: pl.Expr, factor: float = 3.0) -> pl.Expr:
    q1, q3 = x.quantile(0.25), x.quantile(0.75)
    return (x < q1 - factor * (q3 - q1)) | (x > q3 + factor * (q3 - q1))


def _count(df: pl.DataFrame, flag: pl.Expr) -> int:
    return int(df.select(flag.sum()).item())


def outliers(ds: Dataset, panel: pl.DataFrame | None = None) -> pl.DataFrame:
    """Counts of suspicious values, one row per check, with the rule used."""
    prs = ds.pull_requests
    merged = prs.filter(pl.col("merged_date").is_not_null()).with_columns(
        ((pl.col("merged_date") - pl.col("created_date")).dt.total_seconds() / 3600).alias("h"),
        (pl.col("additions") + pl.col("deletions")).alias("lines"),
    )
    from certkit.data.panel import approximate_created

    # cycle-time checks on real creation dates only: a squash merge's "creation" is its merge
    # (fastapi: 3,209 of 3,216 "merged within a minute"), already left out of cycle time
    timed = merged.filter(~approximate_created(merged))
    checks = []

    def add(check: str, rule: str, flagged: int, total: int):
        checks.append(
            {
                "check": check,
                "rule": rule,
                "flagged": flagged,
                "of": total,
                "share": flagged / total if total else 0.0,
            }
        )

    if timed.height:
        add(
            "PR cycle time",
            "log hours beyond 3 IQR of the quartiles",
            _count(timed, _iqr_flags(pl.col("h").clip(lower_bound=1 / 60).log())),
            timed.height,
        )
        add(
            "PR cycle time over 90 days",
            "merged > 90 days after creation",
            int((timed["h"] > 90 * 24).sum()),
            timed.height,
        )
        add(
            "PR merged within a minute",
            "merged < 1 minute after creation (auto-merge?)",
            int((timed["h"] < 1 / 60).sum()),
            timed.height,
        )
    if merged.height:
        add(
            "PR size",
            "log lines changed beyond 3 IQR of the quartiles",
            _count(merged, _iqr_flags(pl.col("lines").clip(lower_bound=1).log())),
            merged.height,
        )
    add("PRs never merged", "merged_date missing", int(prs["merged_date"].null_count()), prs.height)
    if panel is not None and panel.height:
        z = panel.select(
            ((pl.col("merged_prs") - pl.col("merged_prs").mean()) / pl.col("merged_prs").std())
            .abs()
            .gt(4)
            .sum()
        ).item()
        add(
            "engineer-months with extreme throughput",
            "merged PRs more than 4 SD from the mean",
            int(z),
            panel.height,
        )
        idle = panel.group_by("engineer_id").agg((pl.col("merged_prs").sum() == 0).alias("idle"))
        add(
            "engineers with no merged PR",
            # of the panel's engineers (trial AI: "0 of 145" beside the page's 147 engineers,
            # 2 of them only in the partial last month the panel leaves out)
            "no merged PR in any period, of the engineers in the panel",
            int(idle["idle"].sum()),
            idle.height,
        )
    return pl.DataFrame(checks)


def teams(ds: Dataset, k: int = 1) -> pl.DataFrame:
    """People and certified people per team; teams under ``k`` people merged into ``other``.

    With ``k`` > 1 (shared) ``certified`` and its share are null where fewer than ``k`` people
    are certified or fewer than ``k`` are not ("5 of 5" tells each one's status); if one team
    only, the smallest team shown goes too, lest the total give it back."""
    eng = ds.human_engineers()
    certified = ds.certifications["engineer_id"].unique().implode()
    eng = coarsen(eng.select("engineer_id", "team"), "team", k)
    out = (
        eng.group_by("team")
        .agg(
            pl.len().alias("engineers"),
            pl.col("engineer_id").is_in(certified).sum().alias("certified"),
        )
        .with_columns((pl.col("certified") / pl.col("engineers")).alias("certified_share"))
        .sort("engineers", "team", descending=[True, False])
    )
    if k <= 1:
        return out
    small = (pl.col("certified") < k) | (pl.col("engineers") - pl.col("certified") < k)
    hidden = out.select(small)["certified"].to_list()
    if sum(hidden) == 1 and len(hidden) > 1:  # the smallest team still shown goes too
        hidden[max(i for i, h in enumerate(hidden) if not h)] = True
    hide = pl.Series(hidden, dtype=pl.Boolean)
    return out.with_columns(
        pl.when(~hide).then(pl.col(x)).alias(x) for x in ("certified", "certified_share")
    )


def certifications(ds: Dataset, k: int = 1) -> pl.DataFrame:
    """Engineers per certification (catalog id); certifications under ``k`` people hidden."""
    certs = ds.certifications.filter(
        pl.col("engineer_id").is_in(ds.human_engineers()["engineer_id"].implode())
    )
    out = (
        certs.group_by(pl.col("certification_id").fill_null("unknown").alias("certification"))
        .agg(
            pl.col("engineer_id").n_unique().alias("engineers"),
            pl.col("earned_date").min().alias("first"),
            pl.col("earned_date").max().alias("last"),
        )
        .sort(["engineers", "certification"], descending=[True, False])  # ties: by name
    )
    return suppress(out, "engineers", k)


def unlisted_authors(ds: Dataset) -> dict | None:
    """Engineers an import added because they are not in the roster (team, role and level
    all ``unknown``): how many, and their share of the engineers and of the human PRs.

    In an open-source history most of them are one-off contributors; in a company, people
    HR's export missed. Either way nobody knows their certifications, yet in the comparisons
    they count as never certified. None when there are none, or when every engineer is one
    (no roster was given: the import says so).
    """
    humans = ds.human_engineers()
    if humans.height == 0:
        return None
    unlisted = humans.filter(added_by_import(humans))
    if unlisted.height in (0, humans.height):  # none, or no roster at all (the import says so)
        return None
    prs = ds.pull_requests.filter(pl.col("author_id").is_in(humans["engineer_id"].implode()))
    theirs = prs.filter(pl.col("author_id").is_in(unlisted["engineer_id"].implode())).height
    return {
        "engineers": unlisted.height,
        "of": humans.height,
        "prs": theirs,
        "of_prs": prs.height,
    }


def prs_left_out(ds: Dataset) -> int:
    """PRs whose author is not a human engineer (bots, authors missing from engineers): they
    are in the data but not in the analysis."""
    return by_bots(ds.pull_requests, ds.engineers).height


def certified_outside_window(ds: Dataset, panel: pl.DataFrame, period: str = "month") -> dict:
    """Certified engineers ``panel`` cannot compare before and after certifying.

    ``early``: certified before or in their first observed period (the panel leaves them out:
    no time before certification; usual when certifications predate the data), ``departed``:
    leavers certified in or after the ``period`` they left (left out: no time after it),
    ``late``: certified after the panel's last period (they compare as never certified),
    ``inside``: certified within it; ``first`` and ``last`` are the data's first and last
    days (``ds.period()``).
    """
    humans = ds.human_engineers()
    certs = ds.certifications.filter(
        pl.col("earned_date").is_not_null()
        & pl.col("engineer_id").is_in(humans["engineer_id"].implode())
    )
    certified = certs["engineer_id"].unique()
    first, last = ds.period()
    if not panel.height:
        return {
            "inside": 0,
            "early": certified.len(),
            "departed": 0,
            "late": 0,
            "first": first,
            "last": last,
        }
    in_panel = panel["engineer_id"].unique().implode()
    late = panel.filter((pl.col("cohort") == 0) & pl.col("certification").is_not_null())
    out = certs.filter(~pl.col("engineer_id").is_in(in_panel))
    departed = 0
    if "leave_date" in humans.columns and out.height:
        step = PERIODS[period]
        gone = (
            out.group_by("engineer_id")
            .agg(pl.col("earned_date").min())
            .join(humans.select("engineer_id", "leave_date"), on="engineer_id")
            .filter(
                pl.col("earned_date").cast(pl.Date).dt.truncate(step)
                >= pl.col("leave_date").cast(pl.Date).dt.truncate(step)
            )
        )
        departed = gone.height
    return {
        "inside": panel.filter(pl.col("cohort") > 0)["engineer_id"].n_unique(),
        "early": certified.filter(~certified.is_in(in_panel)).len() - departed,
        "departed": departed,
        "late": late["engineer_id"].n_unique(),
        "first": first,
        "last": last,
    }


def unlisted_words(found: dict) -> str:
    """The data-health sentence for :func:`unlisted_authors`."""
    share = found["prs"] / found["of_prs"] if found["of_prs"] else 0.0
    return (
        f"{found['engineers']:,} of {found['of']:,} engineers ({found['engineers'] / found['of']:.0%}) "
        f"are authors the import added because they are not in the roster (team, role and "
        f"level 'unknown'); they wrote {found['prs']:,} of {found['of_prs']:,} human PRs "
        f"({share:.0%}). Nobody knows their certifications, yet they count as never certified "
        "in the comparisons: if they are outside contributors or contractors, restrict the "
        "report to the roster's teams (-p teams=[...]), re-import with --roster-only, or complete "
        "the roster"
    )


def _events(ds: Dataset, full: Dataset | None, table: str) -> str:
    """``22 defects``, ``9 incidents (1 more out of scope: ...)`` or ``22 defects (3 of them
    linked to a PR merged after them: ...)`` (:mod:`certkit.data.panel_links`)."""
    rows = getattr(ds, table)
    text = f"{rows.height:,} {table}"
    said = []
    fixes = fix_linked(rows, ds.pull_requests).height
    if fixes:
        said.append(
            f"{fixes:,} of them linked to a PR merged after {'it' if fixes == 1 else 'them'} "
            "(or never merged): most likely the fix, so not counted against the PR's author"
        )
    more = getattr(full, table).height - rows.height if full is not None else 0
    if more > 0:
        said.append(
            f"{more:,} more out of scope: linked to a PR or engineer outside it, e.g. a bot's "
            "PR, or outside the dates"
        )
    return text + (f" ({'; '.join(said)})" if said else "")


def narrative(
    ds: Dataset,
    cov: pl.DataFrame,
    miss: pl.DataFrame,
    out: pl.DataFrame,
    hidden_teams: int = 0,
    approximated: pl.DataFrame | None = None,
    full: Dataset | None = None,
    panel: pl.DataFrame | None = None,
    period: str = "month",
    k: int = 1,
) -> str:
    """Plain-language summary of the checks above (Markdown), computed from their results.

    ``approximated`` is :func:`certkit.data.dating.approximated_dates` (computed here when
    not given). ``full``
    is the dataset before the report's scope (teams, dates, the PRs analysed): defects and
    incidents it has beyond ``ds`` are counted as out of scope, so "9 incidents" beside an
    import of 10 says why (DevLake trial on fastapi: one was blamed on a bot's PR). With
    ``panel`` (built by ``period``), the merged PRs it leaves out are counted
    (:func:`prs_outside_panel`; ``k``: a shared report's smallest group).
    """
    v = ds.validation
    start, end = ds.period()
    eng = ds.human_engineers().height
    n_prs = ds.pull_requests.height
    by_bots = prs_left_out(ds)
    bots = (
        f" ({by_bots:,} of them by bots or authors not in engineers, left out of the analysis)"
        if by_bots
        else ""
    )
    lines = [
        f"- **Scope:** {eng:,} engineers, {n_prs:,} pull requests{bots}, "
        f"{ds.certifications.height:,} certifications earned, {_events(ds, full, 'defects')} "
        f"and {_events(ds, full, 'incidents')}, from {start} to {end}.",
        f"- **Validation:** {len(v.errors)} error(s) and {len(v.warnings)} warning(s)"
        + (" - see the table below." if v.problems else "."),
    ]
    if panel is not None:
        text = outside_words(prs_outside_panel(ds, panel, period), period, k)
        if text:
            lines.append(f"- **Outside the panel:** {text}.")
        idle = activity.idle_roster(ds, panel, period)
        if idle:
            lines.append(f"- **Idle at the end:** {activity.idle_words(idle, period, k)}.")
    low = cov.filter(pl.col("low") & (pl.col("table") != "certifications"))
    if low.height:
        worst = low.group_by("table").len().sort(["len", "table"], descending=[True, False])
        desc = ", ".join(f"{r['table']} ({r['len']})" for r in worst.iter_rows(named=True))
        lines.append(
            f"- **Coverage gaps:** {low.height} table-period(s) have under half the usual "
            f"number of rows: {desc}. Estimates that use those periods rest on less data."
        )
    else:
        lines.append("- **Coverage:** every table has data in every period at its usual level.")
    gaps = miss.filter(pl.col("meaning").is_null()) if "meaning" in miss.columns else miss
    if gaps.height:
        # entirely empty columns are optional columns the source did not provide: say so apart
        empty = gaps.filter(pl.col("missing_share") >= 1.0)
        partial = gaps.filter(pl.col("missing_share") < 1.0)
        text = f"- **Missing values:** {partial.height} column(s) have gaps"
        if partial.height:
            top = partial.row(0, named=True)
            text += (
                f"; the largest is {top['table']}.{top['column']} "
                f"({top['missing_share']:.0%} missing)"
            )
        if empty.height:
            names = ", ".join(f"{r['table']}.{r['column']}" for r in empty.iter_rows(named=True))
            text += f". Entirely empty (not provided): {names}"
        lines.append(text + ".")
    else:
        lines.append(
            "- **Missing values:** no gaps"
            + (
                " (empty values below mean 'none', e.g. no AI tool detected)."
                if miss.height
                else "."
            )
        )
    from certkit.narrative import approximated_mix, percent_words
    from certkit.narrative.effects import DATING_ROUTES

    approx = approximated_dates(ds) if approximated is None else approximated
    n_approx = int(approx["prs"].sum()) if approx.height else 0
    if n_approx:
        merged = ds.pull_requests.filter(pl.col("merged_date").is_not_null()).height
        kinds = approximated_mix(approx)
        lines.append(
            f"- **Cycle time:** {n_approx:,} of {merged:,} merged PRs ({percent_words(n_approx / merged)}) "
            f"have a creation or merge date approximated from git ({kinds}): git does not "
            "record when a PR was opened (a squash merge keeps one commit) nor when a "
            "fast-forwarded change was merged, so their cycle time (and time to first review) "
            "would be wrong and is left out of every cycle-time outcome. They still count in "
            f"throughput, reverts and AI share. {DATING_ROUTES}."
        )
    if out.height:
        flagged = out.filter(pl.col("share") > 0.01)
        if flagged.height:
            desc = "; ".join(
                f"{r['check']}: {r['flagged']:,} of {r['of']:,} ({r['share']:.1%})"
                for r in flagged.iter_rows(named=True)
            )
            lines.append(f"- **Outliers above 1 %:** {desc}.")
        else:
            lines.append("- **Outliers:** every check flags under 1 % of rows.")
    unlisted = unlisted_authors(ds)
    if unlisted:
        lines.append(f"- **Roster:** {unlisted_words(unlisted)}.")
    if hidden_teams:
        lines.append(
            f"- **Privacy:** {hidden_teams} team(s) under the reporting threshold are merged "
            "into 'other' (or hidden)."
        )
    return "\n".join(lines)


def engineer_flags(panel: pl.DataFrame) -> pl.DataFrame:
    """Per engineer: periods observed, merged PRs and data-quality flags (individual level).

    Only for private use or, in a shared report, with pseudonymized ids
    (:meth:`certkit.privacy.Privacy.engineer_ids`). Engineers without any flag are left out.
    """
    mean, sd = panel["merged_prs"].mean(), panel["merged_prs"].std() or 1.0
    per = panel.group_by("engineer_id", "team").agg(
        pl.len().alias("periods"),
        pl.col("merged_prs").sum().alias("merged_prs"),
        (((pl.col("merged_prs") - mean) / sd).abs() > 4).sum().alias("extreme_periods"),
    )
    return (
        per.with_columns(
            pl.concat_str(
                pl.when(pl.col("merged_prs") == 0)
                .then(pl.lit("no merged PR; "))
                .otherwise(pl.lit("")),
                pl.when(pl.col("extreme_periods") > 0)
                .then(pl.lit("extreme throughput; "))
                .otherwise(pl.lit("")),
            )
            .str.strip_chars("; ")
            .alias("flags")
        )
        .filter(pl.col("flags") != "")
        .sort("engineer_id")
    )
