"""Benchmark: the full ``certkit report`` on the sample organisation (``data/sample/``).

Target (issue 5): all notebooks executed and exported to offline HTML in under 60 s on a
2-core machine, kernel start-up included.

Run: ``.venv/bin/python benchmarks/bench_report.py [--quick] [--repeat N]``. Each run is a fresh
``certkit report`` process (as ``make report`` runs it) writing to a temporary folder; the table
shows the wall time of the command and each notebook's own time (execution + HTML export).
``--quick`` runs only the data-health notebook. Other arguments are ignored (``make bench``).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 60.0


def run_once(jobs: int, notebooks: list[str]) -> tuple[float, dict[str, float], int]:
    exe = Path(sys.executable).parent / "certkit"
    with tempfile.TemporaryDirectory() as out:
        cmd = [str(exe), "report", "--data", str(ROOT / "data" / "sample"), "--out", out]
        cmd += ["--jobs", str(jobs)]  # not --quiet: the per-notebook table is parsed below
        for nb in notebooks:
            cmd += ["--notebook", nb]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
    per_nb = {
        m.group(1): float(m.group(3))
        for m in re.finditer(r"^report +(\S+) +(ok|failed) +([\d.]+)", proc.stdout, re.M)
    }
    if proc.returncode:
        print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
    return wall, per_nb, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    args, _ = ap.parse_known_args()
    notebooks = ["01_data_health"] if args.quick else []
    rows, failed = [], 0
    for jobs in (2, 1) if not args.quick else (2,):
        for i in range(args.repeat):
            wall, per_nb, rc = run_once(jobs, notebooks)
            failed += rc != 0
            rows.append((jobs, i + 1, wall, per_nb))
    names = sorted({n for *_, p in rows for n in p})
    head = f"{'jobs':>4} {'run':>3} {'wall s':>7}  " + "  ".join(f"{n[:24]:>24}" for n in names)
    print("certkit report on data/sample (notebook seconds = execution + HTML export)")
    print(head)
    print("-" * len(head))
    for jobs, i, wall, per_nb in rows:
        cells = "  ".join(f"{per_nb.get(n, float('nan')):>24.1f}" for n in names)
        flag = "" if wall < TARGET_S else "  (over the 60 s target)"
        print(f"{jobs:>4} {i:>3} {wall:>7.1f}  {cells}{flag}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
