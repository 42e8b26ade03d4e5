"""Which DevLake PRs were reverted: the git import's rules on DevLake's PR rows.

DevLake records no reverts, but it keeps what names them: a PR's title (``Revert "Add x
(#12)"``), head branch (GitHub's ``revert-12-add-x``), description (``Reverts owner/repo#12``,
GitHub's revert button) and its commits' messages (``This reverts commit <sha>.``). Both
paths read them with :func:`certkit.connectors.git_reverts.mark_reverts`, the git import's
rules (a revert of a revert restores the PR; a planned reversal of a change that said it was
temporary is not a failure; a revert commit inside an ordinary PR is not a revert):

- **The import** (:func:`mark`) gives every merged PR ``reverted`` True or False.
- **The pushdown** (:func:`reverted_pr_ids`) cannot read every PR. It reads the PRs that
  could be reverts (SQL: a revert word in the title, ``revert-`` in the head branch,
  ``Reverts `` in the description or in a PR commit's message: every PR the rules can call a
  revert passes), then the PRs those could name (by number, by the sha of a commit or of
  the landed commit, by title), and decides on those rows with the same :func:`mark`.

A DevLake PR is a revert by its title, head branch or description (or a commit body saying
``Reverts owner/repo#N``), as a squash-merged GitHub PR is in a git import: a PR with an
ordinary title whose commits include a revert commit undoes part of an earlier PR on its way
(a note counts them). Not read in DevLake data: commits pushed without a PR (DevLake keeps
no branch per commit), and a revert that names nothing but undoes an earlier commit's diff
(DevLake keeps no per-file line counts).
"""

from __future__ import annotations

import json
from datetime import datetime

from certkit.connectors import devlake_read as dr
from certkit.connectors.devlake_rows import merge_state, pr_key, unquote_text
from certkit.connectors.git_reverts import mark_reverts, message_commit, revert_names

#: Lower-case words a revert PR's title holds (``_REVERT_TITLE`` of ``git_reverts``).
_TITLE_WORDS = (
    "revert",
    "rollback",
    "roll back",
    "rolling back",
    "back out",
    "backout",
    "backed out",
)
_BATCH = 5000  # PR ids per query


def mark(rows: list[dict], raw: dict[str, dict], pr_commits: dict[str, list[dict]]) -> list[str]:
    """Set ``reverted`` (True/False) on certkit PR rows built from DevLake's; return notes.

    Parameters
    ----------
    rows
        PR rows with ``devlake_id``, ``repo``, ``number``, ``title`` (unquoted), ``status``,
        ``merged_date`` and ``_merge_sha``. Only merged PRs with a merge date take part.
    raw
        DevLake id -> the :func:`~certkit.connectors.devlake_read.pr_query` row
        (``description``, ``head_ref``).
    pr_commits
        DevLake id -> its :func:`~certkit.connectors.devlake_read.pr_commits_query` rows.
    """
    by_repo: dict[str, list[dict]] = {}
    commits: dict = {}
    for r in rows:
        r["reverted"] = False
    landed_rows = [r for r in rows if r["status"] == "merged" and r["merged_date"] is not None]
    # a commit DevLake lists on several PRs belongs to the first merged (it landed with it):
    # the same PR on every backend and in every row order (trial U)
    for r in sorted(landed_rows, key=lambda r: (r["merged_date"], r["devlake_id"])):
        pr = raw[r["devlake_id"]]
        shas = []
        for c in pr_commits.get(r["devlake_id"], []):
            if c["sha"] in commits:
                continue
            when = dr.to_dt(c["committed_date"]) or r["merged_date"]
            commits[c["sha"]] = message_commit(c["sha"], unquote_text(c["message"]), when)
            shas.append(c["sha"])
        landed = r["_merge_sha"]
        if landed and landed not in commits:  # the sha a revert of the landed commit names
            commits[landed] = message_commit(landed, None, r["merged_date"], True)
            shas.insert(0, landed)
        r |= {
            "_shas": shas,
            "_head": pr["head_ref"],
            "_body": unquote_text(pr["description"]) or "",
            "_pr_title": True,
        }
        by_repo.setdefault(r["repo"] or "", []).append(r)
    notes = []
    for repo, prs in sorted(by_repo.items()):
        notes += mark_reverts(prs, commits, [], repo)
        for r in prs:
            del r["_shas"]
    return notes


