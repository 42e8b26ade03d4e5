"""DevLake domain rows -> certkit rows: the per-source rules of the DevLake connector.

- **Source** of a row: the plugin prefix of its DevLake id (``github:GithubPullRequest:1:7``
  -> ``github``; ids without a prefix -> ``other``).
- **Merged**: ``status`` decides, the dates follow. ``MERGED`` -> merged at ``merged_date``,
  else ``closed_date``, else the merge commit's date (Bitbucket Cloud fills ``merged_date``
  only from the merge commit); a ``MERGED`` PR with none of these stays undated (noted).
  ``CLOSED`` / ``OPEN`` (and drafts) -> not merged, whatever ``merged_date`` says (Azure DevOps
  sets it to the closed date for abandoned PRs). An empty/unknown status falls back to
  ``merged_date``.
- **Line counts**: only DevLake's GitHub converter fills ``additions``/``deletions``; elsewhere
  they are 0. 0/0 from another source, or from a GitHub source where every PR is 0/0, is
  read as missing (null) with a note.
- **Bots**: ``[bot]``-style accounts, and ids DevLake gives unknown authors
  (``github:GithubAccount:1:0``, empty author name) are never a person.
- **Text**: PR bodies and commit messages stored JSON-quoted by the GitHub REST collector
  (``"Fix\\r\\n\\r\\nCo-authored-by: ..."``) are unquoted before trailer parsing.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from certkit.connectors.attribution import Evidence, coauthors, detect, parse_trailers
from certkit.connectors.identity import is_bot

if TYPE_CHECKING:
    from certkit.connectors.attribution import Rules
    from certkit.connectors.identity import Identities

UNKNOWN_AUTHOR = "unknown-author[bot]"


def source_of(devlake_id: str | None) -> str:
    """The plugin that wrote a DevLake row, from its id prefix."""
    text = str(devlake_id or "")
    return text.split(":", 1)[0] if ":" in text else "other"


def unquote_text(text: str | None) -> str | None:
    """JSON-quoted text (``"line\\r\\nline"``, as the GitHub REST plugin stores it) unquoted."""
    if not text or len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value.replace("\r\n", "\n") if isinstance(value, str) else text


def unknown_author(author_id: str | None, author_name: str | None, login: str | None) -> bool:
    """DevLake's placeholder for an author it could not resolve (GraphQL bots, ghosts)."""
    if (author_name or "").strip() or (login or "").strip():
        return False
    aid = str(author_id or "")
    return aid == "" or aid.endswith(":0")


def pr_key(pr: dict) -> tuple[str | None, str, int | None]:
    """``(repo, certkit PR id, PR number)`` of a PR row of ``devlake_read.pr_query``: the id
    is ``repo#number`` when both are known, else DevLake's own id."""
    repo = pr["repo_name"] or pr["base_repo_id"]
    key = pr["pull_request_key"]
    pr_id = f"{repo}#{key}" if key not in (None, "", 0) and repo else pr["id"]
    return repo, pr_id, int(key) if key not in (None, "") else None


def merge_state(pr: dict, merge_commit_date: datetime | None) -> tuple[str, datetime | None]:
    """``(state, merged_date)`` by the documented rule; state is merged/closed/open/draft."""
    status = str(pr.get("status") or "").upper()
    draft = bool(pr.get("is_draft"))
    if status == "MERGED":
        return "merged", pr["merged_date"] or pr["closed_date"] or merge_commit_date
    if status == "CLOSED":
        return "closed", None
    if status == "OPEN" or draft:
        return ("draft" if draft else "open"), None
    if pr["merged_date"] is not None:
        return "merged", pr["merged_date"]
    return ("closed" if pr["closed_date"] else "open"), None


def line_counts(rows: list[dict], raw: dict[str, tuple], notes: list[str]) -> None:
    """Set additions/deletions on ``rows`` (certkit PR rows) from ``raw`` (id -> (add, del))."""
    by_source: dict[str, list[dict]] = {}
    for r in rows:
        by_source.setdefault(r["_source"], []).append(r)
    for src, rs in sorted(by_source.items()):
        vals = [raw[r["id"]] for r in rs]
        known = [v for v in vals if v[0] is not None or v[1] is not None]
        zeros = [v for v in known if not v[0] and not v[1]]
        drop_zero = src != "github" or (known and len(zeros) == len(known))
        for r, (a, d) in zip(rs, vals, strict=True):
            if a is None and d is None or (drop_zero and not a and not d):
                r["additions"] = r["deletions"] = None
            else:
                r["additions"], r["deletions"] = int(a or 0), int(d or 0)
        if drop_zero and zeros:
            why = (
                "DevLake fills line counts only for GitHub"
                if src != "github"
                else "every GitHub PR has 0/0, so DevLake did not fill them"
            )
            notes.append(
                f"DevLake: {len(zeros)} {src} PR(s) have 0 added and 0 deleted lines; {why}: "
                "read as missing (size outcomes leave them out)"
            )


