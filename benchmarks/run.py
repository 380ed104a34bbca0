"""The benchmark harness: synthdata against raw SDV, for speed, memory and quality.

    python -m benchmarks.run --quick      # ≤ 2,000 train rows, 5 epochs, 3 repeats (~15 min)
    python -m benchmarks.run              # published defaults: all rows, 300 epochs (hours)

Options: ``--tables adult,magic`` ``--synthesizers ctgan,tvae`` ``--repeats N`` ``--rows N``
``--epochs N`` ``--no-scoring``.

For every table of ../shared/datasets/ that has a schema under schemas/ (same name) and every
synthesizer:

* **Speed and memory.** synthdata's ``get_synthesizer(...).fit`` / ``.sample`` and raw SDV
  (``<X>Synthesizer(metadata, same parameters).fit`` / ``.sample`` on the same rows, same
  metadata, same fit seeds) run in this one process, in ABBA order. Each stage is
  timed ``--repeats`` times (wall and process CPU seconds, medians reported) with its peak RSS
  (Linux ``VmHWM``, reset before each stage through ``/proc/self/clear_refs``). Reported: the
  ratios synthdata / SDV for fit, sample and fit + sample.
* **Where fit time goes.** The real ctgan/SDV methods are wrapped with timers (nothing is
  replaced): SDV's preprocessing fit (``DataProcessor.fit``, RDT), the mode-specific
  normalisation fit of CTGAN/TVAE (``ctgan.data_transformer.DataTransformer.fit``, one
  Bayesian GMM per continuous column: the *transformer fit*), its ``transform``, and the
  training loop, whose time divided by the epochs is the *per-epoch time*.
* **Scoring.** synthdata's fidelity, privacy and bias scoring of the synthetic rows (the
  first repeat's), timed separately (medians of --repeats), beside sdmetrics' QualityReport
  alone.
* **Quality.** Column shapes and pair trends (sdmetrics QualityReport), their mean (SDGym's
  "quality"), detection AUC, TSTR and TRTR, beside published figures.

Writes benchmarks/results/<date>.json and <date>.md, and rewrites benchmarks/RESULTS.md (the
latest table, the machine, the exact command and the commit).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results"


def _sdv_backends() -> dict[str, Any]:
    """The registered synthesizers that wrap an SDV class (what this harness compares)."""
    from synthdata.synthesizers.registry import backend_class, names

    return {n: backend_class(n) for n in names() if getattr(backend_class(n), "sdv_class", None)}


SYNTHESIZERS = tuple(_sdv_backends())

# Published figures to read ours against. SDGym's "quality" is sdmetrics' QualityReport score,
# the mean of column shapes and column pair trends; "error" = 1 - score.
PUBLISHED = {
    "sdgym_2024_adult_quality": {
        "source": "SDGym 2024 leaderboard, adult (sdmetrics QualityReport score)",
        "values": {"tvae": 0.881, "gaussian_copula": 0.846, "ctgan": 0.842},
    },
    "shape_trend_error": {
        "source": "TabSyn (Zhang et al., ICLR 2024) / TabDiff (Shi et al., ICLR 2025) tables, "
                  "error = 1 - sdmetrics score, averaged over their tables incl. adult",
        "values": {"ctgan": "shape ≈ 17-19 %, trend ≈ 20-24 %",
                   "tabdiff": "shape 0.68 %, trend 1.54 %"},
    },
}


# ---- measuring ---------------------------------------------------------------------------

def _proc_status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` memory field (VmHWM, VmRSS) in KiB; None off Linux."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the process's peak RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class Stage:
    """Wall seconds, process CPU seconds (this process; ctgan's joblib workers are not
    counted) and memory of one timed block: ``peak_mib`` is the process's peak RSS during the
    block, ``added_mib`` that peak minus the RSS at its start (after a garbage collection):
    what the block itself needed on top of what the process already held."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0
        self.peak_mib: float | None = None
        self.added_mib: float | None = None

    @contextlib.contextmanager
    def measure(self) -> Iterator[Stage]:
        gc.collect()
        reset = _reset_peak()
        start_rss = _proc_status_kib("VmRSS") if reset else None
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            yield self
        finally:
            self.wall = time.perf_counter() - wall
            self.cpu = time.process_time() - cpu
            hwm = _proc_status_kib("VmHWM") if reset else None
            if hwm is None:  # no per-stage reset here: the process-wide peak so far
                hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
            self.peak_mib = round(hwm / 1024, 1)
            if start_rss is not None:
                self.added_mib = round(max(hwm - start_rss, 0) / 1024, 1)


