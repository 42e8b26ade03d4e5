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
from certkit.connectors.cli import add_import_parser

FIX = Path(__file__).parent / "fixtures" / "connectors"

ROSTER = """engineer_id,team,role,level,hire_date,platform
ana,alpha,ml_engineer,senior,2021-03-01,aws
ben,alpha,backend,mid,2022-06-01,gcp
chen,beta,data_scientist,junior,2023-01-09,azure
devin-smith,beta,backend,mid,2022-01-01,other
dara,beta,ml_engineer,senior,2020-05-01,aws
eli,gamma,data_engineer,mid,2021-09-01,databricks
fay,gamma,ml_engineer,staff,2019-02-01,gcp
"""


def run_import(argv: list[str]) -> int:
    """``certkit import ...`` without building the full CLI (whose report parser is slow to
    import); ``test_cli_errors_are_messages`` goes through ``certkit.cli.main``."""
    import argparse

    parser = argparse.ArgumentParser(prog="certkit")
    add_import_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


CERTS = """engineer_id,certification,earned_date
ana,AWS Certified Machine Learning - Specialty,2024-04-10
dara,Google Cloud Professional Machine Learning Engineer,2024-05-20
"""


def generated_repo(path: Path, seed: int = 7) -> Path:
    """A realistic-size repository written with ``git fast-import`` (fast): 6 engineers, 8
    months, a merge-commit PR every working day or so, about a third with AI trailers."""
    import random
    import subprocess

    rng = random.Random(seed)
    people = [
        ("Ana Silva", "ana@corp.example"),
        ("Ben Okafor", "ben@corp.example"),
        ("Chen Nguyen", "chen@corp.example"),
        ("Dara Kim", "dara@corp.example"),
        ("Eli Stone", "eli@corp.example"),
        ("Fay Lund", "fay@corp.example"),
    ]
    trailers = [
        "Co-Authored-By: Claude <noreply@anthropic.com>",
        "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
        "Made-with: Cursor",
    ]
    t0 = 1704099600  # 2024-01-01T09:00Z
    out: list[str] = []

    def data(text: str) -> str:
        return f"data {len(text.encode())}\n{text}\n"

    out.append("commit refs/heads/main\nmark :1\n")
    out.append(f"author Ana Silva <ana@corp.example> {t0} +0000\n")
    out.append(f"committer Ana Silva <ana@corp.example> {t0} +0000\n" + data("Initial commit"))
    out.append("M 644 inline README\n" + data("app"))
    mark = main = 1
    for n in range(1, 161):
        name, email = people[n % len(people)]
        created = t0 + n * 36 * 3600 + rng.randint(0, 3600)
        merged = created + int(rng.lognormvariate(10, 1))
        lines = rng.randint(1, 60)
        msg = f"Change {n}"
        if rng.random() < 0.35:
            msg += "\n\n" + rng.choice(trailers)
        content = "".join(f"line {i} of {n}\n" for i in range(lines))
        mark += 1
        branch = mark
        out.append(f"commit refs/heads/pr{n}\nmark :{branch}\n")
        out.append(f"author {name} <{email}> {created} +0000\n")
        out.append(f"committer {name} <{email}> {created} +0000\n" + data(msg))
        out.append(f"from :{main}\n")
        out.append(f"M 644 inline f{n}.txt\n" + data(content))
        mark += 1
        out.append(f"commit refs/heads/main\nmark :{mark}\n")
        out.append(f"author {name} <{email}> {merged} +0000\n")
        out.append(f"committer GitHub <noreply@github.com> {merged} +0000\n")
        out.append(data(f"Merge pull request #{n} from org/pr{n}\n\nChange {n}"))
        out.append(f"from :{main}\nmerge :{branch}\n")
        out.append(f"M 644 inline f{n}.txt\n" + data(content))
        main = mark
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=path, input="".join(out).encode(), check=True
    )
    subprocess.run(["git", "remote", "add", "origin", "git@github.com:org/app.git"], cwd=path)
    return path


@pytest.fixture(scope="module")
def imported_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    repo = generated_repo(root / "app")
    ids = root / "ids.csv"
    ids.write_text(
        "engineer_id,email,login\n"
        + "".join(f"{p},{p}@corp.example,{p}-gh\n" for p in ("ana", "ben", "chen"))
        + "".join(f"{p},{p}@corp.example,\n" for p in ("dara", "eli", "fay"))
    )
    (root / "roster.csv").write_text(ROSTER)
    (root / "certs.csv").write_text(CERTS)
    # The gh export is of another repository (org/web) so both sources add PRs.
    items = json.loads((FIX / "gh_prs.json").read_text())
    for it in items:
        it["url"] = it["url"].replace("org/app", "org/web")
        it["body"] = it["body"].replace("org/app", "org/web")
    (root / "web.json").write_text(json.dumps(items))
    out = root / "data"
    code = run_import(
        [
            "import",
            "git",
            str(repo),
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


def test_folder_validates(imported_folder):
    report = certkit.validate(imported_folder)
    assert report.ok, report.format()
    ds = certkit.load(imported_folder, today=None)
    prs = ds.pull_requests
    assert prs.height == 160 + 8  # 160 merges from git (org/app) + 8 PRs from gh (org/web)
    assert set(prs["repo"]) == {"org/app", "org/web"}
    commits = pl.read_parquet(imported_folder / "commits.parquet")
    ai_commits = commits.filter(pl.col("n_parents") == 1)["ai_tool"].is_not_null().sum()
    git_ai = prs.filter(pl.col("repo") == "org/app")["ai_assisted"].sum()
    assert git_ai == ai_commits > 30  # one branch commit per PR: PR flag = commit flag
    assert prs.filter(pl.col("repo") == "org/web")["ai_assisted"].sum() == 5
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
    # a roster path with a typo is named before the history is read (fastapi: after 83 s)
    repo = tmp_path / "repo"
    repo.mkdir()
    argv = ["import", "git", str(repo), "--out", str(tmp_path / "o")]
    assert main([*argv, "--roster-only", "--engineers", str(tmp_path / "rooster.csv")]) == 2
    err = capsys.readouterr().err
    assert f"--engineers file {tmp_path / 'rooster.csv'} does not exist" in err
    assert "not a git repository" not in err  # the repository was not even opened
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


def test_data_health_checks_on_import(imported_folder):
    """What the data-health notebook computes, on the imported folder (fast path)."""
    from certkit.data import health

    ds = certkit.load(imported_folder)
    panel = certkit.build_panel(ds, "month")
    cov = health.coverage(ds, "month")
    assert cov.height > 0
    assert health.missing(ds).height > 0
    assert health.outliers(ds, panel).height > 0
    teams = health.teams(ds, 1)
    assert set(teams["team"]) >= {"alpha", "beta"}
    assert panel["ai_prs"].sum() > 0
    # The AI notebook's comparison runs on it too.
    from certkit import ai

    cmp = ai.compare(ds, outcomes=("cycle_time_log", "size_log"), min_authors=2)
    assert cmp.to_polars().height > 0


@pytest.mark.slow
def test_report_notebooks_run_on_import(imported_folder, tmp_path):
    """The report's data-health (and AI, when present) notebooks execute on the import."""
    from certkit import report

    names = list(report.list_notebooks())
    wanted = [n for n in names if "health" in n or n.endswith("_ai") or "ai_" in n]
    assert wanted, names
    run = report.run_report(imported_folder, tmp_path, notebooks=wanted, progress=False, jobs=1)
    assert run.ok, run.summary()
