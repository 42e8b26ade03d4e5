"""DevLake reverts read with the git import's rules (certkit.connectors.devlake_reverts),
on PR rows as the import builds them: cases trial U found (no database needed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from certkit.connectors import devlake_reverts, git_reverts

T0 = datetime(2025, 3, 1, 12)


def _row(n: int, title: str, days: int, repo: str = "org/r1") -> dict:
    return {
        "id": f"{repo}#{n}",
        "devlake_id": f"github:GithubPullRequest:1:{repo}:{n}",
        "repo": repo,
        "number": n,
        "title": title,
        "status": "merged",
        "merged_date": T0 + timedelta(days=days),
        "_merge_sha": f"{n:040x}",
    }


def _mark(rows, bodies=None, commits=None) -> dict[int, bool]:
    bodies = bodies or {}
    raw = {
        r["devlake_id"]: {"head_ref": None, "description": bodies.get(r["number"], "")}
        for r in rows
    }
    by_id = {r["devlake_id"]: (commits or {}).get(r["number"], []) for r in rows}
    devlake_reverts.mark(rows, raw, by_id)
    return {r["number"]: r["reverted"] for r in rows}


def test_reverts_of_another_repository_name_nothing_here():
    """ "Reverts other/repo#5" marked this repository's own #5 reverted (trial U); a
    repository transferred to another owner keeps its name."""
    for body, want in [
        ("Reverts other/repo#5", False),
        ("Reverts org/r1#5", True),
        ("Reverts old-owner/r1#5", True),
    ]:
        got = _mark([_row(5, "Add x", 0), _row(6, "Revert add x", 1)], {6: body})
        assert got == {5: want, 6: False}, body


def test_a_commit_listed_on_two_prs_belongs_to_the_first_merged_in_any_row_order():
    """DevLake may list one commit on several PRs (a branch PR'd twice); which PR a "This
    reverts commit <sha>" hit depended on the database's row order (trial U: PostgreSQL and
    MariaDB disagreed)."""
    shared = {"sha": "c" * 40, "message": "Add x", "committed_date": T0}
    revert = {
        "sha": "d" * 40,
        "message": f'Revert "Add x"\n\nThis reverts commit {"c" * 40}.',
        "committed_date": T0 + timedelta(days=5),
    }
    commits = {7: [shared], 8: [shared], 9: [revert]}
    for order in ([7, 8, 9], [9, 8, 7], [8, 7, 9]):
        rows = {7: _row(7, "Add x", 1), 8: _row(8, "Add x again", 2), 9: _row(9, "Revert x", 6)}
        got = _mark([rows[n] for n in order], commits=commits)
        assert got == {7: True, 8: False, 9: False}, order


def test_every_revert_title_passes_the_pushdown_prefilter():
    """ "Backed out ..." was a revert to the import but never reached the pushdown (trial U)."""
    titles = [
        "Revert x",
        "Rollback x",
        "Roll back x",
        "Rolling back x",
        "Automated rollback of x",
        "Back out x",
        "Backout x",
        "Backed out x",
    ]
    for title in titles:
        assert git_reverts._REVERT_TITLE.match(title), title
        assert any(w in title.lower() for w in devlake_reverts._TITLE_WORDS), title


def test_a_pr_title_naming_a_number_names_that_pr():
    """review E (E8): a DevLake PR titled "Revert #5" or "revert: #5 ..." named nothing (a git
    import reads the number in the landed commit's subject)."""
    for title in ("Revert #5", "revert: #5 (broke the build)", "Rollback of PR #5"):
        got = _mark([_row(5, "Add x", 0), _row(6, title, 1)])
        assert got == {5: True, 6: False}, title
    assert _mark([_row(5, "Add x", 2), _row(6, "Revert #5", 1)]) == {5: False, 6: False}


def test_a_clone_known_only_by_its_folder_accepts_any_owner():
    """review E (E3): "Reverts newowner/newname#5" in a clone whose origin is a local path
    (named after its folder) was ignored."""
    got = _mark([_row(5, "Add x", 0, repo="repo"), _row(6, "Revert x", 1, repo="repo")],
                {6: "Reverts newowner/newname#5"})  # fmt: skip
    assert got == {5: True, 6: False}
