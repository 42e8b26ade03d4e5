"""Per-repository facts: the data-health table and histories that end apart (trial N: three
encode repositories whose snapshots ended 108 and 98 days apart; nothing said so)."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date, datetime
from pathlib import Path

import polars as pl

from certkit.connectors import read_git, write_import
from certkit.connectors.base import combine
from certkit.data.repositories import repositories, uneven_ends, uneven_starts


def _prs(rows):
    return pl.DataFrame(
        rows,
        schema={
            "id": pl.String,
            "repo": pl.String,
            "author_id": pl.String,
            "created_date": pl.Datetime("us"),
            "merged_date": pl.Datetime("us"),
        },
        orient="row",
    )


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text)


PRS = _prs(
    [
        ("a#1", "org/a", "ana", _day("2024-01-02"), _day("2024-01-03")),
        ("a#2", "org/a", "ben", _day("2024-05-02"), _day("2024-05-04")),
        ("a#3", "org/a", "bot[bot]", _day("2024-06-01"), None),
        ("b#1", "org/b", "ana", _day("2024-01-05"), _day("2024-01-06")),
        ("b#2", "org/b", "cy", _day("2024-02-10"), _day("2024-02-11")),
        ("c#1", "org/c", "dee", _day("2024-03-01"), _day("2024-03-02")),
    ]
)


def test_the_table_counts_each_repository():
    table = repositories(PRS, pl.Series(["ana", "ben", "cy", "dee"]))
    a = table.row(0, named=True)
    assert table["repo"].to_list() == ["org/a", "org/b", "org/c"]
    assert (a["prs"], a["merged_prs"], a["authors"]) == (3, 2, 2)  # the bot is no author
    assert (a["first_pr"], a["last_pr"]) == (date(2024, 1, 2), date(2024, 6, 1))


def test_a_shared_table_merges_repositories_of_fewer_than_k_authors():
    table = repositories(PRS, pl.Series(["ana", "ben", "cy", "dee"]), k=2)
    assert table.filter(pl.col("repo") == "org/c").is_empty()  # one author
    assert set(table["repo"]) == {"org/a", "org/b"}  # "other" (1 author) dropped too
    assert table["authors"].min() >= 2


def test_histories_that_end_apart_are_named_with_the_gap():
    text = uneven_ends(PRS)
    assert text.startswith("the repositories' histories end on different dates: org/a has PRs")
    assert "org/b ends 2024-02-11 (111 days earlier)" in text
    assert "org/c ends 2024-03-02 (91 days earlier)" in text
    assert "certkit report -p end=2024-02-11" in text
    assert uneven_ends(PRS.filter(pl.col("repo") == "org/a")) == ""
    close = _prs(  # 19 days apart: together
        [
            ("a#1", "org/a", "ana", _day("2024-01-02"), _day("2024-03-20")),
            ("b#1", "org/b", "ana", _day("2024-01-05"), _day("2024-03-01")),
        ]
    )
    assert uneven_ends(close) == ""


def test_an_analysis_ended_as_advised_is_not_told_again():
    """trial O: after `-p end=` as the sentence advised, data health still advised it."""
    assert uneven_ends(PRS, until=date(2024, 2, 11)) == ""  # where the first one ends
    assert uneven_ends(PRS, until=date(2024, 3, 5)) == ""  # within the gap of both
    text = uneven_ends(PRS, until=date(2024, 4, 30))
    assert text.startswith("the repositories' histories end on different dates: the analysis")
    assert "org/b ends 2024-02-11 (79 days earlier)" in text and "org/c" in text


def _git(path: Path, *args: str, when: str | None = None) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    if when:
        env |= {
            "GIT_AUTHOR_NAME": "Ana Silva",
            "GIT_AUTHOR_EMAIL": "ana@corp.example",
            "GIT_COMMITTER_NAME": "Ana Silva",
            "GIT_COMMITTER_EMAIL": "ana@corp.example",
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_DATE": when,
        }
    subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True)


def test_the_import_notes_a_clone_that_ends_months_before_the_others(tmp_path):
    for name, last in (("app", "2025-06-20T10:00:00Z"), ("lib", "2025-02-03T10:00:00Z")):
        repo = tmp_path / name
        repo.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "remote", "add", "origin", f"https://github.com/org/{name}.git")
        for i, when in enumerate(("2025-01-06T10:00:00Z", last), start=1):
            (repo / f"f{i}.txt").write_text(f"{i}\n")
            _git(repo, "add", f"f{i}.txt")
            _git(repo, "commit", "-q", "-m", f"Change {i} to {name} (#{i})", when=when)
    imp = combine(read_git([tmp_path / "app", tmp_path / "lib"]))
    (note,) = [n for n in imp.notes if "end on different dates" in n]
    assert "org/app has PRs until 2025-06-20, but org/lib ends 2025-02-03 (137 days" in note
    # import.json says what each repository held (trial N: folder names only)
    _, folder = write_import(imp, tmp_path / "out")
    facts = json.loads((folder / "import.json").read_text())["repositories"]
    assert {f["repo"]: (f["prs"], f["first_pr"], f["last_pr"]) for f in facts} == {
        "org/app": (2, "2025-01-06", "2025-06-20"),
        "org/lib": (2, "2025-01-06", "2025-02-03"),
    }
    # and which commit of each clone was read (trial N: a snapshot cannot be told otherwise)
    heads = {
        name: subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=tmp_path / name, capture_output=True, text=True
        ).stdout.strip()
        for name in ("app", "lib")
    }
    assert {f["repo"]: f["commit"] for f in facts} == {f"org/{n}": h for n, h in heads.items()}


def test_a_repository_that_starts_months_later_leaves_its_engineers_idle_before_it(tmp_path):
    """trial Y: modelcontextprotocol/python-sdk from 2024-09, openai/openai-agents-python
    from 2025-03; 14 roster engineers of the second had 63 months of 0 PRs before it existed,
    in their "before" levels, and nothing said so (only histories ending apart were named).
    Real `git`: org/app from January, org/new from May; Ben (hired 2024) works only in
    org/new."""
    from certkit import build_panel
    from certkit.connectors.base import to_dataset
    from certkit.report.study_health import starting_apart

    people = {"app": ("Ana Silva", "ana@corp.example"), "new": ("Ben Okafor", "ben@corp.example")}
    for name, first in (("app", 1), ("new", 5)):
        repo = tmp_path / name
        repo.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "remote", "add", "origin", f"https://github.com/org/{name}.git")
        who, mail = people[name]
        for i, month in enumerate(range(first, 9), start=1):
            when = f"2025-{month:02d}-10T10:00:00Z"
            (repo / f"f{i}.txt").write_text(f"{i}\n")
            _git(repo, "add", f"f{i}.txt")
            subprocess.run(
                ["git", "commit", "-q", "-m", f"Change {i} (#{i})"],
                cwd=repo,
                check=True,
                capture_output=True,
                env={
                    **os.environ,
                    "GIT_CONFIG_GLOBAL": "/dev/null",
                    "GIT_CONFIG_NOSYSTEM": "1",
                    "GIT_AUTHOR_NAME": who,
                    "GIT_AUTHOR_EMAIL": mail,
                    "GIT_COMMITTER_NAME": who,
                    "GIT_COMMITTER_EMAIL": mail,
                    "GIT_AUTHOR_DATE": when,
                    "GIT_COMMITTER_DATE": when,
                },
            )
    imp = combine(read_git([tmp_path / "app", tmp_path / "new"]))
    (note,) = [n for n in imp.notes if "start on different dates" in n]
    assert "org/app has PRs from 2025-01-10, but org/new starts 2025-05-10 (120 days later)" in note
    assert "-p start=2025-06-01" in note  # the first whole month after org/new starts

    roster = pl.DataFrame(
        {
            "engineer_id": ["ana@corp.example", "ben@corp.example"],
            "team": ["a", "b"],
            "role": ["engineer", "engineer"],
            "level": ["L3", "L3"],
            "platform": ["backend", "backend"],
            "hire_date": [date(2024, 3, 1), date(2024, 6, 1)],
        }
    )
    certs = pl.DataFrame(
        {"engineer_id": ["ben@corp.example"], "certification": ["aws-mla-c01"]},
    ).with_columns(earned_date=pl.lit(date(2025, 7, 1)))
    ds = to_dataset(imp, engineers=roster, certifications=certs)

    class Ctx:  # what starting_apart reads of a report context
        full = ds
        panel = build_panel(ds)
        filters: dict = {}

    words = starting_apart(Ctx())
    assert "were in the roster before they start: 1; 4 of their months" in words  # Jan-Apr
    Ctx.filters = {"from": "2025-06-01"}  # the analysis started as advised: not said again
    assert starting_apart(Ctx()) == ""
    # hired when the repository starts: no idle months, nothing to say
    late_hire = roster.with_columns(hire_date=pl.lit(date(2025, 5, 1)))
    assert uneven_starts(ds.pull_requests, late_hire) == ""
