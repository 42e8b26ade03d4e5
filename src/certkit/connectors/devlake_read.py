"""The SELECTs behind :func:`certkit.connectors.devlake.read_devlake`, schema-aware.

DevLake's domain layer changes between releases (``pull_requests.additions``/``deletions``/
``is_draft``/``merged_by_*`` only since v1.0.1, ``incidents`` and
``project_incident_deployment_relationships`` only since v1.0.2...), so the reader looks at
``information_schema.columns`` first and selects only what exists: a missing column reads as
NULL and is named in an import note, never a failed query. A table the user may not read
(PostgreSQL: it exists in ``pg_class``; MySQL hides it) is named by :func:`lake_notes` with
the GRANT to run, for the import and the pushed-down panel alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from certkit.connectors.base import utc_naive
from certkit.errors import CertkitError


def first_line(exc: Exception) -> str:
    args = getattr(exc, "args", ())
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        text = f"{args[1]} [MySQL error {args[0]}]"  # pymysql: (code, message)
    else:
        text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class QueryError(Exception):
    """A database error while reading; ``read_devlake`` adds the URI and re-raises."""


def run_query(conn, sql: str, params: dict) -> list[dict]:
    with conn.cursor() as cur:
        try:
            cur.execute(sql, params)
        except Exception as exc:
            raise QueryError(first_line(exc)) from None
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def to_dt(v) -> datetime | None:
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
        raise QueryError(f"unreadable date/time value {text!r}") from None


@dataclass
class Schema:
    """Tables and their columns in the connected DevLake database (lower case)."""

    dialect: str
    columns: dict[str, set[str]]
    missing: list[str] = field(default_factory=list)  # "table.column" read as NULL
    #: tables that exist but this user may not read (PostgreSQL; MySQL hides them)
    unreadable: set[str] = field(default_factory=set)
    user: str = ""  #: the database user, as GRANT names it (``'u'@'%'`` on MySQL)
    database: str = ""  #: the database (MySQL: GRANT ... ON database.table)

    @property
    def tables(self) -> set[str]:
        return set(self.columns)

    def has(self, table: str, *cols: str) -> bool:
        return table in self.columns and all(c in self.columns[table] for c in cols)

    def q(self, name: str) -> str:
        """A quoted identifier (``table`` is a reserved word DevLake uses as a column)."""
        return f'"{name}"' if self.dialect == "postgresql" else f"`{name}`"

    def sel(self, table: str, alias: str, *cols: str, note: bool = True) -> str:
        """``alias.col AS col`` per column (``col:name`` renames); ``NULL`` (noted) when missing."""
        out = []
        for spec in cols:
            c, _, name = spec.partition(":")
            name = self.q(name or c)
            if self.has(table, c):
                out.append(f"{alias}.{self.q(c)} AS {name}")
            else:
                out.append(f"NULL AS {name}")
                if note and table in self.columns and f"{table}.{c}" not in self.missing:
                    self.missing.append(f"{table}.{c}")
        return ", ".join(out)


def lake_schema(conn, dialect: str):
    """The query function over ``conn`` and the DevLake schema it sees.

    Raises
    ------
    CertkitError
        When the database has no ``pull_requests`` table (not DevLake's, or no pipeline ran)
        or this user may not read it (with the GRANT to run).
    """

    def q(sql: str, params: dict | None = None) -> list[dict]:
        return run_query(conn, sql, params or {})

    s = read_schema(q, dialect)
    if "pull_requests" not in s.tables:
        if "pull_requests" in s.unreadable:
            raise CertkitError(
                f"DevLake: user {s.user} has no SELECT on pull_requests; give certkit a user "
                "that may read DevLake's tables, or have the table's owner (or a superuser) "
                f"run: {grant(s, ['pull_requests'])}"
            )
        if dialect != "postgresql":
            raise CertkitError(
                f"DevLake database {s.database} has no pull_requests table, or user {s.user} "
                "may not read it: is this DevLake's database (the domain layer is filled after "
                f"a pipeline run)? If it is, an administrator can run: "
                f"{grant(s, ['pull_requests'])}"
            )
        raise CertkitError(
            "DevLake database has no pull_requests table: is this DevLake's database "
            "(the domain layer is filled after a pipeline run)?"
        )
    return q, s


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes | bytearray) else str(v)


def read_schema(query, dialect: str) -> Schema:
    """Columns of every table in the current schema/database, from ``information_schema``;
    on PostgreSQL also the tables this user may not read (``information_schema`` lists
    only the columns a user has a privilege on, so they would look absent)."""
    where = "current_schema()" if dialect == "postgresql" else "database()"
    rows = query(
        "SELECT table_name AS t, column_name AS c FROM information_schema.columns "
        f"WHERE table_schema = {where}",
        {},
    )
    cols: dict[str, set[str]] = {}
    for r in rows:
        t, c = (_text(v) for v in (r["t"], r["c"]))
        cols.setdefault(t.lower(), set()).add(c.lower())
    s = Schema(dialect, cols)
    if dialect == "postgresql":
        who = query("SELECT current_user AS u, current_schema() AS d", {})[0]
        hidden = query(
            "SELECT c.relname AS t FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'm', 'p', 'f') "
            "AND NOT has_table_privilege(c.oid, 'SELECT')",
            {},
        )
        s.unreadable = {_text(r["t"]).lower() for r in hidden} - set(cols)
        s.user = _pg_ident(_text(who["u"]))
    else:
        who = query("SELECT CURRENT_USER() AS u, DATABASE() AS d", {})[0]
        name, _, host = _text(who["u"]).rpartition("@")
        s.user = f"'{name}'@'{host}'" if name else _text(who["u"])
    s.database = _text(who["d"] or "")
    return s


def _pg_ident(name: str) -> str:
    """A PostgreSQL identifier as GRANT needs it (quoted unless plain lower case)."""
    plain = name.replace("_", "").isalnum() and name == name.lower() and not name[0].isdigit()
    return name if plain else '"' + name.replace('"', '""') + '"'


def grant(s: Schema, tables: list[str]) -> str:
    """The statement(s) giving this user SELECT on ``tables``."""
    if s.dialect == "postgresql":
        return f"GRANT SELECT ON {', '.join(_pg_ident(t) for t in tables)} TO {s.user}"
    return "; ".join(f"GRANT SELECT ON `{s.database}`.`{t}` TO {s.user}" for t in tables)


def in_list(params: dict, prefix: str, values) -> str:
    """``(%(p0)s, %(p1)s, ...)`` for ``values`` (added to ``params``); ``(NULL)`` if empty."""
    keys = []
    for i, v in enumerate(sorted(set(values))):
        params[f"{prefix}{i}"] = v
        keys.append(f"%({prefix}{i})s")
    return "(" + (", ".join(keys) or "NULL") + ")"


def pr_query(s: Schema, where: str) -> str:
    joins, extra = [], []
    if s.has("repos", "id", "name"):
        joins.append("LEFT JOIN repos r ON r.id = pr.base_repo_id")
        extra.append("r.name AS repo_name")
    else:
        extra.append("NULL AS repo_name")
    if s.has("accounts", "id"):
        joins.append("LEFT JOIN accounts a ON a.id = pr.author_id")
        extra.append(s.sel("accounts", "a", "user_name", "email", "full_name"))
    else:
        extra.append("NULL AS user_name, NULL AS email, NULL AS full_name")
    if s.has("user_accounts", "user_id", "account_id") and s.has("users", "id"):
        joins += [
            "LEFT JOIN user_accounts ua ON ua.account_id = pr.author_id",
            "LEFT JOIN users u ON u.id = ua.user_id",
        ]
        extra.append(
            "ua.user_id AS user_id, " + s.sel("users", "u", "email:user_email", "name:user_name2")
        )
    else:
        extra.append("NULL AS user_id, NULL AS user_email, NULL AS user_name2")
    cols = s.sel(
        "pull_requests",
        "pr",
        "id",
        "pull_request_key",
        "title",
        "description",
        "author_id",
        "author_name",
        "status",
        "original_status",
        "created_date",
        "merged_date",
        "closed_date",
        "additions",
        "deletions",
        "head_ref",
        "merge_commit_sha",
        "base_repo_id",
        "is_draft",
        "merged_by_id",
        "merged_by_name",
    )
    return (
        f"SELECT {cols}, {', '.join(extra)}\nFROM pull_requests pr\n"
        + "\n".join(joins)
        + f"\nWHERE {where}"
    )


def rows_by_pr(query, sql: str | None, params: dict, column: str | None = None) -> dict:
    """Rows of ``sql`` (run with ``query``) grouped by ``pull_request_id``: whole rows, or one
    ``column``'s values; empty when the lake lacks the tables (``sql`` is None)."""
    out: dict[str, list] = {}
    if sql:
        for r in query(sql, params):
            out.setdefault(r["pull_request_id"], []).append(r if column is None else r[column])
    return out


def first_review_query(s: Schema, where: str) -> str | None:
    if not s.has("pull_request_comments", "pull_request_id", "account_id", "created_date"):
        return None
    bots = ""
    join = ""
    if s.has("accounts", "id", "user_name"):
        join = "LEFT JOIN accounts a ON a.id = c.account_id"
        bots = "AND (a.user_name IS NULL OR a.user_name NOT LIKE '%%[bot]')"
    return f"""
SELECT c.pull_request_id, MIN(c.created_date) AS first_review_date
FROM pull_request_comments c
JOIN pull_requests pr ON pr.id = c.pull_request_id
{join}
WHERE {where} AND c.account_id IS NOT NULL AND c.account_id <> ''
  AND (pr.author_id IS NULL OR c.account_id <> pr.author_id) {bots}
GROUP BY c.pull_request_id
"""


#: The ``commits`` columns of :func:`pr_commits_query` (NULL when the PR's commit is absent).
COMMIT_COLUMNS = (
    "author_name",
    "author_email",
    "committer_email",
    "message",
    "authored_date",
    "committed_date",
    "additions",
    "deletions",
)


def _pr_commit_columns(s: Schema) -> str | None:
    """The author columns of ``pull_request_commits`` (None: no usable table)."""
    if not s.has("pull_request_commits", "pull_request_id", "commit_sha"):
        return None
    return s.sel(
        "pull_request_commits",
        "prc",
        "commit_author_name",
        "commit_author_email",
        "commit_authored_date",
        note=False,
    )


def pr_commits_query(s: Schema, where: str) -> str | None:
    """PR commits, with ``commits`` left-joined (gitextractor may lack squashed branches)."""
    prc = _pr_commit_columns(s)
    if prc is None:
        return None
    if s.has("commits", "sha"):
        cc = s.sel("commits", "c", *COMMIT_COLUMNS, note=False)
        join = "LEFT JOIN commits c ON c.sha = prc.commit_sha"
    else:
        cc = (
            "NULL AS author_name, NULL AS author_email, NULL AS committer_email, "
            "NULL AS message, NULL AS authored_date, NULL AS committed_date, "
            "NULL AS additions, NULL AS deletions"
        )
        join = ""
    return f"""
SELECT prc.pull_request_id, prc.commit_sha AS sha, {prc}, {cc}
FROM pull_request_commits prc
JOIN pull_requests pr ON pr.id = prc.pull_request_id
{join}
WHERE {where}
"""


def pr_commit_links_query(s: Schema, where: str) -> str | None:
    """The PR commit rows of :func:`pr_commits_query` without the ``commits`` columns.

    One scan of ``pull_request_commits`` for every PR ``where`` selects: DevLake indexes
    that table by ``(commit_sha, pull_request_id)`` only, so a query for a few PRs' commits
    scans all of it (MariaDB/MySQL: once per query). The ``commits`` columns then come by
    primary key (:func:`commits_by_sha_query`).
    """
    prc = _pr_commit_columns(s)
    if prc is None:
        return None
    return f"""
SELECT prc.pull_request_id, prc.commit_sha AS sha, {prc}
FROM pull_request_commits prc
JOIN pull_requests pr ON pr.id = prc.pull_request_id
WHERE {where}
"""


def commits_by_sha_query(s: Schema, shas: str) -> str | None:
    """``commits`` rows (``sha`` + :data:`COMMIT_COLUMNS`) whose sha is in ``shas`` (an SQL
    list from :func:`in_list`): primary-key lookups. ``None`` without a ``commits`` table."""
    if not s.has("commits", "sha"):
        return None
    cols = s.sel("commits", "c", *COMMIT_COLUMNS, note=False)
    return f"SELECT c.sha AS sha, {cols} FROM commits c WHERE c.sha IN {shas}"


def labels_query(s: Schema, where: str) -> str | None:
    if not s.has("pull_request_labels", "pull_request_id", "label_name"):
        return None
    return f"""
SELECT l.pull_request_id, l.label_name
FROM pull_request_labels l JOIN pull_requests pr ON pr.id = l.pull_request_id
WHERE {where}
"""


def pr_metrics_query(s: Schema, where: str) -> str | None:
    if not s.has("project_pr_metrics", "id"):
        return None
    cols = s.sel(
        "project_pr_metrics",
        "m",
        "deployment_commit_id",
        "first_comment_date",
        "pr_deployed_date",
        "pr_pickup_time",
        note=False,
    )
    return f"""
SELECT m.id AS pull_request_id, {cols}
FROM project_pr_metrics m JOIN pull_requests pr ON pr.id = m.id
WHERE {where}
"""


#: Columns DevLake's ``issues`` and ``incidents`` tables share (read when present).
TICKET_COLUMNS = (
    "title",
    "created_date",
    "resolution_date",
    "priority",
    "severity",
    "urgency",
    "component",
)


def issues_query(s: Schema, scope: str) -> str:
    cols = s.sel("issues", "i", "id", "issue_key", "type", *TICKET_COLUMNS)
    return f"SELECT {cols} FROM issues i WHERE i.type IN ('BUG', 'INCIDENT') {scope}"


def incidents_query(s: Schema, scope: str) -> str:
    cols = s.sel("incidents", "i", "id", "incident_key", *TICKET_COLUMNS, "table", "scope_id")
    return f"SELECT {cols} FROM incidents i WHERE 1 = 1 {scope}"


NEEDED = (
    "repos",
    "accounts",
    "user_accounts",
    "users",
    "pull_request_comments",
    "pull_request_commits",
    "commits",
    "pull_request_labels",
    "issues",
    "pull_request_issues",
)
#: What each table certkit reads (besides ``pull_requests``) gives; a table the user may
#: not read is named with this.
READS = {
    "repos": "repository names",
    "accounts": "author logins and e-mails",
    "user_accounts": "DevLake users of accounts",
    "users": "DevLake users of accounts",
    "teams": "teams",
    "team_users": "teams",
    "pull_request_comments": "first reviews",
    "pull_request_commits": "the commits of each PR and their AI evidence",
    "commits": "commit messages and e-mails (AI evidence)",
    "pull_request_labels": "PR labels (AI evidence)",
    "project_pr_metrics": "first reviews and deployments of PRs",
    "issues": "defects and incidents",
    "pull_request_issues": "defect and incident links to PRs",
    "incidents": "incidents",
    "project_incident_deployment_relationships": "incident links through deployments",
    "project_issue_metrics": "incident links through deployments",
    "cicd_deployment_commits": "incident links through deployments",
    "project_mapping": "--project",
    "board_repos": "the defects and incidents of --repo/--project",
    "board_issues": "the defects and incidents of --repo/--project",
}
_LINES = ("pull_requests.additions", "pull_requests.deletions")


def lake_notes(s: Schema) -> list[str]:
    """The notes on what this DevLake lacks: tables not found (MySQL: or not readable, it
    hides those), tables this user may not read (PostgreSQL, with the GRANT to run) and
    columns read as empty. The same for the import and the pushed-down panel."""
    notes = []
    absent = [t for t in NEEDED if t not in s.tables and t not in s.unreadable]
    if absent and s.dialect == "postgresql":
        notes.append(f"DevLake: table(s) not found, skipped: {', '.join(absent)}")
    elif absent:
        notes.append(
            f"DevLake: table(s) not found or not readable by user {s.user}, skipped: "
            + ", ".join(f"{t} ({READS[t]})" for t in absent)
            + f"; if they exist, an administrator can run: {grant(s, absent)}"
        )
    hidden = [t for t in READS if t in s.unreadable]
    if hidden:
        notes.append(
            f"DevLake: user {s.user} has no SELECT on "
            + ", ".join(f"{t} ({READS[t]})" for t in hidden)
            + f": read as empty; their owner (or a superuser) can run: {grant(s, hidden)}"
        )
    # the import's SELECTs, built (not run): Schema.sel names the columns read as NULL
    pr_query(s, "1 = 1")
    if s.has("issues", "id", "type"):
        issues_query(s, "")
    if s.has("incidents", "id"):
        incidents_query(s, "")
    if not s.has("pull_requests", "additions"):
        notes.append(
            "DevLake: no pull_requests.additions/deletions (DevLake before v1.0.1): line "
            "counts are missing (size outcomes leave them out)"
        )
    other = [m for m in s.missing if m not in _LINES]
    if other:
        notes.append(
            "DevLake: column(s) missing in this DevLake version, read as empty: " + ", ".join(other)
        )
    return notes
