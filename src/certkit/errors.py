"""Exceptions and warnings that certkit raises for the analyst to read."""


class CertkitError(ValueError):
    """Bad input or an impossible request, explained in plain words."""


class DataValidationError(CertkitError):
    """Input tables failed validation; ``report`` holds every problem found."""

    def __init__(self, report):
        self.report = report
        super().__init__(report.format())


class CertkitWarning(UserWarning):
    """An assumption check an analyst should read (pre-trends, overlap, small cells...)."""
