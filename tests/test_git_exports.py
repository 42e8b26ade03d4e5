"""Histories exported from an internal monorepo (Meta's ShipIt: facebook/watchman).

Since 2025-09, facebook/watchman's 659 commits are all on main, none a merge, each committed
by an export bot (``meta-codesync[bot]``, "Facebook GitHub Bot") with its author date set to
its commit date. 337 name the reviewed diff they came from by a bare ``Differential Revision:
D115455900`` (no URL); 12 external contributions also end in ``(#1331)`` with ``Pull Request
resolved: https://github.com/facebook/watchman/pull/1331``; 322 are "Updating hashes" by
"Open Source Bot <generatedunixname499836121@meta.com>"; codemods are authored
``generatedunixname89002005307016``. certkit read 13 PRs, called the 322 bot commits
"pushed directly (use as_prs to count them)", the 337 diffs direct pushes, and the
codemod accounts people.
"""

from __future__ import annotations

import polars as pl
from test_connectors_git import ANA, BEN, Repo

from certkit.connectors import read_git
from certkit.data.panel import APPROXIMATE_CREATED
from certkit.narrative.effects import APPROXIMATED_KINDS, approximated_reason

EXPORT = ("meta-codesync[bot]", "215208954+meta-codesync[bot]@users.noreply.github.com")
HASHES = ("Open Source Bot", "generatedunixname499836121@meta.com")
CODEMOD = ("generatedunixname89002005307016", "generatedunixname89002005307016@meta.com")
ORIGIN = "https://github.com/facebook/watchman.git"
REPO = "facebook/watchman"


def _diff(subject: str, n: int) -> str:
    return f"{subject}\n\nSummary:\nWhy.\n\nReviewed By: someone\n\nDifferential Revision: D{n}\n"


def _export(tmp_path) -> Repo:
    r = Repo(tmp_path / "watchman", origin=ORIGIN)
    r.commit("Updating hashes", HASHES, "2025-09-01T09:00:00Z", committer=EXPORT)
    r.commit(_diff("inodes: preserve access time", 115455900), ANA, "2025-09-02T10:00:00Z",
             committer=EXPORT)  # fmt: skip
    r.commit(_diff("query: fix a leak", 115455901), BEN, "2025-09-03T10:00:00Z",
             committer=EXPORT)  # fmt: skip
    r.commit("Updating hashes\n\nSummary:\nGitHub commits:\n\nfbshipit-source-id: 6bc2\n",
             HASHES, "2025-09-03T11:00:00Z", committer=EXPORT)  # fmt: skip
    r.commit(_diff("Fix CQS signal modernize-use-emplace", 82099620), CODEMOD,
             "2025-09-04T10:00:00Z", committer=EXPORT)  # fmt: skip
    r.commit(
        "Install pip in Ubuntu buildenv (#1331)\n\nSummary:\nPull Request resolved: "
        "https://github.com/facebook/watchman/pull/1331\n\nDifferential Revision: D90000001\n",
        BEN,
        "2025-09-05T10:00:00Z",
        committer=EXPORT,
    )
    r.commit("Updating hashes\n\nfbshipit-source-id: 9b6a\n", HASHES, "2025-09-06T11:00:00Z",
             committer=EXPORT)  # fmt: skip
    return r


def test_an_exported_history_reads_its_reviewed_diffs_as_prs(tmp_path):
    imp = read_git(_export(tmp_path).path)
    prs = {row["id"]: row for row in imp.pull_requests.to_dicts()}
    assert set(prs) == {
        f"{REPO}#D115455900",
        f"{REPO}#D115455901",
        f"{REPO}#D82099620",
        f"{REPO}#1331",  # the GitHub PR's number: joins a gh export
    }
    diff = prs[f"{REPO}#D115455900"]
    assert diff["author_id"] == "ana@corp.example" and not diff["is_bot_author"]
    # the export wrote one date for both: no creation date, out of cycle time
    assert diff["created_source"] == "exported"  # main: no PR at all
    assert "exported" in APPROXIMATE_CREATED
    assert diff["created_date"] == diff["merged_date"]
    # a GitHub PR imported and exported back with the diffs (trial M, M6)
    assert prs[f"{REPO}#1331"]["created_source"] == "exported"
    codemod = prs[f"{REPO}#D82099620"]
    assert codemod["is_bot_author"]  # an automation account, not an engineer
    people = set(imp.people.filter(~imp.people["is_bot"])["engineer_id"].to_list())
    assert people == {"ana@corp.example", "ben@corp.example"}
    notes = " ".join(imp.notes)
    assert "3 of those changes were exported from an internal review system" in notes
    assert "merged by fast-forward" not in notes  # nothing here was a fast-forward
    # the hash updates are automation: no advice to count them as PRs
    assert "3 commit(s) by automation were pushed directly (no PR)" in notes
    assert "as_prs" not in notes


