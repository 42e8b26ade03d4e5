"""Reverts as GitHub's revert button writes them (trial E: encode/httpx, pallets/flask), each in
a throwaway repository built with ``git``.

On a squash-merge repository the button's PR is squashed as ``Revert "<PR title>" (#M)``: the
PR title carries no number and the squash drops the ``This reverts commit`` body (httpx
#3192 reverting #3174). On a merge-commit repository the button's branch is
``revert-<N>-<branch>`` (flask #1912 reverting #1811, #1535 reverting #1534). Negative cases:
a revert of a direct commit whose subject equals a PR title, a title shared by two PRs
merged at the same moment, a revert inside its own PR.

Only a revert unit reverts (trial G F4, F27): a revert PR, or a revert commit pushed directly
(in no PR). A ``This reverts commit`` line in the squash body of an ordinary PR (xarray #10201
"CI: Automatic PR labelling is back" undoing #8525 489 days later) or a ``Revert "..."`` commit
on an ordinary PR's branch (twisted ``b2460fdc5c`` inside #11924 undoing one commit of #11860)
flags nothing: a note names the PRs. A revert of a revert restores the change (trial G F10:
sqlalchemy ``ceeac6d91d`` restoring ``be4e3e675e``; twisted #12267 reverting #12266).
"""

from __future__ import annotations

import warnings
from datetime import datetime
from types import SimpleNamespace

import pytest
from test_connectors_git import ANA, BEN, CHEN, Repo
from test_git_gerrit import _gerrit_merge

from certkit.connectors import read_git


def _squash(r: Repo, message: str, author, day: int, month: int = 3) -> str:
    return r.commit(message, author, f"2024-{month:02d}-{day:02d}T10:00:00Z")


