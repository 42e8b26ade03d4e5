"""Whole-table validation rules as narwhals lazy queries: they run where the data lives.

``certkit.load`` validates every row in polars memory (:mod:`certkit.data.validate`). For a
lazy :class:`~certkit.data.dataset.Dataset` (polars LazyFrames, DuckDB relations, Spark DataFrames;
see :mod:`certkit.data.panel_sources`) the rules that scan whole tables are run as queries in
the table's own engine; each brings back only a count and a few example keys:

* unique keys: ``engineers.engineer_id``, ``pull_requests.id``;
* foreign keys: ``certifications.engineer_id`` and ``pull_requests.author_id`` (bots,
  ``[bot]`` suffix, excepted) must be in ``engineers``;
* date order: ``leave_date`` not before ``hire_date``, ``merged_date`` not before
  ``created_date``;
* defects and incidents linked to a PR merged at or after them (or never): the PR that most
  likely fixed them, which the panel does not charge to its author (a warning, as ``load``'s);
  and those linked to a bot's PR, naming no engineer: counted for nobody (a warning too);
* column types the panel can read (:func:`~certkit.data.panel_engines.conformed`): integer
  ids, timestamps for dates and the like are converted, text where a date or number belongs
  is an error (then the other rules are not run).

Severities follow ``certkit load``: repeated keys and leave-before-hire are errors, unknown
people and merges before creation warnings (the panel leaves those rows out).
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

from certkit.data.panel_engines import (
    collect_polars,
    conformed,
    counted_certifications,
    to_lazy,
)
from certkit.data.panel_links import bot_rows, bot_words, fix_rows, fix_words
from certkit.data.validate import Problem, ValidationReport

#: Example keys shown per problem.
EXAMPLES = 3


def validate_lazy(dataset: Any) -> ValidationReport:
    """Run the whole-table rules on ``dataset``'s tables in their own engine.

    Parameters
    ----------
    dataset
        A :class:`~certkit.data.dataset.Dataset` whose tables are polars (eager or lazy), DuckDB
        relations or Spark DataFrames.

    Returns
    -------
    ValidationReport
        One :class:`~certkit.data.validate.Problem` per broken rule, naming the table, the
        column, how many rows break it and example keys (in ``rows``).
    """
    t = {name: to_lazy(getattr(dataset, name), name) for name in dataset.TABLE_NAMES}
    problems: list[Problem] = []
    for name, frame in t.items():  # conventional types converted, the unreadable reported
        t[name], refused = conformed(name, frame)
        for exc in refused:
            problems.append(Problem("error", name, exc.expected, exc.column))
    if problems:  # the rules below would compare text with dates
        return ValidationReport(problems)
    names = {name: set(frame.collect_schema().names()) for name, frame in t.items()}

    def add(severity: str, table: str, column: str, bad: nw.LazyFrame, key: str, what: str):
        n, examples = _count_and_examples(bad, key)
        if n:
            shown = ", ".join(str(e) for e in examples)
            problems.append(
                Problem(
                    severity,
                    table,
                    f"{what}: {n:,} row(s), e.g. {key} {shown}",
                    column,
                    list(examples),
                    row_label=key,
                )
            )

    for table, key in (("engineers", "engineer_id"), ("pull_requests", "id")):
        if key in names[table]:
            repeated = (
                t[table]
                .filter(~nw.col(key).is_null())
                .group_by(key)
                .agg(nw.len().alias("_n"))
                .filter(nw.col("_n") > 1)
            )
            add("error", table, key, repeated, key, "ids must be unique; repeated")

    people = t["engineers"].select("engineer_id")
    certs = t["certifications"].filter(~nw.col("engineer_id").is_null())
    if "certification" in names["certifications"]:  # rows the panel leaves out, as load does
        counted = counted_certifications(certs, list(names["certifications"]))
        add(
            "warning",
            "certifications",
            "certification",
            certs.filter(~counted),
            "certification",
            "left out of the treatment (a revoked, rejected or pending status, a certification "
            "the catalog knows is not an ML one, or ml false; certkit validate on a folder "
            "names the lines)",
        )
        certs = certs.filter(counted)
    add(
        "warning",
        "certifications",
        "engineer_id",
        certs.join(people, on="engineer_id", how="anti"),
        "engineer_id",
        "engineer_id not found in engineers",
    )
    authors = t["pull_requests"].filter(
        ~nw.col("author_id").is_null() & ~nw.col("author_id").str.ends_with("[bot]")
    )
    add(
        "warning",
        "pull_requests",
        "author_id",
        authors.join(people.rename({"engineer_id": "author_id"}), on="author_id", how="anti"),
        "id",
        "author_id not found in engineers (left out of the panel)",
    )
    if "leave_date" in names["engineers"]:
        early = t["engineers"].filter(nw.col("leave_date") < nw.col("hire_date"))
        add(
            "error",
            "engineers",
            "leave_date",
            early,
            "engineer_id",
            "leave_date is before hire_date",
        )
    merged_early = t["pull_requests"].filter(nw.col("merged_date") < nw.col("created_date"))
    add(
        "warning",
        "pull_requests",
        "merged_date",
        merged_early,
        "id",
        "merged_date is before created_date",
    )
    for table in ("defects", "incidents"):  # links naming the fix (certkit.data.panel_links)
        if {"pr_id", "created_date"} <= names[table] and "merged_date" in names["pull_requests"]:
            ids = nw.col("id").cast(nw.String) if "id" in names[table] else nw.lit(None, nw.String)
            valid = t["pull_requests"].filter(  # the PRs the panel keeps
                ~(nw.col("merged_date") < nw.col("created_date")).fill_null(False)
            )
            rows = t[table].with_columns(ids.alias("id"))
            fixes = fix_rows({"pull_requests": valid, table: rows}, table)
            n = collect_polars(fixes.select(nw.len().cast(nw.Int64).alias("n"))).item()
            if n:
                _, examples = _count_and_examples(fixes.filter(~nw.col("id").is_null()), "id")
                text = fix_words(table, n, examples)
                problems.append(Problem("warning", table, text, "pr_id", examples, row_label="id"))
        if "pr_id" in names[table]:  # charged to a bot: the panel counts them for nobody
            ids = nw.col("id").cast(nw.String) if "id" in names[table] else nw.lit(None, nw.String)
            tables = {**t, table: t[table].with_columns(ids.alias("id"))}
            bots = bot_rows(tables, table)
            n, _ = _count_and_examples(bots, "pr_id")
            if n:
                found = collect_polars(
                    bots.select("id", "pr_id", "_author").sort("id", "pr_id").head(EXAMPLES)
                )
                text = bot_words(table, found, n)
                problems.append(
                    Problem("warning", table, text, "pr_id", found["id"].to_list(), row_label="id")
                )
    return ValidationReport(problems)


def _count_and_examples(bad: nw.LazyFrame, key: str) -> tuple[int, list[Any]]:
    """How many rows ``bad`` has and its first few (smallest) keys, in two small queries."""
    n = collect_polars(bad.select(nw.len().cast(nw.Int64).alias("n"))).item()
    if not n:
        return 0, []
    examples = collect_polars(bad.select(key).sort(key).head(EXAMPLES))[key].to_list()
    return int(n), examples