def pick_pr(candidates: list[dict]) -> dict | None:
    """The PR a deployment is blamed on: the last merged of those it shipped."""
    if not candidates:
        return None
    return max(candidates, key=lambda p: (p["merged_date"] or datetime.min, p["id"]))


def link_incidents(
    incidents: list[dict],
    rels: dict[str, list[str]],
    deploy_commits: dict[str, list[dict]],
    pr_by_sha: dict[str, list[dict]],
    pr_by_deploy_commit: dict[str, list[dict]],
    notes: list[str],
    relation: str | None = None,
) -> None:
    """Fill ``pr_id`` of incidents: incident -> deployment -> commits -> PRs it shipped.

    A deployment ships the PRs whose ``merge_commit_sha`` is one of its deployment commits,
    plus those ``project_pr_metrics.deployment_commit_id`` assigns to one of them; the last
    merged is blamed (an approximation), a bot's PR too: the note says how many, as the
    panel counts incidents per engineer and a bot is none. Only PRs merged before the
    incident started are candidates: a later one cannot have caused it (DevLake's DORA plugin
    links an incident to the last deployment finished before it, so this holds there; the
    pushdown applies the same rule). ``relation``: the DORA table
    read (``project_incident_deployment_relationships``, before v1.0.2
    ``project_issue_metrics``), named in the note.
    """
    no_deploy = no_pr = late = linked = 0
    bots: list[dict] = []
    for inc in incidents:
        if inc.get("pr_id"):
            continue
        deps = rels.get(inc["id"], [])
        if not deps:
            no_deploy += 1
            continue
        cands = {}
        for dep in deps:
            for dc in deploy_commits.get(dep, []):
                for p in [
                    *pr_by_sha.get(dc["commit_sha"] or "", []),
                    *pr_by_deploy_commit.get(dc["id"], []),
                ]:
                    cands[p["id"]] = p
        start = inc.get("created_date")
        before = [
            p
            for p in cands.values()
            if start is not None and p["merged_date"] is not None and p["merged_date"] < start
        ]
        best = pick_pr(before)
        if best is None:
            no_pr += not cands
            late += bool(cands)
        else:
            inc["pr_id"] = best["id"]
            linked += 1
            if best.get("is_bot_author"):
                bots.append(best)
    if incidents:
        blamed = ""
        if bots:
            who = f"{bots[0]['author_id']}'s {bots[0]['id']}"
            blamed = (
                f" ({len(bots)} of them on a bot's PR, e.g. {who}: a bot is no engineer, so "
                "the panel does not count them)"
            )
        later = (
            f"{late} have deployments that shipped only PRs merged after the incident started "
            "(not its cause): left unlinked; "
            if late
            else ""
        )
        notes.append(
            f"DevLake: {linked} incident(s) linked to a PR through deployments{blamed}; "
            f"{no_pr} have a deployment that shipped no PR of this import; {later}"
            f"{no_deploy} have no deployment "
            f"({relation or 'project_incident_deployment_relationships'}) "
            "nor linked PR: left unlinked"
        )


def count_bot_pr(
    pr: dict, eid: str, commits: list[dict], ids: Identities, rules: Rules, bots: dict, people: dict
) -> None:
    """Count an unlisted bot's PR for :func:`~certkit.connectors.git_bot_notes.bot_note`, and
    the first person its body's or commits' co-author lines name (not a bot, not an AI tool:
    trial AG B3, huggingface_hub's Moon Bot, whose PRs name the engineer who asked for it)."""
    counts = bots.setdefault(eid, [0, 0])
    counts[0] += 1
    texts = [unquote_text(pr["description"]) or ""]
    texts += [unquote_text(c["message"]) or "" for c in commits]
    for text in texts:
        for name, email in coauthors(parse_trailers(text)):
            if is_bot(name, email) or detect(Evidence(coauthors=[(name, email)]), rules):
                continue
            counts[1] += 1
            people.setdefault(eid, Counter())[ids.engineer_id(email=email, name=name)] += 1
            return
