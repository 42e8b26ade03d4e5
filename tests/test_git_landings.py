"""Direct commits that landed together, and translation updates (trial I, I8: libadwaita).

GNOME/libadwaita merges merge requests by rebase and fast-forward: no merge commit, no MR
number. With ``direct_commits="as_prs"`` each of its commits was a PR (2,185), although an MR's
commits, rewritten in one go, share their committer and commit second (0928e0af + 6db41986 by
Maximiliano Sandoval, both committed by "Alice" at 22:07:51). 431 of its commits are
translators' updates committed by "GNOME Translation Robot".
"""

from __future__ import annotations

from datetime import datetime

from test_connectors_git import ANA, BEN, CHEN, Repo

from certkit.connectors import read_git

ROBOT = ("GNOME Translation Robot", "gnome-sysadmin@gnome.org")
JORDI = ("Jordi Mas", "jmas@softcatala.example")
BALAZS = ("Balázs Úr", "balazs@urbalazs.example")
ORIGIN = "https://gitlab.gnome.org/GNOME/libadwaita.git"
REPO = "GNOME/libadwaita"


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _rebased(r: Repo, commits: list[tuple], merger, cdates: list[str]) -> list[str]:
    """An MR's commits (message, author, author date, lines), rewritten by ``merger``."""
    return [
        r.commit(msg, who, date, lines=lines, committer=merger, cdate=cdate)
        for (msg, who, date, lines), cdate in zip(commits, cdates, strict=True)
    ]


def _import(r: Repo, **kw):
    imp = read_git(r.path, direct_commits="as_prs", **kw)
    return {row["id"]: row for row in imp.pull_requests.to_dicts()}, imp


def _history(tmp_path) -> tuple[Repo, dict[str, list[str]]]:
    r = Repo(tmp_path / "libadwaita", origin=ORIGIN)
    shas: dict[str, list[str]] = {"init": [r.commit("initial", ANA, "2024-01-01T09:00:00Z")]}
    # Chen's MR of three commits, rebased and fast-forwarded by Ana in one second
    shas["mr"] = _rebased(
        r,
        [
            ("row: Add a property", CHEN, "2024-02-01T10:00:00Z", 1),
            ("row: Document it", CHEN, "2024-02-01T11:00:00Z", 2),
            ("demo: Use it", CHEN, "2024-02-02T12:00:00Z", 3),
        ],
        ANA,
        ["2024-02-05T10:00:00Z"] * 3,
    )
    # an MR of Ben's first commit and two of Chen's: Chen wrote most of it
    shas["mixed"] = _rebased(
        r,
        [
            ("dialog: Start", BEN, "2024-02-06T09:00:00Z", 1),
            ("dialog: Finish", CHEN, "2024-02-06T10:00:00Z", 1),
            ("dialog: Test", CHEN, "2024-02-06T11:00:00Z", 1),
        ],
        ANA,
        ["2024-02-07T10:00:00Z"] * 3,
    )
    # a tie (one commit each): the earliest author's
    shas["tie"] = _rebased(
        r,
        [
            ("bar: One", BEN, "2024-02-08T09:00:00Z", 1),
            ("bar: Two", CHEN, "2024-02-08T10:00:00Z", 1),
        ],
        ANA,
        ["2024-02-09T10:00:00Z"] * 2,
    )
    # a rebase that crossed a second (libadwaita 110fc918, 2e80dad2 16:49:06, 73420c5b :07)
    shas["tick"] = _rebased(
        r,
        [
            ("android: Backend", BEN, "2024-02-10T09:00:00Z", 1),
            ("android: Accent", BEN, "2024-02-10T10:00:00Z", 1),
            ("android: Expose", BEN, "2024-02-10T11:00:00Z", 1),
        ],
        BEN,
        ["2024-02-11T16:49:06Z", "2024-02-11T16:49:06Z", "2024-02-11T16:49:07Z"],
    )
    # Ana's own commits, pushed in one go without rebasing: their own commit times, one PR each
    shas["pushed"] = [
        r.commit("style: Fix a typo", ANA, "2024-03-01T10:00:00Z"),
        r.commit("style: Fix another", ANA, "2024-03-01T10:00:05Z"),
        r.commit("style: And one more", ANA, "2024-03-01T10:03:00Z"),
    ]
    # two committers in the same second: two changes
    shas["two"] = [
        r.commit("a: Fix", BEN, "2024-03-02T10:00:00Z"),
        r.commit("b: Fix", CHEN, "2024-03-02T10:00:00Z"),
    ]
    # a squash-merged PR between two commits of one committer and second: not consecutive
    shas["split"] = _rebased(
        r,
        [
            ("c: Before", BEN, "2024-03-03T09:00:00Z", 1),
            ("c: A PR (#12)", BEN, "2024-03-03T09:10:00Z", 1),
            ("c: After", BEN, "2024-03-03T09:20:00Z", 1),
        ],
        ANA,
        ["2024-03-04T10:00:00Z"] * 3,
    )
    # translators' updates, committed by GNOME's translation robot in one second
    shas["l10n"] = _rebased(
        r,
        [
            ("Update Catalan translation", JORDI, "2024-03-05T08:00:00Z", 4),
            ("Update Hungarian translation", BALAZS, "2024-03-05T08:30:00Z", 5),
        ],
        ROBOT,
        ["2024-03-05T09:00:00Z"] * 2,
    )
    return r, shas


