"""Borusyak, Jaravel & Spiess (2024) imputation estimator for staggered DiD.

1. Fit unit and period fixed effects on the *untreated* observations only (never-treated units
   and treated units before treatment, minus ``anticipation`` periods).
2. Impute each treated observation's untreated outcome from those effects; its treatment
   effect is the observed minus the imputed outcome.
3. Average the effects: over all treated observations (``ATT``, each observation weighted
   equally) and by periods since treatment (``e=0``, ``e=1``, ...).

The point estimates equal Gardner's two-stage DiD (R ``did2s``, pyfixest ``did2s``) and the
fully interacted ("extended") TWFE regression. Standard errors:

* ``vcov="bjs"`` (default): BJS Theorem 3 as R ``didimputation`` computes it: the estimator is
  linear in the outcomes, ``sum v_it y_it``; untreated weights are
  ``v = -Z0 (Z0'Z0)^-1 Z1' w``; treated residuals are centred on their cohort x period mean
  (weighted by ``v^2``); the variance is the sum over clusters of ``(sum v_it e_it)^2``.
* ``vcov="two_stage"``: Gardner's GMM sandwich as R ``did2s`` computes it (treated residuals
  centred on the estimate itself), no small-sample factor.

Both cluster by ``cluster`` (default: the unit).

With ``vcov="bjs"``, cohort x period cells resting on one treated engineer (cluster) are kept
with a :class:`certkit.errors.CertkitWarning`, and the result's ``thin`` records them: BJS's
variance centres each cell's treated residuals on the cell's mean, which is the residual itself
for one unit, so that unit's own noise drops out of the standard error. When such cells carry
at least ``THIN_SHARE`` (10 %) of the ATT's weight, ``effect_summary()`` calls its standard
error not reliable and makes no call on zero.
The numbers are unchanged: R didimputation (``se_inner``: residuals centred by ``gname`` x
``event_time``) reports them silently; Borusyak's Stata ``did_imputation`` with ``leaveout``
stops on the same cells ("cohorts with only one unit or cluster") and warns that the default
(non-leave-out) standard errors "may be downward biased for the same reason". Our warning is an
addition, not a change of numbers.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import sparse, stats

from certkit.did.robust_base import RobustResult, TwoWayFE, long_panel, thin_support, tidy_rows
from certkit.errors import CertkitError
from certkit.errors import warn_and_keep as _warn
from certkit.narrative.robust import thin_pretrend, thin_warning
from certkit.stats.vcov import level_from_alpha

__all__ = ["imputation", "ImputationResult"]


class ImputationResult(RobustResult):
    """Imputation (BJS) estimates: ``ATT`` plus one row per period since treatment."""

    title = "Imputation DiD (Borusyak-Jaravel-Spiess)"
    label = "Imputation (Borusyak-Jaravel-Spiess)"

    def __init__(
        self, table, *, outcome, level, warnings, vcov, n_obs, n_untreated, n_clusters, thin=None
    ):
        super().__init__(table, outcome=outcome, level=level, warnings=warnings, thin=thin)
        self.vcov, self.n_obs, self.n_untreated = vcov, n_obs, n_untreated
        self.n_clusters = n_clusters
        self.pretrend_stat: float | None = None
        self.pretrend_pvalue: float | None = None
        self.pretrend_verdict: str | None = None
        #: False when some lead rests on a single treated engineer (the F test is degenerate).
        self.pretrend_reliable: bool | None = None

    def _header(self) -> dict[str, object]:
        h = super()._header()
        h["observations"] = f"{self.n_obs} ({self.n_untreated} untreated fit the fixed effects)"
        h["standard errors"] = (
            "BJS conservative (didimputation)" if self.vcov == "bjs" else "two-stage GMM (did2s)"
        ) + f", {self.n_clusters} clusters"
        if self.pretrend_verdict:
            h["pre-trends"] = self.pretrend_verdict
        return h


def imputation(
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
    vcov: str = "bjs",
    horizons: list[int] | None = None,
    absorb: str | None = None,
    pretrends: bool | int = False,
) -> ImputationResult:
    """Borusyak-Jaravel-Spiess imputation estimator (= Gardner's two-stage DiD point estimate).

    Parameters
    ----------
    data
        Long panel (polars), one row per unit and period.
    outcome, unit, time, group
        Column names, as in :func:`certkit.did.att_gt`: ``time`` numeric, ``group`` the first
        treated period (0 = never treated); ``unit``, ``time``, ``group`` default to the panel
        contract's (``engineer_id``, ``period_index``, ``cohort``).
    anticipation
        Periods before ``group`` that already count as treated (left out of the first stage).
    cluster
        Column to cluster standard errors on (default: the unit), constant within unit.
    level
        Confidence level of the intervals (default 0.95).
    alpha
        Deprecated: ``1 - level``.
    vcov
        ``"bjs"`` (BJS / R didimputation conservative variance, default) or ``"two_stage"``
        (Gardner / R did2s GMM variance).
    horizons
        Periods since treatment to report (default: every one observed). The ``ATT`` row always
        averages all treated observations.
    absorb
        Column whose fixed effects replace the unit's in the first stage (constant within unit,
        e.g. a state when units are people in states, as in R did2s's README example
        ``first_stage = ~ 0 | state + year``). Default: the unit.
    pretrends
        BJS's pre-trend test: add dummies for the last ``pretrends`` pre-treatment periods
        (``True``: all of them) except the reference ``e = -1 - anticipation`` to the first
        stage, report them as rows ``e=-2``, ``e=-3``, ... and test them jointly (cluster-robust
        Wald F test, as diff-diff's ``pretrend_test``) in ``pretrend_pvalue``.

    Returns
    -------
    ImputationResult
        ``tidy()`` rows ``ATT`` and ``e=0``, ``e=1``, ... (``n`` = treated observations).

    Notes
    -----
    The untreated observations include not-yet-treated ones, so there is no ``control``
    argument: the comparison is always "never and not yet treated", as in BJS.
    """
    if vcov not in ("bjs", "two_stage"):
        raise CertkitError(f"vcov must be 'bjs' or 'two_stage', got {vcov!r}")
    level = level_from_alpha(level, alpha)
    P = long_panel(
        data,
        outcome,
        (unit, time, group),
        cluster=cluster,
        anticipation=anticipation,
        absorb=absorb,
    )
    sink = list(P.notes)
    D = (P.G > 0) & (P.tval >= P.G - anticipation)
    nt = P.times.size
    nf = int(P.fi.max()) + 1
    fe = TwoWayFE(P.fi, P.ti, nf, nt, ~D)
    gu, gt = fe.fit(P.fi, P.ti, P.y, ~D)
    fitted = gu[P.fi] + gt[P.ti]
    ok = np.isfinite(fitted)
    lost = D & ~ok
    if lost.any():
        no_t = sorted({float(t) for t in P.tval[lost & ~np.isfinite(gt[P.ti])]})
        _warn(
            f"{int(lost.sum())} treated observation(s) cannot be imputed and are left out: "
            + (
                f"no untreated unit is observed in period(s) {no_t[:8]}"
                if no_t
                else "their units (or absorb levels) have no untreated period"
            ),
            sink,
        )
    treated = D & ok
    if not treated.any():
        raise CertkitError("no treated observation can be imputed: nothing to estimate")
    adj = np.where(ok, P.y - np.nan_to_num(fitted), 0.0)

    # weights on treated rows: column 0 = overall ATT, then one column per horizon; every
    # treated row has weight 1/N in at most two columns, so W is sparse (treated rows x k)
    rows = np.nonzero(treated)[0]
    e = P.tval[rows] - P.G[rows]
    ev = np.unique(e)
    if horizons is not None:
        ev = ev[np.isin(ev, np.asarray(horizons, dtype=float))]
    terms = ["ATT"] + [f"e={int(x) if float(x).is_integer() else x:g}" for x in ev]
    k = 1 + ev.size
    in_h = np.isin(e, ev)
    col = np.searchsorted(ev, e)
    counts = np.concatenate([[rows.size], np.bincount(col[in_h], minlength=ev.size)])
    r_idx = np.concatenate([np.arange(rows.size), np.nonzero(in_h)[0]])
    c_idx = np.concatenate([np.zeros(rows.size, dtype=np.int64), 1 + col[in_h]])
    W = sparse.csr_matrix((1.0 / counts[c_idx], (r_idx, c_idx)), shape=(rows.size, k))
    a1 = adj[rows]
    est = W.T @ a1
    # only BJS's variance centres on cell means; did2s's centres on the estimate itself
    thin = None
    if vcov == "bjs":
        thin = thin_support(terms, W, P.G[rows], P.ti[rows], P.cl[rows], P.ui[rows])
    if thin is not None:
        why = (
            "BJS's variance centres each cell's treated residuals on the cell's mean, which "
            "for one unit is its own residual"
        )
        clustered = P.n_clusters < P.n_units
        _warn(thin_warning(thin, "R didimputation keeps them", why, clustered), sink)

    # untreated weights v = -Z0 (Z0'Z0)^-1 Z1' w, from the same fixed-effect system
    bu = (
        sparse.csr_matrix(
            (np.ones(rows.size), (P.fi[rows], np.arange(rows.size))), shape=(nf, rows.size)
        )
        @ W
    ).toarray()
    bt = (
        sparse.csr_matrix(
            (np.ones(rows.size), (P.ti[rows], np.arange(rows.size))), shape=(nt, rows.size)
        )
        @ W
    ).toarray()
    hu, ht = fe.solve(bu, bt)
    # score of cluster c, column j: sum over its rows of v_itj * residual_itj. Untreated rows:
    # v = -(hu[f] + ht[t]) times the first-stage residual, summed through cluster x level tables.
    un = np.nonzero(~D)[0]
    ncl = P.n_clusters

    def table_sum(codes, size, vals):
        return sparse.csr_matrix((vals, (P.cl[un], codes[un])), shape=(ncl, size))

    S = -(table_sum(P.fi, nf, adj[un]) @ hu + table_sum(P.ti, nt, adj[un]) @ ht)
    # treated rows: v = w; residual = effect minus its centre. The weights are constant within
    # a cohort x period cell, so BJS's v^2-weighted cell mean is the plain cell mean.
    Cl = sparse.csr_matrix(
        (np.ones(rows.size), (P.cl[rows], np.arange(rows.size))), shape=(ncl, rows.size)
    )
    if vcov == "two_stage":
        S += Cl @ (W.multiply(a1[:, None])) - (Cl @ W).multiply(est[None, :])
    else:
        cell = np.unique(P.G[rows] * (nt + 1) + P.ti[rows], return_inverse=True)[1]
        centre = (np.bincount(cell, a1) / np.bincount(cell))[cell]
        S += Cl @ W.multiply((a1 - centre)[:, None])
    S = np.asarray(S)
    se = np.sqrt(np.einsum("ij,ij->j", S, S))
    table = tidy_rows(terms, est, se, counts, level)
    pre = None
    if pretrends:
        pre = _pretrend(P, D, fe, nf, adj, anticipation, pretrends, level)
        table = pl.concat([table.head(1), pre[0], table.tail(table.height - 1)])
    res = ImputationResult(
        table,
        outcome=outcome,
        level=level,
        warnings=sink,
        vcov=vcov,
        n_obs=int(P.y.size),
        n_untreated=int(un.size),
        n_clusters=P.n_clusters,
        thin=thin,
    )
    if pre is not None:
        res.pretrend_stat, res.pretrend_pvalue, res.pretrend_verdict, res.pretrend_reliable = pre[
            1:
        ]
    return res


def _pretrend(P, D, fe, nf, adj, anticipation, pretrends, level):
    """BJS test 1: leads in the untreated-only regression (FWL on the first stage's effects)."""
    un = ~D
    e = np.where((P.G > 0) & un, P.tval - P.G, np.nan)
    ref = -1.0 - anticipation
    leads = np.unique(e[np.isfinite(e) & (e != ref)])[::-1]
    if pretrends is not True:
        leads = leads[: int(pretrends)]
    leads = np.sort(leads)
    if leads.size == 0:
        return (
            tidy_rows([], [], [], [], level),
            None,
            None,
            "not tested: no pre-treatment leads",
            None,
        )
    rows = np.nonzero(un)[0]
    X = (e[rows, None] == leads[None, :]).astype(float)  # untreated rows x leads
    bu = np.zeros((nf, leads.size))
    bt = np.zeros((P.times.size, leads.size))
    np.add.at(bu, P.fi[rows], X)
    np.add.at(bt, P.ti[rows], X)
    hu, ht = fe.solve(bu, bt)
    Xt = X - hu[P.fi[rows]] - ht[P.ti[rows]]
    yt = adj[rows]  # the outcome residualised on the same fixed effects
    XtX = Xt.T @ Xt
    try:
        inv = np.linalg.inv(XtX)
    except np.linalg.LinAlgError:
        inv = None
    if inv is None or not np.all(np.isfinite(inv)):
        raise CertkitError("pre-trend leads are collinear with the fixed effects; use fewer")
    b = inv @ (Xt.T @ yt)
    u = yt - Xt @ b
    cl = np.unique(P.cl[rows], return_inverse=True)[1]
    ncl, N = int(cl.max()) + 1, rows.size
    S = np.zeros((ncl, leads.size))
    np.add.at(S, cl, Xt * u[:, None])
    K = leads.size + int(np.sum(fe.ct > 0))
    ssc = ncl / (ncl - 1) * (N - 1) / (N - K)
    V = ssc * inv @ (S.T @ S) @ inv
    se = np.sqrt(np.diag(V))
    terms = [f"e={int(x) if float(x).is_integer() else x:g}" for x in leads]
    n = X.sum(axis=0).astype(np.int64)
    F = float(b @ np.linalg.solve(V, b)) / leads.size
    p = float(stats.f.sf(F, leads.size, max(ncl - 1, 1)))
    # a lead seen in one cluster only is fitted exactly: its cluster-robust variance is ~0 and
    # F explodes (3.7e9 on a real organisation), so the verdict says the test is not reliable
    seen = np.unique(np.column_stack([np.nonzero(X)[1], cl[np.nonzero(X)[0]]]), axis=0)
    single = [terms[j] for j in np.nonzero(np.bincount(seen[:, 0], minlength=leads.size) < 2)[0]]
    if single:
        return tidy_rows(terms, b, se, n, level), F, p, thin_pretrend(single, leads.size), False
    verdict = (
        f"{'warning: diverging' if p < 0.05 else 'no evidence of diverging'} trends before "
        f"treatment (BJS test of {leads.size} lead(s), F = {F:.2f}, p = {p:.3f})"
    )
    return tidy_rows(terms, b, se, n, level), F, p, verdict, True
