"""HonestDiD sensitivity analysis (Rambachan & Roth, 2023): what if trends were not parallel?

``honest(...)`` returns robust confidence intervals for an event-study effect when parallel
trends may be violated after certification by a bounded amount:

* ``method="relative_magnitude"`` (Delta^RM(Mbar)): post-certification violations (changes of
  the treated-minus-comparison trend from one period to the next) are at most ``Mbar`` times
  the largest such change before certification. Intervals: conditional-least-favourable
  hybrid (C-LF), R's ``createSensitivityResults_relativeMagnitudes`` default.
* ``method="smoothness"`` (Delta^SD(M)): the slope of the differential trend may change by at
  most ``M`` (outcome units per period, per period) from one period to the next; ``M = 0``
  allows exactly linear pre-trends that continue. Intervals: the optimal fixed-length CI
  (FLCI), R's ``createSensitivityResults`` default.

Defaults follow R HonestDiD: ``l_vec`` = the first post period, ``level`` 0.95, ``mbar`` =
10 values on [0, 2], ``m`` = 10 values from 0 to R's ``DeltaSD_upperBound_Mpre``, 1000 grid
points on +-20 standard errors for C-LF, ``kappa = alpha / 10``. The numbers match R's (see
``docs/honest.md`` and ``tests/test_honest.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from certkit.did.aggregate import AggregateResult
from certkit.did.honest_arp import rm_conditional_cs
from certkit.did.honest_flci import flci, sd_upper_bound_mpre
from certkit.errors import CertkitError
from certkit.results import EffectSummary, ResultMixin

__all__ = ["honest", "HonestResult", "event_study_inputs", "event_time_inputs"]

_LABEL = {
    "relative_magnitude": ("mbar", "C-LF", "Delta^RM"),
    "smoothness": ("m", "FLCI", "Delta^SD"),
}


def _fmt(x: float) -> str:
    return f"{x:.3g}"


class HonestResult(ResultMixin):
    """Robust confidence intervals over a grid of Mbar (or M), the original CI and the breakdown.

    Attributes
    ----------
    method : {"relative_magnitude", "smoothness"}
    param : {"mbar", "m"}
        Name of the bound's tuning parameter (column of the table).
    grid : numpy.ndarray
        The Mbar / M values.
    conf_low, conf_high : numpy.ndarray
        Robust interval per grid value (NaN when the test rejects every value).
    original : tuple[float, float]
        The usual CI of ``l'beta_post`` (R's ``constructOriginalCS``).
    estimate, se : float
        ``l'beta_post`` and its standard error.
    breakdown : float or None
        Largest grid value up to which every robust CI excludes zero (None if the first
        one does not, or the original CI does not).
    table : polars.DataFrame
        One row for the original CI, one per grid value.
    single_weight : float or None
        With ``result=``: the share of the target's weight on group-time cells resting on a
        single certified engineer (None otherwise); see :attr:`se_reliable`.
    """

    single_weight: float | None = None

    def __init__(
        self,
        *,
        method,
        grid,
        low,
        high,
        centers,
        estimate,
        se,
        level,
        term,
        outcome,
        num_pre,
        num_post,
        l_vec,
        warnings,
    ):
        self.method = method
        self.param, self.interval_method, self.restriction = _LABEL[method]
        self.grid = np.asarray(grid, dtype=float)
        self.conf_low, self.conf_high = np.asarray(low, float), np.asarray(high, float)
        self.estimate, self.se, self.level = float(estimate), float(se), float(level)
        z = stats.norm.ppf(1 - (1 - level) / 2)
        self.original = (self.estimate - z * self.se, self.estimate + z * self.se)
        self.term, self.outcome = term, outcome
        self.num_pre, self.num_post, self.l_vec = num_pre, num_post, np.asarray(l_vec, float)
        self.warnings = list(warnings)
        self.title = f"HonestDiD sensitivity ({self.restriction}, {self.interval_method})"
        sig = (self.conf_low > 0) | (self.conf_high < 0)
        self.significant = sig
        self.original_significant = bool(self.original[0] > 0 or self.original[1] < 0)
        order = np.argsort(self.grid, kind="stable")
        ok = np.cumprod(sig[order]).astype(bool)
        self.breakdown = (
            float(self.grid[order][ok].max()) if ok.any() and self.original_significant else None
        )
        self.breakdown_is_lower_bound = bool(ok.all()) and self.breakdown is not None
        n = len(self.grid) + 1
        # the contract columns first; a robust confidence set has no standard error, so
        # std_error, statistic and p_value are null except on the original (Wald) row
        ok = np.isfinite(self.se) and self.se > 0
        stat = self.estimate / self.se if ok else None
        self.table = pl.DataFrame(
            {
                "term": [term] * n,
                "estimate": [self.estimate] + [None if c is None else float(c) for c in centers],
                "std_error": [self.se if ok else None] + [None] * (n - 1),
                "statistic": [stat] + [None] * (n - 1),
                "p_value": [float(2 * stats.norm.sf(abs(stat))) if ok else None] + [None] * (n - 1),
                "conf_low": [self.original[0]] + self.conf_low.tolist(),
                "conf_high": [self.original[1]] + self.conf_high.tolist(),
                "method": ["original"] + [self.interval_method] * (n - 1),
                self.param: [None] + self.grid.tolist(),
                "significant": [self.original_significant] + sig.tolist(),
            },
            schema_overrides={
                c: pl.Float64 for c in (self.param, "estimate", "std_error", "statistic", "p_value")
            },
        )

    @property
    def se_reliable(self) -> bool:
        """False from :data:`~certkit.narrative.effects.SINGLE_WEIGHT_LIMIT` of the target's
        weight on cohorts of one engineer (:attr:`single_weight`), whose own variation its
        intervals, original and robust, do not count: the numbers stay HonestDiD's, the words
        make no call on significance (trial AE: "It stays significant unless ...")."""
        from certkit.narrative.effects import SINGLE_WEIGHT_LIMIT

        w = self.single_weight
        return w is None or not np.isfinite(w) or w < SINGLE_WEIGHT_LIMIT

    def tidy(self) -> pl.DataFrame:
        """The contract columns (``term, estimate, std_error, statistic, p_value, conf_low,
        conf_high``), then ``method``, the bound (``mbar`` or ``m``) and ``significant``.

        One row for the original CI (with its standard error), one per bound value; a robust
        confidence set has no standard error, so ``std_error``, ``statistic`` and ``p_value``
        are null in those rows. Same as :meth:`to_polars`.
        """
        return self.table

    def _header(self) -> dict[str, object]:
        pct = f"{100 * self.level:g}%"
        what = (
            "post-period trend violations <= Mbar x largest pre-period violation"
            if self.method == "relative_magnitude"
            else "change in the differential trend's slope <= M per period"
        )
        h = {
            "outcome": self.outcome or "(not given)",
            "target": self.term,
            "restriction": f"{self.restriction}: {what}",
            "original": f"{self.estimate:.4g} ({pct} CI {self.original[0]:.4g} to "
            f"{self.original[1]:.4g})",
            "breakdown": "none"
            if self.breakdown is None
            else f"{self.param} = {self.breakdown:g}"
            + (" (significant at every value tried)" if self.breakdown_is_lower_bound else ""),
        }
        if not self.se_reliable:
            h["standard error"] = f"not reliable: {self._single_words()}"
        h["in words"] = self.effect_summary().text
        return h

    def effect_summary(self) -> EffectSummary:
        """The original estimate and the robust intervals (``table``), and one or two
        sentences for a report built from the numbers (``text``; ``str()`` adds the table)."""
        return EffectSummary(self.tidy(), self._words())

    def _words(self) -> str:
        """The sentences of :meth:`effect_summary`."""
        pct = f"{100 * self.level:g}%"
        on = f" on {self.outcome}" if self.outcome else ""
        when = _term_words(self.term)
        show = getattr(self, "value_words", None) or _fmt
        head = (
            f"The effect{on} {when} is {show(self.estimate)} ({pct} CI "
            f"{show(self.original[0])} to {show(self.original[1])})."
        )
        if not self.se_reliable and self.original_significant:
            return head + (
                f" Its standard error is not reliable: {self._single_words()}, so this interval "
                "and the robust ones built on it are too narrow and say nothing either way "
                "about whether an effect survives non-parallel trends."
            )
        if not self.original_significant:
            text = head + " It is not significant even under exact parallel trends."
            if self.significant.any():  # httpx (trial F): the table said "yes" at M = 0
                i = int(np.argmax(self.significant))
                shift = (
                    "it extrapolates the pre-certification trend into the post period"
                    if self.method == "smoothness"
                    else "the restriction moves the interval"
                )
                text += (
                    f" The robust {pct} interval at {self._value_words(self.grid[i])} "
                    f"({show(self.conf_low[i])} to {show(self.conf_high[i])}) does exclude "
                    f"zero: {shift}, so it is evidence about that trend, not an effect shown "
                    "under parallel trends."
                )
            return text
        order = np.argsort(self.grid, kind="stable")
        if self.breakdown is None:
            first = self.grid[order][0]
            return head + (
                f" It stops being significant as soon as trends may differ: the robust {pct} "
                f"interval already includes zero at {self._value_words(first)}."
            )
        if self.breakdown_is_lower_bound:
            return head + (
                f" It stays significant for every bound tried, up to "
                f"{self._value_words(self.breakdown)}."
            )
        nxt = self.grid[order][np.searchsorted(self.grid[order], self.breakdown, "right")]
        if self.breakdown == 0:
            core = (
                " It is significant only if trends are exactly parallel after certification "
                f"({self._value_words(0.0)})"
            )
        elif self.method == "relative_magnitude":
            core = (
                f" It stays significant unless post-certification trend violations exceed "
                f"{self.breakdown:.3g}x the largest pre-certification one"
            )
        else:
            core = (
                f" It stays significant unless the slope of the certified-minus-comparison trend "
                f"changes by more than M = {self.breakdown:.3g} (outcome units) from one period "
                "to the next (M = 0 allows a pre-certification linear trend that simply "
                "continues)"
            )
        return (
            head
            + core
            + (f"; at {self._value_words(nxt)} the robust {pct} interval includes zero.")
        )

    def _single_words(self) -> str:
        return (
            f"{self.single_weight:.0%} of its weight rests on certification cohorts of one "
            "engineer, whose own variation its interval does not count"
        )

    def _value_words(self, v: float) -> str:
        return f"Mbar = {v:.3g}" if self.method == "relative_magnitude" else f"M = {v:.3g}"

    def plot_data(self) -> pl.DataFrame:
        """The table of :meth:`tidy` with ``bound``, the x-axis label of each interval."""
        labels = ["original"] + [f"{v:.3g}" for v in self.grid]
        return self.table.with_columns(pl.Series("bound", labels))

    def plot(self):
        """Sensitivity chart: the original CI, then the robust CI for each Mbar / M."""
        from certkit import charts

        df = self.plot_data()
        xt = "Mbar (relative magnitude)" if self.param == "mbar" else "M (smoothness)"
        title = f"Sensitivity to non-parallel trends: {self.outcome or self.term}"
        return charts.sensitivity(df, x="bound", color="method", x_title=xt, title=title)


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------


def _term_words(term: str) -> str:
    """Which effect a sentence is about: "e = 0" is the period of certification."""
    if term.startswith("e = "):
        e = float(term.removeprefix("e = "))
        if e == 0:
            return "in the period of certification (e = 0)"
        return f"{e:g} period(s) after certification (e = {e:g})"
    return f"({term})"


def event_study_inputs(result: AggregateResult) -> dict[str, Any]:
    """Betahat, sigma and period counts from a certkit Callaway-Sant'Anna event study.

    ``result`` must be ``certkit.did.event_study(..., base_period="universal")`` (or
    ``att_gt(..., base_period="universal").aggregate("dynamic")``). The covariance of the
    event-time estimates comes from their influence functions, summed within clusters as the
    estimates are (R HonestDiD's ``honest_did`` for ``did`` results: ``V = IF'IF / n^2``). The
    reference period ``e = -1 - anticipation`` is the normalised zero and is dropped;
    pre-periods are the event times before it, post-periods those after it.
    """
    if not isinstance(result, AggregateResult) or result.kind != "dynamic":
        what = (
            f"an aggregation of kind {result.kind!r}"
            if isinstance(result, AggregateResult)
            else type(result).__name__
        )
        raise CertkitError(
            "honest(result=...) needs a certkit event study, "
            "did.event_study(..., base_period='universal'), got "
            f"{what}; for estimates from elsewhere pass betahat, sigma, num_pre_periods "
            "and num_post_periods"
        )
    settings = result.parent.settings
    if settings.get("base_period") != "universal":
        raise CertkitError(
            "HonestDiD needs a universal base period; rerun "
            "event_study(..., base_period='universal')"
        )
    ref = -1.0 - float(settings.get("anticipation", 0))
    return event_time_inputs(
        result.keys, result.att, result.vcov(), reference=ref, outcome=settings.get("outcome")
    )


def event_time_inputs(
    event_times, estimates, vcov, *, reference: float = -1.0, outcome: str | None = None
) -> dict[str, Any]:
    """Split event-time estimates and their covariance into HonestDiD's inputs.

    Drops the ``reference`` event time (the normalised zero) and checks that the pre-period
    (before it) and post-period (after it) event times are consecutive.
    """
    e = np.asarray(event_times, dtype=float).ravel()
    b = np.asarray(estimates, dtype=float).ravel()
    V = np.asarray(vcov, dtype=float)
    if e.size != b.size or V.shape != (e.size, e.size):
        raise CertkitError(
            f"event-study result has {e.size} event times, {b.size} estimates and a "
            f"{V.shape} covariance; they must agree"
        )
    keep = e != reference
    e, b, V = e[keep], b[keep], V[np.ix_(keep, keep)]
    pre, post = e < reference, e > reference
    for side, mask in (("pre", pre), ("post", post)):
        ev = np.sort(np.append(e[mask], reference))
        if not np.all(np.diff(ev) == 1):
            raise CertkitError(
                f"HonestDiD needs consecutive event times; the {side}-period event times are "
                f"{e[mask].tolist()} (reference {reference:g})"
            )
    missing = ~(np.isfinite(b) & np.isfinite(np.diag(V)))
    if missing.any():
        raise CertkitError(
            "HonestDiD cannot run: the event-study estimate(s) at "
            + ", ".join(f"e = {t:g}" for t in np.sort(e[missing]))
            + " could not be estimated (no engineer with data at that distance from the "
            "event); narrow the event window (min_e, max_e)"
        )
    flat = np.nonzero(np.diag(V) <= 0)[0]
    if flat.size:
        times = ", ".join(f"e = {t:g}" for t in np.sort(e[flat]))
        raise CertkitError(
            f"HonestDiD cannot run: the event-study estimate(s) at {times} have no variance "
            "(a standard error of 0), so how far they could be off by chance cannot be "
            "weighed. This happens when they rest on a single engineer, or when the outcome "
            "does not vary in those periods (e.g. a rate that stays at 0 for everyone)"
        )
    order = np.argsort(e)
    return {
        "betahat": b[order],
        "sigma": V[np.ix_(order, order)],
        "num_pre_periods": int(pre.sum()),
        "num_post_periods": int(post.sum()),
        "post_event_times": e[order][e[order] > reference],
        "outcome": outcome,
    }


def _validate(betahat, sigma, npre, npost, l_vec, level) -> tuple[np.ndarray, np.ndarray]:
    b = np.asarray(betahat, dtype=float)
    if b.ndim == 2 and 1 in b.shape:
        b = b.ravel()
    if b.ndim != 1 or b.size == 0:
        raise CertkitError(
            f"betahat must be a vector of event-study estimates, got shape {b.shape}"
        )
    S = np.asarray(sigma, dtype=float)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise CertkitError(f"sigma must be a square covariance matrix, got shape {S.shape}")
    if S.shape[0] != b.size:
        raise CertkitError(
            f"sigma is {S.shape[0]} x {S.shape[1]} but betahat has {b.size} estimates"
        )
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(S))):
        raise CertkitError("betahat and sigma must be finite (found NaN or infinity)")
    if npre is None or npost is None:
        raise CertkitError("give num_pre_periods and num_post_periods with betahat and sigma")
    if int(npre) < 1 or int(npost) < 1 or int(npre) + int(npost) != b.size:
        raise CertkitError(
            f"num_pre_periods ({npre}) + num_post_periods ({npost}) must equal the number of "
            f"estimates ({b.size}), with at least one of each"
        )
    scale = max(float(np.abs(S).max()), np.finfo(float).tiny)
    asym = float(np.abs(S - S.T).max())
    if asym > 1e-8 * scale:
        raise CertkitError(f"sigma is not symmetric (largest asymmetry {asym:.3g})")
    S = (S + S.T) / 2
    eig = np.linalg.eigvalsh(S)
    if eig.min() < -1e-10 * max(eig.max(), scale):
        raise CertkitError(
            f"sigma is not positive semi-definite (smallest eigenvalue {eig.min():.3g}); "
            "it cannot be a covariance matrix"
        )
    if np.any(np.diag(S) <= 0):
        bad = ", ".join(str(i + 1) for i in np.nonzero(np.diag(S) <= 0)[0])
        raise CertkitError(
            f"sigma has no positive variance for estimate(s) {bad} of betahat: each estimate "
            "needs a variance above 0 (an estimate with none, e.g. resting on a single unit "
            "or on an outcome that does not vary, cannot be weighed)"
        )
    if not 0 < level < 1:
        raise CertkitError(f"level must be between 0 and 1, got {level}")
    lv = np.asarray(l_vec, dtype=float).ravel()
    if lv.size != int(npost) or not np.any(lv != 0) or not np.all(np.isfinite(lv)):
        raise CertkitError(
            f"l_vec must have one finite weight per post period ({npost}), not all zero; "
            f"got {lv.tolist()}"
        )
    return b, S


def _grid(values, name: str) -> np.ndarray:
    g = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
    if g.size == 0 or not np.all(np.isfinite(g)) or np.any(g < 0):
        raise CertkitError(f"{name} must be one or more finite values >= 0, got {values!r}")
    return g


def honest(
    betahat=None,
    sigma=None,
    *,
    num_pre_periods: int | None = None,
    num_post_periods: int | None = None,
    result: AggregateResult | None = None,
    method: str = "relative_magnitude",
    mbar=None,
    m=None,
    l_vec=None,
    event_time: float | None = None,
    level: float = 0.95,
    grid_points: int = 1000,
    outcome: str | None = None,
    value_words: Callable[[float], str] | None = None,
) -> HonestResult:
    """Robust confidence intervals for an event-study effect under bounded non-parallel trends.

    Parameters
    ----------
    betahat, sigma : array-like, optional
        Event-study estimates (pre-periods first, reference period excluded) and their
        covariance. Give these with ``num_pre_periods`` and ``num_post_periods``, or ``result``.
    num_pre_periods, num_post_periods : int
        Number of pre- and post-period estimates in ``betahat``.
    result : AggregateResult, optional
        A certkit event study, ``did.event_study(..., base_period="universal")`` (see
        :func:`event_study_inputs`); anything else raises :class:`CertkitError`. For event
        studies from elsewhere give ``betahat`` and ``sigma`` (:func:`event_time_inputs` splits
        event-time estimates and their covariance into them).
    method : {"relative_magnitude", "smoothness"}
        Delta^RM with C-LF intervals, or Delta^SD with the FLCI.
    mbar : sequence of float, optional
        Grid for ``relative_magnitude`` (default: 10 values from 0 to 2, as R).
    m : sequence of float, optional
        Grid for ``smoothness`` in outcome units (default: R's, 10 values from 0 to
        ``DeltaSD_upperBound_Mpre``).
    l_vec : sequence of float, optional
        Weights on the post-period effects defining the target ``l'tau`` (default: the first
        post period, as R). ``event_time`` picks one post event time instead (needs ``result``).
    level : float
        Confidence level (R's ``1 - alpha``), default 0.95.
    grid_points : int
        Number of ``theta`` grid points of the C-LF test inversion (R's ``gridPoints``; R's
        ``honest_did()`` wrapper uses 100, ``createSensitivityResults_relativeMagnitudes``
        1000).
    outcome : str, optional
        Outcome name used in the words of :meth:`HonestResult.effect_summary`.
    value_words : callable, optional
        Writes an estimate or interval end in its unit for those words (e.g. ``+0.117 PRs``;
        default: 3 significant digits), as the headline beside them.

    Returns
    -------
    HonestResult
    """
    post_times = None
    post_shares = None
    if result is not None:
        if betahat is not None or sigma is not None:
            raise CertkitError("give either result= or betahat and sigma, not both")
        inp = event_study_inputs(result)
        post_shares = _post_single_shares(result, inp["post_event_times"])
        betahat, sigma = inp["betahat"], inp["sigma"]
        num_pre_periods, num_post_periods = inp["num_pre_periods"], inp["num_post_periods"]
        post_times = inp["post_event_times"]
        outcome = outcome or inp["outcome"]
    elif betahat is None or sigma is None:
        raise CertkitError("honest() needs betahat and sigma, or result=")
    if method not in _LABEL:
        raise CertkitError(f"method must be 'relative_magnitude' or 'smoothness', got {method!r}")
    if num_post_periods is None or num_pre_periods is None:
        raise CertkitError("give num_pre_periods and num_post_periods with betahat and sigma")
    npre, npost = int(num_pre_periods), int(num_post_periods)
    term = "first post period"
    if event_time is not None:
        if l_vec is not None:
            raise CertkitError("give l_vec or event_time, not both")
        if post_times is None or event_time not in post_times.tolist():
            raise CertkitError(
                f"event_time={event_time} is not a post-period event time of the result "
                f"({None if post_times is None else post_times.tolist()})"
            )
        l_vec = (post_times == event_time).astype(float)
        term = f"e = {event_time:g}"
    elif l_vec is None:
        l_vec = np.eye(max(npost, 1))[0]
        if post_times is not None:
            term = f"e = {post_times[0]:g}"
    else:
        term = "l'tau (weighted post periods)"
    b, S = _validate(betahat, sigma, npre, npost, l_vec, level)
    lv = np.asarray(l_vec, dtype=float).ravel()
    alpha = 1 - level
    if int(grid_points) < 2:
        raise CertkitError(f"grid_points must be at least 2, got {grid_points}")
    warnings: list[str] = []
    if method == "relative_magnitude":
        if m is not None:
            raise CertkitError("m= is the smoothness bound; use mbar= with relative_magnitude")
        grid = _grid(np.linspace(0, 2, 10) if mbar is None else mbar, "mbar")
        lows, highs = [], []
        for g in grid:
            lo, hi, ext = rm_conditional_cs(b, S, npre, npost, lv, g, alpha, int(grid_points))
            lows.append(lo)
            highs.append(hi)
            if ext:
                warnings.append(
                    f"Mbar = {g:g}: R's default theta grid (+-20 SE) cut the interval; it was "
                    f"extended {ext} time(s) with the same spacing (R would report a truncated "
                    "interval and warn that the CI is open at an endpoint)"
                )
            if np.isnan(lo):
                warnings.append(f"Mbar = {g:g}: every value was rejected (empty confidence set)")
        centers = [None] * grid.size
    else:
        if mbar is not None:
            raise CertkitError("mbar= is the relative-magnitude bound; use m= with smoothness")
        if m is None:
            top = sd_upper_bound_mpre(b, S, npre, 0.05) if npre > 1 else float(np.sqrt(S[0, 0]))
            m = np.linspace(0, top, 10)
        grid = _grid(m, "m")
        try:
            fits = [flci(b, S, npre, npost, lv, g, alpha) for g in grid]
        except np.linalg.LinAlgError as err:
            raise CertkitError(
                f"the FLCI needs an invertible pre-period covariance; sigma's pre-period block "
                f"is singular ({err})"
            ) from err
        lows = [f["conf_low"] for f in fits]
        highs = [f["conf_high"] for f in fits]
        centers = [f["center"] for f in fits]
    est = float(lv @ b[npre:])
    se = float(np.sqrt(lv @ S[npre:, npre:] @ lv))
    out = HonestResult(
        method=method,
        grid=grid,
        low=lows,
        high=highs,
        centers=centers,
        estimate=est,
        se=se,
        level=level,
        term=term,
        outcome=outcome,
        num_pre=npre,
        num_post=npost,
        l_vec=lv,
        warnings=warnings,
    )
    out.value_words = value_words
    if post_shares is not None and np.abs(lv).sum() > 0:
        out.single_weight = float(np.abs(lv) @ post_shares / np.abs(lv).sum())
    return out


def _post_single_shares(result: AggregateResult, post_times: np.ndarray) -> np.ndarray:
    """Per post event time, the share of its weight on cells of one engineer (``thin``)."""
    share = result.thin.share if result.thin is not None else {}
    return np.array([share.get(f"e={int(e)}", 0.0) for e in post_times], dtype=float)
