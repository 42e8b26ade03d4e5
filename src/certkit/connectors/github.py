"""Read GitHub pull-request exports: ``gh pr list --json ...`` output or REST pull objects.

The recommended export (run inside each repository)::

    gh pr list --state merged --limit 1000 --json number,title,author,createdAt,mergedAt,\\
        closedAt,additions,deletions,changedFiles,labels,reviews,commits,headRefName,\\
        baseRefName,isDraft,body,url > prs.json

Each PR becomes one certkit ``pull_requests`` row with:

- ``first_review_date``: the first submitted review (not PENDING) by someone other than the
  author and not by a bot (``copilot-pull-request-reviewer[bot]`` is not a human pickup);
- ``ai_assisted`` / ``ai_tool``: AI-attribution rules applied to commit authors and e-mails,
  commit trailers, the PR body, the head branch (``copilot/``, ``codex/``...), labels and the
  PR author (Copilot coding agent, Devin, Jules, ... bot accounts);
- bot authors keep ids ending in ``[bot]`` (agents and automation are listed in
  ``agents.yaml``; add your own with ``agents=``). A PR opened by an AI agent (the Copilot
  coding agent, Devin, Jules, ``claude[bot]``...) is AI-assisted and is credited to its human:
  a human co-author of its commits, else its first human assignee, else the human who merged
  it (``mergedBy``), else no one (it stays a bot PR, never an engineer; counted in a note).

REST objects (``GET /repos/{o}/{r}/pulls/{n}``) work too; the *list* endpoint has no line
counts, so those files are refused with a message saying what to export instead.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import polars as pl

from certkit.connectors import attribution
from certkit.connectors.base import (
    EVIDENCE_SCHEMA,
    PEOPLE_SCHEMA,
    PR_SCHEMA,
    Import,
    evidence_rows,
    frame,
    parse_iso,
)
from certkit.connectors.identity import Agents, Identities, bot_id, is_bot
from certkit.data.textio import read_text
from certkit.errors import CertkitError

GH_FIELDS = (
    "number,title,author,createdAt,mergedAt,closedAt,additions,deletions,changedFiles,"
    "labels,reviews,commits,headRefName,baseRefName,isDraft,body,url,assignees,mergedBy"
)
GH_COMMAND = f"gh pr list --state merged --limit 1000 --json {GH_FIELDS}"
REQUIRED_GH = ("number", "author", "createdAt", "mergedAt", "additions", "deletions")
OPTIONAL_GH = {
    "reviews": "first_review_date is empty",
    "commits": "AI detection cannot use commit trailers or co-authors",
    "body": "AI detection cannot use the PR body (Codex/Devin links)",
    "headRefName": "AI detection cannot use branch names (copilot/, codex/...)",
}
REQUIRED_REST = ("number", "user", "created_at", "merged_at", "additions", "deletions")
_URL_REPO = re.compile(r"github\.com/([^/]+/[^/]+)/pull/\d+")
_REVERTS = re.compile(r"^Reverts (?:(?P<repo>\S+/\S+))?#(?P<n>\d+)\s*$", re.MULTILINE)


def _load_json(path: Path):
    text = read_text(path, "GitHub export", legacy=False)  # UTF-8/16, BOM or not
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CertkitError(
            f"GitHub export {path}, line {exc.lineno}, column {exc.colno}: not valid JSON "
            f"({exc.msg}); expected the output of `{GH_COMMAND}`"
        ) from None
    if isinstance(data, dict):  # a single PR object, or {"items": [...]}
        data = data.get("items", data.get("pull_requests", [data]))
    if not isinstance(data, list):
        raise CertkitError(f"GitHub export {path}: expected a JSON list of pull requests")
    return data


def _login(obj, agents: Agents | None = None) -> tuple[str | None, bool, str | None]:
    """(login, is_bot, display name) of a gh ``author`` or REST ``user`` object."""
    if not isinstance(obj, dict):
        return None, False, None
    login = obj.get("login")
    bot = bool(obj.get("is_bot")) or obj.get("type") == "Bot" or is_bot(login=login, agents=agents)
    return login, bot, obj.get("name")


def _nodes(value) -> list:
    """gh lists are plain lists; GraphQL-style exports wrap them in ``{"nodes": [...]}``."""
    if isinstance(value, dict):
        value = value.get("nodes", [])
    return value if isinstance(value, list) else []


#: The created / merged / closed date fields of the gh CLI (GraphQL) and REST exports.
GH_DATES = ("createdAt", "mergedAt", "closedAt")
REST_DATES = ("created_at", "merged_at", "closed_at")


def _shared_fields(
    item: dict, number, agents: Agents | None, author: str, merged_by: str, dates: tuple
) -> dict:
    """The fields both export formats carry, read under this format's names."""
    created, merged, closed = dates
    return {
        "number": number,
        "author": _login(item.get(author), agents),
        "merged_by": _login(item.get(merged_by), agents),
        "has_credit_fields": "assignees" in item or merged_by in item,
        "created": item.get(created),
        "merged": item.get(merged),
        "closed": item.get(closed),
        "additions": item.get("additions"),
        "deletions": item.get("deletions"),
        "title": item.get("title"),
        "body": item.get("body") or "",
    }


