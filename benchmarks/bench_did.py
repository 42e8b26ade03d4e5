"""Benchmark: Callaway & Sant'Anna att_gt + simple aggregation, certkit vs peer packages.

Workload (issue 3): synthetic staggered panel, 10 cohorts + never treated, no covariates,
doubly robust, never-treated controls, analytic SEs. Sizes: mpdta (500 x 5), N=2,000 x T=52,
N=10,000 x T=104 and, for certkit only, N=100,000 x T=104 (10.4 million rows). With ``--cov``
a covariate is added (DR with one covariate) at the two middle sizes.

Peers (csdid, moderndid 0.2, differences, diff-diff) are benchmark-only: install them with
``python3.11 -m venv benchmarks/.peers && benchmarks/.peers/bin/pip install csdid differences
"moderndid<0.3" diff-diff``. A peer that is not installed is reported as such.

Every (tool, size) runs in a fresh process: the data are read from a parquet file, then
att_gt + simple aggregation runs twice; "cold" is the first run, "warm" the second, "peak MB"
the process's peak resident memory (VmHWM), "CPU s" its user + system time (reading the data
and both runs) and "load" the 1-minute load average at its end. Estimates are compared with certkit's (``|diff|``).

Run: ``.venv/bin/python benchmarks/bench_did.py [--quick] [--cov] [--no-peers]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEERS_PY = ROOT / "benchmarks" / ".peers" / "bin" / "python"
PEERS = ["csdid", "moderndid", "differences", "diff-diff"]


def make_panel(n: int, T: int, path: Path, seed: int = 0, covariate: bool = False) -> None:
    """Staggered panel with 10 cohorts + never treated and dynamic effects; written to parquet."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    cohorts = np.unique(np.linspace(T // 5, T - T // 10, 10).astype(int))
    G = np.where(rng.random(n) < 1 / 11, 0, rng.choice(cohorts, n))
    t = np.arange(1, T + 1)
    x = rng.normal(size=n)
    e = t[None, :] - G[:, None]
    eff = np.where((G[:, None] > 0) & (e >= 0), 0.2 + 0.01 * e, 0.0)
    y = rng.normal(size=n)[:, None] + 0.01 * t[None, :] + rng.normal(size=(n, T)) + eff
    if covariate:
        y += 0.05 * x[:, None] * t[None, :] / T
    df = pl.DataFrame(
        {
            "id": np.repeat(np.arange(1, n + 1), T).astype(np.int64),
            "t": np.tile(t, n).astype(np.int64),
            "g": np.repeat(G, T).astype(np.int64),
            "y": y.ravel(),
            "x": np.repeat(x, T),
        }
    )
    df.write_parquet(path)


# ---- workers (run inside a fresh interpreter) ------------------------------------------------


def _run_certkit(path, cov):
    import polars as pl

    from certkit import did

    df = pl.read_parquet(path)
    kw = dict(outcome="y", unit="id", time="t", group="g")
    if cov:
        kw["covariates"] = ["x"]

    def once():
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = did.att_gt(df, **kw).aggregate("simple")
        return a.overall_att, a.overall_se

    return once


def _run_csdid(path, cov):
    import pandas as pd
    from csdid.att_gt import ATTgt

    df = pd.read_parquet(path)

    def once():
        m = ATTgt(
            yname="y",
            tname="t",
            idname="id",
            gname="g",
            data=df,
            control_group=["nevertreated"],
            xformla="y ~ x" if cov else None,
        )
        m.fit(est_method="dr", bstrap=False)
        m.aggte(typec="simple", bstrap=False)
        res = m.atte
        return float(res["overall_att"]), float(res["overall_se"])

    return once


def _run_moderndid(path, cov):
    import moderndid as md
    import pandas as pd

    df = pd.read_parquet(path)

    def once():
        r = md.att_gt(
            df,
            yname="y",
            tname="t",
            idname="id",
            gname="g",
            xformla="~ x" if cov else None,
            est_method="dr",
            boot=False,
            cband=False,
        )
        a = md.aggte(r, type="simple", boot=False, cband=False)
        return float(a.overall_att), float(a.overall_se)

    return once


def _run_differences(path, cov):
    import numpy as np
    import pandas as pd
    from differences import ATTgt

    df = pd.read_parquet(path)
    df["g"] = df["g"].astype(float).replace(0, np.nan)
    df = df.set_index(["id", "t"])

    def once():
        m = ATTgt(data=df, cohort_column="g")
        m.fit(
            formula="y ~ x" if cov else "y",
            est_method="dr",
            control_group="never_treated",
            progress_bar=False,
        )
        out = m.aggregate("simple")
        vals = out.to_numpy().ravel()
        return float(vals[0]), float(vals[1])

    return once


