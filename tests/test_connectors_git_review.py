"""Review systems that leave no ``Merge pull request`` commit, each in a throwaway repository.

Found on public histories (docs/connectors.md, "Git history"): golang/net (Gerrit: every
change rebased or cherry-picked onto the branch, named by ``Reviewed-on:``; before, 26 PRs out of
2,408 commits), GNOME/gnome-shell (GitLab with Marge-bot: ``Part-of: <.../merge_requests/N>``
on each rebased commit; before, 12 PRs out of 20,726 commits), rust-lang/cargo (bors: ``Auto
merge of #N - ...`` merges read as PRs without a number, and the PR numbers of histories merged
in from other repositories, ``Merge pull request #1 from ...`` five times, aggregated with
cargo's own #1).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest
from test_connectors_git import ANA, BEN, CHEN, Repo

from certkit.connectors import read_git
from certkit.data.dating import approximated_dates
from certkit.data.panel import APPROXIMATE_CREATED

GOPHER = ("Gopher Robot", "gobot@golang.org")
MARGE = ("Marge Bot", "gnome-sysadmin+marge-bot@gnome.org")
BORS = ("bors", "bors@rust-lang.org")


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _prs(imp) -> dict[str, dict]:
    return {row["id"]: row for row in imp.pull_requests.to_dicts()}


@pytest.fixture(scope="module")
def gerrit(tmp_path_factory):
    r = Repo(tmp_path_factory.mktemp("gerrit") / "net", origin="https://go.googlesource.com/net")
    r.commit("initial", ANA, "2024-03-01T09:00:00Z")
    # submitted by Gerrit with a rebase: the commit date is the submit time
    r.commit(
        "http2: fix a race\n\nWhy.\n\nChange-Id: I1\n"
        "Reviewed-on: https://go-review.googlesource.com/c/net/+/795600\n"
        "Reviewed-by: Chen Nguyen <chen@corp.example>",
        BEN,
        "2024-03-02T10:00:00Z",
        lines=3,
        committer=GOPHER,
        cdate="2024-03-04T10:00:00Z",
    )
    # the older URL form; a robot's own change stays a bot PR
    r.commit(
        "go.mod: update dependencies\n\nChange-Id: I2\n"
        "Reviewed-on: https://go-review.googlesource.com/12345",
        GOPHER,
        "2024-03-05T10:00:00Z",
        cdate="2024-03-05T11:00:00Z",
    )
    # a cherry-pick quoting the original change: its own (last) Reviewed-on wins
    r.commit(
        "[release] http2: fix a race\n\nChange-Id: I1\n"
        "Reviewed-on: https://go-review.googlesource.com/c/net/+/795600\n\n"
        "Change-Id: I3\nReviewed-on: https://go-review.googlesource.com/c/net/+/795999",
        CHEN,
        "2024-03-06T10:00:00Z",
        cdate="2024-03-07T10:00:00Z",
    )
    # Gerrit's "merge if necessary": the change on a side branch, then Merge "..."
    base = r.git("rev-parse", "HEAD")
    r.branch("change", base)
    r.commit(
        "net: add a knob\n\nReviewed-on: https://go-review.googlesource.com/#/c/796001/",
        ANA,
        "2024-03-08T10:00:00Z",
        lines=2,
        cdate="2024-03-09T10:00:00Z",
    )
    r.checkout("main")
    r.commit("direct push", BEN, "2024-03-08T12:00:00Z")
    r.merge("change", 'Merge "net: add a knob"', "2024-03-10T10:00:00Z", author=GOPHER)
    return r


def test_gerrit_changes_are_prs(gerrit):
    imp = read_git(gerrit.path)
    prs = {i.removeprefix("go.googlesource.com/"): row for i, row in _prs(imp).items()}
    assert sorted(prs) == ["net#12345", "net#795600", "net#795999", "net#796001"]
    fix = prs["net#795600"]
    assert (fix["author_id"], fix["number"], fix["additions"]) == ("ben@corp.example", 795600, 3)
    assert fix["created_date"] == _t("2024-03-02T10:00:00")
    assert fix["merged_date"] == _t("2024-03-04T10:00:00")  # the submit (rebase) time
    assert fix["created_source"] == "branch_first_commit"
    assert fix["title"] == "http2: fix a race"
    assert prs["net#795999"]["author_id"] == "chen@corp.example"
    assert prs["net#12345"]["is_bot_author"]  # Gopher Robot's own change
    knob = prs["net#796001"]
    assert (knob["author_id"], knob["additions"]) == ("ana@corp.example", 2)
    # Gerrit's own merge commit is not one more PR; the direct push is not a PR
    assert not any("@" in i for i in prs)
    assert "gobot@golang.org" not in imp.people["engineer_id"].to_list()
    notes = " ".join(imp.notes)
    assert "4 Gerrit change(s) (Reviewed-on: trailer) are PRs" in notes
    assert "2 commit(s) were pushed directly" in notes  # initial + direct push


@pytest.fixture(scope="module")
def marge(tmp_path_factory):
    r = Repo(
        tmp_path_factory.mktemp("marge") / "shell",
        origin="https://gitlab.gnome.org/GNOME/gnome-shell.git",
    )
    r.commit("initial", ANA, "2024-03-01T09:00:00Z")
    mr = "Part-of: <https://gitlab.gnome.org/GNOME/gnome-shell/-/merge_requests/{}>"
    # MR 4346: two commits rebased by Marge-bot at merge time
    r.commit(
        "unlockDialog: restrict markup\n\nWhy.\n\n" + mr.format(4346),
        BEN,
        "2024-03-02T10:00:00Z",
        lines=2,
        committer=MARGE,
        cdate="2024-03-05T18:00:00Z",
    )
    r.commit(
        "unlockDialog: escape titles\n\n" + mr.format(4346),
        BEN,
        "2024-03-03T10:00:00Z",
        lines=3,
        committer=MARGE,
        cdate="2024-03-05T18:00:00Z",
    )
    # MR 4350: fast-forwarded as written (no rebase): git keeps no merge time
    r.commit("panel: tidy\n\n" + mr.format(4350), CHEN, "2024-03-06T10:00:00Z")
    # a squash template with GitLab's line; Phabricator's line
    r.commit(
        "ci: bump templates\n\nSee merge request GNOME/gnome-shell!4351",
        ANA,
        "2024-03-07T10:00:00Z",
        cdate="2024-03-07T12:00:00Z",
    )
    r.commit(
        "[lld] fix relocation\n\nDifferential Revision: https://reviews.llvm.org/D12345",
        BEN,
        "2024-03-08T10:00:00Z",
        cdate="2024-03-08T15:00:00Z",
    )
    return r


def test_gitlab_merge_requests_without_merge_commits_are_prs(marge):
    imp = read_git(marge.path)
    prs = _prs(imp)
    assert sorted(prs) == ["GNOME/gnome-shell#4346", "GNOME/gnome-shell#4350",
                           "GNOME/gnome-shell#4351", "GNOME/gnome-shell#D12345"]  # fmt: skip
    mr = prs["GNOME/gnome-shell#4346"]
    assert (mr["author_id"], mr["additions"], mr["number"]) == ("ben@corp.example", 5, 4346)
    assert mr["created_date"] == _t("2024-03-02T10:00:00")  # the MR's first commit
    assert mr["merged_date"] == _t("2024-03-05T18:00:00")  # Marge-bot's rebase
    assert mr["created_source"] == "branch_first_commit"
    ff = prs["GNOME/gnome-shell#4350"]
    assert ff["created_source"] == "fast_forward"
    assert "fast_forward" in APPROXIMATE_CREATED  # its cycle time is left out
    phab = prs["GNOME/gnome-shell#D12345"]
    assert phab["number"] is None and phab["merged_date"] == _t("2024-03-08T15:00:00")
    assert "marge" not in " ".join(imp.people["engineer_id"].to_list())
    notes = " ".join(imp.notes)
    assert "3 GitLab merge request(s) merged without a merge commit" in notes
    assert "1 Phabricator revision(s)" in notes
    assert "1 of those changes were merged by fast-forward" in notes
    # the note the squash rule would give for several commits with one number is not given
    assert "appear on several commits" not in notes


def test_fast_forward_changes_are_named_in_data_health(marge):
    from certkit.connectors import to_dataset

    ds = to_dataset(read_git(marge.path))
    why = approximated_dates(ds).filter(pl.col("created_source") == "fast_forward")
    assert why["prs"].to_list() == [1]
    assert "fast-forward" in why["why"][0]


@pytest.fixture(scope="module")
def bors_and_subtree(tmp_path_factory):
    root = tmp_path_factory.mktemp("bors")
    # another repository's history, with its own PR #1, later merged in as a subtree
    other = Repo(root / "rustfix", origin=None)
    other.commit("Hello World", CHEN, "2023-01-01T09:00:00Z", file="lib.rs")
    other.branch("fix")
    other.commit("fix parsing", CHEN, "2023-01-02T09:00:00Z", lines=4, file="parse.rs")
    other.checkout("main")
    other.merge("fix", "Merge pull request #1 from chen/fix\n\nFix parsing", "2023-01-03T09:00:00Z")

    r = Repo(root / "cargo", origin="https://github.com/rust-lang/cargo.git")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    r.branch("test-compare")
    r.commit("docs(test): document", BEN, "2024-03-02T10:00:00Z", lines=2)
    r.checkout("main")
    r.merge(
        "test-compare",
        "Auto merge of #1 - ben:test-compare, r=ana\n\ndocs(test): Document Execs assertions",
        "2024-03-03T10:00:00Z",
        author=BORS,
    )
    r.git("fetch", "-q", str(other.path), "main:rustfix")
    when = "2024-03-04T10:00:00Z"
    r.git(
        *("merge", "-q", "--no-ff", "--allow-unrelated-histories"),
        *("-m", "Add 'crates/rustfix/'", "rustfix"),
        env=Repo._env(ANA, when),
    )
    return r


def test_bors_merges_and_another_repository_s_numbers(bors_and_subtree):
    imp = read_git(bors_and_subtree.path)
    prs = _prs(imp)
    own = prs["rust-lang/cargo#1"]
    assert (own["author_id"], own["additions"]) == ("ben@corp.example", 2)
    assert own["title"] == "docs(test): Document Execs assertions"
    assert own["merged_date"] == _t("2024-03-03T10:00:00")
    foreign = [row for i, row in prs.items() if i != "rust-lang/cargo#1" and row["number"] is None]
    foreign = [row for row in foreign if row["title"] == "Fix parsing"]
    assert len(foreign) == 1 and foreign[0]["author_id"] == "chen@corp.example"
    assert foreign[0]["id"].startswith("rust-lang/cargo@")
    assert "bors@rust-lang.org" not in imp.people["engineer_id"].to_list()
    notes = " ".join(imp.notes)
    assert "1 PR(s) were merged in another repository whose history was merged" in notes
    assert "appear on several commits" not in notes


def test_a_shortened_history_does_not_make_numbers_foreign(tmp_path):
    """``--since`` cuts first-parent chains: that is not another repository's history."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2023-01-01T09:00:00Z")
    r.branch("release")
    r.commit("backport (#5)", BEN, "2024-03-02T10:00:00Z", cdate="2024-03-02T10:00:00Z")
    r.checkout("main")
    r.commit("later work (#6)", ANA, "2024-03-03T10:00:00Z")
    r.git(
        *("merge", "-q", "--no-ff", "-m", "Merge branch 'release' into main", "release"),
        env=Repo._env(ANA, "2024-03-04T10:00:00Z"),
    )
    imp = read_git(r.path, since="2024-01-01")
    assert sorted(imp.pull_requests["id"].to_list()) == ["org/app#5", "org/app#6"]
    assert not any("another repository" in n for n in imp.notes)


