"""Staggered AI adoption for :func:`certkit.data.sample.simulate` (``ai_adoption=True``).

A share of engineers adopts AI tools in one month drawn at random, independent of everything
else (so parallel trends hold by construction). Adopting plants two engineer-level effects with
different dynamics, the ones issue 13 asks the adoption study to recover:

* **throughput**: PRs opened are multiplied by ``1 + effect_throughput * fade(e)`` with
  ``fade(e) = max(0, 1 - e / fade_months)`` for ``e`` months since adoption: a jump that fades
  out;
* **rework**: every merged PR's lines are churned (changed or deleted again within
  :data:`REWORK_WINDOW_DAYS` days, the git line ledger's ``churned_lines_21d``) with
  probability ``base_i + effect_rework`` after adoption instead of ``base_i``: an increase
  that persists. ``base_i`` is the engineer's own rework rate (mean :data:`BASE_REWORK`).

The churned lines are drawn from a separate random stream (``[seed, 21]``), so planting rework
leaves every other column of the simulation unchanged.
"""

from __future__ import annotations

import numpy as np

#: Mean share of a merged PR's added lines churned within 21 days before adoption. Not
#: calibrated to published figures: a plausible order of magnitude for the line ledger.
BASE_REWORK = 0.08
#: The line-ledger window the simulated column stands for (``churned_lines_21d``).
REWORK_WINDOW_DAYS = 21
REWORK_COLUMN = f"churned_lines_{REWORK_WINDOW_DAYS}d"
#: Beta concentration of the per-PR churn probability (PRs vary around the engineer's rate).
REWORK_CONCENTRATION = 20.0
AI_SHARE_BEFORE, AI_SHARE_AFTER = 0.02, 0.8


def plant_adoption(rng, n: int, months: int, mon, eng_i, lam_it, *, rate, effect, fade_months):
    """Draw adoption months and apply the fading throughput jump.

    Returns
    -------
    tuple
        ``adopt_m`` (0-based adoption month per engineer, ``10**6`` = never), ``e_ai`` (months
        since adoption per engineer-month), ``extra`` (expected extra PRs opened per
        engineer-month) and the new expected PRs per engineer-month.
    """
    adopts = rng.random(n) < rate
    adopt_m = np.where(adopts, rng.integers(2, max(3, months - 2), n), 10**6)
    e_ai = mon - adopt_m[eng_i]
    fade = np.where(e_ai >= 0, np.clip(1 - e_ai / fade_months, 0, 1), 0.0)
    return adopt_m, e_ai, lam_it * effect * fade, lam_it * (1 + effect * fade)


def ai_probability(e_ai: np.ndarray) -> np.ndarray:
    """Probability that a PR is AI-assisted, by months since its author adopted."""
    return np.where(e_ai >= 0, AI_SHARE_AFTER, AI_SHARE_BEFORE)


def churned_lines(
    seed: int, n: int, pr_eng, adopted, additions, merged, *, effect: float
) -> np.ndarray:
    """Lines of each PR churned within 21 days (NaN for PRs that were not merged).

    ``adopted`` says whether the PR's author had adopted AI when it was opened. The expected
    churned share of a merged PR's added lines is the author's base rate plus ``effect`` after
    adoption, so the expected ``rework_rate`` of an adopter-period rises by exactly ``effect``.
    """
    rng = np.random.default_rng([seed, REWORK_WINDOW_DAYS])
    base = BASE_REWORK * np.exp(rng.normal(0, 0.3, n) - 0.3**2 / 2)
    p = np.clip(base[pr_eng] + effect * np.asarray(adopted, float), 1e-6, 1 - 1e-6)
    c = REWORK_CONCENTRATION
    p_pr = rng.beta(p * c, (1 - p) * c)
    churn = rng.binomial(np.asarray(additions, np.int64), p_pr).astype(float)
    return np.where(merged, churn, np.nan)
