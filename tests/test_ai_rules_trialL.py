"""AI traces certkit missed on three real histories (trial L: aider, OpenHands, cline).

Every positive case is copied from a real commit (repository and sha in the docstring); every
new address comes with a near miss that must stay a person or stay non-AI.
"""

from __future__ import annotations

import polars as pl
import pytest

from certkit.connectors.attribution import (
    Evidence,
    add_agent_detections,
    coauthors,
    detect,
    load_rules,
    parse_trailers,
    tools_of,
    unknown_coauthor_notes,
)
from certkit.connectors.identity import bot_id, is_bot, load_agents

RULES = load_rules()
AGENTS = load_agents()


def _commit(author: tuple[str, str], message: str, committer: tuple[str, str] | None = None):
    """Detections and tool of one commit, as the git connector builds them."""
    committer = committer or author
    co = coauthors(parse_trailers(message, RULES.anywhere_keys))
    ev = Evidence(
        emails=sorted({author[1].lower(), committer[1].lower()}),
        names=[author[0], committer[0]],
        coauthors=co,
        messages=[message],
    )
    dets = detect(ev, RULES)
    add_agent_detections(dets, [(AGENTS.match(n, e), e.lower()) for n, e in [author, *co]])
    return dets, tools_of(dets)


# --- L1: aider's current default trailer ---------------------------------------------------


def test_aider_default_coauthor_trailer_is_aider():
    """Aider-AI/aider 308b1546a0 (#4300 era), aider's default since 15806aa6a (2025-06-25)."""
    msg = (
        "feat: add gpt-5.5 model settings across providers\n\n"
        "Co-authored-by: aider (gpt-5.4) <aider@aider.chat>"
    )
    dets, tool = _commit(("Paul Gauthier", "paul@aider.chat"), msg)
    assert tool == "aider"
    assert "aider-coauthor" in {d.rule for d in dets}
    # the older address still counts; the vendor's people do not
    assert _commit(("A", "a@example.com"), "x\n\nCo-authored-by: aider <noreply@aider.chat>")[1]
    assert not is_bot("Paul Gauthier", "paul@aider.chat", agents=AGENTS)
    assert _commit(("Paul Gauthier", "paul@aider.chat"), "fix: typo")[1] is None


# --- L4/L5: OpenHands ----------------------------------------------------------------------


def test_openhands_coauthor_is_ai_and_the_human_author_stays_a_person():
    """All-Hands-AI/OpenHands squash PRs: 843 carry this trailer since 2024-12."""
    msg = "Fix the settings modal (#9000)\n\nCo-authored-by: openhands <openhands@all-hands.dev>"
    dets, tool = _commit(("Engel Nyst", "enyst@users.noreply.github.com"), msg)
    assert tool == "openhands"
    assert not is_bot("Engel Nyst", "enyst@users.noreply.github.com", agents=AGENTS)
    for name, email in [
        ("OpenHands-Gemini", "openhands@all-hands.dev"),
        ("OpenHands-Claude", "openhands-claude@all-hands.dev"),
    ]:
        assert _commit(("X", "x@example.com"), f"s\n\nCo-authored-by: {name} <{email}>")[1] == (
            "openhands"
        )


def test_openhands_resolver_author_is_an_agent_not_an_engineer():
    """All-Hands-AI/OpenHands f0bb7de1c6 "Fix issue #8145: Add docs about runtime tests (#8146)",
    author ``OpenHands <opendevin@all-hands.dev>``; its GitHub account is openhands-agent."""
    author = ("OpenHands", "opendevin@all-hands.dev")
    assert is_bot(*author, agents=AGENTS)
    assert bot_id(*author, agents=AGENTS) == "openhands[bot]"
    assert bot_id("openhands", "openhands@all-hands.dev", agents=AGENTS) == "openhands[bot]"
    assert is_bot(login="openhands-agent", agents=AGENTS)
    assert _commit(author, "Fix issue #8145: Add docs about runtime tests (#8146)")[1] == (
        "openhands"
    )


@pytest.mark.parametrize(
    "name,email",
    [
        ("Xingyao Wang", "xingyao@all-hands.dev"),  # people on the vendor's domain
        ("Calvin Smith", "calvin@all-hands.dev"),
        ("John-Mason Shackelford", "john-mason@all-hands.dev"),
        ("OH", "openhands@example.com"),  # the agent's name on another domain
    ],
)
def test_people_at_all_hands_stay_people(name, email):
    assert not is_bot(name, email, agents=AGENTS)
    assert _commit((name, email), f"s\n\nCo-authored-by: {name} <{email}>")[1] is None


