"""Adoption effects resting on one-adopter cohorts make no call on zero (trial AF, A1).

huggingface_hub: "After adopting AI, an engineer's rework rate ... changed by -7.95 percentage
points (95% CI -9.98 to -5.93) ... The interval excludes zero, but it rests on only 3
adopters", p = 1.4e-14, while one adopter (the only one with a value in the month before
adopting) was behind every cell and the page's robustness line called the standard error not
reliable. The certification headline says "Its interval cannot be read: ... cohorts of one
engineer" from half its weight on such cells; the adoption words now do the same, the ATT row
counts the adopters behind it, and HonestDiD's caveat is worded for adoption.
"""

from __future__ import annotations

import re
import warnings
from datetime import date

import numpy as np
import polars as pl
import pytest

from certkit import did
from certkit.analytics.adoption import adoption_did
from certkit.errors import CertkitWarning

ATT = "ATT (after adoption, simple average)"
THIN = "Its interval cannot be read: 100% of its weight rests on adoption cohorts of one engineer"


def _panel(cohorts: dict[int, int], never: int = 12, effect: float = 3.0, seed: int = 3):
    """Engineers x 12 months: ``cohorts`` maps an adoption month to how many adopt then;
    ``never`` engineers never adopt. ``merged_prs`` jumps by ``effect`` from adoption on,
    with little noise, so the interval is narrow; ``ai_share`` is 1 from adoption on."""
    rng = np.random.default_rng(seed)
    specs = [(f"a{m}_{i}", m) for m, size in cohorts.items() for i in range(size)]
    specs += [(f"n{i}", 0) for i in range(never)]
    rows = []
    for eng, adopt in specs:
        level = 4 + rng.normal(0, 0.5)
        for t in range(1, 13):
            on = bool(adopt) and t >= adopt
            rows.append(
                {
                    "engineer_id": eng,
                    "period_index": t,
                    "period": date(2025, t, 1),
                    "cohort": 0,
                    "merged_prs": level + (effect if on else 0.0) + rng.normal(0, 0.3),
                    "ai_share": 1.0 if on else 0.0,
                }
            )
    return pl.DataFrame(rows)


def _did(panel: pl.DataFrame, outcome: str = "merged_prs"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        return adoption_did(panel, outcome, min_e=-3, max_e=3, by_certified=False)


def _second(text: str) -> str:
    """The first two sentences, split as the index's answer box splits them."""
    return " ".join(re.split(r"(?<=[.!?])\s+(?=[A-Z])", text.strip())[:2])


@pytest.fixture(scope="module")
def single():
    """Five adopters, one a month (months 5 to 9): every post cell rests on one adopter."""
    return _did(_panel({5: 1, 6: 1, 7: 1, 8: 1, 9: 1}))


def test_one_adopter_cohorts_make_no_call_on_zero(single):
    row = single.tidy().row(0, named=True)
    est, lo = row["estimate"], row["conf_low"]
    assert lo > 0 and est > 2  # the numbers alone would say "excludes zero"
    assert single.single_weight == pytest.approx(1.0) and not single.se_reliable
    words = single.effect_summary().text
    assert "interval excludes zero" not in words and "includes zero" not in words
    assert THIN in _second(words), words  # where the index's answer box keeps it
    assert "not as evidence of an effect" in words
    assert single._header()["standard error"].startswith("not reliable: 100% of its weight")


def test_estimates_and_standard_errors_do_not_change(single):
    panel = single.data
    spec = {k: single.spec[k] for k in ("outcome", "unit", "time", "group", "control")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        agg = did.att_gt(panel, **spec).aggregate("simple")
    row = single.tidy().row(0, named=True)
    assert row["estimate"] == pytest.approx(agg.overall_att, rel=1e-12)
    assert row["std_error"] == pytest.approx(agg.overall_se, rel=1e-12)


def test_large_cohorts_keep_their_words():
    """Two cohorts of four adopters: no cell on one adopter, the words as before this fix
    (this test passes on the code before it too)."""
    res = _did(_panel({5: 4, 7: 4}))
    assert getattr(res, "single_weight", 0) == 0 and getattr(res, "se_reliable", True)
    words = res.effect_summary().text
    assert "The interval excludes zero." in _second(words), words
    assert "cannot be read" not in words and "cohorts of one" not in words
    assert res.tidy().row(0, named=True)["n"] == 8


def test_the_att_row_counts_the_adopters_behind_it():
    """Three adopt in month 6; two have no value in month 5, the period every post cell
    compares with: one adopter is behind the estimate, not three."""
    panel = _panel({6: 3}, effect=3.0)
    missing = pl.col("engineer_id").is_in(["a6_0", "a6_1"]) & (pl.col("period_index") == 5)
    panel = panel.with_columns(
        pl.when(missing).then(None).otherwise(pl.col("merged_prs")).alias("merged_prs")
    )
    res = _did(panel)
    assert res.n_adopters == 3
    n = dict(res.tidy().select("term", "n").iter_rows())
    assert n[ATT] == 1 and n["e=0"] == 1
    words = res.effect_summary(privacy_k=5).text
    second = _second(words)
    assert THIN in second, words
    assert "it rests on only 1 adopter (those with a throughput value in the period just " in second
    assert "; 3 adopted; a shared report needs 5 to show it)" in second
    # a shared report (k = 2) withholds what rests on one adopter
    assert "is not shown: it rests on fewer than 2 adopters" in res.effect_summary(k=2).text


def test_honestdid_speaks_of_adoption_cohorts(single):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        sens = single.sensitivity(max_e=2)
    text = sens.effect_summary().text
    assert not sens.se_reliable
    assert "rests on adoption cohorts of one engineer" in text, text
    assert "certification" not in text
    assert "adoption cohorts" in sens._header()["standard error"]


def test_the_few_adopters_caveat_is_in_the_second_sentence():
    """The index's answer box keeps two sentences; HonestDiD's few-adopters caveat was a
    third ("... includes zero. These bounds rest on as few as 3 adopters ...")."""
    from certkit.report.study_adoption import second_sentence

    text = (
        "The effect on throughput in the period of adoption (e = 0) is +3.25 PRs (95% CI +1.83 "
        "PRs to +4.67 PRs). It stays significant unless post-adoption trend violations exceed "
        "0.667x the largest pre-adoption one; at Mbar = 0.889 the robust 95% interval includes "
        "zero."
    )
    clause = "these bounds rest on as few as 3 adopters: one person can decide them"
    out = second_sentence(text, clause)
    assert out.endswith(f"includes zero; {clause}.")
    assert clause in _second(out)
    three = text + " The robust 95% interval at Mbar = 0.5 does exclude zero."
    assert clause in _second(second_sentence(three, clause))
    assert second_sentence("One sentence.", clause) == f"One sentence; {clause}."
