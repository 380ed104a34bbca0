"""``run``, ``balance`` and ``augment``: compositions of :mod:`synthdata.pipeline.steps`.

run:     plan -> prepare -> fit -> generate -> score -> report -> gate -> write (+ model)
balance: plan -> prepare -> fit -> generate per class -> score (same classes) -> compare
         with SMOTE and class weights -> report -> gate -> write real + synthetic rows
augment: plan -> prepare -> fit -> generate -> score -> report -> gate -> write real + synthetic
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from synthdata.errors import ParameterError
from synthdata.pipeline import steps
from synthdata.pipeline.steps import RunResult
from synthdata.schema import ColumnKind, Schema, category_text
from synthdata.validation import check_count

logger = logging.getLogger(__name__)


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
    engine: str = "local",
    ray_address: str | None = None,
    workers: int | None = None,
    candidates: list[str] | None = None,
    candidate_seeds: int = 1,
) -> RunResult:
    """Fit a synthesizer on ``table``, sample, score, and write the outputs to ``out_dir``.

    Writes ``synthetic.parquet`` (or ``.csv``) and ``model/`` when the gate passes (or
    ``force``), and ``report.json``, ``report.html`` and ``manifest.json`` always. Arguments
    left as None take the schema's defaults (``synthesizer:`` and ``split:`` blocks).
    ``progress=True`` shows the epoch progress bar of synthesizers that train in epochs.

    ``synthesizer="auto"`` fits ``candidates`` (default: every synthesizer that can run
    here) with ``candidate_seeds`` seeds each on the same split, scores each on the same
    holdout and exports the best that passes the gate (``synthdata.pipeline.choose``);
    ``report.json`` -> ``candidates`` lists them all. ``engine`` (``local`` | ``ray``) runs
    the candidates and the nearest-neighbour privacy figures (``synthdata.execution``).

    ``table`` may be a folder of Parquet files, streamed in batches
    (``synthdata.pipeline.big``): the export is then ``out_dir/synthetic/`` in Parquet parts,
    and ``report.json`` -> ``run.dataset`` states the rows the synthesizer read.

    Raises:
        SchemaError, DataError, ParameterError, DeviceError: bad input, raised before any
            fitting and before anything is written.
    """
    from synthdata.dataset import is_dataset
    from synthdata.execution import check_engine, get_engine
    from synthdata.pii import pii_report
    from synthdata.pipeline.choose import AUTO, run_auto

    if synthesizer == AUTO and is_dataset(table):
        raise ParameterError(
            f"--synthesizer auto fits every candidate on one table in memory; expected a CSV "
            f"or Parquet file, found the dataset folder '{table}': name a synthesizer (the "
            "default streams every row), or choose on a sample file first",
            param="synthesizer")
    if synthesizer == AUTO:
        return run_auto(table, schema, out_dir=out_dir, candidates=candidates,
                        candidate_seeds=candidate_seeds, n_rows=n_rows, epochs=epochs,
                        batch_size=batch_size, device=device, seed=seed, holdout=holdout,
                        fmt=fmt, force=force, params=params, engine=engine,
                        ray_address=ray_address, workers=workers)
    if candidates is not None or candidate_seeds != 1:
        raise ParameterError("candidates and candidate_seeds choose among synthesizers; "
                             f"expected synthesizer 'auto', found {synthesizer!r}: add "
                             "--synthesizer auto or drop them", param="candidates")
    if is_dataset(table):
        from synthdata.pipeline.big import run_dataset

        return run_dataset(table, schema, out_dir=out_dir, synthesizer=synthesizer,
                           n_rows=n_rows, epochs=epochs, batch_size=batch_size, device=device,
                           seed=seed, holdout=holdout, fmt=fmt, force=force, params=params,
                           progress=progress, engine=engine, ray_address=ray_address,
                           workers=workers)
    check_engine(engine, address=ray_address, workers=workers)
    p = steps.plan("run", schema, out_dir=out_dir, seed=seed, fmt=fmt, holdout=holdout,
                   force=force, n_rows=n_rows, synthesizer=synthesizer, epochs=epochs,
                   batch_size=batch_size, device=device, params=params,
                   inputs={"table": table})
    data = steps.prepare(table, p)
    n_rows = n_rows if n_rows is not None else len(data.train)
    steps.check_room(data.train, n_rows, param="n_rows")
    steps.fit(p, data, progress=progress)
    modelled = steps.generate(p, n_rows)
    synth = steps.with_pii(modelled, p.schema, p.seed)
    with get_engine(engine, address=ray_address, workers=workers) as runner:
        scores = steps.score(data.train, modelled, data.holdout, p.schema, seed=p.seed,
                             timer=p.timer, engine=runner)
        execution = runner.describe()
    rep = steps.report(p, scores=scores, table=data.label, n_rows_input=data.n_rows,
                       n_rows_train=len(data.train), n_rows_holdout=len(data.holdout),
                       n_rows_synthetic=len(synth), notes=[], pii=pii_report(p.schema),
                       execution=execution)
    export = steps.gate(rep, p)
    manifest, path = steps.write_outputs(p, rep, export=export, stem="synthetic", table=synth,
                                         data=data, schema_for_csv=p.schema, save_model=True)
    return steps.result(p, rep, manifest, path, synth, export)


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
    synthesizer, epochs, batch_size, device, seed, holdout, fmt, indicator, force, n_seeds,
    progress, params.

    Raises:
        SchemaError, DataError, ParameterError, DeviceError: bad input, before any fitting.
    """
    if ratio is not None and counts is not None:
        raise ParameterError("give ratio or counts, not both", param="ratio")
    if ratio is not None and (isinstance(ratio, bool) or not isinstance(ratio, int | float)
                              or not 0 < ratio <= 1):
        raise ParameterError(f"The 'ratio' parameter (minority/majority) must be a float in "
                             f"(0, 1]. Got {ratio!r} instead.", param="ratio")
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
    check_count("n_rows", n_rows)
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
    indicator: bool = True,
    n_seeds: int = 3,
    progress: bool = False,
    **options: Any,
) -> RunResult:
    """balance (mode "balance") and augment (mode "augment"): one flow, two ways to add rows."""
    from synthdata.balancing import INDICATOR, check_target, plan_counts
    from synthdata.report import AugmentSection

    p = steps.plan(mode, schema, out_dir=out_dir, inputs={"table": table}, **options)
    target = check_target(p.schema) if mode == "balance" else p.schema.target
    data = steps.prepare(table, p)
    train, held = data.train, data.holdout
    planned = plan_counts(train, target, ratio=ratio, counts=counts) \
        if mode == "balance" else {}
    if mode == "balance":
        logger.info("balance plan: add %s", planned or "nothing (already balanced)")
    steps.check_room(train, sum(planned.values()) if mode == "balance" else n_rows or 0,
                     param="counts" if counts is not None else
                     "ratio" if mode == "balance" else "n_rows")
    steps.fit(p, data, progress=progress)
    if mode == "balance":
        assert target is not None
        synth, generation, draw = _balanced_rows(p, train, target, planned)
        # scores of the synthetic part against real rows of the same classes
        same, same_held = (df[df[target].map(lambda v: pd.notna(v) and category_text(v)
                                             in set(planned))] for df in (train, held))
    else:
        assert n_rows is not None
        start = time.perf_counter()
        synth = steps.generate(p, n_rows)
        seconds = time.perf_counter() - start
        generation = {"(all)": {"rows": n_rows, "seconds": round(seconds, 4),
                                "rows_per_second": round(n_rows / seconds, 1) if seconds else None,
                                "drawn": n_rows, "method": "unconditional"}}
        same, same_held = train, held
    synth = steps.fresh_keys(synth, train, p.schema)
    label = "balanced" if mode == "balance" else "augmented"
    notes = [f"{label}.* holds the modelled columns only: PII and free-text columns are left "
             "out, so real and invented people are never mixed in one row"]
    if any(c in synth.columns for c in p.schema.columns_of(ColumnKind.id)):
        notes.append("id columns of the added rows are renumbered so that they repeat neither "
                     "each other nor a real row's id")
    scores = steps.score(same, synth, same_held, p.schema, seed=p.seed, timer=p.timer) \
        if len(synth) else None
    sections: dict[str, Any] = {}
    if mode == "balance":
        sections["balance"] = _balance_section(p, train, held, target, ratio, counts, planned,
                                               generation, draw, n_seeds)
        if not p.model.conditional:
            notes.append(f"{p.model.name} has no conditional generation: minority rows came "
                         "from reject sampling (unconditional draws, matching rows kept)")
    else:
        sections["augment"] = AugmentSection(n_rows_added=len(synth), generation=generation)
    rep = steps.report(p, scores=scores, table=data.label, n_rows_input=data.n_rows,
                       n_rows_train=len(train), n_rows_holdout=len(held),
                       n_rows_synthetic=len(synth), notes=notes, **sections)
    export = steps.gate(rep, p)
    combined = pd.concat([train.assign(**{INDICATOR: False}), synth.assign(**{INDICATOR: True})],
                         ignore_index=True)
    if not indicator:
        combined = combined.drop(columns=[INDICATOR])
    manifest, path = steps.write_outputs(p, rep, export=export, stem=label, table=combined,
                                         data=data)
    return steps.result(p, rep, manifest, path, combined, export)


