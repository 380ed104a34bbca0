"""Privacy scoring: planted leaks caught through `synthdata evaluate`, determinism, encoding."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthdata.cli import app
from synthdata.demo import demo_schema, make_demo_table
from synthdata.metrics._encoding import MixedEncoder
from synthdata.metrics.privacy import evaluate_privacy, quasi_identifiers
from synthdata.schema import schema_from_dict

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = {"dcr_share", "exact_copy_rate", "nndr_ratio", "mia_auc", "mia_tpr_at_1pct_fpr"}


def _sample(seed: int, n: int = 1500) -> pd.DataFrame:
    """Independent draws of the same population: train, holdout and fresh rows differ only here."""
    schema = demo_schema()
    return schema.validate_table(make_demo_table(n, seed=seed))[schema.modelled_columns]


@pytest.fixture(scope="module")
def tables():
    return {"train": _sample(1), "holdout": _sample(2), "fresh": _sample(3)}


def _perturbed(train: pd.DataFrame, share: float, seed: int = 0) -> pd.DataFrame:
    """Replace ``share`` of the cells by random values drawn from the same column."""
    rng = np.random.default_rng(seed)
    out = train.copy()
    for c in out.columns:
        mask = rng.random(len(out)) < share
        donors = rng.integers(0, len(train), int(mask.sum()))
        out.loc[mask, c] = train[c].to_numpy()[donors]
    return out


def _evaluate(tmp_path: Path, tables, synth: pd.DataFrame, name: str,
              exit_code: int | None = 0) -> dict:
    """Run `synthdata evaluate`; ``exit_code``: what the gate must give (None: either)."""
    folder = tmp_path / name
    folder.mkdir()
    paths = {}
    for label, df in (("train", tables["train"]), ("holdout", tables["holdout"]),
                      ("synth", synth)):
        paths[label] = folder / f"{label}.parquet"
        df.to_parquet(paths[label])
    out = folder / "out"
    result = CliRunner().invoke(app, [
        "evaluate", "--train", str(paths["train"]), "--holdout", str(paths["holdout"]),
        "--synth", str(paths["synth"]), "--schema", str(ROOT / "schemas" / "demo.yaml"),
        "--out", str(out), "--quiet"])
    assert result.exit_code in ((0, 1) if exit_code is None else (exit_code,)), result.output
    return json.loads((out / "report.json").read_text())["privacy"]


def test_copy_of_train_is_caught(tmp_path, tables):
    privacy = _evaluate(tmp_path, tables, tables["train"], "copy", exit_code=1)
    figures = privacy["figures"]
    assert CONTRACT <= set(figures)
    assert figures["exact_copy_rate"] == pytest.approx(1.0)
    assert figures["exact_copy_rate_holdout"] < 0.05
    assert figures["dcr_share"] > 0.9
    assert figures["mia_auc"] > 0.9
    assert figures["mia_tpr_at_1pct_fpr"] > 0.5
    assert figures["nndr_ratio"] < 0.1
    assert all(0 <= v <= 1 for v in privacy["scores"].values())
    assert privacy["scores"]["dcr_protection"] < 0.2


def test_thirty_percent_perturbed_copy_is_caught(tmp_path, tables):
    privacy = _evaluate(tmp_path, tables, _perturbed(tables["train"], 0.3), "pert", exit_code=1)
    figures = privacy["figures"]
    assert figures["dcr_share"] > 0.55


def test_fresh_rows_from_the_population_look_private(tmp_path, tables):
    """'synth = holdout' in the issue: rows of the same population the generator never saw."""
    privacy = _evaluate(tmp_path, tables, tables["fresh"], "fresh")
    figures = privacy["figures"]
    assert 0.45 <= figures["dcr_share"] <= 0.55
    assert 0.4 <= figures["mia_auc"] <= 0.6
    assert figures["exact_copy_rate"] < 0.01
    assert 0.8 <= figures["nndr_ratio"] <= 1.25
    assert privacy["scores"]["dcr_protection"] > 0.9


def test_holdout_passed_as_synth_is_scored_half_against_half(tmp_path, tables):
    """`evaluate --synth H --holdout H`: one half of H is scored against the other."""
    privacy = _evaluate(tmp_path, tables, tables["holdout"], "holdout")
    figures = privacy["figures"]
    assert 0.45 <= figures["dcr_share"] <= 0.55
    assert 0.4 <= figures["mia_auc"] <= 0.6
    report = json.loads((tmp_path / "holdout" / "out" / "report.json").read_text())
    assert report["run"]["n_rows_synthetic"] == len(tables["holdout"]) // 2
    assert any("same" in note for note in report["notes"])


def test_the_metric_itself_reads_the_holdout_as_closer_to_holdout(tables):
    """Why evaluate splits: the raw metric puts every row at distance 0 from its twin."""
    figures = evaluate_privacy(tables["train"], tables["holdout"], tables["holdout"],
                               demo_schema())["figures"]
    assert figures["dcr_share"] < 0.05


def test_synth_copying_the_holdout_gets_a_note(tmp_path, tables):
    synth = pd.concat([tables["holdout"].iloc[:1000], tables["fresh"].iloc[:300]])
    _evaluate(tmp_path, tables, synth, "copies_holdout", exit_code=None)
    report = json.loads((tmp_path / "copies_holdout" / "out" / "report.json").read_text())
    assert any("rows of the holdout" in note for note in report["notes"])


def test_leak_grows_with_the_share_of_copied_cells(tables):
    schema = demo_schema()
    shares = [evaluate_privacy(tables["train"], _perturbed(tables["train"], p), tables["holdout"],
                               schema)["figures"]["dcr_share"] for p in (0.1, 0.3, 0.6)]
    assert shares[0] > shares[1] > shares[2] > 0.5


def test_figures_are_deterministic_for_a_seed(tables):
    schema = demo_schema()
    synth = _perturbed(tables["train"], 0.3)
    a = evaluate_privacy(tables["train"], synth, tables["holdout"], schema, seed=3)
    b = evaluate_privacy(tables["train"], synth, tables["holdout"], schema, seed=3)
    assert a == b


def test_unequal_sizes_are_subsampled_to_equal(tables):
    """A larger train would otherwise look closer by sheer numbers of rows."""
    schema = demo_schema()
    big_train = pd.concat([tables["train"], _sample(4), _sample(5)], ignore_index=True)
    figures = evaluate_privacy(big_train, tables["fresh"], tables["holdout"], schema)["figures"]
    assert 0.45 <= figures["dcr_share"] <= 0.55


def test_encoding_one_category_apart_is_one_unit():
    schema = schema_from_dict({"columns": {"c": {"kind": "categorical"}, "x": "numerical"}})
    train = pd.DataFrame({"c": ["a", "b", None], "x": [0.0, 10.0, 5.0]})
    enc = MixedEncoder(["c", "x"], schema).fit(train)
    z = enc.transform(pd.DataFrame({"c": ["a", "b", "zzz", None], "x": [0.0, 0.0, 10.0, None]}))
    assert np.linalg.norm(z[0] - z[1]) == pytest.approx(1.0, abs=1e-6)
    assert np.linalg.norm(z[0] - z[2]) == pytest.approx(np.sqrt(2.0), abs=1e-6)
    assert z[3][-1] == 1.0, "missing number flagged"


def test_quasi_identifiers_default():
    schema = demo_schema()
    assert quasi_identifiers(schema) == ["age", "sex", "region"]
    inferred = schema.model_copy(update={"quasi_identifiers": None})
    assert set(quasi_identifiers(inferred)) >= {"age", "sex", "region"}


def test_reidentification_risks_in_the_report(tmp_path, tables):
    copy = _evaluate(tmp_path, tables, tables["train"], "copy_risks", exit_code=1)
    fresh = _evaluate(tmp_path, tables, tables["fresh"], "fresh_risks")
    for privacy in (copy, fresh):
        figures = privacy["figures"]
        assert {"singling_out_risk", "linkability_risk", "inference_risk"} <= set(figures)
        assert set(figures["inference_risk"]) == {"sex"}
        for row in privacy["details"]:
            if row["metric"].endswith("Risk"):
                assert row["ci_low"] <= row["value"] <= row["ci_high"]
                assert isinstance(row["trustworthy"], bool)
                assert 0 <= row["control_rate"] <= 1 and 0 <= row["baseline_rate"] <= 1
    assert copy["figures"]["singling_out_risk"] > 0.8
    assert fresh["figures"]["singling_out_risk"] < 0.1
    assert copy["figures"]["inference_risk"]["sex"] > fresh["figures"]["inference_risk"]["sex"]
    assert copy["scores"]["reidentification_protection"] < 0.2
    assert fresh["scores"]["reidentification_protection"] > 0.8


def test_wilson_interval_and_risk_formula():
    from synthdata.metrics.attacks import Rate, risk

    centre, half = Rate(50, 100).wilson
    assert centre == pytest.approx(0.5)
    assert half == pytest.approx(0.0962, abs=1e-3)  # textbook Wilson 95 % for 50/100
    result = risk(Rate(80, 100), Rate(20, 100), Rate(5, 100))
    # (r_main - r_control) / (1 - r_control) with Wilson centres
    r_main, r_control = Rate(80, 100).wilson[0], Rate(20, 100).wilson[0]
    assert result["risk"] == pytest.approx((r_main - r_control) / (1 - r_control))
    assert result["ci_low"] < result["risk"] < result["ci_high"]
    assert result["trustworthy"]
    assert not risk(Rate(5, 100), Rate(5, 100), Rate(30, 100))["trustworthy"]
