"""Shared pieces of the heterogeneity-robust DiD estimators (imputation, Sun-Abraham).

* :func:`long_panel` checks and codes a long panel (one row per unit and period) the way
  :func:`certkit.did.att_gt` reads it: ``group`` is the first treated period, 0 for never.
* :class:`TwoWayFE` solves least squares with two sets of fixed effects (a "unit" and a
  "time" factor) exactly, by eliminating the unit effects and solving the small dense
  system of the time effects (its Schur complement). It serves the imputation estimator's
  first stage and the Sun-Abraham regression (whose cohort x period cells form the time
  factor), balanced or not, with no iteration.
* :class:`RobustResult` is their result: a :class:`certkit.results.EstimateMixin` (``tidy()``
  with ``term, estimate, std_error, statistic, p_value, conf_low, conf_high, n``,
  ``plot_data()``, ``plot()``, ``effect_summary()``, ``summary()``, ``level``).
* :func:`thin_support` finds the cohort x period cells resting on a single treated engineer
  (cluster), whose own noise neither estimator's standard error can see; the result carries
  it as ``thin`` and its words (``effect_summary()``, the robustness verdict) say when the
  standard error is not reliable.

The input checks are :mod:`certkit.did.prepare`'s, so every did estimator words them alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from scipy import linalg, sparse

from certkit.data.contract import panel_columns
from certkit.did.prepare import (
    check_anticipation,
    drop_treated_in_first_period,
    first_rows,
    need_columns,
    no_nulls,
    no_treated_units,
    per_unit,
    require_numeric,
    treatment_timing,
    unique_unit_periods,
)
from certkit.errors import CertkitError, check_outcome
from certkit.narrative.robust import describe_did_estimate, thin_reason
from certkit.results import TIDY_COLUMNS as CONTRACT_COLUMNS
from certkit.results import EffectSummary, EstimateMixin, tidy_frame
from certkit.stats.fe import dense_codes
from certkit.stats.vcov import critical_value

if TYPE_CHECKING:  # altair costs seconds to import: only plot() needs it
    import altair as alt

TIDY_COLUMNS = list(CONTRACT_COLUMNS)
#: A cohort x period cell with fewer treated clusters (engineers by default) than this is "thin".
MIN_TREATED = 2
#: A row's standard error is flagged not reliable when thin cells carry at least this share of
#: its weight. Roughly, that share of the treated engineers' own noise is missing from the
#: variance: below 10 % the standard error is understated by about 5 % or less.
THIN_SHARE = 0.1


# --------------------------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------------------------


@dataclass
class LongPanel:
    """Rows with a non-null outcome, coded for the estimators (all arrays have one entry per row)."""

    y: np.ndarray
    ui: np.ndarray  # unit code 0..n_units-1
    ti: np.ndarray  # period code 0..n_periods-1
    tval: np.ndarray  # period value
    G: np.ndarray  # first treated period of the row's unit, 0 = never treated
    cl: np.ndarray  # cluster code
    fi: np.ndarray  # code of the level of the "unit" fixed effects (the unit unless absorb=)
    times: np.ndarray  # distinct periods, sorted
    n_units: int
    n_clusters: int
    notes: list[str]


def long_panel(
    data: pl.DataFrame,
    outcome: str,
    columns: tuple[str | None, str | None, str | None],
    *,
    cluster: str | None,
    anticipation: int,
    absorb: str | None = None,
) -> LongPanel:
    """Check a long panel and code it; raise :class:`CertkitError` naming what is wrong.

    ``columns`` are the ``(unit, time, group)`` names, ``None`` for the panel contract's
    (:func:`certkit.data.contract.panel_columns`). The checks are :mod:`certkit.did.prepare`'s
    (the same messages as :func:`att_gt`); rows with a null outcome are left out before the
    panel is coded.
    """
    unit, time, group = panel_columns(data, *columns)
    need_columns(
        data,
        {"outcome": outcome, "unit": unit, "time": time, "group": group}
        | {"cluster": cluster, "absorb": absorb},
    )
    for col, role in [(outcome, "outcome"), (time, "time"), (group, "group")]:
        require_numeric(data, col, role)
    check_anticipation(anticipation)
    cols = list(dict.fromkeys(c for c in (unit, time, group, outcome, cluster, absorb) if c))
    df = data.select(cols)
    extra = [(c, r) for c, r in ((cluster, "cluster"), (absorb, "absorb")) if c]
    no_nulls(df, [(unit, "unit"), (time, "time"), (group, "group"), *extra])
    yv = df[outcome].cast(pl.Float64)
    ok = (yv.is_not_null() & ~yv.fill_null(0.0).is_nan()).to_numpy()
    df = df.filter(pl.Series(ok))
    check_outcome(df[outcome], outcome)
    dropped_notes: list[str] = []
    while True:  # as R's did: units treated in the first period have no pre-period
        ui, ti = dense_codes(df[unit]), dense_codes(df[time])
        unique_unit_periods(df, unit, time, ui, ti)
        first = first_rows(ui)
        Gu = per_unit(df, group, "group", unit, ui, first).astype(float)
        for col, role in extra:
            per_unit(df, col, role, unit, ui, first)
        tval = df[time].to_numpy().astype(float)
        times = np.unique(tval)
        if times.size < 2:
            raise CertkitError(
                f"need at least 2 periods with a non-null outcome, found {times.size}"
            )
        kept, dropped = drop_treated_in_first_period(
            df, df[unit].gather(first), Gu, times, anticipation, group
        )
        if not dropped:
            break
        if kept.height == 0:
            raise CertkitError(f"every unit is {dropped.removeprefix('dropped ')}")
        dropped_notes.append(dropped)
        df = kept
    n_units = first.size
    Gu, notes = treatment_timing(Gu, times, anticipation, group, lambda m: int(m.sum()))
    notes = dropped_notes + notes
    if not np.any(Gu > 0):
        raise no_treated_units(data, outcome, unit, group)
    cl = dense_codes(df[cluster]) if cluster and cluster != unit else ui
    return LongPanel(
        y=df[outcome].cast(pl.Float64).to_numpy(),
        ui=ui,
        ti=np.searchsorted(times, tval),
        tval=tval,
        G=Gu[ui],
        cl=cl,
        fi=dense_codes(df[absorb]) if absorb and absorb != unit else ui,
        times=times,
        n_units=n_units,
        n_clusters=int(cl.max()) + 1,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# two-way fixed effects
# --------------------------------------------------------------------------------------------


class TwoWayFE:
    """Least squares on two factors ``a[u] + b[t]`` over the rows in ``mask``, solved exactly.

    The unit effects are eliminated; the time effects solve ``S b = r`` with the dense Schur
    complement ``S = diag(n_t) - C' diag(1/n_u) C`` (``C`` the unit x time count matrix), with
    the first identified time effect fixed at 0. Effects of units or periods without rows in the
    mask are NaN.
    """

    def __init__(self, ui: np.ndarray, ti: np.ndarray, nu: int, nt: int, mask: np.ndarray):
        u, t = ui[mask], ti[mask]
        self.nu, self.nt = nu, nt
        self.cu = np.bincount(u, minlength=nu).astype(float)
        self.ct = np.bincount(t, minlength=nt).astype(float)
        self.C = sparse.csr_matrix((np.ones(u.size), (u, t)), shape=(nu, nt))
        self.du = np.divide(1.0, self.cu, out=np.zeros(nu), where=self.cu > 0)
        S = np.diag(self.ct) - (self.C.T @ sparse.diags(self.du) @ self.C).toarray()
        live = np.nonzero(self.ct > 0)[0]
        self.keep = live[1:]
        try:
            self.chol = linalg.cho_factor(S[np.ix_(self.keep, self.keep)])
            ok = np.min(np.abs(np.diag(self.chol[0]))) > 1e-9 * max(1.0, np.sqrt(self.ct.max()))
        except linalg.LinAlgError:
            ok = False
        if not ok:
            raise CertkitError(
                "the unit and period fixed effects are not connected (some groups of units "
                "share no period with the others), so they cannot be estimated together"
            )

    def solve(self, bu: np.ndarray, bt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Effects (units x k, periods x k) for right-hand sides of the normal equations."""
        bu = bu.reshape(self.nu, -1)
        bt = bt.reshape(self.nt, -1)
        r = bt - self.C.T @ (self.du[:, None] * bu)
        gt = np.full((self.nt, bu.shape[1]), np.nan)
        gt[self.ct > 0] = 0.0
        gt[self.keep] = linalg.cho_solve(self.chol, r[self.keep])
        gu = self.du[:, None] * (bu - self.C @ np.nan_to_num(gt))
        gu[self.cu == 0] = np.nan
        return gu, gt

    def fit(self, ui, ti, v, mask) -> tuple[np.ndarray, np.ndarray]:
        """Effects fitted to ``v`` on the rows in ``mask``."""
        bu = np.bincount(ui[mask], v[mask], self.nu)
        bt = np.bincount(ti[mask], v[mask], self.nt)
        gu, gt = self.solve(bu, bt)
        return gu[:, 0], gt[:, 0]