@contextlib.contextmanager
def phase_timers() -> Iterator[dict[str, float]]:
    """Wrap the real SDV / ctgan methods with timers; yields {phase: seconds} (summed)."""
    from ctgan.data_transformer import DataTransformer
    from ctgan.synthesizers.ctgan import CTGAN
    from ctgan.synthesizers.tvae import TVAE
    from sdv.data_processing.data_processor import DataProcessor

    targets = {"sdv_preprocess_fit": (DataProcessor, "fit"),
               "transformer_fit": (DataTransformer, "fit"),
               "transformer_transform": (DataTransformer, "transform"),
               "ctgan_fit": (CTGAN, "fit"), "tvae_fit": (TVAE, "fit")}
    seconds = dict.fromkeys(targets, 0.0)
    originals = {}

    def timed(phase: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                seconds[phase] += time.perf_counter() - start
        return wrapper

    try:
        for phase, (cls, attr) in targets.items():
            originals[phase] = cls.__dict__[attr]
            setattr(cls, attr, timed(phase, originals[phase]))
        yield seconds
    finally:
        for phase, original in originals.items():
            cls, attr = targets[phase]
            setattr(cls, attr, original)


def _phases(name: str, seconds: dict[str, float], epochs: int | None) -> dict[str, Any]:
    out = {"sdv_preprocess_fit": round(seconds["sdv_preprocess_fit"], 3)}
    if _sdv_backends()[name].uses_torch:
        model_fit = seconds[f"{name}_fit"]
        training = model_fit - seconds["transformer_fit"] - seconds["transformer_transform"]
        out.update({
            "transformer_fit": round(seconds["transformer_fit"], 3),
            "transformer_transform": round(seconds["transformer_transform"], 3),
            "training": round(training, 3),
            "per_epoch": round(training / epochs, 4) if epochs else None,
        })
    return out


def _max_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _median(values: list[float], digits: int = 3) -> float:
    return round(statistics.median(values), digits)


# ---- one table x synthesizer -------------------------------------------------------------

def _params(name: str, epochs: int | None) -> dict[str, Any]:
    return {"epochs": epochs} if _sdv_backends()[name].trains_in_epochs() and epochs else {}


def _raw_sdv(name: str, metadata: Any, params: dict[str, Any]) -> Any:
    """SDV's own synthesizer with the parameters synthdata resolved (CPU, silent)."""
    import sdv.single_table

    backend = _sdv_backends()[name]
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    if backend.uses_torch:
        kwargs.update(enable_gpu=False, verbose=False)
    return getattr(sdv.single_table, backend.sdv_class)(metadata, **kwargs)


def bench_one(name: str, schema: Any, train: Any, holdout: Any, *, epochs: int | None,
              repeats: int, scoring: bool) -> dict[str, Any]:
    from sdv.metadata import Metadata

    from synthdata.synthesizers import get_synthesizer
    from synthdata.synthesizers._sdv import sdv_metadata_dict, seeded, to_sdv_frame

    frame = to_sdv_frame(train, schema)  # what an SDV user hands SDV (prepared untimed)
    n = len(train)
    runs: dict[str, dict[str, list]] = {
        who: {k: [] for k in ("fit", "fit_cpu", "fit_mib", "fit_added_mib", "sample",
                              "sample_cpu", "sample_mib", "sample_added_mib", "phases")}
        for who in ("synthdata", "sdv")}
    synth_rows = None

    def ours(seed: int) -> Any:
        model = get_synthesizer(name, schema, seed=seed, device="cpu", **_params(name, epochs))
        fit, sample = Stage(), Stage()
        with phase_timers() as seconds, fit.measure():
            model.fit(train)
        with sample.measure():
            rows = model.sample(n, seed=seed)
        record("synthdata", fit, sample, seconds)
        return model, rows

    def theirs(seed: int, params: dict[str, Any]) -> None:
        metadata = Metadata.load_from_dict(sdv_metadata_dict(schema))
        fit, sample = Stage(), Stage()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = _raw_sdv(name, metadata, params)
            with seeded(seed, torch=True), phase_timers() as seconds, fit.measure():
                model.fit({schema.name: frame})  # SDV 2: {table_name: rows}
            with sample.measure():
                model.sample(num_rows=n)
        record("sdv", fit, sample, seconds)

    def record(who: str, fit: Stage, sample: Stage, seconds: dict[str, float]) -> None:
        r = runs[who]
        r["fit"].append(fit.wall)
        r["fit_cpu"].append(fit.cpu)
        r["fit_mib"].append(fit.peak_mib)
        r["fit_added_mib"].append(fit.added_mib)
        r["sample"].append(sample.wall)
        r["sample_cpu"].append(sample.cpu)
        r["sample_mib"].append(sample.peak_mib)
        r["sample_added_mib"].append(sample.added_mib)
        r["phases"].append(_phases(name, seconds, epochs))

    params = get_synthesizer(name, schema, **_params(name, epochs)).get_params()
    for r in range(repeats):
        if r % 4 in (0, 3):  # ABBA order, so drift and warm caches hit both sides alike
            model, rows = ours(r)
            del model
            theirs(r, params)
        else:
            theirs(r, params)
            model, rows = ours(r)
            del model
        if synth_rows is None:
            synth_rows = rows

    def summary(who: str) -> dict[str, Any]:
        r = runs[who]
        phases = {k: _median([p[k] for p in r["phases"]], 4) for k in r["phases"][0]
                  if r["phases"][0][k] is not None}
        return {"fit_seconds": _median(r["fit"]), "fit_cpu_seconds": _median(r["fit_cpu"]),
                "fit_peak_mib": max(r["fit_mib"]),
                "fit_added_mib": _max_or_none(r["fit_added_mib"]),
                "sample_seconds": _median(r["sample"]),
                "sample_cpu_seconds": _median(r["sample_cpu"]),
                "sample_peak_mib": max(r["sample_mib"]),
                "sample_added_mib": _max_or_none(r["sample_added_mib"]),
                "sample_rows_per_second": round(n / statistics.median(r["sample"]), 1),
                "phases": phases,
                "runs": {"fit": [round(v, 3) for v in r["fit"]],
                         "sample": [round(v, 3) for v in r["sample"]]}}

    ours_s, sdv_s = summary("synthdata"), summary("sdv")
    both = [a + b for a, b in zip(runs["synthdata"]["fit"], runs["synthdata"]["sample"],
                                  strict=True)]
    base = [a + b for a, b in zip(runs["sdv"]["fit"], runs["sdv"]["sample"], strict=True)]
    out: dict[str, Any] = {
        "synthesizer": name, "epochs": epochs if _sdv_backends()[name].trains_in_epochs() else None,
        "train_rows": n, "holdout_rows": len(holdout), "repeats": repeats,
        "synthdata": ours_s, "sdv": sdv_s,
        "ratio": {"fit": round(ours_s["fit_seconds"] / sdv_s["fit_seconds"], 3),
                  "sample": round(ours_s["sample_seconds"] / sdv_s["sample_seconds"], 3),
                  "fit_plus_sample": round(statistics.median(both) / statistics.median(base),
                                           3)},
    }
    if scoring:
        out.update(score(schema, train, synth_rows, holdout, repeats))
    return out


def score(schema: Any, train: Any, synth: Any, holdout: Any, repeats: int) -> dict[str, Any]:
    from synthdata.metrics._encoding import for_sdmetrics, sdmetrics_metadata
    from synthdata.metrics.bias import evaluate_bias
    from synthdata.metrics.fidelity import evaluate_fidelity
    from synthdata.metrics.privacy import evaluate_privacy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

    def quality_report() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            QualityReport().generate(for_sdmetrics(train, schema), for_sdmetrics(synth, schema),
                                     sdmetrics_metadata(schema), verbose=False)

    parts = {"fidelity": lambda: evaluate_fidelity(train, synth, holdout, schema, seed=0),
             "privacy": lambda: evaluate_privacy(train, synth, holdout, schema, seed=0),
             "bias": lambda: evaluate_bias(train, synth, holdout, schema, seed=0),
             "sdmetrics_quality_report": quality_report}
    seconds: dict[str, list[float]] = {k: [] for k in parts}
    peaks: dict[str, list[float]] = {k: [] for k in parts}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for part, fn in parts.items():
            stage = Stage()
            with stage.measure():
                results[part] = fn()
            seconds[part].append(stage.wall)
            peaks[part].append(stage.peak_mib)
    fig = results["fidelity"]["figures"]
    shapes, trends = fig.get("column_shapes"), fig.get("column_pair_trends")
    quality = {
        "column_shapes": shapes, "column_pair_trends": trends,
        "quality": round((shapes + trends) / 2, 4) if None not in (shapes, trends) else None,
        "shape_error_pct": round(100 * (1 - shapes), 2) if shapes is not None else None,
        "trend_error_pct": round(100 * (1 - trends), 2) if trends is not None else None,
        "detection_auc": fig.get("detection_auc"), "tstr": fig.get("tstr"),
        "trtr": fig.get("trtr"), "ml_efficacy_ratio": fig.get("ml_efficacy_ratio"),
        "dcr_share": results["privacy"]["figures"].get("dcr_share"),
    }
    return {"scoring": {"seconds": {k: _median(v) for k, v in seconds.items()},
                        "peak_mib": {k: max(v) for k, v in peaks.items()}},
            "quality": quality}


# ---- the run -----------------------------------------------------------------------------

def tables(selected: list[str] | None) -> list[str]:
    names = sorted(p.stem for p in (ROOT / "schemas").glob("*.yaml")
                   if (DATA / f"{p.stem}.csv").is_file())
    if selected:
        unknown = sorted(set(selected) - set(names))
        if unknown:
            raise SystemExit(f"--tables: no schema + dataset for {', '.join(unknown)}; "
                             f"expected some of {', '.join(names)}")
        names = [n for n in names if n in selected]
    return names


def machine() -> dict[str, Any]:
    from synthdata.synthesizers.base import package_versions

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError, ValueError):
        kib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem_gib = round(kib / 1024 ** 2, 1)
    import torch

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem_gib,
            "torch_threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "python": platform.python_version(), "os": platform.platform(),
            "versions": package_versions()}


