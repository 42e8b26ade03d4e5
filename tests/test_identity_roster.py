"""Roster columns map authors; GitHub login case survives git (trials on real histories).

pydantic/pydantic-ai (git): a roster keyed by GitHub login with the person's e-mail in its
``email`` column left 12 of 20 roster engineers (8 of 11 certified) with no PR while their
PRs went to placeholders named by e-mail; git lower-cased ``65306057+Viicos@users.noreply...``
to ``viicos`` so neither the roster, a ``gh`` export nor an identity-file login row (``Viicos``)
matched. fastapi through DevLake: a roster keyed by e-mail lost the authors DevLake names by
login (``tiangolo``, ``YuriiMotov`` vs roster ``yuriimotov``). Nothing warned.

Throwaway repositories are built with real ``git`` (as in ``test_connectors_git.py``).
"""

from __future__ import annotations

import json
import warnings
from datetime import datetime

import polars as pl
import pytest
from test_connectors_cli import run_import
from test_connectors_git import ANA, BEN, CHEN, GH, Repo

import certkit
from certkit.connectors import Import, read_git, read_github, to_dataset
from certkit.connectors.base import PEOPLE_SCHEMA, PR_SCHEMA, frame
from certkit.connectors.identity import read_identities

DOUWE = ("Douwe Maan", "douwe@corp.example")  # the roster's e-mail for DouweM
DOUWE_HOME = ("Douwe Maan", "me@douwe.example")  # not in the roster: same (unique) name
VIC = ("Victorien", "65306057+Viicos@users.noreply.github.com")
ZED = ("Zed Zimmer", "zed@else.example")  # outside author, 3 PRs
AMY = ("Amy Abbot", "amy@else.example")  # outside author, 1 PR (first alphabetically)

ROSTER = """engineer_id,name,email,team,role,level,hire_date,platform
DouweM,Douwe Maan,douwe@corp.example,core,backend,staff,2023-01-01,aws
Oxygen56,Willow Lopez,100782273+Oxygen56@users.noreply.github.com,evals,backend,mid,2023-01-01,gcp
Viicos,Victorien,,core,backend,mid,2023-01-01,other
Kludex,Marcelo T,marcelo@corp.example,core,backend,senior,2023-01-01,aws
"""
CERTS = """engineer_id,certification,earned_date
DouweM,aws-mla-c01,2024-03-05
Kludex,aws-mla-c01,2024-03-05
"""


def _squash(r: Repo, number: int, author, day: int) -> None:
    date = f"2024-03-{day:02d}T10:00:00Z"
    r.commit(f"Change {number} (#{number})", author, date, committer=GH, cdate=date)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    r = Repo(tmp_path_factory.mktemp("ident") / "app")
    r.commit("Initial commit", ZED, "2024-03-01T09:00:00Z")
    authors = [DOUWE, DOUWE, DOUWE_HOME, VIC, VIC, ZED, ZED, ZED, AMY]
    for n, who in enumerate(authors, start=1):
        _squash(r, n, who, n + 1)
    return r


@pytest.fixture(scope="module")
def imported(repo):
    return read_git(repo.path, progress=False)


@pytest.fixture
def files(tmp_path):
    roster, certs = tmp_path / "roster.csv", tmp_path / "certs.csv"
    roster.write_text(ROSTER)
    certs.write_text(CERTS)
    return roster, certs


def _copy(imp: Import) -> Import:
    """to_dataset updates an import in place: each test gets its own copy."""
    return Import(
        pull_requests=imp.pull_requests,
        people=imp.people,
        commits=imp.commits,
        notes=list(imp.notes),
        sources=list(imp.sources),
    )


def _dataset(imp: Import, files, **kw):
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", certkit.CertkitWarning)
        ds = to_dataset(imp, engineers=files[0], certifications=files[1], strict=False, **kw)
    return ds, " | ".join(str(w.message) for w in said)


def _prs_by(ds) -> dict[str, int]:
    counts = ds.pull_requests.group_by("author_id").len()
    return dict(counts.iter_rows())


