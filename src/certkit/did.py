"""Difference-in-differences for staggered certification.

The headline estimator is Callaway & Sant'Anna (2021): one ATT per (cohort ``g``, period ``t``),
estimated from 2x2 comparisons of each cohort with never-treated or not-yet-treated units, then
aggregated into an overall effect, an event study, per-cohort or per-period effects. Inference uses
the influence function (IF) of every estimate, so standard errors match R's ``did`` with
``bstrap=FALSE``: ``se = sqrt(sum(IF^2)) / n``. Aggregated SEs include the IF of the estimated
aggregation weights. A multiplier bootstrap gives uniform (sup-t) bands.

Two-way fixed effects (:func:`twfe`) is provided as a diagnostic: with staggered adoption and
effects that change over time it compares late with early adopters and can be badly biased;
:func:`compare_twfe` says when. :func:`did_2x2` is the plain two-group, two-period DiD.

Unbalanced panels (engineers join and leave) are handled pairwise: each ATT(g,t) uses the units
observed in both periods of its comparison; the IF of every estimate is still defined per unit,
so aggregation and clustering work unchanged. ``unbalanced="balance"`` instead keeps only units
observed in every period (R ``did``'s default), with a warning.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import altair as alt
import numpy as np
import polars as pl
from scipy import linalg, stats

from certkit.errors import CertkitError, CertkitWarning
from certkit.errors import warn_and_keep as _warn
from certkit.results import ResultMixin

__all__ = [
    "att_gt",
    "ATTgtResult",
    "AggregateResult",
    "event_study",
    "twfe",
    "TWFEResult",
    "compare_twfe",
    "TWFEComparison",
    "did_2x2",
    "DiD2x2Result",
]

SMALL_COHORT = 5  # cohorts with fewer units get a warning
PS_TRIM = 0.995  # control units with a propensity above this are trimmed (as DRDID does)
OVERLAP_WARN = 0.99


# --------------------------------------------------------------------------------------------
# input preparation
# --------------------------------------------------------------------------------------------


@dataclass
class _Panel:
    units: np.ndarray  # unit ids (n,)
    times: np.ndarray  # sorted distinct periods (T,)
    G: np.ndarray  # first treated period per unit, 0 = never (n,)
    Y: np.ndarray  # outcome, units x periods, NaN where not observed
    X: np.ndarray | None  # covariates, p x units x periods
    w: np.ndarray  # unit weights, mean 1
    cluster: np.ndarray | None  # cluster code per unit (coarser than unit)
    covariates: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.units)


def _need_columns(data: pl.DataFrame, cols: dict[str, str | None]) -> None:
    if not isinstance(data, pl.DataFrame):
        raise CertkitError(
            f"data must be a polars DataFrame (a long panel), got {type(data).__name__}"
        )
    missing = [f"{role}={col!r}" for role, col in cols.items() if col and col not in data.columns]
    if missing:
        raise CertkitError(
            f"data has no column(s) {', '.join(missing)}; columns are {data.columns[:30]}"
        )


def _numeric(data: pl.DataFrame, col: str, role: str) -> None:
    if not data.schema[col].is_numeric():
        raise CertkitError(
            f"column {col!r} ({role}) must be numeric, got {data.schema[col]}; for certkit panels "
            "use time='period_index' and group='cohort'"
        )


def _dense_codes(s: pl.Series) -> np.ndarray:
    """0-based codes in sorted order of the distinct values (O(n) for compact integers)."""
    if s.dtype.is_integer() and s.len():
        v = s.to_numpy()
        lo, hi = int(v.min()), int(v.max())
        if hi - lo <= 4 * len(v) + 1000:
            present = np.bincount(v - lo, minlength=hi - lo + 1) > 0
            return (np.cumsum(present) - 1)[v - lo].astype(np.int64)
    if not s.dtype.is_numeric():
        s = s.cast(pl.String)
    return s.rank("dense").to_numpy().astype(np.int64) - 1


def _prepare(
    data: pl.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    covariates: list[str] | None,
    weights: str | None,
    cluster: str | None,
    anticipation: int,
    unbalanced: str,
) -> _Panel:
    covariates = list(covariates or [])
    _need_columns(
        data,
        {"outcome": outcome, "unit": unit, "time": time, "group": group, "weights": weights}
        | {"cluster": cluster}
        | {f"covariate {c}": c for c in covariates},
    )
    for col, role in [(outcome, "outcome"), (time, "time"), (group, "group")] + [
        (c, "covariate") for c in covariates
    ]:
        _numeric(data, col, role)
    if unbalanced not in ("pairwise", "balance"):
        raise CertkitError(f"unbalanced must be 'pairwise' or 'balance', got {unbalanced!r}")
    if anticipation < 0:
        raise CertkitError(f"anticipation must be >= 0 periods, got {anticipation}")
    notes: list[str] = []
    cols = [unit, time, group, outcome, *covariates] + [c for c in (weights, cluster) if c]
    df = data.select(list(dict.fromkeys(cols)))
    if df.height == 0:
        raise CertkitError("data has no rows")
    for col, role in [(unit, "unit"), (time, "time"), (group, "group")]:
        nulls = df[col].null_count()
        if nulls:
            raise CertkitError(f"column {col!r} ({role}) has {nulls} null value(s)")
    if df[outcome].cast(pl.Float64).drop_nulls().drop_nans().len() == 0:
        raise CertkitError(f"outcome column {outcome!r} is entirely null: nothing to estimate")

    # unit index per row (units in sorted id order), first row of each unit
    u_all = _dense_codes(df[unit])
    n = int(u_all.max()) + 1
    first = np.empty(n, dtype=np.int64)
    first[u_all[::-1]] = np.arange(df.height - 1, -1, -1)
    tr_all = _dense_codes(df[time])
    key = u_all * (int(tr_all.max()) + 1) + tr_all
    counts = np.bincount(key)
    if counts.max() > 1:
        row = int(np.nonzero(counts[key] > 1)[0][0])
        raise CertkitError(
            f"data has {int((counts > 1).sum())} duplicated ({unit}, {time}) pair(s), e.g. unit "
            f"{df[unit][row]!r} at {time}={df[time][row]}: a panel needs one row per unit and period"
        )

    def per_unit(col: str, role: str) -> np.ndarray:
        if df[col].null_count():
            raise CertkitError(f"column {col!r} ({role}) has {df[col].null_count()} null value(s)")
        series = df[col]
        if not series.dtype.is_numeric():
            series = series.cast(pl.String).rank("dense")
        codes = series.to_numpy()
        v = codes[first]
        bad = codes != v[u_all]
        if bad.any():
            row = int(np.nonzero(bad)[0][0])
            raise CertkitError(
                f"column {col!r} ({role}) must be constant within each unit, but it varies for "
                f"unit {df[unit][row]!r}"
            )
        return v

    G = per_unit(group, "group").astype(float)
    if np.any(G < 0):
        raise CertkitError(f"group column {group!r} has negative values; use 0 for never treated")
    yv = df[outcome].cast(pl.Float64)
    ok_row = yv.is_not_null().to_numpy() & ~np.isnan(yv.fill_null(0.0).to_numpy())
    for c in covariates:
        ok_row &= df[c].is_not_null().to_numpy()
    tvals = df[time].to_numpy().astype(float)
    code_time = np.empty(int(tr_all.max()) + 1)
    code_time[tr_all] = tvals
    present = np.bincount(tr_all[ok_row], minlength=len(code_time)) > 0
    times = code_time[present]
    T = len(times)
    if T < 2:
        raise CertkitError(f"need at least 2 periods with a non-null outcome, found {T}")
    # units first treated after the last period are never treated within the window
    late = (times[-1] < G) & (G != 0)
    if late.any():
        notes.append(
            f"{int(late.sum())} unit(s) first treated after the last period are used as never treated"
        )
        G = np.where(late, 0.0, G)
    early = (G > 0) & (times[0] + anticipation >= G)
    if early.any():
        cohorts = sorted(set(G[early].tolist()))
        raise CertkitError(
            f"cohort(s) {cohorts} ({int(early.sum())} units) are treated in or before the first "
            f"period {times[0]:g}{' plus anticipation' if anticipation else ''}, so they have no "
            f"pre-treatment period; drop those units (e.g. data.filter((pl.col({group!r}) > "
            f"{times[0] + anticipation:g}) | (pl.col({group!r}) == 0)))"
        )
    if weights:
        w = per_unit(weights, "weights").astype(float)
        if np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise CertkitError(f"weights column {weights!r} must be finite, >= 0 and not all 0")
    else:
        w = np.ones(n)
    cl = per_unit(cluster, "cluster") if cluster else None

    # rows of the outcome matrix are ordered by group, so each cohort is a contiguous block
    order = np.argsort(G, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    uid = df[unit].gather(first[order]).to_numpy()
    G, w = G[order], w[order]
    cl = None if cl is None else np.unique(cl[order], return_inverse=True)[1].astype(np.int64)
    u_idx = rank[u_all[ok_row]]
    t_idx = (np.cumsum(present) - 1)[tr_all[ok_row]]
    Y = np.full((n, T), np.nan)
    Y[u_idx, t_idx] = df[outcome].filter(pl.Series(ok_row)).to_numpy().astype(float)
    X = None
    if covariates:
        X = np.full((len(covariates), n, T), np.nan)
        for j, c in enumerate(covariates):
            X[j, u_idx, t_idx] = df[c].filter(pl.Series(ok_row)).to_numpy().astype(float)

    observed = ~np.isnan(Y)
    if not observed.all():
        if unbalanced == "balance":
            keep = observed.all(axis=1)
            msg = (
                f"the panel is unbalanced: {int((~keep).sum())} of {n} units are not observed in "
                "every period and were dropped (unbalanced='balance')"
            )
            warnings.warn(msg, CertkitWarning, stacklevel=3)
            notes.append(msg)
            if not keep.any():
                raise CertkitError("no unit is observed in every period; use unbalanced='pairwise'")
            uid, G, Y, w = uid[keep], G[keep], Y[keep], w[keep]
            X = None if X is None else X[:, keep]
            cl = None if cl is None else np.unique(cl[keep], return_inverse=True)[1]
        else:
            notes.append(
                f"unbalanced panel: {int((~observed).sum())} unit-periods missing; each ATT(g,t) "
                "uses the units observed in both of its periods"
            )
    return _Panel(
        units=uid,
        times=times,
        G=G,
        Y=Y,
        X=X,
        w=w / w.mean(),
        cluster=cl,
        covariates=covariates,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# 2x2 building blocks (DRDID panel estimators)
# --------------------------------------------------------------------------------------------


def _logit(X: np.ndarray, D: np.ndarray, w: np.ndarray, cell: str) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logit by Newton-Raphson; returns fitted scores and the (X'WX)^-1 matrix."""
    beta = np.zeros(X.shape[1])
    p0 = np.average(D, weights=w)
    beta[0] = math.log(p0 / (1 - p0))  # first column is the intercept
    for _ in range(50):
        eta = np.clip(X @ beta, -35, 35)
        p = 1 / (1 + np.exp(-eta))
        W = w * p * (1 - p)
        H = (X * W[:, None]).T @ X
        g = X.T @ (w * (D - p))
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    eta = X @ beta
    p = 1 / (1 + np.exp(-np.clip(eta, -35, 35)))
    if np.max(np.abs(eta)) > 25 or np.max(np.abs(beta)) > 1e4:
        raise CertkitError(
            f"perfect separation in the propensity model for {cell}: the covariates predict "
            "treatment exactly, so treated and comparison units do not overlap; use fewer or "
            "coarser covariates"
        )
    W = w * p * (1 - p)
    H = (X * W[:, None]).T @ X
    return p, np.linalg.inv(H)


