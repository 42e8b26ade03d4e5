"""PR dates and credit from git that the commits' own dates get wrong (trial I: glib, python-sdk).

- glib !3830/!3907/!3924 imported gobject-introspection's 2005-2018 commits, rewritten and
  committed in 2024 by the MR's author: they were PRs created in 2005 by a 2005 author.
- GitLab "squash commits when merging" + a merge commit writes the squash commit at merge time
  (82 glib PRs created == merged entered cycle time at ~0 h).
- python-sdk's ``Merge branch 'v1.1.x'`` forward merges of release branches were PRs.
"""

from __future__ import annotations

from datetime import datetime

from test_connectors_git import ANA, BEN, CHEN, Repo

from certkit.connectors import read_git
from certkit.data.panel import APPROXIMATE_CREATED

OLD = ("Old Hacker", "old@gnome.example")
OLDER = ("Older Hacker", "older@gnome.example")


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _gitlab_merge(r: Repo, branch: str, n: int, merger, date: str) -> str:
    msg = f"Merge branch '{branch}' into 'main'\n\nTitle {n}\n\nSee merge request GNOME/glib!{n}"
    r.git("merge", "-q", "--no-ff", "-m", msg, branch, env=Repo._env(merger, date, merger, date))
    return r.git("rev-parse", "HEAD")


def _prs(r: Repo, **kw):
    imp = read_git(r.path, **kw)
    return {row["id"]: row for row in imp.pull_requests.to_dicts()}, " ".join(imp.notes)


def test_a_branch_of_imported_old_history_is_the_committers_pr(tmp_path):
    r = Repo(tmp_path / "glib", origin="https://gitlab.gnome.org/GNOME/glib.git")
    r.commit("initial", ANA, "2023-01-01T09:00:00Z")
    for n in (3374, 3375, 3376):  # MRs opened after !3373, merged in 2023-05
        r.branch(f"b{n}")
        r.commit(f"fix {n}", CHEN, f"2023-04-2{n - 3370}T10:00:00Z")
        r.checkout("main")
        _gitlab_merge(r, f"b{n}", n, ANA, f"2023-05-0{n - 3370}T10:00:00Z")
    # !3373: a contributor's MR of 2023-04, rebased and committed by a maintainer in 2024-06:
    # opened before 2023-05 (lower numbers are opened first), so not old history: unchanged
    r.branch("large-files")
    r.commit(
        "tests: >4GB", OLD, "2023-04-12T10:00:00Z", committer=BEN, cdate="2024-06-17T10:00:00Z"
    )
    r.commit("tests: fd", OLD, "2023-04-17T10:00:00Z", committer=BEN, cdate="2024-06-17T10:00:01Z")
    r.commit("tests: skip", BEN, "2024-06-17T10:00:02Z")
    r.checkout("main")
    _gitlab_merge(r, "large-files", 3373, ANA, "2024-06-17T12:00:00Z")
    # !3830: old commits (2005, 2008) rewritten and committed by Ben in 2024, plus Ben's own
    r.branch("import")
    r.commit("old 1", OLD, "2005-05-09T10:00:00Z", committer=BEN, cdate="2024-01-15T10:00:00Z")
    r.commit("old 2", OLDER, "2008-01-01T10:00:00Z", committer=BEN, cdate="2024-01-15T10:00:01Z")
    r.commit("old 3", OLD, "2006-01-01T10:00:00Z", committer=BEN, cdate="2024-01-15T10:00:02Z")
    r.commit("port it", BEN, "2024-01-15T11:00:00Z", lines=5)
    r.checkout("main")
    _gitlab_merge(r, "import", 3830, ANA, "2024-01-20T10:00:00Z")
    # a long-lived branch its own author rebased a year later: unchanged
    r.branch("stale")
    r.commit("stale 1", CHEN, "2022-10-18T10:00:00Z", committer=CHEN, cdate="2024-02-01T10:00:00Z")
    r.commit("stale 2", CHEN, "2022-10-19T10:00:00Z", committer=CHEN, cdate="2024-02-01T10:00:01Z")
    r.checkout("main")
    _gitlab_merge(r, "stale", 2980, ANA, "2024-02-02T10:00:00Z")
    # another's patch from a few months ago, rebased by a maintainer: unchanged
    r.branch("rebased")
    r.commit("fix", OLD, "2023-10-01T10:00:00Z", committer=BEN, cdate="2024-02-03T10:00:00Z")
    r.checkout("main")
    _gitlab_merge(r, "rebased", 3900, ANA, "2024-02-04T10:00:00Z")

    prs, notes = _prs(r)
    imp = prs["GNOME/glib#3830"]
    assert imp["author_id"] == "ben@corp.example"  # who committed the branch, not a 2005 author
    assert imp["created_date"] == _t("2024-01-15T10:00:00")  # its first commit's commit date
    assert imp["created_source"] == "imported_history"
    assert "imported_history" in APPROXIMATE_CREATED  # left out of cycle times
    assert imp["additions"] == 8  # every commit's lines stay in the PR
    stale = prs["GNOME/glib#2980"]
    assert (stale["author_id"], stale["created_source"]) == (
        "chen@corp.example",
        "branch_first_commit",
    )
    assert stale["created_date"] == _t("2022-10-18T10:00:00")
    rebased = prs["GNOME/glib#3900"]
    assert (rebased["author_id"], rebased["created_source"]) == (
        "old@gnome.example",
        "branch_first_commit",
    )
    otte = prs["GNOME/glib#3373"]
    assert (otte["author_id"], otte["created_source"]) == (
        "old@gnome.example",
        "branch_first_commit",
    )
    assert otte["created_date"] == _t("2023-04-12T10:00:00")
    assert "1 PR(s) bring in old history rewritten onto a new branch (GNOME/glib#3830)" in notes


