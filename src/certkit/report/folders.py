"""Which audience a report folder was written for, so shared and private pages never mix.

A report run writes into a dated folder (``reports/2026-11-30``) that an earlier run the same
day may have used. trial AE (getsentry/sentry-python): a shared run of one notebook into the
folder of that morning's private run left the private pages 02-06 (certifications held by
one engineer, a trust table of one engineer) beside an index headed "Shared report". Each
folder now records its audience in :data:`MARKER`; a run for the other audience is refused
before any notebook runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from certkit.errors import CertkitError

__all__ = ["MARKER", "claim_folders"]

#: The file in a report folder that records its audience.
MARKER = ".certkit-report.json"


def _audience(share: bool) -> str:
    return "shared" if share else "private"


def _recorded(folder: Path) -> bool | None:
    """The audience recorded in ``folder`` (True: shared), or None when none is recorded."""
    marker = folder / MARKER
    if not marker.is_file():
        return None
    try:
        value = json.loads(marker.read_text(encoding="utf-8")).get("share")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, bool) else None


def claim_folders(modes: dict[Path, set[bool]]) -> None:
    """Check, then record, the audience of each folder a run writes pages into.

    Parameters
    ----------
    modes
        Each output folder and the ``share`` values of the pages the run writes there.

    Raises
    ------
    CertkitError
        When one folder would get shared and private pages from this run, when it holds a
        report for the other audience, or, for a shared run, when it holds pages of an
        earlier certkit that recorded no audience. Nothing is written then.
    """
    for folder, shares in modes.items():
        if len(shares) > 1:
            raise CertkitError(
                f"{folder}: this run would write shared and private pages into one folder; "
                "give the shared pages their own run (a config file's runs each get a folder)"
            )
        share = next(iter(shares))
        before = _recorded(folder)
        if before is not None and before != share:
            raise CertkitError(
                f"{folder} holds a {_audience(before)} report from an earlier run; this "
                f"{_audience(share)} run would put its pages and index beside those "
                f"{_audience(before)} ones. Write it to another folder (--out), or remove "
                "that folder first"
            )
        if before is None and share and any(folder.glob("*.html")):
            raise CertkitError(
                f"{folder} holds report pages that do not say which audience they were "
                "written for (an earlier certkit); a shared run would leave them beside its "
                "own. Write it to another folder (--out), or remove that folder first"
            )
    for folder, shares in modes.items():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MARKER).write_text(
            json.dumps({"share": next(iter(shares))}) + "\n", encoding="utf-8"
        )
