"""Gerrit without ``Reviewed-on:``, and other attribution errors found by trial G on real histories.

sqlalchemy's Gerrit writes no ``Reviewed-on:`` line: each change carries ``Change-Id: I<40 hex>``
and Gerrit's "merge if necessary" writes ``Merge "<change subject>" into main`` merges whose
second parent is the change. Before, the 2,824 commits since 2022-09 gave 193 PRs (the main
maintainer 0 PRs for 1,903 commits; the merges read as branch syncs); now 1,843.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from test_connectors_git import ANA, BEN, CHEN, Repo

from certkit.connectors import read_git

GERRIT = ("Gerrit Code Review", "gerrit@bbpush.zzzcomputing.com")
MIKE = ("Mike Bayer", "mike_mp@zzzcomputing.com")


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _cid(n: int) -> str:
    return f"Change-Id: I{n:040x}"


def _gerrit_merge(r: Repo, branch: str, subject: str, date: str) -> str:
    r.git(
        *("merge", "-q", "--no-ff", "-m", f'Merge "{subject}" into main', branch),
        env=Repo._env(MIKE, date, GERRIT, date),
    )
    return r.git("rev-parse", "HEAD")


@pytest.fixture(scope="module")
def sqla(tmp_path_factory):
    r = Repo(
        tmp_path_factory.mktemp("sqla") / "sqlalchemy",
        origin="https://github.com/sqlalchemy/sqlalchemy.git",
    )
    shas = {"initial": r.commit("initial", MIKE, "2024-03-01T09:00:00Z")}
    # a maintainer's change, submitted by a Gerrit merge two days after it was written
    r.branch("a")
    shas["a"] = r.commit(
        f"Accept any whitespace\n\nWhy.\n\nFixes: #13528\n{_cid(1)}",
        MIKE,
        "2024-03-02T10:00:00Z",
        lines=3,
    )
    r.checkout("main")
    # a change fast-forwarded onto main (no merge: git keeps no submit time)
    shas["b"] = r.commit(f"fix docs typo\n\n{_cid(2)}", BEN, "2024-03-03T10:00:00Z")
    shas["merge_a"] = _gerrit_merge(r, "a", "Accept any whitespace", "2024-03-04T10:00:00Z")
    # a contributor's GitHub PR mirrored into Gerrit, applied by the maintainer
    r.branch("c")
    shas["c"] = r.commit(
        "Add with_hint() to Exists\n\nPull request courtesy Chen.\n\nFixes: #8311\n"
        "Closes: #13502\nPull-request: https://github.com/sqlalchemy/sqlalchemy/pull/13502\n"
        f"Pull-request-sha: 03995ff560c271913ce733f345e3ed1367f15007\n\n{_cid(3)}",
        CHEN,
        "2024-03-05T10:00:00Z",
        lines=4,
        committer=MIKE,
        cdate="2024-03-06T10:00:00Z",
    )
    r.checkout("main")
    shas["merge_c"] = _gerrit_merge(r, "c", "Add with_hint() to Exists", "2024-03-07T10:00:00Z")
    # one Change-Id pushed twice (sqlalchemy bcb5c850f2 / 3b60c3f53e)
    shas["d1"] = r.commit(f"fix typo for #9174\n\n{_cid(4)}", MIKE, "2024-03-08T10:00:00Z")
    shas["d2"] = r.commit(f"fix typo for #9174\n\n{_cid(4)}", MIKE, "2024-03-08T10:02:00Z")
    # one GitHub PR split into two changes (sqlalchemy #10726): neither takes the number
    pr = "Pull-request: https://github.com/sqlalchemy/sqlalchemy/pull/10726"
    shas["e1"] = r.commit(f"Replace quoting\n\n{pr}\n\n{_cid(5)}", ANA, "2024-03-09T10:00:00Z")
    shas["e2"] = r.commit(f"Replace quoting (2)\n\n{pr}\n\n{_cid(6)}", MIKE, "2024-03-09T12:00:00Z")
    # a Gerrit merge of a commit without a Change-Id stays a sync merge; the commit a push
    r.branch("f")
    r.commit("release chores", MIKE, "2024-03-10T10:00:00Z")
    r.checkout("main")
    _gerrit_merge(r, "f", "release chores", "2024-03-10T11:00:00Z")
    # a revert of the maintainer's change names its sha
    shas["revert"] = r.commit(
        f'Revert "Accept any whitespace"\n\nThis reverts commit {shas["a"]}.\n\n{_cid(7)}',
        MIKE,
        "2024-03-11T10:00:00Z",
    )
    return r, shas


def test_gerrit_changes_named_only_by_change_id_are_prs(sqla):
    r, shas = sqla
    imp = read_git(r.path)
    prs = {row["id"]: row for row in imp.pull_requests.to_dicts()}
    repo = "sqlalchemy/sqlalchemy"
    a = prs[f"{repo}@{shas['a'][:10]}"]
    assert (a["author_id"], a["additions"], a["number"]) == ("mike_mp@zzzcomputing.com", 3, None)
    assert a["created_date"] == _t("2024-03-02T10:00:00")
    assert a["merged_date"] == _t("2024-03-04T10:00:00")  # the Gerrit merge's commit date
    assert a["created_source"] == "branch_first_commit"  # the merge keeps the submit time
    assert a["title"] == "Accept any whitespace"
    assert a["reverted"]
    b = prs[f"{repo}@{shas['b'][:10]}"]
    assert (b["author_id"], b["created_source"]) == ("ben@corp.example", "fast_forward")
    # the mirrored GitHub PR is numbered by it: the id a gh export of #13502 has
    c = prs[f"{repo}#13502"]
    assert (c["author_id"], c["number"], c["additions"]) == ("chen@corp.example", 13502, 4)
    assert c["merged_date"] == _t("2024-03-07T10:00:00")
    d = prs[f"{repo}@{shas['d1'][:10]}"]  # one PR for the Change-Id pushed twice
    assert d["merged_date"] == _t("2024-03-08T10:02:00") and d["additions"] == 2
    assert f"{repo}#10726" not in prs  # on two changes: not clean, neither takes it
    assert prs[f"{repo}@{shas['e1'][:10]}"]["author_id"] == "ana@corp.example"
    assert prs[f"{repo}@{shas['e2'][:10]}"]["author_id"] == "mike_mp@zzzcomputing.com"
    assert len(prs) == 7  # a, b, c, d, e1, e2, the revert; no Gerrit merge is a PR
    commits = {row["sha"]: row for row in imp.commits.to_dicts()}
    assert commits[shas["merge_a"]]["pr_id"] == a["id"]  # the merge that submitted it
    notes = " ".join(imp.notes)
    assert "7 Gerrit change(s) named only by a Change-Id: trailer" in notes
    assert "Gerrit merge that submitted it (2 merge(s)" in notes
    assert "1 Change-Id(s) appear on several commits" in notes
    assert "1 Gerrit change(s) mirror a GitHub pull request" in notes
    assert "1 branch-sync merge(s)" in notes  # only the merge of the commit without Change-Id
    assert "2 commit(s) were pushed directly" in notes  # initial + release chores
    assert "merged off the first-parent line" not in notes


def test_a_reviewed_on_change_submitted_by_a_gerrit_merge_is_merged_then(tmp_path):
    """The same submit time for golang/net-style changes that a Gerrit merge brought in."""
    r = Repo(tmp_path / "net", origin="https://go.googlesource.com/net")
    r.commit("initial", ANA, "2024-03-01T09:00:00Z")
    r.branch("change")
    r.commit(
        "net: add a knob\n\nReviewed-on: https://go-review.googlesource.com/c/net/+/796001",
        BEN,
        "2024-03-08T10:00:00Z",
        cdate="2024-03-09T10:00:00Z",
    )
    r.checkout("main")
    r.commit("direct push", ANA, "2024-03-08T12:00:00Z")
    _gerrit_merge(r, "change", "net: add a knob", "2024-03-10T10:00:00Z")
    imp = read_git(r.path)
    (knob,) = imp.pull_requests.to_dicts()
    assert knob["id"] == "go.googlesource.com/net#796001"
    assert knob["merged_date"] == _t("2024-03-10T10:00:00")
    assert not any("branch-sync" in n or "off the first-parent" in n for n in imp.notes)


def test_an_issue_number_inside_a_pr_branch_is_not_a_squash_merged_pr(tmp_path):
    """twisted 21181c1466 "fix TLS ... bindAddress= (#12325)" (the issue) on the branch of
    merge 64661601a1 "#12325 fix TLS ... (#12326)" was PR #12325, and #12326 lost its first
    commit (created 8 days late). A GitHub squash into a feature branch stays a PR."""
    gh = ("GitHub", "noreply@github.com")
    r = Repo(tmp_path / "twisted", origin="https://github.com/twisted/twisted.git")
    r.commit("initial", ANA, "2024-09-01T09:00:00Z")
    r.branch("12325-tls")
    r.commit("fix TLS bindAddress= (#12325)", BEN, "2024-09-29T10:00:00Z", lines=5)
    r.commit("apply review feedback", BEN, "2024-10-07T10:00:00Z", lines=2)
    r.checkout("main")
    r.merge(
        "12325-tls",
        "Merge pull request #12326 from twisted/12325-tls\n\n#12325 fix TLS bindAddress=",
        "2024-10-18T19:49:00Z",
    )
    r.branch("feature")
    r.branch("part", "feature")
    r.commit("part one", CHEN, "2024-10-20T10:00:00Z", lines=3)
    r.checkout("feature")
    r.git("merge", "-q", "--squash", "part")
    r.git(
        *("commit", "-q", "-m", "part one (#12400)"),
        env=Repo._env(CHEN, "2024-10-21T10:00:00Z", gh, "2024-10-21T10:00:00Z"),
    )
    r.commit("more feature", CHEN, "2024-10-22T10:00:00Z")
    r.checkout("main")
    r.merge("feature", "Merge pull request #12401 from twisted/feature", "2024-10-23T10:00:00Z")
    imp = read_git(r.path)
    prs = {row["number"]: row for row in imp.pull_requests.to_dicts()}
    assert sorted(prs) == [12326, 12400, 12401]
    tls = prs[12326]
    assert tls["created_date"] == _t("2024-09-29T10:00:00") and tls["additions"] == 7
    assert prs[12400]["additions"] == 3 and prs[12401]["additions"] == 1
    assert any("1 commit(s) ending in (#N) inside a numbered PR's branch" in n for n in imp.notes)


@pytest.mark.parametrize("since", [None, "2023-06-01"])
def test_a_merge_importing_another_repository_is_not_a_pr(tmp_path, since):
    """xarray b9b84949fa "Import datatree repository (#8656, #8688)" brought in datatree's
    history: one PR of 106 commits with a 512-day cycle time, credited to the earliest author
    of the window. With --since the datatree squash "(#5)" also joined xarray's own PR #5."""
    gh = ("GitHub", "noreply@github.com")
    other = Repo(tmp_path / "datatree", origin=None)
    other.commit("Initial commit", CHEN, "2023-01-01T09:00:00Z", file="tree.py")
    other.commit("tree work", CHEN, "2023-07-01T09:00:00Z", lines=40, file="tree.py")
    other.commit("tree fix (#5)", BEN, "2023-07-02T09:00:00Z", lines=3, committer=gh)
    r = Repo(tmp_path / "xarray", origin="https://github.com/pydata/xarray.git")
    r.commit("Initial commit", ANA, "2023-01-01T09:00:00Z")
    r.commit("array fix (#5)", ANA, "2023-07-03T09:00:00Z", lines=2, committer=gh)
    r.git("fetch", "-q", str(other.path), "main:datatree")
    r.git(
        *("merge", "-q", "--no-ff", "--allow-unrelated-histories"),
        *("-m", "Import datatree repository (#8656, #8688)", "datatree"),
        env=Repo._env(ANA, "2024-01-31T10:00:00Z"),
    )
    merge = r.git("rev-parse", "HEAD")
    imp = read_git(r.path, since=since)
    prs = {row["id"]: row for row in imp.pull_requests.to_dicts()}
    own = prs["pydata/xarray#5"]
    assert (own["author_id"], own["additions"]) == ("ana@corp.example", 2)
    assert f"pydata/xarray@{merge[:10]}" not in prs  # the import is no PR
    (tree_fix,) = [p for p in prs.values() if p["title"] == "tree fix"]
    assert tree_fix["number"] is None and tree_fix["author_id"] == "ben@corp.example"
    assert len(prs) == 2
    commits = {row["subject"]: row for row in imp.commits.to_dicts()}
    assert commits["tree work"]["pr_id"] is None
    notes = " ".join(imp.notes)
    assert f"1 merge(s) bring in another repository's history ({merge[:10]}" in notes
    # "tree work" and datatree's first commit are another repository's: in no PR, not pushes
    pushed = 0 if since else 1  # xarray's own first commit
    assert ("1 commit(s) were pushed directly" in notes) == bool(pushed)
    assert len(read_git(r.path, since=since, direct_commits="as_prs").pull_requests) == 2 + pushed


