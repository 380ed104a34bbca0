"""Write notebooks/quickstart.ipynb from the cells below (stored without outputs).

    python notebooks/build_quickstart.py

Edit the cells here, not in the .ipynb, so the notebook stays reviewable as plain Python;
tests/test_notebook.py executes the result with tiny epochs.
"""

from __future__ import annotations

import json
from pathlib import Path

CELLS: list[tuple[str, str]] = [
    ("markdown", """# synthdata quickstart

From a sensitive table to a synthetic one you can trust, with the Python API:

1. the built-in demo table (fictional customers, churn as the target);
2. draft a schema (`synthdata schema infer` in the CLI) and edit it;
3. `run` with TVAE: fit on train, sample, score fidelity, privacy and bias, gate the export;
4. read the report's figures in pandas and plot a few;
5. `balance` the rare class and compare against SMOTE-NC and class weights;
6. what to do when the gate fails.

Every step writes real files into a working folder. With the default settings it takes a few
minutes on a laptop CPU (set `QUICKSTART_EPOCHS` lower for a faster, rougher run)."""),
    ("code", """import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import synthdata

EPOCHS = int(os.environ.get("QUICKSTART_EPOCHS", "150"))  # TVAE epochs (300 = paper default)
ROWS = int(os.environ.get("QUICKSTART_ROWS", "6000"))
WORK = Path(os.environ.get("QUICKSTART_DIR") or tempfile.mkdtemp(prefix="synthdata-"))
WORK.mkdir(parents=True, exist_ok=True)
print("working folder:", WORK)"""),
    ("markdown", """## 1. The demo table

Fictional subscription customers with names and e-mails (PII), a signup date, age, sex, region,
plan, spend, tenure, income (sometimes missing), support calls, autopay and `churned`. Churn
depends on tenure, support calls, autopay and sex, so there is a real bias for the bias checks
to see."""),
    ("code", """table = synthdata.make_demo_table(ROWS, seed=0)
table_path = WORK / "customers.csv"
table.to_csv(table_path, index=False)
table.head()"""),
    ("markdown", """## 2. Draft a schema

The schema says what each column is. `infer_schema` drafts one (the CLI's
`synthdata schema infer customers.csv -o customers.yaml` writes the same draft as commented
YAML) and notes every decision a human should check."""),
    ("code", """draft, notes = synthdata.infer_schema(table, name="customers")
print("target:", draft.target, "| sensitive:", draft.sensitive, "| key:", draft.primary_key)
for column, comments in notes.items():
    for comment in comments:
        print(f"{column or '(table)'}: {comment}")
pd.DataFrame({name: {"kind": col.kind.value, "min": col.min, "max": col.max,
                     "nullable": col.nullable}
              for name, col in draft.columns.items()}).T"""),
    ("markdown", """### Edit the draft

Act on the notes: support calls are counts (integer, not categories); the plan is ordered; the
e-mail is hashed rather than faked so rows stay linkable inside the company; age, sex and region
together can single a person out (quasi-identifiers for the re-identification attacks). In a
project you would edit the YAML; here we edit the same fields in Python, and pydantic checks
the result."""),
    ("code", """spec = draft.model_dump(mode="json")
spec["columns"]["support_calls"] = {"kind": "integer", "min": 0, "nullable": False}
spec["columns"]["plan"] = {"kind": "ordinal", "categories": ["basic", "standard", "premium"],
                           "nullable": False}
spec["columns"]["email"]["pii_strategy"] = "hash"
spec["quasi_identifiers"] = ["age", "sex", "region"]
schema = synthdata.Schema.model_validate(spec)
print(schema.target, schema.sensitive, schema.quasi_identifiers)"""),
    ("markdown", """## 3. Run with TVAE

`run` validates the table against the schema (all problems at once, before any fitting), sets
PII aside, splits off a holdout the synthesizer never sees, fits, samples, scores and applies the
gate. It writes `report.json`, `report.html` and a signed `manifest.json`; the synthetic table
and the model only when the gate passes. The CLI equivalent is
`synthdata run customers.csv --schema customers.yaml --synthesizer tvae --epochs 150 --out run`."""),
    ("code", """result = synthdata.run(table_path, schema, out_dir=WORK / "run", synthesizer="tvae",
                       epochs=EPOCHS, seed=0)
print("exit code:", result.exit_code, "| gate passed:", result.report["gate"]["passed"])
sorted(p.name for p in (WORK / "run").iterdir())"""),
    ("markdown", """## 4. Read the report

Everything in `report.html` comes from `report.json`, so pandas can read the same figures.
Scores are in [0, 1], higher is better; figures are the raw measurements (for example the
detection AUC: 0.5 means a classifier cannot tell synthetic rows from real ones)."""),
    ("code", """report = result.report
rows = []
for section in ("fidelity", "privacy"):
    for name, value in report[section]["figures"].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            rows.append({"section": section, "figure": name, "value": value})
figures = pd.DataFrame(rows)
figures"""),
    ("code", """details = pd.DataFrame(report["fidelity"]["details"])
shapes = details[details["metric"].isin(["KSComplement", "TVComplement"])].copy()
shapes["column"] = shapes["columns"].str[0]
ax = shapes.set_index("column")["value"].sort_values().plot.barh(figsize=(6, 4))
ax.set_xlabel("shape similarity, real train vs synthetic (1 = same distribution)")
ax.set_xlim(0, 1)
plt.tight_layout()"""),
    ("code", """real = pd.read_csv(table_path)
synth = result.synth
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for ax, column in zip(axes, ["monthly_spend", "tenure_months"], strict=True):
    ax.hist(real[column].dropna(), bins=30, alpha=0.5, density=True, label="real")
    ax.hist(pd.to_numeric(synth[column]).dropna(), bins=30, alpha=0.5, density=True,
            label="synthetic")
    ax.set_title(column)
    ax.legend()
plt.tight_layout()"""),
    ("markdown", """Privacy: for each synthetic row, the distance to the closest real *train* row and to the
closest *holdout* row. If the generator copied its training rows, the first would be much
smaller; `dcr_share` is the share of rows closer to train (0.5 = no leak)."""),
    ("code", """privacy = pd.DataFrame(report["privacy"]["details"])
hist = privacy[privacy["metric"] == "DCRHistogram"].iloc[0]
centres = [(a + b) / 2 for a, b in zip(hist["edges"][:-1], hist["edges"][1:], strict=True)]
width = hist["edges"][1] - hist["edges"][0]
plt.figure(figsize=(6, 3))
plt.bar(centres, hist["synth_to_train"], width=width, alpha=0.5, label="to train")
plt.bar(centres, hist["synth_to_holdout"], width=width, alpha=0.5, label="to holdout")
plt.xlabel("distance to the closest real row")
plt.legend()
print("dcr_share:", report["privacy"]["figures"].get("dcr_share"),
      "| membership-inference AUC:", report["privacy"]["figures"].get("mia_auc"))"""),
    ("code", """bias = report["bias"]
print("figures per sensitive column:")
print(pd.DataFrame(bias["figures"]).T[["parity_gap_real", "parity_gap_synth"]])
pd.DataFrame(bias["flags"], columns=["column", "group", "check", "real", "synth", "change",
                                     "severity"])"""),
    ("markdown", """## 5. Balance the rare class

About 1 in 13 customers churns. `balance` generates churners conditionally until the classes are
level (`ratio=1.0`), writes `balanced.parquet` (real train rows + synthetic rows, marked by the
`synthetic` column) and tests whether it helps: HistGradientBoosting and LogisticRegression
trained on real only, real + synthetic, real + SMOTE-NC and real with class weights, all scored
on the real holdout."""),
    ("code", """balanced = synthdata.balance(table_path, schema, out_dir=WORK / "balance", ratio=1.0,
                             synthesizer="gaussian_copula", seed=0, force=True)
info = balanced.report["balance"]
print("class counts before:", info["class_counts_before"], "after:", info["class_counts_after"])
comparison = pd.DataFrame([
    {"option": row["option"], "model": model, **{m: f"{v['mean']:.3f} ± {v['std']:.3f}"
                                                 for m, v in row[model].items()}}
    for row in info["comparison"] for model in ("hgb", "logreg")])
comparison"""),
    ("code", """print(info["verdict"])"""),
    ("markdown", """With strong boosted models, published studies (and our benchmark on bank marketing and
credit default, `benchmarks/results/balance.md`) find little PR-AUC or ROC-AUC gain from
oversampling; the gain is in minority recall at the default threshold, which class weights
often buy as cheaply. The comparison tells you which holds for *your* table.

## 6. When the gate fails

The gate refuses to export a table whose scores break its bounds. Which checks did the TVAE run
above fail (if any)? A few epochs on a few thousand rows rarely make a good TVAE."""),
    ("code", """failures = result.report["gate"]["failures"]
print("TVAE passed" if not failures else "TVAE failed:")
pd.DataFrame(failures, columns=["check", "value", "bound"])"""),
    ("markdown", """Try another synthesizer: the Gaussian copula is fast and often strong on small tables."""),
    ("code", """retry = synthdata.run(table_path, schema, out_dir=WORK / "run-copula",
                      synthesizer="gaussian_copula", seed=0)
print("exit code:", retry.exit_code, "| gate passed:", retry.report["gate"]["passed"])
pd.DataFrame(retry.report["gate"]["failures"], columns=["check", "value", "bound"])"""),
    ("markdown", """The gate also catches leaks. Here we score a "synthetic" table that is really a copy of
the training rows: every privacy check should fire."""),
    ("code", """from synthdata.split import split  # the same seeded split run used

typed = synthdata.read_table(table_path, schema)
train, holdout = split(typed, schema, seed=0)
leaky = synthdata.evaluate(train, train.copy(), holdout, schema, out_dir=WORK / "leaky")
print("exit code:", leaky.exit_code)
pd.DataFrame(leaky.report["gate"]["failures"])[["check", "value", "bound", "message"]]"""),
    ("markdown", """What to do, in order of preference:

* **Fix the cause.** Fidelity failures: train longer (`epochs`), try another synthesizer
  (`gaussian_copula` is fast and often strong on small tables), or check the schema (a column
  typed wrong is modelled wrong). Privacy failures: fewer epochs or a larger table (memorisation),
  drop or generalise quasi-identifiers. Bias flags: look at the flagged group in `report.html`.
* **Change a bound, on purpose.** The bounds live in the schema's `gate:` block
  (`max_detection_auc`, `max_dcr_share`, ...; `gate.rules` bounds any figure by its path). A
  reviewed schema change is on the record.
* **Force, as a last resort.** `force=True` (CLI `--force`) exports anyway and records who forced
  it, when, and which checks failed, in `report.json`, `report.html` and the signed manifest."""),
    ("code", """print("the leaky table's report:", WORK / "leaky" / "report.html")
print("the TVAE run's report:", WORK / "run" / "report.html")"""),
]


def build() -> dict:
    cells = []
    for kind, source in CELLS:
        cell = {"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    return {"cells": cells, "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 4}


if __name__ == "__main__":
    out = Path(__file__).with_name("quickstart.ipynb")
    out.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out}")
