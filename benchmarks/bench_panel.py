"""Benchmark: simulate an organisation and build the monthly panel.

Targets: panel build from an in-memory Dataset of about 3 million PRs (10,000 engineers x
24 months) in under 5 s and under 2 GB on a 2-core machine (issue: foundation), and under
0.5 s (issue 14, "scale").

Peer: the same panel built by DuckDB (``build_panel`` on DuckDB tables copied from the same
in-memory frames; the copy is not timed), beside polars.

Run: ``.venv/bin/python benchmarks/bench_panel.py [--quick]``. Each size runs in a fresh process
so its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import threading
import time

SIZES = [(400, 24), (2_000, 24), (10_000, 24)]


def rss_mb() -> float:
    """Current resident memory of this process (Linux)."""
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


class PeakSampler(threading.Thread):
    """Samples RSS every few milliseconds so the peak of one step can be told apart."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.running = rss_mb(), True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.002)


def duckdb_best(ds) -> float | None:
    """Best of three DuckDB panel builds over tables copied from ``ds`` (copy untimed)."""
    try:
        import duckdb
    except ImportError:
        return None
    import certkit as ck
    from certkit.data.panel_sources import copy_to_duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    lazy = copy_to_duckdb(ds, con)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        ck.build_panel(lazy, "month")
        times.append(time.perf_counter() - t0)
    return min(times)


def measure(n: int, months: int) -> dict:
    import warnings

    import certkit as ck

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    ds = ck.simulate(n_engineers=n, months=months, seed=1)
    t_sim = time.perf_counter() - t0
    gc.collect()
    baseline = rss_mb()
    sampler = PeakSampler()
    sampler.start()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        panel = ck.build_panel(ds, "month")
        times.append(time.perf_counter() - t0)
    sampler.running = False
    sampler.join()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    duckdb_s = duckdb_best(ds)
    return {
        "engineers": n,
        "months": months,
        "prs": ds.pull_requests.height,
        "panel_rows": panel.height,
        "simulate_s": t_sim,
        "panel_s_first": times[0],
        "panel_s_best": min(times),
        "duckdb_s_best": duckdb_s,
        "peak_rss_mb": rss_after,
        "panel_extra_mb": sampler.peak - baseline,
        "dataset_mb": baseline,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    sizes = SIZES[:1] if args.quick else SIZES
    rows = []
    for n, months in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n), str(months)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    head = (
        f"{'engineers':>9} {'months':>6} {'PRs':>10} {'panel rows':>10} {'simulate s':>10} "
        f"{'panel s (1st)':>13} {'panel s (best)':>14} {'duckdb s (best)':>15} {'peak RSS MB':>11} "
        f"{'dataset MB':>10} {'panel peak +MB':>14}"
    )
    print("certkit panel build (monthly), each size in a fresh process")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['engineers']:>9,} {r['months']:>6} {r['prs']:>10,} {r['panel_rows']:>10,} "
            f"{r['simulate_s']:>10.2f} {r['panel_s_first']:>13.2f} {r['panel_s_best']:>14.2f} "
            f"{_seconds(r['duckdb_s_best']):>15} "
            f"{r['peak_rss_mb']:>11.0f} {r['dataset_mb']:>10.0f} {r['panel_extra_mb']:>14.0f}"
        )
    print(
        "targets: 10,000 engineers x 24 months (~3M PRs): panel < 5 s and < 2 GB above the "
        "dataset (foundation); < 0.5 s (issue 14)"
    )
    print(f"machine load average at the end: {os.getloadavg()[0]:.1f} (wall times need < 2)")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    main()
