"""Benchmark: the monthly panel of a large organisation, from Parquet, per engine.

Targets (issue 14), on a 2-core, 24 GB machine: 60M PRs from Parquet to panel in under 60 s
and under 4 GB peak with polars streaming; DuckDB within 2x of polars.

Step 1 writes one organisation of ``--engineers`` (default 220,000 x 24 months, about 60M
PRs) with :func:`certkit.data.simulate_parquet.simulate_to_parquet`, in chunks of 5,000 engineers
(``--distinct`` of them simulated, the rest copies under fresh ids, so the generator is not
the bottleneck). Smaller sizes are the first chunks of it (symlinked part files), so every
size is the same kind of organisation.

Step 2 runs each (size, engine) in a fresh process: open the Parquet tables lazily, build the
monthly panel, and report wall time, CPU time and the process's peak resident memory (VmHWM,
which includes the interpreter and imports, about 0.2 GB). polars streaming builds the panel
and DuckDB build the panel in engineer buckets (automatic: one per
``certkit.data.panel_buckets.BUCKET_PRS`` PRs); ``duckdb-1`` is DuckDB's one query (no buckets) and
``duckdb-spill`` the same with ``memory_limit`` ``--spill-limit`` (DuckDB spills to a
temporary folder). ``spark`` (opt-in: ``--engines spark``, needs Java 17) is a local
Spark session reading the same Parquet. ``load`` is the 1-minute load average at the start
and end of a run.

Run: ``.venv/bin/python benchmarks/bench_scale.py --data /tmp/certkit-scale [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

CHUNK = 5_000
SIZES = [10_000, 40_000, 100_000, 220_000]  # engineers x 24 months; 220k is about 60M PRs
#: ``duckdb``: engineer buckets (automatic); ``duckdb-1``: one query (no buckets, as before);
#: ``duckdb-spill``: one query on a connection with ``memory_limit`` ``--spill-limit``.
ENGINES = ["polars-streaming", "duckdb", "polars-memory", "duckdb-1", "duckdb-spill"]
#: Opt-in (``--engines spark``): a local Spark session (``local[2]``, 6 GB driver) reading the
#: Parquet folder; its JVM start is not counted, and the JVM's CPU and memory are not in the
#: row (CPU s and peak GB are the Python client's).
OPT_IN = ["spark"]
TABLES = ("engineers", "certifications", "pull_requests", "defects", "incidents")


def generate(root: Path, engineers: int, months: int, distinct: int) -> None:
    from certkit.data.simulate_parquet import simulate_to_parquet

    full = root / "full"
    if (full / "engineers").is_dir() and len(list((full / "engineers").glob("*.parquet"))) >= (
        engineers // CHUNK
    ):
        print(f"reusing {full}")
        return
    info = simulate_to_parquet(
        full, engineers, months, chunk=CHUNK, seed=1, distinct_chunks=distinct, progress=True
    )
    print(json.dumps(info))


def size_folder(root: Path, engineers: int) -> Path:
    """A folder whose tables are the first ``engineers / CHUNK`` chunk files of the full org."""
    n_chunks = engineers // CHUNK
    folder = root / f"org-{engineers}"
    for name in TABLES:
        parts = sorted((root / "full" / name).glob("part-*.parquet"))[:n_chunks]
        if len(parts) < n_chunks:
            raise SystemExit(f"{root}/full has only {len(parts)} chunks; generate more")
        target = folder / name
        target.mkdir(parents=True, exist_ok=True)
        for part in parts:
            link = target / part.name
            if not link.exists():
                link.symlink_to(part)
    return folder


def peak_rss_gb() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss would carry the parent's
    high-water mark across fork and exec)."""
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024**2


