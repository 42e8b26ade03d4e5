"""Read one DevLake connection into an :class:`~certkit.connectors.base.Import`.

The rules per source (merged, line counts, bots, quoted text) are in
:mod:`certkit.connectors.devlake_rows`; the schema-aware SELECTs in
:mod:`certkit.connectors.devlake_read`.
"""

from __future__ import annotations

import difflib
import warnings
from collections import Counter
from datetime import date, datetime, timedelta

import polars as pl

from certkit.connectors import devlake_read as dr
from certkit.connectors import devlake_reverts
from certkit.connectors.attribution import (
    Detection,
    Evidence,
    Rules,
    add_agent_detections,
    coauthors,
    detect,
    parse_trailers,
    tools_of,
)
from certkit.connectors.base import (
    EVIDENCE_SCHEMA,
    INCIDENT_SCHEMA,
    LINKED_SCHEMA,
    PEOPLE_SCHEMA,
    PR_SCHEMA,
    Import,
    evidence_rows,
    frame,
)
from certkit.connectors.devlake_rows import (
    UNKNOWN_AUTHOR,
    count_bot_pr,
    line_counts,
    link_incidents,
    merge_state,
    pr_key,
    source_of,
    unknown_author,
    unquote_text,
)
from certkit.connectors.git import COMMIT_SCHEMA
from certkit.connectors.git_bot_notes import bot_note
from certkit.connectors.identity import Agents, Identities, bot_id, is_bot
from certkit.errors import CertkitError, CertkitWarning

PR_OUT = {**PR_SCHEMA, "status": pl.String, "devlake_id": pl.String}
ISSUE_OUT = {**LINKED_SCHEMA, "key": pl.String, "source_tool": pl.String}
INCIDENT_OUT = {**INCIDENT_SCHEMA, "key": pl.String, "source_tool": pl.String}
# incident -> deployment; before v1.0.2 DevLake's DORA plugin wrote project_issue_metrics.
RELATIONS = ("project_incident_deployment_relationships", "project_issue_metrics")


