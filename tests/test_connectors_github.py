"""GitHub connector: ``gh pr list --json`` exports and REST pull objects."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

import certkit
from certkit.connectors import read_git, read_github, to_dataset
from certkit.errors import CertkitError

FIX = Path(__file__).parent / "fixtures" / "connectors"
GH = FIX / "gh_prs.json"
IDS = FIX / "gh_identities.csv"


@pytest.fixture(scope="module")
def gh():
    return read_github(GH, identities=IDS)


def _t(s):
    return datetime.fromisoformat(s)


def test_rows_exact(gh):
    prs = gh.pull_requests.sort("number")
    assert prs["id"].to_list() == [f"org/app#{n}" for n in range(10, 18)]
    assert prs["author_id"].to_list() == [
        "ana",
        "ben",  # Copilot coding agent PR credited to the human co-author
        "chen",
        "devin-ai-integration[bot]",
        "devin-smith",
        "dependabot[bot]",
        "ben",
        "ana",
    ]
    assert prs["ai_tool"].to_list() == [
        "claude",
        "copilot",
        "codex",
        "devin",
        None,
        None,
        None,
        "cursor",
    ]
    assert prs["ai_assisted"].to_list() == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert prs["is_bot_author"].to_list() == [False, False, False, True, False, True, False, False]
    assert prs["reverted"].to_list() == [False] * 4 + [True] + [False] * 3
    # First review: not the author, not PENDING, not a bot reviewer.
    assert prs["first_review_date"].to_list()[0] == _t("2024-03-01T15:00:00")
    assert prs["first_review_date"].null_count() == 7
    assert prs["merged_date"].to_list()[-1] is None
    assert prs["closed_date"].to_list()[-1] == _t("2024-03-13T10:00:00")
    assert prs["additions"].to_list() == [120, 8, 15, 40, 3, 2, 1, 50]


def test_evidence_reasons(gh):
    ev = gh.ai_evidence
    by_pr = {pr: set(g["rule"]) for (pr,), g in ev.group_by("pr_id") if pr is not None}
    assert by_pr["org/app#10"] == {"claude-coauthor"}
    assert {"copilot-agent-login", "copilot-branch", "copilot-noreply"} <= by_pr["org/app#11"]
    assert by_pr["org/app#12"] == {"codex-task-link", "codex-branch", "codex-label"}
    assert by_pr["org/app#13"] == {"devin-bot-login", "devin-run-link"}
    # its <!-- CURSOR_SUMMARY --> is Cursor Bugbot's review summary, not authorship (trial Q)
    assert by_pr["org/app#17"] == {"cursor-made-with"}
    assert "org/app#14" not in by_pr


def test_people(gh):
    p = gh.people.sort("engineer_id")
    assert p["engineer_id"].to_list() == [
        "ana",
        "ben",
        "chen",
        "dependabot[bot]",
        "devin-ai-integration[bot]",
        "devin-smith",
    ]
    assert p["is_bot"].to_list() == [False, False, False, True, True, False]
    # PR 11 (Copilot agent) is credited to its co-author ben; PR 13 (Devin) has no human.
    assert gh.notes == [
        "gh_prs.json: 2 PR(s) opened by AI agents: 1 credited to a human co-author, 0 to the "
        "assignee, 0 to the human who merged them, 1 with no human to credit (kept as bot PRs, "
        "never engineers); export the assignees and mergedBy fields to credit more of them"
    ]


def test_loads_as_dataset(gh):
    with pytest.warns(certkit.CertkitWarning):
        ds = to_dataset(gh)
    assert ds.pull_requests.height == 8
    assert sorted(ds.engineers["engineer_id"]) == ["ana", "ben", "chen", "devin-smith"]


def test_repo_override_and_missing_optional_fields(tmp_path):
    items = json.loads(GH.read_text())
    for it in items:
        for f in ("reviews", "commits", "url"):
            it.pop(f)
    path = tmp_path / "svc.json"
    path.write_text(json.dumps(items))
    imp = read_github(path)
    assert imp.pull_requests["id"].str.starts_with("svc#").all()
    assert imp.pull_requests["first_review_date"].null_count() == 8
    assert any("no 'reviews' field" in n for n in imp.notes)
    assert any("no 'commits' field" in n for n in imp.notes)
    assert read_github(path, repo="org/svc").pull_requests["repo"].unique().to_list() == ["org/svc"]


def test_missing_required_field_names_the_gh_fields(tmp_path):
    items = json.loads(GH.read_text())
    del items[2]["additions"]
    path = tmp_path / "prs.json"
    path.write_text(json.dumps(items))
    with pytest.raises(
        CertkitError, match=r"item 3 \(PR #12\): missing field\(s\) additions.*--json number,"
    ):
        read_github(path)


def test_bad_json_and_bad_values(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[{"number": 1,\n "author": }]')
    with pytest.raises(CertkitError, match=r"line 2, column \d+: not valid JSON"):
        read_github(path)
    items = json.loads(GH.read_text())
    items[0]["createdAt"] = "yesterday"
    path.write_text(json.dumps(items))
    with pytest.raises(CertkitError, match=r"item 1 \(PR #10\): field createdAt should be an ISO"):
        read_github(path)
    with pytest.raises(CertkitError, match="does not exist"):
        read_github(tmp_path / "nope.json")


def test_rest_objects(tmp_path):
    single = {
        "number": 5,
        "user": {"login": "Copilot", "id": 198982749, "type": "Bot"},
        "created_at": "2024-05-01T10:00:00Z",
        "merged_at": "2024-05-01T12:00:00+02:00",
        "closed_at": "2024-05-01T10:00:00Z",
        "additions": 3,
        "deletions": 1,
        "title": "Agent fix",
        "body": "",
        "head": {"ref": "copilot/fix"},
        "base": {"repo": {"full_name": "org/api"}},
        "labels": [],
    }
    path = tmp_path / "rest.json"
    path.write_text(json.dumps([single]))
    row = read_github(path).pull_requests.row(0, named=True)
    assert row["id"] == "org/api#5"
    assert row["author_id"] == "copilot[bot]"
    assert row["ai_tool"] == "copilot"
    assert row["merged_date"] == _t("2024-05-01T10:00:00")
    simple = {k: v for k, v in single.items() if k not in ("additions", "deletions")}
    path.write_text(json.dumps([simple]))
    with pytest.raises(CertkitError, match="list endpoint"):
        read_github(path)


def test_combine_prefers_github_dates(tmp_path):
    """The same PR from git (squash, approximate dates) and gh (exact) appears once."""
    from test_connectors_git import ANA, Repo

    r = Repo(tmp_path / "app")
    r.commit("Add feature X (#10)", ANA, "2024-03-02T09:00:00Z")
    r.commit(
        "Speed up loader (#18)\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
        ANA,
        "2024-03-14T09:00:00Z",
    )
    imp = read_git(r.path, identities=IDS) + read_github(GH, identities=IDS)
    prs = imp.pull_requests
    assert prs.height == 9
    x = prs.filter(pl.col("id") == "org/app#10").row(0, named=True)
    assert x["source"] == "github"
    assert x["created_date"] == _t("2024-03-01T09:00:00")
    assert prs.filter(pl.col("id") == "org/app#18")["ai_tool"].item() == "copilot"


def _agent_pr(number: int, author: dict, **extra) -> dict:
    return {
        "number": number,
        "title": f"Agent PR {number}",
        "author": author,
        "createdAt": "2024-05-01T08:00:00Z",
        "mergedAt": "2024-05-01T12:00:00Z",
        "closedAt": "2024-05-01T12:00:00Z",
        "additions": 5,
        "deletions": 1,
        "body": "",
        "commits": [],
        "url": f"https://github.com/org/app/pull/{number}",
        **extra,
    }


def test_agent_prs_credited_to_assignee_then_merger(tmp_path):
    copilot = {"login": "Copilot", "is_bot": True}
    items = [
        _agent_pr(1, copilot, assignees=[{"login": "ana-gh"}], mergedBy={"login": "ben-gh"}),
        _agent_pr(2, copilot, assignees=[], mergedBy={"login": "ben-gh"}),
        _agent_pr(3, copilot, assignees=[], mergedBy={"login": "github-actions"}),
        _agent_pr(4, {"login": "claude"}, assignees=[], mergedBy=None),  # no type: the agent list
        _agent_pr(5, {"login": "dependabot", "is_bot": True}, mergedBy={"login": "ana-gh"}),
        _agent_pr(6, {"login": "claude-monet"}, mergedBy={"login": "ana-gh"}),  # a person
    ]
    path = tmp_path / "prs.json"
    path.write_text(json.dumps(items))
    imp = read_github(path, identities=IDS)
    prs = imp.pull_requests.sort("number")
    assert prs["author_id"].to_list() == [
        "ana",  # assignee wins over merger
        "ben",  # merger
        "copilot[bot]",  # merged by automation: no human
        "claude[bot]",
        "dependabot[bot]",  # automation PRs are never credited to a human
        "claude-monet",
    ]
    assert prs["is_bot_author"].to_list() == [False, False, True, True, True, False]
    assert prs["ai_tool"].to_list() == ["copilot"] * 3 + ["claude", None, None]
    assert imp.notes[-1:] == [
        "prs.json: 4 PR(s) opened by AI agents: 0 credited to a human co-author, 1 to the "
        "assignee, 1 to the human who merged them, 2 with no human to credit (kept as bot PRs, "
        "never engineers)"
    ]
    eng = imp.people.filter(~pl.col("is_bot"))["engineer_id"].sort().to_list()
    assert eng == ["ana", "ben", "claude-monet"]


def test_a_revert_pr_closed_without_merging_reverts_nothing(tmp_path):
    """A gh export's "Reverts org/app#14" counted whether or not that PR was merged; closed
    unmerged, it reverted nothing (the lead's last read of the session)."""
    prs = json.loads(GH.read_text())
    (revert,) = [p for p in prs if "Reverts org/app#14" in (p.get("body") or "")]
    revert |= {"mergedAt": None, "state": "CLOSED"}
    for key in ("mergedBy", "mergeCommit"):
        revert.pop(key, None)
    path = tmp_path / "prs.json"
    path.write_text(json.dumps(prs))
    got = read_github(path, identities=IDS).pull_requests
    assert got.filter(pl.col("number") == 14)["reverted"].to_list() == [False]
    merged = read_github(GH, identities=IDS).pull_requests
    assert merged.filter(pl.col("number") == 14)["reverted"].to_list() == [True]
