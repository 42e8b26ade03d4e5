"""What the simulator planted: the expected effects it records in ``dataset.truth``.

Kept apart from :mod:`certkit.data.sample` (the generator) so the planted effects and their
expected ATTs are read in one place.
"""

from __future__ import annotations

import numpy as np
import polars as pl

MERGE_RATE = 0.92  # share of opened PRs that are merged


def ramp(event_time: np.ndarray, months: float) -> np.ndarray:
    """Share of the full certification effect reached ``event_time`` periods after certifying."""
    e = np.asarray(event_time, dtype=float)
    return np.where(e >= 0, np.minimum(1.0, (e + 1) / max(months, 1e-9)), 0.0)


def truth(
    params,
    *,
    e,
    lam_it,
    rmp,
    effect_throughput,
    p_def,
    effect_defects,
    effect_cycle_time,
    ramp_months,
) -> dict:
    """Planted effects and the expected ATT per panel outcome and event time."""
    frame = pl.DataFrame(
        {
            "event_time": e,
            "merged_prs": lam_it
            / (1 + effect_throughput * rmp)
            * MERGE_RATE
            * effect_throughput
            * rmp,
            "defect_rate": p_def * effect_defects * rmp,
        }
    )
    by_e = (
        frame.filter(pl.col("event_time") >= 0)
        .group_by("event_time")
        .agg(pl.col("merged_prs").mean(), pl.col("defect_rate").mean(), pl.len().alias("n"))
        .sort("event_time")
    )
    post = frame.filter(pl.col("event_time") >= 0)
    return {
        "params": params,
        "ramp": f"min(1, (e + 1) / {ramp_months}) for e >= 0",
        "att_by_event_time": {
            "event_time": by_e["event_time"].to_list(),
            "merged_prs": by_e["merged_prs"].to_list(),
            "cycle_time_log": [
                float(effect_cycle_time * r)
                for r in ramp(by_e["event_time"].to_numpy(), ramp_months)
            ],
            "defects_per_pr": by_e["defect_rate"].to_list(),
        },
        "att_post": {
            "merged_prs": float(post["merged_prs"].mean()) if post.height else 0.0,
            "cycle_time_log": float(
                effect_cycle_time * ramp(post["event_time"].to_numpy(), ramp_months).mean()
            )
            if post.height
            else 0.0,
            "defects_per_pr": float(post["defect_rate"].mean()) if post.height else 0.0,
        },
        "ai": {
            "effect_cycle_time_log": params["ai_effect_cycle_time"],
            "revert_multiplier": 1 + params["ai_effect_reverts"],
            "defect_multiplier": 1 + params["ai_effect_defects"],
        },
    }


def adoption_truth(ids, adopt_m, months, e_ai, effect_it, effect_rework: float) -> dict:
    """Adoption period of each engineer (1-based panel index, 0 = never) and the expected effects.

    ``prs_opened`` is exact (PRs are counted in the month they are created); ``merged_prs`` is
    the same times the merge rate, ignoring PRs that merge in the next month. ``rework_rate``
    is exact: the churned share of merged lines rises by ``effect_rework`` from the month of
    adoption on (PRs count in the month they merge).
    """
    frame = pl.DataFrame({"event_time": e_ai, "effect": effect_it}).filter(
        pl.col("event_time") >= 0
    )
    by_e = frame.group_by("event_time").agg(pl.col("effect").mean()).sort("event_time")
    adopted = adopt_m < months
    return {
        "adoption_period": {
            str(i): int(m) + 1 if a else 0 for i, m, a in zip(ids, adopt_m, adopted, strict=True)
        },
        "att_by_event_time": {
            "event_time": by_e["event_time"].to_list(),
            "prs_opened": by_e["effect"].to_list(),
            "merged_prs": (by_e["effect"] * MERGE_RATE).to_list(),
            "rework_rate": [float(effect_rework)] * by_e.height,
        },
    }
