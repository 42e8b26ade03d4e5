"""How certkit charts display in notebooks: offline, with the renderer the analyst chose.

Altair 6 writes Vega-Lite 6, which JupyterLab's built-in chart renderer (Vega-Lite up to 5)
ignores, and Altair's ``"html"`` renderer loads Vega from a CDN, so neither draws a chart on
an offline machine. certkit registers its own renderers with Altair:

``"interactive"`` (also ``"certkit"``, the default after :func:`certkit.charts.setup`)
    HTML drawn by ``vegaEmbed``; the Vega JavaScript shipped with ``vl-convert-python`` is
    inlined in the first chart output of a kernel session and later charts reuse it.
``"svg"`` / ``"png"``
    Static images made by vl-convert, no JavaScript.

All of them keep the Vega-Lite spec in the output under :data:`VEGALITE_MIME`, which
``certkit report`` turns into offline HTML. Choose with :func:`use`.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import uuid
from functools import cache
from pathlib import Path

from certkit.altair_import import alt
from certkit.errors import CertkitError

#: Mime type under which the Vega-Lite spec is stored in notebook outputs.
VEGALITE_MIME = "application/vnd.vegalite.v6+json"


#: certkit's renderer names (any other Altair renderer name also works with :func:`use`).
RENDERERS = ("interactive", "certkit", "svg", "png")
#: Environment variable naming the renderer :func:`certkit.charts.setup` enables (e.g. in scheduled runs).
RENDERER_ENV = "CERTKIT_CHARTS"
_state = {"bundle_sent": False}


@cache
def vega_bundle() -> str:
    """The Vega + Vega-Lite + vega-embed JavaScript (about 0.9 MB), safe to inline in HTML.

    It ships with ``vl-convert-python``; building the text takes a few seconds, so it is
    cached on disk per vl-convert version (``$XDG_CACHE_HOME/certkit``).
    """
    import vl_convert

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "certkit" / f"vega-bundle-vlconvert-{vl_convert.__version__}.js"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    text = vl_convert.javascript_bundle().replace("</script", "<\\/script")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # read-only home: rebuild next time
    return text


_UNTRUSTED = (
    "This chart is drawn by JavaScript, which JupyterLab runs only in trusted notebooks: "
    "run the cell, or trust the notebook (command palette: Trust Notebook). "
    'certkit.charts.use("png") gives charts that show everywhere.'
)
_MISSING = (
    "The chart library came with an earlier output of this session that is no longer on the "
    "page. Run certkit.charts.setup() and this cell again."
)


def notebook_html(spec: dict, *, with_bundle: bool) -> str:
    """Self-contained HTML for one chart in a notebook output, drawn by ``vegaEmbed``.

    Parameters
    ----------
    spec
        Vega-Lite spec.
    with_bundle
        Inline the Vega JavaScript (:func:`vega_bundle`) before the chart. The interactive
        renderer does so for the first chart of a session only; later charts wait for it.

    Returns
    -------
    str
        A ``<div>`` holding a short note for viewers that do not run scripts, and the
        script that replaces the note by the chart. Nothing is loaded from the network.
    """
    element_id = f"certkit-chart-{uuid.uuid4().hex[:12]}"
    payload = json.dumps(spec).replace("</", "<\\/")
    bundle = ""
    if with_bundle:
        bundle = (
            "<script>" + vega_bundle() + "\nwindow.dispatchEvent(new Event('certkit-vega'));"
            "</script>\n"
        )
    options = "{renderer:'svg',actions:{export:true,source:false,compiled:false,editor:false}}"
    return (
        f"{bundle}"
        f'<div class="certkit-chart" id="{html.escape(element_id)}" '
        'style="font-size:0.9em;opacity:0.85;">'
        f"{html.escape(_UNTRUSTED)}</div>\n"
        "<script>(function(){"
        f"var el=document.getElementById({json.dumps(element_id)});if(!el)return;"
        f"el.textContent={json.dumps(_MISSING)};"
        "function draw(){el.textContent='';el.style.opacity='';"
        f"vegaEmbed(el,{payload},{options})"
        ".then(function(){el.setAttribute('data-rendered','1');})"
        ".catch(function(e){el.textContent='Chart failed to draw: '+e;});}"
        "if(window.vegaEmbed){draw();}"
        "else{window.addEventListener('certkit-vega',draw,{once:true});}"
        "})();</script>"
    )


def json_safe(value):
    """``value`` with NaN and infinities replaced by None (JSON has no such numbers).

    A NaN in a chart's data would make the notebook output invalid JSON: the kernel then
    prints a serialization error instead of the chart.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _interactive_renderer(spec: dict, **metadata) -> dict:
    """Spec + HTML that draws the chart offline (Vega inlined once per session)."""
    first = not _state["bundle_sent"]
    _state["bundle_sent"] = True
    spec = json_safe(spec)
    return {VEGALITE_MIME: spec, "text/html": notebook_html(spec, with_bundle=first)}


