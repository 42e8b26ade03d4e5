"""Direct commits that landed together, and translation updates (``direct_commits="as_prs"``).

A host that merges by rebase and fast-forward (GitLab's "fast-forward merge" setting:
GNOME/libadwaita) leaves no merge commit and no merge-request number: with
``direct_commits="as_prs"`` every commit would be its own PR. When the merge request is
rebased (by GitLab or by its maintainer) all its commits are rewritten in one go, so they share
their **committer** (name and e-mail) and their **commit time to the second** (or the next
second: :data:`TICK`). Consecutive first-parent direct commits sharing both are one change, one
PR row (:func:`landings`):

- its commits are the group; its id is ``repo@<sha>`` of its first (oldest) commit, its title
  that commit's subject;
- author: the human who wrote most of its commits (ties: the earliest of them);
- created at the earliest author date, merged at the commit time, lines summed,
  ``created_source`` ``commit`` (as for a single direct commit).

Commits a person pushed in one go without rebasing keep the commit times they were committed
at (seconds to hours apart) and stay one PR each. A local ``git rebase`` (``git pull
--rebase``) before a push also gives the commits it rewrote one commit second: they are then
one change, which they were (one push of one person's work).

**Translation updates**: a commit whose committer is a translation robot (an ``agents.yaml``
entry whose id starts with ``translation``: GNOME's Damned Lies robot, Weblate, Crowdin...)
carries a translator's work (its author). It is kept as any commit (its author an engineer,
``unknown`` unless in the roster) and counted in a note (:func:`translation_notes`); it is
never grouped with the robot's other commits of the same second (each is another translator's).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

import polars as pl

from certkit.connectors.identity import address_local, bot_like

if TYPE_CHECKING:
    from certkit.connectors.git import _Commit
    from certkit.connectors.identity import Agent

#: ``agents.yaml`` ids of translation robots start with this.
TRANSLATION_ID = "translation"
#: Seconds between two commits of one landing: a rebase of many commits can cross a second
#: (libadwaita: 7 runs split 1 s apart, e.g. sp1rit's Android MR 110fc918, 2e80dad2 at
#: 16:49:06 and 73420c5b at 16:49:07); no person commits two changes by hand a second apart.
TICK = 1


def is_translation_robot(agent: Agent | None) -> bool:
    """True for a listed translation robot (an ``agents.yaml`` id starting ``translation``)."""
    return agent is not None and agent.id.startswith(TRANSLATION_ID)


def landings(
    direct: list[str], commits: dict[str, _Commit], line: list[str]
) -> tuple[list[list[str]], list[str]]:
    """Direct commits that landed together (groups, oldest commit first) and the others.

    Parameters
    ----------
    direct
        The commits pushed directly (in no PR).
    commits
        Every commit of the import by sha.
    line
        The imported revision's first-parent line, newest first
        (:func:`certkit.connectors.git_graph.first_parent_line`): groups are runs of
        consecutive commits of it.

    Returns
    -------
    tuple
        The groups of two or more commits sharing committer name and e-mail, each committed
        at most :data:`TICK` seconds from the next (oldest first), and the direct commits in
        no group (in ``direct``'s order).
    """
    todo = set(direct)
    groups: list[list[str]] = []
    run: list[str] = []

    def close() -> None:
        if len(run) > 1:
            groups.append(run[::-1])
        run.clear()

    for sha in line:
        c = commits[sha]
        if sha not in todo or c.translation:
            close()
            continue
        if run and not _together(commits[run[-1]], c):
            close()
        run.append(sha)
    close()
    grouped = {s for g in groups for s in g}
    return groups, [s for s in direct if s not in grouped]


def _together(newer: _Commit, older: _Commit) -> bool:
    """Same committer, committed in the same second or the next (a rebase crossing a tick)."""
    same = (newer.committer_name, newer.committer_email) == (
        older.committer_name,
        older.committer_email,
    )
    return same and abs((newer.committed - older.committed).total_seconds()) <= TICK


def lead_author(members: list[_Commit]) -> str | None:
    """The human author of most of ``members`` (ties: the earliest), ``None`` if only bots."""
    people = [c for c in sorted(members, key=lambda c: c.authored) if not c.bot]
    if not people:
        return None
    counts = Counter(c.author_id for c in people)
    top = max(counts.values())
    return next(c.author_id for c in people if counts[c.author_id] == top)


def landing_group(shas: list[str], commits: dict[str, _Commit]) -> dict:
    """The PR group (as :func:`certkit.connectors.git_prs.assemble` builds) of a landing."""
    return {
        "number": None,
        "points": [(s, "commit") for s in shas],
        "members": [],
        "head": None,
        "named": False,
        "author": lead_author([commits[s] for s in shas]),
    }


def landing_note(repo: str, groups: list[list[str]]) -> list[str]:
    """The note counting the groups of direct commits that became one PR each."""
    if not groups:
        return []
    sizes = sorted(len(g) for g in groups)
    span = f"{sizes[0]}" if sizes[0] == sizes[-1] else f"{sizes[0]}-{sizes[-1]}"
    return [
        f"{repo}: {len(groups)} group(s) of {span} direct commits ({sum(sizes)} commits) landed "
        "together (consecutive on the first-parent line, same committer, committed in the same "
        "second or the next: a merge request rebased and fast-forwarded, or a local rebase "
        "pushed at once) are one PR each: author the person who wrote most of its commits, created at its earliest "
        "author date, lines summed"
    ]


def translation_notes(repo: str, commits: dict[str, _Commit]) -> list[str]:
    """The note counting translation updates (commits a translation robot committed)."""
    robot = [c for c in commits.values() if c.translation]
    if not robot:
        return []
    names = Counter(c.committer_name for c in robot)
    by = ", ".join(f"{n!r} ({k})" for n, k in names.most_common(3))
    people = {c.author_id for c in robot if not c.bot}
    prs = {c.pr_id for c in robot if c.pr_id is not None}
    where = f"{len(prs)} PR(s) hold them" if prs else "they are in commits, not in pull_requests"
    return [
        f"{repo}: {len(robot)} commit(s) are translation updates committed by a translation "
        f"robot ({by}); {where}. Their authors ({len(people)} people) are translators, often "
        "outside the organisation: they enter as 'unknown' engineers unless in the roster "
        "(--roster-only leaves them out of the analysis)"
    ]


def direct_note(
    repo: str,
    direct: list[str],
    commits: dict,
    mainline: set[str],
    release: set[str],
    pr_authors: list[str] | None = None,
) -> list[str]:
    """The note counting the commits pushed directly (in no PR).

    Parameters
    ----------
    repo
        The repository's name.
    direct
        The commits pushed directly.
    commits
        Every commit of the import by sha.
    mainline
        The first-parent line of the imported revision.
    release
        The commits that release-branch merges (``Merge branch 'release/2.49.0'``) brought in.
        When they are most of the direct pushes (sentry-python, trial AE: 127 of 130,
        "release: 2.49.0", "Update CHANGELOG.md"), the note calls them release chores and does
        not advise ``direct_commits='as_prs'``, which would count them as engineers' PRs.
    pr_authors
        The author id of each of the repository's PRs: direct pushes are weighed against
        their authors' PRs
        (:func:`direct_people`); the roster's columns later map ids to engineers, and
        :func:`remap_direct_notes` weighs them again.
    """
    if not direct:
        return []
    prs_of = Counter(pr_authors or [])
    n_side = sum(1 for s in direct if s not in mainline)
    side = f", {n_side} of them brought in by sync merges" if n_side else ""
    n_bot = sum(1 for s in direct if commits[s].bot)
    if n_bot == len(direct):  # facebook/watchman: 322 export-bot "Updating hashes"
        return [
            f"{repo}: {len(direct)} commit(s) by automation were pushed directly (no "
            f"PR){side}; they are in commits, not in pull_requests"
        ]
    bots = f", {n_bot} of them by automation" if n_bot else ""
    likely = Counter(
        commits[s].author_name for s in direct if not commits[s].bot and _bot_like(commits[s])
    )
    if likely:
        names = ", ".join(f"{n!r}" for n, _ in likely.most_common(3))
        bots += f", {sum(likely.values())} of them by accounts named like automation ({names})"
    chores = [s for s in direct if s in release]
    if len(chores) * 2 > len(direct):
        rest = [s for s in direct if s not in release]
        clause, advice = direct_words(direct_people(rest, commits, prs_of), release=True)
        return [
            f"{repo}: {len(direct)} commit(s) were pushed directly (no PR){side}, "
            f"{len(chores)} of them on release branches merged by 'Merge branch release/...' "
            f"(release chores: version bumps, changelog){bots}{clause}; "
            f"they are in commits but not in pull_requests ({advice})"
        ]
    clause, advice = direct_words(direct_people(direct, commits, prs_of))
    return [
        f"{repo}: {len(direct)} commit(s) were pushed directly (no PR){side}{bots}"
        f"{clause}; they are in commits but not in pull_requests ({advice})"
    ]


def _bot_like(c: _Commit) -> bool:
    """A commit whose author is named like automation (:func:`~certkit.connectors.identity.
    bot_like`), listed in no agents file: getsentry-bot <bot@sentry.io> (trial AE)."""
    return bot_like(c.author_name, c.author_email)


#: Direct pushes an author needs to be named in the note.
MIN_DIRECT = 10
_ADVICE = "use direct_commits='as_prs' to count them"
_RELEASE_ADVICE = (
    "not engineers' PRs: direct_commits='as_prs' would count the release chores as PRs"
)
#: The authors a direct-push note names (:func:`_items`), read back by
#: :func:`remap_direct_notes`: after "miss: " or "through PRs (", separated by ", ".
_LIST = re.compile(r"(?:miss: |through PRs \()([^()]*\bPR\(s\))")
_ITEM = re.compile(r"(?:^|, )([^,:]+): (\d+) direct push(?:es)? beside (\d+) PR\(s\)")


def direct_people(
    direct: list[str], commits: dict, prs_of: dict[str, int]
) -> list[tuple[str, int, int]]:
    """(author id, direct pushes, PRs) of the (at most 3) people who pushed at least
    :data:`MIN_DIRECT` of ``direct``, most first. Bots and accounts named like automation
    are nobody's own work (trial AE: "bot@sentry.io: 42 of the 42 commits of that address",
    Sentry's release bot)."""
    machines = _bot_names(commits)
    mine = Counter(
        commits[s].author_id
        for s in direct
        if not commits[s].bot
        and not _bot_like(commits[s])
        and not _committed_by(commits[s], machines)
    )
    return [(a, n, prs_of.get(a, 0)) for a, n in mine.most_common(3) if n >= MIN_DIRECT]


def _bot_names(commits: dict) -> set[str]:
    """Lower-case names and logins of the history's bot authors ("Houston (Bot)
    <108291165+astrobot-houston@users.noreply.github.com>" gives ``houston (bot)`` and
    ``astrobot-houston``)."""
    out: set[str] = set()
    for c in commits.values():
        if c.bot or _bot_like(c):
            out.add(c.author_name.strip().lower())
            out.add(address_local(c.author_email))
    # addresses every web-UI commit carries as committer: no bot's own name
    return out - {"", "noreply", "no-reply", "github", "web-flow", "gitlab"}


def _committed_by(c: _Commit, machines: set[str]) -> bool:
    """A commit a bot account committed under a person's name: a workflow's "[ci] format"
    commit (trial AI, withastro/starlight: 63 of delucis's "66 direct pushes" were committed
    by astrobot-houston, the account of the changesets bot "Houston (Bot)")."""
    if (c.committer_email or "").lower() == (c.author_email or "").lower():
        return False
    return (
        bot_like(c.committer_name, c.committer_email)
        or c.committer_name.strip().lower() in machines
        or address_local(c.committer_email) in machines
    )


def _items(people: list[tuple[str, int, int]]) -> str:
    return ", ".join(
        f"{a}: {n} direct push{'es' if n != 1 else ''} beside {p} PR(s)" for a, n, p in people
    )


def direct_words(people: list[tuple[str, int, int]], release: bool = False) -> tuple[str, str]:
    """The clause naming whose own work is mostly pushed directly, and the advice.

    An author whose direct pushes are at least as many as their PRs lands the bulk of their
    work without PRs, which their throughput misses (trial AC, astral-sh/ruff: a certified
    engineer's 306 of 325 commits, 0-1 PRs a month in the panel): ``direct_commits='as_prs'``
    is advised. A few pushes beside many PRs are not (trial AF, huggingface_hub: 26 CI fixes
    ("style", "force") beside lucain's 354 PRs were called "the bulk" of his work, and the
    advice would have added 27 and 11 PRs to two certified engineers): the note says so.
    Release chores are never advised as PRs (:func:`direct_note`).
    """
    bulk = [t for t in people if t[1] >= t[2]]
    small = [t for t in people if t[1] < t[2]]
    clause = (
        f" (the bulk of some authors' own work, which their PR counts miss: {_items(bulk)})"
        if bulk
        else ""
    )
    if release:
        return clause, _RELEASE_ADVICE
    if small and not bulk:
        return clause, (
            f"their most frequent authors land most of their work through PRs ({_items(small)}"
            "): direct_commits='as_prs' would count each push as a PR of its author"
        )
    return clause, _ADVICE


def remap_direct_notes(notes: list[str], mapping: dict[str, str], prs: pl.DataFrame) -> None:
    """Weigh the direct-push notes' authors again once ids are mapped to roster engineers.

    The note is written when the history is read, per author id; the roster's e-mail rule
    then maps a person's other address to the same engineer (trial AF: the identity file made
    lucainp@gmail.com "lucain", who pushed 26 commits directly, and the roster mapped
    lucain@huggingface.co, with his 354 PRs, to "lucain" only afterwards). ``notes`` is
    rewritten in place; a note whose authors cannot be read back is left as it is.
    """
    if not mapping or "author_id" not in prs.columns:
        return
    for i, note in enumerate(notes):
        if "were pushed directly (no PR)" not in note or " direct push" not in note:
            continue
        repo = note.split(": ", 1)[0]
        mine = prs.filter(pl.col("repo") == repo) if "repo" in prs.columns else prs
        counts = dict(mine.group_by("author_id").len().iter_rows())
        old = [
            (a, int(n), int(p)) for found in _LIST.findall(note) for a, n, p in _ITEM.findall(found)
        ]
        if not old:
            continue
        release = "release chores" in note
        merged: Counter = Counter()
        for a, n, _ in old:
            merged[mapping.get(a, a)] += n
        new = [(a, n, counts.get(a, 0)) for a, n in merged.most_common(3)]
        was, now = direct_words(old, release), direct_words(new, release)
        text = note
        if not was[0] and now[0]:  # a clause to add: before the advice
            text = text.replace("; they are in commits", f"{now[0]}; they are in commits", 1)
        for before, after in zip(was, now, strict=True):
            for spell in (_spelled, _cli_spelled):
                if before and spell(before) in text:
                    text = text.replace(spell(before), spell(after), 1)
                    break
            else:
                if before:
                    text = note  # not the note's own words: leave it
                    break
        notes[i] = text


def _spelled(text: str) -> str:
    return text


def _cli_spelled(text: str) -> str:
    """As ``certkit import`` prints it (:func:`certkit.connectors.cli.cli_words`)."""
    return text.replace("direct_commits='as_prs'", "`--direct-commits as_prs`")
