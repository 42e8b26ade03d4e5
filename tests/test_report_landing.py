"""The landing page (``index.html``) answers first, with the detail pages' own numbers.

The end-to-end tests reuse the papermill batch of ``test_report_run.py`` (one run per test
session, shared through a file lock): headless Chromium with the network blocked opens the
landing page and the detail pages, and the numbers each shows are parsed and compared. The
unit tests check the headline records' privacy rule and the agreement sentences.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import polars as pl
import pytest
from test_report_run import NOTEBOOKS, TINY_TEAM, _dump_dom, batch, org  # noqa: F401

import certkit as ck
from certkit.privacy import Privacy, find_identifiers
from certkit.report import html as report_html
from certkit.report import landing
from certkit.report.context import Context


def _text(dom: str) -> str:
    dom = re.sub(r"<script.*?</script>|<style.*?</style>", " ", dom, flags=re.S)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).split())
    return re.sub(r" ([:;,.)])", r"\1", text)


def _cell(dom: str, key: str) -> str:
    """Text of the landing-page element carrying ``data-key=key``."""
    m = re.search(rf'<(td|li)[^>]*data-key="{re.escape(key)}"[^>]*>(.*?)</\1>', dom, re.S)
    assert m, f"no element for {key}"
    return _text(m.group(2))


@pytest.fixture(scope="module")
def out(batch) -> Path:  # noqa: F811
    return Path(batch["dated"][0])


@pytest.fixture(scope="module")
def landing_dom(out) -> str:
    return _dump_dom(out / "index.html")


def _records(out: Path, run: str, nb: str) -> list[dict]:
    return landing.read(out / run / f"{nb}{landing.SUFFIX}")


CODE = 'class="highlight hl-ipython3"'  # a code cell's input in nbconvert's lab template
# the detail page may go on inside the parentheses ("; the certified engineers had 257
# defects after certifying, 275 before")
SIZE = r"about (\d+)% (lower|higher)(?: after certification)? \(95% CI ([+-]\d+)% to ([+-]\d+)%[;)]"


def test_landing_effects_are_the_detail_pages_numbers(out, landing_dom):
    """Each effect on the landing page equals the summary sentence of its detail page."""
    compared = 0
    for nb, design in (
        ("02_certification_impact", "staggered DiD"),
        ("03_matched_cohorts", "matched DiD"),
    ):
        page = _text(_dump_dom(out / "org" / f"{nb}.html"))
        records = [r for r in _records(out, "org", nb) if r["kind"] == "effect"]
        assert {r["outcome"] for r in records} == {
            "cycle_time_log_median",
            "merged_prs",
            "defects_per_pr",
            "incidents",
        }
        for r in records:
            cell = _cell(landing_dom, f"effect/{design}/{r['outcome']}")
            link = re.search(
                rf'data-key="effect/{re.escape(design)}/{r["outcome"]}".*?href="([^"]+)"',
                landing_dom,
                re.S,
            )
            assert link and link.group(1) == f"org/{nb}.html#Summary", link
            sentence = re.search(
                rf"{re.escape(r['label'])}: ((?:about|could not|[+-]\d).{{0,160}})", page
            )
            assert sentence, (nb, r["label"])
            if r.get("note"):
                assert cell.startswith("not estimated:"), cell
                assert "could not be estimated" in sentence.group(1), sentence.group(1)
                continue
            mine = re.search(SIZE, cell) or re.search(  # "(95% CI a to b; 0.2 before ...)"
                r"([+-][\d.e+-]+).*?95% CI (\S+) to ([^;)\s]+)[;)]", cell
            )
            theirs = re.search(SIZE, sentence.group(1)) or re.search(
                r"([+-][\d.e+-]+)[^(]* after certification \(95% CI (\S+) to ([^;)\s]+)[;)]",
                sentence.group(1),
            )
            assert mine and theirs, (cell, sentence.group(1))
            assert mine.groups() == theirs.groups(), (cell, sentence.group(1))
            # and the detail page's table (relative change to 0.1 %) agrees with the record
            if r.get("relative") is not None:
                assert f"{r['relative']:.1%}" in page, (nb, r["relative"])
            compared += 1
    assert compared >= 4, compared  # the simulated organisation has real effects


def test_landing_roi_ai_and_health_lines_match_their_pages(out, landing_dom):
    roi = _text(_dump_dom(out / "org" / "05_roi_summary.html"))
    # a median only when an effect behind the ROI is clear, else the interval leads
    figures = (
        r"(?:[Mm]edian ROI ([+-]\d+)% \(95% interval ([+-]\d+)% to ([+-]\d+)%\)"
        r"|ROI 95% interval ([+-]\d+)% to ([+-]\d+)%(?:, resting on effects not "
        r"distinguishable from zero)?); chance of a positive return ((?:under |over )?\d+)%; "
        r"median cost per certified engineer about \$([\d,]+)"
    )
    mine = re.search(figures, _cell(landing_dom, "roi"))
    theirs = re.search(figures, roi)
    assert mine and theirs and mine.groups() == theirs.groups(), _cell(landing_dom, "roi")

    ai = _text(_dump_dom(out / "org" / "04_ai_outcomes.html"))
    lines = [_text(m) for m in re.findall(r'<li data-key="ai">(.*?)</li>', landing_dom, re.S)]
    sizes = [m for line in lines if (m := re.search(r"AI: (.+?): about (\d+% \w+) on AI", line))]
    assert sizes, lines
    for m in sizes:
        assert f"{m.group(1)}: about {m.group(2)} on AI-assisted PRs" in ai, m.group(0)
    adoption = next(line for line in lines if "adoption" in line)
    share = re.search(r"went from (\d+% \(\S+\)) to (\d+% \(\S+\))", adoption)
    assert share and f"went from {share.group(1)} to {share.group(2)}" in ai, adoption

    health = _text(_dump_dom(out / "org" / "01_data_health.html"))
    data_line = _cell(landing_dom, "health").removesuffix(" details")
    assert re.match(r"Data: [\d,]+ engineers, [\d,]+ pull requests, 20\d\d-", data_line)
    assert data_line in health  # the data-health page opens with the same line


def test_landing_opens_with_the_answer_then_the_run_log(out, landing_dom):
    text = _text(landing_dom)
    assert text.index("Did outcomes change after certification?") < text.index("Run log")
    assert text.index("Return on investment") < text.index("Run log")
    assert "designs" in text and re.search(
        r"\b(agree|disagree|only one design|inconclusive)\b", text
    )
    assert "Robustness and sensitivity" in text
    # filled by the impact page's HonestDiD and robust-estimator sections, linked to them
    hook = text[text.index("Robustness and sensitivity") :]
    assert "(HonestDiD)" in hook and "(robust estimators)" in hook, hook[:400]
    assert "02_certification_impact.html#Sensitivity" in landing_dom
    # the run log is still there, below
    assert landing_dom.count(">ok<") == len(NOTEBOOKS) + 2
    assert 'href="org/01_data_health.html"' in landing_dom
    assert not re.search(r"\b(nan|NaN|inf|Infinity)\b", text)
    # the shared run has its own answer, from its own (shared) pages
    assert 'href="shared/04_ai_outcomes.html#Summary"' in landing_dom


def test_shared_landing_shows_no_individual(out, org):  # noqa: F811
    dom = (out / "index.html").read_text()
    engineers = ck.load(org).engineers
    assert find_identifiers(dom, engineers) == []
    shared = dom[dom.index(">shared</h2>") : dom.index("Run log")]  # the shared run's answer
    assert "AI-assisted work" in shared and "Data health" in shared
    assert TINY_TEAM not in shared


def test_default_html_hides_code_and_pages_have_header_and_contents(out):
    for nb in NOTEBOOKS:
        page = (out / "org" / f"{nb}.html").read_text()
        assert CODE not in page, nb
        toc = re.search(r'<nav class="certkit-toc">(.*?)</nav>', page, re.S)
        assert toc, nb
        targets = re.findall(r'href="#([^"]+)"', toc.group(1))
        assert len(targets) >= 3, (nb, targets)
        for target in targets:  # every entry leads to a heading of the page
            assert f'id="{target}"' in page, (nb, target)
        assert re.search(
            r"Data: [\d,]+ engineers, [\d,]+ pull requests( \([^)]*\))?; folder [\w-]+", page
        ), nb
        assert "All parameters at their defaults." in page, nb
        assert "@media print" in page, nb


def test_show_code_and_pdf(org, tmp_path):  # noqa: F811
    from certkit.report import run_report

    run = run_report(
        str(org),
        str(tmp_path),
        notebooks=["data_health"],
        parameters={"period": "quarter"},
        show_code=True,
        pdf=True,
        progress=False,
        jobs=1,
    )
    assert run.ok, [r.error for r in run.failed]
    page = run.results[0].html.read_text()
    assert CODE in page and "ctx = setup(" in re.sub(r"<[^>]+>", "", page)
    assert "Parameters changed from the defaults: <code>period = quarter</code>" in page
    assert run.pdf_message == "", run.pdf_message
    assert sorted(p.name for p in run.pdfs) == ["01_data_health.pdf", "index.pdf"]
    for pdf in run.pdfs:
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF") and len(data) > 5000, pdf


def test_pdf_without_chromium_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(report_html, "chromium", lambda: None)
    page = tmp_path / "index.html"
    page.write_text("<p>x</p>")
    written, message = report_html.print_pdf([page])
    assert written == [] and "Chromium is not installed" in message
    assert not (tmp_path / "index.pdf").exists()


@pytest.fixture
def shared_ctx() -> Context:
    ds = ck.simulate(n_engineers=12, months=3, seed=3)
    return Context(
        ds=ds,
        full=ds,
        panel=pl.DataFrame(),
        privacy=Privacy(k=5, share=True),
        period="",
        filters={},
    )


def test_headline_in_a_shared_report_drops_numbers_resting_on_few_people(
    shared_ctx, tmp_path, monkeypatch
):
    path = tmp_path / "nb.headlines.json"
    monkeypatch.setenv(landing.ENV, str(path))
    row = {
        "outcome": "merged_prs",
        "label": "throughput",
        "estimate": 0.8,
        "ci_low": 0.2,
        "ci_high": 1.4,
        "p_value": 0.01,
        "relative": float("nan"),
        "certified_engineers": 3,
    }
    rec = shared_ctx.effect_headline(row, design="staggered DiD", comparison="x", section="S")
    assert "estimate" not in rec and "at least 5" in rec["note"]
    assert landing.read(path) == [rec]
    assert "0.8" not in path.read_text()
    assert landing.effect_text(rec).startswith("not estimated:")
    # enough people: the numbers are kept (NaN becomes null, never 'nan')
    rec = shared_ctx.effect_headline(
        row | {"certified_engineers": 7}, design="staggered DiD", comparison="x", section="S"
    )
    assert rec["estimate"] == 0.8 and rec["relative"] is None
    assert len(landing.read(path)) == 1  # same key: replaced
    assert "NaN" not in path.read_text()
    # nothing estimated: the row keeps its own reason, not the privacy sentence (fastapi: the
    # cycle-time row said "rests on 0 certified engineers" when git had no creation dates)
    missing = {"outcome": "cycle_time_log_median", "label": "PR cycle time", "estimate": None}
    missing |= {"note": "git approximated the creation dates", "certified_engineers": 0}
    rec = shared_ctx.effect_headline(missing, design="staggered DiD", comparison="x", section="S")
    assert rec["note"] == "git approximated the creation dates" and rec["n"] is None
    name = shared_ctx.full.engineers.filter(~pl.col("is_bot"))["name"][0]
    rec = shared_ctx.headline("roi", {"note": f"because of {name}"}, kind="roi")
    assert name not in json.dumps(rec)


def _effect(design: str, est: float, lo: float, hi: float, p: float, n: int) -> dict:
    return {
        "kind": "effect",
        "key": f"effect/{design}/merged_prs",
        "outcome": "merged_prs",
        "label": "throughput",
        "design": design,
        "comparison": f"{design} peers",
        "estimate": est,
        "ci_low": lo,
        "ci_high": hi,
        "p_value": p,
        "relative": est / 4,
        "relative_low": lo / 4,
        "relative_high": hi / 4,
        "lower_better": False,
        "n": n,
        "section": "Summary",
    }


def test_agreement_explains_a_disagreement_and_nothing_estimated():
    did = _effect("staggered DiD", 0.8, 0.4, 1.2, 0.001, 60)
    matched = _effect("matched DiD", 0.1, -0.5, 0.7, 0.4, 25)  # its interval excludes 0.8
    verdict, why = landing.agreement([did, matched])
    assert verdict == "disagree"
    assert "matched DiD has less power" in why and "wider" in why and "25" in why
    assert "staggered DiD compares with staggered DiD peers" in why
    assert landing.agreement([did, did | {"design": "other"}])[0] == "agree"
    opposite = _effect("matched DiD", -0.8, -1.2, -0.4, 0.001, 25)
    assert "opposite directions" in landing.agreement([did, opposite])[1]
    missing = {k: v for k, v in did.items() if k in ("kind", "key", "outcome", "label", "design")}
    missing |= {"note": "too few", "needs": "certified engineers with history"}
    page = landing.answer_section([("p.html", "t", [missing])])
    assert "No certification effect could be estimated" in page
    assert "certified engineers with history" in page
    assert "no robustness estimator" in page
    # the same reason in two designs' cells is said once (fastapi: incidents 0 everywhere)
    other = missing | {"design": "matched DiD", "key": "effect/matched DiD/x"}
    row = landing.answer_section([("p.html", "t", [missing, other])])
    assert row.count("too few") == 1 and "not estimated: the same reason" in row


def test_disagreement_is_explained_once_with_the_outcomes_it_applies_to():
    def pair(outcome: str, label: str, n_matched: int) -> list[dict]:
        did = _effect("staggered DiD", 0.8, 0.4, 1.2, 0.001, 60)
        matched = _effect("matched DiD", 0.1, -0.5, 0.7, 0.4, n_matched)
        return [r | {"outcome": outcome, "label": label} for r in (did, matched)]

    outcomes = [pair("merged_prs", "throughput", 25), pair("incidents", "incidents", 27)]
    agree = _effect("staggered DiD", 0.1, -0.5, 0.7, 0.6, 60)
    outcomes.append(
        [
            agree | {"outcome": "defects", "label": "defects"},
            agree | {"outcome": "defects", "label": "defects", "design": "matched DiD"},
        ]
    )
    notes = landing.agreement_notes(outcomes)
    disagree = [n for n in notes if n.startswith("The designs disagree")]
    assert disagree == [
        "The designs disagree on throughput and incidents: matched DiD has less power than "
        "staggered DiD (its interval is wider, it rests on 25 to 27 certified engineers "
        "against 60 certified engineers)."
    ]
    assert sum("comparison groups" in n for n in notes) == 1
    assert any(
        n.startswith("defects: both designs: not distinguishable from no change") for n in notes
    )
    # opposite directions are a different reason: their own sentence
    opposite = _effect("matched DiD", -0.8, -1.2, -0.4, 0.001, 25)
    notes = landing.agreement_notes(
        outcomes[:2] + [[outcomes[0][0] | {"label": "x"}, opposite | {"label": "x"}]]
    )
    assert sum(n.startswith("The designs disagree") for n in notes) == 2
    assert any(n.startswith("The designs disagree on x: they point in opposite") for n in notes)
    page = landing.answer_section([("p.html", "t", [r for rs in outcomes for r in rs])])
    assert page.count("The designs disagree") == 1 and page.count("comparison groups") == 1


def test_landing_says_why_designs_disagree_once(landing_dom):
    first = landing_dom[: landing_dom.index(">shared</h2>")]  # the org run's answer
    notes = re.findall(r"<ul class=.certkit-agreement.>(.*?)</ul>", first, re.S)
    assert len(notes) == 1
    text = _text(notes[0])
    assert text.count("comparison groups") <= 1
    labels = re.findall(
        r"<tr data-outcome=\"[^\"]+\"><th>([^<]+)</th>.*?<td>(disagree|agree|only one design|one design|nothing estimated)</td></tr>",
        first,
        re.S,
    )
    disagreeing = [html.unescape(lbl) for lbl, verdict in labels if verdict == "disagree"]
    for label in disagreeing:  # each disagreeing outcome is named once, in a shared sentence
        assert text.count(label) == 1, (label, text)
    assert text.count("The designs disagree") <= len(disagreeing)
    if len(disagreeing) >= 2:
        assert text.count("The designs disagree") < len(disagreeing), text


# --- the answer box at the top of every detail page ---------------------------------------

NUMBER = re.compile(r"\d{4}-\d{2}-\d{2}|[+-]?\$?\d[\d,]*(?:\.\d+)?%?")
BOX = re.compile(r"<section[^>]*id=.certkit-answer.[^>]*>(.*?)</section>", re.S)


def _numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def _box_lines(dom: str) -> list[tuple[str, str, str]]:
    """(data-key, text, link target) of each line of a page's answer box."""
    box = BOX.search(dom)
    assert box, "no answer box"
    lines = []
    for key, inner in re.findall(r'<li data-key="([^"]*)">(.*?)</li>', box.group(1), re.S):
        href = re.search(r'href="#([^"]+)"', inner)
        assert href, (key, inner)  # every line links to its section
        lines.append((html.unescape(key), _text(inner).removesuffix(" details"), href.group(1)))
    return lines


