"""``ai_prs`` of the DevLake pushdown: a prefilter in SQL, the import's exact detection in Python.

The import decides ``ai_assisted`` per PR with :func:`~certkit.connectors.attribution.detect`
over the PR's author login, body (and its ``Co-authored-by`` trailers), head branch, labels
and each PR commit's message and e-mails. The rules are Python regular expressions, which SQL
dialects do not share, so :func:`devlake_panel` does not run them in SQL. Instead:

1. **Prefilter (SQL).** From every rule in force, a condition each text it can fire on must
   meet: the literal text the rule needs (an exact pattern, a trailer key, the required
   literal runs of a regular expression, ``a|b`` as either), as lower-case ``LIKE '%...%'``
   on the columns the rule reads (``pull_requests.description``/``head_ref``/``author_name``,
   ``accounts.user_name``, ``pull_request_labels.label_name``, ``commits.message``/e-mails/
   names, ``pull_request_commits.commit_author_*``). A PR is a candidate when a rule's
   condition holds on one of its columns. The condition is necessary, never sufficient:
   literal runs are cut at the characters a JSON-quoted body may store escaped (``"``, ``\\``,
   ``/``, ``<``, ``>``, ``&``, ``'``, control and non-ASCII characters: DevLake's GitHub
   collector stores bodies JSON-quoted, Go escapes ``<>&``), runs shorter than 3 characters are
   dropped, and ``i``, ``k``, ``s`` match any one character (Python's case-insensitive
   matching also takes ``İ``/``ı``, the Kelvin sign and the long s for them). A rule without
   any usable literal (e.g. ``pattern: '.+'``) switches the prefilter off: every PR is a
   candidate (correct, slower; a :class:`~certkit.errors.CertkitWarning` names the rule).
   The prefilter assumes JSON-quoted text escapes only those characters, as Go's and
   Python's encoders do (a writer escaping plain letters as ``\\u0061`` would hide them).
2. **Exact detection (Python).** The candidates' rows are read with the import's own SELECTs
   (:mod:`certkit.connectors.devlake_read`) in batches of PR ids, except their PR commit rows:
   DevLake indexes ``pull_request_commits`` by ``(commit_sha, pull_request_id)`` only, so a
   query for one batch's commits scans the whole table (quadratic in the PRs over all
   batches); they come from one scan for all candidates, with their ``commits`` columns read
   by primary key per batch (the rows the import's ``pr_commits_query`` gives). Each is
   decided with the import's code
   (:func:`~certkit.connectors.devlake_import.pr_detections`,
   :func:`~certkit.connectors.devlake_import.commit_detections`).
3. The AI PRs' DevLake ids go back into the panel query as literal rows
   (:func:`pr_flag`), where ``ai_prs`` is summed per engineer and merge period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from certkit.connectors import devlake_read as dr
from certkit.connectors.attribution import Rule, Rules
from certkit.connectors.devlake_import import (
    _unique,
    author_of,
    commit_detections,
    pr_detections,
)
from certkit.connectors.identity import Agents, Identities

#: Characters a JSON-quoted text may hold escaped: literal runs are cut there.
_UNSAFE = frozenset("\"\\/<>&'")
#: ASCII letters Python's case-insensitive matching (and ``str.lower``) also finds as
#: non-ASCII characters: matched by LIKE's one-character wildcard.
_FOLDED = frozenset("iks")
_MIN = 3  # shorter literal runs filter too little to be worth a LIKE
_BATCH = 5000  # PR ids per evidence query (MariaDB, 100,000 PRs: 4.0 s; 5.3 s by 2,000)

# A requirement: ("lit", text) | ("and", [req...]) | ("or", [req...]); None = none found.
Req = tuple


@dataclass
class Prefilter:
    """The candidate query (``None``: every PR is a candidate) and what it was built from."""

    sql: str | None
    params: dict = field(default_factory=dict)
    unfiltered: list[str] = field(default_factory=list)  # rule ids without a literal


def requirement(rule: Rule) -> Req | None:
    """What any text ``rule`` fires on contains (``None``: nothing certkit can search for).

    Exact patterns and trailer keys are literal text; regular expressions are parsed with
    Python's own parser (``re._parser``; an unknown construct gives ``None``).
    """
    if not rule.regex or rule.field == "trailer":  # a trailer's pattern is its key
        return _literal(rule.pattern)
    try:
        from re import _parser

        return _sequence(_parser.parse(rule.pattern, re.IGNORECASE))
    except Exception:  # noqa: BLE001 - any parser change: no prefilter, still correct
        return None


def _pattern_requirement(pattern: re.Pattern) -> Req | None:
    """What any text a compiled regular expression matches contains (an agent's pattern)."""
    try:
        from re import _parser

        return _sequence(_parser.parse(pattern.pattern, re.IGNORECASE))
    except Exception:  # noqa: BLE001 - any parser change: no prefilter, still correct
        return None


def _literal(text: str) -> Req | None:
    runs, run = [], []
    for ch in text:
        if ch in _UNSAFE or not " " <= ch <= "~":
            runs.append("".join(run))
            run = []
        else:
            run.append(ch)
    runs.append("".join(run))
    return _all([("lit", r.lower()) for r in runs if len(r) >= _MIN])


def _all(parts: list[Req]) -> Req | None:
    """Every one of ``parts`` (nested ANDs flattened; ``None``: no requirement)."""
    flat: list[Req] = []
    for p in parts:
        flat += p[1] if p[0] == "and" else [p]
    return None if not flat else flat[0] if len(flat) == 1 else ("and", flat)


def _sequence(items) -> Req | None:
    """The requirement of a parsed regular expression (a sequence of ``(op, arg)``)."""
    parts: list[Req] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            found = _literal("".join(run))
            run.clear()
            if found:
                parts.append(found)

    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(arg))
            continue
        flush()
        sub: Req | None = None
        if name == "SUBPATTERN":
            sub = _sequence(arg[-1])
        elif name == "ATOMIC_GROUP":
            sub = _sequence(arg)
        elif name == "BRANCH":
            alts = [_sequence(b) for b in arg[1]]
            if all(a is not None for a in alts):
                sub = ("or", [x for a in alts for x in (a[1] if a[0] == "or" else [a])])
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and arg[0] >= 1:
            sub = _sequence(arg[2])
        # anything else (classes, anchors, look-arounds, back-references): no literal
        if sub is not None:
            parts.append(sub)
    flush()
    return _all(parts)


