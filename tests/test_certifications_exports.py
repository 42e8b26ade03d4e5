"""Certification files as learning systems export them (trialC findings 2-5, 8, 19, 20).

A Credly export lists every badge an organisation issued (non-ML ones too), carries a
``Status`` column (accepted / pending / revoked / rejected) and is keyed by e-mail; Google
prints "Google Cloud Certified Professional Machine Learning Engineer"; exam codes appear in
names ("... (MLA-C01)", "Exam DP-100: ..."); Excel strips leading zeros from ids. Small frames
built here mirror the trial's files in /tmp/trialc/in (cert_C_credly_mapped.csv,
cert_K_name_variants.csv, cert_S2_zeros_stripped.csv).
"""

from __future__ import annotations

import warnings
from datetime import date, datetime

import polars as pl
import pytest

import certkit as ck
from certkit.connectors.analyst_files import certifications_by_alias, certified_ids
from certkit.connectors.identity import Identities
from certkit.data.catalog import resolve
from certkit.errors import DataValidationError
from certkit.privacy import Privacy
from certkit.report import Context

TODAY = date(2026, 1, 1)
SA = "AWS Certified Solutions Architect – Associate"  # en dash, as Credly writes it
AI102 = "Microsoft Certified: Azure AI Engineer Associate"  # not in the catalog


def _engineers(ids=("E1", "E2", "E3", "E4")) -> pl.DataFrame:
    n = len(ids)
    return pl.DataFrame(
        {
            "engineer_id": list(ids),
            "team": ["core"] * n,
            "role": ["backend"] * n,
            "level": ["mid"] * n,
            "hire_date": [date(2023, 1, 1)] * n,
            "platform": ["aws"] * n,
            "email": [f"{i.lower()}@corp.example" for i in ids],
        }
    )


def _prs(ids) -> pl.DataFrame:
    rows = [(i, m) for m in range(1, 13) for i in ids]
    return pl.DataFrame(
        {
            "id": [str(n) for n in range(len(rows))],
            "author_id": [i for i, _ in rows],
            "repo": ["org/app"] * len(rows),
            "created_date": [datetime(2024, m, 3) for _, m in rows],
            "merged_date": [datetime(2024, m, 5) for _, m in rows],
            "additions": [10] * len(rows),
            "deletions": [2] * len(rows),
        }
    )


def _load(certs: pl.DataFrame, engineers: pl.DataFrame | None = None, strict: bool = False):
    eng = _engineers() if engineers is None else engineers
    lines = list(range(2, certs.height + 2))  # as a CSV file shows them
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ck.from_frames(
            engineers=eng,
            pull_requests=_prs(eng["engineer_id"].to_list()),
            certifications=certs,
            strict=strict,
            today=TODAY,
            origins={"certifications": ("certs.csv", ("line", lines))},
        )


def _messages(ds) -> str:
    return "\n".join(p.format() for p in ds.validation.problems)


def _cohorts(ds) -> dict[str, int]:
    panel = ck.build_panel(ds, "month")
    return dict(panel.group_by("engineer_id").agg(pl.col("cohort").max()).iter_rows())


# -- 1. non-ML certifications are not the treatment -----------------------------------------


def test_non_ml_certification_is_left_out_of_the_treatment_with_a_warning():
    certs = pl.DataFrame(
        {
            "engineer_id": ["E1", "E2", "E3", "E4"],
            "certification": [SA, "aws-mla-c01", AI102, "CKA"],
            "earned_date": [date(2024, 5, 10)] * 4,
        }
    )
    ds = _load(certs)
    text = _messages(ds)
    assert (
        "certs.csv, column 'certification', lines 2, 5: not ML certifications: "
        f"{SA} (1 engineer), CKA (1 engineer); these rows are left out of the treatment"
    ) in text
    assert "add a column ml with true" in text
    # unknown: kept, and the warning says plainly that it counts
    assert f"line 4: not in the certification catalog: {AI102} (1 engineer); they COUNT" in text
    assert "add a column ml with false" in text
    assert sorted(ds.certifications["engineer_id"]) == ["E2", "E3"]
    cohorts = _cohorts(ds)
    assert cohorts["E1"] == 0 and cohorts["E4"] == 0  # not certified
    assert cohorts["E2"] == 5 and cohorts["E3"] == 5  # May 2024 = period 5


def test_non_ml_row_does_not_move_an_ml_engineers_first_certification():
    # an AWS Solutions Architect badge earned before the ML one must not set the cohort
    certs = pl.DataFrame(
        {
            "engineer_id": ["E1", "E1"],
            "certification": [SA, "gcp-pmle"],
            "earned_date": [date(2024, 2, 1), date(2024, 8, 1)],
        }
    )
    ds = _load(certs)
    assert _cohorts(ds)["E1"] == 8
    assert ds.certifications["certification_id"].to_list() == ["gcp-pmle"]


