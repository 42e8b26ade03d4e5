"""Influence-function inference for group-time ATTs: analytic SEs and the multiplier bootstrap."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from certkit.stats.vcov import cluster_sums, critical_value


def analytic_se(inf: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """``sqrt(sum(IF^2)) / n`` per column of the influence functions (summed within clusters)."""
    n = inf.shape[0]
    S = cluster_sums(inf, cluster)
    se = np.sqrt(np.einsum("ij,ij->j", S, S)) / n
    se[se <= math.sqrt(np.finfo(float).eps) * 10] = np.nan
    return se


def multipliers(rng: np.random.Generator, size: tuple[int, int], kind: str) -> np.ndarray:
    """Mammen (two-point, mean 0, variance 1) or Rademacher bootstrap multipliers."""
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=size)
    s5 = math.sqrt(5)
    lo, hi = (1 - s5) / 2, (1 + s5) / 2
    p_lo = (s5 + 1) / (2 * s5)
    return np.where(rng.random(size) < p_lo, lo, hi)


def multiplier_bootstrap(inf, cluster, n_boot, kind, seed, level) -> tuple[np.ndarray, float]:
    """Multiplier bootstrap: robust SEs and the sup-t critical value for uniform bands."""
    n = inf.shape[0]
    S = cluster_sums(inf, cluster)
    rng = np.random.default_rng(seed)
    draws = np.empty((n_boot, S.shape[1]))
    step = max(1, int(2e7 // max(S.shape[0], 1)))
    for start in range(0, n_boot, step):
        m = min(step, n_boot - start)
        draws[start : start + m] = multipliers(rng, (m, S.shape[0]), kind) @ S / n
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0, method="inverted_cdf")
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    ok = np.isfinite(se) & (se > math.sqrt(np.finfo(float).eps) * 10)
    se[~ok] = np.nan
    if not ok.any():
        return se, critical_value(level)
    t_max = np.max(np.abs(draws[:, ok] / se[ok]), axis=1)
    crit = float(np.quantile(t_max, level, method="inverted_cdf"))
    return se, crit


def wif_dot(sel, pg_cells, groups_cells, att, w, G) -> np.ndarray:
    """Influence function of the estimated weights P(G=g), times the ATTs (R did's ``wif``),
    for one selection of cells: :func:`wif_dots` of that selection alone.

    R builds a units x cells matrix; its product with the ATTs only needs, per cohort, the sum
    of the selected cells' ATTs and their count, so this is O(units).
    """
    return wif_dots([sel], pg_cells, groups_cells, att, w, G)[:, 0]


def wif_dots(sels, pg_cells, groups_cells, att, w, G) -> np.ndarray:
    """:func:`wif_dot` of each selection of cells in ``sels`` at once: units x selections
    (per cohort, the sum of the selected cells' ATTs and their count; units of a cohort with
    no selected cell get 0, as units of no cohort).
    """
    S = np.column_stack(sels)  # cells x selections
    glist, gi = np.unique(groups_cells, return_inverse=True)
    A = np.zeros((len(glist) + 1, S.shape[1]))  # last row: units of no selected cohort
    C = np.zeros_like(A)
    np.add.at(A, gi, np.where(S, att[:, None], 0.0))
    np.add.at(C, gi, S.astype(float))
    s = np.array([pg_cells[sel].sum() for sel in sels])
    pa = np.array([pg_cells[sel] @ att[sel] for sel in sels])
    pos = np.searchsorted(glist, G)
    pos = np.where((pos < len(glist)) & (glist[np.minimum(pos, len(glist) - 1)] == G), pos, -1)
    wa, wc = w[:, None] * A[pos], w[:, None] * C[pos]
    return (wa - pa) / s - (wc - s) * pa / s**2
