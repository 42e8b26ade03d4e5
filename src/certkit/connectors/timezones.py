"""The time zone of export dates that carry none (Jira's ``14/Jul/25 3:42 PM``).

Jira's "Export CSV" writes dates in the exporting user's profile time zone, without an
offset; a PagerDuty CSV may too. Read as UTC, a few hours of error can turn the PR that caused
a defect into its fix (:mod:`certkit.data.panel_links` charges a row to a PR merged before
it). With ``timezone=`` (``certkit import --timezone``) such dates are read as local times in
that IANA zone and converted to UTC, daylight saving included; values with an offset
(``2025-07-14T15:42:00Z``, ``+02:00``) keep theirs. Local times that the zone's clocks show
twice or never are read by one rule, with a note naming the lines:

- a time in the hour repeated when clocks go back (``02/Nov/25 1:30 AM`` in New York) is read
  as the first of the two, still in summer time (an export cannot tell them apart);
- a time in the hour skipped when clocks go forward (``09/Mar/25 2:30 AM``) does not exist
  there: it is read with the offset in force before the change (2:30 AM as 3:30 AM summer
  time, as Python's ``zoneinfo`` does); such a time usually means the zone is not the export's.

Without a zone the dates are read as UTC, as before, and a note per file says how many.
"""

from __future__ import annotations

import difflib
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from certkit.errors import CertkitError

_EXAMPLE = "an IANA name such as Europe/Berlin or America/New_York"


def check_zone(zone: str | None, option: str = "timezone=") -> str | None:
    """``zone`` if it is a time zone polars knows (an IANA name), else a :class:`CertkitError`
    naming ``option`` (``--timezone`` on the command line) with an example.

    Parameters
    ----------
    zone
        The zone's name, or None (dates without offset are read as UTC).
    option
        How the user gave it, named in the error.

    Returns
    -------
    str or None
        ``zone`` unchanged (stripped of surrounding spaces).
    """
    if zone is None:
        return None
    name = str(zone).strip()
    try:
        pl.Series([datetime(2000, 1, 1)]).dt.replace_time_zone(name)
    except (pl.exceptions.PolarsError, ValueError):
        pass
    else:
        if name:
            return name
    raise CertkitError(
        f"{option} {zone!r} is not a time zone: give {_EXAMPLE} (the zone of your Jira "
        f"profile, which its CSV export writes dates in){_suggest(name)}"
    )


def _suggest(name: str) -> str:
    """``; did you mean 'Europe/Berlin'?`` for a zone name with a typo or in another case."""
    try:
        from zoneinfo import available_timezones

        known = sorted(available_timezones())
    except Exception:  # pragma: no cover - no time zone database on this system
        return ""
    same = [k for k in known if k.lower() == name.lower()]
    close = same or difflib.get_close_matches(name, known, n=1, cutoff=0.8)
    return f"; did you mean {close[0]!r}?" if close else ""


def to_utc(
    values: list[datetime | None],
    naive: list[bool],
    zone: str,
    where: tuple[Path, str, list[str], list[str | None]],
) -> tuple[list[datetime | None], list[str]]:
    """Read the ``naive`` ones of ``values`` as local times in ``zone``, as naive UTC.

    Parameters
    ----------
    values
        Parsed dates (naive; those with an offset are already UTC).
    naive
        Which values had no offset in the file.
    zone
        A zone :func:`check_zone` accepted.
    where
        The file, the column, each value's place (``line 4``) and its text as written, for
        the notes.

    Returns
    -------
    tuple
        The values in UTC (naive), and notes naming the lines of times the zone's clocks show
        twice (read as the first) or never (read with the offset before the change).
    """
    file, column, places, raw = where
    s = pl.Series("d", values, dtype=pl.Datetime("us"))
    todo = pl.Series("n", naive, dtype=pl.Boolean) & s.is_not_null()
    first = s.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
    second = s.dt.replace_time_zone(zone, ambiguous="latest", non_existent="null")
    twice = todo & first.is_not_null() & (first != second).fill_null(False)
    never = todo & first.is_null()
    # a skipped local time takes the offset of the day before (before the clocks changed)
    before = (s - timedelta(days=1)).dt.replace_time_zone(
        zone, ambiguous="earliest", non_existent="null"
    )
    offset = before.dt.base_utc_offset() + before.dt.dst_offset()
    utc = first.dt.convert_time_zone("UTC").dt.replace_time_zone(None).fill_null(s - offset)
    out = pl.select(pl.when(todo).then(utc).otherwise(s)).to_series()
    notes = []
    for mask, what, rule in (
        (
            twice,
            "fall in the hour repeated when clocks go back",
            "read as the first of the two (summer time): an export cannot tell them apart",
        ),
        (
            never,
            "fall in the hour skipped when clocks go forward, so no such local time exists",
            "read with the offset in force before the change (2:30 AM as 3:30 AM summer time); "
            f"check that {zone} is the zone the file was exported in",
        ),
    ):
        idx = [i for i, m in enumerate(mask.to_list()) if m]
        if idx:
            shown = ", ".join(f"{places[i]} ({raw[i]!r})" for i in idx[:5])
            more = f" and {len(idx) - 5} more" if len(idx) > 5 else ""
            notes.append(
                f"{file}, column {column!r}: {len(idx)} date(s) {what} in {zone} "
                f"({shown}{more}); {rule}"
            )
    return out.to_list(), notes


def zone_note(file: Path, n: int, zone: str | None, tool: str) -> str | None:
    """The note, once per file, on its ``n`` dates without an offset: read as UTC (no zone
    given) or as local times in ``zone``; None when every date carries its offset."""
    if not n:
        return None
    if zone is None:
        return (
            f"{n} dates in {file} have no time zone; read as UTC (use --timezone ZONE, or "
            f"timezone= in Python, if {tool} exported them in your profile's zone)"
        )
    return (
        f"{n} dates in {file} have no time zone; read as local times in {zone} and converted to UTC"
    )


__all__ = ["check_zone", "to_utc", "zone_note"]
