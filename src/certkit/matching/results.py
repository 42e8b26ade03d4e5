"""Results of :func:`certkit.matching.match` and :func:`certkit.matching.matched_did`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from certkit.data.contract import TIME, UNIT
from certkit.errors import CertkitError
from certkit.matching.balance import balance_table, ess
from certkit.matching.effect import ATTResult, estimate_att
from certkit.matching.sensitivity import (
    SensitivityAccess,
    SensitivityResult,
    sensitivity_analysis,
)
from certkit.results import EffectSummary, EstimateMixin, tidy_frame


def with_alerts(summary: EffectSummary, alerts: list[str]) -> EffectSummary:
    """``summary`` with each alert appended as a "Warning:" sentence."""
    if not alerts:
        return summary
    words = " ".join(f"Warning: {a[0].upper()}{a[1:]}" for a in alerts)
    return EffectSummary(summary.table, f"{summary.text} {words}")


class MatchResult(EstimateMixin):
    """Outcome of :func:`match`: matched sample, weights, balance and effect estimates."""

    title = "Matched cohorts"

    def __init__(self, **kw):
        self.outcome: str | list[str] | None = None
        self.level = 0.95
        self.alerts: list[str] = []  # warnings that question the comparison itself
        self._effects: dict[str, ATTResult] = {}
        self.__dict__.update(kw)

    # -- data ------------------------------------------------------------------------------
    def matched_data(self) -> pl.DataFrame:
        """Rows kept by the matching with ``weights``, ``subclass`` and ``distance`` columns
        (as MatchIt's ``match.data()``; ``subclass`` is the pair id for 1:1 matching and is
        null when matching with replacement)."""
        cols = [pl.Series("weights", self.weights)]
        if self.subclass is not None:
            sub = pl.Series("subclass", self.subclass + 1)
            cols.append(pl.select(pl.when(sub > 0).then(sub)).to_series().alias("subclass"))
        if self.distance is not None:
            cols.insert(0, pl.Series("distance", self.distance))
        out = self.data.with_columns(cols)
        return out.filter(pl.col("weights") > 0)

    def sample_sizes(self) -> pl.DataFrame:
        """Sample sizes as MatchIt's ``nn``: all, matched (and effective sizes), unmatched."""
        rows = {}
        for g, name in ((0, "control"), (1, "treated")):
            m = self.treat == g
            w = self.weights[m]
            rows[name] = [
                ess(np.ones(m.sum())),
                float(m.sum()),
                ess(w),
                float((w > 0).sum()),
                float((w == 0).sum()),
                0.0,
            ]
        return pl.DataFrame(
            {
                "sample": ["all_ess", "all", "matched_ess", "matched", "unmatched", "discarded"],
                **rows,
            }
        )

    # -- balance -----------------------------------------------------------------------------
    def balance(self) -> pl.DataFrame:
        """Balance per covariate (and the distance) before (``sample = "all"``) and after
        (``"matched"``) matching: means, standardized mean difference (treated SD before
        matching; p(1-p) for binary), variance ratio (not for binary), eCDF mean and max, and
        the standardized mean absolute pair distance (matched sample only)."""
        if self._balance is None:
            self._balance = balance_table(
                self.design,
                self.treat,
                self.weights,
                distance=self.distance if self.distance_kind in ("logit", "probit") else None,
                subclass=self.subclass,
                match_matrix=self.match_matrix,
                t_pos=self.t_pos,
            )
        return self._balance

    def love_plot(self, threshold: float = 0.1):
        """Love plot (Altair): absolute standardized mean differences before and after."""
        from certkit import charts

        wide = self.balance().pivot(on="sample", index="term", values="smd")
        return charts.love_plot(
            wide, covariate="term", before="all", after="matched", threshold=threshold
        )

    # -- effects -----------------------------------------------------------------------------
    def att(
        self,
        outcome: str | None = None,
        covariates: list[str] | None = None,
        level: float | None = None,
    ) -> ATTResult:
        """ATT on the matched data: weighted regression of ``outcome`` on the treatment (and
        ``covariates``) with pair-clustered SEs (HC1 with G/(G-1), as ``sandwich::vcovCL``), or
        HC3 after matching with replacement or subclassification (MatchIt's vignette advice).

        ``outcome`` and ``level`` default to those given to :func:`match`."""
        outcome = outcome or (self.outcome if isinstance(self.outcome, str) else None)
        if outcome is None:
            raise CertkitError(
                "no outcome: pass one, e.g. .att('merged_prs'), or match(..., outcome=...)"
            )
        level = self.level if level is None else level
        md = self.matched_data()
        use_cluster = self.method == "nearest" and not self.replace
        res = estimate_att(
            md,
            treatment=self.treatment,
            outcome=outcome,
            covariates=covariates,
            weights="weights",
            cluster="subclass" if use_cluster else None,
            vcov="HC3",
            level=level,
        )
        if use_cluster:
            res.vcov = "cluster-robust on pairs (HC1, G/(G-1))"
        res.warnings = list(self.warnings)
        return res

    def pair_differences(self, outcome: str) -> np.ndarray:
        """Treated minus (mean of matched) control outcome per matched set (nearest matching)."""
        if self.match_matrix is None:
            raise CertkitError("pair differences need nearest-neighbour matching")
        y = self.data[outcome].cast(pl.Float64).to_numpy()
        mm = self.match_matrix
        ok = mm >= 0
        has = ok.any(axis=1)
        yc = np.where(ok, y[np.clip(mm, 0, None)], 0.0).sum(axis=1)
        yc = yc[has] / ok[has].sum(axis=1)
        return y[self.t_pos[has]] - yc

    def sensitivity(
        self,
        outcome: str | None = None,
        gammas=(1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0),
        alpha: float = 0.05,
    ) -> SensitivityResult:
        """Sensitivity to hidden confounding on ``outcome`` (default: the one given to
        :func:`match`): Rosenbaum bounds (Wilcoxon signed rank) for the matched sets, the
        direction following the sign of the mean pair difference, and the E-value of the ATT
        (:meth:`att`) standardized by the outcome's SD in the data. The bounds table is
        ``.to_polars()``."""
        outcome = outcome or (self.outcome if isinstance(self.outcome, str) else None)
        if outcome is None:
            raise CertkitError(
                "no outcome: pass one, e.g. .sensitivity('merged_prs'), or match(..., outcome=...)"
            )
        d = self.pair_differences(outcome)
        att = self.att(outcome)
        sd = float(self.data[outcome].cast(pl.Float64).std())
        lo, hi = float(att.tidy()["conf_low"][0]), float(att.tidy()["conf_high"][0])
        return sensitivity_analysis(
            d,
            outcome=outcome,
            gammas=gammas,
            alpha=alpha,
            estimate=float(att.tidy()["estimate"][0]),
            ci=(lo, hi),
            sd=sd,
            level=self.level,
            method="Rosenbaum bounds, Wilcoxon signed-rank on matched-pair differences; "
            "E-value on the standardized ATT",
        )

    # -- rendering -------------------------------------------------------------------------
    def _header(self) -> dict[str, object]:
        ss = self.sample_sizes()
        m = ss.filter(pl.col("sample") == "matched")
        return {
            "method": self.method
            + (f", {self.ratio}:1" if self.method == "nearest" else "")
            + (", with replacement" if self.replace else ""),
            "distance": self.distance_kind,
            "caliper": "none" if self.caliper is None else f"{self.caliper:.4g}",
            "certified (all / matched)": f"{int(self.treat.sum())} / {int(m['treated'][0])}",
            "comparison (all / matched)": f"{int((self.treat == 0).sum())} / "
            f"{int(m['control'][0])}",
        }

    def _outcomes(self) -> list[str]:
        if not self.outcome:
            raise CertkitError(
                "this match has no outcome, so no effect to report: pass match(..., "
                "outcome='merged_prs') or use .att(outcome); the balance is in .balance()"
            )
        return [self.outcome] if isinstance(self.outcome, str) else list(self.outcome)

    def tidy(self) -> pl.DataFrame:
        """Contract table of the ATT on the matched sample for the outcome(s) given to
        :func:`match` (term ``ATT``; ``ATT: <outcome>`` when there are several)."""
        outs = self._outcomes()
        for o in outs:
            if o not in self._effects:
                self._effects[o] = self.att(o)
        frames = [self._effects[o].tidy() for o in outs]
        if len(outs) == 1:
            return frames[0]
        return pl.concat(
            f.with_columns(pl.lit(f"ATT: {o}").alias("term"))
            for f, o in zip(frames, outs, strict=True)
        )

    estimate = property(lambda self: self._headline_value("estimate"), doc="ATT, from tidy().")
    se = property(lambda self: self._headline_value("std_error"), doc="SE, from tidy().")

    def to_polars(self) -> pl.DataFrame:
        """The effect (see :meth:`tidy`); the balance table is :meth:`balance`."""
        return self.tidy()

    def _display_table(self) -> pl.DataFrame:
        return self.tidy() if self.outcome else self.balance()

    def effect_summary(self) -> EffectSummary:
        """Headline table and sentence, followed by any warning about the comparison."""
        return with_alerts(super().effect_summary(), self.alerts)

    def plot(self):
        """The effect with its interval when an outcome was given, else the Love plot."""
        return super().plot() if self.outcome else self.love_plot()


