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


def _edit(r: Repo, files: dict[str, str], message: str, author, day: str) -> None:
    """Write ``files`` (path -> text) and commit them all on ``day`` at 10:00 UTC."""
    for name, text in files.items():
        (r.path / name).write_text(text)
    r.git("add", *files)
    r.git("commit", "-q", "-m", message, env=Repo._env(author, f"{day}T10:00:00Z"))


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
        "org/app: 1 commit(s) inside other PRs undo part of an earlier PR (org/app#2 undoes part "
        "of org/app#1): not "
        "counted as reverts (only a PR that is a revert as a whole, or a pushed revert commit, is)"
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
    assert (
        "1 commit(s) inside other PRs undo part of an earlier PR (org/app#11924 undoes part of "
        "org/app#11860)"
    ) in notes


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
        sha=sha,
        parents=["p"],
        subject=subject,
        body=body,
        committed=datetime(2024, 3, day),
        patch=0,
        inverse=0,
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


def _mr(r: Repo, n: int, branch: str, title: str, date: str) -> str:
    """A GitLab merge commit (GNOME/glib's): the MR's title, then its number."""
    return r.merge(
        branch, f"Merge branch '{branch}' into 'main'\n\n{title}\n\nSee merge request g/p!{n}", date
    )


def _one_commit_mr(r: Repo, n: int, subject: str, day: int, title: str | None = None) -> str:
    """An MR of one commit, merged; returns the commit's sha."""
    r.branch(f"b{n}")
    sha = r.commit(subject, CHEN, f"2024-03-{day:02d}T10:00:00Z")
    r.checkout("main")
    _mr(r, n, f"b{n}", title or subject, f"2024-03-{day:02d}T12:00:00Z")
    return sha


def _revert_mr(r: Repo, n: int, sha: str, day: int) -> str:
    """An MR whose one commit is ``git revert <sha>``, titled as that commit; returns it."""
    r.branch(f"b{n}")
    undo = _revert(r, sha, BEN, f"2024-03-{day:02d}T10:00:00Z")
    r.checkout("main")
    _mr(r, n, f"b{n}", r.git("log", "-1", "--format=%s", undo), f"2024-03-{day:02d}T12:00:00Z")
    return undo


def test_a_temporary_change_reverted_as_planned_is_not_reverted(tmp_path):
    """GNOME/glib (trial I, I7): MRs that say they are temporary, reverted when their time is
    up: !3250 "ci: Temporarily only run the FreeBSD 13 CI on a schedule" (reverted by !3258),
    !3225 "tests: Temporarily disable socket test due to a kernel bug" (reverted by !3269, which
    failed and was reverted by !3273, then for good by !3467), !4343 whose MR title says "for
    now" and whose commit does not. A revert of a temporary change is no temporary change:
    !3269 stays reverted. !3509 "build-sys: drop -mms-bitfields GCC flag" (reverted by !3514)
    stays reverted."""
    r = Repo(tmp_path / "glib")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    freebsd = _one_commit_mr(r, 3250, "ci: Temporarily only run the FreeBSD 13 CI on a schedule", 2)
    socket = _one_commit_mr(
        r, 3225, "tests: Temporarily disable socket test due to a kernel bug", 3
    )
    pcre = _one_commit_mr(
        r,
        4343,
        "CI: Skip PCRE2 tests for 32-bit Visual Studio builds",
        4,
        title="CI: Skip PCRE2 tests for now for 32-bit Visual Studio builds",
    )
    flag = _one_commit_mr(r, 3509, "build-sys: drop -mms-bitfields GCC flag", 5)
    _revert_mr(r, 3258, freebsd, 6)
    attempt = _revert_mr(r, 3269, socket, 7)
    _revert_mr(r, 3273, attempt, 8)
    _revert_mr(r, 3467, socket, 9)
    _revert_mr(r, 4400, pcre, 10)
    _revert_mr(r, 3514, flag, 11)
    got, notes = _import(r)
    assert {k: v for k, v in got.items() if v} == {"org/app#3269": True, "org/app#3509": True}
    # main: 3225, 3250, 4343 reverted too
    assert (
        "org/app: 3 PR(s) had a temporary change reverted as planned (org/app#3225, "
        "org/app#3250, org/app#4343): not counted as reverted"
    ) in notes


