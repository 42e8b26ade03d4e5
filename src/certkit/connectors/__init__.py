"""Connectors: turn real engineering data into certkit's input tables.

Each reader returns an :class:`Import` (certkit-shaped frames plus audit tables); add imports
with ``+`` and validate them with :func:`to_dataset` or write a data folder with
:func:`write_import`::

    from certkit import connectors as cc
    imp = cc.read_git(["~/src/app"], identities="people.csv") + cc.read_github("prs.json")
    ds = cc.to_dataset(imp, engineers="roster.csv", certifications="certs.csv")

AI-assistance detection (trailers, bot accounts, PR bodies) is a lower bound: see
``docs/connectors.md``.
"""

from certkit.connectors.attribution import (
    LOWER_BOUND_NOTE,
    Detection,
    Evidence,
    Rules,
    detect,
    load_rules,
    parse_trailers,
)
from certkit.connectors.base import Import, combine, to_dataset, write_import
from certkit.connectors.devlake import read_devlake
from certkit.connectors.git import read_git
from certkit.connectors.github import read_github
from certkit.connectors.identity import Agents, Identities, is_bot, load_agents, read_identities
from certkit.connectors.incidents import read_jira, read_pagerduty

__all__ = [
    "LOWER_BOUND_NOTE",
    "Agents",
    "Detection",
    "Evidence",
    "Identities",
    "Import",
    "Rules",
    "combine",
    "detect",
    "is_bot",
    "load_agents",
    "load_rules",
    "parse_trailers",
    "read_devlake",
    "read_git",
    "read_github",
    "read_identities",
    "read_jira",
    "read_pagerduty",
    "to_dataset",
    "write_import",
]
