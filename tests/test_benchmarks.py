"""The benchmark harness (benchmarks/run.py) on the built-in demo table: it measures what it says.

Timings here prove nothing about speed (that is benchmarks/RESULTS.md's job); these tests check
that the harness runs both sides, splits the fit into its phases, restores what it wrapped and
writes a table that carries the figures.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import run as harness
from synthdata.demo import demo_schema, make_demo_table
from synthdata.split import split


@pytest.fixture(scope="module")
def demo():
    schema = demo_schema()
    df = schema.validate_table(make_demo_table(800, seed=5))
    train, holdout = split(df, schema, seed=0)
    return schema, train, holdout


def test_ctgan_entry_has_both_sides_ratios_and_phases(demo):
    from ctgan.data_transformer import DataTransformer

    original = DataTransformer.__dict__["fit"]
    schema, train, holdout = demo
    entry = harness.bench_one("ctgan", schema, train, holdout, epochs=2, repeats=3,
                              scoring=False)
    assert DataTransformer.__dict__["fit"] is original  # the timers are taken off again
    for side in ("synthdata", "sdv"):
        info = entry[side]
        assert len(info["runs"]["fit"]) == 3 and len(info["runs"]["sample"]) == 3
        assert info["fit_seconds"] == pytest.approx(np.median(info["runs"]["fit"]), abs=1e-3)
        assert info["fit_cpu_seconds"] > 0 and info["fit_peak_mib"] > 50
        assert info["fit_added_mib"] is not None and info["fit_added_mib"] >= 0
        phases = info["phases"]
        # the GMM transformer fit and the epochs are separated, and add up to less than the fit
        assert phases["transformer_fit"] > 0 and phases["training"] > 0
        assert phases["per_epoch"] == pytest.approx(phases["training"] / 2, rel=0.05)
        assert (phases["sdv_preprocess_fit"] + phases["transformer_fit"] + phases["training"]
                < info["fit_seconds"] * 1.05)
    ratio = entry["ratio"]
    assert ratio["fit"] == pytest.approx(entry["synthdata"]["fit_seconds"]
                                         / entry["sdv"]["fit_seconds"], rel=0.01)
    assert 0.3 < ratio["fit_plus_sample"] < 3  # same work on both sides
    assert entry["train_rows"] == len(train)


def test_gaussian_copula_entry_scores_quality(demo):
    schema, train, holdout = demo
    entry = harness.bench_one("gaussian_copula", schema, train, holdout, epochs=None,
                              repeats=1, scoring=True)
    assert "per_epoch" not in entry["synthdata"]["phases"]
    q = entry["quality"]
    assert 0.5 < q["column_shapes"] <= 1 and 0.3 < q["column_pair_trends"] <= 1
    assert q["quality"] == pytest.approx((q["column_shapes"] + q["column_pair_trends"]) / 2,
                                         abs=1e-4)
    assert q["shape_error_pct"] == pytest.approx(100 * (1 - q["column_shapes"]), abs=0.01)
    assert 0 <= q["detection_auc"] <= 1 and q["tstr"] is not None and q["trtr"] is not None
    assert set(entry["scoring"]["seconds"]) == {"fidelity", "privacy", "bias",
                                                "sdmetrics_quality_report"}
    assert all(v > 0 for v in entry["scoring"]["seconds"].values())

    result = {"mode": "quick", "date": "2026-01-01", "command": "python -m benchmarks.run "
              "--quick", "commit": "abc1234", "seconds": 1.0, "machine": harness.machine(),
              "settings": {"rows": 800, "epochs": 2, "repeats": 3}, "published":
              harness.PUBLISHED, "tables": {"demo": [entry]}}
    json.dumps(result)  # the results file is plain JSON
    text = harness.markdown(result)
    assert "python -m benchmarks.run --quick" in text and "abc1234" in text
    assert f"**{entry['ratio']['fit_plus_sample']:.3f}**" in text
    assert f"{q['column_shapes']:.3f}" in text


def test_harness_refuses_unknown_tables_and_too_few_repeats():
    with pytest.raises(SystemExit, match="no schema"):
        harness.tables(["no_such_table"])
    with pytest.raises(SystemExit):
        harness.main(["--repeats", "2", "--tables", "adult"])


def test_stage_measures_wall_cpu_and_peak():
    stage = harness.Stage()
    with stage.measure():
        block = np.ones(40 * 2**20 // 8)  # 40 MiB
        block.sum()
    assert stage.wall > 0 and stage.cpu >= 0
    assert stage.peak_mib is not None and stage.peak_mib > 40
    assert stage.added_mib is not None and stage.added_mib >= 35  # the block itself


def test_independent_scorer_tells_real_rows_from_broken_ones(demo):
    """Unseen real rows score as indistinguishable and private; rows with every column
    shuffled on its own (marginals kept, dependence gone) are detected; copies of train rows
    are counted."""
    from benchmarks.independent import score

    schema, train, holdout = demo
    fresh = demo_schema().validate_table(make_demo_table(len(train), seed=77))
    good = score(train, fresh, holdout, schema, seed=0)
    assert good["detection_auc"] < 0.6 and 0.4 < good["dcr_share"] < 0.6
    assert good["quality"] > 0.85 and good["exact_copies"] == 0.0
    rng = np.random.default_rng(0)
    broken = fresh.apply(lambda c: c.sample(frac=1.0, random_state=int(rng.integers(1e6)))
                         .reset_index(drop=True))
    bad = score(train, broken, holdout, schema, seed=0)
    assert bad["detection_auc"] > good["detection_auc"] + 0.1
    assert bad["column_pair_trends"] < good["column_pair_trends"]
    copied = score(train, train.sample(len(train) // 2, random_state=0), holdout, schema, seed=0)
    # DCR compares with a train sample as large as the test rows: a quarter of the copies are in it
    assert copied["exact_copies"] == 1.0 and copied["dcr_share"] > 0.55


def test_peers_summary_takes_medians_per_table_and_generator():
    from benchmarks.peers import markdown, summarise

    runs = [{"table": "t", "generator": "autoregressive", "seed": s, "fit_s": f, "quality": q,
             "rows": {"train": 2000}} for s, f, q in ((0, 10.0, 0.9), (1, 30.0, 0.95),
                                                      (2, 20.0, 0.97))]
    runs.append({"table": "t", "generator": "tvae", "seed": 0, "fit_s": 100.0, "quality": 0.6})
    rows = summarise(runs)
    assert [r["generator"] for r in rows] == ["autoregressive", "tvae"]
    assert rows[0]["fit_s"] == 20.0 and rows[0]["quality"] == 0.95 and rows[0]["seeds"] == 3
    text = markdown({"command": "x", "commit": "c", "seconds": 1, "machine": {},
                     "medians": rows})
    assert "| t | autoregressive | 3 | 20.0 | 10.00 |" in text  # fit s per 1,000 train rows
    assert "| t | tvae | 1 | 100.0 | – |" in text  # no row count recorded


def test_peers_combine_pools_earlier_results_later_runs_winning(tmp_path, monkeypatch):
    import benchmarks.peers as peers

    monkeypatch.setattr(peers, "RESULTS", tmp_path)
    run = {"table": "t", "generator": "autoregressive", "fit_s": 1.0, "quality": 0.5}
    for name, seeds, quality in (("a", (0, 1), 0.5), ("b", (1, 2), 0.9)):
        (tmp_path / f"{name}.json").write_text(json.dumps({
            "command": f"python -m benchmarks.peers --out {name}", "commit": name,
            "seconds": 10, "machine": {"cores": 2},
            "runs": [{**run, "seed": s, "quality": quality} for s in seeds]}))
    result = peers.combine(["a", "b"])
    assert sorted((r["seed"], r["quality"]) for r in result["runs"]) == [(0, 0.5), (1, 0.9),
                                                                        (2, 0.9)]
    assert result["medians"][0]["seeds"] == 3 and result["medians"][0]["quality"] == 0.9
    assert result["commit"] == "a, b" and result["seconds"] == 20
    assert "Pooled from: `a`" in peers.markdown(result)
    with pytest.raises(SystemExit, match="missing.json not found"):
        peers.combine(["a", "missing"])


def test_balance_default_table_says_when_synthetic_rows_cost_more_than_one_std():
    from benchmarks.balance_default import markdown

    def cell(mean, std):
        return {"pr_auc": {"mean": mean, "std": std}}

    def run(seed, synthetic):
        options = {"real": 0.65, "real+synthetic": synthetic, "real+smote": 0.62,
                   "class_weights": 0.65}
        return {"seed": seed, "gate_passed": True,
                "class_counts_after": {"no": 10, "yes": 10},
                "comparison": [{"option": o, "hgb": cell(v, 0.01), "logreg": cell(v, 0.0)}
                               for o, v in options.items()]}

    speed = {"ours": "autoregressive", "sdv_epochs": 1, "fit_seconds": {}, "conditions": []}
    args = type("Args", (), {"fit_seeds": 2, "sdv_epochs": 1, "repeats": 1})()
    text = markdown([run(0, 0.645), run(1, 0.60)], speed, args)
    rows = [line for line in text.splitlines() if line.startswith("| 0 |") or
            line.startswith("| 1 |")]
    assert rows[0].endswith("| yes |") and rows[0].startswith("| 0 | True |")  # hgb, in 1 std
    assert rows[1].endswith("| no |")  # logreg: std 0, any loss is a loss
    assert rows[2].endswith("| no |") and rows[3].endswith("| no |")
