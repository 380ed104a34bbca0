"""Done-when check: `synthdata run` on UCI Adult works for each synthesizer, and running it
twice with the same seed gives a byte-identical synthetic.csv and identical fidelity figures.

    python benchmarks/adult_reproducibility.py [--epochs 1] [--seed 1]

Reads ../shared/datasets/adult.csv (never copied into the repo). Prints one line per synthesizer
with both sha256 digests, whether they match each other and the reference recorded before the
synthesizer-contract refactor (results/adult_reproducibility_reference.json: same rows for the
same seed across that refactor), wall time per run, and the QualityReport figures.
Exit 1 if any pair differs, a digest differs from the reference, or a run fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADULT = ROOT.parent / "shared" / "datasets" / "adult.csv"
REFERENCE = ROOT / "benchmarks" / "results" / "adult_reproducibility_reference.json"


def main() -> int:
    parser = argparse.ArgumentParser()
    from synthdata.synthesizers.registry import backend_class, names

    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--synthesizers", default=",".join(names()))
    parser.add_argument("--expect", type=Path, default=REFERENCE,
                        help="JSON with the sha256 each synthesizer must reproduce (recorded "
                             "before a refactor; checked when --epochs/--seed match it)")
    args = parser.parse_args()
    reference = json.loads(args.expect.read_text()) if args.expect.exists() else {}
    if (reference.get("epochs"), reference.get("seed")) != (args.epochs, args.seed):
        reference = {}
    if not ADULT.exists():
        print(f"missing {ADULT}: this benchmark needs the shared datasets", file=sys.stderr)
        return 2
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.synthesizers.split(","):
            digests, seconds = [], []
            for i in range(2):
                out = Path(tmp) / f"{name}-{i}"
                cmd = ["synthdata", "run", str(ADULT), "--schema", str(ROOT / "schemas/adult.yaml"),
                       "--out", str(out), "--seed", str(args.seed), "--format", "csv",
                       "--synthesizer", name, "--quiet", "--force"]
                if backend_class(name).trains_in_epochs():
                    cmd += ["--epochs", str(args.epochs)]
                start = time.perf_counter()
                proc = subprocess.run(cmd, capture_output=True, text=True)
                seconds.append(time.perf_counter() - start)
                if proc.returncode != 0:
                    print(f"{name}: run {i} failed ({proc.returncode}):\n{proc.stderr}")
                    ok = False
                    break
                digests.append(hashlib.sha256((out / "synthetic.csv").read_bytes()).hexdigest())
            if len(digests) != 2:
                continue
            figures, figures_again = (
                json.loads((Path(tmp) / f"{name}-{i}" / "report.json").read_text())[
                    "fidelity"]["figures"] for i in range(2))
            same = digests[0] == digests[1] and figures == figures_again
            expected = reference.get("sha256", {}).get(name)
            as_before = "n/a" if expected is None else str(digests[0] == expected)
            ok &= same and as_before != "False"
            print(f"{name:<16} identical={same} as_reference={as_before} "
                  f"sha256={digests[0][:16]}/{digests[1][:16]} "
                  f"seconds={seconds[0]:.1f},{seconds[1]:.1f} "
                  f"column_shapes={figures['column_shapes']:.3f} "
                  f"column_pair_trends={figures['column_pair_trends']:.3f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
