"""The words certkit writes itself, for the shared-page identifier check (:mod:`certkit.privacy`).

A contributor may be called ``two``, ``fewer`` or ``mode``: one word that certkit's own
sentences also use ("the two estimates have opposite signs", "fewer than two matched sets").
To tell certkit's word from the person, the check needs to know which words certkit writes and
next to which words. Both come from certkit's own text: the string literals of its modules
(not docstrings, not comments, not code) and the report notebooks' markdown and strings. They
are read from the installed sources on first use and only for the few one-word identifiers
that need it (compiling every module takes under a second; a report process does it at most
once). Without the sources (a byte-compiled install) nothing is certkit's word, so every
identifier is matched everywhere: stricter, never leakier.
"""

from __future__ import annotations

import contextlib
import json
import re
import types
import warnings
from functools import lru_cache
from pathlib import Path

import certkit

#: Tokens of a text as the check reads them: an email, or a word with inner ``'.-``.
TOKEN = re.compile(r"[\w.+'-]*\w@[\w-]+(?:\.[\w-]+)+|\w+(?:['.-]\w+)*")
#: A word of letters only (``two``, ``Two``, ``don't``, ``opt-in``): may be certkit's own.
WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")


def is_word(value: str) -> bool:
    """Whether ``value`` is one word of letters (what certkit's text could also contain)."""
    return WORD.fullmatch(value) is not None


def _sources() -> list[Path]:
    """certkit's modules and report notebooks (the repository's or the wheel's copy)."""
    pkg = Path(certkit.__file__).resolve().parent
    files = sorted(pkg.rglob("*.py"))
    repo = pkg.parents[1] / "notebooks"
    for folder in (repo, pkg / "_notebooks"):
        if folder.is_dir():
            files += sorted(folder.glob("*.ipynb"))
            break
    return files


def _literals(code: str, where: str) -> list[str]:
    """The string constants of ``code`` as Python compiles it without docstrings.

    Compiling (``optimize=2`` drops docstrings) is a C parse, much faster than tokenizing;
    adjacent literals arrive joined, an f-string as its literal parts (its ``{...}`` slots
    are the breaks between them). Comments and variable names are not constants; keyword
    argument names and dict keys are (a few code words: harmless, they are words too).
    """
    out: list[str] = []

    def walk(consts: tuple) -> None:
        for c in consts:
            if isinstance(c, str):
                out.append(c)
            elif isinstance(c, types.CodeType):
                walk(c.co_consts)
            elif isinstance(c, (tuple, frozenset)):
                walk(tuple(c))

    with warnings.catch_warnings():  # e.g. an invalid escape: not the reader's business
        warnings.simplefilter("ignore")
        walk(compile(code, where, "exec", optimize=2, dont_inherit=True).co_consts)
    return out


def _texts(path: Path) -> list[str]:
    """certkit's own text in one source file (string literals; a notebook's markdown too)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError:
        return []
    if path.suffix != ".ipynb":
        try:
            return _literals(raw, str(path))
        except (SyntaxError, ValueError):
            return []
    out: list[str] = []
    try:
        cells = json.loads(raw).get("cells", [])
    except ValueError:
        return []
    for cell in cells:
        src = "".join(cell.get("source", []))
        if cell.get("cell_type") == "markdown":
            out.append(src)
        elif cell.get("cell_type") == "code":
            with contextlib.suppress(SyntaxError, ValueError):  # a cell with IPython magics
                out += _literals(src, str(path))
    return out


@lru_cache(maxsize=16)
def own_words(candidates: frozenset[str]) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """Which ``candidates`` certkit writes as words, and the word pairs it writes them in.

    Parameters
    ----------
    candidates
        One-word identifiers (:func:`is_word`).

    Returns
    -------
    words, pairs
        The candidates certkit's own text contains with that exact case, and every pair of
        neighbouring words (lower-cased) in certkit's text where one of the two is such a
        candidate, e.g. ``("the", "two")`` and ``("two", "estimates")``.
    """
    if not candidates:
        return frozenset(), frozenset()
    lower = {c.lower() for c in candidates}
    words: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for path in _sources():
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError:
            continue
        if not lower & {w.lower() for w in WORD.findall(raw)}:
            continue  # no candidate in the file at all: not compiled
        for text in _texts(path):
            toks = TOKEN.findall(text)
            words.update(t for t in toks if t in candidates)
            low = [t.lower() for t in toks]
            pairs.update(
                (a, b) for a, b in zip(low, low[1:], strict=False) if a in lower or b in lower
            )
    return frozenset(words), frozenset(pairs)
