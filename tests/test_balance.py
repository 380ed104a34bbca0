"""Balancing: conditional generation, the requested ratio or counts, the comparison table."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from synthdata.balancing import OPTIONS, parse_counts, plan_counts
from synthdata.cli import app
from synthdata.demo import demo_schema, make_demo_table
from synthdata.errors import ParameterError
from synthdata.synthesizers import get_synthesizer
from synthdata.synthesizers.registry import DEFAULT, backend_class

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
    # the primary key stays a key: added rows repeat neither each other nor a real id
    assert balanced["customer_id"].is_unique
    # resampling touched training rows only: the options trained on train (+ added rows)
    n_train = report["run"]["n_rows_train"]
    sizes = {row["option"]: row["n_train_rows"] for row in info["comparison"]}
    assert sizes["real"] == sizes["class_weights"] == n_train
    assert sizes["real+synthetic"] == sizes["real+smote"] == n_train + info["plan"]["True"]
    gen = info["generation"]["True"]
    assert gen["rows_per_second"] > 0 and gen["method"] == backend_class(DEFAULT).conditional_method
    assert gen["drawn"] == info["plan"]["True"]  # generated for the class: none rejected
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


def test_inverse_cdf_draws_follow_the_softmax():
    """CTGAN's sampler replaces gumbel-softmax + argmax by an inverse-CDF draw: same law."""
    import torch

    from synthdata.synthesizers.ctgan import categorical

    logits = torch.tensor([[2.0, 0.0, -1.0, 0.5]]).repeat(200_000, 1)
    uniform = torch.rand(200_000, generator=torch.Generator().manual_seed(0))
    one_hot = categorical(logits, uniform)
    assert torch.equal(one_hot.sum(dim=1), torch.ones(200_000))
    expected = torch.softmax(logits[0], dim=0)
    assert torch.allclose(one_hot.mean(dim=0), expected, atol=0.005)
    # the law CTGAN itself draws (argmax of a gumbel-softmax) agrees
    torch.manual_seed(0)
    gumbel = torch.nn.functional.gumbel_softmax(logits, tau=0.2).argmax(dim=1)
    assert torch.allclose(torch.bincount(gumbel, minlength=4) / 200_000.0, expected,
                          atol=0.005)


def test_ctgan_conditional_vector_steers_the_generator():
    """Our vector points at the right category (CTGAN.sample's does not, CTGAN#169)."""
    import warnings

    import torch

    from synthdata.synthesizers.ctgan import conditional_rows

    schema = demo_schema()
    train = schema.validate_table(make_demo_table(3000, seed=2))[schema.modelled_columns]
    model = get_synthesizer("ctgan", schema, seed=0, epochs=50).fit(train)
    ctgan = model.model_._model
    base_rate = float(model.sample(4000, seed=1)["churned"].mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        builtin = ctgan.sample(4000, condition_column="churned", condition_value=True)
    builtin_rate = float(builtin["churned"].astype(bool).mean())
    before = {k: v.clone() for k, v in ctgan._generator.state_dict().items()}
    info = ctgan._transformer.convert_column_name_value_to_id("churned", True)
    rates = {}
    for share in (0.0, 0.5):
        raw, drawn = conditional_rows(ctgan, "churned", info, 500, share=share)
        assert len(raw) == 500 and raw["churned"].astype(bool).all()
        rates[share] = 500 / drawn
    # BatchNorm statistics calibrated on unconditioned batches steer hard; the default mix
    # steers less (for realism) but still more than sampling without the vector
    assert rates[0.0] > 3 * max(base_rate, builtin_rate), (rates, base_rate, builtin_rate)
    assert rates[0.5] > 1.2 * max(base_rate, builtin_rate), (rates, base_rate, builtin_rate)
    # the model is left as it was (BatchNorm buffers put back)
    after = ctgan._generator.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    rows = model.sample_where(300, {"churned": True}, seed=2)
    assert len(rows) == 300 and rows["churned"].all()


def test_ctgan_falls_back_to_rejection_for_two_conditions_and_keeps_keys_unique():
    """Two conditions cannot ride the conditional vector: reject sampling, sized by the match
    rate (a few rounds, not one per missing row), with ids that do not repeat across rounds."""
    schema = demo_schema()
    train = schema.validate_table(make_demo_table(1200, seed=1))[schema.modelled_columns]
    model = get_synthesizer("ctgan", schema, seed=0, epochs=2).fit(train)
    assert model._vector_condition({"churned": True, "sex": "F"}) is None
    assert model._vector_condition({"sex": "F"}) is not None
    assert model._vector_condition({"region": "Atlantis"}) is None  # never seen: reject sampling
    rows = model.sample_where(150, {"sex": "F", "region": "West"}, seed=5)
    assert len(rows) == 150 and (rows["sex"] == "F").all() and (rows["region"] == "West").all()
    assert model.last_conditional_draws_ > 150
    assert rows["customer_id"].is_unique
    with pytest.raises(ParameterError, match="n_rows"):
        model.sample_where(0, {"sex": "F"})
    with pytest.raises(ParameterError, match="seed"):
        model.sample_where(5, {"sex": "F"}, seed=-1)


def test_fresh_keys_repeat_no_real_or_synthetic_id():
    from synthdata.pipeline import fresh_keys

    schema = demo_schema()
    real = make_demo_table(50, seed=3)
    synth = real.head(20).copy()  # ids that collide with real ones
    out = fresh_keys(synth, real, schema)
    assert out["customer_id"].is_unique
    assert not set(out["customer_id"]) & set(real["customer_id"])
    assert out.drop(columns="customer_id").equals(synth.drop(columns="customer_id"))


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
