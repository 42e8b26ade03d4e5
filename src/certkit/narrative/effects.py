"""Effect rows and their words: one row per outcome with its estimate, interval, p-value and
change relative to the baseline, or why it was not estimated; the report's summary bullets.

Part of :mod:`certkit.narrative` (re-exported there; notebooks reach it as
``certkit.report.story``).
"""

from __future__ import annotations

import math

import polars as pl

from certkit.errors import CertkitError
from certkit.narrative.base_period import base_shift, base_shift_words  # noqa: F401
from certkit.narrative.dating import (  # noqa: F401 (re-exported: tests, report.story)
    APPROXIMATED_KINDS,
    DATING_ROUTES,
    approximated_mix,
    approximated_reason,
    cycle_time_note,
    mostly_approximated,
)
from certkit.narrative.quiet import level_gap_words, quiet_end_words
from certkit.stats.vcov import pvalue

#: Outcome -> (plain label, unit text, lower is better, log scale)
OUTCOMES: dict[str, tuple[str, str, bool, bool]] = {
    "cycle_time_log_median": ("PR cycle time", "log hours", True, True),
    "cycle_time_log_mean": ("PR cycle time (mean of logs)", "log hours", True, True),
    "cycle_time_hours_median": ("PR cycle time", "hours", True, False),
    "pickup_time_hours_median": ("time to first review", "hours", True, False),
    "merged_prs": ("throughput (merged PRs per period)", "PRs", False, False),
    "prs_opened": ("PRs opened per period", "PRs", False, False),
    "defects": ("defects per period", "defects", True, False),
    "defects_per_pr": ("defect rate (defects per merged PR)", "defects per PR", True, False),
    "incidents": ("incidents per period", "incidents", True, False),
    "reverts": ("reverted PRs per period", "PRs", True, False),
    "revert_rate": ("revert rate", "share", True, False),
    "ai_share": ("AI-assisted share of PRs", "share", False, False),
    "lines_changed": ("lines changed", "lines", False, False),
    "rework_rate": ("rework rate (share of added lines changed again)", "share", True, False),
}

DID_NEEDS = (
    "certified engineers with data both before and after their certification month, and "
    "engineers not (yet) certified in the same months to compare them with"
)
MATCHING_NEEDS = (
    "certified engineers with enough history before certifying (pre_periods) and similar "
    "not-yet-certified peers to pair them with"
)


class NotEstimated(CertkitError):
    """Raised inside a report section to say, in words, why it shows nothing."""


def why(effects: pl.DataFrame, outcome: str) -> str:
    """The ``note`` of ``outcome``'s row in an effects table (why it was not estimated)."""
    if "note" not in effects.columns:
        return "not estimated"
    hit = effects.filter(pl.col("outcome") == outcome)
    return (hit["note"][0] if hit.height and hit["note"][0] else "not estimated").rstrip(".")


def percent_words(p: float) -> str:
    """A share or probability in words: ``"under 1%"`` / ``"over 99%"`` rather than a rounded
    0% or 100% the numbers do not say (the ROI table showed 0.001 beside "0%"; 3,211 of 3,218
    PRs read "(100%)")."""
    if 0 < p < 0.005:
        return "under 1%"
    if 0.995 < p < 1:
        return "over 99%"
    return f"{p:.0%}"


