"""Which PR dates git could only approximate, and what the cycle time rests on.

Data health's "Creation dates approximated from git" section, and the reason every cycle-time
estimate gives when most creation dates were approximated
(:func:`certkit.narrative.effects.approximated_reason`).
"""

from __future__ import annotations

import polars as pl

from certkit.data.dataset import Dataset


def first_commit_dates(ds: Dataset) -> str:
    """What the cycle time of the PRs it keeps rests on, in words.

    Git imports date a PR branch (a merge's commits, a Gerrit change, a GitLab merge request)
    by its first commit's author date: kept, as a PR opens after its first commit, but the
    page said "Every merged PR has a creation date the cycle time can use" about 694 Gerrit
    changes dated that way (trial D).
    """
    from certkit.data.panel import approximate_created

    prs = ds.pull_requests.filter(pl.col("merged_date").is_not_null())
    if "created_source" not in prs.columns or prs.height == 0:
        return "Every merged PR has the creation date its source recorded."
    kept = prs.filter(~approximate_created(prs))
    if kept.height == 0:  # facebook/watchman: the page said "Every merged PR has ..." below
        # a table of 692 approximated PRs of 692
        return "No merged PR has a creation date the cycle time can use (see the table above)."
    n = int((kept["created_source"] == "branch_first_commit").sum())
    if n == 0:
        if kept.height == prs.height:
            return "Every merged PR has the creation date its source recorded."
        return (
            f"The {kept.height:,} merged PRs kept in cycle time (of {prs.height:,}) have the "
            "creation date their source recorded."
        )
    return (
        f"{n:,} of {prs.height:,} merged PRs are dated by their branch's first commit (git "
        "has no PR opening time): they are kept, but a PR is opened after its first commit, "
        "so their cycle times run long (old branches most of all). A `gh` export gives "
        "GitHub PRs their real opening dates."
    )


def approximated_dates(ds: Dataset) -> pl.DataFrame:
    """Merged PRs whose creation date was approximated from git, by how it was approximated.

    Columns ``created_source``, ``prs`` and ``why``. Their cycle time (creation to merge) is
    left out of every cycle-time outcome (:func:`certkit.data.panel.approximate_created`).
    """
    from certkit.data.panel import approximate_created

    prs = ds.pull_requests
    why = {
        "squash_commit": "squash merge: git keeps only the squash commit, created = its author date",
        "merge_commit": "merge without branch commits: created = merge time",
        "commit": "direct push counted as a PR: no review cycle",
        "fast_forward": "reviewed change merged by fast-forward: git keeps no merge time",
        "exported": "reviewed change exported from an internal review system (Meta's ShipIt, "
        "Google's Copybara): its dates are the export's",
        "imported_history": "old history rewritten onto a new branch: created = its first "
        "commit date",
        "self_landed": "review change committed last by its author, not a merge bot: merged = "
        "the author's own last commit time, not the landing",
    }
    if prs.height == 0 or "created_source" not in prs.columns:
        return pl.DataFrame(schema={"created_source": pl.String, "prs": pl.Int64, "why": pl.String})
    return (
        prs.filter(pl.col("merged_date").is_not_null() & approximate_created(prs))
        .group_by("created_source")
        .agg(pl.len().cast(pl.Int64).alias("prs"))
        .with_columns(
            pl.col("created_source").replace_strict(why, default="approximated").alias("why")
        )
        .sort(["prs", "created_source"], descending=[True, False])  # ties: by name
    )


def dated_merged_prs(ds: Dataset) -> tuple[int, int]:
    """Merged PRs whose creation date was not approximated, and how many of them certified
    engineers authored (the cycle time's reason names them: trial M, abseil-cpp's 34 dated
    PRs of 2,293 were all by authors outside the roster)."""
    from certkit.data.panel import approximate_created

    prs = ds.pull_requests.filter(pl.col("merged_date").is_not_null())
    dated = prs.filter(~approximate_created(prs))
    certified = ds.certifications["engineer_id"].unique().implode()
    return dated.height, int(dated["author_id"].is_in(certified).sum())