def test_a_fast_forward_by_its_author_is_still_said_as_one(tmp_path):
    r = Repo(tmp_path / "app", origin="https://github.com/org/app.git")
    r.commit("initial", ANA, "2025-09-01T09:00:00Z")
    r.commit(_diff("a change", 7), ANA, "2025-09-02T10:00:00Z")
    r.commit("a direct push", BEN, "2025-09-02T11:00:00Z")
    r.commit("Updating hashes", HASHES, "2025-09-02T12:00:00Z", committer=EXPORT)
    notes = " ".join(read_git(r.path).notes)
    assert "1 of those changes were merged by fast-forward" in notes
    assert "exported from an internal" not in notes
    assert (
        "3 commit(s) were pushed directly (no PR), 1 of them by automation; they are in "
        "commits but not in pull_requests"
    ) in notes


def test_another_repositorys_pr_number_and_meta_backouts(tmp_path):
    """facebook/watchman: 91 of its 203 ``(#N)`` subjects were other repositories' pull
    requests exported with the same diff ("flip opensource to use pyrefly (#439)": ``Pull
    Request resolved: https://github.com/facebook/CacheLib/pull/439``; "Migrate from googletest
    1.8 to googletest 1.10 (#67)": ``X-link: https://github.com/facebookincubator/hsthrift/
    pull/67``). Meta's backouts are ``Revert D<n>: <title>``, either a diff of their own
    ("This diff is reverting D39354414") or with the reverted diff's number on the line after
    ``Differential Revision:`` (which made the backout a commit of the diff it reverts)."""
    r = Repo(tmp_path / "watchman", origin=ORIGIN)
    r.commit("Updating hashes", HASHES, "2025-09-01T09:00:00Z", committer=EXPORT)
    r.commit(
        "flip opensource to use pyrefly (#439)\n\nSummary: Pull Request resolved: "
        "https://github.com/facebook/CacheLib/pull/439\n\nDifferential Revision: D99315659\n",
        ANA,
        "2025-09-02T10:00:00Z",
        committer=EXPORT,
    )
    r.commit(
        "Migrate from googletest 1.8 to googletest 1.10 (#67)\n\nSummary:\nX-link: "
        "https://github.com/facebookincubator/hsthrift/pull/67\n\nDifferential Revision: "
        "D34351084\n",
        BEN,
        "2025-09-03T10:00:00Z",
        committer=EXPORT,
    )
    r.commit(
        "Use /proc/self (#1322)\n\nSummary:\nX-link: https://github.com/facebook/folly/pull/1322"
        "\nPull Request resolved: https://github.com/facebook/watchman/pull/1322\n\n"
        "Differential Revision: D90000002\n",
        BEN,
        "2025-09-04T10:00:00Z",
        committer=EXPORT,
    )
    r.commit(_diff("remove optionality of w_string", 39354414), ANA, "2025-09-05T10:00:00Z",
             committer=EXPORT)  # fmt: skip
    r.commit(
        "Revert D39354414: remove optionality of w_string\n\nSummary:\nThis diff is reverting "
        "D39354414\n\nDifferential Revision: D39490655\n",
        BEN,
        "2025-09-06T10:00:00Z",
        committer=EXPORT,
    )
    r.commit(
        "Revert D34351084: Migrate from googletest 1.8 to googletest 1.10\n\n"
        "Differential Revision:\nD34351084\n\nOriginal Phabricator Diff: D34351084\n",
        ANA,
        "2025-09-07T10:00:00Z",
        committer=EXPORT,
    )
    imp = read_git(r.path)
    prs = {row["id"]: row for row in imp.pull_requests.to_dicts()}
    assert set(prs) == {
        f"{REPO}#D99315659",  # main: facebook/watchman#439 (CacheLib's PR)
        f"{REPO}#D34351084",  # main: facebook/watchman#67 (hsthrift's PR)
        f"{REPO}#1322",  # this repository's own PR, though folly's has the same number
        f"{REPO}#D39354414",
        f"{REPO}#D39490655",
    }
    assert prs[f"{REPO}#D39354414"]["reverted"]  # by a backout diff of its own
    assert prs[f"{REPO}#D34351084"]["reverted"]  # by a backout pushed as a commit
    commits = {c["subject"]: c["pr_id"] for c in imp.commits.to_dicts()}
    assert commits["Revert D34351084: Migrate from googletest 1.8 to googletest 1.10"] is None
    assert not prs[f"{REPO}#D39490655"]["reverted"]


