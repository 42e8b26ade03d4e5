"""Git connector: real throwaway repositories built with ``git`` (no mocked git).

The scenario repository has merge commits, GitHub squash merges, a revert, a renamed author
(``.mailmap``), an identity file, bots, AI trailers from several tools and near-miss strings
that must NOT count as AI (Claude Monet, Devin Smith, ``Assisted-by: none``, a Copilot display
name with a personal e-mail, a trailer-like line outside the trailer block).
"""

from __future__ import annotations

import os
import subprocess
import warnings
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

import certkit
from certkit.connectors import read_git, to_dataset, write_import
from certkit.errors import CertkitError

GH = ("GitHub", "noreply@github.com")


class Repo:
    """A throwaway git repository with full control over authors, dates and messages."""

    def __init__(self, path: Path, origin: str | None = "git@github.com:org/app.git"):
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "commit.gpgsign", "false")
        if origin:
            self.git("remote", "add", "origin", origin)
        self.n = 0

    def git(self, *args: str, env: dict | None = None) -> str:
        full = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
            **(env or {}),
        }
        res = subprocess.run(
            ["git", *args], cwd=self.path, env=full, capture_output=True, text=True, check=True
        )
        return res.stdout.strip()

    @staticmethod
    def _env(author, date, committer=None, cdate=None) -> dict:
        committer = committer or author
        return {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
            "GIT_COMMITTER_DATE": cdate or date,
        }

    def commit(self, message, author, date, lines=1, committer=None, cdate=None, file=None):
        """Commit ``lines`` new lines in a fresh file; returns the sha."""
        self.n += 1
        name = file or f"f{self.n}.txt"
        (self.path / name).write_text("".join(f"line {i}\n" for i in range(lines)))
        self.git("add", name)
        self.git("commit", "-q", "-m", message, env=self._env(author, date, committer, cdate))
        return self.git("rev-parse", "HEAD")

    def branch(self, name: str, start: str = "main"):
        self.git("checkout", "-q", "-b", name, start)

    def checkout(self, name: str):
        self.git("checkout", "-q", name)

    def merge(self, branch, message, date, author=("Ana Silva", "ana@corp.example")):
        self.git(
            "merge", "-q", "--no-ff", "-m", message, branch, env=self._env(author, date, GH, date)
        )
        return self.git("rev-parse", "HEAD")


ANA = ("Ana Silva", "ana@corp.example")
ANA_HOME = ("Ana S", "ana.silva@gmail.com")
BEN = ("Ben Okafor", "ben@corp.example")
BEN_OLD = ("B. Okafor", "bokafor@old.example")
CHEN_AIDER = ("Chen Nguyen (aider)", "chen@corp.example")
CHEN = ("Chen Nguyen", "chen@corp.example")
COPILOT_AGENT = ("copilot-swe-agent[bot]", "198982749+Copilot@users.noreply.github.com")
DEPENDABOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
DEVIN_SMITH = ("Devin Smith", "devin.smith@corp.example")

IDENTITIES = """engineer_id,email,name
ana,ana@corp.example,Ana Silva
ana,ana.silva@gmail.com,
ben,ben@corp.example,
chen,chen@corp.example,
"""


