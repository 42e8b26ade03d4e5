"""The data-health page's headline values (the answer box of notebook 01 and the landing)."""

from __future__ import annotations

from datetime import date

import polars as pl

from certkit.data import health
from certkit.data.panel_calendar import next_period_start, period_label
from certkit.data.repositories import uneven_ends, uneven_starts
from certkit.report.context import Context


def health_values(ctx: Context, approximated: pl.DataFrame | None = None) -> dict:
    """The data-health headline: coverage, validation findings, what is less reliable.

    ``approximated`` is :func:`certkit.data.dating.approximated_dates` of the data (merged
    PRs whose creation date git could only guess).
    """
    findings = ctx.ds.validation.to_polars()
    severity = (
        findings["severity"] if "severity" in findings.columns else pl.Series([], dtype=pl.String)
    )
    unreliable = []
    if approximated is not None and approximated.height:
        n = int(approximated["prs"].sum())
        unreliable.append(
            f"{n:,} merged PRs have a creation date approximated from git and are left out of "
            "cycle time"
        )
    unlisted = health.unlisted_authors(ctx.ds)
    if unlisted and unlisted["engineers"] / unlisted["of"] >= 0.2:
        unreliable.append(health.unlisted_words(unlisted))
    ends = ending_apart(ctx)
    if ends:
        unreliable.append(ends)
    starts = starting_apart(ctx)
    if starts:
        unreliable.append(starts)
    outside = outside_window_words(ctx)
    if outside:
        unreliable.append(outside)
    start, end = ctx.ds.period()
    return {
        "engineers": ctx.ds.human_engineers().height,
        "prs": ctx.ds.pull_requests.height,
        "period": f"{start} to {end}",
        "panel_end": panel_end_words(ctx, end),
        "errors": int((severity == "error").sum()),
        "warnings": int((severity == "warning").sum()),
        "notes": len(other_notes(ctx)),
        "unreliable": unreliable,
        "outside_window": outside,
        "ending_apart": ends,
        "starting_apart": starts,
    }


def panel_end_words(ctx: Context, end) -> str:
    """Where the estimates end when the panel leaves out the data's partial last period
    (trial Z: headers said "to 2026-08-22" above estimates that ended with July); empty
    otherwise."""
    if not ctx.panel.height or "period" not in ctx.panel.columns:
        return ""
    unit = ctx.period_unit
    last = ctx.panel["period"].max()
    after = next_period_start(last, unit)
    if end < after:
        return ""
    return (
        f"the estimates end with {period_label(last, unit)}: the data end on {end}, inside "
        f"{period_label(after, unit)}, which is left out as a partial {unit}"
    )


def outside_window_words(ctx: Context, min_share: float = 0.2) -> str:
    """What the panel loses to certifications outside the data's window: certified engineers
    left out for having no time before certifying, with their share of the merged PRs, and
    those certified after the data ends; empty when they are under ``min_share`` of the
    certified engineers (the data-health page lists every one). In a shared report a group
    under k is not counted. trial N: half the certifications predated a history; 6 of 11
    certified engineers and 56% of the PRs left the panel while the landing page said
    nothing."""
    found = health.certified_outside_window(ctx.ds, ctx.panel, ctx.period_unit)
    outside = found["early"] + found["departed"] + found["late"]
    certified = found["inside"] + outside
    if not certified or outside / certified < min_share:
        return ""
    unit, parts = ctx.period_unit, []

    def count(n: int) -> str:
        return f"{n:,} of {certified:,}" if n >= ctx.k else f"fewer than {ctx.k} of the"

    if found["early"]:
        prs = health.prs_outside_panel(ctx.ds, ctx.panel, unit)
        share = f" ({prs['left_out'] / prs['merged']:.0%})" if prs["merged"] else ""
        parts.append(
            f"{count(found['early'])} certified engineers were certified before or in their "
            f"first {unit} in the data and are left out of the panel with their "
            f"{prs['left_out']:,} of {prs['merged']:,} merged PRs{share}: no time before "
            "certifying (data from before their certifications would bring them in)"
        )
    if found["departed"]:
        parts.append(
            f"{count(found['departed'])} certified engineers left in or before the {unit} "
            "they certified in and are left out of the panel: no time after certifying"
        )
    if found["late"]:
        parts.append(
            f"{count(found['late'])} certified engineers were certified after the data's last "
            f"{unit} and count as never certified"
        )
    return "; ".join(parts)


def ending_apart(ctx: Context) -> str:
    """:func:`~certkit.data.repositories.uneven_ends` of every PR of the data (bots' too: they
    show a clone's last day) up to the report's ``end``: once the analysis ends when the first
    repository does, as the sentence advises, it is not said again (trial O)."""
    end = ctx.filters.get("to")
    return uneven_ends(ctx.full.pull_requests, until=date.fromisoformat(str(end)) if end else None)


def starting_apart(ctx: Context) -> str:
    """:func:`~certkit.data.repositories.uneven_starts` of every PR of the data from the
    report's ``start``, said when engineers of the roster work only in the later repositories
    (once the analysis starts when the last one does, it is not said again)."""
    start = ctx.filters.get("from")
    return uneven_starts(
        ctx.full.pull_requests,
        ctx.full.engineers,
        since=date.fromisoformat(str(start)) if start else None,
        opens=ctx.panel["period"].min() if ctx.panel.height else None,
    )


def import_notes(ctx: Context) -> list[str]:
    """The notes ``certkit import`` wrote in the data folder's ``import.json`` (reverts that
    name no PR, direct pushes, AI use said only in words, identities to check ...): on no
    page before (trial AA: "The import's 9 notes are on no page"). Empty for data that no
    import wrote, or an unreadable file."""
    import json
    from pathlib import Path

    path = Path(str(getattr(ctx.full, "source", ""))) / "import.json"
    try:
        notes = json.loads(path.read_text("utf-8")).get("notes") or []
    except (OSError, ValueError, AttributeError):
        return []
    return [str(n) for n in notes if n]


def import_notes_display(ctx: Context) -> str:
    """The import's notes as the data-health page shows them, as HTML: every one in a private
    report; in a shared report only how many (they name people and e-mails outside the roster,
    which the shared report's redaction cannot all know)."""
    import html

    notes = import_notes(ctx)
    if not notes:
        return "<p>No notes from an import (the data folder has no <code>import.json</code>).</p>"
    if ctx.privacy.share:
        return (
            f"<p>The import wrote {len(notes)} note(s) on how it read the data (reverts, direct "
            "pushes, identities, AI traces); they name people, so only the private report "
            "shows them.</p>"
        )
    return "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"


def other_notes(ctx: Context) -> list[str]:
    """The notes from loading and building the panel that are not validation findings (those
    are counted as errors and warnings beside them; trial O: "2 warning(s); 3 note(s)" counted
    the two warnings twice)."""
    problems = ctx.full.validation.problems
    said = {p.format() for p in problems} | {p.format(rows=False) for p in problems}
    return [n for n in ctx.notes if n not in said]
