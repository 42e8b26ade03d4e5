"""DevLake panel: SQL pushed down into PostgreSQL vs ``import devlake`` + ``build_panel``.

Starts a throwaway PostgreSQL cluster (Debian's server binaries, Unix socket only), fills a
DevLake-schema database with a simulated organisation (``tests/devlake_generated.py``, the
generator of the parity tests) and runs each path in its own process under
``/usr/bin/time -v``: wall time, CPU seconds and peak memory (max RSS) of the certkit process,
plus the CPU the PostgreSQL server spent (``/proc`` of its processes) and the load average.

    .venv/bin/python benchmarks/bench_devlake_panel.py --prs 1000000
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

PUSHDOWN = """
import warnings, sys
warnings.simplefilter("ignore")
from certkit.connectors.devlake_panel import devlake_panel
p = devlake_panel(sys.argv[1], period=sys.argv[2])
print("rows", p.height, "merged", p["merged_prs"].sum())
"""
IMPORT = """
import warnings, sys
warnings.simplefilter("ignore")
from certkit.connectors import read_devlake, to_dataset
from certkit.data.panel import build_panel
p = build_panel(to_dataset(read_devlake(sys.argv[1])), sys.argv[2])
print("rows", p.height, "merged", p["merged_prs"].sum())
"""


def _pg(name: str) -> str:
    return sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))[-1]


def _server_cpu(data: Path) -> float:
    """CPU seconds (user + system, children included) of the cluster's processes so far."""
    pid = int((data / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in f[11:15]) / tick  # utime stime cutime cstime
    return total


def _children(pid: int) -> list[int]:
    out = []
    for d in glob.glob("/proc/[0-9]*/stat"):
        try:
            f = Path(d).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(f[1]) == pid:
            out.append(int(d.split("/")[2]))
    return out


def _run(code: str, uri: str, period: str, data: Path) -> dict:
    before = _server_cpu(data)
    load = os.getloadavg()[0]
    res = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-c", code, uri, period],
        capture_output=True,
        text=True,
    )
    if res.returncode:
        raise SystemExit(res.stderr[-3000:])
    t = res.stderr

    def field(label: str) -> str:
        return re.search(rf"{re.escape(label)}: (.*)", t).group(1).strip()

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")
    return {
        "wall_s": round(sum(float(x) * 60**i for i, x in enumerate(reversed(wall))), 2),
        "cpu_s": round(
            float(field("User time (seconds)")) + float(field("System time (seconds)")), 2
        ),
        "max_rss_mb": round(int(field("Maximum resident set size (kbytes)")) / 1024),
        "server_cpu_s": round(_server_cpu(data) - before, 2),
        "load_before": round(load, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "out": res.stdout.strip(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prs", type=int, default=100_000)
    ap.add_argument("--period", default="month")
    ap.add_argument("--skip-import", action="store_true")
    args = ap.parse_args()
    import psycopg
    from devlake_generated import fill

    root = Path(tempfile.mkdtemp(prefix="certkit-bench-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    run = lambda *a: subprocess.run([*as_user, *a], check=True, capture_output=True)  # noqa: E731
    run(_pg("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    opts = f"-k {root} -p 54339 -c listen_addresses='' -c fsync=off -c shared_buffers=512MB"
    run(_pg("pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o", opts, "start")
    try:
        base = f"postgresql://postgres@/%s?host={root}&port=54339"
        with psycopg.connect(base % "postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE lake")
        t0 = time.perf_counter()
        with psycopg.connect(base % "lake", autocommit=True) as conn:
            fill(conn, "postgresql", args.prs)
            size = conn.execute("SELECT pg_size_pretty(pg_database_size('lake'))").fetchone()[0]
        fill_s = round(time.perf_counter() - t0, 1)
        uri = base % "lake"
        result = {"prs": args.prs, "period": args.period, "fill_s": fill_s, "db_size": size}
        result["pushdown"] = _run(PUSHDOWN, uri, args.period, data)
        if not args.skip_import:
            result["import_build_panel"] = _run(IMPORT, uri, args.period, data)
        print(json.dumps(result, indent=2))
    finally:
        subprocess.run(
            [*as_user, _pg("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
