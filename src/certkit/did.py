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
from scipy import stats

from certkit.errors import CertkitError, CertkitWarning
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


def _warn(msg: str, sink: list[str]) -> None:
    """Warn once in plain words and keep the message for the result's notes."""
    sink.append(msg)
    warnings.warn(msg, CertkitWarning, stacklevel=3)


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


def _unit_constant(df: pl.DataFrame, unit: str, col: str, role: str) -> None:
    bad = df.group_by(unit).agg(pl.col(col).n_unique().alias("k")).filter(pl.col("k") > 1)
    if bad.height:
        raise CertkitError(
            f"column {col!r} ({role}) must be constant within each unit, but it varies for "
            f"{bad.height} unit(s), e.g. {bad[unit][0]!r}"
        )


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
        | {f"cluster": cluster}
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
    if df[outcome].drop_nulls().drop_nans().len() == 0:
        raise CertkitError(f"outcome column {outcome!r} is entirely null: nothing to estimate")
    dup = df.group_by(unit, time).len().filter(pl.col("len") > 1)
    if dup.height:
        raise CertkitError(
            f"data has {dup.height} duplicated ({unit}, {time}) row(s), e.g. unit "
            f"{dup[unit][0]!r} at {time}={dup[time][0]}: a panel needs one row per unit and period"
        )
    _unit_constant(df, unit, group, "group")
    if weights:
        _unit_constant(df, unit, weights, "weights")
    if cluster:
        _unit_constant(df, unit, cluster, "cluster")

    # rows with a null outcome or covariate are not observed
    obs = df.filter(pl.col(outcome).is_not_null() & pl.col(outcome).is_not_nan())
    for c in covariates:
        obs = obs.filter(pl.col(c).is_not_null())
    times = np.sort(obs[time].unique().to_numpy()).astype(float)
    T = len(times)
    if T < 2:
        raise CertkitError(f"need at least 2 periods with a non-null outcome, found {T}")

    units_df = df.group_by(unit).agg(pl.col(group).first()).sort(unit)
    G = units_df[group].to_numpy().astype(float)
    if np.any(G < 0):
        raise CertkitError(f"group column {group!r} has negative values; use 0 for never treated")
    # units first treated after the last period are never treated within the window
    late = (G > times[-1]) & (G != 0)
    if late.any():
        notes.append(
            f"{int(late.sum())} unit(s) first treated after the last period are used as never treated"
        )
        G = np.where(late, 0.0, G)
    early = (G > 0) & (G <= times[0] + anticipation)
    if early.any():
        cohorts = sorted(set(G[early].tolist()))
        raise CertkitError(
            f"cohort(s) {cohorts} ({int(early.sum())} units) are treated in or before the first "
            f"period {times[0]:g}{' plus anticipation' if anticipation else ''}, so they have no "
            f"pre-treatment period; drop those units (e.g. data.filter(pl.col({group!r}) > "
            f"{times[0] + anticipation:g}) | (pl.col({group!r}) == 0))"
        )

    uid = units_df[unit]
    n = len(uid)
    ui = obs.select(pl.col(unit).replace_strict(uid, pl.Series(np.arange(n)), default=None))
    u_idx = ui.to_series().to_numpy()
    t_idx = np.searchsorted(times, obs[time].to_numpy().astype(float))
    Y = np.full((n, T), np.nan)
    Y[u_idx, t_idx] = obs[outcome].to_numpy().astype(float)
    X = None
    if covariates:
        X = np.full((len(covariates), n, T), np.nan)
        for j, c in enumerate(covariates):
            X[j, u_idx, t_idx] = obs[c].to_numpy().astype(float)

    observed = ~np.isnan(Y)
    if not observed.all():
        if unbalanced == "balance":
            keep = observed.all(axis=1)
            notes_msg = (
                f"the panel is unbalanced: {int((~keep).sum())} of {n} units are not observed in "
                "every period and were dropped (unbalanced='balance')"
            )
            warnings.warn(notes_msg, CertkitWarning, stacklevel=3)
            notes.append(notes_msg)
            if not keep.any():
                raise CertkitError("no unit is observed in every period; use unbalanced='pairwise'")
            uid, G, Y = uid.filter(pl.Series(keep)), G[keep], Y[keep]
            X = None if X is None else X[:, keep]
            sel = keep
        else:
            notes.append(
                f"unbalanced panel: {int((~observed).sum())} unit-periods missing; each ATT(g,t) "
                "uses the units observed in both of its periods"
            )
            sel = None
    else:
        sel = None

    units_w = units_df if sel is None else units_df.filter(pl.Series(sel))
    if weights:
        wdf = df.group_by(unit).agg(pl.col(weights).first()).sort(unit)
        w = wdf[weights].to_numpy().astype(float)
        if sel is not None:
            w = w[sel]
        if np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise CertkitError(f"weights column {weights!r} must be finite, >= 0 and not all 0")
        w = w / w.mean()
    else:
        w = np.ones(len(G))
    cl = None
    if cluster:
        cdf = df.group_by(unit).agg(pl.col(cluster).first()).sort(unit)
        cvals = cdf[cluster]
        if sel is not None:
            cvals = cvals.filter(pl.Series(sel))
        if cvals.null_count():
            raise CertkitError(f"cluster column {cluster!r} has null values")
        cl = cvals.rank("dense").to_numpy().astype(np.int64) - 1
    del units_w
    return _Panel(
        units=uid.to_numpy(),
        times=times,
        G=G,
        Y=Y,
        X=X,
        w=w,
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
        if np.any(ps[D == 0] > OVERLAP_WARN) or np.any(ps[D == 0] < 1 - OVERLAP_WARN):
            msg = (
                f"weak overlap in {cell}: some comparison units have propensity scores near 0 or "
                "1, so a few units carry most of the weight"
            )
            if msg not in sink:
                _warn(msg, sink)
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


def _control_mask(G, g, t_val, b_val, control, anticipation):
    if control == "never":
        return G == 0
    later = max(t_val, b_val) + anticipation
    return (G == 0) | ((G > later) & (G != g))


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
    for note in P.notes:
        if "dropped" not in note:  # the balance warning was already raised
            pass
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
    sizes = {g: int(np.sum(G == g)) for g in glist}
    small = [f"{g:g} ({k} units)" for g, k in sizes.items() if k < SMALL_COHORT]
    if small:
        _warn(
            f"very small cohort(s): {', '.join(small)}; their effects are noisy and rest on "
            "very few people",
            sink,
        )

    cells = _cells(times, glist, control, anticipation, base_period)
    n = P.n
    K = len(cells)
    att = np.full(K, np.nan)
    inf = np.zeros((n, K))
    ntreat = np.zeros(K, dtype=np.int64)
    ncont = np.zeros(K, dtype=np.int64)
    dropped = []
    nocov = P.X is None
    gi = np.searchsorted(np.concatenate([[0.0], glist]), G)  # group index (0 = never)
    for k, (g, t, b) in enumerate(cells):
        label = f"ATT(g={g:g}, t={times[t]:g})"
        if b < 0:
            att[k] = 0.0
            continue
        dy = P.Y[:, t] - P.Y[:, b]
        ok = ~np.isnan(dy)
        D = (G == g) & ok
        C = _control_mask(G, g, times[t], times[b], control, anticipation) & ok
        ntreat[k], ncont[k] = D.sum(), C.sum()
        need = min_cell_units + (0 if nocov else len(P.covariates))
        if ntreat[k] < min_cell_units or ncont[k] < need:
            dropped.append(f"{label}: {ntreat[k]} treated, {ncont[k]} comparison units")
            continue
        if nocov:
            wt, wc = P.w * D, P.w * C
            Wt, Wc = wt.sum(), wc.sum()
            dy0 = np.where(ok, dy, 0.0)
            mt, mc = (wt @ dy0) / Wt, (wc @ dy0) / Wc
            att[k] = mt - mc
            inf[:, k] = n * (wt * (dy0 - mt) / Wt - wc * (dy0 - mc) / Wc)
        else:
            sub = D | C
            base = min(t, b)
            Xs = np.column_stack([np.ones(sub.sum())] + [x[sub, base] for x in P.X])
            a, f = _drdid(dy[sub], D[sub].astype(float), Xs, P.w[sub], method, label, sink)
            att[k] = a
            inf[sub, k] = f * (n / sub.sum())
    if dropped:
        _warn(
            f"too few units in {len(dropped)} group-time cell(s), which were dropped: "
            + "; ".join(dropped[:10])
            + (" ..." if len(dropped) > 10 else ""),
            sink,
        )
    keep = ~np.isnan(att)
    if not keep.any():
        raise CertkitError("no group-time cell has enough treated and comparison units")
    cells = [c for c, k in zip(cells, keep, strict=True) if k]
    return ATTgtResult(
        group=np.array([c[0] for c in cells]),
        time=times[[c[1] for c in cells]],
        att=att[keep],
        inf=inf[:, keep],
        n_treated=ntreat[keep],
        n_control=ncont[keep],
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


def _wif(sel, pg_cells, groups_cells, w, G) -> np.ndarray:
    """Influence function of estimated aggregation weights P(G=g) (R did's ``wif``)."""
    pk = pg_cells[sel]
    s = pk.sum()
    ind = (w[:, None] * (G[:, None] == groups_cells[sel][None, :])) - pk[None, :]
    return ind / s - ind.sum(axis=1, keepdims=True) * (pk / s**2)[None, :]


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
        S = _cluster_sums(self.inf[:, pre], self.panel.cluster)
        V = S.T @ S / self.n**2
        if np.linalg.cond(V) > 1 / np.finfo(float).eps:
            return None, None, q
        a = self.att[pre]
        W = float(a @ np.linalg.solve(V, a))
        return W, float(stats.chi2.sf(W, q)), q

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
                "group": self.group,
                "time": self.time,
                "e": self.time - self.group,
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
            "method": s["method"] + (f" with {', '.join(s['covariates'])}" if s["covariates"] else ""),
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
        grp, t, att, inf = self.group, self.time, self.att, self.inf
        glist = np.unique(grp)
        pg_g = np.array([np.mean(w * (G == g)) for g in glist])
        pgg = pg_g[np.searchsorted(glist, grp)]
        max_e_ = np.inf if max_e is None else max_e
        min_e_ = -np.inf if min_e is None else min_e
        e = t - grp
        rows: list[tuple[float, float, np.ndarray]] = []  # key, att, IF
        if kind == "simple":
            sel = (grp <= t) & (t <= grp + max_e_)
            wk = pgg[sel] / pgg[sel].sum()
            f = inf[:, sel] @ wk + _wif(sel, pgg, grp, w, G) @ att[sel]
            return self._agg_result(kind, [], float(att[sel] @ wk), f)
        if kind == "dynamic":
            incl = np.ones(len(att), dtype=bool)
            eseq = np.unique(e)
            if balance_e is not None:
                incl = (P.times[-1] - grp) >= balance_e
                eseq = np.unique(e[incl])
                eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - P.times[-1] + P.times[0])]
            eseq = eseq[(eseq >= min_e_) & (eseq <= max_e_)]
            for ev in eseq:
                sel = (e == ev) & incl
                wk = pgg[sel] / pgg[sel].sum()
                f = inf[:, sel] @ wk + _wif(sel, pgg, grp, w, G) @ att[sel]
                rows.append((ev, float(att[sel] @ wk), f))
            pos = [r for r in rows if r[0] >= 0]
            if not pos:
                raise CertkitError("no post-treatment event times to aggregate")
            overall = float(np.mean([r[1] for r in pos]))
            f_all = np.mean(np.column_stack([r[2] for r in pos]), axis=1)
            return self._agg_result(kind, rows, overall, f_all)
        if kind == "group":
            atts, fs = [], []
            for g in glist:
                sel = (grp == g) & (g <= t) & (t <= grp + max_e_)
                if not sel.any():
                    continue
                atts.append(float(att[sel].mean()))
                fs.append(inf[:, sel].mean(axis=1))
                rows.append((g, atts[-1], fs[-1]))
            gk = np.array([r[0] for r in rows])
            pk = pg_g[np.searchsorted(glist, gk)]
            wk = pk / pk.sum()
            wif = _wif(np.ones(len(gk), bool), pk, gk, w, G)
            f_all = np.column_stack(fs) @ wk + wif @ np.array(atts)
            return self._agg_result(kind, rows, float(np.array(atts) @ wk), f_all)
        # calendar
        for tt in P.times[P.times >= grp.min()]:
            sel = (t == tt) & (grp <= t) & (t <= grp + max_e_)
            if not sel.any():
                continue
            wk = pgg[sel] / pgg[sel].sum()
            f = inf[:, sel] @ wk + _wif(sel, pgg, grp, w, G) @ att[sel]
            rows.append((tt, float(att[sel] @ wk), f))
        overall = float(np.mean([r[1] for r in rows]))
        f_all = np.mean(np.column_stack([r[2] for r in rows]), axis=1)
        return self._agg_result(kind, rows, overall, f_all)

    def _agg_result(self, kind, rows, overall, f_overall) -> AggregateResult:
        keys = np.array([r[0] for r in rows], dtype=float)
        atts = np.array([r[1] for r in rows], dtype=float)
        F = np.column_stack([r[2] for r in rows] + [f_overall])
        se_all, crit = self._inference(F, uniform=kind == "dynamic")
        # the overall effect gets its own pointwise interval
        z = float(stats.norm.ppf(1 - self.alpha / 2))
        if self.bootstrap and rows:
            se_el, crit = self._inference(F[:, :-1], uniform=kind == "dynamic")
        else:
            se_el = se_all[:-1]
        return AggregateResult(
            kind=kind,
            keys=keys,
            att=atts,
            se=se_el,
            crit=crit,
            overall_att=overall,
            overall_se=float(se_all[-1]),
            z=z,
            parent=self,
        )

    def plot(self) -> alt.Chart:
        """Altair chart of every ATT(g,t) with its interval, one panel per cohort."""
        df = self.to_polars()
        return _effect_chart(df, "time", "period", title=f"ATT(g,t): {self.settings['outcome']}").facet(
            row=alt.Row("group:O", title="cohort (first treated period)")
        )


