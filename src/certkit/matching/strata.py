"""Matching weights from matched sets and from subclasses (exact, CEM, propensity strata)."""

from __future__ import annotations

import numpy as np


def weights_from_mm(mm: np.ndarray, t_pos: np.ndarray, treat: np.ndarray) -> np.ndarray:
    n = treat.size
    w = np.zeros(n)
    counts = (mm >= 0).sum(axis=1)
    has = counts > 0
    w[t_pos[has]] = 1.0
    r, c = np.nonzero(mm >= 0)
    np.add.at(w, mm[r, c], 1.0 / counts[r])
    ctrl = (treat == 0) & (w > 0)
    if ctrl.any():
        w[treat == 0] *= ctrl.sum() / w[treat == 0].sum()
    return w


def weights_from_subclass(sub: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """ATT weights from subclass membership (-1 = not in a subclass), as MatchIt."""
    w = np.zeros(treat.size)
    ok = sub >= 0
    if not ok.any():
        return w
    k = sub.max() + 1
    nt = np.bincount(sub[ok & (treat == 1)], minlength=k)
    nc = np.bincount(sub[ok & (treat == 0)], minlength=k)
    i1 = ok & (treat == 1)
    i0 = ok & (treat == 0)
    w[i1] = 1.0
    w[i0] = nt[sub[i0]] / nc[sub[i0]]
    if w[i0].sum() > 0:
        w[i0] *= i0.sum() / w[i0].sum()
    return w


def renumber(sub: np.ndarray) -> np.ndarray:
    """Subclass ids 0..K-1 in order of first appearance; -1 stays -1."""
    out = np.full(sub.size, -1, dtype=np.int64)
    ok = sub >= 0
    if ok.any():
        _, first, inv = np.unique(sub[ok], return_index=True, return_inverse=True)
        rank = np.argsort(np.argsort(first))
        out[ok] = rank[inv]
    return out


def fill_empty_subclasses(cls: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """Merge propensity subclasses that lack treated or control units into a neighbour."""
    cls = cls.copy()
    while True:
        labels = np.unique(cls)
        bad = [
            s
            for s in labels
            if not ((cls == s) & (treat == 1)).any() or not ((cls == s) & (treat == 0)).any()
        ]
        if not bad or labels.size == 1:
            return cls
        s = bad[0]
        k = int(np.searchsorted(labels, s))
        target = labels[k - 1] if k > 0 else labels[k + 1]
        cls[cls == s] = target
