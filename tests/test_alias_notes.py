"""Aliases of roster engineers on real histories (trial I: I1, I8, I19).

I1 (modelcontextprotocol/python-sdk): a certification row naming Inna by her personal e-mail
stopped the import ("engineer_id not found") although the import's own name rule mapped that
e-mail to ``inna``; nothing was written, not even the draft identity file the notes promised.
I8 (libadwaita, no PRs): the notes still promised the draft and spoke Python
(``direct_commits='as_prs'``) in a command-line run. I19 (libadwaita): the certified roster
engineer ``alice`` committed 349 PRs as ``alexm@gnome.org``; the alias note's example was a
translator and validation said nothing.

Throwaway repositories are built with real ``git`` (as in ``test_connectors_git.py``).
"""

from __future__ import annotations

import json
import warnings
from datetime import date, datetime

import polars as pl
import pytest
from test_connectors_cli import run_import
from test_connectors_git import GH, Repo

import certkit
from certkit.connectors import read_git, to_dataset
from certkit.errors import CertkitError

INNA = ("Inna Harper", "inna@corp.example")  # the roster's e-mail
INNA_HOME = ("Inna Harper", "inna.hrpr@gmail.com")  # mapped to inna by the roster's name
KEVIN_A = ("Kevin Dale", "kevin@a.example")  # outside the roster, one name, two e-mails
KEVIN_B = ("Kevin Dale", "kd@b.example")
ALICE = ("Alice Mikhaylenko", "alicem@corp.example")
ALEX = ("Alexander Mikhaylenko", "alexm@corp.example")  # alice's old e-mail and name
ALEX_NEW_NAME = ("Alice Mikhaylenko", "alexm@corp.example")
ALICE_HOME = ("Alice Mikhaylenko", "alicem@home.example")
AUTOMERIS = ("Automeris", "a@tr.example")  # a translator under two e-mails
AUTOMERIS_2 = ("Automeris", "b@tr.example")

ROSTER = """engineer_id,name,email,team,role,level,hire_date,platform
inna,Inna Harper,inna@corp.example,core,backend,senior,2023-01-01,aws
alice,Alice Mikhaylenko,alicem@corp.example,widgets,platform,staff,2019-01-01,other
msandova,Max Sandoval,msandova@corp.example,widgets,backend,senior,2020-01-01,other
"""


def _squash(r: Repo, number: int, author, day: int) -> None:
    date_ = f"2024-03-{day:02d}T10:00:00Z"
    r.commit(f"Change {number} (#{number})", author, date_, committer=GH, cdate=date_)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    r = Repo(tmp_path_factory.mktemp("alias") / "app")
    r.commit("Initial commit", INNA, "2024-03-01T09:00:00Z")
    authors = [INNA, INNA_HOME, INNA_HOME, KEVIN_A, KEVIN_B, ALICE, ALICE]
    authors += [ALEX, ALEX, ALEX, ALEX_NEW_NAME, ALICE_HOME, AUTOMERIS, AUTOMERIS_2]
    for n, who in enumerate(authors, start=1):
        _squash(r, n, who, n + 1)
    return r


def _files(tmp_path, certs: str):
    roster, certs_file = tmp_path / "roster.csv", tmp_path / "certs.csv"
    roster.write_text(ROSTER)
    certs_file.write_text(certs)
    return roster, certs_file


def _argv(repo, out, roster, certs) -> list[str]:
    return [
        "import",
        "git",
        str(repo.path),
        "--out",
        str(out),
        "--no-progress",
        "--no-rework",
        "--engineers",
        str(roster),
        "--certifications",
        str(certs),
    ]


def _notes(out) -> str:
    return " | ".join(json.loads((out / "import.json").read_text())["notes"])


