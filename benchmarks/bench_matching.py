"""Matching benchmark: certkit vs R MatchIt (and psmpy), cold and warm, in fresh processes.

Usage::

    .venv/bin/python benchmarks/bench_matching.py            # lalonde + 1k/10k + 10k/100k
    .venv/bin/python benchmarks/bench_matching.py --quick    # lalonde + 1k/10k only
    .venv/bin/python benchmarks/bench_matching.py --peers    # add R MatchIt and psmpy

Cases (issue 4), synthetic data with 8 covariates, 3 of them categorical:

* ``ps``: logit propensity model + 1:1 nearest neighbour (no replacement, largest score first)
  with a 0.2 SD caliper + balance table before/after;
* ``mahal``: Mahalanobis 1:1 nearest neighbour with replacement (KD-tree, no N x M matrix).

Every (tool, data, case) runs in a fresh process: data are read (not timed), then the case
runs up to four times: "cold" is the first call (lazy imports, first-touch allocations),
"warm" the best of the next three (one if the first took over 10 s, none over 60 s), which
filters out load from other processes on a shared machine. Peak memory is the process's
high-water RSS (``ru_maxrss`` for Python, ``VmHWM`` for R), "base MB" the RSS after imports
and data loading, so peak - base is what the case adds.
No tracemalloc: it slows numpy-heavy code by 2-3x and would distort the timings.

Peers are benchmark-only, never dependencies. R MatchIt runs through ``Rscript`` when it is on
the PATH (``apt-get install -y r-cran-matchit``); the same specification (``matchit(..., method
= "nearest", caliper = 0.2)`` + ``summary()``; ``distance = "mahalanobis", replace = TRUE``).
psmpy runs from ``benchmarks/.peers`` (``benchmarks/.peers/bin/pip install psmpy``): its
closest specification is ``logistic_ps(balance=False)`` (sklearn, L2-penalised) +
``kdtree_matched`` on the score with the same caliper and no balance table; it has no
Mahalanobis matching. Peer processes get a 600 s timeout and an 8 GB address-space limit, so
an out-of-memory peer is reported instead of taking the machine down.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LALONDE = HERE.parent / "tests" / "fixtures" / "matching" / "lalonde.csv"
PEERS_PY = HERE / ".peers" / "bin" / "python"
TIMEOUT = 600
MEM_LIMIT = 8 * 2**30
NON_COVARIATES = ("treat", "id", "re78", "y")

R_SCRIPT = r"""
suppressPackageStartupMessages(library(MatchIt))
args <- commandArgs(TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
covs <- setdiff(names(d), c("treat", "id", "re78", "y"))
f <- reformulate(covs, "treat")
rss <- function(key) {
  s <- readLines("/proc/self/status")
  as.numeric(gsub("[^0-9]", "", s[startsWith(s, key)])) / 1024
}
base <- rss("VmRSS:")
once <- function() {
  t0 <- Sys.time()
  if (args[2] == "ps") {
    m <- matchit(f, data = d, method = "nearest", caliper = 0.2)
    s <- summary(m)
  } else {
    m <- matchit(f, data = d, method = "nearest", distance = "mahalanobis", replace = TRUE)
  }
  list(secs = as.numeric(Sys.time() - t0, units = "secs"),
       matched = sum(m$weights[d$treat == 1] > 0))
}
a <- once()
warm <- if (a$secs < 60) min(sapply(seq_len(if (a$secs < 10) 3 else 1), function(i) once()$secs)) else NA
cat(sprintf('RESULT {"cold": %f, "warm": %s, "matched": %d, "base_mb": %f, "peak_mb": %f}\n',
            a$secs, ifelse(is.na(warm), "null", sprintf("%f", warm)), a$matched,
            base, rss("VmHWM:")))
"""


def make_data(n1: int, n0: int, path: Path, seed: int = 0) -> None:
    """Synthetic org: 5 numeric + 3 categorical covariates, treated shifted on a few."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    n = n1 + n0
    treat = np.r_[np.ones(n1, int), np.zeros(n0, int)]
    shift = 0.4 * treat
    df = pl.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "treat": treat,
            "tenure": rng.gamma(2, 2, n) + shift,
            "prs": rng.poisson(12, n) + 2 * treat,
            "cycle": rng.normal(4, 1, n) - shift,
            "reviews": rng.poisson(20, n),
            "lines": rng.lognormal(5, 1, n),
            "role": rng.choice(["ml", "ds", "de", "be", "pl"], n),
            "level": rng.choice(["junior", "mid", "senior", "staff"], n),
            "platform": rng.choice(["aws", "gcp", "azure", "dbx"], n),
        }
    )
    df.write_csv(path)


