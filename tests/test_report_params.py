"""Report notebooks and parameters: declared types, validation before running, CLI usage errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from certkit.cli import main
from certkit.errors import CertkitError
from certkit.report import params
from certkit.report.runner import list_notebooks, resolve, run_report

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = {
    "01_data_health",
    "02_certification_impact",
    "03_matched_cohorts",
    "04_ai_outcomes",
    "05_roi_summary",
    "06_ai_adoption",
}


def test_notebooks_are_committed_clean_and_in_sync_with_sources():
    nbs = list_notebooks()
    assert set(nbs) == EXPECTED
    check = subprocess.run(
        [sys.executable, str(ROOT / "notebooks" / "build.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout
    for name, path in nbs.items():
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), name
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, name
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
        declared = params.declared(path)
        for common in ("data", "privacy_k", "share", "teams"):
            assert common in declared, (name, common)
        assert declared["privacy_k"].default == 5 and declared["share"].default is False


def test_no_cell_ends_with_a_value_the_page_would_print():
    """A cell whose last line is ``ctx.headline(...)`` shows the raw record on the page (page 04
    and page 01 did): record headlines before the cell's last statement or inside displays."""
    import ast

    for name, path in list_notebooks().items():
        nb = nbformat.read(str(path), as_version=4)
        for cell in (c for c in nb.cells if c.cell_type == "code"):
            body = ast.parse(cell.source).body
            last = body[-1] if body else None
            if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
                func = last.value.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                assert called not in {"headline", "effect_headline"}, (name, cell.source[-200:])


def test_declared_types_and_help():
    d = params.declared(list_notebooks()["02_certification_impact"])
    assert d["teams"].type == "list[str] | None" and d["teams"].optional
    assert d["outcomes"].base == "list[str]" and "cycle_time_log_median" in d["outcomes"].default
    assert d["min_e"].type == "int" and d["min_e"].default == -6
    assert "comparison group" in d["control_group"].help


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["k=5"], {"k": 5}),
        (["teams=[a, b]"], {"teams": ["a", "b"]}),
        (["share=true", "x=0.5"], {"share": True, "x": 0.5}),
        (["start=2025-01-01"], {"start": "2025-01-01"}),
        (["name="], {"name": ""}),
    ],
)
def test_parse_assignments(items, expected):
    out = params.parse_assignments(items)
    assert {k: str(v) if k == "start" else v for k, v in out.items()} == expected


def test_parse_assignments_rejects_missing_equals():
    with pytest.raises(CertkitError, match="KEY=VALUE"):
        params.parse_assignments(["teams"])


def test_validate_checks_names_and_types():
    decl = {"a": params.declared(list_notebooks()["01_data_health"])}
    out = params.validate({"privacy_k": 10, "teams": "payments", "start": "2025-01-01"}, decl)
    assert out["a"] == {"privacy_k": 10, "teams": ["payments"], "start": "2025-01-01"}
    # -p start=2022-01-01, which YAML reads as a date, was refused (trial D)
    given = params.parse_assignments(["start=2022-01-01"])
    assert params.validate(given, decl)["a"] == {"start": "2022-01-01"}
    with pytest.raises(
        CertkitError, match=r"unknown parameter\(s\) 'privcy_k'.*accept: .*privacy_k"
    ):
        params.validate({"privcy_k": 3}, decl)
    with pytest.raises(CertkitError, match="'privacy_k' must be int"):
        params.validate({"privacy_k": "five"}, decl)
    with pytest.raises(CertkitError, match="'share' must be bool"):
        params.validate({"share": "maybe"}, decl)
    with pytest.raises(CertkitError, match="'privacy_k' must be int"):
        params.validate({"privacy_k": True}, decl)


def test_parameter_known_to_one_notebook_goes_only_there():
    nbs = list_notebooks()
    decl = {n: params.declared(nbs[n]) for n in ("01_data_health", "05_roi_summary")}
    out = params.validate({"horizon_months": 24, "privacy_k": 7}, decl)
    assert out["05_roi_summary"] == {"horizon_months": 24.0, "privacy_k": 7}
    assert out["01_data_health"] == {"privacy_k": 7}