def _static_renderer(fmt: str):
    def render(spec: dict, **options) -> tuple[dict, dict]:
        spec = json_safe(spec)
        from altair.vegalite.v6.display import png_renderer, svg_renderer

        out = (png_renderer if fmt == "png" else svg_renderer)(spec, **options)
        bundle, meta = out if isinstance(out, tuple) else (out, {})
        bundle = dict(bundle)
        if isinstance(bundle.get("image/png"), bytes):
            bundle["image/png"] = base64.b64encode(bundle["image/png"]).decode("ascii")
        return {VEGALITE_MIME: spec, **bundle}, meta

    render.__doc__ = f"Spec + a static {fmt.upper()} drawn by vl-convert (no JavaScript)."
    return render


def _register() -> None:
    alt.renderers.register("certkit", _interactive_renderer)
    alt.renderers.register("interactive", _interactive_renderer)
    alt.renderers.register("svg", _static_renderer("svg"))
    alt.renderers.register("png", _static_renderer("png"))


def use(name: str, **options) -> None:
    """Choose how charts display in notebooks.

    Parameters
    ----------
    name
        ``"interactive"`` (or ``"certkit"``, the default after :func:`setup`): drawn in the
        page by Vega with tooltips and a save-as menu; the Vega JavaScript is inlined in the
        first chart output of a session (about 0.9 MB in the notebook file), so it works
        offline. JupyterLab runs it in notebooks you ran or trusted.
        ``"svg"``: a static SVG made by vl-convert; small, no JavaScript, crisp.
        ``"png"``: a static PNG; shows everywhere, including untrusted notebooks, papermill
        output opened in JupyterLab, and GitHub. Options go to vl-convert (``scale=2``).
        Any other Altair renderer name (``"html"``, ``"mimetype"``, ``"jupyter"``, ...)
        is enabled as Altair defines it; those may need a network or extra packages, and
        only those that keep the Vega-Lite spec reach ``certkit report``'s HTML.
    **options
        Passed to the renderer (e.g. ``use("png", scale=2)``, ``use("jupyter", offline=True)``).

    Raises
    ------
    CertkitError
        If ``name`` is not a renderer, or ``"jupyter"`` is asked for without ``anywidget``.
    """
    _register()
    if name not in alt.renderers.names():
        raise CertkitError(
            f"unknown chart renderer {name!r}; choose one of {', '.join(RENDERERS)} "
            f"or an Altair renderer ({', '.join(sorted(alt.renderers.names()))})"
        )
    if name == "jupyter":
        import importlib.util

        if importlib.util.find_spec("anywidget") is None:
            raise CertkitError(
                "the 'jupyter' chart renderer needs the anywidget package "
                "(pip install anywidget); certkit's 'interactive' renderer works without it"
            )
    alt.renderers.enable(name, **options)


def activate(renderer: str | None = None) -> None:
    """Register certkit's renderers and enable one, keeping a renderer the user chose.

    Parameters
    ----------
    renderer
        Enable this renderer (as in :func:`use`). Otherwise the active renderer is kept
        unless it is Altair's default, which is replaced by the one named in the
        ``CERTKIT_CHARTS`` environment variable, or by ``"certkit"`` (interactive).
    """
    _register()
    _state["bundle_sent"] = False
    if renderer is not None:
        use(renderer)
    elif alt.renderers.active == "default":
        use(os.environ.get(RENDERER_ENV, "").strip() or "certkit")
