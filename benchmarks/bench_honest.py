"""Benchmark: certkit.did.honest on event studies of growing length (issue 12: < 1 s per grid of 10).

Workload: a synthetic event study with ``npre`` pre- and ``npost`` post-period estimates
(AR(1) covariance, rho = 0.5, SE 0.05, a small linear pre-trend), target = first post
period and the average of the post periods. Each configuration runs ``honest`` with R's
default grids (10 values of Mbar on [0, 2] for relative magnitudes, C-LF with 1000 theta
points; 10 values of M up to R's DeltaSD_upperBound_Mpre for smoothness, FLCI). One warm-up
call first (it builds R's 10^6 folded-normal draws once per process), then the best of 3.

Run: ``.venv/bin/python benchmarks/bench_honest.py``.
"""

from __future__ import annotations

import time

import numpy as np

from certkit.did import honest


def design(npre: int, npost: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.r_[np.arange(-npre, 0), np.arange(1, npost + 1)]
    idx = np.arange(t.size)
    S = 0.05**2 * 0.5 ** np.abs(idx[:, None] - idx[None, :])
    beta = 0.01 * t + np.r_[np.zeros(npre), np.full(npost, 0.15)]
    return rng.multivariate_normal(beta, S), S


def timed(fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    rows = []
    b0, S0 = design(3, 3)
    honest(b0, S0, num_pre_periods=3, num_post_periods=3, method="smoothness")  # warm-up
    for npre, npost in [(3, 3), (5, 2), (6, 7), (4, 9)]:
        b, S = design(npre, npost)
        for target, lv in [("first post", None), ("post average", np.full(npost, 1 / npost))]:
            for method in ("relative_magnitude", "smoothness"):
                kw = dict(num_pre_periods=npre, num_post_periods=npost, method=method, l_vec=lv)
                sec = timed(lambda b=b, S=S, kw=kw: honest(b, S, **kw))
                res = honest(b, S, **kw)
                rows.append((f"{npre}+{npost}", target, method, len(res.grid), sec))
    print(f"{'periods':>8} {'target':>13} {'method':>19} {'grid':>5} {'seconds':>8}")
    for p, tgt, m, n, sec in rows:
        print(f"{p:>8} {tgt:>13} {m:>19} {n:>5} {sec:>8.3f}")


if __name__ == "__main__":
    main()
