"""Map import authors to the roster's engineers by the roster's own columns.

A roster keyed by GitHub login (``DouweM``) with the person's e-mail in its ``email`` column
(``douwe@pydantic.dev``), while git names the author by that e-mail, used to leave the roster
engineer with no PR and the PRs with a placeholder (pydantic/pydantic-ai: 8 of 11 certified
engineers). :func:`match_roster` applies, after the identity file (which keeps priority), the
roster's columns, in this order:

1. **e-mail**: an author's e-mail equals a roster row's ``email`` (case-insensitive);
2. **id**: the author's id, login, GitHub noreply login or e-mail equals a roster
   ``engineer_id`` case-insensitively (roster ``Viicos`` or ``yuriimotov``, DevLake's
   ``YuriiMotov``; a roster keyed by e-mail and a DevLake author under a login);
3. **name**: the author's name equals a roster ``name`` case-insensitively (spaces collapsed),
   only when that name is unique on both sides: one roster row and one unmatched author id.

Authors the rules cannot place although they share an e-mail or name with a roster row (the
identity file maps them elsewhere, or the name is ambiguous) are proposed as draft
identity-file rows. Remaining author ids that differ only in case (``Viicos`` from a commit,
``viicos`` from a lower-cased co-author trailer) are one GitHub account and become one id.
:func:`~certkit.connectors.base.to_dataset` applies the result to every connector's import.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from certkit.connectors.git_landings import remap_direct_notes
from certkit.connectors.identity import (
    Identities,
    name_key,
    names_seen,
    noreply_login,
    roster_rows_sharing_names,
)
from certkit.data.schema import TABLES
from certkit.data.validate import idle_words
from certkit.errors import CertkitError

if TYPE_CHECKING:
    from certkit.connectors.base import Import

#: How each rule is named in notes.
RULES = ("e-mail", "id", "name", "case")
DRAFT_COLUMNS = ("engineer_id", "email", "login", "name", "current_id")


@dataclass
class RosterMatch:
    """What :func:`match_roster` found.

    Attributes
    ----------
    mapping
        Author id -> roster engineer id (or, for the ``case`` rule, the spelling kept).
    rule
        Author id -> the rule that mapped it (one of :data:`RULES`).
    proposals
        Draft identity-file rows (``engineer_id`` of the roster, the author's ``email``,
        ``login``, ``name``, and ``current_id``) for authors sharing an e-mail or name with a
        roster row that no rule could map.
    """

    mapping: dict[str, str] = field(default_factory=dict)
    rule: dict[str, str] = field(default_factory=dict)
    #: The roster's engineer ids, in roster order.
    roster_ids: list[str] = field(default_factory=list)
    #: (author id, roster id) of each proposal -> what they share (``e-mail``, ``id``, ``name``)
    shared: dict[tuple[str, str], str] = field(default_factory=dict)
    proposals: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=dict.fromkeys(DRAFT_COLUMNS, pl.String))
    )
    #: Author id -> the alias the roster matched it by (an e-mail, a name): the note's
    #: example, where the id itself may be DevLake's internal user id (trial R, R6).
    matched_by: dict[str, str] = field(default_factory=dict)
    #: Roster id -> why its own roster e-mail/login is another roster engineer's (the
    #: identity file maps it there): the no-PR note then does not send it back to that file.
    elsewhere: dict[str, str] = field(default_factory=dict)

    def note(self) -> str | None:
        """The import note saying how many authors the roster's columns mapped (None: none)."""
        done = {a: r for a, r in self.mapping.items() if self.rule[a] != "case"}
        case = {a: r for a, r in self.mapping.items() if self.rule[a] == "case"}
        parts = []
        if done:
            counts = {r: sum(1 for a in done if self.rule[a] == r) for r in RULES[:3]}
            how = ", ".join(f"{n} by {r}" for r, n in counts.items() if n)
            first = next(iter(done.items()))
            alias = self.matched_by.get(first[0], first[0])
            parts.append(
                f"{len(done)} author id(s) are mapped to roster engineers by the roster's "
                f"email/engineer_id/name columns ({how}; e.g. {alias!r} -> {first[1]!r})"
            )
        if case:
            first = next(iter(case.items()))
            parts.append(
                f"{len(case)} author id(s) differ from another only in case (one GitHub "
                f"account) and are merged into it (e.g. {first[0]!r} -> {first[1]!r})"
            )
        return "; ".join(parts) or None


