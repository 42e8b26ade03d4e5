"""Speed and memory of the line ledger (rework and survival from ``git log -p``).

One command: ``.venv/bin/python benchmarks/bench_ledger.py [--repo PATH ...]``. Generated
repositories (``bench_connectors.make_repo``: a branch commit and a merge per PR, each rewriting
one of 500 files) of about 2,000 and 13,000 commits, plus any real repository given with
``--repo``, each timed in a fresh subprocess; the table shows commits/s and peak memory.
Target: at least 1,000 commits/s on a 13,000-commit history on 2 cores.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_connectors import make_repo  # noqa: E402

CHILD = """
import resource, sys, time
t = time.perf_counter()
from certkit.connectors.ledger import line_ledger
df = line_ledger(sys.argv[1])
secs = time.perf_counter() - t
mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(secs, df.height, int(df["lines_added"].sum()), int(df["churned_lines_21d"].sum()), mb)
"""


def run(repo: Path, label: str) -> None:
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(repo)], capture_output=True, text=True, check=True
    )
    secs, commits, added, churned, mb = res.stdout.split()
    rate = int(commits) / float(secs)
    print(
        f"{label:<22} {int(commits):>8,} {int(added):>10,} {int(churned):>9,} "
        f"{float(secs):>8.2f} {rate:>10,.0f} {float(mb):>8.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", action="append", default=[], help="a real repository to time")
    parser.add_argument("--quick", action="store_true", help="small generated size only")
    args, _ = parser.parse_known_args()
    print(
        f"{'history':<22} {'commits':>8} {'lines':>10} {'churned':>9} "
        f"{'seconds':>8} {'commits/s':>10} {'peak MB':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1_000,) if args.quick else (1_000, 6_500):
            repo = Path(tmp) / f"r{n}"
            make_repo(repo, n)
            run(repo, f"generated {n:,} PRs")
    for path in args.repo:
        run(Path(path), Path(path).name)


if __name__ == "__main__":
    main()
