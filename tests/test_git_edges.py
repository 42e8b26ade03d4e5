"""Edges of the git import found on real histories (trial G/H): a branch older than --since,
bors-ng batches, one patch cherry-picked under one (#N), Gerrit changes without a merge."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from test_connectors_git import ANA, BEN, CHEN, Repo
from test_git_gerrit import MIKE, _cid, _gerrit_merge

from certkit.connectors import read_git

BORS = ("bors[bot]", "26634292+bors[bot]@users.noreply.github.com")
GH = ("GitHub", "noreply@github.com")


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _prs(imp) -> dict[str, dict]:
    return {row["id"]: row for row in imp.pull_requests.to_dicts()}


def test_a_pr_merged_in_the_window_keeps_its_branch_from_before_it(tmp_path):
    """sqlalchemy 7608e2f048 (2022-09-29) submitted 48a0df55c1 (2022-06-29): with --since
    2022-09-01 the change was lost and its merge read as a branch sync."""
    r = Repo(tmp_path / "sqlalchemy", origin="https://github.com/sqlalchemy/sqlalchemy.git")
    r.commit("initial", MIKE, "2024-01-01T09:00:00Z")
    r.branch("doc")
    old = r.commit(f"Document functions\n\n{_cid(1)}", BEN, "2024-02-01T10:00:00Z", lines=41)
    r.checkout("main")
    r.branch("feature")
    r.commit("start the feature", ANA, "2024-02-10T10:00:00Z", lines=5)
    r.commit("finish the feature", ANA, "2024-03-03T10:00:00Z", lines=2)
    r.checkout("main")
    r.commit(f"window work\n\n{_cid(2)}", MIKE, "2024-03-02T10:00:00Z")
    merge = _gerrit_merge(r, "doc", "Document functions", "2024-03-05T10:00:00Z")
    r.merge("feature", "Merge pull request #7 from ana/feature\n\nThe feature", "2024-03-06T10:00Z")
    full = _prs(read_git(r.path, rework_days=None))
    imp = read_git(r.path, since="2024-03-01")
    prs = _prs(imp)
    doc = prs["sqlalchemy/sqlalchemy@" + old[:10]]
    assert (doc["author_id"], doc["additions"]) == ("ben@corp.example", 41)
    assert doc["created_date"] == _t("2024-02-01T10:00:00")
    assert doc["merged_date"] == _t("2024-03-05T10:00:00")  # the Gerrit merge, in the window
    feature = prs["sqlalchemy/sqlalchemy#7"]  # a GitHub merge's branch from before the window
    assert (feature["additions"], feature["created_date"]) == (7, _t("2024-02-10T10:00:00"))
    for pr_id, row in prs.items():  # the PRs merged in the window, as a full-history import
        assert {k: v for k, v in row.items() if "lines" not in k} == full[pr_id]
    commits = {row["sha"]: row for row in imp.commits.to_dicts()}
    assert commits[merge]["pr_id"] == doc["id"]
    assert commits[old]["pr_id"] == doc["id"]
    assert commits[old]["surviving_lines"] == 41  # the ledger reads it too
    notes = " ".join(imp.notes)
    assert "branch-sync" not in notes
    assert "2 commit(s) from before --since 2024-03-01T00:00:00Z were read" in notes


def test_a_window_pr_reads_neither_another_repository_nor_older_prs(tmp_path):
    """glib's MR merged 2023-11 held the subtree merge 7aafd8c7d7 of gobject-introspection:
    with --since 2023-01-01 its 687 older commits were read (673 in no PR) and 2 of its merges
    became PRs merged in 2020. A PR merged into the branch before --since is no PR either."""
    other = Repo(tmp_path / "gi", origin=None)
    other.commit("gi: initial", CHEN, "2023-01-01T09:00:00Z", file="gi.py")
    other.branch("fix")
    other.commit("gi: old fix", CHEN, "2023-05-01T09:00:00Z", lines=9, file="fix.py")
    other.checkout("main")
    other.merge("fix", "Merge branch 'fix'\n\nSee merge request GNOME/gi!5", "2023-06-01T09:00Z")
    other.commit("gi: window work", CHEN, "2024-03-02T09:00:00Z", lines=4, file="gi.py")
    r = Repo(tmp_path / "glib", origin="https://gitlab.gnome.org/GNOME/glib.git")
    r.commit("initial", ANA, "2023-01-01T09:00:00Z")
    r.branch("feature")
    r.commit("old work", ANA, "2024-02-10T10:00:00Z", lines=5)
    r.branch("part", "feature")
    r.commit("ben's part", BEN, "2024-02-12T10:00:00Z", lines=3)
    r.checkout("feature")
    r.merge("part", "Merge pull request #3 from ben/part", "2024-02-15T10:00:00Z")
    r.git("fetch", "-q", str(other.path), "main:gi")
    r.git(
        *("merge", "-q", "--no-ff", "--allow-unrelated-histories", "-m", "Merge gi", "gi"),
        env=Repo._env(ANA, "2024-03-03T10:00:00Z"),
    )
    r.commit("window work", ANA, "2024-03-04T10:00:00Z", lines=2)
    r.checkout("main")
    r.merge("feature", "Merge pull request #7 from ana/feature", "2024-03-06T10:00:00Z")
    full = _prs(read_git(r.path, rework_days=None))
    assert "glib#3" in {i.split("/")[-1] for i in full}  # merged before the window
    imp = read_git(r.path, since="2024-03-01")
    prs = _prs(imp)
    assert list(prs) == ["GNOME/glib#7"]  # no PR merged before --since
    assert prs["GNOME/glib#7"] == full["GNOME/glib#7"] | {
        k: v for k, v in prs["GNOME/glib#7"].items() if "lines" in k
    }
    commits = {row["subject"]: row for row in imp.commits.to_dicts()}
    assert commits["old work"]["pr_id"] == "GNOME/glib#7"
    early = [s for s, c in commits.items() if c["committed_date"] < _t("2024-03-01T00:00:00")]
    assert early == ["old work"]  # not gi's history, not #3's commits
    notes = " ".join(imp.notes)
    assert "1 commit(s) from before --since 2024-03-01T00:00:00Z were read" in notes


def test_each_pr_of_a_bors_ng_batch_is_a_pr(tmp_path):
    """pyo3 e5e8c7a6d 'Merge #2975 #3022 #3023': parents base + each PR's head."""
    r = Repo(tmp_path / "pyo3", origin="https://github.com/PyO3/pyo3.git")
    r.commit("initial", ANA, "2023-01-01T09:00:00Z")
    r.branch("a")
    r.commit("Add GILProtected", ANA, "2023-03-01T10:00:00Z", lines=3)
    r.commit("review fixes", ANA, "2023-03-02T10:00:00Z", lines=2)
    r.checkout("main")
    r.branch("b")
    r.commit("Fix function name shadowing", BEN, "2023-03-03T10:00:00Z", lines=4)
    r.checkout("main")
    r.branch("c")
    r.commit("Emit a better error", CHEN, "2023-03-04T10:00:00Z", lines=1)
    r.checkout("main")
    body = (
        "Merge #2975 #3022 #3023\n\n"
        "2975: RFC: Add GILProtected. r=davidhewitt a=adamreichold\n\nI would also like...\n\n"
        "3022: Fix function name shadowing r=davidhewitt a=mejrs\n\nFixes #3017\n\n"
        "3023: Emit a better error r=davidhewitt,adam a=mejrs\n"
    )
    date = "2023-03-23T08:04:11Z"
    r.git("merge", "-q", "--no-ff", "-m", body, "a", "b", "c", env=Repo._env(BORS, date))
    batch = r.git("rev-parse", "HEAD")
    r.branch("d")
    r.commit("one PR alone", BEN, "2023-03-24T10:00:00Z")
    r.checkout("main")
    r.git(
        *("merge", "-q", "--no-ff", "-m", "Merge #3030\n\n3030: one PR r=x a=y", "d"),
        env=Repo._env(BORS, "2023-03-25T10:00:00Z"),
    )
    imp = read_git(r.path, rework_days=None)
    prs = _prs(imp)
    assert set(prs) == {f"PyO3/pyo3#{n}" for n in (2975, 3022, 3023, 3030)}
    a, b, c = (prs[f"PyO3/pyo3#{n}"] for n in (2975, 3022, 3023))
    assert (a["author_id"], a["additions"], a["title"]) == (
        "ana@corp.example",
        5,
        "RFC: Add GILProtected.",
    )
    assert (b["author_id"], b["additions"], b["title"]) == (
        "ben@corp.example",
        4,
        "Fix function name shadowing",
    )
    assert (c["author_id"], c["additions"], c["title"]) == (
        "chen@corp.example",
        1,
        "Emit a better error",
    )
    assert {p["merged_date"] for p in (a, b, c)} == {_t("2023-03-23T08:04:11")}
    assert a["created_date"] == _t("2023-03-01T10:00:00")
    assert prs["PyO3/pyo3#3030"]["title"] == "3030: one PR r=x a=y"  # as any PR merge
    commits = imp.commits
    assert commits.filter(pl.col("sha") == batch)["pr_id"].item() == "PyO3/pyo3#2975"
    assert commits.filter(pl.col("pr_id") == "PyO3/pyo3#3022").height == 1  # not the merge
    assert "1 bors-ng batch merge(s) ('Merge #12 #13') merged 3 PRs" in " ".join(imp.notes)


