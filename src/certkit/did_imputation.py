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
"""

from __future__ import annotations

import numpy as np
import polars as pl

from certkit.did_robust_base import RobustResult, TwoWayFE, cluster_sums, long_panel, tidy_frame
from certkit.errors import CertkitError
from certkit.errors import warn_and_keep as _warn

__all__ = ["imputation", "ImputationResult"]


class ImputationResult(RobustResult):
    """Imputation (BJS) estimates: ``ATT`` plus one row per period since treatment."""

    title = "Imputation DiD (Borusyak-Jaravel-Spiess)"
    label = "Imputation (Borusyak-Jaravel-Spiess)"

    def __init__(self, table, *, outcome, alpha, warnings, vcov, n_obs, n_untreated, n_clusters):
        super().__init__(table, outcome=outcome, alpha=alpha, warnings=warnings)
        self.vcov, self.n_obs, self.n_untreated = vcov, n_obs, n_untreated
        self.n_clusters = n_clusters

    def _header(self) -> dict[str, object]:
        h = super()._header()
        h["observations"] = f"{self.n_obs} ({self.n_untreated} untreated fit the fixed effects)"
        h["standard errors"] = (
            "BJS conservative (didimputation)" if self.vcov == "bjs" else "two-stage GMM (did2s)"
        ) + f", {self.n_clusters} clusters"
        return h


def imputation(
    data: pl.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    anticipation: int = 0,
    cluster: str | None = None,
    alpha: float = 0.05,
    vcov: str = "bjs",
    horizons: list[int] | None = None,
    absorb: str | None = None,
) -> ImputationResult:
    """Borusyak-Jaravel-Spiess imputation estimator (= Gardner's two-stage DiD point estimate).

    Parameters
    ----------
    data
        Long panel (polars), one row per unit and period.
    outcome, unit, time, group
        Column names, as in :func:`certkit.did.att_gt`: ``time`` numeric, ``group`` the first
        treated period (0 = never treated).
    anticipation
        Periods before ``group`` that already count as treated (left out of the first stage).
    cluster
        Column to cluster standard errors on (default: the unit), constant within unit.
    alpha
        1 - confidence level.
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
    if not 0 < alpha < 1:
        raise CertkitError(f"alpha must be between 0 and 1, got {alpha}")
    P = long_panel(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        group=group,
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

    # weights on treated rows: column 0 = overall ATT, then one column per horizon
    e = np.where(treated, P.tval - P.G, np.nan)
    ev = np.unique(e[treated])
    if horizons is not None:
        ev = ev[np.isin(ev, np.asarray(horizons, dtype=float))]
    terms = ["ATT"] + [f"e={int(x) if float(x).is_integer() else x:g}" for x in ev]
    k = 1 + ev.size
    W = np.zeros((P.y.size, k))
    W[treated, 0] = 1.0 / treated.sum()
    counts = [int(treated.sum())]
    for j, x in enumerate(ev, start=1):
        sel = treated & (e == x)
        W[sel, j] = 1.0 / sel.sum()
        counts.append(int(sel.sum()))
    est = W[treated].T @ adj[treated]

    # untreated weights v = -Z0 (Z0'Z0)^-1 Z1' w, from the same fixed-effect system
    bu = np.zeros((nf, k))
    bt = np.zeros((nt, k))
    np.add.at(bu, P.fi[treated], W[treated])
    np.add.at(bt, P.ti[treated], W[treated])
    hu, ht = fe.solve(bu, bt)
    V = W.copy()
    un = ~D
    V[un] = -(hu[P.fi[un]] + ht[P.ti[un]])
    # residuals: untreated = first-stage residual; treated = effect minus its centre
    resid = np.zeros((P.y.size, k))
    resid[un] = adj[un, None]
    if vcov == "two_stage":
        resid[treated] = adj[treated, None] - est[None, :]
    else:
        cell = np.unique(P.G[treated] * (nt + 1) + P.ti[treated], return_inverse=True)[1]
        v2 = V[treated] ** 2
        num = np.zeros((cell.max() + 1, k))
        den = np.zeros((cell.max() + 1, k))
        np.add.at(num, cell, v2 * adj[treated, None])
        np.add.at(den, cell, v2)
        tau_bar = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
        resid[treated] = adj[treated, None] - tau_bar[cell]
    S = cluster_sums(V * resid, P.cl, P.n_clusters)
    se = np.sqrt(np.einsum("ij,ij->j", S, S))
    table = tidy_frame(terms, est, se, counts, alpha)
    return ImputationResult(
        table,
        outcome=outcome,
        alpha=alpha,
        warnings=sink,
        vcov=vcov,
        n_obs=int(P.y.size),
        n_untreated=int(un.sum()),
        n_clusters=P.n_clusters,
    )
