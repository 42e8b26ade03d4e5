"""Run report notebooks with papermill and export them to offline HTML.

One *run* is a set of notebooks executed with one set of parameters (e.g. one team); a batch
(``--config``) is several runs. Every notebook is its own job: a failing notebook does not stop
the others, its partly executed ``.ipynb`` is kept for diagnosis, and the result says which
cell failed and why (one job's execution and export: :mod:`certkit.report.job`).
"""

from __future__ import annotations

import html as html_lib
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import nbformat
import polars as pl
import yaml

import certkit
from certkit.data import health
from certkit.errors import CertkitError
from certkit.report import html as report_html
from certkit.report import landing
from certkit.report import params as report_params
from certkit.report.context import resolve_data
from certkit.report.folders import claim_folders
from certkit.report.job import (  # noqa: F401 - re-exported: runner.failing_line, ...
    BLAS_THREAD_VARIABLES,
    KERNEL,
    Job,
    JobResult,
    _failure,
    blas_threads,
    execute,
    failing_line,
)
from certkit.results import ResultMixin

#: Parameters every certkit notebook declares, set by the runner from the command line.
DATA_PARAM = "data"
SHARE_PARAM = "share"
K_PARAM = "privacy_k"


def notebook_dir() -> Path:
    """Folder of the report notebooks: the repository's ``notebooks/`` (editable install)
    or the copy shipped inside the wheel (``certkit/_notebooks``)."""
    repo = Path(certkit.__file__).resolve().parents[2] / "notebooks"
    if repo.is_dir() and any(repo.glob("*.ipynb")):
        return repo
    return Path(str(resources.files("certkit") / "_notebooks"))


def list_notebooks(folder: str | Path | None = None) -> dict[str, Path]:
    """Report notebooks by name (file stem), in running order."""
    folder = Path(folder) if folder else notebook_dir()
    if not folder.is_dir():
        raise CertkitError(f"notebook folder {folder} does not exist")
    return {p.stem: p for p in sorted(folder.glob("*.ipynb")) if not p.name.startswith(".")}


def resolve(names: list[str] | None, available: dict[str, Path]) -> dict[str, Path]:
    """Pick notebooks by name; ``data_health``, ``data-health`` or ``01`` find ``01_data_health``."""
    if not names:
        return dict(available)
    out = {}
    for name in names:
        key = name.strip().removesuffix(".ipynb").replace("-", "_").lower()
        hits = [
            s
            for s in available
            if s.lower() == key or s.lower().split("_", 1)[-1] == key or s.split("_")[0] == key
        ]
        if len(hits) != 1:
            raise CertkitError(
                f"no report notebook called {name!r}; available: {', '.join(available)}"
            )
        out[hits[0]] = available[hits[0]]
    return out


class ReportRun(ResultMixin):
    """Outcome of ``certkit report``: one row per executed notebook."""

    title = "certkit report"

    def __init__(self, out_dir: Path, results: list[JobResult], seconds: float):
        self.out_dir = out_dir
        self.results = results
        self.seconds = seconds
        self.index = out_dir / "index.html"
        self.pdfs: list[Path] = []
        self.pdf_message = ""
        self.warnings = [f"{r.run}/{r.notebook}: {r.error}" for r in results if r.error]

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.results)

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if r.status != "ok"]

    def _header(self) -> dict[str, object]:
        return {
            "folder": str(self.out_dir),
            "notebooks": len(self.results),
            "failed": len(self.failed),
            "wall time (s)": round(self.seconds, 1),
        }

    def to_polars(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "run": [r.run for r in self.results],
                "notebook": [r.notebook for r in self.results],
                "status": [r.status for r in self.results],
                "seconds": [round(r.seconds, 1) for r in self.results],
                "html": [str(r.html) if r.html else "" for r in self.results],
            },
            schema={
                "run": pl.String,
                "notebook": pl.String,
                "status": pl.String,
                "seconds": pl.Float64,
                "html": pl.String,
            },
        )