def build_scenario(root: Path) -> tuple[Repo, dict[str, str]]:
    """The scenario repository; returns it and the shas of interest."""
    r = Repo(root / "app")
    shas = {}
    (r.path / ".mailmap").write_text("Ben Okafor <ben@corp.example> <bokafor@old.example>\n")
    r.git("add", ".mailmap")
    shas["initial"] = r.commit("Initial commit", ANA, "2024-01-01T09:00:00+00:00", lines=5)

    # PR 1: merge commit; Claude Code trailer + generated line; second commit from home e-mail.
    r.branch("feat-a")
    r.commit(
        "Add feature A\n\nBody text.\n\n"
        "🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n"
        "Co-Authored-By: Claude <noreply@anthropic.com>",
        ANA,
        "2024-01-02T10:00:00+02:00",  # 08:00 UTC
        lines=10,
    )
    r.commit("Polish feature A", ANA_HOME, "2024-01-03T09:00:00+00:00", lines=4)
    r.checkout("main")
    shas["merge1"] = r.merge(
        "feat-a", "Merge pull request #1 from org/feat-a\n\nAdd feature A", "2024-01-04T12:00:00Z"
    )

    # PR 2: GitHub squash merge by Ben under his old e-mail (mapped by .mailmap); near-miss
    # co-author "Claude Monet" with a personal e-mail.
    shas["squash2"] = r.commit(
        "Add B (#2)\n\n* wip\n\n* more\n\nCo-authored-by: Claude Monet <claude.monet@gmail.com>",
        BEN_OLD,
        "2024-01-05T08:00:00Z",
        lines=7,
        committer=GH,
        cdate="2024-01-05T15:00:00Z",
    )

    # PR 3: merge commit; aider author suffix and message prefix, then a Cursor trailer.
    r.branch("chen-refactor")
    r.commit("aider: refactor parser", CHEN_AIDER, "2024-01-06T10:00:00Z", lines=3)
    r.commit("Tidy\n\nMade-with: Cursor", CHEN, "2024-01-06T11:00:00Z", lines=2)
    r.checkout("main")
    r.merge(
        "chen-refactor",
        "Merge pull request #3 from org/chen-refactor\n\nRefactor parser",
        "2024-01-07T09:00:00Z",
    )

    # PR 4: Copilot coding agent squash; the assigning human is the co-author.
    r.commit(
        "Fix flaky test (#4)\n\nInitial plan\n\n"
        "Co-authored-by: copilot-swe-agent[bot] <198982749+Copilot@users.noreply.github.com>\n"
        "Co-authored-by: Ben Okafor <ben@corp.example>",
        COPILOT_AGENT,
        "2024-01-08T10:00:00Z",
        lines=2,
        committer=GH,
    )
    # PR 5: dependabot.
    r.commit("Bump lib from 1.0 to 1.1 (#5)", DEPENDABOT, "2024-01-09T10:00:00Z", committer=GH)
    # PR 6: near misses only: a person named Devin, "Assisted-by: none", a Copilot display
    # name with a personal e-mail.
    r.commit(
        "Devin's change (#6)\n\nAssisted-by: none\n"
        "Co-authored-by: Copilot <copilot.fan@example.com>",
        DEVIN_SMITH,
        "2024-01-10T10:00:00Z",
        lines=3,
        committer=GH,
    )
    # Direct push with a trailer-like line that is prose, not in the trailer block.
    shas["docs"] = r.commit(
        "Docs\n\nAssisted-by: Claude is how the policy spells it.\n\n"
        "Signed-off-by: Ana Silva <ana@corp.example>",
        ANA,
        "2024-01-11T10:00:00Z",
    )
    # PR 7: GitHub revert of PR 2 (squash).
    r.commit(
        f'Revert "Add B (#2)" (#7)\n\nThis reverts commit {shas["squash2"]}.',
        ANA,
        "2024-01-12T10:00:00Z",
        committer=GH,
        file="f2b.txt",
    )
    # Plain "Merge branch" with a kernel-style Assisted-by trailer on the branch commit.
    r.branch("hotfix")
    r.commit(
        "Hotfix\n\nAssisted-by: Claude:claude-3-opus coccinelle sparse",
        ANA,
        "2024-01-13T10:00:00Z",
        lines=2,
    )
    r.checkout("main")
    shas["merge_hotfix"] = r.merge("hotfix", "Merge branch 'hotfix'", "2024-01-13T12:00:00Z")
    return r, shas


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    root = tmp_path_factory.mktemp("git")
    repo, shas = build_scenario(root)
    ids = root / "identities.csv"
    ids.write_text(IDENTITIES)
    return repo, shas, ids


