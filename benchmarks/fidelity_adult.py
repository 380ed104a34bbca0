"""Fidelity scoring on UCI Adult: speed, agreement with sdmetrics, determinism.

    python benchmarks/fidelity_adult.py [--repeats 3]

train = ../shared/datasets/adult.csv (32,561 rows), synth = 32,561 rows from a Gaussian copula
(seed 0) fitted on it, holdout = adult_test.csv (16,281 rows). Times the whole of
`evaluate_fidelity` (shapes, pair trends and their holdout references, coverage, detection with
permutation importances and its reference, ML efficacy) against sdmetrics' QualityReport alone
(the baseline) in the same process: medians of --repeats runs and their ratio. Also checks that
our column_shapes / column_pair_trends equal a direct QualityReport within 0.01 and that two
runs give identical figures. Exit 1 if the median exceeds 60 s or a check fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from synthdata.io import read_table
    from synthdata.metrics._encoding import for_sdmetrics, sdmetrics_metadata
    from synthdata.metrics.fidelity import evaluate_fidelity
    from synthdata.schema import load_schema
    from synthdata.synthesizers import get_synthesizer

    schema = load_schema(ROOT / "schemas" / "adult.yaml")
    train = read_table(DATA / "adult.csv", schema)
    holdout = read_table(DATA / "adult_test.csv", schema, role="part")
    synth = get_synthesizer("gaussian_copula", schema, seed=0).fit(train).sample(len(train))
    print(f"train {len(train)} rows, synth {len(synth)} rows, holdout {len(holdout)} rows")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

    def baseline() -> dict:
        report = QualityReport()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report.generate(for_sdmetrics(train, schema), for_sdmetrics(synth, schema),
                            sdmetrics_metadata(schema), verbose=False)
        return report.get_properties().set_index("Property")["Score"].to_dict()

    ours_s, base_s, results = [], [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        results.append(evaluate_fidelity(train, synth, holdout, schema, seed=0))
        ours_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        props = baseline()
        base_s.append(time.perf_counter() - start)
    ours, base = statistics.median(ours_s), statistics.median(base_s)
    figures = results[0]["figures"]
    print(f"evaluate_fidelity median {ours:.1f} s  (runs: {', '.join(f'{s:.1f}' for s in ours_s)})")
    print(f"sdmetrics QualityReport median {base:.1f} s (runs: "
          f"{', '.join(f'{s:.1f}' for s in base_s)}); ratio {ours / base:.1f}x")
    shapes_ok = abs(figures["column_shapes"] - props["Column Shapes"]) <= 0.01
    trends_ok = abs(figures["column_pair_trends"] - props["Column Pair Trends"]) <= 0.01
    same = all(r == results[0] for r in results[1:])
    print(f"column_shapes {figures['column_shapes']:.4f} vs sdmetrics "
          f"{props['Column Shapes']:.4f}: {'OK' if shapes_ok else 'DIFFERENT'}")
    print(f"column_pair_trends {figures['column_pair_trends']:.4f} vs sdmetrics "
          f"{props['Column Pair Trends']:.4f}: {'OK' if trends_ok else 'DIFFERENT'}")
    print(f"identical figures across {args.repeats} runs: {same}")
    for key in ("category_coverage", "range_coverage", "detection_auc", "tstr", "trtr"):
        ref = results[0]["reference"].get(key)
        print(f"  {key:<18} {figures[key]:.4f}" + (f"  (holdout reference {ref:.4f})"
                                                  if ref is not None else ""))
    print("  detection top features:",
          ", ".join(f"{f['column']} ({f['auc_drop']:.3f})"
                    for f in figures["detection_top_features"]))
    ok = ours <= 60 and shapes_ok and trends_ok and same
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