def label(outcome: str) -> str:
    """Plain-language name of a panel outcome."""
    return OUTCOMES.get(outcome, (outcome.replace("_", " "),))[0]


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def effect_row(
    outcome: str,
    est: float,
    se: float,
    lo: float,
    hi: float,
    baseline: float | None,
    p_value: float | None = None,
) -> dict:
    """One tidy row: estimate, interval, p-value and the change relative to the baseline.

    ``p_value``: the estimator's (a matched DiD's is Student t's); ``None``: the normal
    p-value of ``est / se``.

    A row whose estimate or interval is not a finite number gets a ``note`` saying it could
    not be estimated, and its numbers become NaN (tables show a dash, sentences the note).
    """
    if not _finite(est, lo, hi):
        return not_estimated(
            outcome,
            "the estimate or its confidence interval is not a finite number (too few "
            "certified engineers or periods with data for this outcome)",
        )
    log = OUTCOMES.get(outcome, ("", "", False, False))[3]
    rel = rel_lo = rel_hi = math.nan
    if log:
        try:
            rel, rel_lo, rel_hi = (math.expm1(v) for v in (est, lo, hi))
        except OverflowError:
            rel = rel_lo = rel_hi = math.nan
    elif baseline and _finite(baseline) and baseline > 0:
        rel, rel_lo, rel_hi = est / baseline, lo / baseline, hi / baseline
        if min(rel_lo, rel_hi) <= -1 and outcome in OUTCOMES:
            # the interval reaches below -100% of a baseline the outcome cannot go under
            # (counts, rates): a percent would read "-222% to +256%"; the sentence uses the
            # effect in the outcome's own unit and the baseline instead
            rel = rel_lo = rel_hi = math.nan
    if not _finite(rel, rel_lo, rel_hi):
        rel = rel_lo = rel_hi = math.nan
    return {
        "outcome": outcome,
        "label": label(outcome),
        "estimate": est,
        "se": se if _finite(se) else math.nan,
        "ci_low": lo,
        "ci_high": hi,
        "p_value": (pvalue(est, se) if p_value is None else p_value) if _finite(se) else math.nan,
        "baseline": baseline if baseline is not None and _finite(baseline) else math.nan,
        "relative": rel,
        "relative_low": min(rel_lo, rel_hi),
        "relative_high": max(rel_lo, rel_hi),
        "note": None,
    }


def no_certified_data(
    outcome: str,
    approximated: int | pl.DataFrame = 0,
    merged: int = 0,
    outside_window: str | None = None,
    dated: tuple[int, int] | None = None,
) -> str:
    """Why an outcome has no estimate when no certified engineer has values on both sides of
    certifying; for cycle and pickup times, whether git's approximated creation dates are why
    (fastapi: 3,211 of 3,218 merged PRs squash-merged; the page blamed privacy or cells).
    ``approximated``: :func:`certkit.data.dating.approximated_dates` (or its total);
    ``outside_window``: :func:`outside_window_reason`, when every certification falls outside
    the data's window; ``dated``: see :func:`approximated_reason`."""
    why = f"no certified engineer has {label(outcome)} values both before and after certifying"
    timed = outcome.startswith(("cycle_time", "pickup_time"))
    if isinstance(approximated, int):
        approximated = pl.DataFrame(
            {"created_source": ["approximated"], "prs": [approximated]},
            schema={"created_source": pl.String, "prs": pl.Int64},
        )
    if timed and mostly_approximated(approximated, merged):
        return approximated_reason(approximated, merged, dated)
    return outside_window or why


def outside_window_reason(found: dict, period: str = "month") -> str | None:
    """Why nothing compares certified engineers before and after certifying when every
    certified engineer was certified outside the data's window (``found``:
    :func:`certkit.data.health.certified_outside_window`); None when some were certified
    inside it or nobody is certified. The generic "no certified engineer has values both
    before and after" and "no certified engineers (all cohorts are 0)" hid that the data
    starts after the certifications."""
    early, late, departed = found["early"], found["late"], found.get("departed", 0)
    if found["inside"] or not early + late + departed:
        return None
    first, last = (f"{d:%Y-%m-%d}" if d else "?" for d in (found["first"], found["last"]))
    parts, fixes = [], []
    if early:
        parts.append(
            f"{early:,} before or in their first {period} in the data (left out: no time before "
            "certifying)"
        )
        fixes.append(
            "data from before the certifications (a history or export that starts earlier, "
            "e.g. certkit import git --since)"
        )
    if departed:
        parts.append(
            f"{departed:,} in or after the {period} they left (left out: no time after certifying)"
        )
    if late:
        parts.append(f"{late:,} after its last {period} (they count as never certified)")
        fixes.append("data from after the certifications")
    n = early + late + departed
    where = (
        "was certified inside the data's window"
        if not departed
        else "has data both before and after certifying"
    )
    return (
        f"none of the {n:,} certified engineer{'s' if n != 1 else ''} {where} ({first} to "
        f"{last}): " + "; ".join(parts) + ("; add " + " and ".join(fixes) if fixes else "")
    )


