"""certkit: does ML certification change engineering outcomes?

Typical use::

    import certkit as ck
    ds = ck.load_sample()              # or ck.load("path/to/folder")
    panel = ck.build_panel(ds, "month")
    es = ck.did.event_study(panel, outcome="merged_prs")

The estimators read the panel's ``engineer_id``, ``period_index`` and ``cohort`` columns by
default (the panel contract, :mod:`certkit.data.contract`); other panels name theirs with
``unit=``, ``time=`` and ``group=``.
"""

import sys
from importlib import import_module
from importlib.abc import Loader, MetaPathFinder
from importlib.util import spec_from_loader

from certkit.data.catalog import catalog
from certkit.data.dataset import Dataset, from_frames, load, load_sample, validate
from certkit.data.panel import OUTCOMES, build_panel
from certkit.data.sample import simulate
from certkit.data.validate import ValidationReport
from certkit.errors import CertkitError, CertkitWarning, DataValidationError

__version__ = "0.1.0"

_SUBMODULES = {
    "data",
    "io",  # deprecated alias of certkit.data
    "did",
    "matching",
    "analytics",
    "ai",
    "adoption",
    "roi",
    "planning",
    "panel",
    "charts",
    "privacy",
    "connectors",
    "report",
}

__all__ = [
    "OUTCOMES",
    "CertkitError",
    "CertkitWarning",
    "DataValidationError",
    "Dataset",
    "ValidationReport",
    "build_panel",
    "catalog",
    "from_frames",
    "load",
    "load_sample",
    "simulate",
    "validate",
    *sorted(_SUBMODULES),
]


#: Short names of modules that live in a subpackage (``certkit.ai`` is ``certkit.analytics.ai``).
_ALIASES = {
    "ai": "certkit.analytics.ai",
    "adoption": "certkit.analytics.adoption",
    "roi": "certkit.analytics.roi",
    "planning": "certkit.analytics.planning",
    # the panel builder moved into certkit.data (issue 11); the old names keep working
    "panel": "certkit.data.panel",
    "panel_engines": "certkit.data.panel_engines",
    "panel_sources": "certkit.data.panel_sources",
    "simulate_parquet": "certkit.data.simulate_parquet",
}


class _AliasLoader(Loader):
    """Loads ``certkit.ai`` as the module ``certkit.analytics.ai`` itself (one module, two names)."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return import_module(self.target)

    def exec_module(self, module) -> None:  # already executed under its real name
        return None


class _AliasFinder(MetaPathFinder):
    """Makes ``import certkit.ai`` / ``from certkit.roi import roi`` work in a fresh process."""

    def find_spec(self, fullname, path=None, target=None):
        short = fullname.removeprefix("certkit.")
        if fullname.startswith("certkit.") and short in _ALIASES:
            return spec_from_loader(fullname, _AliasLoader(_ALIASES[short]))
        return None


if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _AliasFinder())


def __getattr__(name: str):
    """Import analysis modules on first use (``ck.did``, ``ck.matching``, ...)."""
    if name in _ALIASES:
        module = import_module(_ALIASES[name])
        # so ``import certkit.ai`` (after first use) and pickling find the same module
        sys.modules.setdefault(f"certkit.{name}", module)
        return module
    if name in _SUBMODULES:
        return import_module(f"certkit.{name}")
    raise AttributeError(f"module 'certkit' has no attribute {name!r}")