def test_the_cycle_time_reason_names_exported_changes_and_no_gh_route(tmp_path):
    """watchman's report said "663 fast-forwarded changes" and sent the reader to a gh export
    and DevLake's GitLab plugin, neither of which dates a Phabricator diff."""
    import polars as pl

    approx = pl.DataFrame({"created_source": ["exported", "squash_commit"], "prs": [663, 29]})
    why = approximated_reason(approx, 692)
    assert "(663 changes exported from a review system, 29 squash merges)" in why
    assert why.endswith("exported changes can be dated only by the review system they came from")
    assert set(APPROXIMATED_KINDS) == set(APPROXIMATE_CREATED)


COPYBARA = ("Copybara-Service", "copybara-worker@google.com")
ABSL = "https://github.com/abseil/abseil-cpp.git"


def _cl(subject: str, n: int, body: str = "") -> str:
    cid = f"{n:040x}"[-40:]
    return f"{subject}\n\n{body}PiperOrigin-RevId: {n}\nChange-Id: I{cid}\n"


def test_copybara_change_lists_are_prs_out_of_cycle_time(tmp_path):
    """abseil/abseil-cpp since 2025-09: 677 commits, each a Google change list exported by
    Copybara (``PiperOrigin-RevId: 968925055`` and a ``Change-Id:``), committed by
    Copybara-Service about 40 seconds after its author date. certkit read them as Gerrit
    changes created at their author date: a median cycle time of 45 seconds, silently."""
    r = Repo(tmp_path / "abseil", origin=ABSL)
    r.commit("Initial", ANA, "2025-09-01T09:00:00Z")
    r.commit(_cl("cord_internal: finish removing asan poisoning", 968925055), ANA,
             "2025-09-02T10:00:00Z", committer=COPYBARA, cdate="2025-09-02T10:00:39Z")  # fmt: skip
    r.commit(
        _cl(
            "PR #2128: Guard invalid _Float16",
            968925100,
            "Imported from GitHub PR https://github.com/abseil/abseil-cpp/pull/2128\n\n"
            "COPYBARA_INTEGRATE_REVIEW=https://github.com/abseil/abseil-cpp/pull/2128 from "
            "nabhan06:guard 05fcf14e5298f1d47203ba3204840d3f73195f75\n",
        ),
        BEN,
        "2025-09-03T10:00:00Z",
        committer=COPYBARA,
        cdate="2025-09-03T10:00:41Z",
    )
    imp = read_git(r.path)
    prs = {row["id"]: row for row in imp.pull_requests.to_dicts()}
    assert set(prs) == {"abseil/abseil-cpp#CL968925055", "abseil/abseil-cpp#2128"}
    assert {row["created_source"] for row in prs.values()} == {"exported"}  # main: 45 s cycles
    assert prs["abseil/abseil-cpp#2128"]["number"] == 2128  # joins a gh export of the PR
    notes = " ".join(imp.notes)
    assert "2 change list(s) exported by Copybara (PiperOrigin-RevId:" in notes
    assert "Gerrit" not in notes


