"""A house AI agent's bot account and its co-author line are one agent in the import's note
(trial X, pydantic-ai: 'pydanty <pydanty@pydantic.dev>' co-authored 44 PRs, 37 of them
authored by pydanty[bot]; the note said it "authored 0 commit(s)" and that its PRs were
"counted as not AI-assisted", when they were bot PRs left out of the analysis)."""

from __future__ import annotations

import warnings

from certkit.connectors import read_git
from tests.test_connectors_git import Repo

AGENT = ("pydanty[bot]", "251103656+pydanty[bot]@users.noreply.github.com")
ANA = ("Ana Silva", "ana@corp.example")
LINE = "Co-authored-by: pydanty <pydanty@pydantic.dev>"


def test_the_note_counts_the_bot_accounts_own_prs(tmp_path):
    repo = Repo(tmp_path / "app")
    n = 0
    for day in range(1, 13):  # the agent's PRs, steered by Ana
        n += 1
        message = f"Fix issue {n} (#{n})\n\n{LINE}\nCo-authored-by: Ana Silva <ana@corp.example>"
        repo.commit(message, AGENT, f"2025-03-{day:02d}T10:00:00+00:00")
    for day in range(13, 16):  # Ana's own PRs, the agent's line among the co-authors
        n += 1
        repo.commit(f"Change {n} (#{n})\n\n{LINE}", ANA, f"2025-03-{day:02d}T10:00:00+00:00")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = read_git(repo.path)
    (note,) = [x for x in imp.notes if "pydanty <pydanty@pydantic.dev>" in x]
    assert "15 PRs" in note and "the co-author line of the bot account pydanty[bot]" in note
    assert "itself authored 12 PR(s), 12 of them among these 15" in note
    assert "the other 3 count as not AI-assisted" in note
    assert "authored 0 commit(s)" not in note
    assert "--agents (kind ai_agent)" in note


def test_a_merged_codeflash_suggestion_is_ai_assisted(tmp_path):
    """pydantic-ai #2155 (trial X): "⚡️ Speed up method `Usage.opentelemetry_attributes` by
    85%" co-authored by codeflash-ai[bot], an AI code optimiser: was not AI-assisted."""
    repo = Repo(tmp_path / "app")
    repo.commit(
        "⚡️ Speed up method `Usage.opentelemetry_attributes` by 85% (#2155)\n\n"
        "Co-authored-by: codeflash-ai[bot] "
        "<148906541+codeflash-ai[bot]@users.noreply.github.com>",
        ANA,
        "2025-07-01T10:00:00+00:00",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (pr,) = read_git(repo.path).pull_requests.to_dicts()
    assert pr["ai_tool"] == "codeflash" and pr["ai_assisted"] == 1
    assert pr["author_id"] == "ana@corp.example"


def test_prs_that_say_an_ai_tool_wrote_them_are_counted_in_a_note(tmp_path):
    """astral-sh/ruff (trial AC): "Developed with AI assistance (Claude Code); I reviewed
    the change", "Note: Code changed by Claude Sonnet 4.6." and "I've used LLMs for this PR"
    in squash bodies with no trace a rule reads: AI-assisted counts said nothing of them."""
    repo = Repo(tmp_path / "app")
    bodies = [
        "Developed with AI assistance (Claude Code); I reviewed the change and the tests.",
        "Note: Code changed by Claude Sonnet 4.6. Reviewed by a human.",
        "Full disclosure: I've used LLMs for this PR",
        "The selection made by cursor movement was wrong.",  # not an AI tool
        "Written by hand, no tools.",
    ]
    for i, body in enumerate(bodies, start=1):
        repo.commit(f"Change {i} (#{i})\n\n{body}", ANA, f"2025-03-{i:02d}T10:00:00+00:00")
    repo.commit(  # marked AI by its trailer: not counted again
        "Change 6 (#6)\n\nDeveloped with AI assistance.\n\nCo-authored-by: Claude "
        "<noreply@anthropic.com>",
        ANA,
        "2025-03-06T10:00:00+00:00",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = read_git(repo.path)
    (note,) = [n for n in imp.notes if "say in their description" in n]
    assert note.startswith("3 PR(s) not marked AI-assisted")
    assert (
        '"Developed with AI assistance (Claude Code); I reviewed the change and the tests' in note
    )


def test_the_direct_push_note_names_whose_work_is_mostly_pushed_directly(tmp_path):
    """astral-sh/ruff (trial AC): 306 of a certified engineer's 325 commits were pushed
    directly (0-1 PRs a month in the panel); the note gave only the total."""
    from tests.test_connectors_git import BEN

    repo = Repo(tmp_path / "app")
    for day in range(1, 13):  # Ben pushes directly, 12 commits
        repo.commit(f"Tweak {day}", BEN, f"2025-03-{day:02d}T10:00:00+00:00")
    repo.commit("Fix x (#1)", BEN, "2025-03-13T10:00:00+00:00")
    for day in range(14, 20):  # Ana's PRs
        repo.commit(f"Change (#{day})", ANA, f"2025-03-{day:02d}T10:00:00+00:00")
    repo.commit("One direct fix", ANA, "2025-03-21T10:00:00+00:00")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = read_git(repo.path)
    (note,) = [n for n in imp.notes if "pushed directly" in n]
    assert "ben@corp.example: 12 direct pushes beside 1 PR(s)" in note  # trial AF wording
    assert "ana@corp.example" not in note  # one direct commit of seven: not most of her work


def test_written_by_ai_is_a_disclosure_too():
    from certkit.connectors.attribution import disclosed_ai

    assert disclosed_ai("Most of the code in this PR was written by AI, then reviewed.")
    assert disclosed_ai("Written by hand; AI was not used.") is None


def test_the_data_health_page_shows_the_imports_notes_in_private_only(tmp_path):
    """trial AA (A5): the import's notes (reverts naming no PR, direct pushes, identities)
    were on no report page."""
    import certkit as ck
    from certkit.connectors import write_import
    from certkit.privacy import Privacy
    from certkit.report import Context
    from certkit.report.study_health import import_notes_display

    repo = Repo(tmp_path / "app")
    for day in range(1, 13):
        repo.commit(f"Tweak {day}", ANA, f"2025-03-{day:02d}T10:00:00+00:00")
    repo.commit("Fix <x> & y (#1)", ANA, "2025-03-13T10:00:00+00:00")
    certs = tmp_path / "certs.csv"
    certs.write_text(
        "engineer_id,certification,earned_date\nana@corp.example,aws-mla-c01,2025-03-05\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, folder = write_import(read_git(repo.path), tmp_path / "data", certifications=certs)
        ds = ck.load(folder)
    for share in (False, True):
        ctx = Context(
            ds=ds, full=ds, panel=ds.pull_requests.clear(), privacy=Privacy(k=5, share=share),
            period="", filters={},
        )  # fmt: skip
        shown = import_notes_display(ctx)
        if share:
            assert "only the private report shows them" in shown and "ana@" not in shown
        else:
            assert (
                "pushed directly" in shown and "ana@corp.example: 12 direct pushes beside" in shown
            )
            assert "<li>" in shown
    empty = Context(
        ds=ck.load_sample(), full=ck.load_sample(), panel=ds.pull_requests.clear(),
        privacy=Privacy(), period="", filters={},
    )  # fmt: skip
    assert "No notes from an import" in import_notes_display(empty)
