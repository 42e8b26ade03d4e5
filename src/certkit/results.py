"""Shared behaviour of certkit result objects (statsmodels / pyfixest habits).

Every result keeps one tidy polars table as its source of truth (``to_polars()``);
``summary()`` renders it as text and ``_repr_html_`` as HTML, with the result's
title, header facts and warnings. Subclasses keep their table in ``table`` (or implement ``to_polars``) and may
override ``_header`` (key facts shown above the table) and ``_notes``.
"""

from __future__ import annotations

import html

import polars as pl


def format_table(df: pl.DataFrame, digits: int = 4) -> str:
    """Plain-text table with floats rounded to ``digits`` significant decimals."""
    rounded = df.with_columns(pl.col(pl.Float64, pl.Float32).round(digits))
    with pl.Config(
        tbl_rows=200,
        tbl_cols=30,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_formatting="ASCII_MARKDOWN",
        fmt_str_lengths=60,
        tbl_width_chars=200,
    ):
        return str(rounded)


class ResultMixin:
    """Text and HTML rendering for result objects built on a tidy table."""

    title: str = "certkit result"

    def to_polars(self) -> pl.DataFrame:
        """The tidy result table; results that keep it in a ``table`` attribute need no override."""
        table = getattr(self, "table", None)
        if not isinstance(table, pl.DataFrame):
            raise NotImplementedError(f"{type(self).__name__} must implement to_polars()")
        return table

    def _header(self) -> dict[str, object]:
        return {}

    def _notes(self) -> list[str]:
        return list(getattr(self, "warnings", []) or [])

    def summary(self) -> str:
        """Readable text summary: title, key facts, the tidy table and any warnings."""
        lines = [self.title, "=" * len(self.title)]
        lines += [f"{k}: {v}" for k, v in self._header().items()]
        lines += ["", format_table(self.to_polars())]
        notes = self._notes()
        if notes:
            lines += ["", "Warnings / notes:"] + [f"- {n}" for n in notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        head = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
            f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
            for k, v in self._header().items()
        )
        table = self.to_polars().with_columns(pl.col(pl.Float64, pl.Float32).round(4))
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self._notes())
        return (
            f"<div class='certkit-result'><h4>{html.escape(self.title)}</h4>"
            f"<table>{head}</table>{table._repr_html_()}"
            + (f"<p><b>Warnings / notes</b></p><ul>{notes}</ul>" if notes else "")
            + "</div>"
        )
