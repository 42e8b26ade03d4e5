"""A line ledger of a git history: how much of each commit's code was reworked, and how much survives.

:func:`line_ledger` streams ``git log -p -U0`` once (renames followed, merges read against each
parent) and keeps, for every file, which commit wrote each of its current lines. When a later
commit changes or deletes a line, the ledger knows who wrote it and when, so for every commit it
counts:

- ``lines_added``: lines the commit wrote (a changed line counts as one deleted and one added);
- ``churned_lines_{N}d``: of those, lines changed or deleted again within ``N`` days of being
  written (author dates; default 21 days, the common "churn" definition), split into
  ``churned_self_{N}d`` (by the same author) and ``churned_other_{N}d`` (by a teammate);
- ``surviving_lines``: lines still present, unchanged, at the revision read (what ``git blame``
  at that revision attributes to the commit).

Merges: a merge's file is compared with each parent; a line the merge kept from any parent
keeps its writer, and only lines that match no parent (conflict resolutions) are credited to the
merge. A line deleted on one branch is counted once, at the first deletion. Moves within a file
are a deletion plus an addition, as in ``git blame`` without ``-M``; renamed files keep their
lines. Binary files have no lines.

With ``since`` (the git import's ``--since``) only the window's commits and their descendants
are diffed: the files of the commits just before the window are read whole
(``git diff --numstat`` from the empty tree), their lines owned by no commit. The window's
rows are exactly a full-history ledger's, since lines written before it are never a window
commit's; commits are taken in the full history's ``--topo-order`` so that a line deleted on
two branches is counted at the same one.

Memory grows with the live lines of the files, one flag byte per line ever written, and one row
per commit; nothing of the history is held beyond that.
"""

from __future__ import annotations

import bisect
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from certkit.errors import CertkitError
from certkit.progress import progress_bar

_UNIT = "\x1f"
_DAY = 86_400


@dataclass
class _Change:
    """One file in one diff section: where it came from and the hunks that turn old into new."""

    old: str | None
    new: str | None
    hunks: list[tuple[int, int, int]] = field(default_factory=list)  # (start, removed, added)
    binary: bool = False


@dataclass
class _Section:
    """The diff of one commit against one parent (``parent`` is None unless it is a merge)."""

    sha: str
    parent: str | None
    changes: list[_Change] = field(default_factory=list)


def _unquote(path: bytes) -> str:
    """A path as git prints it (C-quoted when it holds special characters)."""
    if path[:1] != b'"':
        return path.decode("utf-8", "surrogateescape")
    body = path[1:-1]
    out = bytearray()
    i = 0
    simple = {
        b"n": 10,
        b"t": 9,
        b'"': 34,
        b"\\": 92,
        b"a": 7,
        b"b": 8,
        b"f": 12,
        b"r": 13,
        b"v": 11,
    }
    while i < len(body):
        ch = body[i : i + 1]
        if ch == b"\\":
            nxt = body[i + 1 : i + 2]
            if nxt in simple:
                out.append(simple[nxt])
                i += 2
            else:  # octal escape \ooo
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
        else:
            out += ch
            i += 1
    return out.decode("utf-8", "surrogateescape")


def _side(path: bytes) -> str | None:
    """``a/x`` / ``b/x`` / ``/dev/null`` from a ``---`` or ``+++`` line."""
    path = path.rstrip(b"\n").split(b"\t")[0]
    if path == b"/dev/null":
        return None
    name = _unquote(path)
    return name[2:]