def checked_roster(roster: pl.DataFrame, source: str | None = None) -> tuple[pl.DataFrame, str]:
    """The roster with certkit's column names (:meth:`Table.canonical_names`: ``Employee ID``
    is ``engineer_id``, ``Termination Date`` is ``leave_date``), and its id column.

    Raises
    ------
    CertkitError
        Two columns with one name, or required engineers columns missing: all named at once,
        with the file (``source``) and the columns that could hold them.
    """
    table = TABLES["engineers"]
    where = f"engineers file {source}" if source else "engineers roster"
    names = table.canonical_names(roster.columns)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise CertkitError(
            f"{where}: two columns are read as {', '.join(dup)} (names are read ignoring "
            "case, spaces and known aliases such as termination_date for leave_date); keep one"
        )
    missing = table.missing_columns(roster.columns, where)
    if missing:
        raise CertkitError(missing)
    return roster.rename(dict(zip(roster.columns, names, strict=True))), "engineer_id"


def _unique_index(pairs) -> dict[str, str]:
    """key -> roster id for keys that belong to exactly one roster id."""
    seen: dict[str, set[str]] = defaultdict(set)
    for key, rid in pairs:
        if key:
            seen[key].add(rid)
    return {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}


def _aliases(people: pl.DataFrame, commits: pl.DataFrame | None) -> dict[str, dict[str, set]]:
    """Per human author id: its e-mails, logins and name keys (people plus commits)."""
    out: dict[str, dict[str, set]] = defaultdict(
        lambda: {"email": set(), "login": set(), "name": set()}
    )
    for r in people.iter_rows(named=True):
        a = out[r["engineer_id"]]
        if r.get("email"):
            a["email"].add(r["email"].strip().lower())
        for login in (r.get("login"), noreply_login(r.get("email"))):
            if login:
                a["login"].add(login.strip().lower())
        if name_key(r.get("name")):
            a["name"].add(name_key(r["name"]))
    if (
        commits is not None
        and commits.height
        and {"author_id", "author_email"} <= set(commits.columns)
    ):
        cols = ["author_id", "author_email"] + (
            ["author_name"] if "author_name" in commits.columns else []
        )
        for r in commits.select(cols).unique().iter_rows(named=True):
            if r["author_id"] not in out:
                continue
            a = out[r["author_id"]]
            if r["author_email"]:
                a["email"].add(r["author_email"].strip().lower())
                if noreply_login(r["author_email"]):
                    a["login"].add(noreply_login(r["author_email"]).lower())
            if name_key(r.get("author_name")):
                a["name"].add(name_key(r["author_name"]))
    return out


