"""Review systems that put changes on a branch without a ``Merge pull request`` commit.

Used by :mod:`certkit.connectors.git_prs`. A commit names its reviewed change in a trailer:

- Gerrit's ``Reviewed-on: https://go-review.googlesource.com/c/net/+/795860`` (also
  ``.../12345`` and ``.../#/c/12345/``), or only ``Change-Id: I<40 hex>`` when the server adds
  no ``Reviewed-on:`` line (sqlalchemy's Gerrit). Gerrit's "merge if necessary" then writes a
  ``Merge "<change subject>" into main`` (or ``Merge changes I1,I2 into main``) commit whose
  second parent is the change: that merge dates the change, it is not a PR of its own.
- Forgejo's ``Reviewed-on: https://host/org/repo/pulls/343`` (rebase merges).
- GitLab's Marge-bot ``Part-of: <https://host/g/p/-/merge_requests/4346>``, or a squash
  template's ``See merge request g/p!12``.
- Copybara's ``PiperOrigin-RevId: 968925055`` (Google's exports of its internal change lists;
  a GitHub pull request imported through it says ``COPYBARA_INTEGRATE_REVIEW=https://github.com
  /o/r/pull/N`` or ``Imported from GitHub PR https://github.com/o/r/pull/N``).
- Phabricator's ``Differential Revision: https://reviews.llvm.org/D12345``, or a bare
  ``Differential Revision: D115455900`` on one line (Meta's ShipIt exports: facebook/watchman's
  commits since 2025-09 are 337 reviewed diffs, all committed by an export bot). Meta's backout
  tool writes the reverted diff's number on the next line (``Differential Revision:`` then
  ``D80147769``): that commit is a revert (``Revert D80147769: ...``), not part of the diff.

The last such trailer of a message wins: a cherry-pick quotes the original change's trailer
above its own.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from certkit.connectors.git_graph import branch_only

if TYPE_CHECKING:
    from certkit.connectors.git import _Commit
    from certkit.connectors.identity import Agent, Identities

_REVIEW_TRAILERS = [
    (  # Forgejo adds "Reviewed-on: https://host/org/repo/pulls/343" to what it merges
        "forgejo",
        re.compile(
            r"^Reviewed-on:\s*<?https?://\S+/pulls/(?P<n>\d+)/?>?\s*$", re.MULTILINE | re.IGNORECASE
        ),
    ),
    (
        "gerrit",
        re.compile(
            r"^Reviewed-on:\s*<?https?://\S*?/(?:\+/|c/|#/c/)?(?P<n>\d+)(?:/\d+)?/?>?\s*$",
            re.MULTILINE | re.IGNORECASE,
        ),
    ),
    (
        "gitlab",
        re.compile(
            r"^Part-of:\s*<?https?://\S+/merge_requests/(?P<n>\d+)/?>?\s*$",
            re.MULTILINE | re.IGNORECASE,
        ),
    ),
    ("gitlab", re.compile(r"^See merge request (?:\S+)?!(?P<n>\d+)\s*$", re.MULTILINE)),
    (
        "phabricator",
        re.compile(
            r"^Differential Revision:(?:\s*<?https?://\S+/|[ \t]*)D(?P<n>\d+)/?>?\s*$",
            re.MULTILINE | re.IGNORECASE,
        ),
    ),
    # Google's Copybara writes the Piper change list it exports (and a Change-Id, which is not
    # a Gerrit change here): abseil/abseil-cpp since 2025-09, 677 of 677 commits
    ("copybara", re.compile(r"^PiperOrigin-RevId:\s*(?P<n>\d+)\s*$", re.MULTILINE)),
]
#: How each review system is named in the import notes.
REVIEW_SYSTEMS = {
    "forgejo": "Gitea/Forgejo pull request(s) merged without a merge commit (Reviewed-on: .../pulls/N)",
    "gerrit": "Gerrit change(s) (Reviewed-on: trailer)",
    "gerrit_change_id": "Gerrit change(s) named only by a Change-Id: trailer (no Reviewed-on:)",
    "gitlab": "GitLab merge request(s) merged without a merge commit (Part-of: or See merge request)",
    "phabricator": "Phabricator revision(s) (Differential Revision:, ids #D<number>)",
    "copybara": "change list(s) exported by Copybara (PiperOrigin-RevId:, ids #CL<number>)",
}
#: The systems whose changes a Gerrit merge (``Merge "..." into main``) can submit.
GERRIT = ("gerrit", "gerrit_change_id")
#: Gerrit's Change-Id: "I" and the 40 hex digits of a sha-1.
_CHANGE_ID = re.compile(r"^Change-Id:\s*(I[0-9a-f]{40})\s*$", re.MULTILINE)
#: A GitHub pull request mirrored into Gerrit (sqlalchemy's sqla-tester writes this trailer).
_PULL_REQUEST = re.compile(
    r"^Pull-request:\s*<?https?://github\.com/(?P<repo>[^/\s]+/[^/\s]+)/pull/(?P<n>\d+)/?>?\s*$",
    re.MULTILINE | re.IGNORECASE,
)
#: Gerrit's "merge if necessary" commits.
_GERRIT_MERGE = re.compile(
    r'^Merge (?:".*"|changes I[0-9a-f]{7,40}(?:,I[0-9a-f]{7,40})*|changes from topic "[^"]*")'
    r"(?: into \S+)?\s*$"
)


def review_change(commit: _Commit) -> tuple[str, int | None] | None:
    """``(system, number)`` of the reviewed change a commit's trailers name, else ``None``.

    ``system`` is a key of :data:`REVIEW_SYSTEMS`; ``number`` is ``None`` for a Gerrit change
    known only by its ``Change-Id:`` (see :func:`change_id`).
    """
    for system, pattern in _REVIEW_TRAILERS:
        found = pattern.findall(commit.body)
        if found:
            return system, int(found[-1])
    if change_id(commit) is not None:
        return "gerrit_change_id", None
    return None


def change_id(commit: _Commit) -> str | None:
    """The last ``Change-Id: I<40 hex>`` trailer of a commit's message, else ``None``."""
    found = _CHANGE_ID.findall(commit.body)
    return found[-1] if found else None