@pytest.fixture(scope="module")
def imported(scenario):
    repo, shas, ids = scenario
    return read_git([repo.path], identities=ids)


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def test_pull_requests_exact(imported, scenario):
    _, shas, _ = scenario
    prs = imported.pull_requests.sort("created_date")
    hotfix = f"org/app@{shas['merge_hotfix'][:10]}"
    expected = pl.DataFrame(
        {
            "id": [
                "org/app#1",
                "org/app#2",
                "org/app#3",
                "org/app#4",
                "org/app#5",
                "org/app#6",
                "org/app#7",
                hotfix,
            ],
            "author_id": ["ana", "ben", "chen", "ben", "dependabot[bot]", None, "ana", "ana"],
            "created_date": [
                _t("2024-01-02T08:00:00"),
                _t("2024-01-05T08:00:00"),
                _t("2024-01-06T10:00:00"),
                _t("2024-01-08T10:00:00"),
                _t("2024-01-09T10:00:00"),
                _t("2024-01-10T10:00:00"),
                _t("2024-01-12T10:00:00"),
                _t("2024-01-13T10:00:00"),
            ],
            "merged_date": [
                _t("2024-01-04T12:00:00"),
                _t("2024-01-05T15:00:00"),
                _t("2024-01-07T09:00:00"),
                _t("2024-01-08T10:00:00"),
                _t("2024-01-09T10:00:00"),
                _t("2024-01-10T10:00:00"),
                _t("2024-01-12T10:00:00"),
                _t("2024-01-13T12:00:00"),
            ],
            "additions": [14, 7, 5, 2, 1, 3, 1, 2],
            "ai_tool": ["claude", None, "aider,cursor", "copilot", None, None, None, "claude"],
            "reverted": [False, True, False, False, False, False, False, False],
            "number": [1, 2, 3, 4, 5, 6, 7, None],
            "created_source": ["branch_first_commit"]
            + ["squash_commit"]
            + ["branch_first_commit"]
            + ["squash_commit"] * 4
            + ["branch_first_commit"],
        }
    ).with_columns(
        pl.col("author_id").fill_null("devin.smith@corp.example"),
        pl.col("number").cast(pl.Int64),
        pl.col("created_date", "merged_date").cast(pl.Datetime("us")),
    )
    got = prs.select(expected.columns)
    assert got.to_dicts() == expected.to_dicts()
    assert prs["ai_assisted"].to_list() == [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert prs.filter(pl.col("id") == "org/app#1")["title"].item() == "Add feature A"
    assert prs.filter(pl.col("id") == "org/app#2")["title"].item() == "Add B"
    assert prs["is_bot_author"].to_list() == [False] * 4 + [True] + [False] * 3
    assert prs["repo"].unique().to_list() == ["org/app"]


def test_ai_evidence_names_rule_and_commit(imported, scenario):
    _, shas, _ = scenario
    ev = imported.ai_evidence
    rules = set(zip(ev["pr_id"], ev["rule"], strict=True))
    assert ("org/app#1", "claude-coauthor") in rules
    assert ("org/app#1", "claude-generated-line") in rules
    assert ("org/app#3", "aider-name-suffix") in rules
    assert ("org/app#3", "aider-subject-prefix") in rules
    assert ("org/app#3", "cursor-made-with") in rules
    assert ("org/app#4", "copilot-noreply") in rules  # 198982749+Copilot@...
    hotfix = f"org/app@{shas['merge_hotfix'][:10]}"
    assert ev.filter(pl.col("pr_id") == hotfix)["evidence"].to_list() == [
        "Assisted-by: Claude:claude-3-opus coccinelle sparse"
    ]
    # Near misses never fire.
    assert ev.filter(pl.col("pr_id").is_in(["org/app#2", "org/app#5", "org/app#6"])).height == 0
    assert shas["docs"] not in ev["sha"].to_list()


def test_commits_table(imported, scenario):
    _, shas, _ = scenario
    c = imported.commits
    assert c.height == 15  # 10 on main (3 merges) + 5 on branches
    assert c.filter(pl.col("n_parents") == 2).height == 3
    initial = c.filter(pl.col("sha") == shas["initial"]).row(0, named=True)
    assert initial["additions"] == 6  # 5 lines + .mailmap line
    assert initial["pr_id"] is None
    squash = c.filter(pl.col("sha") == shas["squash2"]).row(0, named=True)
    assert squash["author_email"] == "ben@corp.example"  # .mailmap applied
    assert squash["trailers"] == "Co-authored-by: Claude Monet <claude.monet@gmail.com>"
    assert squash["pr_id"] == "org/app#2"
    assert c.filter(pl.col("author_name").str.contains("aider")).height == 0


def test_people_and_bots(imported):
    people = imported.people.sort("engineer_id")
    assert people["engineer_id"].to_list() == [
        "ana",
        "ben",
        "chen",
        "copilot[bot]",
        "dependabot[bot]",
        "devin.smith@corp.example",
    ]
    assert people["is_bot"].to_list() == [False, False, False, True, True, False]
    assert people.filter(pl.col("engineer_id") == "ana")["first_seen"].item() == _t(
        "2024-01-01T09:00:00"
    )
    assert any("2 commit(s) were pushed directly" in n for n in imported.notes)
    assert any("squash-merged" in n for n in imported.notes)


def test_without_identity_file_ids_are_emails(scenario):
    repo, _, _ = scenario
    imp = read_git(repo.path, repo_names=["app"])
    ids = set(imp.pull_requests["author_id"])
    assert "ana@corp.example" in ids and "ben@corp.example" in ids
    assert imp.pull_requests["id"].str.starts_with("app").all()
    # The home e-mail is a separate identity without a mapping.
    assert "ana.silva@gmail.com" in set(imp.people["engineer_id"])


def test_reading_a_history_leaves_no_git_pipe_open(scenario):
    """connectors.md's `read_git(...) + read_github("missing.json")` ended with a clear error
    and three "ResourceWarning: unclosed file" from git's pipes (trial F); a reader abandoned
    half-way must not leave git blocked on a full pipe either."""
    import gc

    from certkit.connectors.git import _stream_commits
    from certkit.connectors.ledger import line_ledger

    repo, _, _ = scenario
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        read_git(repo.path, repo_names=["app"])
        line_ledger(repo.path)
        commits = _stream_commits(Path(repo.path), "HEAD", None, None, False)
        next(commits)
        commits.close()  # abandoned after one commit: git is stopped, its pipes closed
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [
        str(w.message) for w in caught
    ]


def test_since_and_direct_commits_as_prs(scenario):
    repo, shas, ids = scenario
    imp = read_git(repo.path, identities=ids, since="2024-01-10T00:00:00Z", direct_commits="as_prs")
    got = imp.pull_requests.sort("created_date")
    assert got["number"].to_list()[:2] == [6, None]  # PR 6, then the direct docs commit
    assert got.filter(pl.col("created_source") == "commit")["id"].to_list() == [
        f"org/app@{shas['docs'][:10]}"
    ]


def test_dataset_and_folder_validate(imported, tmp_path):
    certs = pl.DataFrame(
        {
            "engineer_id": ["devin.smith@corp.example"],
            "certification": ["AWS Certified Machine Learning - Specialty"],
            "earned_date": ["2024-01-06"],
        }
    )
    with pytest.warns(certkit.CertkitWarning, match="no roster given"):
        ds = to_dataset(imported, certifications=certs)
    eng = ds.engineers.sort("engineer_id")
    assert eng["engineer_id"].to_list() == ["ana", "ben", "chen", "devin.smith@corp.example"]
    assert eng["team"].unique().to_list() == ["unknown"]
    assert ds.pull_requests.height == 8
    out = tmp_path / "out"
    write_import(imported, out, certifications=certs)
    report = certkit.validate(out)
    assert report.ok, report.format()
    assert {p.name for p in out.iterdir()} >= {
        "engineers.parquet",
        "pull_requests.parquet",
        "certifications.parquet",
        "commits.parquet",
        "ai_evidence.csv",
        "import.json",
    }
    panel = certkit.build_panel(certkit.load(out), "month")
    # Bots are left out of the panel; #4 (Copilot agent) counts for ben; devin (certified in
    # his first month) is left out and has no AI PRs.
    assert panel["ai_prs"].sum() == 4


#: A roster of the scenario's three engineers (Devin Smith, also an author, is not in it).
ROSTER = {
    "engineer_id": ["ana", "ben", "chen"],
    "team": ["a", "a", "b"],
    "role": ["ml_engineer"] * 3,
    "level": ["senior", "mid", "junior"],
    "hire_date": ["2020-01-01"] * 3,
    "platform": ["aws", "gcp", "azure"],
}


def test_roster_and_unknown_authors(imported):
    roster = pl.DataFrame(ROSTER)
    with pytest.warns(certkit.CertkitWarning, match="1 author"):
        ds = to_dataset(imported, engineers=roster)
    assert ds.engineers.height == 4
    assert ds.engineers.filter(pl.col("team") == "unknown")["engineer_id"].to_list() == [
        "devin.smith@corp.example"
    ]


def test_two_repos_keep_ids_apart(tmp_path):
    a = Repo(tmp_path / "a", origin="https://github.com/org/a.git")
    b = Repo(tmp_path / "b", origin=None)
    for r in (a, b):  # two histories (identical commits, same shas, would count once)
        r.commit(f"Start {r.path.name}", ANA, "2024-02-01T09:00:00Z")
        r.commit("Thing (#1)", BEN, "2024-02-02T09:00:00Z")
    imp = read_git([a.path, b.path])
    assert sorted(imp.pull_requests["id"]) == ["b#1", "org/a#1"]


def test_an_author_date_after_the_merge_is_clock_skew_not_a_dropped_pr(tmp_path):
    """fastapi #589 and #722: the squash commit's author date is 1 s after its commit date.
    The PR was counted nowhere (validation drops a PR merged before it was created); it is
    now created when merged, and the import says so."""
    r = Repo(tmp_path / "app")
    r.commit("Start", ANA, "2024-02-01T09:00:00Z")
    r.commit("Fix (#7)", BEN, "2024-02-02T09:00:01Z", committer=GH, cdate="2024-02-02T09:00:00Z")
    imp = read_git(r.path)
    pr = imp.pull_requests.filter(pl.col("number") == 7).row(0, named=True)
    assert pr["created_date"] == pr["merged_date"]
    assert any("1 PR(s) have an author date after their merge commit" in n for n in imp.notes)
    prs = to_dataset(imp).pull_requests
    assert prs.filter(pl.col("id").str.ends_with("#7")).height == 1  # kept by validation


def test_the_draft_identity_file_links_ids_through_any_name_they_used(tmp_path):
    """fastapi: one person signed 'Joao Pedro Pereira Holanda' on two e-mails and a short
    name on one of them; the draft compared one name per id and missed an alias. Here three
    e-mails are linked only through the names of the one in the middle."""
    r = Repo(tmp_path / "app")
    r.commit("Start", ANA, "2024-02-01T09:00:00Z")
    signed = [
        (("João Pedro Pereira Holanda", "jp09@example.com"), 2),
        (("João Pedro Pereira Holanda", "jp.dev@example.com"), 3),
        (("J. P. Holanda", "jp.dev@example.com"), 4),
        (("J. P. Holanda", "jph@work.example"), 5),
    ]
    for n, (who, day) in enumerate(signed, start=1):
        r.commit(f"Change {n} (#{n})", who, f"2024-02-0{day}T10:00:00Z", committer=GH)
    imp = read_git(r.path)
    to_dataset(imp)
    draft = imp.shared_names
    assert set(draft["current_id"]) == {
        "jp09@example.com",
        "jp.dev@example.com",
        "jph@work.example",
    }
    assert draft["engineer_id"].n_unique() == 1  # one person
    assert draft.height == 4  # each (id, name) pair the person used on a shared name


def test_bad_input_messages(tmp_path):
    with pytest.raises(CertkitError, match="does not exist"):
        read_git(tmp_path / "nope")
    (tmp_path / "plain").mkdir()
    with pytest.raises(CertkitError, match="not a git repository"):
        read_git(tmp_path / "plain")
    with pytest.raises(CertkitError, match="direct_commits"):
        read_git(tmp_path, direct_commits="maybe")
    bad_ids = tmp_path / "ids.csv"
    bad_ids.write_text("engineer_id,email\nana,a@x\nbob,a@x\n")
    with pytest.raises(CertkitError, match=r"line 3: email 'a@x' is mapped to 'bob'.*line 2"):
        read_git(tmp_path, identities=bad_ids)
    empty = Repo(tmp_path / "empty")
    with pytest.raises(CertkitError, match="failed"):
        read_git(empty.path)


def test_one_name_under_two_ids_gets_a_note_and_a_draft_identity_file(tmp_path, capsys):
    """Found on pallets/click: 14 people committed under two e-mails (e.g. a work address
    and the GitHub noreply one) and were imported as two engineers each. The import says so
    and writes a draft identity file; passed back with --identities, they are one engineer."""
    from test_connectors_cli import run_import

    r = Repo(tmp_path / "click")
    kevin_mail = ("Kevin Deldycke", "kevin@deldycke.com")
    kevin_gh = ("kevin  deldycke", "1234+kdeldycke@users.noreply.github.com")
    r.commit("Initial commit", ANA, "2024-01-01T09:00:00Z")
    for n, (who, day) in enumerate([(kevin_mail, 2), (kevin_gh, 3), (ANA, 4)], start=1):
        r.commit(f"Change {n} (#{n})", who, f"2024-01-0{day}T10:00:00Z", committer=GH)
    # shared machine accounts are not one person: never proposed
    for n, mail in ((4, "root@build1.example"), (5, "root@build2.example")):
        r.commit(f"Build fix (#{n})", ("root", mail), f"2024-01-0{n + 1}T10:00:00Z", committer=GH)

    out = tmp_path / "out"
    assert run_import(["import", "git", str(r.path), "--out", str(out), "--no-progress"]) == 0
    said = capsys.readouterr().out
    assert "1 name(s) appear under several engineer ids (e.g. 'kevin  deldycke': " in said
    assert "kdeldycke, kevin@deldycke.com" in said
    draft = pl.read_csv(out / "identities_suggested.csv")
    assert draft["engineer_id"].to_list() == ["kdeldycke", "kdeldycke"]  # the GitHub login
    assert sorted(draft["current_id"]) == ["kdeldycke", "kevin@deldycke.com"]
    before = pl.read_parquet(out / "pull_requests.parquet")["author_id"].value_counts()
    assert before.height == 5  # kevin twice, ana, two roots

    ids = tmp_path / "identities.csv"  # checked by the analyst, kept outside the output
    ids.write_text((out / "identities_suggested.csv").read_text())
    # HR's certification export names Kevin by his work e-mail, now an alias of kdeldycke
    certs = tmp_path / "certs.csv"
    certs.write_text("engineer_id,certification,earned_date\nkevin@deldycke.com,PMLE,2024-01-03\n")
    argv = ["import", "git", str(r.path), "--out", str(out), "--identities", str(ids)]
    assert run_import([*argv, "--certifications", str(certs)]) == 0
    said = capsys.readouterr().out
    assert "appear under several engineer ids" not in said
    assert "1 certification row(s) name their engineer by an alias" in said
    prs = pl.read_parquet(out / "pull_requests.parquet")
    assert prs.filter(pl.col("author_id") == "kdeldycke").height == 2
    assert pl.read_parquet(out / "certifications.parquet")["engineer_id"].to_list() == ["kdeldycke"]
    assert not (out / "identities_suggested.csv").exists()  # the stale draft is gone


def test_a_roster_missing_a_required_column_is_refused_by_name(imported):
    """fastapi trial: a roster with `hire_dte` gave "column 'hire_date', lines 2, 3, ... and 8
    more: value is missing (required)" for every row instead of naming the column."""
    roster = pl.DataFrame(
        {
            "engineer_id": ["ana", "ben"],
            "team": ["a", "a"],
            "role": ["ml_engineer"] * 2,
            "level": ["senior", "mid"],
            "hire_dte": ["2020-01-01"] * 2,
            "platform": ["aws", "gcp"],
        }
    )
    with pytest.raises(certkit.CertkitError) as info:
        to_dataset(imported, engineers=roster)
    assert "missing required column(s) hire_date" in str(info.value)
    assert "did you mean 'hire_dte' for 'hire_date'?" in str(info.value)


def test_roster_only_leaves_authors_missing_from_the_roster_out(imported):
    """fastapi with an 18-person roster: 868 outside authors entered the comparisons as
    never certified. --roster-only leaves them out; the default says what it does."""
    roster = pl.DataFrame(ROSTER)
    with pytest.warns(certkit.CertkitWarning, match="--roster-only leaves them out"):
        to_dataset(imported, engineers=roster)
    with pytest.warns(certkit.CertkitWarning) as said:
        ds = to_dataset(imported, engineers=roster, roster_only=True)
    text = " ".join(str(w.message) for w in said)
    assert "1 author(s) are not in the roster; with --roster-only" in text
    assert sorted(ds.engineers["engineer_id"]) == ["ana", "ben", "chen"]
    # their PRs stay in the file; the panel (the analysis) has no row for them
    assert "devin.smith@corp.example" in set(ds.pull_requests["author_id"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", certkit.CertkitWarning)
        panel = certkit.build_panel(ds, "month")
    assert set(panel["engineer_id"]) <= {"ana", "ben", "chen"}
