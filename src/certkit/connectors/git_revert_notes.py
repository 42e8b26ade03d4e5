"""The import's notes on reverts (:func:`certkit.connectors.git_reverts.mark_reverts`): revert
commits inside ordinary PRs, PRs restored by a revert of their revert, temporary changes
reverted as planned, and revert PRs whose target was not found."""

from __future__ import annotations

#: PR ids listed in a note before "and N more".
_LISTED = 10


def unnamed_note(repo: str, unnamed: list[str]) -> list[str]:
    """Revert PRs whose reverted PR certkit could not find (trial N: uvicorn#2276 names
    "#2220" only in its squashed body's words, starlette#2737 only the change): the revert
    count is a lower bound, and which reverts it misses should be checkable."""
    if not unnamed:
        return []
    return [
        f"{repo}: {len(unnamed)} revert PR(s) name no PR certkit could find "
        f"({_listed(sorted(unnamed, key=_natural))}): what they undo is not counted as "
        "reverted (a PR from before --since, or one named only in words); check them by hand"
    ]


def _listed(ids: list[str]) -> str:
    more = f" and {len(ids) - _LISTED} more" if len(ids) > _LISTED else ""
    return ", ".join(ids[:_LISTED]) + more


def revert_notes(
    repo: str, inside: dict[str, list[str]], restored: list[str], as_planned: list[str]
) -> list[str]:
    """The notes of :func:`~certkit.connectors.git_reverts.mark_reverts`.

    Parameters
    ----------
    repo
        The repository's name.
    inside
        ``"<PR> undoes part of <PR>"`` (the PR holding a revert commit or line, and the PR it
        names) -> the commits saying so.
    restored
        PR ids reverted and then restored by a revert of their revert.
    as_planned
        PRs whose temporary change was reverted as planned (ids, maybe with their commit).
    """
    notes = []
    if inside:
        n = len({c for shas in inside.values() for c in shas})
        said = sorted(inside, key=lambda s: _natural(s.rsplit(" ", 1)[1]))
        notes.append(
            f"{repo}: {n} commit(s) inside other PRs undo part of an earlier PR "
            f"({_listed(said)}): not counted as reverts (only a PR that is a revert as a "
            "whole, or a pushed revert commit, is)"
        )
    if restored:
        restored = sorted(restored, key=_natural)
        notes.append(
            f"{repo}: {len(restored)} PR(s) were reverted and then restored by a revert of "
            f"their revert ({_listed(restored)}): not counted as reverted"
        )
    if as_planned:
        as_planned = sorted(as_planned, key=lambda name: _natural(name.split(" (", 1)[0]))
        notes.append(
            f"{repo}: {len(as_planned)} PR(s) had a temporary change reverted as planned "
            f"({_listed(as_planned)}): not counted as reverted (the reverted commit or PR says "
            '"temporarily", "temporary", "for now", "for the time being", "for the next few days", or pins/disables/skips something "until")'
        )
    return notes


def _natural(pr_id: str) -> tuple[str, int, str]:
    """Sort key: ``repo#9`` before ``repo#10``."""
    head, sep, tail = pr_id.rpartition("#")
    return (head, int(tail), "") if sep and tail.isdigit() else (pr_id, -1, pr_id)
