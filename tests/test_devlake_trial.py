"""What trialB (the fastapi history written into DevLake's schema) found wrong, on both backends.

A small database ``trial`` per backend: the DevLake-shaped fixture of the other DevLake tests
(``tests/fixtures/connectors/devlake.sql``) plus a project that maps only a board, a second
account with Ben's name, and an incident whose deployment shipped only a bot's PR; and users
without SELECT on one table each. On the servers of ``tests/devlake_servers.py`` (session
fixtures, shared with the other DevLake tests).
"""

from __future__ import annotations

import warnings
from urllib.parse import quote

import polars as pl
import pytest
from devlake_servers import PASSWORD, SQL, create_mysql_lake, mysql_admin
from polars.testing import assert_frame_equal

from certkit.cli import main
from certkit.connectors import read_devlake, to_dataset
from certkit.connectors.devlake import safe_uri
from certkit.connectors.devlake_panel import devlake_panel
from certkit.data.panel import build_panel
from certkit.errors import CertkitError, CertkitWarning

EXTRA = """
CREATE TABLE project_mapping (project_name varchar(255), "table" varchar(255),
  row_id varchar(255));
CREATE TABLE board_repos (board_id varchar(255), repo_id varchar(255));
CREATE TABLE board_issues (board_id varchar(255), issue_id varchar(255));
INSERT INTO project_mapping VALUES ('app', 'repos', 'github:GithubRepo:1:100'),
  ('docsonly', 'boards', 'jira:JiraBoard:1:9');
INSERT INTO accounts VALUES
  ('github:GithubAccount:1:15', 'ben.work@corp.example', 'Ben Okafor', 'ben-work', 'org');
INSERT INTO pull_requests (id, base_repo_id, status, title, description, author_name, author_id,
  pull_request_key, created_date, merged_date, closed_date, merge_commit_sha, head_ref,
  additions, deletions) VALUES
  ('github:GithubPullRequest:1:1005', 'github:GithubRepo:1:100', 'MERGED', 'Docs', '',
   'ben-work', 'github:GithubAccount:1:15', 24, '2024-04-08 08:00:00+00',
   '2024-04-08 10:00:00+00', '2024-04-08 10:00:00+00', 'm024', 'ben/docs', 3, 1);
INSERT INTO incidents (id, incident_key, created_date, resolution_date, urgency) VALUES
  ('pagerduty:Incident:1:78', 'PD-78', '2024-04-05 13:00:00+00', NULL, 'low');
INSERT INTO project_incident_deployment_relationships VALUES
  ('pagerduty:Incident:1:78', 'app', 'dep-6');
INSERT INTO cicd_deployment_commits (id, cicd_deployment_id, result, environment, commit_sha)
  VALUES ('dep-6:app', 'dep-6', 'SUCCESS', 'PRODUCTION', 'm023');
"""
#: user -> the one table it may not read
LIMITED = {
    "lim_issues": "pull_request_issues",
    "lim_prc": "pull_request_commits",
    "lim_prs": "pull_requests",
}
ROSTER = """engineer_id,team,role,level,hire_date,platform
u-ana,ml-platform,ml_engineer,senior,2023-01-15,aws
u-ben,ml-platform,backend,mid,2023-02-10,gcp
"""
# Ben's certification by his e-mail, which the identity file maps (an HR export keyed by e-mail)
CERTS = """engineer_id,certification,earned_date
ben@corp.example,AWS Certified Machine Learning - Specialty,2024-04-02
"""
IDS = "engineer_id,email\nu-ben,ben@corp.example\n"


_TRIAL: dict[str, dict[str, str]] = {}


@pytest.fixture
def trial(db) -> dict[str, str]:
    """URIs of the ``trial`` database: ``uri`` (the reader) and one per limited user.

    Created once per server (a module-scoped fixture over the session's backend parameter
    would be set up again when xdist interleaves the backends: the database exists then)."""
    backend = db["uri"].split(":")[0]
    if backend not in _TRIAL:
        _TRIAL[backend] = _create_trial(db)
    return _TRIAL[backend]


