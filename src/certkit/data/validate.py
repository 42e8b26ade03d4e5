"""Validation rules for certkit's input tables, and the report they fill.

Every rule adds :class:`Problem` s to one :class:`ValidationReport` through a :class:`Collector`,
which translates row numbers into what the user's file shows (CSV line, NDJSON line, PR id), so
all problems are reported together. The tables arrive typed (:func:`certkit.data.read.prepare`);
``certkit.data.dataset`` runs the rules in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from certkit.data.catalog import resolve as resolve_certification
from certkit.data.panel_links import EXAMPLES, bot_linked, bot_words, fix_linked, fix_words
from certkit.data.schema import PLATFORMS, Table
from certkit.data.tenure import outside_tenure, tenure_words
from certkit.display import oneline
from certkit.display import table as display_table

ROW = "__row"  # 1-based data row number, kept until validation is done
# Share of PRs with merged_date before created_date above which it is an error, not noise.
MAX_NEGATIVE_DURATION_SHARE = 0.05


# ---------------------------------------------------------------------------------------------
# Validation report
# ---------------------------------------------------------------------------------------------


@dataclass
class Problem:
    """One validation finding: where it is and what was expected."""

    severity: str  # "error", "warning" or "info"
    table: str
    message: str
    column: str | None = None
    rows: list[int | str] = field(default_factory=list)  # or ids: PR numbers, issue keys
    file: str | None = None
    row_label: str = "row"

    def format(self, rows: bool = True) -> str:
        """``SEVERITY file, column 'c', lines 2, 3: message``; ``rows=False`` says how many
        rows instead of which (a shared report: an id or a line points at one person)."""
        where = self.file or self.table
        if self.column:
            where += f", column {self.column!r}"
        if self.rows and not rows:
            where += f", {len(self.rows):,} row{'s' if len(self.rows) > 1 else ''}"
        elif self.rows:
            shown = ", ".join(str(r) for r in self.rows[:10])
            more = f" and {len(self.rows) - 10} more" if len(self.rows) > 10 else ""
            plural = "s" if len(self.rows) > 1 else ""
            where += f", {self.row_label}{plural} {shown}{more}"
        return f"{self.severity.upper():7} {where}: {self.message}"


@dataclass
class ValidationReport:
    """Everything the validation found, errors and warnings together."""

    problems: list[Problem] = field(default_factory=list)
    #: Rows left out of a table on purpose, by table (certification rows that are not the
    #: treatment: revoked badges, non-ML certifications), so an import can still write them.
    left_out: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors

    def format(self) -> str:
        if not self.problems:
            return "Validation passed: no problems found."
        head = f"Validation found {len(self.errors)} error(s) and {len(self.warnings)} warning(s):"
        order = {"error": 0, "warning": 1, "info": 2}
        body = [p.format() for p in sorted(self.problems, key=lambda p: order[p.severity])]
        return "\n".join([head, *body])

    def to_polars(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "severity": [p.severity for p in self.problems],
                "table": [p.table for p in self.problems],
                "file": [p.file for p in self.problems],
                "column": [p.column for p in self.problems],
                "n_rows": [len(p.rows) for p in self.problems],
                "rows": [", ".join(map(str, p.rows[:20])) for p in self.problems],
                "message": [p.message for p in self.problems],
            },
            schema={
                "severity": pl.String,
                "table": pl.String,
                "file": pl.String,
                "column": pl.String,
                "n_rows": pl.Int64,
                "rows": pl.String,
                "message": pl.String,
            },
        )

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        info = len(self.problems) - len(self.errors) - len(self.warnings)
        return oneline(
            "ValidationReport",
            errors=len(self.errors),
            warnings=len(self.warnings),
            info=info or None,
        )

    def _repr_html_(self) -> str:
        title = f"Validation: {len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        if not self.problems:
            return display_table(
                pl.DataFrame({"result": ["no problems found"]}), title=title
            ).to_html()
        order = {"error": 0, "warning": 1, "info": 2}
        shown = sorted(self.problems, key=lambda p: order[p.severity])
        rows = pl.DataFrame(
            {
                "severity": [p.severity for p in shown],
                "where": [p.format().split(": ", 1)[0].split(None, 1)[1] for p in shown],
                "problem": [p.message for p in shown],
            }
        )
        return display_table(rows, title=title, max_rows=None).to_html()


class Collector:
    """Adds problems for one table, translating row numbers into what the user's file shows."""

    def __init__(self, report, table: str, file: str | None, fmt: str | None, names=None):
        self.report, self.table, self.file = report, table, file
        # CSV: line numbers as an editor shows them (header is line 1); NDJSON: line numbers.
        self.offset = {"csv": 1, "ndjson": 0}.get(fmt or "", 0)
        self.label = "line" if fmt in ("csv", "ndjson") else "row"
        # names: (label, one value per row), what the source calls rows: ("PR", ["org/a#3"]);
        # then maybe (label, ids) of rows the import added after the file's: ("engineer", [...])
        self.label, self.names, *added = names if names else (self.label, None)
        self.added: tuple[str, list] | None = added[0] if added else None

    def name_rows(self, df: pl.DataFrame | None, key: str | None) -> None:
        """Name a Parquet table's rows by their ``key`` (a PR id, an engineer id): a Parquet
        file shows no line numbers, and the import's notes name the same rows by id (trial
        H). Rows without an id keep their number."""
        if self.names or df is None or not key or key not in df.columns:
            return
        if self.label == "row" and df[key].dtype == pl.String:
            self.label, self.names = ("id" if key == "id" else key.removesuffix("_id")), df[key]

    def add(self, severity: str, message: str, column: str | None = None, rows=()):
        rows = list(rows)  # row numbers: a list, or a polars Series of them
        n, file, label = self.names, self.file, self.label
        if self.added and isinstance(n, list):  # rows the import added are in no line of file
            if rows and all(int(r) > len(n) for r in rows):
                file, label, n = None, self.added[0], [None] * len(n) + self.added[1]
            else:
                n = n + [f"{i} (added by the import)" for i in self.added[1]]
        if isinstance(n, pl.Series):
            ids = n.gather([int(r) - 1 for r in rows]).to_list() if rows else []
            where = [i if i is not None else f"(row {r})" for i, r in zip(ids, rows, strict=True)]
        else:
            where = [n[int(r) - 1] if n else int(r) + self.offset for r in rows]
        self.report.problems.append(
            Problem(severity, self.table, message, column, where, file, label)
        )


