"""A notebook whose kernel dies while starting is run again, once (a scheduled run).

The full test run on a busy machine once failed a report page with "RuntimeError: Kernel died
before replying to kernel_info" and nothing else wrong; a scheduled ``certkit report`` then
exits non-zero for a kernel that never ran a cell.
"""

from __future__ import annotations

import nbformat
import papermill

from certkit.report import job as report_job


def _notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, str(path))
    return path


def _job(tmp_path) -> report_job.Job:
    return report_job.Job(
        run="report",
        notebook="01_tiny",
        source=_notebook(tmp_path / "tiny.ipynb"),
        out_dir=tmp_path / "out",
        parameters={},
        title="Tiny",
        header={  # as certkit.report.runner plans it
            "title": "Tiny",
            "generated": "2026-11-30 12:00",
            "period": "month",
            "version": "test",
            "parameters": {},
            "changed": {},
            "scope": "",
            "index": "index.html",
            "share": False,
            "k": 5,
        },
    )


def _flaky(failures: list[Exception]):
    real = papermill.execute_notebook
    calls = []

    def run(*args, **kwargs):
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return real(*args, **kwargs)

    return run, calls


def test_a_kernel_that_died_while_starting_is_started_again(tmp_path, monkeypatch):
    died = RuntimeError("Kernel died before replying to kernel_info")
    run, calls = _flaky([died])
    monkeypatch.setattr(papermill, "execute_notebook", run)
    result = report_job.execute(_job(tmp_path))
    assert result.status == "ok", result.error
    assert len(calls) == 2


def test_a_kernel_that_keeps_dying_or_another_error_is_not_retried_forever(tmp_path, monkeypatch):
    died = [RuntimeError("Kernel died before replying to kernel_info") for _ in range(3)]
    run, calls = _flaky(died)
    monkeypatch.setattr(papermill, "execute_notebook", run)
    result = report_job.execute(_job(tmp_path))
    assert result.status == "failed" and "Kernel died" in result.error
    assert len(calls) == report_job.KERNEL_START_ATTEMPTS
    run, calls = _flaky([ValueError("a bad parameter")])
    monkeypatch.setattr(papermill, "execute_notebook", run)
    result = report_job.execute(_job(tmp_path))
    assert result.status == "failed" and len(calls) == 1
