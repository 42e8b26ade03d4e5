"""Axis labels that do not overlap and are not cut (issue 15), measured in headless Chromium.

Each page of the report batch of ``test_report_run.py`` (the ``org`` run and the shared one)
is opened with the network blocked and a measuring script appended: once every chart has
drawn (Vega's SVG renderer, as the report uses), it reads the bounding box of every visible
axis label and writes them into the page, which ``--dump-dom`` returns. Labels of one axis
must not overlap, none may be shortened with an ellipsis, and none may fall outside its chart.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from test_report_run import CHROMIUM, NOTEBOOKS, SHARED, batch  # noqa: F401

pytestmark = pytest.mark.slow

MEASURE = r"""<script>(function(){
function ready(){var c=document.querySelectorAll('.certkit-chart');for(var i=0;i<c.length;i++){
 if(c[i].getAttribute('data-rendered')!=='1'&&!/^Chart /.test(c[i].textContent))return false;}
 return true;}
function box(e){var r=e.getBoundingClientRect();return {x:r.left,y:r.top,w:r.width,h:r.height};}
function measure(){var out=[];
 document.querySelectorAll('.certkit-chart').forEach(function(chart,ci){
  var svg=chart.querySelector('svg');
  if(!svg){out.push({chart:ci,error:chart.textContent.slice(0,200)});return;}
  chart.querySelectorAll('g.role-axis').forEach(function(axis){var labels=[];
   axis.querySelectorAll('g.role-axis-label text').forEach(function(t){
    var o=t.getAttribute('opacity');if(o!==null&&parseFloat(o)===0)return;
    labels.push(Object.assign({text:t.textContent},box(t)));});
   out.push({chart:ci,axis:axis.getAttribute('aria-label')||'',svg:box(svg),labels:labels});});});
 var pre=document.createElement('pre');pre.id='certkit-axis-check';
 pre.textContent=JSON.stringify(out);document.body.appendChild(pre);}
function wait(){if(ready())measure();else setTimeout(wait,100);}
window.addEventListener('load',function(){setTimeout(wait,50);});})();</script>"""


def axis_labels(page: Path) -> list[dict]:
    """Every axis of every chart on ``page`` with its visible labels' boxes (CSS pixels)."""
    assert CHROMIUM, "chromium is missing: run `bash scripts/system-deps.sh`"
    with tempfile.TemporaryDirectory() as tmp:
        text = page.read_text()
        end = text.rindex("</body>")  # the inlined Vega bundle mentions </body> too
        copy = Path(tmp) / page.name
        copy.write_text(text[:end] + MEASURE + text[end:])
        proc = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--proxy-server=127.0.0.1:9",  # any network request would fail
                "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--user-data-dir={tmp}/profile",
                "--window-size=1280,2000",
                "--virtual-time-budget=30000",
                "--dump-dom",
                copy.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.search(r'<pre id="certkit-axis-check">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"{page.name}: the charts did not finish drawing"
    return json.loads(html.unescape(found.group(1)))


def label_problems(axes: list[dict]) -> list[tuple]:
    """Overlapping labels of one axis (more than 1 px both ways), cut or outside their chart."""
    bad: list[tuple] = []
    for a in axes:
        if "error" in a:
            bad.append(("chart failed", a["chart"], a["error"]))
            continue
        s, labels = a["svg"], a["labels"]
        for lab in labels:
            if lab["text"].endswith("…"):
                bad.append(("cut", a["chart"], a["axis"][:60], lab["text"]))
            inside = (
                lab["x"] >= s["x"] - 0.5
                and lab["y"] >= s["y"] - 0.5
                and lab["x"] + lab["w"] <= s["x"] + s["w"] + 0.5
                and lab["y"] + lab["h"] <= s["y"] + s["h"] + 0.5
            )
            if not inside:
                bad.append(("outside the chart", a["chart"], a["axis"][:60], lab["text"]))
        for i, p in enumerate(labels):
            for q in labels[i + 1 :]:
                ox = min(p["x"] + p["w"], q["x"] + q["w"]) - max(p["x"], q["x"])
                oy = min(p["y"] + p["h"], q["y"] + q["h"]) - max(p["y"], q["y"])
                if ox > 1 and oy > 1:
                    bad.append(("overlap", a["chart"], a["axis"][:60], p["text"], q["text"]))
    return bad


def test_label_problems_are_found():
    """The check itself: it sees an overlap, a cut label and one outside the chart."""
    svg = {"x": 0, "y": 0, "w": 100, "h": 100}
    a = {"text": "alpha", "x": 10, "y": 10, "w": 30, "h": 12}
    axes = [
        {"chart": 0, "axis": "X", "svg": svg, "labels": [a, a | {"text": "beta", "x": 30}]},
        {"chart": 1, "axis": "Y", "svg": svg, "labels": [a | {"text": "long name…"}]},
        {"chart": 2, "axis": "Y", "svg": svg, "labels": [a | {"x": 90}, a | {"y": 40}]},
    ]
    kinds = [b[0] for b in label_problems(axes)]
    assert kinds == ["overlap", "cut", "outside the chart"]


@pytest.mark.parametrize(
    "run,nb", [("org", nb) for nb in NOTEBOOKS] + [("shared", nb) for nb in SHARED]
)
def test_axis_labels_do_not_overlap_and_are_not_cut(batch, run, nb):  # noqa: F811
    page = Path(batch["dated"][0]) / run / f"{nb}.html"
    axes = axis_labels(page)
    charts = page.read_text().count('class="certkit-chart"')
    assert len({a["chart"] for a in axes}) == charts  # every chart drew and was measured
    assert sum(len(a.get("labels", [])) for a in axes) >= 2 * charts
    assert label_problems(axes) == []