@dataclass
class RunSpec:
    """One run of a batch: a name, notebooks and parameters."""

    name: str
    notebooks: list[str] | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    data: str | None = None


def load_config(path: str | Path) -> tuple[dict[str, Any], list[RunSpec]]:
    """Read a batch file (YAML): top-level settings and the list of runs.

    ``data``/``out``/``share``/``no_input``/``notebooks``/``parameters`` at the top apply to
    every run; each entry of ``runs`` has a ``name`` and may override ``notebooks``,
    ``parameters`` and ``data``. Relative paths are relative to the config file.
    """
    path = Path(path)
    if not path.is_file():
        raise CertkitError(f"config file {path} does not exist")
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CertkitError(f"config file {path} is not valid YAML: {exc}") from exc
    if not isinstance(cfg, dict):
        raise CertkitError(f"config file {path}: expected a mapping with 'runs'")
    allowed = {"data", "out", "share", "no_input", "show_code", "notebooks", "parameters"}
    allowed |= {"runs", "jobs"}
    unknown = set(cfg) - allowed
    if unknown:
        raise CertkitError(
            f"config file {path}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
        )
    base = path.parent
    for key in ("data", "out"):
        if cfg.get(key) is not None:
            cfg[key] = str((base / str(cfg[key])).resolve())
    runs_raw = cfg.get("runs") or [{"name": "report"}]
    if not isinstance(runs_raw, list):
        raise CertkitError(f"config file {path}: 'runs' must be a list")
    runs, seen = [], set()
    for i, r in enumerate(runs_raw, 1):
        if not isinstance(r, dict) or not r.get("name"):
            raise CertkitError(f"config file {path}: run {i} needs a 'name'")
        extra = set(r) - {"name", "notebooks", "parameters", "data"}
        if extra:
            raise CertkitError(
                f"config file {path}: run {r['name']!r} has unknown key(s) {sorted(extra)}"
            )
        name = str(r["name"])
        if name in seen or "/" in name or name.startswith("."):
            raise CertkitError(
                f"config file {path}: run name {name!r} is repeated or not a folder name"
            )
        seen.add(name)
        data = str((base / str(r["data"])).resolve()) if r.get("data") else None
        runs.append(RunSpec(name, r.get("notebooks"), dict(r.get("parameters") or {}), data))
    return cfg, runs


def _data_facts(data: str) -> tuple[tuple[date, date] | None, list[str], str, object]:
    """Load the data once (fails early with the validation report).

    Returns the first and last day of the data (None without pull requests), the people
    identifiers, the data scope in words and the dataset (for :func:`_scope`).
    """
    import warnings

    from certkit.errors import CertkitWarning
    from certkit.privacy import identifiers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        ds = certkit.load(data)
    period, scope = _scope(ds, Path(data).name)
    return period, identifiers(ds.engineers), scope, ds


def _scope(ds, name: str, teams: list[str] | None = None, start=None, end=None):
    """The data's first and last day and its scope in words, of ``teams`` and the ``start``
    / ``end`` days only when given (trial N: with ``-p teams=[...]`` headers gave the whole
    organisation's 314 engineers and 1,554 PRs above a page about 26 engineers and 829 PRs;
    trial O: the same with ``-p end=``)."""
    if teams or start or end:
        from certkit.errors import CertkitError
        from certkit.report.context import filter_dataset

        try:
            ds = filter_dataset(ds, teams=teams, start=start or None, end=end or None)
        except CertkitError:  # an unknown team: the notebook says so
            teams = None
    period = ds.period() if ds.pull_requests.height else None
    left_out = health.prs_left_out(ds)
    bots = f" ({left_out:,} by bots or authors not in engineers, left out)" if left_out else ""
    which = f", teams {', '.join(map(str, teams))}" if teams else ""
    # the folder's name last (trial X: a folder named "data" read "Data: data: 571 ...")
    scope = (
        f"{ds.human_engineers().height:,} engineers, "
        f"{ds.pull_requests.height:,} pull requests{bots}; folder {name}{which}"
    )
    return period, scope


