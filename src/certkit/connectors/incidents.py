"""Incidents and defects from PagerDuty and Jira exports.

- :func:`read_pagerduty`: ``GET /incidents`` JSON (``{"incidents": [...]}``), analytics raw
  incidents (``{"data": [...]}``), a plain JSON list, or a CSV export (``incident_number``,
  ``created_at``/``created_on``, ``resolved_at``, ``urgency``, ``priority``, ``service_name``...).
- :func:`read_jira`: Jira's "Export CSV (all fields)" (repeated column names such as
  ``Labels,Labels`` are joined, ``Custom field (...)`` columns searched for PR links, locale dates
  such as ``14/Jul/25 3:42 PM`` parsed) or the Data Center data-pipeline export. Issue types
  map to defects (``Bug``) or incidents (``Incident``, or the label ``incident``).

Dates without a UTC offset (Jira's UI export writes them in the exporting user's profile zone)
are read as UTC with a note, or as local times in ``timezone=`` (``--timezone``), see
:mod:`certkit.connectors.timezones`.

- :func:`read_exports`: several exports at once, one link file for all, and ids checked
  across files (the same incidents exported as JSON and as CSV).

Linking to the PR or engineer that caused the row (``link=``,
:mod:`certkit.connectors.incident_links`):

- ``"pr_refs"`` (default): the first PR URL (``github.com/o/r/pull/12``) or ``o/r#12``
  reference in the title, description and custom fields, in text order, becomes ``pr_id`` =
  ``o/r#12`` (the id the git and GitHub connectors use); one introduced by fix words
  ("fixed by") is passed over when another is introduced by cause words ("caused by");
- a CSV file with ``id`` and ``pr_id`` and/or ``engineer_id`` columns (your own mapping, e.g.
  from post-incident reviews): it overrides the rows it names, the others keep text links;
- ``"none"``: rows stay unlinked and count in organisation totals only.

``pr_ref`` keeps the reference as found, so one that matches no PR stays in the written table.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import polars as pl

from certkit.connectors.base import INCIDENT_SCHEMA, LINKED_SCHEMA, Import, combine, frame
from certkit.connectors.incident_links import LinkFile, apply_link, as_link, pr_refs
from certkit.connectors.timezones import check_zone, to_utc, zone_note
from certkit.data.read import offset_given
from certkit.data.read import parse_datetime as _parse_datetime
from certkit.data.textio import csv_rows, excel_serial_hint, read_text
from certkit.data.validate import Collector as _Collector
from certkit.data.validate import ValidationReport
from certkit.errors import CertkitError, CertkitWarning

DEFECT_TYPES = ("bug", "defect")
INCIDENT_TYPES = ("incident",)
#: Jira resolutions that say the issue was not a defect of its own: such Bugs are left out.
NOT_A_DEFECT = (
    "duplicate",
    "won't do",
    "won't fix",
    "cannot reproduce",
    "not a bug",
    "invalid",
    "declined",
)
_ISO_HINT = "Expected ISO 8601 (2025-03-31T14:05:00Z)"
_JIRA_HINT = f"{_ISO_HINT} or one export format throughout (e.g. Jira's 14/Jul/25 3:42 PM)"
_PD_HINT = f"{_ISO_HINT}, as PagerDuty's API and CSV export write them"
#: The written tables keep the reference as found (``pr_ref``), also one that matches no PR.
_LINKED = {**LINKED_SCHEMA, "pr_ref": pl.String}
_INCIDENT = {**INCIDENT_SCHEMA, "pr_ref": pl.String}
__all__ = ["pr_refs", "read_exports", "read_jira", "read_pagerduty"]


def _parse_dates(
    values: list[str | None],
    lines: list[int],
    file: Path,
    column: str,
    where: str = "line",
    hint: str = _JIRA_HINT,
    zone: str | None = None,
) -> tuple[list, list[str], int]:
    """Parse a date column with certkit's loader rules: the values, the loader's warnings
    (dates that read both month-first and day-first, two-digit years) as notes naming the
    file and column, and how many values carry no UTC offset. Those are read as local times
    in ``zone`` (:func:`certkit.connectors.timezones.to_utc`), else as UTC. Values that are
    not dates raise, naming the ``where`` (line or item)."""
    report = ValidationReport()
    col = _Collector(report, "import", str(file), None)
    s = pl.Series(column, values, dtype=pl.String)
    parsed = _parse_datetime(s, col, column)
    bad = [
        (line, v)
        for line, v, p in zip(lines, values, parsed.to_list(), strict=True)
        if v and p is None
    ]
    if bad:
        shown = ", ".join(f"{where} {ln} ({v!r})" for ln, v in bad[:5])
        excel = excel_serial_hint([v for _, v in bad])
        raise CertkitError(
            f"{file}, column {column!r}: {len(bad)} value(s) are not dates: {shown}. "
            + (f"The column {excel}" if excel else hint)
        )
    notes = [
        f"{file}, column {column!r}: {p.message}" for p in report.problems if p.severity != "error"
    ]
    naive = (parsed.is_not_null() & ~offset_given(s)).to_list()
    out = parsed.to_list()
    if zone is not None and any(naive):
        places = [f"{where} {ln}" for ln in lines]
        out, more = to_utc(out, naive, zone, (file, column, places, values))
        notes += more
    return out, notes, sum(naive)


def _read_csv_rows(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows and the line each row starts on (quoted cells may span lines)."""
    return csv_rows(path, "export", duplicates_ok=True)  # Jira repeats Labels,Labels,...


