"""What the import and validation say about roster engineers with no PR (trial G, F17/F18).

F17: on sqlalchemy 27 roster engineers had no PR because their work was direct pushes
(1,978 commits in no PR), yet the advice was to map them in the identity file.
F18: the identity draft merged a duplicate roster row (e039, the same person's e-mail as
e009) into e009; after using it, e039 had no PR and the advice pointed back to that file.
"""

from __future__ import annotations

import json
import warnings

import pytest
from test_connectors_cli import run_import
from test_connectors_git import GH, Repo

import certkit

DOUWE = ("Douwe Maan", "douwe@corp.example")
MARCELO = ("Marcelo T", "marcelo@corp.example")
ZED = ("Zed Zimmer", "zed@else.example")

ROSTER = """engineer_id,name,email,team,role,level,hire_date,platform
DouweM,Douwe Maan,douwe@corp.example,core,backend,staff,2023-01-01,aws
Oxygen56,Willow Lopez,willow@corp.example,evals,backend,mid,2023-01-01,gcp
Kludex,Marcelo T,marcelo@corp.example,core,backend,senior,2023-01-01,aws
"""
CERTS = """engineer_id,certification,earned_date
DouweM,aws-mla-c01,2024-03-05
Kludex,aws-mla-c01,2024-03-05
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    r = Repo(tmp_path_factory.mktemp("notes") / "app")
    r.commit("Initial commit", ZED, "2024-03-01T09:00:00Z")
    for n, who in enumerate([DOUWE, DOUWE, ZED], start=1):
        date = f"2024-03-{n + 1:02d}T10:00:00Z"
        r.commit(f"Change {n} (#{n})", who, date, committer=GH, cdate=date)
    for day in (10, 11, 12):  # Kludex pushes straight to main: commits in no PR
        r.commit(f"tweak {day}", MARCELO, f"2024-03-{day}T10:00:00Z")
    return r


def _import(repo, tmp_path, *extra: str):
    roster, certs = tmp_path / "roster.csv", tmp_path / "certs.csv"
    roster.write_text(ROSTER)
    certs.write_text(CERTS)
    out = tmp_path / "out"
    argv = ["import", "git", str(repo.path), "--out", str(out), "--no-progress", "--no-rework"]
    argv += ["--engineers", str(roster), "--certifications", str(certs), *extra]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        assert run_import(argv) == 0
    return out, " | ".join(json.loads((out / "import.json").read_text())["notes"])


def test_engineers_whose_work_is_outside_prs_are_pointed_to_direct_commits(repo, tmp_path):
    out, notes = _import(repo, tmp_path)
    assert (
        "2 roster engineer(s) have no PR; 1 of them certified: Kludex; not certified: "
        "Oxygen56; 1 of them has 3 commit(s) in no PR (Kludex 3): direct pushes or commits "
        "outside any PR, which count for no one; `certkit import git --direct-commits as_prs` "
        "counts each such commit as a PR; the other 1 has no commit outside a PR (check "
        "their e-mail/login against the authors not in the roster; map them in the identity "
        "file)"
    ) in notes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        report = certkit.validate(out)
    found = [p.message for p in report.warnings if "no pull request at all" in p.message]
    assert len(found) == 1 and "--direct-commits as_prs" in found[0]


def test_with_direct_commits_as_prs_the_note_is_about_the_rest(repo, tmp_path):
    _, notes = _import(repo, tmp_path, "--direct-commits", "as_prs")
    assert "1 roster engineer(s) have no PR: Oxygen56 (check their e-mail" in notes
    assert "in no PR" not in notes


TOM_OLD = ("Tom Nicholas", "tom@old.example")
TOM_NEW = ("Tom Nicholas", "tom@cworthy.org")
TWICE = """engineer_id,name,email,team,role,level,hire_date,platform
e009,Tom Nicholas,tom@old.example,core,backend,staff,2023-01-01,aws
e039,TomNicholas,tom@cworthy.org,core,backend,staff,2023-01-01,aws
e050,Ann Bell,ann@corp.example,core,backend,mid,2023-01-01,aws
"""


@pytest.fixture(scope="module")
def tom(tmp_path_factory):
    r = Repo(tmp_path_factory.mktemp("twice") / "app")
    r.commit("Initial commit", ZED, "2024-03-01T09:00:00Z")
    for n, who in enumerate([TOM_OLD, TOM_NEW, TOM_NEW, ("Ann Bell", "ann@corp.example")], 1):
        date = f"2024-03-{n + 1:02d}T10:00:00Z"
        r.commit(f"Change {n} (#{n})", who, date, committer=GH, cdate=date)
    return r


def _import_twice(repo, tmp_path, *extra: str):
    roster = tmp_path / "roster.csv"
    roster.write_text(TWICE)
    out = tmp_path / "out"
    argv = ["import", "git", str(repo.path), "--out", str(out), "--no-progress", "--no-rework"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        assert run_import([*argv, "--engineers", str(roster), *extra]) == 0
    return out, " | ".join(json.loads((out / "import.json").read_text())["notes"])


def test_the_draft_does_not_merge_two_roster_rows(tom, tmp_path):
    out, notes = _import_twice(tom, tmp_path)
    draft = out / "identities_suggested.csv"
    assert not draft.exists() or "e039" not in draft.read_text()
    assert (
        "roster engineers e009 and e039 commit under one name ('Tom Nicholas'): if they are "
        "one person, drop the duplicate roster row"
    ) in notes


def test_an_identity_file_mapping_a_roster_email_to_another_roster_row_is_named(tom, tmp_path):
    ids = tmp_path / "ids.csv"
    ids.write_text(
        "engineer_id,email,login,name\ne050,ann@corp.example,,\ne009,tom@cworthy.org,,\n"
    )
    out, notes = _import_twice(tom, tmp_path, "--identities", str(ids))
    assert (
        "e039's roster e-mail (tom@cworthy.org) is mapped to e009 by ids.csv line 3: if they "
        "are one person, drop the duplicate roster row e039"
    ) in notes
    idle = next(n for n in notes.split(" | ") if "have no PR" in n)
    assert idle.startswith("1 roster engineer(s) have no PR: e039; the identity file maps")
    assert "map them in the identity file" not in idle  # not sent back to the file at fault


def test_roster_rows_of_different_people_sharing_a_commit_name_are_not_told_to_merge(tmp_path):
    """astral-sh/ruff (trial AC): squash commits carried "Charlie Marsh" with Alex Waygood's
    and Dhruv Manilawala's e-mails; the note advised dropping "the duplicate roster row" of
    three different people the roster names."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ZED, "2024-03-01T09:00:00Z")
    people = [
        ("Charlie Marsh", "charlie@corp.example"),
        ("Charlie Marsh", "alex@corp.example"),  # a merge tool's name with Alex's e-mail
        ("Alex Waygood", "alex@corp.example"),
        ("Alex Waygood", "alex@corp.example"),
    ]
    for n, who in enumerate(people, 1):
        date = f"2024-03-{n + 1:02d}T10:00:00Z"
        r.commit(f"Change {n} (#{n})", who, date, committer=GH, cdate=date)
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "engineer_id,name,email,team,role,level,hire_date,platform\n"
        "charlie,Charlie Marsh,charlie@corp.example,core,backend,staff,2023-01-01,aws\n"
        "alex,Alex Waygood,alex@corp.example,core,backend,staff,2023-01-01,aws\n"
    )
    out = tmp_path / "out"
    argv = ["import", "git", str(r.path), "--out", str(out), "--no-progress", "--no-rework"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        assert run_import([*argv, "--engineers", str(roster)]) == 0
    notes = " | ".join(json.loads((out / "import.json").read_text())["notes"])
    assert (
        "commit under one name ('Charlie Marsh'), though the roster names them differently" in notes
    )
    assert "drop the duplicate roster row" not in notes
