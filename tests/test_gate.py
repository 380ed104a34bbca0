"""The export gate: check_gate's decisions, and what run / evaluate write and exit with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from synthdata.cli import app
from synthdata.demo import demo_schema, make_demo_table
from synthdata.gate import check_gate
from synthdata.schema import GateConfig, GateRule
from synthdata.split import split

ROOT = Path(__file__).resolve().parents[1]


def _report(**privacy) -> dict:
    figures = {"dcr_share": 0.50, "exact_copy_rate": 0.01, "exact_copy_rate_holdout": 0.01,
               "exact_copy_excess": 0.0, "mia_auc": 0.5, "singling_out_risk_univariate": 0.01,
               "singling_out_risk_multivariate": 0.0, "linkability_risk": 0.0,
               "inference_risk": {"sex": 0.02}, "untrustworthy_attacks": []}
    figures.update(privacy)
    return {
        "fidelity": {"figures": {"column_shapes": 0.9, "column_pair_trends": 0.8,
                                 "detection_auc": 0.6}, "scores": {"ml_efficacy": 0.9}},
        "privacy": {"figures": figures, "scores": {}},
        "bias": {"figures": {}, "flags": []},
    }


def test_a_good_report_passes():
    result = check_gate(_report())
    assert result.passed and result.failures == []
    assert "privacy.dcr_share" in result.checked and "bias.flags" in result.checked


@pytest.mark.parametrize(("figures", "check"), [
    ({"dcr_share": 0.62}, "privacy.dcr_share"),
    ({"exact_copy_excess": 0.19}, "privacy.exact_copy_excess"),
    ({"mia_auc": 0.8}, "privacy.mia_auc"),
    ({"singling_out_risk_univariate": 0.4}, "privacy.singling_out_univariate_risk"),
    ({"inference_risk": {"sex": 0.3}}, "privacy.inference_risk.sex"),
    ({"dcr_share": None}, "privacy.dcr_share"),  # not measured is not shown safe
])
def test_each_privacy_bound_fails_in_plain_words(figures, check):
    result = check_gate(_report(**figures))
    assert not result.passed
    [failure] = result.failures
    assert failure.check == check
    assert failure.message and ("above the maximum" in failure.message
                                or "could not be measured" in failure.message)


def test_a_metric_module_declares_what_the_gate_checks(monkeypatch):
    """A new gated figure is one spec line in its metric module: the gate reads the specs."""
    from synthdata.metrics import _base, fidelity

    spec = _base.Gated("toy_figure", "max_detection_auc", "a toy figure")
    monkeypatch.setattr(fidelity, "GATED", (*fidelity.GATED, spec))
    report = _report()
    report["fidelity"]["figures"]["toy_figure"] = 0.99
    [failure] = check_gate(report).failures
    assert failure.check == "fidelity.toy_figure" and failure.bound == 0.95
    assert "a toy figure is 0.990, above the maximum of 0.95" == failure.message


def test_untrustworthy_attacks_are_skipped_not_failed():
    result = check_gate(_report(singling_out_risk_multivariate=0.5,
                                untrustworthy_attacks=["singling_out_multivariate"]))
    assert result.passed
    assert "privacy.singling_out_multivariate_risk" in result.skipped


def test_fidelity_and_bias_bounds():
    report = _report()
    report["fidelity"]["figures"]["column_shapes"] = 0.5
    report["bias"]["flags"] = [
        {"column": "sex", "group": "F", "check": "representation", "real": 0.5, "synth": 0.0,
         "tolerance": 0.05, "message": "group 'F' is missing", "severity": "block"},
        {"column": "sex", "group": "M", "check": "representation", "real": 0.5, "synth": 1.0,
         "tolerance": 0.05, "message": "grows", "severity": "warn"},
    ]
    result = check_gate(report)
    assert {f.check for f in result.failures} == {"fidelity.column_shapes",
                                                   "bias.sex.representation"}
    assert check_gate(report, GateConfig(block_on_bias_flags=False,
                                         min_column_shapes=0.4)).passed


def test_rules_bound_any_figure_or_score_and_a_disabled_gate_passes():
    config = GateConfig(rules=[GateRule(path="fidelity.scores.ml_efficacy", min=0.95)])
    [failure] = check_gate(_report(), config).failures
    assert failure.check == "rule.fidelity.scores.ml_efficacy" and failure.bound == 0.95
    assert check_gate(_report(dcr_share=0.9), GateConfig(enabled=False)).passed


# ---- through the CLI -----------------------------------------------------------------------
def _typed(n: int, seed: int):
    schema = demo_schema()
    return schema.validate_table(make_demo_table(n, seed=seed))[schema.modelled_columns]


def test_evaluate_a_copy_of_train_exits_1_and_lists_privacy_failures(tmp_path):
    train, holdout = split(_typed(3000, 0), demo_schema(), seed=0)
    for name, df in (("train", train), ("holdout", holdout), ("synth", train)):
        df.to_parquet(tmp_path / f"{name}.parquet")
    result = CliRunner().invoke(app, [
        "evaluate", "--train", str(tmp_path / "train.parquet"), "--holdout",
        str(tmp_path / "holdout.parquet"), "--synth", str(tmp_path / "synth.parquet"),
        "--schema", str(ROOT / "schemas" / "demo.yaml"), "--out", str(tmp_path / "out"),
        "--quiet"])
    assert result.exit_code == 1, result.output
    gate = json.loads((tmp_path / "out" / "report.json").read_text())["gate"]
    failed = {f["check"] for f in gate["failures"]}
    assert {"privacy.exact_copy_excess", "privacy.mia_auc", "privacy.dcr_share"} <= failed
    assert "verdict: FAILED" in result.output and "privacy.mia_auc" in result.output


@pytest.fixture()
def strict_schema(tmp_path: Path) -> Path:
    """The demo schema with a fidelity bound no synthesizer meets: the gate must fail."""
    data = yaml.safe_load((ROOT / "schemas" / "demo.yaml").read_text())
    data["gate"] = {"min_column_shapes": 0.999}
    path = tmp_path / "strict.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _run(tmp_path: Path, schema: Path, out: Path, *extra: str):
    table = tmp_path / "table.csv"
    if not table.exists():
        make_demo_table(800, seed=1).to_csv(table, index=False)
    return CliRunner().invoke(app, ["run", str(table), "--schema", str(schema), "--out",
                                    str(out), "--format", "csv", "--quiet", *extra])


def test_failed_gate_writes_reports_but_no_synthetic_table(tmp_path, strict_schema):
    out = tmp_path / "out"
    out.mkdir()
    (out / "synthetic.csv").write_text("stale,export\n")  # from an earlier run
    result = _run(tmp_path, strict_schema, out)
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "report.html", "report.json"]
    report = json.loads((out / "report.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert not report["gate"]["passed"] and report["gate"]["override"] is None
    # the strict bound fails (other checks may too on 800 rows)
    assert "fidelity.column_shapes" in [f["check"] for f in report["gate"]["failures"]]
    assert manifest["gate"]["passed"] is False and manifest["exported"] is False
    assert set(manifest["outputs"]) == {"report.json", "report.html"}
    assert "not written" in result.output


def test_force_exports_and_records_the_override(tmp_path, strict_schema):
    out = tmp_path / "forced"
    result = _run(tmp_path, strict_schema, out, "--force")
    assert result.exit_code == 0, result.output
    assert (out / "synthetic.csv").exists() and (out / "model").is_dir()
    failed = [f["check"] for f in json.loads((out / "report.json").read_text())["gate"]["failures"]]
    for name in ("report.json", "manifest.json"):
        gate = json.loads((out / name).read_text())["gate"]
        assert gate["passed"] is False and gate["forced"] is True
        override = gate["override"]
        assert override["by"] and override["at"]
        assert override["failures"] == failed and "fidelity.column_shapes" in failed
    assert json.loads((out / "manifest.json").read_text())["force"] is True


@pytest.fixture()
def leaky(monkeypatch):
    """Register the planted leak (tests/leaky.py) for the duration of a test."""
    from leaky import CopyTrain

    from synthdata.synthesizers import REGISTRY

    monkeypatch.setitem(REGISTRY, "copy_train", CopyTrain)
    return "copy_train"


def test_a_run_that_copies_train_exits_1_without_a_synthetic_file(tmp_path, schema_yaml,
                                                                 leaky):
    out = tmp_path / "leak"
    result = _run(tmp_path, schema_yaml, out, "--synthesizer", leaky)
    assert result.exit_code == 1, result.output
    assert not list(out.glob("synthetic.*")) and not (out / "model").exists()
    report = json.loads((out / "report.json").read_text())
    failed = {f["check"] for f in report["gate"]["failures"]}
    assert {"privacy.dcr_share", "privacy.exact_copy_excess", "privacy.mia_auc"} <= failed
    assert all(f["message"] for f in report["gate"]["failures"])
    assert "privacy.mia_auc" in (out / "report.html").read_text()
    assert "verdict: FAILED" in result.output

    forced = _run(tmp_path, schema_yaml, tmp_path / "leak_forced", "--synthesizer", leaky,
                  "--force")
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "leak_forced" / "synthetic.csv").exists()
    manifest = json.loads((tmp_path / "leak_forced" / "manifest.json").read_text())
    assert manifest["force"] is True and manifest["gate"]["forced"] is True
    assert "privacy.mia_auc" in manifest["gate"]["override"]["failures"]
    assert "synthetic.csv" in manifest["outputs"]
    page = (tmp_path / "leak_forced" / "report.html").read_text()
    assert "Exported anyway with --force" in page


def test_a_good_run_passes(tmp_path, schema_yaml):
    out = tmp_path / "good"
    result = _run(tmp_path, schema_yaml, out)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["gate"]["passed"] and report["gate"]["failures"] == []
    assert (out / "synthetic.csv").exists()
    assert "verdict: PASSED" in result.output
