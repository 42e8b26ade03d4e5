"""Exceptions and warnings that certkit raises for the analyst to read."""

import warnings


class CertkitError(ValueError):
    """Bad input or an impossible request, explained in plain words."""


class DataValidationError(CertkitError):
    """Input tables failed validation; ``report`` holds every problem found."""

    def __init__(self, report):
        self.report = report
        super().__init__(report.format())


class CertkitWarning(UserWarning):
    """An assumption check an analyst should read (pre-trends, overlap, small cells...)."""


def warn_and_keep(msg: str, sink: list[str]) -> None:
    """Warn the analyst in plain words and keep the message for the result's notes.

    Results list their warnings in ``summary()`` and notebooks, so a warning shown once in a
    console is still on the page that is shared. ``stacklevel`` points at the caller of the
    public function that found the problem.
    """
    sink.append(msg)
    warnings.warn(msg, CertkitWarning, stacklevel=3)