def test_google_rollbacks_revert_the_change_they_name(tmp_path):
    """abseil-cpp's 59 rollbacks: ``Rollback: "<title>"``, ``Rollback of "<title>"``,
    ``Revert: <title>`` and ``Automated rollback of commit <sha>.``; none was read as a
    revert (only git's ``Revert "..."``/``This reverts commit``)."""
    r = Repo(tmp_path / "abseil", origin=ABSL)
    r.commit("Initial", ANA, "2025-09-01T09:00:00Z")
    cls = {}
    for i, title in enumerate(
        [
            "Add ABSL_ATTRIBUTE_NOINLINE to PrepareInsertLargeSlow.",
            "Speed up StrAppend by up to 4x.",
            "Add -Wdead-code-aggressive to ABSL_LLVM_FLAGS",
            "Use possible CPUs to identify NumCPUs() on Linux.",
            "Roll out the new hash",  # a title that is not a rollback of anything
        ]
    ):
        cls[title] = r.commit(_cl(title, 100 + i), ANA, f"2025-09-0{2 + i}T10:00:00Z",
                              committer=COPYBARA)  # fmt: skip
    for i, subject in enumerate(
        [
            'Rollback: "Add ABSL_ATTRIBUTE_NOINLINE to PrepareInsertLargeSlow."',
            'Rollback of "Speed up StrAppend by up to 4x."',
            "Revert: Add -Wdead-code-aggressive to ABSL_LLVM_FLAGS",
            f"Automated rollback of commit {cls['Use possible CPUs to identify NumCPUs() on Linux.']}.",
        ]
    ):
        r.commit(_cl(subject, 200 + i), BEN, f"2025-09-1{i}T10:00:00Z", committer=COPYBARA)
    imp = read_git(r.path)
    got = {row["title"]: row["reverted"] for row in imp.pull_requests.to_dicts()}
    for title in list(cls)[:4]:
        assert got[title] is True, title  # main: False
    assert got["Roll out the new hash"] is False


def test_older_shipit_exports_dated_minutes_apart_are_exported_too(tmp_path):
    """facebook/watchman 2016-2022: "Facebook Github Bot" committed each diff a few minutes
    after its author date, the diff's landing inside the monorepo: 2,345 diffs had a median
    "cycle time" of 3.5 minutes. A reviewer who commits someone's diff by hand (LLVM's
    Phabricator) keeps the approximation of a branch's first commit."""
    r = Repo(tmp_path / "watchman", origin=ORIGIN)
    r.commit("Updating hashes", HASHES, "2019-01-01T09:00:00Z", committer=EXPORT)
    old_bot = ("Facebook Github Bot", "facebook-github-bot-bot@fb.com")
    r.commit(_diff("stat: avoid a null pointer", 4369093), ANA, "2019-01-02T10:00:00Z",
             committer=old_bot, cdate="2019-01-02T10:03:30Z")  # fmt: skip
    r.commit(_diff("landed by a reviewer", 4369094), ANA, "2019-01-03T10:00:00Z",
             committer=BEN, cdate="2019-01-05T10:00:00Z")  # fmt: skip
    prs = {row["id"]: row for row in read_git(r.path).pull_requests.to_dicts()}
    assert prs[f"{REPO}#D4369093"]["created_source"] == "exported"  # main: branch_first_commit
    assert prs[f"{REPO}#D4369094"]["created_source"] == "branch_first_commit"


