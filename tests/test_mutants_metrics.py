"""Scores and gate checks that a deliberately broken metric would get wrong (issue 15, item 5).

Each test pins a figure to a value computed by hand (or independently in the test) on a small
table built for it, so that a mutant — a constant in place of a figure, a baseline forced to
0, a bound read at the wrong place, a flag never raised — changes the outcome.
``benchmarks/mutation.py`` runs these tests against such mutants.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from synthdata.gate import check_gate
from synthdata.metrics import fidelity
from synthdata.metrics.attacks import Z_95, Rate, risk
from synthdata.metrics.bias import evaluate_bias
from synthdata.metrics.privacy import exact_copies, membership_inference, reidentification
from synthdata.schema import GateConfig, Schema, schema_from_dict


def _schema(columns: dict, **extra) -> Schema:
    return schema_from_dict({"name": "t", "columns": columns, **extra}, source="test schema")


# ---- bias: warn flags do not block, block flags do; a downstream change is flagged ----------
PEOPLE = _schema({"sex": {"kind": "categorical", "categories": ["F", "M"]},
                  "x": {"kind": "numerical"}, "y": {"kind": "boolean"}},
                 target="y", sensitive=["sex"])


def _people(n: int, seed: int) -> pd.DataFrame:
    """y is x plus a little noise above 0.5 (about 30 % positive), alike in both sexes."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"sex": rng.choice(["F", "M"], n), "x": x,
                         "y": x + 0.5 * rng.normal(size=n) > 0.5})


@pytest.fixture(scope="module")
def people() -> dict[str, pd.DataFrame]:
    return {"train": _people(1200, 1), "holdout": _people(1200, 2), "fresh": _people(1200, 3)}


def _target_noise_in(df: pd.DataFrame, group: str) -> pd.DataFrame:
    """The target of one group shuffled among its rows: the group's positive rate and share
    stay, but a model trained on these rows cannot tell that group's positives apart."""
    out = df.copy()
    rows = out["sex"] == group
    out.loc[rows, "y"] = np.random.default_rng(9).permutation(out.loc[rows, "y"].to_numpy())
    return out


def test_downstream_fairness_change_is_flagged_as_a_warning_that_does_not_block(people):
    synth = _target_noise_in(people["fresh"], "F")
    out = evaluate_bias(people["train"], synth, people["holdout"], PEOPLE, seed=0)
    figures = out["figures"]["sex"]
    # the real-trained model treats both sexes alike; the synth-trained one fails women
    assert figures["eo_gap_real_model"] < 0.15
    assert figures["eo_gap_synth_model"] > figures["eo_gap_real_model"] + 0.25
    assert out["scores"]["downstream_fairness"] < 0.75
    flags = [f for f in out["flags"] if f["check"] == "equalized_odds"]
    assert len(flags) == 1, out["flags"]
    assert flags[0]["group"] == "F" and flags[0]["change"] == "widens"
    assert flags[0]["severity"] == "warn"
    # shares and positive rates are untouched: nothing else is flagged
    assert [f["check"] for f in out["flags"]] == ["equalized_odds"]
    gate = check_gate({"bias": out})
    assert gate.passed and "bias.flags" in gate.checked, gate.failures


def test_fresh_rows_move_no_downstream_figure(people):
    out = evaluate_bias(people["train"], people["fresh"], people["holdout"], PEOPLE, seed=0)
    figures = out["figures"]["sex"]
    assert out["flags"] == []
    assert abs(figures["eo_gap_synth_model"] - figures["eo_gap_real_model"]) < 0.1
    assert out["scores"]["downstream_fairness"] > 0.9


