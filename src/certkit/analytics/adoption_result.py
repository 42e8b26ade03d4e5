"""The result of :func:`certkit.analytics.adoption.adoption_did`, and its checks.

:class:`AdoptionResult` follows the result contract (``tidy()``, ``effect_summary()``,
``plot()``) and runs the two checks of the certification impact page on the adoption study:
:meth:`AdoptionResult.sensitivity` (HonestDiD, :func:`certkit.did.honest`) and
:meth:`AdoptionResult.robustness` (:func:`certkit.did.robustness`).
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING

import polars as pl
from scipy import stats

from certkit.did import HonestResult, RobustnessResult
from certkit.did.event import pretrend_verdict, unused_cell_test
from certkit.errors import CertkitError, CertkitWarning
from certkit.narrative import OUTCOMES, label
from certkit.results import TIDY_COLUMNS as CONTRACT_COLUMNS
from certkit.results import EffectSummary, ResultMixin

if TYPE_CHECKING:  # altair costs seconds to import: only plot() needs it
    import altair as alt

TIDY_COLUMNS = [*CONTRACT_COLUMNS, "n"]

#: Who the adoption study compares, in its sentences.
GROUPS = "adopters and engineers who had not adopted (yet)"
#: The row of :meth:`AdoptionResult.tidy` comparing certified and never-certified adopters.
DIFFERENCE = "difference (certified - not certified)"

# The estimators' sentences speak of certification; the adoption study's of adoption.
_WORDS = (
    ("post-certification", "post-adoption"),
    ("pre-certification", "pre-adoption"),
    ("after certification", "after adoption"),
    ("certified-minus-comparison", "adopters-minus-comparison"),
    ("certified and comparison groups", GROUPS),
    ("certified and comparison units", "adopters and comparison engineers"),
    ("before certification", "before adoption"),
    ("since certification", "since adoption"),
    ("period of certification", "period of adoption"),
    ("period(s) after certification", "period(s) after adoption"),
    # HonestDiD's "rests on certification cohorts of one engineer" (trial AF, L-d)
    ("certification cohorts", "adoption cohorts"),
)


def adoption_words(text: str) -> str:
    """``text`` (a certification study's sentence or warning) in the adoption study's words."""
    for old, new in _WORDS:
        text = text.replace(old, new)
    return text


@contextmanager
def reworded_warnings():
    """Re-issue the certkit warnings raised inside the block in the adoption study's words."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CertkitWarning)
        yield
    for w in caught:
        if issubclass(w.category, CertkitWarning):
            warnings.warn(adoption_words(str(w.message)), w.category, stacklevel=3)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def amount(outcome: str, value: float) -> str:
    """A change in ``outcome`` in its unit: ``+3.66 PRs``, ``-12.1 percentage points``, ..."""
    unit = OUTCOMES.get(outcome, ("", "", False, False))[1]
    if unit == "share":
        return f"{100 * value:+.3g} percentage points"
    if unit == "log hours":
        return f"{value:+.3g} on the log scale (about {math.expm1(value):+.0%})"
    return f"{value:+.3g}{' ' + unit if unit else ''}"


def amount_words(outcome: str):
    """:func:`amount` for ``outcome`` as a one-argument function, for sentences that list
    several values (the robustness verdict); None for a log-scale outcome, whose values
    read best as plain numbers there (each "about +13%" made the list unreadable)."""
    unit = OUTCOMES.get(outcome, ("", "", False, False))[1]
    return None if unit == "log hours" else (lambda value: amount(outcome, value))


def change(outcome: str, est: float, lo: float, hi: float, pct: int) -> str:
    """``+3.66 PRs (95% CI -7.69 to +15 PRs)``: a change and its interval in the unit."""
    unit = OUTCOMES.get(outcome, ("", "", False, False))[1]
    if unit == "share":
        est, lo, hi = 100 * est, 100 * lo, 100 * hi
        unit = "percentage points"
    elif unit == "log hours":
        return f"{amount(outcome, est)} ({pct}% CI {lo:+.3g} to {hi:+.3g} on the log scale)"
    tail = f" {unit}" if unit else ""
    return f"{est:+.3g}{tail} ({pct}% CI {lo:+.3g} to {hi:+.3g}{tail})"


def certification_ai_words(
    row: dict, level: float = 0.95, n: int | None = None, k: int = 5, single: float | None = None
) -> str:
    """The effect of certifying on the AI-assisted share of merged PRs, in its unit: a
    ``tidy()`` row (``estimate``, ``conf_low``, ``conf_high``, ``p_value``) of the average
    after certifying (the report's: the simple aggregation); ``n`` the certified engineers
    behind it (its ``n_engineers``), ``k`` the privacy threshold. trial N: the page
    read "Effect: +0.167 (95% interval -0.0643 to 0.398, p = 0.157)", naming neither the
    outcome nor its unit; trial O: "+50 percentage points (95% CI -19.3 to +119 ...) on
    average" rested on one engineer in one month, whose share had fallen."""
    from certkit.narrative.effects import few_treated_words, single_cohort_words

    est, lo, hi, p = (row.get(k) for k in ("estimate", "conf_low", "conf_high", "p_value"))
    what = "After certifying, an engineer's AI-assisted share of merged PRs"
    if est is None or not math.isfinite(est) or lo is None or not math.isfinite(lo * hi):
        return f"{what} could not be estimated: too little variation in the data."
    pct = round(100 * level)
    p_text = f", p = {p:.3g}" if p is not None and math.isfinite(p) else ""
    head = (
        f"{what} changed by {change('ai_share', est, lo, hi, pct)} on average over the "
        f"certified engineers' periods after certifying{p_text}, compared with engineers not "
        "(yet) certified."
    )
    thin = single_cohort_words(single)
    if thin:  # trial S: "the data show an increase" from cohorts of one engineer
        text = " Its interval cannot be read: " + thin
    elif lo > 0 or hi < 0:
        text = f" The interval excludes zero: the data show {'an increase' if est > 0 else 'a decrease'}"
    else:
        text = " The interval includes zero: the data cannot tell this apart from no change"
    caveats = [few_treated_words(n, k)] if n is not None else []
    if lo < -1 or hi > 1:  # a share moves by 100 points at most
        caveats.append(
            "its interval runs past the 100 percentage points a share can move: there is too "
            "little data behind it to read"
        )
    caveats = [c for c in caveats if c]
    return head + text + ("; " + "; ".join(caveats) if caveats else "") + "."


def _interval(tidy: pl.DataFrame, term: str, pct: int, outcome: str = "") -> str | None:
    """``+0.1 (95% CI +0.05 to +0.15)`` for a row of ``tidy`` in ``outcome``'s unit, None when
    it has no interval."""
    row = tidy.filter(pl.col("term") == term)
    if not row.height or row["conf_low"][0] is None:
        return None
    return change(outcome, *row.select("estimate", "conf_low", "conf_high").row(0), pct)


def _shown(tidy: pl.DataFrame, term: str, k: int) -> bool:
    """Whether ``term`` rests on at least ``k`` adopters (its ``n``); always when ``k`` is 1."""
    row = tidy.filter(pl.col("term") == term)
    return k <= 1 or (bool(row.height) and (row["n"][0] or 0) >= k)


class AdoptionSensitivity(HonestResult):
    """A :class:`certkit.did.HonestResult` of the adoption event study, worded for adoption."""

    @classmethod
    def adopt(cls, result: HonestResult) -> AdoptionSensitivity:
        """The same numbers as ``result``, with adoption in the words."""
        out = cls.__new__(cls)
        out.__dict__.update(result.__dict__)
        out.title = result.title.replace("HonestDiD", "HonestDiD, AI adoption")
        return out

    def _words(self) -> str:
        return adoption_words(super()._words())

    def _single_words(self) -> str:
        return adoption_words(super()._single_words())


class AdoptionResult(ResultMixin):
    """The effect of adopting AI on one outcome: event study, overall effect, heterogeneity."""

    def __init__(self, *, definition, event_study, overall, groups, cohorts, notes, counts,
                 data, spec, single_weight=None):  # fmt: skip
        self.outcome = spec["outcome"]
        self.definition = definition
        self.event_study = event_study
        self.overall = overall
        self.groups = groups
        kept = cohorts.filter(~pl.col("adopted_at_start"))
        self.n_adopters = int((kept["adoption_cohort"] > 0).sum())
        self.n_never = int((kept["adoption_cohort"] == 0).sum())
        self.dropped = cohorts.height - kept.height
        self.level = spec["level"]
        self.warnings = notes
        self.counts = counts  # engineers (adopters) behind each term
        #: The share of the overall effect's weight on group-time cells resting on a single
        #: adopter (:attr:`certkit.did.AggregateResult.single_weight`); see :attr:`se_reliable`.
        self.single_weight = single_weight
        self.title = f"Effect of adopting AI on {self.outcome}"
        # the estimation panel (with adoption_cohort) and the att_gt settings, for the checks
        self.data, self.spec = data, spec

    @property
    def se_reliable(self) -> bool:
        """False when :data:`~certkit.narrative.effects.SINGLE_WEIGHT_LIMIT` or more of the
        overall effect's weight rests on group-time cells of a single adopter, whose own
        variation its standard error does not count (only the comparison engineers'): the
        estimate and standard error stay R did's, the words make no call on zero."""
        from certkit.narrative.effects import SINGLE_WEIGHT_LIMIT

        w = self.single_weight
        return w is None or not math.isfinite(w) or w < SINGLE_WEIGHT_LIMIT

    def single_cohort_words(self) -> str | None:
        """ "100% of its weight rests on adoption cohorts of one engineer, whose own variation
        its interval does not count: read it as a description of those engineers, not as
        evidence of an effect" when the overall effect's standard error is not reliable
        (:attr:`se_reliable`; the certification headline's
        :func:`certkit.narrative.effects.single_cohort_words`), None otherwise (trial AF,
        huggingface_hub: "-7.95 points ... The interval excludes zero" on one adopter, p =
        1.4e-14, beside a robustness line calling its standard error not reliable)."""
        from certkit.narrative.effects import single_cohort_words

        words = single_cohort_words(self.single_weight)
        return adoption_words(words) if words else None

    def tidy(self) -> pl.DataFrame:
        """One row for the overall effect, one per event time, one per subgroup.

        ``n`` is the number of adopters each estimate rests on. For the overall effect (the
        ``ATT`` row): the distinct adopters with the outcome both in the period a
        post-adoption group-time cell compares with (the one just before adopting) and in
        that cell's period, over the cells it averages
        (:attr:`certkit.did.AggregateResult.n_engineers`); an adopter with no value in the
        period before adopting is in no such cell. For an event time: the adopters behind its
        estimate; for a subgroup: the adopters in it with a value.
        """
        z = stats.norm.ppf(0.5 + self.level / 2)
        rows = [("ATT (after adoption, simple average)", *self.overall)]
        es = self.event_study.to_polars()
        rows += [(f"e={int(e)}", a, s) for e, a, s in es.select("e", "att", "se").iter_rows()]
        counts = dict(self.counts)
        if "n_treated" in es.columns:  # the adopters behind each estimate, not just observed
            counts |= {f"e={int(e)}": n for e, n in es.select("e", "n_treated").iter_rows()}
        from certkit.analytics.adoption import MIN_PER_SIDE

        for name, (est, se) in self.groups.items():
            # one adopter's "p 0.000": its cells' SE is the comparison group's alone (trial K,
            # python-sdk: "certified engineers 19.654, p 0.000, 1" under "too few to compare")
            few = counts.get(name) is not None and counts[name] < MIN_PER_SIDE
            rows.append((name, est, None if few else se))
        out = []
        for term, est, se in rows:
            ok = se is not None and math.isfinite(se) and se > 0
            stat = est / se if ok else None
            out.append(
                {
                    "term": term,
                    "estimate": est,
                    "std_error": se,
                    "statistic": stat,
                    "p_value": float(2 * stats.norm.sf(abs(stat))) if ok else None,
                    "conf_low": est - z * se if ok else None,
                    "conf_high": est + z * se if ok else None,
                    "n": counts.get(term, self.n_adopters if term.startswith("ATT") else None),
                }
            )
        schema = {c: pl.Float64 for c in TIDY_COLUMNS} | {"term": pl.String, "n": pl.Int64}
        return pl.DataFrame(out, schema=schema)

    def to_polars(self) -> pl.DataFrame:
        return self.tidy()

    @property
    def pretrend(self) -> str:
        """The pre-trend test of the adoption event study, in the adoption study's words."""
        es = self.event_study
        q = getattr(es, "pretrend_periods", None)
        if q is None or es.pretrend_test_on is None:
            return adoption_words(es.pretrend_verdict or "not tested")
        return pretrend_verdict(
            es.pretrend_pvalue, q, es.pretrend_test_on, groups=GROUPS, event="adoption"
        ) + unused_cell_test(es.pretrend_pvalue, getattr(es, "pretrend_cell_pvalue", None))

    @property
    def pretrend_failed(self) -> bool:
        """Whether the pre-adoption test rejects parallel trends at the 5% level."""
        p = self.event_study.pretrend_pvalue
        return p is not None and math.isfinite(p) and p < 0.05

    def _header(self) -> dict[str, object]:
        return {
            "adoption": self.definition.describe(),
            "adopters": f"{self.n_adopters:,} engineers ({self.n_never:,} never adopted)",
            "left out": f"{self.dropped:,} already using AI when first observed",
            "pre-trends": self.pretrend,
        } | (
            {}
            if self.se_reliable
            else {"standard error": f"not reliable: {self.single_cohort_words()}"}
        )

    def few_adopters(self, k: int | None = None) -> str | None:
        """Why the effect rests on little, in words (None: it does not): fewer adopters than
        the privacy threshold ``k`` (default :data:`certkit.privacy.DEFAULT_K`; with the
        fewest behind an event time after adoption), or fewer than
        :data:`certkit.narrative.effects.FEW_PRS` PRs merged by the adopters after adopting
        (:func:`certkit.narrative.effects.effect_caveat`'s rules; trial G, xarray: "the
        interval excludes zero" on 3 adopters, 1 at every event time)."""
        from certkit.narrative.effects import few_prs_words, few_treated_words
        from certkit.privacy import DEFAULT_K

        k = k or DEFAULT_K
        t = self.tidy()
        after = t.filter(pl.col("term").str.starts_with("e=")).with_columns(
            pl.col("term").str.slice(2).cast(pl.Int64, strict=False).alias("_e")
        )
        behind = after.filter(pl.col("_e") >= 0)["n"].drop_nulls()
        fewest = int(behind.min()) if behind.len() else None
        # the adopters behind the overall effect (its row's n), not all who adopted (trial AF)
        n = t["n"][0] if t.height and t["n"][0] is not None else self.n_adopters
        which = ""
        if n < self.n_adopters:
            short = label(self.outcome).split(" (")[0]
            which = (
                f"those with a {short} value in the period just before adopting and in one "
                f"after; {self.n_adopters:,} adopted"
            )
        said = [few_treated_words(int(n), k, "adopter", fewest, which)]
        time, data = self.spec.get("time"), self.data
        if data is not None and time in data.columns and "merged_prs" in data.columns:
            mine = data.filter(pl.col("adoption_cohort") > 0)
            post = pl.col(time) >= pl.col("adoption_cohort")
            prs = mine.select(
                pl.col("merged_prs").filter(post).sum().alias("after"),
                pl.col("merged_prs").filter(~post).sum().alias("before"),
            ).row(0)
            said.append(few_prs_words(int(prs[0] or 0), int(prs[1] or 0), "adopters", "adopting"))
        said = [w for w in said if w]
        return "; ".join(said) or None

    def effect_summary(self, k: int = 1, privacy_k: int | None = None) -> EffectSummary:
        """The overall effect as a table and in words (from the numbers).

        Parameters
        ----------
        k
            Smallest number of adopters an estimate in the words may rest on (a shared report's
            ``privacy_k``): the period of adoption and the certified-minus-others difference
            are left out of the sentence below it, the whole effect when it rests on fewer.
        privacy_k
            The privacy threshold under which a shown effect's adopters are named as few
            (:meth:`few_adopters`; default :data:`certkit.privacy.DEFAULT_K`).
        """
        t = self.tidy()
        head = t.head(1)
        est, lo, hi, p = head.select("estimate", "conf_low", "conf_high", "p_value").row(0)
        pct = int(round(self.level * 100))
        what = label(self.outcome)
        if not _shown(t, head["term"][0], k):
            return EffectSummary(
                head.clear(),
                f"The effect of adopting AI on {what} is not shown: it rests on fewer than {k} "
                "adopters (shared report).",
            )
        if lo is None:
            words = f"The effect of adopting AI on {what} could not be estimated: {self._why_no_interval()}."
        else:
            clear = p is not None and p < 1 - self.level
            thin = self.single_cohort_words()
            if thin:  # no call on zero, as the certification headline (trial AF, A1)
                verdict = f"Its interval cannot be read: {thin}"
            elif clear:
                verdict = "The interval excludes zero"
            else:
                verdict = "The interval includes zero: no clear effect"
            # each caveat in the same sentence: the answer box keeps the first two only
            if thin:
                pre_sep = few_sep = ";"
            else:
                pre_sep = ", but" if clear else ", and"
                few_sep = "; but" if self.pretrend_failed else ", but"
            if self.pretrend_failed:
                pre = self.event_study.pretrend_pvalue
                verdict += (
                    f"{pre_sep} adopters and the comparison group were "
                    f"already diverging before adoption (pre-trend test p "
                    f"{'< 0.001' if pre < 0.001 else f'= {pre:.3f}'}), so the estimate may be "
                    "biased either way: read it as unreliable"
                )
            few = self.few_adopters(privacy_k or (k if k > 1 else None))
            if few:
                verdict += f"{few_sep} {few}"
            verdict += "."
            words = (
                f"After adopting AI, an engineer's {what} changed by "
                f"{change(self.outcome, est, lo, hi, pct)} on average, compared with engineers "
                f"who had not adopted (yet). {verdict} Adoption is chosen, not assigned: this "
                "is causal only if adopters would otherwise have trended like the comparison "
                "group, and AI attribution from commit and PR traces is a lower bound."
            )
        e0 = _interval(t, "e=0", pct, self.outcome)
        if e0 and _shown(t, "e=0", k):
            from certkit.privacy import DEFAULT_K

            n0 = t.filter(pl.col("term") == "e=0")["n"].drop_nulls()
            few = int(n0[0]) if n0.len() and n0[0] < (privacy_k or DEFAULT_K) else None
            on = f", on only {few} adopter{'' if few == 1 else 's'}" if few else ""
            words += f" In the period of adoption itself the change was {e0}{on}; the event "
            words += "study shows how it evolves."
        return EffectSummary(head, words + self._difference_words(t, pct, k, privacy_k))

    def _difference_words(self, t: pl.DataFrame, pct: int, k: int, privacy_k: int | None) -> str:
        """The certified-minus-others sentence: the difference when both sides have at least
        :data:`certkit.analytics.adoption.MIN_PER_SIDE` adopters (with the few-adopters caveat
        in the same sentence under the privacy threshold), else why it is not given (trial I,
        python-sdk: "+20.1 PRs (95% CI +15 to +25.2 PRs)" on 1 adopter a side)."""
        from certkit.privacy import DEFAULT_K

        mine, others = (
            self.counts.get(g) for g in ("certified engineers", "never-certified engineers")
        )
        if mine is None or others is None:  # no split by certification
            return ""
        who = f"{mine:,} certified and {others:,} other adopter{'' if others == 1 else 's'}"
        diff = _interval(t, DIFFERENCE, pct, self.outcome)
        if diff is None:
            estimated = {"certified engineers", "never-certified engineers"} <= set(self.groups)
            if not estimated or min(mine, others) >= 2:
                return ""  # a side could not be estimated: the notes say why
            if k > 1 and min(mine, others) < k:  # a shared report: no count under k
                return (
                    " Certified engineers' effect is not compared with others': one side has "
                    f"fewer than {k} adopters, too few to compare."
                )
            return (
                f" Certified engineers' effect is not compared with others': it rests on {who}: "
                "too few to compare."
            )
        if not _shown(t, DIFFERENCE, k):
            return ""
        threshold = privacy_k or (k if k > 1 else None) or DEFAULT_K
        if min(mine, others) < threshold:
            return (
                f" Certified engineers' effect minus others': {diff}, but it rests on only "
                f"{who} (a shared report needs {threshold} a side to show it): one person can "
                "decide it."
            )
        return f" Certified engineers' effect minus others': {diff}."

    def _why_no_interval(self) -> str:
        """Why the overall effect has no interval, from the estimation data (trial H: the
        answer box gave none for a revert rate that no adopter's PR ever had)."""
        from certkit.narrative.robust import fmt

        data = self.data
        if data is not None and self.outcome in data.columns and "adoption_cohort" in data.columns:
            values = data.filter(pl.col("adoption_cohort") > 0)[self.outcome].drop_nulls()
            if values.len() and values.n_unique() == 1:
                return (
                    f"the adopters' {label(self.outcome)} is {fmt(values[0])} in every period "
                    "they have one, so there is no change to measure"
                )
        return (
            "its standard error cannot be computed (the outcome barely varies among adopters "
            "and their comparison group)"
        )

    def sensitivity(
        self, *, method: str = "relative_magnitude", max_e: int = 4, **kwargs
    ) -> AdoptionSensitivity:
        """HonestDiD: how large a violation of parallel trends would overturn the effect?

        Reruns the adoption event study with a universal base period (every period compared
        with the last one before adoption, as Rambachan & Roth's method requires), keeping
        ``min_e`` of this study and at most ``max_e`` post-adoption periods, and passes it to
        :func:`certkit.did.honest`.

        Parameters
        ----------
        method
            ``"relative_magnitude"`` (Mbar grid) or ``"smoothness"`` (M grid).
        max_e
            Last post-adoption period the bound constrains (fewer keep it fast).
        **kwargs
            Passed to :func:`certkit.did.honest` (``mbar``, ``m``, ``event_time``, ...).

        Returns
        -------
        AdoptionSensitivity
            A :class:`certkit.did.HonestResult` whose sentences speak of adoption.
        """
        from certkit import did

        window = self.event_study.to_polars()["e"]
        if window.min() > -2 or window.max() < 0:
            raise CertkitError(
                "HonestDiD needs pre-adoption periods besides the reference period e=-1 and at "
                f"least one period after adoption; this study covers e={window.min()} to "
                f"{window.max()} (rerun adoption_did with min_e <= -2)"
            )
        with reworded_warnings():
            universal = did.event_study(
                self.data,
                min_e=window.min(),
                max_e=min(window.max(), max_e),
                base_period="universal",
                **self.spec,
            )
        pre = universal.to_polars().filter(pl.col("e") < -1, pl.col("se").is_finite())
        if pre.height == 0:
            raise CertkitError(
                "no pre-adoption period could be estimated against the period just before "
                "adoption (too few adopters observed before adopting, or the outcome missing "
                "then); HonestDiD needs at least one"
            )
        kwargs.setdefault("level", self.level)
        # in the outcome's unit, as the effect sentences (trial X: "+0.412 percentage points"
        # beside HonestDiD's "0.00412" for the same estimate)
        kwargs.setdefault("value_words", amount_words(self.outcome))
        with reworded_warnings():
            # named as the certification pages name it (trial O: "The effect on merged_prs")
            res = did.honest(result=universal, method=method, outcome=label(self.outcome), **kwargs)
        return AdoptionSensitivity.adopt(res)

    def robustness(self) -> RobustnessResult:
        """Do other heterogeneity-robust estimators agree on the adoption effect?

        :func:`certkit.did.robustness` on the same panel and adoption cohorts:
        Callaway-Sant'Anna with never and not-yet adopters, Sun-Abraham, imputation (BJS) and
        static TWFE, at this study's level (and ``cluster``, ``anticipation`` when given).
        """
        from certkit import did

        keys = ("outcome", "unit", "time", "group", "anticipation", "cluster")
        with reworded_warnings():  # the verdict in the headline's unit (trial N: a share)
            return did.robustness(
                self.data,
                level=self.level,
                name=label(self.outcome),
                value_words=amount_words(self.outcome),
                **{k: self.spec[k] for k in keys if k in self.spec},
            )

    def plot(self) -> alt.Chart | alt.LayerChart:
        """The event study around adoption (periods since adopting AI)."""
        from certkit import charts

        return charts.event_study(
            self.event_study.plot_data(),
            x="e",
            lower="conf_low",
            upper="conf_high",
            title=f"Adopting AI: {self.outcome}",
            y_title=f"effect on {self.outcome} (adopters minus comparison)",
            x_title="Periods since adopting AI",
        )
