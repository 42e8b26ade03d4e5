"""Greedy nearest-neighbour matching on a propensity score or on covariates (MatchIt rules)."""

from __future__ import annotations

import math

import numpy as np

from certkit.errors import CertkitError
from certkit.stats.glm import EPS


def _find(parent: list[int], x: int) -> int:
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:
        parent[x], x = root, parent[x]
    return root


def nn_vector(d, is_t, t_order, ratio, replace, caliper):
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


def nn_covariates(Z, is_t, t_order, ratio, replace):
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


def mahalanobis_transform(X: np.ndarray, treat: np.ndarray) -> np.ndarray:
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


def nearest_gaps(ps, treat):
    c = np.sort(ps[treat == 0])
    t = ps[treat == 1]
    j = np.searchsorted(c, t)
    left = np.abs(t - c[np.clip(j - 1, 0, c.size - 1)])
    right = np.abs(c[np.clip(j, 0, c.size - 1)] - t)
    return np.minimum(left, right)


def round_up(x: float) -> str:
    if x <= 0:
        return "0"
    mag = 10 ** math.floor(math.log10(x))
    return f"{math.ceil(x / mag * 10) / 10 * mag:.2g}"