def _normalise(item: dict, i: int, path: Path, agents: Agents | None = None) -> dict:
    """One PR in a common shape, from a gh or a REST object; raises naming missing fields."""
    number = item.get("number")
    where = f"GitHub export {path}, item {i}" + (f" (PR #{number})" if number else "")
    if "createdAt" in item or "author" in item:  # gh
        missing = [f for f in REQUIRED_GH if f not in item]
        if missing:
            raise CertkitError(
                f"{where}: missing field(s) {', '.join(missing)}. Re-export with: {GH_COMMAND}"
            )
        commits = []
        for node in _nodes(item.get("commits")):
            c = node.get("commit", node) if isinstance(node, dict) else {}
            authors = [
                (a.get("name"), (a.get("email") or "").lower(), (a.get("user") or {}).get("login"))
                for a in _nodes(c.get("authors"))
                if isinstance(a, dict)
            ]
            headline, body = c.get("messageHeadline") or "", c.get("messageBody") or ""
            commits.append(
                {"authors": authors, "message": f"{headline}\n\n{body}" if body else headline}
            )
        reviews = [
            (_login(r.get("author"))[0], _login(r.get("author"))[1], r.get("submittedAt"))
            for r in _nodes(item.get("reviews"))
            if isinstance(r, dict) and r.get("state") != "PENDING"
        ]
        return {
            **_shared_fields(item, number, agents, "author", "mergedBy", GH_DATES),
            "assignees": [_login(a, agents) for a in _nodes(item.get("assignees"))],
            "branch": item.get("headRefName"),
            "labels": [lb.get("name") for lb in _nodes(item.get("labels")) if isinstance(lb, dict)],
            "commits": commits,
            "reviews": reviews if "reviews" in item else None,
            "url": item.get("url"),
            "missing_optional": [f for f in OPTIONAL_GH if f not in item],
        }
    if "created_at" in item or "user" in item:  # REST
        missing = [f for f in REQUIRED_REST if f not in item]
        if missing:
            hint = (
                " The REST list endpoint (GET /repos/{o}/{r}/pulls) has no line counts; "
                "export single PRs (GET /repos/{o}/{r}/pulls/{n}) or use: " + GH_COMMAND
                if "additions" in missing
                else ""
            )
            raise CertkitError(f"{where}: missing field(s) {', '.join(missing)}.{hint}")
        base = item.get("base") or {}
        return {
            **_shared_fields(item, number, agents, "user", "merged_by", REST_DATES),
            "assignees": [_login(a, agents) for a in item.get("assignees") or []],
            "branch": (item.get("head") or {}).get("ref"),
            "labels": [lb.get("name") for lb in item.get("labels") or [] if isinstance(lb, dict)],
            "commits": [],
            "reviews": None,
            "url": item.get("html_url") or (base.get("repo") or {}).get("html_url"),
            "repo": (base.get("repo") or {}).get("full_name"),
            "missing_optional": ["reviews", "commits"],
        }
    raise CertkitError(
        f"{where}: not a pull request (no createdAt/author or created_at/user fields); "
        f"expected the output of `{GH_COMMAND}`"
    )


