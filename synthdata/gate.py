"""The export gate: turns the report's figures into an export decision.

``check_gate(report, config)`` reads the figures of a report (the dict written to
``report.json``) and returns :class:`GateResult` — ``passed`` plus one :class:`GateFailure`
``{check, value, bound, message}`` per failed check, in plain words. Bounds come from the
schema's ``gate:`` block (:class:`synthdata.schema.GateConfig`, defaults from published anchors):

- fidelity: ``column_shapes`` >= 0.70, ``column_pair_trends`` >= 0.60, ``detection_auc`` <= 0.95;
- privacy: ``dcr_share`` <= 0.55 (good generators score 0.495-0.51; copying 30 % of cells gives
  0.64), exact copies of train rows at most 1 point above the holdout's own rate, ``mia_auc`` <=
  0.60, each trustworthy re-identification risk (singling out, linkability, inference) <= 0.10;
- bias: no flag of severity ``block`` (a lost group, a widened or reversed outcome gap);
- ``rules``: further bounds on any figure or score by its dotted path in the report.

A privacy figure that could not be measured fails its check (no evidence is not evidence of
safety); a fidelity figure that does not apply (e.g. pair trends of a one-column table) is
skipped. A failed gate is a result, not an exception: ``run`` writes the reports but no
synthetic table, unless forced (the override is recorded).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from synthdata.schema import GateConfig

__all__ = ["GateFailure", "GateResult", "check_gate"]


class GateFailure(BaseModel):
    check: str
    value: float | None
    bound: float | None
    message: str


class GateResult(BaseModel):
    passed: bool
    enabled: bool = True
    failures: list[GateFailure] = Field(default_factory=list)
    checked: list[str] = Field(default_factory=list, description="Checks that were evaluated.")
    skipped: list[str] = Field(default_factory=list, description="Checks that did not apply.")


def _lookup(report: dict[str, Any], path: str) -> Any:
    node: Any = report
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def check_gate(report: dict[str, Any], config: GateConfig | None = None) -> GateResult:
    """Check a report (``report.json`` as a dict) against the gate bounds."""
    config = config or GateConfig()
    if not config.enabled:
        return GateResult(passed=True, enabled=False)
    result = GateResult(passed=True)

    def bound(check: str, value: Any, limit: float, upper: bool, what: str, *,
              required: bool) -> None:
        if value is None or not isinstance(value, int | float):
            if required:
                result.checked.append(check)
                result.failures.append(GateFailure(
                    check=check, value=None, bound=limit,
                    message=f"{what} could not be measured, so it cannot be shown to be within "
                            f"{'at most' if upper else 'at least'} {limit:g}; see the report's "
                            "details for the error"))
            else:
                result.skipped.append(check)
            return
        result.checked.append(check)
        value = float(value)
        if (value > limit) if upper else (value < limit):
            relation = "above the maximum" if upper else "below the minimum"
            result.failures.append(GateFailure(
                check=check, value=value, bound=limit,
                message=f"{what} is {_fmt(value)}, {relation} of {limit:g}"))

    fid = _lookup(report, "fidelity.figures") or {}
    bound("fidelity.column_shapes", fid.get("column_shapes"), config.min_column_shapes, False,
          "column shapes (how well each synthetic column's distribution matches the real one)",
          required=False)
    bound("fidelity.column_pair_trends", fid.get("column_pair_trends"),
          config.min_column_pair_trends, False,
          "column pair trends (how well correlations between columns are kept)", required=False)
    bound("fidelity.detection_auc", fid.get("detection_auc"), config.max_detection_auc, True,
          "the AUC of a classifier telling synthetic rows from real ones", required=False)

    priv = _lookup(report, "privacy.figures")
    if priv is not None:
        bound("privacy.dcr_share", priv.get("dcr_share"), config.max_dcr_share, True,
              "the share of synthetic rows closer to a training row than to a holdout row "
              "(0.5 = no leak)", required=True)
        rate, base = priv.get("exact_copy_rate"), priv.get("exact_copy_rate_holdout")
        excess = rate - base if isinstance(rate, float) and isinstance(base, float) else None
        bound("privacy.exact_copy_excess", excess, config.max_exact_copy_excess, True,
              "the rate of synthetic rows that copy a training row, above the holdout's own "
              "rate of natural duplicates", required=True)
        bound("privacy.mia_auc", priv.get("mia_auc"), config.max_mia_auc, True,
              "the AUC of a membership-inference attacker (0.5 = it cannot tell who was in "
              "the training data)", required=True)
        untrusted = set(priv.get("untrustworthy_attacks") or [])
        risks = {"singling_out_univariate": priv.get("singling_out_risk_univariate"),
                 "singling_out_multivariate": priv.get("singling_out_risk_multivariate"),
                 "linkability": priv.get("linkability_risk")}
        risks.update({f"inference:{c}": v for c, v in (priv.get("inference_risk") or {}).items()})
        for name, value in risks.items():
            check = f"privacy.{name.replace(':', '_risk.') if ':' in name else name + '_risk'}"
            if name in untrusted:
                result.skipped.append(check)  # no better than guessing: no evidence either way
                continue
            what = {"singling_out_univariate": "the risk of singling out one person from a "
                                               "single column's value",
                    "singling_out_multivariate": "the risk of singling out one person from a "
                                                 "combination of values",
                    "linkability": "the risk of linking two halves of a person's record"}.get(
                name, f"the risk of inferring {name.split(':', 1)[-1]} from the "
                      "quasi-identifiers")
            bound(check, value, config.max_reidentification_risk, True, what,
                  required=name != "linkability")

    flags = _lookup(report, "bias.flags")
    if flags is not None and config.block_on_bias_flags:
        result.checked.append("bias.flags")
        for flag in flags:
            if flag.get("severity") == "block":
                result.failures.append(GateFailure(
                    check=f"bias.{flag['column']}.{flag['check']}", value=flag.get("synth"),
                    bound=flag.get("tolerance"),
                    message=f"bias ({flag['column']} = {flag['group']}): {flag['message']}"))

    for rule in config.rules:
        value = _lookup(report, rule.path)
        if rule.min is not None:
            bound(f"rule.{rule.path}", value, rule.min, False, rule.path, required=True)
        if rule.max is not None:
            bound(f"rule.{rule.path}", value, rule.max, True, rule.path, required=True)
    result.passed = not result.failures
    return result
