"""Privacy distance metrics at scale: 100,000 synth rows vs 100,000 train and holdout rows.

    python benchmarks/privacy_distances.py [--rows 100000] [--repeats 3]

The mixed table is the demo table (numbers, integers, dates, categories, booleans, missing
values); train, holdout and "synth" are independent draws of it (seeds 1, 2, 3). Each repeat
runs `evaluate_privacy` (DCR share, 5th-percentile DCRs, NNDR, exact copies, membership
inference) in a fresh child process and reports its wall time and the child's peak RSS.
Baseline in the same run: sdmetrics' DCROverfittingProtection and our `distances` on the same
5,000 x 5,000 rows (sdmetrics cannot do 100k in minutes), as a ratio. Exit 1 if the median
exceeds 180 s or the peak 4 GiB.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

CHILD = """
import json, sys, time
import pandas as pd
from synthdata.demo import demo_schema
from synthdata.metrics.privacy import evaluate_privacy
folder = sys.argv[1]
t, s, h = (pd.read_parquet(f"{folder}/{n}.parquet") for n in ("train", "synth", "holdout"))
start = time.perf_counter()
result = evaluate_privacy(t, s, h, demo_schema(), seed=0)
print(json.dumps({"seconds": time.perf_counter() - start, "figures": result["figures"]}))
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from synthdata.demo import demo_schema, make_demo_table

    schema = demo_schema()
    with tempfile.TemporaryDirectory() as folder:
        frames = {}
        for name, seed in (("train", 1), ("holdout", 2), ("synth", 3)):
            frames[name] = schema.validate_table(make_demo_table(args.rows, seed=seed))[
                schema.modelled_columns]
            frames[name].to_parquet(f"{folder}/{name}.parquet")
        print(f"{args.rows:,} rows each of train, holdout and synth; "
              f"{len(schema.modelled_columns)} columns")

        seconds, peaks = [], []
        for _ in range(args.repeats):
            proc = subprocess.run([sys.executable, "-c", CHILD, folder], capture_output=True,
                                  text=True, check=True)
            out = json.loads(proc.stdout.strip().splitlines()[-1])
            seconds.append(out["seconds"])
            peaks.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2)
        median, peak = statistics.median(seconds), max(peaks)
        print(f"evaluate_privacy at {args.rows:,} x {args.rows:,}: median {median:.1f} s "
              f"(runs {', '.join(f'{s:.1f}' for s in seconds)}); peak RSS {peak:.2f} GiB")
        print("figures:", {k: round(v, 4) if isinstance(v, float) else v
                           for k, v in out["figures"].items()})

    # baseline: sdmetrics on the same rows at a size it can handle
    from sdmetrics.single_table import DCROverfittingProtection

    from synthdata.metrics._encoding import for_sdmetrics, sdmetrics_metadata
    from synthdata.metrics.privacy import distances

    n = 5000
    small = {k: v.iloc[:n].reset_index(drop=True) for k, v in frames.items()}
    start = time.perf_counter()
    ours = distances(small["train"], small["synth"], small["holdout"], schema).figures
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = DCROverfittingProtection.compute_breakdown(
            for_sdmetrics(small["train"], schema), for_sdmetrics(small["synth"], schema),
            for_sdmetrics(small["holdout"], schema),
            {"tables": {"demo": sdmetrics_metadata(schema)}}, "demo")
    theirs_s = time.perf_counter() - start
    closer = theirs["synthetic_data_percentages"]["closer_to_training"]
    print(f"5,000 x 5,000: ours (distances) {ours_s:.2f} s, dcr_share {ours['dcr_share']:.4f}; "
          f"sdmetrics DCROverfittingProtection {theirs_s:.2f} s, share closer to training "
          f"{closer:.4f}; sdmetrics/ours time ratio {theirs_s / ours_s:.1f}x")
    return 0 if median <= 180 and peak <= 4 else 1


if __name__ == "__main__":
    sys.exit(main())
