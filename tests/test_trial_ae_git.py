"""Trial AE (getsentry/sentry-python since 2025): the git import's findings, each in a
throwaway repository built with ``git``.

- M1: ``github-actions[bot]`` is GitHub's listed automation, so a workflow's PR that a
  person's AI tool co-authored stays a bot PR (it became that person's AI-assisted PR).
- L4: Qwen Code's co-author line is AI assistance.
- M3: whole-PR reverts said in a sentence ("This reverts the work from #5649 and #5654") or
  in a squash PR's description ("This reverts commit <sha>, which ..." with the inverse diff);
  the note on revert commits inside other PRs names the PR holding them and their target.
- L12: a conventional-commit type before "Revert" ("ref: Revert ...") is read as a revert.
- M4, L1: a release bot no agents file lists ("getsentry-bot <bot@sentry.io>") is neither
  someone's "own work" pushed directly nor an identity to suggest, and release-branch commits
  brought in by ``Merge branch 'release/...'`` are release chores, not work to count as PRs.
"""

from __future__ import annotations

import warnings

import polars as pl
from test_connectors_git import ANA, BEN, CHEN, Repo
from test_git_reverts import _edit, _import

from certkit.connectors import read_git, to_dataset
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


def test_a_sentence_reverting_several_prs_reverts_each(tmp_path):
    """sentry-python #5655 "ci(docs): Remove agentic codebase documentation workflows": "This
    reverts the work from #5649 and #5654, which added ..." (its diff deletes what both
    added); neither was marked reverted."""
    r = Repo(tmp_path / "app")
    _edit(r, {"README": "x\n"}, "Initial commit", ANA, "2026-03-01")
    _edit(r, {"flow.yml": "a\nb\n"}, "ci(docs): Add agentic workflows (#5649)", BEN, "2026-03-02")
    _edit(r, {"plan.md": "p\n"}, "Fix the parser (#5650)", CHEN, "2026-03-03")
    _edit(r, {"flow.yml": "a\nc\n"}, "ci(docs): Switch engine (#5654)", BEN, "2026-03-04")
    (r.path / "flow.yml").unlink()
    r.git("add", "-A")
    message = (
        "ci(docs): Remove agentic codebase documentation workflows (#5655)\n\n"
        "Remove the agentic CI workflows.\n\n"
        "This reverts the work from #5649 and #5654, which added GitHub Actions\n"
        "workflows to generate and refresh docs using an AI agent."
    )
    r.git("commit", "-q", "-m", message, env=Repo._env(ANA, "2026-03-13T10:00:00Z"))
    got, _ = _import(r)
    assert got["org/app#5649"] is True and got["org/app#5654"] is True  # main: False
    assert got["org/app#5650"] is False and got["org/app#5655"] is False


def test_a_squash_description_reverting_a_prs_commit_with_its_inverse_diff(tmp_path):
    """sentry-python #4286 "fix(debug): Do not consider parent loggers ...": its description
    opens "This reverts commit 37930840d..., which made the SDK consider parent loggers" (#4133's
    squash commit) and its diff is #4133's inverse: a whole-PR revert. The note named #4133
    as if it held the revert commit. A description that says so of a change it does not undo
    exactly, or a squashed commit's ``* `` line, stays in the note, which names both PRs."""
    r = Repo(tmp_path / "app")
    _edit(r, {"debug.py": "a\n"}, "Initial commit", ANA, "2025-03-01")
    _edit(r, {"debug.py": "b\n"}, "fix(debug): Take into account parent handlers (#4133)", BEN,
          "2025-03-10")  # fmt: skip
    first = r.git("rev-parse", "HEAD")
    _edit(r, {"ci.yml": "x\n"}, "fix(ci): Pin tracerite (#4134)", CHEN, "2025-03-11")
    pin = r.git("rev-parse", "HEAD")
    _edit(r, {"other.py": "o\n"}, "Add other (#4135)", CHEN, "2025-03-12")
    other = r.git("rev-parse", "HEAD")
    message = (
        "fix(debug): Do not consider parent loggers for debug logging (#4286)\n\n"
        f"This reverts commit {first}, which made\nthe SDK consider parent loggers.\n\n"
        "Fixes #4266"
    )
    _edit(r, {"debug.py": "a\n"}, message, ANA, "2025-04-20")
    message = f"ref(ci): Unpin tracerite (#4300)\n\nThis reverts commit {pin}.\nAnd more changes."
    _edit(r, {"ci.yml": "y\n", "more.py": "m\n"}, message, ANA, "2025-04-21")
    # ruff #27174 undid #23921's workaround exactly, 135 days on: its planned end
    message = f"Drop the other override (#4400)\n\nThis reverts commit {other}, fixed upstream."
    _edit(r, {"other.py": ""}, message, BEN, "2025-08-01")
    got, notes = _import(r)
    assert got["org/app#4133"] is True  # main: False
    assert got["org/app#4134"] is False and got["org/app#4286"] is False
    assert got["org/app#4135"] is False
    assert (
        "2 commit(s) inside other PRs undo part of an earlier PR (org/app#4300 undoes part of "
        "org/app#4134, org/app#4400 undoes part of org/app#4135)"
    ) in notes
    assert "#4133" not in notes


