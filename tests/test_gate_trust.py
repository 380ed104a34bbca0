"""What the gate lets out: every default bound just inside / just outside, sampled figures tested
with their sampling error, and a utility bound that fails rows whose target carries no signal.

Issue 15, "Trust: what the gate lets out" and Done-when 3: a table whose target was shuffled fails
on utility alone; fresh real rows pass; a copy and a 30 %-perturbed copy of a 333-row train still
fail, now that a small table is no longer failed by sampling noise.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_privacy import _perturbed
from typer.testing import CliRunner

import synthdata
from synthdata.cli import app
from synthdata.demo import demo_schema, make_demo_table
from synthdata.gate import check_gate
from synthdata.metrics import fidelity, privacy
from synthdata.metrics._base import Z_ONE_SIDED, bootstrap_weights, wilson
from synthdata.schema import GateConfig, GateRule, Schema, schema_from_dict
from synthdata.split import split

ROOT = Path(__file__).resolve().parents[1]


# ---- every default bound, just inside and just outside ---------------------------------------
def _report() -> dict:
    """A report that passes every default bound, with room to spare."""
    return {
        "fidelity": {"figures": {
            "column_shapes": 0.9, "column_pair_trends": 0.8, "detection_auc": 0.6,
            "constraint_violations": 0.0,
            "ml_efficacy_skill": 0.9, "ml_efficacy_skill_upper": 1.1,
        }},
        "privacy": {"figures": {
            "dcr_share": 0.5, "dcr_share_lower": 0.47,
            "exact_copy_excess": 0.0, "exact_copy_excess_lower": 0.0,
            "mia_auc": 0.5, "mia_auc_lower": 0.47,
            "singling_out_risk_univariate": 0.0, "singling_out_risk_multivariate": 0.0,
            "linkability_risk": 0.0, "inference_risk": {"sex": 0.0},
            "untrustworthy_attacks": [],
        }},
        "bias": {"figures": {}, "flags": []},
    }


# (section, figures just inside, figures just outside, the check that fails). For the figures
# tested with their sampling error, the value itself is beyond the bound in both cases: only
# the confidence bound decides.
BOUNDS = [
    ("fidelity", {"column_shapes": 0.701}, {"column_shapes": 0.699}, "fidelity.column_shapes"),
    ("fidelity", {"column_pair_trends": 0.601}, {"column_pair_trends": 0.599},
     "fidelity.column_pair_trends"),
    ("fidelity", {"detection_auc": 0.949}, {"detection_auc": 0.951}, "fidelity.detection_auc"),
    ("fidelity", {"ml_efficacy_skill": 0.3, "ml_efficacy_skill_upper": 0.501},
     {"ml_efficacy_skill": 0.3, "ml_efficacy_skill_upper": 0.499}, "fidelity.ml_efficacy_skill"),
    ("privacy", {"dcr_share": 0.58, "dcr_share_lower": 0.549},
     {"dcr_share": 0.58, "dcr_share_lower": 0.551}, "privacy.dcr_share"),
    ("privacy", {"exact_copy_excess": 0.02, "exact_copy_excess_lower": 0.0099},
     {"exact_copy_excess": 0.02, "exact_copy_excess_lower": 0.0101}, "privacy.exact_copy_excess"),
    ("privacy", {"mia_auc": 0.63, "mia_auc_lower": 0.599},
     {"mia_auc": 0.63, "mia_auc_lower": 0.601}, "privacy.mia_auc"),
    ("privacy", {"singling_out_risk_univariate": 0.099}, {"singling_out_risk_univariate": 0.101},
     "privacy.singling_out_univariate_risk"),
    ("privacy", {"singling_out_risk_multivariate": 0.099},
     {"singling_out_risk_multivariate": 0.101}, "privacy.singling_out_multivariate_risk"),
    ("privacy", {"linkability_risk": 0.099}, {"linkability_risk": 0.101},
     "privacy.linkability_risk"),
    ("privacy", {"inference_risk": {"sex": 0.099}}, {"inference_risk": {"sex": 0.101}},
     "privacy.inference_risk.sex"),
]


def _with(section: str, figures: dict) -> dict:
    report = _report()
    report[section]["figures"].update(figures)
    return report


@pytest.mark.parametrize(("section", "inside", "outside", "check"), BOUNDS,
                         ids=[b[3] for b in BOUNDS])
def test_each_default_bound_just_inside_passes_and_just_outside_fails(section, inside, outside,
                                                                      check):
    """Loosening any default (dcr 0.55 -> 0.60, MIA 0.60 -> 0.75, exact copies x10, re-
    identification 0.10 -> 0.25, ...) lets the 'just outside' report through: this fails."""
    passed = check_gate(_with(section, inside))
    assert passed.passed, passed.failures
    assert check in passed.checked
    failed = check_gate(_with(section, outside))
    assert [f.check for f in failed.failures] == [check]


def test_the_defaults_are_the_documented_ones():
    config = GateConfig()
    assert (config.min_column_shapes, config.min_column_pair_trends, config.max_detection_auc,
            config.min_ml_efficacy, config.max_dcr_share, config.max_exact_copy_excess,
            config.max_mia_auc, config.max_reidentification_risk) == (
        0.70, 0.60, 0.95, 0.5, 0.55, 0.01, 0.60, 0.10)


def test_a_full_report_is_checked_on_every_gated_figure():
    """Taking a spec out of a module's GATED (pair trends, detection, utility, ...) shows here."""
    result = check_gate(_report())
    assert result.passed and result.skipped == [] and result.within_noise == []
    assert set(result.checked) >= {
        "fidelity.column_shapes", "fidelity.column_pair_trends", "fidelity.detection_auc",
        "fidelity.ml_efficacy_skill", "privacy.dcr_share", "privacy.exact_copy_excess",
        "privacy.mia_auc", "privacy.singling_out_univariate_risk",
        "privacy.singling_out_multivariate_risk", "privacy.linkability_risk",
        "privacy.inference_risk.sex", "bias.flags"}


