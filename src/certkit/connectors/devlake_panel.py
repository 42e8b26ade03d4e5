"""The engineer x period panel computed inside DevLake's database (SQL pushed down).

``certkit import devlake`` reads every PR row into Python; :func:`devlake_panel` instead
sends the per-PR work to DevLake's PostgreSQL or MySQL database and brings back only one row
per (engineer, period). It is a split query:

1. In the database: the distinct author tuples (one per account), the PR count and the time
   bounds of the data.
2. In Python: the authors resolved to engineers with the import's code
   (:func:`~certkit.connectors.devlake_import.author_of`: bots, DevLake's unknown authors,
   the identity file), and the roster, certifications and placeholder engineers built as
   :func:`~certkit.connectors.base.to_dataset` builds them.
3. In the database: the account -> engineer map sent back as literal rows, PRs grouped by
   engineer and period (two accounts of one engineer are grouped together before any median),
   with the import's rules in SQL (:mod:`certkit.connectors.devlake_panel_sql`).
4. In Python: the grid of engineers x periods, treatment columns and covariates from
   :func:`~certkit.data.panel.build_panel` (run on the roster and certifications only), joined
   with the outcomes.

``ai_prs`` (and ``ai_share``) need the AI rules of :mod:`certkit.connectors.attribution`,
Python regular expressions: a prefilter in SQL selects the PRs whose text could match a rule,
the import's detection decides them in Python, and the AI PRs' ids go back into step 3 as
literal rows (:mod:`certkit.connectors.devlake_panel_ai`).

The result equals ``build_panel(to_dataset(read_devlake(uri, identities=ids), engineers,
certifications, identities=ids, roster_only=...))`` row for row on every column, and the
import's notes on the lake (tables missing or not readable, columns missing, scope) are
warned alike. ``reverts`` (and ``revert_rate``) come as ``ai_prs`` does: the possible reverts
and the PRs they name are read and decided with the import's rules, and the reverted PRs' ids
go back into step 3 (:mod:`certkit.connectors.devlake_reverts`). ``rework_rate`` is null, as in
the import (the line ledger is git-only).
"""

from __future__ import annotations

import warnings
from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from certkit.connectors import devlake_panel_ai as ai
from certkit.connectors import devlake_panel_sql as sq
from certkit.connectors import devlake_read as dr
from certkit.connectors.attribution import Rules, load_rules
from certkit.connectors.base import PEOPLE_SCHEMA, PR_SCHEMA, Import, frame, to_dataset
from certkit.connectors.devlake_import import (
    RELATIONS,
    _issue_scope,
    _scope,
    add_person,
    author_of,
    nothing_read,
)
from certkit.connectors.devlake_reverts import reverted_pr_ids
from certkit.connectors.identity import (
    DRAFT_FILE,
    Agents,
    Identities,
    load_agents,
    read_identities,
)
from certkit.connectors.roster_match import merge_people, remap, roster_mapping
from certkit.data.panel import PERIODS, build_panel
from certkit.data.panel_calendar import arrivals_in_dropped, partial_last_period, period_start
from certkit.data.panel_engines import PANEL_SCHEMA
from certkit.data.panel_links import EXAMPLES, check_fix_links, fix_words
from certkit.data.schema import TABLES
from certkit.data.validate import MAX_NEGATIVE_DURATION_SHARE
from certkit.errors import CertkitError, CertkitWarning

#: Panel columns this module leaves null (unknown): none since ``ai_prs`` is computed.
NOT_COMPUTED: tuple[str, ...] = ()
#: Placeholder author of the two calendar rows handed to ``build_panel`` (ends in [bot]:
#: never an engineer).
_CALENDAR = "certkit-devlake-calendar[bot]"
_OUTCOMES = (
    "merged_prs",
    "prs_opened",
    "cycle_time_log_median",
    "cycle_time_log_mean",
    "cycle_time_hours_median",
    "pickup_time_hours_median",
    "lines_changed",
    "ai_prs",
    "defects",
    "incidents",
    "reverts",
)


