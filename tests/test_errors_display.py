"""Errors and warnings meant for people: no traceback in IPython, one line per warning."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
import warnings

import pytest
from IPython.core.interactiveshell import InteractiveShell

from certkit import errors
from certkit.errors import CertkitError, CertkitWarning

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def shell():
    sh = InteractiveShell.instance()
    yield sh
    errors.show_tracebacks(False)


def _run(sh: InteractiveShell, code: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        sh.run_cell(code)
    return ANSI.sub("", out.getvalue()), ANSI.sub("", err.getvalue())


def test_certkit_error_in_a_cell_shows_its_message_without_a_traceback(shell):
    out, err = _run(
        shell,
        "from certkit.errors import CertkitError\n"
        "def load():\n"
        "    raise CertkitError('engineers.csv, line 3: hire_date \\'31/02/2024\\' is not a date')\n"
        "load()\n",
    )
    shown = out + err
    assert "CertkitError: engineers.csv, line 3: hire_date '31/02/2024' is not a date" in shown
    assert "Traceback" not in shown and 'File "' not in shown and "----> " not in shown
    assert "load()" not in shown


def test_data_validation_error_shows_every_line_of_its_report(shell):
    shell.user_ns["Report"] = type(
        "Report", (), {"format": lambda self: "2 problems in data/\n- a.csv: x\n- b.csv: y"}
    )
    out, err = _run(
        shell, "from certkit.errors import DataValidationError\nraise DataValidationError(Report())"
    )
    assert "DataValidationError: 2 problems in data/\n- a.csv: x\n- b.csv: y" in out + err
    assert "Traceback" not in out + err


def test_tracebacks_come_back_on_request_and_other_errors_are_untouched(shell):
    errors.show_tracebacks(True)
    out, err = _run(shell, "from certkit.errors import CertkitError\nraise CertkitError('x')")
    assert "Traceback" in out + err and "CertkitError: x" in out + err
    errors.show_tracebacks(False)
    out, err = _run(shell, "raise KeyError('k')")
    assert "Traceback" in out + err  # not certkit's: IPython's usual rendering


def test_kernel_error_message_has_no_traceback(shell):
    """What ipykernel sends to JupyterLab: the ``traceback`` field of the error reply."""
    try:
        raise CertkitError("bad column")
    except CertkitError as exc:
        stb = exc._render_traceback_()
    assert [ANSI.sub("", line) for line in stb] == ["CertkitError: bad column"]


IPYTHON_WARNINGS = """
import contextlib, io
from IPython.core.interactiveshell import InteractiveShell
sh = InteractiveShell.instance()
sh.run_cell(
    "import warnings\\nfrom certkit.errors import CertkitWarning\\n"
    "def build():\\n    warnings.warn('3 engineers have no team', CertkitWarning, stacklevel=2)\\n"
)
err = io.StringIO()
with contextlib.redirect_stderr(err):
    sh.run_cell("for _ in range(4):\\n    build()\\nbuild()")
print(err.getvalue(), end="")
print("=====")
err = io.StringIO()
with contextlib.redirect_stderr(err):
    sh.run_cell("warnings.warn('not ours', UserWarning)")
print(err.getvalue(), end="")
"""


def test_certkit_warning_in_ipython_is_one_line_without_path_or_source():
    # a fresh interpreter: pytest records warnings instead of printing them
    proc = subprocess.run(
        [sys.executable, "-c", IPYTHON_WARNINGS], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    ours, theirs = proc.stdout.split("=====\n")
    lines = [line for line in ours.splitlines() if line.strip()]
    # once per call site (two sites), each one line, no file path, no echoed source line
    assert lines == ["CertkitWarning: 3 engineers have no team"] * 2, ours
    assert "UserWarning: not ours" in theirs and ":1:" in theirs  # others keep their format


def test_warning_format_is_installed_once_and_chains():
    from certkit.errors import _format_certkit_warning

    assert warnings.formatwarning is _format_certkit_warning
    errors._install_warning_format()
    assert _format_certkit_warning.previous is not _format_certkit_warning
    text = warnings.formatwarning("m", CertkitWarning, "/tmp/ipykernel_1/123.py", 3, "x = 1")
    assert text == "CertkitWarning: m\n"
    other = warnings.formatwarning("m", RuntimeWarning, "/tmp/f.py", 3, "x = 1")
    assert "/tmp/f.py:3" in other and "x = 1" in other


def test_script_warning_is_one_line():
    code = (
        "import warnings, certkit.errors as e\n"
        "warnings.warn('check overlap', e.CertkitWarning)\n"
        "warnings.warn('plain', UserWarning)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stderr.splitlines()[0] == "CertkitWarning: check overlap"
    assert "<string>:3: UserWarning: plain" in proc.stderr
