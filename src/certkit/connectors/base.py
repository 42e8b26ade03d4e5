"""What every connector returns (:class:`Import`) and how imports become a certkit Dataset.

A connector reads one source (git history, a ``gh`` export, DevLake, PagerDuty, Jira) into an
:class:`Import`: certkit-shaped ``pull_requests``, ``defects`` and ``incidents`` frames plus the
``people`` it saw and, where available, ``commits`` and the ``ai_evidence`` behind every AI
detection. :func:`to_dataset` joins imports with the analyst's own roster and certification
records and validates the result with the same rules as :func:`certkit.load`.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from certkit.connectors.analyst_files import (  # noqa: F401 - re-exported: base.PLACEHOLDER
    PLACEHOLDER,
    _read_table,
    certifications_by_alias,
    certified_ids,
    engineers_table,
    imported_aliases,
)
from certkit.connectors.attribution import LOWER_BOUND_NOTE, Detection
from certkit.connectors.identity import DRAFT_FILE, DRAFT_PROMISE, Identities, read_identities
from certkit.connectors.incident_links import named_engineers
from certkit.connectors.roster_match import RosterMatch, idle_note, merge_people
from certkit.data.certification_checks import LEFT_OUT_STATUSES
from certkit.data.dataset import Dataset, from_frames
from certkit.data.panel_links import bot_linked, bot_words
from certkit.display import oneline, table
from certkit.errors import CertkitError, CertkitWarning, DataValidationError

PR_SCHEMA = {
    "id": pl.String,
    "author_id": pl.String,
    "repo": pl.String,
    "created_date": pl.Datetime("us"),
    "merged_date": pl.Datetime("us"),
    "closed_date": pl.Datetime("us"),
    "first_review_date": pl.Datetime("us"),
    "additions": pl.Int64,
    "deletions": pl.Int64,
    "ai_assisted": pl.Float64,
    "ai_tool": pl.String,
    "reverted": pl.Boolean,
    "title": pl.String,
    "number": pl.Int64,
    "is_bot_author": pl.Boolean,
    "created_source": pl.String,
    "source": pl.String,
}
PEOPLE_SCHEMA = {
    "engineer_id": pl.String,
    "name": pl.String,
    "email": pl.String,
    "login": pl.String,
    "team": pl.String,
    "first_seen": pl.Datetime("us"),
    "is_bot": pl.Boolean,
}
EVIDENCE_SCHEMA = {
    "pr_id": pl.String,
    "sha": pl.String,
    "tool": pl.String,
    "rule": pl.String,
    "evidence": pl.String,
    "source": pl.String,
}
LINKED_SCHEMA = {
    "id": pl.String,
    "created_date": pl.Datetime("us"),
    "resolution_date": pl.Datetime("us"),
    "severity": pl.String,
    "pr_id": pl.String,
    "engineer_id": pl.String,
}
INCIDENT_SCHEMA = {**LINKED_SCHEMA, "service": pl.String}
# The Python spelling beside a CLI option in messages the Python API raises (the CLI drops
# it, :func:`certkit.connectors.cli.cli_words`).
PY_AS_PRS = "(Python: read_git(..., direct_commits='as_prs')) "
PY_COMMITS_ONLY = "(Python: write_commits_only(imp, out)) "
# Sources with exact PR dates win over git's approximations when the same PR id appears twice.
SOURCE_PRIORITY = {"devlake": 0, "github": 1, "git": 2}


def empty(schema: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def frame(rows: list[dict], schema: dict) -> pl.DataFrame:
    """A frame with exactly ``schema``'s columns (missing keys become nulls)."""
    if not rows:
        return empty(schema)
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


def evidence_rows(
    detections: list[Detection], pr_id: str | None, source: str, sha: str | None = None
) -> list[dict]:
    """One ``ai_evidence`` row (:data:`EVIDENCE_SCHEMA`) per detection: the audit trail."""
    return [
        {
            "pr_id": pr_id,
            "sha": sha,
            "tool": d.tool,
            "rule": d.rule,
            "evidence": d.evidence,
            "source": source,
        }
        for d in detections
    ]


