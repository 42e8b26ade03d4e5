"""Shared fixtures: small hand-written data folders for loader, validation and panel tests."""

from __future__ import annotations

import os
from pathlib import Path

# One BLAS thread per test worker: `make test` runs two workers on two cores, and OpenBLAS's
# spinning threads (one per core in each worker) made small matrix work such as the event
# studies' Wald tests about 10x slower under that load. Set before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest

# DevLake database servers (session scope: started once, shared by the DevLake test modules)
from devlake_servers import db, mysql, postgresql  # noqa: F401

#: Files whose tests take longest, handed out first: `make test` runs with --dist loadfile,
#: which gives each file to one worker in collection order, and the Spark file (a JVM, tens
#: of seconds of query planning per panel) ran alone at the end of the run, last in
#: alphabetical order.
SLOW_FIRST = (
    "test_did_sim_pretrend.py",
    "test_panel_spark.py",
    "test_did_sim.py",
    "test_adoption.py",
    "test_report_landing.py",
    "test_panel_sqlframe.py",
    "test_report_small_org.py",
)


def pytest_collection_modifyitems(config, items):
    """Run the files of :data:`SLOW_FIRST` first (a stable sort: each file keeps its order)."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))


ENGINEERS = """engineer_id,team,role,level,hire_date,platform,name
E1,alpha,ml_engineer,senior,2023-01-15,aws,Ana Silva
E2,alpha,backend,mid,2024-02-10,gcp,Ben Okafor
E3,beta,data_scientist,junior,2023-06-01,azure,Chen Nguyen
"""
CERTIFICATIONS = """engineer_id,certification,earned_date,cost_usd,study_hours
E1,AWS Certified Machine Learning - Specialty,2024-02-20,300,80
"""
PULL_REQUESTS = """id,author_id,repo,created_date,merged_date,first_review_date,additions,deletions,ai_assisted,reverted
P1,E1,org/app,2024-01-03T10:00:00Z,2024-01-05T10:00:00Z,2024-01-03T12:00:00Z,10,5,false,false
P2,E1,org/app,2024-01-10T10:00:00Z,2024-01-11T10:00:00Z,,100,0,true,true
P3,E1,org/app,2024-03-01T09:00:00Z,2024-03-02T09:00:00Z,,20,20,1,false
P4,E2,org/api,2024-02-15T09:00:00Z,2024-03-15T09:00:00Z,,5,5,0,false
P5,E3,org/api,2024-01-20T09:00:00Z,,,7,1,0,
P6,E3,org/api,2024-03-20T09:00:00Z,2024-03-21T09:00:00Z,,1,1,0.5,false
"""
DEFECTS = """id,created_date,pr_id,engineer_id,severity
D1,2024-02-01,P1,,high
D2,2024-03-10,,E3,low
"""
INCIDENTS = """id,created_date,resolution_date,severity,pr_id,engineer_id
I1,2024-03-05T01:00:00Z,2024-03-05T03:00:00Z,SEV2,P3,
I2,2024-03-06T01:00:00Z,2024-03-06T02:00:00Z,SEV3,,
"""

TABLES = {
    "engineers": ENGINEERS,
    "certifications": CERTIFICATIONS,
    "pull_requests": PULL_REQUESTS,
    "defects": DEFECTS,
    "incidents": INCIDENTS,
}


def write_folder(folder: Path, **overrides: str | bytes | None) -> Path:
    """Write the small valid dataset, with some tables replaced (or removed when None)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**TABLES, **overrides}.items():
        if text is None:
            continue
        path = folder / f"{name}.csv"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def small_folder(tmp_path: Path) -> Path:
    return write_folder(tmp_path / "data")
