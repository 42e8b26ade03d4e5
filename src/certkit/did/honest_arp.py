"""Relative-magnitudes bounds (Delta^RM) with the conditional-least-favourable hybrid test.

A line-by-line reimplementation of R HonestDiD's ``computeConditionalCS_DeltaRM`` with
``hybrid_flag = "LF"`` (``R/deltarm.R``, ``R/arp-nuisance.R``, ``R/arp-nonuisance.R``), the
default of ``createSensitivityResults_relativeMagnitudes``:

* Delta^RM(Mbar) is the union over the period ``s`` of the largest pre-period jump and its
  sign of polyhedra ``{A delta <= 0}``; each polyhedron gives an Andrews-Roth-Pakes (ARP)
  moment-inequality test of ``l'tau = theta``, inverted over R's grid of ``theta`` values
  (``gridPoints = 1000`` on ``[-20, 20]`` standard errors of ``l'beta_post``).
* The least-favourable critical value is simulated exactly as R does it: 1000 draws of
  ``mvtnorm::rmvnorm`` after ``set.seed(0)``; :func:`r_rnorm` reproduces R's Mersenne-Twister
  and inversion normal generator, so the critical values (and the intervals) equal R's.

The linear programs are solved in closed form. Only the post-period moments enter the test
(R's ``postPeriodMomentsOnly = TRUE``); they come in pairs ``+-(first difference of delta_post)``
and the nuisance directions span every post-period contrast orthogonal to ``l``, so the
dual polytope ``{lambda >= 0, X'lambda = 0, sd'lambda = 1}`` has only ``T + 2`` vertices (one
per moment pair, and the positive and negative parts of the one vector ``u`` with
``X_+' u = 0``). The LP value is the largest vertex value, and the ARP truncation points
``v_lo``, ``v_up`` follow from the vertices directly (the bisection of R's dual approach
converges to the same numbers). This makes a grid of 1000 ``theta`` values a few matrix
products instead of 1000 linear programs; ``tests/test_honest.py`` checks the closed-form LP
values against HiGHS.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import stats
from scipy.special import ndtri

__all__ = ["r_rnorm", "create_A_RM", "rm_conditional_cs", "id_set_rm"]

_BIG = 134217728  # 2**27, R's INVERSION normal generator


@lru_cache(maxsize=8)
def r_rnorm(n: int, seed: int = 0) -> np.ndarray:
    """``set.seed(seed); rnorm(n)`` of R (Mersenne-Twister, inversion), bit for bit.

    R seeds Mersenne-Twister with 50 rounds of the LCG ``69069 * s + 1`` and then fills the
    624-word state with the next 625 values (the first is overwritten by the position);
    each normal uses two uniforms: ``qnorm(((int)(2^27 u1) + u2) / 2^27)``.
    """
    s = int(seed) & 0xFFFFFFFF
    for _ in range(50):
        s = (69069 * s + 1) & 0xFFFFFFFF
    key = np.empty(625, dtype=np.uint32)
    for j in range(625):
        s = (69069 * s + 1) & 0xFFFFFFFF
        key[j] = s
    bg = np.random.MT19937()
    bg.state = {"bit_generator": "MT19937", "state": {"key": key[1:], "pos": 624}}
    u = bg.random_raw(2 * n).astype(np.float64) * 2.3283064365386963e-10
    u = np.clip(u, 0.5 * 2.328306437080797e-10, 1 - 0.5 * 2.328306437080797e-10)
    out = ndtri((np.floor(_BIG * u[0::2]) + u[1::2]) / _BIG)
    out.setflags(write=False)
    return out


def _rmvnorm(n: int, sigma: np.ndarray, seed: int = 0) -> np.ndarray:
    """``set.seed(seed); mvtnorm::rmvnorm(n, sigma = sigma)`` (default ``method = "eigen"``)."""
    p = sigma.shape[0]
    z = r_rnorm(n * p, seed).reshape(n, p)  # matrix(rnorm(n * p), nrow = n, byrow = TRUE)
    vals, vecs = np.linalg.eigh(sigma)
    root = (vecs * np.sqrt(np.maximum(vals, 0.0))) @ vecs.T  # symmetric square root
    return z @ root


def create_A_RM(npre: int, npost: int, mbar: float, s: int, max_positive: bool) -> np.ndarray:
    """R's ``.create_A_RM``: ``delta in Delta^RM_{s,+-}(Mbar)`` as ``A delta <= 0`` (t=0 dropped)."""
    n = npre + npost
    atilde = np.zeros((n, n + 1))
    for r in range(n):
        atilde[r, r : r + 2] = (-1.0, 1.0)
    v = np.zeros(n + 1)
    v[npre + s - 1 : npre + s + 1] = (-1.0, 1.0)
    if not max_positive:
        v = -v
    a_ub = np.vstack([np.tile(v, (npre, 1)), np.tile(mbar * v, (npost, 1))])
    A = np.vstack([atilde - a_ub, -atilde - a_ub])
    A = A[np.einsum("ij,ij->i", A, A) > 1e-10]
    return np.delete(A, npre, axis=1)


