"""Certification planning: skill gaps against a roadmap and a weighted decision matrix.

* :func:`skill_gaps` — team x skill coverage of the roadmap's skills (from certifications held,
  mapped through the catalog's skills, plus an optional self-reported skills table), with a gap
  = importance x (1 - coverage); teams smaller than ``k`` are suppressed.
* :func:`decision_matrix` — scores every catalog certification for every target (engineer or
  team) on roadmap alignment, stack fit, role/level fit, cost and time, with user-set weights;
  ranks and explains; flags retired and retiring exams and points to the successor.
* :func:`recommend` — the decision matrix built from a Dataset (engineers or teams).
* :func:`compare_certifications` — ROI with uncertainty of each certification for one effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from certkit.data.catalog import catalog as load_catalog
from certkit.data.dataset import Dataset
from certkit.errors import CertkitError
from certkit.privacy import DEFAULT_K as MIN_GROUP  # smallest group shown when shared
from certkit.results import ResultMixin

CRITERIA = ("alignment", "stack_fit", "role_level_fit", "cost", "time")
DEFAULT_WEIGHTS = {
    "alignment": 0.35,
    "stack_fit": 0.25,
    "role_level_fit": 0.15,
    "cost": 0.15,
    "time": 0.10,
}
ROLE_FIT = {
    "ml_engineer": 1.0,
    "data_scientist": 1.0,
    "mlops": 1.0,
    "data_engineer": 0.8,
    "platform": 0.6,
    "backend": 0.5,
}
LEVEL_YEARS = {"junior": 1.0, "mid": 3.0, "senior": 6.0, "staff": 10.0, "principal": 12.0}


def _check_roadmap(roadmap: pl.DataFrame) -> pl.DataFrame:
    if not isinstance(roadmap, pl.DataFrame):
        raise CertkitError("roadmap must be a polars DataFrame with columns skill, importance")
    missing = [c for c in ("skill", "importance") if c not in roadmap.columns]
    if missing:
        raise CertkitError(f"roadmap is missing column(s) {missing}; expected skill, importance")
    if roadmap.height == 0:
        raise CertkitError("roadmap is empty")
    bad = roadmap.with_row_index("row", 1).filter(
        pl.col("importance").is_null() | (pl.col("importance").cast(pl.Float64) < 0)
    )
    if bad.height:
        raise CertkitError(
            f"roadmap.importance must be a non-negative number; bad row(s) {bad['row'].to_list()}"
        )
    return roadmap.with_columns(pl.col("importance").cast(pl.Float64))


def engineer_skills(ds: Dataset, skills: pl.DataFrame | None = None) -> pl.DataFrame:
    """(engineer_id, skill) pairs: catalog skills of certifications held plus ``skills`` rows."""
    cat = load_catalog().select(pl.col("id").alias("certification_id"), "skills")
    held = (
        ds.certifications.select("engineer_id", "certification_id")
        .join(cat, on="certification_id", how="inner")
        .explode("skills")
        .select("engineer_id", pl.col("skills").alias("skill"))
    )
    if skills is not None:
        if not {"engineer_id", "skill"} <= set(skills.columns):
            raise CertkitError("skills table needs columns engineer_id, skill")
        held = pl.concat([held, skills.select("engineer_id", pl.col("skill").cast(pl.String))])
    return held.drop_nulls().unique()


@dataclass(repr=False)
class SkillGaps(ResultMixin):
    """Team x skill coverage and gap (importance x (1 - coverage))."""

    table: pl.DataFrame
    k: int
    warnings: list[str] = field(default_factory=list)
    title: str = "Skill gaps against the roadmap"

    def _header(self) -> dict[str, object]:
        return {
            "Gap": "importance x (1 - share of the team with the skill)",
            "Suppressed teams": f"{self.table.filter(pl.col('suppressed'))['team'].n_unique()} "
            f"(fewer than {self.k} engineers)",
        }

    def plot(self):
        """Team x skill heatmap of the gap (via charts)."""
        from certkit import charts

        return charts.heatmap(
            self.table,
            x="skill",
            y="team",
            color="gap",
            color_title="Gap",
            title="Skill gaps (importance x missing coverage)",
            percent=False,
        )


def skill_gaps(
    ds: Dataset,
    roadmap: pl.DataFrame,
    *,
    skills: pl.DataFrame | None = None,
    k: int = MIN_GROUP,
) -> SkillGaps:
    """Team x skill gap heatmap data.

    Parameters
    ----------
    roadmap
        Columns ``skill``, ``importance`` (>= 0) and optionally ``team`` (team-specific
        importance; rows without a team apply to every team).
    skills
        Optional self-reported ``engineer_id, skill`` rows, added to the catalog skills of the
        certifications each engineer holds.
    k
        Teams with fewer than ``k`` engineers get null coverage and gap (``suppressed``).
    """
    roadmap = _check_roadmap(roadmap)
    eng = ds.human_engineers().filter(pl.col("leave_date").is_null()).select("engineer_id", "team")
    if eng.height == 0:
        raise CertkitError("no current (non-bot, not departed) engineers to analyse")
    has = engineer_skills(ds, skills)
    teams = eng.group_by("team").agg(pl.len().alias("n_engineers"))
    if "team" in roadmap.columns:
        general = roadmap.filter(pl.col("team").is_null()).select("skill", "importance")
        specific = roadmap.filter(pl.col("team").is_not_null()).select(
            pl.col("team").cast(pl.String), "skill", "importance"
        )
        need = pl.concat([teams.select("team").join(general, how="cross"), specific])
    else:
        need = teams.select("team").join(roadmap.select("skill", "importance"), how="cross")
    need = need.group_by("team", "skill").agg(pl.col("importance").max())
    covered = (
        eng.join(has, on="engineer_id")
        .group_by("team", "skill")
        .agg(pl.col("engineer_id").n_unique().alias("n_with_skill"))
    )
    table = (
        need.join(teams, on="team", how="inner")
        .join(covered, on=["team", "skill"], how="left")
        .with_columns(pl.col("n_with_skill").fill_null(0))
        .with_columns((pl.col("n_engineers") < k).alias("suppressed"))
        .with_columns(
            pl.when(pl.col("suppressed"))
            .then(None)
            .otherwise(pl.col("n_with_skill") / pl.col("n_engineers"))
            .alias("coverage")
        )
        .with_columns((pl.col("importance") * (1 - pl.col("coverage"))).alias("gap"))
        .with_columns(
            pl.when(pl.col("suppressed"))
            .then(None)
            .otherwise(pl.col("n_with_skill"))
            .alias("n_with_skill")
        )
        .select(
            "team",
            "skill",
            "importance",
            "n_engineers",
            "n_with_skill",
            "coverage",
            "gap",
            "suppressed",
        )
        .sort(["gap", "team", "skill"], descending=[True, False, False], nulls_last=True)
    )
    return SkillGaps(table, k)


# ---------------------------------------------------------------------------------------------
# Decision matrix
# ---------------------------------------------------------------------------------------------


@dataclass(repr=False)
class DecisionMatrix(ResultMixin):
    """Certification x target scores, ranks and explanations."""

    table: pl.DataFrame
    weights: dict[str, float]
    as_of: date
    warnings: list[str] = field(default_factory=list)
    title: str = "Certification decision matrix"

    def _header(self) -> dict[str, object]:
        return {
            "Weights": ", ".join(f"{k} {v:.2f}" for k, v in self.weights.items()),
            "As of": str(self.as_of),
            "Targets": self.table["target"].n_unique(),
        }

    def top(self, n: int = 1) -> pl.DataFrame:
        """The ``n`` best-ranked certifications per target."""
        return self.table.filter(pl.col("rank") <= n).sort("target", "rank")

    def plot(self, max_targets: int = 12):
        """Stacked weighted contributions of each criterion for each target's top 3 options."""
        from certkit import charts

        keep = self.table["target"].unique(maintain_order=True).head(max_targets).implode()
        top = self.table.filter((pl.col("rank") <= 3) & pl.col("target").is_in(keep))
        long = top.unpivot(
            index=["target", "certification_id", "rank"],
            on=[f"w_{c}" for c in CRITERIA],
            variable_name="criterion",
            value_name="contribution",
        )
        return charts.stacked_contributions(
            long, title="Why each certification ranks where it does"
        )


