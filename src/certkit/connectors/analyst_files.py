"""The analyst's own files joined to an import: the roster and the certification records.

:func:`engineers_table` is the roster plus a placeholder row for every author missing from it
(after mapping authors to roster engineers, :mod:`certkit.connectors.roster_match`);
:func:`certifications_by_alias` reads certification rows that name their engineer by an alias
or by their id in another case as that engineer; ``_read_table`` reads a roster or
certification file and the origin of every row. All serve
:func:`~certkit.connectors.base.to_dataset`; :mod:`certkit.connectors.base` re-exports them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from certkit.connectors.colleagues import colleague_note, unlisted_examples
from certkit.connectors.identity import (
    BOT_LIKE,
    Identities,
    names_seen,
    shared_names,
    shared_names_note,
)
from certkit.connectors.incident_links import resolve_links
from certkit.connectors.roster_match import (
    checked_roster,
    map_to_roster,
    with_proposals,
)
from certkit.data.certification_checks import counted_rows
from certkit.data.schema import TABLES
from certkit.data.textio import csv_table, read_text
from certkit.errors import CertkitError, DataValidationError

if TYPE_CHECKING:
    from certkit.connectors.base import Import

ALIAS_WORDS = "an alias the identity file maps or by their id in another case"
IMPORT_WORDS = (
    "an author id or e-mail the import itself mapped to that roster engineer (by the "
    "roster's email/engineer_id/name columns)"
)
PLACEHOLDER = {"team": "unknown", "role": "unknown", "level": "unknown", "platform": "other"}


def _read_table(obj, what: str) -> tuple[pl.DataFrame | None, tuple | None]:
    """A roster/certifications frame or file, and its origin: (file, ("line", numbers))."""
    if obj is None or isinstance(obj, pl.DataFrame):
        return obj, None
    p = Path(obj)
    if not p.exists():
        raise CertkitError(f"{what} file {p} does not exist")
    suffix = p.suffix.lower()
    try:
        if suffix == ".parquet":
            return pl.read_parquet(p), (str(p), None)
        if suffix in (".ndjson", ".jsonl"):
            df = pl.read_ndjson(io.StringIO(read_text(p, f"{what} file")))
            return df, (str(p), ("line", list(range(1, df.height + 1))))
        df, lines = csv_table(p, f"{what} file", "\t" if suffix == ".tsv" else ",")
        return df, (str(p), ("line", lines))
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CertkitError(f"{what} file {p}: could not be read ({first})") from None


def check_readable(engineers=None, certifications=None, identities=None) -> list[str]:
    """Read the roster and certifications files once before the slow part of an import.

    Each is read as :func:`~certkit.connectors.base.to_dataset` will read it, and every file
    that cannot be read is named in one error (trial P: a malformed certifications file was
    reported after 13 s of reading git, and with two bad files only the first was named);
    a missing required column is named there too (with a close name: "did you mean
    'earned_dte' for 'earned_date'?"); then date values that do not read as dates stop it as
    validation would (a
    :class:`~certkit.errors.DataValidationError` naming file, column and lines).

    Returns notes to show before the slow part: certification rows naming nobody of the
    roster nor of the ``identities`` (an :class:`Identities`), which stop the import after
    it unless git names them (:func:`unknown_certified`).
    """
    from certkit.data.schema import TABLES
    from certkit.data.validate import ValidationReport

    errors, report, read = [], ValidationReport(), {}
    for what, obj in (("engineers", engineers), ("certifications", certifications)):
        try:
            df, origin = _read_table(obj, what)
        except CertkitError as exc:
            errors.append(str(exc))
            continue
        # a misspelled header, before git too (trial T: named after 18-23 s of git)
        where = f"{what} file {origin[0]}" if origin else what
        missing = TABLES[what].missing_columns(df.columns, where) if df is not None else None
        if missing:
            errors.append(missing)
            continue
        report.problems += _bad_dates(df, origin, what)
        read[what] = (df, origin)
    if len(errors) == 1:
        raise CertkitError(errors[0])
    if errors:
        raise CertkitError("neither file can be read:\n" + "\n".join(f"- {e}" for e in errors))
    if report.problems:
        raise DataValidationError(report)
    roster, certs = read.get("engineers"), read.get("certifications")
    if roster is None or certs is None or roster[0] is None or certs[0] is None:
        return []
    note = unknown_certified(roster[0], *certs, identities or Identities())
    return [note] if note else []


def unknown_certified(
    roster: pl.DataFrame, certs: pl.DataFrame, origin: tuple | None, identities: Identities
) -> str:
    """A note on the certification rows whose ``engineer_id`` is no roster engineer's id,
    e-mail or name (case ignored) and no alias of the identity file, with a close roster id
    where there is one; empty when there are none. Such a row stops the import after git is
    read unless git names that author (trial AC: 'chirimarsh' stopped an import of
    astral-sh/ruff after 1:44, where 'charliermarsh' was meant). ``origin``: the file and
    its line numbers (:func:`_read_table`)."""
    from certkit.data.certification_checks import close_ids

    def column(frame: pl.DataFrame, table: str, name: str) -> pl.Series | None:
        names = TABLES[table].canonical_names(frame.columns)
        if name not in names:
            return None
        return frame[frame.columns[names.index(name)]].cast(pl.String)

    values = column(certs, "certifications", "engineer_id")
    ids = column(roster, "engineers", "engineer_id")
    if values is None or ids is None:
        return ""
    known = {v.strip().lower() for v in ids.drop_nulls()}
    for other in ("email", "name"):
        extra = column(roster, "engineers", other)
        if extra is not None:
            known |= {v.strip().lower() for v in extra.drop_nulls()}
    counted = _counted(certs)
    unknown: dict[str, list[int]] = {}
    lines = origin[1][1] if origin and origin[1] else list(range(1, certs.height + 1))
    for i, value in enumerate(values):
        if value is None or not counted[i] or not value.strip():
            continue
        alias = value.strip()
        if alias.lower() in known or identities.resolve(email=alias, login=alias, name=alias):
            continue
        unknown.setdefault(alias, []).append(lines[i])
    if not unknown:
        return ""
    where = f"certifications file {origin[0]}" if origin else "certifications"
    shown = ", ".join(
        f"{v!r} (line {', '.join(map(str, n[:3]))})" for v, n in list(unknown.items())[:3]
    )
    more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
    close = close_ids(list(unknown), ids.drop_nulls().to_list())
    hint = (
        (" (did you mean " + ", ".join(f"{e!r} for {v!r}" for v, e in close[:3]) + "?)")
        if close
        else ""
    )
    return (
        f"{where}, column 'engineer_id': {len(unknown)} value(s) name no roster engineer (by "
        f"engineer_id, email or name) and no alias of the identity file: {shown}{more}{hint}; "
        "unless git names them as authors, the import stops after reading git (stop it now "
        "and correct the file, or map them with --identities)"
    )


def _bad_dates(df: pl.DataFrame | None, origin: tuple | None, what: str) -> list:
    """The date values of an analyst file that do not read as dates, as validation will name
    them (file, column, lines; trial P/Q: "June 5, 2025" was named after 13 s of git)."""
    from certkit.data.read import prepare
    from certkit.data.schema import TABLES
    from certkit.data.validate import Collector, ValidationReport

    dates = {"engineers": ("hire_date", "leave_date"), "certifications": ("earned_date",)}
    present = [c for c in dates[what] if df is not None and c in df.columns]
    if not present or origin is None:  # other names are mapped later (HR and badge exports)
        return []
    report = ValidationReport()
    collector = Collector(report, what, origin[0], None, names=origin[1])
    # read as validation reads the file (a repeated header row left out: trial review D1)
    prepare(df, TABLES[what], collector)
    # a value of a date column that is not a date; the rest is validation's to say
    return [p for p in report.errors if p.column in present and p.message.startswith("expected")]


def engineers_table(
    imp: Import,
    roster: pl.DataFrame | None,
    roster_only: bool = False,
    fixed: set[str] | frozenset[str] = frozenset(),
    referenced: set[str] | frozenset[str] = frozenset(),
    source: str | None = None,
    identities: Identities | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """The roster plus a placeholder row for every human PR author missing from it.

    Authors are first mapped to roster engineers by the roster's ``email``, ``engineer_id``
    and ``name`` columns (:func:`~certkit.connectors.roster_match.match_roster`; ``fixed``:
    the ids an identity file chose, which keep priority); ``imp`` is updated in place.
    Placeholders get team/role/level ``unknown``, platform ``other`` and the first activity
    date as hire date, so the data loads; fill in a roster for a real analysis. With
    ``roster_only`` (and a roster) there are none: those authors' PRs stay in the files but
    are left out of the analysis (nobody knows their certifications). People with no PR,
    defect or incident of their own (direct pushes only, co-authors of others' PRs) get no
    placeholder unless ``referenced`` (lower-case ids a certifications file names) lists
    them: they
    would enter every comparison as never-certified engineers with no work (gnome-shell:
    151 of 366 people outside a 40-person roster).
    """
    notes = []
    known: set[str] = set()
    idcol = "engineer_id"
    if roster is not None:
        roster, idcol = checked_roster(roster, source)
        known = set(roster[idcol].cast(pl.String).drop_nulls().to_list())
    notes += map_to_roster(imp, roster, idcol, fixed, identities)
    notes += resolve_links(imp)  # defects/incidents to PR ids: unmatched, engineer vs author
    draft = shared_names(names_seen(imp.people, imp.commits), known)
    imp.shared_names = with_proposals(draft, imp.roster_match.proposals)
    mapped = imported_aliases(imp)
    certified = {i.lower() for i in referenced} | {
        mapped[i].lower() for i in referenced if i in mapped
    }
    words = roster_alias_words(imp, known, certified)
    note = shared_names_note(draft, words, known)
    if note:
        notes.append(note)
    people = imp.people.filter(~pl.col("is_bot").fill_null(False))
    missing = people.filter(~pl.col("engineer_id").is_in(list(known)))
    if imp.people_have_prs:
        active = set(imp.people["engineer_id"].to_list())
    else:
        active = set(imp.pull_requests["author_id"].drop_nulls().to_list())
    for table in (imp.defects, imp.incidents):
        if "engineer_id" in table.columns:
            active |= set(table["engineer_id"].drop_nulls().cast(pl.String).to_list())
    keep = pl.col("engineer_id").is_in(list(active)) | pl.col(
        "engineer_id"
    ).str.to_lowercase().is_in(list(referenced))
    idle = missing.filter(~keep)
    missing = missing.filter(keep)
    if idle.height:
        notes.append(
            f"{idle.height} {'person' if idle.height == 1 else 'people'} outside the roster "
            f"{'appears' if idle.height == 1 else 'appear'} only in commits, without a PR of "
            "their own (direct pushes, co-authors of others' PRs): not added as engineers, "
            "since they would count as never-certified engineers with no work"
        )
    botlike = _bot_like_note(missing, imp.pull_requests, everyone=people)
    if botlike:
        notes.append(botlike)
    placeholders = missing.select(
        "engineer_id",
        pl.col("team").fill_null(PLACEHOLDER["team"]),
        pl.lit(PLACEHOLDER["role"]).alias("role"),
        pl.lit(PLACEHOLDER["level"]).alias("level"),
        pl.col("first_seen").dt.date().alias("hire_date"),
        pl.lit(PLACEHOLDER["platform"]).alias("platform"),
        "name",
        "email",
    )
    if roster is None:
        if placeholders.height:
            notes.append(
                f"no roster given: {placeholders.height} engineer(s) added with team/role/level "
                "'unknown' and first activity as hire date; pass a roster (engineers file) "
                "for a real analysis"
            )
        return placeholders, notes
    top = unlisted_examples(imp.pull_requests["author_id"], set(placeholders["engineer_id"]))
    top = f" (most PRs: {top})" if top else ""
    if placeholders.height and roster_only:
        notes.append(
            f"{placeholders.height} author(s) are not in the roster; with --roster-only "
            f"their PRs are kept in pull_requests but left out of the analysis{top}"
        )
        return roster, notes
    if placeholders.height:
        notes.append(
            f"{placeholders.height} author(s) are not in the roster; added with "
            "team/role/level 'unknown' (map their e-mails/logins with an identity file if they "
            "are aliases); nobody knows their certifications, yet they count as never "
            f"certified: --roster-only leaves them out{top}"
        )
        colleagues = colleague_note(roster, placeholders, imp.pull_requests)
        if colleagues:
            notes.append(colleagues)
        roster = roster.with_columns(pl.col(c).cast(pl.String) for c in roster.columns)
        placeholders = placeholders.with_columns(
            pl.col(c).cast(pl.String) for c in placeholders.columns
        )
        return pl.concat([roster, placeholders], how="diagonal_relaxed"), notes
    return roster, notes


#: :data:`certkit.connectors.identity.BOT_LIKE` (automation or a shared team account).
_BOT_LIKE = BOT_LIKE


def _bot_like_note(
    added: pl.DataFrame, prs: pl.DataFrame, shown: int = 3, everyone: pl.DataFrame | None = None
) -> str | None:
    """A note on added authors whose name, login or e-mail says "bot" (or most of whose PR
    titles do: :func:`_bot_titled`) although no agent entry lists them (trial L, aider: "KhulnaSoft bot <43526132+khulnasoft-bot@users.noreply...>",
    1 PR, counted as a never-certified engineer), or is another person's login with "bot"
    after it (trial AC, astral-sh/ruff: "zaniebot", zanieb's, 16 PRs; ``everyone``: the people
    of the import, roster included). Nothing is changed: an agents file decides."""
    if not added.height:
        return None
    local = pl.col("email").fill_null("").str.split("@").list.first().str.replace(r"^\d+\+", "")
    login = pl.col("engineer_id").str.split("@").list.first()
    flagged = added.filter(
        pl.col("name").fill_null("").str.strip_chars().str.contains(_BOT_LIKE)
        | local.str.contains(_BOT_LIKE)
        | login.str.contains(_BOT_LIKE)
        | login.str.to_lowercase().is_in(list(_owned_bot_names(everyone)))
        | pl.col("engineer_id").is_in(list(_bot_titled(prs)))
    )
    if not flagged.height:
        return None
    counts = prs.group_by("author_id").len()
    rows = flagged.join(counts, left_on="engineer_id", right_on="author_id", how="left")
    rows = rows.sort(
        [pl.col("len").fill_null(0), pl.col("engineer_id")], descending=[True, False]
    )  # ties by id: the note names the same accounts on every run
    listed = ", ".join(
        f"'{r['name'] or r['engineer_id']}' <{r['email'] or r['engineer_id']}> ({r['len'] or 0} PRs)"
        for r in rows.head(shown).iter_rows(named=True)
    )
    more = f" and {rows.height - shown} more" if rows.height > shown else ""
    return (
        f"{rows.height} added author(s) look like automation or a shared team account by "
        f"their name, address or PR titles ({listed}{more}): they count as never-certified engineers; if "
        "they are bots, list them in an agents file (--agents); a team account's work belongs "
        "to people git does not name"
    )


#: A PR title an automation account writes: "[Bot] Update inference types", "Update
#: inference types (automated commit)" (huggingface_hub's HuggingFaceInfra, trial AF).
_BOT_TITLE = r"(?i)^\s*\[(?:bot|automated)\]|\(automated (?:commit|pr|update)\)"


def _bot_titled(prs: pl.DataFrame) -> set[str]:
    """Authors of two or more PRs, most of them titled as automation writes them
    (:data:`_BOT_TITLE`): trial AF's HuggingFaceInfra, 9 PRs "[Bot] Update inference types" /
    "... (automated commit)", counted as an engineer. Neither its name nor its address says
    "bot"; a person rarely titles most of their PRs so, and nothing is changed (a note)."""
    if "title" not in prs.columns or not prs.height:
        return set()
    by = prs.group_by("author_id").agg(
        pl.len().alias("n"),
        pl.col("title").fill_null("").str.contains(_BOT_TITLE).sum().alias("bot"),
    )
    return set(by.filter((pl.col("bot") >= 2) & (pl.col("bot") * 2 > pl.col("n")))["author_id"])


def _owned_bot_names(people: pl.DataFrame | None) -> set[str]:
    """``<login>bot`` for each person's login (or e-mail's local part) of 4 or more letters:
    an account named after its owner ("zaniebot"), not a surname ("Talbot", "ercbot")."""
    if people is None or not people.height:
        return set()
    ids = people["engineer_id"].drop_nulls().str.split("@").list.first().str.to_lowercase()
    logins = {x for x in ids.to_list() if len(x) >= 4}
    # "zanie" + "bot" for the owner "zanieb": the login less its last letter too
    return {f"{x}bot" for x in logins} | {f"{x[:-1]}bot" for x in logins if len(x) >= 5}


def roster_alias_words(
    imp: Import, known: set[str], certified: set[str], shown: int = 3
) -> str | None:
    """Roster engineers the draft identity file (``imp.shared_names``) gives other ids,
    certified first, then by those ids' PRs: ``"alice (certified) may also appear as
    alexm@gnome.org (349 PRs, same name 'Alice Mikhaylenko')"`` (None: no such engineer). ``certified``: lower-case
    engineer ids a certifications file names. Nothing is merged: the draft is to check."""
    draft = imp.shared_names
    if draft is None or not draft.height or not known:
        return None
    rows = draft.filter(
        pl.col("engineer_id").is_in(list(known))
        & (pl.col("current_id") != pl.col("engineer_id"))
        & ~pl.col("current_id").is_in(list(known))
    )
    if not rows.height:
        return None
    counts = dict(imp.pull_requests["author_id"].drop_nulls().value_counts().iter_rows())
    shared = imp.roster_match.shared if imp.roster_match else {}
    own: dict[str, set[str]] = {}  # the names each roster engineer's own ids used
    for rid, name in (
        draft.filter(pl.col("current_id") == pl.col("engineer_id"))
        .select("engineer_id", "name")
        .rows()
    ):
        own.setdefault(rid, set()).add(" ".join(str(name).casefold().split()))
    per: dict[str, dict[str, str]] = {}
    for rid, alias, name in rows.select("engineer_id", "current_id", "name").rows():
        what = shared.get((alias, rid), "name")
        if what == "name" and name:
            if alias in per.get(rid, {}) and " ".join(name.casefold().split()) not in own.get(
                rid, set()
            ):
                continue  # keep the name the roster engineer also used
            what = f"name {name!r}"
        per.setdefault(rid, {})[alias] = f"same {what}"

    def prs(n: int) -> str:
        if imp.people_have_prs:  # the PRs are not in this import (DevLake pushdown)
            return ""
        return f"{n:,} PR{'s' if n != 1 else ''}, "

    total = {rid: sum(counts.get(a, 0) for a in aliases) for rid, aliases in per.items()}
    order = sorted(per, key=lambda r: (r.lower() not in certified, -total[r], r))
    parts = []
    for rid in order[:shown]:
        aliases = sorted(per[rid], key=lambda a: (-counts.get(a, 0), a))
        listed = ", ".join(f"{a} ({prs(counts.get(a, 0))}{per[rid][a]})" for a in aliases[:3])
        if len(aliases) > 3:
            listed += f" and {len(aliases) - 3} more"
        tag = " (certified)" if rid.lower() in certified else ""
        parts.append(f"{rid}{tag} may also appear as {listed}")
    if len(order) > shown:
        parts.append(f"and {len(order) - shown} more roster engineer(s)")
    return "; ".join(parts)


def _counted(certs: pl.DataFrame) -> pl.Series:
    """Which rows of a raw certifications file count as the treatment (:func:`counted_rows`);
    all of them when its column names clash (validation then names the repeated column)."""
    names = TABLES["certifications"].canonical_names(certs.columns)
    if len(set(names)) < len(names):
        return pl.Series("counted", [True] * certs.height)
    return counted_rows(certs.rename(dict(zip(certs.columns, names, strict=True))))


def certified_ids(certs: pl.DataFrame | None, identities: Identities) -> set[str]:
    """The engineer ids a certifications file names, as written and as the identity file
    resolves them, in lower case (so a placeholder is kept for each, see
    :func:`engineers_table`). Rows that do not count as the treatment (a revoked badge, a
    certification the catalog knows is not an ML one: :func:`counted_rows`) name nobody."""
    if certs is None:
        return set()
    names = TABLES["certifications"].canonical_names(certs.columns)
    if "engineer_id" not in names:
        return set()
    ids = certs[certs.columns[names.index("engineer_id")]].filter(_counted(certs))
    out = set()
    for value in ids.cast(pl.String).drop_nulls():
        alias = value.strip()
        found = identities.resolve(email=alias, login=alias, name=alias)
        out |= {alias.lower()} | ({found.lower()} if found else set())
    return out


def imported_aliases(imp: Import) -> dict[str, str]:
    """Lower-case author id or e-mail -> roster engineer id, for what the import's roster
    rules (:func:`~certkit.connectors.roster_match.match_roster`) mapped: the author ids
    they renamed, and every e-mail the commits of a roster engineer carry (e-mails of one
    engineer only). A certification file may name its engineer so (an HR export keyed by a
    personal e-mail); the identity file and the roster's own columns are read first."""
    match = imp.roster_match
    if match is None:
        return {}
    roster = set(match.roster_ids)
    out = {
        a.strip().lower(): r
        for a, r in match.mapping.items()
        if r in roster and match.rule.get(a) != "case"
    }
    commits = imp.commits
    if commits is not None and {"author_id", "author_email"} <= set(commits.columns):
        pairs = (
            commits.select(
                pl.col("author_email").str.strip_chars().str.to_lowercase().alias("e"),
                pl.col("author_id").alias("r"),
            )
            .drop_nulls()
            .unique()
        )
        pairs = pairs.filter(pl.col("e").is_unique() & pl.col("r").is_in(list(roster)))
        for e, r in pairs.iter_rows():
            out.setdefault(e, r)
    return out


def _roster_emails(roster: pl.DataFrame) -> dict[str, str]:
    """Lower-case e-mail -> engineer id, for e-mails exactly one roster engineer has."""
    if "email" not in roster.columns:
        return {}
    pairs = roster.select(
        pl.col("email").cast(pl.String).str.strip_chars().str.to_lowercase(),
        pl.col("engineer_id").cast(pl.String),
    ).drop_nulls()
    unique = pairs.filter(pl.col("email").is_unique())
    return dict(unique.iter_rows())


def certifications_by_alias(
    certs: pl.DataFrame,
    engineers: pl.DataFrame,
    identities: Identities,
    roster_rows: int | None = None,
    imported: dict[str, str] | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Certification rows whose ``engineer_id`` is not an engineer but an alias, read as
    that engineer, and notes saying how many.

    Aliases: what the identity file maps (an HR export keyed by e-mail, an id merged into
    another by the identity file), an engineer id in another case, or, with a roster, the
    e-mail in the roster's ``email`` column (case-insensitive; a Credly export is keyed by
    e-mail). ``roster_rows``: the first rows of ``engineers`` that are the roster (the rest
    were added by the import; None: no roster). With a roster, rows that land on an engineer
    the import added (a personal e-mail that is also a git author) are named in a note:
    they count as certified engineers of team 'unknown'. ``imported``: lower-case author ids
    and e-mails the import itself mapped to roster engineers (:func:`imported_aliases`), read
    last.
    """
    names = TABLES["certifications"].canonical_names(certs.columns)
    if "engineer_id" not in names:
        return certs, []  # validation names the missing column
    column = certs.columns[names.index("engineer_id")]
    known = set(engineers["engineer_id"].cast(pl.String).to_list())
    by_case: dict[str, list[str]] = {}
    for k in known:
        by_case.setdefault(k.lower(), []).append(k)
    roster = engineers.head(roster_rows) if roster_rows is not None else engineers.clear()
    emails = _roster_emails(roster)
    values = certs[column].cast(pl.String)
    mapped, by_email, by_import = {}, {}, {}
    for value in values.drop_nulls().unique().to_list():
        alias = value.strip()
        if alias not in known:
            found = identities.resolve(email=alias, login=alias, name=alias)
            if found is None and len(by_case.get(alias.lower(), [])) == 1:
                # an id in another case: GitHub logins keep their case since this release
                # ('Rowlando13'); files written from older imports say 'rowlando13' (click)
                found = by_case[alias.lower()][0]
            if found is None and alias.lower() in emails:
                found = by_email[value] = emails[alias.lower()]
            if found is None and alias.lower() in (imported or {}):
                # an author the import's own roster rules mapped (trial I, I1: the name rule
                # mapped inna.hrpr@gmail.com to inna, yet her certification row stopped it)
                found = by_import[value] = imported[alias.lower()]
            if found is not None and found in known:
                mapped[value] = found
    notes = []
    for group, how in (
        (
            {v: e for v, e in mapped.items() if v not in by_email and v not in by_import},
            ALIAS_WORDS,
        ),
        (
            {v: e for v, e in mapped.items() if v in by_email},
            "the e-mail in the roster's email column",
        ),
        ({v: e for v, e in mapped.items() if v in by_import}, IMPORT_WORDS),
    ):
        if group:
            example = next(iter(group.items()))
            notes.append(
                f"{int(values.is_in(list(group)).sum())} certification row(s) name their "
                f"engineer by {how} (e.g. {example[0]!r} -> {example[1]!r}); read as that "
                "engineer"
            )
    if mapped:
        certs = certs.with_columns(values.replace(mapped).alias(column))
    if roster_rows is not None:
        added = set(engineers["engineer_id"].cast(pl.String)[roster_rows:].to_list())
        counted = _counted(certs)
        ids = certs[column].cast(pl.String)
        on_added = ids.is_in(list(added)) & counted
        if on_added.any():
            who = ids.filter(on_added).unique(maintain_order=True)
            shown = ", ".join(repr(v) for v in who.head(3)) + (
                f" and {who.len() - 3} more" if who.len() > 3 else ""
            )
            notes.append(
                f"{int(on_added.sum())} certification row(s) name {who.len()} engineer(s) the "
                f"import added, not in the roster ({shown}): they count as certified "
                "engineers of team 'unknown'. If they are roster engineers under another "
                "e-mail or login, map them in an identity file (--identities); if not, leave "
                "those rows out"
            )
    return certs, notes
