""":func:`match`: pair certified engineers with comparable peers (MatchIt 4.7 conventions)."""

from __future__ import annotations

import numpy as np
import polars as pl

from certkit.errors import CertkitError, require_polars
from certkit.errors import warn_and_keep as _warn
from certkit.matching.balance import smd_denominator
from certkit.matching.design import (
    cem_codes,
    design_matrix,
    group_codes,
    split_strata,
    treatment_vector,
)
from certkit.matching.nearest import (
    distance_covariates,
    mahalanobis_transform,
    nearest_gaps,
    nn_covariates,
    nn_vector,
    round_up,
)
from certkit.matching.results import MatchResult
from certkit.matching.strata import (
    fill_empty_subclasses,
    renumber,
    weights_from_mm,
    weights_from_subclass,
)
from certkit.stats.glm import EPS, fit_binomial
from certkit.stats.vcov import level_from_alpha

METHODS = ("nearest", "exact", "cem", "subclass")
DISTANCES = ("logit", "probit", "mahalanobis", "euclidean")
ORDERS = ("largest", "smallest", "data", "random")


def match(
    data: pl.DataFrame,
    *,
    treatment: str,
    covariates: list[str],
    method: str = "nearest",
    distance: str = "logit",
    ratio: int = 1,
    replace: bool = False,
    caliper: float | None = None,
    std_caliper: bool = True,
    exact: list[str] | str | None = None,
    order: str = "largest",
    seed: int | None = None,
    subclasses: int = 6,
    outcome: str | list[str] | None = None,
    level: float = 0.95,
    subclass: int | None = None,
    balance_threshold: float = 0.1,
) -> MatchResult:
    """Match treated units to comparable controls.

    Parameters
    ----------
    data
        One row per unit (polars). Never modified.
    treatment
        0/1 (or boolean) column: 1 = treated (e.g. certified).
    covariates
        Columns to balance. Text/categorical columns are expanded to level indicators.
    method
        ``"nearest"`` (greedy nearest neighbour), ``"exact"``, ``"cem"`` (coarsened exact,
        Sturges bins) or ``"subclass"`` (propensity-score subclasses, ``subclasses`` of them).
    distance
        ``"logit"`` / ``"probit"`` propensity score, or ``"mahalanobis"`` / ``"euclidean"``
        on the covariates (nearest only).
    ratio, replace
        Controls per treated unit; reuse controls or not.
    caliper, std_caliper
        Maximum propensity-score distance, in standard deviations of the score when
        ``std_caliper`` (default), else in raw units.
    exact
        Columns that must match exactly (nearest matching within their strata).
    order
        Order in which treated units pick controls: ``"largest"`` score first (MatchIt's
        default), ``"smallest"``, ``"data"`` or ``"random"`` (uses ``seed``).
    subclass
        MatchIt's name for ``subclasses``; accepted as an alias.
    balance_threshold
        After matching, every covariate term's absolute standardized mean difference should be
        at most this (0.1, the usual rule); otherwise the result warns, naming the terms, in
        ``warnings``, ``summary()`` and ``effect_summary()``.
    outcome, level
        Optional outcome column(s) whose ATT ``tidy()``, ``to_polars()``, ``plot()`` and
        ``effect_summary()`` report, with intervals at confidence ``level``; without an
        outcome the result holds the matching and its balance (``.att(outcome)`` later).

    Returns
    -------
    MatchResult
    """
    table = "data"
    if subclass is not None:
        if subclasses not in (6, subclass):
            raise CertkitError(
                f"subclass={subclass!r} and subclasses={subclasses!r} disagree; give one of them"
            )
        subclasses = subclass
    if not isinstance(subclasses, int | np.integer) or subclasses < 1:
        raise CertkitError(f"subclasses must be a positive integer; got {subclasses!r}")
    require_polars(data, "data", "one row per unit, e.g. certkit.matching.baseline_table")
    if method not in METHODS:
        raise CertkitError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if distance not in DISTANCES:
        raise CertkitError(f"distance must be one of {', '.join(DISTANCES)}; got {distance!r}")
    if order not in ORDERS:
        raise CertkitError(f"order must be one of {', '.join(ORDERS)}; got {order!r}")
    if not isinstance(ratio, int | np.integer) or ratio < 1:
        raise CertkitError(f"ratio must be a positive integer; got {ratio!r}")
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    if not covariates:
        raise CertkitError("match() needs at least one covariate")
    exact = [exact] if isinstance(exact, str) else list(exact or [])
    for o in [outcome] if isinstance(outcome, str) else list(outcome or []):
        if o not in data.columns:
            raise CertkitError(
                f"{table}: outcome column {o!r} not found; columns are {data.columns[:30]}"
            )
    if caliper is not None and (not np.isfinite(caliper) or caliper <= 0):
        raise CertkitError(f"caliper must be a positive number; got {caliper!r}")
    if caliper is not None and distance in ("mahalanobis", "euclidean"):
        raise CertkitError(
            "a caliper applies to the propensity score; use distance='logit' or 'probit' with "
            "a caliper, or drop the caliper for covariate distances"
        )
    if method != "nearest" and distance in ("mahalanobis", "euclidean"):
        raise CertkitError(f"distance={distance!r} is only available with method='nearest'")

    treat = treatment_vector(data, treatment, table)
    n1, n0 = int(treat.sum()), int((treat == 0).sum())
    if n1 == 0 or n0 == 0:
        raise CertkitError(
            f"{table}.{treatment}: need both certified (1) and comparison (0) units "
            f"(found {n1} certified, {n0} comparison)"
        )
    design = design_matrix(data, covariates, table)
    notes: list[str] = []

    ps = None
    coef = None
    if distance in ("logit", "probit") and (method in ("nearest", "subclass")):
        ps, coef, converged = fit_binomial(design.model, treat, distance)
        extreme = (ps < 10 * EPS) | (ps > 1 - 10 * EPS)  # R's glm warning rule
        if not converged or extreme.any():
            _warn(
                f"the propensity model shows (quasi-)separation: {int(extreme.sum())} unit(s) "
                "have fitted probabilities of 0 or 1"
                + ("" if converged else " and the fit did not converge")
                + "; some covariate perfectly predicts certification. Drop or coarsen it, or "
                "match exactly on it.",
                notes,
            )
        lo, hi = ps[treat == 0].min(), ps[treat == 0].max()
        outside = int(((ps[treat == 1] < lo) | (ps[treat == 1] > hi)).sum())
        if outside:
            _warn(
                f"limited overlap: {outside} of {n1} certified unit(s) have propensity scores "
                f"outside the controls' range [{lo:.3g}, {hi:.3g}]; their matches will be poor "
                "(consider a caliper).",
                notes,
            )
    elif distance in ("logit", "probit") and method in ("exact", "cem"):
        ps = None

    t_pos = np.flatnonzero(treat == 1)
    mm = None
    sub = None
    cal = None
    if method == "nearest":
        if not replace and n0 < ratio * n1:
            _warn(
                f"too few controls: {n0} controls for {n1} certified at ratio {ratio}:1 without "
                f"replacement; {max(0, n1 * ratio - n0)} requested matches cannot be made. "
                "Lower the ratio or match with replacement.",
                notes,
            )
        if ps is not None and caliper is not None:
            cal = caliper * float(np.std(ps, ddof=1)) if std_caliper else float(caliper)
        strata = group_codes(design_matrix(data, exact, table).codes) if exact else None
        rng = np.random.default_rng(seed)
        Z = None
        if distance == "mahalanobis":
            Z = mahalanobis_transform(distance_covariates(design), treat)
        elif distance == "euclidean":
            Z = distance_covariates(design)
            varies = np.ptp(Z, axis=0) >= np.sqrt(EPS)
            Z = Z[:, varies] if varies.any() else Z[:, :1]
        vec = ps if Z is None else (Z[:, 0] if Z.shape[1] == 1 else None)
        mm = np.full((n1, ratio), -1, dtype=np.int64)
        groups = [np.arange(treat.size)] if strata is None else split_strata(strata)
        row_of = np.empty(treat.size, dtype=np.int64)
        row_of[t_pos] = np.arange(n1)
        for idx in groups:
            tt = treat[idx] == 1
            if not tt.any() or tt.all():
                continue
            t_local = np.flatnonzero(tt)
            eff_order = (
                order
                if (ps is not None and not replace)
                else ("random" if order == "random" else "data")
            )
            if eff_order == "largest":
                t_order = t_local[np.argsort(-ps[idx][t_local], kind="stable")]
            elif eff_order == "smallest":
                t_order = t_local[np.argsort(ps[idx][t_local], kind="stable")]
            elif eff_order == "random":
                t_order = rng.permutation(t_local)
            else:
                t_order = t_local
            if vec is not None:  # a propensity score, or a single covariate (as MatchIt)
                local = nn_vector(vec[idx], tt, t_order.tolist(), ratio, replace, cal)
            else:
                local = nn_covariates(Z[idx], tt, t_order, ratio, replace)
            glob = np.where(local >= 0, idx[np.clip(local, 0, None)], -1)
            mm[row_of[idx[t_local]]] = glob
        weights = weights_from_mm(mm, t_pos, treat)
        matched_t = (mm >= 0).any(axis=1)
        if not replace:
            sub = np.full(treat.size, -1, dtype=np.int64)
            ids = np.cumsum(matched_t) - 1
            sub[t_pos[matched_t]] = ids[matched_t]
            r, c = np.nonzero(mm >= 0)
            sub[mm[r, c]] = ids[r]
        n_lost = int((~matched_t).sum())
        if cal is not None and n_lost > 0.5 * n1:
            gaps = nearest_gaps(ps, treat)
            wider = float(np.quantile(gaps, 0.9))
            if std_caliper:
                wider /= float(np.std(ps, ddof=1))
            _warn(
                f"the caliper dropped {n_lost} of {n1} certified units (more than half); the "
                f"estimate then describes only the remaining {n1 - n_lost}. A caliper of about "
                f"{round_up(wider)}{' SD' if std_caliper else ''} would keep 90% of them.",
                notes,
            )
        elif n_lost:
            _warn(f"{n_lost} of {n1} certified unit(s) found no match and are dropped.", notes)
    elif method in ("exact", "cem"):
        codes = design.codes if method == "exact" else cem_codes(data, covariates, design)
        strata = group_codes(codes)
        has_t = np.bincount(strata[treat == 1], minlength=strata.max() + 1) > 0
        has_c = np.bincount(strata[treat == 0], minlength=strata.max() + 1) > 0
        sub = np.where((has_t & has_c)[strata], strata, -1)
        sub = renumber(sub)
        weights = weights_from_subclass(sub, treat)
        lost = int(((sub < 0) & (treat == 1)).sum())
        if lost == n1:
            raise CertkitError(
                f"no certified unit has an {method} match: every stratum lacks controls. "
                "Use fewer covariates or coarser ones."
            )
        if lost:
            _warn(
                f"{lost} of {n1} certified unit(s) have no control with the same "
                f"{'values' if method == 'exact' else 'coarsened values'} and are dropped.",
                notes,
            )
    else:  # subclass
        if ps is None:
            raise CertkitError("method='subclass' needs a propensity score distance")
        q = np.quantile(ps[treat == 1], np.linspace(0, 1, subclasses + 1))
        cls = np.clip(np.searchsorted(q, ps, side="right"), 1, subclasses)
        sub = renumber(fill_empty_subclasses(cls - 1, treat))
        weights = weights_from_subclass(sub, treat)

    if (weights[treat == 0] > 0).sum() == 0:
        apart = no_overlap_words(data, treatment, covariates, "control", "a treated unit")
        apart = apart or unknown_controls_words(data, treatment, covariates)
        # the exact terms only when the caller gave some (trial N: the report sets none;
        # the rolling matched DiD's own risk-set term "_g" is not the reader's to loosen)
        given = [exact] if isinstance(exact, str) else list(exact or [])
        shown = [e for e in given if not str(e).startswith("_")]
        loosen = "the caliper or the exact terms" if shown else "the caliper"
        raise CertkitError(
            f"no control unit was matched; loosen {loosen}" + (f" ({apart})" if apart else "")
        )

    res = MatchResult(
        data=data,
        treatment=treatment,
        covariates=covariates,
        method=method,
        distance_kind=distance,
        distance=ps,
        coef=coef,
        ratio=ratio,
        replace=replace,
        caliper=cal,
        treat=treat,
        t_pos=t_pos,
        weights=weights,
        subclass=sub,
        match_matrix=mm,
        design=design,
        warnings=notes,
        _balance=None,
        outcome=outcome,
        level=level_from_alpha(level, None),
    )
    alert = balance_alert(matched_smd(design, treat, weights), balance_threshold)
    if alert:
        _warn(alert, notes)
        res.alerts = [alert]
    return res


