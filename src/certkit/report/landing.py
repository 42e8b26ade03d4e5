"""The answer first: headline records written by the notebooks, and the landing page.

Each report notebook records the numbers it leads with through one call,
:meth:`certkit.report.Context.headline`, which appends a small JSON record to
``<notebook>.headlines.json`` next to the executed notebook. This module turns those
records into sentences, for the notebook's own "answer first" box
(:meth:`certkit.report.Context.answer`) and for the landing page ``index.html``.

The landing page never computes a number: it only formats what the notebooks recorded (and
compares recorded intervals to say whether designs agree), so its numbers are the detail
pages' numbers. In a shared report the notebooks record only what they show.

Record kinds
------------
``effect``
    One outcome estimated by one design: ``outcome``, ``label``, ``design``, ``role``
    (``primary``, ``check`` or ``robustness``), ``comparison`` (the comparison group, in
    words), ``estimate``, ``ci_low``, ``ci_high``, ``p_value``, ``relative``,
    ``relative_low``, ``relative_high``, ``lower_better``, ``n`` (certified engineers) and
    ``note`` (why it was not estimated) with ``needs``.
``sensitivity``
    A sentence-level robustness result for an outcome (``outcome``, ``design``, ``text``):
    the hook later robustness and trend-sensitivity analyses fill.
``roi``, ``ai``, ``health``
    The ROI interval and P(ROI > 0), the AI headline, the data-health line.
``text``
    A generated sentence (``label``, ``text``) shown under ``topic`` (``roi``, ``ai`` or
    ``health``), e.g. the AI adoption page's effect summaries.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import polars as pl

from certkit.narrative import (  # noqa: F401 (agreement, status: re-exported)
    adoption_trend,
    adoption_words,
    agreement,
    agreement_notes,
    ai_gap_line,
    ai_gap_words,
    ai_gaps,
    percent_words,
    status,
    withheld,
)

#: File suffix of a notebook's headline records, next to its executed ``.ipynb``.
SUFFIX = ".headlines.json"
#: Environment variable the runner sets to the file a notebook writes its records to.
ENV = "CERTKIT_HEADLINES"


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def clean(value: Any) -> Any:
    """JSON-safe copy: numpy scalars become Python numbers, NaN and infinity become None."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def write(path: str | Path, records: list[dict]) -> None:
    """Write ``records`` to ``path`` (atomically)."""
    path = Path(path)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"records": records}, indent=1), encoding="utf-8")
    tmp.replace(path)


