"""The same panel, row for row, from every engine: polars (eager, lazy, streaming), DuckDB."""

from __future__ import annotations

import dataclasses
import re
import warnings
from datetime import date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import certkit as ck
from certkit.data.panel_sources import copy_to_duckdb, open_dataset

duckdb = pytest.importorskip("duckdb")

DATETIMES = {
    "pull_requests": ("created_date", "merged_date", "closed_date", "first_review_date"),
    "defects": ("created_date", "resolution_date"),
    "incidents": ("created_date", "resolution_date"),
}


def panel(ds, period="month", **kw) -> pl.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        return ck.build_panel(ds, period, **kw)


def same(a: pl.DataFrame, b: pl.DataFrame) -> None:
    """Row for row: keys, counts and types exact; floats to 1e-12 (sum order differs)."""
    assert a.height > 0
    assert_frame_equal(a, b, check_exact=False, rel_tol=1e-12, abs_tol=0)


def to_duckdb(ds: ck.Dataset, con=None) -> ck.Dataset:
    con = con or duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return copy_to_duckdb(ds, con)


def to_parquet_folder(ds: ck.Dataset, folder, skip: tuple[str, ...] = ()):
    """Write ``ds``'s tables as ``folder/<table>.parquet`` (except ``skip``); returns ``folder``."""
    folder.mkdir()
    for name, frame in ds.tables().items():
        if name not in skip:
            frame.write_parquet(folder / f"{name}.parquet")
    return folder


def lazy(ds: ck.Dataset) -> ck.Dataset:
    return dataclasses.replace(ds, **{n: f.lazy() for n, f in ds.tables().items()})


def in_time_zone(ds: ck.Dataset, tz: str) -> ck.Dataset:
    """The same instants as time-zone-aware datetimes in ``tz``."""
    out = {}
    for name, columns in DATETIMES.items():
        frame = getattr(ds, name)
        present = [c for c in columns if c in frame.columns]
        out[name] = frame.with_columns(
            pl.col(c).dt.replace_time_zone("UTC").dt.convert_time_zone(tz) for c in present
        )
    return dataclasses.replace(ds, **out)