def test_bitbucket_server_and_gitea_merges_are_numbered_prs(tmp_path):
    """Bitbucket Server's "Merge pull request #N in P/r from b to main" (its body lists the
    commits, not a title), Gitea/Forgejo's "Merge pull request 'Title' (#N) from b into main",
    and Forgejo's rebase merges with "Reviewed-on: .../pulls/N"."""
    r = Repo(tmp_path / "app", origin="https://forge.corp.example/org/app.git")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    r.branch("feature/ISSUE-1")
    r.commit("Updated jQuery", BEN, "2024-03-02T10:00:00Z", lines=2)
    r.checkout("main")
    r.merge(
        "feature/ISSUE-1",
        "Merge pull request #1 in FOO/app from feature/ISSUE-1 to main\n\n"
        "* commit '38560a7eed06e8d3f3f1aaf091befcdf8bf50fea':\n  Updated jQuery",
        "2024-03-03T10:00:00Z",
    )
    r.branch("feat/retry")
    r.commit("retry on 503", CHEN, "2024-03-04T10:00:00Z", lines=3)
    r.checkout("main")
    r.merge(
        "feat/retry",
        "Merge pull request 'Add retry (#9 follow-up)' (#12) from feat/retry into main\n\n"
        "Reviewed-on: https://forge.corp.example/org/app/pulls/12",
        "2024-03-05T10:00:00Z",
    )
    r.commit(
        "docs: tidy\n\nReviewed-on: https://forge.corp.example/org/app/pulls/13",
        BEN,
        "2024-03-06T10:00:00Z",
        cdate="2024-03-06T12:00:00Z",
    )
    prs = _prs(read_git(r.path))
    assert sorted(prs) == ["org/app#1", "org/app#12", "org/app#13"]
    bb, gitea, rebased = prs["org/app#1"], prs["org/app#12"], prs["org/app#13"]
    assert (bb["author_id"], bb["additions"], bb["title"]) == (
        "ben@corp.example",
        2,
        "Merge pull request #1 in FOO/app from feature/ISSUE-1 to main",
    )
    assert (gitea["author_id"], gitea["title"]) == ("chen@corp.example", "Add retry (#9 follow-up)")
    assert rebased["merged_date"] == _t("2024-03-06T12:00:00") and rebased["number"] == 13