# --------------------------------------------------------------------------------------------
# cells resting on one treated engineer
# --------------------------------------------------------------------------------------------


@dataclass
class ThinSupport:
    """Cohort x period cells resting on fewer than :data:`MIN_TREATED` treated clusters.

    Attributes
    ----------
    cohorts
        Cohorts with at least one thin cell, sorted.
    engineers
        Treated units in the thin cells.
    cells
        Number of thin cohort x period cells.
    share
        Per term (``ATT``, ``e=0``, ...): the share of its weight on thin cells.
    single
        Terms whose treated observations all belong to one cluster.
    whole
        True when every thin cohort has a single treated cluster in all its periods (not
        just in some, as when engineers leave a larger cohort).
    limit
        The share of a term's weight on thin cells from which its standard error is not
        reliable: :data:`THIN_SHARE` for Sun-Abraham and imputation, the headline's
        :data:`certkit.narrative.effects.SINGLE_WEIGHT_LIMIT` for Callaway-Sant'Anna
        aggregations (:attr:`certkit.did.AggregateResult.thin`).
    """

    cohorts: list[float]
    engineers: int
    cells: int
    share: dict[str, float]
    single: list[str]
    whole: bool = True
    limit: float = THIN_SHARE

    def unreliable(self, term: str = "ATT") -> bool:
        """Whether ``term``'s standard error is not reliable (thin cells weigh too much)."""
        return term in self.single or self.share.get(term, 0.0) >= self.limit

    @property
    def terms(self) -> list[str]:
        """Terms whose standard error is not reliable, in table order."""
        return [t for t in self.share if self.unreliable(t)]


