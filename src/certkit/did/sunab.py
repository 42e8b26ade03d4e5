"""Sun & Abraham (2021) interaction-weighted event study.

One regression with unit and period fixed effects and a dummy for every (cohort, period since
treatment) cell except each cohort's reference period ``e = -1 - anticipation``:

    y_it = a_i + l_t + sum_{g, e != ref} b_{g,e} 1{G_i = g, t - g = e} + u_it

Only never-treated units (``control="never"``) or, with ``control="last"``, the last-treated
cohort before its treatment (plus any never-treated units) serve as the comparison, so the
cell effects ``b_{g,e}`` are clean 2x2-style comparisons with the reference period. They are
then averaged with the cohorts' shares of treated observations: by period since treatment
(``e=0``, ``e=1``, ...) and over all post-treatment cells (``ATT``), as R fixest's ``sunab``
and its ``agg = "ATT"`` do. On a balanced panel with never-treated controls the post-period
event-time effects equal Callaway-Sant'Anna's dynamic effects and ``ATT`` equals its simple
aggregation (never-treated comparison).

The regression is solved exactly as a two-way fixed-effect model whose "period" factor is the
cell (control and reference observations share the plain period), see
:class:`certkit.did.robust_base.TwoWayFE`. Standard errors are cluster-robust (CR1, default
cluster the unit) with fixest's small-sample factor ``G/(G-1) * (N-1)/(N-K)`` (``K`` = cell
dummies plus period effects; unit effects are nested in the clusters); aggregates use the delta
method with the cohort shares held fixed, as fixest does.

A cohort x period cell observed for a single treated engineer (cluster) has its dummy fitted to
that one observation exactly: its residual is 0 and the cluster-robust variance never sees that
engineer's own noise. Such cells are kept with a :class:`certkit.errors.CertkitWarning` and
recorded in the result's ``thin``; when they carry at least ``THIN_SHARE`` (10 %) of the ATT's
weight, ``effect_summary()`` calls its standard error not reliable and makes no call on zero.
R fixest's ``sunab`` estimates and reports such cells without a warning (``R/did.R`` has none
for them), so our warning is an addition, not a change of numbers.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import linalg, sparse

from certkit.did.robust_base import RobustResult, TwoWayFE, long_panel, thin_support, tidy_rows
from certkit.errors import CertkitError
from certkit.errors import warn_and_keep as _warn
from certkit.narrative.robust import thin_warning
from certkit.stats.vcov import level_from_alpha

__all__ = ["sun_abraham", "SunAbrahamResult"]


class SunAbrahamResult(RobustResult):
    """Sun-Abraham estimates: ``ATT`` plus one row per period since treatment."""

    title = "Sun-Abraham interaction-weighted event study"
    label = "Sun-Abraham (interaction-weighted)"

    def __init__(
        self, table, *, outcome, level, warnings, cells, control, n_obs, n_clusters, thin=None
    ):
        super().__init__(table, outcome=outcome, level=level, warnings=warnings, thin=thin)
        self.cells = cells
        self.control, self.n_obs, self.n_clusters = control, n_obs, n_clusters

    def _header(self) -> dict[str, object]:
        h = super()._header()
        h["comparison group"] = (
            "never treated" if self.control == "never" else "last-treated cohort (and never)"
        )
        h["observations"] = self.n_obs
        h["cohort x period cells"] = self.cells.height
        h["standard errors"] = f"cluster-robust (CR1), {self.n_clusters} clusters"
        return h


def sun_abraham(
    data: pl.DataFrame,
    *,
    outcome: str,
    unit: str | None = None,
    time: str | None = None,
    group: str | None = None,
    control: str = "never",
    anticipation: int = 0,
    cluster: str | None = None,
    level: float = 0.95,
    alpha: float | None = None,
) -> SunAbrahamResult:
    """Sun-Abraham interaction-weighted event study and overall ATT.

    Parameters
    ----------
    data
        Long panel (polars), one row per unit and period.
    outcome, unit, time, group
        Column names, as in :func:`certkit.did.att_gt` (``group`` = first treated period,
        0 = never treated); ``unit``, ``time``, ``group`` default to the panel contract's.
    control
        ``"never"`` (never-treated units, default) or ``"last"`` (the last-treated cohort,
        with periods from its treatment on dropped; never-treated units also compare).
    anticipation
        Periods of anticipation; the reference period is ``e = -1 - anticipation``.
    cluster
        Column to cluster standard errors on (default: the unit).
    level
        Confidence level of the intervals (default 0.95).
    alpha
        Deprecated: ``1 - level``.

    Returns
    -------
    SunAbrahamResult
        ``tidy()`` rows ``ATT`` and ``e=...`` (``n`` = treated observations); the cohort x
        period effects are in ``.cells``.
    """
    if control not in ("never", "last"):
        raise CertkitError(
            f"control must be 'never' or 'last' for Sun-Abraham, got {control!r} (the "
            "not-yet-treated comparison is att_gt(control='not_yet') or imputation())"
        )
    level = level_from_alpha(level, alpha)
    P = long_panel(data, outcome, (unit, time, group), cluster=cluster, anticipation=anticipation)
    sink = list(P.notes)
    G, keep = P.G.copy(), np.ones(P.y.size, dtype=bool)
    if control == "last":
        g_last = G.max()
        if np.unique(G[G > 0]).size < 2:
            raise CertkitError("control='last' needs at least two treated cohorts")
        keep = P.tval < g_last - anticipation
        G = np.where(g_last == G, 0.0, G)
        sink.append(
            f"cohort {g_last:g} (last treated) is the comparison group; periods from "
            f"{g_last - anticipation:g} on are dropped"
        )
    elif not np.any(G == 0):
        raise CertkitError(
            "there are no never-treated units, so control='never' has no comparison group; "
            "use control='last' (the last-treated cohort as comparison)"
        )
    y, ui, ti, tval, G = P.y[keep], P.ui[keep], P.ti[keep], P.tval[keep], G[keep]
    cl = np.unique(P.cl[keep], return_inverse=True)[1]
    ui = np.unique(ui, return_inverse=True)[1]
    nu, nt, ncl = int(ui.max()) + 1, P.times.size, int(cl.max()) + 1
    ref = -1.0 - anticipation
    e = np.where(G > 0, tval - G, np.nan)
    dummy = (G > 0) & (e != ref)
    cell_id, inv = np.unique(G[dummy] * (nt + 1) + ti[dummy], return_inverse=True)
    k = cell_id.size
    cell = ti.copy()
    cell[dummy] = nt + inv
    c_g = G[dummy][np.unique(inv, return_index=True)[1]]
    c_t = np.asarray(cell_id - c_g * (nt + 1), dtype=np.int64)
    c_e = P.times[c_t] - c_g
    c_n = np.bincount(inv, minlength=k)
    has_ref = {g for g in np.unique(G[G > 0]) if np.any((g == G) & (e == ref))}
    no_ref = sorted(set(c_g.tolist()) - has_ref)
    if no_ref:
        shown = ", ".join(f"{g:g}" for g in no_ref)  # not "[16.0]" (trial AH)
        raise CertkitError(
            f"cohort(s) {shown} are not observed in their reference period (e = {ref:g}), so "
            "their effects are not identified; drop them or balance the panel"
        )

    fe = TwoWayFE(ui, cell, nu, nt + k, np.ones(y.size, dtype=bool))
    gu, gm = fe.fit(ui, cell, y, np.ones(y.size, dtype=bool))
    if not np.all(np.isfinite(gm[c_t])):
        bare = sorted({float(P.times[t]) for t in c_t[~np.isfinite(gm[c_t])]})
        named = [f"{t:g}" for t in bare]
        if "period" in data.columns and time != "period":  # the panel's dates, as read
            days = dict(data.select(time, "period").unique(time).iter_rows())
            named = [str(days.get(t, days.get(int(t), f"{t:g}"))) for t in bare]
            time = "period"
        said = ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")
        comparison = "never-certified" if control == "never" else "never- or last-certified"
        # trial P (fastapi): the first month held only engineers certified later, and the
        # message said "b_{g,e} is undefined"
        # periods at the end are cut with end=, those at the start with start= (review D8)
        middle = float(np.median(P.times))
        fixes = ["start the data after it (certkit report -p start=...)"] * (min(bare) <= middle)
        fixes += ["end the data before it (-p end=...)"] * (max(bare) > middle)
        fix = " or ".join(fixes)
        raise CertkitError(
            f"no {comparison} engineer has a value of {outcome!r} in {time} {said}, so the "
            f"cohorts certified by then cannot be compared in that period; {fix}"
        )
    beta = gm[nt:] - gm[c_t]
    resid = y - gu[ui] - gm[cell]

    # linear combinations: cells, event times (shares of treated obs), overall post ATT
    ev = np.unique(c_e)
    L = [np.eye(k)]
    terms_e, n_e = [], []
    for x in ev:
        w = np.where(c_e == x, c_n, 0.0)
        L.append((w / w.sum())[None, :])
        terms_e.append(f"e={int(x) if float(x).is_integer() else x:g}")
        n_e.append(int(c_n[c_e == x].sum()))
    post = c_e >= 0
    if not post.any():
        raise CertkitError("no post-treatment cohort x period cell to aggregate")
    w_all = np.where(post, c_n, 0.0)
    L.append((w_all / w_all.sum())[None, :])
    L = np.vstack(L)  # q x k, on beta
    est = L @ beta
    # beta = m[nt + j] - m[c_t[j]]  ->  combinations of the period-factor effects m
    Lm = np.zeros((L.shape[0], nt + k))
    Lm[:, nt:] = L
    np.add.at(Lm.T, c_t, -L.T)
    R = linalg.cho_solve(fe.chol, Lm[:, fe.keep].T)  # keep x q
    score = sparse.csr_matrix((resid, (cl, cell)), shape=(ncl, nt + k))[:, fe.keep]
    Z = np.asarray(score @ R)
    N = y.size
    K = k + int((fe.ct[:nt] > 0).sum())
    ssc = ncl / (ncl - 1) * (N - 1) / (N - K) if ncl > 1 and N > K else np.nan
    se = np.sqrt(ssc * np.einsum("ij,ij->j", Z, Z))

    se_cells, se_e, se_att = se[:k], se[k : k + ev.size], se[-1]
    # each treated observation's weight in the reported rows (ATT, e=...): its cell's / c_n
    r = np.arange(inv.size)
    e_pos = np.searchsorted(ev, c_e[inv])
    post_r = post[inv]
    weights = sparse.coo_matrix(
        (
            np.concatenate([L[-1, inv][post_r], L[k + e_pos, inv]])
            / np.concatenate([c_n[inv][post_r], c_n[inv]]),
            (
                np.concatenate([r[post_r], r]),
                np.concatenate([np.zeros(post_r.sum(), int), 1 + e_pos]),
            ),
        ),
        shape=(inv.size, 1 + ev.size),
    )
    thin = thin_support(["ATT", *terms_e], weights, G[dummy], ti[dummy], cl[dummy], ui[dummy])
    if thin is not None:
        why = "each of their cells' effects is fitted to that one unit's outcome exactly"
        reference = "R fixest's sunab keeps them"
        _warn(thin_warning(thin, reference, why, clustered=ncl < nu), sink)
    cells = pl.DataFrame(
        {
            "cohort": c_g,
            "time": P.times[c_t],
            "event_time": c_e,
            "estimate": beta,
            "std_error": se_cells,
            "n": c_n.astype(np.int64),
        }
    ).sort("cohort", "time")
    table = tidy_rows(
        ["ATT", *terms_e],
        np.concatenate([[est[-1]], est[k : k + ev.size]]),
        np.concatenate([[se_att], se_e]),
        [int(c_n[post].sum()), *n_e],
        level,
    )
    return SunAbrahamResult(
        table,
        outcome=outcome,
        level=level,
        warnings=sink,
        cells=cells,
        control=control,
        n_obs=int(N),
        n_clusters=ncl,
        thin=thin,
    )
