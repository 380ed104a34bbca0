"""Streamed training of the default synthesizer: one process against data-parallel Ray Train
workers, on the same Parquet dataset, in the same run.

    python -m benchmarks.scale_train --dataset DIR [--table adult] [--epochs 1]
        [--repeats 3] [--workers 2]

The dataset folder is opened and scanned once (``synthdata.dataset``); then, interleaved,
``--repeats`` times each (seeds 0..): the autoregressive synthesizer's ``fit_stream`` with the
local engine (one process, torch's threads over all cores) and with a Ray engine of
``--workers`` Ray Train workers (one CPU each, gradients averaged). Recorded per fit: the
training seconds and rows trained per second (from the model's training record: epochs of at
most 1,000,000 rows), the best validation loss (the same validation rows for both), the
weights' spread between the workers. Medians, and the ratio of the medians.

Writes benchmarks/results/<name>.{json,md} and the ``scale-train`` section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from benchmarks.run import ROOT, commit, machine, publish_section


def one_fit(dataset: Any, schema: Any, engine: Any, seed: int, epochs: int) -> dict[str, Any]:
    from synthdata.synthesizers import get_synthesizer

    model = get_synthesizer("autoregressive", schema, seed=seed, epochs=epochs, device="cpu")
    start = time.perf_counter()
    model.fit_stream(dataset, engine=engine)
    seconds = time.perf_counter() - start
    t = model.training_
    trained = min(dataset.n_train, 1_000_000) * t["epochs"]  # epoch rows, about
    return {"engine": engine.name, "workers": t.get("data_parallel_workers", 1), "seed": seed,
            "fit_seconds": round(seconds, 1), "train_seconds": t["seconds"],
            "rows_per_s": round(trained / t["seconds"], 1), "epochs": t["epochs"],
            "best_val_loss": t["best_val_loss"], "weight_spread": t.get("weight_spread")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--table", default="adult")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="scale-train")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    from synthdata.dataset import open_dataset
    from synthdata.execution import get_engine
    from synthdata.schema import load_schema

    started = time.perf_counter()
    schema = load_schema(ROOT / "schemas" / f"{args.table}.yaml")
    dataset = open_dataset(args.dataset, schema).scan(holdout=0.2, seed=0)
    runs: list[dict[str, Any]] = []
    with get_engine("local") as local, get_engine("ray", workers=args.workers) as ray:
        for repeat in range(args.repeats):
            for engine in (local, ray):
                runs.append(one_fit(dataset, schema, engine, repeat, args.epochs))
                print(runs[-1], file=sys.stderr, flush=True)

    def median(engine: str, key: str) -> float:
        return statistics.median(r[key] for r in runs if r["engine"] == engine)

    rate = {e: median(e, "rows_per_s") for e in ("local", "ray")}
    paired = [round(b["rows_per_s"] / a["rows_per_s"], 3) for a, b in zip(runs[::2], runs[1::2],
                                                                            strict=True)]
    result = {"command": "python -m benchmarks.scale_train " + " ".join(argv or sys.argv[1:]),
              "commit": commit(), "machine": machine(), "table": args.table,
              "dataset": {"folder": str(args.dataset), "rows": dataset.n_rows,
                          "rows_train": dataset.n_train},
              "epochs": args.epochs, "repeats": args.repeats, "workers": args.workers,
              "runs": runs, "rows_per_s": rate,
              "speedup_ray_vs_local": round(rate["ray"] / rate["local"], 3),
              "paired_speedups": paired,
              "best_val_loss": {e: median(e, "best_val_loss") for e in ("local", "ray")},
              "seconds": round(time.perf_counter() - started)}
    return publish_section(result, args.out, markdown(result), "scale-train")


def markdown(result: dict[str, Any]) -> str:
    m, rate, loss = result["machine"], result["rows_per_s"], result["best_val_loss"]
    spreads = [r["weight_spread"] for r in result["runs"] if r["weight_spread"] is not None]
    return "\n".join([
        f"## Streamed training, data-parallel (`{result['command'].strip()}`)", "",
        f"Commit `{result['commit']}`, {result['seconds']:,} s in all. Machine: {m.get('cpu')}, "
        f"{m.get('cores')} cores, GPU: {m.get('gpu') or 'none'}. The default synthesizer's "
        f"`fit_stream` on {result['dataset']['rows_train']:,} training rows of "
        f"{result['dataset']['folder']}, {result['epochs']} epoch(s) of at most 1,000,000 "
        f"rows, medians of {result['repeats']} fits each, interleaved.", "",
        "| engine | training rows/s | best validation loss |", "|---|---|---|",
        f"| local (one process, all cores) | {rate['local']:,.0f} | {loss['local']:.4f} |",
        f"| ray ({result['workers']} Ray Train workers) | {rate['ray']:,.0f} | "
        f"{loss['ray']:.4f} |", "",
        f"Ratio of the medians: **{result['speedup_ray_vs_local']:.2f}×** (per repeat "
        f"{', '.join(f'{x:.2f}×' for x in result['paired_speedups'])}). Largest weight spread "
        f"between the workers at the end: {max(spreads, default=0):.1e} (the same weights).",
        ""])


if __name__ == "__main__":
    raise SystemExit(main())
