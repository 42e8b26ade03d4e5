"""The PR table behind the AI analytics: one row per human PR, the outcomes it carries.

``pr_table(ds)`` adds the AI flag (``ai_assisted >= AI_THRESHOLD``), log outcomes, bad events,
the author's certification status at the time and calendar keys; :mod:`certkit.analytics.ai`
and :mod:`certkit.analytics.ai_quality` read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from certkit.data.dataset import Dataset
from certkit.data.panel import approximate_created
from certkit.data.schema import rework_columns
from certkit.errors import CertkitError
from certkit.results import ResultMixin


@dataclass(repr=False, kw_only=True)
class TableResult(ResultMixin):
    """A table result of the AI analytics (adoption map, trust scores): table, notes, title."""

    table: pl.DataFrame
    warnings: list[str] = field(default_factory=list)
    title: str = ""


#: Columns of the PR frame taken as they are from the pull requests and the roster.
KEPT_COLUMNS = ("id", "author_id", "team", "platform", "role", "level", "repo")
AI_THRESHOLD = 0.5  # a PR with ai_assisted >= this share counts as AI-assisted

OUTCOMES = {
    "cycle_time_log": "log hours from creation to merge (merged PRs)",
    "pickup_time_log": "log hours from creation to first review (reviewed PRs)",
    "size_log": "log(1 + lines added + deleted)",
    "reverted": "share of merged PRs reverted",
    "defect": "share of merged PRs with at least one linked defect",
    "incident": "share of merged PRs linked to an incident",
    "rework": "share of a merged PR's added lines changed or deleted again within the line "
    "ledger's window (git imports; 21 days by default)",
}
LOG_OUTCOMES = {"cycle_time_log", "pickup_time_log", "size_log"}
BAD_EVENTS = {"reverted", "defect", "incident", "bad"}


# ---------------------------------------------------------------------------------------------
# PR table
# ---------------------------------------------------------------------------------------------


def _caused_links(rows: pl.DataFrame, prs: pl.DataFrame) -> pl.Series:
    """The PR ids ``rows`` (defects or incidents) name as their cause, imploded."""
    from certkit.data.panel_links import fix_linked

    if "pr_id" not in rows.columns:
        return pl.Series("pr_id", [], pl.String).implode()
    fixes = fix_linked(rows, prs)["id"] if rows.height else pl.Series([], dtype=pl.String)
    caused = rows.filter(~pl.col("id").is_in(fixes.implode()))
    return caused["pr_id"].drop_nulls().unique().implode()


def pr_table(ds: Dataset) -> pl.DataFrame:
    """One row per human-authored PR with the columns the AI analytics use.

    Columns: ``id, author_id, team, platform, role, level, repo, month, ai, merged,
    cycle_time_log, pickup_time_log, size_log, reverted, defect, incident, bad, certified``.
    ``ai`` is ``ai_assisted >= 0.5`` (null when unknown); ``bad`` = reverted or defect;
    ``certified`` = the author held a certification when the PR was opened.
    """
    if not isinstance(ds, Dataset):
        raise CertkitError(f"expected a certkit Dataset (certkit.load / simulate), got {type(ds)}")
    prs = ds.pull_requests
    if prs.height == 0:
        raise CertkitError("pull_requests is empty: nothing to analyse")
    humans = ds.human_engineers().select("engineer_id", "team", "platform", "role", "level")
    first_cert = ds.certifications.group_by("engineer_id").agg(
        pl.col("earned_date").min().alias("_first_cert")
    )
    # a link to a PR merged at or after the ticket names its fix, not its cause (as the
    # panel reads it, certkit.data.panel_links): a bug-fix PR is not a defective PR
    defect_prs = _caused_links(ds.defects, prs)
    incident_prs = _caused_links(ds.incidents, prs)
    ai_col = prs["ai_assisted"] if "ai_assisted" in prs.columns else None
    if ai_col is None or ai_col.null_count() == prs.height:
        raise CertkitError(
            "pull_requests.ai_assisted is missing or empty: AI analytics need it "
            "(true/false or the 0..1 share of AI-written lines per PR)"
        )
    merged = pl.col("merged_date").is_not_null()
    reverts_known = "reverted" in prs.columns and prs["reverted"].is_not_null().any()
    # creation dates approximated from git (squash merges...) give no cycle or pickup time
    trusted = ~approximate_created(prs)
    hours = (pl.col("merged_date") - pl.col("created_date")).dt.total_seconds() / 3600
    pickup = (pl.col("first_review_date") - pl.col("created_date")).dt.total_seconds() / 3600
    pickup = pl.when(trusted).then(pickup)
    out = (
        prs.join(humans.rename({"engineer_id": "author_id"}), on="author_id", how="inner")
        .join(first_cert.rename({"engineer_id": "author_id"}), on="author_id", how="left")
        .select(
            *KEPT_COLUMNS,
            pl.col("created_date").dt.truncate("1mo").dt.date().alias("month"),
            (pl.col("ai_assisted") >= AI_THRESHOLD).alias("ai"),
            merged.alias("merged"),
            pl.when(merged & trusted).then(hours.clip(1 / 60).log()).alias("cycle_time_log"),
            pl.when(pickup > 0).then(pickup.clip(1 / 60).log()).alias("pickup_time_log"),
            (pl.col("additions") + pl.col("deletions") + 1)
            .cast(pl.Float64)
            .log()
            .alias("size_log"),
            # a blank is "not reverted" where the data mark reverts (as the panel reads it),
            # unknown where no PR says (a DevLake import: trial R's "0 of 132 AI-assisted PRs
            # were reverted"; review D2: blanks beside 'true' made every share 100%)
            pl.when(merged)
            .then(
                pl.col("reverted").fill_null(False).cast(pl.Float64)
                if reverts_known
                else pl.lit(None, pl.Float64)
            )
            .alias("reverted"),
            pl.when(merged).then(pl.col("id").is_in(defect_prs).cast(pl.Float64)).alias("defect"),
            pl.when(merged)
            .then(pl.col("id").is_in(incident_prs).cast(pl.Float64))
            .alias("incident"),
            _rework(prs).alias("rework"),
            (
                pl.col("_first_cert").is_not_null()
                & (pl.col("_first_cert") <= pl.col("created_date"))
            )
            .cast(pl.Float64)
            .alias("certified"),
        )
        .with_columns(pl.max_horizontal("reverted", "defect").alias("bad"))
    )
    return out


_PR_COLUMNS = (
    *KEPT_COLUMNS,
    "month",
    "ai",
    "merged",
    "cycle_time_log",
    "pickup_time_log",
    "size_log",
    "reverted",
    "defect",
    "incident",
    "rework",
    "certified",
    "bad",
)


_OPTIONAL = {"rework"}  # only git imports with the line ledger have it


def _rework(prs: pl.DataFrame) -> pl.Expr:
    """Churned share of a merged PR's added lines, when the import ran the line ledger."""
    churn = rework_columns(prs.columns)
    if not churn:
        return pl.lit(None, pl.Float64)
    return (
        pl.when(pl.col("merged_date").is_not_null() & (pl.col("additions") > 0))
        .then(pl.col(churn[0]) / pl.col("additions"))
        .cast(pl.Float64)
    )


def _prs(ds: Dataset | pl.DataFrame) -> pl.DataFrame:
    """The PR table: built from a Dataset, or a :func:`pr_table` frame checked for its columns."""
    if isinstance(ds, Dataset):
        return pr_table(ds)
    if not isinstance(ds, pl.DataFrame):
        raise CertkitError(
            f"expected a certkit Dataset or the frame from certkit.ai.pr_table, got {type(ds)}"
        )
    missing = [c for c in _PR_COLUMNS if c not in ds.columns and c not in _OPTIONAL]
    if missing:
        raise CertkitError(
            f"PR table is missing column(s) {missing}: pass a Dataset or the output of "
            "certkit.ai.pr_table(ds)"
        )
    return ds.with_columns(pl.lit(None, pl.Float64).alias(c) for c in _OPTIONAL - set(ds.columns))