def cpu_seconds() -> float:
    """User + system CPU time of this process (less sensitive than wall time to other load)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(folder: str, engine: str, spill_limit: str = "3GB") -> dict:
    import warnings

    import polars as pl

    import certkit as ck
    from certkit.data.panel_sources import open_dataset

    warnings.simplefilter("ignore")
    from certkit.data.panel_buckets import BUCKET_PRS

    session = _local_spark() if engine == "spark" else None  # JVM start not counted
    load_start = os.getloadavg()[0]
    t0 = time.perf_counter()
    duck = engine.startswith("duckdb")
    limit = spill_limit if engine == "duckdb-spill" else None
    if session is not None:
        ds = open_dataset(folder, "spark", session=session)
    else:
        ds = open_dataset(folder, "duckdb" if duck else "polars", memory_limit=limit)
    buckets = 1 if engine in ("duckdb-1", "duckdb-spill") else None
    streaming = engine == "polars-streaming"
    panel = ck.build_panel(ds, "month", streaming=streaming, buckets=buckets, progress=False)
    seconds = time.perf_counter() - t0
    if session is not None:
        session.stop()
    prs = pl.scan_parquet(f"{folder}/pull_requests/*.parquet").select(pl.len()).collect().item()
    auto = -(-prs // BUCKET_PRS) if engine in ("duckdb", "polars-streaming") else 1
    return {
        "engine": engine,
        "buckets": auto,
        "load_start": load_start,
        "prs": prs,
        "engineers": panel["engineer_id"].n_unique(),
        "panel_rows": panel.height,
        "seconds": seconds,
        "peak_gb": peak_rss_gb(),
        "cpu_seconds": cpu_seconds(),
        "load_avg": os.getloadavg()[0],
        "merged_prs": int(panel["merged_prs"].sum()),
        "defects": int(panel["defects"].sum()),
        "incidents": int(panel["incidents"].sum()),
    }


def _local_spark():
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.driver.memory", "6g")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="/tmp/certkit-scale", help="work folder")
    parser.add_argument("--engineers", type=int, default=SIZES[-1], help="largest size")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--distinct", type=int, default=4, help="distinct simulated chunks")
    parser.add_argument("--sizes", type=int, nargs="*", help="engineer counts to measure")
    parser.add_argument("--engines", nargs="*", default=ENGINES, choices=ENGINES + OPT_IN)
    parser.add_argument("--memory-max", type=int, default=100_000, help="largest polars-memory")
    parser.add_argument("--quick", action="store_true", help="10k engineers only")
    parser.add_argument("--generate-only", action="store_true", help="write the data and stop")
    parser.add_argument("--spill-limit", default="3GB", help="memory_limit of duckdb-spill")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child, spill_limit=args.spill_limit)))
        return
    root = Path(args.data)
    sizes = args.sizes or ([SIZES[0]] if args.quick else [*SIZES[:-1], args.engineers])
    if args.generate_only:
        generate(root, max(sizes), args.months, args.distinct)
        return
    # the generator runs in its own process so this one stays small
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--data",
            str(root),
            "--months",
            str(args.months),
            "--distinct",
            str(args.distinct),
            "--sizes",
            str(max(sizes)),
            "--generate-only",
        ],
        check=True,
    )
    rows = []
    for n in sizes:
        folder = size_folder(root, n)
        for engine in args.engines:
            if engine == "polars-memory" and n > args.memory_max:
                continue
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    str(folder),
                    engine,
                    "--spill-limit",
                    args.spill_limit,
                ],
                capture_output=True,
                text=True,
            )
            if proc.returncode:
                print(f"{n} {engine}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), flush=True)
    head = (
        f"{'engineers':>9} {'PRs':>12} {'panel rows':>11} {'engine':>17} {'buckets':>7} "
        f"{'seconds':>8} {'peak GB':>8} {'CPU s':>7} {'CPU s/1M':>8} {'load':>9}"
    )
    print("\ncertkit monthly panel from Parquet, each run in a fresh process")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['engineers']:>9,} {r['prs']:>12,} {r['panel_rows']:>11,} {r['engine']:>17} "
            f"{r['buckets']:>7} {r['seconds']:>8.1f} {r['peak_gb']:>8.2f} "
            f"{r['cpu_seconds']:>7.1f} {r['cpu_seconds'] / r['prs'] * 1e6:>8.2f} "
            f"{r['load_start']:>4.1f}-{r['load_avg']:<4.1f}"
        )


if __name__ == "__main__":
    main()
