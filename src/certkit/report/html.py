"""Executed notebook -> one self-contained HTML page that works offline.

Charts are stored in notebook outputs as Vega-Lite specs (see :func:`certkit.charts.setup`);
here each becomes a ``<div>`` drawn by ``vegaEmbed``, and the Vega/Vega-Lite/vega-embed
JavaScript shipped with ``vl-convert-python`` is inlined once in the page head. No script is
loaded from the network. The parameters cell is always hidden; ``no_input`` hides all code.
Each page gets a header (data scope, period, parameters that differ from the defaults, certkit
version), a table of contents from its headings and, when the runner passes the page's headline
records, "The answer" box above the first cell; :func:`print_pdf` prints pages to PDF.
"""

from __future__ import annotations

import copy
import html as html_lib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from certkit.charts import embed_html
from certkit.renderers import vega_bundle
from certkit.report import landing

TEMPLATES = Path(__file__).parent / "templates"
PLACEHOLDER = "<script>/*CERTKIT_VEGA_BUNDLE*/</script>"
HIDDEN_TAGS = {"parameters", "injected-parameters", "remove_cell", "remove-cell"}


def _chart_output(spec: dict) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={"text/html": embed_html(spec)}, metadata={})


def _is_answer_box(out: nbformat.NotebookNode) -> bool:
    html = out.get("data", {}).get("text/html", "")
    html = "".join(html) if isinstance(html, list) else html
    return "certkit-answer-box" in html


def prepare(
    nb: nbformat.NotebookNode, *, no_input: bool = False, answer_first: bool = False
) -> nbformat.NotebookNode:
    """Copy of ``nb`` ready for export: hidden cells removed, charts turned into embeds.

    With ``answer_first`` (the page gets its answer box above the first cell) an answer box
    a cell displayed itself (:meth:`certkit.report.Context.answer`) is dropped: the page
    shows it once, at the top.
    """
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            continue
        if cell.cell_type == "code":
            outputs = []
            for out in cell.get("outputs", []):
                if answer_first and _is_answer_box(out):
                    continue
                data = out.get("data", {})
                vl = next((k for k in data if k.startswith("application/vnd.vegalite.")), None)
                if vl is not None:
                    spec = data[vl]
                    outputs.append(
                        _chart_output(json.loads(spec) if isinstance(spec, str) else spec)
                    )
                else:
                    outputs.append(out)
            cell.outputs = outputs
            if no_input and not outputs:
                continue
        cells.append(cell)
    nb.cells = cells
    return nb


def title_of(nb: nbformat.NotebookNode, default: str) -> str:
    """The notebook's first markdown heading (or ``default``)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
            if m:
                return m.group(1).strip()
    return default


_HEADING = re.compile(r"^(#{2,3})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def toc(nb: nbformat.NotebookNode) -> list[dict]:
    """Table of contents: the ``##``/``###`` headings of the markdown cells, with their ids."""
    items = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for m in _HEADING.finditer(cell.source):
            text = m.group(2).strip()
            items.append({"level": len(m.group(1)), "text": text, "id": text.replace(" ", "-")})
    return items