def _minmax_inverse(v: np.ndarray) -> np.ndarray:
    lo, hi = np.nanmin(v), np.nanmax(v)
    if hi - lo <= 0:
        return np.ones_like(v)
    return (hi - v) / (hi - lo)


def decision_matrix(
    targets: pl.DataFrame,
    *,
    needs: pl.DataFrame | None = None,
    weights: dict[str, float] | None = None,
    certifications: pl.DataFrame | None = None,
    as_of: date | None = None,
    hourly_cost: float = 100.0,
    include_retired: bool = False,
) -> DecisionMatrix:
    """Score each certification for each target on weighted criteria and rank them.

    Criteria (each 0..1):

    * ``alignment`` — share of the target's skill need that the certification's skills cover:
      ``sum(need of its skills) / sum(all need)`` (``needs``: ``target, skill, need`` rows,
      e.g. roadmap importance x missing coverage; 0 without needs);
    * ``stack_fit`` — 1 if the certification's platform is the target's primary platform,
      0.25 if the target's platform is ``other``, else 0;
    * ``role_level_fit`` — role factor (ML roles 1, data engineer 0.8, platform 0.6, backend 0.5)
      x ``min(1, years / recommended_experience_years)`` with years from ``experience_years``
      or the level (junior 1, mid 3, senior 6, staff 10);
    * ``cost`` — min-max scaled inverse of exam fee + study hours x ``hourly_cost``;
    * ``time`` — min-max scaled inverse of study hours.

    ``score = sum(weight x criterion)`` with weights normalised to sum to 1. Retired exams (on
    ``as_of``) are dropped unless ``include_retired`` (then ranked last) and always named with
    their successor in ``note``; retiring ones are flagged. Certifications a target already
    holds (``held`` list column) are skipped.

    Parameters
    ----------
    targets
        Columns ``target`` and ``platform``; optional ``role``, ``level``, ``experience_years``,
        ``held`` (list of catalog ids).
    """
    if not isinstance(targets, pl.DataFrame) or not {"target", "platform"} <= set(targets.columns):
        raise CertkitError(
            "targets must be a DataFrame with columns target, platform (+ role, level)"
        )
    w = dict(DEFAULT_WEIGHTS if weights is None else weights)
    unknown = sorted(set(w) - set(CRITERIA))
    if unknown:
        raise CertkitError(f"unknown weight(s) {unknown}; criteria are {list(CRITERIA)}")
    if any((not isinstance(v, (int, float))) or v < 0 or not math.isfinite(v) for v in w.values()):
        raise CertkitError(f"weights must be non-negative numbers, got {w}")
    total = sum(w.values())
    if total <= 0:
        raise CertkitError("at least one weight must be positive")
    w = {c: float(w.get(c, 0.0)) / total for c in CRITERIA}
    as_of = as_of or date.today()
    cat = load_catalog() if certifications is None else certifications
    notes: list[str] = []
    certs = []
    by_id = {r["id"]: r for r in cat.to_dicts()}
    for c in cat.to_dicts():
        retire = c.get("retirement_date")
        status = "active" if retire is None else ("retired" if retire < as_of else "retiring")
        succ = c.get("successor")
        note = ""
        if status == "retired":
            note = f"retired on {retire}" + (f": take {succ} instead" if succ else "")
            notes.append(f"{c['id']} {note}")
            if not include_retired:
                continue
        elif status == "retiring":
            note = f"retires on {retire}" + (f"; successor {succ}" if succ else "")
        if c.get("status_note"):
            note = (note + "; " if note else "") + str(c["status_note"])
        certs.append({**c, "cert_status": status, "note": note})
    if not certs:
        raise CertkitError("no certification left to score (all retired?)")
    fee = np.array([float(c["exam_fee_usd"]) for c in certs])
    hours = np.array([float(c["study_hours_typical"]) for c in certs])
    cost_score = _minmax_inverse(fee + hours * hourly_cost)
    time_score = _minmax_inverse(hours)
    need_map: dict[str, dict[str, float]] = {}
    if needs is not None:
        if not {"target", "skill", "need"} <= set(needs.columns):
            raise CertkitError("needs must have columns target, skill, need")
        for r in needs.drop_nulls("need").iter_rows(named=True):
            need_map.setdefault(str(r["target"]), {})[r["skill"]] = max(float(r["need"]), 0.0)
    elif w["alignment"] > 0:
        notes.append("no skill needs given: alignment is 0 for every option")
    rows = []
    for t in targets.iter_rows(named=True):
        held = set(t.get("held") or [])
        tneed = need_map.get(str(t["target"]), {})
        total_need = sum(tneed.values())
        years = t.get("experience_years")
        if years is None:
            years = LEVEL_YEARS.get(str(t.get("level") or "").lower(), 3.0)
        role = ROLE_FIT.get(str(t.get("role") or "").lower(), 0.5)
        for i, c in enumerate(certs):
            if c["id"] in held:
                continue
            skills = set(c.get("skills") or [])
            align = (
                sum(v for s, v in tneed.items() if s in skills) / total_need if total_need else 0.0
            )
            plat = str(t["platform"]).lower()
            stack = 1.0 if c.get("platform") == plat else (0.25 if plat == "other" else 0.0)
            rec = float(c.get("recommended_experience_years") or 0)
            exp_fit = 1.0 if rec <= 0 else min(1.0, float(years) / rec)
            crit = {
                "alignment": align,
                "stack_fit": stack,
                "role_level_fit": role * exp_fit,
                "cost": float(cost_score[i]),
                "time": float(time_score[i]),
            }
            contrib = {c_: w[c_] * v for c_, v in crit.items()}
            score = sum(contrib.values())
            best = sorted(contrib, key=contrib.get, reverse=True)[:2]
            why = ", ".join(f"{b.replace('_', ' ')} {crit[b]:.2f}" for b in best if contrib[b] > 0)
            covered = sorted(s for s in skills if tneed.get(s, 0) > 0)
            if covered:
                why += f"; covers {', '.join(covered[:4])}"
            rows.append(
                {
                    "target": str(t["target"]),
                    "certification_id": c["id"],
                    "name": c["name"],
                    "status": c["cert_status"],
                    **crit,
                    **{f"w_{k}": v for k, v in contrib.items()},
                    "score": score if c["cert_status"] != "retired" else -1.0 + score * 1e-6,
                    "exam_fee_usd": float(c["exam_fee_usd"]),
                    "study_hours": float(c["study_hours_typical"]),
                    "why": why,
                    "note": c["note"],
                    "successor": c.get("successor") if c.get("successor") in by_id else None,
                }
            )
    if not rows:
        raise CertkitError("every target already holds every certification")
    table = (
        pl.DataFrame(rows)
        .with_columns(
            pl.col("score")
            .rank("ordinal", descending=True)
            .over("target")
            .cast(pl.Int64)
            .alias("rank")
        )
        .sort("target", "rank")
    )
    return DecisionMatrix(table, w, as_of, notes)


