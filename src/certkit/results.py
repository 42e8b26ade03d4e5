"""Shared behaviour of certkit result objects (statsmodels / pyfixest / CausalPy habits).

Every result keeps one polars table as its source of truth (``to_polars()``); ``summary()``
renders it as text and ``_repr_html_`` as HTML, with the result's title, header facts and
warnings. Subclasses keep their table in ``table`` (or implement ``to_polars``) and may
override ``_header`` (key facts shown above the table) and ``_notes``.

Estimate results (:class:`EstimateMixin`: every result of ``certkit.did`` and
``certkit.matching``) add the **result contract**:

* ``tidy()``: a polars frame with exactly :data:`TIDY_COLUMNS` (``term, estimate, std_error,
  statistic, p_value, conf_low, conf_high``) plus ``n`` where it means something;
* ``plot_data()``: the tidy rows with the columns a chart needs (event time, cohort ...);
* ``plot()``: an Altair chart drawn from ``plot_data()`` by :mod:`certkit.charts`;
* ``effect_summary()``: an :class:`EffectSummary`, the headline rows of ``tidy()`` and
  generated plain-language sentences about them;
* ``summary()``, ``_repr_html_`` and ``to_polars()`` as for every result;
* ``level``: the confidence level of the intervals (e.g. 0.95).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from certkit.stats.vcov import pvalue, statistic

#: The columns of every ``tidy()`` frame, in order (``n`` may follow).
TIDY_COLUMNS = (
    "term",
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
)


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

    def _display_table(self) -> pl.DataFrame:
        """The table shown by :meth:`summary` and ``_repr_html_`` (default: ``to_polars()``)."""
        return self.to_polars()

    def _notes(self) -> list[str]:
        return list(getattr(self, "warnings", []) or [])

    def summary(self) -> str:
        """Readable text summary: title, key facts, the tidy table and any warnings."""
        lines = [self.title, "=" * len(self.title)]
        lines += [f"{k}: {v}" for k, v in self._header().items()]
        lines += ["", format_table(self._display_table())]
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
        table = self._display_table().with_columns(pl.col(pl.Float64, pl.Float32).round(4))
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self._notes())
        return (
            f"<div class='certkit-result'><h4>{html.escape(self.title)}</h4>"
            f"<table>{head}</table>{table._repr_html_()}"
            + (f"<p><b>Warnings / notes</b></p><ul>{notes}</ul>" if notes else "")
            + "</div>"
        )


def tidy_frame(term, estimate, std_error, conf_low, conf_high, n=None) -> pl.DataFrame:
    """Build a contract ``tidy()`` frame; ``statistic`` and ``p_value`` (normal) are derived.

    Parameters
    ----------
    term
        Row labels (e.g. ``"ATT"``, ``"e=2"``).
    estimate, std_error, conf_low, conf_high
        Scalars or sequences of the same length as ``term``.
    n
        Optional number of units (or pairs) behind each row.
    """
    terms = [term] if isinstance(term, str) else [str(t) for t in term]
    k = len(terms)

    def col(v):
        return np.broadcast_to(np.asarray(v, dtype=float), (k,)).astype(float)

    est, se = col(estimate), col(std_error)
    cols = {
        "term": terms,
        "estimate": est,
        "std_error": se,
        "statistic": np.atleast_1d(statistic(est, se)),
        "p_value": np.atleast_1d(pvalue(est, se)),
        "conf_low": col(conf_low),
        "conf_high": col(conf_high),
    }
    if n is not None:
        cols["n"] = np.broadcast_to(np.asarray(n, dtype=np.int64), (k,))
    return pl.DataFrame(cols)


def _num(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.3g}"


def describe_effect(
    label: str,
    estimate: float | None,
    conf_low: float | None,
    conf_high: float | None,
    p_value: float | None,
    level: float = 0.95,
) -> str:
    """One plain-language sentence about an estimate and its interval."""
    if estimate is None or not math.isfinite(estimate):
        return f"{label}: no estimate (too little data)."
    pct = f"{100 * level:.0f}%"
    head = f"{label}: {estimate:+.3g} ({pct} interval {_num(conf_low)} to {_num(conf_high)}" + (
        f", p = {p_value:.3g})" if p_value is not None and math.isfinite(p_value) else ")"
    )
    if conf_low is None or conf_high is None or not math.isfinite(conf_low * conf_high):
        return head + "; the uncertainty could not be estimated."
    if conf_low > 0 or conf_high < 0:
        way = "an increase" if estimate > 0 else "a decrease"
        return head + f". The interval excludes zero: the data show {way}."
    return head + ". The interval includes zero: the data cannot tell this apart from no effect."


@dataclass(frozen=True)
class EffectSummary:
    """Headline estimates (``table``) and generated plain-language ``text`` about them."""

    table: pl.DataFrame
    text: str

    def __str__(self) -> str:
        return f"{self.text}\n\n{format_table(self.table)}"

    def _repr_html_(self) -> str:
        table = self.table.with_columns(pl.col(pl.Float64).round(4))
        return f"<div class='certkit-effect'><p>{html.escape(self.text)}</p>{table._repr_html_()}</div>"


class EstimateMixin(ResultMixin):
    """The result contract of estimate results: ``tidy``, ``plot``, ``effect_summary``.

    Subclasses implement :meth:`tidy`; they may override :meth:`plot_data` (extra columns
    for the chart), :meth:`plot` and :meth:`_headline_terms` (which rows are the headline).
    """

    def tidy(self) -> pl.DataFrame:
        """Estimates with ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``."""
        raise NotImplementedError(f"{type(self).__name__} must implement tidy()")

    def plot_data(self) -> pl.DataFrame:
        """The data behind :meth:`plot`: the tidy rows (plus chart keys where needed)."""
        return self.tidy()

    def plot(self):
        """Altair chart of the estimates with their intervals (one row per term)."""
        from certkit import charts

        return charts.forest(
            self.plot_data(), y="term", lower="conf_low", upper="conf_high", title=self.title
        )

    def _headline_terms(self) -> list[str] | None:
        """Terms of the headline rows; None = every row."""
        return None

    def _headline(self) -> pl.DataFrame:
        tidy = self.tidy()
        terms = self._headline_terms()
        return tidy if terms is None else tidy.filter(pl.col("term").is_in(terms))

    def _headline_value(self, column: str) -> float:
        """``column`` of the single headline row of :meth:`tidy`."""
        row = self._headline()
        if row.height != 1:
            raise AttributeError(
                f"{type(self).__name__} has {row.height} headline rows; read them from tidy()"
            )
        return float(row[column][0])

    @property
    def pvalue(self) -> float:
        """Two-sided p-value of the headline estimate (normal approximation), from tidy()."""
        return self._headline_value("p_value")

    def _outcome_label(self) -> str:
        outcome = getattr(self, "outcome", None)
        if outcome is None:
            outcome = (getattr(self, "settings", None) or {}).get("outcome")
        if isinstance(outcome, list | tuple):
            outcome = ", ".join(outcome)
        return f"effect on {outcome}" if outcome else "effect"

    def effect_summary(self) -> EffectSummary:
        """Headline rows of :meth:`tidy` with a generated sentence for each."""
        table = self._headline()
        level = getattr(self, "level", 0.95)
        what = self._outcome_label()
        sentences = [
            describe_effect(
                f"{what.capitalize()} ({r['term']})" if table.height > 1 else what.capitalize(),
                r["estimate"],
                r["conf_low"],
                r["conf_high"],
                r["p_value"],
                level,
            )
            for r in table.iter_rows(named=True)
        ]
        if len(sentences) > 6:
            sentences = sentences[:6] + [f"... and {len(sentences) - 6} more rows in the table."]
        return EffectSummary(table, " ".join(sentences))
