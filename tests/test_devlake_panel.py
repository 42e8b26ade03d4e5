"""The DevLake panel pushed down into the database equals import + ``build_panel``.

Runs on the throwaway PostgreSQL and MariaDB servers of ``tests/devlake_servers.py`` (the
fixture database and DevLake's own e2e snapshot data at three schema versions).
"""

from __future__ import annotations

import subprocess
import warnings

import polars as pl
import pytest
from devlake_generated import fill
from devlake_servers import CERTKIT, PASSWORD, REAL

from certkit.cli import main
from certkit.connectors import devlake_panel_ai as ai
from certkit.connectors import devlake_read as dr
from certkit.connectors import read_devlake, to_dataset
from certkit.connectors.attribution import Rule, load_rules
from certkit.connectors.devlake import _connect
from certkit.connectors.devlake_panel import NOT_COMPUTED, devlake_panel
from certkit.connectors.identity import load_agents, read_identities
from certkit.data.panel import build_panel
from certkit.errors import CertkitError, CertkitWarning

N_GENERATED = 3000

ROSTER = """engineer_id,team,role,level,hire_date,platform
u-ana,ml-platform,ml_engineer,senior,2023-01-15,aws
u-ben,ml-platform,backend,mid,2023-02-10,gcp
"""
CERTS = """engineer_id,certification,earned_date
u-ben,AWS Certified Machine Learning - Specialty,2024-04-02
"""