@dataclass(repr=False)
class MatchedDiDResult(EstimateMixin):
    """Matched DiD: event-time effects and the overall post-certification ATT."""

    outcome: str
    event_effects: pl.DataFrame
    overall_att: float
    overall_se: float
    overall_ci: tuple[float, float]
    n_pairs: int
    n_treated: int
    n_controls: int
    pre_periods: int
    post_periods: int
    balance_table: pl.DataFrame
    pairs: pl.DataFrame
    sensitivity_result: SensitivityResult
    warnings: list[str] = field(default_factory=list)
    title: str = "Matched difference-in-differences (rolling entry)"
    level: float = 0.95
    pretrend: dict | None = None  # joint test of the pre-certification event times
    alerts: list[str] = field(default_factory=list)  # warnings questioning the comparison

    def _header(self) -> dict[str, object]:
        lo, hi = self.overall_ci
        sens = self.sensitivity_result
        return {
            "outcome": self.outcome,
            "overall ATT (post periods)": f"{self.overall_att:.4g} (SE {self.overall_se:.4g}; "
            f"{100 * self.level:.0f}% CI {lo:.4g} to {hi:.4g})",
            "matched sets / certified / distinct peers": f"{self.n_pairs} / {self.n_treated} / "
            f"{self.n_controls}",
            "window": f"{self.pre_periods} periods before, {self.post_periods} after",
            "pre-certification trend test": (
                f"p = {self.pretrend['p_value']:.3g} ({self.pretrend['test']})"
                if self.pretrend and self.pretrend.get("p_value") is not None
                else "not possible (too few matched sets with every pre-period)"
            ),
            "sensitivity": f"Rosenbaum critical gamma {sens.critical_gamma:.3g}; E-value "
            f"{sens.e_value:.3g}",
        }

    @property
    def sensitivity(self) -> SensitivityAccess:
        """Call it: ``res.sensitivity()`` is the :class:`SensitivityResult` (Rosenbaum bounds on
        the matched-set DiDs, critical gamma, E-value). Dict access (``res.sensitivity[
        "critical_gamma"]``) is the deprecated old shape, kept for one release."""
        return SensitivityAccess(self.sensitivity_result)

    def tidy(self) -> pl.DataFrame:
        """Contract table: one row per event time (``e=-3`` ...), then ``overall`` (the
        post-period ATT); ``n`` is the number of matched sets behind each row, and its
        p-value is Student t's on ``n - 1`` degrees of freedom (see :func:`matched_did`)."""
        ev = self.event_effects
        rows = tidy_frame(
            [f"e={e}" for e in ev["event_time"].to_list()],
            ev["estimate"].to_numpy(),
            ev["std_error"].to_numpy(),
            ev["conf_low"].to_numpy(),
            ev["conf_high"].to_numpy(),
            n=ev["n_pairs"].to_numpy(),
            df=ev["n_pairs"].to_numpy() - 1,
        )
        overall = tidy_frame(
            "overall",
            self.overall_att,
            self.overall_se,
            *self.overall_ci,
            n=self.n_pairs,
            df=self.n_pairs - 1,
        )
        return pl.concat([rows, overall])

    def t_df(self, term: str = "overall") -> float | None:
        """Degrees of freedom of ``term``'s Student t reference: its matched sets - 1 (the
        ROI draws a matched DiD's effect from it: :func:`certkit.roi.from_result`)."""
        row = self.tidy().filter(pl.col("term") == term)
        return float(row["n"][0] - 1) if row.height and row["n"][0] >= 2 else None

    def plot_data(self) -> pl.DataFrame:
        """The event-time rows of :meth:`tidy` with their numeric ``event_time``."""
        ev = self.event_effects.select("event_time")
        return pl.concat([self.tidy().head(ev.height), ev], how="horizontal")

    def _headline_terms(self) -> list[str] | None:
        return ["overall"]

    def effect_summary(self) -> EffectSummary:
        """Headline table and sentence, followed by any warning about the comparison."""
        return with_alerts(super().effect_summary(), self.alerts)

    estimate = property(
        lambda self: self._headline_value("estimate"), doc="Overall ATT, from tidy()."
    )
    se = property(lambda self: self._headline_value("std_error"), doc="Its SE, from tidy().")

    def to_polars(self) -> pl.DataFrame:
        """Per event time: estimate, std_error, conf_low, conf_high, n_pairs."""
        return self.event_effects

    def balance(self) -> pl.DataFrame:
        """Balance of the pre-period matching variables before and after matching."""
        return self.balance_table

    def certified_rows(
        self, panel: pl.DataFrame, unit: str = UNIT, time: str = TIME
    ) -> pl.DataFrame:
        """The rows of ``panel`` the overall ATT reads on the certified side.

        The certified engineers of the matched sets in the ATT, in the periods of their
        window: ``g - pre_periods .. g - 1`` and ``g .. g + post_periods`` (``g`` the set's
        cohort). Their counts (PRs, defects) are what the estimate stands on: not every
        certified engineer's (a caliper or a missing outcome leaves some out; trial H,
        sqlalchemy: a caveat counted the PRs of 15 certified engineers for an estimate on
        12).
        """
        used = self.pairs.filter(pl.col("in_att")).select(
            pl.col(unit), pl.col("cohort").alias("_g")
        )
        rel = pl.col(time) - pl.col("_g")
        return (
            panel.join(used, on=unit, how="inner")
            .filter(rel.is_between(-self.pre_periods, self.post_periods))
            .drop("_g")
        )

    def plot(self):
        """Event-study chart (Altair): estimates with their intervals by event time."""
        from certkit import charts

        return charts.event_study(
            self.plot_data(),
            lower="conf_low",
            upper="conf_high",
            title=self.title,
            y_title=f"effect on {self.outcome}",
        )
