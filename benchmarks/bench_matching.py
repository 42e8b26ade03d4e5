"""Matching benchmark: time and peak memory, each case in a fresh subprocess.

Usage::

    .venv/bin/python benchmarks/bench_matching.py            # lalonde + 1k/10k + 10k/100k
    .venv/bin/python benchmarks/bench_matching.py --quick    # lalonde + 1k/10k only
    .venv/bin/python benchmarks/bench_matching.py --peers    # add R MatchIt (Rscript) if installed

Cases (issue 4): 8 covariates, 3 of them categorical; "ps": logit propensity model + 1:1
nearest neighbour with a 0.2 SD caliper + balance table; "mahal": Mahalanobis 1:1 with
replacement (KD-tree search, no dense N x M distance matrix). R MatchIt runs the same
specification through ``Rscript`` on the same CSV when ``--peers`` is given and R is present.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LALONDE = HERE.parent / "tests" / "fixtures" / "matching" / "lalonde.csv"

CHILD = r"""
import json, sys, time, tracemalloc, warnings
import numpy as np, polars as pl
from certkit import matching as M
path, case = sys.argv[1], sys.argv[2]
df = pl.read_csv(path)
covs = [c for c in df.columns if c not in ("treat", "id", "re78", "y")]
warnings.simplefilter("ignore")
tracemalloc.start()
t0 = time.perf_counter()
if case == "ps":
    m = M.match(df, treatment="treat", covariates=covs, caliper=0.2)
    m.balance()
else:
    m = M.match(df, treatment="treat", covariates=covs, distance="mahalanobis", replace=True)
elapsed = time.perf_counter() - t0
peak = tracemalloc.get_traced_memory()[1] / 2**20
print(json.dumps({"seconds": elapsed, "peak_mb": peak}))
"""

R_SCRIPT = r"""
suppressPackageStartupMessages(library(MatchIt))
args <- commandArgs(TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
covs <- setdiff(names(d), c("treat", "id", "re78", "y"))
f <- reformulate(covs, "treat")
t0 <- Sys.time()
if (args[2] == "ps") {
  m <- matchit(f, data = d, method = "nearest", caliper = 0.2); s <- summary(m)
} else {
  m <- matchit(f, data = d, method = "nearest", distance = "mahalanobis", replace = TRUE)
}
cat(sprintf('{"seconds": %f, "peak_mb": null}\n', as.numeric(Sys.time() - t0, units = "secs")))
"""


def make_data(n1: int, n0: int, path: Path, seed: int = 0) -> None:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    n = n1 + n0
    treat = np.r_[np.ones(n1, int), np.zeros(n0, int)]
    shift = 0.4 * treat
    df = pl.DataFrame(
        {
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


def run(cmd: list[str]) -> dict | None:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--peers", action="store_true")
    args = ap.parse_args()
    sizes = [(1_000, 10_000)] if args.quick else [(1_000, 10_000), (10_000, 100_000)]
    rscript = shutil.which("Rscript") if args.peers else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        datasets = [("lalonde", LALONDE)]
        for n1, n0 in sizes:
            p = tmp / f"sim_{n1}_{n0}.csv"
            make_data(n1, n0, p)
            datasets.append((f"{n1:,}/{n0:,}", p))
        rfile = tmp / "bench.R"
        rfile.write_text(R_SCRIPT)
        for name, path in datasets:
            for case in ("ps", "mahal"):
                res = run([sys.executable, "-c", CHILD, str(path), case])
                row = {
                    "data": name,
                    "case": case,
                    "certkit_s": res.get("seconds"),
                    "certkit_peak_mb": res.get("peak_mb"),
                }
                if rscript:
                    r = run([rscript, str(rfile), str(path), case])
                    row["matchit_s"] = r.get("seconds") if r else None
                rows.append(row)
                print(row, flush=True)
    print()
    head = ["data", "case", "certkit_s", "certkit_peak_mb"] + (["matchit_s"] if rscript else [])
    print(" | ".join(f"{h:>16}" for h in head))
    for r in rows:
        print(
            " | ".join(
                f"{r.get(h)!s:>16}"[:16] if not isinstance(r.get(h), float) else f"{r[h]:>16.3f}"
                for h in head
            )
        )


if __name__ == "__main__":
    main()