# ---------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------


def rows_where(df: pl.DataFrame, mask) -> list[int]:
    """The row numbers (``ROW``) where ``mask`` holds (only that column is filtered: a
    filter of the whole frame per rule was a third of simulate()'s time)."""
    return df.select(pl.col(ROW).filter(mask))[ROW].to_list()


def check_keys(df: pl.DataFrame, table: Table, col: Collector) -> pl.DataFrame:
    key = df[table.key] if table.key else None
    # the distinct count first: a fifth of the time of marking duplicates on 1M ids
    if key is not None and key.n_unique() < df.height - max(key.null_count() - 1, 0):
        dup = pl.col(table.key).is_duplicated() & pl.col(table.key).is_not_null()
        rows = rows_where(df, dup)
        if rows:
            ids = ", ".join(df.filter(dup)[table.key].unique(maintain_order=True).head(5))
            hint = (
                " (a person listed twice, such as a rehire with two employment periods? "
                "certkit keeps one period per engineer: keep one row, or give the later "
                "period its own id)"
                if table.name == "engineers"
                else ""
            )
            col.add("error", f"ids must be unique; repeated: {ids}{hint}", table.key, rows)
    if df.height == 0:
        col.add("error" if table.required else "warning", "table has a header but no rows")
    return df


def check_engineers(df: pl.DataFrame, col: Collector, today: date) -> pl.DataFrame:
    df = df.with_columns(
        pl.col("platform").str.to_lowercase(),
        (pl.col("is_bot").fill_null(False) | pl.col("engineer_id").str.ends_with("[bot]")).alias(
            "is_bot"
        ),
    )
    unknown = ~pl.col("platform").is_in(PLATFORMS) & pl.col("platform").is_not_null()
    rows = rows_where(df, unknown)
    if rows:
        vals = ", ".join(df.filter(unknown)["platform"].unique().sort().head(5))
        col.add(
            "warning",
            f"platform must be one of {', '.join(PLATFORMS)}; got {vals} (read as 'other')",
            "platform",
            rows,
        )
        df = df.with_columns(
            pl.when(unknown).then(pl.lit("other")).otherwise(pl.col("platform")).alias("platform")
        )
    for name in ("team", "role", "level"):
        df = one_spelling(df, name, col)
    rows = rows_where(df, pl.col("leave_date") < pl.col("hire_date"))
    if rows:
        col.add("error", "leave_date is before hire_date", "leave_date", rows)
    rows = rows_where(df, pl.col("hire_date") > today)
    if rows:
        col.add("warning", f"hire_date is in the future (after {today})", "hire_date", rows)
    return df


