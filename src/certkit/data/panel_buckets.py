"""Engineer buckets: the panel of a big organisation built one range of engineers at a time.

:func:`certkit.data.panel.build_panel` runs its query once per bucket (a contiguous range of
``engineer_id``), so the medians and group-bys hold a bucket's PRs at a time; defects and
incidents are attributed once for all buckets first (a defect's PR may be anyone's) and kept
in the engine. The parts concatenate into the same panel as one query.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from certkit.data.panel_engines import collect_polars

__all__ = [
    "BUCKET_PRS",
    "auto_buckets",
    "can_bucket",
    "engineer_ranges",
    "in_bucket",
    "materialize",
]

#: PRs per bucket when ``build_panel`` picks the number of engineer buckets itself.
BUCKET_PRS = 4_000_000

#: The engineer column of each table split into buckets (defects and incidents are
#: attributed before splitting: their PR's author may be in any bucket).
_ENGINEER_KEY = {
    "engineers": "engineer_id",
    "certifications": "engineer_id",
    "pull_requests": "author_id",
}


def engineer_ranges(engineers: nw.LazyFrame, buckets: int) -> list[tuple[str | None, str | None]]:
    """``buckets`` contiguous ``engineer_id`` ranges [low, high) of about equal size
    (``None``: unbounded), covering every string."""
    if buckets <= 1:
        return [(None, None)]
    ids = collect_polars(engineers.select("engineer_id").unique())["engineer_id"]
    ids = ids.drop_nulls().sort()
    step = max(1, -(-ids.len() // buckets))
    cuts: list[str | None] = [None, *ids.gather_every(step)[1:].to_list(), None]
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def auto_buckets(dataset: Any, engine: str, n_prs: int, streaming: bool) -> int:
    """One bucket per :data:`BUCKET_PRS` PRs for DuckDB and for lazy polars sources on the
    streaming engine (in-memory polars holds every PR anyway: one query)."""
    per_bucket = -(-n_prs // BUCKET_PRS)
    if engine == "duckdb":
        return per_bucket
    if engine == "polars" and streaming and isinstance(dataset.pull_requests, pl.LazyFrame):
        return per_bucket
    return 1


def can_bucket(prs: nw.LazyFrame) -> bool:
    """Buckets need the small attributed tables kept in the engine: polars, or DuckDB with
    ``DuckDBPyRelation.materialize`` (DuckDB 2)."""
    if prs.implementation.is_polars():
        return True
    return prs.implementation.is_duckdb() and hasattr(prs.to_native(), "materialize")


def materialize(frame: nw.LazyFrame, streaming: bool) -> nw.LazyFrame:
    """Run ``frame`` once and keep its (small) result in its engine, for every bucket."""
    if frame.implementation.is_polars():
        return nw.from_native(collect_polars(frame, streaming=streaming).lazy())
    return nw.from_native(frame.to_native().materialize())  # DuckDB: client memory


def in_bucket(
    tables: dict[str, nw.LazyFrame],
    defects: nw.LazyFrame,
    incidents: nw.LazyFrame,
    bucket: tuple[str | None, str | None] | None,
) -> tuple[dict[str, nw.LazyFrame], nw.LazyFrame, nw.LazyFrame]:
    """The tables and attributed counts of one engineer bucket (``None``: all of them)."""
    if bucket is None:
        return tables, defects, incidents
    low, high = bucket
    split = {
        name: frame.filter(_in_range(_ENGINEER_KEY[name], low, high))
        for name, frame in tables.items()
        if name in _ENGINEER_KEY
    }
    return (
        {**tables, **split},
        defects.filter(_in_range("engineer_id", low, high)),
        incidents.filter(_in_range("engineer_id", low, high)),
    )


def _in_range(column: str, low: str | None, high: str | None) -> nw.Expr:
    """``column`` in [low, high); the first range (``low`` None) also takes nulls."""
    below = nw.lit(True) if high is None else nw.col(column) < high
    if low is None:
        return nw.col(column).is_null() | below
    return (nw.col(column) >= low) & below