def test_ml_column_counts_a_non_ml_certification_or_leaves_an_unknown_one_out():
    certs = pl.DataFrame(
        {
            "engineer_id": ["E1", "E2"],
            "certification": [SA, AI102],
            "earned_date": [date(2024, 3, 1)] * 2,
            "ml": ["true", "false"],
        }
    )
    ds = _load(certs)
    text = _messages(ds)
    assert "not ML certifications" not in text and "not in the certification catalog" not in text
    assert "line 3: 1 row(s) with ml false are left out of the treatment" in text
    assert ds.certifications["certification_id"].to_list() == ["aws-saa-c03"]
    cohorts = _cohorts(ds)
    assert cohorts["E1"] == 3 and cohorts["E2"] == 0


def test_catalog_lists_non_ml_certifications_apart():
    ml, other = ck.catalog(), ck.catalog(ml=False)
    assert "gcp-pmle" in ml["id"].to_list() and "aws-saa-c03" not in ml["id"].to_list()
    assert {"aws-saa-c03", "azure-az-900", "cncf-cka", "gcp-ace"} <= set(other["id"])
    assert resolve(SA) is None and resolve(SA, ml=None) == "aws-saa-c03"


# -- 2. real spellings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cid"),
    [
        ("Google Cloud Certified Professional Machine Learning Engineer", "gcp-pmle"),
        ("Google Cloud Certified - Professional Machine Learning Engineer", "gcp-pmle"),
        ("AWS Certified Machine Learning Engineer - Associate (MLA-C01)", "aws-mla-c01"),
        ("AWS Certified Machine Learning - Specialty (MLS-C01)", "aws-mls-c01"),
        (
            "Exam DP-100: Designing and Implementing a Data Science Solution on Azure",
            "azure-dp-100",
        ),
        ("exam dp-100", "azure-dp-100"),  # codes compare in any case
        ("Certificate DP-100 / AZ-900 bundle", None),  # two codes: no guess
        ("ADP-1000 Payroll", None),  # a code only as a whole word
        ("Google Cloud Certified Professional Data Wizard", None),  # no fuzzy matching
    ],
)
def test_issuer_spellings_and_exam_codes_resolve(name, cid):
    assert resolve(name) == cid


# -- 3. e-mail keyed files -------------------------------------------------------------------


def test_roster_email_resolves_and_a_placeholder_holder_is_noted():
    roster = _engineers(("E1", "E2"))
    # the import added a placeholder for a git author outside the roster (a personal e-mail)
    eng = pl.concat(
        [roster, _engineers(("edward@gmail.example",)).with_columns(team=pl.lit("unknown"))]
    )
    certs = pl.DataFrame(
        {
            "engineer_id": ["E1@Corp.example", "edward@gmail.example", "edward@gmail.example"],
            "certification": ["gcp-pmle", "azure-dp-100", SA],
            "earned_date": ["2024-05-01"] * 3,
        }
    )
    out, notes = certifications_by_alias(certs, eng, Identities(), roster_rows=roster.height)
    assert out["engineer_id"].to_list()[0] == "E1"
    assert any(
        "1 certification row(s) name their engineer by the e-mail in the roster's email column "
        "(e.g. 'E1@Corp.example' -> 'E1'); read as that engineer" in n
        for n in notes
    )
    added = [n for n in notes if "the import added" in n]
    # the Solutions Architect row does not count, so only one row is named
    assert added and added[0].startswith(
        "1 certification row(s) name 1 engineer(s) the import added, not in the roster "
        "('edward@gmail.example'): they count as certified engineers of team 'unknown'"
    )
    # without a roster nothing is said about placeholders (every engineer is one)
    _, notes = certifications_by_alias(certs, eng, Identities())
    assert not any("the import added" in n for n in notes)


def test_rows_that_do_not_count_keep_no_placeholder():
    certs = pl.DataFrame(
        {
            "engineer_id": ["a@x.example", "b@x.example", "c@x.example"],
            "certification": ["gcp-pmle", SA, "gcp-pmle"],
            "Status": ["accepted", "accepted", "revoked"],
            "earned_date": ["2024-05-01"] * 3,
        }
    )
    assert certified_ids(certs, Identities()) == {"a@x.example"}


def test_email_keyed_refusal_names_the_fix():
    certs = pl.DataFrame(
        {
            "engineer_id": ["e2@corp.example", "someone@else.example"],
            "certification": ["gcp-pmle"] * 2,
            "earned_date": [date(2024, 5, 1)] * 2,
        }
    )
    with pytest.raises(DataValidationError) as err:
        _load(certs, strict=True)
    text = str(err.value)
    assert "column 'engineer_id', lines 2, 3: engineer_id not found in engineers" in text
    assert "2 of them look like e-mail addresses ('e2@corp.example' is the email of E2)" in text
    assert "identity file" in text and "--identities" in text


