"""Sharded privacy scoring: the same figures on Ray as here, and 1M x 1M rows in bounded memory.

    python -m benchmarks.scale_scoring [--table adult] [--model DIR/model] [--workers 2]
        [--big-rows 1000000] [--big-holdout N] [--skip-big]

**Same figures.** ``<table>.csv`` split as the pipeline splits it (seed 0); the synthetic rows
are ``len(train)`` rows of ``--model`` (default: the default synthesizer fitted on train here,
seed 0). The nearest-neighbour privacy metrics (``distances``: DCR share and its error, the
5th-percentile DCRs, NNDR; ``membership_inference``) run with the local engine and with a Ray
engine of ``--workers`` workers; every figure and every raw distance array is compared (largest
absolute difference), with the wall time of each.

**Big.** ``--big-rows`` synthetic rows against ``--big-rows`` training rows and
``--big-holdout`` holdout rows (independent draws of the demo table's generator, seeds 1-3,
in calls of 500,000 rows: the mixed table of ``benchmarks/privacy_distances.py``), scored by
the same two metrics on Ray:
wall time, the driver's peak RSS and each Ray worker's peak RSS (``VmHWM`` of every worker
process at the end). As the library documents, the DCR share, the 5th-percentile DCRs and NNDR
compare synth with equal-size samples of train and holdout (min(train, holdout) rows each: with
the default ``--big-holdout`` = ``--big-rows`` that is every row, three 1M x 1M searches), and
the membership attack scores 50,000 rows per side against all synthetic rows.

Writes benchmarks/results/<name>.{json,md} and the ``scale-scoring`` section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.run import DATA, ROOT, commit, machine, publish_section

METRICS = ("distances", "membership_inference")


def _worker_peaks_mib() -> list[float]:
    """Peak RSS (VmHWM) of every Ray worker process alive now."""
    peaks = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            if b"default_worker.py" not in cmdline and not cmdline.startswith(b"ray::"):
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(round(int(line.split()[1]) / 1024, 1))
        except OSError:
            continue
    return sorted(peaks)


def _score(train: Any, synth: Any, holdout: Any, schema: Any, engine: Any
           ) -> tuple[dict[str, Any], float]:
    from synthdata.metrics import privacy

    start = time.perf_counter()
    figures: dict[str, Any] = {}
    for name in METRICS:
        result = getattr(privacy, name)(train, synth, holdout, schema, seed=0, engine=engine)
        figures.update(result.figures)
    return figures, time.perf_counter() - start


def same_figures(table: str, model_dir: Path | None, workers: int) -> dict[str, Any]:
    from synthdata import load_schema
    from synthdata.execution import get_engine
    from synthdata.io import read_table
    from synthdata.metrics import privacy
    from synthdata.metrics._encoding import MixedEncoder, scored_columns
    from synthdata.split import split
    from synthdata.synthesizers import get_synthesizer
    from synthdata.synthesizers.base import Synthesizer

    schema = load_schema(ROOT / "schemas" / f"{table}.yaml")
    train, holdout = split(read_table(DATA / f"{table}.csv", schema)[schema.modelled_columns],
                           schema, seed=0)
    if model_dir is not None:
        model = Synthesizer.load(model_dir, trusted=True)
    else:
        model = get_synthesizer(schema.synthesizer.name, schema, seed=0).fit(train)
    synth = model.sample(len(train), seed=0)
    out: dict[str, Any] = {"table": table, "train_rows": len(train),
                           "holdout_rows": len(holdout), "synth_rows": len(synth)}
    figures, seconds = {}, {}
    encoder = MixedEncoder(scored_columns(schema), schema).fit(train)
    x_train, x_synth = encoder.transform(train), encoder.transform(synth)
    raw = {}
    for engine_name in ("local", "ray"):
        with get_engine(engine_name, workers=workers if engine_name == "ray" else None) as e:
            figures[engine_name], seconds[engine_name] = _score(train, synth, holdout, schema,
                                                                e)
            raw[engine_name] = privacy._neighbours(x_train, x_synth, k=2, engine=e)
    diffs = {k: abs(float(figures["local"][k]) - float(figures["ray"][k]))
             for k in figures["local"] if isinstance(figures["local"][k], int | float)}
    out.update({
        "figures_local": figures["local"], "seconds": seconds,
        "largest_figure_difference": max(diffs.values()),
        "largest_distance_difference": float(np.max(np.abs(raw["local"][0] - raw["ray"][0]))),
        "same_neighbour_rows": bool(np.array_equal(raw["local"][1], raw["ray"][1])),
        "encoded_width": int(x_train.shape[1])})
    return out


def big(rows: int, holdout_rows: int, workers: int) -> dict[str, Any]:
    from synthdata.demo import demo_schema, make_demo_table
    from synthdata.execution import get_engine

    schema = demo_schema()
    def draw(n: int, seed: int) -> Any:  # the generator makes at most 999,999 rows a call
        import pandas as pd

        cuts = [min(500_000, n - b) for b in range(0, n, 500_000)]
        return pd.concat([schema.validate_table(make_demo_table(c, seed=seed * 1000 + i))[
            schema.modelled_columns] for i, c in enumerate(cuts)], ignore_index=True)

    frames = {name: draw(n, seed) for name, n, seed in (
        ("train", rows, 1), ("holdout", holdout_rows, 2), ("synth", rows, 3))}
    with get_engine("ray", workers=workers) as engine:
        figures, seconds = _score(frames["train"], frames["synth"], frames["holdout"],
                                  schema, engine)
        peaks = _worker_peaks_mib()
    return {"train_rows": rows, "synth_rows": rows, "holdout_rows": holdout_rows,
            "seconds": round(seconds, 1), "figures": figures, "worker_peak_rss_mib": peaks,
            "driver_peak_rss_mib": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def markdown(result: dict[str, Any]) -> str:
    m, same = result["machine"], result["same"]
    lines = [
        f"## Sharded privacy scoring (`{result['command'].strip()}`)", "",
        f"Commit `{result['commit']}`, {result['seconds']} s in all. Machine: {m.get('cpu')}, "
        f"{m.get('cores')} cores, GPU: {m.get('gpu') or 'none'}. One local Ray instance, "
        f"{result['workers']} workers.", "",
        f"**Same figures** on {same['table']} ({same['train_rows']:,} train, "
        f"{same['holdout_rows']:,} holdout, {same['synth_rows']:,} synthetic rows, "
        f"{same['encoded_width']} encoded columns): DCR, NNDR and membership-attack figures, "
        f"local engine {same['seconds']['local']:.1f} s, Ray {same['seconds']['ray']:.1f} s; "
        f"largest difference of a figure **{same['largest_figure_difference']:.1e}**, of a "
        f"raw distance {same['largest_distance_difference']:.1e}; the same neighbour rows: "
        f"{same['same_neighbour_rows']}.", ""]
    if result.get("big"):
        b = result["big"]
        n = min(b["train_rows"], b["holdout_rows"])
        pairs = (2 * b["synth_rows"] * n + b["holdout_rows"] * n
                 + 2 * min(n, 50_000) * b["synth_rows"])
        lines += [
            f"**Big**: {b['synth_rows']:,} synthetic x {b['train_rows']:,} training rows "
            f"(+ {b['holdout_rows']:,} holdout rows; the demo table's generator) on Ray in "
            f"**{b['seconds']:,.0f} s**: the nearest-neighbour searches synthetic -> train and "
            f"synthetic -> holdout ({b['synth_rows']:,} x {n:,} each, 2 neighbours), holdout "
            f"-> train ({b['holdout_rows']:,} x {n:,}) and the attack's "
            f"{2 * min(n, 50_000):,} real rows x {b['synth_rows']:,}: {pairs:.2e} row pairs "
            f"in tasks of 20,000 x 500,000 rows, {pairs / b['seconds']:.2e} pairs/s. Peak RSS "
            f"per worker {', '.join(f'{p:,.0f}' for p in b['worker_peak_rss_mib'])} MiB "
            "(shared object-store pages included), driver "
            f"{b['driver_peak_rss_mib']:,.0f} MiB (it holds the three tables, their encodings "
            f"and the distances); DCR share {b['figures']['dcr_share']:.4f}, "
            f"MIA AUC {b['figures']['mia_auc']:.4f}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", default="adult")
    ap.add_argument("--model", type=Path)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--big-rows", type=int, default=1_000_000)
    ap.add_argument("--big-holdout", type=int, help="default: --big-rows")
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--out", default="scale-scoring")
    ap.add_argument("--render", action="store_true", help="only rewrite the RESULTS.md "
                    "section from results/<out>.json")
    args = ap.parse_args(argv)
    if args.render:
        import json

        from benchmarks.run import RESULTS

        result = json.loads((RESULTS / f"{args.out}.json").read_text())
        return publish_section(result, args.out, markdown(result), args.out)
    warnings.simplefilter("ignore")
    import os

    import ray

    started = time.perf_counter()
    ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False)
    try:
        same = same_figures(args.table, args.model, args.workers)
        print({k: v for k, v in same.items() if k != "figures_local"}, file=sys.stderr,
              flush=True)
        large = None if args.skip_big else big(args.big_rows, args.big_holdout or args.big_rows,
                                               args.workers)
    finally:
        ray.shutdown()
    result = {"command": "python -m benchmarks.scale_scoring " + " ".join(argv or sys.argv[1:]),
              "commit": commit(), "machine": machine(), "workers": args.workers,
              "seconds": round(time.perf_counter() - started), "same": same, "big": large}
    return publish_section(result, args.out, markdown(result), args.out)


if __name__ == "__main__":
    raise SystemExit(main())
