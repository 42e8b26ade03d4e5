"""Progress bars redraw in place on a terminal and seldom in a log (trial AC: a 1:44 import
of astral-sh/ruff wrote about 250 KB of carriage-return frames to its log file)."""

from __future__ import annotations

import io

from certkit.progress import LOG_INTERVAL_S, progress_bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _frames(stream: io.StringIO, steps: int = 2000) -> int:
    bar = progress_bar(total=steps, desc="git", file=stream, plain=True, mininterval=0)
    for _ in range(steps):
        bar.update()
    bar.close()
    return stream.getvalue().count("\r")


def test_a_log_gets_a_bar_redrawn_at_most_every_thirty_seconds():
    log = io.StringIO()
    bar = progress_bar(total=10, file=log, plain=True)
    assert bar.mininterval == LOG_INTERVAL_S == 30.0
    bar.close()
    terminal = progress_bar(total=10, file=_Terminal(), plain=True)
    assert terminal.mininterval < 1
    terminal.close()


def test_a_log_file_gets_a_few_frames_where_a_terminal_gets_many():
    assert _frames(_Terminal()) > 100  # mininterval=0 asked: every step redrawn
    log = io.StringIO()
    bar = progress_bar(total=2000, desc="git", file=log, plain=True)
    for _ in range(2000):
        bar.update()
    bar.close()
    assert log.getvalue().count("\r") <= 3  # the first frame, the last, the close
    assert "2000/2000" in log.getvalue()
