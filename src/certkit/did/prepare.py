"""Input checks and the unit x period outcome matrix behind every group-time estimate."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import polars as pl

from certkit.errors import (
    CertkitError,
    CertkitWarning,
    check_outcome,
    require_columns,
)
from certkit.stats.fe import dense_codes


@dataclass
class Panel:
    """A long panel as arrays: units (rows, sorted by cohort) x periods (columns)."""

    units: np.ndarray  # unit ids (n,)
    times: np.ndarray  # sorted distinct periods (T,)
    G: np.ndarray  # first treated period per unit, 0 = never (n,)
    Y: np.ndarray  # outcome, units x periods, NaN where not observed
    X: np.ndarray | None  # covariates, p x units x periods
    w: np.ndarray  # unit weights, mean 1
    cluster: np.ndarray | None  # cluster code per unit (coarser than unit)
    covariates: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of units."""
        return len(self.units)


def need_columns(
    data: pl.DataFrame,
    cols: dict[str, str | None],
    name: str = "data",
    what: str = "a long panel",
) -> None:
    """Raise a clear error when ``data`` (argument ``name``, holding ``what``) is not a polars
    frame or lacks a named column (``cols``: argument -> column); see
    :func:`certkit.errors.require_columns`."""
    require_columns(data, cols, name, what)


def require_numeric(data: pl.DataFrame, col: str, role: str) -> None:
    """Raise a clear error when column ``col`` (playing ``role``) is not numeric."""
    if not data.schema[col].is_numeric():
        raise CertkitError(
            f"column {col!r} ({role}) must be numeric, got {data.schema[col]}; for certkit panels "
            "use time='period_index' and group='cohort'"
        )


def check_anticipation(anticipation: int) -> None:
    """Raise when ``anticipation`` (periods of anticipated treatment) is negative."""
    if anticipation < 0:
        raise CertkitError(f"anticipation must be >= 0 periods, got {anticipation}")


def no_nulls(df: pl.DataFrame, roles: list[tuple[str, str]]) -> None:
    """Raise naming the first ``(column, role)`` of ``roles`` that has null values."""
    for col, role in roles:
        nulls = df[col].null_count()
        if nulls:
            raise CertkitError(f"column {col!r} ({role}) has {nulls} null value(s)")


def unique_unit_periods(df: pl.DataFrame, unit: str, time: str, ui: np.ndarray, ti: np.ndarray):
    """Raise when a (unit, period) pair (codes ``ui``, ``ti``) appears more than once."""
    key = ui * (int(ti.max()) + 1) + ti
    counts = np.bincount(key)
    if counts.max() > 1:
        row = int(np.nonzero(counts[key] > 1)[0][0])
        raise CertkitError(
            f"data has {int((counts > 1).sum())} duplicated ({unit}, {time}) pair(s), e.g. unit "
            f"{df[unit][row]!r} at {time}={df[time][row]}: a panel needs one row per unit and period"
        )


def first_rows(ui: np.ndarray) -> np.ndarray:
    """Index of the first row of each unit code ``0 .. n-1`` (every code must occur)."""
    n = int(ui.max()) + 1
    first = np.empty(n, dtype=np.int64)
    first[ui[::-1]] = np.arange(ui.size - 1, -1, -1)
    return first


def per_unit(
    df: pl.DataFrame, col: str, role: str, unit: str, ui: np.ndarray, first: np.ndarray
) -> np.ndarray:
    """The value of ``col`` for each unit (codes for non-numeric columns).

    Raises when the column has nulls or varies within a unit (naming the unit).
    """
    no_nulls(df, [(col, role)])
    series = df[col]
    if not series.dtype.is_numeric():
        series = series.cast(pl.String).rank("dense")
    codes = series.to_numpy()
    v = codes[first]
    bad = codes != v[ui]
    if bad.any():
        row = int(np.nonzero(bad)[0][0])
        raise CertkitError(
            f"column {col!r} ({role}) must be constant within each unit, but it varies for "
            f"unit {df[unit][row]!r}"
        )
    return v


def treatment_timing(
    G: np.ndarray, times: np.ndarray, anticipation: int, group: str, n_of
) -> tuple[np.ndarray, list[str]]:
    """Check first-treatment periods ``G`` (0 = never) against the observed ``times``.

    Units first treated after the last period become never treated (with a note). Cohorts
    treated in or before the first period (plus anticipation) have no pre-period: callers
    drop them first with :func:`drop_treated_in_first_period`, as R's ``did`` does.
    ``n_of(mask)`` counts the units behind a mask of ``G`` (rows or units).
    """
    if np.any(G < 0):
        raise CertkitError(f"group column {group!r} has negative values; use 0 for never treated")
    notes: list[str] = []
    late = (times[-1] < G) & (G != 0)
    if late.any():
        notes.append(
            f"{n_of(late)} unit(s) first treated after the last period are used as never treated"
        )
        G = np.where(late, 0.0, G)
    return G, notes


