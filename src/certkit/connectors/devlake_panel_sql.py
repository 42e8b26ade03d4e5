"""The SQL of :func:`certkit.connectors.devlake_panel.devlake_panel`, per dialect.

One query computes the outcomes per (engineer key, period index) inside DevLake's database,
with the rules of the import (:mod:`certkit.connectors.devlake_import`,
:mod:`certkit.connectors.devlake_rows`) and of the panel (``docs/data-model.md``) written
in SQL that runs on PostgreSQL, MySQL 8 and MariaDB (>= 10.2: window functions):

- times are read as naive UTC (``timestamptz`` converted with ``AT TIME ZONE 'UTC'``;
  MySQL's zero dates read as NULL), as :func:`certkit.connectors.devlake_read.to_dt` does;
- merged by :func:`~certkit.connectors.devlake_rows.merge_state` (status first, then the
  dates, then the merge commit's date);
- PRs merged before they were created are left out, as validation drops them; a first review
  before creation is ignored;
- medians from ``ROW_NUMBER``/``COUNT`` windows (the mean of the middle one or two values);
- every merged-PR outcome from one pass over the merged PRs (the opened counts from a
  lighter pass over the PRs), and each CTE read as few times as possible:
  MariaDB does not share a CTE between its references but computes it again at each one
  (PostgreSQL 12+ and MySQL 8 compute it once);
- a defect or incident linked through ``pull_request_issues`` to a PR merged at or after it
  was created (or never merged) is not charged to the PR's author with ``fix_links="drop"``
  (:mod:`certkit.data.panel_links`: such a link names the fix); a deployment blames only a
  PR merged before the incident started, as the import's
  :func:`~certkit.connectors.devlake_rows.link_incidents` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from certkit.connectors import devlake_read as dr

HOUR = 3600


@dataclass(frozen=True)
class Dialect:
    """SQL fragments of one database: PostgreSQL or MySQL/MariaDB."""

    name: str
    tz: frozenset[str]  # "table.column" of timestamptz columns (PostgreSQL)
    mariadb: bool = False  # MariaDB (not MySQL 8): literal rows as ``VALUES``

    @property
    def pg(self) -> bool:
        return self.name == "postgresql"

    def ts(self, s: dr.Schema, table: str, alias: str, col: str) -> str:
        """A date/time column as naive UTC (NULL when missing or a MySQL zero date)."""
        if not s.has(table, col):
            return self.null("ts")
        ref = f"{alias}.{col}"
        if self.pg:
            return f"({ref} AT TIME ZONE 'UTC')" if f"{table}.{col}" in self.tz else ref
        return f"(CASE WHEN YEAR({ref}) > 0 THEN {ref} END)"

    def null(self, kind: str) -> str:
        """A typed NULL (PostgreSQL cannot compare an untyped NULL column): ``ts``/``num``."""
        if not self.pg:
            return "NULL"
        return "CAST(NULL AS TIMESTAMP)" if kind == "ts" else "CAST(NULL AS DOUBLE PRECISION)"

    def seconds(self, later: str, earlier: str) -> str:
        """Whole seconds from ``earlier`` to ``later`` (truncated toward 0), as a double."""
        if self.pg:
            return f"CAST(TRUNC(EXTRACT(EPOCH FROM ({later}) - ({earlier}))) AS DOUBLE PRECISION)"
        return f"(TIMESTAMPDIFF(SECOND, {earlier}, {later}) * 1E0)"

    def double(self, value: float) -> str:
        return f"CAST({value!r} AS DOUBLE PRECISION)" if self.pg else f"{value!r}E0"

    def div(self, a: str, b: int) -> str:
        """Integer division of non-negative integers."""
        return f"(({a}) / {b})" if self.pg else f"(({a}) DIV {b})"

    def index(self, expr: str, period: str, start: date) -> str:
        """1-based index of the period holding ``expr`` (as the panel's ``_period_index``)."""
        if period == "week":
            days = (
                f"(CAST({expr} AS DATE) - DATE '{start.isoformat()}')"
                if self.pg
                else f"DATEDIFF({expr}, '{start.isoformat()}')"
            )
            return f"(CASE WHEN {days} >= 0 THEN {self.div(days, 7)} + 1 ELSE 0 END)"
        if self.pg:
            year = f"CAST(EXTRACT(YEAR FROM {expr}) AS INTEGER)"
            month = f"CAST(EXTRACT(MONTH FROM {expr}) AS INTEGER)"
        else:
            year, month = f"YEAR({expr})", f"MONTH({expr})"
        if period == "quarter":
            return (
                f"(({year} - {start.year}) * 4 + {self.div(f'{month} - 1', 3)} "
                f"- {(start.month - 1) // 3} + 1)"
            )
        return f"(({year} - {start.year}) * 12 + {month} - {start.month} + 1)"

    def sortable(self, expr: str) -> str:
        """``expr`` compared by code point, as Python compares strings."""
        return f'({expr}) COLLATE "C"' if self.pg else f"BINARY ({expr})"

    def key(self, expr: str) -> str:
        """A text join key compared exactly (MySQL: one binary collation on both sides)."""
        if self.pg:
            return f"COALESCE({expr}, '')"
        return f"CONVERT(COALESCE({expr}, '') USING utf8mb4) COLLATE utf8mb4_bin"

    def concat(self, *parts: str) -> str:
        return " || ".join(parts) if self.pg else f"CONCAT({', '.join(parts)})"

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS {'TEXT' if self.pg else 'CHAR'})"

    def source(self, expr: str) -> str:
        """The plugin prefix of a DevLake id (``other`` without one), as ``source_of``."""
        if self.pg:
            return f"(CASE WHEN POSITION(':' IN {expr}) > 0 THEN SPLIT_PART({expr}, ':', 1) ELSE 'other' END)"
        return f"(CASE WHEN LOCATE(':', {expr}) > 0 THEN SUBSTRING_INDEX({expr}, ':', 1) ELSE 'other' END)"

    def short(self, expr: str, n: int = 255) -> tuple[str, str]:
        """``(expr as at most n characters, condition that it was no longer)``: a join key
        MariaDB can hash. MariaDB leaves a ``longtext`` column out of a hash join's key (the
        join compares every row), so a ``longtext`` compared with a ``varchar(n)`` is cut to
        ``n`` characters, and longer values (which can equal no ``varchar(n)``) are left out.
        """
        if self.pg:
            return expr, "1 = 1"
        return f"LEFT({expr}, {n})", f"CHAR_LENGTH({expr}) <= {n}"

    def truthy(self, expr: str) -> str:
        """``bool(expr)`` of a boolean or tinyint column."""
        return f"COALESCE({expr}, FALSE)" if self.pg else f"COALESCE({expr}, 0) <> 0"


