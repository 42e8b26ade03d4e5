"""Reading text input files: one decoding path and one set of CSV checks for every reader.

Every certkit reader (``certkit.load``, ``--engineers``/``--certifications``, ``gh`` and
PagerDuty JSON, Jira/PagerDuty CSV, identity and link files) decodes files here:

- UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8");
- UTF-16 LE/BE with a byte-order mark (Windows PowerShell's ``>`` and ``Out-File``), and
  UTF-16 without one when the zero bytes make it unmistakable;
- CSV files that are not UTF-8 are read as Windows-1252 with a warning naming the file and
  the first line that is not UTF-8 (JSON must be UTF-8 or UTF-16, as the JSON standard says);
- anything else (an Excel workbook renamed ``.csv``, binary data) is a
  :class:`~certkit.errors.CertkitError` naming the file.

CSV headers are checked too: a repeated column name (``repo,repo``) and a semicolon-delimited
file (Excel in many European locales) are errors that say what was probably wrong.
"""

from __future__ import annotations

import csv
import io
import warnings
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from certkit.errors import CertkitError, CertkitWarning

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
EXCEL_EPOCH = date(1899, 12, 30)
SEMICOLON_HINT = (
    "looks semicolon-delimited (use commas, or in Excel save as 'CSV UTF-8 (Comma "
    "delimited)'; a semicolon is Excel's list separator in many European locales)"
)


def _line_of(raw: bytes, offset: int) -> int:
    return raw[:offset].count(b"\n") + 1


def decode(raw: bytes, name: str, *, legacy: bool = True) -> tuple[str, str | None]:
    """Decode a text file's bytes.

    Parameters
    ----------
    raw
        The file's content.
    name
        How to name the file in messages (e.g. ``"engineers.csv"``).
    legacy
        Read files that are not UTF-8 as Windows-1252 (CSV from older Excel) instead of
        failing.

    Returns
    -------
    tuple
        The text (without byte-order mark) and a note to show the user when the file was
        read as Windows-1252 (else ``None``).

    Raises
    ------
    CertkitError
        Binary content, an Excel workbook, or bytes valid in no supported encoding.
    """
    try:
        if raw.startswith(b"\xef\xbb\xbf"):
            return raw[3:].decode("utf-8"), None
        if raw.startswith(_UTF16_BOMS):
            return raw.decode("utf-16"), None
    except UnicodeDecodeError as exc:
        raise CertkitError(
            f"{name}: starts with a byte-order mark but is not valid "
            f"{exc.encoding.upper()} (byte {exc.start}); re-save it as UTF-8"
        ) from None
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise CertkitError(
            f"{name}: an Excel workbook, not a text file; save it as 'CSV UTF-8 (Comma "
            "delimited)' (or export JSON/CSV from the tool) and read that file"
        )
    head = raw[:4096]
    if b"\x00" in head:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > 0.3 * len(head) / 2 and even == 0:
            return _strict(raw, "utf-16-le", name), None
        if even > 0.3 * len(head) / 2 and odd == 0:
            return _strict(raw, "utf-16-be", name), None
        raise CertkitError(
            f"{name}: binary data (zero bytes), not text; expected a CSV or JSON file "
            "saved as UTF-8"
        )
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = _line_of(raw, exc.start)
        if not legacy:
            raise CertkitError(
                f"{name}: not UTF-8 or UTF-16 (first invalid byte on line {line}); re-export "
                "it, or re-save it as UTF-8"
            ) from None
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise CertkitError(
            f"{name}: line {_line_of(raw, exc.start)} holds bytes that are neither UTF-8, "
            "UTF-16 nor Windows-1252; re-save the file as UTF-8"
        ) from None
    note = (
        f"file is not UTF-8 (first invalid byte on line {line}); read it as "
        "Windows-1252/Latin-1. Re-save it as UTF-8 to be sure names are right."
    )
    return text, note