def test_repositories_with_one_folder_name_keep_their_prs_apart(tmp_path):
    """Three snapshots imported together, each in a folder called `repo` with no GitHub
    origin: every PR id was `repo#N`, so two repositories' PR #1 could become one."""
    from certkit.errors import CertkitError

    repos = []
    for owner, who in (("pallets", ANA), ("encode", BEN)):
        r = Repo(tmp_path / owner / "repo", origin=None)
        r.commit("Initial commit", who, "2024-03-01T09:00:00Z")
        r.commit("Fix (#1)", who, "2024-03-02T09:00:00Z")
        repos.append(r.path)
    imp = read_git(repos)
    assert sorted(imp.pull_requests["id"].to_list()) == ["encode/repo#1", "pallets/repo#1"]
    assert any("share a folder name" in n for n in imp.notes)
    with pytest.raises(CertkitError, match="given twice"):
        read_git([repos[0], repos[0]])
    with pytest.raises(CertkitError, match="gives 'app' to two repositories"):
        read_git(repos, repo_names=["app", "app"])


def test_the_panel_opens_with_the_first_merge_not_an_old_first_commit(tmp_path):
    """cargo and golang/net imported --since 2022: PRs whose first commit was authored years
    earlier opened the panel in 2020 (2018), giving every engineer months of zero PRs that
    were never read (252 and 452 engineer-months), which moved the baseline."""
    import warnings

    import certkit as ck
    from certkit.connectors import to_dataset

    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2020-01-01T09:00:00Z")
    r.branch("old-idea")
    r.commit("start an old idea", BEN, "2021-02-01T09:00:00Z", cdate="2024-03-02T09:00:00Z")
    r.checkout("main")
    r.merge(
        "old-idea", "Merge pull request #5 from org/old-idea\n\nOld idea", "2024-03-03T09:00:00Z"
    )
    r.commit("Fix (#6)", ANA, "2024-05-02T09:00:00Z")
    imp = read_git(r.path, since="2024-01-01")
    old = imp.pull_requests.filter(pl.col("number") == 5)
    assert old["created_date"][0].year == 2021  # the branch's first commit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = ck.build_panel(to_dataset(imp), "month")
    assert str(panel["period"].min()) == "2024-03-01", panel["period"].min()