def test_representation_shift_warns_and_a_lost_group_blocks(people):
    fresh = people["fresh"]
    women = fresh.index[fresh["sex"] == "F"]
    fewer_women = fresh.drop(index=women[: int(0.6 * len(women))])  # F: ~50 % -> ~29 %
    out = evaluate_bias(people["train"], fewer_women, people["holdout"], PEOPLE, seed=0)
    shifts = [f for f in out["flags"] if f["check"] == "representation"]
    assert {f["group"] for f in shifts} == {"F", "M"}
    assert {f["severity"] for f in out["flags"]} == {"warn"}, out["flags"]
    assert check_gate({"bias": out}).passed

    no_women = fresh[fresh["sex"] == "M"]
    out = evaluate_bias(people["train"], no_women, people["holdout"], PEOPLE, seed=0)
    lost = [f for f in out["flags"] if f["change"] == "lost"]
    assert len(lost) == 1 and lost[0]["severity"] == "block"
    gate = check_gate({"bias": out})
    assert not gate.passed
    assert [f.check for f in gate.failures] == ["bias.sex.representation"]


def _flag(severity: str, check: str = "representation") -> dict:
    return {"column": "sex", "group": "F", "check": check, "real": 0.5, "synth": 0.3,
            "tolerance": 0.05, "message": "moved", "change": "shrinks", "severity": severity}


@pytest.mark.parametrize(("severities", "passed"), [
    ([], True),
    (["warn"], True),
    (["warn", "warn", "warn"], True),
    (["block"], False),
    (["warn", "block", "warn"], False),
])
def test_gate_blocks_on_block_flags_only(severities, passed):
    report = {"bias": {"figures": {}, "flags": [_flag(s) for s in severities]}}
    result = check_gate(report)
    assert result.passed is passed, result.failures
    assert len(result.failures) == severities.count("block")
    # a schema may turn blocking off; then nothing in bias fails
    assert check_gate(report, GateConfig(block_on_bias_flags=False)).passed


# ---- fidelity checks the gate makes ---------------------------------------------------------
GOOD_FIDELITY = {"column_shapes": 0.9, "column_pair_trends": 0.9, "detection_auc": 0.6,
                 "constraint_violations": 0.0}


@pytest.mark.parametrize(("figure", "value", "check"), [
    ("column_pair_trends", 0.59, "fidelity.column_pair_trends"),
    ("detection_auc", 0.96, "fidelity.detection_auc"),
    ("column_shapes", 0.69, "fidelity.column_shapes"),
])
def test_gate_checks_pair_trends_detection_and_shapes(figure, value, check):
    assert check_gate({"fidelity": {"figures": GOOD_FIDELITY}}).passed
    result = check_gate({"fidelity": {"figures": {**GOOD_FIDELITY, figure: value}}})
    assert [f.check for f in result.failures] == [check]
    assert check in result.checked
    # the bound is read from the schema's gate block
    looser = GateConfig(min_column_pair_trends=0.5, max_detection_auc=0.97,
                        min_column_shapes=0.6)
    assert check_gate({"fidelity": {"figures": {**GOOD_FIDELITY, figure: value}}},
                      looser).passed


# ---- membership inference: TPR at 1 % FPR on a hand-computable case -----------------------
def test_mia_tpr_is_read_at_one_percent_false_positives():
    """One synthetic row at 0; each real row's distance to it is its value.

    Non-members: 1 at 0.05, 9 at 0.08, 90 at 0.9. Members: 20 at 0.01, 30 at 0.1, 50 at 0.5.
    At 1 % FPR the attacker may call one non-member (0.05) a member, so its threshold stops
    before 0.08: the members below are the 20 at 0.01, TPR 0.20. At 10 % FPR it would reach
    every member (TPR 1.0). AUC: (20*100 + 30*90 + 50*90) / (100*100) = 0.92.
    """
    schema = _schema({"x": {"kind": "numerical"}})
    members = pd.DataFrame({"x": [0.01] * 20 + [0.1] * 30 + [0.5] * 50})
    non_members = pd.DataFrame({"x": [0.05] + [0.08] * 9 + [0.9] * 90})
    synth = pd.DataFrame({"x": [0.0]})
    result = membership_inference(members, synth, non_members, schema, seed=0)
    assert result.figures["mia_tpr_at_1pct_fpr"] == pytest.approx(0.20)
    assert result.figures["mia_auc"] == pytest.approx(0.92)
    assert result.scores["mia_protection"] == pytest.approx(1 - 2 * (0.92 - 0.5))


