"""Write a large simulated organisation straight to Parquet, in engineer chunks.

``certkit.simulate`` builds a whole organisation in memory (40,000 engineers, 11M PRs used
7.7 GB). :func:`simulate_to_parquet` runs it on chunks of engineers instead and appends each
chunk as one Parquet file per table (``pull_requests/part-00000.parquet`` ...), so memory
stays that of one chunk whatever the size. Identifiers are prefixed with the chunk number
(``c0003-E00042``) so they stay unique. Read the result with
:func:`certkit.data.panel_sources.open_dataset` and build the panel with
:func:`certkit.build_panel` (``streaming=True`` for polars).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import polars as pl

from certkit.errors import CertkitError

TABLES = ("engineers", "certifications", "pull_requests", "defects", "incidents")

#: Identifier columns per table, prefixed by chunk so they stay unique across chunks.
ID_COLUMNS = {
    "engineers": ("engineer_id",),
    "certifications": ("engineer_id",),
    "pull_requests": ("id", "author_id"),
    "defects": ("id", "pr_id", "engineer_id"),
    "incidents": ("id", "pr_id", "engineer_id"),
}

MARKER = ".certkit-simulated"


def simulate_to_parquet(
    out: str | Path,
    n_engineers: int,
    months: int = 24,
    *,
    chunk: int = 5_000,
    seed: int = 0,
    distinct_chunks: int | None = None,
    progress: bool = False,
    **simulate_kwargs,
) -> dict:
    """Simulate ``n_engineers`` in chunks and write one Parquet file per chunk and table.

    Parameters
    ----------
    out
        Output folder; gets ``engineers/``, ``certifications/``, ``pull_requests/``,
        ``defects/``, ``incidents/`` sub-folders of ``part-NNNNN.parquet`` files. An existing
        folder is replaced only if this function wrote it (it leaves a marker file).
    n_engineers, months
        Size of the organisation and length of the window (as :func:`certkit.simulate`).
    chunk
        Engineers per chunk (memory is that of one ``simulate(chunk, months)``).
    seed
        Chunk ``k`` is simulated with seed ``seed + k``.
    distinct_chunks
        Simulate only this many distinct chunks and fill the rest with copies under fresh
        identifiers (for benchmarks: the generator is then no bottleneck). ``None``: every
        chunk is simulated.
    progress
        Print one line per chunk.
    **simulate_kwargs
        Passed to :func:`certkit.simulate` (bots are added to the first chunk only).

    Returns
    -------
    dict
        ``engineers``, ``months``, ``chunks``, row counts per table and ``seconds``.
    """
    from certkit.data.sample import simulate  # lazily: the simulator is the big module

    if n_engineers < 2 or chunk < 2:
        raise CertkitError("simulate_to_parquet needs n_engineers >= 2 and chunk >= 2")
    if distinct_chunks is not None and distinct_chunks < 1:
        raise CertkitError("distinct_chunks must be at least 1 (or None)")
    out = Path(out)
    _prepare(out)
    sizes = [chunk] * (n_engineers // chunk)
    if n_engineers % chunk:
        sizes.append(n_engineers % chunk)
    if len(sizes) > 1 and sizes[-1] < 2:  # simulate needs 2 engineers: merge a lone one
        sizes[-2] += sizes.pop()
    rows = dict.fromkeys(TABLES, 0)
    cache: dict[tuple[int, int], dict[str, pl.DataFrame]] = {}
    t0 = time.perf_counter()
    for k, size in enumerate(sizes):
        base = k if distinct_chunks is None else k % distinct_chunks
        if (base, size) in cache:
            tables = cache[base, size]  # a copy of a simulated chunk, fresh identifiers below
        else:
            kwargs = {**simulate_kwargs, "bots": False} if k else simulate_kwargs
            ds = simulate(n_engineers=size, months=months, seed=seed + base, **kwargs)
            tables = {n: getattr(ds, n) for n in TABLES}
            if distinct_chunks is not None and k < distinct_chunks:
                cache[base, size] = tables
        for name, frame in tables.items():
            frame = _prefixed(frame, ID_COLUMNS[name], f"c{k:04d}-")
            frame.write_parquet(out / name / f"part-{k:05d}.parquet")
            rows[name] += frame.height
        if progress:
            print(f"chunk {k + 1}/{len(sizes)}: {rows['pull_requests']:,} PRs so far", flush=True)
    return {
        "engineers": n_engineers,
        "months": months,
        "chunks": len(sizes),
        "rows": rows,
        "seconds": time.perf_counter() - t0,
    }


def _prepare(out: Path) -> None:
    if out.exists():
        if not (out / MARKER).exists():
            raise CertkitError(
                f"{out} exists and was not written by simulate_to_parquet; "
                "give a new folder (it would be replaced)"
            )
        shutil.rmtree(out)
    for name in TABLES:
        (out / name).mkdir(parents=True)
    (out / MARKER).write_text("written by certkit.data.simulate_parquet; safe to delete\n")


def _prefixed(frame: pl.DataFrame, columns: tuple[str, ...], prefix: str) -> pl.DataFrame:
    present = [c for c in columns if c in frame.columns]
    return frame.with_columns((pl.lit(prefix) + pl.col(c)).alias(c) for c in present)