def _like(text: str) -> str:
    """``LIKE`` pattern (escape character ``!``) finding ``text`` anywhere."""
    out = []
    for ch in text:
        if ch in "!%_":
            out.append("!" + ch)
        elif ch in _FOLDED:
            out.append("_")
        else:
            out.append(ch)
    return "%" + "".join(out) + "%"


class _Sql:
    """Requirements -> SQL conditions on a lower-cased column, with shared parameters."""

    def __init__(self) -> None:
        self.params: dict[str, str] = {}
        self._names: dict[str, str] = {}

    def param(self, text: str) -> str:
        pattern = _like(text)
        if pattern not in self._names:
            name = f"ai{len(self._names)}"
            self._names[pattern] = name
            self.params[name] = pattern
        return f"%({self._names[pattern]})s"

    def cond(self, req: Req, col: str) -> str:
        kind, arg = req
        if kind == "lit":
            return f"{col} LIKE {self.param(arg)} ESCAPE '!'"
        joined = f" {'AND' if kind == 'and' else 'OR'} ".join(self.cond(r, col) for r in arg)
        return f"({joined})" if len(arg) > 1 else joined


# Where each rule field is read: the text sources below (as ``detect`` gets them).
_SOURCES = {
    "email": ("body", "message", "emails"),  # + co-author e-mails in bodies and messages
    "coauthor_email": ("body", "message"),
    "author_email": ("emails",),
    "author_name": ("names",),
    "login": ("login",),
    "trailer": ("body", "message"),
    "line": ("body", "message"),
    "subject": ("body", "message"),
    "branch": ("branch",),
    "label": ("label",),
}


def _columns(s: dr.Schema) -> dict[str, list[str]]:
    """Text source -> the SQL columns holding it (only those this DevLake version has)."""

    def cols(*specs: tuple[str, str, str]) -> list[str]:
        return [f"{alias}.{c}" for table, alias, c in specs if s.has(table, c)]

    accounts = s.has("accounts", "id", "user_name")
    return {
        "body": cols(("pull_requests", "pr", "description")),
        "branch": cols(("pull_requests", "pr", "head_ref")),
        "login": cols(("pull_requests", "pr", "author_name"))
        + (["a.user_name"] if accounts else []),
        "message": cols(("commits", "c", "message")),
        "emails": cols(
            ("commits", "c", "author_email"),
            ("commits", "c", "committer_email"),
            ("pull_request_commits", "prc", "commit_author_email"),
        ),
        "names": cols(
            ("commits", "c", "author_name"), ("pull_request_commits", "prc", "commit_author_name")
        ),
        "label": cols(("pull_request_labels", "l", "label_name")),
    }


