"""The complete Python examples of the README and docs/matching.md run as written.

Both start from ``ck.load_sample()`` and are what a new user pastes first; a renamed argument
or a changed result attribute broke docs/matching.md's example once without a test noticing.
The other docs' Python blocks are fragments (they continue an earlier block or name the
reader's own data) and are not run here.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from certkit.errors import CertkitWarning

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(path: Path) -> list[str]:
    """The fenced ```python blocks of a Markdown file, in order."""
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


@pytest.mark.parametrize(
    ("doc", "names"),
    [
        ("README.md", ("es", "mdid", "effect")),
        ("docs/matching.md", ("m", "res", "sens", "did")),
    ],
)
def test_first_python_example_runs(doc, names):
    block = python_blocks(ROOT / doc)[0]
    scope: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CertkitWarning)
        exec(compile(block, doc, "exec"), scope)  # noqa: S102 (our own documentation)
    for name in names:
        assert scope.get(name) is not None, f"{doc}: the example defines no {name!r}"
    # the results the examples show keep the result contract
    for name in names:
        obj = scope[name]
        if hasattr(obj, "tidy"):
            tidy = obj.tidy()
            assert {"term", "estimate", "std_error", "conf_low", "conf_high"} <= set(tidy.columns)


def test_the_analytics_page_runs_top_to_bottom():
    """docs/analytics.md's blocks, run in order in one fresh scope as a reader pastes them
    (trial Y: the ROI block used ``pl`` before any block imported polars, so it failed and
    its ``print(res.statement())`` printed the previous call's ROI instead of the page's)."""
    scope: dict = {}
    blocks = python_blocks(ROOT / "docs/analytics.md")
    assert len(blocks) >= 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, block in enumerate(blocks):
            exec(compile(block, f"docs/analytics.md block {i + 1}", "exec"), scope)  # noqa: S102
    assert scope["res"].statement() != ""
    assert scope["valued"] > 0
