"""The pipeline's steps, written once: prepare -> fit -> generate -> score -> gate -> write.

``run``, ``balance``, ``augment`` (``pipeline/synthesize.py``), ``evaluate``
(``pipeline/scoring.py``) and ``sample_model`` (``pipeline/resample.py``) are short
compositions of these. Every check
on the user's input (:func:`plan`) happens before the first expensive step and before
anything is written; the report stays a typed :class:`~synthdata.report.Report` until
:func:`write_outputs` writes it.
"""

from __future__ import annotations

import logging
import math
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

from synthdata.errors import ParameterError
from synthdata.io import sha256_file
from synthdata.schema import RESERVED_PARAMS, ColumnKind, Schema, load_schema
from synthdata.validation import (
    check_choice,
    check_count,
    check_fraction,
    check_path,
    check_seed,
)

logger = logging.getLogger(__name__)

FORMATS = ("parquet", "csv")


@dataclass
class RunResult:
    """What an entry point produced. ``exit_code``: 0 exported, 1 gate failed.

    ``report`` is the JSON written to ``report.json``; ``report_model`` the typed report.
    """

    out_dir: Path
    synthetic_path: Path | None
    report: dict[str, Any]
    manifest: dict[str, Any]
    synth: pd.DataFrame = field(repr=False)
    exit_code: int = 0
    report_model: Any = field(default=None, repr=False)


class Timer:
    """Seconds per step, recorded in ``manifest.json`` (``timings_seconds``)."""

    def __init__(self) -> None:
        self.started = datetime.now(timezone.utc)
        self.t0 = self.last = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = round(now - self.last, 3)
        self.last = now

    @property
    def total(self) -> float:
        return round(time.perf_counter() - self.t0, 3)


# ---- prepare: every check before any expensive work ---------------------------------------
@dataclass
class Plan:
    """A checked request: the schema, the unfitted synthesizer and the options."""

    command: str
    schema: Schema
    out_dir: Path | None
    seed: int
    fmt: str = "parquet"
    fraction: float = 0.2
    force: bool = False
    device: str = "auto"
    model: Any = None  # the unfitted Synthesizer (None for evaluate)
    notes: list[str] = field(default_factory=list)
    timer: Timer = field(default_factory=Timer)


