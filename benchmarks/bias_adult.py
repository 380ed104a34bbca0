"""Bias scoring on UCI Adult with the Gaussian copula: the sex parity gap, real vs synthetic.

    python benchmarks/bias_adult.py [--seed 0]

Runs ``synthdata run ../shared/datasets/adult.csv --schema schemas/adult.yaml --synthesizer
gaussian_copula --seed SEED`` in a child process and prints the bias section: per-group
positive rates (income >50K) for sex and race, the parity gaps, the downstream models'
equalized-odds gaps, the flags and the time of the bias stage. Published anchor: about 30 % of
men vs 11 % of women earn > 50K in Adult (parity gap about 0.20). Writes
``benchmarks/results/bias_adult.json``. Exit 1 if the real gap is not within 0.02 of 0.20.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
PUBLISHED_GAP = 0.20


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "adult"
        command = [sys.executable, "-m", "synthdata.cli", "run", str(DATA / "adult.csv"),
                   "--schema", str(ROOT / "schemas" / "adult.yaml"), "--synthesizer",
                   "gaussian_copula", "--seed", str(args.seed), "--out", str(out), "--quiet"]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode not in (0, 1):  # 1 = the export gate failed: reports still written
            print(done.stdout, done.stderr)
            return 1
        report = json.loads((out / "report.json").read_text())
        manifest = json.loads((out / "manifest.json").read_text())
    bias = report["bias"]
    print(f"command: synthdata {' '.join(command[3:])}")
    gate = report["gate"]
    failed = ", ".join(f["check"] for f in gate["failures"])
    print(f"gate: {'passed' if gate['passed'] else 'failed: ' + failed}")
    print(f"positive outcome: {bias['settings']['positive_outcome']}; "
          f"{bias['settings']['n_tests']} tests at family-wise alpha {bias['settings']['alpha']}")
    print("\n| column | group | share real | share synth | rate real | rate synth |")
    print("|---|---|---|---|---|---|")
    rows: dict[tuple[str, str], dict[str, float]] = {}
    for d in bias["details"]:
        if d["metric"] in ("GroupShare", "PositiveRate") and "*" not in d["columns"][0]:
            rows.setdefault((d["columns"][0], d["group"]), {})[d["metric"]] = (d["real"],
                                                                              d["synth"])
    for (column, group), m in rows.items():
        share = m.get("GroupShare", (None, None))
        rate = m.get("PositiveRate", (None, None))
        cells = [f"{v:.3f}" if v is not None else "-" for v in (*share, *rate)]
        print(f"| {column} | {group} | " + " | ".join(cells) + " |")
    print("\n| column | tvd | parity gap real | parity gap synth | EO gap real model | "
          "EO gap synth model |")
    print("|---|---|---|---|---|---|")
    for column, f in bias["figures"].items():
        cells = [f.get(k) for k in ("representation_tvd", "parity_gap_real", "parity_gap_synth",
                                    "eo_gap_real_model", "eo_gap_synth_model")]
        print(f"| {column} | " + " | ".join(f"{v:.3f}" if v is not None else "-"
                                             for v in cells) + " |")
    print(f"\nflags: {len(bias['flags'])}")
    for flag in bias["flags"]:
        print(f"  [{flag['severity']}] {flag['column']}={flag['group']} {flag['check']}: "
              f"{flag['message']}")
    print(f"skipped groups: {len(bias['skipped'])}")
    print(f"bias stage: {manifest['timings_seconds'].get('score_bias')} s "
          f"(fit {manifest['timings_seconds'].get('fit')} s)")
    gap = bias["figures"]["sex"]["parity_gap_real"]
    print(f"real sex parity gap {gap:.3f} vs published ~{PUBLISHED_GAP}; synthetic "
          f"{bias['figures']['sex']['parity_gap_synth']:.3f}")
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "bias_adult.json").write_text(json.dumps(
        {"command": " ".join(["synthdata", *command[3:]]), "seed": args.seed,
         "bias": {k: bias[k] for k in ("figures", "scores", "flags", "settings")},
         "timings_seconds": manifest["timings_seconds"]}, indent=2) + "\n")
    return 0 if abs(gap - PUBLISHED_GAP) <= 0.02 else 1


if __name__ == "__main__":
    sys.exit(main())
