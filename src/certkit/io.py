"""Deprecated home of certkit's loading functions; they live in :mod:`certkit.data` now.

Kept so code written against earlier versions (``from certkit.io import Dataset, load``) keeps
working for one release. New code: ``certkit.load`` / ``certkit.data.dataset``.
"""

from certkit.data.dataset import Dataset as Dataset
from certkit.data.dataset import from_frames as from_frames
from certkit.data.dataset import load as load
from certkit.data.dataset import load_sample as load_sample
from certkit.data.dataset import validate as validate
from certkit.data.validate import Problem as Problem
from certkit.data.validate import ValidationReport as ValidationReport