@pytest.mark.parametrize("how", ["button", "pushed", "pushed_as_pr"])
def test_a_temporary_squash_pr_or_pushed_commit_reverted_as_planned(tmp_path, how):
    """xarray #9181 "temporarily pin `numpy<2`" and #11372 "pin pixi until the nightly ci
    resolves again", undone by GitHub's revert button (the PR's title, no sha) or by a revert
    pushed directly; "Fix temporary file leak" (a fix, not a temporary change) stays reverted.
    """
    r = Repo(tmp_path / "xarray")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    pin = _squash(r, "temporarily pin `numpy<2` (#9181)", ANA, 2)
    pixi = _squash(r, "pin pixi until the nightly ci resolves again (#11372)", ANA, 3)
    leak = _squash(r, "Fix temporary file leak (#9190)", BEN, 4)
    for n, (sha, title) in enumerate(
        (
            (pin, "temporarily pin `numpy<2`"),
            (pixi, "pin pixi until the nightly ci resolves again"),
            (leak, "Fix temporary file leak"),
        ),
        start=9200,
    ):
        if how == "button":
            _squash(r, f'Revert "{title}" (#{n})', CHEN, n - 9195)
        else:
            _revert(r, sha, CHEN, f"2024-03-{n - 9195:02d}T10:00:00Z")
    got, notes = _import(r, direct_commits="as_prs" if how == "pushed_as_pr" else "ignore")
    assert [got[f"org/app#{n}"] for n in (9181, 11372, 9190)] == [False, False, True]
    # main: [True, True, True]
    assert (
        "2 PR(s) had a temporary change reverted as planned (org/app#9181, org/app#11372)" in notes
    )


def test_a_pr_is_reverted_by_a_revert_of_one_of_its_commits_unless_that_one_is_temporary(
    tmp_path,
):
    """GNOME/glib !3703 "Port GIRepository to GTypeInstance" (31 commits) carried, last on its
    branch, a copy of the temporary FreeBSD CI commit, reverted three weeks later: the PR is
    not reverted (the named commit says "Temporarily"; its title does not). !4618 "Add
    g_fputs to print UTF-8 in the right charset" (14 commits) is reverted: one of its commits,
    "Use g_fputs in g_printf, g_fprintf", was reverted to fix issue #3761."""
    r = Repo(tmp_path / "glib")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    r.branch("gir")
    for i, subject in enumerate(("girepository: Port to GTypeInstance", "gir: Build data")):
        r.commit(subject, CHEN, f"2024-03-02T1{i}:00:00Z")
    copy = r.commit(
        "ci: Temporarily only run the FreeBSD 13 CI on a schedule", BEN, "2024-03-02T12:00:00Z"
    )
    r.checkout("main")
    _mr(r, 3703, "gir", "Port GIRepository to GTypeInstance", "2024-03-02T14:00:00Z")
    r.branch("fputs")
    r.commit("Add g_fputs", ANA, "2024-03-03T10:00:00Z")
    use = r.commit("Use g_fputs in g_printf, g_fprintf", ANA, "2024-03-03T11:00:00Z")
    r.commit("tests: Test g_fputs", ANA, "2024-03-03T12:00:00Z")
    r.checkout("main")
    _mr(r, 4618, "fputs", "Add g_fputs to print UTF-8 in the right charset", "2024-03-03T14:00:00Z")
    _revert_mr(r, 3800, copy, 5)
    _revert_mr(r, 4746, use, 6)
    got, notes = _import(r)
    assert got["org/app#3703"] is False  # main: True
    assert got["org/app#4618"] is True
    assert "1 PR(s) had a temporary change reverted as planned (org/app#3703)" in notes