def check_out_dir(out_dir: Path, *, param: str = "out_dir") -> None:
    """The output folder can be created and written, checked without writing anything."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"{param} '{out_dir}' is a file; expected a folder: choose another "
                             "path", param=param)
    parent = out_dir
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ParameterError(f"{param} '{out_dir}' cannot be created because '{parent}' is a "
                             "file; choose another path", param=param)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ParameterError(f"{param} '{out_dir}': no permission to write in '{parent}'; "
                             "choose another path", param=param)


# the file stem of each command's export (beside report.json, report.html, manifest.json)
EXPORT_STEMS = {"run": "synthetic", "balance": "balanced", "augment": "augmented"}


def check_outputs(command: str, out_dir: Path, inputs: dict[str, Any]) -> None:
    """Nothing ``command`` writes into ``out_dir`` (or removes there as stale) is an input."""
    from synthdata.io import check_inputs_kept

    names = ["report.json", "report.html"]
    if command in EXPORT_STEMS:
        names += ["manifest.json", *(f"{EXPORT_STEMS[command]}.{f}" for f in FORMATS)]
    replaces = (out_dir / "model",) if command == "run" else ()
    check_inputs_kept(inputs, writes=[out_dir / n for n in names], replaces=replaces,
                      param="out_dir")


def make_synthesizer(schema: Schema, *, name: str | None, epochs: int | None,
                     batch_size: int | None, params: dict[str, Any] | None, device: str,
                     seed: int) -> tuple[Any, list[str]]:
    """The unfitted synthesizer, its parameters checked, and notes on what was ignored.

    ``epochs``/``batch_size`` come from the call, else the schema's ``synthesizer`` fields,
    else its ``params``; a synthesizer that does not train in epochs ignores them (noted).
    """
    from synthdata.synthesizers import get_synthesizer
    from synthdata.synthesizers.registry import backend_class

    name = name or schema.synthesizer.name
    backend = backend_class(name)
    epsilon = (params or {}).get("epsilon")
    if epsilon is not None and (isinstance(epsilon, bool) or not isinstance(
            epsilon, int | float) or not math.isfinite(epsilon) or epsilon <= 0):
        raise ParameterError(
            f"epsilon is the privacy budget and must be a positive number (smaller is more "
            f"private; 1.0 is strong, 10 is MOSTLY AI's default); got {epsilon!r}",
            param="epsilon")
    if "epsilon" in (params or {}) and "epsilon" not in backend.Params.model_fields:
        from synthdata.synthesizers.registry import private_names

        raise ParameterError(
            f"{name} is not differentially private: it takes no epsilon. Use --synthesizer "
            f"{' or '.join(private_names())} with --epsilon, or drop --epsilon",
            param="epsilon")
    merged = {**schema.synthesizer.params, **(params or {})}
    reserved = [k for k in RESERVED_PARAMS if k in merged]
    if reserved:
        raise ParameterError(
            f"synthesizer.params must not set {', '.join(map(repr, reserved))}; pass them to "
            "run (CLI: --seed, --device) instead", param="params")
    notes = []
    given = {"epochs": (epochs, schema.synthesizer.epochs, merged.pop("epochs", None)),
             "batch_size": (batch_size, schema.synthesizer.batch_size,
                            merged.pop("batch_size", None))}
    chosen = {k: next((v for v in values if v is not None), None) for k, values in given.items()}
    chosen = {k: v for k, v in chosen.items() if v is not None}
    if chosen and not backend.trains_in_epochs():
        notes.append(f"{'/'.join(chosen)} ignored: {name} does not train in epochs")
        chosen = {}
    model = get_synthesizer(name, schema, device=device, seed=seed, **chosen, **merged)
    return model, notes


def plan(command: str, schema: str | Path | Schema, *, out_dir: str | Path | None,
         seed: int, fmt: str = "parquet", holdout: float | None = None, force: bool = False,
         n_rows: int | None = None, synthesizer: str | None = None, epochs: int | None = None,
         batch_size: int | None = None, device: str = "auto",
         params: dict[str, Any] | None = None, fit: bool = True,
         inputs: dict[str, Any] | None = None) -> Plan:
    """Check the options, load the schema, build the synthesizer, check the output folder.

    ``inputs``: label -> the tables, schema or model the user gave; no output may overwrite
    or remove one of them.
    """
    timer = Timer()
    if out_dir is not None:
        out_dir = check_path("out_dir", out_dir)
    check_choice("format", fmt, FORMATS)
    if holdout is not None:
        check_fraction("holdout", holdout)
    check_seed(seed)
    for key, value in (("n_rows", n_rows), ("epochs", epochs), ("batch_size", batch_size)):
        if value is not None:
            check_count(key, value)
    schema_path = schema
    if not isinstance(schema, Schema):
        schema = load_schema(schema)
    model, notes = (make_synthesizer(schema, name=synthesizer, epochs=epochs,
                                     batch_size=batch_size, params=params, device=device,
                                     seed=seed) if fit else (None, []))
    if model is not None and model.uses_torch:
        from synthdata.synthesizers import resolve_device

        resolve_device(device)  # a missing CUDA is bad input: say so before reading the table
    if out_dir is not None:
        check_out_dir(out_dir)
        check_outputs(command, out_dir, {"schema": schema_path, **(inputs or {})})
    return Plan(command=command, schema=schema, out_dir=out_dir, seed=seed, fmt=fmt,
                fraction=schema.split.holdout if holdout is None else float(holdout),
                force=force, device=device, model=model, notes=notes, timer=timer)


@dataclass
class Data:
    """The input table, read and typed, and its seeded split (modelled columns only)."""

    label: str
    sha256: str | None
    n_rows: int
    train: pd.DataFrame
    holdout: pd.DataFrame


def prepare(table: str | Path | pd.DataFrame, p: Plan) -> Data:
    """Read and type the table, then split off the holdout (PII never reaches a model)."""
    from synthdata.io import read_table
    from synthdata.split import split

    df = read_table(table, p.schema, holdout=p.fraction)
    p.timer.lap("read_and_validate")
    train, held = split(df[p.schema.modelled_columns], p.schema, holdout=p.fraction,
                        seed=p.seed)
    p.timer.lap("split")
    logger.info("split %d rows: %d train, %d holdout", len(df), len(train), len(held))
    return Data(label=table_label(table), n_rows=len(df), train=train, holdout=held,
                sha256=None if isinstance(table, pd.DataFrame) else sha256_file(Path(table)))


def table_label(table: Any) -> str:
    return "DataFrame" if isinstance(table, pd.DataFrame) else str(table)


# rows in flight at once: the sample, the synthesizer's working copies, PII, scoring, export
MEMORY_FACTOR = 4


def available_memory() -> int | None:
    """Bytes this machine can still hand out (MemAvailable), or its RAM, or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def check_room(train: pd.DataFrame, n_rows: int, *, param: str) -> None:
    """Refuse, before fitting, a number of rows this machine cannot hold in memory.

    A synthetic row takes about as many bytes as a train row (at least 8 per column), and the
    pipeline holds about :data:`MEMORY_FACTOR` copies of the sample at its peak.
    """
    free = available_memory()
    if free is None or not n_rows:
        return
    width = len(train.columns) or 1
    floor = (8.0 if len(train) else 64.0) * width  # no rows to measure: assume short text
    used = float(train.memory_usage(index=False, deep=True).sum()) / max(len(train), 1)
    per_row = max(floor, used)
    most = int(free / (per_row * MEMORY_FACTOR))
    if n_rows > most:
        need = n_rows * per_row * MEMORY_FACTOR / 2**30
        raise ParameterError(
            f"{n_rows:,} synthetic rows ({param}) need about {need:,.1f} GiB of memory "
            f"({per_row:,.0f} bytes per row, {MEMORY_FACTOR} copies at the "
            f"peak); this machine has {free / 2**30:,.1f} GiB available, enough for about "
            f"{most:,} rows: ask for at most that many (for more, sample a saved model in "
            "several parts with `synthdata sample`)", param=param)


