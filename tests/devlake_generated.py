"""A simulated organisation written into DevLake's schema, for the pushdown tests and benchmark.

``fill(conn, dialect, n_prs)`` creates DevLake's generated domain-layer schema
(``tests/fixtures/devlake/schema/head.<dialect>.sql``) in the connected, empty database and
fills it with ``n_prs`` pull requests and what hangs off them, drawn to hit every rule the
import applies: GitHub and GitLab PRs, MERGED/CLOSED/OPEN/empty statuses, drafts, MERGED
without dates (dated by the merge commit, or not at all), Azure-style closed PRs with a
merged date, a few PRs merged before they were created, 0/0 line counts, bots and DevLake's unknown author, comments (the author's, bots', others',
some before creation), ``project_pr_metrics`` pickup times and deployment commits, defects
linked through ``pull_request_issues`` and incidents linked through deployments (ties on the
merge time included), and the AI evidence of each rule kind (``_ai_evidence``: trailers in
commits and in squash bodies, JSON-quoted bodies with Go's ``\u003c`` escapes, bot logins,
labels, branches, commit e-mails and author names, ``Assisted-by: none``, near misses that
match no rule, letters Python folds from non-ASCII characters). PostgreSQL gets
``timestamptz`` values with non-UTC offsets. Rows go in with ``COPY`` (PostgreSQL) or
multi-row INSERTs (MySQL).
"""

from __future__ import annotations

import json
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
    for i, login in enumerate(("Copilot", "devin-ai-integration[bot]", "claude")):
        aid = f"github:GithubAccount:1:{90000 + i}"  # AI agents' logins; "claude": a person
        accounts.append((aid, login, None, login))
        names.append((aid, login))
    repos = [(f"github:GithubRepo:1:{r}", f"org/r{r}") for r in range(12)]
    repos += [(f"gitlab:GitlabProject:1:{r}", f"grp/p{r}") for r in range(3)]

    prs, commits, comments, metrics = [], [], [], []
    pr_commits, labels = [], []
    ai_rng = np.random.default_rng(seed + 1)
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
        body, branch, pr_labels, pr_commit_rows = _ai_evidence(ai_rng, k, created)
        prs.append(
            (pid, repo[0], aid, aname, status, created, merged_date, closed, sha, k + 1)
            + (add, dele, draft, branch, f"PR {k}", body)
        )
        labels += [(pid, name) for name in pr_labels]
        for c_sha, message, name, email, in_commits in pr_commit_rows:
            pr_commits.append((c_sha, pid, name, email))
            if in_commits:
                commits.append((c_sha, created, message, name, email, email))
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
    _reverts(prs, pr_commits, commits)
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
        "commits": (
            ["sha", "committed_date", "message", "author_name", "author_email", "committer_email"],
            [c if len(c) == 6 else (*c, None, None, None, None) for c in commits],
        ),
        "pull_request_commits": (
            ["commit_sha", "pull_request_id", "commit_author_name", "commit_author_email"],
            pr_commits,
        ),
        "pull_request_labels": (["pull_request_id", "label_name"], labels),
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