def prefilter(s: dr.Schema, where: str, rules: Rules, agents: Agents | None = None) -> Prefilter:
    """The query selecting candidate PR ids (``pid``): see the module docstring. A coding
    agent of ``agents`` is evidence through its e-mail (a commit's, or a co-author line's),
    login or name: each pattern's literal text is a requirement like a rule's."""
    unfiltered = []
    by_source: dict[str, list[Req]] = {}
    needs = [(rule.id, requirement(rule), _SOURCES[rule.field]) for rule in rules.rules]
    for agent in agents.agents if agents is not None else ():
        if agent.kind != "ai_agent" or not agent.tool:
            continue
        for patterns, sources in (
            (agent.emails, ("emails", "message", "body")),
            (agent.logins, ("login",)),
            (agent.names, ("names", "message", "body")),
        ):
            needs += [(f"agent-{agent.id}", _pattern_requirement(p), sources) for p in patterns]
    for rule_id, req, sources in needs:
        if req is None:
            unfiltered.append(rule_id)
            continue
        for src in sources:
            if req not in by_source.setdefault(src, []):
                by_source[src].append(req)
    if unfiltered:
        return Prefilter(None, unfiltered=unfiltered)
    cols = _columns(s)
    sql = _Sql()

    def any_of(*sources: str) -> str:
        conds = [
            sql.cond(req, f"LOWER({col})")
            for src in sources
            for col in cols[src]
            for req in by_source.get(src, [])
        ]
        return " OR ".join(conds)

    parts = []
    on_pr = any_of("body", "branch", "login")
    if on_pr:
        join = (
            "LEFT JOIN accounts a ON a.id = pr.author_id" if "a.user_name" in cols["login"] else ""
        )
        parts.append(
            f"SELECT pr.id AS pid FROM pull_requests pr {join}\nWHERE {where} AND ({on_pr})"
        )
    on_commit = any_of("message", "emails", "names")
    if on_commit and s.has("pull_request_commits", "pull_request_id", "commit_sha"):
        join = "LEFT JOIN commits c ON c.sha = prc.commit_sha" if s.has("commits", "sha") else ""
        parts.append(
            "SELECT prc.pull_request_id AS pid FROM pull_request_commits prc "
            f"JOIN pull_requests pr ON pr.id = prc.pull_request_id {join}\n"
            f"WHERE {where} AND ({on_commit})"
        )
    on_label = any_of("label")
    if on_label and s.has("pull_request_labels", "pull_request_id"):
        parts.append(
            "SELECT l.pull_request_id AS pid FROM pull_request_labels l "
            f"JOIN pull_requests pr ON pr.id = l.pull_request_id\nWHERE {where} AND ({on_label})"
        )
    if not parts:  # no rule reads a column this database has: no PR can be AI-assisted
        parts.append("SELECT pr.id AS pid FROM pull_requests pr WHERE 1 = 0")
    return Prefilter("\nUNION\n".join(parts), sql.params)


def ai_pr_ids(
    q,
    s: dr.Schema,
    where: str,
    params: dict,
    ids: Identities,
    rules: Rules,
    agents: Agents | None = None,
) -> tuple[set[str], Prefilter, int]:
    """DevLake ids of the AI-assisted PRs, the prefilter used and the number of candidates.

    ``q`` runs a query (``devlake_read.lake_schema``); ``where``/``params`` select the PRs
    as the import does.
    """
    pre = prefilter(s, where, rules, agents)
    links: dict[str, list[dict]] = {}
    if pre.sql is None:
        batches: list[list[str] | None] = [None]  # every PR, in one pass as the import reads
        n = -1
    else:
        found = sorted({r["pid"] for r in q(pre.sql, {**params, **pre.params})})
        batches = [found[i : i + _BATCH] for i in range(0, len(found), _BATCH)]
        n = len(found)
        if found:  # the candidates' PR commit rows: one scan of the table for all batches
            links = _commit_links(q, s, where, params, set(found))
    out: set[str] = set()
    for batch in batches:
        p = dict(params)
        if batch is None:
            out |= _detect(q, s, where, p, ids, rules, agents=agents)
            continue
        w = f"{where} AND pr.id IN {dr.in_list(p, 'aipr', batch)}"
        commits = _commits(q, s, [r for pid in batch for r in links.get(pid, [])])
        out |= _detect(q, s, w, p, ids, rules, commits, agents)
    return out, pre, n


