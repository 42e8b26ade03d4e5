"""Outputs never touch inputs: every writing command (``import``, ``sample``, ``panel``,
``report``) refuses an output that is or holds an input, writes all or nothing, and replaces
only files certkit wrote itself (issue 10, section 1)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import write_folder
from test_connectors_git import ANA, BEN, Repo

import certkit
from certkit.cli import main
from certkit.connectors import read_git, read_github, write_import
from certkit.data.outputs import MARKER, refuse_inputs
from certkit.errors import CertkitError

FIX = Path(__file__).parent / "fixtures" / "connectors"
ROSTER = """engineer_id,team,role,level,hire_date,platform
ana,alpha,ml_engineer,senior,2021-03-01,aws
ben,alpha,backend,mid,2022-06-01,gcp
"""
CERTS = """engineer_id,certification,earned_date
ana,AWS Certified Machine Learning - Specialty,2024-01-20
"""
IDS = "engineer_id,email\nana,ana@corp.example\nben,ben@corp.example\n"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file (hidden ones too) under ``folder`` with its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A small real git history: three merged PRs by two engineers."""
    r = Repo(tmp_path_factory.mktemp("git") / "app")
    r.commit("Initial commit", ANA, "2024-01-01T09:00:00Z", lines=3)
    for n, (who, day) in enumerate([(ANA, 2), (BEN, 5), (ANA, 9)], start=1):
        r.branch(f"f{n}")
        r.commit(f"Change {n}", who, f"2024-01-{day:02d}T10:00:00Z", lines=n + 2)
        r.checkout("main")
        r.merge(
            f"f{n}", f"Merge pull request #{n} from org/f{n}", f"2024-01-{day + 1:02d}T10:00:00Z"
        )
    (r.path.parent / "ids.csv").write_text(IDS)
    return r.path


def git_import(repo: Path):
    return read_git([repo], identities=repo.parent / "ids.csv", progress=False)


