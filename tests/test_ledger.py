"""The line ledger (rework and survival of each commit's lines), on repositories built with real git.

Hand-computed ledgers for the awkward cases, and ``git blame`` (not used by the implementation)
as an independent oracle for the lines that survive at head.
"""

from __future__ import annotations

import collections
import os
import random
import subprocess
from pathlib import Path

import polars as pl
import pytest

from certkit.connectors.ledger import line_ledger
from certkit.errors import CertkitError

T0 = 1_700_000_000
DAY = 86_400


def git(repo: Path, *args: str, who: str = "ann@x.org", when: int = T0) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": who.split("@")[0],
        "GIT_AUTHOR_EMAIL": who,
        "GIT_COMMITTER_NAME": who.split("@")[0],
        "GIT_COMMITTER_EMAIL": who,
        "GIT_AUTHOR_DATE": f"{when} +0000",
        "GIT_COMMITTER_DATE": f"{when} +0000",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    res = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def write(repo: Path, name: str, lines: list[str]) -> None:
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_text("".join(f"{x}\n" for x in lines))


def commit(repo: Path, msg: str, *, who: str = "ann@x.org", day: float = 0) -> str:
    when = T0 + int(day * DAY)
    git(repo, "add", "-A", who=who, when=when)
    git(repo, "commit", "-q", "--allow-empty", "-m", msg, who=who, when=when)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    return tmp_path


def rows(repo: Path, **kw) -> dict[str, dict]:
    df = line_ledger(repo, **kw)
    return {r["sha"]: r for r in df.iter_rows(named=True)}


def test_edits_deletes_renames_binary_and_readded_file(repo):
    write(repo, "a.txt", ["1", "2", "3", "4", "5"])
    c1 = commit(repo, "c1", day=0)
    # bob changes line 2 and deletes line 4 three days later: two of ann's lines churned by another
    write(repo, "a.txt", ["1", "2b", "3", "5"])
    c2 = commit(repo, "c2", who="bob@x.org", day=3)
    # ann renames the file and moves line 1 to the end (a deletion plus an addition)
    git(repo, "mv", "a.txt", "b.txt")
    write(repo, "b.txt", ["2b", "3", "5", "1"])
    c3 = commit(repo, "c3", day=4)
    # a binary file has no lines
    (repo / "img.bin").write_bytes(b"\x00\x01\x02\n\x00\n")
    c4 = commit(repo, "c4", day=5)
    # b.txt deleted 40 days later (outside the window), then re-added by bob: new lines
    git(repo, "rm", "-q", "b.txt")
    c5 = commit(repo, "c5", day=44)
    write(repo, "b.txt", ["2b", "3"])
    c6 = commit(repo, "c6", who="bob@x.org", day=45)

    r = rows(repo)
    assert [r[c]["lines_added"] for c in (c1, c2, c3, c4, c5, c6)] == [5, 1, 1, 0, 0, 2]
    # c1: 2 (line 2, line 4) churned by bob within 21 days, line 1 by ann herself (move) on day 4
    assert r[c1]["churned_lines_21d"] == 3
    assert r[c1]["churned_other_21d"] == 2
    assert r[c1]["churned_self_21d"] == 1
    # c5 deleted the rest 40+ days later: not churn
    assert r[c2]["churned_lines_21d"] == 0 and r[c3]["churned_lines_21d"] == 0
    assert [r[c]["surviving_lines"] for c in (c1, c2, c3, c4, c5, c6)] == [0, 0, 0, 0, 0, 2]


def test_window_is_configurable(repo):
    write(repo, "a.txt", ["1", "2"])
    c1 = commit(repo, "c1", day=0)
    write(repo, "a.txt", ["1"])
    commit(repo, "c2", day=10)
    assert rows(repo, window_days=21)[c1]["churned_lines_21d"] == 1
    assert rows(repo, window_days=7)[c1]["churned_lines_7d"] == 0


def test_merge_keeps_each_branch_writer_and_credits_conflict_resolution(repo):
    write(repo, "a.txt", ["1", "2", "3"])
    base = commit(repo, "base", day=0)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "a.txt", ["1", "2f", "3"])
    feat = commit(repo, "feature edit", who="bob@x.org", day=1)
    write(repo, "new.txt", ["n1", "n2"])
    feat2 = commit(repo, "feature file", who="bob@x.org", day=1.5)
    git(repo, "checkout", "-q", "main")
    write(repo, "a.txt", ["0", "1", "2m", "3"])
    main = commit(repo, "main edit", day=2)
    res = subprocess.run(["git", "merge", "-q", "feature"], cwd=repo, capture_output=True)
    assert res.returncode != 0  # conflict on line 2
    write(repo, "a.txt", ["0", "1", "2x", "3"])
    merge = commit(repo, "merge", who="cy@x.org", day=3)

    r = rows(repo)
    assert r[merge]["lines_added"] == 1  # only the resolved line is the merge's
    assert r[feat2]["surviving_lines"] == 2  # new.txt came in from the branch, still bob's
    assert r[main]["surviving_lines"] == 1  # "0"
    assert r[feat]["surviving_lines"] == 0 and r[feat]["churned_other_21d"] == 1
    assert r[main]["churned_other_21d"] == 1  # "2m" replaced by cy at the merge
    # the base's line 2 was deleted on both branches: counted once
    assert r[base]["churned_lines_21d"] == 1
    assert r[base]["surviving_lines"] == 2  # "1" and "3"


