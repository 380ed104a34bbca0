"""Big inputs: `synthdata run` on a 10M-row Parquet dataset folder, its peak memory and the
rows it read.

    python -m benchmarks.scale_input [--model DIR/model] [--dataset DIR] [--table adult]
        [--rows 10000000] [--epochs N] [--scratch /tmp/...]

1. **The dataset**: without ``--dataset``, ``--rows`` rows sampled in Parquet parts of 1M rows
   (``sample_model`` to a folder, 2 local workers) from ``--model``, or from the default
   synthesizer first fitted on ``<table>.csv`` (``synthdata run``, seed 0).
2. **The baseline**: the peak RSS of a child process that only reads the folder whole into
   pandas (``pd.read_parquet``), the least the in-memory path (a table file) would hold.
3. **The run**: ``synthdata run DIR --schema schemas/<table>.yaml --out OUT [--epochs N]`` as a
   user runs it, in a child process; its wall time and peak RSS (``ru_maxrss`` of the waited-for
   children: the largest process of the run). From its ``report.json``: rows, train / holdout,
   ``rows_seen`` by the synthesizer, the sample sizes, the gate verdict and the headline
   figures; from ``manifest.json``: seconds per step.

Writes benchmarks/results/<out>.{json,md} and the ``<out>`` section of RESULTS.md (default
``scale-input``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.run import ROOT, cell, commit, machine, publish_section

READ_WHOLE = """
import resource, sys, pandas as pd
frame = pd.read_parquet(sys.argv[1])
print(len(frame), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def child_peak(cmd: list[str]) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run ``cmd`` in a fresh Python process that waits for it: (result, seconds, the peak
    RSS in MiB of the largest process it started)."""
    wrapper = ("import resource, subprocess, sys, json\n"
               "done = subprocess.run(sys.argv[1:])\n"
               "print(json.dumps({'rc': done.returncode, 'peak_kib': "
               "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True,
                          text=True)
    seconds = time.perf_counter() - start
    info = json.loads(done.stdout.strip().splitlines()[-1])
    return done, seconds, info["peak_kib"] / 1024


def make_dataset(model: Path, folder: Path, rows: int) -> dict[str, Any]:
    from synthdata.pipeline import sample_model

    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    sample_model(model, n_rows=rows, out=folder, seed=7, engine="local", workers=2,
                 force=True)
    return {"rows": rows, "seconds": round(time.perf_counter() - start, 1),
            "files": len(list(folder.glob("part-*.parquet"))),
            "bytes": sum(f.stat().st_size for f in folder.glob("part-*.parquet"))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="a saved run's model folder to sample the "
                    "dataset from (default: fit the default synthesizer on --table first)")
    ap.add_argument("--dataset", type=Path, help="an existing Parquet dataset folder (default: "
                    "sample one)")
    ap.add_argument("--table", default="adult")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--epochs", type=int, help="--epochs of the run (default: the "
                    "synthesizer's own: early stopping)")
    ap.add_argument("--scratch", type=Path, help="folder for the model, dataset and run "
                    "(default: a temporary folder, removed at the end)")
    ap.add_argument("--out", default="scale-input")
    ap.add_argument("--render", action="store_true", help="only rewrite the RESULTS.md "
                    "section from results/<out>.json")
    args = ap.parse_args(argv)
    if args.render:
        from benchmarks.run import RESULTS

        result = json.loads((RESULTS / f"{args.out}.json").read_text())
        return publish_section(result, args.out, markdown(result), args.out)
    from benchmarks.scale_sample import fit_model

    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="scale-input-"))
    scratch.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        made = None
        folder = args.dataset
        if folder is None:
            model = args.model or fit_model(args.table, scratch)
            folder = scratch / "dataset"
            made = make_dataset(model, folder, args.rows)
            print(f"dataset: {made}", file=sys.stderr, flush=True)
        done, seconds, whole_mib = child_peak([sys.executable, "-c", READ_WHOLE, str(folder)])
        whole_rows = int(done.stdout.split()[0]) if done.returncode == 0 else None
        print(f"read whole: {whole_rows} rows, {whole_mib:.0f} MiB", file=sys.stderr)
        out = scratch / "run"
        shutil.rmtree(out, ignore_errors=True)
        synthdata = str(Path(sys.executable).with_name("synthdata"))
        cmd = [synthdata, "run", str(folder), "--schema",
               str(ROOT / "schemas" / f"{args.table}.yaml"), "--out", str(out), "--quiet"]
        if args.epochs:
            cmd += ["--epochs", str(args.epochs)]
        env_cmd = ["env", f"PATH={Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                   *cmd]
        done, seconds, peak_mib = child_peak(env_cmd)
        print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
        report = json.loads((out / "report.json").read_text())
        manifest = json.loads((out / "manifest.json").read_text())
        history = {}
        if (out / "model" / "model.json").exists():
            training = json.loads((out / "model" / "model.json").read_text())["training"]
            history = {k: training.get(k) for k in ("epochs", "best_epoch", "stopped",
                                                     "seconds", "batch_size", "streamed_rows")}
    finally:
        if args.scratch is None:
            shutil.rmtree(scratch, ignore_errors=True)
    figures = {**report["fidelity"]["figures"], **report["privacy"]["figures"]}
    result = {
        "command": "python -m benchmarks.scale_input " + " ".join(argv or sys.argv[1:]),
        "commit": commit(), "machine": machine(), "table": args.table,
        "dataset": made or {"folder": str(args.dataset)},
        "read_whole": {"rows": whole_rows, "peak_rss_mib": round(whole_mib, 1)},
        "run": {"cmd": " ".join(cmd[1:]), "exit_code": done.returncode,
                "seconds": round(seconds, 1), "peak_rss_mib": round(peak_mib, 1),
                "dataset": report["run"].get("dataset"),
                "n_rows_synthetic": report["run"]["n_rows_synthetic"],
                "gate_passed": report["gate"]["passed"],
                "gate_failures": [f["check"] for f in report["gate"]["failures"]],
                "timings_seconds": manifest.get("timings_seconds"),
                "training": history,
                "figures": {k: figures.get(k) for k in (
                    "column_shapes", "column_pair_trends", "detection_auc", "dcr_share",
                    "mia_auc")}},
        "seconds": round(time.perf_counter() - started)}
    return publish_section(result, args.out, markdown(result), args.out)


def markdown(result: dict[str, Any]) -> str:
    m, run, data = result["machine"], result["run"], result["dataset"]
    info = run["dataset"] or {}
    whole = result["read_whole"]
    made = (f"{data['rows']:,} rows sampled from a model fitted on {result['table']} "
            f"({data['files']} files, {data['bytes'] / 2**30:.2f} GiB, {data['seconds']:,.0f} s)"
            if "rows" in data else f"the folder {data['folder']}")
    fig = run["figures"]
    lines = [
        f"## Big inputs: `run` on a Parquet dataset folder (`{result['command'].strip()}`)", "",
        f"Commit `{result['commit']}`, {result['seconds']:,} s in all. Machine: {m.get('cpu')}, "
        f"{m.get('cores')} cores, GPU: {m.get('gpu') or 'none'}. Dataset: {made}.", "",
        "| what | rows | peak RSS | seconds |", "|---|---|---|---|",
        f"| read the folder whole into pandas (the least a table file would hold) | "
        f"{whole['rows'] or 0:,} | {whole['peak_rss_mib']:,.0f} MiB | |",
        f"| `synthdata {run['cmd']}` | {info.get('rows', 0):,} | "
        f"**{run['peak_rss_mib']:,.0f} MiB** | {run['seconds']:,.0f} |", "",
        f"The run: exit {run['exit_code']}; {info.get('rows_train', 0):,} train / "
        f"{info.get('rows_holdout', 0):,} holdout rows (a hash of the row number); the "
        f"synthesizer read **{info.get('rows_seen', 0):,} rows** "
        f"({'streamed' if info.get('streamed') else 'a uniform sample'}; training: "
        f"{run['training'].get('epochs')} epochs of at most 1,000,000 rows, stopped by "
        f"{run['training'].get('stopped')}, {run['training'].get('seconds') or 0:,.0f} s); "
        f"{run['n_rows_synthetic']:,} synthetic rows written as Parquet parts; scores on "
        f"{(info.get('scored_rows') or {}).get('synthetic', 0):,} synthetic rows against "
        f"uniform samples of {(info.get('scored_rows') or {}).get('train', 0):,} train and "
        f"{(info.get('scored_rows') or {}).get('holdout', 0):,} holdout rows.", "",
        f"Gate: {'passed' if run['gate_passed'] else 'failed ' + ', '.join(run['gate_failures'])}"
        f"; column shapes {cell(fig.get('column_shapes'))}, pair trends "
        f"{cell(fig.get('column_pair_trends'))}, detection AUC {cell(fig.get('detection_auc'))}"
        f", DCR share {cell(fig.get('dcr_share'))}, MIA AUC {cell(fig.get('mia_auc'))}. "
        "Seconds per step: " + ", ".join(f"{k} {v:,.0f}" for k, v in
                                          (run["timings_seconds"] or {}).items()) + ".", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
