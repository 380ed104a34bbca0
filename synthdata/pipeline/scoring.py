"""``evaluate``: score a synthetic table made by any tool (steps: plan -> read -> score ->
report -> gate -> write the reports)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from synthdata.errors import DataError
from synthdata.pipeline import steps
from synthdata.pipeline.steps import RunResult
from synthdata.schema import Schema

logger = logging.getLogger(__name__)

MIN_SELF_CHECK_ROWS = 50  # per half, when synth and holdout are the same rows


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
    engine: str = "local",
    ray_address: str | None = None,
    workers: int | None = None,
) -> RunResult:
    """Score ``synth`` (made by synthdata or any other tool) against ``train`` and ``holdout``.

    ``holdout`` must be real rows the generator never saw. Writes ``report.json`` and
    ``report.html`` into ``out_dir`` when given. The nearest-neighbour privacy figures run on
    ``engine`` (``local`` | ``ray``, see ``synthdata.execution``), with the same figures on
    either; ``report.json`` -> ``execution`` says which.

    Raises:
        SchemaError, DataError, ParameterError: bad input, before any scoring or writing.
    """
    from synthdata.execution import check_engine, get_engine
    from synthdata.io import read_table

    check_engine(engine, address=ray_address, workers=workers)
    p = steps.plan("evaluate", schema, out_dir=out_dir, seed=seed, fit=False,
                   inputs={"train table": train, "synth table": synth,
                           "holdout table": holdout})
    problems: list[str] = []
    tables: dict[str, pd.DataFrame] = {}
    for label, table, role in (("train", train, "part"), ("holdout", holdout, "part"),
                               ("synth", synth, "synthetic")):
        try:
            tables[label] = read_table(table, p.schema, role=role)[p.schema.modelled_columns]
        except DataError as exc:
            problems.extend(f"--{label} {exc.source}: {q}" for q in exc.problems)
    if problems:
        raise DataError(problems, source="evaluate inputs")
    notes = _self_check(tables, p.schema, seed)
    with get_engine(engine, address=ray_address, workers=workers) as runner:
        scores = steps.score(tables["train"], tables["synth"], tables["holdout"], p.schema,
                             seed=seed, engine=runner)
        execution = runner.describe()
    rep = steps.report(p, scores=scores, table=" | ".join(
        steps.table_label(t) for t in (train, synth, holdout)), n_rows_input=None,
        n_rows_train=len(tables["train"]), n_rows_holdout=len(tables["holdout"]),
        n_rows_synthetic=len(tables["synth"]), notes=notes, execution=execution)
    steps.gate(rep, p)
    if p.out_dir is not None:
        p.out_dir.mkdir(parents=True, exist_ok=True)
        steps.write_reports(p.out_dir, rep)
        logger.info("wrote %s and report.html", p.out_dir / "report.json")
    return RunResult(out_dir=p.out_dir if p.out_dir is not None else Path("."),
                     synthetic_path=None, report=rep.to_json_dict(), manifest={},
                     synth=tables["synth"], exit_code=0 if rep.gate.passed else 1,
                     report_model=rep)
