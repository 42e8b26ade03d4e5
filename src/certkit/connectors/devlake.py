"""Read an Apache DevLake database (domain layer) into certkit tables, read-only.

``read_devlake("postgresql://user:pass@host:5432/lake")`` (or ``mysql://...`` with the optional
``pymysql`` driver, ``pip install 'certkit[mysql]'``; MariaDB works too) reads
``information_schema`` first and then runs a handful of SELECTs in a read-only transaction,
selecting only the columns this DevLake version has (v0.21 ... v1.0.3 tested):

- ``pull_requests`` (+ ``repos``, ``accounts``/``user_accounts``/``users``, ``teams``): PR id
  ``<repo name>#<pull_request_key>`` (the id the git and GitHub connectors use), merged by the
  per-source rule of :mod:`certkit.connectors.devlake_rows`, line counts (0 outside GitHub is
  read as missing), first review (first comment by someone else, not a bot; else
  ``project_pr_metrics`` first comment or pickup time);
- ``pull_request_commits`` left-joined to ``commits`` -> the ``commits`` table and commit-level
  AI evidence (with the sha); PR body, branch, labels, author account -> PR-level evidence;
- defects: ``issues`` of type BUG; incidents: ``incidents`` first, then ``issues`` of type
  INCIDENT not copied there; ids are DevLake's qualified ids. Incidents link to PRs through
  ``project_incident_deployment_relationships`` -> ``cicd_deployment_commits`` -> the PRs the
  deployment shipped (merge commit sha or ``project_pr_metrics.deployment_commit_id``).
- scope: ``repos`` / ``project`` (``project_mapping``, ``board_repos``, ``board_issues``).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, parse_qsl, unquote, urlparse

from certkit.connectors.attribution import Rules, load_rules
from certkit.connectors.base import Import
from certkit.connectors.devlake_import import read_connection
from certkit.connectors.devlake_read import QueryError, first_line
from certkit.connectors.identity import Identities, read_identities
from certkit.errors import CertkitError


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
                f"DevLake database {safe_uri(uri)}: cannot connect ({first_line(exc)})"
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
            f"DevLake database {safe_uri(uri)}: cannot connect ({first_line(exc)})"
        ) from None


def since_date(since: str | date | None) -> date | None:
    """``since`` as a date (ISO text accepted), or a CertkitError naming the bad value."""
    try:
        return date.fromisoformat(since) if isinstance(since, str) else since
    except ValueError:
        raise CertkitError(
            f"DevLake: since must be a date like 2024-01-01, not {since!r}"
        ) from None


def _int_option(uri: str, q: dict, name: str, default: int) -> int:
    try:
        return int(q.get(name, default))
    except ValueError:
        raise CertkitError(
            f"DevLake URI {safe_uri(uri)}: option {name} must be a whole number"
        ) from None


def read_devlake(
    uri: str,
    *,
    since: str | date | None = None,
    repos: list[str] | None = None,
    project: str | None = None,
    identities: str | Identities | None = None,
    rules: str | Rules | None = None,
) -> Import:
    """Read pull requests, commits, people, defects and incidents from a DevLake database.

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
        Only these repositories (DevLake ``repos.name``, e.g. ``org/app``); defects and
        incidents are scoped to the boards of these repositories (``board_repos``).
    project
        Only this DevLake project: its repositories, boards and CI/CD scopes
        (``project_mapping``) and the incidents DevLake attributed to it.
    identities, rules
        Identity mapping file and AI-attribution rules, as for the other connectors.

    Returns
    -------
    Import
        ``pull_requests`` (plus audit columns ``status``, ``devlake_id``), ``commits``,
        ``people``, ``ai_evidence`` (with commit shas), ``defects`` and ``incidents`` (ids are
        DevLake's qualified ids; ``key`` keeps the issue number for display) and notes on
        everything approximated or missing.
    """
    ids = identities if isinstance(identities, Identities) else read_identities(identities)
    rules = rules if isinstance(rules, Rules) else load_rules(rules)
    since_d = since_date(since)
    conn, dialect = _connect(uri)
    try:
        return read_connection(conn, dialect, since_d, repos, project, ids, rules, uri)
    except QueryError as exc:
        raise CertkitError(f"DevLake database {safe_uri(uri)}: query failed ({exc})") from None
    finally:
        conn.close()