def _pick(header: list[str], row: list[str], *names: str) -> str | None:
    """First non-empty value among columns named any of ``names`` (case-insensitive)."""
    low = [h.lower() for h in header]
    for name in names:
        for i, h in enumerate(low):
            if h == name.lower() and i < len(row) and row[i].strip():
                return row[i].strip()
    return None


def _all(header: list[str], row: list[str], name: str) -> list[str]:
    """Every non-empty value of a repeated column (Jira writes ``Labels,Labels,...``)."""
    return [
        row[i].strip()
        for i, h in enumerate(header)
        if h.lower() == name.lower() and i < len(row) and row[i].strip()
    ]


def _warn(notes: list[str]) -> None:
    """Warn each of ``notes``: read-time warnings (like a file that is not UTF-8), which the
    import's notes (``import.json``) also keep."""
    for n in notes:
        warnings.warn(n, CertkitWarning, stacklevel=3)


def _repeated_ids(what: str, file: Path, ids: list[str], wheres: list[str]) -> None:
    """Raise naming the lines/items of ids that appear more than once in one export."""
    at: dict[str, list[str]] = {}
    for i, w in zip(ids, wheres, strict=True):
        at.setdefault(i, []).append(w)
    twice = {i: ws for i, ws in at.items() if len(ws) > 1}
    if twice:
        shown = "; ".join(f"{i} ({', '.join(ws)})" for i, ws in list(twice.items())[:5])
        more = f" and {len(twice) - 5} more" if len(twice) > 5 else ""
        raise CertkitError(
            f"{what} {file}: {len(twice)} id(s) appear more than once: {shown}{more}. Ids must "
            "be unique: remove the repeated rows (pages of an API export that overlap?). "
            "Nothing was written"
        )


# ---------------------------------------------------------------------------------------------
# PagerDuty
# ---------------------------------------------------------------------------------------------


