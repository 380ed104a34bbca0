"""``run``: schema -> table -> PII protection -> split -> fit -> sample -> score -> export.

Orchestration only: each step is a function of its own module. Every check on the user's
input happens before the first expensive step and before anything is written.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthdata.errors import DataError, ParameterError
from synthdata.io import sha256_file
from synthdata.schema import ColumnKind, Schema, load_schema

logger = logging.getLogger(__name__)

FORMATS = ("parquet", "csv")
MAX_SEED = 2**32 - 1
RESERVED_PARAMS = ("seed", "device")
MIN_SELF_CHECK_ROWS = 50  # per half, when synth and holdout are the same rows


@dataclass
class RunResult:
    """What ``run`` produced. ``exit_code``: 0 exported, 1 gate failed."""

    out_dir: Path
    synthetic_path: Path | None
    report: dict[str, Any]
    manifest: dict[str, Any]
    synth: pd.DataFrame = field(repr=False)
    exit_code: int = 0


def fresh_keys(synth: pd.DataFrame, real: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Give the id columns of ``synth`` values that repeat neither each other nor ``real``'s.

    Generated rows are appended to real ones (balance, augment), and the generator's own ids
    restart with each call; numeric ids continue after the largest real one, text ids become
    ``synthetic-000001``, ... (skipping any a real row uses).
    """
    out = synth.copy()
    n = len(out)
    for column in schema.columns_of(ColumnKind.id):
        if column not in out.columns or not n:
            continue
        values = real[column].dropna() if column in real.columns else pd.Series([], dtype=object)
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            start = int(values.max()) + 1 if len(values) else 1
            out[column] = pd.array(np.arange(start, start + n), dtype="Int64")
        else:
            taken = set(values.astype(str))
            width = max(6, len(str(n + len(taken))))
            fresh, i = [], 0
            while len(fresh) < n:
                i += 1
                key = f"synthetic-{i:0{width}d}"
                if key not in taken:
                    fresh.append(key)
            out[column] = pd.Series(fresh, index=out.index, dtype=object)
    return out


def _sha256_dir(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): sha256_file(p) for p in sorted(path.rglob("*"))
            if p.is_file()}


