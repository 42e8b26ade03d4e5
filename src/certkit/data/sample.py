"""A synthetic engineering organisation with known (planted) effects.

The generator is calibrated from published figures (see ``docs/data-model.md``): log-normal PR
cycle times with a median near 80 h (LinearB: median 83 h), about 12 merged PRs per engineer-month
(LinearB 2026: 12.4), a change-failure (defect) rate near 8-10 % and incident rates tied to it
(DORA elite/high bands), AI adoption growing over time with AI-assisted PRs larger and picked up
later (LinearB: AI PRs wait longer for pickup), and certification staggered over time and more
likely for some roles, levels and platforms and for more productive engineers (selection on
observables, so naive certified-vs-not comparisons are biased upward).

Planted effects, all recorded in ``dataset.truth``:

* certification multiplies throughput by ``1 + effect_throughput * ramp(e)``, adds
  ``effect_cycle_time * ramp(e)`` to log cycle time and multiplies the defect and incident
  probability by ``1 + effect_defects * ramp(e)``, where ``e`` is months since certification
  and ``ramp(e) = min(1, (e + 1) / effect_ramp_months)`` (effects grow, then plateau);
* AI assistance adds ``ai_effect_cycle_time`` to log cycle time and multiplies revert and
  defect risk; juniors adopt AI more and are slower, so naive AI comparisons are biased;
* a few engineers are "unsafe" AI users and a few (team, repo) cells have much worse AI-assisted
  defect rates (for the trust score and fix-first analytics).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from certkit.data import sample_adoption, sample_truth
from certkit.data.dataset import TRUTH_FILE, Dataset, from_frames
from certkit.data.sample_org import (
    AI_TOOLS,
    CERT_LEVEL,
    CERT_PLATFORM,
    CERT_ROLE,
    FIRST,
    LAST,
    LEVEL_LOG_CYCLE,
    LEVEL_THROUGHPUT,
    LEVELS,
    PLATFORM_SHARES,
    ROLES,
    TEAM_NAMES,
    US_PER_HOUR,
    add_bots,
    certification_rows,
    choice,
    choice_series,
    intercept_for_rate,
    month_starts_from,
    numbered,
)
from certkit.data.sample_truth import MERGE_RATE, ramp
from certkit.errors import CertkitError

SAMPLE_SEED = 2024
SAMPLE_ENGINEERS = 400
SAMPLE_MONTHS = 24
SAMPLE_START = "2024-10-01"

BASE_THROUGHPUT = 12.0 / 0.92  # PRs opened per engineer-month, so about 12 are merged
BASE_CYCLE_HOURS = 90.0  # median of merged PRs lands near 80 h
BASE_PICKUP_HOURS = 8.0
BASE_DEFECT_P = 0.08
BASE_INCIDENT_P = 0.012
BASE_REVERT_P = 0.02


def simulate(
    n_engineers: int = SAMPLE_ENGINEERS,
    months: int = SAMPLE_MONTHS,
    seed: int = 0,
    *,
    start: str | date = SAMPLE_START,
    cert_rate: float = 0.35,
    effect_throughput: float = 0.10,
    effect_cycle_time: float = -0.12,
    effect_defects: float = -0.25,
    effect_ramp_months: float = 3.0,
    ai_effect_cycle_time: float = -0.15,
    ai_effect_reverts: float = 0.5,
    ai_effect_defects: float = 0.3,
    cert_ai_uplift: float = 0.0,
    unsafe_ai_share: float = 0.05,
    n_bad_ai_cells: int = 3,
    bots: bool = True,
    ai_adoption: bool = False,
    adoption_rate: float = 0.6,
    adoption_effect_throughput: float = 0.2,
    adoption_fade_months: float = 3.0,
    adoption_effect_rework: float = 0.03,
) -> Dataset:
    """Simulate an organisation and return its :class:`~certkit.data.dataset.Dataset` with ``.truth``.

    Parameters
    ----------
    n_engineers, months, seed
        Size of the organisation, length of the observed window and random seed.
    start
        First day of the observed window (the first of a month).
    cert_rate
        Share of engineers who earn a certification at some point.
    effect_throughput, effect_cycle_time, effect_defects
        Planted certification effects at full strength: relative change in PR throughput,
        change in log PR cycle time, relative change in defect/incident probability.
    effect_ramp_months
        Months for the effect to reach full strength (1 = immediate).
    ai_effect_cycle_time, ai_effect_reverts, ai_effect_defects
        Planted within-author effect of AI assistance: change in log cycle time, relative
        change in revert and defect probability.
    cert_ai_uplift
        Extra log-odds of AI use after certifying (0 keeps the certification effect pure).
    unsafe_ai_share, n_bad_ai_cells
        Share of AI users whose AI-assisted PRs are 4x riskier; number of (team, repo) cells
        where AI-assisted PRs have 4x the defect rate.
    bots
        Add two bot accounts (dependabot, renovate) with their own PRs.
    ai_adoption
        Plant AI use as a staggered adoption instead of gradual organisation-wide growth: a
        share ``adoption_rate`` of engineers adopts in one month drawn at random (independent
        of everything else, so parallel trends hold), after which 80 % of their PRs are
        AI-assisted (2 % before). Off by default (the bundled sample does not use it).
    adoption_effect_throughput, adoption_fade_months, adoption_effect_rework
        With ``ai_adoption`` (see :mod:`certkit.data.sample_adoption`): adopting multiplies PR
        throughput by ``1 + adoption_effect_throughput * fade(e)``,
        ``fade(e) = max(0, 1 - e / fade_months)`` for ``e`` months since adoption (a jump that
        fades out), and adds ``adoption_effect_rework`` to the share of a merged PR's added
        lines churned within 21 days (``churned_lines_21d``, the panel's ``rework_rate``; base
        about 0.08), from the month of adoption on (an increase that persists). The per-PR AI
        effects (``ai_effect_*``, e.g. more reverts) persist too. ``truth["adoption"]``
        records the adoption month of every engineer and the expected effects by event time.

    Returns
    -------
    Dataset
        With ``truth``: the parameters, the planted effects by event time, and the
        expected ATT per panel outcome and event time.
    """
    if n_engineers < 2 or months < 3:
        raise CertkitError("simulate needs at least 2 engineers and 3 months")
    rng = np.random.default_rng(seed)
    start = date.fromisoformat(str(start))
    if start.day != 1:
        raise CertkitError(f"start must be the first day of a month, got {start}")
    month_starts = month_starts_from(start, months)
    window_start = month_starts[0].astype("datetime64[D]")
    window_end = month_starts[-1].astype("datetime64[D]")  # exclusive
    n = n_engineers

    # -- engineers ------------------------------------------------------------------------
    n_teams = max(2, min(len(TEAM_NAMES) * 5, round(n / 20)))
    teams = np.array(
        [
            TEAM_NAMES[k % len(TEAM_NAMES)]
            + ("" if k < len(TEAM_NAMES) else f"-{k // len(TEAM_NAMES) + 1}")
            for k in range(n_teams)
        ]
    )
    team_platform = choice(rng, PLATFORM_SHARES, n_teams)
    team_idx = rng.integers(0, n_teams, n)
    team = teams[team_idx]
    platform = np.where(
        rng.random(n) < 0.8, team_platform[team_idx], choice(rng, PLATFORM_SHARES, n)
    )
    role = choice(rng, ROLES, n)
    level = choice(rng, LEVELS, n)
    window_days = int((window_end - window_start).astype(int))
    new_hire = rng.random(n) < 0.15
    hire = np.where(
        new_hire,
        window_start + rng.integers(0, max(1, window_days - 90), n).astype("timedelta64[D]"),
        window_start - rng.integers(30, 8 * 365, n).astype("timedelta64[D]"),
    )
    leaves = rng.random(n) < 0.08
    earliest_leave = np.maximum(hire, window_start) + np.timedelta64(90, "D")
    leave_span = np.maximum((window_end - earliest_leave).astype(int), 1)
    leave = np.where(
        leaves & (earliest_leave < window_end),
        earliest_leave + (rng.random(n) * leave_span).astype("timedelta64[D]"),
        np.datetime64("NaT"),
    )
    u = rng.normal(0, 0.35, n)  # log productivity
    v = -0.5 * u + rng.normal(0, 0.3, n)  # log cycle-time speed (productive = faster)
    w = rng.normal(0, 0.3, n)  # log defect propensity
    lvl_thr = np.vectorize(LEVEL_THROUGHPUT.get)(level)
    lvl_ct = np.vectorize(LEVEL_LOG_CYCLE.get)(level)
    lam = BASE_THROUGHPUT * lvl_thr * np.exp(u - 0.35**2 / 2)
    p_defect = BASE_DEFECT_P * np.exp(w - 0.3**2 / 2) * np.where(level == "junior", 1.3, 1.0)
    ai_pref = rng.normal(0, 1.0, n) + np.where(level == "junior", 0.6, 0.0)
    ids = np.array([f"E{i:05d}" for i in range(1, n + 1)])
    first = np.array(FIRST)[rng.integers(0, len(FIRST), n)]
    last = np.array(LAST)[rng.integers(0, len(LAST), n)]

    # -- certifications (staggered, selected on observables) ------------------------------
    logit = (
        np.vectorize(CERT_ROLE.get)(role)
        + np.vectorize(CERT_LEVEL.get)(level)
        + np.vectorize(CERT_PLATFORM.get)(platform)
        + 1.5 * u
    )
    prob = 1 / (1 + np.exp(-(intercept_for_rate(logit, cert_rate) + logit)))
    certified = rng.random(n) < prob
    # Month index of certification: a few before the window (always treated), most inside.
    cert_month = rng.integers(2, max(3, months - 2), n)
    before_window = rng.random(n) < 0.05
    cert_day = month_starts[np.minimum(cert_month, months)].astype("datetime64[D]") + rng.integers(
        0, 28, n
    ).astype("timedelta64[D]")
    cert_day = np.where(
        before_window, window_start - rng.integers(30, 400, n).astype("timedelta64[D]"), cert_day
    )
    cert_day = np.maximum(cert_day, hire + np.timedelta64(30, "D"))
    certified &= cert_day < window_end - np.timedelta64(1, "D")
    if not np.isnat(leave).all():
        certified &= np.isnat(leave) | (cert_day < leave)
    cert_rows = certification_rows(
        rng, ids[certified], platform[certified], cert_day[certified], window_end
    )

    # Period (month) index of the first certification, relative to the window: 0-based month.
    first_cert = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    first_cert[certified] = cert_day[certified]
    cert_m = np.where(
        certified, (first_cert.astype("datetime64[M]") - month_starts[0]).astype(int), 10**6
    )

    # -- engineer-month expected PRs --------------------------------------------------------
    m = np.arange(months)
    active_start = (
        np.maximum(hire, window_start).astype("datetime64[M]") - month_starts[0]
    ).astype(int)
    leave_m = np.where(
        np.isnat(leave), months, (leave.astype("datetime64[M]") - month_starts[0]).astype(int) + 1
    )
    eng_i, mon = np.nonzero((m[None, :] >= active_start[:, None]) & (m[None, :] < leave_m[:, None]))
    e = mon - cert_m[eng_i]
    rmp = ramp(e, effect_ramp_months) * certified[eng_i]
    cal_month = (month_starts[mon].astype("datetime64[M]").astype(int) % 12) + 1
    season = np.where(cal_month == 12, 0.8, np.where(cal_month == 8, 0.9, 1.0))
    lam_it = lam[eng_i] * season * (1 + effect_throughput * rmp)
    if ai_adoption:
        adopt_m, e_ai, extra_prs, lam_it = sample_adoption.plant_adoption(
            rng, n, months, mon, eng_i, lam_it, rate=adoption_rate,
            effect=adoption_effect_throughput, fade_months=adoption_fade_months,
        )  # fmt: skip
    n_prs = rng.poisson(lam_it)

    if ai_adoption:
        p_ai_it = sample_adoption.ai_probability(e_ai)
    else:
        # AI adoption: organisation-wide logistic growth plus personal preference.
        org_ai = 0.1 + 0.6 / (1 + np.exp(-(mon - months * 0.5) / 3))
        ai_logit = np.log(org_ai / (1 - org_ai)) + ai_pref[eng_i] + cert_ai_uplift * (rmp > 0)
        p_ai_it = 1 / (1 + np.exp(-ai_logit))

    # -- pull requests ------------------------------------------------------------------------
    pr_eng = np.repeat(eng_i, n_prs)
    pr_mon = np.repeat(mon, n_prs)
    pr_ramp = np.repeat(rmp, n_prs)
    k = pr_eng.size
    month_len = (month_starts[pr_mon + 1] - month_starts[pr_mon]).astype("timedelta64[D]")
    created = month_starts[pr_mon].astype("datetime64[us]") + (
        rng.random(k) * month_len.astype(int) * 24 * US_PER_HOUR
    ).astype("timedelta64[us]")
    ai = rng.random(k) < np.repeat(p_ai_it, n_prs)
    lines = np.exp(np.log(120) + rng.normal(0, 1.0, k)) * np.where(ai, 1.5, 1.0)
    additions = np.round(lines * 0.7).astype(np.int64)
    deletions = np.round(lines * 0.3).astype(np.int64)
    log_ct = (
        np.log(BASE_CYCLE_HOURS)
        + v[pr_eng]
        + lvl_ct[pr_eng]
        + 0.25 * np.log(lines / 120)
        + ai_effect_cycle_time * ai
        + effect_cycle_time * pr_ramp
        + rng.normal(0, 0.9, k)
    )
    ct_hours = np.exp(log_ct)
    pickup = np.minimum(
        np.exp(np.log(BASE_PICKUP_HOURS) + 1.0 * ai + rng.normal(0, 0.8, k)), 0.8 * ct_hours
    )
    reviewed = rng.random(k) < 0.85
    done = created + (ct_hours * US_PER_HOUR).astype("timedelta64[us]")
    in_window = done < window_end.astype("datetime64[us]")
    merged = (rng.random(k) < MERGE_RATE) & in_window
    closed = in_window
    first_review = created + (pickup * US_PER_HOUR).astype("timedelta64[us]")
    first_review = np.where(
        reviewed & (first_review < window_end.astype("datetime64[us]")),
        first_review,
        np.datetime64("NaT"),
    )

    repos_per_team = 3
    repos = np.array([f"{t}/svc-{j + 1}" for t in teams for j in range(repos_per_team)])
    own = rng.random(k) < 0.85
    repo_idx = np.where(
        own,
        team_idx[pr_eng] * repos_per_team + rng.integers(0, repos_per_team, k),
        rng.integers(0, repos.size, k),
    )
    repo = pl.Series(repos, dtype=pl.String)[repo_idx]

    ai_users = np.unique(pr_eng[ai])
    unsafe = np.zeros(n, bool)
    if ai_users.size and unsafe_ai_share > 0:
        pick = rng.choice(
            ai_users, size=max(1, round(unsafe_ai_share * ai_users.size)), replace=False
        )
        unsafe[pick] = True
    bad_cells = rng.choice(
        np.unique(repo_idx[repo_idx // repos_per_team == team_idx[pr_eng]]),
        size=min(n_bad_ai_cells, repos.size),
        replace=False,
    )
    bad_cell = np.isin(repo_idx, bad_cells) & (repo_idx // repos_per_team == team_idx[pr_eng])
    ai_risk = np.where(
        ai,
        (1 + ai_effect_defects) * np.where(unsafe[pr_eng], 4.0, 1.0) * np.where(bad_cell, 4.0, 1.0),
        1.0,
    )
    cert_risk = 1 + effect_defects * pr_ramp
    p_rev = BASE_REVERT_P * np.where(
        ai, (1 + ai_effect_reverts) * np.where(unsafe[pr_eng], 4.0, 1.0), 1.0
    )
    reverted = merged & (rng.random(k) < np.minimum(p_rev, 0.9))
    p_def = np.minimum(p_defect[pr_eng] * cert_risk * ai_risk, 0.95)
    has_defect = merged & (rng.random(k) < p_def)
    p_inc = np.minimum(
        BASE_INCIDENT_P
        * cert_risk
        * np.where(ai, 1 + ai_effect_defects, 1.0)
        * np.where(bad_cell & ai, 4.0, 1.0),
        0.9,
    )
    has_incident = merged & (rng.random(k) < p_inc)

    pr_ids = numbered("PR-", k, width=7)
    tool = choice_series(rng, AI_TOOLS, k)
    prs = pl.DataFrame(
        {
            "id": pr_ids,
            "author_id": pl.Series(ids, dtype=pl.String)[pr_eng],
            "repo": repo,
            "created_date": created,
            "merged_date": np.where(merged, done, np.datetime64("NaT")),
            "closed_date": np.where(closed, done, np.datetime64("NaT")),
            "first_review_date": first_review,
            "additions": additions,
            "deletions": deletions,
            "ai_assisted": ai.astype(np.float64),
            "ai_tool": tool,
            "reverted": reverted,
        }
    ).with_columns(
        pl.col("^.*_date$").cast(pl.Datetime("us")),
        pl.when(pl.col("ai_assisted") > 0).then(pl.col("ai_tool")).alias("ai_tool"),
    )
    if ai_adoption:  # rework by the month a PR merges (the panel's period of a merged PR)
        merged_m = (done.astype("datetime64[M]") - month_starts[0]).astype(int)
        churn = sample_adoption.churned_lines(
            seed, n, pr_eng, merged_m >= adopt_m[pr_eng], additions, merged,
            effect=adoption_effect_rework,
        )  # fmt: skip
        prs = prs.with_columns(
            pl.Series(sample_adoption.REWORK_COLUMN, churn).fill_nan(None).cast(pl.Int64)
        )

    # -- defects and incidents ---------------------------------------------------------------
    d_idx = np.nonzero(has_defect)[0]
    d_created = done[d_idx] + (rng.exponential(10, d_idx.size) * 24 * US_PER_HOUR).astype(
        "timedelta64[us]"
    )
    keep = d_created < window_end.astype("datetime64[us]")
    d_idx, d_created = d_idx[keep], d_created[keep]
    defects = pl.DataFrame(
        {
            "id": numbered("BUG-", d_idx.size),
            "created_date": d_created,
            "pr_id": pr_ids[d_idx],
            "engineer_id": ids[pr_eng[d_idx]],
            "severity": choice(rng, {"low": 0.4, "medium": 0.4, "high": 0.2}, d_idx.size),
            "resolution_date": d_created
            + (rng.exponential(7, d_idx.size) * 24 * US_PER_HOUR).astype("timedelta64[us]"),
        }
    ).with_columns(pl.col("^.*_date$").cast(pl.Datetime("us")))

    i_idx = np.nonzero(has_incident)[0]
    i_created = done[i_idx] + (rng.exponential(3, i_idx.size) * 24 * US_PER_HOUR).astype(
        "timedelta64[us]"
    )
    keep = i_created < window_end.astype("datetime64[us]")
    i_idx, i_created = i_idx[keep], i_created[keep]
    link = rng.random(i_idx.size)
    incidents = (
        pl.DataFrame(
            {
                "id": numbered("INC-", i_idx.size),
                "created_date": i_created,
                "resolution_date": i_created
                + (np.exp(np.log(3) + rng.normal(0, 1.2, i_idx.size)) * US_PER_HOUR).astype(
                    "timedelta64[us]"
                ),
                "severity": choice(
                    rng, {"SEV1": 0.05, "SEV2": 0.15, "SEV3": 0.4, "SEV4": 0.4}, i_idx.size
                ),
                "pr_id": pr_ids[i_idx],
                "engineer_id": ids[pr_eng[i_idx]],
                "service": repo[i_idx],
                "link": link,
            }
        )
        .with_columns(
            pl.col("^.*_date$").cast(pl.Datetime("us")),
            pl.when(pl.col("link") < 0.75).then(pl.col("pr_id")).alias("pr_id"),
            pl.when(pl.col("link") < 0.9).then(pl.col("engineer_id")).alias("engineer_id"),
        )
        .drop("link")
    )

    engineers = pl.DataFrame(
        {
            "engineer_id": ids,
            "team": team,
            "role": role,
            "level": level,
            "hire_date": hire.astype("datetime64[D]"),
            "platform": platform,
            "leave_date": leave.astype("datetime64[D]"),
            "name": np.char.add(np.char.add(first, " "), last),
            "email": np.char.add(
                np.char.lower(np.char.add(np.char.add(first, "."), np.char.add(last, ids))),
                "@example.com",
            ),
            "is_bot": np.zeros(n, bool),
        }
    ).with_columns(pl.col("hire_date", "leave_date").cast(pl.Date))

    if bots:
        engineers, prs = add_bots(rng, engineers, prs, repos, month_starts, window_end)

    truth = sample_truth.truth(
        {"n_engineers": n, "months": months, "seed": seed, "start": str(start)}
        | {"cert_rate": cert_rate, "effect_throughput": effect_throughput}
        | {"effect_cycle_time": effect_cycle_time, "effect_defects": effect_defects}
        | {"effect_ramp_months": effect_ramp_months, "ai_effect_cycle_time": ai_effect_cycle_time}
        | {"ai_effect_reverts": ai_effect_reverts, "ai_effect_defects": ai_effect_defects}
        | {"cert_ai_uplift": cert_ai_uplift},
        e=e[certified[eng_i]],
        lam_it=lam_it[certified[eng_i]],
        rmp=rmp[certified[eng_i]],
        effect_throughput=effect_throughput,
        p_def=p_defect[eng_i][certified[eng_i]],
        effect_defects=effect_defects,
        effect_cycle_time=effect_cycle_time,
        ramp_months=effect_ramp_months,
    )
    if ai_adoption:
        truth["adoption"] = sample_truth.adoption_truth(
            ids, adopt_m, months, e_ai, extra_prs, adoption_effect_rework
        )
        truth["adoption"]["params"] = {
            "adoption_rate": adoption_rate,
            "effect_throughput": adoption_effect_throughput,
            "fade_months": adoption_fade_months,
            "effect_rework": adoption_effect_rework,
            "base_rework": sample_adoption.BASE_REWORK,
        }
    truth["unsafe_ai_engineers"] = sorted(ids[unsafe].tolist())
    truth["bad_ai_cells"] = [
        {"team": str(teams[c // repos_per_team]), "repo": str(repos[c])}
        for c in sorted(bad_cells.tolist())
    ]
    certs = pl.DataFrame(
        cert_rows,
        schema={
            "engineer_id": pl.String,
            "certification": pl.String,
            "earned_date": pl.Date,
            "cost_usd": pl.Float64,
            "study_hours": pl.Float64,
        },
    )
    # The same validation as loaded data: the simulator's output is held to the data model.
    tables = {"engineers": engineers, "certifications": certs, "pull_requests": prs}
    tables |= {"defects": defects, "incidents": incidents}
    ds = from_frames(**tables, source=f"certkit.simulate(seed={seed})", today=date(2100, 1, 1))
    ds.truth = truth
    return ds


def write_sample(
    out: str | Path,
    *,
    n_engineers: int = SAMPLE_ENGINEERS,
    months: int = SAMPLE_MONTHS,
    seed: int = SAMPLE_SEED,
    format: str = "parquet",
) -> Dataset:
    """Simulate an organisation and write it (with ``truth.json``) as a data folder."""
    ds = simulate(n_engineers=n_engineers, months=months, seed=seed)
    truth = json.dumps(ds.truth, indent=1, default=str) + "\n"
    ds.write(out, format=format, extra={TRUTH_FILE: truth})  # all files at once
    return ds