@pytest.mark.parametrize(
    ("subject", "temporary"),
    [
        # what the five histories' revert targets say (glib, xarray; trial I, G)
        ("ci: Temporarily disable msys2-mingw32 CI", True),
        ("gkeyfile: Temporarily re-allow invalid escapes when parsing strings", True),
        ("Fix CI: temporary pin pytest version to 7.4.* (#8682)", True),
        ("temporarily pin `numpy<2` (#9181)", True),
        ("ci: Temporarily disable macOS CI runner until it’s fixed", True),
        ("pin pixi until the nightly ci resolves again (#11372)", True),
        ("CI: Skip PCRE2 tests for now for 32-bit Visual Studio builds", True),
        ("pyproject: Remove strict typing for now", True),
        ("Pin codecov==2.0.5 until fixed", True),
        ("ci: Disable container building temporarily", True),  # gnome-shell #3670 (trial J)
        ("ci: Disable sysext temporarily.", True),
        ("Skip the flaky test temporarily (#123)", True),
        ("tests: Keep the old API for the time being", True),
        ("(Temporarily) disable type checking for mcp-run-python", True),  # pydantic-ai #1169
        ("[temp] skip the flaky upload test", True),
        ("Temp fix: pin httpx", True),
        # subjects of the same histories that are not temporary changes
        ('Revert "tests: Temporarily disable socket test due to a kernel bug"', False),
        ("Fix temporary file leak", False),
        ("Template: add the release header", False),
        ("tempfile: close handles on error", False),
        ("tests: Add temporary working directory for monitor test", False),
        ("Ensure g_file_copy() does not temporarily expose private files", False),
        ("guniprop.c: Avoid creating (temporarily) out-of-bounds pointers", False),
        ("gtestdbus: Keep config file around until bus daemon exits", False),
        ("CI: Mark msys2-mingw32 as allowing failures", False),
        ("Pin pytest to avoid pytest-cov failure", False),
        ("gdbus: Fix a leak of temporarily allocated memory", False),
        ("Don't fail when a file is temporarily unavailable", False),
    ],
)
def test_which_subjects_announce_a_temporary_change(subject, temporary):
    from certkit.connectors.git_reverts import _temporary  # main has no such function

    assert _temporary(subject) is temporary


def test_a_merge_request_group_is_a_revert_only_when_all_its_commits_are(tmp_path):
    """GNOME/gnome-shell (trial J, J2): Marge-bot MRs have no merge commit, so an MR's title is
    its first commit's subject. !3973 ``Revert "ci: Reinstall gdk-pixbuf2 package"`` + ``ci:
    Bump mutter image`` undid #3919's workaround on the way: not a revert MR (as a revert commit
    on a merged branch is not), a note counts it. A one-commit revert MR, and an MR whose
    commits all revert, still revert."""
    mr = "\n\nPart-of: <https://gitlab.gnome.org/GNOME/gnome-shell/-/merge_requests/{}>"
    r = Repo(tmp_path / "shell", origin="https://gitlab.gnome.org/GNOME/gnome-shell.git")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    pixbuf = r.commit(
        "ci: Reinstall gdk-pixbuf2 package" + mr.format(3919), BEN, "2024-03-02T10:00:00Z"
    )
    panel = r.commit("panel: Drop the clock" + mr.format(3920), BEN, "2024-03-03T10:00:00Z")
    one = r.commit("dash: Fix" + mr.format(3921), CHEN, "2024-03-04T10:00:00Z")
    two = r.commit("dash: Fix more" + mr.format(3921), CHEN, "2024-03-04T11:00:00Z")

    def revert(sha: str, n: int, date: str) -> None:
        subject = r.git("log", "-1", "--format=%s", sha)
        body = f"This reverts commit {sha}." + mr.format(n)
        _revert(r, sha, ANA, date, f'Revert "{subject}"\n\n{body}')

    revert(pixbuf, 3973, "2024-03-05T10:00:00Z")
    r.commit("ci: Bump mutter image" + mr.format(3973), ANA, "2024-03-05T11:00:00Z")
    revert(panel, 3974, "2024-03-06T10:00:00Z")
    revert(two, 3975, "2024-03-07T10:00:00Z")
    revert(one, 3975, "2024-03-07T11:00:00Z")
    got, notes = _import(r)
    assert {k.split("#")[1]: v for k, v in got.items() if v} == {"3920": True, "3921": True}
    # main: 3919 reverted too
    assert (
        "1 commit(s) inside other PRs undo part of an earlier PR (GNOME/gnome-shell#3973 undoes "
        "part of GNOME/gnome-shell#3919)"
    ) in notes