def test_meta_back_outs_revert_the_diff_they_name(tmp_path):
    """facebook/watchman (trial M, M1): Meta's usual backout, ``Back out "<title>"`` with
    ``Original Phabricator Diff: D111088825`` in its body and a diff of its own, was not read:
    21 such backouts in the history, none flagged its diff."""
    r = Repo(tmp_path / "watchman", origin=ORIGIN)
    r.commit("Updating hashes", HASHES, "2025-09-01T09:00:00Z", committer=EXPORT)
    r.commit(_diff("Fix cmake 3.31.12 macOS universal sha256 in manifest", 111088825), ANA,
             "2025-09-02T10:00:00Z", committer=EXPORT)  # fmt: skip
    r.commit(_diff("Do not use homebrew's boost", 111088826), ANA, "2025-09-03T10:00:00Z",
             committer=EXPORT)  # fmt: skip
    r.commit(
        'Back out "Fix cmake 3.31.12 macOS universal sha256 in manifest"\n\nSummary:\n'
        "Original commit changeset: 8dcfe9dda361\n\nOriginal Phabricator Diff: D111088825\n\n"
        "Differential Revision: D111992109\n",
        BEN,
        "2025-09-04T10:00:00Z",
        committer=EXPORT,
    )
    r.commit(_diff('Back out "Do not use homebrew\'s boost"', 111992110), BEN,
             "2025-09-05T10:00:00Z", committer=EXPORT)  # fmt: skip
    prs = {row["id"]: row["reverted"] for row in read_git(r.path).pull_requests.to_dicts()}
    assert prs[f"{REPO}#D111088825"] is True  # by the diff it names; main: False
    assert prs[f"{REPO}#D111088826"] is True  # by its title
    assert prs[f"{REPO}#D111992109"] is False


def test_google_rollbacks_by_words_numbers_and_inverse_changes(tmp_path):
    """abseil-cpp since 2023 (trial M, M2): 60 rollbacks, 47 the exact inverse of an earlier
    commit; certkit found 11. "Roll back: <title>." lost the title's period; "Rollback of"
    put the title on the next line; "Rolling back cl/565792699" and "Rollback of PR #1349: ..."
    name a change by number; most say what they undo in words only ("Rollback new poisoned
    pointer API"): the commit whose changes they undo file by file is the one."""
    r = Repo(tmp_path / "abseil", origin=ABSL)
    r.commit("Initial", ANA, "2023-01-01T09:00:00Z")
    shas = {}
    for i, (title, file, lines) in enumerate(
        [
            ("Add more debug capacity validation checks on moves.", "a.cc", 3),
            ("Add [[clang::nomerge]] to HardeningAbort()", "b.cc", 2),
            ("Use the new log severity", "c.cc", 4),
            ("Add a new poisoned pointer API", "d.cc", 5),
            ("Unrelated change to d", "e.cc", 5),
        ]
    ):
        shas[title] = r.commit(_cl(title, 100 + i), ANA, f"2023-02-0{1 + i}T10:00:00Z",
                               lines=lines, committer=COPYBARA, file=file)  # fmt: skip
    merged = r.commit(_cl("PR #1349: direct_mmap: Use off_t on linux", 150), BEN,
                      "2023-02-07T10:00:00Z", committer=COPYBARA, file="f.cc")  # fmt: skip

    def rollback(message: str, sha: str, n: int, day: int) -> None:
        r.git("revert", "--no-commit", sha)
        r.git("commit", "-q", "-m", _cl(message, n),
              env=Repo._env(BEN, f"2023-03-{day:02d}T10:00:00Z", COPYBARA))  # fmt: skip

    rollback("Roll back: Add more debug capacity validation checks on moves.",
             shas["Add more debug capacity validation checks on moves."], 200, 1)  # fmt: skip
    rollback("Rollback of\nAdd [[clang::nomerge]] to HardeningAbort()",
             shas["Add [[clang::nomerge]] to HardeningAbort()"], 201, 2)  # fmt: skip
    rollback("Rolling back cl/102", shas["Use the new log severity"], 202, 3)
    rollback("Rollback of PR #1349: direct_mmap: Use off_t on linux...", merged, 203, 4)
    rollback("Rollback new poisoned pointer API", shas["Add a new poisoned pointer API"], 204, 5)
    imp = read_git(r.path)
    got = {row["title"]: row["reverted"] for row in imp.pull_requests.to_dicts()}
    for title in list(shas)[:4]:
        assert got[title] is True, title  # main: False
    assert got["PR #1349: direct_mmap: Use off_t on linux"] is True
    assert got["Unrelated change to d"] is False  # same size, other file: not undone