def test_a_gitlab_squash_merge_is_a_squash(tmp_path):
    r = Repo(tmp_path / "glib", origin="https://gitlab.gnome.org/GNOME/glib.git")
    r.commit("initial", ANA, "2023-01-01T09:00:00Z")
    # !3306: the squash commit written at merge time by the merger (Ben), as the merge
    r.branch("squashed")
    r.commit("gio: fix", CHEN, "2023-04-14T17:00:01Z", committer=BEN, cdate="2023-04-14T17:00:01Z")
    r.checkout("main")
    _gitlab_merge(r, "squashed", 3306, BEN, "2023-04-14T17:00:01Z")
    # a quick MR authored an hour before its merge: a real cycle, unchanged
    r.branch("quick")
    r.commit(
        "quick fix", CHEN, "2023-04-15T09:00:00Z", committer=CHEN, cdate="2023-04-15T09:00:00Z"
    )
    r.checkout("main")
    _gitlab_merge(r, "quick", 3307, BEN, "2023-04-15T10:00:00Z")
    # author date earlier than the commit date, committed at merge time (a rebase): unchanged
    r.branch("rebased")
    r.commit(
        "rebased fix", CHEN, "2023-04-15T11:00:00Z", committer=BEN, cdate="2023-04-16T10:00:00Z"
    )
    r.checkout("main")
    _gitlab_merge(r, "rebased", 3308, BEN, "2023-04-16T10:00:00Z")

    # a commit GitHub's web editor wrote, merged by GitHub 49 s later: a real (short) cycle
    r.branch("web")
    gh = ("GitHub", "noreply@github.com")
    r.commit("Suggest forking", CHEN, "2023-04-17T10:00:00Z", committer=gh)
    r.checkout("main")
    msg = "Merge pull request #3309 from chen/web\n\nSuggest forking"
    r.git("merge", "-q", "--no-ff", "-m", msg, "web",
          env=Repo._env(CHEN, "2023-04-17T10:00:49Z", gh, "2023-04-17T10:00:49Z"))  # fmt: skip

    prs, notes = _prs(r)
    assert prs["GNOME/glib#3309"]["created_source"] == "branch_first_commit"
    sq = prs["GNOME/glib#3306"]
    assert (sq["author_id"], sq["created_source"]) == ("chen@corp.example", "squash_commit")
    assert prs["GNOME/glib#3307"]["created_source"] == "branch_first_commit"
    assert prs["GNOME/glib#3308"]["created_source"] == "branch_first_commit"
    assert "1 merge(s) bring in one commit written at merge time by the merger" in notes