def _section(dom: str, anchor_id: str) -> str:
    """Text of the page from the heading ``anchor_id`` to the next ``h2``."""
    start = dom.index(f'id="{anchor_id}"')
    end = dom.find("<h2", start + 1)
    return _text(dom[start : end if end > 0 else len(dom)])


def check_answer_box(dom: str, landing_dom: str | None, records: list[dict] | None) -> int:
    """The box is above the first cell and its numbers are the landing page's and the
    section's. Returns the number of lines compared."""
    box = BOX.search(dom)
    if records is None:  # the notebook recorded nothing: no box
        assert box is None
        return 0
    assert box, "no answer box"
    first_cell = dom.index('class="jp-Cell')
    assert dom.index('<nav class="certkit-toc"') < box.start() < first_cell
    lines = _box_lines(dom)
    if not records:  # nothing recorded: the explanations of the skipped sections, if any
        said = _text(box.group(1))
        assert "recorded no headline" in said or "Nothing on this page could be estimated" in said
        for _, text, target in lines:
            assert f'id="{target}"' in dom and "not estimated" in text, text
            assert text in _text(dom[dom.index(f'id="{target}"') :]), text
        return len(lines)
    assert {k for k, _, _ in lines} == {r["key"] for r in records}
    if not any(landing.estimated(r) for r in records):
        assert "Nothing on this page could be estimated" in _text(box.group(1))
    for key, text, target in lines:
        assert f'id="{target}"' in dom, (key, target)
        mine = _numbers(text)
        section = _numbers(_section(dom, target))
        assert mine <= section, (key, text, mine - section)
        if landing_dom is None:
            continue
        there = re.findall(
            rf'<(td|li)[^>]*data-key="{re.escape(html.escape(key))}"[^>]*>(.*?)</\1>',
            landing_dom,
            re.S,
        )
        if there:
            theirs = set().union(*(_numbers(_text(t)) for _, t in there))
            if any("the same reason" in t for _, t in there):  # said in the row's first cell
                row = re.search(
                    rf'<tr[^>]*>(?:(?!</tr>).)*data-key="{re.escape(html.escape(key))}".*?</tr>',
                    landing_dom,
                    re.S,
                )
                theirs |= _numbers(_text(row.group(0)))
            assert mine <= theirs, (key, text, mine - theirs)
        else:  # robustness checks: the landing page shows the whole sentence
            assert text.split(": ", 1)[1] in _text(landing_dom), (key, text)
    return len(lines)


