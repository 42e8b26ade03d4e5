"""The certification catalog shipped with certkit (``data/catalog.yaml``)."""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

import polars as pl
import yaml

from certkit.errors import CertkitError

_CATALOG_FILE = "catalog.yaml"


def _normalise(name: str) -> str:
    """Lower-case, unify dashes and collapse spaces so names and aliases compare loosely."""
    name = name.replace("\u2013", "-").replace("\u2014", "-").lower()
    return re.sub(r"\s+", " ", name).strip()


@cache
def _entries(path: str | None = None) -> tuple[dict, ...]:
    if path is None:
        text = resources.files("certkit.data").joinpath(_CATALOG_FILE).read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    doc = yaml.safe_load(text) or {}
    entries = doc.get("certifications")
    if not isinstance(entries, list) or not entries:
        raise CertkitError(f"Catalog {path or _CATALOG_FILE}: expected a 'certifications:' list")
    return tuple(entries)


def catalog(path: str | Path | None = None) -> pl.DataFrame:
    """The certification catalog as a table: one row per certification.

    Parameters
    ----------
    path
        A YAML file with the same layout as the bundled ``certkit/data/catalog.yaml``;
        default: the bundled catalog.
    """
    rows = []
    for e in _entries(None if path is None else str(path)):
        row = {k: v for k, v in e.items() if k not in ("skills", "aliases")}
        row["skills"] = list(e.get("skills") or [])
        row["aliases"] = list(e.get("aliases") or [])
        rows.append(row)
    df = pl.from_dicts(rows, infer_schema_length=None)
    if "retirement_date" in df.columns and df["retirement_date"].dtype != pl.Date:
        df = df.with_columns(pl.col("retirement_date").cast(pl.Date, strict=False))
    return df


def resolve(name: str, path: str | Path | None = None) -> str | None:
    """Catalog id for a certification id, name or alias; ``None`` when unknown."""
    wanted = _normalise(name)
    for e in _entries(None if path is None else str(path)):
        names = [e["id"], e["name"], *(e.get("aliases") or [])]
        if wanted in {_normalise(n) for n in names if n}:
            return e["id"]
    return None


def status_on(cert_id: str, on: date) -> str:
    """'active', 'retired' (last exam date passed) or 'retiring' (retirement date announced)."""
    entry = next((e for e in _entries(None) if e["id"] == cert_id), None)
    if entry is None:
        raise CertkitError(f"Unknown certification id {cert_id!r}; see certkit.catalog()")
    retire = entry.get("retirement_date")
    if retire is None:
        return "active"
    return "retired" if on > retire else "retiring"