def _check_options(
    fmt: str, holdout: float | None, n_rows: int | None, epochs: int | None, seed: int
) -> None:
    if fmt not in FORMATS:
        raise ParameterError(
            f"The 'format' parameter must be one of {', '.join(FORMATS)}. Got {fmt!r} instead."
        )
    if holdout is not None and (
        isinstance(holdout, bool) or not isinstance(holdout, int | float) or not 0 < holdout < 1
    ):
        raise ParameterError(
            f"The 'holdout' parameter must be a float in (0, 1). Got {holdout!r} instead."
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ParameterError(
            f"The 'seed' parameter must be an int in [0, {MAX_SEED}]. Got {seed!r} instead."
        )
    for key, value in (("n_rows", n_rows), ("epochs", epochs)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise ParameterError(
                f"The '{key}' parameter must be an int in [1, inf). Got {value!r} instead."
            )


def _check_out_dir(out_dir: Path) -> None:
    """The output folder can be created and written, checked without writing anything."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"--out '{out_dir}' is a file; expected a folder: choose another path")
    parent = out_dir
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ParameterError(
            f"--out '{out_dir}' cannot be created because '{parent}' is a file; choose another path"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ParameterError(
            f"--out '{out_dir}': no permission to write in '{parent}'; choose another path"
        )


def run(
    table: str | Path | pd.DataFrame,
    schema: str | Path | Schema,
    *,
    out_dir: str | Path,
    synthesizer: str | None = None,
    n_rows: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    device: str = "auto",
    seed: int = 0,
    holdout: float | None = None,
    fmt: str = "parquet",
    force: bool = False,
    params: dict[str, Any] | None = None,
    progress: bool = False,
) -> RunResult:
    """Fit a synthesizer on ``table``, sample, score, and write the outputs to ``out_dir``.

    Writes ``synthetic.parquet`` (or ``.csv``), ``report.json``, ``manifest.json`` and
    ``model/``. Arguments left as None take the schema's defaults (``synthesizer:`` and
    ``split:`` blocks). ``progress=True`` shows the epoch progress bar while CTGAN/TVAE train
    (the CLI sets it unless ``--quiet``); stages are logged either way.

    Raises:
        SchemaError, DataError, ParameterError, DeviceError: bad input, raised before any
            fitting and before anything is written.
    """
    from synthdata import __version__
    from synthdata.io import atomic_write_json, read_table, write_table
    from synthdata.metrics.bias import evaluate_bias
    from synthdata.metrics.fidelity import evaluate_fidelity
    from synthdata.metrics.privacy import evaluate_privacy
    from synthdata.pii import fill_pii, pii_report
    from synthdata.report import BiasSection, Report, RunInfo, Section
    from synthdata.split import split
    from synthdata.synthesizers import REGISTRY, get_synthesizer, resolve_device

    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(step: str, since: float) -> float:
        now = time.perf_counter()
        timings[step] = round(now - since, 3)
        return now

    # ---- every check on the input, before any expensive work --------------------------
    _check_options(fmt, holdout, n_rows, epochs, seed)
    if not isinstance(schema, Schema):
        schema = load_schema(schema)
    name = synthesizer or schema.synthesizer.name
    if name not in REGISTRY:
        raise ParameterError(f"unknown synthesizer {name!r}; expected one of {', '.join(REGISTRY)}")
    backend = REGISTRY[name]
    notes: list[str] = []
    merged = {**schema.synthesizer.params, **(params or {})}
    reserved = [k for k in RESERVED_PARAMS if k in merged]
    if reserved:
        raise ParameterError(
            f"synthesizer.params must not set {', '.join(map(repr, reserved))}; pass them to "
            "run (CLI: --seed, --device) instead"
        )
    # epochs/batch_size may come from the call, the schema's fields or its params, in that order
    epochs = next((v for v in (epochs, schema.synthesizer.epochs, merged.pop("epochs", None))
                   if v is not None), None)
    batch_size = next(
        (v for v in (batch_size, schema.synthesizer.batch_size, merged.pop("batch_size", None))
         if v is not None), None)
    if "epochs" not in backend.params and (epochs is not None or batch_size is not None):
        notes.append(f"epochs/batch_size ignored: {name} does not train in epochs")
        epochs = batch_size = None
    model = get_synthesizer(
        name, schema, epochs=epochs, batch_size=batch_size, device=device, seed=seed, **merged
    )
    used_device = resolve_device(device) if backend.uses_torch else "cpu"
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    fraction = schema.split.holdout if holdout is None else float(holdout)
    table_label = "DataFrame" if isinstance(table, pd.DataFrame) else str(table)
    df = read_table(table, schema, holdout=fraction)
    input_sha = None if isinstance(table, pd.DataFrame) else sha256_file(Path(table))
    t = lap("read_and_validate", t0)

    # ---- PII never reaches the synthesizer ------------------------------------------------
    modelled = df[schema.modelled_columns]
    train, held = split(modelled, schema, holdout=fraction, seed=seed)
    t = lap("split", t)
    logger.info("split %d rows: %d train, %d holdout", len(df), len(train), len(held))

    logger.info("fitting %s on %d rows (device %s)", name, len(train), used_device)
    model.fit(train, progress=progress)
    t = lap("fit", t)
    n_out = n_rows if n_rows is not None else len(train)
    logger.info("sampling %d rows", n_out)
    synth_modelled = model.sample(n_out, seed=seed)
    synth = fill_pii(synth_modelled, schema, seed=seed, key=secrets.token_bytes(32))
    t = lap("sample", t)
    logger.info("sampled %d rows", len(synth))

    logger.info("scoring fidelity")
    fidelity = evaluate_fidelity(train, synth_modelled, held, schema, seed=seed)
    t = lap("score_fidelity", t)
    logger.info("scoring privacy")
    privacy = evaluate_privacy(train, synth_modelled, held, schema, seed=seed)
    t = lap("score_privacy", t)
    logger.info("scoring bias")
    bias = evaluate_bias(train, synth_modelled, held, schema, seed=seed)
    notes.extend(bias.pop("notes"))
    t = lap("score_bias", t)

    # ---- the gate, then the outputs --------------------------------------------------------
    report = Report(
        synthdata_version=__version__,
        run=RunInfo(
            table=table_label,
            schema_name=schema.name,
            synthesizer=name,
            params=model.params_,
            seed=seed,
            device=model.device_,
            holdout_fraction=fraction,
            n_rows_input=len(df),
            n_rows_train=len(train),
            n_rows_holdout=len(held),
            n_rows_synthetic=len(synth),
            format=fmt,
            started_at=started.isoformat(timespec="seconds"),
            duration_seconds=round(time.perf_counter() - t0, 3),
        ),
        fidelity=Section(**fidelity),
        privacy=Section(**privacy),
        bias=BiasSection(**bias),
        pii=pii_report(schema),
        notes=notes,
    ).to_json_dict()
    gate = _gate(report, schema, force)
    report["gate"] = gate
    export = gate["passed"] or force

    _start_outputs(out_dir, "synthetic", fmt, export)
    synthetic_path: Path | None = None
    outputs: dict[str, str] = {}
    if export:
        model_dir = model.save(out_dir / "model")
        synthetic_path = write_table(synth, out_dir / f"synthetic.{fmt}", fmt=fmt,
                                     schema=schema)
        outputs[synthetic_path.name] = sha256_file(synthetic_path)
        outputs.update({f"model/{k}": v for k, v in _sha256_dir(model_dir).items()})
    elif (out_dir / "model").exists():
        shutil.rmtree(out_dir / "model")  # a previous run's model: not this report's
    _write_reports(out_dir, report, outputs)
    t = lap("write_outputs", t)

    from synthdata.synthesizers.base import package_versions

    manifest = {
        "synthdata_version": __version__,
        "created_at": started.isoformat(timespec="seconds"),
        "input": {"table": table_label, "sha256": input_sha, "n_rows": len(df)},
        "schema": schema.model_dump(mode="json"),
        "synthesizer": name,
        "params": model.params_,
        "seed": seed,
        "device": {"requested": device, "used": used_device},
        "holdout_fraction": fraction,
        "force": force,
        "gate": gate,
        "exported": export,
        "timings_seconds": timings,
        "versions": package_versions(),
        "outputs": dict(sorted(outputs.items())),
    }
    from synthdata.io import sign_manifest

    manifest["signature"] = sign_manifest(manifest)  # lets `sample` trust this folder
    atomic_write_json(out_dir / "manifest.json", manifest)
    if export:
        logger.info("wrote %s", out_dir)
    else:
        logger.warning("gate failed: no synthetic table written to %s (reports are there)",
                       out_dir)
    return RunResult(
        out_dir=out_dir,
        synthetic_path=synthetic_path,
        report=report,
        manifest=manifest,
        synth=synth,
        exit_code=0 if export else 1,
    )


def _start_outputs(out_dir: Path, stem: str, fmt: str, export: bool) -> None:
    """Remove the manifest first and any export this run does not (re)write."""
    # manifest.json is written last and removed first: a folder without it holds an
    # incomplete set (each file in it is still whole: every write is temp file + rename)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "manifest.json").unlink(missing_ok=True)
    for other in FORMATS:
        stale = out_dir / f"{stem}.{other}"
        if (other != fmt or not export) and stale.exists():
            stale.unlink()  # a previous run's export would not match this report


def _write_reports(out_dir: Path, report: dict[str, Any], outputs: dict[str, str]) -> None:
    from synthdata.io import atomic_write_json, atomic_write_text
    from synthdata.report import render_html

    atomic_write_json(out_dir / "report.json", report)
    atomic_write_text(out_dir / "report.html", render_html(report))
    for written in ("report.json", "report.html"):
        outputs[written] = sha256_file(out_dir / written)


def _gate(report: dict[str, Any], schema: Schema, force: bool) -> dict[str, Any]:
    """The gate result as recorded in report.json and manifest.json (with any override)."""
    import getpass

    from synthdata.gate import check_gate

    result = check_gate(report, schema.gate).model_dump(mode="json")
    result["forced"] = bool(force and not result["passed"])
    result["override"] = None
    if result["forced"]:
        try:
            who = getpass.getuser()
        except (KeyError, OSError):  # no user name in this environment
            who = f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
        result["override"] = {
            "by": who,
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "reason": "--force: exported although the gate failed",
            "failures": [f["check"] for f in result["failures"]],
        }
        logger.warning("gate failed but --force given: exporting; override recorded")
    return result


def _row_hashes(df: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(df, index=False).to_numpy()


def _self_check(tables: dict[str, pd.DataFrame], schema: Schema, seed: int) -> list[str]:
    """Handle a synth that *is* the holdout, and warn when synth overlaps the holdout.

    Scoring the holdout against itself puts every synth row at distance 0 from its own twin,
    which says nothing. Given the same rows as ``synth`` and ``holdout``, the user asks what
    rows the generator never saw score, so the holdout is split in two seeded, stratified
    halves: one is scored as synth, the other serves as holdout. A note says so.
    """
    from synthdata.split import split

    synth, held = tables["synth"], tables["holdout"]
    h_synth, h_held = _row_hashes(synth), _row_hashes(held)
    if len(synth) == len(held) and np.array_equal(np.sort(h_synth), np.sort(h_held)):
        if len(held) < 2 * MIN_SELF_CHECK_ROWS:
            raise DataError([
                f"--synth and --holdout are the same {len(held)} rows; expected a synthetic "
                f"table, or at least {2 * MIN_SELF_CHECK_ROWS} holdout rows to score half of "
                "them against the other half; pass the generator's output as --synth"
            ], source="evaluate inputs")
        half_synth, half_held = split(held, schema, holdout=0.5, seed=seed)
        tables["synth"], tables["holdout"] = half_synth, half_held
        logger.warning("--synth and --holdout are the same rows: scoring one half against "
                       "the other")
        return [
            f"--synth and --holdout are the same {len(held)} rows. Scoring a table against "
            "itself says nothing (every row is its own nearest neighbour), so one half "
            f"({len(half_synth)} rows, seeded and stratified) was scored as synth and the "
            f"other ({len(half_held)} rows) used as holdout: these figures show what rows the "
            "generator never saw score."
        ]
    in_held = np.isin(h_synth, h_held)
    in_train = np.isin(h_held, _row_hashes(tables["train"]))
    share, natural = float(in_held.mean()), float(in_train.mean()) if len(held) else 0.0
    if share > max(0.5, 5 * natural):
        return [
            f"{100 * share:.0f} % of the synth rows are rows of the holdout (the holdout holds "
            f"{100 * natural:.1f} % rows equal to some train row): privacy figures compare "
            "synth with the holdout and mean little when synth copies it. Pass a holdout the "
            "synthetic rows were not made from."
        ]
    return []


def evaluate(
    train: str | Path | pd.DataFrame,
    synth: str | Path | pd.DataFrame,
    holdout: str | Path | pd.DataFrame,
    schema: str | Path | Schema,
    *,
    out_dir: str | Path | None = None,
    seed: int = 0,
) -> RunResult:
    """Score ``synth`` (made by synthdata or any other tool) against ``train`` and ``holdout``.

    ``holdout`` must be real rows the generator never saw. Writes ``report.json`` into
    ``out_dir`` when given.

    Raises:
        SchemaError, DataError, ParameterError: bad input, before any scoring or writing.
    """
    from synthdata import __version__
    from synthdata.io import atomic_write_json, atomic_write_text, read_table
    from synthdata.metrics.bias import evaluate_bias
    from synthdata.metrics.fidelity import evaluate_fidelity
    from synthdata.metrics.privacy import evaluate_privacy
    from synthdata.report import BiasSection, Report, RunInfo, Section, render_html

    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    _check_options("parquet", None, None, None, seed)
    if not isinstance(schema, Schema):
        schema = load_schema(schema)
    if out_dir is not None:
        out_dir = Path(out_dir)
        _check_out_dir(out_dir)
    problems: list[str] = []
    tables: dict[str, pd.DataFrame] = {}
    for label, table, role in (("train", train, "part"), ("holdout", holdout, "part"),
                               ("synth", synth, "synthetic")):
        try:
            tables[label] = read_table(table, schema, role=role)[schema.modelled_columns]
        except DataError as exc:
            problems.extend(f"--{label} {exc.source}: {p}" for p in exc.problems)
    if problems:
        raise DataError(problems, source="evaluate inputs")
    notes = _self_check(tables, schema, seed)
    fidelity = evaluate_fidelity(
        tables["train"], tables["synth"], tables["holdout"], schema, seed=seed
    )
    privacy = evaluate_privacy(
        tables["train"], tables["synth"], tables["holdout"], schema, seed=seed
    )
    bias = evaluate_bias(tables["train"], tables["synth"], tables["holdout"], schema, seed=seed)
    notes.extend(bias.pop("notes"))
    label = " | ".join(
        "DataFrame" if isinstance(t, pd.DataFrame) else str(t) for t in (train, synth, holdout)
    )
    report = Report(
        synthdata_version=__version__,
        run=RunInfo(
            command="evaluate",
            table=label,
            schema_name=schema.name,
            seed=seed,
            n_rows_train=len(tables["train"]),
            n_rows_holdout=len(tables["holdout"]),
            n_rows_synthetic=len(tables["synth"]),
            started_at=started.isoformat(timespec="seconds"),
            duration_seconds=round(time.perf_counter() - t0, 3),
        ),
        fidelity=Section(**fidelity),
        privacy=Section(**privacy),
        bias=BiasSection(**bias),
        notes=notes,
    ).to_json_dict()
    report["gate"] = _gate(report, schema, force=False)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out_dir / "report.json", report)
        atomic_write_text(out_dir / "report.html", render_html(report))
        logger.info("wrote %s and report.html", out_dir / "report.json")
    return RunResult(
        out_dir=Path(out_dir) if out_dir is not None else Path("."),
        synthetic_path=None,
        report=report,
        manifest={},
        synth=tables["synth"],
        exit_code=0 if report["gate"]["passed"] else 1,
    )


def balance(
    table: str | Path | pd.DataFrame,
    schema: str | Path | Schema,
    *,
    out_dir: str | Path,
    ratio: float | None = None,
    counts: dict[str, int] | None = None,
    **options: Any,
) -> RunResult:
    """Add synthetic rows of the under-represented target classes; prove it on the holdout.

    Writes ``balanced.parquet`` (or ``.csv``: the real train rows + the synthetic rows, column
    ``synthetic`` marking which, modelled columns only), ``report.json`` / ``report.html``
    (with a ``balance`` section: plan, generation throughput, comparison against SMOTE-NC and
    class weights) and ``manifest.json``. The gate applies as for :func:`run`. ``options``:
    synthesizer, epochs, device, seed, holdout, fmt, indicator, force, n_seeds, progress.

    Raises:
        SchemaError, DataError, ParameterError, DeviceError: bad input, before any fitting.
    """
    return _extend(table, schema, out_dir=out_dir, mode="balance", ratio=ratio, counts=counts,
                   **options)


def augment(
    table: str | Path | pd.DataFrame,
    schema: str | Path | Schema,
    *,
    out_dir: str | Path,
    n_rows: int,
    **options: Any,
) -> RunResult:
    """Add ``n_rows`` synthetic rows drawn from the whole distribution to the train rows.

    Writes ``augmented.parquet`` (or ``.csv``; column ``synthetic`` marks the added rows),
    ``report.json`` / ``report.html`` and ``manifest.json``; the gate applies as for
    :func:`run`. ``options`` as for :func:`balance`.
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, int) or n_rows < 1:
        raise ParameterError(f"The 'rows' parameter must be an int in [1, inf). Got {n_rows!r} "
                             "instead.")
    return _extend(table, schema, out_dir=out_dir, mode="augment", n_rows=n_rows, **options)