@pytest.mark.slow
@pytest.mark.parametrize(
    "run,nb",
    [("org", nb) for nb in NOTEBOOKS]
    + [("shared", nb) for nb in ("01_data_health", "04_ai_outcomes")],
)
def test_every_page_opens_with_its_answer(out, landing_dom, run, nb):
    dom = _dump_dom(out / run / f"{nb}.html")
    records = _records(out, run, nb)
    assert records, (run, nb)
    part = landing_dom.split(">shared</h2>")
    mine = part[0] if run == "org" else part[1]
    assert check_answer_box(dom, mine, records) >= 1
    assert dom.count("certkit-answer-box") == 1 + dom.count(".certkit-answer-box")  # once
    toc = re.search(r'<nav class="certkit-toc">(.*?)</nav>', dom, re.S).group(1)
    assert toc.index("#certkit-answer") < toc.index('href="#', toc.index("#certkit-answer") + 1)


def test_answer_box_when_nothing_could_be_estimated():
    why = "a shared report shows only estimates based on at least 5 people (here 3)"
    rec = {
        "kind": "effect",
        "key": "effect/x/merged_prs",
        "label": "throughput",
        "design": "staggered DiD",
        "outcome": "merged_prs",
        "section": "Summary",
        "note": why,
        "needs": "more certified engineers",
    }
    box = landing.answer_box([rec])
    text = _text(box)
    assert "Nothing on this page could be estimated" in text
    assert why in text and "it needs more certified engineers" in text
    assert 'href="#Summary"' in box
    assert "recorded no headline" in _text(landing.answer_box([]))
    roi = {
        "kind": "roi",
        "key": "roi",
        "section": "The answer",
        "median": 0.5,
        "low": 0.1,
        "high": 0.9,
        "p_positive": 0.97,
    }
    assert "Nothing on this page" not in landing.answer_box([rec, roi])
    assert 'href="#The-answer"' in landing.answer_box([roi])


