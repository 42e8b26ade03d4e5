"""Map the many e-mails, logins and names of one person to one engineer id, and spot bots.

An identity file is a CSV with an ``engineer_id`` column and any of ``email``, ``login`` and
``name``; one row per alias, several rows per engineer::

    engineer_id,email,login,name
    ana,ana@corp.example,ana-gh,Ana Silva
    ana,ana.silva@gmail.com,,

Lookups try e-mail, then login, then name (all case-insensitive); the login of a GitHub
noreply e-mail (``65306057+Viicos@users.noreply.github.com``: ``Viicos``) counts as a login.
An author the file does not map keeps the login, else the GitHub login of a noreply e-mail as
written there (GitHub's case, so git and ``gh`` exports agree), else the lower-cased e-mail.
Git's own ``.mailmap`` is honoured by the git connector as well (``git log`` applies it).
:func:`~certkit.connectors.roster_match.match_roster` then maps the remaining authors to the
roster's engineers by its ``email``, ``engineer_id`` and ``name`` columns.

Agents and automation (the Copilot coding agent, ``Claude <claude@anthropic.com>``,
``claude[bot]``, dependabot, semantic-release, ``noreply@github.com`` service accounts...) are
listed in ``agents.yaml`` next to this module; :func:`load_agents` adds a user's own file. They
are never engineers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import polars as pl
import yaml

from certkit.data.textio import csv_rows
from certkit.errors import CertkitError

_NOREPLY_ID = re.compile(r"^(\d+\+)?([^@]+)@users\.noreply\.github\.com$", re.IGNORECASE)
AGENT_KINDS = ("ai_agent", "automation")


@dataclass(frozen=True)
class Agent:
    """One agent or automation identity (see ``agents.yaml`` for the meaning of each field)."""

    id: str
    kind: str
    tool: str | None = None
    emails: tuple[re.Pattern, ...] = ()
    logins: tuple[re.Pattern, ...] = ()
    names: tuple[re.Pattern, ...] = ()
    domains: frozenset[str] = frozenset()

    def matches(self, name: str | None, email: str | None, login: str | None) -> bool:
        """True when the e-mail or login matches, or the name does on a vendor domain."""
        if email and any(p.search(email) for p in self.emails):
            return True
        if login and any(p.search(login) for p in self.logins):
            return True
        if name and self.names and any(p.search(name.strip()) for p in self.names):
            if not self.domains:
                return True
            domain = (email or "").rpartition("@")[2].lower()
            return domain in self.domains
        return False


@dataclass
class Agents:
    """A loaded set of agent and automation identities (bundled plus any user files)."""

    agents: tuple[Agent, ...]
    sources: tuple[str, ...] = ("bundled",)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def match(
        self, name: str | None = None, email: str | None = None, login: str | None = None
    ) -> Agent | None:
        """The listed agent these aliases belong to, or ``None`` (not a listed agent)."""
        key = (name, email, login)
        if key not in self._cache:
            e = email.lower().strip() if email else None
            self._cache[key] = next((a for a in self.agents if a.matches(name, e, login)), None)
        return self._cache[key]


def fold_accents(text: str) -> str:
    """``text`` without accents, in Unicode's composed form (``"Cle\u0301ment"`` and
    ``"Clément"`` are both ``"Clement"``): names compared across HR systems and git."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_key(name: str | None) -> str | None:
    """A person's name as certkit compares names (roster matching, the draft identity file):
    accents folded, case ignored, and ``-``, ``_``, ``.`` and runs of spaces read as one
    space, so a login used as a display name is its owner's name (Aider-AI/aider:
    "paul-gauthier" is "Paul Gauthier"; "Clément" is "Clement"). ``None`` for a name too short
    to tell anyone apart or a :data:`GENERIC_NAMES` one ("root", "admin")."""
    if not name:
        return None
    key = " ".join(re.sub(r"[-_.]", " ", fold_accents(name)).casefold().split())
    return key if len(key) > 1 and key not in GENERIC_NAMES else None


def load_agents(*paths: str | Path | None) -> Agents:
    """The bundled agent/automation identities plus those of each user file given.

    Parameters
    ----------
    *paths
        YAML files with the layout of the bundled ``certkit/connectors/agents.yaml``; their
        entries are added to the bundled ones (``None`` entries are skipped).

    Raises
    ------
    CertkitError
        A file that cannot be read, is not YAML, or has an entry without ``id``/``kind``, a
        bad regular expression or no way to match.
    """
    files = tuple(str(p) for p in paths if p is not None)
    return _load_agents(files)


