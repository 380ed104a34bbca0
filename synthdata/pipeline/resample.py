"""``sample_model``: sample again from a saved run's model, optionally conditioned.

Steps: verify the run folder (signature, sha256 of every model file, the run's gate) ->
load the model -> generate (``sample`` or ``sample_where``) -> PII re-filled -> write the
table and its manifest.
"""

from __future__ import annotations

import json
import logging
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
    from synthdata.io import atomic_write_json, check_inputs_kept, manifest_is_ours, write_table
    from synthdata.schema import schema_from_dict
    from synthdata.synthesizers.base import Synthesizer

    model_dir = check_path("model_dir", model_dir)
    out = check_path("out", out)
    check_count("n_rows", n_rows)
    check_seed(seed)
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ParameterError(f"out '{out}': expected a file ending in .parquet or .csv",
                             param="out")
    if out.is_dir():
        raise ParameterError(f"out '{out}' is a folder; expected a file path ending in "
                             f".{fmt}: choose another name, e.g. '{out / ('rows.' + fmt)}'",
                             param="out")
    steps.check_out_dir(out.parent, param="out")
    check_inputs_kept({"model folder": model_dir, "manifest": model_dir.parent / "manifest.json"},
                      writes=[out, out.with_name(out.name + ".manifest.json")], param="out")
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
    steps.check_room(pd.DataFrame(columns=schema.modelled_columns), n_rows, param="n_rows")
    gate = manifest.get("gate") or {}
    if gate and not gate.get("passed") and not force:
        failed = ", ".join(str(f.get("check")) for f in gate.get("failures") or []
                           if isinstance(f, dict))
        logger.warning("the run of this model failed its gate (%s): pass --force to sample "
                       "anyway", failed)
        return RunResult(out_dir=out.parent, synthetic_path=None,
                         report={"gate": gate, "refused": True}, manifest=manifest,
                         synth=pd.DataFrame(), exit_code=1)
    model = Synthesizer.load(model_dir, trusted=True)
    rows = (model.sample_where(n_rows, conditions, seed=seed) if conditions
            else model.sample(n_rows, seed=seed))
    synth = steps.with_pii(rows, schema, seed)
    path = write_table(synth, out, fmt=fmt, schema=schema)
    record = {"model": str(model_dir), "manifest_sha256": sha256_file(manifest_path),
              "rows": n_rows, "where": where or {}, "seed": seed, "forced": bool(
                  force and gate and not gate.get("passed")), "output": path.name,
              "output_sha256": sha256_file(path),
              "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    atomic_write_json(path.with_name(path.name + ".manifest.json"), record)
    return RunResult(out_dir=out.parent, synthetic_path=path, report={"gate": gate},
                     manifest=record, synth=synth, exit_code=0)
