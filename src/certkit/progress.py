"""Progress bars for long steps (a git read, the line ledger, the panel, a report run).

One place for how they behave: on a terminal, tqdm's usual bar; on a stream that is not a
terminal (a scheduled run's log file), redrawn at most every :data:`LOG_INTERVAL_S` seconds
(trial AC: a 1:44 import of astral-sh/ruff wrote about 250 KB of carriage-return frames to
its log).
"""

from __future__ import annotations

import sys
from typing import IO, Any

from tqdm.std import tqdm

__all__ = ["LOG_INTERVAL_S", "progress_bar"]

#: Seconds between two redraws of a bar whose stream is not a terminal.
LOG_INTERVAL_S = 30.0


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def progress_bar(*, file: IO[str] | None = None, plain: bool = False, **kwargs: Any) -> tqdm:
    """A tqdm bar on ``file`` (standard error by default), throttled when ``file`` is not a
    terminal.

    Parameters
    ----------
    file
        The stream; ``sys.stderr`` when None.
    plain
        Text only, never a notebook widget (``tqdm.std``): notebooks without ipywidgets
        stay quiet.
    **kwargs
        tqdm's arguments (``total``, ``desc``, ``unit``, ``disable``, ...).

    Returns
    -------
    tqdm
        The bar; a notebook widget under Jupyter unless ``plain``.
    """
    bar = tqdm
    if not plain:  # imported here: tqdm.auto warns on import where ipywidgets are missing
        from tqdm.auto import tqdm as bar
    stream = file if file is not None else sys.stderr
    if bar is tqdm and not _is_terminal(stream):  # a widget redraws in place: not it
        kwargs.setdefault("mininterval", LOG_INTERVAL_S)
        kwargs.setdefault("maxinterval", max(LOG_INTERVAL_S, kwargs["mininterval"]))
    return bar(file=stream, **kwargs)
