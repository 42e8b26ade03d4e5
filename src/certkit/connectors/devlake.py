"""Read an Apache DevLake database (domain layer) into certkit tables, read-only.

``read_devlake("postgresql://user:pass@host:5432/lake")`` (or ``mysql://...`` with the optional
``pymysql`` driver, ``pip install 'certkit[mysql]'``; MariaDB works too) runs a handful of SELECTs in a read-only transaction, with the
filtering (date window, repositories) and aggregation (first review) done in SQL:

- ``pull_requests`` (+ ``repos`` for names): PR id ``<repo name>#<pull_request_key>`` (the same
  id the git and GitHub connectors use), dates, line counts, head branch, body;
- first review: earliest ``pull_request_comments`` row by someone other than the author and not
  a ``[bot]`` account;
- AI detection: ``pull_request_commits`` + ``commits`` (author e-mails, trailers in messages),
  PR description, head branch, ``pull_request_labels``, author account;
- identities: ``accounts`` -> ``user_accounts`` -> ``users`` (the cross-tool person) and
  ``team_users``/``teams`` for the team; an identity file can override;
- defects: ``issues`` with ``type = 'BUG'``; incidents: ``issues`` with ``type = 'INCIDENT'``
  and the ``incidents`` table when present. Issues link to PRs via ``pull_request_issues``;
  incidents in ``incidents`` link via ``project_incident_deployment_relationships`` ->
  ``cicd_deployment_commits`` -> the PR whose merge commit was deployed (an approximation: the
  deployment's head PR is blamed).

Tables missing from an older DevLake are skipped with a note.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import parse_qs, parse_qsl, unquote, urlparse

from certkit.connectors.attribution import (
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
    INCIDENT_SCHEMA,
    LINKED_SCHEMA,
    PEOPLE_SCHEMA,
    PR_SCHEMA,
    Import,
    evidence_rows,
    frame,
    utc_naive,
)
from certkit.connectors.identity import Identities, bot_id, is_bot, read_identities
from certkit.errors import CertkitError

_PRS = """
SELECT pr.id, pr.pull_request_key, pr.title, pr.description, pr.author_id, pr.author_name,
       pr.created_date, pr.merged_date, pr.closed_date, pr.additions, pr.deletions,
       pr.head_ref, pr.merge_commit_sha, COALESCE(r.name, pr.base_repo_id) AS repo_name,
       a.user_name, a.email, a.full_name, ua.user_id, u.email AS user_email, u.name AS user_name2
FROM pull_requests pr
LEFT JOIN repos r ON r.id = pr.base_repo_id
LEFT JOIN accounts a ON a.id = pr.author_id
LEFT JOIN user_accounts ua ON ua.account_id = pr.author_id
LEFT JOIN users u ON u.id = ua.user_id
WHERE {where}
"""
_FIRST_REVIEW = """
SELECT c.pull_request_id, MIN(c.created_date) AS first_review_date
FROM pull_request_comments c
JOIN pull_requests pr ON pr.id = c.pull_request_id
LEFT JOIN accounts a ON a.id = c.account_id
WHERE {where} AND c.account_id IS NOT NULL
  AND (pr.author_id IS NULL OR c.account_id <> pr.author_id)
  AND (a.user_name IS NULL OR a.user_name NOT LIKE '%%[bot]')
GROUP BY c.pull_request_id
"""
_PR_COMMITS = """
SELECT prc.pull_request_id, c.sha, c.author_name, c.author_email, c.committer_email, c.message
FROM pull_request_commits prc
JOIN pull_requests pr ON pr.id = prc.pull_request_id
JOIN commits c ON c.sha = prc.commit_sha
WHERE {where}
"""
_LABELS = """
SELECT l.pull_request_id, l.label_name
FROM pull_request_labels l JOIN pull_requests pr ON pr.id = l.pull_request_id
WHERE {where}
"""
_TEAMS = """
SELECT tu.user_id, t.name FROM team_users tu JOIN teams t ON t.id = tu.team_id
"""
_ISSUES = """
SELECT i.id, i.issue_key, i.type, i.created_date, i.resolution_date, i.priority, i.severity,
       i.component, MIN(pri.pull_request_id) AS pull_request_id
