"""Privacy guardrails: small groups never shown, identifiers found and redacted, keyed pseudonyms."""

from __future__ import annotations

import polars as pl
import pytest

from certkit.errors import CertkitError
from certkit.privacy import (
    Privacy,
    coarsen,
    find_identifiers,
    identifiers,
    pseudonymize,
    redact,
    suppress,
)

ENGINEERS = pl.DataFrame(
    {
        "engineer_id": ["E001", "E002", "E003", "bot1"],
        "name": ["Ana Silva", "Ben Okafor", None, "renovate"],
        "email": ["ana.silva@example.com", None, "chen@example.com", "bot@example.com"],
        "is_bot": [False, False, False, True],
    }
)


def _people(teams: dict[str, int]) -> pl.DataFrame:
    rows = [(f"{t}-{i}", t) for t, n in teams.items() for i in range(n)]
    return pl.DataFrame(rows, schema=["engineer_id", "team"], orient="row")


def test_coarsen_merges_small_groups_into_other():
    df = _people({"big": 6, "tiny": 2, "small": 3})
    out = coarsen(df, "team", 5)
    assert set(out["team"]) == {"big", "other"}  # tiny (2) + small (3) = 5 people
    assert out.filter(pl.col("team") == "other").height == 5
    assert df["team"].to_list().count("tiny") == 2  # input frame unchanged


def test_coarsen_drops_other_when_still_too_small():
    out = coarsen(_people({"big": 6, "tiny": 2}), "team", 5)
    assert set(out["team"]) == {"big"}
    assert out.height == 6


def test_coarsen_counts_people_not_rows():
    # 10 rows but only 2 people: still a small group.
    df = pl.DataFrame({"engineer_id": ["a", "b"] * 5, "team": ["t"] * 10})
    df = pl.concat([df, _people({"big": 5})])
    assert "t" not in coarsen(df, "team", 5)["team"].to_list()


def test_suppress_drops_or_masks_small_cells():
    agg = pl.DataFrame({"cell": ["a", "b", "c"], "n": [4, 5, 9], "share": [0.1, 0.2, 0.3]})
    assert suppress(agg, "n", 5)["cell"].to_list() == ["b", "c"]
    masked = suppress(agg, "n", 5, mask=["share"])
    assert masked.height == 3
    assert masked["share"].to_list() == [None, 0.2, 0.3]
    assert masked["n"].to_list() == [None, 5, 9]
    with pytest.raises(CertkitError, match="count column"):
        suppress(agg, "people", 5)


def test_pseudonymize_is_keyed_stable_and_not_the_id():
    ids = pl.Series(["E001", "E002", "E001", None])
    a = pseudonymize(ids, b"key-one")
    assert a[0] == a[2] and a[0] != a[1] and a[3] is None
    assert not any("E00" in v for v in a.drop_nulls())
    assert pseudonymize(ids, b"key-one").to_list() == a.to_list()
    assert pseudonymize(ids, b"key-two")[0] != a[0]


def test_identifiers_skip_bots_and_find_whole_tokens_only():
    people = identifiers(ENGINEERS)
    assert "renovate" not in people and "bot1" not in people
    text = (
        "<td>E001</td> wrote to ANA.SILVA@example.com; ben  okafor agreed. "
        "E0011 and xE002 are other tokens."
    )
    found = find_identifiers(text, ENGINEERS)
    assert found == sorted(["E001", "ANA.SILVA@example.com", "ben  okafor"])
    red = redact(text, people)
    assert "E001<" not in red and "okafor" not in red and "E0011" in red and "xE002" in red


def test_privacy_rules():
    assert Privacy(k=5, share=True).min_group == 5
    assert Privacy(k=5, share=False).min_group == 1
    shared = Privacy(share=True, key=b"k")
    with pytest.raises(CertkitError, match="not shown in a shared report"):
        shared.engineer_ids(ENGINEERS)
    shown = Privacy(share=True, individuals=True, key=b"k").engineer_ids(ENGINEERS)
    assert not set(shown["engineer_id"]) & set(ENGINEERS["engineer_id"])
    local = Privacy(share=False).engineer_ids(ENGINEERS)
    assert local["engineer_id"].to_list() == ENGINEERS["engineer_id"].to_list()
    with pytest.raises(CertkitError, match="whole number"):
        Privacy(k=0)
