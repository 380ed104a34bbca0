"""Our Giomi et al. attacks agree with anonymeter's on the same data, within its intervals.

anonymeter 1.1.0 pins numpy<1.27, so it runs in its own virtual environment: set
SYNTHDATA_ANONYMETER_PYTHON to its python (``bash tests/anonymeter/make_venv.sh DIR`` makes one
and prints the path; `.ci/run` does this). Without it the test is skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthdata.demo import demo_schema, make_demo_table
from synthdata.metrics import attacks
from synthdata.metrics._encoding import scored_columns

PYTHON = os.environ.get("SYNTHDATA_ANONYMETER_PYTHON")
HERE = Path(__file__).parent
N_ATTACKS = 1000

pytestmark = pytest.mark.skipif(
    not PYTHON, reason="SYNTHDATA_ANONYMETER_PYTHON not set (see tests/anonymeter/make_venv.sh)"
)


def _plain(df: pd.DataFrame, schema) -> pd.DataFrame:
    """Types both libraries read alike: floats for numbers and dates, text for the rest."""
    out = {}
    for c in scored_columns(schema):
        col = df[c]
        if pd.api.types.is_datetime64_any_dtype(col):
            out[c] = col.astype("int64").astype("float64") / 86_400e9  # days
        elif str(col.dtype) in ("Int64", "float64"):
            out[c] = col.astype("float64")
        else:
            out[c] = col.astype(object).where(col.notna(), None).astype(str)
    return pd.DataFrame(out)


def test_risks_agree_with_anonymeter(tmp_path):
    schema = demo_schema()

    def draw(seed):
        return schema.validate_table(make_demo_table(1500, seed=seed))

    train, holdout = _plain(draw(1), schema), _plain(draw(2), schema)
    rng = np.random.default_rng(0)
    synth = train.copy()  # a leaky generator: 30 % of cells re-drawn, the rest copied
    for c in synth.columns:
        mask = rng.random(len(synth)) < 0.3
        synth.loc[mask, c] = train[c].to_numpy()[rng.integers(0, len(train), int(mask.sum()))]
    for name, df in (("train", train), ("holdout", holdout), ("synth", synth)):
        df.to_parquet(tmp_path / f"{name}.parquet")

    qi = ["age", "sex", "region"]
    columns = list(train.columns)
    ours = {
        f"singling_out_{m}": attacks.singling_out(train, synth, holdout, schema, columns,
                                                  mode=m, n_attacks=N_ATTACKS)
        for m in ("univariate", "multivariate")
    }
    ours["linkability"] = attacks.linkability(train, synth, holdout, schema, qi,
                                              n_attacks=N_ATTACKS)
    ours["inference:sex"] = attacks.inference(train, synth, holdout, schema, ["age", "region"],
                                              "sex", n_attacks=N_ATTACKS)
    spec = {"n_attacks": N_ATTACKS, "columns_a": ours["linkability"]["columns_a"],
            "columns_b": ours["linkability"]["columns_b"],
            "inference": {"sex": ["age", "region"]}}
    proc = subprocess.run([PYTHON, str(HERE / "anonymeter" / "reference.py"), str(tmp_path),
                           json.dumps(spec)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    report = {k: (round(ours[k]["risk"], 3), round(theirs[k]["risk"], 3)) for k in theirs}
    for key, their in theirs.items():
        our = ours[key]
        # the two intervals overlap: same quantity, estimated from different random attacks
        assert our["ci_low"] <= their["ci_high"] and their["ci_low"] <= our["ci_high"], report
