"""Fit smartnoise-synth's MST on a parquet table and sample as many rows (run by
benchmarks/dp.py inside smartnoise's own venv; never imported by synthdata).

    <smartnoise venv>/bin/python benchmarks/_mst_worker.py TRAIN.parquet OUT.parquet SPEC.json

SPEC.json: epsilon, delta, seed, bins, log_span, and per column its kind, declared min/max and
categories (public). Numbers are binned into ``bins`` equal-width bins between the declared
bounds (smartnoise's BinTransformer, no budget spent); with ``log_span`` set, a number whose
declared range is wider than it is binned on the log1p scale instead (the public rule our own
synthesizer uses). Categories are labels. Prints one JSON line: fit and sample seconds and the
epsilon MST was given.
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
    logged = []
    for column, info in spec["columns"].items():
        if info["kind"] in ("integer", "numerical") and info["min"] is not None \
                and info["max"] is not None:
            lower, upper = float(info["min"]), float(info["max"])
            train[column] = pd.to_numeric(train[column]).astype("float64")
            if spec.get("log_span") and upper - lower > spec["log_span"] and lower >= 0:
                logged.append(column)
                lower, upper = float(np.log1p(lower)), float(np.log1p(upper))
                train[column] = np.log1p(train[column])
            constraints[column] = BinTransformer(bins=spec["bins"], lower=lower, upper=upper,
                                                 nullable=True)
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
    for column in logged:
        rows[column] = np.expm1(pd.to_numeric(rows[column]).astype("float64"))
    for column, info in spec["columns"].items():
        if info["kind"] == "integer":
            rows[column] = pd.to_numeric(rows[column]).round()
    rows.to_parquet(out, index=False)
    print(json.dumps({"fit_s": round(fit, 2), "sample_s": round(sample, 3),
                      "epsilon_spent": float(spec["epsilon"])}))


if __name__ == "__main__":
    main()
