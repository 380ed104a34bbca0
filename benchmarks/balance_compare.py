"""Balancing on real tables: does synthetic oversampling beat SMOTE-NC and class weights?

    python benchmarks/balance_compare.py [--epochs 10] [--seeds 3] [--repeats 3]

For ../shared/datasets/bank_full.csv (y: 11.7 % yes) and credit_default.csv (22 % defaults),
with the Gaussian copula and CTGAN: ``synthdata.balance(..., ratio=1.0)`` (80/20 split,
stratified; resampling on train only) and its built-in comparison on the real holdout —
HistGradientBoosting and LogisticRegression trained on real only, real + synthetic,
real + SMOTE-NC, real with class weights; minority recall / precision / F1 at the default
threshold, PR-AUC, ROC-AUC, mean ± std over --seeds seeds.

Speed of minority-class generation with CTGAN on bank_full (class yes, 11.7 %): on one fitted
model, our conditional-vector sampling (``sample_where``) vs SDV's ``sample_from_conditions``
(reject sampling), both asked for the same rows; medians of --repeats runs in this process and
their ratio (rows/s).

Writes benchmarks/results/balance_<table>_<synthesizer>.json, balance_ctgan_speed.json and
balance.md (the tables quoted in the closing note).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results"
TABLES = {"bank_full": "y", "credit_default": "default_payment_next_month"}


def _fmt(cell: dict) -> str:
    return f"{cell['mean']:.3f} ± {cell['std']:.3f}" if cell["std"] is not None else \
        f"{cell['mean']:.3f}"


def compare(table: str, synthesizer: str, epochs: int, seeds: int) -> dict:
    from synthdata.pipeline import balance

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = balance(DATA / f"{table}.csv", ROOT / "schemas" / f"{table}.yaml",
                         out_dir=tmp, ratio=1.0, synthesizer=synthesizer,
                         epochs=epochs if synthesizer != "gaussian_copula" else None,
                         seed=0, force=True, n_seeds=seeds)
    info = result.report["balance"]
    out = {"table": table, "synthesizer": synthesizer, "epochs": epochs, "seeds": seeds,
           "seconds": round(time.perf_counter() - start, 1), "gate": result.report["gate"],
           **{k: info[k] for k in ("plan", "class_counts_before", "ratio_after", "generation",
                                   "comparison", "verdict")}}
    (RESULTS / f"balance_{table}_{synthesizer}.json").write_text(json.dumps(out, indent=2))
    return out


def ctgan_speed(epochs: int, repeats: int) -> dict:
    from sdv.sampling import Condition

    from synthdata.io import read_table
    from synthdata.schema import load_schema
    from synthdata.split import split
    from synthdata.synthesizers import get_synthesizer

    schema = load_schema(ROOT / "schemas" / "bank_full.yaml")
    df = read_table(DATA / "bank_full.csv", schema)
    train, _ = split(df, schema, seed=0)
    model = get_synthesizer("ctgan", schema, epochs=epochs, seed=0).fit(train)
    n = 2000
    ours, theirs = [], []
    for r in range(repeats):
        t = time.perf_counter()
        rows = model.sample_where(n, {"y": True}, seed=r)
        ours.append(n / (time.perf_counter() - t))
        assert len(rows) == n and rows["y"].all()
        model.model_.reset_sampling()
        model.model_._set_random_state(r)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = model.model_.sample_from_conditions(
                [Condition(num_rows=n, column_values={"y": True})])
        theirs.append(n / (time.perf_counter() - t))
        got = next(iter(got.values())) if isinstance(got, dict) else got
        assert len(got) == n
    share = float(train["y"].mean())
    out = {"table": "bank_full", "class": "y = True", "class_share_in_train": share,
           "epochs": epochs, "rows_per_call": n, "repeats": repeats,
           "ours_rows_per_second": [round(v, 1) for v in ours],
           "sdv_rows_per_second": [round(v, 1) for v in theirs],
           "ours_median": round(statistics.median(ours), 1),
           "sdv_median": round(statistics.median(theirs), 1),
           "ratio_median": round(statistics.median(ours) / statistics.median(theirs), 2),
           "ours_drawn_last": model.last_conditional_draws_}
    (RESULTS / "balance_ctgan_speed.json").write_text(json.dumps(out, indent=2))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10, help="CTGAN epochs (300 = paper)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--speed-only", action="store_true", help="only the CTGAN speed part")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    lines = [f"# Balancing benchmark\n\n`python benchmarks/balance_compare.py --epochs "
             f"{args.epochs} --seeds {args.seeds} --repeats {args.repeats}`\n"]
    speed = ctgan_speed(args.epochs, args.repeats)
    print(json.dumps(speed, indent=1), flush=True)
    section = (
        f"## CTGAN minority generation on bank_full (y = True, "
        f"{100 * speed['class_share_in_train']:.1f} % of train), {args.epochs} epochs\n\n"
        f"`python benchmarks/balance_compare.py --epochs {args.epochs} --speed-only`: "
        f"conditional vector (`sample_where`) {speed['ours_median']} rows/s vs SDV "
        f"`sample_from_conditions` {speed['sdv_median']} rows/s: **{speed['ratio_median']}×** "
        f"(medians of {args.repeats}; runs {speed['ours_rows_per_second']} vs "
        f"{speed['sdv_rows_per_second']}; {speed['ours_drawn_last']} rows drawn for "
        f"{speed['rows_per_call']} kept)\n")
    if args.speed_only:  # replace this section of balance.md, keep the rest
        md = RESULTS / "balance.md"
        text = md.read_text() if md.exists() else lines[0]
        marker = "## CTGAN minority generation on bank_full"
        head, _, rest = text.partition(marker)
        tail = rest[rest.index("\n## ") + 1:] if "\n## " in rest else ""
        kept = [s for s in (head.rstrip() + "\n", section) if s]
        md.write_text("\n".join(kept) + ("\n" + tail if tail else ""))
        return 0
    lines.append(section)
    for table in TABLES:
        for synthesizer in ("gaussian_copula", "ctgan"):
            res = compare(table, synthesizer, args.epochs, args.seeds)
            print(f"{table} {synthesizer}: {res['verdict']} ({res['seconds']} s)", flush=True)
            gen = next(iter(res["generation"].values()))
            lines.append(f"## {table}, {synthesizer}\n\nplan {res['plan']}, ratio after "
                         f"{res['ratio_after']:.3f}; generation {gen['rows_per_second']} rows/s "
                         f"({gen['method']}); gate passed: {res['gate']['passed']}; "
                         f"{res['seconds']} s\n")
            lines.append("| option | model | recall | precision | F1 | PR-AUC | ROC-AUC |")
            lines.append("|---|---|---|---|---|---|---|")
            for row in res["comparison"]:
                for model in ("hgb", "logreg"):
                    m = row[model]
                    lines.append(f"| {row['option']} | {model} | " + " | ".join(
                        _fmt(m[k]) for k in ("recall", "precision", "f1", "pr_auc",
                                             "roc_auc")) + " |")
            lines.append(f"\n{res['verdict']}\n")
    (RESULTS / "balance.md").write_text("\n".join(lines) + "\n")
    print((RESULTS / "balance.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