def test_roster_email_and_unique_name_map_git_authors_to_a_login_keyed_roster(imported, files):
    imp = _copy(imported)
    ds, said = _dataset(imp, files)
    prs = _prs_by(ds)
    assert prs["DouweM"] == 3  # 2 by the roster e-mail, 1 by the unique name
    assert prs["Viicos"] == 2  # the noreply login, GitHub's case
    assert "douwe@corp.example" not in prs and "me@douwe.example" not in prs
    emails = ds.engineers["email"].drop_nulls().str.to_lowercase()
    assert not emails.is_duplicated().any()  # no placeholder beside its roster row
    assert ds.engineers.filter(pl.col("team") == "unknown")["engineer_id"].sort().to_list() == [
        "amy@else.example",
        "zed@else.example",
    ]
    assert imp.roster_match.rule == {
        "douwe@corp.example": "e-mail",
        "me@douwe.example": "name",
    }
    assert "2 author id(s) are mapped to roster engineers" in said
    # the outside authors with the most PRs come first, not alphabetical ones
    assert "(most PRs: zed@else.example (3 PRs), amy@else.example (1 PR))" in said


def test_a_name_shared_by_two_unmapped_authors_is_proposed_not_applied(imported, files):
    roster = ROSTER.replace("DouweM,Douwe Maan,douwe@corp.example", "DouweM,Douwe Maan,")
    files[0].write_text(roster)
    imp = _copy(imported)
    ds, said = _dataset(imp, files)
    prs = _prs_by(ds)
    assert "DouweM" not in prs  # two ids carry the name: no rule applies
    assert prs["douwe@corp.example"] == 2 and prs["me@douwe.example"] == 1
    draft = imp.shared_names.filter(pl.col("engineer_id") == "DouweM")
    assert sorted(draft["current_id"]) == ["douwe@corp.example", "me@douwe.example"]
    assert (
        "3 roster engineer(s) have no PR; 2 of them certified: DouweM, Kludex; not certified: "
        "Oxygen56; a placeholder author (douwe@corp.example) shares the name of DouweM; "
        "a placeholder author (me@douwe.example) shares the name of DouweM: "
        "map them in the identity file"
    ) in said


def test_noreply_login_keeps_its_case_and_joins_the_gh_export(repo, imported, tmp_path):
    assert set(imported.pull_requests["author_id"]) >= {"Viicos"}
    assert "viicos" not in set(imported.pull_requests["author_id"])
    export = tmp_path / "prs.json"
    item = {
        "number": 4,
        "title": "Change 4",
        "author": {"login": "Viicos"},
        "createdAt": "2024-03-01T08:00:00Z",
        "mergedAt": "2024-03-05T10:00:00Z",
        "closedAt": "2024-03-05T10:00:00Z",
        "additions": 1,
        "deletions": 0,
        "url": "https://github.com/org/app/pull/4",
    }
    both = imported + read_github(export_write(export, [item]))
    ds = to_dataset(both, strict=False)
    by = ds.pull_requests.filter(pl.col("number").is_in([4, 5])).sort("number")
    assert by["author_id"].to_list() == ["Viicos", "Viicos"]
    assert by["source"].to_list() == ["github", "git"]
    assert ds.engineers.filter(pl.col("engineer_id").str.to_lowercase() == "viicos").height == 1


def export_write(path, items):
    path.write_text(json.dumps(items))
    return path


def test_identity_file_login_row_maps_a_noreply_login_case_insensitively(repo, tmp_path):
    ids = tmp_path / "people.csv"
    ids.write_text("engineer_id,email,login,name\nvic,,VIICOS,\n")
    imp = read_git(repo.path, identities=ids, progress=False)
    authors = imp.pull_requests.sort("number")["author_id"].to_list()
    assert authors[3:5] == ["vic", "vic"]
    table = read_identities(ids)
    assert table.resolve(email="65306057+viicos@users.noreply.github.com") == "vic"
    assert table.resolve(login="Viicos") == "vic"


