"""Mutation testing of the export gate, the scores and the generators (issue 15, item 5).

Each mutant is one small, deliberate break of synthdata — a loosened gate bound, a figure fixed
at a constant, a baseline forced to 0, a flag never raised — written as (file, original
snippet, mutated snippet, test files). For each mutant the script copies the repository (the
files ``git ls-files`` lists, tracked and untracked-but-not-ignored, with their working-tree
contents) to a temporary folder, applies the mutation there, and runs the listed test files
with ``python -m pytest -x -q`` from the copy's root, with the copy first on ``PYTHONPATH``
(checked: ``import synthdata`` must resolve to the copy, not to the editable install). A
mutant is *caught* when a test fails, *missed* when they all pass. The unmutated copy is run
first over every listed test file; tests that fail there cannot tell a mutant apart, so they
are deselected from every mutant's run and listed in the output.

Usage::

    python benchmarks/mutation.py                 # every mutant; writes the table below
    python benchmarks/mutation.py --only bias-warn-blocks copula-reject
    python benchmarks/mutation.py --list          # the mutants, nothing run

The table is printed and written to ``benchmarks/results/mutation-YYYY-MM-DD.md``. Tests run
single-threaded (``OMP_NUM_THREADS=1``): on a shared 2-core machine, idle OpenMP threads of
scikit-learn's HistGradientBoosting slow it 30-fold. No dependency beyond the test suite's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TIMEOUT = 1200  # seconds per mutant

GATE_TESTS = ("tests/test_mutants_metrics.py", "tests/test_gate*.py")
BOUND_TESTS = ("tests/test_gate*.py", "tests/test_privacy.py")
METRICS = ("tests/test_mutants_metrics.py",)
GENERATION = ("tests/test_mutants_generation.py",)
COPULA_DOC = ('        """SDV conditions the copula\'s multivariate normal on the transformed '
              'values."""\n')


@dataclass(frozen=True)
class Mutant:
    id: str
    what: str
    file: str
    original: str
    mutated: str
    tests: tuple[str, ...]


