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
from test_connectors_cli import run_import
from test_connectors_git import ANA, ANA_HOME, BEN, CHEN, Repo

import certkit
from certkit.connectors import read_git, to_dataset

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


def _moon_agents(tmp_path):
    """An agents file listing Moon Bot as a coding agent (kind ai_agent)."""
    agents = tmp_path / "agents.yaml"
    agents.write_text(
        "version: 1\nagents:\n  - id: moon-bot\n    kind: ai_agent\n    tool: moon-bot\n"
        "    emails: ['^(\\d+\\+)?moon-?bot(-app)?\\[bot\\]@users\\.noreply\\.github\\.com$']\n"
    )
    return agents


def test_listing_the_bot_as_an_agent_credits_its_human_co_author(tmp_path):
    """The note's advice does what it says: kind ai_agent credits the first human co-author."""
    agents = _moon_agents(tmp_path)
    imp = _read(_moon_history(tmp_path), agents=agents)
    assert not [n for n in imp.notes if "name people as co-authors" in n]
    prs = imp.pull_requests.filter(pl.col("number").is_between(2, 4)).sort("number")
    assert prs["author_id"].to_list() == ["ana@corp.example", "ana@corp.example", "ben@corp.example"]  # fmt: skip
    assert (prs["ai_assisted"] == 1).all()


def test_an_agents_pr_goes_to_the_co_author_with_a_real_address(tmp_path):
    """trial AG (B4): Moon Bot's co-author lines named "hanouticelina <...noreply...>" before
    her roster e-mail, so listing the bot as an agent made a second, never-certified engineer
    of her. A real address, or one the identity file knows, is preferred to a noreply one."""
    agents = _moon_agents(tmp_path)
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2025-01-01T09:00:00Z")
    r.commit(
        "Support resource groups (#2)\n\n"
        "Co-authored-by: anasilva <1234+anasilva@users.noreply.github.com>\n"
        f"Co-authored-by: {ANA[0]} <{ANA[1]}>",
        MOON,
        "2025-01-03T09:00:00Z",
    )
    imp = _read(r, agents=agents)
    (pr,) = imp.pull_requests.filter(pl.col("number") == 2).iter_rows(named=True)
    assert pr["author_id"] == ANA[1] and pr["ai_assisted"] == 1


def _roster(tmp_path) -> str:
    path = tmp_path / "roster.csv"
    path.write_text(
        "engineer_id,name,email,team,role,level,hire_date,platform\n"
        "ana,Ana Silva,ana@corp.example,core,engineer,senior,2023-01-01,other\n"
        "ben,Ben Okafor,ben@corp.example,core,engineer,senior,2023-01-01,other\n"
    )
    return str(path)


def _ids(tmp_path) -> str:
    path = tmp_path / "ids.csv"
    path.write_text("engineer_id,email\nana,ana.silva@gmail.com\n")
    return str(path)


def _pushes_history(tmp_path) -> Repo:
    """Ana lands 15 PRs from her work address and pushes 12 CI fixes from her personal one
    (which the identity file maps to 'ana'; the roster's e-mail maps the work address)."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2025-01-01T09:00:00Z")
    for i in range(1, 16):
        r.commit(f"Feature {i} (#{i})", ANA, f"2025-01-{i + 1:02d}T09:00:00Z")
    for i in range(12):
        r.commit("style" if i % 2 else "fix CI", ANA_HOME, f"2025-02-{i + 1:02d}T09:00:00Z")
    return r


def test_a_few_pushes_beside_many_prs_are_not_the_bulk_of_anyones_work(tmp_path):
    """huggingface_hub: "the bulk of some authors' own work ...: lucain: 26 of the 28 commits
    of that address ... (use `--direct-commits as_prs` to count them)", though lucain has 354
    PRs under his work address, which only the roster mapped to him (main: that note)."""
    imp = _read(_pushes_history(tmp_path), identities=_ids(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        ds = to_dataset(imp, engineers=_roster(tmp_path), identities=_ids(tmp_path), strict=False)
    assert ds.pull_requests.filter(pl.col("author_id") == "ana").height == 15
    (note,) = [n for n in imp.notes if "pushed directly" in n]
    assert "bulk" not in note and "to count them" not in note, note
    assert note.endswith(
        "they are in commits but not in pull_requests (their most frequent authors land most "
        "of their work through PRs (ana: 12 direct pushes beside 15 PR(s)): "
        "direct_commits='as_prs' would count each push as a PR of its author)"
    ), note


def test_the_cli_note_is_weighed_after_the_roster_too(tmp_path, capsys):
    """The command line rewrites the note's Python words before the roster maps ids."""
    r = _pushes_history(tmp_path)
    out = tmp_path / "out"
    argv = ["import", "git", str(r.path), "--out", str(out), "--no-progress", "--no-rework",
            "--engineers", _roster(tmp_path), "--identities", _ids(tmp_path)]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        assert run_import(argv) == 0
    said = capsys.readouterr().out
    assert "ana: 12 direct pushes beside 15 PR(s)): `--direct-commits as_prs` would count" in said
    assert "bulk" not in said


