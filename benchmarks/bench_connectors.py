"""Speed of the git connector: ``read_git`` on generated repositories of growing size.

One command: ``.venv/bin/python benchmarks/bench_connectors.py``. Each size is timed in a fresh
subprocess (imports included) and printed as a table. Repositories are written with
``git fast-import``: one branch commit and one merge commit per PR, a third with AI trailers.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
from pathlib import Path

SIZES = (1_000, 5_000, 20_000)  # PRs (twice as many commits)


def make_repo(path: Path, n_prs: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    out: list[str] = []

    def data(text: str) -> str:
        return f"data {len(text.encode())}\n{text}\n"

    t0 = 1704099600
    out.append("commit refs/heads/main\nmark :1\n")
    out.append(f"author A <a@x.example> {t0} +0000\ncommitter A <a@x.example> {t0} +0000\n")
    out.append(data("Initial commit") + "M 644 inline README\n" + data("x"))
    main = mark = 1
    for n in range(1, n_prs + 1):
        who = f"dev{n % 50}"
        created = t0 + n * 600
        msg = f"Change {n}"
        if rng.random() < 0.35:
            msg += "\n\nCo-Authored-By: Claude <noreply@anthropic.com>"
        body = "".join(f"l{i}\n" for i in range(rng.randint(1, 40)))
        mark += 1
        out.append(f"commit refs/heads/b\nmark :{mark}\n")
        out.append(f"author {who} <{who}@x.example> {created} +0000\n")
        out.append(f"committer {who} <{who}@x.example> {created} +0000\n" + data(msg))
        out.append(f"from :{main}\nM 644 inline f{n % 500}.txt\n" + data(body))
        mark += 1
        out.append(f"commit refs/heads/main\nmark :{mark}\n")
        out.append(f"author {who} <{who}@x.example> {created + 3600} +0000\n")
        out.append(f"committer GitHub <noreply@github.com> {created + 3600} +0000\n")
        out.append(data(f"Merge pull request #{n} from org/b{n}\n\nChange {n}"))
        out.append(f"from :{main}\nmerge :{mark - 1}\nM 644 inline f{n % 500}.txt\n" + data(body))
        main = mark
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=path, input="".join(out).encode(), check=True
    )


CHILD = """
import sys, time
t = time.perf_counter()
from certkit.connectors import read_git
imp = read_git(sys.argv[1], progress=False)
print(time.perf_counter() - t, imp.pull_requests.height, int(imp.pull_requests['ai_assisted'].sum()))
"""


def main() -> None:
    print(f"{'PRs':>8} {'commits':>8} {'seconds':>8} {'commits/s':>10} {'AI PRs':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            repo = Path(tmp) / f"r{n}"
            make_repo(repo, n)
            res = subprocess.run(
                [sys.executable, "-c", CHILD, str(repo)], capture_output=True, text=True, check=True
            )
            secs, prs, ai = res.stdout.split()
            commits = 2 * n + 1
            print(
                f"{prs:>8} {commits:>8} {float(secs):>8.2f} {commits / float(secs):>10,.0f} {ai:>7}"
            )


if __name__ == "__main__":
    main()
