"""``sample_model``: sample again from a saved run's model, optionally conditioned.

Steps: verify the run folder (signature, sha256 of every model file, the run's gate) ->
load the model -> generate (``sample`` or ``sample_where``) -> PII re-filled -> write the
table and its manifest.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from synthdata.errors import ParameterError
from synthdata.io import sha256_file
from synthdata.pipeline import steps
from synthdata.pipeline.steps import FORMATS, RunResult
from synthdata.schema import ColumnKind, Schema
from synthdata.validation import check_count, check_path, check_seed

logger = logging.getLogger(__name__)


def _where_value(schema: Schema, column: str, text: str) -> Any:
    """A ``where`` value typed as the column's kind (checked against its categories)."""
    from synthdata.schema import category_text

    if column not in schema.modelled_columns:
        raise ParameterError(
            f"where {column}=...: the model does not generate '{column}'; expected one of "
            f"{', '.join(schema.modelled_columns)}", param="where")
    spec = schema.columns[column]
    if spec.kind == ColumnKind.boolean:
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ParameterError(f"where {column}={text}: expected true or false",
                             param="where")
    if spec.kind in (ColumnKind.categorical, ColumnKind.ordinal):
        if spec.categories and text not in {category_text(c) for c in spec.categories}:
            raise ParameterError(
                f"where {column}={text}: expected one of the column's categories "
                f"{', '.join(category_text(c) for c in spec.categories)}", param="where")
        return text
    raise ParameterError(f"where {column}=...: conditions work on categorical, ordinal and "
                         f"boolean columns; '{column}' is {spec.kind.value}", param="where")


def _read_manifest(path: Path) -> dict[str, Any]:
    """A run's ``manifest.json`` as a JSON object, or :class:`ModelFileError` saying why not."""
    from synthdata.errors import ModelFileError

    fix = "re-run `synthdata run` to get a fresh model folder"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ModelFileError(f"'{path}' is not UTF-8 text; expected the JSON manifest written by "
                             f"`synthdata run`: {fix}") from None
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"'{path}' is not valid JSON ({exc.msg} at line {exc.lineno}, "
                             f"column {exc.colno}; truncated or edited?); expected the manifest "
                             f"written by `synthdata run`: {fix}") from None
    if not isinstance(manifest, dict):
        raise ModelFileError(f"'{path}' holds a JSON {type(manifest).__name__}; expected the "
                             f"JSON object written by `synthdata run`: {fix}")
    for key, kind in (("schema", dict), ("outputs", dict), ("gate", dict)):
        if not isinstance(manifest.get(key), kind):
            raise ModelFileError(f"'{path}' has no '{key}' object; expected the manifest "
                                 f"written by `synthdata run`: {fix}")
    return manifest


# rows per Parquet part of a folder sample: a part is one task, made and written by one worker
PART_ROWS = 1_000_000