def thin_support(
    terms: list[str], weights, cohort: np.ndarray, period: np.ndarray, cluster, unit
) -> ThinSupport | None:
    """Find the thin cohort x period cells among treated observations (``None`` if none).

    ``weights`` (treated observations x ``terms``, dense or sparse) are the observations'
    weights in each reported row; ``cohort``, ``period``, ``cluster``, ``unit`` are codes or
    values per treated observation. A cell is thin when its observations come from fewer than
    :data:`MIN_TREATED` clusters: BJS's variance centres such a cell's residuals on its own
    mean (zero for one unit) and Sun-Abraham's cell dummy fits that unit's residual exactly,
    so neither standard error sees that unit's own noise.
    """
    key = np.unique(np.column_stack([cohort, period]), axis=0, return_inverse=True)[1].ravel()
    pairs = np.unique(np.column_stack([key, np.asarray(cluster)]), axis=0)
    thin_cell = np.bincount(pairs[:, 0].astype(np.int64), minlength=key.max() + 1) < MIN_TREATED
    thin = thin_cell[key]
    W = sparse.coo_matrix(weights)
    w = np.abs(W.data)
    tot = np.bincount(W.col, w, len(terms))
    part = np.bincount(W.col, w * thin[W.row], len(terms))
    share = {t: float(part[j] / tot[j]) if tot[j] > 0 else 0.0 for j, t in enumerate(terms)}
    used = np.unique(np.column_stack([W.col[w > 0], np.asarray(cluster)[W.row[w > 0]]]), axis=0)
    n_cl = np.bincount(used[:, 0].astype(np.int64), minlength=len(terms))
    single = [t for j, t in enumerate(terms) if 0 < n_cl[j] < MIN_TREATED]
    if not thin.any() and not single:
        return None
    cohort = np.asarray(cohort)
    cohorts = sorted({float(g) for g in cohort[thin]})
    per_cohort = [np.unique(np.asarray(cluster)[cohort == g]).size for g in cohorts]
    return ThinSupport(
        cohorts=cohorts,
        engineers=int(np.unique(np.asarray(unit)[thin]).size),
        cells=int(thin_cell.sum()),
        share=share,
        single=single,
        whole=max(per_cohort) < MIN_TREATED,
    )


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


def tidy_rows(terms, est, se, n, level: float) -> pl.DataFrame:
    """The contract's tidy table from terms, estimates and SEs (normal intervals at ``level``)."""
    est, se = np.asarray(est, float), np.asarray(se, float)
    z = critical_value(level)
    return tidy_frame(list(terms), est, se, est - z * se, est + z * se, n=np.asarray(n, np.int64))


