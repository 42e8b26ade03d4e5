"""certkit.matching.baseline_table: the window rule, attributes, and the path into match()."""

from __future__ import annotations

import warnings

import polars as pl
import pytest

import certkit as ck
from certkit import matching as M
from certkit.errors import CertkitError, CertkitWarning

OFFSET = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
COHORT = {"A": 4, "B": 6, "C": 0, "D": 8, "E": 0}


def _panel() -> pl.DataFrame:
    """y = 10 * period + offset; level turns "senior" from period 5 on; E arrives in 9;
    C's y is null in period 3 (a rate without PRs)."""
    rows = []
    for e, off in OFFSET.items():
        for t in range(9 if e == "E" else 1, 11):
            y = None if (e == "C" and t == 3) else 10.0 * t + off
            rows.append(
                {
                    "engineer_id": e,
                    "period_index": t,
                    "cohort": COHORT[e],
                    "y": y,
                    "level": "senior" if t >= 5 else "mid",
                    "tenure_months": float(t),
                }
            )
    return pl.DataFrame(rows)


def _mean(e, lo, hi, skip=()):
    vals = [10.0 * t + OFFSET[e] for t in range(lo, hi + 1) if t not in skip]
    return sum(vals) / len(vals)


def test_window_rule_for_certified_never_and_not_yet_certified():
    p = _panel()
    with pytest.warns(CertkitWarning, match="1 without any period in their window"):
        bt = M.baseline_table(
            p, outcomes="y", attributes=["level", "tenure_months"], pre_periods=2, certified_by=6
        )
    r = {row["engineer_id"]: row for row in bt.iter_rows(named=True)}
    assert set(r) == {"A", "B", "C", "D"}  # E has no period in 2..5
    assert (r["A"]["certified"], r["B"]["certified"]) == (1, 1)
    assert (r["C"]["certified"], r["D"]["certified"]) == (0, 0)  # D certifies in 8: not yet
    # certified: own pre-period window g-2 .. g-1
    assert (r["A"]["window_start"], r["A"]["window_end"]) == (2, 3)
    assert r["A"]["y_pre"] == pytest.approx(_mean("A", 2, 3))
    assert r["B"]["y_pre"] == pytest.approx(_mean("B", 4, 5))
    # peers: the calendar window the certified windows cover together, 2 .. 5
    assert (r["C"]["window_start"], r["C"]["window_end"]) == (2, 5)
    assert r["C"]["y_pre"] == pytest.approx(_mean("C", 2, 5, skip=(3,)))  # null skipped
    assert r["C"]["pre_periods_observed"] == 4
    assert r["D"]["y_pre"] == pytest.approx(_mean("D", 2, 5))
    # attributes at the window's last period: A before certification is still "mid"
    assert (r["A"]["level"], r["A"]["tenure_months"]) == ("mid", 3.0)
    assert (r["B"]["level"], r["C"]["level"]) == ("senior", "senior")


def test_every_certification_counts_by_default_and_peers_stop_before_certifying():
    bt = M.baseline_table(
        _panel().filter(pl.col("engineer_id") != "E"), outcomes="y", pre_periods=2
    )
    r = {row["engineer_id"]: row for row in bt.iter_rows(named=True)}
    assert r["D"]["certified"] == 1 and (r["D"]["window_start"], r["D"]["window_end"]) == (6, 7)
    assert (r["C"]["window_start"], r["C"]["window_end"]) == (2, 7)
    assert bt.columns[:5] == ["engineer_id", "certified", "cohort", "window_start", "window_end"]


def test_errors_name_the_problem():
    p = _panel()
    with pytest.raises(CertkitError, match=r"outcomes\[0\]='nope'"):
        M.baseline_table(p, outcomes="nope")
    with pytest.raises(CertkitError, match="no certified engineer"):
        M.baseline_table(p.with_columns(cohort=pl.lit(0)), outcomes="y")
    with pytest.raises(CertkitError, match="pre_periods"):
        M.baseline_table(p, outcomes="y", pre_periods=0)


def test_docs_example_runs_on_a_simulated_organisation():
    ds = ck.simulate(n_engineers=120, months=24, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        panel = ck.build_panel(ds)
    before = panel.clone()
    bt = M.baseline_table(panel, outcomes=["merged_prs"], pre_periods=6)
    assert bt["engineer_id"].n_unique() == bt.height
    assert bt["certified"].sum() > 10 and (bt["certified"] == 0).sum() > 10
    assert panel.equals(before)  # input untouched
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        m = M.match(
            bt,
            treatment="certified",
            covariates=["role", "level", "platform", "tenure_months", "merged_prs_pre"],
        )
    assert (m.match_matrix >= 0).any(axis=1).sum() == bt["certified"].sum()
