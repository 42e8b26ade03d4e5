"""AI-tool adoption as a staggered treatment: what changes when an engineer starts using AI.

An engineer's **adoption period** is read from the data (:func:`adoption_cohorts`): by default
the first period in which at least half of their merged PRs are AI-assisted, provided the next
period is too (sustained for two periods). Engineers who already qualify in their first
observed period have no "before" and are left out, as for certification. The Callaway &
Sant'Anna machinery of :mod:`certkit.did` then compares adopters with engineers who have not
adopted (yet): :func:`adoption_did`.

What it can and cannot show: adoption is chosen, not assigned, so the estimate is causal only
under parallel trends (adopters would have evolved like not-yet adopters without AI); the
pre-adoption event-time estimates test that. AI attribution from commit and PR traces is a lower bound (many tools
leave no trace), so some "non-adopters" use AI: the estimate is diluted toward zero.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl

from certkit.analytics.adoption_result import (
    AdoptionResult,
    AdoptionSensitivity,
    adoption_words,
)
from certkit.errors import CertkitError, CertkitWarning
from certkit.stats.vcov import level_from_alpha

CAVEATS = (
    "Adoption is chosen, not assigned: the adoption effect is causal only if adopters would "
    "have trended like engineers who had not adopted yet (the pre-adoption points test this; "
    "they cannot prove it). AI attribution from commit and PR traces is a lower bound, so some engineers counted "
    "as not adopting do use AI, which pulls estimates toward zero."
)

__all__ = [
    "AdoptionDefinition",
    "AdoptionResult",
    "AdoptionSensitivity",
    "adoption_cohorts",
    "adoption_did",
    "adoption_overview",
    "certification_effect_on_ai",
    "estimated",
    "needs",
]


@dataclass(frozen=True)
class AdoptionDefinition:
    """When an engineer counts as having adopted AI.

    Parameters
    ----------
    threshold
        Smallest AI-assisted share of the period's merged PRs that counts as using AI.
    sustain
        Number of consecutive periods that must all reach ``threshold``; the first of them is
        the adoption period (1 = the first qualifying period, however brief).
    min_prs
        Periods with fewer merged PRs than this never qualify (a single AI PR is not adoption).
    """

    threshold: float = 0.5
    sustain: int = 2
    min_prs: int = 1

    def __post_init__(self):
        if not 0 < self.threshold <= 1:
            raise CertkitError(f"threshold must be in (0, 1], not {self.threshold}")
        if self.sustain < 1 or self.min_prs < 1:
            raise CertkitError("sustain and min_prs must be at least 1")

    def describe(self) -> str:
        runs = "" if self.sustain == 1 else f", sustained for {self.sustain} periods in a row"
        return (
            f"first period with at least {self.threshold:.0%} AI-assisted merged PRs "
            f"(and at least {self.min_prs} merged PR{'s' if self.min_prs > 1 else ''}){runs}"
        )


def adoption_cohorts(
    panel: pl.DataFrame,
    definition: AdoptionDefinition | None = None,
    *,
    unit: str = "engineer_id",
    time: str = "period_index",
) -> pl.DataFrame:
    """The adoption period of every engineer in a panel.

    Returns
    -------
    polars.DataFrame
        ``unit``, ``adoption_cohort`` (the adoption period's ``time`` value, 0 = never adopted
        in the window) and ``adopted_at_start`` (already qualifying in their first period).
    """
    d = definition or AdoptionDefinition()
    need = {unit, time, "merged_prs", "ai_share"} - set(panel.columns)
    if need:
        raise CertkitError(
            f"adoption needs the panel columns {sorted(need)} (build it with certkit.build_panel)"
        )
    runs = (
        panel.select(unit, time, "merged_prs", "ai_share")
        .sort(unit, time)
        .with_columns(
            (
                (pl.col("merged_prs") >= d.min_prs)
                & (pl.col("ai_share").fill_null(0) >= d.threshold)
            ).alias("_q")
        )
        .with_columns(
            # qualifying in this and the next sustain-1 periods (consecutive rows of the panel)
            pl.all_horizontal(
                [pl.col("_q").shift(-k).over(unit).fill_null(False) for k in range(d.sustain)]
            ).alias("_start"),
            pl.col(time).min().over(unit).alias("_first"),
        )
    )
    return (
        runs.group_by(unit, maintain_order=True)
        .agg(
            pl.col(time).filter(pl.col("_start")).min().alias("_adopt"),
            pl.col("_first").first(),
        )
        .select(
            unit,
            pl.col("_adopt").fill_null(0).cast(pl.Int64).alias("adoption_cohort"),
            (pl.col("_adopt") == pl.col("_first")).fill_null(False).alias("adopted_at_start"),
        )
    )


def needs(outcome: str, panel: pl.DataFrame | None = None) -> str:
    """What the adoption study of ``outcome`` needs, for a page that cannot estimate it.

    With ``panel``, the line ledger is asked for only when the panel has no ``rework_rate``
    values (a git import with the ledger has them: asking for it there misleads).
    """
    base = (
        "at least 2 engineers who adopt AI inside the window, with periods before and after, "
        "and engineers who had not adopted yet"
    )
    has_ledger = (
        panel is not None
        and "rework_rate" in panel.columns
        and panel["rework_rate"].null_count() < panel.height
    )
    if outcome == "rework_rate" and not has_ledger:
        return base + "; rework also needs a git import with the line ledger (certkit import git)"
    return base


def estimated(studies: dict[str, AdoptionResult], outcome: str) -> AdoptionResult:
    """The adoption study of ``outcome`` from ``studies``, or why a check of it cannot run.

    Raises :class:`CertkitError` when ``outcome`` has no study (it failed or was hidden) or its
    overall effect has no finite standard error (e.g. the outcome never varies).
    """
    if outcome not in studies:
        raise CertkitError(
            f"the effect of adopting AI on {outcome} was not estimated or not shown (see "
            "above), so there is nothing to check"
        )
    res = studies[outcome]
    se = res.overall[1]
    if not (se is not None and math.isfinite(se) and se > 0):
        raise CertkitError(
            f"the effect of adopting AI on {outcome} has no standard error (the outcome barely "
            "varies among adopters and their comparison group), so there is nothing to check"
        )
    return res


def adoption_overview(cohorts: pl.DataFrame, panel: pl.DataFrame, k: int = 1) -> str:
    """A sentence on who adopted AI and when (periods with fewer than ``k`` adopters unnamed)."""
    total = cohorts.height
    at_start = int(cohorts["adopted_at_start"].sum())
    inside = cohorts.filter((pl.col("adoption_cohort") > 0) & ~pl.col("adopted_at_start"))
    never = total - at_start - inside.height
    # in a shared report (k > 1) a group under k is not counted
    at_start_n = at_start if at_start == 0 or at_start >= k else f"fewer than {k}"
    never_n = never if never == 0 or never >= k else f"fewer than {k}"
    if inside.height == 0:
        return (
            f"None of the {total} engineers adopted AI inside the window ({at_start_n} already "
            "used it when first observed): there is nothing to compare before and after."
        )
    if inside.height < k:
        return (
            f"Fewer than {k} engineers adopted AI inside the window: a shared report does not "
            "describe them."
        )
    periods = (
        inside.join(
            panel.select(pl.col("period_index").alias("adoption_cohort"), "period").unique(),
            on="adoption_cohort",
        )
        .group_by("period")
        .len()
        .sort("period")
    )
    left = (
        f"{at_start_n} already used it when first observed (left out: no 'before') and "
        f"{never_n} never reached the definition."
    )
    if k > 1 and periods["len"].min() < k:
        # a period with fewer than k adopters is a group under k: when they adopted is not said
        return (
            f"{inside.height} of {total} engineers adopted AI inside the window (when is not "
            f"said: some periods have fewer than {k} adopters; shared report); {left}"
        )
    # the earliest of equally busy periods (polars' sort is not stable by default)
    busiest = periods.sort(["len", "period"], descending=[True, False]).row(0, named=True)
    first, last = periods["period"].min(), periods["period"].max()
    # one period: "between 2025-06-01 and 2025-06-01 (most in 2025-06-01: 1)" (trial Y)
    # "most in" only when one period has more than the others (trial AH: "(most in
    # 2026-01-01: 1)" of two adopters in two months)
    tied = periods.filter(pl.col("len") == busiest["len"]).height > 1
    when = (
        f"in {first}"
        if first == last
        else f"between {first} and {last}"
        + ("" if tied else f" (most in {busiest['period']}: {busiest['len']})")
    )
    return (
        f"{inside.height} of {total} engineers adopted AI inside the window, {when}; {left}"
        + lapsed_words(lapsed_adopters(cohorts, panel), inside.height, k)
    )


def lapsed_adopters(cohorts: pl.DataFrame, panel: pl.DataFrame, last: int = 3) -> int:
    """Adopters (inside the window) with no AI-assisted PR in their last ``last`` periods
    with merged PRs, all after adopting. Adoption is treated as permanent; this says how
    often the traces stopped (pydantic-ai's repository told agents to stop adding
    co-author lines in April 2026, and the share fell from 53% to 2%)."""
    adopters = cohorts.filter((pl.col("adoption_cohort") > 0) & ~pl.col("adopted_at_start")).select(
        "engineer_id", "adoption_cohort"
    )
    recent = (
        panel.join(adopters, on="engineer_id")
        .filter((pl.col("merged_prs") > 0) & (pl.col("period_index") >= pl.col("adoption_cohort")))
        .sort("engineer_id", "period_index")
        .group_by("engineer_id")
        .agg(pl.col("ai_share").fill_null(0).tail(last).alias("_tail"))
        .filter(pl.col("_tail").list.len() == last)
    )
    return int(recent.filter(pl.col("_tail").list.max() == 0).height)


def lapsed_words(lapsed: int, adopters: int, k: int = 1) -> str:
    """The sentence :func:`adoption_overview` adds about adopters whose AI traces stopped."""
    if lapsed == 0:
        return ""
    n = f"{lapsed} of them" if lapsed >= k else f"fewer than {k} of them"
    return (
        f" {n} show no AI-assisted PR in their last 3 periods with merged PRs: AI use stopped, "
        "or its traces (co-author lines, agent accounts) were switched off. The analysis treats "
        "adoption as permanent, so such periods dilute the effect of adopting."
    )


def _as_date(values: pl.Series) -> pl.Series:
    """``adoption_date`` as dates: dates, datetimes or ISO text (a rollout CSV read as text
    raised polars' "casting from string to date is not supported"; trial F)."""
    if values.dtype == pl.Date:
        return values
    if values.dtype.is_temporal():
        return values.cast(pl.Datetime).dt.date().alias(values.name)
    if values.dtype != pl.String:
        raise CertkitError(
            f"adoption_date must hold dates (or YYYY-MM-DD text); got {values.dtype} values"
        )
    days = values.str.strip_chars().str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    bad = values.is_not_null() & (values.str.strip_chars() != "") & days.is_null()
    if bad.any():
        rows = [i + 1 for i in bad.arg_true().head(5).to_list()]
        shown = ", ".join(repr(v) for v in values.filter(bad).head(3).to_list())
        raise CertkitError(
            f"adoption_date: {int(bad.sum())} value(s) are not dates written YYYY-MM-DD "
            f"(rows {', '.join(map(str, rows))}: {shown})"
        )
    return days.alias(values.name)


def _given_cohorts(panel: pl.DataFrame, adoption: pl.DataFrame, unit: str, time: str):
    """Cohorts from known adoption dates: the panel period that contains each date."""
    if not {unit, "adoption_date"} <= set(adoption.columns):
        raise CertkitError(f"adoption= needs the columns {unit!r} and 'adoption_date'")
    periods = panel.select("period", time).unique().sort("period")
    dates = adoption.select(unit, _as_date(adoption["adoption_date"])).drop_nulls()
    dates = dates.sort("adoption_date").join_asof(
        periods, left_on="adoption_date", right_on="period", strategy="backward"
    )
    first = panel.group_by(unit).agg(pl.col(time).min().alias("_first"))
    return first.join(dates.select(unit, time), on=unit, how="left").select(
        unit,
        pl.col(time).fill_null(0).cast(pl.Int64).alias("adoption_cohort"),
        (pl.col(time) <= pl.col("_first")).fill_null(False).alias("adopted_at_start"),
    )


def adoption_did(
    data,
    outcome: str = "merged_prs",
    *,
    definition: AdoptionDefinition | None = None,
    period: str = "month",
    control: str = "not_yet",
    min_e: float | None = -6,
    max_e: float | None = 6,
    by_certified: bool = True,
    adoption: pl.DataFrame | None = None,
    level: float = 0.95,
    unit: str = "engineer_id",
    time: str = "period_index",
    **kwargs,
) -> AdoptionResult:
    """Staggered DiD of adopting AI on ``outcome`` (Callaway & Sant'Anna, via :mod:`certkit.did`).

    Parameters
    ----------
    data
        A :class:`~certkit.data.dataset.Dataset` (a panel is built by ``period``) or a panel.
    outcome
        A panel outcome (``merged_prs``, ``cycle_time_log_median``, ``defects_per_pr``,
        ``revert_rate``, ...).
    definition
        When an engineer counts as adopting (:class:`AdoptionDefinition`).
    control
        ``"not_yet"`` (default: engineers who have not adopted yet, and never adopters) or
        ``"never"``.
    min_e, max_e
        Event-time window of the event study.
    by_certified
        Also estimate the effect separately for engineers ever certified and never certified
        in the window, and their difference (independent subsamples).
    adoption
        Known adoption dates instead of the data-defined ones (e.g. AI-tool seat assignments):
        a frame with ``unit`` and ``adoption_date`` (engineers missing from it, or with a null
        date, never adopted). ``definition`` is then not used.
    level
        Confidence level of the intervals.
    **kwargs
        Passed to :func:`certkit.did.att_gt` (``method``, ``cluster``, ``covariates``...).
    """
    from certkit import did
    from certkit.data.panel import build_panel

    if isinstance(data, pl.DataFrame):
        panel = data
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CertkitWarning)
            panel = build_panel(data, period)
    if outcome not in panel.columns:
        raise CertkitError(
            f"outcome {outcome!r} is not a panel column; choose from {panel.columns}"
        )
    if control not in ("never", "not_yet"):  # before the data: a typo is not "0 adopters"
        raise CertkitError(f"control must be 'never' or 'not_yet', got {control!r}")
    d = definition or AdoptionDefinition()
    if adoption is None:
        cohorts = adoption_cohorts(panel, d, unit=unit, time=time)
    else:
        cohorts = _given_cohorts(panel, adoption, unit, time)
    dropped = int(cohorts["adopted_at_start"].sum())
    keep = cohorts.filter(~pl.col("adopted_at_start"))
    n_adopters = int((keep["adoption_cohort"] > 0).sum())
    if n_adopters < 2:
        raise CertkitError(
            f"only {n_adopters} engineer(s) adopted AI inside the window ({d.describe()}); the "
            "adoption study needs at least 2 adopters and engineers who had not adopted yet"
        )
    data_ = panel.join(keep.select(unit, "adoption_cohort"), on=unit, how="inner")
    notes: list[str] = []
    if dropped:
        notes.append(
            f"{dropped} engineer(s) already used AI in their first observed period and are left "
            "out (no pre-adoption data)"
        )
    spec = dict(outcome=outcome, unit=unit, time=time, group="adoption_cohort", control=control)
    level = level_from_alpha(level, kwargs.pop("alpha", None))  # one level for every estimate
    spec |= dict(level=level, **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CertkitWarning)
        es = did.event_study(data_, min_e=min_e, max_e=max_e, **spec)
    notes += [
        adoption_words(str(w.message)) for w in caught if issubclass(w.category, CertkitWarning)
    ]
    adopters = data_.filter(pl.col("adoption_cohort") > 0, pl.col(outcome).is_not_null())
    counts = dict(
        adopters.group_by(e=pl.col(time) - pl.col("adoption_cohort"))
        .agg(pl.col(unit).n_unique())
        .select(pl.format("e={}", "e"), unit)
        .iter_rows()
    )
    overall = es.parent.aggregate("simple")
    # the adopters behind the overall effect: those with the outcome both in the period a
    # post-adoption cell compares with and in that cell's period (trial AF, huggingface_hub:
    # "rests on only 3 adopters" where two had no rework in the month before adopting)
    behind = overall.n_engineers
    counts["ATT (after adoption, simple average)"] = n_adopters if behind is None else behind
    groups = {}
    if by_certified and "cohort" in data_.columns:
        groups = _by_certification(data_, adopters, spec, counts, notes)
    return AdoptionResult(
        definition=d,
        event_study=es,
        overall=_overall(overall),
        single_weight=overall.single_weight,
        groups=groups,
        cohorts=cohorts,
        notes=notes,
        counts=counts,
        data=data_,
        spec=spec,
    )


