"""Continue's traces (continuedev/continue, trial V): its own AI tool left them in 400+ commits
since 2025, and certkit's rules named none: "Co-authored-by: Continue <noreply@continue.dev>",
"Generated with [Continue](https://continue.dev)", continue[bot] and "Continue Agent
<agent@continue.dev>"; snyk-bot's fix PRs counted as an engineer's, and cubic's review
suggestions are not AI authorship."""

from __future__ import annotations

from test_connectors_git import ANA, BEN, Repo

from certkit.connectors import read_git

CONTINUE_BOT = ("continue[bot]", "230936708+continue[bot]@users.noreply.github.com")
SNYK = ("snyk-bot", "snyk-bot@snyk.io")


def test_continue_traces_are_ai_and_its_bot_prs_are_credited_to_their_human(tmp_path):
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2025-03-01T09:00:00Z")
    r.commit(
        "feat: tab autocomplete (#10)\n\nCo-Authored-By: Continue <noreply@continue.dev>",
        ANA,
        "2025-03-02T09:00:00Z",
    )
    r.commit(
        "fix: config reload (#11)\n\nGenerated with [Continue](https://continue.dev)",
        BEN,
        "2025-03-03T09:00:00Z",
    )
    r.commit(
        "chore: docs (#12)\n\nCo-authored-by: Ben Okafor <ben@corp.example>",
        CONTINUE_BOT,
        "2025-03-04T09:00:00Z",
    )
    r.commit("fix: upgrade lodash (#13)", SNYK, "2025-03-05T09:00:00Z")
    r.commit(
        "fix: typo (#14)\n\nCo-authored-by: cubic-dev-ai[bot] "
        "<191113872+cubic-dev-ai[bot]@users.noreply.github.com>",
        BEN,
        "2025-03-06T09:00:00Z",
    )
    prs = {p["number"]: p for p in read_git(r.path).pull_requests.to_dicts()}
    assert [prs[n]["ai_tool"] for n in (10, 11, 12)] == ["continue"] * 3
    assert prs[12]["author_id"] == "ben@corp.example" and not prs[12]["is_bot_author"]
    assert prs[13]["is_bot_author"]  # snyk-bot: automation, not an engineer
    assert prs[14]["ai_assisted"] == 0  # a review bot's accepted suggestion
