"""Conditional rows of the diffusion synthesizer: inpainting against reject sampling.

    python -m benchmarks.inpainting [--table adult] [--seeds 0,1,2] [--rows 3000]
        [--where occupation=Sales,income=>50K] [--repeats 3] [--epochs N]

For every fit seed: the pipeline's split of ``<table>.csv``, the synthesizer fitted with its
defaults on train, then the same rows asked for a class fixed on two columns (3.0 % of adult's
rows by default) two ways, in this one process:

- **inpainting**, ``sample_where`` as the library runs it (the condition columns fixed at every
  step of the sampler, one pass);
- **reject sampling** by the library's own loop (the same model with conditional generation
  switched off: unconditional rows drawn in batches sized by the match rate so far, the
  matching ones kept), which is what a synthesizer without conditional generation does.

Recorded per seed: rows/s of each (median of ``--repeats`` calls, seeds 0.. of sampling), their
ratio, the rows drawn, and how closely each method's rows match the real training rows of the
class (mean sdmetrics KSComplement / TVComplement over the other columns, 1 = identical); also
the unconditional rows' similarity to the class (what no conditioning would give). The table
reports medians over the fit seeds. Writes benchmarks/results/<name>.{json,md} and the section
between the ``inpainting`` markers of RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from typing import Any

from benchmarks.balance_compare import _shape_similarity
from benchmarks.run import DATA, ROOT, cell, commit, machine, publish_section

NAME = "diffusion"


def parse_where(text: str) -> dict[str, str]:
    out = {}
    for item in text.split(","):
        column, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--where: expected column=value[,column=value], got {item!r}")
        out[column] = value
    return out


def timed_rows(model: Any, rows: int, where: dict[str, str], repeats: int
               ) -> tuple[float, list[Any], list[int]]:
    """Median rows/s of ``repeats`` sample_where calls, the frames, the rows drawn."""
    seconds, frames, drawn = [], [], []
    for repeat in range(repeats):
        start = time.perf_counter()
        frames.append(model.sample_where(rows, where, seed=repeat))
        seconds.append(time.perf_counter() - start)
        drawn.append(int(model.last_conditional_draws_))
    return rows / statistics.median(seconds), frames, drawn


def one_seed(table: str, seed: int, rows: int, where: dict[str, str], repeats: int,
             epochs: int | None = None) -> dict[str, Any]:
    from synthdata import load_schema
    from synthdata.io import read_table
    from synthdata.split import split
    from synthdata.synthesizers import get_synthesizer

    schema = load_schema(ROOT / "schemas" / f"{table}.yaml")
    train, _ = split(read_table(DATA / f"{table}.csv", schema), schema, seed=seed)
    match = train[list(where)].astype(str).eq(list(where.values())).all(axis=1)
    if not match.any():
        raise SystemExit(f"--where: no training row of {table} has {where}")
    real = train.loc[match, schema.modelled_columns]
    others = [c for c in schema.modelled_columns if c not in where
              and schema.columns[c].kind.value != "id"]
    model = get_synthesizer(NAME, schema, seed=seed, device="auto", epochs=epochs)
    start = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - start
    out: dict[str, Any] = {"seed": seed, "fit_s": round(fit_s, 1),
                           "class_share": round(float(match.mean()), 4),
                           "real_class_rows": int(match.sum())}
    for method in ("inpainting", "reject"):
        model.conditional = method == "inpainting"  # off: the base class's reject sampling
        rate, frames, drawn = timed_rows(model, rows, where, repeats)
        exact = all(len(f) == rows and f[list(where)].astype(str).eq(
            list(where.values())).all(axis=None) for f in frames)
        out[method] = {
            "rows_per_s": round(rate, 1), "rows_drawn": drawn, "exact": bool(exact),
            "similarity": round(statistics.median(
                _shape_similarity(real[others], f[others], schema) for f in frames), 4)}
    del model.conditional
    free = model.sample(rows, seed=0)
    out["unconditional_similarity"] = _shape_similarity(real[others], free[others], schema)
    out["speedup"] = round(out["inpainting"]["rows_per_s"] / out["reject"]["rows_per_s"], 1)
    out["similarity_gap"] = round(out["inpainting"]["similarity"]
                                  - out["reject"]["similarity"], 4)
    return out


def markdown(result: dict[str, Any]) -> str:
    m, med = result["machine"], result["medians"]
    where = ", ".join(f"{k} = {v}" for k, v in result["where"].items())
    lines = [
        f"## Inpainting vs reject sampling (`{result['command'].strip()}`)", "",
        f"Commit `{result['commit']}`, {result['seconds']} s in all. Machine: {m.get('cpu')}, "
        f"{m.get('cores')} cores, GPU: {m.get('gpu') or 'none'}. {NAME} with its defaults"
        f"{'' if result['epochs'] is None else ' but epochs ' + str(result['epochs'])} on "
        f"{result['table']}'s training split, {result['rows']:,} rows of the class {where} "
        f"({100 * med['class_share']:.1f} % of the training rows) asked for by each method; "
        f"rows/s medians of {result['repeats']} calls; similarity = mean KSComplement / "
        "TVComplement of the other columns against the real rows of the class.", "",
        "| fit seed | fit s | inpainting rows/s | reject rows/s | speed-up | rows drawn "
        "(inpainting / reject) | similarity inpainting | similarity reject | gap | "
        "unconditional rows' similarity | exact counts |",
        "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["runs"] + [{"seed": "median", **med}]:
        inp, rej = r["inpainting"], r["reject"]
        drawn = (f"{statistics.median(inp['rows_drawn']):,.0f} / "
                 f"{statistics.median(rej['rows_drawn']):,.0f}") if "rows_drawn" in inp else "–"
        lines.append(
            f"| {r['seed']} | {cell(r['fit_s'], 1)} | {cell(inp['rows_per_s'], 0)} | "
            f"{cell(rej['rows_per_s'], 0)} | **{cell(r['speedup'], 1)}×** | {drawn} | "
            f"{cell(inp['similarity'])} | {cell(rej['similarity'])} | "
            f"{cell(r['similarity_gap'])} | {cell(r['unconditional_similarity'])} | "
            f"{inp['exact'] and rej['exact']} |")
    return "\n".join(lines) + "\n"


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def median(get: Any) -> float:
        return round(statistics.median(get(r) for r in runs), 4)

    return {
        "fit_s": median(lambda r: r["fit_s"]), "class_share": median(lambda r: r["class_share"]),
        "speedup": median(lambda r: r["speedup"]),
        "similarity_gap": median(lambda r: r["similarity_gap"]),
        "unconditional_similarity": median(lambda r: r["unconditional_similarity"]),
        **{m: {"rows_per_s": median(lambda r, m=m: r[m]["rows_per_s"]),
               "similarity": median(lambda r, m=m: r[m]["similarity"]),
               "exact": all(r[m]["exact"] for r in runs)} for m in ("inpainting", "reject")}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", default="adult")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--where", default="occupation=Sales,income=>50K")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--epochs", type=int, help="training epochs (default: the synthesizer's "
                    "own; a smaller number only to try the harness)")
    ap.add_argument("--out", default="inpainting")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    where = parse_where(args.where)
    started = time.perf_counter()
    runs = []
    for seed in (int(s) for s in args.seeds.split(",")):
        runs.append(one_seed(args.table, seed, args.rows, where, args.repeats,
                             args.epochs))
        print(runs[-1], file=sys.stderr, flush=True)
    result = {"command": "python -m benchmarks.inpainting " + " ".join(argv or sys.argv[1:]),
              "commit": commit(), "machine": machine(), "table": args.table, "where": where,
              "rows": args.rows, "repeats": args.repeats, "epochs": args.epochs,
              "seconds": round(time.perf_counter() - started), "runs": runs,
              "medians": summarise(runs)}
    return publish_section(result, args.out, markdown(result), "inpainting")


if __name__ == "__main__":
    raise SystemExit(main())
