"""Fidelity scoring: agreement with sdmetrics, determinism, and planted faults caught."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthdata.cli import app
from synthdata.demo import demo_schema, make_demo_table
from synthdata.metrics._encoding import scored_columns
from synthdata.metrics.fidelity import (
    detection,
    evaluate_fidelity,
    ml_efficacy,
)
from synthdata.schema import schema_from_dict
from synthdata.split import split
from synthdata.synthesizers import get_synthesizer

CONTRACT_FIGURES = {"column_shapes", "column_pair_trends", "category_coverage",
                    "range_coverage", "detection_auc", "tstr", "trtr"}


@pytest.fixture(scope="module")
def parts():
    schema = demo_schema()
    df = schema.validate_table(make_demo_table(3000, seed=1))[schema.modelled_columns]
    train, holdout = split(df, schema, seed=0)
    return schema, train, holdout


@pytest.fixture(scope="module")
def copula_synth(parts):
    schema, train, _ = parts
    return get_synthesizer("gaussian_copula", schema, seed=0).fit(train).sample(len(train))


def test_shapes_and_pair_trends_equal_sdmetrics_quality_report(parts, copula_synth):
    """sdmetrics run directly on the tables as pandas reads them from CSV (int64, bool)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the single-table report is a deprecated alias
        from sdmetrics.reports.single_table import QualityReport

    schema, train, holdout = parts
    ours = evaluate_fidelity(train, copula_synth, holdout, schema, seed=0)["figures"]
    metadata = {"columns": {
        c: {"sdtype": {"integer": "numerical", "ordinal": "categorical"}.get(
            schema.columns[c].kind.value, schema.columns[c].kind.value)}
        for c in scored_columns(schema)}}

    def plain(df):
        out = df[scored_columns(schema)].copy()
        for c in out.columns:
            if str(out[c].dtype) == "Int64":
                out[c] = out[c].astype("float64" if out[c].isna().any() else "int64")
            elif str(out[c].dtype) == "boolean":
                out[c] = out[c].astype(object if out[c].isna().any() else bool)
        return out

    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(plain(train), plain(copula_synth), metadata, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    assert ours["column_shapes"] == pytest.approx(props["Column Shapes"], abs=0.01)
    assert ours["column_pair_trends"] == pytest.approx(props["Column Pair Trends"], abs=0.01)


def test_same_inputs_same_figures_and_the_contract_keys(parts, copula_synth):
    schema, train, holdout = parts
    a = evaluate_fidelity(train, copula_synth, holdout, schema, seed=0)
    b = evaluate_fidelity(train, copula_synth, holdout, schema, seed=0)
    assert a == b
    assert CONTRACT_FIGURES <= set(a["figures"])
    assert all(v is None or 0.0 <= v <= 1.0 for v in a["scores"].values()), a["scores"]
    assert {"column_shapes", "detection_auc", "tstr"} <= set(a["reference"])
    for row in a["details"]:
        assert set(row) >= {"columns", "metric", "value", "error"}
    assert not [r for r in a["details"] if r["error"]]


def test_mode_collapse_is_caught(parts):
    schema, train, holdout = parts
    collapsed = pd.concat([holdout.iloc[[0]]] * len(holdout), ignore_index=True)
    scores = evaluate_fidelity(train, collapsed, holdout, schema)["scores"]
    assert scores["category_coverage"] < 0.5
    assert scores["range_coverage"] < 0.5
    assert scores["column_shapes"] < 0.5


def test_holdout_as_synth_looks_real(parts):
    schema, train, holdout = parts
    result = evaluate_fidelity(train, holdout, holdout, schema)
    assert 0.45 <= result["figures"]["detection_auc"] <= 0.60
    assert result["figures"]["column_shapes"] >= 0.9


def _pair(details, a, b):
    (row,) = [r for r in details if sorted(r["columns"]) == sorted([a, b])]
    return row["value"]


def test_shuffled_column_is_named_and_breaks_its_pairs(parts):
    schema, train, holdout = parts
    shuffled = holdout.copy()
    shuffled["monthly_spend"] = np.random.default_rng(0).permutation(
        shuffled["monthly_spend"].to_numpy())
    clean = evaluate_fidelity(train, holdout, holdout, schema)
    broken = evaluate_fidelity(train, shuffled, holdout, schema)
    assert _pair(broken["details"], "plan", "monthly_spend") < \
        _pair(clean["details"], "plan", "monthly_spend") - 0.2
    top = [f["column"] for f in broken["figures"]["detection_top_features"]]
    assert "monthly_spend" in top[:2], top
    assert broken["figures"]["detection_auc"] > clean["figures"]["detection_auc"]


def test_detection_separates_an_obviously_fake_table(parts):
    schema, train, holdout = parts
    fake = holdout.copy()
    fake["age"] = 90
    result = detection(train, fake, holdout, schema)
    assert result.figures["detection_auc"] > 0.95
    assert result.figures["detection_top_features"][0]["column"] == "age"
    assert result.scores["detection"] < 0.1


@pytest.mark.parametrize(("target", "task", "metric"), [
    ("churned", "binary", "roc_auc"),
    ("plan", "multiclass", "macro_f1"),
    ("monthly_spend", "regression", "r2"),
])
def test_ml_efficacy_tasks(parts, copula_synth, target, task, metric):
    schema, train, holdout = parts
    schema = schema.model_copy(update={"target": target})
    result = ml_efficacy(train, copula_synth, holdout, schema)
    assert result.figures["ml_task"] == task
    assert result.figures["ml_efficacy_metric"] == metric
    assert result.figures["trtr"] > 0.5
    assert result.figures["tstr"] is not None
    assert 0 <= result.scores["ml_efficacy"] <= 1
    # training on the holdout itself and testing there is the (leaky) upper bound
    leaky = ml_efficacy(train, holdout, holdout, schema)
    assert leaky.figures["tstr"] >= result.figures["tstr"]


def test_one_class_synth_scores_chance_instead_of_crashing(parts):
    schema, train, holdout = parts
    synth = holdout.assign(churned=False)
    result = ml_efficacy(train, synth, holdout, schema)
    assert result.figures["tstr"] == 0.5
    assert "one class" in result.details[0]["error"]


def test_no_target_means_no_ml_efficacy(parts):
    schema, train, holdout = parts
    result = ml_efficacy(train, holdout, holdout, schema.model_copy(update={"target": None}))
    assert result.figures == {} and result.scores == {}


def test_evaluate_command(tmp_path, parts, copula_synth):
    schema, train, holdout = parts
    paths = {}
    for name, df in (("train", train), ("holdout", holdout), ("synth", copula_synth)):
        paths[name] = tmp_path / f"{name}.parquet"
        df.to_parquet(paths[name])
    schema_path = tmp_path / "schema.yaml"
    schema_path.write_text((__import__("pathlib").Path(__file__).parents[1] / "schemas" /
                            "demo.yaml").read_text())
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "evaluate", "--train", str(paths["train"]), "--holdout", str(paths["holdout"]),
        "--synth", str(paths["synth"]), "--schema", str(schema_path), "--out", str(out),
        "--quiet"])
    report = json.loads((out / "report.json").read_text())
    # the copula's rows predict the demo target worse than chance (TSTR 0.41 vs TRTR 0.67),
    # which the utility bound fails: the exit code follows the gate's verdict
    assert result.exit_code == (0 if report["gate"]["passed"] else 1), result.output
    assert [f["check"] for f in report["gate"]["failures"]] in ([],
                                                                ["fidelity.ml_efficacy_skill"])
    assert CONTRACT_FIGURES <= set(report["fidelity"]["figures"])
    assert report["run"]["command"] == "evaluate"
    assert {"scores", "details"} <= set(report["fidelity"])