# --- L6: an agent's model address ----------------------------------------------------------


def test_agent_naming_its_model_is_the_tool_not_the_model_vendor():
    """All-Hands-AI/OpenHands ef502ccba (#9085, Engel Nyst): OpenHands wrote both trailers."""
    msg = (
        "Add CLI/vscode integration (#9085)\n\n"
        "Co-authored-by: OpenHands-Gemini <openhands@all-hands.dev>\n"
        "Co-authored-by: Claude 3.5 Sonnet <claude-3-5-sonnet@anthropic.com>"
    )
    dets, tool = _commit(("Engel Nyst", "enyst@users.noreply.github.com"), msg)
    assert tool == "openhands"
    assert "claude-model-email" in {d.rule for d in dets}  # kept as evidence


def test_a_model_address_alone_still_names_its_vendor_and_claude_code_still_counts():
    alone = "s\n\nCo-authored-by: Claude 3.5 Sonnet <claude-3-5-sonnet@anthropic.com>"
    assert _commit(("A", "a@example.com"), alone)[1] == "claude"
    both = (
        "s\n\nCo-authored-by: openhands <openhands@all-hands.dev>\n"
        "Co-Authored-By: Claude <noreply@anthropic.com>"
    )
    assert _commit(("A", "a@example.com"), both)[1] == "claude,openhands"
    # an agent address on Anthropic's domain is not a model address
    agent = "s\n\nCo-authored-by: Claude <claude@anthropic.com>"
    dets, tool = _commit(("A", "a@example.com"), agent + "\nCo-authored-by: x <noreply@aider.chat>")
    assert tool == "aider,claude"


# --- L10/L11/L12: Cline's own agents, Copilot's github.com address ---------------------------


@pytest.mark.parametrize(
    "author,message",
    [
        # cline/cline 26ee3abf82: PR of Cline's cloud agent app
        (("cline-cloud[bot]", "276134852+cline-cloud[bot]@users.noreply.github.com"), "fix: x"),
        # cline/cline c18d9478ba (#10667, Bee)
        (
            ("Bee", "68532117+abeatrix@users.noreply.github.com"),
            "fix: y (#10667)\n\nCo-authored-by: Cline Agent <cline-agent@users.noreply.github.com>",
        ),
        # cline/cline 94f897f559
        (
            ("Dominic Cooney", "dominic.cooney@cline.bot"),
            "s\n\nCo-authored-by: Cline Cloud Agent <cline-cloud-agent@users.noreply.github.com>",
        ),
        (("Cline Bot", "bot@cline.bot"), "fix(sdk): cache remote config outside workspaces"),
        (("Cline Bot", "dev@cline.bot"), "fix(vscode): strip images"),  # 527dba177a
        (("Cline", "cline@cline.bot"), "fix: update workflows docs link"),  # 87f44fbf3f
        (("Cline Agent", "agent@cline.bot"), "Fix: use mutable array type"),  # 27662a7963
    ],
)
def test_cline_agents_are_cline(author, message):
    assert _commit(author, message)[1] == "cline"


def test_cline_cloud_bot_is_the_cline_agent():
    """cline/cline #12722: cline-cloud[bot] PR co-authored by Dominic Cooney."""
    email = "276134852+cline-cloud[bot]@users.noreply.github.com"
    assert bot_id("cline-cloud[bot]", email, agents=AGENTS) == "cline[bot]"
    assert AGENTS.match("cline-cloud[bot]", email).kind == "ai_agent"
    assert AGENTS.match(login="cline-cloud").id == "cline"


@pytest.mark.parametrize(
    "name,email",
    [
        ("Patsy Cline", "patsy@cline.bot"),  # a person at the vendor
        ("abeatrix", "beatrix@cline.bot"),
        ("Cline", "cline@example.com"),  # the name alone, off the vendor's domain
        ("Cline Evaluation", "cline@example.com"),
        ("Claude Monet", "claude.monet@example.com"),
    ],
)
def test_cline_near_misses_stay_people(name, email):
    assert not is_bot(name, email, agents=AGENTS)
    assert _commit((name, email), f"s\n\nCo-authored-by: {name} <{email}>")[1] is None


