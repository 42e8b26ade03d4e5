"""One table renderer for notebook displays of polars frames (HTML and plain text).

Polars' own display is made for programmers: a ``shape:`` line, a dtype row, quoted strings,
ten rows and strings cut at about thirty characters. certkit's results are read by analysts,
so every result, dataset and report shows its tables through :func:`table` instead:

- no shape or dtype rows, strings unquoted;
- up to 50 rows, then a clear "70 more rows" line (``max_rows=None`` shows every row);
- long text wrapped, never cut;
- numbers formatted per column: integers with thousands separators, floats with a number of
  decimals that suits the column, dates in ISO format, null as an em dash, NaN as a dash and
  infinities as ``∞``;
- an optional title, key facts, caption and footnotes;
- HTML escaped, with a few inline styles that read in JupyterLab's light and dark themes and
  in exported HTML (inline ``style`` attributes survive JupyterLab's sanitizer).

:func:`oneline` builds the one-line text ``repr`` of result objects (title and key facts).

Examples
--------
>>> import polars as pl
>>> from certkit.display import table
>>> print(table(pl.DataFrame({"team": ["a"], "engineers": [1234]}), title="Teams"))
Teams
team  engineers
────  ─────────
a         1,234
"""

from __future__ import annotations

import datetime as dt
import html
import math
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

import polars as pl

__all__ = ["MAX_ROWS", "Table", "format_column", "format_number", "oneline", "table"]

#: Rows shown before the "n more rows" line.
MAX_ROWS = 50
#: Width (characters) at which text cells wrap in the plain-text table.
TEXT_WIDTH = 60
NULL = "—"  # em dash
NAN = "–"  # en dash
#: Significant digits a float column keeps (at least two decimals below 100).
SIG_DIGITS = 3
MAX_DECIMALS = 6

Formatter = str | Callable[[object], str]

_BORDER = "rgba(127,127,127,0.45)"
_RULE = "rgba(127,127,127,0.22)"
_CELL = "padding:2px 10px;vertical-align:top;line-height:1.35;border:none;"
_NUM = "text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums;"
_TXT = "text-align:left;white-space:pre-wrap;overflow-wrap:anywhere;max-width:42em;"
_MUTED = "opacity:0.75;font-size:0.92em;margin:4px 0 0 0;"


# ---------------------------------------------------------------------------- numbers