def devlake_panel(
    uri: str,
    *,
    engineers: pl.DataFrame | str | Path | None = None,
    certifications: pl.DataFrame | str | Path | None = None,
    period: str = "month",
    since: str | date | None = None,
    repos: list[str] | None = None,
    project: str | None = None,
    identities: str | Path | Identities | None = None,
    ai_rules: str | Path | Rules | None = None,
    agents: str | Path | Agents | None = None,
    roster_only: bool = False,
    fix_links: str = "drop",
    keep_partial_end: bool = False,
) -> pl.DataFrame:
    """Build the engineer x period panel inside a DevLake database (SQL pushed down).

    Parameters
    ----------
    uri
        ``postgresql://...`` or ``mysql://...`` (as for
        :func:`~certkit.connectors.devlake.read_devlake`); the session is read-only.
    engineers, certifications
        The roster and certification records (frame or CSV/Parquet/NDJSON file), as for
        ``certkit import devlake --engineers --certifications``. Authors missing from the
        roster are added as placeholders (team from DevLake, hire date = first PR).
    period
        ``"month"`` (default), ``"week"`` or ``"quarter"``.
    since, repos, project, identities
        As for :func:`~certkit.connectors.devlake.read_devlake`.
    ai_rules
        AI-attribution rules (a YAML file or loaded :class:`~certkit.connectors.attribution.Rules`;
        default: the bundled ``ai_rules.yaml``), as ``read_devlake(rules=...)``.
    agents
        Agent identities added to the bundled ``agents.yaml``, as ``read_devlake(agents=...)``.
    roster_only
        Leave authors missing from the roster out (``--roster-only``), as
        :func:`~certkit.connectors.base.to_dataset` does.
    fix_links
        ``"drop"`` (default): a defect or incident issue linked through
        ``pull_request_issues`` to a PR merged at or after it was created (or never merged)
        is not charged to the PR's author (such links are mostly "Fixes #123"; a warning
        counts them); ``"keep"``: every link names the cause. As
        :func:`~certkit.data.panel.build_panel`'s ``fix_links``.
    keep_partial_end
        Keep the data's last period when the data end well inside it (default: left out
        with a warning), as :func:`~certkit.data.panel.build_panel`'s ``keep_partial_end``.

    Returns
    -------
    polars.DataFrame
        The panel of :func:`~certkit.data.panel.build_panel` on the imported data.

    Raises
    ------
    CertkitError
        Bad URI, unreachable database, no ``pull_requests`` table, no PRs, a failing query
        (named with the URI, password masked), or the import's validation errors.
    """
    from certkit.connectors.devlake import _connect, safe_uri, since_date

    if period not in PERIODS:
        raise CertkitError(f"period must be one of {', '.join(PERIODS)}; got {period!r}")
    check_fix_links(fix_links)
    ids = identities if isinstance(identities, Identities) else read_identities(identities)
    rules = ai_rules if isinstance(ai_rules, Rules) else load_rules(ai_rules)
    found = agents if isinstance(agents, Agents) else load_agents(agents)
    since_d = since_date(since)
    conn, dialect = _connect(uri)
    try:
        outcomes, people, first = _query(
            conn,
            dialect,
            since_d,
            repos,
            project,
            ids,
            rules,
            period,
            engineers,
            fix_links,
            agents=found,
            roster_ids=_roster_ids(engineers) if roster_only else None,
        )
    except dr.QueryError as exc:
        raise CertkitError(f"DevLake database {safe_uri(uri)}: query failed ({exc})") from None
    finally:
        conn.close()
    return _assemble(
        outcomes,
        people,
        first,
        period,
        (engineers, certifications, ids),
        roster_only,
        keep_partial_end,
    )