@cache
def _load_agents(files: tuple[str, ...]) -> Agents:
    bundled = resources.files("certkit.connectors").joinpath("agents.yaml").read_text("utf-8")
    agents = list(_parse_agents(bundled, "agents.yaml (bundled)"))
    for f in files:
        try:
            text = Path(f).read_text("utf-8-sig")
        except OSError as exc:
            raise CertkitError(f"agents file {f}: cannot be read ({exc.strerror})") from None
        agents[:0] = _parse_agents(text, f)  # user entries first: they win on overlaps
    ids = [a.id for a in agents]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise CertkitError(f"agents files: ids must be unique; repeated: {dup}")
    return Agents(tuple(agents), ("bundled", *files))


def _parse_agents(text: str, name: str) -> list[Agent]:
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise CertkitError(f"agents file {name}: not valid YAML ({exc})") from None
    raw = doc.get("agents") if isinstance(doc, dict) else None
    if not isinstance(raw, list):
        raise CertkitError(f"agents file {name}: expected an 'agents:' list")
    out = []
    for i, a in enumerate(raw, start=1):
        where = f"agents file {name}, entry {i}"
        if not isinstance(a, dict) or not a.get("id") or a.get("kind") not in AGENT_KINDS:
            raise CertkitError(
                f"{where}: expected a mapping with id and kind ({' or '.join(AGENT_KINDS)})"
            )
        pats = {}
        for key in ("emails", "logins", "names"):
            values = a.get(key) or []
            if isinstance(values, str):
                values = [values]
            try:
                pats[key] = tuple(re.compile(str(v), re.IGNORECASE) for v in values)
            except re.error as exc:
                raise CertkitError(
                    f"{where} ({a['id']}): bad regular expression in {key}: {exc}"
                ) from None
        if not any(pats.values()):
            raise CertkitError(f"{where} ({a['id']}): give at least one of emails, logins, names")
        out.append(
            Agent(
                id=str(a["id"]).lower(),
                kind=a["kind"],
                tool=None if a.get("tool") is None else str(a["tool"]),
                domains=frozenset(str(d).lower() for d in a.get("domains") or ()),
                **pats,
            )
        )
    return out


def _generic_bot(name: str | None, email: str | None, login: str | None) -> bool:
    for text in (name, login):
        if text and (text.lower().endswith("[bot]") or text.lower().startswith("app/")):
            return True
    return bool(email and "[bot]@" in email.lower())


def is_bot(
    name: str | None = None,
    email: str | None = None,
    login: str | None = None,
    agents: Agents | None = None,
) -> bool:
    """True for agents and automation: ``[bot]`` accounts and the identities in ``agents``.

    ``agents`` defaults to the bundled ``agents.yaml``; a display name alone never makes an
    account a bot unless the file says so (near-miss guard: "Claude Monet" is a person).
    """
    if _generic_bot(name, email, login):
        return True
    return (agents or load_agents()).match(name, email, login) is not None


def bot_id(
    name: str | None,
    email: str | None = None,
    login: str | None = None,
    agents: Agents | None = None,
) -> str:
    """A stable id ending in ``[bot]`` (what certkit's loader recognises as a bot).

    A listed coding agent gets its entry's id (``Copilot``, ``copilot-swe-agent[bot]`` and
    ``198982749+Copilot@users.noreply.github.com`` are all ``copilot[bot]``).
    """
    agent = (agents or load_agents()).match(name, email, login)
    if agent is not None and agent.kind == "ai_agent":
        return f"{agent.id}[bot]"
    text = login or ""
    if not text and name and name.lower().endswith("[bot]"):
        text = name
    noreply = _NOREPLY_ID.match(email.lower()) if email else None
    if not text and noreply and agent is not None:  # the account, not a generic entry's id
        text = noreply.group(2)  # ("Houston (Bot)": astrobot-houston, trial AI)
    if not text and agent is not None:
        text = agent.id
    if not text and email:
        m = _NOREPLY_ID.match(email.lower())
        text = m.group(2) if m else email.split("@")[0]
    text = (text or name or "unknown").lower()
    text = text.removeprefix("app/")
    text = re.sub(r"\[bot\]$", "", text)
    return f"{text}[bot]"


def noreply_login(email: str | None) -> str | None:
    """The GitHub login of a noreply e-mail, as written (``123+Ana@users.noreply.github.com``
    gives ``Ana``), or ``None`` for any other e-mail."""
    m = _NOREPLY_ID.match(email.strip()) if email else None
    return m.group(2) if m else None


