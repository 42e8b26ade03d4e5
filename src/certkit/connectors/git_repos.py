"""The repositories of one git import: their names, and what two of them share.

Used by :func:`certkit.connectors.git.read_git`, with the checks before reading a repository
(:func:`check_repo`, :func:`check_rev`) and the histories it absorbed
(:func:`imported_histories`). PR ids are ``<repository>#<number>``, so each
repository needs its own name (:func:`distinct_names`); a commit both hold counts once, in the
first given (``read_git``), and so does a Gerrit change both hold (:func:`once_per_change`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from certkit.errors import CertkitError

if TYPE_CHECKING:
    from certkit.connectors.git import _Commit

# https://host/..., ssh://..., git@host:org/repo (not file:// or a local path)
_HOSTED_URL = re.compile(
    r"^(?!file://)(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:|[\w-]+(?:\.[\w-]+)+:)"
)


def repo_name(path: Path) -> str:
    """``owner/name`` from a hosted ``origin`` remote URL, else the folder name.

    A local-path origin (a clone of a clone, a mirror) says nothing about the project, so the
    folder name is used then (without a ``.git`` suffix); pass ``repo_names`` / ``--repo-name``
    to join a ``gh`` export of the same project.
    """
    res = subprocess.run(
        ["git", "config", "--get", "remote.origin.url"],
        cwd=path,
        capture_output=True,
        text=True,
        check=False,
    )
    url = res.stdout.strip()
    if _HOSTED_URL.match(url):
        m = re.search(r"[:/]([^/:]+/[^/]+?)(?:\.git)?/?$", url)
        if m:
            return m.group(1)
    name = path.resolve().name
    return name.removesuffix(".git") or name


def distinct_names(paths: list[Path], given: list[str] | None) -> tuple[list[str], str | None]:
    """One name per repository, distinct, and a note when folder names had to be widened.

    PR ids are ``<name>#<number>``: two repositories with one name (clones in folders both
    called ``repo``, no GitHub origin) would merge their PR #12s into one. A folder-derived
    name that repeats takes its parent folders (``pallets+click/repo``) until it is unique;
    a name given twice with ``repo_names`` and a repository given twice are errors.
    """
    resolved = [p.resolve() for p in paths]
    twice = {p for p in resolved if resolved.count(p) > 1}
    if twice:
        raise CertkitError(f"repository {sorted(twice)[0]} is given twice; give it once")
    if given is not None:
        dup = sorted({n for n in given if given.count(n) > 1})
        if dup:
            raise CertkitError(
                f"--repo-name (repo_names) gives {dup[0]!r} to two repositories; PR ids would "
                "mix them: give each repository its own name"
            )
        return list(given), None
    names = [repo_name(p) for p in paths]
    out, widened = list(names), []
    for i, name in enumerate(names):
        if names.count(name) == 1:
            continue
        if name != resolved[i].name.removesuffix(".git"):  # from a hosted origin URL
            raise CertkitError(
                f"two repositories have the origin {name!r}: the same project twice? Give it "
                "once, or name each with --repo-name (repo_names) (a branch clone: the commits "
                "both hold count once, in the first repository given)"
            )
        depth = 2
        while depth < len(resolved[i].parts) and any(
            _tail(r, depth) == _tail(resolved[i], depth) for j, r in enumerate(resolved) if j != i
        ):
            depth += 1
        out[i] = _tail(resolved[i], depth)
        widened.append(out[i])
    if not widened:
        # trial AE: a clone of a local mirror was named 'repo', so its PR ids read repo#N and
        # data health's repository table said 'repo'
        plain = [n for n, r in zip(out, resolved, strict=True) if n == r.name.removesuffix(".git")]
        if not plain:
            return out, None
        return out, (
            f"{', '.join(repr(n) for n in plain)}: named from the folder, as the origin is no "
            f"hosted URL (PR ids read {plain[0]}#N): name {'it' if len(plain) == 1 else 'them'} "
            "with --repo-name owner/name (as a gh export of the same project names it)"
        )
    return out, (
        f"{len(widened)} repositories share a folder name and have no GitHub origin: named "
        f"{', '.join(repr(w) for w in widened)} from their folders, so their PR ids stay "
        "apart; use --repo-name to choose the names (and to join a gh export)"
    )


def _tail(path: Path, depth: int) -> str:
    """The last ``depth`` parts of a path joined by ``/``, without ``.git``."""
    return "/".join(path.parts[-depth:]).removesuffix(".git")


def once_per_change(
    prs: list[dict],
    commits: dict[str, _Commit],
    changes: dict[str, tuple[str, str]],
    repo: str,
    notes: list[str],
    earlier: dict[str, str] | None = None,
) -> list[dict]:
    """PRs of ``repo`` less those an earlier repository of the import holds.

    A change cherry-picked to another branch keeps its ``Change-Id:`` (sqlalchemy's backports
    to ``rel_2_0``), and ``git cherry-pick -x`` writes ``(cherry picked from commit <sha>)``
    (its GitHub squash backports, ``sa_rel20#N`` beside ``sqlalchemy#N``: trial H). Imported
    with a clone of that branch, such a PR is one PR, the first repository's; the
    cherry-pick's commits are commits of it, their lines and dates not added (the same patch
    again). ``changes`` maps each Change-Id seen to its PR and repository, and grows;
    ``earlier`` maps the commits of the repositories read before to their PR ids.
    """
    earlier = earlier or {}
    keep, moved, picked = [], {}, 0
    for pr in prs:
        cid = pr.pop("_change_id", None)
        if cid in changes and changes[cid][1] != repo:
            moved[pr["id"]] = changes[cid][0]
            continue
        source = _picked_from(pr["_shas"], commits, earlier) if earlier else None
        if source is not None:
            moved[pr["id"]], picked = source, picked + 1
            continue
        keep.append(pr)
        if cid:
            changes.setdefault(cid, (pr["id"], repo))
    for c in commits.values():
        c.pr_id = moved.get(c.pr_id, c.pr_id)
    if len(moved) > picked:
        notes.append(
            f"{repo}: {len(moved) - picked} Gerrit change(s) carry the Change-Id of a change of "
            "a repository read before it (a cherry-pick to another branch): each is counted "
            "once, as that PR; its commits here are commits of it, their lines and dates not added"
        )
    if picked:
        notes.append(
            f"{repo}: {picked} PR(s) are cherry-picks ('cherry picked from commit ...') of a "
            "PR of a repository read before it (a backport to another branch): each is counted "
            "once, as that PR; its commits here are commits of it, their lines and dates not added"
        )
    return keep


_PICKED = re.compile(r"\(cherry picked from commit ([0-9a-f]{40})\)")


def _picked_from(
    shas: list[str], commits: dict[str, _Commit], earlier: dict[str, str]
) -> str | None:
    """The one PR of an earlier repository that every non-merge commit of a PR was
    cherry-picked from (``-x``: the last such line of each message), else ``None``."""
    work = [commits[s] for s in shas if s in commits and len(commits[s].parents) < 2]
    sources = set()
    for c in work:
        found = _PICKED.findall(c.body)
        sources.add(earlier.get(found[-1]) if found else None)
    if len(sources) != 1 or None in sources:
        return None
    return sources.pop()


def run_git(args: list[str], cwd: Path) -> str:
    """The output of a git command run in ``cwd``; a failure is a CertkitError naming it."""
    try:
        res = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise CertkitError("git is not installed or not on PATH") from None
    if res.returncode != 0:
        raise CertkitError(f"{cwd}: {' '.join(args[:3])} failed: {res.stderr.strip()}")
    return res.stdout


def check_repo(path: Path) -> None:
    """Fail clearly when git is missing or ``path`` is not a git repository."""
    if shutil.which("git") is None:
        raise CertkitError("git is not installed or not on PATH")
    if not path.exists():
        raise CertkitError(f"git repository {path} does not exist")
    res = subprocess.run(
        ["git", "rev-parse", "--git-dir"], cwd=path, capture_output=True, text=True, check=False
    )
    if res.returncode != 0:
        raise CertkitError(f"{path} is not a git repository ({res.stderr.strip()})")


def check_rev(path: Path, rev: str) -> None:
    """Fail on a revision the repository lacks, naming a remote branch of that name.

    A fresh clone has ``origin/rel_2_0`` but no local ``rel_2_0`` (trial G).
    """
    res = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        cwd=path,
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode == 0:
        return
    refs = run_git(
        ["git", "for-each-ref", "--format=%(refname:short)", "refs/remotes"], path
    ).split()
    near = [r for r in refs if r.endswith(f"/{rev}")]
    if near:
        raise CertkitError(
            f"{path}: --rev {rev!r} is not a branch, tag or commit of this repository; did you "
            f"mean {' or '.join(near)}?"
        )


def imported_histories(path: Path, rev: str) -> set[str]:
    """Merges that bring another repository's history into ``rev`` (read with git).

    A history with several root commits absorbed another repository (a subtree merge, ``git
    merge --allow-unrelated-histories``: xarray's "Import datatree repository (#8656, #8688)").
    The merge that brings it in is the one a non-first parent of which has a first-parent chain
    ending at another root than ``rev``'s own (or is that root), while its first parent does
    not. Found with git on the whole graph, so also when ``--since`` cuts the chains. A shallow
    clone's cut ends look like roots: nothing is found there.
    """
    roots = run_git(["git", "rev-list", "--max-parents=0", rev], path).split()
    if (
        len(roots) < 2
        or run_git(["git", "rev-parse", "--is-shallow-repository"], path).strip() == "true"
    ):
        return set()
    home = set(run_git(["git", "rev-list", "--first-parent", "--max-parents=0", rev], path).split())
    out: set[str] = set()
    for root in (r for r in roots if r not in home):
        args = ["git", "rev-list", "--topo-order", "--reverse", "--parents", "--ancestry-path"]
        chain = {root}  # commits whose first-parent chain ends at this root
        for line in run_git([*args, f"{root}..{rev}"], path).splitlines():
            sha, *parents = line.split()
            if parents and parents[0] in chain:
                chain.add(sha)
            elif any(p in chain for p in parents[1:]):
                out.add(sha)
    return out