FROM issues i
LEFT JOIN pull_request_issues pri ON pri.issue_id = i.id
WHERE i.type IN ('BUG', 'INCIDENT') {since}
GROUP BY i.id, i.issue_key, i.type, i.created_date, i.resolution_date, i.priority, i.severity,
         i.component
"""
_INCIDENTS = """
SELECT inc.id, inc.incident_key, inc.created_date, inc.resolution_date, inc.priority,
       inc.severity, inc.urgency, inc.component, MIN(pr.id) AS pull_request_id
FROM incidents inc
LEFT JOIN project_incident_deployment_relationships rel ON rel.id = inc.id
LEFT JOIN cicd_deployment_commits dc ON dc.cicd_deployment_id = rel.deployment_id
LEFT JOIN pull_requests pr ON pr.merge_commit_sha = dc.commit_sha AND dc.commit_sha <> ''
WHERE 1 = 1 {since}
GROUP BY inc.id, inc.incident_key, inc.created_date, inc.resolution_date, inc.priority,
         inc.severity, inc.urgency, inc.component
"""
REQUIRED_TABLES = ("pull_requests",)
OPTIONAL_TABLES = (
    "repos",
    "accounts",
    "user_accounts",
    "users",
    "pull_request_comments",
    "pull_request_commits",
    "commits",
    "pull_request_labels",
    "team_users",
    "teams",
    "issues",
    "pull_request_issues",
    "incidents",
    "project_incident_deployment_relationships",
    "cicd_deployment_commits",
)


def safe_uri(uri: str, *, user: bool = True) -> str:
    """``uri`` with the password (in the user part or a ``password=`` option) shown as ``***``.

    ``user=False`` also drops the user name and port (the provenance written to import.json).
    """
    u = urlparse(uri)
    host = u.netloc.rsplit("@", 1)[-1]
    if not user:
        netloc = u.hostname or ""
    elif u.password is not None:
        netloc = f"{u.username}:***@{host}"
    else:
        netloc = u.netloc
    query = "&".join(
        f"{k}=***" if k.lower() == "password" else f"{k}={v}"
        for k, v in parse_qsl(u.query, keep_blank_values=True)
    )
    return f"{u.scheme}://{netloc}{u.path}" + (f"?{query}" if query else "")


def _connect(uri: str):
    """A read-only DB-API connection for a ``postgresql://`` or ``mysql://`` URI."""
    u = urlparse(uri)
    scheme = u.scheme.split("+")[0]
    if scheme in ("postgresql", "postgres"):
        import psycopg

        try:
            conn = psycopg.connect(uri.replace("postgresql+psycopg://", "postgresql://"))
        except psycopg.Error as exc:
            raise CertkitError(
                f"DevLake database {safe_uri(uri)}: cannot connect ({_first_line(exc)})"
            ) from None
        conn.read_only = True
        return conn, "postgresql"
    if scheme in ("mysql", "mariadb"):
        return _connect_mysql(uri, u), "mysql"
    raise CertkitError(
        "DevLake URI must start with postgresql:// or mysql://, "
        f"not {u.scheme + '://' if u.scheme else safe_uri(uri)!r}"
    )


