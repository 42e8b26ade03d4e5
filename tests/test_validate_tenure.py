"""PRs merged before their author's hire month (or after their leave month) are outside the
panel, which holds each engineer from hire to leave. Trial G: 48 of xarray's roster PRs left
the panel without a word; validation now warns with the count, the engineers and the rows,
and the data-health page counts every merged PR the panel leaves out, exactly."""

from __future__ import annotations

import warnings
from datetime import date

from conftest import CERTIFICATIONS, ENGINEERS, PULL_REQUESTS, write_folder

import certkit as ck
from certkit.data import health

# E2 is hired 2024-02-10: P7 (January) is before the hire month, P8 (2024-02-02) is in it, and
# February, joined inside, is left out for E2. E3 leaves 2024-03-25: P9 (April) is after, and March, left inside, is left out for E3. E4 is certified before hire (left out).
TENURE_ENGINEERS = (
    ENGINEERS.replace("name\n", "name,leave_date\n", 1)
    .replace("Ana Silva\n", "Ana Silva,\n")
    .replace("Ben Okafor\n", "Ben Okafor,\n")
    .replace("Chen Nguyen\n", "Chen Nguyen,2024-03-25\n")
    + "E4,beta,backend,mid,2023-03-01,aws,Dee Four,\n"
)
TENURE_PRS = (
    PULL_REQUESTS
    + "P7,E2,org/api,2024-01-02T09:00:00Z,2024-01-09T10:00:00Z,,3,3,0,false\n"
    + "P8,E2,org/api,2024-02-01T09:00:00Z,2024-02-02T10:00:00Z,,3,3,0,false\n"
    + "P9,E3,org/api,2024-03-28T09:00:00Z,2024-04-02T10:00:00Z,,3,3,0,false\n"
    + "P10,E4,org/api,2024-01-28T09:00:00Z,2024-02-02T10:00:00Z,,3,3,0,false\n"
)
TENURE_CERTS = CERTIFICATIONS + "E4,AWS Certified Machine Learning - Specialty,2023-01-20,300,80\n"


def _load(tmp_path):
    folder = write_folder(
        tmp_path / "org",
        engineers=TENURE_ENGINEERS,
        pull_requests=TENURE_PRS,
        certifications=TENURE_CERTS,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        ds = ck.load(folder, today=date(2024, 6, 1))
        panel = ck.build_panel(ds)
    return ds, panel


def test_validation_names_prs_merged_before_hire(tmp_path):
    ds, _ = _load(tmp_path)
    found = [p for p in ds.validation.warnings if "hire_date (" in p.message]
    assert len(found) == 1, ds.validation.format()
    p = found[0]
    assert p.message.startswith(
        "1 PR of 1 engineer was merged before the month of their author's hire_date (E2: 1): "
        "outside the panel"
    )
    assert p.column == "merged_date" and p.rows == [8]  # pull_requests.csv line of P7
    # merged after the leave month: common (a colleague merges it), counted by data health
    assert not [p for p in ds.validation.warnings if "leave_date (" in p.message]


def test_health_counts_exactly_what_the_panel_leaves_out(tmp_path):
    ds, panel = _load(tmp_path)
    found = health.prs_outside_panel(ds, panel)
    assert found == {
        "merged": 9,  # P1-P4, P6-P10 (P5 is not merged)
        "before": 1,  # P7
        "before_engineers": 1,
        "after": 1,  # P9
        "after_engineers": 1,
        "partial_end": 0,
        "joined_inside": 1,  # P8: E2 joined on 10 February, a partial month
        "joined_inside_engineers": 1,
        "left_inside": 1,  # E3's March PR: E3 left on 25 March, a partial month
        "left_inside_engineers": 1,
        "left_out": 1,  # P10, by E4 (certified before hire)
        "left_out_engineers": 1,
        "engineers": 2,
        "total": 5,
    }
    assert found["merged"] - found["total"] == panel["merged_prs"].sum()
    words = health.narrative(
        ds,
        health.coverage(ds),
        health.missing(ds),
        health.outliers(ds, panel),
        panel=panel,
    )
    assert (
        "- **Outside the panel:** 5 of 9 merged PRs of engineers count in no outcome: 1 merged "
        "before the month of their author's hire_date; 1 merged after the month of their "
        "author's leave_date; 1 merged in the month their author joined inside (left out for "
        "them); 1 merged in the month their author left inside (left out for them); 1 by 1 "
        "engineer left out of the panel"
    ) in words


def test_weekly_panel_count_matches_too(tmp_path):
    ds, _ = _load(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        panel = ck.build_panel(ds, "week")
    found = health.prs_outside_panel(ds, panel, "week")
    assert found["merged"] - found["total"] == panel["merged_prs"].sum()
    assert found["before"] == 2  # P8 (Feb 2, the week before E2's hire week) now too


def test_nothing_said_when_every_pr_is_inside(tmp_path):
    folder = write_folder(tmp_path / "ok")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        ds = ck.load(folder, today=date(2024, 6, 1))
        panel = ck.build_panel(ds)
    assert not [p for p in ds.validation.problems if "outside the panel" in p.message]
    assert health.prs_outside_panel(ds, panel)["total"] == 0
    assert "Outside the panel" not in health.narrative(
        ds, health.coverage(ds), health.missing(ds), health.outliers(ds, panel), panel=panel
    )


def test_a_shared_report_does_not_count_fewer_engineers_than_k(tmp_path):
    ds, panel = _load(tmp_path)
    found = health.prs_outside_panel(ds, panel)
    assert "1 by 1 engineer left out" in health.outside_words(found)
    shared = health.outside_words(found, k=5)
    assert "1 engineer" not in shared and " by engineers left out" not in shared
    # nor their PRs: a statistic of fewer than k engineers (trial T: 107 PRs of 2)
    assert "each kind rests on fewer than 5 engineers" in shared
    assert not any(ch.isdigit() for ch in shared.replace("5", ""))  # no count at all (trial AB)


def test_a_certification_soon_after_hire_is_said_to_rest_on_ramp_up(tmp_path):
    """trial AE (M2, getsentry/sentry-python): two engineers certified 5 and 3 months after
    joining had their first months (5, 15, 22 ... merged PRs) as the before-period; the
    throughput effect was +4.89 with them and +2.97 without, and nothing said so."""
    certs = (
        CERTIFICATIONS
        + "E2,AWS Certified Machine Learning - Specialty,2024-05-01,300,80\n"  # 3 months in
        + "E3,AWS Certified Machine Learning - Specialty,2024-03-01,300,80\n"  # 9 months in
        + "E5,AWS Certified Machine Learning - Specialty,2024-03-01,300,80\n"  # added by import
    )
    engineers = ENGINEERS + "E5,unknown,unknown,unknown,2024-02-01,other,Guest Five\n"
    folder = write_folder(tmp_path / "org", engineers=engineers, certifications=certs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        ds = ck.load(folder, today=date(2024, 6, 1))
    found = [p for p in ds.validation.warnings if "within 6 months" in p.message]
    assert len(found) == 1, ds.validation.format()
    assert found[0].message.startswith(
        "earned within 6 months of the engineer's hire_date (1 engineer(s)): their months "
        "before certifying are their first"
    )
    assert found[0].column == "earned_date" and found[0].rows == [3]  # E2's line
