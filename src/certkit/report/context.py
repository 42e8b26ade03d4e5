"""What every report notebook does first: load, filter, build the panel, set privacy rules.

Keeping this in the library keeps notebooks thin: a notebook passes its parameters to
:func:`setup` and gets back a :class:`Context` with the filtered dataset, the panel, the
:class:`~certkit.privacy.Privacy` rules and helpers to show tables and warnings safely.
"""

from __future__ import annotations

import html
import math
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import polars as pl

import certkit
from certkit import narrative as story
from certkit.data import dating, health
from certkit.data.dataset import Dataset
from certkit.data.panel import build_panel
from certkit.errors import CertkitError, CertkitWarning, HiddenInSharedReport, OutcomeNotRecorded
from certkit.privacy import (
    Privacy,
    certified_engineers,
    coarsen,
    engineers_behind,
    hide_small_counts,
    identifiers,
    redact,
    suppress,
    too_few,
)
from certkit.report.filters import filter_dataset  # noqa: F401 (re-exported)
from certkit.report.sections import Section, finite


@dataclass
class Context:
    """Everything a report notebook needs after reading its parameters."""

    ds: Dataset
    full: Dataset
    panel: pl.DataFrame
    privacy: Privacy
    period: str
    filters: dict[str, object]
    notes: list[str] = field(default_factory=list)
    headlines: list[dict] = field(default_factory=list)
    #: How defect/incident links to PRs merged after them are read (``build_panel``'s option).
    fix_links: str = "drop"
    #: Keep a partial last period (``build_panel``'s option).
    keep_partial_end: bool = False

    @property
    def panel_options(self) -> dict:
        """The options every panel of the report is built with (``build_panel``'s)."""
        return {"fix_links": self.fix_links, "keep_partial_end": self.keep_partial_end}

    @cached_property
    def people(self) -> list[str]:
        """Identifiers (ids, names, emails) that must never appear in a shared report.

        Computed once: :meth:`safe_text` needs them for every message it redacts. PR authors
        missing from ``engineers`` (git authors outside a roster, which validation notes list
        as examples) are people too.
        """
        eng = self.full.engineers
        prs = getattr(self.full, "pull_requests", None)
        authors: list[str] = []
        if prs is not None and "author_id" in prs.columns:
            bots = (
                eng.filter(pl.col("is_bot").fill_null(False))
                if "is_bot" in eng.columns
                else eng.clear()
            )
            authors = (
                prs.select(pl.col("author_id").cast(pl.String))
                .drop_nulls()
                .unique()
                .filter(~pl.col("author_id").is_in(bots["engineer_id"].cast(pl.String).implode()))[
                    "author_id"
                ]
                .to_list()
            )
        return identifiers(eng, authors)

    @property
    def k(self) -> int:
        """Smallest group shown (``privacy_k`` when sharing, else 1)."""
        return self.privacy.min_group

    def safe_text(self, text: str) -> str:
        """``text`` with engineer ids/names/emails redacted when the report is shared."""
        if not self.privacy.share:
            return text
        return hide_small_counts(redact(text, self.people), self.k)

    def scope(self) -> str:
        """One line saying what data the notebook looks at."""
        eng = self.ds.human_engineers()
        start, end = self.ds.period()
        parts = [
            f"{eng.height:,} engineers",
            f"{self.ds.pull_requests.height:,} pull requests",
            f"{start} to {end}",
        ]
        for k, v in self.filters.items():
            if v:
                parts.append(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}")
        return "; ".join(parts)

    def team_view(self) -> Dataset:
        """The dataset with teams under ``k`` people relabelled ``other`` when sharing.

        Use it for every view broken down by team (adoption heatmaps, team tables).
        """
        if not self.privacy.share:
            return self.ds
        eng = self.ds.engineers
        humans = coarsen(eng.filter(~pl.col("is_bot")), "team", self.k)
        eng = pl.concat([humans, eng.filter(pl.col("is_bot"))], how="diagonal_relaxed")
        keep = eng["engineer_id"].implode()
        return Dataset(
            engineers=eng,
            certifications=self.ds.certifications.filter(pl.col("engineer_id").is_in(keep)),
            pull_requests=self.ds.pull_requests.filter(pl.col("author_id").is_in(keep)),
            defects=self.ds.defects,
            incidents=self.ds.incidents,
            validation=self.ds.validation,
            source=self.ds.source,
        )

    def section(
        self,
        what: str,
        needs: str | None = None,
        *,
        show: bool = True,
        sink: list[str] | None = None,
    ) -> Section:
        """A :class:`~certkit.report.sections.Section`: on failure the page says why and goes on.

        ::

            with ctx.section("Trust scores", needs="2+ engineers with 5+ AI PRs"):
                display(table(ai.trust_scores(ds).by_team(ctx.k)))

        Reasons are redacted in shared reports.
        """
        return Section(what, needs, show=show, redact=self.safe_text, sink=sink)

    def too_few(
        self, n: int, what: str = "this estimate", who: str = "certified engineer"
    ) -> str | None:
        """Why an estimate resting on ``n`` certified engineers (or ``who``) is hidden (shared
        reports only)."""
        return too_few(n, self.k, what, who) if self.privacy.share else None

    @cached_property
    def outside_window(self) -> str | None:
        """Why no certified engineer can be compared before and after certifying when every
        one was certified outside the data's window (:func:`story.outside_window_reason`)."""
        if self.panel.height and (self.panel["cohort"] > 0).any():
            return None  # some certified inside the window: nothing to explain
        found = health.certified_outside_window(self.ds, self.panel, self.period_unit)
        return story.outside_window_reason(found, self.period_unit)

    @cached_property
    def adoption_panel(self) -> pl.DataFrame:
        """The panel with the engineers certified before or in their first period kept: the
        AI-adoption study groups engineers by certification only (trial O: certification
        dates before the data took 6 engineers, 3 of them adopters, out of it). A context
        made around a panel of its own (not a :class:`Dataset`) uses that panel."""
        if not isinstance(self.ds, Dataset):
            return self.panel
        with warnings.catch_warnings():  # said once, by the panel of every page
            warnings.simplefilter("ignore", CertkitWarning)
            return build_panel(self.ds, self.period_unit, keep_arrivals=True, **self.panel_options)

    @cached_property
    def quiet_end(self):
        """The data's quiet last periods (:func:`certkit.data.activity.quiet_end`), or None."""
        from certkit.data.activity import quiet_end

        return quiet_end(self.panel)

    @property
    def period_unit(self) -> str:
        """The panel's period in words: ``"week"``, ``"month"`` or ``"quarter"``."""
        from certkit.narrative.base_period import _period_days

        return {7: "week", 91: "quarter"}.get(_period_days(self.panel) or 30, "month")

    def require(self, n: int, what: str = "this estimate", who: str = "certified engineer") -> None:
        """Raise a reader-facing CertkitError when a shared report must hide an estimate.

        ``n`` is the number of certified engineers the estimate rests on (see
        :func:`certkit.privacy.certified_engineers`); inside :meth:`section` the page then
        says why the estimate is not shown.
        """
        if n == 0:  # not a privacy matter: there is nothing to estimate from
            raise CertkitError(
                self.outside_window
                or f"{what} rests on no engineer with values both before and after: there is "
                "nothing to estimate from"
            )
        why = self.too_few(n, what, who)
        if why:
            raise HiddenInSharedReport(why)

    def recorded(self, outcome: str) -> None:
        """Raise :class:`OutcomeNotRecorded` in plain words when the data has no table behind
        ``outcome`` (defects, incidents), before any estimator says "outcome column
        'defects_per_pr' is 0 in every row" (trial D: four rows of that on every page)."""
        tables = {"defects": "defects", "defects_per_pr": "defects", "incidents": "incidents"}
        table = tables.get(outcome)
        prs = getattr(self.full, "pull_requests", None)
        if outcome in ("reverts", "revert_rate") and prs is not None and prs.height:
            known = prs["reverted"].is_not_null().any() if "reverted" in prs.columns else False
            if not known:  # (trial R: "0 reverts" from DevLake data read without any)
                raise OutcomeNotRecorded(
                    "not recorded in this data: no PR says whether it was reverted (a git "
                    "import, a gh export or a DevLake import reads reverts from the PRs' text)"
                )
        if table and getattr(self.full, table, None) is not None and not self.full_rows(table):
            source = "Jira (--jira)" if table == "defects" else "PagerDuty (--pagerduty)"
            devlake = (
                prs is not None and "source" in prs.columns and (prs["source"] == "devlake").any()
            )
            if devlake:  # trial AA: "DevLake adds them" to a DevLake import without issues
                kind = "issues of type BUG" if table == "defects" else "incidents"
                raise OutcomeNotRecorded(
                    f"not recorded in this data: this DevLake import has no {table} (no {kind} "
                    "linked to its repositories' boards or projects; DevLake's issue-tracker and "
                    f"incident plugins fill them, or add an export from {source})"
                )
            raise OutcomeNotRecorded(
                f"not recorded in this data: it has no {table} (no {table} table was given; "
                f"an export from {source} or DevLake adds them)"
            )
        # one reason for every design (trial G: the DiD page blamed squash merges, the
        # matched and adoption pages "'cycle_time_log_median' is 9.41657 in every row")
        if outcome not in self.panel.columns:
            return
        values = self.panel[outcome]
        prs = getattr(self.ds, "pull_requests", None)
        if outcome.startswith(("cycle_time", "pickup_time")) and prs is not None:
            approx = dating.approximated_dates(self.ds)
            merged = int(prs["merged_date"].is_not_null().sum())
            if story.mostly_approximated(approx, merged) and (
                story.unrecorded_reason(outcome, values) is not None
                or certified_engineers(self.panel, outcome) == 0
            ):
                dated = dating.dated_merged_prs(self.ds)
                raise OutcomeNotRecorded(story.approximated_reason(approx, merged, dated))
        why = story.unrecorded_reason(outcome, values)
        if why:
            raise OutcomeNotRecorded(why)

    def full_rows(self, table: str) -> int:
        """Rows of ``table`` in the data as loaded, before the report's filters."""
        return getattr(self.full, table).height

    def hide_uniform(self, df: pl.DataFrame, share: str, what: str) -> tuple[pl.DataFrame, str]:
        """Drop rows whose ``share`` (of a group's PRs, or its engineers' mean share) is 0 or
        1 in a shared report: every member of the group did the same, so the figure tells
        each one's own (trial X: "core, 2025-12: 0%" said that none of its 5 engineers had an
        AI-assisted PR that month). As "5 of 5 certified" is withheld on the health page.
        Returns the rows to show and a sentence on what was hidden (``what``: the rows' name).
        """
        if not self.privacy.share or share not in df.columns or df.height == 0:
            return df, ""
        kept = df.filter(~pl.col(share).is_in([0.0, 1.0]).fill_null(False))
        hidden = df.height - kept.height
        # the reason is not given per point (trial Z: "hidden: 0% or 100% there" told the
        # hidden values by naming why)
        note = f"{hidden} {what} {PRIVACY_RULES}." if hidden else ""
        return kept, note

    def hide_small(
        self, df: pl.DataFrame, count: str, rows: pl.Expr | None = None
    ) -> tuple[pl.DataFrame, str]:
        """Drop rows resting on fewer than ``k`` people (``count`` column) in a shared report.

        ``rows`` limits the check to some rows (e.g. ``pl.col("comparison") ==
        "certified_extra"``). Returns the rows to show and a sentence on what was hidden.
        """
        if not self.privacy.share or count not in df.columns or df.height == 0:
            return df, ""
        small = pl.col(count).fill_null(0) < self.k
        if rows is not None:
            small = small & rows
        kept = df.filter(~small)
        hidden = df.height - kept.height
        note = (
            f"{hidden} row(s) hidden: they rest on fewer than {self.k} engineers (shared report)."
            if hidden
            else ""
        )
        return kept, note

    def event_points(
        self,
        df: pl.DataFrame,
        outcome: str,
        *,
        panel: pl.DataFrame | None = None,
        x: str = "event_time",
        count: str | None = None,
    ) -> tuple[pl.DataFrame, str]:
        """Event-study rows safe to show, and a sentence on what was hidden.

        Each point gets the number of certified engineers behind it (``engineers``: from
        ``count`` when the result has it, else counted in ``panel``). In a shared report points
        resting on fewer than ``k`` engineers are dropped. NaN/inf estimates become nulls.
        """
        if count and count in df.columns:
            out = df.with_columns(pl.col(count).cast(pl.Int64).alias("engineers"))
        else:
            counts = engineers_behind(self.panel if panel is None else panel, outcome)
            out = df.join(
                counts.rename({"event_time": x}).with_columns(pl.col(x).cast(df.schema[x])),
                on=x,
                how="left",
            ).with_columns(pl.col("engineers").fill_null(0))
        out = finite(out)
        if not self.privacy.share:
            return out, ""
        kept = suppress(out, "engineers", self.k)
        hidden = out.height - kept.height
        note = (
            f"{hidden} of {out.height} point(s) hidden: fewer than {self.k} certified "
            "engineers behind them (shared report)."
            if hidden
            else ""
        )
        return kept, note

    def headline(
        self,
        key: str,
        values: dict,
        *,
        kind: str,
        section: str | None = None,
        n: int | None = None,
    ) -> dict:
        """Record a number this page leads with, for its answer box and the landing page.

        The record (``values`` plus ``key``, ``kind`` and the ``section`` heading it comes
        from) is written to the file the runner names in ``$CERTKIT_HEADLINES``
        (``<notebook>.headlines.json`` next to the executed notebook); the landing page is
        built from these files only, so it shows exactly the numbers of the detail pages.
        See :mod:`certkit.report.landing` for the kinds. In a shared report an estimate
        resting on ``n`` < k certified engineers is recorded without its numbers (only the
        reason), and text is redacted. Recording ``key`` again replaces the earlier record.
        """
        from certkit.report import landing

        record = {"key": key, "kind": kind, "section": section, **landing.clean(values)}
        why = self.too_few(n, "this estimate") if n is not None else None
        no_estimate = kind == "effect" and record.get("estimate") is None
        if why and not no_estimate:
            # numbers to hide; a row with no estimate keeps its own reason (fastapi: "rests on
            # 0 certified engineers" stood in for "git approximated the creation dates")
            keep = ("outcome", "label", "design", "role", "comparison", "lower_better")
            record = {k: v for k, v in record.items() if k in ("key", "kind", "section", *keep)}
            record["note"] = why
        elif why:
            record["n"] = None  # the count under k is not shown either
        if self.privacy.share:
            record = {k: self._safe_value(v) for k, v in record.items()}
        self.headlines[:] = [r for r in self.headlines if r["key"] != key] + [record]
        path = os.environ.get(landing.ENV)
        if path:
            landing.write(path, self.headlines)
        return record

    def _safe_value(self, value):
        """A headline value as a shared report may show it (text and lists of text redacted)."""
        if isinstance(value, str):
            return self.safe_text(value)
        if isinstance(value, list):
            return [self.safe_text(v) if isinstance(v, str) else v for v in value]
        return value

    def effect_headline(
        self, row: dict, *, design: str, comparison: str, section: str, role: str = "primary"
    ) -> dict:
        """Record an effect row of :mod:`certkit.report.story` (``effect_of``/``not_estimated``).

        ``row`` may carry ``certified_engineers`` (the ``n`` of :meth:`headline`) and
        ``needs`` (what a missing estimate would need).
        """
        from certkit.report import story

        outcome = row["outcome"]
        spec = story.OUTCOMES.get(outcome, ("", "", True, False))
        keys = ("label", "estimate", "ci_low", "ci_high", "p_value", "relative")
        values = {
            k: row.get(k) for k in (*keys, "relative_low", "relative_high", "baseline", "note")
        }
        n = row.get("certified_engineers")
        values |= {
            "outcome": outcome,
            "design": design,
            "role": role,
            "comparison": comparison,
            "lower_better": spec[2],
            "unit": "" if spec[3] else spec[1],
            "n": n,
            "needs": row.get("needs"),
            "caveat": None if row.get("note") else story.effect_caveat(row, k=self.privacy.k),
            "not_evidence": not row.get("note") and story.not_evidence(row),
        }
        key = f"effect/{design}/{outcome}"
        return self.headline(key, values, kind="effect", section=section, n=n)

    def answer(self, kinds: tuple[str, ...] | None = None):
        """The page's recorded headlines as an "answer first" box (an HTML display object)."""
        from IPython.display import HTML

        from certkit.report import landing

        chosen = [r for r in self.headlines if kinds is None or r["kind"] in kinds]
        return HTML(landing.answer_box(chosen) if chosen else "")

    def validation_findings(self) -> pl.DataFrame:
        """The validation findings for the data-health page, messages redacted when shared.

        A shared report leaves out which rows (a PR id or a line points at one person's
        record: "merged before their author's hire date, ids xarray#9, ..."); it keeps how
        many, but for the roster and the certifications (a row is an engineer) only from
        ``k`` on."""
        findings = self.ds.validation.to_polars()
        if self.privacy.share:
            # a row of the roster or the certifications is one engineer: their counts under
            # k go, as the messages' do (trial Q, Q8: "n_rows 1" beside "earned before hire")
            people = pl.col("table").is_in(["engineers", "certifications"])
            findings = findings.drop("rows").with_columns(
                pl.when(people & (pl.col("n_rows") < self.k))
                .then(None)
                .otherwise(pl.col("n_rows"))
                .alias("n_rows")
            )
        return findings.with_columns(
            pl.col(c).map_elements(self.safe_text, return_dtype=pl.String)
            for c in ("message", "rows")
            if c in findings.columns
        )

    def warnings_html(self, messages: list[str], title: str = "Assumption checks") -> str:
        """Warnings as an HTML list (redacted in shared reports); empty when there are none."""
        if not messages:
            return ""
        items = "".join(f"<li>{html.escape(self.safe_text(str(m)))}</li>" for m in messages)
        return f"<div class='certkit-warnings'><b>{html.escape(title)}</b><ul>{items}</ul></div>"


