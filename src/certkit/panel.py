"""Engineer x period outcome panel: the input of every estimator.

Conventions (documented in ``docs/data-model.md``):

* Engineers are in the panel from the period of their hire date (or the data start) to the
  period of their leave date (or the data end). Bots are left out unless asked for.
* PR outcomes are counted in the period the PR was **merged** (cycle time is only known then);
  ``prs_opened`` counts by creation. Defects are attributed to the merge period of the PR that
  caused them (or, without a PR link, to the period they were reported); incidents to the
  period they started, and to the engineer linked directly or through the PR.
* Cycle and pickup times leave out PRs whose creation date was approximated from git alone
  (``created_source`` in :data:`APPROXIMATE_CREATED`, e.g. squash merges); they still count
  in throughput and the other outcomes.
* Periods with no merged PR are present with counts of 0 and rate/duration outcomes null.
* ``cohort`` is the index of the period of the first certification (0 = never certified);
  ``event_time`` = ``period_index - cohort``. Engineers certified before their first observed
  period have no pre-certification data and are left out, with a warning.
"""

from __future__ import annotations

import re
import warnings

import polars as pl

from certkit.errors import CertkitError, CertkitWarning
from certkit.io import Dataset

PERIODS = {"week": "1w", "month": "1mo", "quarter": "1q"}

#: ``pull_requests.created_source`` values whose creation date was approximated from git
#: alone (a squash commit's author date, a merge without branch commits, a direct push): the
#: time from creation to merge is not the PR's cycle time. ``github``/``devlake`` (and a
#: merged branch's first commit) are trusted; a missing column means the user supplied dates.
APPROXIMATE_CREATED = ("squash_commit", "merge_commit", "commit")


def approximate_created(prs: pl.DataFrame | pl.LazyFrame | None = None) -> pl.Expr:
    """True for PRs whose ``created_date`` was approximated (see :data:`APPROXIMATE_CREATED`).

    Cycle and pickup times of these PRs are left out of every outcome. Without a
    ``created_source`` column (``prs`` given and lacking it) nothing is approximated.
    """
    if prs is not None:
        names = prs.collect_schema().names() if isinstance(prs, pl.LazyFrame) else prs.columns
        if "created_source" not in names:
            return pl.lit(False)
    return pl.col("created_source").is_in(list(APPROXIMATE_CREATED)).fill_null(False)


OUTCOMES = {
    "merged_prs": "PRs merged in the period (throughput)",
    "prs_opened": "PRs opened in the period",
    "cycle_time_log_median": "median of log(hours from PR creation to merge)",
    "cycle_time_log_mean": "mean of log(hours from PR creation to merge)",
    "cycle_time_hours_median": "median hours from PR creation to merge",
    "pickup_time_hours_median": "median hours from PR creation to first review",
    "defects": "defects traced to the period's merged PRs",
    "defects_per_pr": "defects per merged PR (null without merged PRs)",
    "incidents": "incidents caused (linked to the engineer or their PR)",
    "reverts": "merged PRs later reverted",
    "revert_rate": "reverted share of merged PRs",
    "ai_prs": "AI-assisted merged PRs (sum of the AI share)",
    "ai_share": "AI-assisted share of merged PRs",
    "lines_changed": "additions + deletions of merged PRs (null when no size is known)",
    "rework_rate": "share of the lines added by merged PRs that were changed or deleted again "
    "within the line ledger's window (21 days by default; git imports only)",
}


