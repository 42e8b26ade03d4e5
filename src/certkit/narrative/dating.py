"""Words on PR dates git can only approximate: why cycle time leaves PRs out, and the reason
every design gives when most creation dates were approximated (:mod:`certkit.data.dating`
counts them)."""

from __future__ import annotations

import polars as pl


def cycle_time_note(ds, outcomes: list[str] | tuple[str, ...]) -> list[str]:
    """A sentence on PRs left out of cycle time (dates approximated from git), if any.

    Empty when no cycle- or pickup-time outcome is shown or no PR date was approximated.
    """
    if not any(o.startswith(("cycle_time", "pickup_time")) for o in outcomes):
        return []
    from certkit.data.dating import approximated_dates
    from certkit.narrative.effects import percent_words

    approx = approximated_dates(ds)
    n = int(approx["prs"].sum()) if approx.height else 0
    if not n:
        return []
    merged = ds.pull_requests.filter(pl.col("merged_date").is_not_null()).height
    return [
        f"Cycle time leaves out {n:,} of {merged:,} merged PRs ({percent_words(n / merged)}) "
        f"whose creation or merge date git cannot tell ({approximated_mix(approx)}): their "
        f"cycle time would be wrong. {DATING_ROUTES}{_EXPORTED if _has_exported(approx) else ''}."
    ]


#: What dates changes exported from an internal review system (Meta's ShipIt).
_EXPORTED = "; exported changes can be dated only by the review system they came from"


def _has_exported(approx: pl.DataFrame) -> bool:
    return bool(approx.height) and "exported" in approx["created_source"].to_list()


#: Where the real creation dates of PRs come from when git can only approximate them: a gh
#: export dates GitHub PRs only (trial I: GitLab projects, glib and libadwaita, were told to
#: "import a gh export"); the import records no origin host, so both routes are named.
DATING_ROUTES = (
    "Only GitHub PRs can be dated from a `gh` export (`certkit import git --github`); for "
    "GitLab merge requests, DevLake's GitLab plugin (`certkit import devlake`) supplies the "
    "real dates"
)


#: ``pull_requests.created_source`` values whose creation date git approximates, in words.
APPROXIMATED_KINDS = {
    "squash_commit": ("squash merge", "squash merges"),
    "commit": ("PR made of direct commits", "PRs made of direct commits"),
    "merge_commit": ("merge without branch commits", "merges without branch commits"),
    "fast_forward": ("fast-forwarded change", "fast-forwarded changes"),
    "exported": ("change exported from a review system", "changes exported from a review system"),
    "imported_history": ("PR of imported old history", "PRs of imported old history"),
    "self_landed": ("change landed by its author", "changes landed by their author"),
}


def approximated_mix(approx: pl.DataFrame) -> str:
    """``1,824 direct commits, 155 squash merges``: the ``created_source`` mix of
    :func:`certkit.data.dating.approximated_dates`, largest first (trial G, sqlalchemy: the
    pages said "(squash merges)" of 1,824 direct commits)."""
    parts = []
    for source, n in approx.select("created_source", "prs").iter_rows():
        one, many = APPROXIMATED_KINDS.get(source, (str(source), str(source)))
        parts.append(f"{n:,} {one if n == 1 else many}")
    return ", ".join(parts)


def approximated_reason(
    approx: pl.DataFrame, merged: int, dated: tuple[int, int] | None = None
) -> str:
    """Why cycle and pickup times cannot be estimated when git approximated most creation
    dates: ``1,767 of 1,768 merged PRs have a creation date approximated from git (1,765
    squash merges, 2 direct commits), so their cycle time is unknown; ...``. The one reason
    every design gives (staggered DiD, matched DiD, the ROI, the adoption study).
    ``dated``: :func:`certkit.data.dating.dated_merged_prs`, the merged PRs with real
    creation dates and how many of them certified engineers authored."""
    n = int(approx["prs"].sum()) if approx.height else 0
    rest = ""
    if dated is not None and dated[0]:
        # in words every design can show (trial Y: the adoption page said "... to compare
        # before and after certifying")
        if dated[0] == 1:
            who = "not by a certified engineer" if dated[1] == 0 else "by a certified engineer"
            rest = f"; the other one has a real creation date, {who}"
        elif dated[1] == 0:
            rest = (
                f"; the other {dated[0]:,} have real creation dates, none of them by a "
                "certified engineer"
            )
        else:  # trial Z: "too few ... (83 by certified engineers)" did not read as few
            rest = (
                f"; the other {dated[0]:,} have real creation dates ({dated[1]:,} of them by "
                "certified engineers), in too few periods around a change to compare before "
                "and after"
            )
    return (
        f"{n:,} of {merged:,} merged PRs have a creation date approximated from git "
        f"({approximated_mix(approx)}), so their cycle time is unknown and left out{rest}; "
        "import a gh export (certkit import git --github) for the real creation dates of "
        "GitHub PRs, or DevLake's GitLab plugin (certkit import devlake) for GitLab merge "
        "requests" + (_EXPORTED if _has_exported(approx) else "")
    )


def mostly_approximated(approx: pl.DataFrame | None, merged: int) -> bool:
    """Whether git approximated the creation date of half the merged PRs or more."""
    n = int(approx["prs"].sum()) if approx is not None and approx.height else 0
    return bool(merged) and n / merged >= 0.5