def _query(
    conn,
    dialect: str,
    since,
    repos,
    project,
    ids: Identities,
    rules,
    period: str,
    engineers=None,
    fix_links: str = "drop",
    agents: Agents | None = None,
    roster_ids: set[str] | None = None,
):
    """Run the queries: ``(outcomes per engineer and period index, people, time bounds)``.
    ``roster_ids``: with ``--roster-only``, the roster's engineer ids (the window is that of
    their PRs)."""

    q, s = dr.lake_schema(conn, dialect)
    notes = dr.lake_notes(s)  # what the import says about this lake's tables and columns
    tz: set[str] = set()
    if dialect == "postgresql":
        rows = q(
            "SELECT table_name AS t, column_name AS c FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type = 'timestamp with time zone'"
        )
        tz = {f"{r['t']}.{r['c']}".lower() for r in rows}
    mariadb = (
        dialect != "postgresql" and "mariadb" in str(q("SELECT VERSION() AS v")[0]["v"]).lower()
    )
    d = sq.Dialect(dialect, frozenset(tz), mariadb)
    params: dict = {}
    where = ["1 = 1"]
    if since:
        where.append("pr.created_date >= %(since)s")
        params["since"] = datetime(since.year, since.month, since.day)
    scope = _scope(s, q, repos, project, notes)
    for note in notes:
        warnings.warn(note, CertkitWarning, stacklevel=4)
    if scope is not None:
        where.append("pr.base_repo_id IN " + dr.in_list(params, "repo", scope["repos"]))
    w = " AND ".join(where)

    stats = q(sq.stats_query(d, s, w), params)[0]
    n = int(stats["n"] or 0)
    if n == 0 or stats["first_created"] is None:
        why = nothing_read(s, q, since, repos, project, scope)
        raise CertkitError(f"{why}: there is nothing to build a panel from")
    share = int(stats["negative"] or 0) / n
    if share > MAX_NEGATIVE_DURATION_SHARE:
        raise CertkitError(
            f"DevLake: merged_date is before created_date for {share:.0%} of PRs: "
            "probably a timezone or column mix-up"
        )
    # the window opens with the first merge, as build_panel's (certkit.data.panel)
    first = dr.to_dt(stats["first_merged"]) or dr.to_dt(stats["first_created"])
    last = max(x for x in (dr.to_dt(stats["last_created"]), dr.to_dt(stats["last_merged"])) if x)
    teams: dict = {}
    if s.has("team_users", "team_id", "user_id") and s.has("teams", "id", "name"):
        sql = "SELECT tu.user_id, t.name FROM team_users tu JOIN teams t ON t.id = tu.team_id"
        for r in q(sql):
            teams.setdefault(r["user_id"], r["name"])
    authors = q(sq.authors_query(d, s, w), params)
    people, idmap = _people(authors, ids, teams)
    # the import's roster rules (e-mail, id, unique name; see connectors.roster_match) before
    # the outcomes are summed per engineer, so both paths give the same engineers
    rename = roster_mapping(people, engineers, ids)
    if rename:
        idmap = {k: rename.get(v, v) for k, v in idmap.items()}
        people = merge_people(remap(people, "engineer_id", rename))
    valid = n - int(stats["negative"] or 0)  # the PRs the import keeps
    first, last, valid = _engineer_bounds(authors, idmap, people, roster_ids) or (
        first,
        last,
        valid,
    )
    keys = sorted(set(idmap.values()))
    ek = {e: i for i, e in enumerate(keys)}

    iparams = dict(params)
    cond = ""
    if since:
        cond = " AND i.created_date >= %(since)s"
    issue_cond = cond + _issue_scope(s, scope, iparams, "issues")
    incident_cond = None
    if s.has("incidents", "id"):
        incident_cond = cond + _issue_scope(s, scope, iparams, "incidents")
    rel = next((t for t in RELATIONS if s.has(t, "id", "deployment_id")), None)
    literal = _literal(conn, dialect)
    ai_ids, pre, _ = ai.ai_pr_ids(q, s, w, params, ids, rules, agents)
    if pre.sql is None:
        warnings.warn(
            f"AI rule(s) {', '.join(pre.unfiltered)} of {rules.source} name no literal text "
            "certkit can search for in SQL: every PR's body and commits are read to detect AI "
            "(correct, slower)",
            CertkitWarning,
            stacklevel=4,
        )
    revert_notes: list[str] = []
    reverted = reverted_pr_ids(q, s, w, params, revert_notes)
    for note in revert_notes:  # as the import says them
        warnings.warn(note, CertkitWarning, stacklevel=4)
    sql = sq.panel_query(
        d,
        s,
        w,
        sq.idmap_cte(d, [(a, nm, ek[e]) for (a, nm), e in idmap.items()], literal),
        period,
        period_start(first.date(), period),
        issue_cond,
        incident_cond,
        rel,
        ai.pr_flag(d, ai_ids, literal),
        fix_links,
        ai.pr_flag(d, reverted, literal, name="revset"),
    )
    if dialect == "postgresql":
        # the query is large: PostgreSQL's JIT compiled it for longer than it ran (100,000
        # PRs: 3.0 s of JIT in 5.0 s); a session setting (PostgreSQL 11+; skipped without it)
        q("SELECT set_config('jit', 'off', false) AS jit FROM pg_settings WHERE name = 'jit'")
    got = _hash_joined(conn, q, sql, iparams) if mariadb else q(sql, iparams)
    fixes = sq.fixes_query(d, s, w, issue_cond, incident_cond)
    if fix_links == "drop" and fixes is not None:
        kinds: dict[str, list[str]] = {}
        for r in q(fixes, iparams):
            kinds.setdefault(r["kind"], []).append(str(r["iid"]))
        for table in ("defects", "incidents"):  # as build_panel on the import says it
            if kinds.get(table):
                found = sorted(kinds[table])
                text = fix_words(table, len(found), found[:EXAMPLES])
                warnings.warn(text, CertkitWarning, stacklevel=4)
    df = pl.DataFrame(
        {k: [_number(r[k]) if k in r else None for r in got] for k in _SCHEMA},
        schema=_SCHEMA,
        strict=False,
    )
    names = pl.DataFrame(
        {"ek": range(len(keys)), "engineer_id": keys},
        schema={"ek": pl.Int64, "engineer_id": pl.String},
    )
    out = df.join(names, on="ek", how="inner").drop("ek").rename({"p": "period_index"})
    # the engineers' PRs the import keeps (those merged before created are left out, as
    # validation does): the partial-period rule reads their rate, as build_panel's
    return out, people, (first, last, valid)