def test_a_certification_row_naming_an_author_the_roster_rules_mapped_is_that_engineer(
    repo, tmp_path
):
    """I1: fails on main (the import stops: "engineer_id not found: 'inna.hrpr@gmail.com'")."""
    roster, certs = _files(
        tmp_path, "engineer_id,certification,earned_date\ninna.hrpr@gmail.com,gcp-pmle,2024-03-05\n"
    )
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        assert run_import(_argv(repo, out, roster, certs)) == 0
    written = pl.read_parquet(out / "certifications.parquet")
    assert written["engineer_id"].to_list() == ["inna"]
    prs = pl.read_parquet(out / "pull_requests.parquet")["author_id"].value_counts()
    assert dict(prs.iter_rows())["inna"] == 3  # her personal e-mail's 2 PRs are hers
    assert (
        "1 certification row(s) name their engineer by an author id or e-mail the import "
        "itself mapped to that roster engineer (by the roster's email/engineer_id/name "
        "columns) (e.g. 'inna.hrpr@gmail.com' -> 'inna'); read as that engineer"
    ) in _notes(out)


def test_a_failed_validation_writes_the_draft_alone_and_says_so(repo, tmp_path, capsys):
    """I1: fails on main (nothing is written, the note promises the draft, the message does
    not say that nothing was written)."""
    roster, certs = _files(
        tmp_path, "engineer_id,certification,earned_date\nnobody@else.example,gcp-pmle,2024-03-05\n"
    )
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        assert run_import(_argv(repo, out, roster, certs)) == 1
    err = capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [
        ".certkit-output.json",
        "identities_suggested.csv",
    ]
    draft = pl.read_csv(out / "identities_suggested.csv")
    assert {"kevin@a.example", "kd@b.example", "alexm@corp.example"} <= set(draft["current_id"])
    assert "engineer_id not found in engineers: 'nobody@else.example'" in err
    assert "written beside the imported tables" not in err
    assert f"the import stopped, so this draft alone is written, as {out}" in err
    assert f"certkit: nothing was written to {out} but the draft identity file" in err
    # fixed, the same folder takes the import (the draft is certkit's own file)
    certs.write_text("engineer_id,certification,earned_date\ninna,gcp-pmle,2024-03-05\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        assert run_import(_argv(repo, out, roster, certs)) == 0
    assert (out / "pull_requests.parquet").is_file()


def test_a_history_without_prs_says_nothing_was_written_in_cli_words(tmp_path, capsys):
    """I8: fails on main (the notes promise the draft and say direct_commits='as_prs')."""
    r = Repo(tmp_path / "trunk")
    for day, who in enumerate([KEVIN_A, KEVIN_B, INNA], start=1):
        r.commit(f"tweak {day}", who, f"2024-03-{day:02d}T10:00:00Z")
    out = tmp_path / "out"
    argv = ["import", "git", str(r.path), "--out", str(out), "--no-progress", "--no-rework"]
    with (
        warnings.catch_warnings(),
        pytest.raises(CertkitError, match=f"nothing was written to {out}$") as info,
    ):
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        run_import(argv)
    err = capsys.readouterr().err
    assert not out.exists()
    assert "use `--direct-commits as_prs` to count them" in err
    assert "direct_commits=" not in err + str(info.value)
    assert "written beside the imported tables" not in err
    assert "the import stopped and wrote nothing, not even this draft" in err
    # the Python API speaks Python
    with warnings.catch_warnings(), pytest.raises(CertkitError) as api:
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        to_dataset(read_git(r.path, progress=False))
    assert "(Python: read_git(..., direct_commits='as_prs'))" in str(api.value)


def test_the_alias_note_and_validation_name_a_certified_roster_engineer_first(
    repo, tmp_path, capsys
):
    """I19: fails on main (the note's example is the translator; validation: no warning).
    J10: the import's copy of the warning named the roster file and its "lines" for engineers
    the import added (in no line of it)."""
    roster, certs = _files(
        tmp_path, "engineer_id,certification,earned_date\nalice,aws-mla-c01,2024-03-05\n"
    )
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        assert run_import(_argv(repo, out, roster, certs)) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "share their name" in line]
    assert len(said) == 1
    where = "column 'engineer_id', engineers alicem@home.example, alexm@corp.example:"
    assert f"WARNING engineers, {where}" in said[0]  # main: "roster.csv, ..., lines alicem@..."
    assert "roster.csv" not in said[0] and "added by the import" not in said[0]
    notes = _notes(out)
    assert (
        "name(s) appear under several engineer ids; roster engineers first: alice (certified) "
        "may also appear as alexm@corp.example (4 PRs, same name 'Alice Mikhaylenko'), "
        "alicem@home.example (1 PR, same name 'Alice Mikhaylenko'); others, e.g. 'Automeris': "
        "a@tr.example, b@tr.example"
    ) in notes
    prs = pl.read_parquet(out / "pull_requests.parquet")["author_id"]
    assert (prs == "alexm@corp.example").sum() == 4  # never merged by itself
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        ds = certkit.load(out)
    said = [p.message for p in ds.validation.warnings]
    found = [m for m in said if "share their name with engineers the import added" in m]
    assert len(found) == 1
    (problem,) = [p for p in ds.validation.warnings if p.message == found[0]]
    assert f"engineers.parquet, {where}" in problem.format()  # as the import says it
    assert (
        "alice (certified) may also appear as alexm@corp.example (4 PRs, same name "
        "'Alice Mikhaylenko'), alicem@home.example (1 PR, same name 'Alice Mikhaylenko')"
    ) in found[0]


