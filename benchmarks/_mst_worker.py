"""Fit smartnoise-synth's MST on a parquet table and sample as many rows (run by
benchmarks/dp.py inside smartnoise's own venv; never imported by synthdata).

    <smartnoise venv>/bin/python benchmarks/_mst_worker.py TRAIN.parquet OUT.parquet SPEC.json

SPEC.json: epsilon, delta, seed, bins, and per column its kind, declared min/max and
categories (public). Numbers are binned into ``bins`` equal-width bins between the declared
bounds (smartnoise's BinTransformer, no budget spent); categories are labels. Prints one JSON
line: fit and sample seconds and the epsilon MST was given.
"""

import json
import sys
import time

import numpy as np
import pandas as pd
from snsynth import Synthesizer
from snsynth.transform import BinTransformer, LabelTransformer


def main() -> None:
    src, out, spec_path = sys.argv[1], sys.argv[2], sys.argv[3]
    spec = json.loads(open(spec_path).read())
    train = pd.read_parquet(src)
    np.random.seed(spec["seed"])  # MST draws from numpy's global generator
    constraints = {}
    for column, info in spec["columns"].items():
        if info["kind"] in ("integer", "numerical") and info["min"] is not None \
                and info["max"] is not None:
            constraints[column] = BinTransformer(bins=spec["bins"], lower=float(info["min"]),
                                                 upper=float(info["max"]), nullable=True)
            train[column] = pd.to_numeric(train[column]).astype("float64")
        else:
            constraints[column] = LabelTransformer(nullable=True)
            train[column] = train[column].astype(object).where(train[column].notna(), None)
    synth = Synthesizer.create("mst", epsilon=float(spec["epsilon"]), delta=spec["delta"])
    start = time.perf_counter()
    synth.fit(train, transformer=constraints, preprocessor_eps=0.0)
    fit = time.perf_counter() - start
    start = time.perf_counter()
    rows = synth.sample(len(train))
    sample = time.perf_counter() - start
    for column, info in spec["columns"].items():
        if info["kind"] == "integer":
            rows[column] = pd.to_numeric(rows[column]).round()
    rows.to_parquet(out, index=False)
    print(json.dumps({"fit_s": round(fit, 2), "sample_s": round(sample, 3),
                      "epsilon_spent": float(spec["epsilon"])}))


if __name__ == "__main__":
    main()
