"""What merge and squash commit messages say: the PR number and branch a merge names, its
title, and whether it is a branch sync.

Used by :mod:`certkit.connectors.git_prs` (which commits are PRs) and
:mod:`certkit.connectors.git_merges`; the patterns of the common hosting services are listed
in ``docs/connectors.md``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from certkit.connectors.git import _Commit

#: A trailer line where a merge's body would hold the PR title: abseil-cpp's 34 GitHub merges
#: exported by Copybara have only ``PiperOrigin-RevId:`` and ``Change-Id:`` there (trial M).
_TRAILER = re.compile(
    r"^(?:PiperOrigin-RevId|Change-Id|Signed-off-by|Co-authored-by|Reviewed-by|Reviewed-on|"
    r"Part-of|fbshipit-source-id|Differential Revision):",
    re.IGNORECASE,
)
#: bors-ng: "Merge #12" (one PR) or "Merge #12 #13" (a batch).
BORS = re.compile(r"^Merge #(?P<n>\d+)(?P<more>(?:\s+#\d+)*)\s*$")

# PR numbers in merge / squash messages of the common hosting services.
_MERGE_PATTERNS = [
    # GitHub: "from owner/branch", the owner left out (branch rules read "codex/...")
    re.compile(r"^Merge pull request #(?P<n>\d+) from (?:[^/\s]+/)?(?P<branch>\S+)"),
    re.compile(r"^Merged PR (?P<n>\d+):"),  # Azure DevOps
    re.compile(r"^Merged in (?P<branch>\S+) \(pull request #(?P<n>\d+)\)"),  # Bitbucket
    # Bitbucket Server / Data Center: "Merge pull request #1 in FOO/bar from feature/x to main"
    re.compile(r"^Merge pull request #(?P<n>\d+) in \S+ from (?P<branch>\S+)"),
    # Gitea / Forgejo: "Merge pull request 'Add retry' (#12) from feat/retry into main"
    re.compile(r"^Merge pull request '(?P<title>.*)' \(#(?P<n>\d+)\) from (?P<branch>\S+)"),
    # merge queues: bors / homu (rust-lang: "Auto merge of #14793 - epage:test-compare,
    # r=weihanglo"; homu's early "auto merge of #1100 : owner/repo/branch, r=x"), Rust's
    # rollups, bors-ng ("Merge #60")
    re.compile(r"^[Aa]uto merge of #(?P<n>\d+)\s*[-:]\s*(?P<branch>[^,\s]+)"),
    re.compile(r"^Rollup merge of #(?P<n>\d+)\s*-\s*(?P<branch>[^,\s]+)"),
    BORS,  # "Merge #12", a batch "Merge #12 #13": the first number (git_merges splits it)
]
_GITLAB = re.compile(r"See merge request (?:\S+)?!(?P<n>\d+)")
_MERGE_BRANCH = re.compile(r"^Merge (?:remote-tracking )?branch '(?P<branch>[^']+)'")
_SYNC = re.compile(
    r"^Merge (?:"
    r"branch '[^']+' of \S+"  # git pull: Merge branch 'main' of github.com:org/repo
    r"|remote-tracking branch "  # Merge remote-tracking branch 'origin/main'
    r"|branch '[^']+' into \S+"  # Merge branch 'main' into feature
    r"|(?:tag|commit) "  # Merge tag 'v1.2', Merge commit 'abc123'
    r"|branch '(?:\w+/)?(?:main|master|develop|development|dev|trunk)'\s*$"
    r'|"'  # Gerrit's "merge if necessary": Merge "net/http: fix ..." (the change is a unit)
    r")"
)
SQUASH = re.compile(r"\(#(?P<n>\d+)\)\s*$")
#: The committer of merges made in GitHub's web interface.
GITHUB_WEB = "noreply@github.com"


def pr_number(merge: _Commit) -> tuple[int | None, str | None]:
    """PR number and head branch named by a merge commit's message (``None`` if absent)."""
    for pat in _MERGE_PATTERNS:
        m = pat.search(merge.subject)
        if m:
            return int(m.group("n")), m.groupdict().get("branch")
    m = _GITLAB.search(merge.body)
    b = _MERGE_BRANCH.search(merge.subject)
    if m:
        return int(m.group("n")), b.group("branch") if b else None
    m = SQUASH.search(merge.subject)
    if m and merge.committer_email == GITHUB_WEB and not is_sync_merge(merge.subject):
        # merged on GitHub with an edited title ("Additional Responses (#97)", committed by
        # GitHub): a PR merge, not a local one (fastapi #97, #1796, #2054)
        return int(m.group("n")), b.group("branch") if b else None
    return None, b.group("branch") if b else None


def merge_title(merge: _Commit) -> str:
    """The PR title a numbered merge commit holds.

    Gitea's subject quotes it; GitHub and GitLab put it in the first line after the subject;
    Bitbucket Server lists the merged commits there instead (``* commit '<sha>':``), and a
    merge GitHub made with an edited title is the title itself.
    """
    for pattern in _MERGE_PATTERNS:
        m = pattern.search(merge.subject)
        if m and m.groupdict().get("title"):
            return m.group("title")
    if SQUASH.search(merge.subject) and not is_sync_merge(merge.subject):
        # merged on GitHub with the PR's title as subject ("Revert ChatGoogle cached_content
        # forwarding (#4900)"): the body is the PR's description ("## Summary" was the title
        # of 1,164 of browser-use's 1,793 PRs, and 4 revert PRs went unread; trial U)
        return SQUASH.sub("", merge.subject).strip()
    parts = merge.body.split("\n\n", 1)
    line = parts[1].strip().split("\n", 1)[0] if len(parts) > 1 else ""
    if line and not line.startswith("* commit '") and not _TRAILER.match(line):
        return line
    return SQUASH.sub("", merge.subject).strip()


def is_sync_merge(subject: str) -> bool:
    """True for branch-sync merges (``git pull``, remote-tracking, ``into``, tag merges)."""
    return _SYNC.match(subject) is not None
