"""Incidents and defects from PagerDuty and Jira exports.

- :func:`read_pagerduty`: ``GET /incidents`` JSON (``{"incidents": [...]}``), analytics raw
  incidents (``{"data": [...]}``), a plain JSON list, or a CSV export (``incident_number``,
  ``created_at``/``created_on``, ``resolved_at``, ``urgency``, ``priority``, ``service_name``...).
- :func:`read_jira`: Jira's "Export CSV (all fields)" (repeated column names such as
  ``Labels,Labels`` are joined, ``Custom field (...)`` columns searched for PR links, locale dates
  such as ``14/Jul/25 3:42 PM`` parsed) or the Data Center data-pipeline export. Issue types
  map to defects (``Bug``) or incidents (``Incident``, or the label ``incident``).

Linking to the PR or engineer that caused the row (``link=``):

- ``"pr_refs"`` (default): PR URLs (``github.com/o/r/pull/12``) or ``o/r#12`` references in
  the title, description and custom fields become ``pr_id`` = ``o/r#12`` (the id the git and
  GitHub connectors use);
- a CSV file with ``id`` and ``pr_id`` and/or ``engineer_id`` columns (your own mapping, e.g.
  from post-incident reviews);
- ``"none"``: rows stay unlinked and count in organisation totals only.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import polars as pl

from certkit.connectors.base import INCIDENT_SCHEMA, LINKED_SCHEMA, Import, frame
from certkit.data.read import parse_datetime as _parse_datetime
from certkit.data.textio import csv_rows, excel_serial_hint, read_text
from certkit.data.validate import Collector as _Collector
from certkit.data.validate import ValidationReport
from certkit.errors import CertkitError

_PR_URL = re.compile(r"github\.com/([\w.-]+/[\w.-]+)/pull/(\d+)")
_PR_REF = re.compile(r"(?<![\w/.-])([\w.-]+/[\w.-]+)#(\d+)\b")
DEFECT_TYPES = ("bug", "defect")
INCIDENT_TYPES = ("incident",)


def pr_refs(text: str | None) -> list[str]:
    """PR ids (``owner/repo#12``) mentioned in a text, in order, without repeats."""
    if not text:
        return []
    found = [f"{r}#{n}" for r, n in _PR_URL.findall(text)] + [
        f"{r}#{n}" for r, n in _PR_REF.findall(text)
    ]
    return list(dict.fromkeys(found))


def _read_link_file(path: Path) -> dict[str, dict]:
    rows = list(csv.DictReader(io.StringIO(read_text(path, "link file"))))
    cols = {c.strip().lower() for c in (rows[0].keys() if rows else [])}
    if "id" not in cols or not {"pr_id", "engineer_id"} & cols:
        raise CertkitError(
            f"link file {path}: expected columns id and pr_id and/or engineer_id; "
            f"found {', '.join(sorted(cols)) or 'none'}"
        )
    out = {}
    for r in rows:
        r = {k.strip().lower(): (v or "").strip() or None for k, v in r.items()}
        out[r["id"]] = {"pr_id": r.get("pr_id"), "engineer_id": r.get("engineer_id")}
    return out


def _linker(link: str | Path):
    if isinstance(link, str) and link in ("none", "pr_refs"):
        return link, None
    return "file", _read_link_file(Path(link))


def _apply_link(rows: list[dict], texts: list[str], link: str | Path) -> None:
    mode, table = _linker(link)
    for row, text in zip(rows, texts, strict=True):
        if mode == "pr_refs":
            refs = pr_refs(text)
            row["pr_id"] = refs[0] if refs else None
        elif mode == "file":
            hit = table.get(row["id"]) or table.get(row.get("_raw_id") or "") or {}
            row["pr_id"] = hit.get("pr_id")
            row["engineer_id"] = hit.get("engineer_id")
        row.pop("_raw_id", None)


def _parse_dates(values: list[str | None], lines: list[int], file: Path, column: str):
    """Parse a date column with certkit's loader rules; errors name file, line and column."""
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
        shown = ", ".join(f"line {ln} ({v!r})" for ln, v in bad[:5])
        hint = excel_serial_hint([v for _, v in bad])
        raise CertkitError(
            f"{file}, column {column!r}: {len(bad)} value(s) are not dates: {shown}. "
            + (
                f"The column {hint}"
                if hint
                else "Expected ISO 8601 (2025-03-31T14:05:00Z) or one export format "
                "throughout (e.g. Jira's 14/Jul/25 3:42 PM)"
            )
        )
    return parsed.to_list()


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


# ---------------------------------------------------------------------------------------------
# PagerDuty
# ---------------------------------------------------------------------------------------------


def _pd_json(path: Path) -> list[dict]:
    try:
        data = json.loads(read_text(path, "PagerDuty export", legacy=False))
    except json.JSONDecodeError as exc:
        raise CertkitError(
            f"PagerDuty export {path}, line {exc.lineno}: not valid JSON ({exc.msg})"
        ) from None
    if isinstance(data, dict):
        data = data.get("incidents", data.get("data"))
    if not isinstance(data, list):
        raise CertkitError(
            f"PagerDuty export {path}: expected a list of incidents, or an object with an "
            "'incidents' (REST GET /incidents) or 'data' (analytics) list"
        )
    return data


def _summary(v) -> str | None:
    if isinstance(v, dict):
        return v.get("summary") or v.get("name")
    return None if v in (None, "") else str(v)


def read_pagerduty(path: str | Path, *, link: str | Path = "pr_refs") -> Import:
    """Read a PagerDuty incident export (JSON or CSV) into certkit's incidents table.

    ``id`` is ``PD-<incident_number>``; ``severity`` is the priority (``P1``...) when set,
    else the urgency (``high``/``low``); ``service`` the service name.
    """
    p = Path(path)
    if not p.exists():
        raise CertkitError(f"PagerDuty export {p} does not exist")
    records: list[dict] = []
    lines: list[int] = []
    if p.suffix.lower() == ".json":
        for i, it in enumerate(_pd_json(p), start=1):
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
    created = _parse_dates([str(r["created"]) for r in records], lines, p, "created_at")
    resolved = _parse_dates(
        [None if r["resolved"] is None else str(r["resolved"]) for r in records],
        lines,
        p,
        "resolved_at",
    )
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
    _apply_link(rows, [r["text"] for r in records], link)
    return Import(incidents=frame(rows, INCIDENT_SCHEMA), sources=[f"pagerduty:{p}"])


# ---------------------------------------------------------------------------------------------
# Jira
# ---------------------------------------------------------------------------------------------


def read_jira(
    path: str | Path,
    *,
    defect_types: tuple[str, ...] = DEFECT_TYPES,
    incident_types: tuple[str, ...] = INCIDENT_TYPES,
    incident_label: str | None = "incident",
    link: str | Path = "pr_refs",
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
    """
    p = Path(path)
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
    kept: list[tuple[str, dict, str, int]] = []
    skipped = 0
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
    created = _parse_dates([k[1]["created"] for k in kept], lines_kept, p, created_col)
    resolved = _parse_dates([k[1]["resolved"] for k in kept], lines_kept, p, "Resolved")
    out: dict[str, list] = {"defect": [], "incident": []}
    texts: dict[str, list] = {"defect": [], "incident": []}
    for (kind, rec, text, _), c, r in zip(kept, created, resolved, strict=True):
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
    for kind in out:
        _apply_link(out[kind], texts[kind], link)
    notes = [f"{p.name}: {skipped} issue(s) of other types skipped"] if skipped else []
    return Import(
        defects=frame(out["defect"], LINKED_SCHEMA),
        incidents=frame(out["incident"], INCIDENT_SCHEMA),
        notes=notes,
        sources=[f"jira:{p}"],
    )