def drop_treated_in_first_period(
    df: pl.DataFrame,
    unit_ids: pl.Series,
    G: np.ndarray,
    times: np.ndarray,
    anticipation: int,
    group: str,
) -> tuple[pl.DataFrame, str | None]:
    """Rows of ``df`` without the units already treated in the first period, and a note.

    R's ``did`` (``pre_process_did``) drops units whose first treatment is in or before the
    first period plus ``anticipation``, with the warning "Dropped N units that were already
    treated in the first period": they have no period before treatment to compare. certkit
    does the same (warning and note). ``unit_ids`` and ``G`` are one entry per unit.
    """
    early = (G > 0) & (times[0] + anticipation >= G)
    if not early.any():
        return df, None
    ahead = f" (accounting for anticipation = {anticipation})" if anticipation else ""
    msg = (
        f"dropped {int(early.sum())} unit(s) already treated in the first period "
        f"{times[0]:g}{ahead}: with no period before treatment they cannot be compared (as "
        "R's did drops them)"
    )
    warnings.warn(msg, CertkitWarning, stacklevel=4)
    unit = unit_ids.name
    return df.filter(~pl.col(unit).is_in(unit_ids.filter(pl.Series(early)).implode())), msg


class _Codes(NamedTuple):
    """A long panel's rows coded: unit and period codes, first rows, cohorts, usable rows."""

    u_all: np.ndarray  # unit code per row (units in sorted id order)
    n: int  # number of units
    first: np.ndarray  # first row of each unit
    G: np.ndarray  # first treated period per unit
    ok_row: np.ndarray  # rows with a usable outcome (and covariates)
    tr_all: np.ndarray  # period code per row
    times: np.ndarray  # the periods with a usable row, sorted
    t_pos: np.ndarray  # column of each period code among ``times``


def _coded(
    df: pl.DataFrame, unit: str, time: str, group: str, outcome: str, covariates: list[str]
) -> _Codes:
    """Code ``df`` for :func:`prepare_panel`; raises on duplicated unit-periods, a group that
    varies within a unit, or fewer than two periods with a usable outcome."""
    u_all = dense_codes(df[unit])
    first = first_rows(u_all)
    tr_all = dense_codes(df[time])
    unique_unit_periods(df, unit, time, u_all, tr_all)
    G = per_unit(df, group, "group", unit, u_all, first).astype(float)
    ok_row = ~np.isnan(df[outcome].cast(pl.Float64).to_numpy())  # nulls become NaN
    for c in covariates:
        ok_row &= df[c].is_not_null().to_numpy()
    code_time = np.empty(int(tr_all.max()) + 1)
    code_time[tr_all] = df[time].to_numpy().astype(float)
    present = np.bincount(tr_all[ok_row], minlength=len(code_time)) > 0
    times = code_time[present]
    if len(times) < 2:
        raise CertkitError(f"need at least 2 periods with a non-null outcome, found {len(times)}")
    t_pos = np.cumsum(present) - 1
    return _Codes(u_all, int(u_all.max()) + 1, first, G, ok_row, tr_all, times, t_pos)