def _commit_links(q, s: dr.Schema, where: str, params: dict, wanted: set[str]) -> dict:
    """The PR commit rows (``pull_request_commits`` columns) of the PRs in ``wanted``, by PR.

    One query for all of them: ``pull_request_commits`` has no index by PR, so a query per
    batch of PRs scanned the whole table per batch (MariaDB, 1,000,000 PRs: 57 scans of
    497,000 rows, 2.3 s of server CPU each).
    """
    sql = dr.pr_commit_links_query(s, where)
    out: dict[str, list[dict]] = {}
    if sql:
        for r in q(sql, params):
            if r["pull_request_id"] in wanted:
                out.setdefault(r["pull_request_id"], []).append(r)
    return out


def _commits(q, s: dr.Schema, links: list[dict]) -> dict[str, list[dict]]:
    """Rows as :func:`~certkit.connectors.devlake_read.pr_commits_query` gives them, by PR:
    ``links`` with the ``commits`` columns looked up by primary key (NULL when absent)."""
    found: dict = {}
    shas = {r["sha"] for r in links}
    p: dict = {}
    sql = dr.commits_by_sha_query(s, dr.in_list(p, "aisha", shas)) if shas else None
    if sql:
        found = {c["sha"]: c for c in q(sql, p)}
    empty = dict.fromkeys(dr.COMMIT_COLUMNS)
    out: dict[str, list[dict]] = {}
    for r in links:
        c = found.get(r["sha"], empty)
        out.setdefault(r["pull_request_id"], []).append(
            {**r, **{k: c[k] for k in dr.COMMIT_COLUMNS}}
        )
    return out


def _detect(
    q,
    s: dr.Schema,
    where: str,
    params: dict,
    ids: Identities,
    rules: Rules,
    commits: dict | None = None,
    agents: Agents | None = None,
) -> set:
    """The import's decision for the PRs ``where`` selects (``commits``: their PR commit
    rows by PR, when already read)."""
    if commits is None:
        commits = dr.rows_by_pr(q, dr.pr_commits_query(s, where), params)
    labels = dr.rows_by_pr(q, dr.labels_query(s, where), params, "label_name")
    out = set()
    for pr in _unique(q(dr.pr_query(s, where), params), "id"):
        if dr.to_dt(pr["created_date"]) is None:
            continue  # not in the panel (the import skips it)
        _, bot, _, login = author_of(pr, ids)
        if pr_detections(pr, login, bot, labels.get(pr["id"], []), rules, agents) or any(
            commit_detections(c, rules, agents) for c in commits.get(pr["id"], [])
        ):
            out.add(pr["id"])
    return out


def pr_flag(d, ids: set[str], quote, name: str = "aiset") -> tuple[str | None, str, str]:
    """``(CTE or None, join, flag expression)`` marking the PRs ``ids`` (``pr.id``) in SQL:
    the AI PRs (CTE ``aiset``) and the reverted PRs (``revset``).

    PostgreSQL: a ``VALUES`` list (CTE ``name``) joined by hash; MySQL/MariaDB: an ``IN``
    list of constants (sorted and binary-searched), compared as bytes. ``quote`` is the
    driver's escaping.
    """
    if not ids:
        return None, "", "0"
    lits = [quote(v).replace("%", "%%") for v in sorted(ids)]
    if d.pg:
        values = ",\n  ".join(f"({v})" for v in lits)
        return (
            f"{name} (did) AS (VALUES\n  {values})",
            f"LEFT JOIN {name} ON {name}.did = pr.id",
            f"CASE WHEN {name}.did IS NOT NULL THEN 1 ELSE 0 END",
        )
    return None, "", f"CASE WHEN CAST(pr.id AS BINARY) IN ({', '.join(lits)}) THEN 1 ELSE 0 END"