# -- 4. Credly status ------------------------------------------------------------------------


def test_revoked_pending_rejected_badges_are_left_out():
    certs = pl.DataFrame(
        {
            "engineer_id": ["E1", "E2", "E3", "E4", "E9"],
            "certification": ["gcp-pmle"] * 5,
            "earned_date": [date(2024, 5, 1)] * 5,
            "Status": ["Accepted", "revoked", " PENDING", "accepted", "rejected"],
        }
    )
    ds = _load(certs, strict=True)  # E9's rejected badge is not an error: it is left out
    text = _messages(ds)
    assert (
        "certs.csv, column 'status', lines 3, 4, 6: status pending, rejected, revoked: 3 badge "
        "row(s) not (or no longer) held are left out"
    ) in text
    assert sorted(ds.certifications["engineer_id"]) == ["E1", "E4"]
    cohorts = _cohorts(ds)
    assert cohorts["E2"] == 0 and cohorts["E3"] == 0 and cohorts["E1"] == 5


# -- 5. shared reports do not name a certification held by fewer than k ------------------------


def test_shared_report_does_not_name_rare_certifications():
    ids = [f"E{i}" for i in range(1, 8)]
    certs = pl.DataFrame(
        {
            "engineer_id": ids,
            "certification": [SA, AI102] + ["Vendor X ML Expert"] * 5,
            "earned_date": [date(2024, 5, 1)] * 7,
        }
    )
    ds = _load(certs, engineers=_engineers(tuple(ids)))

    def ctx(share):
        return Context(
            ds=ds,
            full=ds,
            panel=pl.DataFrame(),
            privacy=Privacy(k=5, share=share),
            period="",
            filters={},
        )

    shared = [ctx(True).safe_text(p.format()) for p in ds.validation.problems]
    private = [ctx(False).safe_text(p.format()) for p in ds.validation.problems]
    assert any(SA in m for m in private) and any(AI102 in m for m in private)
    joined = "\n".join(shared)
    assert SA not in joined and AI102 not in joined
    assert "Vendor X ML Expert (5 engineers)" in joined  # held by k: still named
    assert "1 certification(s) held by fewer than 5 engineers each" in joined


# -- 6. leading zeros ------------------------------------------------------------------------


def test_ids_without_leading_zeros_get_the_excel_hint():
    eng = _engineers(("001001", "001002"))
    certs = pl.DataFrame(
        {
            "engineer_id": ["1001", "1002"],
            "certification": ["gcp-pmle"] * 2,
            "earned_date": [date(2024, 5, 1)] * 2,
        }
    )
    with pytest.raises(DataValidationError) as err:
        _load(certs, engineers=eng, strict=True)
    assert (
        "'1001' is engineer '001001' without its leading zeros (and 1 more): Excel drops "
        "leading zeros"
    ) in str(err.value)


def test_lazy_panel_leaves_out_the_same_rows_as_load():
    # certkit panel --data on Parquet: the certifications table is not validated by load,
    # the panel applies the same rules (pl.LazyFrame tables stand for any engine)
    from certkit.data.dataset import Dataset

    eng = _engineers().drop("email").with_columns(is_bot=pl.lit(False))
    certs = pl.DataFrame(
        {
            "engineer_id": ["E1", "E2", "E3", "E4"],
            "certification": [SA, "Exam DP-100: Designing", "gcp-pmle", "CKA"],
            "earned_date": [date(2024, 4, 10)] * 4,
            "status": ["accepted", "Accepted", "revoked", "accepted"],
            "ml": [None, None, None, "yes"],
        }
    )
    none = pl.DataFrame(
        schema={"created_date": pl.Datetime("us"), "pr_id": pl.String, "engineer_id": pl.String}
    )
    ds = Dataset(
        engineers=eng.lazy(),
        certifications=certs.lazy(),
        pull_requests=_prs(eng["engineer_id"].to_list()).lazy(),
        defects=none.lazy(),
        incidents=none.lazy(),
    )
    panel = ck.build_panel(ds, "month")
    first = panel.group_by("engineer_id").agg(
        pl.col("cohort").max(), pl.col("certification").drop_nulls().first()
    )
    got = {e: (c, n) for e, c, n in first.iter_rows()}
    assert got == {
        "E1": (0, None),  # Solutions Architect: not ML
        "E2": (4, "azure-dp-100"),  # exam code in the name
        "E3": (0, None),  # revoked
        "E4": (4, "cncf-cka"),  # not ML, but ml = yes counts it
    }