def test_the_cline_account_address_counts_only_as_a_coauthor():
    """cline/cline 51784a3bf1 (#13144): cline-cloud[bot] names "Cline
    <cline@users.noreply.github.com>" (the account that owns cline/cline) as co-author: the PR is
    Cline's, with no human to credit. The same address as a commit author is not an agent."""
    msg = (
        "docs: add Qwen3.8 Max to ClinePass model list and reference pricing (#13144)\n\n"
        "Co-authored-by: Cline <cline@users.noreply.github.com>"
    )
    bot = ("cline-cloud[bot]", "276134852+cline-cloud[bot]@users.noreply.github.com")
    dets, tool = _commit(bot, msg)
    assert tool == "cline"
    assert "cline@users.noreply.github.com" in {d.evidence for d in dets}  # not a human co-author
    account = ("Cline", "cline@users.noreply.github.com")
    assert not is_bot(*account, agents=AGENTS)
    assert _commit(account, "chore: release 3.20")[1] is None
    # another user's no-reply address with "cline" in it stays a person
    other = "s\n\nCo-authored-by: Patsy Cline <12345+patsycline@users.noreply.github.com>"
    assert _commit(("A", "a@example.com"), other)[1] is None


def test_copilot_github_address_is_copilot():
    """cline/cline 71164e97c2 (Bee): Co-authored-by: Copilot <copilot@github.com>."""
    msg = "s\n\nCo-authored-by: Copilot <copilot@github.com>"
    assert _commit(("Bee", "68532117+abeatrix@users.noreply.github.com"), msg)[1] == "copilot"
    near = "s\n\nCo-authored-by: Copilot <copilot@example.com>"
    assert _commit(("Bee", "b@example.com"), near)[1] is None


# --- L3: a model name appended to the author's name ----------------------------------------


def test_model_name_suffix_is_ai_of_unknown_tool():
    """Aider-AI/aider e91efda8f: author "Ali Ayas (claude-sonnet-4-20250514)"."""
    author = ("Ali Ayas (claude-sonnet-4-20250514)", "mali@maliayas.com")
    dets, tool = _commit(author, "feat: add support for disabling thinking tokens with value 0")
    assert tool == "other"
    assert {d.rule for d in dets} == {"model-name-suffix"}
    for name in ["AJ (@techfren)", "Jane (gpt team)", "Ali Ayas"]:
        assert _commit((name, "a@example.com"), "s")[1] is None


# --- L9: a frequent co-author no rule names ------------------------------------------------