def reverted_pr_ids(
    q, s: dr.Schema, where: str, params: dict, notes: list[str] | None = None
) -> set[str]:
    """DevLake ids of the PRs ``where`` selects that :func:`mark` calls reverted.

    ``q`` runs a query (``devlake_read.lake_schema``); ``where``/``params`` select the PRs
    as the import does. Reads the possible reverts and the PRs they could name, not every PR.
    ``notes``: :func:`mark`'s notes are added to it (the import's revert notes: every
    possible revert is read, so they are the same; trial AA).
    """
    found = {r["pid"] for r in q(_candidates_query(s, where), params)}
    if not found:
        return set()
    raw, commits = _read(q, s, where, params, found)
    numbers: set[int] = set()
    shas: set[str] = set()
    titles: set[str] = set()
    for pid, pr in raw.items():
        msgs = [
            message_commit(c["sha"], unquote_text(c["message"]), datetime.min)
            for c in commits.get(pid, [])
        ]
        title = unquote_text(pr["title"]) or ""
        n, h, t = revert_names(title, pr["head_ref"], unquote_text(pr["description"]) or "", msgs)
        numbers, shas, titles = numbers | n, shas | h, titles | t
    # the PRs that list a candidate's commits too: :func:`mark` gives a shared commit to the
    # first merged, as the import does, so they must be read (review E: a revert commit on an
    # ordinary PR merged first and on a later revert PR)
    own = {c["sha"] for rows in commits.values() for c in rows}
    named = _named(q, s, where, params, numbers, shas | own, titles) - set(raw)
    if named:
        more_raw, more_commits = _read(q, s, where, params, named)
        raw |= more_raw
        commits |= more_commits
    rows = _rows(s, q, list(raw.values()))
    said = mark(rows, raw, commits)
    if notes is not None:
        notes += said
    return {r["devlake_id"] for r in rows if r["reverted"]}


def _rows(s: dr.Schema, q, prs: list[dict]) -> list[dict]:
    """The fields :func:`mark` reads, as the import sets them."""
    from certkit.connectors.devlake_import import merge_commit_dates

    dates = merge_commit_dates(s, q, prs)
    rows = []
    for pr in prs:
        for k in ("created_date", "merged_date", "closed_date"):
            pr[k] = dr.to_dt(pr[k])
        if pr["created_date"] is None:
            continue  # not a PR of the import
        repo, pr_id, number = pr_key(pr)
        state, merged = merge_state(pr, dates.get(pr["merge_commit_sha"] or ""))
        rows.append(
            {
                "id": pr_id,
                "devlake_id": pr["id"],
                "repo": repo,
                "number": number,
                "title": unquote_text(pr["title"]),
                "status": state,
                "merged_date": merged,
                "_merge_sha": pr["merge_commit_sha"],
            }
        )
    return rows


def _read(q, s: dr.Schema, where: str, params: dict, ids: set[str]) -> tuple[dict, dict]:
    """PR rows (by DevLake id) and their PR commit rows of the PRs ``ids``."""
    from certkit.connectors.devlake_import import _unique
    from certkit.connectors.devlake_panel_ai import _commit_links, _commits

    wanted = sorted(ids)
    raw: dict[str, dict] = {}
    for i in range(0, len(wanted), _BATCH):
        p = dict(params)
        w = f"{where} AND pr.id IN {dr.in_list(p, 'rvpr', wanted[i : i + _BATCH])}"
        raw |= {pr["id"]: pr for pr in _unique(q(dr.pr_query(s, w), p), "id")}
    links = _commit_links(q, s, where, params, set(raw))
    return raw, _commits(q, s, [r for pid in raw for r in links.get(pid, [])])