def _strict(raw: bytes, encoding: str, name: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CertkitError(
            f"{name}: looks like {encoding.upper()} without a byte-order mark but is not "
            f"valid {encoding.upper()} (byte {exc.start}); re-save it as UTF-8"
        ) from None


def read_text(path: str | Path, what: str = "input file", *, legacy: bool = True) -> str:
    """The text of an input file, decoded as :func:`decode` does (inputs are only read).

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages (``"GitHub export"``, ``"identity file"``...).
    legacy
        Accept Windows-1252 (with a :class:`~certkit.errors.CertkitWarning`); ``False`` for
        JSON.

    Raises
    ------
    CertkitError
        Missing or unreadable file, or undecodable content; the message names the file.
    """
    p = Path(path)
    if not p.exists():
        raise CertkitError(f"{what} {p} does not exist")
    if p.is_dir():
        raise CertkitError(f"{what} {p} is a folder, not a file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise CertkitError(f"{what} {p}: cannot be read ({exc.strerror})") from None
    text, note = decode(raw, f"{what} {p}", legacy=legacy)
    if note:
        warnings.warn(f"{what} {p}: {note}", CertkitWarning, stacklevel=2)
    return text


def header_problems(header: list[str], *, duplicates_ok: bool = False) -> list[str]:
    """What is wrong with a CSV header: repeated names, or a semicolon-delimited file."""
    if len(header) == 1 and header[0].count(";") >= 1:
        return [SEMICOLON_HINT]
    if len(header) == 1 and "\t" in header[0]:
        return ["looks tab-delimited (use commas, or name the file .tsv)"]
    if duplicates_ok:
        return []
    seen: dict[str, int] = {}
    repeated = []
    for i, h in enumerate(header, start=1):
        key = h.strip().lower()
        if key in seen and key:
            repeated.append(f"{h.strip()!r} (columns {seen[key]} and {i})")
        seen.setdefault(key, i)
    if repeated:
        return [f"duplicate column name(s): {', '.join(repeated)}; each column must appear once"]
    return []


def first_row(text: str, separator: str = ",") -> list[str]:
    """The header of a CSV text (empty list for an empty text)."""
    return next(csv.reader(io.StringIO(text), delimiter=separator), [])


def csv_rows(
    path: str | Path, what: str = "CSV file", *, duplicates_ok: bool = False, separator: str = ","
) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, non-empty rows and the line each row starts on (quoted cells may span lines).

    Raises
    ------
    CertkitError
        Missing, empty or undecodable file, a semicolon-delimited file, or (unless
        ``duplicates_ok``) a repeated column name.
    """
    p = Path(path)
    reader = csv.reader(io.StringIO(read_text(p, what)), delimiter=separator)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise CertkitError(f"{what} {p} is empty") from None
    except csv.Error as exc:
        raise CertkitError(f"{what} {p}, line 1: not valid CSV ({exc})") from None
    for problem in header_problems(header, duplicates_ok=duplicates_ok):
        raise CertkitError(f"{what} {p}, line 1: {problem}")
    rows, lines, prev = [], [], reader.line_num
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
                lines.append(prev + 1)
            prev = reader.line_num
    except csv.Error as exc:
        raise CertkitError(f"{what} {p}, line {reader.line_num}: not valid CSV ({exc})") from None
    return header, rows, lines


def csv_table(
    path: str | Path, what: str = "CSV file", separator: str = ","
) -> tuple[pl.DataFrame, list[int]]:
    """A CSV file as a frame of text columns (empty cells null) and each row's line number.

    Raises
    ------
    CertkitError
        As :func:`csv_rows`, and for a row with more cells than the header (naming its line).
    """
    header, rows, lines = csv_rows(path, what, separator=separator)
    for row, line in zip(rows, lines, strict=True):
        if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
            raise CertkitError(
                f"{what} {path}, line {line}: {len(row)} values but the header has "
                f"{len(header)} columns (a delimiter inside an unquoted value?)"
            )
    columns = {
        h: [(r[i] if i < len(r) and r[i] != "" else None) for r in rows]
        for i, h in enumerate(header)
    }
    return pl.DataFrame(columns, schema=dict.fromkeys(header, pl.String)), lines


def read_csv(path: str | Path, what: str = "CSV file", separator: str = ",") -> pl.DataFrame:
    """A CSV file as a frame of text columns, after the decoding and header checks."""
    return csv_table(path, what, separator)[0]


def excel_serial_hint(values: list[str | None]) -> str | None:
    """A hint when values that should be dates are Excel serial numbers (``45321``)."""
    nums = []
    for v in values:
        if v is None or str(v).strip() == "":
            continue
        try:
            nums.append(float(str(v).strip()))
        except ValueError:
            return None
    if not nums or not all(20000 <= n <= 80000 for n in nums):
        return None
    example = EXCEL_EPOCH + timedelta(days=nums[0])
    return (
        "looks like Excel serial dates (days since 1899-12-30: "
        f"{nums[0]:g} is {example.isoformat()}); format the column as dates (YYYY-MM-DD) "
        "in the spreadsheet before saving"
    )