def test_a_failure_names_the_value_its_confidence_bound_and_the_bound():
    [failure] = check_gate(_with("privacy", {"dcr_share": 0.62,
                                             "dcr_share_lower": 0.571})).failures
    assert (failure.value, failure.confidence_bound, failure.bound) == (0.62, 0.571, 0.55)
    assert "0.620" in failure.message and "0.571" in failure.message
    assert "above the maximum of 0.55" in failure.message
    assert "95 % confidence bound" in failure.message
    [failure] = check_gate(_with("fidelity", {"ml_efficacy_skill": 0.05,
                                              "ml_efficacy_skill_upper": 0.31})).failures
    assert "0.050" in failure.message and "0.310" in failure.message
    assert "below the minimum of 0.5" in failure.message


def test_within_noise_passes_and_is_listed():
    """The issue's case: 0.562 on 333 rows is 2 standard errors from 0.5, not a leak."""
    result = check_gate(_with("privacy", {"dcr_share": 0.562, "dcr_share_lower": 0.511}))
    assert result.passed and result.within_noise == ["privacy.dcr_share"]


def test_without_a_confidence_bound_the_value_itself_is_compared():
    """An older report.json (no ``_lower`` figures) is checked as before."""
    report = _report()
    del report["privacy"]["figures"]["dcr_share_lower"]
    report["privacy"]["figures"]["dcr_share"] = 0.551
    assert [f.check for f in check_gate(report).failures] == ["privacy.dcr_share"]


def test_an_unbounded_interval_fails_a_privacy_check_and_skips_utility():
    failed = check_gate(_with("privacy", {"mia_auc_lower": None}))
    [failure] = failed.failures
    assert failure.check == "privacy.mia_auc" and "could not be computed" in failure.message
    # a holdout too small to show the real rows' signal: no evidence that utility was lost
    skipped = check_gate(_with("fidelity", {"ml_efficacy_skill": 0.1,
                                            "ml_efficacy_skill_upper": None}))
    assert skipped.passed and "fidelity.ml_efficacy_skill" in skipped.skipped


def test_a_rule_still_bounds_the_value_itself():
    config = GateConfig(rules=[GateRule(path="privacy.figures.dcr_share", max=0.55)])
    result = check_gate(_with("privacy", {"dcr_share": 0.562, "dcr_share_lower": 0.511}), config)
    assert [f.check for f in result.failures] == ["rule.privacy.figures.dcr_share"]