def user_folder(root: Path) -> Path:
    d = root / "d"
    d.mkdir()
    (d / "engineers.csv").write_text(ROSTER)
    (d / "certifications.csv").write_text(CERTS)
    return d


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_issue_scenario_import_into_the_input_folder_is_refused(repo, tmp_path, fmt):
    d = user_folder(tmp_path)
    before = snapshot(tmp_path)
    cmd = [sys.executable, "-m", "certkit.cli", "import", "git", str(repo)]
    cmd += [
        "--engineers",
        str(d / "engineers.csv"),
        "--certifications",
        str(d / "certifications.csv"),
    ]
    cmd += ["--out", str(d), "--format", fmt, "--no-progress"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert "holds the input --engineers file" in res.stderr
    assert str(d / "engineers.csv") in res.stderr
    assert snapshot(tmp_path) == before  # nothing deleted, overwritten or added


def test_write_import_refuses_inputs_in_python_too(repo, tmp_path):
    d = user_folder(tmp_path)
    imp = git_import(repo)
    before = snapshot(tmp_path)
    with pytest.raises(CertkitError, match="holds the input --certifications file"):
        write_import(imp, d, certifications=d / "certifications.csv")
    gh = tmp_path / "d" / "prs.json"
    gh.write_bytes((FIX / "gh_prs.json").read_bytes())
    before = snapshot(tmp_path)
    with pytest.raises(CertkitError, match="holds the input GitHub export"):
        write_import(read_github(gh), d / ".." / "d")
    assert snapshot(tmp_path) == before


def test_every_import_input_option_is_checked(repo, tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "ids.csv").write_text(IDS)
    before = snapshot(tmp_path)
    code = main(
        ["import", "git", str(repo), "--identities", str(out / "ids.csv"), "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2 and "holds the input --identities file" in err and "Traceback" not in err
    code = main(["import", "git", str(repo), "--out", str(repo)])
    assert code == 2 and "is the input repository" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_inputs_in_a_sub_folder_of_the_output_are_fine(repo, tmp_path):
    d = tmp_path / "d"
    (d / "raw").mkdir(parents=True)
    (d / "raw" / "engineers.csv").write_text(ROSTER)
    (d / "raw" / "certifications.csv").write_text(CERTS)
    before = snapshot(d / "raw")
    imp = git_import(repo)
    write_import(
        imp, d, engineers=d / "raw/engineers.csv", certifications=d / "raw/certifications.csv"
    )
    assert snapshot(d / "raw") == before
    assert certkit.validate(d).ok
    refuse_inputs(d, [("x", d / "raw" / "engineers.csv")])  # no error


def test_failing_import_leaves_the_target_as_it_was(repo, tmp_path):
    out = tmp_path / "out"
    imp = git_import(repo)
    (tmp_path / "certs.csv").write_text(CERTS)
    write_import(imp, out, certifications=tmp_path / "certs.csv", format="csv")
    before = snapshot(tmp_path)
    bad = tmp_path / "bad_certs.csv"
    bad.write_text(CERTS.replace("ana,", "nobody,"))
    with pytest.raises(certkit.DataValidationError, match="engineer_id not found"):
        write_import(imp, out, certifications=bad, format="parquet")
    bad.unlink()
    assert snapshot(tmp_path) == before


def test_failure_while_writing_leaves_the_target_as_it_was(repo, tmp_path, monkeypatch):
    import certkit.data.outputs

    out = tmp_path / "out"
    imp = git_import(repo)
    write_import(imp, out)
    before = snapshot(tmp_path)

    def half_then_fail(frames, folder, format):
        next(iter(frames.values())).write_csv(folder / "engineers.csv")
        raise OSError("disk full")

    monkeypatch.setattr(certkit.data.outputs, "write_frames", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_import(imp, out, format="csv")
    assert snapshot(tmp_path) == before  # no half-written file, no staging folder left


def test_reimport_replaces_only_certkit_files(repo, tmp_path):
    out = tmp_path / "out"
    imp = git_import(repo)
    write_import(imp, out, format="csv")
    assert json.loads((out / MARKER).read_text())["files"].keys() >= {"engineers.csv"}
    (out / "notes.txt").write_text("my notes")
    # The documented workflow: add certifications by hand, then re-import (now as parquet).
    (out / "certifications.csv").write_text(CERTS)
    write_import(imp, out, format="parquet")
    names = {p.name for p in out.iterdir()}
    assert "engineers.parquet" in names and "engineers.csv" not in names  # old output replaced
    assert (out / "certifications.csv").read_text() == CERTS  # the user's file is kept
    assert (out / "notes.txt").read_text() == "my notes"
    assert certkit.validate(out).ok
    # A gh import has no commits table: the stale certkit commits.parquet goes.
    write_import(read_github(FIX / "gh_prs.json"), out)
    assert not (out / "commits.parquet").exists()


def test_foreign_or_edited_files_are_never_replaced(repo, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "engineers.csv").write_text(ROSTER)  # the user's, not an input of this import
    before = snapshot(tmp_path)
    code = main(["import", "git", str(repo), "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "engineers.csv, which certkit did not write" in err
    assert snapshot(tmp_path) == before
    imp = git_import(repo)
    write_import(imp, out, overwrite=True)  # explicit permission (Python only)
    assert not (out / "engineers.csv").exists() and (out / "engineers.parquet").exists()
    # A certkit output edited by hand is no longer certkit's.
    write_import(imp, tmp_path / "o2", format="csv")
    edited = tmp_path / "o2" / "pull_requests.csv"
    edited.write_text(edited.read_text() + "\n")
    with pytest.raises(CertkitError, match="changed since"):
        write_import(imp, tmp_path / "o2", format="csv")


def test_sample_is_atomic_and_keeps_foreign_files(tmp_path, capsys):
    d = write_folder(tmp_path / "d")
    before = snapshot(tmp_path)
    args = ["sample", "--engineers", "30", "--months", "6", "--out", str(d)]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2 and "which certkit did not write" in err and "Traceback" not in err
    assert snapshot(tmp_path) == before
    out = tmp_path / "s"
    assert main(["sample", "--engineers", "30", "--months", "6", "--out", str(out)]) == 0
    assert (
        main(["sample", "--engineers", "30", "--months", "6", "--out", str(out), "--format", "csv"])
        == 0
    )
    names = {p.name for p in out.iterdir()}
    assert names == {
        "engineers.csv",
        "certifications.csv",
        "pull_requests.csv",
        "defects.csv",
        "incidents.csv",
        "truth.json",
        MARKER,
    }
    # Folders written before the marker existed (truth.json / import.json) are recognised.
    (out / MARKER).unlink()
    assert main(["sample", "--engineers", "30", "--months", "6", "--out", str(out)]) == 0


def test_dataset_write_refuses_foreign_files(small_folder, tmp_path):
    ds = certkit.load(small_folder, today=None)
    before = snapshot(small_folder)
    with pytest.raises(CertkitError, match="certkit did not write"):
        ds.write(small_folder, format="parquet")
    assert snapshot(small_folder) == before
    out = ds.write(tmp_path / "copy", format="csv")
    assert certkit.load(out).engineers.equals(ds.engineers)


def test_panel_refuses_to_write_over_its_input(small_folder, tmp_path, capsys):
    before = snapshot(small_folder)
    for target in ("engineers.csv", "pull_requests.parquet"):
        code = main(["panel", str(small_folder), "--out", str(small_folder / target)])
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err, err
        assert "inputs are only ever read" in err and target.split(".")[0] in err
    assert snapshot(small_folder) == before
    out = tmp_path / "p" / "panel.csv"
    assert main(["panel", str(small_folder), "--out", str(out)]) == 0
    assert pl.read_csv(out).height > 0
    assert [p.name for p in out.parent.iterdir()] == ["panel.csv"]  # no temporary file left


def test_report_refuses_the_data_folder_as_output(small_folder, capsys):
    before = snapshot(small_folder)
    code = main(["report", "--data", str(small_folder), "--out", str(small_folder), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "is the input data folder" in err and "Traceback" not in err
    assert snapshot(small_folder) == before


def test_dataset_write_over_an_import_keeps_its_audit_files(repo, tmp_path):
    out = tmp_path / "out"
    (tmp_path / "certs.csv").write_text(CERTS)
    ds, _ = write_import(git_import(repo), out, certifications=tmp_path / "certs.csv")
    commits = (out / "commits.parquet").read_bytes()
    ds.write(out, format="csv")  # tables replaced, the import's audit trail kept
    assert (out / "commits.parquet").read_bytes() == commits
    assert (out / "import.json").exists() and not (out / "engineers.parquet").exists()
    assert certkit.load(out).pull_requests.height == ds.pull_requests.height == 3
    # The import's files stay certkit's: a later re-import replaces them without complaint.
    assert "import.json" in json.loads((out / MARKER).read_text())["files"]
    write_import(git_import(repo), out, certifications=tmp_path / "certs.csv")
    assert (out / "engineers.parquet").exists() and not (out / "engineers.csv").exists()
