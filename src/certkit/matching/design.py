"""Input checks and design matrices for matching (R formula-style expansion of categoricals)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from certkit.errors import CertkitError


def checked_column(data: pl.DataFrame, col: str, role: str, table: str, hint: str) -> pl.Series:
    """Column ``col`` of ``data``; a clear error when it is missing or has nulls (``hint``
    says what to do about them)."""
    if col not in data.columns:
        raise CertkitError(f"{table}: {role} column {col!r} not found")
    s = data[col]
    if s.null_count():
        row = int(s.is_null().arg_true()[0])
        raise CertkitError(
            f"{table}.{col}: {s.null_count()} missing value(s) (first at row {row}); {hint}"
        )
    return s


def treatment_vector(data: pl.DataFrame, treatment: str, table: str) -> np.ndarray:
    """The 0/1 treatment column as ``int8``; a clear error for anything else."""
    s = checked_column(
        data, treatment, "treatment", table, "the treatment must be 0/1 or true/false for every row"
    )
    if s.dtype == pl.Boolean:
        return s.to_numpy().astype(np.int8)
    if not s.dtype.is_numeric():
        raise CertkitError(f"{table}.{treatment}: expected 0/1 or true/false, got {s.dtype}")
    v = s.to_numpy()
    bad = ~np.isin(v, (0, 1))
    if bad.any():
        value = v[bad][0].item()  # a Python number: "np.int32(36)" read badly (trial F)
        hint = (
            f" (a cohort or period column? give a 0/1 column, e.g. ({treatment} > 0))"
            if float(value).is_integer() and value > 1
            else ""
        )
        raise CertkitError(
            f"{table}.{treatment}: expected only 0/1 values; row {int(np.argmax(bad))} "
            f"(counting from 0) has {value!r}{hint}"
        )
    return v.astype(np.int8)


@dataclass
class Design:
    model: np.ndarray  # propensity / regression design, reference levels dropped
    model_names: list[str]
    balance: np.ndarray  # every level of every categorical
    balance_names: list[str]
    numeric: list[bool]
    raw: list[np.ndarray]  # per covariate: float values or integer level codes
    _codes: np.ndarray | None = None

    @property
    def codes(self) -> np.ndarray:
        """Integer code per covariate (for exact / CEM strata); computed on first use."""
        if self._codes is None:
            n = self.model.shape[0]
            cols = [
                np.unique(x, return_inverse=True)[1].ravel() if num else x
                for x, num in zip(self.raw, self.numeric, strict=True)
            ]
            self._codes = np.column_stack(cols) if cols else np.zeros((n, 0), int)
        return self._codes


def design_matrix(data: pl.DataFrame, covariates: list[str], table: str) -> Design:
    """Model (reference levels dropped) and balance (every level) matrices of ``covariates``."""
    n = data.height
    model_cols, model_names, bal_cols, bal_names, raw, numeric = [], [], [], [], [], []
    for c in covariates:
        s = checked_column(data, c, "covariate", table, "fill or drop them before matching")
        if s.dtype in (pl.String, pl.Categorical, pl.Enum):
            s = s.cast(pl.String)
            # levels in code-point order (as np.unique); codes 0..L-1 by that order
            levels = s.unique().sort().to_list()
            inv = (s.rank("dense") - 1).cast(pl.Int64).to_numpy()
            for j, lev in enumerate(levels):
                col = (inv == j).astype(float)
                bal_cols.append(col)
                bal_names.append(f"{c}{lev}")
                if j > 0:
                    model_cols.append(col)
                    model_names.append(f"{c}{lev}")
            raw.append(inv)
            numeric.append(False)
        elif s.dtype == pl.Boolean or s.dtype.is_numeric():
            x = s.cast(pl.Float64).to_numpy()
            if not np.isfinite(x).all():
                row = int(np.argmax(~np.isfinite(x)))
                raise CertkitError(f"{table}.{c}: non-finite value at row {row}")
            model_cols.append(x)
            model_names.append(c)
            bal_cols.append(x)
            bal_names.append(c)
            raw.append(x)
            numeric.append(True)
        else:
            raise CertkitError(f"{table}.{c}: unsupported type {s.dtype} for a covariate")
    as_mat = lambda cols: np.column_stack(cols) if cols else np.empty((n, 0))  # noqa: E731
    return Design(as_mat(model_cols), model_names, as_mat(bal_cols), bal_names, numeric, raw)


def group_codes(codes: np.ndarray) -> np.ndarray:
    """One integer per distinct row of ``codes`` (strata for exact matching)."""
    if codes.shape[1] == 0:
        return np.zeros(codes.shape[0], dtype=np.int64)
    return np.unique(codes, axis=0, return_inverse=True)[1].ravel()


def split_strata(strata: np.ndarray) -> list[np.ndarray]:
    o = np.argsort(strata, kind="stable")
    cuts = np.flatnonzero(np.diff(strata[o])) + 1
    return np.split(o, cuts)


def cem_codes(data, covariates, design) -> np.ndarray:
    """Coarsen numeric covariates into Sturges equal-width bins (MatchIt ``method = "cem"``)."""
    n = data.height
    out = []
    for j, c in enumerate(covariates):
        if design.numeric[j]:
            x = data[c].cast(pl.Float64).to_numpy()
            bins = math.ceil(math.log2(n) + 1)
            breaks = np.linspace(x.min(), x.max(), bins + 1)
            breaks[0], breaks[-1] = -np.inf, np.inf
            out.append(np.searchsorted(breaks, x, side="right"))
        else:
            out.append(design.codes[:, j])
    return np.column_stack(out)
