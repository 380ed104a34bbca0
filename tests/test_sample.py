"""`synthdata sample`: verified, signed model folders only; conditions; the gate's say."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from synthdata.cli import app
from synthdata.demo import make_demo_table

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "schemas" / "demo.yaml"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("sample")
    make_demo_table(3000, seed=3).to_csv(tmp / "t.csv", index=False)
    # the copula's rows keep little of the demo target's signal and fail the utility bound
    # (gate.min_ml_efficacy); these tests are about sampling a model from a passing run
    schema = tmp / "demo.yaml"
    schema.write_text(DEMO.read_text() + "gate:\n  min_ml_efficacy: 0\n")
    result = invoke("run", tmp / "t.csv", "--schema", schema, "--out", tmp / "run", "--quiet")
    assert result.exit_code == 0, result.output
    return tmp / "run"


def test_sample_again_with_pii_refilled(run_dir, tmp_path):
    out = tmp_path / "s.csv"
    result = invoke("sample", "--model", run_dir / "model", "--rows", 150, "--out", out,
                    "--quiet")
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out)
    assert len(rows) == 150 and rows["email"].str.contains("@").all()
    record = json.loads((tmp_path / "s.csv.manifest.json").read_text())
    assert record["rows"] == 150 and record["output_sha256"]


def test_where_conditions_hold(run_dir, tmp_path):
    out = tmp_path / "w.parquet"
    result = invoke("sample", "--model", run_dir / "model", "--rows", 80, "--out", out,
                    "--where", "churned=true", "--where", "region=West", "--quiet")
    assert result.exit_code == 0, result.output
    rows = pd.read_parquet(out)
    assert len(rows) == 80 and rows["churned"].all() and (rows["region"] == "West").all()


@pytest.mark.parametrize(("where", "needle"), [
    ("nope=1", "does not generate 'nope'"),
    ("region=Atlantis", "categories"),
    ("churned", "col=value"),
    ("age=40", "conditions work on"),
])
def test_bad_where_exits_2(run_dir, tmp_path, where, needle):
    result = invoke("sample", "--model", run_dir / "model", "--rows", 5, "--out",
                    tmp_path / "x.csv", "--where", where, "--quiet")
    assert result.exit_code == 2 and needle in result.output, result.output
    assert not (tmp_path / "x.csv").exists()


def test_tampered_model_file_is_refused(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    model_file = next(p for p in sorted((copy / "model").iterdir())
                      if p.name != "synthdata_model.json")
    model_file.write_bytes(model_file.read_bytes() + b"\x00")
    result = invoke("sample", "--model", copy / "model", "--rows", 5, "--out",
                    tmp_path / "x.csv", "--trust", "--quiet")
    assert result.exit_code == 2 and "do not match the sha256" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_foreign_or_edited_manifest_needs_trust(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["seed"] = 99  # edited after the run: the signature no longer matches
    (copy / "manifest.json").write_text(json.dumps(manifest))
    args = ["sample", "--model", copy / "model", "--rows", 5, "--out", tmp_path / "x.csv",
            "--quiet"]
    refused = invoke(*args)
    assert refused.exit_code == 2 and "not signed" in refused.output
    assert invoke(*args, "--trust").exit_code == 0


def test_a_model_whose_run_failed_the_gate_needs_force(tmp_path):
    data = yaml.safe_load(DEMO.read_text())
    data["gate"] = {"min_column_shapes": 0.999}
    (tmp_path / "strict.yaml").write_text(yaml.safe_dump(data))
    make_demo_table(800, seed=2).to_csv(tmp_path / "t.csv", index=False)
    forced = invoke("run", tmp_path / "t.csv", "--schema", tmp_path / "strict.yaml", "--out",
                    tmp_path / "run", "--quiet", "--force")
    assert forced.exit_code == 0, forced.output
    args = ["sample", "--model", tmp_path / "run" / "model", "--rows", 5, "--out",
            tmp_path / "x.csv", "--quiet"]
    refused = invoke(*args)
    assert refused.exit_code == 1 and "failed its gate" in refused.output
    assert not (tmp_path / "x.csv").exists()
    ok = invoke(*args, "--force")
    assert ok.exit_code == 0, ok.output
    assert json.loads((tmp_path / "x.csv.manifest.json").read_text())["forced"] is True