def utc_naive(value: datetime | None) -> datetime | None:
    """Timezone-aware -> UTC without tzinfo (certkit stores naive UTC); naive taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def parse_iso(text: str | None) -> datetime | None:
    """ISO 8601 text (``Z`` or offset allowed) -> naive UTC datetime; empty -> ``None``."""
    if text is None or text == "":
        return None
    return utc_naive(datetime.fromisoformat(str(text).replace("Z", "+00:00")))


@dataclass
class Import:
    """The tables one or more connectors produced, before validation.

    Attributes
    ----------
    pull_requests, defects, incidents
        certkit input tables (extra columns such as ``number``, ``created_source`` and
        ``source`` are kept for auditing).
    people
        Everyone seen as an author: ``engineer_id``, ``name``, ``email``, ``login``, ``team``,
        ``first_seen``, ``is_bot``. Becomes the engineers table for people missing from the
        roster.
    commits
        One row per commit (git and DevLake only).
    ai_evidence
        One row per AI detection: PR id, commit sha, tool, rule id and the matching text.
    notes
        Plain-language remarks on approximations and what was skipped.
    """

    pull_requests: pl.DataFrame = field(default_factory=lambda: empty(PR_SCHEMA))
    defects: pl.DataFrame = field(default_factory=lambda: empty(LINKED_SCHEMA))
    incidents: pl.DataFrame = field(default_factory=lambda: empty(INCIDENT_SCHEMA))
    people: pl.DataFrame = field(default_factory=lambda: empty(PEOPLE_SCHEMA))
    commits: pl.DataFrame | None = None
    ai_evidence: pl.DataFrame = field(default_factory=lambda: empty(EVIDENCE_SCHEMA))
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    #: The commit each git repository was read at (repository name -> sha; ``import.json``).
    revisions: dict[str, str] = field(default_factory=dict)
    #: Every person in ``people`` authored a PR that ``pull_requests`` does not hold (the
    #: DevLake pushdown leaves the PRs in the database): each gets a placeholder engineer.
    people_have_prs: bool = False
    #: Filled by :func:`to_dataset`: a draft identity file for names seen under several
    #: engineer ids (:func:`~certkit.connectors.identity.shared_names`).
    shared_names: pl.DataFrame | None = None
    #: Filled by :func:`to_dataset`: authors mapped to the roster by its columns
    #: (:func:`~certkit.connectors.roster_match.match_roster`).
    roster_match: RosterMatch | None = None

    def __add__(self, other: Import) -> Import:
        return combine(self, other)

    def summary(self) -> str:
        prs = self.pull_requests
        n_ai = int((prs["ai_assisted"].fill_null(0) > 0).sum()) if prs.height else 0
        lines = [
            f"certkit import from {', '.join(self.sources) or 'nothing'}",
            f"  pull_requests   {prs.height:>9,} rows ({n_ai:,} with detected AI assistance)",
            f"  people          {self.people.height:>9,} rows "
            f"({int(self.people['is_bot'].sum()):,} bots)",
            f"  defects         {self.defects.height:>9,} rows",
            f"  incidents       {self.incidents.height:>9,} rows",
        ]
        if self.commits is not None:
            lines.append(f"  commits         {self.commits.height:>9,} rows")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        prs = self.pull_requests
        return oneline(
            f"certkit import from {', '.join(self.sources) or 'nothing'}",
            pull_requests=prs.height,
            people=self.people.height,
            notes=len(self.notes),
        )

    def _repr_html_(self) -> str:
        names = ["pull_requests", "people", "defects", "incidents", "commits", "ai_evidence"]
        frames = {n: getattr(self, n) for n in names if getattr(self, n) is not None}
        rows = pl.DataFrame({"table": list(frames), "rows": [f.height for f in frames.values()]})
        title = f"certkit import from {', '.join(self.sources) or 'nothing'}"
        return table(rows, title=title, footnotes=self.notes).to_html()


def combine(*imports: Import) -> Import:
    """Merge imports; a PR seen twice keeps the best-dated row and the union of AI detections."""
    if not imports:
        return Import()
    prs = pl.concat([i.pull_requests for i in imports], how="diagonal_relaxed")
    old_notes = [n for i in imports for n in i.notes]
    from certkit.connectors.github import unjoined_exports  # github imports this module

    join_notes = [n for n in unjoined_exports(prs) if n not in old_notes]
    for n in join_notes:
        warnings.warn(n, CertkitWarning, stacklevel=2)
    if prs.height and prs["id"].is_duplicated().any():
        ai = prs.group_by("id").agg(
            pl.col("ai_assisted").max().alias("_ai"),
            pl.col("ai_tool").drop_nulls().str.join(",").alias("_t"),
            pl.col("reverted").max().alias("_rev"),
        )
        prs = (
            prs.with_columns(
                pl.col("source").replace_strict(SOURCE_PRIORITY, default=9).alias("_prio")
            )
            .sort("_prio", maintain_order=True)
            .unique("id", keep="first", maintain_order=True)
            .join(ai, on="id", how="left")
            .with_columns(
                pl.col("_ai").alias("ai_assisted"),
                pl.when(pl.col("_t") != "")
                .then(pl.col("_t").str.split(",").list.unique().list.sort().list.join(","))
                .alias("ai_tool"),
                pl.col("_rev").alias("reverted"),
            )
            .drop("_prio", "_ai", "_t", "_rev")
        )
    people = merge_people(pl.concat([i.people for i in imports], how="diagonal_relaxed"))
    commits = [i.commits for i in imports if i.commits is not None]
    return Import(
        pull_requests=prs,
        defects=pl.concat([i.defects for i in imports], how="diagonal_relaxed"),
        incidents=pl.concat([i.incidents for i in imports], how="diagonal_relaxed"),
        people=people,
        commits=pl.concat(commits, how="diagonal_relaxed") if commits else None,
        ai_evidence=pl.concat([i.ai_evidence for i in imports], how="diagonal_relaxed"),
        notes=old_notes + join_notes + _uneven_notes(prs),
        sources=[s for i in imports for s in i.sources],
        revisions={k: v for i in imports for k, v in i.revisions.items()},
    )


def _repository_facts(prs: pl.DataFrame, revisions: dict[str, str]) -> list[dict]:
    """Per repository: PRs, merged PRs, first and last PR day and, for git, the commit read
    (``import.json``)."""
    from certkit.data.repositories import repositories

    table = repositories(prs).drop("authors")
    return [
        {k: (str(v) if k in ("first_pr", "last_pr") else v) for k, v in row.items()}
        | ({"commit": revisions[row["repo"]]} if row["repo"] in revisions else {})
        for row in table.iter_rows(named=True)
    ]


def _uneven_notes(prs: pl.DataFrame) -> list[str]:
    """Notes when the repositories' histories end or start apart
    (:mod:`certkit.data.repositories`; the data-health page counts the engineers a late start
    leaves idle, from the roster's hire dates)."""
    from certkit.data.repositories import uneven_ends, uneven_starts

    texts = (uneven_ends(prs), uneven_starts(prs))
    return [text[0].upper() + text[1:] for text in texts if text]


def to_dataset(
    imp: Import,
    *,
    engineers: pl.DataFrame | str | Path | None = None,
    certifications: pl.DataFrame | str | Path | None = None,
    strict: bool = True,
    today: date | None = None,
    identities: Identities | str | Path | None = None,
    roster_only: bool = False,
) -> Dataset:
    """Validate an import as a certkit :class:`~certkit.data.dataset.Dataset`.

    Parameters
    ----------
    imp
        What the connectors read (combine several with ``+``).
    engineers
        The analyst's roster (certkit's engineers table: engineer_id, team, role, level,
        hire_date, platform) as a frame or a CSV/Parquet/NDJSON file. Authors are mapped to
        its engineers by its ``email``, ``engineer_id`` (case-insensitive) and unique
        ``name`` columns after the identity file
        (:func:`~certkit.connectors.roster_match.match_roster`); roster engineers left with
        no PR are named in a note. Authors missing from it are added with ``unknown``
        attributes and a note, or with ``roster_only`` left out (their PRs then count
        nowhere; validation says how many).
    certifications
        Certification records (engineer_id, certification, earned_date), frame or file.
    strict
        Raise :class:`~certkit.errors.DataValidationError` on any validation error.
    identities
        The identity file (or :class:`~certkit.connectors.identity.Identities`) the
        connectors used: the ids it chose keep priority over the roster's columns, and
        certification rows that name their engineer by an alias it maps (an e-mail, a
        login) are read as that engineer, with a note. So are rows naming an author id or
        e-mail the import's own roster rules mapped to a roster engineer (a personal e-mail
        the roster's unique name matched), and rows naming an engineer id in another case (with or without an identity file: files written from imports before
        noreply logins kept GitHub's case say ``rowlando13`` for ``Rowlando13``).
    """
    roster, roster_origin = _read_table(engineers, "engineers")
    certs, certs_origin = _read_table(certifications, "certifications")
    if identities is not None and not isinstance(identities, Identities):
        identities = read_identities(identities)
    fixed = identities.ids if identities is not None else frozenset()
    named = certified_ids(certs, identities or Identities())
    eng, notes = engineers_table(
        imp,
        roster,
        roster_only,
        fixed,
        referenced=named,
        source=roster_origin[0] if roster_origin else None,
        identities=identities,
    )
    ids = set(eng["engineer_id"].to_list())
    notes += named_engineers(imp, ids, identities or Identities())
    if certs is not None:
        rows = None if roster is None else roster.height
        certs, more = certifications_by_alias(
            certs, eng, identities or Identities(), rows, imported_aliases(imp)
        )
        notes += more
    if roster is not None:
        notes += idle_note(imp, certs)
    for n in notes:
        warnings.warn(n, CertkitWarning, stacklevel=2)
    imp.notes.extend(n for n in notes if n not in imp.notes)
    prs = imp.pull_requests
    if prs.height == 0:
        raise CertkitError(
            "the import has no pull requests (nothing merged in the history read, or an "
            "empty export); certkit needs at least one. For a history without PRs "
            "(trunk-based development) use `certkit import git --direct-commits as_prs` "
            f"{PY_AS_PRS}(each commit counts as a PR), or `--commits-only` {PY_COMMITS_ONLY}to "
            "write just the commits and AI-attribution tables"
        )
    ds = from_frames(
        engineers=eng,
        pull_requests=prs,
        certifications=certs,
        defects=imp.defects if imp.defects.height else None,
        incidents=imp.incidents if imp.incidents.height else None,
        source=" + ".join(imp.sources) or "import",
        strict=strict,
        today=today,
        origins=_origins(imp, eng, roster, roster_origin, certs_origin),
    )
    return ds


def write_commits_only(imp: Import, out: str | Path) -> Path:
    """Write only ``commits.parquet``, ``ai_evidence.csv`` and ``import.json`` (no PRs needed).

    For histories without pull requests (trunk-based development): the commit and
    AI-attribution tables, without a certkit dataset. Written all or nothing, like
    :func:`write_import`, and never into a folder that holds an input.
    """
    from certkit.data.outputs import refuse_inputs, staged_folder

    if imp.commits is None:
        raise CertkitError("a commits-only import needs a git (or DevLake) source")
    refuse_inputs(out, import_inputs(imp))
    manifest = {"created": datetime.now(UTC).isoformat(timespec="seconds"), "commits_only": True}
    manifest |= {"sources": imp.sources, "notes": imp.notes, "lower_bound": LOWER_BOUND_NOTE}
    with staged_folder(out, stale=("commits.parquet", "ai_evidence.csv")) as tmp:
        imp.commits.write_parquet(tmp / "commits.parquet")
        imp.ai_evidence.write_csv(tmp / "ai_evidence.csv")
        (tmp / "import.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return Path(out)


def _origins(imp: Import, eng, roster, roster_origin, certs_origin) -> dict:
    """Where each row came from, so validation problems name files, lines, PRs and issues."""
    n_roster = roster.height if roster is not None else 0
    file, names = roster_origin or (None, None)
    label, names = names or ("row", list(range(1, n_roster + 1)))  # parquet/frame: row numbers
    added = ("engineer", eng["engineer_id"][n_roster:].to_list())  # in no line of the roster
    return {
        "engineers": (file, (label, names, added)),
        "certifications": certs_origin or (None, None),
        "pull_requests": (None, ("PR", imp.pull_requests["id"].to_list())),
        "defects": (None, ("issue", imp.defects["id"].to_list())),
        "incidents": (None, ("incident", imp.incidents["id"].to_list())),
    }


def import_inputs(imp: Import, **files) -> list[tuple[str, str | Path | None]]:
    """Every input file of an import (its file sources plus ``files``), for the output check."""
    pairs: list[tuple[str, str | Path | None]] = []
    for src in imp.sources:
        kind, _, path = src.partition(":")
        what = {"git": "repository", "github": "GitHub export", "jira": "Jira export"}.get(
            kind, "PagerDuty export" if kind == "pagerduty" else None
        )
        if what and path:
            pairs.append((what, path))
    for what, path in files.items():
        if isinstance(path, str | Path):
            pairs.append((f"--{what.replace('_', '-')} file", path))
    return pairs


def _with_left_out(certs: pl.DataFrame, ds: Dataset, notes: list[str]) -> pl.DataFrame:
    """The certifications table to write: the rows that count, then those validation left
    out (revoked badges with their ``status``, non-ML certifications with ``ml`` false), so
    an analyst who disagrees edits the file instead of importing again; loaded, they are
    left out as before. A note says how many."""
    left = ds.validation.left_out.get("certifications")
    if left is None or left.height == 0:
        return certs
    non_ml = int((~left["ml"].fill_null(True)).sum())
    status = left["status"].cast(pl.String).str.strip_chars().str.to_lowercase()
    not_held = int(status.is_in(LEFT_OUT_STATUSES).sum())
    notes.append(
        f"{left.height} certification row(s) that are not the treatment are written to the "
        f"certifications file all the same and left out as before ({non_ml} with ml false: "
        f"not ML certifications; {not_held} revoked, rejected or pending: their status). To "
        "count one, set its ml to true or its status to accepted, then run certkit validate"
    )
    return pl.concat(
        [certs, left.select(c for c in left.columns if c in certs.columns)], how="diagonal_relaxed"
    )


def _draft_on_stop(imp: Import, out: str | Path, write: bool = True) -> list[Path]:
    """When the import stops before writing its tables: write the draft identity file alone
    (a validation failure, often certification rows naming engineers by ids the import does
    not know), if ``out`` is new or empty, and say so in the note that promised it; else
    say that nothing was written (trial I, I1 and I8). Returns the files written."""
    from certkit.data.outputs import staged_folder

    draft = imp.shared_names
    target = Path(out)
    fresh = not target.exists() or (target.is_dir() and not any(target.iterdir()))
    written: list[Path] = []
    if write and fresh and draft is not None and draft.height:
        with staged_folder(target) as tmp:
            draft.write_csv(tmp / DRAFT_FILE)
        written.append(target / DRAFT_FILE)
        words = f"the import stopped, so this draft alone is written, as {target / DRAFT_FILE}"
    elif write and draft is not None and draft.height:
        words = f"the import stopped and wrote nothing, not even this draft ({target} is not empty)"
    else:
        words = "the import stopped and wrote nothing, not even this draft"
    imp.notes[:] = [n.replace(DRAFT_PROMISE, words) for n in imp.notes]
    return written


def write_import(
    imp: Import,
    out: str | Path,
    *,
    engineers=None,
    certifications=None,
    format: str = "parquet",
    today: date | None = None,
    overwrite: bool = False,
    inputs: list[tuple[str, str | Path | None]] | None = None,
    identities: Identities | str | Path | None = None,
    roster_only: bool = False,
) -> tuple[Dataset, Path]:
    """Validate and write an import as a certkit data folder (plus audit files).

    Besides the certkit tables it writes ``commits.parquet`` (git/DevLake), ``ai_evidence.csv``
    (one row per detection), ``import.json`` (sources, notes, and the statement that AI
    detection is a lower bound) and, when names appear under several engineer ids, the draft
    identity file ``identities_suggested.csv``. Without ``certifications`` the folder has no
    certifications file yet; add one before ``certkit validate``. ``identities`` and
    ``roster_only``: see :func:`to_dataset`.

    The folder is written all or nothing (:func:`certkit.data.outputs.staged_folder`): a failing
    import leaves ``out`` as it was, except that when validation fails and ``out`` is new or
    empty, the draft identity file alone is written there (the raised
    :class:`~certkit.errors.DataValidationError`'s ``written`` lists it). An ``out`` that
    holds an input file (the roster, the certifications, an export, or any of ``inputs``) is
    refused, and files in ``out`` that certkit did not write are never replaced unless
    ``overwrite=True``.
    """
    from certkit.data.outputs import refuse_inputs, staged_folder, write_frames

    given = import_inputs(
        imp, engineers=engineers, certifications=certifications, identities=identities
    )
    refuse_inputs(out, [*given, *(inputs or [])])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CertkitWarning)
        try:
            ds = to_dataset(
                imp,
                engineers=engineers,
                certifications=certifications,
                strict=True,
                today=today,
                identities=identities,
                roster_only=roster_only,
            )
        except DataValidationError as exc:
            exc.written = _draft_on_stop(imp, out)
            raise
        except CertkitError:
            _draft_on_stop(imp, out, write=False)
            raise
    # to_dataset's notes are in imp.notes and validation's in ds.validation; reading the
    # analyst's files may say more (a roster that is not UTF-8): kept as notes
    said = set(imp.notes) | {p.format() for p in ds.validation.problems}
    for w in caught:
        if not issubclass(w.category, CertkitWarning):
            warnings.warn(w.message, w.category, stacklevel=2)
        elif str(w.message) not in said:
            imp.notes.append(str(w.message))
            said.add(str(w.message))
    for name in ("defects", "incidents"):  # validation says it too, naming the rows
        bots = bot_linked(getattr(ds, name), ds.pull_requests, ds.engineers)
        if bots.height:
            imp.notes.append(bot_words(name, bots))
    tables = ds.output_tables()
    if certifications is None:
        tables.pop("certifications")
    else:
        tables["certifications"] = _with_left_out(tables["certifications"], ds, imp.notes)
    for name in ("defects", "incidents"):  # optional tables: no header-only files
        if tables[name].height == 0:
            tables.pop(name)
    manifest = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": imp.sources,
        "notes": imp.notes,
        "ai_detection": {
            "method": "commit trailers, bot accounts, PR bodies/branches (rules file)",
            "lower_bound": True,
            "note": LOWER_BOUND_NOTE,
            "prs_with_ai": int((ds.pull_requests["ai_assisted"].fill_null(0) > 0).sum()),
            "prs": ds.pull_requests.height,
        },
        "certifications_included": certifications is not None,
        # what each repository held (trial N: folder names only, no dates): a later reader can
        # tell which snapshot was imported
        "repositories": _repository_facts(ds.pull_requests, imp.revisions),
    }
    # an earlier import's, if not rewritten
    stale = ("commits.parquet", "ai_evidence.csv", DRAFT_FILE)
    with staged_folder(out, overwrite=overwrite, stale=stale) as tmp:
        write_frames(tables, tmp, format)
        if imp.commits is not None:
            imp.commits.write_parquet(tmp / "commits.parquet")
        imp.ai_evidence.write_csv(tmp / "ai_evidence.csv")
        if imp.shared_names is not None and imp.shared_names.height:
            imp.shared_names.write_csv(tmp / DRAFT_FILE)
        (tmp / "import.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return ds, Path(out)
