"""Walks over a git history's commit graph (parents before children, merges' sides).

Used by :mod:`certkit.connectors.git_prs` and :mod:`certkit.connectors.git_review`; the graph is
the ``dict`` of commits read, so a history cut by ``--since`` ends at commits whose parents
were not read.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from certkit.connectors.git import _Commit


def generations(commits: dict[str, _Commit]) -> dict[str, int]:
    """1 + the longest parent chain inside the history read (parents before children)."""
    gen: dict[str, int] = {}
    for start in commits:
        stack = [start]
        while stack:
            sha = stack[-1]
            if sha in gen:
                stack.pop()
                continue
            parents = [p for p in commits[sha].parents if p in commits]
            todo = [p for p in parents if p not in gen]
            if todo:
                stack.extend(todo)
            else:
                gen[sha] = 1 + max((gen[p] for p in parents), default=0)
                stack.pop()
    return gen


def first_parent_line(commits: dict[str, _Commit], tip: str) -> list[str]:
    """The commits of ``tip``'s first-parent line, newest first, while they were read (the
    mainline: merges and direct pushes landed on the branch imported)."""
    line: list[str] = []
    sha: str | None = tip
    while sha in commits:
        line.append(sha)
        parents = commits[sha].parents
        sha = parents[0] if parents else None
    return line


def first_parent_roots(commits: dict[str, _Commit], gen: dict[str, int]) -> dict[str, str | None]:
    """The root commit each commit's first-parent chain ends at.

    A repository that absorbed another one (a subtree merge, an unrelated history merged in)
    holds commits whose first-parent chain ends at the other repository's first commit: the
    PR numbers in their messages are that repository's, not this one's. ``None`` when the
    chain leaves the history read (``--since``) before reaching a commit without parents.
    """
    roots: dict[str, str | None] = {}
    for sha in sorted(commits, key=gen.__getitem__):  # parents before children
        parents = commits[sha].parents
        roots[sha] = roots.get(parents[0]) if parents else sha
    return roots


def branch_only(merge: _Commit, commits: dict[str, _Commit], gen: dict[str, int]) -> list[str]:
    """Commits reachable from a merge's other parents but not from its first parent.

    The exact ``git rev-list M^2 ^M^1`` (:func:`only_from`).
    """
    return only_from(merge.parents[1:], merge.parents[:1], commits, gen)


def only_from(
    include: list[str], exclude: list[str], commits: dict[str, _Commit], gen: dict[str, int]
) -> list[str]:
    """Commits reachable from ``include`` but from none of ``exclude``, in the history read.

    The exact ``git rev-list include ^exclude``: a walk by decreasing generation that stops as
    soon as no commit still in the queue is reachable from ``include`` only.
    """
    flags: dict[str, int] = {}
    heap: list[tuple[int, str]] = []
    only_side = 0

    def push(sha: str, f: int) -> None:
        nonlocal only_side
        if sha not in commits:
            return
        old = flags.get(sha, 0)
        new = old | f
        if new == old:
            return
        if old == 0:
            heapq.heappush(heap, (-gen[sha], sha))
        if new == 2:
            only_side += 1
        elif old == 2:
            only_side -= 1
        flags[sha] = new

    for p in exclude:
        push(p, 1)
    for p in include:
        push(p, 2)
    out = []
    while heap and only_side:
        _, sha = heapq.heappop(heap)
        f = flags[sha]
        if f == 2:
            out.append(sha)
            only_side -= 1
        for p in commits[sha].parents:
            push(p, f)
    return out