def unrecorded_reason(outcome: str, values: pl.Series) -> str | None:
    """Why an outcome whose panel ``values`` are all missing or all equal has nothing to
    estimate from, in words, never a raw log value (trial G: "'cycle_time_log_median' is
    9.41657 in every row"); None when they vary."""
    v = values.cast(pl.Float64).drop_nulls().drop_nans()
    name = label(outcome)
    if v.len() == 0:
        return f"no engineer-period has a {name} value: nothing to estimate"
    if v.min() != v.max():
        return None
    unit = OUTCOMES.get(outcome, ("", "", False, False))
    value = float(v[0])
    if unit[3]:  # a log scale: the value in its own unit
        hours = math.exp(value)
        shown = f"about {hours / 24:,.0f} days" if hours >= 48 else f"about {hours:,.1f} hours"
    elif unit[1] == "share":
        shown = percent_words(value)
    else:
        shown = f"{value:g}"
    text = (
        f"{name} is {shown} in every row (engineer and period) that has a value "
        f"({v.len():,}): with no variation there is no effect to estimate"
    )
    if value == 0 and not unit[3]:
        text += (
            " (an outcome the data does not record, such as incidents without an incidents "
            "table, is 0 everywhere)"
        )
    return text


def not_estimated(outcome: str, why: str) -> dict:
    """An :func:`effect_row` for an outcome that could not be estimated (``note`` says why)."""
    nan = math.nan
    return {
        "outcome": outcome,
        "label": label(outcome),
        "estimate": nan,
        "se": nan,
        "ci_low": nan,
        "ci_high": nan,
        "p_value": nan,
        "baseline": nan,
        "relative": nan,
        "relative_low": nan,
        "relative_high": nan,
        "note": why.rstrip("."),
    }


def effect_of(
    outcome: str, result, panel: pl.DataFrame, base_rows: pl.DataFrame | None = None
) -> dict:
    """:func:`effect_row` from the headline row of a result's ``tidy()``.

    Works for every estimate result with one headline row: a DiD aggregate
    (``att_gt(...).aggregate("simple")``), an event study, a matched DiD, a matching ATT. The
    baseline is the certified engineers' pre-certification mean in ``panel``, or in
    ``base_rows`` when the estimate rests on fewer of their rows (a matched DiD: its matched
    certified engineers' windows; trial M, watchman: "43% higher" than the 6 certified
    engineers' 0.989 PRs, for 3 matched engineers who had merged 0 PRs before).
    """
    head = result.headline()
    if head.height != 1:
        raise CertkitError(
            f"{type(result).__name__} has {head.height} headline rows; effect_of needs one"
        )
    r = head.row(0, named=True)
    row = effect_row(
        outcome,
        r["estimate"],
        r["std_error"],
        r["conf_low"],
        r["conf_high"],
        baseline(panel if base_rows is None else base_rows, outcome),
        r.get("p_value"),
    )
    if row.get("note"):
        return row
    single = getattr(result, "single_weight", None)
    extra = {"single_weight": single} if single is not None else {}
    return row | event_counts(panel, outcome) | base_shift(panel, outcome) | extra


#: Outcomes that count rare events, and the panel column holding the events.
EVENTS: dict[str, tuple[str, str]] = {
    "defects": ("defects", "defect"),
    "defects_per_pr": ("defects", "defect"),
    "incidents": ("incidents", "incident"),
    "reverts": ("reverts", "reverted PR"),
    "revert_rate": ("reverts", "reverted PR"),
}
#: Fewer events than this after certification: a clear effect moves with a handful of them.
FEW_EVENTS = 10
#: Fewer merged PRs than this by the certified engineers after certifying: every outcome
#: read from PRs (throughput, cycle time, rework, AI share, size) then rests on a handful
#: of PRs, each 2% or more of the total, and one engineer's busy month sways it (trial G,
#: sqlalchemy: "about 303% higher" from 15 drive-by contributors with 29 PRs after).
FEW_PRS = 50


def event_counts(panel: pl.DataFrame, outcome: str) -> dict:
    """For an outcome counting rare events (defects, incidents, reverts): how many the
    certified engineers had before and after certifying (``events_before``,
    ``events_after``). httpx with Jira and PagerDuty: "incidents about 36% higher" rested on
    3 incidents, 1 of them after certifying, and no page said so."""
    column = EVENTS.get(outcome, ("merged_prs",))[0]
    if column not in panel.columns or not {"cohort", "post"} <= set(panel.columns):
        return {}
    counts = (
        panel.filter(pl.col("cohort") > 0)
        .group_by("post")
        .agg(pl.col(column).fill_null(0).sum().alias("n"))
    )
    by_post = dict(zip(counts["post"].to_list(), counts["n"].to_list(), strict=True))
    before, after = int(by_post.get(0, 0)), int(by_post.get(1, 0))
    if outcome not in EVENTS:  # every other outcome is read from the merged PRs
        return {"prs_before": before, "prs_after": after}
    return {"events_before": before, "events_after": after}