def test_release_branch_merges_are_syncs_not_prs(tmp_path):
    r = Repo(tmp_path / "sdk", origin="https://github.com/modelcontextprotocol/python-sdk.git")
    r.commit("initial", ANA, "2024-09-01T09:00:00Z")
    r.branch("v1.1.x")
    r.commit("fix: Add constructor for McpError", CHEN, "2024-12-01T10:00:00Z")
    r.commit("build: bump version to v1.1.3", BEN, "2024-12-02T10:00:00Z")
    r.checkout("main")
    r.commit("feature on main", ANA, "2024-12-03T10:00:00Z")
    r.git("merge", "-q", "--no-ff", "-m", "Merge branch 'v1.1.x'", "v1.1.x",
          env=Repo._env(BEN, "2024-12-04T10:00:00Z"))  # fmt: skip
    r.checkout("v1.1.x")
    r.commit("fix: another", CHEN, "2024-12-05T10:00:00Z")
    r.checkout("main")
    r.git("merge", "-q", "--no-ff", "-m", "merge: Resolve conflicts from v1.1.x merge", "v1.1.x",
          env=Repo._env(BEN, "2024-12-06T10:00:00Z"))  # fmt: skip
    # an ordinary unnumbered mainline merge of a feature branch stays a PR
    r.branch("feature")
    r.commit("feature work", CHEN, "2024-12-07T10:00:00Z")
    r.checkout("main")
    r.git("merge", "-q", "--no-ff", "-m", "Merge branch 'feature'", "feature",
          env=Repo._env(BEN, "2024-12-08T10:00:00Z"))  # fmt: skip

    prs, notes = _prs(r)
    assert len(prs) == 1  # only the feature branch's merge
    (pr,) = prs.values()
    assert pr["author_id"] == "chen@corp.example" and pr["title"] == "Merge branch 'feature'"
    assert "2 merge(s) of a release or maintenance branch" in notes
    assert "2 branch-sync merge(s)" in notes
    assert "5 commit(s) were pushed directly (no PR), 3 of them brought in by sync merges" in notes


def test_release_branch_names():
    from certkit.connectors.git_dates import is_release_merge

    for s in (
        "Merge branch 'v1.1.x'",
        "Merge branch '2.0.x'",
        "Merge branch 'release/2.0'",
        "Merge branch 'release-1.2'",
        "Merge remote-tracking branch 'origin/maint-1.2'",
        "Merge branch 'stable-2.4'",
        "Merge branch 'v1.2-branch'",
        "merge: Resolve conflicts from v1.1.x merge",
    ):
        assert is_release_merge(s), s
    for s in ("Merge branch 'feature'", "Merge branch 'releasenotes-fix'", "Fix v1.1.x docs"):
        assert not is_release_merge(s), s


def test_ones_own_old_commits_under_another_address_are_not_imported_history(tmp_path):
    """Trial J (J9), glib !643/!3410: Philip Withnall's own 2012-2019 commits under an old
    address, rebased by him in 2023, were credited as "old history" to his new address."""
    r = Repo(tmp_path / "glib", origin="https://gitlab.gnome.org/GNOME/glib.git")
    r.commit("initial", ANA, "2023-01-01T09:00:00Z")
    old_self = ("Ben Okafor", "ben@old-employer.example")
    r.branch("revived")
    r.commit(
        "idea 1", old_self, "2012-03-01T10:00:00Z", committer=BEN, cdate="2023-06-01T10:00:00Z"
    )
    r.commit(
        "idea 2", old_self, "2012-03-02T10:00:00Z", committer=BEN, cdate="2023-06-01T10:00:01Z"
    )
    r.checkout("main")
    _gitlab_merge(r, "revived", 643, ANA, "2023-06-02T10:00:00Z")
    prs, notes = _prs(r)
    pr = prs["GNOME/glib#643"]
    assert pr["created_source"] == "branch_first_commit"
    assert pr["author_id"] == "ben@old-employer.example"  # as written (no identity file)
    assert "old history" not in notes
