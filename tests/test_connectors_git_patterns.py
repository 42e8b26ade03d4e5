"""Real-history patterns (issue 10 §2-§3), each in a throwaway repository built with ``git``.

Agents that author commits (Copilot coding agent, ``Claude <claude@anthropic.com>``), session
trailers in their own paragraph, co-authors above GitHub's ``---------`` separator, branch-sync
merges that used to swallow PR merges, PR merges off the first-parent line, several commits
ending in the same ``(#N)``, a bare clone without ``origin`` joined to a ``gh`` export, and a
trunk-based history without PRs.
"""

from __future__ import annotations

import json
import subprocess
import warnings
from datetime import datetime

import polars as pl
import pytest
from test_connectors_cli import run_import as run_cli
from test_connectors_git import ANA, BEN, CHEN, GH, Repo

import certkit
from certkit.connectors import read_git, read_github, to_dataset
from certkit.connectors.identity import is_bot, load_agents
from certkit.errors import CertkitError

COPILOT = ("Copilot", "198982749+Copilot@users.noreply.github.com")
CLAUDE_AGENT = ("Claude", "claude@anthropic.com")
CLAUDE_PERSON = ("Claude", "claude@example.com")
RELEASE = ("semantic-release-bot", "semantic-release-bot@martynus.net")
ACTION = ("GitHub Action", "action@github.com")
SESSION = "Copilot-Session: 0b9f3c1e-6a55-4c1d-9d4b-2f7e0c1a9e11"


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _squash(r: Repo, message: str, author, day: int, lines: int = 1, month: int = 3) -> str:
    date = f"2024-{month:02d}-{day:02d}T10:00:00Z"
    return r.commit(message, author, date, lines=lines, committer=GH, cdate=date)


