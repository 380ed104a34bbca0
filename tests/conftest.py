"""Shared fixtures: small real tables made by the demo generator (no mocks, no shared data)."""

from __future__ import annotations

import os
import tempfile

# torch and scikit-learn each bring their own OpenMP runtime; an idle runtime's threads spin
# for GOMP_SPINCOUNT iterations and, on 2 cores, starve the other one (HistGradientBoosting ran
# 3-4x slower after torch had run). Set before either library loads; synthdata.cli does the same.
os.environ.setdefault("GOMP_SPINCOUNT", "10000")
# under pytest-xdist (the README's test command runs one worker per core) each worker gets one
# thread, so torch and scikit-learn in two workers do not fight over the same cores
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_name, "1")
# runs sign their manifest with a per-user key; keep the tests' key out of the real home
os.environ.setdefault("SYNTHDATA_CONFIG_DIR", tempfile.mkdtemp(prefix="synthdata-config-"))

from pathlib import Path  # noqa: E402

import pandas as pd
import pytest

from synthdata.demo import demo_schema, make_demo_table
from synthdata.schema import Schema

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def schema() -> Schema:
    return demo_schema()


@pytest.fixture(scope="session")
def small_raw() -> pd.DataFrame:
    """600 demo rows, as produced by the generator (before typing)."""
    return make_demo_table(600, seed=3)


@pytest.fixture(scope="session")
def small_typed(small_raw: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    return schema.validate_table(small_raw)


@pytest.fixture()
def small_csv(tmp_path: Path, small_raw: pd.DataFrame) -> Path:
    path = tmp_path / "table.csv"
    small_raw.to_csv(path, index=False)
    return path


@pytest.fixture()
def schema_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "schema.yaml"
    path.write_text((ROOT / "schemas" / "demo.yaml").read_text())
    return path


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray instance for the whole test session (the engine joins it, never stops
    it). ``synthdata[ray]`` is part of the test command: a missing Ray fails, not skips."""
    import ray

    # workers import the task functions by module: the tests' own, too
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(
                 [str(ROOT / "tests"), str(ROOT)])}})
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """`synthdata demo --out DIR --quiet`, run once for the tests that check its outputs,
    its printout and its gate (the demo is `run` on make_demo_table(seed=0), seed 0)."""
    from typer.testing import CliRunner

    from synthdata.cli import app

    out = tmp_path_factory.mktemp("demo") / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--quiet"])
    return out, result
