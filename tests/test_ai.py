"""certkit.ai: FE regression vs statsmodels, planted AI effects, trust scores, fix-first."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy.stats import mannwhitneyu
from statsmodels.stats.multitest import multipletests

import certkit as ck
from certkit import ai
from certkit.analytics import ai_prs
from certkit.errors import CertkitError
from certkit.stats.fe import fe_ols
from certkit.stats.multiple import benjamini_hochberg, mantel_haenszel_rr


@pytest.fixture(scope="module")
def sample():
    return ck.load_sample()


@pytest.fixture(scope="module")
def prs(sample):
    return ai.pr_table(sample)


# -- estimator parity -----------------------------------------------------------------------


def _dummies(codes: np.ndarray) -> np.ndarray:
    levels = np.unique(codes)
    return (codes[:, None] == levels[None, 1:]).astype(float)


@pytest.fixture(params=["small factors", "alternating projections"])
def fe_path(request, monkeypatch) -> str:
    """Both paths of ``fe_ols``: small factors partialled out exactly, or every factor
    absorbed by alternating projections (beyond ``MAX_DUMMIES`` levels; bounded to 0 here)."""
    if request.param == "alternating projections":
        monkeypatch.setattr("certkit.stats.fe.MAX_DUMMIES", 0)
    return request.param


def _matches_statsmodels(fit, y: np.ndarray, X: np.ndarray, groups: np.ndarray) -> None:
    """``fit``'s coefficients and clustered SEs equal statsmodels' OLS of ``y`` on ``X``."""
    ref = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups})
    p = len(fit.coef)
    np.testing.assert_allclose(fit.coef, ref.params[:p], rtol=1e-7)
    np.testing.assert_allclose(fit.se(), ref.bse[:p], rtol=1e-6)


def test_fe_ols_matches_statsmodels_dummy_regression(fe_path):
    """Coefficient and clustered SE equal an OLS with dummies (statsmodels, cluster SE), on
    both paths."""
    rng = np.random.default_rng(1)
    n = 1200
    author = rng.integers(0, 40, n)
    month = rng.integers(0, 60, n)
    x1 = rng.normal(size=n) + 0.3 * author / 40
    x2 = rng.normal(size=n)
    y = 0.5 * x1 - 0.2 * x2 + author / 10 + np.sin(month) + rng.normal(size=n)
    fit = fe_ols(y, np.column_stack([x1, x2]), ["x1", "x2"], [author, month], author)
    X = np.column_stack([x1, x2, np.ones(n), _dummies(author), _dummies(month)])
    _matches_statsmodels(fit, y, X, author)


def test_fe_ols_with_collinear_fixed_effects_matches_statsmodels(fe_path):
    """Repositories only one author works in (their dummy is the author's) and two that
    together hold exactly two authors' PRs (a sum of dummies) are common in a real
    organisation: the fit is statsmodels' rank-deficient OLS with dummies (its pseudo-inverse),
    not an error saying the regressor does not vary."""
    rng = np.random.default_rng(7)
    n = 3000
    author = rng.integers(0, 60, n)
    repo = rng.integers(0, 8, n)
    repo[author == 0] = 8  # one author's own repository
    pair = np.isin(author, [1, 2])
    repo[pair] = np.where(rng.random(n) < 0.5, 9, 10)[pair]  # two repositories of two authors
    month = rng.integers(0, 18, n)
    ai_flag = (rng.random(n) < 0.3 + 0.004 * author).astype(float)
    y = 0.3 * ai_flag + author / 20 + 0.2 * repo + np.cos(month) + rng.normal(size=n)
    fit = fe_ols(y, ai_flag, ["ai"], [author, repo, month], author)
    X = np.column_stack([ai_flag, np.ones(n), _dummies(author), _dummies(repo), _dummies(month)])
    assert np.linalg.matrix_rank(X) < X.shape[1]  # the case: dummies are collinear
    _matches_statsmodels(fit, y, X, author)


def test_fe_ols_says_when_the_regressor_does_not_vary_within_the_fixed_effects(fe_path):
    rng = np.random.default_rng(8)
    n = 800
    author = rng.integers(0, 30, n)
    repo = rng.integers(0, 5, n)
    ai_flag = (author % 2).astype(float)  # an author's PRs are all AI or all not
    y = ai_flag + rng.normal(size=n)
    with pytest.raises(CertkitError, match="do not vary within the fixed effects"):
        fe_ols(y, ai_flag, ["ai"], [author, repo], author)


def test_fe_ols_drops_a_control_that_is_constant_within_the_fixed_effects(fe_path):
    """A certification earned before the data's window is constant within author: as a
    control it is absorbed by the author effect, and the fit is that without it (fixest drops
    such a variable too), not an error."""
    rng = np.random.default_rng(9)
    n = 2500
    author = rng.integers(0, 50, n)
    repo = rng.integers(0, 6, n)
    ai_flag = (rng.random(n) < 0.4).astype(float)
    size = rng.normal(size=n)
    cert = (author < 12).astype(float)
    y = 0.3 * ai_flag + 0.2 * size + author / 10 + rng.normal(size=n)
    with_cert = fe_ols(y, np.column_stack([ai_flag, cert, size]), ["ai"], [author, repo], author)
    without = fe_ols(y, np.column_stack([ai_flag, size]), ["ai"], [author, repo], author)
    np.testing.assert_allclose(with_cert.coef, without.coef, rtol=1e-9)
    np.testing.assert_allclose(with_cert.se(), without.se(), rtol=1e-9)


def test_fe_ols_without_fixed_effects_is_plain_ols():
    rng = np.random.default_rng(2)
    n = 300
    g = rng.integers(0, 30, n)
    x = rng.normal(size=n)
    y = 1 + 2 * x + rng.normal(size=n)
    fit = fe_ols(y, x[:, None], ["x"], [], g)
    ref = sm.OLS(y, sm.add_constant(x)).fit(cov_type="cluster", cov_kwds={"groups": g})
    assert fit.coef[0] == pytest.approx(ref.params[1], rel=1e-10)
    assert fit.se()[0] == pytest.approx(ref.bse[1], rel=1e-8)


def test_benjamini_hochberg_matches_statsmodels():
    p = np.random.default_rng(3).uniform(size=50) ** 3
    ours = benjamini_hochberg(np.append(p, np.nan))
    ref = multipletests(p, method="fdr_bh")[1]
    np.testing.assert_allclose(ours[:-1], ref, rtol=1e-12)
    assert np.isnan(ours[-1])


def test_mantel_haenszel_single_stratum_is_simple_risk_ratio():
    a, n1, b, n0 = 12, 100, 8, 200
    rr, se = mantel_haenszel_rr([a], [n1], [b], [n0])
    assert rr == pytest.approx((a / n1) / (b / n0))
    assert se == pytest.approx(np.sqrt(1 / a - 1 / n1 + 1 / b - 1 / n0))


def test_mantel_haenszel_removes_confounding_by_stratum():
    # same RR = 2 in each stratum, very different AI shares and base rates: crude RR is not 2
    a, n1, b, n0 = [2, 360], [10, 900], [10, 18], [100, 90]
    rr, _ = mantel_haenszel_rr(a, n1, b, n0)
    assert rr == pytest.approx(2.0)
    crude = (sum(a) / sum(n1)) / (sum(b) / sum(n0))
    assert abs(crude - 2) > 0.5


# -- AI vs non-AI on the sample and on simulations --------------------------------------------


def test_pr_table_columns_and_bots_left_out(sample, prs):
    assert not prs["author_id"].str.ends_with("[bot]").any()
    assert (
        prs.height
        == sample.pull_requests.filter(~pl.col("author_id").str.ends_with("[bot]")).height
    )
    merged = prs.filter(pl.col("merged"))
    assert merged["reverted"].null_count() == 0
    # defect flag agrees with the defects table
    linked = sample.defects["pr_id"].drop_nulls().unique()
    assert int(merged["defect"].sum()) == merged.filter(pl.col("id").is_in(linked.implode())).height


def test_compare_sample_recovers_size_effect_and_shows_selection(sample, prs):
    res = ai.compare(prs, outcomes=("cycle_time_log", "size_log"))
    size = res.effect("size_log")
    # planted: AI PRs have 1.5x the lines (log 1.5 = 0.405)
    assert abs(size["estimate"] - np.log(1.5)) < 3 * size["se"] + 0.01
    ct, naive = res.effect("cycle_time_log"), res.effect("cycle_time_log", "naive")
    # juniors adopt AI more and are slower, AI PRs are larger: the naive gap is biased upward
    assert naive["estimate"] - ct["estimate"] > 0.05
    assert ct["ci_high"] < 0
    assert res.effect("cycle_time_log", "certified_extra")["se"] > 0
    assert "naive gap" in res.summary()
    assert res.plot().to_dict()["facet"]


def test_compare_when_every_certification_predates_the_data(sample):
    """Certifications earned years before the PRs (usual in a real organisation) make
    ``certified`` constant within author: the comparison still runs on every outcome (it
    said "ai does not vary within the fixed effects" and compared nothing)."""
    import dataclasses

    earned = pl.date(2015, 1, 1).cast(sample.certifications.schema["earned_date"])
    early = dataclasses.replace(
        sample, certifications=sample.certifications.with_columns(earned.alias("earned_date"))
    )
    prs = ai.pr_table(early)
    assert prs.group_by("author_id").agg(pl.col("certified").n_unique() == 1)[:, 1].all()
    res = ai.compare(prs, outcomes=("cycle_time_log", "reverted"))
    for outcome in ("cycle_time_log", "reverted"):
        adjusted = res.effect(outcome)
        assert np.isfinite(adjusted["estimate"]) and adjusted["se"] > 0


def test_compare_recovers_planted_cycle_time_effect_with_coverage():
    """Over simulated organisations the within-author estimate is unbiased with ~95% coverage."""
    est, cover, naive = [], [], []
    truth = -0.15
    for seed in range(12):
        ds = ck.simulate(120, 12, seed=seed, ai_effect_cycle_time=truth)
        res = ai.compare(ds, outcomes=("cycle_time_log",), by_certification=False)
        r = res.effect("cycle_time_log")
        est.append(r["estimate"])
        cover.append(r["ci_low"] <= truth <= r["ci_high"])
        naive.append(res.effect("cycle_time_log", "naive")["estimate"])
    assert abs(np.mean(est) - truth) < 0.02
    assert np.mean(cover) >= 0.75  # 12 reps: P(<= 8 of 12 covered | 95%) ~ 0.002
    assert np.mean(naive) - truth > 0.05  # naive biased in the planted direction


def test_compare_bad_input():
    with pytest.raises(CertkitError, match="unknown outcome"):
        ai.compare(ck.simulate(20, 4, seed=1), outcomes=("speed",))
    ds = ck.simulate(20, 4, seed=1)
    ds.pull_requests = ds.pull_requests.with_columns(pl.lit(None, pl.Float64).alias("ai_assisted"))
    with pytest.raises(CertkitError, match="ai_assisted"):
        ai.pr_table(ds)


def test_pr_frame_input_is_checked(prs):
    """A frame passed instead of a Dataset must be pr_table's output: a frame that lacks one of
    its columns, or another object, gets a CertkitError naming what is missing."""
    assert set(prs.columns) == set(ai_prs._PR_COLUMNS)
    for fn in (ai.compare, ai.adoption, ai.trust_scores, ai.fix_first):
        with pytest.raises(CertkitError, match=r"missing column\(s\) \['team'\]"):
            fn(prs.drop("team"))
        with pytest.raises(CertkitError, match="pr_table"):
            fn(prs.to_dicts())


# -- adoption ----------------------------------------------------------------------------------


def test_adoption_counts_and_suppression(prs):
    res = ai.adoption(prs, by="team", period="quarter")
    t = res.to_polars()
    row = t.filter(~pl.col("suppressed")).row(0, named=True)
    d = prs.filter(
        (pl.col("team") == row["team"])
        & (pl.col("month").dt.truncate("1q") == row["period"])
        & pl.col("ai").is_not_null()
    )
    assert row["n_prs"] == d.height
    assert row["ai_share"] == pytest.approx(d["ai"].mean())
    # AI adoption grows over time in the simulator
    by_q = t.group_by("period").agg(pl.col("ai_share").mean()).sort("period")
    assert by_q["ai_share"][-1] > by_q["ai_share"][0] + 0.2
    strict = ai.adoption(prs, by="platform", k=1000).to_polars()
    assert strict["suppressed"].all() and strict["ai_share"].null_count() == strict.height
    assert res.plot().to_dict()["mark"]["type"] == "rect"
    with pytest.raises(CertkitError, match="by must be"):
        ai.adoption(prs, by="name")


# -- trust scores ----------------------------------------------------------------------------------


def test_trust_scores_rank_planted_unsafe_engineers(sample, prs):
    res = ai.trust_scores(prs)
    t = res.to_polars().with_columns(
        pl.col("engineer_id").is_in(sample.truth["unsafe_ai_engineers"]).alias("unsafe")
    )
    unsafe = t.filter(pl.col("unsafe"))["risk_ratio"].to_numpy()
    safe = t.filter(~pl.col("unsafe"))["risk_ratio"].to_numpy()
    auc = mannwhitneyu(unsafe, safe).statistic / (unsafe.size * safe.size)
    assert auc > 0.9
    assert (
        t.filter(pl.col("unsafe"))["trust_score"].mean()
        < t.filter(~pl.col("unsafe"))["trust_score"].mean()
    )
    # the organisation-wide ratio is 1 by construction
    assert t["observed"].sum() == pytest.approx(t["expected"].sum())
    assert "private" in res.summary()
    team = res.by_team()
    assert (team["n_engineers"] >= 5).all()
    # a team ratio on fewer than 5 bad PRs, observed and expected, is not shown (trial X:
    # "core" 2.16 times riskier on one reverted PR against 0.46 expected)
    few = (team["observed"] < 5) & (team["expected"] < 5)
    assert team.filter(few)["team_risk_ratio"].null_count() == few.sum()
    assert team.filter(few)["median_trust_score"].null_count() == few.sum()
    assert team.filter(~few)["team_risk_ratio"].null_count() == 0
    one = res.by_team(min_events=1e9)
    assert one["team_risk_ratio"].null_count() == one.height
    assert one["median_trust_score"].null_count() == one.height


def test_trust_scores_shrink_low_volume_engineers(prs):
    t = ai.trust_scores(prs).to_polars()
    # posterior lies between the raw ratio and the team prior mean
    assert (
        (t["risk_ratio"] - t["team_ratio"]).abs() <= (t["raw_ratio"] - t["team_ratio"]).abs() + 1e-9
    ).all()
    assert ((t["ci_low"] <= t["risk_ratio"]) & (t["risk_ratio"] <= t["ci_high"])).all()
    # shrinkage is stronger (posterior closer to prior, relative to raw) for fewer AI PRs
    pull = (t["risk_ratio"] - t["raw_ratio"]).abs() / (
        (t["team_ratio"] - t["raw_ratio"]).abs() + 1e-12
    )
    q = t["ai_prs"].quantile(0.25), t["ai_prs"].quantile(0.75)
    low = pull.filter(t["ai_prs"] <= q[0]).median()
    high = pull.filter(t["ai_prs"] >= q[1]).median()
    assert low > high
    width = (t["ci_high"] - t["ci_low"]) / t["risk_ratio"]
    assert width.filter(t["ai_prs"] <= q[0]).median() > width.filter(t["ai_prs"] >= q[1]).median()


def test_coaching_pairs_need_confirmation_and_match_platform(sample):
    with pytest.raises(CertkitError, match="individuals=True"):
        ai.coaching_pairs(sample)
    res = ai.coaching_pairs(sample, individuals=True)
    t = res.to_polars()
    assert t.height > 0
    plat = dict(sample.engineers.select("engineer_id", "platform").iter_rows())
    assert all(
        plat[c] == plat[ln] == p
        for c, ln, p in t.select("coach_id", "learner_id", "platform").iter_rows()
    )
    assert t["coach_id"].value_counts()["count"].max() <= 2
    assert not set(t["coach_id"]) & set(sample.truth["unsafe_ai_engineers"])


# -- fix-first ---------------------------------------------------------------------------------------


def test_fix_first_finds_planted_bad_cells(sample, prs):
    truth = {(c["team"], c["repo"]) for c in sample.truth["bad_ai_cells"]}
    res = ai.fix_first(prs)
    top = set(res.to_polars().head(len(truth)).select("team", "repo").iter_rows())
    assert top == truth
    org = ai.fix_first(prs, against="org")
    flagged = set(org.flagged().select("team", "repo").iter_rows())
    assert truth <= flagged
    assert len(flagged) <= len(truth) + 3  # few false discoveries at FDR 5%
    assert org.reference_rr > 1  # the planted org-wide AI defect multiplier (1.3)
    assert res.plot().to_dict()["mark"]["type"] == "bar"
    with pytest.raises(CertkitError, match="against"):
        ai.fix_first(prs, against="team")


def _pr_frame(ai_by_month: bool, n_authors: int = 4, months: int = 6) -> pl.DataFrame:
    """A PR table where AI use is (or is not) decided by the month alone (absorbed by its FE)."""
    rng = np.random.default_rng(3)
    rows = []
    for a in range(n_authors):
        for m in range(months):
            for j in range(4):
                ai_flag = m < months // 2 if ai_by_month else j % 2 == 0
                rows.append(
                    {
                        "id": f"{a}-{m}-{j}",
                        "author_id": f"a{a}",
                        "team": "t",
                        "platform": "aws",
                        "role": "r",
                        "level": "l",
                        "repo": "repo",
                        "month": f"2025-{m + 1:02d}-01",
                        "ai": ai_flag,
                        "merged": True,
                        "cycle_time_log": float(rng.normal(2, 1)),
                        "pickup_time_log": None,
                        "size_log": float(rng.normal(3, 1)),
                        "reverted": 0.0,
                        "defect": float(rng.random() < 0.2),
                        "incident": 0.0,
                        "certified": 0.0,
                        "bad": 0.0,
                    }
                )
    return pl.DataFrame(rows, schema_overrides={"pickup_time_log": pl.Float64})


def test_compare_explains_when_ai_use_is_absorbed_by_the_fixed_effects():
    with (
        pytest.warns(ck.CertkitWarning, match="not compared"),
        pytest.raises(CertkitError, match="no outcome had enough AI-assisted") as err,
    ):
        ai.compare(_pr_frame(True), outcomes=("cycle_time_log",), min_authors=2)
    assert "do not vary within the fixed effects" in str(err.value)
    ok = ai.compare(_pr_frame(False), outcomes=("cycle_time_log",), min_authors=2).to_polars()
    assert set(ok["comparison"]) == {"naive", "adjusted"}
    assert ok["n_certified_authors"].to_list() == [0, 0]


def test_trust_scores_say_how_many_engineers_qualify():
    with pytest.raises(CertkitError, match=r"only 0 engineers have 50 or more AI-assisted"):
        ai.trust_scores(_pr_frame(False), min_ai_prs=50)


def test_rework_outcome_from_the_line_ledger_columns():
    """PRs that carry the git line ledger's churn get a within-author rework comparison."""
    import numpy as np

    ds = ck.load_sample()
    rng = np.random.default_rng(0)
    prs = ds.pull_requests
    share = 0.2 + 0.1 * prs["ai_assisted"].fill_null(0).to_numpy()  # AI PRs: +0.10 reworked
    churned = rng.binomial(prs["additions"].to_numpy(), share)
    with_churn = prs.with_columns(pl.Series("churned_lines_21d", churned))
    ds2 = ck.from_frames(
        engineers=ds.engineers,
        certifications=ds.certifications,
        pull_requests=with_churn,
        defects=ds.defects,
        incidents=ds.incidents,
    )
    res = ck.ai.compare(ds2, by_certification=False)
    row = res.table.filter((pl.col("outcome") == "rework") & (pl.col("comparison") == "adjusted"))
    assert row.height == 1
    est, lo, hi = row.select("estimate", "ci_low", "ci_high").row(0)
    assert lo <= 0.10 <= hi and abs(est - 0.10) < 0.02
    assert "rework" not in ck.ai.compare(ds, by_certification=False).table["outcome"].to_list()
    panel = ck.build_panel(ds2)
    assert panel["rework_rate"].drop_nulls().is_between(0, 1).all()
    assert panel["rework_rate"].null_count() < panel.height


def test_compare_needs_enough_ai_assisted_prs(prs):
    """fastapi: 3 AI-assisted PRs in 3,216 gave 'revert rate about 461% higher on AI-assisted
    PRs'. Below min_ai_prs of either kind an outcome is skipped, with the counts."""
    few = prs.filter(pl.col("reverted").is_not_null()).with_columns(
        (pl.int_range(pl.len()) % 15_000 == 0).alias("ai")
    )  # a handful of AI-assisted PRs, spread over the authors
    n_ai = int(few.filter(pl.col("reverted").is_not_null())["ai"].sum())
    assert 0 < n_ai < 10
    with pytest.raises(CertkitError) as info:
        ai.compare(few, outcomes=("reverted",), by_certification=False)
    assert f"{n_ai:,} AI-assisted and" in str(info.value)
    assert "(at least 10 of each are needed)" in str(info.value)
    assert "reverted: " in str(info.value)  # the outcome is named
    res = ai.compare(
        few, outcomes=("reverted",), by_certification=False, min_ai_prs=n_ai, min_authors=2
    )
    assert res.table.height == 2  # naive and adjusted, when the analyst asks for it
    none = prs.with_columns(pl.lit(False).alias("ai"))
    with pytest.raises(CertkitError, match="0 AI-assisted and"):
        ai.compare(none, outcomes=("reverted",), by_certification=False)


def test_compare_skips_an_outcome_the_data_does_not_record(prs):
    """pydantic-ai has no defects table: defect was compared as "+0 (95% interval 0 to 0)";
    an outcome with one value on every PR is skipped with the reason."""
    res = ai.compare(
        prs.with_columns(pl.lit(0.0).alias("defect")),
        outcomes=("size_log", "defect"),
        by_certification=False,
    )
    assert res.table["outcome"].unique().to_list() == ["size_log"]
    assert any("defect: not compared: it is 0 on every PR" in n for n in res.warnings)


def test_a_rate_gap_below_minus_100_percent_is_said_in_points():
    """pydantic-ai: "revert rate about 562% lower" (a -0.0041 gap on a 0.00072 rate)."""
    from certkit import narrative

    table = pl.DataFrame(
        [
            {"outcome": "reverted", "comparison": c, "estimate": -0.0041, "relative": None}
            | {"p_value": 0.3, "se": 0.004}
            for c in ("naive", "adjusted")
        ]
    )
    (gap,) = narrative.ai_gaps(table)
    assert gap["relative"] is None and gap["estimate"] == -0.0041
    text = narrative.ai_summary(table, None, None)
    assert "0.41 percentage points lower on AI-assisted PRs" in text and "562" not in text


def test_scores_need_at_least_one_bad_event(prs):
    """pydantic-ai (no defects table, no reverts among the scored PRs): every team's trust
    score read 95.2 with 0 observed and 0 expected; now it says there is nothing to score."""
    clean = prs.with_columns(
        pl.lit(False).alias(c) for c in ("bad", "defect", "reverted") if c in prs.columns
    )
    with pytest.raises(CertkitError, match="no merged PR is reverted or linked to a defect"):
        ai.trust_scores(clean)
    with pytest.raises(CertkitError, match="no merged PR is linked to a defect"):
        ai.fix_first(clean)


def test_effect_summary_keeps_the_label_s_capitals(prs):
    """ "Ai minus non-ai gap" (str.capitalize lower-cased the rest of the label)."""
    res = ai.compare(prs, outcomes=("size_log",), by_certification=False)
    assert res.effect_summary().text.startswith("AI minus non-AI gap")


def test_compare_needs_enough_authors_for_clustered_errors():
    """Aider-AI/aider (trial L, L7): 4 authors with both kinds of PR, one with 97% of them,
    gave the revert-rate gap a 95% CI of zero width and p < 0.001 on 22 reverts, and the
    landing page said "worse with AI". Standard errors clustered on 4 authors say nothing."""
    frame = _pr_frame(False)
    n = frame.group_by("author_id").agg(pl.col("ai").n_unique().alias("k")).filter(pl.col("k") == 2)
    assert 2 <= n.height < ai.MIN_AUTHORS
    with (
        pytest.warns(ck.CertkitWarning, match="not compared"),
        pytest.raises(CertkitError, match=f"only {n.height} author") as err,
    ):
        ai.compare(frame, outcomes=("cycle_time_log",))
    assert f"at least {ai.MIN_AUTHORS} are needed" in str(err.value)


def test_trust_tables_order_ties_by_name():
    """Rows that tie on the score come in name order, not in a group-by's order (two runs of
    one report on OpenHands' history listed two teams with a ratio of 0 in either order)."""
    from certkit.analytics.ai_quality import TrustScores

    rows = [
        {"engineer_id": f"{team}{i}", "team": team, "ai_prs": 5, "observed": 0.0}
        for team in ("zeta", "alpha", "mid")
        for i in range(5)
    ]
    table = pl.DataFrame(rows).with_columns(
        expected=pl.lit(1.0),
        expected_own=pl.lit(0.5),
        trust_score=pl.lit(90.0),
        risk_ratio=pl.lit(0.5),
    )
    for _ in range(5):
        shuffled = table.sample(fraction=1.0, shuffle=True)
        res = TrustScores(table=shuffled, outcome="reverted", org_ai_multiplier=1.0,
                          prior_variance=0.1)  # fmt: skip
        assert res.by_team()["team"].to_list() == ["alpha", "mid", "zeta"]


def test_blank_reverted_values_are_not_reverted_unless_no_pr_says():
    """review D2: data marking only the reverted PRs (the others blank) gave a 100% revert
    share on the AI page; a DevLake import, where no PR says (trial R), is unknown."""
    import dataclasses

    import certkit as ck
    from certkit.analytics.ai_prs import pr_table

    ds = ck.simulate(60, 12, seed=3)
    prs = ds.pull_requests
    marked = prs.with_columns(
        pl.when(pl.col("reverted")).then(True).otherwise(None).alias("reverted")
    )
    table = pr_table(dataclasses.replace(ds, pull_requests=marked))
    full = pr_table(ds)
    assert table["reverted"].drop_nulls().mean() == pytest.approx(
        full["reverted"].drop_nulls().mean()
    )
    assert 0 < table["reverted"].drop_nulls().mean() < 0.5
    unknown = prs.with_columns(pl.lit(None, pl.Boolean).alias("reverted"))
    assert pr_table(dataclasses.replace(ds, pull_requests=unknown))["reverted"].null_count() == (
        table.height
    )


def test_a_rare_event_too_few_to_compare_is_said_and_has_no_infinite_ratio(prs):
    """trial Y: ``ai.compare`` printed "reverted ... relative ∞" on 1 reverted AI-assisted PR
    of 30 and none among the compared others, where the report said "too few to compare"."""
    first_ai = prs.filter(pl.col("ai") == 1)["id"][0]
    rare = prs.with_columns(
        pl.when(pl.col("id") == first_ai)
        .then(1)
        .otherwise(0)
        .cast(prs["reverted"].dtype)
        .alias("reverted")
    )
    res = ai.compare(rare, outcomes=("reverted", "size_log"))
    rows = res.to_polars().filter(pl.col("outcome") == "reverted")
    assert rows.height and rows["relative"].is_infinite().sum() == 0
    said = " ".join(res.warnings)
    assert "reverted: 1 of " in said and "too few to compare" in said
    # enough events: nothing said
    assert "too few to compare" not in " ".join(ai.compare(prs, outcomes=("reverted",)).warnings)


def test_trust_scores_refuse_when_no_ai_assisted_pr_went_bad():
    """trial AE (getsentry/sentry-python): with 0 bad AI-assisted PRs, the organisation's
    multiplier was 0, every engineer's expected 0 and every score 95.2, under a caption
    that called it "expected from each engineer's own other PRs"."""
    prs = _pr_frame(False).with_columns(
        bad=pl.when(~pl.col("ai") & (pl.col("id").str.ends_with("-1"))).then(1.0).otherwise(0.0)
    )
    with pytest.raises(CertkitError, match=r"none of the AI-assisted merged PRs of the 4 "):
        ai.trust_scores(prs, min_ai_prs=5)
    with pytest.raises(CertkitError, match=r"against \d+\.\d expected from each engineer's own"):
        ai.trust_scores(prs, min_ai_prs=5)
    # one bad AI-assisted PR: scored, and the own-rate expectation is its own column
    one = prs.with_columns(bad=pl.when(pl.col("id") == "0-0-0").then(1.0).otherwise(pl.col("bad")))
    t = ai.trust_scores(one, min_ai_prs=5).to_polars()
    assert t["observed"].sum() == pytest.approx(t["expected"].sum())  # scaled to the org
    own = one.filter(~pl.col("ai")).group_by("author_id").agg(pl.col("bad").sum(), pl.len())
    assert (t["expected_own"] > 0).all() and t["expected_own"].sum() != pytest.approx(1.0)
    assert own.height == 4