def read(path: str | Path) -> list[dict]:
    """The records of one notebook (empty when the file is missing or unreadable)."""
    try:
        return list(json.loads(Path(path).read_text(encoding="utf-8"))["records"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def anchor(heading: str) -> str:
    """The HTML id nbconvert gives a markdown heading (spaces become dashes)."""
    return heading.strip().replace(" ", "-")


# --- sentences --------------------------------------------------------------------------


def effect_size(r: dict) -> str:
    """``about 13% lower (95% CI -19% to -7%)``: the numbers of an effect record; in the
    outcome's unit, with the level before certification when there is no percent (trial N:
    "-0.0768 PRs" beside another design's "about 17% higher" could not be compared)."""
    rel, rl, rh = r.get("relative"), r.get("relative_low"), r.get("relative_high")
    if _num(rel) and _num(rl) and _num(rh):
        direction = "lower" if rel < 0 else "higher"
        return f"about {abs(rel):.0%} {direction} (95% CI {rl:+.0%} to {rh:+.0%})"
    unit = f" {r['unit']}" if r.get("unit") else ""
    base = r.get("baseline")
    base = f"; {base:.3g} before certification" if _num(base) else ""
    return f"{r['estimate']:+.3g}{unit} (95% CI {r['ci_low']:+.3g} to {r['ci_high']:+.3g}{base})"


def effect_text(r: dict) -> str:
    """One effect record in words (its reason when it was not estimated).

    A caveat qualifies a clear effect ("but") and explains an unclear one ("and": a matched
    DiD on 2 poorly balanced pairs read as one more design on no change, trial I), as the
    page's summary says it (:func:`certkit.narrative.effects.summarize`)."""
    s = status(r)
    if s == "not estimated":
        why = (r.get("note") or "the estimate is not a finite number").rstrip(".")
        needs = r.get("needs") if r.get("needs") and "it needs" not in why else None
        needs = f"; it needs {needs.rstrip('.')}" if needs else ""
        return f"not estimated: {why}{needs}"
    verdict = "not distinguishable from no change" if s == "no clear change" else f"an {s}"
    if s == "deterioration":
        verdict = "a deterioration"
    if r.get("caveat") and r.get("not_evidence") and s != "no clear change":
        return (
            f"{effect_size(r)}; {verdict} on the numbers only, not evidence of an effect: "
            + (r["caveat"])
        )
    if r.get("caveat"):
        verdict += f"{', but' if s != 'no clear change' else ', and'} {r['caveat']}"
    return f"{effect_size(r)}; {verdict}"


def roi_text(r: dict) -> str:
    """The ROI record in words."""
    if r.get("note"):
        return f"no ROI estimate: {r['note'].rstrip('.')}"
    interval = f"95% interval {r['low']:+.0%} to {r['high']:+.0%}"
    if r.get("significant", True):
        text = f"median ROI {r['median']:+.0%} ({interval})"
    elif r.get("not_evidence"):  # clear effects their own caveats undo (trial V)
        text = (
            f"ROI {interval}, resting on effects that are clear on the numbers only, not evidence"
        )
    else:  # no effect behind it is distinguishable from zero: no single figure (analytics.md)
        text = f"ROI {interval}, resting on effects not distinguishable from zero"
    # as the ROI page says it: "under 1%", not a rounded 0% (trial N)
    text += f"; chance of a positive return {percent_words(r['p_positive'])}"
    if _num(r.get("cost_per_engineer")):
        text += f"; median cost per certified engineer about ${r['cost_per_engineer']:,.0f}"
    if _num(r.get("horizon_months")):
        # the ROI notebook prices monthly effects, whatever the report's period (trial AF:
        # a weekly report's index showed it, unlabelled, under weekly effects)
        text += (
            f"; priced on the monthly effects, benefits counted over {r['horizon_months']:g} months"
        )
    if r.get("caveat"):
        text += f". {r['caveat'].rstrip('.')}"
    return text


def ai_lines(r: dict) -> list[str]:
    """The AI record in words: one line per compared outcome, adoption, fix-first."""
    lines = []
    for row in r.get("rows", []):
        if not _num(row.get("relative")) and not _num(row.get("estimate")):
            lines.append(f"{row['label']}: could not be estimated (no finite estimate)")
            continue
        size, verdict = ai_gap_line(row)
        if verdict == "too few to compare":
            lines.append(f"{row['label']}: {size}: too few to compare")
            continue
        lines.append(f"{row['label']}: {size} ({verdict})")
    if r.get("comparison_note"):
        lines.append(f"AI-assisted vs other PRs: not estimated: {r['comparison_note']}")
    if _num(r.get("adoption_first")) and _num(r.get("adoption_last")):
        lines.append(f"adoption: {adoption_words(r)}")
    elif r.get("adoption_note"):
        lines.append(f"adoption: not shown: {r['adoption_note']}")
    if _num(r.get("flagged")):
        lines.append(
            f"fix first: {r['flagged']} team x repository cell(s) with a measurably higher "
            "defect rate on AI-assisted work"
        )
    return lines


def health_text(r: dict) -> str:
    """The data-health record in words."""
    parts = [
        f"{r['engineers']:,} engineers, {r['prs']:,} pull requests, {r['period']}",
        f"validation: {r['errors']} error(s), {r['warnings']} warning(s)",
    ]
    if r.get("panel_end"):
        parts.append(r["panel_end"])
    if r.get("notes"):
        parts.append(f"{r['notes']} note(s) from loading and building the panel")
    for item in r.get("unreliable", []):
        parts.append(f"less reliable: {item}")
    return "; ".join(parts)


def ai_values(
    comparison: pl.DataFrame | None,
    adoption: pl.DataFrame | None,
    flagged: int | None,
    skipped: dict[str, str],
    labels: dict[str, tuple[str, bool | None, bool]],
    events: dict[str, dict] | None = None,
) -> dict:
    """The AI headline values from the tables the AI page shows (as its summary reads them).

    ``labels`` is ``certkit.report.story.AI_LABELS`` (outcome -> label, lower better, log).
    """
    gaps = ai_gaps(comparison, labels, events=events)
    rows = [{k: v for k, v in gap.items() if k != "raw"} for gap in gaps]
    out: dict[str, Any] = {"rows": rows, "flagged": flagged}
    if "comparison" in skipped:
        out["comparison_note"] = skipped["comparison"]
    if "adoption" in skipped:
        out["adoption_note"] = skipped["adoption"]
    out |= adoption_trend(adoption) or {}
    return clean(out)


# --- HTML --------------------------------------------------------------------------------

_E = html.escape


def _link(href: str | None, text: str = "details") -> str:
    return f' <a class="certkit-more" href="{_E(href)}">{_E(text)}</a>' if href else ""


def _href(page: str | None, r: dict) -> str | None:
    if page is None:
        return "#" + anchor(r["section"]) if r.get("section") else None
    return page + ("#" + anchor(r["section"]) if r.get("section") else "")


#: The words of a sentence that undoes the one before it: a short answer keeps it (trial AH:
#: page 02's box kept "... +2.38 PRs (95% CI +0.74 to +4.02)." without "Its standard error
#: is not reliable ...").
_UNDOING = ("not reliable", "cannot be read", "rest on as few as", "rests on only")


def _first_sentences(text: str, n: int = 2) -> str:
    """The first ``n`` sentences of a generated summary (the detail page has the rest), and
    the next when it undoes them (:data:`_UNDOING`)."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text.strip())
    undone = len(parts) > n and any(w in parts[n] for w in _UNDOING)
    return " ".join(parts[: n + undone])


def render(records: list[dict], page: str | None = None, *, short: bool = False) -> str:
    """HTML sentences for one notebook's records (its "answer first" box).

    ``page`` is the detail page's file name (links go there); ``None`` links within the page.
    ``short`` keeps only the first sentence of a robustness check (its section has the rest),
    and the second when it undoes the first.
    """
    items = []
    for r in records:
        href = _href(page, r)
        key = _E(r.get("key", ""))
        if r["kind"] == "effect":
            items.append(
                f'<li data-key="{key}"><b>{_E(r["label"])}</b> ({_E(r["design"])}): '
                f"{_E(effect_text(r))}{_link(href)}</li>"
            )
        elif r["kind"] == "sensitivity":
            items.append(
                f'<li data-key="{key}"><b>{_E(r["label"])}</b> ({_E(r["design"])}): '
                f"{_E(_first_sentences(r['text'], 1) if short else r['text'])}{_link(href)}</li>"
            )
        elif r["kind"] == "roi":
            items.append(f'<li data-key="{key}"><b>ROI</b>: {_E(roi_text(r))}{_link(href)}</li>')
        elif r["kind"] == "ai":
            for line in ai_lines(r) or ["nothing to compare"]:
                items.append(f'<li data-key="{key}"><b>AI</b>: {_E(line)}{_link(href)}</li>')
        elif r["kind"] == "text":
            text = _E(_first_sentences(r["text"]))
            items.append(f'<li data-key="{key}"><b>{_E(r["label"])}</b>: {text}{_link(href)}</li>')
        elif r["kind"] == "health":
            items.append(
                f'<li data-key="{key}"><b>Data</b>: {_E(health_text(r))}{_link(href)}</li>'
            )
    return "<ul class='certkit-answer'>" + "".join(items) + "</ul>" if items else ""


def estimated(r: dict) -> bool:
    """True when a record carries an estimate (not only the reason it could not be made)."""
    if r["kind"] == "effect":
        return status(r) != "not estimated"
    if r["kind"] == "roi":
        return not r.get("note")
    if r["kind"] == "ai":
        return any(_num(row.get("relative")) for row in r.get("rows", []))
    return not r.get("note")


def _shows_data(r: dict) -> bool:
    """True when a record without an estimate still shows numbers from the data: an AI
    record's counts of a comparison too small to make, its adoption trend or fix-first
    cells; a data-health record."""
    if r["kind"] == "health":
        return True
    if r["kind"] != "ai":
        return False
    rows = r.get("rows", [])
    return (
        any(_num(row.get("estimate")) for row in rows)
        or (_num(r.get("adoption_first")) and _num(r.get("adoption_last")))
        or _num(r.get("flagged"))
    )


#: HTML id of a detail page's answer box (the first entry of its table of contents).
ANSWER_ID = "certkit-answer"


def answer_box(records: list[dict], skipped: list[tuple[str, str]] | tuple = ()) -> str:
    """A detail page's "The answer" box, from the page's own headline records.

    The lines are :func:`render`'s (the landing page's sentences, linked to the page's
    sections); robustness and sensitivity checks are folded under one line, with the first
    sentence of each. When none of the records carries an estimate the box says so first; each
    line then gives the reason recorded for it. A page that recorded nothing lists instead
    the explanations its skipped sections showed (``skipped``: ``(section heading, text)``,
    see :func:`certkit.report.sections.explain`).
    """
    main = [r for r in records if r["kind"] != "sensitivity"]
    checks = [r for r in records if r["kind"] == "sensitivity"]
    inner = render(main)
    if checks:  # folded: the box stays short, the checks are one click away
        inner += (
            f"<details class='certkit-checks'><summary>Robustness and sensitivity checks "
            f"({len(checks)})</summary>{render(checks, short=True)}</details>"
        )
    if not records and skipped:
        lead = "<p><b>Nothing on this page could be estimated on this data.</b></p>"
        inner = (
            "<ul class='certkit-answer'>"
            + "".join(
                f'<li data-key="skipped">{_E(text)}{_link("#" + anchor(heading))}</li>'
                for heading, text in skipped
            )
            + "</ul>"
        )
    elif not records:
        lead = "<p><b>This page recorded no headline result</b> (see its sections below).</p>"
    elif not any(estimated(r) for r in records):
        # no estimate, but counts or a trend to show: not "nothing" (trial I, python-sdk: the
        # AI page's box said "Nothing ... could be estimated" above the adoption trend)
        lead = (
            "<p><b>No effect could be estimated; what the data show:</b></p>"
            if any(_shows_data(r) for r in records)
            else "<p><b>Nothing on this page could be estimated on this data.</b></p>"
        )
    else:
        lead = ""
    return (
        f'<section class="certkit-callout certkit-answer-box" id="{ANSWER_ID}">'
        f'<p class="certkit-answer-title"><b>The answer</b></p>{lead}{inner}</section>'
    )


def _bottom_line(effects: dict[str, list[tuple[str, dict]]]) -> str:
    """Per design: how many outcomes changed clearly, in which direction (counts of statuses)."""
    parts = []
    designs: dict[str, list[str]] = {}
    caveats: dict[str, int] = {}
    looks: dict[str, int] = {}  # clear on its numbers, but its caveat says not evidence
    by_design: dict[str, list[tuple[str, dict]]] = {}
    for items in effects.values():
        for href, r in items:
            st = status(r)
            if st in ("improvement", "deterioration") and r.get("not_evidence"):
                looks[r["design"]] = looks.get(r["design"], 0) + 1
                st = "no clear change"
            designs.setdefault(r["design"], []).append(st)
            by_design.setdefault(r["design"], []).append((href, r))
            if st in ("improvement", "deterioration") and r.get("caveat"):
                caveats[r["design"]] = caveats.get(r["design"], 0) + 1
    for design, st in designs.items():
        done = [x for x in st if x != "not estimated"]
        if not done:
            hidden = sum(withheld(r) for _, r in by_design[design])
            if hidden == len(st):
                parts.append(
                    f"{design}: withheld in this shared report (fewer people than its threshold)"
                )
            elif hidden:
                parts.append(
                    f"{design}: {hidden} outcome(s) withheld in this shared report, the others "
                    "could not be estimated"
                )
            else:
                parts.append(f"{design}: no outcome could be estimated")
            continue
        clear = [x for x in done if x != "no clear change"]
        text = f"{design}: {len(clear)} of {len(done)} estimated outcome(s) changed clearly"
        if clear:
            # a clear change resting on 4 engineers is not tallied as plainly as one on 60
            # (trial I, glib: "1 improvement(s)" for a cycle time on 4 certified engineers)
            tempered = f", {caveats[design]} of them with a caveat" if design in caveats else ""
            text += (
                f" ({clear.count('improvement')} improvement(s), "
                f"{clear.count('deterioration')} deterioration(s){tempered})"
            )
        if looks.get(design):
            text += (
                f"; {looks[design]} more look(s) clear on the numbers, but the page says not "
                "to read it as evidence of an effect"
            )
        parts.append(text)
    return "<p class='certkit-bottom'><b>" + _E("; ".join(parts)) + ".</b></p>"


def failure_reason(error: str | None) -> str:
    """A failed page's error in one short line, without the cell and exception names nor
    the details after the first colon (they may quote data: "privacy check failed: the
    shared page would show ... ('two')" gives "privacy check failed")."""
    text = (error or "").strip().splitlines()[0] if (error or "").strip() else ""
    text = re.sub(r"^cell \d+ \(execution count [^)]*\) failed: ", "", text)
    text = re.sub(r"^[A-Za-z_][\w.]*(Error|Exception|Warning): ", "", text)
    head = text.split(": ", 1)[0].strip().rstrip(".")
    if len(head) > 120:
        head = head[:117].rstrip() + "..."
    return head or "an error (see the run log)"


def _failed_lines(failed: list[tuple[str, str | None]]) -> str:
    """One line per failed page: that it failed, why, and that its estimates are missing."""
    return "".join(
        f"<p class='certkit-nothing'><b>The page '{_E(title)}' failed</b> "
        f"({_E(failure_reason(error))}; see the run log), so its results are not shown "
        "here.</p>"
        for title, error in failed
    )


def answer_section(
    pages: list[tuple[str, str, list[dict]]], failed: list[tuple[str, str | None]] = ()
) -> str:
    """The landing page's answer, from ``(page href, title, records)`` of one run.

    ``failed``: ``(page title, error)`` of the run's pages that failed; each is said in one
    line, and the answer does not say that nothing "could be estimated" when a failed page
    may have estimated it (trial I, glib shared: the certification-impact page failed its
    privacy check and the index said "No certification effect could be estimated").
    """
    failed = list(failed)
    effects: dict[str, list[tuple[str, dict]]] = {}
    checks: list[tuple[str, dict]] = []
    other: dict[str, list[tuple[str, dict]]] = {"roi": [], "ai": [], "health": []}
    for href, _title, records in pages:
        for r in records:
            if r["kind"] == "effect":
                effects.setdefault(r["outcome"], []).append((href, r))
            elif r["kind"] == "sensitivity":
                checks.append((href, r))
            elif r["kind"] in other:
                other[r["kind"]].append((href, r))
            elif r["kind"] == "text" and r.get("topic") in other:
                other[r["topic"]].append((href, r))
    out = []
    if effects:
        designs = []
        for items in effects.values():
            for _, r in items:
                if r["design"] not in designs:
                    designs.append(r["design"])
        head = "".join(f"<th>{_E(d)}</th>" for d in designs)
        rows = []
        for outcome, items in effects.items():
            by = {r["design"]: (h, r) for h, r in items}
            cells, said = [], set()
            for d in designs:
                if d not in by:
                    cells.append("<td>&ndash; (not run)</td>")
                    continue
                h, r = by[d]
                text = effect_text(r)
                if text.startswith("not estimated") and text in said:
                    text = "not estimated: the same reason"  # said once per row (fastapi)
                said.add(text)
                cells.append(
                    f'<td data-key="{_E(r["key"])}" class="certkit-{status(r).replace(" ", "-")}">'
                    f"{_E(text)}{_link(_href(h, r))}</td>"
                )
            verdict, _why = agreement([r for _, r in items])
            label = items[0][1]["label"]
            rows.append(
                f'<tr data-outcome="{_E(outcome)}"><th>{_E(label)}</th>{"".join(cells)}'
                f"<td>{_E(verdict)}</td></tr>"
            )
        notes = [
            f"<li>{_E(note)}</li>"
            for note in agreement_notes([[r for _, r in items] for items in effects.values()])
        ]
        estimated = [
            r for items in effects.values() for _, r in items if status(r) != "not estimated"
        ]
        out.append(
            "<h3>Did outcomes change after certification?</h3>"
            + _failed_lines(failed)
            + _bottom_line(effects)
        )
        out.append(
            "<table class='certkit-table certkit-effects'><thead><tr><th>outcome</th>"
            f"{head}<th>designs</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
        if notes:
            out.append("<ul class='certkit-agreement'>" + "".join(notes) + "</ul>")
        # certified engineers the estimates cannot include (trial N: 6 of 11, certified before
        # the history starts, said only deep in the data-health page)
        for _, r in other["health"]:
            if r.get("outside_window"):
                out.append(
                    "<p class='certkit-nothing'><b>Not in these estimates:</b> "
                    f"{_E(r['outside_window'])}.</p>"
                )
        if not estimated and failed:
            out.append(
                "<p class='certkit-nothing'><b>No certification effect is shown:</b> none of "
                "the pages that ran could estimate one, and the failed page above is missing."
                "</p>"
            )
        elif not estimated:
            needs = sorted(
                {r["needs"] for items in effects.values() for _, r in items if r.get("needs")}
            )
            out.append(
                "<p class='certkit-nothing'><b>No certification effect could be estimated on "
                "this data.</b> "
                + (
                    f"It would need {_E('; or '.join(n.rstrip('.') for n in needs))}."
                    if needs
                    else ""
                )
                + "</p>"
            )
        out.append(
            "<p class='certkit-hook'><b>Robustness and sensitivity</b>: "
            + (
                "".join(
                    f"<br>{_E(r['label'])} ({_E(r['design'])}): {_E(r['text'])}{_link(_href(h, r))}"
                    for h, r in checks
                )
                if checks
                else "no robustness estimator or trend-sensitivity analysis in this report yet."
            )
            + "</p>"
        )
    for kind, title in (
        ("roi", "Return on investment"),
        ("ai", "AI-assisted work"),
        ("health", "Data health"),
    ):
        if other[kind]:
            out.append(f"<h3>{title}</h3>" + "".join(render([r], h) for h, r in other[kind]))
    if failed and not effects:  # said first: the effects it may have estimated are missing
        out.insert(0, _failed_lines(failed))
    if not out:
        return "<p>No notebook recorded a headline (see the run log below).</p>"
    return "".join(out)