def test_data_health_says_what_git_dates_a_pr_by(gerrit):
    """golang/net's data-health page said "Every merged PR has a creation date the cycle
    time can use" about Gerrit changes dated by their first commit (trial D)."""
    import warnings

    from certkit.connectors import to_dataset
    from certkit.data.dating import first_commit_dates

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = to_dataset(read_git(gerrit.path))
    text = first_commit_dates(ds)
    assert text.startswith("4 of 4 merged PRs are dated by their branch's first commit"), text


def test_a_plain_since_date_is_its_midnight_utc(tmp_path):
    """git reads ``--since 2024-01-02`` as that day at the time of day it runs, so the same
    import gave other commits at another hour (trial H: 2 more commits after midnight than
    in the afternoon). A plain date is its midnight UTC, at any hour."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2023-01-01T09:00:00Z")
    r.commit("late (#1)", BEN, "2024-01-01T23:59:59Z", cdate="2024-01-01T23:59:59Z")
    r.commit("early (#2)", ANA, "2024-01-02T00:00:01Z", cdate="2024-01-02T00:00:01Z")
    r.commit("noon (#3)", ANA, "2024-01-02T12:00:00Z", cdate="2024-01-02T12:00:00Z")
    for since in ("2024-01-02", " 2024-01-02 "):
        imp = read_git(r.path, since=since, rework_days=None)
        assert sorted(imp.pull_requests["id"].to_list()) == ["org/app#2", "org/app#3"]
    imp = read_git(r.path, since="2024-01-02T12:00:00Z", rework_days=None)  # given as is
    assert imp.pull_requests["id"].to_list() == ["org/app#3"]


def test_a_release_robot_account_is_automation_not_an_engineer(tmp_path):
    """google-gemini/gemini-cli (trial T): "gemini-cli-robot <gemini-cli-robot@google.com>"
    wrote 153 changelog and version-bump PRs, counted as a never-certified engineer (the
    7th busiest); "robot" did not match the bot-like note either."""
    r = Repo(tmp_path / "repo")
    robot = ("gemini-cli-robot", "gemini-cli-robot@google.com")
    r.commit("feat: add x (#1)", ANA, "2024-03-01T10:00:00Z")
    r.commit("chore(release): bump version to 0.7.0 (#2)", robot, "2024-03-02T10:00:00Z")
    r.commit("chore(release): changelog for v0.7.0 (#3)", robot, "2024-03-03T10:00:00Z")
    prs = _prs(read_git(r.path))
    assert prs["org/app#2"]["is_bot_author"] and prs["org/app#3"]["is_bot_author"]
    assert not prs["org/app#1"]["is_bot_author"]
    assert "robot" not in prs["org/app#1"]["author_id"]