# ---- exact copies: natural duplicates give a nonzero holdout baseline ------------------------
def test_exact_copy_excess_is_over_the_holdouts_natural_duplicates():
    schema = _schema({"a": {"kind": "categorical", "categories": ["x", "y", "z"]},
                      "b": {"kind": "categorical", "categories": ["p", "q"]}})
    train = pd.DataFrame({"a": ["x", "x", "y"] * 20, "b": ["p", "q", "p"] * 20})
    # 24 of 60 holdout rows are natural duplicates of train rows: baseline 0.4
    holdout = pd.DataFrame({"a": ["x"] * 24 + ["z"] * 36, "b": ["p"] * 24 + ["q"] * 36})
    # 35 of 50 synthetic rows equal a train row: rate 0.7, excess 0.3
    synth = pd.DataFrame({"a": ["y"] * 35 + ["z"] * 15, "b": ["p"] * 35 + ["p"] * 15})
    figures = exact_copies(train, synth, holdout, schema).figures
    assert figures["exact_copy_rate"] == pytest.approx(0.7)
    assert figures["exact_copy_rate_holdout"] == pytest.approx(0.4)
    assert figures["exact_copy_excess"] == pytest.approx(0.3)
    # a synthetic table no more duplicated than fresh rows has no excess at all
    fresh = holdout.sample(frac=1.0, random_state=1)
    result = exact_copies(train, fresh, holdout, schema)
    assert result.figures["exact_copy_rate"] == pytest.approx(0.4)
    assert result.figures["exact_copy_excess"] == 0.0
    assert result.scores["exact_copy_protection"] == 1.0


# ---- re-identification: untrustworthy attacks are no evidence ------------------------------
def test_untrustworthy_attacks_do_not_move_the_protection_score():
    """One numeric column, no quasi-identifiers or sensitive columns: only singling out runs.

    60 synthetic rows copy 60 training rows: each unique value singles out its training row
    (risk near 1) but 62 guesses are below the 100 an attack needs to be trusted, and the
    multivariate attack finds only the two extremes. Neither is evidence: score 1.0. With 300
    copied rows the univariate attack has enough guesses and the score collapses.
    """
    schema = _schema({"x": {"kind": "numerical"}})
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"x": rng.uniform(0, 1, 300)})
    holdout = pd.DataFrame({"x": rng.uniform(0, 1, 300)})
    few = reidentification(train, train.iloc[:60], holdout, schema, seed=0)
    assert few.figures["singling_out_risk_univariate"] > 0.5  # a real leak, unproven
    assert set(few.figures["untrustworthy_attacks"]) == {
        "singling_out_univariate", "singling_out_multivariate"}
    assert few.scores["reidentification_protection"] == 1.0

    many = reidentification(train, train, holdout, schema, seed=0)
    assert "singling_out_univariate" not in many.figures["untrustworthy_attacks"]
    assert many.scores["reidentification_protection"] < 0.2
    assert many.scores["reidentification_protection"] == pytest.approx(
        1 - many.figures["singling_out_risk_univariate"])


def test_gate_skips_untrustworthy_attacks_but_checks_trusted_ones():
    figures = {"dcr_share": 0.5, "exact_copy_excess": 0.0, "mia_auc": 0.5,
               "singling_out_risk_univariate": 0.9, "singling_out_risk_multivariate": 0.0,
               "linkability_risk": None, "inference_risk": {}}
    untrusted = {"privacy": {"figures": {**figures,
                                         "untrustworthy_attacks": ["singling_out_univariate"]}}}
    result = check_gate(untrusted, GateConfig())
    assert result.passed, result.failures
    assert "privacy.singling_out_univariate_risk" in result.skipped
    trusted = {"privacy": {"figures": {**figures, "untrustworthy_attacks": []}}}
    result = check_gate(trusted, GateConfig())
    assert [f.check for f in result.failures] == ["privacy.singling_out_univariate_risk"]