def test_commits_of_two_clones_of_one_project_count_once(tmp_path):
    """sqlalchemy main + a rel_2_0 clone: 1,245 commits were in both and counted twice (3,765
    PRs for 2,018), also after following the hint to name each with --repo-name."""
    from certkit.errors import CertkitError

    main = Repo(tmp_path / "sqlalchemy", origin="https://github.com/sqlalchemy/sqlalchemy.git")
    main.commit("initial", MIKE, "2024-03-01T09:00:00Z")
    main.commit("shared fix (#1)", BEN, "2024-03-02T09:00:00Z")
    main.branch("rel_2_0")
    main.commit("backport (#2)", ANA, "2024-03-03T09:00:00Z")
    main.checkout("main")
    main.commit("main only (#3)", CHEN, "2024-03-04T09:00:00Z")
    rel = tmp_path / "sa_rel20"
    main.git("clone", "-q", "--branch", "rel_2_0", str(main.path), str(rel))
    imp = read_git([main.path, rel])
    ids = sorted(imp.pull_requests["id"].to_list())
    assert ids == ["sa_rel20#2", "sqlalchemy/sqlalchemy#1", "sqlalchemy/sqlalchemy#3"]
    assert imp.commits["sha"].is_unique().all() and imp.commits.height == 4
    assert any("sa_rel20: 2 commit(s) are also in sqlalchemy/sqlalchemy" in n for n in imp.notes), (
        imp.notes
    )
    # both with the GitHub origin: refused, and the hint it gives does not count twice
    main.git("-C", str(rel), "remote", "set-url", "origin", main.git("remote", "get-url", "origin"))
    with pytest.raises(CertkitError, match="count once, in the first repository given"):
        read_git([main.path, rel])
    names = ["sqlalchemy/sqlalchemy", "sqlalchemy/sqlalchemy-rel20"]
    imp = read_git([main.path, rel], repo_names=names)
    assert imp.pull_requests.height == 3 and imp.commits.height == 4