def _drdid(dy, D, X, w, method: str, cell: str, sink: list[str]) -> tuple[float, np.ndarray]:
    """ATT and influence function of one 2x2 panel comparison (DRDID formulas).

    ``dy`` outcome change, ``D`` treated indicator, ``X`` covariates with intercept, ``w``
    weights; all restricted to the cell's treated and comparison units. The IF is on the scale
    of this subsample (mean zero over it).
    """
    n1 = len(dy)
    w = w / w.mean()
    if method in ("dr", "ipw"):
        ps, Hinv = _logit(X, D, w, cell)
        ps = np.minimum(ps, 1 - 1e-6)
        trim = np.where(D == 1, ps < 1.01, ps < PS_TRIM)
        if np.any(ps > OVERLAP_WARN):
            sink.append(f"overlap:{cell}")
        asy_ps = (w * (D - ps))[:, None] * X @ (Hinv * n1)
    if method in ("dr", "reg"):
        wc = w * (1 - D)
        XtX = (X * wc[:, None]).T @ X
        try:
            beta = np.linalg.solve(XtX, (X * wc[:, None]).T @ dy)
        except np.linalg.LinAlgError as exc:
            raise CertkitError(
                f"the outcome regression for {cell} is singular: a covariate has no variation "
                "among comparison units"
            ) from exc
        out = X @ beta
        asy_ols = (wc * (dy - out))[:, None] * X @ np.linalg.inv(XtX / n1)

    if method == "dr":
        w_t = trim * w * D
        w_c = trim * w * ps * (1 - D) / (1 - ps)
        r = dy - out
        eta_t = np.mean(w_t * r) / np.mean(w_t)
        eta_c = np.mean(w_c * r) / np.mean(w_c)
        inf_t = (w_t * r - w_t * eta_t - asy_ols @ np.mean(w_t[:, None] * X, 0)) / np.mean(w_t)
        m2 = np.mean((w_c * (r - eta_c))[:, None] * X, 0)
        inf_c = (w_c * r - w_c * eta_c + asy_ps @ m2 - asy_ols @ np.mean(w_c[:, None] * X, 0)) / (
            np.mean(w_c)
        )
        return eta_t - eta_c, inf_t - inf_c
    if method == "ipw":
        w_t = trim * w * D
        w_c = trim * w * ps * (1 - D) / (1 - ps)
        eta_t = np.mean(w_t * dy) / np.mean(w_t)
        eta_c = np.mean(w_c * dy) / np.mean(w_c)
        inf_t = (w_t * dy - w_t * eta_t) / np.mean(w_t)
        m2 = np.mean((w_c * (dy - eta_c))[:, None] * X, 0)
        inf_c = (w_c * dy - w_c * eta_c + asy_ps @ m2) / np.mean(w_c)
        return eta_t - eta_c, inf_t - inf_c
    # regression adjustment
    w_t = w * D
    eta_t = np.mean(w_t * dy) / np.mean(w_t)
    eta_c = np.mean(w_t * out) / np.mean(w_t)
    inf_t = (w_t * dy - w_t * eta_t) / np.mean(w_t)
    inf_c = (w_t * out - w_t * eta_c + asy_ols @ np.mean(w_t[:, None] * X, 0)) / np.mean(w_t)
    return eta_t - eta_c, inf_t - inf_c