def created(d: Dialect, s: dr.Schema) -> str:
    return d.ts(s, "pull_requests", "pr", "created_date")


def merged(d: Dialect, s: dr.Schema) -> tuple[str, str, str]:
    """``(merged date, merged flag, join)``: the merge-state rule of ``merge_state``."""
    status = "UPPER(COALESCE(pr.status, ''))" if s.has("pull_requests", "status") else "''"
    draft = d.truthy("pr.is_draft") if s.has("pull_requests", "is_draft") else "1 = 0"
    md = d.ts(s, "pull_requests", "pr", "merged_date")
    cd = d.ts(s, "pull_requests", "pr", "closed_date")
    join, commit_date = "", "NULL"
    if s.has("commits", "sha", "committed_date") and s.has("pull_requests", "merge_commit_sha"):
        join = "LEFT JOIN commits mc ON mc.sha = pr.merge_commit_sha"
        commit_date = d.ts(s, "commits", "mc", "committed_date")
    date_ = (
        f"CASE WHEN {status} = 'MERGED' THEN COALESCE({md}, {cd}, {commit_date}) "
        f"WHEN {status} IN ('CLOSED', 'OPEN') OR {draft} THEN NULL ELSE {md} END"
    )
    flag = (
        f"CASE WHEN {status} = 'MERGED' THEN 1 WHEN {status} IN ('CLOSED', 'OPEN') OR {draft} "
        f"THEN 0 WHEN {md} IS NOT NULL THEN 1 ELSE 0 END"
    )
    return date_, flag, join


def stats_query(d: Dialect, s: dr.Schema, where: str) -> str:
    """PR count, PRs merged before created, and the time bounds of the valid PRs."""
    c = created(d, s)
    m, _, join = merged(d, s)
    neg = f"({m}) IS NOT NULL AND ({m}) < {c}"
    return f"""
SELECT COUNT(*) AS n, SUM(CASE WHEN {neg} THEN 1 ELSE 0 END) AS negative,
  MIN(CASE WHEN NOT ({neg}) THEN {c} END) AS first_created,
  MIN(CASE WHEN NOT ({neg}) THEN {m} END) AS first_merged,
  MAX(CASE WHEN NOT ({neg}) THEN {c} END) AS last_created,
  MAX(CASE WHEN NOT ({neg}) THEN {m} END) AS last_merged
FROM pull_requests pr {join}
WHERE {where} AND {c} IS NOT NULL
"""