def test_export_puts_the_answer_above_the_first_cell_once():
    """``html.export`` with a page's records: the box under the contents, before the first
    cell, linked to its section; a box the notebook displayed itself is not repeated."""
    import nbformat

    rec = _effect("staggered DiD", 0.8, 0.4, 1.2, 0.001, 60)
    nb = nbformat.v4.new_notebook()
    inline = nbformat.v4.new_output(
        "display_data", data={"text/html": landing.answer_box([rec])}, metadata={}
    )
    code = nbformat.v4.new_code_cell("display(ctx.answer())", outputs=[inline])
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Impact\n\n## Summary\n\nText."),
        code,
        nbformat.v4.new_markdown_cell("## Detail"),
    ]
    header = {"title": "Impact", "period": "p", "version": "v", "generated": "g", "parameters": {}}
    body, _ = report_html.export(nb, title="Impact", header=header, no_input=True, records=[rec])
    box = BOX.search(body)
    assert box and body.count('id="certkit-answer"') == 1
    assert body.index('<nav class="certkit-toc"') < box.start() < body.index('class="jp-Cell')
    assert 'href="#certkit-answer"' in body and 'href="#Summary"' in box.group(1)
    assert landing.effect_text(rec) in html.unescape(box.group(1))
    plain, _ = report_html.export(nb, title="Impact", header=header, no_input=True)
    # no records: no box at the top; the one the notebook displayed stays in its cell
    assert BOX.search(plain).start() > plain.index('class="jp-Cell')