def _page_note(path: Path, data: dict, n: int) -> str | None:
    """A note when a JSON export is one page of a paginated API answer (``more: true``)."""
    if data.get("more") is not True:
        return None
    said = ", ".join(
        f"{k} {data[k]}" for k in ("offset", "limit", "total") if data.get(k) is not None
    )
    if data.get("next_cursor"):
        how = f"request the next page with cursor={data['next_cursor']}"
    elif data.get("last") and "offset" not in data:  # analytics: starting_after=<last>
        how = f"request the next page with starting_after={data['last']}"
    else:
        offset, limit = data.get("offset") or 0, data.get("limit") or n
        how = f"repeat GET /incidents with offset={offset + limit}, then offset+limit"
    return (
        f"PagerDuty export {path} is one page of several (more: true"
        + (f"; {said}" if said else "")
        + f"): only its {n} incident(s) are read. {how[0].upper() + how[1:]}... until 'more' "
        "is false, "
        "and pass every page (--pagerduty once per file) or one file holding all of them"
    )


def _pd_json(path: Path) -> tuple[list, list[str]]:
    try:
        data = json.loads(read_text(path, "PagerDuty export", legacy=False))
    except json.JSONDecodeError as exc:
        raise CertkitError(
            f"PagerDuty export {path}, line {exc.lineno}: not valid JSON ({exc.msg})"
        ) from None
    notes = []
    if isinstance(data, dict):
        page = data
        data = data.get("incidents", data.get("data"))
        note = _page_note(path, page, len(data)) if isinstance(data, list) else None
        notes += [note] if note else []
    if not isinstance(data, list):
        raise CertkitError(
            f"PagerDuty export {path}: expected a list of incidents, or an object with an "
            "'incidents' (REST GET /incidents) or 'data' (analytics) list"
        )
    return data, notes


def _summary(v) -> str | None:
    if isinstance(v, dict):
        return v.get("summary") or v.get("name")
    return None if v in (None, "") else str(v)


def _pagerduty(
    p: Path, link: str | LinkFile, zone: str | None = None
) -> tuple[Import, list[str], list[str]]:
    """The import of one PagerDuty export, where each row is (``item 3``, ``line 4``) and the
    notes that are warnings."""
    if not p.exists():
        raise CertkitError(f"PagerDuty export {p} does not exist")
    records: list[dict] = []
    lines: list[int] = []
    notes: list[str] = []
    if p.suffix.lower() == ".json":
        items, notes = _pd_json(p)
        for i, it in enumerate(items, start=1):
            if not isinstance(it, dict):
                raise CertkitError(f"PagerDuty export {p}, item {i}: expected a JSON object")
            records.append(
                {
                    "number": it.get("incident_number") or it.get("id"),
                    "created": it.get("created_at") or it.get("created_on"),
                    "resolved": it.get("resolved_at")
                    or (
                        it.get("last_status_change_at") if it.get("status") == "resolved" else None
                    ),
                    "severity": _summary(it.get("priority")) or _summary(it.get("urgency")),
                    "service": _summary(it.get("service")) or it.get("service_name"),
                    "text": " ".join(
                        str(it.get(k) or "") for k in ("title", "summary", "description")
                    ),
                }
            )
            lines.append(i)
        where = "item"
    else:
        header, rows, lines = _read_csv_rows(p)
        for row in rows:
            records.append(
                {
                    "number": _pick(header, row, "incident_number", "number", "id"),
                    "created": _pick(header, row, "created_at", "created_on", "created"),
                    "resolved": _pick(header, row, "resolved_at", "resolved_on", "resolved"),
                    "severity": _pick(header, row, "priority", "urgency"),
                    "service": _pick(header, row, "service_name", "service"),
                    "text": " ".join(
                        _pick(header, row, k) or "" for k in ("title", "summary", "description")
                    ),
                }
            )
        where = "line"
    for r, ln in zip(records, lines, strict=True):
        for f, col in (("number", "incident_number"), ("created", "created_at")):
            if not r[f]:
                raise CertkitError(f"PagerDuty export {p}, {where} {ln}: {col} is missing")
    created, more, n_created = _parse_dates(
        [str(r["created"]) for r in records], lines, p, "created_at", where, _PD_HINT, zone
    )
    notes += more
    resolved, more, n_resolved = _parse_dates(
        [None if r["resolved"] is None else str(r["resolved"]) for r in records],
        lines,
        p,
        "resolved_at",
        where,
        _PD_HINT,
        zone,
    )
    notes += more
    warns = list(notes)
    said = zone_note(p, n_created + n_resolved, zone, "PagerDuty")
    notes += [said] if said else []
    rows = [
        {
            "id": f"PD-{r['number']}",
            "_raw_id": str(r["number"]),
            "created_date": c,
            "resolution_date": rs,
            "severity": r["severity"],
            "service": r["service"],
        }
        for r, c, rs in zip(records, created, resolved, strict=True)
    ]
    notes += apply_link(rows, [r["text"] for r in records], link, p.name)
    wheres = [f"{where} {ln}" for ln in lines]
    imp = Import(incidents=frame(rows, _INCIDENT), notes=notes, sources=[f"pagerduty:{p}"])
    return imp, wheres, warns


