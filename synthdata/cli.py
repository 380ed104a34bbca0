"""The ``synthdata`` command line: the only module that formats for humans.

Exit codes: 0 success, 1 gate failed, 2 bad input or usage (a message, no traceback),
3 internal error (a bug: the traceback is shown), 130 interrupted.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from synthdata.errors import ParameterError, SynthdataError
from synthdata.synthesizers.registry import names as synthesizer_names
from synthdata.validation import MAX_SEED

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Turn a sensitive table into a synthetic one, scored for fidelity, privacy and bias.",
    pretty_exceptions_enable=False,
)
schema_app = typer.Typer(no_args_is_help=True, help="Draft and check table schemas.")
app.add_typer(schema_app, name="schema")

EXIT_GATE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[no-untyped-def]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # type: ignore[no-untyped-def]
        pass


def _setup_logging(quiet: bool) -> None:
    log = logging.getLogger("synthdata")
    log.handlers.clear()
    if quiet:
        log.setLevel(logging.WARNING)
    else:
        log.setLevel(logging.INFO)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("synthdata: %(message)s"))
    log.addHandler(handler)
    log.propagate = False


# library parameter -> CLI flag: the library names its parameters, the CLI shows its flags
FLAGS = {"out_dir": "--out", "out": "--out", "model_dir": "--model", "output": "--output",
         "n_rows": "--rows", "format": "--format", "holdout": "--holdout", "ratio": "--ratio",
         "counts": "--counts", "where": "--where",
         "epochs": "--epochs", "batch_size": "--batch-size", "seed": "--seed",
         "device": "--device", "params": "--schema (synthesizer.params)",
         "epsilon": "--epsilon", "engine": "--engine", "ray_address": "--ray-address",
         "workers": "--workers", "part_rows": "--part-rows", "candidates": "--candidates",
         "candidate_seeds": "--candidate-seeds"}


def _fail(exc: BaseException | str) -> NoReturn:
    param = getattr(exc, "param", None)
    prefix = f"{FLAGS[param]}: " if param in FLAGS else ""
    typer.echo(f"error: {prefix}{exc}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _guard(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run ``fn``: user errors exit 2 with their message; Ctrl-C exits 130."""
    try:
        return fn(*args, **kwargs)
    except SynthdataError as exc:
        _fail(exc)
    except OSError as exc:  # a path the user gave that cannot be read or written
        _fail(f"{exc.strerror or exc} for '{exc.filename}'; check the path and its permissions")
    except KeyboardInterrupt:
        typer.echo("interrupted: no synthetic file was written by this run", err=True)
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception:
        import traceback

        traceback.print_exc()
        typer.echo(
            "internal error: this is a bug in synthdata, not in your input; please report it "
            "with the traceback above",
            err=True,
        )
        raise typer.Exit(EXIT_INTERNAL) from None


SynthOpt = Annotated[
    str | None,
    typer.Option("--synthesizer", help=" | ".join(synthesizer_names())
                 + " (default: the schema's; see `synthdata synthesizers`); run also takes "
                 "auto: fit every candidate, export the best that passes the gate."),
]
EpochsOpt = Annotated[
    int | None, typer.Option("--epochs", help="Training epochs (synthesizers that train in "
                                              "epochs; default: the schema's).")
]
BatchOpt = Annotated[
    int | None, typer.Option("--batch-size", help="Training batch size (synthesizers that "
                                                  "train in epochs; default: the schema's).")
]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto | cpu | cuda.")]
FormatOpt = Annotated[str, typer.Option("--format", help="parquet | csv.")]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Export even if the gate fails (recorded).")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress messages.")]
NoIndicatorOpt = Annotated[
    bool, typer.Option("--no-indicator", help="Leave out the 'synthetic' column.")
]
EngineOpt = Annotated[str, typer.Option(
    "--engine", help="local | ray: where the parallel work runs (ray: pip install "
                     "'synthdata[ray]').")]
RayAddressOpt = Annotated[str | None, typer.Option(
    "--ray-address", help="Ray cluster to join ('auto', 'ray://host:10001'; default: start a "
                          "local one).")]
