"""Doubly robust, IPW and regression 2x2 DiD on panel data (Sant'Anna & Zhao 2020, R DRDID)."""

from __future__ import annotations

import numpy as np

from certkit.errors import CertkitError
from certkit.stats.glm import fit_logit_newton

PS_TRIM = 0.995  # control units with a propensity above this are trimmed (as DRDID does)
OVERLAP_WARN = 0.99


def drdid_panel(dy, D, X, w, method: str, cell: str, sink: list[str]) -> tuple[float, np.ndarray]:
    """ATT and influence function of one 2x2 panel comparison (DRDID formulas).

    ``dy`` outcome change, ``D`` treated indicator, ``X`` covariates with intercept, ``w``
    weights; all restricted to the cell's treated and comparison units. The IF is on the scale
    of this subsample (mean zero over it).
    """
    n1 = len(dy)
    w = w / w.mean()
    if method in ("dr", "ipw"):
        ps, Hinv = fit_logit_newton(X, D, w, cell)
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
