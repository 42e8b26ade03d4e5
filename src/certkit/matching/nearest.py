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
    floating-point noise (1e-10 relative) compare equal and the visiting order decides."""
    return np.round(dd / (1 + ref), 10)


def visit_rank(pos: np.ndarray, t_pos_sorted: np.ndarray) -> np.ndarray:
    """When MatchIt 4.7 visits a unit searching outward from a treated unit.

    ``pos`` are positions in the stable sort of the first transformed covariate, the treated
    unit sits at ``t_pos_sorted``. MatchIt's ``find_control_mahcovs`` steps left and right
    alternately (left first), so offset ``d`` on the left is visit ``2d``, on the right
    ``2d + 1``. Among equally distant controls the one visited *last* wins.
    """
    off = np.abs(pos - t_pos_sorted)
    return 2 * off + (pos > t_pos_sorted)


def _ordered(dd: np.ndarray, jj: np.ndarray, ref, vis) -> tuple[np.ndarray, np.ndarray]:
    """Sort candidates by (rounded distance, latest visit first), row-wise."""
    o = np.lexsort((-vis, _tie_key(dd, ref)), axis=-1)
    return np.take_along_axis(dd, o, -1), np.take_along_axis(jj, o, -1)


def _with_ties(tree, q, dd, jj, k, n0):
    """Candidates ``(dd, jj)`` of one query point extended by every control tied with the
    ``k``-th nearest (a ball query), so the tie rule sees all of them."""
    if dd.size < n0 and _tie_key(dd[-1], dd[k - 1]) <= _tie_key(dd[k - 1], dd[k - 1]):
        r = dd[k - 1]
        jj = np.asarray(tree.query_ball_point(q, r * (1 + 1e-8) + 1e-12), dtype=np.int64)
        dd = np.sqrt(((tree.data[jj] - q) ** 2).sum(axis=1))
    return dd, jj


def nn_covariates(Z, is_t, t_order, ratio, replace):
    """Greedy NN on Euclidean distance of (already transformed) covariates, KD-tree search,
    with MatchIt 4.7's choice among equally distant controls.

    MatchIt 4.7 (``nn_matchC_mahcovs``) sorts the units on the first transformed covariate and
    searches outward from each treated unit, alternating left and right; a control at the same
    distance as the best so far replaces it, so among tied controls the one visited last wins
    (:func:`visit_rank`). With replacement every treated unit takes its ``ratio`` nearest
    controls; without, treated units pick in ``t_order``, one control per round. The tree uses
    sliding-midpoint splits (``balanced_tree=False``), fast on dummy-coded covariates.
    """
    from scipy.spatial import cKDTree

    t_pos = np.flatnonzero(is_t)
    c_pos = np.flatnonzero(~is_t)
    n0 = c_pos.size
    mm = np.full((t_pos.size, ratio), -1, dtype=np.int64)
    if n0 == 0 or t_pos.size == 0:
        return mm
    o = np.argsort(Z[:, 0], kind="stable")  # R's order(): stable, ties in data order
    pos = np.empty(Z.shape[0], dtype=np.int64)
    pos[o] = np.arange(o.size)
    pos_c = pos[c_pos]
    tree = cKDTree(Z[c_pos], balanced_tree=False, compact_nodes=False)
    row_of = {int(p): k for k, p in enumerate(t_pos)}

    if replace:
        take = min(ratio, n0)
        kq = min(n0, take + 1)
        D, J = tree.query(Z[t_pos], k=kq, workers=-1)
        D, J = D.reshape(t_pos.size, kq), J.reshape(t_pos.size, kq)
        ref = D[:, :1]
        _, Js = _ordered(D, J, ref, visit_rank(pos_c[J], pos[t_pos][:, None]))
        mm[:, :take] = c_pos[Js[:, :take]]
        if kq > take:  # rows whose take-th distance ties with the next: all tied controls
            boundary = _tie_key(D[:, take - 1], ref[:, 0])
            for row in np.flatnonzero(_tie_key(D[:, take], ref[:, 0]) <= boundary):
                i = t_pos[row]
                dd, jj = _with_ties(tree, Z[i], D[row], J[row], take, n0)
                _, jj = _ordered(dd, jj, dd.min(), visit_rank(pos_c[jj], pos[i]))
                mm[row, :take] = c_pos[jj[:take]]
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
            dd, jj = dd[ok], jj[ok]
            _, jj = _ordered(dd, jj, best, visit_rank(pos_c[jj], pos[i]))
            j = int(jj[0])
            used[j] = True
            left -= 1
            mm[row, r] = c_pos[j]
    return mm


def distance_covariates(design) -> np.ndarray:
    """Covariates as MatchIt codes them for distances (``get_covs_matrix_for_dist``): numeric
    columns as they are, every level of a categorical as a 0/1 column divided by sqrt(2)."""
    cols = []
    for x, num in zip(design.raw, design.numeric, strict=True):
        if num:
            cols.append(np.asarray(x, dtype=float))
        else:
            levels = int(x.max()) + 1 if x.size else 0
            cols += [(x == j).astype(float) / math.sqrt(2) for j in range(levels)]
    n = design.model.shape[0]
    return np.column_stack(cols) if cols else np.empty((n, 0))


def pivoted_cholesky(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Upper pivoted Cholesky as LAPACK ``dpstf2`` with its default tolerance (R's
    ``chol(x, pivot = TRUE)``), including what it leaves behind when the matrix is singular.

    Returns ``(U, piv, rank)`` with ``U.T @ U == a[piv][:, piv]`` when ``rank == n``. When the
    matrix is rank deficient LAPACK stops after ``rank`` steps and the rows below keep the
    (pivoted) entries of ``a`` itself; R returns them as part of the factor and MatchIt uses
    the whole factor, so they are kept here as well.
    """
    n = a.shape[0]
    A = np.triu(np.array(a, dtype=float))
    piv = np.arange(n)
    if n == 0:
        return A, piv, 0
    pvt = int(np.argmax(np.diag(A)))
    ajj = A[pvt, pvt]
    if not ajj > 0:
        return A, piv, 0
    dstop = n * 2.0**-53 * ajj
    work = np.zeros(2 * n)
    rank = n
    for j in range(n):
        for i in range(j, n):
            if j > 0:
                work[i] += A[j - 1, i] ** 2
            work[n + i] = A[i, i] - work[i]
        if j > 0:
            pvt = j + int(np.argmax(work[n + j : 2 * n]))
            ajj = work[n + pvt]
            if ajj <= dstop or math.isnan(ajj):
                A[j, j] = ajj
                rank = j
                break
        if j != pvt:
            A[pvt, pvt] = A[j, j]
            A[:j, [j, pvt]] = A[:j, [pvt, j]]
            if pvt < n - 1:
                A[[j, pvt], pvt + 1 :] = A[[pvt, j], pvt + 1 :]
            tmp = A[j, j + 1 : pvt].copy()
            A[j, j + 1 : pvt] = A[j + 1 : pvt, pvt]
            A[j + 1 : pvt, pvt] = tmp
            work[[j, pvt]] = work[[pvt, j]]
            piv[[j, pvt]] = piv[[pvt, j]]
        ajj = math.sqrt(ajj)
        A[j, j] = ajj
        if j < n - 1:
            A[j, j + 1 :] = (A[j, j + 1 :] - A[:j, j] @ A[:j, j + 1 :]) / ajj
    return A, piv, rank


