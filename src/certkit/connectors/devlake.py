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

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import unquote

from certkit.connectors.attribution import Rules, load_rules
from certkit.connectors.base import Import
from certkit.connectors.devlake_import import read_connection
from certkit.connectors.devlake_read import QueryError, first_line
from certkit.connectors.identity import Agents, Identities, load_agents, read_identities
from certkit.errors import CertkitError


@dataclass(frozen=True)
class DbUri:
    """A ``postgresql://`` / ``mysql://`` URI split once, the same way for both backends.

    The user part ends at the *last* ``@`` and the user name at the *first* ``:`` after
    ``//``, so a password holding ``@``, ``:``, ``/``, ``?`` or ``#`` is read whole even when
    it is not percent-encoded (libpq would split at its first ``@`` and resolve the rest of
    the password as the host). A ``@`` in the query must be percent-encoded (``%40``).
    """

    scheme: str  #: as written (``postgresql+psycopg``, ``mariadb``, ...)
    user: str | None
    password: str | None = field(repr=False)
    host: str  #: as written (``db``, ``[::1]``, ``h1,h2``, or empty)
    port: str | None
    database: str
    query: tuple[tuple[str, str], ...]  #: decoded ``(key, value)`` pairs, in order

    @property
    def backend(self) -> str:
        """``postgresql``, ``mysql`` or the unknown scheme."""
        s = self.scheme.split("+")[0].lower()
        return {"postgres": "postgresql", "mariadb": "mysql"}.get(s, s)

    def option(self, name: str) -> str | None:
        """The last value of query option ``name`` (case-insensitive), or None."""
        found = [v for k, v in self.query if k.lower() == name.lower()]
        return found[-1] if found else None


def parse_uri(uri: str) -> DbUri:
    """``uri`` split into its parts (see :class:`DbUri`); raises CertkitError without a
    ``scheme://``, never showing the password."""
    scheme, sep, rest = uri.partition("://")
    if not sep or not scheme:
        raise CertkitError(
            f"DevLake URI must start with postgresql:// or mysql://, not {safe_uri(uri)!r}"
        )
    user = password = None
    if "@" in rest:
        userinfo, rest = rest.rsplit("@", 1)
        name, colon, secret = userinfo.partition(":")
        user, password = unquote(name), (unquote(secret) if colon else None)
    rest, _, query = rest.partition("?")
    hostport, slash, path = rest.partition("/")
    host, port = _host_port(hostport)
    return DbUri(
        scheme=scheme,
        user=user,
        password=password,
        host=host,
        port=port,
        database=unquote(path) if slash else "",
        query=_query_pairs(query),
    )


def _query_pairs(query: str) -> tuple[tuple[str, str], ...]:
    """``a=1&b=%2F`` -> ``(("a", "1"), ("b", "/"))``: percent-decoded, ``+`` kept (as libpq)."""
    pairs = []
    for part in query.split("&"):
        if part:
            k, _, v = part.partition("=")
            pairs.append((unquote(k), unquote(v)))
    return tuple(pairs)


def _host_port(hostport: str) -> tuple[str, str | None]:
    """``host:port`` (``[v6]:port``; libpq's ``h1:p1,h2:p2``) -> (hosts, ports or None)."""
    hosts, ports = [], []
    for part in hostport.split(","):
        if part.startswith("[") and "]" in part:
            h, _, after = part[1:].partition("]")
            p = after[1:] if after.startswith(":") else ""
        else:
            h, _, p = part.rpartition(":") if ":" in part else (part, "", "")
        hosts.append(unquote(h))
        ports.append(p)
    return ",".join(hosts), (",".join(ports) if any(ports) else None)


def safe_uri(uri: str, *, user: bool = True) -> str:
    """``uri`` with the password (in the user part or a ``password=`` option) shown as ``***``.

    ``user=False`` also drops the user name and port (the provenance written to import.json).
    The user part ends at the last ``@``, as :func:`parse_uri` reads it, so no part of an
    un-encoded password is ever shown.
    """
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return "***@" + uri.rsplit("@", 1)[1] if "@" in uri else uri
    userinfo = None
    if "@" in rest:
        userinfo, rest = rest.rsplit("@", 1)
    location, q, query = rest.partition("?")
    if not user:
        hostport, slash, path = location.partition("/")
        host = _host_port(hostport)[0]
        host = f"[{host}]" if ":" in host else host
        userinfo = None
        location = host + slash + path
    if userinfo is not None:
        name, colon, _ = userinfo.partition(":")
        location = f"{name}:***@{location}" if colon else f"{name}@{location}"
    masked = "&".join(
        f"{k}=***" if k.lower() == "password" else f"{k}={v}" for k, v in _query_pairs(query)
    )
    return f"{scheme}://{location}" + (f"?{masked}" if q and masked else "")


def _scrubbed(text: str, u: DbUri) -> str:
    """A driver message with the password (and its longer pieces) replaced by ``***``."""
    if not u.password:
        return text
    pieces = [u.password, *(p for p in re.split(r"[@:/?#]", u.password) if len(p) >= 3)]
    for piece in sorted(set(pieces), key=len, reverse=True):
        text = text.replace(piece, "***")
    return text


#: Driver messages that mean the host (or port) could not be reached or resolved.
_HOST_TROUBLE = re.compile(
    r"resolve host|translate host name|name or service not known|unknown (mysql )?server host"
    r"|nodename nor servname|getaddrinfo|invalid port|port .* invalid",
    re.IGNORECASE,
)
ENCODING_HINT = (
    "if the user name or password holds @ : / ? # or %, percent-encode them in the URI "
    "(@ as %40, : as %3A, / as %2F, ? as %3F, # as %23, % as %25)"
)