WorkersOpt = Annotated[int | None, typer.Option(
    "--workers", help="Parallel workers (ray: default the cluster's CPUs; local: 1, more "
                      "starts a process pool).")]
SeedOpt = Annotated[
    int, typer.Option("--seed", help="Seed for split, fit and sample.", min=0, max=MAX_SEED)
]


def _summary(result) -> None:  # type: ignore[no-untyped-def]
    typer.echo(f"outputs in {result.out_dir}/")
    if result.synthetic_path is not None:
        rows = result.report.get("run", {}).get("n_rows_synthetic", len(result.synth))
        typer.echo(f"  synthetic table   : {result.synthetic_path} ({rows} rows)")
    else:
        typer.echo("  synthetic table   : not written (the gate failed; see the verdict)")
    typer.echo(f"  report            : {result.out_dir / 'report.html'} (and report.json)")
    typer.echo(f"  manifest          : {result.out_dir / 'manifest.json'}")
    if result.synthetic_path is not None:
        typer.echo(f"  model             : {result.out_dir / 'model'}/")
    for c in result.report.get("candidates") or []:
        verdict = "passes" if c["gate"]["passed"] else \
            f"fails ({', '.join(c['gate']['failures'])})"
        typer.echo(f"  {'* ' if c['chosen'] else '  '}candidate {c['synthesizer']:<16} seed "
                   f"{c['seed']:<4} combined {c['combined_score']:.4f}  fit "
                   f"{c['seconds']['fit']:.0f} s  {verdict}")
    _figures(result.report)


def _extended_summary(result, label: str) -> None:  # type: ignore[no-untyped-def]
    typer.echo(f"outputs in {result.out_dir}/")
    if result.synthetic_path is not None:
        typer.echo(f"  {label} table{' ' * (10 - len(label))}: {result.synthetic_path} "
                   f"({len(result.synth)} rows)")
    else:
        typer.echo(f"  {label} table{' ' * (10 - len(label))}: not written (the gate failed; "
                   "see the verdict)")
    typer.echo(f"  report            : {result.out_dir / 'report.html'} (and report.json)")


def _figures(report: dict) -> None:  # type: ignore[type-arg]
    figures = report["fidelity"]["figures"]
    reference = report["fidelity"].get("reference", {})
    typer.echo("  fidelity (synth; holdout as reference):")
    for key in ("column_shapes", "column_pair_trends", "category_coverage", "range_coverage",
                "detection_auc", "tstr", "trtr", "constraint_violations"):
        if key not in figures:
            continue
        value, ref = figures[key], reference.get(key)
        shown = f"{value:.3f}" if value is not None else "n/a"
        ref_shown = f"  ({ref:.3f})" if ref is not None else ""
        typer.echo(f"    {key:<19}: {shown}{ref_shown}")
    privacy = report.get("privacy") or {}
    figures = privacy.get("figures", {})
    if figures:
        typer.echo("  privacy (no leak looks like):")
        for key, ideal in (("dcr_share", "0.5"), ("exact_copy_rate", "holdout's rate"),
                           ("mia_auc", "0.5"), ("singling_out_risk", "0"),
                           ("linkability_risk", "0")):
            value = figures.get(key)
            if isinstance(value, float):
                extra = ""
                if key == "exact_copy_rate":
                    extra = f" vs holdout {figures.get('exact_copy_rate_holdout', 0):.3f}"
                typer.echo(f"    {key:<19}: {value:.3f}{extra}  ({ideal})")
        for column, value in (figures.get("inference_risk") or {}).items():
            typer.echo(f"    inference_risk[{column}]: {value:.3f}  (0)")
    bias = report.get("bias") or {}
    if bias.get("figures"):
        typer.echo("  bias (real -> synth):")
        for column, fig in bias["figures"].items():
            parts = [f"representation_tvd {fig['representation_tvd']:.3f}"]
            for name, real, synth in (("parity_gap", "parity_gap_real", "parity_gap_synth"),
                                      ("eo_gap", "eo_gap_real_model", "eo_gap_synth_model")):
                if fig.get(real) is not None and fig.get(synth) is not None:
                    parts.append(f"{name} {fig[real]:.3f} -> {fig[synth]:.3f}")
            typer.echo(f"    {column:<19}: " + ", ".join(parts))
        flags = bias.get("flags") or []
        typer.echo(f"    flags              : {len(flags)}")
        for flag in flags:
            typer.echo(f"      [{flag['severity']}] {flag['column']}={flag['group']}: "
                       f"{flag['message']}")
    for note in report.get("notes") or []:
        typer.echo(f"  note: {note}")
    gate = report.get("gate")
    if gate is not None:
        if not gate.get("enabled", True):
            typer.echo("verdict: gate disabled in the schema (gate.enabled: false)")
        elif gate["passed"]:
            typer.echo(f"verdict: PASSED ({len(gate['checked'])} checks)")
        else:
            forced = " (exported anyway: --force, recorded in manifest.json)" \
                if gate.get("forced") else ""
            typer.echo(f"verdict: FAILED, {len(gate['failures'])} check(s){forced}")
            for failure in gate["failures"]:
                typer.echo(f"  - {failure['check']}: {failure['message']}")


