"""``python -m certkit`` runs the ``certkit`` command (trial I: a notebook environment without
the console script on PATH got "No module named certkit.__main__")."""

from __future__ import annotations

import subprocess
import sys


def test_python_dash_m_certkit_is_the_certkit_command(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "certkit", "validate", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0 and "certkit: error: Data folder" in run.stderr
    assert "does not exist" in run.stderr and "Traceback" not in run.stderr
