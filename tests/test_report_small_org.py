"""Every report notebook renders on a small real-looking organisation (issue 10, section 4).

The organisation is 24 engineers whose pull requests come from a throwaway git repository
built with real ``git`` (``git fast-import``: merge commits of PR branches, a few squash merges
carrying ``Co-authored-by: Claude/Copilot`` trailers, few AI PRs), imported with
``certkit import git`` plus a roster and 3 certified engineers. Every notebook runs with and
without ``--share``: none may fail, show ``nan``/``inf``, print to stderr, show a group under
k in a shared page, or leave an unestimable section without an explanation.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import certkit as ck
from certkit.privacy import find_identifiers
from certkit.report.runner import run_report

NOTEBOOKS = [
    "01_data_health",
    "02_certification_impact",
    "03_matched_cohorts",
    "04_ai_outcomes",
    "05_roi_summary",
    "06_ai_adoption",
]
TEAMS = ["payments", "search", "platform", "mobile"]
TINY_TEAM = "tinyteamzeta"  # 2 people: below k = 5, must not appear in shared pages
CERTIFIED = 3
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
MONTHS = 12


def _fast_import_stream(n_engineers: int, seed: int) -> tuple[str, list[dict]]:
    """A fast-import stream: PR branches merged into main, a few squash merges; and the people."""
    rng = np.random.default_rng(seed)
    people = [
        {"name": f"Dev {i:02d}", "email": f"dev{i:02d}@corp.example"} for i in range(n_engineers)
    ]
    out: list[str] = []
    mark = 0
    main_tip: int | None = None
    pr = 0

    def data(text: str) -> str:
        raw = text.encode()
        return f"data {len(raw)}\n{text}\n"

    def commit(ref, person, when, message, parents, path, lines) -> int:
        nonlocal mark
        mark += 1
        ts = int(when.timestamp())
        who = f"{person['name']} <{person['email']}> {ts} +0000"
        block = [f"commit {ref}", f"mark :{mark}", f"author {who}", f"committer {who}"]
        block.append(data(message).rstrip("\n"))
        if parents:
            block.append(f"from :{parents[0]}")
            block += [f"merge :{p}" for p in parents[1:]]
        content = "".join(f"{path} line {i}\n" for i in range(lines))
        block += [f"M 644 inline {path}", data(content).rstrip("\n")]
        out.append("\n".join(block) + "\n")
        return mark

    days = MONTHS * 30
    events = []
    for i in range(len(people)):
        n_prs = int(rng.integers(10, 22))
        for day in sorted(rng.choice(days, size=n_prs, replace=False)):
            events.append((int(day), i))
    events.sort()
    for day, i in events:
        person = people[i]
        pr += 1
        opened = START + timedelta(days=day, hours=int(rng.integers(0, 8)))
        merged = opened + timedelta(hours=float(rng.gamma(2.0, 10.0)) + 0.5)
        ai = rng.random() < 0.08
        trailer = ""
        if ai:
            trailer = (
                "\n\nCo-authored-by: Claude <noreply@anthropic.com>"
                if rng.random() < 0.5
                else "\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>"
            )
        lines = int(rng.integers(3, 60))
        path = f"src/m{pr % 17}/f{pr}.txt"
        if rng.random() < 0.12:  # squash merge: one commit on main, subject ends in (#N)
            main_tip = commit(
                "refs/heads/main",
                person,
                merged,
                f"Change {pr} (#{pr}){trailer}",
                [main_tip] if main_tip else [],
                path,
                lines,
            )
            continue
        if main_tip is None:  # the repository needs a first commit to branch from
            main_tip = commit("refs/heads/main", person, opened, "Initial commit", [], "README", 1)
        head = commit(
            f"refs/heads/pr{pr}",
            person,
            opened,
            f"Work on change {pr}{trailer}",
            [main_tip],
            path,
            lines,
        )
        main_tip = commit(
            "refs/heads/main",
            person,
            merged,
            f"Merge pull request #{pr} from corp/pr{pr}\n\nChange {pr}",
            [main_tip, head],
            path + ".merged",
            1,
        )
    return "".join(out) + "done\n", people


def _build_org(root: Path) -> Path:
    repo = root / "app"
    repo.mkdir()
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True, env=env)
    subprocess.run(
        ["git", "remote", "add", "origin", "git@github.com:corp/app.git"],
        cwd=repo,
        check=True,
        env=env,
    )
    stream, people = _fast_import_stream(24, seed=7)
    subprocess.run(
        ["git", "fast-import", "--quiet", "--done"],
        cwd=repo,
        input=stream.encode(),
        check=True,
        env=env,
    )
    rows = []
    for i, p in enumerate(people):
        team = TINY_TEAM if i >= len(people) - 2 else TEAMS[i % len(TEAMS)]
        rows.append(
            {
                "engineer_id": p["email"],
                "name": p["name"],
                "email": p["email"],
                "team": team,
                "role": "engineer",
                "level": ["junior", "mid", "senior"][i % 3],
                "hire_date": "2023-03-01",
                "platform": ["aws", "gcp"][i % 2],
            }
        )
    roster = root / "roster.csv"
    pl.DataFrame(rows).write_csv(roster)
    certs = root / "certifications.csv"
    pl.DataFrame(
        {
            "engineer_id": [people[i]["email"] for i in (1, 5, 10)][:CERTIFIED],
            "certification": ["AWS Certified Machine Learning - Specialty"] * CERTIFIED,
            "earned_date": ["2025-06-16", "2025-07-14", "2025-08-11"],
        }
    ).write_csv(certs)
    data = root / "data"
    exe = Path(sys.executable).parent / "certkit"
    proc = subprocess.run(
        [str(exe), "import", "git", str(repo), "--out", str(data), "--engineers", str(roster)]
        + ["--certifications", str(certs), "--no-progress"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return data


def _text(page: str) -> str:
    """What a reader sees: the page without scripts, styles and tags."""
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    root = tmp_path_factory.mktemp("small-org")
    data = _build_org(root)
    runs = {}
    for share in (False, True):
        runs[share] = run_report(
            str(data),
            str(root / ("shared" if share else "private")),
            share=share,
            no_input=True,
            progress=False,
            jobs=2,
        )
    return {"data": data, "runs": runs}


# one worker builds the organisation and renders its reports once (a module fixture is
# built again on every xdist worker that runs one of these tests: 2 x ~2 minutes)
pytestmark = [pytest.mark.slow]


def test_the_organisation_is_small_and_real(reports):
    ds = ck.load(reports["data"])
    assert ds.human_engineers().height == 24
    assert ds.certifications["engineer_id"].n_unique() == CERTIFIED
    prs = ds.pull_requests
    assert prs.filter(pl.col("created_source") == "squash_commit").height > 10
    n_ai = prs.filter(pl.col("ai_assisted") > 0).height
    assert 0 < n_ai < 0.2 * prs.height, n_ai


@pytest.mark.parametrize("share", [False, True])
def test_every_notebook_renders(reports, share):
    run = reports["runs"][share]
    assert run.ok, [(r.notebook, r.error) for r in run.failed]
    assert [r.notebook for r in run.results] == NOTEBOOKS
    for r in run.results:
        nb = json.loads(r.ipynb.read_text())
        for cell in nb["cells"]:
            for o in cell.get("outputs", []):
                assert o.get("output_type") != "error", (r.notebook, o)
                assert not (o.get("output_type") == "stream" and o.get("name") == "stderr"), (
                    r.notebook,
                    "".join(o.get("text", "")),
                )
        text = _text(r.html.read_text())
        bad = re.findall(r".{40}\b(?:nan|NaN|inf|Infinity)\b.{20}", text)
        assert not bad, (r.notebook, bad[:3])
        assert "unexpected error" not in text, r.notebook


def test_matched_cohorts_has_no_unexpected_error(reports):
    page = next(r for r in reports["runs"][False].results if r.notebook == "03_matched_cohorts")
    assert "unexpected error" not in _text(page.html.read_text())


def test_unestimable_sections_explain_themselves(reports):
    pages = {r.notebook: _text(r.html.read_text()) for r in reports["runs"][True].results}
    # 3 certified engineers: a shared page shows no certification effect and says why
    for nb in ("02_certification_impact", "05_roi_summary"):
        assert "a shared report shows only estimates based on at least 5 people" in pages[nb], nb
    assert "No ROI estimate on this data" in pages["05_roi_summary"]
    private = {r.notebook: _text(r.html.read_text()) for r in reports["runs"][False].results}
    for nb, text in private.items():
        # every sentence about a missing estimate gives a reason after the colon
        for m in re.finditer(r"(could not be estimated|not estimated)[.:]\s*(\S+)", text):
            assert len(m.group(2)) > 1, (nb, text[m.start() : m.start() + 200])
    assert "squash" in private["01_data_health"]  # the approximated creation dates are explained
    assert "Cycle time leaves out" in private["02_certification_impact"]
    assert "Cycle time leaves out" in private["04_ai_outcomes"]


def test_shared_pages_show_no_small_group(reports):
    engineers = ck.load(reports["data"]).engineers
    for r in reports["runs"][True].results:
        page = r.html.read_text()
        assert find_identifiers(page, engineers) == [], r.notebook
        assert TINY_TEAM not in page, r.notebook
        # the certified split of the AI comparison rests on 3 certified engineers
        assert "<td>certified_extra</td>" not in page, r.notebook
        # the effect tables list how many certified engineers each estimate rests on: when an
        # estimate is shown, that number is at least k
        nb = json.loads(r.ipynb.read_text())
        for cell in nb["cells"]:
            for o in cell.get("outputs", []):
                spec = o.get("data", {}).get("application/vnd.vegalite.v6+json")
                if not spec:
                    continue
                for rows in (spec.get("datasets") or {}).values():
                    for row in rows:
                        if "engineers" in row and row["engineers"] is not None:
                            assert row["engineers"] >= 5, (r.notebook, row)
    private = {r.notebook: r.html.read_text() for r in reports["runs"][False].results}
    assert TINY_TEAM in private["01_data_health"]  # the guard is what removes it


def test_landing_page_answers_or_says_what_is_missing(reports):
    """The landing page of a small organisation: every line has a number or a reason."""
    engineers = ck.load(reports["data"]).engineers
    for share, run in reports["runs"].items():
        page = run.index.read_text()
        text = " ".join(_text(page).split())
        assert "Did outcomes change after certification?" in text, share
        assert text.index("Return on investment") < text.index("Run log"), share
        assert not re.search(r"\b(?:nan|NaN|inf|Infinity)\b", text), share
        assert find_identifiers(page, engineers) == [], share
        if share:  # 3 certified engineers: no effect, no ROI, and the page says why
            assert "No certification effect could be estimated" in text
            assert "a shared report shows only estimates based on at least 5 people" in text
            assert "no ROI estimate" in text
            assert TINY_TEAM not in page


@pytest.mark.parametrize("share", [False, True])
def test_every_page_opens_with_its_answer_or_why_not(reports, share):
    """Each page's answer box (above the first cell) has the landing page's numbers, and a
    page with nothing estimable says so with the recorded reasons."""
    from test_report_landing import check_answer_box

    from certkit.report import landing

    run = reports["runs"][share]
    index = run.index.read_text()
    for r in run.results:
        records = landing.read(r.headlines) if r.headlines else []
        check_answer_box(r.html.read_text(), index, records)
        if share and r.notebook in ("02_certification_impact", "05_roi_summary"):
            # 3 certified engineers: nothing estimable, and each line says why (the reason
            # the notebook recorded: too few people to show, or nothing to value)
            box = _text(r.html.read_text().split('id="certkit-answer"')[1].split("</section>")[0])
            reasons = re.findall(r"(?:not estimated|no ROI estimate): (\w+)", box)
            missing = [x for x in records if x["kind"] in ("effect", "roi")]
            assert missing and len(reasons) == len(missing), (r.notebook, box)
            if not any(landing.estimated(x) for x in records):
                assert "Nothing on this page could be estimated" in box, (r.notebook, box)
    if share:
        impact = next(r for r in run.results if r.notebook == "02_certification_impact")
        assert "at least 5 people" in _text(impact.html.read_text().split("</section>")[0])
