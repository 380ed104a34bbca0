"""``run --synthesizer auto``: fit every candidate on one split, export the best that passes.

plan (every candidate built and its parameters checked) -> prepare (one read, one split) ->
for each candidate, as one task on the execution engine: fit on train -> sample -> score
against the same holdout -> the model's files -> back here: each candidate's report and gate
verdict -> the choice -> report (with ``candidates``) -> gate -> write, as ``run`` does.

The choice: among the candidates that pass the gate, the highest ``combined_score``, the mean
of three section means (fidelity, privacy, bias), each the mean of that section's scores in
[0, 1] (higher is better; a score that could not be measured is left out); ties go to the
earlier candidate in registry order, then the lower seed. When none passes, the highest
combined score is reported and exported only with ``force``.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from synthdata.errors import ParameterError
from synthdata.pipeline import steps
from synthdata.pipeline.steps import RunResult
from synthdata.schema import Schema

logger = logging.getLogger(__name__)

AUTO = "auto"
RULE = ("highest combined_score among the candidates that pass the gate; combined_score = "
        "mean of the fidelity, privacy and bias section means, each the mean of that "
        "section's scores in [0, 1]")


def candidate_names(requested: list[str] | None, *, epsilon: bool) -> list[str]:
    """The candidates: ``requested`` (checked), else every backend that can run here (only
    the differentially private ones when an ``epsilon`` is given)."""
    from synthdata.synthesizers.registry import (
        check_name,
        private_names,
        problem,
        runnable_names,
    )

    if requested:
        for name in requested:
            check_name(name)
            trouble = problem(name)
            if trouble:
                raise ParameterError(f"candidate {name} cannot run here ({trouble}); "
                                     "install what it needs or leave it out of candidates",
                                     param="candidates")
        names = list(dict.fromkeys(requested))
        if epsilon:
            public = [n for n in names if n not in private_names()]
            if public:
                raise ParameterError(
                    f"candidate(s) {', '.join(public)} take no epsilon; with --epsilon the "
                    f"candidates must be differentially private: {', '.join(private_names())}",
                    param="candidates")
    else:
        names = runnable_names()
        if epsilon:
            names = [n for n in names if n in private_names()]
    if not names:
        raise ParameterError("no synthesizer can run here to choose from; expected at least "
                             "one (see `synthdata synthesizers`)", param="candidates")
    return names


def _candidate_schema(schema: Schema, name: str) -> Schema:
    """The schema as candidate ``name`` sees it: the schema's ``synthesizer`` block (name,
    params, epochs, batch size) belongs to the synthesizer it names, not to the others."""
    if name == schema.synthesizer.name:
        return schema
    block = schema.synthesizer.model_copy(update={"name": name, "params": {}, "epochs": None,
                                                  "batch_size": None})
    return schema.model_copy(update={"synthesizer": block})


def section_mean(scores: dict[str, Any] | None) -> float | None:
    values = [float(v) for v in (scores or {}).values() if isinstance(v, int | float)]
    return sum(values) / len(values) if values else None


def combined_score(report: dict[str, Any]) -> float:
    """The mean of the section means (fidelity, privacy, bias) that could be measured."""
    means = [section_mean((report.get(s) or {}).get("scores")) for s in
             ("fidelity", "privacy", "bias")]
    known = [m for m in means if m is not None]
    return sum(known) / len(known) if known else 0.0


def _fit_candidate(task: tuple[str, int], job: dict[str, Any]) -> dict[str, Any]:
    """One candidate, on any engine: fit, sample, score; the model travels back as its
    files (arrays and JSON, or the SDV pickle this task just wrote)."""
    import os
    import socket

    name, seed = task
    began = time.time()
    schema = _candidate_schema(job["schema"], name)
    model, notes = steps.make_synthesizer(
        schema, name=name, epochs=job["epochs"], batch_size=job["batch_size"],
        params=job["params"], device=job["device"], seed=seed)
    started = time.perf_counter()
    model.fit(job["train"], progress=False)
    fitted = time.perf_counter()
    modelled = model.sample(job["n_rows"], seed=seed)
    sampled = time.perf_counter()
    scores = steps.score(job["train"], modelled, job["holdout"], schema, seed=seed)
    scored = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="synthdata-candidate-") as tmp:
        folder = model.save(Path(tmp) / "model")
        files = {str(p.relative_to(folder)): p.read_bytes()
                 for p in sorted(folder.rglob("*")) if p.is_file()}
    return {"name": name, "seed": seed, "notes": notes, "files": files, "modelled": modelled,
            "scores": scores, "seconds": {"fit": round(fitted - started, 2),
                                          "sample": round(sampled - fitted, 2),
                                          "score": round(scored - sampled, 2)},
            "worker": f"{socket.gethostname()}:{os.getpid()}", "window": (began, time.time())}


def _reload(files: dict[str, bytes], device: str) -> Any:
    """A candidate's model from the files its task wrote (this run's own files)."""
    from synthdata.synthesizers.base import Synthesizer

    with tempfile.TemporaryDirectory(prefix="synthdata-candidate-") as tmp:
        folder = Path(tmp) / "model"
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        return Synthesizer.load(folder, trusted=True, device=device)


FIGURES = (("fidelity", "column_shapes"), ("fidelity", "column_pair_trends"),
           ("fidelity", "detection_auc"), ("fidelity", "ml_efficacy_skill"),
           ("privacy", "dcr_share"), ("privacy", "exact_copy_excess"), ("privacy", "mia_auc"))


def run_auto(table: str | Path | pd.DataFrame, schema: str | Path | Schema, *,
             out_dir: str | Path, candidates: list[str] | None, candidate_seeds: int,
             n_rows: int | None, epochs: int | None, batch_size: int | None, device: str,
             seed: int, holdout: float | None, fmt: str, force: bool,
             params: dict[str, Any] | None, engine: str, ray_address: str | None,
             workers: int | None) -> RunResult:
    """``run`` with ``synthesizer="auto"`` (see the module docstring)."""
    from synthdata.execution import check_engine, get_engine
    from synthdata.gate import check_gate
    from synthdata.pii import pii_report
    from synthdata.validation import check_count

    check_count("candidate_seeds", candidate_seeds)
    check_engine(engine, address=ray_address, workers=workers)
    p = steps.plan("run", schema, out_dir=out_dir, seed=seed, fmt=fmt, holdout=holdout,
                   force=force, n_rows=n_rows, epochs=epochs, batch_size=batch_size,
                   device=device, params=params, fit=False, inputs={"table": table})
    names = candidate_names(candidates, epsilon=(params or {}).get("epsilon") is not None)
    built = [steps.make_synthesizer(_candidate_schema(p.schema, name), name=name,
                                    epochs=epochs, batch_size=batch_size, params=params,
                                    device=device, seed=seed)[0]
             for name in names]  # every candidate's parameters checked before any work
    if any(model.uses_torch for model in built):
        from synthdata.synthesizers import resolve_device

        resolve_device(device)  # a missing CUDA is bad input: said before any work
    tasks = [(name, seed + k) for name in names for k in range(candidate_seeds)]
    data = steps.prepare(table, p)
    n_rows = n_rows if n_rows is not None else len(data.train)
    steps.check_room(data.train, n_rows, param="n_rows")
    found: list[dict[str, Any]] = []
    with get_engine(engine, address=ray_address, workers=workers) as runner:
        job = {"schema": p.schema, "train": data.train, "holdout": data.holdout,
               "n_rows": n_rows, "epochs": epochs, "batch_size": batch_size, "params": params,
               "device": runner.task_device(device)}
        logger.info("fitting %d candidates (%s) on the %s engine, %d at a time", len(tasks),
                    ", ".join(f"{n}/seed {s}" for n, s in tasks), runner.name, runner.workers)
        for outcome in runner.map(_fit_candidate, tasks, shared=job):
            logger.info("candidate %s (seed %d) fitted in %.1f s", outcome["name"],
                        outcome["seed"], outcome["seconds"]["fit"])
            found.append(outcome)
        execution = runner.describe()
    p.timer.lap("fit_candidates")

    entries, reports, models = [], [], []
    origin = min(outcome["window"][0] for outcome in found)
    for outcome in found:
        model = _reload(outcome["files"], device)
        cp = steps.Plan(command="run", schema=_candidate_schema(p.schema, outcome["name"]),
                        out_dir=p.out_dir, seed=outcome["seed"], fmt=p.fmt,
                        fraction=p.fraction, force=False, device=device, model=model,
                        notes=list(outcome["notes"]), timer=p.timer)
        rep = steps.report(cp, scores=outcome["scores"], table=data.label,
                           n_rows_input=data.n_rows, n_rows_train=len(data.train),
                           n_rows_holdout=len(data.holdout), n_rows_synthetic=n_rows,
                           notes=[], execution=execution, pii=pii_report(p.schema))
        verdict = check_gate(rep, p.schema.gate)
        rep.gate = verdict
        as_json = rep.to_json_dict()
        figures = {name: (as_json.get(section) or {}).get("figures", {}).get(name)
                   for section, name in FIGURES}
        entries.append({
            "synthesizer": outcome["name"], "seed": outcome["seed"],
            "params": model.params_, "chosen": False,
            "combined_score": round(combined_score(as_json), 6),
            "section_means": {s: section_mean((as_json.get(s) or {}).get("scores"))
                              for s in ("fidelity", "privacy", "bias")},
            "figures": figures, "gate": {"passed": verdict.passed,
                                         "failures": [f.check for f in verdict.failures]},
            "seconds": outcome["seconds"], "worker": outcome["worker"],
            # seconds since the first candidate started: overlapping windows ran in parallel
            "window": [round(t - origin, 2) for t in outcome["window"]]})
        reports.append(rep)
        models.append((model, outcome["modelled"], cp))
    passing = [i for i, e in enumerate(entries) if e["gate"]["passed"]]
    pool = passing or list(range(len(entries)))
    best = max(pool, key=lambda i: (entries[i]["combined_score"], -i))
    entries[best]["chosen"] = True
    model, modelled, cp = models[best]
    rep = reports[best]
    chosen = entries[best]
    rep.candidates = entries
    rep.notes.append(
        f"--synthesizer auto: {chosen['synthesizer']} (seed {chosen['seed']}) chosen from "
        f"{len(entries)} candidates, {len(passing)} of them passing the gate; rule: {RULE}"
        + ("" if passing else "; none passed, so nothing is exported without --force"))
    p.model = model
    p.notes = cp.notes
    synth = steps.with_pii(modelled, p.schema, chosen["seed"])
    export = steps.gate(rep, p)
    manifest, path = steps.write_outputs(p, rep, export=export, stem="synthetic", table=synth,
                                         data=data, schema_for_csv=p.schema, save_model=True)
    return steps.result(p, rep, manifest, path, synth, export)