def one_spelling(df: pl.DataFrame, name: str, col: Collector) -> pl.DataFrame:
    """Values of ``name`` that differ only in case or spacing (``Senior``, ``senior``,
    ``senior ``: two HR exports joined) read as their most common spelling, with a warning;
    they would otherwise be two levels, and exact matching would never pair them."""
    key = pl.col(name).str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " ")
    spellings = (
        df.filter(pl.col(name).is_not_null())
        .group_by(key.alias("_key"), pl.col(name))
        .agg(pl.len().alias("_n"))
        .sort(["_key", "_n", name], descending=[False, True, False])
    )
    variants = spellings.filter(pl.col("_key").is_duplicated())
    if variants.height == 0:
        return df
    chosen = dict(
        variants.group_by("_key", maintain_order=True).first().select("_key", name).iter_rows()
    )
    rewrite = {v: chosen[k] for k, v in variants.select("_key", name).iter_rows() if v != chosen[k]}
    rows = rows_where(df, pl.col(name).is_in(list(rewrite)))
    said = ", ".join(f"{old!r} as {new!r}" for old, new in list(rewrite.items())[:5])
    col.add(
        "warning",
        f"values that differ only in case or spacing are read as one: {said}",
        name,
        rows,
    )
    return df.with_columns(pl.col(name).replace(rewrite))


def check_certifications(df, engineers, col: Collector, today: date) -> pl.DataFrame:
    """Certification rules. Rows that are not the treatment (revoked / pending / rejected
    badges, certifications the catalog knows are not ML ones) are left out first, with a
    warning (:mod:`certkit.data.certification_checks`), so they neither set cohorts nor
    need an engineer."""
    from certkit.data import certification_checks as cc

    df = cc.leave_out_uncounted(df, col)
    known = engineers["engineer_id"]
    unknown = ~pl.col("engineer_id").is_in(known.implode())
    rows = rows_where(df, unknown)
    if rows:
        ids = df.filter(unknown)["engineer_id"].unique(maintain_order=True)
        shown = ", ".join(repr(v) for v in ids.head(3))
        more = f" and {ids.len() - 3} more" if ids.len() > 3 else ""
        hint = cc.engineer_hints(ids.drop_nulls().to_list(), engineers)
        col.add(
            "error",
            f"engineer_id not found in engineers: {shown}{more}" + (f"; {hint}" if hint else ""),
            "engineer_id",
            rows,
        )
    rows = rows_where(df, pl.col("earned_date") > today)
    if rows:
        col.add("error", f"earned_date is in the future (after {today})", "earned_date", rows)
    hired = df.join(engineers.select("engineer_id", "hire_date"), on="engineer_id", how="left")
    rows = rows_where(hired, pl.col("earned_date") < pl.col("hire_date"))
    if rows:
        col.add(
            "warning",
            "earned before hire_date: treated as certified on arrival (these "
            "engineers have no pre-certification period and are left out of DiD cohorts)",
            "earned_date",
            rows,
        )
    cc.ramp_up_warning(hired, engineers, col)
    names = df["certification"].drop_nulls().unique()
    mapping = {n: resolve_certification(n, ml=None) for n in names}
    unknown = sorted(n for n, i in mapping.items() if i is None)
    if unknown:
        cc.unknown_catalog_warning(df, unknown, col)
    df = df.with_columns(
        pl.col("certification")
        .replace_strict(
            {k: (v or k) for k, v in mapping.items()}, default=None, return_dtype=pl.String
        )
        .alias("certification_id")
    )
    dup = pl.struct("engineer_id", "certification_id", "earned_date").is_duplicated()
    first = pl.struct("engineer_id", "certification_id", "earned_date").is_first_distinct()
    rows = rows_where(df, dup & ~first)
    if rows:
        col.add(
            "warning",
            "same engineer, certification and date repeated; duplicates dropped",
            rows=rows,
        )
        df = df.filter(~dup | first)
    for name in ("cost_usd", "study_hours"):
        rows = rows_where(df, pl.col(name) < 0)
        if rows:
            col.add("error", "must not be negative", name, rows)
    return df