def matched_smd(design, treat: np.ndarray, weights: np.ndarray) -> pl.DataFrame:
    """Standardized mean differences of every covariate term in the matched sample (the
    ``smd`` of :func:`certkit.matching.balance.balance_table`'s ``"matched"`` rows), without
    the rest of the balance table."""
    B = design.balance
    w = weights
    t, c = (treat == 1) & (w > 0), (treat == 0) & (w > 0)
    diff = (w[t] @ B[t]) / w[t].sum() - (w[c] @ B[c]) / w[c].sum()
    std = np.array([smd_denominator(B[:, j], treat) for j in range(B.shape[1])])
    with np.errstate(divide="ignore", invalid="ignore"):
        smd = np.where(np.abs(diff) > np.sqrt(EPS), diff / std, diff)
    return pl.DataFrame({"term": list(design.balance_names), "smd": smd}).with_columns(
        pl.col("smd").fill_nan(None)
    )


def balance_alert(bal: pl.DataFrame, threshold: float = 0.1, label=None) -> str | None:
    """A plain-words warning when matched |SMD| exceeds ``threshold`` for some covariate term
    (the propensity score itself is not a covariate); None when balance is met. ``bal`` is a
    balance table (its ``"matched"`` rows are used) or :func:`matched_smd`."""
    if "sample" in bal.columns:
        bal = bal.filter(pl.col("sample") == "matched")
    after = bal.filter(pl.col("term") != "distance")
    after = after.with_columns(pl.col("smd").abs().alias("_a")).drop_nulls("_a")
    over = after.filter(pl.col("_a") > threshold).sort("_a", descending=True)
    if over.height == 0:
        return None
    name = label or (lambda t: t)
    terms = [f"{name(t)} ({a:.3g})" for t, a in zip(over["term"], over["_a"], strict=True)]
    shown = ", ".join(terms[:6]) + (f" and {len(terms) - 6} more" if len(terms) > 6 else "")
    return (
        f"balance after matching misses the |SMD| <= {threshold:g} rule: max |SMD| "
        f"{over['_a'][0]:.3f}, {over.height} term(s) over {threshold:g}: {shown}. Certified "
        "engineers and their matched peers still differ on these; add them to `exact`, tighten "
        "the caliper, or adjust for them (att(..., covariates=[...]))."
    )


