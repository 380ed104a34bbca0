"""Dotted key paths of a report, for comparing the shape of ``report.json`` across versions.

``python tests/report_keys.py OUT.json`` writes the key sets of the reports that ``run``,
``balance``, ``augment`` and ``evaluate`` produce on a small demo table (gaussian_copula,
seed 0); ``tests/data/report_keys.json`` holds the set recorded before the synthesizer-contract
refactor, and ``tests/test_report_shape.py`` checks that no key was lost since.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def key_paths(node: Any, prefix: str = "") -> set[str]:
    """Every dict key as a dotted path; list items share the path ``name[]``."""
    paths: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            paths.add(path)
            paths |= key_paths(value, path)
    elif isinstance(node, list):
        for item in node:
            paths |= key_paths(item, prefix + "[]")
    return paths


def reports(workdir: Path) -> dict[str, dict[str, Any]]:
    import synthdata
    from synthdata.demo import demo_schema, make_demo_table

    schema = demo_schema()
    table = make_demo_table(800, seed=5)
    out: dict[str, dict[str, Any]] = {}
    # the copula, as when the reference was recorded (its params, flags and gate failures)
    kw = {"synthesizer": "gaussian_copula"}
    run = synthdata.run(table, schema, out_dir=workdir / "run", seed=0, force=True, **kw)
    out["run"] = run.report
    out["balance"] = synthdata.balance(table, schema, out_dir=workdir / "balance", ratio=1.0,
                                       seed=0, force=True, n_seeds=1, **kw).report
    out["augment"] = synthdata.augment(table, schema, out_dir=workdir / "augment", n_rows=200,
                                       seed=0, force=True, **kw).report
    train = workdir / "run-train.csv"
    holdout = workdir / "run-holdout.csv"
    typed = schema.validate_table(table)
    typed.iloc[:600].to_csv(train, index=False)
    typed.iloc[600:].to_csv(holdout, index=False)
    out["evaluate"] = synthdata.evaluate(train, run.synthetic_path, holdout, schema,
                                         out_dir=workdir / "evaluate").report
    return {name: json.loads(json.dumps(report, default=str)) for name, report in out.items()}


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        found = reports(Path(tmp))
    shapes = {name: sorted(key_paths(report)) for name, report in found.items()}
    Path(argv[0]).write_text(json.dumps(shapes, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
