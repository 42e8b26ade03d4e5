"""Read local git repositories into certkit tables, with AI-attribution detection.

``read_git(["path/to/repo"])`` streams ``git log`` (one subprocess per repository; nothing is
cloned or held in memory beyond one small record per commit) and returns an
:class:`~certkit.connectors.base.Import` with:

- ``commits``: sha, author, e-mail, dates, additions, deletions, repo, trailers, PR id, AI tool;
- ``pull_requests``: one row per PR that the history reveals, walking the first-parent
  (mainline) history of the branch read:

  * **merge commits** (``Merge pull request #12 from ...``, GitLab ``See merge request g/p!12``,
    Bitbucket ``(pull request #12)``, Azure ``Merged PR 12:``, or any other merge): the PR's
    commits are those the merge brought in; *created* is approximated by the earliest author
    date among them, *merged* is the merge's commit date, the author is the first human
    author, lines are summed over the PR's commits;
  * **squash merges** (a single-parent commit whose subject ends in ``(#12)``): created and
    merged come from that commit's author and commit dates. Hosting services often set both to
    the merge time, so **cycle time from squash merges is unreliable**; import a ``gh`` export
    for exact dates (``combine`` prefers it for the same PR id);
  * other mainline commits are direct pushes, counted in a note (or, with
    ``direct_commits="as_prs"``, one PR each).

- ``ai_evidence``: every AI-attribution rule that fired, per commit.

Identities: ``git log`` applies the repository's ``.mailmap`` (``mailmap=`` adds another one),
then an identity file maps e-mails/names to engineer ids; bots (``[bot]`` accounts, GitHub's
``web-flow`` committer...) keep ids ending in ``[bot]`` and are left out of the engineers table.
Aider's ``(aider)`` name suffix is stripped before mapping, so the human stays the author.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl
from tqdm.auto import tqdm

from certkit.connectors.attribution import (
    Detection,
    Evidence,
    Rules,
    coauthors,
    detect,
    load_rules,
    parse_trailers,
    tools_of,
)
from certkit.connectors.base import (
    EVIDENCE_SCHEMA,
    PEOPLE_SCHEMA,
    PR_SCHEMA,
    Import,
    evidence_rows,
    frame,
    parse_iso,
)
from certkit.connectors.identity import Identities, bot_id, is_bot, read_identities
from certkit.errors import CertkitError

_REC, _UNIT, _END = "\x1e", "\x1f", "\x1d"
_FORMAT = (
    _REC
    + _UNIT.join(["%H", "%P", "%aN", "%aE", "%an", "%ae", "%aI", "%cN", "%cE", "%cI", "%B"])
    + _END
)
COMMIT_SCHEMA = {
    "sha": pl.String,
    "repo": pl.String,
    "author_id": pl.String,
    "author_name": pl.String,
    "author_email": pl.String,
    "committer_email": pl.String,
    "authored_date": pl.Datetime("us"),
    "committed_date": pl.Datetime("us"),
    "additions": pl.Int64,
    "deletions": pl.Int64,
    "n_parents": pl.Int64,
    "subject": pl.String,
    "trailers": pl.String,
    "pr_id": pl.String,
    "ai_tool": pl.String,
    "is_bot": pl.Boolean,
}

# PR numbers in merge / squash messages of the common hosting services.
_MERGE_PATTERNS = [
    re.compile(r"^Merge pull request #(?P<n>\d+) from (?P<branch>\S+)"),  # GitHub
    re.compile(r"^Merged PR (?P<n>\d+):"),  # Azure DevOps
    re.compile(r"^Merged in (?P<branch>\S+) \(pull request #(?P<n>\d+)\)"),  # Bitbucket
]
_GITLAB = re.compile(r"See merge request (?:\S+)?!(?P<n>\d+)")
_MERGE_BRANCH = re.compile(r"^Merge (?:remote-tracking )?branch '(?P<branch>[^']+)'")
_SQUASH = re.compile(r"\(#(?P<n>\d+)\)\s*$")
_REVERTS_SHA = re.compile(r"This reverts commit ([0-9a-f]{7,40})")
_REVERT_SUBJECT = re.compile(r'^Revert "(?P<inner>.*)"')
_REVERTS_PR = re.compile(r"^Reverts \S+#(?P<n>\d+)\s*$", re.MULTILINE)
_AIDER = re.compile(r"\s*\(aider\)$", re.IGNORECASE)


@dataclass
class _Commit:
    sha: str
    parents: list[str]
    author_id: str
    author_name: str
    author_email: str
    committer_email: str
    authored: datetime
    committed: datetime
    subject: str
    body: str
    trailers: list[tuple[str, str]]
    bot: bool
    detections: list[Detection]
    human_coauthors: list[tuple[str, str]]
    additions: int = 0
    deletions: int = 0
    pr_id: str | None = None
    extra: dict = field(default_factory=dict)


def _run(args: list[str], cwd: Path) -> str:
    try:
        res = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise CertkitError("git is not installed or not on PATH") from None
    if res.returncode != 0:
        raise CertkitError(f"{cwd}: {' '.join(args[:3])} failed: {res.stderr.strip()}")
    return res.stdout


def _check_repo(path: Path) -> None:
    if shutil.which("git") is None:
        raise CertkitError("git is not installed or not on PATH")
    if not path.exists():
        raise CertkitError(f"git repository {path} does not exist")
    res = subprocess.run(
        ["git", "rev-parse", "--git-dir"], cwd=path, capture_output=True, text=True, check=False
    )
    if res.returncode != 0:
        raise CertkitError(f"{path} is not a git repository ({res.stderr.strip()})")


def repo_name(path: Path) -> str:
    """``owner/name`` from the ``origin`` remote URL, else the folder name."""
    res = subprocess.run(
        ["git", "config", "--get", "remote.origin.url"],
        cwd=path,
        capture_output=True,
        text=True,
        check=False,
    )
    url = res.stdout.strip()
    m = re.search(r"[:/]([^/:]+/[^/]+?)(?:\.git)?/?$", url)
    return m.group(1) if m else path.resolve().name


def _parse_header(block: str, rules: Rules, ids: Identities) -> _Commit:
    parts = block.split(_UNIT)
    if len(parts) != 11:
        raise CertkitError(f"unexpected git log output near {block[:80]!r}")
    sha, parents, an, ae, an_raw, ae_raw, ad, cn, ce, cd, body = parts
    body = body.strip("\n")
    trailers = parse_trailers(body)
    co = coauthors(trailers)
    ev = Evidence(
        emails=sorted({ae.lower(), ae_raw.lower(), ce.lower()}),
        names=[an_raw, cn],
        coauthors=co,
        messages=[body],
    )
    detections = detect(ev, rules)
    name = _AIDER.sub("", an)
    bot = is_bot(name, ae)
    author_id = bot_id(name, ae) if bot else ids.engineer_id(email=ae, name=name)
    # Human co-authors (not AI tools, not bots): used when an AI agent bot authored the PR.
    ai_emails = {d.evidence.lower() for d in detections}
    humans = [(n, e) for n, e in co if e not in ai_emails and not is_bot(n, e)]
    return _Commit(
        sha=sha,
        parents=parents.split(),
        author_id=author_id,
        author_name=name,
        author_email=ae.lower(),
        committer_email=ce.lower(),
        authored=parse_iso(ad),
        committed=parse_iso(cd),
        subject=body.split("\n", 1)[0],
        body=body,
        trailers=trailers,
        bot=bot,
        detections=detections,
        human_coauthors=humans,
    )


def _stream_commits(
    path: Path, rev: str, since: str | None, mailmap: str | None, progress: bool | None
):
    """Yield one (header, numstat lines) per commit from a streamed ``git log``."""
    count_args = ["git", "rev-list", "--count", rev] + ([f"--since={since}"] if since else [])
    total = int(_run(count_args, path).strip() or 0)
    args = ["git", "-c", "core.quotepath=off", "-c", "log.showSignature=false"]
    if mailmap:
        args += ["-c", f"mailmap.file={Path(mailmap).resolve()}"]
    args += ["log", rev, "--numstat", "--no-color", f"--format={_FORMAT}"]
    if since:
        args.append(f"--since={since}")
    proc = subprocess.Popen(
        args,
        cwd=path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    # progress=None: a bar only for long imports (and only on a terminal, tqdm's default).
    disable = progress is False or (progress is None and total < 5000)
    bar = tqdm(total=total, unit="commit", desc=path.name, disable=disable)
    buf: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(_REC) and buf:
                yield "".join(buf)
                bar.update(1)
                buf = []
            buf.append(line)
        if buf:
            yield "".join(buf)
            bar.update(1)
    finally:
        bar.close()
        err = proc.stderr.read() if proc.stderr else ""
        rc = proc.wait()
    if rc != 0:
        raise CertkitError(f"{path}: git log {rev} failed: {err.strip()}")


def _read_repo(
    path: Path,
    *,
    repo: str,
    rev: str,
    since: str | None,
    mailmap: str | None,
    ids: Identities,
    rules: Rules,
    direct_commits: str,
    progress: bool | None,
) -> tuple[dict[str, _Commit], list[dict], list[str]]:
    commits: dict[str, _Commit] = {}
    for raw in _stream_commits(path, rev, since, mailmap, progress):
        head, _, stats = raw[1:].partition(_END)
        c = _parse_header(head, rules, ids)
        for line in stats.strip("\n").splitlines():
            cols = line.split("\t")
            if len(cols) >= 3:
                c.additions += int(cols[0]) if cols[0].isdigit() else 0
                c.deletions += int(cols[1]) if cols[1].isdigit() else 0
        commits[c.sha] = c
    if not commits:
        return commits, [], [f"{repo}: no commits in {rev}" + (f" since {since}" if since else "")]

    # Mainline = first-parent chain of the tip, oldest first.
    tip = _run(["git", "rev-parse", rev], path).strip()
    mainline, sha = [], tip
    while sha in commits:
        mainline.append(sha)
        parents = commits[sha].parents
        sha = parents[0] if parents else None
    mainline.reverse()

    seen: set[str] = set()
    prs: list[dict] = []
    n_direct = n_squash = 0
    for sha in mainline:
        c = commits[sha]
        if len(c.parents) >= 2:
            branch = _branch_commits(c, commits, seen)
            prs.append(_merge_pr(c, [commits[s] for s in branch], repo))
            seen.update(branch)
        else:
            m = _SQUASH.search(c.subject)
            if m:
                n_squash += 1
                prs.append(_single_pr(c, repo, int(m.group("n")), "squash_commit"))
            elif direct_commits == "as_prs":
                prs.append(_single_pr(c, repo, None, "commit"))
            else:
                n_direct += 1
        seen.add(sha)
    notes = []
    if n_squash:
        notes.append(
            f"{repo}: {n_squash} squash-merged PR(s): created date taken from the squash "
            "commit's author date, which hosting services often set at merge time, so their "
            "cycle time is unreliable; add a gh export for exact dates"
        )
    if n_direct:
        notes.append(
            f"{repo}: {n_direct} mainline commit(s) were pushed directly (no PR); they are in "
            "commits but not in pull_requests (use direct_commits='as_prs' to count them)"
        )
    _mark_reverts(prs, commits)
    return commits, prs, notes


def _branch_commits(merge: _Commit, commits: dict[str, _Commit], seen: set[str]) -> list[str]:
    """Commits a merge brought in: reachable from its other parents, not from the mainline."""
    out, stack, visited = [], list(merge.parents[1:]), set()
    while stack:
        sha = stack.pop()
        if sha in visited or sha in seen or sha not in commits:
            continue
        visited.add(sha)
        out.append(sha)
        stack.extend(commits[sha].parents)
    return out


def _pr_number(merge: _Commit) -> tuple[int | None, str | None]:
    for pat in _MERGE_PATTERNS:
        m = pat.search(merge.subject)
        if m:
            return int(m.group("n")), m.groupdict().get("branch")
    m = _GITLAB.search(merge.body)
    if m:
        b = _MERGE_BRANCH.search(merge.subject)
        return int(m.group("n")), b.group("branch") if b else None
    b = _MERGE_BRANCH.search(merge.subject)
    return None, b.group("branch") if b else None


def _pr_author(members: list[_Commit]) -> tuple[str, bool]:
    """First human author; a bot-only PR goes to a human co-author if any (AI agents)."""
    ordered = sorted(members, key=lambda c: c.authored)
    for c in ordered:
        if not c.bot:
            return c.author_id, False
    for c in ordered:
        for _name, email in c.human_coauthors:
            return email, False  # mapped below by the caller's identities
    return ordered[0].author_id, True


def _merge_pr(merge: _Commit, branch: list[_Commit], repo: str) -> dict:
    number, head = _pr_number(merge)
    pr_id = f"{repo}#{number}" if number is not None else f"{repo}@{merge.sha[:10]}"
    members = branch or [merge]
    author, bot_author = _pr_author(members)
    lines = merge.body.split("\n\n", 1)
    title = lines[1].strip().split("\n", 1)[0] if len(lines) > 1 and number else merge.subject
    for c in [*branch, merge]:
        c.pr_id = pr_id
    dets = [d for c in [*branch, merge] for d in c.detections]
    return {
        "id": pr_id,
        "author_id": author,
        "repo": repo,
        "created_date": min(c.authored for c in members),
        "merged_date": merge.committed,
        "closed_date": merge.committed,
        "additions": sum(c.additions for c in branch),
        "deletions": sum(c.deletions for c in branch),
        "ai_assisted": 1.0 if dets else 0.0,
        "ai_tool": tools_of(dets),
        "reverted": False,
        "title": title,
        "number": number,
        "is_bot_author": bot_author,
        "created_source": "branch_first_commit" if branch else "merge_commit",
        "source": "git",
        "_head": head,
        "_shas": [c.sha for c in [*branch, merge]],
        "_author_is_coauthor": "@" in author and not bot_author and all(c.bot for c in members),
    }


def _single_pr(c: _Commit, repo: str, number: int | None, created_source: str) -> dict:
    pr_id = f"{repo}#{number}" if number is not None else f"{repo}@{c.sha[:10]}"
    c.pr_id = pr_id
    author, bot_author = _pr_author([c])
    title = _SQUASH.sub("", c.subject).strip() if number is not None else c.subject
    return {
        "id": pr_id,
        "author_id": author,
        "repo": repo,
        "created_date": c.authored,
        "merged_date": c.committed,
        "closed_date": c.committed,
        "additions": c.additions,
        "deletions": c.deletions,
        "ai_assisted": 1.0 if c.detections else 0.0,
        "ai_tool": tools_of(c.detections),
        "reverted": False,
        "title": title,
        "number": number,
        "is_bot_author": bot_author,
        "created_source": created_source,
        "source": "git",
        "_head": None,
        "_shas": [c.sha],
        "_author_is_coauthor": "@" in author and not bot_author and c.bot,
    }


def _mark_reverts(prs: list[dict], commits: dict[str, _Commit]) -> None:
    """Flag PRs whose merge/squash/branch commit a later commit reverts."""
    by_sha = {s: pr for pr in prs for s in pr["_shas"]}
    by_number = {pr["number"]: pr for pr in prs if pr["number"] is not None}
    for c in commits.values():
        targets = []
        for short in _REVERTS_SHA.findall(c.body):
            targets += [pr for s, pr in by_sha.items() if s.startswith(short)][:1]
        m = _REVERT_SUBJECT.match(c.subject)
        if m:
            n = _SQUASH.search(m.group("inner"))
            if n and int(n.group("n")) in by_number:
                targets.append(by_number[int(n.group("n"))])
        for n in _REVERTS_PR.findall(c.body):
            if int(n) in by_number:
                targets.append(by_number[int(n)])
        for pr in targets:
            if c.sha not in pr["_shas"]:  # a PR does not revert itself
                pr["reverted"] = True


def read_git(
    repos: str | Path | list[str | Path],
    *,
    rev: str = "HEAD",
    since: str | None = None,
    identities: str | Path | Identities | None = None,
    mailmap: str | Path | None = None,
    rules: str | Path | Rules | None = None,
    repo_names: list[str] | None = None,
    direct_commits: str = "ignore",
    progress: bool | None = None,
) -> Import:
    """Read one or more local git repositories into certkit tables.

    Parameters
    ----------
    repos
        Paths of local clones (never modified; only ``git log`` / ``rev-parse`` are run).
    rev
        Branch or revision whose first-parent history is the mainline (default ``HEAD``).
    since
        Only commits after this date (any ``git log --since`` value, e.g. ``2024-01-01``).
    identities
        Identity mapping CSV (engineer_id + email/login/name) or an :class:`Identities`.
    mailmap
        An extra git mailmap file (the repository's own ``.mailmap`` is always applied).
    rules
        AI-attribution rules file (default: the bundled ``ai_rules.yaml``).
    repo_names
        Names to use instead of the ``origin`` remote's ``owner/name`` (one per repo).
    direct_commits
        ``"ignore"`` (default): mainline commits without a PR are only in ``commits``;
        ``"as_prs"``: each becomes a PR created at its author date.
    progress
        Show a progress bar: ``True`` always, ``False`` never, ``None`` for long imports.

    Returns
    -------
    Import
        ``pull_requests``, ``commits``, ``people`` and ``ai_evidence`` (see module docstring).
    """
    if direct_commits not in ("ignore", "as_prs"):
        raise CertkitError(f"direct_commits must be 'ignore' or 'as_prs', not {direct_commits!r}")
    paths = [Path(r) for r in ([repos] if isinstance(repos, str | Path) else repos)]
    if not paths:
        raise CertkitError("give at least one git repository")
    if repo_names is not None and len(repo_names) != len(paths):
        raise CertkitError(
            f"repo_names has {len(repo_names)} name(s) for {len(paths)} repositories"
        )
    ids = identities if isinstance(identities, Identities) else read_identities(identities)
    rules = rules if isinstance(rules, Rules) else load_rules(rules)
    commit_rows, pr_rows, ev_rows, notes = [], [], [], []
    people: dict[str, dict] = {}
    for i, path in enumerate(paths):
        _check_repo(path)
        name = repo_names[i] if repo_names else repo_name(path)
        commits, prs, repo_notes = _read_repo(
            path,
            repo=name,
            rev=rev,
            since=since,
            mailmap=None if mailmap is None else str(mailmap),
            ids=ids,
            rules=rules,
            direct_commits=direct_commits,
            progress=progress,
        )
        notes += repo_notes
        for c in commits.values():
            p = people.setdefault(
                c.author_id,
                {
                    "engineer_id": c.author_id,
                    "name": c.author_name,
                    "email": c.author_email,
                    "first_seen": c.authored,
                    "is_bot": c.bot,
                },
            )
            p["first_seen"] = min(p["first_seen"], c.authored)
            commit_rows.append(
                {
                    "sha": c.sha,
                    "repo": name,
                    "author_id": c.author_id,
                    "author_name": c.author_name,
                    "author_email": c.author_email,
                    "committer_email": c.committer_email,
                    "authored_date": c.authored,
                    "committed_date": c.committed,
                    "additions": c.additions,
                    "deletions": c.deletions,
                    "n_parents": len(c.parents),
                    "subject": c.subject,
                    "trailers": "\n".join(f"{k}: {v}" for k, v in c.trailers) or None,
                    "pr_id": c.pr_id,
                    "ai_tool": tools_of(c.detections),
                    "is_bot": c.bot,
                }
            )
            ev_rows += evidence_rows(c.detections, c.pr_id, "git", sha=c.sha)
        for pr in prs:
            if pr.pop("_author_is_coauthor"):
                # AI-agent PR attributed to the human who co-authored it (e.g. Copilot agent).
                email = pr["author_id"]
                pr["author_id"] = ids.engineer_id(email=email)
                people.setdefault(
                    pr["author_id"],
                    {
                        "engineer_id": pr["author_id"],
                        "email": email,
                        "first_seen": pr["created_date"],
                        "is_bot": False,
                    },
                )
            pr.pop("_head")
            pr.pop("_shas")
            pr_rows.append(pr)
    return Import(
        pull_requests=frame(pr_rows, PR_SCHEMA),
        people=frame(list(people.values()), PEOPLE_SCHEMA),
        commits=frame(commit_rows, COMMIT_SCHEMA),
        ai_evidence=frame(ev_rows, EVIDENCE_SCHEMA),
        notes=notes,
        sources=[f"git:{p}" for p in paths],
    )
