"""Deprecated home of certkit's loading functions; they live in :mod:`certkit.data` now.

Kept so code written against earlier versions (``from certkit.io import Dataset, load``) keeps
working for one release. New code: ``certkit.load`` / ``certkit.data.dataset``.
"""

from certkit.data.dataset import Dataset, from_frames, load, load_sample, validate
from certkit.data.validate import Problem, ValidationReport

__all__ = [
    "Dataset",
    "Problem",
    "ValidationReport",
    "from_frames",
    "load",
    "load_sample",
    "validate",
]