def test_merge_with_ours_strategy_drops_branch_lines_as_churn(repo):
    write(repo, "a.txt", ["1"])
    commit(repo, "base", day=0)
    git(repo, "checkout", "-q", "-b", "side")
    write(repo, "b.txt", ["b1", "b2"])
    side = commit(repo, "side", who="bob@x.org", day=1)
    git(repo, "checkout", "-q", "main")
    write(repo, "a.txt", ["1", "2"])
    commit(repo, "main", day=1)
    git(repo, "merge", "-q", "-s", "ours", "side", "-m", "merge", when=T0 + 2 * DAY)
    r = rows(repo)
    assert r[side]["surviving_lines"] == 0
    assert r[side]["churned_other_21d"] == 2


def test_not_a_repository_is_a_clear_error(tmp_path):
    with pytest.raises(CertkitError, match="not a git repository"):
        line_ledger(tmp_path)
    with pytest.raises(CertkitError, match="window_days"):
        line_ledger(tmp_path, window_days=-1)


def _random_history(repo: Path, n: int, seed: int, merges: bool) -> None:
    rnd = random.Random(seed)
    files: dict[str, list[str]] = {}
    counter = 0
    people = ["ann@x.org", "bob@x.org", "cy@x.org"]
    branch = None
    for i in range(n):
        if merges and branch is None and rnd.random() < 0.08:
            branch = f"b{i}"
            git(repo, "checkout", "-q", "-b", branch)
        action = rnd.random()
        name = None
        if not files or action < 0.15:
            name = f"d{i % 3}/f{i}.txt"
            files[name] = [f"l{counter + k}" for k in range(rnd.randint(1, 20))]
            counter += 30
        elif action < 0.2 and len(files) > 1:
            gone = rnd.choice(sorted(files))
            del files[gone]
            git(repo, "rm", "-q", gone)
        elif action < 0.25:
            old = rnd.choice(sorted(files))
            name = old.replace(".txt", "r.txt")
            git(repo, "mv", old, name)
            files[name] = files.pop(old)
        else:
            name = rnd.choice(sorted(files))
            lines = files[name]
            for _ in range(rnd.randint(1, 4)):
                pos = rnd.randint(0, len(lines))
                op = rnd.random()
                if op < 0.4:
                    lines[pos:pos] = [f"l{counter + k}" for k in range(rnd.randint(1, 5))]
                    counter += 5
                elif op < 0.7 and lines:
                    del lines[pos : pos + rnd.randint(1, 3)]
                elif lines:
                    lines[min(pos, len(lines) - 1)] = f"l{counter}"
                    counter += 1
        if name:
            write(repo, name, files[name])
        commit(repo, f"c{i}", who=rnd.choice(people), day=i / 3)
        if branch is not None and rnd.random() < 0.25:
            # back to main, one main commit on a fresh file, then merge the branch (no conflict:
            # main only ever adds its own files, so the branch's view of the files stays right)
            git(repo, "checkout", "-q", "main")
            extra = f"main/m{i}.txt"
            write(repo, extra, [f"m{i}", f"m{i}b"])
            commit(repo, f"m{i}", day=i / 3 + 0.1)
            when = T0 + int((i / 3 + 0.2) * DAY)
            git(repo, "merge", "-q", "--no-ff", branch, "-m", f"merge {branch}", when=when)
            files[extra] = [f"m{i}", f"m{i}b"]
            branch = None


def _blame_counts(repo: Path) -> collections.Counter:
    counts: collections.Counter = collections.Counter()
    for name in git(repo, "ls-files").splitlines():
        out = git(repo, "blame", "--porcelain", "HEAD", "--", name)
        for line in out.splitlines():
            parts = line.split(" ")
            if (
                len(parts) >= 3
                and len(parts[0]) == 40
                and parts[1].isdigit()
                and parts[2].isdigit()
            ):
                counts[parts[0]] += 1
    return counts