def few_treated_words(
    n: int | None,
    k: int,
    who: str = "certified engineer",
    after: int | None = None,
    which: str = "",
) -> str | None:
    """ "it rests on only 3 certified engineers (a shared report needs 5 to show it): one
    person can decide it", when ``n`` is under the privacy threshold ``k``; None
    otherwise. ``after``: the fewest behind an estimate after the event (the adoption
    study's event times). The private report shows such estimates; this says what they
    stand on (trial G, xarray: a rework headline on 3 adopters, 1 at every event time).
    ``which``: who they are, in the parenthesis (:func:`support_words`)."""
    if n is None or not n or n >= k:
        return None
    many = "" if n == 1 else "s"
    text = f"it rests on only {n:,} {who}{many}"
    if after is not None and after < n:
        text += f", as few as {after:,} behind a period after"
    paren = f"{which}; " if which else ""
    return text + f" ({paren}a shared report needs {k} to show it): one person can decide it"


def support_words(row: dict) -> str:
    """ "those with PR cycle time in the period just before certifying and in one after; 7
    have it before and after, 8 at all": who the staggered DiD's certified engineers
    (``certified_engineers``) are, when the page's other sections count more of them
    (``certified_before_after``: the robust estimators; ``certified_with_outcome``: the
    small-cohort notes); "" otherwise (trial I, glib: a headline on 4, notes on 8 cohorts of
    one, robustness on 7)."""
    n = row.get("certified_engineers")
    both, every = row.get("certified_before_after"), row.get("certified_with_outcome")
    if not isinstance(n, int) or not any(isinstance(m, int) and m > n for m in (both, every)):
        return ""
    what = label(row["outcome"]) if row.get("outcome") else "the outcome"
    counts = []
    if isinstance(both, int) and both > n:
        counts.append(f"{both:,} have it before and after")
    if isinstance(every, int) and every > max(n, both or 0):
        counts.append(f"{every:,} at all")
    return f"those with {what} in the period just before certifying and in one after; " + ", ".join(
        counts
    )


def few_prs_words(
    after: int | None,
    before: int | None,
    who: str = "certified engineers",
    event: str = "certifying",
) -> str | None:
    """ "the certified engineers merged only 29 PRs after certifying (17 before): a few PRs
    more or less would change it" when fewer than :data:`FEW_PRS`; None otherwise."""
    if after is None or after >= FEW_PRS:
        return None
    was = f" ({before:,} before)" if before is not None else ""
    noun = "PR" if after == 1 else "PRs"
    return (
        f"the {who} merged only {after:,} {noun} after {event}{was}: a few PRs more or "
        "less would change it"
    )


def _events(n: int, outcome: str) -> str:
    """``n`` events of ``outcome`` in words ("1 incident", "3 reverted PRs")."""
    noun = EVENTS.get(outcome, ("", "event"))[1]
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _events_words(row: dict) -> str:
    """ "; the certified engineers had 1 incident after certifying, 2 before" (or "")."""
    if row.get("events_after") is None or row.get("events_before") is None:
        return ""
    after = _events(int(row["events_after"]), row["outcome"])
    before = int(row["events_before"])
    return f"; the certified engineers had {after} after certifying, {before:,} before"


def baseline(panel: pl.DataFrame, outcome: str) -> float | None:
    """Mean outcome of certified engineers before they certified (what effects compare to)."""
    pre = panel.filter((pl.col("cohort") > 0) & (pl.col("post") == 0))[outcome].drop_nulls()
    return float(pre.mean()) if pre.len() else None


#: Largest |SMD| left after matching above which pairs are not like-for-like (0.1 is the
#: usual target; Stuart 2010 tolerates up to about 0.25).
BALANCE_LIMIT = 0.25


#: The share of an overall effect's weight on single-engineer cells from which its interval is
#: not read as evidence (:func:`single_cohort_words`).
SINGLE_WEIGHT_LIMIT = 0.5


