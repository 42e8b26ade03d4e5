"""bors-ng batch merges, merges whose branch ``--since`` cut, and identical patches.

Used by :mod:`certkit.connectors.git_prs` and :mod:`certkit.connectors.git`:

- bors-ng merges a batch of PRs as one octopus merge ``Merge #12 #13`` whose parents are the
  base and each PR's head, in the order of the subject, and whose body has one line per PR
  (``12: Title r=reviewer a=author``): each PR of a batch is its own PR (:func:`batch_parts`).
- ``git log --since`` reads commits by their commit date, so a PR merged inside the window
  loses the commits of its branch written before it (a Gerrit change written in June and
  submitted in September lost the whole change): :func:`cut_merges` names the merges whose
  branch the window cut, so that the import reads those commits too.
- A squash commit cherry-picked within one repository carries the same ``(#N)``: the same
  patch (same author date, same lines per file) counts its lines once
  (:func:`distinct_patches`).
- Numbers that are not this repository's PR, or not one PR: a fork's own PR merged inside the
  branch it proposed (:func:`fork_merges`), and a PR merged then rolled back under its own
  number (:func:`rolled_back`).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from certkit.connectors.git_graph import branch_only, first_parent_line, generations, only_from
from certkit.connectors.git_messages import BORS, SQUASH, is_sync_merge, pr_number

if TYPE_CHECKING:
    from certkit.connectors.git import _Commit

#: One PR of a bors-ng batch in the merge's body: "12: Title r=reviewer a=author".
_BORS_LINE = re.compile(r"^(?P<n>\d+): (?P<title>.*?)(?:\s+r=\S*)?(?:\s+a=\S*)?\s*$", re.MULTILINE)


def batch_parts(
    merge: _Commit, members: list[str], commits: dict[str, _Commit], gen: dict[str, int]
) -> list[tuple[int, str | None, list[str]]] | None:
    """``(number, title, commits)`` of each PR of a bors-ng batch merge, else ``None``.

    A batch names one PR per parent after the first. The commits of PR ``i`` are those of
    ``members`` (the merge's side) reachable from its parent but not from the base nor from
    the parents before it (a commit two PRs of the batch share goes to the first).
    """
    m = BORS.match(merge.subject)
    if m is None or not m.group("more"):
        return None
    numbers = [int(n) for n in re.findall(r"\d+", merge.subject)]
    if len(numbers) != len(merge.parents) - 1 or len(set(numbers)) != len(numbers):
        return None
    titles: dict[int, str] = {}
    for line in _BORS_LINE.finditer(merge.body):  # the first line of a number (not its text)
        titles.setdefault(int(line.group("n")), line.group("title"))
    keep = set(members)
    parts = []
    for i, number in enumerate(numbers, start=1):
        side = only_from([merge.parents[i]], merge.parents[:i], commits, gen)
        parts.append((number, titles.get(number) or None, [s for s in side if s in keep]))
    return parts


def cut_merges(commits: dict[str, _Commit], tip: str, imported: set[str] | frozenset[str]):
    """The merges whose branch may hold commits ``--since`` left out, and how each keeps them.

    PR merges (a number), Gerrit merges (``Merge "..." into main``) and unnumbered merges on
    the first-parent line, whose side (:func:`branch_only`) reaches a commit not read. Returns
    ``{merge sha: gerrit}``: a Gerrit merge keeps only the commits that name a Gerrit change.
    """
    from certkit.connectors.git_review import is_gerrit_merge

    mainline = set(first_parent_line(commits, tip))
    gen: dict[str, int] | None = None
    out: dict[str, bool] = {}
    for sha, c in commits.items():
        if len(c.parents) < 2 or sha in imported:
            continue
        if pr_number(c)[0] is not None:
            gerrit = False
        elif is_gerrit_merge(c.subject):
            gerrit = True
        elif not is_sync_merge(c.subject) and sha in mainline:
            gerrit = False
        else:
            continue
        gen = gen or generations(commits)
        side = [commits[s] for s in branch_only(c, commits, gen)]
        tips = c.parents[1:] + [p for s in side for p in s.parents]
        if any(p not in commits for p in tips):
            out[sha] = gerrit
    return out


def cut_sides(
    path: Path, commits: dict[str, _Commit], tip: str, imported: set[str] | frozenset[str]
) -> dict[str, bool]:
    """The unread commits of the branches of merges in the window (:func:`cut_merges`).

    ``git rev-list M^2 ^M^1`` per such merge; ``{sha: True}`` where only a Gerrit merge brought
    it in (kept only if it names a Gerrit change). A parent a shallow clone lacks is skipped.
    Another repository's history (what the merged-in parents of ``imported`` reach: glib's
    subtree merge 7aafd8c7d7 of gobject-introspection's 696 commits) is in no PR: not read.
    """
    out: dict[str, bool] = {}
    cut = cut_merges(commits, tip, imported)
    foreign = _merged_in(path, imported) if cut and imported else []
    for m, gerrit in cut.items():
        parents = commits[m].parents
        res = subprocess.run(
            ["git", "rev-list", *parents[1:], "--not", parents[0], *foreign, "--"],
            cwd=path,
            capture_output=True,
            text=True,
            check=False,
        )
        for sha in res.stdout.split() if res.returncode == 0 else []:
            if sha not in commits:
                out[sha] = out.get(sha, True) and gerrit
    return out


def _merged_in(path: Path, merges: set[str] | frozenset[str]) -> list[str]:
    """The parents after the first of ``merges`` (the histories they brought in)."""
    res = subprocess.run(
        ["git", "rev-list", "--no-walk=unsorted", "--parents", "--stdin"],
        cwd=path,
        input="".join(f"{m}\n" for m in sorted(merges)),
        capture_output=True,
        text=True,
        check=False,
    )
    lines = res.stdout.splitlines() if res.returncode == 0 else []
    return [p for line in lines for p in line.split()[2:]]


def attach_older(commits: dict[str, _Commit], older: set[str]):
    """Drop the commits of ``older`` no PR took; ``(number kept, earliest commit date)``.

    ``older`` were read from before ``--since`` for the PRs merged in the window
    (:func:`cut_sides`); one that joined no PR (a branch's merge of another history, a
    commit its PR's rules leave out) is not part of the window.
    """
    kept = [commits[s] for s in older if s in commits and commits[s].pr_id is not None]
    for sha in [s for s in older if s in commits and commits[s].pr_id is None]:
        del commits[sha]
    return len(kept), min((c.committed for c in kept), default=None)


def distinct_patches(every: list[_Commit]) -> list[_Commit]:
    """``every`` without the repeats of one patch (same author date and lines per file).

    A commit cherry-picked within the repository keeps its author date and, unchanged, its
    numstat: its lines are counted once. Merges and commits without lines are kept.
    """
    seen: set[tuple] = set()
    out = []
    for c in every:
        key = (c.authored, c.patch)
        if len(c.parents) < 2 and c.patch and key in seen:
            continue
        seen.add(key)
        out.append(c)
    return out


def fork_merges(units: list, commits: dict[str, _Commit], mainline: set[str]) -> set[str]:
    """PR merges off the first-parent line that carry a fork's own PR number.

    A fork that merges its own pull request #N in a branch it then proposes here brings a
    "Merge pull request #2 from ..." into this history, off the first-parent line. It is
    taken for one when another PR of this history (a merge or a squash commit) names the
    same number and the number is under half the median number of the first-parent PRs
    within 90 days of it (trial Q, browser-use: "#2 from gobii-ai/codex/..." and "#2 from
    youngquan/..." in 2025, the repository at #3400, were joined into one PR #2; review D3:
    with this repository's squash-merged #2 too). Without a second use of the number it
    keeps it: browser-use's own #1309 and #1281, and python-sdk's #56, merged off the line
    in fast-growing histories, are this repository's PRs.
    """
    uses: dict[int, list[str]] = {}
    dated: list[tuple[float, int]] = []  # (time, number) of the first-parent PRs
    for _, sha, kind in units:
        c = commits[sha]
        number = pr_number(c)[0] if kind == "merge" else None
        if kind == "squash":
            found = SQUASH.search(c.subject)
            number = int(found.group("n")) if found else None
        if number is None:
            continue
        uses.setdefault(number, []).append(sha)
        if sha in mainline:
            dated.append((c.committed.timestamp(), number))
    window = 90 * 86400
    out = set()
    for number, shas in uses.items():
        for sha in shas if len(shas) > 1 else []:
            if sha in mainline or pr_number(commits[sha])[0] is None:
                continue
            t = commits[sha].committed.timestamp()
            near = sorted(n for when, n in dated if abs(when - t) <= window)
            if near and number < near[len(near) // 2] / 2:
                out.add(sha)
    return out


def rolled_back(points: list[_Commit]) -> _Commit | None:
    """The later of a PR's two landed commits when it undoes the earlier file by file (its
    lines added and deleted per file are the earlier one's deleted and added).

    abseil-cpp #2067 (trial M, M5): a Copybara export of the PR, then 90 minutes later its
    rollback, exported with the same title and description and the inverse diff. Read as one
    PR of both diffs, it was a PR of 20 lines merged at the rollback, not reverted.
    """
    landed = [p for p in points if len(p.parents) < 2 and p.patch]
    if len(landed) != 2:
        return None
    first, last = sorted(landed, key=lambda c: c.committed)
    # a diff adding as many lines as it deletes in every file is its own numstat inverse:
    # a cherry-pick of it is one patch twice (xarray #4181), not a rollback
    undoes = last.inverse == first.patch and last.patch != first.patch
    return last if undoes and last.committed > first.committed else None