def check_pull_requests(df, engineers, col: Collector) -> pl.DataFrame:
    for name in ("additions", "deletions"):
        rows = rows_where(df, pl.col(name) < 0)
        if rows:
            col.add("error", "line counts must not be negative", name, rows)
    rows = rows_where(df, (pl.col("ai_assisted") < 0) | (pl.col("ai_assisted") > 1))
    if rows:
        col.add(
            "error",
            "ai_assisted must be true/false or a share between 0 and 1",
            "ai_assisted",
            rows,
        )
    negative = pl.col("merged_date") < pl.col("created_date")
    rows = rows_where(df, negative)
    if rows:
        share = len(rows) / max(df.height, 1)
        if share > MAX_NEGATIVE_DURATION_SHARE:
            col.add(
                "error",
                f"merged_date is before created_date for {share:.0%} of PRs: "
                "probably a timezone or column mix-up",
                "merged_date",
                rows,
            )
        else:
            col.add(
                "warning",
                f"merged_date is before created_date: {len(rows)} PR(s) dropped",
                "merged_date",
                rows,
            )
            df = df.filter(~negative.fill_null(False))
    bad_review = pl.col("first_review_date") < pl.col("created_date")
    rows = rows_where(df, bad_review)
    if rows:
        col.add(
            "warning",
            f"first_review_date is before created_date; review time ignored for {len(rows)} PR(s)",
            "first_review_date",
            rows,
        )
        df = df.with_columns(
            pl.when(bad_review)
            .then(None)
            .otherwise(pl.col("first_review_date"))
            .alias("first_review_date")
        )
    unknown = ~pl.col("author_id").is_in(engineers["engineer_id"].implode())
    bots = pl.col("author_id").str.ends_with("[bot]")
    rows = rows_where(df, unknown & ~bots)
    if rows:
        n_auth = df.filter(unknown & ~bots)["author_id"].n_unique()
        top = (  # the authors with the most PRs first: the ones worth mapping
            df.filter(unknown & ~bots)["author_id"]
            .value_counts(name="n")
            .sort(["n", "author_id"], descending=[True, False])
            .head(5)
        )
        ids = ", ".join(top["author_id"])
        most = ", ".join(f"{a}: {n}" for a, n in top.iter_rows())
        col.add(
            "warning",
            f"author_id not found in engineers ({n_auth} author(s), e.g. {ids}); "
            f"their {len(rows)} PR(s) are left out of the analysis"
            + (f" (PRs of the authors with the most: {most})" if n_auth > 1 else ""),
            "author_id",
            rows,
        )
    check_tenure(df, engineers, col)
    return df


