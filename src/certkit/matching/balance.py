"""Balance statistics before and after matching, as MatchIt's ``summary.matchit``."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from certkit.errors import require_columns
from certkit.stats.glm import EPS


def wmean(x, w):
    return float(np.sum(w * x) / np.sum(w))


def wvar(x, w, binary):
    """Weighted variance as MatchIt's ``col_w_var``; never negative (rounding is clipped at 0).

    For a 0/1 covariate the weighted mean can round to just above 1 (e.g. twenty ones with
    weights 1/20 sum to 1.0000000000000002), which would make ``m * (1 - m)`` negative.
    """
    w = w / w.sum()
    m = np.sum(w * x)
    v = float(m * (1 - m)) if binary else float(np.sum(w * (x - m) ** 2) / (1 - np.sum(w * w)))
    return 0.0 if v < 0 else v  # NaN (a single unit) stays NaN


def _ecdf(x, treat, w, order=None):
    """Mean and max distance between the weighted eCDFs of treated and controls.

    ``order`` is ``argsort(x)`` (any sort: within runs of equal values only the running sum at
    the run's end is used), passed in so one sort serves the before and after tables.
    """
    i1 = treat == 1
    tot1, tot0 = w[i1].sum(), w[~i1].sum()
    signed = np.where(i1, w / tot1, -w / tot0)
    o = np.argsort(x) if order is None else order
    xs = x[o]
    cs = np.abs(np.cumsum(signed[o]))
    keep = np.r_[xs[1:] != xs[:-1], True]
    vals = cs[keep]
    return float(vals.mean()), float(vals.max())


def pair_distance(x, treat, sub, mm, t_pos):
    if mm is not None:
        ok = mm >= 0
        if not ok.any():
            return math.nan
        xt = np.broadcast_to(x[t_pos][:, None], mm.shape)
        return float(np.abs(xt[ok] - x[mm[ok]]).mean())
    if sub is None:
        return math.nan
    # mean |x_t - x_c| over all treated-control pairs within a subclass, for all subclasses at
    # once: controls sorted by (subclass, x); each treated unit finds its subclass block and
    # its position inside it, and prefix sums give the distances to all controls of the block
    ok = sub >= 0
    # shifting by a data value keeps prefix sums small and integer data (0/1 levels) exact
    xc = x - x[ok].min() if ok.any() else x
    _, r = np.unique(xc, return_inverse=True)
    u = int(r.max()) + 1 if r.size else 1
    key = sub.astype(np.int64) * u + r
    c = np.flatnonzero(ok & (treat == 0))
    t = np.flatnonzero(ok & (treat == 1))
    if c.size == 0 or t.size == 0:
        return math.nan
    c = c[np.argsort(key[c], kind="stable")]
    ckey = key[c]
    cs = np.r_[0.0, np.cumsum(xc[c])]
    st = sub[t].astype(np.int64)
    start = np.searchsorted(ckey, st * u, side="left")
    end = np.searchsorted(ckey, (st + 1) * u, side="left")
    pos = np.searchsorted(ckey, key[t], side="right")
    a = xc[t]
    below = a * (pos - start) - (cs[pos] - cs[start])
    above = (cs[end] - cs[pos]) - a * (end - pos)
    count = int((end - start).sum())
    return float((below + above).sum()) / count if count else math.nan


def kept_rows(treat, w):
    """Row positions of treated and of controls with a positive weight."""
    pos = w > 0
    return np.flatnonzero(pos & (treat == 1)), np.flatnonzero(pos & (treat == 0))


def is_binary(x) -> bool:
    return bool(np.all((x == 0) | (x == 1)))


def balance_row(
    x, treat, w, std, sub=None, mm=None, t_pos=None, pair=True, order=None, kept=None, binary=None
):
    """One row of MatchIt's balance table (standardized statistics).

    ``kept`` (from :func:`kept_rows`), ``binary`` and ``order`` (``argsort(x)``) may be passed in
    when the caller computes many rows on the same sample, to avoid recomputing them.
    """
    binary = is_binary(x) if binary is None else binary
    k1, k0 = kept_rows(treat, w) if kept is None else kept
    mt, mc = wmean(x[k1], w[k1]), wmean(x[k0], w[k0])
    mdiff = mt - mc
    too_small = (k1.size < 2) and (k0.size < 2)
    smd = vr = em = ex = pd_ = math.nan
    if abs(mdiff) > math.sqrt(EPS):
        if not too_small:
            smd = mdiff / std if std > 0 else math.copysign(math.inf, mdiff)
            if pair:
                pd_ = pair_distance(x, treat, sub, mm, t_pos)
                if abs(pd_) > 1e-8:
                    pd_ /= std
    else:
        smd = mdiff
        if pair:
            pd_ = pair_distance(x, treat, sub, mm, t_pos)
    if binary:
        em = ex = abs(mdiff)
    elif not too_small:
        v1, v0 = wvar(x[k1], w[k1], False), wvar(x[k0], w[k0], False)
        # a covariate constant among the kept controls has no finite variance ratio
        vr = v1 / v0 if v0 > EPS * max(1.0, v1) else (math.inf if v1 > EPS else math.nan)
        em, ex = _ecdf(x, treat, w, order)
    return mt, mc, smd, vr, em, ex, pd_


def smd_denominator(x, treat, binary=None):
    """SD of the treated (certified) units, or the pooled SD when that is zero, as MatchIt."""
    binary = is_binary(x) if binary is None else binary
    xt = x[treat == 1]
    std = math.sqrt(wvar(xt, np.ones(xt.size), binary))  # wvar is never negative
    if not math.isfinite(std) or std < math.sqrt(EPS):
        # pooled SD, as MatchIt falls back to
        var = np.mean([wvar(x[treat == g], np.ones((treat == g).sum()), binary) for g in (0, 1)])
        std = math.sqrt(var)
    return std


def ess(w):
    w = w[w > 0]
    return float(w.sum() ** 2 / np.sum(w * w)) if w.size else 0.0


def balance_table(
    design,
    treat: np.ndarray,
    weights: np.ndarray,
    *,
    distance: np.ndarray | None = None,
    subclass: np.ndarray | None = None,
    match_matrix: np.ndarray | None = None,
    t_pos: np.ndarray | None = None,
) -> pl.DataFrame:
    """Balance per covariate (and the propensity ``distance``) before and after matching.

    ``design`` is a :class:`certkit.matching.design.Design`; ``weights`` the matching weights.
    Returns one row per term and sample (``"all"``, ``"matched"``) with means, standardized
    mean difference, variance ratio, eCDF mean and max and the standardized pair distance.
    """
    names = list(design.balance_names)
    cols = [design.balance[:, j] for j in range(len(names))]
    if distance is not None:
        names.insert(0, "distance")
        cols.insert(0, distance)
    ones = np.ones(treat.size)
    kept_all, kept_matched = kept_rows(treat, ones), kept_rows(treat, weights)
    recs = []
    for name, x in zip(names, cols, strict=True):
        binary = is_binary(x)
        std = smd_denominator(x, treat, binary)
        order = None if binary else np.argsort(x)  # one sort for both samples
        for sample in ("all", "matched"):
            if sample == "all":
                vals = balance_row(
                    x,
                    treat,
                    ones,
                    std,
                    pair=False,
                    order=order,
                    kept=kept_all,
                    binary=binary,
                )
            else:
                vals = balance_row(
                    x,
                    treat,
                    weights,
                    std,
                    sub=subclass,
                    mm=match_matrix,
                    t_pos=t_pos,
                    pair=True,
                    order=order,
                    kept=kept_matched,
                    binary=binary,
                )
            recs.append((name, sample, *vals))
    return pl.DataFrame(
        recs,
        schema=[
            "term",
            "sample",
            "mean_treated",
            "mean_control",
            "smd",
            "var_ratio",
            "ecdf_mean",
            "ecdf_max",
            "std_pair_dist",
        ],
        orient="row",
    ).with_columns(pl.col(pl.Float64).fill_nan(None))


def balance_summary(balance: pl.DataFrame, threshold: float = 0.1) -> dict:
    """The balance table in three numbers: the largest |SMD| before and after matching, and
    how many terms are still over ``threshold`` after matching (the distance is left out).

    Parameters
    ----------
    balance
        A balance table (``MatchResult.balance()`` / ``MatchedDiDResult.balance()``: ``term``,
        ``sample`` ("all" / "matched") and ``smd`` columns).
    threshold
        The |SMD| above which a term counts as imbalanced.
    """
    require_columns(
        balance, {"term": "term", "sample": "sample", "smd": "smd"}, "balance", "a balance table"
    )
    b = balance.filter(pl.col("term") != "distance")
    smd = b.pivot(on="sample", index="term", values="smd")
    return {
        "max |SMD| before": float(smd["all"].abs().max()),
        "max |SMD| after": float(smd["matched"].abs().max()),
        f"terms over {threshold:g} after": int((smd["matched"].abs() > threshold).sum()),
    }