def _reverts(prs: list[tuple], pr_commits: list[tuple], commits: list[tuple]) -> None:
    """Make every 23rd PR (from the 100th) a revert, or a near miss, of an earlier PR ``j`` of
    its repository (12 PRs apart: same GitHub repository), in seven ways, in place."""
    for k in range(100, len(prs), 23):
        kind = (k // 23) % 7
        j = k - 12 * (1 + k % 5) if kind != 3 else k - 552  # kind 3: j is a kind-0 revert
        if j < 0:
            continue
        row = list(prs[k])
        repo = f"org/r{k % 12}"
        number, sha_j = j + 1, f"{j:040x}"
        title = body = ""
        branch = row[13]
        if kind == 0:  # GitHub's revert button
            title, branch = f'Revert "PR {j}"', f"revert-{number}-feature/{j}"
            body = f"Reverts {repo}#{number}"
        elif kind == 1:  # named by the landed commit's sha, in a PR commit
            title = f"Revert PR {j}"
            c_sha = f"r{k:039x}"
            message = f'Revert "PR {j}"\n\nThis reverts commit {sha_j}.'
            pr_commits.append((c_sha, row[0], "Dev", "d@corp.example"))
            commits.append((c_sha, row[5], message, "Dev", "d@corp.example", "d@corp.example"))
        elif kind == 2:  # by the title alone, JSON-quoted as GitHub's REST collector stores it
            title = _go_json(f'Revert "PR {j}"')
            if k % 2:  # the target's title stored with a trailing space (trial U), plain
                old = list(prs[j])  # or JSON-quoted (review E)
                old[14] = f"PR {j} " if k % 4 == 1 else _go_json(f"PR {j} ")
                prs[j] = tuple(old)
        elif kind == 3:  # a revert of a revert: restores PR j's target, all three merged
            title, body = f"Revert the revert {j}", f"Reverts {repo}#{number}"
            first = j - 12 * (1 + j % 5)
            chain = [first, j, k]
            if first >= 0 and all(prs[i][0].startswith("github") for i in chain):
                landed = prs[first][5]
                for i in chain:
                    landed = max(landed, prs[i][5]) + timedelta(hours=1)
                    old = list(prs[i] if i != k else row)
                    old[4], old[6], old[7] = "MERGED", landed, landed
                    if i == k:
                        row = old
                    else:
                        prs[i] = tuple(old)
        elif kind == 4:  # near misses: not a revert
            title, body = (
                f"Reverted config defaults after PR {j}",
                f"This reverts nothing, #{number}",
            )
        elif kind == 5:  # a temporary change reverted as planned: not a failure
            old = list(prs[j])
            old[14] = f"Temporarily pin the PR {j} test"
            prs[j] = tuple(old)
            title, body = f'Revert "Temporarily pin the PR {j} test"', f"Reverts {repo}#{number}"
        else:  # a revert commit inside an ordinary PR: not a revert
            title = f"PR {k}"
            c_sha = f"r{k:039x}"
            message = f'Revert "PR {j}"\n\nThis reverts commit {sha_j}.'
            pr_commits.append((c_sha, row[0], "Dev", "d@corp.example"))
            commits.append((c_sha, row[5], message, "Dev", "d@corp.example", "d@corp.example"))
            if k + 1 < len(prs):  # the same commit on a later-numbered revert PR (review E):
                nxt = list(prs[k + 1])  # it belongs to whichever of the two merged first
                nxt[14] = f"Revert bar {k + 1}"
                prs[k + 1] = tuple(nxt)
                pr_commits.append((c_sha, nxt[0], "Dev", "d@corp.example"))
        row[13], row[14], row[15] = branch, title, body or row[15]
        prs[k] = tuple(row)


def _go_json(text: str) -> str:
    """``text`` JSON-quoted as DevLake's GitHub REST collector stores bodies (Go escapes <>&)."""
    quoted = json.dumps(text.replace("\n", "\r\n"), ensure_ascii=False)
    return quoted.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


#: (kind, PR body, branch, labels, commits as (message, author name, e-mail, in ``commits``)).
#: Kinds prefixed "no-" are near misses: no rule fires (some pass the SQL prefilter).
AI_KINDS = [
    (
        "commit-trailer",
        "",
        None,
        [],
        [
            (
                "Fix x\n\nCo-authored-by: Claude <noreply@anthropic.com>",
                "Dev",
                "d@corp.example",
                True,
            )
        ],
    ),
    (
        "squash-body",
        "Squash (#1)\n\n* one\n\n* two\n\nCo-authored-by: Cursor <cursoragent@cursor.com>",
        None,
        [],
        [],
    ),
    (
        "json-body",
        _go_json("Does x\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)"),
        None,
        [],
        [],
    ),
    # a co-author line whose <> Go escaped (\u003c): the prefilter and the exact step unescape
    (
        "json-coauthor",
        _go_json("Body & more\n\nCo-authored-by: Cursor <cursoragent@cursor.com>"),
        None,
        [],
        [],
    ),  # fmt: skip
    # Cursor Bugbot's PR summary is a review bot's text, not AI authorship (trial Q)
    (
        "no-bugbot-summary",
        _go_json("Body\n\n<!-- CURSOR_SUMMARY -->\nWritten by Cursor Bugbot"),
        None,
        [],
        [],
    ),  # fmt: skip
    ("label", "", None, ["codex", "infra"], []),
    ("branch", "", "copilot/fix-{k}", [], []),
    (
        "assisted-by",
        "",
        None,
        [],
        [("Do y\n\nAssisted-by: GitHub Copilot", "Dev", "d@corp.example", True)],
    ),
    ("aider-name", "", None, [], [("Refactor", "Dev 3 (aider)", "dev3@corp.example", True)]),
    (
        "agent-email",
        "",
        None,
        [],
        [("Initial plan", "Copilot", "198982749+Copilot@users.noreply.github.com", True)],
    ),
    ("pr-commit-only", "", None, [], [("", "Cursor Agent", "cursoragent@cursor.com", False)]),
    ("made-with", "", None, [], [("Tweak\n\nMade-with: Cursor", "Dev", "d@corp.example", True)]),
    ("subject", "", None, [], [("aider: rename z", "Dev", "d@corp.example", True)]),
    (
        "upper-case",
        "",
        None,
        [],
        [("Fix\n\nCO-AUTHORED-BY: CLAUDE <NOREPLY@ANTHROPIC.COM>", "Dev", "d@corp.example", True)],
    ),
    ("folded", "See https://chatgpt.com/codex/ta\u017f\u212as/task_e_1", None, [], []),
    # a listed coding agent's co-author line, which no rule names: AI through agents.yaml, as
    # in a git import (trial AA: codeflash-ai[bot] on pydantic-ai was AI in git only)
    (
        "agent-coauthor",
        "",
        None,
        [],
        [
            (
                "Speed up x by 85%\n\nCo-authored-by: codeflash-ai[bot] "
                "<148906541+codeflash-ai[bot]@users.noreply.github.com>",
                "Dev",
                "d@corp.example",
                True,
            )
        ],
    ),
    (
        "agent-coauthor-body",
        _go_json(
            "Speed up y (#2)\n\nCo-authored-by: codeflash-ai[bot] <148906541+codeflash-ai[bot]@users.noreply.github.com>"
        ),
        None,
        [],
        [],
    ),  # fmt: skip
    # an automation account's co-author line is not AI
    (
        "no-automation-coauthor",
        "",
        None,
        [],
        [
            (
                "Bump z\n\nCo-authored-by: dependabot[bot] "
                "<49699333+dependabot[bot]@users.noreply.github.com>",
                "Dev",
                "d@corp.example",
                True,
            )
        ],
    ),
    (
        "no-assisted-none",
        "",
        None,
        [],
        [("Do z\n\nAssisted-by: none", "Dev", "d@corp.example", True)],
    ),
    ("no-label", "", None, ["codex-review"], []),
    ("no-branch", "", "feature/copilot-{k}", [], []),
    ("no-prose", "We talked to Claude Monet <claude.monet@gmail.com> about it.", None, [], []),
    (
        "no-session-prose",
        "Fix\n\nThe Claude-Session: line is how the policy spells it, see above.\nThanks",
        None,
        [],
        [],
    ),
]


def _ai_evidence(rng, k: int, created: datetime):
    """PR body, head branch, labels and PR commits of PR ``k``: 30% carry one AI kind, half of
    the others an ordinary commit."""
    u = rng.random()
    commits = []
    if u < 0.3:
        _, body, branch, labels, rows = AI_KINDS[int(rng.integers(len(AI_KINDS)))]
        branch = (branch or f"feature/{k}").format(k=k)
        commits = [(f"a{k:033x}{j:06x}", *row) for j, row in enumerate(rows)]
        return body, branch, labels, commits
    if u < 0.65:
        commits = [
            (
                f"b{k:039x}",
                f"Work on {k}\n\nSigned-off-by: Dev <d@corp.example>",
                "Dev",
                "d@corp.example",
                True,
            )
        ]
    return "", f"feature/{k}", [], commits


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