def skipped_sections(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """``(section heading, explanation)`` of every section the page says it could not estimate.

    The explanations are the paragraphs :func:`certkit.report.sections.explain` displayed
    (class ``certkit-skipped``), as plain text, under the ``##`` heading they follow.
    """
    from certkit.report.sections import SKIPPED_CLASS

    found, heading = [], ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for m in _HEADING.finditer(cell.source):
                if len(m.group(1)) == 2:
                    heading = m.group(2).strip()
            continue
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/html", "")
            text = "".join(text) if isinstance(text, list) else text
            if SKIPPED_CLASS not in text:
                continue
            plain = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", text)).split())
            plain = re.sub(r" ([:;,.)])", r"\1", plain)
            if plain and (heading, plain) not in found:
                found.append((heading, plain))
    return found


def chromium() -> str | None:
    """The headless Chromium executable, if installed."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def print_pdf(pages: list[Path], *, timeout: int = 120) -> tuple[list[Path], str]:
    """Print each HTML page to a PDF next to it with headless Chromium (no network).

    Returns the PDFs written and a message (empty when all were written; says what to
    install when Chromium is missing, or which page failed).
    """
    import subprocess
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    exe = chromium()
    if exe is None:
        return [], (
            "no PDF written: headless Chromium is not installed (install the `chromium` "
            "package, e.g. `apt-get install chromium`, or open the HTML pages and print them)"
        )

    def one(page: Path) -> tuple[Path, str]:
        out = page.with_suffix(".pdf")
        out.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory() as profile:
            cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
            cmd += ["--disable-background-networking", "--disable-component-update"]
            cmd += ["--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"]
            cmd += [f"--user-data-dir={profile}", "--virtual-time-budget=20000"]
            cmd += ["--no-pdf-header-footer", f"--print-to-pdf={out}", page.resolve().as_uri()]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
                err = "" if proc.returncode == 0 else proc.stderr.strip()[-300:]
            except subprocess.TimeoutExpired:
                err = f"timed out after {timeout} s"
        if not err and not (out.is_file() and out.stat().st_size > 0):
            err = "Chromium wrote no PDF"
        return out, err

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(one, pages))
    written = [p for p, err in done if not err]
    failed = [f"{p.name}: {err}" for p, err in done if err]
    return written, ("PDF failed for " + "; ".join(failed)) if failed else ""


def export(
    nb: nbformat.NotebookNode,
    *,
    title: str,
    header: dict | None = None,
    no_input: bool = False,
    records: list[dict] | None = None,
) -> tuple[str, str]:
    """Render ``nb`` to HTML.

    ``records`` are the page's headline records (:meth:`certkit.report.Context.headline`):
    when given, the page opens with "The answer" (:func:`certkit.report.landing.answer_box`)
    under its header and contents, each line linked to its section below.

    Returns
    -------
    (body, page)
        ``body`` is the page without the inlined JavaScript bundle (what privacy checks scan),
        ``page`` the complete offline HTML.
    """
    exporter = HTMLExporter(
        template_name="certkit",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=no_input,
        exclude_input_prompt=no_input,
        exclude_output_prompt=no_input,
        embed_images=True,
    )
    nb = prepare(nb, no_input=no_input, answer_first=records is not None)
    contents = toc(nb)
    extra: dict = {"toc": contents}
    if records is not None:
        extra["answer"] = landing.answer_box(records, skipped_sections(nb))
        extra["toc"] = [
            {"level": 2, "text": "The answer, in short", "id": landing.ANSWER_ID},
            *contents,
        ]
    resources = {"metadata": {"name": title}, "certkit": {**(header or {}), **extra}}
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    if PLACEHOLDER not in body:  # pragma: no cover - template broken
        raise RuntimeError("certkit HTML template lost its script placeholder")
    page = body.replace(PLACEHOLDER, "<script>" + vega_bundle() + "</script>", 1)
    return body, page


# Keys whose values are Vega-Lite vocabulary, styling, formats or references to data fields,
# never data a reader sees as text: "mark": "bar", "type": "quantitative", "field": "team".
SPEC_GRAMMAR_KEYS = frozenset(
    [
        "$schema",
        "type",
        "mark",
        "field",
        "fields",
        "name",
        "format",
        "formatType",
        "timeUnit",
        "aggregate",
        "op",
        "as",
        "scheme",
        "orient",
        "align",
        "baseline",
        "anchor",
        "interpolate",
        "shape",
        "strokeCap",
        "strokeJoin",
        "color",
        "fill",
        "stroke",
        "background",
        "font",
        "fontStyle",
        "fontWeight",
        "labelFont",
        "titleFont",
        "labelAlign",
        "labelBaseline",
        "titleAlign",
        "titleAnchor",
        "titleBaseline",
        "labelFontWeight",
        "titleFontWeight",
        "cursor",
        "stack",
        "contains",
        "resolve",
        "select",
        "bind",
        "encodings",
        "groupby",
        "param",
        "mode",
    ]
)
_SKIP_TAGS = {"style"}
_TEXT_ATTRS = ("title", "alt", "aria-label", "placeholder", "href")
#: Tags inside a line of text: their text is read with the words around it ("fewer than
#: <b>two</b> matched sets" is one text), any other tag (a cell, a paragraph) ends a text.
_INLINE_TAGS = {"a", "abbr", "b", "cite", "code", "em", "i", "kbd", "mark", "q", "s", "small"}
_INLINE_TAGS |= {"span", "strong", "sub", "sup", "u", "var"}
_EMBED = "vegaEmbed(el,"


def _spec_strings(node, where: str, out: list[tuple[str, str]], key: str = "") -> None:
    """String values of a chart spec: data values and text, not keys or grammar words."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "config":  # styling only
                continue
            if k == "datasets" and isinstance(v, dict):
                for rows in v.values():
                    _data_strings(rows, where, out)
            elif k == "values" and key == "data":
                _data_strings(v, where, out)
            else:
                _spec_strings(v, where, out, k)
    elif isinstance(node, list):
        for v in node:
            _spec_strings(v, where, out, key)
    elif isinstance(node, str) and key not in SPEC_GRAMMAR_KEYS:
        out.append((f"{where}, text of {key!r}" if key else where, node))


def _data_strings(rows, where: str, out: list[tuple[str, str]]) -> None:
    """String values of a chart's data rows (keys are field names, not data)."""
    for row in rows if isinstance(rows, list) else [rows]:
        if isinstance(row, dict):
            for k, v in row.items():
                if isinstance(v, str):
                    out.append((f"{where}, data field {k!r}", v))
        elif isinstance(row, str):
            out.append((f"{where}, data", row))


class _Content(HTMLParser):
    """Collects what a reader of a page sees, by section (see :func:`shared_content`)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[tuple[str, str]] = []
        self.section, self.heading, self.charts = "page header", None, 0
        self.skip, self.script = 0, None
        self.text: list[str] = []  # the text of the current block, inline tags joined

    def _flush(self) -> None:
        text, self.text = "".join(self.text), []
        if text.strip():
            self.parts.append((f"section {self.section!r}, text", text))

    def handle_starttag(self, tag, attrs):
        if tag not in _INLINE_TAGS:
            self._flush()
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag == "script":
            self.script = []
        elif tag in ("h1", "h2", "h3"):
            self.heading = []
        for name, value in attrs:
            if name in _TEXT_ATTRS and value and not value.startswith("data:"):
                self.parts.append((f"section {self.section!r}, <{tag} {name}=…>", value))

    def handle_endtag(self, tag):
        if tag not in _INLINE_TAGS:
            self._flush()
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag == "script" and self.script is not None:
            self._script("".join(self.script))
            self.script = None
        elif tag in ("h1", "h2", "h3") and self.heading is not None:
            self.section = " ".join("".join(self.heading).replace("¶", "").split())
            self.heading = None

    def handle_data(self, data):
        if self.script is not None:
            self.script.append(data)
        elif not self.skip:
            if self.heading is not None:
                self.heading.append(data)
            self.text.append(data)

    def _script(self, code: str) -> None:
        at = code.find(_EMBED)
        if at < 0:  # the library, or another script (certkit pages have none): scanned whole
            library = f"<script>{code}</script>" == PLACEHOLDER or (
                len(code) > 100_000 and code == vega_bundle()
            )
            if code.strip() and not library:
                self.parts.append((f"section {self.section!r}, script", code))
            return
        self.charts += 1
        try:
            spec, _ = json.JSONDecoder().raw_decode(code, at + len(_EMBED))
        except ValueError:  # pragma: no cover - embed_html always writes JSON
            self.parts.append((f"section {self.section!r}, chart {self.charts}", code))
            return
        title = spec.get("title") if isinstance(spec, dict) else None
        title = title.get("text") if isinstance(title, dict) else title
        where = f"section {self.section!r}, chart {self.charts}" + (
            f" ({title!r})" if isinstance(title, str) else ""
        )
        _spec_strings(spec, where, self.parts)


def shared_content(body: str) -> list[tuple[str, str]]:
    """What a reader of the exported page sees, as ``(place, text)`` pairs.

    The privacy check of a shared page (:func:`certkit.privacy.check_shared`) scans these:
    the visible text (not CSS, not the template's head), the ``title``/``alt``/``href``
    attributes, and from each chart its Vega-Lite spec's data values and text (titles,
    axis and legend titles, labels, tooltips' titles, constant text) but not its keys nor
    values that are grammar (:data:`SPEC_GRAMMAR_KEYS`: ``"mark": "bar"``, ``"type"``,
    ``"field"``, colours, fonts) nor the ``config`` styling. The JavaScript libraries are
    not scanned (they are not in ``body``, :func:`export`; a full page's bundle is recognised);
    any other script is scanned whole. A place names the
    section (the heading above it) and, for a chart, its number on the page and title.
    Text is read block by block (a paragraph, a table cell, a list item), inline tags joined:
    "fewer than <b>two</b> matched sets" is one text, so a word keeps its neighbours
    (:func:`certkit.privacy.find_identifiers` reads a one-word name by them).
    """
    parser = _Content()
    parser.feed(body)
    parser.close()
    parser._flush()
    return parser.parts


def index_page(title: str, subtitle: str, rows: list[dict]) -> str:
    """A plain index page: one row per report with its status and links."""
    lines = []
    for r in rows:
        status = r["status"]
        colour = {"ok": "#3a9d5d", "failed": "#b8405e"}.get(status, "#555")
        links = " ".join(
            f'<a href="{html_lib.escape(href)}">{html_lib.escape(label)}</a>'
            for label, href in r.get("links", [])
        )
        lines.append(
            f"<tr><td>{html_lib.escape(r['run'])}</td><td>{html_lib.escape(r['title'])}</td>"
            f'<td style="color:{colour}">{html_lib.escape(status)}</td>'
            f"<td>{links}</td><td>{html_lib.escape(r.get('note', ''))}</td></tr>"
        )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html_lib.escape(title)}</title><style>"
        "body{font-family:Inter,'Segoe UI',Helvetica,Arial,sans-serif;margin:2em auto;"
        "max-width:1000px;padding:0 12px}table{border-collapse:collapse;width:100%}"
        "td,th{border-bottom:1px solid #ddd;padding:6px 8px;text-align:left;vertical-align:top}"
        "</style></head><body>"
        f"<h1>{html_lib.escape(title)}</h1><p>{html_lib.escape(subtitle)}</p>"
        "<table><tr><th>run</th><th>report</th><th>status</th><th>files</th><th>note</th></tr>"
        + "".join(lines)
        + "</table></body></html>"
    )


LANDING_CSS = (
    "body{font-family:Inter,'Segoe UI',Helvetica,Arial,sans-serif;margin:2em auto;"
    "max-width:1100px;padding:0 12px;color:#222}"
    "table{border-collapse:collapse;width:100%}"
    "td,th{border-bottom:1px solid #ddd;padding:6px 8px;text-align:left;vertical-align:top}"
    ".certkit-answer li{margin:4px 0}.certkit-more{font-size:.85em;margin-left:4px}"
    ".certkit-improvement{color:#1f5f8b}.certkit-deterioration{color:#b8405e}"
    ".certkit-not-estimated{color:#777}.certkit-nothing{background:#fff7e6;padding:6px 12px}"
    ".certkit-lede{background:#eef3f8;border-left:4px solid #1f5f8b;padding:8px 14px}"
    ".certkit-log{font-size:.9em;color:#444}"
    "@media print{a.certkit-more{display:none}body{margin:0;max-width:none}"
    "tr,li{break-inside:avoid}h2,h3{break-after:avoid}}"
)


def landing_page(title: str, subtitle: str, answers: list[tuple[str, str]], log: str) -> str:
    """The landing page: the answer per run (``(run title, html)``), then the run log."""
    body = "".join(
        (f"<h2>{html_lib.escape(run)}</h2>" if run else "")
        + f"<section class='certkit-lede'>{text}</section>"
        for run, text in answers
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html_lib.escape(title)}</title><style>{LANDING_CSS}</style></head><body>"
        f"<h1>{html_lib.escape(title)}</h1><p>{html_lib.escape(subtitle)}</p>"
        + body
        + "<p><i>Observational estimates: each detail page lists the assumptions they rest on."
        "</i></p><h2 id='run-log'>Run log</h2><div class='certkit-log'>"
        + log
        + "</div></body></html>"
    )