def test_a_page_that_recorded_nothing_lists_its_skipped_sections():
    import nbformat

    from certkit.report.sections import explain

    why = explain("Effect of adopting AI on merged_prs", "too few adopters (2)", "5 adopters")
    nb = nbformat.v4.new_notebook()
    skipped = nbformat.v4.new_output("display_data", data={"text/html": why}, metadata={})
    nb.cells = [
        nbformat.v4.new_markdown_cell("# AI adoption\n\n## Effect of adopting AI, by outcome"),
        nbformat.v4.new_code_cell("...", outputs=[skipped, skipped]),
    ]
    found = report_html.skipped_sections(nb)
    assert found == [
        (
            "Effect of adopting AI, by outcome",
            "Effect of adopting AI on merged_prs: not estimated. Too few adopters (2). "
            "It needs 5 adopters.",
        )
    ]
    box = landing.answer_box([], found)
    assert "Nothing on this page could be estimated" in box
    assert "Too few adopters (2)" in box and 'href="#Effect-of-adopting-AI,-by-outcome"' in box
    assert "recorded no headline" in landing.answer_box([])


def test_a_clear_result_on_less_data_is_called_the_weaker_evidence():
    """cargo (trial D): matched DiD "an improvement" on 4 engineers with an interval 6x as
    wide, staggered DiD no clear change on 12; the landing page said "the designs estimate
    with similar precision"."""
    did = _effect("staggered DiD", -0.08, -0.41, 0.26, 0.6, 12)
    matched = _effect("matched DiD", 2.46, 0.35, 4.56, 0.02, 4)
    verdict, why = landing.agreement([did, matched])
    assert verdict == "disagree" and "similar precision" not in why
    assert "the clear result of matched DiD is the weaker evidence" in why, why
    assert "4 certified engineers against 12" in why, why
    notes = landing.agreement_notes([[did, matched]])
    assert any("weaker evidence" in n for n in notes), notes


