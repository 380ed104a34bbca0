"""The export gate: turns the report's figures into an export decision.

``check_gate(report, config)`` checks the figures each metric module declares in its
``GATED`` specs (:class:`synthdata.metrics._base.Gated`: figure, bound field, direction,
required, confidence bound) against the bounds, so a new gated metric is one function plus
one spec line; it returns :class:`GateResult` — ``passed`` plus one :class:`GateFailure`
``{check, value, bound, message, confidence_bound}`` per failed check, in plain words. Bounds
come from the schema's ``gate:`` block (:class:`synthdata.schema.GateConfig`, defaults from
published anchors):

- fidelity: ``column_shapes`` >= 0.70, ``column_pair_trends`` >= 0.60, ``detection_auc`` <= 0.95;
  with a target, ``ml_efficacy_skill`` >= 0.5 (``min_ml_efficacy``): a model trained on the
  synthetic rows keeps at least half of the skill above chance of one trained on the real rows,
  ``(TSTR - chance) / (TRTR - chance)`` with ROC AUC (chance 0.5; one-vs-rest for multiclass)
  or R² (chance 0), both models tested on the holdout. Synthetic rows whose target carries no
  signal score about 0, fresh real rows about 1;
- privacy: ``dcr_share`` <= 0.55 (good generators score 0.495-0.51; copying 30 % of cells gives
  0.64), exact copies of train rows at most 1 point above the holdout's own rate, ``mia_auc`` <=
  0.60, each trustworthy re-identification risk (singling out, linkability, inference) <= 0.10;
- bias: no flag of severity ``block`` (a lost group, a widened or reversed outcome gap);
- ``max_epsilon`` (off by default): the model is differentially private with
  ``privacy.dp.epsilon`` at most this; a model that is not DP fails;
- ``rules``: further bounds on any figure or score by its dotted path in the report.

Sampled figures are tested with their sampling error: ``dcr_share``, ``exact_copy_excess`` and
``mia_auc`` fail only when their one-sided 95 % *lower* confidence bound (``<figure>_lower`` in
the report, beside ``<figure>_se``) is above the maximum, and ``ml_efficacy_skill`` only when
its one-sided 95 % *upper* bound (``ml_efficacy_skill_upper``, from a paired bootstrap over
holdout rows) is below the minimum. So a small table within sampling noise of a bound passes
(its check is listed in ``within_noise``), while a leak or useless rows still fail: on a
333-row train, the copy's ``dcr_share`` bound is 0.97 and a 30 %-perturbed copy's 0.60. A
report without those figures (an older one) is checked on the values themselves. The message
names the value, its confidence bound and the bound. For a stricter gate, a ``rules`` entry on
the figure (``privacy.figures.dcr_share``) bounds the value itself.

A privacy figure that could not be measured fails its check (no evidence is not evidence of
safety); a fidelity figure that does not apply (e.g. pair trends of a one-column table, utility
without a target or when the real rows carry no signal the holdout can show) is skipped. A
failed gate is a result, not an exception: ``run`` writes the reports but no synthetic table,
unless forced (the override is recorded).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field

from synthdata.metrics._base import CONFIDENCE
from synthdata.schema import GateConfig

__all__ = ["GateFailure", "GateResult", "check_gate"]


class GateFailure(BaseModel):
    check: str
    value: float | None
    bound: float | None
    message: str
    confidence_bound: float | None = Field(
        None, description="The value's one-sided 95 % confidence bound that crossed the bound "
        "(None for checks that compare the value itself).")


class GateResult(BaseModel):
    passed: bool
    enabled: bool = True
    failures: list[GateFailure] = Field(default_factory=list)
    checked: list[str] = Field(default_factory=list, description="Checks that were evaluated.")
    skipped: list[str] = Field(default_factory=list, description="Checks that did not apply.")
    within_noise: list[str] = Field(
        default_factory=list, description="Checks passed although the value itself is beyond "
        "the bound, because its confidence bound is not: within sampling noise of the bound.")
    forced: bool = Field(False, description="Exported although failed (--force).")
    override: dict[str, Any] | None = Field(
        None, description="Who forced the export, when, and which checks had failed.")


def _lookup(report: dict[str, Any], path: str) -> Any:
    node: Any = report
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_POINT = object()  # the check has no confidence bound: compare the value itself


def _sections() -> dict[str, tuple[Any, ...]]:
    from synthdata.metrics import bias, fidelity, privacy

    return {"fidelity": fidelity.GATED, "privacy": privacy.GATED, "bias": bias.GATED}


def check_gate(report: Any, config: GateConfig | None = None) -> GateResult:
    """Check a report (a :class:`~synthdata.report.Report`, or ``report.json`` as a dict)
    against the gate bounds."""
    if not isinstance(report, dict):
        report = report.to_json_dict()
    config = config or GateConfig()
    if not config.enabled:
        return GateResult(passed=True, enabled=False)
    result = GateResult(passed=True)

    def bound(check: str, value: Any, limit: float, upper: bool, what: str, *,
              required: bool, confidence: Any = _POINT) -> None:
        within = f"{'at most' if upper else 'at least'} {limit:g}"

        def no_evidence(shown: float | None, message: str) -> None:
            """Required: fails (nothing shown safe); otherwise skipped."""
            if required:
                result.checked.append(check)
                result.failures.append(GateFailure(check=check, value=shown, bound=limit,
                                                   message=message))
            else:
                result.skipped.append(check)

        if not _number(value):
            no_evidence(None, f"{what} could not be measured, so it cannot be shown to be "
                              f"{within}; see the report's details for the error")
            return
        value = float(value)
        relation = "above the maximum" if upper else "below the minimum"
        if confidence is _POINT:  # no sampling error recorded: the value itself is compared
            result.checked.append(check)
            if (value > limit) if upper else (value < limit):
                result.failures.append(GateFailure(
                    check=check, value=value, bound=limit,
                    message=f"{what} is {_fmt(value)}, {relation} of {limit:g}"))
            return
        if not _number(confidence):  # an unbounded interval: no evidence either way
            no_evidence(value, f"{what} is {_fmt(value)}, but its confidence bound could not "
                               f"be computed, so it cannot be shown to be {within}")
            return
        result.checked.append(check)
        confidence = float(confidence)
        if (confidence > limit) if upper else (confidence < limit):
            result.failures.append(GateFailure(
                check=check, value=value, bound=limit, confidence_bound=confidence,
                message=f"{what} is {_fmt(value)}; allowing for sampling noise it is still "
                        f"{'at least' if upper else 'at most'} {_fmt(confidence)} (one-sided "
                        f"{100 * CONFIDENCE:g} % confidence bound), {relation} of {limit:g}"))
        elif (value > limit) if upper else (value < limit):
            result.within_noise.append(check)

    for section, specs in _sections().items():
        data = report.get(section)
        if not isinstance(data, dict):
            continue  # a section the command does not make (e.g. no synthetic rows)
        if data.get("error"):  # the whole section failed: nothing in it is shown safe
            result.checked.append(f"{section}.scored")
            result.failures.append(GateFailure(
                check=f"{section}.scored", value=None, bound=None,
                message=f"the {section} section could not be scored ({data['error']}), so "
                        "none of its checks can be shown to pass"))
            continue
        figures = data.get("figures") or {}
        untrusted = set(figures.get("untrustworthy_attacks") or [])
        for spec in specs:
            if spec.kind == "flags":
                _flags(result, section, data.get(spec.figure), getattr(config, spec.bound))
                continue
            value = figures.get(spec.figure)
            confidence = figures[spec.confidence] if spec.confidence in figures else _POINT
            if "{key}" in spec.check:  # one check per key of a dict figure (none when absent)
                items = list((value or {}).items())
            else:
                items = [(None, value)]
            for key, item in items:
                check = (spec.check or f"{section}.{spec.figure}").format(key=key)
                if spec.attack and spec.attack.format(key=key) in untrusted:
                    result.skipped.append(check)  # no better than guessing: no evidence
                    continue
                bound(check, item, getattr(config, spec.bound), spec.upper,
                      spec.what.format(key=key), required=spec.required,
                      confidence=confidence)

    if config.max_epsilon is not None:
        dp = (report.get("privacy") or {}).get("dp")
        if not dp:
            result.checked.append("privacy.dp.epsilon")
            result.failures.append(GateFailure(
                check="privacy.dp.epsilon", value=None, bound=config.max_epsilon,
                message=f"the model is not differentially private, so no epsilon bounds its "
                        f"privacy loss; the gate asks for epsilon at most "
                        f"{config.max_epsilon:g}: fit a differentially private synthesizer "
                        "(e.g. run --epsilon)"))
        else:
            bound("privacy.dp.epsilon", dp.get("epsilon"), config.max_epsilon, True,
                  "the model's differential privacy epsilon", required=True)

    for rule in config.rules:
        value = _lookup(report, rule.path)
        if rule.min is not None:
            bound(f"rule.{rule.path}", value, rule.min, False, rule.path, required=True)
        if rule.max is not None:
            bound(f"rule.{rule.path}", value, rule.max, True, rule.path, required=True)
    result.passed = not result.failures
    return result


def _flags(result: GateResult, section: str, flags: Any, block: bool) -> None:
    """Each flag of severity ``block`` fails the gate (when the schema asks for it)."""
    if flags is None or not block:
        return
    result.checked.append(f"{section}.flags")
    for flag in flags:
        if flag.get("severity") == "block":
            result.failures.append(GateFailure(
                check=f"{section}.{flag['column']}.{flag['check']}", value=flag.get("synth"),
                bound=flag.get("tolerance"),
                message=f"{section} ({flag['column']} = {flag['group']}): {flag['message']}"))
