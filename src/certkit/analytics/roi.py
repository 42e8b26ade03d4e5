"""What a certification programme is worth: ROI and payback with honest uncertainty.

ROI takes an estimated effect (from ``certkit.did``, ``certkit.matching`` or anywhere else) as a
point estimate, its standard error and its *unit*, plus explicit, documented assumptions about
costs and values. Uncertainty from the estimate and from assumption ranges is propagated by a
seeded, vectorised Monte Carlo simulation.

Every assumption is a number (fixed), a ``(low, high)`` pair (uniform) or a
``(low, mode, high)`` triple (triangular). The defaults are deliberately round and documented in
``docs/analytics.md``: replace them with your organisation's figures.

The model (assumptions, draws, formulas) is in :mod:`certkit.analytics.roi_model`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from certkit.analytics.roi_model import (
    DEFAULTS,
    UNITS,
    _check_spec,
    _draw,
    _evaluate,
    _quantile,
    break_even_effect,
    catalog_costs,
    central_assumptions,
    costs_from_data,
    sensitivity_table,
)
from certkit.errors import CertkitError, CertkitWarning
from certkit.narrative import percent_words
from certkit.results import EffectSummary, EstimateMixin, tidy_frame
from certkit.stats.vcov import pvalue

__all__ = [
    "DEFAULTS",
    "UNITS",
    "Effect",
    "ROIResult",
    "catalog_costs",
    "costs_from_data",
    "from_result",
    "roi",
]


@dataclass(frozen=True)
class Effect:
    """An estimated effect of certification with its standard error and unit.

    Parameters
    ----------
    estimate, se
        Point estimate and standard error (``se=0`` for a known effect).
    unit
        One of ``certkit.roi.UNITS``.
    name
        Label shown in tables.
    df
        Degrees of freedom of a Student t reference (a matched DiD's: its matched sets - 1):
        its p-value and the ROI's draws of the effect use t instead of the normal. ``None``
        (default): normal.
    caveat
        Why its standard error is not to be trusted, when :func:`from_result` was told to
        use it anyway (``allow_unreliable_se=True``): the ROI's statement repeats it.
    """

    estimate: float
    se: float
    unit: str
    name: str = ""
    df: float | None = None
    caveat: str | None = None

    def __post_init__(self):
        if self.df is not None and math.isinf(self.df) and self.df > 0:
            object.__setattr__(self, "df", None)  # t with infinite df is the normal
        if self.df is not None and not (math.isfinite(self.df) and self.df > 0):
            raise CertkitError(
                f"Effect df must be a positive number of degrees of freedom (or None for the "
                f"normal), got {self.df!r}"
            )
        if self.unit not in UNITS:
            raise CertkitError(f"Effect unit {self.unit!r} is not one of {sorted(UNITS)}")
        if not (math.isfinite(self.estimate) and math.isfinite(self.se)) or self.se < 0:
            what = f"the effect on {self.name}" if self.name else "the effect"
            raise CertkitError(
                f"{what} could not be valued: it needs a finite estimate and a non-negative "
                f"standard error, got estimate={self.estimate:.4g}, se={self.se:.4g} (too few "
                "certified engineers or periods to estimate it)"
            )

    @property
    def p_value(self) -> float:
        if self.se == 0:
            return 0.0 if self.estimate != 0 else 1.0
        return float(pvalue(self.estimate, self.se, self.df))

    def draws(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws of the effect: normal, or Student t with ``df`` degrees of freedom."""
        noise = rng.standard_normal(n) if self.df is None else rng.standard_t(self.df, n)
        return self.estimate + self.se * noise

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


def from_result(
    result,
    unit: str,
    name: str | None = None,
    *,
    term: str | None = None,
    allow_unreliable_se: bool = False,
    **select,
) -> Effect:
    """Build an :class:`Effect` from an estimator's result.

    Results with ``tidy()`` (every ``certkit.did``, ``certkit.matching`` and ``certkit.ai``
    estimate) are read from it: the row named ``term``, or the result's single headline row
    (e.g. the overall effect of an event study); ``estimate`` and ``std_error`` become the
    effect. Pass ``term=`` when there are several (e.g. ``term="e=3"`` or
    ``term="cycle_time_log: adjusted"``).

    Deprecated, kept for one release: keyword column filters on ``to_polars()``
    (``comparison="adjusted", outcome="cycle_time_log"``) and objects without ``tidy()``
    carrying ``overall_att``/``overall_se``, ``att``/``se`` or ``estimate``/``se``.

    A standard error the estimator itself calls not reliable is refused with the reason;
    pass ``allow_unreliable_se=True`` to use it anyway (and say why beside the ROI). That is
    Sun-Abraham or the imputation estimator with at least 10% of the row's weight on cohorts
    of a single engineer (httpx's ten one-engineer cohorts gave an SE of 0.027 and an ROI
    "chance positive 0%"), and a Callaway-Sant'Anna aggregation (``att_gt(...).aggregate``,
    ``event_study``) with at least
    :data:`~certkit.narrative.effects.SINGLE_WEIGHT_LIMIT` (half) of it there, where the
    headline calls the effect "not evidence" (its ``se_reliable`` is False; sentry-python's
    seven one-engineer cohorts read "the chance that it is positive is 99%").
    """
    if hasattr(result, "tidy") and not select:
        tidy = result.tidy()
        if term is not None:
            rows = tidy.filter(pl.col("term") == term)
            if rows.height != 1:
                raise CertkitError(
                    f"result has no term {term!r}; its terms are {tidy['term'].to_list()[:12]}"
                )
        else:
            rows = result.headline() if hasattr(result, "headline") else tidy
            if rows.height != 1:
                raise CertkitError(
                    f"result has {rows.height} headline rows; pick one with term=..., one of "
                    f"{rows['term'].to_list()[:12]}"
                )
        r = rows.row(0, named=True)
        thin = getattr(result, "thin", None)
        caveat = None
        if thin is not None and thin.unreliable(str(r["term"])) and allow_unreliable_se:
            from certkit.narrative.robust import thin_reason

            # trial AF: the ROI printed "chance positive 99%" with no word of it
            caveat = f"its standard error is not reliable: {thin_reason(thin, str(r['term']))}"
        elif thin is not None and thin.unreliable(str(r["term"])):
            from certkit.did.aggregate import AggregateResult
            from certkit.narrative.robust import thin_reason

            instead = (  # not "use CS" for CS itself
                "Use coarser periods (more engineers per cohort)"
                if isinstance(result, AggregateResult)
                else "Use did.att_gt(...).aggregate('simple') (Callaway-Sant'Anna) or coarser "
                "periods"
            )
            raise CertkitError(
                f"the standard error of {r['term']} ({type(result).__name__}) is not reliable: "
                f"{thin_reason(thin, str(r['term']))}; "
                f"an ROI from it would look far more certain than it is. {instead}, or pass "
                "allow_unreliable_se=True to use it anyway"
            )
        # a matched DiD's t reference (its sets - 1 degrees of freedom): with few matched
        # sets a normal draw of the effect would make the ROI look far more certain
        df = result.t_df(str(r["term"])) if hasattr(result, "t_df") else None
        label = name or str(r["term"])
        return Effect(float(r["estimate"]), float(r["std_error"]), unit, label, df, caveat)
    return _from_legacy(result, unit, name, **select)


def _from_legacy(result, unit: str, name: str | None = None, **select) -> Effect:
    """Effects from results without ``tidy()`` (attribute pairs or a one-row table)."""
    pairs = [("overall_att", "overall_se"), ("att", "se"), ("estimate", "se")]
    for est_name, se_name in pairs:
        est = getattr(result, est_name, None)
        se = getattr(result, se_name, None)
        if est is not None and se is not None and not callable(est) and not callable(se):
            try:
                return Effect(float(est), float(se), unit, name or type(result).__name__)
            except (TypeError, ValueError):
                pass
    if hasattr(result, "to_polars"):
        df = result.to_polars()
        for k, v in select.items():
            if k not in df.columns:
                raise CertkitError(f"result table has no column {k!r} (columns: {df.columns})")
            df = df.filter(pl.col(k) == v)
        est_col = next((c for c in ("estimate", "att", "overall_att") if c in df.columns), None)
        if est_col and "se" in df.columns and df.height == 1:
            return Effect(float(df[est_col][0]), float(df["se"][0]), unit, name or est_col)
        if df.height != 1:
            raise CertkitError(
                f"result table has {df.height} rows; pick one with keyword filters, "
                "e.g. from_result(res, unit, e=3)"
            )
    raise CertkitError(
        "cannot read an effect from this result: expected a result with tidy(), "
        "overall_att/overall_se, att/se, estimate/se attributes or a one-row to_polars() "
        "table with estimate and se"
    )


@dataclass(repr=False)
class ROIResult(EstimateMixin):
    """Monte Carlo ROI of a certification programme (per engineer and for the programme).

    ``tidy()`` (the result contract): one row per metric (``roi``, ``net_value_per_engineer``,
    ``benefit_per_engineer``, ``cost_per_engineer``, ``payback_months``,
    ``net_value_program``); ``estimate`` is the median of the simulations and
    ``conf_low``/``conf_high`` their ``level`` quantile interval. A simulated quantity has no
    standard error, so ``std_error``, ``statistic`` and ``p_value`` are NaN; the chance that
    ROI is positive is :attr:`p_positive`. The headline row is ``roi``.
    """

    effects: list[Effect]
    assumptions: dict
    horizon_months: float
    n_engineers: int
    draws: dict[str, np.ndarray]
    level: float
    seed: int
    warnings: list[str] = field(default_factory=list)
    title: str = "Certification ROI"

    # -- headline numbers ------------------------------------------------------------------
    @property
    def p_positive(self) -> float:
        """Probability that ROI > 0 (share of simulations)."""
        return float(np.mean(self.draws["roi"] > 0))

    @property
    def roi_median(self) -> float:
        return float(np.median(self.draws["roi"]))

    @property
    def roi_interval(self) -> tuple[float, float]:
        lo, hi = (1 - self.level) / 2, 1 - (1 - self.level) / 2
        return tuple(float(x) for x in np.quantile(self.draws["roi"], [lo, hi]))

    @property
    def significant(self) -> bool:
        return any(e.significant for e in self.effects)

    def central(self) -> dict[str, float]:
        """ROI, net value and payback at the point estimates and central assumptions."""
        a = central_assumptions(self.assumptions)
        monthly, benefit, cost = _evaluate(
            self.effects, [e.estimate for e in self.effects], a, self.horizon_months
        )
        return {
            "roi": float((benefit - cost) / cost),
            "net_per_engineer": float(benefit - cost),
            "cost_per_engineer": float(cost),
            "payback_months": float(cost / monthly) if monthly > 0 else math.inf,
        }

    def break_even_effect(self) -> float:
        """Size of the first effect (in its unit) that makes the central ROI exactly 0."""
        return break_even_effect(self.effects, self.assumptions, self.horizon_months)

    def statement(self) -> str:
        """Plain-language summary generated from the numbers (words from ``certkit.narrative``)."""
        from certkit.narrative import describe_roi_result

        lo, hi = self.roi_interval
        text = describe_roi_result(
            lo,
            hi,
            self.roi_median,
            self.p_positive,
            float(np.median(self.draws["payback"])),
            self.horizon_months,
            [(e.name or e.unit, e.estimate, e.se, e.p_value) for e in self.effects],
            self.significant,
            self.level,
        )
        said = [f"{e.name or e.unit}: {e.caveat}" for e in self.effects if e.caveat]
        if said:
            text += (
                " Read the interval and the chance with care, as they rest on a standard error "
                "not to be trusted (" + "; ".join(said) + "): they look far more certain than "
                "the data allow."
            )
        return text

    # -- tables ------------------------------------------------------------------------------
    def to_polars(self) -> pl.DataFrame:
        lo, hi = (1 - self.level) / 2, 1 - (1 - self.level) / 2
        rows = []
        for key, label in (
            ("roi", "roi"),
            ("net", "net_value_per_engineer"),
            ("benefit", "benefit_per_engineer"),
            ("cost", "cost_per_engineer"),
            ("payback", "payback_months"),
        ):
            v = self.draws[key]
            rows.append(
                {
                    "metric": label,
                    "median": float(np.median(v)),
                    "mean": float(np.mean(v)) if np.isfinite(v).all() else math.inf,
                    "ci_low": _quantile(v, lo),
                    "ci_high": _quantile(v, hi),
                }
            )
        v = self.draws["net"] * self.n_engineers
        rows.append(
            {
                "metric": "net_value_program",
                "median": float(np.median(v)),
                "mean": float(np.mean(v)),
                "ci_low": _quantile(v, lo),
                "ci_high": _quantile(v, hi),
            }
        )
        return pl.DataFrame(rows)

    def tidy(self) -> pl.DataFrame:
        """Contract rows: the simulated medians with their ``level`` intervals (no SE)."""
        t = self.to_polars()
        nan = np.full(t.height, math.nan)
        return tidy_frame(t["metric"], t["median"], nan, t["ci_low"], t["ci_high"])

    def _headline_terms(self) -> list[str] | None:
        return ["roi"]

    def _display_table(self) -> pl.DataFrame:
        """:meth:`to_polars` with the ROI in percent (``roi_percent``): the summary printed
        the ROI fractions rounded to whole numbers ("-1" for -134%; trial F)."""
        t = self.to_polars()
        numbers = [c for c in t.columns if c != "metric" and t[c].dtype.is_numeric()]
        is_roi = pl.col("metric") == "roi"
        return t.with_columns(
            pl.when(is_roi).then(pl.lit("roi_percent")).otherwise(pl.col("metric")).alias("metric"),
            *(pl.when(is_roi).then(pl.col(c) * 100).otherwise(pl.col(c)).alias(c) for c in numbers),
        )

    def effect_summary(self) -> EffectSummary:
        """The ROI row of :meth:`tidy` and :meth:`statement` in words."""
        return EffectSummary(self.headline(), self.statement())

    def _oneline_facts(self) -> dict[str, object]:
        lo, hi = self.roi_interval
        return {
            "median ROI": f"{self.roi_median:+.0%}",
            "interval": f"{lo:+.0%} to {hi:+.0%}",
            "P(ROI > 0)": percent_words(self.p_positive),
            "simulations": self.draws["roi"].size,
        }

    def _header(self) -> dict[str, object]:
        be = self.break_even_effect()
        e0 = self.effects[0]
        return {
            "Statement": self.statement(),
            "P(ROI > 0)": f"{self.p_positive:.3f}",
            "Horizon": f"{self.horizon_months:g} months, {self.n_engineers} engineer(s)",
            "Break-even effect": f"{be:+.4g} ({e0.unit}; estimate {e0.estimate:+.4g})",
            "Simulations": f"{self.draws['roi'].size:,} (seed {self.seed})",
        }

    def sensitivity(self) -> pl.DataFrame:
        """ROI at the point estimate when one assumption moves to its low / high end.

        Every other assumption stays at its central value; rows are sorted by swing (a
        tornado table). Effects are moved to their 95% interval ends the same way.
        """
        return sensitivity_table(self.effects, self.assumptions, self.horizon_months)

    # -- charts ------------------------------------------------------------------------------
    def plot(self):
        """Histogram of simulated ROI with the break-even line at 0 (Altair, via charts)."""
        from certkit import charts

        return charts.distribution(
            self.draws["roi"],
            title=f"ROI distribution (P(ROI>0) {percent_words(self.p_positive)})",
            x_title="ROI",
            x_format="%",
        )

    def plot_sensitivity(self):
        """Tornado chart of :meth:`sensitivity`: ROI at each assumption's low and high end."""
        from certkit import charts

        return charts.tornado(
            self.sensitivity(),
            y="assumption",
            low="roi_low",
            high="roi_high",
            title="Sensitivity of ROI to each assumption",
            x_title="ROI",
            x_format="%",
        )


def roi(
    effects: Effect | list[Effect],
    *,
    horizon_months: float = 12.0,
    n_engineers: int = 1,
    certification: str | None = None,
    as_of: date | None = None,
    n_sims: int = 20_000,
    seed: int = 0,
    level: float = 0.95,
    **assumptions,
) -> ROIResult:
    """Simulate the ROI of certifying engineers, from an effect estimate and assumptions.

    Parameters
    ----------
    effects
        One :class:`Effect` or several (their benefits add up: do not pass two effects that
        measure the same gain, e.g. throughput and cycle time valued on the same hours).
    horizon_months
        Months over which benefits are counted (and renewals charged).
    n_engineers
        Engineers certified, for programme totals.
    certification
        Catalog id or name: fills ``exam_fee``, ``study_hours`` and ``validity_months`` (explicit
        keyword assumptions win). Retired exams switch to their successor, with a warning.
    as_of
        Date used for retirement checks (default today).
    n_sims, seed, level
        Simulation size, seed and interval level.
    **assumptions
        Any key of ``certkit.roi.DEFAULTS``: a number, ``(low, high)`` or
        ``(low, mode, high)``.

    Returns
    -------
    ROIResult
        ``summary()``, ``to_polars()``, ``statement()``, ``sensitivity()``, ``plot()``.
    """
    effects = [effects] if isinstance(effects, Effect) else list(effects)
    if not effects:
        raise CertkitError(
            "no effect of certification could be estimated on this data, so there is nothing "
            "to value; the ROI needs at least one estimated effect (throughput, defect rate or "
            "incidents)"
        )
    if not all(isinstance(e, Effect) for e in effects):
        raise CertkitError("roi needs one or more certkit.roi.Effect (see roi.from_result)")
    unknown = sorted(set(assumptions) - set(DEFAULTS))
    if unknown:
        raise CertkitError(f"unknown assumption(s) {unknown}; known: {sorted(DEFAULTS)}")
    if not horizon_months > 0 or n_engineers < 1 or n_sims < 100 or not 0 < level < 1:
        raise CertkitError(
            "need horizon_months > 0, n_engineers >= 1, n_sims >= 100 and 0 < level < 1"
        )
    notes: list[str] = []
    spec = dict(DEFAULTS)
    if certification is not None:
        costs, cat_notes = catalog_costs(certification, as_of)
        costs.pop("certification_id")
        spec.update(costs)
        notes += cat_notes
    spec.update(assumptions)
    for k, v in spec.items():
        _check_spec(k, v)
    if spec["exam_fee"] == 0 and spec["study_hours"] == 0 and spec["training_cost"] == 0:
        raise CertkitError("total cost is zero: ROI is undefined (set exam_fee or study_hours)")
    rng = np.random.default_rng(seed)
    eff_draws = [e.draws(rng, n_sims) for e in effects]
    a = {k: _draw(v, rng, n_sims) for k, v in spec.items()}
    monthly, benefit, cost = _evaluate(effects, eff_draws, a, horizon_months)
    net = benefit - cost
    with np.errstate(divide="ignore"):
        payback = np.where(monthly > 0, cost / np.where(monthly > 0, monthly, 1), np.inf)
    draws = {"roi": net / cost, "net": net, "benefit": benefit, "cost": cost, "payback": payback}
    res = ROIResult(effects, spec, float(horizon_months), int(n_engineers), draws, level, seed)
    for e in effects:
        if not e.significant:
            notes.append(
                f"effect {e.name or e.unit} is not statistically significant (p={e.p_value:.2f}): "
                "the ROI interval, not its median, is the honest summary"
            )
    res.warnings = notes
    for n in notes:
        warnings.warn(n, CertkitWarning, stacklevel=2)
    return res