def pull_request(commit: _Commit) -> tuple[str, int] | None:
    """``(owner/repo, N)`` of the last ``Pull-request: https://github.com/o/r/pull/N`` line."""
    found = list(_PULL_REQUEST.finditer(commit.body))
    return (found[-1].group("repo"), int(found[-1].group("n"))) if found else None


#: ShipIt's links from an exported diff to the pull request it came from, in this repository
#: or another: ``Pull Request resolved: https://github.com/o/r/pull/N`` (often after
#: ``Summary:`` on the same line) and ``X-link: https://github.com/o/r/pull/N``.
_PR_LINK = re.compile(
    r"(?:^|\s)(?:X-link|Pull Request resolved):\s*<?https?://github\.com/"
    r"(?P<repo>[^/\s]+/[^/\s]+)/pull/(?P<n>\d+)",
    re.MULTILINE | re.IGNORECASE,
)


def linked_elsewhere(commit: _Commit, number: int, repo: str) -> bool:
    """Whether a subject's ``(#N)`` is another repository's pull request: the commit links
    pull request N of another repository and not this one's (Meta's ShipIt exports a diff to
    several repositories: facebook/watchman's "Migrate from googletest 1.8 to googletest 1.10
    (#67)" says ``X-link: https://github.com/facebookincubator/hsthrift/pull/67`` and "flip
    opensource to use pyrefly (#439)" ``Pull Request resolved: .../facebook/CacheLib/pull/439``:
    watchman changes D34351084 and D99315659, not watchman PRs; 91 of its 203 ``(#N)``)."""
    links = [(m["repo"], int(m["n"])) for m in _PR_LINK.finditer(commit.body)]
    here = [n for r, n in links if same_repo(r, repo)]
    return number not in here and any(n == number for _, n in links)


