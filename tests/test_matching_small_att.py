"""Matched ATTs that cannot have a standard error say why (trial T, gemini-cli): the docs'
matching snippet kept 2 matched pairs; ``.att(..., covariates=["role", "level"])`` gave an
estimate with SE, p-value and interval all NaN and no word why, and the sensitivity summary
headed an effect with p = 0.46 with "E-value: 45.5"."""

from __future__ import annotations

import polars as pl
import pytest

from certkit.errors import CertkitError
from certkit.matching.effect import estimate_att
from certkit.matching.sensitivity import SensitivityResult

DATA = pl.DataFrame(
    {
        "t": [1, 0, 1, 0, 1, 0],
        "y": [3.0, 1.0, 5.0, 2.0, 4.0, 1.0],
        "role": ["a", "a", "b", "b", "a", "a"],
        "level": ["x", "y", "x", "x", "y", "y"],
        "subclass": [1, 1, 2, 2, 3, 3],
        "weights": [1.0] * 6,
    }
)
KW = {"treatment": "t", "outcome": "y", "weights": "weights", "cluster": "subclass"}


def test_no_residual_degrees_of_freedom_is_refused_in_words():
    with pytest.raises(CertkitError, match="4 rows for 4 identified coefficients") as err:
        estimate_att(DATA.head(4), covariates=["role", "level"], **KW)
    assert "drop covariates" in str(err.value)


def test_a_covariate_that_reproduces_the_treatment_is_refused():
    with pytest.raises(CertkitError, match="reproduce the treatment"):
        estimate_att(DATA.with_columns(pl.col("t").alias("tt")), covariates=["tt"], **KW)


def test_an_aliased_covariate_changes_nothing_as_in_r_lm():
    """R's lm drops an aliased column: the estimate and its cluster-robust SE (whose
    small-sample correction counts the rank, not the columns) are those without it."""
    one = estimate_att(DATA, covariates=["role"], **KW)
    two = estimate_att(
        DATA.with_columns(pl.col("role").alias("role2")), covariates=["role", "role2"], **KW
    )
    assert two.estimate == pytest.approx(one.estimate) and two.se == pytest.approx(one.se)


def test_the_sensitivity_header_gives_the_confidence_limit_e_value_too():
    table = pl.DataFrame(
        {"gamma": [1.0], "p_upper": [0.46], "significant": [False], "n_pairs": [2]}
    )
    res = SensitivityResult("merged_prs", table, critical_gamma=1.0, e_value=45.5, e_value_ci=1.0)
    assert res._header()["E-value"] == (
        "45.5 (estimate); 1 (confidence limit); not significant even without a hidden factor: "
        "nothing to explain away"
    )
    assert "effect not significant at gamma 1" in repr(res)  # trial Y: "E-value 2.87" alone


def test_rows_all_treated_say_there_is_nothing_to_compare():
    """review E (E9): with every control at weight 0 the refusal blamed "the covariates []"."""
    data = DATA.with_columns(pl.when(pl.col("t") == 0).then(0.0).otherwise(1.0).alias("weights"))
    with pytest.raises(CertkitError, match="all 3 rows with a weight above 0 are treated"):
        estimate_att(data, covariates=[], **KW)