def _create_trial(db) -> dict[str, str]:
    script = SQL.read_text() + EXTRA
    if db["uri"].startswith("postgresql"):
        import psycopg

        with psycopg.connect(db["admin"], autocommit=True) as conn:
            conn.execute("CREATE DATABASE trial")
            for user in LIMITED:
                conn.execute(f"CREATE ROLE {user} LOGIN")
        with psycopg.connect(db["admin"].replace("/lake?", "/trial?"), autocommit=True) as conn:
            conn.execute(script)
            for user, table in {"reader": None, **LIMITED}.items():
                conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {user}")
                if table:
                    conn.execute(f"REVOKE SELECT ON {table} FROM {user}")
        uri = db["uri"].replace("/lake?", "/trial?")
        reader = uri.split("@", 1)[0] + "@"
        return {"uri": uri, **{u: uri.replace(reader, f"postgresql://{u}@") for u in LIMITED}}
    conn = mysql_admin(db)
    try:
        with conn.cursor() as cur:
            create_mysql_lake(cur, "trial", script)
            cur.execute("SHOW TABLES")
            tables = [r[0] for r in cur.fetchall()]
            for user, table in LIMITED.items():  # MySQL grants per table, no REVOKE of one
                cur.execute(f"CREATE USER {user}@'127.0.0.1' IDENTIFIED BY 'pw'")
                for t in tables:
                    if t != table:
                        cur.execute(f"GRANT SELECT ON trial.`{t}` TO {user}@'127.0.0.1'")
    finally:
        conn.close()
    uri = db["uri"].split("?")[0].replace("/lake", "/trial")
    host = uri.split("@", 1)[1]
    return {"uri": uri, **{u: f"mysql://{u}:pw@{host}" for u in LIMITED}}


def _files(tmp_path):
    roster, certs, ids = (tmp_path / n for n in ("roster.csv", "certs.csv", "ids.csv"))
    roster.write_text(ROSTER)
    certs.write_text(CERTS)
    ids.write_text(IDS)
    return {"engineers": roster, "certifications": certs, "identities": ids}