def _float_decimals(values: Iterable[float]) -> int:
    """Decimals for a float column: ``SIG_DIGITS`` significant digits of its largest value."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 2
    if all(v == int(v) and v < 1e15 for v in finite):
        return 0
    biggest = max(finite)
    if biggest == 0:
        return 0
    decimals = SIG_DIGITS - 1 - math.floor(math.log10(biggest))
    if biggest < 100:
        decimals = max(decimals, 2)
    return min(max(decimals, 0), MAX_DECIMALS)


def format_number(
    value: float | int | None, decimals: int | None = None, *, zero_below: float = 0.0
) -> str:
    """One number as certkit shows it.

    Parameters
    ----------
    value
        An int, a float or None.
    decimals
        Decimals for a float; by default chosen from the value itself.
    zero_below
        Floats whose absolute value is at most this are rounding noise and shown as zero.

    Returns
    -------
    str
        ``1,234`` for ints; floats with thousands separators and ``decimals`` decimals, in
        scientific notation when they would otherwise round to zero; ``—`` for None, ``–`` for
        NaN and ``∞`` / ``-∞`` for infinities.
    """
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    v = float(value)
    if math.isnan(v):
        return NAN
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if decimals is None:
        decimals = _float_decimals([v])
    if abs(v) <= zero_below or v == 0:
        v = 0.0  # no "-0.00", no "5.6e-17" for a sum that should be zero
    elif abs(v) < 0.5 * 10.0**-decimals:
        return f"{v:.1e}"
    return f"{v:,.{decimals}f}"


def _format_temporal(value: object, *, date_only: bool = False) -> str:
    if isinstance(value, dt.datetime):
        if date_only:
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _format_other(value: object) -> str:
    if value is None:
        return NULL
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return format_number(value)
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return _format_temporal(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_format_other(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_format_other(v) for v in value)
    return str(value)


def _is_numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype == pl.Boolean


def format_column(series: pl.Series, fmt: Formatter | None = None) -> list[str]:
    """Every value of ``series`` as display text.

    Parameters
    ----------
    series
        A polars series.
    fmt
        Optional format: a ``str.format`` pattern such as ``"{:.1%}"`` or a callable taking
        one value. Nulls are shown as ``—`` whatever the format.

    Returns
    -------
    list of str
    """
    values = series.to_list()
    if fmt is not None:
        call = fmt.format if isinstance(fmt, str) else fmt
        return [NULL if v is None else str(call(v)) for v in values]
    dtype = series.dtype
    if dtype.is_float():
        decimals = _float_decimals(values)
        finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
        noise = 1e-9 * max(finite, default=0.0)
        return [format_number(v, decimals, zero_below=noise) for v in values]
    if dtype.is_integer():
        return [NULL if v is None else f"{v:,}" for v in values]
    if dtype.is_temporal():
        date_only = all(  # datetimes at midnight without a time zone read as dates
            isinstance(v, dt.datetime) and v.tzinfo is None and v.time() == dt.time(0)
            for v in values
            if v is not None
        )
        return [NULL if v is None else _format_temporal(v, date_only=date_only) for v in values]
    return [_format_other(v) for v in values]


# ---------------------------------------------------------------------------- table


@dataclass(frozen=True, eq=False)
class Table:
    """A polars frame ready to display; ``print`` it or leave it last in a notebook cell.

    Build it with :func:`table`. ``to_html()`` and ``to_text()`` give the two renderings;
    ``all()`` returns the same table showing every row.
    """

    frame: pl.DataFrame
    title: str | None = None
    facts: Mapping[str, object] = field(default_factory=dict)
    caption: str | None = None
    footnotes: tuple[str, ...] = ()
    max_rows: int | None = MAX_ROWS
    formats: Mapping[str, Formatter] = field(default_factory=dict)

    # -- shared pieces
    def _shown(self) -> pl.DataFrame:
        if self.max_rows is None or self.frame.height <= self.max_rows:
            return self.frame
        return self.frame.head(self.max_rows)

    def _hidden(self) -> int:
        return self.frame.height - self._shown().height

    def _cells(self) -> list[list[str]]:
        shown = self._shown()
        return [format_column(shown[c], self.formats.get(c)) for c in shown.columns]

    def _numeric(self) -> list[bool]:
        return [
            _is_numeric(dtype) and name not in self.formats
            for name, dtype in self.frame.schema.items()
        ]

    def _more(self) -> str:
        n = self._hidden()
        return (
            f"… {n:,} more row{'s' if n != 1 else ''} ({self._shown().height:,} of "
            f"{self.frame.height:,} shown; table(frame, max_rows=None) shows all)"
        )

    def _facts_line(self) -> str:
        return " · ".join(f"{k}: {_fact(v)}" for k, v in self.facts.items() if v is not None)

    def all(self) -> Table:
        """The same table, showing every row."""
        return replace(self, max_rows=None)

    # -- text
    def to_text(self, width: int = TEXT_WIDTH) -> str:
        """Plain-text rendering: aligned columns, wrapped text, no shape or dtype rows."""
        lines: list[str] = []
        if self.title:
            lines.append(self.title)
        if self.facts:
            lines.append(self._facts_line())
        numeric = self._numeric()
        columns = [
            [_wrap(text, width) if not num else [text] for text in col]
            for col, num in zip(self._cells(), numeric, strict=True)
        ]
        names = self.frame.columns
        widths = [
            max([len(name)] + [len(part) for cell in col for part in cell])
            for name, col in zip(names, columns, strict=True)
        ]

        def just(text: str, w: int, num: bool) -> str:
            return text.rjust(w) if num else text.ljust(w)

        if names:
            lines.append(
                "  ".join(
                    just(n, w, num) for n, w, num in zip(names, widths, numeric, strict=True)
                ).rstrip()
            )
            lines.append("  ".join("─" * w for w in widths))
        for r in range(self._shown().height):
            cells = [col[r] for col in columns]
            for k in range(max(len(c) for c in cells)):
                parts = [c[k] if k < len(c) else "" for c in cells]
                lines.append(
                    "  ".join(
                        just(p, w, num) for p, w, num in zip(parts, widths, numeric, strict=True)
                    ).rstrip()
                )
        if not self.frame.height:
            lines.append("(no rows)")
        if self._hidden():
            lines.append(self._more())
        if self.caption:
            lines += ["", *textwrap.wrap(self.caption, 100)]
        for i, note in enumerate(self.footnotes, 1):
            lines += textwrap.wrap(
                note, 100, initial_indent=f"[{i}] ", subsequent_indent=" " * (len(str(i)) + 3)
            )
        return "\n".join(lines)

    # -- HTML
    def to_html(self) -> str:
        """HTML rendering with inline styles only (safe in sanitized JupyterLab outputs)."""
        esc = html.escape
        numeric = self._numeric()
        out = ['<div class="certkit-table" style="margin:4px 0 10px 0;color:inherit;">']
        if self.title:
            out.append(f'<div style="font-weight:600;margin:0 0 4px 0;">{esc(self.title)}</div>')
        if self.facts:
            out.append(f'<div style="{_MUTED}margin:0 0 6px 0;">{esc(self._facts_line())}</div>')
        out.append(
            '<table style="border-collapse:collapse;border:none;margin:0;'
            'font-size:0.92em;color:inherit;background:transparent;table-layout:auto;">'
        )
        head = "".join(
            f'<th style="{_CELL}{_NUM if num else _TXT}font-weight:600;'
            f'border-bottom:1px solid {_BORDER};">{esc(name)}</th>'
            for name, num in zip(self.frame.columns, numeric, strict=True)
        )
        out.append(f"<thead><tr>{head}</tr></thead><tbody>")
        cells = self._cells()
        row_style = f'style="border-bottom:1px solid {_RULE};background:transparent;"'
        for r in range(self._shown().height):
            tds = "".join(
                f'<td style="{_CELL}{_NUM if num else _TXT}">{esc(col[r])}</td>'
                for col, num in zip(cells, numeric, strict=True)
            )
            out.append(f"<tr {row_style}>{tds}</tr>")
        out.append("</tbody></table>")
        if not self.frame.height:
            out.append(f'<div style="{_MUTED}">(no rows)</div>')
        if self._hidden():
            out.append(f'<div style="{_MUTED}font-style:italic;">{esc(self._more())}</div>')
        if self.caption:
            out.append(f'<div style="{_MUTED}">{esc(self.caption)}</div>')
        for i, note in enumerate(self.footnotes, 1):
            out.append(f'<div style="{_MUTED}">[{i}] {esc(note)}</div>')
        out.append("</div>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for para in text.split("\n"):
        lines += textwrap.wrap(para, width, break_long_words=True, break_on_hyphens=False) or [""]
    return lines


def table(
    frame: pl.DataFrame,
    *,
    title: str | None = None,
    facts: Mapping[str, object] | None = None,
    caption: str | None = None,
    footnotes: Iterable[str] = (),
    max_rows: int | None = MAX_ROWS,
    formats: Mapping[str, Formatter] | None = None,
) -> Table:
    """Wrap a polars frame for display in notebooks and consoles.

    Parameters
    ----------
    frame
        The table to show (never modified).
    title
        Bold line above the table.
    facts
        Key facts shown on one line under the title (``{"engineers": 1234}``); None values
        are left out.
    caption
        A sentence under the table (what the rows are, where they come from).
    footnotes
        Notes numbered under the table, e.g. a result's warnings.
    max_rows
        Rows shown before a "n more rows" line; ``None`` shows every row.
    formats
        Per-column format: a ``str.format`` pattern (``"{:.1%}"``) or a callable.

    Returns
    -------
    Table
        Renders as HTML in Jupyter (``_repr_html_``) and as aligned text in ``print``.
    """
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"table() needs a polars DataFrame, not {type(frame).__name__}")
    if max_rows is not None and max_rows < 0:
        raise ValueError("max_rows must be None or a non-negative number")
    return Table(
        frame,
        title=title,
        facts=dict(facts or {}),
        caption=caption,
        footnotes=tuple(str(n) for n in footnotes),
        max_rows=max_rows,
        formats=dict(formats or {}),
    )


# ---------------------------------------------------------------------------- one line


def _fact(value: object) -> str:
    if isinstance(value, float) and math.isfinite(value) and value != 0 and abs(value) < 1e15:
        digits = max(SIG_DIGITS - 1 - math.floor(math.log10(abs(value))), 0)
        return format_number(value, min(digits, MAX_DECIMALS))
    return _format_other(value)


def p_said(p: float, digits: str = ".3g") -> str:
    """A p-value after "p": ``"< 0.001"`` below 0.001, else ``"= 0.0123"`` (``digits`` is
    the format of the number)."""
    return "< 0.001" if p < 0.001 else f"= {p:{digits}}"


def oneline(title: str, **facts: object) -> str:
    """One-line text ``repr`` for a certkit object: its title and key facts.

    Parameters
    ----------
    title
        What the object is ("Event study", "Dataset").
    **facts
        Key facts in the order given; underscores in names become spaces, ``None`` values are
        left out, numbers are formatted as in tables.

    Returns
    -------
    str
        E.g. ``"Event study: 19 event times, engineers 1,234, overall att 0.412"``.

    Examples
    --------
    >>> oneline("Dataset", engineers=1234, teams=12, period="2024-01-01 to 2024-12-31")
    'Dataset: engineers 1,234, teams 12, period 2024-01-01 to 2024-12-31'
    """
    parts = [f"{k.replace('_', ' ')} {_fact(v)}" for k, v in facts.items() if v is not None]
    one = f"{title}: {', '.join(parts)}" if parts else title
    return " ".join(one.split())
