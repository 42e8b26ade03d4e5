"""A clear effect measured from an unusual base period says so (trial J, gnome-shell).

Monthly, all 7 certified engineers had 0 PRs in the month before certifying (0.69 a month
before that); every post-certification effect of the staggered DiD is measured from that
month, and "throughput about 93% higher, an improvement" was the empty month coming back
(quarterly: -1.02 PRs, no clear change). :func:`certkit.narrative.effects.base_shift` tests
the base period against the engineers' own earlier level, net of their not-yet-certified
colleagues' change; :func:`effect_caveat` then qualifies an effect it would inflate.
"""

from __future__ import annotations

import warnings

import polars as pl
import pytest

import certkit as ck
from certkit.narrative.effects import base_shift, effect_caveat

CLEAR_RISE = {
    "outcome": "merged_prs",
    "estimate": 0.51,
    "p_value": 0.001,
    "certified_engineers": 7,
    "prs_after": 200,
}


def _panel(base: int, peers_base: int = 1, cohorts=range(9, 16)) -> pl.DataFrame:
    """7 certified engineers (cohorts 9-15) with 1 PR a month, ``base`` in the month before
    certifying; 20 never-certified colleagues with 1 a month (``peers_base`` in each of those
    months)."""
    rows = []
    for i, g in enumerate(cohorts):
        for t in range(1, 25):
            y = base if t == g - 1 else 1
            rows.append((f"c{i}", g, t, y))
    for j in range(20):
        for t in range(1, 25):
            y = peers_base if t in {g - 1 for g in cohorts} else 1
            rows.append((f"n{j}", 0, t, y))
    return pl.DataFrame(
        rows, schema=["engineer_id", "cohort", "period_index", "merged_prs"], orient="row"
    )


def test_an_empty_base_month_qualifies_a_rise():
    shift = base_shift(_panel(base=0), "merged_prs")
    assert shift["base_mean"] == 0 and shift["earlier_mean"] == 1
    assert shift["base_low_p"] < 0.01 and shift["base_high_p"] == 1
    caveat = effect_caveat(CLEAR_RISE | shift, k=5)
    assert "in the period just before certifying was well below their own earlier" in caveat
    # no values: "0 on average" for 7 engineers tells each one's (shared reports)
    assert "on average" not in caveat and "(0" not in caveat
    assert "-p period=quarter" in caveat  # the panel is monthly (no period column: month)
    # a fall is not inflated by a dip: no such caveat
    fall = CLEAR_RISE | shift | {"estimate": -0.51}
    assert "just before certifying" not in (effect_caveat(fall, k=5) or "")


def test_a_dip_everyone_shared_is_not_the_certified_engineers():
    """The colleagues had the same empty month (a holiday, a freeze): no caveat."""
    shift = base_shift(_panel(base=0, peers_base=0, cohorts=[12] * 7), "merged_prs")
    assert shift["base_low_p"] > 0.05
    assert "just before certifying" not in (effect_caveat(CLEAR_RISE | shift, k=5) or "")


def test_an_ordinary_base_month_says_nothing():
    shift = base_shift(_panel(base=1), "merged_prs")
    assert shift["base_low_p"] > 0.05 and shift["base_high_p"] > 0.05


def test_a_continuous_outcome_uses_the_engineers_differences():
    panel = _panel(base=0).with_columns(
        (pl.col("merged_prs") * 0.1 + pl.col("period_index") * 0.001).alias("ai_share")
    )
    shift = base_shift(panel, "ai_share")
    assert shift["base_low_p"] < 0.01