def read_connection(
    conn,
    dialect: str,
    since: date | None,
    repos: list[str] | None,
    project: str | None,
    ids: Identities,
    rules: Rules,
    uri: str,
    agents: Agents | None = None,
) -> Import:
    """The whole import from an open read-only DB-API connection (see ``read_devlake``).

    Parameters
    ----------
    conn, dialect
        A psycopg or pymysql connection and ``"postgresql"`` / ``"mysql"``.
    since, repos, project, ids, rules
        As for :func:`~certkit.connectors.devlake.read_devlake` (parsed).
    uri
        The URI, for the provenance (shown without user and password).
    agents
        Coding agents whose account or co-author line is AI evidence (``None``: none).
    """
    from certkit.connectors.devlake import safe_uri

    q, s = dr.lake_schema(conn, dialect)
    notes = dr.lake_notes(s)
    for note in notes:  # not a side note: most AI evidence is in the commits (trial R, R7)
        if "AI evidence" in note:
            warnings.warn(
                f"{note}. AI-assisted PRs are then found from what remains (PR bodies, "
                "branches, labels), far fewer than the commits show: the AI share is a much "
                "lower bound than usual",
                CertkitWarning,
                stacklevel=4,
            )
    params: dict = {}
    where = ["1 = 1"]
    if since:
        where.append("pr.created_date >= %(since)s")
        params["since"] = datetime(since.year, since.month, since.day)
    scope = _scope(s, q, repos, project, notes)
    if scope is not None:
        where.append("pr.base_repo_id IN " + dr.in_list(params, "repo", scope["repos"]))
    w = " AND ".join(where)

    prs = _unique(q(dr.pr_query(s, w), params), "id")
    if not prs:
        raise CertkitError(nothing_read(s, q, since, repos, project, scope))
    reviews = {}
    if sql := dr.first_review_query(s, w):
        reviews = {r["pull_request_id"]: dr.to_dt(r["first_review_date"]) for r in q(sql, params)}
    metrics = {}
    if sql := dr.pr_metrics_query(s, w):
        metrics = {r["pull_request_id"]: r for r in q(sql, params)}
    pr_commits = dr.rows_by_pr(q, dr.pr_commits_query(s, w), params)
    labels = dr.rows_by_pr(q, dr.labels_query(s, w), params, "label_name")
    teams: dict[str, str] = {}
    if s.has("team_users", "team_id", "user_id") and s.has("teams", "id", "name"):
        for r in q(
            "SELECT tu.user_id, t.name FROM team_users tu JOIN teams t ON t.id = tu.team_id"
        ):
            teams.setdefault(r["user_id"], r["name"])
    merge_dates = merge_commit_dates(s, q, prs)

    rows, ev_rows, commit_rows, people, raw_lines = [], [], [], {}, {}
    bot_prs: dict[str, list[int]] = {}  # unlisted bot -> [its PRs, those people co-author]
    bot_people: dict[str, Counter] = {}
    undated = dropped = 0
    no_created: dict[str, int] = {}
    for pr in prs:
        for k in ("created_date", "merged_date", "closed_date"):
            pr[k] = dr.to_dt(pr[k])
        if pr["created_date"] is None:  # cannot be placed in time
            src = source_of(pr["id"])
            no_created[src] = no_created.get(src, 0) + 1
            continue
        eid, bot, email, login = author_of(pr, ids)
        repo, pr_id, number = pr_key(pr)
        state, merged = merge_state(pr, merge_dates.get(pr["merge_commit_sha"] or ""))
        undated += state == "merged" and merged is None
        dropped += state != "merged" and pr["merged_date"] is not None
        dets = pr_detections(pr, login, bot, labels.get(pr["id"], []), rules, agents)
        ev_rows += evidence_rows(dets, pr_id, "devlake")
        for c in pr_commits.get(pr["id"], []):
            cdets, crow = _commit(c, pr_id, repo, ids, rules, agents)
            dets += cdets
            ev_rows += evidence_rows(cdets, pr_id, "devlake", sha=c["sha"])
            commit_rows.append(crow)
        if bot and not (login and agents is not None and agents.match(None, None, login)):
            count_bot_pr(pr, eid, pr_commits.get(pr["id"], []), ids, rules, bot_prs, bot_people)
        m = metrics.get(pr["id"], {})
        first_review = reviews.get(pr["id"]) or dr.to_dt(m.get("first_comment_date"))
        if first_review is None and m.get("pr_pickup_time") is not None:
            # DORA's pickup time: minutes from PR creation to the first comment/review.
            first_review = pr["created_date"] + timedelta(minutes=float(m["pr_pickup_time"]))
        raw_lines[pr_id] = (pr["additions"], pr["deletions"])
        rows.append(
            {
                "id": pr_id,
                "author_id": eid,
                "repo": repo,
                "created_date": pr["created_date"],
                "merged_date": merged,
                "closed_date": pr["closed_date"],
                "first_review_date": first_review,
                "ai_assisted": 1.0 if dets else 0.0,
                "ai_tool": tools_of(dets),
                "reverted": None,  # devlake_reverts.mark reads them from titles and bodies
                "title": unquote_text(pr["title"]),
                "number": number,
                "is_bot_author": bot,
                "created_source": "devlake",
                "source": "devlake",
                "status": state,
                "devlake_id": pr["id"],
                "_source": source_of(pr["id"]),
                "_merge_sha": pr["merge_commit_sha"],
                "_deploy": m.get("deployment_commit_id"),
            }
        )
        add_person(people, eid, pr, email, login, teams, bot, pr["created_date"])
    notes += bot_note("DevLake", bot_prs, bot_people)  # as the git import says it
    line_counts(rows, raw_lines, notes)
    notes += devlake_reverts.mark(rows, {pr["id"]: pr for pr in prs}, pr_commits)
    if no_created:
        per = ", ".join(f"{k} {v}" for k, v in sorted(no_created.items()))
        notes.append(
            f"DevLake: {sum(no_created.values())} PR(s) without created_date skipped ({per})"
        )
    if undated:
        notes.append(
            f"DevLake: {undated} PR(s) have status MERGED but no merged/closed date nor a "
            "dated merge commit (Bitbucket Cloud dates merges only from the merge commit): "
            "merged_date left empty"
        )
    if dropped:
        notes.append(
            f"DevLake: {dropped} PR(s) have a merged_date but status CLOSED/OPEN (Azure DevOps "
            "sets it for abandoned PRs): not counted as merged"
        )
    defects, incidents = _issues(s, q, since, scope, rows, notes)
    for r in rows:
        for k in ("_source", "_merge_sha", "_deploy"):
            r.pop(k, None)
    return Import(
        pull_requests=frame(rows, PR_OUT),
        defects=frame(defects, ISSUE_OUT),
        incidents=frame(incidents, INCIDENT_OUT),
        people=frame(list(people.values()), PEOPLE_SCHEMA),
        commits=frame(commit_rows, COMMIT_SCHEMA),
        ai_evidence=frame(ev_rows, EVIDENCE_SCHEMA),
        notes=notes,
        sources=[f"devlake:{safe_uri(uri, user=False)}"],
    )