def test_an_unknown_rev_names_the_remote_branch_of_that_name(tmp_path):
    """`--rev rel_2_0` in a fresh clone (only origin/rel_2_0) gave git's "ambiguous argument"."""
    from certkit.errors import CertkitError

    r = Repo(tmp_path / "sqlalchemy")
    r.commit("initial", MIKE, "2024-03-01T09:00:00Z")
    r.branch("rel_2_0")
    r.commit("backport (#2)", ANA, "2024-03-03T09:00:00Z")
    r.checkout("main")
    clone = tmp_path / "clone"
    r.git("clone", "-q", str(r.path), str(clone))
    with pytest.raises(CertkitError, match=r"did you mean origin/rel_2_0\?"):
        read_git(clone, rev="rel_2_0")
    assert read_git(clone, rev="origin/rel_2_0").pull_requests.height == 1
    with pytest.raises(CertkitError, match="unknown revision"):  # git's own words otherwise
        read_git(clone, rev="nope")


def test_a_change_cherry_picked_to_a_release_clone_is_one_pr(tmp_path):
    """sqlalchemy backports to rel_2_0 keep the Change-Id: with a clone of that branch in the
    import, the change and its cherry-pick were two PRs of one author."""
    main = Repo(tmp_path / "sqlalchemy", origin="https://github.com/sqlalchemy/sqlalchemy.git")
    main.commit("initial", MIKE, "2024-03-01T09:00:00Z")
    main.branch("rel_2_0")
    main.commit("release only", MIKE, "2024-03-01T10:00:00Z")
    main.checkout("main")
    fix = main.commit(f"fix a bug\n\n{_cid(9)}", BEN, "2024-03-02T09:00:00Z", lines=4)
    main.checkout("rel_2_0")
    main.git("cherry-pick", "-x", fix, env=Repo._env(MIKE, "2024-03-05T09:00:00Z"))
    main.commit(f"release fix\n\n{_cid(10)}", ANA, "2024-03-06T09:00:00Z")
    main.checkout("main")
    rel = tmp_path / "sa_rel20"
    main.git("clone", "-q", "--branch", "rel_2_0", str(main.path), str(rel))
    imp = read_git([main.path, rel])
    prs = {row["id"]: row for row in imp.pull_requests.to_dicts()}
    change = prs[f"sqlalchemy/sqlalchemy@{fix[:10]}"]
    assert (change["author_id"], change["additions"]) == ("ben@corp.example", 4)
    assert change["merged_date"] == _t("2024-03-02T09:00:00")  # not the backport's date
    assert sorted(p["title"] for p in prs.values()) == ["fix a bug", "release fix"]
    picked = imp.commits.filter(imp.commits["repo"] == "sa_rel20").to_dicts()
    by_subject = {c["subject"]: c["pr_id"] for c in picked}
    assert by_subject["fix a bug"] == change["id"]
    assert any("sa_rel20: 1 Gerrit change(s) carry the Change-Id" in n for n in imp.notes)


