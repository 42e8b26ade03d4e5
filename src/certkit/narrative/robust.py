"""Words for the heterogeneity-robust DiD estimators (imputation, Sun-Abraham) and their panel.

``describe_did_estimate`` is the sentence behind their ``effect_summary()``: the one place that
calls such an estimate "distinguishable from zero" or not, and that, when the estimate rests on
cohorts of a single engineer, says its standard error is not reliable instead.
``thin_warning`` and ``thin_pretrend`` word the same problem for the warning and the pre-trend
test; ``excluded_words`` says which estimators the robustness verdict leaves out and why.

The thin-support facts come in as a :class:`certkit.did.robust_base.ThinSupport` (read through
its attributes only, so this module imports nothing from ``certkit.did``).
"""

from __future__ import annotations

import math


def fmt(x: float) -> str:
    """Numbers in sentences: 3 significant digits, no scientific notation for usual sizes."""
    if not math.isfinite(x):
        return "n/a"
    return f"{x:.3g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"


def _list(values: list, limit: int = 8) -> str:
    shown = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _what(thin) -> str:
    return "cohorts" if getattr(thin, "whole", True) else "cohort x period cells"


def thin_reason(thin, term: str = "ATT") -> str:
    """Why ``term``'s standard error is not reliable, as a clause (no leading capital)."""
    k = len(thin.cohorts)
    return (
        f"the estimate rests on {_what(thin)} of a single engineer ("
        f"{_plural(k, 'cohort')}, {_plural(thin.engineers, 'engineer')}, "
        f"{thin.share.get(term, 1.0):.0%} of its weight)"
    )


def describe_did_estimate(
    label: str, row: dict, level: float, outcome: str, thin=None, term: str = "ATT"
) -> str:
    """One sentence for one estimate (its tidy row); ``thin`` the estimate's thin support.

    When ``thin`` flags the row's standard error as not reliable the sentence gives the
    estimate, says why its interval and p-value cannot be read, and makes no call on zero.
    """
    lvl = f"{100 * level:.0f}%"
    est, lo, hi, p = row["estimate"], row["conf_low"], row["conf_high"], row["p_value"]
    if not math.isfinite(est):
        return f"{label}: not estimable on these data."
    if thin is not None and thin.unreliable(term):
        return (
            f"{label}: the effect on {outcome} is {fmt(est)}, but its standard error is not "
            f"reliable because {thin_reason(thin, term)}: it leaves out those engineers' own "
            f"noise, so the {lvl} interval ({fmt(lo)} to {fmt(hi)}) and the p-value are too "
            "narrow and say nothing either way about an effect."
        )
    sig = (
        f"distinguishable from zero at the {lvl} level (p = {p:.3g})"
        if p < 1 - level
        else f"not distinguishable from zero at the {lvl} level (p = {p:.2f})"
    )
    text = (
        f"{label}: the effect on {outcome} is {fmt(est)} ({lvl} CI {fmt(lo)} to {fmt(hi)}), {sig}."
    )
    share = thin.share.get(term, 0.0) if thin is not None else 0.0
    if share > 0:
        text += (
            f" {_what(thin).capitalize()} of a single engineer carry {share:.0%} of its weight, "
            "so its standard error is slightly too small."
        )
    return text


def thin_warning(thin, reference: str, why: str, clustered: bool = False) -> str:
    """The warning when cohort x period cells rest on a single treated unit (or cluster).

    ``reference`` names what the R reference does (e.g. ``"R didimputation keeps them"``),
    ``why`` how the estimator's standard error loses those units' own noise.
    """
    who = "cluster" if clustered else "unit"
    text = (
        f"{_plural(thin.cells, 'cohort x period cell')} of cohort(s) {_list(thin.cohorts)} "
        f"rest on a single treated {who} ({_plural(thin.engineers, 'engineer')}); they are "
        f"kept, as {reference}, but {why}, so the standard errors leave out those engineers' "
        "own noise and are too small"
    )
    bad = thin.terms
    if bad:
        text += (
            f"; not reliable for {_list(bad)} (more engineers per cohort, e.g. coarser periods, "
            "are needed for a usable standard error)"
        )
    return text


def thin_pretrend(single: list[str], n_leads: int) -> str:
    """The pre-trend verdict when some leads rest on a single treated unit."""
    return (
        f"not reliable: {len(single)} of the {n_leads} lead(s) ({_list(single)}) "
        f"{'rests' if len(single) == 1 else 'rest'} on a "
        "single treated engineer, so the test's covariance is degenerate and its F statistic "
        "means nothing; read the pre-period points instead"
    )


def excluded_words(excluded: dict) -> str:
    """The robustness verdict's sentence on estimators left out of the significance call.

    ``excluded`` maps an estimator's name to its thin support (standard error not reliable).
    """
    names = list(excluded)
    one = len(names) == 1
    details = "; ".join(
        f"{n}: {_plural(len(t.cohorts), 'cohort')}, {_plural(t.engineers, 'engineer')}, "
        f"{t.share.get('ATT', 1.0):.0%} of its weight"
        for n, t in excluded.items()
    )
    what = (
        "cohorts"
        if all(getattr(t, "whole", True) for t in excluded.values())
        else "cohort x period cells"
    )
    who = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    return (
        f"{who} {'is' if one else 'are'} left out of the comparison of significance and of the "
        f"typical margin of error: {'its standard error is' if one else 'their standard errors are'}"
        f" not reliable because the estimate rests on {what} of a single engineer ({details})."
    )
