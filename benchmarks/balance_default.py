"""Balancing and minority generation with the default synthesizer (autoregressive) on bank_full.

    python -m benchmarks.balance_default [--fit-seeds 3] [--sdv-epochs 50] [--repeats 3]

Two questions, same run, this machine:

1. ``synthdata.balance(bank_full, ratio=1.0)`` with the default synthesizer, once per fit seed
   (0, 1, ...): are the class counts exact, and is the PR-AUC of a model trained on real +
   synthetic rows within one standard deviation of real only, or better? (Each balance run
   already scores ``n_seeds`` = 3 synthetic draws x model seeds; the figures per fit seed and
   their median are kept.)
2. Speed of ``sample_where`` (what ``synthdata sample --where`` and ``balance`` call) for
   ``poutcome = success`` (3.3 % of rows) and ``y = True`` (11.7 %), against SDV's own
   ``sample_from_conditions`` on SDV models of the same training rows: CTGAN (reject sampling:
   draw, keep the matching rows, repeat) and the Gaussian copula (conditions on the
   transformed value, then rejects); rows/s medians of ``--repeats`` runs in one process, their
   ratio, and how closely each method's rows match the real rows of the class (mean sdmetrics
   KSComplement/TVComplement, 1 = identical).

Writes benchmarks/results/balance_default.json and balance_default.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import time
import warnings

from benchmarks.balance_compare import (
    DATA,
    RESULTS,
    ROOT,
    SPEED_CONDITIONS,
    _fmt,
    _shape_similarity,
)

TABLE = "bank_full"


def balance_runs(fit_seeds: int) -> list[dict]:
    from synthdata.pipeline import balance

    runs = []
    for seed in range(fit_seeds):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            result = balance(DATA / f"{TABLE}.csv", ROOT / "schemas" / f"{TABLE}.yaml",
                             out_dir=tmp, ratio=1.0, seed=seed, n_seeds=3)
        info = result.report["balance"]
        runs.append({"seed": seed, "seconds": round(time.perf_counter() - start, 1),
                     "synthesizer": result.report["run"]["synthesizer"],
                     "gate_passed": result.report["gate"]["passed"],
                     **{k: info[k] for k in ("plan", "class_counts_before",
                                             "class_counts_after", "ratio_after",
                                             "generation", "comparison", "verdict")}})
        print(f"balance seed {seed}: {runs[-1]['seconds']} s, gate "
              f"{runs[-1]['gate_passed']}", flush=True)
    return runs


def speed(sdv_epochs: int, repeats: int) -> dict:
    from sdv.sampling import Condition

    from synthdata.io import read_table
    from synthdata.schema import load_schema
    from synthdata.split import split
    from synthdata.synthesizers import get_synthesizer
    from synthdata.synthesizers.registry import DEFAULT

    schema = load_schema(ROOT / "schemas" / f"{TABLE}.yaml")
    train, _ = split(read_table(DATA / f"{TABLE}.csv", schema), schema, seed=0)
    train = train[schema.modelled_columns]
    fit_seconds = {}
    t = time.perf_counter()
    ours = get_synthesizer(DEFAULT, schema, seed=0).fit(train)
    fit_seconds[DEFAULT] = round(time.perf_counter() - t, 1)
    sdv = {}
    for name, params in (("ctgan", {"epochs": sdv_epochs}), ("gaussian_copula", {})):
        t = time.perf_counter()
        sdv[name] = get_synthesizer(name, schema, seed=0, **params).fit(train)
        fit_seconds[name] = round(time.perf_counter() - t, 1)
    counts = train["y"].value_counts()
    sizes = (int(counts.max() - counts.min()), 2000)  # what balance --ratio 1.0 asks; a few
    ours.sample_where(200, {"y": True}, seed=99)  # warm-up, not timed
    conditions = []
    for (column, value), n in itertools.product(SPEED_CONDITIONS, sizes):
        times: dict[str, list[float]] = {DEFAULT: [], **{name: [] for name in sdv}}
        rows = {}
        for r in range(repeats):
            t = time.perf_counter()
            rows[DEFAULT] = ours.sample_where(n, {column: value}, seed=r)
            times[DEFAULT].append(n / (time.perf_counter() - t))
            assert len(rows[DEFAULT]) == n and (rows[DEFAULT][column] == value).all()
            for name, model in sdv.items():
                model.model_.reset_sampling()
                model.model_._set_random_state(r)
                t = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    got = model.model_.sample_from_conditions(
                        [Condition(num_rows=n, column_values={column: value})])
                times[name].append(n / (time.perf_counter() - t))
                rows[name] = next(iter(got.values())) if isinstance(got, dict) else got
                assert len(rows[name]) == n
        real_class = train[train[column] == value]
        median = {name: statistics.median(v) for name, v in times.items()}
        conditions.append({
            "class": f"{column} = {value}",
            "class_share_in_train": round(float((train[column] == value).mean()), 4),
            "rows_per_call": n, "repeats": repeats,
            "rows_per_second": {name: [round(x, 1) for x in v] for name, v in times.items()},
            "median_rows_per_second": {name: round(v, 1) for name, v in median.items()},
            "ratio_vs_sdv": {name: round(median[DEFAULT] / median[name], 2) for name in sdv},
            "shape_similarity_to_real_class": {
                name: _shape_similarity(real_class, frame[real_class.columns], schema)
                for name, frame in rows.items()},
        })
        print(json.dumps(conditions[-1]), flush=True)
    return {"table": TABLE, "ours": DEFAULT, "sdv_epochs": sdv_epochs,
            "fit_seconds": fit_seconds, "conditions": conditions}


def markdown(runs: list[dict], spd: dict, args: argparse.Namespace) -> str:
    ours = spd["ours"]
    lines = [f"# Balancing with the default synthesizer ({ours}) on {TABLE}\n",
             f"`python -m benchmarks.balance_default --fit-seeds {args.fit_seeds} "
             f"--sdv-epochs {args.sdv_epochs} --repeats {args.repeats}`\n",
             "## balance --ratio 1.0, one run per fit seed\n",
             "PR-AUC on the real holdout (mean ± std over the run's 3 synthetic draws / model "
             "seeds); exact = class counts after equal the plan.\n",
             "| fit seed | exact counts | gate | model | real only | real + synthetic | "
             "real + SMOTE-NC | class weights | within 1 std of real or better |",
             "|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        after = run["class_counts_after"]
        exact = len(set(after.values())) == 1
        by_option = {row["option"]: row for row in run["comparison"]}
        for model in ("hgb", "logreg"):
            cell = {o: by_option[o][model]["pr_auc"] for o in by_option}
            real, syn = cell["real"], cell["real+synthetic"]
            ok = syn["mean"] >= real["mean"] - max(real["std"] or 0.0, syn["std"] or 0.0)
            lines.append(f"| {run['seed']} | {exact} | {run['gate_passed']} | {model} | "
                         f"{_fmt(real)} | {_fmt(syn)} | "
                         f"{_fmt(cell['real+smote']) if 'real+smote' in cell else '-'} | "
                         f"{_fmt(cell['class_weights'])} | {'yes' if ok else 'no'} |")
    lines += ["", f"## Minority generation speed: {ours} `sample_where` vs SDV "
                  "`sample_from_conditions`\n",
              f"Fit seconds: {spd['fit_seconds']} (CTGAN {spd['sdv_epochs']} epochs). Medians "
              f"of {args.repeats} runs in the same process.\n",
              "| class | share of train | rows asked | ours rows/s | SDV CTGAN rows/s | ratio | "
              "SDV copula rows/s | ratio | shape similarity ours / CTGAN / copula |",
              "|---|---|---|---|---|---|---|---|---|"]
    for c in spd["conditions"]:
        med, ratio = c["median_rows_per_second"], c["ratio_vs_sdv"]
        sim = c["shape_similarity_to_real_class"]
        lines.append(f"| {c['class']} | {100 * c['class_share_in_train']:.1f} % | "
                     f"{c['rows_per_call']} | {med[ours]:.0f} | {med['ctgan']:.0f} | "
                     f"**{ratio['ctgan']}×** | {med['gaussian_copula']:.0f} | "
                     f"**{ratio['gaussian_copula']}×** | {sim[ours]:.3f} / {sim['ctgan']:.3f} / "
                     f"{sim['gaussian_copula']:.3f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fit-seeds", type=int, default=3)
    parser.add_argument("--sdv-epochs", type=int, default=50, help="SDV CTGAN epochs")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    spd = speed(args.sdv_epochs, args.repeats)
    runs = balance_runs(args.fit_seeds)
    (RESULTS / "balance_default.json").write_text(json.dumps(
        {"balance": runs, "speed": spd}, indent=2))
    text = markdown(runs, spd, args)
    (RESULTS / "balance_default.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