def _connect_mysql(uri: str, u):
    """pymysql connection in a read-only session; ``?unix_socket=`` and ``?charset=`` honoured.

    DevLake's own ``DB_URL`` query options (``parseTime``, ``loc``) are Go driver settings and
    are ignored here. Values are read as the server returns them: DevLake writes UTC
    (``loc=UTC``), so ``DATETIME`` columns are taken as UTC.
    """
    try:
        import pymysql
    except ImportError:
        raise CertkitError(
            "DevLake on MySQL needs the optional pymysql driver: pip install 'certkit[mysql]' "
            "(or point certkit at a PostgreSQL DevLake)"
        ) from None
    q = {k.lower(): v[-1] for k, v in parse_qs(u.query).items()}
    database = unquote(u.path.lstrip("/"))
    if not database:
        raise CertkitError(
            f"DevLake URI {safe_uri(uri)} names no database: use mysql://user:password@host:3306/lake"
        )
    try:
        port = u.port or 3306
    except ValueError:
        raise CertkitError(f"DevLake URI {safe_uri(uri)}: the port is not a number") from None
    kw = {
        "host": u.hostname or "localhost",
        "port": port,
        "user": unquote(u.username or ""),
        "password": unquote(u.password or ""),
        "database": database,
        "charset": q.get("charset", "utf8mb4"),
        "connect_timeout": _int_option(uri, q, "connect_timeout", 10),
        # Every transaction of this session is read-only (MySQL >= 5.6.5, MariaDB >= 10.0).
        "init_command": "SET SESSION TRANSACTION READ ONLY",
    }
    if "unix_socket" in q:
        kw["unix_socket"] = q["unix_socket"]
    try:
        return pymysql.connect(**kw)
    except pymysql.Error as exc:
        raise CertkitError(
            f"DevLake database {safe_uri(uri)}: cannot connect ({_first_line(exc)})"
        ) from None


def _int_option(uri: str, q: dict, name: str, default: int) -> int:
    try:
        return int(q.get(name, default))
    except ValueError:
        raise CertkitError(
            f"DevLake URI {safe_uri(uri)}: option {name} must be a whole number"
        ) from None


def _first_line(exc: Exception) -> str:
    args = getattr(exc, "args", ())
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        text = f"{args[1]} [MySQL error {args[0]}]"  # pymysql: (code, message)
    else:
        text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _QueryError(Exception):
    """A database error while reading; ``read_devlake`` adds the URI and re-raises."""


def _query(conn, sql: str, params: dict) -> list[dict]:
    with conn.cursor() as cur:
        try:
            cur.execute(sql, params)
        except Exception as exc:
            raise _QueryError(_first_line(exc)) from None
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _tables(conn, dialect: str) -> set[str]:
    schema = "current_schema()" if dialect == "postgresql" else "database()"
    rows = _query(
        conn,
        f"SELECT table_name AS name FROM information_schema.tables WHERE table_schema = {schema}",
        {},
    )
    # Some MySQL 8 server/driver pairs return information_schema names as bytes.
    return {
        (n.decode() if isinstance(n, bytes | bytearray) else str(n)).lower()
        for n in (r["name"] for r in rows)
    }


def _dt(v) -> datetime | None:
    """A database date/time -> naive UTC; MySQL's zero date (``0000-00-00``) -> ``None``.

    pymysql returns dates it cannot represent (zero dates, allowed by MariaDB's default
    ``sql_mode``) as text; they mean "no date" in GORM-written data.
    """
    if v is None:
        return None
    if isinstance(v, datetime):
        return utc_naive(v)
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    text = v.decode() if isinstance(v, bytes) else str(v)
    if text == "" or text.startswith("0000-00-00"):
        return None
    try:
        return utc_naive(datetime.fromisoformat(text))
    except ValueError:
        raise _QueryError(f"unreadable date/time value {text!r}") from None


