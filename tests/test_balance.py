"""Balancing: conditional generation, the requested ratio or counts, the comparison table."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from synthdata.balance import OPTIONS, parse_counts, plan_counts
from synthdata.cli import app
from synthdata.demo import demo_schema, make_demo_table
from synthdata.errors import ParameterError
from synthdata.synthesizers import get_synthesizer

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "schemas" / "demo.yaml"


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("balance") / "demo.csv"
    make_demo_table().to_csv(path, index=False)  # the built-in demo table, 6,000 rows
    return path


def test_balance_ratio_one_on_the_demo_table(demo_csv, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["balance", str(demo_csv), "--schema", str(DEMO),
                                      "--out", str(out), "--ratio", "1.0", "--quiet",
                                      "--force"])
    assert result.exit_code == 0, result.output
    balanced = pd.read_parquet(out / "balanced.parquet")
    counts = balanced["churned"].value_counts()
    assert abs(counts.min() / counts.max() - 1.0) <= 0.02
    report = json.loads((out / "report.json").read_text())
    info = report["balance"]
    assert abs(info["ratio_after"] - 1.0) <= 0.02
    assert [row["option"] for row in info["comparison"]] == list(OPTIONS)
    for row in info["comparison"]:
        for model in ("hgb", "logreg"):
            for metric in ("recall", "precision", "f1", "pr_auc", "roc_auc"):
                assert 0 <= row[model][metric]["mean"] <= 1
                assert row[model][metric]["std"] is not None  # a spread over seeds
    # the synthetic rows are all of the minority class, marked, and as many as planned
    synthetic = balanced[balanced["synthetic"]]
    assert len(synthetic) == info["plan"]["True"] and synthetic["churned"].all()
    # resampling touched training rows only: the options trained on train (+ added rows)
    n_train = report["run"]["n_rows_train"]
    sizes = {row["option"]: row["n_train_rows"] for row in info["comparison"]}
    assert sizes["real"] == sizes["class_weights"] == n_train
    assert sizes["real+synthetic"] == sizes["real+smote"] == n_train + info["plan"]["True"]
    gen = info["generation"]["True"]
    assert gen["rows_per_second"] > 0 and gen["method"].startswith("Gaussian copula")
    assert "Balance" in (out / "report.html").read_text()
    assert "verdict" in result.output.lower() and "rows/s" in result.output


def test_counts_reach_the_requested_numbers(tmp_path):
    table = tmp_path / "t.csv"
    make_demo_table(1500, seed=4).to_csv(table, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["balance", str(table), "--schema", str(DEMO), "--out",
                                      str(out), "--counts", "True=400", "--format", "csv",
                                      "--quiet", "--force"])
    assert result.exit_code == 0, result.output
    balanced = pd.read_csv(out / "balanced.csv")
    assert (balanced["churned"].astype(str) == "True").sum() == 400


@pytest.mark.parametrize(("args", "needle"), [
    (["--ratio", "1.5"], "(0, 1]"),
    (["--counts", "True"], "class=n"),
    (["--counts", "Maybe=10"], "'Maybe'"),
    (["--counts", "True=1"], "fewer rows"),
    (["--ratio", "0.5", "--counts", "True=500"], "not both"),
])
def test_bad_requests_exit_2_before_fitting(tmp_path, args, needle):
    table = tmp_path / "t.csv"
    make_demo_table(300, seed=1).to_csv(table, index=False)
    result = CliRunner().invoke(app, ["balance", str(table), "--schema", str(DEMO), "--out",
                                      str(tmp_path / "o"), "--quiet", *args])
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_a_schema_without_target_is_refused(tmp_path):
    data = yaml.safe_load(DEMO.read_text())
    data.pop("target")
    schema = tmp_path / "s.yaml"
    schema.write_text(yaml.safe_dump(data))
    table = tmp_path / "t.csv"
    make_demo_table(300, seed=1).to_csv(table, index=False)
    result = CliRunner().invoke(app, ["balance", str(table), "--schema", str(schema), "--out",
                                      str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 2 and "target" in result.output


def test_plan_and_parse():
    train = pd.DataFrame({"y": ["a"] * 90 + ["b"] * 10})
    assert plan_counts(train, "y", ratio=0.5, counts=None) == {"b": 35}
    assert plan_counts(train, "y", ratio=None, counts={"b": 20}) == {"b": 10}
    assert parse_counts("b=20, a=90") == {"b": 20, "a": 90}
    with pytest.raises(ParameterError):
        parse_counts("b=-1")


@pytest.mark.parametrize("name", ["gaussian_copula", "ctgan"])
def test_conditional_generation_gives_only_the_requested_class(name):
    schema = demo_schema()
    train = schema.validate_table(make_demo_table(1200, seed=1))[schema.modelled_columns]
    kwargs = {"epochs": 3} if name == "ctgan" else {}
    model = get_synthesizer(name, schema, seed=0, **kwargs).fit(train)
    rows = model.sample_where(120, {"churned": True}, seed=3)
    assert len(rows) == 120 and rows["churned"].all()
    again = model.sample_where(120, {"churned": True}, seed=3)
    assert rows.equals(again)
    assert model.last_conditional_draws_ >= 120
    region = model.sample_where(50, {"region": "West"}, seed=4)
    assert (region["region"] == "West").all()


def test_augment_adds_rows_from_the_whole_distribution(tmp_path):
    table = tmp_path / "t.csv"
    make_demo_table(1000, seed=6).to_csv(table, index=False)
    out = tmp_path / "aug"
    result = CliRunner().invoke(app, ["augment", str(table), "--schema", str(DEMO), "--out",
                                      str(out), "--rows", "500", "--quiet", "--force"])
    assert result.exit_code == 0, result.output
    augmented = pd.read_parquet(out / "augmented.parquet")
    report = json.loads((out / "report.json").read_text())
    assert augmented["synthetic"].sum() == 500
    assert (~augmented["synthetic"]).sum() == report["run"]["n_rows_train"]
    assert report["augment"]["n_rows_added"] == 500
    assert set(augmented.loc[augmented["synthetic"], "churned"]) == {False, True}
    assert "email" not in augmented.columns  # no real PII mixed with invented rows
