"""The panel contract: the columns :func:`certkit.build_panel` writes and the estimators read.

Every panel from :func:`certkit.build_panel` has one row per engineer and period, keyed by
:data:`UNIT` (``engineer_id``) and :data:`TIME` (``period_index``, 1..T), with the treatment
timing in :data:`GROUP` (``cohort``: the index of the period of the first certification,
0 = never certified). The estimators (:mod:`certkit.did`, :func:`certkit.matching.matched_did`)
take ``unit``, ``time`` and ``group`` (``cohort`` in matching) column names; left out (``None``),
they default to these, through :func:`panel_columns`::

    did.att_gt(panel, outcome="merged_prs")  # = unit="engineer_id", time="period_index",
                                              #   group="cohort"

Other panels (a year column, states instead of engineers) pass their own names, as before.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from certkit.errors import CertkitError

__all__ = ["UNIT", "TIME", "GROUP", "PANEL_COLUMNS", "PanelColumns", "panel_columns"]

#: The unit column: one engineer.
UNIT = "engineer_id"
#: The numeric period column (1..T); ``period`` holds the period's first day.
TIME = "period_index"
#: The first treated (certified) period, as a ``period_index``; 0 = never certified.
GROUP = "cohort"
#: Role -> default column name.
PANEL_COLUMNS = {"unit": UNIT, "time": TIME, "group": GROUP}


class PanelColumns(NamedTuple):
    """The unit, time and group column names of a long panel (see :func:`panel_columns`)."""

    unit: str
    time: str
    group: str


_WHAT = {
    "unit": "the unit (engineer) identifier",
    "time": "the numeric period (e.g. a period index or a year)",
    "group": "the first treated period, 0 for never treated",
}


def _column_names(data: Any) -> list[str] | None:
    """The column names of a polars / pandas frame (or LazyFrame), None for anything else."""
    schema = getattr(data, "collect_schema", None)
    if callable(schema) and not hasattr(data, "height"):  # a LazyFrame: no data read
        return list(schema().names())
    cols = getattr(data, "columns", None)
    return None if cols is None else [str(c) for c in cols]


def panel_columns(
    data: Any,
    unit: str | None = None,
    time: str | None = None,
    group: str | None = None,
    *,
    group_arg: str = "group",
) -> PanelColumns:
    """Resolve the unit, time and group column names of a long panel.

    A name given is returned unchanged (its checks stay with the estimator); ``None`` becomes
    the panel contract's column (:data:`UNIT`, :data:`TIME`, :data:`GROUP`), which ``data``
    must then have.

    Parameters
    ----------
    data
        The long panel (a polars or pandas frame). Anything without columns is passed over,
        so the estimator's own check reports it.
    unit, time, group
        Column names, or ``None`` for the panel contract's.
    group_arg
        The name of the caller's ``group`` argument, for the error message (``"cohort"`` in
        :func:`certkit.matching.matched_did`).

    Returns
    -------
    PanelColumns
        ``(unit, time, group)``, a named tuple (``._asdict()`` gives the keyword arguments).

    Raises
    ------
    CertkitError
        When a defaulted column is not in ``data``, naming the column and the argument to pass.
    """
    given = {"unit": unit, "time": time, "group": group}
    names = _column_names(data)
    out = []
    for role, col in given.items():
        if col is None:
            col = PANEL_COLUMNS[role]
            if names is not None and col not in names:
                arg = group_arg if role == "group" else role
                raise CertkitError(
                    f"data has no column {col!r}, the default {arg}= column of certkit panels "
                    f"(certkit.build_panel); pass {arg}='...' naming the column that holds "
                    f"{_WHAT[role]}; columns are {names[:30]}"
                )
        out.append(col)
    return PanelColumns(*out)