def _overall(agg) -> tuple[float, float]:
    """The overall effect of a simple aggregation and its standard error."""
    return float(agg.overall_att), float(agg.overall_se)


def _simple(frame: pl.DataFrame, spec: dict) -> tuple[float, float]:
    """The simple average of the post-adoption ATT(g, t) and its standard error.

    On the event study's own data, :func:`adoption_did` aggregates the event study's
    ATT(g, t) instead (the same cells: this would estimate them a second time).
    """
    from certkit import did

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        res = did.att_gt(frame, **spec).aggregate("simple")
    return _overall(res)


#: Fewest adopters on each side (certified, never-certified) for their difference to be
#: estimated: with one engineer a side the difference is that person's ramp-up against
#: another's, and its standard error leaves out their own noise (trial I, python-sdk: "+20.1
#: PRs (95% CI +15 to +25.2)" on 1 certified and 1 never-certified adopter).
MIN_PER_SIDE = 2


def _by_certification(data_, adopters, spec, counts, notes) -> dict[str, tuple[float, float]]:
    """The adoption effect of ever- and never-certified engineers, and their difference (only
    with at least :data:`MIN_PER_SIDE` adopters on each side). Ever certified: ``cohort``
    not 0, which in a panel built with ``keep_arrivals`` includes those certified before
    the data (cohort -1)."""
    groups: dict[str, tuple[float, float]] = {}
    unit = spec["unit"]
    for name, mask in (
        ("certified engineers", pl.col("cohort") != 0),
        ("never-certified engineers", pl.col("cohort") == 0),
    ):
        counts[name] = adopters.filter(mask)[unit].n_unique()
        try:
            groups[name] = _simple(data_.filter(mask), spec)
        except CertkitError as exc:
            notes.append(f"no separate estimate for {name}: {adoption_words(str(exc))}")
    fewest = min(counts["certified engineers"], counts["never-certified engineers"])
    if len(groups) == 2 and fewest >= MIN_PER_SIDE:
        (a, sa), (b, sb) = groups.values()
        diff = "difference (certified - not certified)"
        groups[diff] = (a - b, float(np.hypot(sa, sb)))
        counts[diff] = fewest
    return groups


def certification_effect_on_ai(data, outcome: str = "ai_share", **kwargs):
    """Does certifying change AI use? The certification event study on an AI outcome.

    A thin call of :func:`certkit.did.event_study` with the certification cohort and
    ``outcome="ai_share"`` (or ``"ai_prs"``) so that the question has a name.
    """
    from certkit import did
    from certkit.data.panel import build_panel

    panel = (
        data if isinstance(data, pl.DataFrame) else build_panel(data, kwargs.pop("period", "month"))
    )
    kwargs.setdefault("control", "not_yet")
    return did.event_study(
        panel, outcome=outcome, unit="engineer_id", time="period_index", group="cohort", **kwargs
    )