# ---- the sampling errors themselves ----------------------------------------------------------
def test_newcombe_interval_matches_the_textbook():
    """Newcombe (1998), Stat Med 17:873, table II, method 10 (two-sided 95 %)."""
    z = 1.959963984540054
    for (a, m, b, n), low in [((56, 70, 48, 80), 0.0524), ((9, 10, 3, 10), 0.1705),
                              ((6, 7, 2, 7), 0.0582)]:
        assert privacy._excess_bound(a / m, m, b / n, n, z=z)[0] == pytest.approx(low, abs=5e-5)


def test_wilson_interval_matches_the_textbook():
    """Wilson score interval for 81/263 at 95 %: 0.2553 to 0.3662 (Newcombe 1998a, table I)."""
    centre, half = wilson(81, 263, 1.959963984540054)
    assert (centre - half, centre + half) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert wilson(0, 0, 1.96) == (0.0, 1.0)


def test_a_few_copies_are_noise_many_are_a_leak():
    lower, se = privacy._excess_bound(5 / 333, 333, 0.0, 333)
    assert 0 < lower < 0.01 and se == pytest.approx(math.sqrt(5 / 333 * 328 / 333 / 333))
    assert privacy._excess_bound(30 / 3000, 3000, 0.0, 3000)[0] > 0.005
    assert privacy._excess_bound(60 / 3000, 3000, 0.0, 3000)[0] > 0.01


def test_mia_standard_error_is_the_mann_whitney_null():
    scores = np.arange(20.0)
    assert privacy._auc_null_se(scores, 8, 12) == pytest.approx(math.sqrt(21 / (12 * 8 * 12)))
    tied = np.r_[np.zeros(10), np.ones(10)]
    assert privacy._auc_null_se(tied, 10, 10) < privacy._auc_null_se(scores, 10, 10)