@dataclass
class Identities:
    """Alias -> engineer id lookup built from an identity file (or empty)."""

    by_email: dict[str, str] = field(default_factory=dict)
    by_login: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    #: (``email``/``login``/``name``, alias lower-cased) -> the file's line that maps it.
    lines: dict[tuple[str, str], int] = field(default_factory=dict)

    def where(self, kind: str, alias: str) -> str:
        """``"ids.csv line 7"``: the line mapping ``alias`` (``"the identity file"`` if unknown)."""
        line = self.lines.get((kind, alias.strip().lower()))
        name = Path(self.source).name if self.source else "the identity file"
        return f"{name} line {line}" if line else name

    def resolve(
        self, email: str | None = None, login: str | None = None, name: str | None = None
    ) -> str | None:
        """The engineer id for any of these aliases, or ``None``.

        E-mail first, then login (or the login of a GitHub noreply e-mail), then name; all
        case-insensitive.
        """
        if email and email.strip().lower() in self.by_email:
            return self.by_email[email.strip().lower()]
        for alias in (login, noreply_login(email)):
            if alias and alias.strip().lower() in self.by_login:
                return self.by_login[alias.strip().lower()]
        if name and name.strip().lower() in self.by_name:
            return self.by_name[name.strip().lower()]
        return None

    def engineer_id(
        self, email: str | None = None, login: str | None = None, name: str | None = None
    ) -> str:
        """Mapped id, else the login, else the login of a GitHub noreply e-mail as written
        there (``123+Ana@users.noreply.github.com`` -> ``Ana``: GitHub's case, as ``gh``
        exports it), else the lower-cased e-mail, else the name."""
        found = self.resolve(email, login, name)
        if found:
            return found
        if login:
            return login
        if email:
            return noreply_login(email) or email.lower()
        return (name or "unknown").strip()

    @property
    def ids(self) -> frozenset[str]:
        """The engineer ids the file maps aliases to."""
        return frozenset({*self.by_email.values(), *self.by_login.values(), *self.by_name.values()})


def read_identities(path: str | Path | None) -> Identities:
    """Read an identity mapping CSV (see module docstring); ``None`` gives an empty mapping.

    Raises
    ------
    CertkitError
        Missing file or column, or one alias mapped to two different engineers (names the
        line numbers).
    """
    if path is None:
        return Identities()
    p = Path(path)
    header, values, lines = csv_rows(p, "identity file")  # any encoding, header checked
    cols = [c.strip().lower() for c in header]
    if "engineer_id" not in cols or not {"email", "login", "name"} & set(cols):
        raise CertkitError(
            f"identity file {p}: expected columns engineer_id and at least one of email, "
            f"login, name; found {', '.join(cols) or 'none'}"
        )
    out = Identities(source=str(p))
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    for line, cells in zip(lines, values, strict=True):
        row = {k: (v or "").strip() for k, v in zip(cols, cells, strict=False)}
        eid = row.get("engineer_id", "")
        if not eid:
            raise CertkitError(f"identity file {p}, line {line}: engineer_id is empty")
        for kind, table in (
            ("email", out.by_email),
            ("login", out.by_login),
            ("name", out.by_name),
        ):
            alias = row.get(kind, "").lower()
            if not alias:
                continue
            prev = seen.get((kind, alias))
            if prev and prev[0] != eid:
                raise CertkitError(
                    f"identity file {p}, line {line}: {kind} {alias!r} is mapped to "
                    f"{eid!r} here and to {prev[0]!r} on line {prev[1]}"
                )
            seen[(kind, alias)] = (eid, line)
            table[alias] = eid
            out.lines.setdefault((kind, alias), line)
    return out


#: A name, login or e-mail local part that ends in "bot" or "team" after a separator:
#: "KhulnaSoft bot", ``khulnasoft-bot``, ``ci_bot``, a shared account such as "Abseil Team
#: <absl-team@google.com>" (288 of abseil-cpp's 677 commits since 2025-09); not "Abbott",
#: "Talbot", "Steam". "Release Robot" too (gemini-cli's "gemini-cli-robot", trial T, is in
#: agents.yaml's release-robots). Sentry's release bot "getsentry-bot <bot@sentry.io>" (trial
#: AE) is in no agents file: it is neither a person's own work nor an identity to suggest.
#: A display name ending "(Bot)" too ("Houston (Bot)", trial AI; agents.yaml lists it).
BOT_LIKE = r"(?i)(?:^|[\s._-])(?:bot|robot|team)$|\((?:bot|robot)\)$"
_BOT_LIKE_RE = re.compile(BOT_LIKE)