def reference(uri: str, period: str, **kw) -> pl.DataFrame:
    """``certkit import devlake`` + ``build_panel``: what the pushdown must reproduce."""
    files = {k: kw.pop(k) for k in ("engineers", "certifications") if k in kw}
    keep = kw.pop("keep_partial_end", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        ds = to_dataset(read_devlake(uri, **kw), **files)
        return build_panel(ds, period, keep_partial_end=keep)


def pushed(uri: str, period: str, **kw) -> pl.DataFrame:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        panel = devlake_panel(uri, period=period, **kw)
    # no column left uncomputed, no rule without a prefilter (the bundled rules)
    said = " ".join(str(w.message) for w in caught)
    assert "not computed" not in said and "AI rule" not in said, said
    return panel


def assert_same(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert got.columns == want.columns
    assert got.schema == want.schema
    assert got.height == want.height and got.height > 0
    assert NOT_COMPUTED == ()
    from polars.testing import assert_frame_equal

    assert_frame_equal(got, want, check_exact=False, rel_tol=1e-12)


@pytest.mark.parametrize("period", ["month", "week"])
def test_fixture_database(db, tmp_path, period):
    roster, certs = tmp_path / "engineers.csv", tmp_path / "certifications.csv"
    roster.write_text(ROSTER)
    certs.write_text(CERTS)
    kw = {"engineers": roster, "certifications": certs}
    want = reference(db["uri"], period, **kw)
    got = pushed(db["uri"], period, **kw)
    assert_same(got, want)
    assert want["merged_prs"].sum() > 0 and want["defects"].sum() > 0
    assert want["ai_prs"].sum() > 0 and want["ai_share"].drop_nulls().len() > 0


@pytest.mark.parametrize(("version", "period"), [*((v, "month") for v in REAL), ("head", "week")])
def test_real_snapshots(db, version, period):
    """DevLake's own e2e data at three schema versions (columns and tables missing in older
    versions read as the import reads them)."""
    want = reference(db[version], period)
    got = pushed(db[version], period)
    assert_same(got, want)
    assert want["merged_prs"].sum() > 40 and want["incidents"].sum() > 0


def test_scope_and_since(db):
    """--since, --repo and --project select the same PRs, defects and incidents."""
    for uri, kw in (
        (db["uri"], {"since": "2024-01-01"}),
        (db["uri"], {"repos": ["org/app"]}),
        (db["head"], {"project": "project1"}),
        (db["head"], {"repos": ["gitlab-data/snowflake_spend"], "since": "2020-01-01"}),
    ):
        assert_same(pushed(uri, "month", **kw), reference(uri, "month", **kw))


def test_errors(db):
    with pytest.raises(CertkitError, match="must start with postgresql:// or mysql://"):
        devlake_panel("sqlite:///lake.db")
    with pytest.raises(CertkitError, match="cannot connect") as e:
        devlake_panel(db["nodb"])
    assert "reader:***@" in str(e.value)
    with pytest.raises(CertkitError, match="no pull_requests table"):
        devlake_panel(db["empty"])
    with pytest.raises(CertkitError, match="period must be one of"):
        devlake_panel(db["uri"], period="day")
    with pytest.raises(CertkitError, match="since must be a date"):
        devlake_panel(db["uri"], since="April")
    with pytest.raises(CertkitError, match="nothing to build a panel from"):
        devlake_panel(db["uri"], since="2999-01-01")
    with pytest.raises(CertkitError, match="no project named 'nope'"):
        devlake_panel(db["head"], project="nope")


def test_cli_panel_from_devlake(postgresql, tmp_path, capsys):
    """``certkit panel --data URI --engineers --certifications`` writes the pushed-down panel
    (the installed command once; the SQL per backend is covered above)."""
    uri = postgresql["uri"]
    roster, certs = tmp_path / "engineers.csv", tmp_path / "certifications.csv"
    roster.write_text(ROSTER)
    certs.write_text(CERTS)
    out = tmp_path / "panel.parquet"
    rules = tmp_path / "rules.yaml"
    rules.write_text(CUSTOM_RULES)
    args = ["panel", "--data", uri, "--engineers", str(roster), "--ai-rules", str(rules)]
    args += ["--certifications", str(certs), "--period", "week", "--out", str(out)]
    res = subprocess.run([str(CERTKIT), *args], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "computed in DevLake's database" in res.stdout
    assert "not computed" not in res.stderr and "AI rule" not in res.stderr
    assert PASSWORD not in res.stdout + res.stderr
    want = reference(uri, "week", engineers=roster, certifications=certs, rules=str(rules))
    assert_same(pl.read_parquet(out), want)
    assert want["ai_prs"].sum() > 0
    # DevLake-only options without a DevLake URI: a usage error, not silently ignored
    assert main(["panel", "--data", str(tmp_path), "--engineers", str(roster)]) == 2
    assert "only apply with a DevLake URI" in capsys.readouterr().err


_GENERATED: dict[str, str] = {}


@pytest.fixture
def generated(db) -> str:
    """Reader URI of a database filled by ``devlake_generated.fill`` (once per backend)."""
    backend = db["uri"].split(":")[0]
    if backend not in _GENERATED:
        _GENERATED[backend] = _create_generated(db, backend)
    return _GENERATED[backend]


def _create_generated(db, backend: str) -> str:
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(db["admin"], autocommit=True) as conn:
            conn.execute("CREATE DATABASE gen")
        admin = db["admin"].replace("/lake?", "/gen?")
        with psycopg.connect(admin, autocommit=True) as conn:
            fill(conn, backend, N_GENERATED)
            conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
        return db["uri"].replace("/lake?", "/gen?")
    import pymysql

    sock = db["admin"].split("unix_socket=")[1]
    conn = pymysql.connect(unix_socket=sock, user="root", password="", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE gen CHARACTER SET utf8mb4")
            cur.execute("GRANT SELECT ON gen.* TO reader@'127.0.0.1'")
            cur.execute("USE gen")
        fill(conn, backend, N_GENERATED)
    finally:
        conn.close()
    return db["uri"].replace("/lake?", "/gen?")


@pytest.mark.parametrize("period", ["month", "week"])
def test_generated_organisation(generated, tmp_path, period):
    """Every rule at once on a simulated DevLake: equal to import + build_panel."""
    ids = tmp_path / "ids.csv"  # two accounts of dev3 and dev4 merged into one engineer
    ids.write_text("engineer_id,email,login\nteam-x,dev3@corp.example,\nteam-x,,dev4\n")
    want = reference(generated, period, identities=ids)
    got = pushed(generated, period, identities=ids)
    assert_same(got, want)
    totals = want.select(pl.col("merged_prs", "defects", "incidents", "ai_prs").sum()).row(0)
    assert all(n > 20 for n in totals), totals
    assert want["reverts"].sum() > 10
    assert want["pickup_time_hours_median"].drop_nulls().len() > 50


def import_ai(uri: str, **kw) -> set[str]:
    """DevLake ids of the PRs the import marks AI-assisted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        prs = read_devlake(uri, **kw).pull_requests
    return set(prs.filter(pl.col("ai_assisted") == 1)["devlake_id"])


def test_prefilter_loses_no_pr(generated):
    """Every PR the import finds AI-assisted passes the SQL prefilter; the prefilter keeps far
    fewer PRs than all, near misses among them; the exact step returns the import's set."""
    want = import_ai(generated)
    conn, dialect = _connect(generated)
    try:
        q, s = dr.lake_schema(conn, dialect)
        agents = load_agents()  # the bundled coding agents, as read_devlake's default
        pre = ai.prefilter(s, "1 = 1", load_rules(), agents)
        candidates = {r["pid"] for r in q(pre.sql, pre.params)}
        n_prs = q("SELECT COUNT(*) AS n FROM pull_requests")[0]["n"]
        ids = read_identities(None)
        got, _, n = ai.ai_pr_ids(q, s, "1 = 1", {}, ids, load_rules(), agents)
    finally:
        conn.close()
    assert want <= candidates
    assert got == want and n == len(candidates)
    assert 200 < len(want) < len(candidates) < n_prs / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        fired = set(read_devlake(generated).ai_evidence["rule"])
    kinds = {
        "claude-coauthor",  # commit trailer, upper-case trailer, squash body
        "cursor-agent-email",  # squash body, PR-commit-only e-mail, JSON \u003c escapes
        "claude-generated-line",  # JSON-quoted body
        "codex-label",
        "copilot-branch",
        "assisted-by",
        "aider-name-suffix",
        "copilot-noreply",
        "cursor-made-with",
        "aider-subject-prefix",
        "codex-task-link",  # letters folded from non-ASCII characters
        "copilot-agent-login",
        "devin-bot-login",
        "agent-codeflash",  # a listed agent's co-author line, in a commit or a squash body
    }
    assert kinds <= fired, kinds - fired


CUSTOM_RULES = r"""
negative_values: [none]
rules:
  - {id: infra-label, tool: other, field: label, pattern: INFRA}
  - {id: fix-branch, tool: copilot, field: branch, regex: true, pattern: '^copilot/fix-(x|y)$'}
  - {id: ana-line, tool: claude, field: line, regex: true, pattern: 'co-authored-by: claude (sonnet|opus)'}
"""


def test_requirements_of_rules():
    """What the prefilter searches for, per rule kind (no database)."""

    def req(pattern: str, regex: bool = True, field: str = "line"):
        return ai.requirement(Rule("r", "t", field, pattern, regex=regex))

    assert all(ai.requirement(r) is not None for r in load_rules().rules)
    assert req(r"^(no-reply|claude[\w.+-]*)@(anthropic\.com|claude\.ai)$") == (
        "and",
        [
            ("or", [("lit", "no-reply"), ("lit", "claude")]),
            ("or", [("lit", "anthropic.com"), ("lit", "claude.ai")]),
        ],
    )
    # optional characters are left out; characters JSON may escape cut the literal
    assert req(r"generated with \[?claude code\]?") == (
        "and",
        [("lit", "generated with "), ("lit", "claude code")],
    )
    assert req("<!-- CURSOR_SUMMARY -->") == ("lit", "!-- cursor_summary --")
    assert req("chatgpt\\.com/codex/tasks/task_") == (
        "and",
        [("lit", "chatgpt.com"), ("lit", "codex"), ("lit", "tasks"), ("lit", "task_")],
    )
    assert req("Claude-Session", regex=False, field="trailer") == ("lit", "claude-session")
    abc = [("lit", "xyz"), ("lit", "abc"), ("lit", "def")]
    assert req("xyz(abc)+def") == ("and", abc)  # repeated at least once: required
    assert req("xyz(abc)*def") == req("xyz(?:abc)?def") == ("and", [abc[0], abc[2]])
    for nothing in (".+", r"^\w+/\d+$", "ab|.", "(?=x)y?", "a&b"):
        assert req(nothing) is None, nothing
    assert ai._like("a_b%c!d") == "%a!_b!%c!!d%"
    assert ai._like("tasks") == "%ta___%"  # i, k, s: any one character (ſ, K, ı, İ)


@pytest.mark.parametrize("fallback", [False, True])
def test_custom_rules(db, tmp_path, fallback):
    """A user's rules file: equal to the import with the same rules; a rule without literal
    text reads every PR (with a warning) and still gives the import's values."""
    rules = tmp_path / "rules.yaml"
    extra = "  - {id: any-branch, tool: other, field: branch, regex: true, pattern: '^\\w+/.+$'}\n"
    rules.write_text(CUSTOM_RULES + (extra if fallback else ""))
    want = reference(db["uri"], "month", rules=str(rules))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = devlake_panel(db["uri"], period="month", ai_rules=rules)
    assert_same(got, want)
    said = [str(w.message) for w in caught if "AI rule" in str(w.message)]
    assert len(said) == fallback and (not said or "any-branch" in said[0])
    assert want["ai_prs"].sum() >= 2 + fallback


def test_ai_step_scans_pr_commits_once(generated, monkeypatch):
    """The candidates' PR commits come from one query over ``pull_request_commits`` (no index
    by PR in DevLake: a query per batch scanned the whole table per batch, quadratic in the
    PRs on MariaDB) and their ``commits`` rows by primary key per batch; same AI PRs."""
    monkeypatch.setattr(ai, "_BATCH", 40)
    conn, dialect = _connect(generated)
    sent: list[str] = []
    try:
        q0, s = dr.lake_schema(conn, dialect)

        def q(sql: str, params: dict | None = None) -> list[dict]:
            sent.append(sql)
            return q0(sql, params)

        ids, agents = read_identities(None), load_agents()
        got, pre, n = ai.ai_pr_ids(q, s, "1 = 1", {}, ids, load_rules(), agents)
    finally:
        conn.close()
    batches = -(-n // 40)
    assert batches >= 10 and got == import_ai(generated)
    scans = [x for x in sent if "FROM pull_request_commits" in x and x != pre.sql]
    assert len(scans) == 1, scans
    by_key = [x for x in sent if "FROM commits c WHERE c.sha IN" in x]
    assert 0 < len(by_key) <= batches
    assert sum("FROM pull_requests pr" in x and "aipr" in x for x in sent) == batches


def test_blame_keys_are_hashable_on_mysql(mysql, monkeypatch):
    """The incident blame's (kind, value) keys are bounded strings on MySQL/MariaDB: DevLake's
    ``deployment_commit_id``/``deployment_id`` are ``longtext``, which MariaDB leaves out of a
    hash join's key (it hashed the PR keys by ``kind`` alone and compared each incident key
    with half of them: 110 s at 100,000 PRs). On DevLake's generated schema (``head``)."""
    import pymysql

    types: dict[str, int] = {}
    run = dr.run_query

    def probe(conn, sql: str, params: dict) -> list[dict]:
        if sql.startswith("WITH") and "pkey AS (" in sql:
            head = sql[: sql.rindex("\nSELECT u.ek AS ek")]
            with conn.cursor() as cur:
                cur.execute(
                    head + "\nSELECT i.v AS iv, k.v AS kv FROM ikey i, pkey k LIMIT 0", params
                )
                types.update({d[0]: d[1] for d in cur.description})
        return run(conn, sql, params)

    monkeypatch.setattr(dr, "run_query", probe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        devlake_panel(mysql["head"], period="month")
    blob = {pymysql.constants.FIELD_TYPE.BLOB, pymysql.constants.FIELD_TYPE.LONG_BLOB}
    assert set(types) == {"iv", "kv"} and not blob & set(types.values()), types


# Links naming the fix (certkit.data.panel_links), added to the fixture database: APP-5, a bug
# reported a day before the PR it links (org/app#21, Ana's) merged; APP-6, an incident issue
# an hour before its PR (org/app#22, Ben's) merged; PD-78, an incident whose deployment
# (dep-5) shipped only org/app#22, merged half an hour after it started.
FIX_ROWS = """
INSERT INTO issues (id, issue_key, type, created_date, resolution_date, priority, severity,
  component) VALUES
  ('jira:JiraIssue:1:5', 'APP-5', 'BUG', '2024-04-01 17:00:00+00', NULL, 'High', NULL, 'core'),
  ('jira:JiraIssue:1:6', 'APP-6', 'INCIDENT', '2024-04-03 11:00:00+00', NULL, 'High', 'SEV2',
   'core');
INSERT INTO pull_request_issues (pull_request_id, issue_id) VALUES
  ('github:GithubPullRequest:1:1001', 'jira:JiraIssue:1:5'),
  ('github:GithubPullRequest:1:1002', 'jira:JiraIssue:1:6');
INSERT INTO incidents (id, incident_key, created_date, resolution_date, urgency) VALUES
  ('pagerduty:Incident:1:78', 'PD-78', '2024-04-03 11:30:00+00', '2024-04-03 14:00:00+00', 'low');
INSERT INTO project_incident_deployment_relationships VALUES
  ('pagerduty:Incident:1:78', 'app', 'dep-5');
"""
_LAKES: dict[tuple[str, str], str] = {}


def _lake(db, name: str, rows: str) -> str:
    """Reader URI of the fixture database plus ``rows`` (SQL), as database ``name`` (once per
    backend)."""
    from devlake_servers import SQL, create_mysql_lake, mysql_admin

    backend = db["uri"].split(":")[0]
    if (backend, name) in _LAKES:
        return _LAKES[backend, name]
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(db["admin"], autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        with psycopg.connect(db["admin"].replace("/lake?", f"/{name}?"), autocommit=True) as conn:
            conn.execute(SQL.read_text() + rows)
            conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    else:
        conn = mysql_admin(db)
        try:
            with conn.cursor() as cur:
                create_mysql_lake(cur, name, SQL.read_text() + rows)
        finally:
            conn.close()
    _LAKES[backend, name] = db["uri"].replace("/lake?", f"/{name}?")
    return _LAKES[backend, name]


def _fix_lake(db) -> str:
    """Reader URI of the fixture database plus :data:`FIX_ROWS`."""
    return _lake(db, "fixlake", FIX_ROWS)


#: A bot's PRs weeks after the people's last (trial AG, huggingface_hub: moon-bot's and
#: dependabot's PRs on the 20th, the last person's on the 18th).
LATE_BOT_ROWS = """
INSERT INTO pull_requests (id, base_repo_id, status, title, description, author_name, author_id,
  pull_request_key, created_date, merged_date, closed_date, merge_commit_sha, head_ref,
  additions, deletions) VALUES
  ('github:GithubPullRequest:1:1005', 'github:GithubRepo:1:100', 'MERGED', 'Bump more', '',
   'renovate[bot]', 'github:GithubAccount:1:13', 24, '2024-06-20 08:00:00+00',
   '2024-06-21 09:00:00+00', '2024-06-21 09:00:00+00', 'm024', 'renovate/more', 2, 2);
"""


#: An unlisted bot opening PRs for people: its squash body names the person who asked.
AGENT_BOT_ROWS = """
INSERT INTO accounts VALUES ('github:GithubAccount:1:16', NULL, 'moon-bot-app[bot]',
  'moon-bot-app[bot]', NULL);
INSERT INTO pull_requests (id, base_repo_id, status, title, description, author_name, author_id,
  pull_request_key, created_date, merged_date, closed_date, merge_commit_sha, head_ref,
  additions, deletions) VALUES
  ('github:GithubPullRequest:1:1006', 'github:GithubRepo:1:100', 'MERGED', 'Support groups',
   E'Requested by @ana-gh (Ana Silva) via Moon Bot.\n\nCo-authored-by: Ana Silva <ana@corp.example>',
   'moon-bot-app[bot]', 'github:GithubAccount:1:16', 25, '2024-04-06 08:00:00+00',
   '2024-04-06 09:00:00+00', '2024-04-06 09:00:00+00', 'm025', 'moon/groups', 9, 1),
  ('github:GithubPullRequest:1:1007', 'github:GithubRepo:1:100', 'MERGED', 'More groups',
   E'Requested by @ben-gh via Moon Bot.\n\nCo-authored-by: Claude <noreply@anthropic.com>\nCo-authored-by: Ben Okafor <ben@corp.example>',
   'moon-bot-app[bot]', 'github:GithubAccount:1:16', 26, '2024-04-07 08:00:00+00',
   '2024-04-07 09:00:00+00', '2024-04-07 09:00:00+00', 'm026', 'moon/more', 9, 1);
"""


def test_the_devlake_import_names_a_bot_whose_prs_people_co_author(db):
    """trial AG (B3): the git import named moon-bot-app[bot], whose PRs name the engineers who
    asked for them as co-authors; the DevLake import of the same history said nothing."""
    uri = _lake(db, "agentbot", AGENT_BOT_ROWS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        imp = read_devlake(uri)
    (note,) = [n for n in imp.notes if "name people as co-authors" in n]
    assert note.startswith(
        "DevLake: 2 bot PR(s) name people as co-authors, by bot accounts no agents file lists: "
        "moon-bot-app[bot] (2 of its 2 PR(s), co-authored by "
    ), note
    assert "--agents (kind ai_agent)" in note and "renovate" not in note
    assert "claude" not in note.lower()  # an AI tool's line is not a person


def _daily_rows() -> str:
    """Ana's and Ben's merged PRs every day from 10 April to 8 June 2024, and a newcomer's
    only PR on 5 June: June is a partial last month (the data end on the 8th)."""
    rows = []
    for n in range(59):
        d = f"2024-{4 + (9 + n) // 30:02d}-{(9 + n) % 30 + 1:02d}"
        who = ("ana-gh", "11") if n % 2 else ("ben-gh", "12")
        rows.append(
            f"('github:GithubPullRequest:1:{2000 + n}', 'github:GithubRepo:1:100', 'MERGED', "
            f"'Daily {n}', '', '{who[0]}', 'github:GithubAccount:1:{who[1]}', {100 + n}, "
            f"'{d} 08:00:00+00', '{d} 12:00:00+00', '{d} 12:00:00+00', 'd{n}', 'x/{n}', 1, 1)"
        )
    rows.append(
        "('github:GithubPullRequest:1:2999', 'github:GithubRepo:1:100', 'MERGED', 'First', '', "
        "'zed-gh', 'github:GithubAccount:1:15', 999, '2024-06-05 08:00:00+00', "
        "'2024-06-05 12:00:00+00', '2024-06-05 12:00:00+00', 'd999', 'z/1', 1, 1)"
    )
    return (
        "INSERT INTO accounts VALUES ('github:GithubAccount:1:15', 'zed@corp.example', 'Zed "
        "New', 'zed-gh', 'org');\n"
        "INSERT INTO pull_requests (id, base_repo_id, status, title, description, author_name, "
        "author_id, pull_request_key, created_date, merged_date, closed_date, merge_commit_sha, "
        "head_ref, additions, deletions) VALUES\n  " + ",\n  ".join(rows) + ";\n"
    )


def test_an_engineer_only_in_the_dropped_partial_month_is_said_by_both_paths(db, tmp_path):
    """trial AG (B2): 8 engineers seen only in the dropped August left the pushdown's panel
    unsaid, where build_panel on the import warned of them."""
    uri = _lake(db, "partlake", _daily_rows())
    said = "1 engineer(s) appear only in the partial last month left out"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = to_dataset(read_devlake(uri))
        want = build_panel(ds, "month")
    assert any(said in str(w.message) for w in caught)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = devlake_panel(uri, period="month")
    assert any(said in str(w.message) for w in caught), [str(w.message) for w in caught]
    assert_same(got, want)
    assert want["period"].max().month == 5


@pytest.mark.parametrize("period", ["month", "week"])
def test_a_bots_late_prs_do_not_stretch_the_pushdowns_window(db, tmp_path, period):
    """trial AG (huggingface_hub, weekly): the pushdown's window ended with a bot's last PR
    and kept a partial week that import + build_panel, whose window is the engineers' PRs,
    left out (7,569 rows against 7,394)."""
    uri = _lake(db, "botlake", LATE_BOT_ROWS)
    roster, certs = tmp_path / "engineers.csv", tmp_path / "certifications.csv"
    roster.write_text(ROSTER)
    certs.write_text(CERTS)
    kw = {"engineers": roster, "certifications": certs}
    want = reference(uri, period, **kw)
    assert want["period"].max().month == 4  # the people's PRs end in April
    for keep in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CertkitWarning)
            got = devlake_panel(uri, period=period, keep_partial_end=keep, **kw)
        assert_same(got, reference(uri, period, keep_partial_end=keep, **kw) if keep else want)


def test_links_to_prs_merged_later_are_fixes_in_both_paths(db, tmp_path):
    """``certkit import devlake`` + ``build_panel`` and the pushdown leave the same fix links
    out of the PR authors' counts (and keep them with ``fix_links="keep"``), say so in the
    same words, and blame a deployment's incident only on a PR merged before it."""
    uri = _fix_lake(db)
    roster, certs = tmp_path / "engineers.csv", tmp_path / "certifications.csv"
    roster.write_text(ROSTER)
    certs.write_text(CERTS)
    kw = {"engineers": roster, "certifications": certs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        imp = read_devlake(uri)
        ds = to_dataset(imp, **kw)
    incidents = dict(zip(ds.incidents["key"], ds.incidents["pr_id"], strict=True))
    assert incidents == {"APP-2": None, "APP-6": "org/app#22", "PD-77": "org/app#22", "PD-78": None}
    assert any("1 have deployments that shipped only PRs merged after" in n for n in imp.notes)
    said = [p.message for p in ds.validation.warnings if p.column == "pr_id"]
    assert said == [
        "1 defect is linked to a PR merged after it was reported (or never merged), e.g. "
        "jira:JiraIssue:1:5: that PR most likely fixed it, so it is not counted against the "
        "PR's author (fix_links='drop', the default) and counts in organisation totals only, "
        "or for the engineer the row names; fix_links='keep' counts it for the PR's author, "
        "if your links name the PRs that caused them",
        "1 incident is linked to a PR merged after it started (or never merged), e.g. "
        "jira:JiraIssue:1:6: that PR most likely fixed it, so it is not counted against the "
        "PR's author (fix_links='drop', the default) and counts in organisation totals only, "
        "or for the engineer the row names; fix_links='keep' counts it for the PR's author, "
        "if your links name the PRs that caused them",
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = devlake_panel(uri, period="month", **kw)
    assert [m for m in said if m in {str(w.message) for w in caught}] == said
    want = build_panel(ds, "month")
    assert_same(got, want)

    def april(p: pl.DataFrame, who: str) -> tuple[int, int]:
        row = p.filter((pl.col("engineer_id") == who) & (pl.col("period").dt.month() == 4))
        return row["defects"].item(), row["incidents"].item()

    assert april(want, "u-ana") == (1, 0)  # APP-1 (reported after the merge); not APP-5
    assert april(want, "u-ben") == (0, 1)  # PD-77; not APP-6, and PD-78 is no one's
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        kept = devlake_panel(uri, period="month", fix_links="keep", **kw)
    assert_same(kept, build_panel(ds, "month", fix_links="keep"))
    assert april(kept, "u-ana") == (2, 0) and april(kept, "u-ben") == (0, 2)


def test_the_certifications_warnings_are_given_and_reverts_are_known(db, tmp_path):
    """trial R (browser-use in DevLake's schema): the pushdown left out the certifications
    file's warning "earned before hire_date" that the import gives. Reverts, once unknown in
    DevLake data, are read from the PRs' text: known (here none) in both paths."""
    from certkit.errors import OutcomeNotRecorded
    from certkit.privacy import Privacy
    from certkit.report import Context

    roster, certs = tmp_path / "engineers.csv", tmp_path / "certifications.csv"
    roster.write_text(ROSTER)
    certs.write_text(CERTS + "u-ana,gcp-pmle,2022-06-01\n")  # before her hire date
    kw = {"engineers": roster, "certifications": certs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        ds = to_dataset(read_devlake(db["uri"]), **kw)
    assert ds.pull_requests["reverted"].null_count() == 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = devlake_panel(db["uri"], period="month", **kw)
    said = [str(w.message) for w in caught]
    assert any("earned before hire_date" in s and "certifications" in s for s in said), said
    merged = got.filter(pl.col("merged_prs") > 0)
    assert merged.height and merged["revert_rate"].null_count() == 0
    assert_same(got, reference(db["uri"], "month", **kw))
    ctx = Context(ds=ds, full=ds, panel=got, privacy=Privacy(k=1), period="", filters={})
    with pytest.raises(OutcomeNotRecorded, match="0% in every row"):  # known, none reverted
        ctx.recorded("revert_rate")


def test_reverts_are_read_from_titles_branches_descriptions_and_commits(generated):
    """DevLake records no reverts (trial R: every PR was "not reverted", then unknown). The
    git import's rules read them from the PRs' text; the pushdown reads only the possible
    reverts and what they name, and counts the same PRs (``reverts`` in the parity test)."""
    from devlake_generated import _rows

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        imp = read_devlake(generated)
    prs, notes = imp.pull_requests, " ".join(imp.notes)
    reverted = set(prs.filter(pl.col("reverted"))["devlake_id"])
    raw = _rows(N_GENERATED, 7)["pull_requests"][1]
    when = dict(
        prs.filter(pl.col("merged_date").is_not_null())
        .select("devlake_id", "merged_date")
        .iter_rows()
    )
    by_kind: dict[int, set[str]] = {}
    for k in range(100, N_GENERATED, 23):
        kind = (k // 23) % 7
        j = k - 12 * (1 + k % 5) if kind != 3 else k - 552
        if j < 0 or raw[k][0] not in when or raw[j][0] not in when or raw[k][1] != raw[j][1]:
            continue  # not merged both, or not in one repository (GitLab authors' PRs)
        if kind == 2 and when[raw[j][0]] >= when[raw[k][0]]:
            continue  # a title names the PR with that title merged last before the revert
        by_kind.setdefault(kind, set()).add(raw[j][0])
    # a kind-0 revert reverted by a kind-3 one: its own target is restored
    restored = {raw[j - 12 * (1 + j % 5)][0] for j in map(_number, by_kind[3])}
    for kind in (0, 1, 2):  # the revert button, the sha, the title alone (JSON-quoted)
        assert len(by_kind[kind]) >= 3
        assert by_kind[kind] - by_kind[5] - restored <= reverted, kind  # unless temporary
    assert by_kind[3] <= reverted and restored  # the reverted reverts themselves
    for kind in (4, 5, 6):  # near misses, planned reversals, revert commits inside a PR
        named_elsewhere = set().union(*(by_kind.get(x, set()) for x in (0, 1, 2, 3)))
        assert not (by_kind[kind] - named_elsewhere) & reverted, kind
    assert "reverted as planned" in notes and "inside other PRs" in notes
    assert "restored by a revert of their revert" in notes
    assert reverted == pushed_reverts(generated)


def _number(devlake_id: str) -> int:
    return int(devlake_id.rsplit(":", 1)[1])


def pushed_reverts(uri: str) -> set[str]:
    """The reverted PRs the pushdown finds (its own reads, not the import's)."""
    from certkit.connectors.devlake_reverts import reverted_pr_ids

    conn, dialect = _connect(uri)
    try:
        q, s = dr.lake_schema(conn, dialect)
        return reverted_pr_ids(q, s, "1 = 1", {})
    finally:
        conn.close()


def test_a_house_agent_file_counts_in_the_import_and_the_pushdown(generated, tmp_path):
    """``--agents FILE`` on DevLake data (trial AA: `import devlake` and `panel --data` had
    no such option, so a house agent such as pydantic's pydanty could not be declared)."""
    agents = tmp_path / "agents.yaml"
    agents.write_text(
        "version: 1\nagents:\n"
        "  - {id: house, kind: ai_agent, tool: other, emails: ['^d@corp\\.example$']}\n"
    )
    plain, house = import_ai(generated), import_ai(generated, agents=str(agents))
    assert plain < house  # the agent's commits are AI evidence now
    want = reference(generated, "month", agents=str(agents))
    got = pushed(generated, "month", agents=str(agents))
    assert_same(got, want)
    assert got["ai_prs"].sum() > pushed(generated, "month")["ai_prs"].sum()


def test_the_pushdown_gives_the_imports_revert_notes(generated):
    """trial AA: `certkit panel --data URI` said nothing of the reverts the import names in
    its notes (a planned reversal of a temporary change, reverts naming no PR found)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        notes = read_devlake(generated).notes
    want = {n for n in notes if "revert" in n.lower()}
    assert want  # the generated organisation has planned reversals and near misses
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        devlake_panel(generated)
    said = {str(w.message) for w in caught}
    assert want <= said, want - said