def test_dcr_standard_error_counts_rows_that_share_a_reference_row():
    n = 100
    nearer = np.arange(n) % 2 == 0
    tie = np.zeros(n, dtype=bool)
    spread = privacy._dcr_share_se(np.arange(n), np.arange(n), nearer, tie, n, n)
    # each synth row its own reference row: a hypergeometric count of half the charged rows
    assert spread == pytest.approx(math.sqrt(n * n / (2 * n * (2 * n - 1)) * n / 2) / n)
    clumped = privacy._dcr_share_se(np.arange(n) // 10, np.arange(n) // 10, nearer, tie, n, n)
    assert clumped > 2 * spread


def test_bootstrap_weights_resample_every_row_count():
    rng = np.random.default_rng(0)
    weights = list(bootstrap_weights(50, rounds=3, rng=rng))
    assert len(weights) == 3 and all(w.sum() == 50 and w.min() >= 0 for w in weights)


@pytest.fixture(scope="module")
def demo_small() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """333 rows each of train, holdout and fresh rows of the demo table (the issue's sizes)."""
    schema = demo_schema()
    df = schema.validate_table(make_demo_table(1000, seed=0))[schema.modelled_columns]
    return df.iloc[:333], df.iloc[333:666], df.iloc[666:999]


def test_privacy_figures_carry_their_standard_errors(demo_small):
    train, holdout, fresh = demo_small
    figures = privacy.evaluate_privacy(train, fresh, holdout, demo_schema())["figures"]
    for name in ("dcr_share", "mia_auc", "exact_copy_excess"):
        se, lower = figures[f"{name}_se"], figures[f"{name}_lower"]
        assert se >= 0 and lower <= figures[name]
    # 333 rows: the spread of the share over fresh samples is 0.030 (binomial would say 0.027)
    assert 0.026 < figures["dcr_share_se"] < 0.036
    assert figures["dcr_share_lower"] == pytest.approx(
        figures["dcr_share"] - Z_ONE_SIDED * figures["dcr_share_se"])
    assert figures["mia_auc_se"] == pytest.approx(math.sqrt(667 / (12 * 333 * 333)), rel=0.05)


@pytest.mark.parametrize("leak", ["copy", "perturbed_30"])
def test_a_copy_and_a_perturbed_copy_of_a_333_row_train_still_fail(demo_small, leak):
    train, holdout, _ = demo_small
    synth = train if leak == "copy" else _perturbed(train, 0.3)
    section = privacy.evaluate_privacy(train, synth, holdout, demo_schema())
    result = check_gate({"privacy": section})
    failed = {f.check: f for f in result.failures}
    assert "privacy.dcr_share" in failed and "privacy.exact_copy_excess" in failed
    assert failed["privacy.dcr_share"].confidence_bound > 0.58  # measured: 0.97 and 0.60


# ---- utility: ml_efficacy_skill ---------------------------------------------------------------
CREDIT = {
    "name": "credit", "target": "bad", "sensitive": ["sex"],
    "quasi_identifiers": ["age", "sex", "housing"],
    "columns": {
        "age": {"kind": "integer", "min": 18, "max": 80},
        "sex": {"kind": "categorical", "categories": ["F", "M"]},
        "housing": {"kind": "categorical", "categories": ["own", "rent", "free"]},
        "checking": {"kind": "categorical", "categories": ["none", "low", "mid", "high"]},
        "duration": {"kind": "integer", "min": 4, "max": 72},
        "amount": {"kind": "numerical", "min": 0},
        "bad": {"kind": "boolean"},
    },
}


def _credit(n: int, seed: int) -> pd.DataFrame:
    """A German-credit-like table: 26 % bad loans, which depend on duration, age, checking
    account and housing (the generating model's AUC is 0.85)."""
    rng = np.random.default_rng(seed)
    age = np.clip(np.round(18 + rng.gamma(3.0, 6.0, n)), 18, 80).astype(int)
    sex = rng.choice(["F", "M"], n, p=[0.35, 0.65])
    housing = rng.choice(["own", "rent", "free"], n, p=[0.7, 0.2, 0.1])
    checking = rng.choice(["none", "low", "mid", "high"], n, p=[0.4, 0.3, 0.22, 0.08])
    duration = np.clip(np.round(rng.gamma(3.0, 7.0, n)), 4, 72).astype(int)
    amount = np.round(np.exp(rng.normal(7.6 + 0.025 * duration, 0.5)), -1)
    effect = {"none": -1.8, "low": 0.9, "mid": 0.3, "high": -0.6, "own": -0.45, "rent": 0.6,
              "free": 0.45}
    logit = (-1.0 + 0.09 * (duration - 21) - 0.045 * (age - 36)
             + np.vectorize(effect.get)(checking) + np.vectorize(effect.get)(housing))
    bad = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({"age": age, "sex": sex, "housing": housing, "checking": checking,
                         "duration": duration, "amount": amount, "bad": bad})


def _shuffled(df: pd.DataFrame, column: str, seed: int = 0) -> pd.DataFrame:
    out = df.copy()
    out[column] = np.random.default_rng(seed).permutation(out[column].to_numpy())
    return out


@pytest.fixture(scope="module")
def credit() -> tuple[Schema, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A 1,000-row table as train, holdout and fresh rows of 333 each."""
    schema = schema_from_dict(CREDIT)
    df = schema.validate_table(_credit(1000, seed=0))
    return schema, df.iloc[:333], df.iloc[333:666], df.iloc[666:999]


# binary (credit), multiclass (the demo's plan, from income) and numbers (spend, from plan)
@pytest.mark.parametrize("target", ["bad", "plan", "monthly_spend"])
def test_skill_of_a_shuffled_target_is_chance_and_of_fresh_rows_is_kept(credit, demo_small,
                                                                        target):
    if target == "bad":
        schema, train, holdout, fresh = credit
    else:
        schema = demo_schema().model_copy(update={"target": target})
        train, holdout, fresh = demo_small
    useless = fidelity.ml_efficacy(train, _shuffled(fresh, target), holdout, schema).figures
    useful = fidelity.ml_efficacy(train, fresh, holdout, schema).figures
    assert useless["ml_efficacy_skill_upper"] < 0.5 < useful["ml_efficacy_skill_upper"]
    assert useless["ml_efficacy_skill"] < 0.3 < 0.6 < useful["ml_efficacy_skill"]
    assert useful["ml_efficacy_skill_metric"] == {
        "bad": "roc_auc", "plan": "macro_roc_auc_ovr", "monthly_spend": "r2"}[target]
    assert useless["ml_efficacy_skill_se"] > 0


def test_a_target_the_holdout_cannot_show_is_not_judged(credit):
    """Too little signal in the real rows (R² 0.06): the bound is unbounded, the check skipped."""
    schema, train, holdout, fresh = credit
    schema = schema.model_copy(update={"target": "amount"})
    figures = fidelity.ml_efficacy(train, _shuffled(fresh, "amount"), holdout, schema).figures
    assert figures["ml_efficacy_skill"] < 0 and figures["ml_efficacy_skill_upper"] is None
    assert "fidelity.ml_efficacy_skill" in check_gate({"fidelity": {"figures": figures}}).skipped


def test_skill_point_value_is_the_chance_corrected_ratio(credit):
    schema, train, holdout, fresh = credit
    figures = fidelity.ml_efficacy(train, fresh, holdout, schema).figures
    assert figures["ml_efficacy_skill_tstr"] == pytest.approx(figures["tstr"])
    assert figures["ml_efficacy_skill"] == pytest.approx(
        (figures["tstr"] - 0.5) / (figures["trtr"] - 0.5))
    assert figures["ml_efficacy_skill"] <= figures["ml_efficacy_skill_upper"]


# ---- Done-when 3, through evaluate ------------------------------------------------------------
def _evaluate_cli(tmp_path: Path, schema_path: Path, train: pd.DataFrame, synth: pd.DataFrame,
                  holdout: pd.DataFrame) -> tuple[int, str, dict]:
    paths = {}
    for name, df in (("train", train), ("holdout", holdout), ("synth", synth)):
        paths[name] = tmp_path / f"{name}.parquet"
        df.to_parquet(paths[name])
    result = CliRunner().invoke(app, [
        "evaluate", "--train", str(paths["train"]), "--holdout", str(paths["holdout"]),
        "--synth", str(paths["synth"]), "--schema", str(schema_path), "--out",
        str(tmp_path / "out"), "--quiet"])
    return (result.exit_code, result.output,
            json.loads((tmp_path / "out" / "report.json").read_text()))


def test_shuffled_target_fails_on_utility_alone_on_a_1000_row_table(tmp_path, credit):
    schema, train, holdout, fresh = credit
    schema_path = tmp_path / "credit.yaml"
    schema_path.write_text(json.dumps(CREDIT))  # JSON is YAML
    code, output, report = _evaluate_cli(tmp_path, schema_path, train,
                                         _shuffled(fresh, "bad"), holdout)
    assert code == 1, output
    [failure] = report["gate"]["failures"]
    assert failure["check"] == "fidelity.ml_efficacy_skill"
    assert failure["confidence_bound"] < 0.5 and "below the minimum of 0.5" in failure["message"]
    assert "fidelity.ml_efficacy_skill" in output


def test_fresh_real_rows_pass_on_a_1000_row_table(credit):
    schema, train, holdout, fresh = credit
    report = synthdata.evaluate(train, fresh, holdout, schema).report
    assert report["gate"]["passed"], report["gate"]["failures"]
    assert "fidelity.ml_efficacy_skill" in report["gate"]["checked"]


@pytest.mark.slow
def test_shuffled_target_fails_on_utility_alone_on_the_demo_table():
    schema = demo_schema()
    table = schema.validate_table(make_demo_table(seed=0))[schema.modelled_columns]
    train, holdout = split(table, schema, seed=0)
    fresh = schema.validate_table(make_demo_table(len(train), seed=1000))[
        schema.modelled_columns]
    useless = synthdata.evaluate(train, _shuffled(fresh, "churned"), holdout, schema).report
    assert [f["check"] for f in useless["gate"]["failures"]] == ["fidelity.ml_efficacy_skill"]
    good = synthdata.evaluate(train, fresh, holdout, schema).report
    assert good["gate"]["passed"], good["gate"]["failures"]


@pytest.mark.slow
def test_the_demo_run_passes_with_its_utility_checked(demo_run):
    out, _ = demo_run  # run(make_demo_table(seed=0), demo_schema(), seed=0)
    gate = json.loads((out / "report.json").read_text())["gate"]
    assert gate["passed"], gate["failures"]
    assert "fidelity.ml_efficacy_skill" in gate["checked"]