def _effect_chart(df: pl.DataFrame, x: str, color: str | None, title: str, xtitle: str | None = None):
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
        cols = {key: self.keys}
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
    p = res.wald_pvalue
    agg.pretrend_pvalue = p
    q = int(res.is_pre.sum())
    if q == 0:
        agg.pretrend_verdict = "not tested: there are no pre-treatment periods to compare"
    elif p is None:
        agg.pretrend_verdict = "not tested: the pre-period estimates are degenerate"
    elif p < 0.05:
        agg.pretrend_verdict = (
            f"warning: certified and comparison groups were already diverging before "
            f"certification (p = {p:.3f}); the effect estimates may be biased"
        )
    else:
        agg.pretrend_verdict = (
            f"no evidence of diverging trends before certification (p = {p:.2f}, "
            f"{q} pre-period estimates); this supports, but cannot prove, parallel trends"
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
        self.n_obs, self.n_clusters, self.cluster, self.outcome = n_obs, n_clusters, cluster, outcome
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
    tw = twfe(data, outcome=outcome, unit=unit, time=time, group=group, cluster=cluster)
    res = att_gt(data, outcome=outcome, unit=unit, time=time, group=group, cluster=cluster, **kwargs)
    cs = res.aggregate("simple")
    df, ui, ti, D, _, _, g, tv = _twfe_core(
        data, outcome, unit, time, group, cluster, kwargs.get("anticipation", 0)
    )
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