def _balanced_rows(p: steps.Plan, train: pd.DataFrame, target: str, planned: dict[str, int]
                   ) -> tuple[pd.DataFrame, dict[str, Any], Any]:
    """The planned rows per class, their throughput, and a drawer of fresh sets (per seed)."""
    from synthdata.balancing import timed_generation

    kind = p.schema.columns[target].kind
    values = {category_text(v): (bool(v) if kind == ColumnKind.boolean else v)
              for v in train[target].dropna().unique()}
    synth, generation = timed_generation(p.model, target, planned, p.seed, values)
    p.timer.lap("sample")

    def draw(k: int) -> pd.DataFrame:
        return synth if k == 0 else timed_generation(p.model, target, planned,
                                                     p.seed + 7919 * k, values)[0]

    return synth, generation, draw


def _balance_section(p: steps.Plan, train: pd.DataFrame, held: pd.DataFrame, target: str,
                     ratio: float | None, counts: dict[str, int] | None,
                     planned: dict[str, int], generation: dict[str, Any], draw: Any,
                     n_seeds: int) -> Any:
    from synthdata.balancing import compare_options
    from synthdata.report import BalanceSection

    logger.info("comparing real / real+synthetic / real+SMOTE / class weights on the holdout")
    comparison, verdict = compare_options(train, held, p.schema, draw, planned, n_seeds=n_seeds)
    p.timer.lap("compare")
    have = train[target].dropna().map(category_text).value_counts()
    after = have.add(pd.Series(planned, dtype="int64"), fill_value=0)
    return BalanceSection(
        target=target, ratio=ratio if counts is None else None, counts_requested=counts,
        plan=planned, class_counts_before={str(k): int(v) for k, v in have.items()},
        class_counts_after={str(k): int(v) for k, v in after.items()},
        ratio_after=float(after.min() / after.max()) if len(after) else None,
        generation=generation, comparison=comparison, verdict=verdict, n_seeds=n_seeds)