def test_a_conventional_commit_type_before_revert(tmp_path):
    """sentry-python #7168 "ref: Revert global span batcher limits" undid parts of three PRs
    two days later and named none: it was no revert at all, so no note listed it. Now it is
    a revert that names no PR (the note), and a "fix: Revert ..." that is an earlier PR's
    exact inverse reverts it; "feat: Rollback support" is a feature."""
    r = Repo(tmp_path / "app")
    _edit(r, {"batcher.py": "a\n"}, "Initial commit", ANA, "2026-07-01")
    _edit(r, {"batcher.py": "a\nb\n"}, "feat(batcher): Add hard span limit (#7143)", BEN,
          "2026-07-02")  # fmt: skip
    _edit(r, {"batcher.py": "a\nb\nc\n", "size.py": "s\n"}, "feat(batcher): Add sizes (#7144)",
          BEN, "2026-07-03")  # fmt: skip
    _edit(r, {"batcher.py": "a\n", "size.py": ""}, "ref: Revert global span batcher limits (#7168)",
          ANA, "2026-07-05")  # fmt: skip
    _edit(r, {"retry.py": "r\n"}, "feat: Add retries (#7170)", CHEN, "2026-07-06")
    _edit(r, {"retry.py": ""}, "fix(retry): Revert retries (#7171)", ANA, "2026-07-07")
    _edit(r, {"db.py": "d\n"}, "feat: Rollback support for migrations (#7172)", CHEN, "2026-07-08")
    got, notes = _import(r)
    assert got["org/app#7170"] is True  # main: False
    assert not got["org/app#7143"] and not got["org/app#7144"]
    assert "1 revert PR(s) name no PR certkit could find (org/app#7168)" in notes  # main: 0


GETSENTRY = ("getsentry-bot", "bot@sentry.io")
GETSENTRY_OLD = ("getsentry-bot", "bot@getsentry.com")


