"""Which PRs of a git history were reverted (the ``reverted`` column of a git import).

Used by :mod:`certkit.connectors.git_prs` once the PRs are assembled. The rules (documented
for users in ``docs/connectors.md``):

- Only a **revert unit** reverts: a PR whose own title is a revert (``Revert "..."``, or
  any title starting with the word: xarray's ``Revert cmap fix (#3038)``; for a PR of several
  commits without a merge commit, whose title is its first commit's subject, only when every
  commit is a revert), whose head branch is GitHub's ``revert-<N>-<branch>`` or whose
  description says ``Reverts owner/repo#N`` (GitHub's revert button), a PR whose whole content is one commit message (a
  Gerrit change, a one-commit PR that is not a squash commit) that is a revert, or a commit
  in no PR (a direct push) that is a revert (``Revert "..."`` or ``This reverts commit``).
  A conventional-commit type before "Revert" is read as an ``[area]`` prefix ("ref: Revert
  ..."); a description may name several PRs ("This reverts the work from #5649 and #5654");
  a squash PR whose description (not a ``* `` line of a squashed commit) says ``This reverts
  commit <sha>`` of an earlier PR's one commit, with that commit's inverse diff, is a revert
  (trial AE). A revert commit, or a ``This reverts commit`` line of a squash body, inside an ordinary PR
  undoes part of an earlier PR on the way to something else (a temporary pin undone, a bot
  removed then brought back): not a revert; a note counts them.
- A revert unit names its targets by the sha (``This reverts commit ...``, which wins over a
  title), by the number (``Revert "Title (#N)"``, ``Revert "Merge pull request #N ..."``,
  ``Reverts owner/repo#N``, a ``revert-N-branch`` head branch), or by the title alone (the
  PR with that title merged last before the revert; two merged at the same moment: none). A
  unit never reverts itself.
- A revert is **in force** unless a revert in force reverts it (a revert of a revert restores
  the change; reverts naming each other in a cycle are all in force). A PR is ``reverted``
  when a revert in force names it, unless the change named announces itself as temporary.
- A **planned reversal** is not a failure: when the first line of the commit a revert names
  by sha, or the title of the PR it names, says the change is temporary (:data:`TEMPORARY`:
  it starts, after ``area:`` prefixes, with "temporarily", "temporary" or "temp" (bracketed
  or not), or ends with
  "temporarily"; it says "for now", "for the time being" or "for the next few days"; or it
  pins, disables, skips or xfails something "until ..."), that revert does not flag the PR; a note counts such PRs. A revert is never itself a temporary change (GNOME/glib
  !3269 ``Revert "tests: Temporarily disable socket test..."``, a failed attempt re-reverted
  the next day, stays ``reverted``). Seen on GNOME/glib since 2023: 4 of the 15 PRs flagged
  were such reversals (``ci: Temporarily only run the FreeBSD 13 CI on a schedule``, ...).
- A PR of several commits is reverted when a revert names any one of them (each commit is in
  one PR, the innermost): on GNOME/glib, the revert of one commit of !4618 (14 commits; the
  revert fixes issue #3761) or of !4001 (2 commits; it broke C++) undid a real failure. A
  commit that the PR's branch carries only to get through CI (glib !3703's 31 commits ended
  with a copy of the temporary FreeBSD CI commit, reverted three weeks later) is a temporary
  change by its own subject: the rule above reads the named commit's subject, not only the
  PR's title.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from certkit.connectors.git_messages import SQUASH
from certkit.connectors.git_revert_notes import revert_notes, unnamed_note

if TYPE_CHECKING:
    from certkit.connectors.git import _Commit

#: git's ``This reverts commit <sha>``; Google's rollback tool writes ``Automated rollback of
#: commit <sha>.``, people ``Rollback <sha> for breaking the build`` (abseil/abseil-cpp,
#: exported by Copybara). Read in the whole message (``body`` holds the subject too).
_REVERTS_SHA = re.compile(
    r"(?:This reverts commit|Automated rollback of commit|^(?:Revert(?: commit)?|Roll ?back))"
    r" ([0-9a-f]{7,40})\b",
    re.MULTILINE | re.IGNORECASE,
)
#: The reverted change's title: ``Revert "<title>"``, Meta's ``Back out "<title>"``
#: (facebook/watchman), and Google's ``Rollback of <title>``, ``Rollback: "<title>"``, ``Roll
#: back <title>``, ``Revert: <title>`` (abseil-cpp).
_REVERT_SUBJECT = re.compile(
    r"^(?:\[[^\]]*\]\s*)*"  # "[ty] Revert ..." (astral-sh/ruff, trial AC)
    r"(?:[a-z]+(?:\([^)]*\))?!?:\s*(?=Revert \"|Back out \"))?"  # 'ref: Revert "..."'
    r'(?:(?:Revert|Back out) "(?P<inner>.*)"|(?:Revert:|Rollback(?: of)?:?|Roll back(?: of)?:?)'
    r'\s+"?(?P<bare>.+?)"?\s*$)'
)
#: A title or subject that says it reverts ("Revert cmap fix (#3038)": xarray's PR reverting
#: #2935 by a ``Revert "..."`` commit of its branch; Google's "Rollback of ...", Meta's "Back
#: out ..."). Not "Undo ...": xarray's "undo the pin on the pixi version" ends a workaround.
_REVERT_TITLE = re.compile(
    r"^(?:\[[^\]]*\]\s*)*"  # an "[area]" prefix: "[ty] Revert ..." (astral-sh/ruff)
    # a conventional-commit type before "revert" only (not "feat: Rollback support"):
    # "ref: Revert global span batcher limits (#7168)" (sentry-python, trial AE L12)
    r"(?:[a-z]+(?:\([^)]*\))?!?:\s*(?=revert\b))?"
    # not "Revert to stable behavior" (a fix, trial AD), unless it says revert again:
    # "Revert to default LICENSE (Revert #13449)" (gemini-cli, trial T)
    r"(?:revert(?!\s+to\b(?!.*\brevert))|rollback|roll back|rolling back|automated rollback"
    r"|back out|backout|backed out)\b",
    re.IGNORECASE,
)


def _subject_paragraph(c: _Commit | MessageCommit) -> str:
    """A commit's subject without its ``(#N)``, joined with the next line when it stops
    after "Rollback of" or "Revert:" (abseil-cpp c7a875c1: "Rollback of" / "Add
    [[clang::nomerge]] to ..."), as git's ``%s`` joins a first paragraph."""
    subject = SQUASH.sub("", c.subject).strip()
    if _BARE_REVERT.match(subject):
        rest = c.body.split("\n", 1)[1] if "\n" in c.body else ""
        nxt = next((line.strip() for line in rest.splitlines() if line.strip()), "")
        subject = f"{subject} {SQUASH.sub('', nxt).strip()}"
    return subject


def _reverted_title(subject: str) -> str | None:
    """The title a revert's subject names (:data:`_REVERT_SUBJECT`), else ``None``."""
    m = _REVERT_SUBJECT.match(subject)
    return (m["inner"] if m["inner"] is not None else m["bare"]) if m else None


_REF = r"(?:[\w.-]+/[\w.-]+)?#\d+\b"
#: GitHub's ``Reverts owner/repo#N``; "This reverts #26163 and ..." (astral-sh/ruff, trial AD);
#: a sentence naming several: "This reverts the work from #5649 and #5654, which added ..."
#: (sentry-python #5655, trial AE M3), "Reverts #5, #6 and #7".
_REVERTS_PR = re.compile(
    r"^(?:This (?:PR |change )?)?Reverts (?:(?:the )?(?:work|changes?|commits?|PRs?|pull "
    r"requests?) (?:(?:made )?(?:from|of|in) )?)?(?:PR )?"
    rf"(?P<refs>{_REF}(?:(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)(?:PR )?{_REF})*)",
    re.MULTILINE | re.IGNORECASE,
)
#: A squash body's list of the squashed commits begins at its first ``* `` line.
_BULLET = re.compile(r"^\* ", re.MULTILINE)
_ONE_REF = re.compile(r"(?:(?P<repo>[\w.-]+/[\w.-]+))?#(?P<n>\d+)")


def _reverts_refs(text: str) -> list[tuple[str | None, int]]:
    """``(owner/repo or None, N)`` for each PR a ``Reverts #N``-like line of ``text`` names
    (:data:`_REVERTS_PR`)."""
    return [
        (r["repo"], int(r["n"]))
        for m in _REVERTS_PR.finditer(text)
        for r in _ONE_REF.finditer(m["refs"])
    ]


def _same_repo(named: str, repo: str) -> bool:
    """Whether ``Reverts <named>#N`` names a PR of ``repo`` (``owner/name``; the owner may
    have changed since: a transferred repository keeps its name). Trial U: "Reverts
    other/repo#5" marked this repository's own #5 reverted."""
    a, b = named.lower().rstrip("/"), repo.lower()
    if "/" not in b:  # known by its folder's name only (no GitHub origin): any name fits
        return True
    return a == b or a.rsplit("/", 1)[-1] == b.rsplit("/", 1)[-1]


#: Meta's backout of a Phabricator diff (facebook/watchman: ``Revert D80147769: Fix the OSS
#: build``), naming the PR ``owner/repo#D80147769``.
_REVERT_DIFF = re.compile(r"^Revert D(?P<n>\d+)\b")
#: The diff a Meta backout undoes, in its body (``Back out "<title>"`` ... ``Original
#: Phabricator Diff: D111088825``).
_ORIGINAL_DIFF = re.compile(r"^Original Phabricator Diff: D(?P<n>\d+)\b", re.MULTILINE)
#: A revert naming the PR it undoes by number (cline/cline: ``revert: #8341 (0d04205dc) due
#: to DiffService truncateDocument regressions (#8423, #8429) (#8432)``).
_REVERT_NUMBER = re.compile(
    r"^(?:revert|roll ?back)(?: of)?\b[:\s]*(?:PR\s*|pull request\s*)?#(?P<n>\d+)\b", re.I
)
#: Google's "Rolling back cl/565792699" names the change list, PR ``owner/repo#CL565792699``.
_REVERT_CL = re.compile(r"\bcl/(?P<n>\d+)\b", re.I)
#: A revert subject that stops before naming anything: the title is on the next line.
_BARE_REVERT = re.compile(r"^(?:revert|rollback|roll back)(?: of)?:?\s*$", re.I)
#: GitHub's revert button names its branch revert-<N>-<head branch of PR N>.
_REVERT_BRANCH = re.compile(r"(?:^|[/:])revert-(?P<n>\d+)-")
_MERGED_PR = re.compile(r"^Merge pull request #(?P<n>\d+)\b")
#: A change that says it is temporary (case-insensitive, on a subject's or title's first line):
#: "ci: Temporarily disable msys2-mingw32 CI", "Fix CI: temporary pin pytest version to 7.4.*",
#: "CI: Skip PCRE2 tests for now for 32-bit Visual Studio builds", "pin pixi until the nightly
#: ci resolves again". Anchored to avoid "Fix temporary file leak", "tests: Add temporary
#: working directory", "does not temporarily expose private files", "Keep config file around
#: until bus daemon exits". A trailing "temporarily" ("ci: Disable container building
#: temporarily") or "for the time being" anywhere says so too.
TEMPORARY = (
    # "(Temporarily) disable ..." (trial X, pydantic-ai #1169) and "[temp] ..." alike
    re.compile(r"^(?:[^:\s][^:]{0,40}:\s*)*[(\[]?temp(?:orar(?:il)?y)?\b", re.IGNORECASE),
    re.compile(r"\btemporarily[.!]?\s*(?:\(#\d+\))?\s*$", re.IGNORECASE),
    re.compile(r"\bfor (?:now|the time being)\b", re.IGNORECASE),
    # "[ty] Take myself out of the reviewer pool for the next few days" (ruff #23618)
    re.compile(r"\bfor (?:the next|a) (?:few |couple (?:of )?)?(?:days|weeks)\b", re.I),
    re.compile(r"\b(?:pin|disable|skip|xfail)\w*\b.*\buntil\b", re.IGNORECASE),
)


def _same_title(said: str, title: str | None) -> bool:
    """Whether a revert's quoted title (without its ``(#N)``) is the PR's title: equal up to
    case, spacing and a final period, one holding the other, or 80% alike (a title edited
    after the merge by a word or a prefix). True when the PR has no title to compare."""

    def norm(text: str) -> str:
        return " ".join(text.lower().split()).rstrip(".").strip()

    if not title or not title.strip():
        return True
    a, b = norm(said), norm(title)
    if a == b or (min(len(a), len(b)) >= 8 and (a in b or b in a)):
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


#: How far back (days) a revert that names nothing is matched to a change by its diff alone
#: (:func:`mark_reverts`).
INVERSE_MAX_DAYS = 90

#: Lower-case words one of which every message the rules read as naming a revert target
#: holds ("revert", "rollback"/"roll back"/"rolling back", "back out"/"backout"/"backed out").
_REVERT_WORDS = ("revert", "roll", "back out", "backout", "backed out")


@dataclass(slots=True)
class MessageCommit:
    """A commit known only by its message (a forge's PR commit, as DevLake stores it): what
    :func:`mark_reverts` reads of a commit. ``parents`` is 2 for a PR's landed (merge or
    squash) commit, whose message DevLake may lack: it is read as a merge, never as the PR's
    whole content."""

    sha: str
    subject: str
    body: str
    committed: datetime
    parents: list[str] = field(default_factory=lambda: [""])
    patch: int = 0  # no numstat: nothing is found by its diff
    inverse: int = 0


def message_commit(sha: str, message: str | None, committed: datetime, landed: bool = False):
    """A :class:`MessageCommit` from a whole commit message (``body`` holds the subject too,
    as git's does)."""
    text = (message or "").strip()
    return MessageCommit(
        sha, text.split("\n", 1)[0].strip(), text, committed, ["", ""] if landed else [""]
    )


_NUMBER = re.compile(r"#(\d+)")


def revert_names(
    title: str, head: str | None, body: str, commits: list[MessageCommit]
) -> tuple[set[int], set[str], set[str]]:
    """``(numbers, shas, titles)``: every PR number, commit sha (or prefix) and PR title a
    revert PR with this title, head branch, description and commits could name to
    :func:`mark_reverts` (a superset), to look those PRs up without reading every PR."""
    texts = [title, body, *(c.body for c in commits)]
    numbers = {int(n) for text in texts for n in _NUMBER.findall(text)}
    if b := _REVERT_BRANCH.search(head or ""):
        numbers.add(int(b.group("n")))
    shas = {s.lower() for c in commits for s in _REVERTS_SHA.findall(c.body)}
    inner = [_reverted_title(title)] + [_reverted_title(_subject_paragraph(c)) for c in commits]
    return numbers, shas, {i for i in inner if i}


@dataclass(eq=False, slots=True)
class _Unit:
    """A PR row, or a direct commit outside ``pull_requests``: what a revert can name."""

    pr: dict | None
    shas: list[str]
    when: datetime
    revert: bool = False
    targets: list[_Unit] = field(default_factory=list)
    by: list[_Unit] = field(default_factory=list)  # the revert units naming it
    #: the revert units naming it other than as a planned reversal of a temporary change
    unplanned: list[_Unit] = field(default_factory=list)
    #: the commits a planned reversal named by sha (a PR of several commits: which one)
    planned_shas: list[str] = field(default_factory=list)


def mark_reverts(
    prs: list[dict], commits: dict[str, _Commit], direct: Iterable[str], repo: str
) -> list[str]:
    """Set ``reverted`` on the PRs a revert in force names; return the import's notes.

    Parameters
    ----------
    prs
        PR rows of one repository, with ``_shas`` (their commits), ``number``, ``title``,
        ``merged_date`` and ``_head`` (the head branch, or ``None``; removed here). A
        forge's PR (DevLake) also has ``_body`` (its description) and ``_pr_title`` true:
        its title is its own, not a commit's subject, so the PR is a revert by its title,
        head branch or description (``Reverts owner/repo#N``, which also names the PR
        reverted) or a commit body saying ``Reverts owner/repo#N``, as a squash-merged PR
        on GitHub is; both keys are removed here.
    commits
        Every commit read, by sha (:class:`MessageCommit` for commits known only by their
        message).
    direct
        The commits pushed directly (in no PR, whether or not they are PR rows with
        ``direct_commits="as_prs"``).
    repo
        The repository's name, for the notes.

    Returns
    -------
    list[str]
        Notes: reverts inside ordinary PRs not counted, PRs restored by a revert of their
        revert.
    """
    units = [_Unit(pr, pr["_shas"], pr["merged_date"]) for pr in prs]
    owned = {s for pr in prs for s in pr["_shas"]}
    units += [_Unit(None, [s], commits[s].committed) for s in direct if s not in owned]
    by_sha = {s: u for u in units for s in u.shas}
    pr_units = [u for u in units if u.pr is not None]
    by_number = {u.pr["number"]: u for u in pr_units if u.pr["number"] is not None}
    by_diff = {u.pr["id"].rpartition("#D")[2]: u for u in pr_units if "#D" in u.pr["id"]}
    by_cl = {u.pr["id"].rpartition("#CL")[2]: u for u in pr_units if "#CL" in u.pr["id"]}
    by_title: dict[str, list[_Unit]] = {}
    for u in pr_units:  # PRs with a number, Phabricator diffs and Copybara change lists
        if (u.pr["number"] is not None or "#" in u.pr["id"]) and u.pr["title"]:
            by_title.setdefault(u.pr["title"].strip(), []).append(u)

    def reverts_line(text: str, when: datetime) -> list[tuple[_Unit, str | None]]:
        """The PRs ``Reverts owner/repo#N`` names of this repository, or ``Reverts #N`` (trial
        AC: "Reverts #27362.") merged before ``when`` (a bare number may be another
        tracker's)."""
        found = []
        for named_repo, n in _reverts_refs(text):
            target = by_number.get(n)
            if target is not None and (
                _same_repo(named_repo, repo) if named_repo else target.when <= when
            ):
                found.append((target, None))
        return found

    def titled(title: str, before: datetime) -> list[_Unit]:
        title = title.strip()  # "Roll back: Add checks." names "Add checks." or "Add checks"
        same = {title, title.rstrip("."), title.rstrip(".") + "."}
        earlier = [u for t in same for u in by_title.get(t, []) if u.when < before]
        if not earlier:
            return []
        last = max(u.when for u in earlier)
        latest = [u for u in earlier if u.when == last]
        return latest if len(latest) == 1 else []

    def named(inner: str, when: datetime, sha_named: bool) -> list[_Unit]:
        squash = SQUASH.search(inner)
        n = squash or _MERGED_PR.match(inner)
        if n:
            target = by_number.get(int(n.group("n")))
            # the quoted title must be that PR's: 'Revert "Add feature X (#5)"' in another
            # repository's history (a cherry-pick, a port) named this one's #5 "Other thing"
            # (trial Y)
            said = inner[: squash.start()] if squash else None
            if target is None or (said and not _same_title(said, target.pr["title"])):
                return []
            return [target]
        return [] if sha_named else titled(inner, when)

    ordered = sorted(by_sha)  # for the shas a message abbreviates, found by bisection

    def expand(short: str) -> str | None:
        """The sha ``short`` abbreviates (itself when whole; None when no unit has it)."""
        if short in by_sha or len(short) >= 40:
            return short if short in by_sha else None
        i = bisect.bisect_left(ordered, short)
        return ordered[i] if i < len(ordered) and ordered[i].startswith(short) else None

    def by_commit(c: _Commit) -> list[tuple[_Unit, str | None]]:
        """The units one commit's message names as reverted, each with the sha it names
        (``None`` when it names the unit by its number or title)."""
        found: list[tuple[_Unit, str | None]] = []
        if not any(w in c.body.lower() for w in _REVERT_WORDS):
            return found  # nothing below can match (a DevLake import of 100,000 PRs: 3.7 s
            # of revert marking -> 2.5 s)
        shas = _REVERTS_SHA.findall(c.body)
        for short in shas:
            full = expand(short)
            if full is not None:
                found.append((by_sha[full], full))
        inner = _reverted_title(_subject_paragraph(c))
        if inner is not None:
            found += [(t, None) for t in named(inner, c.committed, bool(shas))]
        found += reverts_line(c.body, c.committed)
        d = _REVERT_DIFF.match(c.subject) or (
            _ORIGINAL_DIFF.search(c.body) if _REVERT_TITLE.match(c.subject) else None
        )
        if d and d.group("n") in by_diff:
            found.append((by_diff[d.group("n")], None))
        n = _REVERT_NUMBER.match(c.subject)
        target = by_number.get(int(n.group("n"))) if n else None
        if target is not None and target.when <= c.committed:  # not a later PR's number
            found.append((target, None))  # (twisted's "Revert #5683" names a Trac ticket)
        if _REVERT_TITLE.match(c.subject):
            found += [
                (by_cl[m["n"]], None) for m in _REVERT_CL.finditer(c.subject) if m["n"] in by_cl
            ]
        return found

    by_patch: dict[int, list[_Commit]] = {}  # numstat hash -> commits of units, oldest first
    for s in sorted(by_sha, key=lambda s: commits[s].committed):
        if commits[s].patch:
            by_patch.setdefault(commits[s].patch, []).append(commits[s])

    def inverse_of(c: _Commit) -> list[tuple[_Unit, str | None]]:
        """For a revert that names nothing: the latest earlier commit whose changes it undoes
        file by file (its numstat with lines added and deleted swapped). abseil-cpp since
        2023: of 47 rollbacks that exactly undo an earlier commit, 36 were not found by their
        words ("Rollback new poisoned pointer API")."""
        # a numstat says nothing of content: a change months old with the same counts is
        # most likely another (trial AC: ruff#20575, one line of release.sh, "reverted"
        # eight months later by #25159, which undid part of #25154)
        since = c.committed - timedelta(days=INVERSE_MAX_DAYS)
        earlier = [e for e in by_patch.get(c.inverse, []) if since <= e.committed < c.committed]
        return [(by_sha[earlier[-1].sha], earlier[-1].sha)] if c.inverse and earlier else []

    def planned(t: _Unit, sha: str | None) -> bool:
        """Whether a revert naming ``t`` (by ``sha``, or by its number or title) undoes a
        change that said it was temporary: the named commit's subject or the PR's title."""
        if t.revert:
            return False
        title = t.pr["title"] if t.pr is not None else commits[t.shas[0]].subject
        return _temporary(title or "") or (sha is not None and _temporary(commits[sha].subject))

    def described(u: _Unit) -> bool:
        """A squash PR whose description (not a ``* `` line of a squashed commit) says
        ``This reverts commit <sha>`` of an earlier PR's one commit, and whose diff is that
        commit's inverse, within :data:`INVERSE_MAX_DAYS`: a revert as a whole (sentry-python
        #4286 "fix(debug): Do not consider parent loggers ..." undoing #4133 a month later,
        trial AE M3). Later it is more often a workaround's planned end (ruff #27174 removing
        #23921's ecosystem-check exclusion 135 days on, once upstream fixed the cause)."""
        c = commits[u.shas[0]]
        if u.pr is None or len(u.shas) != 1 or not c.inverse or not SQUASH.search(c.subject):
            return False
        for short in _REVERTS_SHA.findall(_BULLET.split(c.body, 1)[0]):
            full = expand(short)
            t = by_sha.get(full) if full else None
            if (
                t is not None
                and t is not u
                and t.pr is not None
                and len(t.shas) == 1
                and t.when <= u.when <= t.when + timedelta(days=INVERSE_MAX_DAYS)
                and commits[full].patch == c.inverse
            ):
                return True
        return False

    for u in units:  # first which units are reverts: a revert is never a temporary change
        u.revert = _is_revert(u, [commits[s] for s in u.shas]) or described(u)
    inside: dict[str, list[str]] = {}  # "<PR> undoes part of <PR>" -> the commits saying so
    unnamed: list[str] = []  # revert PRs whose reverted PR was not found
    for u in units:
        own = [commits[s] for s in u.shas]
        if not u.revert:
            holder = u.pr["id"] if u.pr is not None else u.shas[0][:10]
            for c in own:
                for t, _ in by_commit(c):
                    if t is not u and t.pr is not None:
                        said = f"{holder} undoes part of {t.pr['id']}"
                        inside.setdefault(said, []).append(c.sha)
            continue
        found = [link for c in own for link in by_commit(c)]
        if not found:
            found = [link for c in own if _REVERT_TITLE.match(c.subject) for link in inverse_of(c)]
        pr = u.pr
        if pr is not None:  # the revert PR's own title and branch (a merge commit names both)
            inner = _reverted_title(pr["title"] or "")
            if inner is not None and pr["number"] is not None:
                sha_named = any(_REVERTS_SHA.search(c.body) for c in own)
                found += [(t, None) for t in named(inner, u.when, sha_named)]
            found += reverts_line(pr.get("_body") or "", u.when)
            n = _REVERT_NUMBER.match(pr["title"] or "") if pr.get("_pr_title") else None
            target = by_number.get(int(n.group("n"))) if n else None
            if target is not None and target.when <= u.when:  # a forge PR's own title: a
                found.append((target, None))  # git import reads it in its landed commit
            b = _REVERT_BRANCH.search(pr.get("_head") or "")
            if b and int(b.group("n")) in by_number:
                target = by_number[int(b.group("n"))]
                found += [(target, None)] if target.when <= u.when else []
        for t, sha in found:
            if t is u:
                continue
            if t not in u.targets:
                u.targets.append(t)
                t.by.append(u)
            if u not in t.unplanned and not planned(t, sha):
                t.unplanned.append(u)
            elif sha is not None and sha not in t.planned_shas:
                t.planned_shas.append(sha)
        if pr is not None and not u.targets:
            unnamed.append(pr["id"])

    in_force: dict[_Unit, bool] = {}

    def force(u: _Unit, path: set[_Unit]) -> tuple[bool, bool]:
        """(in force, on a cycle): a revert is in force unless a revert in force reverts it.

        Units on a cycle of reverts naming each other (git allows it across branches) are in
        force; what depends on that assumption is not remembered, so the answer does not
        depend on where the walk started.
        """
        if u in in_force:
            return in_force[u], False
        if u in path:
            return True, True
        path.add(u)
        undone, cycle = False, False
        for v in u.by:
            f, c = force(v, path)
            undone, cycle = undone or f, cycle or c
        path.discard(u)
        if not cycle:
            in_force[u] = not undone
        return not undone, cycle

    restored, as_planned = [], []
    for u in pr_units:
        for key in ("_head", "_body", "_pr_title"):
            u.pr.pop(key, None)
        if u.by:
            if any(force(v, set())[0] for v in u.unplanned):
                u.pr["reverted"] = True
            elif any(force(v, set())[0] for v in u.by):
                as_planned.append(_planned_name(u))
            else:
                restored.append(u.pr["id"])
    return revert_notes(repo, inside, restored, as_planned) + unnamed_note(repo, unnamed)


def _temporary(text: str) -> bool:
    """Whether a subject or PR title says its change is temporary (:data:`TEMPORARY`); a
    revert (``Revert "ci: Temporarily ..."``) never is."""
    line = text.strip().split("\n", 1)[0]
    return not _REVERT_TITLE.match(line) and any(p.search(line) for p in TEMPORARY)


def _is_revert(u: _Unit, own: list[_Commit]) -> bool:
    """Whether a unit is a revert: its title, branch or description; or, when its whole
    content is one commit message (a direct push, a Gerrit change, a one-commit PR that is not
    a squash commit, whose body lists the squashed branch's commits), that message. A PR of
    several commits and no merge commit (a ``Part-of:`` or Change-Id group, commits that
    landed together) has its first commit's subject for a title: a revert only when every
    commit is (gnome-shell !3973: ``Revert "ci: Reinstall gdk-pixbuf2 package"`` then ``ci:
    Bump mutter image`` undoes a workaround on the way, as a revert commit on a merged
    branch does)."""
    pr = u.pr
    if pr is not None:
        if _REVERT_BRANCH.search(pr.get("_head") or ""):
            return True
        subjects = {SQUASH.sub("", c.subject).strip() for c in own} | {c.subject for c in own}
        if (
            not pr.get("_pr_title")
            and len(own) > 1
            and all(len(c.parents) < 2 for c in own)
            and pr.get("created_source") != "squash_commit"
            and pr["title"] in subjects  # a title taken from a commit, not a PR's own
        ):
            return all(_REVERT_TITLE.match(c.subject) or _REVERTS_SHA.search(c.body) for c in own)
        if _REVERT_TITLE.match(pr["title"] or ""):
            return True
        # GitHub's revert button's text, in a commit or in the PR's own description
        if any(_REVERTS_PR.search(c.body) for c in own) or _REVERTS_PR.search(
            pr.get("_body") or ""
        ):
            return True
        if pr.get("_pr_title"):  # a forge's PR: its title, branch and description decide
            return False
        one_message = pr.get("_change_id") is not None or (
            len(own) == 1 and len(own[0].parents) < 2 and not SQUASH.search(own[0].subject)
        )
        if not one_message:
            return False
    return any(_REVERT_TITLE.match(c.subject) or _REVERTS_SHA.search(c.body) for c in own)


def _planned_name(u: _Unit) -> str:
    """A PR reverted as planned, by id; for a PR of several commits whose planned reversal
    named another commit than the one its id names (commits that landed together, named by
    their first), that commit too: ``owner/repo@0718f73eac (its commit a4a7e19fd0)``."""
    other = [s[:10] for s in u.planned_shas if s != u.shas[0] and s[:10] not in u.pr["id"]]
    return f"{u.pr['id']} (its commit {', '.join(other)})" if other else u.pr["id"]


def swapped_numstat(numstat: str) -> str:
    """A numstat line with its added and deleted counts swapped: the line of its revert."""
    cols = numstat.split("\t", 2)
    return "\t".join([cols[1], cols[0], cols[2]]) if len(cols) == 3 else numstat
