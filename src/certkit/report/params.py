"""Notebook parameters: read what a notebook declares, check what the user passes.

A notebook declares its parameters in the cell tagged ``parameters``, one per line, as
``name: type = default  # help``. Supported types: ``str``, ``int``, ``float``, ``bool``,
``list[str]``, ``list[int]``, ``list[float]``, each optionally ``| None``. Values given on the
command line (``-p KEY=VALUE``) are read as YAML (``-p teams=[payments,search]``,
``-p share=true``) and checked against these types before any notebook runs. Parameters
naming outcomes are also checked: ``outcomes`` against the panel's outcome columns
(:data:`certkit.OUTCOMES`), ``ai_outcomes`` against the PR-level outcomes of
:func:`certkit.ai.compare`, so a typo fails before any kernel starts instead of turning into
"could not be estimated" (or a failed notebook) on the page.
"""

from __future__ import annotations

import ast
import difflib
import io
import tokenize
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import nbformat
import yaml

from certkit.analytics.ai_prs import OUTCOMES as PR_OUTCOMES
from certkit.data.panel import OUTCOMES
from certkit.errors import CertkitError

SCALARS = {"str": str, "int": int, "float": float, "bool": bool}
#: Parameters whose values must be outcome names: the panel's (``build_panel``'s outcomes)
#: or the PR-level outcomes the AI comparison accepts.
OUTCOME_PARAMS = {"outcomes": tuple(OUTCOMES), "ai_outcomes": tuple(PR_OUTCOMES)}
#: Parameters with a fixed set of values, checked before any kernel starts (a typo such as
#: period=weekly failed in the notebook's fifth cell, after the kernel had started).
CHOICE_PARAMS = {
    "period": ("week", "month", "quarter"),
    "control_group": ("not_yet", "never"),
    "fix_links": ("drop", "keep"),
}
#: Parameters holding a day (``YYYY-MM-DD``), checked before any kernel starts.
DATE_PARAMS = ("start", "end")
#: Numeric parameters' ranges (lowest, highest, whether the lowest itself is allowed) and
#: why, checked before any kernel starts: ``pre_periods=1`` ran, exited 0 and said "not
#: estimated: pre_periods must be >= 2" for every outcome, as if the data were short (trial H).
RANGE_PARAMS: dict[str, tuple[float, float | None, bool, str]] = {
    "pre_periods": (2, None, True, "matching needs 2 periods before certification at least"),
    "post_periods": (0, None, True, "periods after certification, 0 or more"),
    "privacy_k": (1, None, True, "a group size"),
    "caliper": (0, None, False, "a distance in standard deviations of the score"),
    "fdr": (0, 1, False, "a false discovery rate"),
    "adoption_threshold": (0, 1, False, "a share of an engineer's merged PRs"),
    "adoption_sustain": (1, None, True, "a number of periods"),
    "adoption_min_prs": (1, None, True, "a number of PRs"),
    "horizon_months": (0, None, False, "a number of months"),
    "n_sims": (100, None, True, "fewer simulations give no stable interval"),
    "hourly_cost": (0, None, True, "a cost"),
    "value_per_pr": (0, None, True, "a value"),
    "cost_per_defect": (0, None, True, "a cost"),
    "cost_per_incident": (0, None, True, "a cost"),
}


@dataclass(frozen=True)
class Parameter:
    """One declared notebook parameter."""

    name: str
    type: str
    default: Any
    help: str = ""

    @property
    def optional(self) -> bool:
        return self.type.replace(" ", "").endswith("|None")

    @property
    def base(self) -> str:
        return self.type.replace(" ", "").removesuffix("|None")


