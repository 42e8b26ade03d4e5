"""Which defect and incident links name the PR that caused the row, and which the fix.

A defect's or incident's ``pr_id`` is read as the PR that caused it (``docs/data-model.md``),
but the links real tools keep usually name the PR that *fixed* it: Jira's GitHub panel and
bug write-ups link fixes, and DevLake's ``pull_request_issues`` is built from PR texts such as
"Fixes #123". A PR merged at or after the ticket was created (or never merged) cannot have
caused it. With ``fix_links="drop"`` (the default of :func:`certkit.data.panel.build_panel`
and :func:`certkit.connectors.devlake_panel.devlake_panel`) such a row is not charged to the
PR's author: it counts in organisation totals only, as an unlinked row does, or for the
engineer the row names itself (a post-incident review names who). ``fix_links="keep"``
trusts every link as the cause (links that do name causing PRs).

One rule for every path: the narwhals panel (:mod:`certkit.data.panel`, every engine), the
DevLake SQL pushdown (:mod:`certkit.connectors.devlake_panel_sql`), validation
(:mod:`certkit.data.validate`, :mod:`certkit.data.validate_lazy`) and the data-health page
(:mod:`certkit.data.health`) all count the same rows and say it with :func:`fix_words`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw
import polars as pl

from certkit.data.panel_engines import collect_polars
from certkit.errors import CertkitError

#: Values of the ``fix_links`` option; the first is the default.
FIX_LINKS = ("drop", "keep")
#: Example ids named in the message.
EXAMPLES = 3


def check_fix_links(fix_links: str) -> str:
    """``fix_links`` if it is one of :data:`FIX_LINKS`, else a :class:`CertkitError`."""
    if fix_links not in FIX_LINKS:
        raise CertkitError(
            f"fix_links must be 'drop' (a defect or incident linked to a PR merged at or after "
            f"it was reported is not charged to that PR's author) or 'keep' (every link names "
            f"the PR that caused it); got {fix_links!r}"
        )
    return fix_links


def caused_expr(merged: nw.Expr, created: nw.Expr) -> nw.Expr:
    """True where the linked PR merged strictly before the row was created (a possible
    cause); false or null (an unmerged or unknown PR) otherwise."""
    return merged < created


def fix_linked(rows: pl.DataFrame, prs: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``rows`` (defects or incidents) whose ``pr_id`` is a PR of ``prs`` merged
    at or after the row's ``created_date``, or never merged (in the order of ``rows``)."""
    if rows.height == 0 or "pr_id" not in rows.columns:
        return rows.clear()
    tables = {
        "rows": nw.from_native(rows.with_row_index("_order").lazy()),
        "pull_requests": nw.from_native(prs.lazy()),
    }
    found = collect_polars(fix_rows(tables, "rows"))  # the same rule as every other path
    return found.sort("_order").drop("_order", "_merged")


def fix_words(table: str, n: int, examples: Sequence[object]) -> str:
    """The sentence every path says about ``n`` fix-linked rows of ``table`` (``defects`` or
    ``incidents``), naming a few example ids."""
    ids = ", ".join(str(e) for e in list(examples)[:EXAMPLES])
    eg = f", e.g. {ids}" if ids else ""
    if n == 1:
        when = "it was reported" if table == "defects" else "it started"
        return (
            f"1 {table[:-1]} is linked to a PR merged after {when} (or never merged){eg}: "
            "that PR most likely fixed it, so it is not counted against the PR's author "
            "(fix_links='drop', the default) and counts in organisation totals only, or for "
            "the engineer the row names; fix_links='keep' counts it for the PR's author, if "
            "your links name the PRs that caused them"
        )
    when = "they were reported" if table == "defects" else "they started"
    return (
        f"{n:,} {table} are linked to PRs merged after {when} (or never merged){eg}: those "
        "PRs most likely fixed them, so they are not counted against their authors "
        "(fix_links='drop', the default) and count in organisation totals only, or for the "
        "engineer a row names; fix_links='keep' counts them for the PRs' authors, if your "
        "links name the PRs that caused them"
    )


def by_bots(prs: pl.DataFrame, engineers: pl.DataFrame) -> pl.DataFrame:
    """The PRs of ``prs`` whose author is not a human engineer: a bot account (``is_bot``
    true, or an id ending ``[bot]`` such as ``dependabot[bot]``, which validation marks as
    bots) or an author absent from ``engineers``. The panel's cohort is the human engineers,
    so these PRs, and the rows charged to them, count for no engineer."""
    tables = {
        "pull_requests": nw.from_native(prs.lazy()),
        "engineers": nw.from_native(engineers.lazy()),
    }
    return collect_polars(_non_human_prs(tables, tables["pull_requests"]))