#: A GitHub pull request Copybara imported into the change list it exports.
_IMPORTED_PR = re.compile(
    r"^(?:COPYBARA_INTEGRATE_REVIEW=|Imported from GitHub PR )<?https?://github\.com/"
    r"(?P<repo>[^/\s]+/[^/\s]+)/pull/(?P<n>\d+)",
    re.MULTILINE,
)


def imported_pull_request(commit: _Commit, repo: str) -> int | None:
    """The number of this repository's GitHub pull request a Copybara export imported
    (abseil/abseil-cpp: "Imported from GitHub PR https://github.com/abseil/abseil-cpp/pull/
    2128"), else ``None``: its PR id is then ``repo#N``, the id a gh export of it has."""
    found = [int(m["n"]) for m in _IMPORTED_PR.finditer(commit.body) if same_repo(m["repo"], repo)]
    return found[-1] if found else None


def same_repo(url_repo: str, repo: str) -> bool:
    """Does a GitHub ``owner/name`` name the repository imported as ``repo``?

    ``repo`` is the import's name: ``owner/name`` from a hosted origin or ``--repo-name``, or
    a folder name (a clone of a mirror), which then must equal the project's name.
    """
    url_repo, repo = url_repo.lower().removesuffix(".git"), repo.lower()
    return url_repo == repo or ("/" not in repo and url_repo.split("/")[-1] == repo)


def is_gerrit_merge(subject: str) -> bool:
    """``Merge "<change subject>" into main`` or ``Merge changes I1,I2 into main``."""
    return _GERRIT_MERGE.match(subject) is not None


def change_numbers(commits: dict[str, _Commit], repo: str) -> dict[str, int]:
    """The GitHub PR number of each Change-Id, where it is clean.

    A change whose ``Pull-request:`` trailer names this repository's GitHub PR N takes N (the
    id a ``gh`` export of that PR has), unless N is on several changes (a contributor's PR
    split into two Gerrit changes): those keep ids of their own.
    """
    by_n: dict[int, set[str]] = {}
    for c in commits.values():
        cid = change_id(c)
        pr = pull_request(c) if cid else None
        if cid and pr and same_repo(pr[0], repo):
            by_n.setdefault(pr[1], set()).add(cid)
    return {next(iter(cids)): n for n, cids in by_n.items() if len(cids) == 1}


def gerrit_merge_points(
    commits: dict[str, _Commit], gen: dict[str, int], merges: list[str], changes: set[str]
) -> dict[str, str]:
    """The Gerrit merge (``Merge "..." into main``) that brought in each change commit.

    ``merges`` are the Gerrit merge commits, ``changes`` the shas of Gerrit changes' commits.
    A change commit reachable only through a merge's second parent was submitted by that
    merge; the earliest such merge wins (a later one brings it in again only as history).
    """
    out: dict[str, str] = {}
    for m in sorted(merges, key=gen.__getitem__):
        for s in branch_only(commits[m], commits, gen):
            if s in changes and s not in out:
                out[s] = m
    return out


def review_notes(
    repo: str, n_review: dict[str, int], n_merges: int, n_repeated: int, n_mirrored: int
) -> list[str]:
    """The import notes on reviewed changes (counts per system of :data:`REVIEW_SYSTEMS`)."""
    reviewed = [f"{n} {REVIEW_SYSTEMS[system]}" for system, n in n_review.items() if n]
    if not reviewed:
        return []
    submitted = (
        f", or at the commit date of the Gerrit merge that submitted it ({n_merges} "
        "merge(s) 'Merge \"<subject>\" into <branch>', not PRs themselves)"
        if n_merges
        else ""
    )
    notes = [
        f"{repo}: {', '.join(reviewed)} are PRs although no merge commit names them: each "
        "change's commits (all that name it) form one PR, created at their earliest author "
        "date (an approximation: the change was opened after its first commit) and merged "
        "at their latest commit date (the time it was rebased or cherry-picked onto the "
        f"branch){submitted}"
    ]
    if n_repeated:
        notes.append(
            f"{repo}: {n_repeated} Change-Id(s) appear on several commits (a change pushed "
            "again, or cherry-picked within the branch); each is one PR, lines summed"
        )
    if n_mirrored:
        notes.append(
            f"{repo}: {n_mirrored} Gerrit change(s) mirror a GitHub pull request of this "
            "repository (Pull-request: https://github.com/.../pull/N): their id is "
            f"{repo}#N, the id a gh export of that pull request has"
        )
    return notes