def match_roster(
    people: pl.DataFrame,
    roster: pl.DataFrame,
    idcol: str = "engineer_id",
    fixed: set[str] | frozenset[str] = frozenset(),
    commits: pl.DataFrame | None = None,
) -> RosterMatch:
    """Which import authors are roster engineers by the roster's ``email``, ``engineer_id``
    and ``name`` columns (see the module docstring for the rules and their order).

    Parameters
    ----------
    people
        An import's people (``engineer_id``, ``name``, ``email``, ``login``, ``is_bot``).
    roster
        The roster, columns lower-cased; ``email`` and ``name`` are optional.
    idcol
        The roster's id column.
    fixed
        Engineer ids an identity file chose: only the case-insensitive id rule applies to
        them (the identity file keeps priority); matches by e-mail or name are proposed.
    commits
        The import's commits (``author_id``, ``author_email``, ``author_name``), for every
        e-mail and name an author id committed under.

    Returns
    -------
    RosterMatch
        The mapping, the rule behind each entry and draft identity rows for the rest.
    """
    ids = [str(v) for v in roster[idcol].cast(pl.String).drop_nulls().to_list()]
    known = set(ids)
    canonical = dict(
        zip(TABLES["engineers"].canonical_names(roster.columns), roster.columns, strict=True)
    )
    rows = [
        {
            "id": r[idcol],
            "email": r.get(canonical.get("email")),
            "name": r.get(canonical.get("name")),
        }
        for r in roster.with_columns(pl.col(idcol).cast(pl.String)).to_dicts()
        if r[idcol] is not None
    ]
    by_email = _unique_index(
        (str(r["email"]).strip().lower() if r["email"] else None, r["id"]) for r in rows
    )
    by_id = _unique_index((r["id"].strip().lower(), r["id"]) for r in rows)
    by_name = _unique_index((name_key(r["name"]), r["id"]) for r in rows)
    by_local = _unique_index(  # a login that is a roster e-mail's local part: proposed only
        (str(r["email"]).strip().lower().split("@")[0] if r["email"] else None, r["id"])
        for r in rows
    )
    humans = people.filter(~pl.col("is_bot").fill_null(False))
    aliases = _aliases(humans, commits)
    result = RosterMatch(roster_ids=ids)
    proposals: list[dict] = []
    display = {r["engineer_id"]: r for r in humans.iter_rows(named=True)}

    def propose(author: str, rid: str, what: str) -> None:
        result.shared[(author, rid)] = what
        p = display.get(author, {})
        row = {"engineer_id": rid, "login": p.get("login"), "current_id": author}
        proposals.append({**row, "email": p.get("email"), "name": p.get("name")})

    unmatched = []
    for author, a in aliases.items():
        if author in known:
            continue
        keys = {author.lower(), *a["login"], *a["email"]}
        by_mail = {by_email[e] for e in a["email"] if e in by_email}
        by_key = {by_id[k] for k in keys if k in by_id}
        if author in fixed:  # the identity file chose this id: only its own case may change
            if author.lower() in by_id:
                result.mapping[author], result.rule[author] = by_id[author.lower()], "id"
                continue
            for rid in sorted(by_mail):
                propose(author, rid, "e-mail")
            for rid in sorted({by_name[n] for n in a["name"] if n in by_name} - by_mail):
                propose(author, rid, "name")
            continue
        if len(by_mail) == 1:
            result.mapping[author], result.rule[author] = by_mail.pop(), "e-mail"
            result.matched_by[author] = next(e for e in sorted(a["email"]) if e in by_email)
        elif len(by_key) == 1 and not by_mail:
            result.mapping[author], result.rule[author] = by_key.pop(), "id"
        elif by_mail or by_key:
            for rid in sorted(by_mail):
                propose(author, rid, "e-mail")
            for rid in sorted(by_key - by_mail):
                propose(author, rid, "id")
        else:
            unmatched.append(author)
    # names: one roster row and one unmatched author id; authors already mapped to that same
    # roster engineer (or the roster id itself) do not make it ambiguous
    carriers: dict[str, set[str]] = defaultdict(set)
    for author, a in aliases.items():
        for n in a["name"]:
            owner = result.mapping.get(author, author)
            if owner not in known or by_name.get(n) != owner:
                carriers[n].add(author)
    for author in unmatched:
        rids = {by_name[n] for n in aliases[author]["name"] if n in by_name}
        if len(rids) != 1:
            continue
        rid = rids.pop()
        names = [n for n in aliases[author]["name"] if by_name.get(n) == rid]
        if all(carriers[n] == {author} for n in names):
            result.mapping[author], result.rule[author] = rid, "name"
            result.matched_by[author] = names[0]
        else:
            propose(author, rid, "name")
    # a login equal to a roster e-mail's local part (trial AH: hanouticelina and the roster's
    # hanouticelina@gmail.com) is likely the same person, not surely: proposed, not mapped
    for author in (a for a in unmatched if a not in result.mapping):
        logins = {k for k in {author.lower(), *aliases[author]["login"]} if len(k) >= 6}
        rids = {by_local[k] for k in logins if k in by_local}
        if len(rids) == 1:
            propose(author, rids.pop(), "e-mail local part (as its login)")
    _merge_case(result, aliases, known, display, fixed)
    if proposals:
        result.proposals = pl.DataFrame(
            proposals, schema=dict.fromkeys(DRAFT_COLUMNS, pl.String)
        ).select(DRAFT_COLUMNS)
    return result