MUTANTS = [
    # ---- gate bounds (schema.GateConfig defaults) and gated fidelity checks ----------------
    Mutant("gate-dcr-0.60", "dcr_share bound 0.55 -> 0.60", "synthdata/schema.py",
           '0.55, ge=0.5, le=1, description="Share of synth rows closer',
           '0.60, ge=0.5, le=1, description="Share of synth rows closer',
           BOUND_TESTS),
    Mutant("gate-mia-0.75", "mia_auc bound 0.60 -> 0.75", "synthdata/schema.py",
           '0.60, ge=0.5, le=1, description="Membership-inference AUC',
           '0.75, ge=0.5, le=1, description="Membership-inference AUC',
           BOUND_TESTS),
    Mutant("gate-copy-x10", "exact-copy excess bound 0.01 -> 0.10", "synthdata/schema.py",
           '0.01, ge=0, le=1, description="Exact-copy rate of train rows',
           '0.10, ge=0, le=1, description="Exact-copy rate of train rows',
           BOUND_TESTS),
    Mutant("gate-reid-0.25", "re-identification bound 0.10 -> 0.25", "synthdata/schema.py",
           '0.10, ge=0, le=1, description="Upper bound of anonymeter risks."',
           '0.25, ge=0, le=1, description="Upper bound of anonymeter risks."',
           BOUND_TESTS),
    Mutant("gate-no-pair-trends", "column_pair_trends removed from fidelity.GATED",
           "synthdata/metrics/fidelity.py",
           '    Gated("column_pair_trends", "min_column_pair_trends", "column pair trends '
           '(how well "\n          "correlations between columns are kept)", upper=False),\n',
           "", (*GATE_TESTS, "tests/test_fidelity.py")),
    Mutant("gate-no-detection", "detection_auc removed from fidelity.GATED",
           "synthdata/metrics/fidelity.py",
           '    Gated("detection_auc", "max_detection_auc",\n'
           '          "the AUC of a classifier telling synthetic rows from real ones"),\n',
           "", (*GATE_TESTS, "tests/test_fidelity.py")),
    Mutant("gate-untrusted-counted", "gate checks attacks flagged untrustworthy",
           "synthdata/gate.py",
           "if spec.attack and spec.attack.format(key=key) in untrusted:",
           "if False:", GATE_TESTS),
    # ---- bias ------------------------------------------------------------------------------
    Mutant("bias-warn-blocks", "gate fails on bias flags of severity warn too",
           "synthdata/gate.py", 'if flag.get("severity") == "block":',
           'if flag.get("severity") in ("block", "warn"):', (*METRICS, "tests/test_bias.py")),
    Mutant("bias-representation-block", "a representation shift gets severity block",
           "synthdata/metrics/bias.py",
           'change="shrinks" if diff < 0 else "grows", severity="warn",',
           'change="shrinks" if diff < 0 else "grows", severity="block",',
           (*METRICS, "tests/test_bias.py")),
    Mutant("bias-eo-block", "an equalized-odds flag gets severity block",
           "synthdata/metrics/bias.py",
           "change=change, severity=\"warn\",\n        message=f\"a model trained",
           "change=change, severity=\"block\",\n        message=f\"a model trained",
           (*METRICS, "tests/test_bias.py")),
    Mutant("bias-real-model", "the synth-trained fairness model trained on the real rows",
           "synthdata/metrics/bias.py",
           "score_synth = _scores(synth, y_synth, holdout, schema, seed)",
           "score_synth = _scores(train, y_train, holdout, schema, seed)",
           (*METRICS, "tests/test_bias.py")),
    Mutant("bias-eo-never", "equalized-odds flags never raised", "synthdata/metrics/bias.py",
           "beyond_tolerance=abs(diff) > cfg.eo_gap_tolerance,", "beyond_tolerance=False,",
           (*METRICS, "tests/test_bias.py")),
    # ---- balance ---------------------------------------------------------------------------
    Mutant("balance-random", "balance comparison figures replaced by random numbers",
           "synthdata/balancing.py", "results[option][model_kind][metric].append(value)",
           "results[option][model_kind][metric].append(float(np.random.default_rng().random()))",
           (*GENERATION, "tests/test_balance.py")),
    Mutant("balance-no-weights", "class weights ignored", "synthdata/balancing.py",
           'weight = "balanced" if weighted else None', "weight = None",
           (*GENERATION, "tests/test_balance.py")),
    Mutant("balance-no-synthetic", "real+synthetic trained on the real rows only",
           "synthdata/balancing.py",
           '"real+synthetic": (np.vstack([x_tr, x_sy]), np.concatenate([y_train, y_sy]), False),',
           '"real+synthetic": (x_tr, y_train, False),', (*GENERATION, "tests/test_balance.py")),
    # ---- generation ------------------------------------------------------------------------
    Mutant("copula-reject", "copula conditions by reject sampling (not analytically)",
           "synthdata/synthesizers/gaussian_copula.py",
           "    conditional = True\n", "    conditional = False\n",
           (*GENERATION, "tests/test_balance.py", "tests/test_sample.py")),
    Mutant("copula-overwrite", "copula 'conditions' by overwriting the column of free rows",
           "synthdata/synthesizers/gaussian_copula.py",
           COPULA_DOC,
           COPULA_DOC + "        rows = self._sample(n_rows, seed)\n"
           "        for column, value in conditions.items():\n"
           "            rows[column] = value\n"
           "        return Draw(rows, n_rows)\n",
           (*GENERATION, "tests/test_balance.py", "tests/test_sample.py")),
    Mutant("synth-shuffle-columns", "every sampled column shuffled independently",
           "synthdata/synthesizers/base.py",
           "        return conform_output(self._sample(n_rows, seed), self.schema)\n",
           "        out = conform_output(self._sample(n_rows, seed), self.schema)\n"
           "        return out.apply(lambda c: c.sample(frac=1, random_state=sum(map(ord, c.name)))"
           ".reset_index(drop=True))\n",
           (*GENERATION, "tests/test_synthesizers.py")),
    Mutant("pii-real-values", "fill_pii passes on PII columns present in its input",
           "synthdata/pii.py",
           "        if spec.kind == ColumnKind.pii:\n            if spec.pii_strategy == "
           "PiiStrategy.drop:",
           "        if spec.kind == ColumnKind.pii and column not in synth.columns:\n"
           "            if spec.pii_strategy == PiiStrategy.drop:",
           (*GENERATION, "tests/test_pii.py")),
    # ---- privacy ---------------------------------------------------------------------------
    Mutant("mia-tpr-10pct", "MIA TPR read at 10 % FPR instead of 1 %",
           "synthdata/metrics/privacy.py",
           "tpr[fpr <= 0.01])) if np.any(fpr <= 0.01)",
           "tpr[fpr <= 0.10])) if np.any(fpr <= 0.10)", (*METRICS, "tests/test_privacy.py")),
    Mutant("copy-baseline-0", "exact-copy holdout baseline forced to 0",
           "synthdata/metrics/privacy.py",
           "holdout_rate = float(np.isin(_row_keys(holdout, columns), list(train_keys)).mean())",
           "holdout_rate = 0.0", (*METRICS, "tests/test_privacy.py")),
    Mutant("reid-untrusted-score", "untrustworthy attacks counted in the protection score",
           "synthdata/metrics/privacy.py",
           'evidence = [r["risk"] for r in risks.values() if r["trustworthy"]]',
           'evidence = [r["risk"] for r in risks.values()]', (*METRICS, "tests/test_privacy.py")),
    Mutant("wilson-centre-phat", "Wilson centre replaced by the raw proportion",
           "synthdata/metrics/_base.py", "centre = (p + z2n / 2) / (1 + z2n)", "centre = p",
           (*METRICS, "tests/test_privacy.py", "tests/test_anonymeter_agreement.py")),
    Mutant("wilson-no-continuity", "Wilson half-width without its z^2/4n term",
           "synthdata/metrics/_base.py",
           "half = z * math.sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)",
           "half = z * math.sqrt(p * (1 - p) / n) / (1 + z2n)",
           (*METRICS, "tests/test_privacy.py", "tests/test_anonymeter_agreement.py")),
    # ---- fidelity --------------------------------------------------------------------------
    Mutant("ml-efficacy-const", "ml_efficacy score fixed at 1", "synthdata/metrics/fidelity.py",
           'result.scores["ml_efficacy"] = None if ratio is None else min(1.0, ratio)',
           'result.scores["ml_efficacy"] = 1.0', (*METRICS, "tests/test_fidelity.py")),
    Mutant("ml-skill-const", "ml_efficacy_skill (the gated figure) fixed at 1",
           "synthdata/metrics/fidelity.py",
           "skill = (tstr - chance) / (trtr - chance) if trtr - chance > 0 else None",
           "skill = 1.0", (*METRICS, "tests/test_fidelity.py")),
    Mutant("missing-rate-const", "missing_rate_similarity fixed at 1",
           "synthdata/metrics/fidelity.py",
           "return 1.0 - abs(float(real.isna().mean()) - float(other.isna().mean()))",
           "return 1.0", (*METRICS, "tests/test_fidelity.py")),
    Mutant("reference-const", "per-column reference figures fixed at 1",
           "synthdata/metrics/fidelity.py", "result.reference[name] = mean(ref)",
           "result.reference[name] = 1.0", (*METRICS, "tests/test_fidelity.py")),
    Mutant("reference-quality-const", "column shapes/pair trends reference fixed at 1",
           "synthdata/metrics/fidelity.py",
           "reference, _ = _quality(train, holdout, schema)",
           'reference = {"column_shapes": 1.0, "column_pair_trends": 1.0}',
           (*METRICS, "tests/test_fidelity.py")),
    Mutant("reference-detection-const", "detection reference fixed at 0.5",
           "synthdata/metrics/fidelity.py",
           'result.reference["detection_auc"] = ref_auc',
           'result.reference["detection_auc"] = 0.5', (*METRICS, "tests/test_fidelity.py")),
    Mutant("reference-tstr-const", "TSTR reference fixed at 1", "synthdata/metrics/fidelity.py",
           'result.reference["tstr"] = trtr', 'result.reference["tstr"] = 1.0',
           (*METRICS, "tests/test_fidelity.py")),
]


