"""Detect AI-assisted work from the traces coding tools leave in commits and pull requests.

The rules live in a data file (``ai_rules.yaml`` next to this module) that users can copy and
extend. They match e-mail addresses, bot logins, trailers and fixed lines, never display names
alone, because names collide with real people ("Claude Monet", "Devin Smith").

Detection is a **lower bound**: attribution can be switched off (Claude Code's ``attribution``
setting, Aider's ``--no-attribute-*`` flags), hooks strip trailers, and inline completions leave
no trace. Every detection records the rule that fired, so an analyst can audit it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

import polars as pl
import yaml

from certkit.connectors.identity import (
    Agent,
    Agents,
    Identities,
    load_agents,
    name_key,
    read_identities,
)
from certkit.connectors.identity import is_bot as _is_bot
from certkit.errors import CertkitError

FIELDS = (
    "email",
    "coauthor_email",
    "author_email",
    "author_name",
    "login",
    "trailer",
    "line",
    "subject",
    "branch",
    "label",
)
LOWER_BOUND_NOTE = (
    "AI assistance detected from commit trailers, bot accounts and PR text is a lower bound: "
    "attribution can be switched off and inline completions leave no trace."
)

_TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)\s*:\s*(.+?)\s*$")
_ADDRESS = re.compile(r"^(.*?)\s*<([^<>]+@[^<>]+)>\s*$")
_PARAGRAPHS = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Rule:
    """One detection rule (see ``ai_rules.yaml`` for the meaning of each field)."""

    id: str
    tool: str
    field: str
    pattern: str
    regex: bool = False
    value: str | None = None
    tool_from_value: bool = False
    bot_only: bool = False
    anywhere: bool = False
    yields: bool = False

    def matches(self, text: str) -> bool:
        if self.regex:
            return self._regex.search(text) is not None
        return text.strip().lower() == self._lower

    # Compiled once per rule: ``matches`` runs for every rule on every commit.
    @cached_property
    def _regex(self) -> re.Pattern:
        return re.compile(self.pattern, re.IGNORECASE)

    @cached_property
    def _lower(self) -> str:
        return self.pattern.lower()


@dataclass(frozen=True)
class Rules:
    """A loaded rule set: rules plus the keyword table for generic trailers."""

    rules: tuple[Rule, ...]
    tool_keywords: tuple[tuple[str, tuple[str, ...]], ...] = ()
    negative_values: frozenset[str] = frozenset()
    source: str = "bundled"

    def by_field(self, name: str) -> list[Rule]:
        return list(self._by_field.get(name, ()))

    @cached_property
    def _by_field(self) -> dict[str, list[Rule]]:
        """Rules grouped by field once (``detect`` asks for every field on every commit)."""
        out: dict[str, list[Rule]] = {}
        for r in self.rules:
            out.setdefault(r.field, []).append(r)
        return out

    @cached_property
    def anywhere_keys(self) -> frozenset[str]:
        """Trailer keys read from any paragraph of a message (session trailers)."""
        return frozenset(r.pattern.lower() for r in self.by_field("trailer") if r.anywhere)

    def tool_from(self, value: str, default: str) -> str:
        low = value.lower()
        for tool, words in self.tool_keywords:
            if any(w in low for w in words):
                return tool
        return default


@dataclass(frozen=True)
class Detection:
    """One rule that fired: the tool, the rule id and the text that matched.

    ``yields`` marks a model's address that an agent wrote (rule ``yields: true``): it is AI
    evidence, but its tool is named only when nothing else names one (:func:`tools_of`).
    """

    tool: str
    rule: str
    evidence: str
    yields: bool = False


@dataclass
class Evidence:
    """Everything one commit or pull request shows about who (or what) wrote it."""

    emails: list[str] = field(default_factory=list)  # author/committer e-mails
    names: list[str] = field(default_factory=list)  # author/committer display names
    coauthors: list[tuple[str, str]] = field(default_factory=list)  # (name, email)
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (login, is_bot)
    messages: list[str] = field(default_factory=list)  # commit messages or PR bodies
    branch: str | None = None
    labels: list[str] = field(default_factory=list)


def load_rules(path: str | Path | None = None) -> Rules:
    """Load AI-attribution rules from a YAML file (default: the bundled ``ai_rules.yaml``).

    Parameters
    ----------
    path
        A YAML file with the same layout as the bundled one. Its rules replace the bundled
        ones; start from a copy of ``certkit/connectors/ai_rules.yaml`` to extend them.
    """
    return _load_rules(None if path is None else str(path))


@cache
def _load_rules(path: str | None) -> Rules:
    name = path or "ai_rules.yaml (bundled)"
    try:
        if path is None:
            text = (
                resources.files("certkit.connectors").joinpath("ai_rules.yaml").read_text("utf-8")
            )
        else:
            text = Path(path).read_text("utf-8")
        doc = yaml.safe_load(text) or {}
    except OSError as exc:
        raise CertkitError(f"AI rules file {name}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise CertkitError(f"AI rules file {name}: not valid YAML ({exc})") from None
    raw = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(raw, list) or not raw:
        raise CertkitError(f"AI rules file {name}: expected a non-empty 'rules:' list")
    rules = []
    for i, r in enumerate(raw, start=1):
        where = f"AI rules file {name}, rule {i}"
        if not isinstance(r, dict):
            raise CertkitError(f"{where}: expected a mapping with id, tool, field, pattern")
        missing = [k for k in ("id", "tool", "field", "pattern") if not r.get(k)]
        if missing:
            raise CertkitError(f"{where}: missing {', '.join(missing)}")
        if r["field"] not in FIELDS:
            raise CertkitError(
                f"{where} ({r['id']}): field must be one of {', '.join(FIELDS)}, not {r['field']!r}"
            )
        rule = Rule(
            id=str(r["id"]),
            tool=str(r["tool"]),
            field=str(r["field"]),
            pattern=str(r["pattern"]),
            regex=bool(r.get("regex", False)),
            value=None if r.get("value") is None else str(r["value"]),
            tool_from_value=bool(r.get("tool_from_value", False)),
            bot_only=bool(r.get("bot_only", False)),
            anywhere=bool(r.get("anywhere", False)),
            yields=bool(r.get("yields", False)),
        )
        for pat in (rule.pattern if rule.regex else None, rule.value):
            if pat is None:
                continue
            try:
                re.compile(pat)
            except re.error as exc:
                raise CertkitError(
                    f"{where} ({rule.id}): bad regular expression {pat!r}: {exc}"
                ) from None
        rules.append(rule)
    ids = [r.id for r in rules]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise CertkitError(f"AI rules file {name}: rule ids must be unique; repeated: {dup}")
    kw = doc.get("tool_keywords") or {}
    keywords = tuple((str(t), tuple(str(w).lower() for w in ws)) for t, ws in kw.items())
    negative = frozenset(str(v).lower() for v in doc.get("negative_values") or ())
    return Rules(tuple(rules), keywords, negative, name)


def parse_trailers(
    message: str, anywhere_keys: frozenset[str] | None = None
) -> list[tuple[str, str]]:
    """``(key, value)`` trailers of a commit message, in order, without repeats.

    Git puts trailers (``Co-authored-by:``, ``Signed-off-by:``...) in the final paragraph, and
    every ``Key: value`` line there is read. Squash commits and agents also leave attribution
    elsewhere: co-author lines of each squashed commit (often indented, above or below the
    ``---------`` separator), a ``Copilot-Session:`` paragraph after the co-authors, a signature
    line after the trailers. So in the other paragraphs (never the subject) certkit reads:

    - every line of a paragraph made only of ``Key: value`` lines when at least one of them
      is *strong*: an address trailer (``Something-by: Name <e-mail>``) or a session trailer;
    - strong lines alone in any other paragraph.

    A lone ``Assisted-by: Claude is how the policy spells it.`` in a prose paragraph is not a
    trailer (near-miss guard).

    Parameters
    ----------
    message
        The whole commit message or PR body.
    anywhere_keys
        Lower-case keys that are strong wherever they appear (default: the bundled rules'
        trailers marked ``anywhere: true``, e.g. ``copilot-session``).
    """
    paragraphs = [p for p in _PARAGRAPHS.split(message.strip()) if p.strip()]
    if len(paragraphs) < 2:  # a subject line alone has no trailers
        return []
    keys = load_rules().anywhere_keys if anywhere_keys is None else anywhere_keys

    def strong(m: re.Match) -> bool:
        key = m.group(1).lower()
        return key in keys or (key.endswith("-by") and _ADDRESS.match(m.group(2)) is not None)

    out: list[tuple[str, str]] = []
    last = len(paragraphs) - 1
    for i in range(1, len(paragraphs)):
        lines = [line.strip() for line in paragraphs[i].splitlines() if line.strip()]
        found = [_TRAILER.match(line) for line in lines]
        if i == last or (all(found) and any(strong(m) for m in found if m)):
            chosen = [m for m in found if m]
        else:
            chosen = [m for m in found if m and strong(m)]
        for m in chosen:
            pair = (m.group(1), m.group(2))
            if pair not in out:
                out.append(pair)
    return out


def coauthors(trailers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``(name, email)`` of every ``Co-authored-by`` trailer (e-mail lower-cased)."""
    out = []
    for key, value in trailers:
        if key.lower() != "co-authored-by":
            continue
        m = _ADDRESS.match(value)
        if m:
            out.append((m.group(1).strip(), m.group(2).strip().lower()))
    return out