def _reference(uri: str, **kw) -> pl.DataFrame:
    """``certkit import devlake`` + ``build_panel`` with the same options."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        imp = read_devlake(uri, identities=kw.get("identities"))
        files = {k: kw[k] for k in ("engineers", "certifications", "identities") if k in kw}
        ds = to_dataset(imp, **files, roster_only=kw.get("roster_only", False))
        return build_panel(ds, "month")


def _pushed(uri: str, **kw) -> tuple[pl.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        panel = devlake_panel(uri, period="month", **kw)
    return panel, [str(w.message) for w in caught]


def test_pushdown_takes_what_the_import_takes(trial, tmp_path):
    """Finding 2 and 6: certifications naming an engineer by an alias the identity file maps,
    ``--roster-only``; the notes name no file the pushdown does not write."""
    files = _files(tmp_path)
    for roster_only in (False, True):
        got, said = _pushed(trial["uri"], roster_only=roster_only, **files)
        want = _reference(trial["uri"], roster_only=roster_only, **files)
        assert_frame_equal(got, want, check_exact=False, rel_tol=1e-12)
        ben = got.filter(pl.col("engineer_id") == "u-ben")
        assert ben["post"].max() == 1  # his certification was read through the alias
        assert ("ben-work" in got["engineer_id"].to_list()) is not roster_only
        text = " ".join(said)
        assert "'Ben Okafor'" in text  # the shared-name note is still given ...
        assert "identities_suggested" not in text and "written beside" not in text  # ... as is
        assert "extra column" not in text
    # the command takes --roster-only with a DevLake URI
    out = tmp_path / "panel.parquet"
    args = ["panel", "--data", trial["uri"], "--roster-only", "--out", str(out)]
    args += [x for k, v in files.items() for x in (f"--{k}", str(v))]
    assert main(args) == 0
    assert set(pl.read_parquet(out)["engineer_id"]) == {"u-ana", "u-ben"}


def test_no_info_about_tables_nobody_gave(trial, tmp_path):
    """Finding 2: a validation error names the user's files only, not the pushdown's own rows."""
    files = _files(tmp_path)
    files["certifications"].write_text(CERTS.replace("ben@corp.example", "nobody@corp.example"))
    with pytest.raises(CertkitError) as e:
        _pushed(trial["uri"], **files)
    assert "nobody@corp.example" in str(e.value)
    assert "pull_requests" not in str(e.value)


def test_unreadable_tables_named_with_grant(trial):
    """Finding 3: a table the user may not read is named with the GRANT to run, by the import
    and the pushdown alike; without SELECT on pull_requests, an error saying so."""
    pg = trial["uri"].startswith("postgresql")
    for user in ("lim_issues", "lim_prc"):
        table = LIMITED[user]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            notes = read_devlake(trial[user]).notes
        said = [n for n in notes if table in n]
        # the commits hold most AI evidence: their loss is a warning (trial R, R7)
        loud = [str(w.message) for w in caught if "much lower bound" in str(w.message)]
        assert (user == "lim_prc") == bool(loud), loud
        assert len(said) == 1, notes
        if pg:
            assert f"user {user} has no SELECT on {table}" in said[0]
            assert f"GRANT SELECT ON {table} TO {user}" in said[0]
        else:  # MySQL hides what a user may not read: it cannot tell missing from hidden
            assert f"not found or not readable by user '{user}'@'127.0.0.1'" in said[0]
            assert f"GRANT SELECT ON `trial`.`{table}` TO '{user}'@'127.0.0.1'" in said[0]
        _, warned = _pushed(trial[user])
        assert said[0] in warned  # the pushdown says what the import says
    with pytest.raises(CertkitError, match="GRANT SELECT ON") as e:
        read_devlake(trial["lim_prs"])
    if pg:
        assert "user lim_prs has no SELECT on pull_requests" in str(e.value)
    with pytest.raises(CertkitError, match="GRANT SELECT ON"):
        devlake_panel(trial["lim_prs"])


def test_empty_scope_names_the_option(trial):
    """Finding 4: ``--repo`` (case-insensitive on every backend), ``--since`` and
    ``--project`` selecting nothing are named, with what exists."""
    uri = trial["uri"]
    lower = read_devlake(uri, repos=["org/app"]).pull_requests
    upper = read_devlake(uri, repos=["ORG/App"]).pull_requests
    assert lower.height == 5 and upper["id"].to_list() == lower["id"].to_list()
    assert_frame_equal(_pushed(uri, repos=["ORG/App"])[0], _pushed(uri, repos=["org/app"])[0])
    cases = [
        ({"repos": ["org/ap"]}, ["--repo org/ap matches no repository", "org/app, org/infra"]),
        ({"since": "2030-01-01"}, ["--since 2030-01-01", "created on 2024-04-08"]),
        ({"project": "docsonly"}, ["--project docsonly maps no repository", "org/app"]),
        ({"project": "app", "repos": ["org/infra"]}, ["not a repository of --project app"]),
    ]
    for kw, words in cases:
        for run in (read_devlake, devlake_panel):
            with pytest.raises(CertkitError) as e:
                run(uri, **kw)
            assert all(w in str(e.value) for w in words), (kw, str(e.value))
            assert "--direct-commits" not in str(e.value)


def test_password_parsed_once_never_shown(trial):
    """Finding 5: an un-encoded ``@``, ``:`` or ``/`` in the password is read whole on both
    backends, and no part of it is ever shown; a host that does not resolve gets the
    percent-encoding hint."""
    raw = trial["uri"].replace(quote(PASSWORD, safe=""), PASSWORD)
    assert PASSWORD in raw and read_devlake(raw).pull_requests.height == 6
    assert PASSWORD not in safe_uri(raw) and "t@/x" not in safe_uri(raw)
    scheme = raw.split("://")[0]
    with pytest.raises(CertkitError, match="cannot connect") as e:
        read_devlake(f"{scheme}://certkit:my@secret-tail@nosuch.invalid:3306/lake")
    msg = str(e.value)
    assert "secret" not in msg and "tail" not in msg, msg
    assert "nosuch.invalid" in msg and "percent-encode" in msg and "%40" in msg


def test_incident_notes(trial, db):
    """Finding 10 and 11: an incident blamed on a bot's PR is said (so "2 linked" and the
    panel's 1 agree); the old schema's note names the table read; one line-count note."""
    imp = read_devlake(trial["uri"])
    note = next(n for n in imp.notes if "incident(s) linked" in n)
    assert note.startswith("DevLake: 2 incident(s) linked")
    assert "1 of them on a bot's PR, e.g. renovate[bot]'s org/app#23" in note
    panel, _ = _pushed(trial["uri"])
    assert panel["incidents"].sum() == 1 == _reference(trial["uri"])["incidents"].sum()
    old = read_devlake(db["v021"]).notes
    assert any("no deployment (project_issue_metrics)" in n for n in old), old
    assert not any("project_incident_deployment_relationships" in n for n in old)
    assert len([n for n in old if "additions" in n]) == 1, old


def test_pushdown_maps_authors_by_the_roster_s_e_mail(trial, tmp_path):
    """fastapi through DevLake: the roster (keyed as git keys people, with their e-mails) lost
    6 certified engineers to placeholders named by DevLake login; the import maps them by
    e-mail now (connectors.roster_match), and the pushdown gives the same panel."""
    roster = tmp_path / "roster_email.csv"
    roster.write_text(
        "engineer_id,team,role,level,hire_date,platform,email\n"
        "hr-ben,ml-platform,backend,mid,2023-02-10,gcp,BEN.WORK@corp.example\n"
    )
    certs = tmp_path / "certs_email.csv"
    certs.write_text("engineer_id,certification,earned_date\nhr-ben,gcp-pmle,2024-04-02\n")
    files = {"engineers": roster, "certifications": certs}
    got, _ = _pushed(trial["uri"], **files)
    want = _reference(trial["uri"], **files)
    assert_frame_equal(got, want, check_exact=False, rel_tol=1e-12)
    ids = set(got["engineer_id"])
    assert "hr-ben" in ids and "ben-work" not in ids
    assert got.filter(pl.col("engineer_id") == "hr-ben")["merged_prs"].sum() >= 1