# ---- running -------------------------------------------------------------------------------
def repo_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                         cwd=ROOT, check=True, capture_output=True).stdout.decode()
    return [f for f in out.split("\0") if f and (ROOT / f).is_file()]


def copy_repo(dest: Path) -> None:
    for name in repo_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def environment(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy) + (os.pathsep + env["PYTHONPATH"]
                                     if env.get("PYTHONPATH") else "")
    env["COLUMNS"] = "250"  # room for the message after a failing test's id
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a same-size mutation must not reuse stale bytecode
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    return env


def check_imports(copy: Path) -> None:
    found = subprocess.run(
        [sys.executable, "-c", "import synthdata, pathlib; print(pathlib.Path("
         "synthdata.__file__).resolve().parent.parent)"],
        cwd=copy, env=environment(copy), capture_output=True, text=True, check=True,
    ).stdout.strip()
    if Path(found) != copy.resolve():
        raise SystemExit(f"import synthdata resolves to {found}, not to the copy {copy}")


def expand(copy: Path, patterns: tuple[str, ...]) -> list[str]:
    files: list[str] = []
    for pattern in patterns:
        for match in sorted(glob.glob(str(copy / pattern))):
            rel = str(Path(match).relative_to(copy))
            if rel not in files:
                files.append(rel)
    return files