# ---- fit, generate ----------------------------------------------------------------------------
def fit(p: Plan, data: Data, *, progress: bool) -> None:
    logger.info("fitting %s on %d rows", p.model.name, len(data.train))
    p.model.fit(data.train, progress=progress)
    p.timer.lap("fit")


def generate(p: Plan, n_rows: int) -> pd.DataFrame:
    """``n_rows`` unconditional rows (modelled columns)."""
    logger.info("sampling %d rows", n_rows)
    synth = p.model.sample(n_rows, seed=p.seed)
    p.timer.lap("sample")
    logger.info("sampled %d rows", len(synth))
    return synth


def with_pii(synth: pd.DataFrame, schema: Schema, seed: int, *, key: bytes | None = None,
             first_row: int = 0) -> pd.DataFrame:
    """PII columns re-filled with fake (or hashed) values: real PII never reaches an output.

    ``key`` (default: fresh random bytes) keys the ``hash`` tokens; the parts of one sample
    share one key and pass their ``first_row``, so their tokens are unique across parts."""
    from synthdata.pii import fill_pii

    return fill_pii(synth, schema, seed=seed, key=key or secrets.token_bytes(32),
                    first_row=first_row)


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


# ---- score, report, gate --------------------------------------------------------------------
@dataclass
class Scores:
    fidelity: Any
    privacy: Any
    bias: Any
    notes: list[str]