def _period_text(period: tuple[date, date] | None, start: Any, end: Any) -> str:
    """The period a page covers: the data's, narrowed by the ``start`` / ``end`` parameters
    (a page run with ``-p start=2024-06-01`` said the whole data's period in its header)."""
    if period is None:
        return "no pull requests"
    first, last = period
    if start not in (None, ""):
        first = max(first, date.fromisoformat(str(start)))  # checked by report_params
    if end not in (None, ""):
        last = min(last, date.fromisoformat(str(end)))
    if first > last:
        return f"no pull requests between {start} and {end}"
    return f"{first} to {last}"


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "(none)"
    return "(all)" if value is None else str(value)


def run_report(
    data: str | Path | None = "data/sample",
    out: str | Path | None = "reports",
    *,
    notebooks: list[str] | None = None,
    parameters: dict[str, Any] | None = None,
    config: str | Path | None = None,
    no_input: bool | None = None,
    share: bool | None = None,
    jobs: int | None = None,
    progress: bool = True,
    show_code: bool | None = None,
    pdf: bool = False,
    folder_name: str | None = None,
    notebook_folder: str | Path | None = None,
    timeout: int = 900,
) -> ReportRun:
    """Execute report notebooks and write ``.ipynb`` + offline ``.html`` + ``index.html``.

    Parameters
    ----------
    data
        Data folder (validated once before anything runs).
    out
        Output folder; files go to a dated sub-folder ``out/YYYY-MM-DD/`` (``folder_name``;
        ``YYYY-MM-DD-shared`` for a shared run, so the day's private and shared reports keep
        apart).
    notebooks
        Names to run (default: all).
    parameters
        Values for the notebooks' declared parameters, checked before anything runs.
    config
        YAML batch file (see :func:`load_config`); explicit arguments override its settings.
    no_input, show_code
        Hide code (the default) or show it (``show_code=True``, or ``no_input=False``);
        the executed ``.ipynb`` always keeps it.
    share
        Enforce the privacy rules of a shared report (``privacy_k`` people).
    jobs
        Notebooks executed at once (default: 2, or 1 on a single core).
    pdf
        Also print ``index.html`` and every page to PDF with headless Chromium
        (``run.pdfs``; ``run.pdf_message`` says why not when Chromium is missing).

    Returns
    -------
    ReportRun
        ``ok`` is False when any notebook failed; each failure names its cell and error.
    """
    cfg: dict[str, Any] = {}
    runs = [RunSpec("report")]
    if config is not None:
        cfg, runs = load_config(config)
    data = data if data is not None else cfg.get("data", "data/sample")
    out = out if out is not None else cfg.get("out", "reports")
    if show_code is None:
        show_code = bool(cfg.get("show_code", False))
    if no_input is None:
        no_input = bool(cfg.get("no_input", True))
    no_input = no_input and not show_code  # code is hidden unless asked for
    share = bool(cfg.get("share", False)) if share is None else share
    jobs = jobs or cfg.get("jobs") or max(1, min(2, os.cpu_count() or 1))
    available = list_notebooks(notebook_folder)
    if not available:
        raise CertkitError("no report notebooks found")
    # a shared run gets a folder of its own beside the day's private one (trial AF: the
    # README's private quick start and its shared example collided on the same day)
    stamp = folder_name or datetime.now().strftime("%Y-%m-%d") + ("-shared" if share else "")
    out_root = Path(out).expanduser().resolve() / stamp
    batch = config is not None

    # Check everything (data, notebook names, parameters) before running anything.
    facts: dict[str, tuple] = {}
    planned: list[Job] = []
    for spec in runs:
        run_data = str(Path(resolve_data(str(spec.data or data))).resolve())
        if run_data not in facts:
            facts[run_data] = _data_facts(run_data)
        period, people, scope, loaded = facts[run_data]
        chosen = resolve(spec.notebooks or cfg.get("notebooks") or notebooks, available)
        declared = {n: report_params.declared(p) for n, p in chosen.items()}
        where = f" (run {spec.name!r})" if batch else ""
        given = {**(cfg.get("parameters") or {}), **spec.parameters, **(parameters or {})}
        if share:
            given[SHARE_PARAM] = True
        per_nb = report_params.validate(given, declared, where)
        for name, path in chosen.items():
            values = dict(per_nb[name])
            if DATA_PARAM in declared[name]:
                values[DATA_PARAM] = run_data
            nb_share = bool(
                values.get(
                    SHARE_PARAM,
                    declared[name].get(SHARE_PARAM) and declared[name][SHARE_PARAM].default,
                )
            )
            narrowed = [values.get(k) for k in ("teams", "start", "end")]
            nb_period, nb_scope = (
                _scope(loaded, Path(run_data).name, *narrowed) if any(narrowed) else (period, scope)
            )
            shown = {k: _show(values.get(k, p.default)) for k, p in declared[name].items()}
            shown[DATA_PARAM] = Path(run_data).name
            changed = {
                k: shown[k]
                for k, p in declared[name].items()
                if k not in (DATA_PARAM, SHARE_PARAM) and k in values and values[k] != p.default
            }
            src_nb = nbformat.read(str(path), as_version=4)
            title = report_html.title_of(src_nb, name)
            header = {
                "title": title + (f" ({spec.name})" if batch else ""),
                "generated": datetime.now().strftime("%Y-%m-%d %H:%M"),
                "period": _period_text(nb_period, values.get("start"), values.get("end")),
                "version": certkit.__version__,
                "parameters": shown,
                "changed": changed,
                "scope": nb_scope,
                "index": "../index.html" if batch else "index.html",
                "share": nb_share,
                "k": values.get(K_PARAM, getattr(declared[name].get(K_PARAM), "default", 5)),
            }
            planned.append(
                Job(
                    run=spec.name,
                    notebook=name,
                    source=path,
                    out_dir=out_root / spec.name if batch else out_root,
                    parameters=values,
                    title=title,
                    header=header,
                    no_input=no_input,
                    share=nb_share,
                    people=people if nb_share else [],
                    timeout=timeout,
                )
            )

    threads = blas_threads(min(jobs, len(planned)))
    for job in planned:
        job.blas_threads = threads

    from certkit.data.outputs import data_folder_inputs, refuse_inputs

    for run_data in facts:  # outputs never touch inputs (data files, the config file)
        refuse_inputs(out_root.parent, data_folder_inputs(run_data))  # gets index.html only
        for folder in {out_root, *(j.out_dir for j in planned)}:
            refuse_inputs(folder, [*data_folder_inputs(run_data), ("--config file", config)])

    # a folder's pages are for one audience: never a shared index beside private pages
    modes: dict[Path, set[bool]] = {}
    for job in planned:
        modes.setdefault(job.out_dir, set()).add(job.share)
    claim_folders(modes)

    from certkit.progress import progress_bar

    start = time.perf_counter()
    results: list[JobResult] = []
    bar = progress_bar(
        total=len(planned), desc="certkit report", unit="notebook", disable=not progress
    )
    if jobs == 1 or len(planned) == 1:
        for job in planned:
            bar.set_postfix_str(f"{job.run}/{job.notebook}")
            results.append(execute(job))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(execute, job): job for job in planned}
            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    results.append(fut.result())
                except Exception as exc:  # a worker crash (e.g. killed) is a failure too
                    results.append(
                        JobResult(
                            job.run, job.notebook, job.title, "failed", 0.0, error=_failure(exc)
                        )
                    )
                bar.set_postfix_str(f"{job.run}/{job.notebook}")
                bar.update()
    bar.close()
    order = {(j.run, j.notebook): i for i, j in enumerate(planned)}
    results.sort(key=lambda r: order[(r.run, r.notebook)])
    report = ReportRun(out_root, results, time.perf_counter() - start)
    scopes = {j.run: (f"{j.header['scope']}, {j.header['period']}", j.people) for j in planned}
    _write_index(report, batch, scopes)
    if pdf:
        pages = [report.index] + [r.html for r in report.results if r.html]
        report.pdfs, report.pdf_message = report_html.print_pdf(pages)
    return report