def medians(runs: list[dict[str, Any]], keys: tuple[str, ...], figures: tuple[str, ...],
            order: Any) -> list[dict[str, Any]]:
    """One row per distinct value of ``keys`` (sorted by ``order`` of that tuple): the number
    of seeds and the median of each figure over them (None when no run has it)."""
    out = []
    for key in sorted({tuple(r[k] for k in keys) for r in runs}, key=order):
        mine = [r for r in runs if tuple(r[k] for k in keys) == key]
        row: dict[str, Any] = {**dict(zip(keys, key, strict=True)), "seeds": len(mine)}
        for f in figures:
            values = [r[f] for r in mine if r.get(f) is not None]
            row[f] = round(statistics.median(values), 4) if values else None
        out.append(row)
    return out


def cell(value: Any, digits: int = 3) -> str:
    """A table cell: floats to ``digits`` decimals, None as a dash."""
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def errors(row: dict[str, Any]) -> tuple[float | None, float | None]:
    """Shape and trend error in percent (100 * (1 - score))."""
    return tuple(None if row.get(k) is None else 100 * (1 - row[k])  # type: ignore[return-value]
                 for k in ("column_shapes", "column_pair_trends"))


def publish_section(result: dict[str, Any], name: str, text: str, marker: str) -> int:
    """Write results/<name>.{json,md} and ``text`` between the ``<!-- marker -->`` and
    ``<!-- /marker -->`` lines of RESULTS.md (appended at the end the first time)."""
    from synthdata.io import atomic_write_json, atomic_write_text

    begin, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    RESULTS.mkdir(exist_ok=True)
    atomic_write_json(RESULTS / f"{name}.json", result)
    atomic_write_text(RESULTS / f"{name}.md", text)
    results_md = ROOT / "benchmarks" / "RESULTS.md"
    current = results_md.read_text() if results_md.is_file() else ""
    block = f"{begin}\n{text}{end}\n"
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        current = head + block + rest.split(end, 1)[1].lstrip("\n")
    else:
        current = current.rstrip("\n") + "\n\n" + block
    atomic_write_text(results_md, current)
    print(text)
    return 0


def commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return sha + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def markdown(result: dict[str, Any]) -> str:
    mach, args = result["machine"], result["settings"]
    lines = [
        f"# Benchmark results ({result['mode']} mode, {result['date']})",
        "",
        f"Command: `{result['command']}` at commit `{result['commit']}`; "
        f"{result['seconds']:.0f} s in all.",
        f"Machine: {mach['cpu']}, {mach['cores']} cores, {mach['memory_gib']} GiB, "
        f"GPU: {mach['gpu'] or 'none'}; Python {mach['python']}, torch "
        f"{mach['versions'].get('torch')}, sdv {mach['versions'].get('sdv')}, sdmetrics "
        f"{mach['versions'].get('sdmetrics')}.",
        f"Settings: train rows ≤ {args['rows'] or 'all'}, epochs {args['epochs'] or 'default'}"
        f", {args['repeats']} repeats (ABBA order); times are medians (wall seconds); CPU "
        "seconds are this process's (ctgan's joblib workers not counted); memory added = "
        "the stage's peak RSS minus the RSS at its start, largest over the repeats. "
        "synthdata's fit time includes its own set-up (schema checks, SDV metadata, frame "
        "conversion, seeding); SDV is handed its frame and metadata ready-made.",
        "",
        "## Speed: synthdata vs raw SDV (same rows, metadata, parameters, fit seeds; one "
        "process)",
        "",
        "| table | synthesizer | rows | fit s (SDV) | sample s (SDV) | fit ratio | sample "
        "ratio | **fit+sample ratio** | fit CPU s | fit memory added MiB (SDV) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for table, entries in result["tables"].items():
        for e in entries:
            o, s, r = e["synthdata"], e["sdv"], e["ratio"]
            lines.append(
                f"| {table} | {e['synthesizer']} | {e['train_rows']} | {o['fit_seconds']:.2f} "
                f"({s['fit_seconds']:.2f}) | {o['sample_seconds']:.3f} ({s['sample_seconds']:.3f})"
                f" | {r['fit']:.3f} | {r['sample']:.3f} | **{r['fit_plus_sample']:.3f}** | "
                f"{o['fit_cpu_seconds']:.2f} | {o['fit_added_mib']} ({s['fit_added_mib']}) |")
    lines += ["", "## Where CTGAN / TVAE fit time goes (synthdata runs; SDV's are alike)", "",
              "| table | synthesizer | epochs | SDV preprocess fit s | transformer fit s | "
              "transform s | training s | **per epoch s** |", "|---|---|---|---|---|---|---|---|"]
    for table, entries in result["tables"].items():
        for e in entries:
            p = e["synthdata"]["phases"]
            if "per_epoch" in p:
                lines.append(f"| {table} | {e['synthesizer']} | {e['epochs']} | "
                             f"{p['sdv_preprocess_fit']:.3f} | {p['transformer_fit']:.3f} | "
                             f"{p['transformer_transform']:.3f} | {p['training']:.3f} | "
                             f"**{p['per_epoch']:.4f}** |")
    if any("quality" in e for entries in result["tables"].values() for e in entries):
        lines += ["", "## Quality and scoring time", "",
                  "| table | synthesizer | shapes | trends | quality (published) | shape / "
                  "trend error % | detection AUC | TSTR / TRTR | DCR share | scoring s: "
                  "fidelity / privacy / bias (sdmetrics QualityReport) |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        published = PUBLISHED["sdgym_2024_adult_quality"]["values"]
        for table, entries in result["tables"].items():
            for e in entries:
                if "quality" not in e:
                    continue
                q, sc = e["quality"], e["scoring"]["seconds"]
                pub = (f" ({published[e['synthesizer']]})" if table == "adult" and
                       e["synthesizer"] in published else "")
                lines.append(
                    f"| {table} | {e['synthesizer']} | {_f(q['column_shapes'])} | "
                    f"{_f(q['column_pair_trends'])} | {_f(q['quality'])}{pub} | "
                    f"{_f(q['shape_error_pct'], 1)} / {_f(q['trend_error_pct'], 1)} | "
                    f"{_f(q['detection_auc'])} | {_f(q['tstr'])} / {_f(q['trtr'])} | "
                    f"{_f(q['dcr_share'])} | {sc['fidelity']:.1f} / {sc['privacy']:.1f} / "
                    f"{sc['bias']:.1f} ({sc['sdmetrics_quality_report']:.1f}) |")
        lines += ["", "Published anchors: "
                  + "; ".join(f"{v['source']}: " + ", ".join(f"{k} {x}" for k, x in
                                                            v["values"].items())
                              for v in PUBLISHED.values())
                  + ". Quick mode trains for a few epochs on a few thousand rows, so its "
                  "quality is not comparable to these (300 epochs, all rows); the full mode "
                  "is."]
    return "\n".join(lines) + "\n"


def _f(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="few epochs on subsampled rows (default: published settings)")
    parser.add_argument("--tables", help="comma-separated table names (default: all)")
    parser.add_argument("--synthesizers", default=",".join(SYNTHESIZERS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, help="subsample train to this many rows")
    parser.add_argument("--epochs", type=int, help="CTGAN/TVAE epochs")
    parser.add_argument("--no-scoring", action="store_true", help="skip scoring and quality")
    args = parser.parse_args(argv)
    if args.repeats < 3:
        parser.error("--repeats must be at least 3 (medians of >= 3 runs)")
    rows = args.rows or (2000 if args.quick else None)
    epochs = args.epochs or (5 if args.quick else 300)
    names = tables(args.tables.split(",") if args.tables else None)
    synths = args.synthesizers.split(",")
    if unknown := sorted(set(synths) - set(SYNTHESIZERS)):
        parser.error(f"--synthesizers: unknown {', '.join(unknown)}; expected some of "
                     f"{', '.join(SYNTHESIZERS)}")
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")  # see README (torch + sklearn OpenMP)

    from synthdata.io import read_table
    from synthdata.schema import load_schema
    from synthdata.split import split

    start = time.perf_counter()
    command = "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None else argv)
    result: dict[str, Any] = {
        "mode": "quick" if args.quick else "full", "date": dt.date.today().isoformat(),
        "command": command.strip(), "commit": commit(), "machine": machine(),
        "settings": {"rows": rows, "epochs": epochs, "repeats": args.repeats,
                     "synthesizers": synths, "scoring": not args.no_scoring},
        "published": PUBLISHED, "tables": {},
    }
    warm = True
    for table in names:
        schema = load_schema(ROOT / "schemas" / f"{table}.yaml")
        df = read_table(DATA / f"{table}.csv", schema)
        train, holdout = split(df, schema, seed=0)
        if rows and len(train) > rows:
            train = train.sample(rows, random_state=0).reset_index(drop=True)
            holdout = holdout.sample(min(len(holdout), max(rows // 2, 500)),
                                     random_state=0).reset_index(drop=True)
        if warm:  # first use of each backend pays imports, lazy set-up and joblib
            # workers (ctgan's transformer uses them from 500 rows): not timed
            for name in synths:
                bench_one(name, schema, train.head(600), holdout.head(300), epochs=1,
                          repeats=1, scoring=False)
            warm = False
        result["tables"][table] = []
        for name in synths:
            t = time.perf_counter()
            entry = bench_one(name, schema, train, holdout, epochs=epochs,
                              repeats=args.repeats, scoring=not args.no_scoring)
            result["tables"][table].append(entry)
            print(f"{table:>16} {name:>15}: fit+sample ratio "
                  f"{entry['ratio']['fit_plus_sample']:.3f} (fit {entry['ratio']['fit']:.3f}, "
                  f"sample {entry['ratio']['sample']:.3f}); {time.perf_counter() - t:.0f} s",
                  flush=True)
    result["seconds"] = round(time.perf_counter() - start, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    from synthdata.io import atomic_write_json, atomic_write_text

    stem = result["date"]
    text = markdown(result)
    atomic_write_json(RESULTS / f"{stem}.json", result)
    atomic_write_text(RESULTS / f"{stem}.md", text)
    results_md = ROOT / "benchmarks" / "RESULTS.md"
    old = results_md.read_text() if results_md.is_file() else ""
    peers = ""  # the block benchmarks/peers.py keeps there
    if "<!-- peers -->" in old and "<!-- /peers -->" in old:
        peers = "<!-- peers -->" + old.split("<!-- peers -->", 1)[1].split(
            "<!-- /peers -->", 1)[0] + "<!-- /peers -->\n\n"
    atomic_write_text(results_md, peers + text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
