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

from certkit.narrative import describe_effect
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


def _key_formats(frame: pl.DataFrame) -> dict[str, str]:
    """Integer key columns (cohort 2004, period, event time) print as written, not as 2,004.

    Counts (``n``, ``n_*``, ``*_count``) keep their thousands separators.
    """
    return {
        name: "{}"
        for name, dtype in frame.schema.items()
        if dtype.is_integer()
        and not (name == "n" or name.startswith("n_") or name.endswith("count"))
    }


class ResultMixin:
    """Text and HTML rendering for result objects built on a tidy table.

    ``summary()`` / ``str()`` and ``_repr_html_`` render :meth:`_display_table` with
    :func:`certkit.display.table` (title, header facts, the table, warnings as footnotes: no
    shape or dtype rows, every row shown); ``repr()`` is one line (:func:`certkit.display.oneline`)
    with :meth:`_oneline_facts`. Dataclass results need ``@dataclass(repr=False)`` so the
    dataclass does not replace that line with every field (simulation draws included).
    """

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

    def _oneline_facts(self) -> dict[str, object]:
        """Key facts of the one-line ``repr`` (default: the number of table rows)."""
        try:
            return {"rows": self._display_table().height}
        except (NotImplementedError, AttributeError):
            return {}

    def _table(self):
        from certkit.display import table

        frame = self._display_table()
        return table(
            frame,
            title=self.title,
            facts=self._header(),
            footnotes=self._notes(),
            max_rows=None,
            formats=_key_formats(frame),
        )

    def summary(self) -> str:
        """Readable text summary: title, key facts, the table and any warnings."""
        return self._table().to_text()

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        from certkit.display import oneline

        return oneline(self.title, **self._oneline_facts())

    def _repr_html_(self) -> str:
        return f"<div class='certkit-result'>{self._table().to_html()}</div>"


def tidy_frame(term, estimate, std_error, conf_low, conf_high, n=None, df=None) -> pl.DataFrame:
    """Build a contract ``tidy()`` frame; ``statistic`` and ``p_value`` are derived (normal,
    or Student t with ``df`` degrees of freedom).

    Parameters
    ----------
    term
        Row labels (e.g. ``"ATT"``, ``"e=2"``).
    estimate, std_error, conf_low, conf_high
        Scalars or sequences of the same length as ``term``.
    n
        Optional number of units (or pairs) behind each row.
    df
        Optional degrees of freedom of each row's t reference (scalar or sequence); ``None``
        for the normal.
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
        "p_value": np.atleast_1d(pvalue(est, se, None if df is None else col(df))),
        "conf_low": col(conf_low),
        "conf_high": col(conf_high),
    }
    if n is not None:
        cols["n"] = np.broadcast_to(np.asarray(n, dtype=np.int64), (k,))
    return pl.DataFrame(cols)


@dataclass(frozen=True)
class EffectSummary:
    """Headline estimates (``table``) and generated plain-language ``text`` about them."""

    table: pl.DataFrame
    text: str

    def __str__(self) -> str:
        from certkit.display import table

        return f"{self.text}\n\n{table(self.table, max_rows=None).to_text()}"

    def _repr_html_(self) -> str:
        from certkit.display import table

        body = table(self.table, max_rows=None).to_html()
        return f"<div class='certkit-effect'><p>{html.escape(self.text)}</p>{body}</div>"


def _fmt(x: float) -> str:
    return f"{x:.3g}"


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

        outcome = getattr(self, "outcome", None)  # TWFE's chart said only "treated_post"
        title = f"{self.title}: {outcome}" if isinstance(outcome, str) and outcome else self.title
        return charts.forest(
            self.plot_data(), y="term", lower="conf_low", upper="conf_high", title=title
        )

    def _headline_terms(self) -> list[str] | None:
        """Terms of the headline rows; None = every row."""
        return None

    def headline(self) -> pl.DataFrame:
        """The headline rows of :meth:`tidy` (e.g. the overall effect); all rows if none is."""
        tidy = self.tidy()
        terms = self._headline_terms()
        return tidy if terms is None else tidy.filter(pl.col("term").is_in(terms))

    _headline = headline

    def _oneline_facts(self) -> dict[str, object]:
        facts: dict[str, object] = {"terms": None}
        try:
            head = self.headline()
        except (NotImplementedError, AttributeError, KeyError, ValueError):
            return {}
        if head.height == 1:
            r = head.row(0, named=True)
            facts = {r["term"]: r["estimate"], "std error": r["std_error"]}
            if math.isfinite(r["conf_low"]) and math.isfinite(r["conf_high"]):
                facts["interval"] = f"{_fmt(r['conf_low'])} to {_fmt(r['conf_high'])}"
        else:
            facts = {"rows": self.tidy().height if head.height == 0 else head.height}
        return facts

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
        # the first letter only: "AI minus non-AI gap" read "Ai minus non-ai gap"
        what = what[:1].upper() + what[1:]
        sentences = [
            describe_effect(
                f"{what} ({r['term']})" if table.height > 1 else what,
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
