"""Reverts as GitHub's revert button writes them (trial E: encode/httpx, pallets/flask), each in
a throwaway repository built with ``git``.

On a squash-merge repository the button's PR is squashed as ``Revert "<PR title>" (#M)``: the
PR title carries no number and the squash drops the ``This reverts commit`` body (httpx
#3192 reverting #3174). On a merge-commit repository the button's branch is
``revert-<N>-<branch>`` (flask #1912 reverting #1811, #1535 reverting #1534). Negative cases:
a revert of a direct commit whose subject equals a PR title, a title shared by two PRs
merged at the same moment, a revert inside its own PR.
"""

from __future__ import annotations

import warnings

import pytest
from test_connectors_git import ANA, BEN, CHEN, Repo

from certkit.connectors import read_git


def _squash(r: Repo, message: str, author, day: int, month: int = 3) -> str:
    return r.commit(message, author, f"2024-{month:02d}-{day:02d}T10:00:00Z")


def _reverted(r: Repo) -> dict[str, bool]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prs = read_git(r.path, rework_days=None).pull_requests
    return dict(zip(prs["id"].to_list(), prs["reverted"].to_list(), strict=True))


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