def mahalanobis_transform(X: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """Transform covariates as MatchIt 4.7's ``transform_covariates(method = "mahalanobis")``,
    so that Euclidean distance between rows is MatchIt's Mahalanobis distance.

    Steps (R's): drop constant columns; standardize; pooled within-group covariance; its
    inverse (``solve``) when the determinant exceeds 1e-8, else the SVD generalized inverse
    (singular values below 1e-8 of the largest dropped); ``chol(pivot = TRUE)`` of that; rows
    times the unpivoted factor. Every level of a categorical is a column
    (:func:`distance_covariates`), so each categorical makes the covariance singular; with two
    or more of them the pivoted Cholesky leaves rows that are not part of a factorization
    (see :func:`pivoted_cholesky`) and MatchIt's distance is then not exactly the Mahalanobis
    distance. certkit reproduces MatchIt here, as the parity tests check.
    """
    keep = np.ptp(X, axis=0) >= math.sqrt(EPS) if X.shape[1] else np.zeros(0, bool)
    X = X[:, keep]
    if X.shape[1] == 0:
        raise CertkitError("every covariate is constant: there is nothing to match on")
    Xs = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    t = treat.astype(bool)
    means = np.vstack([Xs[~t].mean(axis=0), Xs[t].mean(axis=0)])
    centered = Xs - means[t.astype(np.int64)]
    cov = centered.T @ centered / (X.shape[0] - 2)
    if np.linalg.det(cov) > 1e-8:
        inv = np.linalg.inv(cov)
    else:
        u, d, vt = np.linalg.svd(cov)
        keep_d = d > max(1e-8 * d[0], 0)
        inv = (vt[keep_d].T / d[keep_d]) @ u[:, keep_d].T
    U, piv, _ = pivoted_cholesky(inv)
    unpivoted = np.empty_like(U)
    unpivoted[:, piv] = U
    return Xs @ unpivoted.T


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
