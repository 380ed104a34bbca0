"""Bias scoring: planted bias flagged through `synthdata evaluate`, no flag from fresh samples,
small groups skipped, figures equal fairlearn's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthdata.cli import app
from synthdata.demo import demo_schema, make_demo_table
from synthdata.metrics.bias import _counts, _eo, evaluate_bias, group_labels
from synthdata.split import split

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
CONTRACT = {"representation_tvd", "parity_gap_real", "parity_gap_synth", "eo_gap_real_model",
            "eo_gap_synth_model"}
FLAG_KEYS = {"column", "group", "check", "real", "synth", "tolerance", "message"}


def _typed(n: int, seed: int) -> pd.DataFrame:
    schema = demo_schema()
    return schema.validate_table(make_demo_table(n, seed=seed))[schema.modelled_columns]


@pytest.fixture(scope="module")
def parts() -> dict[str, pd.DataFrame]:
    """The demo table split as `run` splits it (80/20, stratified on churned)."""
    train, holdout = split(_typed(6000, 0), demo_schema(), seed=0)
    return {"train": train, "holdout": holdout}


def _evaluate(tmp_path: Path, parts, synth: pd.DataFrame, name: str, exit_code: int = 0,
              schema: Path = ROOT / "schemas" / "demo.yaml") -> dict:
    """Run `synthdata evaluate`; ``exit_code``: 1 when a block-severity flag fails the gate."""
    folder = tmp_path / name
    folder.mkdir()
    paths = {}
    for label, df in (("train", parts["train"]), ("holdout", parts["holdout"]),
                      ("synth", synth)):
        paths[label] = folder / f"{label}.csv"
        df.to_csv(paths[label], index=False)
    out = folder / "out"
    result = CliRunner().invoke(app, [
        "evaluate", "--train", str(paths["train"]), "--holdout", str(paths["holdout"]),
        "--synth", str(paths["synth"]), "--schema", str(schema), "--out", str(out), "--quiet"])
    assert result.exit_code == exit_code, result.output
    return json.loads((out / "report.json").read_text())


def _flip(holdout: pd.DataFrame, group: str, share: float = 0.8) -> pd.DataFrame:
    """Set the target to negative for ``share`` of the positive rows of one sex."""
    out = holdout.copy()
    positives = out.index[(out["sex"] == group) & out["churned"]]
    rng = np.random.default_rng(0)
    chosen = rng.choice(positives, int(round(share * len(positives))), replace=False)
    out.loc[chosen, "churned"] = False
    return out


@pytest.mark.parametrize("group", ["F", "M"])
def test_flipped_target_raises_an_outcome_parity_flag(tmp_path, parts, group):
    report = _evaluate(tmp_path, parts, _flip(parts["holdout"], group), f"flip_{group}",
                       exit_code=1)
    flags = report["bias"]["flags"]
    hits = [f for f in flags if f["check"] == "outcome_parity" and f["column"] == "sex"]
    assert [f["group"] for f in hits] == [group], flags
    flag = hits[0]
    assert FLAG_KEYS <= set(flag)
    assert flag["synth"] < flag["real"] - flag["tolerance"]
    assert flag["severity"] == "block"
    # F is the low-churn group: pushing it lower widens its gap; M's gap turns around
    assert flag["change"] == ("widens" if group == "F" else "reverses")
    assert not [f for f in flags if f["check"] == "representation"]
    figures = report["bias"]["figures"]["sex"]
    assert CONTRACT <= set(figures)
    if group == "F":  # an unsigned max-min gap: only the widening shows in it
        assert figures["parity_gap_synth"] > figures["parity_gap_real"] + 0.02


def test_removed_group_raises_a_representation_flag(tmp_path, parts):
    synth = parts["holdout"][parts["holdout"]["sex"] != "F"]
    report = _evaluate(tmp_path, parts, synth, "no_women", exit_code=1)
    flags = report["bias"]["flags"]
    lost = [f for f in flags if f["check"] == "representation" and f["group"] == "F"]
    assert len(lost) == 1 and lost[0]["change"] == "lost" and lost[0]["severity"] == "block"
    assert lost[0]["synth"] == 0 and lost[0]["real"] == pytest.approx(0.5, abs=0.02)
    assert report["bias"]["figures"]["sex"]["groups_lost"] == ["F"]
    assert report["bias"]["figures"]["sex"]["representation_tvd"] == pytest.approx(0.5, abs=0.02)


def test_holdout_as_synth_raises_no_flag(tmp_path, parts):
    """The very rows of the holdout as synth: scored half against half, no flag at all."""
    report = _evaluate(tmp_path, parts, parts["holdout"], "holdout")
    assert report["bias"]["flags"] == []
    assert any("same" in note and "half" in note for note in report["notes"])
    assert report["run"]["n_rows_synthetic"] + report["run"]["n_rows_holdout"] == \
        len(parts["holdout"])
    privacy = report["privacy"]["figures"]
    assert 0.45 <= privacy["dcr_share"] <= 0.55
    assert 0.4 <= privacy["mia_auc"] <= 0.6


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_fresh_samples_raise_no_flag_even_with_many_groups(parts, seed):
    """Sampling noise must not flag: independent draws, four sensitive columns + pairs."""
    schema = demo_schema().model_copy(update={"sensitive": ["sex", "region", "plan", "age"]})
    fresh = _typed(4800, seed)
    out = evaluate_bias(parts["train"], fresh, parts["holdout"], schema, seed=seed)
    assert out["flags"] == []
    assert out["settings"]["n_tests"] > 50
    assert set(out["figures"]) >= {"sex", "region", "plan", "age", "sex*region", "region*age"}
    assert all(f["representation_tvd"] < 0.05 for f in out["figures"].values())


def test_small_groups_are_skipped_with_their_sizes(parts):
    schema = demo_schema().model_copy(update={"sensitive": ["sex", "region", "support_calls"]})
    train = parts["train"].copy()
    # a tiny group: three rows of a region value seen nowhere else
    train.loc[train.index[:3], "region"] = "Central"
    train.loc[train.index[3:], "region"] = train.loc[train.index[3:], "region"].replace(
        "Central", "North")
    synth = _typed(1000, 5)
    synth.loc[synth["region"] == "Central", "region"] = "North"
    out = evaluate_bias(train, synth, parts["holdout"], schema, seed=0)
    tiny = [s for s in out["skipped"] if s["column"] == "region" and s["group"] == "Central"]
    assert tiny and tiny[0]["n_real"] == 3 and tiny[0]["n_synth"] == 0
    assert any(s["column"] == "sex*region" for s in out["skipped"])
    assert any("skipped" in note for note in out["notes"])
    assert not [f for f in out["flags"] if f["group"] == "Central"]
    # a table of only small groups still gives a report
    few = evaluate_bias(train.iloc[:40], synth.iloc[:40], parts["holdout"].iloc[:40], schema)
    assert few["figures"]["sex"]["eo_gap_real_model"] is None
    assert few["skipped"]


def test_figures_equal_fairlearns(parts):
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    schema = demo_schema()
    synth = _flip(parts["holdout"], "F", share=0.5)
    out = evaluate_bias(parts["train"], synth, parts["holdout"], schema, seed=0)
    for label, df in (("real", parts["train"]), ("synth", synth)):
        y = df["churned"].astype(int)
        expected = demographic_parity_difference(y, y, sensitive_features=df["sex"])
        assert out["figures"]["sex"][f"parity_gap_{label}"] == pytest.approx(expected)
    # the bootstrap's equalized-odds difference from counts equals fairlearn's
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 3, 500)
    y, pred = rng.integers(0, 2, 500), rng.integers(0, 2, 500)
    assert float(_eo(_counts(groups, y, pred, 3))) == pytest.approx(
        equalized_odds_difference(y, pred, sensitive_features=groups))


def test_deterministic_for_a_seed(parts):
    schema = demo_schema()
    synth = _flip(parts["holdout"], "M", share=0.5)
    a = evaluate_bias(parts["train"], synth, parts["holdout"], schema, seed=4)
    b = evaluate_bias(parts["train"], synth, parts["holdout"], schema, seed=4)
    assert json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True,
                                                                     default=str)


def test_without_target_only_representation_is_scored(parts):
    schema = demo_schema().model_copy(update={"target": None})
    out = evaluate_bias(parts["train"], parts["holdout"], parts["holdout"], schema)
    figures = out["figures"]["sex"]
    assert figures["representation_tvd"] is not None
    assert figures["parity_gap_real"] is None and figures["eo_gap_synth_model"] is None
    assert any("no target" in note for note in out["notes"])


def test_numeric_sensitive_columns_are_binned_on_train(parts):
    schema = demo_schema()
    train_labels, other = group_labels([parts["train"], parts["holdout"]], ["age"], schema)
    assert 3 <= train_labels.nunique() <= 4
    assert set(other) <= set(train_labels)
    assert train_labels.iloc[0].startswith("[")


def test_tolerances_come_from_the_schema(parts):
    strict = demo_schema().model_copy(deep=True)
    strict.bias.outcome_rate_tolerance = 0.5  # nothing can move a churn rate that far
    out = evaluate_bias(parts["train"], _flip(parts["holdout"], "F"), parts["holdout"], strict)
    assert not [f for f in out["flags"] if f["check"] == "outcome_parity"]
    assert out["settings"]["outcome_rate_tolerance"] == 0.5


@pytest.mark.slow
@pytest.mark.skipif(not (DATASETS / "adult.csv").exists(), reason="needs ../shared/datasets")
def test_adult_reports_the_published_sex_parity_gap():
    """Published base rates: about 30 % of men vs 11 % of women earn > 50K (gap ~0.20).

    Scored on adult's real split (the holdout in the synthetic seat); the whole `run` on
    adult is benchmarks/bias_adult.py's."""
    from synthdata import load_schema
    from synthdata.io import read_table

    schema = load_schema(ROOT / "schemas" / "adult.yaml")
    train, holdout = split(read_table(DATASETS / "adult.csv", schema), schema, seed=0)
    bias = evaluate_bias(train, holdout, holdout, schema)
    sex = bias["figures"]["sex"]
    assert sex["parity_gap_real"] == pytest.approx(0.20, abs=0.02)
    assert sex["parity_gap_synth"] == pytest.approx(sex["parity_gap_real"], abs=0.03)
    assert bias["settings"]["positive_outcome"] == "income = >50K"
