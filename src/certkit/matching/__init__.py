"""Matched cohorts: certified engineers compared with comparable peers.

``match()`` pairs treated units (certified engineers) with similar controls and returns a
:class:`MatchResult` with the matched data, a balance table before and after matching, a Love
plot and the ATT from a weighted regression with honest standard errors. ``matched_did()``
combines matching with difference-in-differences for staggered certification (rolling entry).

Conventions follow R's MatchIt 4.7 so that numbers can be checked against it:

* categorical covariates are expanded like R's formula interface (levels sorted, the first
  level is the reference in the propensity model; balance tables show every level);
* the propensity model is a GLM fitted by the same iteratively reweighted least squares as R's
  ``glm`` (same start values and stopping rule; :func:`certkit.stats.glm.fit_binomial`), and
  the distance is the propensity score;
* greedy nearest-neighbour matching walks the sorted distance vector (stable sort, ties in data
  order) and takes the closest available control on either side; when the left and right
  candidates are equally close the **left** one (smaller distance) wins. Treated units are
  processed from the largest propensity score down (``order="largest"``);
* weights are MatchIt's ATT weights (treated 1, controls rescaled to sum to the number of
  matched controls); the balance statistics are those of ``summary.matchit``.

Modules: :mod:`~certkit.matching.design` (inputs, design matrices, strata codes),
:mod:`~certkit.matching.nearest` (nearest-neighbour matchers), :mod:`~certkit.matching.strata`
(weights from sets and subclasses), :mod:`~certkit.matching.balance`,
:mod:`~certkit.matching.effect` (:func:`estimate_att`), :mod:`~certkit.matching.sensitivity`,
:mod:`~certkit.matching.matcher` (:func:`match`), :mod:`~certkit.matching.rolling`
(:func:`matched_did`), :mod:`~certkit.matching.results`. Results follow the contract of
:mod:`certkit.results` (``tidy()``, ``plot()``, ``effect_summary()``, ``level``).
"""

# kernels the MatchIt parity tests call directly (tests/test_matching.py)
from certkit.matching.balance import balance_summary
from certkit.matching.balance import pair_distance as _pair_distance  # noqa: F401
from certkit.matching.baseline import baseline_table
from certkit.matching.effect import ATTResult, estimate_att
from certkit.matching.matcher import DISTANCES, METHODS, ORDERS, match
from certkit.matching.nearest import distance_covariates as _distance_covariates  # noqa: F401
from certkit.matching.nearest import mahalanobis_transform as _mahalanobis_transform  # noqa: F401
from certkit.matching.nearest import nn_vector as _nn_vector  # noqa: F401
from certkit.matching.results import MatchedDiDResult, MatchResult
from certkit.matching.rolling import matched_did
from certkit.matching.sensitivity import (
    SensitivityResult,
    e_value,
    rosenbaum_bounds,
    sensitivity_analysis,
)

__all__ = [
    "ATTResult",
    "DISTANCES",
    "METHODS",
    "MatchResult",
    "MatchedDiDResult",
    "ORDERS",
    "SensitivityResult",
    "balance_summary",
    "baseline_table",
    "e_value",
    "estimate_att",
    "match",
    "matched_did",
    "rosenbaum_bounds",
    "sensitivity_analysis",
]