#: Why points or cells leave a shared report, said once for all of them.
PRIVACY_RULES = (
    "left out of this shared report by its privacy rules (a group under k engineers, or a value "
    "that would tell each engineer's own)"
)


@contextmanager
def collect_warnings(notes: list[str], prefix: str = ""):
    """Collect certkit warnings raised inside the block into ``notes`` (shown once, tidily)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CertkitWarning)
        yield notes
    for w in caught:
        if issubclass(w.category, CertkitWarning):
            text = str(w.message)
            # the same warning from a later section's re-estimate (TWFE, sensitivity,
            # robustness re-run the same cells) is said once, under its first prefix
            if not any(n.endswith(text) for n in notes):
                notes.append(f"{prefix}{text}")


def table(
    df: pl.DataFrame,
    *,
    percent: tuple[str, ...] | list[str] = (),
    digits: int = 3,
    max_rows: int = 60,
):
    """A readable HTML table for reports: no dtypes, rounded numbers, shares as percents."""
    from IPython.display import HTML

    def fmt(col: str, v) -> str:
        if v is None:
            return "&ndash;"
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, float):
            if not math.isfinite(v):
                return "&ndash;"
            if col in percent:
                return f"{v:.1%}"
            return f"{v:,.{digits}f}" if abs(v) < 1000 else f"{v:,.0f}"
        if isinstance(v, int):
            return f"{v:,}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{fmt(c, v)}</td>" for c, v in row.items()) + "</tr>"
        for row in df.head(max_rows).iter_rows(named=True)
    )
    more = (
        f"<p><i>{df.height - max_rows:,} more rows not shown.</i></p>"
        if df.height > max_rows
        else ""
    )
    return HTML(
        "<table class='certkit-table'><thead><tr>"
        + head
        + "</tr></thead><tbody>"
        + rows
        + "</tbody></table>"
        + more
    )


def resolve_data(data: str) -> str:
    """``data`` as given, or relative to the repository root when it does not exist here.

    Notebooks opened in JupyterLab run in ``notebooks/``, where the default ``data/sample``
    would not be found; the repository's ``data/sample`` is meant.
    """
    path = Path(data).expanduser()
    if path.exists() or path.is_absolute():
        return str(path)
    repo = Path(certkit.__file__).resolve().parents[2] / path
    return str(repo) if repo.exists() else str(path)


def setup(
    data: str,
    *,
    period: str = "month",
    teams: list[str] | None = None,
    certifications: list[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    privacy_k: int = 5,
    share: bool = False,
    individuals: bool = False,
    fix_links: str = "drop",
    keep_partial_end: bool = False,
) -> Context:
    """Load ``data``, apply the notebook's filters, build the panel and the privacy rules.

    Also enables the certkit chart theme. Load and panel warnings are collected in
    ``context.notes`` (shown by the notebook) rather than printed as they happen.
    """
    certkit.charts.setup()
    privacy = Privacy(k=privacy_k, share=share, individuals=individuals)
    notes: list[str] = []
    with collect_warnings(notes):
        full = certkit.load(resolve_data(data))
        ds = filter_dataset(full, teams=teams, certifications=certifications, start=start, end=end)
        panel = build_panel(ds, period, fix_links=fix_links, keep_partial_end=keep_partial_end)
    if share:  # which rows (PR ids, lines) point at one person's records: say how many
        rowless = {p.format(): p.format(rows=False) for p in full.validation.problems}
        notes = [rowless.get(n, n) for n in notes]
    start_d, end_d = ds.period()
    return Context(
        ds=ds,
        full=full,
        panel=panel,
        privacy=privacy,
        period=f"{start_d} to {end_d}",
        filters={"teams": teams, "certifications": certifications, "from": start, "to": end},
        notes=notes,
        fix_links=fix_links,
        keep_partial_end=keep_partial_end,
    )
