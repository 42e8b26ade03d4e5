"""Map the many e-mails, logins and names of one person to one engineer id, and spot bots.

An identity file is a CSV with an ``engineer_id`` column and any of ``email``, ``login`` and
``name``; one row per alias, several rows per engineer::

    engineer_id,email,login,name
    ana,ana@corp.example,ana-gh,Ana Silva
    ana,ana.silva@gmail.com,,

Lookups try e-mail, then login, then name (all case-insensitive). Git's own ``.mailmap`` is
honoured by the git connector as well (``git log`` applies it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from certkit.errors import CertkitError
from certkit.textio import csv_rows

# Accounts that are automation, not people (besides anything ending in "[bot]").
BOT_EMAILS = frozenset({"noreply@github.com", "action@github.com"})
# GitHub's GraphQL gives bot reviewers/authors without the "[bot]" suffix, hence the list.
BOT_NAMES = frozenset(
    {
        "github",
        "github-actions",
        "github action",
        "dependabot",
        "dependabot-preview",
        "renovate",
        "web-flow",
        "gitlab",
        "copilot-pull-request-reviewer",
        "copilot-swe-agent",
        "coderabbitai",
        "gemini-code-assist",
        "sonarcloud",
        "codecov",
        "netlify",
        "vercel",
        "changeset-bot",
        "pre-commit-ci",
        "mergify",
    }
)
_NOREPLY_ID = re.compile(r"^(\d+\+)?([^@]+)@users\.noreply\.github\.com$")


def is_bot(name: str | None = None, email: str | None = None, login: str | None = None) -> bool:
    """True for automation accounts: ``[bot]`` names/logins/e-mails and known CI accounts."""
    for text in (name, login):
        if text and (text.lower().endswith("[bot]") or text.lower().startswith("app/")):
            return True
    if login and login.lower() in BOT_NAMES:
        return True
    if name and name.lower() in BOT_NAMES:
        return True
    if email:
        e = email.lower()
        if e in BOT_EMAILS or "[bot]@" in e:
            return True
    return False


def bot_id(name: str | None, email: str | None = None, login: str | None = None) -> str:
    """A stable id ending in ``[bot]`` (what certkit's loader recognises as a bot)."""
    text = login or ""
    if not text and name and name.lower().endswith("[bot]"):
        text = name
    if not text and email:
        m = _NOREPLY_ID.match(email.lower())
        text = m.group(2) if m else email.split("@")[0]
    text = (text or name or "unknown").lower()
    text = text.removeprefix("app/")
    text = re.sub(r"\[bot\]$", "", text)
    return f"{text}[bot]"


@dataclass
class Identities:
    """Alias -> engineer id lookup built from an identity file (or empty)."""

    by_email: dict[str, str] = field(default_factory=dict)
    by_login: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)
    source: str | None = None

    def resolve(
        self, email: str | None = None, login: str | None = None, name: str | None = None
    ) -> str | None:
        """The engineer id for any of these aliases, or ``None``."""
        if email and email.lower() in self.by_email:
            return self.by_email[email.lower()]
        if login and login.lower() in self.by_login:
            return self.by_login[login.lower()]
        if name and name.strip().lower() in self.by_name:
            return self.by_name[name.strip().lower()]
        return None

    def engineer_id(
        self, email: str | None = None, login: str | None = None, name: str | None = None
    ) -> str:
        """Mapped id, else the login, else the lower-cased e-mail, else the name."""
        found = self.resolve(email, login, name)
        if found:
            return found
        if login:
            return login
        if email:
            m = _NOREPLY_ID.match(email.lower())  # 123+ana@users.noreply.github.com -> ana
            return m.group(2) if m else email.lower()
        return (name or "unknown").strip()

    @property
    def ids(self) -> set[str]:
        return {*self.by_email.values(), *self.by_login.values(), *self.by_name.values()}


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
    return out
