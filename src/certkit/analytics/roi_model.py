"""The ROI model: assumptions, their random draws, and the cost and benefit formulas.

:mod:`certkit.analytics.roi` (``certkit.roi``) simulates this model; the public names here
(:data:`UNITS`, :data:`DEFAULTS`, :func:`catalog_costs`, :func:`costs_from_data`) are
re-exported there.

Every assumption is a number (fixed), a ``(low, high)`` pair (uniform) or a
``(low, mode, high)`` triple (triangular). The defaults are deliberately round and documented in
``docs/analytics.md``: replace them with your organisation's figures.

Formulas, per certified engineer over ``horizon_months``:

* cost = exam_fee x attempts + training_cost + study_hours x hourly_cost
  + renewals x exam_fee x renewal_fee_share (renewals = certificate expiries inside the horizon);
* monthly benefit, summed over the effects given:

  - ``relative_throughput`` (0.10 = +10 % merged PRs): effect x prs_per_month x value_per_pr
  - ``prs_per_month`` (extra merged PRs per engineer-month): effect x value_per_pr
  - ``log_cycle_time`` (change in log hours): (1 - exp(effect)) x cycle_time_hours x
    prs_per_month x engineer_share_of_cycle_time x hourly_cost
  - ``cycle_time_hours`` (hours per PR): -effect x prs_per_month x engineer_share_of_cycle_time
    x hourly_cost
  - ``defects_per_pr``: -effect x prs_per_month x cost_per_defect
  - ``incidents_per_month`` (per engineer-month): -effect x cost_per_incident

* ROI = (benefit x horizon - cost) / cost; payback = cost / monthly benefit (months).
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
from scipy import optimize

from certkit.data.catalog import catalog as load_catalog
from certkit.errors import CertkitError
from certkit.stats.vcov import critical_value

UNITS = {
    "relative_throughput": "relative change in merged PRs per engineer-month (0.10 = +10%)",
    "prs_per_month": "extra merged PRs per engineer-month",
    "log_cycle_time": "change in log PR cycle time (-0.10 = about 10% faster)",
    "cycle_time_hours": "change in hours of PR cycle time per PR",
    "defects_per_pr": "change in defects per merged PR",
    "incidents_per_month": "change in incidents per engineer-month",
}

DEFAULTS: dict[str, float | tuple] = {
    "hourly_cost": (75.0, 100.0, 150.0),  # loaded cost of an engineer hour, USD
    "prs_per_month": 12.0,  # baseline merged PRs per engineer-month (LinearB median 12.4)
    "cycle_time_hours": 80.0,  # baseline PR cycle time, hours (LinearB median 83 h)
    "engineer_share_of_cycle_time": (0.05, 0.1, 0.2),  # cycle-time hours that are work, not wait
    "value_per_pr": (250.0, 500.0, 1000.0),  # value of one more merged PR, USD
    "cost_per_defect": (500.0, 1500.0, 3000.0),  # cost of a defect found after merge, USD
    "cost_per_incident": (2000.0, 10000.0, 30000.0),  # cost of a production incident, USD
    "exam_fee": 200.0,  # USD per attempt
    "attempts": 1.0,  # expected exam attempts per certification (1.25 = one in four retakes)
    "study_hours": (40.0, 70.0, 120.0),
    "training_cost": 0.0,  # courses, practice exams, USD per engineer
    "renewal_fee_share": 1.0,  # share of the exam fee paid to renew (1 = retake at full price)
    "validity_months": 36.0,
}

# ---------------------------------------------------------------------------------------------
# Assumptions
# ---------------------------------------------------------------------------------------------


def _central(spec) -> float:
    if isinstance(spec, (int, float)):
        return float(spec)
    if len(spec) == 2:
        return (spec[0] + spec[1]) / 2
    return float(spec[1])


def _bounds(spec) -> tuple[float, float]:
    if isinstance(spec, (int, float)):
        return float(spec), float(spec)
    return float(spec[0]), float(spec[-1])


def _check_spec(name: str, spec) -> None:
    if isinstance(spec, bool) or not (
        isinstance(spec, (int, float)) or (isinstance(spec, (tuple, list)) and len(spec) in (2, 3))
    ):
        raise CertkitError(
            f"assumption {name!r} must be a number, (low, high) or (low, mode, high); got {spec!r}"
        )
    vals = [spec] if isinstance(spec, (int, float)) else list(spec)
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in vals):
        raise CertkitError(f"assumption {name!r} must hold finite numbers; got {spec!r}")
    if vals != sorted(vals):
        raise CertkitError(f"assumption {name!r} must be ordered low <= (mode <=) high: {spec!r}")
    if name != "training_cost" and min(vals) < 0:
        raise CertkitError(f"assumption {name!r} must not be negative: {spec!r}")


def _draw(spec, rng: np.random.Generator, n: int) -> np.ndarray:
    if isinstance(spec, (int, float)):
        return np.full(n, float(spec))
    if len(spec) == 2:
        return rng.uniform(spec[0], spec[1], n)
    lo, mode, hi = (float(v) for v in spec)
    if hi == lo:
        return np.full(n, lo)
    return rng.triangular(lo, mode, hi, n)


def catalog_costs(
    certification: str, as_of: date | None = None, *, use_successor: bool = True
) -> tuple[dict, list[str]]:
    """Exam fee, study hours and validity for a catalog certification, with retirement notes.

    A certification retired on ``as_of`` cannot be taken any more: with ``use_successor`` its
    successor's figures are used instead (e.g. aws-mls-c01 -> aws-mla-c01), with a note.
    """
    from certkit.data.catalog import resolve

    cid = resolve(certification)
    if cid is None:
        raise CertkitError(f"certification {certification!r} is not in the catalog")
    cat = {r["id"]: r for r in load_catalog().to_dicts()}
    as_of = as_of or date.today()
    notes = []
    entry = cat[cid]
    retire = entry.get("retirement_date")
    if retire is not None and retire < as_of:
        succ = entry.get("successor")
        if use_successor and succ in cat:
            notes.append(
                f"{cid} retired on {retire} (last exam date); costs use its successor {succ}"
            )
            entry = cat[succ]
        else:
            notes.append(f"{cid} retired on {retire}: it can no longer be taken")
    elif retire is not None:
        notes.append(
            f"{cid} retires on {retire}: renewals after that go to "
            f"{entry.get('successor') or 'a successor exam'}"
        )
    hours = float(entry["study_hours_typical"])
    spec = {
        "exam_fee": float(entry["exam_fee_usd"]),
        "study_hours": (round(0.6 * hours, 1), hours, round(1.6 * hours, 1)),
        "validity_months": 12.0 * float(entry["validity_years"]),
    }
    return {"certification_id": entry["id"], **spec}, notes


def costs_from_data(certifications: pl.DataFrame) -> dict:
    """Exam fee and study-hour ranges (10th percentile, median, 90th) from observed records.

    ``certifications`` is ``Dataset.certifications`` (``cost_usd``, ``study_hours`` columns).
    A record without ``cost_usd`` counts at its certification's catalog exam fee (as
    docs/data-model.md says), when the catalog knows it; other missing values are ignored.
    """
    certs = certifications
    if "certification_id" in certs.columns:
        fees = load_catalog().select(
            pl.col("id").alias("certification_id"),
            pl.col("exam_fee_usd").cast(pl.Float64).alias("_fee"),
        )
        cost = pl.col("cost_usd").cast(pl.Float64) if "cost_usd" in certs.columns else None
        filled = pl.col("_fee") if cost is None else cost.fill_null(pl.col("_fee"))
        certs = certs.join(fees, on="certification_id", how="left").with_columns(
            filled.alias("cost_usd")
        )
    out = {}
    for col, key in (("cost_usd", "exam_fee"), ("study_hours", "study_hours")):
        if col not in certs.columns:
            continue
        v = certs[col].drop_nulls().cast(pl.Float64).to_numpy()
        if v.size:
            q = np.quantile(v, [0.1, 0.5, 0.9])
            out[key] = tuple(round(float(x), 2) for x in q) if q[0] < q[2] else float(q[1])
    if not out:
        raise CertkitError("certifications table has no cost_usd or study_hours values")
    return out


def _quantile(v: np.ndarray, q: float) -> float:
    """A quantile of simulation draws that may hold infinities (e.g. a payback never reached).

    Between two infinite draws numpy's interpolation gives NaN (with a warning): that
    quantile is infinite.
    """
    if np.isfinite(v).all():
        return float(np.quantile(v, q))
    with np.errstate(invalid="ignore"):
        x = float(np.quantile(v, q))
    return math.inf if math.isnan(x) else x


# ---------------------------------------------------------------------------------------------
# Simulation core
# ---------------------------------------------------------------------------------------------


#: The benefit assumptions each effect unit reads (see :func:`_monthly_benefit`); the cost
#: side (exam fee, attempts, training, study hours x hourly cost, renewals) is always used.
BENEFIT_ASSUMPTIONS = {
    "relative_throughput": {"prs_per_month", "value_per_pr"},
    "prs_per_month": {"value_per_pr"},
    "log_cycle_time": {
        "cycle_time_hours",
        "engineer_share_of_cycle_time",
        "hourly_cost",
        "prs_per_month",
    },
    "cycle_time_hours": {"engineer_share_of_cycle_time", "hourly_cost", "prs_per_month"},
    "defects_per_pr": {"prs_per_month", "cost_per_defect"},
    "incidents_per_month": {"cost_per_incident"},
}
COST_ASSUMPTIONS = {
    *("exam_fee", "attempts", "training_cost", "study_hours", "hourly_cost"),
    *("validity_months", "renewal_fee_share"),
}


def unused_assumptions(units: list[str], names: list[str]) -> list[str]:
    """The assumptions among ``names`` that no effect of these ``units`` and no cost reads
    (the ROI page said ``cycle_time_hours`` without valuing cycle time)."""
    used = set(COST_ASSUMPTIONS).union(*(BENEFIT_ASSUMPTIONS[u] for u in units))
    return [n for n in names if n not in used]


def _monthly_benefit(unit: str, eff, a: dict) -> np.ndarray:
    if unit == "relative_throughput":
        return eff * a["prs_per_month"] * a["value_per_pr"]
    if unit == "prs_per_month":
        return eff * a["value_per_pr"]
    share_cost = a["engineer_share_of_cycle_time"] * a["hourly_cost"] * a["prs_per_month"]
    if unit == "log_cycle_time":
        return (1 - np.exp(eff)) * a["cycle_time_hours"] * share_cost
    if unit == "cycle_time_hours":
        return -eff * share_cost
    if unit == "defects_per_pr":
        return -eff * a["prs_per_month"] * a["cost_per_defect"]
    if unit == "incidents_per_month":
        return -eff * a["cost_per_incident"]
    raise CertkitError(f"unknown unit {unit!r}")  # pragma: no cover - checked in Effect


def _cost(a: dict, horizon: float) -> np.ndarray:
    renewals = np.floor(np.maximum(horizon - 1e-9, 0) / np.maximum(a["validity_months"], 1e-9))
    return (
        a["exam_fee"] * a["attempts"]
        + a["training_cost"]
        + a["study_hours"] * a["hourly_cost"]
        + renewals * a["exam_fee"] * a["renewal_fee_share"]
    )


def _evaluate(effects, eff_values, a: dict, horizon: float):
    monthly = sum(_monthly_benefit(e.unit, v, a) for e, v in zip(effects, eff_values, strict=True))
    cost = _cost(a, horizon)
    benefit = monthly * horizon
    return monthly, benefit, cost


def central_assumptions(assumptions: dict) -> dict[str, float]:
    """Every assumption at its central value (the number, the midpoint or the mode)."""
    return {k: _central(v) for k, v in assumptions.items()}


def break_even_effect(effects, assumptions: dict, horizon: float) -> float:
    """Size of the first effect (in its unit) that makes the central ROI exactly 0."""
    a = central_assumptions(assumptions)
    others = [e.estimate for e in effects[1:]]

    def net(x):
        _, b, c = _evaluate(effects, [x, *others], a, horizon)
        return float(b - c)

    # net value is monotone in the effect: walk away from 0 until its sign flips
    with np.errstate(over="ignore", invalid="ignore"):
        f0 = net(0.0)
        up = 1.0 if net(1e-6) > f0 else -1.0
        side = up if f0 < 0 else -up
        step = 1e-3
        while step < 1e6 and np.sign(net(side * step)) == np.sign(f0):
            step *= 2
        x = side * step
        if f0 == 0:
            return 0.0
        if np.sign(net(x)) == np.sign(f0):
            return math.nan
        return float(optimize.brentq(net, min(0.0, x), max(0.0, x), xtol=1e-12))


def sensitivity_table(effects, assumptions: dict, horizon: float) -> pl.DataFrame:
    """ROI at the point estimate when one assumption moves to its low / high end.

    Every other assumption stays at its central value; rows are sorted by swing (a tornado
    table). Effects are moved to their 95% interval ends the same way.
    """
    central = central_assumptions(assumptions)
    est = [e.estimate for e in effects]

    def roi_at(a, effs):
        _, b, c = _evaluate(effects, effs, a, horizon)
        return float((b - c) / c)

    base = roi_at(central, est)
    rows = []
    for name, spec in assumptions.items():
        lo, hi = _bounds(spec)
        if lo == hi:
            continue
        r_lo = roi_at({**central, name: lo}, est)
        r_hi = roi_at({**central, name: hi}, est)
        rows.append({"assumption": name, "low": lo, "high": hi, "roi_low": r_lo, "roi_high": r_hi})
    for i, e in enumerate(effects):
        if e.se == 0:
            continue
        z = critical_value(0.95, e.df)
        lo, hi = e.estimate - z * e.se, e.estimate + z * e.se
        r = [roi_at(central, [*est[:i], x, *est[i + 1 :]]) for x in (lo, hi)]
        rows.append(
            {
                "assumption": f"effect: {e.name or e.unit}",
                "low": lo,
                "high": hi,
                "roi_low": r[0],
                "roi_high": r[1],
            }
        )
    schema = {k: pl.Float64 for k in ("low", "high", "roi_low", "roi_high")}
    df = pl.DataFrame(rows, schema={"assumption": pl.String, **schema})
    return df.with_columns(
        pl.lit(base).alias("roi_central"),
        (pl.col("roi_high") - pl.col("roi_low")).abs().alias("swing"),
    ).sort("swing", descending=True)