def test_a_clear_effect_carries_its_caveats_to_the_landing_page():
    """Trial D: golang/net's landing page read "PR cycle time about 72% lower ...; an
    improvement" beside a failed pre-trend test on page 02; "-1.22 PRs (... 0.493 before)"
    was valued by the ROI; cargo's matched "an improvement" had |SMD| 1.34 left."""
    from certkit import narrative
    from certkit.report.study_roi import roi_caveats

    clear = _effect("staggered DiD", -1.2, -2.0, -0.4, 0.001, 12) | {"lower_better": True}
    assert narrative.effect_caveat(clear) is None
    biased = clear | {"pretrend_p": 0.004}
    words = narrative.effect_caveat(biased)
    assert "already diverged before certification (pre-trend test p = 0.004)" in words
    assert landing.effect_text(biased | {"caveat": words}).endswith(
        "an improvement, but the groups already diverged before certification "
        "(pre-trend test p = 0.004), so it may be biased"
    )
    fall = {"outcome": "merged_prs", "estimate": -1.22, "baseline": 0.493}
    assert "larger than the certified engineers' own level before (0.493)" in (
        narrative.effect_caveat(fall)
    )
    assert narrative.effect_caveat(fall | {"estimate": -0.2}) is None
    assert (
        narrative.effect_caveat(
            {"outcome": "cycle_time_log_median", "estimate": -2.0, "baseline": 1.5}
        )
        is None
    )  # fmt: skip  (log: may go below)
    unlike = {"outcome": "merged_prs", "estimate": 3.7, "baseline": 1.5, "balance_smd": 1.342}
    assert "largest |SMD| 1.34 after matching" in narrative.effect_caveat(unlike)
    rows = pl.DataFrame([fall | {"label": "throughput", "note": None}])
    assert roi_caveats(rows) == [f"throughput: {narrative.effect_caveat(fall)}"]
    roi = {"median": -1.94, "low": -4.08, "high": -0.71, "p_positive": 0.0}
    assert "Caution" not in landing.roi_text(roi)
    assert landing.roi_text(roi | {"caveat": "It rests on effects to read with care: x."}).endswith(
        "It rests on effects to read with care: x"
    )