def detect(ev: Evidence, rules: Rules | None = None) -> list[Detection]:
    """Every rule that fires on one commit or pull request (empty list: nothing detected)."""
    rules = rules or load_rules()
    found: dict[tuple[str, str], Detection] = {}

    def hit(rule: Rule, text: str, tool: str | None = None) -> None:
        key = (rule.id, tool or rule.tool)
        found.setdefault(key, Detection(tool or rule.tool, rule.id, text[:200], rule.yields))

    def scan(name: str, texts: list[str]) -> None:
        """Every rule on field ``name`` against every text, in order."""
        for rule in rules.by_field(name):
            for text in texts:
                if rule.matches(text):
                    hit(rule, text)

    co_emails = [e for _, e in ev.coauthors]
    scan("email", [*ev.emails, *co_emails])
    scan("author_email", ev.emails)
    scan("coauthor_email", co_emails)
    scan("author_name", ev.names)
    for rule in rules.by_field("login"):
        for login, is_bot in ev.logins:
            if (is_bot or not rule.bot_only) and rule.matches(login):
                hit(rule, login)
    scan("label", ev.labels)
    scan("branch", [ev.branch] if ev.branch else [])
    trailer_rules, line_rules = rules.by_field("trailer"), rules.by_field("line")
    subject_rules = rules.by_field("subject")
    for msg in ev.messages:
        if not msg:
            continue
        if trailer_rules:
            for key, value in parse_trailers(msg, rules.anywhere_keys):
                for rule in trailer_rules:
                    if key.lower() != rule.pattern.lower():
                        continue
                    if value.strip().lower() in rules.negative_values:
                        continue
                    if rule.value and not re.search(rule.value, value, re.IGNORECASE):
                        continue
                    tool = rules.tool_from(value, rule.tool) if rule.tool_from_value else None
                    hit(rule, f"{key}: {value}", tool)
        subject = msg.strip().split("\n", 1)[0]
        for rule in subject_rules:
            if rule.matches(subject):
                hit(rule, subject)
        for rule in line_rules:
            for line in msg.splitlines():
                if rule.matches(line):
                    hit(rule, line.strip())
                    break
    return sorted(found.values(), key=lambda d: (d.tool, d.rule))


