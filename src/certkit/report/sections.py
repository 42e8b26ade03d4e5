"""Report sections that explain themselves when the data cannot support them.

A report must run to completion on any dataset that validates: a section whose estimate
cannot be computed (too few certified engineers, no pre-period, no AI-assisted PRs...) says
so in words, and the rest of the page goes on. Notebooks wrap each section in
:meth:`certkit.report.Context.section` (a :class:`Section`), which turns the error into a
reader-facing paragraph: what was not estimated, why, and what it would need.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from certkit.errors import CertkitError, HiddenInSharedReport, OutcomeNotRecorded

#: CSS class of the paragraph a skipped section shows (tests and the HTML theme use it).
SKIPPED_CLASS = "certkit-skipped"


def reason(exc: BaseException) -> str:
    """The reason a section could not be computed, in words for the reader.

    A :class:`~certkit.errors.CertkitError` already explains itself; any other error is an
    unexpected failure of the computation on this data and is labelled as such (with its
    type), so it is reported rather than mistaken for a property of the data.
    """
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, CertkitError):
        return text.rstrip(".")
    return f"unexpected error in the computation ({type(exc).__name__}: {text.rstrip('.')})"


def explain(what: str, why: str, needs: str | None = None) -> str:
    """One HTML paragraph: ``what`` was not estimated, ``why``, and what it would need."""
    text = f"<b>{html.escape(what)}: not estimated.</b> {html.escape(_capital(why))}."
    if needs:
        text += f" It needs {html.escape(needs.rstrip('.'))}."
    return f"<div class='{SKIPPED_CLASS}'><p>{text}</p></div>"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


@dataclass
class Section:
    """Run one report section; on failure show (or keep) why, and let the page go on.

    Use as a context manager: an exception inside the block ends the block (the statements
    after the failing one are skipped), is turned into a paragraph by :func:`explain` and is
    displayed in place (``show=True``) or only recorded (``show=False``: the notebook says it
    elsewhere, e.g. in a summary row). ``KeyboardInterrupt`` and ``SystemExit`` pass through.

    Parameters
    ----------
    what
        The section's name as the reader knows it ("Event study", "Trust scores").
    needs
        What the section needs from the data, in words ("certified engineers with ...").
    show
        Display the explanation where the section would have been.
    redact
        Applied to the reason before it is shown (names and ids in a shared report).
    sink
        A list that receives ``"what: not estimated (why)"`` (e.g. the page's notes).
    """

    what: str
    needs: str | None = None
    show: bool = True
    redact: Callable[[str], str] = field(default=lambda s: s, repr=False)
    sink: list[str] | None = field(default=None, repr=False)
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """True while (and after) the block ran without an error."""
        return self.reason is None

    def __enter__(self) -> Section:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        if isinstance(exc, OutcomeNotRecorded | HiddenInSharedReport):
            # the reason says it all: the data lacks the outcome, or a private report shows it
            self.needs = None
        self.fail(reason(exc))
        return True

    def fail(self, why: str) -> None:
        """Mark the section as not estimated for ``why`` (also usable without an exception)."""
        self.reason = self.redact(why)
        if self.sink is not None:
            line = f"{self.what}: not estimated ({self.reason})"
            if line not in self.sink:
                self.sink.append(line)
        if self.show:
            _display_html(self.html())

    @property
    def explanation(self) -> str:
        """The reason plus what the section would need, as one plain sentence (no HTML)."""
        if self.ok:
            return ""
        text = (self.reason or "").rstrip(".")
        return text + (f"; it needs {self.needs.rstrip('.')}" if self.needs else "")

    def html(self) -> str:
        """The explanation paragraph (empty while the section is fine)."""
        return "" if self.ok else explain(self.what, self.reason or "", self.needs)


def _display_html(text: str) -> None:
    try:
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover - IPython ships with the report extra
        print(text)
        return
    display(HTML(text))


def finite(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with NaN and infinite floats replaced by nulls (shown as a dash, never ``nan``)."""
    floats = [c for c, t in df.schema.items() if t.is_float()]
    if not floats:
        return df
    return df.with_columns(
        pl.when(pl.col(c).is_finite()).then(pl.col(c)).otherwise(None).alias(c) for c in floats
    )


def is_number(value: Any) -> bool:
    """True for a finite int or float (not None, NaN or infinite)."""
    if value is None or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def chart(build: Callable[..., Any], df: pl.DataFrame, *, empty: str, **kwargs) -> Any:
    """``build(df, **kwargs)`` when ``df`` has rows to plot, else a paragraph saying why not.

    Non-finite numbers are removed first (a chart never receives NaN or infinity). ``empty``
    says in words why nothing is left to plot (e.g. what was suppressed and why).
    """
    from IPython.display import HTML

    data = finite(df)
    floats = [c for c, t in data.schema.items() if t.is_float()]
    plottable = data.filter(pl.any_horizontal(pl.col(floats).is_not_null())) if floats else data
    if plottable.height == 0:
        return HTML(f"<p class='{SKIPPED_CLASS}'><i>No chart: {html.escape(empty)}.</i></p>")
    return build(data, **kwargs)


def in_section(
    ctx,
    what: str,
    make: Callable[[], Any],
    *,
    needs: str | None = None,
    sink: list[str] | None = None,
    warnings_prefix: str | None = None,
) -> list:
    """What ``make()`` returns to display (a list, or one object), or why it could not be made.

    ``make`` runs inside ``ctx.section(what, needs, sink=sink)`` (and, with ``warnings_prefix``,
    inside :func:`certkit.report.context.collect_warnings` into ``sink``); on failure the list
    holds the section's explanation instead, in the place the displays would have been.
    """
    from contextlib import nullcontext

    from IPython.display import HTML

    from certkit.report.context import collect_warnings

    section = ctx.section(what, needs, show=False, sink=sink)
    warned = nullcontext() if warnings_prefix is None else collect_warnings(sink, warnings_prefix)
    shown: Any = []
    with section, warned:
        shown = make()
    if not section.ok:
        return [HTML(section.html())]
    return list(shown) if isinstance(shown, list | tuple) else [shown]