def test_evaluate_bad_inputs_exit_2_before_scoring(tmp_path, parts):
    schema, train, holdout = parts
    t = tmp_path / "train.csv"
    train.to_csv(t, index=False)
    h = tmp_path / "holdout.csv"
    holdout.to_csv(h, index=False)
    bad = tmp_path / "synth.csv"
    holdout.drop(columns=["age"]).assign(age="x" * 3).rename(columns={"age": "agee"}).to_csv(
        bad, index=False)
    schema_path = tmp_path / "schema.yaml"
    schema_path.write_text((__import__("pathlib").Path(__file__).parents[1] / "schemas" /
                            "demo.yaml").read_text())
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "evaluate", "--train", str(t), "--holdout", str(h), "--synth", str(bad),
        "--schema", str(schema_path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "--synth" in result.output and "column 'age'" in result.output
    assert "column 'agee'" in result.output
    assert not out.exists()


def test_synth_from_another_tool_may_break_ranges_and_lack_pii(parts):
    """Out-of-range or collapsed synthetic values are findings, not input errors."""
    schema, train, holdout = parts
    synth = holdout.copy()
    synth["age"] = 150
    typed = schema.validate_table(synth, role="synthetic")
    assert typed["age"].max() == 150


def test_regression_target_schema_validates():
    schema = schema_from_dict({"target": "y", "columns": {"y": "numerical", "x": "integer"}})
    df = pd.DataFrame({"y": np.linspace(0, 1, 40).astype(str), "x": [str(i) for i in range(40)]})
    assert schema.problems(df) == []