def test_roster_keyed_by_email_matches_authors_named_by_login():
    """What DevLake's import gives: ids are logins, with the account's e-mail."""
    people = frame(
        [
            {"engineer_id": "tiangolo", "name": "S R", "email": "tiangolo@gmail.com"},
            {"engineer_id": "YuriiMotov", "name": "Y M", "login": "YuriiMotov"},
        ],
        PEOPLE_SCHEMA,
    )
    prs = _merged_prs(["tiangolo", "tiangolo", "YuriiMotov"], "devlake")
    roster = pl.DataFrame(
        {
            "engineer_id": ["tiangolo@gmail.com", "yuriimotov"],
            "email": ["tiangolo@gmail.com", None],
            "team": ["core"] * 2,
            "role": ["backend"] * 2,
            "level": ["staff"] * 2,
            "hire_date": ["2020-01-01"] * 2,
            "platform": ["other"] * 2,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        ds = to_dataset(Import(pull_requests=prs, people=people), engineers=roster, strict=False)
    assert _prs_by(ds) == {"tiangolo@gmail.com": 2, "yuriimotov": 1}
    assert sorted(ds.engineers["engineer_id"]) == ["tiangolo@gmail.com", "yuriimotov"]
    # the same map for the DevLake pushdown, which keeps its outcomes keyed by author id
    from certkit.connectors.roster_match import roster_mapping  # new module

    assert roster_mapping(people, roster) == {
        "tiangolo": "tiangolo@gmail.com",
        "YuriiMotov": "yuriimotov",
    }


def test_roster_engineers_without_prs_are_named_certified_first(repo, files, tmp_path):
    """The identity file keeps priority: it sends DouweM's e-mail elsewhere, so DouweM has
    no PR; the import, the draft, validation and `certkit validate` all say so."""
    ids = tmp_path / "people.csv"
    ids.write_text("engineer_id,email,login,name\ndouwe-work,douwe@corp.example,,\n")
    out = tmp_path / "out"
    argv = ["import", "git", str(repo.path), "--out", str(out), "--no-progress"]
    argv += ["--engineers", str(files[0]), "--certifications", str(files[1])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        assert run_import([*argv, "--identities", str(ids)]) == 0
    notes = " | ".join(json.loads((out / "import.json").read_text())["notes"])
    assert (
        "3 roster engineer(s) have no PR; 2 of them certified: DouweM, Kludex; not certified: "
        "Oxygen56; a placeholder author (douwe-work) shares the e-mail of DouweM; "
        "a placeholder author (me@douwe.example) shares the name of DouweM: map them in the "
        "identity file"
    ) in notes
    draft = pl.read_csv(out / "identities_suggested.csv")
    row = draft.filter(pl.col("current_id") == "douwe-work")
    assert row.select("engineer_id", "email").rows() == [("DouweM", "douwe@corp.example")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        report = certkit.validate(out)
    found = [p.message for p in report.warnings if "no pull request at all" in p.message]
    assert len(found) == 1
    assert found[0].startswith(
        "3 engineer(s) have no pull request at all; 2 of them certified: DouweM, Kludex; "
        "not certified: Oxygen56; engineer douwe-work shares the e-mail of DouweM"
    )


def test_ids_differing_only_in_case_are_one_github_account():
    """git keeps ``Viicos`` from the noreply e-mail, a co-author trailer is lower-cased to
    ``viicos``: one account, one engineer (no roster needed)."""
    people = frame(
        [
            {"engineer_id": "Viicos", "name": "Victorien", "email": VIC[1].lower()},
            {"engineer_id": "viicos", "name": "Victorien", "email": VIC[1].lower()},
            {"engineer_id": "ana@corp.example", "name": "Ana", "email": "ana@corp.example"},
        ],
        PEOPLE_SCHEMA,
    )
    prs = _merged_prs(["Viicos", "viicos", "ana@corp.example"], "git")
    imp = Import(pull_requests=prs, people=people)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", certkit.CertkitWarning)
        ds = to_dataset(imp, strict=False)
    assert _prs_by(ds) == {"Viicos": 2, "ana@corp.example": 1}
    assert sorted(ds.engineers["engineer_id"]) == ["Viicos", "ana@corp.example"]
    assert any("'viicos' -> 'Viicos'" in str(w.message) for w in said)


def _merged_prs(authors: list[str], source: str) -> pl.DataFrame:
    """One merged PR per author entry (o/r#1, #2, ...), all on one day."""
    day = datetime(2024, 3, 5)
    return frame(
        [
            {"id": f"o/r#{n}", "author_id": a, "repo": "o/r", "created_date": day}
            | {"merged_date": day, "source": source}
            for n, a in enumerate(authors, start=1)
        ],
        PR_SCHEMA,
    )


def test_certifications_written_with_an_older_import_s_lower_case_id_still_match(
    imported, tmp_path
):
    """Noreply logins keep their case now ('Viicos'); a certifications file written from an
    older import says 'viicos' (pallets/click: 'rowlando13' for 'Rowlando13' stopped the
    import with "engineer_id not found in engineers")."""
    certs = tmp_path / "certs_old.csv"
    certs.write_text("engineer_id,certification,earned_date\nviicos,aws-mla-c01,2024-03-04\n")
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", certkit.CertkitWarning)
        ds = to_dataset(_copy(imported), certifications=certs)
    assert ds.certifications["engineer_id"].to_list() == ["Viicos"]
    text = " | ".join(str(w.message) for w in said) + " | ".join(imported.notes)
    assert "by their id in another case (e.g. 'viicos' -> 'Viicos')" in text, text


def test_people_without_a_pr_of_their_own_are_not_engineers(tmp_path):
    """gnome-shell: 366 people outside a 40-person roster, 151 of them only in commits
    (translators' direct pushes); as placeholders they entered every comparison as
    never-certified engineers with no work. A certification names one of them: kept."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    r.commit("Update translation", CHEN, "2024-03-02T09:00:00Z")  # direct push only
    r.commit("Fix (#1)", BEN, "2024-03-03T09:00:00Z")
    imp = read_git(r.path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        ds = to_dataset(imp)
    assert ds.engineers["engineer_id"].to_list() == ["ben@corp.example"]
    assert any("2 people outside the roster appear only in commits" in n for n in imp.notes)
    certs = tmp_path / "certs.csv"
    certs.write_text(
        "engineer_id,certification,earned_date\nCHEN@corp.example,gcp-pmle,2024-03-05\n"
    )
    imp = read_git(r.path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        ds = to_dataset(imp, certifications=certs)
    assert sorted(ds.engineers["engineer_id"].to_list()) == [
        "ben@corp.example",
        "chen@corp.example",
    ]


def test_the_mapping_note_names_the_alias_that_matched_not_an_internal_id():
    """trial R (R6): a DevLake import's note said "e.g. 'user1' -> 'MagMueller'": 'user1' is
    DevLake's internal user id, which the reader never sees; the e-mail matched."""
    from certkit.connectors.roster_match import match_roster

    people = pl.DataFrame(
        {
            "engineer_id": ["user1", "user2"],
            "name": ["Magnus Müller", "Someone Else"],
            "email": ["magnus@browser-use.com", "else@example.com"],
            "login": [None, None],
            "is_bot": [False, False],
        }
    )
    roster = pl.DataFrame(
        {"engineer_id": ["MagMueller"], "name": ["Magnus"], "email": ["magnus@browser-use.com"]}
    )
    found = match_roster(people, roster)
    assert found.mapping == {"user1": "MagMueller"}
    note = found.note()
    assert "e.g. 'magnus@browser-use.com' -> 'MagMueller'" in note, note
    assert "'user1'" not in note


def test_a_placeholder_name_tells_nobody_apart():
    """continuedev/continue (trial W): "Co-authored-by: Username <nate@...>" and "Username
    <brian@...>" made the draft identity file pair two people."""
    from certkit.connectors.identity import name_key

    assert name_key("Username") is None and name_key("your_name") is None
    assert name_key("Ana Silva") == "ana silva"