def prepare_panel(
    data: pl.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    covariates: list[str] | None,
    weights: str | None,
    cluster: str | None,
    anticipation: int,
    unbalanced: str,
) -> Panel:
    """Check the long panel and build the :class:`Panel` arrays used by :func:`att_gt`."""
    covariates = list(covariates or [])
    need_columns(
        data,
        {"outcome": outcome, "unit": unit, "time": time, "group": group, "weights": weights}
        | {"cluster": cluster}
        | {f"covariate {c}": c for c in covariates},
    )
    for col, role in [(outcome, "outcome"), (time, "time"), (group, "group")] + [
        (c, "covariate") for c in covariates
    ]:
        require_numeric(data, col, role)
    if unbalanced not in ("pairwise", "balance"):
        raise CertkitError(f"unbalanced must be 'pairwise' or 'balance', got {unbalanced!r}")
    check_anticipation(anticipation)
    notes: list[str] = []
    cols = [unit, time, group, outcome, *covariates] + [c for c in (weights, cluster) if c]
    df = data.select(list(dict.fromkeys(cols)))
    if df.height == 0:
        raise CertkitError("data has no rows")
    no_nulls(df, [(unit, "unit"), (time, "time"), (group, "group")])
    check_outcome(df[outcome], outcome)

    c = _coded(df, unit, time, group, outcome, covariates)
    while True:  # as R's did: units treated in the first period have no pre-period
        kept, dropped = drop_treated_in_first_period(
            df, df[unit].gather(c.first), c.G, c.times, anticipation, group
        )
        if not dropped:
            break
        if kept.height == 0:
            raise CertkitError(f"every unit is {dropped.removeprefix('dropped ')}")
        notes.append(dropped)
        df, c = kept, _coded(kept, unit, time, group, outcome, covariates)
    u_all, n, first, G, ok_row, tr_all, times, t_pos = c
    T = len(times)
    # units first treated after the last period are never treated within the window
    G, timing_notes = treatment_timing(G, times, anticipation, group, lambda m: int(m.sum()))
    notes += timing_notes
    if weights:
        w = per_unit(df, weights, "weights", unit, u_all, first).astype(float)
        if np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise CertkitError(f"weights column {weights!r} must be finite, >= 0 and not all 0")
    else:
        w = np.ones(n)
    cl = per_unit(df, cluster, "cluster", unit, u_all, first) if cluster else None

    # rows of the outcome matrix are ordered by group, so each cohort is a contiguous block
    order = np.argsort(G, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    uid = df[unit].gather(first[order]).to_numpy()
    G, w = G[order], w[order]
    cl = None if cl is None else np.unique(cl[order], return_inverse=True)[1].astype(np.int64)
    u_idx = rank[u_all[ok_row]]
    t_idx = t_pos[tr_all[ok_row]]
    Y = np.full((n, T), np.nan)
    Y[u_idx, t_idx] = df[outcome].to_numpy()[ok_row].astype(float)
    X = None
    if covariates:
        X = np.full((len(covariates), n, T), np.nan)
        for j, c in enumerate(covariates):
            X[j, u_idx, t_idx] = df[c].filter(pl.Series(ok_row)).to_numpy().astype(float)

    observed = ~np.isnan(Y)
    if not observed.all():
        if unbalanced == "balance":
            keep = observed.all(axis=1)
            msg = (
                f"the panel is unbalanced: {int((~keep).sum())} of {n} units are not observed in "
                "every period and were dropped (unbalanced='balance')"
            )
            warnings.warn(msg, CertkitWarning, stacklevel=3)
            notes.append(msg)
            if not keep.any():
                raise CertkitError("no unit is observed in every period; use unbalanced='pairwise'")
            uid, G, Y, w = uid[keep], G[keep], Y[keep], w[keep]
            X = None if X is None else X[:, keep]
            cl = None if cl is None else np.unique(cl[keep], return_inverse=True)[1]
        else:
            notes.append(
                f"unbalanced panel: {int((~observed).sum())} unit-periods missing; each ATT(g,t) "
                "uses the units observed in both of its periods"
            )
    return Panel(
        units=uid,
        times=times,
        G=G,
        Y=Y,
        X=X,
        w=w / w.mean(),
        cluster=cl,
        covariates=covariates,
        notes=notes,
    )


def no_treated_units(data: pl.DataFrame, outcome: str, unit: str, group: str) -> CertkitError:
    """The error for a panel left with no treated unit: the group column names none, or the
    treated units have no value of ``outcome`` (httpx, trial F: ten certified engineers, cycle
    time missing for 97% of PRs, and the message blamed the certifications)."""
    treated = data.filter(pl.col(group).fill_null(0) > 0)
    n = treated[unit].n_unique() if treated.height else 0
    if n == 0:
        return CertkitError(f"no treated units: every value of {group!r} is 0 (never treated)")
    valued = treated.filter(pl.col(outcome).is_not_null())[unit].n_unique()
    if valued == 0:
        return CertkitError(
            f"no treated unit has a value of {outcome!r}: the {n} unit(s) with {group} > 0 have "
            f"it missing in every period ({_DURATIONS_WHY})"
        )
    missing = treated[outcome].null_count() / treated.height
    # trial Y: docs/did.md's cycle-time example on a git import of squash-merged PRs ended
    # here, and the words named neither the cause nor the remedy
    why = (
        f"; {outcome!r} is missing in {missing:.0%} of their periods ({_DURATIONS_WHY})"
        if outcome.startswith(("cycle_time", "pickup_time")) and missing >= 0.5
        else ""
    )
    return CertkitError(
        f"no treated units left: the {valued} unit(s) with {group} > 0 and a value of "
        f"{outcome!r} have none before or after their treatment period (or were dropped as "
        f"treated in the first period){why}"
    )


#: Why cycle and pickup times go missing on git imports, and what supplies them.
_DURATIONS_WHY = (
    "for cycle and pickup times: squash-merged PRs have no creation date git can tell; a gh "
    "export supplies them for GitHub PRs, DevLake's GitLab plugin for GitLab merge requests"
)


def whole(x: np.ndarray) -> np.ndarray:
    """Periods and cohorts print as integers when they are whole numbers."""
    x = np.asarray(x, dtype=float)
    return x.astype(np.int64) if x.size and np.all(x == np.round(x)) else x
