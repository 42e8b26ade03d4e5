"""Chunked simulation to Parquet, read back lazily: the panel matches the in-memory one."""

from __future__ import annotations

import warnings

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import certkit as ck
from certkit.data.panel_sources import open_dataset
from certkit.data.simulate_parquet import simulate_to_parquet


def panel(ds, **kw) -> pl.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        return ck.build_panel(ds, "month", **kw)


def test_chunks_are_the_simulator_with_prefixed_ids(tmp_path):
    info = simulate_to_parquet(tmp_path / "org", 25, months=4, chunk=10, seed=3)
    assert info["chunks"] == 3
    engineers = pl.read_parquet(tmp_path / "org" / "engineers" / "*.parquet")
    assert engineers["engineer_id"].is_unique().all()
    humans = engineers.filter(~pl.col("is_bot"))
    assert humans.height == 25 and engineers.filter(pl.col("is_bot")).height == 2  # bots once
    prs = pl.read_parquet(tmp_path / "org" / "pull_requests" / "*.parquet")
    assert prs.height == info["rows"]["pull_requests"]
    assert prs["id"].is_unique().all()
    # chunk 1 is simulate(10, seed=4) with ids prefixed c0001-
    alone = ck.simulate(n_engineers=10, months=4, seed=4, bots=False).pull_requests
    chunk1 = prs.filter(pl.col("author_id").str.starts_with("c0001-"))
    assert chunk1.height == alone.height
    assert chunk1["id"].str.strip_prefix("c0001-").to_list() == alone["id"].to_list()

    lazy_panel = panel(open_dataset(tmp_path / "org", "polars"), streaming=True)
    assert lazy_panel["engineer_id"].n_unique() == 25
    assert lazy_panel["merged_prs"].sum() > 0
    duck = pytest.importorskip("duckdb")
    assert duck is not None
    duck_panel = panel(open_dataset(tmp_path / "org", "duckdb"))
    assert_frame_equal(lazy_panel, duck_panel, check_exact=False, rel_tol=1e-12, abs_tol=0)


def test_distinct_chunks_copy_under_fresh_ids(tmp_path):
    info = simulate_to_parquet(tmp_path / "org", 30, months=3, chunk=10, distinct_chunks=1)
    prs = pl.read_parquet(tmp_path / "org" / "pull_requests" / "*.parquet")
    per_chunk = prs.group_by(pl.col("id").str.slice(0, 5)).len()
    assert per_chunk.height == 3 and prs["id"].is_unique().all()
    assert info["rows"]["pull_requests"] == prs.height
    with pytest.raises(ck.CertkitError, match="not written by simulate_to_parquet"):
        simulate_to_parquet(tmp_path, 10, months=3)
    simulate_to_parquet(tmp_path / "org", 20, months=4, chunk=10)  # its own: replaced
    assert pl.read_parquet(tmp_path / "org" / "engineers" / "*.parquet").height == 22
