"""Private headlines resting on very few treated engineers say so (trial G, F7 and F11).

xarray: "AI adoption raises rework ... the interval excludes zero" rested on 3 adopters (1 at
every event time); sqlalchemy: "throughput about 303% higher" came from 15 certified
drive-by contributors who merged 29 PRs after their dates. A shared report withholds an
estimate under ``privacy_k`` engineers; the private one now names how few it stands on, in
the generated words and in the landing page's answer box, from one rule
(:func:`certkit.narrative.effects.effect_caveat`).
"""

from __future__ import annotations

import math
import warnings

import polars as pl
import pytest
from adoption_panels import adoption_panel

from certkit import narrative
from certkit.analytics.adoption import adoption_did
from certkit.errors import CertkitWarning
from certkit.narrative.effects import FEW_PRS, event_counts
from certkit.report import landing

CLEAR = {
    "outcome": "merged_prs",
    "label": "throughput (merged PRs per period)",
    "estimate": 0.161,
    "se": 0.05,
    "ci_low": 0.066,
    "ci_high": 0.256,
    "p_value": 0.001,
    "baseline": 0.053,
    "relative": 3.03,
    "relative_low": 1.24,
    "relative_high": 4.83,
    "note": None,
}


def test_few_certified_engineers_are_named_in_the_summary_and_the_landing_box():
    row = CLEAR | {"certified_engineers": 3, "prs_after": 400, "prs_before": 300}
    text = narrative.summarize(pl.DataFrame([row]), "staggered DiD", k=5)
    assert (
        "an improvement, but it rests on only 3 certified engineers (a shared report needs 5 "
        "to show it)" in text
    )
    caveat = narrative.effect_caveat(row, k=5)
    box = landing.effect_text(row | {"caveat": caveat, "unit": ""})
    assert "but it rests on only 3 certified engineers" in box
    # at or above k: nothing said; a larger k (privacy_k=10) counts 9 as few
    assert narrative.effect_caveat(row | {"certified_engineers": 5}, k=5) is None
    assert "only 9 certified" in narrative.effect_caveat(row | {"certified_engineers": 9}, k=10)


def test_few_prs_after_certifying_are_named():
    """sqlalchemy: 15 certified engineers, 46 PRs in four years, 29 of them after."""
    row = CLEAR | {"certified_engineers": 15, "prs_after": 29, "prs_before": 17}
    caveat = narrative.effect_caveat(row, k=5)
    assert caveat.startswith(
        "the certified engineers merged only 29 PRs after certifying (17 before): a few PRs "
        "more or less would change it"
    )
    assert narrative.effect_caveat(row | {"prs_after": FEW_PRS}, k=5) is None


def test_event_counts_give_the_certified_engineers_prs():
    panel = pl.DataFrame(
        {
            "engineer_id": ["a", "a", "b", "b", "c"],
            "cohort": [2, 2, 1, 1, 0],
            "post": [0, 1, 1, 1, 0],
            "merged_prs": [3, 4, 5, None, 100],
            "rework_rate": [0.1, 0.2, 0.3, None, 0.4],
        }
    )
    assert event_counts(panel, "rework_rate") == {"prs_before": 3, "prs_after": 9}
    assert event_counts(panel, "merged_prs") == {"prs_before": 3, "prs_after": 9}


def _adoption(keep: int):
    panel = adoption_panel()
    adopters = [f"a{i}" for i in range(keep)]
    panel = panel.filter(
        pl.col("engineer_id").is_in(adopters) | pl.col("engineer_id").str.starts_with("n")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        return adoption_did(panel, "rework_rate", min_e=-4, max_e=4)


def test_the_adoption_verdict_names_few_adopters():
    res = _adoption(3)
    assert res.n_adopters == 3
    words = res.effect_summary(privacy_k=5).text
    # in the second sentence, which the answer box keeps
    second = words.split(". ", 2)[1]
    assert "it rests on only 3 adopters" in second, words
    assert "(a shared report needs 5 to show it)" in second
    # eight adopters with about 200 PRs after adopting: nothing to say
    many = _adoption(8)
    assert many.few_adopters(5) is None
    overall = many.effect_summary(privacy_k=5).text.split(" Certified engineers' effect")[0]
    assert "rests on only" not in overall
    # the shared report (k = 5) withholds the 3-adopter estimate, as before
    shared = res.effect_summary(k=5).text
    assert "is not shown: it rests on fewer than 5 adopters" in shared
    assert not math.isnan(res.overall[0])


def test_the_fewest_behind_a_period_after_is_named():
    from certkit.narrative.effects import few_treated_words

    assert few_treated_words(3, 5, "adopter", after=1) == (
        "it rests on only 3 adopters, as few as 1 behind a period after (a shared report needs "
        "5 to show it): one person can decide it"
    )
    assert few_treated_words(3, 5, "adopter", after=3).startswith("it rests on only 3 adopters (")
    assert few_treated_words(0, 5) is None and few_treated_words(5, 5) is None


def test_a_caveat_qualifies_a_clear_effect_and_explains_an_unclear_one():
    """Trial H (sqlalchemy, matched): "not distinguishable from no change, but the certified
    engineers merged only 26 PRs ..." read oddly: "but" only after a clear effect. Trial K
    (K5): the landing page explains an unclear effect with its caveat ("and ..."), so the
    page the landing page links to says it too."""
    row = CLEAR | {"certified_engineers": 3, "prs_after": 26, "prs_before": 17}
    clear = narrative.summarize(pl.DataFrame([row]), "matched DiD", k=5)
    assert "an improvement, but it rests on only 3 certified engineers" in clear
    null = narrative.summarize(pl.DataFrame([row | {"p_value": 0.4}]), "matched DiD", k=5)
    assert "but it rests" not in null
    assert "not distinguishable from no change, and it rests on only 3 certified engineers" in null


def test_a_matched_estimate_is_relative_to_the_engineers_it_rests_on():
    """facebook/watchman (trial M, M7): the matched DiD said "about 43% higher" from the 6
    certified engineers' 0.989 PRs a month before certifying, while the 3 matched ones it
    rests on had merged 0 PRs in their windows before: no relative change is defined."""
    from types import SimpleNamespace

    from certkit.narrative.effects import effect_of

    head = pl.DataFrame(
        {"estimate": [0.429], "std_error": [0.3], "conf_low": [-0.154], "conf_high": [1.011]}
    )
    result = SimpleNamespace(headline=lambda: head)
    panel = pl.DataFrame(
        {
            "engineer_id": ["a", "a", "b", "b", "c", "c"],
            "cohort": [5, 5, 6, 6, 0, 0],
            "post": [0, 1, 0, 1, 0, 0],
            "merged_prs": [2.0, 3.0, 0.0, 1.0, 1.0, 1.0],
        }
    )
    whole = effect_of("merged_prs", result, panel)
    assert whole["baseline"] == 1.0 and whole["relative"] == pytest.approx(0.429)
    matched = effect_of(
        "merged_prs", result, panel, base_rows=panel.filter(pl.col("engineer_id") == "b")
    )
    assert matched["baseline"] == 0.0
    assert math.isnan(matched["relative"])  # the absolute change is said instead