def recommend(
    ds: Dataset,
    roadmap: pl.DataFrame | None = None,
    *,
    by: str = "team",
    weights: dict[str, float] | None = None,
    as_of: date | None = None,
    skills: pl.DataFrame | None = None,
    individuals: bool = False,
    k: int = MIN_GROUP,
    **kwargs,
) -> DecisionMatrix:
    """Decision matrix for the teams (default) or the engineers of a Dataset.

    Teams use their most common platform, role and level, and need = the roadmap gap from
    :func:`skill_gaps` (teams under ``k`` engineers are left out). Engineers (``by="engineer"``,
    needs ``individuals=True``: individual-level output) use their own platform, role, level,
    certifications held, and need = roadmap importance of the skills they lack.
    """
    if by not in ("team", "engineer"):
        raise CertkitError(f"by must be 'team' or 'engineer', not {by!r}")
    eng = ds.human_engineers().filter(pl.col("leave_date").is_null())
    held = ds.certifications.group_by("engineer_id").agg(
        pl.col("certification_id").drop_nulls().unique().alias("held")
    )
    needs = None
    if by == "engineer":
        if not individuals:
            raise CertkitError(
                "by='engineer' lists individuals; pass individuals=True to confirm it is for "
                "private development planning, not shared reports"
            )
        targets = eng.join(held, on="engineer_id", how="left").select(
            pl.col("engineer_id").alias("target"), "platform", "role", "level", "held"
        )
        if roadmap is not None:
            roadmap = _check_roadmap(roadmap)
            has = engineer_skills(ds, skills).with_columns(pl.lit(True).alias("_has"))
            needs = (
                targets.select("target")
                .join(roadmap.select("skill", "importance"), how="cross")
                .join(has.rename({"engineer_id": "target"}), on=["target", "skill"], how="left")
                .filter(pl.col("_has").is_null())
                .select("target", "skill", pl.col("importance").alias("need"))
            )
    else:
        mode = lambda c: pl.col(c).mode().sort().first().alias(c)  # noqa: E731
        targets = (
            eng.group_by("team")
            .agg(mode("platform"), mode("role"), mode("level"), pl.len().alias("_n"))
            .filter(pl.col("_n") >= k)
            .select(pl.col("team").alias("target"), "platform", "role", "level")
            .sort("target")
        )
        if targets.height == 0:
            raise CertkitError(f"no team has {k}+ current engineers")
        if roadmap is not None:
            gaps = skill_gaps(ds, roadmap, skills=skills, k=k).table
            needs = gaps.filter(~pl.col("suppressed")).select(
                pl.col("team").alias("target"), "skill", pl.col("gap").alias("need")
            )
    return decision_matrix(targets, needs=needs, weights=weights, as_of=as_of, **kwargs)