def _roster_ids(engineers) -> set[str] | None:
    """The roster's engineer ids (a frame or a file, read as the import reads it)."""
    from certkit.connectors.analyst_files import _read_table
    from certkit.data.schema import TABLES

    roster, _ = _read_table(engineers, "engineers")
    if roster is None:
        return None
    names = TABLES["engineers"].canonical_names(roster.columns)
    if "engineer_id" not in names:
        return None
    column = roster.columns[names.index("engineer_id")]
    return {str(v).strip() for v in roster[column].drop_nulls().to_list()}


def _engineer_bounds(authors: list[dict], idmap: dict, people: pl.DataFrame, roster_ids):
    """``(first, last, n)``: the first merge (or creation), the last PR event and the number
    of the PRs of engineers, as ``build_panel`` opens and closes its window on an import (bots' PRs, and
    with ``--roster-only`` those of authors outside the roster (``roster_ids``), left
    aside); None when no engineer has a PR (the window of every PR then, as there)."""
    bots = set(people.filter(pl.col("is_bot").fill_null(False))["engineer_id"].to_list())
    rows = [
        r
        for r in authors
        if (eid := idmap.get((r["author_id"] or "", r["author_name"] or ""))) is not None
        and eid not in bots
        and (roster_ids is None or eid in roster_ids)
    ]

    def pick(key: str, fn):
        values = [dr.to_dt(r[key]) for r in rows if r.get(key) is not None]
        return fn(values) if values else None

    if not rows or pick("first_created", min) is None:
        return None
    first = pick("first_merged", min) or pick("first_created", min)
    last = max(x for x in (pick("last_created", max), pick("last_merged", max)) if x)
    return first, last, sum(int(r.get("n_valid") or 0) for r in rows)