def _candidates_query(s: dr.Schema, where: str) -> str:
    """The PRs the rules could call reverts (a necessary condition, never sufficient)."""
    conds = [f"LOWER(pr.title) LIKE '%%{w}%%'" for w in _TITLE_WORDS]
    if s.has("pull_requests", "head_ref"):
        conds.append("LOWER(pr.head_ref) LIKE '%%revert-%%'")
    if s.has("pull_requests", "description"):
        conds.append("LOWER(pr.description) LIKE '%%reverts %%'")
    parts = [f"SELECT pr.id AS pid FROM pull_requests pr WHERE {where} AND ({' OR '.join(conds)})"]
    if s.has("pull_request_commits", "pull_request_id", "commit_sha") and s.has(
        "commits", "sha", "message"
    ):
        parts.append(
            "SELECT prc.pull_request_id AS pid FROM pull_request_commits prc "
            "JOIN pull_requests pr ON pr.id = prc.pull_request_id "
            "JOIN commits c ON c.sha = prc.commit_sha "
            f"WHERE {where} AND LOWER(c.message) LIKE '%%reverts %%'"
        )
    return "\nUNION\n".join(parts)


def _named(
    q, s: dr.Schema, where: str, params: dict, numbers: set[int], shas: set[str], titles: set
) -> set[str]:
    """DevLake ids of the PRs with one of these numbers, landed or carrying one of these
    commits (a sha or its prefix), or titled one of these titles (as stored: plain or
    JSON-quoted)."""
    p = dict(params)
    conds = []
    if numbers and s.has("pull_requests", "pull_request_key"):
        conds.append(f"pr.pull_request_key IN {dr.in_list(p, 'rvn', sorted(numbers))}")
    full = {h for h in shas if len(h) == 40}
    short = sorted(shas - full)
    has_sha = s.has("pull_requests", "merge_commit_sha")
    if full and has_sha:
        conds.append(f"pr.merge_commit_sha IN {dr.in_list(p, 'rvh', full)}")
    for i, h in enumerate(short if has_sha else []):
        p[f"rvs{i}"] = h + "%"
        conds.append(f"pr.merge_commit_sha LIKE %(rvs{i})s")
    if titles:
        # trimmed: the rules compare titles without surrounding spaces (trial U)
        conds.append(f"TRIM(pr.title) IN {dr.in_list(p, 'rvt', _stored_forms(titles))}")
    out: set[str] = set()
    if conds:
        sql = f"SELECT pr.id AS pid FROM pull_requests pr WHERE {where} AND ({' OR '.join(conds)})"
        out |= {r["pid"] for r in q(sql, p)}
    if shas and s.has("pull_request_commits", "pull_request_id", "commit_sha"):
        p = dict(params)
        hits = [f"prc.commit_sha IN {dr.in_list(p, 'rvh', full)}"] if full else []
        for i, h in enumerate(short):
            p[f"rvs{i}"] = h + "%"
            hits.append(f"prc.commit_sha LIKE %(rvs{i})s")
        sql = (
            "SELECT prc.pull_request_id AS pid FROM pull_request_commits prc "
            "JOIN pull_requests pr ON pr.id = prc.pull_request_id "
            f"WHERE {where} AND ({' OR '.join(hits)})"
        )
        out |= {r["pid"] for r in q(sql, p)}
    return out


def _stored_forms(titles: set[str]) -> set[str]:
    """Each title as DevLake may store it: plain, JSON-quoted (GitHub's REST collector; Go
    escapes ``<>&``), ASCII-escaped; with and without a final period (as the rules match)."""
    out = set()
    for title in titles:
        base = title.strip().rstrip(".")
        for t in (base, base + "."):
            out.add(t)
            for inner in (t, t + " "):  # JSON keeps a title's space inside its quotes
                quoted = json.dumps(inner, ensure_ascii=False)
                go = quoted.replace("<", "\\u003c").replace(">", "\\u003e")
                out |= {quoted, go.replace("&", "\\u0026"), json.dumps(inner)}
    return out