def _frames(names: dict[str, tuple[str, str]]):
    ids = list(names)
    eng = pl.DataFrame(
        {
            "engineer_id": ids,
            "team": [names[i][1] for i in ids],
            "role": [names[i][1] if names[i][1] == "unknown" else "backend" for i in ids],
            "level": [names[i][1] if names[i][1] == "unknown" else "mid" for i in ids],
            "hire_date": [date(2023, 1, 1)] * len(ids),
            "platform": ["other"] * len(ids),
            "name": [names[i][0] for i in ids],
        }
    )
    prs = pl.DataFrame(
        {
            "id": [f"org/app#{n}" for n in range(len(ids))],
            "author_id": ids,
            "repo": ["org/app"] * len(ids),
            "created_date": [datetime(2024, 3, 1)] * len(ids),
            "merged_date": [datetime(2024, 3, 2)] * len(ids),
            "additions": [1] * len(ids),
            "deletions": [0] * len(ids),
        }
    )
    certs = pl.DataFrame(
        {"engineer_id": ["alice"], "certification": ["gcp-pmle"], "earned_date": [date(2024, 1, 1)]}
    )
    return certkit.from_frames(engineers=eng, pull_requests=prs, certifications=certs)


def test_validation_names_a_similar_name_only_among_engineers_the_import_added():
    """I19: a first initial and last name are enough for an author the import added; two
    roster engineers who share a name are two people (the sample's engineers do)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        ds = _frames(
            {
                "alice": ("Alice Mikhaylenko", "widgets"),
                "alexm@corp.example": ("Alexander Mikhaylenko", "unknown"),
                "other": ("Alice Mikhaylenko", "widgets"),  # a roster engineer: not warned
                "bob@x.example": ("Bob Mikhaylenko", "unknown"),  # another initial
            }
        )
    said = [p for p in ds.validation.warnings if "share their name" in p.message]
    assert len(said) == 1
    assert (
        "alice (certified) may also appear as alexm@corp.example (1 PR, similar name "
        "'Alexander Mikhaylenko')."
    ) in said[0].message
    assert "other" not in said[0].message and "bob@" not in said[0].message


def test_added_authors_named_like_bots_are_said():
    """Aider-AI/aider (trial L, L2): "KhulnaSoft bot <43526132+khulnasoft-bot@users.noreply.
    github.com>" (1 PR) became a never-certified engineer; no agent entry lists it, and a
    "-bot" user account may be a person's script or a real bot: the import says so."""
    import polars as pl

    from certkit.connectors.analyst_files import _bot_like_note

    added = pl.DataFrame(
        {
            "engineer_id": [
                "khulnasoft-bot",
                "abbott@corp.example",
                "talbot",
                "ci_bot@corp.example",
                "absl-team@google.com",
                "steam@corp.example",
            ],
            "name": ["KhulnaSoft bot", "Ann Abbott", "Talbot", None, "Abseil Team", "Sam Steam"],
            "email": [
                "43526132+khulnasoft-bot@users.noreply.github.com",
                "abbott@corp.example",
                "talbot@corp.example",
                "ci_bot@corp.example",
                "absl-team@google.com",
                "steam@corp.example",
            ],
        }
    )
    prs = pl.DataFrame({"author_id": ["khulnasoft-bot", "talbot", "talbot"]})
    note = _bot_like_note(added, prs)
    # a shared team account too (abseil-cpp: "Abseil Team <absl-team@google.com>")
    assert note.startswith("3 added author(s) look like automation or a shared team account")
    assert "'Abseil Team' <absl-team@google.com> (0 PRs)" in note
    assert "steam" not in note.lower()
    assert "'KhulnaSoft bot' <43526132+khulnasoft-bot@users.noreply.github.com> (1 PRs)" in note
    assert "ci_bot@corp.example" in note
    assert "abbott" not in note.lower() and "talbot" not in note.lower()
    assert _bot_like_note(added[1:3], prs) is None