def _hash_joined(conn, q, sql: str, params: dict) -> list[dict]:
    """Run ``sql`` on MariaDB with hash joins allowed, then back to the server's defaults.

    MariaDB joins the materialized CTEs of the panel query (no index) by block nested loops
    unless hash joins are allowed (``join_cache_level`` >= 3; MySQL 8 hash-joins by default
    and has no such variable). Its hash join keeps the *outer* rows in the join buffer and
    scans the inner table once per buffer-full, so a buffer too small for the outer rows makes
    a join quadratic in the PRs. So this one query gets 16 MB per join buffer (at most 256 MB
    in all, on the database server; 2 MB: 75 s instead of 7.3 s at 100,000 PRs), buffers of
    that size whatever the optimizer estimates (``optimize_join_buffer_size=off``: it sized
    one 1 MB from a derived table's estimate and scanned a 700,000-row table 391 times at
    1,000,000 PRs), and ``join_cache_level`` 6, which joins by primary key with batched key
    access instead of hashing the outer rows and scanning ``pull_requests`` or ``commits``
    once per buffer-full (47 and 39 scans at 1,000,000 PRs with level 4). Only this query: the
    AI step's evidence queries, driven by primary keys, took 60 s instead of 0.4 s per batch
    of 2,000 PRs with hash joins.
    """
    with conn.cursor() as cur:
        cur.execute(
            "SET SESSION join_cache_level = 6, join_buffer_size = 16777216, "
            "join_buffer_space_limit = 268435456, "
            "optimizer_switch = 'optimize_join_buffer_size=off'"
        )
    try:
        return q(sql, params)
    finally:
        with conn.cursor() as cur:
            cur.execute(
                "SET SESSION join_cache_level = DEFAULT, join_buffer_size = DEFAULT, "
                "join_buffer_space_limit = DEFAULT, optimizer_switch = DEFAULT"
            )


_SCHEMA = {
    "ek": pl.Int64,
    "p": pl.Int64,
    "merged_prs": pl.Int64,
    "prs_opened": pl.Int64,
    "cycle_time_log_median": pl.Float64,
    "cycle_time_log_mean": pl.Float64,
    "cycle_time_hours_median": pl.Float64,
    "pickup_time_hours_median": pl.Float64,
    "lines_changed": pl.Int64,
    "ai_prs": pl.Float64,
    "defects": pl.Int64,
    "incidents": pl.Int64,
    "reverts": pl.Int64,
}


def _number(v):
    """Database numbers (``Decimal`` from SUM/AVG) as int/float for polars."""
    if v is None or isinstance(v, int | float):
        return v
    return float(v) if "." in str(v) or "E" in str(v).upper() else int(v)


def _literal(conn, dialect: str):
    """A function quoting a string as an SQL literal with the driver's own escaping."""
    if dialect == "postgresql":
        from psycopg import sql

        return lambda v: sql.Literal(v).as_string(conn)
    return conn.escape


def _people(rows: list[dict], ids: Identities, teams: dict) -> tuple[pl.DataFrame, dict]:
    """People (as the import's ``people``) and the (author_id, author_name) -> engineer map.

    One tuple per account and PR author name; an engineer's earliest tuple gives the name,
    e-mail, login and team (the import takes those of its first PR row).
    """
    rows = sorted(rows, key=lambda r: dr.to_dt(r["first_seen"]))
    people: dict[str, dict] = {}
    idmap: dict[tuple[str, str], str] = {}
    for r in rows:
        eid, bot, email, login = author_of(r, ids)
        idmap.setdefault((r["author_id"] or "", r["author_name"] or ""), eid)
        add_person(people, eid, r, email, login, teams, bot, dr.to_dt(r["first_seen"]))
    return frame(list(people.values()), PEOPLE_SCHEMA), idmap


def _pushdown_note(note: str) -> str:
    """An import note as the pushdown says it: it writes no draft identity file (the
    import's ``identities_suggested.csv``), so the clause naming it points to the import;
    nor a ``pull_requests`` file."""
    note = note.replace(
        "their PRs are kept in pull_requests but left out of the analysis",
        "their PRs are left out of the panel",
    )
    if DRAFT_FILE not in note:
        return note
    at = note.index(DRAFT_FILE)
    start = max(note.rfind("; ", 0, at), note.rfind(". ", 0, at))
    ends = [i for i in (note.find("; ", at), note.find(". ", at)) if i >= 0]
    end = min(ends) if ends else len(note)
    said = "`certkit import devlake` with the same options writes a draft identity file to check"
    if start < 0:
        return said[0].upper() + said[1:] + note[end:]
    return note[:start] + "; " + said + note[end:]


