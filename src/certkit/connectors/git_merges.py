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
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from certkit.connectors.git_graph import branch_only, first_parent_line, generations, only_from
from certkit.connectors.git_messages import BORS, is_sync_merge, pr_number

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