def test_the_sample_effects_carry_no_base_period_caveat():
    """The bundled sample has no dip before certifying: none of its clear effects is
    qualified this way (a check that fires on everything would say nothing)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = ck.build_panel(ck.load_sample())
    for outcome in ("merged_prs", "cycle_time_log_median", "defects", "incidents"):
        shift = base_shift(panel, outcome)
        assert min(shift["base_low_p"], shift["base_high_p"]) > 0.05, (outcome, shift)


@pytest.mark.parametrize("missing", ["cohort", "period_index"])
def test_a_panel_without_the_columns_gives_nothing(missing):
    assert base_shift(_panel(base=0).drop(missing), "merged_prs") == {}


@pytest.mark.parametrize(
    ("every", "remedy"),
    [
        ("1w", "-p period=month"),
        ("1mo", "-p period=quarter"),
        ("3mo", "anticipation=1"),
    ],
)
def test_the_remedy_fits_the_period(every, remedy):
    """Trial K: a quarterly report was told to try -p period=quarter."""
    from datetime import date

    days = pl.date_range(date(2020, 1, 1), date(2030, 1, 1), every, eager=True)
    panel = _panel(base=0)
    panel = panel.with_columns(days.gather(panel["period_index"] - 1).alias("period"))
    shift = base_shift(panel, "merged_prs")
    assert remedy in effect_caveat(CLEAR_RISE | shift, k=5)


def test_no_value_in_the_base_period_is_the_reason_given():
    """Trial K, gnome-shell cycle time: none of the 7 certified engineers had a PR (so no
    cycle time) in the month before certifying; the page said the outcome "needs certified
    engineers with data both before and after" beside "5 have it in 2 or more periods
    before"."""
    from certkit.narrative.base_period import no_base_period

    panel = _panel(base=0).with_columns(
        pl.when(pl.col("merged_prs") > 0).then(pl.lit(2.5)).alias("cycle_time_log_median")
    )
    why = no_base_period(panel, "cycle_time_log_median", "PR cycle time")
    assert why.startswith("no certified engineer has PR cycle time in the period just before")
    assert "(7 have it earlier)" in why and "-p period=quarter" in why
    assert no_base_period(panel, "merged_prs", "throughput") is None  # 0 is a value


def test_the_report_gives_the_base_period_reason(tmp_path):
    from types import SimpleNamespace

    from certkit.privacy import Privacy
    from certkit.report import Context, studies

    varied = 2.0 + 0.03 * pl.col("period_index") + 0.1 * pl.col("engineer_id").str.len_chars()
    panel = _panel(base=0).with_columns(
        pl.when(pl.col("merged_prs") > 0).then(varied).alias("cycle_time_log_median"),
        (pl.col("period_index") >= pl.col("cohort")).cast(pl.Int8).alias("post"),
    )
    ids = panel["engineer_id"].unique().sort()
    ds = SimpleNamespace(engineers=pl.DataFrame({"engineer_id": ids}), certifications=None)
    ctx = Context(ds=ds, full=ds, panel=panel, privacy=Privacy(k=5), period="", filters={})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = studies.did_effects(
            ctx,
            ["cycle_time_log_median"],
            studies.did_spec("not_yet"),
            min_e=-3,
            max_e=3,
            notes=[],
        )
    note = out.effects.row(0, named=True)["note"]
    assert "in the period just before certifying" in note, note


def test_one_engineers_ramp_up_is_not_the_groups_base_period():
    """trial X (pydantic-ai): one new contributor's 26 PRs in the month before certifying,
    against 1.4 a month before, made the pooled count "well above their own earlier level"
    (exact Poisson p = 7.5e-08) while most certified engineers were at or below theirs. The
    count test allows for engineers varying more than a Poisson's and is run again without
    the engineer who pushes it most."""
    # (earlier, base): one ramp-up, fifteen engineers at or near their own level
    levels = [(1, 40)] + [(8 + 4 * (i % 2), 8 + 4 * (i % 2) + (i % 3) - 1) for i in range(15)]
    rows = []
    for i, (earlier, base) in enumerate(levels):
        g = 8 + i % 8
        for t in range(1, 25):
            y = base if t == g - 1 else earlier
            rows.append((f"c{i}", g, t, y))
    for j in range(20):
        rows += [(f"n{j}", 0, t, 5) for t in range(1, 25)]
    panel = pl.DataFrame(
        rows, schema=["engineer_id", "cohort", "period_index", "merged_prs"], orient="row"
    )
    shift = base_shift(panel, "merged_prs")
    assert shift["base_mean"] > shift["earlier_mean"]  # the pooled level is higher
    assert shift["base_high_p"] > 0.05
    fall = CLEAR_RISE | shift | {"estimate": -4.9}
    assert "just before certifying" not in (effect_caveat(fall, k=5) or "")
    # the same ramp-up shared by most of the group is the group's: still said
    ramped = panel.with_columns(
        pl.when(pl.col("period_index") == pl.col("cohort") - 1)
        .then(pl.col("merged_prs") * 3)
        .otherwise(pl.col("merged_prs"))
        .alias("merged_prs")
    )
    assert base_shift(ramped, "merged_prs")["base_high_p"] < 0.01
