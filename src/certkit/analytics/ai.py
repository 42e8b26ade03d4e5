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
``trust_scores(ds)``    empirical-Bayes score of how safely each engineer's AI work lands;
``coaching_pairs(ds)``  coaches and teammates who would benefit (private use only);
``fix_first(ds)``       (team, repo) cells where AI work does measurably worse, BH-controlled.

Individual-level outputs (trust scores, coaching pairs) are for private conversations; results
aimed at shared reports aggregate to groups of at least ``k`` engineers (default 5).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import stats

from certkit.data.dataset import Dataset
from certkit.errors import CertkitError
from certkit.errors import warn_and_keep as _warn
from certkit.panel import approximate_created
from certkit.privacy import DEFAULT_K as MIN_GROUP  # smallest group shown when shared
from certkit.results import EstimateMixin, ResultMixin, tidy_frame
from certkit.stats.fe import fe_ols
from certkit.stats.multiple import benjamini_hochberg, mantel_haenszel_rr
from certkit.stats.vcov import critical_value, pvalue

AI_THRESHOLD = 0.5  # a PR with ai_assisted >= this share counts as AI-assisted

OUTCOMES = {
    "cycle_time_log": "log hours from creation to merge (merged PRs)",
    "pickup_time_log": "log hours from creation to first review (reviewed PRs)",
    "size_log": "log(1 + lines added + deleted)",
    "reverted": "share of merged PRs reverted",
    "defect": "share of merged PRs with at least one linked defect",
    "incident": "share of merged PRs linked to an incident",
    "rework": "share of a merged PR's added lines changed or deleted again within the line "
    "ledger's window (git imports; 21 days by default)",
}
LOG_OUTCOMES = {"cycle_time_log", "pickup_time_log", "size_log"}
BAD_EVENTS = {"reverted", "defect", "incident", "bad"}


# ---------------------------------------------------------------------------------------------
# PR table
# ---------------------------------------------------------------------------------------------


def pr_table(ds: Dataset) -> pl.DataFrame:
    """One row per human-authored PR with the columns the AI analytics use.

    Columns: ``id, author_id, team, platform, role, level, repo, month, ai, merged,
    cycle_time_log, pickup_time_log, size_log, reverted, defect, incident, bad, certified``.
    ``ai`` is ``ai_assisted >= 0.5`` (null when unknown); ``bad`` = reverted or defect;
    ``certified`` = the author held a certification when the PR was opened.
    """
    if not isinstance(ds, Dataset):
        raise CertkitError(f"expected a certkit Dataset (certkit.load / simulate), got {type(ds)}")
    prs = ds.pull_requests
    if prs.height == 0:
        raise CertkitError("pull_requests is empty: nothing to analyse")
    humans = ds.human_engineers().select("engineer_id", "team", "platform", "role", "level")
    first_cert = ds.certifications.group_by("engineer_id").agg(
        pl.col("earned_date").min().alias("_first_cert")
    )
    defect_prs = ds.defects["pr_id"].drop_nulls().unique().implode()
    incident_prs = ds.incidents["pr_id"].drop_nulls().unique().implode()
    ai_col = prs["ai_assisted"] if "ai_assisted" in prs.columns else None
    if ai_col is None or ai_col.null_count() == prs.height:
        raise CertkitError(
            "pull_requests.ai_assisted is missing or empty: AI analytics need it "
            "(true/false or the 0..1 share of AI-written lines per PR)"
        )
    merged = pl.col("merged_date").is_not_null()
    # creation dates approximated from git (squash merges...) give no cycle or pickup time
    trusted = ~approximate_created(prs)
    hours = (pl.col("merged_date") - pl.col("created_date")).dt.total_seconds() / 3600
    pickup = (pl.col("first_review_date") - pl.col("created_date")).dt.total_seconds() / 3600
    pickup = pl.when(trusted).then(pickup)
    out = (
        prs.join(humans.rename({"engineer_id": "author_id"}), on="author_id", how="inner")
        .join(first_cert.rename({"engineer_id": "author_id"}), on="author_id", how="left")
        .select(
            "id",
            "author_id",
            "team",
            "platform",
            "role",
            "level",
            "repo",
            pl.col("created_date").dt.truncate("1mo").dt.date().alias("month"),
            (pl.col("ai_assisted") >= AI_THRESHOLD).alias("ai"),
            merged.alias("merged"),
            pl.when(merged & trusted).then(hours.clip(1 / 60).log()).alias("cycle_time_log"),
            pl.when(pickup > 0).then(pickup.clip(1 / 60).log()).alias("pickup_time_log"),
            (pl.col("additions") + pl.col("deletions") + 1)
            .cast(pl.Float64)
            .log()
            .alias("size_log"),
            pl.when(merged)
            .then(pl.col("reverted").fill_null(False).cast(pl.Float64))
            .alias("reverted"),
            pl.when(merged).then(pl.col("id").is_in(defect_prs).cast(pl.Float64)).alias("defect"),
            pl.when(merged)
            .then(pl.col("id").is_in(incident_prs).cast(pl.Float64))
            .alias("incident"),
            _rework(prs).alias("rework"),
            (
                pl.col("_first_cert").is_not_null()
                & (pl.col("_first_cert") <= pl.col("created_date"))
            )
            .cast(pl.Float64)
            .alias("certified"),
        )
        .with_columns(pl.max_horizontal("reverted", "defect").alias("bad"))
    )
    return out


