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
from certkit.connectors import read_devlake, to_dataset
from certkit.connectors.devlake_panel import NOT_COMPUTED, devlake_panel
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        ds = to_dataset(read_devlake(uri, **kw), **files)
        return build_panel(ds, period)


def pushed(uri: str, period: str, **kw) -> pl.DataFrame:
    with pytest.warns(CertkitWarning, match="ai_prs and ai_share are not computed"):
        return devlake_panel(uri, period=period, **kw)


def assert_same(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert got.columns == want.columns
    assert got.schema == want.schema
    assert got.height == want.height and got.height > 0
    for c in NOT_COMPUTED:
        assert got[c].null_count() == got.height  # unknown, never 0
    from polars.testing import assert_frame_equal

    assert_frame_equal(
        got.drop(*NOT_COMPUTED), want.drop(*NOT_COMPUTED), check_exact=False, rel_tol=1e-12
    )


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
    args = ["panel", "--data", uri, "--engineers", str(roster)]
    args += ["--certifications", str(certs), "--period", "week", "--out", str(out)]
    res = subprocess.run([str(CERTKIT), *args], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "computed in DevLake's database" in res.stdout
    assert "ai_prs and ai_share are not computed" in res.stderr
    assert PASSWORD not in res.stdout + res.stderr
    want = reference(uri, "week", engineers=roster, certifications=certs)
    assert_same(pl.read_parquet(out), want)
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
    totals = want.select(pl.col("merged_prs", "defects", "incidents").sum()).row(0)
    assert all(n > 20 for n in totals), totals
    assert want["pickup_time_hours_median"].drop_nulls().len() > 50
