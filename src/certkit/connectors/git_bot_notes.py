"""The note on unlisted bot accounts whose PRs name people as co-authors (a house agent).

An account named ``...[bot]`` that no agents file lists is automation: its PRs are bot PRs,
left out of the analysis and counted as nobody's work (documented behaviour, unchanged here).
A house coding agent that opens PRs for the people who ask it looks the same when its commits
carry no AI trailer: huggingface/huggingface_hub's Moon Bot (``moon-bot-app[bot]``, trial AF)
authored 11 feature PRs in 2026, 10 of them ``Co-authored-by:`` the engineer who asked for it
("Requested by @hanouticelina (Célina Hanouti) via Moon Bot."), and getsentry/sentry-python's
``sentry-junior[bot]`` (trial AE) did the same. :func:`bot_coauthor_notes` names such
accounts, with the people their co-author lines credit, so the analyst can list an agent with
``--agents`` (kind ``ai_agent``: its PRs then count as AI-assisted, each credited to its first
human co-author) or leave it as automation.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from certkit.connectors.git import _Commit
    from certkit.connectors.identity import Identities

#: A bot is named when people co-author at least this share of its bot PRs: an agent working
#: for people names one on (nearly) every PR; a release or sync bot whose PR a person fixed
#: once does not (huggingface_hub's huggingface-hub-bot[bot]: 2 of its 22 PRs).
MIN_SHARE = 0.5


def bot_coauthor_notes(
    repo: str,
    prs: list[dict],
    commits: dict[str, _Commit],
    ids: Identities,
    *,
    shown: int = 3,
) -> list[str]:
    """The note naming unlisted ``[bot]`` accounts whose PRs name people as co-authors.

    Parameters
    ----------
    repo
        The repository's name (the note's prefix).
    prs
        The PR rows of the repository (:func:`certkit.connectors.git_prs.assemble`), with
        their ``_shas``.
    commits
        Every commit of the repository by sha.
    ids
        The identity file: a co-author is named by the id it maps them to (as a listed agent's
        PR would credit them, before the roster's columns map ids to roster engineers).
    shown
        How many bots, and how many people per bot, the note names.

    Returns
    -------
    list[str]
        One note, or none. A bot listed in an agents file (dependabot, a workflow's
        ``github-actions[bot]``) is never named: the file already says what it is.
    """
    bots: dict[str, list[int]] = {}  # bot id -> [bot PRs, PRs with a human co-author]
    people: dict[str, Counter] = {}
    for pr in prs:
        if not pr.get("is_bot_author"):
            continue
        mine = sorted((commits[s] for s in pr.get("_shas", [])), key=lambda c: c.authored)
        work = [c for c in mine if len(c.parents) < 2] or mine
        if not work or work[0].listed_agent or not work[0].bot:
            continue
        counts = bots.setdefault(pr["author_id"], [0, 0])
        counts[0] += 1
        human = next((h for c in work for h in c.human_coauthors), None)
        if human is not None:
            counts[1] += 1
            name, email = human
            eid = ids.engineer_id(email=email, name=name)
            people.setdefault(pr["author_id"], Counter())[eid] += 1
    return bot_note(repo, bots, people, shown)


def bot_note(
    repo: str, bots: dict[str, list[int]], people: dict[str, Counter], shown: int = 3
) -> list[str]:
    """The note of :func:`bot_coauthor_notes` from its counts, for any reader (the git import
    and ``certkit import devlake``, trial AG B3): ``bots`` maps a bot id to ``[its bot PRs,
    those with a human co-author]``, ``people`` a bot id to the people those name."""
    named = [(b, n, k) for b, (n, k) in bots.items() if k and k >= MIN_SHARE * n]
    if not named:
        return []
    named.sort(key=lambda t: (-t[2], t[0]))
    said = "; ".join(
        f"{b} ({k} of its {n} PR(s), co-authored by "
        + ", ".join(f"{p} {c}" for p, c in people[b].most_common(shown))
        + (f" and {len(people[b]) - shown} more" if len(people[b]) > shown else "")
        + ")"
        for b, n, k in named[:shown]
    )
    more = f"; and {len(named) - shown} more bot(s)" if len(named) > shown else ""
    total = sum(k for _, _, k in named)
    return [
        f"{repo}: {total} bot PR(s) name people as co-authors, by bot accounts no agents file "
        f"lists: {said}{more}. These PRs are bot PRs: they count for nobody (left out of the "
        "analysis, not AI-assisted). If such a bot is an AI agent that writes code for the "
        "people who ask it, list it with --agents (kind ai_agent): its PRs then count as "
        "AI-assisted, each credited to its first human co-author"
    ]
