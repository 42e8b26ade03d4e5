"""DevLake panel: SQL pushed down into PostgreSQL or MariaDB vs ``import devlake`` + ``build_panel``.

Starts a throwaway PostgreSQL cluster (Debian's server binaries, Unix socket only) or MariaDB
server (``mariadb-install-db`` + ``mariadbd``), fills a DevLake-schema database with a
simulated organisation (``tests/devlake_generated.py``, the generator of the parity tests,
AI evidence included) and runs each path in its own process under ``/usr/bin/time -v``: wall
time, CPU seconds and peak memory (max RSS) of the certkit process, plus the CPU the server
spent (``/proc`` of its processes) and the load average. The pushdown also reports its AI
step (prefilter query, candidates' evidence, detection): wall, certkit CPU, server CPU,
candidates and AI PRs; and its revert step (possible reverts, the PRs they name, the rules):
wall, certkit CPU, server CPU and reverted PRs.

    .venv/bin/python benchmarks/bench_devlake_panel.py --backend mysql --prs 100000
    .venv/bin/python benchmarks/bench_devlake_panel.py --backend postgresql --explain plan.txt
    .venv/bin/python benchmarks/bench_devlake_panel.py --backend mysql --prs 1000000 \
        --skip-import --keep /work/bench/my1m   # filled once; later runs reuse the data

``--keep`` also makes the numbers those of a server restarted on settled data (InnoDB's
persistent statistics), as a production DevLake database is: MariaDB's plans for the panel
query differed right after the fill.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

PUSHDOWN = """
import json, os, resource, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, os.environ["BENCH_DIR"])
from bench_devlake_panel import server_cpu
from certkit.connectors import devlake_panel as dp, devlake_read as dr

pids, step = json.loads(os.environ["BENCH_SERVER"]), {}
inner = getattr(getattr(dp, "ai", None), "ai_pr_ids", None)  # None: before AI was computed

def timed(*a, **kw):
    t0, c0, s0 = time.perf_counter(), time.process_time(), server_cpu(pids)
    out = inner(*a, **kw)
    step.update(ai_wall_s=round(time.perf_counter() - t0, 2),
                ai_cpu_s=round(time.process_time() - c0, 2),
                ai_server_cpu_s=round(server_cpu(pids) - s0, 2),
                candidates=out[2], ai_prs=len(out[0]))
    return out

if inner is not None:
    dp.ai.ai_pr_ids = timed
reverts = getattr(dp, "reverted_pr_ids", None)  # None: before reverts were read

def timed_reverts(*a, **kw):
    t0, c0, s0 = time.perf_counter(), time.process_time(), server_cpu(pids)
    out = reverts(*a, **kw)
    step.update(revert_wall_s=round(time.perf_counter() - t0, 2),
                revert_cpu_s=round(time.process_time() - c0, 2),
                revert_server_cpu_s=round(server_cpu(pids) - s0, 2), reverted=len(out))
    return out

if reverts is not None:
    dp.reverted_pr_ids = timed_reverts
explain = os.environ.get("BENCH_EXPLAIN")
if explain:  # the panel query's plan, measured (the query then runs again, normally)
    run = dr.run_query
    def explained(conn, sql, params):
        if sql.startswith("WITH"):
            pg = type(conn).__module__.startswith("psycopg")
            how = "EXPLAIN (ANALYZE, BUFFERS) " if pg else "ANALYZE FORMAT=JSON "
            rows = run(conn, how + sql, params)
            with open(explain, "w") as f:
                f.write("\\n".join(str(v) for r in rows for v in r.values()))
        return run(conn, sql, params)
    dr.run_query = explained
