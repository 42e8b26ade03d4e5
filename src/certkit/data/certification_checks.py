"""Which certification rows count as the treatment, and hints for rows naming no engineer.

A badge export (Credly lists every badge an organisation issued) holds more than ML
certifications: :func:`leave_out_uncounted` leaves out revoked, rejected and pending badges
(Credly's ``status``) and certifications the catalog knows are not ML certifications (AWS
Solutions Architect, AZ-900, CKA, ...), each with a warning naming the lines; a column ``ml``
overrides the catalog row by row. :func:`unknown_catalog_warning` says plainly that
certifications unknown to the catalog count as ML certifications. :func:`engineer_hints`
explains why an ``engineer_id`` is not found when the values are e-mail addresses or roster
ids without their leading zeros. :func:`counted_rows` applies the same rules to a raw file
(the import's view, before validation). :mod:`certkit.data.validate` runs them.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

import polars as pl

from certkit.data.catalog import entry_for, is_ml
from certkit.data.validate import ROW, Collector, rows_where

#: Credly badge states that are not (or no longer) an earned certification.
LEFT_OUT_STATUSES = ("revoked", "rejected", "pending")
#: How many certification names a message lists.
SHOWN = 5
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: How an ``ml`` column written as text says true / false (as certkit's bool columns).
TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0")
FALSE_WORDS = ("false", "f", "no", "n", "0", "0.0")


def holders_list(df: pl.DataFrame, names: list[str]) -> str:
    """``"A (1 engineer), B (3 engineers)"``: each certification name with the number of
    engineers holding it, the most held first; at most :data:`SHOWN` names. Shared reports
    drop the names held by fewer than k engineers
    (:func:`certkit.privacy.hide_small_counts` reads this form)."""
    counts = (
        df.filter(pl.col("certification").is_in(names))
        .group_by("certification")
        .agg(pl.col("engineer_id").n_unique().alias("n"))
        .sort(["n", "certification"], descending=[True, False])
    )
    items = [  # a ';' would end the list for hide_small_counts
        f"{c.replace(';', ',')} ({n} engineer{'s' if n != 1 else ''})"
        for c, n in counts.iter_rows()
    ]
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def _ml_flag(values: pl.Expr) -> pl.Expr:
    """A raw ``ml`` column as booleans (null: not said)."""
    text = values.cast(pl.String).str.strip_chars().str.to_lowercase()
    return (
        pl.when(text.is_in(TRUE_WORDS))
        .then(True)
        .when(text.is_in(FALSE_WORDS))
        .then(False)
        .otherwise(None)
        .alias("ml")
    )


def _not_earned(df: pl.DataFrame) -> pl.Expr:
    if "status" not in df.columns:
        return pl.lit(False)
    status = pl.col("status").cast(pl.String).str.strip_chars().str.to_lowercase()
    return status.is_in(LEFT_OUT_STATUSES).fill_null(False)


def _catalog_ml(names: pl.Series) -> dict[str, bool | None]:
    """Each distinct name: True (catalog ML certification), False (catalog non-ML), None
    (unknown to the catalog)."""
    out: dict[str, bool | None] = {}
    for n in names.drop_nulls().unique().to_list():
        entry = entry_for(n)
        out[n] = None if entry is None else is_ml(entry)
    return out


def non_ml_names(names: pl.Series) -> list[str]:
    """The distinct ``names`` the catalog knows are not ML certifications."""
    return sorted(n for n, ml in _catalog_ml(names).items() if ml is False)


def counted_rows(certs: pl.DataFrame) -> pl.Series:
    """For a certification table with certkit's column names (raw text or typed): whether
    each row counts as the treatment, by the rules of :func:`leave_out_uncounted` (not
    revoked, rejected or pending; an ML or unknown certification unless ``ml`` says
    otherwise)."""
    if "certification" not in certs.columns:
        return pl.Series("counted", [True] * certs.height)
    known = _catalog_ml(certs["certification"].cast(pl.String))
    catalog_ml = (
        certs["certification"]
        .cast(pl.String)
        .replace_strict(known, default=None, return_dtype=pl.Boolean)
    )
    ml = (
        certs.select(_ml_flag(pl.col("ml")))["ml"]
        if "ml" in certs.columns
        else pl.Series([None] * certs.height, dtype=pl.Boolean)
    )
    earned = ~certs.select(_not_earned(certs)).to_series()
    return (earned & ml.fill_null(catalog_ml.fill_null(True))).alias("counted")


def leave_out_uncounted(df: pl.DataFrame, col: Collector) -> pl.DataFrame:
    """``df`` without the rows that are not the treatment, each kind with a warning.

    Revoked / rejected / pending badges (a ``status`` column, case-insensitive; ``accepted``
    or no status: kept); certifications the catalog marks ``ml: false`` (unless the row's
    ``ml`` column is true); rows whose ``ml`` column is false (info only: the analyst chose).
    """
    _keep_left_out(df, col)
    bad = _not_earned(df)
    gone = df.filter(bad)
    if gone.height:
        states = ", ".join(
            sorted(gone["status"].cast(pl.String).str.strip_chars().str.to_lowercase().unique())
        )
        col.add(
            "warning",
            f"status {states}: {gone.height} badge row(s) not (or no longer) held are left "
            "out (only 'accepted' badges, or rows without a status, count as certifications)",
            "status",
            gone[ROW].to_list(),
        )
        df = df.filter(~bad)
    known = _catalog_ml(df["certification"])
    ml = pl.col("ml") if "ml" in df.columns else pl.lit(None, pl.Boolean)
    non_ml = [n for n, v in known.items() if v is False]
    other = pl.col("certification").is_in(non_ml) & ml.is_null()
    gone = df.filter(other)
    if gone.height:
        col.add(
            "warning",
            f"not ML certifications: {holders_list(gone, non_ml)}; these rows are left out of "
            "the treatment (an engineer counts as certified only from an ML certification; "
            "the catalog lists the common non-ML ones, certkit.catalog(ml=False)). To count "
            "one anyway, add a column ml with true on its rows",
            "certification",
            gone[ROW].to_list(),
        )
    said = ml.is_not_null() & ~ml
    chosen = df.filter(said.fill_null(False))
    if chosen.height:
        col.add(
            "info",
            f"{chosen.height} row(s) with ml false are left out of the treatment",
            "ml",
            chosen[ROW].to_list(),
        )
    return df.filter(~(other | said).fill_null(False))


def _keep_left_out(df: pl.DataFrame, col: Collector) -> None:
    """Keep the rows :func:`leave_out_uncounted` leaves out in the report
    (``left_out["certifications"]``), with ``ml`` false where the catalog (not the file)
    said they are not ML certifications: written back (``certkit import``), they are left
    out again, and setting ``ml`` to true (or the status to accepted) on a row counts it."""
    counted = counted_rows(df)
    if counted.all():
        return
    non_ml = ~counted_rows(df.drop("status", strict=False))  # left out for what it is
    gone = df.with_columns(pl.when(non_ml).then(False).otherwise(pl.col("ml")).alias("ml")).filter(
        ~counted
    )
    col.report.left_out[col.table] = gone.drop(ROW, strict=False)


def unknown_catalog_warning(df: pl.DataFrame, unknown: list[str], col: Collector) -> None:
    """The warning for certification names the catalog does not know: they count as the
    treatment (rows whose ``ml`` column is true were chosen and are not listed)."""
    if "ml" in df.columns:
        df = df.filter(pl.col("ml").is_null())
    rows = df.filter(pl.col("certification").is_in(unknown))
    if rows.height == 0:
        return
    names = rows["certification"].unique().sort().to_list()
    col.add(
        "warning",
        f"not in the certification catalog: {holders_list(rows, names)}; they COUNT as ML "
        "certifications (the treatment: each engineer is certified from the earliest such "
        "date). If one is not an ML certification, add a column ml with false on its rows "
        "(or delete them); exam fee unknown unless cost_usd is given",
        "certification",
        rows[ROW].to_list(),
    )


def engineer_hints(values: list[str], engineers: pl.DataFrame) -> str:
    """Why ``engineer_id`` values are not engineers, when it can be told: e-mail addresses
    (the roster's ``email`` of an engineer, or not), roster ids without their leading zeros
    (what Excel does to ``001001``). Empty when neither applies."""
    hints = []
    mails = [v for v in values if _EMAIL.match(v.strip())]
    if mails:
        owner: dict[str, str] = {}
        if "email" in engineers.columns:
            for eid, mail in engineers.select("engineer_id", "email").drop_nulls().iter_rows():
                owner.setdefault(str(mail).strip().lower(), eid)
        found = [(m, owner[m.strip().lower()]) for m in mails if m.strip().lower() in owner]
        text = f"{len(mails)} of them look like e-mail addresses"
        if found:
            pairs = ", ".join(f"{m!r} is the email of {e}" for m, e in found[:3])
            text += f" ({pairs}{' ...' if len(found) > 3 else ''})"
        hints.append(
            text + ": certifications name engineers by engineer_id; write the engineer ids, "
            "or map each e-mail to its engineer in an identity file "
            "(certkit import ... --identities); certkit import also reads an e-mail equal to "
            "a roster engineer's email column as that engineer"
        )
    ids = engineers["engineer_id"].drop_nulls().cast(pl.String).to_list()
    padded = {i.lstrip("0"): i for i in ids if i.isdigit() and i.startswith("0")}
    zeros = [(v, padded[v.strip()]) for v in values if v.strip().isdigit() and v.strip() in padded]
    if zeros:
        v, i = zeros[0]
        more = f" (and {len(zeros) - 1} more)" if len(zeros) > 1 else ""
        hints.append(
            f"{v!r} is engineer {i!r} without its leading zeros{more}: Excel drops leading "
            "zeros when it opens a CSV file; use the file as exported, or import the column "
            "as Text"
        )
    said = {m for m in mails} | {v for v, _ in zeros}
    close = close_ids([v for v in values if v not in said], ids)
    if close:
        hints.append("did you mean " + ", ".join(f"{e!r} for {v!r}" for v, e in close[:3]) + "?")
    return "; ".join(hints)


def close_ids(values: list[str], ids: list[str]) -> list[tuple[str, str]]:
    """``(value, engineer id)`` for each value one close spelling of an engineer id away
    (trial AC: 'chirimarsh' for 'charliermarsh' stopped an import after 1:44 of reading
    git, with no hint); case ignored, as :mod:`difflib` measures closeness (0.75, its ratio
    of that pair 0.78). Values under 6 characters get none: 'e001' and 'e002' are as close."""
    lower: dict[str, str] = {}
    for i in ids:
        lower.setdefault(i.lower(), i)
    out = []
    for v in values:
        if len(v.strip()) < 6:
            continue
        found = difflib.get_close_matches(v.strip().lower(), list(lower), n=1, cutoff=0.75)
        if found:
            out.append((v, lower[found[0]]))
    return out


def _name_parts(name: str | None) -> tuple[str, str, str] | None:
    """``(whole name, first initial, last word)`` as compared: accents, case and spacing
    ignored; ``None`` for a one-word or missing name."""
    if not name:
        return None
    folded = unicodedata.normalize("NFKD", name)
    words = "".join(c for c in folded if not unicodedata.combining(c)).casefold().split()
    if len(words) < 2:
        return None
    return " ".join(words), words[0][0], words[-1]


def added_by_import(engineers: pl.DataFrame) -> pl.Expr:
    """Engineers ``certkit import`` added for authors outside the roster: role and level
    ``unknown`` (:data:`certkit.connectors.analyst_files.PLACEHOLDER`; the team may come from
    the source, DevLake's teams; case and surrounding spaces ignored, as a roster edited by
    hand may write them). Their hire date is their first PR or commit. The one test of it:
    data health's count of such engineers, validation's alias warning, idle roster
    engineers and the panel's partial hire periods use it."""
    cols = ("role", "level")
    if not all(c in engineers.columns for c in cols):
        return pl.lit(False)
    return pl.all_horizontal(
        pl.col(c).cast(pl.String).str.strip_chars().str.to_lowercase() == "unknown" for c in cols
    ).fill_null(False)


def alias_suspects(
    engineers: pl.DataFrame, certifications: pl.DataFrame, prs: pl.DataFrame, col: Collector
) -> None:
    """Warn when a certified engineer's name is also that of a never-certified engineer the
    import added (team, role and level ``unknown``: an author outside the roster) with PRs:
    the same name, or the same first initial and last name ("Alexander Mikhaylenko" for
    "Alice Mikhaylenko"). An import without an identity file gives each e-mail its own
    engineer, so the certified person's work under an old e-mail counts as a
    never-certified engineer's (trial I, I19: libadwaita, 349 PRs under ``alexm@gnome.org``
    while the roster's ``alice`` is certified). Nothing is merged: the identity file decides.
    """
    if "name" not in engineers.columns or engineers.schema["name"] != pl.String:
        return
    certified = set(certifications["engineer_id"].drop_nulls().to_list())
    if not certified:
        return
    humans = (
        engineers.filter(~pl.col("is_bot").fill_null(False))
        if "is_bot" in engineers.columns
        else engineers
    )
    counts = dict(prs["author_id"].drop_nulls().value_counts().iter_rows())
    people = [
        (r["engineer_id"], r[ROW], _name_parts(r["name"]))
        for r in humans.select("engineer_id", ROW, "name").iter_rows(named=True)
    ]
    names = dict(humans.select("engineer_id", "name").iter_rows())
    by_whole: dict[str, list] = {}
    by_short: dict[tuple[str, str], list] = {}
    added = set(engineers.filter(added_by_import(engineers))["engineer_id"].to_list())
    for person in people:
        eid, _, parts = person
        if eid in added and eid not in certified and parts is not None and counts.get(eid):
            by_whole.setdefault(parts[0], []).append(person)
            by_short.setdefault(parts[1:], []).append(person)
    found: dict[str, list[tuple[str, int, str]]] = {}
    rows: list[int] = []
    for cid, _, cparts in people:
        if cid not in certified or cparts is None:
            continue
        same = by_whole.get(cparts[0], [])
        similar = [p for p in by_short.get(cparts[1:], []) if p not in same]
        for (oid, orow, _), how in [(p, "same name") for p in same] + [
            (p, "similar name") for p in similar
        ]:
            if oid != cid:
                how = f"{how} {names[oid]!r}"
                found.setdefault(cid, []).append((oid, counts[oid], how))
                rows.append(orow)
    if not found:
        return
    order = sorted(found, key=lambda c: (-sum(n for _, n, _ in found[c]), c))
    parts = []
    for cid in order[:SHOWN]:
        others = sorted(found[cid], key=lambda t: (-t[1], t[0]))
        listed = ", ".join(
            f"{o} ({n:,} PR{'s' if n != 1 else ''}, {how})" for o, n, how in others[:3]
        )
        listed += f" and {len(others) - 3} more" if len(others) > 3 else ""
        parts.append(f"{cid} (certified) may also appear as {listed}")
    more = f"; and {len(order) - SHOWN} more" if len(order) > SHOWN else ""
    col.add(
        "warning",
        f"{len(order)} certified engineer(s) share their name with engineers the import added "
        f"(outside the roster, never certified) that have PRs: {'; '.join(parts)}{more}. If they are one person, those "
        "PRs count as a never-certified engineer's: map the ids to one engineer in an "
        "identity file (certkit import ... --identities; the import's "
        "identities_suggested.csv drafts it) and import again; if not, ignore this",
        "engineer_id",
        sorted(set(rows)),
    )


def predating_data(
    certs: pl.DataFrame, engineers: pl.DataFrame, prs: pl.DataFrame, col: Collector
) -> None:
    """Warn, naming the lines, about certifications earned before or in the engineer's first
    month in the data (the data's first month, or the first whole month after the hire), as the monthly
    panel reads them: those engineers have no month before certifying, so the panel leaves
    them out of every before/after comparison. Rows earned before ``hire_date`` have their
    own warning. Usual when a roster's certifications are years old and the history short
    (trial N: 6 of 11 certified engineers, 56% of the PRs, and neither the import nor
    ``certkit validate`` said so; trial O: one certified in the data's first month, 408 PRs,
    was missed by a rule on the first PR's day)."""
    from certkit.data.dataset import data_window

    if certs.is_empty() or prs.is_empty():
        return
    start, _ = data_window(prs, engineers)
    if start is None:
        return
    first_month = start.date().replace(day=1)
    hired = certs.join(engineers.select("engineer_id", "hire_date"), on="engineer_id", how="left")
    hired = hired.with_columns(_first_whole_month(engineers).alias("_whole"))
    first_seen = pl.max_horizontal(pl.lit(first_month), pl.col("_whole").fill_null(first_month))
    early = hired.filter(
        (pl.col("earned_date").dt.truncate("1mo") <= first_seen)
        & (pl.col("hire_date").is_null() | (pl.col("earned_date") >= pl.col("hire_date")))
    )
    if early.is_empty():
        return
    n = early["engineer_id"].n_unique()
    col.add(
        "warning",
        f"earned before or in the engineer's first month in the data (the data start "
        f"{start.date()}; the hire month when later, or the month after it when the hire "
        f"date falls more than 3 days into it): {n} engineer(s) with no month before "
        "certifying in the data, left out of the before/after comparisons (data from before "
        "their certifications would bring them in)",
        "earned_date",
        early[ROW].sort().to_list(),
    )


def _first_whole_month(engineers: pl.DataFrame) -> pl.Expr:
    """The first month the panel holds of each row's engineer (``engineer_id``, ``hire_date``
    columns): the hire month, or the month after it when the panel leaves the hire month out
    as one the engineer joined inside (:func:`~certkit.data.panel_calendar.
    partial_tenure_periods`, the one rule)."""
    from certkit.data.panel_calendar import partial_tenure_periods

    columns = [c for c in ("engineer_id", "hire_date", "role", "level") if c in engineers.columns]
    cut = partial_tenure_periods(engineers.select(columns), "month")
    joined = cut.filter(pl.col("side") == "hire")["engineer_id"].implode()
    month = pl.col("hire_date").cast(pl.Date).dt.truncate("1mo")
    return (
        pl.when(pl.col("engineer_id").is_in(joined))
        .then(month.dt.offset_by("1mo"))
        .otherwise(month)
    )


#: Months after the hire date within which a certification's before-period is the
#: engineer's ramp-up.
RAMP_UP_MONTHS = 6


def ramp_up_warning(hired: pl.DataFrame, engineers: pl.DataFrame, col: Collector) -> None:
    """Warn about certifications earned within :data:`RAMP_UP_MONTHS` of the engineer's
    hire date: the months before certifying are their first, when a new engineer's output
    grows anyway, and a before/after comparison reads that growth as an effect (trial AE,
    getsentry/sentry-python: two engineers certified 5 and 3 months after joining, with
    first months of 5, 15, 22 ... merged PRs, moved the throughput effect from +2.97 to
    +4.89 PRs a month). ``hired``: the certification rows with the engineer's ``hire_date``.
    Authors the import added are not counted (their hire date is their first PR)."""
    if "hire_date" not in hired.columns or hired.height == 0:
        return
    added = set(engineers.filter(added_by_import(engineers))["engineer_id"].to_list())
    hired = hired.with_columns(_first_whole_month(engineers).alias("_whole"))
    soon = (  # after the first whole month: in it, the first-month rule says it already
        (pl.col("earned_date").dt.truncate("1mo") > pl.col("_whole"))
        & (pl.col("earned_date") < pl.col("hire_date").dt.offset_by(f"{RAMP_UP_MONTHS}mo"))
        & ~pl.col("engineer_id").is_in(list(added))
    ).fill_null(False)
    rows = rows_where(hired, soon)
    if not rows:
        return
    n = hired.filter(soon)["engineer_id"].n_unique()
    col.add(
        "warning",
        f"earned within {RAMP_UP_MONTHS} months of the engineer's hire_date ({n} engineer(s)): "
        "their months before certifying are their first, when a new engineer's output grows "
        "anyway, and a before/after comparison reads that growth as an effect of the "
        "certification; compare the estimate without them, or adjust for tenure "
        "(att_gt(..., covariates=['tenure_months']))",
        "earned_date",
        rows,
    )