def compare_certifications(
    effect,
    certifications: list[str] | None = None,
    *,
    as_of: date | None = None,
    **roi_kwargs,
) -> pl.DataFrame:
    """Expected ROI with uncertainty of each certification for the same effect estimate.

    Costs (exam fee, study hours, validity) come from the catalog; retired exams are priced
    as their successor (see ``certkit.roi.catalog_costs``). Returns one row per certification:
    median ROI, its 95% interval, P(ROI > 0) and the median payback in months.
    """
    import warnings

    from certkit import roi as roi_mod
    from certkit.errors import CertkitWarning

    ids = certifications or load_catalog()["id"].to_list()
    rows = []
    for cid in ids:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CertkitWarning)
            res = roi_mod.roi(effect, certification=cid, as_of=as_of, **roi_kwargs)
        lo, hi = res.roi_interval
        rows.append(
            {
                "certification_id": cid,
                "priced_as": roi_mod.catalog_costs(cid, as_of)[0]["certification_id"],
                "roi_median": res.roi_median,
                "roi_ci_low": lo,
                "roi_ci_high": hi,
                "p_positive": res.p_positive,
                "payback_months_median": float(np.median(res.draws["payback"])),
                "note": "; ".join(res.warnings),
            }
        )
    return pl.DataFrame(rows).sort("roi_median", descending=True)