def describe(label: str, row: dict, level: float, outcome: str, thin=None) -> str:
    """One sentence for one estimate (from its tidy row): :func:`describe_did_estimate`."""
    return describe_did_estimate(label, row, level, outcome, thin)


class RobustResult(EstimateMixin):
    """Common result shape: a tidy table with an overall ``ATT`` row and event-time rows."""

    title = "DiD estimate"
    label = "estimator"

    def __init__(
        self,
        table: pl.DataFrame,
        *,
        outcome: str,
        level: float,
        warnings: list[str],
        thin: ThinSupport | None = None,
    ):
        self.table = table
        self.outcome, self.level = outcome, level
        self.warnings = warnings
        #: Cohort x period cells resting on a single treated engineer (None: there are none).
        self.thin = thin

    @property
    def thin_cohorts(self) -> list[float]:
        """Cohorts with cells resting on a single treated engineer (empty if none)."""
        return list(self.thin.cohorts) if self.thin else []

    @property
    def se_reliable(self) -> bool:
        """False when the overall ATT's standard error is not reliable (see :attr:`thin`)."""
        return not (self.thin and self.thin.unreliable("ATT"))

    @property
    def alpha(self) -> float:
        """Deprecated: ``1 - level``."""
        return 1 - self.level

    def _oneline_facts(self) -> dict[str, object]:
        facts = super()._oneline_facts()
        if not self.se_reliable and "std error" in facts:  # it read as precise (trial F)
            facts["std error"] = f"{facts['std error']:.3g} (not reliable)"
        return facts

    def _headline_terms(self) -> list[str] | None:
        return ["ATT"]

    def tidy(self) -> pl.DataFrame:
        """``term, estimate, std_error, statistic, p_value, conf_low, conf_high, n``."""
        return self.table

    def _row(self, term: str) -> dict:
        hit = self.table.filter(pl.col("term") == term)
        if hit.height == 0:
            raise CertkitError(f"no term {term!r} in this result; terms: {self.table['term']}")
        return hit.row(0, named=True)

    @property
    def estimate(self) -> float:
        """Overall ATT (the ``ATT`` row of :meth:`tidy`)."""
        return float(self._row("ATT")["estimate"])

    @property
    def se(self) -> float:
        """Standard error of the overall ATT."""
        return float(self._row("ATT")["std_error"])

    @property
    def ci(self) -> tuple[float, float]:
        """Confidence interval of the overall ATT."""
        r = self._row("ATT")
        return float(r["conf_low"]), float(r["conf_high"])

    def event_study(self) -> pl.DataFrame:
        """The event-time rows with a numeric ``event_time`` column."""
        return (
            self.table.filter(pl.col("term").str.starts_with("e="))
            .with_columns(pl.col("term").str.slice(2).cast(pl.Float64).alias("event_time"))
            .sort("event_time")
        )

    def _header(self) -> dict[str, object]:
        lo, hi = self.ci
        h: dict[str, object] = {
            "outcome": self.outcome,
            "overall ATT": f"{self.estimate:.4f} (SE {self.se:.4f}, "
            f"{100 * self.level:.0f}% CI {lo:.4f} to {hi:.4f})",
        }
        if not self.se_reliable:
            h["standard error"] = f"not reliable: {thin_reason(self.thin)}"
        return h

    def effect_summary(self) -> EffectSummary:
        """The overall row and a sentence from its numbers."""
        text = describe(self.label, self._row("ATT"), self.level, self.outcome, self.thin)
        return EffectSummary(self.table.filter(pl.col("term") == "ATT"), text)

    def plot_data(self) -> pl.DataFrame:
        """The event-time rows of :meth:`tidy` with ``event_time`` and ``period`` (pre/post)."""
        return self.event_study().with_columns(
            pl.when(pl.col("event_time") < 0)
            .then(pl.lit("pre"))
            .otherwise(pl.lit("post"))
            .alias("period")
        )

    def plot(self) -> alt.LayerChart:
        """Event-study chart: event-time estimates with intervals, certification marked."""
        from certkit import charts

        return charts.event_study(
            self.plot_data(),
            lower="conf_low",
            upper="conf_high",
            title=f"{self.title}: {self.outcome}",
            y_title=f"effect on {self.outcome}",
            x_title="periods since treatment (e)",
        )