def _run_diffdiff(path, cov):
    import pandas as pd
    from diff_diff import CallawaySantAnna

    df = pd.read_parquet(path)

    def once():
        est = CallawaySantAnna(control_group="never_treated", estimation_method="dr")
        r = est.fit(
            df,
            outcome="y",
            unit="id",
            time="t",
            first_treat="g",
            covariates=["x"] if cov else None,
        )
        return float(r.overall_att), float(r.overall_se)

    return once


RUNNERS = {
    "certkit": _run_certkit,
    "csdid": _run_csdid,
    "moderndid": _run_moderndid,
    "differences": _run_differences,
    "diff-diff": _run_diffdiff,
}


def worker(tool: str, path: str, cov: bool) -> None:
    try:
        once = RUNNERS[tool](path, cov)
        t0 = time.perf_counter()
        att, se = once()
        t1 = time.perf_counter()
        once()
        t2 = time.perf_counter()
        out = {"cold": t1 - t0, "warm": t2 - t1, "att": att, "se": se}
    except Exception as exc:  # a peer's failure is reported, not fatal
        out = {"error": f"{type(exc).__name__}: {str(exc)[:120]}"}
    # VmHWM, not ru_maxrss: the latter carries the parent's high-water mark (the driver
    # that generated the 10-million-row panel) across fork and exec
    with open("/proc/self/status") as f:
        out["peak_mb"] = int(next(x for x in f if x.startswith("VmHWM:")).split()[1]) / 1024
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_s"] = usage.ru_utime + usage.ru_stime
    out["load"] = os.getloadavg()[0]
    print("RESULT " + json.dumps(out))


# ---- driver -----------------------------------------------------------------------------------


def run(tool: str, path: Path, cov: bool, timeout: float) -> dict:
    py = sys.executable if tool == "certkit" else str(PEERS_PY)
    if tool != "certkit" and not PEERS_PY.exists():
        return {"error": "not installed (no benchmarks/.peers venv)"}
    cmd = [py, __file__, "--worker", tool, str(path)] + (["--cov"] if cov else [])
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    line = next((x for x in p.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        err = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": err[:120]}
    res = json.loads(line[7:])
    if "error" in res and "ModuleNotFoundError" in res["error"]:
        res["error"] = "not installed"
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs=2, metavar=("TOOL", "PATH"))
    ap.add_argument("--cov", action="store_true", help="add one covariate (DR with x)")
    ap.add_argument("--quick", action="store_true", help="only mpdta and 2,000 x 52")
    ap.add_argument("--no-peers", action="store_true", help="certkit only")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.cov)
        return
    sizes = [("mpdta", 500, 5), ("2k x 52", 2_000, 52), ("10k x 104", 10_000, 104)]
    if not args.quick and not args.cov:
        sizes.append(("100k x 104", 100_000, 104))
    if args.quick:
        sizes = sizes[:2]
    tools = ["certkit"] + ([] if args.no_peers else PEERS)
    print(
        f"{'size':<11} {'tool':<12} {'cold s':>8} {'warm s':>8} {'peak MB':>8} "
        f"{'ATT':>10} {'SE':>9} {'|diff|':>9} {'CPU s':>7} {'load':>5}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, n, T in sizes:
            path = Path(tmp) / f"{label.replace(' ', '')}.parquet"
            if label == "mpdta":
                import polars as pl

                pl.read_csv(ROOT / "tests" / "fixtures" / "did" / "mpdta.csv").select(
                    id=pl.col("countyreal"),
                    t=pl.col("year"),
                    g=pl.col("first.treat"),
                    y=pl.col("lemp"),
                    x=pl.col("lpop"),
                ).write_parquet(path)
            else:
                make_panel(n, T, path, covariate=args.cov)
            ref = None
            for tool in tools:
                if n > 10_000 and tool != "certkit":
                    continue  # peers take minutes at 10 million rows
                r = run(tool, path, args.cov, args.timeout)
                if "error" in r:
                    print(f"{label:<11} {tool:<12} {r['error']}")
                    continue
                if tool == "certkit":
                    ref = r["att"]
                diff = abs(r["att"] - ref) if ref is not None else float("nan")
                print(
                    f"{label:<11} {tool:<12} {r['cold']:>8.3f} {r['warm']:>8.3f} "
                    f"{r['peak_mb']:>8.0f} {r['att']:>10.6f} {r['se']:>9.6f} {diff:>9.1e} "
                    f"{r.get('cpu_s', float('nan')):>7.1f} {r.get('load', float('nan')):>5.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