def _assemble(
    outcomes, people, bounds, period, inputs, roster_only, keep_partial_end
) -> pl.DataFrame:
    """Grid, treatment and covariates from ``build_panel`` on the roster (two calendar rows
    stand in for the PRs: they set the first and last period), outcomes from the database.

    The roster and certifications go through :func:`~certkit.connectors.base.to_dataset`
    as in the import (certifications naming an engineer by an alias ``ids`` maps, and
    ``roster_only``); its notes are re-emitted without the import's draft file."""
    engineers, certifications, ids = inputs
    first, last, n = bounds
    # a partial last period is left out as build_panel leaves it out of an import (which
    # counts the PRs the two calendar rows stand for here): the grid ends a period earlier
    opens = datetime.combine(period_start(first.date(), period), time())
    partial = (
        None
        if keep_partial_end
        else partial_last_period(opens, last, n, period, "the last PR opened or merged")
    )
    if partial:
        last = datetime.combine(partial[0], time()) - timedelta(seconds=1)
        warnings.warn(partial[1], CertkitWarning, stacklevel=3)
    calendar = [
        {
            "id": "calendar-1",
            "author_id": _CALENDAR,
            "repo": "calendar",
            "created_date": first,
            "merged_date": first,
        },
        {
            "id": "calendar-2",
            "author_id": _CALENDAR,
            "repo": "calendar",
            "created_date": first,
            "merged_date": last,
        },
    ]
    # only the columns of certkit's pull_requests table: no note on columns nobody gave
    prs = frame(calendar, PR_SCHEMA)
    prs = prs.select(c.name for c in TABLES["pull_requests"].columns if c.name in prs.columns)
    imp = Import(pull_requests=prs, people=people, people_have_prs=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        ds = to_dataset(
            imp,
            engineers=engineers,
            certifications=certifications,
            strict=True,
            identities=ids,
            roster_only=roster_only,
        )
    for note in imp.notes:
        warnings.warn(_pushdown_note(note), CertkitWarning, stacklevel=3)
    # the certifications file's own warnings, as the import gives them (trial R: "earned
    # before hire_date" was silent); the PR table here is two calendar rows: not its warnings
    said = set(imp.notes)
    for problem in ds.validation.warnings:
        if problem.table == "certifications" and problem.format() not in said:
            warnings.warn(problem.format(), CertkitWarning, stacklevel=3)
    grid = build_panel(ds, period, keep_partial_end=True)  # decided above, with the PR count
    if partial:  # as build_panel on the import says it of its own partial period
        arrivals_in_dropped(ds.human_engineers(), grid, partial[0], period)
    on = ["engineer_id", "period_index"]
    out = grid.drop(*_OUTCOMES, "defects_per_pr", "revert_rate", "ai_share")
    out = out.join(outcomes.with_columns(pl.col("period_index").cast(pl.Int32)), on=on, how="left")
    merged = pl.col("merged_prs")
    out = out.with_columns(
        # no merged PR in the period: nothing changed (0); merged PRs of unknown size: null
        pl.when(merged.is_null()).then(0).otherwise(pl.col("lines_changed")).alias("lines_changed"),
        *(pl.col(c).fill_null(0) for c in ("merged_prs", "prs_opened", "defects", "incidents")),
        pl.col("ai_prs").fill_null(0.0),
        pl.col("reverts").fill_null(0),
    ).with_columns(
        pl.when(merged > 0).then(pl.col("defects") / merged).alias("defects_per_pr"),
        # every PR has a known reverted (True or False), as in the import
        pl.when(merged > 0).then(pl.col("reverts") / merged).alias("revert_rate"),
        # every PR has a known ai_assisted (0 or 1), as in the import
        pl.when(merged > 0).then(pl.col("ai_prs") / merged).alias("ai_share"),
    )
    return out.select(grid.columns).cast(
        {c: t for c, t in PANEL_SCHEMA.items() if c in grid.columns}
    )