def address_local(email: str | None) -> str:
    """An e-mail's local part in lower case, without a GitHub noreply's ``NNN+``
    (``108291165+astrobot-houston@users.noreply.github.com`` gives ``astrobot-houston``)."""
    return re.sub(r"^\d+\+", "", (email or "").split("@", 1)[0]).lower()


def bot_like(name: str | None, email: str | None = None, login: str | None = None) -> bool:
    """Whether a name, e-mail local part (:func:`address_local`) or login says "bot",
    "robot" or "team" at its end (:data:`BOT_LIKE`): automation or a shared account no agents
    file lists."""
    local = address_local(email)
    return any(_BOT_LIKE_RE.search(t.strip()) for t in (name, local, login) if t)


#: Author names that machines and shared accounts use: never taken as one person's name.
#: Names that tell nobody apart; "username" is a template's placeholder left in co-author
#: trailers ("Co-authored-by: Username <nate@...>", "... <brian@...>": continuedev/continue,
#: trial W, whose draft identity file paired two people by it).
GENERIC_NAMES = frozenset(
    {
        "root",
        "admin",
        "administrator",
        "unknown",
        "user",
        "username",
        "your name",
        "ubuntu",
        "git",
        "github",
        "nobody",
    }
)


def names_seen(people: pl.DataFrame, commits: pl.DataFrame | None) -> pl.DataFrame:
    """An import's people with every name each engineer id committed under (one row per id
    and name): people keep one name per id, but a person may sign ``Joao Pedro`` on one
    e-mail and ``Joao Pedro Pereira Holanda`` on both (fastapi), which only the commits show.
    """
    if commits is None or commits.height == 0:
        return people
    seen = commits.select(
        pl.col("author_id").alias("engineer_id"), pl.col("author_name").alias("name")
    ).unique()
    per_id = people.drop("name").join(seen, on="engineer_id", how="inner")
    return pl.concat([people, per_id.select(people.columns)]).unique(
        ["engineer_id", "name"], maintain_order=True
    )


def shared_names(
    people: pl.DataFrame, known: set[str] | frozenset[str] = frozenset()
) -> pl.DataFrame:
    """A draft identity file for authors whose name appears under several engineer ids.

    Without an identity file the git import gives each e-mail (or GitHub login) its own
    engineer id, so one person who committed as ``kevin@deldycke.com`` and as
    ``kdeldycke@users.noreply.github.com`` becomes two engineers (14 such names in the
    history of pallets/click). Names are compared as :func:`name_key` reads them;
    bots and :data:`GENERIC_NAMES` are left out. Two different people can share a name, so
    this is a draft to check, not a mapping applied by itself. Bot-like accounts
    (:func:`bot_like`: "getsentry-bot" under ``bot@sentry.io`` and ``bot@getsentry.com``) are
    left out too.

    Parameters
    ----------
    people
        An import's people (``engineer_id``, ``name``, ``email``, ``login``, ``is_bot``).
    known
        Engineer ids of the roster: a group keeps its roster id when it has one; a group
        holding two roster ids (a person listed twice) is left out, never merged
        (:func:`roster_rows_sharing_names` names them for the import's note).

    Returns
    -------
    polars.DataFrame
        One row per alias, in the identity-file format (:func:`read_identities`):
        ``engineer_id`` (the id proposed for the person: the roster's, else a GitHub login,
        else the first in sort order), ``email``, ``login``, ``name``, and ``current_id``
        (the id the import gave this alias; ignored when the file is read), sorted by name.
    """
    key = _name_key()
    humans = people.filter(~pl.col("is_bot").fill_null(False) & pl.col("name").is_not_null())
    humans = humans.filter(~_bot_like_expr(humans))  # getsentry-bot (trial AE L1)
    humans = humans.with_columns(key.alias("_name")).filter(pl.col("_name").is_not_null())
    shared = humans.filter(pl.col("engineer_id").n_unique().over("_name") > 1)
    # ids linked through any shared name are one person (an id may carry several names)
    person = {i: i for i in shared["engineer_id"].to_list()}

    def root(i: str) -> str:
        while person[i] != i:
            person[i] = person[person[i]]
            i = person[i]
        return i

    for ids in shared.group_by("_name").agg("engineer_id")["engineer_id"].to_list():
        for other in ids[1:]:
            person[root(other)] = root(ids[0])
    groups = pl.DataFrame(
        {"current_id": list(person), "_group": [root(i) for i in person]},
        schema={"current_id": pl.String, "_group": pl.String},
    )
    # two roster rows are never merged here: a duplicate roster row is the roster's to drop
    # (trial G: the draft merged e039 into e009; see roster_rows_sharing_names)
    roster_rows = pl.col("current_id").is_in(list(known)).sum().over("_group")
    groups = groups.filter(roster_rows < 2)
    rank = (
        pl.when(pl.col("current_id").is_in(list(known)))
        .then(0)
        .when(~pl.col("current_id").str.contains("@", literal=True))
        .then(1)
        .otherwise(2)
    )
    proposed = (
        groups.with_columns(rank.alias("_rank"))
        .sort("_rank", "current_id")
        .group_by("_group", maintain_order=True)
        .agg(pl.col("current_id").first().alias("_proposed"))
    )
    return (
        shared.rename({"engineer_id": "current_id"})
        .join(groups, on="current_id")
        .join(proposed, on="_group")
        .sort("_proposed", "_name", "current_id")
        .select(
            pl.col("_proposed").alias("engineer_id"),
            "email",
            "login",
            "name",
            "current_id",
        )
    )


