"""Words for a clear DiD effect that a shock to everyone's activity can make: one that rests on
the data's quiet last periods (:mod:`certkit.data.activity`,
:mod:`certkit.report.study_quiet`), or one measured in levels against a comparison group far
less active than the certified engineers."""

from __future__ import annotations

import math
from datetime import date, timedelta


def _finite(*values) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


def _num(v: float) -> str:
    """0.58, 13.9, 1,234 (no exponent: review E saw "1.2e+03" lines changed)."""
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def quiet_end_words(row: dict, alpha: float = 0.05) -> str | None:
    """Why a clear effect rests on the quiet end of the data, in words (None: it does not).

    From the row's ``quiet_*`` keys (:func:`certkit.report.study_quiet.without_quiet_end`):
    said when the estimate is clear at ``alpha`` and the estimate on the periods before the
    quiet ones is not (or points the other way, or cannot be formed). Trial T, gemini-cli:
    "throughput about 33% lower (95% CI -61% to -5%)" became -0.28 (CI -4.25 to +3.70) PRs a
    month once the three quiet months were left out.
    """
    start, est, p = row.get("quiet_from"), row.get("estimate"), row.get("p_value")
    if not start or not (_finite(est, p) and p < alpha):
        return None
    n, unit = int(row.get("quiet_periods") or 0), row.get("quiet_unit") or "period"
    last = f"last {unit} (from {start}) has" if n == 1 else f"last {n} {unit}s (from {start}) have"
    what = (
        f"the data's {last} {row.get('quiet_share', 0):.0%} of "
        f"the usual merged PRs per {unit} (a project going quiet, a partial last {unit}, or "
        "data that stops early: a drop that takes most from the busiest engineers)"
    )
    q, low, high, qp = (
        row.get(k) for k in ("quiet_estimate", "quiet_low", "quiet_high", "quiet_p")
    )
    if not _finite(q, low, high):
        return f"{what}; without them the estimate cannot be formed, so it rests on them"
    if _finite(qp) and qp < alpha:
        if (q < 0) == (est < 0):
            return None  # clear without them too
        verdict = "clearly the other way"
    else:
        verdict = "not distinguishable from no change"
    hidden = row.get("quiet_hidden")
    if hidden:
        return (
            f"{what}; ending the data before them gives an estimate on fewer than {hidden} "
            f"{row.get('quiet_who', 'certified engineers')} (not shown in a shared report), "
            f"{verdict}: its clear verdict rests on those {unit}s"
        )
    end = date.fromisoformat(start[:10]) - timedelta(days=1)  # how to reproduce it (trial W)
    base = row.get("baseline")
    share = ""
    if _finite(base) and base > 0 and not str(row.get("outcome", "")).startswith("cycle_time_log"):
        # the page's headline is a percentage of this level: the two side by side (trial V)
        share = f" (about {abs(q) / base:.0%} {'lower' if q < 0 else 'higher'})"
    return (
        f"{what}; ending the data before them (-p end={end}) gives {q:+.3g}{share} (95% CI "
        f"{low:+.3g} to "
        f"{high:+.3g}) against {est:+.3g} with them, {verdict}: its clear verdict rests on "
        f"those {unit}s"
    )


#: Outcomes counted in levels, where a shock that scales everyone's activity moves the busy
#: more than the idle.
LEVEL_OUTCOMES = ("merged_prs", "prs_opened", "lines_changed")
#: The certified engineers' level before certifying at least this many times the
#: never-certified engineers' level: not a like-for-like comparison in levels.
LEVEL_GAP = 5.0


def level_gap_words(row: dict, alpha: float = 0.05, k: int = 5) -> str | None:
    """Why a clear effect in levels may come from unlike groups (None: it need not).

    From ``baseline`` (the certified engineers' mean before certifying) and
    ``comparison_level`` / ``comparison_engineers`` (the never-certified engineers' mean and
    count, :func:`certkit.report.study_quiet.comparison_level`): said for a clear effect on an
    outcome of :data:`LEVEL_OUTCOMES` when the first is :data:`LEVEL_GAP` or more times the
    second, with at least ``k`` never-certified engineers. Trial T, gemini-cli: 12 certified
    core engineers at 14.8 merged PRs a month against 673 outside contributors at about 0.3;
    the same estimate on the roster's teams was +0% (95% CI -34% to +35%).
    """
    est, p, base = row.get("estimate"), row.get("p_value"), row.get("baseline")
    comp, n = row.get("comparison_level"), row.get("comparison_engineers") or 0
    if row.get("outcome") not in LEVEL_OUTCOMES or n < k:
        return None
    if not (_finite(est, p, base, comp) and p < alpha and base > 0):
        return None
    if comp * LEVEL_GAP > base:
        return None
    control = row.get("gap_control", "never-certified engineers")
    treated, event = (
        row.get("gap_treated", "certified engineers"),
        row.get("gap_event", "certifying"),
    )
    return (
        f"the {control} averaged {_num(comp)} per period against the {treated}' {_num(base)} "
        f"before {event}: a difference in levels assumes both would "
        "have changed by the same amount, which a change that scales everyone's activity (a "
        "busy or quiet season, a project winding down) breaks; compare like with like ("
        + row.get("gap_fix", "the matched design, or the roster's teams: -p teams=[...]")
        + ")"
    )