def build_panel(
    dataset: Dataset,
    period: str = "month",
    *,
    include_bots: bool = False,
) -> pl.DataFrame:
    """Build the engineer x period panel of outcomes and treatment columns.

    Parameters
    ----------
    dataset
        A validated :class:`~certkit.io.Dataset` (``certkit.load`` or ``certkit.simulate``).
    period
        ``"month"`` (default), ``"week"`` (ISO weeks, starting Monday) or ``"quarter"``.
    include_bots
        Keep bot accounts (default: left out of every human cohort).

    Returns
    -------
    polars.DataFrame
        One row per engineer and period: ``engineer_id``, ``period`` (first day),
        ``period_index`` (1..T), the outcomes in :data:`OUTCOMES`, treatment columns
        ``cohort``, ``event_time``, ``post``, ``certification``, and covariates ``team``,
        ``role``, ``level``, ``platform``, ``tenure_months``.
    """
    if period not in PERIODS:
        raise CertkitError(f"period must be one of {', '.join(PERIODS)}; got {period!r}")
    every = PERIODS[period]
    prs = dataset.pull_requests.lazy()
    if prs.select(pl.len()).collect().item() == 0:
        raise CertkitError("pull_requests is empty: there is nothing to build a panel from")
    bounds = prs.select(
        pl.col("created_date").min().alias("start"),
        pl.max_horizontal(pl.col("created_date").max(), pl.col("merged_date").max()).alias("end"),
    ).collect()
    start = bounds["start"].dt.truncate(every).dt.date().item()
    end = bounds["end"].dt.truncate(every).dt.date().item()
    periods = pl.DataFrame({"period": pl.date_range(start, end, every, eager=True)}).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int32).alias("period_index")
    )

    engineers = dataset.engineers.lazy()
    if not include_bots:
        engineers = engineers.filter(~pl.col("is_bot"))
    people = engineers.select(
        "engineer_id",
        "team",
        "role",
        "level",
        "platform",
        "hire_date",
        pl.max_horizontal(pl.col("hire_date"), pl.lit(start)).dt.truncate(every).alias("first"),
        pl.col("leave_date").fill_null(pl.lit(end)).dt.truncate(every).alias("last"),
    )
    grid = (
        people.join(periods.lazy(), how="cross")
        .filter(pl.col("period").is_between(pl.col("first"), pl.col("last")))
        .drop("first", "last")
    )

    hours = 3600.0
    trusted = ~approximate_created(prs)  # squash merges etc.: no real creation date
    merged = prs.filter(pl.col("merged_date").is_not_null()).with_columns(
        pl.col("merged_date").dt.truncate(every).dt.date().alias("period"),
        pl.when(trusted)
        .then((pl.col("merged_date") - pl.col("created_date")).dt.total_seconds() / hours)
        .clip(lower_bound=1 / 60)
        .alias("cycle_h"),
        pl.when(trusted)
        .then((pl.col("first_review_date") - pl.col("created_date")).dt.total_seconds() / hours)
        .alias("pickup_h"),
    )
    pr_stats = merged.group_by(pl.col("author_id").alias("engineer_id"), "period").agg(
        pl.len().cast(pl.Int64).alias("merged_prs"),
        pl.col("cycle_h").log().median().alias("cycle_time_log_median"),
        pl.col("cycle_h").log().mean().alias("cycle_time_log_mean"),
        pl.col("cycle_h").median().alias("cycle_time_hours_median"),
        pl.col("pickup_h").median().alias("pickup_time_hours_median"),
        pl.col("reverted").cast(pl.Int64).sum().alias("reverts"),
        pl.col("reverted").is_not_null().sum().alias("_revert_known"),
        pl.col("ai_assisted").sum().alias("ai_prs"),
        pl.col("ai_assisted").is_not_null().sum().alias("_ai_known"),
        pl.when((pl.col("additions") + pl.col("deletions")).is_not_null().any())
        .then((pl.col("additions") + pl.col("deletions")).sum())
        .alias("lines_changed"),
        *_rework_parts(prs),
    )
    opened = prs.group_by(
        pl.col("author_id").alias("engineer_id"),
        pl.col("created_date").dt.truncate(every).dt.date().alias("period"),
    ).agg(pl.len().cast(pl.Int64).alias("prs_opened"))

    pr_keys = merged.select(pl.col("id").alias("pr_id"), pl.col("author_id"), "period")
    defects = (
        dataset.defects.lazy()
        .join(pr_keys, on="pr_id", how="left")
        .select(
            pl.coalesce("author_id", "engineer_id").alias("engineer_id"),
            pl.coalesce("period", pl.col("created_date").dt.truncate(every).dt.date()).alias(
                "period"
            ),
        )
        .filter(pl.col("engineer_id").is_not_null())
        .group_by("engineer_id", "period")
        .agg(pl.len().cast(pl.Int64).alias("defects"))
    )
    pr_author = prs.select(pl.col("id").alias("pr_id"), "author_id")
    incidents = (
        dataset.incidents.lazy()
        .join(pr_author, on="pr_id", how="left")
        .select(
            pl.coalesce("engineer_id", "author_id").alias("engineer_id"),
            pl.col("created_date").dt.truncate(every).dt.date().alias("period"),
        )
        .filter(pl.col("engineer_id").is_not_null())
        .group_by("engineer_id", "period")
        .agg(pl.len().cast(pl.Int64).alias("incidents"))
    )

    first_cert = (
        dataset.certifications.lazy()
        .sort("earned_date")
        .group_by("engineer_id")
        .agg(
            pl.col("earned_date").first().alias("earned_date"),
            pl.col("certification_id").first().alias("certification"),
        )
        .with_columns(pl.col("earned_date").dt.truncate(every).alias("cert_period"))
    )

    counts = ["merged_prs", "prs_opened", "defects", "incidents", "reverts"]
    panel = (
        grid.join(pr_stats, on=["engineer_id", "period"], how="left")
        .join(opened, on=["engineer_id", "period"], how="left")
        .join(defects, on=["engineer_id", "period"], how="left")
        .join(incidents, on=["engineer_id", "period"], how="left")
        .join(first_cert, on="engineer_id", how="left")
        .with_columns(
            pl.col(counts).fill_null(0),
            pl.col("ai_prs").fill_null(0.0),
            pl.when(pl.col("merged_prs").is_null())  # no merged PR in the period: nothing changed
            .then(0)
            .otherwise(pl.col("lines_changed"))
            .alias("lines_changed"),
        )
        .with_columns(
            pl.when(pl.col("_written") > 0)
            .then(pl.col("_churned") / pl.col("_written"))
            .alias("rework_rate"),
            _rate("defects", pl.col("merged_prs") > 0).alias("defects_per_pr"),
            _rate("reverts", pl.col("_revert_known") > 0).alias("revert_rate"),
            _rate("ai_prs", pl.col("_ai_known") > 0).alias("ai_share"),
            (pl.col("period") - pl.col("hire_date"))
            .dt.total_days()
            .truediv(30.4375)
            .clip(lower_bound=0)
            .alias("tenure_months"),
        )
    )
    cohort_index = periods.lazy().select(
        pl.col("period").alias("cert_period"), pl.col("period_index").alias("cohort")
    )
    panel = (
        panel.join(cohort_index, on="cert_period", how="left")
        .with_columns(
            pl.when(pl.col("earned_date").is_null())
            .then(0)
            .when(pl.col("cert_period") < pl.lit(start))
            .then(-1)
            .otherwise(pl.col("cohort"))
            .cast(pl.Int32)
            .alias("cohort")
        )
        .with_columns(
            pl.when(pl.col("cohort") != 0)
            .then(pl.col("period_index") - pl.col("cohort"))
            .cast(pl.Int32)
            .alias("event_time"),
        )
        .with_columns(pl.col("event_time").fill_null(-1).ge(0).alias("post"))
    ).collect()

    first_seen = panel.group_by("engineer_id").agg(pl.col("period_index").min().alias("_first"))
    panel = panel.join(first_seen, on="engineer_id")
    on_arrival = (pl.col("cohort") != 0) & (pl.col("cohort") <= pl.col("_first"))
    n_arrival = panel.filter(on_arrival)["engineer_id"].n_unique()
    if n_arrival:
        warnings.warn(
            f"{n_arrival} engineer(s) were certified before (or in) their first observed "
            f"{period}: they have no pre-certification data and are left out of the panel.",
            CertkitWarning,
            stacklevel=2,
        )
        panel = panel.filter(~on_arrival)
    columns = [
        "engineer_id",
        "period",
        "period_index",
        *OUTCOMES,
        "cohort",
        "event_time",
        "post",
        "certification",
        "earned_date",
        "team",
        "role",
        "level",
        "platform",
        "hire_date",
        "tenure_months",
    ]
    return panel.select(columns).sort("engineer_id", "period_index")


def _rate(numerator: str, known: pl.Expr) -> pl.Expr:
    return (
        pl.when(known & (pl.col("merged_prs") > 0))
        .then(pl.col(numerator) / pl.col("merged_prs"))
        .otherwise(None)
    )


def _rework_parts(prs: pl.LazyFrame) -> list[pl.Expr]:
    """Churned and written lines of merged PRs, when the import ran the git line ledger."""
    churn = [c for c in prs.collect_schema().names() if re.fullmatch(r"churned_lines_\d+d", c)]
    if not churn:
        return [pl.lit(None, pl.Int64).alias("_churned"), pl.lit(None, pl.Int64).alias("_written")]
    known = pl.col(churn[0]).is_not_null() & pl.col("additions").is_not_null()
    return [
        pl.col(churn[0]).filter(known).sum().alias("_churned"),
        pl.col("additions").filter(known).sum().alias("_written"),
    ]
