"""DevLake connector against a real PostgreSQL server started here (no mocked database).

The server is Debian's ``postgresql`` package (``scripts/system-deps.sh`` installs it). A
throwaway cluster is created in a temporary folder, listens on a Unix socket only, and is
stopped and deleted at the end. As root, the cluster runs as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

import polars as pl
import psycopg
import pytest

from certkit.connectors import read_devlake, to_dataset
from certkit.errors import CertkitError

SQL = Path(__file__).parent / "fixtures" / "connectors" / "devlake.sql"
PORT = 54329


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(
            "PostgreSQL server binaries not found: run `bash scripts/system-deps.sh` "
            "(installs Debian's postgresql package)"
        )
    return found[-1]


@pytest.fixture(scope="module")
def pg():
    root = Path(tempfile.mkdtemp(prefix="certkit-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    run = lambda *a: subprocess.run([*as_user, *a], check=True, capture_output=True)  # noqa: E731
    run(_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    run(
        _bin("pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(root / "log"),
        "-w",
        "-o",
        f"-k {root} -p {PORT} -c listen_addresses='' -c fsync=off",
        "start",
    )
    try:
        admin = f"postgresql://postgres@/postgres?host={root}&port={PORT}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE lake")
            conn.execute("CREATE ROLE reader LOGIN")
        lake = f"postgresql://postgres@/lake?host={root}&port={PORT}"
        with psycopg.connect(lake, autocommit=True) as conn:
            conn.execute(SQL.read_text())
            conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
        yield f"postgresql://reader@/lake?host={root}&port={PORT}"
    finally:
        subprocess.run(
            [*as_user, _bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def lake(pg):
    return read_devlake(pg, since="2024-01-01")


def _t(s):
    return datetime.fromisoformat(s)


def test_pull_requests(lake):
    prs = lake.pull_requests.sort("id")
    assert prs["id"].to_list() == ["org/app#21", "org/app#22", "org/app#23", "org/infra#5"]
    assert prs["author_id"].to_list() == ["u-ana", "u-ben", "renovate[bot]", "devin-smith"]
    assert prs["created_date"].to_list()[1] == _t("2024-04-03T08:00:00")  # +02 -> UTC
    assert prs["merged_date"].to_list()[3] is None
    # First review: not the author (k1), not a bot (k2): Ben's comment k3.
    assert prs["first_review_date"].to_list() == [_t("2024-04-01T13:00:00"), None, None, None]
    assert prs["ai_tool"].to_list() == ["claude", "copilot", None, None]
    assert prs["additions"].to_list() == [100, 5, 2, 30]
    assert prs["is_bot_author"].to_list() == [False, False, True, False]
    ev = lake.ai_evidence.sort("pr_id", "rule")
    assert ev["rule"].to_list() == ["claude-coauthor", "copilot-branch", "copilot-noreply"]


def test_people_teams(lake):
    p = lake.people.sort("engineer_id")
    assert p["engineer_id"].to_list() == ["devin-smith", "renovate[bot]", "u-ana", "u-ben"]
    assert p["team"].to_list() == [None, None, "ml-platform", "ml-platform"]


def test_defects_incidents_links(lake):
    assert lake.defects.to_dicts() == [
        {
            "id": "APP-1",
            "created_date": _t("2024-04-06T10:00:00"),
            "resolution_date": _t("2024-04-07T10:00:00"),
            "severity": "High",
            "pr_id": "org/app#21",
            "engineer_id": None,
        }
    ]
    inc = lake.incidents.sort("id")
    assert inc["id"].to_list() == ["APP-2", "PD-77"]
    assert inc["severity"].to_list() == ["SEV1", "high"]
    # PD-77 -> deployment dep-5 -> commit m022 -> PR 22.
    assert inc["pr_id"].to_list() == [None, "org/app#22"]


def test_filters_and_identity_file(pg, tmp_path):
    all_prs = read_devlake(pg).pull_requests
    assert "org/app#9" in all_prs["id"].to_list()
    only = read_devlake(pg, repos=["org/infra"]).pull_requests
    assert only["id"].to_list() == ["org/infra#5"]
    ids = tmp_path / "ids.csv"
    ids.write_text("engineer_id,email,login\nana,ana@corp.example,\ndevin,,devin-smith\n")
    prs = read_devlake(pg, since="2024-01-01", identities=ids).pull_requests.sort("id")
    assert prs["author_id"].to_list() == ["ana", "u-ben", "renovate[bot]", "devin"]


def test_to_dataset(lake):
    with pytest.warns(UserWarning):
        ds = to_dataset(lake)
    assert ds.pull_requests.height == 4
    assert ds.engineers.filter(pl.col("engineer_id") == "u-ana")["team"].item() == "ml-platform"


def test_read_only_and_errors(pg):
    from certkit.connectors.devlake import _connect

    conn, dialect = _connect(pg.replace("reader@", "postgres@"))  # even a superuser
    try:
        assert dialect == "postgresql"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM pull_requests")
    finally:
        conn.close()
    with pytest.raises(CertkitError, match="cannot connect"):
        read_devlake(pg.replace("/lake?", "/nolake?"))
    with pytest.raises(CertkitError, match="must start with postgresql:// or mysql://"):
        read_devlake("sqlite:///lake.db")
    with pytest.raises(CertkitError, match="no pull_requests table"):
        read_devlake(pg.replace("/lake?", "/postgres?"))
