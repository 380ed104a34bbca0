"""The streamed passes over a Parquet dataset (the scan, the encoding pass of a streamed fit)
as engine tasks: one process against a process pool and Ray, in the same run.

    python -m benchmarks.scale_passes --dataset DIR [--table adult] [--files N]
        [--workers 2] [--repeats 3]

``DIR`` is a Parquet dataset folder (e.g. the one ``benchmarks/scale_input.py`` writes);
``--files N`` takes its first N files (symlinks in a temporary folder). Interleaved,
``--repeats`` times each: ``open_dataset(...).scan(engine=...)`` and the default synthesizer's
``fit_stream`` up to its training (the encoding pass is timed, from the model's training
record ``encode_seconds``; the codes it wrote are then hashed instead of trained on) with the
local engine (one process), the local engine with ``--workers`` processes, and a Ray engine
of ``--workers`` workers. Each pass is one task per *unit* (row groups of at most 1,048,576
rows): choose ``--files`` so that the units share out evenly over the workers. Recorded: the
seconds of each pass, the medians and their ratios to one process, and whether every engine
gave the same split and samples and the same codes (hashes of them).

Writes benchmarks/results/<out>.{json,md} and the ``<out>`` section of RESULTS.md (default
``scale-passes``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from benchmarks.run import ROOT, commit, machine, publish_section


def one_pass(folder: Path, schema: Any, engine: Any) -> dict[str, Any]:
    """The scan, then a default-synthesizer fit whose training is left out: its encoding pass
    runs, then the codes it wrote are hashed in place of training (this benchmark times the
    passes, not the net)."""
    import hashlib

    import numpy as np
    import pandas as pd

    from synthdata.dataset import open_dataset
    from synthdata.synthesizers import get_synthesizer

    start = time.perf_counter()
    dataset = open_dataset(folder, schema).scan(holdout=0.2, seed=0, engine=engine)
    scan = time.perf_counter() - start
    model = get_synthesizer("autoregressive", schema, seed=0, device="cpu")
    codes_hash = hashlib.sha256()

    def hash_codes(params: Any, seen: int, codes: Path, val: Any, counts: Any, *,
                   rows: int, **_: Any) -> None:
        data = np.load(codes, mmap_mode="r")
        for a in range(0, rows, 1_000_000):
            codes_hash.update(np.ascontiguousarray(data[a:min(a + 1_000_000, rows)]).data)
        codes_hash.update(np.ascontiguousarray(val).data)
        for c in counts:
            codes_hash.update(np.ascontiguousarray(c).data)
        model.training_ = {}

    model._train_net = hash_codes  # type: ignore[method-assign]
    model.fit_stream(dataset, engine=engine)
    digest = int(sum(pd.util.hash_pandas_object(getattr(dataset, s), index=False).sum()
                     for s in ("train_sample", "holdout_sample")) % 2**61)
    return {"engine": engine.name, "workers": engine.workers, "scan_seconds": round(scan, 2),
            "encode_seconds": model.training_["encode_seconds"],
            "units": len(dataset.units), "rows": dataset.n_rows, "rows_train": dataset.n_train,
            "encoded_rows": model.training_["streamed_rows"], "samples_hash": digest,
            "codes_hash": codes_hash.hexdigest()[:16]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--table", default="adult")
    ap.add_argument("--files", type=int, help="the first N files (default: all)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="scale-passes")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    from synthdata.dataset import open_dataset
    from synthdata.execution import get_engine
    from synthdata.schema import load_schema

    started = time.perf_counter()
    schema = load_schema(ROOT / "schemas" / f"{args.table}.yaml")
    with tempfile.TemporaryDirectory(prefix="scale-passes-") as tmp:
        folder = args.dataset
        if args.files:
            folder = Path(tmp) / "dataset"
            folder.mkdir()
            for i, f in enumerate(open_dataset(args.dataset, schema).files[:args.files]):
                (folder / f"{i:05d}-{f.name}").symlink_to(f.resolve())  # the same order
        runs: list[dict[str, Any]] = []
        with get_engine("local") as one, get_engine("local", workers=args.workers) as pool, \
                get_engine("ray", workers=args.workers) as ray:
            engines = {"local, 1 process": one, f"local, {args.workers} processes": pool,
                       f"ray, {args.workers} workers": ray}
            for repeat in range(args.repeats):
                for label, engine in engines.items():
                    runs.append({"label": label, "repeat": repeat,
                                 **one_pass(folder, schema, engine)})
                    print(runs[-1], file=sys.stderr, flush=True)

    labels = list(engines)
    medians = {label: {key: statistics.median(r[key] for r in runs if r["label"] == label)
                       for key in ("scan_seconds", "encode_seconds")} for label in labels}
    base = medians[labels[0]]
    first = runs[0]
    result = {"command": "python -m benchmarks.scale_passes " + " ".join(argv or sys.argv[1:]),
              "commit": commit(), "machine": machine(), "table": args.table,
              "dataset": {"folder": str(args.dataset), "files": args.files or "all",
                          "rows": first["rows"], "rows_train": first["rows_train"],
                          "units": first["units"]},
              "workers": args.workers, "repeats": args.repeats, "runs": runs,
              "medians": medians,
              "speedups": {label: {k: round(base[k] / m[k], 3) for k in m}
                           for label, m in medians.items()},
              "same_split_and_samples": len({r["samples_hash"] for r in runs}) == 1,
              "same_codes": len({(r["encoded_rows"], r["codes_hash"]) for r in runs}) == 1,
              "seconds": round(time.perf_counter() - started)}
    return publish_section(result, args.out, markdown(result), args.out)


def markdown(result: dict[str, Any]) -> str:
    m, d = result["machine"], result["dataset"]
    up = result["speedups"]
    rows = [f"| {label} | {v['scan_seconds']:.1f} | {up[label]['scan_seconds']:.2f}× "
            f"| {v['encode_seconds']:.1f} | {up[label]['encode_seconds']:.2f}× |"
            for label, v in result["medians"].items()]
    return "\n".join([
        f"## Streamed passes as engine tasks (`{result['command'].strip()}`)", "",
        f"Commit `{result['commit']}`, {result['seconds']:,} s in all. Machine: {m.get('cpu')}, "
        f"{m.get('cores')} cores, GPU: {m.get('gpu') or 'none'}. {d['rows']:,} rows "
        f"({d['rows_train']:,} training rows) of {d['folder']} (files: {d['files']}), "
        f"{d['units']} units (tasks) per pass; medians of {result['repeats']} runs each, "
        "interleaved.", "",
        "| engine | scan s | vs 1 process | encoding pass s | vs 1 process |",
        "|---|---|---|---|---|", *rows, "",
        f"Same split and samples on every engine: {result['same_split_and_samples']}; same "
        f"codes, validation rows and code counts from the encoding pass (a hash of them): "
        f"{result['same_codes']}.", ""])


if __name__ == "__main__":
    raise SystemExit(main())
