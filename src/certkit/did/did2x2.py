"""The plain two-group, two-period difference-in-differences."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from certkit.did.prepare import need_columns
from certkit.errors import CertkitError, check_outcome
from certkit.results import EstimateMixin, tidy_frame
from certkit.stats.vcov import critical_value, level_from_alpha, wls


class DiD2x2Result(EstimateMixin):
    """Plain two-group, two-period DiD."""

    title = "Difference-in-differences (2 groups x 2 periods)"

    def __init__(self, estimate, se, means, n_obs, level, outcome=None):
        self.estimate, self.se, self.means, self.n_obs = estimate, se, means, n_obs
        self.level, self.outcome = level, outcome
        z = critical_value(level)
        self.ci = (estimate - z * se, estimate + z * se)
        self.warnings: list[str] = []

    def tidy(self) -> pl.DataFrame:
        """Contract table: one row, term ``treated:post``; ``n`` = observations."""
        return tidy_frame("treated:post", self.estimate, self.se, *self.ci, n=self.n_obs)

    def to_polars(self) -> pl.DataFrame:
        """The four cell means (legacy; the estimate is in :meth:`tidy`)."""
        return self.means

    def _header(self):
        return {
            "DiD estimate": f"{self.estimate:.4f} (SE {self.se:.4f}, CI {self.ci[0]:.4f} to "
            f"{self.ci[1]:.4f})",
            "observations": self.n_obs,
        }


def did_2x2(
    data: pl.DataFrame,
    *,
    outcome: str,
    treated: str,
    post: str,
    unit: str | None = None,
    level: float = 0.95,
    alpha: float | None = None,
) -> DiD2x2Result:
    """Two-group, two-period DiD: (treated after - before) - (control after - before).

    ``treated`` and ``post`` are 0/1 (or boolean) columns. The SE is that of the interaction in
    OLS of the outcome on treated, post and their product, heteroskedasticity-robust (HC1), or
    clustered by ``unit`` when given (for panels with both periods per unit). ``level`` is the
    confidence level (``alpha`` is its deprecated complement).
    """
    level = level_from_alpha(level, alpha)
    need_columns(data, {"outcome": outcome, "treated": treated, "post": post, "unit": unit})
    df = data.select([c for c in (outcome, treated, post, unit) if c]).filter(
        pl.col(outcome).is_not_null()
    )
    check_outcome(df[outcome], outcome)
    for c in (treated, post):
        vals = set(df[c].cast(pl.Float64).unique().to_list())
        if not vals <= {0.0, 1.0} or len(vals) < 2:
            raise CertkitError(f"column {c!r} must take both values 0 and 1, found {sorted(vals)}")
    y = df[outcome].cast(pl.Float64).to_numpy()
    a = df[treated].cast(pl.Float64).to_numpy()
    b = df[post].cast(pl.Float64).to_numpy()
    X = np.column_stack([np.ones_like(y), a, b, a * b])
    cells = {(i, j): int(np.sum((a == i) & (b == j))) for i in (0, 1) for j in (0, 1)}
    empty = [k for k, v in cells.items() if v == 0]
    if empty:
        raise CertkitError(f"no observations in (treated, post) cell(s) {empty}")
    cl = df[unit].to_numpy() if unit else None
    beta, V = wls(y, X, None, cluster=cl, vcov="HC1")
    N = len(y)
    means = (
        df.group_by(treated, post)
        .agg(pl.col(outcome).mean().alias("mean"), pl.len().alias("n"))
        .sort(treated, post)
    )
    return DiD2x2Result(float(beta[3]), float(math.sqrt(V[3, 3])), means, N, level, outcome)
