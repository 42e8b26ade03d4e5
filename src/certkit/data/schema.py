"""The input data model: one table per input, its columns, types and aliases.

Column names mirror Apache DevLake's domain layer where a concept matches
(``pull_requests.author_id``, ``created_date``, ``merged_date``, ``incidents.resolution_date``...),
so exports map over easily. ``docs/data-model.md`` documents every table for analysts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Logical column kinds; the loader converts raw text/parquet values to these.
STR, DATE, DATETIME, INT, FLOAT, BOOL, SHARE = (
    "str",
    "date",
    "datetime",
    "int",
    "float",
    "bool",
    "share",  # 0..1 number; booleans are read as 0/1
)

PLATFORMS = ("aws", "gcp", "azure", "databricks", "other")


@dataclass(frozen=True)
class Column:
    """One column of an input table."""

    name: str
    kind: str
    required: bool = True
    description: str = ""
    aliases: tuple[str, ...] = ()
    nullable: bool = False
    #: Column names that often hold this in exports (HR systems) but need a look before use
    #: (a job title is not a role): named in the "missing column" message, never renamed.
    hints: tuple[str, ...] = ()


#: The git line ledger's churned-lines columns (``churned_lines_21d``): lines changed or
#: deleted again within N days.
REWORK_PATTERN = r"churned_lines_\d+d"


def rework_columns(names: list[str]) -> list[str]:
    """The churned-lines columns among ``names``, in their order (the first is used)."""
    return [n for n in names if re.fullmatch(REWORK_PATTERN, n)]


@dataclass(frozen=True)
class Table:
    """One input table: its file stem, columns and primary key."""

    name: str
    columns: tuple[Column, ...]
    key: str | None = "id"
    required: bool = True
    description: str = ""
    extra: dict = field(default_factory=dict)
    #: Optional columns known by a name pattern (regular expression -> kind), read and
    #: converted when present, not added when absent (e.g. ``churned_lines_21d``).
    patterns: tuple[tuple[str, str], ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def pattern_kind(self, name: str) -> str | None:
        """The kind of a column named by one of :attr:`patterns` (None: not one)."""
        return next((k for p, k in self.patterns if re.fullmatch(p, name)), None)

    def canonical_names(self, names: list[str]) -> list[str]:
        """The column names as certkit reads them: trimmed, lower case, spaces and hyphens as
        underscores (``Hire Date`` is ``hire_date``), and a known alias (``merged_at``,
        ``createdAt``, ``termination_date``...) renamed to its column unless that column is
        there too. Every reader applies this, in memory and where the data lives."""
        out = [plain_name(n) for n in names]
        for c in self.columns:
            if c.name in out:
                continue
            alias = next((plain_name(a) for a in c.aliases if plain_name(a) in out), None)
            if alias:
                out[out.index(alias)] = c.name
        return out

    def missing_columns(self, names: list[str], where: str) -> str | None:
        """The message for required columns ``names`` (a file's header) lacks after
        :meth:`canonical_names`, with a "did you mean" for a close name and
        :meth:`missing_words`; None when none is missing. One wording for the roster and the
        certifications file (trial T: two styles, two exit codes)."""
        import difflib

        canonical = self.canonical_names(names)
        required = [c.name for c in self.columns if c.required]
        lacking = [c for c in required if c not in canonical]
        if not lacking:
            return None
        close = {
            c: m[0] for c in lacking if (m := difflib.get_close_matches(c, names, n=1, cutoff=0.75))
        }
        hint = "".join(f"; did you mean {close[c]!r} for {c!r}?" for c in close)
        return (
            f"{where}: missing required column(s) {', '.join(lacking)} (required: "
            f"{', '.join(required)}; found: {', '.join(names)}){hint}"
            + self.missing_words([c for c in lacking if c not in close], names)
        )

    def missing_words(self, missing: list[str], names: list[str]) -> str:
        """What to rename for missing required columns: the file's columns that often hold
        them (:attr:`Column.hints`), e.g. "'business_title' could be role"."""
        have = [plain_name(n) for n in names]
        said = []
        for name in missing:
            found = [h for h in self.column(name).hints if plain_name(h) in have]
            if found:
                options = " or ".join(repr(h) for h in found)
                said.append(f"{options} could be {name}")
        return f"; rename what fits: {', '.join(said)}" if said else ""


def plain_name(name: str) -> str:
    """A column name as compared: trimmed, lower case, runs of spaces/hyphens as ``_``."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def optional(name: str, kind: str, description: str = "", aliases: tuple[str, ...] = ()) -> Column:
    """A column that may be absent from the file and null where present."""
    return Column(
        name, kind, required=False, description=description, aliases=aliases, nullable=True
    )


ENGINEERS = Table(
    "engineers",
    key="engineer_id",
    description="One row per person (or bot) who authors pull requests.",
    columns=(
        Column(
            "engineer_id",
            STR,
            description="Stable id; PR author_id refers to it.",
            aliases=(
                *("id", "user_id", "account_id", "employee_id", "employee_number"),
                *("employee_no", "worker_id", "person_id"),
            ),
        ),
        Column(
            "team",
            STR,
            description="Team name (group of at most a few dozen people).",
            aliases=("team_name",),
            hints=("department", "supervisory_organization", "organization", "group", "squad"),
        ),
        Column(
            "role",
            STR,
            description="e.g. ml_engineer, data_scientist, data_engineer, backend.",
            hints=("job_title", "business_title", "title", "job_profile", "position"),
        ),
        Column(
            "level",
            STR,
            description="Seniority: junior, mid, senior, staff (free text allowed).",
            aliases=("seniority", "job_level"),
            hints=("management_level", "grade", "band", "career_level"),
        ),
        Column(
            "hire_date",
            DATE,
            description="Start date; the panel starts here.",
            aliases=("start_date", "date_of_hire", "original_hire_date", "hired_date"),
        ),
        Column(
            "platform",
            STR,
            description="Primary cloud/data platform: aws, gcp, azure, databricks or other.",
            aliases=("primary_platform",),
        ),
        Column(
            "leave_date",
            DATE,
            required=False,
            nullable=True,
            description="Last day, if the person left; the panel ends here.",
            aliases=(
                *("termination_date", "terminated_date", "exit_date", "separation_date"),
                *("end_date", "last_day", "last_working_day", "employment_end_date"),
            ),
        ),
        Column(
            "name",
            STR,
            required=False,
            nullable=True,
            description="Display name (never shown in shared reports).",
            aliases=("full_name", "display_name", "employee_name", "worker"),
        ),
        Column(
            "email",
            STR,
            required=False,
            nullable=True,
            aliases=("work_email", "email_address", "work_email_address"),
        ),
        optional(
            "is_bot",
            BOOL,
            description="True for automation accounts; ids ending in [bot] count as bots too.",
        ),
    ),
)

CERTIFICATIONS = Table(
    "certifications",
    key=None,
    description="One row per certification earned.",
    columns=(
        Column(
            "engineer_id",
            STR,
            aliases=("employee_id",),
            # Credly: its e-mail or the issuer's own earner id; which is the roster's key is
            # for the analyst to say (an e-mail also resolves through the roster's email)
            hints=("issuer_earner_id", "issued_to_email", "recipient_email", "email"),
        ),
        Column(
            "certification",
            STR,
            description="Catalog id, name or alias (see `certkit.catalog()`).",
            aliases=("certification_name", "cert", "badge_name", "credential_name"),
        ),
        Column(
            "earned_date",
            DATE,
            aliases=("date", "earned_at", "issue_date", "issued_at", "issued_date", "date_earned"),
        ),
        optional(
            "cost_usd",
            FLOAT,
            description="What was paid (exam + training); default: catalog exam fee.",
        ),
        optional("study_hours", FLOAT),
        optional(
            "status",
            STR,
            description="Badge status (Credly: accepted, pending, revoked, rejected); "
            "revoked, rejected and pending rows are left out.",
        ),
        optional(
            "ml",
            BOOL,
            description="Whether the row counts as an ML certification (the treatment); "
            "empty: the catalog decides (known non-ML certifications are left out).",
        ),
    ),
)

PULL_REQUESTS = Table(
    "pull_requests",
    description="One row per pull request (merged, closed or open).",
    columns=(
        Column("id", STR, aliases=("pr_id", "number")),
        Column("author_id", STR, aliases=("author", "user_id")),
        Column("repo", STR, aliases=("base_repo_id", "repository", "repo_id")),
        Column("created_date", DATETIME, aliases=("created_at", "createdAt")),
        Column("merged_date", DATETIME, nullable=True, aliases=("merged_at", "mergedAt")),
        optional("closed_date", DATETIME, aliases=("closed_at", "closedAt")),
        optional("first_review_date", DATETIME, aliases=("first_review_at",)),
        # Empty = unknown (e.g. DevLake outside GitHub); size outcomes leave such PRs out.
        Column("additions", INT, nullable=True),
        Column("deletions", INT, nullable=True),
        optional(
            "ai_assisted",
            SHARE,
            description="True/False, or the 0..1 share of AI-written lines. Detection from "
            "commit trailers is a lower bound.",
        ),
        optional(
            "ai_tool", STR, description="Which AI tool was detected (claude, copilot, cursor, ...)."
        ),
        optional("reverted", BOOL),
        optional("title", STR),
    ),
    patterns=(
        # written by the git import: how the creation date was found (squash merges and
        # direct pushes approximate it), and the line ledger's churned lines
        ("created_source", STR),
        (REWORK_PATTERN, INT),
        ("surviving_lines", INT),  # the ledger's lines still present at the imported head
    ),
)

DEFECTS = Table(
    "defects",
    required=False,
    description="Bugs traced back to a PR (pr_id) or, failing that, an engineer.",
    columns=(
        Column("id", STR, aliases=("defect_id", "issue_key")),
        Column("created_date", DATETIME, aliases=("created_at", "created")),
        optional("pr_id", STR, aliases=("pull_request_id",)),
        optional("engineer_id", STR),
        optional("severity", STR),
        optional("resolution_date", DATETIME, aliases=("resolved_at", "resolved")),
    ),
    # the import keeps a PR reference that matched no PR of the data (read when present)
    patterns=(("pr_ref", STR),),
)

INCIDENTS = Table(
    "incidents",
    required=False,
    description="Production incidents, optionally linked to the PR or engineer that caused them.",
    columns=(
        Column("id", STR, aliases=("incident_id", "incident_number", "incident_key")),
        Column("created_date", DATETIME, aliases=("created_at",)),
        optional("resolution_date", DATETIME, aliases=("resolved_at",)),
        optional("severity", STR, aliases=("priority", "urgency")),
        optional("pr_id", STR, aliases=("pull_request_id",)),
        optional("engineer_id", STR),
        optional("service", STR),
    ),
    patterns=(("pr_ref", STR),),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (ENGINEERS, CERTIFICATIONS, PULL_REQUESTS, DEFECTS, INCIDENTS)
}