def read_devlake(
    uri: str,
    *,
    since: str | date | None = None,
    repos: list[str] | None = None,
    identities: str | Identities | None = None,
    rules: str | Rules | None = None,
) -> Import:
    """Read pull requests, people, defects and incidents from a DevLake database.

    Parameters
    ----------
    uri
        ``postgresql://user:password@host:5432/lake`` (psycopg) or
        ``mysql://user:password@host:3306/lake`` (needs ``pip install 'certkit[mysql]'``;
        ``?unix_socket=/path`` for a local socket). Percent-encode special characters in the
        password. The session is read-only; give certkit a database user with SELECT rights
        only. Error messages show the URI with the password masked.
    since
        Only PRs (and issues/incidents) created on or after this date (ISO text or a date).
    repos
        Only these repositories (DevLake ``repos.name``, e.g. ``org/app``).
    identities, rules
        Identity mapping file and AI-attribution rules, as for the other connectors.
    """
    ids = identities if isinstance(identities, Identities) else read_identities(identities)
    rules = rules if isinstance(rules, Rules) else load_rules(rules)
    try:
        since_d = date.fromisoformat(since) if isinstance(since, str) else since
    except ValueError:
        raise CertkitError(
            f"DevLake: since must be a date like 2024-01-01, not {since!r}"
        ) from None
    conn, dialect = _connect(uri)
    try:
        return _read(conn, dialect, since_d, repos, ids, rules, uri)
    except _QueryError as exc:
        raise CertkitError(f"DevLake database {safe_uri(uri)}: query failed ({exc})") from None
    finally:
        conn.close()


