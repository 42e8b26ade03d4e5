"""Read local git repositories into certkit tables, with AI-attribution detection.

``read_git(["path/to/repo"])`` streams ``git log`` (one subprocess per repository; nothing is
cloned or held in memory beyond one small record per commit) and returns an
:class:`~certkit.connectors.base.Import` with:

- ``commits``: sha, author, e-mail, dates, additions, deletions, repo, trailers, PR id, AI tool;
- ``pull_requests``: one row per PR that the history reveals, from the whole commit graph
  (rules in :mod:`certkit.connectors.git_prs`): ``Merge pull request #N`` merges anywhere in
  the graph own the commits their side brought in; squash commits ending in ``(#N)`` are PRs
  (several with one number are aggregated); reviewed changes (Gerrit ``Reviewed-on:`` or
  ``Change-Id:``, GitLab ``Part-of:``, Phabricator) are PRs; branch-sync merges (``git pull``,
  remote-tracking, ``Merge branch 'x' into y``) are not PRs; other commits are direct pushes,
  counted in a note (or, with ``direct_commits="as_prs"``, one PR each). Squash-merged PRs
  have ``created_source`` ``squash_commit``: hosting services often set their author date at
  merge time, so **their cycle time is unreliable**; import a ``gh`` export for exact dates
  (``combine`` prefers it for the same PR id);
- ``ai_evidence``: every AI-attribution rule that fired, per commit.

Several repositories (:mod:`certkit.connectors.git_repos`): a commit two of them hold (a clone
of a release branch shares the history before the branch point) counts once, in the first
given, and so does a Gerrit change both hold (its Change-Id, on a cherry-pick).

Identities: ``git log`` applies the repository's ``.mailmap`` (``mailmap=`` adds another one),
then an identity file maps e-mails/names to engineer ids. Agents and automation (listed in
``agents.yaml``: the Copilot coding agent, ``Claude <claude@anthropic.com>``, ``[bot]``
accounts, GitHub's service accounts, semantic-release...) keep ids ending in ``[bot]`` and are
left out of the engineers table; an agent's PR is credited to its human when one is named.
Aider's ``(aider)`` name suffix is stripped before mapping, so the human stays the author.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from certkit.connectors import base
from certkit.connectors.attribution import (
    Detection,
    Evidence,
    Rules,
    add_agent_detections,
    attribution_inputs,
    coauthors,
    detect,
    disclosed_ai,
    disclosure_notes,
    parse_trailers,
    tools_of,
    unknown_coauthor_notes,
)
from certkit.connectors.git_bot_notes import bot_coauthor_notes
from certkit.connectors.git_landings import is_translation_robot
from certkit.connectors.git_merges import attach_older, cut_sides
from certkit.connectors.git_prs import assemble
from certkit.connectors.git_repos import (
    check_repo,
    check_rev,
    distinct_names,
    imported_histories,
    once_per_change,
    run_git,
)
from certkit.connectors.git_reverts import swapped_numstat
from certkit.connectors.git_review import change_id, is_export_bot
from certkit.connectors.identity import (
    Agents,
    Identities,
    bot_id,
    is_bot,
)
from certkit.connectors.ledger import line_ledger, with_rework
from certkit.errors import CertkitError
from certkit.progress import progress_bar

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

#: What a tool appends to the author's name: aider's " (aider)", or a model's name ("Ali Ayas
#: (claude-sonnet-4-20250514)", Aider-AI/aider e91efda8f; rule ``model-name-suffix``).
_AIDER = re.compile(
    r"\s*\((?:aider|(?:claude|gpt|gemini|deepseek|qwen|grok|llama|mistral|codestral)"
    r"-?[\w.:/-]*\d[\w.:/-]*)\)$",
    re.IGNORECASE,
)


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
    agent_kind: str | None  # "ai_agent", "automation" or None (a person)
    detections: list[Detection]
    human_coauthors: list[tuple[str, str]]
    additions: int = 0
    deletions: int = 0
    pr_id: str | None = None
    patch: int = 0  # a hash of the numstat lines (files and their counts), 0 without any
    inverse: int = 0  # its numstat hash with lines added and deleted swapped (undoing it)
    listed_agent: bool = False  # in agents.yaml (dependabot...), not only named "...[bot]"
    committer_name: str = ""
    translation: bool = False  # committed by a translation robot (git_landings)
    exported: bool = False  # committed by a monorepo export bot (agents.yaml export-bots)


def _bot_stem(name: str, email: str) -> str:
    """A bot's own name without ``[bot]`` (``pydanty[bot]`` -> ``pydanty``), lower case."""
    stem = name.strip() or email.split("@")[0].split("+")[-1]
    return stem.lower().removesuffix("[bot]").strip()


