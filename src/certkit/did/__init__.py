"""Difference-in-differences for staggered certification.

The headline estimator is Callaway & Sant'Anna (2021): one ATT per (cohort ``g``, period ``t``),
estimated from 2x2 comparisons of each cohort with never-treated or not-yet-treated units, then
aggregated into an overall effect, an event study, per-cohort or per-period effects. Inference uses
the influence function (IF) of every estimate, so standard errors match R's ``did`` with
``bstrap=FALSE``: ``se = sqrt(sum(IF^2)) / n``. Aggregated SEs include the IF of the estimated
aggregation weights. A multiplier bootstrap gives uniform (sup-t) bands.

Two-way fixed effects (:func:`twfe`) is provided as a diagnostic: with staggered adoption and
effects that change over time it compares late with early adopters and can be badly biased;
:func:`compare_twfe` says when. :func:`did_2x2` is the plain two-group, two-period DiD.

Robustness and sensitivity: :func:`imputation` (Borusyak-Jaravel-Spiess; = Gardner's
two-stage DiD) and :func:`sun_abraham` (interaction-weighted event study) are other
heterogeneity-robust estimators; :func:`robustness` puts them next to Callaway-Sant'Anna and
TWFE with a sentence saying whether they agree. :func:`honest` (HonestDiD, Rambachan & Roth)
gives confidence intervals that stay valid under bounded violations of parallel trends.

Unbalanced panels (engineers join and leave) are handled pairwise: each ATT(g,t) uses the units
observed in both periods of its comparison; the IF of every estimate is still defined per unit,
so aggregation and clustering work unchanged. ``unbalanced="balance"`` instead keeps only units
observed in every period (R ``did``'s default), with a warning.

Modules: :mod:`~certkit.did.prepare` (input checks, outcome matrix), :mod:`~certkit.did.drdid`
(2x2 DRDID), :mod:`~certkit.did.group_time` (:func:`att_gt`), :mod:`~certkit.did.inference`
(IF standard errors, bootstrap), :mod:`~certkit.did.results` (:class:`ATTgtResult`),
:mod:`~certkit.did.aggregate` (:class:`AggregateResult`), :mod:`~certkit.did.event`
(:func:`event_study`), :mod:`~certkit.did.twoway` (TWFE), :mod:`~certkit.did.did2x2`,
:mod:`~certkit.did.robust_base` (long-panel checks, exact two-way FE solver, result base),
:mod:`~certkit.did.bjs` (:func:`imputation`), :mod:`~certkit.did.sunab` (:func:`sun_abraham`),
:mod:`~certkit.did.robust_panel` (:func:`robustness`), :mod:`~certkit.did.honestdid`
(:func:`honest`) with its kernels :mod:`~certkit.did.honest_arp` (relative magnitudes, C-LF)
and :mod:`~certkit.did.honest_flci` (smoothness, FLCI). Module names never repeat a public
function's name, so ``certkit.did.honest`` is always the function.
``unit``, ``time`` and ``group`` default to the panel contract's columns (``engineer_id``,
``period_index``, ``cohort``: :mod:`certkit.data.contract`), so a certkit panel needs only
``did.att_gt(panel, outcome="merged_prs")``; other panels name their columns.
Every result follows the contract of :mod:`certkit.results` (``tidy()``, ``plot()``,
``effect_summary()``); the confidence level is ``level`` everywhere (``alpha`` is deprecated).
"""

from certkit.did.aggregate import AggregateResult
from certkit.did.bjs import ImputationResult, imputation
from certkit.did.did2x2 import DiD2x2Result, did_2x2
from certkit.did.event import event_study
from certkit.did.group_time import att_gt
from certkit.did.honestdid import HonestResult, honest
from certkit.did.results import ATTgtResult
from certkit.did.robust_panel import RobustnessResult, robustness
from certkit.did.sunab import SunAbrahamResult, sun_abraham
from certkit.did.twoway import TWFEComparison, TWFEResult, compare_twfe, twfe

__all__ = [
    "att_gt",
    "ATTgtResult",
    "AggregateResult",
    "event_study",
    "twfe",
    "TWFEResult",
    "compare_twfe",
    "TWFEComparison",
    "did_2x2",
    "DiD2x2Result",
    "imputation",
    "ImputationResult",
    "sun_abraham",
    "SunAbrahamResult",
    "robustness",
    "RobustnessResult",
    "honest",
    "HonestResult",
]
