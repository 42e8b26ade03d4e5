"""Exceptions and warnings that certkit raises for the analyst to read.

Both are meant for people, not for debugging certkit:

- In IPython and Jupyter a :class:`CertkitError` (and so a :class:`DataValidationError`) shows
  as its message, without a traceback, through IPython's ``_render_traceback_`` hook. Call
  :func:`show_tracebacks` (or set ``CERTKIT_TRACEBACK=1``) to see full tracebacks again.
  The ``certkit`` command line prints the message and exits non-zero (see ``certkit.cli``).
- A :class:`CertkitWarning` prints as ``CertkitWarning: message`` on one line, without the
  file path of the calling code (a temporary file in Jupyter) and without echoing its source
  line. Python's usual rule still applies: a warning shows once per place it comes from.
  Only certkit's warnings are formatted this way; other libraries' warnings are untouched.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import polars as pl

_ANSI_RED = "\x1b[0;31m"
_ANSI_RESET = "\x1b[0m"
_tracebacks = os.environ.get("CERTKIT_TRACEBACK", "").strip().lower() in ("1", "true", "yes")


def show_tracebacks(show: bool = True) -> None:
    """Show (or hide again) full Python tracebacks for certkit errors in IPython/Jupyter.

    Parameters
    ----------
    show
        True: IPython shows certkit errors with their traceback, like any exception.
        False (the default behaviour): only the message.
    """
    global _tracebacks
    _tracebacks = bool(show)


class CertkitError(ValueError):
    """Bad input or an impossible request, explained in plain words."""

    def _message_lines(self) -> list[str]:
        lines = str(self).splitlines() or [""]
        lines[0] = f"{_ANSI_RED}{type(self).__name__}{_ANSI_RESET}: {lines[0]}"
        return lines

    @property
    def _render_traceback_(self):
        """IPython's hook: the message lines instead of a traceback.

        A property so that, with :func:`show_tracebacks`, ``hasattr`` is False and IPython
        falls back to its normal traceback.
        """
        if _tracebacks:
            raise AttributeError("_render_traceback_")
        return self._message_lines


class DataValidationError(CertkitError):
    """Input tables failed validation; ``report`` holds every problem found."""

    def __init__(self, report):
        self.report = report
        super().__init__(report.format())


def frame_type(obj) -> str:
    """The type of ``obj`` as an analyst reads it: ``pandas.DataFrame``, ``list``, ``NoneType``."""
    module = type(obj).__module__.split(".")[0]
    name = type(obj).__name__
    return name if module == "builtins" else f"{module}.{name}"


def require_polars(data, name: str = "data", what: str = "a long panel") -> None:
    """Raise a :class:`CertkitError` unless ``data`` is a polars DataFrame.

    The one check behind every estimator that takes a frame (:mod:`certkit.did`,
    :mod:`certkit.matching`): the message names the argument, what it should be and what it
    was, and for a pandas frame how to convert it.

    Parameters
    ----------
    data
        The object passed by the caller.
    name
        The argument's name, for the message.
    what
        What the frame should hold (``"a long panel"``, ``"one row per engineer"``).
    """
    if isinstance(data, pl.DataFrame):
        return
    got = frame_type(data)
    hint = ""
    if got.startswith("pandas."):
        hint = f"; convert it with polars.from_pandas({name})"
    elif isinstance(data, pl.LazyFrame):
        hint = f"; collect it first ({name}.collect())"
    raise CertkitError(f"{name} must be a polars DataFrame ({what}), got {got}{hint}")


def require_columns(
    data, cols: dict[str, str | None], name: str = "data", what: str = "a long panel"
) -> None:
    """Raise a :class:`CertkitError` unless ``data`` is a polars DataFrame with every column.

    The one check behind the estimators' column arguments (:mod:`certkit.did`,
    :mod:`certkit.matching`): a missing column is named with the argument that asked for it
    (``outcome='merged_pr'``), followed by the frame's columns so the right name can be read.

    Parameters
    ----------
    data
        The frame passed by the caller.
    cols
        Argument -> column name; ``None`` (an argument not given) is skipped.
    name, what
        The frame's argument name and what it should hold, for the messages.
    """
    require_polars(data, name, what)
    missing = [f"{role}={col!r}" for role, col in cols.items() if col and col not in data.columns]
    if missing:
        raise CertkitError(
            f"{name} has no column(s) {', '.join(missing)}; columns are {data.columns[:30]}"
        )


def require_int(value, name: str, *, minimum: int | None = None, optional: bool = True) -> None:
    """Raise a :class:`CertkitError` unless ``value`` is a whole number (bool excluded).

    Parameters
    ----------
    value
        The argument's value (a Python or numpy integer; ``None`` when ``optional``).
    name
        The argument's name, for the message.
    minimum
        The smallest value allowed, if any.
    optional
        Whether ``None`` is allowed.
    """
    if value is None and optional:
        return
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise CertkitError(
            f"{name} must be a whole number (an int), got {value!r} ({frame_type(value)})"
        )
    if minimum is not None and value < minimum:
        raise CertkitError(f"{name} must be >= {minimum}, got {value}")


class CertkitWarning(UserWarning):
    """An assumption check an analyst should read (pre-trends, overlap, small cells...)."""


class HiddenInSharedReport(CertkitError):
    """An estimate a shared report does not show: it rests on fewer than k people.

    The data may support it (a private report shows it), so a report section says only this
    reason, not what the estimate "needs" ("rests on 2 adopters ... It needs at least 2
    engineers who adopt AI" read as a contradiction).
    """


class OutcomeNotRecorded(CertkitError):
    """The outcome has no values, or one value everywhere: the data does not record it.

    More certified engineers would not help, so a report section says only this reason,
    not what the estimate needs.
    """


#: Why a panel outcome is null everywhere, by column prefix (trial T: the docs' cycle-time
#: event study on a git-only import said only "entirely null").
_NULL_CAUSES = {
    "cycle_time": "PR cycle time needs each PR's creation date; a git import approximates it "
    "for squash-merged and rebased PRs and leaves their cycle time empty: import a gh export "
    "or DevLake data for real creation dates (docs/connectors.md)",
    "pickup_time": "time to first review needs review or comment dates: a gh export with "
    "reviews, or DevLake data",
    "rework_rate": "rework needs the line ledger of a git import (certkit import git)",
    "lines_changed": "no PR has line counts (additions/deletions)",
    "revert": "no PR says whether it was reverted",
}


def check_outcome(values: pl.Series, outcome: str) -> None:
    """Raise a reader-facing error when the outcome has nothing to estimate from: no value
    (all null or NaN), or one value in every row (e.g. ``incidents`` of a git-only import,
    0 everywhere), where every estimator would report an effect of 0 with no uncertainty
    (R's did gives 0 with a standard error of 0, or NA)."""
    v = values.cast(pl.Float64).drop_nulls().drop_nans()
    if v.len() == 0:
        why = next((w for prefix, w in _NULL_CAUSES.items() if outcome.startswith(prefix)), "")
        raise OutcomeNotRecorded(
            f"outcome column {outcome!r} is entirely null: nothing to estimate"
            + (f" ({why})" if why else "")
        )
    if v.min() == v.max():
        raise OutcomeNotRecorded(
            f"outcome column {outcome!r} is {v[0]:g} in every row: with no variation there is "
            "no effect to estimate (an outcome the data does not record, such as incidents "
            "without an incidents table, is 0 everywhere)"
        )


def warn_and_keep(msg: str, sink: list[str]) -> None:
    """Warn the analyst in plain words and keep the message for the result's notes.

    Results list their warnings in ``summary()`` and notebooks, so a warning shown once in a
    console is still on the page that is shared. ``stacklevel`` points at the caller of the
    public function that found the problem.
    """
    sink.append(msg)
    warnings.warn(msg, CertkitWarning, stacklevel=3)


def _format_certkit_warning(message, category, filename, lineno, line=None) -> str:
    """``warnings.formatwarning`` for CertkitWarning; anything else goes to the previous one."""
    if isinstance(category, type) and issubclass(category, CertkitWarning):
        return f"{category.__name__}: {message}\n"
    return _format_certkit_warning.previous(message, category, filename, lineno, line)


def _install_warning_format() -> None:
    """Chain certkit's format in front of the current ``warnings.formatwarning`` (once)."""
    current = warnings.formatwarning
    if getattr(current, "_certkit", False):
        return
    _format_certkit_warning.previous = current
    _format_certkit_warning._certkit = True
    warnings.formatwarning = _format_certkit_warning


_install_warning_format()