def author_of(pr: dict, ids: Identities) -> tuple[str, bool, str | None, str | None]:
    """``(engineer_id, is_bot, email, login)`` of a PR row of :func:`devlake_read.pr_query`.

    Unknown authors (DevLake's placeholder account) and bots get bot ids; people are resolved
    through the identity file, else DevLake's user id, login or account id.
    """
    login = pr["user_name"] or pr["author_name"]
    email = pr["email"] or pr["user_email"]
    nobody = unknown_author(pr["author_id"], pr["author_name"], pr["user_name"])
    bot = nobody or is_bot(pr["author_name"], email, login)
    if nobody:
        eid = UNKNOWN_AUTHOR
    elif bot:
        eid = bot_id(pr["author_name"], email, login)
    else:
        eid = ids.resolve(email, login, pr["full_name"] or pr["author_name"])
        eid = eid or pr["user_id"] or login or pr["author_id"]
    return eid, bot, email, login


def _unique(rows: list[dict], key: str) -> list[dict]:
    seen, out = set(), []
    for r in rows:
        if r[key] not in seen:
            seen.add(r[key])
            out.append(r)
    return out


def add_person(
    people: dict, eid: str, row: dict, email, login, teams: dict, bot: bool, seen
) -> None:
    """Record engineer ``eid`` in ``people`` (the import's ``people`` rows) from a PR author
    row. Name, e-mail, login and team come from the row seen first (``seen``; ties: the
    smallest ``author_id``), whatever order the rows arrive in, so the import (one row per
    PR, in database order) and the pushdown (one row per author tuple) agree;
    ``first_seen`` is that earliest ``seen``."""
    rank = (seen is None, seen or datetime.min, row["author_id"] or "")
    if eid in people and people[eid]["_rank"] <= rank:
        return
    people[eid] = {
        "engineer_id": eid,
        "name": None
        if eid == UNKNOWN_AUTHOR
        else (row["full_name"] or row["user_name2"] or row["author_name"] or None),
        "email": email,
        "login": login or None,
        "team": teams.get(row["user_id"]),
        "first_seen": seen,
        "is_bot": bot,
        "_rank": rank,  # not a column (``frame`` keeps the schema's)
    }


def pr_detections(
    pr: dict,
    login: str | None,
    bot: bool,
    labels: list[str],
    rules: Rules,
    agents: Agents | None = None,
) -> list[Detection]:
    """AI detections of a PR row's own evidence (author login, body, head branch, labels);
    ``login`` and ``bot`` as :func:`author_of` gives them. ``agents``: a listed coding agent
    as the author or a co-author counts as AI evidence, as in a git import (trial AA:
    codeflash-ai[bot]'s co-author line was AI in git, not from DevLake)."""
    body = unquote_text(pr["description"]) or ""
    co = coauthors(parse_trailers(body))  # squash merges use the body
    dets = detect(
        Evidence(
            logins=[(login, bot)] if login else [],
            coauthors=co,
            messages=[body],
            branch=pr["head_ref"],
            labels=labels,
        ),
        rules,
    )
    if agents is None:
        return dets
    found = [(agents.match(None, None, login), login)] if login else []
    return add_agent_detections(dets, found + [(agents.match(n, e), e.lower()) for n, e in co])


def commit_detections(c: dict, rules: Rules, agents: Agents | None = None) -> list[Detection]:
    """AI detections of one PR commit row of :func:`devlake_read.pr_commits_query`
    (``agents``: as for :func:`pr_detections`)."""
    return _commit_detections(c, rules, agents)[0]