def _git_diff_path(rest: bytes) -> str:
    """The path of ``diff --git a/P b/P`` when both sides are equal (mode-only changes)."""
    rest = rest.rstrip(b"\n")
    if rest[:1] == b'"':
        end = rest.index(b'" ', 1)
        return _unquote(rest[: end + 1])[2:]
    return rest[2 : 2 + (len(rest) - 5) // 2].decode("utf-8", "surrogateescape")


def _sections(stream):
    """Parse ``git log -p -U0 --pretty=raw --diff-merges=separate``: a section per (commit, parent)."""
    section: _Section | None = None
    change: _Change | None = None
    skip = 0
    for line in stream:
        if skip:
            if line[:1] != b"\\":  # "\ No newline at end of file" is not a diff line
                skip -= 1
            continue
        if line.startswith(b"commit "):
            if section is not None:
                yield section
            words = line.split()
            parent = words[3].rstrip(b")").decode() if len(words) > 3 else None
            section = _Section(words[1].decode(), parent)
            change = None
        elif line.startswith(b"diff --git "):
            change = _Change(old=None, new=None)
            change.old = change.new = _git_diff_path(line[11:])
            section.changes.append(change)
        elif change is None:
            continue
        elif line.startswith(b"@@ "):
            old, new = line.split(b" ", 3)[1:3]
            a, _, b = old[1:].partition(b",")
            c, _, d = new[1:].partition(b",")
            removed = int(b) if b else 1
            added = int(d) if d else 1
            start = int(a) - 1 if removed else int(a)
            change.hunks.append((start, removed, added))
            skip = removed + added
        elif line.startswith(b"--- "):
            change.old = _side(line[4:])
        elif line.startswith(b"+++ "):
            change.new = _side(line[4:])
        elif line.startswith(b"rename from "):
            change.old = _unquote(line[12:].rstrip(b"\n"))
        elif line.startswith(b"rename to "):
            change.new = _unquote(line[10:].rstrip(b"\n"))
        elif line.startswith(b"new file mode"):
            change.old = None
        elif line.startswith(b"deleted file mode"):
            change.new = None
        elif line.startswith(b"Binary files ") or line.startswith(b"GIT binary patch"):
            change.binary = True
    if section is not None:
        yield section


def _apply(old: list[int], hunks: list[tuple[int, int, int]], fill) -> tuple[list, list[int]]:
    """Lines after the hunks (``fill(n)`` gives the added slots) and the lines removed."""
    new: list = []
    removed: list[int] = []
    pos = 0
    for start, n_removed, n_added in hunks:
        new.extend(old[pos:start])
        removed.extend(old[start : start + n_removed])
        new.extend(fill(n_added))
        pos = start + n_removed
    new.extend(old[pos:])
    return new, removed


class _Ledger:
    def __init__(self, window_days: int, n_lines_hint: int = 1 << 16):
        self.window = window_days * _DAY
        self.starts: list[int] = []  # first line id written by commit i
        self.shas: list[str] = []
        self.authors: list[str] = []
        self.when: list[int] = []
        self.added: list[int] = []
        self.churn_self: list[int] = []
        self.churn_other: list[int] = []
        self.gone = bytearray(n_lines_hint)  # 1 once a line has been deleted somewhere
        self.next_id = 0

    def new_commit(self, sha: str, when: int, author: str) -> int:
        self.starts.append(self.next_id)
        self.shas.append(sha)
        self.authors.append(author)
        self.when.append(when)
        self.added.append(0)
        self.churn_self.append(0)
        self.churn_other.append(0)
        return len(self.shas) - 1

    def fresh(self, commit: int, n: int) -> range:
        ids = range(self.next_id, self.next_id + n)
        self.next_id += n
        self.added[commit] += n
        if self.next_id > len(self.gone):
            self.gone.extend(bytes(max(self.next_id - len(self.gone), len(self.gone))))
        return ids

    def remove(self, commit: int, ids) -> None:
        gone, starts, when = self.gone, self.starts, self.when[commit]
        me = self.authors[commit]
        for line in ids:
            if gone[line]:
                continue
            gone[line] = 1
            origin = bisect.bisect_right(starts, line) - 1
            if when - self.when[origin] <= self.window:
                if self.authors[origin] == me:
                    self.churn_self[origin] += 1
                else:
                    self.churn_other[origin] += 1


def _state_after(ledger: _Ledger, commit: int, parent: dict, sec: _Section) -> dict:
    """Apply one non-merge commit's changes to its parent's files (copied only when shared)."""
    files = parent
    for ch in sec.changes:
        old = files.pop(ch.old, []) if ch.old is not None else []
        if ch.new is None:
            ledger.remove(commit, old)
            continue
        if ch.binary:
            ledger.remove(commit, old)
            files[ch.new] = []
            continue
        new, removed = _apply(old, ch.hunks, lambda n: ledger.fresh(commit, n))
        ledger.remove(commit, removed)
        files[ch.new] = new
    return files


def _merge_state(ledger: _Ledger, commit: int, parents: list[dict], secs: list[_Section]) -> dict:
    """A merge: each line keeps the writer of the parent it came from; the rest is the merge's.

    ``secs[j]`` is the merge's diff against ``parents[j]``; a file a section does not mention is
    identical to that parent's. Lines of any parent that the merge does not keep are removed
    by the merge (once: a line already deleted on a branch was counted there).
    """
    by_parent = [{ch.new: ch for ch in s.changes if ch.new is not None} for s in secs]
    result = dict(parents[0])  # the merge's files: the first parent's, changed by its section
    for ch in secs[0].changes:
        if ch.old is not None and ch.old != ch.new:
            result.pop(ch.old, None)
        if ch.new is None:
            result.pop(ch.old, None)
    before: set[int] = set()
    for state, sec in zip(parents, secs, strict=True):
        for ch in sec.changes:
            if ch.old is not None:
                before.update(state.get(ch.old, ()))
    touched = {ch.new for ch in secs[0].changes if ch.new is not None}
    for path in touched:
        arrays = []
        whole = None
        for j, state in enumerate(parents):
            ch = by_parent[j].get(path)
            if ch is None:
                if path in state:
                    whole = state[path]  # identical to this parent's file
                    break
                continue
            old = state.get(ch.old, []) if ch.old is not None else []
            arrays.append([] if ch.binary else _apply(old, ch.hunks, lambda n: [None] * n)[0])
        if whole is not None:
            lines = whole
        else:
            size = max((len(a) for a in arrays), default=0)
            lines = [next((a[i] for a in arrays if a[i] is not None), None) for i in range(size)]
            holes = [i for i, v in enumerate(lines) if v is None]
            for i, line in zip(holes, ledger.fresh(commit, len(holes)), strict=True):
                lines[i] = line
        result[path] = lines
    for lines in result.values() if before else ():
        before.difference_update(lines)
    ledger.remove(commit, before)
    return result


def line_ledger(
    repo: str | Path,
    rev: str = "HEAD",
    *,
    window_days: int = 21,
    author_key=None,
    authors: dict[str, str] | None = None,
    since: str | None = None,
    progress: bool | None = False,
) -> pl.DataFrame:
    """Rework and survival of every commit's lines, from one pass over ``git log -p``.

    Parameters
    ----------
    repo
        Path to a git repository (work tree or bare).
    rev
        The revision read; ``surviving_lines`` counts lines present there.
    window_days
        A line changed or deleted within this many days of being written counts as churned.
    author_key
        Optional function of the author e-mail (lower-cased, after ``.mailmap``) returning the
        person it belongs to, so that the same person's addresses count as "self".
    authors
        The person of each commit by sha (e.g. the engineer ids an import resolved); commits
        not in it fall back to ``author_key`` / the e-mail.
    since
        Only the commits ``git log --since`` lists (and their descendants) are read: the files
        as they were before them are taken whole from git, their lines owned by no commit.
        The rows of those commits are the same as a full-history ledger's (lines written
        before the window are never any window commit's); older commits get no row.
    progress
        Show a progress bar: ``True`` always, ``False`` never, ``None`` when 5,000 or more
        commits are read (throttled when standard error is a log: :mod:`certkit.progress`).

    Returns
    -------
    polars.DataFrame
        One row per commit read, oldest first: ``sha``, ``lines_added``, ``churned_lines_{N}d``,
        ``churned_self_{N}d``, ``churned_other_{N}d``, ``surviving_lines``.
    """
    if window_days < 0:
        raise CertkitError(f"window_days must be 0 or more, not {window_days}")
    path = Path(repo)
    meta, order = _commits(path, rev, author_key)
    if authors:
        meta = {sha: (p, w, authors.get(sha, a)) for sha, (p, w, a) in meta.items()}
    todo = order if since is None else _descendants(order, meta, _window(path, rev, since))
    if not todo:  # nothing since then (git log --stdin would fall back to HEAD)
        return _table(_Ledger(window_days), {}, window_days)
    reading = set(todo)
    children: dict[str, int] = {}
    for sha in todo:
        for p in meta[sha][0]:
            children[p] = children.get(p, 0) + 1
    ledger = _Ledger(window_days)
    states: dict[str, dict] = {}
    head_state: dict = {}
    disable = progress is False or (progress is None and len(todo) < 5000)
    bar = progress_bar(
        total=len(todo), unit="commit", desc=f"{path.name} line ledger", disable=disable
    )

    def finish(sha: str, secs: list[_Section]) -> None:
        nonlocal head_state
        parents, when, author = meta[sha]
        for p in parents:  # a parent older than the window: its files whole, owned by no one
            if p not in reading and p not in states:
                states[p] = _snapshot(ledger, path, p)
        commit = ledger.new_commit(sha, when, author)
        before = [states.get(p, {}) for p in parents]
        for p in parents:
            children[p] -= 1
        if len(parents) <= 1:
            base = before[0] if before else {}
            own = bool(parents) and children[parents[0]] == 0
            state = _state_after(ledger, commit, base if own else dict(base), secs[0])
        else:
            by_parent = {s.parent: s for s in secs}
            ordered = [by_parent.get(p) or _Section(sha, p) for p in parents]
            state = _merge_state(ledger, commit, before, ordered)
        for p in parents:
            if children[p] <= 0:
                states.pop(p, None)
        states[sha] = state
        head_state = state
        bar.update(1)

    # The commits in the full history's order (``--topo-order --reverse``), so that a line
    # deleted on two branches is counted at the same one of them with or without ``since``.
    args = ["git", "-c", "core.quotePath=false", "log", "--no-walk=unsorted", "--stdin", "-M"]
    args += ["-U0", "--no-color", "--no-ext-diff", "--diff-merges=separate", "--pretty=raw"]
    try:
        proc = subprocess.Popen(
            args, cwd=path, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except FileNotFoundError as exc:
        raise CertkitError("git is not installed or not on PATH") from exc
    pending: list[_Section] = []
    finished = False
    try:
        try:  # git reads all of stdin before it writes anything: no deadlock
            proc.stdin.write("".join(f"{sha}\n" for sha in todo).encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass  # git stopped early; its error is read below
        for sec in _sections(proc.stdout):
            if pending and pending[0].sha != sec.sha:
                finish(pending[0].sha, pending)
                pending = []
            pending.append(sec)
        if pending:
            finish(pending[0].sha, pending)
        finished = True
    finally:
        bar.close()
        if not finished:
            proc.kill()
        err = proc.stderr.read().decode("utf-8", "replace").strip()
        rc = proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    if rc != 0:
        raise CertkitError(f"git log failed in {path}: {err.splitlines()[-1] if err else ''}")
    return _table(ledger, head_state, window_days)


def _commits(path: Path, rev: str, author_key) -> tuple[dict, list[str]]:
    """Parents, author time and author (after ``.mailmap``) of every commit, in ledger order."""
    fmt = _UNIT.join(["%H", "%P", "%at", "%aE"])
    res = subprocess.run(
        ["git", "log", "--topo-order", "--reverse", f"--format={fmt}", rev, "--"],
        cwd=path,
        capture_output=True,
        check=False,
    )
    if res.returncode != 0:
        msg = res.stderr.decode("utf-8", "replace").strip()
        raise CertkitError(f"{path} is not a git repository with revision {rev!r}: {msg}")
    meta: dict[str, tuple[list[str], int, str]] = {}
    order: list[str] = []
    for line in res.stdout.decode("utf-8", "replace").splitlines():
        sha, parents, when, email = line.split(_UNIT)
        author = email.lower()
        meta[sha] = (parents.split(), int(when or 0), author_key(author) if author_key else author)
        order.append(sha)
    return meta, order


def _window(path: Path, rev: str, since: str) -> set[str]:
    """The commits ``git log --since`` lists (the import's commits)."""
    res = subprocess.run(
        ["git", "rev-list", f"--since={since}", rev, "--"], cwd=path, capture_output=True
    )
    if res.returncode != 0:
        msg = res.stderr.decode("utf-8", "replace").strip()
        raise CertkitError(f"git rev-list --since={since} failed in {path}: {msg}")
    return set(res.stdout.decode().split())


def _descendants(order: list[str], meta: dict, window: set[str]) -> list[str]:
    """The window's commits and every commit after them (their lines' fate), in order."""
    keep: set[str] = set()
    out: list[str] = []
    for sha in order:  # parents come first
        if sha in window or any(p in keep for p in meta[sha][0]):
            keep.add(sha)
            out.append(sha)
    return out


def _snapshot(ledger: _Ledger, path: Path, sha: str) -> dict:
    """The files of a commit older than the window: their line counts, owned by no commit."""
    empty = _run_git(path, ["hash-object", "-t", "tree", "--stdin"], b"").strip().decode()
    out = _run_git(
        path,
        ["-c", "core.quotePath=false", "diff", "--numstat", "-z", "--no-renames"]
        + ["--no-ext-diff", empty, sha, "--"],
    )
    owner = ledger.new_commit("", 0, "")  # a row _table leaves out
    files: dict[str, list[int]] = {}
    for item in out.split(b"\0"):
        added, _, rest = item.partition(b"\t")
        if not rest:
            continue
        name = rest.partition(b"\t")[2].decode("utf-8", "surrogateescape")
        files[name] = list(ledger.fresh(owner, int(added) if added.isdigit() else 0))
    ledger.added[owner] = 0
    return files


def _run_git(path: Path, args: list[str], stdin: bytes | None = None) -> bytes:
    res = subprocess.run(["git", *args], cwd=path, input=stdin, capture_output=True)
    if res.returncode != 0:
        msg = res.stderr.decode("utf-8", "replace").strip()
        raise CertkitError(f"git {args[0]} failed in {path}: {msg}")
    return res.stdout


def _table(ledger: _Ledger, head: dict, window_days: int) -> pl.DataFrame:
    n = len(ledger.shas)
    surviving = np.zeros(n, dtype=np.int64)
    live = [np.asarray(lines, dtype=np.int64) for lines in head.values() if lines]
    if live and n:
        ids = np.concatenate(live)
        owner = np.searchsorted(np.asarray(ledger.starts, dtype=np.int64), ids, side="right") - 1
        surviving = np.bincount(owner, minlength=n).astype(np.int64)
    churn_self = np.asarray(ledger.churn_self, dtype=np.int64)
    churn_other = np.asarray(ledger.churn_other, dtype=np.int64)
    w = window_days
    return pl.DataFrame(
        {
            "sha": ledger.shas,
            "lines_added": pl.Series(ledger.added, dtype=pl.Int64),
            f"churned_lines_{w}d": churn_self + churn_other,
            f"churned_self_{w}d": churn_self,
            f"churned_other_{w}d": churn_other,
            "surviving_lines": surviving,
        }
    ).filter(pl.col("sha") != "")  # the files before a ``since`` window are no commit's


def with_rework(
    commits: pl.DataFrame, prs: pl.DataFrame, ledger: pl.DataFrame, days: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Ledger columns on commits, and their sums over each PR's commits on PRs.

    Parameters
    ----------
    commits, prs
        The git import's commits and PRs.
    ledger
        :func:`line_ledger`'s rows of every repository (one per commit ``sha``).
    days
        The ledger's window (the ``churned_lines_{days}d`` column).

    Returns
    -------
    tuple of polars.DataFrame
        Commits with the ledger columns; PRs with ``churned_lines_{days}d`` and
        ``surviving_lines`` summed over their own commits.
    """
    cols = [c for c in ledger.columns if c != "sha"]
    commits = commits.join(ledger.unique("sha"), on="sha", how="left")
    own = pl.col("pr_id").str.starts_with(pl.col("repo") + "#") | pl.col("pr_id").str.starts_with(
        pl.col("repo") + "@"
    )  # not a cherry-pick counted in another repository's PR (_once_per_change)
    per_pr = (
        commits.filter(pl.col("pr_id").is_not_null() & own)
        .group_by("pr_id")
        .agg(pl.col(cols).sum())
        .rename({"pr_id": "id"})
    )
    keep = [f"churned_lines_{days}d", "surviving_lines"]
    return commits, prs.join(per_pr.select("id", *keep), on="id", how="left")