_PR_COLUMNS = (
    "id",
    "author_id",
    "team",
    "platform",
    "role",
    "level",
    "repo",
    "month",
    "ai",
    "merged",
    "cycle_time_log",
    "pickup_time_log",
    "size_log",
    "reverted",
    "defect",
    "incident",
    "rework",
    "certified",
    "bad",
)


_OPTIONAL = {"rework"}  # only git imports with the line ledger have it


def _rework(prs: pl.DataFrame) -> pl.Expr:
    """Churned share of a merged PR's added lines, when the import ran the line ledger."""
    churn = [c for c in prs.columns if re.fullmatch(r"churned_lines_\d+d", c)]
    if not churn:
        return pl.lit(None, pl.Float64)
    return (
        pl.when(pl.col("merged_date").is_not_null() & (pl.col("additions") > 0))
        .then(pl.col(churn[0]) / pl.col("additions"))
        .cast(pl.Float64)
    )


def _prs(ds: Dataset | pl.DataFrame) -> pl.DataFrame:
    """The PR table: built from a Dataset, or a :func:`pr_table` frame checked for its columns."""
    if isinstance(ds, Dataset):
        return pr_table(ds)
    if not isinstance(ds, pl.DataFrame):
        raise CertkitError(
            f"expected a certkit Dataset or the frame from certkit.ai.pr_table, got {type(ds)}"
        )
    missing = [c for c in _PR_COLUMNS if c not in ds.columns and c not in _OPTIONAL]
    if missing:
        raise CertkitError(
            f"PR table is missing column(s) {missing}: pass a Dataset or the output of "
            "certkit.ai.pr_table(ds)"
        )
    return ds.with_columns(pl.lit(None, pl.Float64).alias(c) for c in _OPTIONAL - set(ds.columns))


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