def _import(r: Repo, **kw) -> tuple[dict[str, bool], str]:
    """``reverted`` by PR id, and the import's notes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = read_git(r.path, rework_days=None, **kw)
    prs = imp.pull_requests
    return dict(zip(prs["id"].to_list(), prs["reverted"].to_list(), strict=True)), " ".join(
        imp.notes
    )


def _reverted(r: Repo) -> dict[str, bool]:
    return _import(r)[0]


def _revert(r: Repo, sha: str, author, date: str, message: str | None = None) -> str:
    """``git revert`` of ``sha`` (its own message: ``Revert "<subject>"`` and ``This reverts
    commit <sha>.``, unless ``message`` replaces it)."""
    r.git("revert", "--no-edit", sha, env=Repo._env(author, date))
    if message is not None:
        r.git("commit", "-q", "--amend", "-m", message, env=Repo._env(author, date))
    return r.git("rev-parse", "HEAD")


def _pr(r: Repo, n: int, branch: str, title: str, date: str) -> str:
    return r.merge(branch, f"Merge pull request #{n} from org/{branch}\n\n{title}", date)


def test_squash_revert_button_matches_the_pr_title(tmp_path):
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    _squash(r, "Removed leading $ from cli code blocks (#3174)", ANA, 2)
    _squash(r, "Add retries (#3175)", BEN, 3)
    _squash(r, 'Revert "Removed leading $ from cli code blocks" (#3192)', BEN, 4)
    got = _reverted(r)
    assert got["org/app#3174"] is True
    assert got["org/app#3175"] is False and got["org/app#3192"] is False


def test_a_title_matches_the_latest_earlier_pr_or_none_if_tied(tmp_path):
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    _squash(r, "Update docs (#1)", ANA, 2)
    _squash(r, "Update docs (#2)", BEN, 3)  # the latest before the revert
    _squash(r, 'Revert "Update docs" (#3)', BEN, 4)
    _squash(r, "Update docs (#4)", CHEN, 5)  # after the revert: not its target
    got = _reverted(r)
    assert [got[f"org/app#{n}"] for n in (1, 2, 3, 4)] == [False, True, False, False]
    tied = Repo(tmp_path / "tied")
    tied.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    for n in (1, 2):  # two PRs titled alike, merged at the same time: ambiguous
        tied.commit(f"Bump pins (#{n})", ANA, "2024-03-02T10:00:00Z")
    _squash(tied, 'Revert "Bump pins" (#3)', BEN, 4)
    assert not any(_reverted(tied).values())


def test_revert_branch_merge_names_the_reverted_pr(tmp_path):
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    r.branch("iss1809")
    r.commit("Addressing Issue 1809", CHEN, "2024-03-02T10:00:00Z")
    r.checkout("main")
    r.merge(
        "iss1809",
        "Merge pull request #1811 from chen/iss1809\n\nAddressing Issue 1809",
        "2024-03-02T12:00:00Z",
    )
    r.branch("revert-1811-iss1809")
    # the button's commit: no 'This reverts commit' line, a title other than the PR's
    r.commit('Revert "Docs for issue 1809"', BEN, "2024-03-03T10:00:00Z")
    r.checkout("main")
    r.merge(
        "revert-1811-iss1809",
        "Merge pull request #1912 from pallets/revert-1811-iss1809\n\nRevert it",
        "2024-03-03T12:00:00Z",
    )
    got = _reverted(r)
    assert got == {"org/app#1811": True, "org/app#1912": False}


def test_reverts_line_in_a_merge_body_and_pr_title_of_a_merge(tmp_path):
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    for n, title, day in ((1855, "Adds simplejson as a testing target.", 2), (1856, "Other", 3)):
        r.branch(f"b{n}")
        r.commit(f"work on {n}", CHEN, f"2024-03-0{day}T10:00:00Z")
        r.checkout("main")
        r.merge(
            f"b{n}", f"Merge pull request #{n} from c/b{n}\n\n{title}", f"2024-03-0{day}T12:00:00Z"
        )
    r.branch("undo")
    r.commit("undo it", BEN, "2024-03-05T10:00:00Z")
    r.checkout("main")
    r.merge(
        "undo",
        'Merge pull request #1865 from b/undo\n\nRevert "Adds simplejson as a testing target."',
        "2024-03-05T12:00:00Z",
    )
    got = _reverted(r)
    assert got["org/app#1855"] is True and got["org/app#1856"] is False


@pytest.mark.parametrize(
    "body",
    ["This reverts commit {sha}.", ""],
    ids=["git-revert", "edited"],
)
def test_a_reverted_direct_commit_is_not_a_pr_of_the_same_title(tmp_path, body):
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    _squash(r, "Fix typo (#1)", ANA, 2)
    sha = r.commit("Fix typo", BEN, "2024-03-03T10:00:00Z")  # a direct push, same subject
    message = 'Revert "Fix typo"' + (f"\n\n{body.format(sha=sha)}" if body else "")
    r.commit(message, BEN, "2024-03-04T10:00:00Z")
    got = _reverted(r)
    # git revert names the commit: a direct one, so no PR is reverted. Without that line
    # (an edited message) the title is all there is and the PR of that title is taken.
    assert got["org/app#1"] is (body == "")


def test_a_revert_line_in_an_ordinary_squash_body_is_not_a_revert(tmp_path):
    """xarray #8686 "Fixes for pytest-8.0.0 compatibility": its squash body holds its branch's
    ``Revert "Fix CI: temporary pin pytest version to 7.4.* (#8682)"`` commit, the planned end
    of a temporary pin. A squashed revert PR still flags its PR (by the sha, and by a title
    that is a revert without quotes: xarray #3038 "Revert cmap fix")."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    pin = _squash(r, "Fix CI: temporary pin pytest version to 7.4.* (#1)", ANA, 2)
    _squash(
        r,
        "Fixes for pytest-8.0.0 compatibility (#2)\n\n"
        '* Revert "Fix CI: temporary pin pytest version to 7.4.* (#1)"\n\n'
        f"This reverts commit {pin}.\n\n* fix the tests",
        BEN,
        3,
    )
    retries = _squash(r, "Add retries (#3)", CHEN, 4)
    _squash(r, f'Revert "Add retries (#3)" (#4)\n\nThis reverts commit {retries}.', BEN, 5)
    cmap = _squash(r, "plot: do not modify a given colormap (#5)", CHEN, 6)
    _squash(
        r,
        'Revert cmap fix (#6)\n\n* Test for levels\n\n* Revert "plot: do not modify a given '
        f'colormap (#5)"\n\nThis reverts commit {cmap}.',
        ANA,
        7,
    )
    got, notes = _import(r)
    assert got["org/app#1"] is False  # main: True
    assert got["org/app#3"] is True and got["org/app#5"] is True
    assert not any(got[f"org/app#{n}"] for n in (2, 4, 6))
    assert (
        "org/app: 1 commit(s) inside other PRs undo part of an earlier PR (org/app#1): not "
        "counted as reverts (only a revert PR or a pushed revert commit is)"
    ) in notes


def test_a_revert_commit_on_an_ordinary_pr_branch_is_not_a_revert(tmp_path):
    """twisted ``b2460fdc5c`` ``Revert "Pin urllib3."`` on the branch of #11924 ("#11926
    Revert ..."; the ticket first: not a revert title) undid one of #11860's 8 commits. A revert
    PR merged by a merge commit (``git revert`` on its branch) still flags its PR."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    r.branch("rtd")
    pin = r.commit("Pin urllib3.", CHEN, "2024-03-02T10:00:00Z")
    r.commit("Fix the docs build", CHEN, "2024-03-02T11:00:00Z")
    r.checkout("main")
    _pr(r, 11860, "rtd", "#11859 Fix Read The Docs build process", "2024-03-02T12:00:00Z")
    r.branch("unpin")
    _revert(r, pin, BEN, "2024-03-03T10:00:00Z")
    r.commit("Update docs deps", BEN, "2024-03-03T11:00:00Z")
    r.checkout("main")
    _pr(r, 11924, "unpin", '#11926 Revert "Pin urllib3."', "2024-03-03T12:00:00Z")
    r.branch("cache")
    cache = r.commit("Add a cache", ANA, "2024-03-04T10:00:00Z")
    r.checkout("main")
    _pr(r, 11930, "cache", "Add a cache", "2024-03-04T12:00:00Z")
    r.branch("uncache")
    _revert(r, cache, BEN, "2024-03-05T10:00:00Z")
    r.checkout("main")
    _pr(r, 11931, "uncache", 'Revert "Add a cache"', "2024-03-05T12:00:00Z")
    got, notes = _import(r)
    assert got == {
        "org/app#11860": False,  # main: True
        "org/app#11924": False,
        "org/app#11930": True,
        "org/app#11931": False,
    }
    assert "1 commit(s) inside other PRs undo part of an earlier PR (org/app#11860)" in notes


@pytest.mark.parametrize("restore", ["squash_pr", "merge_pr", "pushed", "pushed_as_pr"])
def test_a_revert_of_a_revert_restores_the_change(tmp_path, restore):
    """twisted #12267 ``Revert "Revert "#12254 Use Incremental 24.7.0""`` (merge commit), a
    squashed revert PR, or a revert of the revert pushed directly: the first revert is
    reverted, the original is not. A pushed revert commit flags the PR it names."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    first = _squash(r, "Use Incremental 24.7.0 (#1)", ANA, 2)
    undo = _squash(
        r, f'Revert "Use Incremental 24.7.0 (#1)" (#2)\n\nThis reverts commit {first}.', BEN, 3
    )
    message = f'Revert "Revert "Use Incremental 24.7.0 (#1)""\n\nThis reverts commit {undo}.'
    if restore == "squash_pr":
        r.commit(message.replace('""', '"" (#3)', 1), CHEN, "2024-03-04T10:00:00Z")
    elif restore == "merge_pr":
        r.branch("revert-2-undo")
        _revert(r, undo, CHEN, "2024-03-04T10:00:00Z")
        r.checkout("main")
        _pr(r, 3, "revert-2-undo", message.split("\n")[0], "2024-03-04T12:00:00Z")
    else:
        _revert(r, undo, CHEN, "2024-03-04T10:00:00Z")
    got, notes = _import(r, direct_commits="as_prs" if restore == "pushed_as_pr" else "ignore")
    assert got["org/app#1"] is False  # main: True
    assert got["org/app#2"] is True
    assert [v for k, v in got.items() if k not in ("org/app#1", "org/app#2")] == [False] * (
        len(got) - 2
    )
    assert (
        "org/app: 1 PR(s) were reverted and then restored by a revert of their revert "
        "(org/app#1): not counted as reverted"
    ) in notes


def test_a_chain_of_three_reverts(tmp_path):
    """Revert, revert of the revert, revert of that: the change ends reverted, and so does
    the second revert; the first and the last revert stand."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    sha = _squash(r, "Add retries (#1)", ANA, 2)
    title = "Add retries (#1)"
    for n, day in ((2, 3), (3, 4), (4, 5)):
        title = f'Revert "{title}"'
        sha = _squash(r, f"{title} (#{n})\n\nThis reverts commit {sha}.", BEN, day)
    got, notes = _import(r)
    # main: [True, True, True, False]
    assert [got[f"org/app#{n}"] for n in (1, 2, 3, 4)] == [True, False, True, False]
    assert "org/app#2): not counted as reverted" in notes


def test_a_gerrit_change_that_reverts_a_revert_restores(tmp_path):
    """sqlalchemy ``ceeac6d91d`` "modernize annotationlib approach", a Gerrit change (its
    commit's message is the change's description; with the Gerrit merge that submitted it): "This reverts commit 4ff1d604f9 which
    reverted this change originally, so it restores the change"."""
    mike = ("Mike Bayer", "mike_mp@zzzcomputing.com")
    r = Repo(tmp_path / "sqlalchemy", origin="https://github.com/sqlalchemy/sqlalchemy.git")
    r.commit("initial", mike, "2024-03-01T09:00:00Z")
    cid = "\n\nChange-Id: I{:040x}"
    change = r.commit(
        "behave more like dataclasses when creating them" + cid.format(1),
        mike,
        "2024-03-02T10:00:00Z",
    )
    undo = _revert(r, change, mike, "2024-03-03T10:00:00Z")
    r.git(
        *("commit", "-q", "--amend", "-m", r.git("log", "-1", "--format=%B") + cid.format(2)),
        env=Repo._env(mike, "2024-03-03T10:00:00Z"),
    )
    undo = r.git("rev-parse", "HEAD")
    r.branch("restore")
    restore = r.commit(
        f"modernize annotationlib approach\n\nThis reverts commit {undo} which reverted this "
        "change originally,\nso it restores the change." + cid.format(3),
        mike,
        "2024-03-04T10:00:00Z",
    )
    r.checkout("main")
    r.commit("fix docs" + cid.format(4), mike, "2024-03-04T11:00:00Z")
    # submitted by a Gerrit merge: the change's PR holds two commits
    _gerrit_merge(r, "restore", "modernize annotationlib approach", "2024-03-05T10:00:00Z")
    got, notes = _import(r)
    repo = "sqlalchemy/sqlalchemy"
    assert got[f"{repo}@{change[:10]}"] is False  # main: True
    assert got[f"{repo}@{undo[:10]}"] is True
    assert got[f"{repo}@{restore[:10]}"] is False
    assert f"restored by a revert of their revert ({repo}@{change[:10]})" in notes


def _unit(sha: str, day: int, subject: str, body: str) -> SimpleNamespace:
    return SimpleNamespace(
        sha=sha, parents=["p"], subject=subject, body=body, committed=datetime(2024, 3, day)
    )


def test_reverts_naming_each_other_do_not_loop():
    """Two revert PRs whose branches revert each other's commits (a cycle git allows across
    branches): both stay in force, each flags the other."""
    from certkit.connectors.git_reverts import mark_reverts  # here: main has no such module

    a1, a2, b1 = "a" * 40, "b" * 40, "c" * 40
    commits = {
        a1: _unit(a1, 2, "work", ""),
        b1: _unit(b1, 3, 'Revert "work"', f"This reverts commit {a1}."),
        a2: _unit(a2, 4, 'Revert "Revert"', f"This reverts commit {b1}."),
    }
    prs = [
        {"id": f"r#{n}", "number": n, "title": 'Revert "x"', "merged_date": datetime(2024, 3, d)}
        | {"_shas": shas, "_head": None, "reverted": False}
        for n, d, shas in ((1, 4, [a1, a2]), (2, 3, [b1]))
    ]
    notes = mark_reverts(prs, commits, [], "r")
    assert [pr["reverted"] for pr in prs] == [True, True]
    assert notes == []