def test_a_login_used_as_a_display_name_is_its_owners_name(tmp_path):
    """Aider-AI/aider (trial L, L15): "paul-gauthier <69695708+paul-gauthier@users.noreply.
    github.com>" was a second, never-certified engineer beside the certified "Paul Gauthier"
    (2,745 PRs): no "several ids" note, no draft row. One name key for the roster match and
    the draft (``identity.name_key``): "-", "_" and "." read as spaces."""
    import polars as pl

    from certkit.connectors.identity import name_key, shared_names

    assert name_key("paul-gauthier") == name_key("Paul Gauthier") == "paul gauthier"
    assert name_key("Clément  Robert") == "clement robert"
    assert name_key("root") is None and name_key("x") is None
    people = pl.DataFrame(
        {
            "engineer_id": ["pgauthier", "paul-gauthier"],
            "name": ["Paul Gauthier", "paul-gauthier"],
            "email": ["paul@aider.example", "69695708+paul-gauthier@users.noreply.github.com"],
            "login": [None, "paul-gauthier"],
            "is_bot": [False, False],
        }
    )
    draft = shared_names(people, known={"pgauthier"})
    assert set(draft["current_id"]) == {"pgauthier", "paul-gauthier"}
    assert set(draft["engineer_id"]) == {"pgauthier"}  # main: empty


def test_an_account_named_after_its_owner_with_bot_is_flagged():
    """astral-sh/ruff (trial AC): "zaniebot <zaniebot@accounts.zanie.blue>" (16 PRs,
    co-authored by the roster's zanieb) counted as a never-certified engineer, unflagged;
    "ercbot" (Eric Botti) and "Talbot" are people."""
    import polars as pl

    from certkit.connectors.analyst_files import _bot_like_note

    added = pl.DataFrame(
        {
            "engineer_id": ["zaniebot@accounts.zanie.blue", "ercbot", "talbot"],
            "name": ["zaniebot", "Eric Botti", "Talbot"],
            "email": ["zaniebot@accounts.zanie.blue", "ercbot@corp.example", "t@corp.example"],
        }
    )
    everyone = pl.concat(
        [added, pl.DataFrame({"engineer_id": ["zanieb", "erc"], "name": ["Zanie Blue", "Eric"],
                              "email": ["contact@zanie.dev", "e@corp.example"]})]
    )  # fmt: skip
    prs = pl.DataFrame({"author_id": ["zaniebot@accounts.zanie.blue"] * 16})
    note = _bot_like_note(added, prs, everyone=everyone)
    assert note is not None and note.startswith("1 added author(s) look like automation")
    assert "'zaniebot' <zaniebot@accounts.zanie.blue> (16 PRs)" in note
    assert _bot_like_note(added, prs) is None  # without the people, nothing says so