def test_a_squash_cherry_picked_to_a_release_clone_is_one_pr(tmp_path):
    """Trial H: with main and a rel_2_0 clone imported together, all 111 `sa_rel20#N`
    squash PRs were GitHub PRs already counted as `sqlalchemy#N` (`git cherry-pick -x`
    backports). A PR whose commits are all cherry-picked from one PR of a repository read
    before is that PR; a backport of several PRs, or of none, stays a PR of its own."""
    main = Repo(tmp_path / "sqlalchemy", origin="https://github.com/sqlalchemy/sqlalchemy.git")
    main.commit("initial", MIKE, "2024-03-01T09:00:00Z")
    main.branch("rel_2_0")
    main.checkout("main")
    fix = main.commit("fix a bug (#7)", BEN, "2024-03-02T09:00:00Z", lines=4)
    other = main.commit("other fix (#8)", ANA, "2024-03-02T10:00:00Z", lines=2)
    main.checkout("rel_2_0")
    main.git("cherry-pick", "-x", fix, env=Repo._env(MIKE, "2024-03-05T09:00:00Z"))
    main.commit("release only (#9)", CHEN, "2024-03-06T09:00:00Z")
    main.checkout("main")
    rel = tmp_path / "sa_rel20"
    main.git("clone", "-q", "--branch", "rel_2_0", str(main.path), str(rel))
    imp = read_git([main.path, rel], rework_days=None)
    prs = {row["id"]: row for row in imp.pull_requests.to_dicts()}
    assert sorted(prs) == ["sa_rel20#9", "sqlalchemy/sqlalchemy#7", "sqlalchemy/sqlalchemy#8"]
    assert prs["sqlalchemy/sqlalchemy#7"]["additions"] == 4  # the backport's lines not added
    assert prs["sqlalchemy/sqlalchemy#7"]["merged_date"] == _t("2024-03-02T09:00:00")
    picked = imp.commits.filter(imp.commits["repo"] == "sa_rel20")
    assert picked.filter(picked["subject"] == "fix a bug (#7)")["pr_id"].to_list() == [
        "sqlalchemy/sqlalchemy#7"
    ]
    assert any("sa_rel20: 1 PR(s) are cherry-picks" in n for n in imp.notes), imp.notes
    assert other  # a PR of main that nothing picked stays main's only