def _bot_like_expr(people: pl.DataFrame) -> pl.Expr:
    """:func:`bot_like` of each row's ``name``, ``email`` and ``login`` (those it has)."""
    cols = [c for c in ("name", "email", "login") if c in people.columns]
    return pl.struct(cols).map_elements(
        lambda r: bot_like(r.get("name"), r.get("email"), r.get("login")), return_dtype=pl.Boolean
    )


def _name_key() -> pl.Expr:
    """:func:`name_key` of the ``name`` column."""
    return pl.col("name").map_elements(name_key, return_dtype=pl.String)


def roster_rows_sharing_names(
    people: pl.DataFrame, known: set[str] | frozenset[str]
) -> list[tuple[str, list[str]]]:
    """``(name, [roster ids])`` for each name that several roster engineers' authors use
    (a person listed twice in the roster): :func:`shared_names` leaves them out of its draft.

    Parameters
    ----------
    people
        An import's people (with :func:`names_seen`'s extra rows), ids mapped to the roster.
    known
        The roster's engineer ids.
    """
    key = _name_key()
    rows = people.filter(
        ~pl.col("is_bot").fill_null(False)
        & pl.col("name").is_not_null()
        & pl.col("engineer_id").is_in(list(known))
    ).with_columns(key.alias("_name"))
    rows = rows.filter(pl.col("_name").is_not_null())
    groups = (
        rows.group_by("_name")
        .agg(pl.col("name").first(), pl.col("engineer_id").unique().sort())
        .filter(pl.col("engineer_id").list.len() > 1)
        .sort("_name")
    )
    return [(n, list(ids)) for n, ids in groups.select("name", "engineer_id").rows()]


#: The draft identity file :func:`~certkit.connectors.base.write_import` writes.
DRAFT_FILE = "identities_suggested.csv"


#: What the alias note promises; replaced when the import stops before writing its tables.
DRAFT_PROMISE = f"a draft to check is written beside the imported tables as {DRAFT_FILE}"


def shared_names_note(
    draft: pl.DataFrame,
    roster_words: str | None = None,
    known: set[str] | frozenset[str] = frozenset(),
) -> str | None:
    """The import note for :func:`shared_names`' draft (None when it is empty and there are
    no ``roster_words``).

    ``roster_words``: roster engineers that may also appear under other ids, certified first
    (``"alice (certified) may also appear as alexm@gnome.org (349 PRs, same name)"``), named
    before the other names (trial I, I19: the example was a translator while a certified
    engineer's 349 PRs sat under an outside id). ``known``: the roster's engineer ids (the
    example of the other names is not one of them).
    """
    if draft.height == 0 and not roster_words:
        return None
    advice = (
        "if each is one person, their PRs are split across engineers and a certified "
        "engineer's other ids count as not certified. Map the aliases to one id in an identity "
        f"file (--identities) or a .mailmap; {DRAFT_PROMISE}"
    )
    if draft.height == 0:
        return f"roster engineers may also appear under other ids: {roster_words}: {advice}"
    groups = draft.group_by("engineer_id", maintain_order=True).agg("name", "current_id")
    head = f"{groups.height} name(s) appear under several engineer ids"
    others = groups.filter(~pl.col("engineer_id").is_in(list(known)))
    example = ""
    if others.height:
        first = others.row(0, named=True)
        example = f"{first['name'][0]!r}: {', '.join(first['current_id'])}"
    if roster_words:
        example = f"; others, e.g. {example}" if example else ""
        return f"{head}; roster engineers first: {roster_words}{example}: {advice}"
    if not example:
        first = groups.row(0, named=True)
        example = f"{first['name'][0]!r}: {', '.join(first['current_id'])}"
    return f"{head} (e.g. {example}): {advice}"