def _col(s: dr.Schema, table: str, alias: str, col: str) -> str:
    return f"{alias}.{col}" if s.has(table, col) else "NULL"


def authors_query(d: Dialect, s: dr.Schema, where: str) -> str:
    """The distinct author tuples the import resolves (the author columns of ``pr_query``),
    with each tuple's first PR creation."""
    pairs = [
        ("author_id", _col(s, "pull_requests", "pr", "author_id")),
        ("author_name", _col(s, "pull_requests", "pr", "author_name")),
    ]
    joins = []
    accounts = s.has("accounts", "id")
    if accounts:
        joins.append("LEFT JOIN accounts a ON a.id = pr.author_id")
    for col in ("user_name", "email", "full_name"):
        pairs.append((col, _col(s, "accounts", "a", col) if accounts else "NULL"))
    users = s.has("user_accounts", "user_id", "account_id") and s.has("users", "id")
    if users:
        joins += [
            "LEFT JOIN user_accounts ua ON ua.account_id = pr.author_id",
            "LEFT JOIN users u ON u.id = ua.user_id",
        ]
    pairs += [
        ("user_id", "ua.user_id" if users else "NULL"),
        ("user_email", _col(s, "users", "u", "email") if users else "NULL"),
        ("user_name2", _col(s, "users", "u", "name") if users else "NULL"),
    ]
    select = ", ".join(f"{expr} AS {alias}" for alias, expr in pairs)
    group = ", ".join(expr for _, expr in pairs if expr != "NULL")
    c = created(d, s)
    # each author's time bounds, as stats_query's: the panel's window is that of the
    # engineers' PRs, bots' left aside (build_panel's; trial AG: a bot's PRs on the 20th kept
    # a partial last week that build_panel on the import left out)
    m, _, merge_join = merged(d, s)
    neg = f"({m}) IS NOT NULL AND ({m}) < {c}"
    if merge_join:
        joins.append(merge_join)
    return f"""
SELECT {select}, MIN({c}) AS first_seen,
  SUM(CASE WHEN NOT ({neg}) THEN 1 ELSE 0 END) AS n_valid,
  MIN(CASE WHEN NOT ({neg}) THEN {c} END) AS first_created,
  MIN(CASE WHEN NOT ({neg}) THEN {m} END) AS first_merged,
  MAX(CASE WHEN NOT ({neg}) THEN {c} END) AS last_created,
  MAX(CASE WHEN NOT ({neg}) THEN {m} END) AS last_merged
FROM pull_requests pr
{chr(10).join(joins)}
WHERE {where} AND {c} IS NOT NULL
GROUP BY {group}
"""


def idmap_cte(d: Dialect, rows: list[tuple[str, str, int]], quote) -> str:
    """The account -> engineer map as literal rows: ``(author_id, author_name, key)``;
    ``quote`` makes a string literal (the driver's escaping)."""

    def lit(v: str) -> str:
        text = quote(v).replace("%", "%%")  # the query also carries %(name)s parameters
        return text if d.pg else f"CONVERT({text} USING utf8mb4) COLLATE utf8mb4_bin"

    if not rows:
        rows = [("", "", -1)]  # no author: a map that matches nothing real
    # PostgreSQL and MariaDB (10.3+): one table value constructor. Not one SELECT per row:
    # MariaDB parsed and optimized the 25,000 SELECTs of 1,000,000 PRs' accounts for about
    # 8 s of server CPU at each run (``EXPLAIN`` alone), against about 2 s with ``VALUES``.
    # MySQL 8 spells it ``VALUES ROW(...)`` (from 8.0.19) and is not tested here: SELECTs.
    if d.pg or d.mariadb:
        values = ",\n  ".join(f"({lit(a)}, {lit(n)}, {k})" for a, n, k in rows)
        return f"idmap (aid, aname, ek) AS (VALUES\n  {values})"
    first, *rest = rows
    sel = [f"SELECT {lit(first[0])} AS aid, {lit(first[1])} AS aname, {first[2]} AS ek"]
    sel += [f"SELECT {lit(a)}, {lit(n)}, {k}" for a, n, k in rest]
    return "idmap AS (" + "\n  UNION ALL ".join(sel) + ")"