def _commit_detections(c: dict, rules: Rules, agents: Agents | None = None):
    name = c["author_name"] or c["commit_author_name"]
    email = c["author_email"] or c["commit_author_email"]
    message = unquote_text(c["message"]) or ""
    trailers = parse_trailers(message)
    co = coauthors(trailers)
    dets = detect(
        Evidence(
            emails=sorted({(e or "").lower() for e in (email, c["committer_email"])} - {""}),
            names=[name] if name else [],
            coauthors=co,
            messages=[message],
        ),
        rules,
    )
    if agents is not None:
        pairs = [(name, email), *co]
        add_agent_detections(dets, [(agents.match(n, e), (e or "").lower()) for n, e in pairs])
    return dets, name, email, message, trailers


def _commit(
    c: dict, pr_id: str, repo: str, ids: Identities, rules: Rules, agents: Agents | None = None
):
    """AI detections and the ``commits`` row of one PR commit (``commits`` or PR fallback)."""
    dets, name, email, message, trailers = _commit_detections(c, rules, agents)
    bot = is_bot(name, email)
    row = {
        "sha": c["sha"],
        "repo": repo,
        "author_id": bot_id(name, email) if bot else ids.resolve(email, None, name) or email,
        "author_name": name,
        "author_email": email,
        "committer_email": c["committer_email"],
        "authored_date": dr.to_dt(c["authored_date"] or c["commit_authored_date"]),
        "committed_date": dr.to_dt(c["committed_date"]),
        "additions": c["additions"],
        "deletions": c["deletions"],
        "subject": message.strip().split("\n", 1)[0] if message else None,
        "trailers": "\n".join(f"{k}: {v}" for k, v in trailers) or None,
        "pr_id": pr_id,
        "ai_tool": tools_of(dets),
        "is_bot": bot,
    }
    return dets, row


def merge_commit_dates(s: dr.Schema, q, prs: list[dict]) -> dict[str, datetime | None]:
    """Dates of merge commits of MERGED PRs without merged/closed date (Bitbucket Cloud)."""
    shas = {
        p["merge_commit_sha"]
        for p in prs
        if str(p.get("status") or "").upper() == "MERGED"
        and dr.to_dt(p["merged_date"]) is None
        and dr.to_dt(p["closed_date"]) is None
        and p["merge_commit_sha"]
    }
    if not shas or not s.has("commits", "sha", "committed_date"):
        return {}
    params: dict = {}
    sql = f"SELECT sha, committed_date FROM commits WHERE sha IN {dr.in_list(params, 's', shas)}"
    return {r["sha"]: dr.to_dt(r["committed_date"]) for r in q(sql, params)}


def _scope(s: dr.Schema, q, repos, project, notes) -> dict | None:
    """Repository, board and CI/CD scope ids of ``--repo`` / ``--project`` (None: no scope).

    ``--repo`` names are compared case-insensitively on every backend (GitHub's are).
    """
    if not repos and not project:
        return None
    out = {"repos": set(), "boards": set(), "cicd": set(), "project": project}
    out |= {"named": set(), "project_repos": set()}
    if repos:
        if not s.has("repos", "id", "name"):
            raise CertkitError("DevLake: cannot filter by repository without the repos table")
        params: dict = {}
        names = dr.in_list(params, "n", [r.lower() for r in repos])
        out["named"] = {
            r["id"] for r in q(f"SELECT id FROM repos WHERE LOWER(name) IN {names}", params)
        }
        out["repos"] = set(out["named"])
    if project:
        if not s.has("project_mapping", "project_name", "table", "row_id"):
            raise CertkitError(
                "DevLake: --project needs the project_mapping table (DevLake v0.15 or later)"
            )
        # without regard to case on every backend, as --repo (MariaDB's collation ignored
        # it, PostgreSQL did not: trial R)
        rows = q(
            f"SELECT {s.q('table')} AS t, row_id FROM project_mapping "
            "WHERE LOWER(project_name) = LOWER(%(p)s)",
            {"p": project},
        )
        if not rows:
            known = sorted(
                r["n"] for r in q("SELECT DISTINCT project_name AS n FROM project_mapping")
            )
            listed = ", ".join(map(repr, known[:20])) + (" ..." if len(known) > 20 else "")
            raise CertkitError(
                f"DevLake: no project named {project!r} in project_mapping (projects: "
                f"{listed or 'none'})"
            )
        kinds = {"repos": "repos", "boards": "boards", "cicd_scopes": "cicd"}
        found = {k: {r["row_id"] for r in rows if r["t"] == t} for t, k in kinds.items()}
        out["project_repos"] = found["repos"]
        out["repos"] = found["repos"] if not repos else out["repos"] & found["repos"]
        out["boards"] |= found["boards"]
        out["cicd"] |= found["cicd"]
    if out["repos"] and s.has("board_repos", "board_id", "repo_id"):
        params = {}
        sql = f"SELECT board_id FROM board_repos WHERE repo_id IN {dr.in_list(params, 'r', out['repos'])}"
        out["boards"] |= {r["board_id"] for r in q(sql, params)}
    if not s.has("board_issues", "board_id", "issue_id"):
        notes.append("DevLake: no board_issues table: defects/incidents cannot be scoped")
    return out