def read_pagerduty(
    path: str | Path,
    *,
    link: str | Path | LinkFile = "pr_refs",
    timezone: str | None = None,
) -> Import:
    """Read a PagerDuty incident export (JSON or CSV) into certkit's incidents table.

    ``id`` is ``PD-<incident_number>``; ``severity`` is the priority (``P1``...) when set,
    else the urgency (``high``/``low``); ``service`` the service name. A JSON page of a
    paginated answer (``"more": true``) is read with a warning saying how to get every page.

    Parameters
    ----------
    link
        ``"pr_refs"``, ``"none"`` or a CSV mapping file (see module docstring).
    timezone
        IANA time zone (``Europe/Berlin``) of dates written without a UTC offset: they are
        read as local times there and converted to UTC
        (:mod:`certkit.connectors.timezones`). None (the default): read as UTC, with a note.
    """
    p = Path(path)
    link = as_link(link)
    imp, wheres, warns = _pagerduty(p, link, check_zone(timezone))
    _repeated_ids("PagerDuty export", p, imp.incidents["id"].to_list(), wheres)
    pre = link.notes if isinstance(link, LinkFile) else []
    imp.notes[:0] = pre
    _warn(pre + warns)
    return imp


# ---------------------------------------------------------------------------------------------
# Jira
# ---------------------------------------------------------------------------------------------


