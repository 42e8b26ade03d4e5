"""One report job: a notebook executed by papermill in its own kernel, then exported to HTML.

:func:`execute` runs a :class:`Job` (in a worker process of
:func:`~certkit.report.runner.run_report`) and returns a :class:`JobResult`: the executed
``.ipynb`` (kept when the notebook fails, for diagnosis), the offline HTML page, the page's
headline records, and for a failure the cell, the line and the error
(:func:`failing_line`). :func:`blas_threads` shares the cores between kernels that run at once.
"""

from __future__ import annotations

import logging
import os
import re
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from certkit.report import html as report_html
from certkit.report import landing

KERNEL = "python3"


@dataclass
class Job:
    """One notebook to execute with its (already validated) parameters."""

    run: str
    notebook: str
    source: Path
    out_dir: Path
    parameters: dict[str, Any]
    title: str
    header: dict[str, Any]
    no_input: bool = False
    share: bool = False
    people: list[str] = field(default_factory=list)
    timeout: int = 900
    #: BLAS threads for the notebook's kernel when several notebooks run at once (None: the
    #: library's default); see :func:`blas_threads`.
    blas_threads: int | None = None


#: The thread-count variables of the BLAS libraries numpy and scipy may be built with.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def blas_threads(jobs: int, cpus: int | None = None) -> int | None:
    """BLAS threads per kernel when ``jobs`` notebooks run at once on ``cpus`` cores.

    OpenBLAS starts one thread per core in every kernel, and its threads spin while they
    wait: two kernels on two cores each solving small matrices (the event studies' Wald
    tests) ran about 10x slower than with one BLAS thread each (measured on 2 cores,
    0.1 s against 1.0 s per event study). So each kernel gets its share of the cores.
    None (leave the default) for one job at a time, or when the user set any of
    :data:`BLAS_THREAD_VARIABLES` themselves.
    """
    if jobs <= 1 or any(os.environ.get(v) for v in BLAS_THREAD_VARIABLES):
        return None
    return max(1, (cpus if cpus is not None else os.cpu_count() or 1) // jobs)


@dataclass
class JobResult:
    """What happened to one job."""

    run: str
    notebook: str
    title: str
    status: str  # "ok" or "failed"
    seconds: float
    ipynb: Path | None = None
    html: Path | None = None
    error: str = ""
    headlines: Path | None = None


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_LINE = re.compile(r"Cell In\[\d*\], line (\d+)")


def failing_line(source: str, traceback_lines: list[str] | None) -> tuple[int | None, str]:
    """The line of a cell's ``source`` where the error was raised: (line number, text).

    IPython tracebacks name the cell frame as ``Cell In[3], line 25``; the first such frame
    is the line of the notebook cell (later frames are inside the library). Without it the
    first non-empty line of the cell is returned with ``None`` as the number.
    """
    lines = source.splitlines()
    text = _ANSI.sub("", "\n".join(traceback_lines or []))
    m = _CELL_LINE.search(text)
    if m:
        n = int(m.group(1))
        if 1 <= n <= len(lines):
            return n, lines[n - 1].strip()
    return None, next((ln.strip() for ln in lines if ln.strip()), "")


def _failure(exc: BaseException) -> str:
    """A short message naming the failing cell, its failing line and the error."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        n, line = failing_line(exc.source, exc.traceback)
        where = f"line {n}: " if n else ""
        return (
            f"cell {exc.cell_index + 1} (execution count {exc.exec_count}) failed: "
            f"{exc.ename}: {exc.evalue}\n    in {where}{line[:160]}"
        )
    return f"{type(exc).__name__}: {exc}"


class _KnownParameters(logging.Filter):
    """Drop papermill's "Passed unknown parameter" warning: papermill cannot read annotations
    such as ``start: str | None`` and so warned on every ``-p start=...``, though the value
    is applied; :mod:`certkit.report.params` has already checked each name against the
    notebook's parameters cell (an unknown one is an error before any kernel starts)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Passed unknown parameter")


#: Kernel starts tried per notebook: a kernel that dies or does not answer while starting is
#: started again, once (see :func:`_kernel_start_failed`).
KERNEL_START_ATTEMPTS = 2


def _kernel_start_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is a kernel that failed while starting, before any cell ran
    (jupyter_client/nbclient: "Kernel died before replying to kernel_info", "Kernel didn't
    respond in 60 seconds")."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return False
    text = str(exc)
    return "before replying to kernel_info" in text or "Kernel didn't respond" in text


def execute(job: Job) -> JobResult:
    """Execute one notebook and export it (runs in a worker process)."""
    import papermill as pm

    papermill_log = logging.getLogger("papermill")
    if not any(isinstance(f, _KnownParameters) for f in papermill_log.filters):
        papermill_log.addFilter(_KnownParameters())
    start = time.perf_counter()
    job.out_dir.mkdir(parents=True, exist_ok=True)
    ipynb = job.out_dir / f"{job.notebook}.ipynb"
    page = job.out_dir / f"{job.notebook}.html"
    page.unlink(missing_ok=True)
    heads = job.out_dir / f"{job.notebook}{landing.SUFFIX}"
    heads.unlink(missing_ok=True)
    result = JobResult(job.run, job.notebook, job.title, "failed", 0.0, ipynb=ipynb)
    saved = {
        k: os.environ.get(k) for k in (landing.ENV, "CERTKIT_TRACEBACK", *BLAS_THREAD_VARIABLES)
    }
    os.environ[landing.ENV] = str(heads)  # the kernel inherits it: ctx.headline writes there
    if job.blas_threads is not None:  # the kernel inherits them too
        os.environ.update({v: str(job.blas_threads) for v in BLAS_THREAD_VARIABLES})
    # A scheduled run keeps full tracebacks in the executed notebook (kept for diagnosis) so
    # that a failure names the notebook line that raised; interactive sessions show only
    # the message (certkit.errors).
    os.environ["CERTKIT_TRACEBACK"] = "1"
    try:
        for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
            try:
                pm.execute_notebook(
                    str(job.source),
                    str(ipynb),
                    parameters=job.parameters,
                    kernel_name=KERNEL,
                    progress_bar=False,
                    cwd=str(job.out_dir),
                    execution_timeout=job.timeout,
                    # the kernel's own log (e.g. "running over TCP without encryption", or
                    # "KeyboardInterrupt caught in kernel" when jupyter_client's shutdown
                    # SIGINT lands on a busy machine) is not for the reader of the report;
                    # errors still reach the notebook and the result
                    extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                )
                break
            except Exception as exc:
                # a kernel that died or did not answer while starting ran no cell: start it
                # again (a scheduled run on a busy machine failed once with "Kernel died
                # before replying to kernel_info" and nothing else wrong)
                if attempt == KERNEL_START_ATTEMPTS or not _kernel_start_failed(exc):
                    raise
                time.sleep(1)
        nb = nbformat.read(str(ipynb), as_version=4)
        body, full = report_html.export(
            nb,
            title=job.title,
            header=job.header,
            no_input=job.no_input,
            records=landing.read(heads),  # the page's answer box, from its own records
        )
        if job.share and job.people:
            from certkit.privacy import check_shared, json_strings

            # what a reader sees and the charts' data, not CSS or JavaScript (privacy.py)
            parts = report_html.shared_content(body)
            parts += json_strings(landing.read(heads), f"answer records ({heads.name})")
            check_shared(parts, job.people)
        page.write_text(full, encoding="utf-8")
        result.status, result.html = "ok", page
        result.headlines = heads if heads.exists() else None
    except Exception as exc:  # one failing notebook must not stop the batch
        result.error = _failure(exc)
        if os.environ.get("CERTKIT_DEBUG"):
            result.error += "\n" + traceback.format_exc()
        heads.unlink(missing_ok=True)  # a failed page's numbers never reach the landing page
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    result.seconds = time.perf_counter() - start
    return result