def parameters_cell(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The cell tagged ``parameters`` (a :class:`CertkitError` if there is none)."""
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    raise CertkitError(f"{name} has no cell tagged 'parameters'")


def _comments(source: str) -> dict[int, str]:
    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string.lstrip("#").strip()
    return out


def declared(path: str | Path) -> dict[str, Parameter]:
    """Parameters declared by the notebook at ``path``, in order."""
    nb = nbformat.read(str(path), as_version=4)
    cell = parameters_cell(nb, Path(path).name)
    source = cell.source
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise CertkitError(
            f"{Path(path).name}: parameters cell is not valid Python: {exc}"
        ) from exc
    helps = _comments(source)
    params: dict[str, Parameter] = {}
    for node in tree.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            raise CertkitError(
                f"{Path(path).name}: parameters cell line {node.lineno} must read "
                "'name: type = default  # help'"
            )
        type_text = ast.unparse(node.annotation).strip("'\"")
        if type_text.replace(" ", "").removesuffix("|None") not in {
            *SCALARS,
            "list[str]",
            "list[int]",
            "list[float]",
        }:
            raise CertkitError(
                f"{Path(path).name}: parameter {node.target.id!r} has unsupported type {type_text!r}"
            )
        default = ast.literal_eval(node.value) if node.value is not None else None
        params[node.target.id] = Parameter(
            node.target.id, type_text, default, helps.get(node.lineno, "")
        )
    return params


def _matches(value: Any, base: str) -> bool:
    if base in SCALARS:
        expected = SCALARS[base]
        if expected is bool:
            return isinstance(value, bool)
        if expected is float:
            return isinstance(value, int | float) and not isinstance(value, bool)
        if expected is int:
            return isinstance(value, int) and not isinstance(value, bool)
        return isinstance(value, str)
    inner = base[len("list[") : -1]
    return isinstance(value, list) and all(_matches(v, inner) for v in value)


def coerce(param: Parameter, value: Any, where: str = "") -> Any:
    """Check ``value`` against the declared type; return it (ints widened for floats)."""
    if value is None and param.optional:
        return None
    base = param.base
    # A single value where a list is expected: -p teams=payments.
    if base.startswith("list[") and not isinstance(value, list) and value is not None:
        value = [value]
    if base == "str" and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # -p cohort=2024 read by YAML as a number
    if base == "str" and isinstance(value, date):
        value = value.isoformat()  # -p start=2022-01-01 read by YAML as a date (trial D)
    if base == "list[str]" and isinstance(value, list):
        value = [
            str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in value
        ]
    if not _matches(value, base):
        hint = f" ({param.help})" if param.help else ""
        raise CertkitError(
            f"parameter {param.name!r}{where} must be {param.type}{hint}, "
            f"got {value!r} ({type(value).__name__})"
        )
    if base == "float":
        value = float(value)
    if base == "list[float]":
        value = [float(v) for v in value]
    return value


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """``["k=5", "teams=[a,b]"]`` -> ``{"k": 5, "teams": ["a", "b"]}`` (values read as YAML)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CertkitError(f"-p expects KEY=VALUE, got {item!r}")
        try:
            out[key] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            out[key] = raw
    return out


def _check_days(values: dict[str, Any], where: str) -> None:
    """``start`` / ``end`` must be days, ``start`` not after ``end``."""
    days = {}
    for k in DATE_PARAMS:
        if values.get(k) in (None, ""):
            continue
        try:
            days[k] = date.fromisoformat(str(values[k]))
        except ValueError:
            raise CertkitError(
                f"parameter {k!r}{where} must be a day written YYYY-MM-DD, got {values[k]!r}"
            ) from None
    if len(days) == 2 and days["start"] > days["end"]:
        raise CertkitError(
            f"parameter 'start'{where} ({days['start']}) is after 'end' ({days['end']})"
        )


def _check_ranges(values: dict[str, Any], where: str) -> None:
    """Numbers in :data:`RANGE_PARAMS` inside their range."""
    for k, (low, high, low_ok, why) in RANGE_PARAMS.items():
        v = values.get(k)
        if v is None or isinstance(v, bool) or not isinstance(v, int | float):
            continue
        if (v < low or (v == low and not low_ok)) or (high is not None and v > high):
            bound = f"at least {low}" if low_ok else f"above {low}"
            bound += f" and at most {high}" if high is not None else ""
            raise CertkitError(f"parameter {k!r}{where} must be {bound} ({why}); got {v!r}")


def validate(
    given: dict[str, Any], notebooks: dict[str, dict[str, Parameter]], where: str = ""
) -> dict[str, dict[str, Any]]:
    """Split ``given`` into per-notebook parameter dicts, checking names and types.

    A name that none of ``notebooks`` declares is an error (a typo must not be silently
    ignored); a name declared by only some notebooks is passed to those.
    """
    known = sorted({n for decl in notebooks.values() for n in decl})
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise CertkitError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))}{where}; "
            f"the selected notebooks accept: {', '.join(known)}"
        )
    out: dict[str, dict[str, Any]] = {}
    for nb_name, decl in notebooks.items():
        out[nb_name] = {k: coerce(decl[k], v, where) for k, v in given.items() if k in decl}
        for k, allowed in OUTCOME_PARAMS.items():
            if out[nb_name].get(k) is not None:
                check_outcomes(out[nb_name][k], k, where, allowed)
        for k, allowed in CHOICE_PARAMS.items():
            value = out[nb_name].get(k)
            if value is not None and value not in allowed:
                close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.5)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise CertkitError(
                    f"parameter {k!r}{where}: {value!r} is not one of "
                    f"{', '.join(map(repr, allowed))}{hint}"
                )
        _check_days(out[nb_name], where)
        _check_ranges(out[nb_name], where)
    return out


def check_outcomes(
    values: list[str] | str,
    name: str = "outcomes",
    where: str = "",
    allowed: tuple[str, ...] | None = None,
) -> None:
    """Raise a :class:`CertkitError` naming every value that is not an outcome it may be.

    Parameters
    ----------
    values
        Outcome names (a list, or one name).
    name
        The parameter's name, for the message.
    where
        Where the parameter comes from (e.g. `` (run 'q1')``), for the message.
    allowed
        The outcomes it may name (default: the panel's outcome columns).
    """
    allowed = tuple(OUTCOMES) if allowed is None else allowed
    values = [values] if isinstance(values, str) else list(values)
    unknown = [v for v in values if v not in allowed]
    if not unknown:
        return
    hints = []
    for v in unknown:
        close = difflib.get_close_matches(str(v), allowed, n=1)
        if close:
            hints.append(f"{close[0]!r} for {v!r}")
    raise CertkitError(
        f"parameter {name!r}{where}: unknown outcome(s) {', '.join(map(repr, unknown))}"
        + (f" (did you mean {'; '.join(hints)}?)" if hints else "")
        + f"; {name} may be: {', '.join(allowed)}"
    )