def test_pushes_outnumbering_prs_stay_the_bulk_after_the_roster(tmp_path):
    """astral-sh/ruff (trial AC): a person pushing most of their work directly is still named,
    with the advice, once the roster mapped their ids."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2025-01-01T09:00:00Z")
    r.commit("Feature (#1)", BEN, "2025-01-02T09:00:00Z")
    for i in range(12):
        r.commit(f"Tweak {i}", BEN, f"2025-02-{i + 1:02d}T09:00:00Z")
    r.commit("One fix", CHEN, "2025-03-01T09:00:00Z")
    imp = _read(r)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        to_dataset(imp, engineers=_roster(tmp_path), strict=False)
    (note,) = [n for n in imp.notes if "pushed directly" in n]
    assert (
        "(the bulk of some authors' own work, which their PR counts miss: ben: 12 direct "
        "pushes beside 1 PR(s))" in note
    ), note
    assert note.endswith("(use direct_commits='as_prs' to count them)")


INFRA = ("HuggingFaceInfra", "148469759+huggingfaceinfra@users.noreply.github.com")
DANA = ("Dana Roe", "dana@corp.example")


def test_a_service_account_titling_its_prs_bot_is_named_as_automation_like(tmp_path):
    """huggingface_hub: HuggingFaceInfra's 9 PRs "[Bot] Update inference types" / "Update
    inference types (automated commit)" made it a never-certified engineer, first of "most
    PRs", and no note said it looked like automation (main: no such note)."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2025-01-01T09:00:00Z")
    r.commit("[Bot] Update inference types (#1)", INFRA, "2025-01-02T09:00:00Z")
    r.commit("Update inference types (automated commit) (#2)", INFRA, "2025-01-03T09:00:00Z")
    r.commit("[Bot] Update inference types (#3)", INFRA, "2025-01-04T09:00:00Z")
    r.commit("[Bot] make the bot answer faster (#4)", DANA, "2025-01-05T09:00:00Z")  # a person
    r.commit("Fix the docs (#5)", DANA, "2025-01-06T09:00:00Z")
    r.commit("[bot] one more bot command (#6)", DANA, "2025-01-07T09:00:00Z")
    r.commit("Add a test (#7)", DANA, "2025-01-08T09:00:00Z")
    imp = _read(r)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        to_dataset(imp, strict=False)
    (note,) = [n for n in imp.notes if "look like automation" in n]
    assert note.startswith(
        "1 added author(s) look like automation or a shared team account by their name, "
        "address or PR titles ('HuggingFaceInfra' <148469759+huggingfaceinfra@users.noreply."
        "github.com> (3 PRs))"
    ), note
    assert "Dana" not in note and "dana@" not in note  # 2 of her 4 PRs: not most


def _ai_of(tmp_path, coauthor: tuple[str, str]) -> tuple[str, float, str | None]:
    r = Repo(tmp_path / coauthor[1].replace("@", "_").replace("+", "_"))
    r.commit("Initial commit", ANA, "2025-01-01T09:00:00Z")
    r.commit(
        f"Add a feature (#1)\n\nCo-authored-by: {coauthor[0]} <{coauthor[1]}>",
        ANA,
        "2025-01-02T09:00:00Z",
    )
    (row,) = _read(r).pull_requests.iter_rows(named=True)
    return row["author_id"], row["ai_assisted"], row["ai_tool"]