def link_ctes(d: Dialect, links: bool, incident_cond: str | None) -> list[str]:
    """``links`` (each issue's PR, as the import picks it) and ``inc_ids`` (the incidents
    table's ids, which the issues copied from it must not count twice)."""
    ctes = []
    if links:
        # the smallest linked PR id by code point (as the import), joined in its own collation
        ctes.append(f"""links AS (
  SELECT issue_id, pid FROM (
    SELECT issue_id, pull_request_id AS pid, ROW_NUMBER() OVER (
      PARTITION BY issue_id ORDER BY {d.sortable("pull_request_id")}) AS rn
    FROM pull_request_issues) ranked_links
  WHERE rn = 1)""")
    if incident_cond is not None:
        ctes.append(f"inc_ids AS (SELECT i.id FROM incidents i WHERE 1 = 1 {incident_cond})")
    return ctes


def _not_incident(incident_cond: str | None) -> str:
    # an anti join (NOT IN over a subquery is a nested loop in PostgreSQL when not hashed)
    if incident_cond is None:
        return ""
    return " AND NOT EXISTS (SELECT 1 FROM inc_ids n WHERE n.id = i.id)"


def fixes_query(
    d: Dialect, s: dr.Schema, where: str, issue_cond: str, incident_cond: str | None
) -> str | None:
    """The issues linked through ``pull_request_issues`` to a PR of the panel merged at or
    after the issue was created, or never merged (``kind``: ``defects`` for bugs,
    ``incidents`` for incident issues; ``iid`` the issue id): what ``fix_links="drop"``
    leaves out, for its warning. None without issues or links."""
    if not (
        s.has("issues", "id", "type")
        and s.has("pull_request_issues", "pull_request_id", "issue_id")
    ):
        return None
    c = created(d, s)
    m, _, merge_join = merged(d, s)
    ic = d.ts(s, "issues", "i", "created_date")
    ctes = link_ctes(d, True, incident_cond)
    return (
        "WITH "
        + ",\n".join(ctes)
        + f"""
SELECT CASE WHEN i.type = 'BUG' THEN 'defects' ELSE 'incidents' END AS kind, i.id AS iid
FROM issues i JOIN links l ON l.issue_id = i.id
JOIN pull_requests pr ON pr.id = l.pid {merge_join}
WHERE i.type IN ('BUG', 'INCIDENT') {issue_cond}{_not_incident(incident_cond)}
  AND {where} AND {c} IS NOT NULL AND NOT ({m} IS NOT NULL AND {m} < {c})
  AND {ic} IS NOT NULL AND ({m} IS NULL OR {m} >= {ic})
"""
    )


