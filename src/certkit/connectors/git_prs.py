"""Which commits of a git history are pull requests, and which PR owns each commit.

Used by :mod:`certkit.connectors.git` once every commit of the history has been read. The
rules (documented for users in ``docs/connectors.md``):

- **PR merges** are merge commits that name a PR (``Merge pull request #12 from ...``, GitLab
  ``See merge request g/p!12``, Bitbucket ``(pull request #12)``, Bitbucket Server
  ``Merge pull request #12 in P/r from ...``, Gitea ``Merge pull request 'Title' (#12) from``,
  Azure ``Merged PR 12:``, or
  a merge committed by GitHub whose edited title ends in ``(#12)``),
  *anywhere in the graph*, also off the first-parent line (a PR merged into a release branch,
  or brought in by a ``git pull`` merge). A PR merge owns the commits its side brought in:
  ``git rev-list M^2 --not M^1``, computed exactly from the graph.
- **Squash merges** are single-parent commits whose subject ends in ``(#12)``, anywhere in
  the graph, except on a numbered PR's branch unless GitHub committed them (there the
  number names an issue: a commit of that PR). Several commits with the same number (a PR
  squashed then fixed up, a cherry-pick, a backport) are **aggregated** into one PR: lines
  summed (one patch twice counted once: :mod:`certkit.connectors.git_merges`), created at
  the earliest author date, merged at the latest commit date, AI evidence of all of them.
- **Reviewed changes without a merge commit** (:mod:`certkit.connectors.git_review`): a
  single-parent commit whose trailers name a Forgejo pull request (``Reviewed-on:
  .../pulls/12``), a Gerrit change (``Reviewed-on:``, else ``Change-Id:``), a GitLab merge
  request (Marge-bot's ``Part-of:``, or ``See merge request g/p!12``) or a Phabricator revision
  (``Differential Revision:``). All the commits naming one change form one PR (id ``repo#12``;
  Phabricator ``repo#D12``; a Change-Id ``repo@<sha>``, or ``repo#N`` of the GitHub PR its
  ``Pull-request:`` trailer mirrors). A Gerrit merge (``Merge "<subject>" into main``) that
  brings a Gerrit change in is that change's merge time, not a PR nor a sync merge.
- **Merge queues** (bors/homu ``Auto merge of #12 - ...``, Rust's ``Rollup merge of #12``,
  bors-ng ``Merge #12``) are PR merges like ``Merge pull request``; a bors-ng batch ``Merge #12
  #13`` is one PR per number (:func:`certkit.connectors.git_merges.batch_parts`).
- **Branch-sync merges** are not PRs and own no commits: ``Merge branch 'main' of
  github.com:org/repo`` (``git pull``), ``Merge remote-tracking branch 'origin/main'``,
  ``Merge branch 'x' into y``, ``Merge tag ...``, a plain ``Merge branch 'main'``, and a
  Gerrit ``Merge "..."`` that brings in no Gerrit change.
- **Other merges on the first-parent line** (``Merge branch 'hotfix'``: a local merge of a
  feature branch) are PRs without a number (id ``repo@<sha>``); off the first-parent line
  they are ordinary commits of the PR that owns them.
- **Merges that bring in another repository's history** (``imported``) are not PRs, and that
  history is in none of this repository's PRs (its own PRs stay PRs without a number).
- The innermost PR wins: a PR merged into a feature branch keeps its commits when the feature
  branch is merged in turn.
- Every other non-merge commit was pushed directly (no PR): counted in a note, or one PR each
  with ``direct_commits="as_prs"`` (commits that landed together, a rebased merge request
  fast-forwarded, are one PR: :mod:`certkit.connectors.git_landings`).

Authors: the first human author among the PR's commits. A PR written only by agents or bots
is credited, when an AI agent wrote it, to a human co-author (``Co-authored-by``), else to the
human who merged it (the author of a ``Merge pull request`` commit), else to no one: it stays
a bot PR (``author_id`` ending in ``[bot]``, ``is_bot_author`` true), never an engineer, and
is counted in a note. Automation PRs of listed accounts (dependabot, renovate...) stay bot PRs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from certkit.connectors import git_dates
from certkit.connectors.attribution import Evidence, Rules, detect, tools_of
from certkit.connectors.git_graph import (
    branch_only,
    first_parent_line,
    first_parent_roots,
    generations,
)
from certkit.connectors.git_landings import (
    direct_note,
    landing_group,
    landing_note,
    landings,
    translation_notes,
)
from certkit.connectors.git_merges import batch_parts, distinct_patches, fork_merges, rolled_back
from certkit.connectors.git_messages import (
    GITHUB_WEB,
    SQUASH,
    is_sync_merge,
    merge_title,
    pr_number,
)
from certkit.connectors.git_reverts import mark_reverts
from certkit.connectors.git_review import (
    GERRIT,
    REVIEW_SYSTEMS,
    change_id,
    change_numbers,
    gerrit_merge_points,
    imported_pull_request,
    is_gerrit_merge,
    linked_elsewhere,
    review_change,
    review_notes,
    same_person,
    self_landed,
    self_landed_note,
)
from certkit.connectors.identity import Identities

if TYPE_CHECKING:
    from certkit.connectors.git import _Commit


def assemble(
    commits: dict[str, _Commit],
    tip: str,
    repo: str,
    *,
    ids: Identities,
    direct_commits: str,
    imported: set[str] | frozenset[str] = frozenset(),
    older: set[str] | frozenset[str] = frozenset(),
    rules: Rules | None = None,
) -> tuple[list[dict], list[str]]:
    """PR rows (see the module docstring) and the notes saying what was counted how.

    ``imported`` are the merges that bring in another repository's history
    (:func:`certkit.connectors.git_repos.imported_histories`): not PRs, and the history they bring
    in is in none of this repository's PRs. Sets ``pr_id`` on every commit a PR owns. PR rows
    carry ``_shas`` (for revert detection), ``_new_people`` (human co-authors or mergers
    credited with an agent's PR) and ``_change_id`` (a Gerrit change's, else ``None``).
    ``older`` are commits from before ``--since`` read for the window's PRs: a PR only merged
    before ``--since`` is left out with its commits (as the window's PRs leave them), and none
    of them is a direct push. With ``rules``, a merged PR's head branch (a GitHub merge's
    ``from owner/codex/...``) is read by the AI rules' branch patterns, as a ``gh`` export's
    is; its detections are in ``_branch_detections``.
    """
    gen = generations(commits)
    line = first_parent_line(commits, tip)
    mainline = set(line)

    roots = first_parent_roots(commits, gen)
    home = roots.get(tip)
    # Units (a PR merge, an unnumbered mainline merge, a squash commit), innermost first.
    units: list[tuple[int, str, str]] = []  # (generation, sha, kind)
    n_sync = 0
    gerrit_merges: list[str] = []
    imports = sorted(m for m in imported if m in commits)
    foreign = {s for m in imports for s in branch_only(commits[m], commits, gen)}
    release = git_dates.release_merges(commits, mainline, _named)  # release-branch syncs
    for sha, c in commits.items():
        if sha in imported:
            continue
        if (
            sha in older
            and len(c.parents) >= 2
            and pr_number(c)[0] is None
            and not is_gerrit_merge(c.subject)
        ):
            continue  # a sync or unnumbered merge on the branch of a PR of the window
        if len(c.parents) >= 2:
            number, _ = pr_number(c)
            if number is not None:
                units.append((gen[sha], sha, "merge"))
            elif is_gerrit_merge(c.subject):
                gerrit_merges.append(sha)  # a sync merge unless it brings in a change
            elif is_sync_merge(c.subject) or sha in release:
                n_sync += 1
            elif sha in mainline:
                units.append((gen[sha], sha, "merge"))
        elif (m := SQUASH.search(c.subject)) and not linked_elsewhere(c, int(m["n"]), repo):
            units.append((gen[sha], sha, "squash"))
        elif review_change(c) is not None:
            units.append((gen[sha], sha, "review"))
    units.sort()
    # The commits each merge's side brought in; a "(#N)" commit on a numbered PR's branch that
    # GitHub did not commit is a commit of that PR naming an issue, not a squash merge (twisted
    # 21181c1466 "fix ... (#12325)" inside "#12325 fix ... (#12326)").
    sides = {s: branch_only(commits[s], commits, gen) for _, s, k in units if k == "merge"}
    in_pr = {m for s, side in sides.items() if pr_number(commits[s])[0] is not None for m in side}
    inner = {
        s
        for _, s, k in units
        if k == "squash" and s in in_pr and commits[s].committer_email != GITHUB_WEB
    }
    # A Change-Id alone may be a local commit-msg hook's: not a Gerrit change inside a numbered
    # PR's branch, nor in a history of numbered PRs that shows no Gerrit submit (a Gerrit
    # merge that brought a change in, a Reviewed-on: line).
    systems = {s: review_change(commits[s])[0] for _, s, k in units if k == "review"}
    hooked = {s for s, system in systems.items() if system == "gerrit_change_id" and s in in_pr}
    changes = {s for s, system in systems.items() if system in GERRIT and s not in hooked}
    merged_by = gerrit_merge_points(commits, gen, gerrit_merges, changes)
    n_hooked_pr = len(hooked)
    numbered = any(k == "squash" or pr_number(commits[s])[0] for _, s, k in units if k != "review")
    if numbered and not merged_by and "gerrit" not in systems.values():
        hooked |= {s for s, system in systems.items() if system == "gerrit_change_id"}
    dropped = inner | hooked
    units = [u for u in units if u[1] not in dropped]
    n_sync += len(set(gerrit_merges) - set(merged_by.values()))
    numbers = change_numbers(commits, repo)  # Change-Id -> the GitHub PR it mirrors
    by_change_id: dict[str, str] = {}  # Change-Id -> PR id
    claimed: set[str] = set()
    n_foreign = n_batches = 0
    forked = fork_merges(units, commits, mainline)
    groups: dict[str, dict] = {}  # PR id -> merge points and member shas
    for _, sha, kind in units:
        c = commits[sha]
        if sha in claimed:
            continue  # a squash-like commit inside a PR branch already owned by an inner PR
        if kind == "merge":
            number, head = pr_number(c)
            members = [
                s for s in sides[sha] if s not in claimed and (s not in foreign or sha in foreign)
            ]
        elif kind == "squash":
            number, head = int(SQUASH.search(c.subject).group("n")), None
            members = []
        else:
            system, number = review_change(c)
            head, members = None, []
            if system == "phabricator":  # D-numbers are not the host's PR numbers
                pr_id = f"{repo}#D{number}"
                number = None
            elif system == "copybara":  # a CL, or the GitHub pull request it imported
                pr_id, number = f"{repo}#CL{number}", imported_pull_request(c, repo)
            elif system == "gerrit_change_id":  # one PR per Change-Id, named by its first commit
                cid = change_id(c)
                number = numbers.get(cid)
                pr_id = by_change_id.setdefault(cid, f"{repo}@{sha[:10]}")
        # a bors-ng batch: one PR per parent
        parts = batch_parts(c, members, commits, gen) if kind == "merge" else None
        n_batches += parts is not None
        pieces = parts or [(number, None, members)]
        for i, (number, title, members) in enumerate(pieces):  # noqa: B020 (one PR each)
            named = number is not None  # the title is read as for a numbered PR
            if number is not None and (roots[sha] not in (None, home) or sha in foreign):
                number = None
                n_foreign += 1
            if sha in forked:  # a fork's own PR number: not this repository's
                number = None
            if kind != "review" or number is not None:
                pr_id = f"{repo}#{number}" if number is not None else f"{repo}@{sha[:10]}"
            g = groups.setdefault(
                pr_id, {"number": number, "points": [], "members": [], "head": head, "named": named}
            )
            if title:
                g["title"] = title
                g["lent"] = i > 0  # the batch's merge commit is a commit of its first PR
            if kind == "review":
                g["system"] = system
                if system in GERRIT:  # kept across the repositories of an import
                    g["change_id"] = g.get("change_id") or change_id(c)
                if sha in merged_by:
                    g.setdefault("merged_by", []).append(merged_by[sha])
            g["points"].append((sha, kind))
            g["members"] += members
            claimed.add(sha)
            claimed.update(members)

    for pr_id in [  # merged before --since: its commits are in no PR of the window
        i
        for i, g in groups.items()
        if all(s in older for s, _ in g["points"] + [(m, 0) for m in g.get("merged_by", [])])
    ]:
        del groups[pr_id]
    owner: dict[str, set[str]] = {}  # a Gerrit merge -> the PRs it submitted
    for pr_id, g in groups.items():
        for m in g.get("merged_by", []):
            owner.setdefault(m, set()).add(pr_id)
    for m, ids_ in owner.items():
        if len(ids_) == 1:  # it submitted one change: a commit of that PR (no lines)
            groups[next(iter(ids_))].setdefault("owns", []).append(m)
    counts = dict.fromkeys(
        ("coauthor", "merger", "none", "skew", "fast_forward", "exported", "patch", "undone"),
        0,
    )
    counts["unmerged"] = 0  # Gerrit changes without a Gerrit merge, not fast-forwarded
    prs = []
    for pr_id, g in groups.items():
        prs.append(_pr_row(pr_id, g, commits, repo, ids, counts, rules))
    dated = git_dates.redate(prs, groups, commits, ids)  # imported history, GitLab squashes
    squash_only = {i for i, g in groups.items() if all(k == "squash" for _, k in g["points"])}
    # a GitHub PR imported into the review system and exported back (watchman's (#N))
    n_exported_squash = sum(
        1 for pr in prs if pr["id"] in squash_only and pr["created_source"] == "exported"
    )
    n_squash = len(squash_only) - n_exported_squash
    n_review = {
        system: sum(1 for g in groups.values() if g.get("system") == system)
        for system in REVIEW_SYSTEMS
    }
    n_aggregated = sum(
        1
        for g in groups.values()
        if len(g["points"]) > 1 and any(k != "review" for _, k in g["points"])
    )
    n_off = sum(
        1
        for g in groups.values()
        if g["number"] is not None
        and all(s not in mainline for s in [p for p, _ in g["points"]] + g.get("merged_by", []))
    )
    n_repeated = sum(
        1 for g in groups.values() if g.get("system") == "gerrit_change_id" and len(g["points"]) > 1
    )
    n_mirrored = sum(
        1 for g in groups.values() if g.get("system") == "gerrit_change_id" and g["number"]
    )
    taken = claimed | foreign  # another repository's history is in no PR of this one
    direct = [
        s for s, c in commits.items() if len(c.parents) < 2 and s not in taken and s not in older
    ]
    landed: list[list[str]] = []
    if direct_commits == "as_prs":
        landed, single = landings(direct, commits, line)  # rebased MRs fast-forwarded at once
        for shas in landed:
            group = landing_group(shas, commits)
            prs.append(_pr_row(f"{repo}@{shas[0][:10]}", group, commits, repo, ids, counts))
        for s in single:
            prs.append(_pr_row(f"{repo}@{s[:10]}", _direct_group(s), commits, repo, ids, counts))
    revert_notes = mark_reverts(prs, commits, direct, repo)

    notes = []
    if n_exported_squash:
        notes.append(
            f"{repo}: {n_exported_squash} PR(s) numbered (#N) were committed by an export bot "
            "with the internal review system's changes (a GitHub pull request imported and "
            "exported back): created_source 'exported', left out of cycle times"
        )
    if n_squash:
        notes.append(
            f"{repo}: {n_squash} squash-merged PR(s) (created_source 'squash_commit'): created "
            "date taken from the squash commit's author date, which hosting services often set "
            "at merge time, so their cycle time is unreliable; add a gh export for exact dates"
        )
    notes += review_notes(repo, n_review, len(set(merged_by.values())), n_repeated, n_mirrored)
    notes += self_landed_note(
        repo,
        [
            (
                row["created_source"],
                (row["merged_date"] - row["created_date"]).total_seconds() / 3600,
            )
            for row, g in zip(prs, groups.values(), strict=False)
            if g.get("system") in ("gitlab", "gerrit_change_id")
        ],
    )
    if counts["fast_forward"]:
        notes.append(
            f"{repo}: {counts['fast_forward']} of those changes were merged by fast-forward "
            "(their commits were not rewritten when merged), so git does not keep when they "
            "were merged: created_source 'fast_forward', left out of cycle times, still counted "
            "as merged in the period of their last commit"
        )
    if counts["exported"]:
        notes.append(
            f"{repo}: {counts['exported']} of those changes were exported from an internal "
            "review system (committed by an export bot, Meta's ShipIt or Google's Copybara, "
            "whose dates are the landing inside the monorepo and the export; or by someone "
            "else with one date for writing and committing), so git keeps neither when they "
            "were opened nor when they were merged in review: created_source 'exported', left "
            "out of cycle times, counted as merged in the period of their commit"
        )
    if n_aggregated:
        notes.append(
            f"{repo}: {n_aggregated} PR number(s) appear on several commits (squash commits "
            "ending in the same (#N), cherry-picks, or a merge and a squash); each is one PR: "
            "lines summed, created at the earliest author date, merged at the latest commit "
            "date, AI evidence of all of them"
            + (
                f"; in {counts['patch']} of them some commits are one patch (same author date "
                "and lines per file: a cherry-pick), whose lines are counted once"
                if counts["patch"]
                else ""
            )
        )
    if counts["undone"]:
        notes.append(
            f"{repo}: {counts['undone']} PR number(s) were merged and then rolled back under "
            "the same number (a later commit undoes the first one's lines file by file): "
            "counted as reverted, with the lines and merge time of the landing"
        )
    if forked:
        notes.append(
            f"{repo}: {len(forked)} merge(s) inside PR branches name a PR number that another "
            "PR of this history names too, far below this repository's numbers of the time "
            "(a fork merging its own pull request #N in the branch it then proposed here): "
            "each is counted as its own PR without that number, which belongs to another "
            "repository"
        )
    if n_batches:
        n_parts = sum(1 for g in groups.values() if "title" in g)
        notes.append(
            f"{repo}: {n_batches} bors-ng batch merge(s) ('Merge #12 #13') merged {n_parts} "
            "PRs together: each is its own PR (the commits reachable only through its parent), "
            "merged at the batch's commit date"
        )
    if counts["unmerged"] and merged_by:
        notes.append(
            f"{repo}: {counts['unmerged']} Gerrit changes have no merge commit: their merge "
            "date is their commit date, which may be a rebase rather than the submit"
        )
    if n_foreign:
        notes.append(
            f"{repo}: {n_foreign} PR(s) were merged in another repository whose history was "
            "merged into this one (a subtree or an unrelated history): their numbers are that "
            f"repository's, so they are PRs without a number (ids {repo}@<sha>), not merged "
            "with this repository's PRs of the same number"
        )
    if inner:
        notes.append(
            f"{repo}: {len(inner)} commit(s) ending in (#N) inside a numbered PR's branch, not "
            "committed by GitHub, are commits of that PR (the number names an issue), not "
            "squash-merged PRs"
        )
    if hooked:
        notes.append(
            f"{repo}: {len(hooked)} commit(s) carry a Gerrit Change-Id: but are read as "
            f"ordinary commits ({n_hooked_pr} inside a numbered PR's branch, "
            f"{len(hooked) - n_hooked_pr} in a history of numbered PRs without a Gerrit submit: "
            "no merge 'Merge \"...\" into' of a change, no Reviewed-on: line): a local "
            "commit-msg hook's"
        )
    if imports:
        notes.append(
            f"{repo}: {len(imports)} merge(s) bring in another repository's history "
            f"({', '.join(m[:10] for m in imports)}; {len(foreign)} commit(s) read from it): "
            "not PRs, and that history is in none of this repository's PRs: the PR merges and "
            "squash commits it holds are PRs without a number, its other commits are in no PR "
            "(not counted as direct pushes)"
        )
    if n_sync:
        notes.append(
            f"{repo}: {n_sync} branch-sync merge(s) (git pull, remote-tracking, "
            "'Merge branch x into y') are not PRs; the PRs they brought in are counted as PRs"
        )
    if n_off:
        notes.append(
            f"{repo}: {n_off} PR(s) were merged off the first-parent line (into another branch, "
            "or brought in by a sync merge); they are counted as PRs"
        )
    if direct_commits != "as_prs":  # release-branch commits: chores, not as_prs (trial AE)
        from_release = {s for m in release for s in branch_only(commits[m], commits, gen)}
        authors = [p["author_id"] for p in prs]
        notes += direct_note(repo, direct, commits, mainline, from_release, authors)
    if counts["skew"]:
        notes.append(
            f"{repo}: {counts['skew']} PR(s) have an author date after their merge commit's "
            "date (clock skew or a rebase); they are counted as created when merged"
        )
    credited = counts["coauthor"] + counts["merger"]
    if credited or counts["none"]:
        notes.append(
            f"{repo}: {credited + counts['none']} PR(s) written only by AI agents: "
            f"{counts['coauthor']} credited to a human co-author, {counts['merger']} to the "
            f"human who merged them, {counts['none']} with no human to credit (kept as bot PRs, "
            "never engineers)"
        )
    notes += landing_note(repo, landed) + translation_notes(repo, commits)
    return prs, notes + git_dates.date_notes(repo, dated, release, commits) + revert_notes


def _named(c: _Commit) -> bool:
    return pr_number(c)[0] is not None or is_gerrit_merge(c.subject)


def _direct_group(sha: str) -> dict:
    return {
        "number": None,
        "points": [(sha, "commit")],
        "members": [],
        "head": None,
        "named": False,
    }


def _pr_row(
    pr_id: str,
    g: dict,
    commits: dict[str, _Commit],
    repo: str,
    ids: Identities,
    counts: dict,
    rules: Rules | None = None,
) -> dict:
    points = [commits[s] for s, _ in g["points"]]
    undone = rolled_back(points)
    if undone is not None:  # merged, then rolled back under the same number: the landing
        points = [p for p in points if p is not undone]
        counts["undone"] += 1
    kinds = {k for _, k in g["points"]}
    members = [commits[s] for s in g["members"]]
    work = [c for c in members if len(c.parents) < 2] + [p for p in points if len(p.parents) < 2]
    dated_by = [commits[s] for s in g.get("merged_by", [])]  # Gerrit merges that submitted it
    every = members + ([] if g.get("lent") else points) + [commits[s] for s in g.get("owns", [])]
    author, bot_author, new_people = _credit(work or points, points, ids, counts)
    if g.get("author"):  # a landing of several direct commits: who wrote most of them
        author, bot_author, new_people = g["author"], False, []
    merges = [p for p in points if len(p.parents) >= 2]
    first = merges[0] if merges else min(points, key=lambda c: c.committed)
    if "merge" in kinds:
        created_source = "branch_first_commit" if work else "merge_commit"
    elif "review" in kinds:  # a reviewed change's own commit(s): like a PR branch's
        # every commit as its author wrote it (not rebased or cherry-picked when merged, as
        # Marge-bot and Gerrit do): a fast-forward, git holds no merge time
        untouched = not dated_by and all(c.committed == c.authored for c in points)
        created_source = "fast_forward" if untouched else "branch_first_commit"
        if not untouched and not dated_by and self_landed(g.get("system"), points, ids):
            created_source = "self_landed"  # the author's own commit time, not the landing
        # one date for writing and committing although someone else committed it: an export
        # that sets both (Meta's ShipIt, facebook/watchman), not a fast-forward
        exported = (
            g.get("system") == "copybara"
            or (untouched and not all(same_person(c, ids) for c in points))
            or all(c.exported for c in points)  # an export bot's commit: both dates its own
        )
        counts["exported"] += exported
        counts["fast_forward"] += untouched and not exported
        created_source = "exported" if exported else created_source
        counts["unmerged"] += not untouched and not dated_by and g.get("system") in GERRIT
    else:
        created_source = "squash_commit" if "squash" in kinds else "commit"
        if "squash" in kinds and all(c.exported for c in points):  # a GitHub PR ShipIt
            created_source = "exported"  # exported with the diffs (watchman's (#N), trial M)
    if g.get("title"):  # a bors-ng batch's line for this PR
        title = g["title"]
    elif not g["named"] or "merge" not in kinds:
        title = SQUASH.sub("", first.subject).strip() if g["named"] else first.subject
    else:
        title = merge_title(first)
    for c in every:
        c.pr_id = pr_id
    if undone is not None:
        undone.pr_id = pr_id  # its commit row still names the PR it undid
    # the head branch of a merged PR (trial Q, browser-use #2: "codex/..." was never read)
    branch = detect(Evidence(branch=g["head"]), rules) if rules and g.get("head") else []
    dets = [d for c in every for d in c.detections] + branch
    created = min(c.authored for c in (work or points))
    merged = max(c.committed for c in points + dated_by)
    counted = distinct_patches(every) if "squash" in kinds and len(points) > 1 else every
    counts["patch"] += len(counted) < len(every)
    if created > merged:  # an author date after the commit date: clock skew, a rebase
        counts["skew"] += 1
        created = merged
    return {
        "id": pr_id,
        "author_id": author,
        "repo": repo,
        "created_date": created,
        "merged_date": merged,
        "closed_date": merged,
        "additions": sum(c.additions for c in counted),
        "deletions": sum(c.deletions for c in counted),
        "ai_assisted": 1.0 if dets else 0.0,
        "ai_tool": tools_of(dets),
        "reverted": undone is not None,
        "title": title,
        "number": g["number"],
        "is_bot_author": bot_author,
        "created_source": created_source,
        "source": "git",
        "_shas": [c.sha for c in every],
        "_new_people": new_people,
        "_head": g.get("head"),
        "_branch_detections": branch,
        "_change_id": g.get("change_id"),
    }


def _credit(
    work: list[_Commit], points: list[_Commit], ids: Identities, counts: dict
) -> tuple[str, bool, list[dict]]:
    """(author id, is a bot, people to add): first human author, else an agent's human."""
    ordered = sorted(work, key=lambda c: c.authored)
    for c in ordered:
        if not c.bot:
            return c.author_id, False, []
    automation = ordered[0].agent_kind == "automation" and ordered[0].listed_agent
    if automation or not any(c.agent_kind == "ai_agent" or c.detections for c in ordered):
        # automation (dependabot, renovate...: listed in agents.yaml) stays a bot PR, also
        # when a person's AI tool co-authored a fix on it (pydantic-ai #6213)
        return ordered[0].author_id, True, []
    humans = [pair for c in ordered for pair in c.human_coauthors]
    if humans:
        # the identity file's people first, then a real address before a GitHub noreply one
        # (trial AG: Moon Bot's PRs named "hanouticelina <...@users.noreply.github.com>"
        # before the roster e-mail of the same person, and made her a second engineer)
        name, email = min(
            humans,
            key=lambda p: (
                ids.resolve(email=p[1], name=p[0]) is None,
                "noreply" in p[1].lower(),
            ),
        )
        counts["coauthor"] += 1
        eid = ids.engineer_id(email=email, name=name)
        return eid, False, [{"engineer_id": eid, "name": name, "email": email}]
    mergers = [p for p in points if len(p.parents) >= 2 and not p.bot]
    if mergers:
        counts["merger"] += 1
        m = mergers[0]
        return (
            m.author_id,
            False,
            [{"engineer_id": m.author_id, "name": m.author_name, "email": m.author_email}],
        )
    counts["none"] += 1
    return ordered[0].author_id, True, []
