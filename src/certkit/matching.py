"""Matched cohorts: certified engineers compared with comparable peers.

``match()`` pairs treated units (certified engineers) with similar controls and returns a
:class:`MatchResult` with the matched data, a balance table before and after matching, a Love
plot and the ATT from a weighted regression with honest standard errors. ``matched_did()``
combines matching with difference-in-differences for staggered certification (rolling entry).

Conventions follow R's MatchIt 4.7 so that numbers can be checked against it:

* categorical covariates are expanded like R's formula interface (levels sorted, the first
  level is the reference in the propensity model; balance tables show every level);
* the propensity model is a GLM fitted by the same iteratively reweighted least squares as R's
  ``glm`` (same start values and stopping rule), and the distance is the propensity score;
* greedy nearest-neighbour matching walks the sorted distance vector (stable sort, ties in data
  order) and takes the closest available control on either side; when the left and right
  candidates are equally close the **left** one (smaller distance) wins. Treated units are
  processed from the largest propensity score down (``order="largest"``);
* weights are MatchIt's ATT weights (treated 1, controls rescaled to sum to the number of
  matched controls); the balance statistics are those of ``summary.matchit``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import linalg, stats

from certkit.errors import CertkitError, CertkitWarning
from certkit.errors import warn_and_keep as _warn
from certkit.results import ResultMixin

__all__ = [
    "ATTResult",
    "MatchResult",
    "MatchedDiDResult",
    "e_value",
    "estimate_att",
    "match",
    "matched_did",
    "rosenbaum_bounds",
]

METHODS = ("nearest", "exact", "cem", "subclass")
DISTANCES = ("logit", "probit", "mahalanobis", "euclidean")
ORDERS = ("largest", "smallest", "data", "random")
EPS = np.finfo(float).eps


# --------------------------------------------------------------------------------------------
# Input checks and design matrices
# --------------------------------------------------------------------------------------------


def _treatment_vector(data: pl.DataFrame, treatment: str, table: str) -> np.ndarray:
    if treatment not in data.columns:
        raise CertkitError(f"{table}: treatment column {treatment!r} not found")
    s = data[treatment]
    if s.null_count():
        row = int(s.is_null().arg_true()[0])
        raise CertkitError(
            f"{table}.{treatment}: {s.null_count()} missing value(s) (first at row {row}); "
            "the treatment must be 0/1 or true/false for every row"
        )
    if s.dtype == pl.Boolean:
        return s.to_numpy().astype(np.int8)
    if not s.dtype.is_numeric():
        raise CertkitError(f"{table}.{treatment}: expected 0/1 or true/false, got {s.dtype}")
    v = s.to_numpy()
    bad = ~np.isin(v, (0, 1))
    if bad.any():
        raise CertkitError(
            f"{table}.{treatment}: expected only 0/1 values; row {int(np.argmax(bad))} "
            f"has {v[bad][0]!r}"
        )
    return v.astype(np.int8)


@dataclass
class _Design:
    model: np.ndarray  # propensity / regression design, reference levels dropped
    model_names: list[str]
    balance: np.ndarray  # every level of every categorical
    balance_names: list[str]
    numeric: list[bool]
    raw: list[np.ndarray]  # per covariate: float values or integer level codes
    _codes: np.ndarray | None = None

    @property
    def codes(self) -> np.ndarray:
        """Integer code per covariate (for exact / CEM strata); computed on first use."""
        if self._codes is None:
            n = self.model.shape[0]
            cols = [
                np.unique(x, return_inverse=True)[1].ravel() if num else x
                for x, num in zip(self.raw, self.numeric, strict=True)
            ]
            self._codes = np.column_stack(cols) if cols else np.zeros((n, 0), int)
        return self._codes


def _design(data: pl.DataFrame, covariates: list[str], table: str) -> _Design:
    n = data.height
    model_cols, model_names, bal_cols, bal_names, raw, numeric = [], [], [], [], [], []
    for c in covariates:
        if c not in data.columns:
            raise CertkitError(f"{table}: covariate column {c!r} not found")
        s = data[c]
        if s.null_count():
            row = int(s.is_null().arg_true()[0])
            raise CertkitError(
                f"{table}.{c}: {s.null_count()} missing value(s) (first at row {row}); "
                "fill or drop them before matching"
            )
        if s.dtype in (pl.String, pl.Categorical, pl.Enum):
            s = s.cast(pl.String)
            # levels in code-point order (as np.unique); codes 0..L-1 by that order
            levels = s.unique().sort().to_list()
            inv = (s.rank("dense") - 1).cast(pl.Int64).to_numpy()
            for j, lev in enumerate(levels):
                col = (inv == j).astype(float)
                bal_cols.append(col)
                bal_names.append(f"{c}{lev}")
                if j > 0:
                    model_cols.append(col)
                    model_names.append(f"{c}{lev}")
            raw.append(inv)
            numeric.append(False)
        elif s.dtype == pl.Boolean or s.dtype.is_numeric():
            x = s.cast(pl.Float64).to_numpy()
            if not np.isfinite(x).all():
                row = int(np.argmax(~np.isfinite(x)))
                raise CertkitError(f"{table}.{c}: non-finite value at row {row}")
            model_cols.append(x)
            model_names.append(c)
            bal_cols.append(x)
            bal_names.append(c)
            raw.append(x)
            numeric.append(True)
        else:
            raise CertkitError(f"{table}.{c}: unsupported type {s.dtype} for a covariate")
    as_mat = lambda cols: np.column_stack(cols) if cols else np.empty((n, 0))  # noqa: E731
    return _Design(as_mat(model_cols), model_names, as_mat(bal_cols), bal_names, numeric, raw)


def _group_codes(codes: np.ndarray) -> np.ndarray:
    """One integer per distinct row of ``codes`` (strata for exact matching)."""
    if codes.shape[1] == 0:
        return np.zeros(codes.shape[0], dtype=np.int64)
    return np.unique(codes, axis=0, return_inverse=True)[1].ravel()


# --------------------------------------------------------------------------------------------
# Propensity score (R glm.fit IRLS)
# --------------------------------------------------------------------------------------------

_THRESH = 30.0
_MTHRESH = -30.0
_INVEPS = 1 / EPS


def _logit_linkinv(eta):
    # R's binomial()$linkinv; exp of the clipped value so the unused branch cannot overflow
    e = np.exp(np.clip(eta, _MTHRESH, _THRESH))
    e = np.where(eta < _MTHRESH, EPS, np.where(eta > _THRESH, _INVEPS, e))
    return e / (1 + e)


def _logit_mueta(eta):
    e = np.exp(np.clip(eta, _MTHRESH, _THRESH))
    return np.where((eta > _THRESH) | (eta < _MTHRESH), EPS, e / ((1 + e) * (1 + e)))


_PTHRESH = -stats.norm.ppf(EPS)


def _probit_linkinv(eta):
    return stats.norm.cdf(np.clip(eta, -_PTHRESH, _PTHRESH))


def _probit_mueta(eta):
    return np.maximum(stats.norm.pdf(eta), EPS)


def _binom_dev(y, mu):
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(y > 0, y * np.log(y / mu), 0.0)
        b = np.where(y < 1, (1 - y) * np.log((1 - y) / (1 - mu)), 0.0)
    return 2 * (a + b)


def _linear_predictor(X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``beta[0] + X @ beta[1:]`` accumulated column by column, so every row goes through the
    same floating-point operations: identical covariate rows get bit-identical scores (a BLAS
    matrix-vector product may round rows differently, which would break ties arbitrarily)."""
    eta = np.full(X.shape[0], beta[0])
    for j in range(X.shape[1]):
        eta += X[:, j] * beta[j + 1]
    return eta