def panel_query(
    d: Dialect,
    s: dr.Schema,
    where: str,
    idmap: str,
    period: str,
    start: date,
    issue_cond: str,
    incident_cond: str | None,
    rel: str | None,
    ai: tuple[str | None, str, str] = (None, "", "0"),
    fix_links: str = "drop",
    reverted: tuple[str | None, str, str] = (None, "", "0"),
) -> str:
    """The outcomes per (``ek``, ``p``): see the module docstring.

    ``where`` selects the PRs (as the import), ``issue_cond``/``incident_cond`` the issues
    and incidents (``None``: no ``incidents`` table), ``rel`` the incident -> deployment
    table (``None``: incidents link to PRs only through ``pull_request_issues``), ``ai`` the
    AI PRs (:func:`certkit.connectors.devlake_panel_ai.pr_flag`: CTE, join, 0/1 flag),
    ``reverted`` the reverted PRs (the same form),
    ``fix_links`` ``"drop"`` or ``"keep"`` (:func:`certkit.data.panel.build_panel`).
    """
    drop = fix_links == "drop"
    c = created(d, s)
    m, flag, merge_join = merged(d, s)
    ai_cte, ai_join, ai_flag = ai
    rev_cte, rev_join, rev_flag = reverted
    ctes = [idmap] + [cte for cte in (ai_cte, rev_cte) if cte]
    joins = [merge_join, ai_join, rev_join]
    lite_joins = [merge_join]  # what the incident blame needs of a PR (no reviews, no lines)
    first_review = d.null("ts")
    if s.has("pull_request_comments", "pull_request_id", "account_id", "created_date"):
        bots, ajoin = "", ""
        if s.has("accounts", "id", "user_name"):
            ajoin = "LEFT JOIN accounts ca ON ca.id = c.account_id"
            bots = "AND (ca.user_name IS NULL OR ca.user_name NOT LIKE '%%[bot]')"
        ctes.append(f"""rev AS (
  SELECT c.pull_request_id AS pid, MIN({d.ts(s, "pull_request_comments", "c", "created_date")}) AS fr
  FROM pull_request_comments c JOIN pull_requests pr ON pr.id = c.pull_request_id {ajoin}
  WHERE {where} AND c.account_id IS NOT NULL AND c.account_id <> ''
    AND (pr.author_id IS NULL OR c.account_id <> pr.author_id) {bots}
  GROUP BY c.pull_request_id)""")
        joins.append("LEFT JOIN rev ON rev.pid = pr.id")
        first_review = "rev.fr"
    first_comment, pickup, deploy = d.null("ts"), d.null("num"), "NULL"
    if s.has("project_pr_metrics", "id"):
        # one row per PR and DevLake project: one per PR here (the earliest first comment,
        # the smallest pickup time and deployment commit id), never a PR counted twice
        cols = [f"MIN({d.ts(s, 'project_pr_metrics', 'm0', 'first_comment_date')}) AS fc"]
        first_comment = "pm.fc"
        if s.has("project_pr_metrics", "pr_pickup_time"):
            cols.append("MIN(m0.pr_pickup_time) AS pt")
            pickup = "pm.pt"
        if s.has("project_pr_metrics", "deployment_commit_id"):
            cols.append("MIN(m0.deployment_commit_id) AS dep")
            deploy = "pm.dep"
        ctes.append(
            f"metrics AS (SELECT m0.id, {', '.join(cols)} FROM project_pr_metrics m0 "
            "GROUP BY m0.id)"
        )
        joins.append("LEFT JOIN metrics pm ON pm.id = pr.id")
        lite_joins.append(joins[-1])
    repo = "NULL"
    if s.has("repos", "id", "name"):
        joins.append("LEFT JOIN repos r ON r.id = pr.base_repo_id")
        lite_joins.append(joins[-1])
        repo = "NULLIF(r.name, '')"
    repo = f"COALESCE({repo}, NULLIF(pr.base_repo_id, ''))"
    key = d.text("pr.pull_request_key") if s.has("pull_requests", "pull_request_key") else "NULL"
    joined = d.concat(repo, "'#'", key)
    cid = (
        f"CASE WHEN {key} IS NOT NULL AND {key} NOT IN ('', '0') AND {repo} IS NOT NULL "
        f"THEN {joined} ELSE pr.id END"
    )
    add, dele = (
        f"pr.{c}" if s.has("pull_requests", c) else d.null("num")
        for c in ("additions", "deletions")
    )
    sha = _col(s, "pull_requests", "pr", "merge_commit_sha")
    # Issue links and per-PR defect counts come before ``base``, which joins them.
    links = s.has("pull_request_issues", "pull_request_id", "issue_id")
    ctes += link_ctes(d, links, incident_cond)
    not_incident = _not_incident(incident_cond)
    issues = s.has("issues", "id", "type")
    ndef = d.null("num")
    if issues and links:
        # with ``drop``, only bugs reported after their PR merged (the PR's merge rule joined
        # by primary key; an unmerged PR's merge date is NULL, so it is left out too)
        caused = f"JOIN pull_requests pr ON pr.id = l.pid {merge_join}" if drop else ""
        after = f" AND {m} < {d.ts(s, 'issues', 'i', 'created_date')}" if drop else ""
        ctes.append(f"""defpr AS (
  SELECT l.pid, COUNT(*) AS n FROM issues i JOIN links l ON l.issue_id = i.id {caused}
  WHERE i.type = 'BUG' {issue_cond}{not_incident}{after} GROUP BY l.pid)""")
        joins.append("LEFT JOIN defpr ON defpr.pid = pr.id")
        ndef = "defpr.n"
    ctes.append(f"""base AS (
  SELECT pr.id AS did, {cid} AS cid, im.ek AS ek, {c} AS created, {m} AS merged,
    {flag} AS is_merged, {sha} AS msha, {deploy} AS dep,
    COALESCE({first_review}, {first_comment}) AS fr, {pickup} AS pmin,
    {d.source("pr.id")} AS src, {add} AS a, {dele} AS d, {ai_flag} AS ai, {ndef} AS ndef,
    {rev_flag} AS rev
  FROM pull_requests pr
  LEFT JOIN idmap im ON im.aid = {d.key("pr.author_id")} AND im.aname = {d.key("pr.author_name")}
  {chr(10).join(j for j in joins if j)}
  WHERE {where} AND {c} IS NOT NULL)""")
    # per source: 0/0 line counts read as missing? (from pull_requests itself: MariaDB
    # would compute ``base`` again for every CTE that reads it)
    known = f"({add} IS NOT NULL OR {dele} IS NOT NULL)"
    zero = f"(COALESCE({add}, 0) = 0 AND COALESCE({dele}, 0) = 0)"
    src = d.source("pr.id")
    ctes.append(f"""srcz AS (
  SELECT {src} AS src, CASE WHEN {src} <> 'github' THEN 1
    WHEN SUM(CASE WHEN {known} THEN 1 ELSE 0 END) > 0
      AND SUM(CASE WHEN {known} AND NOT {zero} THEN 1 ELSE 0 END) = 0 THEN 1 ELSE 0 END AS dz
  FROM pull_requests pr WHERE {where} AND {c} IS NOT NULL GROUP BY {src})""")
    bzero = "(COALESCE(b.a, 0) = 0 AND COALESCE(b.d, 0) = 0)"
    hours = f"{d.seconds('b.merged', 'b.created')} / {HOUR}"
    pick_s = (
        f"CASE WHEN b.fr IS NOT NULL THEN (CASE WHEN b.fr >= b.created THEN "
        f"{d.seconds('b.fr', 'b.created')} END) "
        f"WHEN b.pmin >= 0 THEN FLOOR(b.pmin * 60) * {d.double(1.0)} END"
    )
    ctes.append(f"""prs AS (
  SELECT b.did, b.ek, b.merged, b.ai, b.ndef, b.rev, {d.index("b.created", period, start)} AS pc,
    {d.index("b.merged", period, start)} AS pm,
    CASE WHEN b.merged IS NOT NULL THEN GREATEST({hours}, {d.double(1 / 60)}) END AS cyc,
    ({pick_s}) / {HOUR} AS pick,
    CASE WHEN b.a IS NULL AND b.d IS NULL THEN NULL WHEN z.dz = 1 AND {bzero} THEN NULL
      ELSE COALESCE(b.a, 0) + COALESCE(b.d, 0) END AS nlines
  FROM base b JOIN srcz z ON z.src = b.src
  WHERE NOT (b.merged IS NOT NULL AND b.merged < b.created))""")
    # ``ek >= 0`` written as COALESCE(ek, -1) >= 0: ``ek IS NOT NULL`` would turn the LEFT
    # JOIN of the account map into an inner join, which MariaDB then starts from (it
    # estimates 2 rows for the literal map) and block-nested-loops every PR against it.
    # One pass over the merged PRs for every merged-PR outcome (period of the merge);
    # medians from ROW_NUMBER and COUNT windows (the mean of the middle one or two values).
    # The opened PRs (period of creation) are counted in a lighter pass (``opened``): the
    # joins of ``base`` and the window sorts then see the merged PRs only, not every PR twice
    # (MariaDB at 1,000,000 PRs: its window steps spilled to disk and grew about 300x for
    # 10x the PRs, and the hash join of ``metrics`` rescanned it once per 16 MB of PRs).
    ctes.append("""ev AS (
  SELECT p.ek, p.pm AS p, p.cyc, p.pick, p.nlines, p.ai, p.ndef, p.rev
  FROM prs p
  WHERE p.merged IS NOT NULL AND COALESCE(p.ek, -1) >= 0)""")
    # two steps, each with one partition: MariaDB 10.11.19 numbers rows wrongly with the four
    # windows in one SELECT (ROW_NUMBER by cyc, COUNT, ROW_NUMBER by pick in a finer
    # partition, COUNT(pick): wrong in 299 of 300 groups of a plain 3,000-row table)
    ctes.append("""evc AS (
  SELECT ek, p, cyc, pick, nlines, ai, ndef, rev,
    ROW_NUMBER() OVER (PARTITION BY ek, p ORDER BY cyc) AS rc,
    COUNT(*) OVER (PARTITION BY ek, p) AS nc
  FROM ev)""")
    ctes.append("""evw AS (
  SELECT ek, p, cyc, pick, nlines, ai, ndef, rev, rc, nc,
    ROW_NUMBER() OVER (
      PARTITION BY ek, p, CASE WHEN pick IS NULL THEN 1 ELSE 0 END ORDER BY pick) AS rp,
    COUNT(pick) OVER (PARTITION BY ek, p, CASE WHEN pick IS NULL THEN 1 ELSE 0 END) AS np
  FROM evc)""")
    mid = "2 * rc BETWEEN nc AND nc + 2"
    ctes.append(f"""outc AS (
  SELECT ek, p, COUNT(*) AS merged_prs,
    AVG(LN(cyc)) AS lmean, SUM(nlines) AS nlines, SUM(ai) AS ai_prs, SUM(ndef) AS defects,
    SUM(rev) AS reverts,
    AVG(CASE WHEN {mid} THEN cyc END) AS med,
    AVG(CASE WHEN {mid} THEN LN(cyc) END) AS lmed,
    AVG(CASE WHEN pick IS NOT NULL AND 2 * rp BETWEEN np AND np + 2 THEN pick END) AS pmed
  FROM evw GROUP BY ek, p)""")
    if d.pg:  # PostgreSQL computes ``prs`` once for both references
        ctes.append("""opened AS (
  SELECT ek, pc AS p, COUNT(*) AS n FROM prs WHERE COALESCE(ek, -1) >= 0 GROUP BY ek, pc)""")
    else:
        ctes.append(f"""opened AS (
  SELECT im.ek, {d.index(c, period, start)} AS p, COUNT(*) AS n
  FROM pull_requests pr
  LEFT JOIN idmap im ON im.aid = {d.key("pr.author_id")} AND im.aname = {d.key("pr.author_name")}
  {merge_join}
  WHERE {where} AND {c} IS NOT NULL AND COALESCE(im.ek, -1) >= 0
    AND NOT ({m} IS NOT NULL AND {m} < {c})
  GROUP BY im.ek, {d.index(c, period, start)})""")
    parts = []
    if incident_cond is not None:
        parts.append(
            f"SELECT i.id AS iid, {d.ts(s, 'incidents', 'i', 'created_date')} AS created, "
            f"NULL AS pid FROM incidents i WHERE 1 = 1 {incident_cond}"
        )
    if issues:
        link = ("LEFT JOIN links l ON l.issue_id = i.id", "l.pid") if links else ("", "NULL")
        parts.append(
            f"SELECT i.id AS iid, {d.ts(s, 'issues', 'i', 'created_date')} AS created, "
            f"{link[1]} AS pid FROM issues i {link[0]} "
            f"WHERE i.type = 'INCIDENT' {issue_cond}{not_incident}"
        )
    icnt = False
    if parts:
        ctes.append("inc AS (\n  " + "\n  UNION ALL ".join(parts) + ")")
        # the PRs as the blame needs them (lighter than ``base``, which is read once)
        if d.pg:  # PostgreSQL computes ``base`` once for both references
            ctes.append("""lite AS (
  SELECT did, cid, ek, created, merged, is_merged, msha, dep FROM base)""")
        else:
            ctes.append(f"""lite AS (
  SELECT pr.id AS did, {cid} AS cid, im.ek AS ek, {c} AS created, {m} AS merged,
    {flag} AS is_merged, {sha} AS msha, {deploy} AS dep
  FROM pull_requests pr
  LEFT JOIN idmap im ON im.aid = {d.key("pr.author_id")} AND im.aname = {d.key("pr.author_name")}
  {chr(10).join(j for j in lite_joins if j)}
  WHERE {where} AND {c} IS NOT NULL)""")
        # a linked PR counts when it is one of the PRs read (primary-key lookups)
        ctes.append(f"""inc_direct AS (
  SELECT x.iid, x.created, b.did FROM inc x LEFT JOIN (
    SELECT pr.id AS did FROM pull_requests pr WHERE {where} AND {c} IS NOT NULL) b
    ON b.did = x.pid)""")
        blamed = "x.did"
        if rel and s.has("cicd_deployment_commits", "id", "cicd_deployment_id", "commit_sha"):
            # incident -> (kind, key) and merged PR -> (kind, key), kind 1 the merge commit
            # sha, 2 the deployment commit id; both sides UNIONs, so that MariaDB
            # materializes them and joins by a key (it has no hash join by default)
            # DevLake's deployment_id and deployment_commit_id are longtext (varchar(255) the
            # cicd_deployment_commits columns they must equal): cut to 255 for MariaDB, which
            # otherwise hashed ``pkey`` by ``kind`` alone (100,000 PRs: 38,000 rows compared
            # per incident key, 110 s)
            dep_id, dep_ok = d.short("rl.deployment_id")
            dep, dep_short = d.short("b.dep")
            ctes.append(f"""ikey AS (
  SELECT rl.id AS iid, 1 AS kind, dc.commit_sha AS v
  FROM {rel} rl JOIN cicd_deployment_commits dc ON dc.cicd_deployment_id = {dep_id}
  WHERE rl.deployment_id IS NOT NULL AND {dep_ok}
  UNION
  SELECT rl.id, 2, dc.id
  FROM {rel} rl JOIN cicd_deployment_commits dc ON dc.cicd_deployment_id = {dep_id}
  WHERE rl.deployment_id IS NOT NULL AND {dep_ok})""")
            ctes.append(f"""pkey AS (
  SELECT b.did, b.cid, b.merged, 1 AS kind, b.msha AS v FROM lite b
  WHERE b.is_merged = 1 AND b.msha <> ''
  UNION
  SELECT b.did, b.cid, b.merged, 2, {dep} FROM lite b
  WHERE b.is_merged = 1 AND b.dep <> '' AND {dep_short})""")
            # a deployment blames a PR merged before the incident (DevLake's DORA plugin links
            # an incident to the last deployment finished before it: always so there)
            ctes.append("""cand AS (
  SELECT DISTINCT x.iid, k.did, k.cid, k.merged
  FROM inc_direct x JOIN ikey i ON i.iid = x.iid JOIN pkey k ON k.kind = i.kind AND k.v = i.v
  WHERE x.did IS NULL AND k.merged < x.created)""")
            ctes.append(f"""blame AS (
  SELECT iid, did FROM (
    SELECT iid, did, ROW_NUMBER() OVER (PARTITION BY iid ORDER BY
      CASE WHEN merged IS NULL THEN 1 ELSE 0 END, merged DESC, {d.sortable("cid")} DESC) AS rn
    FROM cand) ranked
  WHERE rn = 1)""")
            blamed = "COALESCE(x.did, bl.did)"
            bjoin = "LEFT JOIN blame bl ON bl.iid = x.iid"
        else:
            bjoin = ""
        # ``drop``: a directly linked PR merged at or after the incident is its fix
        caused_only = " AND p.merged < x.created" if drop else ""
        ctes.append(f"""icnt AS (
  SELECT p.ek, {d.index("x.created", period, start)} AS p, COUNT(*) AS n
  FROM inc_direct x {bjoin} JOIN lite p ON p.did = {blamed}
  WHERE COALESCE(p.ek, -1) >= 0 AND x.created IS NOT NULL
    AND NOT (p.merged IS NOT NULL AND p.merged < p.created){caused_only}
  GROUP BY p.ek, {d.index("x.created", period, start)})""")
        icnt = True
    # every outcome CTE read once (MariaDB computes a CTE again at each reference)
    big = "CAST(NULL AS BIGINT)" if d.pg else "NULL"
    num = d.null("num")
    rows = [
        f"SELECT ek, p, merged_prs, {big} AS opened, lmed, lmean, med, pmed, nlines, ai_prs, "
        f"defects, {big} AS incidents, reverts FROM outc",
        f"SELECT ek, p, {big}, n, {num}, {num}, {num}, {num}, {big}, {num}, {big}, {big}, {big} "
        "FROM opened",
    ]
    if icnt:
        rows.append(
            f"SELECT ek, p, {big}, {big}, {num}, {num}, {num}, {num}, {big}, {num}, {big}, n, "
            f"{big} FROM icnt"
        )
    return (
        "WITH "
        + ",\n".join(ctes)
        + f"""
SELECT u.ek AS ek, u.p AS p, NULLIF(MAX(u.merged_prs), 0) AS merged_prs,
  NULLIF(MAX(u.opened), 0) AS prs_opened, MAX(u.lmed) AS cycle_time_log_median,
  MAX(u.lmean) AS cycle_time_log_mean, MAX(u.med) AS cycle_time_hours_median,
  MAX(u.pmed) AS pickup_time_hours_median, MAX(u.nlines) AS lines_changed,
  MAX(u.ai_prs) AS ai_prs, MAX(u.defects) AS defects, MAX(u.incidents) AS incidents,
  MAX(u.reverts) AS reverts
FROM (
  {chr(10).join(["  UNION ALL " + r if i else r for i, r in enumerate(rows)])}) u
GROUP BY u.ek, u.p
"""
    )
