"""Parameterized report notebooks, ``certkit report`` and offline HTML.

Typical use::

    from certkit import report
    run = report.run_report("data/sample", "reports", share=True)
    print(run.summary())

Inside a notebook, :func:`certkit.report.setup` loads and filters the data from the
notebook's parameters and returns the panel and the privacy rules to apply. The runner
(papermill, nbconvert) is imported only when used, so notebooks start fast.
"""

from importlib import import_module

from certkit.report.context import (
    Context,
    collect_warnings,
    filter_dataset,
    setup,
    table,
)
from certkit.report.sections import Section, chart, finite
from certkit.report.study_health import health_values

_LAZY = {
    "ReportRun": "certkit.report.runner",
    "list_notebooks": "certkit.report.runner",
    "load_config": "certkit.report.runner",
    "notebook_dir": "certkit.report.runner",
    "run_report": "certkit.report.runner",
    "Parameter": "certkit.report.params",
    "declared": "certkit.report.params",
}

#: Modules that moved out of the report layer, still reachable as ``certkit.report.<name>``.
_MOVED = {"health": "certkit.data.health", "story": "certkit.narrative"}

__all__ = [
    "Context",
    "Section",
    "chart",
    "finite",
    "collect_warnings",
    "filter_dataset",
    "health_values",
    "setup",
    "table",
    *sorted(_LAZY),
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name in _MOVED:  # analysis that used to live here (notebooks import it from here)
        return import_module(_MOVED[name])
    if name in ("html", "params", "runner", "job", "cli", "context", "sections", "landing"):
        return import_module(f"certkit.report.{name}")
    raise AttributeError(f"module 'certkit.report' has no attribute {name!r}")
