"""``certkit import`` end to end: a generated git repository plus a ``gh`` export, written as
a data folder that ``certkit validate`` accepts, then the report notebooks run on it."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import certkit
from certkit.cli import main
from certkit.connectors import LOWER_BOUND_NOTE

FIX = Path(__file__).parent / "fixtures" / "connectors"

ROSTER = """engineer_id,team,role,level,hire_date,platform
ana,alpha,ml_engineer,senior,2021-03-01,aws
ben,alpha,backend,mid,2022-06-01,gcp
chen,beta,data_scientist,junior,2023-01-09,azure
devin-smith,beta,backend,mid,2022-01-01,other
"""
CERTS = """engineer_id,certification,earned_date
ana,AWS Certified Machine Learning - Specialty,2024-02-10
"""


@pytest.fixture(scope="module")
def imported_folder(tmp_path_factory):
    from test_connectors_git import IDENTITIES, build_scenario

    root = tmp_path_factory.mktemp("cli")
    repo, _ = build_scenario(root)
    ids = root / "ids.csv"
    # The git scenario's identities plus the GitHub logins of the same people.
    ids.write_text(IDENTITIES + "ana,,ana-gh\nben,,ben-gh\nchen,,chen-gh\n")
    (root / "roster.csv").write_text(ROSTER)
    (root / "certs.csv").write_text(CERTS)
    # The gh export is of another repository (org/web) so both sources add PRs.
    items = json.loads((FIX / "gh_prs.json").read_text())
    for it in items:
        it["url"] = it["url"].replace("org/app", "org/web")
        it["body"] = it["body"].replace("org/app", "org/web")
    (root / "web.json").write_text(json.dumps(items))
    out = root / "data"
    code = main(
        [
            "import",
            "git",
            str(repo.path),
            "--github",
            str(root / "web.json"),
            "--pagerduty",
            str(FIX / "pagerduty_incidents.json"),
            "--identities",
            str(ids),
            "--engineers",
            str(root / "roster.csv"),
            "--certifications",
            str(root / "certs.csv"),
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    return out


def test_folder_validates(imported_folder, capsys):
    assert main(["validate", str(imported_folder)]) == 0
    ds = certkit.load(imported_folder, today=None)
    prs = ds.pull_requests
    assert prs.height == 16  # 8 from git (org/app) + 8 from gh (org/web)
    assert set(prs["repo"]) == {"org/app", "org/web"}
    assert int((prs["ai_assisted"] > 0).sum()) == 4 + 5
    manifest = json.loads((imported_folder / "import.json").read_text())
    assert manifest["ai_detection"]["lower_bound"] is True
    assert manifest["ai_detection"]["note"] == LOWER_BOUND_NOTE
    ev = pl.read_csv(imported_folder / "ai_evidence.csv")
    assert {"pr_id", "tool", "rule", "evidence"} <= set(ev.columns)
    assert ds.incidents.height == 2


def test_cli_errors_are_messages(tmp_path, capsys):
    code = main(["import", "git", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "prs.json"
    bad.write_text(json.dumps([{"number": 1, "author": {"login": "a"}, "createdAt": "x"}]))
    code = main(["import", "github", str(bad), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert "missing field(s) mergedAt, additions, deletions" in err
    assert "gh pr list --state merged" in err


def test_without_certifications_says_what_to_add(tmp_path, capsys):
    code = main(
        [
            "import",
            "github",
            str(FIX / "gh_prs.json"),
            "--out",
            str(tmp_path / "o"),
            "--format",
            "csv",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "add " in out and "certifications.csv" in out
    assert not (tmp_path / "o" / "certifications.csv").exists()
    assert (tmp_path / "o" / "pull_requests.csv").exists()


def test_data_health_notebook_runs_on_import(imported_folder, tmp_path):
    """The report's data-health notebook executes on the imported folder."""
    from certkit import report

    names = list(report.list_notebooks())
    wanted = [n for n in names if "health" in n or n.endswith("_ai") or "ai_" in n]
    assert wanted, names
    run = report.run_report(imported_folder, tmp_path, notebooks=wanted, progress=False, jobs=1)
    assert run.ok, run.summary()