def _parse_header(block: str, rules: Rules, ids: Identities, agents: Agents) -> _Commit:
    parts = block.split(_UNIT)
    if len(parts) != 11:
        raise CertkitError(f"unexpected git log output near {block[:80]!r}")
    sha, parents, an, ae, an_raw, ae_raw, ad, cn, ce, cd, body = parts
    body = body.strip("\n")
    trailers = parse_trailers(body, rules.anywhere_keys)
    co = coauthors(trailers)
    ev = Evidence(
        emails=sorted({ae.lower(), ae_raw.lower(), ce.lower()}),
        names=[an_raw, cn],
        coauthors=co,
        messages=[body],
    )
    detections = detect(ev, rules)
    name = _AIDER.sub("", an)
    agent = agents.match(name, ae)
    committer = agents.match(cn, ce)  # a translation robot, an export bot
    bot = agent is not None or is_bot(name, ae, agents=agents)
    author_id = bot_id(name, ae, agents=agents) if bot else ids.engineer_id(email=ae, name=name)
    add_agent_detections(
        detections, [(agents.match(n, e), e.lower()) for n, e in [(name, ae), *co]]
    )
    # Human co-authors (not AI tools, not bots): used when an AI agent authored the PR.
    ai_emails = {d.evidence.lower() for d in detections}
    # A bot's own non-bot address is not a human either ("pydanty[bot]" co-authored by
    # "pydanty <pydanty@pydantic.dev>" on pydantic-ai made pydanty an engineer).
    own = _bot_stem(name, ae) if bot else None
    humans = [
        (n, e)
        for n, e in co
        if e not in ai_emails
        and e != ae.lower()
        and not is_bot(n, e, agents=agents)
        and own not in (n.strip().lower(), e.lower().split("@")[0])
    ]
    return _Commit(
        sha=sha,
        parents=parents.split(),
        author_id=author_id,
        author_name=name,
        author_email=ae.lower(),
        committer_email=ce.lower(),
        authored=base.parse_iso(ad),
        committed=base.parse_iso(cd),
        subject=body.split("\n", 1)[0],
        body=body,
        trailers=trailers,
        bot=bot,
        agent_kind=agent.kind if agent is not None else ("automation" if bot else None),
        listed_agent=agent is not None,
        committer_name=cn,
        translation=is_translation_robot(committer),
        exported=is_export_bot(committer),
        detections=detections,
        human_coauthors=humans,
    )