def single_cohort_words(weight: float | None) -> str | None:
    """The caveat of an overall effect whose weight rests mostly on group-time cells of one
    certified engineer (``weight``: :attr:`certkit.did.AggregateResult.single_weight`).

    Such a cell's standard error counts only the comparison engineers' variation, not the
    certified engineer's own (R's did keeps the cells, and so does certkit); when they carry
    most of the weight the interval is far too narrow (trial S, browser-use: 24 cells of one
    engineer each, 17 without any SE of their own, made "+11.4 points, p = 0.03"). None
    below :data:`SINGLE_WEIGHT_LIMIT`.
    """
    if weight is None or not _finite(weight) or weight < SINGLE_WEIGHT_LIMIT:
        return None
    return (
        f"{weight:.0%} of its weight rests on certification cohorts of one engineer, whose own "
        "variation its interval does not count: read it as a description of those engineers, "
        "not as evidence of an effect"
    )


def not_evidence(row: dict, alpha: float = 0.05) -> bool:
    """Whether a clear-looking effect's own caveat says not to read it as evidence: most of
    its weight on cohorts of one engineer (:func:`single_cohort_words`), or a result that
    rests on the data's quiet last periods (:func:`quiet_end_words`). The landing page does
    not tally such a result as "changed clearly" (trial T: "1 of 1 changed clearly" beside
    "not evidence of an effect"). Only a clear-looking result: its p-value under ``alpha``
    or its interval on one side of zero (trial AC: "looks clear on the numbers" of a -56% to
    +8% interval whose caveat was on its one-engineer cohorts)."""
    p, lo, hi = row.get("p_value"), row.get("ci_low"), row.get("ci_high")
    clear = (isinstance(p, (int, float)) and p == p and p < alpha) or (
        isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and (lo > 0 or hi < 0)
    )
    if not clear:
        return False
    return bool(single_cohort_words(row.get("single_weight")) or quiet_end_words(row, alpha))


def effect_caveat(row: dict, alpha: float = 0.05, k: int | None = None) -> str | None:
    """Why a clear effect should not be read at face value, in words (None: no reason).

    From the numbers on the row: a failed pre-trend test (``pretrend_p``), a fall larger
    than the certified engineers' own level before for an outcome that cannot go below zero
    (``baseline``; golang/net: -1.22 PRs from 0.493), a result resting on the data's quiet
    last periods (``quiet_*``, :func:`certkit.narrative.quiet.quiet_end_words`), a level
    far above the never-certified engineers' (``comparison_level``,
    :func:`certkit.narrative.quiet.level_gap_words`), matched pairs still unlike after
    matching (``balance_smd`` over :data:`BALANCE_LIMIT`; cargo: 1.34), an estimate on
    fewer certified engineers (``certified_engineers``) than the privacy threshold ``k``
    (default: the row's ``privacy_k``, else :data:`certkit.privacy.DEFAULT_K`), or on fewer
    than :data:`FEW_PRS` PRs merged after certifying (``prs_after``), or measured from a base
    period (``e = -1``) clearly below or above the certified engineers' own earlier level in
    the direction that inflates it (:func:`base_shift`). The landing page and
    every summary put it after the verdict, so a leader does not read "an improvement" alone.
    """
    from certkit.privacy import DEFAULT_K

    said = []
    k = k or row.get("privacy_k") or DEFAULT_K
    few = few_treated_words(row.get("certified_engineers"), int(k), which=support_words(row))
    if few:
        said.append(few)
    few = few_prs_words(row.get("prs_after"), row.get("prs_before"))
    if few:
        said.append(few)
    p = row.get("pretrend_p")
    if _finite(p) and p < alpha:
        said.append(
            "the groups already diverged before certification (pre-trend test "
            f"p = {p:.2g}), so it may be biased"
        )
    est, base = row.get("estimate"), row.get("baseline")
    log = OUTCOMES.get(row.get("outcome", ""), ("", "", False, True))[3]
    if not log and _finite(est, base) and base > 0 and est < -base:
        said.append(
            f"a fall larger than the certified engineers' own level before ({base:.3g}) is "
            "impossible for this outcome: the comparison group's path drives it"
        )
    after = row.get("events_after")
    if after is not None and after < FEW_EVENTS:
        said.append(
            f"it rests on only {_events(after, row.get('outcome', ''))} after certification: "
            "a few events more or less would change it"
        )
    shift = base_shift_words(row, label(row.get("outcome", "")), alpha)
    if shift:
        said.append(shift)
    single = single_cohort_words(row.get("single_weight"))
    if single:
        said.append(single)
    quiet = quiet_end_words(row, alpha)
    if quiet:
        said.append(quiet)
    gap = level_gap_words(row, alpha, int(k))
    if gap:
        said.append(gap)
    smd = row.get("balance_smd")
    if _finite(smd) and smd > BALANCE_LIMIT:
        said.append(
            f"the matched peers still differ from the certified engineers (largest |SMD| "
            f"{smd:.2f} after matching), so it is not a like-for-like comparison"
        )
    return "; ".join(said) or None


