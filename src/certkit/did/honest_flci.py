"""Smoothness bounds (Delta^SD(M)): the optimal fixed-length confidence interval (FLCI).

Reimplements R HonestDiD's ``findOptimalFLCI`` (``R/flci.R``), the default of
``createSensitivityResults``. The FLCI is ``a + v'beta +- chi`` for the affine estimator of
``l'tau`` that minimises the half-length ``chi = h * q_{1-alpha}(M * B(h) / h)``, where ``h``
is the estimator's standard deviation, ``B(h)`` its smallest worst-case bias over
Delta^SD(1) at that standard deviation and ``q_{1-alpha}(t)`` the ``1 - alpha`` quantile of
``|N(t, 1)|``.

R finds the optimum with CVXR/ECOS (one second-order cone program per ``h``), a bisection on
numerical derivatives in ``h`` and a simulated folded-normal quantile (10^6 draws). Here the
bias-variance frontier is traced exactly: in the cumulative weights ``c_j`` (R's ``U = |c|``),
the worst-case bias is ``M (const + |L| + sum_j |c_j|)`` and the variance a quadratic in
``c``, so the frontier is the path of a lasso problem ``min var/2 + mu * sum |c_j|``, which is
piecewise linear in ``mu`` and computed by homotopy; the half-length is minimised along it
and the folded-normal quantile is solved to machine precision. The intervals agree with R's
to its printed digits (``tests/test_honest.py``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import optimize
from scipy.special import ndtr, ndtri

from certkit.did.honest_arp import r_rnorm

__all__ = ["flci", "folded_normal_quantile", "sd_upper_bound_mpre"]


def folded_normal_quantile(p: float, t: np.ndarray | float) -> np.ndarray:
    """Quantile ``p`` of ``|N(t, 1)|`` (vectorised over ``t``; exact, by Newton's method).

    The root of ``Phi(q - t) + Phi(q + t) - 1 - p`` lies where the function is increasing and
    concave, so Newton's method from ``t + z_{(1+p)/2}`` (which is above the root) converges
    monotonically.
    """
    t = np.abs(np.asarray(t, dtype=float))
    q = t + ndtri((1 + p) / 2)
    for _ in range(100):
        f = ndtr(q - t) + ndtr(q + t) - 1 - p
        d = np.exp(-0.5 * (q - t) ** 2) + np.exp(-0.5 * (q + t) ** 2)
        step = f / (d / np.sqrt(2 * np.pi))
        q = q - step
        if np.all(np.abs(step) < 1e-14 * np.maximum(1, q)):
            break
    return q


@lru_cache(maxsize=2)
def _r_folded_draws(seed: int = 0) -> np.ndarray:
    """R's ``set.seed(0); rnorm(10^6)``, sorted (the draws of ``.qfoldednormal``)."""
    z = np.sort(r_rnorm(10**6, seed))
    z.setflags(write=False)
    return z


def folded_normal_quantile_r(p: float, t: np.ndarray | float) -> np.ndarray:
    """R's simulated ``.qfoldednormal(p, mu = t)``: ``quantile(|Z + t|, p)``, type 7, with the
    same 10^6 draws ``Z`` (``set.seed(0)``), so the FLCI half-lengths equal R's.

    Order statistics of ``|Z + t|`` are found by bisection on counts over the sorted draws,
    vectorised over ``t`` (no sort per evaluation).
    """
    z = _r_folded_draws()
    n = z.size
    t = np.atleast_1d(np.abs(np.asarray(t, dtype=float)))
    index = 1 + (n - 1) * p
    lo_k = int(np.floor(index))
    frac = index - lo_k

    def kth(k: int) -> np.ndarray:
        lo = np.zeros_like(t)
        hi = t + 10.0
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            cnt = np.searchsorted(z, mid - t, "right") - np.searchsorted(z, -mid - t, "left")
            big = cnt >= k
            hi = np.where(big, mid, hi)
            lo = np.where(big, lo, mid)
        return hi

    a = kth(lo_k)
    return a if frac == 0 else (1 - frac) * a + frac * kth(lo_k + 1)


def sd_upper_bound_mpre(betahat, sigma, npre: int, alpha: float = 0.05) -> float:
    """R's ``DeltaSD_upperBound_Mpre``: largest pre-period second difference + z * SE."""
    A = np.zeros((npre - 1, npre + 1))
    for r in range(npre - 1):
        A[r, r : r + 3] = (1.0, -2.0, 1.0)
    A = np.delete(A, npre, axis=1)
    A = np.vstack([A, -A])
    diffs = A @ betahat[:npre]
    se = np.sqrt(np.diag(A @ sigma[:npre, :npre] @ A.T))
    return float(np.max(diffs + ndtri(1 - alpha) * se))


def _lasso_path(P: np.ndarray, p: np.ndarray) -> list[tuple[float, float, np.ndarray, np.ndarray]]:
    """Homotopy for ``min_z z'Pz/2 + p'z + mu ||z||_1`` from ``mu = max|p|`` down to 0.

    Returns segments ``(mu_lo, mu_hi, alpha, beta)`` with ``z(mu) = alpha + mu * beta`` on
    ``[mu_lo, mu_hi]`` (full-length vectors, zero off the active set).
    """
    k = p.size
    mu = float(np.max(np.abs(p)))
    if mu <= 0:
        return [(0.0, 0.0, np.zeros(k), np.zeros(k))]
    active = [int(np.argmax(np.abs(p)))]
    signs = {active[0]: -np.sign(p[active[0]])}
    segs = []
    for _ in range(50 * k + 10):
        A = np.array(active)
        sA = np.array([signs[j] for j in active])
        PAA = P[np.ix_(A, A)]
        al = np.zeros(k)
        be = np.zeros(k)
        al[A] = -np.linalg.solve(PAA, p[A])
        be[A] = -np.linalg.solve(PAA, sA)
        gam = P @ al + p  # correlation c(mu) = gam + mu * dlt
        dlt = P @ be
        cands = []
        eps = 1e-12 * max(1.0, mu)
        for j in range(k):
            if j in signs:
                if be[j] != 0:
                    m = -al[j] / be[j]
                    if eps < m < mu - eps:
                        cands.append((m, "leave", j))
            else:
                for sgn in (1.0, -1.0):  # c_j(mu) = sgn * mu
                    den = sgn - dlt[j]
                    if den != 0:
                        m = gam[j] / den
                        if eps < m < mu - eps:
                            cands.append((m, "join", j, -sgn))
        nxt = max(cands, key=lambda c: c[0]) if cands else (0.0, "end")
        segs.append((nxt[0], mu, al, be))
        if nxt[1] == "end":
            break
        mu = nxt[0]
        if nxt[1] == "leave":
            active.remove(nxt[2])
            del signs[nxt[2]]
            if not active:  # every weight back at zero: restart from the correlations
                c = P @ (al + mu * be) + p
                j = int(np.argmax(np.abs(c)))
                active, signs = [j], {j: -np.sign(c[j])}
        else:
            active.append(nxt[2])
            signs[nxt[2]] = nxt[3]
    return segs


def flci(
    betahat: np.ndarray,
    sigma: np.ndarray,
    npre: int,
    npost: int,
    l_vec: np.ndarray,
    m: float,
    alpha: float = 0.05,
    quantile: str = "r",
) -> dict:
    """Optimal FLCI for ``l'tau`` under Delta^SD(M) (R's ``findOptimalFLCI``).

    Returns a dict with ``conf_low``, ``conf_high``, ``half_length``, ``center``, ``sd`` (of
    the affine estimator), ``max_bias`` and ``weights`` (the estimator's pre-period weights,
    R's ``optimalPrePeriodVec``).
    """
    K, T = npre, npost
    tt = np.arange(1, T + 1)
    L = float(tt @ l_vec)
    const = sum(abs(float(np.arange(1, s + 1) @ l_vec[T - s :])) for s in range(1, T + 1)) - L
    S = np.eye(K) - np.eye(K, k=-1)
    E = S @ S  # cumulative weights c -> pre-period weights (second differences)
    s_pre, s_pp, s_post = sigma[:K, :K], sigma[:K, K:], sigma[K:, K:]
    e = E[:, K - 1] * L
    Ez = E[:, : K - 1]
    P = Ez.T @ s_pre @ Ez
    pv = Ez.T @ (s_pre @ e + s_pp @ l_vec)
    c0 = float(e @ s_pre @ e + 2 * e @ s_pp @ l_vec + l_vec @ s_post @ l_vec)
    p = 1 - alpha
    qfun = folded_normal_quantile_r if quantile == "r" else folded_normal_quantile

    def hb(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Standard deviation and bias/M of the estimators with cumulative weights ``Z`` (rows)."""
        var = np.einsum("ij,jk,ik->i", Z, P, Z) + 2 * Z @ pv + c0
        return np.sqrt(np.maximum(var, 0.0)), const + abs(L) + np.abs(Z).sum(axis=1)

    def half(Z: np.ndarray, q=folded_normal_quantile) -> np.ndarray:
        h, b = hb(Z)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = h * q(p, np.where(h > 0, m * b / h, 0.0))
        return np.where(h > 0, out, m * b)

    if K == 1:
        zbest = np.zeros(0)
    else:
        # 1) exact folded-normal quantile: the best point of the bias-variance frontier
        segs = _lasso_path(P, pv)
        best = (np.inf, None, None)
        for mu_lo, mu_hi, al, be in segs:
            g = np.linspace(mu_lo, mu_hi, 41)
            vals = half(al[None, :] + g[:, None] * be[None, :])
            i = int(np.argmin(vals))
            if vals[i] < best[0]:
                best = (float(vals[i]), (al, be), (g[max(i - 1, 0)], g[min(i + 1, g.size - 1)]))
        (al, be), (a, b) = best[1], best[2]
        if b > a:
            r = optimize.minimize_scalar(
                lambda x: float(half((al + x * be)[None, :])[0]),
                bounds=(a, b),
                method="bounded",
                options={"xatol": 1e-13 * max(1.0, b)},
            )
            mu_star = float(r.x)
        else:
            mu_star = float(a)
        zbest = al + mu_star * be
        if quantile == "r" and m > 0 and b > a:
            # 2) R's simulated quantile: refine locally on the same segment
            for width in (b - a, (b - a) / 50):
                g = np.clip(np.linspace(mu_star - width, mu_star + width, 101), a, b)
                vals = half(al[None, :] + g[:, None] * be[None, :], folded_normal_quantile_r)
                mu_star = float(g[int(np.argmin(vals))])
            zbest = al + mu_star * be
    h, b = (float(x[0]) for x in hb(zbest[None, :]))
    chi = float(half(zbest[None, :], qfun)[0])
    c = np.concatenate([zbest, [L]])
    w_pre = E @ c
    center = float(w_pre @ betahat[:K] + l_vec @ betahat[K:])
    return {
        "conf_low": center - chi,
        "conf_high": center + chi,
        "half_length": chi,
        "center": center,
        "sd": h,
        "max_bias": m * b,
        "weights": w_pre,
    }
