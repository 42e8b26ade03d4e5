"""Writing outputs without ever touching an input: the output-folder rule.

Every command that writes (``certkit import``, ``sample``, ``panel``, ``report``) follows
two rules:

1. **Inputs are only ever read.** An output folder that *is* an input, or that directly
   holds an input file (``--out d`` with ``--engineers d/engineers.csv``), is refused with a
   :class:`~certkit.errors.CertkitError` naming the file (:func:`refuse_inputs`).
2. **All or nothing, and only certkit's own files.** A data folder is first written to a
   temporary folder beside the target and moved into place only when everything was
   written (:func:`staged_folder`). A file already in the target is replaced only when
   certkit wrote it there and it is unchanged since: every written folder gets a small
   marker, ``.certkit-output.json``, listing its files and their SHA-256. Any other file
   that would be replaced (your own ``engineers.csv``, a certkit file you edited) stops the
   write with a message naming it, unless ``overwrite=True``. Files certkit does not write
   are left alone. Folders written before the marker existed are recognised by certkit's
   ``import.json`` or ``truth.json``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl

from certkit.data.schema import TABLES
from certkit.errors import CertkitError

MARKER = ".certkit-output.json"
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".ndjson", ".jsonl")
# Written by older certkit versions next to their tables (no marker yet).
LEGACY_MARKERS = ("import.json", "truth.json")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _resolved(path: str | Path) -> Path:
    return Path(path).expanduser().resolve()


def refuse_inputs(
    out: str | Path,
    inputs: Iterable[tuple[str, str | Path | None]],
    *,
    kind: str = "folder",
) -> None:
    """Raise when the output ``out`` is an input or (for a folder) directly holds one.

    Parameters
    ----------
    out
        The output folder (``kind="folder"``) or file (``kind="file"``).
    inputs
        ``(description, path)`` pairs such as ``("--engineers file", "d/engineers.csv")``;
        ``None`` paths are skipped. A path may be a folder (a repository, a data folder).

    Raises
    ------
    CertkitError
        Naming the input file and what to do instead.
    """
    target = _resolved(out)
    for what, path in inputs:
        if path is None:
            continue
        src = _resolved(path)
        if src == target:
            raise CertkitError(
                f"the output {kind} {out} is the input {what} {path}; inputs are only ever "
                f"read. Choose another output {kind}."
            )
        if kind == "folder" and src.parent == target and not src.is_dir():
            raise CertkitError(
                f"the output folder {out} holds the input {what} {path}; certkit never "
                "writes next to its inputs. Write to another folder (e.g. an empty one), or "
                "move the input files elsewhere."
            )


def data_folder_inputs(folder: str | Path) -> list[tuple[str, Path]]:
    """The files :func:`certkit.load` reads in a data folder, as ``refuse_inputs`` pairs."""
    folder = Path(folder)
    if not folder.is_dir():
        return [("data folder", folder)]
    found = [
        ("data file", p)
        for name in TABLES
        for p in sorted(folder.glob(f"{name}.*"))
        if p.suffix.lower() in TABLE_SUFFIXES
    ]
    return [("data folder", folder), *found]


def _owned(folder: Path) -> dict[str, str | None]:
    """Files certkit wrote in ``folder`` (name -> SHA-256, ``None`` when not recorded)."""
    marker = folder / MARKER
    if marker.is_file():
        try:
            files = json.loads(marker.read_text("utf-8")).get("files", {})
            return {str(k): str(v) for k, v in files.items()}
        except (ValueError, AttributeError, OSError):
            return {}
    legacy = [m for m in LEGACY_MARKERS if (folder / m).is_file()]
    if not legacy:
        return {}
    skip: set[str] = set()
    if "import.json" in legacy:
        try:
            manifest = json.loads((folder / "import.json").read_text("utf-8"))
        except (ValueError, OSError):
            return {}
        if not manifest.get("certifications_included", True):
            skip.add("certifications")  # the user adds that file by hand
    owned: dict[str, str | None] = {m: None for m in legacy}
    owned.update({"commits.parquet": None, "ai_evidence.csv": None})
    for p in folder.iterdir():
        if p.stem in TABLES and p.stem not in skip and p.suffix.lower() in TABLE_SUFFIXES:
            owned[p.name] = None
    return owned


def _is_owned(path: Path, owned: dict[str, str | None]) -> bool:
    if path.name not in owned:
        return False
    digest = owned[path.name]
    return digest is None or _sha256(path) == digest


def _plan(
    staging: Path, target: Path, overwrite: bool, stale: tuple[str, ...] = ()
) -> tuple[list[Path], dict[str, str]]:
    """Files to delete in ``target`` before moving in; raises on files certkit may not touch.

    Besides the files replaced, certkit's own unchanged table files from an earlier write
    (and the files named in ``stale``) are removed, so no outdated table is loaded with the
    new ones. Also returns certkit's files that stay (name -> SHA-256) for the new marker.
    """
    new = {p.name for p in staging.iterdir() if p.is_file()}
    owned = _owned(target) if target.is_dir() else {}
    new_tables = {Path(n).stem for n in new if Path(n).stem in TABLES}
    remove, refused, kept = [], [], {}
    for p in sorted(target.iterdir()) if target.is_dir() else []:
        if not p.is_file() or p.name == MARKER:
            continue
        table_clash = p.stem in new_tables and p.suffix.lower() in TABLE_SUFFIXES
        clash = p.name in new or table_clash
        mine = _is_owned(p, owned)
        if clash:
            (remove if mine or overwrite else refused).append(p)
        elif mine and (p.stem in TABLES or p.name in stale):  # outdated certkit output
            remove.append(p)
        elif mine:
            kept[p.name] = _sha256(p)
    if refused:
        names = ", ".join(str(p) for p in refused)
        raise CertkitError(
            f"{target} already holds {names}, which certkit did not write (or which was "
            "changed since it did); certkit only replaces its own unchanged output files. "
            "Write to another (e.g. empty) folder, or move these files away "
            "(in Python: overwrite=True)."
        )
    return remove, kept


def _publish(staging: Path, target: Path, overwrite: bool, stale: tuple[str, ...]) -> None:
    if target.exists() and not target.is_dir():
        raise CertkitError(f"output folder {target} exists and is a file, not a folder")
    files = sorted(p for p in staging.iterdir() if p.is_file())
    remove, kept = _plan(staging, target, overwrite, stale)  # raises before any change
    marker = {"written_by": "certkit", "files": {**kept, **{p.name: _sha256(p) for p in files}}}
    (staging / MARKER).write_text(json.dumps(marker, indent=1) + "\n", "utf-8")
    if not target.exists():
        os.replace(staging, target)
        return
    (target / MARKER).unlink(missing_ok=True)  # no marker while files are being swapped
    for p in remove:
        p.unlink()
    for p in files:
        os.replace(p, target / p.name)
    os.replace(staging / MARKER, target / MARKER)


@contextlib.contextmanager
def staged_folder(
    target: str | Path, *, overwrite: bool = False, stale: tuple[str, ...] = ()
) -> Iterator[Path]:
    """Write a data folder all at once: yield a temporary folder, then move it into place.

    The temporary folder is created beside ``target`` (same file system, so each move is
    atomic). When the ``with`` block raises, nothing in ``target`` changes. Files already in
    ``target`` are replaced only when certkit wrote them and they are unchanged (see the
    module docstring), else :class:`~certkit.errors.CertkitError` is raised before anything
    is touched. Earlier certkit tables not written again are removed, and so are the
    files named in ``stale`` (e.g. ``commits.parquet`` of an earlier import).
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise CertkitError(f"output folder {target} exists and is a file, not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.certkit-", dir=target.parent))
    try:
        yield staging
        os.chmod(staging, 0o777 & ~_umask())
        _publish(staging, target, overwrite, stale)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_frames(frames: dict[str, pl.DataFrame], folder: Path, format: str) -> None:
    """Write ``{name}.{format}`` files (parquet, csv or ndjson) into ``folder``."""
    if format not in ("parquet", "csv", "ndjson"):
        raise CertkitError(f"format must be parquet, csv or ndjson, not {format!r}")
    for name, df in frames.items():
        target = folder / f"{name}.{format}"
        if format == "parquet":
            df.write_parquet(target, compression="zstd", compression_level=9)
        elif format == "csv":
            df.write_csv(target, datetime_format="%Y-%m-%dT%H:%M:%SZ")
        else:
            df.write_ndjson(target)


def write_file_atomic(path: str | Path, write) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then move it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


# Command-line options that name input files or folders, in any certkit command.
INPUT_OPTIONS = {
    "repos": "repository",
    "files": "export",
    "github": "--github export",
    "pagerduty": "--pagerduty export",
    "jira": "--jira export",
    "engineers": "--engineers file",
    "certifications": "--certifications file",
    "identities": "--identities file",
    "ai_rules": "--ai-rules file",
    "mailmap": "--mailmap file",
    "link": "--link file",
    "path": "data folder",
    "data": "data folder",
    "config": "--config file",
}


def args_inputs(args) -> list[tuple[str, str]]:
    """Input paths named on a command line (an ``argparse.Namespace``), for the output check."""
    pairs = []
    for name, what in INPUT_OPTIONS.items():
        value = getattr(args, name, None)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v and v not in ("none", "pr_refs"):
                pairs.append((what, v))
    return pairs