def compare(
    ds: Dataset | pl.DataFrame,
    outcomes: tuple[str, ...] | None = None,
    *,
    fixed_effects: tuple[str, ...] = ("author_id", "repo", "month"),
    by_certification: bool = True,
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
        if d.height < 20 or d["ai"].n_unique() < 2:
            _warn(f"{outcome}: too few PRs with and without AI ({d.height}); skipped", notes)
            continue
        # keep authors with both kinds of PR: only they identify the within-author gap
        both = d.group_by("author_id").agg(pl.col("ai").n_unique().alias("_k"))
        d = d.join(both.filter(pl.col("_k") == 2).select("author_id"), on="author_id")
        if d.height < 20:
            _warn(f"{outcome}: too few authors with both AI and non-AI PRs; skipped", notes)
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
        reasons = sorted({n.split(": ", 1)[-1] for n in notes})
        raise CertkitError(
            "no outcome had enough AI-assisted and other PRs to compare"
            + (f" ({'; '.join(reasons)})" if reasons else "")
        )
    table = pl.DataFrame(rows).with_columns(
        pl.when(pl.col("outcome").is_in(list(LOG_OUTCOMES)))
        .then(pl.col("estimate").exp() - 1)
        .otherwise(pl.col("estimate") / pl.col("non_ai_mean"))
        .alias("relative")
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


@dataclass(repr=False)
class AdoptionMap(ResultMixin):
    """Share of AI-assisted PRs by group x period, with counts; small groups suppressed."""

    table: pl.DataFrame
    by: str
    period: str
    k: int
    warnings: list[str] = field(default_factory=list)
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
    d = prs.filter(pl.col("ai").is_not_null())
    if period == "quarter":
        d = d.with_columns(pl.col("month").dt.truncate("1q"))
    table = (
        d.group_by(by, "month")
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
        .sort(by, "period")
        .select(by, "period", "ai_share", "n_ai", "n_prs", "n_engineers", "suppressed")
    )
    return AdoptionMap(table, by, period, k)


# ---------------------------------------------------------------------------------------------
# Trust score (empirical Bayes)
# ---------------------------------------------------------------------------------------------


@dataclass(repr=False)
class TrustScores(ResultMixin):
    """Per-engineer trust scores for AI-assisted work (individual level: private use only)."""

    table: pl.DataFrame
    outcome: str
    org_ai_multiplier: float
    prior_variance: float
    warnings: list[str] = field(default_factory=list)
    title: str = "AI trust scores (individual level: not for shared reports)"

    def _header(self) -> dict[str, object]:
        return {
            "Bad event": self.outcome,
            "Org AI multiplier": f"{self.org_ai_multiplier:.3f} (AI vs own non-AI baseline)",
            "Prior variance of risk ratio": f"{self.prior_variance:.4f}",
            "Engineers scored": self.table.height,
        }

    def by_team(self, k: int = MIN_GROUP) -> pl.DataFrame:
        """Team summary safe to share: teams with at least ``k`` scored engineers."""
        return (
            self.table.group_by("team")
            .agg(
                pl.len().alias("n_engineers"),
                pl.col("ai_prs").sum(),
                pl.col("observed").sum(),
                pl.col("expected").sum(),
                pl.col("trust_score").median().alias("median_trust_score"),
            )
            .filter(pl.col("n_engineers") >= k)
            .with_columns((pl.col("observed") / pl.col("expected")).alias("team_risk_ratio"))
            .sort("team_risk_ratio", descending=True)
        )

    def plot(self):
        """Posterior risk ratio with its interval per engineer, by AI volume (via charts)."""
        from certkit import charts

        return charts.risk_ratios(
            self.table,
            tooltip=["engineer_id", "team", "risk_ratio", "ci_low", "ci_high", "ai_prs"],
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
    2. Expected AI events: ``E_i = n_i * p0_i * M`` for ``n_i`` AI PRs, where
       ``M = sum(O) / sum(n * p0)`` is the organisation-wide AI multiplier, so a typical engineer
       has ratio 1. ``O_i`` is the observed number of bad AI PRs.
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
    raw_e = eng["ai_prs"].to_numpy() * eng["baseline_rate"].to_numpy()
    obs = eng["observed"].to_numpy().astype(float)
    mult = obs.sum() / raw_e.sum() if raw_e.sum() > 0 else 1.0
    expected = np.maximum(raw_e * mult, 1e-9)
    eng = eng.with_columns(pl.Series("expected", expected))
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
            "expected",
            "raw_ratio",
            "team_ratio",
            "risk_ratio",
            "ci_low",
            "ci_high",
            "p_riskier",
            "trust_score",
        )
        .sort("trust_score")
    )
    notes.append(
        "Individual-level scores: for private coaching conversations only. Share .by_team() "
        f"(teams of {MIN_GROUP}+ engineers) instead."
    )
    return TrustScores(table, outcome, float(mult), float(tau2), notes)


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
        ["certified", "trust_score"], descending=True
    )
    learners = per.filter(
        (pl.col("p_riskier") > 0.8) | (pl.col("ai_share") < 0.5 * pl.col("team_ai"))
    ).sort("p_riskier", descending=True, nulls_last=True)
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
        .sort(["flagged", "excess_bad_prs"], descending=True, nulls_last=True)
        .with_row_index("rank", offset=1)
    )
    untested = int((~table["tested"]).sum())
    if untested:
        notes.append(
            f"{untested} cell(s) too small to test (fewer than {min_prs} AI or non-AI PRs "
            f"or {k} authors)"
        )
    return FixFirst(table, outcome, against, float(ref), fdr, notes)
