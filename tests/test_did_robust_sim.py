"""Coverage of the imputation and Sun-Abraham 95% intervals on simulated staggered panels.

Each panel: 150 units over 8 periods, cohorts first treated in periods 3, 5, 7 or never,
unit and period effects, AR(1) noise within unit, and a planted effect that grows with time
since treatment and differs by cohort (so static TWFE is biased). The target is the average
planted effect over treated observations, which both estimators estimate on a balanced
panel. 200 panels; the share of intervals covering the target must lie in 90-99%.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from certkit.did import imputation, sun_abraham

REPS = 200
SIM = dict(outcome="y", unit="id", time="t", group="g")


def panel(rng, n=150, T=8):
    g = rng.choice(np.array([0, 3, 5, 7]), size=n)
    unit = np.repeat(np.arange(n), T)
    t = np.tile(np.arange(1, T + 1), n)
    G = g[unit]
    e = t - G
    tau = np.where((G > 0) & (e >= 0), (1 + 0.3 * e) * np.where(G == 3, 1.5, 0.8), 0.0)
    noise = np.zeros((n, T))
    shocks = rng.normal(size=(n, T))
    noise[:, 0] = shocks[:, 0]
    for k in range(1, T):
        noise[:, k] = 0.5 * noise[:, k - 1] + shocks[:, k]
    y = rng.normal(size=n)[unit] + rng.normal(size=T)[t - 1] + tau + noise.ravel()
    df = pl.DataFrame({"id": unit, "t": t, "g": G, "y": y})
    return df, float(tau[tau != 0].mean())


@pytest.fixture(scope="module")
def coverage():
    rng = np.random.default_rng(20261128)
    hits = {"imputation": 0, "imputation_two_stage": 0, "sun_abraham": 0}
    for _ in range(REPS):
        df, truth = panel(rng)
        fits = {
            "imputation": imputation(df, **SIM),
            "imputation_two_stage": imputation(df, **SIM, vcov="two_stage"),
            "sun_abraham": sun_abraham(df, **SIM),
        }
        for name, res in fits.items():
            lo, hi = res.ci
            hits[name] += lo <= truth <= hi
    return {k: v / REPS for k, v in hits.items()}


@pytest.mark.parametrize("name", ["imputation", "imputation_two_stage", "sun_abraham"])
def test_intervals_cover_the_planted_effect_about_95_percent(coverage, name):
    assert 0.90 <= coverage[name] <= 0.99, coverage