def test_lazy_validation_counts_the_rows_left_out():
    from certkit.data.dataset import Dataset
    from certkit.data.validate_lazy import validate_lazy

    eng = _engineers(("E1",)).drop("email")
    certs = pl.DataFrame(
        {
            "engineer_id": ["E1", "E7", "E8"],  # E7, E8 unknown, but their rows do not count
            "certification": ["gcp-pmle", SA, "gcp-pmle"],
            "earned_date": [date(2024, 4, 10)] * 3,
            "status": ["accepted", "accepted", "revoked"],
        }
    )
    none = pl.DataFrame(
        schema={"created_date": pl.Datetime("us"), "pr_id": pl.String, "engineer_id": pl.String}
    )
    ds = Dataset(
        engineers=eng.lazy(),
        certifications=certs.lazy(),
        pull_requests=_prs(["E1"]).lazy(),
        defects=none.lazy(),
        incidents=none.lazy(),
    )
    report = validate_lazy(ds)
    text = "\n".join(p.format() for p in report.problems)
    assert "left out of the treatment" in text and "2 row(s)" in text
    assert "engineer_id not found" not in text


# -- 6. rows that are not the treatment stay in the written file ------------------------------

PMLE = "Google Cloud Certified Professional Machine Learning Engineer"


def _import_credly(tmp_path, rows: list[str], name: str) -> tuple[ck.Dataset, pl.DataFrame]:
    """``certkit import github`` of the connector fixtures with a Credly-like file keyed by
    e-mail (resolved through the identity file); the reloaded folder and its written
    certifications file."""
    from pathlib import Path

    from test_connectors_cli import run_import

    fix = Path(__file__).parent / "fixtures" / "connectors"
    credly = tmp_path / f"{name}.csv"
    credly.write_text("engineer_id,badge_name,issued_at,Status\n" + "\n".join(rows) + "\n")
    out = tmp_path / name
    argv = ["import", "github", str(fix / "gh_prs.json"), "--out", str(out), "--format", "csv"]
    argv += ["--identities", str(fix / "gh_identities.csv"), "--certifications", str(credly)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert run_import(argv) == 0
    return _reload(out), pl.read_csv(out / "certifications.csv", infer_schema=False)


def _reload(folder) -> ck.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ck.load(folder, today=TODAY)


def test_rows_left_out_are_written_with_ml_false_or_their_status(tmp_path, capsys):
    from test_panel_engines import same

    ml_row = f"ana@corp.example,{PMLE},2024-03-05,accepted"
    rows = [
        ml_row,
        f"ben@corp.example,{SA},2024-03-04,accepted",  # not an ML certification
        f"chen@corp.example,{PMLE},2024-03-06,revoked",
        f"zed@else.example,{SA},2024-03-04,accepted",  # an engineer no table knows
    ]
    ds, written = _import_credly(tmp_path, rows, "all")
    said = capsys.readouterr().out
    assert "3 certification row(s) that are not the treatment are written" in said
    assert "(2 with ml false: not ML certifications; 1 revoked" in said
    assert written.select("engineer_id", "ml", "status").rows() == [
        ("ana", None, "accepted"),
        ("ben", "false", "accepted"),
        ("chen", None, "revoked"),
        ("zed@else.example", "false", "accepted"),  # left out before the engineer check
    ]
    # what the import wrote before: only the row that counts; the analysis is the same
    before, _ = _import_credly(tmp_path, [ml_row], "counted")
    assert ds.certifications.drop("certification_id").equals(
        before.certifications.drop("certification_id")
    )
    same(ck.build_panel(ds, "month"), ck.build_panel(before, "month"))
    assert ds.validation.errors == [] == before.validation.errors
    new = [p.message for p in ds.validation.problems if p.message not in _texts(before)]
    assert len(new) == 2  # the two rows' own messages: ml false (info) and status (warning)
    assert "2 row(s) with ml false are left out of the treatment" in new
    assert any(m.startswith("status revoked: 1 badge row(s)") for m in new)
    # the analyst disagrees: ml true on the Solutions Architect row, accepted on the revoked
    edited = written.with_columns(
        pl.when(pl.col("engineer_id") == "ben").then(pl.lit("true")).otherwise("ml").alias("ml"),
        pl.lit("accepted").alias("status"),
    )
    edited.write_csv(tmp_path / "all" / "certifications.csv")
    flipped = _reload(tmp_path / "all")
    assert sorted(flipped.certifications["engineer_id"]) == ["ana", "ben", "chen"]
    assert flipped.validation.errors == []


def _texts(ds) -> set[str]:
    return {p.message for p in ds.validation.problems}
