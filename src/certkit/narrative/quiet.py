"""Words for a clear effect that rests on the data's quiet last periods
(:mod:`certkit.data.activity`, :mod:`certkit.report.study_quiet`)."""

from __future__ import annotations

import math


def _finite(*values) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


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
    units = unit if n == 1 else f"{unit}s"
    what = (
        f"the data's last {n} {units} (from {start}) have {row.get('quiet_share', 0):.0%} of "
        f"the usual merged PRs per {unit} (a project going quiet, or data that stops early: a "
        "drop that takes most from the busiest engineers)"
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
    return (
        f"{what}; ending the data before them gives {q:+.3g} (95% CI {low:+.3g} to "
        f"{high:+.3g}) against {est:+.3g} with them, {verdict}: the result rests on those "
        f"{unit}s"
    )