def _sentence(row: dict, alpha: float = 0.05, k: int | None = None) -> str:
    lower_better = OUTCOMES.get(row["outcome"], ("", "", False, False))[2]
    if row.get("note") or not _finite(row["estimate"], row["ci_low"], row["ci_high"]):
        why = row.get("note") or "the estimate is not a finite number"
        return f"**{row['label']}**: could not be estimated: {why}."
    rel = row["relative"]
    if _finite(rel, row["relative_low"], row["relative_high"]):
        direction = "lower" if rel < 0 else "higher"
        size = f"about {abs(rel):.0%} {direction}"
        ci = f"95% CI {row['relative_low']:+.0%} to {row['relative_high']:+.0%}"
    else:
        unit = OUTCOMES.get(row["outcome"], ("", "", False, False))[1]
        size = f"{row['estimate']:+.3g}{' ' + unit if unit else ''}"
        ci = f"95% CI {row['ci_low']:+.3g} to {row['ci_high']:+.3g}"
        if _finite(row.get("baseline")):
            ci += f"; {row['baseline']:.3g} before certification"
    if not (row["p_value"] < alpha):
        verdict = "not distinguishable from no change"
    else:
        good = (row["estimate"] < 0) == lower_better
        verdict = "an improvement" if good else "a deterioration"
    # a caveat qualifies a clear effect ("but") and explains an unclear one ("and": after
    # "not distinguishable from no change", "but ... only 26 PRs" read oddly, trial H); the
    # landing page says the same, so its "details" link lands on these words (trial K, K5)
    caveat = effect_caveat(row, alpha, k)
    if caveat and row["p_value"] < alpha and not_evidence(row, alpha):
        # its own caveat undoes it: said before the reasons (trial V: "a deterioration, but"
        # led, and the words that undo it came 150 words later)
        verdict += f" on the numbers only, not evidence of an effect: {caveat}"
    elif caveat:
        verdict += f", but {caveat}" if row["p_value"] < alpha else f", and {caveat}"
    return f"**{row['label']}**: {size} after certification ({ci}{_events_words(row)}); {verdict}."


def summarize(
    rows: pl.DataFrame, method: str, extra: list[str] | None = None, k: int | None = None
) -> str:
    """Markdown bullets, one per outcome, plus a line on what kind of estimate this is.
    ``k``: the privacy threshold below which an estimate's few engineers are named
    (:func:`effect_caveat`)."""
    lines = [f"- {_sentence(r, k=k)}" for r in rows.iter_rows(named=True)]
    done = [r for r in rows.iter_rows(named=True) if not r.get("note")]
    looks = [r for r in done if _finite(r["p_value"]) and r["p_value"] < 0.05]
    undone = sum(1 for r in looks if not_evidence(r))  # as the landing page counts (trial V)
    if done:
        more = (
            f"; {undone} more look(s) clear on the numbers, but the caveat says not to read it "
            "as evidence"
            if undone
            else ""
        )
        lines.append(
            f"- {len(looks) - undone} of {len(done)} estimated outcome(s) show a statistically "
            f"clear change (p < 0.05){more}. Method: {method}. These are **observational** "
            "estimates: read the assumptions below before acting on them."
        )
    else:
        lines.append(f"- No outcome could be estimated with {method} on this data (reasons above).")
    return "\n".join(lines + [f"- {e}" for e in extra or []])


#: The verdict of a later section for an outcome the summary already said was not estimated.
SEE_SUMMARY = "not estimated (see the summary above)"


def skipped_outcomes(outcomes: list[str], where: str = "the summary above") -> str:
    """One line for a section that leaves out outcomes the summary could not estimate.

    The reason is said once, in the summary and its notes; the later sections of the page
    (event studies, TWFE, sensitivity, robustness) only name the outcomes.
    """
    names = [label(o) for o in outcomes]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"*Not shown for {listed}: not estimated (see {where}).*"
