"""The package layout (issue 11): public entry points, aliases kept, no import loops."""

from __future__ import annotations

import os
import subprocess
import sys

import certkit as ck


def test_flat_api_and_short_module_names_resolve_to_the_new_homes():
    from certkit.analytics import adoption as adoption_mod
    from certkit.analytics import ai as ai_mod
    from certkit.analytics import planning as planning_mod
    from certkit.analytics import roi as roi_mod
    from certkit.data import dataset, sample

    assert ck.ai is ai_mod and ck.roi is roi_mod and ck.planning is planning_mod
    assert ck.adoption is adoption_mod
    assert ck.load is dataset.load and ck.load_sample is dataset.load_sample
    assert ck.simulate is sample.simulate  # the function, not a module
    assert callable(ck.catalog) and ck.catalog().height > 0  # bundled data/catalog.yaml


def test_moved_report_modules_keep_their_notebook_names():
    from certkit import narrative, report
    from certkit.data import health

    assert report.story is narrative
    assert report.health is health


def test_legacy_io_module_reexports_the_data_layer():
    import certkit.io as legacy
    from certkit.data import dataset, validate

    assert legacy.load is dataset.load and legacy.Dataset is dataset.Dataset
    assert legacy.ValidationReport is validate.ValidationReport


# Each module is imported in a fork of one interpreter that has imported the third-party
# libraries only (no certkit module yet): the same check as a fresh interpreter per module
# for import loops, without paying polars', scipy's and altair's import 13 times.
FORKED_IMPORTS = """
import os, sys, traceback
import altair, narwhals, numpy, polars, scipy.special, scipy.stats, yaml
assert not [m for m in sys.modules if m.split(".")[0] == "certkit"]
failed = []
for module in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            __import__(module)
            os._exit(0)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
    if os.waitpid(pid, 0)[1] != 0:
        failed.append(module)
print(",".join(failed))
"""


def test_every_data_and_analytics_module_imports_first_in_a_fresh_interpreter(tmp_path):
    """No import loop: each module imports on its own, as the first certkit import. A
    package made here with a loop (two modules importing each other at the top) shows the
    check can fail."""
    modules = [
        *(f"certkit.data.{m}" for m in ("read", "validate", "dataset", "sample", "health")),
        *(f"certkit.analytics.{m}" for m in ("ai", "ai_prs", "ai_quality", "roi", "planning")),
        "certkit.analytics.adoption",
        "certkit.narrative",
        "certkit.stats.fe",
    ]
    looped = tmp_path / "looped"
    looped.mkdir()
    (looped / "__init__.py").write_text("")
    (looped / "a.py").write_text("from looped.b import B\nA = 1\n")
    (looped / "b.py").write_text("from looped.a import A\nB = 2\n")
    done = subprocess.run(
        [sys.executable, "-c", FORKED_IMPORTS, *modules, "looped.a"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "looped.a", done.stderr[-2000:]
    assert "ImportError" in done.stderr


def test_short_module_names_import_in_a_fresh_process():
    """``from certkit.ai import ...`` works before ``certkit.ai`` was ever touched."""
    import subprocess
    import sys

    code = (
        "from certkit.ai import compare; from certkit.roi import roi; "
        "from certkit.adoption import adoption_did; import certkit.planning as p; "
        "import certkit, certkit.analytics.ai as real; "
        "assert certkit.ai is real and p.__name__ == 'certkit.analytics.planning'"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_estimating_does_not_import_altair():
    """altair takes 3-8 s to import on a loaded machine; the first att_gt of an analyst's
    session paid it (pydantic-ai trial: 5.4 s, 14.5 s under load). Only plot() needs it."""
    code = (
        "import sys, warnings; warnings.simplefilter('ignore'); import certkit as ck\n"
        "p = ck.build_panel(ck.simulate(60, 12, seed=1, ai_adoption=True))\n"
        "ck.did.att_gt(p, outcome='merged_prs').aggregate('dynamic').summary()\n"
        "ck.matching.matched_did(p, outcome='merged_prs', covariates=['tenure_months'])\n"
        "ck.adoption.adoption_did(p, 'merged_prs').summary()\n"
        "print('altair' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout + out.stderr
