"""A defect or incident linked to a bot's PR (dependabot, renovate, an agent) counts for no
engineer: the panel leaves bots out. Only the report's data-health page said so (as "out of
scope"); the import's notes and ``certkit validate`` now say it, with the rows."""

from __future__ import annotations

import json
import warnings
from datetime import date
from pathlib import Path

import polars as pl
from conftest import DEFECTS, ENGINEERS, INCIDENTS, PULL_REQUESTS, write_folder

import certkit as ck
from certkit.cli import main
from certkit.data import health

FIX = Path(__file__).parent / "fixtures" / "connectors"
# renovate is an engineer row marked is_bot; dependabot[bot] is in no engineer row (allowed)
BOT_ENGINEERS = (
    ENGINEERS.replace("name\n", "name,is_bot\n", 1)
    + "renovate,infra,bot,na,2023-01-01,other,Renovate,true\n"
)
BOT_PRS = (
    PULL_REQUESTS
    + "P7,renovate,org/app,2024-01-02T09:00:00Z,2024-01-02T10:00:00Z,,3,3,0,false\n"
    + "P8,dependabot[bot],org/app,2024-01-04T09:00:00Z,2024-01-04T10:00:00Z,,1,1,0,false\n"
)
# D3 and D4 are charged to bots; D5 names its PR (a bot's) and E3, who counts instead
BOT_DEFECTS = DEFECTS + "D3,2024-02-02,P7,,high\nD4,2024-02-03,P8,,low\nD5,2024-02-04,P8,E3,low\n"
BOT_INCIDENTS = INCIDENTS + "I3,2024-02-05T01:00:00Z,,SEV2,P8,\n"
WORDS = (
    "2 defects are linked to a PR by a bot (dependabot, renovate, an agent with no human to "
    "credit), e.g. D3 (P7 by renovate), D4 (P8 by dependabot[bot]): the analysis leaves bots "
    "out, so they count in organisation totals only, for no engineer"
)


def _folder(tmp_path: Path) -> Path:
    return write_folder(
        tmp_path / "org",
        engineers=BOT_ENGINEERS,
        pull_requests=BOT_PRS,
        defects=BOT_DEFECTS,
        incidents=BOT_INCIDENTS,
    )


def test_validate_names_rows_charged_to_bots(tmp_path, capsys):
    folder = _folder(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        ds = ck.load(folder, today=date(2024, 6, 1))
    found = {
        p.table: p for p in ds.validation.warnings if p.column == "pr_id" and "bot" in p.message
    }
    assert WORDS in found["defects"].message and found["defects"].rows == [4, 5]  # CSV lines
    assert found["incidents"].message.startswith("1 incident is linked to a PR by a bot")
    assert "I3 (P8 by dependabot[bot])" in found["incidents"].message
    assert found["incidents"].rows == [4]
    assert main(["validate", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "defects.csv, column 'pr_id', lines 4, 5: 2 defects are linked to a PR by a bot" in out
    # the panel indeed charges them to nobody: D5 counts for E3, D3/D4 for no one
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        panel = ck.build_panel(ds)
    per = panel.group_by("engineer_id").agg(pl.col("defects").sum()).sort("engineer_id")
    assert dict(per.rows()) == {"E1": 1, "E2": 0, "E3": 2}  # D1; D2 and D5; not D3, D4
    # the data-health page counts bots' PRs with the same definition
    assert health.prs_left_out(ds) == 2


def test_the_import_notes_say_it_once(tmp_path, capsys):
    from test_connectors_cli import run_import

    jira = tmp_path / "jira.csv"
    jira.write_text(
        "Summary,Issue key,Issue Type,Created,Description\n"
        "Deps,WEB-10,Bug,2024-03-12T09:30:00Z,broken by org/app#15\n"  # dependabot's PR
        "Save,WEB-11,Bug,2024-03-12T09:30:00Z,broken by org/app#12\n"  # chen's
    )
    certs = tmp_path / "certs.csv"
    certs.write_text("engineer_id,certification,earned_date\nana,AWS Certified ML,2024-03-20\n")
    out = tmp_path / "out"
    argv = ["import", "github", str(FIX / "gh_prs.json"), "--jira", str(jira), "--out", str(out)]
    argv += ["--identities", str(FIX / "gh_identities.csv"), "--certifications", str(certs)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        assert run_import(argv) == 0
    said = capsys.readouterr()
    words = "1 defect is linked to a PR by a bot"
    assert (said.out + said.err).count(words) == 1
    assert "WEB-10 (org/app#15 by dependabot[bot])" in said.out
    notes = json.loads((out / "import.json").read_text())["notes"]
    assert [n for n in notes if words in n] and "WEB-11" not in " ".join(notes)


def test_validation_where_the_data_lives_says_the_same(tmp_path):
    """``certkit panel --validate`` (lazy tables: polars, DuckDB) finds the same rows with the
    same words as ``certkit load``, naming ids instead of lines."""
    from test_panel_engines import to_duckdb

    from certkit.data.validate_lazy import validate_lazy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        ds = ck.load(_folder(tmp_path), today=date(2024, 6, 1))
    eager = {p.table: p.message for p in ds.validation.warnings if "by a bot" in p.message}
    lazy = ck.Dataset(**{n: f.lazy() for n, f in ds.tables().items()})
    for data in (lazy, to_duckdb(ds)):
        found = {
            p.table: p
            for p in validate_lazy(data).problems
            if p.column == "pr_id" and "bot" in p.message
        }
        assert {t: p.message for t, p in found.items()} == eager
        assert found["defects"].rows == ["D3", "D4"] and found["incidents"].rows == ["I3"]
        assert found["defects"].severity == "warning"
