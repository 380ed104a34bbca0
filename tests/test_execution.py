"""The execution layer: engines, folder samples in Parquet parts, and the Ray extra's fence."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from synthdata.cli import app
from synthdata.demo import make_demo_table
from synthdata.errors import ParameterError
from synthdata.execution import check_engine, get_engine
from synthdata.io import sha256_file
from synthdata.pipeline import resample, sample_model

ROOT = Path(__file__).resolve().parents[1]


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _square_plus(task: int, shared: dict) -> tuple[int, int]:
    import os

    return task * task + shared["plus"], os.getpid()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A passing run of the default synthesizer (2 epochs) on 1,500 demo rows."""
    tmp = tmp_path_factory.mktemp("exec")
    make_demo_table(1500, seed=5).to_csv(tmp / "t.csv", index=False)
    result = invoke("run", tmp / "t.csv", "--schema", ROOT / "schemas" / "demo.yaml",
                    "--out", tmp / "run", "--epochs", 2, "--quiet", "--force")
    assert result.exit_code == 0, result.output
    return tmp / "run"


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: sha256_file(p) for p in sorted(folder.glob("part-*.parquet"))}


# ---- engines ----------------------------------------------------------------------------------
@pytest.mark.parametrize("workers", [1, 2])
def test_local_engine_maps_in_task_order(workers):
    with get_engine("local", workers=workers) as engine:
        got = list(engine.map(_square_plus, range(7), shared={"plus": 1}))
    assert [value for value, _ in got] == [k * k + 1 for k in range(7)]
    pids = {pid for _, pid in got}
    import os

    # one worker runs here; a pool of two runs elsewhere
    assert (pids == {os.getpid()}) if workers == 1 else (os.getpid() not in pids)


def _threads(task: int, shared: object) -> tuple[list[int], int]:
    import torch
    from threadpoolctl import threadpool_info

    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"], \
        torch.get_num_threads()