def test_resolve_notebook_names():
    nbs = list_notebooks()
    assert list(resolve(["data-health", "05"], nbs)) == ["01_data_health", "05_roi_summary"]
    with pytest.raises(CertkitError, match="no report notebook called 'nope'"):
        resolve(["nope"], nbs)


def test_nothing_runs_when_a_parameter_is_wrong(tmp_path, small_folder):
    out = tmp_path / "out"
    with pytest.raises(CertkitError, match="unknown parameter"):
        run_report(small_folder, out, parameters={"bogus": 1}, progress=False)
    with pytest.raises(CertkitError, match="must be int"):
        run_report(small_folder, out, parameters={"privacy_k": "x"}, progress=False)
    assert not out.exists()


def test_cli_usage_errors_exit_non_zero_with_a_clear_message(tmp_path, small_folder, capsys):
    out = str(tmp_path / "out")
    assert main(["report", "--data", str(tmp_path / "missing"), "--out", out]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "engineers.csv").write_text("engineer_id,team\nE1,a\n")
    assert main(["report", "--data", str(bad), "--out", out]) == 1
    err = capsys.readouterr().err
    assert "pull_requests" in err and "ERROR" in err
    assert main(["report", "--data", str(small_folder), "--out", out, "-p", "privcy_k=3"]) == 2
    assert "unknown parameter(s) 'privcy_k'" in capsys.readouterr().err
    args = ["report", "--data", str(small_folder), "--out", out, "--notebook", "nope"]
    assert main(args) == 2
    assert "no report notebook called 'nope'" in capsys.readouterr().err
    # several names after one flag, as the docs write it (was "unrecognized arguments: nope")
    assert main([*args[:-1], "01", "nope"]) == 2
    assert "no report notebook called 'nope'" in capsys.readouterr().err
    cfg = tmp_path / "c.yaml"
    cfg.write_text("runs:\n  - name: a\n    colour: red\n")
    assert main(["report", "--config", str(cfg), "--data", str(small_folder), "--out", out]) == 2
    assert "unknown key(s) ['colour']" in capsys.readouterr().err
    assert not Path(out).exists()


def test_cli_list_shows_parameters(capsys):
    assert main(["report", "--list"]) == 0
    text = capsys.readouterr().out
    assert "02_certification_impact" in text and "control_group: str = 'not_yet'" in text


def test_example_batch_file_is_valid():
    from certkit.report.runner import load_config

    cfg, runs = load_config(ROOT / "notebooks" / "batch.example.yaml")
    assert Path(cfg["data"]) == (ROOT / "data" / "sample").resolve()
    assert [r.name for r in runs][:2] == ["org", "team-payments"]
    nbs = list_notebooks()
    for run in runs:
        chosen = resolve(run.notebooks, nbs)
        decl = {n: params.declared(p) for n, p in chosen.items()}
        params.validate({**cfg["parameters"], **run.parameters}, decl)


def test_each_kernel_gets_its_share_of_blas_threads(tmp_path, monkeypatch):
    """Two notebooks at once on two cores: one BLAS thread per kernel (OpenBLAS's spinning
    threads made the event studies ~10x slower), unless the user chose a number."""
    from certkit.report.runner import BLAS_THREAD_VARIABLES, Job, blas_threads, execute

    for name in BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert blas_threads(jobs=2, cpus=2) == 1
    assert blas_threads(jobs=2, cpus=8) == 4
    assert blas_threads(jobs=3, cpus=2) == 1
    assert blas_threads(jobs=1, cpus=8) is None  # one at a time: the library's default
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert blas_threads(jobs=2, cpus=2) is None  # the user's own setting wins
    monkeypatch.delenv("OMP_NUM_THREADS")

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import os\nopen('env.txt', 'w').write(os.environ.get('OPENBLAS_NUM_THREADS', '-'))"
        )
    ]
    source = tmp_path / "probe.ipynb"
    nbformat.write(nb, str(source))
    header = {
        "title": "Probe",
        "generated": "2026-01-01 00:00",
        "period": "month",
        "version": "0",
        "parameters": {},
        "changed": {},
        "scope": "probe",
        "index": "index.html",
        "share": False,
        "k": 5,
    }
    job = Job("r", "probe", source, tmp_path / "out", {}, "Probe", header, blas_threads=1)
    result = execute(job)
    assert result.status == "ok", result.error
    assert (tmp_path / "out" / "env.txt").read_text() == "1"
    assert "OPENBLAS_NUM_THREADS" not in os.environ  # the runner's own process is restored