def score(train: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame, schema: Schema, *,
          seed: int, timer: Timer | None = None, engine: Any = None) -> Scores:
    """Fidelity, privacy and bias of ``synth`` (modelled columns) against train and holdout;
    the privacy section's nearest-neighbour searches run on ``engine`` (default: here)."""
    from synthdata.metrics._base import row
    from synthdata.metrics.bias import evaluate_bias
    from synthdata.metrics.fidelity import evaluate_fidelity
    from synthdata.metrics.privacy import evaluate_privacy
    from synthdata.report import BiasSection, PrivacySection, Section

    sections: dict[str, Any] = {}
    notes: list[str] = []
    for name, evaluate in (("fidelity", evaluate_fidelity), ("privacy", evaluate_privacy),
                           ("bias", evaluate_bias)):
        logger.info("scoring %s", name)
        try:  # each metric records its own failure; this catches a whole section failing
            extra = {"engine": engine} if name == "privacy" else {}
            sections[name] = evaluate(train, synth, holdout, schema, seed=seed, **extra)
        except Exception as exc:  # the report still says what failed (and the gate fails
            # a privacy section it cannot see)
            logger.warning("%s scoring failed: %s", name, exc)
            error = f"{type(exc).__name__}: {exc}"
            sections[name] = {"details": [row([], name, None, error)], "error": error}
            notes.append(f"{name} could not be scored ({type(exc).__name__}: {exc}); see "
                         f"{name}.details")
        notes.extend(sections[name].pop("notes", []))
        if timer is not None:
            timer.lap(f"score_{name}")
    return Scores(fidelity=Section(**sections["fidelity"]),
                  privacy=PrivacySection(**sections["privacy"]),
                  bias=BiasSection(**sections["bias"]), notes=notes)


def report(p: Plan, *, scores: Scores | None, table: str, n_rows_input: int | None,
           n_rows_train: int, n_rows_holdout: int, n_rows_synthetic: int,
           notes: list[str], execution: dict[str, Any] | None = None,
           **sections: Any) -> Any:
    """The typed report of a command (``sections``: ``pii``, ``balance``, ``augment``)."""
    from synthdata import __version__
    from synthdata.report import PrivacySection, Report, RunInfo, Section

    model = p.model
    privacy = scores.privacy if scores is not None else None
    guarantee = model.privacy_guarantee() if model is not None else None
    if guarantee is not None:
        privacy = privacy or PrivacySection()
        privacy.dp = guarantee
    info = RunInfo(
        command=p.command, table=table, schema_name=p.schema.name,
        synthesizer=model.name if model is not None else None,
        params=model.params_ if model is not None else {}, seed=p.seed,
        device=model.device_ if model is not None else None,
        holdout_fraction=p.fraction if model is not None else None,
        n_rows_input=n_rows_input, n_rows_train=n_rows_train, n_rows_holdout=n_rows_holdout,
        n_rows_synthetic=n_rows_synthetic, format=p.fmt if model is not None else None,
        started_at=p.timer.started.isoformat(timespec="seconds"),
        duration_seconds=p.timer.total,
        **({"execution": execution} if execution is not None else {}))
    return Report(
        synthdata_version=__version__, run=info,
        fidelity=scores.fidelity if scores is not None else Section(),
        privacy=privacy, bias=scores.bias if scores is not None else None,
        model=model.summary() if model is not None else {},
        notes=[*p.notes, *notes, *(scores.notes if scores is not None else [])], **sections)


def gate(rep: Any, p: Plan) -> bool:
    """Check the gate (recording any --force override) into ``rep``; True when exporting."""
    import getpass

    from synthdata.gate import check_gate

    result = check_gate(rep, p.schema.gate)
    if p.force and not result.passed:
        try:
            who = getpass.getuser()
        except (KeyError, OSError):  # no user name in this environment
            who = f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
        result.forced = True
        result.override = {
            "by": who,
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "reason": "--force: exported although the gate failed",
            "failures": [f.check for f in result.failures],
        }
        logger.warning("gate failed but --force given: exporting; override recorded")
    rep.gate = result
    return result.passed or p.force