def _read(conn, dialect, since, repos, ids: Identities, rules: Rules, uri: str) -> Import:
    tables = _tables(conn, dialect)
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise CertkitError(
            f"DevLake database has no {', '.join(missing)} table: is this DevLake's database "
            "(the domain layer is filled after a pipeline run)?"
        )
    absent = [t for t in OPTIONAL_TABLES if t not in tables]
    notes = [f"DevLake: table(s) not found, skipped: {', '.join(absent)}"] if absent else []
    params: dict = {}
    where = ["1 = 1"]
    if since:
        where.append("pr.created_date >= %(since)s")
        params["since"] = datetime(since.year, since.month, since.day)
    if repos:
        if "repos" not in tables:
            raise CertkitError("DevLake: cannot filter by repository without the repos table")
        names = {f"r{i}": r for i, r in enumerate(repos)}
        params.update(names)
        where.append(
            "pr.base_repo_id IN (SELECT id FROM repos WHERE name IN ("
            + ", ".join(f"%({k})s" for k in names)
            + "))"
        )
    w = " AND ".join(where)
    for t in ("repos", "accounts", "user_accounts", "users"):
        if t not in tables:
            raise CertkitError(f"DevLake: table {t} is missing (needed to read pull requests)")
    prs = _query(conn, _PRS.format(where=w), params)
    first_review = {}
    if {"pull_request_comments", "accounts"} <= tables:
        for r in _query(conn, _FIRST_REVIEW.format(where=w), params):
            first_review[r["pull_request_id"]] = _dt(r["first_review_date"])
    commits: dict[str, list[dict]] = {}
    if {"pull_request_commits", "commits"} <= tables:
        for r in _query(conn, _PR_COMMITS.format(where=w), params):
            commits.setdefault(r["pull_request_id"], []).append(r)
    labels: dict[str, list[str]] = {}
    if "pull_request_labels" in tables:
        for r in _query(conn, _LABELS.format(where=w), params):
            labels.setdefault(r["pull_request_id"], []).append(r["label_name"])
    teams: dict[str, str] = {}
    if {"team_users", "teams"} <= tables:
        for r in _query(conn, _TEAMS, {}):
            teams.setdefault(r["user_id"], r["name"])

    rows, ev_rows, people, key_to_id = [], [], {}, {}
    for pr in prs:
        login = pr["user_name"] or pr["author_name"]
        email = pr["email"] or pr["user_email"]
        bot = is_bot(pr["author_name"], email, login)
        if bot:
            eid = bot_id(pr["author_name"], email, login)
        else:
            eid = ids.resolve(email, login, pr["full_name"] or pr["author_name"])
            eid = eid or pr["user_id"] or login or pr["author_id"] or "unknown"
        pcs = commits.get(pr["id"], [])
        messages = [pr["description"] or "", *(c["message"] or "" for c in pcs)]
        ev = Evidence(
            emails=sorted(
                {(c[k] or "").lower() for c in pcs for k in ("author_email", "committer_email")}
                - {""}
            ),
            names=[c["author_name"] for c in pcs if c["author_name"]],
            coauthors=[x for m in messages[1:] for x in coauthors(parse_trailers(m))],
            logins=[(login, bot)] if login else [],
            messages=messages,
            branch=pr["head_ref"],
            labels=labels.get(pr["id"], []),
        )
        dets = detect(ev, rules)
        repo = pr["repo_name"]
        pr_id = f"{repo}#{pr['pull_request_key']}" if pr["pull_request_key"] else pr["id"]
        key_to_id[pr["id"]] = pr_id
        created = _dt(pr["created_date"])
        rows.append(
            {
                "id": pr_id,
                "author_id": eid,
                "repo": repo,
                "created_date": created,
                "merged_date": _dt(pr["merged_date"]),
                "closed_date": _dt(pr["closed_date"]),
                "first_review_date": first_review.get(pr["id"]),
                "additions": int(pr["additions"] or 0),
                "deletions": int(pr["deletions"] or 0),
                "ai_assisted": 1.0 if dets else 0.0,
                "ai_tool": tools_of(dets),
                "reverted": False,
                "title": pr["title"],
                "number": int(pr["pull_request_key"]) if pr["pull_request_key"] else None,
                "is_bot_author": bot,
                "created_source": "devlake",
                "source": "devlake",
            }
        )
        ev_rows += evidence_rows(dets, pr_id, "devlake")
        p = people.setdefault(
            eid,
            {
                "engineer_id": eid,
                "name": pr["full_name"] or pr["user_name2"] or pr["author_name"],
                "email": email,
                "login": login,
                "team": teams.get(pr["user_id"]),
                "first_seen": created,
                "is_bot": bot,
            },
        )
        if created and (p["first_seen"] is None or created < p["first_seen"]):
            p["first_seen"] = created

    defects, incidents = [], []
    isince = " AND i.created_date >= %(since)s" if since else ""
    if "issues" in tables and "pull_request_issues" in tables:
        for r in _query(conn, _ISSUES.format(since=isince), params):
            row = {
                "id": r["issue_key"] or r["id"],
                "created_date": _dt(r["created_date"]),
                "resolution_date": _dt(r["resolution_date"]),
                "severity": r["severity"] or r["priority"],
                "pr_id": key_to_id.get(r["pull_request_id"]),
            }
            if r["type"] == "BUG":
                defects.append(row)
            else:
                incidents.append({**row, "service": r["component"]})
    inc_tables = {
        "incidents",
        "project_incident_deployment_relationships",
        "cicd_deployment_commits",
    }
    if inc_tables <= tables:
        seen = {i["id"] for i in incidents}
        for r in _query(conn, _INCIDENTS.format(since=isince.replace("i.", "inc.")), params):
            iid = r["incident_key"] or r["id"]
            if iid in seen:
                continue
            incidents.append(
                {
                    "id": iid,
                    "created_date": _dt(r["created_date"]),
                    "resolution_date": _dt(r["resolution_date"]),
                    "severity": r["severity"] or r["priority"] or r["urgency"],
                    "pr_id": key_to_id.get(r["pull_request_id"]),
                    "service": r["component"],
                }
            )
    return Import(
        pull_requests=frame(rows, PR_SCHEMA),
        defects=frame(defects, LINKED_SCHEMA),
        incidents=frame(incidents, INCIDENT_SCHEMA),
        people=frame(list(people.values()), PEOPLE_SCHEMA),
        ai_evidence=frame(ev_rows, EVIDENCE_SCHEMA),
        notes=notes,
        sources=[f"devlake:{safe_uri(uri, user=False)}"],
    )
