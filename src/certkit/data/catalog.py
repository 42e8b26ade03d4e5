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


def is_ml(entry: dict) -> bool:
    """Whether a catalog entry is an ML certification (``ml: false`` says it is not)."""
    return entry.get("ml", True) is not False


def _chosen(path: str | Path | None, ml: bool | None) -> list[dict]:
    entries = _entries(None if path is None else str(path))
    return [e for e in entries if ml is None or is_ml(e) == ml]


def catalog(path: str | Path | None = None, *, ml: bool | None = True) -> pl.DataFrame:
    """The certification catalog as a table: one row per certification.

    Parameters
    ----------
    path
        A YAML file with the same layout as the bundled ``certkit/data/catalog.yaml``;
        default: the bundled catalog.
    ml
        ``True`` (default): the ML certifications, the ones the analysis studies;
        ``False``: the common certifications the catalog knows are *not* ML
        certifications (their rows are left out of the treatment); ``None``: both.
    """
    rows = []
    for e in _chosen(path, ml):
        row = {k: v for k, v in e.items() if k not in ("skills", "aliases", "ml")}
        row["skills"] = list(e.get("skills") or [])
        row["aliases"] = list(e.get("aliases") or [])
        rows.append(row)
    df = pl.from_dicts(rows, infer_schema_length=None)
    if "retirement_date" in df.columns and df["retirement_date"].dtype != pl.Date:
        df = df.with_columns(pl.col("retirement_date").cast(pl.Date, strict=False))
    return df


def entry_for(name: str, path: str | Path | None = None) -> dict | None:
    """The catalog entry (ML or not) a certification name stands for; ``None`` when unknown.

    The name is the entry's id, name or one of its aliases (compared in lower case, with
    dashes unified and spaces collapsed); failing that, a name holding exactly one known
    exam code as a word: "AWS Certified Machine Learning Engineer - Associate (MLA-C01)",
    "Exam DP-100: Designing and Implementing a Data Science Solution on Azure". Nothing
    fuzzier: a name holding two codes, or none, is unknown.
    """
    entries = _entries(None if path is None else str(path))
    wanted = _normalise(name)
    for e in entries:
        names = [e["id"], e["name"], *(e.get("aliases") or [])]
        if wanted in {_normalise(n) for n in names if n}:
            return e
    by_code = {}
    for e in entries:
        code = e.get("exam_code")
        if code and re.search(rf"(?<![\w-]){re.escape(str(code))}(?![\w-])", name, re.I):
            by_code[e["id"]] = e
    return next(iter(by_code.values())) if len(by_code) == 1 else None


def resolve(name: str, path: str | Path | None = None, *, ml: bool | None = True) -> str | None:
    """Catalog id for a certification id, name, alias or a name holding its exam code
    (see :func:`entry_for`); ``None`` when unknown.

    ``ml``: ``True`` (default) resolves only to ML certifications (a known non-ML name is
    ``None``, as :func:`catalog` lists them); ``None``: to any entry.
    """
    entry = entry_for(name, path)
    if entry is None or (ml is not None and is_ml(entry) != ml):
        return None
    return entry["id"]


def status_on(cert_id: str, on: date) -> str:
    """'active', 'retired' (last exam date passed) or 'retiring' (retirement date announced)."""
    entry = next((e for e in _entries(None) if e["id"] == cert_id), None)
    if entry is None:
        raise CertkitError(f"Unknown certification id {cert_id!r}; see certkit.catalog()")
    retire = entry.get("retirement_date")
    if retire is None:
        return "active"
    return "retired" if on > retire else "retiring"