def _frame(rows: list[tuple[str, str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["pr_id", "author_email", "trailers"], orient="row"
    ).with_columns(pl.lit(None, pl.Utf8).alias("sha"))


def test_unknown_frequent_coauthor_is_named_in_a_note():
    """OpenHands before it was known: 880 of 2,869 PRs co-authored, 3 commits of its own."""
    mystery = "Co-authored-by: helper <helper@agent.example>"
    rows = [(f"r#{i}", f"dev{i % 7}@example.com", mystery) for i in range(12)]
    rows += [(f"r#{i}", f"dev{i % 7}@example.com", None) for i in range(12, 100)]
    # a colleague who pairs a lot but also commits a lot is not named
    pair = "Co-authored-by: Pat <pat@example.com>"
    rows += [(f"r#{i}", "dev1@example.com", pair) for i in range(100, 115)]
    rows += [(f"r#{i}", "pat@example.com", None) for i in range(115, 135)]
    notes = unknown_coauthor_notes(_frame(rows), 135, RULES, AGENTS)
    assert len(notes) == 1
    assert "12 PRs (9%) are co-authored by 'helper <helper@agent.example>'" in notes[0]
    assert "--agents" in notes[0]
    # known agents and fewer than 10 PRs are not named; a share is asked for only when given
    known = "Co-authored-by: openhands <openhands@all-hands.dev>"
    rows2 = [(f"r#{i}", "dev@example.com", known) for i in range(20)]
    assert unknown_coauthor_notes(_frame(rows2), 20, RULES, AGENTS) == []
    assert unknown_coauthor_notes(_frame(rows), 1000, RULES, AGENTS, min_share=0.05) == []
    assert unknown_coauthor_notes(_frame(rows[:9]), 9, RULES, AGENTS) == []  # < 10 PRs


def test_a_person_coauthoring_from_a_second_address_is_not_taken_for_an_agent():
    """encode/starlette: Scirlat Danut authored 31 squashed PRs, each with a
    ``Co-authored-by: Scirlat Danut <scirlatdanut@scirlats-mini.lan>`` line from another
    machine's git config; that address commits nothing, but the name is an author's."""
    me = "Co-authored-by: Scirlat Danut <scirlatdanut@scirlats-mini.lan>"
    rows = [(f"r#{i}", "danut@example.com", me) for i in range(31)]
    rows += [(f"r#{i}", f"dev{i % 5}@example.com", None) for i in range(31, 200)]
    names = ["Scirlat Danut"] * 31 + [f"Dev {i % 5}" for i in range(31, 200)]
    frame = _frame(rows).with_columns(pl.Series("author_name", names))
    assert unknown_coauthor_notes(frame, 200, RULES, AGENTS) == []
    # the same rows under a name nobody commits as are still named
    other = frame.with_columns(pl.col("trailers").str.replace("Scirlat Danut", "Helper"))
    assert len(unknown_coauthor_notes(other, 200, RULES, AGENTS)) == 1


def test_an_address_the_identity_file_maps_is_a_person_not_an_agent():
    """fastapi (trial P, P6): 'svlandeg <svlandeg@github.com>' (24 PRs) and 'Valentyn
    Druzhynin <v.druzhynin@zakaz.global>' (16) were offered as possible AI agents although
    the identity file given to the import maps both to roster engineers."""
    from certkit.connectors.identity import Identities

    me = "Co-authored-by: Valentyn Druzhynin <v.druzhynin@zakaz.global>"
    rows = [(f"r#{i}", f"dev{i % 5}@example.com", me) for i in range(16)]
    rows += [(f"r#{i}", f"dev{i % 5}@example.com", None) for i in range(16, 200)]
    frame = _frame(rows)
    assert len(unknown_coauthor_notes(frame, 200, RULES, AGENTS)) == 1  # no identity file
    by_email = Identities(by_email={"v.druzhynin@zakaz.global": "valentyn"})
    assert unknown_coauthor_notes(frame, 200, RULES, AGENTS, ids=by_email) == []
    by_name = Identities(by_name={"valentyn druzhynin": "valentyn"})
    assert unknown_coauthor_notes(frame, 200, RULES, AGENTS, ids=by_name) == []
    other = Identities(by_email={"someone@else.example": "x"})
    assert len(unknown_coauthor_notes(frame, 200, RULES, AGENTS, ids=other)) == 1


def test_the_human_credited_for_agent_prs_is_not_offered_as_an_agent():
    """browser-use (trial Q, Q10): 'mailmertunsal <mailmertunsal@gmail.com>' co-authored 33
    PRs and authored no commit (Cursor Agent wrote them), and the same import credited that
    address with 23 of them as their human: it was also offered as a possible AI agent."""
    me = "Co-authored-by: mailmertunsal <mailmertunsal@gmail.com>"
    rows = [(f"r#{i}", "cursoragent@cursor.com", me) for i in range(33)]
    rows += [(f"r#{i}", f"dev{i % 5}@example.com", None) for i in range(33, 300)]
    frame = _frame(rows)
    assert len(unknown_coauthor_notes(frame, 300, RULES, AGENTS)) == 1
    credited = {"mailmertunsal@gmail.com", "dev1@example.com"}
    assert unknown_coauthor_notes(frame, 300, RULES, AGENTS, credited=credited) == []


# --- L13: accepted suggestions of AI review bots ------------------------------------------


def test_ai_review_bot_coauthors_are_automation_not_ai(tmp_path):
    """cline/cline since 2025-08: 34 commits co-authored by greptile-apps[bot], 28 by
    ellipsis-dev[bot] (suggested changes the author accepted); docs/connectors.md says they are
    not AI evidence, and how to opt in."""
    msg = (
        "fix: guard against empty model list\n\n"
        "Co-authored-by: ellipsis-dev[bot] <65095814+ellipsis-dev[bot]@users.noreply.github.com>\n"
        "Co-authored-by: greptile-apps[bot] "
        "<165735046+greptile-apps[bot]@users.noreply.github.com>"
    )
    assert _commit(("Bee", "68532117+abeatrix@users.noreply.github.com"), msg)[1] is None
    for name, email in coauthors(parse_trailers(msg)):
        assert is_bot(name, email, agents=AGENTS)
    own = tmp_path / "rules.yaml"
    own.write_text(
        "version: 1\nrules:\n"
        "  - {id: ai-review-suggestion, tool: ai_review, field: coauthor_email, regex: true,\n"
        "     pattern: '^(\\d+\\+)?(greptile-apps|ellipsis-dev)\\[bot\\]@users\\.noreply\\.github\\.com$'}\n",
        encoding="utf-8",
    )
    found = detect(
        Evidence(coauthors=coauthors(parse_trailers(msg)), messages=[msg]), load_rules(own)
    )
    assert {d.tool for d in found} == {"ai_review"}


def test_an_import_names_a_frequent_unknown_coauthor_and_strips_a_model_suffix(tmp_path):
    """Through ``read_git``: All-Hands-AI/OpenHands (L9) co-authored 880 of 2,869 PRs as
    ``openhands <openhands@all-hands.dev>`` and the report said "0% AI" without a word; an
    agent certkit does not know is named in a note. Aider-AI/aider e91efda8f (L3): "Ali Ayas
    (claude-sonnet-4-20250514)" is Ali Ayas."""
    from test_connectors_git import ANA, BEN, Repo

    from certkit.connectors import read_git

    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    for i in range(12):
        r.commit(
            f"Fix issue #{i} (#{100 + i})\n\nCo-authored-by: newagent <agent@newagent.example>",
            BEN,
            f"2024-03-{2 + i:02d}T10:00:00Z",
        )
    r.commit("Add a test (#200)", ("Ali Ayas (claude-sonnet-4-20250514)", "mali@maliayas.com"),
             "2024-03-20T10:00:00Z")  # fmt: skip
    imp = read_git(r.path, rework_days=None)
    notes = " ".join(imp.notes)
    assert "12 PRs (92%) are co-authored by 'newagent <agent@newagent.example>'" in notes
    people = dict(zip(imp.people["engineer_id"], imp.people["name"], strict=True))
    assert people["mali@maliayas.com"] == "Ali Ayas"  # main: the suffix kept
    row = imp.pull_requests.filter(pl.col("id") == "org/app#200").row(0, named=True)
    assert row["ai_tool"] == "other"


def test_the_unknown_coauthor_note_counts_prs_not_shares():
    """cline/cline (trial M, M8): an unlisted "Cline Agent <cline-agent@users.noreply.github.
    com>" co-authored 13 of 3,061 PRs (0.4%) and committed nothing itself: a 5% share hid
    it. A person who co-authors as often commits work of their own."""
    from certkit.connectors.attribution import unknown_coauthor_notes

    agent = "Co-authored-by: Helper Agent <helper-agent@users.noreply.github.com>"
    pair = "Co-authored-by: Pat Pair <pat@corp.example>"
    rows = [(f"r#{i}", "ana@corp.example", agent) for i in range(13)]
    rows += [(f"r#{100 + i}", "ben@corp.example", pair) for i in range(13)]
    rows += [(f"r#{200 + i}", "pat@corp.example", "") for i in range(5)]  # Pat's own work
    commits = pl.DataFrame(
        {
            "pr_id": [r[0] for r in rows],
            "author_email": [r[1] for r in rows],
            "trailers": [r[2] for r in rows],
        }
    )
    notes = unknown_coauthor_notes(commits, 3061)
    assert len(notes) == 1  # main: none (13 PRs are under 5% of 3,061)
    assert "13 PRs (0%) are co-authored by 'Helper Agent <helper-agent@" in notes[0]


def test_a_cursor_bugbot_summary_is_a_review_not_authorship():
    """browser-use/browser-use (trial Q, Q1): all 136 ``<!-- CURSOR_SUMMARY -->`` blocks in
    its squash commits since 2025 were Cursor Bugbot's PR summaries ("Written by Cursor
    Bugbot for commit ..."); counted as Cursor authorship they were 111 of its 243 AI PRs."""
    body = (
        "fix: CDP URL only in sessions --json (#3901)\n\n<!-- CURSOR_SUMMARY -->\n---\n\n"
        "> [!NOTE]\n> **Medium Risk**\n> Changes DOM capture heuristics.\n\n"
        "<sup>Written by [Cursor Bugbot](https://cursor.com/dashboard?tab=bugbot) for commit "
        "85ddbfe. This will update automatically on new commits.</sup>\n"
        "<!-- /CURSOR_SUMMARY -->"
    )
    dets, tool = _commit(("Magnus Müller", "magnus@browser-use.com"), body)
    assert dets == [] and not tool
    # the same PR by the Cursor agent still counts
    agent = body + "\n\nCo-authored-by: Cursor Agent <cursoragent@cursor.com>"
    assert _commit(("Magnus Müller", "magnus@browser-use.com"), agent)[1] == "cursor"