p = dp.devlake_panel(sys.argv[1], period=sys.argv[2])
ai = p["ai_prs"].sum()
print("rows", p.height, "merged", p["merged_prs"].sum(), "ai", ai, json.dumps(step))
"""
IMPORT = """
import warnings, sys
warnings.simplefilter("ignore")
from certkit.connectors import read_devlake, to_dataset
from certkit.data.panel import build_panel
p = build_panel(to_dataset(read_devlake(sys.argv[1])), sys.argv[2])
print("rows", p.height, "merged", p["merged_prs"].sum(), "ai", p["ai_prs"].sum())
"""


def _pg(name: str) -> str:
    return sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))[-1]


def server_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system, children included) of the server's processes so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in {q for pid in pids for q in [pid, *_children(pid)]}:
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


def _run(
    code: str, uri: str, period: str, pids: list[int], explain: str | None, src: str | None = None
) -> dict:
    before = server_cpu(pids)
    load = os.getloadavg()[0]
    env = {**os.environ, "BENCH_DIR": str(Path(__file__).parent), "BENCH_SERVER": json.dumps(pids)}
    if src:  # another certkit version's source folder (e.g. an older commit's `src`)
        env["PYTHONPATH"] = src
    if explain:
        env["BENCH_EXPLAIN"] = explain
    res = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-c", code, uri, period],
        capture_output=True,
        text=True,
        env=env,
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
        "server_cpu_s": round(server_cpu(pids) - before, 2),
        "load_before": round(load, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "out": res.stdout.strip(),
    }


def _postgresql(root: Path, prs: int):
    """Start a cluster, fill ``lake``: ``(uri, server pids, size, stop)``."""
    import psycopg
    from devlake_generated import fill

    as_user: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    kept = data.exists()  # a --keep folder filled before: start the server on it
    run = lambda *a: subprocess.run([*as_user, *a], check=True, capture_output=True)  # noqa: E731
    if not kept:
        run(_pg("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    opts = f"-k {root} -p 54339 -c listen_addresses='' -c fsync=off -c shared_buffers=512MB"
    run(_pg("pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o", opts, "start")

    def stop() -> None:
        subprocess.run(
            [*as_user, _pg("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )

    base = f"postgresql://postgres@/%s?host={root}&port=54339"
    if not kept:
        with psycopg.connect(base % "postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE lake")
    with psycopg.connect(base % "lake", autocommit=True) as conn:
        if not kept:
            fill(conn, "postgresql", prs)
        size = conn.execute("SELECT pg_size_pretty(pg_database_size('lake'))").fetchone()[0]
    pid = int((data / "postmaster.pid").read_text().split()[0])
    return base % "lake", [pid], size, stop


def _mysql(root: Path, prs: int):
    """Start mariadbd, fill ``lake``: ``(uri, server pids, size, stop)``."""
    import pymysql
    from devlake_generated import fill

    data, sock = root / "data", root / "sock"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    user = ["--user=root"] if os.geteuid() == 0 else []
    kept = data.exists()  # a --keep folder filled before: start the server on it
    if not kept:
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={data}", *user]
            + ["--auth-root-authentication-method=normal", "--skip-test-db"]
            + ["--skip-name-resolve"],
            check=True,
            capture_output=True,
        )
    server = subprocess.Popen(
        [shutil.which("mariadbd") or "/usr/sbin/mariadbd", "--no-defaults", f"--datadir={data}"]
        + [f"--socket={sock}", f"--port={port}", "--bind-address=127.0.0.1", *user]
        + [f"--log-error={root / 'error.log'}", "--skip-name-resolve", f"--tmpdir={root}"]
        + ["--innodb-buffer-pool-size=512M", "--innodb-flush-log-at-trx-commit=0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def stop() -> None:
        server.terminate()
        server.wait(timeout=60)

    kw = {"unix_socket": str(sock), "user": "root", "password": ""}
    for _ in range(300):
        try:
            pymysql.connect(**kw).close()
            break
        except pymysql.err.OperationalError:
            time.sleep(0.1)
    conn = pymysql.connect(**kw, autocommit=True)
    with conn.cursor() as cur:
        if not kept:
            cur.execute("CREATE DATABASE lake CHARACTER SET utf8mb4")
        cur.execute("USE lake")
    if not kept:
        fill(conn, "mysql", prs)
    with conn.cursor() as cur:
        if not kept:
            cur.execute("ANALYZE TABLE pull_requests, commits, pull_request_commits, accounts")
            cur.fetchall()
        cur.execute(
            "SELECT ROUND(SUM(data_length + index_length) / 1048576) FROM "
            "information_schema.tables WHERE table_schema = 'lake'"
        )
        size = f"{cur.fetchone()[0]} MB"
    conn.close()
    return f"mysql://root@localhost/lake?unix_socket={sock}", [server.pid], size, stop


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prs", type=int, default=100_000)
    ap.add_argument("--period", default="month")
    ap.add_argument("--backend", choices=["postgresql", "mysql"], default="postgresql")
    ap.add_argument("--skip-import", action="store_true")
    ap.add_argument("--explain", help="write the panel query's measured plan to this file")
    ap.add_argument(
        "--before",
        metavar="SRC",
        help="also run the pushdown of the certkit source in this folder (e.g. "
        "`git archive COMMIT src | tar -x -C /tmp/old` then /tmp/old/src)",
    )
    ap.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the server's data in DIR (created and filled on the first run; later runs "
        "start the server on it and skip the fill: --prs must then match)",
    )
    args = ap.parse_args()

    if args.keep:
        root = Path(args.keep).resolve()
        root.mkdir(parents=True, exist_ok=True)
        stamp = root / "prs"
        if (root / "data").exists() and not stamp.exists():
            raise SystemExit(f"{root} holds an unfinished fill: delete it and run again")
        if stamp.exists() and int(stamp.read_text()) != args.prs:
            raise SystemExit(f"{root} holds {stamp.read_text()} PRs, not --prs {args.prs}")
    else:
        root = Path(tempfile.mkdtemp(prefix=f"certkit-bench-{args.backend}-"))
    stop = None
    try:
        t0 = time.perf_counter()
        start = _postgresql if args.backend == "postgresql" else _mysql
        uri, pids, size, stop = start(root, args.prs)
        if args.keep:
            (root / "prs").write_text(str(args.prs))
        fill_s = round(time.perf_counter() - t0, 1)
        result = {
            "backend": args.backend,
            "prs": args.prs,
            "period": args.period,
            "fill_s": fill_s,
            "db_size": size,
        }
        if args.before:
            result["pushdown_before"] = _run(PUSHDOWN, uri, args.period, pids, None, args.before)
        result["pushdown"] = _run(PUSHDOWN, uri, args.period, pids, args.explain)
        if not args.skip_import:
            result["import_build_panel"] = _run(IMPORT, uri, args.period, pids, None)
        print(json.dumps(result, indent=2))
    finally:
        if stop is not None:
            stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
