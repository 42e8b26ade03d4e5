"""Robustness panel: do the heterogeneity-robust DiD estimators agree?

:func:`robustness` runs, on one panel and with the same settings,

* Callaway & Sant'Anna, never-treated comparison (``certkit.did.att_gt(...).aggregate("simple")``),
* Callaway & Sant'Anna, not-yet-treated comparison,
* Sun & Abraham's interaction-weighted estimator (:func:`certkit.did.sun_abraham`),
* Borusyak-Jaravel-Spiess imputation (:func:`certkit.did.imputation`),
* static two-way fixed effects (``certkit.did.twfe``), the contrast that is biased when
  effects differ across cohorts or grow over time,

and returns one table, one forest chart and a sentence, generated from the numbers, saying
whether the four robust estimators agree. They target slightly different averages (CS and
Sun-Abraham weight post-treatment cells by cohort size; imputation weights every treated
observation equally) and use different comparisons (never treated only, or also not yet
treated), so some spread is expected; see ``docs/robustness.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from certkit.data.contract import panel_columns
from certkit.did.bjs import imputation
from certkit.did.robust_base import tidy_rows
from certkit.did.sunab import sun_abraham
from certkit.errors import CertkitError
from certkit.narrative.robust import excluded_words, fmt
from certkit.results import EffectSummary, EstimateMixin
from certkit.stats.vcov import level_from_alpha

if TYPE_CHECKING:  # altair costs seconds to import: only plot() needs it
    import altair as alt

__all__ = ["robustness", "RobustnessResult", "ESTIMATORS"]

CS_NEVER = "CS (never treated)"  # CS = Callaway & Sant'Anna; short labels fit the chart
CS_NOTYET = "CS (not yet treated)"
SUNAB = "Sun-Abraham"
IMPUTATION = "Imputation (BJS)"
TWFE = "TWFE (static, not robust)"
#: Estimators of the panel, in table order; all but TWFE are heterogeneity-robust.
ESTIMATORS = [CS_NEVER, CS_NOTYET, SUNAB, IMPUTATION, TWFE]
COMPARISON = {
    CS_NEVER: "never treated",
    CS_NOTYET: "never + not yet treated",
    SUNAB: "never treated",
    IMPUTATION: "never + not yet treated",
    TWFE: "all untreated and earlier-treated",
}


class RobustnessResult(EstimateMixin):
    """Side-by-side overall effects of the robust estimators and TWFE, with a verdict."""

    title = "Robustness: heterogeneity-robust DiD estimators side by side"

    def __init__(self, table, *, outcome, level, agree, verdict, results, warnings, unreliable=()):
        self.table, self.outcome, self.level = table, outcome, level
        self.agree, self.verdict = agree, verdict
        self.results = results
        self.warnings = warnings
        #: Estimators whose standard error is not reliable (cohorts of a single engineer).
        self.unreliable = list(unreliable)

    @property
    def not_computed(self) -> list[str]:
        """Why each estimator without a row could not run ("Sun-Abraham not computed: ..."),
        for the reader beside the table (trial P: a row of dashes with the reason only in
        ``warnings``)."""
        return [w for w in self.warnings if " not computed: " in w]

    @property
    def alpha(self) -> float:
        """Deprecated: ``1 - level``."""
        return 1 - self.level

    def tidy(self) -> pl.DataFrame:
        """``term`` (estimator), ``estimate, std_error, statistic, p_value, conf_low,
        conf_high, n`` (treated observations averaged)."""
        return self.table

    def to_polars(self) -> pl.DataFrame:
        """The tidy table plus ``robust`` (bool), ``comparison`` (comparison group) and
        ``se_reliable`` (False when the estimate rests on cohorts of a single engineer or has
        no finite standard error; null
        for an estimator that gave no estimate: cargo's table read "Sun-Abraham | - | 0 |
        yes")."""
        estimated = pl.col("estimate").is_not_nan() & pl.col("estimate").is_not_null()
        return self.table.with_columns(
            (pl.col("term") != TWFE).alias("robust"),
            pl.col("term").replace_strict(COMPARISON, default=None).alias("comparison"),
            pl.when(estimated)
            .then(~pl.col("term").is_in(self.unreliable) & pl.col("std_error").is_finite())
            .otherwise(None)
            .alias("se_reliable"),
        )

    def _header(self) -> dict[str, object]:
        return {"outcome": self.outcome, "verdict": self.verdict}

    def effect_summary(self) -> EffectSummary:
        """The table and the verdict."""
        return EffectSummary(self.table, self.verdict)

    def plot(self) -> alt.FacetChart | alt.LayerChart:
        """Forest chart: each estimator's estimate and confidence interval, zero marked."""
        import altair as alt

        from certkit import charts

        lvl = f"{100 * self.level:.0f}%"
        subtitle = ["CS = Callaway-Sant'Anna; BJS = Borusyak-Jaravel-Spiess"]
        table = self.table.filter(pl.col("estimate").is_finite())
        if self.unreliable:  # hair-thin intervals drawn like the others (httpx, trial F)
            table = table.with_columns(
                pl.when(pl.col("term").is_in(self.unreliable))
                .then(pl.col("term") + " (SE not reliable)")
                .otherwise(pl.col("term"))
                .alias("term")
            )
            subtitle.append(
                "SE not reliable: cohorts of a single engineer, so its interval is too narrow"
            )
        return charts.forest(
            table,
            y="term",
            x="estimate",
            lower="conf_low",
            upper="conf_high",
            title=alt.TitleParams(
                f"Effect on {self.outcome}: robust estimators and TWFE ({lvl} intervals)",
                subtitle=subtitle,
            ),
        )


def _treated_obs_cs(res) -> int:
    post = res.group <= res.time
    return int(np.sum(res.n_treated[post]))


def _verdict(
    table: pl.DataFrame,
    outcome: str,
    level: float,
    unreliable: dict | None = None,
    show: Callable[[float], str] = fmt,
) -> tuple[bool | None, str]:
    """Whether the robust estimators agree, in words.

    ``unreliable`` maps estimators whose standard error is not reliable (cohorts of a single
    engineer, see :class:`certkit.did.robust_base.ThinSupport`) to their thin support: their
    estimates count in the range, but not in the significance call or the margin of error.
    ``show`` writes a value in words (default: 3 significant digits).
    """

    def size(x: float) -> str:  # a spread or margin: no sign
        return show(x).lstrip("+")

    rob = table.filter((pl.col("term") != TWFE) & pl.col("estimate").is_finite())
    lvl = f"{100 * level:.0f}%"
    if rob.height < 2:
        return None, (
            f"Only {rob.height} heterogeneity-robust estimator could be computed on these data, "
            "so there is nothing to compare."
        )
    names = rob["term"].to_list()
    excluded = {n: t for n, t in (unreliable or {}).items() if n in names}
    width = ((rob["conf_high"] - rob["conf_low"]) / 2).to_numpy()
    # an estimator without a finite interval has no margin of error to compare with (the
    # verdict read "more than the typical 95% margin of error (n/a)")
    ok = np.array([n not in excluded for n in names]) & np.isfinite(width)
    est = rob["estimate"].to_numpy()
    half = width[ok]
    lo_i, hi_i = int(np.argmin(est)), int(np.argmax(est))
    spread = float(est[hi_i] - est[lo_i])
    if show(est[lo_i]) == show(est[hi_i]):  # read "from -2.96 (CS) to -2.96 (CS)" (click)
        rng = f"are all {show(est[lo_i])} ({', '.join(names)}), a spread of {size(spread)}"
    else:
        rng = (
            f"range from {show(est[lo_i])} ({names[lo_i]}) to {show(est[hi_i])} "
            f"({names[hi_i]}), a spread of {size(spread)}"
        )
    left_out = f" {excluded_words(excluded)}" if excluded else ""
    if not ok.any():
        return None, (
            f"The {rob.height} heterogeneity-robust estimators' estimates of the effect on "
            f"{outcome} {rng}, but none has a reliable, finite standard "
            "error, so whether they agree within their margins of error cannot be judged."
            f"{left_out}"
        )
    margin = float(np.median(half))
    sig = rob["p_value"].to_numpy()[ok] < 1 - level
    signs = np.sign(est[ok][sig])
    close = spread <= margin
    same_call = (not sig.any()) or (sig.all() and np.all(signs == signs[0]))
    agree = bool(close and same_call)
    n_ok = int(ok.sum())
    which = f"{n_ok} with a reliable standard error" if excluded else str(n_ok)
    if n_ok == 1:
        only = names[int(np.nonzero(ok)[0][0])]
        call = f"the only one with a reliable standard error, {only}, is " + (
            "" if sig.all() else "not "
        )
        call += f"distinguishable from zero at the {lvl} level"
    elif sig.all():
        call = f"all {which} are distinguishable from zero at the {lvl} level" + (
            " and have the same sign" if np.all(signs == signs[0]) else ", with opposite signs"
        )
        # those set aside for their standard error may point the other way (trial H: CS
        # +0.024 twice "the same sign" beside BJS -0.041, set aside, on 3 adopters)
        other = [n for n, e in zip(names, est, strict=True) if n in excluded and e * signs[0] < 0]
        if other and np.all(signs == signs[0]):
            one = len(other) == 1
            call += (
                f"; {', '.join(other)}, whose standard error{' is' if one else 's are'} not "
                f"reliable, {'has' if one else 'have'} the opposite sign"
            )
    elif not sig.any():
        call = (
            f"none {'of the ' + which + ' ' if excluded else ''}is distinguishable from zero at "
            f"the {lvl} level"
        )
    else:
        yes = ", ".join(n for n, s in zip(np.array(names)[ok], sig, strict=True) if s)
        call = f"they differ on whether the effect is distinguishable from zero (yes: {yes})"
    if agree and est[lo_i] < 0 < est[hi_i] and show(est[lo_i]) != show(est[hi_i]):
        # within the margin but of opposite signs: not "agree" (trial Y: "agree ... from
        # -0.835 (CS) to +3.71 (BJS)" read as corroboration)
        text = (
            f"The {rob.height} heterogeneity-robust estimators do not contradict each other on "
            f"the effect on {outcome}, but differ in sign: estimates {rng}, within the typical "
            f"{lvl} margin of error ({size(margin)}), and {call}; the data do not settle the "
            "direction."
        )
    elif agree:
        text = (
            f"The {rob.height} heterogeneity-robust estimators agree on the effect on {outcome}: "
            f"estimates {rng}, within the typical {lvl} margin "
            f"of error ({size(margin)}), and {call}."
        )
    else:
        why = (
            f"more than the typical {lvl} margin of error ({size(margin)})"
            if not close
            else f"within the typical margin of error ({size(margin)})"
        )
        text = (
            f"The heterogeneity-robust estimators do not fully agree on the effect on {outcome}: "
            f"estimates {rng}, {why}, and {call}. They differ in comparison group (never "
            "versus not-yet treated) and weighting; read the estimate with the widest support "
            "with caution and check the event studies for pre-trends."
        )
    text += left_out
    tw = table.filter(pl.col("term") == TWFE)
    if tw.height and math.isfinite(tw["estimate"][0]):
        text += " " + _twfe_words(float(tw["estimate"][0]), est, margin, show)
    return agree, text


def _twfe_words(
    t: float, est: np.ndarray, margin: float, show: Callable[[float], str] = fmt
) -> str:
    """Where static TWFE falls against the robust estimates, in words.

    "Close" only inside the robust range; outside it, within the margin of error is said as
    such, with the sign when every robust estimate has the other one (pydantic-ai: TWFE 4.95
    was "close to" robust estimates of -3.37 to 0.262 because the margin was 10.3, while the
    TWFE section of the same page called it misleading for its opposite sign).
    """
    lo, hi = float(est.min()), float(est.max())
    if lo <= t <= hi:
        return f"Static TWFE gives {show(t)}, within the robust range."
    opposite = (t > 0 and hi < 0) or (t < 0 and lo > 0)
    sign = ", with the opposite sign of every robust estimate" if opposite else ""
    if lo - margin <= t <= hi + margin:
        return (
            f"Static TWFE gives {show(t)}, outside the robust range ({show(lo)} to {show(hi)}) "
            f"but within the typical margin of error{sign}."
        )
    return (
        f"Static TWFE gives {show(t)}, outside the robust range{sign}: with staggered adoption "
        "and effects that differ by cohort or grow over time, TWFE's comparisons of later "
        "with earlier adopters bias it."
    )


def robustness(
    data: pl.DataFrame,
    *,
    outcome: str,
    unit: str | None = None,
    time: str | None = None,
    group: str | None = None,
    anticipation: int = 0,
    cluster: str | None = None,
    level: float = 0.95,
    alpha: float | None = None,
    name: str | None = None,
    value_words: Callable[[float], str] | None = None,
) -> RobustnessResult:
    """Callaway-Sant'Anna (never / not yet), Sun-Abraham, imputation and TWFE side by side.

    Parameters
    ----------
    data
        Long panel (polars), one row per unit and period.
    outcome, unit, time, group
        Column names, as in :func:`certkit.did.att_gt` (``group`` = first treated period,
        0 = never treated; ``unit``, ``time``, ``group`` default to the panel contract's).
    anticipation
        Periods of anticipation, passed to every estimator.
    cluster
        Column to cluster standard errors on (default: the unit), passed to every estimator.
    level
        Confidence level of every interval (default 0.95).
    alpha
        Deprecated: ``1 - level``.
    name
        The outcome in the verdict's words (default: ``outcome``, the column name).
    value_words
        Writes an estimate in its unit for the verdict (e.g. ``-3.94 percentage points`` for
        a share; default: the number to 3 significant digits), so the verdict reads in the
        unit of the headline it stands beside.

    Returns
    -------
    RobustnessResult
        ``tidy()`` one row per estimator (``term``), ``plot()`` a forest chart, ``verdict``
        the sentence, ``agree`` (True / False, None when fewer than two robust estimates),
        ``results`` the underlying result objects. An estimator that cannot run on the data
        (e.g. no never-treated units) gets a row of nulls and a note saying why. An
        estimator whose ``se_reliable`` is False is left out of the significance call and
        the margin of error, with the reason (``unreliable``): Sun-Abraham and BJS from 10%
        of the weight on cohorts of a single engineer, Callaway-Sant'Anna from the
        headline's :data:`~certkit.narrative.effects.SINGLE_WEIGHT_LIMIT` (half), where the
        effect line calls it "not evidence of an effect".
    """
    from certkit import did

    level = level_from_alpha(level, alpha)
    cols = panel_columns(data, unit, time, group)
    common = dict(outcome=outcome, **cols._asdict())
    settings = dict(anticipation=anticipation, cluster=cluster, level=level)
    rows: dict[str, tuple[float, float, int]] = {}
    results: dict[str, object] = {}
    notes: list[str] = []

    def attempt(name, fn):
        try:
            res, est, se, n = fn()
        except CertkitError as exc:
            if name == CS_NEVER:
                raise
            notes.append(f"{name} not computed: {exc}")
            rows[name] = (math.nan, math.nan, 0)
            return
        results[name] = res
        rows[name] = (est, se, n)
        notes.extend(f"{name}: {w}" for w in getattr(res, "warnings", []) or [])

    def cs(control):
        def run():
            res = did.att_gt(data, **common, control=control, **settings)
            agg = res.aggregate("simple")
            return agg, agg.overall_att, agg.overall_se, _treated_obs_cs(res)

        return run

    def sa():
        g = data[cols.group]
        control = "never" if (g == 0).any() else "last"
        r = sun_abraham(data, **common, control=control, **settings)
        return r, r.estimate, r.se, int(r.tidy()["n"][0])

    def imp():
        r = imputation(data, **common, **settings)
        return r, r.estimate, r.se, int(r.tidy()["n"][0])

    def tw():
        r = did.twfe(data, **common, **settings)
        g = data[cols.group].to_numpy().astype(float)
        tv = data[cols.time].to_numpy().astype(float)
        yok = data[outcome].cast(pl.Float64).fill_nan(None).is_not_null().to_numpy()
        n = int(np.sum((g > 0) & (tv >= g - anticipation) & yok))
        return r, r.estimate, r.se, n

    has_never = bool((data[cols.group] == 0).any()) if cols.group in data.columns else True
    if has_never:
        attempt(CS_NEVER, cs("never"))
    else:
        rows[CS_NEVER] = (math.nan, math.nan, 0)
        notes.append(f"{CS_NEVER} not computed: there are no never-treated units")
    attempt(CS_NOTYET, cs("not_yet"))
    attempt(SUNAB, sa)
    attempt(IMPUTATION, imp)
    attempt(TWFE, tw)
    names = [n for n in ESTIMATORS if n in rows]
    table = tidy_rows(
        names,
        [rows[n][0] for n in names],
        [rows[n][1] for n in names],
        [rows[n][2] for n in names],
        level,
    )
    unreliable = {n: r.thin for n, r in results.items() if getattr(r, "se_reliable", True) is False}
    agree, verdict = _verdict(table, name or outcome, level, unreliable, value_words or fmt)
    return RobustnessResult(
        table,
        outcome=outcome,
        level=level,
        agree=agree,
        verdict=verdict,
        results=results,
        warnings=list(dict.fromkeys(notes)),
        unreliable=list(unreliable),
    )
