"""``certkit report`` end to end: a real papermill batch on a small simulated organisation.

One batch, run through the installed ``certkit`` command from another directory with a
cron-like PATH, executes every notebook as ``make report`` does (run ``org``), the team-level
notebooks as a shared report (run ``shared``) and a run that must fail (run ``broken``). The
tests check the exit code and messages, the files, the privacy guarantees and that the HTML
draws its charts in a headless Chromium with no network.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl
import pytest

import certkit as ck
from certkit.privacy import find_identifiers

NOTEBOOKS = [
    "01_data_health",
    "02_certification_impact",
    "03_matched_cohorts",
    "04_ai_outcomes",
    "05_roi_summary",
    "06_ai_adoption",
]
TINY_TEAM = "tinyteamzeta"


def _make_org(folder: Path) -> Path:
    """A small simulated organisation with one team of 3 people (below k = 5)."""
    ds = ck.simulate(n_engineers=100, months=12, seed=1)
    humans = ds.engineers.filter(~pl.col("is_bot"))["engineer_id"].head(3).to_list()
    ds.engineers = ds.engineers.with_columns(
        pl.when(pl.col("engineer_id").is_in(humans))
        .then(pl.lit(TINY_TEAM))
        .otherwise(pl.col("team"))
        .alias("team")
    )
    return ds.write(folder, format="csv")


def _run_batch(root: Path) -> dict:
    org = _make_org(root / "org" / "data")
    work = root / "cron"
    work.mkdir()
    (work / "batch.yaml").write_text(
        "data: ../org/data\n"  # relative to the config file
        "runs:\n"
        "  - name: org\n"
        "  - name: shared\n"
        "    notebooks: [data_health, ai_outcomes]\n"
        "    parameters: {share: true}\n"
        "  - name: broken\n"
        "    notebooks: [data_health]\n"
        "    parameters: {teams: [no-such-team]}\n"
    )
    exe = Path(sys.executable).parent / "certkit"
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", str(work))}
    proc = subprocess.run(
        [str(exe), "report", "--config", "batch.yaml", "--out", "out", "--jobs", "2"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    dated = [str(p) for p in (work / "out").iterdir() if p.is_dir()]
    return {
        "returncode": proc.returncode,
        "stdout": proc.stdout,
        "stderr": proc.stderr,
        "dated": dated,
        "org": str(org),
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory, worker_id):
    """Run the batch once per test session, shared by the xdist workers (file lock)."""
    base = tmp_path_factory.getbasetemp()
    root = (base if worker_id == "master" else base.parent) / "certkit-report-batch"
    root.mkdir(exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / "result.json"
        if not done.exists():
            done.write_text(json.dumps(_run_batch(root)))
        result = json.loads(done.read_text())
        fcntl.flock(lock, fcntl.LOCK_UN)
    assert len(result["dated"]) == 1, result["stderr"]
    return result


@pytest.fixture(scope="module")
def org(batch) -> Path:
    return Path(batch["org"])


SHARED = ["01_data_health", "04_ai_outcomes"]


def _pages(out: Path) -> dict[tuple[str, str], str]:
    runs = {"org": NOTEBOOKS, "shared": SHARED}
    return {(r, nb): (out / r / f"{nb}.html").read_text() for r, nbs in runs.items() for nb in nbs}


def test_batch_exit_code_and_failure_message(batch):
    assert batch["returncode"] == 1, batch["stdout"] + batch["stderr"]
    err, stdout = batch["stderr"], batch["stdout"]
    assert "FAILED broken/01_data_health" in err
    assert re.search(r"cell \d+ \(execution count \d+\) failed: CertkitError", err)
    assert "no-such-team" in err
    assert "partly executed notebook kept" in err
    assert "certkit report" in err  # the progress bar
    assert re.search(r"in line \d+: ctx = setup\(", err), err  # the line that raised
    assert "without encryption" not in err  # the kernels' own log stays out of the terminal
    for run, nbs in (("org", NOTEBOOKS), ("shared", SHARED)):
        for nb in nbs:
            assert re.search(rf"(?m)^{run} +{nb} +ok ", stdout), stdout + err


def test_batch_files_and_index(batch):
    out = Path(batch["dated"][0])
    for nb in NOTEBOOKS:
        assert (out / "org" / f"{nb}.ipynb").is_file()
        assert (out / "org" / f"{nb}.html").is_file()
    assert (out / "broken" / "01_data_health.ipynb").is_file()  # kept for diagnosis
    assert not (out / "broken" / "01_data_health.html").exists()
    index = (out / "index.html").read_text()
    assert "Run log" in index  # below the answer (tests/test_report_landing.py)
    assert index.count(">ok<") == len(NOTEBOOKS) + len(SHARED)
    assert index.count(">failed<") == 1
    assert 'href="org/01_data_health.html"' in index
    assert (out.parent / "index.html").is_file()


def test_html_is_offline_hides_code_and_has_a_header(batch):
    for (run, nb), page in _pages(Path(batch["dated"][0])).items():
        where = f"{run}/{nb}"
        assert not re.search(r"<script[^>]+src=", page), where
        assert "cdn.jsdelivr" not in page and "require.min.js" not in page, where
        assert page.count("window.vegaEmbed=") == 1, where  # bundle inlined once
        assert "certkit-header" in page and "data period 2" in page, where
        assert "privacy_k: int" not in page and "ctx = setup(" not in page, where
        assert 'class="highlight hl-ipython3"' not in page, where  # no code cell by default
        shared_badge = "shared: groups under 5 people hidden" in page
        assert shared_badge == (run == "shared"), where
        assert page.count('class="certkit-chart"') >= 2, where


def test_reports_show_no_individual_and_shared_ones_no_small_team(batch, org):
    out = Path(batch["dated"][0])
    engineers = ck.load(org).engineers
    for (run, nb), page in _pages(out).items():
        assert find_identifiers(page, engineers) == [], (run, nb)
        for col in ("engineer_id", "name", "email"):
            assert engineers[col].drop_nulls()[5] not in page, (run, nb, col)
        if run == "shared":
            assert TINY_TEAM not in page, nb
    # The guard is what removes it: the unshared report lists the 3-person team.
    assert TINY_TEAM in (out / "org" / "01_data_health.html").read_text()
    assert TINY_TEAM in (out / "org" / "04_ai_outcomes.html").read_text()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _dump_dom(page: Path) -> str:
    assert CHROMIUM, "chromium is missing: run `bash scripts/system-deps.sh` (make test does)"
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--proxy-server=127.0.0.1:9",  # any network request would fail
                "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=20000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.parametrize("nb", ["01_data_health", "05_roi_summary"])
def test_charts_render_offline_in_headless_chromium(batch, nb):
    out = Path(batch["dated"][0])
    page = out / "org" / f"{nb}.html"
    dom = _dump_dom(page)
    charts = page.read_text().count('class="certkit-chart"')
    rendered = len(re.findall(r'class="certkit-chart[^"]*"[^>]*data-rendered="1"', dom))
    rendered += len(re.findall(r'data-rendered="1"[^>]*class="certkit-chart', dom))
    assert rendered == charts, f"{rendered} of {charts} charts drew"
    assert dom.count('class="marks"') >= charts  # one Vega SVG per chart
    assert len(re.findall(r"role-mark", dom)) >= charts  # with marks inside
    assert not re.search(r">Chart (failed to draw|library missing)", dom)


def test_the_header_scope_follows_the_teams_parameter():
    """trial N: with -p teams=[...] every header gave the whole organisation (314 engineers,
    1,554 PRs) above pages about 26 engineers and 829 PRs."""
    from certkit.report import filter_dataset
    from certkit.report.runner import _scope

    ds = ck.simulate(60, 12, seed=3)
    team = ds.engineers.filter(~pl.col("is_bot"))["team"].drop_nulls()[0]
    members = ds.engineers.filter(pl.col("team") == team)["engineer_id"]
    kept = filter_dataset(ds, teams=[team]).pull_requests.height  # its PRs and the bots'
    _, whole = _scope(ds, "org")
    _, scoped = _scope(ds, "org", [team])
    assert whole.startswith(f"{ds.human_engineers().height} engineers")
    assert whole.endswith("; folder org")
    assert scoped.startswith(f"{members.len()} engineers, {kept:,} pull")
    assert scoped.endswith(f"; folder org, teams {team}")
    assert kept < ds.pull_requests.height
    assert _scope(ds, "org", ["no such team"])[1] == whole  # the notebook says it is unknown
    # trial O: and the start / end parameters
    start, end = ds.period()
    middle = start + (end - start) / 2
    _, until = _scope(ds, "org", None, None, str(middle))
    kept = filter_dataset(ds, end=str(middle)).pull_requests.height
    assert f", {kept:,} pull requests" in until and kept < ds.pull_requests.height
