"""`run --synthesizer auto` on a real table: the candidates fitted in parallel on Ray, then
one after another on the local engine, and whether the two make the same choice.

    python -m benchmarks.auto_choice [--table adult]
        [--candidates autoregressive,bayesian_network,gaussian_copula] [--workers 3]

Both runs are the pipeline's ``run(..., synthesizer="auto")`` on ``<table>.csv`` with its
schema, seed 0, the same split: first ``engine="ray", workers=--workers`` (a private local
Ray instance with that many CPUs: every candidate at once), then ``engine="local"`` (one after
another, in this process). Recorded per run: wall seconds, each candidate's combined score,
gate verdict and failures, fit seconds and time window (overlapping windows ran in parallel),
and the chosen candidate; then whether the two runs had the same candidates, verdicts and
choice, and the largest difference of a combined score (a Ray task trains with one thread,
this process with all cores, so floating-point sums differ in the last digits).

Writes benchmarks/results/<name>.{json,md} and the ``auto-choice`` section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from benchmarks.run import DATA, ROOT, commit, machine, publish_section


def one_run(table: str, candidates: list[str], engine: str, workers: int | None,
            out: Path) -> dict[str, Any]:
    from synthdata.pipeline import run

    start = time.perf_counter()
    result = run(DATA / f"{table}.csv", ROOT / "schemas" / f"{table}.yaml", out_dir=out,
                 synthesizer="auto", candidates=candidates, engine=engine, workers=workers,
                 seed=0, progress=False)
    seconds = time.perf_counter() - start
    entries = result.report["candidates"]
    return {"engine": engine, "workers": workers, "seconds": round(seconds, 1),
            "exit_code": result.exit_code,
            "chosen": next(c["synthesizer"] for c in entries if c["chosen"]),
            "candidates": [{k: c[k] for k in ("synthesizer", "seed", "combined_score", "gate",
                                              "seconds", "window", "worker")}
                           for c in entries]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", default="adult")
    ap.add_argument("--candidates", default="autoregressive,bayesian_network,gaussian_copula")
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--out", default="auto-choice")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    names = [c.strip() for c in args.candidates.split(",") if c.strip()]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="auto-choice-") as tmp:
        ray_run = one_run(args.table, names, "ray", args.workers, Path(tmp) / "ray")
        print(ray_run, file=sys.stderr, flush=True)
        local_run = one_run(args.table, names, "local", None, Path(tmp) / "local")
        print(local_run, file=sys.stderr, flush=True)

    def key(run: dict[str, Any]) -> list[tuple[str, int, bool]]:
        return [(c["synthesizer"], c["seed"], c["gate"]["passed"]) for c in run["candidates"]]

    diffs = [abs(a["combined_score"] - b["combined_score"])
             for a, b in zip(ray_run["candidates"], local_run["candidates"], strict=True)]
    windows = [c["window"] for c in ray_run["candidates"]]
    overlap = all(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(windows)
                  for b in windows[i + 1:])
    result = {"command": "python -m benchmarks.auto_choice " + " ".join(argv or sys.argv[1:]),
              "commit": commit(), "machine": machine(), "table": args.table,
              "candidates": names, "runs": [ray_run, local_run],
              "same_candidates_and_verdicts": key(ray_run) == key(local_run),
              "same_choice": ray_run["chosen"] == local_run["chosen"],
              "largest_combined_score_difference": round(max(diffs), 6),
              "ray_windows_all_overlap": overlap,
              "seconds": round(time.perf_counter() - started)}
    return publish_section(result, args.out, markdown(result), "auto-choice")


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    ray_run, local_run = result["runs"]
    lines = [
        f"## Parallel model choice (`{result['command'].strip()}`)", "",
        f"Commit `{result['commit']}`, {result['seconds']:,} s in all. Machine: {m.get('cpu')}, "
        f"{m.get('cores')} cores, GPU: {m.get('gpu') or 'none'}. `run {result['table']}.csv "
        f"--synthesizer auto --candidates {','.join(result['candidates'])}`, seed 0.", "",
        "| engine | candidate | combined score | gate | fit s | window (s from start) |",
        "|---|---|---|---|---|---|"]
    for run in (ray_run, local_run):
        label = f"{run['engine']}" + (f" ({run['workers']} workers)" if run["workers"] else "")
        for c in run["candidates"]:
            gate = "passes" if c["gate"]["passed"] else "fails " + ", ".join(
                c["gate"]["failures"])
            star = " **(chosen)**" if c["synthesizer"] == run["chosen"] else ""
            lines.append(f"| {label} | {c['synthesizer']}{star} | {c['combined_score']:.4f} | "
                         f"{gate} | {c['seconds']['fit']:.0f} | "
                         f"{c['window'][0]:.0f}-{c['window'][1]:.0f} |")
    lines += [
        "", f"Wall time: Ray {ray_run['seconds']:,.0f} s, local {local_run['seconds']:,.0f} s. "
        f"Ray's candidate windows all overlap (fitted at once): "
        f"**{result['ray_windows_all_overlap']}**. Same candidates and gate verdicts: "
        f"**{result['same_candidates_and_verdicts']}**; same choice: "
        f"**{result['same_choice']}**; largest difference of a combined score "
        f"{result['largest_combined_score_difference']:.4f} (a Ray task trains with one "
        "thread, the local run with all cores).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