def test_hugging_faces_claude_mailbox_and_codexs_noreply_are_ai_assistance(tmp_path):
    """huggingface_hub: "Co-authored-by: Claude <Agents+claude@huggingface.co>" on 7 of
    julien's PRs (5 with no other AI trace) and "Co-authored-by: OpenAI Codex
    <codex@users.noreply.github.com>" (#3723) were not AI assistance (main: 0.0, None)."""
    for coauthor, tool in [
        (("Claude", "Agents+claude@huggingface.co"), "claude"),
        (("OpenAI Codex", "codex@users.noreply.github.com"), "codex"),
        (("Codex", "267193182+codex@users.noreply.github.com"), "codex"),
    ]:
        assert _ai_of(tmp_path, coauthor) == ("ana@corp.example", 1.0, tool), coauthor


def test_people_named_claude_or_codex_are_not_ai(tmp_path):
    for coauthor in [
        ("Claude Dupont", "claude.dupont@corp.example"),
        ("Claude", "claude@corp.example"),
        ("Claude", "claude+github@gmail.com"),
        ("Codex Smith", "codex.smith@corp.example"),
        ("clockwork-codex", "clockwork-codex@users.noreply.github.com"),
        ("julien-agent", "Agents+cyolo@huggingface.co"),
    ]:
        assert _ai_of(tmp_path, coauthor) == ("ana@corp.example", 0.0, None), coauthor


def test_a_noreply_login_equal_to_a_roster_e_mails_local_part_is_proposed(tmp_path):
    """trial AH (M3): with Moon Bot listed, two PRs whose only human co-author was
    "hanouticelina <...noreply...>" made a second engineer of celina (hanouticelina@gmail.com
    in the roster), with no note and no row in the draft identity file."""
    from certkit.connectors import write_import

    agents = _moon_agents(tmp_path)
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2025-01-01T09:00:00Z")
    r.commit("Feature (#1)", ("Ana Silva", "anasilva@home.example"), "2025-01-02T09:00:00Z")
    r.commit(
        "Support groups (#2)\n\nCo-authored-by: anasilva <1234+anasilva@users.noreply.github.com>",
        MOON,
        "2025-01-03T09:00:00Z",
    )
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "engineer_id,name,email,team,role,level,hire_date,platform\n"
        "ana,Ana Silva,anasilva@home.example,core,engineer,senior,2023-01-01,other\n"
    )
    imp = _read(r, agents=agents)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_import(imp, tmp_path / "data", engineers=roster)
    folder = tmp_path / "data"
    notes = " ".join(imp.notes)
    assert "ana may also appear as anasilva (1 PR, same e-mail local part (as its login))" in notes
    draft = pl.read_csv(folder / "identities_suggested.csv")
    assert draft.filter(pl.col("engineer_id") == "ana")["current_id"].to_list() == ["anasilva"]


def test_a_bots_commits_under_a_persons_name_are_not_their_own_work(tmp_path):
    """trial AI (withastro/starlight): 63 of delucis's "66 direct pushes beside 63 PR(s)"
    were "[ci] format" commits the changesets bot astrobot-houston committed under his name;
    the note called them the bulk of his work and advised as_prs (the headline effect moved
    from +1.83 to -0.01 when followed). "Houston (Bot)" itself counted as a person."""
    houston = ("Houston (Bot)", "108291165+astrobot-houston@users.noreply.github.com")
    robot = ("astrobot-houston", "fred+astrobot@astro.build")
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2025-01-01T09:00:00Z")
    for i in range(1, 4):
        r.commit(f"Feature {i} (#{i})", ANA, f"2025-01-{i + 1:02d}T09:00:00Z")
        r.commit(f"[ci] release (#{10 + i})", houston, f"2025-01-{i + 5:02d}T09:00:00Z")
    for i in range(12):
        r.commit(
            "[ci] format", ANA, f"2025-02-{i + 1:02d}T09:00:00Z", committer=robot,
            cdate=f"2025-02-{i + 1:02d}T09:00:00Z",
        )  # fmt: skip
    imp = _read(r)
    notes = [n for n in imp.notes if "pushed directly" in n]
    assert notes and not any("bulk" in n or "ana@corp.example: " in n for n in notes), notes
    release = imp.pull_requests.filter(pl.col("title").str.starts_with("[ci] release"))
    assert release.height == 3 and release["is_bot_author"].all()
    assert set(release["author_id"]) == {"astrobot-houston[bot]"}  # the account's own id