def test_an_interval_that_includes_the_clear_estimate_is_consistent_not_a_disagreement():
    """gemini-cli (trial T): "the designs disagree ... less power" for a matched interval of
    -15.7 to +11.4 that includes the staggered DiD's -4.59; and a clear-looking result its
    own caveat calls no evidence was counted as clear."""
    did = _effect("staggered DiD", -4.59, -8.43, -0.74, 0.02, 12)
    matched = _effect("matched DiD", -2.13, -15.7, 11.4, 0.7, 6)
    verdict, why = landing.agreement([did, matched])
    assert verdict == "consistent, one less precise"
    assert (
        "matched DiD's interval (-15.7 to +11.4) includes staggered DiD's estimate (-4.59)" in why
    )
    assert "matched DiD has less power" in why
    verdict, why = landing.agreement([did | {"not_evidence": True}, matched])
    assert verdict == "both inconclusive"
    # review E (E5): not "every interval includes zero", which the staggered one does not
    assert "staggered DiD looks clear on the numbers, but its caveat says not to" in why
    assert "every interval includes zero" not in why
    # trial AC: a not-evidence caveat on an interval that includes zero is no "clear look"
    wide = _effect("staggered DiD", -3.02, -7.03, 0.99, 0.14, 12) | {"not_evidence": True}
    verdict, why = landing.agreement([wide, matched])
    assert "looks clear on the numbers" not in why and "every interval includes zero" in why
    from certkit.narrative.effects import not_evidence

    one_engineer = {"single_weight": 0.9, "ci_low": -7.03, "ci_high": 0.99, "p_value": 0.14}
    assert not not_evidence(one_engineer)  # not clear-looking: nothing to undo
    assert not_evidence(one_engineer | {"ci_high": -0.5, "p_value": 0.02})
    other = [r | {"outcome": "x", "label": "defects"} for r in (did, matched)]
    notes = landing.agreement_notes([[did, matched], other])
    assert notes[0].startswith(
        "The designs do not contradict each other on throughput and defects: matched DiD's "
        "interval includes staggered DiD's estimate each time; matched DiD has less power"
    )
    assert notes[1].startswith("The designs use different comparison groups")