def test_a_local_pool_worker_has_one_thread(monkeypatch):
    """Set before the shared payload is unpickled (here a fitted scikit-learn model, which
    loads its OpenMP runtime as it unpickles), whatever the environment asked for."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    model = HistGradientBoostingClassifier(max_iter=2).fit([[0], [1], [0], [1]], [0, 1, 0, 1])
    with get_engine("local", workers=2) as engine:
        got = list(engine.map(_threads, range(2), shared=model))
    assert all(openmp and set(openmp) == {1} and torch == 1 for openmp, torch in got), got


def test_ray_engine_maps_in_task_order_on_the_cluster(ray_cluster):
    with get_engine("ray", workers=2) as engine:
        assert engine.describe() == {"engine": "ray", "workers": 2, "address": "local"}
        got = list(engine.map(_square_plus, range(9), shared={"plus": 2}))
    assert [value for value, _ in got] == [k * k + 2 for k in range(9)]
    import os

    assert os.getpid() not in {pid for _, pid in got}
    assert ray_cluster.is_initialized()  # joined, not stopped: the session's instance


def _timed(task: float, shared: None) -> tuple[float, float]:
    import time

    began = time.time()
    time.sleep(task)
    return began, time.time()


def test_a_ray_worker_that_finishes_takes_the_next_task_at_once(ray_cluster):
    """A slow first task must not hold the other worker back: the quick ones after it start
    (and finish) while it runs, and the results still come in task order."""
    with get_engine("ray", workers=2) as engine:
        list(engine.map(_timed, [0.0, 0.0], shared=None))  # both workers started
        got = list(engine.map(_timed, [4.0, 0.2, 0.2, 0.2], shared=None))
    (slow_start, slow_end), *quick = got
    assert slow_end - slow_start >= 4.0  # the order of results is the order of tasks
    assert all(end < slow_end for _, end in quick), got  # all three ran beside the slow one


def test_engine_choices_are_checked():
    with pytest.raises(ParameterError, match="engine.*one of local, ray.*'spark'"):
        check_engine("spark")
    with pytest.raises(ParameterError, match="--engine ray or drop --ray-address"):
        check_engine("local", address="auto")
    with pytest.raises(ParameterError, match="workers"):
        check_engine("local", workers=0)


# ---- folder samples -----------------------------------------------------------------------
def test_part_plan_depends_on_row_counts_only():
    assert resample.part_plan(25, 10) == [(0, 0, 10), (1, 10, 10), (2, 20, 5)]
    assert resample.part_plan(10, 10) == [(0, 0, 10)]


def test_parts_are_the_same_whatever_engine_and_workers(run_dir, tmp_path, ray_cluster):
    model = run_dir / "model"
    runs = {"local-1": ("local", None), "local-2": ("local", 2), "ray-1": ("ray", 1),
            "ray-2": ("ray", 2)}
    for name, (engine, workers) in runs.items():
        result = sample_model(model, n_rows=2600, out=tmp_path / name, seed=7, engine=engine,
                              workers=workers, part_rows=700, force=True)
        assert result.exit_code == 0
        assert result.manifest["execution"]["engine"] == engine
    digests = {name: _digests(tmp_path / name) for name in runs}
    assert list(digests["local-1"]) == [f"part-{i:05d}.parquet" for i in range(4)]
    assert all(d == digests["local-1"] for d in digests.values()), digests

    rows = pd.read_parquet(tmp_path / "ray-2")  # a Parquet dataset: _manifest.json is skipped
    assert len(rows) == 2600 and rows["customer_id"].is_unique
    assert rows["email"].str.contains("@").all()
    manifest = json.loads((tmp_path / "ray-2" / "_manifest.json").read_text())
    assert [p["rows"] for p in manifest["parts"]] == [700, 700, 700, 500]
    assert {p["file"]: p["sha256"] for p in manifest["parts"]} == digests["ray-2"]
    assert manifest["execution"]["workers"] == 2
    assert 0 < manifest["execution"]["worker_peak_rss_bytes"] < 4 * 2**30
    # a different seed gives different parts
    sample_model(model, n_rows=2600, out=tmp_path / "other", seed=8, part_rows=700,
                 force=True)
    assert _digests(tmp_path / "other") != digests["local-1"]


def test_parts_with_conditions_through_the_cli(run_dir, tmp_path, ray_cluster):
    out = tmp_path / "rows.v2"  # a trailing "/" makes it a folder, extension or not
    result = invoke("sample", "--model", run_dir / "model", "--rows", 900, "--out", f"{out}/",
                    "--where", "churned=true", "--engine", "ray", "--workers", 2,
                    "--part-rows", 400, "--force", "--quiet")
    assert result.exit_code == 0, result.output
    assert "3 Parquet parts" in result.output and "ray engine" in result.output
    rows = pd.read_parquet(out)
    assert len(rows) == 900 and rows["churned"].all()


def test_a_failed_part_leaves_no_folder_and_keeps_the_previous_one(run_dir, tmp_path,
                                                                   monkeypatch):
    out = tmp_path / "rows"
    sample_model(run_dir / "model", n_rows=300, out=out, part_rows=100, force=True)
    before = _digests(out)
    real_write = resample._write_part

    def failing(part, job):  # the third part's worker dies
        if part[0] == 2:
            raise OSError(28, "No space left on device")
        return real_write(part, job)

    monkeypatch.setattr(resample, "_write_part", failing)
    with pytest.raises(OSError, match="No space"):
        sample_model(run_dir / "model", n_rows=500, out=out, seed=3, part_rows=100,
                     force=True)
    assert _digests(out) == before  # the previous sample, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows"]  # no staging folder left
    with pytest.raises(OSError, match="No space"):
        sample_model(run_dir / "model", n_rows=500, out=tmp_path / "new", part_rows=100,
                     force=True)
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(("out", "extra", "needle"), [
    ("taken", [], "holding other files"),
    ("rows.parquet", ["--engine", "ray"], "expected a folder"),
    ("rows.csv", ["--workers", "2"], "expected a folder"),
    ("rows.txt", [], "ending in .parquet or .csv, or a folder"),
    ("rows", ["--ray-address", "auto"], "--engine ray or drop --ray-address"),
    ("rows", ["--part-rows", "0"], "--part-rows"),
])
def test_bad_folder_sample_requests_exit_2_before_work(run_dir, tmp_path, out, extra, needle):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("keep me")
    result = invoke("sample", "--model", run_dir / "model", "--rows", 10, "--out",
                    tmp_path / out, "--force", *extra)
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert (tmp_path / "taken" / "notes.txt").read_text() == "keep me"


# ---- the extra's fence ---------------------------------------------------------------------
NO_RAY = textwrap.dedent("""
    import sys
    sys.modules["ray"] = None  # as if synthdata[ray] were not installed: `import ray` fails
    from synthdata.cli import app
    try:
        app(sys.argv[1:])
    except SystemExit as exc:
        sys.exit(exc.code)