def test_a_revert_naming_its_pr_by_number(tmp_path):
    """cline/cline (trial L, L14): ``revert: #8341 (0d04205dc) due to DiffService
    truncateDocument regressions (#8423, #8429) (#8432)`` undoes #8341 line for line, without
    ``This reverts commit`` or ``Revert "..."``. The numbers after "due to" are issues."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    diff = _squash(r, "feat: DiffService truncateDocument (#8341)", ANA, 2)
    _squash(r, "fix: something else (#8423)", BEN, 3)
    _revert(r, diff, BEN, "2024-03-04T10:00:00Z",
            "revert: #8341 (0d04205dc) due to DiffService truncateDocument regressions "
            "(#8423, #8429) (#8432)")  # fmt: skip
    got, _ = _import(r)
    assert got["org/app#8341"] is True  # main: False
    assert got["org/app#8423"] is False  # an issue the message names, not the reverted PR
    assert got["org/app#8432"] is False


def test_a_revert_pr_whose_target_is_not_found_is_listed_in_a_note(tmp_path):
    """trial N: starlette#2737 "Revert bump on `python-multipart`" names its PR (#2734) by
    neither number, quote nor sha; the count is a lower bound, so the note lists such reverts
    for a reader to check (and a revert that finds its PR is not listed)."""
    r = Repo(tmp_path / "app")
    r.commit("Start", ANA, "2024-02-01T09:00:00Z")
    _squash(r, "Bump minimum `python-multipart` version (#4)", BEN, 2)
    _squash(r, "Revert bump on `python-multipart` (#5)", ANA, 9)
    _squash(r, "Add a feature (#6)", CHEN, 10)
    _squash(r, 'Revert "Add a feature" (#7)', ANA, 12)
    reverted, notes = _import(r)
    assert reverted["org/app#6"] and not reverted["org/app#4"]
    assert "org/app: 1 revert PR(s) name no PR certkit could find (org/app#5)" in notes


def test_a_revert_naming_a_number_must_quote_that_prs_title(tmp_path):
    """trial Y: ``Revert "Add feature X (#5)" (#6)`` in a history whose #5 is "Other thing"
    (the revert of another repository's #5, ported here: its sha is nowhere in this one)
    marked this #5 reverted. The quoted title must be the numbered PR's; a revert of the
    real #5 still marks it, also when its title was edited by a word."""
    r = Repo(tmp_path / "app")
    _squash(r, "Initial commit", ANA, 1)
    _squash(r, "Other thing (#5)", ANA, 2)
    _squash(r, "Speed up the parser (#7)", BEN, 3)
    _squash(r, 'Revert "Add feature X (#5)" (#6)\n\nThis reverts commit ' + "a" * 40, BEN, 4)
    reverted = _reverted(r)
    assert reverted["org/app#5"] is False
    _squash(r, 'Revert "Speed up parser (#7)" (#8)', ANA, 5)  # "the" dropped: still #7
    _squash(r, 'Revert "Other thing (#5)" (#9)', ANA, 6)
    reverted = _reverted(r)
    assert reverted["org/app#5"] is True and reverted["org/app#7"] is True


def test_bracketed_revert_titles_and_reverts_lines_with_text_are_read(tmp_path):
    """astral-sh/ruff (trial AC): ``[ty] Revert "..." (#27428)`` with the body "Reverts
    #27362.", and ``[ty] Revert "..." (#26308)`` with "Reverts astral-sh/ruff#26290. This was
    accidentally merged." left #27362 and #26290 unmarked."""
    r = Repo(tmp_path / "app")
    _squash(r, "Initial commit", ANA, 1)
    _squash(r, "Remove bespoke inference VecMap iterator (#5)", ANA, 2)
    _squash(r, "[ty] Infer definite equality comparison results (#6)", BEN, 3)
    _squash(r, "Tidy the parser (#7)", BEN, 4)
    _squash(r, '[ty] Revert "Remove bespoke inference VecMap iterator" (#8)\n\nReverts #5.', ANA, 5)
    _squash(
        r,
        '[ty] Revert "[ty] Infer something else" (#9)\n\n'
        "Reverts org/app#6. This was accidentally merged.",
        ANA,
        6,
    )
    _squash(r, "Bump the lock file (#10)\n\nReverts #11 as planned, see the issue.", BEN, 7)
    _squash(r, "A later change (#11)", BEN, 8)
    reverted = _reverted(r)
    assert reverted["org/app#5"] is True  # by its title and by "Reverts #5."
    assert reverted["org/app#6"] is True  # by "Reverts org/app#6. ..." (its title differs)
    assert reverted["org/app#7"] is False
    assert reverted["org/app#11"] is False  # "Reverts #11" before #11 existed: not this PR


def test_a_change_months_old_is_not_reverted_by_a_diff_alone(tmp_path):
    """astral-sh/ruff (trial AC): "Update rooster to 0.1.0" (#20575), one line of
    scripts/release.sh, was marked reverted eight months later by "Revert accidental
    release preview change" (#25159), which undid the release.sh line of #25154 (a change
    of two more files, so not its exact inverse). A revert naming nothing is matched by its
    diff only to a change within 90 days."""
    r = Repo(tmp_path / "app")
    _squash(r, "Initial commit", ANA, 1, month=1)
    _edit(r, {"release.sh": "version=0.0.9\n"}, "Add release script (#2)", ANA, "2024-01-02")
    _edit(r, {"release.sh": "version=0.1.0\n"}, "Update rooster to 0.1.0 (#3)", BEN, "2024-01-10")
    steps = "".join(f"step {i}\n" for i in range(25))
    preview = {"release.sh": "version=0.1.0-preview\n", "ci.yaml": steps}
    _edit(r, preview, "Release preview (#4)", BEN, "2024-09-01")
    undo = "Revert accidental release preview change (#5)"
    _edit(r, {"release.sh": "version=0.1.0\n"}, undo, ANA, "2024-09-02")
    assert _reverted(r)["org/app#3"] is False


def test_this_reverts_lines_are_read_and_revert_to_is_not_a_revert(tmp_path):
    """astral-sh/ruff (trial AD): #26339 "This reverts #26163 and its follow-up changes in
    ..." left #26163 unmarked; "[`pyflakes`] Revert to stable behavior ..." (a fix) was
    listed among reverts that name no PR."""
    r = Repo(tmp_path / "app")
    _squash(r, "Initial commit", ANA, 1)
    _squash(r, "Add the new solver (#5)", ANA, 2)
    _squash(r, "Follow up on the solver (#6)", ANA, 3)
    _squash(
        r,
        "Remove the new solver for now (#7)\n\nThis reverts #5 and its follow-up changes in #6.",
        BEN,
        4,
    )
    _squash(r, "[`pyflakes`] Revert to stable behavior for F401 (#8)", BEN, 5)
    reverted, notes = _import(r)
    assert reverted["org/app#5"] is True
    assert "#8" not in notes


def test_revert_to_naming_a_revert_is_still_a_revert(tmp_path):
    """gemini-cli (trial T): "Revert to default LICENSE (Revert #13449) (#13876)", the exact
    inverse of #13449's one-line LICENSE change, reverts it; the "Revert to ..." rule
    (trial AD: "Revert to stable behavior" is a fix) must not drop it."""
    r = Repo(tmp_path / "app")
    _edit(r, {"LICENSE": "Copyright 2025 Google LLC\n"}, "Initial commit", ANA, "2024-03-01")
    fix = {"LICENSE": "Copyright 2025 Google LLC and others\n"}
    _edit(r, fix, "Fix Copyright line in LICENSE (#5)", ANA, "2024-03-02")
    undo = "Revert to default LICENSE (Revert #5)  (#6)"
    _edit(r, {"LICENSE": "Copyright 2025 Google LLC\n"}, undo, BEN, "2024-03-03")
    assert _reverted(r)["org/app#5"] is True