def _stream_commits(
    path: Path,
    rev: str,
    since: str | None,
    mailmap: str | None,
    progress: bool | None,
    shas: list[str] | None = None,
):
    """Yield one (header, numstat lines) per commit from a streamed ``git log`` (of ``rev``,
    or of exactly the commits ``shas``)."""
    if shas is None:
        check_rev(path, rev)
        count_args = ["git", "rev-list", "--count", rev] + ([f"--since={since}"] if since else [])
        total = int(run_git(count_args, path).strip() or 0)
    else:
        total = len(shas)
    args = ["git", "-c", "core.quotepath=off", "-c", "log.showSignature=false"]
    if mailmap:
        args += ["-c", f"mailmap.file={Path(mailmap).resolve()}"]
    which = [rev] if shas is None else ["--no-walk=unsorted", "--stdin"]
    args += ["log", *which, "--numstat", "--no-color", f"--format={_FORMAT}"]
    if since and shas is None:
        args.append(f"--since={since}")
    proc = subprocess.Popen(
        args,
        cwd=path,
        stdin=subprocess.DEVNULL if shas is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    if shas is not None:  # git reads every revision before it writes anything
        assert proc.stdin is not None
        proc.stdin.write("".join(f"{s}\n" for s in shas))
        proc.stdin.close()
    # progress=None: a bar only for long imports (throttled in a log: certkit.progress).
    disable = progress is False or (progress is None and total < 5000)
    bar = progress_bar(total=total, unit="commit", desc=path.name, disable=disable)
    buf: list[str] = []
    finished = False
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
        finished = True
    finally:
        bar.close()
        if not finished:  # abandoned (an error further on): git must not wait on a full pipe
            proc.kill()
        err = proc.stderr.read() if proc.stderr else ""
        rc = proc.wait()
        for stream in (proc.stdout, proc.stderr):  # "ResourceWarning: unclosed file" (trial F)
            if stream is not None:
                stream.close()
    if finished and rc != 0:
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
    agents: Agents,
    direct_commits: str,
    progress: bool | None,
    seen: dict[str, str],
) -> tuple[dict[str, _Commit], list[dict], list[str], str | None, str | None]:
    """Commits, PRs, notes of one repository, the ``since`` its line ledger needs, and the
    commit ``rev`` named when it was read (``None`` without commits).

    Commits of ``seen`` (sha -> the repository of this import that already holds it) are left
    out: one commit counts once. With ``since``, the branch commits from before it of the PRs
    merged after it are read too (``since`` returned is then the earliest one's commit date).
    """

    def parse(raws) -> dict[str, _Commit]:
        out: dict[str, _Commit] = {}
        for raw in raws:
            head, _, stats = raw[1:].partition(_END)
            c = _parse_header(head, rules, ids, agents)
            lines = stats.strip("\n").splitlines()
            for line in lines:
                cols = line.split("\t")
                if len(cols) >= 3:
                    c.additions += int(cols[0]) if cols[0].isdigit() else 0
                    c.deletions += int(cols[1]) if cols[1].isdigit() else 0
            c.patch = hash(tuple(sorted(lines))) if lines else 0
            if lines:  # a revert's (git_reverts), or a rollback under its PR's number (git_prs)
                c.inverse = hash(tuple(sorted(swapped_numstat(line) for line in lines)))
            out[c.sha] = c
        return out

    commits = parse(_stream_commits(path, rev, since, mailmap, progress))
    if not commits:
        return (
            commits,
            [],
            [f"{repo}: no commits in {rev}" + (f" since {since}" if since else "")],
            since,
            None,
        )
    tip = run_git(["git", "rev-parse", rev], path).strip()
    imported = imported_histories(path, rev)
    older: set[str] = set()
    if since:  # a PR merged in the window keeps the commits of its branch from before it
        gerrit_only = cut_sides(path, commits, tip, imported)
        shas = list(gerrit_only)
        read = parse(_stream_commits(path, rev, None, mailmap, False, shas)) if shas else {}
        for sha, c in read.items():  # a Gerrit merge's side: its changes only
            if not gerrit_only[sha] or change_id(c) is not None:
                commits[sha] = c
                older.add(sha)
    shared: dict[str, int] = {}
    for sha in [s for s in commits if s in seen]:
        del commits[sha]
        shared[seen[sha]] = shared.get(seen[sha], 0) + 1
    notes = [
        f"{repo}: {n} commit(s) are also in {other}, read before it in this import (the same "
        f"project twice, or a branch of it): counted once, in {other}"
        for other, n in shared.items()
    ]
    if not commits:
        return commits, [], notes, since, tip
    prs, pr_notes = assemble(
        commits,
        tip,
        repo,
        ids=ids,
        direct_commits=direct_commits,
        imported=imported,
        older=older,
        rules=rules,
    )
    n_older, first = attach_older(commits, older)  # only those a PR of the window took
    if n_older:
        notes.append(
            f"{repo}: {n_older} commit(s) from before --since {since} were read: the branch "
            "commits of PRs merged in the window (a PR merge, a Gerrit merge of a change "
            "written before the window), which belong to those PRs"
        )
    if first is not None:  # the ledger reads from the earliest of them (its rows are exact)
        since = f"{first:%Y-%m-%dT%H:%M:%S}Z"
    notes += pr_notes + bot_coauthor_notes(repo, prs, commits, ids)
    return commits, prs, notes, since, tip


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
    agents: str | Path | Agents | None = None,
    rework_days: int | None = 21,
) -> base.Import:
    """Read one or more local git repositories into certkit tables.

    Parameters
    ----------
    repos
        Paths of local clones (never modified; only ``git log`` / ``rev-parse`` are run).
    rev
        Branch or revision whose first-parent history is the mainline (default ``HEAD``).
    since
        Only commits after this date (any ``git log --since`` value, e.g. ``2024-01-01``). A
        plain date means its midnight UTC (git alone reads it as that day at the time of day
        the import runs, so one command gave other commits at another hour). A PR merged
        after it keeps its branch commits from before it (they are read too).
    identities
        Identity mapping CSV (engineer_id + email/login/name) or an :class:`Identities`.
    mailmap
        An extra git mailmap file (the repository's own ``.mailmap`` is always applied).
    rules
        AI-attribution rules file (default: the bundled ``ai_rules.yaml``).
    repo_names
        Names to use in PR ids (one per repo, e.g. ``org/app`` to join a ``gh`` export);
        default: ``owner/name`` of a hosted ``origin`` remote, else the folder name.
    direct_commits
        ``"ignore"`` (default): commits without a PR are only in ``commits``;
        ``"as_prs"``: each becomes a PR created at its author date, except that consecutive
        first-parent ones of one committer in the same second are one PR
        (:mod:`certkit.connectors.git_landings`).
    progress
        Show a progress bar: ``True`` always, ``False`` never, ``None`` for long imports.
    agents
        An extra agents file (added to the bundled ``agents.yaml``) or an :class:`Agents`.
    rework_days
        Window of the line ledger (:func:`certkit.connectors.ledger.line_ledger`): commits and
        PRs get ``churned_lines_{N}d`` (lines changed or deleted again within N days, by the
        author or a teammate) and ``surviving_lines`` (still present at ``rev``). ``None``
        skips the ledger (one more ``git log -p`` pass over the whole history).

    Returns
    -------
    base.Import
        ``pull_requests``, ``commits``, ``people`` and ``ai_evidence`` (see module docstring).
    """
    if direct_commits not in ("ignore", "as_prs"):
        raise CertkitError(f"direct_commits must be 'ignore' or 'as_prs', not {direct_commits!r}")
    paths = [Path(r) for r in ([repos] if isinstance(repos, str | Path) else repos)]
    if not paths:
        raise CertkitError("give at least one git repository")
    if repo_names is not None and len(repo_names) != len(paths):
        raise CertkitError(
            f"--repo-name (repo_names) gives {len(repo_names)} name(s) for {len(paths)} "
            "repositories; give one per repository, in the same order"
        )
    ids, rules, agents = attribution_inputs(identities, rules, agents)
    if since is not None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", since.strip()):
        since = f"{since.strip()}T00:00:00Z"
    commit_rows, pr_rows, ev_rows, notes, ledgers = [], [], [], [], []
    disclosed: dict[str, str] = {}  # PR id -> a sentence saying an AI tool wrote it
    people: dict[str, dict] = {}
    seen: dict[str, str] = {}  # sha -> the repository it is counted in
    revisions: dict[str, str] = {}  # repository -> the commit read (import.json)
    changes: dict[str, tuple[str, str]] = {}  # Gerrit Change-Id -> (PR id, repository)
    for path in paths:
        check_repo(path)
    names, naming_note = distinct_names(paths, repo_names)
    notes += [naming_note] if naming_note else []
    for path, name in zip(paths, names, strict=True):
        commits, prs, repo_notes, ledger_since, tip = _read_repo(
            path,
            repo=name,
            rev=rev,
            since=since,
            mailmap=None if mailmap is None else str(mailmap),
            ids=ids,
            rules=rules,
            agents=agents,
            direct_commits=direct_commits,
            progress=progress,
            seen=seen,
        )
        seen.update(dict.fromkeys(commits, name))
        if tip is not None:
            revisions[name] = tip
        notes += repo_notes
        earlier = {r["sha"]: r["pr_id"] for r in commit_rows if r["pr_id"]}
        prs = once_per_change(prs, commits, changes, name, notes, earlier)
        if rework_days is not None and commits:
            ledger = line_ledger(
                path,
                rev,
                window_days=rework_days,
                authors={c.sha: c.author_id for c in commits.values()},
                since=ledger_since,
                progress=progress,
            )
            ledger = ledger.filter(pl.col("sha").is_in(list(commits)))  # not a shared commit
            ledgers.append(ledger.drop("lines_added"))
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
            ev_rows += base.evidence_rows(c.detections, c.pr_id, "git", sha=c.sha)
            if c.pr_id and (said := disclosed_ai(c.body)):
                disclosed.setdefault(c.pr_id, said)
        for pr in prs:
            # The human an agent's PR is credited to (co-author or merger) is a person seen.
            for person in pr.pop("_new_people"):
                p = people.setdefault(
                    person["engineer_id"],
                    {**person, "first_seen": pr["created_date"], "is_bot": False},
                )
                p["first_seen"] = min(p["first_seen"], pr["created_date"])
            pr.pop("_shas")
            ev_rows += base.evidence_rows(pr.pop("_branch_detections", []), pr["id"], "git")
            pr_rows.append(pr)
    commits_df = base.frame(commit_rows, COMMIT_SCHEMA)
    prs_df = base.frame(pr_rows, base.PR_SCHEMA)
    notes += unknown_coauthor_notes(
        commits_df, prs_df.height, rules, agents, ids=ids, credited=set(prs_df["author_id"])
    ) + disclosure_notes(disclosed, prs_df)
    if ledgers:
        commits_df, prs_df = with_rework(commits_df, prs_df, pl.concat(ledgers), rework_days)
        notes.append(
            f"rework: churned_lines_{rework_days}d counts lines changed or deleted again within "
            f"{rework_days} days of being written; surviving_lines those still present at {rev}"
        )
    return base.Import(
        pull_requests=prs_df,
        people=base.frame(list(people.values()), base.PEOPLE_SCHEMA),
        commits=commits_df,
        ai_evidence=base.frame(ev_rows, base.EVIDENCE_SCHEMA),
        notes=notes,
        sources=[f"git:{p}" for p in paths],
        revisions=revisions,
    )