def _cannot_connect(uri: str, u: DbUri, exc: Exception) -> CertkitError:
    text = _scrubbed(first_line(exc), u)
    hint = ""
    if _HOST_TROUBLE.search(text):
        hint = f"; check the host {u.host or 'localhost'!r}: {ENCODING_HINT}"
    return CertkitError(f"DevLake database {safe_uri(uri)}: cannot connect ({text}){hint}")


def _connect(uri: str):
    """A read-only DB-API connection for a ``postgresql://`` or ``mysql://`` URI.

    The URI is split once by :func:`parse_uri` for both backends; psycopg gets keyword
    arguments (its ``?`` options too), not the URI text.
    """
    u = parse_uri(uri)
    if u.port is not None and not all(p.isdigit() for p in u.port.split(",") if p):
        raise CertkitError(
            f"DevLake URI {safe_uri(uri)}: the port is not a number; {ENCODING_HINT}"
        )
    if u.backend == "postgresql":
        import psycopg

        kw = {"host": u.host, "port": u.port, "user": u.user, "password": u.password}
        kw = {k: v for k, v in kw.items() if v}
        if u.database:
            kw["dbname"] = u.database
        kw |= dict(u.query)
        try:
            conn = psycopg.connect(**kw)
        except psycopg.Error as exc:
            raise _cannot_connect(uri, u, exc) from None
        conn.read_only = True
        return conn, "postgresql"
    if u.backend == "mysql":
        return _connect_mysql(uri, u), "mysql"
    raise CertkitError(
        f"DevLake URI must start with postgresql:// or mysql://, not {u.scheme + '://'!r}"
    )


def _connect_mysql(uri: str, u: DbUri):
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
    if not u.database:
        raise CertkitError(
            f"DevLake URI {safe_uri(uri)} names no database: use mysql://user:password@host:3306/lake"
        )
    kw = {
        "host": u.host or "localhost",
        "port": int(u.port or 3306),
        "user": u.user or "",
        "password": u.password or "",
        "database": u.database,
        "charset": u.option("charset") or "utf8mb4",
        "connect_timeout": _int_option(uri, u, "connect_timeout", 10),
        # Every transaction of this session is read-only (MySQL >= 5.6.5, MariaDB >= 10.0).
        "init_command": "SET SESSION TRANSACTION READ ONLY",
    }
    if u.option("unix_socket"):
        kw["unix_socket"] = u.option("unix_socket")
    try:
        return pymysql.connect(**kw)
    except pymysql.Error as exc:
        raise _cannot_connect(uri, u, exc) from None


def since_date(since: str | date | None) -> date | None:
    """``since`` as a date (ISO text accepted), or a CertkitError naming the bad value."""
    try:
        return date.fromisoformat(since) if isinstance(since, str) else since
    except ValueError:
        raise CertkitError(
            f"DevLake: since must be a date like 2024-01-01, not {since!r}"
        ) from None


def _int_option(uri: str, u: DbUri, name: str, default: int) -> int:
    try:
        return int(u.option(name) or default)
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
    agents: str | Agents | None = None,
) -> Import:
    """Read pull requests, commits, people, defects and incidents from a DevLake database.

    Parameters
    ----------
    uri
        ``postgresql://user:password@host:5432/lake`` (psycopg) or
        ``mysql://user:password@host:3306/lake`` (needs ``pip install 'certkit[mysql]'``;
        ``?unix_socket=/path`` for a local socket). Percent-encode special characters in the
        password (an un-encoded ``@``, ``:`` or ``/`` in it is still read whole: the user
        part ends at the last ``@``). The session is read-only; give certkit a database user
        with SELECT rights only. Error messages show the URI with the password masked.
    since
        Only PRs (and issues/incidents) created on or after this date (ISO text or a date).
    repos
        Only these repositories (DevLake ``repos.name``, e.g. ``org/app``, compared
        case-insensitively); defects and incidents are scoped to the boards of these
        repositories (``board_repos``).
    project
        Only this DevLake project: its repositories, boards and CI/CD scopes
        (``project_mapping``) and the incidents DevLake attributed to it.
    identities, rules
        Identity mapping file and AI-attribution rules, as for the other connectors.
    agents
        Agent identities added to the bundled ``agents.yaml`` (a YAML file or loaded
        :class:`~certkit.connectors.identity.Agents`): a listed coding agent's account or
        co-author line is AI evidence, as in a git import.

    Returns
    -------
    Import
        ``pull_requests`` (plus audit columns ``status``, ``devlake_id``), ``commits``,
        ``people``, ``ai_evidence`` (with commit shas), ``defects`` and ``incidents`` (ids are
        DevLake's qualified ids; ``key`` keeps the issue number for display) and notes on
        everything approximated or missing (tables this user may not read are named with
        the GRANT to run).

    Raises
    ------
    CertkitError
        Bad URI, unreachable database, no readable ``pull_requests`` table, a failing query
        (named with the URI, password masked), or no pull request in the scope (naming the
        option, ``since``/``repos``/``project``, and what the database holds).
    """
    ids = identities if isinstance(identities, Identities) else read_identities(identities)
    rules = rules if isinstance(rules, Rules) else load_rules(rules)
    agents = agents if isinstance(agents, Agents) else load_agents(agents)
    since_d = since_date(since)
    conn, dialect = _connect(uri)
    try:
        return read_connection(conn, dialect, since_d, repos, project, ids, rules, uri, agents)
    except QueryError as exc:
        raise CertkitError(f"DevLake database {safe_uri(uri)}: query failed ({exc})") from None
    finally:
        conn.close()
