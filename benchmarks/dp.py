"""Differentially private synthesizers on adult: ours against smartnoise-synth's MST, same
machine, same run, same scorer, at several privacy budgets.

    python -m benchmarks.dp                                   # eps 0.5, 1, 4, 10; 3 seeds
    python -m benchmarks.dp --epsilons 1 --seeds 0 --generators bayesian_network,mst

Generators: ``bayesian_network`` (ours, PrivBayes-style) and ``autoregressive`` (ours, DP-SGD),
defaults plus ``epsilon``, each also run once per seed without epsilon as the non-private
reference; ``mst`` (McKenna et al.'s MST from smartnoise-synth, run in its own venv:
``--mst-python`` points at that venv's python; never a dependency of synthdata), ``mst_log``
(the same with wide numbers binned on the log1p scale, the public rule our tokenizer uses) and
``tabularargn`` (MOSTLY AI's engine with its own differential privacy: Opacus DP-SGD, a tenth
of epsilon for its value ranges; ``--argn-python``, the venv of benchmarks/peers.py; not in
the default list, it is slow on a CPU). All get the schema's declared bounds and categories for
free (public facts); MST bins each number into ``--mst-bins`` equal-width bins between the
declared bounds, as smartnoise's BinTransformer does. For every epsilon and seed: the
pipeline's split of adult.csv (train / holdout, seeded), each generator fits on train and
samples as many rows; the rows are scored against ``adult_test.csv``: sdmetrics quality
(``quality_vs_test``, the figure issue 17 names) and, by :func:`benchmarks.independent.score`,
quality vs train, detection AUC, TSTR / TRTR, DCR share. Medians over the seeds go to
benchmarks/results/dp-<date>.{json,md} and between the ``dp`` markers of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.independent import score
from benchmarks.run import DATA, ROOT, cell, commit, errors, machine, medians, publish_section

GENERATORS = ("bayesian_network", "autoregressive", "mst", "mst_log", "tabularargn")
OURS = ("bayesian_network", "autoregressive")
FIGURES = ("fit_s", "sample_s", "epsilon_spent", "quality_vs_test", "quality",
           "column_shapes", "column_pair_trends", "detection_auc", "tstr", "trtr", "dcr_share")
MST_WORKER = Path(__file__).with_name("_mst_worker.py")
TABLE = "adult"


def quality_vs(real: pd.DataFrame, synth: pd.DataFrame, schema: Any) -> float:
    from sdmetrics.reports.single_table import QualityReport

    from synthdata.metrics._encoding import for_sdmetrics, sdmetrics_metadata

    report = QualityReport()
    report.generate(for_sdmetrics(real, schema), for_sdmetrics(synth, schema),
                    sdmetrics_metadata(schema), verbose=False)
    return round(float(report.get_score()), 4)


def run_ours(name: str, schema: Any, train: pd.DataFrame, seed: int, epsilon: float | None
             ) -> tuple[pd.DataFrame, dict[str, Any]]:
    from synthdata.synthesizers import get_synthesizer

    params = {"epsilon": epsilon} if epsilon is not None else {}
    start = time.perf_counter()
    model = get_synthesizer(name, schema, seed=seed, **params).fit(train)
    fit = time.perf_counter() - start
    start = time.perf_counter()
    synth = model.sample(len(train), seed=seed)
    dp = model.privacy_guarantee()
    return synth, {"fit_s": round(fit, 2), "sample_s": round(time.perf_counter() - start, 3),
                   "epsilon_spent": dp["epsilon"] if dp else None}


def run_mst(python: str, schema: Any, train: pd.DataFrame, seed: int, epsilon: float,
            bins: int, log: bool = False) -> tuple[pd.DataFrame, dict[str, Any]]:
    """MST in its own venv: the worker fits and samples, we read its rows back. ``log``:
    numbers with a declared range wider than our LOG_SPAN are binned on the log1p scale."""
    from synthdata.io import read_table
    from synthdata.synthesizers._private import LOG_SPAN

    columns = schema.modelled_columns
    spec = {"epsilon": epsilon, "delta": min(1e-5, 0.1 / len(train)), "seed": seed,
            "bins": bins, "log_span": LOG_SPAN if log else None, "columns": {
                c: {"kind": schema.columns[c].kind.value, "min": schema.columns[c].min,
                    "max": schema.columns[c].max, "categories": schema.columns[c].categories,
                    "nullable": schema.columns[c].nullable} for c in columns}}
    with tempfile.TemporaryDirectory(prefix="mst-") as tmp:
        src, out = Path(tmp) / "train.parquet", Path(tmp) / "synth.parquet"
        train[columns].to_parquet(src, index=False)
        (Path(tmp) / "spec.json").write_text(json.dumps(spec))
        done = subprocess.run([python, str(MST_WORKER), str(src), str(out),
                               str(Path(tmp) / "spec.json")], capture_output=True, text=True,
                              check=False, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        if done.returncode != 0:
            raise RuntimeError(f"MST worker failed:\n{done.stderr[-3000:]}")
        info = json.loads(done.stdout.strip().splitlines()[-1])
        synth = pd.read_parquet(out)
    return read_table(synth[columns], schema, role="synthetic"), info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epsilons", default="0.5,1,4,10")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--generators", default=",".join(GENERATORS[:4]))
    ap.add_argument("--mst-python", default=str(ROOT.parent / "peers" / "smartnoise" / "bin" /
                                                "python"))
    ap.add_argument("--mst-bins", type=int, default=32)
    ap.add_argument("--argn-python", default=str(ROOT.parent / "peers" / "argn" / "bin" /
                                                 "python"))
    ap.add_argument("--out", default=None, help="results name (default dp-<date>)")
    ap.add_argument("--section", default="dp", help="the RESULTS.md markers it replaces")
    args = ap.parse_args(argv)
    name = args.out or f"dp-{dt.date.today().isoformat()}"
    generators = args.generators.split(",")
    unknown = sorted(set(generators) - set(GENERATORS))
    if unknown:
        raise SystemExit(f"--generators: unknown {unknown}; expected some of {GENERATORS}")
    if {"mst", "mst_log"} & set(generators) and not Path(args.mst_python).is_file():
        raise SystemExit(f"--mst-python: {args.mst_python} not found; make the venv: "
                         "python3 -m venv ../peers/smartnoise && ../peers/smartnoise/bin/pip "
                         "install torch==2.13.0 smartnoise-synth pyarrow")
    if "tabularargn" in generators and not Path(args.argn_python).is_file():
        raise SystemExit(f"--argn-python: {args.argn_python} not found; make the venv as "
                         "benchmarks/peers.py says")
    epsilons = [float(e) for e in args.epsilons.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    from synthdata import load_schema
    from synthdata.io import read_table
    from synthdata.split import split

    warnings.simplefilter("ignore")
    started = time.perf_counter()
    schema = load_schema(ROOT / "schemas" / f"{TABLE}.yaml")
    full = read_table(DATA / f"{TABLE}.csv", schema)
    test = read_table(DATA / f"{TABLE}_test.csv", schema)
    runs: list[dict[str, Any]] = []
    for seed in seeds:
        train, _ = split(full, schema, seed=seed)
        plan = [(g, e) for e in epsilons for g in generators]
        plan += [(g, None) for g in OURS if g in generators]  # the non-private references
        for gen, epsilon in plan:
            print(f"seed {seed} {gen} epsilon {epsilon} ...", file=sys.stderr, flush=True)
            if gen == "tabularargn":
                from benchmarks.peers import run_argn

                synth, info = run_argn(args.argn_python, schema, train, seed, epsilon)
                info = {k: info.get(k) for k in ("fit_s", "sample_s", "epsilon_spent")}
            elif gen in ("mst", "mst_log"):
                assert epsilon is not None
                synth, info = run_mst(args.mst_python, schema, train, seed, epsilon,
                                      args.mst_bins, log=gen == "mst_log")
            else:
                synth, info = run_ours(gen, schema, train, seed, epsilon)
            figures = score(train, synth, test, schema, seed=seed)
            runs.append({"seed": seed, "generator": gen, "epsilon": epsilon, **info,
                         "quality_vs_test": quality_vs(test, synth, schema),
                         **{k: v for k, v in figures.items() if k != "shape_by_column"}})
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    result = {"command": "python -m benchmarks.dp " + " ".join(argv or sys.argv[1:]),
              "commit": commit(), "machine": machine(),
              "seconds": round(time.perf_counter() - started), "runs": runs,
              "medians": summarise(runs)}
    return publish(result, name, args.section)


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return medians(runs, ("generator", "epsilon"), FIGURES, lambda k: (
        float("inf") if k[1] is None else k[1], GENERATORS.index(k[0])))


def publish(result: dict[str, Any], name: str, section: str = "dp") -> int:
    """Write results/<name>.{json,md} and the table between the markers of RESULTS.md."""
    return publish_section(result, name, markdown(result), section)


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        f"## Differential privacy on adult (`{result['command'].strip()}`)", "",
        f"Commit `{result['commit']}`, {result['seconds']} s in all. Machine: {m.get('cpu')}, "
        f"{m.get('cores')} cores. Medians over the seeds shown; each generator fits on the "
        "pipeline's train split of adult.csv (schema bounds and categories public) and samples "
        "as many rows; quality vs test is sdmetrics' QualityReport against adult_test.csv; "
        "the other figures by benchmarks/independent.py (detection, TSTR and DCR share vs "
        "adult_test.csv). `–` under epsilon: not private.", "",
        "| generator | epsilon | seeds | epsilon spent | fit s | quality vs test "
        "| quality vs train | shape / trend error % | detection AUC | TSTR / TRTR | DCR share |",
        "|---|---|---|---|---|---|---|---|---|---|---|"]
    f = cell
    for r in result["medians"]:
        shape, trend = errors(r)
        lines.append(
            f"| {r['generator']} | {f(r['epsilon'], 1)} | {r['seeds']} "
            f"| {f(r['epsilon_spent'])} | {f(r['fit_s'], 1)} | {f(r['quality_vs_test'])} "
            f"| {f(r['quality'])} | {f(shape, 1)} / {f(trend, 1)} | {f(r['detection_auc'])} "
            f"| {f(r['tstr'])} / {f(r['trtr'])} | {f(r['dcr_share'])} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