def add_agent_detections(
    detections: list[Detection], found: list[tuple[Agent | None, str]]
) -> list[Detection]:
    """Count a listed coding agent (author or co-author) as AI evidence even when no rule fired.

    ``found`` holds ``(agent or None, evidence text)`` per author or co-author, in order; each
    agent whose tool no detection names yet adds one (rule ``agent-<id>``). ``detections`` is
    extended in place and returned.
    """
    tools = {d.tool for d in detections}
    for agent, evidence in found:
        if agent is not None and agent.tool and agent.tool not in tools:
            detections.append(Detection(agent.tool, f"agent-{agent.id}", evidence))
            tools.add(agent.tool)
    return detections


def attribution_inputs(
    identities: str | Path | Identities | None,
    rules: str | Path | Rules | None,
    agents: str | Path | Agents | None,
) -> tuple[Identities, Rules, Agents]:
    """The identity map, AI rules and agents of an import: given objects, or read from files.

    ``None`` gives no identity file, the bundled ``ai_rules.yaml`` and ``agents.yaml``.
    """
    ids = identities if isinstance(identities, Identities) else read_identities(identities)
    rules = rules if isinstance(rules, Rules) else load_rules(rules)
    agents = agents if isinstance(agents, Agents) else load_agents(agents)
    return ids, rules, agents


