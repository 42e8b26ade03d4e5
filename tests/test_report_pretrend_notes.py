"""One pre-trend verdict per outcome on a page: the checks' re-estimates (HonestDiD's universal
base period, robustness) do not add a second one to the notes (trial I, python-sdk: "no evidence
of diverging trends (joint test of 6 pre-period event-study estimates, p = 0.66)" in the summary
and "sensitivity, merged_prs: pre-trends: ... already diverged (Wald test p = 0)" in the notes).
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import polars as pl
from adoption_panels import adoption_panel

from certkit import did
from certkit.errors import CertkitWarning
from certkit.privacy import Privacy
from certkit.report import Context, studies


def _diverging_panel() -> pl.DataFrame:
    """40 engineers x 12 months; 16 certify in month 7 and trend upwards throughout."""
    rng = np.random.default_rng(3)
    rows = []
    for i in range(40):
        cohort = 7 if i < 16 else 0
        for t in range(1, 13):
            rows.append(
                {
                    "engineer_id": f"e{i}",
                    "period_index": t,
                    "cohort": cohort,
                    "post": bool(cohort) and t >= cohort,
                    "merged_prs": 5 + (0.6 * t if cohort else 0.0) + rng.normal(0, 0.3),
                }
            )
    return pl.DataFrame(rows)


def _ctx(panel: pl.DataFrame) -> Context:
    engineers = pl.DataFrame({"engineer_id": panel["engineer_id"].unique().to_list()})
    ds = SimpleNamespace(engineers=engineers)
    return Context(ds=ds, full=ds, panel=panel, privacy=Privacy(k=5), period="", filters={})


def test_the_cell_level_warning_says_which_test_and_base_period():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CertkitWarning)
        did.att_gt(_diverging_panel(), outcome="merged_prs", base_period="universal")
    said = [str(w.message) for w in caught if "pre-trends:" in str(w.message)]
    assert said and "cell-level Wald test of" in said[0]
    assert "pre-period ATT(g,t), universal base period, p " in said[0]


def test_the_sensitivity_and_robustness_notes_give_no_second_pre_trend_verdict():
    ctx, notes = _ctx(_diverging_panel()), []
    spec = studies.did_spec("not_yet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        studies.honest_sections(ctx, ["merged_prs"], spec, min_e=-5, max_e=3, notes=notes)
        studies.robustness_sections(ctx, ["merged_prs"], spec, notes=notes)
    assert notes is not None
    assert not [n for n in notes if "pre-trends:" in n], notes


def test_the_adoption_checks_give_no_second_pre_trend_verdict():
    panel = adoption_panel(trend=0.05)
    notes: list[str] = []
    study = studies.adoption_study(
        _ctx(panel), ["rework_rate"], threshold=0.5, sustain=2, min_prs=1, min_e=-4, max_e=4,
        notes=notes,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.effect_displays()
        effect_notes = list(notes)
        study.sensitivity_displays()
        study.robustness_displays()
    # the effect section keeps its own verdict; the checks add none
    assert (
        any("pre-trends:" in n for n in effect_notes)
        or study.studies["rework_rate"].pretrend_failed
    )
    checks = notes[len(effect_notes) :]
    assert not [n for n in checks if "pre-trends:" in n], checks