def _merge_case(result: RosterMatch, aliases: dict, known: set[str], display: dict, fixed) -> None:
    """Author ids left that differ only in case are one account: keep one spelling (the
    identity file's, else a login given by GitHub/DevLake, else one with capitals, as GitHub
    writes it)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for author in aliases:
        if author not in known and author not in result.mapping:
            groups[author.lower()].append(author)
    for spellings in groups.values():
        if len(spellings) < 2:
            continue

        def rank(s: str) -> tuple:
            return (s not in fixed, not display.get(s, {}).get("login"), s == s.lower(), s)

        keep = min(spellings, key=rank)
        for s in spellings:
            if s != keep:
                result.mapping[s], result.rule[s] = keep, "case"


def roster_mapping(
    people: pl.DataFrame,
    engineers,
    identities=None,
    commits: pl.DataFrame | None = None,
) -> dict[str, str]:
    """Author id -> roster engineer id, as :func:`~certkit.connectors.base.to_dataset` maps
    them, for a reader that keeps outcomes keyed by author id outside an import (the DevLake
    pushdown panel: rename its author map with this before aggregating).

    Parameters
    ----------
    people
        The reader's people (``engineer_id``, ``name``, ``email``, ``login``, ``is_bot``).
    engineers
        The roster (frame or CSV/Parquet/NDJSON file), or ``None`` (only the case rule).
    identities
        The identity file or :class:`~certkit.connectors.identity.Identities` used (its ids
        keep priority), or ``None``.
    commits
        The reader's commits, if any.

    Returns
    -------
    dict
        Only the ids that change.
    """
    from certkit.connectors.analyst_files import _read_table  # it imports this module
    from certkit.connectors.identity import Identities, read_identities

    roster, origin = _read_table(engineers, "engineers")
    idcol = "engineer_id"
    if roster is None:
        roster = pl.DataFrame(schema={idcol: pl.String})
    else:
        roster, idcol = checked_roster(roster, origin[0] if origin else None)
    if identities is not None and not isinstance(identities, Identities):
        identities = read_identities(identities)
    fixed = identities.ids if identities is not None else frozenset()
    return match_roster(people, roster, idcol, fixed, commits).mapping


def with_proposals(draft: pl.DataFrame, proposals: pl.DataFrame) -> pl.DataFrame:
    """The draft identity file of shared names plus the roster proposals: a name group that
    holds a proposed author takes that roster id (one id per alias, so the file reads back)."""
    if not proposals.height:
        return draft
    target = proposals.group_by("current_id").agg(pl.col("engineer_id").unique())
    target = dict(
        (c, ids[0]) for c, ids in target.iter_rows() if len(ids) == 1
    )  # ambiguous proposals stay as rows to choose from
    renamed = {
        old: target[c] for old, c in draft.select("engineer_id", "current_id").rows() if c in target
    }
    draft = remap(draft, "engineer_id", renamed)
    both = pl.concat([draft, proposals.select(draft.columns)], how="vertical_relaxed")
    return both.unique(["engineer_id", "current_id", "email", "login", "name"], maintain_order=True)


def remap(df: pl.DataFrame | None, column: str, mapping: dict[str, str]) -> pl.DataFrame | None:
    """``df`` with ``column``'s ids replaced through ``mapping`` (others unchanged)."""
    if df is None or not mapping or column not in df.columns:
        return df
    return df.with_columns(pl.col(column).replace(mapping))


def merge_people(people: pl.DataFrame) -> pl.DataFrame:
    """One row per ``engineer_id``: the first name, e-mail, login and team seen, the earliest
    ``first_seen``, a bot if any row is."""
    if not people.height:
        return people
    return people.group_by("engineer_id", maintain_order=True).agg(
        pl.col("name").drop_nulls().first(),
        pl.col("email").drop_nulls().first(),
        pl.col("login").drop_nulls().first(),
        pl.col("team").drop_nulls().first(),
        pl.col("first_seen").min(),
        pl.col("is_bot").any(),
    )