def nothing_read(s: dr.Schema, q, since, repos, project, scope) -> str:
    """Why no pull request was read, naming the option (``--repo``, ``--project``,
    ``--since``) that selected none and what the database holds (repositories, the last PR)."""
    names: dict[str, str] = {}
    if s.has("repos", "id", "name"):
        names = {r["id"]: str(r["name"]) for r in q("SELECT id, name FROM repos") if r["name"]}

    def listing(ids=None) -> str:
        shown = sorted(names[i] for i in (names if ids is None else ids) if i in names)
        more = f", ... ({len(shown)} in all)" if len(shown) > 6 else ""
        return ", ".join(shown[:6]) + more if shown else "none"

    opts = " ".join(
        [f"--repo {r}" for r in repos or []] + ([f"--project {project}"] if project else [])
    )
    if scope is not None and not scope["repos"]:
        if repos and not scope["named"]:
            lower = {n.lower(): n for n in names.values()}
            close = [
                lower[m] for r in repos for m in difflib.get_close_matches(r.lower(), lower, n=2)
            ]
            guess = f"closest: {', '.join(close)}; " if close else ""
            return (
                f"DevLake: --repo {', '.join(repos)} matches no repository ({guess}names "
                f"compared case-insensitively); repositories in DevLake: {listing()}"
            )
        if repos:
            return (
                f"DevLake: --repo {', '.join(repos)} is not a repository of --project "
                f"{project}; its repositories: {listing(scope['project_repos'])}"
            )
        return (
            f"DevLake: --project {project} maps no repository in project_mapping (only boards "
            f"or CI/CD scopes); repositories in DevLake: {listing()}"
        )
    params: dict = {}
    where = "1 = 1"
    if scope is not None:
        where = "pr.base_repo_id IN " + dr.in_list(params, "repo", scope["repos"])
    sql = f"SELECT MAX(pr.created_date) AS last FROM pull_requests pr WHERE {where}"
    last = dr.to_dt(q(sql, params)[0]["last"])
    within = f" (with {opts})" if opts else ""
    if since and last is not None:
        return (
            f"DevLake: no pull request created on or after --since {since.isoformat()}"
            f"{within}; the last one was created on {last:%Y-%m-%d}"
        )
    if scope is not None:
        return f"DevLake: no pull requests in the repositories of {opts}: {listing(scope['repos'])}"
    return "DevLake: pull_requests has no rows (the domain layer is filled after a pipeline run)"


def _issue_scope(s: dr.Schema, scope: dict | None, params: dict, table: str) -> str:
    """SQL condition keeping the rows of ``table`` (issues/incidents, alias ``i``) in scope."""
    if scope is None:
        return ""
    parts = []
    if s.has("board_issues", "board_id", "issue_id"):
        boards = dr.in_list(params, "b", scope["boards"])
        parts.append(f"i.id IN (SELECT issue_id FROM board_issues WHERE board_id IN {boards})")
    if s.has(table, "table", "scope_id"):
        t = f"i.{s.q('table')}"
        for kind, key in (("repos", "repos"), ("boards", "boards"), ("cicd_scopes", "cicd")):
            vals = dr.in_list(params, f"{key}_", scope[key])
            parts.append(f"({t} = '{kind}' AND i.scope_id IN {vals})")
    rel = next((t for t in RELATIONS if s.has(t, "id", "project_name")), None)
    if scope["project"] and rel:
        params["proj"] = scope["project"]
        parts.append(f"i.id IN (SELECT id FROM {rel} WHERE project_name = %(proj)s)")
    return " AND (" + (" OR ".join(parts) or "1 = 0") + ")"