def _jira(
    p: Path,
    defect_types: tuple[str, ...],
    incident_types: tuple[str, ...],
    incident_label: str | None,
    link: str | LinkFile,
    not_defect: tuple[str, ...],
    zone: str | None = None,
) -> tuple[Import, list[str], list[str]]:
    """The import of one Jira export, the line of each row (defects, then incidents) and the
    notes that are warnings."""
    header, rows, lines = _read_csv_rows(p)
    low = {h.lower() for h in header}
    key_col = next((c for c in ("issue key", "key") if c in low), None)
    type_col = next((c for c in ("issue type", "issue_type", "issuetype") if c in low), None)
    created_col = next((c for c in ("created", "created_date") if c in low), None)
    if not (key_col and type_col and created_col):
        raise CertkitError(
            f"Jira export {p}: expected columns 'Issue key', 'Issue Type' and 'Created' (UI "
            "export) or key, issue_type, created_date (data pipeline); found "
            + ", ".join(header[:12])
            + ("..." if len(header) > 12 else "")
        )
    dtypes = {t.lower() for t in defect_types}
    itypes = {t.lower() for t in incident_types}
    dropped = {t.lower() for t in not_defect}
    kept: list[tuple[str, dict, str, int]] = []
    skipped = 0
    resolutions: dict[str, int] = {}
    for row, ln in zip(rows, lines, strict=True):
        key = _pick(header, row, key_col)
        if not key:
            raise CertkitError(f"Jira export {p}, line {ln}: '{key_col}' is empty")
        itype = (_pick(header, row, type_col) or "").lower()
        labels = [x.lower() for v in _all(header, row, "labels") for x in v.split()]
        if itype in itypes or (incident_label and incident_label.lower() in labels):
            kind = "incident"
        elif itype in dtypes:
            kind = "defect"
            resolution = _pick(header, row, "resolution") or ""
            if resolution.lower().replace("\u2019", "'") in dropped:
                resolutions[resolution] = resolutions.get(resolution, 0) + 1
                continue
        else:
            skipped += 1
            continue
        text = " ".join(
            row[i]
            for i, h in enumerate(header)
            if i < len(row)
            and (
                h.lower() in ("summary", "description")
                or h.lower().startswith(("custom field", "inward issue link", "outward issue link"))
            )
        )
        rec = {
            "id": key,
            "created": _pick(header, row, created_col),
            "resolved": _pick(header, row, "resolved", "resolution_date", "resolutiondate"),
            "severity": _pick(header, row, "priority", "severity", "custom field (severity)"),
            "service": _pick(header, row, "component/s", "components", "component"),
        }
        kept.append((kind, rec, text, ln))
    lines_kept = [k[3] for k in kept]
    created, warns, n_created = _parse_dates(
        [k[1]["created"] for k in kept], lines_kept, p, created_col, zone=zone
    )
    resolved, more, n_resolved = _parse_dates(
        [k[1]["resolved"] for k in kept], lines_kept, p, "Resolved", zone=zone
    )
    warns += more
    out: dict[str, list] = {"defect": [], "incident": []}
    texts: dict[str, list] = {"defect": [], "incident": []}
    wheres: dict[str, list] = {"defect": [], "incident": []}
    for (kind, rec, text, ln), c, r in zip(kept, created, resolved, strict=True):
        row = {
            "id": rec["id"],
            "created_date": c,
            "resolution_date": r,
            "severity": rec["severity"],
        }
        if kind == "incident":
            row["service"] = rec["service"]
        out[kind].append(row)
        texts[kind].append(text)
        wheres[kind].append(f"line {ln}")
    notes = [f"{p.name}: {skipped} issue(s) of other types skipped"] if skipped else []
    said = zone_note(p, n_created + n_resolved, zone, "Jira")
    notes += [said] if said else []
    if resolutions:
        counts = ", ".join(f"{n} {v!r}" for v, n in sorted(resolutions.items()))
        notes.append(
            f"{p.name}: {sum(resolutions.values())} defect(s) resolved as not a defect of their "
            f"own left out ({counts}): a duplicate or a report that was no bug would count a "
            "defect twice or for nothing"
        )
    if link != "none" and "description" not in low and kept:
        notes.append(
            f"{p.name}: no 'Description' column, so PR references were searched only in the "
            "summary, custom fields and issue links (export all fields, or name the column "
            "Description)"
        )
    for kind in out:
        notes += apply_link(out[kind], texts[kind], link, f"{p.name} ({kind}s)")
    imp = Import(
        defects=frame(out["defect"], _LINKED),
        incidents=frame(out["incident"], _INCIDENT),
        notes=warns + notes,
        sources=[f"jira:{p}"],
    )
    return imp, wheres["defect"] + wheres["incident"], warns


def read_jira(
    path: str | Path,
    *,
    defect_types: tuple[str, ...] = DEFECT_TYPES,
    incident_types: tuple[str, ...] = INCIDENT_TYPES,
    incident_label: str | None = "incident",
    link: str | Path | LinkFile = "pr_refs",
    not_defect: tuple[str, ...] = NOT_A_DEFECT,
    timezone: str | None = None,
) -> Import:
    """Read a Jira CSV export into certkit's defects and incidents tables.

    Parameters
    ----------
    defect_types, incident_types
        Issue types (case-insensitive) that are defects / incidents; other types are skipped.
    incident_label
        A label that makes any issue an incident (Four Keys convention); ``None`` to disable.
    link
        ``"pr_refs"``, ``"none"`` or a CSV mapping file (see module docstring).
    not_defect
        ``Resolution`` values (case-insensitive) of defects that are left out, with a note:
        a ``Duplicate`` or a ``Cannot Reproduce`` is no defect of its own. ``()`` keeps all.
    timezone
        IANA time zone (``Europe/Berlin``) of dates written without a UTC offset, as Jira's
        UI export writes them (in the exporting user's profile zone): read as local times
        there and converted to UTC (:mod:`certkit.connectors.timezones`). None (the
        default): read as UTC, with a note.
    """
    p = Path(path)
    link = as_link(link)
    zone = check_zone(timezone)
    imp, wheres, warns = _jira(
        p, defect_types, incident_types, incident_label, link, not_defect, zone
    )
    ids = imp.defects["id"].to_list() + imp.incidents["id"].to_list()
    _repeated_ids("Jira export", p, ids, wheres)
    pre = link.notes if isinstance(link, LinkFile) else []
    imp.notes[:0] = pre
    _warn(pre + warns)
    return imp


