"""Authors outside the roster: those with the most PRs, and those who write from the roster's
own e-mail domain (likely colleagues).

trial AE (getsentry/sentry-python): 7 authors the import added (johannes.daxboeck@sentry.io,
philipp.hofmann@sentry.io, ...) counted as never-certified engineers of team ``unknown``, with
no hint that they are probably colleagues to add to the roster. The note names the domain,
how many authors and PRs, and a few addresses.
"""

from __future__ import annotations

import polars as pl

from certkit.connectors.identity import bot_like

__all__ = ["colleague_note", "unlisted_examples"]

#: E-mail domains many unrelated people share: never "the organisation's own".
PUBLIC_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "163.com",
        "users.noreply.github.com",
        "noreply.github.com",
        "example.com",
    }
)


def _domain(email: pl.Expr) -> pl.Expr:
    return email.cast(pl.String).str.strip_chars().str.to_lowercase().str.extract(r"@([^@\s]+)$")


def colleague_note(roster: pl.DataFrame, added: pl.DataFrame, prs: pl.DataFrame) -> str:
    """A note on the authors in ``added`` (the import's placeholder engineers: ``engineer_id``,
    ``email``) whose e-mail domain two or more roster engineers use (``roster``'s ``email``),
    public mail domains left aside; empty when there are none. ``prs``: the imported PRs
    (``author_id``), to count theirs."""
    if "email" not in roster.columns or "email" not in added.columns or added.is_empty():
        return ""
    own = (
        roster.select(_domain(pl.col("email")).alias("d"))
        .drop_nulls()
        .group_by("d")
        .len()
        .filter((pl.col("len") >= 2) & ~pl.col("d").is_in(list(PUBLIC_DOMAINS)))
    )
    if own.is_empty():
        return ""
    name = pl.col("name") if "name" in added.columns else pl.lit(None, pl.String)
    found = added.select(
        "engineer_id", "email", name.alias("name"), _domain(pl.col("email")).alias("d")
    ).filter(pl.col("d").is_in(own["d"].implode()))
    # an automation account of the organisation is no colleague (trial AH: sdk-sentinel-bot
    # in this note and, next to it, in the automation-like one)
    found = found.filter(
        ~pl.struct("engineer_id", "email", "name").map_elements(
            # the name too: sdk-sentinel@temporal.io is "sdk-sentinel-bot" by name (trial AI)
            lambda r: bot_like(r["name"], r["email"], r["engineer_id"]),
            return_dtype=pl.Boolean,
        )
    )
    if found.is_empty():
        return ""
    n_prs = prs.filter(pl.col("author_id").is_in(found["engineer_id"].implode())).height
    domains = ", ".join(f"@{d}" for d in sorted(found["d"].unique().to_list()))
    examples = ", ".join(sorted(found["email"].cast(pl.String).to_list())[:3])
    more = ", ..." if found.height > 3 else ""
    # the DevLake pushdown hands over no PRs (trial AG: "0 PR(s)" where the import said 10)
    count = f"; {n_prs} PR(s)" if n_prs else ""
    return (
        f"{found.height} author(s) outside the roster write from the roster's own e-mail domain "
        f"({domains}: {examples}{more}{count}): probably colleagues, who count as "
        "never-certified engineers of team 'unknown' until the roster lists them (or an "
        "identity file maps them to a roster engineer)"
    )


def unlisted_examples(authors: pl.Series, unlisted: set[str], n: int = 5) -> str:
    """``"DouweM (510 PRs), ..."``: the ``n`` unlisted authors with the most PRs."""
    counts = (
        authors.filter(authors.is_in(list(unlisted)))
        .value_counts(name="prs")
        .sort(["prs", authors.name], descending=[True, False])
        .head(n)
    )
    return ", ".join(f"{a} ({k} PR{'s' if k != 1 else ''})" for a, k in counts.iter_rows())