def _release_history(tmp_path) -> Repo:
    """Squash PRs on main, and release branches of bot and human chores merged back by
    ``Merge branch 'release/...'`` (sentry-python: 127 of its 130 direct commits)."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2025-01-01T09:00:00Z")
    r.commit("Add a feature (#1)", ANA, "2025-01-02T09:00:00Z")
    r.commit("Fix a bug (#2)", BEN, "2025-01-03T09:00:00Z")
    r.commit("Add another (#3)", ("Ben O", "ben.o@home.example"), "2025-01-03T10:00:00Z")
    r.commit("Update docs (#4)", ("Ben O", "ben.okafor@corp.example"), "2025-01-03T11:00:00Z")
    r.commit("Hotfix pushed directly", CHEN, "2025-01-03T12:00:00Z")
    for i in range(12):
        r.branch(f"release/2.{i}.0")
        bot = GETSENTRY if i % 2 else GETSENTRY_OLD
        r.commit(f"release: 2.{i}.0", bot, f"2025-02-{i + 1:02d}T09:00:00Z")
        if i < 3:
            r.commit("Update CHANGELOG.md", ANA, f"2025-02-{i + 1:02d}T09:30:00Z")
        r.checkout("main")
        r.git("merge", "-q", "--no-ff", "-m", f"Merge branch 'release/2.{i}.0'",
              f"release/2.{i}.0", env=Repo._env(GETSENTRY, f"2025-02-{i + 1:02d}T10:00:00Z"))  # fmt: skip
    return r


def test_release_chores_pushed_directly_are_not_own_work_nor_advised_as_prs(tmp_path):
    """sentry-python: "130 commit(s) were pushed directly (no PR), 127 of them brought in by
    sync merges (the bulk of some authors' own work ...: bot@sentry.io: 42 of the 42 commits
    of that address) ... (use `--direct-commits as_prs` to count them)"; following it made
    getsentry-bot an engineer and added changelog edits to certified engineers' PRs."""
    r = _release_history(tmp_path)
    imp = _prs(r)
    (note,) = [n for n in imp.notes if "pushed directly" in n]
    assert note.startswith(
        "org/app: 17 commit(s) were pushed directly (no PR), 15 of them brought in by sync "
        "merges, 15 of them on release branches merged by 'Merge branch release/...' (release "
        "chores: version bumps, changelog), 12 of them by accounts named like automation "
        "('getsentry-bot')"
    ), note
    assert "own work" not in note and "bot@" not in note  # main: "bot@sentry.io: 6 of the 6"
    assert "'as_prs' would count the release chores as PRs" in note
    assert "to count them" not in note


def test_a_bot_like_account_pushing_most_commits_is_not_own_work(tmp_path):
    """Without release branches the advice stays, but a bot-like account is not "the bulk of
    some authors' own work" (a person's is)."""
    r = Repo(tmp_path / "app")
    r.commit("Initial commit", ANA, "2025-01-01T09:00:00Z")
    r.commit("Add a feature (#1)", ANA, "2025-01-02T09:00:00Z")
    for i in range(11):
        r.commit(f"release: 2.{i}.0", GETSENTRY, f"2025-02-{i + 1:02d}T09:00:00Z")
        r.commit(f"Tune {i}", CHEN, f"2025-02-{i + 1:02d}T10:00:00Z")
    (note,) = [n for n in _prs(r).notes if "pushed directly" in n]
    assert "chen@corp.example: 11 direct pushes beside 0 PR(s)" in note  # trial AF wording
    assert "bot@sentry.io" not in note  # main: listed first
    assert "use direct_commits='as_prs' to count them" in note


def test_the_identity_draft_leaves_out_a_bot_like_account(tmp_path):
    """sentry-python: identities_suggested.csv paired getsentry-bot's bot@getsentry.com and
    bot@sentry.io, and it was the example of "6 name(s) appear under several engineer ids"."""
    r = _release_history(tmp_path)
    r.commit("Bump (#9)", GETSENTRY, "2025-03-01T09:00:00Z")  # a PR of its own: an engineer
    r.commit("Bump more (#10)", GETSENTRY_OLD, "2025-03-02T09:00:00Z")
    imp = _prs(r)
    ds = to_dataset(imp, strict=False)
    assert ds is not None
    draft = imp.shared_names
    assert set(draft["name"]) == {"Ben O"}  # main: getsentry-bot too
    note = next(n for n in imp.notes if "appear under several engineer ids" in n)
    assert note.startswith("1 name(s) appear under several engineer ids (e.g. 'Ben O'")


def test_a_change_for_the_next_few_days_is_reverted_as_planned(tmp_path):
    """ruff #23618 "[ty] Take myself out of the reviewer pool for the next few days", undone
    by #23833 ("This reverts commit ...") ten days later as it said."""
    r = Repo(tmp_path / "app")
    _edit(r, {"pool.toml": "a\n"}, "Initial commit", ANA, "2026-02-01")
    title = "[ty] Take myself out of the reviewer pool for the next few days (#23618)"
    _edit(r, {"pool.toml": "b\n"}, title, BEN, "2026-02-27")
    sha = r.git("rev-parse", "HEAD")
    message = f"[ty] Add myself to the reviewer pool again (#23833)\n\nThis reverts commit {sha}."
    _edit(r, {"pool.toml": "a\n"}, message, BEN, "2026-03-09")
    got, notes = _import(r)
    assert got["org/app#23618"] is False
    assert "1 PR(s) had a temporary change reverted as planned (org/app#23618)" in notes


