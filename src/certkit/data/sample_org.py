"""The simulated organisation's vocabulary and side tables, for :mod:`certkit.data.sample`.

Team, role, level, platform and name lists, the certification propensities, the certification
rows drawn from the catalog and the bot accounts. Kept apart from the generator so that
:mod:`certkit.data.sample` holds the engineer-month and pull-request model only.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from certkit.data.catalog import catalog as load_catalog

US_PER_HOUR = 3_600_000_000

TEAM_NAMES = [
    "payments",
    "search",
    "ml-platform",
    "recommendations",
    "data-infra",
    "growth",
    "identity",
    "risk",
    "checkout",
    "mobile-api",
    "forecasting",
    "pricing",
    "ads",
    "messaging",
    "analytics",
    "core-api",
    "observability",
    "fraud",
    "catalog",
    "vision",
]
ROLES = {
    "ml_engineer": 0.2,
    "data_scientist": 0.15,
    "data_engineer": 0.2,
    "backend": 0.3,
    "platform": 0.15,
}
LEVELS = {"junior": 0.25, "mid": 0.35, "senior": 0.3, "staff": 0.1}
PLATFORM_SHARES = {"aws": 0.38, "gcp": 0.2, "azure": 0.2, "databricks": 0.14, "other": 0.08}
AI_TOOLS = {"copilot": 0.45, "claude": 0.25, "cursor": 0.2, "aider": 0.1}
FIRST = [
    "Ana",
    "Ben",
    "Chen",
    "Dara",
    "Eli",
    "Farah",
    "Gus",
    "Hana",
    "Ivan",
    "Jia",
    "Kofi",
    "Lena",
    "Mo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Viktor",
    "Wen",
    "Xavi",
    "Yara",
    "Zoe",
]
LAST = [
    "Okafor",
    "Silva",
    "Nguyen",
    "Schmidt",
    "Kowalski",
    "Haddad",
    "Tanaka",
    "Moreau",
    "Rossi",
    "Jensen",
    "Patel",
    "Garcia",
    "Kim",
    "Novak",
    "Ibrahim",
    "Larsen",
]

# Certification propensity (log-odds contributions): selection on observables.
CERT_ROLE = {
    "ml_engineer": 1.2,
    "data_scientist": 0.9,
    "data_engineer": 0.5,
    "backend": -0.4,
    "platform": 0.0,
}
CERT_LEVEL = {"junior": -0.3, "mid": 0.3, "senior": 0.4, "staff": -0.2}
CERT_PLATFORM = {"aws": 0.3, "gcp": 0.2, "azure": 0.1, "databricks": 0.3, "other": -1.0}
LEVEL_THROUGHPUT = {"junior": 0.8, "mid": 1.0, "senior": 1.1, "staff": 0.9}
LEVEL_LOG_CYCLE = {"junior": 0.2, "mid": 0.0, "senior": -0.1, "staff": -0.05}
PLATFORM_CERT = {"gcp": "gcp-pmle", "azure": "azure-dp-100", "databricks": "databricks-mlp"}


def choice(rng, options: dict[str, float], n: int) -> np.ndarray:
    keys = list(options)
    p = np.array(list(options.values()))
    return np.array(keys)[rng.choice(len(keys), size=n, p=p / p.sum())]


def choice_series(rng, options: dict[str, float], n: int) -> pl.Series:
    """:func:`choice` (the same draws) as a polars Series, gathered from the few options:
    turning a long numpy string array into polars costs about 1.5 us a value."""
    keys = list(options)
    p = np.array(list(options.values()))
    return pl.Series(keys, dtype=pl.String)[rng.choice(len(keys), size=n, p=p / p.sum())]


def numbered(prefix: str, n: int, width: int = 0) -> pl.Series:
    """``prefix`` + 1..n (zero-padded to ``width`` digits), built in polars."""
    digits = pl.int_range(1, n + 1, eager=True).cast(pl.String).str.zfill(width)
    return (prefix + digits) if n else pl.Series([], dtype=pl.String)


def month_starts_from(start: date, months: int) -> np.ndarray:
    return np.arange(np.datetime64(start, "M"), np.datetime64(start, "M") + months + 1)


def intercept_for_rate(logit: np.ndarray, rate: float) -> float:
    """Intercept that makes the mean of sigmoid(intercept + logit) equal to ``rate``."""
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1 / (1 + np.exp(-(mid + logit)))) < rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def catalog_entries() -> list[dict]:
    return (
        load_catalog()
        .select("id", "name", "exam_fee_usd", "study_hours_typical", "retirement_date", "successor")
        .to_dicts()
    )


def certification_rows(rng, ids, platforms, days, window_end) -> list[dict]:
    """One row per certification earned; AWS Specialty only until its retirement date."""
    entries = {c["id"]: c for c in catalog_entries()}
    retire = np.datetime64(entries["aws-mls-c01"]["retirement_date"], "D")
    rows = []
    for eid, plat, day in zip(ids, platforms, days, strict=True):
        if plat == "aws":
            cid = "aws-mls-c01" if day <= retire and rng.random() < 0.6 else "aws-mla-c01"
        elif plat in PLATFORM_CERT:
            cid = PLATFORM_CERT[plat]
        else:
            cid = rng.choice(list(PLATFORM_CERT.values()))
        picks = [(cid, day)]
        if rng.random() < 0.1:  # a second certification later on
            second = day + np.timedelta64(int(rng.integers(60, 300)), "D")
            other = rng.choice([c for c in PLATFORM_CERT.values() if c != cid])
            if second < window_end:
                picks.append((other, second))
        for c, d in picks:
            e = entries[c]
            rows.append(
                {
                    "engineer_id": str(eid),
                    "certification": e["name"],
                    "earned_date": d.astype(object),
                    "cost_usd": float(e["exam_fee_usd"] + round(rng.choice([0, 0, 150, 400]))),
                    "study_hours": float(
                        round(e["study_hours_typical"] * np.exp(rng.normal(0, 0.3)))
                    ),
                }
            )
    return rows


def add_bots(rng, engineers, prs, repos, month_starts, window_end):
    bot_ids = ["dependabot[bot]", "renovate[bot]"]
    start = month_starts[0].astype("datetime64[D]")
    bots = pl.DataFrame(
        {
            "engineer_id": bot_ids,
            "team": ["automation"] * 2,
            "role": ["bot"] * 2,
            "level": ["n/a"] * 2,
            "hire_date": np.array([start - np.timedelta64(365, "D")] * 2, dtype="datetime64[D]"),
            "platform": ["other"] * 2,
            "leave_date": np.array(["NaT", "NaT"], dtype="datetime64[D]"),
            "name": bot_ids,
            "email": [f"{b}@users.noreply.github.com" for b in bot_ids],
            "is_bot": [True, True],
        }
    ).with_columns(pl.col("hire_date").cast(pl.Date), pl.col("leave_date").cast(pl.Date))
    k = int(30 * (month_starts.size - 1))
    span = int((window_end - start).astype(int)) * 24 * US_PER_HOUR
    created = start.astype("datetime64[us]") + (rng.random(k) * span * 0.99).astype(
        "timedelta64[us]"
    )
    done = created + (rng.exponential(20, k) * US_PER_HOUR).astype("timedelta64[us]")
    ok = done < window_end.astype("datetime64[us]")
    bot_prs = pl.DataFrame(
        {
            "id": numbered("PR-B", k),
            "author_id": pl.Series(bot_ids, dtype=pl.String)[rng.integers(0, 2, k)],
            "repo": pl.Series(repos, dtype=pl.String)[rng.integers(0, repos.size, k)],
            "created_date": created,
            "merged_date": np.where(ok, done, np.datetime64("NaT")),
            "closed_date": np.where(ok, done, np.datetime64("NaT")),
            "first_review_date": np.full(k, np.datetime64("NaT"), dtype="datetime64[us]"),
            "additions": rng.integers(1, 40, k),
            "deletions": rng.integers(1, 40, k),
            "ai_assisted": np.zeros(k),
            "reverted": np.zeros(k, bool),
        }
    ).with_columns(
        pl.col("^.*_date$").cast(pl.Datetime("us")), pl.lit(None, pl.String).alias("ai_tool")
    )
    return (
        pl.concat([engineers, bots], how="vertical_relaxed"),
        pl.concat(
            [
                prs,
                bot_prs.select(
                    pl.col(c) if c in bot_prs.columns else pl.lit(None).alias(c)
                    for c in prs.columns
                ).cast(prs.schema),
            ],
            how="vertical",
        ),  # columns bots lack (the simulated line ledger) are null for them
    )
