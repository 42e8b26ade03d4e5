"""Analytics built on the data layer and the estimators: what the numbers mean for decisions.

* :mod:`certkit.analytics.ai` — AI-assisted vs non-AI pull requests (within-author comparisons,
  adoption, trust scores, fix-first); also ``certkit.ai``;
* :mod:`certkit.analytics.adoption` — staggered AI adoption as a treatment (event study);
* :mod:`certkit.analytics.roi` — Monte Carlo ROI of a certification programme; also
  ``certkit.roi``;
* :mod:`certkit.analytics.planning` — skill gaps, decision matrices, recommendations; also
  ``certkit.planning``.

Modules load on first use (``certkit.ai`` imports :mod:`certkit.analytics.ai`).
"""