@pytest.mark.parametrize("merges", [False, True], ids=["linear", "with-merges"])
def test_surviving_lines_agree_with_git_blame(repo, merges):
    _random_history(repo, 250, seed=7, merges=merges)
    if merges:
        assert git(repo, "rev-list", "--merges", "--count", "HEAD") != "0"
    ledger = line_ledger(repo)
    got = dict(zip(ledger["sha"], ledger["surviving_lines"], strict=True))
    blame = _blame_counts(repo)
    total = sum(blame.values())
    agree = sum(min(n, got.get(sha, 0)) for sha, n in blame.items())
    assert total > 200
    assert sum(got.values()) == total  # every line at head is owned by exactly one commit
    assert agree / total >= 0.99


def test_git_import_puts_rework_on_commits_and_prs(repo):
    from certkit.connectors import read_git

    write(repo, "a.txt", ["1"])
    commit(repo, "init", day=0)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "a.txt", ["1", "2", "3", "4"])
    feature = commit(repo, "add three lines", who="bob@x.org", day=1)
    git(repo, "checkout", "-q", "main")
    git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "feature",
        "-m",
        "Merge pull request #7 from org/feature",
        who="bob@x.org",
        when=T0 + 2 * DAY,
    )
    write(repo, "a.txt", ["1", "2", "4"])  # ann deletes one of bob's lines five days later
    commit(repo, "trim", day=6)
    imp = read_git(repo, repo_names=["org/app"], progress=False)
    pr = imp.pull_requests.filter(pl.col("number") == 7).row(0, named=True)
    assert (pr["churned_lines_21d"], pr["surviving_lines"]) == (1, 2)
    row = imp.commits.filter(pl.col("sha") == feature).row(0, named=True)
    assert (row["churned_other_21d"], row["churned_self_21d"]) == (1, 0)
    assert any("churned_lines_21d" in n for n in imp.notes)
    plain = read_git(repo, repo_names=["org/app"], progress=False, rework_days=None)
    assert "surviving_lines" not in plain.pull_requests.columns


@pytest.mark.parametrize("merges", [False, True], ids=["linear", "with-merges"])
def test_since_reads_only_the_window_with_the_full_historys_numbers(repo, merges):
    # F2: ``since`` bounds the ledger; the window's rows are the full-history ledger's rows
    _random_history(repo, 250, seed=11, merges=merges)
    since = f"@{T0 + 40 * DAY}"  # about half way
    if merges:  # start just after a branch's tip: its merge's other side predates the window
        found = git(repo, "rev-list", "--merges", "--parents", "HEAD").splitlines()
        other = found[len(found) // 2].split()[2]
        since = f"@{int(git(repo, 'show', '-s', '--format=%ct', other)) + 1}"
    window = set(git(repo, "rev-list", f"--since={since}", "HEAD").split())
    assert 50 < len(window) < 200
    if merges:
        edges = git(repo, "rev-list", "--merges", "--parents", f"--since={since}", "HEAD")
        assert any(set(line.split()[1:]) - window for line in edges.splitlines())
    full = line_ledger(repo).filter(pl.col("sha").is_in(list(window))).sort("sha")
    part = line_ledger(repo, since=since).sort("sha")
    assert part.height == len(window)  # the older commits are not read (no row)
    assert part.equals(full)
    assert part["churned_lines_21d"].sum() > 0 and part["surviving_lines"].sum() > 0


def test_since_with_binary_and_empty_files_before_the_window(repo):
    write(repo, "a.txt", ["1", "2", "3"])
    (repo / "img.bin").write_bytes(b"\x00\x01\n")
    (repo / "empty.txt").write_text("")
    commit(repo, "old", day=0)
    write(repo, "a.txt", ["1", "x", "y", "3"])  # replaces an old line, adds two
    (repo / "empty.txt").write_text("e\n")
    c2 = commit(repo, "new", who="bob@x.org", day=30)
    write(repo, "a.txt", ["1", "x", "3"])
    c3 = commit(repo, "trim", day=31)
    got = rows(repo, since=f"@{T0 + 20 * DAY}")
    assert set(got) == {c2, c3}
    assert (got[c2]["lines_added"], got[c2]["churned_other_21d"], got[c2]["surviving_lines"]) == (
        3,
        1,
        2,
    )
    assert rows(repo)[c2] == got[c2]
    assert line_ledger(repo, since=f"@{T0 + 90 * DAY}").height == 0  # nothing in the window


def test_ledger_pass_has_a_progress_bar(repo, capsys):
    from certkit.connectors import read_git

    write(repo, "a.txt", ["1"])
    commit(repo, "init", day=0)
    read_git(repo, progress=True)
    assert "line ledger" in capsys.readouterr().err  # F16: the second pass shows progress too
    read_git(repo, progress=False)
    assert "line ledger" not in capsys.readouterr().err