def test_start_and_end_are_days_checked_before_any_kernel():
    decl = {"a": params.declared(list_notebooks()["01_data_health"])}
    with pytest.raises(CertkitError, match=r"'start' must be a day written YYYY-MM-DD, got 'June'"):
        params.validate({"start": "June"}, decl)
    with pytest.raises(CertkitError, match=r"'start' must be a day .* got '2025'"):
        params.validate({"start": 2025}, decl)  # YAML reads -p start=2025 as a number
    with pytest.raises(CertkitError, match=r"'start' \(2025-03-01\) is after 'end' \(2025-01-31\)"):
        params.validate({"start": "2025-03-01", "end": "2025-01-31"}, decl)
    assert params.validate({"start": "", "end": None}, decl)["a"] == {"start": "", "end": None}


def test_numbers_out_of_range_are_refused_before_any_kernel(tmp_path, small_folder, capsys):
    """Trial H: `-p pre_periods=1` ran, exited 0 and said "not estimated: pre_periods must be
    >= 2" for every outcome, as if the data were short."""
    decl = {n: params.declared(nb) for n, nb in list_notebooks().items()}
    with pytest.raises(CertkitError, match=r"'pre_periods' must be at least 2 .*got 1"):
        params.validate({"pre_periods": 1}, decl)
    with pytest.raises(CertkitError, match=r"'fdr' must be above 0 and at most 1 .*got 1.5"):
        params.validate({"fdr": 1.5}, decl)
    with pytest.raises(CertkitError, match=r"'caliper' must be above 0 .*got 0"):
        params.validate({"caliper": 0}, decl)
    ok = params.validate({"pre_periods": 2, "fdr": 0.1, "post_periods": 0}, decl)
    assert ok["03_matched_cohorts"]["pre_periods"] == 2
    out = tmp_path / "rep"
    argv = ["report", "--data", str(small_folder), "--out", str(out), "-p", "pre_periods=1"]
    assert main(argv) != 0
    assert "'pre_periods' must be at least 2" in capsys.readouterr().err
    assert not out.exists() or not any(out.glob("*.html"))


def test_page_header_states_the_period_the_start_and_end_parameters_leave():
    """Trial D: with -p start=... the page header still gave the whole data's period."""
    from datetime import date

    from certkit.report.runner import _period_text

    data = (date(2023, 1, 5), date(2025, 6, 30))
    assert _period_text(data, None, None) == "2023-01-05 to 2025-06-30"
    assert _period_text(data, "2024-06-01", None) == "2024-06-01 to 2025-06-30"
    assert _period_text(data, "2020-01-01", "2024-12-31") == "2023-01-05 to 2024-12-31"
    assert _period_text(data, "2026-01-01", None).startswith("no pull requests between")
    assert _period_text(None, "2024-06-01", None) == "no pull requests"


def test_papermill_does_not_call_a_declared_optional_parameter_unknown(tmp_path, caplog):
    """papermill's reader of parameters cells does not read ``str | None``: every
    ``-p start=...`` printed "Passed unknown parameter: start" though the value was applied."""
    import logging

    from certkit.report.runner import Job, execute

    nb = nbformat.v4.new_notebook()
    params_cell = nbformat.v4.new_code_cell("start: str | None = None  # first day")
    params_cell.metadata["tags"] = ["parameters"]
    nb.cells = [params_cell, nbformat.v4.new_code_cell("open('start.txt', 'w').write(start)")]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Py"}
    source = tmp_path / "probe.ipynb"
    nbformat.write(nb, str(source))
    header = {"title": "Probe", "generated": "", "period": "", "version": "0",
              "parameters": {}, "changed": {}, "scope": "probe", "index": "index.html",
              "share": False, "k": 5}  # fmt: skip
    job = Job("r", "probe", source, tmp_path / "out", {"start": "2024-06-01"}, "Probe", header)
    with caplog.at_level(logging.INFO, logger="papermill"):
        result = execute(job)
    assert result.status == "ok", result.error
    assert (tmp_path / "out" / "start.txt").read_text() == "2024-06-01"
    assert not [r for r in caplog.records if "unknown parameter" in r.getMessage()]
