"""Git PR dates and credit that the commits' own dates get wrong (trial I, GNOME/glib, python-sdk).

Three rules, applied by :func:`certkit.connectors.git_prs.assemble`:

- **Imported history** (:func:`redate`): a PR branch whose commits were mostly written long
  before they were committed, by someone other than their committer, brings in old history
  rewritten onto a new branch (glib !3830/!3907 imported gobject-introspection's 2005-2018
  commits, committed in 2024 by the MR's author; the same root, so not "another repository's
  history"). Its earliest author date is not when the PR was opened, and its first author did
  not open it: the PR is credited to whoever committed most of the branch, created when its
  first commit was committed, ``created_source`` ``imported_history`` (left out of cycle
  times). A long-lived branch its author rebased (author dates months or a year older, the
  same committer) is unchanged, and so is a contributor's MR a maintainer rebased a year
  after it was opened: a PR's number dates its opening (:func:`_opened_by`).
- **GitLab squash merges** (:func:`redate`): with "squash commits when merging" and a merge
  commit, GitLab writes the MR's one squash commit at merge time, committed by the merger:
  author date = commit date = the merge's date. Its creation date is not the MR's, as for a
  GitHub ``(#N)`` squash: ``created_source`` ``squash_commit``.
- **Release-branch merges** (:func:`release_merges`): ``Merge branch 'v1.1.x'`` on the
  first-parent line forwards a release or maintenance branch into the main line: a branch
  sync, not a PR (the PRs it brought in stay PRs, its other commits direct pushes).
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from certkit.connectors.git_messages import GITHUB_WEB
from certkit.connectors.git_review import same_person

if TYPE_CHECKING:
    from collections.abc import Callable

    from certkit.connectors.git import _Commit
    from certkit.connectors.identity import Identities

#: A branch commit authored this long before it was committed is old history. glib since
#: 2023 (1,739 merged MR branches): 19 branches have a median gap over 365 days, 109 over 30;
#: sqlalchemy since 2022-09 (805): 4 over 365; twisted (245): none over 61 days.
OLD_GAP = timedelta(days=365)
#: A squash commit is written at merge time: its author and commit dates and the merge's
#: commit date agree within this.
SQUASH_SLACK = timedelta(seconds=60)
#: A release or maintenance branch's name (after ``origin/``): ``v1.1.x``, ``1.2.x``,
#: ``release/1.2``, ``release-1.2``, ``releases/x``, ``maint-1.2``, ``maintenance/x``,
#: ``stable``, ``stable-2.4``, ``2.4-stable``, ``v1.2-branch``.
RELEASE_BRANCH = re.compile(
    r"^(?:v?\d+(?:\.\d+)*\.x"
    r"|releases?(?:[-/_].+)?"
    r"|maint(?:enance)?(?:[-/_].+)?"
    r"|stable(?:[-/_].+)?"
    r"|v?\d+(?:\.\d+)+-(?:stable|branch))$",
    re.IGNORECASE,
)
_MERGE_OF = re.compile(r"^Merge (?:remote-tracking )?branch '(?:origin/)?(?P<branch>[^']+)'\s*$")
#: "merge: Resolve conflicts from v1.1.x merge" (python-sdk 58bc32e559): a merge that says it
#: finishes a release branch's merge.
_NAMES_RELEASE = re.compile(r"\bmerg\w*\b.*\bv?\d+(?:\.\d+)*\.x\b", re.IGNORECASE)


def is_release_merge(subject: str) -> bool:
    """True for a merge subject that forwards a release/maintenance branch (no ``into``).

    ``Merge branch 'v1.1.x'``, ``Merge branch 'release/2.0'``, ``Merge remote-tracking branch
    'origin/maint-1.2'``, and a merge whose subject names a ``vX.Y.x`` branch it finishes
    merging (``merge: Resolve conflicts from v1.1.x merge``).
    """
    m = _MERGE_OF.match(subject)
    if m:
        return RELEASE_BRANCH.match(m.group("branch")) is not None
    return _NAMES_RELEASE.search(subject) is not None


def release_merges(
    commits: dict[str, _Commit], mainline: set[str], named: Callable[[_Commit], bool]
) -> set[str]:
    """The unnumbered first-parent merges that forward a release branch (branch syncs).

    Parameters
    ----------
    commits
        The import's commits by sha.
    mainline
        The shas on the first-parent line of the tip.
    named
        True for a merge that names a PR or a Gerrit change (never a sync here).
    """
    return {
        s
        for s in mainline
        if s in commits
        and len(commits[s].parents) >= 2
        and not named(commits[s])
        and is_release_merge(commits[s].subject)
    }


def redate(
    prs: list[dict], groups: dict[str, dict], commits: dict[str, _Commit], ids: Identities
) -> dict:
    """Fix the credit and dates of imported history and GitLab squash merges, in place.

    Parameters
    ----------
    prs
        The PR rows :func:`certkit.connectors.git_prs.assemble` built, by ``id``.
    groups
        Their PR groups by id (``points``: merge/squash commits, ``members``: branch commits).
    commits, ids
        The import's commits by sha and identities (to name the committer credited).

    Returns
    -------
    dict
        Tallies for :func:`date_notes`: ``imported`` (branch commits, PR id), ``gitlab_squash``
        (a count).
    """
    counts: dict = {"imported": [], "gitlab_squash": 0}
    opened = _opened_by(prs)
    for row in prs:
        g = groups.get(row["id"])
        if g is None:
            continue
        points = [commits[s] for s, k in g["points"] if k == "merge"]
        merges = [c for c in points if len(c.parents) >= 2]
        work = [commits[s] for s in g["members"] if len(commits[s].parents) < 2]
        if not merges or not work:
            continue
        importer = _importer(work, opened.get(row["number"]), ids)
        if importer is not None:
            counts["imported"].append((len(work), row["id"]))
            author_id, people = _committer_id(importer, commits, ids)
            row["_new_people"] = [*row["_new_people"], *people]
            row["author_id"], row["is_bot_author"] = author_id, False
            row["created_date"] = min(min(c.committed for c in work), row["merged_date"])
            row["created_source"] = "imported_history"
        elif len(work) == 1 and len(merges) == 1 and _squashed(work[0], merges[0]):
            counts["gitlab_squash"] += 1
            row["created_source"] = "squash_commit"
    return counts


def _squashed(c: _Commit, merge: _Commit) -> bool:
    """A branch's one commit written at merge time by the merger (GitLab's squash commit).

    Not a commit GitHub's web editor wrote and merged at once (python-sdk "Suggest forking in
    CONTRIBUTING": written, then merged 49 s later): GitHub writes no merge commit for a squash.
    """
    return (
        abs(c.committed - merge.committed) <= SQUASH_SLACK
        and abs(c.authored - c.committed) <= SQUASH_SLACK
        and c.committer_email.lower() == merge.committer_email.lower()
        and c.committer_email.lower() != GITHUB_WEB
    )


def _opened_by(prs: list[dict]) -> dict[int, datetime]:
    """For each PR number, a time by which that PR was opened.

    Hosts number PRs in the order they are opened, so PR N was opened before any PR numbered
    N or higher was merged; the third-earliest such merge is taken, so that a stray number
    (another project's, a typo) cannot move it much.
    """
    numbered = sorted(
        ((r["number"], r["merged_date"]) for r in prs if r.get("number") is not None),
        reverse=True,
    )
    earliest: list = []  # the 3 earliest merges of numbers >= n (negated, a max-heap)
    out: dict[int, datetime] = {}
    for n, merged in numbered:
        heapq.heappush(earliest, _Neg(merged))
        if len(earliest) > 3:
            heapq.heappop(earliest)
        out[n] = earliest[0].t
    return out


class _Neg:
    """A datetime ordered backwards (for a max-heap with :mod:`heapq`)."""

    __slots__ = ("t",)

    def __init__(self, t: datetime) -> None:
        self.t = t

    def __lt__(self, other: _Neg) -> bool:
        return self.t > other.t


def _importer(
    work: list[_Commit], opened: datetime | None = None, ids: Identities | None = None
) -> str | None:
    """The committer of a branch of old history (its committer e-mail), else ``None``.

    Old history: at least half the branch's commits were authored by someone other than their
    committer (not GitHub's web interface) :data:`OLD_GAP` or more before they were committed,
    and before the PR was opened (``opened``, a time by which it was: see :func:`_opened_by`).
    A contributor's MR opened when it was written and rebased by a maintainer a year later is
    not (glib !3373: Benjamin Otte's 2023-04 commits, committed by Philip Withnall in 2024-06).
    The one credited is whoever committed most of the old commits. Author and committer are
    one person when their e-mails, their display names or their mapped ids (``ids``: roster,
    identity file) agree (trial J, glib: Philip Withnall's own 2012 commits under an old
    address, rebased by him in 2023, are his branch, not imported history).
    """
    old = [
        c
        for c in work
        if min(c.committed, opened or c.committed) - c.authored >= OLD_GAP
        and not same_person(c, ids)
        and c.committer_email.lower() != GITHUB_WEB  # GitHub's "update branch": no one
    ]
    if 2 * len(old) < len(work):
        return None
    return Counter(c.committer_email.lower() for c in old).most_common(1)[0][0]


def _committer_id(
    email: str, commits: dict[str, _Commit], ids: Identities
) -> tuple[str, list[dict]]:
    """The engineer id of a committer: that of a commit they authored, else their e-mail's."""
    for c in commits.values():
        if c.author_email.lower() == email and not c.bot:
            return c.author_id, []
    eid = ids.engineer_id(email=email)
    return eid, [{"engineer_id": eid, "name": email, "email": email}]


def date_notes(repo: str, counts: dict, release: set[str], commits: dict[str, _Commit]) -> list:
    """The import notes of these rules (empty when none applied)."""
    notes = []
    imported = [pr for _, pr in sorted(counts.get("imported", []), key=lambda x: -x[0])]
    if imported:  # the largest first
        shown = ", ".join(imported[:5]) + (", ..." if len(imported) > 5 else "")
        notes.append(
            f"{repo}: {len(imported)} PR(s) bring in old history rewritten onto a new branch "
            f"({shown}): most of their commits were authored a year or more before someone "
            "else committed them; credited to that committer, created when the branch was "
            "committed (created_source 'imported_history', left out of cycle times)"
        )
    if counts.get("gitlab_squash"):
        notes.append(
            f"{repo}: {counts['gitlab_squash']} merge(s) bring in one commit written at merge "
            "time by the merger (a GitLab squash merge): created_source 'squash_commit', left "
            "out of cycle times"
        )
    if release:
        names = sorted({commits[s].subject for s in release})
        shown = "; ".join(names[:4]) + ("; ..." if len(names) > 4 else "")
        notes.append(
            f"{repo}: {len(release)} merge(s) of a release or maintenance branch ({shown}) are "
            "branch syncs, not PRs (counted among the branch-sync merges)"
        )
    return notes
