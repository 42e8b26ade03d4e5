"""Trial AF (huggingface/huggingface_hub since 2025): the git import's findings, each in a
throwaway repository built with ``git``.

- B1: an unlisted ``[bot]`` account that opens PRs for named people (Moon Bot: "Requested by
  @hanouticelina (Célina Hanouti) via Moon Bot." and ``Co-authored-by:`` that person) is named
  in a note; its PRs stay bot PRs without an agents file.
- B2: direct pushes are weighed against their author's PRs after the roster maps the
  author's addresses to one engineer: 26 CI pushes beside 354 PRs are not "the bulk" of
  anyone's work, and the note does not advise counting them as PRs.
- L-a: a service account whose PRs are titled "[Bot] ..." / "(automated commit)" is named in
  the note on added authors that look like automation.
- L-b: Hugging Face's own Claude address (``Agents+claude@huggingface.co``) and Codex's GitHub
  noreply address (``codex@users.noreply.github.com``) are AI assistance; people named Claude
  or Codex are not.
"""

from __future__ import annotations

import warnings

import polars as pl
from test_connectors_git import ANA, BEN, Repo

from certkit.connectors import read_git

MOON = ("moon-bot-app[bot]", "272242342+moon-bot-app[bot]@users.noreply.github.com")
HUB_BOT = ("hub-bot[bot]", "268564814+hub-bot[bot]@users.noreply.github.com")
DEPENDABOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")


def _read(r: Repo, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_git(r.path, rework_days=None, progress=False, **kw)


def _moon_history(tmp_path) -> Repo:
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2025-01-01T09:00:00Z")
    r.commit("Add a feature (#1)", ANA, "2025-01-02T09:00:00Z")
    for i, who in enumerate([ANA, ANA, BEN], start=2):  # Moon Bot's PRs for people
        r.commit(
            f"Support resource groups {i} (#{i})\n\n"
            f"Requested by @{who[0].split()[0].lower()} ({who[0]}) via Moon Bot.\n\n"
            "Co-authored-by: moonbot[bot] <moonbot[bot]@users.noreply.github.com>\n"
            f"Co-authored-by: {who[0]} <{who[1]}>",
            MOON,
            f"2025-01-{i + 2:02d}T09:00:00Z",
        )
    r.commit("Requested via Slack (#5)", MOON, "2025-01-08T09:00:00Z")  # nobody co-authored
    for i in range(6, 10):  # a release bot: a person fixed one of its 4 PRs
        trailer = "\n\nCo-authored-by: Ben Okafor <ben@corp.example>" if i == 6 else ""
        r.commit(f"Post-release: bump version (#{i}){trailer}", HUB_BOT, f"2025-02-{i:02d}T09:00:00Z")  # fmt: skip
    r.commit(
        "Bump actions (#10)\n\nCo-authored-by: Chen Wei <chen@corp.example>",
        DEPENDABOT,
        "2025-02-20T09:00:00Z",
    )
    return r


def test_a_bot_opening_prs_for_people_is_named_and_its_prs_stay_bot_prs(tmp_path):
    """huggingface_hub: moon-bot-app[bot]'s 11 PRs, 10 co-authored by the engineer who asked
    for them, were 11 of "48 by bots ... left out" and no note named them (main: none)."""
    imp = _read(_moon_history(tmp_path))
    notes = [n for n in imp.notes if "name people as co-authors" in n]
    assert len(notes) == 1, imp.notes
    (note,) = notes
    assert note.startswith(
        "org/app: 3 bot PR(s) name people as co-authors, by bot accounts no agents file "
        "lists: moon-bot-app[bot] (3 of its 4 PR(s), co-authored by ana@corp.example 2, "
        "ben@corp.example 1)."
    ), note
    assert "count for nobody" in note and "--agents (kind ai_agent)" in note
    assert "hub-bot" not in note  # 1 of its 4 PRs: a person's fix on a release bot's PR
    assert "dependabot" not in note  # listed automation
    prs = imp.pull_requests.filter(pl.col("author_id") == "moon-bot-app[bot]")
    assert prs.height == 4  # attribution is unchanged without an agents file
    assert prs["is_bot_author"].all() and (prs["ai_assisted"] == 0).all()


def test_listing_the_bot_as_an_agent_credits_its_human_co_author(tmp_path):
    """The note's advice does what it says: kind ai_agent credits the first human co-author."""
    agents = tmp_path / "agents.yaml"
    agents.write_text(
        "version: 1\nagents:\n  - id: moon-bot\n    kind: ai_agent\n    tool: moon-bot\n"
        "    emails: ['^(\\d+\\+)?moon-?bot(-app)?\\[bot\\]@users\\.noreply\\.github\\.com$']\n"
    )
    imp = _read(_moon_history(tmp_path), agents=agents)
    assert not [n for n in imp.notes if "name people as co-authors" in n]
    prs = imp.pull_requests.filter(pl.col("number").is_between(2, 4)).sort("number")
    assert prs["author_id"].to_list() == ["ana@corp.example", "ana@corp.example", "ben@corp.example"]  # fmt: skip
    assert (prs["ai_assisted"] == 1).all()