def test_one_patch_cherry_picked_under_one_number_counts_its_lines_once(tmp_path):
    """xarray 18b91dca4 'Fix typo (#4181)' and its cherry-pick b637c876f: +1/-1, not +2/-2."""
    r = Repo(tmp_path / "xarray", origin="https://github.com/pydata/xarray.git")
    (r.path / "doc.txt").write_text("teh doc\n")
    r.git("add", "doc.txt")
    r.commit("initial", ANA, "2020-01-01T09:00:00Z")
    (r.path / "doc.txt").write_text("the doc\n")
    r.git("commit", "-qam", "Fix typo (#4181)", env=Repo._env(BEN, "2020-07-01T10:00:00Z", GH))
    typo = r.git("rev-parse", "HEAD")
    r.git("tag", "v1")
    r.branch("rel", "v1~1")  # the release branch gets the fix by a cherry-pick
    committer = {
        "GIT_COMMITTER_NAME": ANA[0],
        "GIT_COMMITTER_EMAIL": ANA[1],
        "GIT_COMMITTER_DATE": "2020-07-02T10:00:00Z",
    }
    r.git("cherry-pick", typo, env=committer)
    r.checkout("main")
    r.merge("rel", "Merge branch 'rel' into main", "2020-07-03T10:00:00Z")
    # two different patches with one number stay summed
    r.commit("Add docs (#4200)", CHEN, "2020-07-04T10:00:00Z", lines=3, committer=GH)
    r.commit("Add docs, part two (#4200)", CHEN, "2020-07-05T10:00:00Z", lines=2, committer=GH)
    imp = read_git(r.path, rework_days=None)
    prs = _prs(imp)
    fix = prs["pydata/xarray#4181"]
    assert (fix["additions"], fix["deletions"]) == (1, 1)
    assert imp.commits.filter(pl.col("pr_id") == fix["id"]).height == 2  # it keeps both
    assert (prs["pydata/xarray#4200"]["additions"], prs["pydata/xarray#4200"]["deletions"]) == (
        5,
        0,
    )
    notes = " ".join(imp.notes)
    assert "2 PR number(s) appear on several commits" in notes
    assert "in 1 of them some commits are one patch" in notes


def test_gerrit_changes_without_a_merge_are_named(tmp_path):
    """sqlalchemy: 396 changes with no Merge "..." have a commit date that may be a rebase."""
    r = Repo(tmp_path / "sqlalchemy", origin="https://github.com/sqlalchemy/sqlalchemy.git")
    r.commit("initial", MIKE, "2024-01-01T09:00:00Z")
    r.branch("a")
    r.commit(f"merged change\n\n{_cid(1)}", MIKE, "2024-01-02T10:00:00Z")
    r.checkout("main")
    r.commit(f"pushed change\n\n{_cid(2)}", BEN, "2024-01-02T11:00:00Z")
    _gerrit_merge(r, "a", "merged change", "2024-01-03T10:00:00Z")
    r.commit(
        f"rebased change\n\n{_cid(3)}", BEN, "2024-01-04T10:00:00Z", cdate="2024-01-05T10:00:00Z"
    )
    notes = " ".join(read_git(r.path, rework_days=None).notes)
    assert "1 of those changes were merged by fast-forward" in notes
    assert (
        "1 Gerrit changes have no merge commit: their merge date is their commit date, which "
        "may be a rebase rather than the submit"
    ) in notes
