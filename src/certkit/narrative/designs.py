"""Whether the designs estimating an outcome agree, in words (for the landing page).

Reads headline records of kind ``effect`` (see :mod:`certkit.report.landing`): a verdict per
record (:func:`status`), per outcome (:func:`agreement`) and the explanations of several
outcomes with each reason said once (:func:`agreement_notes`).
"""

from __future__ import annotations

import math

#: Significance level of the verdicts "improvement" / "deterioration" in headline records.
ALPHA = 0.05


def withheld(r: dict) -> bool:
    """Whether a not-estimated record was estimated but withheld by a shared report's privacy
    rule (fewer than k people behind it), not impossible on the data (trial J, gnome-shell
    shared: "matched DiD: no outcome could be estimated" where the private run had one)."""
    return "a shared report shows only" in (r.get("note") or "")


def _ok(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def status(r: dict) -> str:
    """``improvement``, ``deterioration``, ``no clear change`` or ``not estimated``."""
    if r.get("note") or not all(_ok(r.get(k)) for k in ("estimate", "ci_low", "ci_high")):
        return "not estimated"
    if not (_ok(r.get("p_value")) and r["p_value"] < ALPHA):
        return "no clear change"
    good = (r["estimate"] < 0) == bool(r.get("lower_better", True))
    return "improvement" if good else "deterioration"


def _weaker_pairs(
    weak: list[dict], strong: list[dict]
) -> list[tuple[str, str, bool, float | None, float | None]]:
    """Pairs (a design of ``weak``, one of ``strong``, wider interval, its n, the other's n)
    where the first rests on fewer engineers, or has the wider interval without resting on
    more (fastapi, trial P: a matched DiD on 2 engineers with a narrow interval made the
    staggered DiD on 12 the one with "less power")."""
    pairs = []
    for a in weak:
        for b in strong:
            counted = _ok(a.get("n")) and _ok(b.get("n"))
            fewer = counted and a["n"] < b["n"]
            more = counted and a["n"] > b["n"]
            wider = bool(_width(a) and _width(b) and _width(a) > _width(b)) and not more
            if wider or fewer:
                n_a, n_b = (a.get("n"), b.get("n")) if fewer else (None, None)
                pairs.append((a["design"], b["design"], wider, n_a, n_b))
    return pairs


def _power_gaps(done: list[dict]) -> list[tuple[str, str, bool, float | None, float | None]]:
    """Pairs (unclear design, clear design, ...) where a design that saw no clear change has
    less power than one that did."""
    unclear = [r for r in done if status(r) == "no clear change"]
    return _weaker_pairs(unclear, [r for r in done if status(r) != "no clear change"])


def _weaker_clear(done: list[dict]) -> list[tuple[str, str, bool, float | None, float | None]]:
    """Pairs (clear design, unclear design, ...) where the design that found a clear change
    has the wider interval or fewer engineers: its clear result is the weaker evidence (cargo:
    matched DiD on 4 engineers, interval 6x as wide, "an improvement"; staggered DiD on 12, no
    clear change)."""
    unclear = [r for r in done if status(r) == "no clear change"]
    return _weaker_pairs([r for r in done if status(r) != "no clear change"], unclear)


def _reasons(wider: bool, n_a: list, n_b: list) -> str:
    bits = ["its interval is wider"] if wider else []
    if n_a and n_b:
        bits.append(f"it rests on {_span(n_a)} against {_span(n_b)}")
    return ", ".join(bits)


def _weaker_text(gaps: list[tuple[str, str, bool, list, list]]) -> str:
    return "; ".join(
        f"the clear result of {clear} is the weaker evidence ({_reasons(w, n_c, n_u)} than "
        f"{unclear}'s)"
        for clear, unclear, w, n_c, n_u in gaps
    )


def _gap_text(gaps: list[tuple[str, str, bool, list, list]]) -> str:
    parts = [
        f"{low} has less power than {high} ({_reasons(w, n_low, n_high)})"
        for low, high, w, n_low, n_high in gaps
    ]
    return "; ".join(parts) or "the designs estimate with similar precision"


def _span(ns: list) -> str:
    lo, hi = min(ns), max(ns)
    return f"{lo:,} certified engineers" if lo == hi else f"{lo:,} to {hi:,} certified engineers"


def _groups(done: list[dict]) -> str:
    return "; ".join(
        f"{r['design']} compares with {r['comparison']}" for r in done if r.get("comparison")
    )


def _why_disagree(done: list[dict]) -> tuple[str, list]:
    """(``opposite`` or ``power``, the power gaps) of designs that disagree on one outcome."""
    statuses = {status(r) for r in done}
    if {"improvement", "deterioration"} <= statuses:
        return "opposite", []
    gaps = _power_gaps(done)
    if not gaps and _weaker_clear(done):
        return "weaker", _weaker_clear(done)
    return "power", gaps


def _same(done: list[dict], said: str) -> tuple[str, str]:
    """The verdict of designs with one status: ``agree`` only on a clear change that no
    design's caveat tempers; intervals that all include zero are "inconclusive", not an
    agreement (trial I, python-sdk: "agree" for a staggered DiD of -71% to +404% and a
    matched DiD on 2 poorly balanced pairs)."""
    n = len(done)
    if said == "no clear change":
        verdict = "both inconclusive" if n == 2 else "all inconclusive"
        every = "both designs" if n == 2 else f"all {n} designs"
        # only those whose own interval excludes zero (trial AC: "looks clear on the numbers"
        # of a -56% to +8% interval whose caveat was on its one-engineer cohorts)
        looks = [r["design"] for r in done if r.get("not_evidence") and _excludes_zero(r)]
        if looks:  # review E: "every interval includes zero" was false for these
            return verdict, (
                f"{every}: no evidence of a change ({_labels(looks)} "
                f"look{'s' if len(looks) == 1 else ''} clear on the numbers, but "
                f"{'its' if len(looks) == 1 else 'their'} caveat says not to read it as "
                "evidence; any other interval includes zero), which is no evidence of no effect."
            )
        return verdict, (
            f"{every}: not distinguishable from no change (every interval includes zero), "
            "which is no evidence of no effect."
        )
    caveated = [r["design"] for r in done if r.get("caveat")]
    if caveated:
        return "agree, with caveats", (
            f"all {n} designs: {said}, but {_labels(caveated)} carr"
            f"{'ies a caveat' if len(caveated) == 1 else 'y caveats'} (see the cells)."
        )
    return "agree", f"all {n} designs: {said}."


#: The verdict of designs whose unclear interval includes the clear design's estimate.
CONSISTENT = "consistent, one less precise"


def _as_evidence(records: list[dict]) -> list[dict]:
    """The records as evidence: a clear-looking effect whose own caveat says not to read it
    as evidence (``not_evidence``, :func:`certkit.narrative.effects.not_evidence`) counts as
    no clear change (trial T: "disagree" between such a result and an inconclusive one)."""
    return [
        r | {"p_value": None} if r.get("not_evidence") and status(r) != "not estimated" else r
        for r in records
    ]


def _excludes_zero(r: dict) -> bool:
    """Whether a record's interval lies on one side of zero."""
    lo, hi = r.get("ci_low"), r.get("ci_high")
    return _ok(lo) and _ok(hi) and (lo > 0 or hi < 0)


def _includes(unclear: dict, clear: dict) -> bool:
    """Whether an unclear design's interval includes a clear design's estimate."""
    lo, hi, est = unclear.get("ci_low"), unclear.get("ci_high"), clear.get("estimate")
    return _ok(lo) and _ok(hi) and _ok(est) and lo <= est <= hi


def agreement(records: list[dict]) -> tuple[str, str]:
    """Whether the designs estimating one outcome agree: (verdict, explanation).

    Compares recorded statuses only (clear improvement, clear deterioration, no clear change).
    When they differ, says why that is plausible: less power (a wider interval, fewer
    certified engineers) or a different comparison group. A design that saw no clear change
    whose interval includes the clear design's estimate does not contradict it: "consistent,
    one less precise" (trial T: "disagree" for a matched interval of -15.7 to +11.4 beside a
    staggered -4.59).
    """
    records = _as_evidence(records)
    done = [r for r in records if status(r) != "not estimated"]
    missing = [r for r in records if status(r) == "not estimated"]
    if not done:
        if missing and all(withheld(r) for r in missing):
            return "withheld in a shared report", ""
        return "nothing estimated", ""
    if len(done) == 1:
        if not missing:
            return "one design", ""
        other = ", ".join(
            f"{r['design']}: withheld in a shared report" if withheld(r) else f"{r['design']}: not"
            for r in missing
        )
        return "only one design", f"only {done[0]['design']} could be estimated ({other})."
    statuses = {status(r) for r in done}
    if len(statuses) == 1:
        return _same(done, statuses.pop())
    kind, gaps = _why_disagree(done)
    listed = [(a, b, w, [x] if x else [], [y] if y else []) for a, b, w, x, y in gaps]
    unclear = [r for r in done if status(r) == "no clear change"]
    clear = [r for r in done if status(r) != "no clear change"]
    if kind == "power" and gaps and all(_includes(u, c) for u in unclear for c in clear):
        inside = "; ".join(
            f"{u['design']}'s interval ({u['ci_low']:+.3g} to {u['ci_high']:+.3g}) includes "
            f"{c['design']}'s estimate ({c['estimate']:+.3g})"
            for u in unclear
            for c in clear
        )
        return CONSISTENT, (
            f"The designs do not contradict each other: {inside}; {_gap_text(listed)}."
        )
    if kind == "opposite":
        why = "they point in opposite directions, so treat both with caution"
    elif kind == "weaker":
        why = _weaker_text(listed)
    else:
        why = _gap_text(listed)
    groups = _groups(done)
    tail = f". They also use different comparison groups: {groups}." if groups else "."
    return "disagree", f"The designs disagree: {why}{tail}"


def _labels(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def agreement_notes(outcomes: list[list[dict]]) -> list[str]:
    """The agreement explanations of several outcomes, each said once.

    ``outcomes`` holds the effect records of one outcome per item. Outcomes on which the
    designs disagree for the same reason (the same pair of designs with less / more power,
    or opposite directions) share one sentence listing them; the comparison groups, the same
    for every outcome, are said once at the end. Other explanations (``only one design``,
    ``agree``) are grouped by their identical text.
    """
    disagree: dict[tuple, tuple[list[str], list]] = {}
    same: dict[str, list[str]] = {}
    groups = ""
    for records in outcomes:
        records = _as_evidence(records)
        verdict, why = agreement(records)
        label = records[0]["label"]
        if verdict not in ("disagree", CONSISTENT):
            if why:
                same.setdefault(why, []).append(label)
            continue
        done = [r for r in records if status(r) != "not estimated"]
        kind, gaps = _why_disagree(done)
        kind = "consistent" if verdict == CONSISTENT else kind
        key = (kind, tuple((a, b, w, x is not None) for a, b, w, x, _ in gaps))
        labels, ns = disagree.setdefault(key, ([], []))
        labels.append(label)
        ns.append(gaps)
        groups = groups or _groups(done)
    notes = []
    for (kind, shape), (labels, ns) in disagree.items():
        if kind == "opposite":
            why = "they point in opposite directions, so treat both with caution"
        else:
            merged = [
                (a, b, w, [g[i][3] for g in ns if g[i][3]], [g[i][4] for g in ns if g[i][4]])
                for i, (a, b, w, _) in enumerate(shape)
            ]
            why = _weaker_text(merged) if kind == "weaker" else _gap_text(merged)
        if kind == "consistent":
            pairs = {(a, b) for a, b, *_ in shape}
            inside = "; ".join(f"{a}'s interval includes {b}'s estimate" for a, b in pairs)
            notes.append(
                f"The designs do not contradict each other on {_labels(labels)}: {inside} "
                f"{'each time' if len(labels) > 1 else ''}; {why}.".replace(" ;", ";")
            )
            continue
        notes.append(f"The designs disagree on {_labels(labels)}: {why}.")
    if groups:
        notes.append(f"The designs use different comparison groups: {groups}.")
    for why, labels in same.items():
        notes.append(f"{_labels(labels)}: {why}")
    return notes


def _width(r: dict) -> float | None:
    if _ok(r.get("relative_low")) and _ok(r.get("relative_high")):
        return r["relative_high"] - r["relative_low"]
    return None
