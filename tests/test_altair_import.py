"""certkit imports altair without jsonschema's IRI grammars (seconds of every notebook's start),
and altair still validates charts as before."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
from certkit import charts
assert "jsonschema" in sys.modules, "altair imports jsonschema"
assert "rfc3987_syntax" not in sys.modules, "the IRI grammars were compiled"
import jsonschema
checker = jsonschema.Draft7Validator.FORMAT_CHECKER
assert "iri" not in checker.checkers and "uri" in checker.checkers  # Vega-Lite uses uri
import rfc3987_syntax  # a later import still works
alt = charts.alt
try:
    alt.Chart().mark_point().encode(x=alt.X("a:Q", bin=alt.Bin(maxbins="many"))).to_dict()
except Exception as error:  # a schema violation is still caught
    print("invalid:", type(error).__name__)
"""


def test_charts_import_without_iri_grammars_and_still_validate():
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=False, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "invalid: SchemaValidationError" in out.stdout
