"""A hand-made AI-adoption panel shared by the adoption words and shared-report tests."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl


def adoption_panel(
    trend: float = 0.0, seed: int = 1, specs: list[tuple[str, int, int]] | None = None
) -> pl.DataFrame:
    """20 engineers x 10 months: 8 adopt AI (months 5 and 6), 12 never do (``specs``:
    other (engineer, adoption month or 0, certification cohort) triples).

    Six adopters are certified (cohort 3) and two are not, so the certified-minus-others
    difference rests on 2 never-certified adopters. ``rework_rate`` of adopters rises by
    ``trend`` a month before and after adoption (a failing pre-trend test when large);
    ``revert_rate`` is 0 for everyone before adoption (no variance before adoption).
    """
    rng = np.random.default_rng(seed)
    if specs is None:
        specs = [(f"a{i}", 5 + i % 2, 3 if i < 6 else 0) for i in range(8)]
        specs += [(f"n{i}", 0, 4 if i < 6 else 0) for i in range(12)]
    rows = []
    for eng, adopt, cert in specs:
        for t in range(1, 11):
            on = bool(adopt) and t >= adopt
            rows.append(
                {
                    "engineer_id": eng,
                    "period_index": t,
                    "period": date(2025, t, 1),
                    "cohort": cert,
                    "merged_prs": 4 + int(rng.integers(0, 3)),
                    "ai_share": 1.0 if on else 0.0,
                    "rework_rate": 0.2 + (trend * t if adopt else 0.0) + rng.normal(0, 0.02),
                    "revert_rate": float(rng.uniform(0, 0.1)) if on else 0.0,
                }
            )
    return pl.DataFrame(rows)