def awkward() -> tuple[ck.Dataset, dict]:
    """A small organisation with the cases engines disagree on when they can."""
    ds = ck.simulate(n_engineers=60, months=10, seed=11)
    prs = ds.pull_requests
    start = prs["created_date"].min().date().replace(day=1)
    empty = (start + timedelta(days=4 * 31)).replace(day=1)  # the 5th month: no PR at all
    nxt = (empty + timedelta(days=32)).replace(day=1)

    def in_empty(col: str) -> pl.Expr:
        return pl.col(col).dt.date().is_between(empty, nxt - timedelta(days=1))

    prs = prs.filter(~in_empty("created_date") & ~in_empty("merged_date").fill_null(False))
    # hired on the 3rd of month 3: within its first days, so the month is theirs (a hire
    # later in the month leaves it out for them, in polars after every engine: see
    # tests/test_partial_tenure.py)
    mid_hire = (start + timedelta(days=2 * 31)).replace(day=3)
    month3 = mid_hire.replace(day=1)
    month4 = (month3 + timedelta(days=32)).replace(day=1)
    edge = datetime.combine(month4, datetime.min.time())  # first instant of month 4 (UTC)
    extra = pl.DataFrame(
        {
            "id": ["X1", "X2", "X3", "B1", "B2"],
            "author_id": ["MID", "MID", "MID", "testkit[bot]", "testkit[bot]"],
            "created_date": [
                datetime.combine(mid_hire, datetime.min.time()) + timedelta(hours=9),
                edge - timedelta(hours=30),
                edge - timedelta(hours=5),
                edge - timedelta(days=3),
                edge - timedelta(days=2),
            ],
            # X2 merged 1 µs before month 4 (UTC), X3 exactly at its first instant; both are
            # in month 3 in New York time, so a wrong time-zone conversion moves X3.
            "merged_date": [
                datetime.combine(mid_hire, datetime.min.time()) + timedelta(hours=20),
                edge - timedelta(microseconds=1),
                edge + timedelta(hours=2),
                edge - timedelta(days=1),
                None,
            ],
        }
    )
    prs = pl.concat([prs, extra], how="diagonal_relaxed").with_row_index("_i")
    i = pl.col("_i")
    prs = prs.with_columns(
        pl.when(i % 7 == 0)
        .then(pl.lit("squash_commit"))
        .when(i % 11 == 0)
        .then(None)
        .otherwise(pl.lit("github"))
        .alias("created_source"),
        pl.when(i % 5 == 0).then(None).otherwise(pl.col("additions")).alias("additions"),
        pl.when(i % 3 == 0)
        .then(None)
        .otherwise(pl.col("additions") // 4)
        .alias("churned_lines_21d"),
        pl.when(i % 13 == 0).then(None).otherwise(pl.col("reverted")).alias("reverted"),
        pl.when(i % 17 == 0).then(None).otherwise(pl.col("ai_assisted")).alias("ai_assisted"),
    ).drop("_i")
    people = pl.DataFrame(
        {
            "engineer_id": ["MID", "testkit[bot]"],
            "team": ["t-mid", "automation"],
            "role": ["backend", "bot"],
            "level": ["mid", "n/a"],
            "hire_date": [mid_hire, date(2020, 1, 1)],
            "platform": ["aws", "other"],
            "is_bot": [False, True],
        }
    )
    engineers = pl.concat([ds.engineers, people], how="diagonal_relaxed")
    defects, incidents, fix = fix_links(ds, prs)
    ds = dataclasses.replace(
        ds, pull_requests=prs, engineers=engineers, defects=defects, incidents=incidents
    )
    return ds, {"empty": empty, "month3": month3, "month4": month4, "fix": fix}


def fix_links(ds: ck.Dataset, prs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Defects and incidents linked to PRs merged after them (the fix, which the panel does
    not charge to the PR's author by default) beside ones linked to the PR that caused them:
    one reported a day before its PR merged, one at the merge instant (a fix) naming another
    engineer, one linked to a PR never merged, one a microsecond after (caused); an incident
    two hours before its PR merged and one an hour after."""
    human = prs.filter(
        pl.col("merged_date").is_not_null() & ~pl.col("author_id").str.ends_with("[bot]")
    ).sort("id")
    a = human.row(len(human) // 2, named=True)
    month = pl.col("merged_date").dt.truncate("1mo") == a["merged_date"].replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    peers = human.filter(month & ~pl.col("author_id").is_in([a["author_id"], "MID"]))
    other = peers["author_id"].sort()[0]  # in the panel in that month: they merged a PR
    open_pr = prs.filter(pl.col("merged_date").is_null()).sort("id")["id"][0]
    m = a["merged_date"]
    defects = pl.DataFrame(
        {
            "id": ["FIX-D1", "FIX-D2", "FIX-D3", "CAUSE-D1"],
            "created_date": [
                m - timedelta(days=1),
                m,
                m - timedelta(days=2),
                m + timedelta(microseconds=1),
            ],
            "pr_id": [a["id"], a["id"], open_pr, a["id"]],
            "engineer_id": [None, other, None, None],
        }
    )
    incidents = pl.DataFrame(
        {
            "id": ["FIX-I1", "CAUSE-I1"],
            "created_date": [m - timedelta(hours=2), m + timedelta(hours=1)],
            "pr_id": [a["id"], a["id"]],
        }
    )
    fix = {"pr": a, "other": other}
    return (
        pl.concat([ds.defects, defects], how="diagonal_relaxed"),
        pl.concat([ds.incidents, incidents], how="diagonal_relaxed"),
        fix,
    )


@pytest.fixture(scope="module")
def awk():
    return awkward()


@pytest.mark.parametrize("period", ["month", "week"])
def test_awkward_org_same_panel_on_every_engine(awk, period):
    ds, _ = awk
    eager = panel(ds, period)
    same(eager, panel(lazy(ds), period))
    same(eager, panel(lazy(ds), period, streaming=True))
    same(eager, panel(to_duckdb(ds), period))
    with_bots = panel(ds, period, include_bots=True)
    assert "testkit[bot]" in with_bots["engineer_id"].to_list()
    same(with_bots, panel(to_duckdb(ds), period, include_bots=True))


def test_awkward_cases_are_in_the_panel(awk):
    ds, when = awk
    p = panel(to_duckdb(ds))
    empty = p.filter(pl.col("period") == when["empty"])
    assert empty.height > 50  # the period exists for everyone employed...
    assert empty["merged_prs"].sum() == 0 and empty["prs_opened"].sum() == 0  # ...with zeros
    assert empty["cycle_time_hours_median"].null_count() == empty.height
    mid = p.filter(pl.col("engineer_id") == "MID")
    assert mid["period"][0] == when["month3"]  # hired on the 3rd: in from that month
    by_period = dict(zip(mid["period"], mid["merged_prs"], strict=True))
    assert by_period[when["month3"]] == 2  # X1 and X2 (1 µs before the month ends)
    assert by_period[when["month4"]] == 1  # X3
    assert "testkit[bot]" not in p["engineer_id"].to_list()
    assert p["lines_changed"].null_count() > 0  # merged PRs without a size stay unknown
    assert p["rework_rate"].drop_nulls().len() > 0


def _counts(p: pl.DataFrame, engineer: str, when: datetime) -> tuple[int, int]:
    """(defects, incidents) of ``engineer`` in the month of ``when``."""
    row = p.filter(
        (pl.col("engineer_id") == engineer) & (pl.col("period") == when.date().replace(day=1))
    )
    assert row.height == 1
    return row["defects"].item(), row["incidents"].item()


def test_links_to_prs_merged_later_are_fixes_on_every_engine(awk):
    """A defect or incident linked to a PR merged at or after it (or never merged) is not
    charged to the PR's author (``fix_links="drop"``, the default); a row naming an engineer
    keeps that engineer; ``"keep"`` charges every link to the PR's author. Same on polars
    (eager, lazy) and DuckDB, and the warning names the rows."""
    ds, when = awk
    pr, other = when["fix"]["pr"], when["fix"]["other"]
    author, m = pr["author_id"], pr["merged_date"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drop = ck.build_panel(to_duckdb(ds))
    said = [str(w.message) for w in caught]
    assert (
        "3 defects are linked to PRs merged after they were reported (or never merged), "
        "e.g. FIX-D1, FIX-D2, FIX-D3: those PRs most likely fixed them" in " ".join(said)
    )
    assert any(t.startswith("1 incident is linked to a PR merged after it started") for t in said)
    keep = panel(ds, fix_links="keep")
    same(drop, panel(ds))
    same(drop, panel(lazy(ds)))
    same(keep, panel(to_duckdb(ds), fix_links="keep"))
    same(keep, panel(lazy(ds), fix_links="keep"))
    # keep: FIX-D1 on the PR's author, in the merge month, beside CAUSE-D1; FIX-D2 names
    # another engineer, who has it either way (the named engineer wins, as for incidents)
    kd, _ = _counts(keep, author, m)
    dd, _ = _counts(drop, author, m)
    assert kd - dd == 1
    assert _counts(drop, other, m)[0] >= 1 and _counts(keep, other, m)[0] >= 1
    # FIX-I1 (two hours before the merge) is the author's only with keep; CAUSE-I1 in both
    before = m - timedelta(hours=2)
    assert _counts(keep, author, before)[1] - _counts(drop, author, before)[1] == 1
    totals = [p.select(pl.col("defects", "incidents").sum()).row(0) for p in (keep, drop)]
    assert totals[0][0] - totals[1][0] == 1 and totals[0][1] - totals[1][1] == 1
    with pytest.raises(ck.CertkitError, match="fix_links must be 'drop'"):
        ck.build_panel(ds, fix_links="yes")


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Kolkata"])
def test_time_zone_aware_inputs_count_in_utc_periods(awk, tz):
    ds, _ = awk
    naive = panel(ds)
    aware = in_time_zone(ds, tz)
    same(naive, panel(aware))
    same(naive, panel(to_duckdb(aware)))


def test_sample_same_panel_on_duckdb():
    ds = ck.load_sample()
    same(panel(ds), panel(to_duckdb(ds)))
    same(panel(ds, "quarter"), panel(to_duckdb(ds), "quarter"))


def test_approximated_creation_dates_leave_cycle_time_on_every_engine(awk):
    ds, _ = awk
    squash = ds.pull_requests.with_columns(pl.lit("squash_commit").alias("created_source"))
    only_squash = dataclasses.replace(ds, pull_requests=squash)
    for p in (panel(only_squash), panel(to_duckdb(only_squash))):
        assert p["merged_prs"].sum() > 0
        assert p["cycle_time_hours_median"].null_count() == p.height
        assert p["pickup_time_hours_median"].null_count() == p.height


def test_open_dataset_from_parquet_and_duckdb_file(awk, tmp_path):
    ds, _ = awk
    folder = to_parquet_folder(ds, tmp_path / "data", skip=("incidents",))  # optional table
    no_incidents = dataclasses.replace(ds, incidents=ds.incidents.clear())
    expected = panel(no_incidents)
    assert expected["incidents"].sum() == 0
    same(expected, panel(open_dataset(folder, "polars"), streaming=True))
    same(expected, panel(open_dataset(folder, "duckdb")))
    db = tmp_path / "org.duckdb"
    con = duckdb.connect(str(db))
    to_duckdb(ds, con)
    con.close()
    full = panel(ds)
    same(full, panel(open_dataset(db, "duckdb")))
    same(full, panel(open_dataset(db, "polars")))


def test_duckdb_connection_certkit_opens_spills_to_a_fresh_folder(awk, tmp_path):
    """open_dataset's own DuckDB connection: spill folder outside the data, no insertion
    order, memory_limit if asked; a user's own connection keeps its settings."""
    import gc
    import os

    ds, _ = awk
    folder = to_parquet_folder(ds, tmp_path / "data")

    def settings(rel) -> tuple:
        names = ("temp_directory", "preserve_insertion_order", "memory_limit")
        sql = "SELECT " + ", ".join(f"current_setting('{n}')" for n in names)
        return rel.query("_any", sql).fetchall()[0]

    lazy_ds = open_dataset(folder, "duckdb", memory_limit="1GB")
    spill, ordered, limit = settings(lazy_ds.pull_requests)
    assert os.path.isdir(spill) and not spill.startswith(str(tmp_path))
    assert os.path.basename(spill).startswith("certkit-duckdb-") and not os.listdir(spill)
    assert ordered is False and limit in ("953.6 MiB", "1.0 GB", "1000.0 MB")
    same(panel(ds, include_bots=True), panel(lazy_ds, include_bots=True, buckets=3))
    del lazy_ds
    gc.collect()
    assert not os.path.exists(spill)  # removed with the connection
    with pytest.raises(ck.CertkitError, match="memory_limit must be a DuckDB memory size"):
        open_dataset(folder, "duckdb", memory_limit="plenty")

    con = duckdb.connect()
    con.execute("SET memory_limit = '2GB'")
    before = settings(con.sql("SELECT 1"))
    own = to_duckdb(ds, con)
    same(panel(ds), panel(own, buckets=2))
    assert settings(con.sql("SELECT 1")) == before and before[1] is True


def test_missing_column_and_mixed_engines_are_clear_errors(awk):
    ds, _ = awk
    with pytest.raises(ck.CertkitError, match="pull_requests: missing column.*merged_date"):
        panel(dataclasses.replace(ds, pull_requests=ds.pull_requests.drop("merged_date")))
    mixed = dataclasses.replace(to_duckdb(ds), engineers=ds.engineers)
    with pytest.raises(ck.CertkitError, match="one engine.*engineers \\(polars\\)"):
        panel(mixed)
    with pytest.raises(ck.CertkitError, match="expected a polars DataFrame"):
        panel(dataclasses.replace(ds, defects=[1, 2]))


def test_calendar_arithmetic_used_for_spark_matches_duration_arithmetic(awk, monkeypatch):
    """Spark-like engines get seconds from calendar parts; on polars/DuckDB both must agree."""
    import certkit.data.panel as panel_module

    ds, _ = awk
    expected = {p: panel(ds, p) for p in ("month", "week")}
    monkeypatch.setattr(panel_module, "PORTABLE_ENGINES", ("polars", "duckdb"))
    for p, exp in expected.items():
        same(exp, panel(ds, p))
        same(exp, panel(to_duckdb(ds), p))


@pytest.mark.parametrize("period", ["month", "week"])
def test_engineer_buckets_give_the_same_panel(awk, period, monkeypatch):
    """polars and DuckDB: the panel built in engineer buckets (explicit or automatic) is the
    same."""
    import certkit.data.panel as panel_module
    from certkit.data import panel_buckets

    ds, _ = awk
    whole = panel(ds, period, include_bots=True)
    for k in (2, 7):
        same(whole, panel(ds, period, include_bots=True, buckets=k))
        same(whole, panel(lazy(ds), period, include_bots=True, streaming=True, buckets=k))
    # more buckets than engineers: empty buckets are harmless
    same(whole, panel(lazy(ds), period, include_bots=True, buckets=500))
    # automatic: lazy polars tables with streaming, one bucket per BUCKET_PRS PRs
    calls = []
    real = panel_module.engineer_ranges
    monkeypatch.setattr(panel_buckets, "BUCKET_PRS", 1_000)
    monkeypatch.setattr(panel_module, "engineer_ranges", lambda e, k: calls.append(k) or real(e, k))
    same(whole, panel(lazy(ds), period, include_bots=True, streaming=True))
    assert calls and calls[-1] == -(-ds.pull_requests.height // 1_000) > 1
    same(whole, panel(ds, period, include_bots=True))  # in memory: one query
    assert calls[-1] == 1
    # DuckDB: explicit and automatic (any DuckDB relation: one bucket per BUCKET_PRS PRs)
    duck = to_duckdb(ds)
    same(whole, panel(duck, period, include_bots=True, buckets=4))
    assert calls[-1] == 4
    same(whole, panel(duck, period, include_bots=True))
    assert calls[-1] == -(-ds.pull_requests.height // 1_000) > 1


def test_bucket_boundary_splitting_engineers_is_exact(awk):
    """A bucket boundary between engineers whose defects and incidents point at each
    other's PRs: the bucketed panel (polars streaming, DuckDB) is the whole one."""
    import narwhals as nw

    from certkit.data.panel_buckets import engineer_ranges

    ds, _ = awk
    ranges = engineer_ranges(nw.from_native(ds.engineers.lazy()), 2)
    cut = ranges[0][1]
    assert ranges == [(None, cut), (cut, None)]
    merged = ds.pull_requests.filter(pl.col("merged_date").is_not_null())
    left = merged.filter(pl.col("author_id") < cut).head(3)
    right = merged.filter(pl.col("author_id") >= cut).head(3)
    assert left.height == right.height == 3
    # reported by an engineer of one bucket against a PR of the other (the PR's author
    # counts it), and one against an unknown PR (the reporter counts it)
    # an hour after the merge: a PR merged at or after the report is its fix, not its cause
    reporters = [*right["author_id"], *left["author_id"], right["author_id"][0]]
    pr_ids = [*left["id"], *right["id"], "PR-unknown"]
    reported = [*left["merged_date"], *right["merged_date"], left["merged_date"][0]]
    crossed = pl.DataFrame(
        {
            "id": [f"X-{i}" for i in range(7)],
            "created_date": [t + timedelta(hours=1) for t in reported],
            "pr_id": pr_ids,
            "engineer_id": reporters,
        }
    )
    incidents = crossed.with_columns(engineer_id=pl.lit(None, pl.String))  # via the PR
    ds = dataclasses.replace(
        ds,
        defects=pl.concat([ds.defects, crossed], how="diagonal_relaxed"),
        incidents=pl.concat([ds.incidents, incidents], how="diagonal_relaxed"),
    )
    base = panel(awk[0], "week", include_bots=True)
    whole = panel(ds, "week", include_bots=True)
    assert whole["defects"].sum() == base["defects"].sum() + 7
    assert whole["incidents"].sum() == base["incidents"].sum() + 6  # the unknown PR: nobody
    same(whole, panel(lazy(ds), "week", include_bots=True, streaming=True, buckets=2))
    same(whole, panel(to_duckdb(ds), "week", include_bots=True, buckets=2))


def test_buckets_must_be_a_positive_integer(awk):
    ds, _ = awk
    with pytest.raises(ck.CertkitError, match="buckets must be a positive integer"):
        panel(ds, buckets=0)


def test_a_repeated_engineer_id_in_a_lazy_roster_is_refused(awk):
    """Lazy tables are not validated row by row: a roster listing one engineer twice would
    double that engineer's rows; the panel refuses it, naming the table and column."""
    ds, _ = awk
    twice = pl.concat([ds.engineers, ds.engineers.head(1)])
    bad = dataclasses.replace(lazy(ds), engineers=twice.lazy())
    with pytest.raises(ck.CertkitError, match="table engineers: engineer_id must be unique"):
        panel(bad)
    bad_duck = dataclasses.replace(ds, engineers=twice)
    with pytest.raises(ck.CertkitError, match="1 id\\(s\\) appear more than once"):
        panel(to_duckdb(bad_duck))


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_certification_names_get_the_catalog_ids_load_gives_them(awk, tmp_path, engine):
    """Files hold certification *names* (``Dataset.save`` drops the derived id). ``certkit.load``
    maps a known name to its catalog id; a lazy source must do the same, or the panel's
    ``certification`` column (and the first-certification tie-break) differs by engine (seen
    on a real repository's history: ``aws-mls-c01`` in memory, the long name on DuckDB)."""
    from certkit.data.panel_sources import open_dataset

    ds, _ = awk
    in_house = "In-house ML bootcamp"  # not in the catalog: the name is its id
    certs = ds.certifications.with_columns(
        pl.when(pl.col("engineer_id") == pl.col("engineer_id").min())
        .then(pl.lit(in_house))
        .otherwise(pl.col("certification"))
        .alias("certification")
    ).with_columns(
        pl.when(pl.col("certification") == in_house)
        .then(pl.lit(in_house))
        .otherwise(pl.col("certification_id"))
        .alias("certification_id")
    )
    ds = dataclasses.replace(ds, certifications=certs)
    want = panel(ds, include_bots=True)
    assert {"gcp-pmle", in_house} <= set(want["certification"].drop_nulls())
    folder = to_parquet_folder(
        dataclasses.replace(ds, certifications=certs.drop("certification_id")), tmp_path / "org"
    )
    same(want, panel(open_dataset(folder, engine), include_bots=True, streaming=engine == "polars"))


def test_certification_names_alone_on_a_lazy_source(awk):
    """A certifications table of ML names with no ``status`` or ``ml`` column: every row
    counts. The filter of counted rows was then a bare ``True`` literal, which narwhals
    refuses ("Expressions which aggregate or change length cannot be passed to 'filter'")."""
    ds, _ = awk
    ds = dataclasses.replace(ds, certifications=ds.certifications.drop("status", "ml"))
    want = panel(ds)
    assert want["certification"].drop_nulls().len() > 0
    same(want, panel(lazy(ds)))
    same(want, panel(to_duckdb(ds)))


def warehouse_types(ds: ck.Dataset) -> ck.Dataset:
    """The same data in the types a warehouse or a pandas-written Parquet file often has:
    integer PR ids, timestamps for dates, an integer is_bot, floats with NaN for integers,
    decimals, a boolean AI flag, an integer revert flag, a categorical team."""
    ids = ds.pull_requests.select("id").with_row_index("_n", offset=1)
    ids = ids.with_columns(pl.col("_n").cast(pl.Int64))

    def pr_ids(frame: pl.DataFrame) -> pl.DataFrame:
        mapped = frame.join(ids.rename({"id": "pr_id"}), on="pr_id", how="left")
        return mapped.with_columns(pl.col("_n").alias("pr_id")).drop("_n")

    prs = ds.pull_requests.join(ids, on="id", maintain_order="left")
    prs = prs.with_columns(
        pl.col("_n").alias("id"),
        pl.col("additions").cast(pl.Float64).fill_null(float("nan")),
        pl.col("deletions").cast(pl.Decimal(20, 0)),
        pl.col("ai_assisted") > 0.5,
        pl.col("reverted").cast(pl.Int8),
    ).drop("_n")
    return dataclasses.replace(
        ds,
        pull_requests=prs,
        defects=pr_ids(ds.defects),
        incidents=pr_ids(ds.incidents),
        engineers=ds.engineers.with_columns(
            pl.col("hire_date").cast(pl.Datetime("ns")),
            pl.col("is_bot").cast(pl.Int32),
            pl.col("team").cast(pl.Categorical),
        ),
        certifications=ds.certifications.with_columns(pl.col("earned_date").cast(pl.Datetime)),
    )


def test_warehouse_column_types_give_the_same_panel(awk):
    """Lazy sources are not parsed by ``certkit load``: conventional types are converted
    where the data lives (ids as integers, dates as timestamps, ...)."""
    ds, _ = awk
    ai_as_flag = dataclasses.replace(
        ds, pull_requests=ds.pull_requests.with_columns((pl.col("ai_assisted") > 0.5) * 1.0)
    )
    expected = panel(ai_as_flag)
    other = warehouse_types(ds)
    same(expected, panel(lazy(other)))
    same(expected, panel(to_duckdb(other)))


@pytest.mark.parametrize(
    ("table", "column", "to_text", "words"),
    [
        ("pull_requests", "created_date", pl.col("created_date").dt.to_string(), "a timestamp"),
        ("pull_requests", "additions", pl.col("additions").cast(pl.String), "an integer"),
        ("engineers", "hire_date", pl.col("hire_date").dt.to_string(), "a date"),
        ("pull_requests", "reverted", pl.col("reverted").cast(pl.String), "true/false"),
    ],
)
def test_a_text_column_the_panel_cannot_read_names_table_and_column(
    awk, table, column, to_text, words
):
    ds, _ = awk
    bad = dataclasses.replace(ds, **{table: getattr(ds, table).with_columns(to_text)})
    for source in (lazy(bad), to_duckdb(bad)):
        message = f"table {table}, column {column}: expected {words}; the source has String"
        with pytest.raises(ck.CertkitError, match=re.escape(message)):
            panel(source)


def to_partitioned_folder(ds: ck.Dataset, folder):
    """``ds`` as Parquet tables, ``pull_requests`` partitioned by creation month as Spark's
    ``partitionBy`` writes it (``pull_requests/created_month=2024-01/part-00000.parquet``,
    the partition column out of the files, a ``_SUCCESS`` marker beside them)."""
    to_parquet_folder(ds, folder, skip=("pull_requests",))
    prs = ds.pull_requests.with_columns(
        pl.col("created_date").dt.strftime("%Y-%m").alias("created_month")
    )
    for (month,), part in prs.partition_by("created_month", as_dict=True).items():
        sub = folder / "pull_requests" / f"created_month={month}"
        sub.mkdir(parents=True)
        part.drop("created_month").write_parquet(sub / "part-00000.snappy.parquet")
    (folder / "pull_requests" / "_SUCCESS").touch()
    return folder


def test_partitioned_parquet_tables_as_spark_writes_them(awk, tmp_path):
    ds, _ = awk
    folder = to_partitioned_folder(ds, tmp_path / "org")
    expected = panel(ds)
    same(expected, panel(open_dataset(folder, "polars"), streaming=True))
    same(expected, panel(open_dataset(folder, "duckdb")))


def test_certkit_load_reads_folders_of_parquet_parts(small_folder, tmp_path):
    """``certkit load`` / ``validate`` read the table folders the panel's scans read (they
    said "no pull_requests.csv / .parquet / .ndjson file")."""
    ds = ck.load(small_folder)
    folder = to_partitioned_folder(ds, tmp_path / "org")
    again = ck.load(folder)
    assert again.pull_requests.drop("created_month").sort("id").equals(ds.pull_requests.sort("id"))
    same(panel(ds), panel(again))
    (folder / "pull_requests.csv").write_text("id\n")
    with pytest.raises(ck.DataValidationError, match="several files for one table"):
        ck.load(folder)


def test_column_names_are_read_as_certkit_load_reads_them(awk, tmp_path):
    """Upper case, spaces and aliases (``createdAt``, ``merged_at``, ``author``) name the same
    columns on every engine as in ``certkit load``."""
    ds, _ = awk
    renamed = dataclasses.replace(
        ds,
        pull_requests=ds.pull_requests.rename(
            {"created_date": "createdAt", "merged_date": "merged_at", "author_id": "AUTHOR"}
        ),
        engineers=ds.engineers.rename({"hire_date": " Hire_Date "}),
    )
    expected = panel(ds)
    same(expected, panel(lazy(renamed)))
    same(expected, panel(to_duckdb(renamed)))
    same(expected, panel(open_dataset(to_parquet_folder(renamed, tmp_path / "org"), "duckdb")))
    twice = dataclasses.replace(
        ds, engineers=ds.engineers.with_columns(pl.col("team").alias("TEAM"))
    )
    with pytest.raises(ck.CertkitError, match="table engineers: duplicate column name.*team"):
        panel(lazy(twice))


def test_a_progress_bar_follows_the_buckets_of_a_big_panel(awk, capsys):
    ds, _ = awk
    panel(lazy(ds), buckets=3)
    err = capsys.readouterr().err
    assert "panel: 100%" in err and "6/6" in err and "engineer bucket 3/3" in err
    panel(lazy(ds), buckets=3, progress=False)
    panel(ds)  # one bucket: no bar by default
    assert capsys.readouterr().err == ""
    panel(ds, progress=True)
    assert "2/2" in capsys.readouterr().err


def test_a_folder_gives_the_same_panel_loaded_or_scanned(awk, tmp_path):
    """The rules of ``certkit load`` hold where the data lives too: an unknown ``is_bot`` is
    false, an id ending in ``[bot]`` is a bot whatever ``is_bot`` says, platforms are read in
    lower case (unknown ones as ``other``), the certification id comes from the names (a
    file's own ``certification_id`` column is not used), a PR merged before its creation is
    left out and a review before creation is unknown."""
    ds, _ = awk
    eng = ds.engineers.with_row_index("_i")
    eng = eng.with_columns(
        pl.when(pl.col("_i") % 3 == 0).then(None).otherwise(pl.col("is_bot")).alias("is_bot"),
        pl.when(pl.col("_i") % 4 == 0)
        .then(pl.col("platform").str.to_uppercase())
        .when(pl.col("_i") % 4 == 1)
        .then(pl.lit("on-prem"))
        .otherwise(pl.col("platform"))
        .alias("platform"),
    ).drop("_i")
    eng = eng.with_columns(  # the bot says it is not one
        pl.when(pl.col("engineer_id").str.ends_with("[bot]"))
        .then(False)
        .otherwise(pl.col("is_bot"))
        .alias("is_bot")
    )
    prs = ds.pull_requests.with_columns(pl.col("repo").fill_null("extra")).with_row_index("_i")
    merged = pl.col("merged_date").is_not_null()
    prs = prs.with_columns(  # a few PRs merged, and a few reviewed, before their creation
        pl.when(merged & (pl.col("_i") % 97 == 0))
        .then(pl.col("created_date") - timedelta(hours=1))
        .otherwise(pl.col("merged_date"))
        .alias("merged_date"),
        pl.when(pl.col("_i") % 89 == 0)
        .then(pl.col("created_date") - timedelta(minutes=5))
        .otherwise(pl.col("first_review_date"))
        .alias("first_review_date"),
    ).drop("_i")
    certs = ds.certifications.with_columns(pl.lit("ignored").alias("certification_id"))
    changed = dataclasses.replace(ds, engineers=eng, pull_requests=prs, certifications=certs)
    folder = to_parquet_folder(changed, tmp_path / "org")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CertkitWarning)
        loaded = ck.load(folder)
    expected = panel(loaded)
    assert set(expected["platform"].drop_nulls()) <= {"aws", "gcp", "azure", "databricks", "other"}
    assert "other" in set(expected["platform"])
    assert not expected["engineer_id"].str.ends_with("[bot]").any()
    assert expected["engineer_id"].n_unique() == panel(ds)["engineer_id"].n_unique()
    assert "ignored" not in set(expected["certification"])
    same(expected, panel(open_dataset(folder, "polars"), streaming=True))
    same(expected, panel(open_dataset(folder, "duckdb")))