# --------------------------------------------------------------------------------------------
# group-time ATTs
# --------------------------------------------------------------------------------------------


def _cells(times, glist, control, anticipation, base_period):
    """The (g, t, base) comparisons, as R did's compute.att_gt enumerates them."""
    T = len(times)
    out = []  # (g, t_index, base_index or -1 for the normalised universal base cell)
    for g in glist:
        pre = np.nonzero(times + anticipation < g)[0]
        last_pre = int(pre[-1])  # exists: early cohorts were rejected
        rng = range(T) if base_period == "universal" else range(1, T)
        for t in rng:
            if base_period == "universal":
                b = last_pre
                if b == t:
                    out.append((g, t, -1))
                    continue
            else:
                b = t - 1
                if g <= times[t]:
                    b = last_pre
            out.append((g, t, b))
    return out


def _cells_nocov(P: _Panel, gk, tk, bk, cmask, starts, stops):
    """All ATT(g,t) without covariates: differences in (weighted) means of outcome changes.

    Works on blocks of cells at once; group sums come from one matrix product and the
    influence function of each cohort's units is written block by block (rows are sorted by
    group), so nothing of size units x cells is built besides the IF itself.
    """
    n, K = P.n, len(gk)
    ng = len(starts)
    YzT = np.ascontiguousarray(np.nan_to_num(P.Y).T)  # periods x units: cells pick whole rows
    obs = ~np.isnan(P.Y)
    balanced = bool(obs.all())
    ObT = np.ascontiguousarray(obs.T.astype(float))
    H = np.zeros((n, ng))
    for h in range(ng):
        H[starts[h] : stops[h], h] = 1.0
    unweighted = bool(np.all(P.w == 1.0))
    Hw = H * P.w[:, None]
    att = np.zeros(K)
    infT = np.zeros((K, n))  # cells x units; returned transposed (a view)
    ntreat = np.zeros(K, dtype=np.int64)
    ncont = np.zeros(K, dtype=np.int64)
    bb = np.where(bk < 0, tk, bk)
    chunk = max(1, int(4_000_000 // max(n, 1)))
    for c0 in range(0, K, chunk):
        c1 = min(K, c0 + chunk)
        cols = np.arange(c1 - c0)
        dY = YzT[tk[c0:c1]] - YzT[bb[c0:c1]]
        if balanced:
            S = dY @ Hw
            W = np.repeat(Hw.sum(0)[None, :], c1 - c0, axis=0)
            N = np.repeat((stops - starts)[None, :], c1 - c0, axis=0)
        else:
            ok = ObT[tk[c0:c1]] * ObT[bb[c0:c1]]
            dY *= ok
            S, W, N = dY @ Hw, ok @ Hw, (ok @ H).round().astype(np.int64)
        S, W, N = S.T, W.T, N.T  # groups x cells
        g = gk[c0:c1]
        cm = cmask[:, c0:c1]
        St, Wt = S[g, cols], W[g, cols]
        Sc, Wc = (S * cm).sum(0), (W * cm).sum(0)
        ntreat[c0:c1] = N[g, cols]
        ncont[c0:c1] = (N * cm).sum(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mt, mc = St / Wt, Sc / Wc
            coef = np.where(cm, -n / Wc, 0.0)
            coef[g, cols] = n / Wt
        mean = np.repeat(mc[None, :], ng, axis=0)
        mean[g, cols] = mt
        live = bk[c0:c1] >= 0
        att[c0:c1] = np.where(live, mt - mc, 0.0)
        coef[:, ~live] = 0.0
        coef = np.nan_to_num(coef, nan=0.0, posinf=0.0, neginf=0.0)
        for h in range(ng):
            a, b = starts[h], stops[h]
            rows = np.nonzero(coef[h])[0]  # cells this cohort takes part in
            if a == b or rows.size == 0:
                continue
            blk = dY[rows, a:b] if rows.size < c1 - c0 else dY[:, a:b]
            blk = (blk - mean[h, rows, None]) * coef[h, rows, None]
            if not unweighted:
                blk *= P.w[None, a:b]
            if not balanced:
                blk *= ok[rows, a:b]
            infT[c0 + rows, a:b] = blk
    return att, infT.T, ntreat, ncont


def _cells_cov(P: _Panel, gk, tk, bk, cmask, starts, stops, method, sink):
    """ATT(g,t) with covariates, one DRDID 2x2 estimate per cell."""
    n, K = P.n, len(gk)
    gfull_idx = np.zeros(n, dtype=np.int64)
    for h in range(len(starts)):
        gfull_idx[starts[h] : stops[h]] = h
    att = np.full(K, np.nan)
    inf = np.zeros((n, K))
    ntreat = np.zeros(K, dtype=np.int64)
    ncont = np.zeros(K, dtype=np.int64)
    p = len(P.covariates)
    for k in range(K):
        t, b = tk[k], bk[k]
        if b < 0:
            att[k] = 0.0
            continue
        dy = P.Y[:, t] - P.Y[:, b]
        base = min(t, b)
        ok = ~np.isnan(dy) & ~np.isnan(P.X[:, :, base]).any(axis=0)
        D = (gfull_idx == gk[k]) & ok
        C = cmask[gfull_idx, k] & ok
        ntreat[k], ncont[k] = D.sum(), C.sum()
        if ntreat[k] < 2 or ncont[k] < 2 + p:
            continue
        sub = D | C
        Xs = np.column_stack([np.ones(sub.sum())] + [x[sub, base] for x in P.X])
        label = f"ATT(g={P.G[starts[gk[k]]]:g}, t={P.times[t]:g})"
        a, f = _drdid(dy[sub], D[sub].astype(float), Xs, P.w[sub], method, label, sink)
        att[k] = a
        inf[sub, k] = f * (n / sub.sum())
    return att, inf, ntreat, ncont


def att_gt(
    data: pl.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    covariates: list[str] | None = None,
    control: str = "never",
    method: str = "dr",
    anticipation: int = 0,
    base_period: str = "varying",
    cluster: str | None = None,
    weights: str | None = None,
    unbalanced: str = "pairwise",
    bootstrap: bool = False,
    n_boot: int = 999,
    boot_weights: str = "mammen",
    seed: int | None = 0,
    alpha: float = 0.05,
    min_cell_units: int = 2,
) -> ATTgtResult:
    """Callaway & Sant'Anna group-time average treatment effects ATT(g, t).

    Parameters
    ----------
    data
        Long panel (polars), one row per unit and period.
    outcome, unit, time, group
        Column names. ``time`` is a numeric period (e.g. ``period_index`` or a year); ``group``
        is the period a unit is first treated, 0 for never treated (e.g. ``cohort``).
    covariates
        Pre-treatment covariates (values of the earlier period of each comparison are used).
    control
        ``"never"`` (never-treated units) or ``"not_yet"`` (never and not-yet-treated units).
    method
        ``"dr"`` doubly robust (default), ``"ipw"`` inverse probability weighting or ``"reg"``
        outcome regression. Without covariates all three are the same difference in means.
    anticipation
        Periods before treatment in which units may already react.
    base_period
        ``"varying"`` (pre-period cells compare consecutive periods, as R did's default) or
        ``"universal"`` (every cell compares with period g - 1 - anticipation).
    cluster
        Column with a cluster (e.g. team) coarser than the unit, constant within unit. Standard
        errors then allow correlation within clusters.
    weights
        Column with unit weights (constant within unit).
    unbalanced
        ``"pairwise"`` (default: each cell uses units observed in both its periods) or
        ``"balance"`` (keep only units observed in every period, with a warning).
    bootstrap, n_boot, boot_weights, seed
        Multiplier bootstrap (``"mammen"`` or ``"rademacher"`` weights, seeded) for SEs and
        uniform (sup-t) confidence bands; by default SEs are analytic.
    alpha
        1 - confidence level.
    min_cell_units
        Cells with fewer treated or comparison units are dropped, with a warning naming them.

    Returns
    -------
    ATTgtResult
        One row per (group, time) with ATT, SE and confidence interval; ``.aggregate()``.
    """
    if control not in ("never", "not_yet"):
        raise CertkitError(f"control must be 'never' or 'not_yet', got {control!r}")
    if method not in ("dr", "ipw", "reg"):
        raise CertkitError(f"method must be 'dr', 'ipw' or 'reg', got {method!r}")
    if base_period not in ("varying", "universal"):
        raise CertkitError(f"base_period must be 'varying' or 'universal', got {base_period!r}")
    if boot_weights not in ("mammen", "rademacher"):
        raise CertkitError(f"boot_weights must be 'mammen' or 'rademacher', got {boot_weights!r}")
    if not 0 < alpha < 1:
        raise CertkitError(f"alpha must be between 0 and 1, got {alpha}")
    P = _prepare(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        group=group,
        covariates=covariates,
        weights=weights,
        cluster=cluster,
        anticipation=anticipation,
        unbalanced=unbalanced,
    )
    sink = list(P.notes)
    G, times = P.G, P.times
    glist = np.sort(np.unique(G[G > 0]))
    if len(glist) == 0:
        raise CertkitError(f"no treated units: every value of {group!r} is 0 (never treated)")
    if control == "never" and not np.any(G == 0):
        raise CertkitError(
            "there are no never-treated units, so control='never' has no comparison group; "
            "use control='not_yet' (not-yet-treated units as controls)"
        )
    if P.X is not None:
        for j, c in enumerate(P.covariates):
            vals = P.X[j][~np.isnan(P.X[j])]
            if vals.size and np.ptp(vals) == 0:
                raise CertkitError(
                    f"covariate {c!r} has no variation (always {vals[0]:g}); remove it"
                )
    sizes = {g: int(np.sum(g == G)) for g in glist}
    small = [f"{g:g} ({k} units)" for g, k in sizes.items() if k < SMALL_COHORT]
    if small:
        _warn(
            f"very small cohort(s): {', '.join(small)}; their effects are noisy and rest on "
            "very few people",
            sink,
        )

    cells = _cells(times, glist, control, anticipation, base_period)
    K = len(cells)
    gfull = np.concatenate([[0.0], glist])
    gk = np.searchsorted(gfull, [c[0] for c in cells])
    tk = np.array([c[1] for c in cells])
    bk = np.array([c[2] for c in cells])
    tb = np.where(bk < 0, tk, np.maximum(tk, bk))
    # comparison groups of every cell: rows = groups (0 = never), columns = cells
    if control == "never":
        cmask = np.zeros((len(gfull), K), dtype=bool)
        cmask[0] = True
    else:
        later = times[tb] + anticipation
        cmask = (gfull[:, None] == 0) | (
            (gfull[:, None] > later[None, :]) & (np.arange(len(gfull))[:, None] != gk[None, :])
        )
    cmask[:, bk < 0] = False
    starts = np.searchsorted(G, gfull)
    stops = np.searchsorted(G, gfull, side="right")
    if P.X is None:
        att, inf, ntreat, ncont = _cells_nocov(P, gk, tk, bk, cmask, starts, stops)
    else:
        att, inf, ntreat, ncont = _cells_cov(P, gk, tk, bk, cmask, starts, stops, method, sink)
    weak = [x.split(":", 1)[1] for x in sink if x.startswith("overlap:")]
    if weak:
        sink[:] = [x for x in sink if not x.startswith("overlap:")]
        _warn(
            f"weak overlap: in {len(weak)} cell(s) ({', '.join(weak[:5])}"
            f"{' ...' if len(weak) > 5 else ''}) some units have propensity scores near 1, so "
            "few comparable comparison units exist and a few of them carry most of the weight",
            sink,
        )
    # cells with too few treated or comparison units are dropped
    need_c = min_cell_units + (0 if P.X is None else len(P.covariates))
    bad = (bk >= 0) & ((ntreat < min_cell_units) | (ncont < need_c) | ~np.isfinite(att))
    if bad.any():
        dropped = [
            f"ATT(g={gfull[gk[k]]:g}, t={times[tk[k]]:g}): {ntreat[k]} treated, "
            f"{ncont[k]} comparison units"
            for k in np.nonzero(bad)[0]
        ]
        _warn(
            f"too few units in {len(dropped)} group-time cell(s), which were dropped: "
            + "; ".join(dropped[:10])
            + (" ..." if len(dropped) > 10 else ""),
            sink,
        )
        keep = ~bad
        if not keep.any():
            raise CertkitError("no group-time cell has enough treated and comparison units")
        gk, tk, bk, att, ntreat, ncont = (a[keep] for a in (gk, tk, bk, att, ntreat, ncont))
        inf, cmask = inf[:, keep], cmask[:, keep]
    nz = cmask.copy()  # groups whose units have a non-zero IF in each cell
    nz[gk, np.arange(len(gk))] = bk >= 0
    return ATTgtResult(
        group=gfull[gk],
        time=times[tk],
        att=att,
        inf=inf,
        n_treated=ntreat,
        n_control=ncont,
        blocks=[
            (int(a), int(b), nz[h]) for h, (a, b) in enumerate(zip(starts, stops, strict=True))
        ],
        panel=P,
        settings={
            "outcome": outcome,
            "control": control,
            "method": method,
            "anticipation": anticipation,
            "base_period": base_period,
            "covariates": P.covariates,
            "cluster": cluster,
            "unbalanced": unbalanced,
        },
        bootstrap=bootstrap,
        n_boot=n_boot,
        boot_weights=boot_weights,
        seed=seed,
        alpha=alpha,
        warnings=sink,
    )


# --------------------------------------------------------------------------------------------
# inference helpers
# --------------------------------------------------------------------------------------------


def _cluster_sums(inf: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    if cluster is None:
        return inf
    out = np.zeros((int(cluster.max()) + 1, inf.shape[1]))
    np.add.at(out, cluster, inf)
    return out


def _wald_test(est: np.ndarray, V: np.ndarray) -> tuple[float | None, float | None]:
    """Wald statistic and chi-square p-value that all ``est`` are zero; None if V is singular.

    Singular covariance matrices (e.g. more pre-period cells than independent units) give no
    test, as R's ``did`` does, rather than a pseudo-inverse whose answer depends on rounding.
    """
    q = est.size
    d = np.sqrt(np.diag(V))
    if q == 0 or not np.all(np.isfinite(d)) or np.any(d == 0):
        return None, None
    try:
        L = np.linalg.cholesky(V / np.outer(d, d))
    except np.linalg.LinAlgError:
        return None, None
    if np.min(np.diag(L)) ** 2 <= np.finfo(float).eps * q:
        return None, None
    z = linalg.solve_triangular(L, est / d, lower=True)
    W = float(z @ z)
    return W, float(stats.chi2.sf(W, q))


def _analytic_se(inf: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    n = inf.shape[0]
    S = _cluster_sums(inf, cluster)
    se = np.sqrt(np.einsum("ij,ij->j", S, S)) / n
    se[se <= math.sqrt(np.finfo(float).eps) * 10] = np.nan
    return se


def _multipliers(rng: np.random.Generator, size: tuple[int, int], kind: str) -> np.ndarray:
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=size)
    s5 = math.sqrt(5)
    lo, hi = (1 - s5) / 2, (1 + s5) / 2
    p_lo = (s5 + 1) / (2 * s5)
    return np.where(rng.random(size) < p_lo, lo, hi)


def _bootstrap(inf, cluster, n_boot, kind, seed, alpha) -> tuple[np.ndarray, float]:
    """Multiplier bootstrap: robust SEs and the sup-t critical value for uniform bands."""
    n = inf.shape[0]
    S = _cluster_sums(inf, cluster)
    rng = np.random.default_rng(seed)
    draws = np.empty((n_boot, S.shape[1]))
    step = max(1, int(2e7 // max(S.shape[0], 1)))
    for start in range(0, n_boot, step):
        m = min(step, n_boot - start)
        draws[start : start + m] = _multipliers(rng, (m, S.shape[0]), kind) @ S / n
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0, method="inverted_cdf")
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    ok = np.isfinite(se) & (se > math.sqrt(np.finfo(float).eps) * 10)
    se[~ok] = np.nan
    if not ok.any():
        return se, stats.norm.ppf(1 - alpha / 2)
    t_max = np.max(np.abs(draws[:, ok] / se[ok]), axis=1)
    crit = float(np.quantile(t_max, 1 - alpha, method="inverted_cdf"))
    return se, crit


def _wif_dot(sel, pg_cells, groups_cells, att, w, G) -> np.ndarray:
    """Influence function of the estimated weights P(G=g), times the ATTs (R did's ``wif``).

    R builds a units x cells matrix; its product with the ATTs only needs, per cohort, the sum
    of the selected cells' ATTs and their count, so this is O(units).
    """
    pk, ak, gk = pg_cells[sel], att[sel], groups_cells[sel]
    s = pk.sum()
    glist = np.unique(gk)
    A = np.zeros(len(glist) + 1)  # sum of selected ATTs per cohort (last slot: other units)
    C = np.zeros(len(glist) + 1)
    np.add.at(A, np.searchsorted(glist, gk), ak)
    np.add.at(C, np.searchsorted(glist, gk), 1.0)
    pos = np.searchsorted(glist, G)
    pos = np.where((pos < len(glist)) & (glist[np.minimum(pos, len(glist) - 1)] == G), pos, -1)
    wa, wc = w * A[pos], w * C[pos]
    pa = pk @ ak
    return (wa - pa) / s - (wc - s) * pa / s**2


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


class ATTgtResult(ResultMixin):
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
        alpha,
        warnings,
    ):
        self.group, self.time, self.att, self.inf = group, time, att, inf
        self.n_treated, self.n_control = n_treated, n_control
        self._blocks = blocks
        self.panel, self.settings = panel, settings
        self.bootstrap, self.n_boot, self.boot_weights, self.seed = (
            bootstrap,
            n_boot,
            boot_weights,
            seed,
        )
        self.alpha = alpha
        self.warnings = warnings
        self.n = panel.n
        self.se, self.crit = self._inference(inf, uniform=True)
        self._wald = None
        a = self.settings["anticipation"]
        self.is_pre = self.group - a > self.time
        if self.is_pre.any():
            p = self.wald_pvalue
            if p is not None and p < 0.05:
                _warn(
                    f"pre-trends: before certification, certified and comparison units already "
                    f"diverged (Wald test p = {p:.3g}); parallel trends is doubtful and the "
                    "effects may be biased",
                    self.warnings,
                )

    def _inference(self, inf, uniform: bool) -> tuple[np.ndarray, float]:
        if self.bootstrap:
            se, crit = _bootstrap(
                inf, self.panel.cluster, self.n_boot, self.boot_weights, self.seed, self.alpha
            )
            return se, (crit if uniform else float(stats.norm.ppf(1 - self.alpha / 2)))
        return _analytic_se(inf, self.panel.cluster), float(stats.norm.ppf(1 - self.alpha / 2))

    # ---- pre-trend test
    def _compute_wald(self):
        pre = self.is_pre & np.isfinite(self.se)
        q = int(pre.sum())
        if q == 0:
            return None, None, 0
        if self.panel.cluster is None:
            # block-sparse cross product: a cohort's units only enter the cells it takes part in
            idx = np.nonzero(pre)[0]
            V = np.zeros((q, q))
            for a, b, nzc in self._blocks:
                cols = np.nonzero(nzc[idx])[0]
                if a == b or cols.size == 0:
                    continue
                B = self.inf[a:b][:, idx[cols]]
                V[np.ix_(cols, cols)] += B.T @ B
        else:
            S = _cluster_sums(self.inf[:, pre], self.panel.cluster)
            V = S.T @ S
        V /= self.n**2
        return (*_wald_test(self.att[pre], V), q)

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
        return pl.DataFrame(
            {
                "group": _whole(self.group),
                "time": _whole(self.time),
                "e": _whole(self.time - self.group),
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
        if self.wald_stat is not None:
            h["pre-trend Wald test"] = f"W = {self.wald_stat:.3f}, p = {self.wald_pvalue:.4f}"
        return h

    def aggregate(
        self,
        kind: str = "simple",
        *,
        min_e: float | None = None,
        max_e: float | None = None,
        balance_e: int | None = None,
    ) -> AggregateResult:
        """Aggregate ATT(g,t) into one summary, as R did's ``aggte``.

        Parameters
        ----------
        kind
            ``"simple"`` (average over all post-treatment cells, weighted by cohort size),
            ``"dynamic"`` (event study by periods since treatment ``e``), ``"group"`` (per
            cohort) or ``"calendar"`` (per period).
        min_e, max_e
            Event times to keep (``max_e`` also caps the post periods used by the others).
        balance_e
            Dynamic only: keep cohorts observed for at least ``balance_e`` periods after
            treatment, so the composition does not change with ``e``.
        """
        if kind not in ("simple", "dynamic", "group", "calendar"):
            raise CertkitError(
                f"kind must be 'simple', 'dynamic', 'group' or 'calendar', got {kind!r}"
            )
        P = self.panel
        G, w = P.G, P.w
        grp, t, att = self.group, self.time, self.att
        glist = np.unique(grp)
        pg_g = np.array([np.mean(w * (g == G)) for g in glist])
        pgg = pg_g[np.searchsorted(glist, grp)]
        max_e_ = np.inf if max_e is None else max_e
        min_e_ = -np.inf if min_e is None else min_e
        e = t - grp
        post = (grp <= t) & (t <= grp + max_e_)
        sels: list[np.ndarray] = []  # one selection of cells per element
        keys: list[float] = []
        if kind == "simple":
            sels, keys = [post], []
        elif kind == "dynamic":
            incl = np.ones(len(att), dtype=bool)
            eseq = np.unique(e)
            if balance_e is not None:
                incl = (P.times[-1] - grp) >= balance_e
                eseq = np.unique(e[incl])
                eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - P.times[-1] + P.times[0])]
            eseq = eseq[(eseq >= min_e_) & (eseq <= max_e_)]
            keys = list(eseq)
            sels = [(e == ev) & incl for ev in eseq]
            if not any(k >= 0 for k in keys):
                raise CertkitError("no post-treatment event times to aggregate")
        elif kind == "calendar":
            for tt in P.times[P.times >= grp.min()]:
                sel = (t == tt) & post
                if sel.any():
                    keys.append(tt)
                    sels.append(sel)
        else:  # group
            for g in glist:
                sel = (grp == g) & post
                if sel.any():
                    keys.append(g)
                    sels.append(sel)
        if not sels or not any(sel.any() for sel in sels):
            raise CertkitError(f"no post-treatment group-time cells to aggregate ({kind})")
        # weights of the cells in each element: cohort shares (equal within a cohort for 'group')
        Wm = np.zeros((len(att), len(sels)))
        for j, sel in enumerate(sels):
            Wm[sel, j] = pgg[sel] / pgg[sel].sum()
        el_att = att @ Wm
        F = self.inf @ Wm
        if kind != "group":
            for j, sel in enumerate(sels):
                F[:, j] += _wif_dot(sel, pgg, grp, att, w, G)
        if kind == "simple":
            return self._agg_result(kind, [], [], float(el_att[0]), F[:, 0])
        if kind == "group":
            pk = pg_g[np.searchsorted(glist, keys)]
            wk = pk / pk.sum()
            f_all = F @ wk + _wif_dot(np.ones(len(keys), bool), pk, np.array(keys), el_att, w, G)
            return self._agg_result(
                kind, keys, el_att, float(el_att @ wk), np.column_stack([F, f_all])
            )
        if kind == "dynamic":
            pos = np.array(keys) >= 0
            f_all = F[:, pos].mean(axis=1)
            return self._agg_result(
                kind, keys, el_att, float(el_att[pos].mean()), np.column_stack([F, f_all])
            )
        f_all = F.mean(axis=1)
        return self._agg_result(
            kind, keys, el_att, float(el_att.mean()), np.column_stack([F, f_all])
        )

    def _agg_result(self, kind, keys, atts, overall, F) -> AggregateResult:
        """Inference for an aggregation; ``F`` holds the elements' IFs then the overall IF."""
        z = float(stats.norm.ppf(1 - self.alpha / 2))
        F = F.reshape(F.shape[0], -1)
        overall_se = float(self._inference(F[:, -1:], uniform=False)[0][0])
        if keys:
            se_el, crit = self._inference(F[:, :-1], uniform=kind == "dynamic")
        else:
            se_el, crit = np.array([]), z
        result = AggregateResult(
            kind=kind,
            keys=np.asarray(keys, dtype=float),
            att=np.asarray(atts, dtype=float),
            se=se_el,
            crit=crit,
            overall_att=overall,
            overall_se=overall_se,
            z=z,
            parent=self,
        )
        result._inf = F[:, :-1]
        return result

    def plot(self) -> alt.Chart:
        """Altair chart of every ATT(g,t) with its interval, one panel per cohort."""
        df = self.to_polars()
        return _effect_chart(
            df, "time", "period", title=f"ATT(g,t): {self.settings['outcome']}"
        ).facet(row=alt.Row("group:O", title="cohort (first treated period)"))


def _whole(x: np.ndarray) -> np.ndarray:
    """Periods and cohorts print as integers when they are whole numbers."""
    x = np.asarray(x, dtype=float)
    return x.astype(np.int64) if x.size and np.all(x == np.round(x)) else x


def _effect_chart(
    df: pl.DataFrame, x: str, color: str | None, title: str, xtitle: str | None = None
):
    base = alt.Chart(df).encode(
        x=alt.X(f"{x}:Q", title=xtitle or x),
    )
    enc = {"color": alt.Color(f"{color}:N", title=None)} if color else {}
    bars = base.mark_rule().encode(y=alt.Y("ci_low:Q", title="effect (ATT)"), y2="ci_high:Q", **enc)
    points = base.mark_point(filled=True, size=60).encode(
        y="att:Q",
        tooltip=[x, alt.Tooltip("att:Q", format=".4f"), alt.Tooltip("se:Q", format=".4f")],
        **enc,
    )
    zero = alt.Chart(df).mark_rule(color="gray", strokeDash=[2, 2]).encode(y=alt.datum(0))
    return alt.layer(zero, bars, points).properties(title=title)


class AggregateResult(ResultMixin):
    """An aggregation of ATT(g,t): overall effect plus the per-element table."""

    _KEY = {"simple": None, "dynamic": "e", "group": "group", "calendar": "time"}

    def __init__(self, *, kind, keys, att, se, crit, overall_att, overall_se, z, parent):
        self.kind = kind
        self.keys, self.att, self.se, self.crit = keys, att, se, crit
        self.overall_att, self.overall_se = overall_att, overall_se
        self.overall_ci = (overall_att - z * overall_se, overall_att + z * overall_se)
        self.parent = parent
        self.warnings = parent.warnings
        self.title = {
            "simple": "Overall effect (simple aggregation of ATT(g,t))",
            "dynamic": "Event study (effect by periods since treatment)",
            "group": "Effect by cohort",
            "calendar": "Effect by calendar period",
        }[kind]
        self.pretrend_pvalue: float | None = None
        self.pretrend_verdict: str | None = None
        self._inf: np.ndarray | None = None
        self.pretrend_test_on: str | None = None

    def pretrend_test(self) -> tuple[float | None, float | None, int]:
        """Joint Wald test that every pre-treatment event-time effect shown is zero.

        Uses the joint (influence-function, clustered as the estimate) covariance of the
        event-study estimates with ``e < 0``. Unlike the cell-level test of
        :attr:`ATTgtResult.wald_pvalue`, it stays defined when there are more pre-period
        ATT(g,t) cells than the data can identify (many small cohorts). Returns
        ``(statistic, p_value, number_of_estimates)``; statistic and p-value are None when the
        covariance is singular or there is no pre-period.
        """
        if self.kind != "dynamic" or self._inf is None:
            raise CertkitError("pretrend_test() needs an event study (aggregate('dynamic'))")
        pre = (self.keys < 0) & np.isfinite(self.se)
        q = int(pre.sum())
        if q == 0:
            return None, None, 0
        S = _cluster_sums(self._inf[:, pre], self.parent.panel.cluster)
        V = S.T @ S / self.parent.n**2
        return (*_wald_test(self.att[pre], V), q)

    def to_polars(self) -> pl.DataFrame:
        key = self._KEY[self.kind]
        if key is None:
            return pl.DataFrame(
                {
                    "estimate": ["overall"],
                    "att": [self.overall_att],
                    "se": [self.overall_se],
                    "ci_low": [self.overall_ci[0]],
                    "ci_high": [self.overall_ci[1]],
                }
            )
        cols = {key: _whole(self.keys)}
        if self.kind == "dynamic":
            cols["period"] = np.where(self.keys < 0, "pre", "post")
        return pl.DataFrame(
            cols
            | {
                "att": self.att,
                "se": self.se,
                "ci_low": self.att - self.crit * self.se,
                "ci_high": self.att + self.crit * self.se,
            }
        )

    def _header(self) -> dict[str, object]:
        lo, hi = self.overall_ci
        h = {
            "outcome": self.parent.settings["outcome"],
            "overall ATT": f"{self.overall_att:.4f} (SE {self.overall_se:.4f}, "
            f"{100 * (1 - self.parent.alpha):.0f}% CI {lo:.4f} to {hi:.4f})",
        }
        if self.kind == "dynamic" and self.parent.bootstrap:
            h["bands"] = f"uniform (sup-t critical value {self.crit:.3f})"
        if self.pretrend_verdict:
            h["pre-trends"] = self.pretrend_verdict
        return h

    def plot(self) -> alt.Chart | alt.LayerChart:
        """Altair chart: points with confidence intervals; event studies mark the treatment."""
        df = self.to_polars()
        out = self.parent.settings["outcome"]
        if self.kind == "simple":
            return _effect_chart(
                df.with_columns(pl.lit(0).alias("x")), "x", None, f"Overall effect on {out}"
            )
        if self.kind != "dynamic":
            key = self._KEY[self.kind]
            return _effect_chart(df, key, None, f"{self.title}: {out}")
        chart = _effect_chart(
            df, "e", "period", f"Event study: {out}", "periods since certification (e)"
        )
        line = (
            alt.Chart(pl.DataFrame({"x": [-0.5]}))
            .mark_rule(color="black", strokeDash=[4, 4])
            .encode(x="x:Q")
        )
        return alt.layer(chart, line)


# --------------------------------------------------------------------------------------------
# event study
# --------------------------------------------------------------------------------------------


def event_study(
    data: pl.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    min_e: float | None = None,
    max_e: float | None = None,
    balance_e: int | None = None,
    **kwargs,
) -> AggregateResult:
    """Event study: the dynamic aggregation of :func:`att_gt` with a pre-trend verdict.

    Keyword arguments other than ``min_e``, ``max_e`` and ``balance_e`` go to :func:`att_gt`.
    The result has ``pretrend_pvalue`` (Wald test that all pre-treatment ATT(g,t) are zero) and
    ``pretrend_verdict``, a sentence for the analyst.
    """
    res = att_gt(data, outcome=outcome, unit=unit, time=time, group=group, **kwargs)
    agg = res.aggregate("dynamic", min_e=min_e, max_e=max_e, balance_e=balance_e)
    # R did's cell-level test when the data identify it; otherwise (many small cohorts give
    # more pre-period cells than independent units) the joint test of the event-time estimates.
    p, q, what = res.wald_pvalue, int(res.is_pre.sum()), "pre-period ATT(g,t) cells"
    if q and p is None:
        _, p, q = agg.pretrend_test()
        what = "pre-period event-study estimates"
    agg.pretrend_pvalue = p
    agg.pretrend_test_on = what
    if q == 0:
        agg.pretrend_verdict = "not tested: there are no pre-treatment periods to compare"
    elif p is None:
        agg.pretrend_verdict = (
            "not tested: the pre-period estimates' covariance is singular (too few units per "
            "cohort); read the pre-period points of the chart instead"
        )
    elif p < 0.05:
        agg.pretrend_verdict = (
            f"warning: certified and comparison groups were already diverging before "
            f"certification (joint test of {q} {what}, p = {p:.3f}); the effect estimates "
            "may be biased"
        )
        if res.wald_pvalue is None:  # the cell-level test already warned otherwise
            _warn(f"pre-trends: {agg.pretrend_verdict}", agg.warnings)
    else:
        agg.pretrend_verdict = (
            f"no evidence of diverging trends before certification (joint test of {q} {what}, "
            f"p = {p:.2f}); this supports, but cannot prove, parallel trends"
        )
    return agg


# --------------------------------------------------------------------------------------------
# two-way fixed effects, comparison, 2x2
# --------------------------------------------------------------------------------------------


def _demean(v: np.ndarray, ui: np.ndarray, ti: np.ndarray, tol=1e-12, max_iter=1000) -> np.ndarray:
    """Remove unit and time means (alternating projections; exact in one pass if balanced)."""
    nu, nt = ui.max() + 1, ti.max() + 1
    cu, ct = np.bincount(ui, minlength=nu), np.bincount(ti, minlength=nt)
    out = v.astype(float).copy()
    for _ in range(max_iter):
        out -= (np.bincount(ui, out, nu) / cu)[ui]
        tm = np.bincount(ti, out, nt) / ct
        out -= tm[ti]
        if np.max(np.abs(tm)) < tol:
            break
    return out


class TWFEResult(ResultMixin):
    """Static two-way fixed effects estimate with cluster-robust SE."""

    title = "Two-way fixed effects (static)"

    def __init__(self, estimate, se, n_obs, n_clusters, cluster, outcome, alpha, warnings):
        self.estimate, self.se = estimate, se
        self.n_obs, self.n_clusters, self.cluster, self.outcome = (
            n_obs,
            n_clusters,
            cluster,
            outcome,
        )
        z = stats.norm.ppf(1 - alpha / 2)
        self.ci = (estimate - z * se, estimate + z * se)
        self.warnings = warnings

    def to_polars(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "term": ["treated_post"],
                "estimate": [self.estimate],
                "se": [self.se],
                "ci_low": [self.ci[0]],
                "ci_high": [self.ci[1]],
            }
        )

    def _header(self):
        return {
            "outcome": self.outcome,
            "observations": self.n_obs,
            "clusters": f"{self.n_clusters} ({self.cluster})",
        }


def _twfe_core(data, outcome, unit, time, group, cluster, anticipation):
    cols = [unit, time, group, outcome] + ([cluster] if cluster and cluster != unit else [])
    _need_columns(data, {"outcome": outcome, "unit": unit, "time": time, "group": group})
    for col, role in [(outcome, "outcome"), (time, "time"), (group, "group")]:
        _numeric(data, col, role)
    df = data.select(list(dict.fromkeys(cols))).filter(
        pl.col(outcome).is_not_null() & pl.col(outcome).is_not_nan()
    )
    if df.height == 0:
        raise CertkitError(f"outcome column {outcome!r} is entirely null: nothing to estimate")
    ui = df[unit].rank("dense").to_numpy().astype(np.int64) - 1
    ti = df[time].rank("dense").to_numpy().astype(np.int64) - 1
    g = df[group].to_numpy().astype(float)
    tv = df[time].to_numpy().astype(float)
    D = ((g > 0) & (tv >= g - anticipation)).astype(float)
    y = df[outcome].to_numpy().astype(float)
    cl = ui if not cluster or cluster == unit else df[cluster].rank("dense").to_numpy() - 1
    return df, ui, ti, D, y, np.asarray(cl, dtype=np.int64), g, tv


def twfe(
    data: pl.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    cluster: str | None = None,
    anticipation: int = 0,
    alpha: float = 0.05,
) -> TWFEResult:
    """Static TWFE: ``y_it = a_i + l_t + b * treated_post_it + e_it`` with clustered SE.

    The SE is clustered by ``cluster`` (default: the unit) with the usual small-sample factor
    ``G/(G-1) * (N-1)/(N-K)`` where K counts the slope only (fixed effects nested in clusters,
    as R fixest and Stata reghdfe do). With staggered timing and effects that change over time
    the TWFE coefficient is not a sensible average effect; see :func:`compare_twfe`.
    """
    df, ui, ti, D, y, cl, _, _ = _twfe_core(data, outcome, unit, time, group, cluster, anticipation)
    if D.min() == D.max():
        raise CertkitError("treated_post has no variation: need treated and untreated unit-periods")
    Dt, yt = _demean(D, ui, ti), _demean(y, ui, ti)
    sxx = Dt @ Dt
    if sxx < 1e-12:
        raise CertkitError("treatment is collinear with the unit and time fixed effects")
    b = float(Dt @ yt / sxx)
    e = yt - b * Dt
    nc = int(cl.max()) + 1
    s = np.bincount(cl, Dt * e, nc)
    N = len(y)
    n_fe_t = ti.max() + 1
    k = 1 + n_fe_t  # slope + time effects (+ intercept absorbed); unit FE nested in clusters
    factor = nc / (nc - 1) * (N - 1) / (N - k)
    se = math.sqrt(factor * (s @ s)) / sxx
    return TWFEResult(b, se, N, nc, cluster or unit, outcome, alpha, [])


class TWFEComparison(ResultMixin):
    """TWFE next to Callaway & Sant'Anna, with the TWFE weights on treated cells."""

    title = "TWFE versus Callaway & Sant'Anna"

    def __init__(self, twfe_res, cs, weights_df, misleading, verdict, warnings):
        self.twfe, self.cs = twfe_res, cs
        self.weights = weights_df
        self.misleading, self.verdict = misleading, verdict
        self.warnings = warnings
        self.difference = twfe_res.estimate - cs.overall_att

    def to_polars(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "estimator": ["TWFE (static)", "Callaway-Sant'Anna (simple)"],
                "estimate": [self.twfe.estimate, self.cs.overall_att],
                "se": [self.twfe.se, self.cs.overall_se],
            }
        )

    def _header(self):
        neg = self.weights.filter(pl.col("weight") < 0)
        return {
            "verdict": self.verdict,
            "treated cells with negative TWFE weight": f"{neg.height} of {self.weights.height}",
        }


def compare_twfe(
    data: pl.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    cluster: str | None = None,
    **kwargs,
) -> TWFEComparison:
    """Compare static TWFE with Callaway & Sant'Anna and say when TWFE is misleading.

    TWFE's coefficient is a weighted sum of cell effects ATT(g,t) whose weights come from the
    residualised treatment dummy (de Chaisemartin & D'Haultfoeuille 2020; Goodman-Bacon 2021):
    treated cells with negative weights are "forbidden comparisons" of late adopters with early
    adopters. TWFE is flagged as misleading when some weights are negative and the estimates
    differ by more than 1.96 combined SEs, or their signs differ, or the negative weights
    total more than 10% in absolute value.
    """
    anticipation = kwargs.get("anticipation", 0)
    tw = twfe(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        group=group,
        cluster=cluster,
        anticipation=anticipation,
    )
    res = att_gt(
        data, outcome=outcome, unit=unit, time=time, group=group, cluster=cluster, **kwargs
    )
    cs = res.aggregate("simple")
    df, ui, ti, D, _, _, g, tv = _twfe_core(data, outcome, unit, time, group, cluster, anticipation)
    Dt = _demean(D, ui, ti)
    wts = np.where(D == 1, Dt, 0.0) / np.sum(Dt * D)
    wdf = (
        pl.DataFrame({"group": g, "time": tv, "weight": wts, "D": D})
        .filter(pl.col("D") == 1)
        .group_by("group", "time")
        .agg(pl.col("weight").sum())
        .sort("group", "time")
    )
    neg = float(-wdf.filter(pl.col("weight") < 0)["weight"].sum())
    gap = abs(tw.estimate - cs.overall_att)
    se = math.hypot(tw.se, cs.overall_se)
    reasons = []
    if np.sign(tw.estimate) != np.sign(cs.overall_att) and gap > se:
        reasons.append("the two estimates have opposite signs")
    if neg > 0 and gap > 1.96 * se:
        reasons.append(f"they differ by {gap:.3g} (more than 1.96 combined SEs)")
    if neg > 0.10:
        reasons.append(f"negative weights total {neg:.0%} of TWFE's weight on treated cells")
    sink = list(res.warnings)
    if reasons:
        verdict = (
            "TWFE is misleading here: "
            + "; ".join(reasons)
            + ". Early adopters serve as controls for late adopters while their effect is still "
            "changing; report the Callaway-Sant'Anna estimate."
        )
        _warn(verdict, sink)
    else:
        verdict = (
            "TWFE and Callaway-Sant'Anna agree within sampling error; the staggered-timing bias "
            "of TWFE looks small here"
        )
    return TWFEComparison(tw, cs, wdf, bool(reasons), verdict, sink)


class DiD2x2Result(ResultMixin):
    """Plain two-group, two-period DiD."""

    title = "Difference-in-differences (2 groups x 2 periods)"

    def __init__(self, estimate, se, means, n_obs, alpha):
        self.estimate, self.se, self.means, self.n_obs = estimate, se, means, n_obs
        z = stats.norm.ppf(1 - alpha / 2)
        self.ci = (estimate - z * se, estimate + z * se)
        self.warnings: list[str] = []

    def to_polars(self) -> pl.DataFrame:
        return self.means

    def _header(self):
        return {
            "DiD estimate": f"{self.estimate:.4f} (SE {self.se:.4f}, CI {self.ci[0]:.4f} to "
            f"{self.ci[1]:.4f})",
            "observations": self.n_obs,
        }


def did_2x2(
    data: pl.DataFrame,
    *,
    outcome: str,
    treated: str,
    post: str,
    unit: str | None = None,
    alpha: float = 0.05,
) -> DiD2x2Result:
    """Two-group, two-period DiD: (treated after - before) - (control after - before).

    ``treated`` and ``post`` are 0/1 (or boolean) columns. The SE is that of the interaction in
    OLS of the outcome on treated, post and their product, heteroskedasticity-robust (HC1), or
    clustered by ``unit`` when given (for panels with both periods per unit).
    """
    _need_columns(data, {"outcome": outcome, "treated": treated, "post": post, "unit": unit})
    df = data.select([c for c in (outcome, treated, post, unit) if c]).filter(
        pl.col(outcome).is_not_null()
    )
    if df.height == 0:
        raise CertkitError(f"outcome column {outcome!r} is entirely null: nothing to estimate")
    for c in (treated, post):
        vals = set(df[c].cast(pl.Float64).unique().to_list())
        if not vals <= {0.0, 1.0} or len(vals) < 2:
            raise CertkitError(f"column {c!r} must take both values 0 and 1, found {sorted(vals)}")
    y = df[outcome].cast(pl.Float64).to_numpy()
    a = df[treated].cast(pl.Float64).to_numpy()
    b = df[post].cast(pl.Float64).to_numpy()
    X = np.column_stack([np.ones_like(y), a, b, a * b])
    cells = {(i, j): int(np.sum((a == i) & (b == j))) for i in (0, 1) for j in (0, 1)}
    empty = [k for k, v in cells.items() if v == 0]
    if empty:
        raise CertkitError(f"no observations in (treated, post) cell(s) {empty}")
    XtXi = np.linalg.inv(X.T @ X)
    beta = XtXi @ X.T @ y
    e = y - X @ beta
    N, k = X.shape
    if unit:
        cl = df[unit].rank("dense").to_numpy().astype(np.int64) - 1
        nc = int(cl.max()) + 1
        S = np.zeros((nc, k))
        np.add.at(S, cl, X * e[:, None])
        meat = S.T @ S * nc / (nc - 1) * (N - 1) / (N - k)
    else:
        meat = (X * e[:, None] ** 2).T @ X * N / (N - k)
    V = XtXi @ meat @ XtXi
    means = (
        df.group_by(treated, post)
        .agg(pl.col(outcome).mean().alias("mean"), pl.len().alias("n"))
        .sort(treated, post)
    )
    return DiD2x2Result(float(beta[3]), float(math.sqrt(V[3, 3])), means, N, alpha)
