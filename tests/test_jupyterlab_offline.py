"""Charts, tables and errors in a real JupyterLab, in headless Chromium, with no network.

A JupyterLab server runs in a temporary directory (its own config, data and workspace dirs).
Chromium resolves no host name except 127.0.0.1 and sends everything else to a dead proxy,
so a chart that needs a CDN does not draw. Three ways an analyst meets a notebook:

- reopened after running it (signed, as JupyterLab signs what it ran and saved);
- opened untrusted (e.g. executed by papermill): scripts do not run there;
- run live in JupyterLab (Run All through the JupyterLab app, driven over DevTools).

Set ``CERTKIT_SCREENSHOTS=<dir>`` to keep the screenshots.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.sign import NotebookNotary

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OFFLINE = [
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=127.0.0.1:9",  # any request that is not to 127.0.0.1 fails
    "--proxy-bypass-list=127.0.0.1",
]
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,2400",
    *OFFLINE,
]
CELLS = [
    "import polars as pl\nimport certkit.charts as charts\ncharts.setup()",
    "es = pl.DataFrame({'event_time': list(range(-11, 8))}).with_columns(\n"
    "    estimate=pl.when(pl.col('event_time') < 0).then(0.02 * pl.col('event_time'))"
    ".otherwise(0.4 + 0.05 * pl.col('event_time')))\n"
    "es = es.with_columns(ci_low=pl.col('estimate') - 0.2, ci_high=pl.col('estimate') + 0.2)\n"
    "charts.event_study(es)",
    "from certkit.display import table\n"
    "table(es, title='Effect by time since certification', footnotes=['95% intervals'])",
    "teams = pl.DataFrame({'team': ['platform', 'data'], 'value': [1.0, 2.0]})\n"
    "charts.bars(teams, x='value', y='team')",
    "charts.use('png')\ncharts.bars(teams, x='value', y='team')",
    "from certkit.errors import CertkitError\n"
    "raise CertkitError(\"engineers.csv, line 3: hire_date '31/02/2024' is not a date\")",
]
N_INTERACTIVE = 2  # event study + first bars chart; the last chart is a PNG


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


@pytest.fixture(scope="module")
def lab():
    """A JupyterLab server in a temporary folder; yields (base url, token, folder, env)."""
    assert CHROMIUM, "chromium is missing: run `bash scripts/system-deps.sh` (make test does)"
    with tempfile.TemporaryDirectory(prefix="certkit-lab-") as tmp:
        root = Path(tmp)
        env = dict(os.environ)
        for var, sub in [
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_DATA_DIR", "data"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("IPYTHONDIR", "ipython"),
            ("JUPYTERLAB_SETTINGS_DIR", "settings"),
            ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
        ]:
            (root / ".jupyter" / sub).mkdir(parents=True)
            env[var] = str(root / ".jupyter" / sub)
        env.pop("CERTKIT_CHARTS", None)
        token, port = secrets.token_hex(16), _free_port()
        jupyter = Path(sys.executable).with_name("jupyter")
        server = subprocess.Popen(
            [
                str(jupyter),
                "lab",
                "--no-browser",
                "--allow-root",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}",
                f"--ServerApp.token={token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.expose_app_in_browser=True",
                "--LabApp.news_url=",
            ],
            env=env,
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                    break
                except OSError:
                    assert server.poll() is None, "jupyter lab exited"
                    assert time.monotonic() < deadline, "jupyter lab did not start in 90 s"
                    time.sleep(0.5)
            yield base, token, root, env
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


@pytest.fixture(scope="module")
def executed(lab):
    """The notebook executed by nbclient (as papermill would), outside JupyterLab."""
    _, _, root, env = lab
    nb = _notebook()
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,  # the last cell raises a CertkitError on purpose
        resources={"metadata": {"path": str(root)}},
    ).execute(env=env)
    assert nb.cells[-1].outputs[0].ename == "CertkitError"
    return nb


def _dump_dom(lab, name: str, screenshot: Path | None = None) -> str:
    base, token, root, _ = lab
    url = f"{base}/lab/workspaces/{Path(name).stem}/tree/{name}?reset&token={token}"
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        args = [CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={profile}"]
        args += ["--virtual-time-budget=40000"]
        proc = subprocess.run(
            [*args, "--dump-dom", url], capture_output=True, text=True, timeout=180
        )
        if screenshot is not None:
            subprocess.run(
                [*args, f"--screenshot={screenshot}", url], capture_output=True, timeout=180
            )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _keep(path: Path) -> None:
    keep = os.environ.get("CERTKIT_SCREENSHOTS")
    if keep and path.exists():
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


def _rendered(dom: str) -> int:
    return len(re.findall(r'class="certkit-chart[^"]*"[^>]*data-rendered="1"', dom)) + len(
        re.findall(r'data-rendered="1"[^>]*class="certkit-chart"', dom)
    )


def _check_table_and_error(dom: str) -> None:
    assert dom.count('class="certkit-table"') == 1
    table = dom[dom.index('class="certkit-table"') :]
    table = table[: table.index("</table>")]
    assert "shape:" not in table and "f64" not in table and "&quot;" not in table
    assert "<small>shape:" not in dom  # no polars frame display anywhere
    for e in range(-11, 8):  # every event-study row, not polars' first and last five
        assert re.search(rf">{e}</td>", dom), e
    assert "CertkitError" in dom and "is not a date" in dom
    assert "Traceback" not in dom and "----&gt;" not in dom


def test_reopened_notebook_draws_charts_offline(lab, executed, tmp_path):
    _, _, root, env = lab
    nb = nbformat.from_dict(json.loads(json.dumps(executed)))
    NotebookNotary(data_dir=env["JUPYTER_DATA_DIR"]).sign(nb)  # as JupyterLab does on save
    nbformat.write(nb, root / "reopened.ipynb")
    shot = tmp_path / "jupyterlab-reopened.png"
    dom = _dump_dom(lab, "reopened.ipynb", shot)
    _keep(shot)
    assert _rendered(dom) == N_INTERACTIVE, "interactive charts did not draw"
    assert dom.count('class="marks"') >= N_INTERACTIVE  # one Vega SVG per chart...
    assert len(re.findall(r"role-mark", dom)) >= 3 * N_INTERACTIVE  # ...with marks inside
    assert not re.search(r">(Chart failed to draw|The chart library came)", dom)
    assert re.search(r'<img[^>]+src="data:image/png;base64,', dom)  # the PNG chart
    _check_table_and_error(dom)


def test_untrusted_notebook_says_how_to_draw_charts_and_shows_png(lab, executed):
    _, _, root, _ = lab
    nb = nbformat.from_dict(json.loads(json.dumps(executed)))
    nb.metadata["certkit_copy"] = "untrusted"  # not the signed content
    nbformat.write(nb, root / "untrusted.ipynb")
    dom = _dump_dom(lab, "untrusted.ipynb")
    assert _rendered(dom) == 0 and "role-mark" not in dom  # JupyterLab ran no output script
    assert dom.count("Trust Notebook") == N_INTERACTIVE
    assert re.search(r'<img[^>]+src="data:image/png;base64,', dom)  # PNG shows anyway
    _check_table_and_error(dom)


# ---------------------------------------------------------------------------- live session


class _DevTools:
    """Minimal Chrome DevTools Protocol client (tornado websocket, already a dependency)."""

    def __init__(self, ws):
        self.ws, self.n, self.requests = ws, 0, []

    async def call(self, method: str, **params):
        self.n += 1
        await self.ws.write_message(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = await self.ws.read_message()
            assert msg is not None, "DevTools connection closed"
            data = json.loads(msg)
            if data.get("method") == "Network.requestWillBeSent":
                self.requests.append(data["params"]["request"]["url"])
            if data.get("id") == self.n:
                assert "error" not in data, data
                return data["result"]

    async def js(self, expression: str):
        out = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        return out["result"].get("value")

    async def until(self, expression: str, what: str, timeout: float = 240.0):
        deadline = time.monotonic() + timeout
        while True:
            value = await self.js(expression)
            if value is True:
                return
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {value!r}"
            await asyncio.sleep(0.5)


READY = """(() => { const app = window.jupyterapp; if (!app) return 'no app';
  const w = [...app.shell.widgets('main')].find(w => w.sessionContext);
  if (!w) return 'no notebook';
  app.shell.activateById(w.id);
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  const ready = !!k && k.status === 'idle' && w.content.widgets.length === %d
    && app.commands.isEnabled('notebook:run-all-cells');
  return ready || `kernel ${k && k.status}, ${w.content.widgets.length} cells`;
})()"""
DONE = """(() => {
  const drawn = document.querySelectorAll('.certkit-chart[data-rendered="1"]').length;
  const png = document.querySelectorAll('.jp-RenderedImage img').length;
  const err = [...document.querySelectorAll('.jp-OutputArea-output')]
    .some(e => e.textContent.includes('is not a date'));
  return (drawn === %d && png === 1 && err) || `drawn ${drawn}, png ${png}, error ${err}`;
})()"""


async def _run_live(url: str, profile: str, shot: Path) -> tuple[str, list[str]]:
    from tornado.websocket import websocket_connect

    chrome = subprocess.Popen(
        [CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0"]
        + ["--remote-allow-origins=*", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its helper processes are stopped with it (same group)
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline, "chromium did not open DevTools"
            await asyncio.sleep(0.2)
        port = port_file.read_text().split()[0]
        pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        ws_url = next(p["webSocketDebuggerUrl"] for p in pages if p["type"] == "page")
        cdp = _DevTools(await websocket_connect(ws_url, max_message_size=1 << 28))
        await cdp.call("Network.enable")
        await cdp.call("Emulation.setFocusEmulationEnabled", enabled=True)  # headless: no focus
        await cdp.call("Page.navigate", url=url)
        await cdp.until(READY % len(CELLS), "JupyterLab and an idle kernel")
        await cdp.js("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        await cdp.until(DONE % N_INTERACTIVE, "charts drawn in the live session")
        await asyncio.sleep(1)  # let Vega finish layout before the screenshot
        png = await cdp.call("Page.captureScreenshot", format="png")
        shot.write_bytes(base64.b64decode(png["data"]))
        dom = await cdp.js("document.documentElement.outerHTML")
        return dom, cdp.requests
    finally:
        os.killpg(chrome.pid, signal.SIGTERM)
        try:
            chrome.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(chrome.pid, signal.SIGKILL)


def test_live_session_draws_charts_offline(lab, tmp_path):
    base, token, root, _ = lab
    nbformat.write(_notebook(), root / "live.ipynb")  # no outputs: JupyterLab runs it
    url = f"{base}/lab/workspaces/live/tree/live.ipynb?reset&token={token}"
    shot = tmp_path / "jupyterlab-live.png"
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        dom, requests = asyncio.run(_run_live(url, profile, shot))
    _keep(shot)
    assert _rendered(dom) == N_INTERACTIVE
    assert len(re.findall(r"role-mark", dom)) >= 3 * N_INTERACTIVE
    # nothing but the local server (and inline data) was asked for
    remote = [
        u for u in requests if not re.match(r"(https?|wss?)://127\.0\.0\.1[:/]|data:|blob:", u)
    ]
    assert remote == [], remote[:5]
    assert any("/api/kernels" in u for u in requests)  # the request log works
    _check_table_and_error(dom)