def tools_of(detections: list[Detection]) -> str | None:
    """Comma-separated sorted tool names, or ``None`` when nothing was detected.

    A tool found only by a yielding rule (a model's address an agent wrote, such as
    ``claude-3-5-sonnet@anthropic.com`` beside ``openhands@all-hands.dev``) is left out when
    another rule or agent names a tool: the agent that wrote it is the tool used.
    """
    named = {d.tool for d in detections if not d.yields}
    tools = sorted(named or {d.tool for d in detections})
    return ",".join(tools) if tools else None


def unknown_coauthor_notes(
    commits: pl.DataFrame,
    n_prs: int,
    rules: Rules | None = None,
    agents: Agents | None = None,
    *,
    min_prs: int = 10,
    min_share: float = 0.0,
    ids: Identities | None = None,
    credited: set[str] | None = None,
) -> list[str]:
    """Notes on frequent co-authors that no AI rule or agent names and that rarely commit.

    An address in the ``Co-authored-by`` trailers of at least ``min_prs`` PRs and
    ``min_share`` of all ``n_prs``, which authors fewer commits than a tenth of those PRs, is
    the signature of an AI agent certkit is not told about (OpenHands' ``openhands
    <openhands@all-hands.dev>`` co-authored 880 of 2,869 PRs of All-Hands-AI/OpenHands and
    authored 3 commits). People who pair a lot also commit their own work, so they are not named.

    Parameters
    ----------
    commits
        The ``commits`` table of an import (``sha``, ``pr_id``, ``author_email``, ``trailers``).
    n_prs
        The number of PRs of the import (the share's base).
    rules, agents
        The AI rules and agents of the import (default: the bundled ones).
    min_prs, min_share
        How many PRs, and what share of ``n_prs``, an address must co-author to be named. By
        count alone by default: cline/cline's unlisted ``Cline Agent`` co-authored 13 of 3,061
        PRs (0.4%), aider's ``aider@aider.chat`` 51 of 2,886 (trial M, M8); a person who
        pairs that often also commits.
    ids
        The identity file: an address or name it maps to an engineer is a person, never
        named (trial P, fastapi: two roster engineers' second addresses were offered as
        possible AI agents).
    credited
        The engineer ids the import credits PRs to: a co-author credited as the human of
        agent PRs is a person (trial Q, browser-use: an address credited with 23 Cursor Agent
        PRs was offered as a possible agent).
    """
    need = {"pr_id", "author_email", "trailers"}
    if not n_prs or commits.is_empty() or not need <= set(commits.columns):
        return []
    rules = rules or load_rules()
    agents = agents or load_agents()
    prs_of: dict[str, set[str]] = {}
    names: dict[str, dict[str, int]] = {}
    rows = commits.filter(pl.col("pr_id").is_not_null() & pl.col("trailers").is_not_null())
    for pr_id, text in rows.select("pr_id", "trailers").iter_rows():
        pairs = [tuple(p.strip() for p in line.split(":", 1)) for line in text.splitlines()]
        for name, email in coauthors([p for p in pairs if len(p) == 2]):
            prs_of.setdefault(email, set()).add(pr_id)
            names.setdefault(email, {}).setdefault(name, 0)
            names[email][name] += 1
    authored = commits["author_email"].drop_nulls().str.to_lowercase().value_counts()
    own = dict(zip(authored["author_email"], authored["count"], strict=True))
    # the same person under another address (encode/starlette: "Scirlat Danut
    # <scirlatdanut@scirlats-mini.lan>" co-authored 31 squashed PRs that Scirlat Danut
    # authored from a second address): their name authors commits
    by_name: dict[str, int] = {}
    if "author_name" in commits.columns:
        for author, count in commits["author_name"].drop_nulls().value_counts().iter_rows():
            key = name_key(author)
            if key:
                by_name[key] = by_name.get(key, 0) + count
    # bot accounts' own PRs by their name without "[bot]": a house agent's co-author line
    # names it so (trial X, pydantic-ai: 'pydanty <pydanty@pydantic.dev>' on 44 PRs, 37 of
    # them authored by pydanty[bot]; the note said it "authored 0 commit(s)")
    bot_prs: dict[str, set] = {}
    if "author_name" in commits.columns:
        bots = commits.filter(pl.col("author_name").str.to_lowercase().str.ends_with("[bot]"))
        for author, pr_id in bots.select("author_name", "pr_id").iter_rows():
            stem = author.lower().removesuffix("[bot]").strip()
            bot_prs.setdefault(stem, set()).add(pr_id)
    notes = []
    for email, prs in sorted(prs_of.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        n = len(prs)
        if n < min_prs or n < min_share * n_prs or own.get(email, 0) * 10 >= n:
            continue
        name = max(names[email], key=lambda k: (names[email][k], k))
        if by_name.get(name_key(name) or "", 0) * 10 >= n:
            continue
        if ids is not None and ids.resolve(email=email, name=name):
            continue
        if credited and (ids or Identities()).engineer_id(email=email) in credited:
            continue
        if _is_bot(name, email, agents=agents) or detect(
            Evidence(coauthors=[(name, email)]), rules
        ):
            continue
        account = bot_prs.get(name.strip().lower(), set()) - {None}
        if account:
            theirs = len(prs & account)
            notes.append(
                f"{n:,} PRs ({n / n_prs:.0%}) are co-authored by '{name} <{email}>', the "
                f"co-author line of the bot account {name.strip()}[bot], which no AI rule or "
                f"agent entry names and which itself authored {len(account):,} PR(s), "
                f"{theirs:,} of them among these {n:,} (a bot account's PRs without AI evidence "
                f"are left out of the analysis; the other {n - theirs:,} count as not "
                "AI-assisted). If it is an AI agent "
                f"(it writes the code), add both addresses with --agents (kind ai_agent): "
                "its PRs then count as AI-assisted, credited to a human co-author where "
                "they name one"
            )
            continue
        notes.append(
            f"{n:,} PRs ({n / n_prs:.0%}) are co-authored by '{name} <{email}>', which no AI "
            f"rule or agent entry names and which authored {own.get(email, 0):,} commit(s) "
            "itself: if it is an AI agent, add it with --agents / --ai-rules (its PRs are "
            "counted as not AI-assisted until then)"
        )
    return notes


#: A sentence in which a PR's author says an AI tool wrote or helped write it, without a
#: trace a rule reads (astral-sh/ruff, trial AC: "Developed with AI assistance (Claude Code)",
#: "Code changed by Claude Sonnet 4.6", "I've used LLMs for this PR", "generated by prompted
#: Codex"). Counted in a note, not as AI assistance: such prose varies too much to be a rule.
_DISCLOSURE = re.compile(
    r"\b(?:developed|written|generated|created|drafted|implemented|authored|changed)\s+"
    r"(?:with|by|using)\s+(?:the\s+help\s+of\s+|prompted\s+)?"
    r"(?:ai\s+assistance|ai|claude|codex|copilot|gemini|chatgpt|an?\s+llm|llms)\b"
    r"|\bi(?:'ve|\s+have)?\s+used\s+(?:an?\s+)?(?:llms?|ai|claude|codex|copilot|chatgpt)\b",
    re.IGNORECASE,
)


def disclosed_ai(text: str | None) -> str | None:
    """The sentence of ``text`` in which its author says an AI tool wrote or helped write
    it (:data:`_DISCLOSURE`), else None."""
    m = _DISCLOSURE.search(text or "")
    if m is None:
        return None
    start = max(text.rfind("\n", 0, m.start()), text.rfind(". ", 0, m.start()) + 1, 0)
    end = min(
        (i for i in (text.find("\n", m.end()), text.find(". ", m.end())) if i >= 0),
        default=len(text),
    )
    return text[start:end].strip()[:120]


def disclosure_notes(disclosed: dict[str, str], prs: pl.DataFrame) -> list[str]:
    """A note on the PRs not marked AI-assisted whose text says an AI tool wrote or helped
    write them (``disclosed``: PR id -> the sentence, :func:`disclosed_ai`)."""
    if not disclosed or "ai_assisted" not in prs.columns:
        return []
    unmarked = prs.filter(
        pl.col("id").is_in(list(disclosed)) & (pl.col("ai_assisted").fill_null(0) < 0.5)
    )["id"].to_list()
    if not unmarked:
        return []
    first = sorted(unmarked)[0]
    return [
        f"{len(unmarked):,} PR(s) not marked AI-assisted say in their description that an AI "
        f"tool wrote or helped write them, without a trace certkit reads (e.g. {first}: "
        f'"{disclosed[first]}"): AI-assisted counts are a lower bound here; to count such '
        "PRs, add a rule for their wording (--ai-rules)"
    ]
