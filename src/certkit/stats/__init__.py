"""Shared statistical kernels for certkit's estimators.

One place for the math that ``certkit.did``, ``certkit.matching`` and the analytics modules
share, so every estimator computes a p-value, a critical value, a cluster-robust variance or a
logit the same way:

* :mod:`certkit.stats.glm` — binomial GLMs: R ``glm.fit``'s IRLS (logit / probit) and a
  weighted Newton logit that also returns the inverse information matrix;
* :mod:`certkit.stats.fe` — dense integer codes and two-way demeaning (fixed effects);
* :mod:`certkit.stats.vcov` — normal critical values and p-values, WLS with HC0-HC3 or
  cluster-robust covariance, cluster sums of scores and Wald tests;
* :mod:`certkit.stats.multiple` — Benjamini-Hochberg q-values and the Mantel-Haenszel risk
  ratio.

Every hand-written kernel is tested against statsmodels (``tests/test_stats.py``).
"""

from certkit.stats.fe import demean_twoway, dense_codes
from certkit.stats.glm import fit_binomial, fit_logit_newton
from certkit.stats.multiple import benjamini_hochberg, mantel_haenszel_rr
from certkit.stats.vcov import (
    cluster_sums,
    critical_value,
    level_from_alpha,
    pvalue,
    statistic,
    wald_test,
    wls,
)

__all__ = [
    "benjamini_hochberg",
    "cluster_sums",
    "critical_value",
    "demean_twoway",
    "dense_codes",
    "fit_binomial",
    "fit_logit_newton",
    "level_from_alpha",
    "mantel_haenszel_rr",
    "pvalue",
    "statistic",
    "wald_test",
    "wls",
]
