"""How incidents and defects are linked to the PR or engineer that caused them.

- :func:`pr_refs` / :func:`pick_ref`: PR references in a ticket's text, in text order; the
  reference chosen is the first one, except that a reference introduced by fix words
  ("fixed by", "fix:", "resolved by", ...) is passed over when another is introduced by
  cause words ("caused by", "introduced in", "regression from", ...).
- :class:`LinkFile`: the analyst's own mapping (``id,pr_id,engineer_id``), which overrides the
  rows it names; the others keep their text links.
- :func:`resolve_links`: once the PRs are known, references are matched to PR ids without
  regard to case (GitHub's owner/name are case-insensitive), and notes say which references
  match no PR and which rows name an engineer other than their PR's author.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from certkit.data.textio import csv_rows
from certkit.errors import CertkitError

_REF = re.compile(
    r"github\.com/(?P<url>[\w.-]+/[\w.-]+)/pull/(?P<un>\d+)"
    r"|(?<![\w/.-])(?P<ref>[\w.-]+/[\w.-]+)#(?P<rn>\d+)\b",
    re.IGNORECASE,
)
#: Words that introduce the PR that caused a problem ...
CAUSE_WORDS = re.compile(
    r"\b(?:caused\s+by|introduced\s+(?:by|in)|regression\s+(?:from|in|by)|broken?\s+(?:in|by))\b",
    re.IGNORECASE,
)
#: ... and the PR that fixed it (Jira's development panel and bug write-ups link fixes).
FIX_WORDS = re.compile(
    r"\b(?:fixed\s+(?:by|in|via)|fix(?:es)?\s*:|fix\s+(?:by|in)|resolved\s+(?:by|in)"
    r"|closed\s+by)",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[.!?;]\s|\n")


def _mentions(text: str | None) -> list[tuple[str, str]]:
    """Every PR reference of a text in text order, with the words that introduce it:
    ``(owner/repo#N, "cause" | "fix" | "")``."""
    if not text:
        return []
    out, prev = [], 0
    for m in _REF.finditer(text):
        repo, n = (m.group("url"), m.group("un")) if m.group("url") else (m["ref"], m["rn"])
        before = text[prev : m.start()]
        ends = list(_CLAUSE_END.finditer(before))
        clause = before[ends[-1].end() :] if ends else before
        words = [(w.start(), "cause") for w in CAUSE_WORDS.finditer(clause)]
        words += [(w.start(), "fix") for w in FIX_WORDS.finditer(clause)]
        out.append((f"{repo}#{n}", max(words)[1] if words else ""))
        prev = m.end()
    return out


def pr_refs(text: str | None) -> list[str]:
    """PR ids (``owner/repo#12``) mentioned in a text, in text order, without repeats.

    Both ``github.com/owner/repo/pull/12`` URLs and ``owner/repo#12`` references count, as
    written (:func:`resolve_links` matches them to PR ids regardless of case).
    """
    return list(dict.fromkeys(ref for ref, _ in _mentions(text)))


def pick_ref(text: str | None) -> str | None:
    """The PR a ticket's text names as its cause: the first reference in text order, except
    that references introduced by fix words (:data:`FIX_WORDS`) are passed over when another
    is introduced by cause words (:data:`CAUSE_WORDS`). A text naming only fixes keeps its
    first reference."""
    found = _mentions(text)
    if any(kind == "cause" for _, kind in found):
        found = [(ref, kind) for ref, kind in found if kind != "fix"]
    return found[0][0] if found else None


@dataclass
class LinkFile:
    """The analyst's mapping ``id,pr_id,engineer_id`` (e.g. from post-incident reviews).

    ``rows``: id -> (pr_id, engineer_id, line); ``used``: the ids some export's row matched
    (filled while reading); ``notes``: what reading the file found (repeated ids).
    """

    path: Path
    rows: dict[str, tuple[str | None, str | None, int]]
    used: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def unused_note(self) -> str | None:
        """A note naming the mapping ids no export row matched (with their lines)."""
        unused = [(i, r[2]) for i, r in self.rows.items() if i not in self.used]
        if not unused:
            return None
        shown = ", ".join(f"{i!r} (line {ln})" for i, ln in unused[:5])
        more = f" and {len(unused) - 5} more" if len(unused) > 5 else ""
        return (
            f"link file {self.path}: {len(unused)} id(s) match no incident or defect of the "
            f"exports read: {shown}{more}; ignored (a typo, or an export left out?)"
        )


def read_link_file(path: str | Path) -> LinkFile:
    """Read a link file; a repeated id keeps its last row, with a note naming the lines."""
    p = Path(path)
    header, rows, lines = csv_rows(p, "link file")
    cols = [h.strip().lower() for h in header]
    if "id" not in cols or not {"pr_id", "engineer_id"} & set(cols):
        raise CertkitError(
            f"link file {p}: expected columns id and pr_id and/or engineer_id; "
            f"found {', '.join(sorted(cols)) or 'none'}"
        )
    out: dict[str, tuple[str | None, str | None, int]] = {}
    seen: dict[str, list[int]] = {}
    for row, ln in zip(rows, lines, strict=True):
        cell = {c: (row[i].strip() or None) if i < len(row) else None for i, c in enumerate(cols)}
        if not cell["id"]:
            continue
        seen.setdefault(cell["id"], []).append(ln)
        out[cell["id"]] = (cell.get("pr_id"), cell.get("engineer_id"), ln)
    twice = {i: ls for i, ls in seen.items() if len(ls) > 1}
    notes = []
    if twice:
        shown = "; ".join(
            f"{i!r} on lines {', '.join(map(str, ls))}" for i, ls in list(twice.items())[:5]
        )
        more = f" and {len(twice) - 5} more" if len(twice) > 5 else ""
        notes.append(
            f"link file {p}: {len(twice)} id(s) appear more than once ({shown}{more}); "
            "the last row of each is used"
        )
    return LinkFile(p, out, notes=notes)


def as_link(link: str | Path | LinkFile) -> str | LinkFile:
    """``"pr_refs"``, ``"none"`` or a :class:`LinkFile` (read from a path)."""
    if isinstance(link, LinkFile) or (isinstance(link, str) and link in ("none", "pr_refs")):
        return link
    return read_link_file(link)


def apply_link(rows: list[dict], texts: list[str], link: str | LinkFile, source: str) -> list[str]:
    """Set ``pr_id``/``engineer_id``/``pr_ref`` on ``rows``; notes on a link file's use.

    With a link file, the rows it names take its values (both columns, empty ones too);
    the others keep the reference their text names (:func:`pick_ref`).
    """
    n_file = n_text = 0
    for row, text in zip(rows, texts, strict=True):
        raw = row.pop("_raw_id", None)
        hit = None
        if isinstance(link, LinkFile):
            key = row["id"] if row["id"] in link.rows else raw if raw in link.rows else None
            if key is not None:
                link.used.add(key)
                hit = link.rows[key]
        if hit is not None:
            row["pr_id"], row["engineer_id"] = hit[0], hit[1]
            n_file += 1
        elif link != "none":
            row["pr_id"] = pick_ref(text)
            n_text += row["pr_id"] is not None
        row["pr_ref"] = row.get("pr_id")
    if not isinstance(link, LinkFile) or not rows:
        return []
    rest = len(rows) - n_file - n_text
    return [
        f"{source}: {n_file} row(s) linked by the link file {link.path.name}, {n_text} by a PR "
        f"reference in their text (rows the file does not name keep their text links), "
        f"{rest} with neither"
    ]


def _examples(df: pl.DataFrame, mask: pl.Expr, fmt) -> str:
    rows = df.filter(mask)
    shown = ", ".join(fmt(r) for r in rows.head(5).iter_rows(named=True))
    return shown + (f" and {rows.height - 5} more" if rows.height > 5 else "")


def _by_lower(ids) -> dict[str, str | None]:
    """Each id by its lower-case form; None where two ids differ only by case (no guess)."""
    lower: dict[str, str | None] = {}
    for i in ids:
        lower[i.lower()] = None if i.lower() in lower else i
    return lower


def resolve_links(imp) -> list[str]:
    """Match defect/incident ``pr_id`` to the import's PR ids regardless of case, and notes
    on the references that match none and the rows naming an engineer other than their PR's
    author. ``imp`` (an :class:`~certkit.connectors.base.Import`) is updated in place."""
    prs = imp.pull_requests
    ids = set(prs["id"].drop_nulls().to_list())
    lower = _by_lower(ids)
    author = dict(zip(prs["id"].to_list(), prs["author_id"].to_list(), strict=True))
    notes = []
    for name, what in (("defects", "defect"), ("incidents", "incident")):
        df = getattr(imp, name)
        if not df.height or "pr_id" not in df.columns:
            continue
        fixed = {
            p: lower[p.lower()]
            for p in df["pr_id"].drop_nulls().unique().to_list()
            if p not in ids and lower.get(p.lower())
        }
        if fixed:
            df = df.with_columns(pl.col("pr_id").replace(fixed))
        ref = "pr_ref" if "pr_ref" in df.columns else "pr_id"
        missing = pl.col("pr_id").is_not_null() & ~pl.col("pr_id").is_in(list(ids))
        n_missing = df.filter(missing).height
        if n_missing:
            kept = " (kept in column pr_ref)" if ref == "pr_ref" else ""
            shown = _examples(df, missing, lambda r, ref=ref: f"{r['id']} ({r[ref]})")
            notes.append(
                f"{n_missing} {what}(s) name a PR that is not in the import: {shown}; they "
                f"count as unlinked (organisation totals only). The reference{kept} may be a "
                "typo, another repository's PR, or a PR outside the history read"
            )
        if "engineer_id" in df.columns:
            df = df.with_columns(
                pl.col("pr_id").replace_strict(author, default=None).alias("_author")
            )
            differ = (
                pl.col("engineer_id").is_not_null()
                & pl.col("_author").is_not_null()
                & (pl.col("engineer_id") != pl.col("_author"))
            )
            n_differ = df.filter(differ).height
            if n_differ:
                shown = _examples(
                    df,
                    differ,
                    lambda r: f"{r['id']}: {r['engineer_id']}, PR {r['pr_id']} by {r['_author']}",
                )
                notes.append(
                    f"{n_differ} {what}(s) name both a PR and an engineer who is not its "
                    f"author ({shown}): the named engineer is counted (a post-incident review "
                    "names who), not the PR's author"
                )
            df = df.drop("_author")
        setattr(imp, name, df)
    return notes


def named_engineers(imp, engineer_ids: set[str], identities) -> list[str]:
    """Map the ``engineer_id`` a defect or incident row names (a link file's) to an engineer:
    through the identity file's aliases, else the one engineer id equal but for case; the
    rows that still name nobody keep their value (validation warns). ``imp`` is updated in
    place; returns a note counting the rows mapped. trial E: ``florimond.manca@...`` (an
    identity-file alias) and ``TomChristie`` (``tomchristie``) were "not found; link
    ignored"."""
    lower = _by_lower(engineer_ids)
    mapped, notes = {}, []
    for name in ("defects", "incidents"):
        df = getattr(imp, name)
        if not df.height or "engineer_id" not in df.columns:
            continue
        for value in df["engineer_id"].drop_nulls().unique().to_list():
            if value in engineer_ids or value in mapped:
                continue
            found = identities.resolve(
                email=value if "@" in value else None, login=value, name=value
            )
            found = found if found in engineer_ids else lower.get(value.strip().lower())
            if found:
                mapped[value] = found
        if mapped:
            setattr(imp, name, df.with_columns(pl.col("engineer_id").replace(mapped)))
    if mapped:
        shown = ", ".join(f"{a} -> {b}" for a, b in list(mapped.items())[:3])
        notes.append(
            f"{len(mapped)} engineer id(s) named by defect or incident rows were read as the "
            f"engineer they stand for (identity-file aliases, or the same id in another case): "
            f"{shown}"
        )
    return notes
