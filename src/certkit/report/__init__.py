"""Parameterized report notebooks, ``certkit report`` and offline HTML.

Typical use::

    from certkit import report
    run = report.run_report("data/sample", "reports", share=True)
    print(run.summary())

Inside a notebook, :func:`certkit.report.context.setup` loads and filters the data from the
notebook's parameters and returns the panel and the privacy rules to apply.
"""

from certkit.report.context import Context, collect_warnings, filter_dataset, setup, table
from certkit.report.params import Parameter, declared
from certkit.report.runner import ReportRun, list_notebooks, load_config, notebook_dir, run_report

__all__ = [
    "Context",
    "Parameter",
    "ReportRun",
    "collect_warnings",
    "declared",
    "filter_dataset",
    "list_notebooks",
    "load_config",
    "notebook_dir",
    "run_report",
    "setup",
    "table",
]
