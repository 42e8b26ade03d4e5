"""AI-assisted vs non-AI engineering outcomes: honest comparisons, adoption, trust, fix-first.

Every comparison here is *within author*: the same engineer's AI-assisted and non-AI pull
requests are compared, with PR size, repository and calendar month held fixed, and standard
errors clustered by author. The naive difference in means is shown next to it so the analyst
sees how much of the raw gap is selection (who uses AI, on what, and when).

Public functions
----------------
``pr_table(ds)``        one row per human PR with the columns the analytics use;
``compare(ds)``         naive vs within-author AI effect per outcome, and the certified interaction;
``adoption(ds)``        share of AI-assisted PRs by team (or platform/role/level) x period;
``adoption_overall(ds)`` the organisation-wide share per period (the adoption headline);
``trust_scores(ds)``    empirical-Bayes score of how safely each engineer's AI work lands;
``coaching_pairs(ds)``  coaches and teammates who would benefit (private use only);
``fix_first(ds)``       (team, repo) cells where AI work does measurably worse, BH-controlled.

Individual-level outputs (trust scores, coaching pairs) are for private conversations; results
aimed at shared reports aggregate to groups of at least ``k`` engineers (default 5).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from certkit.analytics.ai_prs import (
    AI_THRESHOLD,
    BAD_EVENTS,
    LOG_OUTCOMES,
    OUTCOMES,
    TableResult,
    _prs,
    pr_table,
)
from certkit.analytics.ai_quality import (
    CoachingPairs,
    FixFirst,
    TrustScores,
    coaching_pairs,
    fix_first,
    trust_scores,
)
from certkit.data.dataset import Dataset
from certkit.errors import CertkitError
from certkit.errors import warn_and_keep as _warn
from certkit.privacy import DEFAULT_K as MIN_GROUP  # smallest group shown when shared
from certkit.results import EstimateMixin, tidy_frame
from certkit.stats.fe import fe_ols
from certkit.stats.vcov import critical_value, pvalue

__all__ = [
    "AI_THRESHOLD",
    "BAD_EVENTS",
    "LOG_OUTCOMES",
    "MIN_GROUP",
    "OUTCOMES",
    "AIComparison",
    "AdoptionMap",
    "CoachingPairs",
    "FixFirst",
    "TrustScores",
    "adoption",
    "adoption_overall",
    "coaching_pairs",
    "compare",
    "fix_first",
    "pr_table",
    "trust_scores",
]


# ---------------------------------------------------------------------------------------------
# Result rows (the fits are certkit.stats.fe.fe_ols)
# ---------------------------------------------------------------------------------------------


def _z_row(est: float, se: float, level: float = 0.95) -> dict:
    z = critical_value(level)
    return {
        "estimate": est,
        "se": se,
        "ci_low": est - z * se,
        "ci_high": est + z * se,
        "p_value": pvalue(est, se),
    }


# ---------------------------------------------------------------------------------------------
# compare: naive vs within-author
# ---------------------------------------------------------------------------------------------


@dataclass(repr=False)
class AIComparison(EstimateMixin):
    """AI-assisted vs non-AI PR outcomes: naive, within-author adjusted and by certification.

    ``tidy()`` (the result contract): one row per outcome x comparison, ``term`` =
    ``"<outcome>: <comparison>"`` where ``comparison`` is ``naive`` (difference in means),
    ``adjusted`` (within author, size/repo/month held fixed) or ``certified_extra`` (how much
    larger the adjusted AI gap is for certified engineers); ``n`` is the number of PRs. The
    headline rows are the adjusted ones. ``to_polars()`` is the wider table (``outcome``,
    ``comparison``, baseline mean, ``relative`` = exp(estimate) - 1 for log outcomes, and the
    legacy ``se`` / ``ci_low`` / ``ci_high`` names, kept for one release).
    """

    table: pl.DataFrame
    fixed_effects: tuple[str, ...]
    n_prs: int
    n_authors: int
    warnings: list[str] = field(default_factory=list)
    title: str = "AI-assisted vs non-AI pull requests"
    level: float = 0.95

    def _header(self) -> dict[str, object]:
        return {
            "Compared within": "author (fixed effects: " + ", ".join(self.fixed_effects) + ")",
            "Adjusted for": "PR size (log lines) except for the size outcome",
            "Standard errors": "clustered by author",
            "PRs / authors": f"{self.n_prs:,} / {self.n_authors:,}",
        }

    def _oneline_facts(self) -> dict[str, object]:
        return {"outcomes": self.table["outcome"].n_unique(), "PRs": self.n_prs}

    def tidy(self) -> pl.DataFrame:
        """Contract rows: ``term, estimate, std_error, statistic, p_value, conf_low, conf_high, n``."""
        t = self.table
        terms = [f"{o}: {c}" for o, c in zip(t["outcome"], t["comparison"], strict=True)]
        return tidy_frame(terms, t["estimate"], t["se"], t["ci_low"], t["ci_high"], t["n_prs"])

    def plot_data(self) -> pl.DataFrame:
        """The tidy rows with ``outcome`` and ``comparison`` split out of ``term``."""
        return self.tidy().with_columns(
            self.table["outcome"].alias("outcome"), self.table["comparison"].alias("comparison")
        )

    def _headline_terms(self) -> list[str] | None:
        return [f"{o}: adjusted" for o in self.table["outcome"].unique(maintain_order=True)]

    def _outcome_label(self) -> str:
        return "AI minus non-AI gap"

    def effect(self, outcome: str, comparison: str = "adjusted") -> dict:
        """One row of the table as a dict (``estimate``, ``se``, ``ci_low`` ...)."""
        rows = self.table.filter(
            (pl.col("outcome") == outcome) & (pl.col("comparison") == comparison)
        )
        if rows.height == 0:
            raise CertkitError(f"no {comparison!r} row for outcome {outcome!r}")
        return rows.row(0, named=True)

    def plot(self):
        """Naive vs adjusted AI gap per outcome with their intervals (Altair, via charts)."""
        from certkit import charts

        data = self.plot_data().filter(pl.col("comparison") != "certified_extra")
        return charts.forest(
            data,
            y="comparison",
            lower="conf_low",
            upper="conf_high",
            facet="outcome",
            title="AI minus non-AI, naive and within author",
        )


DEFAULT_COMPARE = ("cycle_time_log", "pickup_time_log", "size_log", "reverted", "defect")
#: Fewest authors with both AI-assisted and other PRs for a comparison: its standard errors
#: are clustered by author, and with a handful of clusters they can be far too small (trial
#: L, Aider-AI/aider: 4 authors, one with 97% of the PRs, gave the revert-rate gap a 95% CI
#: of zero width and p < 0.001 on 22 reverts). Cameron & Miller (2015) warn below about 20-50
#: clusters; 10 is a floor, not a guarantee.
MIN_AUTHORS = 10


def compare(
    ds: Dataset | pl.DataFrame,
    outcomes: tuple[str, ...] | None = None,
    *,
    fixed_effects: tuple[str, ...] = ("author_id", "repo", "month"),
    by_certification: bool = True,
    min_ai_prs: int = 10,
    min_authors: int = MIN_AUTHORS,
) -> AIComparison:
    """Compare AI-assisted with non-AI PRs of the same authors.

    For each outcome ``y`` the adjusted estimate is the coefficient of ``ai`` in
    ``y ~ ai + size_log | author + repo + month`` (OLS; binary outcomes give a difference in
    rates); the naive one is ``y ~ ai`` on the same PRs. The certification split adds
    ``ai x certified`` (and ``certified``): ``certified_extra`` is how much the AI gap differs for
    PRs opened by certified engineers. All SEs are clustered by author.

    Parameters
    ----------
    ds
        A Dataset, or the output of :func:`pr_table`.
    outcomes
        Any of ``certkit.ai.OUTCOMES``; default :data:`DEFAULT_COMPARE`, plus ``rework`` when
        the PRs carry the git line ledger's columns.
    fixed_effects
        Columns of :func:`pr_table` absorbed as fixed effects.
    by_certification
        Also estimate the certified interaction.
    min_ai_prs
        An outcome is compared only with at least this many AI-assisted PRs and as many
        others (fastapi's history has 3 AI-assisted PRs: "461% more reverts" from them
        says nothing).
    min_authors
        An outcome is compared only on at least this many authors with both AI-assisted and
        other PRs (:data:`MIN_AUTHORS`): the standard errors are clustered by author. Lower
        it only knowing that the intervals may then be far too narrow.
    """
    prs = _prs(ds)
    if outcomes is None:
        has_rework = "rework" in prs.columns and prs["rework"].null_count() < prs.height
        outcomes = DEFAULT_COMPARE + (("rework",) if has_rework else ())
    bad = [o for o in outcomes if o not in OUTCOMES]
    if bad:
        raise CertkitError(f"unknown outcome(s) {bad}; choose from {sorted(OUTCOMES)}")
    missing = [c for c in fixed_effects if c not in prs.columns]
    if missing:
        raise CertkitError(f"fixed_effects {missing} are not columns of the PR table")
    notes: list[str] = []
    rows = []
    base = prs.filter(pl.col("ai").is_not_null())
    for outcome in outcomes:
        d = base.filter(pl.col(outcome).is_not_null())
        n_ai = int(d["ai"].sum())
        if min(n_ai, d.height - n_ai) < max(min_ai_prs, 1) or d.height < 20:
            _warn(
                f"{outcome}: not compared: {n_ai:,} AI-assisted and {d.height - n_ai:,} other "
                f"PRs with a value (at least {max(min_ai_prs, 1)} of each are needed)",
                notes,
            )
            continue
        if d[outcome].n_unique() < 2:
            # defect without a defects table is 0 on every PR: an estimate of 0 with no
            # uncertainty would read as "measured, no gap"; a git import records reverts, and
            # a history may have none (trial AF: "the data does not record it" was wrong)
            why = (
                "no PR with a known revert status was reverted"
                if outcome == "reverted" and d[outcome][0] == 0
                else f"it is {d[outcome][0]:g} on every PR (the data does not record it, e.g. "
                "defect or incident without that table)"
            )
            _warn(f"{outcome}: not compared: {why}", notes)
            continue
        # keep authors with both kinds of PR: only they identify the within-author gap
        both = d.group_by("author_id").agg(pl.col("ai").n_unique().alias("_k"))
        d = d.join(both.filter(pl.col("_k") == 2).select("author_id"), on="author_id")
        n_both = d["author_id"].n_unique()
        if d.height < 20 or n_both < min_authors:
            _warn(
                f"{outcome}: not compared: only {n_both:,} author(s) have both AI-assisted and "
                f"other PRs with a value (at least {min_authors} are needed: the standard errors "
                "are clustered by author, and with fewer they can be far too small)",
                notes,
            )
            continue
        y = d[outcome].to_numpy()
        ai = d["ai"].cast(pl.Float64).to_numpy()
        # integer codes (fast to group on) for the cluster and the fixed effects
        codes = d.select(
            pl.col(c).rank("dense").cast(pl.Int64) - 1 for c in {"author_id", *fixed_effects}
        )
        cluster = codes["author_id"].to_numpy()
        fes = [codes[c].to_numpy() for c in fixed_effects]
        cert = d["certified"].to_numpy()
        varies = bool(0 < cert.mean() < 1)
        # certification status changes over time within author: hold it fixed too
        controls = ([cert] if varies else []) + (
            [] if outcome == "size_log" else [d["size_log"].to_numpy()]
        )
        info = {
            "n_prs": d.height,
            "n_authors": d["author_id"].n_unique(),
            "n_certified_authors": d.filter(pl.col("certified") > 0)["author_id"].n_unique(),
        }
        try:
            naive = fe_ols(y, ai[:, None], ["ai"], [], cluster)
            adj = fe_ols(y, np.column_stack([ai, *controls]), ["ai"], fes, cluster)
        except CertkitError as exc:  # e.g. AI use does not vary within author x repo x month
            _warn(f"{outcome}: not compared ({exc})", notes)
            continue
        fits = [("naive", naive, 0), ("adjusted", adj, 0)]
        if by_certification and varies and (ai * cert).sum() > 0:
            try:
                inter = fe_ols(
                    y,
                    np.column_stack([ai, ai * cert, *controls]),
                    ["ai", "ai_x_cert"],
                    fes,
                    cluster,
                )
                fits.append(("certified_extra", inter, 1))
            except CertkitError as exc:
                _warn(f"{outcome}: no certified split ({exc})", notes)
        for name, fit, j in fits:
            rows.append(
                {
                    "outcome": outcome,
                    "comparison": name,
                    **_z_row(float(fit.coef[j]), float(fit.se()[j])),
                    **info,
                    "non_ai_mean": float(y[ai == 0].mean()),
                }
            )
    if not rows:
        reasons = list(dict.fromkeys(n.replace(": not compared: ", ": ") for n in notes))
        raise CertkitError(
            "no outcome had enough AI-assisted and other PRs to compare"
            + (f" ({'; '.join(reasons)})" if reasons else "")
        )
    share = pl.col("estimate") / pl.col("non_ai_mean")
    table = pl.DataFrame(rows).with_columns(
        pl.when(pl.col("outcome").is_in(list(LOG_OUTCOMES)))
        .then(pl.col("estimate").exp() - 1)
        # a rate cannot fall below 0: a gap below -100% of the non-AI rate (pydantic-ai:
        # -562% on a revert rate of 0.07%) has no relative reading; the words use points
        .otherwise(pl.when((share > -1) & share.is_finite()).then(share))
        .alias("relative")
    )
    # a rare event with too few in a group to compare (trial Y: "reverted ... relative ∞"
    # on 1 reverted AI PR of 30, where the report said "too few to compare"): said here too
    from certkit import narrative

    for outcome, gap in narrative.ai_events(base).items():
        counted = narrative.ai_event_words({**gap, "outcome": outcome})
        if outcome in set(table["outcome"]) and counted and counted[1]:
            notes.append(
                f"{outcome}: {counted[0]}: too few to compare (under "
                f"{narrative.AI_FEW_EXPECTED} expected in a group at the pooled rate); its rows "
                "are not evidence either way"
            )
    for o in table["outcome"].unique(maintain_order=True):
        nv = table.filter((pl.col("outcome") == o) & (pl.col("comparison") == "naive"))
        ad = table.filter((pl.col("outcome") == o) & (pl.col("comparison") == "adjusted"))
        if nv.height and ad.height:
            gap = nv["estimate"][0] - ad["estimate"][0]
            if abs(gap) > 2 * ad["se"][0]:
                notes.append(
                    f"{o}: the naive gap ({nv['estimate'][0]:+.3f}) differs from the within-author "
                    f"one ({ad['estimate'][0]:+.3f}): selection (who uses AI, on which PRs, when) "
                    "explains part of the raw difference; read the adjusted row"
                )
    return AIComparison(
        table=table,
        fixed_effects=tuple(fixed_effects),
        n_prs=base.height,
        n_authors=base["author_id"].n_unique(),
        warnings=notes,
    )


# ---------------------------------------------------------------------------------------------
# Adoption map
# ---------------------------------------------------------------------------------------------


@dataclass(repr=False, kw_only=True)
class AdoptionMap(TableResult):
    """Share of AI-assisted PRs by group x period, with counts; small groups suppressed."""

    by: str
    period: str
    k: int
    title: str = "AI adoption"

    def _header(self) -> dict[str, object]:
        n_sup = int(self.table["suppressed"].sum())
        return {
            "Group x period": f"{self.by} x {self.period}",
            "AI-assisted": f"ai_assisted >= {AI_THRESHOLD} (trailer detection is a lower bound)",
            "Suppressed cells": f"{n_sup} (fewer than {self.k} engineers)",
        }

    def plot(self):
        """Heatmap of the AI share (suppressed cells left blank), via charts."""
        from certkit import charts

        return charts.heatmap(
            self.table.with_columns(pl.col("period").cast(pl.String)),
            x="period",
            y=self.by,
            color="ai_share",
            color_title="AI share",
            title="Share of AI-assisted PRs",
        )


def adoption(
    ds: Dataset | pl.DataFrame, by: str = "team", period: str = "month", *, k: int = MIN_GROUP
) -> AdoptionMap:
    """AI-assisted share of PRs by ``by`` x ``period``.

    Parameters
    ----------
    by
        ``team``, ``platform``, ``role``, ``level`` or ``certified``.
    period
        ``month`` or ``quarter`` (of PR creation).
    k
        Cells with fewer than ``k`` distinct authors get a null share (``suppressed``).
    """
    prs = _prs(ds)
    if by not in ("team", "platform", "role", "level", "certified"):
        raise CertkitError(f"by must be team, platform, role, level or certified, not {by!r}")
    if period not in ("month", "quarter"):
        raise CertkitError(f"period must be 'month' or 'quarter', not {period!r}")
    table = _shares(_by_period(prs, period), [by], k).sort(by, "period")
    return AdoptionMap(table=table, by=by, period=period, k=k)


def adoption_overall(
    ds: Dataset | pl.DataFrame, period: str = "month", *, k: int = MIN_GROUP
) -> pl.DataFrame:
    """Organisation-wide AI-assisted share of PRs per period (the adoption headline's series).

    One row per ``period`` (``month`` or ``quarter`` of PR creation) with ``ai_share``,
    ``n_ai``, ``n_prs``, ``n_engineers`` (distinct authors) and ``suppressed``: a period with
    fewer than ``k`` authors gets null counts and share, so a shared report leaves it out
    instead of showing a few people's share. Unlike pooling the cells of :func:`adoption`
    that survive suppression, every PR of the period counts (a small team's cell never
    stands for the organisation). From a Dataset, ``partial`` marks a period that ends after
    the data do, or whose first week the data miss (:meth:`~certkit.Dataset.period` starts at
    the first merge, which trails the first PR by its cycle time): its share rests on part of
    the period's PRs (trial I, python-sdk: "to 12% (2026-08-01)" from 2 AI PRs of 17 in a
    month whose data end on the 20th, after months of 0-2%; trial K: "from 0% (2024-09-01)"
    on the 1 PR of a month whose first merge was on the 30th).
    """
    if period not in ("month", "quarter"):
        raise CertkitError(f"period must be 'month' or 'quarter', not {period!r}")
    out = _shares(_by_period(_prs(ds), period), [], k).sort("period")
    if isinstance(ds, Dataset) and ds.pull_requests.height:
        start, end = ds.period()
        step = "1mo" if period == "month" else "3mo"
        first_day = pl.col("period").cast(pl.Date)
        last_day = first_day.dt.offset_by(step).dt.offset_by("-1d")
        out = out.with_columns(
            ((first_day.dt.offset_by("6d") < pl.lit(start)) | (last_day > pl.lit(end))).alias(
                "partial"
            )
        )
    return out


def _by_period(prs: pl.DataFrame, period: str) -> pl.DataFrame:
    d = prs.filter(pl.col("ai").is_not_null())
    return d.with_columns(pl.col("month").dt.truncate("1q")) if period == "quarter" else d


def _shares(d: pl.DataFrame, keys: list[str], k: int) -> pl.DataFrame:
    """AI share, counts and authors per ``keys`` x period; cells under ``k`` authors nulled."""
    return (
        d.group_by(*keys, "month")
        .agg(
            pl.len().alias("n_prs"),
            pl.col("ai").sum().alias("n_ai"),
            pl.col("author_id").n_unique().alias("n_engineers"),
        )
        .rename({"month": "period"})
        .with_columns((pl.col("n_engineers") < k).alias("suppressed"))
        .with_columns(
            pl.when(pl.col("suppressed"))
            .then(None)
            .otherwise(pl.col("n_ai") / pl.col("n_prs"))
            .alias("ai_share"),
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("n_ai")).alias("n_ai"),
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("n_prs")).alias("n_prs"),
        )
        .select(*keys, "period", "ai_share", "n_ai", "n_prs", "n_engineers", "suppressed")
    )
