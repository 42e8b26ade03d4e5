"""The certkit chart theme and the plumbing every chart in :mod:`certkit.charts` shares.

The palette and sizes (:data:`PALETTE`, :data:`TREATED`, :data:`CONTROL`, :data:`WIDTH`,
:data:`HEIGHT`), the Altair theme and :func:`setup`, which enables it, and the helpers the
chart builders use: the column check that names a missing column, small multiples with their
own scale per panel, and whole-number axes for counts. Use them as ``certkit.charts.setup``,
``certkit.charts.TREATED``, ...: :mod:`certkit.charts` re-exports them.
"""

from __future__ import annotations

import polars as pl

from certkit.altair_import import alt
from certkit.errors import CertkitError
from certkit.renderers import activate

PALETTE = ["#1f5f8b", "#e07b39", "#3a9d5d", "#b8405e", "#7a5ba6", "#8c8c8c", "#c9a227"]
TREATED = "#1f5f8b"
CONTROL = "#8c8c8c"
WIDTH = 560
HEIGHT = 260


def _theme() -> dict:
    font = "Inter, Segoe UI, Helvetica, Arial, sans-serif"
    return {
        "config": {
            "view": {"continuousWidth": WIDTH, "continuousHeight": HEIGHT, "stroke": None},
            "font": font,
            "title": {"fontSize": 15, "anchor": "start", "fontWeight": 600, "offset": 10},
            "axis": {
                "labelFontSize": 12,
                "titleFontSize": 12,
                "titleFontWeight": 500,
                "gridColor": "#e8e8e8",
                "domainColor": "#888",
                "tickColor": "#888",
            },
            # Category names are never cut (the chart widens for them); discrete x labels that
            # would overlap are thinned out (continuous axes do that by default).
            "axisYDiscrete": {"labelLimit": 0},
            "axisXDiscrete": {"labelLimit": 0, "labelOverlap": "greedy"},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "top"},
            "range": {"category": PALETTE},
            "line": {"strokeWidth": 2},
            "point": {"size": 50, "filled": True},
        }
    }


def setup(renderer: str | None = None) -> None:
    """Enable the certkit theme and renderer (call once at the top of a notebook).

    A renderer or theme you enabled yourself is kept: certkit only replaces Altair's
    defaults. The renderer is, in order: ``renderer`` if given, the one you enabled, the
    ``CERTKIT_CHARTS`` environment variable (e.g. ``png`` for scheduled runs), and certkit's
    interactive renderer, which draws charts offline (see :func:`certkit.renderers.use`).
    Calling ``setup()`` again re-sends the chart library with the next interactive chart.

    Parameters
    ----------
    renderer
        Renderer to enable now, as in :func:`~certkit.charts.use`.
    """
    alt.theme.register("certkit", enable=False)(_theme)
    if alt.theme.active == "default":
        alt.theme.enable("certkit")
    activate(renderer)


def _check(df: pl.DataFrame, columns: list[str], chart: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise CertkitError(f"{chart} chart needs columns {missing}; the frame has {df.columns}")


def _panels(
    chart: alt.TopLevelMixin,
    facet: str,
    *,
    title: str,
    independent: str,
    data: pl.DataFrame | None = None,
    **size: int,
) -> alt.FacetChart:
    """``chart`` as small multiples: one panel per ``facet`` value, two a row, each with its
    own ``independent`` ("x" or "y") scale; ``size`` (width, height) is a panel's."""
    panel = chart.properties(**size) if size else chart
    more = {"data": data} if data is not None else {}
    return (
        panel.facet(facet=alt.Facet(f"{facet}:N", title=None), columns=2, **more)
        .resolve_scale(**{independent: "independent"})
        .properties(title=title)
    )


def time_axis() -> alt.Axis:
    """A date axis whose labels read on their own: ``Oct 2023`` on every tick (Vega's default
    mixes ``October`` and ``2023`` ticks, which sat 36 px apart and read "October2023",
    trial G), and labels closer than 12 px to the previous one left out."""
    return alt.Axis(format="%b %Y", labelOverlap="greedy", labelSeparation=12)


def _count_axis(df: pl.DataFrame, column: str) -> alt.Axis | alt.UndefinedType:
    """Whole-number ticks for a count column (no "0.5 engineers"); the default otherwise."""
    if df.schema[column].is_integer():
        return alt.Axis(tickMinStep=1, format="d")
    return alt.Undefined