def test_commits_of_one_rebased_mr_are_one_pr(tmp_path):
    r, shas = _history(tmp_path)
    prs, imp = _import(r)
    mr = prs[f"{REPO}@{shas['mr'][0][:10]}"]
    assert mr["author_id"] == "chen@corp.example"
    assert mr["created_date"] == _t("2024-02-01T10:00:00")  # its earliest author date
    assert mr["merged_date"] == _t("2024-02-05T10:00:00")  # when it was fast-forwarded
    assert (mr["additions"], mr["deletions"]) == (6, 0)  # lines summed
    assert mr["title"] == "row: Add a property"  # its first commit's subject
    assert mr["created_source"] == "commit"  # as any direct commit with as_prs
    assert not any(f"{REPO}@{s[:10]}" in prs for s in shas["mr"][1:])
    commits = imp.commits.to_dicts()
    assert {c["pr_id"] for c in commits if c["sha"] in shas["mr"]} == {mr["id"]}
    # who wrote most of it; a tie goes to the earliest author
    assert prs[f"{REPO}@{shas['mixed'][0][:10]}"]["author_id"] == "chen@corp.example"
    assert prs[f"{REPO}@{shas['tie'][0][:10]}"]["author_id"] == "ben@corp.example"
    # a rebase that crossed a second is still one landing
    tick = prs[f"{REPO}@{shas['tick'][0][:10]}"]
    assert tick["merged_date"] == _t("2024-02-11T16:49:07")
    assert not any(f"{REPO}@{s[:10]}" in prs for s in shas["tick"][1:])
    notes = " ".join(imp.notes)
    assert "4 group(s) of 2-3 direct commits (11 commits) landed together" in notes


def test_separate_pushes_committers_and_translations_stay_apart(tmp_path):
    r, shas = _history(tmp_path)
    prs, imp = _import(r)
    for key in ("pushed", "two", "split", "l10n"):
        for s in shas[key]:
            assert f"{REPO}@{s[:10]}" in prs or s == shas["split"][1], (key, s)
    assert f"{REPO}#12" in prs  # the squash-merged PR between them
    # 1 initial + 4 landings + 3 pushed + 2 committers + 2 around the PR + #12 + 2 updates
    assert len(prs) == 15
    # translators are the authors of their updates (people, not the robot)
    cat = prs[f"{REPO}@{shas['l10n'][0][:10]}"]
    assert cat["author_id"] == "jmas@softcatala.example"
    assert not cat["is_bot_author"]
    notes = " ".join(imp.notes)
    assert (
        "2 commit(s) are translation updates committed by a translation robot "
        "('GNOME Translation Robot' (2)); 2 PR(s) hold them. Their authors (2 people) are "
        "translators"
    ) in notes
    people = set(imp.people["engineer_id"].to_list())
    assert {"jmas@softcatala.example", "balazs@urbalazs.example"} <= people


def test_translation_updates_counted_without_as_prs(tmp_path):
    r, _ = _history(tmp_path)
    imp = read_git(r.path)
    notes = " ".join(imp.notes)
    assert "2 commit(s) are translation updates" in notes
    assert "they are in commits, not in pull_requests" in notes
    assert "landed together" not in notes  # groups only become PRs with as_prs


def test_a_planned_reversal_names_the_commit_of_a_landed_together_pr(tmp_path):
    """libadwaita (trial K, K11): 0718f73eac "ci: Include ministream subproject into tarballs"
    landed together with a4a7e19 "tests: Disable preferences window test for now", which
    5b64ba90 later reverted as planned. The note named only the PR's id, the first commit,
    which is not the temporary one."""
    r = Repo(tmp_path / "libadwaita", origin=ORIGIN)
    r.commit("initial", ANA, "2024-01-01T09:00:00Z")
    first, temporary = _rebased(
        r,
        [
            ("ci: Include ministream subproject into tarballs", CHEN, "2024-02-01T10:00:00Z", 1),
            ("tests: Disable preferences window test for now", CHEN, "2024-02-01T11:00:00Z", 1),
        ],
        ANA,
        ["2024-02-05T10:00:00Z"] * 2,
    )
    r.commit(
        f'Revert "tests: Disable preferences window test for now"\n\n'
        f"This reverts commit {temporary}.",
        BEN,
        "2024-03-01T10:00:00Z",
    )
    prs, imp = _import(r)
    group = prs[f"{REPO}@{first[:10]}"]
    assert not group["reverted"]
    notes = " ".join(imp.notes)
    assert (
        f"1 PR(s) had a temporary change reverted as planned ({REPO}@{first[:10]} "
        f"(its commit {temporary[:10]}))"
    ) in notes