def run_tests(copy: Path, files: list[str], *, deselect: tuple[str, ...] = (),
              stop: bool = True, timeout: int = TIMEOUT) -> tuple[str, float, list[str]]:
    """('passed' | 'failed' | 'timeout' | 'error', seconds, failing tests with what they saw).

    ``deselect``: node ids left out (those that fail on the unmutated copy); ``stop``: stop at
    the first failure (``-x``).
    """
    start = time.perf_counter()
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE",
            *(["-x"] if stop else []), *files]
    for node in deselect:
        args += ["--deselect", node]
    try:
        proc = subprocess.run(args, cwd=copy, env=environment(copy), capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - start, []
    seconds = time.perf_counter() - start
    # "FAILED <node id> - <message>" lines of the short summary (-rfE)
    failed = re.findall(r"^(?:FAILED|ERROR) (.+)$", proc.stdout, flags=re.MULTILINE)
    if proc.returncode == 0:
        return "passed", seconds, []
    if proc.returncode == 1:
        return "failed", seconds, failed
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
    return "error", seconds, failed or [tail[0][:120]]


def run(mutants: list[Mutant], *, baseline: bool = True) -> tuple[list[dict[str, str]],
                                                                 list[str]]:
    """One row per mutant, and the tests that fail on the unmutated copy (left out)."""
    rows = []
    known_failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="synthdata-mutation-") as tmp:
        copy = Path(tmp) / "repo"
        copy_repo(copy)
        check_imports(copy)
        if baseline:
            files: list[str] = []
            for m in mutants:
                files += [f for f in expand(copy, m.tests) if f not in files]
            print(f"baseline: {len(files)} test files on the unmutated copy ...", flush=True)
            status, seconds, failed = run_tests(copy, files, stop=False, timeout=4 * TIMEOUT)
            known_failures = [line.partition(" - ")[0] for line in failed]
            print(f"baseline {status} in {seconds:.0f} s; left out of the mutant runs: "
                  f"{known_failures or 'nothing'}", flush=True)
            if status not in ("passed", "failed"):
                raise SystemExit(f"the unmutated copy's tests did not run ({status}): "
                                 f"{known_failures}")
        for m in mutants:
            path = copy / m.file
            source = path.read_text()
            files = expand(copy, m.tests)
            row = {"id": m.id, "what": m.what, "file": m.file, "tests": ", ".join(
                Path(f).name for f in files), "result": "", "seconds": "", "failing": ""}
            count = source.count(m.original)
            if count != 1:
                row["result"] = f"not applied (snippet found {count} times)"
            else:
                path.write_text(source.replace(m.original, m.mutated))
                try:
                    status, seconds, failed = run_tests(copy, files,
                                                         deselect=tuple(known_failures))
                finally:
                    path.write_text(source)
                row["result"] = {"failed": "caught", "passed": "MISSED",
                                 "timeout": "timeout", "error": "caught (error)"}[status]
                row["seconds"] = f"{seconds:.0f}"
                row["failing"] = _what_failed(failed).replace("|", "\\|")
            print(f"{m.id:28s} {row['result']:10s} {row['seconds']:>5s} s  {row['failing']}",
                  flush=True)
            rows.append(row)
    return rows, known_failures


def _what_failed(failed: list[str]) -> str:
    """The first failing test (without its file) and the start of its message."""
    if not failed:
        return ""
    node, _, message = failed[0].partition(" - ")
    return f"{node.split('::', 1)[-1]}: {message[:100]}" if message else node


def table(rows: list[dict[str, str]], known_failures: list[str]) -> str:
    caught = sum(r["result"].startswith("caught") for r in rows)
    judged = sum(r["result"].startswith(("caught", "MISSED")) for r in rows)
    lines = [f"# Mutation run {dt.date.today().isoformat()}", "",
             f"{caught} of {judged} applied mutants caught "
             f"({len(rows) - judged} not applied or timed out). Produced by "
             "`python benchmarks/mutation.py`; each mutant runs its test files with "
             "`pytest -x -q` in a copy of the working tree.", ""]
    if known_failures:
        lines += ["Tests that failed on the unmutated copy, left out of every mutant's run "
                  "(they cannot tell a mutant apart):", ""]
        lines += [f"- `{t}`" for t in known_failures] + [""]
    lines += ["| mutant | mutation | file | tests run | result | s | first failing test |",
              "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['id']} | {r['what']} | {r['file']} | {r['tests']} | {r['result']} "
                     f"| {r['seconds']} | {r['failing']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="mutant ids to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--out", type=Path, help="where to write the markdown table")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the run of the unmutated copy (quick checks only)")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.only or m.id in args.only]
    unknown = sorted(set(args.only or []) - {m.id for m in MUTANTS})
    if unknown:
        parser.error(f"unknown mutant id(s): {', '.join(unknown)}")
    if args.list:
        for m in chosen:
            print(f"{m.id:28s} {m.file:45s} {m.what}")
        return 0
    rows, known_failures = run(chosen, baseline=not args.no_baseline)
    text = table(rows, known_failures)
    out = args.out or RESULTS / f"mutation-{dt.date.today().isoformat()}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
