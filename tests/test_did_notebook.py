"""The impact notebook's DiD cells (notebooks/src/02_certification_impact.py) on the sample.

The notebook source runs as a script (IPython's ``display`` prints outside a kernel); its
variables are then checked: the TWFE contrast table's Callaway-Sant'Anna column is the
headline estimate (same comparison group and method), and the sensitivity and robustness
sections produced their results through the library (``certkit.report.studies``).
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SOURCE = ROOT / "notebooks" / "src" / "02_certification_impact.py"


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    code = SOURCE.read_text()
    flag = "by_certification: bool = True"
    assert flag in code
    code = code.replace(flag, "by_certification: bool = False", 1)  # not under test here
    # two outcomes keep the test short: one log-scale, one count
    code = code.replace(
        "# %%\nfrom IPython.display",
        "outcomes = ['cycle_time_log_median', 'merged_prs']\n# %%\nfrom IPython.display",
        1,
    )
    assert "outcomes = ['cycle_time_log_median', 'merged_prs']" in code
    scope: dict = {"__name__": "notebook"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            exec(compile(code, str(SOURCE), "exec"), scope)
        finally:
            os.chdir(cwd)
    return scope


def test_twfe_table_compares_with_the_headline_estimate(notebook):
    headline = dict(
        zip(notebook["effects"]["outcome"], notebook["effects"]["estimate"], strict=True)
    )
    story = notebook["story"]
    rows = {r["outcome"]: r for r in notebook["contrast"].iter_rows(named=True)}
    assert len(rows) == len(notebook["outcomes"])
    for outcome in notebook["outcomes"]:
        row = rows[story.label(outcome)]
        assert math.isfinite(row["Callaway-Sant'Anna"])
        assert row["Callaway-Sant'Anna"] == pytest.approx(headline[outcome], rel=1e-12, abs=1e-12)


def test_sensitivity_and_robustness_sections_ran(notebook):
    from certkit.did import HonestResult, RobustnessResult

    last = notebook["outcomes"][-1]
    sens, rob = notebook["honest"][last], notebook["robust"][last]
    assert isinstance(sens, HonestResult) and sens.method == "relative_magnitude"
    assert sens.plot_data().height == len(sens.grid) + 1
    words = sens.effect_summary().text
    assert "Mbar" in words or "not significant" in words
    assert isinstance(rob, RobustnessResult) and rob.tidy().height == 5
    assert rob.verdict.startswith(("The ", "Only "))
