"""The ATT as the treatment coefficient of a weighted regression with robust standard errors."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from certkit.errors import CertkitError, require_polars
from certkit.matching.design import design_matrix, treatment_vector
from certkit.results import EstimateMixin, tidy_frame
from certkit.stats.vcov import critical_value, level_from_alpha, wls


@dataclass(repr=False)
class ATTResult(EstimateMixin):
    """Average treatment effect on the treated from a (matched) weighted regression."""

    estimate: float
    se: float
    ci: tuple[float, float]
    n: int
    n_treated: int
    n_control: int
    outcome: str
    vcov: str
    covariates: list[str] = field(default_factory=list)
    level: float = 0.95
    warnings: list[str] = field(default_factory=list)
    title: str = "ATT on the matched sample"

    def tidy(self) -> pl.DataFrame:
        """Contract table: one row, term ``ATT``, with ``n`` (treated + control rows)."""
        return tidy_frame("ATT", self.estimate, self.se, *self.ci, n=self.n)

    def _header(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "standard errors": self.vcov,
            "regression covariates": ", ".join(self.covariates) or "none (difference in means)",
            "n (treated / control)": f"{self.n} ({self.n_treated} / {self.n_control})",
        }

    def to_polars(self) -> pl.DataFrame:
        """:meth:`tidy` with the ``outcome`` column after ``term``."""
        return (
            self.tidy()
            .with_columns(pl.lit(self.outcome).alias("outcome"))
            .select("term", "outcome", *self.tidy().columns[1:])
        )


def estimate_att(
    data: pl.DataFrame,
    *,
    treatment: str,
    outcome: str,
    covariates: list[str] | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    vcov: str = "HC1",
    level: float = 0.95,
) -> ATTResult:
    """ATT as the treatment coefficient of a weighted linear regression.

    ``lm(outcome ~ treatment + covariates, weights = weights)`` with robust standard errors:
    cluster-robust on ``cluster`` (``sandwich::vcovCL``, HC1 with the G/(G-1) correction) when a
    cluster column is given, else ``vcov`` in HC0, HC1, HC2 or HC3. Rows with zero weight are
    left out. Without covariates and with HC2 this is the difference in means with Neyman's SE.
    ``level`` is the confidence level.
    """
    level = level_from_alpha(level, None)
    table = "data"
    require_polars(data, "data", "one row per unit")
    t = treatment_vector(data, treatment, table)
    if outcome not in data.columns:
        raise CertkitError(
            f"{table}: outcome column {outcome!r} not found; columns are {data.columns[:30]}"
        )
    y = data[outcome].cast(pl.Float64, strict=False).to_numpy()
    if np.isnan(y).any() or data[outcome].null_count():
        raise CertkitError(
            f"{table}.{outcome}: {int(np.isnan(y).sum())} missing outcome value(s); "
            "drop those rows first"
        )
    w = (
        np.ones(data.height)
        if weights is None
        else data[weights].cast(pl.Float64).fill_null(0).to_numpy()
    )
    keep = w > 0
    covariates = list(covariates or [])
    d = design_matrix(data.filter(pl.Series(keep)), covariates, table) if covariates else None
    X = np.column_stack([np.ones(keep.sum()), t[keep].astype(float)])
    if d is not None and d.model.shape[1]:
        X = np.column_stack([X, d.model])
    _check_identified(X, covariates, table)
    cl = data[cluster].to_numpy()[keep] if cluster is not None else None
    beta, V = wls(y[keep], X, w[keep], cl, vcov)
    se = float(math.sqrt(V[1, 1]))
    z = critical_value(level)
    est = float(beta[1])
    label = f"cluster-robust on {cluster} (HC1, G/(G-1))" if cluster else vcov
    return ATTResult(
        estimate=est,
        se=se,
        ci=(est - z * se, est + z * se),
        n=int(keep.sum()),
        n_treated=int((t[keep] == 1).sum()),
        n_control=int((t[keep] == 0).sum()),
        outcome=outcome,
        vcov=label,
        covariates=covariates,
        level=level,
    )


def _check_identified(X: np.ndarray, covariates: list[str], table: str) -> None:
    """Refuse a regression whose treatment effect has no standard error: no residual degrees
    of freedom (trial T: 2 matched pairs with role and level, an estimate with SE, p-value and
    interval all NaN and no word why; R's ``lm`` prints NaN), or a treatment column the
    covariates reproduce. Covariates aliased with each other are left to the fit, as R's
    ``lm`` drops them."""
    n, k = X.shape
    treated = int(X[:, 1].sum())
    if treated in (0, n):  # review E: every control at weight 0 blamed the covariates
        raise CertkitError(
            f"{table}: all {n} rows with a weight above 0 are "
            f"{'treated' if treated else 'untreated'}: there is nothing to compare them with"
        )
    rank = int(np.linalg.matrix_rank(X))
    fix = "drop covariates, or keep more matched pairs (a wider caliper, more data)"
    what = f"intercept, treatment and {k - 2} column(s) of covariates {covariates}"
    if n <= rank:
        raise CertkitError(
            f"{table}: {n} rows for {rank} identified coefficients ({what}): no residual "
            f"degrees of freedom, so no standard error; {fix}"
        )
    if int(np.linalg.matrix_rank(np.delete(X, 1, axis=1))) == rank:
        raise CertkitError(
            f"{table}: the covariates {covariates} reproduce the treatment among the {n} rows, "
            f"so its effect is not identified; {fix}"
        )
