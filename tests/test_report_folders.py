"""Shared and private report pages never share a folder (trial AE, H1: a shared run of one
notebook into the folder of that morning's private run left the private pages 02-06 beside
an index headed "Shared report")."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from certkit.errors import CertkitError
from certkit.report.folders import MARKER, claim_folders
from certkit.report.runner import run_report


def test_a_folder_records_its_audience_and_refuses_the_other(tmp_path):
    folder = tmp_path / "reports" / "2026-11-30"
    claim_folders({folder: {False}})  # a private run
    assert json.loads((folder / MARKER).read_text()) == {"share": False}
    (folder / "02_certification_impact.html").write_text("<p>private</p>")
    claim_folders({folder: {False}})  # another private run: fine
    with pytest.raises(CertkitError, match="holds a private report from an earlier run"):
        claim_folders({folder: {True}})
    assert json.loads((folder / MARKER).read_text()) == {"share": False}  # unchanged

    shared = tmp_path / "shared"
    claim_folders({shared: {True}})
    with pytest.raises(CertkitError, match="holds a shared report .* this private run"):
        claim_folders({shared: {False}})


def test_pages_of_an_earlier_certkit_stop_a_shared_run_only(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / "index.html").write_text("<p>report</p>")
    with pytest.raises(CertkitError, match="do not say which audience"):
        claim_folders({old: {True}})
    assert not (old / MARKER).exists()
    claim_folders({old: {False}})  # a private run may add to it
    assert json.loads((old / MARKER).read_text()) == {"share": False}


def test_one_run_with_both_audiences_in_one_folder_is_refused(tmp_path):
    with pytest.raises(CertkitError, match="shared and private pages into one folder"):
        claim_folders({tmp_path / "x": {True, False}})
    assert not (tmp_path / "x").exists()


def test_the_report_command_refuses_before_running_a_notebook(tmp_path, capsys):
    from certkit.cli import main

    dated = tmp_path / "reports" / "today"
    claim_folders({dated: {False}})
    (dated / "03_matched_cohorts.html").write_text("<p>private</p>")
    with pytest.raises(CertkitError, match="holds a private report"):
        run_report(
            data="data/sample", out=tmp_path / "reports", share=True, folder_name="today",
            notebooks=["01"], progress=False,
        )  # fmt: skip
    assert not (dated / "01_data_health.html").exists()
    # the command: a shared run goes to the day's "-shared" folder, beside the private one
    day = datetime.now().strftime("%Y-%m-%d")
    claim_folders({tmp_path / "reports" / day: {False}})
    claim_folders({tmp_path / "reports" / f"{day}-shared": {False}})  # an older private run
    code = main(
        ["report", "--data", "data/sample", "--out", str(tmp_path / "reports"), "--share",
         "--notebook", "01", "--quiet"]
    )  # fmt: skip
    assert code != 0
    assert f"{day}-shared holds a private report from an earlier run" in capsys.readouterr().err


def test_report_takes_no_progress_as_import_does(monkeypatch, capsys):
    """trial AE (L9): `certkit report --share --no-progress` ended with "unrecognized
    arguments: --no-progress"; the flag of `certkit import` now works here too."""
    from certkit.cli import main
    from certkit.report import runner

    seen = {}

    class _Run:
        ok, failed, pdf_message, pdfs, index = True, [], None, [], "index.html"

        def summary(self) -> str:
            return "1 notebook(s)"

    def fake(**kwargs):
        seen.update(kwargs)
        return _Run()

    monkeypatch.setattr(runner, "run_report", fake)
    assert main(["report", "--data", "data/sample", "--no-progress"]) == 0
    assert seen["progress"] is False
    assert "1 notebook(s)" in capsys.readouterr().out  # the summary is still printed


def test_a_shared_run_writes_beside_the_days_private_report(tmp_path):
    """trial AF: the README's private quick start (reports/) and its shared example
    (--out reports --share) collided on the same day once the refusal came in."""
    day = datetime.now().strftime("%Y-%m-%d")
    private = tmp_path / "reports" / day
    claim_folders({private: {False}})
    (private / "01_data_health.html").write_text("<p>private</p>")
    run = run_report(
        data="data/sample", out=tmp_path / "reports", share=True, notebooks=["01"], progress=False
    )
    assert run.ok, [r.error for r in run.failed]
    assert run.out_dir.name == f"{day}-shared"
    assert (run.out_dir / "01_data_health.html").exists()
    assert json.loads((run.out_dir / MARKER).read_text()) == {"share": True}
    assert (private / "01_data_health.html").read_text() == "<p>private</p>"


def test_a_partial_rerun_keeps_the_earlier_pages_listed(tmp_path):
    """trial AF (L-e): re-running one notebook into the day's folder left pages 02-06 there,
    unlinked from the new index."""
    out = tmp_path / "reports"
    first = run_report(data="data/sample", out=out, notebooks=["01", "05"], progress=False)
    assert first.ok, [r.error for r in first.failed]
    again = run_report(data="data/sample", out=out, notebooks=["01"], progress=False)
    index = again.index.read_text()
    assert "05_roi_summary.html" in index and "earlier run" in index
    assert index.count("01_data_health.html") >= 1
