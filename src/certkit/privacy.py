"""Privacy guardrails for reports about people.

A shared report (``certkit report --share`` or ``share=True`` in a notebook) may show only
groups of at least ``k`` people (default 5, a k-anonymity style threshold) and never a row,
name, email or id of an individual engineer. Three tools enforce this:

* :func:`coarsen` relabels small groups (team, cohort, certification) as ``"other"`` *before*
  aggregating, so every statistic is computed over at least ``k`` people; if ``"other"`` is
  itself smaller than ``k`` its rows are dropped.
* :func:`suppress` drops (or masks) rows of an aggregated table whose head count is below ``k``.
* :func:`pseudonymize` replaces engineer ids by a keyed hash when individual-level views are
  explicitly enabled; :func:`find_identifiers` / :func:`redact` check text (warning
  messages, a page's visible text) for ids, names and emails of the people in the data, and
  :func:`check_shared` fails a shared page naming each value found and where.

Matching rules (:func:`exact_case`): a value matches only as whole tokens; an email or a name
of several words in any case; a single word (an id, a one-word display name like ``Mark``,
``Dom`` or ``mode``) only with its exact case, so a person named "Mark" is not the word
"mark" and "Dom" is not "DOM". A single word that certkit's own text also uses (a contributor
named ``two``, ``fewer`` or ``mode``: :mod:`certkit.privacy_words`) is certkit's word where it
stands beside a word certkit writes next to it ("the two estimates", "fewer than two matched
sets") and is the person everywhere else: alone in a table cell or a chart value, next to
another identifier ("two <two@envs.net>"), in a phrase certkit never writes ("Most AI PRs:
mode (7)"). What is scanned matters as much: a report page is checked on what a reader sees
and on its charts' data (:func:`certkit.report.html.shared_content`), not on its CSS,
JavaScript, JSON keys or Vega-Lite grammar, where "mark" and "mode" are ordinary words.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from functools import lru_cache

import polars as pl

from certkit.errors import CertkitError
from certkit.privacy_words import TOKEN, is_word, own_words

DEFAULT_K = 5
OTHER = "other"
KEY_ENV = "CERTKIT_PSEUDONYM_KEY"


@dataclass(frozen=True)
class Privacy:
    """What a report may show.

    Parameters
    ----------
    k
        Smallest number of people a shown group may have (applies when ``share`` is on).
    share
        Shared-report mode: small groups suppressed, no individual rows.
    individuals
        Individual-level views explicitly enabled; in share mode ids are pseudonymized.
    key
        Secret for the keyed hash (default: ``$CERTKIT_PSEUDONYM_KEY`` or a random key per
        run, so pseudonyms cannot be linked across reports).
    """

    k: int = DEFAULT_K
    share: bool = False
    individuals: bool = False
    key: bytes = field(default=b"", repr=False)

    def __post_init__(self):
        if not isinstance(self.k, int) or isinstance(self.k, bool) or self.k < 1:
            raise CertkitError(f"privacy k must be a whole number >= 1, not {self.k!r}")
        if not self.key:
            env = os.environ.get(KEY_ENV, "")
            object.__setattr__(self, "key", env.encode() if env else secrets.token_bytes(32))

    @property
    def min_group(self) -> int:
        """Smallest group size shown: ``k`` when sharing, 1 otherwise."""
        return self.k if self.share else 1

    @property
    def show_individuals(self) -> bool:
        """Individual rows may be shown (never in share mode unless explicitly enabled)."""
        return self.individuals or not self.share

    def engineer_ids(self, df: pl.DataFrame, column: str = "engineer_id") -> pl.DataFrame:
        """Ids as they may be shown: pseudonymized in share mode, raw otherwise."""
        if not self.show_individuals:
            raise CertkitError(
                "individual engineers are not shown in a shared report; set individuals=True "
                "(ids are then pseudonymized) to enable individual-level views"
            )
        if self.share:
            return df.with_columns(pseudonymize(df[column], self.key).alias(column))
        return df


def pseudonymize(ids: pl.Series, key: bytes | str, prefix: str = "eng-") -> pl.Series:
    """Keyed hash (HMAC-SHA256) of each id: stable within a key, not reversible without it."""
    key = key.encode() if isinstance(key, str) else key
    if not key:
        raise CertkitError("pseudonymize needs a non-empty key")
    mapping = {
        v: prefix + hmac.new(key, str(v).encode(), hashlib.sha256).hexdigest()[:10]
        for v in ids.drop_nulls().unique().to_list()
    }
    return ids.cast(pl.String).replace_strict(mapping, default=None, return_dtype=pl.String)


def coarsen(
    df: pl.DataFrame,
    group: str,
    k: int = DEFAULT_K,
    *,
    person: str = "engineer_id",
    other: str = OTHER,
) -> pl.DataFrame:
    """Relabel groups with fewer than ``k`` distinct people as ``other`` (row-level frame).

    Use on an engineer-level frame (e.g. the panel) before aggregating by ``group``. When the
    merged ``other`` group still has fewer than ``k`` people, its rows are dropped.
    """
    for c in (group, person):
        if c not in df.columns:
            raise CertkitError(f"coarsen: column {c!r} not in the frame (columns: {df.columns})")
    if k <= 1:
        return df
    sizes = df.group_by(group).agg(pl.col(person).n_unique().alias("_n"))
    small = sizes.filter(pl.col("_n") < k)[group].to_list()
    if not small:
        return df
    out = df.with_columns(
        pl.when(pl.col(group).is_in(small))
        .then(pl.lit(other))
        .otherwise(pl.col(group).cast(pl.String))
        .alias(group)
    )
    n_other = out.filter(pl.col(group) == other)[person].n_unique()
    if n_other < k:
        out = out.filter(pl.col(group) != other)
    return out


def suppress(
    df: pl.DataFrame,
    count: str,
    k: int = DEFAULT_K,
    *,
    mask: list[str] | None = None,
) -> pl.DataFrame:
    """Hide rows of an aggregated table whose head count ``count`` is below ``k``.

    Without ``mask`` the rows are dropped; with ``mask`` they stay but those value columns
    (and the count) are set to null, e.g. to keep a heatmap's grid.
    """
    if count not in df.columns:
        raise CertkitError(f"suppress: count column {count!r} not in the frame ({df.columns})")
    if k <= 1:
        return df
    small = pl.col(count) < k
    if mask is None:
        return df.filter(~small)
    return df.with_columns(
        [pl.when(small).then(None).otherwise(pl.col(c)).alias(c) for c in [*mask, count]]
    )


def engineers_behind(
    panel: pl.DataFrame,
    outcome: str,
    by: str | None = "event_time",
    *,
    person: str = "engineer_id",
) -> pl.DataFrame:
    """Certified engineers an estimate rests on: distinct people with a known ``outcome``.

    ``panel`` is :func:`certkit.data.panel.build_panel` output (certified = ``cohort > 0``). With
    ``by`` (e.g. ``"event_time"``) one row per value with column ``engineers``; with
    ``by=None`` a single row. A shared report hides estimates whose count is below ``k``.
    """
    for c in [outcome, person, "cohort", *([by] if by else [])]:
        if c not in panel.columns:
            raise CertkitError(f"engineers_behind: column {c!r} not in the panel")
    treated = panel.filter((pl.col("cohort") > 0) & pl.col(outcome).is_not_null())
    count = pl.col(person).n_unique().cast(pl.Int64).alias("engineers")
    if by is None:
        return treated.select(count)
    return treated.group_by(by).agg(count).sort(by)


def certified_engineers(panel: pl.DataFrame, outcome: str) -> int:
    """Certified engineers with a known ``outcome`` both before and after certifying."""
    for c in (outcome, "cohort", "post", "engineer_id"):
        if c not in panel.columns:
            raise CertkitError(f"certified_engineers: column {c!r} not in the panel")
    seen = (
        panel.filter((pl.col("cohort") > 0) & pl.col(outcome).is_not_null())
        .group_by("engineer_id")
        .agg(pl.col("post").any().alias("a"), (~pl.col("post")).any().alias("b"))
        .filter(pl.col("a") & pl.col("b"))
    )
    return seen.height


def too_few(
    n: int, k: int, what: str = "this estimate", who: str = "certified engineer"
) -> str | None:
    """Why ``what`` is hidden in a shared report (``n`` people, fewer than ``k``), else None.

    ``who`` names the people counted (singular), e.g. ``"adopter"`` in the AI-adoption study.
    """
    if k <= 1 or n >= k:
        return None
    # not the number itself: a group under k is not described (trial H: "does not describe
    # them", then "rests on 3 adopters")
    return (
        f"{what} rests on fewer than {k} {who}s; a shared report shows only estimates based "
        f"on at least {k} people"
    )


def identifiers(engineers: pl.DataFrame, extra_ids: list[str] | None = None) -> list[str]:
    """Ids, names and emails of the people in ``engineers`` (what a shared report must not show)."""
    values: set[str] = set(extra_ids or [])
    if "is_bot" in engineers.columns:
        engineers = engineers.filter(~pl.col("is_bot").fill_null(False))
    for c in ("engineer_id", "name", "email"):
        if c in engineers.columns:
            values.update(v for v in engineers[c].drop_nulls().cast(pl.String).to_list() if v)
    # Very short values (a 1-2 character id) would match ordinary text; they are not searched.
    return sorted((v for v in values if len(v.strip()) >= 3), key=len, reverse=True)


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in TOKEN.finditer(text)]


def _values(people: pl.DataFrame | list[str], extra_ids: list[str] | None) -> list[str]:
    if isinstance(people, pl.DataFrame):
        return identifiers(people, extra_ids)
    return sorted({*people, *(extra_ids or [])}, key=len, reverse=True)


def exact_case(value: str) -> bool:
    """Whether ``value`` is matched case-sensitively: a single word that is not an email.

    A one-word value (an id like ``svlandeg``, a display name like ``Mark``, ``Dom`` or ``mode``)
    may also be an ordinary word; matched with its exact case it does not hit "mark", "DOM"
    or "Mode". An email, or a name of several words (``Ana Silva``), is no ordinary text and
    is matched in any case (``ANA.SILVA@example.com``, ``ana  silva``).
    """
    toks = _tokens(value)
    return len(toks) == 1 and "@" not in value


@dataclass(frozen=True)
class _Wanted:
    """What to look for: token sequences by (length, exact case), each mapped to its value;
    the one-word values certkit also writes (:func:`certkit.privacy_words.own_words`) and
    the word pairs it writes them in."""

    seqs: dict[tuple[int, bool], dict[tuple[str, ...], str]]
    own: frozenset[str]
    pairs: frozenset[tuple[str, str]]


@lru_cache(maxsize=8)
def _wanted(values: tuple[str, ...]) -> _Wanted:
    """Built once per list: reports redact many texts. Exact-case sequences keep their case,
    the others are lower-cased."""
    seqs: dict[tuple[int, bool], dict[tuple[str, ...], str]] = {}
    words = set()
    for v in values:
        exact = exact_case(v)
        toks = tuple(t if exact else t.lower() for t, _, _ in _tokens(v))
        if toks:
            seqs.setdefault((len(toks), exact), {}).setdefault(toks, v)
        if exact and is_word(v):
            words.add(v)
    own, pairs = own_words(frozenset(words))
    return _Wanted(seqs, own, pairs)


#: What may stand between two identifiers of a list or of one person ("two <two@x.net>",
#: "ebassi, two"): a few characters, none of them a letter or digit.
_BETWEEN = re.compile(r"[^\w]{0,4}")


def _matches(text: str, values: list[str]) -> list[tuple[int, int, str]]:
    """Spans of ``text`` where a value occurs as whole tokens, with the value matched.

    Single-word values (not emails) match with their exact case, the others in any case
    (:func:`exact_case`). A one-word value that certkit itself writes as a word (``two``,
    ``fewer``, ``mode``: :func:`certkit.privacy_words.own_words`) is certkit's word where it
    stands next to a word certkit writes beside it ("the two estimates", "fewer than two"),
    unless it is next to another identifier ("two <two@envs.net>"); anywhere else (alone in
    a table cell or chart value, "Most AI PRs: mode (7)") it is the person. Matching token
    sequences against a set keeps this linear in the text even with thousands of people (a
    regex alternation would try every name at every position).
    """
    wanted = _wanted(tuple(values))
    if not wanted.seqs:
        return []
    toks = _tokens(text)
    words = [t for t, _, _ in toks]
    lower = [t.lower() for t in words]
    order = sorted(wanted.seqs, reverse=True)  # longest sequences first
    spans: list[tuple[int, int, str, bool]] = []
    i = 0
    while i < len(toks):
        for n, exact in order:
            if i + n > len(toks):
                continue
            value = wanted.seqs[(n, exact)].get(tuple((words if exact else lower)[i : i + n]))
            if value is not None:
                own = value in wanted.own and (
                    (i > 0 and (lower[i - 1], lower[i]) in wanted.pairs)
                    or (i + 1 < len(toks) and (lower[i], lower[i + 1]) in wanted.pairs)
                )
                spans.append((toks[i][1], toks[i + n - 1][2], value, own))
                i += n - 1
                break
        i += 1
    # certkit's own words next to an identifier are the person's after all (to a fixed point)
    keep = [not own for _, _, _, own in spans]
    changed = True
    while changed:
        changed = False
        for j, (a, b, _, _) in enumerate(spans):
            if keep[j]:
                continue
            near = (j > 0 and keep[j - 1] and _BETWEEN.fullmatch(text[spans[j - 1][1] : a])) or (
                j + 1 < len(spans) and keep[j + 1] and _BETWEEN.fullmatch(text[b : spans[j + 1][0]])
            )
            if near:
                keep[j] = changed = True
    return [(a, b, v) for (a, b, v, _), k in zip(spans, keep, strict=True) if k]


def find_identifiers(
    text: str, people: pl.DataFrame | list[str], extra_ids: list[str] | None = None
) -> list[str]:
    """Engineer ids, names and emails that occur in ``text`` (as written there).

    ``people`` is the engineers table or a list from :func:`identifiers`. A value matches
    only as whole tokens (``E001`` is not found in ``E0011``); a single-word value (an id,
    a one-word display name such as ``Mark``) only with its exact case, an email or a name
    of several words in any case (:func:`exact_case`). ``text`` is searched as it is: to
    check a report page, pass what a reader sees (:func:`find_exposures` with
    :func:`certkit.report.html.shared_content`), not its CSS or scripts.
    """
    return sorted({text[a:b] for a, b, _ in _matches(text, _values(people, extra_ids))})


@dataclass(frozen=True)
class Exposure:
    """One identifier found in a page: the value in the data, where, and the text around it."""

    identifier: str
    place: str
    snippet: str


def find_exposures(
    parts: list[tuple[str, str]],
    people: pl.DataFrame | list[str],
    extra_ids: list[str] | None = None,
    *,
    context: int = 40,
) -> list[Exposure]:
    """Identifiers found in ``parts``, ``(place, text)`` pairs such as a page's visible text.

    Same matching rules as :func:`find_identifiers`; each hit keeps the identifier as it is in
    the data, the place and ``context`` characters either side.
    """
    values = _values(people, extra_ids)
    found = []
    for place, text in parts:
        for a, b, value in _matches(text, values):
            left = text[max(0, a - context) : a].lstrip()
            right = text[b : b + context].rstrip()
            snippet = " ".join(f"{'…' if a > context else ''}{left}[{text[a:b]}]{right}".split())
            found.append(Exposure(value, place, snippet + ("…" if b + context < len(text) else "")))
    return found


def json_strings(obj: object, where: str) -> list[tuple[str, str]]:
    """``(place, value)`` for every string value of a JSON-like object (keys are not data)."""
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in json_strings(v, f"{where}, {k!r}")]
    if isinstance(obj, list):
        return [p for v in obj for p in json_strings(v, where)]
    return [(where, obj)] if isinstance(obj, str) else []


def check_shared(
    parts: list[tuple[str, str]],
    people: pl.DataFrame | list[str],
    what: str = "the shared page",
    *,
    shown: int = 8,
) -> None:
    """Raise a :class:`CertkitError` naming every identifier found in ``parts`` and where.

    The message is for the analyst running the report (the identifiers are their own data):
    which value matched, where (section, chart, text around it), and what to do.
    """
    found = find_exposures(parts, people)
    if not found:
        return
    values = sorted({e.identifier for e in found})
    lines = [f"  - {e.identifier!r} in {e.place}: {e.snippet!r}" for e in found[:shown]]
    if len(found) > shown:
        lines.append(f"  - … and {len(found) - shown} more place(s)")
    advice = (
        "An id, email or name on a shared page is a real leak: remove it from what the "
        "notebook shows."
    )
    if any(exact_case(v) for v in values):
        advice += (
            " A one-word name that is also a word of certkit's own text is taken for the "
            "person only where certkit would not write it (alone in a table cell or chart "
            "value, next to another identifier, in a phrase certkit never writes); if the "
            "page shows it as something else (a team or a certification called the same), "
            "drop or change the optional `name` column of the engineers table and run again."
        )
    raise CertkitError(
        f"privacy check failed: {what} would show {len(values)} engineer id(s)/name(s)/email(s) "
        f"({', '.join(map(repr, values))}) in {len(found)} place(s); no HTML was written.\n"
        + "\n".join(lines)
        + "\n"
        + advice
    )


def redact(
    text: str,
    people: pl.DataFrame | list[str],
    extra_ids: list[str] | None = None,
    replacement: str = "[redacted]",
) -> str:
    """Replace every engineer id, name and email in ``text`` by ``replacement``."""
    out, last = [], 0
    for a, b, _ in _matches(text, _values(people, extra_ids)):
        out += [text[last:a], replacement]
        last = b
    return "".join(out) + text[last:]


#: Estimator messages that list groups by size (cohorts of one engineer, cells with their
#: counts): in a shared report the list goes, the message stays.
_SMALL_COUNTS = (
    # "very small cohort(s): 23 (1 units), 28 (1 units); their effects are noisy ..."
    (re.compile(r"very small cohort\(s\): [^;]*;"), "very small cohort(s) (fewer than {k});"),
    # "... which were dropped (min_cell_units=1): ATT(g=23, t=2): 1 treated, 2 comparison
    # units; ...; and 377 more" (and "... so they were left out: ATT(...)": no treated data)
    (
        re.compile(
            r"(which were dropped \(min_cell_units=\d+\)|so they were left out): "
            r"ATT\(g=[^)]*\): \d+ treated, \d+ "
            r"comparison units(?:; ATT\(g=[^)]*\): \d+ treated, \d+ comparison units)*"
            r"(?:; and \d+ more)?"
        ),
        r"\1",
    ),
    # robust verdicts: "(Sun-Abraham: 3 cohorts, 3 engineers, 29% of its weight)"; then
    # "632 group-time cell(s) of cohort(s) 23, 28, 34 rest on a single treated unit" and
    # "cohort x period cells of cohort(s) 23, 28 and 3 more rest on ... (11 engineers)"
    (re.compile(r"\d+ cohorts?, \d+ engineers?, "), ""),
    # counts per engineer, ids redacted: "PRs ... merged before the month of their author's
    # hire_date ([redacted]: 42, [redacted]: 12 and 4 more)": one person's numbers (trial H)
    (
        re.compile(r" \((?:[^():,;]+: \d[\d,]*)(?:, [^():,;]+: \d[\d,]*)*(?: and \d+ more)?\)"),
        "",
    ),
    (re.compile(r"of cohort\(s\) [\d.,\s]+(?:and \d+ more )?(rest on)"), r"\1"),
)


#: Validation warnings that name certifications with their holders
#: (:func:`certkit.data.certification_checks.holders_list`): "not in the certification
#: catalog: Foo Cert (1 engineer), Bar (6 engineers); they COUNT ..."
_CERTIFICATION_LIST = re.compile(
    r"(not in the certification catalog|not ML certifications): ([^;]*?)( and \d+ more)?;"
)
_HELD = re.compile(r"(.+?) \((\d+) engineers?\)(?:, |$)")


def _held_by_k(m: re.Match, k: int) -> str:
    """A certification list without the names held by fewer than ``k`` engineers (a
    certification one person holds names that person to whoever knows who took it)."""
    items = [(h.group(0).rstrip(", "), int(h.group(2))) for h in _HELD.finditer(m.group(2))]
    kept = [item for item, n in items if n >= k]
    hidden = len(items) - len(kept)
    if hidden:
        kept.append(
            f"{hidden} certification(s) held by fewer than {k} engineers each (a shared "
            "report does not name them)"
        )
    return f"{m.group(1)}: {', '.join(kept)}{m.group(3) or ''};"


def hide_small_counts(text: str, k: int) -> str:
    """``text`` without the lists of small groups estimator messages give (cohort sizes,
    cells with their treated counts, the cohorts of single engineers), for shared reports.

    The message keeps what it warns about ("very small cohorts: their effects are noisy");
    only which cohorts and how many engineers each goes (pydantic-ai, shared: "very small
    cohort(s): 17 (1 units), 18 (4 units)"). Validation warnings listing certifications
    with their holders keep only the names held by ``k`` engineers or more (a Credly export's
    one-holder badge named the person who took it).
    """
    for pattern, replacement in _SMALL_COUNTS:
        text = pattern.sub(replacement.replace("{k}", f"{k} engineers"), text)
    text = _CERTIFICATION_LIST.sub(lambda m: _held_by_k(m, k), text)

    # any count of engineers under k, "(3 engineers)" as "gcp-pmle: 1 engineer(s) were
    # certified before (or in) their first observed month", which tied a group of one to a
    # certification (trial P)
    def fewer(m: re.Match) -> str:
        who = m.group(3) + ("s" if m.group(3).endswith("engineer") else "")
        return m.group(0) if int(m.group(2)) >= k else f"fewer than {k} {who}"

    def fewer_rows(m: re.Match) -> str:
        head, n, unit, tail = (g for g in m.groups() if g is not None)
        rows = "badge rows" if unit.startswith("badge") else "rows"
        return m.group(0) if int(n) >= k else f"{head}fewer than {k} {rows}{tail}"

    # a row of the roster or the certifications is one engineer: "certifications.parquet,
    # column 'earned_date', 1 row: earned before hire_date" (trial Q, Q8)
    text = _PEOPLE_ROWS.sub(fewer_rows, text)
    text = _ENGINEER_COUNT.sub(fewer, text)
    # "of 10 certified engineer(s) with enough periods before certifying, 1 found a peer" (trial V)
    text = _FOUND_PEER.sub(
        lambda m: m.group(0) if int(m.group(1)) >= k else f"fewer than {k}", text
    )
    if "engineer" in text:  # "1 of 6 certified engineers": the part, not only the whole
        text = _PART_OF.sub(
            lambda m: m.group(0) if int(m.group(1)) >= k else f"fewer than {k} of ", text
        )
    return text


#: Counts of rows of the tables whose rows are people (validation messages and the data-health
#: certification notes): "certifications.csv, column 'earned_date', 2 rows:", "1 row(s) with
#: ml false".
_PEOPLE_ROWS = re.compile(
    r"((?:certifications|engineers)[^\s,]*(?:, column ['\"][^'\"]*['\"])?, )([1-9]\d*) "
    r"(rows?)(:)"
    r"|()(?<![\w,.])([1-9]\d*) ((?:badge )?row\(s\))( with ml false| not)"
)


#: "3 engineer(s)", "only 2 certified engineers", "1 engineer" (not "1,024 engineers": the
#: count is whole, and not a number inside another, such as a version or a date)
_ENGINEER_COUNT = re.compile(
    # not a threshold ("under 10 engineers per cell", "fewer than 5 engineers", "at least 2"),
    # nor digits glued to a word ("python3 engineers"), nor "engineer-months" (review D5)
    r"(?<![\w,.])(?<!under )(?<!than )(?<!least )(?<!most )(only )?([1-9]\d*) "
    r"((?:certified |never-certified )?engineers?(?:\(s\))?)(?![\w-])"
)
#: "1 found a peer": the certified engineers matched (matched DiD's refusal, trial V).
_FOUND_PEER = re.compile(r"(?<![\w,.])([1-9]\d*)(?= found a peer\b)")
#: "1 of 6 certified engineer(s)", "2 of them": the part of a group, said of a group under k
#: too (review D6: "1 of fewer than 5 certified engineer(s)").
_PART_OF = re.compile(r"(?<![\w,.])([1-9]\d*) of (?=(?:the |them|those|\d|fewer than))")