# ---- Wilson score interval -------------------------------------------------------------------
def _wilson_bounds(k: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Roots of (p_hat - p)^2 = z^2 p (1 - p) / n: the interval by its definition."""
    p_hat = k / n
    a = 1 + z * z / n
    b = -(2 * p_hat + z * z / n)
    c = p_hat * p_hat
    root = math.sqrt(b * b - 4 * a * c)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (3, 10, 0.1078, 0.6032),     # 3 of 10 at 95 %: 0.108 to 0.603
    (81, 263, 0.2553, 0.3662),   # 81 of 263: 0.255 to 0.366
    (0, 20, 0.0, 0.1611),
    (20, 20, 0.8389, 1.0),
    (1, 1000, 0.00018, 0.00565),
])
def test_wilson_interval_matches_textbook_values(k, n, low, high):
    centre, half = Rate(k, n).wilson
    lo, hi = _wilson_bounds(k, n)
    assert centre - half == pytest.approx(lo, abs=1e-9)
    assert centre + half == pytest.approx(hi, abs=1e-9)
    assert (centre - half, centre + half) == pytest.approx((low, high), abs=6e-5)
    if 0 < k < n:
        assert centre != pytest.approx(k / n, abs=1e-3)  # the centre is pulled towards 1/2


def test_risk_uses_the_wilson_centres():
    main, control, baseline = Rate(30, 100), Rate(10, 100), Rate(3, 10)
    out = risk(main, control, baseline)
    r_main = sum(_wilson_bounds(30, 100)) / 2
    r_control = sum(_wilson_bounds(10, 100)) / 2
    assert out["attack_rate"] == pytest.approx(r_main)
    assert out["control_rate"] == pytest.approx(r_control)
    assert out["risk_raw"] == pytest.approx((r_main - r_control) / (1 - r_control))
    # baseline 3/10: Wilson upper bound 0.603 is above the attack's 0.30: not trustworthy
    assert out["trustworthy"] is False
    assert risk(main, control, Rate(1, 100))["trustworthy"] is True


# ---- fidelity figures move with their input --------------------------------------------------
MIXED = _schema({"x": {"kind": "numerical"}, "c": {"kind": "categorical",
                                                   "categories": ["a", "b", "c"]}})


def _mixed(n: int, seed: int, x_missing: float, c_missing: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = pd.Series(rng.normal(size=n))
    c = pd.Series(rng.choice(["a", "b", "c"], n), dtype=object)
    x[: int(round(x_missing * n))] = np.nan
    c[: int(round(c_missing * n))] = None
    return pd.DataFrame({"x": x, "c": c})


def test_missing_rate_similarity_and_its_reference_follow_the_missing_rates():
    train = _mixed(200, 1, x_missing=0.2)
    holdout = _mixed(200, 2, x_missing=0.1)
    synth = _mixed(200, 3, x_missing=0.5, c_missing=0.25)
    result = fidelity.missing_rate_similarity(train, synth, holdout, MIXED)
    # x: 1 - |0.2 - 0.5| = 0.7; c: 1 - |0 - 0.25| = 0.75
    assert result.figures["missing_rate_similarity"] == pytest.approx((0.7 + 0.75) / 2)
    assert result.scores["missing_rate_similarity"] == pytest.approx(0.725)
    # holdout: x 1 - |0.2 - 0.1| = 0.9, c 1.0
    assert result.reference["missing_rate_similarity"] == pytest.approx(0.95)
    same = fidelity.missing_rate_similarity(train, _mixed(200, 4, 0.2), train, MIXED)
    assert same.figures["missing_rate_similarity"] == pytest.approx(1.0)
    assert same.reference["missing_rate_similarity"] == pytest.approx(1.0)
    by_column = {d["columns"][0]: d["value"] for d in result.details}
    assert by_column == pytest.approx({"x": 0.7, "c": 0.75})


def test_category_coverage_reference_follows_the_holdout():
    train = _mixed(200, 1, x_missing=0.0)
    two_categories = train[train["c"] != "c"]
    result = fidelity.category_coverage(train, two_categories, train.head(1), MIXED)
    assert result.figures["category_coverage"] == pytest.approx(2 / 3)
    assert result.reference["category_coverage"] == pytest.approx(1 / 3)


def test_column_quality_reference_is_the_holdouts_own_report():
    train = _mixed(300, 1, x_missing=0.0)
    close = fidelity.column_quality(train, _mixed(300, 2, 0.0), _mixed(300, 3, 0.0), MIXED)
    shifted = _mixed(300, 3, 0.0).assign(x=lambda d: d["x"] + 3, c="a")
    far = fidelity.column_quality(train, shifted, shifted, MIXED)
    assert close.figures["column_shapes"] > 0.85 and close.reference["column_shapes"] > 0.85
    assert far.figures["column_shapes"] < 0.5 and far.reference["column_shapes"] < 0.5
    assert far.reference["column_shapes"] == pytest.approx(far.figures["column_shapes"])


SIGNAL = _schema({"x": {"kind": "numerical"}, "z": {"kind": "numerical"},
                  "y": {"kind": "boolean"}}, target="y")


def _signal(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({"x": x, "z": z, "y": x + 0.3 * rng.normal(size=n) > 0})


def test_ml_efficacy_moves_with_the_signal_in_the_synthetic_target():
    train, holdout = _signal(600, 1), _signal(600, 2)
    good = fidelity.ml_efficacy(train, _signal(600, 3), holdout, SIGNAL, seed=0)
    noise = _signal(600, 3)
    noise["y"] = np.random.default_rng(5).permutation(noise["y"].to_numpy())
    bad = fidelity.ml_efficacy(train, noise, holdout, SIGNAL, seed=0)
    assert good.figures["ml_efficacy_metric"] == "roc_auc"
    assert good.figures["trtr"] == pytest.approx(bad.figures["trtr"])  # train vs holdout only
    assert good.figures["trtr"] > 0.9 and good.figures["tstr"] > 0.9
    assert bad.figures["tstr"] < 0.65
    assert good.scores["ml_efficacy"] > 0.95
    assert bad.scores["ml_efficacy"] < 0.7
    assert bad.scores["ml_efficacy"] == pytest.approx(
        bad.figures["tstr"] / bad.figures["trtr"])
    assert good.reference["tstr"] == pytest.approx(good.figures["trtr"])
    # the gated figure: the share of the real model's skill above chance (AUC 0.5) kept
    for result in (good, bad):
        figures = result.figures
        assert figures["ml_efficacy_skill"] == pytest.approx(
            (figures["tstr"] - 0.5) / (figures["trtr"] - 0.5))
    assert good.figures["ml_efficacy_skill"] > 0.9
    assert bad.figures["ml_efficacy_skill"] < 0.35


def test_detection_reference_separates_holdout_from_train():
    holdout = _signal(200, 2)
    like = fidelity.detection(_signal(200, 1), _signal(200, 3), holdout, SIGNAL, seed=0)
    shifted = _signal(200, 1).assign(x=lambda d: d["x"] + 4)
    unlike = fidelity.detection(shifted, shifted, holdout, SIGNAL, seed=0)
    assert like.figures["detection_auc"] < 0.7 and like.reference["detection_auc"] < 0.7
    assert unlike.figures["detection_auc"] > 0.95
    assert unlike.reference["detection_auc"] > 0.95