@app.command()
def run(
    table: Annotated[Path, typer.Argument(
        help="CSV or Parquet table, or a folder of Parquet files (a dataset, streamed).")],
    schema: Annotated[Path, typer.Option("--schema", help="Schema YAML for the table.")],
    out: Annotated[str | None, typer.Option(
        "--out", help="Output folder (default: out/<table file name without extension>).")
    ] = None,
    synthesizer: SynthOpt = None,
    rows: Annotated[
        int | None, typer.Option("--rows", help="Synthetic rows (default: as many as train).")
    ] = None,
    epochs: EpochsOpt = None,
    batch_size: BatchOpt = None,
    device: DeviceOpt = "auto",
    seed: SeedOpt = 0,
    holdout: Annotated[
        float | None, typer.Option("--holdout", help="Holdout fraction (default: schema, 0.2).")
    ] = None,
    fmt: FormatOpt = "parquet",
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    epsilon: Annotated[float | None, typer.Option(
        "--epsilon", help="Fit a differentially private model with this privacy budget "
        "(synthesizers that take epsilon; sets synthesizer.params.epsilon).")] = None,
    candidates: Annotated[str | None, typer.Option(
        "--candidates", help="With --synthesizer auto: the synthesizers to choose from, "
                             "comma-separated (default: every one that can run here).")] = None,
    candidate_seeds: Annotated[int, typer.Option(
        "--candidate-seeds", help="With --synthesizer auto: seeds per candidate (--seed, "
                                  "--seed + 1, ...).")] = 1,
    engine: EngineOpt = "local",
    ray_address: RayAddressOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Fit a synthesizer on TABLE, sample, score, and write the outputs to --out.

    --synthesizer auto fits the candidates on the same split (in parallel with --engine ray
    or --workers N), scores each on the same holdout and exports the best that passes the gate.

    A folder TABLE is a Parquet dataset, streamed in batches: the export is the folder
    --out/synthetic/ of Parquet parts; report.json -> run.dataset says how many rows were read.
    """
    _setup_logging(quiet)
    from synthdata.pipeline import run as run_pipeline

    if out is None:
        out = str(Path("out") / (table.name.split(".")[0] or "table"))

    result = _guard(
        run_pipeline, table, schema, out_dir=out, synthesizer=synthesizer, n_rows=rows,
        epochs=epochs, batch_size=batch_size, device=device, seed=seed, holdout=holdout,
        fmt=fmt, force=force, progress=not quiet,
        params={"epsilon": epsilon} if epsilon is not None else None, engine=engine,
        ray_address=ray_address, workers=workers,
        candidates=[c.strip() for c in candidates.split(",") if c.strip()]
        if candidates is not None else None, candidate_seeds=candidate_seeds,
    )
    _summary(result)
    raise typer.Exit(result.exit_code)


@app.command()
def evaluate(
    train: Annotated[Path, typer.Option("--train", help="The real rows the generator saw.")],
    holdout: Annotated[
        Path, typer.Option("--holdout", help="Real rows the generator never saw.")
    ],
    synth: Annotated[Path, typer.Option("--synth", help="The synthetic table to score.")],
    schema: Annotated[Path, typer.Option("--schema", help="Schema YAML of the table.")],
    out: Annotated[str, typer.Option("--out", help="Output folder for report.json.")],
    seed: SeedOpt = 0,
    engine: EngineOpt = "local",
    ray_address: RayAddressOpt = None,
    workers: WorkersOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Score a synthetic table (from synthdata or any other tool) against train and holdout.

    --engine ray spreads the nearest-neighbour privacy figures over Ray workers (same figures).
    """
    _setup_logging(quiet)
    from synthdata.pipeline import evaluate as evaluate_tables

    result = _guard(evaluate_tables, train, synth, holdout, schema, out_dir=out, seed=seed,
                    engine=engine, ray_address=ray_address, workers=workers)
    typer.echo(f"report: {result.out_dir / 'report.html'} (and report.json)")
    _figures(result.report)
    raise typer.Exit(result.exit_code)


@app.command()
def balance(
    table: Annotated[Path, typer.Argument(help="CSV or Parquet table.")],
    schema: Annotated[Path, typer.Option("--schema", help="Schema YAML (with a target).")],
    out: Annotated[str, typer.Option("--out", help="Output folder.")],
    ratio: Annotated[
        float | None,
        typer.Option("--ratio", help="Minority/majority ratio to reach (default 1.0)."),
    ] = None,
    counts: Annotated[
        str | None, typer.Option("--counts", help="Rows per class to reach: class=n,...")
    ] = None,
    synthesizer: SynthOpt = None,
    epochs: EpochsOpt = None,
    batch_size: BatchOpt = None,
    device: DeviceOpt = "auto",
    seed: SeedOpt = 0,
    fmt: FormatOpt = "parquet",
    no_indicator: NoIndicatorOpt = False,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Add synthetic rows of the rare target classes; compare with SMOTE on the holdout."""
    _setup_logging(quiet)
    from synthdata.balancing import parse_counts
    from synthdata.pipeline import balance as balance_pipeline

    result = _guard(
        lambda: balance_pipeline(
            table, schema, out_dir=out, ratio=ratio,
            counts=parse_counts(counts) if counts is not None else None,
            synthesizer=synthesizer, epochs=epochs, batch_size=batch_size, device=device,
            seed=seed, fmt=fmt, indicator=not no_indicator, force=force, progress=not quiet))
    _extended_summary(result, "balanced")
    info = result.report["balance"]
    typer.echo(f"  classes           : {info['class_counts_before']} -> "
               f"{info['class_counts_after']} (ratio {info['ratio_after']:.3f})")
    for cls, gen in info["generation"].items():
        typer.echo(f"  generated {cls!s:<8}: {gen['rows']} rows at {gen['rows_per_second']} "
                   f"rows/s ({gen['method']})")
    typer.echo(f"  {info['verdict']}")
    _figures(result.report)
    raise typer.Exit(result.exit_code)


@app.command()
def augment(
    table: Annotated[Path, typer.Argument(help="CSV or Parquet table.")],
    schema: Annotated[Path, typer.Option("--schema", help="Schema YAML for the table.")],
    out: Annotated[str, typer.Option("--out", help="Output folder.")],
    rows: Annotated[int, typer.Option("--rows", help="Synthetic rows to add.")],
    synthesizer: SynthOpt = None,
    epochs: EpochsOpt = None,
    batch_size: BatchOpt = None,
    device: DeviceOpt = "auto",
    seed: SeedOpt = 0,
    fmt: FormatOpt = "parquet",
    no_indicator: NoIndicatorOpt = False,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Add ROWS synthetic rows drawn from the whole distribution to the train rows."""
    _setup_logging(quiet)
    from synthdata.pipeline import augment as augment_pipeline

    result = _guard(
        augment_pipeline, table, schema, out_dir=out, n_rows=rows, synthesizer=synthesizer,
        epochs=epochs, batch_size=batch_size, device=device, seed=seed, fmt=fmt,
        indicator=not no_indicator, force=force, progress=not quiet)
    _extended_summary(result, "augmented")
    _figures(result.report)
    raise typer.Exit(result.exit_code)


@app.command()
def sample(
    model: Annotated[Path, typer.Option("--model", help="DIR/model folder saved by run.")],
    rows: Annotated[int, typer.Option("--rows", help="Rows to sample.")],
    out: Annotated[str, typer.Option(
        "--out", help="Output file (.parquet or .csv), or a folder (no extension) for Parquet "
                      "parts part-00000.parquet, ...")],
    where: Annotated[
        list[str] | None,
        typer.Option("--where", help="Condition col=value (repeatable; categorical, ordinal "
                                     "or boolean columns)."),
    ] = None,
    seed: SeedOpt = 0,
    force: Annotated[
        bool, typer.Option("--force", help="Sample even if the model's run failed its gate.")
    ] = False,
    trust: Annotated[
        bool, typer.Option("--trust", help="Load a model folder not signed for this user "
                                           "(unpickling runs code: only if you know its "
                                           "source).")
    ] = False,
    engine: EngineOpt = "local",
    ray_address: RayAddressOpt = None,
    workers: WorkersOpt = None,
    part_rows: Annotated[int, typer.Option(
        "--part-rows", help="Rows per Parquet part when --out is a folder.")] = 1_000_000,
    quiet: QuietOpt = False,
) -> None:
    """Sample again from a saved model, optionally conditioned (--where col=value).

    With --out a folder, rows are written in Parquet parts, each seeded from (--seed, part
    number): the same parts whatever --engine and --workers made them.
    """
    _setup_logging(quiet)
    from synthdata.pipeline import sample_model

    conditions: dict[str, str] = {}
    for item in where or []:
        column, sep, value = item.partition("=")
        if not sep or not column:
            _fail(ParameterError(f"--where: expected col=value, found {item!r}; e.g. "
                                 "--where churned=true"))
        conditions[column.strip()] = value.strip()
    result = _guard(sample_model, model, n_rows=rows, out=out, where=conditions, seed=seed,
                    force=force, trust=trust, engine=engine, ray_address=ray_address,
                    workers=workers, part_rows=part_rows)
    if result.exit_code == 1:
        failed = ", ".join(str(f.get("check")) for f in result.report["gate"].get("failures")
                           or [] if isinstance(f, dict))
        typer.echo(f"refused: the run that made this model failed its gate ({failed}); "
                   "pass --force to sample anyway (recorded)", err=True)
        raise typer.Exit(1)
    if "parts" in result.manifest:
        info = result.manifest["execution"]
        typer.echo(f"wrote {len(result.manifest['parts'])} Parquet parts ({rows} rows) and "
                   f"_manifest.json in {result.synthetic_path}/ ({info['engine']} engine, "
                   f"{info['workers']} workers, {info['rows_per_second']:,.0f} rows/s)")
        raise typer.Exit(0)
    typer.echo(f"wrote {result.synthetic_path} ({len(result.synth)} rows) and "
               f"{result.synthetic_path.name}.manifest.json")
    raise typer.Exit(0)


@app.command()
def demo(
    out: Annotated[str, typer.Option("--out", help="Output folder.")] = "synthdata-demo",
    synthesizer: SynthOpt = None,
    seed: SeedOpt = 0,
    epochs: EpochsOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run the whole pipeline on the built-in demo table."""
    _setup_logging(quiet)
    from synthdata.demo import demo_schema, make_demo_table
    from synthdata.pipeline import run as run_pipeline

    table = make_demo_table(seed=seed)
    logging.getLogger("synthdata").info(
        "demo table: %d rows x %d columns (synthdata/demo.py documents it)", *table.shape
    )
    result = _guard(
        run_pipeline, table, demo_schema(), out_dir=out, synthesizer=synthesizer, seed=seed,
        epochs=epochs, progress=not quiet,
    )
    _summary(result)
    raise typer.Exit(result.exit_code)


@schema_app.command("infer")
def schema_infer(
    table: Annotated[Path, typer.Argument(help="CSV or Parquet table.")],
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="Write the draft here (default: stdout).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Table name.")] = None,
) -> None:
    """Draft a schema from TABLE; PII and decisions for a human are marked '# REVIEW'."""
    from synthdata.infer import infer_schema_file, render_schema_yaml
    from synthdata.io import check_inputs_kept
    from synthdata.validation import check_path

    if output is not None:  # before reading: the draft must never replace the table
        path = _guard(check_path, "output", output)
        if path.is_dir():
            _fail(ParameterError(f"output '{path}' is a folder; expected a file path for the "
                                 f"YAML draft, e.g. '{path / 'schema.yaml'}'", param="output"))
        _guard(check_inputs_kept, {"table": table}, writes=[path], param="output")
    schema, notes = _guard(infer_schema_file, table, name=name)
    text = render_schema_yaml(schema, notes)
    if output is None:
        typer.echo(text, nl=False)
        return
    from synthdata.io import atomic_write_text

    _guard(atomic_write_text, Path(output), text)
    pii = schema.pii_columns
    typer.echo(f"wrote draft schema {output} ({len(schema.columns)} columns)")
    if pii:
        typer.echo(f"  likely PII (kind pii, never modelled): {', '.join(pii)}")
    typer.echo("  review the lines marked '# REVIEW' before using it")


@schema_app.command("json")
def schema_json() -> None:
    """Print the JSON Schema of the schema format (as in schemas/schema.json)."""
    from synthdata.schema import json_schema

    typer.echo(json_schema(), nl=False)


@schema_app.command("reference")
def schema_reference() -> None:
    """Print every schema field with its default and meaning (a Markdown table)."""
    from synthdata.schema import reference_markdown

    typer.echo(reference_markdown(), nl=False)


@schema_app.command("check")
def schema_check(
    schema: Annotated[Path, typer.Argument(help="Schema YAML.")],
    table: Annotated[Path | None, typer.Option("--table", help="Also validate this table.")] = None,
) -> None:
    """Validate a schema (and optionally a table against it) without fitting anything."""
    from synthdata.schema import load_schema

    loaded = _guard(load_schema, schema)
    if table is not None:
        from synthdata.io import read_table

        df = _guard(read_table, table, loaded)
        typer.echo(f"{table}: {len(df)} rows match {schema}")
    else:
        typer.echo(f"{schema}: valid ({len(loaded.columns)} columns)")


@app.command()
def synthesizers() -> None:
    """List the registered synthesizers, what they can do, and whether they can run here."""
    from synthdata.synthesizers.registry import backend_class, problem

    for name in synthesizer_names():
        trouble = problem(name)
        if trouble:
            typer.echo(f"{name:<16} cannot run: {trouble}")
            continue
        cls = backend_class(name)
        if cls.uses_torch:
            import torch

            status = "ready (device auto -> " + (
                "cuda" if torch.cuda.is_available() else "cpu") + ")"
        else:
            status = "ready (cpu)"
        traits = [t for t, on in (("conditional", cls.conditional),
                                  ("epochs", cls.trains_in_epochs()),
                                  ("differentially private", cls.differentially_private),
                                  ("pickled model", cls.pickled)) if on]
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        typer.echo(f"{name:<16} {status:<32} {doc} [{', '.join(traits) or 'plain'}]")


def main() -> None:
    # torch and scikit-learn each load their own OpenMP runtime (libgomp). Threads of an idle
    # runtime spin GOMP_SPINCOUNT times before sleeping and, on a machine with few cores,
    # starve the other runtime: scikit-learn's HistGradientBoosting ran 3-4x slower after torch
    # had run. A short spin costs nothing measurable when one runtime works alone. Must be set
    # before either library loads; a value the user set wins.
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")
    app()


if __name__ == "__main__":
    main()