def check_tenure(prs: pl.DataFrame, engineers: pl.DataFrame, col: Collector) -> None:
    """PRs merged before their author's hire month: the panel leaves them out (trial G: 48 of
    xarray's roster PRs vanished without a word). Those merged after the leave month, left
    out too, are counted by the data-health page only."""
    if "leave_date" not in engineers.columns:
        engineers = engineers.with_columns(pl.lit(None, pl.Date).alias("leave_date"))
    outside = outside_tenure(prs, engineers)
    text = tenure_words(outside, "before")  # "after": a PR merged once its author left is
    if text:  # common (a colleague merges it) and the data-health page counts it
        rows = outside.filter(pl.col("side") == "before")[ROW].to_list()
        col.add("warning", text, "merged_date", rows)


def check_linked(df, prs, engineers, col: Collector) -> pl.DataFrame:
    """Defects and incidents: links to PRs/engineers and resolution dates."""
    rows = _unknown_pr_rows(df, prs)
    if rows:
        col.add("warning", "pr_id not found in pull_requests; link ignored", "pr_id", rows)
        df = df.with_columns(
            pl.when(~pl.col(ROW).is_in(pl.Series(rows, dtype=df.schema[ROW]).implode()))
            .then(pl.col("pr_id"))
            .alias("pr_id")
        )
    unknown_eng = pl.col("engineer_id").is_not_null() & ~pl.col("engineer_id").is_in(
        engineers["engineer_id"].implode()
    )
    rows = rows_where(df, unknown_eng)
    if rows:
        col.add("warning", "engineer_id not found in engineers; link ignored", "engineer_id", rows)
        df = df.with_columns(
            pl.when(unknown_eng).then(None).otherwise(pl.col("engineer_id")).alias("engineer_id")
        )
    unlinked = pl.col("pr_id").is_null() & pl.col("engineer_id").is_null()
    rows = rows_where(df, unlinked)
    if rows:
        refs = ""
        if "pr_ref" in df.columns:  # the import keeps references that matched no PR
            named = df.filter(unlinked & pl.col("pr_ref").is_not_null())
            if named.height:
                shown = ", ".join(
                    f"{r} ({ref})" for r, ref in named.select("id", "pr_ref").head(3).rows()
                )
                refs = (
                    f"; {named.height} of them name a PR that is not in the data (column "
                    f"pr_ref, e.g. {shown}): fix the reference or import that repository"
                )
        col.add(
            "info",
            f"{len(rows)} row(s) are linked to no PR or engineer: they count in "
            f"organisation totals only{refs}",
        )
    fixes = fix_linked(df, prs)  # the PR merged after the row: its fix (certkit.data.panel_links)
    if fixes.height:
        text = fix_words(col.table, fixes.height, fixes.sort("id")["id"].head(EXAMPLES).to_list())
        col.add("warning", text, "pr_id", fixes[ROW].to_list())
    bots = bot_linked(df, prs, engineers)  # the panel leaves bots out: no engineer counts it
    if bots.height:
        col.add("warning", bot_words(col.table, bots), "pr_id", bots[ROW].to_list())
    bad = pl.col("resolution_date") < pl.col("created_date")
    rows = rows_where(df, bad)
    if rows:
        col.add(
            "warning",
            "resolution_date is before created_date; resolution time ignored",
            "resolution_date",
            rows,
        )
        df = df.with_columns(
            pl.when(bad).then(None).otherwise(pl.col("resolution_date")).alias("resolution_date")
        )
    return df


def _unknown_pr_rows(df: pl.DataFrame, prs: pl.DataFrame) -> list[int]:
    """Row numbers of ``df`` whose ``pr_id`` names no PR, in order. An anti join: a
    membership test against every PR id built a set of them per call (0.3 s for 1M PRs,
    five times the join)."""
    ids = prs.select(pl.col("id").alias("pr_id").cast(df.schema["pr_id"], strict=False))
    linked = df.select(ROW, "pr_id").filter(pl.col("pr_id").is_not_null())
    return linked.join(ids, on="pr_id", how="anti")[ROW].sort().to_list()


