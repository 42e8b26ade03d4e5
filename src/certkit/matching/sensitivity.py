"""Sensitivity to unmeasured confounding: Rosenbaum bounds, the E-value, their result."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import special, stats

from certkit.errors import CertkitError
from certkit.results import EffectSummary, EstimateMixin, tidy_frame


def rosenbaum_bounds(
    differences, gammas=(1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0), alpha: float = 0.05
) -> pl.DataFrame:
    """Rosenbaum bounds for Wilcoxon's signed-rank test on matched-pair differences.

    For each ``gamma`` (odds that one unit of a pair is treated rather than the other may differ
    by up to this factor because of an unobserved confounder) the upper bound on the one-sided
    p-value for "no effect" against "treated > control" is computed with the large-sample normal
    approximation (Rosenbaum 2002, sec. 4.3; as ``DOS2::senWilcox``). Zero differences are
    dropped and ties get average ranks. At ``gamma = 1`` it equals ``wilcox.test(exact = FALSE,
    correct = FALSE)``. For effects expected to be negative pass ``-differences``.

    Returns a table with ``gamma``, ``p_upper``, ``significant`` (p_upper < alpha) and, as
    attribute-like extra column, ``critical_gamma`` (the same on every row): the smallest gamma
    at which the bound reaches ``alpha``.
    """
    d = np.asarray(differences, dtype=float)
    d = d[np.isfinite(d) & (d != 0)]
    if d.size == 0:
        raise CertkitError("rosenbaum_bounds needs at least one non-zero pair difference")
    ranks = stats.rankdata(np.abs(d))
    t_plus = ranks[d > 0].sum()
    r_sum, r2_sum = ranks.sum(), np.sum(ranks**2)

    def p_upper(g: float) -> float:
        p = g / (1 + g)
        mean = p * r_sum
        var = p * (1 - p) * r2_sum
        # stats.norm.sf(z) is special.ndtr(-z) behind ~0.3 ms of argument checks; the
        # critical gamma's bisection calls this 80 times
        return float(special.ndtr(-((t_plus - mean) / math.sqrt(var))))

    crit = _critical_gamma(p_upper, alpha)
    gammas = [float(g) for g in gammas]
    return pl.DataFrame(
        {
            "gamma": gammas,
            "p_upper": [p_upper(g) for g in gammas],
            "significant": [p_upper(g) < alpha for g in gammas],
            "critical_gamma": [crit] * len(gammas),
            "n_pairs": [int(d.size)] * len(gammas),
        }
    )


def _critical_gamma(p_upper, alpha: float, hi: float = 1000.0) -> float:
    if p_upper(1.0) >= alpha:
        return 1.0
    if p_upper(hi) < alpha:
        return math.inf
    lo = 1.0
    for _ in range(80):
        mid = math.sqrt(lo * hi)
        if p_upper(mid) < alpha:
            lo = mid
        else:
            hi = mid
    return hi


def e_value(estimate: float, *, sd: float | None = None, ci: tuple[float, float] | None = None):
    """E-value (VanderWeele & Ding 2017) for a risk ratio or a standardized mean difference.

    With ``sd`` the estimate is a mean difference: it is standardized (d = estimate / sd) and
    turned into an approximate risk ratio RR = exp(0.91 d). Without ``sd`` the estimate is a
    risk ratio. Returns ``(e_point, e_ci)``: the minimum strength of association (risk-ratio
    scale) an unmeasured confounder would need with both treatment and outcome to explain away
    the estimate, and its confidence limit closest to the null (1 when the CI includes the null).
    """

    def to_rr(v):
        return math.exp(0.91 * v / sd) if sd is not None else v

    def ev(rr):
        rr = 1 / rr if rr < 1 else rr
        return rr + math.sqrt(rr * (rr - 1))

    if sd is not None and sd <= 0:
        raise CertkitError("e_value: sd must be positive")
    rr = to_rr(estimate)
    if rr <= 0:
        raise CertkitError("e_value: a risk ratio must be positive")
    e_ci = None
    if ci is not None:
        lo, hi = sorted(to_rr(c) for c in ci)
        e_ci = 1.0 if lo <= 1 <= hi else ev(lo if rr > 1 else hi)
    return ev(rr), e_ci


class SensitivityAccess:
    """``MatchedDiDResult.sensitivity``: call it for the :class:`SensitivityResult`.

    Reading it like the dict it was (``res.sensitivity["critical_gamma"]``) still works for one
    release, with a ``DeprecationWarning`` naming the replacement.
    """

    def __init__(self, result: SensitivityResult):
        self._result = result

    def __call__(self) -> SensitivityResult:
        return self._result

    def _legacy(self) -> dict:
        warnings.warn(
            "MatchedDiDResult.sensitivity is a method now: use res.sensitivity() (a "
            "SensitivityResult: .critical_gamma, .e_value, .e_value_ci, .to_polars(), .tidy()); "
            "dict access is deprecated and goes in the next release",
            DeprecationWarning,
            stacklevel=3,
        )
        return self._result.as_dict()

    def __getitem__(self, key: str):
        return self._legacy()[key]

    def get(self, key: str, default=None):
        return self._legacy().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._legacy()

    def keys(self):
        return self._legacy().keys()

    def __repr__(self) -> str:
        return f"<sensitivity of {self._result.outcome}: call it for the SensitivityResult>"


#: What an E-value means for an effect not significant without a hidden factor.
NOTHING_TO_EXPLAIN = "not significant even without a hidden factor: nothing to explain away"


@dataclass(repr=False)
class SensitivityResult(EstimateMixin):
    """Sensitivity of a matched estimate to unmeasured confounding (Rosenbaum bounds, E-value).

    Returned by :meth:`MatchResult.sensitivity` and :meth:`MatchedDiDResult.sensitivity`.

    ``tidy()`` (the result contract): ``critical_gamma`` (the smallest gamma at which the
    Rosenbaum bound on the one-sided p-value reaches ``alpha``; 1 when the effect is not
    significant even without a hidden factor), ``e_value`` (its ``conf_low`` is the E-value of
    the confidence limit closest to the null), then one row per gamma ``gamma=1.5`` whose
    ``p_value`` is the upper bound on the p-value; estimates without a standard error have NaN
    ``std_error`` / ``statistic``. ``n`` is the number of matched sets behind the bounds:
    those whose difference is not zero (``n_pairs``; the signed-rank test leaves zero
    differences out, as R's ``wilcox.test`` and ``DOS2::senWilcox`` do). ``n_sets`` counts every
    matched set with a difference. ``to_polars()`` is the bounds table (``gamma, p_upper,
    significant, n_pairs``).
    """

    outcome: str
    table: pl.DataFrame
    critical_gamma: float
    e_value: float = math.nan
    e_value_ci: float | None = None
    alpha: float = 0.05
    method: str = "Rosenbaum bounds (Wilcoxon signed rank on matched-set differences)"
    level: float = 0.95
    title: str = "Sensitivity to hidden confounding"
    n_sets: int | None = None

    @property
    def n_pairs(self) -> int:
        """Matched sets with a non-zero difference behind the bounds."""
        return int(self.table["n_pairs"][0]) if self.table.height else 0

    def zeros_note(self) -> str:
        """A sentence when matched sets with a zero difference were left out of the bounds."""
        zeros = (self.n_sets or 0) - self.n_pairs
        if zeros <= 0:
            return ""
        return (
            f"The bounds rest on the {self.n_pairs:,} of {self.n_sets:,} matched sets whose "
            f"difference is not zero: the signed-rank test leaves the {zeros:,} with no "
            "difference out."
        )

    @property
    def significant(self) -> bool:
        """Whether the effect is significant at ``alpha`` without a hidden factor (gamma 1)."""
        return bool(self.critical_gamma > 1.0)

    def to_polars(self) -> pl.DataFrame:
        """The bounds: ``gamma, p_upper, significant, n_pairs``."""
        return self.table

    def tidy(self) -> pl.DataFrame:
        """Contract rows: ``critical_gamma``, ``e_value``, then ``gamma=...`` (p_value = bound)."""
        nan = math.nan
        ev_ci = nan if self.e_value_ci is None else float(self.e_value_ci)
        head = tidy_frame(
            ["critical_gamma", "e_value"],
            [self.critical_gamma, self.e_value],
            nan,
            [nan, ev_ci],
            nan,
            n=self.n_pairs,
        )
        rows = tidy_frame(
            [f"gamma={g:g}" for g in self.table["gamma"]],
            nan,
            nan,
            nan,
            nan,
            n=self.table["n_pairs"].to_numpy(),
        ).with_columns(self.table["p_upper"].alias("p_value"))
        return pl.concat([head, rows])

    def _headline_terms(self) -> list[str] | None:
        return ["critical_gamma", "e_value"]

    def plot_data(self) -> pl.DataFrame:
        """The ``gamma=`` rows of :meth:`tidy` with their numeric ``gamma``."""
        t = self.tidy().filter(pl.col("term").str.starts_with("gamma="))
        return t.with_columns(self.table["gamma"].alias("gamma"))

    def plot(self):
        """Upper bound on the p-value by gamma (Altair, via charts)."""
        from certkit import charts

        return charts.lines(
            self.plot_data(),
            x="gamma",
            y="p_value",
            title=f"{self.title}: {self.outcome} (alpha = {self.alpha:g})",
            y_title="upper bound on the p-value",
            x_title="gamma: how much a hidden factor could change the odds of certifying",
            threshold=(self.alpha, f"alpha = {self.alpha:g}"),  # critical gamma: crossing
        )

    def statement(self) -> str:
        """The critical gamma and E-value in words (:func:`certkit.narrative`)."""
        from certkit.narrative import describe_confounding, label

        return describe_confounding(
            label(self.outcome),
            self.critical_gamma,
            self.e_value,
            self.significant,
            # the E-value of an interval that includes zero is 1
            interval_includes_zero=self.e_value_ci is not None and self.e_value_ci <= 1.0,
        )

    def effect_summary(self) -> EffectSummary:
        """The ``critical_gamma`` and ``e_value`` rows and :meth:`statement`."""
        return EffectSummary(self.headline(), self.statement())

    def _header(self) -> dict[str, object]:
        ev = "n/a" if not math.isfinite(self.e_value) else f"{self.e_value:.3g}"
        ci = self.e_value_ci
        if ev != "n/a" and ci is not None and math.isfinite(ci):
            # the estimate's E-value beside its interval's: on an interval that includes no
            # effect the latter is 1, nothing to explain away (trial T: "E-value: 45.5" headed
            # an effect with p = 0.46 on 2 matched pairs)
            ev += f" (estimate); {ci:.3g} (confidence limit)"
        if ev != "n/a" and not self.significant:
            # trial Y: "critical gamma 1.00, E-value 2.87" on an effect with p = 0.31 and no
            # confidence-limit E-value to show it
            ev += f"; {NOTHING_TO_EXPLAIN}"
        return {
            "outcome": self.outcome,
            "method": self.method,
            "critical gamma": f"{self.critical_gamma:.3g} (alpha {self.alpha:g})",
            "E-value": ev,
            "matched sets": self.n_pairs
            if not self.zeros_note()
            else f"{self.n_pairs} with a non-zero difference (of {self.n_sets})",
        }

    def _oneline_facts(self) -> dict[str, object]:
        if not self.significant:
            return {"critical gamma": self.critical_gamma, "effect": "not significant at gamma 1"}
        return {"critical gamma": self.critical_gamma, "E-value": self.e_value}

    def as_dict(self) -> dict:
        """The old dict shape of ``MatchedDiDResult.sensitivity`` (deprecated readers)."""
        return {
            "method": self.method,
            "critical_gamma": self.critical_gamma,
            "table": self.table,
            "e_value": self.e_value,
            "e_value_ci": self.e_value_ci,
        }

    def __getitem__(self, key: str):
        """Deprecated: the old table / dict access (``sens["p_upper"]``)."""
        warnings.warn(
            f"indexing a SensitivityResult ([{key!r}]) is deprecated: read .to_polars()[...] for "
            "the bounds table or the attributes .critical_gamma, .e_value, .e_value_ci",
            DeprecationWarning,
            stacklevel=2,
        )
        if key in self.table.columns:
            return self.table[key]
        if key == "critical_gamma":  # a column of the old rosenbaum_bounds table
            return pl.Series("critical_gamma", [self.critical_gamma] * self.table.height)
        return self.as_dict()[key]


def sensitivity_analysis(
    differences,
    *,
    outcome: str,
    gammas=(1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0),
    alpha: float = 0.05,
    estimate: float | None = None,
    ci: tuple[float, float] | None = None,
    sd: float | None = None,
    level: float = 0.95,
    method: str | None = None,
) -> SensitivityResult:
    """Rosenbaum bounds on matched-set differences and the E-value of the estimate.

    Parameters
    ----------
    differences
        Treated minus matched control outcome (or DiD) per matched set. The direction of the
        test follows the sign of their mean (for negative effects the differences are negated).
    outcome
        Outcome name (labels and text).
    gammas, alpha
        Gammas of the bounds table and the level of the one-sided test.
    estimate, ci, sd
        The effect, its confidence interval and the outcome's standard deviation for the
        E-value (standardized mean difference); without ``sd`` (or with ``sd <= 0``) the
        E-value is NaN.
    level
        Confidence level of ``ci``.
    method
        Description shown in the summary.
    """
    d = np.asarray(differences, dtype=float)
    d = d[np.isfinite(d)]
    tab = rosenbaum_bounds(d if d.mean() >= 0 else -d, gammas, alpha)
    ev_point, ev_ci = math.nan, None
    if estimate is not None and sd is not None and sd > 0 and math.isfinite(estimate):
        ev_point, ev_ci = e_value(float(estimate), sd=sd, ci=ci)
    return SensitivityResult(
        outcome=outcome,
        table=tab.drop("critical_gamma"),
        critical_gamma=float(tab["critical_gamma"][0]),
        e_value=ev_point,
        e_value_ci=ev_ci,
        alpha=alpha,
        level=level,
        n_sets=int(d.size),
        **({"method": method} if method else {}),
    )
