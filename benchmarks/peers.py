"""Our synthesizers against their anchors, same machine, same run, same scorer.

    python -m benchmarks.peers                                  # 5 tables x 3 seeds, all peers
    python -m benchmarks.peers --tables adult --seeds 0 --generators autoregressive,tvae

Generators: ``autoregressive`` and ``diffusion`` (ours, defaults), ``tabularargn`` (MOSTLY AI's
engine, run in its own venv: ``--argn-python`` points at that venv's python; it is never a
dependency of synthdata), ``tvae`` and ``ctgan`` (SDV through our backends; ``--sdv-epochs``,
default 300, SDV's default). For every table of ../shared/datasets/ with a schema under
schemas/ and every seed: the pipeline's split of ``<table>.csv`` (train / holdout, seeded),
each generator fits on train (full rows) and samples as many rows; the rows are scored by
:func:`benchmarks.independent.score` against train and the test table (``<table>_test.csv``
when it exists, else the holdout). Recorded per run: fit and sample seconds, peak memory (this
process's peak RSS per stage; the engine's own process for TabularARGN), quality, shape / trend
error, detection AUC, TSTR / TRTR, DCR share, exact copies vs the holdout's own rate. Medians
over the seeds go to benchmarks/results/peers-<date>.{json,md}; the table is also written
between the ``peers`` markers of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.independent import score
from benchmarks.run import (
    DATA,
    RESULTS,
    ROOT,
    Stage,
    cell,
    commit,
    errors,
    machine,
    medians,
    publish_section,
    tables,
)

GENERATORS = ("autoregressive", "diffusion", "tabularargn", "tvae", "ctgan")
FIGURES = ("fit_s", "fit_s_per_1k_rows", "sample_s", "fit_peak_mib", "quality", "column_shapes",
           "column_pair_trends", "detection_auc", "tstr", "trtr", "dcr_share", "exact_copies",
           "holdout_copies", "sample_rows_per_s")
THROUGHPUT_ROWS = 100_000
NATIVE = ("autoregressive", "diffusion")  # ours: training details and sampling throughput
ARGN_WORKER = Path(__file__).with_name("_argn_worker.py")


def run_ours(name: str, schema: Any, train: pd.DataFrame, seed: int, sdv_epochs: int
             ) -> tuple[pd.DataFrame, dict[str, Any]]:
    from synthdata.synthesizers import get_synthesizer

    params = {"epochs": sdv_epochs} if name in ("tvae", "ctgan") else {}
    model = get_synthesizer(name, schema, seed=seed, device="auto", **params)
    fit, sample = Stage(), Stage()
    with fit.measure():
        model.fit(train)
    with sample.measure():
        synth = model.sample(len(train), seed=seed)
    info = {"fit_s": round(fit.wall, 2), "sample_s": round(sample.wall, 3),
            "fit_peak_mib": fit.peak_mib}
    if name in NATIVE:
        info["training"] = {k: v for k, v in model.training_.items()
                            if k in ("epochs", "best_epoch", "stopped", "batch_size", "hidden",
                                     "sampler")}
        # throughput: median of 3 samples of THROUGHPUT_ROWS rows (decoding and typing included)
        seconds = []
        for repeat in range(3):
            start = time.perf_counter()
            model.sample(THROUGHPUT_ROWS, seed=seed + repeat)
            seconds.append(time.perf_counter() - start)
        info["sample_rows_per_s"] = round(THROUGHPUT_ROWS / statistics.median(seconds))
    return synth, info


def run_argn(python: str, schema: Any, train: pd.DataFrame, seed: int,
             epsilon: float | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """TabularARGN in its own venv: the worker fits and samples, we read its rows back
    (with ``epsilon``: the engine's differential privacy, see _argn_worker.py)."""
    from synthdata.io import read_table

    columns = schema.modelled_columns
    with tempfile.TemporaryDirectory(prefix="argn-") as tmp:
        src, out = Path(tmp) / "train.parquet", Path(tmp) / "synth.parquet"
        train[columns].to_parquet(src, index=False)
        extra = [str(epsilon)] if epsilon is not None else []
        done = subprocess.run([python, str(ARGN_WORKER), str(src), str(out), str(seed), *extra],
                              capture_output=True, text=True, check=False,
                              env={**os.environ, "PYTHONWARNINGS": "ignore"})
        if done.returncode != 0:
            raise RuntimeError(f"TabularARGN worker failed:\n{done.stderr[-3000:]}")
        info = json.loads(done.stdout.strip().splitlines()[-1])
        synth = pd.read_parquet(out)
    return read_table(synth[columns], schema, role="synthetic"), info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tables", help="comma-separated (default: every table with a schema)")
    ap.add_argument("--generators", default=",".join(GENERATORS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--sdv-epochs", type=int, default=300)
    ap.add_argument("--argn-python", default=str(ROOT.parent / "peers" / "argn" / "bin" /
                                                 "python"))
    ap.add_argument("--out", default=None, help="results name (default peers-<date>)")
    ap.add_argument("--combine", help="comma-separated names of earlier results (e.g. "
                    "peers-adult-seed0,peers-magic-online-seed0): fit nothing, pool their runs "
                    "into one table (a full run takes hours, so results accumulate)")
    args = ap.parse_args(argv)
    name = args.out or f"peers-{dt.date.today().isoformat()}"
    if args.combine:
        return publish(combine(args.combine.split(",")), name)
    generators = args.generators.split(",")
    unknown = sorted(set(generators) - set(GENERATORS))
    if unknown:
        raise SystemExit(f"--generators: unknown {unknown}; expected some of {GENERATORS}")
    if "tabularargn" in generators and not Path(args.argn_python).is_file():
        raise SystemExit(f"--argn-python: {args.argn_python} not found; make the venv: "
                         "python3 -m venv ../peers/argn && ../peers/argn/bin/pip install "
                         "torch==2.13.0 mostlyai-engine && ../peers/argn/bin/pip uninstall -y "
                         "torchvision torchaudio")
    seeds = [int(s) for s in args.seeds.split(",")]
    from synthdata import load_schema
    from synthdata.io import read_table
    from synthdata.split import split

    warnings.simplefilter("ignore")
    started = time.perf_counter()
    runs: list[dict[str, Any]] = []
    for table in tables(args.tables.split(",") if args.tables else None):
        schema = load_schema(ROOT / "schemas" / f"{table}.yaml")
        full = read_table(DATA / f"{table}.csv", schema)
        test_path = DATA / f"{table}_test.csv"
        for seed in seeds:
            train, holdout = split(full, schema, seed=seed)
            test = read_table(test_path, schema) if test_path.is_file() else holdout
            for gen in generators:
                print(f"{table} seed {seed} {gen} ...", file=sys.stderr, flush=True)
                if gen == "tabularargn":
                    synth, info = run_argn(args.argn_python, schema, train, seed)
                else:
                    synth, info = run_ours(gen, schema, train, seed, args.sdv_epochs)
                figures = score(train, synth, test, schema, seed=seed)
                runs.append({"table": table, "seed": seed, "generator": gen, **info,
                             **{k: v for k, v in figures.items() if k != "shape_by_column"}})
                print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    summary = summarise(runs)
    result = {"command": "python -m benchmarks.peers " + " ".join(argv or sys.argv[1:]),
              "commit": commit(), "machine": machine(), "seconds": round(
                  time.perf_counter() - started), "runs": runs, "medians": summary}
    return publish(result, name)


def combine(names: list[str]) -> dict[str, Any]:
    """One result from the runs of earlier ones (a later run of the same table, generator and
    seed replaces an earlier one)."""
    runs: dict[tuple[str, str, int], dict[str, Any]] = {}
    sources: list[dict[str, Any]] = []
    machine_seen: dict[str, Any] = {}
    for name in names:
        path = RESULTS / f"{name}.json"
        if not path.is_file():
            raise SystemExit(f"--combine: {path} not found; expected results written by an "
                             "earlier `python -m benchmarks.peers --out NAME` run")
        earlier = json.loads(path.read_text())
        machine_seen = machine_seen or earlier["machine"]
        sources.append({"name": name, "commit": earlier["commit"],
                        "command": earlier["command"], "seconds": earlier["seconds"]})
        for run in earlier["runs"]:
            runs[(run["table"], run["generator"], run["seed"])] = {**run, "source": name}
    pooled = list(runs.values())
    return {"command": "python -m benchmarks.peers --combine " + ",".join(names),
            "commit": ", ".join(sorted({s["commit"] for s in sources})),
            "machine": machine_seen,
            "seconds": sum(s["seconds"] for s in sources), "sources": sources,
            "runs": pooled, "medians": summarise(pooled)}


def publish(result: dict[str, Any], name: str) -> int:
    """Write results/<name>.{json,md} and the table between the markers of RESULTS.md."""
    return publish_section(result, name, markdown(result), "peers")


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    runs = [{**r, "fit_s_per_1k_rows": per_1k(r)} for r in runs]
    return medians(runs, ("table", "generator"), FIGURES,
                   lambda k: (k[0], GENERATORS.index(k[1])))


def per_1k(run: dict[str, Any]) -> float | None:
    """Fit seconds per 1,000 training rows of one run."""
    train = (run.get("rows") or {}).get("train")
    return round(1000 * run["fit_s"] / train, 3) if train and run.get("fit_s") else None


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        f"## Ours vs the anchors (`{result['command'].strip()}`)", "",
        f"Commit `{result['commit']}`, {result['seconds']} s in all. Machine: {m.get('cpu')}, "
        f"{m.get('cores')} cores, GPU: {m.get('gpu') or 'none'}. Medians over the seeds "
        "shown; full training rows; every generator's rows scored by benchmarks/independent.py "
        "(quality vs train; detection, TSTR and DCR share vs the test table).", ""]
    if result.get("sources"):
        lines += ["Pooled from: " + "; ".join(
            f"`{s['name']}` (commit `{s['commit']}`, `{s['command'].strip()}`)"
            for s in result["sources"]) + ".", ""]
    lines += [
        "| table | generator | seeds | fit s | fit s / 1k rows | sample s | fit peak MiB | quality "
        "| shape / trend error % | detection AUC | TSTR / TRTR | DCR share "
        "| exact copies (holdout's rate) | sampling rows/s (100k rows) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    f = cell
    for r in result["medians"]:
        shape, trend = errors(r)
        lines.append(
            f"| {r['table']} | {r['generator']} | {r['seeds']} | {f(r['fit_s'], 1)} "
            f"| {f(r['fit_s_per_1k_rows'], 2)} "
            f"| {f(r['sample_s'], 2)} | "
            f"{f(r['fit_peak_mib'], 0)} | {f(r['quality'])} | {f(shape, 1)} / {f(trend, 1)} | "
            f"{f(r['detection_auc'])} | {f(r['tstr'])} / {f(r['trtr'])} | {f(r['dcr_share'])} "
            f"| {f(r['exact_copies'], 4)} ({f(r['holdout_copies'], 4)}) "
            f"| {f(r['sample_rows_per_s'], 0)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
