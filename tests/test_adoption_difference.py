"""The certified-minus-others adoption difference is given only when each side has adopters
enough to compare (trial I, python-sdk: "+20.1 PRs (95% CI +15 to +25.2 PRs)" on 1 certified
and 1 never-certified adopter, each one person's ramp-up)."""

from __future__ import annotations

import warnings

import polars as pl
import pytest
from adoption_panels import adoption_panel

from certkit.analytics.adoption import adoption_did
from certkit.analytics.adoption_result import DIFFERENCE
from certkit.errors import CertkitWarning


def _study(certified: int, others: int):
    """The shared adoption panel keeping ``certified`` certified adopters (a0..a5) and
    ``others`` never-certified ones (a6, a7); the rest never use AI."""
    keep = [f"a{i}" for i in range(certified)] + [f"a{6 + i}" for i in range(others)]
    panel = adoption_panel().with_columns(
        pl.when(pl.col("engineer_id").str.starts_with("a") & ~pl.col("engineer_id").is_in(keep))
        .then(0.0)
        .otherwise(pl.col("ai_share"))
        .alias("ai_share")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        return adoption_did(panel, "merged_prs", min_e=-3, max_e=4)


def test_one_adopter_a_side_gives_no_difference_and_says_why():
    res = _study(1, 1)
    assert res.counts["certified engineers"] == 1 and res.counts["never-certified engineers"] == 1
    assert DIFFERENCE not in res.tidy()["term"].to_list()
    words = res.effect_summary().text
    assert "minus others':" not in words
    assert "it rests on 1 certified and 1 other adopter: too few to compare." in words
    # nor does the table give one adopter's own p-value and interval (trial K: "certified
    # engineers 19.654, p 0.000, 1" under "too few to compare"); the estimate stays
    rows = {r["term"]: r for r in res.tidy().iter_rows(named=True)}
    for side in ("certified engineers", "never-certified engineers"):
        assert rows[side]["estimate"] is not None
        assert rows[side]["std_error"] is None and rows[side]["p_value"] is None
    # the period of adoption itself rests on the same 2 (trial K: "+1.77 PRs (95% CI +1.25
    # to +2.28)" with no word of how few)
    assert "In the period of adoption itself the change was" in words
    assert "on only 2 adopters; the event study" in words
    # a shared report does not count a side under k
    shared = res.effect_summary(k=2).text
    assert "minus others':" not in shared and "1 certified" not in shared


@pytest.mark.parametrize("certified", [2, 4])
def test_a_difference_under_the_privacy_threshold_carries_the_caveat_in_its_sentence(certified):
    res = _study(certified, 2)
    assert DIFFERENCE in res.tidy()["term"].to_list()
    words = res.effect_summary(privacy_k=5).text
    sentence = words[words.index("Certified engineers' effect minus others'") :]
    sentence = sentence[: sentence.index(". ") + 1] if ". " in sentence else sentence
    assert f"but it rests on only {certified} certified and 2 other adopters" in sentence
    assert "one person can decide it" in sentence
    # at the threshold no caveat
    assert "2 other adopters" not in res.effect_summary(privacy_k=2).text
