"""Review changes landed by their own author (trial J, finding J4: GNOME/gnome-shell).

GNOME's Marge-bot rebases a merge request and adds ``Part-of: <.../merge_requests/N>``: its
commit time is the landing. Maintainers also land their own MRs: the commits carry
``Part-of:`` but were committed by their author, so their commit time is the author's last
local amend or rebase, not the landing. In gnome-shell since 2023-09, 290 such MRs had a
median cycle of 2.9 h against 5.0 days for the 512 Marge-bot landed (Florian Müllner: 0.6 h
for his own 115, 77 h for his 185 Marge-landed); the next mainline commit by someone else
came a median 13 h after the author's commit. A certified engineer who switched from landing
his own MRs to Marge-bot showed a cycle-time change from that alone. sqlalchemy's Gerrit
(``Change-Id:`` only) fast-forwards changes as their author last committed them.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest
from test_connectors_git import ANA, BEN, CHEN, Repo
from test_connectors_git_review import MARGE
from test_git_gerrit import GERRIT, MIKE, _cid, _gerrit_merge

from certkit.connectors import read_git
from certkit.data.dating import approximated_dates
from certkit.data.panel import APPROXIMATE_CREATED
from certkit.narrative.effects import APPROXIMATED_KINDS

MR = "\n\nPart-of: <https://gitlab.gnome.org/GNOME/gnome-shell/-/merge_requests/{}>"
TESTER = ("sqla-tester", "sqla-tester@sqlalchemy.org")


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _prs(r: Repo):
    imp = read_git(r.path)
    return imp, {row["id"]: row for row in imp.pull_requests.to_dicts()}, " ".join(imp.notes)


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    r = Repo(
        tmp_path_factory.mktemp("selfland") / "shell",
        origin="https://gitlab.gnome.org/GNOME/gnome-shell.git",
    )
    r.commit("initial", ANA, "2024-03-01T09:00:00Z")
    # !10 landed by Marge-bot 3 days after it was written
    r.commit("a" + MR.format(10), BEN, "2024-03-02T10:00:00Z", committer=MARGE,
             cdate="2024-03-05T10:00:00Z")  # fmt: skip
    # !11 landed by its author: amended an hour after writing it, pushed as it was
    r.commit("b1" + MR.format(11), CHEN, "2024-03-06T10:00:00Z", cdate="2024-03-06T10:30:00Z")
    r.commit("b2" + MR.format(11), CHEN, "2024-03-06T10:10:00Z", cdate="2024-03-06T11:00:00Z")
    # !12 written by Ana, rebased and landed by a reviewer (Ben): his time is the landing
    r.commit("c" + MR.format(12), ANA, "2024-03-07T10:00:00Z", committer=BEN,
             cdate="2024-03-09T10:00:00Z")  # fmt: skip
    # !13 fast-forwarded as written (already left out of cycle times)
    r.commit("d" + MR.format(13), CHEN, "2024-03-10T10:00:00Z")
    # a GitLab squash template committed by its author: GitLab wrote it at merge
    r.commit("e\n\nSee merge request GNOME/gnome-shell!14", ANA, "2024-03-11T10:00:00Z",
             cdate="2024-03-11T12:00:00Z")  # fmt: skip
    return r


def test_part_of_changes_committed_by_their_author_are_self_landed(shell):
    _, prs, notes = _prs(shell)
    src = {i.split("#")[1]: row["created_source"] for i, row in prs.items()}
    assert src == {
        "10": "branch_first_commit",
        "11": "self_landed",
        "12": "branch_first_commit",
        "13": "fast_forward",
        "14": "branch_first_commit",
    }
    own = prs["GNOME/gnome-shell#11"]
    assert (own["created_date"], own["merged_date"]) == (
        _t("2024-03-06T10:00:00"),
        _t("2024-03-06T11:00:00"),
    )  # dates kept; only the flag says the merge date is not the landing
    assert "self_landed" in APPROXIMATE_CREATED and "self_landed" in APPROXIMATED_KINDS
    assert (
        "1 review change(s) (Part-of: or Change-Id:) were last committed by their author" in notes
    )
    # !10 took 3 days, !12 2 days, !14 2 h: median 2.0 days; !11 1 h
    assert "median cycle 1.0 h (against 2.0 days for the 3 others, landed by a merge bot" in notes
    assert "created_source 'self_landed': left out of cycle times" in notes


def test_self_landed_changes_are_counted_in_data_health(shell):
    imp, _, _ = _prs(shell)
    ds = SimpleNamespace(pull_requests=imp.pull_requests)  # all approximated_dates reads
    rows = {r["created_source"]: r for r in approximated_dates(ds).to_dicts()}
    assert rows["self_landed"]["prs"] == 1
    assert "author's own last commit time" in rows["self_landed"]["why"]


def test_change_id_changes_committed_by_their_author_are_self_landed(tmp_path):
    r = Repo(tmp_path / "sqlalchemy", origin="https://github.com/sqlalchemy/sqlalchemy.git")
    r.commit("initial", MIKE, "2024-03-01T09:00:00Z")
    # submitted by a Gerrit merge: the merge dates it
    r.branch("a")
    r.commit(f"a\n\n{_cid(1)}", MIKE, "2024-03-02T10:00:00Z", cdate="2024-03-02T11:00:00Z")
    r.checkout("main")
    _gerrit_merge(r, "a", "a", "2024-03-04T10:00:00Z")
    # fast-forwarded as its author last amended it
    r.commit(f"b\n\n{_cid(2)}", MIKE, "2024-03-05T10:00:00Z", cdate="2024-03-05T12:00:00Z")
    # a GitHub PR imported by the bot
    r.commit(f"c\n\n{_cid(3)}", CHEN, "2024-03-06T10:00:00Z", committer=TESTER,
             cdate="2024-03-07T10:00:00Z")  # fmt: skip
    _, prs, notes = _prs(r)
    src = sorted(row["created_source"] for row in prs.values())
    assert src == ["branch_first_commit", "branch_first_commit", "self_landed"]
    assert "median cycle 2.0 h (against" in notes
    assert GERRIT  # the merge above is Gerrit's


def test_no_note_without_self_landed_changes(tmp_path):
    r = Repo(tmp_path / "shell", origin="https://gitlab.gnome.org/GNOME/gnome-shell.git")
    r.commit("initial", ANA, "2024-03-01T09:00:00Z")
    r.commit("a" + MR.format(10), BEN, "2024-03-02T10:00:00Z", committer=MARGE,
             cdate="2024-03-05T10:00:00Z")  # fmt: skip
    _, prs, notes = _prs(r)
    assert [row["created_source"] for row in prs.values()] == ["branch_first_commit"]
    assert "last committed by their author" not in notes


def test_the_author_under_another_address_or_spelling_is_the_same_person(tmp_path):
    """One rule for "author and committer are one person" (``git_review.same_person``), as
    the imported-history rule has it since trial J: a Part-of MR its author landed from his
    home address or with his name spelt in lower case was a reviewer's landing, its cycle
    time the author's own amend. A mapped alias needs the identity file."""
    r = Repo(tmp_path / "shell", origin="https://gitlab.gnome.org/GNOME/gnome-shell.git")
    r.commit("initial", ANA, "2024-03-01T09:00:00Z")
    home = ("chen  nguyen", "chen.nguyen@home.example")
    alias = ("C. N.", "cn@laptop.example")
    r.commit("a" + MR.format(20), CHEN, "2024-03-02T10:00:00Z", committer=home,
             cdate="2024-03-02T11:00:00Z")  # fmt: skip
    r.commit("b" + MR.format(21), CHEN, "2024-03-03T10:00:00Z", committer=alias,
             cdate="2024-03-03T11:00:00Z")  # fmt: skip
    r.commit("c" + MR.format(22), CHEN, "2024-03-04T10:00:00Z", committer=BEN,
             cdate="2024-03-06T10:00:00Z")  # fmt: skip
    ids = tmp_path / "identities.csv"
    ids.write_text(
        "engineer_id,email,login,name\nchen,chen@corp.example,,\nchen,cn@laptop.example,,\n"
    )
    for identities, mapped in ((None, "branch_first_commit"), (ids, "self_landed")):
        imp = read_git(r.path, identities=identities)
        src = {
            row["id"].split("#")[1]: row["created_source"] for row in imp.pull_requests.to_dicts()
        }
        assert src["20"] == "self_landed"  # main: branch_first_commit (name spelt otherwise)
        assert src["21"] == mapped  # the alias only through the identity file
        assert src["22"] == "branch_first_commit"  # a reviewer landed it