def _human_of(
    pr: dict, dets: list, rules: attribution.Rules, agents: Agents
) -> tuple[tuple[str | None, str | None, str | None] | None, str]:
    """The human an agent's PR is credited to, ``(name, email, login)``, and how it was found."""
    ai_text = {d.evidence.lower() for d in dets}
    email_rules = rules.by_field("email")
    for c in pr["commits"]:
        for name, email, login in c["authors"]:
            if (
                not is_bot(name, email, login, agents=agents)
                and email not in ai_text
                and (login or "").lower() not in ai_text
                and not any(r.matches(email) for r in email_rules)
            ):
                return (name, email, login), "co-author"
    for login, bot, name in pr["assignees"]:
        if login and not bot:
            return (name, None, login), "assignee"
    login, bot, name = pr["merged_by"]
    if login and not bot:
        return (name, None, login), "merger"
    return None, "none"


def _date(value, where: str, field: str) -> datetime | None:
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        raise CertkitError(
            f"{where}: field {field} should be an ISO 8601 date such as "
            f"2025-03-31T14:05:00Z, got {value!r}"
        ) from None


def read_github(
    paths: str | Path | list[str | Path],
    *,
    repo: str | None = None,
    identities: str | Path | Identities | None = None,
    rules: str | Path | attribution.Rules | None = None,
    agents: str | Path | Agents | None = None,
) -> Import:
    """Read one or more ``gh pr list --json`` exports (or REST pull objects).

    Parameters
    ----------
    paths
        JSON file(s), each a list of pull requests from one repository.
    repo
        Repository name (``owner/name``) used in PR ids; default: from each PR's ``url``,
        else the file name without extension.
    identities
        Identity mapping CSV (engineer_id + email/login/name) or an :class:`Identities`.
    rules
        AI-attribution rules file (default: the bundled ``ai_rules.yaml``).
    agents
        An extra agents file (added to the bundled ``agents.yaml``) or an :class:`Agents`.
    """
    files = [Path(p) for p in ([paths] if isinstance(paths, str | Path) else paths)]
    ids, rules, agents = attribution.attribution_inputs(identities, rules, agents)
    rows, ev_rows, notes = [], [], []
    people: dict[str, dict] = {}
    for path in files:
        missing_optional: set[str] = set()
        by_number: dict[int, dict] = {}
        credit = {"co-author": 0, "assignee": 0, "merger": 0, "none": 0}
        has_credit_fields = False
        for i, item in enumerate(_load_json(path), start=1):
            if not isinstance(item, dict):
                raise CertkitError(f"GitHub export {path}, item {i}: expected a JSON object")
            pr = _normalise(item, i, path, agents)
            has_credit_fields |= pr["has_credit_fields"]
            where = f"GitHub export {path}, item {i} (PR #{pr['number']})"
            missing_optional.update(pr["missing_optional"])
            m = _URL_REPO.search(pr.get("url") or "")
            name = repo or pr.get("repo") or (m.group(1) if m else path.stem)
            for f in ("additions", "deletions"):
                if not isinstance(pr[f], int) or pr[f] < 0:
                    raise CertkitError(
                        f"{where}: field {f} should be a whole number >= 0, got {pr[f]!r}"
                    )
            login, bot, display = pr["author"]
            if login is None:
                login, bot = "ghost", False  # GitHub's placeholder for deleted accounts
            emails = sorted({a[1] for c in pr["commits"] for a in c["authors"] if a[1]})
            messages = [pr["body"], *(c["message"] for c in pr["commits"])]
            co = [
                x
                for msg in messages[1:]
                for x in attribution.coauthors(attribution.parse_trailers(msg))
            ]
            commit_logins = [
                (a[2], is_bot(login=a[2], agents=agents))
                for c in pr["commits"]
                for a in c["authors"]
                if a[2]
            ]
            ev = attribution.Evidence(
                emails=emails,
                coauthors=co,
                logins=[(login, bot), *commit_logins],
                messages=messages,
                branch=pr["branch"],
                labels=[x for x in pr["labels"] if x],
            )
            dets = attribution.detect(ev, rules)
            agent = agents.match(display, None, login)
            attribution.add_agent_detections(dets, [(agent, login)])
            author_id = (
                bot_id(None, login=login, agents=agents) if bot else ids.engineer_id(login=login)
            )
            if bot and (dets or (agent is not None and agent.kind == "ai_agent")):
                # An AI agent's PR: credit its human (co-author, assignee, merger), if any.
                human, how = _human_of(pr, dets, rules, agents)
                credit[how] += 1
                if human is not None:
                    name_, email_, login = human
                    author_id = ids.engineer_id(email_, login, name_)
                    bot, display = False, name_ or login
            reviews = pr["reviews"]
            first_review = None
            if reviews:
                times = [
                    _date(t, where, "reviews.submittedAt")
                    for who, rbot, t in reviews
                    if t and who != pr["author"][0] and not rbot
                ]
                first_review = min(times) if times else None
            pr_id = f"{name}#{pr['number']}"
            created = _date(pr["created"], where, "createdAt")
            row = {
                "id": pr_id,
                "author_id": author_id,
                "repo": name,
                "created_date": created,
                "merged_date": _date(pr["merged"], where, "mergedAt"),
                "closed_date": _date(pr["closed"], where, "closedAt"),
                "first_review_date": first_review,
                "additions": pr["additions"],
                "deletions": pr["deletions"],
                "ai_assisted": 1.0 if dets else 0.0,
                "ai_tool": attribution.tools_of(dets),
                "reverted": False,
                "title": pr["title"],
                "number": pr["number"],
                "is_bot_author": bot,
                "created_source": "github",
                "source": "github",
            }
            rows.append(row)
            by_number[pr["number"]] = row
            # a revert PR closed without merging reverted nothing
            row["_reverts"] = [
                int(r.group("n"))
                for r in _REVERTS.finditer(pr["body"])
                if r.group("repo") in (None, name) and row["merged_date"] is not None
            ]
            ev_rows += evidence_rows(dets, pr_id, "github")
            p = people.setdefault(
                author_id,
                {
                    "engineer_id": author_id,
                    "name": display,
                    "login": login,
                    "first_seen": created,
                    "is_bot": bot,
                },
            )
            p["first_seen"] = min(p["first_seen"], created)
        for row in rows:
            for n in row.pop("_reverts", []):
                if n in by_number and by_number[n] is not row:
                    by_number[n]["reverted"] = True
        for f in sorted(missing_optional):
            notes.append(f"{path.name}: no '{f}' field, so {OPTIONAL_GH.get(f, 'it is unused')}")
        if sum(credit.values()):
            hint = (
                ""
                if has_credit_fields or not credit["none"]
                else "; export the assignees and mergedBy fields to credit more of them"
            )
            notes.append(
                f"{path.name}: {sum(credit.values())} PR(s) opened by AI agents: "
                f"{credit['co-author']} credited to a human co-author, {credit['assignee']} to "
                f"the assignee, {credit['merger']} to the human who merged them, "
                f"{credit['none']} with no human to credit (kept as bot PRs, never "
                f"engineers){hint}"
            )
    return Import(
        pull_requests=frame(rows, PR_SCHEMA),
        people=frame(list(people.values()), PEOPLE_SCHEMA),
        ai_evidence=frame(ev_rows, EVIDENCE_SCHEMA),
        notes=notes,
        sources=[f"github:{p}" for p in files],
    )