def test_a_github_merge_with_only_trailers_in_its_body_keeps_a_title(tmp_path):
    """abseil-cpp (trial M, M4): 34 GitHub merges exported by Copybara have only
    ``PiperOrigin-RevId:`` and ``Change-Id:`` after their subject: their title was
    "PiperOrigin-RevId: 500300819"."""
    r = Repo(tmp_path / "abseil", origin=ABSL)
    r.commit("Initial", ANA, "2023-01-01T09:00:00Z")
    r.branch("remove-off64_t")
    r.commit("direct_mmap: Use off_t on linux", BEN, "2023-01-02T09:00:00Z")
    r.checkout("main")
    r.merge(
        "remove-off64_t",
        "Merge pull request #1349 from kraj:remove-off64_t\n\nPiperOrigin-RevId: 500300819\n"
        "Change-Id: I0123456789abcdef0123456789abcdef01234567",
        "2023-01-03T09:00:00Z",
    )
    title = read_git(r.path).pull_requests.filter(pl.col("id") == "abseil/abseil-cpp#1349")["title"]
    assert not title[0].startswith("PiperOrigin-RevId")  # main: "PiperOrigin-RevId: 500300819"


def test_a_pr_rolled_back_under_its_own_number_is_reverted(tmp_path):
    """abseil-cpp #2067 (trial M, M5): Copybara exported the PR (+1/-9), then 90 minutes
    later its rollback with the same title and description (+9/-1, the inverse diff) and
    no integrate line. certkit read one PR #2067 of 20 lines, merged at the rollback, not
    reverted."""
    r = Repo(tmp_path / "abseil", origin=ABSL)
    r.commit("Initial", ANA, "2026-06-01T09:00:00Z", lines=12, file="handler.cc")
    text = "line 0\n" + "".join(f"line {i}\n" for i in range(10, 12)) + "simplified\n"
    body = (
        "Imported from GitHub PR https://github.com/abseil/abseil-cpp/pull/2067\n\n"
        "Merging this change closes #2067\n\n"
    )
    (r.path / "handler.cc").write_text(text)
    r.git("add", "handler.cc")
    integrate = (
        "COPYBARA_INTEGRATE_REVIEW=https://github.com/abseil/abseil-cpp/pull/2067 from "
        "h-vetinari:var_rm2 49ed819784433e80f3329ebca1f0d40c47cf6fbb\n"
    )
    title = "PR #2067: Simplify the condition for ABSL_HAVE_PTHREAD_CPU_NUMBER_NP"
    r.git("commit", "-q", "-m", _cl(title, 926184137, body + integrate),
          env=Repo._env(BEN, "2026-06-03T19:09:45Z", COPYBARA, "2026-06-03T19:11:56Z"))  # fmt: skip
    landed = r.git("rev-parse", "HEAD")
    r.git("revert", "--no-commit", landed)
    r.git("commit", "-q", "-m", _cl(title, 926238049, body),
          env=Repo._env(BEN, "2026-06-03T20:39:17Z", COPYBARA, "2026-06-03T20:40:05Z"))  # fmt: skip
    r.commit(_cl("Unrelated change", 926300000), ANA, "2026-06-04T10:00:00Z", committer=COPYBARA)
    imp = read_git(r.path)
    pr = imp.pull_requests.filter(pl.col("number") == 2067).row(0, named=True)
    added, deleted = (int(x) for x in r.git("show", "--numstat", "--format=", landed).split()[:2])
    assert (pr["additions"], pr["deletions"]) == (added, deleted)  # main: both diffs summed
    assert pr["reverted"] is True  # main: False
    assert pr["merged_date"].isoformat().startswith("2026-06-03T19:11:56")  # the landing
    assert any("merged and then rolled back under the same number" in n for n in imp.notes)
    other = imp.pull_requests.filter(pl.col("title") == "Unrelated change")
    assert other["reverted"].to_list() == [False]
    rollback = imp.commits.filter(pl.col("committed_date").dt.hour() == 20)
    assert rollback["pr_id"].to_list() == [pr["id"]]
