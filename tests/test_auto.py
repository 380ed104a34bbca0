"""`run --synthesizer auto`: every candidate fitted on one split, the best passing one exported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthdata.cli import app
from synthdata.demo import make_demo_table
from synthdata.pipeline.choose import combined_score, section_mean

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = "gaussian_copula,bayesian_network,autoregressive"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("auto") / "t.csv"
    make_demo_table(900, seed=11).to_csv(path, index=False)
    return path


def _auto(table: Path, out: Path, *extra) -> dict:
    result = invoke("run", table, "--schema", ROOT / "schemas" / "demo.yaml", "--out", out,
                    "--synthesizer", "auto", "--candidates", CANDIDATES, "--epochs", 2,
                    "--quiet", *extra)
    assert result.exit_code in (0, 1), result.output
    report = json.loads((out / "report.json").read_text())
    assert "candidate" in result.output
    return report


@pytest.fixture(scope="module")
def local_report(table, tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("auto-local") / "run"
    return _auto(table, out), out


def test_auto_fits_every_candidate_and_exports_the_best_that_passes(local_report):
    report, out = local_report
    entries = report["candidates"]
    assert [e["synthesizer"] for e in entries] == CANDIDATES.split(",")
    assert sum(e["chosen"] for e in entries) == 1
    chosen = next(e for e in entries if e["chosen"])
    passing = [e for e in entries if e["gate"]["passed"]]
    assert chosen["combined_score"] == max(e["combined_score"] for e in passing or entries)
    for e in entries:  # each candidate's own figures and verdict
        assert set(e["figures"]) >= {"column_shapes", "detection_auc", "dcr_share", "mia_auc"}
        assert e["gate"]["passed"] == (not e["gate"]["failures"])
        assert e["seconds"]["fit"] >= 0 and e["params"]
        means = [m for m in e["section_means"].values() if m is not None]
        assert e["combined_score"] == pytest.approx(sum(means) / len(means), abs=1e-6)
    # the exported model and the report are the chosen candidate's
    assert report["run"]["synthesizer"] == chosen["synthesizer"]
    saved = json.loads((out / "model" / "synthdata_model.json").read_text())
    assert saved["synthesizer"] == chosen["synthesizer"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["synthesizer"] == chosen["synthesizer"]
    assert report["gate"]["passed"] == chosen["gate"]["passed"]
    assert (out / "synthetic.parquet").exists() == chosen["gate"]["passed"]
    assert any("chosen from 3 candidates" in n for n in report["notes"])
    assert "Candidates (--synthesizer auto)" in (out / "report.html").read_text()


def test_ray_fits_the_candidates_in_parallel_and_makes_the_same_choice(
        local_report, table, tmp_path, ray_cluster):
    report = _auto(table, tmp_path / "run", "--engine", "ray", "--workers", 2)
    local = {e["synthesizer"]: e for e in local_report[0]["candidates"]}
    there = {e["synthesizer"]: e for e in report["candidates"]}
    assert set(there) == set(local)
    assert [n for n, e in there.items() if e["chosen"]] == \
        [n for n, e in local.items() if e["chosen"]]
    assert {n: e["gate"]["passed"] for n, e in there.items()} == \
        {n: e["gate"]["passed"] for n, e in local.items()}
    assert report["run"]["execution"]["engine"] == "ray"
    # two workers: some candidates ran at the same time, in other processes
    windows = sorted(e["window"] for e in there.values())
    assert any(b[0] < a[1] for a, b in zip(windows, windows[1:], strict=False))
    assert len({e["worker"] for e in there.values()}) >= 2


@pytest.mark.parametrize(("extra", "needle"), [
    (["--synthesizer", "auto", "--candidates", "nope"], "unknown synthesizer 'nope'"),
    (["--candidates", "ctgan"], "--synthesizer auto"),
    (["--synthesizer", "auto", "--candidates", "ctgan", "--epsilon", "1"], "take no epsilon"),
    (["--synthesizer", "auto", "--candidate-seeds", "0"], "--candidate-seeds"),
])
def test_bad_auto_requests_exit_2_before_work(table, tmp_path, extra, needle):
    result = invoke("run", table, "--schema", ROOT / "schemas" / "demo.yaml", "--out",
                    tmp_path / "out", *extra)
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert not (tmp_path / "out").exists()


def test_combined_score_leaves_out_what_was_not_measured():
    assert section_mean({"a": 1.0, "b": 0.5, "c": None}) == 0.75
    assert section_mean({}) is None
    report = {"fidelity": {"scores": {"x": 0.8}}, "privacy": {"scores": {"y": 1.0, "z": 0.6}},
              "bias": {"scores": {"w": None}}}
    assert combined_score(report) == pytest.approx((0.8 + 0.8) / 2)
