""":func:`baseline_table`: one row per engineer, ready for :func:`certkit.matching.match`."""

from __future__ import annotations

import warnings

import polars as pl

from certkit.data.contract import panel_columns
from certkit.errors import CertkitError, CertkitWarning, require_columns, require_polars

ATTRIBUTES = ("team", "role", "level", "platform", "tenure_months")


def baseline_table(
    panel: pl.DataFrame,
    *,
    outcomes: list[str] | str = ("merged_prs",),
    attributes: list[str] | None = None,
    pre_periods: int = 6,
    certified_by: int | None = None,
    unit: str | None = None,
    time: str | None = None,
    cohort: str | None = None,
) -> pl.DataFrame:
    """One row per engineer: attributes and pre-certification outcome summaries.

    The rule (the same calendar window for certified engineers and their comparison peers):

    * a **certified** engineer (``cohort`` = g, 1 <= g, and g <= ``certified_by`` when given)
      is summarised over periods ``g - pre_periods .. g - 1`` (their own pre-certification
      window; nothing from the certification period on);
    * a **comparison** engineer (never certified, ``cohort`` = 0, or not yet certified by
      ``certified_by``) is summarised over the calendar window the certified engineers'
      windows cover together: from the earliest ``g - pre_periods`` to the latest ``g - 1``
      (cut at their own certification, if they certify later);
    * attributes are read in the last period of the engineer's window (the period before
      certification for certified engineers), so nothing measured after certification is
      matched on; ``tenure_months`` is then the tenure just before certification.

    Per outcome ``y`` the table has ``y_pre`` (mean over the window's periods, periods where
    ``y`` is null, e.g. a rate without PRs, skipped) and the table has ``pre_periods_observed``
    (periods in the window). Engineers with no observed period in their window, or no value of
    an outcome there, are left out with a warning (``match`` needs complete rows).

    Parameters
    ----------
    panel
        The engineer x period panel of :func:`certkit.build_panel` (never modified).
    outcomes
        Panel outcome columns to summarise (default ``merged_prs``).
    attributes
        Engineer attributes to carry (default those of the panel among ``team``, ``role``,
        ``level``, ``platform``, ``tenure_months``).
    pre_periods
        Length of the pre-certification window, in panel periods.
    certified_by
        Count only certifications up to this ``period_index`` as certified; engineers who
        certify later are not-yet-certified peers. Default: every certification in the panel.
    unit, time, cohort
        Panel column names.

    Returns
    -------
    polars.DataFrame
        ``unit``, ``certified`` (0/1), ``cohort``, ``window_start``, ``window_end``, the
        attributes, ``pre_periods_observed`` and ``<outcome>_pre`` per outcome; ready for
        ``match(table, treatment="certified", covariates=[..., "merged_prs_pre"])``.
    """
    table = "panel"
    require_polars(panel, "panel", "the engineer x period panel of certkit.build_panel")
    unit, time, cohort = panel_columns(panel, unit, time, cohort, group_arg="cohort")
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    if attributes is None:
        attributes = [a for a in ATTRIBUTES if a in panel.columns]
    attributes = list(attributes)
    require_columns(
        panel,
        {
            "unit": unit,
            "time": time,
            "cohort": cohort,
            **{f"outcomes[{i}]": c for i, c in enumerate(outcomes)},
            **{f"attributes[{i}]": c for i, c in enumerate(attributes)},
        },
        "panel",
    )
    if not isinstance(pre_periods, int) or pre_periods < 1:
        raise CertkitError(f"pre_periods must be a positive integer; got {pre_periods!r}")
    coh = pl.col(cohort).fill_null(0)
    is_cert = (coh > 0) if certified_by is None else ((coh > 0) & (coh <= certified_by))
    people = panel.select(unit, coh.alias(cohort), is_cert.alias("_cert")).unique(unit)
    certified = people.filter(pl.col("_cert"))
    if certified.height == 0:
        raise CertkitError(
            f"{table}.{cohort}: no certified engineer"
            + ("" if certified_by is None else f" certified by period {certified_by}")
        )
    lo = max(1, int(certified[cohort].min()) - pre_periods)
    hi = int(certified[cohort].max()) - 1
    windows = people.with_columns(
        pl.when(pl.col("_cert"))
        .then(pl.max_horizontal(pl.col(cohort) - pre_periods, pl.lit(1)))
        .otherwise(pl.lit(lo))
        .alias("window_start"),
        pl.when(pl.col("_cert"))
        .then(pl.col(cohort) - 1)
        .when(pl.col(cohort) > 0)  # not yet certified: stop before their own certification
        .then(pl.min_horizontal(pl.col(cohort) - 1, pl.lit(hi)))
        .otherwise(pl.lit(hi))
        .alias("window_end"),
    )
    rows = panel.select(unit, time, *outcomes, *attributes).join(
        windows.select(unit, "window_start", "window_end"), on=unit
    )
    rows = rows.filter(pl.col(time).is_between(pl.col("window_start"), pl.col("window_end")))
    summary = rows.group_by(unit).agg(
        pl.len().alias("pre_periods_observed"),
        *[pl.col(o).cast(pl.Float64).mean().alias(f"{o}_pre") for o in outcomes],
        *[pl.col(a).sort_by(time).last().alias(a) for a in attributes],
    )
    out = windows.join(summary, on=unit, how="left").with_columns(
        pl.col("_cert").cast(pl.Int8).alias("certified"),
        pl.col("pre_periods_observed").fill_null(0),
    )
    out = out.select(
        unit,
        "certified",
        cohort,
        "window_start",
        "window_end",
        *attributes,
        "pre_periods_observed",
        *[f"{o}_pre" for o in outcomes],
    ).sort(unit)
    missing = []
    none = out.filter(pl.col("pre_periods_observed") == 0)
    if none.height:
        missing.append(f"{none.height} without any period in their window")
    out = out.filter(pl.col("pre_periods_observed") > 0)
    for o in outcomes:
        n = out[f"{o}_pre"].null_count()
        if n:
            missing.append(f"{n} without a value of {o} there")
        out = out.filter(pl.col(f"{o}_pre").is_not_null())
    if missing:
        warnings.warn(
            "baseline_table left out engineers: "
            + "; ".join(missing)
            + f" (window: {pre_periods} period(s) before certification; peers periods "
            f"{lo}..{hi}).",
            CertkitWarning,
            stacklevel=2,
        )
    if out.filter(pl.col("certified") == 1).height == 0:
        raise CertkitError(
            "no certified engineer has pre-certification data in the panel; lower pre_periods "
            "or check the certification dates"
        )
    return out
