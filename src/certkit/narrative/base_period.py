"""Whether the period every post-certification effect is measured from was unusual.

R's ``did`` (and certkit's ``att_gt``, its default) measures each post-certification cell
from the period just before certifying (``e = -1``). When the certified engineers' outcome
there is clearly off their own earlier level, net of their colleagues, a clear effect may be
that period returning to normal: :func:`effect_caveat` says so (trial J, gnome-shell).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

__all__ = ["EARLIER", "base_shift", "base_shift_words"]


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


#: How many periods before the base period (``e = -2`` back to ``e = -1 - EARLIER``) give
#: each certified engineer's own earlier level in :func:`base_shift`.
EARLIER = 5


def base_shift(panel: pl.DataFrame, outcome: str) -> dict:
    """How far the certified engineers' outcome in the period just before certifying (the
    base period every post-certification effect is measured from, ``e = -1``) sits from their
    own earlier level (``e = -2 .. -6``), beyond what their not-yet-certified colleagues
    moved between the same periods; for engineers with both (empty with fewer than 2).

    Returns ``base_mean``, ``earlier_mean`` and one-sided p-values of a base period that
    low (``base_low_p``) or that high (``base_high_p``). A count outcome (an integer column:
    PRs, defects) is tested as a Poisson total against the engineers' earlier levels scaled
    by the colleagues' change (exact: a month of zeros is not unusual for one sparse
    contributor, it is for seven; quasi-Poisson when the engineers' counts vary more than a
    Poisson's); any other outcome by a paired t-test of the engineers' differences minus the
    colleagues' difference. With 3 or more engineers, each direction is tested without the
    engineer who pushes it most.

    gnome-shell, monthly (trial J): all 7 certified engineers had 0 PRs in the month before
    certifying (0.69 a month on average before), and "throughput about 93% higher" was that
    empty month coming back (quarterly: -1.02 PRs, no clear change).
    """
    need = {"cohort", "period_index", "engineer_id", outcome}
    if not need <= set(panel.columns):
        return {}
    y = pl.col(outcome).cast(pl.Float64)
    p = panel.filter(pl.col(outcome).is_not_null()).select(
        "engineer_id", "cohort", "period_index", y.alias("_y")
    )
    e = pl.col("period_index") - pl.col("cohort")
    per = (
        p.filter((pl.col("cohort") > 0) & e.is_between(-1 - EARLIER, -1))
        .group_by("engineer_id", "cohort")
        .agg(
            pl.col("_y").filter(e == -1).mean().alias("base"),
            pl.col("_y").filter(e < -1).mean().alias("earlier"),
        )
        .drop_nulls()
    )
    if per.height < 2:
        return {}
    # the not-yet-certified colleagues' level in the same periods, per cohort
    peers = {}
    for g in per["cohort"].unique().to_list():
        c = p.filter(
            ((pl.col("cohort") == 0) | (pl.col("cohort") > g))
            & pl.col("period_index").is_between(g - 1 - EARLIER, g - 1)
        )
        base = c.filter(pl.col("period_index") == g - 1)["_y"].mean()
        earlier = c.filter(pl.col("period_index") < g - 1)["_y"].mean()
        peers[g] = (base, earlier)
    cb = pl.Series([peers[g][0] for g in per["cohort"].to_list()], dtype=pl.Float64)
    ce = pl.Series([peers[g][1] for g in per["cohort"].to_list()], dtype=pl.Float64)
    per = per.with_columns(cb.alias("peer_base"), ce.alias("peer_earlier")).drop_nulls()
    if per.height < 2:
        return {}
    from scipy import stats

    if panel.schema[outcome].is_integer():
        ratio = pl.when(pl.col("peer_earlier") > 0).then(
            pl.col("peer_base") / pl.col("peer_earlier")
        )
        per = per.with_columns((pl.col("earlier") * ratio.fill_null(1.0)).alias("expected"))
        gap = (per["base"] - per["expected"]).to_numpy()

        def test(keep) -> tuple[float, float]:
            obs, exp = per["base"].to_numpy()[keep], per["expected"].to_numpy()[keep]
            expected, observed = float(exp.sum()), float(obs.sum())
            if expected <= 0:
                return 1.0, 1.0
            # engineers' counts vary more than a Poisson's (one ramps up, another winds down):
            # the quasi-Poisson dispersion widens the test when they do (trial X), the exact
            # Poisson test stands when they do not (trial J: seven months of zeros)
            # (Pearson's dispersion around the fitted common ratio observed / expected)
            fit = exp * (observed / expected)
            pos = fit > 0
            spread = ((obs[pos] - fit[pos]) ** 2 / fit[pos]).sum() / max(pos.sum() - 1, 1)
            if spread > 1:
                z = (observed - expected) / math.sqrt(spread * expected)
                return float(stats.norm.cdf(z)), float(stats.norm.sf(z))
            low = float(stats.poisson.cdf(observed, expected))
            return low, float(stats.poisson.sf(observed - 1, expected))
    else:
        gap = (
            per.select(
                pl.col("base") - pl.col("earlier") - (pl.col("peer_base") - pl.col("peer_earlier"))
            )
            .to_series()
            .to_numpy()
        )

        def test(keep) -> tuple[float, float]:
            return _one_sided(gap[keep]) if keep.sum() >= 2 else (1.0, 1.0)

    # a base period that is unusual only through one engineer is not the group's (trial X,
    # pydantic-ai: one new contributor's 26 PRs against 1.4 before made the pooled count
    # "well above" while most certified engineers were below their earlier level): each
    # direction is tested without the engineer who pushes it most
    low, high = test(np.ones(len(gap), dtype=bool))
    if len(gap) > 2:
        rank = np.arange(len(gap))
        low = test(rank != int(np.argmin(gap)))[0]
        high = test(rank != int(np.argmax(gap)))[1]
    return {
        "period_days": _period_days(panel),
        "base_mean": float(per["base"].mean()),
        "earlier_mean": float(per["earlier"].mean()),
        "base_low_p": low,
        "base_high_p": high,
    }


def _one_sided(d) -> tuple[float, float]:
    """One-sided p-values (mean below zero, mean above zero) of a one-sample t-test."""
    from scipy import stats

    m = float(d.mean())
    if d.std() <= 1e-12 * max(1.0, abs(m)):  # all alike (up to rounding): no spread to test
        if abs(m) <= 1e-12:
            return 1.0, 1.0
        return (0.0, 1.0) if m < 0 else (1.0, 0.0)
    t = stats.ttest_1samp(d, 0.0)
    low = float(t.pvalue / 2 if t.statistic < 0 else 1 - t.pvalue / 2)
    return low, 1 - low


def base_shift_words(row: dict, outcome_label: str, alpha: float = 0.05) -> str | None:
    """The caveat for an effect that the base period's dip (or spike) inflates: the
    certified engineers' level at ``e = -1`` clearly low (``base_low_p < alpha``) under a
    rise, or clearly high under a fall (:func:`base_shift`). None otherwise."""
    est, base, earlier = row.get("estimate"), row.get("base_mean"), row.get("earlier_mean")
    if not _finite(est, base, earlier) or est == 0:
        return None
    p = row.get("base_low_p") if est > 0 else row.get("base_high_p")
    if p is None or not p < alpha:
        return None
    where = "below" if est > 0 else "above"
    # no values: "0 on average" for 7 engineers tells each one's (trial K, shared report)
    remedy = remedy_words(row.get("period_days"), "averages it out")
    return (
        f"the certified engineers' {outcome_label} in the period just before certifying was "
        f"well {where} their own earlier level, net of their colleagues' change, and every "
        f"effect is measured from that period: part of it may be that period returning to "
        f"normal ({remedy})"
    )


def _period_days(panel: pl.DataFrame) -> int | None:
    """The panel's period in days, rounded to 7, 30 or 91 (week, month, quarter), from its
    ``period`` column (the period's first day); None when it cannot tell."""
    if "period" not in panel.columns:
        return None
    days = panel["period"].unique().sort().cast(pl.Date).diff().dt.total_days().drop_nulls()
    if days.is_empty():
        return None
    d = float(days.median())
    return min((7, 30, 91), key=lambda x: abs(x - d))


def remedy_words(period_days: int | None, what: str) -> str:
    """ "a longer period (-p period=quarter) {what}" for a monthly panel (weekly: month);
    for a quarterly one, ``anticipation=1``, which measures from the period before."""
    longer = {7: "-p period=month", 30: "-p period=quarter"}.get(period_days or 30)
    if longer:
        return f"a longer period ({longer}) {what}"
    return "certkit.did.att_gt(..., anticipation=1) measures from the period before it"


def no_base_period(panel: pl.DataFrame, outcome: str, label: str) -> str | None:
    """Why the staggered DiD has no post-certification effect when certified engineers have
    the outcome before and after certifying but none in the period just before (trial K,
    gnome-shell cycle time: all 7 had no PR that month, and the page said it "needs certified
    engineers with data both before and after"). None when some have it."""
    need = {"cohort", "period_index", "engineer_id", outcome}
    if not need <= set(panel.columns):
        return None
    certified = panel.filter((pl.col("cohort") > 0) & pl.col(outcome).is_not_null())
    at_base = certified.filter(pl.col("period_index") == pl.col("cohort") - 1)
    if at_base.height or certified.is_empty():
        return None
    before = certified.filter(pl.col("period_index") < pl.col("cohort") - 1)
    return (
        f"no certified engineer has {label} in the period just before certifying, the period "
        f"every post-certification effect is measured from ({before['engineer_id'].n_unique():,}"
        f" have it earlier); {remedy_words(_period_days(panel), 'may give them one')}"
    )