def _gamma_inv(l_vec: np.ndarray) -> np.ndarray:
    """Inverse of an invertible matrix whose first row is ``l'`` (R's ``.construct_Gamma``)."""
    T = l_vec.size
    lead = int(np.flatnonzero(l_vec)[0])
    rows = [l_vec] + [np.eye(T)[j] for j in range(T) if j != lead]
    return np.linalg.inv(np.vstack(rows))


def _vertices(X: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Vertices (columns) of ``{lam >= 0, X'lam = 0, sd'lam = 1}`` for the paired RM moments.

    Rows ``0..T-1`` and ``T..2T-1`` of ``X`` are ``+B`` and ``-B``; the extreme rays of the cone
    ``{lam >= 0, X'lam = 0}`` are ``e_j + e_{T+j}`` and ``(u+, u-)``, ``(u-, u+)`` with
    ``B'u = 0``.
    """
    T = X.shape[0] // 2
    if X.shape[0] != 2 * T or not np.allclose(X[:T], -X[T:], rtol=0, atol=1e-12):
        raise RuntimeError("Delta^RM post-period moments are not +-pairs; closed form invalid")
    rays = [np.concatenate([np.eye(T)[j], np.eye(T)[j]]) for j in range(T)]
    u = np.linalg.svd(X[:T].T)[2][-1] if X.shape[1] else np.ones(1)
    u[np.abs(u) < 1e-12 * np.abs(u).max()] = 0.0
    up, um = np.maximum(u, 0), np.maximum(-u, 0)
    rays += [np.concatenate([up, um]), np.concatenate([um, up])]
    R = np.array(rays).T
    return R / (sd @ R)


def _truncnorm_ppf(p: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Quantile ``p`` of N(0,1) truncated to ``[lo, hi]`` (TruncatedNormal::norminvp)."""
    out = np.full(lo.shape, np.nan)
    ok = lo < hi
    if ok.any():
        out[ok] = stats.truncnorm.ppf(p, lo[ok], hi[ok])
    out[~ok] = lo[~ok]
    return out


def _test_grid(
    y0: np.ndarray,
    a: np.ndarray,
    theta: np.ndarray,
    sigma_y: np.ndarray,
    lam: np.ndarray,
    lf_cv: float,
    alpha: float,
    kappa: float,
    truncate_at_lf: bool,
) -> np.ndarray:
    """Accept (True) / reject of the conditional-LF test of ``E[y0 - a theta - X delta] <= 0``."""
    vals = (y0 @ lam)[None, :] - theta[:, None] * (a @ lam)[None, :]  # n_theta x V
    g = np.argmax(vals, axis=1)
    eta = vals[np.arange(theta.size), g]
    accept = eta <= lf_cv  # first stage: reject when eta exceeds the LF critical value
    gram = lam.T @ sigma_y @ lam  # lam_v' Sigma lam_w
    s2 = gram[g, g]
    lb = gram[:, g].T / s2[:, None]  # lam_v' b with b = Sigma gamma / gamma'Sigma gamma
    ls = vals - lb * eta[:, None]  # lam_v' s_T
    den = lb - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = -ls / den
    tol = 1e-10
    vup = np.where(den > tol, bound, np.inf).min(axis=1)
    vlo = np.where(den < -tol, bound, -np.inf).max(axis=1)
    sig = np.sqrt(np.maximum(s2, 0))
    zup = (np.minimum(vup, lf_cv) if truncate_at_lf else vup) / sig
    zlo = vlo / sig
    stat = eta / sig
    second = accept & (zlo <= stat) & (stat <= zup)
    mod_size = (alpha - kappa) / (1 - kappa)
    reject = np.zeros(theta.size, dtype=bool)
    if second.any():
        cval = np.maximum(0.0, _truncnorm_ppf(1 - mod_size, zlo[second], zup[second]))
        reject[second] = stat[second] > cval
    return accept & ~reject


def _fixed_s(
    betahat, sigma, npre, npost, l_vec, mbar, s, positive, theta, alpha, kappa
) -> np.ndarray:
    A = create_A_RM(npre, npost, mbar, s, positive)
    if npost == 1:
        rows = np.flatnonzero(A[:, -1] != 0)
        A = A[rows]
        sig_a = A @ sigma @ A.T
        sd = np.sqrt(np.diag(sig_a))
        draws = _rmvnorm(1000, sig_a) / sd
        lf_cv = float(np.quantile(draws.max(axis=1), 1 - kappa))
        lam = np.diag(1.0 / sd)  # vertices: one per moment
        y0 = A @ betahat
        a = A[:, npre] / l_vec[0]  # R tests beta_post = theta (l = 1)
        return _test_grid(y0, a, theta, sig_a, lam, lf_cv, alpha, kappa, truncate_at_lf=False)
    post = np.arange(npre, npre + npost)
    rows = np.flatnonzero(np.any(A[:, post] != 0, axis=1))
    ginv = _gamma_inv(l_vec)
    agi = A[:, post] @ ginv
    Y = A @ betahat
    sig_y = A @ sigma @ A.T
    y0, a, X = Y[rows], agi[rows, 0], agi[rows, 1:]
    sig_r = sig_y[np.ix_(rows, rows)]
    sd = np.sqrt(np.diag(sig_r))
    lam = _vertices(X, sd)
    eta_draws = (_rmvnorm(1000, sig_r) @ lam).max(axis=1)
    lf_cv = float(np.quantile(eta_draws, 1 - kappa))
    return _test_grid(y0, a, theta, sig_r, lam, lf_cv, alpha, kappa, truncate_at_lf=True)


def _accept_rm(betahat, sigma, npre, npost, l_vec, mbar, theta, alpha, kappa) -> np.ndarray:
    acc = np.zeros(theta.size, dtype=bool)
    for s in range(-(npre - 1), 1):
        for positive in (True, False):
            acc |= _fixed_s(
                betahat, sigma, npre, npost, l_vec, mbar, s, positive, theta, alpha, kappa
            )
    return acc


def rm_conditional_cs(
    betahat: np.ndarray,
    sigma: np.ndarray,
    npre: int,
    npost: int,
    l_vec: np.ndarray,
    mbar: float,
    alpha: float = 0.05,
    grid_points: int = 1000,
    grid_lb: float | None = None,
    grid_ub: float | None = None,
    max_extend: int = 20,
) -> tuple[float, float, int]:
    """C-LF confidence interval for ``l'tau`` under Delta^RM(Mbar), as R's defaults.

    Returns ``(conf_low, conf_high, extended)``: the smallest and largest accepted grid
    values (NaN when none is accepted) and how many times the grid had to be extended
    because the accepted set touched one of its ends (R would return a truncated interval
    with the warning "CI is open at one of the endpoints"). Extensions keep R's grid spacing
    and points, so an interval R reports without that warning is unchanged.
    """
    kappa = alpha / 10
    sd_theta = float(np.sqrt(l_vec @ sigma[npre:, npre:] @ l_vec))
    lb = -20 * sd_theta if grid_lb is None else float(grid_lb)
    ub = 20 * sd_theta if grid_ub is None else float(grid_ub)
    grid = np.linspace(lb, ub, grid_points)
    step = (ub - lb) / (grid_points - 1)
    acc = _accept_rm(betahat, sigma, npre, npost, l_vec, mbar, grid, alpha, kappa)
    extended = 0
    while acc.any() and (acc[0] or acc[-1]) and extended < max_extend:
        extended += 1
        parts, accs = [grid], [acc]
        if acc[0]:
            new = grid[0] - step * np.arange(grid_points, 0, -1)
            parts.insert(0, new)
            accs.insert(0, _accept_rm(betahat, sigma, npre, npost, l_vec, mbar, new, alpha, kappa))
        if acc[-1]:
            new = grid[-1] + step * np.arange(1, grid_points + 1)
            parts.append(new)
            accs.append(_accept_rm(betahat, sigma, npre, npost, l_vec, mbar, new, alpha, kappa))
        grid, acc = np.concatenate(parts), np.concatenate(accs)
    if not acc.any():
        return float("nan"), float("nan"), extended
    return float(grid[acc].min()), float(grid[acc].max()), extended


def id_set_rm(
    beta: np.ndarray, npre: int, npost: int, l_vec: np.ndarray, mbar: float
) -> tuple[float, float]:
    """Identified set for ``l'tau`` under Delta^RM(Mbar) given population ``beta`` (R's
    ``.compute_IDset_DeltaRM``): used by the tests to check coverage targets."""
    from scipy.optimize import linprog

    n = npre + npost
    f = np.concatenate([np.zeros(npre), l_vec])
    eq = np.hstack([np.eye(npre), np.zeros((npre, npost))])
    lo, hi = np.inf, -np.inf
    post = float(l_vec @ beta[npre:])
    for s in range(-(npre - 1), 1):
        for positive in (True, False):
            A = create_A_RM(npre, npost, mbar, s, positive)
            kw = dict(
                A_ub=A,
                b_ub=np.zeros(A.shape[0]),
                A_eq=eq,
                b_eq=beta[:npre],
                bounds=[(None, None)] * n,
                method="highs",
            )
            mx, mn = linprog(-f, **kw), linprog(f, **kw)
            if mx.status == 0 and mn.status == 0:
                lo, hi = min(lo, post + mx.fun), max(hi, post - mn.fun)
    return lo, hi