def idle_roster_note(
    roster_ids: list[str],
    authors: pl.Series,
    certified: set[str],
    match: RosterMatch | None = None,
    commits: pl.DataFrame | None = None,
) -> str | None:
    """The import note naming roster engineers with no PR at all, certified ones first.

    Parameters
    ----------
    roster_ids
        The roster's engineer ids, in roster order.
    authors
        Every PR's ``author_id``.
    certified
        Engineer ids with a certification record.
    match
        The :func:`match_roster` result: a placeholder sharing a roster engineer's e-mail or
        name that no rule could map is named.
    commits
        The import's commits (``author_id``, ``pr_id``): engineers whose commits are in no PR
        (direct pushes) are told apart from engineers with no commit at all.

    Returns
    -------
    str or None
        ``"3 roster engineer(s) have no PR; 2 of them certified: DouweM, Kludex; ..."``, or
        ``None`` when every roster engineer has a PR.
    """
    with_pr = set(authors.drop_nulls().to_list())
    idle = [i for i in roster_ids if i not in with_pr]
    if not idle or all(a.endswith("[bot]") for a in with_pr):  # no human PR: nothing to say
        return None
    cert = [i for i in idle if i in certified]
    rest = [i for i in idle if i not in certified]
    text = idle_words(f"{len(idle)} roster engineer(s) have no PR", cert, rest)
    shared = match.shared if match else {}
    order = {rid: k for k, rid in enumerate(cert + rest)}
    pairs = sorted((order[r], a, r) for a, r in shared if r in order)
    hints = [f"a placeholder author ({a}) shares the {shared[(a, r)]} of {r}" for _, a, r in pairs]
    direct = _outside_prs(commits, idle)
    if direct:  # their work is there, in commits no PR owns: not an alias problem (trial G F17)
        total = sum(direct.values())
        top = sorted(direct.items(), key=lambda kv: (-kv[1], order[kv[0]]))
        shown = ", ".join(f"{r} {n:,}" for r, n in top[:5]) + (", ..." if len(top) > 5 else "")
        text += (
            f"; {len(direct)} of them {'has' if len(direct) == 1 else 'have'} {total:,} "
            f"commit(s) in no PR ({shown}): direct "
            "pushes or commits outside any PR, which count for no one; "
            "`certkit import git --direct-commits as_prs` counts each such commit as a PR"
        )
    moved = [i for i in cert + rest if match and i in match.elsewhere and i not in direct]
    if moved:
        shown = ", ".join(f"{i} to {match.elsewhere[i]}" for i in moved)
        text += (
            f"; the identity file maps the roster e-mail/login of {shown} (a duplicate roster "
            "row? see the note naming the file's line)"
        )
    lost = len(idle) - len(direct) - len(moved)
    if hints:
        more = f" and {len(hints) - 3} more" if len(hints) > 3 else ""
        text += "; " + "; ".join(hints[:3]) + more
        text += f": map {'it' if len(hints) == 1 else 'them'} in the identity file (draft rows "
        text += "in identities_suggested.csv)"
    elif lost and (direct or moved):
        text += (
            f"; the other {lost} {'has' if lost == 1 else 'have'} no commit outside a PR (check "
            "their e-mail/login against the authors not in the roster; map them in the "
            "identity file)"
        )
    elif lost:
        text += (
            " (check their e-mail/login against the authors not in the roster; map them in "
            "the identity file)"
        )
    return text


def _outside_prs(commits: pl.DataFrame | None, idle: list[str]) -> dict[str, int]:
    """Commits in no PR per engineer of ``idle`` (those with any), from an import's commits."""
    if commits is None or not {"author_id", "pr_id"} <= set(commits.columns) or not idle:
        return {}
    counts = (
        commits.filter(pl.col("pr_id").is_null() & pl.col("author_id").is_in(idle))
        .group_by("author_id")
        .len()
    )
    return dict(counts.iter_rows())


def apply_ids(imp: Import, mapping: dict[str, str]) -> None:
    """Rename author ids everywhere in ``imp`` (PRs, people, commits, defects, incidents)."""
    if not mapping:
        return
    imp.pull_requests = remap(imp.pull_requests, "author_id", mapping)
    imp.people = merge_people(remap(imp.people, "engineer_id", mapping))
    imp.commits = remap(imp.commits, "author_id", mapping)
    imp.defects = remap(imp.defects, "engineer_id", mapping)
    imp.incidents = remap(imp.incidents, "engineer_id", mapping)