def test_a_change_id_from_a_local_hook_is_not_a_gerrit_change(tmp_path):
    """Gerrit's commit-msg hook writes Change-Id: before any review: on a GitHub PR's branch,
    or in a history where Gerrit never submitted anything, such commits are ordinary ones."""
    r = Repo(tmp_path / "app", origin="https://github.com/org/app.git")
    r.commit("initial", ANA, "2024-03-01T09:00:00Z")
    r.branch("feat")
    r.commit(f"feature\n\n{_cid(20)}", BEN, "2024-03-02T09:00:00Z", lines=2)
    r.commit(f"feature, more\n\n{_cid(21)}", BEN, "2024-03-03T09:00:00Z", lines=3)
    r.checkout("main")
    r.merge("feat", "Merge pull request #4 from org/feat\n\nFeature", "2024-03-04T09:00:00Z")
    r.commit(f"direct push\n\n{_cid(22)}", ANA, "2024-03-05T09:00:00Z")
    imp = read_git(r.path)
    (pr,) = imp.pull_requests.to_dicts()
    assert (pr["id"], pr["additions"]) == ("org/app#4", 5)
    notes = " ".join(imp.notes)
    assert "3 commit(s) carry a Gerrit Change-Id: but are read as ordinary commits" in notes
    assert "(2 inside a numbered PR's branch, 1 in a history of numbered PRs without" in notes
    assert "2 commit(s) were pushed directly" in notes
