"""Fit MOSTLY AI's TabularARGN on a parquet table and sample as many rows (run by
benchmarks/peers.py inside the engine's own venv; never imported by synthdata).

    <argn venv>/bin/python benchmarks/_argn_worker.py TRAIN.parquet OUT.parquet SEED [EPSILON]

With EPSILON (benchmarks/dp.py): the engine's differential privacy, total budget EPSILON of
which a tenth for its value ranges (the share our tokenizer gets), the rest DP-SGD with the
engine's defaults (noise multiplier 1.5, delta 1e-5; training stops when the budget is spent).
Prints one JSON line: fit and sample seconds, this process's peak memory and, with EPSILON, the
epsilon the engine reports.
"""

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from mostlyai import engine
from mostlyai.engine.domain import DifferentialPrivacyConfig


def main() -> None:
    src, out, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    epsilon = float(sys.argv[4]) if len(sys.argv) > 4 else None
    dp = None if epsilon is None else DifferentialPrivacyConfig(
        max_epsilon=epsilon, value_protection_epsilon=0.1 * epsilon)
    train = pd.read_parquet(src)
    with tempfile.TemporaryDirectory(prefix="argn-ws-") as ws:
        engine.set_random_state(seed)
        start = time.perf_counter()
        engine.split(workspace_dir=ws, tgt_data=train, model_type="TABULAR")
        engine.analyze(workspace_dir=ws, differential_privacy=dp)
        engine.encode(workspace_dir=ws)
        engine.train(workspace_dir=ws, differential_privacy=dp)
        fit = time.perf_counter() - start
        fit_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        engine.generate(workspace_dir=ws, sample_size=len(train))
        synth = pd.concat([pd.read_parquet(p) for p in
                           sorted((Path(ws) / "SyntheticData").glob("*.parquet"))])
        sample = time.perf_counter() - start
        spent = _spent(Path(ws)) if dp else None
    synth.to_parquet(out, index=False)
    print(json.dumps({"fit_s": round(fit, 2), "sample_s": round(sample, 3),
                      "fit_peak_mib": round(fit_peak, 1), "epsilon_spent": spent}))


def _spent(ws: Path) -> float | None:
    """The total epsilon of the engine's last training progress row (its own accounting)."""
    logs = sorted(ws.glob("ModelStore/**/*progress-messages*.csv"))
    if not logs:
        return None
    rows = pd.read_csv(logs[-1])
    for column in ("dp_eps", "dpEps"):
        if column in rows.columns and rows[column].notna().any():
            return float(rows[column].dropna().iloc[-1])
    return None


if __name__ == "__main__":
    main()
