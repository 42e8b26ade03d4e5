"""A report's data restricted to some teams, certifications and dates (``filter_dataset``)."""

from __future__ import annotations

from datetime import date

import polars as pl

from certkit.data.catalog import resolve as resolve_certification
from certkit.data.dataset import Dataset
from certkit.errors import CertkitError


def _date(value: str | None, name: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise CertkitError(f"parameter {name!r} must be a date YYYY-MM-DD, got {value!r}") from exc


def filter_dataset(
    ds: Dataset,
    *,
    teams: list[str] | None = None,
    certifications: list[str] | None = None,
    start: str | None = None,
    end: str | None = None,
) -> Dataset:
    """Restrict a dataset to some teams, certifications and a date range.

    With ``certifications``, engineers who earned only *other* certifications are left out:
    they are neither the treated group studied nor a clean comparison group. Bots stay.
    """
    eng = ds.engineers
    # one name given as text (setup(data, teams="core")) was split into letters
    teams = [teams] if isinstance(teams, str) else teams
    certifications = [certifications] if isinstance(certifications, str) else certifications
    if teams:
        known = set(eng["team"].unique().to_list())
        missing = [t for t in teams if t not in known]
        if missing:
            raise CertkitError(
                f"teams {missing} are not in engineers.team (known: {', '.join(sorted(known))})"
            )
        eng = eng.filter(pl.col("team").is_in(teams) | pl.col("is_bot"))
    certs = ds.certifications
    if certifications:
        ids = []
        held = set(certs["certification_id"].unique().to_list())
        for c in certifications:
            # the data's own ids first: a certification outside the catalog is studied too
            cid = c if c in held else resolve_certification(c)
            if cid is None:
                raise CertkitError(
                    f"certification {c!r} is neither in this data's certifications (held: "
                    f"{', '.join(sorted(map(str, held))) or 'none'}) nor in the catalog "
                    "(see certkit.catalog())"
                )
            ids.append(cid)
        other_only = (
            certs.group_by("engineer_id")
            .agg(pl.col("certification_id").is_in(ids).any().alias("studied"))
            .filter(~pl.col("studied"))["engineer_id"]
        )
        eng = eng.filter(~pl.col("engineer_id").is_in(other_only.implode()))
        certs = certs.filter(pl.col("certification_id").is_in(ids))
    keep = eng["engineer_id"].implode()
    certs = certs.filter(pl.col("engineer_id").is_in(keep))
    prs = ds.pull_requests.filter(pl.col("author_id").is_in(keep))
    lo, hi = _date(start, "start"), _date(end, "end")
    if lo and hi and lo > hi:
        raise CertkitError(f"start {lo} is after end {hi}")
    if lo:
        prs = prs.filter(pl.col("created_date").dt.date() >= lo)
    if hi:
        prs = prs.filter(pl.col("created_date").dt.date() <= hi)
        # the data ends there: a PR merged (closed, reviewed) later was still open then, as in
        # an export taken that day (trial W: a PR opened 2026-03-26 and merged 2026-06-08 kept
        # the panel running to June under -p end=2026-03-31, with the quiet months it was meant
        # to leave out)
        later = [
            c
            for c in ("merged_date", "closed_date", "first_review_date")
            if c in prs.columns and prs.schema[c] != pl.Null
        ]
        prs = prs.with_columns(
            pl.when(pl.col(c).dt.date() > hi).then(None).otherwise(pl.col(c)).alias(c)
            for c in later
        )
    if prs.height == 0:
        raise CertkitError("no pull requests left after filtering by teams/certifications/dates")
    pr_ids = prs["id"].implode()

    def linked(df: pl.DataFrame) -> pl.DataFrame:
        if df.height == 0:
            return df
        by_pr = pl.col("pr_id").is_in(pr_ids)
        by_eng = pl.col("pr_id").is_null() & pl.col("engineer_id").is_in(keep)
        unlinked = pl.col("pr_id").is_null() & pl.col("engineer_id").is_null()
        cond = by_pr | by_eng | (unlinked if not teams else pl.lit(False))
        out = df.filter(cond)
        if lo:
            out = out.filter(pl.col("created_date").dt.date() >= lo)
        if hi:
            out = out.filter(pl.col("created_date").dt.date() <= hi)
        return out

    return Dataset(
        engineers=eng,
        certifications=certs,
        pull_requests=prs,
        defects=linked(ds.defects),
        incidents=linked(ds.incidents),
        validation=ds.validation,
        source=ds.source,
        truth=ds.truth,
    )
