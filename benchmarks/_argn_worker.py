"""Fit MOSTLY AI's TabularARGN on a parquet table and sample as many rows (run by
benchmarks/peers.py inside the engine's own venv; never imported by synthdata).

    <argn venv>/bin/python benchmarks/_argn_worker.py TRAIN.parquet OUT.parquet SEED

Prints one JSON line: fit and sample seconds and this process's peak memory.
"""

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from mostlyai import engine


def main() -> None:
    src, out, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    train = pd.read_parquet(src)
    with tempfile.TemporaryDirectory(prefix="argn-ws-") as ws:
        engine.set_random_state(seed)
        start = time.perf_counter()
        engine.split(workspace_dir=ws, tgt_data=train, model_type="TABULAR")
        engine.analyze(workspace_dir=ws)
        engine.encode(workspace_dir=ws)
        engine.train(workspace_dir=ws)
        fit = time.perf_counter() - start
        fit_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        engine.generate(workspace_dir=ws, sample_size=len(train))
        synth = pd.concat([pd.read_parquet(p) for p in
                           sorted((Path(ws) / "SyntheticData").glob("*.parquet"))])
        sample = time.perf_counter() - start
    synth.to_parquet(out, index=False)
    print(json.dumps({"fit_s": round(fit, 2), "sample_s": round(sample, 3),
                      "fit_peak_mib": round(fit_peak, 1)}))


if __name__ == "__main__":
    main()