def _answers(
    report: ReportRun, batch: bool, runs: dict[str, tuple[str, list[str]]]
) -> list[tuple[str, str]]:
    """The landing page's answer per run, built only from the notebooks' headline files."""
    root = report.out_dir
    out = []
    for run, (scope, people) in runs.items():
        pages = [
            (os.path.relpath(r.html, root), r.title, landing.read(r.headlines))
            for r in report.results
            if r.run == run and r.status == "ok" and r.html and r.headlines
        ]
        text = f"<p class='certkit-scope'>Data: {html_lib.escape(scope)}."
        if people:
            text += " Shared report: nothing resting on fewer people than the threshold is shown."
        text += "</p>"
        # a page that failed may hold estimates: the answer says it failed, not "could not
        # be estimated" (trial I, glib shared: the privacy check stopped the impact page)
        failed = [(r.title, r.error) for r in report.results if r.run == run and r.status != "ok"]
        text += landing.answer_section(pages, failed)
        if people:  # a shared run: the same last check as every page, on what a reader sees
            from certkit.privacy import find_exposures

            if find_exposures(report_html.shared_content(text), people):
                text = "<p>The answer is not shown: it would name an engineer (shared report).</p>"
        out.append((run if batch else "", text))
    return out


def _write_index(
    report: ReportRun, batch: bool, runs: dict[str, tuple[str, list[str]]] | None = None
) -> None:
    root = report.out_dir
    rows = []
    for r in report.results:
        links = []
        if r.html:
            links.append(("HTML", os.path.relpath(r.html, root)))
        if r.ipynb and r.ipynb.exists():
            links.append(("notebook", os.path.relpath(r.ipynb, root)))
        note = r.error.splitlines()[0] if r.error else f"{r.seconds:.1f} s"
        rows.append(
            {"run": r.run, "title": r.title, "status": r.status, "links": links, "note": note}
        )
    # pages an earlier run of the same audience left in the folder stay listed (trial AF: a
    # re-run of one notebook dropped pages 02-06 from the index, left unlinked)
    written = {r.html.resolve() for r in report.results if r.html}
    for page in sorted(root.glob("*/*.html" if batch else "*.html")):
        if page.name == "index.html" or page.resolve() in written:
            continue
        rows.append(
            {
                "run": page.parent.name if batch else "report",
                "title": page.stem,
                "status": "earlier run",
                "links": [("HTML", os.path.relpath(page, root))],
                "note": "not re-run this time: its answers are not on this page",
            }
        )
    root.mkdir(parents=True, exist_ok=True)
    sub = f"{len(report.results)} notebook(s), {len(report.failed)} failed, generated " + (
        datetime.now().strftime("%Y-%m-%d %H:%M")
    )
    log = report_html.index_page(f"certkit reports {root.name}", sub, rows)
    if runs:
        log_table = log[log.index("<table>") : log.index("</table>") + len("</table>")]
        log = report_html.landing_page(
            f"certkit report {root.name}", sub, _answers(report, batch, runs), log_table
        )
    report.index.write_text(log, encoding="utf-8")
    # Top-level index listing every dated folder.
    top = root.parent
    dated = sorted((p for p in top.iterdir() if (p / "index.html").is_file()), reverse=True)
    top_rows = [
        {
            "run": p.name,
            "title": "report folder",
            "status": "folder",
            "links": [("index", f"{p.name}/index.html")],
        }
        for p in dated
    ]
    (top / "index.html").write_text(
        report_html.index_page("certkit reports", f"{len(dated)} report folder(s)", top_rows),
        encoding="utf-8",
    )