def test_authors_writing_from_the_rosters_domain_are_named_as_likely_colleagues(tmp_path):
    """L11: 7 authors outside the roster wrote from @sentry.io (11 PRs) and counted as
    never-certified engineers of team 'unknown', with no hint that they are colleagues."""
    r = Repo(tmp_path / "app")
    eve, kim = ("Eve Adams", "eve@corp.example"), ("Kim Out", "kim.out@gmail.com")
    for i, who in enumerate([ANA, BEN, eve, eve, kim], start=1):
        r.commit(f"Change {i} (#{i})", who, f"2025-03-{i + 1:02d}T10:00:00Z")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "engineer_id,email,team,role,level,hire_date,platform\n"
        f"ana,{ANA[1]},core,backend,mid,2023-01-10,aws\n"
        f"ben,{BEN[1]},core,backend,mid,2023-01-10,aws\n"
    )
    domain = ANA[1].split("@")[1]
    assert BEN[1].endswith("@" + domain) and eve[1].endswith("@" + domain)
    imp = _prs(r)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to_dataset(imp, engineers=roster)
    (note,) = [n for n in imp.notes if "own e-mail domain" in n]
    assert note.startswith(
        f"1 author(s) outside the roster write from the roster's own e-mail domain (@{domain}: "
        f"{eve[1]}; 2 PR(s)): probably colleagues"
    )
    assert "kim" not in note  # a public mail domain is nobody's organisation


def test_a_repository_named_from_its_folder_says_how_to_name_it(tmp_path):
    """L6: a clone of a local mirror (origin a path) was named 'repo' from its folder, so its
    PR ids read repo#N, and nothing said how to name it."""
    r = Repo(tmp_path / "repo", origin=str(tmp_path / "mirror.git"))
    r.commit("Change (#1)", ANA, "2025-03-01T10:00:00Z")
    imp = _prs(r)
    assert imp.pull_requests["id"].to_list() == ["repo#1"]
    (note,) = [n for n in imp.notes if "named from the folder" in n]
    assert note.startswith("'repo': named from the folder, as the origin is no hosted URL")
    assert "--repo-name owner/name" in note
    named = _prs(r, repo_names=["getsentry/sentry-python"])
    assert not [n for n in named.notes if "named from the folder" in n]
    hosted = Repo(tmp_path / "app")  # origin git@github.com:org/app.git
    hosted.commit("Change (#1)", ANA, "2025-03-01T10:00:00Z")
    assert not [n for n in _prs(hosted).notes if "named from the folder" in n]


def test_the_colleague_note_gives_no_pr_count_without_prs():
    """trial AG (B2): the DevLake pushdown, which hands over no PRs, said "0 PR(s)" where
    the import of the same lake said 10."""
    from certkit.connectors.colleagues import colleague_note

    roster = pl.DataFrame({"engineer_id": ["a", "b"], "email": ["a@corp.io", "b@corp.io"]})
    added = pl.DataFrame({"engineer_id": ["c"], "email": ["c@corp.io"]})
    prs = pl.DataFrame({"author_id": ["c", "c"]})
    assert "(@corp.io: c@corp.io; 2 PR(s))" in colleague_note(roster, added, prs)
    none = colleague_note(roster, added, prs.clear())
    assert "(@corp.io: c@corp.io)" in none and "PR(s)" not in none


def test_the_colleague_note_leaves_automation_out():
    """trial AH (L4): sdk-sentinel-bot (sdk-sentinel@temporal.io) was a "probable colleague"
    beside the note that called it automation."""
    from certkit.connectors.colleagues import colleague_note

    roster = pl.DataFrame({"engineer_id": ["a", "b"], "email": ["a@corp.io", "b@corp.io"]})
    added = pl.DataFrame(
        {
            "engineer_id": ["c", "sdk-sentinel@corp.io"],
            "email": ["c@corp.io", "sdk-sentinel@corp.io"],
            "name": ["C", "sdk-sentinel-bot"],  # only the name says bot (trial AI)
        }
    )
    note = colleague_note(roster, added, pl.DataFrame({"author_id": ["c"]}))
    assert note.startswith("1 author(s) outside the roster") and "sentinel" not in note