# ---- workers (run inside a fresh interpreter) ------------------------------------------------


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _certkit(path: str, case: str):
    import warnings

    import polars as pl

    from certkit import matching as M

    df = pl.read_csv(path)
    covs = [c for c in df.columns if c not in NON_COVARIATES]

    def once():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if case == "ps":
                m = M.match(df, treatment="treat", covariates=covs, caliper=0.2)
                m.balance()
            else:
                m = M.match(
                    df, treatment="treat", covariates=covs, distance="mahalanobis", replace=True
                )
        return int((m.match_matrix >= 0).any(axis=1).sum())

    return once


def _psmpy(path: str, case: str):
    import warnings

    import pandas as pd
    from psmpy import PsmPy

    if case != "ps":
        raise NotImplementedError("psmpy has no Mahalanobis matching")
    raw = pd.read_csv(path)
    covs = [c for c in raw.columns if c not in NON_COVARIATES]
    df = pd.get_dummies(raw[covs], drop_first=True, dtype=float)
    df.insert(0, "treat", raw["treat"])
    df.insert(0, "id", raw["id"])

    def once():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            psm = PsmPy(df.copy(), treatment="treat", indx="id", exclude=[])
            psm.logistic_ps(balance=False)
            cal = 0.2 * psm.predicted_data["propensity_score"].std()
            psm.kdtree_matched(matcher="propensity_score", replacement=False, caliper=cal)
        return len(psm.matched_ids)

    return once


def worker(tool: str, path: str, case: str) -> None:
    if tool != "certkit":
        resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))
    out: dict = {}
    try:
        once = {"certkit": _certkit, "psmpy": _psmpy}[tool](path, case)
        out["base_mb"] = _rss_mb()
        t0 = time.perf_counter()
        out["matched"] = once()
        t1 = time.perf_counter()
        out["cold"] = t1 - t0
        if out["cold"] < 60:
            warm = []
            for _ in range(3 if out["cold"] < 10 else 1):
                t1 = time.perf_counter()
                once()
                warm.append(time.perf_counter() - t1)
            out["warm"] = min(warm)
    except MemoryError:
        out["error"] = f"out of memory (> {MEM_LIMIT / 2**30:.0f} GB)"
    except Exception as exc:  # a peer's failure is reported, not fatal
        out["error"] = f"{type(exc).__name__}: {str(exc)[:100]}"
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out), flush=True)


# ---- driver ----------------------------------------------------------------------------------


def run(cmd: list[str]) -> dict:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout (> {TIMEOUT} s)"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    err = (proc.stderr.strip().splitlines() or ["failed"])[-1]
    if proc.returncode < 0:
        err = f"killed by signal {-proc.returncode} ({err[:60]})"
    return {"error": err[:120]}


def _fmt(v, spec: str = ".3f") -> str:
    if v is None:
        return "-"
    return format(v, spec) if isinstance(v, float) else str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip 10k/100k")
    ap.add_argument("--peers", action="store_true", help="add R MatchIt and psmpy")
    ap.add_argument("--worker", nargs=3, metavar=("TOOL", "PATH", "CASE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    sizes = [(1_000, 10_000)] if args.quick else [(1_000, 10_000), (10_000, 100_000)]
    tools = ["certkit"]
    rscript = shutil.which("Rscript") if args.peers else None
    if args.peers:
        if rscript:
            tools.append("MatchIt")
        else:
            print("R MatchIt: Rscript not found (apt-get install -y r-cran-matchit)")
        if PEERS_PY.exists():
            tools.append("psmpy")
        else:
            print("psmpy: benchmarks/.peers not found")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        datasets = [("lalonde", LALONDE)]
        for n1, n0 in sizes:
            p = tmp / f"sim_{n1}_{n0}.csv"
            make_data(n1, n0, p)
            datasets.append((f"{n1 // 1000}k/{n0 // 1000}k", p))
        rfile = tmp / "bench.R"
        rfile.write_text(R_SCRIPT)
        for name, path in datasets:
            for case in ("ps", "mahal"):
                for tool in tools:
                    if tool == "psmpy" and case != "ps":
                        continue
                    if tool == "MatchIt":
                        res = run([rscript, str(rfile), str(path), case])
                    else:
                        py = sys.executable if tool == "certkit" else str(PEERS_PY)
                        res = run([py, __file__, "--worker", tool, str(path), case])
                    row = {"data": name, "case": case, "tool": tool, **res}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    print()
    head = ["data", "case", "tool", "cold s", "warm s", "matched", "base MB", "peak MB"]
    keys = ["data", "case", "tool", "cold", "warm", "matched", "base_mb", "peak_mb"]
    widths = [8, 6, 8, 9, 9, 8, 8, 8]
    print(" | ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for r in rows:
        cells = []
        for k, w in zip(keys, widths, strict=True):
            spec = ".0f" if k.endswith("_mb") else ".3f"
            cells.append(_fmt(r.get(k), spec).rjust(w))
        line = " | ".join(cells)
        if "error" in r:
            line += f"   ({r['error']})"
        print(line)


if __name__ == "__main__":
    main()
