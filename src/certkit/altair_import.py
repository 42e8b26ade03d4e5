"""altair, imported without the second jsonschema spends compiling IRI grammars.

jsonschema imports ``rfc3987_syntax`` when it is installed (JupyterLab brings it:
jupyter-events needs jsonschema's ``format-nongpl`` extra), and that module compiles 38 lark
grammars as it is imported: 1.3 s of the 1.7 s ``import altair`` took, in every report
notebook's kernel and every analyst's first chart. Those grammars serve only the ``iri`` and
``iri-reference`` string formats, which Vega-Lite's schema never uses (it has ``uri``,
``uri-reference`` and ``color-hex``), so altair validates every spec exactly as before.
The module is hidden only while altair (and jsonschema with it) is first imported; code
importing ``rfc3987_syntax`` afterwards gets it as usual. Import ``alt`` from here.
"""

from __future__ import annotations

import sys


def _import_altair():
    hide = "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules
    if hide:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # import fails fast
    try:
        import altair
    finally:
        if hide:
            del sys.modules["rfc3987_syntax"]
    return altair


alt = _import_altair()

__all__ = ["alt"]
