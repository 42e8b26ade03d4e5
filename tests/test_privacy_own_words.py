"""A contributor whose name is one of certkit's own words ("two", "fewer").

Trial I, GNOME/glib: a real contributor ``two <two@envs.net>`` made the shared certification
page fail on certkit's own sentence "the two estimates have opposite signs", and the other
shared pages printed "fewer than [redacted] matched sets". certkit's words stay; the person's
id, e-mail and a one-word name standing as data (a table cell, a chart value, next to the
e-mail, in a phrase certkit never writes) are still found; distinctive names as before.
"""

from __future__ import annotations

from types import SimpleNamespace

import nbformat
import polars as pl
import pytest

import certkit as ck
from certkit.data import health
from certkit.errors import CertkitError
from certkit.privacy import (
    Privacy,
    check_shared,
    find_exposures,
    find_identifiers,
    identifiers,
    redact,
)
from certkit.report import Context
from certkit.report import html as report_html

ENGINEERS = pl.DataFrame(
    {
        "engineer_id": ["two@envs.net", "fewer@example.org", "e003", "e001"],
        "name": ["two", "fewer", "ebassi", "Philip"],
        "email": ["two@envs.net", "fewer@example.org", "ebassi@gnome.org", "pw@gnome.org"],
    }
)
PEOPLE = identifiers(ENGINEERS)
HEADER = {"title": "t", "parameters": {}, "period": "p", "version": "v", "generated": "g"}

# certkit's own sentences, as the estimators write them (did/twoway.py, matching/rolling.py)
TWFE = "TWFE is misleading here: the two estimates have opposite signs."
FEWER = "not estimated: fewer than two matched sets have post-period outcomes: of 8 certified"


def _page(markdown: str) -> list[tuple[str, str]]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Page\n\n## Two-way fixed effects\n\n" + markdown)]
    body, _ = report_html.export(nb, title="t", header=HEADER, records=[])
    return report_html.shared_content(body)


def test_certkit_writes_two_and_fewer_not_the_distinctive_names():
    from certkit.privacy_words import own_words

    words, pairs = own_words(frozenset({"two", "fewer", "ebassi", "Philip"}))
    assert words == {"two", "fewer"}
    assert ("the", "two") in pairs and ("than", "two") in pairs and ("fewer", "than") in pairs


@pytest.mark.parametrize("text", [TWFE, FEWER, f"{TWFE} {FEWER}", "Fewer than two"])
def test_certkit_sentences_are_not_the_people_named_two_or_fewer(text):
    assert find_identifiers(text, PEOPLE) == []
    assert redact(text, PEOPLE) == text


def test_a_shared_page_with_certkits_sentences_is_written():
    parts = _page(f"{TWFE}\n\n{FEWER}\n\nAlso *fewer than **two** matched sets* in bold.")
    assert any("the two estimates" in t for _, t in parts)
    check_shared(parts, PEOPLE)  # does not raise


@pytest.mark.parametrize(
    ("markdown", "found"),
    [
        # a table of authors: the name alone in a cell, the e-mail in the next
        ("| author | email |\n|---|---|\n| two | two@envs.net |\n", {"two", "two@envs.net"}),
        ("| author | PRs |\n|---|---|\n| fewer | 12 |\n", {"fewer"}),  # the cell alone
        ("Most PRs: two (7).", {"two"}),  # a phrase certkit never writes
        ("Written by two <two@envs.net>.", {"two", "two@envs.net"}),
        ("Reviewers: ebassi, two.", {"ebassi", "two"}),  # next to another identifier
        (f"{TWFE} Reviewed by ebassi.", {"ebassi"}),
        ("Philip merged the two estimates.", {"Philip"}),
    ],
)
def test_the_person_is_still_found_and_the_page_blocked(markdown, found):
    parts = _page(markdown)
    assert {e.identifier for e in find_exposures(parts, PEOPLE)} == found
    with pytest.raises(CertkitError, match="no HTML was written"):
        check_shared(parts, PEOPLE)


def test_a_shared_message_keeps_certkits_words_and_redacts_the_person():
    eng = ENGINEERS.with_columns(pl.lit(False).alias("is_bot"))
    full = SimpleNamespace(engineers=eng, pull_requests=pl.DataFrame({"author_id": ["e003"]}))
    ctx = Context(ds=full, full=full, panel=pl.DataFrame(), privacy=Privacy(k=5, share=True),
                  period="", filters={})  # fmt: skip
    note = f"{FEWER}; PRs by two <two@envs.net> and e003 have no team"
    shown = ctx.safe_text(note)
    assert shown.startswith("not estimated: fewer than two matched sets have post-period")
    assert "envs.net" not in shown and "e003" not in shown and "by two" not in shown
    assert shown.endswith("PRs by [redacted] <[redacted]> and [redacted] have no team")


@pytest.fixture(scope="module")
def ds():
    return ck.simulate(n_engineers=60, months=4, seed=5)


def _with_teams(ds, teams: dict[str, tuple[int, int]]):
    """``ds`` with teams of (people, certified) as given (the rest of the people dropped)."""
    humans = ds.human_engineers()["engineer_id"].to_list()
    certified = set(ds.certifications["engineer_id"].to_list())
    yes = [e for e in humans if e in certified]
    no = [e for e in humans if e not in certified]
    rows = []
    for team, (n, c) in teams.items():
        rows += [(yes.pop(), team) for _ in range(c)] + [(no.pop(), team) for _ in range(n - c)]
    keep = pl.DataFrame(rows, schema=["engineer_id", "team"], orient="row")
    eng = ds.engineers.drop("team").join(keep, on="engineer_id")
    return ck.io.Dataset(eng, ds.certifications, ds.pull_requests, ds.defects, ds.incidents)


def test_shared_team_table_hides_certified_counts_or_complements_under_k(ds):
    """Trial I (mcp): "core: 5 engineers, 5 certified" tells every member's status, "spec: 8,
    1 certified" is a group of one."""
    d = _with_teams(ds, {"community": (13, 6), "big": (9, 5), "spec": (8, 1), "core": (5, 5)})
    private = health.teams(d, 1)
    assert dict(zip(private["team"], private["certified"], strict=True)) == {
        "community": 6, "big": 5, "spec": 1, "core": 5
    }  # fmt: skip
    shared = health.teams(d, 5)
    got = dict(zip(shared["team"], shared["certified"], strict=True))
    assert got == {"community": 6, "big": None, "spec": None, "core": None}  # 9 - 5 < 5
    assert shared["engineers"].to_list() == [13, 9, 8, 5]  # head counts stay
    assert shared.filter(pl.col("certified").is_null())["certified_share"].null_count() == 3


def test_one_hidden_team_takes_the_smallest_shown_with_it(ds):
    """With the total of certified people known, one hidden count is the total minus the rest."""
    d = _with_teams(ds, {"a": (14, 7), "b": (11, 5), "c": (6, 1)})
    shared = health.teams(d, 5)
    assert dict(zip(shared["team"], shared["certified"], strict=True)) == {
        "a": 7, "b": None, "c": None
    }  # fmt: skip
    d = _with_teams(ds, {"a": (14, 7), "b": (11, 5)})  # nothing under k: all shown
    assert health.teams(d, 5)["certified"].to_list() == [7, 5]