def no_overlap(data: pl.DataFrame, treatment: str, covariates: list[str]) -> list[str]:
    """The categorical covariates whose treated values no control has (nothing to pair on)."""
    treated = data.filter(pl.col(treatment).cast(pl.Int8) == 1)
    controls = data.filter(pl.col(treatment).cast(pl.Int8) == 0)
    return [
        c
        for c in covariates
        if c in data.columns
        and not data.schema[c].is_numeric()
        and not set(treated[c].drop_nulls().to_list()) & set(controls[c].drop_nulls().to_list())
    ]


def no_overlap_words(
    data: pl.DataFrame, treatment: str, covariates: list[str], peer: str, treated: str
) -> str | None:
    """Why nothing pairs, in words: the covariates no ``peer`` shares with ``treated``.

    The hint about ``--roster-only`` is given only when the peers' value is ``unknown`` (the
    import's value for authors outside the roster, as on pydantic-ai), not on a roster-only
    dataset whose levels simply do not meet.
    """
    apart = no_overlap(data, treatment, covariates)
    if not apart:
        return None
    controls = data.filter(pl.col(treatment).cast(pl.Int8) == 0)
    outsiders = any("unknown" in controls[c].cast(pl.String).to_list() for c in apart)
    words = f"no {peer} shares {treated}'s value of {', '.join(apart)}"
    if outsiders:
        return words + (
            ": authors outside the roster have it 'unknown'; match without it, or import "
            "with --roster-only"
        )
    return words + ": match without it"