def unjoined_exports(prs: pl.DataFrame) -> list[str]:
    """Notes for ``gh`` exports whose PRs match none of the PRs read from git.

    Usually the same project under two names (a clone without a GitHub ``origin`` is named
    after its folder), so every PR would be counted twice.
    """
    if not prs.height or "source" not in prs.columns:
        return []
    git = prs.filter(pl.col("source") == "git")
    gh = prs.filter(pl.col("source") == "github")
    if not git.height or not gh.height:
        return []
    git_ids = set(git["id"].to_list())
    git_repos = sorted(set(git["repo"].drop_nulls().to_list()))
    keys = {
        r: set(zip(g["number"].to_list(), g["title"].to_list(), strict=True))
        for (r,), g in git.group_by("repo")
    }
    notes = []
    for (repo,), g in gh.group_by("repo", maintain_order=True):
        if git_ids & set(g["id"].to_list()):
            continue
        mine = set(zip(g["number"].to_list(), g["title"].to_list(), strict=True))
        same = max(((len(mine & k), r) for r, k in keys.items()), default=(0, None))
        msg = (
            f"the GitHub export of {repo}: none of its {g.height} PR(s) match a PR read from "
            f"git (git repositories: {', '.join(git_repos)})"
        )
        if same[0]:
            msg += (
                f"; {same[0]} of them have the number and title of a PR of git repository "
                f"{same[1]}: probably the same project, now counted twice. Name the git "
                f"repository {repo} with --repo-name (Python: read_git(repo_names=[...]))"
            )
        else:
            msg += (
                "; if it is the same project as one of them, name that repository with "
                "--repo-name, or its PRs are counted twice"
            )
        notes.append(msg)
    return notes