def bot_linked(rows: pl.DataFrame, prs: pl.DataFrame, engineers: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``rows`` (defects or incidents) charged to a bot (:func:`bot_rows`), with
    the PR's author as ``_author``, in the order of ``rows``. The panel leaves bots out, so
    these rows count in organisation totals only."""
    if rows.height == 0 or "pr_id" not in rows.columns:
        return rows.clear().with_columns(pl.lit(None, pl.String).alias("_author"))
    tables = {
        "rows": nw.from_native(rows.with_row_index("_order").lazy()),
        "pull_requests": nw.from_native(prs.lazy()),
        "engineers": nw.from_native(engineers.lazy()),
    }
    return collect_polars(bot_rows(tables, "rows")).sort("_order").drop("_order")


def bot_rows(tables: dict[str, nw.LazyFrame], table: str) -> nw.LazyFrame:
    """Rows of ``table`` linked to a PR of :func:`by_bots` and naming no engineer (a named
    engineer counts instead), with the PR's author as ``_author``: one rule for validation
    in memory and where the data lives (:mod:`certkit.data.validate_lazy`), the import and
    the data-health page."""
    rows = tables[table].filter(~nw.col("pr_id").is_null())
    if "engineer_id" in rows.collect_schema().names():
        rows = rows.filter(nw.col("engineer_id").is_null())
    prs = tables["pull_requests"].join(
        rows.select(nw.col("pr_id").alias("id")), on="id", how="semi"
    )
    bots = _non_human_prs(tables, prs).select(
        nw.col("id").alias("pr_id"), nw.col("author_id").alias("_author")
    )
    return rows.join(bots, on="pr_id", how="inner")


def _non_human_prs(tables: dict[str, nw.LazyFrame], prs: nw.LazyFrame) -> nw.LazyFrame:
    """The PRs of ``prs`` with a known author who is not a human engineer of
    ``tables["engineers"]`` (a bot by ``is_bot`` or a ``[bot]`` id, or absent)."""
    engineers = tables["engineers"]
    bot = nw.col("engineer_id").str.ends_with("[bot]")
    if "is_bot" in engineers.collect_schema().names():
        bot = nw.col("is_bot").fill_null(False) | bot
    humans = engineers.filter(~bot).select(nw.col("engineer_id").alias("author_id"))
    return prs.filter(~nw.col("author_id").is_null()).join(humans, on="author_id", how="anti")


def bot_words(table: str, found: pl.DataFrame, n: int | None = None) -> str:
    """The sentence validation and the import say about the :func:`bot_linked` rows of
    ``table`` (``defects`` or ``incidents``), naming a few with their PR and its author;
    ``n``: how many there are, when ``found`` holds only the examples."""
    n = found.height if n is None else n
    shown = ", ".join(
        f"{i} ({pr} by {who})"
        for i, pr, who in found.select("id", "pr_id", "_author").head(EXAMPLES).rows()
    )
    what = f"1 {table[:-1]} is" if n == 1 else f"{n:,} {table} are"
    them = "it counts" if n == 1 else "they count"
    return (
        f"{what} linked to a PR by a bot (dependabot, renovate, an agent with no human to "
        f"credit), e.g. {shown}: the analysis leaves bots out, so {them} in organisation "
        "totals only, for no engineer. If a person answers for such a PR (who merged the "
        "update), name them in a link file's engineer_id column (--link)"
    )


def fix_warnings(tables: dict[str, nw.LazyFrame], dataset: Any, streaming: bool) -> list[str]:
    """The fix-link sentences (:func:`~certkit.data.panel_links.fix_words`) of defects and
    incidents, each computed where the data lives (a count, then a few ids). A sentence the
    dataset's validation already said (``certkit.load`` counts the same rows) is not
    repeated."""
    known = getattr(getattr(dataset, "validation", None), "problems", [])
    said = {p.message for p in known}
    out = []
    for table in ("defects", "incidents"):
        fixes = fix_rows(tables, table)
        n = collect_polars(fixes.select(nw.len().cast(nw.Int64).alias("n")), streaming=streaming)
        if not n.item():
            continue
        ids = fixes.filter(~nw.col("id").is_null()).select("id").sort("id").head(EXAMPLES)
        text = fix_words(table, n.item(), collect_polars(ids)["id"].to_list())
        if text not in said:
            out.append(text)
    return out


def linked_prs(tables: dict[str, nw.LazyFrame]) -> nw.LazyFrame:
    """The PRs a defect or incident links to (``id``, ``author_id``, ``merged_date``): one
    pass over the PR table for the attribution and the fix-link rule of both tables, whose
    joins then read this small table (``pr_id`` values that name no PR join nothing)."""
    refs = [
        tables[name].filter(~nw.col("pr_id").is_null()).select("pr_id")
        for name in ("defects", "incidents")
    ]
    return (
        tables["pull_requests"]
        .select("id", "author_id", "merged_date")
        .join(nw.concat(refs).rename({"pr_id": "id"}), on="id", how="semi")
    )


def fix_rows(tables: dict[str, nw.LazyFrame], table: str) -> nw.LazyFrame:
    """Rows of ``table`` linked to a known PR that merged at or after them, or never."""
    rows = tables[table].filter(~nw.col("pr_id").is_null())
    prs = (
        tables["pull_requests"]
        .select(nw.col("id").alias("pr_id"), nw.col("merged_date").alias("_merged"))
        .join(rows.select("pr_id"), on="pr_id", how="semi")
    )
    caused = caused_expr(nw.col("_merged"), nw.col("created_date"))
    return rows.join(prs, on="pr_id", how="inner").filter(~caused.fill_null(False))


__all__ = [
    "EXAMPLES",
    "FIX_LINKS",
    "bot_linked",
    "bot_rows",
    "bot_words",
    "by_bots",
    "caused_expr",
    "check_fix_links",
    "fix_linked",
    "fix_rows",
    "fix_warnings",
    "fix_words",
    "linked_prs",
]
