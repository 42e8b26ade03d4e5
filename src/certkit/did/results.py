"""The result of :func:`certkit.did.att_gt`: group-time ATTs with their influence functions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from certkit.did.aggregate import aggregate_cells
from certkit.did.inference import analytic_se, multiplier_bootstrap
from certkit.did.prepare import whole
from certkit.display import p_said
from certkit.errors import warn_and_keep as _warn
from certkit.results import EstimateMixin, tidy_frame
from certkit.stats.vcov import cluster_sums, critical_value, wald_test

#: Up to this many units x pre-period cells the pre-trend Wald covariance is one dense
#: product; above it, cohort blocks (sparse), which scale with the units taking part.
DENSE_WALD_CELLS = 5_000_000

if TYPE_CHECKING:  # altair costs seconds to import: only plot() needs it
    import altair as alt


class ATTgtResult(EstimateMixin):
    """Group-time ATTs with influence functions; aggregate with :meth:`aggregate`."""

    title = "Callaway & Sant'Anna group-time ATTs"

    def __init__(
        self,
        *,
        group,
        time,
        att,
        inf,
        n_treated,
        n_control,
        blocks,
        panel,
        settings,
        bootstrap,
        n_boot,
        boot_weights,
        seed,
        level,
        warnings,
    ):
        self.group, self.time, self.att, self.inf = group, time, att, inf
        self.n_treated, self.n_control = n_treated, n_control
        self._blocks = blocks
        self.panel, self.settings = panel, settings
        self.bootstrap, self.n_boot = bootstrap, n_boot
        self.boot_weights, self.seed = boot_weights, seed
        self.level = level
        self.warnings = warnings
        self.n = panel.n
        self.se, self.crit = self._inference(inf, uniform=True)
        self._wald = None
        a = self.settings["anticipation"]
        self.is_pre = self.group - a > self.time
        if self.is_pre.any():
            p = self.wald_pvalue
            if p is not None and p < 0.05:
                # say which test: an event study's headline verdict may use another (the joint
                # test of its event-time estimates, for small cohorts), and a re-estimate with
                # the universal base period runs this one again (trial I, python-sdk: "no
                # evidence ... p = 0.66" and "already diverged (Wald test p = 0)" on one page)
                q = self._wald[2] if self._wald else int(self.is_pre.sum())
                base = self.settings.get("base_period", "varying")
                said = p_said(p)
                from certkit.did.event import CELL_TEST_UNITS_PER_CELL, _small_cohorts

                # small cohorts: the test rejects far too often under parallel trends (p =
                # 4e-28 on a null panel of one cohort of 6, trial Q); say so where it warns
                doubt = (
                    "; but with cohorts this small (under "
                    f"{CELL_TEST_UNITS_PER_CELL} engineers per pre-period cell) this test "
                    "rejects far too often when trends are parallel: the event study's "
                    "pre-trend test is the one to read"
                    if _small_cohorts(self)
                    else "; parallel trends is doubtful and the effects may be biased"
                )
                _warn(
                    f"pre-trends: before certification, certified and comparison units already "
                    f"diverged (cell-level Wald test of {q} pre-period ATT(g,t), {base} base "
                    f"period, p {said}){doubt}",
                    self.warnings,
                )

    def _inference(self, inf, uniform: bool) -> tuple[np.ndarray, float]:
        if self.bootstrap:
            se, crit = multiplier_bootstrap(
                inf, self.panel.cluster, self.n_boot, self.boot_weights, self.seed, self.level
            )
            return se, (crit if uniform else critical_value(self.level))
        return analytic_se(inf, self.panel.cluster), critical_value(self.level)

    @property
    def alpha(self) -> float:
        """Deprecated: ``1 - level``."""
        return 1 - self.level

    # ---- pre-trend test
    def _compute_wald(self):
        pre = self.is_pre & np.isfinite(self.se)
        q = int(pre.sum())
        if q == 0:
            return None, None, 0
        if self.panel.cluster is None and self.n * q <= DENSE_WALD_CELLS:
            # one dense cross product of the pre-period columns (zeros where a cohort takes no
            # part): on 390 engineers x 210 pre-period cells 1 ms, where summing cohort blocks
            # into V by fancy indexing took 25 ms (the scatter, not the products)
            A = self.inf.T[pre]  # cells x units, contiguous (inf is a transposed view)
            V = A @ A.T
        elif self.panel.cluster is None:
            # block-sparse: a cohort's units only enter the cells it takes part in (at 100,000
            # engineers x 104 weeks the dense product took 0.9 s and 155 MB more)
            idx = np.nonzero(pre)[0]
            V = np.zeros((q, q))
            for a, b, nzc in self._blocks:
                cols = np.nonzero(nzc[idx])[0]
                if a == b or cols.size == 0:
                    continue
                B = self.inf[a:b][:, idx[cols]]
                V[np.ix_(cols, cols)] += B.T @ B
        else:
            S = cluster_sums(self.inf[:, pre], self.panel.cluster)
            V = S.T @ S
        V /= self.n**2
        return (*wald_test(self.att[pre], V), q)

    @property
    def wald_stat(self) -> float | None:
        """Wald statistic that all pre-treatment ATT(g,t) are zero (None without pre-periods)."""
        if self._wald is None:
            self._wald = self._compute_wald()
        return self._wald[0]

    @property
    def wald_pvalue(self) -> float | None:
        """Chi-square p-value of :attr:`wald_stat`."""
        if self._wald is None:
            self._wald = self._compute_wald()
        return self._wald[1]

    def to_polars(self) -> pl.DataFrame:
        """One row per cell: group, time, e, period, att, se, ci_low, ci_high, n_treated, n_control."""
        return pl.DataFrame(
            {
                "group": whole(self.group),
                "time": whole(self.time),
                "e": whole(self.time - self.group),
                "period": np.where(self.is_pre, "pre", "post"),
                "att": self.att,
                "se": self.se,
                "ci_low": self.att - self.crit * self.se,
                "ci_high": self.att + self.crit * self.se,
                "n_treated": self.n_treated,
                "n_control": self.n_control,
            }
        )

    def _header(self) -> dict[str, object]:
        s = self.settings
        h = {
            "outcome": s["outcome"],
            "comparison group": "never treated" if s["control"] == "never" else "not yet treated",
            "method": s["method"]
            + (f" with {', '.join(s['covariates'])}" if s["covariates"] else ""),
            "units": self.n,
            "inference": (
                f"multiplier bootstrap ({self.n_boot} draws), uniform bands"
                if self.bootstrap
                else "analytic (influence function)"
            )
            + (f", clustered by {s['cluster']}" if s["cluster"] else ""),
        }
        if s.get("min_cell_units", 1) > 1:
            h["cells"] = (
                f"cells with fewer than {s['min_cell_units']} treated or comparison units "
                f"dropped (min_cell_units={s['min_cell_units']}; R did keeps them): "
                f"{s.get('dropped_cells', 0)} dropped"
            )
        if self.wald_stat is not None:
            h["pre-trend Wald test"] = f"W = {self.wald_stat:.3f}, p = {self.wald_pvalue:.4f}"
        return h

    #: Aggregate ATT(g,t) into one summary, as R did's ``aggte`` (see :func:`aggregate_cells`).
    aggregate = aggregate_cells

    def tidy(self) -> pl.DataFrame:
        """Contract table, one row per cell (term ``ATT(g=..., t=...)``); bands as ``ci_low``."""
        g, t = whole(self.group), whole(self.time)
        lo, hi = self.att - self.crit * self.se, self.att + self.crit * self.se
        terms = [f"ATT(g={a}, t={b})" for a, b in zip(g.tolist(), t.tolist(), strict=True)]
        return tidy_frame(terms, self.att, self.se, lo, hi, n=self.n_treated + self.n_control)

    def plot_data(self) -> pl.DataFrame:
        """:meth:`tidy` with the cell's ``group``, ``time`` and ``period`` (pre/post)."""
        keys = self.to_polars().select("group", "time", "period")
        return pl.concat([self.tidy(), keys], how="horizontal")

    def _headline_terms(self) -> list[str] | None:
        return []  # no single headline: aggregate first

    def effect_summary(self):
        """The ATT(g,t) cells have no single headline; summarise :meth:`aggregate` instead."""
        agg = self.aggregate("simple")
        return agg.effect_summary()

    def plot(self) -> alt.FacetChart:
        """Altair chart of every ATT(g,t) with its interval, one panel per cohort."""
        import altair as alt

        from certkit import charts

        return charts.effect_points(
            self.plot_data(),
            x="time",
            color="period",
            title=f"ATT(g,t): {self.settings['outcome']}",
        ).facet(row=alt.Row("group:O", title="cohort (first treated period)"))