""")

LOCAL_ONLY = textwrap.dedent("""
    import sys
    from synthdata.cli import app
    for args in sys.argv[1:]:
        try:
            app(args.split("|"))
        except SystemExit as exc:
            assert exc.code in (None, 0, 1), (args, exc.code)  # 1: a gate said no
    print("RAY:", sorted(m for m in sys.modules if m.split(".")[0] == "ray"))
""")


def test_without_the_extra_engine_ray_exits_2_with_the_install_command(run_dir, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", NO_RAY, "sample", "--model", str(run_dir / "model"), "--rows",
         "10", "--out", str(tmp_path / "rows"), "--engine", "ray", "--force"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "pip install 'synthdata[ray]'" in proc.stderr and "--engine ray" in proc.stderr
    assert not (tmp_path / "rows").exists()


def test_the_local_path_never_imports_ray(run_dir, tmp_path):
    model, table = run_dir / "model", run_dir.parent / "t.csv"
    folder = tmp_path / "dataset"  # a Parquet dataset: its passes over a process pool
    folder.mkdir()
    frame = pd.read_csv(table)
    frame.iloc[:800].to_parquet(folder / "part-0.parquet", index=False)
    frame.iloc[800:].to_parquet(folder / "part-1.parquet", index=False)
    commands = [
        f"run|{folder}|--schema|{ROOT / 'schemas' / 'demo.yaml'}|--out|{tmp_path / 'big'}"
        "|--epochs|1|--workers|2|--quiet",
        f"run|{table}|--schema|{ROOT / 'schemas' / 'demo.yaml'}|--out|{tmp_path / 'run'}"
        "|--synthesizer|bayesian_network|--quiet",
        f"sample|--model|{model}|--rows|50|--out|{tmp_path / 'one.parquet'}|--force|--quiet",
        f"sample|--model|{model}|--rows|50|--out|{tmp_path / 'parts'}|--part-rows|20|--force"
        "|--quiet",
        f"evaluate|--train|{table}|--holdout|{table}|--synth|{tmp_path / 'one.parquet'}"
        f"|--schema|{ROOT / 'schemas' / 'demo.yaml'}|--out|{tmp_path / 'eval'}|--quiet",
    ]
    proc = subprocess.run([sys.executable, "-c", LOCAL_ONLY, *commands], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "RAY: []" in proc.stdout, proc.stdout
    assert (tmp_path / "parts" / "part-00002.parquet").is_file()
    assert (tmp_path / "eval" / "report.json").is_file()
    assert (tmp_path / "run" / "report.json").is_file()
    assert (tmp_path / "big" / "report.json").is_file()


def test_the_fence_sees_ray_when_it_is_used(run_dir, tmp_path):
    """The import check can fail: a Ray sample does import ray."""
    command = (f"sample|--model|{run_dir / 'model'}|--rows|20|--out|{tmp_path / 'parts'}"
               "|--engine|ray|--workers|1|--force|--quiet")
    proc = subprocess.run([sys.executable, "-c", LOCAL_ONLY, command], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "'ray'" in proc.stdout


# ---- sharded scoring ----------------------------------------------------------------------
def test_block_search_equals_one_search_and_any_engine(monkeypatch, ray_cluster):
    from threadpoolctl import threadpool_limits

    from synthdata.metrics import privacy

    # this process searches with several OpenMP threads (even in a one-thread test worker)
    with threadpool_limits(limits=2, user_api="openmp"):
        _block_search_cases(privacy, monkeypatch)


def _block_search_cases(privacy, monkeypatch):
    import numpy as np
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(0)
    reference = rng.integers(0, 4, size=(3000, 5)).astype("float32")  # many tied distances
    query = rng.integers(0, 4, size=(2500, 5)).astype("float32")
    whole = NearestNeighbors(n_neighbors=2, algorithm="brute").fit(reference)
    expected = whole.kneighbors(query)[0]
    monkeypatch.setattr(privacy, "QUERY_BLOCK_ROWS", 700)  # 4 x 3 blocks
    monkeypatch.setattr(privacy, "REFERENCE_BLOCK_ROWS", 1100)
    here = privacy._neighbours(reference, query, k=2)
    assert np.allclose(here[0], expected, rtol=0, atol=1e-9)
    # each returned row number is a reference row at the returned distance
    assert np.allclose(np.linalg.norm(reference[here[1]] - query[:, None], axis=2), here[0],
                       atol=1e-5)
    with get_engine("ray", workers=2) as engine:
        there = privacy._neighbours(reference, query, k=2, engine=engine)
    # the same rows, ties included, though a Ray task has one thread and this process several
    assert np.array_equal(here[0], there[0]) and np.array_equal(here[1], there[1])
    # and so for a block large enough that scikit-learn splits the query rows over threads
    monkeypatch.setattr(privacy, "QUERY_BLOCK_ROWS", 20_000)
    query = rng.integers(0, 4, size=(4 * 256 * 2 + 500, 5)).astype("float32")
    here = privacy._neighbours(reference, query, k=2)
    with get_engine("ray", workers=2) as engine:
        there = privacy._neighbours(reference, query, k=2, engine=engine)
    assert np.array_equal(here[0], there[0]) and np.array_equal(here[1], there[1])


def test_evaluate_on_ray_gives_the_local_privacy_figures(run_dir, tmp_path, ray_cluster):
    table = run_dir.parent / "t.csv"
    synth = tmp_path / "synth.parquet"
    sample_model(run_dir / "model", n_rows=1200, out=synth, force=True)
    common = ["evaluate", "--train", table, "--holdout", run_dir.parent / "h.csv",
              "--synth", synth, "--schema", ROOT / "schemas" / "demo.yaml", "--quiet"]
    rows = pd.read_csv(table)
    rows.iloc[:1000].to_csv(table.with_name("train.csv"), index=False)
    rows.iloc[1000:].to_csv(run_dir.parent / "h.csv", index=False)
    common[2] = table.with_name("train.csv")
    reports = {}
    for engine in ("local", "ray"):
        extra = ["--engine", "ray", "--workers", 2] if engine == "ray" else []
        result = invoke(*common, "--out", tmp_path / engine, *extra)
        assert result.exit_code in (0, 1), result.output
        reports[engine] = json.loads((tmp_path / engine / "report.json").read_text())
    assert reports["ray"]["run"]["execution"] == {"engine": "ray", "workers": 2,
                                                  "address": "local"}
    assert reports["local"]["run"]["execution"] == {"engine": "local", "workers": 1}
    local, ray = (reports[e]["privacy"]["figures"] for e in ("local", "ray"))
    names = ["dcr_share", "dcr_share_se", "dcr_p5_synth", "dcr_p5_holdout", "nndr_ratio",
             "exact_copy_rate", "mia_auc", "mia_tpr_at_1pct_fpr"]
    for name in names:
        assert abs(local[name] - ray[name]) <= 1e-9, (name, local[name], ray[name])