# ---------------------------------------------------------------------------------------------
# Several exports
# ---------------------------------------------------------------------------------------------


def read_exports(
    pagerduty: list[str | Path] | tuple = (),
    jira: list[str | Path] | tuple = (),
    *,
    link: str | Path | LinkFile = "pr_refs",
    not_defect: tuple[str, ...] = NOT_A_DEFECT,
    timezone: str | None = None,
) -> Import:
    """Read PagerDuty and Jira exports as one import (what ``certkit import --pagerduty
    --jira`` does).

    ``timezone`` (``--timezone``) is the IANA zone of every export's dates that carry no UTC
    offset (see :func:`read_jira`); dates with an offset keep it.

    One link file serves all exports: its ids that match no row of any of them, and its
    repeated ids, are named in notes (with the file's lines). An id that appears in two
    exports (the same incidents exported as JSON and as CSV) raises, naming both files and
    the lines or items. Read-time warnings (ambiguous dates, a paginated export, a file that is
    not UTF-8) are warned and kept in the import's notes.
    """
    link = as_link(link)
    zone = check_zone(timezone)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CertkitWarning)
        parts = []
        for path in pagerduty:
            parts.append((Path(path), "PagerDuty export", *_pagerduty(Path(path), link, zone)))
        for path in jira:
            p = Path(path)
            parts.append(
                (
                    p,
                    "Jira export",
                    *_jira(p, DEFECT_TYPES, INCIDENT_TYPES, "incident", link, not_defect, zone),
                )
            )
    seen: dict[str, tuple[Path, str]] = {}
    overlap: dict[tuple[Path, Path], list[str]] = {}
    for p, what, imp, wheres, _ in parts:
        ids = imp.defects["id"].to_list() + imp.incidents["id"].to_list()
        _repeated_ids(what, p, ids, wheres)
        for i, w in zip(ids, wheres, strict=True):
            if i in seen:
                q, qw = seen[i]
                overlap.setdefault((q, p), []).append(f"{i} ({qw}; {w})")
            else:
                seen[i] = (p, w)
    if overlap:
        (a, b), shown = next(iter(overlap.items()))
        more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
        raise CertkitError(
            f"{len(shown)} id(s) appear in both {a} and {b}: {', '.join(shown[:5])}{more}. "
            "The two exports overlap (the same incidents exported twice, e.g. as JSON and as "
            "CSV, or API pages that overlap): pass each incident once. Nothing was written"
        )
    imp = combine(*(part[2] for part in parts))
    warns = [w for part in parts for w in part[4]]
    if isinstance(link, LinkFile):
        unused = link.unused_note()
        imp.notes[:0] = link.notes + ([unused] if unused else [])
        warns[:0] = link.notes + ([unused] if unused else [])
    said = set(imp.notes)
    for w in caught:  # read_text's (a file that is not UTF-8): kept as notes too
        if issubclass(w.category, CertkitWarning) and str(w.message) not in said:
            imp.notes.append(str(w.message))
            warns.append(str(w.message))
        elif not issubclass(w.category, CertkitWarning):
            warnings.warn(w.message, w.category, stacklevel=2)
    _warn(warns)
    return imp