def _issues(s: dr.Schema, q, since, scope, prs: list[dict], notes: list[str]):
    """Defects (``issues`` of type BUG) and incidents (``incidents``, then issue INCIDENTs)."""
    key_to_id = {p["devlake_id"]: p["id"] for p in prs}
    defects, incidents = [], []
    seen: set[str] = set()
    if s.has("incidents", "id"):
        params: dict = {"since": since and datetime(since.year, since.month, since.day)}
        cond = " AND i.created_date >= %(since)s" if since else ""
        cond += _issue_scope(s, scope, params, "incidents")
        for r in q(dr.incidents_query(s, cond), params):
            seen.add(r["id"])
            incidents.append(_issue_row(r, r["incident_key"], None))
    if s.has("issues", "id", "type"):
        params = {"since": since and datetime(since.year, since.month, since.day)}
        cond = " AND i.created_date >= %(since)s" if since else ""
        cond += _issue_scope(s, scope, params, "issues")
        links = _issue_links(s, q)
        for r in q(dr.issues_query(s, cond), params):
            if r["id"] in seen:  # DevLake copies INCIDENT issues into `incidents`, same id
                continue
            row = _issue_row(r, r["issue_key"], key_to_id.get(links.get(r["id"], "")))
            (defects if r["type"] == "BUG" else incidents).append(row)
    if incidents:
        _link(s, q, incidents, prs, notes)
    keep = {p["id"] for p in prs}
    for row in defects + incidents:
        if row["pr_id"] not in keep:
            row["pr_id"] = None
    return defects, incidents


def _issue_row(r: dict, key, pr_id) -> dict:
    return {
        "id": r["id"],
        "key": None if key is None else str(key),
        "created_date": dr.to_dt(r["created_date"]),
        "resolution_date": dr.to_dt(r["resolution_date"]),
        # PagerDuty fills only urgency (high/low); Jira priority; GitLab/Opsgenie severity.
        "severity": r["severity"] or r["priority"] or r["urgency"] or None,
        "pr_id": pr_id,
        "service": r["component"] or None,
        "source_tool": source_of(r["id"]),
    }


def _issue_links(s: dr.Schema, q) -> dict[str, str]:
    if not s.has("pull_request_issues", "pull_request_id", "issue_id"):
        return {}
    out: dict[str, str] = {}
    for r in q("SELECT issue_id, pull_request_id FROM pull_request_issues"):
        if r["issue_id"] not in out or r["pull_request_id"] < out[r["issue_id"]]:
            out[r["issue_id"]] = r["pull_request_id"]
    return out


def _link(s: dr.Schema, q, incidents: list[dict], prs: list[dict], notes: list[str]) -> None:
    """incident -> deployment (DevLake's DORA relationships) -> deployment commits -> PRs."""
    rel = next((t for t in RELATIONS if s.has(t, "id", "deployment_id")), None)
    rels: dict[str, list[str]] = {}
    deploy_commits: dict[str, list[dict]] = {}
    if rel and s.has("cicd_deployment_commits", "id", "cicd_deployment_id", "commit_sha"):
        for r in q(f"SELECT id, deployment_id FROM {rel} WHERE deployment_id IS NOT NULL"):
            rels.setdefault(r["id"], []).append(r["deployment_id"])
        wanted = {d for ds in rels.values() for d in ds}
        if wanted:
            params: dict = {}
            sql = (
                "SELECT id, cicd_deployment_id, commit_sha FROM cicd_deployment_commits "
                f"WHERE cicd_deployment_id IN {dr.in_list(params, 'd', wanted)}"
            )
            for r in q(sql, params):
                deploy_commits.setdefault(r["cicd_deployment_id"], []).append(r)
    elif not rel:
        notes.append(
            "DevLake: no project_incident_deployment_relationships (DORA plugin): incidents "
            "are linked to PRs only through pull_request_issues"
        )
    merged = [p for p in prs if p["status"] == "merged"]
    by_sha: dict[str, list[dict]] = {}
    by_deploy: dict[str, list[dict]] = {}
    for p in merged:
        if p["_merge_sha"]:
            by_sha.setdefault(p["_merge_sha"], []).append(p)
        if p["_deploy"]:
            by_deploy.setdefault(p["_deploy"], []).append(p)
    link_incidents(incidents, rels, deploy_commits, by_sha, by_deploy, notes, rel)


__all__ = [
    "author_of",
    "commit_detections",
    "nothing_read",
    "pr_detections",
    "read_connection",
]
