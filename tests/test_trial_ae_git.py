"""Trial AE (getsentry/sentry-python since 2025): the git import's findings, each in a
throwaway repository built with ``git``.

- M1: ``github-actions[bot]`` is GitHub's listed automation, so a workflow's PR that a
  person's AI tool co-authored stays a bot PR (it became that person's AI-assisted PR).
- L4: Qwen Code's co-author line is AI assistance.
"""

from __future__ import annotations

import warnings

import polars as pl
from test_connectors_git import ANA, Repo

from certkit.connectors import read_git
from certkit.connectors.identity import load_agents

ACTIONS = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


def _prs(r: Repo, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = read_git(r.path, rework_days=None, **kw)
    return imp


def test_github_actions_bot_is_the_listed_github_automation():
    agents = load_agents()
    for name, email in [
        ACTIONS,
        (None, "github-actions[bot]@users.noreply.github.com"),
        ("github-actions", None),
    ]:
        got = agents.match(name, email)
        assert got is not None and got.id == "github" and got.kind == "automation", (name, email)
    assert agents.match(login="github-actions[bot]").id == "github"
    assert agents.match("Ana Silva", "ana@corp.example") is None


def test_a_workflow_pr_co_authored_by_a_person_and_claude_stays_a_bot_pr(tmp_path):
    """sentry-python #5524 "ci: 🤖 Update test matrix with new releases (02/24)": authored by
    the toxgen workflow's github-actions[bot], co-authored by a person and Claude; it was
    credited to that person as an AI-assisted PR ("written only by AI agents")."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2026-02-01T09:00:00Z")
    r.commit(
        "ci: 🤖 Update test matrix with new releases (02/24) (#5524)\n\n"
        "Update our test matrix with new releases of integrated frameworks and libraries.\n\n"
        "Co-authored-by: Ana Silva <ana@corp.example>\n"
        "Co-authored-by: Claude Opus 4.6 <noreply@anthropic.com>",
        ACTIONS,
        "2026-02-24T10:00:00Z",
        committer=("GitHub", "noreply@github.com"),
    )
    imp = _prs(r)
    pr = imp.pull_requests.row(by_predicate=pl.col("id") == "org/app#5524", named=True)
    assert pr["author_id"] == "github-actions[bot]" and pr["is_bot_author"] is True
    assert not any("written only by AI agents" in n for n in imp.notes)


def test_qwen_code_co_author_line_is_ai_assistance(tmp_path):
    """sentry-python #4703 names "Co-authored-by: Qwen-Coder <qwen-coder@alibabacloud.com>"
    (Qwen Code) beside a Claude line; alone it named no tool."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2025-08-01T09:00:00Z")
    r.commit(
        "feat(integrations): Add integration for `aiomysql` (#4703)\n\n"
        "Co-authored-by: Qwen-Coder <qwen-coder@alibabacloud.com>",
        ANA,
        "2025-08-02T09:00:00Z",
    )
    imp = _prs(r)
    pr = imp.pull_requests.row(by_predicate=pl.col("id") == "org/app#4703", named=True)
    assert pr["ai_assisted"] == 1 and pr["ai_tool"] == "qwen"
    assert pr["author_id"] == "ana@corp.example"
    assert load_agents().match("Qwen-Coder", "qwen-coder@alibabacloud.com").id == "qwen-code"
