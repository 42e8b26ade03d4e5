"""A simulated organisation written into DevLake's schema, for the pushdown tests and benchmark.

``fill(conn, dialect, n_prs)`` creates DevLake's generated domain-layer schema
(``tests/fixtures/devlake/schema/head.<dialect>.sql``) in the connected, empty database and
fills it with ``n_prs`` pull requests and what hangs off them, drawn to hit every rule the
import applies: GitHub and GitLab PRs, MERGED/CLOSED/OPEN/empty statuses, drafts, MERGED
without dates (dated by the merge commit, or not at all), Azure-style closed PRs with a
merged date, a few PRs merged before they were created, 0/0 line counts, bots and DevLake's unknown author, comments (the author's, bots', others',
some before creation), ``project_pr_metrics`` pickup times and deployment commits, defects
linked through ``pull_request_issues`` and incidents linked through deployments (ties on the
merge time included). PostgreSQL gets ``timestamptz`` values with non-UTC offsets. Rows go in
with ``COPY`` (PostgreSQL) or multi-row INSERTs (MySQL).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

SCHEMA = Path(__file__).parent / "fixtures" / "devlake" / "schema"
T0 = datetime(2023, 1, 1, tzinfo=UTC)


def _create_schema(conn, dialect: str) -> None:
    ddl = (SCHEMA / f"head.{dialect}.sql").read_text()
    with conn.cursor() as cur:
        for stmt in ddl.split(";"):
            if stmt.strip() and "CREATE" in stmt:
                cur.execute(stmt)


def _rows(n_prs: int, seed: int) -> dict[str, tuple[list[str], list[tuple]]]:
    """Table -> (columns, rows); times are aware datetimes."""
    rng = np.random.default_rng(seed)
    n_acc = max(8, n_prs // 40)
    tz = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-7))]

    def t(hours: float) -> datetime:
        return (T0 + timedelta(hours=float(hours))).astimezone(tz[int(rng.integers(3))])

    accounts = []
    names = []
    for i in range(n_acc):
        src = "github" if i % 5 else "gitlab"
        aid = f"{src}:{src.title()}Account:1:{i + 1}"
        name = "dependabot[bot]" if i % 17 == 3 else f"dev{i}"
        accounts.append((aid, name, f"dev{i}@corp.example", f"Dev {i}"))
        names.append((aid, name))
    names.append(("github:GithubAccount:1:0", ""))  # DevLake's unknown author
    repos = [(f"github:GithubRepo:1:{r}", f"org/r{r}") for r in range(12)]
    repos += [(f"gitlab:GitlabProject:1:{r}", f"grp/p{r}") for r in range(3)]

    prs, commits, comments, metrics = [], [], [], []
    span = 24 * 365 * 2
    created_h = rng.uniform(0, span, n_prs)
    cycle_h = rng.lognormal(3, 1.5, n_prs)
    statuses = np.array(["MERGED", "MERGED", "MERGED", "CLOSED", "OPEN", "", "merged"])
    created_h[1::50] = created_h[::50][: len(created_h[1::50])]  # pairs merged at one time
    cycle_h[1::50] = cycle_h[::50][: len(cycle_h[1::50])]
    for k in range(n_prs):
        aid, aname = names[int(rng.integers(len(names)))]
        if rng.random() < 0.05:
            aname = None  # PR author name missing: the account decides
        gitlab = aid.startswith("gitlab")
        repo = repos[12 + k % 3] if gitlab else repos[k % 12]
        pid = f"gitlab:GitlabMergeRequest:1:{k}" if gitlab else f"github:GithubPullRequest:1:{k}"
        created = t(created_h[k])
        # whole seconds and sub-second parts, like DevLake's datetime(3)
        ms = int(rng.integers(999)) if k % 50 > 1 else 0
        merged = created + timedelta(hours=float(cycle_h[k]), milliseconds=ms)
        status = str(statuses[int(rng.integers(len(statuses)))])
        closed = merged if status != "OPEN" else None
        merged_date = merged if status in ("MERGED", "merged", "") and rng.random() < 0.9 else None
        if status == "CLOSED" and rng.random() < 0.3:
            merged_date = merged  # Azure DevOps: abandoned PRs carry a merged date
        if status == "" and rng.random() < 0.5:
            merged_date = None
        sha = f"{k:040x}"
        if status == "MERGED" and rng.random() < 0.05:
            merged_date = closed = None  # Bitbucket Cloud style: the merge commit dates it
            if rng.random() < 0.7:
                commits.append((sha, t(created_h[k] + cycle_h[k] + 1)))
        if rng.random() < 0.01 and merged_date is not None:
            merged_date = created - timedelta(hours=3)  # merged before created
        draft = bool(rng.random() < 0.1)
        add = int(rng.integers(0, 500)) if not gitlab and rng.random() < 0.9 else 0
        dele = int(rng.integers(0, 200)) if add else 0
        prs.append(
            (pid, repo[0], aid, aname, status, created, merged_date, closed, sha, k + 1)
            + (add, dele, draft, f"feature/{k}", f"PR {k}", "")
        )
        for _ in range(int(rng.integers(0, 3))):
            who = names[int(rng.integers(len(names)))][0] if rng.random() < 0.8 else aid
            comments.append(
                (
                    f"c{len(comments)}",
                    pid,
                    who,
                    created + timedelta(hours=float(rng.uniform(-2, 48))),
                )
            )
        if rng.random() < 0.3:
            first = (
                created + timedelta(hours=float(rng.uniform(0, 30))) if rng.random() < 0.5 else None
            )
            pickup = int(rng.integers(-10, 3000)) if rng.random() < 0.7 else None
            dep = f"dc-{int(rng.integers(max(1, n_prs // 10)))}" if rng.random() < 0.5 else None
            metrics.append((pid, "p1", first, pickup, dep))
            if rng.random() < 0.1:  # the PR in a second DevLake project (same metrics)
                metrics.append((pid, "p2", first, pickup, dep))
    # deployments: each ships a few merge commits (and metric deployment commits)
    n_dep = max(3, n_prs // 50)
    deploy_commits = []
    for j in range(max(1, n_prs // 10)):
        dep = f"deploy-{j % n_dep}"
        k = int(rng.integers(n_prs))
        deploy_commits.append((f"dc-{j}", dep, f"{k:040x}"))
    for k in range(1, n_prs, 50):  # a deployment shipping both PRs of a pair
        deploy_commits.append((f"dcp-{k}", f"deploy-{k % n_dep}", f"{k - 1:040x}"))
        deploy_commits.append((f"dcp-{k}", f"deploy-{k % n_dep}", f"{k:040x}"))
    issues, links, incidents, rels = [], [], [], []
    for j in range(max(4, n_prs // 8)):
        kind = "BUG" if j % 3 else "INCIDENT"
        iid = f"jira:JiraIssue:1:{j}"
        issues.append((iid, str(j), kind, t(rng.uniform(0, span))))
        for _ in range(int(rng.integers(0, 3))):
            k = int(rng.integers(n_prs))
            gl = prs[k][0]
            links.append((gl, iid))
        if kind == "INCIDENT" and rng.random() < 0.5:
            rels.append((iid, "p0", f"deploy-{int(rng.integers(n_dep))}"))
    links = list(dict.fromkeys(links))
    for j in range(max(2, n_prs // 40)):
        iid = f"pagerduty:PagerDutyIncident:1:{j}"
        incidents.append((iid, str(j), t(rng.uniform(0, span))))
        for p in range(int(rng.integers(0, 3))):  # one deployment per incident and project
            rels.append((iid, f"p{p}", f"deploy-{int(rng.integers(n_dep))}"))
    return {
        "accounts": (["id", "user_name", "email", "full_name"], accounts),
        "repos": (["id", "name"], repos),
        "pull_requests": (
            [
                "id",
                "base_repo_id",
                "author_id",
                "author_name",
                "status",
                "created_date",
                "merged_date",
                "closed_date",
                "merge_commit_sha",
                "pull_request_key",
                "additions",
                "deletions",
                "is_draft",
                "head_ref",
                "title",
                "description",
            ],
            prs,
        ),
        "commits": (["sha", "committed_date"], commits),
        "pull_request_comments": (
            ["id", "pull_request_id", "account_id", "created_date"],
            comments,
        ),
        "project_pr_metrics": (
            ["id", "project_name", "first_comment_date", "pr_pickup_time", "deployment_commit_id"],
            metrics,
        ),
        "cicd_deployment_commits": (["id", "cicd_deployment_id", "commit_sha"], deploy_commits),
        "issues": (["id", "issue_key", "type", "created_date"], issues),
        "pull_request_issues": (["pull_request_id", "issue_id"], links),
        "incidents": (["id", "incident_key", "created_date"], incidents),
        "project_incident_deployment_relationships": (
            ["id", "project_name", "deployment_id"],
            rels,
        ),
    }


def fill(conn, dialect: str, n_prs: int, seed: int = 7) -> None:
    """Create DevLake's schema in ``conn``'s (empty) database and write the simulated rows."""
    _create_schema(conn, dialect)
    q = '"' if dialect == "postgresql" else "`"
    for table, (cols, rows) in _rows(n_prs, seed).items():
        if not rows:
            continue
        if dialect != "postgresql":  # datetime(3) holds naive UTC
            rows = [
                tuple(
                    v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v
                    for v in r
                )
                for r in rows
            ]
        names = ", ".join(q + c + q for c in cols)
        with conn.cursor() as cur:
            if dialect == "postgresql":
                with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
            else:
                sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(cols))})"
                for i in range(0, len(rows), 5000):
                    cur.executemany(sql, rows[i : i + 5000])
    if dialect == "postgresql":
        with conn.cursor() as cur:
            cur.execute("ANALYZE")