def unknown_controls_words(
    data: pl.DataFrame, treatment: str, covariates: list[str], share: float = 0.5
) -> str | None:
    """Why nothing pairs when most controls are authors outside the roster: their role,
    level or platform is the import's ``unknown``, which no certified unit has, so the
    propensity score sets them apart (trial N: 288 of 314 engineers; the report blamed the
    caliper and exact terms it had not set). None when under ``share`` of the controls."""
    controls = data.filter(pl.col(treatment).cast(pl.Int8) == 0)
    if not controls.height:
        return None
    text = [c for c in covariates if c in controls.columns and controls[c].dtype == pl.String]
    if not text:
        return None
    unknown = pl.any_horizontal([pl.col(c) == "unknown" for c in text]).fill_null(False)
    # people, not rows: the rolling matched DiD has a row per peer and certification month
    who = "engineer_id" if "engineer_id" in controls.columns else None
    count = (lambda f: f[who].n_unique()) if who else (lambda f: f.height)
    n, of = count(controls.filter(unknown)), count(controls)
    if n < share * of:
        return None
    return (
        f"{n:,} of {of:,} candidate peers are authors outside the roster, with "
        "role, level or platform 'unknown', which sets them apart from the certified: import "
        "with --roster-only, or restrict the report to the roster's teams (-p teams=[...])"
    )