def _wls_step(Xs: np.ndarray, w2: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Solve the weighted least-squares step ``(Xs' W Xs) b = Xs' W z`` by Cholesky.

    ``Xs`` has unit-norm columns, which keeps ``Xs' W Xs`` well conditioned; a singular system
    (collinear covariates) falls back to the minimum-norm least-squares solution.
    """
    Xw = Xs * w2[:, None]
    A = Xw.T @ Xs
    rhs = Xw.T @ z
    try:
        c = linalg.cho_factor(A, check_finite=False)
        b = linalg.cho_solve(c, rhs, check_finite=False)
        if np.isfinite(b).all() and np.linalg.cond(A) < 1e12:
            return b
    except linalg.LinAlgError:
        pass
    sw = np.sqrt(w2)
    return np.linalg.lstsq(Xs * sw[:, None], z * sw, rcond=None)[0]


def _fit_glm(X: np.ndarray, y: np.ndarray, link: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """Binomial GLM by R's ``glm.fit`` algorithm; returns (fitted p, coefficients, converged).

    Same start values, iteration and stopping rule as R, so the scores agree with ``glm`` to
    ~1e-12. Each IRLS step solves the normal equations by Cholesky on column-scaled data (a
    k x k system) instead of a QR decomposition of the n x k weighted design: same solution
    to rounding, an order of magnitude faster on 100k rows.
    """
    linkinv, mueta = (
        (_logit_linkinv, _logit_mueta) if link == "logit" else (_probit_linkinv, _probit_mueta)
    )
    n = len(y)
    Xd = np.column_stack([np.ones(n), X])
    scale = np.sqrt(np.einsum("ij,ij->j", Xd, Xd))
    scale[scale == 0] = 1.0
    Xs = Xd / scale
    y = y.astype(float)
    mu = (y + 0.5) / 2
    eta = np.log(mu / (1 - mu)) if link == "logit" else stats.norm.ppf(mu)
    devold = _binom_dev(y, mu).sum()
    beta = np.zeros(Xd.shape[1])
    converged = False
    for _ in range(25):
        me = mueta(eta)
        var = mu * (1 - mu)
        z = eta + (y - mu) / me
        beta = _wls_step(Xs, me * me / var, z) / scale
        eta = _linear_predictor(X, beta)
        mu = linkinv(eta)
        dev = _binom_dev(y, mu).sum()
        if abs(dev - devold) / (abs(dev) + 0.1) < 1e-8:
            converged = True
            break
        devold = dev
    return mu, beta, converged


# --------------------------------------------------------------------------------------------
# Nearest-neighbour matching
# --------------------------------------------------------------------------------------------


def _find(parent: list[int], x: int) -> int:
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:
        parent[x], x = root, parent[x]
    return root


def _nn_vector(d, is_t, t_order, ratio, replace, caliper):
    """Greedy NN on a distance vector (MatchIt ``nn_matchC_vec`` semantics).

    Returns an array (n_treated_in_stratum, ratio) of positions of controls (-1 = none), with
    rows in the order of ``np.flatnonzero(is_t)``.
    """
    n = d.size
    o = np.argsort(d, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[o] = np.arange(n)
    c_sorted = o[~is_t[o]]  # control positions by increasing distance
    cd = d[c_sorted]
    n0 = c_sorted.size
    t_pos = np.flatnonzero(is_t)
    row_of = np.empty(n, dtype=np.int64)
    row_of[t_pos] = np.arange(t_pos.size)
    mm = np.full((t_pos.size, ratio), -1, dtype=np.int64)
    if n0 == 0:
        return mm
    split = np.searchsorted(rank[c_sorted], rank[t_pos])  # first control to the right
    cal = math.inf if caliper is None else caliper
    if replace:
        di = d[t_pos]
        left = split - 1
        right = split.copy()
        for r in range(ratio):
            lv = left >= 0
            rv = right < n0
            dl = np.abs(cd[np.clip(left, 0, n0 - 1)] - di)
            dr = np.abs(cd[np.clip(right, 0, n0 - 1)] - di)
            lv &= np.abs(di - cd[np.clip(left, 0, n0 - 1)]) <= cal
            rv &= np.abs(di - cd[np.clip(right, 0, n0 - 1)]) <= cal
            take_left = lv & (~rv | (dl <= dr))
            take_right = ~take_left & rv
            pick = np.where(take_left, left, np.where(take_right, right, -1))
            mm[:, r] = np.where(pick >= 0, c_sorted[np.clip(pick, 0, n0 - 1)], -1)
            left = left - take_left
            right = right + take_right
        return mm
    left_parent = list(range(n0 + 1))  # control j <-> node j + 1; node 0 = none
    right_parent = list(range(n0 + 1))  # control j <-> node j; node n0 = none
    cdl = cd.tolist()
    dl_all = d.tolist()
    split_l = split.tolist()
    rows = row_of.tolist()
    available = n0
    for r in range(ratio):
        for i in t_order:
            if available == 0:
                return mm
            di = dl_all[i]
            s = split_l[rows[i]]
            jl = _find(left_parent, s) - 1
            jr = _find(right_parent, s)
            if jl >= 0 and abs(di - cdl[jl]) > cal:
                jl = -1
            if jr < n0 and abs(di - cdl[jr]) > cal:
                jr = n0
            if jl >= 0 and jr < n0:
                k = jl if abs(cdl[jl] - di) <= abs(cdl[jr] - di) else jr
            elif jl >= 0:
                k = jl
            elif jr < n0:
                k = jr
            else:
                continue
            mm[rows[i], r] = c_sorted[k]
            left_parent[k + 1] = k
            right_parent[k] = k + 1
            available -= 1
    return mm


def _tie_key(dd: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Distances rounded relative to ``ref`` (per row) so that distances equal up to
    floating-point noise (1e-10 relative) compare equal and the data order decides."""
    return np.round(dd / (1 + ref), 10)


def _ordered(dd: np.ndarray, jj: np.ndarray, ref) -> tuple[np.ndarray, np.ndarray]:
    """Sort candidates by (rounded distance, data order), row-wise."""
    o = np.lexsort((jj, _tie_key(dd, ref)), axis=-1)
    return np.take_along_axis(dd, o, -1), np.take_along_axis(jj, o, -1)


def _knn_with_ties(tree, Q: np.ndarray, k: int, n0: int) -> np.ndarray:
    """The ``k`` nearest tree points of every row of ``Q``, ties broken by data order.

    One batched KD-tree query for ``k + 1`` neighbours; only the rows whose ``k``-th and
    ``k + 1``-th distances tie (rare with continuous covariates, common with duplicated rows)
    are re-queried for every point within the tied radius, so the tie rule is exact without a
    dense distance matrix.
    """
    kq = min(n0, k + 1)
    dd, jj = tree.query(Q, k=kq, workers=-1)
    dd, jj = dd.reshape(Q.shape[0], kq), jj.reshape(Q.shape[0], kq)
    ref = dd[:, k - 1 : k] if kq > k else dd[:, -1:]
    dd, jj = _ordered(dd, jj, ref)
    out = jj[:, :k].copy()
    if kq > k:
        kth = _tie_key(dd[:, k - 1], ref[:, 0])
        tied = np.flatnonzero(_tie_key(dd[:, k], ref[:, 0]) <= kth)
        for i in tied:
            r = dd[i, k - 1]
            cand = np.asarray(tree.query_ball_point(Q[i], r * (1 + 1e-8) + 1e-12), dtype=np.int64)
            cd = np.sqrt(((tree.data[cand] - Q[i]) ** 2).sum(axis=1))
            _, cj = _ordered(cd[None, :], cand[None, :], np.array([[r]]))
            out[i] = cj[0, :k]
    return out


def _nn_covariates(Z, is_t, t_order, ratio, replace):
    """Greedy NN on Euclidean distance of (already transformed) covariates, KD-tree search.

    Ties go to the control that comes first in the data, as in MatchIt's ``nn_matchC``. With
    replacement every treated unit simply takes its ``ratio`` nearest controls: one batched
    query. The tree uses sliding-midpoint splits (``balanced_tree=False``), several times
    faster to build and query than median splits on dummy-coded covariates.
    """
    from scipy.spatial import cKDTree

    t_pos = np.flatnonzero(is_t)
    c_pos = np.flatnonzero(~is_t)
    n0 = c_pos.size
    mm = np.full((t_pos.size, ratio), -1, dtype=np.int64)
    if n0 == 0 or t_pos.size == 0:
        return mm
    tree = cKDTree(Z[c_pos], balanced_tree=False, compact_nodes=False)
    row_of = {int(p): k for k, p in enumerate(t_pos)}

    if replace:
        take = min(ratio, n0)
        mm[:, :take] = c_pos[_knn_with_ties(tree, Z[t_pos], take, n0)]
        return mm
    # Greedy without replacement. The first candidates of every treated unit come from one
    # batched query; a unit whose listed controls are all taken, or whose nearest free one may
    # tie with controls beyond the list, queries the tree again (growing k).
    kq = min(n0, 8 + 2 * ratio)
    D, J = tree.query(Z[t_pos], k=kq, workers=-1)
    D, J = D.reshape(t_pos.size, kq), J.reshape(t_pos.size, kq)
    used = np.zeros(n0, dtype=bool)
    left = n0
    for r in range(ratio):
        for i in t_order:
            if left == 0:
                return mm
            row = row_of[int(i)]
            dd, jj, k = D[row], J[row], kq
            ok = ~used[jj]
            while not ok.any() and k < n0:
                k = min(n0, k * 8)
                dd, jj = tree.query(Z[i], k=k)
                dd, jj = np.atleast_1d(dd), np.atleast_1d(jj)
                ok = ~used[jj]
            if not ok.any():
                continue
            best = dd[ok].min()
            if k < n0 and _tie_key(dd[-1], best) <= _tie_key(best, best):
                # the nearest free control may tie with controls beyond the k listed
                jj = np.asarray(
                    tree.query_ball_point(Z[i], best * (1 + 1e-8) + 1e-12), dtype=np.int64
                )
                dd = np.sqrt(((tree.data[jj] - Z[i]) ** 2).sum(axis=1))
                ok = ~used[jj]
            dd, jj = _ordered(dd[ok], jj[ok], best)
            j = int(jj[0])
            used[j] = True
            left -= 1
            mm[row, r] = c_pos[j]
    return mm


def _mahalanobis_transform(X: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """Rotate covariates so Euclidean distance = Mahalanobis distance with the pooled
    within-group covariance (MatchIt's ``distance = "mahalanobis"``)."""
    keep = np.ptp(X, axis=0) > math.sqrt(EPS) if X.shape[1] else np.zeros(0, bool)
    X = X[:, keep]
    if X.shape[1] == 0:
        raise CertkitError("every covariate is constant: there is nothing to match on")
    centered = X.copy()
    for g in (0, 1):
        m = treat == g
        centered[m] -= X[m].mean(axis=0)
    cov = centered.T @ centered / (X.shape[0] - 2)
    inv = np.linalg.pinv(cov)
    vals, vecs = np.linalg.eigh((inv + inv.T) / 2)
    root = vecs * np.sqrt(np.clip(vals, 0, None))
    return X @ root


# --------------------------------------------------------------------------------------------
# Weights, subclasses and balance statistics
# --------------------------------------------------------------------------------------------


def _weights_from_mm(mm: np.ndarray, t_pos: np.ndarray, treat: np.ndarray) -> np.ndarray:
    n = treat.size
    w = np.zeros(n)
    counts = (mm >= 0).sum(axis=1)
    has = counts > 0
    w[t_pos[has]] = 1.0
    r, c = np.nonzero(mm >= 0)
    np.add.at(w, mm[r, c], 1.0 / counts[r])
    ctrl = (treat == 0) & (w > 0)
    if ctrl.any():
        w[treat == 0] *= ctrl.sum() / w[treat == 0].sum()
    return w


def _weights_from_subclass(sub: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """ATT weights from subclass membership (-1 = not in a subclass), as MatchIt."""
    w = np.zeros(treat.size)
    ok = sub >= 0
    if not ok.any():
        return w
    k = sub.max() + 1
    nt = np.bincount(sub[ok & (treat == 1)], minlength=k)
    nc = np.bincount(sub[ok & (treat == 0)], minlength=k)
    i1 = ok & (treat == 1)
    i0 = ok & (treat == 0)
    w[i1] = 1.0
    w[i0] = nt[sub[i0]] / nc[sub[i0]]
    if w[i0].sum() > 0:
        w[i0] *= i0.sum() / w[i0].sum()
    return w


def _renumber(sub: np.ndarray) -> np.ndarray:
    """Subclass ids 0..K-1 in order of first appearance; -1 stays -1."""
    out = np.full(sub.size, -1, dtype=np.int64)
    ok = sub >= 0
    if ok.any():
        _, first, inv = np.unique(sub[ok], return_index=True, return_inverse=True)
        rank = np.argsort(np.argsort(first))
        out[ok] = rank[inv]
    return out


def _wmean(x, w):
    return float(np.sum(w * x) / np.sum(w))


def _wvar(x, w, binary):
    w = w / w.sum()
    m = np.sum(w * x)
    if binary:
        return float(m * (1 - m))
    return float(np.sum(w * (x - m) ** 2) / (1 - np.sum(w * w)))


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


def _pair_distance(x, treat, sub, mm, t_pos):
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


def _kept(treat, w):
    """Row positions of treated and of controls with a positive weight."""
    pos = w > 0
    return np.flatnonzero(pos & (treat == 1)), np.flatnonzero(pos & (treat == 0))


def _is_binary(x) -> bool:
    return bool(np.all((x == 0) | (x == 1)))


def _bal1var(
    x, treat, w, std, sub=None, mm=None, t_pos=None, pair=True, order=None, kept=None, binary=None
):
    """One row of MatchIt's balance table (standardized statistics).

    ``kept`` (from :func:`_kept`), ``binary`` and ``order`` (``argsort(x)``) may be passed in
    when the caller computes many rows on the same sample, to avoid recomputing them.
    """
    binary = _is_binary(x) if binary is None else binary
    k1, k0 = _kept(treat, w) if kept is None else kept
    mt, mc = _wmean(x[k1], w[k1]), _wmean(x[k0], w[k0])
    mdiff = mt - mc
    too_small = (k1.size < 2) and (k0.size < 2)
    smd = vr = em = ex = pd_ = math.nan
    if abs(mdiff) > math.sqrt(EPS):
        if not too_small:
            smd = mdiff / std if std > 0 else math.copysign(math.inf, mdiff)
            if pair:
                pd_ = _pair_distance(x, treat, sub, mm, t_pos)
                if abs(pd_) > 1e-8:
                    pd_ /= std
    else:
        smd = mdiff
        if pair:
            pd_ = _pair_distance(x, treat, sub, mm, t_pos)
    if binary:
        em = ex = abs(mdiff)
    elif not too_small:
        v1, v0 = _wvar(x[k1], w[k1], False), _wvar(x[k0], w[k0], False)
        # a covariate constant among the kept controls has no finite variance ratio
        vr = v1 / v0 if v0 > EPS * max(1.0, v1) else (math.inf if v1 > EPS else math.nan)
        em, ex = _ecdf(x, treat, w, order)
    return mt, mc, smd, vr, em, ex, pd_


def _smd_denominator(x, treat, binary=None):
    binary = _is_binary(x) if binary is None else binary
    xt = x[treat == 1]
    std = math.sqrt(_wvar(xt, np.ones(xt.size), binary))
    if not math.isfinite(std) or std < math.sqrt(EPS):
        # pooled SD, as MatchIt falls back to
        var = np.mean([_wvar(x[treat == g], np.ones((treat == g).sum()), binary) for g in (0, 1)])
        std = math.sqrt(var)
    return std


def _ess(w):
    w = w[w > 0]
    return float(w.sum() ** 2 / np.sum(w * w)) if w.size else 0.0


# --------------------------------------------------------------------------------------------
# Weighted regression with robust standard errors
# --------------------------------------------------------------------------------------------


def _wls(y, X, w, cluster=None, vcov="HC1"):
    """Weighted least squares; returns (beta, covariance). ``vcov`` in HC0..HC3 or cluster."""
    sw = np.sqrt(w)
    Xw = X * sw[:, None]
    beta, *_ = np.linalg.lstsq(Xw, y * sw, rcond=None)
    e = y - X @ beta
    bread = np.linalg.pinv(Xw.T @ Xw)
    n, k = X.shape
    score = X * (w * e)[:, None]
    if cluster is not None:
        _, g = np.unique(cluster, return_inverse=True)
        G = g.max() + 1
        u = np.zeros((G, k))
        np.add.at(u, g, score)
        meat = u.T @ u
        adj = G / (G - 1) * (n - 1) / (n - k)  # sandwich::vcovCL(type = "HC1")
        return beta, adj * bread @ meat @ bread
    h = np.einsum("ij,jk,ik->i", Xw, bread, Xw)
    if vcov == "HC0":
        s = np.ones(n)
    elif vcov == "HC1":
        s = np.full(n, n / (n - k))
    elif vcov == "HC2":
        s = 1 / (1 - h)
    elif vcov == "HC3":
        s = 1 / (1 - h) ** 2
    else:
        raise CertkitError(f"vcov must be HC0, HC1, HC2, HC3 or 'cluster'; got {vcov!r}")
    meat = (score * s[:, None]).T @ score
    return beta, bread @ meat @ bread


@dataclass
class ATTResult(ResultMixin):
    """Average treatment effect on the treated from a (matched) weighted regression."""

    estimate: float
    se: float
    ci: tuple[float, float]
    n: int
    n_treated: int
    n_control: int
    outcome: str
    vcov: str
    covariates: list[str] = field(default_factory=list)
    level: float = 0.95
    warnings: list[str] = field(default_factory=list)
    title: str = "ATT on the matched sample"

    @property
    def pvalue(self) -> float:
        """Two-sided p-value (normal approximation)."""
        return float(2 * stats.norm.sf(abs(self.estimate / self.se))) if self.se > 0 else math.nan

    def _header(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "standard errors": self.vcov,
            "regression covariates": ", ".join(self.covariates) or "none (difference in means)",
            "n (treated / control)": f"{self.n} ({self.n_treated} / {self.n_control})",
        }

    def to_polars(self) -> pl.DataFrame:
        """One-row tidy table: term, estimate, std_error, statistic, p_value, conf_low, conf_high, n."""
        return pl.DataFrame(
            {
                "term": ["ATT"],
                "outcome": [self.outcome],
                "estimate": [self.estimate],
                "std_error": [self.se],
                "statistic": [self.estimate / self.se if self.se > 0 else math.nan],
                "p_value": [self.pvalue],
                "conf_low": [self.ci[0]],
                "conf_high": [self.ci[1]],
                "n": [self.n],
            }
        )


def estimate_att(
    data: pl.DataFrame,
    *,
    treatment: str,
    outcome: str,
    covariates: list[str] | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    vcov: str = "HC1",
    level: float = 0.95,
) -> ATTResult:
    """ATT as the treatment coefficient of a weighted linear regression.

    ``lm(outcome ~ treatment + covariates, weights = weights)`` with robust standard errors:
    cluster-robust on ``cluster`` (``sandwich::vcovCL``, HC1 with the G/(G-1) correction) when a
    cluster column is given, else ``vcov`` in HC0, HC1, HC2 or HC3. Rows with zero weight are
    left out. Without covariates and with HC2 this is the difference in means with Neyman's SE.
    """
    table = "data"
    t = _treatment_vector(data, treatment, table)
    if outcome not in data.columns:
        raise CertkitError(f"{table}: outcome column {outcome!r} not found")
    y = data[outcome].cast(pl.Float64, strict=False).to_numpy()
    if np.isnan(y).any() or data[outcome].null_count():
        raise CertkitError(
            f"{table}.{outcome}: {int(np.isnan(y).sum())} missing outcome value(s); "
            "drop those rows first"
        )
    w = (
        np.ones(data.height)
        if weights is None
        else data[weights].cast(pl.Float64).fill_null(0).to_numpy()
    )
    keep = w > 0
    covariates = list(covariates or [])
    d = _design(data.filter(pl.Series(keep)), covariates, table) if covariates else None
    X = np.column_stack([np.ones(keep.sum()), t[keep].astype(float)])
    if d is not None and d.model.shape[1]:
        X = np.column_stack([X, d.model])
    cl = data[cluster].to_numpy()[keep] if cluster is not None else None
    beta, V = _wls(y[keep], X, w[keep], cl, vcov)
    se = float(math.sqrt(V[1, 1]))
    z = stats.norm.ppf(0.5 + level / 2)
    est = float(beta[1])
    label = f"cluster-robust on {cluster} (HC1, G/(G-1))" if cluster else vcov
    return ATTResult(
        estimate=est,
        se=se,
        ci=(est - z * se, est + z * se),
        n=int(keep.sum()),
        n_treated=int((t[keep] == 1).sum()),
        n_control=int((t[keep] == 0).sum()),
        outcome=outcome,
        vcov=label,
        covariates=covariates,
        level=level,
    )


# --------------------------------------------------------------------------------------------
# Sensitivity analysis
# --------------------------------------------------------------------------------------------


def rosenbaum_bounds(
    differences, gammas=(1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0), alpha: float = 0.05
) -> pl.DataFrame:
    """Rosenbaum bounds for Wilcoxon's signed-rank test on matched-pair differences.

    For each ``gamma`` (odds that one unit of a pair is treated rather than the other may differ
    by up to this factor because of an unobserved confounder) the upper bound on the one-sided
    p-value for "no effect" against "treated > control" is computed with the large-sample normal
    approximation (Rosenbaum 2002, sec. 4.3; as ``DOS2::senWilcox``). Zero differences are
    dropped and ties get average ranks. At ``gamma = 1`` it equals ``wilcox.test(exact = FALSE,
    correct = FALSE)``. For effects expected to be negative pass ``-differences``.

    Returns a table with ``gamma``, ``p_upper``, ``significant`` (p_upper < alpha) and, as
    attribute-like extra column, ``critical_gamma`` (the same on every row): the smallest gamma
    at which the bound reaches ``alpha``.
    """
    d = np.asarray(differences, dtype=float)
    d = d[np.isfinite(d) & (d != 0)]
    if d.size == 0:
        raise CertkitError("rosenbaum_bounds needs at least one non-zero pair difference")
    ranks = stats.rankdata(np.abs(d))
    t_plus = ranks[d > 0].sum()

    def p_upper(g: float) -> float:
        p = g / (1 + g)
        mean = p * ranks.sum()
        var = p * (1 - p) * np.sum(ranks**2)
        return float(stats.norm.sf((t_plus - mean) / math.sqrt(var)))

    crit = _critical_gamma(p_upper, alpha)
    gammas = [float(g) for g in gammas]
    return pl.DataFrame(
        {
            "gamma": gammas,
            "p_upper": [p_upper(g) for g in gammas],
            "significant": [p_upper(g) < alpha for g in gammas],
            "critical_gamma": [crit] * len(gammas),
            "n_pairs": [int(d.size)] * len(gammas),
        }
    )


def _critical_gamma(p_upper, alpha: float, hi: float = 1000.0) -> float:
    if p_upper(1.0) >= alpha:
        return 1.0
    if p_upper(hi) < alpha:
        return math.inf
    lo = 1.0
    for _ in range(80):
        mid = math.sqrt(lo * hi)
        if p_upper(mid) < alpha:
            lo = mid
        else:
            hi = mid
    return hi


def e_value(estimate: float, *, sd: float | None = None, ci: tuple[float, float] | None = None):
    """E-value (VanderWeele & Ding 2017) for a risk ratio or a standardized mean difference.

    With ``sd`` the estimate is a mean difference: it is standardized (d = estimate / sd) and
    turned into an approximate risk ratio RR = exp(0.91 d). Without ``sd`` the estimate is a
    risk ratio. Returns ``(e_point, e_ci)``: the minimum strength of association (risk-ratio
    scale) an unmeasured confounder would need with both treatment and outcome to explain away
    the estimate, and its confidence limit closest to the null (1 when the CI includes the null).
    """

    def to_rr(v):
        return math.exp(0.91 * v / sd) if sd is not None else v

    def ev(rr):
        rr = 1 / rr if rr < 1 else rr
        return rr + math.sqrt(rr * (rr - 1))

    if sd is not None and sd <= 0:
        raise CertkitError("e_value: sd must be positive")
    rr = to_rr(estimate)
    if rr <= 0:
        raise CertkitError("e_value: a risk ratio must be positive")
    e_ci = None
    if ci is not None:
        lo, hi = sorted(to_rr(c) for c in ci)
        e_ci = 1.0 if lo <= 1 <= hi else ev(lo if rr > 1 else hi)
    return ev(rr), e_ci


# --------------------------------------------------------------------------------------------
# match()
# --------------------------------------------------------------------------------------------


class MatchResult(ResultMixin):
    """Outcome of :func:`match`: matched sample, weights, balance and effect estimates."""

    title = "Matched cohorts"

    def __init__(self, **kw):
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
                _ess(np.ones(m.sum())),
                float(m.sum()),
                _ess(w),
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
            names = list(self.design.balance_names)
            cols = [self.design.balance[:, j] for j in range(len(names))]
            if self.distance is not None and self.distance_kind in ("logit", "probit"):
                names.insert(0, "distance")
                cols.insert(0, self.distance)
            ones = np.ones(self.treat.size)
            kept_all, kept_matched = _kept(self.treat, ones), _kept(self.treat, self.weights)
            recs = []
            for name, x in zip(names, cols, strict=True):
                binary = _is_binary(x)
                std = _smd_denominator(x, self.treat, binary)
                order = None if binary else np.argsort(x)  # one sort for both samples
                for sample in ("all", "matched"):
                    if sample == "all":
                        vals = _bal1var(
                            x,
                            self.treat,
                            ones,
                            std,
                            pair=False,
                            order=order,
                            kept=kept_all,
                            binary=binary,
                        )
                    else:
                        vals = _bal1var(
                            x,
                            self.treat,
                            self.weights,
                            std,
                            sub=self.subclass,
                            mm=self.match_matrix,
                            t_pos=self.t_pos,
                            pair=True,
                            order=order,
                            kept=kept_matched,
                            binary=binary,
                        )
                    recs.append((name, sample, *vals))
            self._balance = pl.DataFrame(
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
        self, outcome: str, covariates: list[str] | None = None, level: float = 0.95
    ) -> ATTResult:
        """ATT on the matched data: weighted regression of ``outcome`` on the treatment (and
        ``covariates``) with pair-clustered SEs (HC1 with G/(G-1), as ``sandwich::vcovCL``), or
        HC3 after matching with replacement or subclassification (MatchIt's vignette advice)."""
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

    def sensitivity(self, outcome: str, gammas=(1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)):
        """Rosenbaum bounds (Wilcoxon signed rank) for the matched sets on ``outcome``; the
        direction follows the sign of the mean pair difference."""
        d = self.pair_differences(outcome)
        return rosenbaum_bounds(d if d.mean() >= 0 else -d, gammas)

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
            "treated (all / matched)": f"{int(self.treat.sum())} / {int(m['treated'][0])}",
            "control (all / matched)": f"{int((self.treat == 0).sum())} / {int(m['control'][0])}",
        }

    def to_polars(self) -> pl.DataFrame:
        """The balance table (see :meth:`balance`)."""
        return self.balance()


def match(
    data: pl.DataFrame,
    *,
    treatment: str,
    covariates: list[str],
    method: str = "nearest",
    distance: str = "logit",
    ratio: int = 1,
    replace: bool = False,
    caliper: float | None = None,
    std_caliper: bool = True,
    exact: list[str] | str | None = None,
    order: str = "largest",
    seed: int | None = None,
    subclasses: int = 6,
) -> MatchResult:
    """Match treated units to comparable controls.

    Parameters
    ----------
    data
        One row per unit (polars). Never modified.
    treatment
        0/1 (or boolean) column: 1 = treated (e.g. certified).
    covariates
        Columns to balance. Text/categorical columns are expanded to level indicators.
    method
        ``"nearest"`` (greedy nearest neighbour), ``"exact"``, ``"cem"`` (coarsened exact,
        Sturges bins) or ``"subclass"`` (propensity-score subclasses, ``subclasses`` of them).
    distance
        ``"logit"`` / ``"probit"`` propensity score, or ``"mahalanobis"`` / ``"euclidean"``
        on the covariates (nearest only).
    ratio, replace
        Controls per treated unit; reuse controls or not.
    caliper, std_caliper
        Maximum propensity-score distance, in standard deviations of the score when
        ``std_caliper`` (default), else in raw units.
    exact
        Columns that must match exactly (nearest matching within their strata).
    order
        Order in which treated units pick controls: ``"largest"`` score first (MatchIt's
        default), ``"smallest"``, ``"data"`` or ``"random"`` (uses ``seed``).

    Returns
    -------
    MatchResult
    """
    table = "data"
    if not isinstance(data, pl.DataFrame):
        raise CertkitError("match() expects a polars DataFrame")
    if method not in METHODS:
        raise CertkitError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if distance not in DISTANCES:
        raise CertkitError(f"distance must be one of {', '.join(DISTANCES)}; got {distance!r}")
    if order not in ORDERS:
        raise CertkitError(f"order must be one of {', '.join(ORDERS)}; got {order!r}")
    if not isinstance(ratio, int | np.integer) or ratio < 1:
        raise CertkitError(f"ratio must be a positive integer; got {ratio!r}")
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    if not covariates:
        raise CertkitError("match() needs at least one covariate")
    exact = [exact] if isinstance(exact, str) else list(exact or [])
    if caliper is not None and (not np.isfinite(caliper) or caliper <= 0):
        raise CertkitError(f"caliper must be a positive number; got {caliper!r}")
    if caliper is not None and distance in ("mahalanobis", "euclidean"):
        raise CertkitError(
            "a caliper applies to the propensity score; use distance='logit' or 'probit' with "
            "a caliper, or drop the caliper for covariate distances"
        )
    if method != "nearest" and distance in ("mahalanobis", "euclidean"):
        raise CertkitError(f"distance={distance!r} is only available with method='nearest'")

    treat = _treatment_vector(data, treatment, table)
    n1, n0 = int(treat.sum()), int((treat == 0).sum())
    if n1 == 0 or n0 == 0:
        raise CertkitError(
            f"{table}.{treatment}: need both treated and control units "
            f"(found {n1} treated, {n0} control)"
        )
    design = _design(data, covariates, table)
    notes: list[str] = []

    ps = None
    coef = None
    if distance in ("logit", "probit") and (method in ("nearest", "subclass")):
        ps, coef, converged = _fit_glm(design.model, treat, distance)
        extreme = (ps < 10 * EPS) | (ps > 1 - 10 * EPS)  # R's glm warning rule
        if not converged or extreme.any():
            _warn(
                f"the propensity model shows (quasi-)separation: {int(extreme.sum())} unit(s) "
                "have fitted probabilities of 0 or 1"
                + ("" if converged else " and the fit did not converge")
                + "; some covariate perfectly predicts certification. Drop or coarsen it, or "
                "match exactly on it.",
                notes,
            )
        lo, hi = ps[treat == 0].min(), ps[treat == 0].max()
        outside = int(((ps[treat == 1] < lo) | (ps[treat == 1] > hi)).sum())
        if outside:
            _warn(
                f"limited overlap: {outside} of {n1} treated unit(s) have propensity scores "
                f"outside the controls' range [{lo:.3g}, {hi:.3g}]; their matches will be poor "
                "(consider a caliper).",
                notes,
            )
    elif distance in ("logit", "probit") and method in ("exact", "cem"):
        ps = None

    t_pos = np.flatnonzero(treat == 1)
    mm = None
    sub = None
    cal = None
    if method == "nearest":
        if not replace and n0 < ratio * n1:
            _warn(
                f"too few controls: {n0} controls for {n1} treated at ratio {ratio}:1 without "
                f"replacement; {max(0, n1 * ratio - n0)} requested matches cannot be made. "
                "Lower the ratio or match with replacement.",
                notes,
            )
        if ps is not None and caliper is not None:
            cal = caliper * float(np.std(ps, ddof=1)) if std_caliper else float(caliper)
        strata = _group_codes(_design(data, exact, table).codes) if exact else None
        rng = np.random.default_rng(seed)
        Z = None
        if distance == "mahalanobis":
            Z = _mahalanobis_transform(design.model, treat)
        elif distance == "euclidean":
            Z = design.model
        mm = np.full((n1, ratio), -1, dtype=np.int64)
        groups = [np.arange(treat.size)] if strata is None else _split(strata)
        row_of = np.empty(treat.size, dtype=np.int64)
        row_of[t_pos] = np.arange(n1)
        for idx in groups:
            tt = treat[idx] == 1
            if not tt.any() or tt.all():
                continue
            t_local = np.flatnonzero(tt)
            eff_order = (
                order
                if (ps is not None and not replace)
                else ("random" if order == "random" else "data")
            )
            if eff_order == "largest":
                t_order = t_local[np.argsort(-ps[idx][t_local], kind="stable")]
            elif eff_order == "smallest":
                t_order = t_local[np.argsort(ps[idx][t_local], kind="stable")]
            elif eff_order == "random":
                t_order = rng.permutation(t_local)
            else:
                t_order = t_local
            if Z is None:
                local = _nn_vector(ps[idx], tt, t_order.tolist(), ratio, replace, cal)
            else:
                local = _nn_covariates(Z[idx], tt, t_order, ratio, replace)
            glob = np.where(local >= 0, idx[np.clip(local, 0, None)], -1)
            mm[row_of[idx[t_local]]] = glob
        weights = _weights_from_mm(mm, t_pos, treat)
        matched_t = (mm >= 0).any(axis=1)
        if not replace:
            sub = np.full(treat.size, -1, dtype=np.int64)
            ids = np.cumsum(matched_t) - 1
            sub[t_pos[matched_t]] = ids[matched_t]
            r, c = np.nonzero(mm >= 0)
            sub[mm[r, c]] = ids[r]
        n_lost = int((~matched_t).sum())
        if cal is not None and n_lost > 0.5 * n1:
            gaps = _nearest_gaps(ps, treat)
            wider = float(np.quantile(gaps, 0.9))
            if std_caliper:
                wider /= float(np.std(ps, ddof=1))
            _warn(
                f"the caliper dropped {n_lost} of {n1} treated units (more than half); the "
                f"estimate then describes only the remaining {n1 - n_lost}. A caliper of about "
                f"{_round_up(wider)}{' SD' if std_caliper else ''} would keep 90% of them.",
                notes,
            )
        elif n_lost:
            _warn(f"{n_lost} of {n1} treated unit(s) found no match and are dropped.", notes)
    elif method in ("exact", "cem"):
        codes = design.codes if method == "exact" else _cem_codes(data, covariates, design)
        strata = _group_codes(codes)
        has_t = np.bincount(strata[treat == 1], minlength=strata.max() + 1) > 0
        has_c = np.bincount(strata[treat == 0], minlength=strata.max() + 1) > 0
        sub = np.where((has_t & has_c)[strata], strata, -1)
        sub = _renumber(sub)
        weights = _weights_from_subclass(sub, treat)
        lost = int(((sub < 0) & (treat == 1)).sum())
        if lost == n1:
            raise CertkitError(
                f"no treated unit has an {method} match: every stratum lacks controls. "
                "Use fewer covariates or coarser ones."
            )
        if lost:
            _warn(
                f"{lost} of {n1} treated unit(s) have no control with the same "
                f"{'values' if method == 'exact' else 'coarsened values'} and are dropped.",
                notes,
            )
    else:  # subclass
        if ps is None:
            raise CertkitError("method='subclass' needs a propensity score distance")
        q = np.quantile(ps[treat == 1], np.linspace(0, 1, subclasses + 1))
        cls = np.clip(np.searchsorted(q, ps, side="right"), 1, subclasses)
        sub = _renumber(_fill_empty_subclasses(cls - 1, treat))
        weights = _weights_from_subclass(sub, treat)

    if (weights[treat == 0] > 0).sum() == 0:
        raise CertkitError("no control unit was matched; loosen the caliper or the exact terms")

    return MatchResult(
        data=data,
        treatment=treatment,
        covariates=covariates,
        method=method,
        distance_kind=distance,
        distance=ps,
        coef=coef,
        ratio=ratio,
        replace=replace,
        caliper=cal,
        treat=treat,
        t_pos=t_pos,
        weights=weights,
        subclass=sub,
        match_matrix=mm,
        design=design,
        warnings=notes,
        _balance=None,
    )


def _split(strata: np.ndarray) -> list[np.ndarray]:
    o = np.argsort(strata, kind="stable")
    cuts = np.flatnonzero(np.diff(strata[o])) + 1
    return np.split(o, cuts)


def _nearest_gaps(ps, treat):
    c = np.sort(ps[treat == 0])
    t = ps[treat == 1]
    j = np.searchsorted(c, t)
    left = np.abs(t - c[np.clip(j - 1, 0, c.size - 1)])
    right = np.abs(c[np.clip(j, 0, c.size - 1)] - t)
    return np.minimum(left, right)


def _round_up(x: float) -> str:
    if x <= 0:
        return "0"
    mag = 10 ** math.floor(math.log10(x))
    return f"{math.ceil(x / mag * 10) / 10 * mag:.2g}"


def _cem_codes(data, covariates, design) -> np.ndarray:
    """Coarsen numeric covariates into Sturges equal-width bins (MatchIt ``method = "cem"``)."""
    n = data.height
    out = []
    for j, c in enumerate(covariates):
        if design.numeric[j]:
            x = data[c].cast(pl.Float64).to_numpy()
            bins = math.ceil(math.log2(n) + 1)
            breaks = np.linspace(x.min(), x.max(), bins + 1)
            breaks[0], breaks[-1] = -np.inf, np.inf
            out.append(np.searchsorted(breaks, x, side="right"))
        else:
            out.append(design.codes[:, j])
    return np.column_stack(out)


def _fill_empty_subclasses(cls: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """Merge propensity subclasses that lack treated or control units into a neighbour."""
    cls = cls.copy()
    while True:
        labels = np.unique(cls)
        bad = [
            s
            for s in labels
            if not ((cls == s) & (treat == 1)).any() or not ((cls == s) & (treat == 0)).any()
        ]
        if not bad or labels.size == 1:
            return cls
        s = bad[0]
        k = int(np.searchsorted(labels, s))
        target = labels[k - 1] if k > 0 else labels[k + 1]
        cls[cls == s] = target


# --------------------------------------------------------------------------------------------
# Matched difference-in-differences (rolling entry)
# --------------------------------------------------------------------------------------------


@dataclass
class MatchedDiDResult(ResultMixin):
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
    sensitivity: dict
    warnings: list[str] = field(default_factory=list)
    title: str = "Matched difference-in-differences (rolling entry)"

    def _header(self) -> dict[str, object]:
        lo, hi = self.overall_ci
        crit = self.sensitivity.get("critical_gamma")
        return {
            "outcome": self.outcome,
            "overall ATT (post periods)": f"{self.overall_att:.4g} (SE {self.overall_se:.4g}; "
            f"95% CI {lo:.4g} to {hi:.4g})",
            "matched sets / treated / distinct controls": f"{self.n_pairs} / {self.n_treated} / "
            f"{self.n_controls}",
            "window": f"{self.pre_periods} periods before, {self.post_periods} after",
            "sensitivity": f"Rosenbaum critical gamma {crit:.3g}; E-value "
            f"{self.sensitivity.get('e_value', math.nan):.3g}"
            if crit is not None
            else "n/a",
        }

    def to_polars(self) -> pl.DataFrame:
        """Per event time: estimate, std_error, conf_low, conf_high, n_pairs."""
        return self.event_effects

    def balance(self) -> pl.DataFrame:
        """Balance of the pre-period matching variables before and after matching."""
        return self.balance_table

    def plot(self):
        """Event-study chart (Altair): estimates with 95% intervals by event time."""
        from certkit import charts

        return charts.event_study(
            self.event_effects,
            lower="conf_low",
            upper="conf_high",
            title=self.title,
            y_title=f"effect on {self.outcome}",
        )


def matched_did(
    panel: pl.DataFrame,
    *,
    outcome: str,
    covariates: list[str] | None = None,
    pre_periods: int = 3,
    post_periods: int = 6,
    ratio: int = 1,
    caliper: float | None = 0.2,
    distance: str = "logit",
    unit: str = "engineer_id",
    time: str = "period_index",
    cohort: str = "cohort",
    level: float = 0.95,
) -> MatchedDiDResult:
    """Match certified engineers to not-yet-certified peers, then difference-in-differences.

    Rolling entry: for every certification period ``g`` the engineers certified in ``g`` are
    matched (within ``g``, without replacement) to engineers not certified by ``g`` (never, or
    later), on ``covariates`` measured in period ``g - 1`` and on the outcome's mean over periods
    ``g - pre_periods .. g - 2``. The DiD baseline is period ``g - 1``, which is *not* used for
    matching: matching on the baseline itself would pick peers with a lucky baseline and bias
    the DiD through regression to the mean (Daw & Hatfield 2018). The pre-period event times
    are matched on, so they are balance checks rather than placebo tests. One propensity model is
    fitted on the stacked risk sets. The pair DiD at event time ``e`` compares the change of the
    treated engineer from ``g - 1`` to ``g + e`` with the change of the matched peer(s); a peer
    who certifies later stops counting from that period on. Event-time effects are averages over
    matched sets; the overall ATT averages each set's post-period (``e = 0..post_periods``)
    DiDs and then the sets. SEs treat matched sets as clusters (standard deviation over sets /
    sqrt(number of sets)); a peer reused for several cohorts makes them slightly optimistic.
    Reported with Rosenbaum bounds on the set-level DiDs and an E-value.
    """
    table = "panel"
    covariates = (
        ["role", "level", "platform", "tenure_months"] if covariates is None else list(covariates)
    )
    for c in [unit, time, cohort, outcome, *covariates]:
        if c not in panel.columns:
            raise CertkitError(f"{table}: column {c!r} not found")
    if pre_periods < 2 or post_periods < 0:
        raise CertkitError("pre_periods must be >= 2 and post_periods >= 0")
    notes: list[str] = []
    p = panel.select(unit, time, cohort, outcome, *covariates).with_columns(
        pl.col(outcome).cast(pl.Float64)
    )
    cohorts = sorted(c for c in p[cohort].unique().to_list() if c is not None and c > 0)
    if not cohorts:
        raise CertkitError(f"{table}.{cohort}: no certified engineers (all cohorts are 0)")
    # outcome wide by period for fast lookups
    units = p[unit].unique().sort()
    uidx = {u: i for i, u in enumerate(units.to_list())}
    T = int(p[time].max())
    Y = np.full((units.len(), T + 1), np.nan)
    ui = np.array([uidx[u] for u in p[unit].to_list()])
    ti = p[time].to_numpy().astype(int)
    Y[ui, ti] = p[outcome].fill_null(np.nan).to_numpy()
    coh = np.zeros(units.len(), dtype=np.int64)
    coh[ui] = p[cohort].fill_null(0).to_numpy()

    stacks = []
    for g in cohorts:
        lo = g - pre_periods
        if lo < 1:
            continue
        window = Y[:, lo:g]
        complete = ~np.isnan(window).any(axis=1)
        is_t = (coh == g) & complete
        is_c = ((coh == 0) | (coh > g)) & complete
        if not is_t.any() or not is_c.any():
            continue
        at = p.filter(pl.col(time) == g - 1).select(unit, *covariates)
        ids = units.filter(pl.Series(is_t | is_c))
        frame = (
            pl.DataFrame({unit: ids})
            .join(at, on=unit, how="inner")
            .with_columns(pl.lit(g).alias("_g"))
        )
        order = [uidx[u] for u in frame[unit].to_list()]
        frame = frame.with_columns(
            pl.Series("_treat", is_t[order].astype(np.int8)),
            pl.Series("_pre_mean", window[order][:, :-1].mean(axis=1)),
        )
        stacks.append(frame)
    if not stacks:
        raise CertkitError(
            f"no certification cohort has {pre_periods} observed pre-period(s) with both "
            "certified engineers and not-yet-certified peers; lower pre_periods"
        )
    stack = pl.concat(stacks, how="vertical_relaxed")
    n_t_all = int((coh > 0).sum())
    n_t_used = int(stack["_treat"].sum())
    if n_t_used < n_t_all:
        _warn(
            f"{n_t_all - n_t_used} of {n_t_all} certified engineer(s) lack {pre_periods} "
            f"complete pre-certification period(s) of {outcome} and are left out.",
            notes,
        )
    match_vars = [*covariates, "_pre_mean"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = match(
            stack,
            treatment="_treat",
            covariates=match_vars,
            distance=distance,
            ratio=ratio,
            caliper=caliper,
            exact=["_g"],
        )
    for w in caught:
        if issubclass(w.category, CertkitWarning):
            _warn(str(w.message), notes)
    bal = m.balance().with_columns(pl.col("term").replace({"_pre_mean": f"{outcome} (pre mean)"}))

    # pair-level DiDs by event time
    sets = m.match_matrix
    t_rows = m.t_pos
    st_units = np.array([uidx[u] for u in stack[unit].to_list()])
    st_g = stack["_g"].to_numpy()
    events = np.arange(-pre_periods, post_periods + 1)
    n_sets = t_rows.size
    D = np.full((n_sets, events.size), np.nan)
    for k, ev in enumerate(events):
        tu = st_units[t_rows]
        g = st_g[t_rows]
        tt = g + ev
        valid_t = (tt >= 1) & (tt <= T)
        tt_c = np.clip(tt, 0, T)
        dt = Y[tu, tt_c] - Y[tu, g - 1]
        ctrl = np.full(sets.shape, np.nan)
        for r in range(sets.shape[1]):
            ok = sets[:, r] >= 0
            cu = np.where(ok, st_units[np.clip(sets[:, r], 0, None)], 0)
            still_control = (coh[cu] == 0) | (coh[cu] > tt)
            val = Y[cu, tt_c] - Y[cu, g - 1]
            ctrl[:, r] = np.where(ok & still_control, val, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            dc = np.nanmean(ctrl, axis=1)
        D[:, k] = np.where(valid_t, dt - dc, np.nan)
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for k, ev in enumerate(events):
        col = D[:, k]
        col = col[~np.isnan(col)]
        if ev == -1 or col.size < 2:
            est = 0.0 if ev == -1 else (float(col.mean()) if col.size else math.nan)
            se = 0.0 if ev == -1 else math.nan
        else:
            est = float(col.mean())
            se = float(col.std(ddof=1) / math.sqrt(col.size))
        rows.append((int(ev), est, se, est - z * se, est + z * se, int(col.size)))
    effects = pl.DataFrame(
        rows,
        schema=["event_time", "estimate", "std_error", "conf_low", "conf_high", "n_pairs"],
        orient="row",
    )
    post = D[:, events >= 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_set = np.nanmean(post, axis=1)
    per_set = per_set[~np.isnan(per_set)]
    if per_set.size < 2:
        raise CertkitError("fewer than two matched sets have post-period outcomes")
    att = float(per_set.mean())
    se = float(per_set.std(ddof=1) / math.sqrt(per_set.size))
    sens_tab = rosenbaum_bounds(per_set if att >= 0 else -per_set)
    sd_y = float(np.nanstd(Y[st_units[t_rows]][:, :], ddof=1)) if n_sets else math.nan
    ev_point, ev_ci = (
        e_value(att, sd=sd_y, ci=(att - z * se, att + z * se)) if sd_y > 0 else (math.nan, None)
    )
    sensitivity = {
        "method": "Rosenbaum bounds, Wilcoxon signed-rank on matched-set DiDs; E-value on the "
        "standardized ATT",
        "critical_gamma": float(sens_tab["critical_gamma"][0]),
        "table": sens_tab.drop("critical_gamma"),
        "e_value": ev_point,
        "e_value_ci": ev_ci,
    }
    pairs = pl.DataFrame(
        {
            "set": np.arange(n_sets),
            "cohort": st_g[t_rows],
            "matched": (sets >= 0).any(axis=1),
        }
    )
    used_controls = np.unique(st_units[sets[sets >= 0]]).size
    return MatchedDiDResult(
        outcome=outcome,
        event_effects=effects,
        overall_att=att,
        overall_se=se,
        overall_ci=(att - z * se, att + z * se),
        n_pairs=int(per_set.size),
        n_treated=int(np.unique(st_units[t_rows]).size),
        n_controls=int(used_controls),
        pre_periods=pre_periods,
        post_periods=post_periods,
        balance_table=bal,
        pairs=pairs,
        sensitivity=sensitivity,
        warnings=notes,
    )