@pytest.fixture(scope="module")
def agents_repo(tmp_path_factory):
    r = Repo(tmp_path_factory.mktemp("agents") / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    # 21: Copilot coding agent squash; the assigning human is a co-author; session paragraph.
    _squash(
        r,
        "Add retry (#21)\n\n* Initial plan\n\n* Add retry\n\n"
        "Co-authored-by: Ben Okafor <ben@corp.example>\n\n" + SESSION,
        COPILOT,
        2,
        lines=4,
    )
    # 22: Copilot coding agent squash with no human anywhere: stays a bot PR.
    _squash(r, "Bump docs (#22)\n\n* Initial plan", COPILOT, 3, lines=2)
    # 23: a person with Copilot CLI: co-author paragraph, then a separate session paragraph.
    _squash(
        r,
        "Refactor (#23)\n\nWhy.\n\n"
        "Co-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>\n\n" + SESSION,
        ANA,
        4,
        lines=3,
    )
    # 24: Claude as commit author (vendor address), Chen co-author; 25: the near miss.
    _squash(r, "Speed up (#24)\n\nCo-authored-by: Chen Nguyen <chen@corp.example>", CLAUDE_AGENT, 5)
    _squash(r, "Claude's own change (#25)", CLAUDE_PERSON, 6)
    # 26: squash body listing co-authors above the separator, indented, and Jules below.
    _squash(
        r,
        "Big change (#26)\n\n* first\n\n  Co-authored-by: Claude <noreply@anthropic.com>\n\n"
        "* second\n\n---------\n\n"
        "Co-authored-by: google-labs-jules[bot] "
        "<161369871+google-labs-jules[bot]@users.noreply.github.com>",
        BEN,
        7,
        lines=6,
    )
    # 27: co-author line followed by a signature paragraph.
    _squash(
        r, "Tweak (#27)\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\n\nThanks, Chen", CHEN, 8
    )
    # Automation: release bot and a GitHub Action service account push directly.
    r.commit("chore(release): 1.2.0 [skip ci]", RELEASE, "2024-03-09T10:00:00Z")
    r.commit("Update badge", ACTION, "2024-03-10T10:00:00Z")
    return r


def test_agents_are_never_engineers_and_their_prs_are_credited(agents_repo):
    imp = read_git(agents_repo.path)
    prs = imp.pull_requests.sort("number")
    assert prs["number"].to_list() == [21, 22, 23, 24, 25, 26, 27]
    assert prs["author_id"].to_list() == [
        "ben@corp.example",  # Copilot agent PR -> its human co-author
        "copilot[bot]",  # no human to credit: a bot PR
        "ana@corp.example",
        "chen@corp.example",  # Claude <claude@anthropic.com> -> human co-author
        "claude@example.com",  # a person whose display name is Claude
        "ben@corp.example",
        "chen@corp.example",
    ]
    assert prs["is_bot_author"].to_list() == [False, True] + [False] * 5
    assert prs["ai_tool"].to_list() == [
        "copilot",
        "copilot",
        "copilot",
        "claude",
        None,
        "claude,jules",
        "cursor",
    ]
    assert prs["created_source"].unique().to_list() == ["squash_commit"]
    people = imp.people.sort("engineer_id")
    humans = people.filter(~pl.col("is_bot"))["engineer_id"].to_list()
    assert humans == [
        "ana@corp.example",
        "ben@corp.example",
        "chen@corp.example",
        "claude@example.com",
    ]
    assert people.filter(pl.col("is_bot"))["engineer_id"].to_list() == [
        "claude[bot]",
        "copilot[bot]",
        "github[bot]",
        "semantic-release[bot]",
    ]
    note = next(n for n in imp.notes if "written only by AI agents" in n)
    assert "3 PR(s) written only by AI agents: 2 credited to a human co-author" in note
    assert "1 with no human to credit" in note
    with pytest.warns(certkit.CertkitWarning):
        ds = to_dataset(imp)
    assert sorted(ds.engineers["engineer_id"]) == humans


def test_session_trailers_and_squash_bodies_give_evidence(agents_repo):
    imp = read_git(agents_repo.path)
    ev = imp.ai_evidence
    rules = {(pr.split("#")[1], rule) for pr, rule in zip(ev["pr_id"], ev["rule"], strict=True)}
    assert rules == {
        ("21", "copilot-noreply"),  # the agent's own address
        ("21", "copilot-session"),
        ("22", "copilot-noreply"),
        ("23", "copilot-noreply"),  # co-author paragraph that is not the last one
        ("23", "copilot-session"),
        ("24", "claude-agent-email"),
        ("26", "claude-coauthor"),  # indented, above ---------
        ("26", "jules-bot"),
        ("27", "cursor-agent-email"),  # followed by a signature paragraph
    }
    commits = imp.commits.filter(pl.col("subject") == "Refactor (#23)")
    assert commits["trailers"].item() == (
        "Co-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>\n" + SESSION
    )


def test_agents_file_extends_the_bundled_list(agents_repo, tmp_path):
    extra = tmp_path / "agents.yaml"
    extra.write_text(
        "agents:\n  - {id: corp-release, kind: automation, emails: ['^ci@corp\\.example$']}\n"
    )
    agents = load_agents(extra)
    assert is_bot("Release Robot", "ci@corp.example", agents=agents)
    assert not is_bot("Release Robot", "ci@corp.example")  # not in the bundled list
    assert len(agents.agents) == len(load_agents().agents) + 1
    # Near-miss guard: a vendor display name needs a vendor domain.
    assert is_bot(*CLAUDE_AGENT) and not is_bot(*CLAUDE_PERSON)
    assert not is_bot("Copilot", "copilot.fan@example.com")
    bad = tmp_path / "bad.yaml"
    bad.write_text("agents:\n  - {id: x, kind: robot, emails: ['a']}\n")
    with pytest.raises(CertkitError, match=r"agents file .*bad\.yaml, entry 1: .*kind"):
        load_agents(bad)
    bad.write_text("agents:\n  - {id: y, kind: automation, emails: ['(']}\n")
    with pytest.raises(CertkitError, match=r"entry 1 \(y\): bad regular expression in emails"):
        load_agents(bad)


@pytest.fixture(scope="module")
def sync_repo(tmp_path_factory):
    """Local main pulls origin/main (which holds PR merges); a feature branch syncs main."""
    r = Repo(tmp_path_factory.mktemp("sync") / "app")
    shas = {"initial": r.commit("Initial commit", ANA, "2024-04-01T09:00:00Z", lines=2)}
    # What GitHub's main got meanwhile: PR 40 (merge of two commits by Ben), squash PR 41.
    r.branch("upstream")
    r.branch("feat-40", "upstream")
    shas["b1"] = r.commit("Parser part 1", BEN, "2024-04-02T09:00:00Z", lines=3)
    shas["b2"] = r.commit("Parser part 2", BEN, "2024-04-03T09:00:00Z", lines=4)
    r.checkout("upstream")
    shas["m40"] = r.merge(
        "feat-40", "Merge pull request #40 from org/feat-40\n\nNew parser", "2024-04-04T09:00:00Z"
    )
    shas["s41"] = _squash(r, "Fix typo (#41)", CHEN, 5, month=4)
    # Ana's local main: a direct commit, then `git pull` (a sync merge, not a PR).
    r.checkout("main")
    shas["direct"] = r.commit("Local tweak", ANA, "2024-04-05T12:00:00Z")
    shas["pull"] = r.merge(
        "upstream", "Merge branch 'main' of github.com:org/app", "2024-04-06T09:00:00Z"
    )
    # PR 42: a feature branch that synced main into itself, then merged as a PR.
    r.branch("feat-42", shas["initial"])
    shas["c1"] = r.commit("Feature 42", CHEN, "2024-04-02T10:00:00Z", lines=5)
    shas["sync42"] = r.merge("main", "Merge branch 'main' into feat-42", "2024-04-07T09:00:00Z")
    shas["c2"] = r.commit("Feature 42 done", CHEN, "2024-04-07T10:00:00Z", lines=2)
    r.checkout("main")
    shas["m42"] = r.merge(
        "feat-42", "Merge pull request #42 from org/feat-42\n\nFeature 42", "2024-04-08T09:00:00Z"
    )
    return r, shas


def test_sync_merges_are_not_prs_and_do_not_swallow_pr_merges(sync_repo):
    r, shas = sync_repo
    imp = read_git(r.path)
    prs = imp.pull_requests.sort("number")
    got = prs.select(
        "id", "author_id", "created_date", "merged_date", "additions", "title", "created_source"
    ).to_dicts()
    assert got == [
        {
            "id": "org/app#40",
            "author_id": "ben@corp.example",
            "created_date": _t("2024-04-02T09:00:00"),
            "merged_date": _t("2024-04-04T09:00:00"),
            "additions": 7,
            "title": "New parser",
            "created_source": "branch_first_commit",
        },
        {
            "id": "org/app#41",
            "author_id": "chen@corp.example",
            "created_date": _t("2024-04-05T10:00:00"),
            "merged_date": _t("2024-04-05T10:00:00"),
            "additions": 1,
            "title": "Fix typo",
            "created_source": "squash_commit",
        },
        {
            "id": "org/app#42",
            "author_id": "chen@corp.example",
            "created_date": _t("2024-04-02T10:00:00"),
            "merged_date": _t("2024-04-08T09:00:00"),
            "additions": 7,  # its own two commits only, not main's
            "title": "Feature 42",
            "created_source": "branch_first_commit",
        },
    ]
    owner = dict(zip(imp.commits["sha"], imp.commits["pr_id"], strict=True))
    assert owner[shas["b1"]] == owner[shas["b2"]] == owner[shas["m40"]] == "org/app#40"
    assert owner[shas["c1"]] == owner[shas["c2"]] == owner[shas["sync42"]] == "org/app#42"
    assert owner[shas["pull"]] is None and owner[shas["direct"]] is None
    assert any("2 branch-sync merge(s)" in n for n in imp.notes)
    assert any("2 PR(s) were merged off the first-parent line" in n for n in imp.notes)
    assert any("2 commit(s) were pushed directly (no PR)" in n for n in imp.notes)


def test_pr_merged_into_a_release_branch_keeps_its_commits(tmp_path):
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-05-01T09:00:00Z")
    r.branch("release")
    r.branch("fix", "release")
    fix = r.commit("Fix crash", BEN, "2024-05-02T09:00:00Z", lines=2)
    r.checkout("release")
    m50 = r.merge("fix", "Merge pull request #50 from org/fix\n\nFix crash", "2024-05-03T09:00:00Z")
    bump = r.commit("Bump version", ANA, "2024-05-04T09:00:00Z", lines=1)
    r.checkout("main")
    m51 = r.merge(
        "release", "Merge pull request #51 from org/release\n\nRelease 1.1", "2024-05-05T09:00:00Z"
    )
    imp = read_git(r.path)
    prs = imp.pull_requests.sort("number")
    assert prs.select("id", "author_id", "additions", "created_date").to_dicts() == [
        {
            "id": "org/app#50",
            "author_id": "ben@corp.example",
            "additions": 2,
            "created_date": _t("2024-05-02T09:00:00"),
        },
        {
            "id": "org/app#51",
            "author_id": "ana@corp.example",
            "additions": 1,
            "created_date": _t("2024-05-04T09:00:00"),
        },
    ]
    owner = dict(zip(imp.commits["sha"], imp.commits["pr_id"], strict=True))
    assert (owner[fix], owner[m50], owner[bump], owner[m51]) == (
        "org/app#50",
        "org/app#50",
        "org/app#51",
        "org/app#51",
    )


def test_several_commits_with_one_pr_number_are_aggregated(tmp_path):
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-06-01T09:00:00Z")
    r.commit("Fix parser (#60)", ANA, "2024-06-02T09:00:00Z", lines=3, cdate="2024-06-02T10:00:00Z")
    r.commit("Unrelated", BEN, "2024-06-03T09:00:00Z")
    r.commit(
        "Fix parser, follow-up (#60)\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        BEN,
        "2024-06-04T09:00:00Z",
        lines=5,
        cdate="2024-06-04T11:00:00Z",
    )
    imp = read_git(r.path)
    assert imp.pull_requests.select(
        "id", "author_id", "created_date", "merged_date", "additions", "ai_tool", "title"
    ).to_dicts() == [
        {
            "id": "org/app#60",
            "author_id": "ana@corp.example",
            "created_date": _t("2024-06-02T09:00:00"),
            "merged_date": _t("2024-06-04T11:00:00"),
            "additions": 8,
            "ai_tool": "claude",
            "title": "Fix parser",
        }
    ]
    assert any("1 PR number(s) appear on several commits" in n for n in imp.notes)


def _gh_item(number: int, title: str, login: str = "ben-gh", **extra) -> dict:
    return {
        "number": number,
        "title": title,
        "author": {"login": login},
        "createdAt": "2024-07-01T08:00:00Z",
        "mergedAt": "2024-07-02T09:00:00Z",
        "closedAt": "2024-07-02T09:00:00Z",
        "additions": 3,
        "deletions": 0,
        "url": f"https://github.com/org/app/pull/{number}",
        **extra,
    }


def test_bare_clone_without_origin_joins_gh_export_with_repo_name(tmp_path):
    r = Repo(tmp_path / "work", origin=None)
    r.commit("Initial commit", ANA, "2024-07-01T07:00:00Z")
    _squash(r, "Add thing (#70)", BEN, 2, month=7)
    bare = tmp_path / "app.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(r.path), str(bare)], check=True)
    subprocess.run(["git", "remote", "remove", "origin"], cwd=bare, check=True)
    export = tmp_path / "prs.json"
    export.write_text(json.dumps([_gh_item(70, "Add thing")]))
    gh = read_github(export)

    alone = read_git(bare)
    assert alone.pull_requests["id"].to_list() == ["app#70"]  # folder name, no .git
    with pytest.warns(certkit.CertkitWarning, match="probably the same project"):
        twice = alone + gh
    assert sorted(twice.pull_requests["id"]) == ["app#70", "org/app#70"]
    assert any("--repo-name" in n for n in twice.notes)

    with warnings.catch_warnings():
        warnings.simplefilter("error", certkit.CertkitWarning)
        joined = read_git(bare, repo_names=["org/app"]) + gh
    prs = joined.pull_requests
    assert prs.select("id", "source", "created_date").to_dicts() == [
        {"id": "org/app#70", "source": "github", "created_date": _t("2024-07-01T08:00:00")}
    ]

    out = tmp_path / "out"
    code = run_cli(
        ["import", "git", str(bare), "--repo-name", "org/app", "--github", str(export)]
        + ["--out", str(out), "--no-progress"]
    )
    assert code == 0
    assert pl.read_parquet(out / "pull_requests.parquet")["id"].to_list() == ["org/app#70"]


def test_trunk_history_without_prs(tmp_path):
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-08-01T09:00:00Z")
    r.commit(
        "Speed up\n\nCo-authored-by: Claude <noreply@anthropic.com>", BEN, "2024-08-02T09:00:00Z"
    )
    imp = read_git(r.path)
    assert imp.pull_requests.height == 0
    with (
        warnings.catch_warnings(),
        pytest.raises(CertkitError, match=r"--direct-commits as_prs.*--commits-only"),
    ):
        warnings.simplefilter("ignore", certkit.CertkitWarning)  # "no roster given"
        to_dataset(imp)
    out = tmp_path / "out"
    assert run_cli(["import", "git", str(r.path), "--commits-only", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        ".certkit-output.json",  # written like every output folder (certkit.data.outputs)
        "ai_evidence.csv",
        "commits.parquet",
        "import.json",
    ]
    assert pl.read_parquet(out / "commits.parquet").height == 2
    ev = pl.read_csv(out / "ai_evidence.csv")
    assert ev.select("tool", "rule").rows() == [("claude", "claude-coauthor")]
    as_prs = read_git(r.path, direct_commits="as_prs")
    assert as_prs.pull_requests["created_source"].to_list() == ["commit", "commit"]


def test_cli_agents_file_keeps_a_service_account_out_of_engineers(tmp_path):
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-09-01T09:00:00Z")
    _squash(r, "Release 2.0 (#80)", ("Release Robot", "ci@corp.example"), 2, month=9)
    _squash(r, "Fix (#81)", BEN, 3, month=9)
    extra = tmp_path / "agents.yaml"
    extra.write_text("agents:\n  - {id: corp-release, kind: automation, emails: [ci@corp]}\n")
    out = tmp_path / "out"
    argv = ["import", "git", str(r.path), "--agents", str(extra), "--out", str(out)]
    assert run_cli(argv) == 0
    eng = pl.read_parquet(out / "engineers.parquet")["engineer_id"].sort().to_list()
    # ana only pushed the initial commit: no PR of her own, so no engineer row either
    assert eng == ["ben@corp.example"]
    prs = pl.read_parquet(out / "pull_requests.parquet").sort("number")
    assert prs["author_id"].to_list() == ["corp-release[bot]", "ben@corp.example"]


def test_github_web_merges_with_an_edited_title_and_bot_credits(tmp_path):
    """Found by the DevLake cross-check on fastapi and the pydantic-ai trial:
    - a two-parent merge committed by GitHub whose title was edited to "... (#97)" is PR 97
      (it was read as a local merge without a number); a person's local merge with such a
      title keeps no number;
    - a house agent's PR ("pydanty[bot]" co-authored by "pydanty <pydanty@...>", a person and
      Claude) is credited to the person, not to the bot's own address;
    - dependabot's PR with a person's AI-assisted fix stays a bot PR, as the docs say."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    r.branch("responses")
    r.commit("Add responses", BEN, "2024-03-02T09:00:00Z", lines=3)
    r.checkout("main")
    r.merge(
        "responses", ":sparkles: Additional Responses (#97)", "2024-03-03T09:00:00Z", author=BEN
    )
    r.branch("local")
    r.commit("Local work", CHEN, "2024-03-04T09:00:00Z", lines=2)
    r.checkout("main")
    r.git(
        "merge", "-q", "--no-ff", "-m", "Local merge (#98)", "local",
        env=Repo._env(ANA, "2024-03-05T09:00:00Z"),
    )  # fmt: skip
    pydanty = ("pydanty[bot]", "123456+pydanty[bot]@users.noreply.github.com")
    _squash(
        r,
        "Tidy docs (#99)\n\nCo-authored-by: pydanty <pydanty@corp.example>\n"
        "Co-authored-by: Ben Okafor <ben@corp.example>\n"
        "Co-authored-by: Claude <noreply@anthropic.com>",
        pydanty,
        6,
    )
    dependabot = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
    _squash(
        r,
        "Bump httpx (#100)\n\nCo-authored-by: Ben Okafor <ben@corp.example>\n"
        "Co-authored-by: Claude <noreply@anthropic.com>",
        dependabot,
        7,
    )
    prs = {p["title"]: p for p in read_git(r.path).pull_requests.to_dicts()}
    assert prs[":sparkles: Additional Responses"]["number"] == 97
    assert prs[":sparkles: Additional Responses"]["author_id"] == "ben@corp.example"
    local = next(p for t, p in prs.items() if t.startswith("Local merge"))
    assert local["number"] is None and local["id"].startswith("org/app@")
    assert prs["Tidy docs"]["author_id"] == "ben@corp.example"
    assert not prs["Tidy docs"]["is_bot_author"]
    assert prs["Bump httpx"]["is_bot_author"] and prs["Bump httpx"]["author_id"].endswith("[bot]")


def test_a_merged_prs_head_branch_is_read_by_the_branch_rules(tmp_path):
    """browser-use (trial Q, Q6): "Merge pull request #2 from gobii-ai/codex/update-output..."
    kept the owner in the head branch, and git imports never read a head branch with the AI
    rules, so a Codex PR merged with a merge commit went unmarked (a gh export marks it)."""
    r = Repo(tmp_path / "app", origin="https://github.com/org/app.git")
    r.commit("Initial", ANA, "2025-09-01T09:00:00Z")
    for n, (owner, branch) in enumerate(
        [("gobii-ai", "codex/update-output-handling"), ("ben", "feature/copilot-settings")],
        start=2,
    ):
        r.branch(branch)
        r.commit(f"Change {n}", BEN, f"2025-09-0{n}T10:00:00Z")
        r.checkout("main")
        r.merge(branch, f"Merge pull request #{n} from {owner}/{branch}\n\nChange {n}",
                f"2025-09-0{n}T12:00:00Z")  # fmt: skip
    imp = read_git(r.path)
    prs = {row["number"]: row for row in imp.pull_requests.to_dicts()}
    assert prs[2]["ai_assisted"] == 1.0 and prs[2]["ai_tool"] == "codex"  # main: 0, None
    assert prs[3]["ai_assisted"] == 0.0  # a person's branch that merely names a tool
    ev = imp.ai_evidence.filter(pl.col("pr_id") == prs[2]["id"])
    assert ev.select("rule", "sha", "evidence").row(0) == (
        "codex-branch",
        None,
        "codex/update-output-handling",
    )


def _fork_pr(r: Repo, fork: str, branch: str, number: int, outer: int, day: int) -> None:
    """A fork merges its own pull request ``number`` (from ``branch``) on its main, then that
    main is merged here as pull request ``outer`` (2025-09-``day``)."""
    r.branch(f"{fork}-main")
    r.branch(branch)
    r.commit(f"Fork work {outer}", BEN, f"2025-09-{day}T10:00:00Z")
    r.checkout(f"{fork}-main")
    r.merge(branch, f"Merge pull request #{number} from {fork}/{branch}\n\nFork work {outer}",
            f"2025-09-{day}T11:00:00Z")  # fmt: skip
    r.checkout("main")
    r.merge(f"{fork}-main", f"Merge pull request #{outer} from {fork}/main\n\nUpstream {outer}",
            f"2025-09-{day}T12:00:00Z")  # fmt: skip


def test_a_forks_own_pr_number_inside_a_pr_branch_is_not_this_repositorys(tmp_path):
    """browser-use (trial Q, Q6): two forks each merged their own pull request #2 inside a
    branch they then proposed ("Merge pull request #2 from gobii-ai/codex/..." and "... #2
    from youngquan/youngquan-patch-2", both in 2025, the repository at #3400); the import
    joined them into one PR browser-use/browser-use#2."""
    r = Repo(tmp_path / "app", origin="https://github.com/org/app.git")
    r.commit("Initial", ANA, "2025-01-01T09:00:00Z")
    _fork_pr(r, "gobii-ai", "codex/update-output", 2, 3401, 10)
    _fork_pr(r, "youngquan", "youngquan-patch-2", 2, 3405, 15)
    # flask #4920: this repository's PR merged into two branches keeps its number
    r.branch("2.2.x")
    r.branch("fix/link")
    r.commit("Fix a link", CHEN, "2025-09-25T10:00:00Z")
    r.checkout("2.2.x")
    r.merge("fix/link", "Merge pull request #3410 from chen/fix/link", "2025-09-25T11:00:00Z")
    r.checkout("main")
    r.merge("fix/link", "Merge pull request #3410 from chen/fix/link", "2025-09-25T11:10:00Z")
    imp = read_git(r.path)
    numbers = imp.pull_requests["number"].to_list()
    assert numbers.count(3410) == 1
    assert 2 not in numbers  # main: one PR #2 of both forks' merges
    assert {3401, 3405} <= set(numbers)
    assert imp.pull_requests.filter(pl.col("number").is_null()).height == 2
    assert any("a fork merging its own pull request #N" in n for n in imp.notes)
    # review D3: a fork's #5 beside this repository's own squash-merged #5
    r.commit("Early work (#5)", ANA, "2025-09-26T09:00:00Z")
    _fork_pr(r, "zed", "zed-fix", 5, 3412, 27)
    five = read_git(r.path).pull_requests.filter(pl.col("number") == 5)
    assert five.height == 1 and five["title"][0] == "Early work"  # not joined with the fork's


def test_a_github_merge_titled_by_its_pr_keeps_that_title_and_its_revert_is_read(tmp_path):
    """browser-use (trial U): merges GitHub made with the PR's title as subject and its
    description as body ("Revert ChatGoogle cached_content forwarding (#4900)" + "## Summary
    ...") were titled by the description's first line: 1,164 of 1,793 PRs "## Summary",
    "Closes #5239." ..., and the 4 revert PRs titled so went unread (their targets not
    reverted)."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2024-03-01T09:00:00Z")
    r.branch("cache")
    r.commit("forward cached_content", BEN, "2024-03-02T09:00:00Z", lines=3, file="cache.py")
    r.checkout("main")
    r.merge(
        "cache",
        "feat(llm/google): forward cached_content (#4889)\n\n## Summary\n- forward it",
        "2024-03-03T09:00:00Z",
        author=BEN,
    )
    r.branch("undo")  # a revert that names nothing: found by its diff, undoing #4889's
    r.git("rm", "-q", "cache.py")
    r.git("commit", "-q", "-m", "Revert forwarding", env=Repo._env(BEN, "2024-03-04T09:00:00Z"))
    r.checkout("main")
    r.merge(
        "undo",
        "Revert ChatGoogle cached_content forwarding (#4900)\n\n## Summary\n- Revert #4889",
        "2024-03-05T09:00:00Z",
        author=BEN,
    )
    prs = {p["number"]: p for p in read_git(r.path).pull_requests.to_dicts()}
    assert prs[4889]["title"] == "feat(llm/google): forward cached_content"
    assert prs[4900]["title"] == "Revert ChatGoogle cached_content forwarding"
    assert prs[4889]["reverted"] and not prs[4900]["reverted"]
