"""``run`` on a Parquet dataset folder: the table is streamed, never held whole.

plan -> open the folder (footers only) and scan it (every value checked, the split by a hash
of the row number, uniform samples) -> ``fit_stream`` (a synthesizer that streams reads every
training row; the others fit on the training sample) -> the export sampled in Parquet parts
(``synthetic/part-*.parquet``, by the engine) into a staging folder -> the first
:data:`~synthdata.dataset.SCORE_ROWS` rows of the export scored against the train and holdout
samples -> report -> gate -> the parts folder swapped in (or dropped when the gate fails)
-> model, reports, signed manifest. The report's ``run.dataset`` states the rows read, the
split and the sizes of every sample.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd

from synthdata.errors import ParameterError
from synthdata.pipeline import steps
from synthdata.pipeline.steps import RunResult

logger = logging.getLogger(__name__)

EXPORT = "synthetic"  # the parts folder inside --out


class _GateFailed(Exception):
    """Raised inside the staging block so that the staged parts are dropped."""


def run_dataset(folder: str | Path, schema: Any, *, out_dir: str | Path,
                synthesizer: str | None, n_rows: int | None, epochs: int | None,
                batch_size: int | None, device: str, seed: int, holdout: float | None,
                fmt: str, force: bool, params: dict[str, Any] | None, progress: bool,
                engine: str, ray_address: str | None, workers: int | None,
                part_rows: int | None = None) -> RunResult:
    """:func:`synthdata.pipeline.run` for a folder of Parquet files (see the module doc)."""
    from synthdata.dataset import SCORE_ROWS, open_dataset
    from synthdata.execution import check_engine, get_engine
    from synthdata.io import atomic_dir, atomic_write_json, check_inputs_kept, sha256_file
    from synthdata.pii import pii_report
    from synthdata.pipeline.resample import (
        _LOADED,
        PART_ROWS,
        PARTS_MANIFEST,
        _write_part,
        part_plan,
        parts_record,
    )

    check_engine(engine, address=ray_address, workers=workers)
    if fmt != "parquet":
        raise ParameterError(
            f"format: the export of a dataset folder is a folder of Parquet parts "
            f"('{EXPORT}/'); expected format parquet, found {fmt!r}: drop --format",
            param="format")
    p = steps.plan("run", schema, out_dir=out_dir, seed=seed, fmt=fmt, holdout=holdout,
                   force=force, n_rows=n_rows, synthesizer=synthesizer, epochs=epochs,
                   batch_size=batch_size, device=device, params=params,
                   inputs={"table": folder})
    assert p.out_dir is not None
    if p.model.streams and getattr(p.model.check_params(), "epsilon", None) is not None:
        from synthdata.synthesizers.registry import private_names

        others = [n for n in private_names() if n != p.model.name]
        raise ParameterError(
            f"epsilon: {p.model.name} trains on a streamed dataset without DP-SGD (its "
            "accountant needs Poisson sampling over rows held in memory); expected a table "
            "file for a private fit of it: give one file, or a synthesizer that fits a "
            f"sample privately (--synthesizer {' or '.join(others)}), or drop --epsilon",
            param="epsilon")
    export_dir = p.out_dir / EXPORT
    check_inputs_kept({"table": folder}, writes=[export_dir], replaces=(export_dir,),
                      param="out_dir")
    if export_dir.exists() and (not export_dir.is_dir() or (
            any(export_dir.iterdir()) and not (export_dir / PARTS_MANIFEST).is_file())):
        raise ParameterError(
            f"out_dir '{p.out_dir}' holds '{EXPORT}', which is not a parts folder a previous "
            "run wrote; expected a new folder or a previous run's: choose another out_dir",
            param="out_dir")
    dataset = open_dataset(folder, p.schema)
    staging_model = p.out_dir / f".model-{secrets.token_hex(4)}.tmp"
    runner = get_engine(engine, address=ray_address, workers=workers)
    try:
        dataset.scan(holdout=p.fraction, seed=p.seed, engine=runner)
        p.timer.lap("read_and_validate")
        if p.model.streams:
            logger.info("fitting %s on the %d training rows, streamed", p.model.name,
                        dataset.n_train)
        else:
            logger.info("fitting %s on a uniform sample of %d of the %d training rows",
                        p.model.name, len(dataset.train_sample), dataset.n_train)
            p.notes.append(
                f"{p.model.name} does not train on streamed batches: it was fitted on a uniform "
                f"sample of {len(dataset.train_sample):,} of the {dataset.n_train:,} training "
                "rows (a synthesizer that trains on streamed batches reads them all)")
        n_rows = n_rows if n_rows is not None else dataset.n_train
        part_rows = part_rows or PART_ROWS
        train, held = dataset.score_sample, dataset.holdout_sample
        p.model.fit_stream(dataset, progress=progress, engine=runner)
        p.timer.lap("fit")
        p.model.save(staging_model)
        files = {str(q.relative_to(staging_model)): sha256_file(q)
                 for q in sorted(staging_model.rglob("*")) if q.is_file()}
        record: dict[str, Any] = {"rows": n_rows, "seed": p.seed, "part_rows": part_rows}
        try:
            with atomic_dir(export_dir) as staged:
                job = {"model_dir": str(staging_model.resolve()), "model_files": files,
                       "device": runner.task_device(p.device), "schema": p.schema,
                       "conditions": {}, "key": secrets.token_bytes(32), "seed": p.seed,
                       "total": n_rows, "folder": str(staged)}
                started = time.perf_counter()
                written = list(runner.map(_write_part, part_plan(n_rows, part_rows),
                                          shared=job))
                seconds = time.perf_counter() - started
                p.timer.lap("sample")
                synth = _first_rows(staged / written[0]["file"], p.schema,
                                    min(SCORE_ROWS, n_rows))
                scores = steps.score(train, synth, held, p.schema, seed=p.seed,
                                     timer=p.timer, engine=runner)
                execution = runner.describe()
                info = {**dataset.describe(), "rows_seen": p.model.rows_seen_,
                        "streamed": bool(p.model.streams),
                        "fit_sample_rows": len(dataset.train_sample),
                        "scored_rows": {"train": len(train), "holdout": len(held),
                                        "synthetic": len(synth)},
                        "export": f"{EXPORT}/"}
                rep = steps.report(
                    p, scores=scores, table=str(folder), n_rows_input=dataset.n_rows,
                    n_rows_train=dataset.n_train, n_rows_holdout=dataset.n_holdout,
                    n_rows_synthetic=n_rows, notes=[_scored_note(info)],
                    pii=pii_report(p.schema), execution=execution)
                rep.run.dataset = info
                export = steps.gate(rep, p)
                if not export:
                    raise _GateFailed
                record.update(parts_record(EXPORT, part_rows, written, execution,
                                           seconds, n_rows))
                atomic_write_json(staged / PARTS_MANIFEST, record)
        except _GateFailed:
            if export_dir.exists():  # a previous run's parts: not this report's
                shutil.rmtree(export_dir)
    finally:
        runner.close()
        _LOADED.clear()  # the local engine loaded the staged model in this process
        shutil.rmtree(staging_model, ignore_errors=True)
    data = steps.Data(label=str(folder), sha256=dataset.digest(), n_rows=dataset.n_rows,
                      train=train, holdout=held)
    manifest, path = steps.write_outputs(p, rep, export=export, stem=EXPORT, table=None,
                                         data=data, save_model=True,
                                         written=export_dir if export else None)
    return steps.result(p, rep, manifest, path, synth, export)


def _first_rows(path: Path, schema: Any, n: int) -> pd.DataFrame:
    """The first ``n`` rows of a written part, modelled columns, typed as the model made them."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as handle:
        batch = next(handle.iter_batches(batch_size=n, columns=schema.modelled_columns))
    return schema.validate_table(batch.to_pandas(), role="synthetic")


def _scored_note(info: dict[str, Any]) -> str:
    scored = info["scored_rows"]
    return (f"dataset folder: {info['rows']:,} rows in {info['files']} file(s), split "
            f"{info['rows_train']:,} train / {info['rows_holdout']:,} holdout by a hash of the "
            f"row number; the synthesizer read {info['rows_seen']:,} rows"
            f"{' (streamed)' if info['streamed'] else ' (a uniform sample)'}; the scores "
            f"compare the first {scored['synthetic']:,} exported rows with uniform samples of "
            f"{scored['train']:,} train and {scored['holdout']:,} holdout rows")