def _extend(
    table: str | Path | pd.DataFrame,
    schema: str | Path | Schema,
    *,
    out_dir: str | Path,
    mode: str,
    n_rows: int | None = None,
    ratio: float | None = None,
    counts: dict[str, int] | None = None,
    synthesizer: str | None = None,
    epochs: int | None = None,
    device: str = "auto",
    seed: int = 0,
    holdout: float | None = None,
    fmt: str = "parquet",
    indicator: bool = True,
    force: bool = False,
    n_seeds: int = 3,
    progress: bool = False,
) -> RunResult:
    """balance (mode "balance") and augment (mode "augment"): one flow, two ways to add rows."""
    from synthdata import __version__
    from synthdata.balance import (
        INDICATOR,
        check_target,
        compare_options,
        plan_counts,
        timed_generation,
    )
    from synthdata.io import atomic_write_json, read_table, write_table
    from synthdata.metrics.bias import evaluate_bias
    from synthdata.metrics.fidelity import evaluate_fidelity
    from synthdata.metrics.privacy import evaluate_privacy
    from synthdata.report import BiasSection, Report, RunInfo, Section
    from synthdata.schema import category_text
    from synthdata.split import split
    from synthdata.synthesizers import REGISTRY, get_synthesizer, resolve_device

    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    _check_options(fmt, holdout, None, epochs, seed)
    if ratio is not None and counts is not None:
        raise ParameterError("give --ratio or --counts, not both")
    if ratio is not None and (isinstance(ratio, bool) or not isinstance(ratio, int | float)
                              or not 0 < ratio <= 1):
        raise ParameterError(f"The 'ratio' parameter (minority/majority) must be a float in "
                             f"(0, 1]. Got {ratio!r} instead.")
    if not isinstance(schema, Schema):
        schema = load_schema(schema)
    target = check_target(schema) if mode == "balance" else schema.target
    name = synthesizer or schema.synthesizer.name
    if name not in REGISTRY:
        raise ParameterError(f"unknown synthesizer {name!r}; expected one of {', '.join(REGISTRY)}")
    backend = REGISTRY[name]
    epochs = epochs if epochs is not None else schema.synthesizer.epochs
    kwargs = dict(schema.synthesizer.params)
    if "epochs" in backend.params and epochs is not None:
        kwargs["epochs"] = epochs
    model = get_synthesizer(name, schema, device=device, seed=seed, **kwargs)
    used_device = resolve_device(device) if backend.uses_torch else "cpu"
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    fraction = schema.split.holdout if holdout is None else float(holdout)
    df = read_table(table, schema, holdout=fraction)
    modelled = df[schema.modelled_columns]
    train, held = split(modelled, schema, holdout=fraction, seed=seed)
    plan = plan_counts(train, target, ratio=ratio, counts=counts) if mode == "balance" else {}
    timings: dict[str, float] = {"read_and_split": round(time.perf_counter() - t0, 3)}
    logger.info("balance plan: add %s", plan or "nothing (already balanced)")

    t = time.perf_counter()
    logger.info("fitting %s on %d rows (device %s)", name, len(train), used_device)
    model.fit(train, progress=progress)
    timings["fit"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    if mode == "balance":
        assert target is not None
        values = {category_text(v): (bool(v) if schema.columns[target].kind == ColumnKind.boolean
                                     else v) for v in train[target].dropna().unique()}
        synth, generation = timed_generation(model, target, plan, seed, values)
        # scores of the synthetic part against real rows of the same classes
        classes = set(plan)
        same = train[train[target].map(lambda v: pd.notna(v) and category_text(v) in classes)]
        same_held = held[held[target].map(lambda v: pd.notna(v) and category_text(v) in classes)]
    else:
        assert n_rows is not None
        synth = model.sample(n_rows, seed=seed)
        seconds = time.perf_counter() - t
        generation = {"(all)": {"rows": n_rows, "seconds": round(seconds, 4),
                                "rows_per_second": round(n_rows / seconds, 1) if seconds else None,
                                "drawn": n_rows, "method": "unconditional"}}
        same, same_held = train, held
    timings["generate"] = round(time.perf_counter() - t, 3)
    synth = fresh_keys(synth, train, schema)
    label = "balanced" if mode == "balance" else "augmented"
    notes = [f"{label}.* holds the modelled columns only: PII and free-text columns are left "
             "out, so real and invented people are never mixed in one row"]
    if any(c in synth.columns for c in schema.columns_of(ColumnKind.id)):
        notes.append("id columns of the added rows are renumbered so that they repeat neither "
                     "each other nor a real row's id")
    fidelity: dict[str, Any] = {}
    privacy: dict[str, Any] = {}
    bias: dict[str, Any] = {}
    if len(synth):
        t = time.perf_counter()
        logger.info("scoring the synthetic part (fidelity, privacy, bias)")
        fidelity = evaluate_fidelity(same, synth, same_held, schema, seed=seed)
        privacy = evaluate_privacy(same, synth, same_held, schema, seed=seed)
        bias = evaluate_bias(same, synth, same_held, schema, seed=seed)
        notes.extend(bias.pop("notes"))
        timings["score"] = round(time.perf_counter() - t, 3)

    def draw(k: int) -> pd.DataFrame:
        return synth if k == 0 else timed_generation(model, target, plan, seed + 7919 * k,
                                                     values)[0]

    comparison: list[dict[str, Any]] = []
    verdict = None
    if mode == "balance":
        t = time.perf_counter()
        logger.info("comparing real / real+synthetic / real+SMOTE / class weights on the "
                    "holdout")
        comparison, verdict = compare_options(train, held, schema, draw, plan, n_seeds=n_seeds)
        timings["compare"] = round(time.perf_counter() - t, 3)
    if mode == "balance" and name == "tvae":
        notes.append("tvae has no conditional generation: minority rows came from reject "
                     "sampling (unconditional draws, matching rows kept)")

    report = Report(
        synthdata_version=__version__,
        run=RunInfo(
            command=mode, table="DataFrame" if isinstance(table, pd.DataFrame)
            else str(table), schema_name=schema.name, synthesizer=name,
            params=model.params_, seed=seed, device=model.device_, holdout_fraction=fraction,
            n_rows_input=len(df), n_rows_train=len(train), n_rows_holdout=len(held),
            n_rows_synthetic=len(synth), format=fmt,
            started_at=started.isoformat(timespec="seconds"),
            duration_seconds=round(time.perf_counter() - t0, 3)),
        fidelity=Section(**fidelity) if fidelity else Section(),
        privacy=Section(**privacy) if privacy else None,
        bias=BiasSection(**bias) if bias else None,
        notes=notes,
    ).to_json_dict()
    if mode == "augment":
        report["augment"] = {"n_rows_added": len(synth), "generation": generation}
    else:
        _balance_section(report, train, target, ratio, counts, plan, generation, comparison,
                         verdict, n_seeds)
    gate = _gate(report, schema, force)
    report["gate"] = gate
    export = gate["passed"] or force

    _start_outputs(out_dir, label, fmt, export)
    outputs: dict[str, str] = {}
    balanced_path: Path | None = None
    balanced = pd.concat([train.assign(**{INDICATOR: False}), synth.assign(**{INDICATOR: True})],
                         ignore_index=True)
    if not indicator:
        balanced = balanced.drop(columns=[INDICATOR])
    if export:
        balanced_path = write_table(balanced, out_dir / f"{label}.{fmt}", fmt=fmt)
        outputs[balanced_path.name] = sha256_file(balanced_path)
    _write_reports(out_dir, report, outputs)
    from synthdata.synthesizers.base import package_versions

    manifest = {
        "synthdata_version": __version__, "command": mode,
        "created_at": started.isoformat(timespec="seconds"),
        "input": {"table": report["run"]["table"],
                  "sha256": None if isinstance(table, pd.DataFrame) else sha256_file(
                      Path(table)), "n_rows": len(df)},
        "schema": schema.model_dump(mode="json"), "synthesizer": name,
        "params": model.params_, "seed": seed,
        "device": {"requested": device, "used": used_device}, "holdout_fraction": fraction,
        "force": force, "gate": gate, "exported": export, "timings_seconds": timings,
        "versions": package_versions(), "outputs": dict(sorted(outputs.items())),
    }
    from synthdata.io import sign_manifest

    manifest["signature"] = sign_manifest(manifest)  # lets `sample` trust this folder
    atomic_write_json(out_dir / "manifest.json", manifest)
    return RunResult(out_dir=out_dir, synthetic_path=balanced_path, report=report,
                     manifest=manifest, synth=balanced, exit_code=0 if export else 1)


def _balance_section(report: dict[str, Any], train: pd.DataFrame, target: str | None,
                     ratio: float | None, counts: dict[str, int] | None, plan: dict[str, int],
                     generation: dict[str, Any], comparison: list[dict[str, Any]],
                     verdict: str | None, n_seeds: int) -> None:
    from synthdata.schema import category_text

    assert target is not None
    have = train[target].dropna().map(category_text).value_counts()
    after = have.add(pd.Series(plan, dtype="int64"), fill_value=0)
    report["balance"] = {
        "target": target,
        "ratio": ratio if counts is None else None,
        "counts_requested": counts,
        "plan": plan,
        "class_counts_before": {str(k): int(v) for k, v in have.items()},
        "class_counts_after": {str(k): int(v) for k, v in after.items()},
        "ratio_after": float(after.min() / after.max()) if len(after) else None,
        "generation": generation,
        "comparison": comparison,
        "verdict": verdict,
        "n_seeds": n_seeds,
    }


def _where_value(schema: Schema, column: str, text: str) -> Any:
    """A --where value typed as the column's kind (checked against its categories)."""
    from synthdata.schema import category_text

    if column not in schema.modelled_columns:
        raise ParameterError(
            f"--where {column}=...: the model does not generate '{column}'; expected one of "
            f"{', '.join(schema.modelled_columns)}")
    spec = schema.columns[column]
    if spec.kind == ColumnKind.boolean:
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ParameterError(f"--where {column}={text}: expected true or false")
    if spec.kind in (ColumnKind.categorical, ColumnKind.ordinal):
        if spec.categories and text not in {category_text(c) for c in spec.categories}:
            raise ParameterError(
                f"--where {column}={text}: expected one of the column's categories "
                f"{', '.join(category_text(c) for c in spec.categories)}")
        return text
    raise ParameterError(f"--where {column}=...: conditions work on categorical, ordinal and "
                         f"boolean columns; '{column}' is {spec.kind.value}")


def sample_model(
    model_dir: str | Path,
    *,
    n_rows: int,
    out: str | Path,
    where: dict[str, str] | None = None,
    seed: int = 0,
    force: bool = False,
    trust: bool = False,
) -> RunResult:
    """Sample again from a model saved by :func:`run`, optionally conditioned on columns.

    Before anything is unpickled (unpickling runs code): the run's ``manifest.json`` must
    carry this user's signature (else ``trust=True`` is needed), every model file must match
    the sha256 the manifest recorded, and the run must have passed its gate (else
    ``force=True``; the result's ``exit_code`` is 1 and nothing is written).
    """
    from synthdata.errors import ModelFileError, UntrustedModelError
    from synthdata.io import atomic_write_json, manifest_is_ours, write_table
    from synthdata.pii import fill_pii
    from synthdata.schema import schema_from_dict
    from synthdata.synthesizers.base import Synthesizer

    model_dir = Path(model_dir)
    out = Path(out)
    _check_options("parquet", None, n_rows, None, seed)
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ParameterError(f"--out {out}: expected a file ending in .parquet or .csv")
    manifest_path = model_dir.parent / "manifest.json"
    if not manifest_path.is_file():
        raise ModelFileError(
            f"no manifest.json beside '{model_dir}': expected the model folder of a `synthdata "
            "run` output (DIR/model); without the manifest its files cannot be verified")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if not manifest_is_ours(manifest) and not trust:
        raise UntrustedModelError(
            f"'{manifest_path}' was not signed by synthdata for this user (a foreign folder, "
            "or one edited since): loading the model unpickles a file, which can run "
            "arbitrary code. Pass --trust only if you know where the folder came from.")
    recorded = {k[len("model/"):]: v for k, v in (manifest.get("outputs") or {}).items()
                if k.startswith("model/")}
    if not recorded:
        raise ModelFileError(f"'{manifest_path}' records no model files: that run exported no "
                             "model (its gate failed without --force)")
    present = {str(p.relative_to(model_dir)) for p in model_dir.rglob("*") if p.is_file()}
    bad = sorted(name for name in recorded.keys() | present
                 if name not in recorded or name not in present
                 or sha256_file(model_dir / name) != recorded[name])
    if bad:
        raise ModelFileError(
            f"model file(s) {', '.join(bad)} in '{model_dir}' do not match the sha256 recorded "
            "in manifest.json (changed, added or missing since the run); refusing to unpickle "
            "them. Re-run `synthdata run` to get a fresh model.")
    schema = schema_from_dict(manifest["schema"], source=str(manifest_path))
    conditions = {c: _where_value(schema, c, v) for c, v in (where or {}).items()}
    gate = manifest.get("gate") or {}
    if gate and not gate.get("passed") and not force:
        failed = ", ".join(f["check"] for f in gate.get("failures", []))
        logger.warning("the run of this model failed its gate (%s): pass --force to sample "
                       "anyway", failed)
        return RunResult(out_dir=out.parent, synthetic_path=None,
                         report={"gate": gate, "refused": True}, manifest=manifest,
                         synth=pd.DataFrame(), exit_code=1)
    model = Synthesizer.load(model_dir, trusted=True)
    rows = (model.sample_where(n_rows, conditions, seed=seed) if conditions
            else model.sample(n_rows, seed=seed))
    import secrets

    synth = fill_pii(rows, schema, seed=seed, key=secrets.token_bytes(32))
    path = write_table(synth, out, fmt=fmt, schema=schema)
    record = {"model": str(model_dir), "manifest_sha256": sha256_file(manifest_path),
              "rows": n_rows, "where": where or {}, "seed": seed, "forced": bool(
                  force and gate and not gate.get("passed")), "output": path.name,
              "output_sha256": sha256_file(path),
              "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    atomic_write_json(path.with_name(path.name + ".manifest.json"), record)
    return RunResult(out_dir=out.parent, synthetic_path=path, report={"gate": gate},
                     manifest=record, synth=synth, exit_code=0)