def _shared_alias(idle: pl.DataFrame, engineers: pl.DataFrame, column: str) -> list[tuple]:
    """``(idle id, other id)`` for each ``idle`` engineer (in their order) whose ``column``
    (e-mail or name, case-insensitive) another engineer row has."""
    if column not in engineers.columns or engineers.schema[column] != pl.String:
        return []
    key = pl.col(column).str.strip_chars().str.to_lowercase()
    others = engineers.filter(key.is_not_null()).select("engineer_id", key.alias("_k"))
    pairs = (
        idle.with_row_index("_o")
        .filter(key.is_not_null())
        .select("_o", pl.col("engineer_id").alias("_idle"), key.alias("_k"))
        .join(others, on="_k")
        .filter(pl.col("engineer_id") != pl.col("_idle"))
        .sort("_o", "engineer_id")
    )
    return pairs.select("_idle", "engineer_id").rows()


def check_activity(engineers, certifications, prs, col: Collector) -> None:
    """Engineers with no pull request at all, certified ones first (a roster keyed by login
    while the PRs came under e-mails leaves them with zero outcomes in every period)."""
    from certkit.data.certification_checks import alias_suspects

    human_prs = ~prs["author_id"].fill_null("").str.ends_with("[bot]")
    if not human_prs.any():  # no human PR at all (the DevLake pushdown's calendar rows)
        return
    alias_suspects(engineers, certifications, prs, col)  # a certified engineer's other ids
    humans = engineers.filter(~pl.col("is_bot").fill_null(False))
    last = prs.select(pl.max_horizontal(pl.col("created_date").max(), pl.col("merged_date").max()))
    end = last.item()
    idle = humans.filter(~pl.col("engineer_id").is_in(prs["author_id"].drop_nulls().implode()))
    if end is not None and "hire_date" in idle.columns:
        idle = idle.filter(pl.col("hire_date").is_null() | (pl.col("hire_date") <= end.date()))
    if idle.height == 0:
        return
    certified = certifications["engineer_id"].drop_nulls().implode()
    idle = idle.with_columns(pl.col("engineer_id").is_in(certified).alias("_cert")).sort(
        "_cert", descending=True, maintain_order=True
    )
    cert = idle.filter("_cert")["engineer_id"].to_list()
    rest = idle.filter(~pl.col("_cert"))["engineer_id"].to_list()
    text = idle_words(f"{idle.height} engineer(s) have no pull request at all", cert, rest)
    shared = dict.fromkeys(_shared_alias(idle, humans, "email"), "e-mail")
    for pair in _shared_alias(idle, humans, "name"):
        shared.setdefault(pair, "name")
    hints = [f"engineer {o} shares the {what} of {i}" for (i, o), what in shared.items()]
    if hints:
        text += "; " + "; ".join(hints[:3])
        text += f": map {'it' if len(hints) == 1 else 'them'} in the identity file"
    else:
        text += (
            " (their outcomes are zero in every period: if they did work, either it is in "
            "commits outside any PR (direct pushes: see commits.parquet's pr_id; re-import "
            "with `certkit import git --direct-commits as_prs`) or their PRs are under other "
            "ids (map their e-mails/logins in the identity file))"
        )
    col.add("warning", text, "engineer_id", idle[ROW].to_list())


def idle_words(head: str, certified: list[str], others: list[str], shown: int = 8) -> str:
    """``head`` and the engineers it is about, the certified first (``; 2 of them certified:
    a, b; not certified: c``); at most ``shown`` ids per list. The import note and the
    validation warning on engineers without a PR share it."""

    def listed(ids: list[str]) -> str:
        return ", ".join(ids[:shown]) + (
            f" and {len(ids) - shown} more" if len(ids) > shown else ""
        )

    if not certified:
        return f"{head}: {listed(others)}"
    text = f"{head}; {len(certified)} of them certified: {listed(certified)}"
    return text + (f"; not certified: {listed(others)}" if others else "")