def sample_model(
    model_dir: str | Path,
    *,
    n_rows: int,
    out: str | Path,
    where: dict[str, str] | None = None,
    seed: int = 0,
    force: bool = False,
    trust: bool = False,
    engine: str = "local",
    ray_address: str | None = None,
    workers: int | None = None,
    part_rows: int = PART_ROWS,
) -> RunResult:
    """Sample again from a model saved by :func:`run`, optionally conditioned on columns.

    ``out`` is a file (``.parquet`` or ``.csv``), or a folder (a path without an extension,
    or ending in ``/``) that receives Parquet parts ``part-00000.parquet``, ... of
    ``part_rows`` rows each plus ``_manifest.json`` (readers of Parquet datasets skip ``_``
    files). Part ``i`` is sampled with the seed derived from (``seed``, ``i``) and its keys
    are numbered from its first row, so the parts are the same whichever ``engine``
    (``local`` | ``ray``) and however many ``workers`` made them; the folder appears whole,
    or not at all.

    Before anything is unpickled (unpickling runs code): the run's ``manifest.json`` must
    carry this user's signature (else ``trust=True`` is needed), every model file must match
    the sha256 the manifest recorded, and the run must have passed its gate (else
    ``force=True``; the result's ``exit_code`` is 1 and nothing is written).
    """
    from synthdata.errors import ModelFileError, UntrustedModelError
    from synthdata.execution import check_engine
    from synthdata.io import atomic_write_json, check_inputs_kept, manifest_is_ours, write_table
    from synthdata.schema import schema_from_dict
    from synthdata.synthesizers.base import Synthesizer

    model_dir = check_path("model_dir", model_dir)
    folder_given = isinstance(out, str) and out.endswith(("/", os.sep))  # "rows.v2/"
    out = check_path("out", out)
    check_count("n_rows", n_rows)
    check_seed(seed)
    check_count("part_rows", part_rows)
    check_engine(engine, address=ray_address, workers=workers)
    fmt = out.suffix.lstrip(".").lower()
    parts = folder_given or not fmt
    if parts:
        writes = [out]
        if out.exists() and not out.is_dir():
            raise ParameterError(f"out '{out}' is a file; expected a folder for the Parquet "
                                 "parts (or a file name ending in .parquet or .csv)",
                                 param="out")
        if out.is_dir() and any(out.iterdir()) and not (out / PARTS_MANIFEST).is_file():
            raise ParameterError(
                f"out '{out}' is a folder holding other files; expected a new or empty folder "
                f"(or one a previous `synthdata sample` wrote, which is replaced): choose "
                "another folder", param="out")
        steps.check_out_dir(out, param="out")
    else:
        if engine != "local" or workers is not None:
            raise ParameterError(
                f"out '{out}' is one file, which one process writes; expected a folder (a path "
                f"without an extension) for engine '{engine}' or several workers to write "
                "Parquet parts in: e.g. --out rows/", param="out")
        if fmt not in FORMATS:
            raise ParameterError(f"out '{out}': expected a file ending in .parquet or .csv, "
                                 "or a folder (a path without an extension) for Parquet parts",
                                 param="out")
        if out.is_dir():
            raise ParameterError(f"out '{out}' is a folder; expected a file path ending in "
                                 f".{fmt}: choose another name, e.g. "
                                 f"'{out / ('rows.' + fmt)}'", param="out")
        steps.check_out_dir(out.parent, param="out")
        writes = [out, out.with_name(out.name + ".manifest.json")]
    check_inputs_kept({"model folder": model_dir, "manifest": model_dir.parent / "manifest.json"},
                      writes=writes, replaces=(out,) if parts else (), param="out")
    manifest_path = model_dir.parent / "manifest.json"
    if not manifest_path.is_file():
        raise ModelFileError(
            f"no manifest.json beside '{model_dir}': expected the model folder of a `synthdata "
            "run` output (DIR/model); without the manifest its files cannot be verified")
    manifest = _read_manifest(manifest_path)
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
    schema = schema_from_dict(manifest["schema"], source=str(manifest_path),
                              check_synthesizer=False)
    conditions = {c: _where_value(schema, c, v) for c, v in (where or {}).items()}
    steps.check_room(pd.DataFrame(columns=schema.modelled_columns),
                     min(n_rows, part_rows) if parts else n_rows, param="n_rows")
    gate = manifest.get("gate") or {}
    if gate and not gate.get("passed") and not force:
        failed = ", ".join(str(f.get("check")) for f in gate.get("failures") or []
                           if isinstance(f, dict))
        logger.warning("the run of this model failed its gate (%s): pass --force to sample "
                       "anyway", failed)
        return RunResult(out_dir=out if parts else out.parent, synthetic_path=None,
                         report={"gate": gate, "refused": True}, manifest=manifest,
                         synth=pd.DataFrame(), exit_code=1)
    record = {"model": str(model_dir), "manifest_sha256": sha256_file(manifest_path),
              "rows": n_rows, "where": where or {}, "seed": seed, "forced": bool(
                  force and gate and not gate.get("passed"))}
    if parts:
        return _sample_parts(model_dir, recorded, schema, record, conditions, gate, out=out,
                             engine=engine, ray_address=ray_address, workers=workers,
                             part_rows=part_rows)
    model = Synthesizer.load(model_dir, trusted=True)
    rows = (model.sample_where(n_rows, conditions, seed=seed) if conditions
            else model.sample(n_rows, seed=seed))
    synth = steps.with_pii(rows, schema, seed)
    path = write_table(synth, out, fmt=fmt, schema=schema)
    record.update({"output": path.name, "output_sha256": sha256_file(path),
                   "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    atomic_write_json(path.with_name(path.name + ".manifest.json"), record)
    return RunResult(out_dir=out.parent, synthetic_path=path, report={"gate": gate},
                     manifest=record, synth=synth, exit_code=0)


PARTS_MANIFEST = "_manifest.json"


def parts_record(output: str, part_rows: int, written: list[dict[str, Any]],
                 execution: dict[str, Any], seconds: float, rows: int) -> dict[str, Any]:
    """What ``_manifest.json`` of a parts folder says beside the request: every part (file,
    rows, seed, sha256), the engine, its seconds and rows/s, the workers' peak memory."""
    return {"output": output, "part_rows": part_rows,
            "parts": [{k: v for k, v in w.items() if k != "worker_peak_rss_bytes"}
                      for w in written],
            "execution": {**execution, "seconds": round(seconds, 3),
                          "rows_per_second": round(rows / seconds, 1),
                          "worker_peak_rss_bytes": max(w["worker_peak_rss_bytes"]
                                                       for w in written)},
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def part_plan(n_rows: int, part_rows: int) -> list[tuple[int, int, int]]:
    """(index, first row, rows) of each part: a function of the row counts alone."""
    return [(i, begin, min(part_rows, n_rows - begin))
            for i, begin in enumerate(range(0, n_rows, part_rows))]


def number_keys(rows: pd.DataFrame, schema: Schema, *, start: int, total: int) -> pd.DataFrame:
    """Id columns numbered ``start + 1``, ... (numeric) or ``synthetic-<number>`` (text, zero
    padded to ``total``'s width), so the keys of all parts of one sample are unique."""
    import numpy as np

    width = max(6, len(str(total)))
    for column in schema.columns_of(ColumnKind.id):
        if column not in rows.columns:
            continue
        numbers = np.arange(start + 1, start + len(rows) + 1)
        if pd.api.types.is_numeric_dtype(rows[column]) and \
                not pd.api.types.is_bool_dtype(rows[column]):
            rows[column] = pd.array(numbers, dtype="Int64")
        else:
            rows[column] = pd.Series([f"synthetic-{i:0{width}d}" for i in numbers],
                                     index=rows.index, dtype=object)
    return rows


# per worker process: (folder, device, file digests) -> the loaded model
_LOADED: dict[tuple[str, str, tuple[tuple[str, str], ...]], Any] = {}


def _worker_model(job: dict[str, Any]) -> Any:
    """The job's model, loaded once per worker process after its files are checked again
    against the sha256 the driver verified (the folder is read where the worker runs)."""
    from synthdata.errors import ModelFileError
    from synthdata.synthesizers.base import Synthesizer

    folder, device = job["model_dir"], job["device"]
    key = (folder, device, tuple(sorted(job["model_files"].items())))
    if key not in _LOADED:
        for name, digest in job["model_files"].items():
            if sha256_file(Path(folder) / name) != digest:
                raise ModelFileError(f"model file '{name}' in '{folder}' changed while "
                                     "sampling; nothing was written: sample again")
        _LOADED.clear()
        _LOADED[key] = Synthesizer.load(folder, trusted=True, device=device)
    return _LOADED[key]


def _write_part(part: tuple[int, int, int], job: dict[str, Any]) -> dict[str, Any]:
    """One part: sampled with the seed of (seed, index), keys numbered, PII re-filled, written
    atomically into the job's staging folder. Runs on a worker (any engine)."""
    import resource

    from synthdata.io import write_table
    from synthdata.validation import derived_seed

    index, start, size = part
    model, schema = _worker_model(job), job["schema"]
    part_seed = derived_seed(job["seed"], index)
    rows = (model.sample_where(size, job["conditions"], seed=part_seed) if job["conditions"]
            else model.sample(size, seed=part_seed))
    rows = number_keys(rows, schema, start=start, total=job["total"])
    synth = steps.with_pii(rows, schema, part_seed, key=job["key"], first_row=start)
    path = write_table(synth, Path(job["folder"]) / f"part-{index:05d}.parquet",
                       fmt="parquet", schema=schema)
    # peak RSS of this worker process so far (Linux: KiB)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"file": path.name, "rows": len(synth), "seed": part_seed,
            "sha256": sha256_file(path), "worker_peak_rss_bytes": peak}


def _sample_parts(model_dir: Path, model_files: dict[str, str], schema: Schema,
                  record: dict[str, Any], conditions: dict[str, Any], gate: dict[str, Any], *,
                  out: Path, engine: str,
                  ray_address: str | None, workers: int | None, part_rows: int) -> RunResult:
    """The folder sample: the parts made by ``engine``, the folder swapped in when whole."""
    import secrets
    import time

    from synthdata.execution import get_engine
    from synthdata.io import atomic_dir, atomic_write_json

    started = time.perf_counter()
    with get_engine(engine, address=ray_address, workers=workers) as runner:
        device = runner.task_device("auto")
        plan = part_plan(record["rows"], part_rows)
        logger.info("sampling %d rows in %d parts on the %s engine (%d workers)",
                    record["rows"], len(plan), runner.name, runner.workers)
        with atomic_dir(out) as folder:
            job = {"model_dir": str(model_dir.resolve()), "model_files": model_files,
                   "device": device, "schema": schema, "conditions": conditions,
                   "key": secrets.token_bytes(32),
                   "seed": record["seed"], "total": record["rows"], "folder": str(folder)}
            written = []
            for info in runner.map(_write_part, plan, shared=job):
                written.append(info)
                logger.info("wrote %s (%d of %d parts)", info["file"], len(written), len(plan))
            seconds = time.perf_counter() - started
            record.update(parts_record(out.name, part_rows, written, runner.describe(),
                                       seconds, record["rows"]))
            atomic_write_json(folder / PARTS_MANIFEST, record)
    _LOADED.clear()  # the local engine loaded it in this process
    return RunResult(out_dir=out, synthetic_path=out, report={"gate": gate}, manifest=record,
                     synth=pd.DataFrame(columns=schema.modelled_columns), exit_code=0)
