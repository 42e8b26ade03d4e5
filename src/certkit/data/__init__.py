"""certkit's data layer: the declarative schema, reading, validation and the sample.

Data flows one way through it::

    schema -> read (files to typed frames) -> validate (rules, the report) -> dataset (Dataset,
    load, from_frames) -> panel -> health (coverage and missing values) / sample (simulation)

Modules: :mod:`~certkit.data.schema` (the data model), :mod:`~certkit.data.catalog` (the
bundled certification catalog, ``catalog.yaml``), :mod:`~certkit.data.textio` (file decoding),
:mod:`~certkit.data.read`, :mod:`~certkit.data.validate`, :mod:`~certkit.data.dataset`,
:mod:`~certkit.data.outputs` (safe output folders), :mod:`~certkit.data.health` and
:mod:`~certkit.data.sample`. The everyday functions are also on ``certkit`` itself
(``certkit.load``, ``certkit.simulate``, ...).
"""

from certkit.data.dataset import Dataset, from_frames, load, load_sample
from certkit.data.sample import simulate, write_sample
from certkit.data.schema import TABLES
from certkit.data.validate import Problem, ValidationReport

__all__ = [
    "TABLES",
    "Dataset",
    "Problem",
    "ValidationReport",
    "from_frames",
    "load",
    "load_sample",
    "simulate",
    "write_sample",
]
