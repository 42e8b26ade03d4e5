"""Many simulated organisations for the Monte Carlo tests, at a fraction of the cost.

``ck.simulate`` draws each engineer independently (attributes, certification or adoption
month, PRs), with nothing shared across engineers but fixed settings (season, the
organisation-wide AI curve). So the engineers of one organisation ``per_simulation`` times
the size, split into ``per_simulation`` disjoint groups, are ``per_simulation`` independent
organisations of the wanted size: one ``simulate`` and one ``build_panel`` instead of many
(their fixed costs dominate at a few hundred engineers). Engineers are grouped by their
number modulo ``per_simulation`` (``E00017`` -> 17).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator

import polars as pl

import certkit as ck
from certkit.errors import CertkitWarning


def split_panels(
    n_engineers: int,
    months: int,
    draws: int,
    *,
    per_simulation: int,
    seed: int,
    period: str = "month",
    **simulate_kwargs,
) -> Iterator[tuple[ck.Dataset, pl.DataFrame]]:
    """``draws`` panels of about ``n_engineers`` engineers each, with the dataset each comes
    from (``per_simulation`` panels share one). Seeds ``seed``, ``seed + 1``, ..."""
    group = pl.col("engineer_id").str.slice(1).cast(pl.Int64) % per_simulation
    done = 0
    for s in range(math.ceil(draws / per_simulation)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CertkitWarning)
            ds = ck.simulate(n_engineers * per_simulation, months, seed=seed + s, **simulate_kwargs)
            panel = ck.build_panel(ds, period)
        for k in range(min(per_simulation, draws - done)):
            yield ds, panel.filter(group == k)
        done += per_simulation
