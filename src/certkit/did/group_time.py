"""Callaway & Sant'Anna group-time ATTs: the (g, t) comparisons and :func:`att_gt`."""

from __future__ import annotations

import numpy as np
import polars as pl

from certkit.data.contract import panel_columns
from certkit.did.drdid import drdid_panel
from certkit.did.prepare import Panel, no_treated_units, prepare_panel
from certkit.did.results import ATTgtResult
from certkit.errors import CertkitError, require_int
from certkit.errors import warn_and_keep as _warn
from certkit.stats.vcov import level_from_alpha

SMALL_COHORT = 5  # cohorts with fewer units get a warning


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


def _cells_nocov(P: Panel, gk, tk, bk, cmask, starts, stops):
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


def _cells_cov(P: Panel, gk, tk, bk, cmask, starts, stops, method, sink):
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
        a, f = drdid_panel(dy[sub], D[sub].astype(float), Xs, P.w[sub], method, label, sink)
        att[k] = a
        inf[sub, k] = f * (n / sub.sum())
    return att, inf, ntreat, ncont


def att_gt(
    data: pl.DataFrame,
    *,
    outcome: str,
    unit: str | None = None,
    time: str | None = None,
    group: str | None = None,
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
    level: float = 0.95,
    min_cell_units: int = 1,
    alpha: float | None = None,
) -> ATTgtResult:
    """Callaway & Sant'Anna group-time average treatment effects ATT(g, t).

    Parameters
    ----------
    data
        Long panel (polars), one row per unit and period.
    outcome, unit, time, group
        Column names. ``time`` is a numeric period (e.g. ``period_index`` or a year); ``group``
        is the period a unit is first treated, 0 for never treated (e.g. ``cohort``). ``unit``,
        ``time`` and ``group`` default to the panel contract's ``engineer_id``,
        ``period_index`` and ``cohort`` (:mod:`certkit.data.contract`), the columns of
        :func:`certkit.build_panel`.
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
    level
        Confidence level of the intervals (default 0.95).
    min_cell_units
        Cells with fewer treated or comparison units are dropped, with a warning naming them.
        The default 1 keeps every estimable cell, as R ``did`` does (it warns about small
        groups); cells resting on a single treated unit are kept with a warning, since their
        standard errors reflect only the comparison units' variation. ``min_cell_units=2``
        drops them (the result's header and warnings then say so).
    alpha
        Deprecated: ``1 - level``.

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
    level = level_from_alpha(level, alpha)
    unit, time, group = panel_columns(data, unit, time, group)
    require_int(min_cell_units, "min_cell_units", minimum=1, optional=False)
    require_int(anticipation, "anticipation", minimum=0, optional=False)
    require_int(n_boot, "n_boot", minimum=1, optional=False)
    P = prepare_panel(
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
        raise no_treated_units(data, outcome, unit, group)
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

        def cells(mask: np.ndarray) -> str:
            listed = [
                f"ATT(g={gfull[gk[k]]:g}, t={times[tk[k]]:g}): {ntreat[k]} treated, "
                f"{ncont[k]} comparison units"
                for k in np.nonzero(mask)[0]
            ]
            more = f"; and {len(listed) - 3} more" if len(listed) > 3 else ""
            return "; ".join(listed[:3]) + more

        # a cohort's engineers not yet hired (or gone) in a period: no data, not a setting
        # (httpx: "too few units in 346 cells ... (min_cell_units=1)" read as if a setting
        # had dropped them; trial F)
        empty = bad & (ntreat == 0)
        if empty.any():
            _warn(
                f"{int(empty.sum())} group-time cell(s) have no treated unit with data in both "
                "of their periods (an unbalanced panel: engineers not yet hired or already "
                f"gone), so they were left out: {cells(empty)}",
                sink,
            )
        few = bad & ~empty
        if few.any():
            _warn(
                f"too few units in {int(few.sum())} group-time cell(s), which were dropped "
                f"(min_cell_units={min_cell_units}): {cells(few)}",
                sink,
            )
        keep = ~bad
        if not keep.any():
            if not ntreat.any():  # the treated units have no value of the outcome
                raise no_treated_units(data, outcome, unit, group)
            raise CertkitError("no group-time cell has enough treated and comparison units")
        gk, tk, bk, att, ntreat, ncont = (a[keep] for a in (gk, tk, bk, att, ntreat, ncont))
        inf, cmask = inf[:, keep], cmask[:, keep]
    single = (bk >= 0) & (ntreat == 1)
    if single.any():
        cohorts = sorted({float(g) for g in gfull[gk[single]]})
        _warn(
            f"{int(single.sum())} group-time cell(s) of cohort(s) "
            f"{', '.join(f'{g:g}' for g in cohorts)} rest on a single treated unit; they are "
            "kept, as R did keeps them, but their standard errors reflect only the comparison "
            "units' variation, not that unit's own noise (min_cell_units=2 drops them)",
            sink,
        )
    nz = cmask.copy()  # groups whose units have a non-zero IF in each cell
    nz[gk, np.arange(len(gk))] = bk >= 0
    result = ATTgtResult(
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
            "min_cell_units": min_cell_units,
            "dropped_cells": int(bad.sum()),
        },
        bootstrap=bootstrap,
        n_boot=n_boot,
        boot_weights=boot_weights,
        seed=seed,
        level=level,
        warnings=sink,
    )
    # the period each cell compares with (column of panel.Y; -1: none), for the count of
    # engineers an aggregation rests on (AggregateResult.n_engineers)
    result.base_index, result.time_index = bk, tk
    return result
