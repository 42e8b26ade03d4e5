"""Where AI-assisted work lands safely: trust scores, coaching pairs and the fix-first backlog.

Individual-level outputs (trust scores, coaching pairs) are for private conversations; results
aimed at shared reports aggregate to groups of at least ``k`` engineers (default 5). Reached as
``certkit.ai.trust_scores``, ``certkit.ai.coaching_pairs`` and ``certkit.ai.fix_first``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import stats

from certkit.analytics.ai_prs import BAD_EVENTS, TableResult, _prs, pr_table
from certkit.data.dataset import Dataset
from certkit.errors import CertkitError
from certkit.privacy import DEFAULT_K as MIN_GROUP  # smallest group shown when shared
from certkit.results import ResultMixin
from certkit.stats.multiple import benjamini_hochberg, mantel_haenszel_rr
from certkit.stats.vcov import critical_value

# ---------------------------------------------------------------------------------------------
# Trust score (empirical Bayes)
# ---------------------------------------------------------------------------------------------


#: Bad events (observed or expected) a team's risk ratio needs before it is shown.
MIN_TEAM_EVENTS = 5


@dataclass(repr=False, kw_only=True)
class TrustScores(TableResult):
    """Per-engineer trust scores for AI-assisted work (individual level: private use only)."""

    outcome: str
    org_ai_multiplier: float
    prior_variance: float
    title: str = "AI trust scores (individual level: not for shared reports)"

    def _header(self) -> dict[str, object]:
        return {
            "Bad event": self.outcome,
            "Org AI multiplier": f"{self.org_ai_multiplier:.3f} (AI vs own non-AI baseline)",
            "Prior variance of risk ratio": f"{self.prior_variance:.4f}",
            "Engineers scored": self.table.height,
        }

    def by_team(self, k: int = MIN_GROUP, min_events: float = MIN_TEAM_EVENTS) -> pl.DataFrame:
        """Team summary safe to share: teams with at least ``k`` scored engineers.

        ``team_risk_ratio`` (observed / expected bad AI-assisted PRs) and
        ``median_trust_score`` are null where both counts are under ``min_events``: one reverted PR against 0.46 expected read as a team
        "2.16 times" riskier (trial X, pydantic-ai), under a page that called the same
        counts too few to compare."""
        few = (pl.col("observed") < min_events) & (pl.col("expected") < min_events)
        return (
            self.table.group_by("team")
            .agg(
                pl.len().alias("n_engineers"),
                pl.col("ai_prs").sum(),
                pl.col("observed").sum(),
                pl.col("expected_own").sum(),
                pl.col("expected").sum(),
                pl.col("trust_score").median().alias("median_trust_score"),
            )
            .filter(pl.col("n_engineers") >= k)
            .with_columns(
                pl.when(few)
                .then(None)
                .otherwise(pl.col("observed") / pl.col("expected"))
                .alias("team_risk_ratio"),
                # the median score too (trial Z: 31.7 beside the others' 95.2 on one revert)
                pl.when(few)
                .then(None)
                .otherwise(pl.col("median_trust_score"))
                .alias("median_trust_score"),
            )
            .sort(["team_risk_ratio", "team"], descending=[True, False], nulls_last=True)
        )

    def plot(self):
        """Posterior risk ratio with its interval per engineer, by AI volume (via charts)."""
        from certkit import charts

        return charts.risk_ratios(
            self.table,
            tooltip=["engineer_id", "team", "risk_ratio", "ci_low", "ci_high", "ai_prs"],
        )


def _require_events(d: pl.DataFrame, outcome: str, what: str) -> None:
    """Refuse to score when no merged PR has the bad event at all: every score would read
    "as expected" (pydantic-ai, no defects table: every team's trust score 95.2, observed 0,
    expected 0)."""
    if d.height and not d[outcome].cast(pl.Boolean).any():
        words = {"bad": "reverted or linked to a defect", "reverted": "reverted"}
        raise CertkitError(
            f"no merged PR is {words.get(outcome, f'linked to a {outcome}')} in this data, so "
            f"{what} have nothing to compare (without a defects or incidents table, only "
            "reverts count as a bad event)"
        )


def trust_scores(
    ds: Dataset | pl.DataFrame,
    outcome: str = "bad",
    *,
    min_ai_prs: int = 5,
    baseline_prior_prs: float = 20.0,
    level: float = 0.95,
) -> TrustScores:
    r"""Empirical-Bayes trust score of each engineer's AI-assisted work.

    Formula (all on merged PRs; ``outcome`` is the bad event, default reverted or defect):

    1. Own baseline: ``p0_i = (c_i + a * p_team) / (m_i + a)``, the engineer's non-AI bad rate
       (``c_i`` events in ``m_i`` non-AI PRs) shrunk toward the team's non-AI rate with
       ``a = baseline_prior_prs`` pseudo-PRs.
    2. Expected AI events: ``expected_own = n_i * p0_i`` for ``n_i`` AI PRs (at the
       engineer's own other PRs' rate) and ``expected = E_i = n_i * p0_i * M``, where
       ``M = sum(O) / sum(n * p0)`` is the organisation-wide AI multiplier, so a typical
       engineer has ratio 1 and ``expected`` totals the observed count. ``O_i`` is the
       observed number of bad AI PRs. With no bad AI PR at all (``O`` all 0) there is
       nothing to rank: a :class:`~certkit.errors.CertkitError` says so.
    3. Shrinkage (Poisson-gamma, Clayton & Kaldor 1987): the risk ratio ``theta_i`` has a
       gamma prior with mean ``mu_team = sum_team(O) / sum_team(E)`` and variance ``tau2``
       estimated by the method of moments over all engineers,
       ``tau2 = max(sum E (R - mu)^2 / sum E - mean(mu) / mean(E), 1e-4)`` with ``R = O/E``.
       The posterior is ``Gamma(alpha + O_i, beta + E_i)`` with ``alpha = mu^2/tau2`` and
       ``beta = mu/tau2``: engineers with few AI PRs stay near their team's ratio.
    4. ``risk_ratio`` = posterior mean, ``ci_low``/``ci_high`` = posterior interval,
       ``p_riskier`` = P(theta > 1), and ``trust_score = 100 / (1 + risk_ratio)``
       (50 = as expected; higher = safer).

    Individual-level result: use it for private coaching, and ``.by_team()`` for sharing.
    """
    prs = _prs(ds)
    if outcome not in BAD_EVENTS:
        raise CertkitError(f"outcome must be one of {sorted(BAD_EVENTS)}, not {outcome!r}")
    notes: list[str] = []
    d = prs.filter(pl.col("merged") & pl.col("ai").is_not_null() & pl.col(outcome).is_not_null())
    team_base = d.filter(~pl.col("ai")).group_by("team").agg(pl.col(outcome).mean().alias("_pt"))
    eng = (
        d.group_by("author_id", "team", "platform")
        .agg(
            pl.col("ai").sum().alias("ai_prs"),
            (~pl.col("ai")).sum().alias("non_ai_prs"),
            pl.col(outcome).filter(pl.col("ai")).sum().alias("observed"),
            pl.col(outcome).filter(~pl.col("ai")).sum().alias("_c"),
        )
        .join(team_base, on="team", how="left")
        .with_columns(pl.col("_pt").fill_null(d[outcome].mean()))
        .filter(pl.col("ai_prs") >= min_ai_prs)
        .with_columns(
            (
                (pl.col("_c") + baseline_prior_prs * pl.col("_pt"))
                / (pl.col("non_ai_prs") + baseline_prior_prs)
            ).alias("baseline_rate")
        )
    )
    if eng.height < 2:
        raise CertkitError(
            f"trust scores compare engineers with each other, and only {eng.height} engineer"
            f"{'s have' if eng.height != 1 else ' has'} {min_ai_prs} or more AI-assisted merged "
            f"PRs (at least 2 are needed; lower min_ai_prs to include engineers with fewer)"
        )
    _require_events(d, outcome, "trust scores")
    raw_e = eng["ai_prs"].to_numpy() * eng["baseline_rate"].to_numpy()
    obs = eng["observed"].to_numpy().astype(float)
    if obs.sum() == 0:  # trial AE: M = 0, every expected 0 and every score 95.2
        words = {"bad": "went bad (reverted or linked to a defect)", "reverted": "was reverted"}
        # no PR count: a shared report turns "the 3 engineers" into "fewer than 5", and the
        # PRs of that group would stay (trial AH: "22 AI-assisted merged PRs of the fewer
        # than 5 engineers")
        raise CertkitError(
            f"none of the AI-assisted merged PRs of the {eng.height} engineers with "
            f"{min_ai_prs} or more {words.get(outcome, f'was linked to a {outcome}')}, against "
            f"{raw_e.sum():.1f} expected from each engineer's own other PRs: trust scores "
            "rank engineers by their share of the bad AI-assisted PRs, and there are none "
            "to share"
        )
    mult = obs.sum() / raw_e.sum() if raw_e.sum() > 0 else 1.0
    expected = np.maximum(raw_e * mult, 1e-9)
    eng = eng.with_columns(pl.Series("expected_own", raw_e), pl.Series("expected", expected))
    teams = eng.group_by("team").agg(
        (pl.col("observed").sum() / pl.col("expected").sum()).alias("team_ratio")
    )
    eng = eng.join(teams, on="team", how="left")
    mu = np.maximum(eng["team_ratio"].to_numpy(), 0.05)
    ratio = obs / expected
    s2 = np.sum(expected * (ratio - mu) ** 2) / expected.sum()
    tau2 = max(s2 - mu.mean() / expected.mean(), 1e-4)
    alpha = mu**2 / tau2 + obs
    beta = mu / tau2 + expected
    post = alpha / beta
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    table = (
        eng.with_columns(
            pl.Series("raw_ratio", ratio),
            pl.Series("risk_ratio", post),
            pl.Series("ci_low", stats.gamma.ppf(lo, alpha, scale=1 / beta)),
            pl.Series("ci_high", stats.gamma.ppf(hi, alpha, scale=1 / beta)),
            pl.Series("p_riskier", stats.gamma.sf(1.0, alpha, scale=1 / beta)),
            pl.Series("trust_score", 100 / (1 + post)),
        )
        .rename({"author_id": "engineer_id"})
        .select(
            "engineer_id",
            "team",
            "platform",
            "ai_prs",
            "non_ai_prs",
            "observed",
            "expected_own",
            "expected",
            "raw_ratio",
            "team_ratio",
            "risk_ratio",
            "ci_low",
            "ci_high",
            "p_riskier",
            "trust_score",
        )
        .sort(["trust_score", "engineer_id"])  # ties in id order: the same on every run
    )
    notes.append(
        "Individual-level scores: for private coaching conversations only. Share .by_team() "
        f"(teams of {MIN_GROUP}+ engineers) instead."
    )
    return TrustScores(
        table=table,
        outcome=outcome,
        org_ai_multiplier=float(mult),
        prior_variance=float(tau2),
        warnings=notes,
    )


# ---------------------------------------------------------------------------------------------
# Coaching pairs
# ---------------------------------------------------------------------------------------------


@dataclass(repr=False)
class CoachingPairs(ResultMixin):
    """Suggested coach -> learner pairs on the same platform (private use only)."""

    table: pl.DataFrame
    warnings: list[str] = field(default_factory=list)
    title: str = "Coaching pairs (individual level: not for shared reports)"

    def _header(self) -> dict[str, object]:
        return {
            "Pairs": self.table.height,
            "Certified coaches": int(self.table["coach_certified"].sum())
            if self.table.height
            else 0,
        }


def coaching_pairs(
    ds: Dataset,
    *,
    individuals: bool = False,
    min_prs: int = 40,
    min_ai_prs: int = 10,
    max_learners_per_coach: int = 2,
) -> CoachingPairs:
    """Pair engineers whose AI work lands safely and fast with same-platform teammates.

    Coaches: at least ``min_prs`` merged PRs and ``min_ai_prs`` AI-assisted ones, trust
    ``p_riskier < 0.2`` and a median log cycle time at or below their team's. Learners: enough
    data too, and either ``p_riskier > 0.8`` (AI work lands worse than expected) or an AI share
    below half their team's. Each learner gets the best coach on the same platform, same team
    first, certified coaches preferred (``coach_certified`` highlights them).

    Individual-level output: pass ``individuals=True`` to confirm it is for private use.
    """
    if not individuals:
        raise CertkitError(
            "coaching_pairs lists individuals; pass individuals=True to confirm the result is for "
            "private coaching conversations and will not go into shared reports"
        )
    prs = pr_table(ds)
    trust = trust_scores(prs, min_ai_prs=min_ai_prs).table
    per = (
        prs.filter(pl.col("merged") & pl.col("ai").is_not_null())
        .group_by("author_id")
        .agg(
            pl.len().alias("prs"),
            pl.col("ai").mean().alias("ai_share"),
            pl.col("cycle_time_log").median().alias("ct"),
            pl.col("certified").max().alias("certified"),
        )
        .join(prs.select("author_id", "team", "platform").unique("author_id"), on="author_id")
        .with_columns(
            pl.col("ct").median().over("team").alias("team_ct"),
            pl.col("ai_share").median().over("team").alias("team_ai"),
        )
        .join(
            trust.select(pl.col("engineer_id").alias("author_id"), "p_riskier", "trust_score"),
            on="author_id",
            how="left",
        )
        .filter(pl.col("prs") >= min_prs)
    )
    coaches = per.filter((pl.col("p_riskier") < 0.2) & (pl.col("ct") <= pl.col("team_ct"))).sort(
        ["certified", "trust_score", "author_id"], descending=[True, True, False]
    )  # ties in id order: the pairs are the same on every run
    learners = per.filter(
        (pl.col("p_riskier") > 0.8) | (pl.col("ai_share") < 0.5 * pl.col("team_ai"))
    ).sort(["p_riskier", "author_id"], descending=[True, False], nulls_last=True)
    load: dict[str, int] = {}
    rows = []
    coach_rows = coaches.to_dicts()
    for ln in learners.to_dicts():
        cands = [
            c
            for c in coach_rows
            if c["platform"] == ln["platform"]
            and c["author_id"] != ln["author_id"]
            and load.get(c["author_id"], 0) < max_learners_per_coach
        ]
        if not cands:
            continue
        cands.sort(key=lambda c: (c["team"] != ln["team"], -c["certified"], -c["trust_score"]))
        c = cands[0]
        load[c["author_id"]] = load.get(c["author_id"], 0) + 1
        reason = (
            "AI work lands worse than expected"
            if (ln["p_riskier"] or 0) > 0.8
            else ("uses AI much less than teammates")
        )
        rows.append(
            {
                "coach_id": c["author_id"],
                "coach_certified": bool(c["certified"]),
                "coach_trust_score": c["trust_score"],
                "learner_id": ln["author_id"],
                "learner_trust_score": ln["trust_score"],
                "platform": ln["platform"],
                "same_team": c["team"] == ln["team"],
                "reason": reason,
            }
        )
    schema = {
        "coach_id": pl.String,
        "coach_certified": pl.Boolean,
        "coach_trust_score": pl.Float64,
        "learner_id": pl.String,
        "learner_trust_score": pl.Float64,
        "platform": pl.String,
        "same_team": pl.Boolean,
        "reason": pl.String,
    }
    return CoachingPairs(
        pl.DataFrame(rows, schema=schema),
        ["Individual-level: for private coaching conversations only."],
    )


# ---------------------------------------------------------------------------------------------
# Fix-first backlog
# ---------------------------------------------------------------------------------------------


@dataclass(repr=False)
class FixFirst(ResultMixin):
    """Ranked (team, repo) cells where AI-assisted work does measurably worse."""

    table: pl.DataFrame
    outcome: str
    against: str
    reference_rr: float
    fdr: float
    warnings: list[str] = field(default_factory=list)
    title: str = "Fix-first backlog: where AI-assisted work does worse"

    def flagged(self) -> pl.DataFrame:
        """Cells significant after Benjamini-Hochberg at the chosen FDR, in rank order."""
        return self.table.filter(pl.col("flagged"))

    def _header(self) -> dict[str, object]:
        return {
            "Bad event": self.outcome,
            "Null hypothesis": f"AI/non-AI risk ratio <= {self.reference_rr:.3f} ({self.against})",
            "Within-cell comparison": "Mantel-Haenszel over authors (same author's AI vs non-AI)",
            "Multiple testing": f"Benjamini-Hochberg, FDR {self.fdr}",
            "Flagged cells": int(self.table["flagged"].sum()),
        }

    def plot(self):
        """Excess bad PRs per cell, flagged cells highlighted (via charts)."""
        from certkit import charts

        data = self.table.head(30).with_columns(
            (pl.col("team") + " | " + pl.col("repo")).alias("cell")
        )
        return charts.bars(
            data,
            x="excess_bad_prs",
            y="cell",
            color="flagged",
            title="Fix-first backlog",
            x_title="Excess bad AI-assisted PRs",
            tooltip=["team", "repo", "risk_ratio", "q_value", "ai_prs", "excess_bad_prs"],
        )


def fix_first(
    ds: Dataset | pl.DataFrame,
    outcome: str = "defect",
    *,
    against: str = "non_ai",
    fdr: float = 0.05,
    min_prs: int = 30,
    k: int = MIN_GROUP,
) -> FixFirst:
    """Rank (team, repo) cells where AI-assisted PRs do measurably worse than non-AI ones.

    In each cell (the author's team x the repo) the AI/non-AI risk ratio of ``outcome`` is the
    Mantel-Haenszel estimate stratified by author, so a cell is not blamed for who works in
    it. One-sided test of ``log RR <= log(reference)``, where the reference is 1
    (``against="non_ai"``: AI worse than non-AI) or the organisation-wide MH ratio
    (``against="org"``: AI worse here than AI is elsewhere). p-values are adjusted with
    Benjamini-Hochberg; cells are ranked by ``excess_bad_prs`` = AI PRs x non-AI rate x
    (RR - reference), a volume-weighted size of the problem.

    Cells with fewer than ``min_prs`` AI or non-AI merged PRs, or fewer than ``k`` authors, are
    not tested (listed with ``tested = False``).
    """
    prs = _prs(ds)
    if outcome not in BAD_EVENTS:
        raise CertkitError(f"outcome must be one of {sorted(BAD_EVENTS)}, not {outcome!r}")
    if against not in ("non_ai", "org"):
        raise CertkitError(f"against must be 'non_ai' or 'org', not {against!r}")
    notes: list[str] = []
    d = prs.filter(pl.col("merged") & pl.col("ai").is_not_null() & pl.col(outcome).is_not_null())
    _require_events(d, outcome, "fix-first cells")
    strata = d.group_by("team", "repo", "author_id").agg(
        pl.col(outcome).filter(pl.col("ai")).sum().alias("a"),
        pl.col("ai").sum().alias("n1"),
        pl.col(outcome).filter(~pl.col("ai")).sum().alias("b"),
        (~pl.col("ai")).sum().alias("n0"),
    )
    ref = 1.0
    if against == "org":
        ref, _ = mantel_haenszel_rr(strata["a"], strata["n1"], strata["b"], strata["n0"])
    rows = []
    for (team, repo), g in strata.group_by("team", "repo"):
        n1, n0 = int(g["n1"].sum()), int(g["n0"].sum())
        a, b = int(g["a"].sum()), int(g["b"].sum())
        tested = n1 >= min_prs and n0 >= min_prs and g.height >= k
        rr, se = (
            mantel_haenszel_rr(g["a"], g["n1"], g["b"], g["n0"]) if tested else (math.nan, math.nan)
        )
        if tested and (math.isnan(rr) or se == 0):
            tested = False
        z = (math.log(rr) - math.log(ref)) / se if tested else math.nan
        p0 = b / n0 if n0 else math.nan
        rows.append(
            {
                "team": team,
                "repo": repo,
                "ai_prs": n1,
                "non_ai_prs": n0,
                "ai_rate": a / n1 if n1 else math.nan,
                "non_ai_rate": p0,
                "risk_ratio": rr,
                "ci_low": math.exp(math.log(rr) - critical_value() * se) if tested else math.nan,
                "ci_high": math.exp(math.log(rr) + critical_value() * se) if tested else math.nan,
                "p_value": float(stats.norm.sf(z)) if tested else math.nan,
                "excess_bad_prs": n1 * p0 * (rr - ref) if tested else math.nan,
                "tested": tested,
            }
        )
    if not rows:
        raise CertkitError(f"no merged PRs with known ai_assisted and {outcome}")
    table = pl.DataFrame(rows)
    q = benjamini_hochberg(table["p_value"].to_numpy())
    table = (
        table.with_columns(pl.Series("q_value", q))
        .with_columns((pl.col("q_value") <= fdr).fill_null(False).alias("flagged"))
        .sort(
            ["flagged", "excess_bad_prs", "team", "repo"],
            descending=[True, True, False, False],
            nulls_last=True,
        )
        .with_row_index("rank", offset=1)
    )
    untested = int((~table["tested"]).sum())
    if untested:
        notes.append(
            f"{untested} cell(s) too small to test (fewer than {min_prs} AI or non-AI PRs "
            f"or {k} authors)"
        )
    return FixFirst(table, outcome, against, float(ref), fdr, notes)
