"""Big samples in Parquet parts: throughput with 1 and 2 Ray workers, and 20M rows' memory.

    python -m benchmarks.scale_sample [--model DIR/model] [--table adult] [--rows 20000000]
        [--ratio-rows 2000000] [--repeats 3] [--part-rows 1000000] [--scratch /tmp/...]

Without ``--model``, the default synthesizer is first fitted on ``<table>.csv`` by the
pipeline (``synthdata run``, seed 0) and its saved model used. Then, in this one process and
one local Ray instance (``num_cpus`` = this machine's cores), after a small warm-up sample
that starts the workers and loads the model in each:

- **throughput**: ``--ratio-rows`` rows written as parts (``sample_model`` to a folder, the
  ``sample --out DIR/`` path) with 1 and with 2 Ray workers, alternating, ``--repeats``
  times each (seeds 0..); rows/s medians and their ratio. The local engine (one process, all
  cores through torch's threads) is timed the same way as the no-Ray baseline. Each repeat's
  parts are compared byte for byte between 1 and 2 workers (same seed).
- **big sample**: ``--rows`` rows with 2 workers: seconds, rows/s, the peak RSS of each worker
  process (``ru_maxrss`` over its life, reported by its tasks), the driver's peak RSS, the
  rows in the written Parquet files (read back from their footers) and their size.

Writes benchmarks/results/<name>.{json,md} and the ``scale-sample`` section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from benchmarks.run import DATA, ROOT, cell, commit, machine, publish_section


def fit_model(table: str, scratch: Path) -> Path:
    from synthdata.pipeline import run

    out = scratch / "fit"
    result = run(DATA / f"{table}.csv", ROOT / "schemas" / f"{table}.yaml", out_dir=out,
                 seed=0, force=True, progress=False)
    print(f"fitted: gate passed = {result.report['gate']['passed']}", file=sys.stderr)
    return out / "model"


def one_sample(model: Path, out: Path, rows: int, *, engine: str, workers: int | None,
               seed: int, part_rows: int) -> dict[str, Any]:
    from synthdata.pipeline import sample_model

    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    result = sample_model(model, n_rows=rows, out=out, seed=seed, engine=engine,
                          workers=workers, part_rows=part_rows, force=True)
    seconds = time.perf_counter() - start
    info = result.manifest["execution"]
    return {"engine": engine, "workers": info["workers"], "seed": seed, "rows": rows,
            "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds, 1),
            "worker_peak_rss_mib": round(info["worker_peak_rss_bytes"] / 2**20, 1),
            "parts": {p["file"]: p["sha256"] for p in result.manifest["parts"]}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="a saved run's model folder (default: fit the "
                    "default synthesizer on --table first)")
    ap.add_argument("--table", default="adult")
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--ratio-rows", type=int, default=2_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--part-rows", type=int, default=1_000_000)
    ap.add_argument("--scratch", type=Path, help="folder for the model and the parts "
                    "(default: a temporary folder, removed at the end)")
    ap.add_argument("--out", default="scale-sample")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    import os

    import pyarrow.parquet as pq
    import ray

    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="scale-sample-"))
    scratch.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    model = args.model or fit_model(args.table, scratch)
    cores = os.cpu_count() or 1
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
    try:
        for workers in (1, 2):  # warm-up: workers started, model loaded in each
            one_sample(model, scratch / "warm", 4 * args.part_rows // 100, engine="ray",
                       workers=workers, seed=99, part_rows=args.part_rows // 100)
        runs: list[dict[str, Any]] = []
        for repeat in range(args.repeats):
            for engine, workers in (("ray", 1), ("ray", 2), ("local", None)):
                runs.append(one_sample(model, scratch / f"{engine}-{workers}", args.ratio_rows,
                                       engine=engine, workers=workers, seed=repeat,
                                       part_rows=args.part_rows))
                print({k: v for k, v in runs[-1].items() if k != "parts"}, file=sys.stderr,
                      flush=True)
        identical = all(
            a["parts"] == b["parts"] for a in runs for b in runs
            if a["seed"] == b["seed"])

        def rate(engine: str, workers: int) -> float:
            return statistics.median(r["rows_per_s"] for r in runs
                                     if r["engine"] == engine and r["workers"] == workers)

        one, two, local = rate("ray", 1), rate("ray", 2), rate("local", 1)
        paired = [round(b["rows_per_s"] / a["rows_per_s"], 3) for a in runs for b in runs
                  if a["seed"] == b["seed"] and (a["engine"], a["workers"]) == ("ray", 1)
                  and (b["engine"], b["workers"]) == ("ray", 2)]
        shutil.rmtree(scratch / "warm", ignore_errors=True)
        big_out = scratch / "big"
        big = one_sample(model, big_out, args.rows, engine="ray", workers=2, seed=0,
                         part_rows=args.part_rows)
        files = sorted(big_out.glob("part-*.parquet"))
        big.update({
            "rows_in_files": sum(pq.read_metadata(f).num_rows for f in files),
            "files": len(files), "bytes": sum(f.stat().st_size for f in files),
            "driver_peak_rss_mib": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})
        big.pop("parts")
    finally:
        ray.shutdown()
        if args.scratch is None:
            shutil.rmtree(scratch, ignore_errors=True)
    result = {"command": "python -m benchmarks.scale_sample " + " ".join(argv or sys.argv[1:]),
              "commit": commit(), "machine": machine(), "table": args.table,
              "model": str(args.model or "fitted here"), "part_rows": args.part_rows,
              "ratio_rows": args.ratio_rows, "repeats": args.repeats,
              "seconds": round(time.perf_counter() - started),
              "runs": [{k: v for k, v in r.items() if k != "parts"} for r in runs],
              "rows_per_s": {"ray_1": one, "ray_2": two, "local": local},
              "speedup_2_vs_1": round(two / one, 3), "paired_speedups": paired,
              "identical_parts": identical,
              "big": big}
    return publish_section(result, args.out, markdown(result), "scale-sample")


def markdown(result: dict[str, Any]) -> str:
    m, big, rate = result["machine"], result["big"], result["rows_per_s"]
    lines = [
        f"## Big samples in Parquet parts (`{result['command'].strip()}`)", "",
        f"Commit `{result['commit']}`, {result['seconds']} s in all. Machine: {m.get('cpu')}, "
        f"{m.get('cores')} cores, GPU: {m.get('gpu') or 'none'}. Model: the default "
        f"synthesizer on {result['table']} ({result['model']}); parts of "
        f"{result['part_rows']:,} rows; one local Ray instance, workers warmed up first.", "",
        f"**Throughput** ({result['ratio_rows']:,} rows, medians of {result['repeats']} runs "
        "each, interleaved):", "",
        "| engine | workers | rows/s | vs 1 Ray worker |", "|---|---|---|---|",
        f"| ray | 1 | {cell(rate['ray_1'], 0)} | 1.00× |",
        f"| ray | 2 | {cell(rate['ray_2'], 0)} | **{result['speedup_2_vs_1']:.2f}×** |",
        f"| local (one process, all cores) | 1 | {cell(rate['local'], 0)} | "
        f"{rate['local'] / rate['ray_1']:.2f}× |", "",
        f"Speed-up of each repeat (2 workers / 1 worker, same seed): "
        f"{', '.join(f'{x:.2f}×' for x in result.get('paired_speedups', []))}; the table's "
        "figure is the ratio of the medians.", "",
        f"Same seed, same parts byte for byte across 1 and 2 workers and the local engine: "
        f"**{result['identical_parts']}**.", "",
        f"**Big sample**: {big['rows']:,} rows with 2 workers in {big['seconds']:,.0f} s "
        f"({big['rows_per_s']:,.0f} rows/s), {big['files']} files, "
        f"{big['rows_in_files']:,} rows in their footers, {big['bytes'] / 2**30:.2f} GiB; "
        f"peak RSS per worker **{big['worker_peak_rss_mib']:,.0f} MiB**, driver "
        f"{big['driver_peak_rss_mib']:,.0f} MiB.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