# ---- write ----------------------------------------------------------------------------------
def write_outputs(p: Plan, rep: Any, *, export: bool, stem: str, table: pd.DataFrame | None,
                  data: Data, schema_for_csv: Schema | None = None,
                  save_model: bool = False, written: Path | None = None
                  ) -> tuple[dict[str, Any], Path | None]:
    """Write the export (if ``export``), the model (if ``save_model``), the reports and, last,
    the signed manifest. Returns (manifest, path of the export or None).

    ``written``: an export already in place (a folder of Parquet parts named ``stem``, with
    its ``_manifest.json``); the manifest records that file's sha256 instead of a table's."""
    from synthdata import __version__
    from synthdata.io import atomic_write_json, sign_manifest, write_table
    from synthdata.synthesizers.base import package_versions

    out_dir = p.out_dir
    assert out_dir is not None
    # manifest.json is written last and removed first: a folder without it holds an
    # incomplete set (each file in it is still whole: every write is temp file + rename)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "manifest.json").unlink(missing_ok=True)
    for other in FORMATS:
        stale = out_dir / f"{stem}.{other}"
        if (other != p.fmt or not export or written is not None) and stale.exists():
            stale.unlink()  # a previous run's export would not match this report
    parts = out_dir / stem
    if written is None and (parts / "_manifest.json").is_file():
        shutil.rmtree(parts)  # a previous run's parts (of a dataset folder)
    outputs: dict[str, str] = {}
    path: Path | None = None
    if export and save_model:
        model_dir = p.model.save(out_dir / "model")
        outputs.update({f"model/{q.relative_to(model_dir)}": sha256_file(q)
                        for q in sorted(model_dir.rglob("*")) if q.is_file()})
    elif save_model and (out_dir / "model").exists():
        shutil.rmtree(out_dir / "model")  # a previous run's model: not this report's
    if export and written is not None:
        path = written
        outputs[f"{written.name}/_manifest.json"] = sha256_file(written / "_manifest.json")
    elif export:
        assert table is not None
        path = write_table(table, out_dir / f"{stem}.{p.fmt}", fmt=p.fmt, schema=schema_for_csv)
        outputs[path.name] = sha256_file(path)
    write_reports(out_dir, rep, outputs)
    p.timer.lap("write_outputs")
    manifest = {
        "synthdata_version": __version__,
        "command": p.command,
        "created_at": p.timer.started.isoformat(timespec="seconds"),
        "input": {"table": data.label, "sha256": data.sha256, "n_rows": data.n_rows},
        "schema": p.schema.model_dump(mode="json"),
        "synthesizer": p.model.name,
        "params": p.model.params_,
        "differential_privacy": p.model.privacy_guarantee(),
        "seed": p.seed,
        "device": {"requested": p.device, "used": p.model.device_},
        "holdout_fraction": p.fraction,
        "force": p.force,
        "gate": rep.gate.model_dump(mode="json"),
        "exported": export,
        "timings_seconds": p.timer.seconds,
        "versions": package_versions(),
        "outputs": dict(sorted(outputs.items())),
    }
    manifest["signature"] = sign_manifest(manifest)  # lets `sample` trust this folder
    atomic_write_json(out_dir / "manifest.json", manifest)
    if export:
        logger.info("wrote %s", out_dir)
    else:
        logger.warning("gate failed: nothing exported to %s (the reports are there)", out_dir)
    return manifest, path


def write_reports(out_dir: Path, rep: Any, outputs: dict[str, str] | None = None) -> None:
    """``report.json`` and ``report.html`` (recorded in ``outputs`` when given)."""
    from synthdata.io import atomic_write_json, atomic_write_text
    from synthdata.report import render_html

    data = rep.to_json_dict()
    atomic_write_json(out_dir / "report.json", data)
    atomic_write_text(out_dir / "report.html", render_html(data))
    if outputs is not None:
        for written in ("report.json", "report.html"):
            outputs[written] = sha256_file(out_dir / written)


def result(p: Plan, rep: Any, manifest: dict[str, Any], path: Path | None,
           table: pd.DataFrame, export: bool) -> RunResult:
    assert p.out_dir is not None
    return RunResult(out_dir=p.out_dir, synthetic_path=path, report=rep.to_json_dict(),
                     manifest=manifest, synth=table, exit_code=0 if export else 1,
                     report_model=rep)