def idle_note(imp: Import, certs: pl.DataFrame | None) -> list[str]:
    """The note naming roster engineers with no PR (certified first), as a list."""
    certified: set[str] = set()
    if certs is not None:
        names = TABLES["certifications"].canonical_names(certs.columns)
        if "engineer_id" in names:
            column = certs.columns[names.index("engineer_id")]
            certified = set(certs[column].cast(pl.String).drop_nulls().str.strip_chars())
    match = imp.roster_match
    if match is None:
        return []
    note = idle_roster_note(
        match.roster_ids, imp.pull_requests["author_id"], certified, match, imp.commits
    )
    return [note] if note else []


def map_to_roster(
    imp: Import,
    roster: pl.DataFrame | None,
    idcol: str,
    fixed: set[str] | frozenset[str],
    identities: Identities | None = None,
) -> list[str]:
    """Map ``imp``'s authors to ``roster`` (checked, columns lower-cased) in place: sets
    ``imp.roster_match`` and renames the ids everywhere; returns the note (as a list).
    ``identities``: the identity file behind ``fixed``, named in the notes."""
    base = pl.DataFrame(schema={idcol: pl.String}) if roster is None else roster
    match = match_roster(imp.people, base, idcol, fixed, imp.commits)
    prs = imp.pull_requests
    if prs.height and bool(prs["author_id"].str.ends_with("[bot]").all()):
        # only bot PRs: the DevLake pushdown's calendar rows, whose outcomes stay keyed by
        # the ids it gave; renaming its people alone would orphan them (a reader keeping
        # outcomes outside the import maps its own ids with roster_mapping)
        match = RosterMatch(roster_ids=match.roster_ids)
    imp.roster_match = match
    apply_ids(imp, match.mapping)
    remap_direct_notes(imp.notes, match.mapping, imp.pull_requests)  # trial AF (B2)
    note = match.note()
    notes = [note] if note else []
    if roster is not None:
        notes += _roster_rows_elsewhere(match, roster, idcol, identities)
        known = set(match.roster_ids)
        named = (
            dict(zip(roster[idcol].to_list(), roster["name"].to_list(), strict=True))
            if "name" in roster.columns
            else {}
        )
        for name, ids in roster_rows_sharing_names(names_seen(imp.people, imp.commits), known):
            keys = {(name_key(named.get(i)) or "").replace(" ", "") for i in ids} - {""}
            if len(keys) > 1:  # the roster names different people (trial AC: squash commits
                # of astral-sh/ruff carrying "Charlie Marsh" with two other people's e-mails)
                notes.append(
                    f"roster engineers {' and '.join(ids)} commit under one name ({name!r}), "
                    "though the roster names them differently: some commits most likely carry "
                    "another person's name with their e-mail (a merge tool's); nothing is merged"
                )
                continue
            notes.append(
                f"roster engineers {' and '.join(ids)} commit under one name ({name!r}): if "
                "they are one person, drop the duplicate roster row (their PRs are split "
                "between the two); the identity draft does not merge roster rows"
            )
    return notes


def _roster_rows_elsewhere(
    match: RosterMatch, roster: pl.DataFrame, idcol: str, ids: Identities | None
) -> list[str]:
    """Notes for roster engineers whose own roster e-mail (or id, as a login) the identity
    file ``ids`` maps to another roster engineer (a duplicate roster row merged by a draft)."""
    if ids is None:
        return []
    known = set(match.roster_ids)
    names = TABLES["engineers"].canonical_names(roster.columns)
    cols = dict(zip(names, roster.columns, strict=True))
    email_col = cols.get("email")
    notes = []
    for row in roster.with_columns(pl.col(idcol).cast(pl.String)).iter_rows(named=True):
        rid = row[idcol]
        email = str(row[email_col]).strip().lower() if email_col and row[email_col] else None
        found = [("e-mail", "email", email, ids.by_email.get(email or ""))]
        found.append(("login", "login", rid, ids.by_login.get((rid or "").strip().lower())))
        for word, kind, alias, target in found:
            if rid is None or not alias or target in (None, rid) or target not in known:
                continue
            where = ids.where(kind, alias)
            match.elsewhere[rid] = target
            notes.append(
                f"{rid}'s roster {word} ({alias}) is mapped to {target} by {where}: if they are "
                f"one person, drop the duplicate roster row {rid} (it has no PR of its own); "
                "if not, fix that line"
            )
            break
    return notes