#: Marge-bot's trailer (GNOME, freedesktop): a change landed by a person still carries it.
_PART_OF = _REVIEW_TRAILERS[2][1]


def is_export_bot(agent: Agent | None) -> bool:
    """True for an account that exports an internal monorepo's changes (``agents.yaml`` id
    ``export-bots``: Meta's ShipIt, Google's Copybara). Its commit time is the export, and the
    author date it writes is the land time inside the monorepo (facebook/watchman 2016-2022:
    2,345 diffs "created" a median 3.5 minutes before they were "merged"), not when the change
    was opened."""
    return agent is not None and agent.id == "export-bots"


def same_person(c: _Commit, ids: Identities | None = None) -> bool:
    """Whether a commit's author and committer are one person: the same e-mail (case
    ignored), the same name (case and spacing ignored), or, with ``ids``, the committer's
    e-mail or name mapped to the author's engineer id (glib: Philip Withnall's old commits
    under an old address are his own, not imported history)."""
    if c.author_email.lower() == c.committer_email.lower():
        return True
    if c.committer_name and " ".join(c.author_name.lower().split()) == " ".join(
        c.committer_name.lower().split()
    ):
        return True
    return ids is not None and c.author_id == ids.engineer_id(
        email=c.committer_email, name=c.committer_name or None
    )


def self_landed(system: str | None, points: list[_Commit], ids: Identities | None = None) -> bool:
    """True for a Marge-bot ``Part-of:`` or a ``Change-Id:``-only change that its author
    committed last (no merge bot or reviewer rewrote it when it landed).

    Its merge date is then the author's own last commit time (a local amend or rebase), not
    the landing: GNOME/gnome-shell since 2023-09, 290 such MRs had a median cycle of 2.9 h
    against 5.0 days for the 512 that Marge-bot landed; the same authors' Marge-landed MRs
    took 77 h (Florian Müllner, 185 MRs) where their own took 0.6 h (115), and the next
    mainline commit by someone else came a median 13 h after the author's commit (25 of 290
    within an hour), so git does not say when they landed. Changes a Gerrit merge dates, and
    ``Reviewed-on:`` changes (Gerrit wrote them at submit), are not self-landed. Author and
    committer are one person as :func:`same_person` says (with ``ids``, mapped aliases).
    """
    if system not in ("gitlab", "gerrit_change_id") or not points:
        return False
    last = max(points, key=lambda c: c.committed)
    if system == "gitlab" and not _PART_OF.search(last.body):
        return False  # a squash template's "See merge request": GitLab wrote it at merge
    return not last.bot and same_person(last, ids)


def self_landed_note(repo: str, rows: list[tuple[str, float]]) -> list[str]:
    """The import note on self-landed changes (:func:`self_landed`).

    ``rows`` are ``(created_source, cycle hours)`` of the ``Part-of:`` and ``Change-Id:``
    changes; compares the self-landed ones with those a bot or reviewer landed.
    """
    import statistics

    own = [h for s, h in rows if s == "self_landed"]
    landed = [h for s, h in rows if s == "branch_first_commit"]
    if not own:
        return []

    def med(hours: list[float]) -> str:
        h = statistics.median(hours)
        return f"{h / 24:.1f} days" if h >= 48 else f"{h:.1f} h"

    other = (
        f" (against {med(landed)} for the {len(landed)} others, landed by a merge bot, a "
        "reviewer or a Gerrit merge)"
        if landed
        else ""
    )
    return [
        f"{repo}: {len(own)} review change(s) (Part-of: or Change-Id:) were last committed by "
        "their author, not by a merge bot or a reviewer: their merge date is the author's "
        "last commit time (a local amend or rebase), not when they landed; median cycle "
        f"{med(own)}{other}. created_source 'self_landed': left out of cycle times, still "
        "counted as merged"
    ]
